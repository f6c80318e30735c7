/**
 * Revocation in the CA index (openssl ca index.txt format, index-db.ts): the pure part of
 * `mtls-kit revoke` and `mtls-kit crl`.
 */
import type {CrlEntryInput} from '../x509/crl.js';
import {type IndexEntry, parseIndex, parseIndexTime, REVOCATION_REASONS, type RevocationReason} from '../x509/index-db.js';

export interface RevokeInIndexParams {
  entries: IndexEntry[];
  /** ALB-form hex serial. */
  serial: string;
  reason: RevocationReason;
  now: Date;
  /** Record a serial the index does not know (a certificate issued elsewhere by this CA). */
  force: boolean;
}

export type RevokeInIndexResult =
  | {outcome: 'revoked'; entries: IndexEntry[]; entry: IndexEntry}
  | {outcome: 'already-revoked'; entry: IndexEntry}
  | {outcome: 'unknown'};

/**
 * Marks a serial revoked (status R, revocation time, reason), as `openssl ca -revoke`
 * does. Revoking twice changes nothing. An unknown serial is added as a revoked line
 * only with `force` (its expiry is then unknown: ten years from now is recorded, so it
 * stays on the CRL).
 * @returns the new index and the entry, or the existing revoked entry, or 'unknown'.
 */
export function revokeInIndex(p: RevokeInIndexParams): RevokeInIndexResult {
  const revokedAt = new Date(Math.floor(p.now.getTime() / 1000) * 1000);
  const i = p.entries.findIndex((e) => e.serial === p.serial);
  if (i >= 0) {
    const e = p.entries[i]!;
    if (e.status === 'R') return {outcome: 'already-revoked', entry: e};
    const entry: IndexEntry = {...e, status: 'R', revokedAt, ...(p.reason === 'unspecified' ? {} : {reason: p.reason})};
    const entries = p.entries.slice();
    entries[i] = entry;
    return {outcome: 'revoked', entries, entry};
  }
  if (!p.force) return {outcome: 'unknown'};
  const entry: IndexEntry = {
    status: 'R',
    notAfter: new Date(revokedAt.getTime() + 3650 * 86_400_000),
    revokedAt,
    ...(p.reason === 'unspecified' ? {} : {reason: p.reason}),
    serial: p.serial,
    file: 'unknown',
    subject: '/CN=unknown',
  };
  return {outcome: 'revoked', entries: [...p.entries, entry], entry};
}

/**
 * Marks every listed serial revoked in one pass (`renew --revoke-old` on a fleet), with the
 * same fields as revokeInIndex; serials already revoked or not in the index are left alone.
 * @returns the new index and how many lines changed.
 */
export function revokeManyInIndex(
  entries: IndexEntry[],
  serials: ReadonlySet<string>,
  reason: RevocationReason,
  now: Date,
): {entries: IndexEntry[]; revoked: number} {
  const revokedAt = new Date(Math.floor(now.getTime() / 1000) * 1000);
  let revoked = 0;
  const out = entries.map((e) => {
    if (e.status === 'R' || !serials.has(e.serial)) return e;
    revoked++;
    return {...e, status: 'R' as const, revokedAt, ...(reason === 'unspecified' ? {} : {reason})};
  });
  return {entries: out, revoked};
}

/** The CRL entries of an index: every revoked line (status R), as `openssl ca -gencrl` takes them. */
export function crlEntriesFromIndex(entries: IndexEntry[]): CrlEntryInput[] {
  const out: CrlEntryInput[] = [];
  for (const e of entries) {
    if (e.status !== 'R' || !e.revokedAt) continue;
    out.push({serial: e.serial, revokedAt: e.revokedAt, ...(e.reason ? {reason: e.reason} : {})});
  }
  return out;
}

const REASONS = new Set<string>(REVOCATION_REASONS);

/**
 * The CRL entries straight from index.txt text: the same result as
 * `crlEntriesFromIndex(parseIndex(text))`, without building an IndexEntry (and two Dates)
 * per line. A 500,000-line index otherwise spends most of `mtls-kit crl` in parsing and GC.
 * Revocation times repeat (bulk revocations), so each distinct one is parsed once.
 * @throws MtlsKitError BAD_INDEX (from parseIndex) on a malformed line.
 */
export function crlEntriesFromIndexText(text: string, source: string): CrlEntryInput[] {
  const out: CrlEntryInput[] = [];
  const times = new Map<string, Date>();
  let p = 0;
  const len = text.length;
  while (p < len) {
    let nl = text.indexOf('\n', p);
    if (nl < 0) nl = len;
    if (nl > p) {
      const c = text.charCodeAt(p);
      if (c === 0x52 /* R */) {
        // Fields found by indexOf rather than split (no array and four strings per line):
        // "R" TAB notAfter TAB revokedAt[,reason[,...]] TAB serial [TAB ...]
        const tab2 = p + 1 < nl && text.charCodeAt(p + 1) === 0x09 ? text.indexOf('\t', p + 2) : -1;
        const tab3 = tab2 >= 0 && tab2 < nl ? text.indexOf('\t', tab2 + 1) : -1;
        let t = '';
        let reason: string | undefined;
        if (tab3 >= 0 && tab3 < nl) {
          const comma = text.indexOf(',', tab2 + 1);
          if (comma >= 0 && comma < tab3) {
            t = text.slice(tab2 + 1, comma);
            const comma2 = text.indexOf(',', comma + 1);
            reason = text.slice(comma + 1, comma2 >= 0 && comma2 < tab3 ? comma2 : tab3);
          } else t = text.slice(tab2 + 1, tab3);
        }
        if (!t || (reason !== undefined && !REASONS.has(reason))) {
          parseIndex(text, source); // throws the precise message
          throw new Error(`${source}: unexpected index line`);
        }
        let revokedAt = times.get(t);
        if (!revokedAt) {
          revokedAt = parseIndexTime(t);
          times.set(t, revokedAt);
        }
        const tab4 = text.indexOf('\t', tab3 + 1);
        const serial = text.slice(tab3 + 1, tab4 >= 0 && tab4 < nl ? tab4 : nl).toUpperCase();
        out.push(reason ? {serial, revokedAt, reason: reason as RevocationReason} : {serial, revokedAt});
      } else if (c !== 0x56 /* V */ && c !== 0x45 /* E */) {
        parseIndex(text, source);
      }
    }
    p = nl + 1;
  }
  return out;
}
