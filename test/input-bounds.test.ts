/**
 * Bounds on work for hostile files (issue 25; src/lib/limits.ts INPUT_LIMITS): one planted
 * file per bound, each refused fast with exit 4 and INPUT_LIMIT naming the file and the
 * bound: any file over fileBytes (sparse), a PEM bundle over pemBundleBytes and over
 * pemBlocks, a CSR over csrBytes, BER indefinite lengths nested past berNesting, an index
 * line over indexLineChars, a plan file over planBytes, a header value over
 * headerValueBytes, a CRL over crlBytes and over crlEntries; and a 500,000-entry CRL (ALB's
 * per-trust-store quota) still loads.
 */
import assert from 'node:assert/strict';
import {closeSync, ftruncateSync, openSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {INPUT_LIMITS} from '../src/lib/limits.js';
import {encodeLength, encodeOid, TAG, tlv} from '../src/lib/x509/der.js';
import {parseCrl} from '../src/lib/x509/crl.js';
import {MtlsKitError} from '../src/lib/errors.js';
import {runCli} from './support/cli.js';
import {tempDir} from './support/tmp.js';
import {ca, client, name} from './support/x509-builder.js';

/** A sparse file of `bytes` (no disk used): size checks must refuse it before reading. */
function sparse(path: string, bytes: number, head = ''): string {
  writeFileSync(path, head);
  const fd = openSync(path, 'r+');
  ftruncateSync(fd, bytes);
  closeSync(fd);
  return path;
}

/** The refusal: exit 4, INPUT_LIMIT, the file and the bound named. */
function assertRefused(
  r: {code: number; json: {error?: {code: string; message: string}}; stderr: string},
  file: string,
  bound: keyof typeof INPUT_LIMITS,
): void {
  assert.equal(r.code, 4, r.stderr || JSON.stringify(r.json));
  assert.equal(r.json.error?.code, 'INPUT_LIMIT', JSON.stringify(r.json));
  assert.ok(r.json.error!.message.includes(file), r.json.error!.message);
  assert.ok(r.json.error!.message.includes(`INPUT_LIMITS.${bound} = `), r.json.error!.message);
}

/** A v2 CRL DER with `n` 22-byte entries (unique 3-byte serials), written straight into one buffer. */
function bigCrlDer(n: number): Uint8Array {
  const time = Buffer.from('\x17\x0d260101000000Z', 'latin1');
  const alg = tlv(TAG.SEQUENCE, encodeOid('1.2.840.10045.4.3.2'));
  const prefix = Buffer.concat([tlv(TAG.INTEGER, Uint8Array.of(1)), alg, name('big'), time, time]);
  const entriesLen = 22 * n;
  const hdr = (len: number): Buffer => Buffer.concat([Uint8Array.of(0x30), encodeLength(len)]);
  const entriesHdr = hdr(entriesLen);
  const tbsLen = prefix.length + entriesHdr.length + entriesLen;
  const tbsHdr = hdr(tbsLen);
  const tail = Buffer.concat([alg, Uint8Array.of(0x03, 0x01, 0x00)]);
  const outerHdr = hdr(tbsHdr.length + tbsLen + tail.length);
  const out = Buffer.alloc(outerHdr.length + tbsHdr.length + tbsLen + tail.length);
  let p = 0;
  for (const part of [outerHdr, tbsHdr, prefix, entriesHdr]) p += part.copy(out, p);
  const start = p;
  Buffer.concat([Uint8Array.of(0x30, 20, 0x02, 3, 0, 0, 0), time]).copy(out, p);
  for (let done = 1; done < n; done *= 2) out.copyWithin(start + 22 * done, start, start + 22 * Math.min(done, n - done));
  for (let i = 0; i < n; i++, p += 22) {
    const s = 0x010000 + (i % 0x7f0000);
    out[p + 4] = s >> 16;
    out[p + 5] = (s >> 8) & 0xff;
    out[p + 6] = s & 0xff;
  }
  tail.copy(out, p);
  return out;
}

describe('input bounds (INPUT_LIMITS)', () => {
  const tmp = tempDir();
  const root = ca('Bounds Root');
  const leaf = client('bounds-leaf', root);

  it('fileBytes: a 257 MiB (sparse) file is refused before it is read', async () => {
    const f = sparse(join(tmp, 'huge.pem'), INPUT_LIMITS.fileBytes + 1, '-----BEGIN CERTIFICATE-----\n');
    assertRefused(await runCli(['inspect', f, '--json']), f, 'fileBytes');
    const anchors = join(tmp, 'anchors.pem');
    writeFileSync(anchors, root.pem);
    assertRefused(await runCli(['verify', f, '--trust-store', anchors, '--skip-crl', '--json']), f, 'fileBytes');
  });

  it('pemBundleBytes: a 17 MiB certificate bundle', async () => {
    const f = join(tmp, 'bundle-big.pem');
    writeFileSync(f, leaf.pem + `${'x'.repeat(1023)}\n`.repeat(17 * 1024));
    assertRefused(await runCli(['encode-header', f, '--json']), f, 'pemBundleBytes');
  });

  it('pemBlocks: 10,001 certificates in one file', async () => {
    const f = join(tmp, 'bundle-many.pem');
    writeFileSync(f, root.pem.repeat(INPUT_LIMITS.pemBlocks + 1));
    const leafFile = join(tmp, 'leaf.pem');
    writeFileSync(leafFile, leaf.pem);
    assertRefused(await runCli(['verify', leafFile, '--trust-store', f, '--skip-crl', '--json']), f, 'pemBlocks');
  });

  it('csrBytes: a CSR file over 1 MiB', async () => {
    const pki = join(tmp, 'pki');
    assert.equal((await runCli(['gen-ca', '--dir', pki])).code, 0);
    const csr = await runCli(['gen-client', '--dir', pki, '--cn', 'x', '--csr-only', '--out', join(tmp, 'x')]);
    const csrFile = join(tmp, 'big.csr');
    const pem =
      csr.code === 0 ? readFileSync(join(tmp, 'x', 'request.csr'), 'utf8') : '-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n';
    writeFileSync(csrFile, pem + `${'#'.repeat(1023)}\n`.repeat(1025));
    assertRefused(await runCli(['sign', csrFile, '--dir', pki, '--out', join(tmp, 'signed'), '--json']), csrFile, 'csrBytes');
  });

  it('berNesting: 40 nested BER indefinite lengths', async () => {
    const f = join(tmp, 'nested.der');
    writeFileSync(f, Buffer.concat([Buffer.from('3080'.repeat(40), 'hex'), Buffer.alloc(80)]));
    const r = await runCli(['inspect', f, '--json']);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.json.error.message, /nested\.der/);
    assert.match(r.json.error.message, /INPUT_LIMITS\.berNesting = 32/);
  });

  it('indexLineChars: a 70,000-character index line (list and revoke)', async () => {
    const pki = join(tmp, 'pki-index');
    assert.equal((await runCli(['gen-ca', '--dir', pki])).code, 0);
    const index = join(pki, 'root', 'index.txt');
    writeFileSync(index, `V\t270101000000Z\t\t01\tunknown\t/CN=${'a'.repeat(70_000)}\n`);
    assertRefused(await runCli(['list', '--dir', pki, '--json']), index, 'indexLineChars');
    assertRefused(await runCli(['revoke', '01', '--dir', pki, '--json']), index, 'indexLineChars');
  });

  it('planBytes: a 65 MiB (sparse) plan file', async () => {
    const f = sparse(join(tmp, 'plan.json'), INPUT_LIMITS.planBytes + 1, '{');
    assertRefused(
      await runCli(['deploy', '--plan', f, '--json'], {env: {AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x'}}),
      f,
      'planBytes',
    );
  });

  it('headerValueBytes: a 1.1 MB header value given to decode-header', async () => {
    const f = join(tmp, 'headers.txt');
    writeFileSync(f, `X-Amzn-Mtls-Clientcert-Leaf: ${'A'.repeat(1_100_000)}\n`);
    assertRefused(await runCli(['decode-header', '--file', f, '--skip-crl', '--json']), f, 'headerValueBytes');
  });

  it('crlBytes and crlEntries refuse before the work; a 500,000-entry CRL still loads', () => {
    const refused = (fn: () => unknown, bound: string): void =>
      assert.throws(
        fn,
        (e: unknown) =>
          e instanceof MtlsKitError && e.code === 'INPUT_LIMIT' && e.message.includes(`big.crl: `) && e.message.includes(`INPUT_LIMITS.${bound} = `),
      );
    refused(() => parseCrl(new Uint8Array(INPUT_LIMITS.crlBytes + 1), 'big.crl'), 'crlBytes');
    refused(() => parseCrl(bigCrlDer(INPUT_LIMITS.crlEntries + 1), 'big.crl'), 'crlEntries');
    const ok = parseCrl(bigCrlDer(500_000), 'alb-quota.crl');
    assert.equal(ok.revoked.size, 500_000);
  });
});
