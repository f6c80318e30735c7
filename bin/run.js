#!/usr/bin/env node
// mtls-kit entry point. `--version` is answered without loading oclif; so is a command
// with a fast path (FAST: an esbuild entry whose main(argv) returns an exit code, or
// undefined to hand the command to oclif, e.g. for --help); everything else runs from
// the esbuild bundle dist/cli.js (oclif and the commands in one file, see
// scripts/build.js) with the generated oclif.manifest.json.
const FAST = {'decode-header': '../dist/decode-header-fast.js'};
const argv = process.argv.slice(2);
let handled = false;
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version')) {
  const {readFileSync} = await import('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`);
  handled = true;
} else if (Object.hasOwn(FAST, argv[0] ?? '') && !argv.includes('--help') && !argv.includes('-h')) {
  const {main} = await import(FAST[argv[0]]);
  const code = await main(argv.slice(1));
  if (code !== undefined) {
    process.exitCode = code;
    handled = true;
  }
}
if (!handled) {
  const {execute} = await import('../dist/cli.js');
  await execute({dir: import.meta.url});
}
