import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import * as elbv2 from '@aws-sdk/client-elastic-load-balancing-v2';
import {PutObjectCommand, S3Client} from '@aws-sdk/client-s3';
import {startAwsStandIns} from './support/aws-env.js';
import {opensslOk} from './support/openssl.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

// The emulator speaks the Query protocol to the real SDK (signing, XML parsing, error
// classes): every assertion here goes through @aws-sdk/client-elastic-load-balancing-v2.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const B = 'emu-bucket';
const aws = await startAwsStandIns([B], {maxTrustStores: 3, maxRevocationLists: 2, maxRevocationEntries: 4, activationDelayMs: 300});
const credentials = {accessKeyId: 'test', secretAccessKey: 'test'};
const elb = new elbv2.ElasticLoadBalancingV2Client({region: 'us-east-1', endpoint: aws.elb.url, credentials, maxAttempts: 1});
const s3 = new S3Client({region: 'us-east-1', endpoint: aws.s3.url, forcePathStyle: true, credentials});
const put = (key: string, body: string | Buffer) => s3.send(new PutObjectCommand({Bucket: B, Key: key, Body: body}));
const dirCa = await makeTestCa(join(tempDir(), 'pki'), {cn: 'Deploy Test Root', intermediate: true});
const dir = dirCa.dir;
const bundle = readFileSync(join(dir, 'ca-bundle.pem'), 'utf8');
dirCa.revokeSerial('0D01', 'intermediate');
const crlPem = dirCa.opensslCrl('intermediate');
await put('bundle.pem', bundle);
await put('crl.pem', crlPem);

const rejects = (p: Promise<unknown>, name: string) =>
  assert.rejects(p, (e: Error & {$metadata?: {httpStatusCode?: number}}) => e.name === name && e.$metadata?.httpStatusCode === 400);
const create = (Name: string, key = 'bundle.pem') =>
  elb.send(new elbv2.CreateTrustStoreCommand({Name, CaCertificatesBundleS3Bucket: B, CaCertificatesBundleS3Key: key}));

describe('ELBv2 emulator (through the real SDK)', () => {
  it('validates the bundle like ALB: blank lines, text dumps, comments with "-", v1 and unsupported keys', async () => {
    await put('blank.pem', bundle.replace('-----END CERTIFICATE-----\n', '-----END CERTIFICATE-----\n\n'));
    await put('text.pem', 'Certificate:\n    Data:\n' + bundle);
    await put('comment-ok.pem', '# devices root\n' + bundle);
    await put('comment-dash.pem', '# devices - root\n' + bundle);
    const tmp = tempDir();
    opensslOk([
      'req',
      '-x509',
      '-newkey',
      'rsa:1024',
      '-nodes',
      '-keyout',
      join(tmp, 'k'),
      '-subj',
      '/CN=small',
      '-days',
      '1',
      '-out',
      join(tmp, 'rsa1024.pem'),
    ]);
    await put('rsa1024.pem', readFileSync(join(tmp, 'rsa1024.pem')));
    // openssl x509 -req without extensions writes an X.509 v1 certificate.
    opensslOk([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(tmp, 'v1.key'),
      '-subj',
      '/CN=v1',
      '-out',
      join(tmp, 'v1.csr'),
    ]);
    opensslOk(['x509', '-req', '-in', join(tmp, 'v1.csr'), '-key', join(tmp, 'v1.key'), '-days', '2', '-out', join(tmp, 'v1.pem')]);
    assert.match(opensslOk(['x509', '-in', join(tmp, 'v1.pem'), '-noout', '-text']), /Version: 1 \(0x0\)/);
    await put('v1.pem', readFileSync(join(tmp, 'v1.pem')));
    for (const key of ['blank.pem', 'text.pem', 'comment-dash.pem', 'rsa1024.pem', 'v1.pem'])
      await rejects(create(`bad-${key.replace('.pem', '')}`, key), 'InvalidCaCertificatesBundleException');
    const ok = await create('comment-ok', 'comment-ok.pem');
    assert.equal(ok.TrustStores![0]!.NumberOfCaCertificates, 2);
    await rejects(create('missing', 'nope.pem'), 'CaCertificatesBundleNotFoundException');
  });

  it('checks the name, duplicates and the trust-store quota (TooManyTrustStores)', async () => {
    await rejects(create('bad--name'), 'ValidationError');
    await rejects(create('x'.repeat(33)), 'ValidationError');
    await create('quota-1');
    await rejects(create('quota-1'), 'DuplicateTrustStoreNameException');
    await create('quota-2'); // 3 with comment-ok: the limit set for this file
    await rejects(create('quota-3'), 'TooManyTrustStoresException');
  });

  it('is CREATING, then ACTIVE; listeners cannot use it before; it cannot be deleted while used', async () => {
    await elb.send(
      new elbv2.DeleteTrustStoreCommand({
        TrustStoreArn: (await elb.send(new elbv2.DescribeTrustStoresCommand({Names: ['quota-2']}))).TrustStores![0]!.TrustStoreArn,
      }),
    );
    const ts = (await create('lifecycle')).TrustStores![0]!;
    assert.equal(ts.Status, 'CREATING');
    const lb = aws.elb.addLoadBalancer('emu-alb');
    const listener = {
      LoadBalancerArn: lb,
      Protocol: 'HTTPS' as const,
      Port: 443,
      Certificates: [{CertificateArn: 'arn:cert'}],
      DefaultActions: [{Type: 'forward' as const, TargetGroupArn: 'arn:tg'}],
    };
    await rejects(
      elb.send(new elbv2.CreateListenerCommand({...listener, MutualAuthentication: {Mode: 'verify', TrustStoreArn: ts.TrustStoreArn}})),
      'TrustStoreNotReadyException',
    );
    const l = (await elb.send(new elbv2.CreateListenerCommand(listener))).Listeners![0]!;
    assert.equal(l.MutualAuthentication?.Mode, 'off');
    await rejects(
      elb.send(new elbv2.ModifyListenerCommand({ListenerArn: l.ListenerArn, MutualAuthentication: {Mode: 'verify', TrustStoreArn: ts.TrustStoreArn}})),
      'TrustStoreNotReadyException',
    );
    for (let i = 0; i < 100; i++) {
      const s = (await elb.send(new elbv2.DescribeTrustStoresCommand({TrustStoreArns: [ts.TrustStoreArn!]}))).TrustStores![0]!.Status;
      if (s === 'ACTIVE') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const m = await elb.send(
      new elbv2.ModifyListenerCommand({
        ListenerArn: l.ListenerArn,
        MutualAuthentication: {Mode: 'verify', TrustStoreArn: ts.TrustStoreArn, AdvertiseTrustStoreCaNames: 'on'},
      }),
    );
    assert.deepEqual(m.Listeners![0]!.MutualAuthentication, {
      Mode: 'verify',
      TrustStoreArn: ts.TrustStoreArn,
      IgnoreClientCertificateExpiry: false,
      AdvertiseTrustStoreCaNames: 'on',
    });
    await rejects(elb.send(new elbv2.DeleteTrustStoreCommand({TrustStoreArn: ts.TrustStoreArn})), 'TrustStoreInUseException');
    const assoc = await elb.send(new elbv2.DescribeTrustStoreAssociationsCommand({TrustStoreArn: ts.TrustStoreArn}));
    assert.deepEqual(assoc.TrustStoreAssociations, [{ResourceArn: lb}]);
  });

  it('revocations: PEM CRLs only, ids increase and are never reused, list limit, content readable through a link', async () => {
    const arn = (await elb.send(new elbv2.DescribeTrustStoresCommand({Names: ['lifecycle']}))).TrustStores![0]!.TrustStoreArn!;
    const derCrl = Buffer.from(crlPem.replace(/-----[A-Z0-9 ]+-----/g, '').replace(/\s+/g, ''), 'base64');
    await put('crl-der.crl', derCrl);
    const add = (key: string) =>
      elb.send(new elbv2.AddTrustStoreRevocationsCommand({TrustStoreArn: arn, RevocationContents: [{S3Bucket: B, S3Key: key, RevocationType: 'CRL'}]}));
    await rejects(add('crl-der.crl'), 'InvalidRevocationContentException');
    await rejects(add('nope.crl'), 'RevocationContentNotFoundException');
    const first = (await add('crl.pem')).TrustStoreRevocations![0]!;
    assert.equal(first.RevocationId, 1);
    assert.equal(first.NumberOfRevokedEntries, 1);
    await elb.send(new elbv2.RemoveTrustStoreRevocationsCommand({TrustStoreArn: arn, RevocationIds: [1]}));
    await rejects(elb.send(new elbv2.RemoveTrustStoreRevocationsCommand({TrustStoreArn: arn, RevocationIds: [1]})), 'RevocationIdNotFoundException');
    assert.equal((await add('crl.pem')).TrustStoreRevocations![0]!.RevocationId, 2);
    // Entry limit (500,000 in AWS; 4 in this file): 1 held + 5 new entries is too many.
    for (const serial of ['0F01', '0F02', '0F03', '0F04', '0F05']) dirCa.revokeSerial(serial, 'root');
    await put('big.pem', dirCa.opensslCrl('root'));
    await rejects(add('big.pem'), 'TooManyTrustStoreRevocationEntriesException');
    assert.equal((await add('crl.pem')).TrustStoreRevocations![0]!.RevocationId, 3);
    await rejects(add('crl.pem'), 'TooManyTrustStoreRevocationEntriesException'); // 2 lists in this file
    const d = await elb.send(new elbv2.DescribeTrustStoreRevocationsCommand({TrustStoreArn: arn}));
    assert.deepEqual(
      d.TrustStoreRevocations!.map((r) => r.RevocationId),
      [2, 3],
    );
    const link = await elb.send(new elbv2.GetTrustStoreRevocationContentCommand({TrustStoreArn: arn, RevocationId: 2}));
    assert.equal(await (await fetch(link.Location!)).text(), crlPem);
    assert.equal((await elb.send(new elbv2.DescribeTrustStoresCommand({TrustStoreArns: [arn]}))).TrustStores![0]!.TotalRevokedEntries, 2);
  });

  it('takes a copy of the bundle at create/modify time', async () => {
    const arn = (await elb.send(new elbv2.DescribeTrustStoresCommand({Names: ['lifecycle']}))).TrustStores![0]!.TrustStoreArn!;
    await put('bundle.pem', '# overwritten later\n' + bundle.split('-----END CERTIFICATE-----\n')[0] + '-----END CERTIFICATE-----\n');
    const held = await elb.send(new elbv2.GetTrustStoreCaCertificatesBundleCommand({TrustStoreArn: arn}));
    assert.equal(await (await fetch(held.Location!)).text(), bundle);
    const m = await elb.send(new elbv2.ModifyTrustStoreCommand({TrustStoreArn: arn, CaCertificatesBundleS3Bucket: B, CaCertificatesBundleS3Key: 'bundle.pem'}));
    assert.equal(m.TrustStores![0]!.NumberOfCaCertificates, 1);
  });

  it('answers throttling and 5xx in the AWS shape, which the SDK retries', async () => {
    const retrying = new elbv2.ElasticLoadBalancingV2Client({region: 'us-east-1', endpoint: aws.elb.url, credentials, maxAttempts: 4});
    aws.elb.injectFault({kind: 'throttle', count: 1, action: 'DescribeTrustStores'});
    aws.elb.injectFault({kind: 'server-error', count: 1, action: 'DescribeTrustStores'});
    const r = await retrying.send(new elbv2.DescribeTrustStoresCommand({}));
    assert.equal(r.$metadata.attempts, 3);
    aws.elb.injectFault({kind: 'throttle', count: 1, action: 'DescribeTrustStores'});
    await assert.rejects(
      elb.send(new elbv2.DescribeTrustStoresCommand({})),
      (e: Error & {$metadata?: {httpStatusCode?: number}}) => e.name === 'Throttling' && e.message === 'Rate exceeded' && e.$metadata?.httpStatusCode === 400,
    );
    retrying.destroy();
    elb.destroy();
    s3.destroy();
  });
});
