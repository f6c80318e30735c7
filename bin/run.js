#!/usr/bin/env node
// mtls-kit entry point: every command runs through oclif from the esbuild bundle
// dist/cli.js (oclif, the bundled oclif plugins and one lazy chunk per command, see
// scripts/build.js) with the generated oclif.manifest.json. Only `--version` is answered
// here without loading oclif. On Node 22.1+ compiled code is cached between runs
// (module.enableCompileCache), which roughly halves the cost of loading oclif.
//
// Two preconditions are checked first, each one line on stderr and exit 4 (README
// "Install"): a Node.js older than the oldest supported line (package.json `engines`), and a
// checkout that was never built (no dist/cli.js), instead of oclif's or Node's stack trace.
// Kept to syntax that Node 14.8 and later parse, so an old Node reaches the message.
import {existsSync} from 'node:fs';
import module from 'node:module';

/** The oldest Node.js mtls-kit runs on (package.json `engines`: ^22.12.0 || ^24 || ^26). */
const OLDEST = [22, 12];
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < OLDEST[0] || (major === OLDEST[0] && minor < OLDEST[1])) {
  process.stderr.write(
    `mtls-kit: Node.js ${process.version} is not supported; install Node.js 22.12 or later from the 22, 24 or 26 LTS line (https://nodejs.org/) and run it again\n`,
  );
  process.exit(4);
}
module.enableCompileCache?.();
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version')) {
  const {readFileSync} = await import('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else if (!existsSync(new URL('../dist/cli.js', import.meta.url))) {
  process.stderr.write(
    `mtls-kit: this checkout is not built (${new URL('../dist/', import.meta.url).pathname} is missing): run \`npm ci\` (or \`npm run build\`) in ${new URL('..', import.meta.url).pathname} first\n`,
  );
  process.exit(4);
} else {
  const {execute} = await import('../dist/cli.js');
  await execute({dir: import.meta.url});
}
