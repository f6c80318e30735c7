#!/usr/bin/env node
// mtls-kit entry point. `--version` is answered without loading oclif; everything
// else runs from the esbuild bundle dist/cli.js (oclif and the commands in one file,
// see src/cli.ts) with the generated oclif.manifest.json.
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version')) {
  const {readFileSync} = await import('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else {
  const {execute} = await import('../dist/cli.js');
  await execute({dir: import.meta.url});
}
