/**
 * inspect --trust-store judges the file as verify does (flows/chain-verdict.ts: the same
 * policy, the same judgeChain, the same revocation rule): for a handful of chains (good,
 * expired, from another CA, too deep, revoked) and both verify targets, inspect's `verdict`
 * equals verify's result field for field. Also lint --target nlb: the client verdict is
 * NLB's (its policy and identity filters), where ALB's differs.
 */
import assert from 'node:assert/strict';
import {join} from 'node:path';
import {before, describe, it} from 'node:test';
import {buildDefect, type DefectKind} from '../src/lib/alb/defects.js';
import {KEY_TYPES} from '../src/lib/x509/profiles.js';
import {runCli} from './support/cli.js';
import {makeTestCaIn, type TestCa, writeDefect, writePem} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const SAME_FIELDS = ['status', 'code', 'target', 'policy', 'revocationChecked', 'crlSource', 'warnings', 'checks', 'path', 'trustStore', 'crls'] as const;

describe('inspect --trust-store: the verdict verify gives', () => {
  const work = tempDir();
  let ca: TestCa;
  const chains = new Map<string, string>();

  before(async () => {
    ca = await makeTestCaIn(work, {intermediate: true});
    const now = new Date();
    const kinds: DefectKind[] = ['expired', 'untrusted', 'too-deep', 'revoked'];
    for (const kind of kinds) chains.set(kind, (await writeDefect(ca, work, kind, now)).chain);
    const good = buildDefect({kind: 'revoked', issuer: ca.issuer, subject: [[{type: '2.5.4.3', value: 'good'}]], keySpec: KEY_TYPES['ec-p256'], days: 30, now});
    ca.recordInIndex(good.indexEntries);
    chains.set('good', writePem(join(work, 'good.crt'), [good.issued.certDer]));
    assert.equal((await runCli(['crl', '--dir', ca.dir])).code, 0);
  });

  for (const target of ['alb', 'nlb'] as const) {
    it(`${target}: good, expired, another CA, too deep and revoked chains get verify's verdict`, async () => {
      const statuses: string[] = [];
      for (const [name, chain] of chains) {
        const args = ['--trust-store', join(ca.dir, 'ca-bundle.pem'), '--dir', ca.dir, '--target', target, '--json'];
        const v = await runCli(['verify', chain, ...args]);
        const i = await runCli(['inspect', chain, ...args]);
        assert.equal(i.code, 0, i.stderr);
        assert.ok(i.json.verdict, `${name}: inspect printed no verdict`);
        // The two commands ran a moment apart: the time a validity check names is left out.
        const untimed = (x: unknown): unknown => JSON.parse(JSON.stringify(x).replace(/ \(checked at [^)]*\)/g, ''));
        for (const f of SAME_FIELDS) assert.deepEqual(untimed(i.json.verdict[f]), untimed(v.json[f]), `${name} (${target}): ${f}`);
        statuses.push(`${name} ${i.json.verdict.status}`);
        // Human output carries the same verdict line verify prints first.
        const h = await runCli(['inspect', chain, ...args.slice(0, -1)]);
        const vh = await runCli(['verify', chain, ...args.slice(0, -1)]);
        assert.ok(h.stdout.includes(`\n${vh.stdout.split('\n')[0]}\n`), `${name}: ${h.stdout}`);
      }
      // The chains do differ (a test where every verdict is Success proves nothing).
      assert.deepEqual(statuses.sort(), [
        'expired Failed:ClientCertExpired',
        'good Success',
        'revoked Failed:ClientCertCrlHit',
        'too-deep Failed:ClientCertMaxChainDepthExceeded',
        'untrusted Failed:ClientCertUntrusted',
      ]);
    });
  }

  it('--target apigw: the API Gateway policy, no CRL loaded, revocation not checked', async () => {
    const i = await runCli(['inspect', chains.get('revoked')!, '--trust-store', join(ca.dir, 'ca-bundle.pem'), '--dir', ca.dir, '--target', 'apigw', '--json']);
    assert.equal(i.json.verdict.policy, 'apigw');
    assert.deepEqual(i.json.verdict.crls, []);
    assert.equal(i.json.verdict.revocationChecked, false);
  });

  it('without --trust-store there is no verdict; --crl, --skip-crl and --target need it (exit 2)', async () => {
    const i = await runCli(['inspect', chains.get('good')!, '--json']);
    assert.equal(i.code, 0);
    assert.equal(i.json.verdict, undefined);
    // A file without certificates (a CRL) gets no verdict, and is told why.
    const crl = await runCli(['inspect', join(ca.dir, 'intermediate/crl.pem'), '--trust-store', ca.bundle, '--json']);
    assert.equal(crl.code, 0, crl.stderr);
    assert.equal(crl.json.verdict, undefined);
    assert.match(crl.stderr, /holds no certificate, so there is no verdict/);
    for (const extra of [['--skip-crl'], ['--target', 'nlb'], ['--crl', join(ca.dir, 'intermediate/crl.pem')]]) {
      const r = await runCli(['inspect', chains.get('good')!, ...extra]);
      assert.equal(r.code, 2, `${extra.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /--trust-store/);
    }
  });
});

describe('lint --target nlb judges clients by NLB_POLICY', () => {
  const work = tempDir();
  let ca: TestCa;
  let client: string;
  before(async () => {
    ca = await makeTestCaIn(work, {intermediate: true});
    assert.equal((await runCli(['gen-client', '--cn', 'sensor-1', '--out', join(work, 'sensor-1'), '--dir', ca.dir])).code, 0);
    client = join(work, 'sensor-1/chain.pem');
  });

  it('a client no identity filter admits: NLB refuses it (IdentityFilterNoMatch) where ALB accepts it', async () => {
    const bundle = join(ca.dir, 'ca-bundle.pem');
    const alb = await runCli(['lint', bundle, client, '--json']);
    assert.equal(alb.json.policy, 'alb-verify');
    assert.ok(!alb.json.findings.some((f: {rule: string}) => f.rule === 'client-verify'), JSON.stringify(alb.json.findings));
    const nlb = await runCli(['lint', bundle, client, '--target', 'nlb', '--identity-filter', 'subject-cn:prefix:device-', '--json']);
    assert.equal(nlb.code, 3, nlb.stdout);
    assert.equal(nlb.json.target, 'nlb');
    assert.equal(nlb.json.policy, 'nlb-verify');
    const f = nlb.json.findings.find((x: {rule: string}) => x.rule === 'client-verify');
    assert.ok(f, JSON.stringify(nlb.json.findings));
    assert.match(f.message, /^NLB would refuse it Failed:IdentityFilterNoMatch/);
    // The same client and filter through verify: the same code.
    const v = await runCli(['verify', client, '--trust-store', bundle, '--identity-filter', 'subject-cn:prefix:device-', '--json']);
    assert.equal(v.json.code, 'IdentityFilterNoMatch');
    // A filter that admits it: no client-verify error, still NLB's policy.
    const ok = await runCli(['lint', bundle, client, '--target', 'nlb', '--identity-filter', 'subject-cn:prefix:sensor-', '--json']);
    assert.equal(ok.json.policy, 'nlb-verify');
    assert.ok(!ok.json.findings.some((x: {rule: string}) => x.rule === 'client-verify'), JSON.stringify(ok.json.findings));
  });
});
