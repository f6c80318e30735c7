import assert from 'node:assert/strict';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {startAlbServer} from '../src/io/net/alb-listener.js';
import {startEchoBackend} from '../src/io/net/echo-backend.js';
import {encodeVerifyHeaders} from '../src/lib/alb/headers.js';
import {issueServerCertificate} from '../src/lib/pki/server-cert.js';
import {formatRfc2253} from '../src/lib/x509/dn.js';
import {readCertificates} from '../src/lib/x509/read-certs.js';
import {certParts, encode, pem, resign, tbsField} from './support/asn1-tree.js';
import {runCli} from './support/cli.js';
import {openssl, opensslOk} from './support/openssl.js';
import {curl, spawnServe, type SpawnedServe} from './support/serve.js';
import {type ClientFiles, makeTestCa, type TestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

/**
 * OpenSSL as the parsing gate, and the serve boundary: a client certificate whose subject
 * SET uses the BER indefinite length (OpenSSL's parser accepts it, and so does its
 * verifier) is verified, inspected and served with its subject rendered as openssl renders
 * it; an exception while a connection is judged or encoded ends that connection only.
 */
describe('OpenSSL gate: BER names, unreadable certificates, and serve under a failing client', () => {
  const tmp = tempDir();
  let ca: TestCa;
  let good: ClientFiles;
  let berCert: string;
  let berChain: string;

  before(async () => {
    ca = await makeTestCa(join(tmp, 'pki'), {cn: 'Gate Root'});
    good = await ca.client('device-good', {out: join(tmp, 'good')});
    const der = readCertificates(readFileSync(good.cert), good.cert)[0]!.der;
    const {tbs, sigAlg} = certParts(der);
    const subject = tbsField(tbs, 'subject');
    for (const set of subject.children!) set.indefinite = true;
    tbsField(tbs, 'serial').content = Buffer.from('0badbe7a11', 'hex');
    const ber = resign(tbs, sigAlg, ca.issuer.key, 'sha256');
    berCert = join(tmp, 'ber.crt');
    writeFileSync(berCert, pem(ber));
    berChain = berCert;
    assert.notEqual(
      Buffer.compare(encode(subject), Buffer.from(readCertificates(readFileSync(good.cert), good.cert)[0]!.subject)),
      0,
      'the subject is BER now',
    );
  });

  const serverIdentity = (): {certPem: string; keyPem: string} => {
    const i = ca.issuer;
    const r = issueServerCertificate({issuer: i.cert, issuerKey: i.key, issuerSpec: i.spec, hosts: ['localhost', '127.0.0.1'], now: new Date()});
    return {certPem: r.certPem, keyPem: r.keyPem};
  };

  const opensslSubject = (file: string): string =>
    opensslOk(['x509', '-in', file, '-noout', '-subject', '-nameopt', 'RFC2253'])
      .trim()
      .replace(/^subject=/, '');

  it('openssl accepts the BER-subject client; verify says Success, inspect renders the subject as openssl does', async () => {
    const o = openssl(['verify', '-partial_chain', '-purpose', 'sslclient', '-CAfile', ca.bundle, berCert]);
    assert.equal(o.code, 0, o.stdout + o.stderr);
    const v = await runCli(['verify', berChain, '--trust-store', ca.bundle, '--json']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.equal(JSON.parse(v.stdout).status, 'Success');
    const i = await runCli(['inspect', berCert, '--json']);
    assert.equal(i.code, 0, i.stderr);
    assert.equal(JSON.stringify(JSON.parse(i.stdout)).includes(JSON.stringify(opensslSubject(berCert)).slice(1, -1)), true, i.stdout);
  });

  it('inspect of bytes OpenSSL cannot parse: exit 4, one line naming the file', async () => {
    const der = readCertificates(readFileSync(good.cert), good.cert)[0]!.der;
    const broken = join(tmp, 'broken.pem');
    writeFileSync(broken, pem(Buffer.concat([der.subarray(0, 40), Buffer.from([0xa5, 0x03, 1, 2, 3]), der.subarray(40)])));
    const r = await runCli(['inspect', broken]);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.includes('broken.pem')).length >= 1,
      true,
      r.stderr,
    );
    const v = await runCli(['verify', broken, '--trust-store', ca.bundle, '--json']);
    assert.equal(v.code, 3, v.stderr);
    assert.equal(JSON.parse(v.stdout).status, 'Failed:ClientCertInvalid');
  });

  it('lint: a bundle holding a certificate nobody can read is an error, not info', async () => {
    const bundle = join(tmp, 'bad-bundle.pem');
    const rootDer = readCertificates(readFileSync(ca.rootCert), ca.rootCert)[0]!.der;
    const junk = Buffer.from(rootDer);
    junk[4] = 0x31; // tbsCertificate becomes a SET: OpenSSL refuses it
    writeFileSync(bundle, pem(rootDer) + pem(junk));
    const r = await runCli(['lint', bundle, '--json']);
    assert.notEqual(r.code, 0, r.stdout);
    assert.notEqual(r.code, 1, r.stderr);
    const findings = JSON.parse(r.stdout).findings as Array<{severity: string; rule: string}>;
    assert.ok(
      findings.some((f) => f.severity === 'error' && f.rule === 'certificate-invalid'),
      r.stdout,
    );
  });

  describe('serve', () => {
    let serve: SpawnedServe | undefined;
    after(() => serve?.stop());

    it('serves the BER-subject client with the subject header openssl would render, then the next client', async () => {
      serve = await spawnServe(['--dir', ca.dir, '--listen', '0:verify']);
      const url = serve.info.listeners[0]!.url;
      const r = await curl(url, {ca: ca.rootCert, cert: berCert, key: good.key});
      assert.equal(r.status, '200', r.stderr + serve.stderr());
      assert.equal(JSON.parse(r.body).headers['x-amzn-mtls-clientcert-subject'], opensslSubject(berCert));
      const g = await curl(url, {ca: ca.rootCert, cert: good.cert, key: good.key});
      assert.equal(g.status, '200', g.stderr);
    });

    it('a client whose handling throws is refused and logged with the reason; the next client is served', async () => {
      const backend = await startEchoBackend();
      const lines: string[] = [];
      const errors: string[] = [];
      const bad = readCertificates(readFileSync(berCert), berCert)[0]!;
      const server = await startAlbServer({
        host: '127.0.0.1',
        listeners: [{port: 0, mode: 'verify'}],
        ...serverIdentity(),
        judge: () => ({status: 'Success', ok: true}),
        verifyHeaders: (leaf) => {
          if (leaf.serialHex === bad.serialHex) throw new Error('encoding failed for this client');
          return encodeVerifyHeaders(leaf);
        },
        passthroughHeader: () => ['x-amzn-mtls-clientcert', ''],
        strip: new Set(),
        target: backend.url,
        log: (l) => lines.push(l),
        onError: (m) => errors.push(m),
      });
      try {
        const url = server.listeners[0]!.url;
        const r = await curl(url, {ca: ca.rootCert, cert: berCert, key: good.key});
        assert.notEqual(r.status, '200');
        assert.ok(
          errors.some((e) => e.includes('encoding failed for this client')),
          errors.join('\n'),
        );
        assert.ok(
          lines.some((l) => l.includes('Failed:ClientCertInvalid')),
          lines.join('\n'),
        );
        const g = await curl(url, {ca: ca.rootCert, cert: good.cert, key: good.key});
        assert.equal(g.status, '200', g.stderr);
        assert.equal(
          JSON.parse(g.body).headers['x-amzn-mtls-clientcert-subject'],
          formatRfc2253(readCertificates(readFileSync(good.cert), good.cert)[0]!.subject),
        );
      } finally {
        await server.close();
        await backend.close();
      }
    });
  });
});
