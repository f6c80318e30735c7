/**
 * deploy's side effects, in the order: read and lint the local files, read the
 * remote state, then apply the plan (upload, trust store, wait, revocations add then
 * remove, listener). The decisions are in lib/deploy-plan.ts; this file only carries them out.
 */
import {createHash} from 'node:crypto';
import {basename, dirname} from 'node:path';
import type {DeployResult} from '../lib/deploy/result.js';
import {summarizeCrl} from '../lib/deploy/crl-summary.js';
import {contentKey, type DeployPlan, type ListenerTarget, type LocalState, type MutualAuthentication, type RemoteState} from '../lib/deploy/plan.js';
import {isMtlsKitError, MtlsKitError, preconditionError} from '../lib/errors.js';
import {lintFiles, type LintFinding} from '../lib/alb/lint.js';
import {err as c, printErr, warn} from '../ui/output.js';
import {type AwsCallContext, type AwsClients, callAws} from './aws.js';
import {caPaths, currentCrlPaths} from './ca-store.js';
import {pathExists, readInput} from './files.js';
import {bundleFingerprints, checkBucket, describeListener, findListenerOnPort, putObject, readTrustStore, statObjects, toSdkMutual, type TrustStoreSummary, waitForActive} from './trust-store-remote.js';

export interface LocalFile {
  kind: 'bundle' | 'crl';
  path: string;
  key: string;
  data: Uint8Array;
  sha256: string;
}

export interface DeployInputs {
  local: LocalState;
  files: LocalFile[];
  lint: DeployResult['lint'];
}

export interface ReadDeployInputsParams {
  dir: string;
  bundle: string | undefined;
  /** undefined = the CA directory's current CRLs. */
  crls: string[] | undefined;
  prefix: string;
  trustStoreName: string;
  listener: ListenerTarget | null;
  mutualAuthentication: Omit<MutualAuthentication, 'trustStoreArn'>;
  now: Date;
  /** No warnings on stderr (--json). */
  quiet: boolean;
  /** deploy stops on lint errors; status only reports them (default true). */
  failOnLint?: boolean;
}

/** Days before nextUpdate when lint warns about a CRL (status uses the same window). */
export const CRL_WARN_DAYS = 7;

/**
 * Reads the bundle and CRLs, lints them (deploy step 1) and computes their keys.
 * @throws MtlsKitError LINT_FAILED (exit 4) with every finding, before anything is sent to AWS
 *   (unless `failOnLint` is false).
 */
export async function readDeployInputs(p: ReadDeployInputsParams): Promise<DeployInputs> {
  const paths = caPaths(p.dir);
  const bundlePath = p.bundle ?? paths.bundle;
  if (!p.bundle && !(await pathExists(bundlePath))) {
    throw preconditionError('BUNDLE_NOT_FOUND', `${bundlePath} does not exist`, [`create a CA first: mtls-kit gen-ca --dir ${p.dir}`, 'or pass --ca-bundle FILE']);
  }
  const crlPaths = p.crls ?? (await currentCrlPaths(p.dir));
  const bundleData = await readInput(bundlePath);
  const crlData = await Promise.all(crlPaths.map(async (path) => ({path, data: await readInput(path)})));

  const lint = lintFiles([{path: bundlePath, data: bundleData}, ...crlData], {target: 'alb', now: p.now, warnDays: CRL_WARN_DAYS});
  const findings = lint.findings.map((f: LintFinding) => ({severity: f.severity, rule: f.rule, file: f.file, message: f.message, fix: f.fix}));
  if (lint.errors > 0 && p.failOnLint !== false) {
    const errors = findings.filter((f) => f.severity === 'error');
    throw new MtlsKitError({
      code: 'LINT_FAILED',
      message: `${errors.length} lint error(s) in ${[...new Set(errors.map((f) => f.file))].join(', ')}; nothing was uploaded`,
      suggestions: errors.map((f) => `${f.file}: ${f.message} → ${f.fix}`),
      details: {findings},
    });
  }
  if (!p.quiet) for (const f of findings.filter((x) => x.severity === 'warning')) warn(`${f.file}: ${f.message} (${f.fix})`);

  const sha = (d: Uint8Array): string => createHash('sha256').update(d).digest('hex');
  const md5 = (d: Uint8Array): string => createHash('md5').update(d).digest('hex');
  const bundleSha = sha(bundleData);
  const files: LocalFile[] = [{kind: 'bundle', path: bundlePath, key: contentKey(p.prefix, 'ca-bundle', bundleSha), data: bundleData, sha256: bundleSha}];
  const crls: LocalState['crls'] = [];
  for (const {path, data} of crlData) {
    const s = sha(data);
    // root/crl.pem → "root-crl": the tier stays readable in the bucket listing.
    const base = `${basename(dirname(path))}-${basename(path).replace(/\.[^.]*$/, '')}`.replace(/[^A-Za-z0-9._-]/g, '_');
    const key = contentKey(p.prefix, base, s);
    files.push({kind: 'crl', path, key, data, sha256: s});
    crls.push({path, key, summary: summarizeCrl(data, path)});
  }
  const local: LocalState = {
    trustStoreName: p.trustStoreName,
    objects: files.map((f) => ({kind: f.kind, path: f.path, key: f.key, md5: md5(f.data)})),
    bundleCertificates: bundleFingerprints(bundleData, bundlePath),
    crls,
    listener: p.listener,
    mutualAuthentication: p.mutualAuthentication,
  };
  return {local, files, lint: {errors: lint.errors, warnings: lint.warnings, findings}};
}

export interface RemoteRead {
  state: RemoteState;
  trustStore: TrustStoreSummary | null;
}

/** Reads what AWS holds for these inputs (read-only calls only). */
export async function readRemoteState(aws: AwsClients, bucket: string, inputs: DeployInputs): Promise<RemoteRead> {
  await checkBucket(aws, bucket);
  const objects = await statObjects(aws, bucket, inputs.files.map((f) => f.key));
  const ts = await readTrustStore(aws, inputs.local.trustStoreName);
  const target = inputs.local.listener;
  let listener: RemoteState['listener'] = null;
  if (target?.kind === 'existing') listener = await describeListener(aws, target.listenerArn);
  else if (target?.kind === 'create') listener = await findListenerOnPort(aws, target.loadBalancerArn, target.port);
  if (listener && listener.protocol !== 'HTTPS') {
    throw preconditionError('LISTENER_NOT_HTTPS', `listener ${listener.arn} (port ${listener.port}) is ${listener.protocol}; mutual TLS needs an HTTPS listener`, ['pass an HTTPS listener with --listener-arn, or create one with --load-balancer-arn --port 443 --certificate-arn --target-group-arn']);
  }
  return {state: {objects, trustStore: ts?.remote ?? null, listener}, trustStore: ts?.summary ?? null};
}

export interface ExecuteDeployParams {
  aws: AwsClients;
  bucket: string;
  inputs: DeployInputs;
  remote: RemoteRead;
  plan: DeployPlan;
  dryRun: boolean;
  waitTimeoutMs: number;
  pollIntervalMs: number;
  progress: boolean;
}

/** Applies the plan (or, with dryRun, only describes it) and returns the deploy result. */
export async function executeDeploy(p: ExecuteDeployParams): Promise<DeployResult> {
  const {aws, bucket, inputs, plan} = p;
  const elb = aws.elbv2Sdk;
  const versions = new Map<string, string>();
  for (const u of plan.uploads) if (u.versionId) versions.set(u.key, u.versionId);
  const fileOf = (key: string): LocalFile => inputs.files.find((f) => f.key === key)!;

  // Step 2: uploads (content-addressed; unchanged objects are skipped).
  if (!p.dryRun) {
    for (const u of plan.uploads.filter((x) => x.action === 'upload')) {
      const f = fileOf(u.key);
      const version = await putObject(aws, bucket, u.key, f.data, f.sha256);
      if (version) versions.set(u.key, version);
    }
  }
  const bundleKey = inputs.files[0]!.key;
  const bundleVersion = versions.get(bundleKey);
  const bundleSource = {CaCertificatesBundleS3Bucket: bucket, CaCertificatesBundleS3Key: bundleKey, ...(bundleVersion ? {CaCertificatesBundleS3ObjectVersion: bundleVersion} : {})};

  // Step 3: the trust store.
  let ts: TrustStoreSummary | null = p.remote.trustStore;
  const name = inputs.local.trustStoreName;
  if (!p.dryRun && plan.trustStore.action === 'create') {
    const r = await callAws({action: 'elasticloadbalancing:CreateTrustStore', resource: name, file: inputs.files[0]!.path}, () => aws.elbv2.send(new elb.CreateTrustStoreCommand({Name: name, ...bundleSource})));
    ts = summaryOf(r.TrustStores?.[0], name);
  } else if (!p.dryRun && plan.trustStore.action === 'modify' && ts) {
    const arn = ts.arn;
    const r = await callAws({action: 'elasticloadbalancing:ModifyTrustStore', resource: arn, file: inputs.files[0]!.path}, () => aws.elbv2.send(new elb.ModifyTrustStoreCommand({TrustStoreArn: arn, ...bundleSource})));
    ts = summaryOf(r.TrustStores?.[0], name);
  }
  if (!p.dryRun && ts && ts.status !== 'ACTIVE') ts = await waitWithProgress(p, ts);

  // Step 4: revocations, add before remove.
  const added: DeployResult['revocations']['added'] = plan.revocations.add.map((a) => ({path: a.path, key: a.key, revocationId: null, entries: a.entries, issuer: a.issuer, crlNumber: a.crlNumber}));
  if (!p.dryRun && ts) {
    const arn = ts.arn;
    for (const a of added) {
      const version = versions.get(a.key);
      const r = await callAws({action: 'elasticloadbalancing:AddTrustStoreRevocations', resource: `s3://${bucket}/${a.key}`, file: a.path}, () =>
        aws.elbv2.send(new elb.AddTrustStoreRevocationsCommand({TrustStoreArn: arn, RevocationContents: [{S3Bucket: bucket, S3Key: a.key, RevocationType: 'CRL', ...(version ? {S3ObjectVersion: version} : {})}]})),
      );
      a.revocationId = r.TrustStoreRevocations?.[0]?.RevocationId ?? null;
    }
    const ids = plan.revocations.remove.map((r) => r.revocationId);
    if (ids.length > 0) {
      await callAws({action: 'elasticloadbalancing:RemoveTrustStoreRevocations', resource: arn}, () => aws.elbv2.send(new elb.RemoveTrustStoreRevocationsCommand({TrustStoreArn: arn, RevocationIds: ids})));
    }
  }

  // Step 5: the listener. In verify mode it needs the trust store's ARN, known only now when created.
  let listener: DeployResult['listener'] = null;
  if (plan.listener.action !== 'none' && plan.listener.to) {
    const to: MutualAuthentication = {...plan.listener.to, trustStoreArn: plan.listener.to.mode === 'verify' ? (ts?.arn ?? null) : null};
    let arn = plan.listener.arn;
    const target = inputs.local.listener!;
    if (!p.dryRun && plan.listener.action === 'create' && target.kind === 'create') {
      const r = await retryNotReady(p, {action: 'elasticloadbalancing:CreateListener', resource: ts?.arn ?? target.loadBalancerArn}, () =>
        aws.elbv2.send(
          new elb.CreateListenerCommand({
            LoadBalancerArn: target.loadBalancerArn,
            Protocol: 'HTTPS',
            Port: target.port,
            Certificates: [{CertificateArn: target.certificateArn}],
            DefaultActions: [{Type: 'forward', TargetGroupArn: target.targetGroupArn}],
            MutualAuthentication: toSdkMutual(to),
          }),
        ),
      );
      arn = r.Listeners?.[0]?.ListenerArn ?? null;
    } else if (!p.dryRun && plan.listener.action === 'modify' && arn) {
      const listenerArn = arn;
      await retryNotReady(p, {action: 'elasticloadbalancing:ModifyListener', resource: ts?.arn ?? listenerArn}, () => aws.elbv2.send(new elb.ModifyListenerCommand({ListenerArn: listenerArn, MutualAuthentication: toSdkMutual(to)})));
    }
    const loadBalancerArn = target.kind === 'create' ? target.loadBalancerArn : (p.remote.state.listener?.loadBalancerArn ?? null);
    listener = {action: plan.listener.action, arn, loadBalancerArn, mutualAuthentication: to, previous: plan.listener.from};
  }

  // Step 6: the final state (one read, only when something changed).
  if (!p.dryRun && plan.changes && ts) {
    const arn = ts.arn;
    const r = await callAws({action: 'elasticloadbalancing:DescribeTrustStores', resource: arn}, () => aws.elbv2.send(new elb.DescribeTrustStoresCommand({TrustStoreArns: [arn]})));
    ts = summaryOf(r.TrustStores?.[0], name);
  }

  return {
    dryRun: p.dryRun,
    region: aws.region,
    bucket,
    changed: plan.changes,
    summary: summarize(plan, p.dryRun),
    lint: inputs.lint,
    uploads: plan.uploads.map((u) => ({kind: u.kind, path: u.path, key: u.key, uri: `s3://${bucket}/${u.key}`, action: u.action, versionId: versions.get(u.key) ?? null})),
    trustStore: {
      action: plan.trustStore.action,
      name,
      arn: ts?.arn ?? null,
      status: ts?.status ?? null,
      numberOfCaCertificates: ts?.numberOfCaCertificates ?? null,
      totalRevokedEntries: ts?.totalRevokedEntries ?? null,
      reason: plan.trustStore.reason,
    },
    revocations: {added, removed: plan.revocations.remove, unchanged: plan.revocations.unchanged, kept: plan.revocations.kept},
    listener,
  };
}

/**
 * Runs a listener call, retrying TrustStoreNotReady a few times: the listener side can lag
 * behind DescribeTrustStores saying ACTIVE (aws-reference 2.4 warns of this error). Bounded: 5
 * attempts, one poll interval apart.
 */
async function retryNotReady<T>(p: ExecuteDeployParams, ctx: AwsCallContext, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await callAws(ctx, fn);
    } catch (error) {
      if (!(isMtlsKitError(error) && error.code === 'TRUST_STORE_NOT_READY') || attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, p.pollIntervalMs));
    }
  }
}

function summaryOf(t: {TrustStoreArn?: string | undefined; Name?: string | undefined; Status?: string | undefined; NumberOfCaCertificates?: number | undefined; TotalRevokedEntries?: number | undefined} | undefined, name: string): TrustStoreSummary {
  return {arn: t?.TrustStoreArn ?? '', name: t?.Name ?? name, status: t?.Status ?? 'UNKNOWN', numberOfCaCertificates: t?.NumberOfCaCertificates ?? 0, totalRevokedEntries: t?.TotalRevokedEntries ?? 0};
}

/** Polls until ACTIVE with a progress line on stderr (redrawn on a TTY, every ~10 s otherwise). */
async function waitWithProgress(p: ExecuteDeployParams, ts: TrustStoreSummary): Promise<TrustStoreSummary> {
  const tty = Boolean(process.stderr.isTTY) && p.progress;
  let lastLine = -Infinity;
  const total = Math.round(p.waitTimeoutMs / 1000);
  const onPoll = (status: string, elapsed: number): void => {
    if (!p.progress) return;
    const line = `waiting for trust store ${ts.name}: ${status} (${Math.round(elapsed / 1000)}s of ${total}s)`;
    if (tty) process.stderr.write(`\r${c.cyan(line)} `);
    else if (elapsed - lastLine >= 10_000 || status === 'ACTIVE') {
      printErr(line);
      lastLine = elapsed;
    }
  };
  try {
    return await waitForActive(p.aws, {arn: ts.arn, name: ts.name, timeoutMs: p.waitTimeoutMs, intervalMs: p.pollIntervalMs, onPoll});
  } finally {
    if (tty) process.stderr.write('\n');
  }
}

function summarize(plan: DeployPlan, dryRun: boolean): string {
  if (!plan.changes) return 'unchanged';
  const parts: string[] = [];
  const uploads = plan.uploads.filter((u) => u.action === 'upload').length;
  if (uploads) parts.push(`${dryRun ? 'upload' : 'uploaded'} ${uploads} object(s)`);
  if (plan.trustStore.action !== 'unchanged') parts.push(`${plan.trustStore.action === 'create' ? (dryRun ? 'create' : 'created') : dryRun ? 'modify' : 'modified'} trust store ${plan.trustStore.name}`);
  if (plan.revocations.add.length) parts.push(`${dryRun ? 'add' : 'added'} ${plan.revocations.add.length} CRL(s)`);
  if (plan.revocations.remove.length) parts.push(`${dryRun ? 'remove' : 'removed'} ${plan.revocations.remove.length} superseded CRL(s)`);
  if (plan.listener.action === 'create' || plan.listener.action === 'modify') parts.push(`${plan.listener.action === 'create' ? (dryRun ? 'create' : 'created') : dryRun ? 'modify' : 'modified'} the listener`);
  return (dryRun ? 'would ' : '') + parts.join(', ');
}
