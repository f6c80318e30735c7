import assert from 'node:assert/strict';
import {readFileSync, writeFileSync, mkdirSync} from 'node:fs';
import {join} from 'node:path';
import {before, describe, it} from 'node:test';
import {runCli} from './support/cli.js';
import {openssl, opensslOk} from './support/openssl.js';
import {tempDir} from './support/tmp.js';

/** SHA-256 of the public key DER as openssl computes it, in inspect's colon form. */
function opensslPubSha256(args: string[]): string {
  const der = join(tempDir(), 'pub.der');
  opensslOk([...args, '-pubout', '-outform', 'DER', '-out', der]);
  const hex = opensslOk(['dgst', '-sha256', '-r', der]).split(' ')[0]!.toUpperCase();
  return hex.replace(/(..)(?!$)/g, '$1:');
}

/** Every 24-character window of the key's DER in base64 and hex: none may appear in any output. */
function keyWindows(derFile: string): string[] {
  const der = readFileSync(derFile);
  const out: string[] = [];
  for (const s of [der.toString('base64'), der.toString('hex'), der.toString('hex').toUpperCase()])
    for (let i = 0; i + 24 <= s.length; i += 12) out.push(s.slice(i, i + 24));
  return out;
}

describe('inspect: CRLs, certificate requests and private keys', () => {
  const tmp = tempDir();
  const dir = join(tmp, 'pki');
  const d1 = join(tmp, 'device-1');
  const f = (n: string): string => join(tmp, n);
  before(async () => {
    assert.equal((await runCli(['gen-ca', '--dir', dir, '--intermediate'])).code, 0);
    assert.equal((await runCli(['gen-client', '--dir', dir, '--cn', 'device-1', '--out', d1])).code, 0);
    assert.equal((await runCli(['gen-client', '--dir', dir, '--cn', 'device-2', '--out', f('device-2')])).code, 0);
    assert.equal((await runCli(['revoke', '--cert', join(f('device-2'), 'certificate.crt'), '--dir', dir])).code, 0);
    assert.equal((await runCli(['crl', '--dir', dir, '--days', '30'])).code, 0);
  });

  it('a CRL (PEM, then DER from openssl): issuer, number, dates, entries as openssl reads them; signature and ALB checks', async () => {
    const crl = join(dir, 'intermediate', 'crl.pem');
    const r = await runCli(['inspect', crl, '--dir', dir, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.kind, 'crl');
    assert.equal(r.json.format, 'pem');
    const c = r.json.crl;
    assert.equal(`issuer=${c.issuer}`, opensslOk(['crl', '-in', crl, '-noout', '-issuer', '-nameopt', 'RFC2253']).trim());
    assert.equal(BigInt(opensslOk(['crl', '-in', crl, '-noout', '-crlnumber']).trim().replace('crlNumber=', '')), BigInt(c.crlNumber));
    assert.equal(Date.parse(c.nextUpdate), Date.parse(opensslOk(['crl', '-in', crl, '-noout', '-nextupdate']).trim().replace('nextUpdate=', '')));
    assert.equal(Date.parse(c.thisUpdate), Date.parse(opensslOk(['crl', '-in', crl, '-noout', '-lastupdate']).trim().replace('lastUpdate=', '')));
    assert.equal(c.entries, (opensslOk(['crl', '-in', crl, '-noout', '-text']).match(/Serial Number:/g) ?? []).length);
    assert.equal(c.entries, 1);
    assert.equal(c.issuerCertificate.signatureValid, true);
    assert.match(c.issuerCertificate.file, /intermediate\/ca\.crt$|ca-bundle\.pem$/);
    assert.deepEqual(c.findings, [], 'a fresh 30-day CRL passes');
    assert.equal(r.json.albRequirementsMet, true);
    const human = await runCli(['inspect', crl]);
    assert.match(human.stdout, /CRL number: +\d+/);
    assert.match(human.stdout, /next update: .*\(expires in (29|30) days\)/);
    assert.match(human.stdout, /entries: +1 revoked certificate\b/);
    assert.match(human.stdout, /verifies with .*ca\.crt/, 'found beside the CRL without --dir');
    opensslOk(['crl', '-in', crl, '-outform', 'DER', '-out', f('crl.der')]);
    const der = await runCli(['inspect', f('crl.der'), '--dir', dir, '--json']);
    assert.equal(der.code, 0, der.stderr);
    assert.equal(der.json.format, 'der');
    assert.equal(der.json.crl.entries, 1);
    assert.ok(der.json.crl.findings.some((x: {rule: string}) => x.rule === 'crl-not-pem'));
    // A warning, not an error: deploy --crl uploads a DER CRL as PEM (issue 26).
    assert.equal(der.json.crl.findings.find((x: {rule: string}) => x.rule === 'crl-not-pem').severity, 'warning');
    assert.equal(der.json.albRequirementsMet, true);
  });

  it('a CRL written by openssl ca -gencrl (the peer), from stdin: its issuer is found in --dir', async () => {
    writeFileSync(f('index.txt'), '');
    writeFileSync(f('ca.cnf'), `[ca]\ndefault_ca=x\n[x]\ndatabase=${f('index.txt')}\ndefault_md=sha256\ndefault_crl_days=7\ncrlnumber=${f('crlnumber')}\n`);
    writeFileSync(f('crlnumber'), '1000\n');
    opensslOk([
      'ca',
      '-gencrl',
      '-keyfile',
      join(dir, 'root', 'ca.key'),
      '-cert',
      join(dir, 'root', 'ca.crt'),
      '-out',
      f('openssl.crl'),
      '-config',
      f('ca.cnf'),
    ]);
    const r = await runCli(['inspect', '-', '--dir', dir, '--json'], {input: readFileSync(f('openssl.crl'))});
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.crl.crlNumber, '4096');
    assert.equal(r.json.crl.entries, 0);
    assert.equal(r.json.crl.issuerCertificate.signatureValid, true);
    const none = await runCli(['inspect', '-', '--dir', f('no-such-dir'), '--json'], {input: readFileSync(f('openssl.crl'))});
    assert.equal(none.json.crl.issuerCertificate, null);
  });

  it('a CSR from openssl req (PEM and DER): subject, SANs, key, public key SHA-256, signature; a damaged signature is reported', async () => {
    opensslOk([
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      f('req.key'),
      '-subj',
      '/C=US/O=Acme/CN=req-1',
      '-addext',
      'subjectAltName=DNS:req-1.example.com,IP:10.0.0.7,URI:spiffe://acme/req-1',
      '-out',
      f('req.csr'),
    ]);
    const r = await runCli(['inspect', f('req.csr'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.kind, 'csr');
    const c = r.json.csr;
    assert.equal(`subject=${c.subject}`, opensslOk(['req', '-in', f('req.csr'), '-noout', '-subject', '-nameopt', 'RFC2253']).trim());
    assert.deepEqual(c.subjectAltNames, ['DNS:req-1.example.com', 'IP:10.0.0.7', 'URI:spiffe://acme/req-1']);
    assert.equal(c.keyType, 'RSA');
    assert.equal(c.keyBits, 2048);
    assert.equal(c.signatureValid, true);
    assert.equal(c.publicKeySha256, opensslPubSha256(['pkey', '-in', f('req.key')]));
    assert.ok(c.requestedExtensions.includes('subjectAltName'));
    opensslOk(['req', '-in', f('req.csr'), '-outform', 'DER', '-out', f('req.der')]);
    const der = await runCli(['inspect', f('req.der'), '--json']);
    assert.equal(der.json.format, 'der');
    assert.equal(der.json.csr.subject, c.subject);
    const bytes = readFileSync(f('req.der'));
    bytes[bytes.length - 5] ^= 0xff;
    writeFileSync(f('bad.der'), bytes);
    const peer = openssl(['req', '-in', f('bad.der'), '-inform', 'DER', '-verify', '-noout']);
    assert.match(peer.stdout + peer.stderr, /verify failure/, 'openssl agrees the signature is bad');
    const bad = await runCli(['inspect', f('bad.der')]);
    assert.equal(bad.code, 0, bad.stderr);
    assert.match(bad.stdout, /does not verify with its own key/);
  });

  it('a private key: type, size, public key SHA-256 (as openssl computes it), the certificate it matches; never the key', async () => {
    const key = join(d1, 'private-key.pem');
    opensslOk(['pkey', '-in', key, '-outform', 'DER', '-out', f('d1-key.der')]);
    const windows = keyWindows(f('d1-key.der'));
    const expected = opensslPubSha256(['pkey', '-in', key]);
    for (const args of [
      ['inspect', key, '--json'],
      ['inspect', key],
      ['inspect', f('d1-key.der'), '--dir', dir, '--json'],
      ['inspect', f('d1-key.der'), '--dir', dir],
    ]) {
      const r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      for (const w of windows) assert.ok(!r.stdout.includes(w) && !r.stderr.includes(w), `${args.join(' ')} printed part of the key`);
      for (const line of readFileSync(key, 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('-----')))
        assert.ok(!r.stdout.includes(line.slice(0, 20)));
      if (r.json) {
        assert.equal(r.json.kind, 'private-key');
        assert.equal(r.json.privateKey.keyType, 'EC prime256v1');
        assert.equal(r.json.privateKey.publicKeySha256, expected);
        assert.equal(r.json.privateKey.encrypted, false);
        assert.ok(
          r.json.privateKey.matches.some(
            (m: {file: string; subject: string}) => m.file.endsWith(join('device-1', 'certificate.crt')) && m.subject === 'CN=device-1',
          ),
          JSON.stringify(r.json.privateKey),
        );
        assert.ok(!r.json.privateKey.matches.some((m: {subject: string}) => m.subject === 'CN=device-2'));
      } else {
        assert.match(r.stdout, /public key sha256: +[0-9A-F:]{95}/);
        assert.match(r.stdout, /certificate: +.*device-1\/certificate\.crt \(CN=device-1/);
      }
    }
  });

  it('RSA keys in PKCS#1 and PKCS#8, encrypted with and without the passphrase, legacy PEM encryption', async () => {
    mkdirSync(f('keys'));
    const k = (n: string): string => join(f('keys'), n);
    opensslOk(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072', '-out', k('rsa.pem')]);
    opensslOk(['rsa', '-in', k('rsa.pem'), '-traditional', '-out', k('rsa-pkcs1.pem')]);
    opensslOk(['pkey', '-in', k('rsa.pem'), '-aes256', '-passout', 'pass:s3cret', '-out', k('rsa-enc.pem')]);
    opensslOk(['pkcs8', '-topk8', '-in', k('rsa.pem'), '-v2', 'aes-128-cbc', '-passout', 'pass:s3cret', '-outform', 'DER', '-out', k('rsa-enc.der')]);
    opensslOk(['rsa', '-in', k('rsa.pem'), '-traditional', '-aes128', '-passout', 'pass:s3cret', '-out', k('rsa-legacy-enc.pem')]);
    writeFileSync(k('pass.txt'), 's3cret\n');
    writeFileSync(k('wrong.txt'), 'nope\n');
    const expected = opensslPubSha256(['pkey', '-in', k('rsa.pem')]);
    for (const file of ['rsa.pem', 'rsa-pkcs1.pem']) {
      const r = await runCli(['inspect', k(file), '--dir', f('none'), '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.json.privateKey.keyType, 'RSA');
      assert.equal(r.json.privateKey.keyBits, 3072);
      assert.equal(r.json.privateKey.publicKeySha256, expected);
      assert.deepEqual(r.json.privateKey.matches, []);
    }
    const locked = await runCli(['inspect', k('rsa-enc.pem'), '--json'], {env: {MTLS_KIT_CA_PASSPHRASE: undefined}});
    assert.equal(locked.code, 0, locked.stderr);
    assert.equal(locked.json.privateKey.encrypted, true);
    assert.equal(locked.json.privateKey.encryption, 'PBES2 (PBKDF2, AES-256-CBC)');
    assert.equal(locked.json.privateKey.keyType, null);
    assert.equal(locked.json.privateKey.publicKeySha256, null);
    assert.equal(locked.json.albRequirementsMet, null);
    assert.match(locked.stderr, /is encrypted: pass --passphrase-file FILE/);
    const derLocked = await runCli(['inspect', k('rsa-enc.der'), '--json'], {env: {MTLS_KIT_CA_PASSPHRASE: undefined}});
    assert.equal(derLocked.json.privateKey.encryption, 'PBES2 (PBKDF2, AES-128-CBC)');
    assert.equal(derLocked.json.format, 'der');
    const legacy = await runCli(['inspect', k('rsa-legacy-enc.pem'), '--json'], {env: {MTLS_KIT_CA_PASSPHRASE: undefined}});
    assert.equal(legacy.json.privateKey.keyType, 'RSA', 'the legacy label says RSA');
    assert.equal(legacy.json.privateKey.encryption, 'legacy PEM encryption (AES-128-CBC)');
    for (const file of ['rsa-enc.pem', 'rsa-enc.der', 'rsa-legacy-enc.pem']) {
      const open = await runCli(['inspect', k(file), '--passphrase-file', k('pass.txt'), '--json']);
      assert.equal(open.code, 0, open.stderr);
      assert.equal(open.json.privateKey.publicKeySha256, expected, file);
      assert.equal(open.json.privateKey.keyBits, 3072);
    }
    const wrong = await runCli(['inspect', k('rsa-enc.pem'), '--passphrase-file', k('wrong.txt'), '--json']);
    assert.equal(wrong.code, 4);
    assert.equal(wrong.json.error.code, 'WRONG_PASSPHRASE');
  });
});
