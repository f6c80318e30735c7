import assert from 'node:assert/strict';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {ElasticLoadBalancingV2Client, ModifyListenerCommand} from '@aws-sdk/client-elastic-load-balancing-v2';
import {PutObjectCommand, S3Client} from '@aws-sdk/client-s3';
import {readFileSync} from 'node:fs';
import {type AwsStandIns, startAwsStandIns} from './support/aws-env.js';
import {runStatus, type StatusResult} from '../src/flows/status.js';
import {runCli} from './support/cli.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const BUCKET = 'status-bucket';
const aws: AwsStandIns = await startAwsStandIns([BUCKET]);
const dirCa = await makeTestCa(join(tempDir(), 'pki'), {cn: 'Deploy Test Root', intermediate: true});
const dir = dirCa.dir;
dirCa.revokeSerial('0C01', 'intermediate');
dirCa.opensslCrl('root');
dirCa.opensslCrl('intermediate');
const lbArn = aws.elb.addLoadBalancer('status-alb');
const credentials = {accessKeyId: 'test', secretAccessKey: 'test'};
// The in-process flow reads the SDK's default chain as the CLI does: point it at the emulators.
for (const [k, v] of Object.entries(aws.env)) {
  if (v === undefined) delete process.env[k];
  else process.env[k] = v;
}

describe('status (s3rver + ELBv2 emulator)', () => {
  const base = ['--dir', dir, '--trust-store-name', 'status-ts', '--bucket', BUCKET];
  let listenerArn = '';
  // End to end: the command as a user runs it (exit code, human output).
  const statusCli = (extra: string[] = []) => runCli(['status', ...base, '--listener-arn', listenerArn, ...extra], {env: aws.env});
  // In process: the flow the command runs, against the same emulators (no process spawned).
  const status = async (extra: string[] = []): Promise<{code: number; json: StatusResult; stdout: string}> => {
    const json = await runStatus(
      {
        dir,
        bundle: undefined,
        crls: extra.includes('--skip-crl') ? [] : undefined,
        prefix: 'mtls-kit/',
        trustStoreName: 'status-ts',
        bucket: BUCKET,
        listenerArn,
        mode: 'verify',
        ignoreClientCertificateExpiry: false,
        advertiseCaNames: false,
        identityFilters: {},
        warnDays: 7,
        aws: {},
      },
      {now: new Date()},
    );
    return {code: json.drift ? 3 : 0, json, stdout: JSON.stringify(json)};
  };

  it('reports drift (exit 3) before anything was deployed', async () => {
    const r = await runCli(['status', ...base, '--json'], {env: aws.env});
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.json.drift, true);
    assert.ok(r.json.checks.some((c: {name: string; ok: boolean}) => c.name === 'trust-store' && !c.ok));
  });

  it('is in sync right after deploy (exit 0), with only read calls', async () => {
    const d = await runCli(
      [
        'deploy',
        ...base,
        '--load-balancer-arn',
        lbArn,
        '--port',
        '443',
        '--certificate-arn',
        'arn:aws:acm:us-east-1:1:certificate/x',
        '--target-group-arn',
        'arn:tg',
        '--json',
      ],
      {env: aws.env},
    );
    assert.equal(d.code, 0, d.stderr + d.stdout);
    listenerArn = d.json.listener.arn;
    const mutating = aws.elb.mutatingCalls().length;
    const r = await status(['--json']);
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.json.drift, false);
    assert.ok(
      r.json.checks.every((c: {ok: boolean}) => c.ok),
      r.stdout,
    );
    assert.equal(r.json.trustStore.status, 'ACTIVE');
    assert.equal(r.json.listener?.mode, 'verify');
    assert.equal(r.json.crls.length, 2);
    assert.equal(aws.elb.mutatingCalls().length, mutating);
    const human = await statusCli();
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /in sync/);
  });

  it('detects a bundle changed behind its back in the trust store (exit 3)', async () => {
    const otherCa = await makeTestCa(join(tempDir(), 'other'), {cn: 'Someone Else Root'});
    const other = otherCa.dir;
    const original = aws.elb.heldBundle('status-ts')!;
    aws.elb.replaceHeldBundle('status-ts', readFileSync(join(other, 'ca-bundle.pem')));
    try {
      const r = await status(['--json']);
      assert.equal(r.code, 3, r.stdout);
      const bad = r.json.checks.filter((c: {ok: boolean}) => !c.ok);
      assert.deepEqual(
        bad.map((c: {name: string}) => c.name),
        ['trust-store-bundle'],
      );
      assert.match(bad[0].detail, /holds 1 certificate, not the 2 certificates of .*ca-bundle\.pem/);
      assert.match(bad[0].fix ?? '', /mtls-kit deploy/);
    } finally {
      aws.elb.replaceHeldBundle('status-ts', original);
    }
  });

  it('detects an S3 object overwritten behind its back (exit 3)', async () => {
    const s3 = new S3Client({region: 'us-east-1', endpoint: aws.s3.url, forcePathStyle: true, credentials});
    const first = (await status(['--json'])).json;
    assert.equal(first.drift, false);
    const d = await runCli(['deploy', ...base, '--dry-run', '--json'], {env: aws.env});
    const bundleKey = d.json.uploads[0].key;
    await s3.send(new PutObjectCommand({Bucket: BUCKET, Key: bundleKey, Body: 'tampered\n'}));
    const r = await status(['--json']);
    assert.equal(r.code, 3);
    const bad = r.json.checks.filter((c: {ok: boolean}) => !c.ok);
    assert.equal(bad[0].name, 's3-object');
    assert.match(bad[0].detail, new RegExp(`s3://${BUCKET}/${bundleKey} was changed`));
    // deploy repairs it (the ETag no longer matches, so it uploads again).
    const fix = await runCli(['deploy', ...base, '--json'], {env: aws.env});
    assert.equal(fix.code, 0, fix.stderr);
    assert.equal(fix.json.uploads[0].action, 'upload');
    assert.equal((await status()).code, 0);
    s3.destroy();
  });

  it('detects a listener whose MutualAuthentication was changed (exit 3)', async () => {
    const elb = new ElasticLoadBalancingV2Client({region: 'us-east-1', endpoint: aws.elb.url, credentials});
    await elb.send(new ModifyListenerCommand({ListenerArn: listenerArn, MutualAuthentication: {Mode: 'passthrough'}}));
    const r = await status(['--json']);
    assert.equal(r.code, 3);
    const bad = r.json.checks.filter((c: {ok: boolean}) => !c.ok);
    assert.equal(bad[0].name, 'listener');
    assert.match(bad[0].detail, /has Mode=passthrough.*expected Mode=verify/);
    elb.destroy();
  });

  it('flags a CRL whose nextUpdate has passed (exit 3) and one that is near (warning, exit 0)', async () => {
    await runCli(['deploy', ...base, '--listener-arn', listenerArn], {env: aws.env});
    dirCa.opensslCrl('root', {lastUpdate: '20200101000000Z', nextUpdate: '20200201000000Z'});
    const r = await status(['--json', '--skip-crl']);
    // --skip-crl compares no local CRL, but what the trust store serves is still checked.
    assert.equal(r.json.crls.length, 2);
    dirCa.opensslCrl('root', {days: 2});
    const d = await runCli(['deploy', ...base, '--listener-arn', listenerArn, '--json'], {env: aws.env});
    assert.equal(d.code, 0, d.stderr + d.stdout);
    const s = await status(['--json']);
    assert.equal(s.code, 0, s.stdout);
    const warn = s.json.checks.find((c: {name: string; severity: string}) => c.name === 'crl-next-update')!;
    assert.equal(warn.severity, 'warning');
    assert.match(warn.detail, /nextUpdate in [01] days?/);
    dirCa.opensslCrl('root', {lastUpdate: '20200101000000Z', nextUpdate: '20200201000000Z'});
    const e = await status(['--json']);
    assert.equal(e.code, 3);
    assert.ok(e.json.checks.some((c: {name: string; ok: boolean; detail: string}) => c.name === 'crl-next-update' && !c.ok && /has passed/.test(c.detail)));
  });
});
