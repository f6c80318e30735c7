// The command table of the bundle (scripts/build.js) and of the manifest (scripts/manifest.ts):
// every file in src/commands, plus the commands of the oclif plugins mtls-kit bundles.
//
// Why bundled rather than listed in package.json `oclif.plugins`: each plugin ships its own
// @oclif/core (5.x beside our 4.x) and oclif would load and configure each as a separate
// plugin on every run. Measured on Node 20 (CPU time, median of 9): `inspect` went from
// 2.2x to 2.5x `node -e 0` and `help` to 3.9x, and the plugins warn on Node 20. Bundled,
// their command classes run on our one @oclif/core and load only when invoked.
// plugin-not-found's hook is replaced by src/hooks/not-found.ts (same closest-name rule,
// but our one-line error style, exit 2 and a JSON error document with --json).
import {readdirSync} from 'node:fs';

/** Plugin command id → its module (the default export is the command class). */
export const PLUGIN_COMMANDS = {
  help: 'node_modules/@oclif/plugin-help/lib/commands/help.js',
  autocomplete: 'node_modules/@oclif/plugin-autocomplete/lib/commands/autocomplete/index.js',
  'autocomplete:create': 'node_modules/@oclif/plugin-autocomplete/lib/commands/autocomplete/create.js',
  'autocomplete:script': 'node_modules/@oclif/plugin-autocomplete/lib/commands/autocomplete/script.js',
};

/** Every command as [id, path relative to the repository root], sorted by id (root: a folder path). */
export function commandTable(root) {
  const own = readdirSync(`${root}/src/commands`)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => [f.slice(0, -3), `src/commands/${f.slice(0, -3)}.js`]);
  return [...own, ...Object.entries(PLUGIN_COMMANDS)].sort((a, b) => (a[0] < b[0] ? -1 : 1));
}
