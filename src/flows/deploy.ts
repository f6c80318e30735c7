/**
 * deploy's side effects, in the order: read and lint the local files, read the
 * remote state, then apply the plan (upload, trust store, wait, revocations add then
 * remove, listener). The decisions are in lib/deploy-plan.ts; this file only carries them out.
 */
import {readCrlSource} from '../io/aws/crl-source.js';
import {createHash} from 'node:crypto';
import {basename, dirname} from 'node:path';
import type {DeployResult} from '../lib/deploy/result.js';
import {summarizeCrl, summarizeLoadedCrl} from '../lib/deploy/crl-summary.js';
import type {CrlFacts} from '../lib/deploy/crl-summary.js';
import {
  contentKey,
  type DeployPlan,
  isNetworkListener,
  type ListenerTarget,
  type LocalState,
  type MutualAuthentication,
  type RemoteState,
} from '../lib/deploy/plan.js';
import {bundleDigest, planTagChanges, type Tag} from '../lib/deploy/record.js';
import {type ConnectionLogTarget, formatConnectionLogsUri, loadBalancerOfListener, sameConnectionLogs} from '../lib/deploy/connection-logs.js';
import {checkLogDelivery, readLoadBalancersForLogs, setConnectionLogs} from '../io/aws/connection-log-attributes.js';
import {briefCertificates, type CertBrief, diffCertificates, diffSerials, type SerialChanges} from '../lib/deploy/review.js';
import {loadCrl, type LoadedCrl} from '../lib/x509/crl.js';
import {readCertificates} from '../lib/x509/read-certs.js';
import {isMtlsKitError, MtlsKitError, preconditionError} from '../lib/errors.js';
import {crlOpensslFinding, deployLintFinding, type DeployLintFinding, deployLintSummary, lintFilesKeepingCrls} from '../lib/alb/lint.js';
import {type OnProgress, report} from './progress.js';
import {type AwsCallContext, type AwsClients, callAws} from '../io/aws/clients.js';
import {addRevocation, createListener, createTrustStore, removeRevocations} from '../io/aws/trust-store-write.js';
import {caPaths, currentCrlPaths} from '../io/ca/directory.js';
import {pathExists, readInput} from '../io/files.js';
import {
  changeTags,
  checkBucket,
  checkKmsReadable,
  kmsExplanation,
  describeListener,
  findListenerOnPort,
  heldBundleEtag,
  heldRevocationSerials,
  putObject,
  readTrustStoreForDeploy,
  type RemoteReadStats,
  statObjects,
  toSdkMutual,
  type TrustStoreSummary,
  waitForActive,
} from '../io/aws/trust-store-read.js';
import {plural} from '../lib/plural.js';

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
  /** Subject, fingerprint and expiry of each local bundle certificate (plan review). */
  bundleBriefs: CertBrief[];
  /** CRLs whose OpenSSL parse was deferred (deferCrlOpensslCheck): readRemoteState runs it unless AWS holds them. */
  opensslPending: Array<{path: string; data: Uint8Array; crl: LoadedCrl; passed?: boolean}>;
}

export interface ReadDeployInputsParams {
  dir: string;
  bundle: string | undefined;
  /** undefined = the CA directory's current CRLs. */
  crls: string[] | undefined;
  prefix: string;
  trustStoreName: string;
  listeners: ListenerTarget[];
  mutualAuthentication: Omit<MutualAuthentication, 'trustStoreArn'>;
  now: Date;
  /** Warnings go here; none with --json. */
  onProgress?: OnProgress | undefined;
  /** deploy stops on lint errors; status only reports them (default true). */
  failOnLint?: boolean;
  /** --connection-logs (deploy only). */
  connectionLogs?: ConnectionLogTarget | null;
  /**
   * Defer OpenSSL's parse of the CRLs to readRemoteState, which skips it for a CRL the trust
   * store already holds from these exact bytes (deploy only; default false).
   */
  deferCrlOpensslCheck?: boolean;
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
    throw preconditionError('BUNDLE_NOT_FOUND', `${bundlePath} does not exist`, [
      `create a CA first: mtls-kit gen-ca --dir ${p.dir}`,
      'or pass --ca-bundle FILE',
    ]);
  }
  const crlPaths = p.crls ?? (await currentCrlPaths(p.dir));
  const bundleData = await readInput(bundlePath);
  // --crl takes DER (as AWS Private CA writes it) and s3://bucket/key too; uploaded as PEM (aws-reference 4.5).
  const crlData = await Promise.all(
    crlPaths.map(async (path) => {
      const {data, notes} = await readCrlSource(path);
      for (const text of notes) report(p.onProgress, {kind: 'warning', text});
      return {path, data};
    }),
  );

  const deferred = p.deferCrlOpensslCheck === true;
  const lint = lintFilesKeepingCrls([{path: bundlePath, data: bundleData, role: 'bundle'}, ...crlData], {
    target: 'alb',
    now: p.now,
    warnDays: CRL_WARN_DAYS,
    deferCrlOpensslCheck: deferred,
  });
  const summary = deployLintSummary(lint);
  // A partitioned or indirect CRL gets lint's warnings (crl-partitioned, crl-indirect: aws-reference 4.5), printed below.
  if (lint.errors > 0 && p.failOnLint !== false) throw lintFailed(summary.findings);
  for (const f of summary.findings.filter((x) => x.severity === 'warning')) report(p.onProgress, {kind: 'warning', text: `${f.file}: ${f.message} (${f.fix})`});

  const sha = (d: Uint8Array): string => createHash('sha256').update(d).digest('hex');
  const md5 = (d: Uint8Array): string => createHash('md5').update(d).digest('hex');
  const bundleSha = sha(bundleData);
  const files: LocalFile[] = [{kind: 'bundle', path: bundlePath, key: contentKey(p.prefix, 'ca-bundle', bundleSha), data: bundleData, sha256: bundleSha}];
  const crls: LocalState['crls'] = [];
  for (const [i, {path, data}] of crlData.entries()) {
    const s = sha(data);
    // root/crl.pem → "root-crl": the tier stays readable in the bucket listing.
    const base = `${basename(dirname(path))}-${basename(path).replace(/\.[^.]*$/, '')}`.replace(/[^A-Za-z0-9._-]/g, '_');
    const key = contentKey(p.prefix, base, s);
    files.push({kind: 'crl', path, key, data, sha256: s});
    // Lint parsed it already (inputs[0] is the bundle); a 500,000-entry CRL takes seconds to parse.
    const parsed = lint.crls[i + 1];
    crls.push({path, key, summary: parsed ? summarizeLoadedCrl(parsed) : summarizeCrl(data, path)});
  }
  const bundleBriefs = briefCertificates(readCertificates(bundleData, bundlePath));
  const local: LocalState = {
    trustStoreName: p.trustStoreName,
    objects: files.map((f) => ({kind: f.kind, path: f.path, key: f.key, md5: md5(f.data)})),
    bundleCertificates: bundleBriefs.map((c) => c.fingerprint),
    crls,
    listeners: p.listeners,
    mutualAuthentication: p.mutualAuthentication,
    ...(p.connectionLogs ? {connectionLogs: p.connectionLogs} : {}),
  };
  const opensslPending = deferred ? crlData.flatMap(({path, data}, i) => (lint.crls[i + 1] ? [{path, data, crl: lint.crls[i + 1]!}] : [])) : [];
  return {local, files, lint: summary, bundleBriefs, opensslPending};
}

/** LINT_FAILED (exit 4) with every error finding. */
function lintFailed(findings: DeployLintFinding[]): MtlsKitError {
  const errors = findings.filter((f) => f.severity === 'error');
  return new MtlsKitError({
    code: 'LINT_FAILED',
    message: `${plural(errors.length, 'lint error')} in ${[...new Set(errors.map((f) => f.file))].join(', ')}; nothing was uploaded`,
    suggestions: errors.map((f) => `${f.file}: ${f.message} → ${f.fix}`),
    details: {findings},
  });
}

/**
 * The lint step readDeployInputs deferred: OpenSSL parses each local CRL, except one whose
 * DER the trust store holds and whose exact file S3 already has at its content-addressed key.
 * Those bytes passed this check before the run that uploaded them, and ALB accepted them; a
 * changed file has another key and is checked (aws-reference 4.3).
 * @throws MtlsKitError LINT_FAILED (exit 4) before anything is uploaded.
 */
function runDeferredCrlChecks(inputs: DeployInputs, state: RemoteState): void {
  const held = new Set((state.trustStore?.revocations ?? []).map((r) => r.summary?.sha256));
  const findings: DeployLintFinding[] = [];
  for (const pending of inputs.opensslPending) {
    const local = inputs.local.crls.find((c) => c.path === pending.path);
    const object = inputs.local.objects.find((o) => o.key === local?.key);
    const stored = state.objects.find((o) => o.key === object?.key && o.exists && o.etag?.toLowerCase() === object.md5);
    if (pending.passed || (local && held.has(local.summary.sha256) && stored)) continue;
    const finding = crlOpensslFinding(pending, pending.crl);
    // Once per run: deploy reads the remote state again after taking its lease.
    if (finding) findings.push(deployLintFinding(finding));
    else pending.passed = true;
  }
  if (findings.length > 0) throw lintFailed(findings);
}

export interface RemoteRead {
  state: RemoteState;
  trustStore: TrustStoreSummary | null;
  /** The trust store's tags (user tags and deploy's records). */
  tags: Tag[];
  /** ETag of the trust store's copy of its bundle, when known. */
  bundleEtag: string | null;
  /** The certificates the trust store holds, when they were downloaded. */
  heldCertificates: CertBrief[] | null;
  stats: RemoteReadStats | null;
  /** Connection-log checks that could not be conclusive (shown as warnings). */
  warnings: string[];
}

/** S3 settings for what deploy writes and reads. */
export interface S3Options {
  /** Server-side encryption of the uploads (aws:kms with kmsKeyId, or AES256). */
  sse?: 'aws:kms' | 'AES256';
  kmsKeyId?: string;
  /** Account that must own the bucket (ExpectedBucketOwner on every S3 call). */
  expectedBucketOwner?: string;
  /** Tags on the uploaded objects. */
  tags?: Tag[];
}

/**
 * Reads what AWS holds for these inputs (read-only calls only). The trust store's contents
 * come from deploy's records when they match (no download); `refresh` downloads everything.
 */
export async function readRemoteState(
  aws: AwsClients,
  bucket: string,
  inputs: DeployInputs,
  opts: {refresh?: boolean; s3?: S3Options} = {},
): Promise<RemoteRead> {
  await checkBucket(aws, bucket, opts.s3?.expectedBucketOwner);
  const objects = await statObjects(
    aws,
    bucket,
    inputs.files.map((f) => f.key),
    opts.s3?.expectedBucketOwner,
  );
  const ts = await readTrustStoreForDeploy(aws, inputs.local.trustStoreName, {
    localDigest: bundleDigest(inputs.local.bundleCertificates),
    refresh: opts.refresh ?? false,
  });
  const listeners: RemoteState['listeners'] = [];
  for (const target of inputs.local.listeners) {
    const listener =
      target.kind === 'existing' ? await describeListener(aws, target.listenerArn) : await findListenerOnPort(aws, target.loadBalancerArn, target.port);
    if (listener && isNetworkListener(target) && listener.protocol !== 'TLS') {
      // aws-reference 9.1, 9.8: NLB mTLS is on TLS listeners; a TCP listener passes the encrypted stream to the targets.
      throw preconditionError(
        'LISTENER_NOT_TLS',
        `listener ${listener.arn} (port ${listener.port}) is ${listener.protocol}; NLB mutual TLS needs a TLS listener`,
        [
          'pass a TLS listener of the NLB with --listener-arn, or create one with --load-balancer-arn --port 443 --certificate-arn --target-group-arn',
          'with a TCP listener the NLB does not terminate TLS: your targets then verify clients themselves',
        ],
      );
    }
    if (listener && !isNetworkListener(target) && listener.protocol !== 'HTTPS') {
      throw preconditionError(
        'LISTENER_NOT_HTTPS',
        `listener ${listener.arn} (port ${listener.port}) is ${listener.protocol}; mutual TLS needs an HTTPS listener`,
        ['pass an HTTPS listener with --listener-arn, or create one with --load-balancer-arn --port 443 --certificate-arn --target-group-arn'],
      );
    }
    listeners.push(listener);
  }
  const state: RemoteState = {objects, trustStore: ts?.remote ?? null, listeners};
  runDeferredCrlChecks(inputs, state);
  const warnings: string[] = [];
  const logs = inputs.local.connectionLogs;
  if (logs) {
    // aws-reference 5.1: the attributes belong to the load balancer of each listener.
    const arns = inputs.local.listeners.map((t, i) =>
      t.kind === 'create' ? t.loadBalancerArn : (listeners[i]?.loadBalancerArn ?? loadBalancerOfListener(t.listenerArn) ?? t.listenerArn),
    );
    state.loadBalancers = await readLoadBalancersForLogs(aws, arns);
    // Only when they change: a run that leaves them alone reads no bucket policy.
    for (const lb of state.loadBalancers) {
      if (sameConnectionLogs(lb.connectionLogs, logs)) continue;
      // Not --expected-bucket-owner: that names the owner of --bucket; the log bucket may be another account's (aws-reference 5.2).
      const w = await checkLogDelivery(aws, lb.arn, logs);
      if (w) warnings.push(w);
    }
  }
  return {
    state,
    trustStore: ts?.summary ?? null,
    tags: ts?.tags ?? [],
    bundleEtag: ts?.bundleEtag ?? null,
    heldCertificates: ts?.heldCertificates ?? null,
    stats: ts?.stats ?? null,
    warnings,
  };
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
  /** Progress lines and warnings; none with --json. */
  onProgress?: OnProgress | undefined;
  /** --tag values: on the trust store, created listeners and uploaded objects. */
  tags?: Tag[];
  s3?: S3Options;
}

/** Applies the plan (or, with dryRun, only describes it) and returns the deploy result. */
export async function executeDeploy(p: ExecuteDeployParams): Promise<DeployResult> {
  const {aws, bucket, inputs, plan} = p;
  const elb = aws.elbv2Sdk;
  const userTags = p.tags ?? [];
  const sdkTags = userTags.map((t) => ({Key: t.key, Value: t.value}));
  const versions = new Map<string, string>();
  for (const u of plan.uploads) if (u.versionId) versions.set(u.key, u.versionId);
  const fileOf = (key: string): LocalFile => inputs.files.find((f) => f.key === key)!;

  // Step 2: uploads (content-addressed; unchanged objects are skipped).
  if (!p.dryRun) {
    for (const u of plan.uploads.filter((x) => x.action === 'upload')) {
      const f = fileOf(u.key);
      const version = await putObject(aws, bucket, u.key, f.data, f.sha256, {...p.s3, tags: userTags});
      if (version) versions.set(u.key, version);
    }
  }
  const bundleKey = inputs.files[0]!.key;
  if (p.s3?.sse === 'aws:kms' && p.s3.kmsKeyId) {
    // aws-reference 2.1 (INFERRED from the API's use of the caller's S3 access): say what KMS needs before AWS fails on it.
    for (const line of kmsExplanation(p.s3.kmsKeyId, aws.region)) report(p.onProgress, {kind: 'note', text: `kms: ${line}`});
    if (!p.dryRun && plan.changes) await checkKmsReadable(aws, bucket, bundleKey, p.s3.kmsKeyId, p.s3.expectedBucketOwner);
  }
  const bundleVersion = versions.get(bundleKey);
  const bundleSource = {
    CaCertificatesBundleS3Bucket: bucket,
    CaCertificatesBundleS3Key: bundleKey,
    ...(bundleVersion ? {CaCertificatesBundleS3ObjectVersion: bundleVersion} : {}),
  };

  // The review: which certificates and which serials change (downloads only what rotates).
  const certificates =
    plan.trustStore.action === 'create'
      ? diffCertificates(inputs.bundleBriefs, [])
      : plan.trustStore.action === 'modify' && p.remote.heldCertificates
        ? diffCertificates(inputs.bundleBriefs, p.remote.heldCertificates)
        : null;
  const serials = await reviewSerials(p);

  // Step 3: the trust store.
  let ts: TrustStoreSummary | null = p.remote.trustStore;
  const name = inputs.local.trustStoreName;
  if (!p.dryRun && plan.trustStore.action === 'create') {
    ts = await createTrustStore(aws, {Name: name, ...bundleSource, ...(sdkTags.length ? {Tags: sdkTags} : {})}, inputs.files[0]!.path);
  } else if (!p.dryRun && plan.trustStore.action === 'modify' && ts) {
    const arn = ts.arn;
    const r = await callAws({action: 'elasticloadbalancing:ModifyTrustStore', resource: arn, file: inputs.files[0]!.path}, () =>
      aws.elbv2.send(new elb.ModifyTrustStoreCommand({TrustStoreArn: arn, ...bundleSource})),
    );
    ts = summaryOf(r.TrustStores?.[0], name);
  }
  if (!p.dryRun && ts && ts.status !== 'ACTIVE') ts = await waitWithProgress(p, ts);

  // Step 4: revocations, in the plan's order (add before remove unless a quota forbids it).
  const added: DeployResult['revocations']['added'] = plan.revocations.add.map((a) => ({
    path: a.path,
    key: a.key,
    revocationId: null,
    entries: a.entries,
    issuer: a.issuer,
    crlNumber: a.crlNumber,
    serials: serials.get(a.path) ?? null,
  }));
  const gaps: DeployResult['revocations']['gaps'] = [];
  if (!p.dryRun && ts) {
    const arn = ts.arn;
    let gapStart: {path: string; at: bigint} | null = null;
    // Ids held before each add: after a lost answer, a new list holding the CRL is ours.
    const knownIds = new Set((p.remote.state.trustStore?.revocations ?? []).map((r) => r.revocationId));
    for (const step of plan.revocations.steps) {
      if (step.kind === 'add') {
        const a = added.find((x) => x.path === step.path)!;
        const crlSha256 = inputs.local.crls.find((c) => c.key === a.key)!.summary.sha256;
        a.revocationId = await addRevocation(aws, {arn, bucket, key: a.key, version: versions.get(a.key), path: a.path, crlSha256, knownIds});
        if (a.revocationId !== null) knownIds.add(a.revocationId);
        if (gapStart?.path === a.path) {
          gaps.push({path: a.path, issuer: a.issuer, ms: Math.round(Number(process.hrtime.bigint() - gapStart.at) / 1e6)});
          gapStart = null;
        }
      } else {
        await removeRevocations(aws, arn, step.revocationIds);
        if (plan.revocations.order === 'remove-first' && added.some((a) => a.path === step.supersededBy))
          gapStart = {path: step.supersededBy, at: process.hrtime.bigint()};
      }
    }
  }

  // Step 5: the listeners. In verify mode they need the trust store's ARN, known only now when created.
  const listeners: NonNullable<DeployResult['listener']>[] = [];
  for (const [i, pl] of plan.listeners.entries()) {
    const to: MutualAuthentication = {...pl.to, trustStoreArn: pl.to.mode === 'verify' ? (ts?.arn ?? null) : null};
    let arn = pl.arn;
    const target = pl.target;
    if (!p.dryRun && pl.action === 'create' && target.kind === 'create') {
      const ctx = {action: 'elasticloadbalancing:CreateListener', resource: ts?.arn ?? target.loadBalancerArn};
      arn = await retryNotReady(p, ctx, () =>
        createListener(
          aws,
          {
            LoadBalancerArn: target.loadBalancerArn,
            // A Network Load Balancer's mTLS listener is TLS (aws-reference 9.1).
            Protocol: pl.nlb ? 'TLS' : 'HTTPS',
            Port: target.port,
            Certificates: [{CertificateArn: target.certificateArn}],
            DefaultActions: [{Type: 'forward', TargetGroupArn: target.targetGroupArn}],
            MutualAuthentication: toSdkMutual(to),
            ...(sdkTags.length ? {Tags: sdkTags} : {}),
          },
          ctx,
        ),
      );
    } else if (!p.dryRun && pl.action === 'modify' && arn) {
      const listenerArn = arn;
      await retryNotReady(p, {action: 'elasticloadbalancing:ModifyListener', resource: listenerArn}, () =>
        aws.elbv2.send(new elb.ModifyListenerCommand({ListenerArn: listenerArn, MutualAuthentication: toSdkMutual(to)})),
      );
    }
    const loadBalancerArn = target.kind === 'create' ? target.loadBalancerArn : (p.remote.state.listeners[i]?.loadBalancerArn ?? null);
    listeners.push({action: pl.action, arn, loadBalancerArn, mutualAuthentication: to, previous: pl.from});
  }

  // Step 5b: the load balancers' connection logs (aws-reference 5.1), only where they differ.
  for (const w of p.remote.warnings) report(p.onProgress, {kind: 'warning', text: w});
  if (!p.dryRun) for (const c of plan.connectionLogs) if (c.action === 'modify') await setConnectionLogs(aws, c.loadBalancerArn, c.to);

  // Step 6: record what the trust store now holds (tags), so the next run downloads nothing.
  let records: DeployResult['trustStore']['records'] = {added: 0, removed: 0, skipped: 0};
  if (!p.dryRun && ts) {
    const heldAfter = plannedHeldAfter(plan, p.remote, inputs, added);
    const etag = plan.trustStore.action === 'unchanged' && p.remote.bundleEtag ? p.remote.bundleEtag : await heldBundleEtag(aws, ts.arn);
    const bundle = etag ? {count: inputs.local.bundleCertificates.length, digest: bundleDigest(inputs.local.bundleCertificates), etag} : null;
    const changes = planTagChanges({current: p.remote.tags, user: userTags, bundle, revocations: heldAfter});
    await changeTags(aws, ts.arn, changes.add, changes.remove);
    records = {added: changes.add.length, removed: changes.remove.length, skipped: changes.skipped};
  }

  // Step 7: the final state (one read, only when something changed).
  if (!p.dryRun && plan.changes && ts) {
    const arn = ts.arn;
    const r = await callAws({action: 'elasticloadbalancing:DescribeTrustStores', resource: arn}, () =>
      aws.elbv2.send(new elb.DescribeTrustStoresCommand({TrustStoreArns: [arn]})),
    );
    ts = summaryOf(r.TrustStores?.[0], name);
  }

  return {
    dryRun: p.dryRun,
    region: aws.region,
    bucket,
    changed: plan.changes,
    summary: summarize(plan, p.dryRun),
    lint: inputs.lint,
    uploads: plan.uploads.map((u) => ({
      kind: u.kind,
      path: u.path,
      key: u.key,
      uri: `s3://${bucket}/${u.key}`,
      action: u.action,
      versionId: versions.get(u.key) ?? null,
    })),
    trustStore: {
      action: plan.trustStore.action,
      name,
      arn: ts?.arn ?? null,
      status: ts?.status ?? null,
      numberOfCaCertificates: ts?.numberOfCaCertificates ?? null,
      totalRevokedEntries: ts?.totalRevokedEntries ?? null,
      reason: plan.trustStore.reason,
      certificates,
      read: p.remote.stats,
      records,
    },
    revocations: {
      added,
      removed: plan.revocations.remove,
      unchanged: plan.revocations.unchanged,
      kept: plan.revocations.kept,
      order: plan.revocations.order,
      count: plan.revocations.count,
      gaps,
    },
    listener: listeners[0] ?? null,
    listeners,
    connectionLogs: plan.connectionLogs.map((c) => ({
      loadBalancerArn: c.loadBalancerArn,
      action: c.action,
      uri: formatConnectionLogsUri(c.to),
      bucket: c.to.bucket,
      prefix: c.to.prefix,
      previous: c.from,
    })),
  };
}

/**
 * For each local CRL that replaces lists of its issuer: the serials it revokes and un-revokes
 * compared with the list(s) it supersedes (downloaded; rotations only).
 */
async function reviewSerials(p: ExecuteDeployParams): Promise<Map<string, SerialChanges>> {
  const out = new Map<string, SerialChanges>();
  const arn = p.remote.trustStore?.arn;
  if (!arn) return out;
  for (const a of p.plan.revocations.add) {
    const olds = p.plan.revocations.remove.filter((r) => r.supersededBy === a.path);
    if (olds.length === 0) continue;
    const older: string[] = [];
    for (const o of olds) {
      const s = await heldRevocationSerials(p.aws, arn, o.revocationId);
      if (!s) return out;
      older.push(...s);
    }
    const file = p.inputs.files.find((f) => f.path === a.path);
    if (!file) continue;
    out.set(a.path, diffSerials(loadCrl(file.data, file.path).revoked.keys(), older));
  }
  return out;
}

/** Every list the trust store holds after the run, with what it holds (for the records). */
function plannedHeldAfter(
  plan: DeployPlan,
  remote: RemoteRead,
  inputs: DeployInputs,
  added: DeployResult['revocations']['added'],
): Array<{revocationId: number; facts: CrlFacts | null}> {
  const removed = new Set(plan.revocations.remove.map((r) => r.revocationId));
  const out: Array<{revocationId: number; facts: CrlFacts | null}> = [];
  for (const h of remote.state.trustStore?.revocations ?? []) if (!removed.has(h.revocationId)) out.push({revocationId: h.revocationId, facts: h.summary});
  for (const a of added) {
    const crl = inputs.local.crls.find((c) => c.path === a.path);
    if (a.revocationId !== null && crl) out.push({revocationId: a.revocationId, facts: crl.summary});
  }
  return out;
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

function summaryOf(
  t:
    | {
        TrustStoreArn?: string | undefined;
        Name?: string | undefined;
        Status?: string | undefined;
        NumberOfCaCertificates?: number | undefined;
        TotalRevokedEntries?: number | undefined;
      }
    | undefined,
  name: string,
): TrustStoreSummary {
  return {
    arn: t?.TrustStoreArn ?? '',
    name: t?.Name ?? name,
    status: t?.Status ?? 'UNKNOWN',
    numberOfCaCertificates: t?.NumberOfCaCertificates ?? 0,
    totalRevokedEntries: t?.TotalRevokedEntries ?? 0,
  };
}

/** Polls until ACTIVE, reporting each poll as a status event (the renderer decides how often to print). */
async function waitWithProgress(p: ExecuteDeployParams, ts: TrustStoreSummary): Promise<TrustStoreSummary> {
  const total = Math.round(p.waitTimeoutMs / 1000);
  const onPoll = (status: string, elapsed: number): void =>
    report(p.onProgress, {
      kind: 'status',
      text: `waiting for trust store ${ts.name}: ${status} (${Math.round(elapsed / 1000)}s of ${total}s)`,
      final: status === 'ACTIVE',
    });
  return waitForActive(p.aws, {arn: ts.arn, name: ts.name, timeoutMs: p.waitTimeoutMs, intervalMs: p.pollIntervalMs, onPoll});
}

function summarize(plan: DeployPlan, dryRun: boolean): string {
  if (!plan.changes) return 'unchanged';
  const parts: string[] = [];
  const uploads = plan.uploads.filter((u) => u.action === 'upload').length;
  if (uploads) parts.push(`${dryRun ? 'upload' : 'uploaded'} ${plural(uploads, 'object')}`);
  if (plan.trustStore.action !== 'unchanged')
    parts.push(`${plan.trustStore.action === 'create' ? (dryRun ? 'create' : 'created') : dryRun ? 'modify' : 'modified'} trust store ${plan.trustStore.name}`);
  if (plan.revocations.add.length) parts.push(`${dryRun ? 'add' : 'added'} ${plural(plan.revocations.add.length, 'CRL')}`);
  if (plan.revocations.remove.length) parts.push(`${dryRun ? 'remove' : 'removed'} ${plural(plan.revocations.remove.length, 'superseded CRL')}`);
  for (const l of plan.listeners)
    if (l.action !== 'unchanged')
      parts.push(`${l.action === 'create' ? (dryRun ? 'create' : 'created') : dryRun ? 'modify' : 'modified'} listener ${l.arn ?? '(new)'}`);
  for (const cl of plan.connectionLogs)
    if (cl.action !== 'unchanged') parts.push(`${dryRun ? 'send' : 'sent'} connection logs of ${cl.loadBalancerArn} to ${formatConnectionLogsUri(cl.to)}`);
  return (dryRun ? 'would ' : '') + parts.join(', ');
}
