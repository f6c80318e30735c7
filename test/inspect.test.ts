import assert from 'node:assert/strict';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {before, describe, it} from 'node:test';
import {runCli} from './support/cli.js';
import {openssl, opensslOk} from './support/openssl.js';
import {tempDir} from './support/tmp.js';

describe('inspect', () => {
  const tmp = tempDir();
  const dir = join(tmp, 'pki');
  const out = join(tmp, 'client');
  before(async () => {
    assert.equal((await runCli(['gen-ca', '--dir', dir, '--intermediate', '--cn', 'Inspect Root', '--org', 'Acme, Inc.'])).code, 0);
    writeFileSync(join(tmp, 'p12pass'), 'p12-secret\n');
    const r = await runCli([
      'gen-client',
      '--dir',
      dir,
      '--cn',
      'device-7',
      '--out',
      out,
      '--san',
      'spiffe://acme/device-7',
      '--p12',
      '--p12-legacy',
      '--p12-password-file',
      join(tmp, 'p12pass'),
    ]);
    assert.equal(r.code, 0, r.stderr);
  });

  it('shows the fields as openssl prints them (subject RFC 2253, serial, fingerprint)', async () => {
    const r = await runCli(['inspect', join(out, 'certificate.crt'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.format, 'pem');
    const c = r.json.certificates[0];
    const crt = join(out, 'certificate.crt');
    assert.equal(`subject=${c.subject}`, opensslOk(['x509', '-in', crt, '-noout', '-subject', '-nameopt', 'RFC2253']).trim());
    assert.equal(`issuer=${c.issuer}`, opensslOk(['x509', '-in', crt, '-noout', '-issuer', '-nameopt', 'RFC2253']).trim());
    assert.equal(`serial=${c.serial}`, opensslOk(['x509', '-in', crt, '-noout', '-serial']).trim());
    assert.equal(`sha256 Fingerprint=${c.sha256Fingerprint}`, opensslOk(['x509', '-in', crt, '-noout', '-fingerprint', '-sha256']).trim());
    assert.equal(c.keyType, 'EC prime256v1');
    assert.equal(c.signatureAlgorithm, 'ecdsa-with-SHA256');
    assert.deepEqual(c.extendedKeyUsage, ['clientAuth']);
    assert.deepEqual(c.subjectAltNames, ['URI:spiffe://acme/device-7']);
    assert.equal(c.albRequirements.ok, true);
    assert.equal(r.json.albRequirementsMet, true);
  });

  it('reads a bundle, DER from stdin, and both PKCS#12 variants', async () => {
    const bundle = await runCli(['inspect', join(dir, 'ca-bundle.pem'), '--json']);
    assert.equal(bundle.json.count, 2);
    assert.equal(bundle.json.certificates[0].basicConstraints.ca, true);
    const der = Buffer.from(opensslOk(['x509', '-in', join(out, 'certificate.crt'), '-outform', 'DER', '-out', join(tmp, 'c.der')]) || '');
    assert.equal(der.length, 0);
    const viaStdin = await runCli(['inspect', '-', '--json'], {input: readFileSync(join(tmp, 'c.der'))});
    assert.equal(viaStdin.code, 0, viaStdin.stderr);
    assert.equal(viaStdin.json.format, 'der');
    assert.equal(viaStdin.json.certificates[0].subject, 'CN=device-7');
    for (const f of ['certificate.p12', 'certificate-legacy.p12']) {
      const p12 = await runCli(['inspect', join(out, f), '--password-file', join(tmp, 'p12pass'), '--json']);
      assert.equal(p12.code, 0, p12.stderr);
      assert.equal(p12.json.format, 'pkcs12');
      assert.equal(p12.json.certificates[0].subject, 'CN=device-7');
      assert.equal(p12.json.count, 2, 'leaf and intermediate');
      assert.equal(openssl(['pkcs12', '-in', join(out, f), '-passin', 'pass:p12-secret', '-nokeys', '-out', '/dev/null']).code, 0);
    }
    const wrong = await runCli(['inspect', join(out, 'certificate.p12'), '--json'], {env: {MTLS_KIT_P12_PASSWORD: 'nope'}});
    assert.equal(wrong.code, 4);
    assert.equal(wrong.json.error.code, 'WRONG_PASSWORD');
  });

  it('names the file and the problem for truncated or malformed input (exit 4)', async () => {
    const pem = readFileSync(join(out, 'certificate.crt'), 'utf8');
    writeFileSync(join(tmp, 'trunc.pem'), pem.slice(0, pem.length - 40));
    const t = await runCli(['inspect', join(tmp, 'trunc.pem')]);
    assert.equal(t.code, 4);
    assert.match(t.stderr, /trunc\.pem/);
    assert.match(t.stderr, /no END line|truncated/);
    writeFileSync(join(tmp, 'junk.bin'), 'hello world');
    const j = await runCli(['inspect', join(tmp, 'junk.bin'), '--json']);
    assert.equal(j.code, 4);
    assert.match(j.json.error.message, /junk\.bin/);
    const missing = await runCli(['inspect', join(tmp, 'missing.pem')]);
    assert.equal(missing.code, 4);
    assert.match(missing.stderr, /does not exist/);
    assert.ok(!t.stderr.includes('    at '), 'no stack trace');
  });

  it('flags what ALB does not accept (RSA-1024, SHA-1)', async () => {
    opensslOk([
      'req',
      '-x509',
      '-newkey',
      'rsa:1024',
      '-nodes',
      '-keyout',
      join(tmp, 'weak.key'),
      '-out',
      join(tmp, 'weak.crt'),
      '-subj',
      '/CN=weak',
      '-sha1',
      '-days',
      '1',
    ]);
    const r = await runCli(['inspect', join(tmp, 'weak.crt'), '--json']);
    assert.equal(r.code, 0);
    assert.equal(r.json.albRequirementsMet, false);
    const problems = r.json.certificates[0].albRequirements.problems.join('\n');
    assert.match(problems, /RSA-1024/);
    assert.match(problems, /sha1WithRSAEncryption/);
  });
});
