/**
 * Hostile clients against each listener of `serve` (ALB verify, NLB, API Gateway), through
 * the real listeners (flows/serve.ts startServe) and Node's real TLS client: a replayed
 * ClientHello carrying a victim's public chain from a second connection, an alert record
 * before the Certificate, 1-byte records, an oversized chain, a trickled ClientHello
 * (bounded work, counted in the frame's work units), and hostile Lambda authorizers. Each
 * attack must be refused with a reason, and the next good client must be served.
 */
import assert from 'node:assert/strict';
import {readFileSync, writeFileSync} from 'node:fs';
import net from 'node:net';
import {join} from 'node:path';
import {Duplex} from 'node:stream';
import {after, before, describe, it} from 'node:test';
import tls from 'node:tls';
import {type RunningServe, startServe} from '../src/flows/serve.js';
import {DEFAULT_ACCESS_LOG_FORMAT, parseHeaderMappings} from '../src/lib/apigw/context.js';
import {makeServeClients, type ServeClients} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const pemsOf = (file: string): string[] => readFileSync(file, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)!;
const derOf = (pem: string): Buffer => Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
const u24 = (n: number): Buffer => Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
const record = (type: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([type, 3, 3, body.length >> 8, body.length & 0xff]), body]);
/** A TLS 1.2 Certificate handshake message with these certificates (RFC 5246 7.4.2). */
function certificateMessage(ders: Buffer[]): Buffer {
  const list = Buffer.concat(ders.flatMap((d) => [u24(d.length), d]));
  const body = Buffer.concat([u24(list.length), list]);
  return Buffer.concat([Buffer.from([11]), u24(body.length), body]);
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What the client sends, record by record: returns the bytes to send instead (possibly later). */
type Rewrite = (rec: {type: number; body: Buffer; raw: Buffer}, index: number) => Buffer | Promise<Buffer>;

/** A Duplex for tls.connect({socket}) that rewrites the client's records on their way to the server. */
class Mangler extends Duplex {
  private readonly raw: net.Socket;
  private pending = Buffer.alloc(0);
  private index = 0;
  private chain: Promise<void> = Promise.resolve();
  constructor(
    port: number,
    private readonly rewrite: Rewrite,
  ) {
    super();
    this.raw = net.connect(port, '127.0.0.1');
    this.raw.setNoDelay(true);
    this.raw.on('data', (d) => this.push(d));
    this.raw.on('end', () => this.push(null));
    this.raw.on('error', (e) => this.destroy(e));
    this.raw.on('close', () => this.destroy());
  }
  override _read(): void {}
  override _write(chunk: Buffer, _e: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 5) {
      const len = this.pending.readUInt16BE(3);
      if (this.pending.length < 5 + len) break;
      const raw = this.pending.subarray(0, 5 + len);
      this.pending = this.pending.subarray(5 + len);
      const i = this.index++;
      const rec = {type: raw[0]!, body: raw.subarray(5), raw};
      this.chain = this.chain.then(async () => {
        const out = await this.rewrite(rec, i);
        if (!this.raw.destroyed && out.length > 0) this.raw.write(out);
      });
    }
    cb();
  }
  override _destroy(e: Error | null, cb: (e?: Error | null) => void): void {
    this.raw.destroy();
    cb(e);
  }
}

type Outcome = {served: boolean; body: string; error?: string};

/** One exchange: an HTTP GET (ALB, API Gateway) or an echo (NLB), over the given socket or a plain connection. */
function exchange(
  port: number,
  kind: 'http' | 'tcp',
  o: {cert?: string; key?: string; maxVersion?: tls.SecureVersion; socket?: Duplex; path?: string},
): Promise<Outcome> {
  return new Promise((resolve) => {
    const s = tls.connect({
      ...(o.socket ? {socket: o.socket} : {port, host: '127.0.0.1'}),
      rejectUnauthorized: false,
      ...(o.cert ? {cert: readFileSync(o.cert), key: readFileSync(o.key!)} : {}),
      ...(o.maxVersion ? {maxVersion: o.maxVersion} : {}),
    });
    let body = '';
    let error: string | undefined;
    const timer = setTimeout(() => s.destroy(), 15_000);
    s.on('secureConnect', () => s.write(kind === 'http' ? `GET ${o.path ?? '/'} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n` : 'ping\n'));
    s.on('data', (d: Buffer) => {
      body += d.toString();
      if (kind === 'tcp' && body.includes('ping')) s.end();
    });
    s.on('error', (e) => {
      error = e.message;
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve({served: kind === 'http' ? /^HTTP\/1\.1 200/.test(body) : body.includes('ping'), body, ...(error ? {error} : {})});
    });
  });
}

interface Listener {
  name: 'alb' | 'nlb' | 'apigw';
  kind: 'http' | 'tcp';
  serve: RunningServe;
  port: number;
  lines: string[];
  errors: string[];
}

async function startListener(name: Listener['name'], pki: ServeClients, tmp: string, authorizer?: string): Promise<Listener> {
  const lines: string[] = [];
  const errors: string[] = [];
  const serve = await startServe({
    host: '127.0.0.1',
    listeners: [{port: 0, mode: name === 'alb' ? 'verify' : name}],
    dir: pki.dir,
    crls: [],
    ignoreExpiry: false,
    headerMap: {},
    watch: false,
    log: (l) => lines.push(l),
    onError: (m) => errors.push(m),
    onNotice: (m) => errors.push(m),
    ...(name === 'apigw'
      ? {
          apigw: {
            ...(authorizer ? {authorizer} : {}),
            payload: 'http-simple' as never,
            identitySources: [],
            ttlSeconds: 0,
            authorizerTimeoutMs: 1000,
            mappings: parseHeaderMappings([]),
            api: {region: 'us-east-1', accountId: '123456789012', apiId: 'mtlskit', stage: '$default', domainName: 'localhost'},
            accessLogFormat: DEFAULT_ACCESS_LOG_FORMAT,
            accessLog: (l: string) => lines.push(l),
            authorizerLog: () => undefined,
          },
        }
      : {}),
  });
  void tmp;
  return {name, kind: name === 'nlb' ? 'tcp' : 'http', serve, port: serve.info.listeners[0]!.port, lines, errors};
}

describe('listeners under attack: refused with a reason, and the next good client served', () => {
  const tmp = tempDir();
  let pki: ServeClients;
  const listeners: Listener[] = [];
  let big: Buffer[];

  before(async () => {
    pki = await makeServeClients(tmp);
    for (const name of ['alb', 'nlb', 'apigw'] as const) listeners.push(await startListener(name, pki, tmp));
    // 160 copies of the victim's leaf: past the reader's cap once framed in 1-byte records.
    big = Array.from({length: 120}, () => derOf(pemsOf(pki.good.cert)[0]!));
  });
  after(async () => {
    for (const l of listeners) await l.serve.close();
  });

  const good = (l: Listener): Promise<Outcome> => exchange(l.port, l.kind, {cert: pki.good.cert, key: pki.good.key});

  for (const name of ['alb', 'nlb', 'apigw'] as const) {
    const L = (): Listener => listeners.find((l) => l.name === name)!;

    it(`${name}: a ClientHello replayed from a second connection with a victim's public chain admits no one`, async () => {
      const l = L();
      const before = l.lines.length;
      const victimChain = pemsOf(pki.good.chain).map(derOf);
      let attackerB: net.Socket | undefined;
      let bSent: Promise<void> = Promise.resolve();
      // A: no certificate, no key. Its ClientHello is replayed on B together with the
      // victim's chain in a cleartext TLS 1.2 Certificate message; A's own second flight
      // waits until B has sent, as in the attack on the client-random registry.
      const mangler = new Mangler(l.port, async (rec, i) => {
        if (i === 0) {
          bSent = new Promise((resolve) => {
            attackerB = net.connect(l.port, '127.0.0.1', () => {
              attackerB!.write(Buffer.concat([rec.raw, record(22, certificateMessage(victimChain))]), () => resolve());
            });
            attackerB.on('error', () => resolve());
            attackerB.on('data', () => undefined);
          });
          return rec.raw;
        }
        await bSent;
        await sleep(100);
        return rec.raw;
      });
      const a = await exchange(l.port, l.kind, {socket: mangler, maxVersion: 'TLSv1.2'});
      attackerB?.destroy();
      assert.equal(a.served, false, `${name} served the connection without a certificate: ${a.body}`);
      // Nothing was admitted with the victim's identity.
      const added = l.lines.slice(before);
      assert.ok(!added.some((x) => /Success/.test(x) && /device-good/.test(x)), added.join('\n'));
      const next = await good(l);
      assert.ok(next.served, `the next good client was not served: ${JSON.stringify(next)}`);
    });

    it(`${name}: an alert record before the Certificate refuses the connection with the reason`, async () => {
      const l = L();
      const errorsBefore = l.errors.length;
      const mangler = new Mangler(l.port, (rec, i) => (i === 1 ? Buffer.concat([record(21, Buffer.from([1, 90])), rec.raw]) : rec.raw));
      const a = await exchange(l.port, l.kind, {socket: mangler, maxVersion: 'TLSv1.2', cert: pki.good.cert, key: pki.good.key});
      assert.equal(a.served, false);
      await sleep(50);
      assert.match(l.errors.slice(errorsBefore).join('\n'), /alert record in the middle of the client's handshake/);
      assert.ok((await good(l)).served);
    });

    it(`${name}: a chain in 1-byte records is read exactly (a good client is served)`, async () => {
      const l = L();
      let ccs = false;
      const mangler = new Mangler(l.port, (rec, i) => {
        if (rec.type === 20) ccs = true;
        if (i === 0 || ccs || rec.type !== 22) return rec.raw;
        return Buffer.concat([...rec.body].map((b) => record(22, Buffer.from([b]))));
      });
      const a = await exchange(l.port, l.kind, {socket: mangler, maxVersion: 'TLSv1.2', cert: pki.good.cert, key: pki.good.key});
      assert.ok(a.served, JSON.stringify(a));
    });

    it(`${name}: 1-byte records past the reader's cap are refused, not read from Node's chain`, async () => {
      const l = L();
      const errorsBefore = l.errors.length;
      const chainFile = join(tmp, `big-${name}.pem`);
      writeFileSync(chainFile, pemsOf(pki.good.chain).join('') + pemsOf(pki.good.cert)[0]!.repeat(big.length));
      let ccs = false;
      const mangler = new Mangler(l.port, (rec, i) => {
        if (rec.type === 20) ccs = true;
        if (i === 0 || ccs || rec.type !== 22) return rec.raw;
        return Buffer.concat([...rec.body].map((b) => record(22, Buffer.from([b]))));
      });
      const a = await exchange(l.port, l.kind, {socket: mangler, maxVersion: 'TLSv1.2', cert: chainFile, key: pki.good.key});
      assert.equal(a.served, false);
      await sleep(50);
      assert.match(l.errors.slice(errorsBefore).join('\n'), /passed 131072 bytes/);
      assert.ok((await good(l)).served);
    });

    it(`${name}: an oversized chain is refused with the reason`, async () => {
      const l = L();
      const errorsBefore = l.errors.length;
      const linesBefore = l.lines.length;
      const chainFile = join(tmp, `huge-${name}.pem`);
      writeFileSync(chainFile, pemsOf(pki.good.chain).join('') + pemsOf(pki.good.cert)[0]!.repeat(200));
      const a = await exchange(l.port, l.kind, {cert: chainFile, key: pki.good.key});
      assert.equal(a.served, false);
      await sleep(50);
      // The reason: on stderr (refused before judging) or, once judged, in the log line.
      const said = [...l.errors.slice(errorsBefore), ...l.lines.slice(linesBefore)].join('\n');
      assert.match(said, /refused|rejected|Failed:/);
      assert.match(said, /excessive message size|passed 131072 bytes|over the \d+-byte limit|message limit|Failed:ClientCert/);
      assert.ok((await good(l)).served);
    });

    it(`${name}: a trickled ClientHello costs work linear in its bytes`, async () => {
      const l = L();
      const s0 = l.serve.stats();
      const cpu0 = process.cpuUsage();
      // The ClientHello one byte per TCP segment, then the rest of the handshake as it comes.
      const mangler = new Mangler(l.port, async (rec, i) => {
        if (i !== 0) return rec.raw;
        return Buffer.alloc(0);
      });
      let hello: Buffer | undefined;
      const capture = new Mangler(l.port, (rec, i) => {
        if (i === 0) hello = rec.raw;
        return Buffer.alloc(0);
      });
      void mangler;
      const probe = tls.connect({socket: capture, rejectUnauthorized: false});
      probe.on('error', () => undefined);
      for (let i = 0; i < 50 && !hello; i++) await sleep(20);
      probe.destroy();
      assert.ok(hello, 'no ClientHello captured');
      const raw = net.connect(l.port, '127.0.0.1');
      raw.setNoDelay(true);
      raw.on('error', () => undefined);
      raw.on('data', () => undefined);
      await new Promise<void>((r) => raw.once('connect', () => r()));
      for (const b of hello) {
        raw.write(Buffer.from([b]));
        await sleep(1);
      }
      await sleep(100);
      raw.destroy();
      await sleep(100);
      const s1 = l.serve.stats();
      const cpu = process.cpuUsage(cpu0);
      const bytes = s1.tappedBytes - s0.tappedBytes;
      const work = s1.work - s0.work;
      assert.ok(bytes >= hello.length, `the reader saw ${bytes} bytes of ${hello.length}`);
      // Linear: each byte copied once into the record buffer and once out, plus a fixed cost per record.
      assert.ok(work <= 3 * bytes + 64, `work ${work} for ${bytes} bytes trickled one by one (CPU ${(cpu.user + cpu.system) / 1000} ms)`);
      assert.ok((await good(l)).served);
    });
  }
});

describe('the authorizer in a cage: a hostile authorizer costs one 500, and the next request is served', () => {
  const tmp = tempDir();
  let pki: ServeClients;
  let l: Listener;
  before(async () => {
    pki = await makeServeClients(tmp);
    const file = join(tmp, 'hostile.mjs');
    writeFileSync(
      file,
      `export const handler = async (event) => {
  const p = event.rawPath;
  if (p === '/loop') for (;;) {}
  if (p === '/exit') process.exit(3);
  if (p === '/kill') process.kill(process.pid, 'SIGTERM');
  if (p === '/killgroup') process.kill(0, 'SIGTERM');
  if (p === '/oom') { const a = []; for (;;) a.push(new Array(1e6).fill(Math.random())); }
  return {isAuthorized: true};
};
`,
    );
    l = await startListener('apigw', pki, tmp, file);
  });
  after(() => l.serve.close());

  for (const path of ['/loop', '/exit', '/kill', '/killgroup', '/oom']) {
    it(`${path}: one 500 for that request, logged; the next request is served`, async () => {
      const errorsBefore = l.errors.length;
      const bad = await exchange(l.port, 'http', {cert: pki.good.cert, key: pki.good.key, path});
      assert.match(bad.body, /^HTTP\/1\.1 500/, bad.body);
      assert.match(l.errors.slice(errorsBefore).join('\n'), /authorizer error/);
      const next = await exchange(l.port, 'http', {cert: pki.good.cert, key: pki.good.key, path: '/fine'});
      assert.match(next.body, /^HTTP\/1\.1 200/, `${next.body}\n${l.errors.slice(errorsBefore).join('\n')}`);
    });
  }
});

describe('ALB and API Gateway listener details', () => {
  const tmp = tempDir();
  let pki: ServeClients;
  const running: RunningServe[] = [];
  before(async () => {
    pki = await makeServeClients(tmp);
  });
  after(async () => {
    for (const r of running) await r.close();
  });

  it('ALB: X-Amzn-Tls-Version and X-Amzn-Tls-Cipher-Suite when the attribute is on, and X-Amzn-Trace-Id (Root kept, Self added)', async () => {
    const serve = await startServe({
      host: '127.0.0.1',
      listeners: [{port: 0, mode: 'verify'}],
      dir: pki.dir,
      crls: [],
      ignoreExpiry: false,
      headerMap: {},
      watch: false,
      tlsVersionAndCipherHeaders: true,
      log: () => undefined,
    });
    running.push(serve);
    const port = serve.info.listeners[0]!.port;
    const root = 'Root=1-67891233-abcdef012345678912345678';
    const r = await new Promise<string>((resolve) => {
      const s = tls.connect({port, host: '127.0.0.1', rejectUnauthorized: false, cert: readFileSync(pki.good.cert), key: readFileSync(pki.good.key)}, () =>
        s.write(`GET / HTTP/1.1\r\nHost: localhost\r\nX-Amzn-Trace-Id: ${root}\r\nX-Amzn-Tls-Version: SSLv2\r\nConnection: close\r\n\r\n`),
      );
      let out = '';
      s.on('data', (d) => {
        out += d;
      });
      s.on('close', () => resolve(out));
    });
    const body = JSON.parse(
      r
        .slice(r.indexOf('\r\n\r\n') + 4)
        .replace(/^[0-9a-f]+\r\n/, '')
        .replace(/\r\n0\r\n\r\n$/, ''),
    ) as {headers: Record<string, string>};
    assert.equal(body.headers['x-amzn-tls-version'], 'TLSv1.3');
    assert.equal(body.headers['x-amzn-tls-cipher-suite'], 'TLS_AES_256_GCM_SHA384');
    assert.match(body.headers['x-amzn-trace-id']!, /^Self=1-[0-9a-f]{8}-[0-9a-f]{24};Root=1-67891233-abcdef012345678912345678$/);
  });

  it('API Gateway: look-alikes of mapped headers are reported, /public/../admin reaches the authorizer as /admin, a TCP health check is not a failed handshake', async () => {
    const file = join(tmp, 'paths.mjs');
    writeFileSync(file, `export const handler = async (event) => ({isAuthorized: event.rawPath.startsWith('/public/'), context: {sub: 'x'}});\n`);
    const errors: string[] = [];
    const serve = await startServe({
      host: '127.0.0.1',
      listeners: [{port: 0, mode: 'apigw'}],
      dir: pki.dir,
      crls: [],
      ignoreExpiry: false,
      headerMap: {},
      watch: false,
      log: () => undefined,
      onError: (m) => errors.push(m),
      onNotice: (m) => errors.push(m),
      apigw: {
        authorizer: file,
        payload: 'http-simple',
        identitySources: [],
        ttlSeconds: 0,
        authorizerTimeoutMs: 2000,
        mappings: parseHeaderMappings(['x-client-cert-sub=context.authorizer.sub']),
        api: {region: 'us-east-1', accountId: '123456789012', apiId: 'mtlskit', stage: '$default', domainName: 'localhost'},
        accessLogFormat: DEFAULT_ACCESS_LOG_FORMAT,
        accessLog: () => undefined,
        authorizerLog: () => undefined,
      },
    });
    running.push(serve);
    const port = serve.info.listeners[0]!.port;
    const get = (path: string, extra = ''): Promise<string> =>
      new Promise((resolve) => {
        const s = tls.connect({port, host: '127.0.0.1', rejectUnauthorized: false, cert: readFileSync(pki.good.cert), key: readFileSync(pki.good.key)}, () =>
          s.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n${extra}Connection: close\r\n\r\n`),
        );
        let out = '';
        s.on('data', (d) => {
          out += d;
        });
        s.on('error', () => undefined);
        s.on('close', () => resolve(out));
      });
    assert.match(await get('/public/x'), /^HTTP\/1\.1 200/);
    assert.match(await get('/public/../admin'), /^HTTP\/1\.1 403/);
    assert.match(await get('/public/%2e%2e/admin'), /^HTTP\/1\.1 403/);
    await get('/public/x', 'X_Client_Cert_Sub: evil\r\n');
    assert.match(errors.join('\n'), /spoofing attempt: .* sent X_Client_Cert_Sub/);
    const before = errors.length;
    // A health check closes with FIN, or with a reset (ECONNRESET on the listener's side).
    for (const close of [(h: net.Socket) => h.end(), (h: net.Socket) => h.resetAndDestroy()])
      await new Promise<void>((resolve) => {
        const h = net.connect(port, '127.0.0.1', () => close(h));
        h.on('error', () => undefined);
        h.on('close', () => resolve());
      });
    await sleep(100);
    assert.deepEqual(errors.slice(before), [], 'a TCP health check was reported');
    // The same listener still reports a real failed handshake (a TLS ClientHello, then a reset).
    await new Promise<void>((resolve) => {
      const t = tls.connect({port, host: '127.0.0.1', rejectUnauthorized: false});
      t.on('error', () => undefined);
      t.on('close', () => resolve());
      setTimeout(() => t.destroy(), 200);
    });
    await sleep(100);
    assert.ok(
      errors.slice(before).some((e) => /rejected/.test(e)),
      `a failed handshake was not reported: ${errors.slice(before).join('; ')}`,
    );
  });
});
