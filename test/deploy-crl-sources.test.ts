/**
 * AWS Private CA as a CRL source (aws-reference 4.5): `deploy --crl` takes a DER CRL file and an
 * s3://bucket/key CRL (Private CA writes DER to S3), uploads them as PEM, and says what it did;
 * a partitioned CRL (critical issuingDistributionPoint) gets the documented-nowhere note.
 * Real peers: openssl writes the DER, s3rver holds the object, the ELBv2 emulator loads the PEM.
 */
import assert from 'node:assert/strict';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client} from '@aws-sdk/client-s3';
import {crlInputToPem} from '../src/lib/x509/crl-input.js';
import {startAwsStandIns} from './support/aws-env.js';
import {runCli} from './support/cli.js';
import {opensslOk} from './support/openssl.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const BUCKET = 'crl-src-bucket';
const PCA = 'pca-crl-bucket';
const aws = await startAwsStandIns([BUCKET, PCA]);
const tmp = tempDir();
const ca = await makeTestCa(join(tmp, 'pki'), {cn: 'PCA Source Root'});
ca.revokeSerial('0C01');
ca.opensslCrl('root');
const pemPath = join(ca.dir, 'root', 'crl.pem');
const derPath = join(tmp, 'root.crl');
opensslOk(['crl', '-in', pemPath, '-outform', 'DER', '-out', derPath]);

describe('deploy --crl from AWS Private CA sources', () => {
  it('the lib converts DER to PEM holding the same CRL, and leaves PEM as is', () => {
    const der = readFileSync(derPath);
    const r = crlInputToPem(der);
    assert.equal(r.convertedFromDer, true);
    writeFileSync(join(tmp, 'converted.pem'), r.pem);
    opensslOk(['crl', '-in', join(tmp, 'converted.pem'), '-outform', 'DER', '-out', join(tmp, 'back.der')]);
    assert.deepEqual(readFileSync(join(tmp, 'back.der')), der);
    assert.equal(crlInputToPem(readFileSync(pemPath)).convertedFromDer, false);
  });

  it('a DER file and an s3:// DER object are uploaded as PEM CRLs and the trust store takes them', async () => {
    const s3 = new S3Client({
      endpoint: aws.env.AWS_ENDPOINT_URL_S3 ?? aws.env.AWS_ENDPOINT_URL,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: {accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER'},
    });
    await s3.send(new PutObjectCommand({Bucket: PCA, Key: 'crl/1234.crl', Body: readFileSync(derPath)}));
    const r = await runCli(
      ['deploy', '--dir', ca.dir, '--trust-store-name', 'pca-src', '--bucket', BUCKET, '--crl', derPath, '--crl', `s3://${PCA}/crl/1234.crl`, '--json'],
      {env: aws.env},
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(r.json.revocations.added.length, 2);
    // Without --json the conversion is said on stderr (a second run: nothing changes).
    const human = await runCli(
      ['deploy', '--dir', ca.dir, '--trust-store-name', 'pca-src', '--bucket', BUCKET, '--crl', derPath, '--crl', `s3://${PCA}/crl/1234.crl`],
      {env: aws.env},
    );
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stderr, /root\.crl is a DER CRL; uploading it as PEM/);
    assert.match(human.stderr, /s3:\/\/pca-crl-bucket\/crl\/1234\.crl is a DER CRL/);
    const listed = await s3.send(new ListObjectsV2Command({Bucket: BUCKET}));
    const crlKeys = (listed.Contents ?? []).map((o) => o.Key!).filter((k) => !k.includes('ca-bundle'));
    assert.ok(crlKeys.length >= 1, JSON.stringify(listed.Contents));
    for (const key of crlKeys) {
      const body = Buffer.from(await (await s3.send(new GetObjectCommand({Bucket: BUCKET, Key: key}))).Body!.transformToByteArray());
      assert.match(body.toString('latin1'), /^-----BEGIN X509 CRL-----\n/, key);
    }
    s3.destroy();
  });
});
