// The fast path's two build-time rules (scripts/build.js, src/fast.ts): its flag table comes
// from oclif.manifest.json with only properties the fast parser handles, and dist/fast.js
// never reaches oclif. Both throw or report at build time; test/fast-path.test.ts plants a
// violation of each.

/** Manifest flag properties that only change help text. */
const COSMETIC = new Set(['name', 'summary', 'description', 'helpValue', 'helpGroup', 'helpLabel', 'hasDynamicHelp', 'hidden', 'noCacheDefault', 'allowNo']);
/** Manifest flag properties src/fast.ts's parseFast applies (FastFlag). */
const HANDLED = ['type', 'char', 'multiple', 'options', 'dependsOn', 'exclusive', 'default', 'env', 'required'];

/**
 * src/fast.ts's FAST_COMMANDS table for the command `ids`, from the manifest's flags and
 * args. Throws when a command is missing, is not strict, or has a flag property (other than
 * an empty or false one) the fast parser would not apply, e.g. `relationships`, `delimiter`,
 * `aliases`, `allowNo: true`: teach src/fast.ts or take the command out of FAST_COMMANDS.
 */
export function fastCommandTable(manifest, ids) {
  const table = {};
  for (const id of ids) {
    const c = manifest.commands?.[id];
    if (!c) throw new Error(`bin/run.js FAST_COMMANDS names ${id}, which oclif.manifest.json does not have`);
    if (c.strict === false) throw new Error(`${id} is not strict; the fast path parses only strict commands`);
    const flags = {};
    for (const [name, f] of Object.entries(c.flags ?? {})) {
      const out = {};
      for (const [k, v] of Object.entries(f)) {
        if (v === undefined || v === false || (Array.isArray(v) && v.length === 0)) continue;
        if (k === 'allowNo' && v === true) throw new Error(`${id} --${name}: allowNo is not handled by the fast path (src/fast.ts)`);
        if (COSMETIC.has(k)) continue;
        if (!HANDLED.includes(k)) throw new Error(`${id} --${name}: flag property ${k} is not handled by the fast path (src/fast.ts parseFast)`);
        out[k] = v;
      }
      flags[name] = out;
    }
    const args = {};
    for (const [name, a] of Object.entries(c.args ?? {})) {
      args[name] = {
        ...(a.required ? {required: true} : {}),
        ...(a.options ? {options: a.options} : {}),
        ...(a.default !== undefined ? {default: a.default} : {}),
      };
    }
    table[id] = {flags, args, strict: true};
  }
  return table;
}

/** Inputs that mean oclif: @oclif packages, the bundle's command table, and src modules that import @oclif/core. */
const OCLIF = /(^|\/)node_modules\/@oclif\/|^mtls-kit:cli$|^src\/(base-command|flags|help|not-found-hook)\.ts$|^src\/commands\//;

/**
 * The oclif inputs (and external @oclif imports) that `output` (e.g. 'dist/fast.js') can load,
 * following static and dynamic imports between esbuild's outputs in `metafile`.
 */
export function oclifReachedFrom(metafile, output) {
  const seen = new Set();
  const bad = new Set();
  const visit = (o) => {
    if (seen.has(o)) return;
    seen.add(o);
    const meta = metafile.outputs[o];
    if (!meta) return;
    for (const input of Object.keys(meta.inputs)) if (OCLIF.test(input)) bad.add(input);
    for (const i of meta.imports) {
      if (i.external) {
        if (i.path.startsWith('@oclif/')) bad.add(i.path);
      } else visit(i.path);
    }
  };
  visit(output);
  return [...bad].sort();
}
