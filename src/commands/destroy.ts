import {createInterface} from 'node:readline/promises';
import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {awsFlags, cloudfrontDeployFlags, deployInputFlags} from '../flags.js';
import {createCloudfrontClients, runCloudfrontDestroy} from '../flows/cloudfront-deploy.js';
import type {CloudfrontDestroyResult} from '../lib/cloudfront/deploy-plan.js';
import {renderCloudfrontDestroy} from '../ui/cloudfront-render.js';
import {type AwsClients, createAwsClients} from '../io/aws/clients.js';
import {acquireDeployLease, cloudfrontLeaseKey, type DeployLease, leaseKey, leaseLeftUnder} from '../io/aws/lease.js';
import {type DestroyRead, type DestroyTarget, executeDestroy, nameOfTrustStoreArn, readDestroyState} from '../flows/destroy.js';
import {type DestroyPlan, type DestroyResult, planDestroy} from '../lib/deploy/destroy-plan.js';
import {checkTrustStoreName} from '../lib/deploy/plan.js';
import {ExitCode, usageError} from '../lib/errors.js';
import {renderDestroy} from '../ui/destroy-render.js';
import {err as c, printErr, warn} from '../ui/output.js';

export type {DestroyResult} from '../lib/deploy/destroy-plan.js';

/** The flags the deploy lease is taken with. */
interface LeaseFlags {
  bucket: string;
  prefix: string;
  'lease-timeout': number;
  'expected-bucket-owner'?: string | undefined;
  sse?: 'aws:kms' | 'AES256' | undefined;
  'kms-key-id'?: string | undefined;
}

export default class Destroy extends BaseCommand {
  static override summary =
    'Undo deploy: turn mutual TLS off on the named listeners, remove the revocation lists, delete the trust store, and with --delete-objects the S3 objects deploy wrote for it.';
  static override description =
    `Steps, in order: (1) read the trust store (--trust-store-name or --trust-store-arn), the listeners that use it (DescribeTrustStoreAssociations) and each --listener-arn, and refuse before any change when it is not deploy's (no mtls-kit records; --force overrides) or when a listener that is not named uses it; (2) set each named listener that verifies against it to Mode=off (ALB HTTPS and NLB TLS listeners alike; a listener in passthrough or off uses no trust store and is left as it is); (3) with --delete-objects, delete the objects deploy wrote under --prefix that hold what the trust store holds (its bundle, its CRLs; --all-objects: every object deploy wrote there); (4) remove its revocation lists; (5) delete the trust store.

Each step is idempotent: a run stopped at any point (even kill -9) is finished by the next one, and a run on nothing left changes nothing and exits 0. Without a terminal, destroy changes nothing unless --yes is given; at a terminal it asks. --dry-run prints the plan (each listener before and after) and makes no mutating call. destroy takes the same lease as deploy, so it never runs during a deploy of the same trust store.

Versioned buckets: S3 keeps the earlier versions of a deleted object (a delete marker is added); destroy says so and leaves them.

CloudFront (--cloudfront-trust-store NAME, --distribution ID repeatable): turns viewer mTLS off on each named distribution that uses the trust store, then deletes the trust store and deploy's record beside the bundle in S3 (the bundle objects stay); refuses (exit 4) when a distribution that is not named uses it. It takes the CloudFront deploy lease (<prefix>locks/cloudfront/NAME.json) as deploy does; a lease a killed deploy left there is listed and deleted, as for ALB.

Exit codes: 0 destroyed (or nothing left, or planned with --dry-run); 10 with --exit-code and --dry-run: something to destroy; 2 bad flags, or changes to make without --yes and without a terminal; 4 a precondition (a trust store without deploy's records, a listener not named that uses it, a named listener that uses another trust store, no region or credentials, a bucket in another region); 5 AWS failed, with the AWS request id.`;

  static override examples = [
    '<%= config.bin %> destroy --trust-store-name my-devices --bucket my-pki-bucket --listener-arn <listener-arn> --dry-run',
    '<%= config.bin %> destroy --trust-store-name my-devices --bucket my-pki-bucket --listener-arn <listener-arn> --delete-objects --yes',
    '<%= config.bin %> destroy --trust-store-arn <trust-store-arn> --bucket my-pki-bucket --yes --json',
  ];

  static override flags = {
    'trust-store-name': Flags.string({...deployInputFlags['trust-store-name'], required: false}),
    'trust-store-arn': Flags.string({
      summary: 'The trust store by ARN instead of name (a name given too, for example by MTLS_KIT_TRUST_STORE_NAME, must be the same).',
      helpValue: 'ARN',
    }),
    bucket: deployInputFlags.bucket,
    prefix: deployInputFlags.prefix,
    'listener-arn': Flags.string({
      summary: 'Listener whose mutual TLS to turn off (Mode=off) when it verifies against the trust store; repeatable.',
      multiple: true,
      helpValue: 'ARN',
    }),
    'delete-objects': Flags.boolean({
      summary: "Also delete the S3 objects deploy wrote under --prefix that hold the trust store's bundle or CRLs.",
      default: false,
    }),
    'all-objects': Flags.boolean({
      summary: 'With --delete-objects: every object deploy wrote under --prefix (earlier rotations, other trust stores deployed with this prefix).',
      default: false,
      dependsOn: ['delete-objects'],
    }),
    force: Flags.boolean({summary: 'Destroy a trust store that carries no mtls-kit deploy records.', default: false}),
    yes: Flags.boolean({char: 'y', summary: 'Make the changes without asking (required without a terminal).', default: false}),
    'dry-run': Flags.boolean({summary: 'Print the plan; make no mutating call.', default: false}),
    'exit-code': Flags.boolean({summary: 'With --dry-run: exit 10 when there is something to destroy (0 when nothing).', default: false}),
    'expected-bucket-owner': Flags.string({
      summary: 'Account id that must own --bucket (S3 refuses the calls otherwise).',
      env: 'MTLS_KIT_EXPECTED_BUCKET_OWNER',
      helpValue: 'ID',
    }),
    sse: Flags.option({
      summary: "Server-side encryption of the lease object destroy writes while it runs (as deploy's --sse, for buckets that require it).",
      options: ['aws:kms', 'AES256'] as const,
    })(),
    'kms-key-id': Flags.string({summary: 'KMS key for --sse aws:kms.', dependsOn: ['sse'], helpValue: 'KEY'}),
    'lease-timeout': Flags.integer({summary: 'Seconds to wait while a deploy of the same trust store runs.', default: 300, min: 0}),
    'cloudfront-trust-store': Flags.string({
      helpValue: 'NAME',
      summary: 'CloudFront trust store to delete, after turning viewer mTLS off on the --distribution(s) that use it.',
      exclusive: ['trust-store-name', 'trust-store-arn'],
    }),
    distribution: cloudfrontDeployFlags.distribution,
    ...awsFlags,
  };

  async run(): Promise<DestroyResult | CloudfrontDestroyResult> {
    const {flags} = await this.parse(Destroy);
    const cfName = flags['cloudfront-trust-store'];
    if (cfName) {
      if (flags['exit-code'] && !flags['dry-run'])
        throw usageError('EXIT_CODE_NEEDS_PLAN', '--exit-code reports pending changes, so it needs --dry-run', [
          'for example: mtls-kit destroy ... --dry-run --exit-code',
        ]);
      const params = {
        clients: await createCloudfrontClients({region: flags.region, profile: flags.profile, endpointUrl: flags['endpoint-url']}),
        bucket: flags.bucket,
        prefix: flags.prefix,
        name: cfName,
        distributions: [...new Set(flags.distribution ?? [])],
        expectedBucketOwner: flags['expected-bucket-owner'],
      };
      const plan = await runCloudfrontDestroy({...params, dryRun: true});
      if (flags['dry-run'] || !plan.changed) {
        if (flags['exit-code'] && plan.changed) this.resultExitCode = ExitCode.ChangesPending;
        return this.emit(flags['dry-run'] ? plan : {...plan, dryRun: false}, renderCloudfrontDestroy);
      }
      if (!flags.yes) await confirm(plan.summary, cfName);
      // The CloudFront deploy lease (cloudfrontLeaseKey); the run reads the state again under it.
      const lease = await this.takeLease(flags, params.clients.aws, cfName, cloudfrontLeaseKey(params.prefix, cfName), `CloudFront trust store ${cfName}`);
      try {
        return this.emit(await runCloudfrontDestroy({...params, dryRun: false, leftLease: leaseLeftUnder(lease, plan.lease)}), renderCloudfrontDestroy);
      } finally {
        await lease.release();
      }
    }
    const name = flags['trust-store-name'];
    const arn = flags['trust-store-arn'];
    if (!name && !arn)
      throw usageError('MISSING_TARGET', 'give --trust-store-name or --trust-store-arn', ['for example: --trust-store-name my-devices --bucket my-pki-bucket']);
    const nameProblem = name ? checkTrustStoreName(name) : null;
    if (nameProblem) throw usageError('BAD_TRUST_STORE_NAME', `--trust-store-name "${name}" ${nameProblem}`);
    if (arn && !/^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:truststore\/[^/]+\/[^/]+$/.test(arn))
      throw usageError('BAD_TRUST_STORE_ARN', `--trust-store-arn "${arn}" is not a trust-store ARN`, [
        'for example: arn:aws:elasticloadbalancing:us-east-1:111122223333:truststore/my-devices/3ym756xh7yj',
      ]);
    if (flags.sse === 'aws:kms' && !flags['kms-key-id'])
      throw usageError('KMS_KEY_MISSING', '--sse aws:kms needs --kms-key-id', ['for example: --sse aws:kms --kms-key-id alias/pki']);
    if (arn && name && nameOfTrustStoreArn(arn) !== name)
      throw usageError(
        'TRUST_STORE_MISMATCH',
        `--trust-store-arn names trust store ${nameOfTrustStoreArn(arn)}, but --trust-store-name (or MTLS_KIT_TRUST_STORE_NAME) is ${name}`,
        ['give one of them, or make them agree'],
      );
    if (flags['exit-code'] && !flags['dry-run'])
      throw usageError('EXIT_CODE_NEEDS_PLAN', '--exit-code reports pending changes, so it needs --dry-run', [
        'for example: mtls-kit destroy ... --dry-run --exit-code',
      ]);

    const target: DestroyTarget = {
      bucket: flags.bucket,
      prefix: flags.prefix,
      name,
      arn,
      listenerArns: [...new Set(flags['listener-arn'] ?? [])],
      objects: flags['delete-objects'],
      allObjects: flags['all-objects'],
      expectedBucketOwner: flags['expected-bucket-owner'],
    };
    const aws = await createAwsClients({region: flags.region, profile: flags.profile, endpointUrl: flags['endpoint-url']});
    const options = {force: flags.force, allObjects: flags['all-objects']};
    const readAndPlan = async (ourLease?: DestroyRead['state']['lease']): Promise<{read: DestroyRead; plan: DestroyPlan}> => {
      const read = await readDestroyState(aws, target);
      // Under our own lease the lease object is ours: it is left over only if it was before.
      if (ourLease !== undefined) read.state.lease = ourLease;
      return {read, plan: planDestroy(read.name, read.state, options)};
    };
    let {read, plan} = await readAndPlan();
    const quiet = this.jsonEnabled();
    const run = (dryRun: boolean) =>
      executeDestroy({
        aws,
        target,
        name: read.name,
        plan,
        deployed: read.state.trustStore?.deployed ?? null,
        dryRun,
        onStep: quiet ? undefined : (line) => printErr(c.dim(line)),
      });

    if (flags['dry-run'] || !plan.changes) {
      const result = await run(true);
      // Nothing to do is a finished destroy, not a plan.
      const shown = flags['dry-run'] ? result : {...result, dryRun: false};
      if (flags['exit-code'] && result.changed) this.resultExitCode = ExitCode.ChangesPending;
      return this.emit(shown, renderDestroy);
    }
    if (!flags.yes) await confirm((await run(true)).summary, read.name);

    const lease = await this.takeLease(flags, aws, read.name, leaseKey(target.prefix, read.name), read.name);
    try {
      // Under the lease, plan from what a concurrent deploy may have left.
      ({read, plan} = await readAndPlan(leaseLeftUnder(lease, read.state.lease)));
      return this.emit(await run(false), renderDestroy);
    } finally {
      await lease.release();
    }
  }

  /**
   * The deploy lease, as deploy takes it (one lease for the ALB and CloudFront destroys):
   * a stale one is taken over, a live one waited for up to --lease-timeout (then exit 4).
   */
  private takeLease(flags: LeaseFlags, aws: AwsClients, name: string, key: string, what: string): Promise<DeployLease> {
    return acquireDeployLease(aws, {
      bucket: flags.bucket,
      prefix: flags.prefix,
      trustStoreName: name,
      key,
      ttlMs: 15 * 60_000,
      waitMs: flags['lease-timeout'] * 1000,
      expectedBucketOwner: flags['expected-bucket-owner'],
      sse: flags.sse,
      kmsKeyId: flags['kms-key-id'],
      onWait: (h) =>
        this.jsonEnabled() || warn(`a deploy of ${what} is running (pid ${h.pid} on ${h.host}, since ${h.started}); waiting up to ${flags['lease-timeout']}s`),
    });
  }
}

/**
 * Asks at a terminal; without one (CI, a pipe) destroy needs --yes.
 * @throws MtlsKitError CONFIRMATION_REQUIRED (exit 2) without a terminal, DESTROY_CANCELLED (exit 2) when the answer is not the name.
 */
async function confirm(summary: string, name: string): Promise<void> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw usageError('CONFIRMATION_REQUIRED', `destroy needs --yes without a terminal; it ${summary}`, [
      'review the plan with --dry-run, then re-run with --yes',
    ]);
  }
  const rl = createInterface({input: process.stdin, output: process.stderr});
  try {
    const answer = await rl.question(`${summary}. Type the trust store name (${name}) to go ahead: `);
    if (answer.trim() !== name) throw usageError('DESTROY_CANCELLED', 'destroy cancelled: nothing was changed');
  } finally {
    rl.close();
  }
}
