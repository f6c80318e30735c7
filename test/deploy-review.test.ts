/**
 * A deploy plan a reviewer approves (issue 14): certificates and serials named, --exit-code,
 * --plan-out and --plan applying exactly that plan or refusing when AWS changed since.
 * s3rver and the ELBv2 emulator through the real SDK.
 */
import assert from 'node:assert/strict';
import {appendFileSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {type AwsStandIns, startAwsStandIns} from './support/aws-env.js';
import {runCli} from './support/cli.js';
import {opensslOk} from './support/openssl.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const BUCKET = 'review-bucket';
const aws: AwsStandIns = await startAwsStandIns([BUCKET]);
const work = tempDir();
const ca = await makeTestCa(join(work, 'pki'), {cn: 'Review Test Root', intermediate: true});
const dir = ca.dir;
ca.revokeSerial('0A01', 'intermediate');
ca.opensslCrl('root');
ca.opensslCrl('intermediate');
const lbArn = aws.elb.addLoadBalancer('review-alb');
const create = [
  '--load-balancer-arn',
  lbArn,
  '--port',
  '443',
  '--certificate-arn',
  'arn:aws:acm:us-east-1:123456789012:certificate/abc',
  '--target-group-arn',
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/1',
];
const deploy = (extra: string[]) => runCli(['deploy', '--dir', dir, '--trust-store-name', 'review', '--bucket', BUCKET, ...extra], {env: aws.env});
const planFile = join(work, 'plan.json');

describe('deploy: a plan to review and apply (s3rver + ELBv2 emulator)', () => {
  let listenerArn = '';

  it('--exit-code: 10 when the plan has changes, 0 when none; only with --dry-run or --plan-out', async () => {
    const first = await deploy([...create, '--dry-run', '--exit-code', '--json']);
    assert.equal(first.code, 10, first.stderr);
    assert.equal(first.json.changed, true);
    // The whole bundle is new: every certificate is named.
    assert.equal(first.json.trustStore.certificates.added.length, 2);
    assert.match(first.json.trustStore.certificates.added[0].subject, /CN=Review Test Root/);
    assert.match(first.json.trustStore.certificates.added[0].fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const applied = await deploy([...create, '--json']);
    assert.equal(applied.code, 0, applied.stderr);
    listenerArn = applied.json.listener.arn;
    const none = await deploy(['--listener-arn', listenerArn, '--dry-run', '--exit-code']);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /unchanged: nothing to do/);
    const bad = await deploy(['--listener-arn', listenerArn, '--exit-code']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--dry-run or --plan-out/);
  });

  it('names the serials a CRL rotation revokes and the certificates a bundle change adds, with each listener before and after', async () => {
    ca.revokeSerial('0A02', 'intermediate');
    ca.opensslCrl('intermediate');
    const tmp = tempDir();
    writeFileSync(join(tmp, 'ext.cnf'), 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n');
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
      '/CN=Review Intermediate 2',
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
      join(tmp, 'ext.cnf'),
      '-out',
      join(tmp, 'i2.crt'),
    ]);
    appendFileSync(join(dir, 'ca-bundle.pem'), readFileSync(join(tmp, 'i2.crt'), 'utf8'));

    const r = await deploy(['--listener-arn', listenerArn, '--ignore-client-cert-expiry', '--plan-out', planFile, '--exit-code', '--json']);
    assert.equal(r.code, 10, r.stderr);
    assert.deepEqual(
      r.json.trustStore.certificates.added.map((c: {subject: string}) => c.subject),
      ['CN=Review Intermediate 2'],
    );
    assert.deepEqual(r.json.trustStore.certificates.removed, []);
    const add = r.json.revocations.added[0];
    assert.deepEqual([add.serials.added, add.serials.removed, add.serials.addedSerials], [1, 0, ['0A02']]);
    assert.equal(r.json.listener.previous.ignoreClientCertificateExpiry, false);
    assert.equal(r.json.listener.mutualAuthentication.ignoreClientCertificateExpiry, true);
    assert.equal(aws.elb.served('ModifyTrustStore').length, 0, '--plan-out changes nothing');

    const human = await deploy(['--listener-arn', listenerArn, '--ignore-client-cert-expiry', '--dry-run']);
    assert.match(human.stdout, /\+ CN=Review Intermediate 2 {2}sha256 ([0-9A-F]{2}:){31}[0-9A-F]{2} {2}expires \d{4}-/);
    assert.match(human.stdout, /1 serial newly revoked, 0 no longer revoked/);
    assert.match(human.stdout, /\+ 0A02/);
    assert.match(human.stdout, /was Mode=verify, .*IgnoreClientCertificateExpiry=false/);
  });

  it('--plan applies exactly the saved plan', async () => {
    const saved = JSON.parse(readFileSync(planFile, 'utf8'));
    assert.equal(saved.mtlsKitPlan, 1);
    assert.equal(saved.settings.trustStoreName, 'review');
    const r = await runCli(['deploy', '--plan', planFile, '--json'], {env: aws.env});
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.dryRun, false);
    assert.equal(r.json.trustStore.action, 'modify');
    assert.equal(r.json.revocations.added.length, 1);
    assert.equal(r.json.listener.action, 'modify');
    const again = await deploy(['--listener-arn', listenerArn, '--ignore-client-cert-expiry', '--json']);
    assert.equal(again.json.changed, false);
  });

  it('--plan refuses (exit 4) when the trust store changed since the plan, and changes nothing', async () => {
    ca.revokeSerial('0A03', 'intermediate');
    ca.opensslCrl('intermediate');
    const made = await deploy(['--listener-arn', listenerArn, '--ignore-client-cert-expiry', '--plan-out', planFile]);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stderr, /apply exactly this plan: mtls-kit deploy --plan /);
    // Someone replaces the bundle behind the plan's back.
    const held = aws.elb.heldBundle('review')!.toString();
    aws.elb.replaceHeldBundle('review', Buffer.from(held.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/)![0]));
    const before = aws.elb.mutatingCalls().length;
    const r = await runCli(['deploy', '--plan', planFile], {env: aws.env});
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /no longer applies: the trust store holds another bundle; nothing was changed/);
    assert.equal(aws.elb.mutatingCalls().length, before);
    const local = await runCli(['deploy', '--plan', join(work, 'missing.json')], {env: aws.env});
    assert.equal(local.code, 4);
    assert.match(local.stderr, /missing\.json does not exist/);
  });
});
