/**
 * Real TLS peers for tests: `openssl s_server` and a Node TLS client, on 127.0.0.1,
 * bounded in time, stopped by the test that starts them.
 */
import {spawn} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {connect as tcpConnect, createServer} from 'node:net';
import {Duplex} from 'node:stream';
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

/** What a client does right after the record that carries its Certificate (TLS 1.3: its first encrypted record). */
export type AfterCertificate = 'fatal-alert-46' | 'warning-alert-46' | 'garbage' | 'oversized-record' | 'close' | 'reset';

const AFTER_CERTIFICATE_BYTES: Partial<Record<AfterCertificate, Buffer>> = {
  'fatal-alert-46': Buffer.from([21, 3, 3, 0, 2, 2, 46]),
  'warning-alert-46': Buffer.from([21, 3, 3, 0, 2, 1, 46]),
  garbage: Buffer.from('GARBAGE AFTER THE CERTIFICATE\r\n'),
  'oversized-record': Buffer.concat([Buffer.from([23, 3, 3, 0x48, 0]), Buffer.alloc(0x4800, 7)]),
};

/**
 * Node's TLS client presenting `cert` (a chain file) and `key`, whose bytes pass through a
 * relay that, right after the record carrying the client's Certificate (TLS 1.2: the
 * plaintext handshake record holding message type 11; TLS 1.3: the first encrypted record,
 * which holds it), sends `after`: an alert certificate_unknown (46), garbage, an oversized
 * record, or closes or resets the connection. Resolves with what came back (maybe ''),
 * within `timeoutMs`.
 */
export function tlsAfterCertificate(
  port: number,
  client: {cert: string; key: string},
  version: 'TLSv1.2' | 'TLSv1.3',
  after: AfterCertificate,
  timeoutMs = 5000,
): Promise<string> {
  return new Promise((resolve) => {
    const raw = tcpConnect(port, '127.0.0.1');
    let done = false;
    const relay = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        let at = -1;
        for (let off = 0; !done && off + 5 <= chunk.length; ) {
          const end = off + 5 + chunk.readUInt16BE(off + 3);
          if ((chunk[off] === 22 && chunk[off + 5] === 11) || (version === 'TLSv1.3' && chunk[off] === 23)) at = end;
          if (at >= 0) break;
          off = end;
        }
        if (at < 0) {
          raw.write(chunk, cb);
          return;
        }
        done = true;
        const bytes = AFTER_CERTIFICATE_BYTES[after];
        if (bytes) raw.write(Buffer.concat([chunk.subarray(0, at), bytes, chunk.subarray(at)]), cb);
        else {
          raw.write(chunk.subarray(0, at), () => (after === 'close' ? raw.end() : raw.resetAndDestroy()));
          cb();
        }
      },
      final(cb) {
        raw.end();
        cb();
      },
      destroy(e, cb) {
        raw.destroy();
        cb(e);
      },
    });
    raw.on('data', (d: Buffer) => relay.push(d));
    raw.on('end', () => relay.push(null));
    raw.on('error', () => relay.destroy());
    raw.on('close', () => relay.destroy());
    const s = connect({
      socket: relay,
      servername: 'localhost',
      rejectUnauthorized: false,
      minVersion: version,
      maxVersion: version,
      cert: readFileSync(client.cert),
      key: readFileSync(client.key),
    });
    let data = '';
    const timer = setTimeout(() => {
      s.destroy();
      raw.destroy();
    }, timeoutMs);
    s.on('secureConnect', () => s.write('GET / HTTP/1.0\r\nHost: localhost\r\n\r\n'));
    s.on('data', (d: Buffer) => (data += d.toString()));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      raw.destroy();
      resolve(data);
    });
  });
}
