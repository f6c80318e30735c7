import assert from 'node:assert/strict';
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {before, describe, it} from 'node:test';
import {buildDefect, DEFECT_KINDS, type DefectKind} from '../src/lib/alb/defects.js';
import {KEY_TYPES} from '../src/lib/x509/profiles.js';
import {type DefectFiles, makeTestCaIn, type TestCa, writeDefect, writePem} from './support/test-pki.js';
import {runCli} from './support/cli.js';
import {openssl} from './support/openssl.js';
import {tempDir} from './support/tmp.js';

/**
 * openssl's verdict on the same files: -purpose sslclient for the clientAuth check,
 * -verify_depth 4 for ALB's depth quota, -crl_check_all with every CRL we have. The test
 * bundles hold the root, so the path runs to it as in verify.ts (with -partial_chain
 * openssl would stop at the intermediate and then find no CRL over it).
 */
function opensslVerify(ca: TestCa, chainFile: string, intermediates: string | undefined, crls: string[], extra: string[] = []): {ok: boolean; out: string} {
  const args = ['verify', '-CAfile', ca.bundle, '-purpose', 'sslclient', '-verify_depth', '4', ...extra];
  if (intermediates) args.push('-untrusted', intermediates);
  if (crls.length > 0) args.push('-crl_check_all', ...crls.flatMap((c) => ['-CRLfile', c]));
  args.push(chainFile);
  const r = openssl(args);
  return {ok: r.code === 0, out: r.stdout + r.stderr};
}

/** What openssl prints for the defects it can see (null: openssl has no equivalent check). */
const OPENSSL_ERROR: Record<DefectKind, RegExp | null> = {
  expired: /certificate has expired/,
  'not-yet-valid': /certificate is not yet valid/,
  untrusted: /unable to get local issuer certificate/,
  revoked: /certificate revoked/,
  'wrong-purpose': /unsuitable certificate purpose|unsupported certificate purpose/,
  'too-deep': /certificate chain too long/,
  'unsupported-key': null,
  v1: null,
};

describe('verify: every defect kind gives its ALB code, agreeing with openssl verify', () => {
  const work = tempDir();
  let ca: TestCa;
  let crls: string[];
  const made = new Map<DefectKind, DefectFiles>();
  let goodChain: string;

  before(async () => {
    ca = await makeTestCaIn(work, {intermediate: true});
    const now = new Date();
    for (const kind of DEFECT_KINDS) made.set(kind, await writeDefect(ca, work, kind, now));
    const good = buildDefect({kind: 'revoked', issuer: ca.issuer, subject: [[{type: '2.5.4.3', value: 'good'}]], keySpec: KEY_TYPES['ec-p256'], days: 30, now});
    ca.recordInIndex(good.indexEntries);
    goodChain = writePem(join(work, 'good.crt'), [good.issued.certDer]);
    assert.equal((await runCli(['crl', '--dir', ca.dir])).code, 0);
    assert.equal((await runCli(['crl', '--dir', ca.dir, '--issuer', 'root'])).code, 0);
    crls = [join(ca.dir, 'intermediate/crl.pem'), join(ca.dir, 'root/crl.pem')];
  });

  it('a good certificate: Success, exit 0, and openssl agrees', async () => {
    const r = await runCli(['verify', goodChain, '--trust-store', ca.bundle, ...crls.flatMap((c) => ['--crl', c]), '--json']);
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.json.status, 'Success');
    assert.equal(r.json.code, null);
    // AWS-LC stops at the first trust-store certificate (the intermediate in the bundle).
    assert.equal(r.json.path.length, 2);
    assert.equal(r.json.revocationChecked, true);
    assert.equal(r.json.policy, 'alb-verify');
    assert.ok(r.json.checks.every((c: {ok: boolean}) => c.ok));
    assert.ok(opensslVerify(ca, goodChain, undefined, crls).ok);
    const human = await runCli(['verify', goodChain, '--trust-store', ca.bundle]);
    assert.match(human.stdout.split('\n')[0]!, /^Success: CN=/);
  });

  for (const kind of DEFECT_KINDS) {
    it(`${kind}: Failed:<code> from verify (exit 3), openssl agrees where it has the check`, async () => {
      const m = made.get(kind)!;
      const r = await runCli(['verify', m.chain, '--trust-store', ca.bundle, ...crls.flatMap((c) => ['--crl', c]), '--json']);
      assert.equal(r.code, 3, r.stdout);
      assert.equal(r.json.status, m.material.expected);
      assert.equal(r.json.status, `Failed:${m.material.code}`);
      const failed = r.json.checks.find((c: {ok: boolean; code?: string}) => !c.ok && c.code === m.material.code);
      assert.ok(failed.fix, 'the failing check carries a fix');
      const human = await runCli(['verify', m.chain, '--trust-store', ca.bundle, ...crls.flatMap((c) => ['--crl', c])]);
      assert.equal(human.code, 3);
      assert.equal(human.stdout.split('\n')[0], m.material.expected);
      const o = opensslVerify(ca, m.leaf, m.intermediates, crls);
      const expected = OPENSSL_ERROR[kind];
      if (expected) {
        assert.equal(o.ok, false, `openssl should reject ${kind}: ${o.out}`);
        assert.match(o.out, expected);
      } else {
        // No openssl equivalent: ALB-only requirement (aws-reference 4.1); openssl accepts it.
        assert.equal(o.ok, true, o.out);
      }
    });
  }

  it('--ignore-expiry accepts the expired certificate (IgnoreClientCertificateExpiry)', async () => {
    const r = await runCli(['verify', made.get('expired')!.chain, '--trust-store', ca.bundle, '--ignore-expiry', '--json']);
    assert.equal(r.code, 0);
    assert.equal(r.json.status, 'Success');
  });

  it('--at agrees with openssl -attime (past expiry and before notBefore)', async () => {
    const later = new Date(Date.now() + 400 * 86_400_000);
    // --skip-crl: the CA directory's CRLs would have expired by then too (a CRL error comes first).
    const r = await runCli(['verify', goodChain, '--trust-store', ca.bundle, '--skip-crl', '--at', later.toISOString(), '--json']);
    assert.equal(r.json.status, 'Failed:ClientCertExpired');
    const o = opensslVerify(ca, goodChain, undefined, [], ['-attime', String(Math.floor(later.getTime() / 1000))]);
    assert.match(o.out, /certificate has expired/);
    const notYet = made.get('not-yet-valid')!;
    const inFuture = new Date(notYet.material.issued.parsed.notBefore.getTime() + 86_400_000);
    const r2 = await runCli(['verify', notYet.chain, '--trust-store', ca.bundle, '--skip-crl', '--at', inFuture.toISOString(), '--json']);
    assert.equal(r2.json.status, 'Success');
    assert.ok(opensslVerify(ca, notYet.leaf, undefined, [], ['-attime', String(Math.floor(inFuture.getTime() / 1000))]).ok);
  });

  it('a CRL with a bad signature, an expired CRL: ClientCertCrlProcessingError; openssl agrees', async () => {
    // The intermediate CRL re-signed by another CA of the same name = signature failure.
    const other = await makeTestCaIn(work, {intermediate: true});
    const forged = join(other.dir, 'intermediate/crl.pem');
    assert.equal((await runCli(['crl', '--dir', other.dir])).code, 0);
    const r = await runCli(['verify', goodChain, '--trust-store', ca.bundle, '--crl', forged, '--json']);
    assert.equal(r.json.status, 'Failed:ClientCertCrlProcessingError');
    const o = opensslVerify(ca, goodChain, undefined, [forged, crls[1]!]);
    // openssl matches CRLs by authority key id too, so the forged one is "not found".
    assert.match(o.out, /CRL signature failure|unable to get certificate CRL/);
    const later = new Date(Date.now() + 40 * 86_400_000);
    const r2 = await runCli(['verify', goodChain, '--trust-store', ca.bundle, '--crl', crls[0]!, '--at', later.toISOString(), '--ignore-expiry', '--json']);
    assert.equal(r2.json.status, 'Failed:ClientCertCrlProcessingError');
    assert.match(
      opensslVerify(ca, goodChain, undefined, crls, ['-attime', String(Math.floor(later.getTime() / 1000)), '-no_check_time']).out +
        opensslVerify(ca, goodChain, undefined, crls, ['-attime', String(Math.floor(later.getTime() / 1000))]).out,
      /CRL has expired/,
    );
  });

  it('a truncated chain (intermediate missing, not in the bundle) is ClientCertUntrusted, like openssl', async () => {
    const tooDeep = made.get('too-deep')!;
    // Present only the leaf of the deep chain: its issuer is nowhere.
    const r = await runCli(['verify', tooDeep.leaf, '--trust-store', ca.bundle, '--json']);
    assert.equal(r.json.status, 'Failed:ClientCertUntrusted');
    assert.match(r.json.checks.find((c: {name: string}) => c.name === 'path').detail, /neither in the trust store nor presented/);
    assert.match(opensslVerify(ca, tooDeep.leaf, undefined, []).out, /unable to get local issuer certificate/);
  });

  it('a malformed chain file is Failed:ClientCertInvalid, not a crash', async () => {
    const bad = join(work, 'bad.pem');
    writeFileSync(bad, '-----BEGIN CERTIFICATE-----\nMIIBnotbase64!!\n-----END CERTIFICATE-----\n');
    const r = await runCli(['verify', bad, '--trust-store', ca.bundle, '--json']);
    assert.equal(r.code, 3);
    assert.equal(r.json.status, 'Failed:ClientCertInvalid');
    const garbage = join(work, 'garbage.der');
    writeFileSync(garbage, Buffer.from([0x30, 0x82, 0x01]));
    const r2 = await runCli(['verify', garbage, '--trust-store', ca.bundle]);
    assert.equal(r2.code, 3);
    assert.match(r2.stdout, /^Failed:ClientCertInvalid/);
  });

  it('a missing trust store is a clear exit-4 error', async () => {
    const r = await runCli(['verify', goodChain, '--trust-store', join(work, 'nope.pem')]);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /nope\.pem does not exist/);
  });
});
