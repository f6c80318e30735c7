/**
 * Library area of `npm run bench` (issue 23 "Speed"): decoding and judging run on every request.
 * Rates are per CPU-second of the bench process (process.cpuUsage), not wall time: the machine
 * is shared.
 * - uncached: passthrough header sets, each a different EC P-256 client certificate signed by a
 *   P-256 root (more than the parser's 1,024-entry memo, so every set is parsed by OpenSSL and
 *   its signature checked), verified per second in one process with the cache off. Target
 *   >= 20,000/s. Peer: the physical ceiling, measured in the same run: node:crypto verifying
 *   the same signatures and nothing else (crypto.verify on each TBS with the CA's KeyObject),
 *   since every uncached set needs one signature check (with `openssl speed`'s rate for the
 *   same algorithm beside it, outside Node). An informational row does the same
 *   with RSA-2048 leaf and root (the most common private-CA key; AWS Private CA's default),
 *   with its own ceiling, and another names what a team writes by hand with node:crypto
 *   (decodeURIComponent, new X509Certificate, verify against the CA key, checkIssued, the
 *   validity window; no revocation, no chain building).
 * - cached: 1,000 clients over and over with the per-leaf verdict cache on. Target >= 200,000/s.
 * - p99 added latency: an Express app behind `serve --listen PORT:passthrough`, the same
 *   keep-alive client requesting a route with the middleware and one without; the difference
 *   of their p99 end to end, and the p99 of the middleware's own time (in the app).
 */
import {verify as cryptoVerify, X509Certificate} from 'node:crypto';
import {spawnSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import https from 'node:https';
import type {AddressInfo} from 'node:net';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import express from 'express';
import {encodePassthroughHeader} from '../src/lib/alb/headers.js';
import {parseCertificate} from '../src/lib/x509/cert.js';
import {addDays, generateKeyPair, issueCertificate} from '../src/lib/x509/issue.js';
import {KEY_TYPES, type KeyType, PROFILES} from '../src/lib/x509/profiles.js';
import {toPem} from '../src/lib/x509/pem.js';
import {mtls} from '../src/library/express.js';
import {createVerifier, type MtlsVerdict} from '../src/library/index.js';
import {spawnServe} from '../test/support/serve.js';
import {BIN, type BenchContext, type BenchRow, fmt} from './lib.js';

const HEADER = 'X-Amzn-Mtls-Clientcert';

/**
 * A root CA and `n` client leaves it signed (EC P-256 unless `keyType` says otherwise, root and
 * leaves alike; clientAuth), as passthrough header values, with each leaf's signed part and signature.
 */
export function makeClients(
  n: number,
  keyType: KeyType = 'ec-p256',
): {caPem: string; caCert: X509Certificate; values: string[]; signed: Array<{tbs: Uint8Array; signature: Uint8Array}>} {
  const spec = KEY_TYPES[keyType];
  const now = new Date();
  const caKeys = generateKeyPair(spec);
  const ca = issueCertificate({
    subject: [[{type: '2.5.4.3', value: 'Bench Library Root'}]],
    issuerKey: caKeys.privateKey,
    issuerSpec: spec,
    publicKey: caKeys.publicKey,
    subjectSpec: spec,
    serialHex: '01',
    notBefore: addDays(now, -1),
    notAfter: addDays(now, 365),
    profile: PROFILES.root,
    pathLength: 0,
  });
  const caParsed = parseCertificate(ca.der);
  const leafKeys = generateKeyPair(spec);
  const values: string[] = [];
  const signed: Array<{tbs: Uint8Array; signature: Uint8Array}> = [];
  for (let i = 0; i < n; i++) {
    const leaf = issueCertificate({
      subject: [[{type: '2.5.4.3', value: `device-${i}`}]],
      issuerCert: caParsed,
      issuerKey: caKeys.privateKey,
      issuerSpec: spec,
      publicKey: leafKeys.publicKey,
      subjectSpec: spec,
      serialHex: (0x100000 + i).toString(16),
      notBefore: addDays(now, -1),
      notAfter: addDays(now, 30),
      profile: PROFILES.client,
    });
    values.push(encodePassthroughHeader([leaf.der])[1]);
    const p = parseCertificate(leaf.der);
    signed.push({tbs: p.tbs, signature: p.signature});
  }
  const caPem = toPem(ca.der, 'CERTIFICATE');
  return {caPem, caCert: new X509Certificate(caPem), values, signed};
}

/**
 * Calls `one(i)` for i = 0..total-1 and returns calls per CPU-second of this process (user +
 * system): the bench machine is shared, and wall time would measure the other processes too.
 */
function rate(total: number, one: (i: number) => void): number {
  const c0 = process.cpuUsage();
  for (let i = 0; i < total; i++) one(i);
  const c = process.cpuUsage(c0);
  return total / ((c.user + c.system) / 1e6);
}

const p99 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))]!;

async function latencyRows(ctx: BenchContext): Promise<BenchRow[]> {
  const dir = join(ctx.work, 'pki');
  const run = (args: string[]): void => {
    const r = spawnSync(process.execPath, [BIN, ...args], {encoding: 'utf8'});
    if (r.status !== 0) throw new Error(`${args[0]} failed: ${r.stderr.slice(0, 200)}`);
  };
  run(['gen-ca', '--dir', dir, '--intermediate']);
  run(['gen-client', '--dir', dir, '--cn', 'bench-client', '--out', join(ctx.work, 'client')]);
  const verifier = await createVerifier({product: 'alb-passthrough', caDir: dir, watch: false});
  const inApp: number[] = [];
  const mw = mtls({verifier});
  const app = express();
  app.get('/plain', (_req, res) => {
    res.json({ok: true});
  });
  app.use('/mtls', (req, res, next) => {
    const t0 = performance.now();
    mw(req, res, (e?: unknown) => {
      inApp.push(performance.now() - t0);
      next(e);
    });
  });
  app.get('/mtls', (req, res) => {
    res.json({ok: true, subject: (req as unknown as {mtls: MtlsVerdict}).mtls.identity?.subject});
  });
  const backend = app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => backend.once('listening', () => r()));
  const port = (backend.address() as AddressInfo).port;
  const serve = await spawnServe(['--dir', dir, '--listen', '0:passthrough', '--target', `http://127.0.0.1:${port}`]);
  try {
    const url = serve.info.listeners[0]!.url;
    const agent = new https.Agent({
      keepAlive: true,
      maxSockets: 1,
      ca: readFileSync(serve.info.serverCa ?? join(dir, 'root/ca.crt')),
      cert: readFileSync(join(ctx.work, 'client/certificate.crt')),
      key: readFileSync(join(ctx.work, 'client/private-key.pem')),
    });
    const once = (path: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const t0 = performance.now();
        https
          .get(`${url}${path.slice(1)}`, {agent}, (res) => {
            res.resume();
            res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`${path}: HTTP ${res.statusCode}`))));
          })
          .on('error', reject);
      });
    const n = ctx.quick ? 300 : 2000;
    const plain: number[] = [];
    const withMtls: number[] = [];
    for (let i = 0; i < 50; i++) await once('/mtls'); // warm-up (and the verdict cache)
    inApp.length = 0;
    for (let i = 0; i < n; i++) {
      plain.push(await once('/plain'));
      withMtls.push(await once('/mtls'));
    }
    agent.destroy();
    const added = p99(withMtls) - p99(plain);
    return [
      {
        name: 'library: p99 added per request, Express behind serve passthrough',
        mtlsKit: `${fmt(added * 1000, 0)} µs (p99 ${fmt(p99(withMtls), 2)} ms)`,
        peer: `no middleware: p99 ${fmt(p99(plain), 2)} ms`,
        ratio: `${fmt(p99(withMtls) / p99(plain), 2)}x`,
        target: 'info',
        ok: true,
      },
      {
        name: 'library: p99 of the middleware itself (in the app)',
        mtlsKit: `${fmt(p99(inApp) * 1000, 0)} µs`,
        peer: '-',
        ratio: '-',
        target: 'info',
        ok: true,
      },
    ];
  } finally {
    await serve.stop();
    await new Promise<void>((r) => backend.close(() => r()));
    verifier.close();
  }
}

interface UncachedFigures {
  /** Header sets verified per CPU-second by createVerifier with the cache off. */
  rate: number;
  /** The ceiling: the same signatures checked by node:crypto and nothing else, per CPU-second. */
  ceiling: number;
  /** What a team writes by hand with node:crypto, per CPU-second. */
  byHand: number;
}

/**
 * Uncached verification of `distinct` different leaves of one key type, side by side with the
 * physical ceiling (one signature check per set, nothing else) measured right after it.
 */
async function uncachedFigures(keyType: KeyType, distinct: number, rounds: number): Promise<UncachedFigures & {bytes: Buffer[]; caPem: string}> {
  const {caPem, caCert, values, signed} = makeClients(distinct, keyType);
  const verifier = await createVerifier({product: 'alb-passthrough', trustStore: caPem, cacheSize: 0});
  // Each request's header value is a fresh string made from bytes, as an HTTP parser makes it
  // (a string used again would keep V8's hash of it, which no real request does).
  const bytes = values.map((v) => Buffer.from(v, 'latin1'));
  const fresh = (i: number): string => bytes[i % distinct]!.toString('latin1');
  let failed = 0;
  // Warm-up (JIT), then the measured rounds.
  rate(1000, (i) => {
    if (verifier.verifyHeaders([HEADER, fresh(i)]).code !== null) failed++;
  });
  const verified = rate(distinct * rounds, (i) => {
    if (verifier.verifyHeaders([HEADER, fresh(i)]).code !== null) failed++;
  });
  verifier.close();
  const caKey = caCert.publicKey;
  const one = (i: number): void => {
    const s = signed[i % distinct]!;
    if (!cryptoVerify('sha256', s.tbs, caKey, s.signature)) failed++;
  };
  rate(1000, one);
  const ceiling = rate(distinct * rounds, one);
  const byHand = rate(distinct * rounds, (i) => {
    const x = new X509Certificate(decodeURIComponent(fresh(i)));
    const t = Date.now();
    if (!(x.verify(caKey) && x.checkIssued(caCert) && Date.parse(x.validFrom) <= t && t < Date.parse(x.validTo))) failed++;
  });
  if (failed) throw new Error(`${failed} ${keyType} verifications failed; the bench certificates should all pass`);
  return {rate: verified, ceiling, byHand, bytes, caPem};
}

/**
 * Signatures verified per CPU-second by `openssl speed` (its default measures user CPU time):
 * the machine's own ceiling for one algorithm, outside Node. NaN when openssl cannot say.
 */
function opensslVerifyRate(algorithm: 'ecdsap256' | 'rsa2048'): number {
  const r = spawnSync('openssl', ['speed', '-seconds', '1', '-mr', algorithm], {encoding: 'utf8', timeout: 60_000});
  // -mr: "+F4:<index>:256:<sign/s>:<verify/s>" (ECDSA), "+F2:<index>:2048:<sign/s>:<verify/s>" (RSA).
  const line = /^\+F[24]:\d+:\d+:[\d.]+:([\d.]+)$/m.exec(r.stdout ?? '');
  return line ? Number(line[1]) : Number.NaN;
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  // More distinct certificates than lib/x509/cert.ts's 1,024-entry parse memo: every set is parsed afresh.
  const distinct = ctx.quick ? 3000 : 6000;
  const rounds = ctx.quick ? 1 : 2;
  const p256 = await uncachedFigures('ec-p256', distinct, rounds);
  const rsa = await uncachedFigures('rsa-2048', distinct, rounds);
  const speed = {p256: opensslVerifyRate('ecdsap256'), rsa: opensslVerifyRate('rsa2048')};
  const cached = await createVerifier({product: 'alb-passthrough', trustStore: p256.caPem});
  let failed = 0;
  const check = (v: MtlsVerdict): void => {
    if (v.code !== null) failed++;
  };
  const hot = (i: number): string => p256.bytes[i % 1000]!.toString('latin1');
  rate(1000, (i) => check(cached.verifyHeaders([HEADER, hot(i)])));
  const cachedRate = rate(ctx.quick ? 200_000 : 1_000_000, (i) => check(cached.verifyHeaders([HEADER, hot(i)])));
  if (failed) throw new Error(`${failed} verifications failed; the bench certificates should all pass`);
  const k = (r: number): string => `${fmt(r / 1000)}k per CPU-s`;
  const rows: BenchRow[] = [
    {
      name: `library: uncached header sets verified/s (${distinct} clients, EC P-256)`,
      mtlsKit: k(p256.rate),
      peer: `ceiling ${k(p256.ceiling)}: node:crypto P-256 verify only (openssl speed: ${k(speed.p256)})`,
      ratio: `${fmt(p256.rate / p256.ceiling, 2)}x ceiling`,
      target: '>= 20k/s',
      ok: p256.rate >= 20_000,
    },
    {
      name: `library: uncached header sets verified/s (${distinct} clients, RSA-2048)`,
      mtlsKit: k(rsa.rate),
      peer: `ceiling ${k(rsa.ceiling)}: node:crypto RSA-2048 verify only (openssl speed: ${k(speed.rsa)})`,
      ratio: `${fmt(rsa.rate / rsa.ceiling, 2)}x ceiling`,
      target: `info (20k/s: ${rsa.rate >= 20_000 ? 'reached' : 'not reached'})`,
      ok: true,
    },
    {
      name: 'library: uncached, node:crypto by hand (no chain, no revocation)',
      mtlsKit: `P-256 ${k(p256.byHand)}; RSA-2048 ${k(rsa.byHand)}`,
      peer: `mtls-kit P-256 ${k(p256.rate)}; RSA-2048 ${k(rsa.rate)}`,
      ratio: `mtls-kit ${fmt(p256.rate / p256.byHand, 2)}x; ${fmt(rsa.rate / rsa.byHand, 2)}x`,
      target: 'info',
      ok: true,
    },
    {
      name: 'library: cached header sets verified/s (1,000 clients)',
      mtlsKit: `${fmt(cachedRate / 1000)}k per CPU-s`,
      peer: `${fmt(p256.byHand / 1000)}k per CPU-s, node:crypto by hand`,
      ratio: `${fmt(cachedRate / p256.byHand, 1)}x`,
      target: '>= 200k/s',
      ok: cachedRate >= 200_000,
    },
  ];
  cached.close();
  rows.push(...(await latencyRows(ctx)));
  return rows;
}
