// Writes oclif.manifest.json from the real command classes in src/commands, with oclif's
// own cacheCommand (the function `oclif manifest` uses). The bundle's entry exports lazy
// wrappers (see build.js), which carry no flags, so the manifest cannot come from it.
import {readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';

const root = new URL('..', import.meta.url);
const require = createRequire(import.meta.url);
// Not in @oclif/core's package exports; loaded by path on purpose.
const {cacheCommand} = require('../node_modules/@oclif/core/lib/util/cache-command.js') as {
  cacheCommand: (cmd: unknown, plugin: unknown, respectNoCacheDefault?: boolean) => Promise<Record<string, unknown>>;
};
const pjson = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {name: string; version: string};
const plugin = {name: pjson.name, alias: pjson.name, type: 'core'};
const ids = readdirSync(new URL('src/commands', root))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .sort();
const commands: Record<string, unknown> = {};
for (const id of ids) {
  const cls = (await import(new URL(`src/commands/${id}.ts`, root).href)).default as {id?: string; plugin?: unknown};
  cls.id = id;
  commands[id] = await cacheCommand(cls, plugin, false);
}
writeFileSync(new URL('oclif.manifest.json', root), JSON.stringify({commands, version: pjson.version}, null, 2) + '\n');
console.log(`wrote manifest (${ids.length} commands)`);
