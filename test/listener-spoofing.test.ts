/**
 * Spoofing warnings on the ALB listeners, verify and passthrough: a client that sends an
 * mTLS identity header, its _ look-alike, or ALB's X-Amzn-Tls-Version / -Cipher-Suite gets
 * one warning naming each header and its fate, and the target never sees a forged exact
 * name. (API Gateway's look-alikes: test/listener-attacks.test.ts. NLB listeners forward
 * bytes, not headers: nothing to spoof.)
 */
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {after, before, describe, it} from 'node:test';
import tls from 'node:tls';
import {type RunningServe, startServe} from '../src/flows/serve.js';
import {makeServeClients, type ServeClients} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

/** One GET with extra raw header lines; the echo backend's view of the headers. */
function get(port: number, pki: ServeClients, extra: string): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({port, host: '127.0.0.1', rejectUnauthorized: false, cert: readFileSync(pki.good.cert), key: readFileSync(pki.good.key)}, () =>
      s.write(`GET / HTTP/1.1\r\nHost: localhost\r\n${extra}Connection: close\r\n\r\n`),
    );
    let out = '';
    const timer = setTimeout(() => s.destroy(), 10_000);
    s.on('data', (d) => (out += d));
    s.on('error', reject);
    s.on('close', () => {
      clearTimeout(timer);
      const json = out
        .slice(out.indexOf('\r\n\r\n') + 4)
        .replace(/^[0-9a-f]+\r\n/, '')
        .replace(/\r\n0\r\n\r\n$/, '');
      resolve((JSON.parse(json) as {headers: Record<string, string>}).headers);
    });
  });
}

describe('spoofing warnings on the ALB listeners (verify and passthrough)', () => {
  const tmp = tempDir();
  let pki: ServeClients;
  const running: RunningServe[] = [];
  const notices: string[][] = [];

  const start = async (tlsHeaders: boolean): Promise<RunningServe> => {
    const seen: string[] = [];
    notices.push(seen);
    const serve = await startServe({
      host: '127.0.0.1',
      listeners: [
        {port: 0, mode: 'verify'},
        {port: 0, mode: 'passthrough'},
      ],
      dir: pki.dir,
      crls: [],
      ignoreExpiry: false,
      headerMap: {},
      watch: false,
      tlsVersionAndCipherHeaders: tlsHeaders,
      log: () => undefined,
      onError: (m) => seen.push(m),
      onNotice: (m) => seen.push(m),
    });
    running.push(serve);
    return serve;
  };

  before(async () => {
    pki = await makeServeClients(tmp);
  });
  after(async () => {
    for (const s of running) await s.close();
  });

  const forged =
    'X-Amzn-Mtls-Clientcert: forged\r\nX_Amzn_Mtls_Clientcert_Subject: CN=admin\r\nX-Amzn-Tls-Version: SSLv2\r\nX_Amzn_Tls_Cipher_Suite: NULL-MD5\r\n';

  it('verify and passthrough: every forged header is named with its fate; exact names never reach the target', async () => {
    const serve = await start(true);
    const seen = notices[notices.length - 1]!;
    for (const l of serve.info.listeners) {
      const before = seen.length;
      const h = await get(l.port, pki, forged);
      const said = seen.slice(before).join('\n');
      assert.match(
        said,
        new RegExp(
          `port ${l.port} sent X-Amzn-Mtls-Clientcert, X_Amzn_Mtls_Clientcert_Subject, which read as an mTLS identity header .*forwarded as ALB does: X_Amzn_Mtls_Clientcert_Subject`,
        ),
      );
      assert.match(
        said,
        new RegExp(
          `port ${l.port} sent X-Amzn-Tls-Version, X_Amzn_Tls_Cipher_Suite, which read as ALB's TLS version/cipher header; forwarded: X_Amzn_Tls_Cipher_Suite`,
        ),
      );
      // The exact names carry the listener's own values, or nothing.
      assert.equal(h['x-amzn-tls-version'], 'TLSv1.3');
      if (l.mode === 'passthrough') assert.notEqual(h['x-amzn-mtls-clientcert'], 'forged');
      else assert.equal(h['x-amzn-mtls-clientcert'], undefined);
    }
  });

  it('with the TLS headers off, a client X-Amzn-Tls-Version is forwarded and said so', async () => {
    const serve = await start(false);
    const seen = notices[notices.length - 1]!;
    const port = serve.info.listeners.find((l) => l.mode === 'passthrough')!.port;
    const h = await get(port, pki, 'X-Amzn-Tls-Version: SSLv2\r\n');
    assert.equal(h['x-amzn-tls-version'], 'SSLv2');
    assert.match(
      seen.join('\n'),
      /sent X-Amzn-Tls-Version, which reads as ALB's TLS version\/cipher header; forwarded: X-Amzn-Tls-Version \(--tls-version-and-cipher-headers replaces/,
    );
  });
});
