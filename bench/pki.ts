/**
 * PKI area (issue 2): cold start of `--version` and `inspect` against `node -e 0`, and
 * fleets: `gen-client --count 2000` (ec-p256) and `--count 50` (rsa-2048) against a shell
 * loop issuing the same certificates with openssl (key, CSR, sign), plus mtls-kit on one
 * worker against all cores.
 */
import {spawnSync} from 'node:child_process';
import {rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {type BenchContext, BIN, type BenchRow, fmt, medianCommand, NODE, timeShell} from './lib.js';

function cli(args: string[], cwd: string): string {
  const r = spawnSync(process.execPath, [BIN, ...args], {cwd, encoding: 'utf8', maxBuffer: 1 << 28});
  if (r.status !== 0) throw new Error(`mtls-kit ${args.join(' ')} failed: ${r.stderr.slice(-400)}`);
  return r.stdout;
}

/** Certificates per second of a fleet run, from wall time of the whole command. */
function fleetRate(work: string, pki: string, keyType: string, count: number, workers?: number): number {
  const out = join(work, `fleet-${keyType}-${workers ?? 'all'}`);
  rmSync(out, {recursive: true, force: true});
  const t0 = process.hrtime.bigint();
  cli(
    [
      'gen-client',
      '--dir',
      pki,
      '--key-type',
      keyType,
      '--cn',
      'device-{n}',
      '--count',
      String(count),
      '--out',
      out,
      ...(workers ? ['--workers', String(workers)] : []),
      '--json',
    ],
    work,
  );
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  rmSync(out, {recursive: true, force: true});
  return count / s;
}

/** The same certificates with openssl: key, CSR, sign with clientAuth extensions. */
function opensslRate(work: string, pki: string, keyType: string, count: number): number {
  const out = join(work, `openssl-${keyType}`);
  rmSync(out, {recursive: true, force: true});
  const ext = join(work, 'client.ext');
  writeFileSync(
    ext,
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
  );
  const keyArgs = keyType === 'rsa-2048' ? '-algorithm RSA -pkeyopt rsa_keygen_bits:2048' : '-algorithm EC -pkeyopt ec_paramgen_curve:P-256';
  const ca = join(pki, 'intermediate');
  const script = `set -e; mkdir -p ${out}; for i in $(seq 1 ${count}); do d=${out}/device-$i; mkdir -p $d; openssl genpkey ${keyArgs} -out $d/private-key.pem 2>/dev/null; openssl req -new -key $d/private-key.pem -subj "/CN=device-$i" -out $d/req.csr; openssl x509 -req -in $d/req.csr -CA ${ca}/ca.crt -CAkey ${ca}/ca.key -set_serial 0x$(openssl rand -hex 16) -days 365 -sha256 -extfile ${ext} -out $d/certificate.crt 2>/dev/null; done`;
  const ms = timeShell(script, {cwd: work});
  rmSync(out, {recursive: true, force: true});
  return count / (ms / 1000);
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const pki = join(ctx.work, 'pki');
  cli(['gen-ca', '--dir', pki, '--intermediate', '--cn', 'Bench Root'], ctx.work);
  cli(['gen-client', '--dir', pki, '--cn', 'bench-client', '--out', join(ctx.work, 'client')], ctx.work);
  const crt = join(ctx.work, 'client', 'certificate.crt');

  const n = ctx.quick ? 5 : 15;
  const node0 = medianCommand(n, process.execPath, ['-e', '0']);
  for (const [name, args] of [
    ['cold start: --version', ['--version']],
    ['cold start: inspect certificate.crt', ['inspect', crt]],
  ] as const) {
    const ms = medianCommand(n, process.execPath, [BIN, ...args]);
    const ratio = ms / node0;
    rows.push({
      name,
      mtlsKit: `${fmt(ms)} ms`,
      peer: `node -e 0: ${fmt(node0)} ms`,
      ratio: `${fmt(ratio, 2)}x node (Node ${NODE})`,
      target: '<= 2.5x',
      ok: ratio <= 2.5,
    });
  }

  const ecCount = ctx.quick ? 300 : 2000;
  const ecLoop = ctx.quick ? 30 : 100;
  const ec = fleetRate(ctx.work, pki, 'ec-p256', ecCount);
  const ec1 = fleetRate(ctx.work, pki, 'ec-p256', ecCount, 1);
  const ecOpenssl = opensslRate(ctx.work, pki, 'ec-p256', ecLoop);
  rows.push({
    name: `fleet ec-p256 --count ${ecCount}`,
    mtlsKit: `${fmt(ec, 0)} certs/s`,
    peer: `openssl loop: ${fmt(ecOpenssl, 1)} certs/s`,
    ratio: `${fmt(ec / ecOpenssl)}x openssl`,
    target: '>= 10x',
    ok: ec / ecOpenssl >= 10,
  });
  rows.push({
    name: `fleet ec-p256, all cores vs --workers 1`,
    mtlsKit: `${fmt(ec, 0)} certs/s`,
    peer: `1 worker: ${fmt(ec1, 0)} certs/s`,
    ratio: `${fmt(ec / ec1, 2)}x`,
    target: '>= 1.6x',
    ok: ec / ec1 >= 1.6,
  });

  const rsaCount = ctx.quick ? 10 : 50;
  const rsa = fleetRate(ctx.work, pki, 'rsa-2048', rsaCount);
  const rsaOpenssl = opensslRate(ctx.work, pki, 'rsa-2048', rsaCount);
  rows.push({
    name: `fleet rsa-2048 --count ${rsaCount}`,
    mtlsKit: `${fmt(rsa, 1)} certs/s`,
    peer: `openssl loop: ${fmt(rsaOpenssl, 1)} certs/s`,
    ratio: `${fmt(rsa / rsaOpenssl, 1)}x openssl`,
    target: 'reported',
    ok: true,
  });
  return rows;
}
