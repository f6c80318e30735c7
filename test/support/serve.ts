/**
 * `mtls-kit serve` as a test peer: spawned from bin/run.js on free ports (port 0), ready
 * when its --json line arrives, stopped with SIGTERM after the test. Also the three
 * clients the tests use: curl, openssl s_client and Node's https.
 */
import {execFile, spawn, spawnSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import https from 'node:https';
import {BIN} from './cli.js';

export interface ServeListener {
  port: number;
  mode: 'verify' | 'passthrough' | 'apigw' | 'nlb' | 'cloudfront';
  viewerMtlsMode?: 'required' | 'optional' | 'passthrough';
  url: string;
  curl: string;
}

export interface SpawnedServe {
  info: {listeners: ServeListener[]; target: string; serverCa: string | null; crls: string[]};
  stderr: () => string;
  /** The process id (to send it SIGHUP). */
  pid: number;
  /** SIGTERM, resolves with the exit code. */
  stop(): Promise<number>;
}

/** Spawns `mtls-kit serve <args> --json`; rejects if it exits or is not ready within 30 s. The caller stops it (after). */
export function spawnServe(args: string[]): Promise<SpawnedServe> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', ...args, '--json'], {env: {...process.env, NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'pipe']});
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
      reject(new Error(`serve not ready in 30 s: ${err}`));
    }, 30_000);
    const stop = async (): Promise<number> => {
      if (exited === null) child.kill('SIGTERM');
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
      if (nl >= 0) {
        clearTimeout(timer);
        try {
          resolve({info: JSON.parse(out.slice(0, nl)), stderr: () => err, pid: child.pid!, stop});
        } catch {
          reject(new Error(`serve printed ${out}`));
        }
      }
    });
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited ${code}: ${err}${out}`));
    });
  });
}

export interface CurlResult {
  code: number;
  status: string;
  body: string;
  stderr: string;
}

/** curl with --cacert and optional client certificate; `%{http_code}` is 000 when no response came. Async, so a backend in the test process can answer. */
export async function curl(url: string, opts: {ca: string; cert?: string; key?: string; headers?: string[]; data?: string}): Promise<CurlResult> {
  const args = ['-sS', '--max-time', '10', '--cacert', opts.ca, '-o', '-', '-w', '\n%{http_code}'];
  if (opts.cert) args.push('--cert', opts.cert);
  if (opts.key) args.push('--key', opts.key);
  for (const h of opts.headers ?? []) args.push('-H', h);
  if (opts.data !== undefined) args.push('--data-binary', opts.data);
  const r = await new Promise<{status: number; stdout: string; stderr: string}>((resolve) => {
    execFile('curl', [...args, url], {encoding: 'utf8', timeout: 20_000}, (error, stdout, stderr) => {
      resolve({status: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr});
    });
  });
  const out = r.stdout ?? '';
  const nl = out.lastIndexOf('\n');
  return {code: r.status ?? -1, status: out.slice(nl + 1), body: out.slice(0, Math.max(0, nl)), stderr: r.stderr ?? ''};
}

/** openssl s_client sending one HTTP/1.0 request; returns everything it printed. */
export function sClient(port: number, opts: {ca: string; cert?: string; key?: string}): {code: number; output: string} {
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', opts.ca, '-quiet', '-verify_return_error'];
  if (opts.cert) args.push('-cert', opts.cert);
  if (opts.key) args.push('-key', opts.key);
  const r = spawnSync('openssl', args, {input: 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n', encoding: 'utf8', timeout: 20_000});
  return {code: r.status ?? -1, output: (r.stdout ?? '') + (r.stderr ?? '')};
}

/** Node's https client; resolves with the status and body, or with the error code when the connection fails. */
export function nodeGet(url: string, opts: {ca: string; cert?: string; key?: string}): Promise<{status?: number; body?: string; error?: string}> {
  return new Promise((resolve) => {
    const req = https.get(
      url,
      {
        ca: readFileSync(opts.ca),
        ...(opts.cert ? {cert: readFileSync(opts.cert)} : {}),
        ...(opts.key ? {key: readFileSync(opts.key)} : {}),
        agent: false,
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => resolve({status: res.statusCode ?? 0, body}));
        res.on('error', (e: NodeJS.ErrnoException) => resolve({error: e.code ?? e.message}));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({error: e.code ?? e.message}));
  });
}

/** A test PKI (support/test-pki.ts) and `serve` on a verify and a passthrough listener, logging to conn.log. */
export interface ServeFixture {
  serve: SpawnedServe;
  verifyPort: number;
  passPort: number;
  connLog: string;
}

/** Starts `serve --dir <pki> --listen 0:verify --listen 0:passthrough --connection-log <tmp>/conn.log <extra>`. */
export async function serveVerifyAndPassthrough(tmp: string, pkiDir: string, extra: string[] = []): Promise<ServeFixture> {
  const connLog = `${tmp}/conn.log`;
  const serve = await spawnServe(['--dir', pkiDir, '--listen', '0:verify', '--listen', '0:passthrough', '--connection-log', connLog, ...extra]);
  return {
    serve,
    connLog,
    verifyPort: serve.info.listeners.find((l) => l.mode === 'verify')!.port,
    passPort: serve.info.listeners.find((l) => l.mode === 'passthrough')!.port,
  };
}

/**
 * Polls `check` every 100 ms, at most 200 times (20 s); returns whether it became true.
 * serve writes its connection log after the client has its answer, so a test reads it
 * through this, never after a fixed sleep (a loaded machine writes later).
 */
export async function eventually(check: () => boolean | Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
