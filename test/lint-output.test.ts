import assert from 'node:assert/strict';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {runCli} from './support/cli.js';
import {tempDir} from './support/tmp.js';

const tmp = tempDir();
const dir = join(tmp, 'pki');
const cli = (args: string[]) => runCli([...args, '--dir', dir], {cwd: tmp});
assert.equal((await cli(['gen-ca', '--cn', 'Lint Root', '--intermediate'])).code, 0);
const clients: string[] = [];
for (let i = 1; i <= 5; i++) {
  assert.equal((await cli(['gen-client', '--cn', `d${i}`, '--out', join(tmp, `c${i}`)])).code, 0);
  clients.push(join(tmp, `c${i}`, 'certificate.crt'));
}
assert.equal((await cli(['crl'])).code, 0);
const bundle = join(dir, 'ca-bundle.pem');
const crl = join(dir, 'intermediate', 'crl.pem');
// A bundle with a blank line: an error ALB rejects at upload.
const bad = join(tmp, 'bad.pem');
writeFileSync(bad, readFileSync(bundle, 'utf8').replace('-----END CERTIFICATE-----\n', '-----END CERTIFICATE-----\n\n'));
const lint = (args: string[]) => runCli(['lint', ...args], {cwd: tmp});

describe('lint: compact output', () => {
  it('verdict first, errors then warnings with their fix, a repeated rule shown three times and counted, notes hidden', async () => {
    // --warn-days 400: each client certificate (365 days) warns.
    const r = await lint([bad, ...clients, crl, '--warn-days', '400']);
    assert.equal(r.code, 3, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines[0], '✘ ALB would reject: 1 error, 5 warnings (7 files checked)');
    assert.match(lines[1]!, /^ {2}✘ error {3}\S+bad\.pem: blank line at line \d+; ALB rejects a bundle with blank lines \(pem-blank-lines\)$/);
    assert.match(lines[2]!, /^ {6}fix: remove them/);
    const warnings = lines.filter((l) => l.includes('! warning'));
    assert.equal(warnings.length, 3);
    assert.equal(lines.filter((l) => l.includes('fix: renew it before then')).length, 1, 'one fix for the group');
    assert.ok(lines.findIndex((l) => l.includes('! warning')) > lines.findIndex((l) => l.includes('✘ error')));
    assert.ok(lines.includes('      … and 2 more certificate-expiring warnings (--verbose lists them)'));
    assert.equal(lines.at(-1), '      … and 2 more certificate-expiring warnings (--verbose lists them)');
    assert.ok(lines.length <= 10, r.stdout);
  });

  it('--verbose lists every finding and the notes; --json always has them all', async () => {
    const v = await lint([bad, ...clients, crl, '--warn-days', '400', '--verbose']);
    assert.equal(v.code, 3);
    assert.equal(v.stdout.split('\n').filter((l) => l.includes('! warning')).length, 5);
    assert.doesNotMatch(v.stdout, /more certificate-expiring/);
    // A CRL without its bundle: a note, shown only with --verbose.
    const quiet = await lint([crl]);
    assert.equal(quiet.stdout, "✔ 1 file passes ALB's checks\n  1 note not shown (--verbose shows it)\n");
    const noted = await lint([crl, '--verbose']);
    assert.match(
      noted.stdout,
      /· note {4}\S+crl\.pem \[CN=[^\]]+\]: no CA bundle given, so the CRL issuer and signature were not checked \(crl-issuer-unchecked\)\n {6}fix: lint the CRL together with the bundle/,
    );
    const j = await lint([bad, ...clients, crl, '--warn-days', '400', '--json']);
    assert.equal(j.json.findings.length, 6);
    assert.equal(j.json.errors, 1);
    assert.equal(j.json.warnings, 5);
  });

  it('clean files: one line', async () => {
    const r = await lint([bundle, crl]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "✔ 2 files pass ALB's checks\n");
    const one = await lint([bundle, '--target', 'apigw']);
    assert.equal(one.stdout, "✔ 1 file passes API Gateway's checks\n");
  });
});
