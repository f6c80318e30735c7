/**
 * PKCS#12 build/parse (src/lib/x509/pkcs12.ts) against real peers: the openssl CLI (pkcs12, pkey,
 * x509, kdf) and Java's keytool (the "Java keystores import" proof, issue 2).
 */
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {mkdtempSync, writeFileSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {before, describe, it} from 'node:test';
import {createCa} from '../src/lib/pki/ca.js';
import {isMtlsKitError, type MtlsKitError} from '../src/lib/errors.js';
import {issueClientCert} from '../src/lib/pki/client-cert.js';
import {loadPrivateKey} from '../src/lib/x509/issue.js';
import {parseDnString} from '../src/lib/x509/names.js';
import {buildPkcs12, derivePkcs12Key, parsePkcs12} from '../src/lib/x509/pkcs12.js';
import {children, content, parseOne, raw} from '../src/lib/x509/der.js';
import {KEY_TYPES, type KeyType} from '../src/lib/x509/profiles.js';
import {newSerialHex} from '../src/lib/x509/serial.js';
import {openssl, opensslOk} from './support/openssl.js';
import {tempDir} from './support/tmp.js';

const PASSWORD = 'correct horse';
// One folder for the whole file: tempDir() registers its cleanup on the suite it is called in.
const ROOT = tempDir('mtls-kit-p12-');
const NOW = new Date('2026-01-15T12:00:00Z');

interface Pki {
  /** Leaf, intermediate, root (DER). */
  leafDer: Uint8Array;
  chainDer: Uint8Array[];
  keyPkcs8Der: Uint8Array;
  dir: string;
  /** leaf.pem, key.pem, chain.pem (intermediate then root) on disk for openssl. */
  leafPem: string;
  keyPem: string;
  chainPem: string;
}

/** A root -> intermediate -> leaf chain from the project's own CA and client-certificate code. */
function makePki(keyType: KeyType): Pki {
  const ca = createCa({keyType, rootSubject: parseDnString('CN=P12 Root'), intermediateSubject: parseDnString('CN=P12 Intermediate'), now: NOW});
  const inter = ca.intermediate!;
  const issuerKey = loadPrivateKey(inter.keyPem, 'intermediate key', undefined);
  const leaf = issueClientCert({
    issuer: {cert: inter.cert, key: issuerKey.key, spec: issuerKey.spec, chain: [inter.cert]},
    keySpec: KEY_TYPES[keyType],
    subject: parseDnString(`CN=p12-${keyType}`),
    sans: [],
    days: 365,
    now: NOW,
    serialHex: newSerialHex(),
  });
  const dir = mkdtempSync(join(ROOT, `${keyType}-`));
  const pki: Pki = {
    leafDer: leaf.certDer,
    chainDer: [inter.cert.der, ca.root.cert.der],
    keyPkcs8Der: leaf.keyPkcs8Der,
    dir,
    leafPem: join(dir, 'leaf.pem'),
    keyPem: join(dir, 'key.pem'),
    chainPem: join(dir, 'chain.pem'),
  };
  writeFileSync(pki.leafPem, leaf.certPem);
  writeFileSync(pki.keyPem, leaf.keyPem, {mode: 0o600});
  writeFileSync(pki.chainPem, inter.certPem + ca.root.certPem);
  return pki;
}

/** The SubjectPublicKeyInfo PEM openssl derives from a private key / a certificate. */
const pubFromKey = (pem: string): string => opensslOk(['pkey', '-pubout'], {input: pem});
const pubFromCert = (file: string): string => opensslOk(['x509', '-in', file, '-noout', '-pubkey']);
const subjects = (pemText: string): string[] => [...pemText.matchAll(/^subject=(.*)$/gm)].map((m) => m[1]!.trim());

function expectMtlsError(fn: () => unknown, code: string): MtlsKitError {
  try {
    fn();
  } catch (err) {
    assert.ok(isMtlsKitError(err), `expected MtlsKitError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

const LIB = fileURLToPath(new URL('../src/lib/x509/pkcs12.ts', import.meta.url));
const hasKeytool = spawnSync('keytool', ['-help'], {stdio: 'ignore'}).status === 0;

describe('PKCS#12 KDF (RFC 7292 B.2)', () => {
  // Reference: OpenSSL's PKCS12KDF, whose `pass` is the raw BMPString bytes (with the 00 00 terminator).
  const cases: Array<{hash: string; id: 1 | 2 | 3; iter: number; len: number}> = [
    {hash: 'sha1', id: 1, iter: 1, len: 24},
    {hash: 'sha1', id: 2, iter: 1000, len: 8},
    {hash: 'sha1', id: 3, iter: 2048, len: 20},
    {hash: 'sha256', id: 3, iter: 2048, len: 32},
    {hash: 'sha256', id: 1, iter: 3, len: 70}, // longer than one hash block: exercises the I_j update
    {hash: 'sha512', id: 3, iter: 5, len: 64},
  ];
  for (const c of cases) {
    it(`${c.hash} id ${c.id} iter ${c.iter} len ${c.len} equals openssl kdf PKCS12KDF`, () => {
      const pass = Buffer.from('0073006d006500670000', 'hex'); // "smeg"
      const salt = Buffer.from('0A58CF64530D823F', 'hex');
      const ours = derivePkcs12Key(c.hash, c.id, pass, salt, c.iter, c.len).toString('hex').toUpperCase();
      const ref = opensslOk([
        'kdf',
        '-keylen',
        String(c.len),
        '-kdfopt',
        `digest:${c.hash.toUpperCase()}`,
        '-kdfopt',
        `hexpass:${pass.toString('hex')}`,
        '-kdfopt',
        `hexsalt:${salt.toString('hex')}`,
        '-kdfopt',
        `iter:${c.iter}`,
        '-kdfopt',
        `id:${c.id}`,
        'PKCS12KDF',
      ])
        .trim()
        .replace(/:/g, '');
      assert.equal(ours, ref);
    });
  }
});

for (const keyType of ['rsa-2048', 'ec-p256'] as const) {
  describe(`PKCS#12 with ${keyType} and a two-tier chain`, () => {
    let pki: Pki;
    before(async () => {
      pki = makePki(keyType);
    });

    for (const legacy of [false, true]) {
      const variant = legacy ? 'legacy' : 'modern';
      describe(variant, () => {
        let file: string;
        let der: Uint8Array;
        before(() => {
          der = buildPkcs12({
            keyPkcs8Der: pki.keyPkcs8Der,
            certDer: pki.leafDer,
            chainDer: pki.chainDer,
            password: PASSWORD,
            legacy,
            friendlyName: 'device key',
          });
          file = join(pki.dir, `${variant}.p12`);
          writeFileSync(file, der);
        });

        it(`openssl pkcs12 -info reads it without -legacy and shows the ${variant} algorithms`, () => {
          const info = opensslOk(['pkcs12', '-in', file, '-passin', `pass:${PASSWORD}`, '-info', '-nodes']);
          // openssl prints the algorithm lines on stderr; -info verified the MAC (it fails otherwise).
          const r = openssl(['pkcs12', '-in', file, '-passin', `pass:${PASSWORD}`, '-info', '-noout']);
          assert.equal(r.code, 0, r.stderr);
          if (legacy) {
            assert.match(r.stderr, /MAC: sha1, Iteration 2048/);
            assert.match(r.stderr, /PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048/);
            assert.match(r.stderr, /Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048/);
          } else {
            assert.match(r.stderr, /MAC: sha256, Iteration 2048/);
            assert.match(r.stderr, /PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256/);
            assert.match(r.stderr, /Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256/);
          }
          assert.match(info, /friendlyName: device key/);
          assert.equal(info.match(/localKeyID:/g)?.length, 2, 'key and leaf share a localKeyId');
        });

        it('openssl -nokeys gives the chain leaf first; -nocerts -nodes gives the key matching the leaf', () => {
          const certs = opensslOk(['pkcs12', '-in', file, '-passin', `pass:${PASSWORD}`, '-nokeys']);
          assert.deepEqual(subjects(certs), [`CN = p12-${keyType}`, 'CN = P12 Intermediate', 'CN = P12 Root']);
          const key = opensslOk(['pkcs12', '-in', file, '-passin', `pass:${PASSWORD}`, '-nocerts', '-nodes']);
          assert.match(key, /BEGIN PRIVATE KEY/);
          assert.equal(pubFromKey(key), pubFromCert(pki.leafPem));
        });

        if (legacy) {
          it('openssl reads it with -legacy too', () => {
            const key = opensslOk(['pkcs12', '-legacy', '-in', file, '-passin', `pass:${PASSWORD}`, '-nocerts', '-nodes']);
            assert.equal(pubFromKey(key), pubFromCert(pki.leafPem));
          });
        }

        it('openssl rejects a wrong password', () => {
          assert.notEqual(openssl(['pkcs12', '-in', file, '-passin', 'pass:wrong', '-nokeys']).code, 0);
        });

        it('parsePkcs12 returns the chain leaf first and hasKey', () => {
          const r = parsePkcs12(der, PASSWORD, file);
          assert.equal(r.hasKey, true);
          assert.deepEqual(
            r.certificates.map((c) => Buffer.from(c).toString('hex')),
            [pki.leafDer, ...pki.chainDer].map((c) => Buffer.from(c).toString('hex')),
          );
          assert.ok(!JSON.stringify(r).includes('PRIVATE'));
        });

        it('parsePkcs12 with a wrong password: WRONG_PASSWORD, exit 4, names the file and the fix', () => {
          const err = expectMtlsError(() => parsePkcs12(der, 'wrong', file), 'WRONG_PASSWORD');
          assert.equal(err.exitCode, 4);
          assert.ok(err.message.includes(file));
          assert.match(err.suggestions.join('\n'), /--password-file/);
          assert.match(err.suggestions.join('\n'), /MTLS_KIT_P12_PASSWORD/);
        });

        it('keytool (Java 17) lists it as a PrivateKeyEntry with the whole chain and imports it into a JKS', {
          skip: hasKeytool ? false : 'keytool not installed',
        }, () => {
          const r = spawnSync('keytool', ['-list', '-v', '-storetype', 'PKCS12', '-keystore', file, '-storepass', PASSWORD], {
            encoding: 'utf8',
            timeout: 60_000,
          });
          assert.equal(r.status, 0, r.stdout + r.stderr);
          assert.match(r.stdout, /Alias name: device key/);
          assert.match(r.stdout, /Entry type: PrivateKeyEntry/);
          assert.match(r.stdout, /Certificate chain length: 3/);
          // And imports it into a JKS keystore (key and chain), as an application server would.
          const jks = join(pki.dir, `${variant}.jks`);
          const imp = spawnSync(
            'keytool',
            [
              '-importkeystore',
              '-noprompt',
              '-srckeystore',
              file,
              '-srcstoretype',
              'PKCS12',
              '-srcstorepass',
              PASSWORD,
              '-destkeystore',
              jks,
              '-deststoretype',
              'JKS',
              '-deststorepass',
              PASSWORD,
            ],
            {encoding: 'utf8', timeout: 60_000},
          );
          assert.equal(imp.status, 0, imp.stdout + imp.stderr);
          assert.match(imp.stdout + imp.stderr, /1 entries successfully imported/);
        });
      });
    }

    describe('files openssl pkcs12 -export writes', () => {
      const exportWith = (name: string, extra: string[]): Uint8Array => {
        const out = join(pki.dir, name);
        opensslOk([
          'pkcs12',
          '-export',
          '-in',
          pki.leafPem,
          '-inkey',
          pki.keyPem,
          '-certfile',
          pki.chainPem,
          '-passout',
          `pass:${PASSWORD}`,
          '-out',
          out,
          ...extra,
        ]);
        return readFileSync(out);
      };

      it('default (PBES2 / AES-256-CBC, SHA-256 MAC): parsed, leaf first', () => {
        const r = parsePkcs12(exportWith('openssl-default.p12', []), PASSWORD, 'openssl-default.p12');
        assert.equal(r.hasKey, true);
        assert.equal(r.certificates.length, 3);
        assert.deepEqual(Buffer.from(r.certificates[0]!), Buffer.from(pki.leafDer));
        expectMtlsError(() => parsePkcs12(readFileSync(join(pki.dir, 'openssl-default.p12')), 'nope', 'openssl-default.p12'), 'WRONG_PASSWORD');
      });

      it('3DES for keys and certificates with a SHA-1 MAC: parsed', () => {
        const der = exportWith('openssl-3des.p12', ['-certpbe', 'PBE-SHA1-3DES', '-keypbe', 'PBE-SHA1-3DES', '-macalg', 'sha1']);
        const r = parsePkcs12(der, PASSWORD, 'openssl-3des.p12');
        assert.equal(r.hasKey, true);
        assert.deepEqual(Buffer.from(r.certificates[0]!), Buffer.from(pki.leafDer));
      });

      it('-legacy (RC2-40 certificates): a clear BAD_PKCS12 by default, parsed with --openssl-legacy-provider', () => {
        const der = exportWith('openssl-legacy.p12', ['-legacy']);
        const err = expectMtlsError(() => parsePkcs12(der, PASSWORD, 'openssl-legacy.p12'), 'BAD_PKCS12');
        assert.match(err.message, /^openssl-legacy\.p12: .*40BitRC2/);
        assert.match(err.suggestions.join('\n'), /openssl pkcs12 -legacy -in openssl-legacy\.p12 -nodes \| openssl pkcs12 -export/);
        assert.match(err.suggestions.join('\n'), /--openssl-legacy-provider/);
        // The MAC is checked first, so a wrong password is still reported as such.
        expectMtlsError(() => parsePkcs12(der, 'nope', 'openssl-legacy.p12'), 'WRONG_PASSWORD');
        // With OpenSSL's legacy provider loaded, Node runs RC2 and the same file parses.
        const script = `import {parsePkcs12} from ${JSON.stringify(LIB)}; import {readFileSync} from 'node:fs';
          const r = parsePkcs12(readFileSync(${JSON.stringify(join(pki.dir, 'openssl-legacy.p12'))}), ${JSON.stringify(PASSWORD)}, 'x');
          console.log(JSON.stringify({n: r.certificates.length, hasKey: r.hasKey, leaf: Buffer.from(r.certificates[0]).toString('hex')}));`;
        const r = spawnSync(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', '--input-type=module', '-e', script], {
          encoding: 'utf8',
          timeout: 60_000,
        });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(JSON.parse(r.stdout), {n: 3, hasKey: true, leaf: Buffer.from(pki.leafDer).toString('hex')});
      });

      it('-nomac: parsed; a wrong password is still WRONG_PASSWORD (the decryption fails)', () => {
        const der = exportWith('openssl-nomac.p12', ['-nomac']);
        const r = parsePkcs12(der, PASSWORD, 'openssl-nomac.p12');
        assert.equal(r.hasKey, true);
        assert.equal(r.certificates.length, 3);
        for (const wrong of ['nope', 'wrong', 'x', 'correct horse ']) expectMtlsError(() => parsePkcs12(der, wrong, 'openssl-nomac.p12'), 'WRONG_PASSWORD');
      });

      it('a certificates-only file in reverse order: the non-CA certificate comes first', () => {
        const reversed = join(pki.dir, 'reversed.pem');
        writeFileSync(reversed, readFileSync(pki.chainPem, 'utf8') + readFileSync(pki.leafPem, 'utf8'));
        const out = join(pki.dir, 'certs-only.p12');
        opensslOk(['pkcs12', '-export', '-nokeys', '-in', reversed, '-passout', `pass:${PASSWORD}`, '-out', out]);
        const r = parsePkcs12(readFileSync(out), PASSWORD, out);
        assert.equal(r.hasKey, false);
        assert.equal(r.certificates.length, 3);
        assert.deepEqual(Buffer.from(r.certificates[0]!), Buffer.from(pki.leafDer));
      });
    });
  });
}

describe('PKCS#12 edge cases', () => {
  it('EC P-384 and P-521 keys, a custom iteration count and a non-ASCII password round-trip through openssl', async () => {
    for (const keyType of ['ec-p384', 'ec-p521'] as const) {
      const pki = makePki(keyType);
      const password = 'pässwörd-✓';
      for (const legacy of [false, true]) {
        const der = buildPkcs12({keyPkcs8Der: pki.keyPkcs8Der, certDer: pki.leafDer, chainDer: pki.chainDer, password, legacy, iterations: 10_000});
        const file = join(pki.dir, `${legacy}.p12`);
        writeFileSync(file, der);
        // OpenSSL 3 converts a UTF-8 password to BMPString for the PKCS#12 KDF, as we do.
        const env = {...process.env, P12PASS: password};
        const run = (args: string[]): string => {
          const r = spawnSync('openssl', ['pkcs12', '-in', file, '-passin', 'env:P12PASS', ...args], {encoding: 'utf8', env});
          assert.equal(r.status, 0, `${keyType} legacy=${legacy}: ${r.stderr}`);
          return r.stdout + r.stderr;
        };
        assert.match(run(['-info', '-noout']), /Iteration 10000/);
        assert.equal(pubFromKey(run(['-nocerts', '-nodes'])).trim(), pubFromCert(pki.leafPem).trim());
        const parsed = parsePkcs12(der, password, file);
        assert.equal(parsed.certificates.length, 3);
        assert.equal(parsed.hasKey, true);
      }
    }
  });

  it('a leaf without a chain works, and no friendlyName is written unless asked', async () => {
    const pki = makePki('ec-p256');
    const der = buildPkcs12({keyPkcs8Der: pki.keyPkcs8Der, certDer: pki.leafDer, password: PASSWORD});
    const file = join(pki.dir, 'single.p12');
    writeFileSync(file, der);
    const out = opensslOk(['pkcs12', '-in', file, '-passin', `pass:${PASSWORD}`, '-nodes']);
    assert.doesNotMatch(out, /friendlyName/);
    assert.equal(subjects(out).length, 1);
    assert.deepEqual(parsePkcs12(der, PASSWORD, file).certificates.length, 1);
  });

  it('an empty password works both ways with openssl (and with keytool)', async () => {
    const pki = makePki('ec-p256');
    for (const legacy of [false, true]) {
      const file = join(pki.dir, `empty-${legacy}.p12`);
      writeFileSync(file, buildPkcs12({keyPkcs8Der: pki.keyPkcs8Der, certDer: pki.leafDer, password: '', legacy}));
      const key = opensslOk(['pkcs12', '-in', file, '-passin', 'pass:', '-nocerts', '-nodes']);
      assert.equal(pubFromKey(key), pubFromCert(pki.leafPem));
      if (hasKeytool) {
        const r = spawnSync('keytool', ['-list', '-storetype', 'PKCS12', '-keystore', file, '-storepass', ''], {encoding: 'utf8', timeout: 60_000});
        assert.equal(r.status, 0, r.stdout + r.stderr);
      }
    }
    const out = join(pki.dir, 'empty-openssl.p12');
    opensslOk(['pkcs12', '-export', '-in', pki.leafPem, '-inkey', pki.keyPem, '-passout', 'pass:', '-out', out]);
    assert.equal(parsePkcs12(readFileSync(out), '', out).hasKey, true);
    expectMtlsError(() => parsePkcs12(readFileSync(out), 'x', out), 'WRONG_PASSWORD');
  });

  it('a keystore keytool generated (Java 17 defaults) is parsed', {skip: hasKeytool ? false : 'keytool not installed'}, () => {
    const file = join(ROOT, 'keytool-made.p12');
    const r = spawnSync(
      'keytool',
      [
        '-genkeypair',
        '-alias',
        'k1',
        '-keyalg',
        'EC',
        '-groupname',
        'secp256r1',
        '-dname',
        'CN=from keytool',
        '-validity',
        '2',
        '-storetype',
        'PKCS12',
        '-keystore',
        file,
        '-storepass',
        PASSWORD,
      ],
      {encoding: 'utf8', timeout: 60_000},
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const parsed = parsePkcs12(readFileSync(file), PASSWORD, file);
    assert.equal(parsed.hasKey, true);
    assert.equal(parsed.certificates.length, 1);
    expectMtlsError(() => parsePkcs12(readFileSync(file), 'wrong', file), 'WRONG_PASSWORD');
  });

  it('iterations must be a positive integer (usage error)', async () => {
    const pki = makePki('ec-p256');
    for (const iterations of [0, -5, 1.5]) {
      const err = expectMtlsError(() => buildPkcs12({keyPkcs8Der: pki.keyPkcs8Der, certDer: pki.leafDer, password: 'x', iterations}), 'BAD_ITERATIONS');
      assert.equal(err.exitCode, 2);
    }
  });

  it('BER from streaming encoders (indefinite lengths, a chunked OCTET STRING) is read; the MAC still holds', () => {
    const pki = makePki('ec-p256');
    const der = buildPkcs12({keyPkcs8Der: pki.keyPkcs8Der, certDer: pki.leafDer, chainDer: pki.chainDer, password: PASSWORD});
    // Re-encode the outer layers as NSS does (X.690 8.1.3.6, 8.7.3.2): the MACed octets are unchanged.
    const indefinite = (tag: number, parts: Uint8Array[]): Buffer => Buffer.concat([Uint8Array.of(tag, 0x80), ...parts, Uint8Array.of(0, 0)]);
    const chunk = (b: Uint8Array): Buffer => Buffer.concat([Uint8Array.of(0x04, 0x82, b.length >> 8, b.length & 0xff), b]);
    const [version, authSafe, mac] = children(parseOne(der));
    const [contentType, explicit0] = children(authSafe!);
    const safe = content(children(explicit0!)[0]!);
    const half = safe.length >> 1;
    const ber = indefinite(0x30, [
      raw(version!),
      indefinite(0x30, [raw(contentType!), indefinite(0xa0, [indefinite(0x24, [chunk(safe.subarray(0, half)), chunk(safe.subarray(half))])])]),
      raw(mac!),
    ]);
    const r = parsePkcs12(ber, PASSWORD, 'ber.p12');
    assert.equal(r.certificates.length, 3);
    assert.equal(r.hasKey, true);
    // openssl reads the same bytes (its d2i accepts BER).
    const file = join(pki.dir, 'ber.p12');
    writeFileSync(file, ber);
    assert.equal(subjects(opensslOk(['pkcs12', '-in', file, '-passin', `pass:${PASSWORD}`, '-nokeys'])).length, 3);
    expectMtlsError(() => parsePkcs12(ber, 'wrong', 'ber.p12'), 'WRONG_PASSWORD');
  });

  it('salts and IVs come only from the injected random source (same source, same bytes)', () => {
    const pki = makePki('ec-p256');
    const seeded = (): ((n: number) => Uint8Array) => {
      let counter = 0;
      return (n) => Uint8Array.from({length: n}, () => counter++ & 0xff);
    };
    for (const legacy of [false, true]) {
      const a = buildPkcs12({keyPkcs8Der: pki.keyPkcs8Der, certDer: pki.leafDer, password: PASSWORD, legacy, random: seeded()});
      const b = buildPkcs12({keyPkcs8Der: pki.keyPkcs8Der, certDer: pki.leafDer, password: PASSWORD, legacy, random: seeded()});
      assert.deepEqual(Buffer.from(a), Buffer.from(b));
      assert.equal(parsePkcs12(a, PASSWORD, 'seeded.p12').hasKey, true);
    }
  });

  it('bytes that are not PKCS#12: BAD_PKCS12 naming the file, exit 4', async () => {
    const pki = makePki('ec-p256');
    for (const bad of [Buffer.from('hello'), Buffer.from(pki.leafDer), Buffer.from(readFileSync(pki.leafPem))]) {
      const err = expectMtlsError(() => parsePkcs12(bad, PASSWORD, 'bad.p12'), 'BAD_PKCS12');
      assert.equal(err.exitCode, 4);
      assert.match(err.message, /^bad\.p12: /);
    }
    // Truncated: a real file cut in half.
    const der = buildPkcs12({keyPkcs8Der: pki.keyPkcs8Der, certDer: pki.leafDer, password: PASSWORD});
    expectMtlsError(() => parsePkcs12(der.subarray(0, der.length >> 1), PASSWORD, 'cut.p12'), 'BAD_PKCS12');
  });

  it('an encrypted or garbage key is refused when building', () => {
    expectMtlsError(() => buildPkcs12({keyPkcs8Der: Buffer.from('nope'), certDer: Buffer.alloc(10), password: 'x'}), 'BAD_KEY');
  });
});
