/**
 * CloudFront's viewer mTLS headers (src/lib/cloudfront/headers.ts, aws-reference 11.6):
 * AWS's documented example values as test vectors, openssl as the oracle for every field,
 * decoding with spoof detection, and encode-header / decode-header --target cloudfront end to end.
 */
import assert from 'node:assert/strict';
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {parseCertificate} from '../src/lib/x509/cert.js';
import {encodeDnText} from '../src/lib/x509/dn.js';
import {formatSerialColonHex} from '../src/lib/x509/serial.js';
import {CLOUDFRONT_HEADERS as H, decodeCloudFrontHeaderSet, decodeRfc9440List, encodeCloudFrontHeaders, encodeRfc9440} from '../src/lib/cloudfront/headers.js';
import type {HeaderField} from '../src/lib/alb/headers.js';
import {readCertificates} from '../src/lib/x509/read-certs.js';
import {buildCert} from './support/cert-builder.js';
import {runCli} from './support/cli.js';
import {opensslOk} from './support/openssl.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const dir = tempDir();
const fields = (h: Array<[string, string]>): HeaderField[] => h.map(([name, value]) => ({name, value}));
const value = (h: Array<[string, string]>, name: string): string | undefined => h.find(([n]) => n === name)?.[1];

// The certificate AWS's example values describe (CF-headers): serial 4a:3f:5c:92:d1:e8:7b:6c,
// issuer CN=rootcamtls.com,..., subject CN=client_.com,..., validity 2023-09-21 → 2024-09-20.
const awsExample = parseCertificate(
  buildCert({
    serial: Buffer.from('4a3f5c92d1e87b6c', 'hex'),
    issuer: encodeDnText('CN=rootcamtls.com,OU=rootCA,O=mTLS,L=Seattle,ST=Washington,C=US'),
    subject: encodeDnText('CN=client_.com,OU=client-3,O=mTLS,ST=Washington,C=US'),
    notBefore: new Date('2023-09-21T01:50:17Z'),
    notAfter: new Date('2024-09-20T01:50:17Z'),
  }).der,
);

describe("AWS's documented example values (aws-reference 11.6)", () => {
  const h = encodeCloudFrontHeaders([awsExample], {mode: 'required'});

  it('are reproduced byte for byte, in the documented order', () => {
    assert.deepEqual(
      h.map(([n]) => n),
      [H.serial, H.issuer, H.subject, H.present, H.sha256, H.validity, H.pem],
    );
    assert.equal(value(h, H.serial), '4a:3f:5c:92:d1:e8:7b:6c');
    assert.equal(value(h, H.issuer), 'CN=rootcamtls.com,OU=rootCA,O=mTLS,L=Seattle,ST=Washington,C=US');
    assert.equal(value(h, H.subject), 'CN=client_.com,OU=client-3,O=mTLS,ST=Washington,C=US');
    assert.equal(value(h, H.present), '1');
    assert.equal(value(h, H.validity), 'NotBefore=2023-09-21T01:50:17Z;NotAfter=2024-09-20T01:50:17Z');
    // The example's hash is of AWS's own certificate; its form is 64 lower-case hex digits.
    assert.match('01fbf94fef5569753420c349f49adbfd80af5275377816e3ab1fb371b29cb586', /^[0-9a-f]{64}$/);
    assert.match(value(h, H.sha256)!, /^[0-9a-f]{64}$/);
    const pem = value(h, H.pem)!;
    assert.ok(pem.startsWith('-----BEGIN%20CERTIFICATE-----%0AMII'), pem.slice(0, 40));
    assert.ok(pem.endsWith('%0A-----END%20CERTIFICATE-----%0A'));
  });

  it('viewer requests (cache policies) carry no Validity and no Pem', () => {
    const v = encodeCloudFrontHeaders([awsExample], {mode: 'optional', originRequest: false});
    assert.deepEqual(
      v.map(([n]) => n),
      [H.serial, H.issuer, H.subject, H.present, H.sha256],
    );
  });

  it('a viewer without a certificate: Present 0 in optional and passthrough mode, nothing in required mode', () => {
    assert.deepEqual(encodeCloudFrontHeaders([], {mode: 'optional'}), [[H.present, '0']]);
    assert.deepEqual(encodeCloudFrontHeaders([], {mode: 'passthrough'}), [[H.present, '0']]);
    assert.throws(() => encodeCloudFrontHeaders([], {mode: 'required'}), /refuses a viewer without a certificate/);
  });
});

describe('every field equals what openssl prints for the same certificate', async () => {
  const pki = await makeTestCa(join(dir, 'ca'), {intermediate: true, maker: 'openssl', cn: 'CF Root'});
  const cases = [
    pki.opensslLeaf('/C=EE/O=Test, Inc./OU=a+OU=b/CN=M\u00c4NNIK "x" <y>;z', {serial: '0x00FEF257372D5C14D4', name: 'escapes'}),
    pki.opensslLeaf('/CN=small-serial', {serial: '0x0F', name: 'small'}),
    pki.opensslLeaf('/CN=high-bit', {serial: '0x80A1', name: 'highbit'}),
  ];
  for (const leaf of cases) {
    it(`${leaf.cert.serialHex}: serial, issuer, subject, SHA-256`, () => {
      const h = encodeCloudFrontHeaders([leaf.cert], {mode: 'required'});
      const o = opensslOk(['x509', '-in', leaf.path, '-noout', '-serial', '-issuer', '-subject', '-nameopt', 'RFC2253', '-fingerprint', '-sha256']).split('\n');
      const serial = o[0]!.replace('serial=', '');
      assert.equal(value(h, H.serial), serial.toLowerCase().match(/../g)!.join(':'));
      assert.equal(value(h, H.issuer), o[1]!.replace('issuer=', ''));
      assert.equal(value(h, H.subject), o[2]!.replace('subject=', ''));
      assert.equal(value(h, H.sha256), o[3]!.replace(/^.*=/, '').replaceAll(':', '').toLowerCase());
    });
  }

  it('formatSerialColonHex: whole bytes, no sign byte, "-" for a negative serial', () => {
    assert.equal(formatSerialColonHex(Uint8Array.of(0x00, 0x80, 0xa1)), '80:a1');
    assert.equal(formatSerialColonHex(Uint8Array.of(0x0f)), '0f');
    assert.equal(formatSerialColonHex(Uint8Array.of(0xff)), '-01');
  });

  it('passthrough: Client-Cert is the leaf and Client-Cert-Chain the certificates after it, as RFC 9440 byte sequences', () => {
    const chain = [cases[0]!.cert, readCertificates(new Uint8Array(Buffer.from(pki.intermediatePem!)), 'int')[0]!];
    const h = encodeCloudFrontHeaders(chain, {mode: 'passthrough'});
    assert.equal(value(h, H.pem), undefined);
    assert.equal(value(h, H.clientCert), `:${Buffer.from(chain[0]!.der).toString('base64')}:`);
    assert.equal(value(h, H.clientCertChain), `:${Buffer.from(chain[1]!.der).toString('base64')}:`);
    const set = decodeCloudFrontHeaderSet(fields(h))!;
    assert.equal(set.mode, 'cloudfront-passthrough');
    assert.deepEqual(set.warnings, []);
    assert.deepEqual(
      set.certificates.map((c) => [c.header, c.position, c.certificate.serialHex]),
      [
        [H.clientCert, 0, chain[0]!.serialHex],
        [H.clientCertChain, 1, chain[1]!.serialHex],
      ],
    );
    assert.ok(set.checks.every((c) => c.matches === true));
    // The DER the header carries is the file's DER (openssl reads it back).
    writeFileSync(join(dir, 'cc.der'), decodeRfc9440List(value(h, H.clientCert)!)[0]!);
    assert.match(opensslOk(['x509', '-inform', 'DER', '-in', join(dir, 'cc.der'), '-noout', '-serial']), new RegExp(chain[0]!.serialHex));
  });
});

describe('decoding: one request, checked against its leaf', () => {
  const good = encodeCloudFrontHeaders([awsExample], {mode: 'required'});

  it('decodes its own headers with every check matching and no warning, names in any case', () => {
    const set = decodeCloudFrontHeaderSet(fields(good.map(([n, v]) => [n.toLowerCase(), v])))!;
    assert.equal(set.mode, 'cloudfront');
    assert.deepEqual(set.warnings, []);
    assert.equal(set.certificates.length, 1);
    assert.equal(Buffer.compare(set.certificates[0]!.certificate.der, awsExample.der), 0);
    assert.equal(set.checks.length, 6);
    assert.ok(set.checks.every((c) => c.matches === true));
    assert.equal(set.checks.find((c) => c.role === 'issuer')!.text, 'CN=rootcamtls.com, OU=rootCA, O=mTLS, L=Seattle, ST=Washington, C=US');
  });

  it('plants edits and sees each caught: serial, subject, Sha256, Present 0, a duplicate, a bad byte sequence, mixed modes', () => {
    const edit = (name: string, v: string) => fields(good.map(([n, x]) => [n, n === name ? v : x]));
    const codes = (f: HeaderField[]) => decodeCloudFrontHeaderSet(f)!.warnings.map((w) => `${w.code}:${w.header}`);
    assert.deepEqual(codes(edit(H.serial, '4a:3f:5c:92:d1:e8:7b:6d')), [`MISMATCH:${H.serial}`]);
    assert.deepEqual(codes(edit(H.subject, 'CN=someone-else')), [`MISMATCH:${H.subject}`]);
    assert.deepEqual(codes(edit(H.sha256, '0'.repeat(64))), [`MISMATCH:${H.sha256}`]);
    assert.deepEqual(codes(edit(H.present, '0')), [`MISMATCH:${H.present}`]);
    assert.deepEqual(codes(edit(H.serial, '4A3F5C92D1E87B6C')), [`MALFORMED_HEADER:${H.serial}`, `MISMATCH:${H.serial}`]);
    assert.deepEqual(codes([...fields(good), {name: H.subject, value: 'CN=x'}]), [`DUPLICATE_HEADER:${H.subject}`]);
    assert.deepEqual(codes(fields([[H.clientCert, ':not base64!:']])), [`MALFORMED_HEADER:${H.clientCert}`]);
    assert.deepEqual(codes([...fields(good), {name: H.clientCert, value: encodeRfc9440(awsExample.der)}]), [`MIXED_MODES:${H.pem}, ${H.clientCert}`]);
    // Upper-case hex of the right serial is the same number: no mismatch.
    assert.deepEqual(codes(edit(H.serial, '4A:3F:5C:92:D1:E8:7B:6C')), []);
  });

  it('a request with Present 0 alone is a viewer without a certificate; no CloudFront header at all is undefined', () => {
    const set = decodeCloudFrontHeaderSet(fields([[H.present, '0']]))!;
    assert.deepEqual(set.warnings, []);
    assert.equal(set.checks[0]!.matches, null);
    assert.equal(decodeCloudFrontHeaderSet(fields([['X-Amzn-Mtls-Clientcert-Serial-Number', '01']])), undefined);
  });
});

describe('encode-header / decode-header --target cloudfront (bin/run.js)', async () => {
  const pki = await makeTestCa(join(dir, 'cli-ca'), {intermediate: true, maker: 'openssl', cn: 'CF CLI Root'});
  const leaf = pki.opensslLeaf('/O=Acme/CN=device-7', {name: 'cli'});

  it('encode-header prints the headers; decode-header reads them back with every check matching', async () => {
    const enc = await runCli(['encode-header', leaf.path, '--target', 'cloudfront']);
    assert.equal(enc.code, 0, enc.stderr);
    assert.match(enc.stdout, new RegExp(`^${H.serial}: ${formatSerialColonHex(leaf.cert.serial)}$`, 'm'));
    const dec = await runCli(['decode-header', '-', '--target', 'cloudfront', '--json'], {input: enc.stdout});
    assert.equal(dec.code, 0, dec.stderr);
    const s = dec.json.sets[0];
    assert.equal(s.mode, 'cloudfront');
    assert.equal(s.certificates[0].serial, leaf.cert.serialHex);
    assert.deepEqual(s.warnings, []);
    assert.ok(s.checks.length === 6 && s.checks.every((c: {matches: boolean}) => c.matches === true));
  });

  it('--json and passthrough mode; a spoofed subject is reported with its header', async () => {
    const enc = await runCli(['encode-header', leaf.path, '--target', 'cloudfront', '--mode', 'passthrough', '--json']);
    assert.equal(enc.code, 0, enc.stderr);
    assert.equal(enc.json.target, 'cloudfront');
    assert.equal(enc.json.mode, 'passthrough');
    assert.ok(enc.json.headers.some((h: {name: string}) => h.name === H.clientCert));
    const lines = enc.json.headers.map((h: {name: string; value: string}) => `${h.name}: ${h.name === H.subject ? 'CN=intruder' : h.value}`).join('\n');
    const dec = await runCli(['decode-header', '-', '--target', 'cloudfront', '--json'], {input: lines});
    assert.equal(dec.code, 0, dec.stderr);
    assert.deepEqual(
      dec.json.sets[0].warnings.map((w: {code: string; header: string}) => [w.code, w.header]),
      [['MISMATCH', H.subject]],
    );
  });

  it('bad combinations are usage errors (exit 2)', async () => {
    for (const args of [
      ['--target', 'cloudfront', '--mode', 'apigw'],
      ['--mode', 'required'],
      ['--target', 'cloudfront', '--header-map', 'leaf=X-Leaf'],
    ]) {
      const r = await runCli(['encode-header', leaf.path, ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    }
  });
});
