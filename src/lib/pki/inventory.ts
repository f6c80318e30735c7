/**
 * What a CA has issued, from its index (openssl ca index.txt, index-db.ts): the pure part
 * of `mtls-kit list`.
 *
 * A 100,000-line index lists in a fraction of a second: the index is read as bytes in one
 * pass into columns (typed arrays of field offsets, no string, Date or object per line);
 * each distinct expiry or revocation time is parsed once; the renderers (ui/inventory-render.ts)
 * copy the fields' bytes into their output, and a ListedCert object is made only for a row
 * that is asked for (Inventory.cert).
 */
import {usageError} from '../errors.js';
import {INPUT_LIMITS} from '../limits.js';
import {indexLineTooLong, parseIndex} from '../x509/index-db.js';
import {slashFormToRfc2253} from '../x509/dn.js';

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

/** The statuses by their number in IndexListing.status. */
export const STATUSES: readonly CertStatus[] = ['valid', 'expired', 'revoked', 'superseded'];

/** An index time, parsed once however many lines share it. */
export interface IndexTime {
  ms: number;
  /** ISO 8601 to the second, e.g. 2026-12-07T16:35:16Z. */
  iso: string;
  /** Whole days from now (negative once past). */
  days: number;
}

/**
 * Line i's numbers in IndexListing.cols, at COLS * i: +0 where the line starts, +1..+5 its
 * five tabs (status \t expiry \t revocation \t serial \t file \t subject), +6 where it ends
 * (before the newline), +7 its expiry (an index into `times`) and +8 its revocation time (an
 * index into `times`, or -1; set for kept lines).
 */
export const COLS = 9;

/** IndexListing.flags of a line: which fields can be copied as bytes (ASCII, nothing to escape in a terminal or JSON). */
export const PLAIN = {serial: 1, file: 2, serialLower: 4} as const;

/** One tier's index, read for `list`: the lines that passed the filter, soonest expiry first. */
export interface IndexListing {
  tier: 'root' | 'intermediate';
  /** The index file's bytes. */
  bytes: Uint8Array;
  /** Its lines (the empty ones too, and a last one without a newline). */
  lines: number;
  /** COLS numbers per line. */
  cols: Int32Array;
  /** STATUSES index per line. */
  status: Uint8Array;
  /** PLAIN bits per kept line. */
  flags: Uint8Array;
  times: IndexTime[];
  /** The kept lines, soonest expiry first (stable). */
  order: Int32Array;
}

const utf8 = new TextDecoder('utf-8', {ignoreBOM: true});

/** The UTF-8 text of bytes[a, b). */
export function decodeRange(bytes: Uint8Array, a: number, b: number): string {
  return utf8.decode(bytes.subarray(a, b));
}

/** Byte classes (one table look-up per byte in the loops below). */
const PLAIN_BYTE = 1; // printable ASCII without `"` and `\`: copied as is to a terminal or into a JSON string
const ALPHA = 2; // [A-Za-z]
const ALNUM = 4; // [A-Za-z0-9]
const VALUE = 8; // [A-Za-z0-9_.@:-]
const CLASS = new Uint8Array(256);
for (let c = 0x20; c < 0x7f; c++) {
  const ch = String.fromCharCode(c);
  CLASS[c] =
    (c !== 0x22 && c !== 0x5c ? PLAIN_BYTE : 0) |
    (/[A-Za-z]/.test(ch) ? ALPHA : 0) |
    (/[A-Za-z0-9]/.test(ch) ? ALNUM : 0) |
    (/[A-Za-z0-9_.@:-]/.test(ch) ? VALUE : 0);
}
const isPlainByte = (c: number): boolean => (CLASS[c]! & PLAIN_BYTE) !== 0;

/** Whether bytes[a, b) are all isPlainByte. */
export function plainBytes(bytes: Uint8Array, a: number, b: number): boolean {
  for (let i = a; i < b; i++) if (!isPlainByte(bytes[i]!)) return false;
  return true;
}

/**
 * The RFC 2253 form of the slash-form subject src[a, b) copied into dst at d, when it is
 * plain (dn.ts PLAIN_SLASH: /label=value..., labels [A-Za-z][A-Za-z0-9]*, values of
 * [A-Za-z0-9 _.@:-] neither starting nor ending with a space): its RDNs last first, joined by
 * ',' (b - a - 1 bytes at most), as slashFormToRfc2253 converts it. Returns where the copy
 * ends, or -1 (dst partly written) when the subject is not plain.
 */
export function copyPlainSubject(dst: Uint8Array, d: number, src: Uint8Array, a: number, b: number): number {
  if (a >= b) return -1;
  let rdns = 0;
  let i = a;
  while (i < b) {
    if (src[i] !== 0x2f || i + 1 >= b || (CLASS[src[i + 1]!]! & ALPHA) === 0) return -1;
    if (rdns === rdnStarts.length) rdnStarts = grow(rdnStarts);
    rdnStarts[rdns++] = i + 1;
    i += 2;
    while (i < b && (CLASS[src[i]!]! & ALNUM) !== 0) i++;
    if (i >= b || src[i] !== 0x3d || i + 1 >= b || (CLASS[src[i + 1]!]! & VALUE) === 0) return -1;
    i += 2;
    while (i < b && ((CLASS[src[i]!]! & VALUE) !== 0 || src[i] === 0x20)) i++;
    if (src[i - 1] === 0x20) return -1;
  }
  let end = b;
  for (let r = rdns - 1; r >= 0; r--) {
    const start = rdnStarts[r]!;
    if (end !== b) dst[d++] = 0x2c;
    for (let j = start; j < end; j++) dst[d++] = src[j]!;
    end = start - 1;
  }
  return d;
}

/** Where each RDN of the subject being copied starts (copyPlainSubject). */
let rdnStarts: Int32Array = new Int32Array(64);

/** Where the field starting at i ends: its tab or newline, or the end of bytes. */
function fieldEnd(bytes: Uint8Array, i: number): number {
  for (; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === 0x09 || c === 0x0a) return i;
  }
  return i;
}

/** A copy of a twice as long. */
function grow<T extends Int32Array | Uint8Array>(a: T): T {
  const g = new (a.constructor as new (n: number) => T)(a.length * 2);
  g.set(a);
  return g;
}

/** Number of each distinct time (digits, and 1e15 more for the 4-digit-year form), or -1 when malformed. */
function timeKey(bytes: Uint8Array, a: number, b: number): number {
  const n = b - a;
  if ((n !== 13 && n !== 15) || bytes[b - 1] !== 0x5a) return -1;
  let v = 0;
  for (let i = a; i < b - 1; i++) {
    const d = bytes[i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return n === 15 ? v + 1e15 : v;
}

function sameRange(bytes: Uint8Array, a: number, b: number, c: number, d: number): boolean {
  if (b - a !== d - c) return false;
  for (let i = 0; i < b - a; i++) if (bytes[a + i] !== bytes[c + i]) return false;
  return true;
}

/** Whether bytes[a, b) is `unknown` (the file column of a certificate not written to a file). */
function isUnknown(bytes: Uint8Array, a: number, b: number): boolean {
  return (
    b - a === 7 &&
    bytes[a] === 0x75 &&
    bytes[a + 1] === 0x6e &&
    bytes[a + 2] === 0x6b &&
    bytes[a + 3] === 0x6e &&
    bytes[a + 4] === 0x6f &&
    bytes[a + 5] === 0x77 &&
    bytes[a + 6] === 0x6e
  );
}

/**
 * The index lines of one tier that pass the filter, soonest expiry first, from index.txt's
 * bytes, in one pass that touches each byte of a line's first five fields once. A `V` line
 * past its notAfter is reported as expired (openssl ca -updatedb would mark it E).
 * @throws MtlsKitError BAD_INDEX (from parseIndex) naming the file and line; INPUT_LIMIT for a
 *   line over INPUT_LIMITS.indexLineChars characters (before any other line's error).
 */
export function readIndexListing(input: Uint8Array, source: string, tier: 'root' | 'intermediate', filter: ListFilter, now: Date): IndexListing {
  // The closures below read `input`; the loop reads its own `bytes`, `len` and `t` (not shared
  // with a closure, so they stay in registers).
  const nowMs = now.getTime();
  const limit = INPUT_LIMITS.indexLineChars;
  const tooLong = (line: number, p: number, nl: number): void => {
    if (nl - p <= limit) return;
    const chars = decodeRange(input, p, nl).length;
    if (chars > limit) throw indexLineTooLong(source, line, chars);
  };
  const bad = (): never => {
    for (let p = 0, line = 0; p < input.length; line++) {
      const nl = input.indexOf(0x0a, p) < 0 ? input.length : input.indexOf(0x0a, p);
      tooLong(line, p, nl);
      p = nl + 1;
    }
    parseIndex(decodeRange(input, 0, input.length), source); // throws the precise message
    throw new Error(`${source}: unexpected index line`);
  };
  // Fleets share expiry and revocation times to the second: each distinct one is parsed once
  // (a direct-mapped cache in front of the map of every time seen).
  const times: IndexTime[] = [];
  const timeIds = new Map<number, number>();
  const cacheKeys = new Float64Array(4096).fill(-1);
  const cacheIds = new Int32Array(4096);
  const time = (a: number, b: number): number => {
    const key = timeKey(input, a, b);
    if (key < 0) return -1;
    const slot = (Math.imul(key % 1e9, 0x9e3779b1) ^ Math.imul(Math.floor(key / 1e9), 0x85ebca6b)) >>> 20;
    if (cacheKeys[slot] === key) return cacheIds[slot]!;
    let id = timeIds.get(key);
    if (id !== undefined) {
      cacheKeys[slot] = key;
      cacheIds[slot] = id;
    } else {
      const parsed = indexTime(String.fromCharCode(...input.subarray(a, b)))!;
      id = times.length;
      times.push({ms: parsed[0], iso: parsed[1], days: Math.floor((parsed[0] - nowMs) / 86_400_000)});
      timeIds.set(key, id);
      cacheKeys[slot] = key;
      cacheIds[slot] = id;
    }
    return id;
  };
  const bytes = input;
  const len = input.length;
  const t = nowMs;
  // A line is superseded when a later line names the same file: the last line seen for each
  // file, ASCII names by their bytes (an open-addressing table of (line, hash of the name)
  // pairs), others by their text. Tables are sized for lines of about 100 bytes, and grow.
  const estimate = Math.max(1024, Math.ceil(len / 100));
  let cap = 1024;
  while (cap < 2 * estimate) cap *= 2;
  let slots = new Int32Array(2 * cap).fill(-1);
  let used = 0;
  const lastByText = new Map<string, number>();
  let cols = new Int32Array(COLS * estimate);
  let superseded = new Uint8Array(estimate);
  let status = new Uint8Array(estimate);
  let flags = new Uint8Array(estimate);
  const kept: number[] = [];
  const revokedKept: number[] = []; // kept lines with a revocation field
  let n = 0; // lines with content
  let line = 0; // lines, for messages
  for (let p = 0; p < len; line++) {
    if (bytes[p] === 0x0a) {
      p++;
      continue;
    }
    if (n === superseded.length) {
      cols = grow(cols);
      superseded = grow(superseded);
      status = grow(status);
      flags = grow(flags);
    }
    const o = COLS * n;
    // status \t expiry \t revocation \t serial \t file \t subject, each field scanned once
    // (a newline before the fifth tab is a bad line).
    const st = bytes[p]!;
    if ((st !== 0x56 && st !== 0x52 && st !== 0x45) || bytes[p + 1] !== 0x09) bad();
    const t2 = fieldEnd(bytes, p + 2);
    const t3 = fieldEnd(bytes, t2 + 1);
    let i = t3;
    let c = 0;
    let f = PLAIN.serial;
    for (i++; i < len; i++) {
      c = bytes[i]!;
      if (c === 0x09 || c === 0x0a) break;
      if (c >= 0x61 && c <= 0x66) f |= PLAIN.serialLower;
      else if (!isPlainByte(c)) f &= ~PLAIN.serial;
    }
    const t4 = i;
    let h = 0x811c9dc5;
    let ascii = true;
    f |= PLAIN.file;
    for (i++; i < len; i++) {
      c = bytes[i]!;
      if (c === 0x09 || c === 0x0a) break;
      h = Math.imul(h ^ c, 0x01000193);
      if (c >= 0x80) ascii = false;
      if (!isPlainByte(c)) f &= ~PLAIN.file;
    }
    const t5 = i;
    if (t5 >= len || bytes[t2] !== 0x09 || bytes[t3] !== 0x09 || bytes[t4] !== 0x09 || c !== 0x09) bad();
    for (i++; i < len && bytes[i] !== 0x0a; i++);
    const nl = i;
    if (nl - p > limit) tooLong(line, p, nl);
    const exp = time(p + 2, t2);
    if (exp < 0) bad();
    cols[o] = p;
    cols[o + 1] = p + 1;
    cols[o + 2] = t2;
    cols[o + 3] = t3;
    cols[o + 4] = t4;
    cols[o + 5] = t5;
    cols[o + 6] = nl;
    cols[o + 7] = exp;
    cols[o + 8] = -1;
    // The file column (not unknown, not empty).
    const a = t4 + 1;
    if (t5 > a && !isUnknown(bytes, a, t5)) {
      if (!ascii) {
        const file = decodeRange(bytes, a, t5);
        const j = lastByText.get(file);
        if (j !== undefined) superseded[j] = 1;
        lastByText.set(file, n);
      } else {
        if (2 * used >= cap) {
          // Grow and re-insert (lines by their file's bytes).
          const old = slots;
          cap *= 4;
          slots = new Int32Array(2 * cap).fill(-1);
          for (let q = 0; q < old.length; q += 2) {
            if (old[q]! < 0) continue;
            let s = old[q + 1]! & (cap - 1);
            while (slots[2 * s]! >= 0) s = (s + 1) & (cap - 1);
            slots[2 * s] = old[q]!;
            slots[2 * s + 1] = old[q + 1]!;
          }
        }
        // (Every step of a probe is taken from line 1 on, so the loop V8 optimises early has seen
        // them all, not only the first probe's.)
        for (let s = (h - 1) & (cap - 1); ; ) {
          s = (s + 1) & (cap - 1);
          const j = slots[2 * s]!;
          const same = slots[2 * s + 1] === h;
          if (j < 0) {
            slots[2 * s] = n;
            slots[2 * s + 1] = h;
            used++;
            break;
          }
          if (same && sameRange(bytes, a, t5, cols[COLS * j + 4]! + 1, cols[COLS * j + 5]!)) {
            superseded[j] = 1;
            slots[2 * s] = n;
            break;
          }
        }
      }
    }
    const end = times[exp]!.ms;
    const s = st === 0x52 ? 2 : st === 0x45 || end <= t ? 1 : 0;
    status[n] = s;
    // Superseded lines (status 0 here) are dropped from --expiring below, once every line is seen.
    if (
      !((filter.revoked && s !== 2) || (filter.expired && s !== 1) || (filter.expiringWithinMs !== undefined && (s !== 0 || end - t > filter.expiringWithinMs)))
    ) {
      flags[n] = f;
      kept.push(n);
      if (t3 > t2 + 1) revokedKept.push(n);
    }
    n++;
    p = nl + 1;
  }
  // The rest in functions of their own: V8 optimised this one's loop while it ran, before any
  // code after it had run once.
  const rows = settle(status, superseded, n, kept, filter);
  readRevocations(filter.expiringWithinMs === undefined ? revokedKept : revokedKept.filter((m) => status[m] === 0), cols, bytes, time, bad);
  return {tier, bytes, lines: line, cols, status, flags, times, order: sortByExpiry(rows, cols, times)};
}

/** Superseded statuses set once every line is seen, and the kept lines without the superseded ones for --expiring. */
function settle(status: Uint8Array, superseded: Uint8Array, n: number, kept: number[], filter: ListFilter): number[] {
  for (let m = 0; m < n; m++) if (status[m] === 0 && superseded[m] === 1) status[m] = 3;
  return filter.expiringWithinMs === undefined ? kept : kept.filter((m) => status[m] === 0);
}

/** The revocation time (before the first comma of the field) of each of these lines. */
function readRevocations(lines: number[], cols: Int32Array, bytes: Uint8Array, time: (a: number, b: number) => number, bad: () => never): void {
  for (const m of lines) {
    const o = COLS * m;
    const a = cols[o + 2]! + 1;
    const b = cols[o + 3]!;
    let comma = a;
    while (comma < b && bytes[comma] !== 0x2c) comma++;
    const rev = time(a, comma);
    if (rev < 0) bad();
    cols[o + 8] = rev;
  }
}

/**
 * The lines in expiry order, lines of the same expiry in their order in the file: a counting
 * sort over the ranks of the distinct times.
 */
function sortByExpiry(lines: number[], cols: Int32Array, times: IndexTime[]): Int32Array {
  const byMs = Array.from(times.keys()).sort((x, y) => times[x]!.ms - times[y]!.ms);
  const rank = new Int32Array(times.length);
  let r = -1;
  for (let i = 0; i < byMs.length; i++) {
    if (i === 0 || times[byMs[i]!]!.ms !== times[byMs[i - 1]!]!.ms) r++;
    rank[byMs[i]!] = r;
  }
  const next = new Int32Array(r + 2);
  for (const m of lines) next[rank[cols[COLS * m + 7]!]! + 1]!++;
  for (let i = 1; i < next.length; i++) next[i]! += next[i - 1]!;
  const out = new Int32Array(lines.length);
  for (const m of lines) out[next[rank[cols[COLS * m + 7]!]!]!++] = m;
  return out;
}

/** The listed certificates of several tiers, soonest expiry first: rows are (listing, line) pairs. */
export class Inventory {
  /** Which listing each row is from. */
  readonly from: Uint8Array;
  /** The row's line in that listing. */
  readonly line: Int32Array;
  readonly count: number;

  /** Lists of several tiers (each sorted) merged, soonest expiry first (the earlier tier on a tie). */
  constructor(readonly listings: IndexListing[]) {
    this.count = listings.reduce((n, l) => n + l.order.length, 0);
    this.from = new Uint8Array(this.count);
    this.line = new Int32Array(this.count);
    let merged: Array<[number, number]> | undefined;
    if (listings.length === 1) this.line.set(listings[0]!.order);
    else {
      // As the lists were merged pairwise: the left list first on an equal notAfter.
      const iso = (l: number, line: number): string => {
        const x = listings[l]!;
        return x.times[x.cols[COLS * line + 7]!]!.iso;
      };
      merged = [];
      for (let l = 0; l < listings.length; l++) {
        const b = Array.from(listings[l]!.order, (line): [number, number] => [l, line]);
        if (merged.length === 0 || b.length === 0) {
          if (merged.length === 0) merged = b;
          continue;
        }
        const a = merged;
        const out: Array<[number, number]> = [];
        let i = 0;
        let j = 0;
        while (i < a.length && j < b.length) out.push(iso(...a[i]!) <= iso(...b[j]!) ? a[i++]! : b[j++]!);
        while (i < a.length) out.push(a[i++]!);
        while (j < b.length) out.push(b[j++]!);
        merged = out;
      }
      merged.forEach(([l, line], k) => {
        this.from[k] = l;
        this.line[k] = line;
      });
    }
  }

  /** Row k's status. */
  status(k: number): CertStatus {
    const l = this.listings[this.from[k]!]!;
    return STATUSES[l.status[this.line[k]!]!]!;
  }

  /** Row k's expiry. */
  expiry(k: number): IndexTime {
    const l = this.listings[this.from[k]!]!;
    return l.times[l.cols[COLS * this.line[k]! + 7]!]!;
  }

  /** Row k as a ListedCert. */
  cert(k: number): ListedCert {
    const l = this.listings[this.from[k]!]!;
    const o = COLS * this.line[k]!;
    const c = l.cols;
    const exp = l.times[c[o + 7]!]!;
    const row: ListedCert = {
      tier: l.tier,
      status: STATUSES[l.status[this.line[k]!]!]!,
      serial: serialText(l, o),
      subject: subjectText(l, o),
      notAfter: exp.iso,
      daysLeft: exp.days,
      file: decodeRange(l.bytes, c[o + 4]! + 1, c[o + 5]!),
    };
    const rev = c[o + 8]!;
    if (rev >= 0) {
      row.revokedAt = l.times[rev]!.iso;
      const reason = reasonRange(l, o);
      if (reason) row.reason = decodeRange(l.bytes, reason[0], reason[1]);
    }
    return row;
  }

  /** Every row as a ListedCert. */
  certificates(): ListedCert[] {
    return Array.from({length: this.count}, (_, k) => this.cert(k));
  }
}

/** The serial of the line at cols offset o, upper case (openssl writes it so; others are converted). */
export function serialText(l: IndexListing, o: number): string {
  const s = decodeRange(l.bytes, l.cols[o + 3]! + 1, l.cols[o + 4]!);
  return /[a-f]/.test(s) ? s.toUpperCase() : s;
}

/** The RFC 2253 subject of the line at cols offset o. */
export function subjectText(l: IndexListing, o: number): string {
  return slashFormToRfc2253(decodeRange(l.bytes, l.cols[o + 5]! + 1, l.cols[o + 6]!));
}

/** Where the reason of a revoked line at cols offset o is (after the first comma of its revocation field), if it has one. */
export function reasonRange(l: IndexListing, o: number): [number, number] | undefined {
  const a = l.cols[o + 2]! + 1;
  const b = l.cols[o + 3]!;
  for (let j = a; j < b; j++) if (l.bytes[j] === 0x2c) return [j + 1, b];
  return undefined;
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
