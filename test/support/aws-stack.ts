/**
 * AWS's own TLS stack as a test oracle (../shared/tools/aws-tls-stack, README there):
 * - `awslcVerdict`: `awslc_verify -mode s2n` (AWS-LC's X509_verify_cert as s2n-tls asks it:
 *   partial chain, no purpose, then the client purpose on every built certificate except the
 *   trust anchor; CRL_CHECK_ALL with CRL time errors ignored) or `-mode openssl` (the same
 *   library asked like `openssl verify -partial_chain -purpose sslclient`).
 * - `startS2nd`: a real s2n-tls server with --mutualAuth on 127.0.0.1, stopped by its pid.
 * Tests call `awsStackSkip()` and skip with its message only when the folder is absent.
 */
import {spawn} from 'node:child_process';
import {existsSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {freePort} from './tls-peers.js';

/** The stack beside the repository (CI clones the repo with shared/ next to it). */
export const AWS_STACK_DIR = resolve(import.meta.dirname, '..', '..', '..', 'shared', 'tools', 'aws-tls-stack');
export const AWSLC_VERIFY = join(AWS_STACK_DIR, 'awslc_verify');
export const S2ND = join(AWS_STACK_DIR, 's2nd');

/** false when the stack is present; else the message a test skips with. */
export function awsStackSkip(): false | string {
  return existsSync(AWSLC_VERIFY) && existsSync(S2ND) ? false : `AWS-LC/s2n binaries not found at ${AWS_STACK_DIR} (clone shared/ beside the repo)`;
}

export interface AwsVerdict {
  ok: boolean;
  /** `OK`, or `FAIL: error N at D: text` / `FAIL: intent: ...` / `FAIL: load ...`. */
  line: string;
  /** The X509_V_ERR number when the library refused. */
  error?: number;
}

export interface AwsVerifyFiles {
  ca: string;
  leaf: string;
  untrusted?: string;
  crl?: string;
}

function run(bin: string, args: string[], timeoutMs = 30_000): Promise<{code: number; out: string}> {
  return new Promise((done, fail) => {
    const p = spawn(bin, args, {stdio: ['ignore', 'pipe', 'pipe']});
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', fail);
    p.on('close', (code) => {
      clearTimeout(timer);
      done({code: code ?? -1, out});
    });
  });
}

/**
 * AWS-LC's verdict on a chain. `mode: 's2n'` is the reference for ALB and NLB (the way s2n-tls
 * asks); `'openssl'` with `purpose` compares path validation for a server purpose too.
 */
export async function awslcVerdict(
  files: AwsVerifyFiles,
  at: Date,
  opts: {mode?: 's2n' | 'openssl'; purpose?: 'sslclient' | 'sslserver'; crlAll?: boolean} = {},
): Promise<AwsVerdict> {
  const args = ['-mode', opts.mode ?? 's2n', '-purpose', opts.purpose ?? 'sslclient', '-CAfile', files.ca, '-attime', String(Math.floor(at.getTime() / 1000))];
  if (files.untrusted) args.push('-untrusted', files.untrusted);
  if (files.crl) args.push('-CRLfile', files.crl);
  if (opts.crlAll) args.push('-crl_all');
  args.push(files.leaf);
  const r = await run(AWSLC_VERIFY, args);
  const line = r.out.trim().split('\n').pop() ?? `exit ${r.code}`;
  const m = /^FAIL: error (\d+) at/.exec(line);
  return {ok: r.code === 0 && line === 'OK', line, ...(m ? {error: Number(m[1])} : {})};
}

export interface S2nServer {
  port: number;
  pid: number;
  /** Everything s2nd wrote (it prints `CONNECTED:` or `Failed to negotiate: ...` per connection). */
  output: () => string;
  /**
   * One handshake with a client certificate (openssl s_client; `chain` = extra certificates
   * sent after the leaf): s2n's verdict read from s2nd's own output for this connection.
   * Connections are made one at a time.
   */
  handshake: (client: {cert: string; key: string; chain?: string; tls?: '1.2' | '1.3'}) => Promise<{ok: boolean; line: string}>;
  stop: () => void;
}

/**
 * Starts `s2nd --mutualAuth -n --parallelize -t BUNDLE --cert C --key K 127.0.0.1 PORT` (with
 * self-service blinding, so a refused handshake does not stall 10-30 s). Resolves once the port
 * accepts. Stop it with `stop()` (SIGKILL to its pid).
 */
export async function startS2nd(o: {trustStore: string; cert: string; key: string}): Promise<S2nServer> {
  const port = await freePort();
  const p = spawn(S2ND, ['--mutualAuth', '-s', '-n', '--parallelize', '-t', o.trustStore, '--cert', o.cert, '--key', o.key, '127.0.0.1', String(port)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const stop = (): void => {
    if (p.pid !== undefined && p.exitCode === null) process.kill(p.pid, 'SIGKILL');
  };
  const verdicts = (): string[] => out.split('\n').filter((l) => l.startsWith('CONNECTED:') || l.startsWith('Failed to negotiate'));
  const handshake: S2nServer['handshake'] = async (client) => {
    const before = verdicts().length;
    const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-cert', client.cert, '-key', client.key, client.tls === '1.2' ? '-tls1_2' : '-tls1_3'];
    if (client.chain) args.push('-cert_chain', client.chain);
    await new Promise<void>((done) => {
      const c = spawn('openssl', args, {stdio: ['pipe', 'ignore', 'ignore']});
      const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
      setTimeout(() => c.stdin.end(), 300);
      c.on('close', () => {
        clearTimeout(timer);
        done();
      });
    });
    for (let i = 0; i < 100 && verdicts().length === before; i++) await new Promise((r) => setTimeout(r, 20));
    const line = verdicts()[before] ?? 'no verdict from s2nd';
    return {ok: line.startsWith('CONNECTED:'), line};
  };
  const {connect} = await import('node:net');
  for (let i = 0; i < 100; i++) {
    if (p.exitCode !== null) throw new Error(`s2nd exited (${p.exitCode}): ${out}`);
    if (out.includes('Listening on')) {
      const up = await new Promise<boolean>((done) => {
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          done(true);
        });
        s.once('error', () => done(false));
      });
      if (up) {
        // The probe connection itself makes s2nd log a failed negotiation; wait for it.
        for (let k = 0; k < 250 && verdicts().length === 0; k++) await new Promise((r) => setTimeout(r, 20));
        if (verdicts().length === 0) {
          stop();
          throw new Error(`s2nd did not report the probe connection: ${out}`);
        }
        return {port, pid: p.pid!, output: () => out, handshake, stop};
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  stop();
  throw new Error(`s2nd did not listen on 127.0.0.1:${port} within 5 s: ${out}`);
}
