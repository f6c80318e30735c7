/**
 * Real TLS peers for tests: `openssl s_server` and a Node TLS client, on 127.0.0.1,
 * bounded in time, stopped by the test that starts them.
 */
import {spawn} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {createServer} from 'node:net';
import {connect} from 'node:tls';
import {join} from 'node:path';
import {opensslOk} from './openssl.js';

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const {port} = s.address() as {port: number};
      s.close(() => resolve(port));
    });
  });
}

/**
 * A self-signed P-256 certificate made by openssl: for localhost by default; `o.name` names the
 * files and CN, `o.ext` adds `-addext` extensions (e.g. `extendedKeyUsage=serverAuth`).
 */
export function opensslServerCert(dir: string, o: {name?: string; ext?: string[]; days?: number} = {}): {key: string; cert: string} {
  const key = join(dir, o.name ? `${o.name}.key` : 'srv.key');
  const cert = join(dir, o.name ? `${o.name}.crt` : 'srv.crt');
  opensslOk([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-subj',
    `/CN=${o.name ?? 'localhost'}`,
    '-days',
    String(o.days ?? 1),
    ...(o.ext ?? []).flatMap((e) => ['-addext', e]),
  ]);
  return {key, cert};
}

/**
 * Starts `openssl s_server -www` with the given extra arguments; resolves once it
 * accepts. `stop()` kills it.
 */
export async function startOpensslServer(args: string[]): Promise<{port: number; stop: () => void}> {
  const port = await freePort();
  const server = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-www', ...args], {stdio: ['ignore', 'pipe', 'pipe']});
  const stop = (): void => {
    server.kill('SIGKILL');
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error('openssl s_server did not start within 10 s'));
    }, 10_000);
    server.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ACCEPT')) {
        clearTimeout(timer);
        resolve();
      }
    });
    server.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`openssl s_server exited (${code})`));
    });
  });
  return {port, stop};
}

/**
 * Connects with an optional client key and certificate chain (files), sends an HTTP/1.0
 * GET, and returns what came back: the response text, or `error <message>`.
 */
export function tlsGet(port: number, client: {key?: string; cert?: string} = {}, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      rejectUnauthorized: false,
      ...(client.key ? {key: readFileSync(client.key)} : {}),
      ...(client.cert ? {cert: readFileSync(client.cert)} : {}),
    });
    let data = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve(`timeout ${data}`);
    }, timeoutMs);
    s.on('secureConnect', () => s.write('GET / HTTP/1.0\r\nHost: localhost\r\n\r\n'));
    s.on('data', (d: Buffer) => (data += d.toString()));
    s.on('error', (e) => {
      clearTimeout(timer);
      resolve(`error ${e.message}`);
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
  });
}
