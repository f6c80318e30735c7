// Writes oclif.manifest.json from the real command classes in src/commands, with oclif's
// own cacheCommand (the function `oclif manifest` uses). The bundle's entry exports lazy
// wrappers (see build.js), which carry no flags, so the manifest cannot come from it.
import {readFileSync, writeFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
// @ts-expect-error plain JS module shared with build.js
import {commandTable} from './command-table.js';
import {createRequire} from 'node:module';

const root = new URL('..', import.meta.url);
const require = createRequire(import.meta.url);
// Not in @oclif/core's package exports; loaded by path on purpose.
const {cacheCommand} = require('../node_modules/@oclif/core/lib/util/cache-command.js') as {
  cacheCommand: (cmd: unknown, plugin: unknown, respectNoCacheDefault?: boolean) => Promise<Record<string, unknown>>;
};
const pjson = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {name: string; version: string};
const plugin = {name: pjson.name, alias: pjson.name, type: 'core'};
const table = commandTable(fileURLToPath(root)) as Array<[string, string]>;
const commands: Record<string, unknown> = {};
for (const [id, path] of table) {
  const url = new URL(path.startsWith('src/') ? path.replace(/\.js$/, '.ts') : path, root);
  const cls = (await import(url.href)).default as {id?: string; plugin?: unknown};
  cls.id = id;
  commands[id] = await cacheCommand(cls, plugin, false);
}
const ids = table.map(([id]) => id);
writeFileSync(new URL('oclif.manifest.json', root), JSON.stringify({commands, version: pjson.version}, null, 2) + '\n');
console.log(`wrote manifest (${ids.length} commands)`);
