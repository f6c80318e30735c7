/**
 * Shared pieces of `npm run bench`: timing helpers and the row type every area returns.
 * Each area file (bench/<area>.ts) exports `run(ctx)`; bench/run.ts prints one table.
 */
import {spawnSync} from 'node:child_process';
import {mkdirSync, rmSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BIN = join(ROOT, 'bin/run.js');
/**
 * The Node.js every row runs on (the bench's own, process.execPath), e.g. "24.21.0". Cold-start
 * ratios against `node -e 0` depend on the Node line, so those rows name it.
 */
export const NODE = process.versions.node;

export interface BenchRow {
  /** What was measured, e.g. "cold start: --version". */
  name: string;
  /** mtls-kit's figure, with unit. */
  mtlsKit: string;
  /** The peer's figure (openssl, nginx, node -e 0), with unit and peer name. */
  peer: string;
  /** mtls-kit relative to the peer, e.g. "1.9x node" or "14.2x openssl". */
  ratio: string;
  /** The target, e.g. "<= 2.5x". */
  target: string;
  ok: boolean;
}

export interface BenchContext {
  /** A scratch folder for this area (removed at the end). */
  work: string;
  /** Smaller sizes for a quick run (BENCH_QUICK=1). */
  quick: boolean;
}

/** A scratch folder under bench/.work. */
export function scratch(area: string): string {
  const d = join(ROOT, 'bench/.work', area);
  rmSync(d, {recursive: true, force: true});
  mkdirSync(d, {recursive: true});
  return d;
}

/** Wall time of a synchronous command in ms (throws when it fails). */
export function timeCommand(cmd: string, args: string[], opts: {cwd?: string; env?: NodeJS.ProcessEnv; input?: string} = {}): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {cwd: opts.cwd, env: opts.env ?? process.env, input: opts.input, stdio: ['pipe', 'ignore', 'pipe'], maxBuffer: 1 << 30});
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr?.toString().slice(0, 500)}`);
  return ms;
}

/** Median of n runs of a command, in ms (after one warm-up run). */
export function medianCommand(n: number, cmd: string, args: string[], opts: {cwd?: string; env?: NodeJS.ProcessEnv} = {}): number {
  timeCommand(cmd, args, opts);
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push(timeCommand(cmd, args, opts));
  xs.sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)]!;
}

/** Runs a command via bash (for shell loops) and returns wall ms. */
export function timeShell(script: string, opts: {cwd?: string} = {}): number {
  return timeCommand('bash', ['-c', script], opts);
}

export const fmt = (n: number, digits = 1): string => n.toFixed(digits);
