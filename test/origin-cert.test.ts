/**
 * origin-cert (CloudFront origin mTLS, aws-reference 11.8): the certificate is issued from the
 * CA directory with CloudFront's profile, judged as ALB would judge it, and imported into the
 * ACM emulator of `mtls-kit emulate` (src/io/emulate/acm.ts) through AWS_ENDPOINT_URL_ACM with
 * the real @aws-sdk/client-acm; the emulator's ImportCertificate validation through the SDK
 * (a key that does not match, DER, a chain without the issuer, a re-import); and a chain deeper
 * than CloudFront takes (made by openssl), which ACM accepts and mtls-kit refuses.
 */
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {existsSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {after, describe, it} from 'node:test';
import {ACMClient, DescribeCertificateCommand, GetCertificateCommand, ImportCertificateCommand} from '@aws-sdk/client-acm';
import {importToAcm} from '../src/io/aws/acm.js';
import {AcmEmulator} from '../src/io/emulate/acm.js';
import {checkOriginCaPath, checkOriginMaterial} from '../src/lib/cloudfront/origin-cert.js';
import {isMtlsKitError} from '../src/lib/errors.js';
import {parseCertificate} from '../src/lib/x509/cert.js';
import {parsePem} from '../src/lib/x509/pem.js';
import {awslcVerdict, awsStackSkip} from './support/aws-stack.js';
import {runCli} from './support/cli.js';
import {startTestEmulator} from './support/emulate.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const tmp = tempDir('mtls-kit-origin-');
const emu = await startTestEmulator({delayMs: 50});
const ca = await makeTestCa(join(tmp, 'pki'), {intermediate: true, cn: 'Origin Test Root'});
const env: Record<string, string | undefined> = {
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_SESSION_TOKEN: undefined,
  // Not us-east-1 on purpose: the import must go to us-east-1 anyway.
  AWS_REGION: 'eu-west-1',
  AWS_PROFILE: undefined,
  AWS_ENDPOINT_URL: emu.url,
  AWS_ENDPOINT_URL_ACM: emu.url,
  AWS_CONFIG_FILE: join(tmp, 'aws-config'),
  AWS_SHARED_CREDENTIALS_FILE: join(tmp, 'aws-credentials'),
  AWS_EC2_METADATA_DISABLED: 'true',
};
for (const [k, v] of Object.entries(env))
  if (v === undefined) delete process.env[k];
  else process.env[k] = v;
const acm = new ACMClient({region: 'us-east-1', endpoint: emu.url, credentials: {accessKeyId: 'test', secretAccessKey: 'test'}, maxAttempts: 1});
after(() => acm.destroy());
const cli = (args: string[]) => runCli(['origin-cert', '--dir', ca.dir, ...args], {cwd: tmp, env});
const pems = (file: string) => parsePem(readFileSync(file, 'utf8'), file).map((b) => parseCertificate(b.der));
const enc = (s: string) => new TextEncoder().encode(s);

describe('origin-cert', () => {
  let arn = '';
  let otherBundle = '';
  const out = join(tmp, 'origin');

  it('issues with clientAuth and P-256, ALB accepts it, and imports it into ACM in us-east-1', async () => {
    const r = await cli(['--cn', 'cloudfront-origin', '--out', out, '--acm-import', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.alb.status, 'Success');
    assert.equal(r.json.cloudfront.chainDepth, 3);
    assert.deepEqual(r.json.certificate.extendedKeyUsage, ['clientAuth']);
    arn = r.json.acm.certificateArn;
    assert.match(arn, /^arn:aws:acm:us-east-1:\d{12}:certificate\//);
    assert.equal(r.json.acm.reimported, false);
    // The key is never in the output.
    const key = readFileSync(join(out, 'private-key.pem'), 'utf8');
    assert.ok(!r.stdout.includes(key.split('\n')[1]!) && !r.stderr.includes(key.split('\n')[1]!));
    // Read back through the SDK: the leaf, and the CA chain (intermediate then root), no key.
    const got = await acm.send(new GetCertificateCommand({CertificateArn: arn}));
    assert.equal(got.Certificate, readFileSync(join(out, 'certificate.crt'), 'utf8'));
    const chain = parsePem(got.CertificateChain ?? '', 'chain').map((b) => parseCertificate(b.der));
    assert.deepEqual(
      chain.map((c) => c.sha256Fingerprint),
      [...pems(ca.bundle)].reverse().map((c) => c.sha256Fingerprint),
    );
    const d = await acm.send(new DescribeCertificateCommand({CertificateArn: arn}));
    assert.equal(d.Certificate?.Type, 'IMPORTED');
    assert.equal(d.Certificate?.KeyAlgorithm, 'EC_prime256v1');
    assert.deepEqual(
      d.Certificate?.ExtendedKeyUsages?.map((e) => e.Name),
      ['TLS_WEB_CLIENT_AUTHENTICATION'],
    );
    assert.ok(emu.routed.some((x) => x.service === 'acm'));
  });

  it('re-imports a new certificate to the same ARN with --certificate-arn', async () => {
    const before = readFileSync(join(out, 'certificate.crt'), 'utf8');
    const r = await cli(['--cn', 'cloudfront-origin', '--out', out, '--force', '--acm-import', '--certificate-arn', arn, '--key-type', 'rsa-2048', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.acm.certificateArn, arn);
    assert.equal(r.json.acm.reimported, true);
    const got = await acm.send(new GetCertificateCommand({CertificateArn: arn}));
    assert.notEqual(got.Certificate, before);
    assert.equal(got.Certificate, readFileSync(join(out, 'certificate.crt'), 'utf8'));
    assert.equal((await acm.send(new DescribeCertificateCommand({CertificateArn: arn}))).Certificate?.KeyAlgorithm, 'RSA_2048');
    assert.equal(emu.acm.certificates.get(arn)?.imports, 2);
  });

  it('an unknown --certificate-arn is ACM_CERTIFICATE_NOT_FOUND (exit 5)', async () => {
    const r = await cli([
      '--cn',
      'x',
      '--out',
      join(tmp, 'o-unknown'),
      '--acm-import',
      '--certificate-arn',
      'arn:aws:acm:us-east-1:123456789012:certificate/nope',
      '--json',
    ]);
    assert.equal(r.code, 5, r.stderr);
    assert.equal(r.json.error.code, 'ACM_CERTIFICATE_NOT_FOUND');
    assert.ok(r.json.error.suggestions.some((s: string) => /was issued and written to/.test(s)));
  });

  it('refuses a key type CloudFront refuses (ORIGIN_CERT_RULE, exit 2), before writing anything', async () => {
    const o = join(tmp, 'o-rsa4096');
    const r = await cli(['--cn', 'x', '--out', o, '--key-type', 'rsa-4096', '--json']);
    assert.equal(r.code, 2);
    assert.equal(r.json.error.code, 'ORIGIN_CERT_RULE');
    assert.match(r.json.error.message, /key-type/);
    assert.ok(!existsSync(join(o, 'private-key.pem')));
  });

  it('refuses a lifetime beyond the issuing CA (exit 2)', async () => {
    const r = await cli(['--cn', 'x', '--out', join(tmp, 'o-days'), '--days', '100000', '--json']);
    assert.equal(r.code, 2);
    assert.equal(r.json.error.code, 'ORIGIN_CERT_RULE');
    assert.match(r.json.error.message, /validity/);
  });

  it('--trust-store: judged against another bundle (the one the ALB holds), exit 3', async () => {
    const other = await makeTestCa(join(tmp, 'other2'), {cn: 'Other Root 2'});
    otherBundle = other.bundle;
    const r = await cli(['--cn', 'x', '--out', join(tmp, 'o-ts'), '--trust-store', other.bundle, '--json']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.json.alb.trustStore, other.bundle);
    assert.match(r.json.alb.status, /^Failed:/);
  });

  it('a --trust-store that cannot be read stops it before anything is issued', async () => {
    const o = join(tmp, 'o-missing-ts');
    const r = await cli(['--cn', 'x', '--out', o, '--trust-store', join(tmp, 'no-such-bundle.pem'), '--json']);
    assert.ok(r.code === 2 || r.code === 4, `${r.code} ${r.stderr}`);
    assert.match(r.json.error.message, /no-such-bundle\.pem/);
    assert.ok(!existsSync(join(o, 'certificate.crt')));
  });

  it("AWS's own stack (AWS-LC as s2n-tls calls it) agrees with both verdicts", {skip: awsStackSkip()}, async () => {
    const now = new Date();
    const good = await awslcVerdict({ca: ca.bundle, leaf: join(out, 'certificate.crt'), untrusted: join(out, 'chain.pem')}, now);
    assert.ok(good.ok, good.line);
    const refused = await awslcVerdict({ca: otherBundle, leaf: join(tmp, 'o-ts', 'certificate.crt'), untrusted: join(tmp, 'o-ts', 'chain.pem')}, now);
    assert.ok(!refused.ok && refused.error !== undefined, refused.line);
  });

  it('exits 3 and imports nothing when the ALB trust store would refuse the certificate', async () => {
    const other = await makeTestCa(join(tmp, 'other'), {cn: 'Other Root'});
    const saved = readFileSync(ca.bundle);
    writeFileSync(ca.bundle, readFileSync(other.bundle));
    const count = emu.acm.certificates.size;
    try {
      const r = await cli(['--cn', 'x', '--out', join(tmp, 'o-refused'), '--acm-import', '--json']);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.json.alb.status, /^Failed:/);
      assert.equal(r.json.acm, null);
      assert.equal(emu.acm.certificates.size, count);
    } finally {
      writeFileSync(ca.bundle, saved);
    }
  });
});

describe('ACM emulator ImportCertificate validation (through the SDK)', () => {
  const o1 = join(tmp, 'origin');
  const leaf = () => readFileSync(join(o1, 'certificate.crt'), 'utf8');
  const chain = () =>
    [...pems(ca.bundle)]
      .reverse()
      .map((c) => `-----BEGIN CERTIFICATE-----\n${Buffer.from(c.der).toString('base64')}\n-----END CERTIFICATE-----\n`)
      .join('');

  it('rejects a key that does not match the certificate (and mtls-kit maps it to ACM_IMPORT_REJECTED, exit 5)', async () => {
    const otherKey = execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], {encoding: 'utf8'});
    await assert.rejects(
      acm.send(new ImportCertificateCommand({Certificate: enc(leaf()), PrivateKey: enc(otherKey), CertificateChain: enc(chain())})),
      (e: Error) => e.name === 'ValidationException' && /does not match/.test(e.message),
    );
    await assert.rejects(importToAcm({}, {certificatePem: leaf(), chainPem: chain(), keyPem: otherKey}), (e: unknown) => {
      assert.ok(isMtlsKitError(e));
      assert.equal(e.code, 'ACM_IMPORT_REJECTED');
      assert.equal(e.exitCode, 5);
      assert.ok(!e.message.includes(otherKey.split('\n')[1]!));
      return true;
    });
  });

  it('rejects DER, an encrypted key, and a chain without the issuer', async () => {
    const key = readFileSync(join(o1, 'private-key.pem'), 'utf8');
    const der = pems(join(o1, 'certificate.crt'))[0]!.der;
    await assert.rejects(acm.send(new ImportCertificateCommand({Certificate: der, PrivateKey: enc(key), CertificateChain: enc(chain())})), /not PEM/);
    const encrypted = execFileSync('openssl', ['pkey', '-aes256', '-passout', 'pass:secret'], {input: key, encoding: 'utf8'});
    await assert.rejects(
      acm.send(new ImportCertificateCommand({Certificate: enc(leaf()), PrivateKey: enc(encrypted), CertificateChain: enc(chain())})),
      /encrypted/,
    );
    const rootOnly = chain().split(/(?<=-----END CERTIFICATE-----\n)/)[1]!;
    await assert.rejects(acm.send(new ImportCertificateCommand({Certificate: enc(leaf()), PrivateKey: enc(key), CertificateChain: enc(rootOnly)})), /issuer/);
    await assert.rejects(acm.send(new ImportCertificateCommand({Certificate: enc(leaf()), PrivateKey: enc(key)})), /chain is required/);
  });

  it('rejects sizes over the API limits, a certificate not valid now, and a re-import that drops an EKU value (clientAuth may go)', async () => {
    const key = readFileSync(join(o1, 'private-key.pem'), 'utf8');
    const big = leaf() + 'x'.repeat(32_768);
    await assert.rejects(
      acm.send(new ImportCertificateCommand({Certificate: enc(big), PrivateKey: enc(key), CertificateChain: enc(chain())})),
      /limit is 32768/,
    );
    await assert.rejects(
      acm.send(new ImportCertificateCommand({Certificate: enc(leaf()), PrivateKey: enc(key + ' '.repeat(5_200)), CertificateChain: enc(chain())})),
      /limit is 5124/,
    );
    const later = new AcmEmulator({now: () => new Date('2100-01-01T00:00:00Z')});
    await later.start();
    const laterClient = new ACMClient({region: 'us-east-1', endpoint: later.url, credentials: {accessKeyId: 'test', secretAccessKey: 'test'}, maxAttempts: 1});
    try {
      await assert.rejects(
        laterClient.send(new ImportCertificateCommand({Certificate: enc(leaf()), PrivateKey: enc(key), CertificateChain: enc(chain())})),
        /not valid now/,
      );
    } finally {
      laterClient.destroy();
      await later.stop();
    }
    // Re-import: serverAuth+clientAuth, then clientAuth alone (drops serverAuth: refused), then serverAuth alone (drops clientAuth: allowed).
    const d = join(tmp, 'eku');
    execFileSync('mkdir', ['-p', d]);
    const ext = join(d, 'ext.cnf');
    writeFileSync(ext, '[both]\nextendedKeyUsage=serverAuth,clientAuth\n[client]\nextendedKeyUsage=clientAuth\n[server]\nextendedKeyUsage=serverAuth\n');
    const make = (section: string): string => {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-new',
          '-key',
          join(o1, 'private-key.pem'),
          '-subj',
          `/CN=${section}`,
          '-days',
          '5',
          '-sha256',
          '-extensions',
          section,
          '-config',
          ext,
          '-out',
          join(d, `${section}.pem`),
        ],
        {stdio: 'pipe'},
      );
      return readFileSync(join(d, `${section}.pem`), 'utf8');
    };
    const first = await acm.send(new ImportCertificateCommand({Certificate: enc(make('both')), PrivateKey: enc(key)}));
    await assert.rejects(
      acm.send(new ImportCertificateCommand({CertificateArn: first.CertificateArn, Certificate: enc(make('client')), PrivateKey: enc(key)})),
      /cannot remove Extended Key Usage values \(1\.3\.6\.1\.5\.5\.7\.3\.1\)/,
    );
    const again = await acm.send(new ImportCertificateCommand({CertificateArn: first.CertificateArn, Certificate: enc(make('server')), PrivateKey: enc(key)}));
    assert.equal(again.CertificateArn, first.CertificateArn);
  });

  it('a chain deeper than CloudFront takes: ACM accepts it, mtls-kit refuses it (chain-depth)', async () => {
    const d = join(tmp, 'deep');
    execFileSync('mkdir', ['-p', d]);
    const sh = (args: string[]) => execFileSync('openssl', args, {cwd: d, stdio: 'pipe'});
    const ext = join(d, 'ext.cnf');
    writeFileSync(
      ext,
      '[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n[leaf]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n',
    );
    const names = ['root', 'int1', 'int2', 'leaf'];
    for (const n of names) sh(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${n}.key`]);
    sh([
      'req',
      '-x509',
      '-new',
      '-key',
      'root.key',
      '-subj',
      '/CN=Deep Root',
      '-days',
      '30',
      '-sha256',
      '-extensions',
      'ca',
      '-config',
      ext,
      '-out',
      'root.pem',
    ]);
    names.slice(1).forEach((n, i) => {
      const parent = names[i]!;
      sh(['req', '-new', '-key', `${n}.key`, '-subj', `/CN=Deep ${n}`, '-out', `${n}.csr`]);
      sh([
        'x509',
        '-req',
        '-in',
        `${n}.csr`,
        '-CA',
        `${parent}.pem`,
        '-CAkey',
        `${parent}.key`,
        '-days',
        '10',
        '-sha256',
        '-extfile',
        ext,
        '-extensions',
        n === 'leaf' ? 'leaf' : 'ca',
        '-out',
        `${n}.pem`,
      ]);
    });
    const read = (n: string) => readFileSync(join(d, n), 'utf8');
    const chainPem = read('int2.pem') + read('int1.pem') + read('root.pem');
    const imported = await acm.send(
      new ImportCertificateCommand({Certificate: enc(read('leaf.pem')), PrivateKey: enc(read('leaf.key')), CertificateChain: enc(chainPem)}),
    );
    assert.match(imported.CertificateArn ?? '', /^arn:aws:acm:us-east-1:/);
    const path = ['leaf.pem', 'int2.pem', 'int1.pem', 'root.pem'].map((n) => pems(join(d, n))[0]!);
    const sizes = {certificate: read('leaf.pem').length, chain: chainPem.length, key: read('leaf.key').length};
    assert.deepEqual(
      checkOriginMaterial(path, sizes).map((f) => f.rule),
      ['chain-depth'],
    );
    assert.deepEqual(
      checkOriginCaPath(path.slice(1)).map((f) => f.rule),
      ['chain-depth'],
    );
    // The same chain one level shorter passes.
    assert.deepEqual(checkOriginMaterial([path[0]!, ...path.slice(2)], sizes), []);
    // Each other rule, planted: no clientAuth (a CA certificate as the leaf), sizes over the limits,
    // a SHA-1 signature, an RSA 3072 key.
    assert.deepEqual(
      checkOriginMaterial([path[2]!, path[3]!], {certificate: 96 * 1024 + 1, chain: 64 * 1024 + 1, key: 5 * 1024 + 1})
        .map((f) => f.rule)
        .sort(),
      ['certificate-size', 'chain-size', 'eku', 'key-size'],
    );
    sh(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072', '-out', 'rsa.key']);
    sh(['req', '-new', '-key', 'rsa.key', '-subj', '/CN=Deep sha1', '-out', 'sha1.csr']);
    sh([
      'x509',
      '-req',
      '-in',
      'sha1.csr',
      '-CA',
      'int1.pem',
      '-CAkey',
      'int1.key',
      '-days',
      '10',
      '-sha1',
      '-extfile',
      ext,
      '-extensions',
      'leaf',
      '-out',
      'sha1.pem',
    ]);
    assert.deepEqual(
      checkOriginMaterial([pems(join(d, 'sha1.pem'))[0]!, path[2]!, path[3]!], sizes)
        .map((f) => f.rule)
        .sort(),
      ['key-type', 'signature'],
    );
  });
});
