/**
 * `mtls-kit destroy` against the ELBv2 emulator and s3rver, through endpoint URLs with the
 * real SDK: what deploy made is gone afterwards (listeners without mutual TLS, no trust
 * store, the objects deploy wrote with --delete-objects and only those), a dry run and a
 * refused run change nothing, a second run is a no-op, and a run killed with SIGKILL at any
 * mutating call is finished by the next one.
 */
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {after, describe, it} from 'node:test';
import {
  CreateListenerCommand,
  CreateTrustStoreCommand,
  DescribeListenersCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {ListObjectsV2Command, PutObjectCommand, S3Client} from '@aws-sdk/client-s3';
import {startAwsStandIns} from './support/aws-env.js';
import {runCli} from './support/cli.js';
import {Elbv2Emulator} from './support/elbv2-emulator.js';
import {FaultProxy} from './support/fault-proxy.js';
import {runKilledAt} from './support/kill-at.js';
import {VersionedS3} from './support/s3-versioned.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const BUCKET = 'destroy-bucket';
const aws = await startAwsStandIns([BUCKET]);
const credentials = {accessKeyId: 'test', secretAccessKey: 'test'};
const elb = new ElasticLoadBalancingV2Client({region: 'us-east-1', endpoint: aws.elb.url, credentials});
const s3 = new S3Client({region: 'us-east-1', endpoint: aws.s3.url, forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED'});
after(() => {
  elb.destroy();
  s3.destroy();
});
const ca = await makeTestCa(join(tempDir(), 'pki'), {cn: 'Destroy Root'});
ca.revokeSerial('0D01', 'root');
ca.opensslCrl('root');

const keys = async (prefix: string): Promise<string[]> =>
  ((await s3.send(new ListObjectsV2Command({Bucket: BUCKET, Prefix: prefix}))).Contents ?? []).map((o) => o.Key!).sort();
const mutualOf = async (arn: string) => (await elb.send(new DescribeListenersCommand({ListenerArns: [arn]}))).Listeners![0]!.MutualAuthentication;
const s3Mutations = (from: number): string[] =>
  aws.s3.requests
    .slice(from)
    .filter((r) => ['PUT', 'POST', 'DELETE'].includes(r.method))
    .map((r) => `${r.method} ${r.path}`);

/** deploy NAME under prefix NAME/ with a new HTTPS listener on a new ALB; returns the listener ARN. */
async function deployed(name: string, env = aws.env): Promise<{listener: string; lb: string}> {
  const lb = aws.elb.addLoadBalancer(`${name}-alb`);
  const r = await runCli(
    [
      'deploy',
      '--dir',
      ca.dir,
      '--trust-store-name',
      name,
      '--bucket',
      BUCKET,
      '--prefix',
      `${name}/`,
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
    {env},
  );
  assert.equal(r.code, 0, r.stderr + r.stdout);
  return {listener: r.json.listener.arn, lb};
}
const destroyArgs = (name: string, ...more: string[]): string[] => ['destroy', '--trust-store-name', name, '--bucket', BUCKET, '--prefix', `${name}/`, ...more];

describe('destroy', () => {
  it('dry run: the plan shows each listener before and after, and nothing changes', async () => {
    const {listener} = await deployed('dry');
    const m = aws.elb.mutatingCalls().length;
    const s = aws.s3.requests.length;
    const r = await runCli(destroyArgs('dry', '--listener-arn', listener, '--delete-objects', '--dry-run', '--exit-code'), {env: aws.env});
    assert.equal(r.code, 10, r.stderr + r.stdout);
    assert.match(r.stdout, /would detach listener .*\n {2}before: Mode=verify, TrustStoreArn=arn:[^\n]*truststore\/dry\/.*\n {2}after: {2}Mode=off/);
    assert.match(r.stdout, /would delete s3:\/\/destroy-bucket\/dry\/ca-bundle-[0-9a-f]{16}\.pem \(the trust store's CA bundle\)/);
    assert.match(r.stdout, /would delete s3:\/\/destroy-bucket\/dry\/root-crl-[0-9a-f]{16}\.pem \(the trust store's CRL\)/);
    assert.match(r.stdout, /would remove revocation id 1 \(1 revoked entry\)/);
    assert.match(r.stdout, /would delete trust store dry/);
    const j = await runCli(destroyArgs('dry', '--listener-arn', listener, '--dry-run', '--json'), {env: aws.env});
    assert.equal(j.code, 0);
    assert.equal(j.json.dryRun, true);
    assert.equal(j.json.listeners[0].action, 'detach');
    assert.equal(j.json.listeners[0].before.mode, 'verify');
    assert.deepEqual(j.json.listeners[0].after, {mode: 'off', trustStoreArn: null, ignoreClientCertificateExpiry: false, advertiseTrustStoreCaNames: 'off'});
    assert.equal(j.json.objects.requested, false);
    assert.equal(aws.elb.mutatingCalls().length, m);
    assert.deepEqual(s3Mutations(s), []);
    assert.ok(aws.elb.hasTrustStore('dry'));
  });

  it('without a terminal it needs --yes, and changes nothing without it (exit 2)', async () => {
    const {listener} = await deployed('noyes');
    const m = aws.elb.mutatingCalls().length;
    const r = await runCli(destroyArgs('noyes', '--listener-arn', listener, '--json'), {env: aws.env});
    assert.equal(r.code, 2, r.stdout);
    assert.equal(r.json.error.code, 'CONFIRMATION_REQUIRED');
    assert.match(r.json.error.message, /needs --yes without a terminal; it would detach 1 listener, remove 1 revocation list, delete trust store noyes/);
    assert.equal(aws.elb.mutatingCalls().length, m);
  });

  it('--delete-objects leaves nothing of deploy behind and no other object touched; a second run is a no-op', async () => {
    const {listener} = await deployed('full');
    const deployKeys = await keys('full/');
    assert.equal(deployKeys.length, 2, deployKeys.join());
    // Not deploy's: the same key shape without deploy's metadata, a deeper key, a key outside the prefix.
    const foreign = ['full/other-crl-0123456789abcdef.pem', 'full/keep/ca-bundle-0123456789abcdef.pem', 'elsewhere/ca-bundle-0123456789abcdef.pem'];
    for (const Key of foreign) await s3.send(new PutObjectCommand({Bucket: BUCKET, Key, Body: 'not ours'}));
    const r = await runCli(destroyArgs('full', '--listener-arn', listener, '--delete-objects', '--yes', '--json'), {env: aws.env});
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(r.json.changed, true);
    assert.equal(r.json.summary, 'detached 1 listener, deleted 2 S3 objects, removed 1 revocation list, deleted trust store full');
    assert.deepEqual(r.json.objects.deleted.map((o: {key: string}) => o.key).sort(), deployKeys);
    assert.deepEqual(r.json.objects.deleted.map((o: {holds: string}) => o.holds).sort(), ['bundle', 'crl']);
    assert.equal(r.json.objects.versioned, false);
    assert.equal(aws.elb.hasTrustStore('full'), false);
    assert.equal((await mutualOf(listener))?.Mode, 'off');
    assert.deepEqual(await keys('full/'), foreign.slice(0, 2).sort());
    assert.deepEqual(await keys('elsewhere/'), [foreign[2]]);

    const m = aws.elb.mutatingCalls().length;
    const s = aws.s3.requests.length;
    const again = await runCli(destroyArgs('full', '--listener-arn', listener, '--delete-objects', '--json'), {env: aws.env});
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.equal(again.json.changed, false);
    assert.equal(again.json.summary, 'nothing to destroy');
    assert.equal(again.json.trustStore.action, 'absent');
    assert.equal(again.json.listeners[0].action, 'unchanged');
    assert.equal(aws.elb.mutatingCalls().length, m);
    assert.deepEqual(s3Mutations(s), []);
    const text = await runCli(destroyArgs('full', '--listener-arn', listener), {env: aws.env});
    assert.equal(text.code, 0);
    assert.match(text.stdout, /nothing to destroy/);
  });

  it('without --delete-objects the objects stay; by ARN; an NLB TLS listener is detached too', async () => {
    const {listener} = await deployed('keep');
    const nlb = aws.elb.addLoadBalancer('keep-nlb', 'network');
    const n = await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: nlb,
        Protocol: 'TLS',
        Port: 443,
        Certificates: [{CertificateArn: 'arn:cert'}],
        DefaultActions: [{Type: 'forward', TargetGroupArn: 'arn:tg'}],
      }),
    );
    const nlbListener = n.Listeners![0]!.ListenerArn!;
    const d = await runCli(
      [
        'deploy',
        '--dir',
        ca.dir,
        '--trust-store-name',
        'keep',
        '--bucket',
        BUCKET,
        '--prefix',
        'keep/',
        '--listener-arn',
        nlbListener,
        '--identity-filter',
        'subject-cn:prefix:device-',
        '--json',
      ],
      {env: aws.env},
    );
    assert.equal(d.code, 0, d.stderr + d.stdout);
    const before = await keys('keep/');
    const arn = d.json.trustStore.arn as string;
    const r = await runCli(
      [
        'destroy',
        '--trust-store-arn',
        arn,
        '--bucket',
        BUCKET,
        '--prefix',
        'keep/',
        '--listener-arn',
        listener,
        '--listener-arn',
        nlbListener,
        '--yes',
        '--json',
      ],
      {env: aws.env},
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(r.json.trustStore.name, 'keep');
    assert.deepEqual(
      r.json.listeners.map((l: {action: string}) => l.action),
      ['detach', 'detach'],
    );
    assert.deepEqual(r.json.listeners[1].before.identityFilters, ['subject-cn:prefix:device-']);
    assert.equal((await mutualOf(listener))?.Mode, 'off');
    assert.equal((await mutualOf(nlbListener))?.Mode, 'off');
    assert.equal(aws.elb.hasTrustStore('keep'), false);
    assert.deepEqual(await keys('keep/'), before);
    assert.deepEqual(r.json.objects, {requested: false, deleted: [], kept: [], versioned: false});
  });

  it('an ARN and a name (flag or MTLS_KIT_TRUST_STORE_NAME) that disagree: exit 2 before any call', async () => {
    const calls = aws.elb.calls.length;
    const arn = 'arn:aws:elasticloadbalancing:us-east-1:111122223333:truststore/one/0123456789abcdef';
    const r = await runCli(['destroy', '--trust-store-arn', arn, '--bucket', BUCKET, '--dry-run', '--json'], {
      env: {...aws.env, MTLS_KIT_TRUST_STORE_NAME: 'two'},
    });
    assert.equal(r.code, 2, r.stdout);
    assert.equal(r.json.error.code, 'TRUST_STORE_MISMATCH');
    assert.equal(aws.elb.calls.length, calls);
    const same = await runCli(['destroy', '--trust-store-arn', arn, '--bucket', BUCKET, '--dry-run', '--json'], {
      env: {...aws.env, MTLS_KIT_TRUST_STORE_NAME: 'one'},
    });
    assert.equal(same.code, 0, same.stdout);
    assert.equal(same.json.summary, 'nothing to destroy');
  });

  it('refuses, before any change, a trust store a listener it was not given still uses (exit 4)', async () => {
    const {listener} = await deployed('inuse');
    const m = aws.elb.mutatingCalls().length;
    const r = await runCli(destroyArgs('inuse', '--yes', '--json'), {env: aws.env});
    assert.equal(r.code, 4, r.stdout);
    assert.equal(r.json.error.code, 'TRUST_STORE_USED_BY_OTHER_LISTENERS');
    assert.match(
      r.json.error.message,
      new RegExp(
        `still used by listener ${listener.replace(/[/.]/g, '\\$&')}, which destroy was not asked to detach; AWS refuses to delete a trust store in use \\(TrustStoreInUse\\)`,
      ),
    );
    assert.equal(r.json.error.suggestions[0], `to turn mutual TLS off there too, add --listener-arn ${listener}`);
    assert.equal(aws.elb.mutatingCalls().length, m);
    assert.ok(aws.elb.hasTrustStore('inuse'));
  });

  it("AWS's own TrustStoreInUse (a listener attached meanwhile) is explained (exit 5)", async () => {
    const {listener} = await deployed('race2');
    aws.elb.injectFault({kind: 'error', code: 'TrustStoreInUse', count: 1, action: 'DeleteTrustStore'});
    const r = await runCli(destroyArgs('race2', '--listener-arn', listener, '--yes', '--json'), {env: aws.env});
    assert.equal(r.code, 5, r.stdout);
    assert.equal(r.json.error.code, 'TRUST_STORE_IN_USE');
    assert.match(r.json.error.suggestions[0], /describe-trust-store-associations/);
    const again = await runCli(destroyArgs('race2', '--listener-arn', listener, '--yes', '--json'), {env: aws.env});
    assert.equal(again.code, 0, again.stdout);
    assert.equal(again.json.listeners[0].action, 'unchanged');
    assert.equal(aws.elb.hasTrustStore('race2'), false);
  });

  it("refuses another team's trust store (no mtls-kit records) without --force, and a listener of another trust store", async () => {
    const {listener} = await deployed('mine');
    await s3.send(new PutObjectCommand({Bucket: BUCKET, Key: 'theirs/bundle.pem', Body: readFileSync(join(ca.dir, 'ca-bundle.pem'))}));
    await elb.send(new CreateTrustStoreCommand({Name: 'theirs', CaCertificatesBundleS3Bucket: BUCKET, CaCertificatesBundleS3Key: 'theirs/bundle.pem'}));
    const m = aws.elb.mutatingCalls().length;
    const r = await runCli(destroyArgs('theirs', '--yes', '--json'), {env: aws.env});
    assert.equal(r.code, 4, r.stdout);
    assert.equal(r.json.error.code, 'TRUST_STORE_NOT_DEPLOYED');
    assert.match(r.json.error.message, /carries no mtls-kit deploy records/);
    assert.match(r.json.error.suggestions[1], /--force/);
    const other = await runCli(destroyArgs('theirs', '--listener-arn', listener, '--force', '--yes', '--json'), {env: aws.env});
    assert.equal(other.code, 4, other.stdout);
    assert.equal(other.json.error.code, 'LISTENER_USES_OTHER_TRUST_STORE');
    assert.equal(aws.elb.mutatingCalls().length, m);
    const forced = await runCli(destroyArgs('theirs', '--force', '--yes', '--json'), {env: aws.env});
    assert.equal(forced.code, 0, forced.stdout);
    assert.equal(forced.json.trustStore.deployed, false);
    assert.equal(aws.elb.hasTrustStore('theirs'), false);
    assert.deepEqual(await keys('theirs/'), ['theirs/bundle.pem']);
  });
});

describe('destroy in a versioned bucket', () => {
  it('deletes the current versions (delete markers), keeps and reports the earlier versions', async () => {
    const vs3 = new VersionedS3([{name: 'versioned', versioning: 'Enabled'}]);
    await vs3.start();
    const velb = new Elbv2Emulator({s3Endpoint: vs3.url, activationDelayMs: 50});
    await velb.start();
    after(async () => {
      await velb.stop();
      await vs3.stop();
    });
    const env = {...aws.env, AWS_ENDPOINT_URL: velb.url, AWS_ENDPOINT_URL_S3: vs3.url, AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: velb.url};
    const d = await runCli(['deploy', '--dir', ca.dir, '--trust-store-name', 'vers', '--bucket', 'versioned', '--json'], {env});
    assert.equal(d.code, 0, d.stderr + d.stdout);
    const uploaded = d.json.uploads.map((u: {key: string}) => u.key).sort();
    const r = await runCli(['destroy', '--trust-store-name', 'vers', '--bucket', 'versioned', '--delete-objects', '--yes'], {env});
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stderr, /s3:\/\/versioned keeps versions: the deleted objects' earlier versions stay \(S3 added a delete marker\)/);
    assert.equal(velb.hasTrustStore('vers'), false);
    for (const key of uploaded) {
      const versions = vs3.objectVersions('versioned', key);
      assert.deepEqual(
        versions.map((v) => Boolean(v.deleteMarker)),
        [false, true],
        key,
      );
    }
    const j = await runCli(['destroy', '--trust-store-name', 'vers', '--bucket', 'versioned', '--delete-objects', '--json'], {env});
    assert.equal(j.code, 0, j.stdout);
    assert.equal(j.json.changed, false);
    assert.deepEqual(j.json.objects.deleted, []);
  });
});

describe('destroy killed with SIGKILL at each mutating call converges on re-run', () => {
  it('kills before and after the service acted, re-runs (exit 0, nothing left), then a run makes no mutating call', async () => {
    const proxy = new FaultProxy(aws.s3.url, aws.elb.url);
    await proxy.start();
    after(() => proxy.stop());
    const env: Record<string, string | undefined> = {
      ...aws.env,
      AWS_ENDPOINT_URL: proxy.url,
      AWS_ENDPOINT_URL_S3: proxy.url,
      AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: proxy.url,
    };
    const args = (name: string, listener: string): string[] => [...destroyArgs(name, '--listener-arn', listener, '--delete-objects', '--yes', '--json')];

    const ref = await deployed('kref');
    const mark = proxy.requests.length;
    const clean = await runCli(args('kref', ref.listener), {env});
    assert.equal(clean.code, 0, clean.stderr + clean.stdout);
    // lease PUT, ModifyListener, 2 DeleteObject, RemoveTrustStoreRevocations, DeleteTrustStore, lease DELETE
    const points = proxy.requests.slice(mark).filter((r) => r.mutating).length;
    assert.ok(points >= 6, `only ${points} mutating requests`);

    for (let point = 1; point <= points; point++) {
      for (const phase of ['before', 'after'] as const) {
        const name = `k${point}${phase[0]}`;
        const {listener} = await deployed(name);
        const {killed} = await runKilledAt(proxy, args(name, listener), env, point, phase);
        assert.ok(killed, `${name}: not killed`);
        const again = await runCli(args(name, listener), {env});
        assert.equal(again.code, 0, `${name}: ${again.stderr}${again.stdout}`);
        assert.equal(aws.elb.hasTrustStore(name), false, name);
        assert.equal((await mutualOf(listener))?.Mode, 'off', name);
        assert.deepEqual(await keys(`${name}/`), [], name);
        const m = proxy.requests.length;
        const third = await runCli(args(name, listener), {env});
        assert.equal(third.json.changed, false, `${name}: ${third.stdout}`);
        assert.deepEqual(
          proxy.requests
            .slice(m)
            .filter((r) => r.mutating)
            .map((r) => r.action),
          [],
          name,
        );
      }
    }
  });
});
