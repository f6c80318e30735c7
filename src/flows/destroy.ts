/**
 * destroy's side effects: read what AWS holds for a trust store (read-only calls), then
 * carry out the plan of lib/deploy/destroy-plan.ts in its order: listeners to Mode=off, S3
 * objects, revocation lists, the trust store. Every step is idempotent, so a run killed at
 * any point is finished by the next one, and a run on nothing left makes no mutating call.
 */
import type {HeadObjectCommandOutput} from '@aws-sdk/client-s3';
import {summarizeCrl} from '../lib/deploy/crl-summary.js';
import type {DeployObject, DestroyPlan, DestroyResult, DestroyState} from '../lib/deploy/destroy-plan.js';
import {parseContentKey} from '../lib/deploy/plan.js';
import {BUNDLE_RECORD_KEY, bundleDigest, CRL_RECORD_PREFIX, decodeBundleRecord, decodeCrlRecord} from '../lib/deploy/record.js';
import {isMtlsKitError} from '../lib/errors.js';
import {type AwsClients, awsErrorCode, callAws, mapAwsError} from '../io/aws/clients.js';
import {findLease, leaseKey} from '../io/aws/lease.js';
import {removeRevocations} from '../io/aws/trust-store-write.js';
import {
  bundleFingerprints,
  describeListener,
  describeTags,
  describeTrustStore,
  heldBundleEtag,
  listListeners,
  readHeldBundle,
  readHeldRevocations,
  toSdkMutual,
  type TrustStoreSummary,
  trustStoreAssociations,
} from '../io/aws/trust-store-read.js';
import {plural} from '../lib/plural.js';

const MAX_PAGES = 50;

export interface DestroyTarget {
  bucket: string;
  prefix: string;
  /** --trust-store-name, or the name read from --trust-store-arn. */
  name?: string | undefined;
  arn?: string | undefined;
  listenerArns: string[];
  /** --delete-objects: find the objects deploy wrote under the prefix. */
  objects: boolean;
  /** --all-objects: every object deploy wrote there is deleted, so none need be downloaded to match it. */
  allObjects: boolean;
  expectedBucketOwner?: string | undefined;
}

export interface DestroyRead {
  /** The trust store's name (from the flag, from AWS, or from the ARN). */
  name: string;
  state: DestroyState;
}

/** The name inside a trust-store ARN (`...:truststore/<name>/<id>`), or the ARN itself. */
export function nameOfTrustStoreArn(arn: string): string {
  return /:truststore\/([^/]+)\//.exec(arn)?.[1] ?? arn;
}

/** Reads everything destroy plans from (read-only calls only). */
export async function readDestroyState(aws: AwsClients, t: DestroyTarget): Promise<DestroyRead> {
  const summary = t.arn ? await describeTrustStoreArn(aws, t.arn) : await describeTrustStore(aws, t.name!);
  const name = summary?.name ?? t.name ?? nameOfTrustStoreArn(t.arn!);
  const named: DestroyState['named'] = [];
  for (const arn of t.listenerArns) {
    try {
      named.push({arn, listener: await describeListener(aws, arn)});
    } catch (error) {
      if (isMtlsKitError(error) && error.code === 'LISTENER_NOT_FOUND') named.push({arn, listener: null});
      else throw error;
    }
  }
  const lease = t.objects ? await findLease(aws, t.bucket, leaseKey(t.prefix, name), t.expectedBucketOwner) : null;
  if (!summary)
    return {name, state: {trustStore: null, named, users: [], unreadable: [], objects: t.objects ? await deployObjects(aws, t, null) : null, lease}};

  const tags = await describeTags(aws, summary.arn);
  const tagOf = (key: string): string | undefined => tags.find((x) => x.key === key)?.value;
  const deployed = tags.some((x) => x.key.startsWith('mtls-kit:'));
  // What it holds, to tie objects to it: the CRLs' DER digests, from records or downloaded.
  const needContent = t.objects && !t.allObjects;
  const crlShas = new Set<string>();
  const held = await readHeldRevocations(aws, summary.arn, (id, entries) => {
    const facts = decodeCrlRecord(tagOf(`${CRL_RECORD_PREFIX}${id}`));
    if (facts && facts.entries === entries) {
      crlShas.add(facts.sha256);
      return false;
    }
    return needContent;
  });
  for (const h of held) if (h.summary) crlShas.add(h.summary.sha256);

  const users: string[] = [];
  const unreadable: string[] = [];
  for (const lb of await trustStoreAssociations(aws, summary.arn)) {
    try {
      for (const l of await listListeners(aws, lb))
        if (l.mutualAuthentication.mode === 'verify' && l.mutualAuthentication.trustStoreArn === summary.arn) users.push(l.arn);
    } catch (error) {
      // A load balancer of another account (a shared trust store) or one we may not read: in use, as far as we know.
      if (!isMtlsKitError(error)) throw error;
      unreadable.push(lb);
    }
  }
  const objects = t.objects
    ? await deployObjects(aws, t, needContent ? {bundleDigest: await heldBundleDigest(aws, summary, tagOf(BUNDLE_RECORD_KEY)), crlShas} : null)
    : null;
  return {
    name,
    state: {
      trustStore: {
        arn: summary.arn,
        name,
        status: summary.status,
        deployed,
        revocations: held.map((h) => ({revocationId: h.revocationId, entries: h.entries})),
      },
      named,
      users,
      unreadable,
      objects,
      lease,
    },
  };
}

async function describeTrustStoreArn(aws: AwsClients, arn: string): Promise<TrustStoreSummary | null> {
  try {
    const r = await aws.elbv2.send(new aws.elbv2Sdk.DescribeTrustStoresCommand({TrustStoreArns: [arn]}));
    const t = r.TrustStores?.[0];
    return t
      ? {
          arn: t.TrustStoreArn ?? arn,
          name: t.Name ?? '',
          status: t.Status ?? 'UNKNOWN',
          numberOfCaCertificates: t.NumberOfCaCertificates ?? 0,
          totalRevokedEntries: t.TotalRevokedEntries ?? 0,
        }
      : null;
  } catch (error) {
    if (awsErrorCode(error) === 'TrustStoreNotFound') return null;
    throw mapAwsError(error, {action: 'elasticloadbalancing:DescribeTrustStores', resource: arn});
  }
}

/** The digest of the certificates the trust store holds: deploy's record when the held copy is still the one it describes, else the downloaded copy. */
async function heldBundleDigest(aws: AwsClients, ts: TrustStoreSummary, recordTag: string | undefined): Promise<string> {
  const record = decodeBundleRecord(recordTag);
  if (record && record.count === ts.numberOfCaCertificates && (await heldBundleEtag(aws, ts.arn)) === record.etag) return record.digest;
  try {
    return bundleDigest(bundleFingerprints(await readHeldBundle(aws, ts.arn), `the bundle held by trust store ${ts.name}`));
  } catch (error) {
    if (isMtlsKitError(error) && error.exitCode === 5) throw error;
    return '';
  }
}

/**
 * The objects deploy wrote under the prefix: a content-addressed key (plan.ts contentKey)
 * whose `mtls-kit-sha256` metadata, which deploy sets on every upload, starts with the key's
 * digest. With `held`, each is downloaded and compared with what the trust store holds (the
 * bundle as a set of certificates, a CRL by the digest of its DER).
 */
async function deployObjects(aws: AwsClients, t: DestroyTarget, held: {bundleDigest: string; crlShas: Set<string>} | null): Promise<DeployObject[]> {
  const owner = t.expectedBucketOwner ? {ExpectedBucketOwner: t.expectedBucketOwner} : {};
  const out: DeployObject[] = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const r = await callAws({action: 's3:ListBucket', resource: `s3://${t.bucket}/${t.prefix}`}, () =>
      aws.s3.send(new aws.s3Sdk.ListObjectsV2Command({Bucket: t.bucket, Prefix: t.prefix, ...(token ? {ContinuationToken: token} : {}), ...owner})),
    );
    for (const o of r.Contents ?? []) {
      const key = o.Key ?? '';
      const parsed = parseContentKey(t.prefix, key);
      if (!parsed) continue;
      const ctx = {action: 's3:GetObject', resource: `s3://${t.bucket}/${key}`};
      let head: HeadObjectCommandOutput;
      try {
        head = await aws.s3.send(new aws.s3Sdk.HeadObjectCommand({Bucket: t.bucket, Key: key, ...owner}));
      } catch (error) {
        if ((error as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode === 404) continue; // deleted meanwhile
        throw mapAwsError(error, ctx);
      }
      if (!head.Metadata?.['mtls-kit-sha256']?.startsWith(parsed.sha256Prefix)) continue; // not written by deploy
      const versionId = head.VersionId && head.VersionId !== 'null' ? head.VersionId : null;
      let holds: DeployObject['holds'] = null;
      if (held) {
        const data = await callAws(ctx, async () =>
          (await aws.s3.send(new aws.s3Sdk.GetObjectCommand({Bucket: t.bucket, Key: key, ...owner}))).Body?.transformToByteArray(),
        );
        holds = data ? whatItHolds(data, key, held) : null;
      }
      out.push({key, holds, versionId});
    }
    token = r.NextContinuationToken;
    if (!token) break;
  }
  return out;
}

function whatItHolds(data: Uint8Array, key: string, held: {bundleDigest: string; crlShas: Set<string>}): DeployObject['holds'] {
  try {
    if (held.crlShas.has(summarizeCrl(data, key).sha256)) return 'crl';
  } catch {
    // not a CRL: perhaps a bundle
  }
  try {
    if (held.bundleDigest && bundleDigest(bundleFingerprints(data, key)) === held.bundleDigest) return 'bundle';
  } catch {
    // neither
  }
  return null;
}

export interface ExecuteDestroyParams {
  aws: AwsClients;
  target: DestroyTarget;
  name: string;
  plan: DestroyPlan;
  /** Whether the trust store carried deploy's records. */
  deployed: boolean | null;
  dryRun: boolean;
  /** Told before each step (progress on stderr). */
  onStep?: (line: string) => void;
}

/** Carries out the plan (or, with dryRun, only describes it) and returns the destroy result. */
export async function executeDestroy(p: ExecuteDestroyParams): Promise<DestroyResult> {
  const {aws, plan, target: t} = p;
  const elb = aws.elbv2Sdk;
  const step = p.dryRun ? () => {} : (p.onStep ?? (() => {}));
  const owner = t.expectedBucketOwner ? {ExpectedBucketOwner: t.expectedBucketOwner} : {};
  let versioned = (plan.objects?.delete ?? []).concat(plan.objects?.keep ?? []).some((o) => o.versionId !== null);

  // 1. Listeners: Mode=off (idempotent, so the SDK's own retries are safe).
  for (const l of plan.listeners.filter((x) => x.action === 'detach')) {
    step(`detaching listener ${l.arn} (Mode=off)`);
    if (!p.dryRun)
      await callAws({action: 'elasticloadbalancing:ModifyListener', resource: l.arn}, () =>
        aws.elbv2.send(new elb.ModifyListenerCommand({ListenerArn: l.arn, MutualAuthentication: toSdkMutual(l.after!)})),
      );
  }
  // 2. Objects, while the trust store still holds what ties them to it.
  for (const o of plan.objects?.delete ?? []) {
    step(`deleting s3://${t.bucket}/${o.key}`);
    if (p.dryRun) continue;
    const r = await callAws({action: 's3:DeleteObject', resource: `s3://${t.bucket}/${o.key}`}, () =>
      aws.s3.send(new aws.s3Sdk.DeleteObjectCommand({Bucket: t.bucket, Key: o.key, ...owner})),
    );
    if (r.DeleteMarker) versioned = true;
  }
  // 3. Revocation lists (RemoveTrustStoreRevocations reads back after a failure).
  if (plan.trustStore.arn && plan.revocations.length > 0) {
    step(`removing ${plural(plan.revocations.length, 'revocation list')}`);
    if (!p.dryRun)
      await removeRevocations(
        aws,
        plan.trustStore.arn,
        plan.revocations.map((r) => r.revocationId),
      );
  }
  // 4. The trust store; TrustStoreNotFound after a lost answer means it is gone.
  if (plan.trustStore.arn) {
    const arn = plan.trustStore.arn;
    step(`deleting trust store ${p.name}`);
    if (!p.dryRun) {
      try {
        await callAws({action: 'elasticloadbalancing:DeleteTrustStore', resource: arn}, () =>
          aws.elbv2.send(new elb.DeleteTrustStoreCommand({TrustStoreArn: arn})),
        );
      } catch (error) {
        if (!(isMtlsKitError(error) && error.code === 'TRUST_STORE_NOT_FOUND')) throw error;
      }
    }
  }

  const uri = (key: string): string => `s3://${t.bucket}/${key}`;
  return {
    dryRun: p.dryRun,
    region: aws.region,
    bucket: t.bucket,
    changed: plan.changes,
    summary: summarize(plan, p.name, p.dryRun),
    trustStore: {name: p.name, arn: plan.trustStore.arn, action: plan.trustStore.action, deployed: p.deployed},
    listeners: plan.listeners,
    revocations: {removed: plan.revocations},
    objects: {
      requested: plan.objects !== null,
      deleted: [
        ...(plan.objects?.delete ?? []).map((o) => ({key: o.key, uri: uri(o.key), holds: o.holds, versionId: o.versionId})),
        // Deleted by the lease's release at the end of the run (destroy holds it meanwhile).
        ...(plan.lease ? [{key: plan.lease.key, uri: uri(plan.lease.key), holds: 'lease' as const, versionId: null}] : []),
      ],
      kept: (plan.objects?.keep ?? []).map((o) => ({key: o.key, uri: uri(o.key), versionId: o.versionId})),
      versioned,
    },
  };
}

function summarize(plan: DestroyPlan, name: string, dryRun: boolean): string {
  if (!plan.changes) return 'nothing to destroy';
  const parts: string[] = [];
  const detached = plan.listeners.filter((l) => l.action === 'detach').length;
  if (detached) parts.push(`${dryRun ? 'detach' : 'detached'} ${plural(detached, 'listener')}`);
  const objects = plan.objects?.delete.length ?? 0;
  if (objects) parts.push(`${dryRun ? 'delete' : 'deleted'} ${plural(objects, 'S3 object')}`);
  if (plan.revocations.length) parts.push(`${dryRun ? 'remove' : 'removed'} ${plural(plan.revocations.length, 'revocation list')}`);
  if (plan.trustStore.action === 'delete') parts.push(`${dryRun ? 'delete' : 'deleted'} trust store ${name}`);
  if (plan.lease) parts.push(`${dryRun ? 'delete' : 'deleted'} the deploy lease ${plan.lease.key}`);
  return (dryRun ? 'would ' : '') + parts.join(', ');
}
