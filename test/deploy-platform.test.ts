/**
 * deploy for platform teams (issue 14), against s3rver and the ELBv2 emulator through the real
 * SDK: runs that download nothing when nothing changed, tags, S3 encryption headers,
 * quota-aware CRL rotation, several listeners and listeners owned by another trust store.
 */
import assert from 'node:assert/strict';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {type AwsStandIns, startAwsStandIns} from './support/aws-env.js';
import {runCli} from './support/cli.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const BUCKET = 'platform-bucket';
const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/abc';
const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/1';

// Quotas lowered to 3 entries so a quota-exceeding rotation needs only a few serials.
const aws: AwsStandIns = await startAwsStandIns([BUCKET], {maxRevocationEntries: 3});
const quota = ['--revocation-entries-quota', '3'];
const ca = await makeTestCa(join(tempDir(), 'pki'), {cn: 'Platform Test Root', intermediate: true});
const dir = ca.dir;
ca.revokeSerial('0A01', 'intermediate');
ca.revokeSerial('0A02', 'intermediate');
ca.opensslCrl('root');
ca.opensslCrl('intermediate');
const lbArn = aws.elb.addLoadBalancer('platform-alb');

const run = (args: string[]) => runCli(args, {env: aws.env});
const deploy = (name: string, extra: string[] = []) => run(['deploy', '--dir', dir, '--trust-store-name', name, '--bucket', BUCKET, ...quota, ...extra]);
const create = (port: number): string[] => ['--load-balancer-arn', lbArn, '--port', String(port), '--certificate-arn', CERT, '--target-group-arn', TG];
const downloads = (since: number): string[] =>
  aws.elb.calls
    .slice(since)
    .filter((c) => c.action.startsWith('GetTrustStore'))
    .map((c) => c.action);

describe('deploy for platform teams (s3rver + ELBv2 emulator)', () => {
  let listenerArn = '';

  it('tags the trust store, the created listener and the uploaded objects; records what it deployed', async () => {
    const r = await deploy('team-a', [...create(443), '--tag', 'team=platform', '--tag', 'cost-center=42', '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    listenerArn = r.json.listener.arn;
    const tags = aws.elb.tagsOf('team-a');
    assert.equal(tags.team, 'platform');
    assert.equal(tags['cost-center'], '42');
    assert.match(tags['mtls-kit:bundle']!, /^v1:2:[0-9a-f]{64}:[0-9a-f]{32}$/);
    assert.match(tags['mtls-kit:crl:1']!, /^v1:[0-9a-f]{64}:[0-9a-f]{32}:\d+:\d+:0$/);
    assert.match(tags['mtls-kit:crl:2']!, /:2$/);
    // Tags at creation (accounts whose policies require them), not added afterwards.
    const createTs = aws.elb.served('CreateTrustStore').at(-1)!.params;
    assert.equal(createTs['Tags.member.1.Key'], 'team');
    assert.equal(createTs['Tags.member.1.Value'], 'platform');
    assert.equal(aws.elb.served('CreateListener').at(-1)!.params['Tags.member.2.Key'], 'cost-center');
    const puts = aws.s3.requests.filter((q) => q.method === 'PUT' && q.path.startsWith(`/${BUCKET}/`) && !q.path.includes('/locks/'));
    assert.equal(puts.length, 3);
    for (const q of puts) assert.equal(q.headers['x-amz-tagging'], 'team=platform&cost-center=42');
  });

  it('an unchanged run downloads nothing and makes no mutating call; --refresh downloads everything', async () => {
    const start = aws.elb.calls.length;
    const r = await deploy('team-a', ['--listener-arn', listenerArn, '--tag', 'team=platform', '--tag', 'cost-center=42', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.changed, false);
    assert.deepEqual(r.json.trustStore.read, {bundle: 'record', revocationsFromRecords: 2, revocationsDownloaded: 0});
    assert.deepEqual(
      aws.elb.calls.slice(start).filter((c) => /^(Create|Modify|Add|Remove|Delete)/.test(c.action)),
      [],
    );
    // Only the bundle link is asked for (its ETag is read with one ranged byte), never a CRL.
    assert.deepEqual(downloads(start), ['GetTrustStoreCaCertificatesBundle']);

    const s2 = aws.elb.calls.length;
    const full = await deploy('team-a', ['--listener-arn', listenerArn, '--refresh', '--json']);
    assert.equal(full.code, 0, full.stderr);
    assert.equal(full.json.changed, false);
    assert.deepEqual(full.json.trustStore.read, {bundle: 'downloaded', revocationsFromRecords: 0, revocationsDownloaded: 2});
    assert.deepEqual(downloads(s2).sort(), ['GetTrustStoreCaCertificatesBundle', 'GetTrustStoreRevocationContent', 'GetTrustStoreRevocationContent']);
  });

  it('notices a bundle replaced behind its back although the record still matches (held copy ETag)', async () => {
    const held = aws.elb.heldBundle('team-a')!;
    // Same certificates reordered: a different file, the same set. Deploy must download, and find it unchanged.
    const blocks = held.toString().match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g)!;
    aws.elb.replaceHeldBundle('team-a', Buffer.from([...blocks].reverse().join('')));
    let r = await deploy('team-a', ['--listener-arn', listenerArn, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.trustStore.read.bundle, 'downloaded');
    assert.equal(r.json.trustStore.action, 'unchanged', 'a reordered bundle is the same set of certificates');
    // Now only the root: deploy must put the bundle back.
    aws.elb.replaceHeldBundle('team-a', Buffer.from(blocks[0]!));
    r = await deploy('team-a', ['--listener-arn', listenerArn, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.trustStore.action, 'modify');
    r = await deploy('team-a', ['--listener-arn', listenerArn, '--json']);
    assert.equal(r.json.changed, false);
    assert.equal(r.json.trustStore.read.bundle, 'record');
  });

  it('stops before a rotation that would exceed the entry quota, and rotates with a measured gap when allowed', async () => {
    // The store holds 2 entries; the new intermediate CRL has 3. Adding first would need 5 (quota 3).
    ca.revokeSerial('0A03', 'intermediate');
    ca.opensslCrl('intermediate');
    const before = aws.elb.mutatingCalls().length;
    let r = await deploy('team-a', ['--listener-arn', listenerArn]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(
      r.stderr,
      /adding the new CRLs before removing the old ones needs room for 3 lists and 5 entries at once; the trust store's quotas are 30 lists and 3 entries/,
    );
    assert.match(r.stderr, /--allow-revocation-gap/);
    assert.equal(aws.elb.mutatingCalls().length, before, 'nothing was changed');

    r = await deploy('team-a', ['--listener-arn', listenerArn, '--allow-revocation-gap', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.revocations.order, 'remove-first');
    assert.deepEqual(r.json.revocations.count.peak, {lists: 2, entries: 3});
    assert.equal(r.json.revocations.gaps.length, 1);
    assert.match(r.json.revocations.gaps[0].path, /intermediate/);
    assert.equal(typeof r.json.revocations.gaps[0].ms, 'number');
    const order = aws.elb
      .mutatingCalls()
      .slice(before)
      .map((c) => c.action);
    assert.deepEqual(order.slice(0, 2), ['RemoveTrustStoreRevocations', 'AddTrustStoreRevocations']);
    const human = await deploy('team-a', ['--listener-arn', listenerArn]);
    assert.match(human.stdout, /unchanged: nothing to do/);
  });

  it('refuses to repoint a listener that verifies against another trust store, unless --force', async () => {
    const r = await deploy('team-b', ['--listener-arn', listenerArn]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /listener .* verifies clients against another trust store \(arn:aws:elasticloadbalancing:[^)]*truststore\/team-a\/[^)]*\)/);
    assert.match(r.stderr, /--force/);
    assert.equal(aws.elb.hasTrustStore('team-b'), false, 'the plan stopped before creating anything');

    const st = await run(['status', '--dir', dir, '--trust-store-name', 'team-a', '--bucket', BUCKET, '--listener-arn', listenerArn, '--json']);
    assert.equal(st.code, 0, st.stderr + st.stdout);
    assert.deepEqual(st.json.trustStore.associations, [lbArn]);
  });

  it('sets several listeners in one run (--listener-arn repeated)', async () => {
    const second = await deploy('team-a', [...create(8443), '--mode', 'verify', '--json']);
    assert.equal(second.code, 0, second.stderr);
    const l2 = second.json.listener.arn;
    const r = await deploy('team-a', ['--listener-arn', listenerArn, '--listener-arn', l2, '--ignore-client-cert-expiry', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.json.listeners.map((l: {arn: string; action: string}) => [l.arn, l.action]),
      [
        [listenerArn, 'modify'],
        [l2, 'modify'],
      ],
    );
    assert.equal(r.json.listeners[0].previous.ignoreClientCertificateExpiry, false);
    assert.equal(r.json.listeners[1].mutualAuthentication.ignoreClientCertificateExpiry, true);
  });

  it('sends SSE-KMS and ExpectedBucketOwner on the uploads; rejects bad tags locally (exit 2)', async () => {
    // A new prefix: every object is uploaded again, nothing else changes.
    const start = aws.s3.requests.length;
    const r = await deploy('team-a', [
      '--prefix',
      'kms/',
      '--sse',
      'aws:kms',
      '--kms-key-id',
      'alias/pki',
      '--expected-bucket-owner',
      '123456789012',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const put = aws.s3.requests.slice(start).find((q) => q.method === 'PUT' && q.path.includes('root-crl'))!;
    assert.equal(put.headers['x-amz-server-side-encryption'], 'aws:kms');
    assert.equal(put.headers['x-amz-server-side-encryption-aws-kms-key-id'], 'alias/pki');
    assert.equal(put.headers['x-amz-expected-bucket-owner'], '123456789012');
    for (const q of aws.s3.requests.slice(start)) assert.equal(q.headers['x-amz-expected-bucket-owner'], '123456789012', `${q.method} ${q.path}`);

    for (const bad of ['novalue', 'aws:x=1', 'mtls-kit:bundle=1', 'a=b,c']) {
      const u = await deploy('team-a', ['--tag', bad]);
      assert.equal(u.code, 2, `${bad}: ${u.stderr}`);
      assert.match(u.stderr, /--tag/);
    }
    const k = await deploy('team-a', ['--sse', 'aws:kms']);
    assert.equal(k.code, 2);
    assert.match(k.stderr, /--kms-key-id/);
  });
});
