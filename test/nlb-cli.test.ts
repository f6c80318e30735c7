import assert from 'node:assert/strict';
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {before, describe, it} from 'node:test';
import {runCli} from './support/cli.js';
import {tempDir} from './support/tmp.js';

describe('verify and lint for NLB: identity filters from the command line', () => {
  const work = tempDir();
  const dir = join(work, 'pki');
  let chain: string;
  let revokedChain: string;
  let crl: string;

  before(async () => {
    assert.equal((await runCli(['gen-ca', '--dir', dir, '--intermediate', '--cn', 'NLB Root'])).code, 0);
    const g = await runCli([
      'gen-client',
      '--dir',
      dir,
      '--cn',
      'device-1',
      '--ou',
      'Fleet',
      '--san',
      'spiffe://Acme.Example/ns/Prod',
      '--san',
      'device-1.acme.example',
      '--out',
      join(work, 'd1'),
      '--json',
    ]);
    assert.equal(g.code, 0, g.stderr);
    chain = g.json.certificate.files.chain;
    const r = await runCli(['gen-client', '--dir', dir, '--cn', 'laptop-3', '--out', join(work, 'l3'), '--json', '--defect', 'revoked']);
    assert.equal(r.code, 0, r.stderr);
    revokedChain = r.json.certificate.files.chain;
    crl = r.json.defect.crl;
  });

  it('a matching filter: Success, the filter named in --json and in the human output', async () => {
    const r = await runCli([
      'verify',
      chain,
      '--dir',
      dir,
      '--identity-filter',
      'subject-cn:exact:LAPTOP-3',
      '--identity-filter',
      'san-uri:prefix:SPIFFE://acme.example/ns/',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.status, 'Success');
    assert.equal(r.json.target, 'nlb');
    assert.deepEqual(r.json.identityFilters.filters, ['subject-cn:exact:LAPTOP-3', 'san-uri:prefix:SPIFFE://acme.example/ns/']);
    assert.equal(r.json.identityFilters.matched, 'san-uri:prefix:SPIFFE://acme.example/ns/');
    assert.equal(r.json.identityFilters.matchedValue, 'spiffe://Acme.Example/ns/Prod');
    const h = await runCli(['verify', chain, '--dir', dir, '--identity-filter', 'subject-ou:exact:fleet']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /identity-filter +CN=device-1,OU=Fleet: subject-ou:exact:fleet matched subject OU "Fleet"/);
  });

  it('no filter matches: Failed:IdentityFilterNoMatch, exit 3, and why', async () => {
    const r = await runCli(['verify', chain, '--dir', dir, '--identity-filter', 'san-uri:exact:spiffe://acme.example/ns/prod', '--json']);
    assert.equal(r.code, 3);
    assert.equal(r.json.status, 'Failed:IdentityFilterNoMatch');
    assert.equal(r.json.identityFilters.matched, null);
    assert.match(r.json.identityFilters.reason, /URI SAN "spiffe:\/\/Acme\.Example\/ns\/Prod"/);
  });

  it('revoked and matching no filter fails at the filter step; matching, at revocation', async () => {
    const a = await runCli(['verify', revokedChain, '--dir', dir, '--crl', crl, '--identity-filter', 'subject-cn:prefix:device-', '--json']);
    assert.equal(a.json.status, 'Failed:IdentityFilterNoMatch');
    const b = await runCli(['verify', revokedChain, '--dir', dir, '--crl', crl, '--identity-filter', 'subject-cn:prefix:laptop-', '--json']);
    assert.equal(b.json.status, 'Failed:ClientCertCrlHit');
    const c = await runCli(['verify', revokedChain, '--dir', dir, '--crl', crl, '--target', 'nlb', '--json']);
    assert.equal(c.json.status, 'Failed:ClientCertCrlHit');
    assert.deepEqual(c.json.identityFilters.filters, []);
  });

  it('bad filters are usage errors naming the filter (exit 2); filters with --target alb are refused', async () => {
    const r = await runCli(['verify', chain, '--dir', dir, '--identity-filter', 'san-ip:exact:10.0.0.1']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /identity filter "san-ip:exact:10\.0\.0\.1": unknown field "san-ip"/);
    const a = await runCli(['verify', chain, '--dir', dir, '--target', 'alb', '--identity-filter', 'subject-cn:exact:x', '--json']);
    assert.equal(a.code, 2);
    assert.equal(a.json.error.code, 'FILTERS_NEED_NLB');
  });

  it('--identity-filter-file: lines and AWS JSON', async () => {
    const lines = join(work, 'filters.txt');
    writeFileSync(lines, '# fleet\nsubject-ou:exact:nomatch\nsan-dns:exact:DEVICE-1.acme.example\n');
    const r = await runCli(['verify', chain, '--dir', dir, '--identity-filter-file', lines, '--json']);
    assert.equal(r.json.identityFilters.matched, 'san-dns:exact:DEVICE-1.acme.example');
    const json = join(work, 'filters.json');
    writeFileSync(json, JSON.stringify([{Action: 'accept', Field: 'subject-cn', MatchType: 'prefix', Value: 'nomatch'}]));
    const j = await runCli(['verify', chain, '--dir', dir, '--identity-filter-file', json, '--json']);
    assert.equal(j.json.status, 'Failed:IdentityFilterNoMatch');
  });

  it('lint --target nlb: the bundle as for ALB, and each bad filter value as an error', async () => {
    const file = join(work, 'bad-filters.txt');
    writeFileSync(file, `san-uri:prefix:9abc\nsubject-cn:exact:${'x'.repeat(257)}\nsubject-cn:prefix:device-\n`);
    const r = await runCli([
      'lint',
      join(dir, 'ca-bundle.pem'),
      '--target',
      'nlb',
      '--identity-filter',
      'subject-ou:exact:caf\u00e9',
      '--identity-filter-file',
      file,
      '--json',
    ]);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.json.target, 'nlb');
    assert.deepEqual(r.json.identityFilters, ['subject-cn:prefix:device-']);
    const filterErrors = r.json.findings.filter((f: {rule: string}) => f.rule === 'identity-filter');
    assert.deepEqual(
      filterErrors.map((f: {file: string}) => f.file),
      ['--identity-filter', `${file}:1`, `${file}:2`],
    );
    assert.match(filterErrors[1].message, /must start with a URI scheme/);
    assert.match(filterErrors[2].message, /257 characters long/);
    assert.equal(r.json.errors, 3);
    const ok = await runCli(['lint', join(dir, 'ca-bundle.pem'), '--target', 'nlb', '--identity-filter', 'san-uri:exact:spiffe://acme/x']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^✔ 1 file and 1 identity filter pass NLB's checks\n$/);
  });

  it('decode-header and logs --target nlb say that an NLB target sees no certificate data (exit 4)', async () => {
    const d = await runCli(['decode-header', 'X-Amzn-Mtls-Clientcert-Serial-Number: 0A', '--target', 'nlb', '--json']);
    assert.equal(d.code, 4);
    assert.equal(d.json.error.code, 'NLB_SENDS_NO_CERTIFICATE');
    assert.match(d.json.error.message, /an NLB target receives no client-certificate headers/);
    const l = await runCli(['logs', join(work, 'none.log'), '--target', 'nlb']);
    assert.equal(l.code, 4);
    assert.match(l.stderr, /NLB logs carry no client-certificate fields/);
    assert.match(l.stderr, /use a TCP listener/);
  });
});
