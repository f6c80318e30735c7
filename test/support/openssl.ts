/**
 * The real openssl CLI as a test peer.
 */
import {spawnSync} from 'node:child_process';

export interface OpensslResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `openssl <args>` synchronously. */
export function openssl(args: string[], opts: {cwd?: string; input?: string | Buffer} = {}): OpensslResult {
  const r = spawnSync('openssl', args, {cwd: opts.cwd, input: opts.input, encoding: 'utf8', timeout: 120_000});
  if (r.error) throw r.error;
  return {code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr};
}

/** Runs openssl and throws with its stderr when it fails. */
export function opensslOk(args: string[], opts: {cwd?: string; input?: string | Buffer} = {}): string {
  const r = openssl(args, opts);
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}
