/**
 * decode-header and encode-header as a user runs them (bin/run.js): round trips in every
 * mode and format, --json shapes, exit codes, stdin, renamed headers.
 */
import assert from 'node:assert/strict';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {readCertificates} from '../src/lib/x509/read-certs.js';
import {runCli} from './support/cli.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const dir = tempDir();
const pki = await makeTestCa(dir, {intermediate: true, maker: 'openssl', cn: 'Header Root'});
const leaf = pki.opensslLeaf('/C=EE/O=Test, Inc./CN=M\u00c4NNIK\\+cli');
const chainPath = join(dir, 'chain.pem');
writeFileSync(chainPath, leaf.pem + pki.intermediatePem!);
const pemOf = (p: string) => readCertificates(new Uint8Array(Buffer.from(p)), 'x').map((c) => Buffer.from(c.der).toString('base64'));

describe('encode-header → decode-header round trip', () => {
  for (const mode of ['verify', 'passthrough', 'apigw'] as const) {
    for (const format of ['lines', 'curl', 'json'] as const) {
      if (mode === 'apigw' && format === 'curl') continue; // clientCert is not a header; see the next test
      it(`--mode ${mode} --format ${format}`, async () => {
        const enc = await runCli(['encode-header', chainPath, '--mode', mode, '--format', format]);
        assert.equal(enc.code, 0, enc.stderr);
        const file = join(dir, `enc-${mode}-${format}.txt`);
        writeFileSync(file, enc.stdout);
        const dec = await runCli(['decode-header', '--file', file, '--json']);
        assert.equal(dec.code, 0, dec.stderr + dec.stdout);
        const set = dec.json.sets[0];
        assert.equal(dec.json.sets.length, 1);
        assert.deepEqual(set.warnings, []);
        const want = mode === 'passthrough' ? pemOf(leaf.pem + pki.intermediatePem!) : pemOf(leaf.pem);
        assert.deepEqual(
          set.certificates.map((c: {pem: string}) => pemOf(c.pem)[0]),
          want,
        );
        assert.equal(set.mode, mode);
        assert.ok(set.checks.every((c: {matches: boolean}) => c.matches === true));
      });
    }
  }

  it('--mode apigw --format curl prints X-Client-Cert-Sub, which decodes on its own', async () => {
    const enc = await runCli(['encode-header', leaf.path, '--mode', 'apigw', '--format', 'curl']);
    assert.equal(enc.code, 0);
    assert.equal(enc.stdout.trim(), "-H 'X-Client-Cert-Sub: C=EE,O=Test\\, Inc.,CN=M\u00c4NNIK\\+cli'");
    const dec = await runCli(['decode-header', '--json'], {input: enc.stdout});
    assert.equal(dec.code, 0, dec.stderr);
    assert.equal(dec.json.sets[0].mode, 'client-cert-sub');
    assert.equal(dec.json.sets[0].checks[0].text, 'C=EE, O="Test, Inc.", CN="MÄNNIK+cli"');
  });

  it('--header-map renames on both sides', async () => {
    const enc = await runCli(['encode-header', leaf.path, '--header-map', 'leaf=X-Client-Leaf', '--header-map', 'subject=X-Client-Subject']);
    assert.match(enc.stdout, /^X-Client-Subject: /m);
    assert.match(enc.stdout, /^X-Client-Leaf: -----BEGIN%20CERTIFICATE-----%0A/m);
    const plain = await runCli(['decode-header', '--json'], {input: enc.stdout});
    assert.equal(plain.json.sets[0].certificates.length, 0);
    const mapped = await runCli(['decode-header', '--json', '--header-map', 'leaf=X-Client-Leaf,subject=X-Client-Subject'], {input: enc.stdout});
    assert.equal(mapped.code, 0);
    assert.equal(mapped.json.sets[0].certificates.length, 1);
    assert.equal(mapped.json.sets[0].checks.length, 4);
  });

  it('encode-header --json shape', async () => {
    const r = await runCli(['encode-header', leaf.path, '--mode', 'apigw', '--json']);
    assert.equal(r.code, 0);
    assert.deepEqual(Object.keys(r.json).sort(), ['certificates', 'clientCert', 'format', 'headers', 'mode', 'target']);
    assert.equal(r.json.clientCert.subjectDN, 'C=EE,O=Test\\, Inc.,CN=M\\C3\\84NNIK\\+cli');
    assert.deepEqual(r.json.headers[0], {name: 'X-Client-Cert-Sub', value: 'C=EE,O=Test\\, Inc.,CN=M\u00c4NNIK\\+cli'});
    const v = await runCli(['encode-header', leaf.path, '--json']);
    assert.deepEqual(
      v.json.headers.map((h: {name: string}) => h.name),
      [
        'X-Amzn-Mtls-Clientcert-Serial-Number',
        'X-Amzn-Mtls-Clientcert-Issuer',
        'X-Amzn-Mtls-Clientcert-Subject',
        'X-Amzn-Mtls-Clientcert-Validity',
        'X-Amzn-Mtls-Clientcert-Leaf',
      ],
    );
    assert.equal(v.json.clientCert, null);
  });

  it('encode-header exit codes: 2 bad mode or a key instead of a certificate, 4 missing file', async () => {
    assert.equal((await runCli(['encode-header', leaf.path, '--mode', 'nope'])).code, 2);
    const missing = await runCli(['encode-header', join(dir, 'missing.pem')]);
    assert.equal(missing.code, 4);
    assert.match(missing.stderr, /missing\.pem does not exist/);
    writeFileSync(join(dir, 'key-only.pem'), '-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n');
    const key = await runCli(['encode-header', join(dir, 'key-only.pem')]);
    assert.equal(key.code, 2);
    assert.match(key.stderr, /key-only\.pem is a private key \(PEM\), not a certificate or chain/);
  });
});

describe('decode-header', () => {
  it('prints the certificate, the header checks and the warnings (human output)', async () => {
    const enc = await runCli(['encode-header', leaf.path]);
    const tampered = enc.stdout.replace(/^X-Amzn-Mtls-Clientcert-Subject: .*$/m, 'X-Amzn-Mtls-Clientcert-Subject: CN=admin');
    const r = await runCli(['decode-header'], {input: tampered});
    assert.equal(r.code, 0);
    assert.match(r.stdout, /ALB verify mode/);
    assert.match(r.stdout, /leaf \(X-Amzn-Mtls-Clientcert-Leaf\)/);
    assert.match(r.stdout, /subject: +CN=M\\C3\\84NNIK\\\+cli,O=Test\\, Inc\.,C=EE/);
    assert.match(r.stdout, /✗ CN=admin/);
    assert.match(r.stderr, /warning: X-Amzn-Mtls-Clientcert-Subject is "CN=admin".*edited or spoofed\?/);
  });

  it('takes the value as an argument', async () => {
    const r = await runCli([
      'decode-header',
      'serialNumber=PNOEE-47101010033,GN=MARILIIS,SN=M\\C3\\84NNIK,CN=M\\C3\\84NNIK\\,MARILIIS\\,47101010033,C=EE',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.input, 'value');
    assert.equal(r.json.readAs, 'X-Amzn-Mtls-Clientcert-Subject');
    assert.equal(r.json.sets[0].checks[0].text, 'serialNumber=PNOEE-47101010033, GN=MARILIIS, SN=MÄNNIK, CN="MÄNNIK,MARILIIS,47101010033", C=EE');
  });

  it('--json shape', async () => {
    const enc = await runCli(['encode-header', leaf.path]);
    const r = await runCli(['decode-header', '--json'], {input: enc.stdout});
    assert.deepEqual(Object.keys(r.json).sort(), ['input', 'readAs', 'sets', 'verified', 'warnings']);
    const s = r.json.sets[0];
    assert.deepEqual(Object.keys(s).sort(), ['certificates', 'checks', 'headers', 'mode', 'verification', 'warnings']);
    assert.deepEqual(Object.keys(s.checks[0]).sort(), ['expected', 'header', 'matches', 'role', 'text', 'value']);
    for (const k of ['subject', 'issuer', 'serial', 'validity', 'sha256Fingerprint', 'header', 'position', 'pem']) assert.ok(k in s.certificates[0], k);
    assert.equal(r.json.verified, null);
    assert.equal(s.verification, null);
  });

  it('exit 4 for a malformed value, naming the header and what is wrong', async () => {
    const r = await runCli(['decode-header', '-----BEGIN%20CERTIFICATE-----REMOVED-----END%20CERTIFICATE-----%0A']);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /X-Amzn-Mtls-Clientcert-Leaf cannot be decoded: certificate 1 is not base64/);
    const j = await runCli([
      'decode-header',
      'x-amzn-mtls-clientcert-leaf: -----BEGIN%20CERTIFICATE-----%0AMIIB%G0%0A-----END%20CERTIFICATE-----%0A',
      '--json',
    ]);
    assert.equal(j.code, 4);
    assert.equal(j.json.error.code, 'MALFORMED_HEADER');
    assert.match(j.json.error.message, /x-amzn-mtls-clientcert-leaf cannot be decoded: bad percent-escape "%G0"/);
  });

  it('exit 4 for a bare value that is nothing decode-header knows', async () => {
    const r = await runCli(['decode-header', 'hello world']);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /X-Client-Cert-Sub "hello world" is not a distinguished name/);
  });

  it('reads a UTF-16LE file with a BOM (PowerShell redirect)', async () => {
    const file = join(dir, 'utf16.txt');
    writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('X-Amzn-Mtls-Clientcert-Subject: CN=M\\C3\\84NNIK\r\n', 'utf16le')]));
    const r = await runCli(['decode-header', '--file', file, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.sets[0].checks[0].text, 'CN=MÄNNIK');
  });

  it('reads --file - as stdin', async () => {
    const r = await runCli(['decode-header', '--file', '-', '--json'], {input: 'X-Amzn-Mtls-Clientcert-Serial-Number: 03A5B1\n'});
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.sets[0].checks[0].value, '03A5B1');
  });

  it('exit 4 when no mTLS header is there, with the names it looked for', async () => {
    const r = await runCli(['decode-header', '--json'], {input: 'Host: example.com\nUser-Agent: curl/8\n'});
    assert.equal(r.code, 4);
    assert.equal(r.json.error.code, 'NO_MTLS_HEADERS');
    assert.match(r.json.error.message, /found Host, User-Agent/);
    assert.match(r.json.error.suggestions.join(' '), /--header-map/);
  });

  it('exit 2 for usage errors', async () => {
    assert.equal((await runCli(['decode-header', 'x', '--file', 'y'])).code, 2);
    assert.equal((await runCli(['decode-header', 'x', '--header-map', 'nope'])).code, 2);
    assert.equal((await runCli(['decode-header', 'x', '--crl', 'a.crl'])).code, 2);
    assert.equal((await runCli(['decode-header', 'x', '--no-such-flag'])).code, 2);
  });

  it('a PEM value (starting with -----BEGIN) is the argument, before or after flags, and after --', async () => {
    const pem = readFileSync(leaf.path, 'utf8');
    for (const args of [
      [pem, '--json'],
      ['--json', pem],
      ['--json', '--', pem],
    ]) {
      const r = await runCli(['decode-header', ...args]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.equal(r.json.sets[0].certificates.length, 1);
    }
  });

  it('--help goes through oclif', async () => {
    const r = await runCli(['decode-header', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--header-map/);
    assert.match(r.stdout, /Exit codes/);
  });

  it('a file of many requests decodes each one', async () => {
    const enc = await runCli(['encode-header', leaf.path]);
    const file = join(dir, 'many.txt');
    writeFileSync(file, Array.from({length: 50}, () => enc.stdout).join('\n'));
    const r = await runCli(['decode-header', '--file', file, '--json']);
    assert.equal(r.code, 0);
    assert.equal(r.json.sets.length, 50);
    assert.equal(r.json.warnings, 0);
  });
});
