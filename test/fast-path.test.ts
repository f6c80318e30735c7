/**
 * The oclif-free fast path of `inspect` and `decode-header` (bin/run.js FAST_COMMANDS,
 * src/fast.ts): every argv gives the same stdout, stderr and exit code through it as through
 * oclif (MTLS_KIT_NO_FAST_PATH=1), run as a user runs the binary; the fast path never loads
 * oclif (a module-load log of the real process, and the build's import-graph check, each
 * shown to catch a planted violation); on a terminal too (script(1)); parseFast hands every argv
 * it is not certain of to oclif.
 */
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import module from 'node:module';
import {join} from 'node:path';
import {before, describe, it} from 'node:test';
import {build} from 'esbuild';
// @ts-expect-error: a plain .js script, no types
import {fastCommandTable, oclifReachedFrom} from '../scripts/fast-graph.js';
import type {FastCommand} from '../src/fast-commands.js';
import {parseFast} from '../src/fast.js';
import {BIN, runCli} from './support/cli.js';
import {makeTestCa, type TestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const root = new URL('..', import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8'));
const table = fastCommandTable(manifest, ['inspect', 'decode-header']) as Record<string, FastCommand>;
const dir = tempDir();

/** A preload (NODE_OPTIONS=--import) that logs every file module the process loads. */
const LOADER = join(dir, 'log-loads.mjs');
writeFileSync(
  LOADER,
  `import {registerHooks} from 'node:module';
import {appendFileSync} from 'node:fs';
registerHooks({load(url, context, next) {
  if (url.startsWith('file:')) appendFileSync(process.env.MTLS_KIT_TEST_LOAD_LOG, url + '\\n');
  return next(url, context);
}});
`,
);
const hasScript = spawnSync('script', ['--version']).status === 0;
const hasRegisterHooks = typeof (module as {registerHooks?: unknown}).registerHooks === 'function';

/** Relative times and check timestamps move between two runs a moment apart. */
const untimed = (s: string): string =>
  s
    .replace(/\((in )?\d+ (minutes?|hours?|days?)( ago)?\)|\(now\)/g, '(WHEN)')
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, 'TIME')
    .replaceAll(/expires in \d+ days|expires in \d+ hours/g, 'expires in N');

describe('fast path: inspect and decode-header as oclif runs them', () => {
  let pki: TestCa;
  let other: TestCa;
  let leaf: string;
  let stranger: string;
  let header: string;
  let strangerHeader: string;

  before(async () => {
    pki = await makeTestCa(join(dir, 'pki'), {intermediate: true, maker: 'openssl', cn: 'Fast Root'});
    other = await makeTestCa(join(dir, 'other'), {intermediate: true, maker: 'openssl', cn: 'Fast Root'});
    leaf = pki.opensslLeaf('/CN=device-1').path;
    stranger = other.opensslLeaf('/CN=stranger').path;
    const enc = await runCli(['encode-header', leaf]);
    assert.equal(enc.code, 0, enc.stderr);
    header = enc.stdout;
    const enc2 = await runCli(['encode-header', stranger]);
    strangerHeader = enc2.stdout;
  });

  /** [argv, stdin]; every one runs through both paths. */
  const matrix = (): Array<[string[], string?]> => {
    const pem = readFileSync(leaf, 'utf8');
    const subject = /X-Amzn-Mtls-Clientcert-Subject: (.*)/.exec(header)?.[1] ?? 'CN=x';
    return [
      [['inspect', leaf]],
      [['inspect', leaf, '--json']],
      [['inspect', '--json', leaf]],
      [['inspect', pki.bundle]],
      [['inspect', leaf, '--trust-store', pki.bundle, '--dir', pki.dir]],
      [['inspect', stranger, '--trust-store', pki.bundle, '--json', '--target', 'apigw']],
      [['inspect', stranger, '--trust-store', pki.bundle, '--skip-crl']],
      [['inspect', join(dir, 'missing.crt')]],
      [['inspect', join(dir, 'missing.crt'), '--json']],
      [['inspect', '-'], pem],
      [['inspect', '-', '--json'], 'not a certificate'],
      [['inspect', leaf, '--bogus']],
      [['inspect', leaf, '--json', '--bogus']],
      [['inspect', '--help']],
      [['inspect', leaf, '-h']],
      [['inspect']],
      [['inspect', leaf, 'extra']],
      [['inspect', leaf, '--target', 'cloudfront', '--trust-store', pki.bundle]],
      [['inspect', leaf, '--crl', 'x.crl']],
      [['inspect', leaf, '--dir']],
      [['inspect', '--', leaf]],
      [['decode-header', subject]],
      [['decode-header', subject, '--json']],
      [['decode-header', pem]],
      [['decode-header', pem, '--json']],
      [['decode-header', '--json', pem]],
      [['decode-header', '-'], header],
      [['decode-header', '--file', '-', '--json'], header],
      [['decode-header', '--trust-store', pki.bundle], header],
      [['decode-header', '--trust-store', pki.bundle], strangerHeader],
      [['decode-header', '--trust-store', pki.bundle, '--json'], strangerHeader],
      [['decode-header', '--trust-store', pki.bundle, '--crl', join(dir, 'missing.crl')], header],
      [['decode-header', '--file', join(dir, 'missing.txt')]],
      [['decode-header', '--file', join(dir, 'missing.txt'), '--json']],
      [['decode-header', 'not a header']],
      [['decode-header', subject, '--target', 'nlb']],
      [['decode-header', subject, '--target', 'nope']],
      [['decode-header', subject, '--header-map', 'leaf=X-Leaf', '--header-map', 'subject=X-Sub']],
      [['decode-header', subject, '--skip-crl', '--crl', 'a.crl']],
      [['decode-header', subject, '--no-such-flag']],
      [['decode-header', '--help']],
      [['decode-header', '-f']],
      [['decode-header', '--', pem, '--json']],
    ];
  };

  it('gives the same stdout, stderr and exit code as oclif for every argv', async () => {
    const codes = new Set<number>();
    for (const [argv, input] of matrix()) {
      const opts = {cwd: dir, ...(input === undefined ? {} : {input})};
      const fast = await runCli(argv, opts);
      const oclif = await runCli(argv, {...opts, env: {MTLS_KIT_NO_FAST_PATH: '1'}});
      const what = `mtls-kit ${argv.map((a) => (a.length > 40 ? `${a.slice(0, 40)}...` : a)).join(' ')}`;
      assert.equal(fast.code, oclif.code, `${what}: exit code\n${fast.stderr}\n${oclif.stderr}`);
      assert.equal(untimed(fast.stdout), untimed(oclif.stdout), `${what}: stdout`);
      assert.equal(untimed(fast.stderr), untimed(oclif.stderr), `${what}: stderr`);
      codes.add(fast.code);
    }
    // The matrix reaches success, usage errors, a failed verification and a missing file.
    assert.deepEqual([...codes].sort(), [0, 2, 3, 4]);
  });

  it('gives the same output on a terminal (colour, --json, an error), through script(1)', {skip: !hasScript && 'needs script(1) (util-linux)'}, () => {
    // A terminal as a user has one, whatever runs the suite: CI runners leave TERM unset or
    // `dumb` and set CI, and chalk (supports-color) then colours nothing even on a tty.
    const terminalEnv: NodeJS.ProcessEnv = {...process.env, TERM: 'xterm-256color', NO_COLOR: ''};
    for (const name of ['CI', 'FORCE_COLOR', 'NODE_DISABLE_COLORS', 'MTLS_KIT_NO_FAST_PATH']) delete terminalEnv[name];
    const onTty = (argv: string[], env: Record<string, string> = {}): string => {
      const cmd = [process.execPath, BIN, ...argv].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
      const r = spawnSync('script', ['-qec', cmd, '/dev/null'], {cwd: dir, encoding: 'utf8', env: {...terminalEnv, ...env}, timeout: 60_000});
      return untimed(r.stdout);
    };
    for (const argv of [
      ['inspect', leaf],
      ['inspect', leaf, '--json'],
      ['decode-header', '--file', join(dir, 'missing.txt')],
    ]) {
      const fast = onTty(argv);
      assert.ok(fast.length > 0, `${argv.join(' ')}: no output through script(1)`);
      assert.equal(fast, onTty(argv, {MTLS_KIT_NO_FAST_PATH: '1'}), `${argv.join(' ')} on a terminal`);
    }
    // The human output did go to a terminal: chalk coloured it.
    assert.ok(onTty(['inspect', leaf]).includes('\u001b['), 'no colour: the output did not go to a terminal');
  });

  it('never loads oclif on the fast path; the load log sees it when oclif runs', {
    skip: !hasRegisterHooks && 'needs module.registerHooks (Node 22.15+)',
  }, async () => {
    const loaded = async (argv: string[], env: Record<string, string> = {}): Promise<string[]> => {
      const log = join(dir, `loads-${Math.random().toString(36).slice(2)}.txt`);
      writeFileSync(log, '');
      const r = await runCli(argv, {cwd: dir, env: {NODE_OPTIONS: `--import=${LOADER}`, MTLS_KIT_TEST_LOAD_LOG: log, ...env}});
      assert.ok(r.code === 0 || r.code === 2, r.stderr);
      return readFileSync(log, 'utf8').split('\n').filter(Boolean);
    };
    const oclifIn = (urls: string[]): string[] => urls.filter((u) => /\/dist\/cli\.js$|\/node_modules\/@oclif\//.test(u));
    for (const argv of [
      ['inspect', leaf],
      ['inspect', leaf, '--json'],
      ['decode-header', readFileSync(leaf, 'utf8')],
    ]) {
      const urls = await loaded(argv);
      assert.ok(
        urls.some((u) => u.endsWith('/dist/fast.js')),
        `${argv[0]}: dist/fast.js was not loaded (the log is empty?)`,
      );
      assert.deepEqual(oclifIn(urls), [], `${argv[0]} loaded oclif on the fast path`);
    }
    // Planted: the same argv with the escape hatch, and an argv the fast path hands over.
    assert.notDeepEqual(oclifIn(await loaded(['inspect', leaf], {MTLS_KIT_NO_FAST_PATH: '1'})), []);
    assert.notDeepEqual(oclifIn(await loaded(['inspect', leaf, '--bogus'])), []);
  });
});

describe('fast path: the build-time guards', () => {
  /** esbuild's graph of `entry` (split as scripts/build.js splits): what oclifReachedFrom finds, and the inputs. */
  const graphOf = async (entry: string): Promise<{reached: string[]; inputs: string[]}> => {
    const r = await build({
      absWorkingDir: root,
      entryPoints: {fast: entry},
      outdir: join(tempDir(), 'out'),
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      metafile: true,
      write: false,
      logLevel: 'silent',
    });
    const out = Object.keys(r.metafile.outputs).find((o) => o.endsWith('/fast.js'));
    return {reached: oclifReachedFrom(r.metafile, out) as string[], inputs: Object.keys(r.metafile.inputs)};
  };
  /** A planted entry in a folder of the repository (so it resolves node_modules and src). */
  const planted = (files: Record<string, string>): string => {
    const src = tempDir();
    for (const [name, text] of Object.entries(files)) writeFileSync(join(src, name), text);
    return join(src, 'e.js');
  };

  it("src/fast.ts's import graph reaches no oclif module", async () => {
    const g = await graphOf('src/fast.ts');
    assert.ok(g.inputs.includes('src/actions/inspect.ts'), 'the graph does not reach the actions: the check would prove nothing');
    assert.deepEqual(g.reached, []);
  });

  it('catches oclif reached statically or through a dynamic import (planted)', async () => {
    const oclif = planted({'e.js': `import {Flags} from '${join(root, 'node_modules/@oclif/core/lib/index.js')}'; console.log(Flags);`});
    assert.match((await graphOf(oclif)).reached.join(), /node_modules\/@oclif\/core\//);
    const dynamic = (await graphOf(planted({'e.js': "export const f = () => import('./x.js');", 'x.js': `import '${join(root, 'src/flags.ts')}';`}))).reached;
    assert.ok(dynamic.includes('src/flags.ts'), dynamic.join());
  });

  it('refuses a flag property the fast parser does not apply (planted)', () => {
    const withRelationships = structuredClone(manifest);
    withRelationships.commands.inspect.flags.dir.relationships = [{type: 'all', flags: ['json']}];
    assert.throws(() => fastCommandTable(withRelationships, ['inspect']), /inspect --dir: flag property relationships is not handled/);
    const noFlag = structuredClone(manifest);
    noFlag.commands.inspect.flags.json.allowNo = true;
    assert.throws(() => fastCommandTable(noFlag, ['inspect']), /allowNo/);
    assert.throws(() => fastCommandTable(manifest, ['no-such-command']), /does not have/);
  });
});

describe('parseFast: oclif runs whatever it is not certain of', () => {
  const inspect = table.inspect!;
  const dh = table['decode-header']!;
  const env = {};

  it('parses flags before or after the argument, repeated flags, PEM values, - and the env default', () => {
    assert.deepEqual(parseFast(inspect, ['a.crt', '--json', '--dir', 'x'], env), {args: {file: 'a.crt'}, flags: {json: true, dir: 'x'}, json: true});
    assert.deepEqual(parseFast(inspect, ['-d', 'x', '-'], env)?.args, {file: '-'});
    assert.equal(parseFast(inspect, ['a.crt'], {MTLS_KIT_DIR: 'env-pki'})?.flags.dir, 'env-pki');
    assert.equal(parseFast(inspect, ['a.crt'], env)?.flags.dir, './pki');
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    assert.deepEqual(parseFast(dh, [pem, '--header-map', 'a=B', '--header-map', 'c=D'], env), {
      args: {value: pem},
      flags: {'header-map': ['a=B', 'c=D'], dir: './pki'},
      json: false,
    });
    assert.deepEqual(parseFast(dh, ['--trust-store', 't.pem', '--crl', 'a.crl', '--crl', 'b.crl', '--target=apigw'], env)?.flags, {
      'trust-store': 't.pem',
      crl: ['a.crl', 'b.crl'],
      target: 'apigw',
      dir: './pki',
    });
  });

  for (const [what, cmd, argv, e] of [
    ['--help', 'inspect', ['a.crt', '--help']],
    ['-h', 'inspect', ['-h']],
    ['--', 'inspect', ['--', 'a.crt']],
    ['an unknown flag', 'inspect', ['a.crt', '--nope']],
    ['--no-json', 'inspect', ['a.crt', '--no-json']],
    ['a missing value', 'inspect', ['a.crt', '--dir']],
    ['a value that looks like a flag', 'decode-header', ['--file', '-x']],
    ['an empty value', 'inspect', ['a.crt', '--dir', '']],
    ['a value for a boolean', 'inspect', ['a.crt', '--json=yes']],
    ['a repeated single flag', 'inspect', ['a.crt', '--dir', 'a', '--dir', 'b']],
    ['-dVALUE', 'inspect', ['a.crt', '-dpki']],
    ['a value outside the options', 'decode-header', ['--target', 'elb']],
    ['dependsOn not met', 'inspect', ['a.crt', '--crl', 'x.crl']],
    ['exclusive flags', 'decode-header', ['--skip-crl', '--crl', 'x', '--trust-store', 't']],
    ['a missing required argument', 'inspect', ['--json']],
    ['an extra argument', 'inspect', ['a.crt', 'b.crt']],
    ['DEBUG', 'inspect', ['a.crt'], {DEBUG: '*'}],
    ['MTLS_KIT_CONTENT_TYPE', 'inspect', ['a.crt'], {MTLS_KIT_CONTENT_TYPE: 'json'}],
  ] as Array<[string, string, string[], Record<string, string>?]>) {
    it(`hands ${what} to oclif`, () => {
      assert.equal(parseFast(table[cmd]!, argv, e ?? env), undefined);
    });
  }
});
