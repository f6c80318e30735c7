import assert from 'node:assert/strict';
import {existsSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {runGenClient} from '../src/flows/gen-client.js';
import {runCli} from './support/cli.js';
import {genClientParams} from './support/flow-params.js';
import {openssl, opensslOk} from './support/openssl.js';
import {tempDir} from './support/tmp.js';

const KEY_TYPES = ['ec-p256', 'ec-p384', 'ec-p521', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const;
const HASH: Record<string, string> = {
  'ec-p256': 'ecdsa-with-SHA256',
  'ec-p384': 'ecdsa-with-SHA384',
  'ec-p521': 'ecdsa-with-SHA512',
  'rsa-2048': 'sha256WithRSAEncryption',
  'rsa-3072': 'sha256WithRSAEncryption',
  'rsa-4096': 'sha384WithRSAEncryption',
};

describe('gen-client', () => {
  for (const keyType of KEY_TYPES) {
    for (const intermediate of [false, true]) {
      it(`${keyType}${intermediate ? ' with an intermediate' : ''}: openssl verify -purpose sslclient accepts it`, async () => {
        const tmp = tempDir();
        const dir = join(tmp, 'pki');
        const out = join(tmp, 'client');
        const ca = await runCli(['gen-ca', '--dir', dir, '--key-type', keyType, '--cn', 'Root', ...(intermediate ? ['--intermediate'] : [])]);
        assert.equal(ca.code, 0, ca.stderr);
        // In process (the flow the command runs); the end-to-end spawn tests are below.
        const result = await runGenClient(genClientParams(dir, out, {fields: {cn: 'device-1'}, sans: ['device-1.example.com'], days: 365, keyType}), {
          now: new Date(),
        });
        const r = {json: JSON.parse(JSON.stringify(result)), stdout: JSON.stringify(result)};
        assert.equal(r.json.count, 1);
        assert.equal(r.json.ca.tier, intermediate ? 'intermediate' : 'root');
        assert.equal(r.json.certificate.subject, 'CN=device-1');
        assert.equal(r.json.certificate.albRequirements.ok, true);
        const v = openssl([
          'verify',
          '-CAfile',
          join(dir, 'ca-bundle.pem'),
          '-untrusted',
          join(out, 'chain.pem'),
          '-purpose',
          'sslclient',
          join(out, 'certificate.crt'),
        ]);
        assert.equal(v.code, 0, v.stdout + v.stderr);
        const text = opensslOk(['x509', '-in', join(out, 'certificate.crt'), '-noout', '-text']);
        assert.match(text, /Version: 3 \(0x2\)/);
        assert.match(text, new RegExp(`Signature Algorithm: ${HASH[keyType]}`));
        assert.match(text, /Key Usage: critical\s+Digital Signature/);
        if (keyType.startsWith('rsa')) assert.match(text, /Digital Signature, Key Encipherment/);
        assert.match(text, /Extended Key Usage: \s*\n\s+TLS Web Client Authentication\n/);
        assert.match(text, /Subject Key Identifier/);
        assert.match(text, /Authority Key Identifier/);
        assert.match(text, /DNS:device-1.example.com/);
        // PKCS#8, 0600, matching the certificate.
        const key = readFileSync(join(out, 'private-key.pem'), 'utf8');
        assert.match(key, /^-----BEGIN PRIVATE KEY-----/);
        assert.equal(statSync(join(out, 'private-key.pem')).mode & 0o777, 0o600);
        assert.equal(
          opensslOk(['pkey', '-in', join(out, 'private-key.pem'), '-pubout']),
          opensslOk(['x509', '-in', join(out, 'certificate.crt'), '-noout', '-pubkey']),
        );
        assert.ok(!r.stdout.includes('PRIVATE KEY'), 'no key in output');
        // Recorded in the issuing CA's index, in openssl ca format.
        const index = readFileSync(join(dir, intermediate ? 'intermediate' : 'root', 'index.txt'), 'utf8');
        assert.match(index, new RegExp(`^V\\t\\d{12}Z\\t\\t${r.json.certificate.serial}\\t`, 'm'));
        assert.equal(r.json.certificate.serial.length, 32, '16-byte serial');
      });
    }
  }

  it('refuses to overwrite and changes nothing without --force (exit 4)', async () => {
    const tmp = tempDir();
    const dir = join(tmp, 'pki');
    assert.equal((await runCli(['gen-ca', '--dir', dir])).code, 0);
    assert.equal((await runCli(['gen-client', '--dir', dir, '--cn', 'a', '--out', tmp])).code, 0);
    const before = readFileSync(join(tmp, 'certificate.crt'), 'utf8');
    const keyBefore = readFileSync(join(tmp, 'private-key.pem'), 'utf8');
    const again = await runCli(['gen-client', '--dir', dir, '--cn', 'b', '--out', tmp]);
    assert.equal(again.code, 4);
    assert.match(again.stderr, /already exists/);
    assert.equal(readFileSync(join(tmp, 'certificate.crt'), 'utf8'), before);
    assert.equal(readFileSync(join(tmp, 'private-key.pem'), 'utf8'), keyBefore);
    assert.deepEqual(
      readdirSync(tmp).filter((f) => f.endsWith('.tmp')),
      [],
    );
    assert.equal((await runCli(['gen-client', '--dir', dir, '--cn', 'b', '--out', tmp, '--force'])).code, 0);
    assert.notEqual(readFileSync(join(tmp, 'certificate.crt'), 'utf8'), before);
  });

  it('exits 4 with the fix when there is no CA, and 4 on a wrong CA passphrase', async () => {
    const tmp = tempDir();
    const none = await runCli(['gen-client', '--dir', join(tmp, 'nope'), '--cn', 'a', '--out', join(tmp, 'o')]);
    assert.equal(none.code, 4);
    assert.match(none.stderr, /no CA in/);
    assert.match(none.stderr, /gen-ca/);
    assert.ok(!existsSync(join(tmp, 'o')));
    writeFileSync(join(tmp, 'pass'), 'right\n');
    writeFileSync(join(tmp, 'bad'), 'wrong\n');
    const dir = join(tmp, 'pki');
    assert.equal((await runCli(['gen-ca', '--dir', dir, '--passphrase-file', join(tmp, 'pass')])).code, 0);
    const wrong = await runCli(['gen-client', '--dir', dir, '--cn', 'a', '--out', join(tmp, 'o'), '--passphrase-file', join(tmp, 'bad'), '--json']);
    assert.equal(wrong.code, 4);
    assert.equal(wrong.json.error.code, 'WRONG_PASSPHRASE');
    assert.ok(!existsSync(join(tmp, 'o', 'private-key.pem')));
    const ok = await runCli(['gen-client', '--dir', dir, '--cn', 'a', '--out', join(tmp, 'o')], {env: {MTLS_KIT_CA_PASSPHRASE: 'right'}});
    assert.equal(ok.code, 0, ok.stderr);
  });

  it('issues a fleet on worker threads, one folder each, all in the index', async () => {
    const tmp = tempDir();
    const dir = join(tmp, 'pki');
    assert.equal((await runCli(['gen-ca', '--dir', dir, '--intermediate'])).code, 0);
    const r = await runCli(['gen-client', '--dir', dir, '--cn', 'device-{n:3}', '--count', '40', '--out', join(tmp, 'fleet'), '--workers', '2', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.count, 40);
    assert.equal(r.json.workers, 2);
    const folders = readdirSync(join(tmp, 'fleet')).sort();
    assert.equal(folders.length, 40);
    assert.equal(folders[0], 'device-001');
    const serials = new Set(r.json.certificates.map((c: {serial: string}) => c.serial));
    assert.equal(serials.size, 40);
    const index = readFileSync(join(dir, 'intermediate/index.txt'), 'utf8').trim().split('\n');
    assert.equal(index.length, 40);
    const v = openssl([
      'verify',
      '-CAfile',
      join(dir, 'ca-bundle.pem'),
      '-untrusted',
      join(tmp, 'fleet/device-040/chain.pem'),
      '-purpose',
      'sslclient',
      join(tmp, 'fleet/device-040/certificate.crt'),
    ]);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(statSync(join(tmp, 'fleet/device-017/private-key.pem')).mode & 0o777, 0o600);
    // A template without {n} is a usage error.
    const bad = await runCli(['gen-client', '--dir', dir, '--cn', 'same', '--count', '3', '--out', join(tmp, 'f2')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /\{n\}/);
  });

  it('names the file for a CA key that does not match its certificate (exit 4), and a file in the way of --out (exit 2)', async () => {
    const tmp = tempDir();
    const a = join(tmp, 'a');
    const b = join(tmp, 'b');
    assert.equal((await runCli(['gen-ca', '--dir', a])).code, 0);
    assert.equal((await runCli(['gen-ca', '--dir', b])).code, 0);
    writeFileSync(join(a, 'root/ca.key'), readFileSync(join(b, 'root/ca.key')));
    const mismatch = await runCli(['gen-client', '--dir', a, '--cn', 'x', '--out', join(tmp, 'o1'), '--json']);
    assert.equal(mismatch.code, 4);
    assert.equal(mismatch.json.error.code, 'KEY_MISMATCH');
    assert.match(mismatch.json.error.message, /ca\.key does not belong to .*ca\.crt/);
    assert.ok(!existsSync(join(tmp, 'o1')));
    // A folder below a regular file cannot be created: a usage error naming the file in the way.
    const blocked = await runCli(['gen-client', '--dir', b, '--cn', 'x', '--out', join(b, 'ca.json', 'sub')]);
    assert.equal(blocked.code, 2);
    assert.match(blocked.stderr, /ca\.json is a file, not a folder, so .*ca\.json\/sub cannot be used/);
    assert.doesNotMatch(blocked.stderr, /ENOTDIR/);
    // A truncated CA certificate is named.
    const pem = readFileSync(join(b, 'root/ca.crt'), 'utf8');
    writeFileSync(join(b, 'root/ca.crt'), pem.slice(0, 200));
    const broken = await runCli(['gen-client', '--dir', b, '--cn', 'x', '--out', join(tmp, 'o2')]);
    assert.equal(broken.code, 4);
    assert.match(broken.stderr, /root\/ca\.crt/);
  });
});
