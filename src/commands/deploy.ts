import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {
  apigwDeployFlags,
  awsFlags,
  cloudfrontDeployFlags,
  cloudfrontTargetFromFlags,
  deployInputFlags,
  deployInputFlagsApigw,
  dirFlag,
  identityFilterFlags,
  inHelpGroup,
  mutualAuthFlags,
} from '../flags.js';
import {createApigwClients, runApigwDeploy} from '../flows/apigw-deploy.js';
import {createCloudfrontClients, runCloudfrontDeploy} from '../flows/cloudfront-deploy.js';
import type {CloudfrontDeployResult} from '../lib/cloudfront/deploy-plan.js';
import {renderCloudfrontDeploy} from '../ui/cloudfront-render.js';
import {resolveIdentityFilters} from '../io/identity-filters.js';
import {formatIdentityFilter} from '../lib/nlb/identity-filter.js';
import {renderApigwDeploy} from '../ui/apigw-render.js';
import type {ApigwDeployResult} from '../lib/apigw/deploy-plan.js';
import {createAwsClients} from '../io/aws/clients.js';
import {readFile, stat} from 'node:fs/promises';
import {type DeployInputs, executeDeploy, readDeployInputs, readRemoteState, type RemoteRead} from '../flows/deploy.js';
import {acquireDeployLease} from '../io/aws/lease.js';
import {MODE_PUBLIC, writeFileAtomic} from '../io/files.js';
import {
  type DeployPlan,
  checkConnectionLogTargets,
  checkNlbTargets,
  checkTrustStoreName,
  DEFAULT_REVOCATION_QUOTAS,
  planDeploy,
  type ListenerTarget,
  type MutualMode,
} from '../lib/deploy/plan.js';
import {checkTag, type Tag} from '../lib/deploy/record.js';
import {checkCloudfrontTrustStoreName} from '../lib/cloudfront/deploy-plan.js';
import {parseConnectionLogsUri} from '../lib/deploy/connection-logs.js';
import {
  checkSavedPlan,
  type DeploySettings,
  fingerprintRemote,
  parseSavedPlan,
  SAVED_PLAN_VERSION,
  type SavedPlan,
  sealSavedPlan,
} from '../lib/deploy/saved-plan.js';
import {ExitCode, MtlsKitError, preconditionError, usageError} from '../lib/errors.js';
import {checkSize} from '../lib/limits.js';
import {renderDeploy} from '../ui/deploy-render.js';
import {hint, stderrProgress, warn} from '../ui/output.js';
import type {DeployResult} from '../lib/deploy/result.js';

export type {DeployResult} from '../lib/deploy/result.js';
export type {ApigwDeployResult} from '../lib/apigw/deploy-plan.js';
export type {CloudfrontDeployResult} from '../lib/cloudfront/deploy-plan.js';

export default class Deploy extends BaseCommand {
  static override summary = 'Deploy the CA bundle and CRLs to an ELBv2 trust store and turn on mutual TLS on ALB or NLB listeners.';
  static override description =
    `Lints the bundle and CRLs and stops on an error; uploads them to S3 under content-addressed keys; creates the trust store (or modifies it when the bundle changed) and waits until it is ACTIVE; adds new CRLs before removing the old ones of the same issuers; sets the listeners' mutual TLS only where it differs (or creates a listener), and with --connection-logs the load balancers' connection-log attributes. A second run with the same inputs changes nothing; --dry-run prints the plan.

NLB TLS listeners take verify mode only, and the identity filters. --apigw-domain deploys an API Gateway custom domain name's truststore instead.

Every step, flag and error: docs/deploy.md. IAM policies to paste: docs/iam.md. Without an AWS account: mtls-kit emulate prints the AWS_ENDPOINT_URL_* lines to export.

--cloudfront-trust-store NAME deploys an account-level CloudFront trust store instead, and the viewer mTLS of each --distribution.

Exit codes: 0 deployed, unchanged or planned; 10 changes pending (--exit-code with --dry-run or --plan-out); 2 bad flag values; 4 a local precondition (missing file, lint errors, no region or credentials, a newer CRL already deployed, a bucket policy that does not let ELB write the logs); 5 AWS failed, with the AWS request id.`;

  static override usage = [
    'deploy --trust-store-name NAME --bucket BUCKET [--listener-arn ARN...] [FLAGS]',
    'deploy --apigw-domain NAME --bucket BUCKET [FLAGS]',
    'deploy --cloudfront-trust-store NAME --bucket BUCKET [--distribution ID...] [FLAGS]',
  ];

  static override examples = [
    '<%= config.bin %> deploy --trust-store-name my-devices --bucket my-pki-bucket --listener-arn <listener-arn>',
    '<%= config.bin %> deploy --trust-store-name my-devices --bucket my-pki-bucket --dry-run',
    '<%= config.bin %> deploy --trust-store-name my-devices --bucket my-pki-bucket --load-balancer-arn <alb-arn> --port 443 --certificate-arn <acm-arn> --target-group-arn <tg-arn> --json',
    '<%= config.bin %> deploy --apigw-domain api.example.com --bucket my-versioned-bucket',
  ];

  static override flags = {
    dir: dirFlag,
    ...deployInputFlagsApigw,
    ...apigwDeployFlags,
    ...cloudfrontDeployFlags,
    // Required unless --plan gives them (checked in settingsFromFlags).
    bucket: Flags.string({...deployInputFlags.bucket, required: false}),
    ...inHelpGroup('LISTENER', {
      'listener-arn': Flags.string({
        summary: 'ALB HTTPS or NLB TLS listener whose mutual authentication to set; repeatable.',
        multiple: true,
        exclusive: ['load-balancer-arn'],
        helpValue: 'ARN',
      }),
      'load-balancer-arn': Flags.string({
        summary: 'Create an HTTPS listener on this ALB, or a TLS listener on this NLB (with --port, --certificate-arn, --target-group-arn).',
        dependsOn: ['port', 'certificate-arn', 'target-group-arn'],
        helpValue: 'ARN',
      }),
      port: Flags.integer({summary: 'Port of the listener to create.', min: 1, max: 65535, dependsOn: ['load-balancer-arn']}),
      'certificate-arn': Flags.string({summary: 'Server certificate (ACM ARN) of the listener to create.', dependsOn: ['load-balancer-arn'], helpValue: 'ARN'}),
      'target-group-arn': Flags.string({summary: 'Target group the created listener forwards to.', dependsOn: ['load-balancer-arn'], helpValue: 'ARN'}),
      force: Flags.boolean({summary: 'Repoint listeners that verify against another trust store.', default: false}),
      'connection-logs': Flags.string({
        summary: "Send the connection logs of the listeners' Application Load Balancers to s3://bucket/prefix (checks the bucket policy first).",
        helpValue: 'S3_URL',
      }),
    }),
    ...mutualAuthFlags,
    ...identityFilterFlags,
    ...inHelpGroup('AWS', {
      'wait-timeout': Flags.integer({summary: 'Seconds to wait for the trust store to become ACTIVE.', default: 600, min: 1}),
      'poll-interval': Flags.integer({
        summary: 'Milliseconds between DescribeTrustStores polls.',
        default: 2000,
        min: 10,
        env: 'MTLS_KIT_POLL_INTERVAL_MS',
        hidden: true,
      }),
      'lease-timeout': Flags.integer({summary: 'Seconds to wait while another deploy of the same trust store runs.', default: 300, min: 0}),
    }),
    ...inHelpGroup('S3', {
      tag: Flags.string({
        summary: 'Tag KEY=VALUE on what deploy creates (trust store, listener, S3 objects); repeatable.',
        multiple: true,
        helpValue: 'KEY=VALUE',
      }),
      sse: Flags.option({summary: 'Server-side encryption of the uploaded objects.', options: ['aws:kms', 'AES256'] as const})(),
      'kms-key-id': Flags.string({summary: 'KMS key (id, ARN or alias) for --sse aws:kms.', dependsOn: ['sse'], helpValue: 'KEY'}),
      'expected-bucket-owner': Flags.string({
        summary: 'Account id that must own --bucket (S3 refuses the calls otherwise).',
        env: 'MTLS_KIT_EXPECTED_BUCKET_OWNER',
        helpValue: 'ID',
      }),
    }),
    ...inHelpGroup('REVOCATION', {
      'allow-revocation-gap': Flags.boolean({
        summary: 'When adding new CRLs before removing old ones would exceed a quota, remove first (reports how long revoked serials were not enforced).',
        default: false,
      }),
      'revocation-lists-quota': Flags.integer({
        summary: "Your account's revocation-lists-per-trust-store quota (L-332EE142).",
        default: DEFAULT_REVOCATION_QUOTAS.lists,
        helpValue: 'N',
        min: 1,
        env: 'MTLS_KIT_REVOCATION_LISTS_QUOTA',
      }),
      'revocation-entries-quota': Flags.integer({
        summary: "Your account's revocation-entries-per-trust-store quota (L-37E1617B).",
        default: DEFAULT_REVOCATION_QUOTAS.entries,
        helpValue: 'N',
        min: 1,
        env: 'MTLS_KIT_REVOCATION_ENTRIES_QUOTA',
      }),
    }),
    ...inHelpGroup('PLAN', {
      refresh: Flags.boolean({summary: 'Download what the trust store holds instead of trusting the digests deploy recorded on it.', default: false}),
      'dry-run': Flags.boolean({summary: 'Print the plan; make no mutating call.', default: false}),
      'plan-out': Flags.string({
        summary: 'Write the plan (and what it was computed from) to FILE; make no mutating call.',
        exclusive: ['plan'],
        helpValue: 'FILE',
      }),
      plan: Flags.string({
        summary: 'Apply exactly the plan in FILE (from --plan-out), or refuse when the files or AWS changed since.',
        exclusive: [
          'dry-run',
          'listener-arn',
          'load-balancer-arn',
          'tag',
          'sse',
          'kms-key-id',
          'ca-bundle',
          'crl',
          'skip-crl',
          'force',
          'allow-revocation-gap',
          'connection-logs',
        ],
        helpValue: 'FILE',
      }),
      'exit-code': Flags.boolean({summary: 'With --dry-run or --plan-out: exit 10 when the plan has changes (0 when none).', default: false}),
    }),
    ...awsFlags,
  };

  async run(): Promise<DeployResult | ApigwDeployResult | CloudfrontDeployResult> {
    const {flags, raw} = await this.parse(Deploy);
    if (flags.plan) refuseFlagsIgnoredByPlan(raw);
    // CloudFront trust store and distributions: src/flows/cloudfront-deploy.ts.
    const cfName = flags['cloudfront-trust-store'];
    if (cfName) {
      refuseFlagsIgnoredByCloudfront(raw);
      if (!flags.bucket) throw usageError('MISSING_FLAG', '--bucket is required', ['for example: --bucket my-pki-bucket']);
      if (flags['exit-code'] && !flags['dry-run'])
        throw usageError('EXIT_CODE_NEEDS_PLAN', '--exit-code reports pending changes, so it needs --dry-run', [
          'for example: mtls-kit deploy ... --dry-run --exit-code',
        ]);
      const nameProblem = checkCloudfrontTrustStoreName(cfName);
      if (nameProblem)
        throw usageError('BAD_TRUST_STORE_NAME', `--cloudfront-trust-store "${cfName}" ${nameProblem}`, ['for example: --cloudfront-trust-store my-devices']);
      const r = await runCloudfrontDeploy({
        clients: await createCloudfrontClients({region: flags.region, profile: flags.profile, endpointUrl: flags['endpoint-url']}),
        ...cloudfrontTargetFromFlags(flags, cfName, flags.bucket),
        dryRun: flags['dry-run'],
        waitTimeoutMs: flags['wait-timeout'] * 1000,
        pollIntervalMs: flags['poll-interval'],
        // As for ALB trust stores: valid while the run waits for the trust store, plus 10 minutes.
        lease: {waitMs: flags['lease-timeout'] * 1000, ttlMs: (flags['wait-timeout'] + 600) * 1000},
        now: new Date(),
        onProgress: this.jsonEnabled() ? undefined : stderrProgress(),
      });
      if (flags['exit-code'] && r.changed) this.resultExitCode = ExitCode.ChangesPending;
      return this.emit(r, renderCloudfrontDeploy);
    }
    // API Gateway custom domain: src/flows/apigw-deploy.ts.
    if (flags['apigw-domain']) {
      if (!flags.bucket) throw usageError('MISSING_FLAG', '--bucket is required', ['for example: --bucket my-pki-bucket']);
      const clients = await createApigwClients({region: flags.region, profile: flags.profile, endpointUrl: flags['endpoint-url']});
      const key = flags['truststore-key'] ?? `${flags.prefix}truststore.pem`;
      const r = await runApigwDeploy({
        clients,
        dir: flags.dir,
        bundle: flags['ca-bundle'],
        bucket: flags.bucket,
        key,
        domain: flags['apigw-domain'],
        apiType: flags['api-type'],
        dryRun: flags['dry-run'],
        waitTimeoutMs: flags['wait-timeout'] * 1000,
        pollIntervalMs: flags['poll-interval'],
        now: new Date(),
        onProgress: this.jsonEnabled() ? undefined : stderrProgress(),
      });
      return this.emit(r, renderApigwDeploy);
    }
    if (flags['exit-code'] && !flags['dry-run'] && !flags['plan-out'])
      throw usageError('EXIT_CODE_NEEDS_PLAN', '--exit-code reports pending changes, so it needs --dry-run or --plan-out', [
        'for example: mtls-kit deploy ... --dry-run --exit-code',
      ]);
    const saved = flags.plan
      ? parseSavedPlan(
          await stat(flags.plan)
            .then((st) => checkSize(flags.plan!, 'planBytes', st.size))
            .then(() => readFile(flags.plan!, 'utf8'))
            .catch((error: unknown) => {
              if (error instanceof MtlsKitError) throw error;
              throw preconditionError('PLAN_NOT_FOUND', `${flags.plan} does not exist or cannot be read`, [
                'make one: mtls-kit deploy ... --plan-out plan.json',
              ]);
            }),
          flags.plan,
        )
      : null;
    const settings: DeploySettings = saved
      ? saved.settings
      : settingsFromFlags(flags, saved ? [] : (await resolveIdentityFilters(flags)).map(formatIdentityFilter));

    // Step 1: everything local first, so a bad bundle never reaches S3.
    const inputs: DeployInputs = await readDeployInputs({
      dir: settings.dir,
      bundle: settings.bundle,
      crls: settings.crls,
      prefix: settings.prefix,
      trustStoreName: settings.trustStoreName,
      listeners: settings.listeners,
      mutualAuthentication: settings.mutualAuthentication,
      connectionLogs: settings.connectionLogs ?? null,
      // OpenSSL's parse of a CRL runs after the remote read, only for CRLs AWS does not hold yet (a 500,000-entry CRL: ~0.5 s).
      deferCrlOpensslCheck: true,
      now: new Date(),
      onProgress: this.jsonEnabled() ? undefined : stderrProgress(),
    });

    const aws = await createAwsClients({
      region: flags.region ?? (saved ? settings.region : undefined),
      profile: flags.profile,
      endpointUrl: flags['endpoint-url'],
    });
    const readAndPlan = async (): Promise<{remote: RemoteRead; plan: DeployPlan}> => {
      const remote = await readRemoteState(aws, settings.bucket, inputs, {refresh: flags.refresh, s3: settings.s3});
      const plan = planDeploy(inputs.local, remote.state, {quotas: settings.quotas, allowRevocationGap: settings.allowRevocationGap, force: settings.force});
      return {remote, plan};
    };
    let {remote, plan} = await readAndPlan();
    const files = inputs.files.map((f) => ({path: f.path, sha256: f.sha256}));
    if (saved) checkSavedPlan(saved, files, fingerprintRemote(remote.state), plan, flags.plan!);
    const planOnly = flags['dry-run'] || Boolean(flags['plan-out']);
    // One deploy at a time per trust store: a run with changes takes the lease, then reads
    // the state again, so it plans from what a concurrent run left (see docs/deploy.md).
    const lease =
      plan.changes && !planOnly
        ? await acquireDeployLease(aws, {
            bucket: settings.bucket,
            prefix: settings.prefix,
            trustStoreName: settings.trustStoreName,
            ttlMs: (flags['wait-timeout'] + 600) * 1000,
            waitMs: flags['lease-timeout'] * 1000,
            ...settings.s3,
            onWait: (h) =>
              this.jsonEnabled() ||
              warn(
                `another deploy of ${settings.trustStoreName} is running (pid ${h.pid} on ${h.host}, since ${h.started}); waiting up to ${flags['lease-timeout']}s`,
              ),
          })
        : null;
    try {
      if (lease) {
        ({remote, plan} = await readAndPlan());
        // A saved plan applies only to the state it was made from, also after waiting for the lease.
        if (saved) checkSavedPlan(saved, files, fingerprintRemote(remote.state), plan, flags.plan!);
      }
      const result = await executeDeploy({
        aws,
        bucket: settings.bucket,
        inputs,
        remote,
        plan,
        dryRun: planOnly,
        waitTimeoutMs: flags['wait-timeout'] * 1000,
        pollIntervalMs: flags['poll-interval'],
        onProgress: this.jsonEnabled() ? undefined : stderrProgress(),
        tags: settings.tags,
        s3: settings.s3,
      });
      if (flags['plan-out']) {
        const file: SavedPlan = sealSavedPlan({
          mtlsKitPlan: SAVED_PLAN_VERSION,
          createdAt: new Date().toISOString(),
          settings: {...settings, region: aws.region},
          files,
          remote: fingerprintRemote(remote.state),
          plan,
          result,
        });
        await writeFileAtomic(flags['plan-out'], `${JSON.stringify(file, null, 2)}\n`, MODE_PUBLIC, {force: true});
        if (!this.jsonEnabled()) hint(`wrote ${flags['plan-out']}; apply exactly this plan: mtls-kit deploy --plan ${flags['plan-out']}`);
      }
      if (flags['exit-code'] && result.changed) this.resultExitCode = ExitCode.ChangesPending;
      return this.emit(result, renderDeploy);
    } finally {
      await lease?.release();
    }
  }
}

/**
 * With --plan the saved settings are the truth: only what does not change the plan
 * (AWS credentials and endpoint, waiting, output) may be given; any other flag would be
 * silently ignored, so it is refused.
 */
const FLAGS_HONOURED_WITH_PLAN = new Set(['plan', 'region', 'profile', 'endpoint-url', 'wait-timeout', 'poll-interval', 'lease-timeout', 'refresh', 'json']);

/** @throws MtlsKitError PLAN_FLAG_IGNORED (exit 2) naming the first flag --plan would ignore. */
function refuseFlagsIgnoredByPlan(raw: Array<{type: string; flag?: string}>): void {
  for (const r of raw) {
    if (r.type === 'flag' && r.flag && !FLAGS_HONOURED_WITH_PLAN.has(r.flag))
      throw usageError('PLAN_FLAG_IGNORED', `--${r.flag} cannot be combined with --plan: the plan file's own settings are applied`, [
        `leave out --${r.flag}, or make a new plan with it: mtls-kit deploy ... --${r.flag} ... --plan-out plan.json`,
      ]);
  }
}

/** The flags deploy --cloudfront-trust-store uses; any other would be silently ignored, so it is refused. */
const FLAGS_HONOURED_WITH_CLOUDFRONT = new Set([
  'cloudfront-trust-store',
  'distribution',
  'viewer-mtls-mode',
  'advertise-ca-names',
  'ignore-client-cert-expiry',
  'cloudfront-ocsp',
  'dir',
  'ca-bundle',
  'bucket',
  'prefix',
  'dry-run',
  'exit-code',
  'wait-timeout',
  'poll-interval',
  'lease-timeout',
  'region',
  'profile',
  'endpoint-url',
  'json',
]);

/** @throws MtlsKitError CLOUDFRONT_FLAG_UNSUPPORTED (exit 2) naming the first flag deploy --cloudfront-trust-store would ignore. */
function refuseFlagsIgnoredByCloudfront(raw: Array<{type: string; flag?: string}>): void {
  for (const r of raw)
    if (r.type === 'flag' && r.flag && !FLAGS_HONOURED_WITH_CLOUDFRONT.has(r.flag))
      throw usageError('CLOUDFRONT_FLAG_UNSUPPORTED', `--${r.flag} is not used by deploy --cloudfront-trust-store`, [
        `leave out --${r.flag}; CloudFront takes: ${[...FLAGS_HONOURED_WITH_CLOUDFRONT].map((f) => `--${f}`).join(' ')}`,
      ]);
}

type DeployFlags = Awaited<ReturnType<Deploy['parse']>>['flags'] & Record<string, unknown>;

/** The settings of a run from the command line (exit 2 on bad values). */
function settingsFromFlags(flags: {[K in keyof typeof Deploy.flags]?: unknown} & DeployFlags, identityFilters: string[]): DeploySettings {
  const name = flags['trust-store-name'] as string | undefined;
  const bucket = flags.bucket as string | undefined;
  if (!name)
    throw usageError('MISSING_TARGET', 'give --trust-store-name (ALB) or --apigw-domain (API Gateway), or --plan FILE', [
      'for example: --trust-store-name my-devices --bucket my-pki-bucket',
    ]);
  if (!bucket) throw usageError('MISSING_FLAG', '--bucket is required (or --plan FILE)', ['for example: --bucket my-pki-bucket']);
  const nameProblem = checkTrustStoreName(name);
  if (nameProblem)
    throw usageError('BAD_TRUST_STORE_NAME', `--trust-store-name "${name}" ${nameProblem} (ALB's rule, ^([a-zA-Z0-9]+-)*[a-zA-Z0-9]+$)`, [
      'for example: --trust-store-name my-devices-prod',
    ]);
  const listeners: ListenerTarget[] = [...new Set((flags['listener-arn'] as string[] | undefined) ?? [])].map((listenerArn) => ({
    kind: 'existing',
    listenerArn,
  }));
  if (flags['load-balancer-arn']) {
    listeners.push({
      kind: 'create',
      loadBalancerArn: flags['load-balancer-arn'] as string,
      port: flags.port as number,
      certificateArn: flags['certificate-arn'] as string,
      targetGroupArn: flags['target-group-arn'] as string,
    });
  }
  checkNlbTargets(listeners, flags.mode as MutualMode, identityFilters.length);
  const connectionLogs = flags['connection-logs'] ? parseConnectionLogsUri(flags['connection-logs'] as string) : null;
  if (connectionLogs) checkConnectionLogTargets(listeners);
  const sse = flags.sse as 'aws:kms' | 'AES256' | undefined;
  const kmsKeyId = flags['kms-key-id'] as string | undefined;
  if (sse === 'aws:kms' && !kmsKeyId)
    throw usageError('KMS_KEY_MISSING', '--sse aws:kms needs --kms-key-id', ['for example: --sse aws:kms --kms-key-id alias/pki']);
  const owner = flags['expected-bucket-owner'] as string | undefined;
  return {
    dir: flags.dir as string,
    bundle: flags['ca-bundle'] as string | undefined,
    crls: flags['skip-crl'] ? [] : (flags.crl as string[] | undefined),
    prefix: flags.prefix as string,
    trustStoreName: name,
    bucket,
    listeners,
    mutualAuthentication: {
      mode: flags.mode as MutualMode,
      ignoreClientCertificateExpiry: Boolean(flags['ignore-client-cert-expiry']),
      advertiseTrustStoreCaNames: flags['advertise-ca-names'] ? 'on' : 'off',
      identityFilters,
    },
    tags: parseTags((flags.tag as string[] | undefined) ?? []),
    s3: {...(sse ? {sse} : {}), ...(kmsKeyId ? {kmsKeyId} : {}), ...(owner ? {expectedBucketOwner: owner} : {})},
    quotas: {lists: flags['revocation-lists-quota'] as number, entries: flags['revocation-entries-quota'] as number},
    allowRevocationGap: Boolean(flags['allow-revocation-gap']),
    force: Boolean(flags.force),
    ...(connectionLogs ? {connectionLogs} : {}),
    region: '',
  };
}

/** `--tag KEY=VALUE` values, checked against AWS's tag rules (exit 2). */
function parseTags(values: string[]): Tag[] {
  const tags = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 1) throw usageError('BAD_TAG', `--tag "${v}" is not KEY=VALUE`, ['for example: --tag team=platform --tag env=prod']);
    const tag = {key: v.slice(0, eq), value: v.slice(eq + 1)};
    const problem = checkTag(tag);
    if (problem) throw usageError('BAD_TAG', `--tag "${v}": ${problem}`);
    if (tags.has(tag.key)) throw usageError('BAD_TAG', `--tag ${tag.key} is given twice`);
    tags.set(tag.key, tag.value);
  }
  return [...tags].map(([key, value]) => ({key, value}));
}
