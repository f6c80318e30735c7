/**
 * The AWS side of `deploy`, `status` and `destroy --cloudfront-trust-store` (aws-reference
 * 11.1, 11.2): lints the CA bundle, uploads it to S3 under a content-addressed key, creates
 * or updates the account-level CloudFront trust store from it (ETag in If-Match), waits until
 * it is active, records the bundle's digest beside it, and sets each named distribution's
 * ViewerMtlsConfig (GetDistributionConfig, then UpdateDistribution with its ETag) only when it
 * differs. Decisions are in src/lib/cloudfront/deploy-plan.ts. A deploy with changes holds the
 * deploy lease of src/io/aws/lease.ts (`<prefix>locks/cloudfront/<name>.json`) while it runs,
 * and plans again from what it reads under it; destroy takes the same lease (src/commands/destroy.ts).
 */
import {createHash} from 'node:crypto';
import type {CloudFrontClient, DistributionConfig} from '@aws-sdk/client-cloudfront';
import {deployLintSummary, lintFiles} from '../lib/alb/lint.js';
import {
  type CloudfrontDeployResult,
  type CloudfrontDestroyResult,
  type CloudfrontRecord,
  type CloudfrontStatusResult,
  type CloudfrontTrustStoreState,
  cloudfrontBundleKey,
  cloudfrontChecks,
  cloudfrontRecordKey,
  planCloudfrontDeploy,
  type ViewerMtls,
  type ViewerMtlsMode,
  wantedViewerMtls,
} from '../lib/cloudfront/deploy-plan.js';
import {ExitCode, MtlsKitError, preconditionError} from '../lib/errors.js';
import {readCertificates} from '../lib/x509/read-certs.js';
import {type OnProgress, report} from './progress.js';
import {type AwsCallContext, type AwsClients, type AwsParams, awsFailure, commonJs, createAwsClients, mapAwsError, sdkClientConfig} from '../io/aws/clients.js';
import {caPaths} from '../io/ca/directory.js';
import {pathExists, readInput} from '../io/files.js';
import {checkBucket, getObject, putObject, statObjects} from '../io/aws/trust-store-read.js';
import {acquireDeployLease, cloudfrontLeaseKey, findLease} from '../io/aws/lease.js';
import {plural} from '../lib/plural.js';

/** CloudFront is global; its API is signed for us-east-1 (https://docs.aws.amazon.com/general/latest/gr/cf_region.html). */
export const CLOUDFRONT_SIGNING_REGION = 'us-east-1';

export interface CloudfrontClients {
  aws: AwsClients;
  cf: CloudFrontClient;
  sdk: typeof import('@aws-sdk/client-cloudfront');
}

/** S3 as for the ALB path, plus the CloudFront client (endpoint: --endpoint-url, AWS_ENDPOINT_URL_CLOUDFRONT, AWS_ENDPOINT_URL). */
export async function createCloudfrontClients(p: AwsParams): Promise<CloudfrontClients> {
  const aws = await createAwsClients(p);
  const sdk = commonJs(await import('@aws-sdk/client-cloudfront'));
  return {aws, cf: new sdk.CloudFrontClient({...sdkClientConfig(p), region: CLOUDFRONT_SIGNING_REGION}), sdk};
}

/** CloudFront error codes → what to do (other codes: mapAwsError). */
async function callCf<T>(ctx: AwsCallContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const {code, e, make} = awsFailure(error, ctx);
    switch (code) {
      case 'NoSuchDistribution':
        throw make('CLOUDFRONT_DISTRIBUTION_NOT_FOUND', `CloudFront distribution ${ctx.resource ?? '?'} does not exist`, [
          'check --distribution (the distribution id, e.g. E2QWRUHAPOMQZL): aws cloudfront list-distributions --query "DistributionList.Items[].Id"',
        ]);
      case 'PreconditionFailed':
      case 'InvalidIfMatchVersion':
        throw make(
          'CLOUDFRONT_CHANGED_CONCURRENTLY',
          `${ctx.action} on ${ctx.resource ?? '?'}: CloudFront refused the ETag (${code}); someone changed it meanwhile`,
          ['re-run the command: it reads the current ETag again (it is idempotent)'],
        );
      case 'CannotDeleteEntityWhileInUse':
        throw make('CLOUDFRONT_TRUST_STORE_IN_USE', `trust store ${ctx.resource ?? '?'} is still associated with a distribution: ${e.message ?? ''}`, [
          'name every distribution that uses it with --distribution, or wait until their update is deployed, then re-run',
        ]);
      case 'InvalidArgument':
      case 'EntityLimitExceeded':
      case 'EntityAlreadyExists':
      case 'IllegalUpdate':
        throw make('CLOUDFRONT_BAD_REQUEST', `CloudFront refused ${ctx.action} on ${ctx.resource ?? '?'}: ${e.message ?? code}`, [
          'CloudFront reads the bundle from S3 with your credentials: check that the object exists and that you may s3:GetObject it',
          `check the file with: mtls-kit lint ${ctx.file ?? 'ca-bundle.pem'}`,
        ]);
      default:
        throw mapAwsError(error, ctx);
    }
  }
}

/** The trust store named `name` (ListTrustStores, paged; at most 50 pages), or null. */
async function findTrustStore(c: CloudfrontClients, name: string): Promise<CloudfrontTrustStoreState | null> {
  let marker: string | undefined;
  for (let page = 0; page < 50; page++) {
    const r = await callCf({action: 'cloudfront:ListTrustStores'}, () =>
      c.cf.send(new c.sdk.ListTrustStoresCommand({...(marker ? {Marker: marker} : {}), MaxItems: 100})),
    );
    const hit = (r.TrustStoreList ?? []).find((t) => t.Name === name);
    if (hit?.Id) return readTrustStore(c, hit.Id);
    marker = r.NextMarker || undefined;
    if (!marker) return null;
  }
  return null;
}

async function readTrustStore(c: CloudfrontClients, id: string): Promise<CloudfrontTrustStoreState> {
  const g = await callCf({action: 'cloudfront:GetTrustStore', resource: id}, () => c.cf.send(new c.sdk.GetTrustStoreCommand({Identifier: id})));
  const t = g.TrustStore ?? {};
  return {
    id: t.Id ?? id,
    arn: t.Arn ?? '',
    status: t.Status ?? 'pending',
    numberOfCaCertificates: t.NumberOfCaCertificates ?? 0,
    ocsp: t.UseClientCertificateOCSPEndpoint ?? false,
    etag: g.ETag ?? '',
    reason: t.Reason ?? null,
  };
}

function viewerMtlsOf(config: DistributionConfig | undefined): ViewerMtls | null {
  const v = config?.ViewerMtlsConfig;
  if (!v) return null;
  return {
    mode: v.Mode ?? 'required',
    trustStoreId: v.TrustStoreConfig?.TrustStoreId ?? null,
    advertiseTrustStoreCaNames: v.TrustStoreConfig?.AdvertiseTrustStoreCaNames ?? false,
    ignoreCertificateExpiry: v.TrustStoreConfig?.IgnoreCertificateExpiry ?? false,
  };
}

async function readDistribution(c: CloudfrontClients, id: string): Promise<{config: DistributionConfig; etag: string}> {
  const r = await callCf({action: 'cloudfront:GetDistributionConfig', resource: id}, () => c.cf.send(new c.sdk.GetDistributionConfigCommand({Id: id})));
  return {config: r.DistributionConfig ?? ({} as DistributionConfig), etag: r.ETag ?? ''};
}

/** Sets (or with null removes) a distribution's ViewerMtlsConfig, reading its config and ETag first. */
async function setViewerMtls(c: CloudfrontClients, id: string, to: ViewerMtls | null): Promise<void> {
  const d = await readDistribution(c, id);
  const config: DistributionConfig = {...d.config};
  if (to)
    config.ViewerMtlsConfig = {
      Mode: to.mode as ViewerMtlsMode,
      TrustStoreConfig: {
        TrustStoreId: to.trustStoreId ?? '',
        AdvertiseTrustStoreCaNames: to.advertiseTrustStoreCaNames,
        IgnoreCertificateExpiry: to.ignoreCertificateExpiry,
      },
    };
  else delete config.ViewerMtlsConfig;
  await callCf({action: 'cloudfront:UpdateDistribution', resource: id}, () =>
    c.cf.send(new c.sdk.UpdateDistributionCommand({Id: id, IfMatch: d.etag, DistributionConfig: config})),
  );
}

async function readRecord(c: CloudfrontClients, bucket: string, key: string): Promise<CloudfrontRecord | null> {
  const data = await getObject(c.aws, bucket, key);
  if (!data) return null;
  try {
    const r = JSON.parse(Buffer.from(data).toString('utf8')) as Partial<CloudfrontRecord>;
    return typeof r.trustStoreId === 'string' && typeof r.sha256 === 'string' && typeof r.key === 'string' ? (r as CloudfrontRecord) : null;
  } catch {
    return null;
  }
}

interface LocalBundle {
  path: string;
  data: Uint8Array;
  sha256: string;
  certificates: number;
}

/**
 * Reads and lints the bundle. CloudFront documents no bundle rules of its own (aws-reference
 * 11.1, UNCONFIRMED), so the ALB lint applies, as for the local CloudFront policy.
 */
async function readLocal(p: {
  dir: string;
  bundle: string | undefined;
  now: Date;
  failOnLint: boolean;
  onProgress?: OnProgress | undefined;
}): Promise<LocalBundle> {
  const path = p.bundle ?? caPaths(p.dir).bundle;
  if (!p.bundle && !(await pathExists(path)))
    throw preconditionError('BUNDLE_NOT_FOUND', `${path} does not exist`, [
      `create a CA first: mtls-kit gen-ca --dir ${p.dir}`,
      'or pass --ca-bundle ca-bundle.pem',
    ]);
  const data = new Uint8Array(await readInput(path));
  const summary = deployLintSummary(lintFiles([{path, data}], {target: 'alb', now: p.now, warnDays: 7}));
  const errors = summary.findings.filter((f) => f.severity === 'error');
  if (errors.length > 0 && p.failOnLint)
    throw new MtlsKitError({
      code: 'LINT_FAILED',
      message: `${plural(errors.length, 'lint error')} in ${path}; nothing was uploaded`,
      suggestions: errors.map((f) => `${f.message} → ${f.fix}`),
      details: {findings: summary.findings},
    });
  for (const f of summary.findings.filter((x) => x.severity === 'warning')) report(p.onProgress, {kind: 'warning', text: `${f.file}: ${f.message} (${f.fix})`});
  return {path, data, sha256: createHash('sha256').update(data).digest('hex'), certificates: readCertificates(data, path).length};
}

export interface CloudfrontDeployParams {
  clients: CloudfrontClients;
  dir: string;
  bundle: string | undefined;
  bucket: string;
  prefix: string;
  name: string;
  distributions: string[];
  mode: ViewerMtlsMode;
  advertiseCaNames: boolean;
  ignoreCertificateExpiry: boolean;
  ocsp: boolean;
  dryRun: boolean;
  waitTimeoutMs: number;
  pollIntervalMs: number;
  now: Date;
  onProgress?: OnProgress | undefined;
  /**
   * The deploy lease (src/io/aws/lease.ts, key cloudfrontLeaseKey): a run with changes takes
   * it, waiting at most waitMs for another deploy or destroy of this trust store, then reads
   * the state again and plans from it. --dry-run and runs with nothing to change take none.
   */
  lease: {waitMs: number; ttlMs: number};
}

interface Read {
  key: string;
  recordKey: string;
  trustStore: CloudfrontTrustStoreState | null;
  plan: ReturnType<typeof planCloudfrontDeploy>;
}

export type PlanParams = Omit<CloudfrontDeployParams, 'dryRun' | 'waitTimeoutMs' | 'pollIntervalMs' | 'lease'>;

/** Reads what AWS holds for the bundle `local` (S3 object, trust store, record, distributions) and plans. */
async function readRemoteAndPlan(p: PlanParams, local: LocalBundle): Promise<Read> {
  const c = p.clients;
  await checkBucket(c.aws, p.bucket);
  const key = cloudfrontBundleKey(p.prefix, local.sha256);
  const recordKey = cloudfrontRecordKey(p.prefix, p.name);
  const [object] = await statObjects(c.aws, p.bucket, [key]);
  const trustStore = await findTrustStore(c, p.name);
  const record = trustStore ? await readRecord(c, p.bucket, recordKey) : null;
  const distributions: Array<{id: string; current: ViewerMtls | null}> = [];
  for (const id of p.distributions) distributions.push({id, current: viewerMtlsOf((await readDistribution(c, id)).config)});
  const plan = planCloudfrontDeploy({
    localSha256: local.sha256,
    bundleUploaded: Boolean(object?.exists),
    trustStore,
    record,
    ocsp: p.ocsp,
    wanted: {mode: p.mode, advertiseTrustStoreCaNames: p.advertiseCaNames, ignoreCertificateExpiry: p.ignoreCertificateExpiry},
    distributions,
  });
  return {key, recordKey, trustStore, plan};
}

async function readAndPlan(p: PlanParams, failOnLint: boolean): Promise<Read & {local: LocalBundle}> {
  const local = await readLocal({dir: p.dir, bundle: p.bundle, now: p.now, failOnLint, onProgress: p.onProgress});
  return {local, ...(await readRemoteAndPlan(p, local))};
}

/** Polls GetTrustStore until active. @throws CLOUDFRONT_TRUST_STORE_NOT_ACTIVE (exit 5) when it failed or after the timeout. */
async function waitActive(c: CloudfrontClients, id: string, timeoutMs: number, intervalMs: number): Promise<CloudfrontTrustStoreState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = await readTrustStore(c, id);
    if (t.status === 'active') return t;
    if (t.status === 'failed' || Date.now() >= deadline)
      throw new MtlsKitError({
        code: 'CLOUDFRONT_TRUST_STORE_NOT_ACTIVE',
        message: `CloudFront trust store ${id} is ${t.status}${t.reason ? ` (${t.reason})` : ''}${t.status === 'failed' ? '' : ` after ${Math.round(timeoutMs / 1000)} s`}`,
        suggestions:
          t.status === 'failed'
            ? ['fix the bundle (mtls-kit lint), then re-run deploy']
            : ['re-run deploy later with a longer --wait-timeout (it is idempotent)'],
        exitCode: ExitCode.Aws,
      });
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * deploy --cloudfront-trust-store: upload, create or update the trust store, wait until
 * active, record the digest, set each distribution's viewer mTLS; a second run changes nothing.
 * @throws MtlsKitError LINT_FAILED (4), CLOUDFRONT_* and AWS errors (5).
 */
export async function runCloudfrontDeploy(p: CloudfrontDeployParams): Promise<CloudfrontDeployResult> {
  const c = p.clients;
  const first = await readAndPlan(p, true);
  const {local} = first;
  // One deploy at a time per trust store, as for ALB trust stores (docs/deploy.md "Concurrent runs").
  const lease =
    first.plan.changes && !p.dryRun
      ? await acquireDeployLease(c.aws, {
          bucket: p.bucket,
          prefix: p.prefix,
          trustStoreName: p.name,
          key: cloudfrontLeaseKey(p.prefix, p.name),
          ttlMs: p.lease.ttlMs,
          waitMs: p.lease.waitMs,
          onWait: (h) =>
            report(p.onProgress, {
              kind: 'warning',
              text: `another deploy of CloudFront trust store ${p.name} is running (pid ${h.pid} on ${h.host}, since ${h.started}); waiting up to ${Math.round(p.lease.waitMs / 1000)}s`,
            }),
        })
      : null;
  try {
    // Under the lease, plan from what a concurrent run may have left.
    return await execute(p, local, lease ? await readRemoteAndPlan(p, local) : first);
  } finally {
    await lease?.release();
  }
}

async function execute(p: CloudfrontDeployParams, local: LocalBundle, read: Read): Promise<CloudfrontDeployResult> {
  const c = p.clients;
  const {key, recordKey, trustStore, plan} = read;
  const location = {Bucket: p.bucket, Key: key, Region: c.aws.region};
  let ts = trustStore;
  if (!p.dryRun) {
    if (plan.upload === 'upload') await putObject(c.aws, p.bucket, key, local.data, local.sha256);
    if (plan.trustStore.action === 'create') {
      const r = await callCf({action: 'cloudfront:CreateTrustStore', resource: p.name, file: local.path}, () =>
        c.cf.send(
          new c.sdk.CreateTrustStoreCommand({
            Name: p.name,
            CaCertificatesBundleSource: {CaCertificatesBundleS3Location: location},
            UseClientCertificateOCSPEndpoint: p.ocsp,
          }),
        ),
      );
      ts = await readTrustStore(c, r.TrustStore?.Id ?? '');
    } else if (plan.trustStore.action === 'update' && ts) {
      const id = ts.id;
      await callCf({action: 'cloudfront:UpdateTrustStore', resource: id, file: local.path}, () =>
        c.cf.send(
          new c.sdk.UpdateTrustStoreCommand({
            Id: id,
            IfMatch: ts!.etag,
            CaCertificatesBundleSource: {CaCertificatesBundleS3Location: location},
            UseClientCertificateOCSPEndpoint: p.ocsp,
          }),
        ),
      );
    }
    if (plan.trustStore.action !== 'unchanged' && ts) {
      report(p.onProgress, {kind: 'note', text: `waiting for CloudFront trust store ${p.name} to become active`});
      ts = await waitActive(c, ts.id, p.waitTimeoutMs, p.pollIntervalMs);
      const record: CloudfrontRecord = {trustStoreId: ts.id, sha256: local.sha256, key};
      const body = new TextEncoder().encode(`${JSON.stringify(record)}\n`);
      await putObject(c.aws, p.bucket, recordKey, body, createHash('sha256').update(body).digest('hex'));
    }
    for (const d of plan.distributions)
      if (d.action === 'update')
        await setViewerMtls(
          c,
          d.id,
          wantedViewerMtls({mode: p.mode, advertiseTrustStoreCaNames: p.advertiseCaNames, ignoreCertificateExpiry: p.ignoreCertificateExpiry}, ts!.id),
        );
  }
  const want = (id: string | null): ViewerMtls =>
    wantedViewerMtls({mode: p.mode, advertiseTrustStoreCaNames: p.advertiseCaNames, ignoreCertificateExpiry: p.ignoreCertificateExpiry}, id);
  const parts: string[] = [];
  const verb = (done: string, planned: string): string => (p.dryRun ? planned : done);
  if (plan.upload === 'upload') parts.push(verb('uploaded the bundle', 'upload the bundle'));
  if (plan.trustStore.action === 'create') parts.push(verb(`created trust store ${p.name}`, `create trust store ${p.name}`));
  if (plan.trustStore.action === 'update') parts.push(verb(`updated trust store ${p.name}`, `update trust store ${p.name}`));
  const changedDists = plan.distributions.filter((d) => d.action === 'update').map((d) => d.id);
  if (changedDists.length) parts.push(verb(`set viewer mTLS on ${changedDists.join(', ')}`, `set viewer mTLS on ${changedDists.join(', ')}`));
  return {
    target: 'cloudfront',
    dryRun: p.dryRun,
    changed: plan.changes,
    summary: plan.changes ? (p.dryRun ? 'would ' : '') + parts.join(', ') : 'unchanged',
    bucket: p.bucket,
    bundle: {path: local.path, key, sha256: local.sha256, certificates: local.certificates, action: plan.upload},
    trustStore: {
      name: p.name,
      action: plan.trustStore.action,
      reason: plan.trustStore.reason,
      id: ts?.id ?? null,
      arn: ts?.arn || null,
      status: ts?.status ?? null,
      numberOfCaCertificates: ts?.numberOfCaCertificates ?? null,
      ocsp: p.ocsp,
    },
    distributions: plan.distributions.map((d) => ({id: d.id, action: d.action, reason: d.reason, from: d.from, to: want(ts?.id ?? null)})),
  };
}

/** status --cloudfront-trust-store: what deploy would change, as checks (read calls only). */
export async function runCloudfrontStatus(p: PlanParams): Promise<CloudfrontStatusResult> {
  const {key, trustStore, plan} = await readAndPlan(p, false);
  const checks = cloudfrontChecks(plan, p.name, key);
  return {
    target: 'cloudfront',
    drift: checks.some((x) => !x.ok),
    bucket: p.bucket,
    trustStore: {
      name: p.name,
      id: trustStore?.id ?? null,
      arn: trustStore?.arn || null,
      status: trustStore?.status ?? null,
      numberOfCaCertificates: trustStore?.numberOfCaCertificates ?? null,
      ocsp: trustStore?.ocsp ?? null,
    },
    distributions: plan.distributions.map((d) => ({id: d.id, viewerMtls: d.from})),
    checks,
  };
}

export interface CloudfrontDestroyParams {
  clients: CloudfrontClients;
  bucket: string;
  prefix: string;
  name: string;
  distributions: string[];
  dryRun: boolean;
  expectedBucketOwner?: string | undefined;
  /**
   * Under destroy's own lease: the lease left over before it (leaseLeftUnder), as the lease
   * object in the bucket is now its own. Unset: read from the bucket (findLease).
   */
  leftLease?: {key: string} | null;
}

/**
 * destroy --cloudfront-trust-store: turns viewer mTLS off on each named distribution that
 * uses the trust store, then deletes the trust store and deploy's record (the bundle objects
 * stay). Refuses (exit 4) when a distribution that is not named uses it. A deploy lease in
 * the bucket (`cloudfrontLeaseKey`) is a change as for the ALB destroy: the caller takes it
 * (over, when its holder is gone or it expired) and its release deletes it.
 */
export async function runCloudfrontDestroy(p: CloudfrontDestroyParams): Promise<CloudfrontDestroyResult> {
  const c = p.clients;
  const ts = await findTrustStore(c, p.name);
  const named: CloudfrontDestroyResult['distributions'] = [];
  for (const id of p.distributions) {
    const v = viewerMtlsOf((await readDistribution(c, id)).config);
    named.push(
      ts && v?.trustStoreId === ts.id
        ? {id, action: 'turn-off', reason: `viewer mTLS uses trust store ${ts.id}`}
        : {id, action: 'unchanged', reason: v ? `uses ${v.trustStoreId ?? 'no trust store'}` : 'viewer mTLS is off'},
    );
  }
  if (ts) {
    const users = await callCf({action: 'cloudfront:ListDistributionsByTrustStore', resource: ts.id}, () =>
      c.cf.send(new c.sdk.ListDistributionsByTrustStoreCommand({TrustStoreIdentifier: ts.id, MaxItems: 100})),
    );
    const others = (users.DistributionList?.Items ?? []).map((d) => d.Id ?? '').filter((id) => id && !p.distributions.includes(id));
    if (others.length > 0)
      throw preconditionError(
        'CLOUDFRONT_TRUST_STORE_IN_USE',
        `trust store ${p.name} is used by ${others.length === 1 ? 'distribution' : 'distributions'} ${others.join(', ')}, which ${others.length === 1 ? 'was' : 'were'} not named`,
        [`name them too: ${others.map((o) => `--distribution ${o}`).join(' ')}`],
      );
  }
  const lease = p.leftLease !== undefined ? p.leftLease : await findLease(c.aws, p.bucket, cloudfrontLeaseKey(p.prefix, p.name), p.expectedBucketOwner);
  if (!p.dryRun) {
    for (const d of named) if (d.action === 'turn-off') await setViewerMtls(c, d.id, null);
    if (ts) {
      const fresh = await readTrustStore(c, ts.id);
      await callCf({action: 'cloudfront:DeleteTrustStore', resource: ts.id}, () =>
        c.cf.send(new c.sdk.DeleteTrustStoreCommand({Id: ts.id, IfMatch: fresh.etag})),
      );
      const recordKey = cloudfrontRecordKey(p.prefix, p.name);
      await c.aws.s3.send(new c.aws.s3Sdk.DeleteObjectCommand({Bucket: p.bucket, Key: recordKey})).catch((error: unknown) => {
        throw mapAwsError(error, {action: 's3:DeleteObject', resource: `s3://${p.bucket}/${recordKey}`});
      });
    }
  }
  const changed = Boolean(ts) || named.some((d) => d.action === 'turn-off') || lease !== null;
  const off = named.filter((d) => d.action === 'turn-off').map((d) => d.id);
  const parts = [
    ...(off.length ? [`turn off viewer mTLS on ${off.join(', ')}`] : []),
    ...(ts ? [`delete trust store ${p.name}`] : []),
    ...(lease ? [`delete the deploy lease ${lease.key}`] : []),
  ];
  return {
    target: 'cloudfront',
    dryRun: p.dryRun,
    changed,
    summary: changed ? `${p.dryRun ? 'would ' : ''}${parts.join(', ')}` : `nothing left: no trust store ${p.name}`,
    trustStore: {name: p.name, id: ts?.id ?? null, action: ts ? 'delete' : 'absent'},
    distributions: named,
    // Deleted by the lease's release at the end of the run (destroy holds it meanwhile).
    lease: lease ? {key: lease.key, uri: `s3://${p.bucket}/${lease.key}`} : null,
  };
}
