/**
 * The deploy plan: given what is on disk and what AWS holds, what deploy must create,
 * modify, add, remove or leave alone. Pure: no AWS calls, no files (STYLE "Where code lives").
 *
 * The rules, from the issue and aws-reference 2:
 * - S3 keys are content-addressed, so an object at the key with the same content is
 *   never uploaded again.
 * - The trust store holds exactly one bundle (aws-reference 2.5): create it when missing,
 *   ModifyTrustStore only when the certificates it holds differ from the local bundle.
 * - Revocations: add every local CRL the trust store does not hold yet, then remove the
 *   lists it supersedes (an older CRL of the same issuer). Add before remove, so the
 *   revoked serials are never missing.
 * - Listener: MutualAuthentication is changed only when it differs.
 */
import {compareCrlAge, type CrlSummary} from './crl-summary.js';
import {MtlsKitError} from '../errors.js';

export type MutualMode = 'verify' | 'passthrough' | 'off';

/** The listener's MutualAuthentication as deploy compares it (aws-reference 2.2, 1.9). */
export interface MutualAuthentication {
  mode: MutualMode;
  /** Only in verify mode. */
  trustStoreArn: string | null;
  ignoreClientCertificateExpiry: boolean;
  advertiseTrustStoreCaNames: 'on' | 'off';
}

export interface LocalObject {
  kind: 'bundle' | 'crl';
  path: string;
  key: string;
  /** Lowercase hex MD5 of the content: the ETag S3 gives a single-part upload. */
  md5: string;
}

export interface LocalCrl {
  path: string;
  key: string;
  summary: CrlSummary;
}

export type ListenerTarget =
  | {kind: 'existing'; listenerArn: string}
  | {kind: 'create'; loadBalancerArn: string; port: number; certificateArn: string; targetGroupArn: string};

export interface LocalState {
  trustStoreName: string;
  objects: LocalObject[];
  /** SHA-256 (hex) of each certificate's DER in the local bundle, in file order. */
  bundleCertificates: string[];
  crls: LocalCrl[];
  listener: ListenerTarget | null;
  mutualAuthentication: Omit<MutualAuthentication, 'trustStoreArn'>;
}

export interface RemoteObject {
  key: string;
  exists: boolean;
  /** ETag without quotes. */
  etag?: string;
  versionId?: string;
}

export interface RemoteRevocation {
  revocationId: number;
  entries: number;
  /** The CRL the trust store holds, or null when it could not be read. */
  summary: CrlSummary | null;
}

export interface RemoteTrustStore {
  arn: string;
  status: string;
  numberOfCaCertificates: number;
  totalRevokedEntries: number;
  /** SHA-256 (hex) of each certificate DER in the copy the trust store holds. */
  bundleCertificates: string[];
  revocations: RemoteRevocation[];
}

export interface RemoteListener {
  arn: string;
  loadBalancerArn?: string;
  protocol: string;
  port: number;
  mutualAuthentication: MutualAuthentication;
}

export interface RemoteState {
  objects: RemoteObject[];
  trustStore: RemoteTrustStore | null;
  /** The listener named by --listener-arn, or the one on --port of --load-balancer-arn. */
  listener: RemoteListener | null;
}

export type StepAction = 'create' | 'modify' | 'unchanged';

export interface PlannedUpload {
  kind: 'bundle' | 'crl';
  path: string;
  key: string;
  action: 'upload' | 'unchanged';
  /** Known when the object exists in a versioned bucket. */
  versionId?: string;
}

export interface PlannedRevocationAdd {
  path: string;
  key: string;
  issuer: string;
  crlNumber: string | null;
  entries: number;
}

export interface PlannedRevocationRemove {
  revocationId: number;
  issuer: string;
  crlNumber: string | null;
  /** The local CRL that supersedes it. */
  supersededBy: string;
}

export interface DeployPlan {
  uploads: PlannedUpload[];
  trustStore: {action: StepAction; name: string; arn: string | null; reason: string};
  revocations: {
    add: PlannedRevocationAdd[];
    remove: PlannedRevocationRemove[];
    /** Local CRLs the trust store already holds: path → revocation id. */
    unchanged: Array<{path: string; revocationId: number}>;
    /** Lists of issuers deploy does not manage (no local CRL of that issuer): left alone. */
    kept: number[];
  };
  listener: {action: StepAction | 'none'; arn: string | null; from: MutualAuthentication | null; to: MutualAuthentication | null};
  /** Whether any mutating call is planned. */
  changes: boolean;
}

/**
 * Computes the deploy plan.
 * @returns the plan; `changes` is false when a run would make no mutating call.
 * @throws MtlsKitError REMOTE_CRL_NEWER (exit 4) when the trust store holds a newer CRL of
 *   an issuer than the local one (deploying would roll revocations back).
 */
export function planDeploy(local: LocalState, remote: RemoteState): DeployPlan {
  const uploads: PlannedUpload[] = local.objects.map((o) => {
    const r = remote.objects.find((x) => x.key === o.key);
    // Content-addressed keys: an existing object with our MD5 ETag holds our bytes.
    const same = Boolean(r?.exists && r.etag?.toLowerCase() === o.md5);
    return {kind: o.kind, path: o.path, key: o.key, action: same ? 'unchanged' : 'upload', ...(same && r?.versionId ? {versionId: r.versionId} : {})};
  });

  const ts = remote.trustStore;
  let trustStore: DeployPlan['trustStore'];
  if (!ts) trustStore = {action: 'create', name: local.trustStoreName, arn: null, reason: 'no trust store with this name'};
  else if (!sameList(ts.bundleCertificates, local.bundleCertificates)) {
    trustStore = {action: 'modify', name: local.trustStoreName, arn: ts.arn, reason: `the trust store holds ${ts.bundleCertificates.length} certificate(s) that differ from the local bundle (${local.bundleCertificates.length})`};
  } else trustStore = {action: 'unchanged', name: local.trustStoreName, arn: ts.arn, reason: 'the trust store holds the same certificates'};

  const revocations = planRevocations(local.crls, ts?.revocations ?? []);

  let listener: DeployPlan['listener'] = {action: 'none', arn: null, from: null, to: null};
  if (local.listener) {
    const to: MutualAuthentication = {...local.mutualAuthentication, trustStoreArn: local.mutualAuthentication.mode === 'verify' ? (ts?.arn ?? null) : null};
    if (!remote.listener) {
      if (local.listener.kind === 'existing') listener = {action: 'modify', arn: local.listener.listenerArn, from: null, to};
      else listener = {action: 'create', arn: null, from: null, to};
    } else {
      const from = remote.listener.mutualAuthentication;
      const same = to.trustStoreArn !== null || to.mode !== 'verify' ? sameMutual(from, to) : false;
      listener = {action: same ? 'unchanged' : 'modify', arn: remote.listener.arn, from, to};
    }
  }

  const changes =
    uploads.some((u) => u.action === 'upload') ||
    trustStore.action !== 'unchanged' ||
    revocations.add.length > 0 ||
    revocations.remove.length > 0 ||
    listener.action === 'create' ||
    listener.action === 'modify';
  return {uploads, trustStore, revocations, listener, changes};
}

function planRevocations(crls: LocalCrl[], held: RemoteRevocation[]): DeployPlan['revocations'] {
  const add: PlannedRevocationAdd[] = [];
  const remove: PlannedRevocationRemove[] = [];
  const unchanged: Array<{path: string; revocationId: number}> = [];
  const matched = new Set<number>();
  for (const crl of crls) {
    const same = held.find((h) => h.summary?.sha256 === crl.summary.sha256 && !matched.has(h.revocationId));
    if (same) {
      matched.add(same.revocationId);
      unchanged.push({path: crl.path, revocationId: same.revocationId});
    } else {
      add.push({path: crl.path, key: crl.key, issuer: crl.summary.issuerDn, crlNumber: crl.summary.crlNumber, entries: crl.summary.entries});
    }
  }
  const kept: number[] = [];
  for (const h of held) {
    if (matched.has(h.revocationId)) continue;
    const s = h.summary;
    const local = s ? crls.find((c) => Buffer.compare(c.summary.issuer, s.issuer) === 0) : undefined;
    if (!s || !local) {
      kept.push(h.revocationId);
      continue;
    }
    if (s.sha256 !== local.summary.sha256 && compareCrlAge(s, local.summary) > 0) {
      throw new MtlsKitError({
        code: 'REMOTE_CRL_NEWER',
        message: `the trust store holds a newer CRL of ${s.issuerDn} (number ${s.crlNumber ?? '?'}, revocation id ${h.revocationId}) than ${local.path} (number ${local.summary.crlNumber ?? '?'}); deploying would un-revoke certificates`,
        suggestions: ['regenerate the CRL (mtls-kit crl) so it is the newest, or deploy from the CA directory that issued the newer one'],
      });
    }
    // An older CRL of the same issuer, or a second copy of the same CRL: superseded.
    remove.push({revocationId: h.revocationId, issuer: s.issuerDn, crlNumber: s.crlNumber, supersededBy: local.path});
  }
  return {add, remove, unchanged, kept};
}

/** Normalised comparison of MutualAuthentication (defaults: expiry false, advertise off). */
export function sameMutual(a: MutualAuthentication, b: MutualAuthentication): boolean {
  if (a.mode !== b.mode) return false;
  if (a.mode !== 'verify') return true;
  return a.trustStoreArn === b.trustStoreArn && a.ignoreClientCertificateExpiry === b.ignoreClientCertificateExpiry && a.advertiseTrustStoreCaNames === b.advertiseTrustStoreCaNames;
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The S3 key of a file: `<prefix><base>-<first 16 hex of SHA-256>.pem`, so a new content
 * gets a new key and an unchanged one is never re-uploaded.
 */
export function contentKey(prefix: string, base: string, sha256: string): string {
  const p = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  return `${p}${base}-${sha256.slice(0, 16)}.pem`;
}

/** AWS's trust-store name rule (aws-reference 2.2): 1-32 characters, `^([a-zA-Z0-9]+-)*[a-zA-Z0-9]+$`. */
export function checkTrustStoreName(name: string): string | null {
  if (name.length < 1 || name.length > 32) return `must be 1 to 32 characters (it has ${name.length})`;
  if (!/^([a-zA-Z0-9]+-)*[a-zA-Z0-9]+$/.test(name)) return 'may hold only letters, digits and single hyphens between them';
  return null;
}
