/**
 * CRL area: a 500,000-entry CRL (ALB's per-trust-store maximum) written by `mtls-kit crl`
 * against `openssl ca -gencrl` over the very same index.txt (openssl ca format), with peak
 * memory; then verify throughput with that CRL loaded (one process) and the CRL load time,
 * against `openssl verify -crl_check` on the same chain.
 */
import {spawnSync} from 'node:child_process';
import {copyFileSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {loadCrl} from '../src/lib/x509/crl.js';
import {formatIndexLine} from '../src/lib/x509/index-db.js';
import {readCertificates} from '../src/lib/x509/read-certs.js';
import {newSerialHex} from '../src/lib/x509/serial.js';
import {ALB_POLICY, judgeChain, prepareTrustStore} from '../src/lib/alb/verify.js';
import {type BenchContext, BIN, type BenchRow, fmt} from './lib.js';

/** Wall ms and peak RSS (KB, from GNU time) of one command. */
function timed(cmd: string, args: string[], cwd: string): {ms: number; kb: number} {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], {cwd, encoding: 'utf8', maxBuffer: 1 << 26});
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.slice(-400)}`);
  const kb = Number(r.stderr.trim().split('\n').pop());
  return {ms, kb};
}

function run1(cmd: string, args: string[], cwd?: string): void {
  const r = spawnSync(cmd, args, {cwd, encoding: 'utf8'});
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.slice(-400)}`);
}

/** Appends n revoked entries (random serials) to an openssl-ca index.txt. */
export function writeIndexFile(path: string, n: number): void {
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const notAfter = new Date(now.getTime() + 365 * 86_400_000);
  const lines: string[] = [readFileSync(path, 'utf8')];
  for (let i = 0; i < n; i++)
    lines.push(
      formatIndexLine({
        status: 'R',
        notAfter,
        revokedAt: now,
        ...(i % 4 === 0 ? {reason: 'keyCompromise' as const} : {}),
        serial: newSerialHex(),
        file: 'unknown',
        subject: `/CN=device-${i}`,
      }),
    );
  writeFileSync(path, lines.join(''));
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const n = ctx.quick ? 50_000 : 500_000;
  const label = ctx.quick ? '50k' : '500k';
  const pki = join(ctx.work, 'pki');
  run1(process.execPath, [BIN, 'gen-ca', '--dir', pki, '--intermediate', '--cn', 'Bench Root']);
  run1(process.execPath, [BIN, 'gen-client', '--dir', pki, '--cn', 'bench-client', '--out', join(ctx.work, 'client')]);
  const tier = join(pki, 'intermediate');

  // One index of n revoked certificates, read by both tools (built in a function so the
  // strings are garbage before the load is timed).
  writeIndexFile(join(tier, 'index.txt'), n);
  writeFileSync(join(tier, 'crlnumber-openssl'), '01\n');
  const cnf = join(ctx.work, 'openssl-ca.cnf');
  writeFileSync(
    cnf,
    `[ ca ]\ndefault_ca = CA_default\n[ CA_default ]\ndatabase = ${join(tier, 'index.txt')}\ncrlnumber = ${join(tier, 'crlnumber-openssl')}\ncertificate = ${join(tier, 'ca.crt')}\nprivate_key = ${join(tier, 'ca.key')}\ndefault_md = sha256\ndefault_crl_days = 30\ncrl_extensions = crl_ext\n[ crl_ext ]\nauthorityKeyIdentifier = keyid:always\n`,
  );

  const ours = timed(process.execPath, [BIN, 'crl', '--dir', pki], ctx.work);
  const theirs = timed('openssl', ['ca', '-config', cnf, '-gencrl', '-out', join(ctx.work, 'openssl-crl.pem')], ctx.work);
  const crlFile = join(tier, 'crl.pem');
  const size = statSync(crlFile).size;
  const rows: BenchRow[] = [
    {
      name: `crl: ${label} entries (peak RSS)`,
      mtlsKit: `${fmt(ours.ms / 1000, 2)} s, ${fmt(ours.kb / 1024, 0)} MB, ${fmt(size / 1048576, 1)} MB file`,
      peer: `openssl ca -gencrl ${fmt(theirs.ms / 1000, 2)} s, ${fmt(theirs.kb / 1024, 0)} MB`,
      ratio: `${fmt(ours.ms / theirs.ms, 2)}x openssl`,
      target: '<= 1x, < 1 GB, < 50 MB',
      ok: ours.ms <= theirs.ms && ours.kb < 1024 * 1024 && size < 50 * 1048576,
    },
  ];

  // Load time: read + parse + index every serial.
  const t0 = process.hrtime.bigint();
  const crl = loadCrl(readFileSync(crlFile), crlFile);
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const opensslParse = timed('openssl', ['crl', '-in', crlFile, '-noout'], ctx.work);
  rows.push({
    name: `crl: load ${label}-entry CRL`,
    mtlsKit: `${fmt(loadMs, 0)} ms (${crl.entryCount} serials)`,
    peer: `openssl crl -noout ${fmt(opensslParse.ms, 0)} ms`,
    ratio: `${fmt(loadMs / opensslParse.ms, 2)}x openssl`,
    target: '< 2 s',
    ok: loadMs < 2000,
  });

  // Verify throughput with the CRL loaded, one process.
  const bundle = join(pki, 'ca-bundle.pem');
  const chainFile = join(ctx.work, 'client/chain.pem');
  const store = prepareTrustStore(readCertificates(readFileSync(bundle), bundle));
  const chain = readCertificates(readFileSync(chainFile), chainFile);
  // The one verifier with ALB's policy, as verify, decode-header, probe, lint and serve call it.
  const ctxV = {trustStore: store, crls: [crl], at: new Date()};
  const verifyChain = (p: {chain: typeof chain}) => judgeChain(p.chain, ALB_POLICY, ctxV);
  const params = {chain};
  const first = verifyChain(params);
  if (first.status !== 'Success' || !first.revocationChecked) throw new Error('bench chain does not verify against the CRL');
  for (let i = 0; i < 3000; i++) verifyChain(params); // warm-up (JIT, caches)
  let count = 0;
  const v0 = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < (ctx.quick ? 1000 : 3000)) {
    for (let i = 0; i < 500; i++) verifyChain(params);
    count += 500;
    elapsed = Number(process.hrtime.bigint() - v0) / 1e6;
  }
  const perSec = count / (elapsed / 1000);
  const ov = timed('openssl', ['verify', '-CAfile', bundle, '-crl_check', '-CRLfile', crlFile, chainFile], ctx.work);
  rows.push({
    name: `verify: chains/s with ${label} CRL loaded`,
    mtlsKit: `${fmt(perSec, 0)}/s (1 process, EC P-256)`,
    peer: `openssl verify -crl_check ${fmt(1000 / ov.ms, 2)}/s (${fmt(ov.ms, 0)} ms/run incl. CRL load)`,
    ratio: `${fmt(perSec / (1000 / ov.ms), 0)}x openssl`,
    target: '>= 5000/s',
    ok: perSec >= 5000,
  });
  copyFileSync(crlFile, join(ctx.work, 'last-crl.pem'));
  return rows;
}
