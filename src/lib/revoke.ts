/**
 * Revocation in the CA index (openssl ca index.txt format, index-db.ts): the pure part of
 * `mtls-kit revoke` and `mtls-kit crl`.
 */
import type {CrlEntryInput} from './crl.js';
import type {IndexEntry, RevocationReason} from './index-db.js';

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

/** The CRL entries of an index: every revoked line (status R), as `openssl ca -gencrl` takes them. */
export function crlEntriesFromIndex(entries: IndexEntry[]): CrlEntryInput[] {
  const out: CrlEntryInput[] = [];
  for (const e of entries) {
    if (e.status !== 'R' || !e.revokedAt) continue;
    out.push({serial: e.serial, revokedAt: e.revokedAt, ...(e.reason ? {reason: e.reason} : {})});
  }
  return out;
}
