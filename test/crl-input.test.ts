/**
 * Issue 26: lint and inspect read CRLs where deploy reads them (a local DER file and an
 * s3://bucket/key object, through the one loader src/io/aws/s3-input.ts), a partitioned CRL as
 * AWS Private CA writes it (a critical issuingDistributionPoint naming its partition,
 * aws-reference 4.5) gets the same warning from lint, inspect and deploy, and inspect names the
 * clientAuth cause lint names (one message, src/lib/alb/describe.ts).
 * Real peers: openssl ca -gencrl writes the partitioned CRL and openssl req the certificates,
 * s3rver holds the objects (reached through AWS_ENDPOINT_URL, the SDK path), the ELBv2
 * emulator takes the trust store.
 */
import assert from 'node:assert/strict';
import {existsSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {PutObjectCommand, S3Client} from '@aws-sdk/client-s3';
import {startAwsStandIns} from './support/aws-env.js';
import {runCli} from './support/cli.js';
import {opensslOk} from './support/openssl.js';
import {opensslServerCert} from './support/tls-peers.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';
import {spawnSync} from 'node:child_process';

const BUCKET = 'crl-input-bucket';
const PCA = 'pca-partitioned';
const PARTITION_URI = 'http://pca-crl.example.com/crl/3f1c-partition-7.crl';
const aws = await startAwsStandIns([BUCKET, PCA]);
const tmp = tempDir();
const ca = await makeTestCa(join(tmp, 'pki'), {cn: 'PCA Partitioned Root'});
ca.revokeSerial('0C07');
ca.revokeSerial('0C08');

/** A partitioned CRL as AWS Private CA writes it: DER, with a critical IDP naming the partition (openssl ca -gencrl, crl_extensions). */
function partitionedCrl(): {pem: string; der: string} {
  writeFileSync(join(ca.dir, 'root', 'crlnumber'), '07\n');
  const extensions = ['authorityKeyIdentifier = keyid:always', 'issuingDistributionPoint = critical, @idp', '[idp]', `fullname = URI:${PARTITION_URI}`];
  const pem = join(tmp, 'partition-7.pem');
  const der = join(tmp, 'partition-7.crl');
  writeFileSync(pem, ca.opensslCrl('root', {days: 7, extensions}));
  opensslOk(['crl', '-in', pem, '-outform', 'DER', '-out', der]);
  return {pem, der};
}

const crl = partitionedCrl();
const s3 = new S3Client({
  endpoint: aws.env.AWS_ENDPOINT_URL_S3 ?? aws.env.AWS_ENDPOINT_URL,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: {accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER'},
});
await s3.send(new PutObjectCommand({Bucket: PCA, Key: 'crl/3f1c-partition-7.crl', Body: readFileSync(crl.der)}));
s3.destroy();
const S3_CRL = `s3://${PCA}/crl/3f1c-partition-7.crl`;

type Finding = {severity: string; rule: string; message: string; fix: string};
const rule = (findings: Finding[], name: string): Finding | undefined => findings.find((f) => f.rule === name);

describe('CRLs from AWS Private CA in lint, inspect and deploy', () => {
  it('openssl wrote the CRL AWS Private CA writes: a critical issuingDistributionPoint naming one partition', () => {
    const text = opensslOk(['crl', '-in', crl.pem, '-noout', '-text']);
    assert.match(text, /X509v3 Issuing Distribution Point: critical/);
    assert.ok(text.includes(PARTITION_URI), text);
  });

  it('lint reads the s3:// DER CRL as deploy does: a DER warning (deploy converts it) and the partition warning, no error', async () => {
    const r = await runCli(['lint', ca.bundle, S3_CRL, '--json'], {env: aws.env});
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(r.json.errors, 0, JSON.stringify(r.json.findings));
    const der = rule(r.json.findings, 'crl-not-pem');
    assert.equal(der?.severity, 'warning');
    assert.match(der!.message, /mtls-kit deploy uploads it as PEM/);
    const part = rule(r.json.findings, 'crl-partitioned');
    assert.equal(part?.severity, 'warning');
    // What AWS documents (aws-reference 4.5): Private CA marks the IDP critical and clients must
    // match it with the certificate's CDP; nothing about ALB trust stores. The warning says so.
    assert.match(part!.message, /AWS does not document whether ALB accepts partitioned CRLs/);
    assert.match(part!.message, /CRL distribution point names it/);
    assert.match(part!.fix, /upload every partition/);
    // The local DER file says the same (one loader, one set of rules).
    const local = await runCli(['lint', ca.bundle, crl.der, '--json']);
    assert.equal(local.code, 0, local.stderr);
    assert.deepEqual(
      local.json.findings.map((f: Finding) => [f.rule, f.message]),
      r.json.findings.map((f: Finding) => [f.rule, f.message.replace(S3_CRL, crl.der)]),
    );
  });

  it('inspect reads the s3:// CRL: DER, its entry, and the partition warning among its findings', async () => {
    const r = await runCli(['inspect', S3_CRL, '--dir', ca.dir, '--json'], {env: aws.env});
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.kind, 'crl');
    assert.equal(r.json.format, 'der');
    assert.equal(r.json.crl.entries, 2);
    assert.equal(rule(r.json.crl.findings, 'crl-partitioned')?.severity, 'warning');
    assert.equal(r.json.albRequirementsMet, true, 'deploy uploads it (as PEM)');
    const missing = await runCli(['inspect', `s3://${PCA}/crl/no-such.crl`, '--json'], {env: aws.env});
    assert.notEqual(missing.code, 0);
    assert.match(missing.json.error.message, /no-such\.crl/);
  });

  it('AWS-LC (the verifier ALB runs) and mtls-kit verify use the partition only for a certificate whose CDP names it', async (t) => {
    const awslc = join(process.cwd(), '..', 'shared', 'tools', 'aws-tls-stack', 'awslc_verify');
    if (!existsSync(awslc)) return t.skip(`no AWS-LC verifier at ${awslc}`);
    // Two revoked clients of the same CA: one in this partition, one in another (its CDP names partition 8).
    const leaf = (serial: string, cdp: string): string => {
      const base = join(tmp, `leaf-${serial}`);
      opensslOk([
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        `${base}.key`,
        '-out',
        `${base}.csr`,
        '-subj',
        `/CN=device-${serial}`,
      ]);
      writeFileSync(
        `${base}.ext`,
        `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\ncrlDistributionPoints=URI:${cdp}\n`,
      );
      const root = join(ca.dir, 'root');
      opensslOk([
        'x509',
        '-req',
        '-in',
        `${base}.csr`,
        '-CA',
        join(root, 'ca.crt'),
        '-CAkey',
        join(root, 'ca.key'),
        '-set_serial',
        `0x${serial}`,
        '-days',
        '5',
        '-extfile',
        `${base}.ext`,
        '-out',
        `${base}.crt`,
      ]);
      return `${base}.crt`;
    };
    const inPartition = leaf('0C07', PARTITION_URI);
    const elsewhere = leaf('0C08', PARTITION_URI.replace('partition-7', 'partition-8'));
    const oracle = (cert: string): string =>
      spawnSync(awslc, ['-mode', 's2n', '-CAfile', ca.rootCert, '-CRLfile', crl.pem, cert], {encoding: 'utf8'}).stdout.trim();
    assert.match(oracle(inPartition), /certificate revoked/);
    assert.match(oracle(elsewhere), /Different CRL scope/);
    const verdict = async (cert: string): Promise<string> =>
      (await runCli(['verify', cert, '--trust-store', ca.rootCert, '--crl', crl.der, '--json'])).json.code;
    assert.equal(await verdict(inPartition), 'ClientCertCrlHit');
    assert.equal(await verdict(elsewhere), 'ClientCertCrlProcessingError');
  });

  it('deploy --crl s3:// uploads the partition as PEM and prints the same partition warning', async () => {
    const r = await runCli(['deploy', '--dir', ca.dir, '--trust-store-name', 'partitioned', '--bucket', BUCKET, '--crl', S3_CRL], {env: aws.env});
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stderr, /is a DER CRL; uploading it as PEM/);
    assert.match(r.stderr, /a partitioned CRL .*AWS does not document whether ALB accepts partitioned CRLs.*upload every partition/s);
  });
});

describe('inspect names the clientAuth cause lint names', () => {
  const leaf = (name: string, eku: string): string =>
    opensslServerCert(tmp, {name, days: 30, ext: ['basicConstraints=critical,CA:FALSE', `extendedKeyUsage=${eku}`]}).cert;

  it('a serverAuth-only leaf (what public CAs issue since 2026): inspect and lint give one message', async () => {
    const file = leaf('www.example.com', 'serverAuth');
    const r = await runCli(['inspect', file, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const problem = r.json.certificates[0].clientAuthProblem as string;
    assert.match(problem, /lacks clientAuth; ALB fails it with ClientCertPurposeInvalid/);
    assert.match(problem, /public CAs issue since they stopped issuing clientAuth certificates around June 2026/);
    const lint = await runCli(['lint', file, '--json']);
    assert.equal(rule(lint.json.findings, 'client-purpose')?.message, problem);
    const human = await runCli(['inspect', file]);
    assert.match(human.stdout, /client use: +extendedKeyUsage lacks clientAuth/);
  });

  it('no cause for a clientAuth leaf, an emailProtection leaf names no public-CA cause, a CA is not judged as a client', async () => {
    const ok = await runCli(['inspect', leaf('device-1', 'clientAuth'), '--json']);
    assert.equal(ok.json.certificates[0].clientAuthProblem, null);
    const mail = await runCli(['inspect', leaf('mail-1', 'emailProtection'), '--json']);
    assert.match(mail.json.certificates[0].clientAuthProblem, /lacks clientAuth/);
    assert.doesNotMatch(mail.json.certificates[0].clientAuthProblem, /public CAs/);
    const root = await runCli(['inspect', ca.rootCert, '--json']);
    assert.equal(root.json.certificates[0].clientAuthProblem, null);
  });
});
