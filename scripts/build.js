// Build: type-check, regenerate oclif.manifest.json, then bundle oclif and every command in
// src/commands with esbuild into dist/cli.js (plus lazily loaded chunks, and the fleet
// worker), and the oclif-free fast path dist/fast.js; then docs/schemas. The manifest and
// the schemas are committed; tests fail when either is stale.
//
// dist/fast.js (src/fast.ts, bin/run.js FAST_COMMANDS) runs `inspect` and `decode-header`
// without oclif, which is most of their cold start on Node 24. Their flag definitions are
// embedded from oclif.manifest.json (the one source; fastCommandTable below refuses a flag
// property the fast parser does not handle), and the build fails if dist/fast.js can reach
// @oclif/core or a module that loads it (scripts/fast-graph.js).
//
// Why a bundle: cold start (issue 2 "Speed": a command within 2.5x `node -e 0`).
// Resolving and compiling @oclif/core's hundreds of files cost ~75 ms of CPU; from one
// file it is about half. Heavy dependencies (AWS SDK, PKCS#12 schemas) stay behind
// dynamic imports and load only in the commands that use them. oclif finds the
// commands through its `explicit` discovery strategy (package.json oclif.commands),
// so there is one copy of oclif in the process.
import {execFileSync} from 'node:child_process';
import {readFileSync, rmSync} from 'node:fs';
import {isBuiltin} from 'node:module';
import {build} from 'esbuild';
import {commandTable} from './command-table.js';
import {fastCommandTable, oclifReachedFrom} from './fast-graph.js';

const root = new URL('..', import.meta.url).pathname;
// The bundled plugins' own @oclif/core (loaded by manifest.ts) warns about Node < 22.
const run = (cmd, args) => execFileSync(cmd, args, {stdio: 'inherit', cwd: root, env: {...process.env, OCLIF_DISABLE_ENGINE_WARNING: '1'}});
// `--bundle-only` (npm's `prepare`: `npm ci`, `npm pack`, `npm i -g <git url>`): only dist/,
// a few seconds; the committed manifest and schemas are kept, and type errors are for
// `npm run build` and the tests to report.
const bundleOnly = process.argv.includes('--bundle-only');
rmSync(`${root}dist`, {recursive: true, force: true});
if (!bundleOnly) {
  run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit']);
  // From the command classes in src (not from dist); the fast path's flags come from it.
  run(process.execPath, ['--import', 'tsx', 'scripts/manifest.ts']);
}

// The bundle entry, generated: every command (scripts/command-table.js) in its own chunk
// behind a wrapper whose static run() imports it, so a command compiles only its own code
// (oclif calls Command.run(argv, config); flags and help come from the manifest). Hooks
// (package.json oclif.hooks) are exported the same way.
const commands = commandTable(root);
const entry = [
  "import {Command} from '@oclif/core';",
  'const lazy = (load) => class extends Command {',
  '  static async run(argv, config) {',
  '    const real = (await load()).default;',
  '    real.id = this.id;',
  '    real.plugin = this.plugin;',
  '    return real.run(argv, config);',
  '  }',
  '};',
  "export {execute} from '@oclif/core';",
  `export const COMMANDS = {${commands.map(([id, path]) => `${JSON.stringify(id)}: lazy(() => import(${JSON.stringify(`./${path}`)}))`).join(', ')}};`,
  "export {default as Help} from './src/help.js';",
  "export async function notFound(opts) { return (await import('./src/not-found-hook.js')).default.call(this, opts); }",
].join('\n');

// Modules @oclif/core requires when it loads but uses only on paths mtls-kit does not take
// (glob command discovery, the engines check, spinners, help templates): each becomes a
// proxy that loads the real module on first use. Saves ~25 ms of CPU per run (cold start).
const LAZY = new Set(['minimatch', 'tinyglobby', 'semver', 'cli-spinners', 'ejs', 'wsl-utils', 'is-wsl']);

const manifest = JSON.parse(readFileSync(`${root}oclif.manifest.json`, 'utf8'));
const fastIds = JSON.parse(/^const FAST_COMMANDS = (\[[^\]]*\]);$/m.exec(readFileSync(`${root}bin/run.js`, 'utf8'))?.[1]?.replaceAll("'", '"') ?? 'null');
if (!Array.isArray(fastIds)) throw new Error('bin/run.js: no `const FAST_COMMANDS = [...];` line');

/** What the CLI bundle and the fast path's bundle share. */
const common = {
  absWorkingDir: root,
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22.12',
  minifySyntax: true,
  minifyWhitespace: true,
  keepNames: true,
  legalComments: 'none',
  // Chunks beside cli.js, so `new URL('./x.js', import.meta.url)` means dist/x.js everywhere.
  chunkNames: '[name]-[hash]',
  // oclif only reaches for these in development mode (ts-node); never bundle them.
  external: ['typescript', 'ts-node'],
  // oclif and its dependencies are CommonJS and call require() on Node built-ins. (Not
  // `import ... from 'node:module'`: see builtins-by-require.)
  banner: {js: "const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);"},
  logLevel: 'warning',
  plugins: [
    {
      // src/fast-commands.ts is a placeholder: the fast path's flag table (FastCommand) comes
      // from the manifest, for bin/run.js's FAST_COMMANDS.
      name: 'fast-commands',
      setup(b) {
        b.onLoad({filter: /\/src\/fast-commands\.ts$/}, () => ({
          contents: `export const FAST_COMMANDS = ${JSON.stringify(fastCommandTable(manifest, fastIds))};`,
          loader: 'js',
        }));
      },
    },
    {
      // chalk's supports-color imports node:tty only to ask tty.isatty(1) and (2) at load.
      // process.stdout / stderr answer the same (a tty.WriteStream exactly when the fd is a
      // terminal) and exist anyway, so node:tty loads only when output is a terminal.
      name: 'chalk-isatty',
      setup(b) {
        b.onResolve({filter: /^(node:)?tty$/}, (args) =>
          args.importer.includes('/node_modules/chalk/') ? {path: 'isatty', namespace: 'chalk-isatty'} : undefined,
        );
        b.onLoad({filter: /.*/, namespace: 'chalk-isatty'}, () => ({
          contents:
            "export default {isatty: (fd) => (fd === 1 ? Boolean(process.stdout.isTTY) : fd === 2 ? Boolean(process.stderr.isTTY) : require('node:tty').isatty(fd))};",
          loader: 'js',
        }));
      },
    },
    {
      // Node built-ins imported by ESM code (src, chalk) through require(): an ESM import of a
      // built-in builds a facade that reads every export, which runs node:util's and
      // node:crypto's lazy getters. Measured (valgrind, instructions): node:util's facade alone
      // is ~20% of `node -e 0`; crypto, fs, path, os, process and tty together as much again.
      name: 'builtins-by-require',
      setup(b) {
        // One wrapper per importing file, so each lands in its importer's chunk instead of a
        // chunk file of its own (five more files for inspect to load).
        b.onResolve({filter: /^(node:)?[a-z_/]+$/}, (args) =>
          args.kind === 'import-statement' && args.namespace === 'file' && isBuiltin(args.path)
            ? {path: `${args.path}?${args.importer}`, namespace: 'builtin'}
            : undefined,
        );
        b.onLoad({filter: /.*/, namespace: 'builtin'}, (args) => ({
          contents: `module.exports = require(${JSON.stringify(args.path.split('?')[0])});`,
          loader: 'js',
        }));
      },
    },
    {
      name: 'mtls-kit-entry',
      setup(b) {
        b.onResolve({filter: /^mtls-kit:cli$/}, () => ({path: 'cli', namespace: 'mtls-kit'}));
        b.onLoad({filter: /.*/, namespace: 'mtls-kit'}, () => ({contents: entry, loader: 'ts', resolveDir: root}));
      },
    },
    {
      // The bundled plugins (command-table.js) bring their own @oclif/core: use ours.
      name: 'one-oclif',
      setup(b) {
        b.onResolve({filter: /^@oclif\/core$/}, async (args) => {
          if (!args.importer.includes('/node_modules/@oclif/plugin-')) return undefined;
          return b.resolve('@oclif/core', {kind: args.kind, resolveDir: root});
        });
      },
    },
    {
      name: 'lazy-modules',
      setup(b) {
        b.onResolve({filter: /^[a-z-]+$/}, (args) => {
          if (!LAZY.has(args.path) || args.namespace === 'lazy' || !args.importer.includes('/node_modules/@oclif/core/')) return undefined;
          return {path: args.path, namespace: 'lazy', pluginData: args.resolveDir};
        });
        b.onLoad({filter: /.*/, namespace: 'lazy'}, (args) => ({
          // Module-load-time checks (__esModule, typeof) answer without loading it.
          contents: `let m; const load = () => (m ??= require(${JSON.stringify(args.path)}));
module.exports = new Proxy(() => {}, {
  get: (_, k) => (k === '__esModule' ? undefined : load()[k]),
  has: (_, k) => k in load(),
  apply: (_, self, a) => load().apply(self, a),
  ownKeys: () => Reflect.ownKeys(load()),
  getOwnPropertyDescriptor: (_, k) => {
    const d = Reflect.getOwnPropertyDescriptor(load(), k);
    return d && {...d, configurable: true};
  },
});`,
          loader: 'js',
          resolveDir: args.pluginData,
        }));
      },
    },
  ],
};
await build({
  ...common,
  entryPoints: {cli: 'mtls-kit:cli', 'fleet-worker': 'src/io/ca/fleet-worker.ts', 'logs-worker': 'src/io/aws/logs-worker.ts'},
});
// The fast path on its own, not split with the CLI's 25 commands: `inspect x.crt` then loads
// 3 files instead of ~25 (each ESM file costs URL resolution, a package.json lookup and a
// module job; about a fifth of the fast path's start in --cpu-prof). Its chunks are named
// fast-*.js beside cli.js.
const fastBuild = await build({...common, entryPoints: {fast: 'src/fast.ts'}, chunkNames: 'fast-[name]-[hash]', metafile: true});
const reached = oclifReachedFrom(fastBuild.metafile, 'dist/fast.js');
if (reached.length) throw new Error(`dist/fast.js must not load oclif, but it reaches ${reached.join(', ')}`);
if (!bundleOnly) {
  // docs/schemas from the XxxResult types (docs/json.md); committed, like the manifest.
  run(process.execPath, ['--import', 'tsx', 'scripts/json-schemas.ts']);
}

// The library entry (package.json "exports", docs/library.md): one ESM file per entry, with
// its own copy of the src/lib code it needs, and never oclif or any CLI module (a guard
// below fails the build if one of them is imported; test/library-pack.test.ts checks the
// installed package too). Types: tsc --emitDeclarationOnly with tsconfig.library.json.
const LIBRARY_ENTRIES = ['index', 'express', 'fastify', 'hono', 'lambda'];
const library = await build({
  absWorkingDir: root,
  entryPoints: Object.fromEntries(LIBRARY_ENTRIES.map((n) => [`library/${n}`, `src/library/${n}.ts`])),
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minifySyntax: true,
  keepNames: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
const forbidden = /^(@oclif\/|chalk$|@aws-sdk\/|express$|fastify$|hono$)/;
for (const [out, meta] of Object.entries(library.metafile.outputs)) {
  const bad = meta.imports.filter((i) => i.external && forbidden.test(i.path)).map((i) => i.path);
  const cli = Object.keys(meta.inputs).filter((i) => /^src\/(commands|ui|flows)\/|node_modules\/@oclif\//.test(i));
  if (bad.length || cli.length) throw new Error(`${out} must not load CLI code or a framework, but it imports ${[...bad, ...cli].join(', ')}`);
}
run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.library.json']);
