// Build: type-check, then bundle oclif and every command in src/commands with
// esbuild into dist/cli.js (plus lazily loaded chunks, and the fleet worker), then
// regenerate oclif.manifest.json from the bundle. The manifest is committed; a test
// fails when it is stale.
//
// Why a bundle: cold start (issue 2 "Speed": a command within 2.5x `node -e 0`).
// Resolving and compiling @oclif/core's hundreds of files cost ~75 ms of CPU; from one
// file it is about half. Heavy dependencies (AWS SDK, PKCS#12 schemas) stay behind
// dynamic imports and load only in the commands that use them. oclif finds the
// commands through its `explicit` discovery strategy (package.json oclif.commands),
// so there is one copy of oclif in the process.
import {execFileSync} from 'node:child_process';
import {readdirSync, rmSync} from 'node:fs';
import {build} from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const run = (cmd, args) => execFileSync(cmd, args, {stdio: 'inherit', cwd: root});
rmSync(`${root}dist`, {recursive: true, force: true});
run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit']);

// The bundle entry, generated: every file in src/commands is a command, each in its own
// chunk behind a wrapper whose static run() imports it, so a command compiles only its
// own code (oclif calls Command.run(argv, config); flags and help come from the manifest).
const commands = readdirSync(`${root}src/commands`)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .sort();
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
  `export const COMMANDS = {${commands.map((c) => `${JSON.stringify(c)}: lazy(() => import('./src/commands/${c}.js'))`).join(', ')}};`,
].join('\n');

await build({
  absWorkingDir: root,
  // decode-header-fast: decode-header without oclif (bin/run.js FAST; issue 4 cold start).
  entryPoints: {cli: 'mtls-kit:cli', 'fleet-worker': 'src/io/fleet-worker.ts', 'decode-header-fast': 'src/fast/decode-header.ts'},
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minifySyntax: true,
  minifyWhitespace: true,
  keepNames: true,
  legalComments: 'none',
  // Chunks beside cli.js, so `new URL('./x.js', import.meta.url)` means dist/x.js everywhere.
  chunkNames: '[name]-[hash]',
  // oclif only reaches for these in development mode (ts-node); never bundle them.
  external: ['typescript', 'ts-node'],
  // oclif and its dependencies are CommonJS and call require() on Node built-ins.
  banner: {js: "import {createRequire as __mtlsKitCreateRequire} from 'node:module'; const require = __mtlsKitCreateRequire(import.meta.url);"},
  logLevel: 'warning',
  plugins: [
    {
      name: 'mtls-kit-entry',
      setup(b) {
        b.onResolve({filter: /^mtls-kit:cli$/}, () => ({path: 'cli', namespace: 'mtls-kit'}));
        b.onLoad({filter: /.*/, namespace: 'mtls-kit'}, () => ({contents: entry, loader: 'ts', resolveDir: root}));
      },
    },
  ],
});
run(process.execPath, ['--import', 'tsx', 'scripts/manifest.ts']);
