/**
 * Concurrent deploys and SIGKILL convergence. Two deploys of different CRLs of one issuer
 * at once: one takes the lease, the other waits, reads the state again and plans from it,
 * so the trust store never ends with duplicate lists or an older CRL after a newer one.
 */
import assert from 'node:assert/strict';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {CreateTrustStoreCommand, ElasticLoadBalancingV2Client} from '@aws-sdk/client-elastic-load-balancing-v2';
import {PutObjectCommand, S3Client} from '@aws-sdk/client-s3';
import {startAwsStandIns} from './support/aws-env.js';
import {runCli} from './support/cli.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const BUCKET = 'race-bucket';
// A trust store stays CREATING 1.5 s: the first deploy holds the lease that long, so the runs overlap.
const aws = await startAwsStandIns([BUCKET], {activationDelayMs: 1500});
const credentials = {accessKeyId: 'test', secretAccessKey: 'test'};

describe('concurrent deploys', () => {
  it('the emulator rejects a second CreateTrustStore of one name even when both arrive at once', async () => {
    const s3 = new S3Client({region: 'us-east-1', endpoint: aws.s3.url, forcePathStyle: true, credentials});
    const ca = await makeTestCa(join(tempDir(), 'emu'), {cn: 'Race Emulator'});
    await s3.send(new PutObjectCommand({Bucket: BUCKET, Key: 'emu/bundle.pem', Body: readFileSync(join(ca.dir, 'ca-bundle.pem'))}));
    s3.destroy();
    const elb = new ElasticLoadBalancingV2Client({region: 'us-east-1', endpoint: aws.elb.url, credentials, maxAttempts: 1});
    const create = () =>
      elb.send(new CreateTrustStoreCommand({Name: 'same-name', CaCertificatesBundleS3Bucket: BUCKET, CaCertificatesBundleS3Key: 'emu/bundle.pem'}));
    const results = await Promise.allSettled([create(), create(), create()]);
    elb.destroy();
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as Error).name, 'DuplicateTrustStoreNameException');
  });

  it('two deploys of different CRLs at once: one waits for the other; the newer CRL ends held, once', async () => {
    const ca = await makeTestCa(join(tempDir(), 'race'), {cn: 'Race Root'});
    const older = join(ca.dir, 'older');
    const newer = join(ca.dir, 'newer');
    mkdirSync(older);
    mkdirSync(newer);
    ca.revokeSerial('0C01', 'root');
    writeFileSync(join(older, 'crl.pem'), ca.opensslCrl('root'));
    ca.revokeSerial('0C02', 'root');
    writeFileSync(join(newer, 'crl.pem'), ca.opensslCrl('root'));
    const deploy = (crl: string) =>
      runCli(['deploy', '--dir', ca.dir, '--trust-store-name', 'raced', '--bucket', BUCKET, '--crl', join(crl, 'crl.pem'), '--json'], {
        env: aws.env,
        timeoutMs: 90_000,
      });
    const [a, b] = await Promise.all([deploy(older), deploy(newer)]);
    // The newer one always succeeds. The older one either ran first (then the newer one
    // replaced its list) or ran second and refused to roll revocations back.
    assert.equal(b.code, 0, b.stderr + b.stdout);
    // Both tried the lease; one found it held (a second conditional PUT at least).
    assert.ok(aws.s3.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/locks/raced.json')).length >= 3);
    assert.ok(a.code === 0 || (a.code === 4 && a.json.error.code === 'REMOTE_CRL_NEWER'), a.stderr + a.stdout);
    assert.equal(aws.elb.served('CreateTrustStore').filter((c) => c.params.Name === 'raced').length, 1);
    const s = await runCli(['status', '--dir', ca.dir, '--trust-store-name', 'raced', '--bucket', BUCKET, '--crl', join(newer, 'crl.pem'), '--json'], {
      env: aws.env,
    });
    assert.equal(s.code, 0, s.stdout);
    assert.equal(s.json.trustStore.revocationIds.length, 1);
    // The lease is gone, and a re-run of the newer one changes nothing.
    assert.equal((await fetch(`${aws.s3.url}/${BUCKET}/mtls-kit/locks/raced.json`, {method: 'HEAD'})).status, 404);
    const mark = aws.elb.mutatingCalls().length;
    const again = await deploy(newer);
    assert.equal(again.json.changed, false, again.stdout);
    assert.equal(aws.elb.mutatingCalls().length, mark);
  });
});
