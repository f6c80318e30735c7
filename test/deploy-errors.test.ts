import assert from 'node:assert/strict';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {startAwsStandIns} from './support/aws-env.js';
import {runCli} from './support/cli.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const BUCKET = 'err-bucket';
// An account with no trust-store quota left (aws-reference 3: 20 by default, L-A8F7060B).
const full = await startAwsStandIns([BUCKET], {maxTrustStores: 0});
const aws = await startAwsStandIns([BUCKET]);
const dirCa = await makeTestCa(join(tempDir(), 'pki'), {cn: 'Deploy Test Root'});
const dir = dirCa.dir;
dirCa.revokeSerial('0E01', 'root');
dirCa.opensslCrl('root');

describe('deploy error paths', () => {
  it('TooManyTrustStores names the quota code and keeps the request id (exit 5)', async () => {
    const r = await runCli(['deploy', '--dir', dir, '--trust-store-name', 'ts', '--bucket', BUCKET], {env: full.env});
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /trust-store quota is reached/);
    assert.match(r.stderr, /--quota-code L-A8F7060B/);
    assert.match(r.stderr, /request id [0-9a-f-]{36}/);
    const j = await runCli(['deploy', '--dir', dir, '--trust-store-name', 'ts', '--bucket', BUCKET, '--json'], {env: full.env});
    assert.equal(j.json.error.code, 'TOO_MANY_TRUST_STORES');
    assert.match(j.json.error.details.requestId, /^[0-9a-f-]{36}$/);
    assert.equal(j.json.error.details.action, 'elasticloadbalancing:CreateTrustStore');
  });

  it('a CRL AWS would reject (SHA-1 signature) is named by file, locally or by AWS', async () => {
    const crlDirCa = await makeTestCa(join(tempDir(), 'sha1'), {cn: 'Deploy Test Root'});
    const crlDir = crlDirCa.dir;
    crlDirCa.revokeSerial('0E02', 'root');
    crlDirCa.opensslCrl('root', {md: 'sha1'});
    const r = await runCli(['deploy', '--dir', crlDir, '--trust-store-name', 'sha1-ts', '--bucket', BUCKET, '--json'], {
      env: {...aws.env, OPENSSL_CONF: undefined},
    });
    // lint does not judge CRL signature algorithms today, so the emulator rejects it like ALB
    // (InvalidRevocationContent, exit 5); if lint learns the rule it stops it locally (exit 4).
    assert.ok(r.code === 5 || r.code === 4, r.stdout);
    assert.match(r.json.error.message, /root\/crl\.pem/);
    if (r.code === 5) {
      assert.equal(r.json.error.code, 'CRL_REJECTED');
      assert.match(r.json.error.suggestions[0], /mtls-kit lint .*root\/crl\.pem/);
    }
  });

  it('--endpoint-url sends both services to the given URL (and nowhere else)', async () => {
    const before = aws.elb.calls.length;
    const r = await runCli(['deploy', '--dir', dir, '--trust-store-name', 'ts', '--bucket', BUCKET, '--endpoint-url', aws.elb.url], {
      env: {...aws.env, AWS_ENDPOINT_URL: undefined, AWS_ENDPOINT_URL_S3: undefined, AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: undefined},
    });
    // The S3 HeadBucket reached the ELBv2 emulator, which is not S3: an AWS failure.
    assert.equal(r.code, 5, r.stderr);
    assert.deepEqual(
      aws.elb.calls.slice(before).map((c) => c.action),
      [`HEAD /${BUCKET}/`],
    );
  });

  it('--mode passthrough sets the listener without a trust store; a second run is unchanged', async () => {
    const lb = aws.elb.addLoadBalancer('pt-alb');
    const args = [
      'deploy',
      '--dir',
      dir,
      '--trust-store-name',
      'pt',
      '--bucket',
      BUCKET,
      '--mode',
      'passthrough',
      '--load-balancer-arn',
      lb,
      '--port',
      '8443',
      '--certificate-arn',
      'arn:cert',
      '--target-group-arn',
      'arn:tg',
      '--json',
    ];
    const r = await runCli(args, {env: aws.env});
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.deepEqual(r.json.listener.mutualAuthentication, {
      mode: 'passthrough',
      trustStoreArn: null,
      ignoreClientCertificateExpiry: false,
      advertiseTrustStoreCaNames: 'off',
    });
    const created = aws.elb.served('CreateListener').at(-1)!.params;
    assert.equal(created['MutualAuthentication.Mode'], 'passthrough');
    assert.equal(created['MutualAuthentication.TrustStoreArn'], undefined);
    const again = await runCli(args, {env: aws.env});
    assert.equal(again.json.changed, false);
    assert.equal(again.json.listener.action, 'unchanged');
  });

  // The listener side can lag behind DescribeTrustStores saying ACTIVE: deploy retries
  // TrustStoreNotReady a few times, then reports it with the next step.
  const lagging = async (lbName: string, failures: number) => {
    const lb = aws.elb.addLoadBalancer(lbName);
    aws.elb.injectFault({kind: 'error', code: 'TrustStoreNotReady', count: failures, action: 'CreateListener'});
    const r = await runCli(
      [
        'deploy',
        '--dir',
        dir,
        '--trust-store-name',
        'lag',
        '--bucket',
        BUCKET,
        '--load-balancer-arn',
        lb,
        '--port',
        '443',
        '--certificate-arn',
        'arn:cert',
        '--target-group-arn',
        'arn:tg',
        '--json',
      ],
      {env: aws.env},
    );
    return {r, attempts: aws.elb.calls.filter((c) => c.action === 'CreateListener' && c.params.LoadBalancerArn === lb).length};
  };

  it('retries TrustStoreNotReady on the listener call', async () => {
    const {r, attempts} = await lagging('lag-alb', 2);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.json.listener.action, 'create');
    assert.equal(attempts, 3);
  });

  it('TrustStoreNotReady that does not clear is reported with the next step (exit 5)', async () => {
    const {r, attempts} = await lagging('never-alb', 5);
    assert.equal(r.code, 5, r.stdout + r.stderr);
    assert.equal(r.json.error.code, 'TRUST_STORE_NOT_READY');
    assert.match(r.json.error.suggestions[0], /--wait-timeout/);
    assert.equal(attempts, 5);
  });

  it('refuses a non-HTTPS listener before any change (exit 4)', async () => {
    const lb = aws.elb.addLoadBalancer('http-alb');
    const {ElasticLoadBalancingV2Client, CreateListenerCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2');
    const c = new ElasticLoadBalancingV2Client({region: 'us-east-1', endpoint: aws.elb.url, credentials: {accessKeyId: 'test', secretAccessKey: 'test'}});
    const l = await c.send(
      new CreateListenerCommand({LoadBalancerArn: lb, Protocol: 'HTTP', Port: 80, DefaultActions: [{Type: 'forward', TargetGroupArn: 'arn:tg'}]}),
    );
    c.destroy();
    const mutating = aws.elb.mutatingCalls().length;
    const r = await runCli(['deploy', '--dir', dir, '--trust-store-name', 'http-ts', '--bucket', BUCKET, '--listener-arn', l.Listeners![0]!.ListenerArn!], {
      env: aws.env,
    });
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /is HTTP; mutual TLS needs an HTTPS listener/);
    assert.equal(aws.elb.mutatingCalls().length, mutating);
  });
});

describe('deploy preconditions (exit 4)', () => {
  it('no region configured', async () => {
    const r = await runCli(['deploy', '--dir', dir, '--trust-store-name', 'ts', '--bucket', BUCKET, '--json'], {env: {...aws.env, AWS_REGION: undefined}});
    assert.equal(r.code, 4, r.stdout + r.stderr);
    assert.equal(r.json.error.code, 'AWS_REGION_MISSING');
  });

  it('no credentials found', async () => {
    const r = await runCli(['deploy', '--dir', dir, '--trust-store-name', 'ts', '--bucket', BUCKET, '--json'], {
      env: {
        ...aws.env,
        AWS_ACCESS_KEY_ID: undefined,
        AWS_SECRET_ACCESS_KEY: undefined,
        AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
        AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
        AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
      },
    });
    assert.equal(r.code, 4, r.stdout + r.stderr);
    assert.equal(r.json.error.code, 'AWS_CREDENTIALS_MISSING');
  });

  it('an unknown --profile', async () => {
    const r = await runCli(['deploy', '--dir', dir, '--trust-store-name', 'ts', '--bucket', BUCKET, '--profile', 'nope', '--json'], {
      env: {...aws.env, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined},
    });
    assert.equal(r.code, 4, r.stdout + r.stderr);
    assert.equal(r.json.error.code, 'AWS_CREDENTIALS_MISSING');
  });
});
