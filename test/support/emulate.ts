/**
 * `mtls-kit emulate` as a test peer: spawned from bin/run.js with `--port 0 --json`, ready when
 * its JSON line arrives, stopped with SIGTERM (or the signal given) by the caller; or started
 * in the test's own process (startTestEmulator).
 */
import {spawn} from 'node:child_process';
import {after} from 'node:test';
import type {EmulateResult} from '../../src/commands/emulate.js';
import {type EmulatorOptions, type RunningEmulator, startEmulator} from '../../src/io/emulate/index.js';
import {BIN} from './cli.js';

/**
 * The emulator in this process on a free port of 127.0.0.1, region eu-west-1, with nothing
 * in it but what `o` names; closed when the test file ends.
 */
export async function startTestEmulator(o: Partial<EmulatorOptions>): Promise<RunningEmulator> {
  const emu = await startEmulator({port: 0, region: 'eu-west-1', buckets: [], versionedBuckets: [], albs: [], nlbs: [], domains: [], ...o});
  after(() => emu.close());
  return emu;
}

export interface SpawnedEmulate {
  info: EmulateResult;
  stderr: () => string;
  /** Sends the signal (default SIGTERM); resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** Spawns `mtls-kit emulate --port 0 <args> --json`; rejects if it exits or is not ready within 30 s. */
export function spawnEmulate(args: string[], env: Record<string, string | undefined> = {}): Promise<SpawnedEmulate> {
  return new Promise((resolve, reject) => {
    const merged: Record<string, string> = {};
    for (const [k, v] of Object.entries({...process.env, NO_COLOR: '1', ...env})) if (v !== undefined) merged[k] = v;
    const child = spawn(process.execPath, [BIN, 'emulate', '--port', '0', ...args, '--json'], {env: merged, stdio: ['ignore', 'pipe', 'pipe']});
    let out = '';
    let err = '';
    let exited: number | null = null;
    const exit = new Promise<number>((r) =>
      child.on('exit', (code, signal) => {
        exited = code ?? (signal ? 128 : -1);
        r(exited);
      }),
    );
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`emulate not ready in 30 s: ${err}`));
    }, 30_000);
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`emulate exited with ${code} before it was ready: ${err}`));
    });
    const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<number> => {
      if (exited === null) child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exit;
      clearTimeout(t);
      return code;
    };
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      try {
        resolve({info: JSON.parse(out.slice(0, nl)) as EmulateResult, stderr: () => err, stop});
      } catch {
        reject(new Error(`emulate printed ${out}`));
      }
    });
  });
}
