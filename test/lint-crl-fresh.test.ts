import assert from 'node:assert/strict';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {before, describe, it} from 'node:test';
import {lintFiles} from '../src/lib/alb/lint.js';
import {runCli} from './support/cli.js';
import {opensslOk} from './support/openssl.js';
import {tempDir} from './support/tmp.js';

const DAY = 86_400_000;

// Issue 12 item 7: a CRL just written with --days 30 must not warn; one near its nextUpdate must.
describe('lint: CRL freshness (crl-expiring)', () => {
  const tmp = tempDir();
  const dir = join(tmp, 'pki');
  const crl = join(dir, 'root', 'crl.pem');
  before(async () => {
    assert.equal((await runCli(['gen-ca', '--dir', dir])).code, 0);
    assert.equal((await runCli(['crl', '--dir', dir, '--days', '30'])).code, 0);
  });

  it('a fresh crl --days 30 passes lint with the default --warn-days 30 (exit 0, no warning)', async () => {
    const r = await runCli(['lint', join(dir, 'ca-bundle.pem'), crl, '--json']);
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.json.warnings, 0, JSON.stringify(r.json.findings));
    assert.ok(!r.json.findings.some((f: {rule: string}) => f.rule === 'crl-expiring'));
  });

  it('the same CRL warns with fewer than a third of its lifetime (10 of 30 days) left, and errors once past', () => {
    const input = [{path: crl, data: readFileSync(crl)}];
    const nextUpdate = new Date(opensslOk(['crl', '-in', crl, '-noout', '-nextupdate']).trim().replace('nextUpdate=', ''));
    const at = (daysLeft: number): Date => new Date(nextUpdate.getTime() - daysLeft * DAY);
    const rules = (now: Date, warnDays = 30): string[] => lintFiles(input, {target: 'alb', now, warnDays}).findings.map((f) => f.rule);
    assert.ok(!rules(at(11)).includes('crl-expiring'), '11 days left of 30: still fresh');
    const near = lintFiles(input, {target: 'alb', now: at(9.5), warnDays: 30}).findings.find((f) => f.rule === 'crl-expiring');
    assert.ok(near, '9.5 days left of 30 warns');
    assert.equal(near.severity, 'warning');
    assert.match(near.message, /is in 9 days, less than a third of its 30-day lifetime/);
    assert.ok(!rules(at(5), 3).includes('crl-expiring'), '--warn-days 3 is also a bound');
    assert.ok(rules(at(-0.01)).includes('crl-expired'));
  });

  it('an openssl ca -gencrl CRL of 7 days: fresh passes, 2 days left warns', () => {
    writeFileSync(join(tmp, 'index.txt'), '');
    const conf = join(tmp, 'ca.cnf');
    writeFileSync(conf, `[ca]\ndefault_ca=x\n[x]\ndatabase=${join(tmp, 'index.txt')}\ndefault_md=sha256\ndefault_crl_days=7\n`);
    const out = join(tmp, 'openssl.crl');
    opensslOk(['ca', '-gencrl', '-keyfile', join(dir, 'root', 'ca.key'), '-cert', join(dir, 'root', 'ca.crt'), '-out', out, '-config', conf]);
    const input = [{path: out, data: readFileSync(out)}];
    const now = new Date();
    const has = (t: Date): boolean => lintFiles(input, {target: 'alb', now: t, warnDays: 30}).findings.some((f) => f.rule === 'crl-expiring');
    assert.equal(has(now), false);
    assert.equal(has(new Date(now.getTime() + 5 * DAY)), true);
  });
});
