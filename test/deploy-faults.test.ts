/**
 * deploy and status under faults, measured through a fault proxy on 127.0.0.1 in front of
 * s3rver and the ELBv2 emulator: hung connections, lost answers, 5xx and throttling. After
 * each fault: the trust store and S3 are checked with `status`, and a second run makes no
 * mutating call.
 */
import assert from 'node:assert/strict';
import {join} from 'node:path';
import {after, describe, it} from 'node:test';
import {ElasticLoadBalancingV2Client, AddTrustStoreRevocationsCommand} from '@aws-sdk/client-elastic-load-balancing-v2';
import {startAwsStandIns} from './support/aws-env.js';
import {runCli} from './support/cli.js';
import {FaultProxy} from './support/fault-proxy.js';
import {makeTestCa, type TestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const BUCKET = 'fault-bucket';
const aws = await startAwsStandIns([BUCKET]);
const proxy = new FaultProxy(aws.s3.url, aws.elb.url);
await proxy.start();
after(() => proxy.stop());
// Short request timeout and few attempts keep a hung request cheap; every endpoint is the proxy.
const env = {
  ...aws.env,
  AWS_ENDPOINT_URL: proxy.url,
  AWS_ENDPOINT_URL_S3: proxy.url,
  AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: proxy.url,
  MTLS_KIT_AWS_TIMEOUT_MS: '1500',
  AWS_MAX_ATTEMPTS: '3',
};

async function newCa(name: string): Promise<TestCa> {
  const ca = await makeTestCa(join(tempDir(), name), {cn: `Faults ${name}`, intermediate: true});
  ca.revokeSerial('0B01', 'intermediate');
  ca.opensslCrl('root');
  ca.opensslCrl('intermediate');
  return ca;
}

const deploy = (ca: TestCa, name: string, extra: string[] = [], e: Record<string, string | undefined> = {}) =>
  runCli(['deploy', '--dir', ca.dir, '--trust-store-name', name, '--bucket', BUCKET, '--json', ...extra], {env: {...env, ...e}, timeoutMs: 90_000});
const status = (ca: TestCa, name: string) =>
  runCli(['status', '--dir', ca.dir, '--trust-store-name', name, '--bucket', BUCKET, '--json'], {env, timeoutMs: 90_000});

/** The state after a fault: status in sync (no duplicate lists), and a re-run makes no mutating call. */
async function assertConverged(ca: TestCa, name: string, lists: number): Promise<void> {
  const s = await status(ca, name);
  assert.equal(s.code, 0, s.stdout);
  assert.equal(s.json.trustStore.revocationIds.length, lists, s.stdout);
  assert.ok(!s.json.checks.some((c: {name: string}) => c.name === 'trust-store-duplicate'));
  const mark = proxy.requests.length;
  const again = await deploy(ca, name);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.json.changed, false, again.stdout);
  assert.deepEqual(
    proxy.requests.slice(mark).filter((r) => r.mutating),
    [],
  );
}

describe('deploy under faults (fault proxy)', () => {
  it('a hung PutObject is bounded by the request timeout and retried', async () => {
    const ca = await newCa('hang-once');
    proxy.inject({kind: 'hang', count: 1, match: 'PUT'});
    const r = await deploy(ca, 'hang-once');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(proxy.requests.filter((x) => x.fault === 'hang').length, 1);
    await assertConverged(ca, 'hang-once', 2);
  });

  it('an S3 that never answers ends in exit 5 before any ELBv2 change; the re-run converges', async () => {
    const ca = await newCa('hang-always');
    const mark = proxy.requests.length;
    proxy.inject({kind: 'hang', count: 1000, match: 'PUT'});
    const r = await deploy(ca, 'hang-always');
    proxy.clearFaults();
    assert.equal(r.code, 5, r.stderr + r.stdout);
    assert.equal(r.json.error.code, 'AWS_TIMEOUT');
    assert.match(r.json.error.message, /did not answer s3:PutObject on s3:\/\/fault-bucket\/.* within 2s \(3 attempt/);
    assert.deepEqual(
      proxy.requests.slice(mark).filter((x) => x.service === 'elbv2' && x.mutating),
      [],
    );
    const again = await deploy(ca, 'hang-always');
    assert.equal(again.code, 0, again.stderr);
    await assertConverged(ca, 'hang-always', 2);
  });

  it('a hung DescribeTrustStores poll cannot outlast --wait-timeout', async () => {
    const ca = await newCa('hang-poll');
    // Reading the state asks by name; the polls after CreateTrustStore ask by ARN, and hang.
    proxy.inject({kind: 'hang', count: 1000, match: (q) => q.action === 'DescribeTrustStores' && q.params['TrustStoreArns.member.1'] !== undefined});
    const r = await deploy(ca, 'hang-poll', ['--wait-timeout', '2'], {MTLS_KIT_AWS_TIMEOUT_MS: '600000'});
    proxy.clearFaults();
    assert.equal(r.code, 5, r.stderr + r.stdout);
    assert.equal(r.json.error.code, 'TRUST_STORE_WAIT_TIMEOUT');
    const again = await deploy(ca, 'hang-poll');
    assert.equal(again.code, 0, again.stderr);
    await assertConverged(ca, 'hang-poll', 2);
  });

  for (const action of ['CreateTrustStore', 'AddTrustStoreRevocations']) {
    it(`a lost answer to ${action} is read back: exit 0, nothing done twice`, async () => {
      const name = `lost-${action.toLowerCase().slice(0, 12)}`;
      const ca = await newCa(name);
      const before = aws.elb.served(action).length;
      proxy.inject({kind: 'drop-answer', count: 1, match: action});
      const r = await deploy(ca, name);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.equal(proxy.requests.filter((x) => x.action === action && x.fault === 'drop-answer').length >= 1, true);
      // Carried out once per trust store / per CRL: the lost one was not repeated.
      assert.equal(aws.elb.served(action).length - before, action === 'CreateTrustStore' ? 1 : 2);
      assert.ok(r.json.trustStore.arn);
      await assertConverged(ca, name, 2);
    });
  }

  it('a lost answer to RemoveTrustStoreRevocations is read back: exit 0, the old list is gone', async () => {
    const ca = await newCa('lost-remove');
    assert.equal((await deploy(ca, 'lost-remove')).code, 0);
    ca.revokeSerial('0B02', 'intermediate');
    ca.opensslCrl('intermediate');
    proxy.inject({kind: 'drop-answer', count: 1, match: 'RemoveTrustStoreRevocations'});
    const r = await deploy(ca, 'lost-remove');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(r.json.revocations.removed.length, 1);
    await assertConverged(ca, 'lost-remove', 2);
  });

  it('5xx and throttling on AddTrustStoreRevocations are absorbed without a duplicate', async () => {
    const ca = await newCa('flaky-add');
    proxy.inject({kind: 'server-error', count: 1, match: 'AddTrustStoreRevocations'});
    proxy.inject({kind: 'throttle', count: 1, match: 'AddTrustStoreRevocations'});
    const r = await deploy(ca, 'flaky-add');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    await assertConverged(ca, 'flaky-add', 2);
  });

  it('status reports a CRL held twice (exit 3), and deploy removes the copy', async () => {
    const ca = await newCa('dup');
    const r = await deploy(ca, 'dup');
    assert.equal(r.code, 0, r.stderr);
    const added = r.json.revocations.added[0];
    const client = new ElasticLoadBalancingV2Client({region: 'us-east-1', endpoint: aws.elb.url, credentials: {accessKeyId: 'test', secretAccessKey: 'test'}});
    await client.send(
      new AddTrustStoreRevocationsCommand({
        TrustStoreArn: r.json.trustStore.arn,
        RevocationContents: [{S3Bucket: BUCKET, S3Key: added.key, RevocationType: 'CRL'}],
      }),
    );
    client.destroy();
    const s = await status(ca, 'dup');
    assert.equal(s.code, 3, s.stdout);
    const dup = s.json.checks.find((c: {name: string}) => c.name === 'trust-store-duplicate');
    assert.match(dup.detail, /holds the same CRL twice: revocation ids \d+ and \d+/);
    const fix = await deploy(ca, 'dup');
    assert.equal(fix.code, 0, fix.stderr);
    assert.equal(fix.json.revocations.removed.length, 1);
    await assertConverged(ca, 'dup', 2);
  });
});
