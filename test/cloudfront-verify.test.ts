/**
 * `verify --target cloudfront` and `lint --target cloudfront` (aws-reference 11): the path as
 * ALB's, then OCSP over every certificate but the root, asked of the responders the
 * certificates name: the real `mtls-kit ocsp` responder and `openssl ocsp -index` as peers
 * (good, revoked, no OCSP URL, responder down), answers given as files (`openssl ocsp
 * -respout`), and --skip-ocsp. Every responder a test starts is stopped by its process id.
 */
import assert from 'node:assert/strict';
import type {ChildProcess} from 'node:child_process';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {BIN, runCli} from './support/cli.js';
import {openssl} from './support/openssl.js';
import {startUntil, stopProcess} from './support/ready-process.js';
import {freePort} from './support/tls-peers.js';
import {tempDir} from './support/tmp.js';

const dir = tempDir();
const pki = join(dir, 'pki');
const bundle = join(pki, 'ca-bundle.pem');
const started: ChildProcess[] = [];
after(() => {
  for (const c of started) stopProcess(c);
});

const port = await freePort();
const url = `http://127.0.0.1:${port}`;
// A port nothing listens on: the responder of the "down" client.
const downUrl = `http://127.0.0.1:${await freePort()}`;

const verify = (name: string, extra: string[] = []) =>
  runCli(['verify', join(dir, name, 'chain.pem'), '--trust-store', bundle, '--target', 'cloudfront', ...extra]);

before(async () => {
  assert.equal((await runCli(['gen-ca', '--dir', pki, '--cn', 'CF Root', '--intermediate', '--ocsp-url', url])).code, 0);
  for (const [name, u] of [
    ['good', url],
    ['revoked', url],
    ['down', downUrl],
    ['nourl', undefined],
  ] as const) {
    const r = await runCli(['gen-client', '--dir', pki, '--cn', name, '--out', join(dir, name), ...(u ? ['--ocsp-url', u] : [])]);
    assert.equal(r.code, 0, r.stderr);
  }
  assert.equal((await runCli(['revoke', '--dir', pki, '--cert', join(dir, 'revoked/certificate.crt'), '--reason', 'keyCompromise'])).code, 0);
  await startUntil(process.execPath, [BIN, 'ocsp', '--dir', pki, '--listen', `127.0.0.1:${port}`, '--json'], /"url"/, 'stdout', {cwd: dir, started});
});

describe('verify --target cloudfront against mtls-kit ocsp', () => {
  it('good: Success, the leaf and the intermediate asked, the root not; revocation checked', async () => {
    const r = await verify('good', ['--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.json.status, 'Success');
    assert.equal(r.json.target, 'cloudfront');
    assert.equal(r.json.policy, 'cloudfront-viewer');
    assert.equal(r.json.revocationChecked, true);
    assert.equal(r.json.ocsp.source, 'responders');
    assert.deepEqual(
      r.json.ocsp.result.checks.map((c: {subject: string; outcome: string; url: string}) => [c.subject, c.outcome, c.url]),
      [
        ['CN=good', 'good', url],
        ['CN=CF Root Intermediate', 'good', url],
      ],
    );
    const human = await verify('good');
    assert.equal(human.code, 0);
    assert.match(human.stdout, /^Success: CN=good is accepted\n/);
    assert.match(human.stdout, /ocsp +CN=good: leaf serial [0-9A-F]+: good from http:\/\/127\.0\.0\.1:\d+/);
    assert.match(human.stdout, /OCSP from the responders named in the certificates \(the root is not checked\)/);
  });

  it('revoked: Failed:ClientCertRejected (exit 3) with OcspRevoked and the reason; the uncertain code is said', async () => {
    const r = await verify('revoked', ['--json']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.json.status, 'Failed:ClientCertRejected');
    assert.equal(r.json.ocsp.result.code, 'OcspRevoked');
    assert.match(r.json.ocsp.result.checks[0].detail, /keyCompromise/);
    assert.ok(r.json.warnings.some((w: string) => /UNCONFIRMED \(aws-reference 11\.7\)/.test(w)));
    const human = await verify('revoked');
    assert.equal(human.code, 3);
    assert.match(human.stdout, /^Failed:ClientCertRejected\n/);
    assert.match(human.stdout, /revoked from .*\[OcspRevoked\]/);
    assert.match(human.stdout, /fix: issue the client a new certificate/);
  });

  it('no OCSP URL in the client certificate: Failed (OcspUrlMissing); with --skip-ocsp it passes, revocation not checked', async () => {
    const r = await verify('nourl', ['--json']);
    assert.equal(r.code, 3);
    assert.equal(r.json.ocsp.result.code, 'OcspUrlMissing');
    assert.equal(r.json.ocsp.result.checks[0].outcome, 'no-ocsp-url');
    const skipped = await verify('nourl', ['--skip-ocsp']);
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.match(skipped.stdout, /^Success: CN=nourl is accepted \(revocation not checked\)/);
    assert.match(skipped.stderr, /revocation of CN=nourl not checked: --skip-ocsp/);
    const j = await verify('nourl', ['--skip-ocsp', '--json']);
    assert.equal(j.json.revocationChecked, false);
    assert.equal(j.json.ocsp.source, 'skipped');
    assert.equal(j.json.ocsp.result, null);
  });

  it('responder down: Failed:ClientCertRejected with OcspUnavailable naming the URL (fail closed, said so)', async () => {
    const r = await verify('down', ['--json']);
    assert.equal(r.code, 3);
    assert.equal(r.json.ocsp.result.code, 'OcspUnavailable');
    assert.match(r.json.ocsp.result.checks[0].detail, new RegExp(`${downUrl.replace(/[.:/]/g, '\\$&')} did not answer`));
    assert.equal(r.json.revocationChecked, false);
    assert.ok(r.json.warnings.some((w: string) => /fail-closed choice/.test(w)));
  });

  it("the purpose check is CloudFront's ClientCertIntentInvalid (ALB's ClientCertPurposeInvalid)", async () => {
    const g = await runCli(['gen-client', '--dir', pki, '--cn', 'server-only', '--out', join(dir, 'server-only'), '--defect', 'wrong-purpose']);
    assert.equal(g.code, 0, g.stderr);
    const cf = await verify('server-only', ['--skip-ocsp', '--json']);
    assert.equal(cf.code, 3);
    assert.equal(cf.json.status, 'Failed:ClientCertIntentInvalid');
    const alb = await runCli(['verify', join(dir, 'server-only', 'chain.pem'), '--trust-store', bundle, '--skip-crl', '--json']);
    assert.equal(alb.json.status, 'Failed:ClientCertPurposeInvalid');
  });

  it('CRL flags with cloudfront, OCSP flags without it: usage errors (exit 2) with their codes', async () => {
    const a = await verify('good', ['--crl', join(pki, 'intermediate/crl.pem'), '--json']);
    assert.equal(a.code, 2);
    assert.equal(a.json.error.code, 'CRL_NOT_USED');
    const b = await runCli(['verify', join(dir, 'good/chain.pem'), '--trust-store', bundle, '--skip-ocsp', '--json']);
    assert.equal(b.code, 2);
    assert.equal(b.json.error.code, 'OCSP_NEEDS_CLOUDFRONT');
  });
});

describe('verify --target cloudfront against openssl ocsp -index, and --ocsp-response files', () => {
  const pki2 = join(dir, 'pki2');
  let responder: ChildProcess;
  before(async () => {
    const p2 = await freePort();
    assert.equal((await runCli(['gen-ca', '--dir', pki2, '--cn', 'Root Only'])).code, 0);
    for (const name of ['o-good', 'o-bad'])
      assert.equal((await runCli(['gen-client', '--dir', pki2, '--cn', name, '--out', join(dir, name), '--ocsp-url', `http://127.0.0.1:${p2}`])).code, 0);
    assert.equal((await runCli(['revoke', '--dir', pki2, '--cert', join(dir, 'o-bad/certificate.crt'), '--reason', 'affiliationChanged'])).code, 0);
    const args = ['ocsp', '-index', join(pki2, 'root/index.txt'), '-CA', join(pki2, 'root/ca.crt'), '-rsigner', join(pki2, 'root/ca.crt')];
    args.push('-rkey', join(pki2, 'root/ca.key'), '-port', String(p2), '-ndays', '1');
    responder = (await startUntil('openssl', args, /waiting for OCSP client connections/i, 'stderr', {cwd: dir, started})).child;
    // Answers saved as files while the responder runs (openssl ocsp -respout), for --ocsp-response.
    for (const name of ['o-good', 'o-bad']) {
      const r = openssl(
        ['ocsp', '-issuer', join(pki2, 'root/ca.crt'), '-cert', join(dir, name, 'certificate.crt'), '-url', `http://127.0.0.1:${p2}`].concat([
          '-CAfile',
          join(pki2, 'ca-bundle.pem'),
          '-respout',
          join(dir, `${name}.der`),
        ]),
      );
      assert.equal(r.code, 0, r.stderr);
    }
  });

  const v2 = (name: string, extra: string[] = []) =>
    runCli(['verify', join(dir, name, 'chain.pem'), '--trust-store', join(pki2, 'ca-bundle.pem'), '--target', 'cloudfront', '--json', ...extra]);

  it('good exits 0, revoked exits 3 with the reason openssl answered', async () => {
    const good = await v2('o-good');
    assert.equal(good.code, 0, good.stdout + good.stderr);
    assert.deepEqual(
      good.json.ocsp.result.checks.map((c: {outcome: string}) => c.outcome),
      ['good'],
    );
    const bad = await v2('o-bad');
    assert.equal(bad.code, 3);
    assert.equal(bad.json.ocsp.result.code, 'OcspRevoked');
    assert.match(bad.json.ocsp.result.checks[0].detail, /affiliationChanged/);
  });

  it('--ocsp-response: the saved answers decide with the responder stopped; an answer for another certificate does not', async () => {
    stopProcess(responder);
    const good = await v2('o-good', ['--ocsp-response', join(dir, 'o-good.der')]);
    assert.equal(good.code, 0, good.stdout + good.stderr);
    assert.equal(good.json.ocsp.source, 'responses');
    assert.match(good.json.ocsp.result.checks[0].detail, /given response/);
    const bad = await v2('o-bad', ['--ocsp-response', join(dir, 'o-bad.der')]);
    assert.equal(bad.code, 3);
    assert.equal(bad.json.ocsp.result.code, 'OcspRevoked');
    const other = await v2('o-bad', ['--ocsp-response', join(dir, 'o-good.der')]);
    assert.equal(other.code, 3);
    assert.equal(other.json.ocsp.result.code, 'OcspUnavailable');
    assert.match(other.json.ocsp.result.checks[0].detail, /no given OCSP response answers for serial/);
  });
});

describe('lint --target cloudfront', () => {
  it('a client without an OCSP URL is an error; --skip-ocsp allows it; the verdict is CloudFront\u2019s without revocation', async () => {
    const r = await runCli(['lint', bundle, join(dir, 'nourl/chain.pem'), '--target', 'cloudfront', '--json']);
    assert.equal(r.code, 3, r.stdout);
    assert.equal(r.json.target, 'cloudfront');
    const missing = r.json.findings.filter((f: {rule: string}) => f.rule === 'ocsp-url-missing');
    assert.deepEqual(
      missing.map((f: {certificate: string}) => f.certificate),
      ['CN=nourl'],
    );
    const ok = await runCli(['lint', bundle, join(dir, 'nourl/chain.pem'), '--target', 'cloudfront', '--skip-ocsp', '--verbose']);
    assert.equal(ok.code, 0, ok.stdout);
    assert.match(ok.stdout, /pass CloudFront's checks/);
    assert.match(ok.stdout, /CloudFront would accept the path \(revocation not checked: lint asks no OCSP responder\)/);
  });

  it('a CRL is reported as unused, and a trust-store intermediate without an OCSP URL fails; a good client passes', async () => {
    const plain = join(dir, 'plain');
    assert.equal((await runCli(['gen-ca', '--dir', plain, '--cn', 'No OCSP', '--intermediate'])).code, 0);
    assert.equal((await runCli(['crl', '--dir', plain])).code, 0);
    const r = await runCli(['lint', join(plain, 'ca-bundle.pem'), join(plain, 'intermediate/crl.pem'), '--target', 'cloudfront', '--json']);
    assert.equal(r.code, 3, r.stdout);
    const rules = r.json.findings.map((f: {rule: string; certificate?: string}) => `${f.rule} ${f.certificate ?? ''}`.trim());
    assert.ok(rules.includes('crl-not-used'), rules.join('\n'));
    assert.ok(rules.includes('ocsp-url-missing CN=No OCSP Intermediate'), rules.join('\n'));
    // The root is never asked (aws-reference 11.4): no finding for it.
    assert.ok(!rules.includes('ocsp-url-missing CN=No OCSP'), rules.join('\n'));
    const good = await runCli(['lint', bundle, join(dir, 'good/chain.pem'), '--target', 'cloudfront']);
    assert.equal(good.code, 0, good.stdout);
    assert.match(good.stdout, /pass CloudFront's checks/);
  });

  it('--skip-ocsp without --target cloudfront is a usage error', async () => {
    const r = await runCli(['lint', bundle, '--skip-ocsp']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--skip-ocsp applies to CloudFront/);
  });
});
