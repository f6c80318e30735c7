/**
 * The package as npm installs it: `npm pack` holds the CLI, its bundle, the manifest and the
 * docs (LICENSE too once it is in the tree) and nothing of the sources or tests; bin/run.js
 * refuses a checkout that was never built, and a Node older than the supported lines, each
 * with one line and exit 4 (README "Install").
 */
import assert from 'node:assert/strict';
import {execFileSync, spawnSync} from 'node:child_process';
import {copyFileSync, existsSync, mkdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {fileURLToPath} from 'node:url';
import {BIN} from './support/cli.js';
import {tempDir} from './support/tmp.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('the npm package', () => {
  it('npm pack holds bin, dist, the manifest, docs (and LICENSE), and no sources or tests', () => {
    // --ignore-scripts: `prepare` would rebuild dist/ under the other tests' feet.
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']});
    const files = new Set((JSON.parse(out) as Array<{files: Array<{path: string}>}>)[0]!.files.map((f) => f.path));
    for (const f of [
      'bin/run.js',
      'dist/cli.js',
      'oclif.manifest.json',
      'package.json',
      'README.md',
      'docs/deploy.md',
      'docs/iam.md',
      'docs/iam/deploy-alb.json',
    ])
      assert.ok(files.has(f), `the package holds ${f}`);
    if (existsSync(join(ROOT, 'LICENSE'))) assert.ok(files.has('LICENSE'), 'the package holds LICENSE');
    for (const f of files) assert.doesNotMatch(f, /^(src|test|scripts|bench|\.ci)\//, `${f} is not shipped`);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {engines: {node: string}; scripts: Record<string, string>};
    assert.equal(pkg.engines.node, '^22.12.0 || ^24.0.0 || ^26.0.0');
    assert.match(pkg.scripts.prepare ?? '', /build\.js --bundle-only/, 'prepare builds dist/ for git installs');
  });

  it('a checkout without dist/: one line naming the fix, exit 4 (--version still answers)', () => {
    const dir = tempDir('mtls-kit-unbuilt-');
    mkdirSync(join(dir, 'bin'));
    copyFileSync(BIN, join(dir, 'bin/run.js'));
    copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    const r = spawnSync(process.execPath, [join(dir, 'bin/run.js'), 'inspect', 'x.pem'], {encoding: 'utf8'});
    assert.equal(r.status, 4, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /is not built .*dist\/ is missing.*run `npm ci` \(or `npm run build`\)/);
    assert.doesNotMatch(r.stderr, /ERR_MODULE_NOT_FOUND/);
    assert.equal(spawnSync(process.execPath, [join(dir, 'bin/run.js'), '--version'], {encoding: 'utf8'}).status, 0);
  });

  // The machine's own Node where CI puts a registry Node first on PATH (.ci/run).
  const old = ['/usr/bin/node', '/usr/local/bin/node', '/bin/node'].find((p) => {
    const v = existsSync(p) ? spawnSync(p, ['-p', 'process.versions.node'], {encoding: 'utf8'}).stdout.trim() : '';
    const [major = 0, minor = 0] = v.split('.').map(Number);
    return v !== '' && (major < 22 || (major === 22 && minor < 12));
  });
  it('an older Node: one line, exit 4', {skip: old ? false : 'no Node older than 22.12 on this machine'}, () => {
    const r = spawnSync(old!, [BIN, 'inspect', 'x.pem'], {encoding: 'utf8'});
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /^mtls-kit: Node\.js v\d+\.\d+\.\d+ is not supported; install Node\.js 22\.12 or later from the 22, 24 or 26 LTS line/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
});
