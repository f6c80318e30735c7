/**
 * `serve` judges and forwards the chain the client PRESENTED (order, duplicates and
 * unrelated certificates kept), read from the handshake on the wire, on TLS 1.2 and on
 * TLS 1.3 with each of its cipher suites; and refuses TLS 1.2 renegotiation.
 */
import assert from 'node:assert/strict';
import {execFile, spawn} from 'node:child_process';
import {existsSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {parseConnectionLogLine} from '../src/lib/alb/connection-log.js';
import {eventually, type ServeFixture, serveVerifyAndPassthrough} from './support/serve.js';
import {makeServeClients, type ServeClients} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const pems = (file: string): string[] =>
  readFileSync(file, 'utf8')
    .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)!
    .map((p) => (p.endsWith('\n') ? p : p + '\n'));

/** The TLS variants a client can pick; each must give the same presented chain. */
const VARIANTS: Array<{name: string; args: string[]}> = [
  {name: 'TLS 1.3 AES-128-GCM', args: ['--tlsv1.3', '--tls13-ciphers', 'TLS_AES_128_GCM_SHA256']},
  {name: 'TLS 1.3 AES-256-GCM', args: ['--tlsv1.3', '--tls13-ciphers', 'TLS_AES_256_GCM_SHA384']},
  {name: 'TLS 1.3 ChaCha20-Poly1305', args: ['--tlsv1.3', '--tls13-ciphers', 'TLS_CHACHA20_POLY1305_SHA256']},
  {name: 'TLS 1.2', args: ['--tlsv1.2', '--tls-max', '1.2']},
];

function curlWith(url: string, ca: string, cert: string, key: string, extra: string[]): Promise<{code: number; body: string; stderr: string}> {
  return new Promise((resolve) => {
    execFile(
      'curl',
      ['-sS', '--max-time', '10', '--cacert', ca, '--cert', cert, '--key', key, ...extra, url],
      {encoding: 'utf8', timeout: 20_000},
      (error, stdout, stderr) => {
        resolve({code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, body: stdout, stderr});
      },
    );
  });
}

describe('serve: the chain as presented', () => {
  const tmp = tempDir();
  let pki: ServeClients;
  let fx: ServeFixture | undefined;
  let fifty: string;
  let mixed: string;
  let mixedPems: string[];

  after(() => fx?.serve.stop());
  before(async () => {
    pki = await makeServeClients(tmp);
    fx = await serveVerifyAndPassthrough(tmp, pki.dir);
    const [leaf] = pems(pki.good.cert);
    const [, intermediate] = pems(pki.good.chain3);
    const root = readFileSync(pki.rootCert, 'utf8');
    // A good leaf and its intermediate, then 48 copies of an unrelated leaf: 50 certificates.
    // Node's re-linked view of this chain (getPeerCertificate(true)) is two long and passes.
    fifty = join(tmp, 'fifty.pem');
    writeFileSync(fifty, leaf! + intermediate! + pems(pki.untrusted.cert)[0]!.repeat(48));
    // Leaf, an unrelated leaf, the leaf again, the intermediate, the root.
    mixedPems = [leaf!, pems(pki.untrusted.cert)[0]!, leaf!, intermediate!, root];
    mixed = join(tmp, 'mixed.pem');
    writeFileSync(mixed, mixedPems.join(''));
  });

  const logLines = (): string[] => (existsSync(fx!.connLog) ? readFileSync(fx!.connLog, 'utf8').split('\n').filter(Boolean) : []);
  /** The first connection-log line after `before` lines, once serve has written it (bounded wait). */
  const nextLog = async (before: number): Promise<ReturnType<typeof parseConnectionLogLine>> => {
    await eventually(() => logLines().length > before);
    return parseConnectionLogLine(logLines()[before]!);
  };

  for (const v of VARIANTS) {
    it(`${v.name}: a 50-certificate chain is refused with ClientCertMaxChainDepthExceeded`, async () => {
      const before = logLines().length;
      const r = await curlWith(`https://127.0.0.1:${fx!.verifyPort}/`, pki.rootCert, fifty, pki.good.key, v.args);
      assert.notEqual(r.code, 0, 'no HTTP response');
      assert.equal(r.body, '');
      const entry = (await nextLog(before))!;
      assert.equal(entry.verifyStatus, 'Failed:ClientCertMaxChainDepthExceeded');
      assert.equal(entry.clientIp, '127.0.0.1');
    });

    it(`${v.name}: passthrough forwards duplicates and unrelated certificates exactly as presented`, async () => {
      const r = await curlWith(`https://127.0.0.1:${fx!.passPort}/`, pki.rootCert, mixed, pki.good.key, v.args);
      assert.equal(r.code, 0, r.stderr);
      const h = JSON.parse(r.body).headers as Record<string, string>;
      const forwarded = decodeURIComponent(h['x-amzn-mtls-clientcert']!).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)!;
      assert.equal(forwarded.length, 5);
      assert.deepEqual(
        forwarded.map((p) => p.trim()),
        mixedPems.map((p) => p.trim()),
      );
    });
  }

  it('a good leaf with its intermediate still gets through on verify (TLS 1.3 and 1.2)', async () => {
    for (const v of [VARIANTS[0]!, VARIANTS[3]!]) {
      const r = await curlWith(`https://127.0.0.1:${fx!.verifyPort}/`, pki.rootCert, pki.good.cert, pki.good.key, v.args);
      assert.equal(r.code, 0, `${v.name}: ${r.stderr}`);
      assert.equal(JSON.parse(r.body).headers['x-amzn-mtls-clientcert-serial-number'], pki.good.serial);
    }
  });

  it('TLS 1.2 renegotiation is refused (openssl s_client R), as s2n-tls does', async () => {
    const out = await new Promise<string>((resolve) => {
      const child = spawn(
        'openssl',
        ['s_client', '-connect', `127.0.0.1:${fx!.verifyPort}`, '-CAfile', pki.rootCert, '-cert', pki.good.cert, '-key', pki.good.key, '-tls1_2'],
        {stdio: ['pipe', 'pipe', 'pipe']},
      );
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.stderr.on('data', (d: Buffer) => (text += d.toString()));
      const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.on('close', () => {
        clearTimeout(kill);
        resolve(text);
      });
      // Once connected, ask for a renegotiation, then send a request on the same connection.
      const wait = setInterval(() => {
        if (/Verify return code/.test(text)) {
          clearInterval(wait);
          child.stdin.write('R\n');
          setTimeout(() => child.stdin.end('GET / HTTP/1.0\r\n\r\n'), 500);
        }
      }, 50);
      child.on('close', () => clearInterval(wait));
    });
    assert.match(out, /RENEGOTIATING/);
    // No second handshake completes: the server answers no_renegotiation and the
    // connection does not carry a request afterwards.
    assert.match(out, /no renegotiation/i);
    assert.doesNotMatch(out, /HTTP\/1\.[01] 200/);
  });
});
