/**
 * CloudFront's OCSP rules (src/lib/cloudfront/policy.ts, aws-reference 11.4) on a real CA
 * made by the CLI with --ocsp-url, answered over HTTP by mtls-kit's responder
 * (io/net/ocsp-responder.ts; test/ocsp.test.ts checks that responder against openssl).
 */
import assert from 'node:assert/strict';
import {createPrivateKey} from 'node:crypto';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {postOcspRequest} from '../src/io/net/ocsp-client.js';
import {type RunningOcspResponder, startOcspResponder} from '../src/io/net/ocsp-responder.js';
import {CLOUDFRONT_POLICY, checkChainOcsp, type OcspCache} from '../src/lib/cloudfront/policy.js';
import type {ParsedCertificate} from '../src/lib/x509/cert.js';
import {buildOcspResponse, parseOcspRequest} from '../src/lib/x509/ocsp.js';
import {readCertificates} from '../src/lib/x509/read-certs.js';
import {runCli} from './support/cli.js';
import {freePort} from './support/tls-peers.js';
import {tempDir} from './support/tmp.js';

const dir = tempDir();
const pki = join(dir, 'pki');
const certs = (path: string): ParsedCertificate[] => readCertificates(new Uint8Array(readFileSync(path)), path);
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const fetchOcsp = (u: string, der: Uint8Array) => postOcspRequest(u, der, {timeoutMs: 3000});
/** The path CloudFront builds: the client's chain.pem (leaf, intermediate), then the root from the trust store. */
const path = (name: string): ParsedCertificate[] => [...certs(join(dir, name, 'chain.pem')), certs(join(pki, 'root/ca.crt'))[0]!];

describe('CloudFront OCSP check of a chain (aws-reference 11.4)', () => {
  let responder: RunningOcspResponder;
  before(async () => {
    assert.equal((await runCli(['gen-ca', '--dir', pki, '--cn', 'CF Root', '--intermediate', '--ocsp-url', url])).code, 0);
    for (const name of ['good', 'revoked', 'gone'])
      assert.equal((await runCli(['gen-client', '--dir', pki, '--cn', name, '--out', join(dir, name), '--ocsp-url', url])).code, 0);
    assert.equal((await runCli(['gen-client', '--dir', pki, '--cn', 'no-url', '--out', join(dir, 'no-url')])).code, 0);
    assert.equal((await runCli(['revoke', '--dir', pki, '--cert', join(dir, 'revoked/certificate.crt'), '--reason', 'superseded'])).code, 0);
    // "gone": issued, then dropped from the index, so the responder does not know it.
    const idx = join(pki, 'intermediate/index.txt');
    const gone = certs(join(dir, 'gone/certificate.crt'))[0]!.serialHex;
    writeFileSync(
      idx,
      readFileSync(idx, 'utf8')
        .split('\n')
        .filter((l) => !l.includes(`\t${gone}\t`))
        .join('\n'),
    );
    responder = await startOcspResponder({dir: pki, host: '127.0.0.1', port});
  });
  after(() => responder?.close());

  it('the policy is data: OCSP, not CRLs; leaf + 3 intermediates; root not checked; URL required; fail closed', () => {
    assert.equal(CLOUDFRONT_POLICY.revocation.source, 'ocsp');
    assert.equal(CLOUDFRONT_POLICY.revocation.crls, false);
    assert.equal(CLOUDFRONT_POLICY.revocation.checkedCertificates, 4);
    assert.equal(CLOUDFRONT_POLICY.revocation.checkRoot, false);
    assert.equal(CLOUDFRONT_POLICY.revocation.onUnknownOrUnavailable, 'fail');
  });

  it('a good chain: the leaf and the intermediate are checked, the root is not', async () => {
    const r = await checkChainOcsp({path: path('good'), fetch: fetchOcsp, now: new Date()});
    assert.equal(r.ok, true, JSON.stringify(r.checks));
    assert.deepEqual(
      r.checks.map((c) => [c.position, c.outcome, c.url]),
      [
        [0, 'good', url],
        [1, 'good', url],
      ],
    );
  });

  it('revoked leaf, unknown leaf, leaf without an OCSP URL: each fails with its code', async () => {
    const revoked = await checkChainOcsp({path: path('revoked'), fetch: fetchOcsp, now: new Date()});
    assert.equal(revoked.code, 'OcspRevoked');
    assert.match(revoked.checks[0]!.detail, /revoked at .*Z \(superseded\)/);
    const unknown = await checkChainOcsp({path: path('gone'), fetch: fetchOcsp, now: new Date()});
    assert.equal(unknown.code, 'OcspUnknown');
    const noUrl = await checkChainOcsp({path: path('no-url'), fetch: fetchOcsp, now: new Date()});
    assert.equal(noUrl.code, 'OcspUrlMissing');
    assert.equal(noUrl.checks[1]!.outcome, 'good', 'the intermediate is still checked');
  });

  it('a revoked intermediate fails every chain under it; the cache keeps answers for 30 minutes', async () => {
    const cache: OcspCache = new Map();
    const now = new Date();
    assert.equal((await checkChainOcsp({path: path('good'), fetch: fetchOcsp, now, cache})).ok, true);
    assert.equal((await runCli(['revoke', '--dir', pki, '--issuer', 'root', '--cert', join(pki, 'intermediate/ca.crt'), '--reason', 'CACompromise'])).code, 0);
    // Within the cache period CloudFront (and the check) still sees "good" (aws-reference 11.4: up to 30 minutes).
    const cached = await checkChainOcsp({path: path('good'), fetch: fetchOcsp, now, cache});
    assert.equal(cached.ok, true);
    assert.match(cached.checks[1]!.detail, /cached/);
    const later = new Date(now.getTime() + 31 * 60_000);
    const fresh = await checkChainOcsp({path: path('good'), fetch: fetchOcsp, now: later, cache});
    // 31 minutes later the responder's own answers are still valid (1 hour), the intermediate is revoked.
    assert.equal(fresh.code, 'OcspRevoked');
    assert.equal(fresh.checks[1]!.outcome, 'revoked');
  });

  it('fail closed: responder down, or an answer not signed by the issuer', async () => {
    const closed = await freePort();
    const down = await checkChainOcsp({path: path('good'), fetch: (_u, der) => postOcspRequest(`http://127.0.0.1:${closed}`, der), now: new Date()});
    assert.equal(down.code, 'OcspUnavailable');
    // An answer for the right serial, nonce echoed, signed by the root: not the leaf's issuer (the intermediate).
    const root = certs(join(pki, 'root/ca.crt'))[0]!;
    const rootKey = createPrivateKey(readFileSync(join(pki, 'root/ca.key')));
    const forged = await checkChainOcsp({
      path: path('good'),
      fetch: async (_u, der) => {
        const req = parseOcspRequest(der);
        const now = new Date();
        return buildOcspResponse({
          answers: [{certIdDer: req.certIds[0]!.der, status: {status: 'good'}, thisUpdate: now, nextUpdate: new Date(now.getTime() + 60_000)}],
          signerCert: root,
          signerKey: rootKey,
          producedAt: now,
          ...(req.nonceExtension ? {nonceExtension: req.nonceExtension} : {}),
        });
      },
      now: new Date(),
    });
    assert.match(forged.checks[0]!.detail, /not signed by the certificate's issuer/);
    assert.equal(forged.code, 'OcspResponseInvalid');
  });
});
