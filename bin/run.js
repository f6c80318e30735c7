#!/usr/bin/env node
// mtls-kit entry point: commands run through oclif from the esbuild bundle dist/cli.js
// (oclif, the bundled oclif plugins and one lazy chunk per command, see scripts/build.js)
// with the generated oclif.manifest.json. Two things are answered without loading oclif:
// `--version`, here, and the commands in FAST_COMMANDS, by dist/fast.js (src/fast.ts): it
// parses their argv with node:util parseArgs from the manifest's flag definitions and runs
// the same command body (src/actions) the oclif command runs; whenever it is not certain of
// the argv (help, an unknown flag, a usage error, `--`, ...) it does nothing and oclif runs
// as before. MTLS_KIT_NO_FAST_PATH=1 always runs oclif. Cold start (docs/architecture.md):
// loading and configuring oclif is about 60 ms of a 190 ms `inspect` on Node 24. On Node
// 22.1+ compiled code is cached between runs (module.enableCompileCache).
//
// Two preconditions are checked first, each one line on stderr and exit 4 (README
// "Install"): a Node.js older than the oldest supported line (package.json `engines`), and a
// checkout that was never built (no dist/cli.js), instead of oclif's or Node's stack trace.
// Kept to syntax that Node 14.8 and later parse, so an old Node reaches the message.
// Built-ins come from process.getBuiltinModule (Node 22.3+, after the check), not from
// `import`: an ESM import of node:fs builds a facade that reads every export, fs.promises
// included, which loads a good part of Node's streams (measured: more than `node -e 0`'s own
// start in instructions).
/**
 * Commands dist/fast.js runs without oclif when their argv is plain (the one list:
 * scripts/build.js reads it from here to embed their flag definitions in dist/fast.js).
 */
const FAST_COMMANDS = ['inspect', 'decode-header'];
/** The oldest Node.js mtls-kit runs on (package.json `engines`: ^22.12.0 || ^24 || ^26). */
const OLDEST = [22, 12];
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < OLDEST[0] || (major === OLDEST[0] && minor < OLDEST[1])) {
  process.stderr.write(
    `mtls-kit: Node.js ${process.version} is not supported; install Node.js 22.12 or later from the 22, 24 or 26 LTS line (https://nodejs.org/) and run it again\n`,
  );
  process.exit(4);
}
const {existsSync} = process.getBuiltinModule('node:fs');
process.getBuiltinModule('node:module').enableCompileCache?.();
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version')) {
  const {readFileSync} = process.getBuiltinModule('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else if (!existsSync(new URL('../dist/cli.js', import.meta.url))) {
  process.stderr.write(
    `mtls-kit: this checkout is not built (${new URL('../dist/', import.meta.url).pathname} is missing): run \`npm ci\` (or \`npm run build\`) in ${new URL('..', import.meta.url).pathname} first\n`,
  );
  process.exit(4);
} else {
  const fast = FAST_COMMANDS.indexOf(argv[0]) !== -1 && !process.env.MTLS_KIT_NO_FAST_PATH;
  // runFast returns false, having done nothing, when oclif should run the argv.
  if (!fast || !(await (await import('../dist/fast.js')).runFast(argv[0], argv.slice(1)))) {
    const {execute} = await import('../dist/cli.js');
    await execute({dir: import.meta.url});
  }
}
