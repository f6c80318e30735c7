/**
 * A peer process a test starts (an OCSP responder: `mtls-kit ocsp`, `openssl ocsp -index`),
 * ready when its output matches, stopped by its process id.
 */
import {type ChildProcess, spawn} from 'node:child_process';

/**
 * Starts `cmd args` in `cwd` and waits (bounded, 20 s) until `ready` matches its `stream`.
 * The child is pushed to `started` first, so the caller's after() stops it even on failure.
 */
export function startUntil(
  cmd: string,
  args: string[],
  ready: RegExp,
  stream: 'stdout' | 'stderr',
  opts: {cwd: string; started: ChildProcess[]},
): Promise<{child: ChildProcess; match: RegExpMatchArray}> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'}});
    opts.started.push(child);
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${cmd} not ready in 20 s: ${seen}`)), 20_000);
    child[stream]!.on('data', (d: Buffer) => {
      seen += d.toString();
      const m = seen.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve({child, match: m});
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited ${code}: ${seen}`));
    });
  });
}

/** SIGTERM to the child by its process id, when it still runs. */
export function stopProcess(child: ChildProcess | undefined): void {
  if (child && child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
}
