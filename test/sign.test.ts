/**
 * sign, gen-client --csr-only, renew and list, as a user runs them, with openssl as the
 * peer: `openssl req -new` makes the requests, `openssl verify -purpose sslclient` judges
 * the certificates, `openssl ca -gencrl` reads the index.
 */
import assert from 'node:assert/strict';
import {existsSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {before, describe, it} from 'node:test';
import {runCli} from './support/cli.js';
import {openssl, opensslOk} from './support/openssl.js';
import {tempDir} from './support/tmp.js';

function req(dir: string, name: string, key: string[], subj: string, addext: string[] = []): string {
  const csr = join(dir, `${name}.csr`);
  opensslOk([
    'req',
    '-new',
    '-newkey',
    ...key,
    '-nodes',
    '-keyout',
    join(dir, `${name}.key`),
    '-out',
    csr,
    '-subj',
    subj,
    ...addext.flatMap((e) => ['-addext', e]),
  ]);
  return csr;
}

function verifyClient(pki: string, dir: string): {code: number; out: string} {
  const r = openssl([
    'verify',
    '-CAfile',
    join(pki, 'ca-bundle.pem'),
    '-untrusted',
    join(dir, 'chain.pem'),
    '-purpose',
    'sslclient',
    join(dir, 'certificate.crt'),
  ]);
  return {code: r.code, out: r.stdout + r.stderr};
}

const text = (crt: string): string => opensslOk(['x509', '-in', crt, '-noout', '-text']);

describe('sign', () => {
  const tmp = tempDir();
  const pki = join(tmp, 'pki');
  before(async () => {
    const r = await runCli(['gen-ca', '--dir', pki, '--cn', 'Sign Root', '--intermediate']);
    assert.equal(r.code, 0, r.stderr);
  });

  it('RSA request with SANs: the requested subject and SANs, clientAuth only, openssl verify -purpose sslclient accepts it', async () => {
    const csr = req(tmp, 'rsa', ['rsa:2048'], '/C=US/O=Acme/CN=rsa-device', [
      'subjectAltName=DNS:rsa.example.com,IP:10.1.2.3,URI:spiffe://acme/rsa,email:ops@example.com',
    ]);
    const out = join(tmp, 'rsa-out');
    const r = await runCli(['sign', csr, '--dir', pki, '--out', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.certificate.subject, 'CN=rsa-device,O=Acme,C=US');
    assert.deepEqual(r.json.certificate.stripped, []);
    assert.deepEqual(r.json.certificate.extendedKeyUsage, ['clientAuth']);
    const v = verifyClient(pki, out);
    assert.equal(v.code, 0, v.out);
    const t = text(join(out, 'certificate.crt'));
    assert.match(t, /DNS:rsa.example.com, IP Address:10.1.2.3, URI:spiffe:\/\/acme\/rsa, email:ops@example.com/);
    assert.match(t, /Digital Signature, Key Encipherment/);
    assert.match(t, /CA:FALSE/);
    // The certificate certifies the requester's key.
    assert.equal(opensslOk(['x509', '-in', join(out, 'certificate.crt'), '-noout', '-pubkey']), opensslOk(['pkey', '-in', join(tmp, 'rsa.key'), '-pubout']));
    assert.ok(!existsSync(join(out, 'private-key.pem')));
    const index = readFileSync(join(pki, 'intermediate', 'index.txt'), 'utf8');
    assert.match(index, new RegExp(`^V\\t\\d{12}Z\\t\\t${r.json.certificate.serial}\\t.*\\t/C=US/O=Acme/CN=rsa-device$`, 'm'));
  });

  it('EC request for serverAuth and keyCertSign: stripped and reported; the certificate is clientAuth only', async () => {
    const csr = req(tmp, 'ec', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], '/CN=ec-device', [
      'extendedKeyUsage=serverAuth,clientAuth',
      'keyUsage=digitalSignature,keyCertSign',
      'subjectAltName=DNS:ec.example.com',
    ]);
    const out = join(tmp, 'ec-out');
    const r = await runCli(['sign', csr, '--dir', pki, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /stripped .*extendedKeyUsage serverAuth.*keyUsage keyCertSign/);
    const t = text(join(out, 'certificate.crt'));
    assert.match(t, /Extended Key Usage: \s*\n\s+TLS Web Client Authentication\n/);
    assert.doesNotMatch(t, /Certificate Sign/);
    assert.equal(verifyClient(pki, out).code, 0);
    const j = await runCli(['sign', csr, '--dir', pki, '--out', out, '--force', '--json']);
    assert.deepEqual(j.json.certificate.stripped, [
      {extension: 'extendedKeyUsage', value: 'serverAuth'},
      {extension: 'keyUsage', value: 'keyCertSign'},
    ]);
  });

  it('a CA:TRUE request is refused with exit 4 and nothing written; --strip-ca signs it as a client', async () => {
    const csr = req(tmp, 'ca', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/CN=wants-to-be-a-ca', ['basicConstraints=critical,CA:TRUE']);
    const out = join(tmp, 'ca-out');
    const r = await runCli(['sign', csr, '--dir', pki, '--out', out, '--json']);
    assert.equal(r.code, 4);
    assert.equal(r.json.error.code, 'CSR_REQUESTS_CA');
    assert.ok(!existsSync(join(out, 'certificate.crt')));
    const s = await runCli(['sign', csr, '--dir', pki, '--out', out, '--strip-ca', '--json']);
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual(s.json.certificate.stripped, [{extension: 'basicConstraints', value: 'CA:TRUE'}]);
    assert.equal(s.json.certificate.basicConstraints.ca, false);
    assert.equal(verifyClient(pki, out).code, 0);
  });

  it('a request whose signature does not verify is refused with exit 4', async () => {
    const csr = req(tmp, 'broken', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/CN=broken');
    const der = readDer(csr);
    // Change one letter of the subject: the signature no longer covers these bytes.
    const i = der.indexOf(Buffer.from('broken'));
    der[i] = 'B'.charCodeAt(0);
    writeFileSync(join(tmp, 'broken.der'), der);
    const r = await runCli(['sign', join(tmp, 'broken.der'), '--dir', pki, '--out', join(tmp, 'broken-out'), '--json']);
    assert.equal(r.code, 4);
    assert.equal(r.json.error.code, 'CSR_BAD_SIGNATURE');
    assert.match(r.json.error.message, /broken.der/);
    assert.ok(!existsSync(join(tmp, 'broken-out')));
    const junk = await runCli(['sign', '-', '--dir', pki, '--out', join(tmp, 'junk-out')], {input: 'not a csr'});
    assert.equal(junk.code, 4);
    assert.match(junk.stderr, /not a valid PKCS#10/);
  });

  it('DER on stdin with --cn and --san overriding the request', async () => {
    const csr = req(tmp, 'ovr', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/CN=original', ['subjectAltName=DNS:original.example.com']);
    const out = join(tmp, 'ovr-out');
    const r = await runCli(['sign', '-', '--dir', pki, '--out', out, '--cn', 'renamed', '--org', 'Acme', '--san', 'renamed.example.com', '--json'], {
      input: readDer(csr),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.certificate.subject, 'CN=renamed,O=Acme');
    assert.deepEqual(r.json.certificate.subjectAltNames, ['DNS:renamed.example.com']);
    assert.equal(r.json.certificate.csr, 'stdin');
  });

  it('gen-client --csr-only writes a key (0600) and a request openssl verifies; sign signs a folder of them on workers', async () => {
    const fleet = join(tmp, 'fleet');
    const g = await runCli(['gen-client', '--cn', 'dev-{n:2}', '--san', 'dev-{n}.example.com', '--count', '6', '--csr-only', '--out', fleet, '--json']);
    assert.equal(g.code, 0, g.stderr);
    assert.equal(g.json.count, 6);
    assert.equal(statSync(join(fleet, 'dev-01', 'private-key.pem')).mode & 0o777, 0o600);
    const v = openssl(['req', '-in', join(fleet, 'dev-03', 'request.csr'), '-noout', '-verify', '-text']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout + v.stderr, /verify OK/);
    assert.match(v.stdout, /DNS:dev-3.example.com/);
    const one = await runCli(['gen-client', '--cn', 'solo', '--csr-only', '--out', join(tmp, 'solo')]);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stderr, /next: mtls-kit sign .*solo\/request.csr/);
    assert.match(one.stderr, /aws acm-pca issue-certificate/);

    const s = await runCli(['sign', fleet, '--dir', pki, '--workers', '2', '--json']);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(s.json.count, 6);
    assert.equal(s.json.workers, 2);
    for (const d of readdirSync(fleet)) {
      const vc = verifyClient(pki, join(fleet, d));
      assert.equal(vc.code, 0, vc.out);
      assert.equal(
        opensslOk(['x509', '-in', join(fleet, d, 'certificate.crt'), '-noout', '-pubkey']),
        opensslOk(['pkey', '-in', join(fleet, d, 'private-key.pem'), '-pubout']),
      );
    }
    // A batch is resumable: re-running it signs only what is not yet signed and recorded...
    const again = await runCli(['sign', fleet, '--dir', pki, '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json.count, 0);
    // ...while a certificate the index does not record for that file is not ours to skip.
    writeFileSync(join(fleet, 'dev-02', 'certificate.crt'), readFileSync(join(fleet, 'dev-01', 'certificate.crt')));
    const foreign = await runCli(['sign', fleet, '--dir', pki]);
    assert.equal(foreign.code, 4, 'dev-02 holds a certificate recorded for another file');
    assert.match(foreign.stderr, /dev-02\/certificate.crt already exists/);
  });

  it('renew keeps subject, SANs and key (or --new-key), --revoke-old revokes; list shows it; openssl ca -gencrl reads the index', async () => {
    const fleet = join(tmp, 'renew-fleet');
    const g = await runCli(['gen-client', '--dir', pki, '--cn', 'r-{n}', '--san', 'r-{n}.example.com', '--count', '3', '--days', '10', '--out', fleet]);
    assert.equal(g.code, 0, g.stderr);
    const dev1 = join(fleet, 'r-1');
    const oldSerial = opensslOk(['x509', '-in', join(dev1, 'certificate.crt'), '-noout', '-serial'])
      .trim()
      .split('=')[1]!;
    const oldKey = readFileSync(join(dev1, 'private-key.pem'), 'utf8');

    const soon = await runCli(['list', '--dir', pki, '--expiring', '30d', '--json']);
    assert.equal(soon.code, 0, soon.stderr);
    assert.ok(soon.json.certificates.some((c: {serial: string}) => c.serial === oldSerial));
    assert.ok(soon.json.certificates.every((c: {daysLeft: number; status: string}) => c.status === 'valid' && c.daysLeft < 30));

    const r = await runCli(['renew', dev1, '--dir', pki, '--days', '90', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.renewed[0].oldSerial, oldSerial);
    assert.notEqual(r.json.renewed[0].newSerial, oldSerial);
    assert.equal(readFileSync(join(dev1, 'private-key.pem'), 'utf8'), oldKey, 'same key');
    assert.equal(verifyClient(pki, dev1).code, 0);
    const t = text(join(dev1, 'certificate.crt'));
    assert.match(t, /Subject: CN\s?=\s?r-1/);
    assert.match(t, /DNS:r-1.example.com/);

    const all = await runCli(['renew', fleet, '--dir', pki, '--new-key', '--revoke-old', '--json']);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.json.count, 3);
    assert.notEqual(readFileSync(join(dev1, 'private-key.pem'), 'utf8'), oldKey, 'new key');
    for (const d of readdirSync(fleet)) {
      assert.equal(verifyClient(pki, join(fleet, d)).code, 0);
      assert.equal(
        opensslOk(['x509', '-in', join(fleet, d, 'certificate.crt'), '-noout', '-pubkey']),
        opensslOk(['pkey', '-in', join(fleet, d, 'private-key.pem'), '-pubout']),
      );
    }
    assert.match(all.json.next, /^mtls-kit crl --dir /);

    const revoked = await runCli(['list', '--dir', pki, '--revoked', '--json']);
    assert.equal(revoked.json.count, 3);
    assert.ok(revoked.json.certificates.every((c: {reason: string}) => c.reason === 'superseded'));
    const table = await runCli(['list', '--dir', pki]);
    assert.equal(table.code, 0);
    assert.match(table.stdout, /^STATUS\s+EXPIRES\s+DAYS\s+SERIAL\s+TIER\s+SUBJECT/);
    assert.match(table.stdout, new RegExp(`^revoked\\s+\\S+\\s+-?\\d+\\s+${all.json.renewed[0].oldSerial}\\s+intermediate\\s+CN=r-1$`, 'm'));

    // openssl ca reads the same index and puts the revoked serials on its CRL.
    const conf = join(tmp, 'ca.cnf');
    writeFileSync(conf, `[ca]\ndefault_ca=x\n[x]\ndatabase=${join(pki, 'intermediate', 'index.txt')}\ndefault_md=sha256\ndefault_crl_days=1\n`);
    const crl = join(tmp, 'openssl-crl.pem');
    opensslOk(['ca', '-gencrl', '-config', conf, '-keyfile', join(pki, 'intermediate', 'ca.key'), '-cert', join(pki, 'intermediate', 'ca.crt'), '-out', crl]);
    const crlText = opensslOk(['crl', '-in', crl, '-noout', '-text']);
    for (const c of all.json.renewed) assert.match(crlText, new RegExp(`Serial Number: ${c.oldSerial}`));
  });

  it('renew refuses a certificate another CA issued (exit 4); list rejects a bad duration (exit 2)', async () => {
    const other = join(tmp, 'other');
    assert.equal((await runCli(['gen-ca', '--dir', join(other, 'pki'), '--cn', 'Other Root'])).code, 0);
    assert.equal((await runCli(['gen-client', '--dir', join(other, 'pki'), '--cn', 'x', '--out', join(other, 'x')])).code, 0);
    const r = await runCli(['renew', join(other, 'x'), '--dir', pki, '--json']);
    assert.equal(r.code, 4);
    assert.equal(r.json.error.code, 'NOT_ISSUED_HERE');
    const l = await runCli(['list', '--dir', pki, '--expiring', 'soon']);
    assert.equal(l.code, 2);
  });
});

function readDer(csr: string): Buffer {
  const pem = readFileSync(csr, 'utf8');
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}
