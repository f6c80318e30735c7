/**
 * `deploy --plan-out plan.json` and `deploy --plan plan.json`: a plan a reviewer approves,
 * applied exactly, or refused when the files or AWS changed since. Pure: the shape of the
 * file, the fingerprint of what the plan was computed from, and the comparison.
 *
 * The file holds the settings the plan was made with (so `--plan` needs no other flag),
 * the SHA-256 of each local file, a fingerprint of the remote state the plan depends on,
 * the plan itself and the dry-run result shown to the reviewer.
 */
import type {DeployPlan, ListenerTarget, MutualAuthentication, RemoteState} from './plan.js';
import type {Tag} from './record.js';
import type {ConnectionLogSetting, ConnectionLogTarget} from './connection-logs.js';
import type {DeployResult} from './result.js';
import {createHash} from 'node:crypto';
import {MtlsKitError} from '../errors.js';

export const SAVED_PLAN_VERSION = 1;

/** Everything deploy needs besides AWS credentials; what `--plan` re-runs with. */
export interface DeploySettings {
  dir: string;
  bundle: string | undefined;
  crls: string[] | undefined;
  prefix: string;
  trustStoreName: string;
  bucket: string;
  listeners: ListenerTarget[];
  mutualAuthentication: Omit<MutualAuthentication, 'trustStoreArn'>;
  tags: Tag[];
  s3: {sse?: 'aws:kms' | 'AES256'; kmsKeyId?: string; expectedBucketOwner?: string};
  quotas: {lists: number; entries: number};
  allowRevocationGap: boolean;
  force: boolean;
  /** --connection-logs (absent: the load balancers' connection logs are left alone). */
  connectionLogs?: ConnectionLogTarget;
  region: string;
}

/** What the plan was computed from in AWS: any difference makes it stale. */
export interface RemoteFingerprint {
  objects: Array<{key: string; exists: boolean; etag: string | null}>;
  trustStore: null | {arn: string; bundleDigest: string | null; revocations: Array<{revocationId: number; entries: number; sha256: string | null}>};
  listeners: Array<null | {arn: string; mutualAuthentication: MutualAuthentication}>;
  /** With --connection-logs: each load balancer's connection-log attributes. */
  loadBalancers?: Array<{arn: string; connectionLogs: ConnectionLogSetting}>;
}

export interface SavedPlan {
  mtlsKitPlan: typeof SAVED_PLAN_VERSION;
  createdAt: string;
  settings: DeploySettings;
  /** Local file → SHA-256 of its bytes. */
  files: Array<{path: string; sha256: string}>;
  remote: RemoteFingerprint;
  plan: DeployPlan;
  /** The dry-run result, for the reviewer. */
  result: DeployResult;
  /** `sha256:<hex>` of the file's JSON without this field (sealSavedPlan); a plan whose content differs is refused. */
  digest: string;
}

/** The digest of a plan's content: SHA-256 of its JSON without the digest field. */
export function savedPlanDigest(p: Omit<SavedPlan, 'digest'> & {digest?: string}): string {
  const {digest: _ignored, ...content} = p;
  return `sha256:${createHash('sha256').update(JSON.stringify(content)).digest('hex')}`;
}

/** A plan with its digest, as --plan-out writes it. */
export function sealSavedPlan(p: Omit<SavedPlan, 'digest'>): SavedPlan {
  return {...p, digest: savedPlanDigest(p)};
}

/** The fingerprint of a remote state (what a saved plan depends on). */
export function fingerprintRemote(r: RemoteState): RemoteFingerprint {
  const ts = r.trustStore;
  return {
    objects: r.objects.map((o) => ({key: o.key, exists: o.exists, etag: o.etag ?? null})),
    trustStore: ts
      ? {
          arn: ts.arn,
          bundleDigest: ts.bundleDigest ?? null,
          revocations: ts.revocations.map((x) => ({revocationId: x.revocationId, entries: x.entries, sha256: x.summary?.sha256 ?? null})),
        }
      : null,
    listeners: r.listeners.map((l) => (l ? {arn: l.arn, mutualAuthentication: l.mutualAuthentication} : null)),
    ...(r.loadBalancers ? {loadBalancers: r.loadBalancers} : {}),
  };
}

/**
 * Checks a saved plan against the current files and AWS state.
 * @throws MtlsKitError PLAN_STALE (exit 4) naming what changed since the plan was made.
 */
export function checkSavedPlan(
  saved: SavedPlan,
  files: Array<{path: string; sha256: string}>,
  remote: RemoteFingerprint,
  replanned: DeployPlan,
  planFile: string,
): void {
  const changes: string[] = [];
  for (const f of saved.files) {
    const now = files.find((x) => x.path === f.path);
    if (!now) changes.push(`${f.path} is no longer deployed`);
    else if (now.sha256 !== f.sha256) changes.push(`${f.path} changed`);
  }
  for (const f of files) if (!saved.files.some((x) => x.path === f.path)) changes.push(`${f.path} is new`);
  const a = saved.remote;
  if (JSON.stringify(a.objects) !== JSON.stringify(remote.objects)) changes.push('the S3 objects changed');
  if ((a.trustStore === null) !== (remote.trustStore === null)) changes.push(a.trustStore ? 'the trust store was deleted' : 'the trust store was created');
  else if (a.trustStore && remote.trustStore) {
    if (a.trustStore.arn !== remote.trustStore.arn) changes.push('the trust store was replaced');
    if (a.trustStore.bundleDigest !== remote.trustStore.bundleDigest) changes.push('the trust store holds another bundle');
    if (JSON.stringify(a.trustStore.revocations) !== JSON.stringify(remote.trustStore.revocations))
      changes.push(
        `the trust store's revocation lists changed (ids ${a.trustStore.revocations.map((r) => r.revocationId).join(', ') || 'none'} → ${remote.trustStore.revocations.map((r) => r.revocationId).join(', ') || 'none'})`,
      );
  }
  a.listeners.forEach((l, i) => {
    if (JSON.stringify(l) !== JSON.stringify(remote.listeners[i] ?? null)) changes.push(`listener ${l?.arn ?? saved.settings.listeners[i]?.kind ?? i} changed`);
  });
  for (const lb of a.loadBalancers ?? []) {
    const now = remote.loadBalancers?.find((x) => x.arn === lb.arn);
    if (JSON.stringify(now?.connectionLogs ?? null) !== JSON.stringify(lb.connectionLogs)) changes.push(`the connection logs of ${lb.arn} changed`);
  }
  if (changes.length === 0 && JSON.stringify(stripVolatile(replanned)) !== JSON.stringify(stripVolatile(saved.plan)))
    changes.push('the plan computed now differs from the saved one');
  if (changes.length > 0) {
    throw new MtlsKitError({
      code: 'PLAN_STALE',
      message: `${planFile} was made at ${saved.createdAt} and no longer applies: ${changes.join('; ')}; nothing was changed`,
      suggestions: ['make and review a new plan: mtls-kit deploy ... --plan-out plan.json'],
      details: {changes},
    });
  }
}

/** A plan as JSON compares it (no functions, no Dates). */
function stripVolatile(p: DeployPlan): unknown {
  return JSON.parse(JSON.stringify(p));
}

/**
 * Parses a saved plan file's JSON.
 * @throws MtlsKitError BAD_PLAN_FILE (exit 4) when it is not one, PLAN_DIGEST_MISMATCH (exit 4) when
 *   its content does not match its digest (edited after --plan-out wrote it).
 */
export function parseSavedPlan(text: string, planFile: string): SavedPlan {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (error) {
    throw new MtlsKitError({
      code: 'BAD_PLAN_FILE',
      message: `${planFile} is not JSON (${(error as Error).message})`,
      suggestions: ['pass the file written by deploy --plan-out'],
    });
  }
  const p = v as Partial<SavedPlan>;
  if (p?.mtlsKitPlan !== SAVED_PLAN_VERSION || !p.settings || !p.plan || !p.remote || !Array.isArray(p.files)) {
    throw new MtlsKitError({
      code: 'BAD_PLAN_FILE',
      message: `${planFile} is not a plan written by this version of deploy --plan-out`,
      suggestions: ['make a new one: mtls-kit deploy ... --plan-out plan.json'],
    });
  }
  const digest = savedPlanDigest(p as SavedPlan);
  if (p.digest !== digest) {
    throw new MtlsKitError({
      code: 'PLAN_DIGEST_MISMATCH',
      message:
        p.digest === undefined
          ? `${planFile} has no digest, so its content cannot be checked against what was reviewed`
          : `${planFile} was changed after it was written: its content does not match its digest ${p.digest}`,
      suggestions: ['make a new plan and review it again: mtls-kit deploy ... --plan-out plan.json'],
    });
  }
  return p as SavedPlan;
}
