/**
 * decode-header --trust-store / --crl: ALB's verdict on the decoded chain (src/lib/alb/verify.ts).
 */
import assert from 'node:assert/strict';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {runCli} from './support/cli.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const dir = tempDir();
const pki = await makeTestCa(dir, {intermediate: true, maker: 'openssl', cn: 'Header Root'});
const other = await makeTestCa(join(dir, 'other'), {intermediate: true, maker: 'openssl', cn: 'Header Root'});

describe('decode-header --trust-store', () => {
  async function headersFor(pemPath: string): Promise<string> {
    const enc = await runCli(['encode-header', pemPath]);
    assert.equal(enc.code, 0, enc.stderr);
    return enc.stdout;
  }

  it('a leaf of the trust store verifies (exit 0, Success)', async () => {
    const leaf = pki.opensslLeaf('/CN=trusted');
    const r = await runCli(['decode-header', '--trust-store', pki.bundle, '--json'], {input: await headersFor(leaf.path)});
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.json.verified, true);
    assert.equal(r.json.sets[0].verification.status, 'Success');
  });

  it("a leaf of another CA fails with exit 3 and ALB's code", async () => {
    const leaf = other.opensslLeaf('/CN=stranger');
    const r = await runCli(['decode-header', '--trust-store', pki.bundle, '--json'], {input: await headersFor(leaf.path)});
    assert.equal(r.code, 3);
    assert.equal(r.json.verified, false);
    assert.equal(r.json.sets[0].verification.status, 'Failed:ClientCertUntrusted');
    const human = await runCli(['decode-header', '--trust-store', pki.bundle], {input: await headersFor(leaf.path)});
    assert.equal(human.code, 3);
    assert.match(human.stdout, /ALB verdict: Failed:ClientCertUntrusted/);
  });

  it('a revoked leaf fails with ClientCertCrlHit (--crl, made by openssl ca)', async () => {
    const leaf = pki.opensslLeaf('/CN=revoked', {name: 'revoked'});
    pki.revokeSerial(leaf.cert.serialHex);
    pki.opensslCrl();
    const crl = join(dir, 'intermediate', 'crl.pem');
    const r = await runCli(['decode-header', '--trust-store', pki.bundle, '--crl', crl, '--json'], {input: await headersFor(leaf.path)});
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.equal(r.json.sets[0].verification.status, 'Failed:ClientCertCrlHit');
  });
});
