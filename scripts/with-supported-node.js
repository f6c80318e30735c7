// Runs a command (the rest of the command line) on a supported Node.js: the one running
// this script when it is 22.12 or later, else Node 24 from the npm registry (.ci/node/24,
// its own small package and lockfile, installed on first use), put first on PATH so
// `node`, npm and every process the command spawns (process.execPath) run on it.
// Used by `npm run demo` and `npm test`, so the README's two commands work on a machine
// whose own Node is older (Node 20 is end of life; mtls-kit refuses it, bin/run.js).
// Kept to syntax an old Node parses, like bin/run.js.
import {spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {delimiter, join} from 'node:path';
import {fileURLToPath} from 'node:url';

/** The oldest supported Node.js (package.json `engines`; bin/run.js checks the same). */
const OLDEST = [22, 12];
/** The registry Node used when the machine's is older (the LTS line CI runs in the middle). */
const FALLBACK = '24';

const root = fileURLToPath(new URL('..', import.meta.url));
const [major, minor] = process.versions.node.split('.').map(Number);
const supported = major > OLDEST[0] || (major === OLDEST[0] && minor >= OLDEST[1]);
const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  process.stderr.write('usage: node scripts/with-supported-node.js COMMAND [ARGS...]\n');
  process.exit(2);
}
const env = {...process.env};
if (!supported) {
  const prefix = join(root, '.ci', 'node', FALLBACK);
  const bin = join(prefix, 'node_modules', 'node', 'bin');
  if (!existsSync(join(bin, 'node'))) {
    process.stderr.write(
      `Node.js ${process.version} is older than 22.12 (not supported): installing Node ${FALLBACK} from the npm registry into .ci/node/${FALLBACK} for this run\n`,
    );
    const install = spawnSync('npm', ['ci', '--prefix', prefix, '--no-audit', '--no-fund'], {stdio: ['ignore', 'ignore', 'inherit'], cwd: root});
    if (install.status !== 0) {
      process.stderr.write(
        `could not install Node ${FALLBACK} from the npm registry; install Node.js 22.12 or later (22, 24 or 26) and run the command again\n`,
      );
      process.exit(4);
    }
  }
  env.PATH = `${bin}${delimiter}${env.PATH ?? ''}`;
}
const r = spawnSync(cmd, args, {stdio: 'inherit', env});
if (r.error) {
  process.stderr.write(`${cmd}: ${r.error.message}\n`);
  process.exit(1);
}
process.exit(r.status ?? 1);
