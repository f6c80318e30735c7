import assert from 'node:assert/strict';
import {appendFileSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {type AwsStandIns, startAwsStandIns} from './support/aws-env.js';
import {runCli} from './support/cli.js';
import {opensslOk} from './support/openssl.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const BUCKET = 'pki-bucket';

// Both servers and the CA live for the whole file (after() at file level stops/removes them).
const aws: AwsStandIns = await startAwsStandIns([BUCKET]);
const dirCa = await makeTestCa(join(tempDir(), 'pki'), {cn: 'Deploy Test Root', intermediate: true});
const dir = dirCa.dir;
dirCa.revokeSerial('0A01', 'intermediate');
dirCa.revokeSerial('0A02', 'intermediate');
dirCa.opensslCrl('root');
dirCa.opensslCrl('intermediate');
const lbArn = aws.elb.addLoadBalancer('my-alb');

describe('deploy (s3rver + ELBv2 emulator)', () => {
  let trustStoreArn: string;
  let listenerArn: string;
  const listenerFlags = (): string[] => [
    '--load-balancer-arn',
    lbArn,
    '--port',
    '443',
    '--certificate-arn',
    'arn:aws:acm:us-east-1:123456789012:certificate/abc',
    '--target-group-arn',
    'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/1',
  ];
  const deploy = (extra: string[] = [], env: Record<string, string | undefined> = {}) =>
    runCli(['deploy', '--dir', dir, '--trust-store-name', 'devices', '--bucket', BUCKET, ...listenerFlags(), ...extra], {env: {...aws.env, ...env}});
  // Uploads only: the deploy lease (<prefix>locks/) is an S3 PUT too.
  const puts = (): number => aws.s3.requests.filter((r) => r.method === 'PUT' && r.path !== `/${BUCKET}` && !r.path.includes('/locks/')).length;

  it('first deploy uploads, creates the trust store, adds the CRLs and creates the listener in verify mode', async () => {
    const r = await deploy(['--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const j = r.json;
    assert.equal(j.changed, true);
    assert.deepEqual(
      j.uploads.map((u: {action: string}) => u.action),
      ['upload', 'upload', 'upload'],
    );
    assert.match(j.uploads[0].key, /^mtls-kit\/ca-bundle-[0-9a-f]{16}\.pem$/);
    assert.equal(j.trustStore.action, 'create');
    assert.equal(j.trustStore.status, 'ACTIVE');
    assert.equal(j.trustStore.numberOfCaCertificates, 2);
    assert.equal(j.trustStore.totalRevokedEntries, 2);
    assert.match(j.trustStore.arn, /^arn:aws:elasticloadbalancing:us-east-1:\d+:truststore\/devices\//);
    assert.deepEqual(
      j.revocations.added.map((a: {revocationId: number}) => a.revocationId),
      [1, 2],
    );
    assert.equal(j.listener.action, 'create');
    assert.match(j.listener.arn, /:listener\/app\/my-alb\//);
    assert.equal(j.listener.loadBalancerArn, lbArn);
    assert.deepEqual(j.listener.mutualAuthentication, {
      mode: 'verify',
      trustStoreArn: j.trustStore.arn,
      ignoreClientCertificateExpiry: false,
      advertiseTrustStoreCaNames: 'off',
    });
    trustStoreArn = j.trustStore.arn;
    listenerArn = j.listener.arn;
    // The order: trust store, (poll), revocations, listener.
    const order = aws.elb.mutatingCalls().map((c) => c.action);
    // Then deploy records what the trust store holds (tags), so the next run downloads nothing.
    assert.deepEqual(order, ['CreateTrustStore', 'AddTrustStoreRevocations', 'AddTrustStoreRevocations', 'CreateListener', 'AddTags']);
    const create = aws.elb.served('CreateListener')[0]!.params;
    assert.equal(create['MutualAuthentication.Mode'], 'verify');
    assert.equal(create['MutualAuthentication.TrustStoreArn'], trustStoreArn);
    // What the trust store holds is the copy of our bundle.
    assert.equal(aws.elb.heldBundle('devices')!.toString(), readFileSync(join(dir, 'ca-bundle.pem'), 'utf8'));
    assert.equal(puts(), 3);
  });

  it('a second run makes no mutating call and says unchanged', async () => {
    const before = aws.elb.mutatingCalls().length;
    const putsBefore = puts();
    const r = await deploy();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /unchanged: nothing to do/);
    assert.equal(aws.elb.mutatingCalls().length, before);
    assert.equal(puts(), putsBefore);
    const j = (await deploy(['--json'])).json;
    assert.equal(j.changed, false);
    assert.equal(j.summary, 'unchanged');
    assert.equal(j.listener.action, 'unchanged');
    assert.equal(j.listener.arn, listenerArn);
    assert.equal(j.listener.loadBalancerArn, lbArn);
    assert.equal(j.trustStore.arn, trustStoreArn);
  });

  it('--dry-run prints the plan and makes no mutating call', async () => {
    dirCa.revokeSerial('0B01', 'root');
    dirCa.opensslCrl('root');
    const before = aws.elb.mutatingCalls().length;
    const putsBefore = puts();
    const r = await deploy(['--dry-run', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.dryRun, true);
    assert.equal(r.json.changed, true);
    assert.match(r.json.summary, /^would upload 1 object, add 1 CRL, remove 1 superseded CRL$/);
    assert.equal(r.json.revocations.removed[0].revocationId, 1);
    const human = await deploy(['--dry-run']);
    assert.match(human.stdout, /would add CRL/);
    assert.match(human.stdout, /would remove revocation id 1/);
    assert.equal(aws.elb.mutatingCalls().length, before);
    assert.equal(puts(), putsBefore);
  });

  it('a CRL rotation adds the new list, then removes the one it supersedes', async () => {
    const start = aws.elb.calls.length;
    const r = await deploy(['--json']);
    assert.equal(r.code, 0, r.stderr);
    const mutating = aws.elb.calls
      .slice(start)
      .filter((c) => !c.action.startsWith('Describe') && !c.action.startsWith('Get'))
      .map((c) => c.action);
    assert.deepEqual(mutating, ['AddTrustStoreRevocations', 'RemoveTrustStoreRevocations', 'RemoveTags', 'AddTags']);
    // The rotation needed no download: the lists were known from deploy's records.
    assert.deepEqual(r.json.trustStore.read, {bundle: 'record', revocationsFromRecords: 2, revocationsDownloaded: 0});
    assert.equal(aws.elb.served('RemoveTrustStoreRevocations').at(-1)!.params['RevocationIds.member.1'], '1');
    // Revocation ids increase and are never reused (aws-reference 2.5).
    assert.equal(r.json.revocations.added[0].revocationId, 3);
    assert.equal(r.json.trustStore.totalRevokedEntries, 3);
    assert.equal(r.json.trustStore.action, 'unchanged');
    assert.equal(r.json.listener.action, 'unchanged');
  });

  it('a new intermediate changes the bundle and is applied with ModifyTrustStore', async () => {
    const tmp = tempDir();
    const ext = join(tmp, 'ext.cnf');
    writeFileSync(ext, 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n');
    opensslOk([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(tmp, 'i2.key'),
      '-subj',
      '/CN=Deploy Test Intermediate 2',
      '-out',
      join(tmp, 'i2.csr'),
    ]);
    opensslOk([
      'x509',
      '-req',
      '-in',
      join(tmp, 'i2.csr'),
      '-CA',
      join(dir, 'root/ca.crt'),
      '-CAkey',
      join(dir, 'root/ca.key'),
      '-CAcreateserial',
      '-days',
      '365',
      '-sha256',
      '-extfile',
      ext,
      '-out',
      join(tmp, 'i2.crt'),
    ]);
    appendFileSync(join(dir, 'ca-bundle.pem'), readFileSync(join(tmp, 'i2.crt'), 'utf8'));
    const start = aws.elb.mutatingCalls().length;
    const r = await deploy(['--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      aws.elb
        .mutatingCalls()
        .slice(start)
        .map((c) => c.action),
      ['ModifyTrustStore', 'AddTags'],
    );
    assert.equal(r.json.trustStore.action, 'modify');
    assert.equal(r.json.trustStore.arn, trustStoreArn);
    assert.equal(r.json.trustStore.numberOfCaCertificates, 3);
    assert.deepEqual(
      r.json.uploads.map((u: {action: string}) => u.action),
      ['upload', 'unchanged', 'unchanged'],
    );
    assert.equal(aws.elb.served('ModifyTrustStore')[0]!.params.CaCertificatesBundleS3Key, r.json.uploads[0].key);
    assert.equal((await deploy(['--json'])).json.changed, false);
  });

  it('survives throttling and 5xx answers (SDK retries with backoff)', async () => {
    aws.elb.injectFault({kind: 'throttle', count: 2, action: 'CreateTrustStore'});
    aws.elb.injectFault({kind: 'server-error', count: 2, action: 'DescribeTrustStores'});
    const r = runCli(['deploy', '--dir', dir, '--trust-store-name', 'devices-b', '--bucket', BUCKET, '--json'], {env: aws.env});
    const res = await r;
    assert.equal(res.code, 0, res.stderr + res.stdout);
    assert.equal(res.json.trustStore.action, 'create');
    assert.equal(res.json.trustStore.status, 'ACTIVE');
    assert.equal(aws.elb.calls.filter((c) => c.action === 'CreateTrustStore' && c.fault === 'throttle').length, 2);
    assert.equal(aws.elb.calls.filter((c) => c.action === 'DescribeTrustStores' && c.fault === 'server-error').length, 2);
    assert.equal(aws.elb.served('CreateTrustStore').filter((c) => c.params.Name === 'devices-b').length, 1);
  });

  it('a trust store stuck in CREATING ends with a clear timeout (exit 5) and no listener change', async () => {
    aws.elb.stuckCreating = true;
    try {
      const lb2 = aws.elb.addLoadBalancer('stuck-alb');
      const r = await runCli(
        [
          'deploy',
          '--dir',
          dir,
          '--trust-store-name',
          'devices-stuck',
          '--bucket',
          BUCKET,
          '--wait-timeout',
          '1',
          '--load-balancer-arn',
          lb2,
          '--port',
          '443',
          '--certificate-arn',
          'arn:aws:acm:us-east-1:1:certificate/x',
          '--target-group-arn',
          'arn:tg',
        ],
        {env: aws.env},
      );
      assert.equal(r.code, 5, r.stderr);
      assert.match(r.stderr, /trust store devices-stuck is still CREATING after \d+s \(--wait-timeout 1s\); the listener was not changed/);
      assert.match(r.stderr, /re-run the same deploy later/);
      assert.equal(aws.elb.served('CreateListener').filter((c) => c.params.LoadBalancerArn === lb2).length, 0);
      const j = await runCli(['deploy', '--dir', dir, '--trust-store-name', 'devices-stuck', '--bucket', BUCKET, '--wait-timeout', '1', '--json'], {
        env: aws.env,
      });
      assert.equal(j.code, 5);
      assert.equal(j.json.error.code, 'TRUST_STORE_WAIT_TIMEOUT');
    } finally {
      aws.elb.stuckCreating = false;
    }
  });

  it('a bad bundle never reaches S3 or ELBv2 (lint stops it, exit 4)', async () => {
    const bad = join(tempDir(), 'bad-bundle.pem');
    const good = readFileSync(join(dir, 'ca-bundle.pem'), 'utf8');
    writeFileSync(bad, good.replace('-----END CERTIFICATE-----\n', '-----END CERTIFICATE-----\n\n'));
    const putsBefore = puts();
    const callsBefore = aws.elb.calls.length;
    const requestsBefore = aws.s3.requests.length;
    const r = await runCli(['deploy', '--dir', dir, '--ca-bundle', bad, '--trust-store-name', 'devices', '--bucket', BUCKET, '--json'], {env: aws.env});
    assert.equal(r.code, 4, r.stdout);
    assert.equal(r.json.error.code, 'LINT_FAILED');
    assert.match(r.json.error.message, /bad-bundle\.pem/);
    assert.ok(
      r.json.error.suggestions.some((s: string) => /blank/.test(s)),
      r.stdout,
    );
    assert.equal(puts(), putsBefore);
    assert.equal(aws.s3.requests.length, requestsBefore);
    assert.equal(aws.elb.calls.length, callsBefore);
  });

  it('checks the trust-store name pattern locally (exit 2, no AWS call)', async () => {
    const callsBefore = aws.elb.calls.length;
    const r = await runCli(['deploy', '--dir', dir, '--trust-store-name', 'bad--name', '--bucket', BUCKET], {env: aws.env});
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--trust-store-name "bad--name"/);
    assert.equal(aws.elb.calls.length, callsBefore);
  });

  it('a missing bucket is named, with the command that creates it (exit 5)', async () => {
    const r = await runCli(['deploy', '--dir', dir, '--trust-store-name', 'devices', '--bucket', 'no-such-bucket'], {env: aws.env});
    assert.equal(r.code, 5);
    assert.match(r.stderr, /S3 bucket no-such-bucket does not exist/);
    assert.match(r.stderr, /aws s3 mb s3:\/\/no-such-bucket/);
  });

  it('an access denial names the refused action and never prints the credentials', async () => {
    const r = await runCli(['deploy', '--dir', dir, '--trust-store-name', 'devices', '--bucket', BUCKET, '--json'], {
      env: {...aws.env, AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEKEYID0001', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMIexampleSECRETkey'},
    });
    assert.equal(r.code, 5); // s3rver does not know this key: HeadBucket answers 403
    assert.ok(!r.stdout.includes('wJalrXUtnFEMIexampleSECRETkey') && !r.stderr.includes('wJalrXUtnFEMIexampleSECRETkey'));
    assert.equal(r.json.error.code, 'AWS_ACCESS_DENIED');
    assert.match(r.json.error.message, /^AWS refused s3:ListBucket on s3:\/\/pki-bucket/);
    assert.match(r.json.error.suggestions[0], /allow s3:ListBucket/);
  });
});
