/**
 * The fast path (bin/run.js FAST_COMMANDS, docs/architecture.md "Entry path and cold start"):
 * runs `inspect` and `decode-header` without loading @oclif/core, whose import and setup are
 * most of their cold start. Built by scripts/build.js as dist/fast.js, whose import graph the
 * build checks for oclif.
 *
 * It only parses: argv goes through `node:util` `parseArgs` with the command's flag
 * definitions from oclif.manifest.json (embedded at build time: src/fast-commands.ts), following
 * BaseCommand's rules (flags before or after arguments, one value per occurrence of a
 * repeatable flag, a `-----` or multi-line value is an argument, `-` is stdin), and then
 * calls the same function the oclif command calls (src/actions). Whenever the parser is not
 * certain that oclif would read the argv the same way (help, an unknown or repeated flag, a
 * missing or empty value, a value outside `options`, dependsOn / exclusive, a missing or
 * extra argument, `--`, an environment variable oclif reads), it returns false before doing
 * anything, and bin/run.js hands the argv to oclif unchanged, so every usage error and help
 * text stays oclif's. What it prints after that is what BaseCommand and oclif print: the
 * terminal guard as in BaseCommand.init, errors as in BaseCommand.catch, `--json` results as
 * oclif's Command.logJson (JSON.stringify(result, null, 2) and a newline; no theme applies,
 * see noThemeApplies).
 */
import type {ActionContext} from './actions/context.js';
import {FAST_COMMANDS, type FastCommand} from './fast-commands.js';
import {errorBody, printErrorBody} from './ui/error-output.js';
import {guardTerminal} from './ui/output.js';
import {valuesAsArguments} from './usage.js';

// Built-ins straight from Node: an import of them (even through the bundle's require) copies
// every export of the module onto a wrapper at load, for four functions.
const {existsSync} = process.getBuiltinModule('node:fs');
const {homedir} = process.getBuiltinModule('node:os');
const {join} = process.getBuiltinModule('node:path');
const {parseArgs} = process.getBuiltinModule('node:util');

/** A command body (src/actions), called with what parseFast found (the command's own flag shape). */
type RunAction = (args: Record<string, unknown>, flags: Record<string, unknown>, ctx: ActionContext) => Promise<unknown>;

/** What a fast command runs, and whether oclif prints its result as JSON (decode-header streams its own). */
const ACTIONS: Record<string, {load: () => Promise<RunAction>; printsResult: boolean}> = {
  inspect: {load: async () => (await import('./actions/inspect.js')).runInspect as unknown as RunAction, printsResult: true},
  'decode-header': {load: async () => (await import('./actions/decode-header.js')).runDecodeHeaderCommand as unknown as RunAction, printsResult: false},
};

/** Environment variables oclif reads that change what a run prints; with one set, oclif runs. */
const OCLIF_ENV = ['DEBUG', 'MTLS_KIT_DEBUG', 'MTLS_KIT_CONTENT_TYPE', 'OCLIF_DEBUG'];

export interface FastParse {
  args: Record<string, string | undefined>;
  flags: Record<string, unknown>;
  json: boolean;
}

/**
 * argv (after the command id) parsed as oclif would parse it for `cmd`, or undefined when the
 * fast path is not certain of that (the caller then hands the argv to oclif).
 */
export function parseFast(cmd: FastCommand, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): FastParse | undefined {
  if (!cmd.strict) return undefined;
  // oclif's help flags count anywhere before `--`; `--` itself is left to oclif.
  if (argv.some((a) => a === '--help' || a === '-h' || a === '--' || a === '')) return undefined;
  if (OCLIF_ENV.some((k) => env[k] !== undefined) || env.NODE_ENV === 'development') return undefined;
  const options: Record<string, {type: 'string' | 'boolean'; multiple?: boolean; short?: string}> = {};
  for (const [name, f] of Object.entries(cmd.flags)) {
    options[name] = {type: f.type === 'boolean' ? 'boolean' : 'string', ...(f.multiple ? {multiple: true} : {}), ...(f.char ? {short: f.char} : {})};
  }
  let parsed: ReturnType<typeof parseArgs<{options: typeof options; strict: true; allowPositionals: true; tokens: true}>>;
  try {
    // node:util parseArgs (strict): throws on an unknown flag, a missing value, a value that
    // looks like a flag, and a value given to a boolean.
    parsed = parseArgs({args: valuesAsArguments(argv, cmd.flags), options, strict: true, allowPositionals: true, tokens: true});
  } catch {
    return undefined;
  }
  const given = new Map<string, number>();
  for (const t of parsed.tokens) {
    if (t.kind !== 'option') continue;
    // Only `--name`, `--name=value` and `-c value`: short groups and `-cvalue` go to oclif.
    if (t.rawName !== `--${t.name}` && !(t.rawName === `-${cmd.flags[t.name]?.char}` && !t.inlineValue)) return undefined;
    if (t.value === '') return undefined;
    given.set(t.name, (given.get(t.name) ?? 0) + 1);
  }
  const flags: Record<string, unknown> = {};
  const present = new Set<string>();
  for (const [name, f] of Object.entries(cmd.flags)) {
    const n = given.get(name) ?? 0;
    if (n > 1 && !f.multiple) return undefined;
    let value: unknown = n ? parsed.values[name] : undefined;
    if (n) present.add(name);
    else if (f.env && env[f.env] !== undefined && env[f.env] !== '') {
      if (f.type !== 'option') return undefined;
      value = env[f.env];
      present.add(name);
    } else if (f.default !== undefined) {
      if (f.dependsOn?.length) return undefined;
      value = f.default;
    } else if (f.required) return undefined;
    if (f.options && value !== undefined && ![value].flat().every((v) => f.options!.includes(String(v)))) return undefined;
    if (value !== undefined) flags[name] = value;
  }
  for (const name of present) {
    const f = cmd.flags[name]!;
    if (f.dependsOn?.some((d) => !present.has(d) && cmd.flags[d]?.default === undefined)) return undefined;
    if (f.exclusive?.some((x) => present.has(x))) return undefined;
  }
  const names = Object.keys(cmd.args);
  if (parsed.positionals.length > names.length) return undefined;
  const args: Record<string, string | undefined> = {};
  for (const [i, name] of names.entries()) {
    const a = cmd.args[name]!;
    const v = parsed.positionals[i];
    if (v === undefined && (a.required || a.default !== undefined)) return undefined;
    if (v !== undefined && a.options && !a.options.includes(v)) return undefined;
    args[name] = v;
  }
  return {args, flags, json: present.has('json')};
}

/**
 * Where oclif would colour `--json` output: a theme (`theme.json` in oclif's config folder;
 * package.json sets none) is applied by Command.logJson. Without one, logJson prints
 * JSON.stringify(result, null, 2) as it is, on a terminal too.
 */
function noThemeApplies(env: NodeJS.ProcessEnv): boolean {
  if (env.MTLS_KIT_DISABLE_THEME === 'true' || env.MTLS_KIT_DISABLE_THEME === '1') return true;
  const base = env.MTLS_KIT_CONFIG_DIR || join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'mtls-kit');
  return !existsSync(join(base, 'theme.json'));
}

/**
 * Runs command `id` with `argv` on the fast path. Returns false, having done nothing, when
 * the command has no fast path or the argv is not certain (bin/run.js then runs oclif).
 */
export async function runFast(id: string, argv: readonly string[]): Promise<boolean> {
  const cmd = FAST_COMMANDS[id];
  const action = ACTIONS[id];
  if (!cmd || !action) return false;
  const parsed = parseFast(cmd, argv);
  if (!parsed) return false;
  const {json} = parsed;
  if (json && action.printsResult && !noThemeApplies(process.env)) return false;
  // What loading @oclif/core's Command does: a reader that leaves (| head) is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
  // BaseCommand.init.
  guardTerminal(!json);
  let exitCode = 0;
  const ctx: ActionContext = {
    json,
    setExitCode: (code) => {
      exitCode = code;
    },
  };
  let result: unknown;
  try {
    result = await (await action.load())(parsed.args, parsed.flags, ctx);
  } catch (error) {
    // BaseCommand.catch, then oclif's handle(): exit with the body's code.
    const body = errorBody(error);
    printErrorBody(body, json);
    process.exit(body.exitCode);
  }
  // BaseCommand.finally, then Command._run's logJson.
  if (exitCode !== 0) process.exitCode = exitCode;
  if (result && json && action.printsResult) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  return true;
}
