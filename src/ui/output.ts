/**
 * Rendering helpers: colour (chalk, off with NO_COLOR or when not a TTY), key/value
 * blocks, and a progress bar on stderr. Results go to stdout, everything else to stderr.
 */
import chalk, {Chalk, type ChalkInstance} from 'chalk';
import type {OnProgress} from '../flows/progress.js';
import {escapeTerminalText} from './escape.js';

const noColor = (): boolean => process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '';

/** Colours for stdout (results). */
export const out: ChalkInstance = noColor() ? new Chalk({level: 0}) : chalk;
/** Colours for stderr (progress, warnings, hints). */
export const err: ChalkInstance = noColor() || !process.stderr.isTTY ? new Chalk({level: 0}) : new Chalk({level: chalk.level || 1});

const GUARDED = Symbol.for('mtls-kit.terminal-guard');
type Write = NodeJS.WriteStream['write'];
let rawStderrWrite: ((s: string) => boolean) | undefined;

/**
 * The one gate of human output: every string later written to stderr, and to stdout when
 * `stdout` (not --json), goes out with terminal control characters escaped
 * (escapeTerminalText: line feeds, tabs and, when colour is on, chalk's colour codes
 * pass), whichever module wrote it (renderers, warnings, oclif's help and errors, serve's
 * log lines). Bytes (Buffer) pass as they are: binary and --json output are never changed,
 * and JSON escapes control characters itself. Called once per command (base-command.ts);
 * the progress line's own carriage returns go out through writeStatus.
 */
export function guardTerminal(stdout: boolean): void {
  const guard = (stream: NodeJS.WriteStream, colour: () => boolean): void => {
    const s = stream as NodeJS.WriteStream & {[GUARDED]?: true};
    if (s[GUARDED]) return;
    s[GUARDED] = true;
    const write = stream.write.bind(stream) as (...a: unknown[]) => boolean;
    if (stream === process.stderr) rawStderrWrite = (text) => write(text);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => write(typeof chunk === 'string' ? escapeTerminalText(chunk, colour()) : chunk, ...rest)) as Write;
  };
  guard(process.stderr, () => err.level > 0);
  if (stdout) guard(process.stdout, () => out.level > 0);
}

/** A status line redrawn in place on stderr (`\r`): its text escaped, the carriage return kept. */
function writeStatus(text: string): void {
  const line = `\r${escapeTerminalText(text, err.level > 0)}`;
  if (rawStderrWrite) rawStderrWrite(line);
  else process.stderr.write(line);
}

/** Writes one line to stdout. */
export function printLine(line = ''): void {
  process.stdout.write(line + '\n');
}

/** Writes one line to stderr. */
export function printErr(line = ''): void {
  process.stderr.write(line + '\n');
}

/** A yellow `warning:` line on stderr. */
export function warn(message: string): void {
  printErr(`${err.yellow('warning:')} ${message}`);
}

/** A dim hint line on stderr, e.g. the next command to run. */
export function hint(message: string): void {
  printErr(err.dim(message));
}

/** Renders aligned `key: value` rows. */
export function keyValues(rows: Array<[string, string | undefined]>, indent = '  '): string {
  const shown = rows.filter((r): r is [string, string] => r[1] !== undefined);
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${indent}${out.dim((k + ':').padEnd(width + 1))} ${v}`).join('\n');
}

export interface Progress {
  tick(n?: number): void;
  done(): void;
}

/**
 * A progress bar on stderr for long work. Redraws at most ~12 times a second on a TTY;
 * off a TTY (CI logs) it prints nothing until done, then one summary line.
 */
export function progressBar(label: string, total: number, enabled = true): Progress {
  const tty = Boolean(process.stderr.isTTY) && enabled;
  const start = Date.now();
  let count = 0;
  let lastDraw = 0;
  const draw = (final: boolean): void => {
    const now = Date.now();
    if (!final && now - lastDraw < 80) return;
    lastDraw = now;
    const width = 28;
    const filled = total > 0 ? Math.round((count / total) * width) : width;
    const secs = Math.max((now - start) / 1000, 0.001);
    const rate = Math.round(count / secs);
    writeStatus(`${err.cyan(label)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${count}/${total} ${rate}/s `);
    if (final) process.stderr.write('\n');
  };
  return {
    tick(n = 1) {
      count += n;
      if (tty) draw(false);
    },
    done() {
      if (tty) draw(true);
      else if (enabled) {
        const secs = (Date.now() - start) / 1000;
        printErr(`${label}: ${count}/${total} in ${secs.toFixed(2)}s`);
      }
    },
  };
}

/**
 * A timestamp with its relative form, as people read dates: "2027-11-29T12:22:25Z (in 364
 * days)", "(3 days ago)", "(in 5 hours)". Whole days from 2 days on; hours below.
 */
export function whenRelative(iso: string, now: Date = new Date()): string {
  const ms = Date.parse(iso) - now.getTime();
  if (Number.isNaN(ms)) return iso;
  const abs = Math.abs(ms);
  const hours = Math.round(abs / 3_600_000);
  // Rounded, not floored: a certificate issued for 7 days, read a moment later, expires "in 7 days".
  const days = Math.round(abs / 86_400_000);
  const minutes = Math.max(1, Math.round(abs / 60_000));
  const span =
    abs < 60_000
      ? 'now'
      : hours >= 48
        ? `${days} days`
        : hours >= 1
          ? `${hours} hour${hours === 1 ? '' : 's'}`
          : `${minutes} minute${minutes === 1 ? '' : 's'}`;
  return `${iso} (${span === 'now' ? 'now' : ms > 0 ? `in ${span}` : `${span} ago`})`;
}

/** "expires in 364 days" / "expired 3 days ago" for a notAfter. */
export function expiryPhrase(notAfter: string, now: Date = new Date()): string {
  const rel = whenRelative(notAfter, now).replace(/^.*\((.*)\)$/, '$1');
  return rel.startsWith('in ') ? `expires ${rel}` : rel === 'now' ? 'expires now' : `expired ${rel}`;
}

/**
 * The terminal side of a flow's progress events (flows/progress.ts): warnings as `warning:`
 * lines, notes dimmed, and a status line redrawn in place on a TTY or printed about every
 * 10 s (and when final) in a log.
 */
export function stderrProgress(): OnProgress {
  const tty = Boolean(process.stderr.isTTY);
  let lastPrinted = -Infinity;
  let drawing = false;
  let bar: {label: string; shown: number; progress: Progress} | undefined;
  return (e) => {
    if (e.kind === 'count') {
      if (bar?.label !== e.label) bar = {label: e.label, shown: 0, progress: progressBar(e.label, e.total)};
      bar.progress.tick(e.done - bar.shown);
      bar.shown = e.done;
      if (e.final) {
        bar.progress.done();
        bar = undefined;
      }
      return;
    }
    if (e.kind === 'warning') warn(e.text);
    else if (e.kind === 'note') printErr(err.dim(e.text));
    else if (tty) {
      writeStatus(`${err.cyan(e.text)} `);
      if (e.final) process.stderr.write('\n');
      drawing = !e.final;
    } else if (e.final || Date.now() - lastPrinted >= 10_000) {
      printErr(e.text);
      lastPrinted = Date.now();
    }
    if (drawing && e.kind !== 'status') drawing = false;
  };
}

/**
 * Writes `JSON.stringify(value, null, 2)` and a newline to `write`, byte for byte, without
 * building it as one string: an array at the top level of an object (the 100,000 rows of
 * `list --json`) is stringified `rows` elements at a time, each piece written as it is made.
 * Keeps the peak memory to one piece and lets the terminal or pipe take the first rows early.
 */
export function writePrettyJson(value: unknown, write: (chunk: string) => void = (c) => process.stdout.write(c), rows = 2000): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || typeof (value as {toJSON?: unknown}).toJSON === 'function') {
    write(`${JSON.stringify(value, null, 2)}\n`);
    return;
  }
  let first = true;
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    write(`${first ? '{\n' : ',\n'}  ${JSON.stringify(key)}: `);
    first = false;
    if (!Array.isArray(v) || v.length <= rows) {
      write(JSON.stringify(v, null, 2).replaceAll('\n', '\n  '));
      continue;
    }
    // {"x": piece} puts the piece's elements at depth 2, as they are in value: cut its frame.
    write('[\n');
    for (let i = 0; i < v.length; i += rows) {
      const piece = JSON.stringify({x: v.slice(i, i + rows)}, null, 2);
      write((i === 0 ? '' : ',\n') + piece.slice('{\n  "x": [\n'.length, piece.length - '\n  ]\n}'.length));
    }
    write('\n  ]');
  }
  write(first ? '{}\n' : '\n}\n');
}
