import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {startEmulator} from '../io/emulate/index.js';
import {MODE_PUBLIC, writeFileAtomic} from '../io/files.js';
import {waitForStopSignal} from '../io/stop-signal.js';
import {preconditionError, usageError} from '../lib/errors.js';
import {err as ec, hint, printErr, printLine} from '../ui/output.js';

/** What `emulate --json` prints once every server listens (the command then runs until stopped). */
export interface EmulateResult {
  /** The one endpoint of every emulated service, `http://127.0.0.1:PORT`. */
  endpoint: string;
  region: string;
  /** The variables to export, in order (also the lines printed and written to --ready-file). */
  env: Record<string, string>;
  buckets: Array<{name: string; versioned: boolean}>;
  loadBalancers: Array<{name: string; type: 'application' | 'network'; arn: string}>;
  apigwDomains: Array<{name: string; api: 'rest' | 'http'}>;
  /** CloudFront distribution ids created (--distribution). */
  distributions: string[];
}

/** Any ARN does for these: the emulator keeps no ACM certificates or target groups. */
const CERTIFICATE_ARN = 'arn:aws:acm:REGION:123456789012:certificate/emulated';
const TARGET_GROUP_ARN = 'arn:aws:elasticloadbalancing:REGION:123456789012:targetgroup/emulated/0123456789abcdef';

export default class Emulate extends BaseCommand {
  static override summary =
    'Run offline stand-ins for S3, ELBv2 trust stores, API Gateway custom domains, CloudFront trust stores and ACM certificate import on 127.0.0.1, to try deploy, status, destroy and origin-cert --acm-import.';
  static override description =
    `One port on 127.0.0.1 answers the S3, ELBv2, API Gateway and CloudFront calls of deploy, status and destroy, in memory, until Ctrl-C. It prints the export lines that point the AWS SDK (mtls-kit, the AWS CLI, any SDK) at it, with dummy credentials; paste them into the shell where you run mtls-kit.

What it is: an emulator of the documented API and its validation, the same one mtls-kit's tests run against. Trust stores read and check the bundle and CRLs from the emulated S3 as ELBv2 documents (PEM only, no blank lines, key and signature rules, quotas), go CREATING then ACTIVE, and answer AWS's error codes; API Gateway domains check the truststore and report truststoreWarnings. What it is not: AWS. No IAM (every call is allowed), no signature check, nothing is kept after it stops, and the load balancers and domains serve no traffic (mtls-kit serve runs a local listener). LocalStack and moto implement none of the ELBv2 trust-store operations, which is why this exists.

--bucket and --versioned-bucket create buckets (aws s3 mb works too); --alb and --nlb create load balancers and print their ARNs (the first ALB as LOAD_BALANCER_ARN); --apigw-domain creates a Regional custom domain name with a REST API mapped (NAME:http for an HTTP API); --distribution creates a CloudFront distribution (trust stores are account-level: deploy creates them). --ready-file writes the export lines to FILE once every server listens: a script waits for it, then sources it.

--json prints one JSON object on stdout once listening: {endpoint, region, env, buckets, loadBalancers, apigwDomains, distributions}.

Exit codes: 0 stopped by Ctrl-C (SIGINT) or SIGTERM; 2 bad flag values; 4 the port is in use.`;

  static override examples = [
    '<%= config.bin %> emulate --port 4566 --bucket acme-mtls --alb acme-alb',
    '<%= config.bin %> emulate --port 4566 --versioned-bucket acme-truststores --apigw-domain api.example.com --ready-file aws.env',
  ];

  static override flags = {
    port: Flags.integer({summary: 'Port on 127.0.0.1 (0 picks a free one).', default: 4566, min: 0, max: 65535}),
    bucket: Flags.string({summary: 'Create this S3 bucket (repeatable).', multiple: true, helpValue: 'NAME'}),
    'versioned-bucket': Flags.string({
      summary: 'Create this S3 bucket with versioning enabled (repeatable; API Gateway truststores).',
      multiple: true,
      helpValue: 'NAME',
    }),
    alb: Flags.string({
      summary: 'Create an Application Load Balancer (repeatable); the first is exported as LOAD_BALANCER_ARN.',
      multiple: true,
      helpValue: 'NAME',
    }),
    nlb: Flags.string({summary: 'Create a Network Load Balancer (repeatable); the first is exported as NLB_ARN.', multiple: true, helpValue: 'NAME'}),
    'apigw-domain': Flags.string({
      summary: 'Create an API Gateway Regional custom domain name with a REST API mapped (NAME:http for an HTTP API; repeatable).',
      multiple: true,
      helpValue: 'NAME[:http]',
    }),
    distribution: Flags.string({
      summary: 'Create a CloudFront distribution with this id (repeatable; deploy --cloudfront-trust-store --distribution ID).',
      multiple: true,
      helpValue: 'ID',
    }),
    region: Flags.string({summary: 'The region the emulated resources are in.', default: 'us-east-1'}),
    'ready-file': Flags.string({
      summary: 'Write the export lines to FILE once every server listens (a script waits for it, then sources it).',
      helpValue: 'FILE',
    }),
  };

  async run(): Promise<EmulateResult | undefined> {
    const {flags} = await this.parse(Emulate);
    const domains = (flags['apigw-domain'] ?? []).map((d) => {
      const [name, api = 'rest'] = d.split(':');
      if (!name || (api !== 'rest' && api !== 'http'))
        throw usageError('BAD_APIGW_DOMAIN', `--apigw-domain ${d}: expected NAME or NAME:http`, ['e.g. --apigw-domain api.example.com']);
      return {name, api: api as 'rest' | 'http'};
    });
    const buckets = [
      ...(flags.bucket ?? []).map((name) => ({name, versioned: false})),
      ...(flags['versioned-bucket'] ?? []).map((name) => ({name, versioned: true})),
    ];
    for (const b of buckets)
      if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(b.name))
        throw usageError('BAD_BUCKET_NAME', `bucket name ${b.name} is not valid in S3`, ['3 to 63 characters: lower-case letters, digits, dots and hyphens']);
    // Listening for Ctrl-C before anything says "ready": Node starts a signal handler only
    // on a later turn of the event loop, and a script may stop us right after the ready file.
    const stopped = waitForStopSignal();
    let running: Awaited<ReturnType<typeof startEmulator>>;
    try {
      running = await startEmulator({
        port: flags.port,
        region: flags.region,
        buckets: flags.bucket ?? [],
        versionedBuckets: flags['versioned-bucket'] ?? [],
        albs: flags.alb ?? [],
        nlbs: flags.nlb ?? [],
        domains,
        distributions: flags.distribution ?? [],
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES')
        throw preconditionError('PORT_IN_USE', `cannot listen on 127.0.0.1:${flags.port}: ${code}`, ['choose another --port (0 picks a free one)']);
      throw error;
    }
    const env: Record<string, string> = {
      AWS_ENDPOINT_URL: running.url,
      AWS_ENDPOINT_URL_S3: running.url,
      AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: running.url,
      AWS_ENDPOINT_URL_API_GATEWAY: running.url,
      AWS_ENDPOINT_URL_APIGATEWAYV2: running.url,
      AWS_ENDPOINT_URL_CLOUDFRONT: running.url,
      AWS_ENDPOINT_URL_ACM: running.url,
      AWS_REGION: flags.region,
      AWS_ACCESS_KEY_ID: 'emulate',
      AWS_SECRET_ACCESS_KEY: 'emulate',
    };
    const alb = running.loadBalancers.find((l) => l.type === 'application');
    const nlb = running.loadBalancers.find((l) => l.type === 'network');
    if (alb) env.LOAD_BALANCER_ARN = alb.arn;
    if (nlb) env.NLB_ARN = nlb.arn;
    if (alb || nlb) {
      env.CERTIFICATE_ARN = CERTIFICATE_ARN.replace('REGION', flags.region);
      env.TARGET_GROUP_ARN = TARGET_GROUP_ARN.replace('REGION', flags.region);
    }
    // A real profile or session token must not mix with the dummy keys.
    const lines = ['unset AWS_PROFILE AWS_SESSION_TOKEN', ...Object.entries(env).map(([k, v]) => `export ${k}=${v}`)];
    if (flags['ready-file']) await writeFileAtomic(flags['ready-file'], lines.join('\n') + '\n', MODE_PUBLIC, {force: true});
    const result: EmulateResult = {
      endpoint: running.url,
      region: flags.region,
      env,
      buckets,
      loadBalancers: running.loadBalancers,
      apigwDomains: domains,
      distributions: flags.distribution ?? [],
    };
    if (this.jsonEnabled()) process.stdout.write(JSON.stringify(result) + '\n');
    else {
      printErr(
        `${ec.cyan('emulate:')} S3, ELBv2 trust stores and listeners, API Gateway custom domain names, CloudFront trust stores and distributions, and ACM certificate import (us-east-1, origin-cert --acm-import) on ${running.url} (region ${flags.region}): an emulator of the documented API and its validation, in memory, with no IAM and no signature check; not AWS`,
      );
      for (const b of buckets) printErr(`  bucket ${b.name}${b.versioned ? ' (versioned)' : ''}`);
      for (const l of running.loadBalancers) printErr(`  ${l.type === 'network' ? 'NLB' : 'ALB'} ${l.name}: ${l.arn}`);
      for (const d of domains) printErr(`  custom domain ${d.name} with a${d.api === 'http' ? 'n HTTP' : ' REST'} API mapped`);
      for (const d of flags.distribution ?? []) printErr(`  CloudFront distribution ${d}`);
      printErr(`${ec.cyan('emulate:')} paste these lines into the shell where you run mtls-kit (or the AWS CLI); Ctrl-C stops:`);
      for (const l of lines) printLine(l);
    }
    await stopped;
    if (!this.jsonEnabled()) hint('stopping…');
    await running.close();
    return undefined;
  }
}
