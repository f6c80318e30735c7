/**
 * Runs the CLI through the fault proxy and SIGKILLs it at its n-th mutating request (S3
 * PUT/POST/DELETE, ELBv2 Create/Modify/Delete/Add/Remove/...), either before the request
 * reaches the service or after the service carried it out: what a crash at that point
 * leaves behind. Used by the deploy and destroy convergence tests.
 */
import {spawn} from 'node:child_process';
import {BIN} from './cli.js';
import type {FaultProxy} from './fault-proxy.js';

/** Resolves when the child exited; `killed` says whether the point was reached. Bounded: 60 s. */
export function runKilledAt(
  proxy: FaultProxy,
  args: string[],
  env: Record<string, string | undefined>,
  point: number,
  phase: 'before' | 'after',
): Promise<{killed: boolean}> {
  return new Promise((resolve) => {
    const e: Record<string, string> = {};
    for (const [k, v] of Object.entries({...process.env, NO_COLOR: '1', ...env})) if (v !== undefined) e[k] = v;
    const child = spawn(process.execPath, [BIN, ...args], {env: e, stdio: 'ignore'});
    let seen = 0;
    let killed = false;
    proxy.onRequest = (r, ph) => {
      if (!r.mutating || killed) return;
      if (ph === 'before') seen++;
      if (seen === point && ph === phase) {
        killed = true;
        child.kill('SIGKILL');
        if (phase === 'before') throw new Error('killed before forwarding');
      }
    };
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', () => {
      clearTimeout(timer);
      proxy.onRequest = undefined;
      resolve({killed});
    });
  });
}
