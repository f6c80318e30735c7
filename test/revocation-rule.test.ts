/**
 * One revocation rule for every command (io/ca/trust-crls.ts, aws-reference 12.4): a trust
 * store that is the CA directory's bundle, by default or given with --trust-store, brings that
 * directory's CRLs, so a client the directory's CRL revokes is never "Success" from verify,
 * inspect, decode-header, probe or lint; a bundle outside a CA directory brings none, and the verdict
 * says "revocation not checked".
 */
import assert from 'node:assert/strict';
import {copyFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {runCli} from './support/cli.js';
import {opensslServerCert, startOpensslServer} from './support/tls-peers.js';
import {tempDir} from './support/tmp.js';

describe('a revoked client is never Success when the CA directory says so, from any command', () => {
  const work = tempDir();
  const run = (args: string[], input?: string) => runCli(args, {cwd: work, ...(input === undefined ? {} : {input})});
  let server: {port: number; stop: () => void} | undefined;

  before(async () => {
    for (const args of [
      ['gen-ca', '--intermediate'],
      ['gen-client', '--cn', 'revoked-1', '--out', 'revoked-1'],
      ['revoke', '--cert', 'revoked-1/certificate.crt'],
      ['crl'],
    ]) {
      const r = await run(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
    copyFileSync(join(work, 'pki/ca-bundle.pem'), join(work, 'foreign-bundle.pem'));
    const headers = await run(['encode-header', 'revoked-1/chain.pem', '--mode', 'passthrough']);
    assert.equal(headers.code, 0, headers.stderr);
    writeFileSync(join(work, 'headers.txt'), headers.stdout);
    // A TLS server that asks for a client certificate and accepts any (openssl s_server -verify).
    const srv = opensslServerCert(work);
    server = await startOpensslServer(['-cert', srv.cert, '-key', srv.key, '-verify', '1']);
  });
  after(() => server?.stop());

  for (const trust of [[], ['--trust-store', 'pki/ca-bundle.pem']]) {
    const how = trust.length ? 'given with --trust-store' : 'by default';
    it(`verify (the bundle ${how}): Failed:ClientCertCrlHit`, async () => {
      const r = await run(['verify', 'revoked-1/chain.pem', ...trust, '--json']);
      assert.equal(r.code, 3, r.stdout + r.stderr);
      assert.equal(r.json.status, 'Failed:ClientCertCrlHit');
      assert.equal(r.json.revocationChecked, true);
      assert.equal(r.json.crlSource, 'ca-directory');
    });
  }

  it('inspect --trust-store pki/ca-bundle.pem: Failed:ClientCertCrlHit (ALB and NLB), never Success; --crl and --skip-crl as verify', async () => {
    for (const target of ['alb', 'nlb']) {
      const r = await run(['inspect', 'revoked-1/chain.pem', '--trust-store', 'pki/ca-bundle.pem', '--target', target, '--json']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(r.json.verdict.status, 'Failed:ClientCertCrlHit', target);
      assert.equal(r.json.verdict.policy, `${target}-verify`);
      assert.equal(r.json.verdict.revocationChecked, true);
      assert.equal(r.json.verdict.crlSource, 'ca-directory');
      assert.ok(r.json.verdict.crls.some((c: string) => c.endsWith('intermediate/crl.pem')));
    }
    const human = await run(['inspect', 'revoked-1/chain.pem', '--trust-store', 'pki/ca-bundle.pem']);
    assert.match(human.stdout, /ALB verdict[^\n]*\nFailed:ClientCertCrlHit/);
    assert.doesNotMatch(human.stdout, /^Success/m);
    // --crl given: exactly those CRLs, as verify.
    const given = await run(['inspect', 'revoked-1/chain.pem', '--trust-store', 'foreign-bundle.pem', '--crl', 'pki/intermediate/crl.pem', '--json']);
    assert.equal(given.json.verdict.status, 'Failed:ClientCertCrlHit');
    assert.equal(given.json.verdict.crlSource, 'given');
    // --skip-crl: explicit, and the verdict says revocation was not checked.
    const skipped = await run(['inspect', 'revoked-1/chain.pem', '--trust-store', 'pki/ca-bundle.pem', '--skip-crl', '--json']);
    assert.equal(skipped.json.verdict.crlSource, 'skipped');
    assert.equal(skipped.json.verdict.revocationChecked, false);
    assert.ok(skipped.json.verdict.warnings.some((w: string) => w.startsWith('revocation not checked')));
  });

  it('decode-header --trust-store pki/ca-bundle.pem: Failed:ClientCertCrlHit, never Success', async () => {
    const r = await run(['decode-header', '--file', 'headers.txt', '--trust-store', 'pki/ca-bundle.pem']);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /ALB verdict: Failed:ClientCertCrlHit/);
    const j = await run(['decode-header', '--file', 'headers.txt', '--trust-store', 'pki/ca-bundle.pem', '--json']);
    assert.equal(j.json.sets[0].verification.status, 'Failed:ClientCertCrlHit');
    assert.equal(j.json.sets[0].verification.revocationChecked, true);
  });

  it('probe --trust-store pki/ca-bundle.pem: the offline verdict is Failed:ClientCertCrlHit though the server accepts', async () => {
    const url = `https://127.0.0.1:${server!.port}/`;
    const r = await run(['probe', url, '--client', 'revoked-1', '--trust-store', 'pki/ca-bundle.pem', '--json']);
    assert.equal(r.json.offlineVerdict.status, 'Failed:ClientCertCrlHit', r.stdout + r.stderr);
    assert.equal(r.json.offlineVerdict.revocationChecked, true);
    assert.ok(r.json.offlineVerdict.crls.some((c: string) => c.endsWith('intermediate/crl.pem')));
    const human = await run(['probe', url, '--client', 'revoked-1']);
    assert.match(human.stdout, /offline verify:\s+Failed:ClientCertCrlHit/);
    assert.doesNotMatch(human.stdout, /offline verify:\s+Success/);
  });

  it('lint pki/ca-bundle.pem with the client: ALB would log Failed:ClientCertCrlHit', async () => {
    const r = await run(['lint', 'pki/ca-bundle.pem', 'revoked-1/chain.pem', '--json']);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    const f = r.json.findings.find((x: {rule: string}) => x.rule === 'client-verify');
    assert.ok(f, JSON.stringify(r.json.findings));
    assert.match(f.message, /Failed:ClientCertCrlHit/);
  });

  it('a bundle outside a CA directory brings no CRL, and every verdict says revocation not checked', async () => {
    const v = await run(['verify', 'revoked-1/chain.pem', '--trust-store', 'foreign-bundle.pem', '--json']);
    assert.equal(v.json.status, 'Success');
    assert.equal(v.json.revocationChecked, false);
    assert.equal(v.json.crlSource, 'none');
    assert.ok(v.json.warnings.some((w: string) => w.startsWith('revocation not checked')));
    const vh = await run(['verify', 'revoked-1/chain.pem', '--trust-store', 'foreign-bundle.pem']);
    assert.match(vh.stdout.split('\n')[0]!, /^Success: .*\(revocation not checked\)$/);
    const d = await run(['decode-header', '--file', 'headers.txt', '--trust-store', 'foreign-bundle.pem']);
    assert.match(d.stdout, /ALB verdict: Success \(revocation not checked\)/);
    const p = await run(['probe', `https://127.0.0.1:${server!.port}/`, '--client', 'revoked-1', '--trust-store', 'foreign-bundle.pem']);
    assert.match(p.stdout, /offline verify:\s+Success \(revocation not checked\)/);
    const i = await run(['inspect', 'revoked-1/chain.pem', '--trust-store', 'foreign-bundle.pem']);
    assert.match(i.stdout, /\nSuccess: CN=revoked-1 is accepted \(revocation not checked\)/);
    const ij = await run(['inspect', 'revoked-1/chain.pem', '--trust-store', 'foreign-bundle.pem', '--json']);
    assert.equal(ij.json.verdict.crlSource, 'none');
    assert.equal(ij.json.verdict.revocationChecked, false);
    const l = await run(['lint', 'foreign-bundle.pem', 'revoked-1/chain.pem', '--json']);
    assert.ok(l.json.findings.some((x: {rule: string}) => x.rule === 'client-revocation-not-checked'));
    // --skip-crl is explicit, and said.
    const s = await run(['verify', 'revoked-1/chain.pem', '--skip-crl', '--json']);
    assert.equal(s.json.crlSource, 'skipped');
    assert.equal(s.json.revocationChecked, false);
  });
});
