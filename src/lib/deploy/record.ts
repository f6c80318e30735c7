/**
 * What deploy records on the trust store so that an unchanged run downloads nothing: the
 * digest of the bundle it holds and the facts of each revocation list, as trust-store tags.
 * Pure: encoding, decoding and the tag changes a run must make.
 *
 * Why tags can be trusted:
 * - A revocation id's content never changes (ids are never reused, aws-reference 2.5), so a
 *   record written right after AddTrustStoreRevocations stays true for the id's life.
 * - The bundle can be replaced behind deploy's back (ModifyTrustStore from the console), so
 *   its record also holds the ETag of the held copy; the runner checks that ETag with a
 *   one-byte ranged download of the copy and downloads the whole copy when it differs.
 * - A record that is missing, unreadable or disagrees with DescribeTrustStores /
 *   DescribeTrustStoreRevocations counts is ignored: the runner downloads instead.
 *
 * Tag rules (aws-reference 2.5, ELBv2 AddTags): at most 50 tags per resource, keys up to
 * 128 and values up to 256 characters of letters, digits, spaces and `_ . : / = + - @`.
 */
import {createHash} from 'node:crypto';
import type {CrlFacts} from './crl-summary.js';
import {fingerprintHex} from '../x509/fingerprint.js';

/** The tag key of the bundle record. */
export const BUNDLE_RECORD_KEY = 'mtls-kit:bundle';
/** The tag key prefix of revocation records: `mtls-kit:crl:<revocation id>`. */
export const CRL_RECORD_PREFIX = 'mtls-kit:crl:';
/** Tags per ELBv2 resource (AddTags, TooManyTags). */
export const MAX_TAGS_PER_RESOURCE = 50;

export interface Tag {
  key: string;
  value: string;
}

export interface BundleRecord {
  /** Certificates in the deployed file (NumberOfCaCertificates). */
  count: number;
  /** bundleDigest() of the certificates. */
  digest: string;
  /** ETag of the trust store's own copy (GetTrustStoreCaCertificatesBundle), without quotes. */
  etag: string;
}

/**
 * The digest of a bundle as a set of certificates: SHA-256 over the sorted, de-duplicated
 * certificate fingerprints as plain lower-case hex (whatever style they come in, so the
 * `mtls-kit:bundle` tags of earlier versions still match). Reordering or de-duplicating a
 * bundle does not change it.
 */
export function bundleDigest(fingerprints: string[]): string {
  return createHash('sha256')
    .update([...new Set(fingerprints.map(fingerprintHex))].sort().join('\n'))
    .digest('hex');
}

/** Whether two bundles hold the same set of certificates. */
export function sameCertificates(a: string[], b: string[]): boolean {
  return bundleDigest(a) === bundleDigest(b);
}

export function encodeBundleRecord(r: BundleRecord): string {
  return `v1:${r.count}:${r.digest}:${r.etag.replace(/[^A-Za-z0-9-]/g, '')}`;
}

/** The bundle record, or null when the value is not one this version wrote. */
export function decodeBundleRecord(value: string | undefined): BundleRecord | null {
  const m = /^v1:(\d+):([0-9a-f]{64}):([A-Za-z0-9-]+)$/.exec(value ?? '');
  return m ? {count: Number(m[1]), digest: m[2]!, etag: m[3]!} : null;
}

export function encodeCrlRecord(f: CrlFacts): string {
  return `v1:${f.sha256}:${f.issuerId}:${f.crlNumber ?? '-'}:${Math.floor(f.thisUpdate.getTime() / 1000)}:${f.entries}`;
}

/** The facts of a revocation list, or null when the value is not one this version wrote. */
export function decodeCrlRecord(value: string | undefined): CrlFacts | null {
  const m = /^v1:([0-9a-f]{64}):([0-9a-f]{32}):(\d+|-):(-?\d+):(\d+)$/.exec(value ?? '');
  if (!m) return null;
  return {
    sha256: m[1]!,
    issuerId: m[2]!,
    issuerDn: null,
    crlNumber: m[3] === '-' ? null : m[3]!,
    thisUpdate: new Date(Number(m[4]) * 1000),
    entries: Number(m[5]),
  };
}

/** `mtls-kit:crl:<id>` → id, or null for other keys. */
export function revocationIdOfKey(key: string): number | null {
  if (!key.startsWith(CRL_RECORD_PREFIX)) return null;
  const id = Number(key.slice(CRL_RECORD_PREFIX.length));
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}

export interface TagChanges {
  /** Tags to add or overwrite (AddTags). */
  add: Tag[];
  /** Tag keys to remove (RemoveTags). */
  remove: string[];
  /** Records that did not fit under the 50-tag limit (those lists are downloaded on later runs). */
  skipped: number;
}

export interface DesiredTagsParams {
  /** The trust store's current tags. */
  current: Tag[];
  /** The user's --tag values. */
  user: Tag[];
  bundle: BundleRecord | null;
  /** Revocation id → facts of every list the trust store holds after the run (null = unknown). */
  revocations: Array<{revocationId: number; facts: CrlFacts | null}>;
}

/**
 * The tag changes that make the trust store's tags hold the user's tags and the records of
 * what it now holds. Records of removed lists are removed; records that would exceed the
 * 50-tag limit are skipped (a record is an optimisation, never required). User tags are never
 * removed, only added or updated.
 */
export function planTagChanges(p: DesiredTagsParams): TagChanges {
  const current = new Map(p.current.map((t) => [t.key, t.value]));
  const desired = new Map<string, string>();
  for (const t of p.user) desired.set(t.key, t.value);
  if (p.bundle) desired.set(BUNDLE_RECORD_KEY, encodeBundleRecord(p.bundle));
  const remove: string[] = [];
  const held = new Set(p.revocations.map((r) => r.revocationId));
  for (const key of current.keys()) {
    const id = revocationIdOfKey(key);
    if (id !== null && !held.has(id)) remove.push(key);
  }
  // Count what stays: current tags minus removed ones, plus new keys.
  let count = current.size - remove.length;
  for (const key of desired.keys()) if (!current.has(key)) count++;
  let skipped = 0;
  for (const r of p.revocations) {
    if (!r.facts) continue;
    const key = `${CRL_RECORD_PREFIX}${r.revocationId}`;
    if (current.has(key)) {
      desired.set(key, encodeCrlRecord(r.facts));
      continue;
    }
    if (count >= MAX_TAGS_PER_RESOURCE) {
      skipped++;
      continue;
    }
    desired.set(key, encodeCrlRecord(r.facts));
    count++;
  }
  const add = [...desired].filter(([k, v]) => current.get(k) !== v).map(([key, value]) => ({key, value}));
  return {add, remove, skipped};
}

/** AWS's tag rules for a `--tag KEY=VALUE` value; returns the problem or null. */
export function checkTag(t: Tag): string | null {
  if (t.key.length < 1 || t.key.length > 128) return 'the key must be 1 to 128 characters';
  if (t.value.length > 256) return 'the value must be at most 256 characters';
  if (/^aws:/i.test(t.key)) return 'keys starting with "aws:" are reserved by AWS';
  if (t.key.startsWith('mtls-kit:')) return 'keys starting with "mtls-kit:" are reserved for what deploy records';
  const allowed = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
  if (!allowed.test(t.key) || !allowed.test(t.value)) return 'keys and values may hold only letters, digits, spaces and _ . : / = + - @';
  return null;
}
