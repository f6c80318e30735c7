/**
 * sign and list (issue 15): `sign DIR` over 2,000 CSRs (ec-p256, from gen-client
 * --csr-only) against a shell loop of `openssl x509 -req` per CSR with the same client
 * extensions; `list` over a 100,000-line index against `sort` by the expiry column.
 */
import {spawnSync} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {readdirSync, rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {type BenchContext, BIN, type BenchRow, fmt, medianCommand, timeCommand, timeShell} from './lib.js';

function cli(args: string[], cwd: string): void {
  const r = spawnSync(process.execPath, [BIN, ...args], {cwd, encoding: 'utf8', maxBuffer: 1 << 28});
  if (r.status !== 0) throw new Error(`mtls-kit ${args.join(' ')} failed: ${r.stderr.slice(-400)}`);
}

/** Removes what sign wrote, keeping the keys and requests. */
function clean(fleet: string): void {
  for (const d of readdirSync(fleet)) for (const f of ['certificate.crt', 'chain.pem']) rmSync(join(fleet, d, f), {force: true});
}

/** User + system CPU seconds of a shell command (wall time on a shared machine includes waiting for a core). */
function cpuSeconds(cmd: string): number {
  const r = spawnSync('bash', ['-c', `TIMEFORMAT='%3U %3S'; time (${cmd} > /dev/null 2>&1)`], {encoding: 'utf8'});
  const [u, s] = r.stderr.trim().split(/\s+/).slice(-2).map(Number);
  return (u ?? 0) + (s ?? 0);
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const pki = join(ctx.work, 'pki');
  cli(['gen-ca', '--dir', pki, '--intermediate', '--cn', 'Bench Root'], ctx.work);
  const count = ctx.quick ? 300 : 2000;
  const loop = ctx.quick ? 30 : 100;
  const fleet = join(ctx.work, 'csrs');
  cli(['gen-client', '--cn', 'device-{n:4}', '--count', String(count), '--csr-only', '--out', fleet, '--json'], ctx.work);

  const signMs = timeCommand(process.execPath, [BIN, 'sign', fleet, '--dir', pki, '--json'], {cwd: ctx.work});
  clean(fleet);
  const ext = join(ctx.work, 'client.ext');
  writeFileSync(
    ext,
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
  );
  const ca = join(pki, 'intermediate');
  const names = readdirSync(fleet).sort().slice(0, loop);
  const script = `set -e; for d in ${names.join(' ')}; do openssl x509 -req -in ${fleet}/$d/request.csr -CA ${ca}/ca.crt -CAkey ${ca}/ca.key -set_serial 0x$(openssl rand -hex 16) -days 365 -sha256 -extfile ${ext} -out ${fleet}/$d/certificate.crt 2>/dev/null; done`;
  const opensslMs = timeShell(script, {cwd: ctx.work});
  const rate = count / (signMs / 1000);
  const peer = loop / (opensslMs / 1000);
  rows.push({
    name: `sign DIR: ${count} CSRs (ec-p256)`,
    mtlsKit: `${fmt(rate, 0)} certs/s`,
    peer: `openssl x509 -req loop: ${fmt(peer, 1)} certs/s`,
    ratio: `${fmt(rate / peer)}x openssl`,
    target: '>= 10x',
    ok: rate / peer >= 10,
  });

  // list: a 100,000-line index (1 in 50 revoked), as a fleet's would be.
  const lines = ctx.quick ? 20_000 : 100_000;
  const big = join(ctx.work, 'pki-big');
  cli(['gen-ca', '--dir', big, '--cn', 'Big Root'], ctx.work);
  const rows100k: string[] = [];
  for (let i = 0; i < lines; i++) {
    const revoked = i % 50 === 0;
    const exp = `27${String((i % 12) + 1).padStart(2, '0')}${String((i % 28) + 1).padStart(2, '0')}120000Z`;
    rows100k.push(
      `${revoked ? 'R' : 'V'}\t${exp}\t${revoked ? '261101120000Z,keyCompromise' : ''}\t${randomBytes(16).toString('hex').toUpperCase()}\t/fleet/device-${i}/certificate.crt\t/O=Acme/CN=device-${i}\n`,
    );
  }
  const index = join(big, 'root', 'index.txt');
  writeFileSync(index, rows100k.join(''));
  const n = ctx.quick ? 3 : 5;
  const listMs = medianCommand(n, process.execPath, [BIN, 'list', '--dir', big]);
  const listCpu = cpuSeconds(`${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} list --dir ${JSON.stringify(big)}`);
  const listJsonMs = medianCommand(n, process.execPath, [BIN, 'list', '--dir', big, '--json']);
  const sortMs = medianCommand(n, 'sort', ['-t', '\t', '-k2,2', index]);
  rows.push({
    name: `list: ${lines} index lines (table)`,
    mtlsKit: `${fmt(listMs, 0)} ms (CPU ${fmt(listCpu, 2)} s)`,
    peer: `sort -k2 index.txt: ${fmt(sortMs, 0)} ms`,
    ratio: `${fmt(listMs / sortMs, 1)}x sort`,
    target: '< 1000 ms',
    ok: listMs < 1000,
  });
  rows.push({
    name: `list --json: ${lines} index lines`,
    mtlsKit: `${fmt(listJsonMs, 0)} ms`,
    peer: `sort -k2 index.txt: ${fmt(sortMs, 0)} ms`,
    ratio: `${fmt(listJsonMs / sortMs, 1)}x sort`,
    target: '< 1000 ms',
    ok: listJsonMs < 1000,
  });
  return rows;
}
