/**
 * verify and serve check the CA directory's current CRLs by default whenever they use its
 * bundle (as deploy uploads them), name the CRLs they used, and warn when the client
 * certificate's revocation was not checked.
 */
import assert from 'node:assert/strict';
import {copyFileSync} from 'node:fs';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {runCli} from './support/cli.js';
import {curl, spawnServe} from './support/serve.js';
import {tempDir} from './support/tmp.js';

describe("the CA directory's CRLs by default", () => {
  const work = tempDir();
  const run = (args: string[]) => runCli(args, {cwd: work});
  before(async () => {
    for (const args of [
      ['gen-ca', '--intermediate'],
      ['gen-client', '--cn', 'device-1', '--out', 'device-1'],
      ['gen-client', '--cn', 'device-2', '--out', 'device-2'],
    ]) {
      const r = await run(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
  });

  it('before any CRL: Success, with a warning that revocation was not checked', async () => {
    const r = await run(['verify', 'device-1/chain.pem']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Success: CN=device-1 is accepted/);
    assert.match(r.stdout, /no CRL \(revocation not checked\)/);
    assert.match(r.stderr, /warning: revocation of CN=device-1 not checked/);
    const j = await run(['verify', 'device-1/chain.pem', '--json']);
    assert.deepEqual(j.json.crls, []);
    assert.equal(j.json.checks.find((c: {name: string}) => c.name === 'revocation').notChecked, true);
  });

  it('after revoke and crl: verify fails with ClientCertCrlHit and names the CRL; --skip-crl and another --trust-store do not use it', async () => {
    assert.equal((await run(['revoke', '--cert', 'device-1/certificate.crt'])).code, 0);
    assert.equal((await run(['crl'])).code, 0);
    const r = await run(['verify', 'device-1/chain.pem']);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], 'Failed:ClientCertCrlHit');
    assert.match(lines[1]!, /✘ revocation .*CN=device-1/);
    assert.match(lines[2]!, /fix:/);
    assert.match(r.stdout, /CRLs pki\/intermediate\/crl\.pem/);
    assert.doesNotMatch(r.stderr, /not checked/);
    const j = await run(['verify', 'device-1/chain.pem', '--json']);
    assert.deepEqual(j.json.crls, ['pki/intermediate/crl.pem']);
    const skipped = await run(['verify', 'device-1/chain.pem', '--skip-crl']);
    assert.equal(skipped.code, 0);
    assert.match(skipped.stderr, /revocation of CN=device-1 not checked/);
    // One rule (io/ca/trust-crls.ts): the CA directory's bundle given explicitly brings its CRLs too.
    const given = await run(['verify', 'device-1/chain.pem', '--trust-store', 'pki/ca-bundle.pem']);
    assert.equal(given.code, 3, 'the CA directory bundle given with --trust-store brings its CRLs');
    assert.match(given.stdout, /^Failed:ClientCertCrlHit/);
    // A bundle outside any CA directory brings none, and the verdict says so.
    copyFileSync(join(work, 'pki/ca-bundle.pem'), join(work, 'foreign-bundle.pem'));
    const other = await run(['verify', 'device-1/chain.pem', '--trust-store', 'foreign-bundle.pem']);
    assert.equal(other.code, 0, 'a foreign trust store takes only the CRLs given');
    assert.match(other.stdout, /^Success: .*\(revocation not checked\)/);
    const verbose = await run(['verify', 'device-2/chain.pem', '--verbose']);
    assert.equal(verbose.code, 0);
    assert.match(verbose.stdout, /✔ chain-size/);
    assert.match(verbose.stdout, /· revocation .*CN=mtls-kit Test Root CA Intermediate: no CRL from/);
  });

  it("serve with the CA directory's bundle refuses the revoked client and names the CRL", async () => {
    const s = await spawnServe(['--dir', join(work, 'pki'), '--port', '0']);
    after(() => s.stop());
    assert.deepEqual(s.info.crls, [join(work, 'pki/intermediate/crl.pem')]);
    const url = s.info.listeners[0]!.url;
    const ca = s.info.serverCa!;
    const good = await curl(url, {ca, cert: join(work, 'device-2/certificate.crt'), key: join(work, 'device-2/private-key.pem')});
    assert.equal(good.code, 0, good.stderr);
    const revoked = await curl(url, {ca, cert: join(work, 'device-1/certificate.crt'), key: join(work, 'device-1/private-key.pem')});
    assert.notEqual(revoked.code, 0, 'the revoked client is cut off, as ALB would');
  });

  it('serve --skip-crl warns that revoked clients are accepted', async () => {
    const s = await spawnServe(['--dir', join(work, 'pki'), '--port', '0', '--skip-crl']);
    after(() => s.stop());
    assert.deepEqual(s.info.crls, []);
    // The warning is written before the ready line.
    assert.match(s.stderr(), /verify listeners check no CRL: revoked clients are accepted/);
  });
});
