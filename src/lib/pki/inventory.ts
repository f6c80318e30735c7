/**
 * What a CA has issued, from its index (openssl ca index.txt, index-db.ts): the pure part
 * of `mtls-kit list` (and of `renew`, which looks a certificate up by serial).
 */
import {usageError} from '../errors.js';
import {slashFormToRfc2253} from '../x509/dn.js';
import {INPUT_LIMITS} from '../limits.js';
import {indexLineTooLong, parseIndex} from '../x509/index-db.js';

/**
 * valid, expired (past notAfter) or revoked, as the index says; superseded: valid, but a
 * later line of the same index records another certificate written to the same file (renew,
 * or gen-client --force over the same folder), so nothing needs renewing there.
 */
export type CertStatus = 'valid' | 'expired' | 'revoked' | 'superseded';

export interface ListedCert {
  /** The CA tier whose index holds the line. */
  tier: 'root' | 'intermediate';
  status: CertStatus;
  serial: string;
  /** RFC 2253 (dn.ts), converted from the index's /C=../CN=.. form; control characters escaped. */
  subject: string;
  notAfter: string;
  /** Whole days until notAfter (negative once expired). */
  daysLeft: number;
  revokedAt?: string;
  reason?: string;
  /** Where the certificate was written (the index's file column). */
  file: string;
}

export interface ListFilter {
  /** Only valid certificates that expire within this many ms. */
  expiringWithinMs?: number;
  /** Only revoked certificates. */
  revoked?: boolean;
  /** Only expired (not revoked) certificates. */
  expired?: boolean;
}

const UNITS: Record<string, number> = {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000};

/**
 * Parses a duration: `30d`, `12h`, `2w`, `90m`, `45s`; a bare number is days.
 * @throws MtlsKitError BAD_DURATION (exit 2).
 */
export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhdw]?)$/i.exec(s.trim());
  if (!m) throw usageError('BAD_DURATION', `"${s}" is not a duration`, ['use a number with a unit: 30d, 12h, 2w (a bare number is days)']);
  return Number(m[1]) * UNITS[(m[2] || 'd').toLowerCase()]!;
}

/**
 * The index lines of one tier that pass the filter, read straight from index.txt text,
 * soonest expiry first. A `V` line past its notAfter is reported as expired (openssl ca
 * -updatedb would mark it E). No Date object or IndexEntry is made per line: a
 * 100,000-line index lists in well under a second.
 * @throws MtlsKitError BAD_INDEX (from parseIndex) naming the file and line.
 */
export function listIndexText(text: string, source: string, tier: 'root' | 'intermediate', filter: ListFilter, now: Date): ListedCert[] {
  const t = now.getTime();
  const rows: ListedCert[] = [];
  const ends: number[] = [];
  // Fleets share expiry and revocation times to the second: each distinct one is parsed once.
  const times = new Map<string, [number, string] | undefined>();
  const time = (s: string): [number, string] | undefined => {
    let v = times.get(s);
    if (v === undefined && !times.has(s)) {
      v = indexTime(s);
      times.set(s, v);
    }
    return v;
  };
  const bad = (): never => {
    parseIndex(text, source); // throws the precise message
    throw new Error(`${source}: unexpected index line`);
  };
  // One pass finds the tabs of every line: status \t expiry \t revocation \t serial \t file \t subject.
  // tabs[6i..6i+4] are the five tabs of line i (-1 when missing), tabs[6i+5] its end.
  const len = text.length;
  let tabs = new Int32Array(6 * 1024);
  const files: string[] = [];
  let lines = 0;
  for (let p = 0; p < len; ) {
    let nl = text.indexOf('\n', p);
    if (nl < 0) nl = len;
    if (nl - p > INPUT_LIMITS.indexLineChars) throw indexLineTooLong(source, lines, nl - p);
    if (6 * lines + 6 > tabs.length) {
      const grown = new Int32Array(tabs.length * 2);
      grown.set(tabs);
      tabs = grown;
    }
    const o = 6 * lines;
    let t = p - 1;
    for (let k = 0; k < 5; k++) {
      t = t < 0 && k > 0 ? -1 : text.indexOf('\t', t + 1);
      if (t > nl) t = -1;
      tabs[o + k] = t;
    }
    tabs[o + 5] = nl;
    files.push(tabs[o + 4]! >= 0 ? text.slice(tabs[o + 3]! + 1, tabs[o + 4]) : tabs[o + 3]! >= 0 ? text.slice(tabs[o + 3]! + 1, nl) : '');
    lines++;
    p = nl + 1;
  }
  // An earlier valid line for a file that a later line names again is superseded. Walking
  // back, each file string (the same object as the row's file) is hashed once.
  const superseded = new Uint8Array(lines);
  const seen = new Set<string>();
  for (let i = lines - 1; i >= 0; i--) {
    const file = files[i]!;
    if (file === 'unknown' || file === '') continue;
    if (seen.has(file)) superseded[i] = 1;
    else seen.add(file);
  }
  for (let i = 0; i < lines; i++) {
    const o = 6 * i;
    const p = i === 0 ? 0 : tabs[o - 1]! + 1;
    const nl = tabs[o + 5]!;
    if (nl === p) continue;
    const t1 = tabs[o]!;
    const t2 = tabs[o + 1]!;
    const t3 = tabs[o + 2]!;
    const t4 = tabs[o + 3]!;
    const t5 = tabs[o + 4]!;
    const st = text.charCodeAt(p);
    const exp = t2 > t1 + 1 ? time(text.slice(t1 + 1, t2)) : undefined;
    if (t1 !== p + 1 || t5 < 0 || (st !== 0x56 && st !== 0x52 && st !== 0x45) || !exp) bad();
    const end = exp![0];
    const file = files[i]!;
    let status: CertStatus = st === 0x52 ? 'revoked' : st === 0x45 || end <= t ? 'expired' : 'valid';
    if (status === 'valid' && superseded[i] === 1) status = 'superseded';
    const keep = !(
      (filter.revoked && status !== 'revoked') ||
      (filter.expired && status !== 'expired') ||
      (filter.expiringWithinMs !== undefined && (status !== 'valid' || end - t > filter.expiringWithinMs))
    );
    if (keep) {
      const row: ListedCert = {
        tier,
        status,
        serial: upper(text.slice(t3 + 1, t4)),
        subject: slashFormToRfc2253(text.slice(t5 + 1, nl)),
        notAfter: exp![1],
        daysLeft: Math.floor((end - t) / 86_400_000),
        file,
      };
      if (t3 > t2 + 1) {
        const rev = text.slice(t2 + 1, t3);
        const comma = rev.indexOf(',');
        const at = time(comma < 0 ? rev : rev.slice(0, comma));
        if (!at) bad();
        row.revokedAt = at![1];
        if (comma >= 0) row.reason = rev.slice(comma + 1);
      }
      rows.push(row);
      ends.push(end);
    }
  }
  return sortByEnd(rows, ends);
}

/** openssl writes serials in uppercase; only others are converted (no copy per line). */
const upper = (s: string): string => (/[a-f]/.test(s) ? s.toUpperCase() : s);

/** Lists of several tiers (each sorted) merged, soonest expiry first. */
export function mergeByExpiry(lists: ListedCert[][]): ListedCert[] {
  return lists.reduce((a, b) => {
    if (a.length === 0) return b;
    if (b.length === 0) return a;
    const out: ListedCert[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) out.push(a[i]!.notAfter <= b[j]!.notAfter ? a[i++]! : b[j++]!);
    while (i < a.length) out.push(a[i++]!);
    while (j < b.length) out.push(b[j++]!);
    return out;
  }, []);
}

/** Stable sort by expiry: a native numeric sort of (seconds << 20 | position) keys when they fit. */
function sortByEnd(rows: ListedCert[], ends: number[]): ListedCert[] {
  const n = rows.length;
  if (n < 1 << 20 && ends.every((e) => e >= 0 && e < 8e12)) {
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = Math.floor(ends[i]! / 1000) * 1048576 + i;
    keys.sort();
    const out = new Array<ListedCert>(n);
    for (let i = 0; i < n; i++) out[i] = rows[keys[i]! % 1048576]!;
    return out;
  }
  const order = Array.from(rows.keys()).sort((a, b) => ends[a]! - ends[b]! || a - b);
  return order.map((i) => rows[i]!);
}

/** [epoch ms, ISO string] of an index time (YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ), or undefined. */
function indexTime(s: string): [number, string] | undefined {
  if (!/^(\d{12}|\d{14})Z$/.test(s)) return undefined;
  const o = s.length - 11;
  const year = o === 4 ? Number(s.slice(0, 4)) : (Number(s.slice(0, 2)) >= 50 ? 1900 : 2000) + Number(s.slice(0, 2));
  const mo = s.slice(o, o + 2);
  const d = s.slice(o + 2, o + 4);
  const h = s.slice(o + 4, o + 6);
  const mi = s.slice(o + 6, o + 8);
  const se = s.slice(o + 8, o + 10);
  return [Date.UTC(year, Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se)), `${year}-${mo}-${d}T${h}:${mi}:${se}Z`];
}
