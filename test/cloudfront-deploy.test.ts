/**
 * deploy / status / destroy --cloudfront-trust-store against the CloudFront emulator of
 * `mtls-kit emulate` (src/io/emulate/cloudfront.ts), reached through the one endpoint URL
 * the emulator front routes by SigV4 scope, with the real @aws-sdk/client-cloudfront; and
 * the emulator's own validation through the SDK (bundle in S3, CA certificates, ETag).
 */
import assert from 'node:assert/strict';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {after, describe, it} from 'node:test';
import {
  CloudFrontClient,
  CreateTrustStoreCommand,
  DeleteTrustStoreCommand,
  GetDistributionConfigCommand,
  GetTrustStoreCommand,
  UpdateDistributionCommand,
  UpdateTrustStoreCommand,
} from '@aws-sdk/client-cloudfront';
import {PutObjectCommand, S3Client} from '@aws-sdk/client-s3';
import {CloudfrontEmulator} from '../src/io/emulate/cloudfront.js';
import {emulatorCliEnv} from './support/aws-env.js';
import {startTestEmulator} from './support/emulate.js';
import {runCli} from './support/cli.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const BUCKET = 'pki';
const tmp = tempDir('mtls-kit-cloudfront-');
const emu = await startTestEmulator({buckets: [BUCKET], distributions: ['E1AAAAAAAAAAAA', 'E2BBBBBBBBBBBB', 'E3CCCCCCCCCCCC'], delayMs: 100});

const ca = await makeTestCa(join(tmp, 'pki'), {intermediate: true, cn: 'CloudFront Test Root'});
const dir = ca.dir;
const env = emulatorCliEnv(emu.url, tmp);
const cf = (args: string[]) => ['--dir', dir, '--bucket', BUCKET, '--cloudfront-trust-store', 'devices', ...args];
const deploy = (args: string[]) => runCli(['deploy', ...cf(args)], {env});
const status = (args: string[]) => runCli(['status', ...cf(args)], {env});
const destroy = (args: string[]) => runCli(['destroy', ...cf(args).slice(2)], {env});
const mutating = (): number => emu.cloudfront.mutatingCalls().length;

describe('deploy --cloudfront-trust-store (CloudFront emulator through mtls-kit emulate)', () => {
  it('--dry-run --exit-code plans a create and changes nothing (exit 10)', async () => {
    const r = await deploy(['--distribution', 'E1AAAAAAAAAAAA', '--dry-run', '--exit-code', '--json']);
    assert.equal(r.code, 10, r.stderr + r.stdout);
    assert.equal(r.json.target, 'cloudfront');
    assert.equal(r.json.dryRun, true);
    assert.equal(r.json.trustStore.action, 'create');
    assert.equal(r.json.bundle.action, 'upload');
    assert.equal(r.json.distributions[0].action, 'update');
    assert.equal(mutating(), 0);
    assert.equal(emu.cloudfront.trustStores.size, 0);
  });

  it('creates the trust store from the bundle in S3, waits until active, and sets viewer mTLS on the distributions', async () => {
    const r = await deploy(['--distribution', 'E1AAAAAAAAAAAA', '--distribution', 'E2BBBBBBBBBBBB', '--advertise-ca-names', '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const j = r.json;
    assert.equal(j.changed, true);
    assert.equal(j.trustStore.action, 'create');
    assert.equal(j.trustStore.status, 'active');
    assert.equal(j.trustStore.numberOfCaCertificates, 2);
    const ts = [...emu.cloudfront.trustStores.values()][0]!;
    assert.equal(ts.name, 'devices');
    assert.deepEqual(ts.source, {bucket: BUCKET, key: j.bundle.key, version: null});
    assert.match(j.bundle.key, /^mtls-kit\/cloudfront\/bundle-[0-9a-f]{64}\.pem$/);
    for (const id of ['E1AAAAAAAAAAAA', 'E2BBBBBBBBBBBB'])
      assert.deepEqual(emu.cloudfront.viewerMtls(id), {mode: 'required', trustStoreId: ts.id, advertise: true, ignoreExpiry: false});
    assert.equal(emu.cloudfront.viewerMtls('E3CCCCCCCCCCCC'), null);
    // The rest of the distribution's configuration came back as it was.
    assert.equal((emu.cloudfront.distributions.get('E1AAAAAAAAAAAA')!.config.Origins as {Quantity: string}).Quantity, '1');
  });

  it('a second run changes nothing (no mutating CloudFront call) and status is in sync', async () => {
    const before = mutating();
    const r = await deploy(['--distribution', 'E1AAAAAAAAAAAA', '--distribution', 'E2BBBBBBBBBBBB', '--advertise-ca-names', '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(r.json.changed, false);
    assert.equal(r.json.summary, 'unchanged');
    assert.equal(mutating(), before);
    const s = await status(['--distribution', 'E1AAAAAAAAAAAA', '--distribution', 'E2BBBBBBBBBBBB', '--advertise-ca-names', '--json']);
    assert.equal(s.code, 0, s.stderr + s.stdout);
    assert.equal(s.json.drift, false);
  });

  it('status reports drift (exit 3) for other viewer mTLS settings; deploy then updates only that', async () => {
    const s = await status(['--distribution', 'E1AAAAAAAAAAAA', '--viewer-mtls-mode', 'optional', '--json']);
    assert.equal(s.code, 3, s.stderr + s.stdout);
    assert.equal(s.json.drift, true);
    const before = mutating();
    const r = await deploy(['--distribution', 'E1AAAAAAAAAAAA', '--viewer-mtls-mode', 'optional', '--ignore-client-cert-expiry', '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(r.json.trustStore.action, 'unchanged');
    assert.equal(r.json.distributions[0].action, 'update');
    assert.equal(mutating() - before, 1);
    assert.equal(emu.cloudfront.viewerMtls('E1AAAAAAAAAAAA')?.mode, 'optional');
    assert.equal(emu.cloudfront.viewerMtls('E1AAAAAAAAAAAA')?.ignoreExpiry, true);
  });

  it('a changed bundle updates the trust store (UpdateTrustStore with the ETag) from a new S3 object', async () => {
    const other = await makeTestCa(join(tmp, 'other'), {cn: 'Second Root'});
    const bundle = join(tmp, 'two-cas.pem');
    writeFileSync(bundle, readFileSync(join(dir, 'ca-bundle.pem'), 'utf8') + readFileSync(join(other.dir, 'ca-bundle.pem'), 'utf8'));
    const r = await deploy([
      '--ca-bundle',
      bundle,
      '--distribution',
      'E1AAAAAAAAAAAA',
      '--viewer-mtls-mode',
      'optional',
      '--ignore-client-cert-expiry',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(r.json.trustStore.action, 'update');
    assert.equal(r.json.trustStore.reason, 'the bundle changed');
    assert.equal(r.json.trustStore.numberOfCaCertificates, 3);
    assert.equal(r.json.distributions[0].action, 'unchanged');
    assert.ok(emu.cloudfront.calls.some((c) => c.method === 'PUT' && c.path.includes('/trust-store/')));
  });

  it('destroy refuses while a distribution that is not named uses the trust store (exit 4), then turns viewer mTLS off and deletes it', async () => {
    const refused = await destroy(['--distribution', 'E1AAAAAAAAAAAA', '--yes', '--json']);
    assert.equal(refused.code, 4, refused.stderr + refused.stdout);
    assert.match(refused.stdout + refused.stderr, /CLOUDFRONT_TRUST_STORE_IN_USE/);
    assert.match(refused.stdout + refused.stderr, /E2BBBBBBBBBBBB/);
    const plan = await destroy(['--distribution', 'E1AAAAAAAAAAAA', '--distribution', 'E2BBBBBBBBBBBB', '--dry-run', '--exit-code', '--json']);
    assert.equal(plan.code, 10, plan.stderr + plan.stdout);
    assert.equal(emu.cloudfront.trustStores.size, 1);
    const r = await destroy(['--distribution', 'E1AAAAAAAAAAAA', '--distribution', 'E2BBBBBBBBBBBB', '--yes', '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(emu.cloudfront.trustStores.size, 0);
    assert.equal(emu.cloudfront.viewerMtls('E1AAAAAAAAAAAA'), null);
    assert.equal(emu.cloudfront.viewerMtls('E2BBBBBBBBBBBB'), null);
    const again = await destroy(['--distribution', 'E1AAAAAAAAAAAA', '--yes', '--json']);
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.equal(again.json.changed, false);
  });

  it('an unknown distribution is exit 5 CLOUDFRONT_DISTRIBUTION_NOT_FOUND; a bad name is exit 2', async () => {
    const r = await deploy(['--distribution', 'ENOPE', '--json']);
    assert.equal(r.code, 5, r.stderr + r.stdout);
    assert.match(r.stdout + r.stderr, /CLOUDFRONT_DISTRIBUTION_NOT_FOUND/);
    const bad = await runCli(['deploy', '--dir', dir, '--bucket', BUCKET, '--cloudfront-trust-store', 'no_underscores'], {env});
    assert.equal(bad.code, 2, bad.stderr);
    const ignored = await deploy(['--distribution', 'E1AAAAAAAAAAAA', '--tag', 'team=pki', '--json']);
    assert.equal(ignored.code, 2, ignored.stderr + ignored.stdout);
    assert.match(ignored.stdout + ignored.stderr, /CLOUDFRONT_FLAG_UNSUPPORTED[\s\S]*--tag/);
  });
});

describe('CloudFront emulator validation (real SDK)', async () => {
  // Its own emulator, whose trust stores stay pending for 60 s.
  const slow = new CloudfrontEmulator({s3Endpoint: emu.s3.url, delayMs: 60_000});
  await slow.start();
  slow.addDistribution('E3CCCCCCCCCCCC');
  after(() => slow.stop());
  const cfg = {region: 'us-east-1', credentials: {accessKeyId: 'a', secretAccessKey: 'b'}};
  const client = new CloudFrontClient({...cfg, endpoint: slow.url});
  const s3 = new S3Client({...cfg, endpoint: emu.url, forcePathStyle: true});
  const loc = (Key: string) => ({CaCertificatesBundleS3Location: {Bucket: BUCKET, Key, Region: 'eu-west-1'}});
  const code = async (p: Promise<unknown>): Promise<string> =>
    p.then(
      () => 'ok',
      (e: Error) => e.name,
    );

  it('refuses a missing object, a bundle that is not PEM, and a non-CA certificate; takes a CA bundle', async () => {
    assert.equal(await code(client.send(new CreateTrustStoreCommand({Name: 'a', CaCertificatesBundleSource: loc('missing.pem')}))), 'InvalidArgument');
    await s3.send(new PutObjectCommand({Bucket: BUCKET, Key: 'junk.pem', Body: 'not a certificate'}));
    assert.equal(await code(client.send(new CreateTrustStoreCommand({Name: 'a', CaCertificatesBundleSource: loc('junk.pem')}))), 'InvalidArgument');
    const leaf = ca.opensslLeaf('/CN=not-a-ca').pem;
    await s3.send(new PutObjectCommand({Bucket: BUCKET, Key: 'leaf.pem', Body: leaf + readFileSync(join(dir, 'ca-bundle.pem'), 'utf8')}));
    assert.equal(await code(client.send(new CreateTrustStoreCommand({Name: 'a', CaCertificatesBundleSource: loc('leaf.pem')}))), 'InvalidArgument');
    await s3.send(new PutObjectCommand({Bucket: BUCKET, Key: 'ok.pem', Body: readFileSync(join(dir, 'ca-bundle.pem'))}));
    const made = await client.send(new CreateTrustStoreCommand({Name: 'v1', CaCertificatesBundleSource: loc('ok.pem')}));
    assert.equal(made.TrustStore?.Status, 'pending');
    assert.equal(await code(client.send(new CreateTrustStoreCommand({Name: 'v1', CaCertificatesBundleSource: loc('ok.pem')}))), 'EntityAlreadyExists');
  });

  it('enforces If-Match: none → InvalidIfMatchVersion, stale → PreconditionFailed; a pending trust store cannot be associated', async () => {
    await s3.send(new PutObjectCommand({Bucket: BUCKET, Key: 'ok.pem', Body: readFileSync(join(dir, 'ca-bundle.pem'))}));
    const made = await client.send(new CreateTrustStoreCommand({Name: 'v2', CaCertificatesBundleSource: loc('ok.pem')}));
    const id = made.TrustStore!.Id!;
    const d = await client.send(new GetDistributionConfigCommand({Id: 'E3CCCCCCCCCCCC'}));
    const withMtls = {...d.DistributionConfig!, ViewerMtlsConfig: {Mode: 'required' as const, TrustStoreConfig: {TrustStoreId: id}}};
    assert.equal(
      await code(client.send(new UpdateDistributionCommand({Id: 'E3CCCCCCCCCCCC', IfMatch: d.ETag, DistributionConfig: withMtls}))),
      'InvalidArgument',
    );
    assert.equal(
      await code(client.send(new UpdateTrustStoreCommand({Id: id, IfMatch: undefined as unknown as string, CaCertificatesBundleSource: loc('ok.pem')}))),
      'InvalidIfMatchVersion',
    );
    assert.equal(
      await code(client.send(new UpdateTrustStoreCommand({Id: id, IfMatch: 'ESTALE', CaCertificatesBundleSource: loc('ok.pem')}))),
      'PreconditionFailed',
    );
    assert.equal(await code(client.send(new DeleteTrustStoreCommand({Id: id, IfMatch: 'ESTALE'}))), 'PreconditionFailed');
    const g = await client.send(new GetTrustStoreCommand({Identifier: id}));
    assert.equal(await code(client.send(new DeleteTrustStoreCommand({Id: id, IfMatch: g.ETag}))), 'ok');
  });
});
