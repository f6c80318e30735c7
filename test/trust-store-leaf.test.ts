// A trust store that holds a leaf (a certificate that is not a CA): the loader every command
// and the library share warns, lint does not pass a leaf-only bundle silently, and deploy's
// lint (role 'bundle') refuses it. The choice of a warning at run time rests on what AWS-LC
// does with a leaf in the trust store (asked below when the AWS TLS stack is present).
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {describe, it} from 'node:test';
import {lintFiles} from '../src/lib/alb/lint.js';
import {loadTrustStore} from '../src/lib/alb/verify.js';
import {TrustMaterial} from '../src/io/net/trust-material.js';
import {runCli} from './support/cli.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const tmp = tempDir();
const ca = await makeTestCa(join(tmp, 'pki'), {maker: 'openssl', cn: 'Leaf Test Root'});
const one = ca.opensslLeaf('/CN=device-1', {name: 'device-1'});
const two = ca.opensslLeaf('/CN=device-2', {name: 'device-2'});
const bytes = (p: string): Uint8Array => new Uint8Array(readFileSync(p));
const twoLeaves = join(tmp, 'two-leaves.pem');
execFileSync('sh', ['-c', `cat "${one.path}" "${two.path}" > "${twoLeaves}"`]);
const mixed = join(tmp, 'mixed.pem');
execFileSync('sh', ['-c', `cat "${ca.bundle}" "${one.path}" > "${mixed}"`]);
const now = new Date();
const lint = (files: Array<{path: string; role?: 'bundle'}>) =>
  lintFiles(
    files.map((f) => ({path: f.path, data: bytes(f.path), ...(f.role ? {role: f.role} : {})})),
    {target: 'alb', now, warnDays: 30},
  );

describe('a trust store holding a leaf', () => {
  it('the loader warns once per leaf, naming the file, the subject and the fix; a CA bundle has no warning', () => {
    assert.deepEqual(loadTrustStore(bytes(ca.bundle), ca.bundle).warnings, []);
    const w = loadTrustStore(bytes(mixed), mixed).warnings;
    assert.equal(w.length, 1, w.join('\n'));
    assert.ok(w[0]!.startsWith(`${mixed} holds CN=device-1, which is not a CA certificate`), w[0]);
    assert.match(w[0]!, /put only root and intermediate CA certificates in the trust store/);
    assert.equal(loadTrustStore(bytes(twoLeaves), twoLeaves).warnings.length, 2);
  });

  it("serve's and the library's trust material reports it at load", async () => {
    const lines: string[] = [];
    const m = await TrustMaterial.load({bundlePath: one.path, crlPaths: [], onWarning: (l) => lines.push(l)});
    m.close();
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /holds CN=device-1, which is not a CA certificate/);
    const quiet: string[] = [];
    (await TrustMaterial.load({bundlePath: ca.bundle, crlPaths: [], onWarning: (l) => quiet.push(l)})).close();
    assert.deepEqual(quiet, []);
  });

  it('lint: a lone leaf warns (no-ca-certificate) and still exits 0; beside its bundle it does not', () => {
    const alone = lint([{path: one.path}]);
    assert.equal(alone.errors, 0);
    assert.deepEqual(
      alone.findings.filter((f) => f.severity !== 'info').map((f) => f.rule),
      ['no-ca-certificate'],
    );
    const withBundle = lint([{path: ca.bundle}, {path: one.path}]);
    assert.ok(!withBundle.findings.some((f) => f.rule === 'no-ca-certificate'));
  });

  it('lint: several leaves and no CA are a bundle of leaves (not-a-ca errors), as is one leaf given as the bundle (deploy)', () => {
    const r = lint([{path: twoLeaves}]);
    assert.equal(r.findings.filter((f) => f.rule === 'not-a-ca').length, 2);
    assert.ok(r.errors >= 2);
    const asBundle = lint([{path: one.path, role: 'bundle'}]);
    assert.deepEqual(
      asBundle.findings.filter((f) => f.severity === 'error').map((f) => [f.rule, f.certificate]),
      [['not-a-ca', 'CN=device-1']],
    );
    assert.equal(lint([{path: mixed}]).findings.filter((f) => f.rule === 'not-a-ca').length, 1);
  });

  const awslc = resolve('../shared/tools/aws-tls-stack/awslc_verify');
  it('why a warning at run time: AWS-LC (partial chains, as s2n) trusts a leaf in the trust store as itself', {
    skip: !existsSync(awslc) && `no ${awslc}`,
  }, () => {
    const out = execFileSync(awslc, ['-mode', 's2n', '-CAfile', one.path, one.path], {encoding: 'utf8'});
    assert.match(out, /^OK/);
  });

  it('verify --trust-store LEAF: the warning on stderr and in --json warnings, the verdict as AWS-LC gives it', async () => {
    const r = await runCli(['verify', one.path, '--trust-store', one.path, '--skip-crl', '--json'], {cwd: tmp});
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: \S+device-1\S* holds CN=device-1, which is not a CA certificate/);
    assert.ok(r.json.warnings.some((w: string) => w.includes('which is not a CA certificate')));
    const l = await runCli(['lint', one.path], {cwd: tmp});
    assert.equal(l.code, 0, l.stderr);
    assert.match(l.stdout, /holds no CA certificate, so it was checked as a client certificate/);
  });
});
