/**
 * OCSP area: `mtls-kit ocsp` against `openssl ocsp` as responders over the very same CA
 * directory (openssl reads the intermediate's index.txt), one client (POSTs of one prebuilt
 * request, one at a time, as a cold edge asks), answers per second; and the answers are
 * checked equal in status before timing.
 */
import {type ChildProcess, spawn, spawnSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {buildOcspRequest, parseOcspResponse} from '../src/lib/x509/ocsp.js';
import {readCertificates} from '../src/lib/x509/read-certs.js';
import {freePort} from '../test/support/tls-peers.js';
import {type BenchContext, BIN, type BenchRow, fmt} from './lib.js';

function runOk(args: string[], cwd: string): void {
  const r = spawnSync(process.execPath, [BIN, ...args], {cwd, encoding: 'utf8'});
  if (r.status !== 0) throw new Error(`mtls-kit ${args.join(' ')} failed: ${r.stderr.slice(-300)}`);
}

/** Starts a responder and waits (bounded) for `ready` on stdout or stderr. */
function start(cmd: string, args: string[], ready: RegExp, cwd: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {cwd, stdio: ['ignore', 'pipe', 'pipe']});
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${cmd} not ready: ${seen.slice(-200)}`)), 20_000);
    const on = (d: Buffer): void => {
      seen += d.toString();
      if (ready.test(seen)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
  });
}

/** n sequential POSTs; answers per second. */
async function rate(url: string, req: Uint8Array, n: number): Promise<{perSec: number; status: string}> {
  let status = '';
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const res = await fetch(url, {method: 'POST', headers: {'content-type': 'application/ocsp-request'}, body: Buffer.from(req)});
    const r = parseOcspResponse(new Uint8Array(await res.arrayBuffer()));
    status = r.basic?.responses[0]?.status.status ?? r.responseStatus;
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return {perSec: n / s, status};
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const pki = join(ctx.work, 'pki');
  runOk(['gen-ca', '--dir', pki, '--cn', 'Bench OCSP Root', '--intermediate'], ctx.work);
  runOk(['gen-client', '--dir', pki, '--cn', 'device-1', '--out', join(ctx.work, 'device-1')], ctx.work);
  const leaf = readCertificates(new Uint8Array(readFileSync(join(ctx.work, 'device-1/certificate.crt'))), 'leaf')[0]!;
  const inter = readCertificates(new Uint8Array(readFileSync(join(pki, 'intermediate/ca.crt'))), 'int')[0]!;
  const req = buildOcspRequest(leaf, inter);
  const n = ctx.quick ? 200 : 1000;

  const ourPort = await freePort();
  const ours = await start(process.execPath, [BIN, 'ocsp', '--dir', pki, '--listen', `127.0.0.1:${ourPort}`, '--json'], /"url"/, ctx.work);
  const theirPort = await freePort();
  const theirs = await start(
    'openssl',
    ['ocsp', '-index', join(pki, 'intermediate/index.txt'), '-CA', join(pki, 'intermediate/ca.crt'), '-rsigner', join(pki, 'intermediate/ca.crt')].concat([
      '-rkey',
      join(pki, 'intermediate/ca.key'),
      '-port',
      String(theirPort),
      '-ndays',
      '1',
    ]),
    /waiting for OCSP client connections/i,
    ctx.work,
  );
  try {
    await rate(`http://127.0.0.1:${ourPort}`, req, 20);
    await rate(`http://127.0.0.1:${theirPort}`, req, 20);
    const a = await rate(`http://127.0.0.1:${ourPort}`, req, n);
    const b = await rate(`http://127.0.0.1:${theirPort}`, req, n);
    if (a.status !== 'good' || b.status !== 'good') throw new Error(`answers differ from good: mtls-kit ${a.status}, openssl ${b.status}`);
    return [
      {
        name: `ocsp responder: ${n} sequential POSTs, one client`,
        mtlsKit: `${fmt(a.perSec, 0)} answers/s (${a.status})`,
        peer: `openssl ocsp -index ${fmt(b.perSec, 0)} answers/s (${b.status})`,
        ratio: `${fmt(a.perSec / b.perSec, 2)}x openssl`,
        target: '>= 0.5x',
        ok: a.perSec >= 0.5 * b.perSec,
      },
    ];
  } finally {
    for (const c of [ours, theirs]) if (c.pid !== undefined && c.exitCode === null) process.kill(c.pid, 'SIGTERM');
  }
}
