/**
 * Runs the built CLI (bin/run.js) exactly as a user would: a child process, real argv,
 * real stdout/stderr and exit code.
 */
import {spawn} from 'node:child_process';
import {fileURLToPath} from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON when it is JSON, else undefined. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read each command's --json by its documented shape, which the schema tests check (test/json-schema.test.ts)
  json: any;
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  input?: string | Buffer;
  /** Kill after this many ms (default 120 s). */
  timeoutMs?: number;
}

/** Runs `mtls-kit <args>` and collects its output. NO_COLOR is set unless overridden. */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({...process.env, NO_COLOR: '1', ...opts.env})) if (v !== undefined) env[k] = v;
    const child = spawn(process.execPath, [BIN, ...args], {cwd: opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe']});
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({code: code ?? -1, stdout, stderr: Buffer.concat(err).toString('utf8'), json});
    });
    child.stdin.end(opts.input ?? '');
  });
}
