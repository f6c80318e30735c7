/**
 * Usage errors in mtls-kit's one error style: what oclif's parser rejected (an unknown
 * flag or command, a missing or extra argument, a bad option value) becomes one line, a
 * "did you mean" when a name is close, and the command's usage line, never its whole help.
 * Used by BaseCommand.catch and by the command_not_found hook (src/not-found-hook.ts).
 */
import {type ErrorCode, ExitCode} from './lib/errors.js';
import type {ErrorJson} from './ui/error-output.js';

/** What usageLine needs of a command (a class or its manifest entry). */
export interface CommandShape {
  id: string;
  args?: Record<string, {name?: string; required?: boolean} | undefined>;
  flags?: Record<string, {type?: string; required?: boolean; helpValue?: string | string[]; hidden?: boolean} | undefined>;
}

/** Edit distance (Levenshtein), for "did you mean". */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({length: b.length + 1}, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The closest of `names` to `typed` (plugin-not-found's rule: smallest edit distance),
 * or undefined when none is close enough to be a typo (distance above 40% of the length).
 */
export function closest(typed: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const n of names) {
    const d = n.startsWith(typed) && typed.length >= 3 ? 0.5 : editDistance(typed, n);
    if (d < bestD) [best, bestD] = [n, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.ceil(typed.length * 0.4)) ? best : undefined;
}

/** `mtls-kit verify CHAIN [flags]`, with the required flags spelled out. */
export function usageLine(bin: string, cmd: CommandShape): string {
  const parts = [bin, cmd.id.replaceAll(':', ' ')];
  for (const [name, a] of Object.entries(cmd.args ?? {})) parts.push(a?.required ? name.toUpperCase() : `[${name.toUpperCase()}]`);
  for (const [name, f] of Object.entries(cmd.flags ?? {})) {
    if (!f?.required) continue;
    const value = Array.isArray(f.helpValue) ? f.helpValue.join('|') : (f.helpValue ?? name.toUpperCase());
    parts.push(f.type === 'boolean' ? `--${name}` : `--${name} ${value}`);
  }
  parts.push('[flags]');
  return parts.join(' ');
}

/** The body of an oclif parse error, in the error contract's shape (exit 2). */
export function parseErrorBody(error: Error & {flags?: unknown; args?: unknown}, bin: string, cmd: CommandShape): ErrorJson['error'] {
  const kind = error.constructor.name;
  const lines = error.message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && l !== 'See more help with --help');
  let code: ErrorCode = 'USAGE';
  const multi = /^The following errors? occurred:$/.test(lines[0] ?? '');
  let message = (multi ? lines.slice(1).join('; ') : lines.join(' ')).replace(/required flag ([\w-]+)/gi, 'required flag --$1');
  const suggestions: string[] = [];
  const flagNames = Object.entries(cmd.flags ?? {})
    .filter(([, f]) => !f?.hidden)
    .map(([n]) => `--${n}`);
  if (kind === 'NonExistentFlagsError' && Array.isArray(error.flags)) {
    code = 'UNKNOWN_FLAG';
    const flags = error.flags as string[];
    message = `${cmd.id.replaceAll(':', ' ')} has no flag ${flags.join(', ')}`;
    const first = flags[0]!;
    const looksLikeValue = first.startsWith('---') || /\s/.test(first);
    const near = looksLikeValue ? undefined : closest(first.split('=')[0]!, flagNames);
    if (near) suggestions.push(`did you mean ${near}?`);
    if (looksLikeValue) suggestions.push(`a value that starts with "-" goes after "--": ${bin} ${cmd.id.replaceAll(':', ' ')} -- '${first.slice(0, 20)}...'`);
  } else if (kind === 'RequiredArgsError' && Array.isArray(error.args)) {
    code = 'MISSING_ARGUMENT';
    const args = error.args as Array<{name: string; description?: string}>;
    message = `missing ${args.map((a) => `${a.name.toUpperCase()}${a.description ? ` (${a.description.replace(/\.$/, '')})` : ''}`).join(', ')}`;
  } else if (kind === 'UnexpectedArgsError' && Array.isArray(error.args)) {
    code = 'UNEXPECTED_ARGUMENT';
    message = `unexpected argument${(error.args as string[]).length === 1 ? '' : 's'}: ${(error.args as string[]).join(' ')}`;
  } else if (kind === 'FlagInvalidOptionError' || kind === 'ArgInvalidOptionError') {
    code = 'BAD_VALUE';
  } else if (/^Flag --\S+ expects/.test(message)) {
    code = 'MISSING_VALUE';
  }
  suggestions.push(`usage: ${usageLine(bin, cmd)}`);
  suggestions.push(`${bin} ${cmd.id.replaceAll(':', ' ')} --help lists every flag`);
  return {code, message: message.charAt(0).toLowerCase() + message.slice(1), suggestions, exitCode: ExitCode.Usage};
}

/**
 * argv with every PEM-like value (starting with `-----`, or multi-line) that is not a
 * flag's value moved after `--`, so the parser takes it as an argument.
 */
export function valuesAsArguments(argv: readonly string[], flags: Record<string, {type?: string; char?: string} | undefined>): string[] {
  const takesValue = (tok: string): boolean => {
    if (tok.includes('=')) return false;
    const f = tok.startsWith('--') ? flags[tok.slice(2)] : Object.values(flags).find((x) => x?.char !== undefined && tok === `-${x.char}`);
    return f !== undefined && f.type === 'option';
  };
  const kept: string[] = [];
  const moved: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!;
    if (tok === '--') return moved.length ? [...kept, '--', ...moved, ...argv.slice(i + 1)] : [...argv];
    if (tok.startsWith('-') && takesValue(tok) && i + 1 < argv.length) {
      kept.push(tok, argv[++i]!);
      continue;
    }
    if (tok.startsWith('---') || (tok.startsWith('-') && tok.includes('\n'))) moved.push(tok);
    else kept.push(tok);
  }
  return moved.length ? [...kept, '--', ...moved] : kept;
}
