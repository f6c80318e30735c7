/**
 * The two local AWS stand-ins every deploy/status test starts: s3rver and the ELBv2
 * emulator, and the environment that points the CLI at them and nowhere else.
 */
import {join} from 'node:path';
import {after} from 'node:test';
import {Elbv2Emulator, type Elbv2EmulatorOptions} from './elbv2-emulator.js';
import {type S3Server, startS3} from './s3-server.js';
import {tempDir} from './tmp.js';

// Tests that build SDK clients themselves: no Node-version notice on stderr.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface AwsStandIns {
  s3: S3Server;
  elb: Elbv2Emulator;
  /** Environment for runCli: dummy credentials, region, both endpoints, no shared config. */
  env: Record<string, string | undefined>;
}

/** Starts both servers (stopped when the test file ends). */
export async function startAwsStandIns(buckets: string[], opts: Partial<Elbv2EmulatorOptions> = {}): Promise<AwsStandIns> {
  const s3 = await startS3(buckets);
  const elb = new Elbv2Emulator({s3Endpoint: s3.url, activationDelayMs: 200, ...opts});
  await elb.start();
  after(async () => {
    await elb.stop();
    await s3.stop();
  });
  const home = tempDir('mtls-kit-aws-home-');
  const env: Record<string, string | undefined> = {
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_SESSION_TOKEN: undefined,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: undefined,
    AWS_PROFILE: undefined,
    // Every endpoint points at 127.0.0.1: the global one too, so no client can reach AWS.
    AWS_ENDPOINT_URL: elb.url,
    AWS_ENDPOINT_URL_S3: s3.url,
    AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: elb.url,
    AWS_CONFIG_FILE: `${home}/config`,
    AWS_SHARED_CREDENTIALS_FILE: `${home}/credentials`,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_MAX_ATTEMPTS: undefined,
    MTLS_KIT_POLL_INTERVAL_MS: '50',
  };
  return {s3, elb, env};
}

/**
 * The environment that points the CLI at one `mtls-kit emulate` front (every service on
 * `url`, 127.0.0.1) and at no AWS configuration, credentials or instance metadata.
 */
export function emulatorCliEnv(url: string, dir: string): Record<string, string | undefined> {
  return {
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_SESSION_TOKEN: undefined,
    AWS_REGION: 'eu-west-1',
    AWS_PROFILE: undefined,
    AWS_ENDPOINT_URL: url,
    AWS_ENDPOINT_URL_S3: url,
    AWS_ENDPOINT_URL_CLOUDFRONT: url,
    AWS_CONFIG_FILE: join(dir, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    MTLS_KIT_POLL_INTERVAL_MS: '50',
  };
}
