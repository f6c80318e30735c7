import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {after, describe, it} from 'node:test';
import {buildCrl, loadCrl} from '../src/lib/x509/crl.js';
import {newSerialHex} from '../src/lib/x509/serial.js';
import {makeTestCaIn} from './support/test-pki.js';
import {runCli} from './support/cli.js';
import {opensslServerCert, startOpensslServer, tlsGet} from './support/tls-peers.js';
import {openssl, opensslOk} from './support/openssl.js';
import {tempDir} from './support/tmp.js';

const work = tempDir();

describe('revoke and crl', () => {
  it('revokes by any serial form, twice is a no-op, unknown refused unless --force; the CRL parses in openssl', async () => {
    const ca = await makeTestCaIn(work, {intermediate: true});
    const out = join(work, 'c1');
    const g = await runCli(['gen-client', '--dir', ca.dir, '--cn', 'device-1', '--out', out, '--json']);
    assert.equal(g.code, 0, g.stderr);
    const serial: string = g.json.certificate.serial;
    const colon = serial.toLowerCase().replace(/(..)(?=.)/g, '$1:');
    const r1 = await runCli(['revoke', colon, '--dir', ca.dir, '--reason', 'keyCompromise', '--json']);
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(r1.json.serial, serial);
    assert.equal(r1.json.alreadyRevoked, false);
    // One JSON vocabulary: subjects in RFC 2253, the CA as {tier, subject}.
    assert.equal(r1.json.subject, 'CN=device-1');
    assert.equal(r1.json.ca.tier, g.json.ca.tier);
    assert.equal(r1.json.ca.subject, g.json.ca.subject);
    const r2 = await runCli(['revoke', '--cert', join(out, 'certificate.crt'), '--dir', ca.dir]);
    assert.equal(r2.code, 0);
    assert.match(r2.stderr, /already revoked/);
    const r3 = await runCli(['revoke', 'dec:12345', '--dir', ca.dir]);
    assert.equal(r3.code, 4);
    assert.match(r3.stderr, /never issued/);
    assert.equal((await runCli(['revoke', 'dec:12345', '--dir', ca.dir, '--force'])).code, 0);
    assert.equal((await runCli(['revoke', 'zz!', '--dir', ca.dir])).code, 2);
    const index = readFileSync(join(ca.dir, 'intermediate/index.txt'), 'utf8');
    assert.match(index, new RegExp(`^R\\t\\d{12}Z\\t\\d{12}Z,keyCompromise\\t${serial}\\t`, 'm'));

    const c1 = await runCli(['crl', '--dir', ca.dir, '--der', '--json']);
    assert.equal(c1.code, 0, c1.stderr);
    assert.equal(c1.json.entries, 2);
    assert.equal(c1.json.crlNumber, '1');
    const c2 = await runCli(['crl', '--dir', ca.dir, '--days', '7']);
    assert.match(c2.stdout, /CRL #2 .* 2 revoked entries/);
    assert.match(c2.stderr, /next: mtls-kit lint/);
    assert.equal(readFileSync(join(ca.dir, 'intermediate/crlnumber'), 'utf8'), '03\n');
    const text = opensslOk(['crl', '-in', join(ca.dir, 'intermediate/crl.pem'), '-noout', '-text']);
    assert.match(text, /Version 2/);
    assert.match(text, /X509v3 CRL Number: \n\s+2/);
    assert.match(text, /X509v3 Authority Key Identifier/);
    assert.match(text, new RegExp(`Serial Number: ${serial}[\\s\\S]*Key Compromise`));
    assert.match(opensslOk(['crl', '-in', join(ca.dir, 'intermediate/crl.der'), '-inform', 'DER', '-noout', '-text']), /CRL Number/);
    const v = openssl(['crl', '-in', join(ca.dir, 'intermediate/crl.pem'), '-noout', '-CAfile', ca.bundle]);
    assert.match(v.stdout + v.stderr, /verify OK/);
    // The root's own CRL.
    const root = await runCli(['crl', '--dir', ca.dir, '--issuer', 'root', '--json']);
    assert.deepEqual(root.json.ca, {tier: 'root', subject: 'CN=Test Root'});
    opensslOk(['crl', '-in', join(ca.dir, 'root/crl.pem'), '-noout', '-text']);
  });

  it('gen-client --defect revoked is rejected in a real handshake by openssl s_server -crl_check with our CRL; a good one is accepted', async (t) => {
    const ca = await makeTestCaIn(work, {intermediate: true});
    const bad = await runCli(['gen-client', '--dir', ca.dir, '--cn', 'revoked-1', '--defect', 'revoked', '--out', join(work, 'hs-bad'), '--json']);
    assert.equal(bad.code, 0, bad.stderr);
    assert.equal(bad.json.defect.expected, 'Failed:ClientCertCrlHit');
    assert.match(bad.stdout, /"crl"/);
    assert.equal((await runCli(['gen-client', '--dir', ca.dir, '--cn', 'good-1', '--out', join(work, 'hs-good')])).code, 0);
    const srv = opensslServerCert(work);
    const server = await startOpensslServer([
      '-cert',
      srv.cert,
      '-key',
      srv.key,
      '-Verify',
      '2',
      '-CAfile',
      ca.bundle,
      '-CRL',
      join(ca.dir, 'intermediate/crl.pem'),
      '-crl_check',
      '-verify_return_error',
      '-tls1_2',
    ]);
    t.after(server.stop);
    after(server.stop);
    const handshake = (dir: string): Promise<string> => tlsGet(server.port, {key: join(dir, 'private-key.pem'), cert: join(dir, 'chain.pem')});
    const good = await handshake(join(work, 'hs-good'));
    assert.match(good, /HTTP\/1\.0 200/);
    const revoked = await handshake(join(work, 'hs-bad'));
    assert.doesNotMatch(revoked, /HTTP\/1\.0 200/);
    assert.match(revoked, /error|alert/i);
  });

  it('a 500,000-entry CRL built in-process parses in openssl, fits 50 MB, and loads back fast', async () => {
    const ca = await makeTestCaIn(work, {intermediate: true});
    const now = new Date();
    const entries = Array.from({length: 500_000}, (_, i) => ({
      serial: newSerialHex(),
      revokedAt: now,
      ...(i % 3 === 0 ? {reason: 'keyCompromise' as const} : {}),
    }));
    const built = buildCrl({
      issuer: ca.issuer.cert,
      issuerKey: ca.issuer.key,
      entries,
      crlNumber: 7n,
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + 30 * 86_400_000),
    });
    assert.equal(built.entries, 500_000);
    assert.ok(built.pem.length < 50 * 1024 * 1024);
    const file = join(work, 'big-crl.pem');
    writeFileSync(file, built.pem);
    const loaded = loadCrl(readFileSync(file), file);
    assert.equal(loaded.entryCount, 500_000);
    assert.equal(loaded.crlNumber, 7n);
    assert.ok(loaded.revoked.has(entries[123_456]!.serial));
    const count = spawnSync('bash', ['-c', `openssl crl -in ${file} -noout -text | grep -c 'Serial Number:'`], {encoding: 'utf8', timeout: 120_000});
    assert.equal(count.stdout.trim(), '500000');
    const v = openssl(['crl', '-in', file, '-noout', '-CAfile', ca.bundle]);
    assert.match(v.stdout + v.stderr, /verify OK/);
  });
});

describe('lint', () => {
  it('finds blank lines, dashed comments, text dumps, DER and truncated CRLs; never crashes', async () => {
    const ca = await makeTestCaIn(work, {intermediate: true});
    assert.equal((await runCli(['crl', '--dir', ca.dir, '--der'])).code, 0);
    const clean = await runCli(['lint', ca.bundle, join(ca.dir, 'intermediate/crl.pem'), '--json']);
    assert.equal(clean.code, 0, clean.stdout);
    assert.equal(clean.json.errors, 0);
    const root = readFileSync(join(ca.dir, 'root/ca.crt'), 'utf8');
    const inter = readFileSync(join(ca.dir, 'intermediate/ca.crt'), 'utf8');
    const dump = opensslOk(['x509', '-in', join(ca.dir, 'root/ca.crt'), '-noout', '-text']);
    const bad = join(work, 'bad-bundle.pem');
    writeFileSync(bad, `${dump}${root}\n# a-dashed comment\n${inter}`);
    const r = await runCli(['lint', bad, '--json']);
    assert.equal(r.code, 3);
    const rules = r.json.findings.map((f: {rule: string}) => f.rule);
    for (const rule of ['pem-blank-lines', 'pem-comment', 'pem-text-outside-blocks']) assert.ok(rules.includes(rule), `${rule} in ${rules}`);
    assert.ok(r.json.findings.every((f: {fix: string; file: string}) => f.fix && f.file === bad));
    const der = await runCli(['lint', join(ca.dir, 'intermediate/crl.der'), ca.bundle, '--json']);
    assert.ok(der.json.findings.some((f: {rule: string}) => f.rule === 'crl-not-pem'));
    const truncated = join(work, 'trunc.pem');
    writeFileSync(truncated, readFileSync(join(ca.dir, 'intermediate/crl.pem'), 'utf8').slice(0, 200));
    const garbage = join(work, 'garbage.bin');
    writeFileSync(garbage, Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x00]));
    const mixed = await runCli(['lint', truncated, garbage, join(work, 'missing.pem'), '--json']);
    assert.equal(mixed.code, 3);
    assert.deepEqual(new Set(mixed.json.findings.map((f: {file: string}) => f.file)), new Set([truncated, garbage, join(work, 'missing.pem')]));
    const human = await runCli(['lint', bad]);
    assert.match(human.stdout, /blank line/);
    assert.match(human.stdout, /fix:/);
  });

  it('--target apigw needs the full chain to the root; a CRL issuer missing from the bundle is an error', async () => {
    const ca = await makeTestCaIn(work, {intermediate: true});
    const other = await makeTestCaIn(work, {intermediate: true});
    assert.equal((await runCli(['crl', '--dir', other.dir])).code, 0);
    const r = await runCli(['lint', join(ca.dir, 'intermediate/ca.crt'), '--target', 'apigw', '--json']);
    assert.equal(r.code, 3);
    assert.ok(r.json.findings.some((f: {rule: string}) => f.rule === 'incomplete-chain'));
    const ok = await runCli(['lint', ca.bundle, '--target', 'apigw', '--json']);
    assert.equal(ok.json.errors, 0);
    // Same issuer name, different key: the signature check catches it.
    const x = await runCli(['lint', ca.bundle, join(other.dir, 'intermediate/crl.pem'), '--json']);
    assert.ok(
      x.json.findings.some((f: {rule: string}) => f.rule === 'crl-signature'),
      JSON.stringify(x.json.findings),
    );
  });
});

describe('gen-client --defect', () => {
  it('every kind prints the Failed:<code> ALB should log, and mtls-kit verify reports exactly that code', async () => {
    const ca = await makeTestCaIn(work, {intermediate: true});
    const kinds = ['expired', 'not-yet-valid', 'untrusted', 'revoked', 'wrong-purpose', 'too-deep', 'unsupported-key', 'v1'];
    const made: Array<[string, string, string]> = [];
    for (const kind of kinds) {
      const out = join(work, `defect-${kind}`);
      const g = await runCli(['gen-client', '--dir', ca.dir, '--cn', `d-${kind}`, '--defect', kind, '--out', out]);
      assert.equal(g.code, 0, g.stderr);
      const expected = /ALB should log: (Failed:\w+)/.exec(g.stdout)?.[1];
      assert.ok(expected, g.stdout);
      made.push([kind, expected, join(out, 'chain.pem')]);
    }
    for (const [kind, expected, chain] of made) {
      const v = await runCli(['verify', chain, '--trust-store', ca.bundle, '--crl', join(ca.dir, 'intermediate/crl.pem'), '--json']);
      assert.equal(v.json.status, expected, kind);
      assert.equal(v.code, 3);
    }
    assert.equal((await runCli(['gen-client', '--dir', ca.dir, '--cn', 'x-{n}', '--count', '2', '--defect', 'v1', '--out', join(work, 'dx')])).code, 2);
  });
});
