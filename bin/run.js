#!/usr/bin/env node
// mtls-kit entry point: every command runs through oclif from the esbuild bundle
// dist/cli.js (oclif, the bundled oclif plugins and one lazy chunk per command, see
// scripts/build.js) with the generated oclif.manifest.json. Only `--version` is answered
// here without loading oclif. On Node 22.1+ compiled code is cached between runs
// (module.enableCompileCache), which roughly halves the cost of loading oclif.
import module from 'node:module';

module.enableCompileCache?.();
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version')) {
  const {readFileSync} = await import('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else {
  const {execute} = await import('../dist/cli.js');
  await execute({dir: import.meta.url});
}
