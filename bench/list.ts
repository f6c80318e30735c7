/**
 * list area: `mtls-kit list` (table, and --json) of a 100,000-line index.txt against awk
 * printing the same columns from the same file and sorting them by expiry (the `openssl ca`
 * index has no lister; awk | sort is what people run). Target: under 1 s.
 */
import {spawnSync} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {formatIndexLine} from '../src/lib/x509/index-db.js';
import {type BenchContext, BIN, type BenchRow, fmt, medianCommand} from './lib.js';

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const n = 100_000;
  const pki = join(ctx.work, 'pki');
  const r = spawnSync(process.execPath, [BIN, 'gen-ca', '--dir', pki], {encoding: 'utf8'});
  if (r.status !== 0) throw new Error(`gen-ca failed: ${r.stderr}`);
  const now = Date.now();
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const revoked = i % 50 === 0;
    lines.push(
      formatIndexLine({
        status: revoked ? 'R' : 'V',
        notAfter: new Date(now + (i % 400) * 86_400_000),
        ...(revoked ? {revokedAt: new Date(now)} : {}),
        serial: (i + 0x100000).toString(16).toUpperCase().padStart(32, '0'),
        file: `/srv/fleet/device-${i}/certificate.crt`,
        subject: `/C=US/O=Acme Devices/CN=device-${i}`,
      }),
    );
  }
  const index = join(pki, 'root', 'index.txt');
  writeFileSync(index, lines.join(''));
  const runs = ctx.quick ? 1 : 3;
  const text = medianCommand(runs, process.execPath, [BIN, 'list', '--dir', pki]);
  const json = medianCommand(runs, process.execPath, [BIN, 'list', '--dir', pki, '--json']);
  const awk = medianCommand(runs, 'bash', ['-c', `awk -F'\\t' '{print $2, $1, $4, $6}' ${index} | sort -k1,1 > /dev/null`]);
  return [
    {
      name: 'list: 100k-line index (table)',
      mtlsKit: `${fmt(text / 1000, 2)} s`,
      peer: `awk | sort ${fmt(awk / 1000, 2)} s`,
      ratio: `${fmt(text / awk, 1)}x awk`,
      target: '< 1 s',
      ok: text < 1000,
    },
    {
      name: 'list: 100k-line index (--json)',
      mtlsKit: `${fmt(json / 1000, 2)} s`,
      peer: `awk | sort ${fmt(awk / 1000, 2)} s`,
      ratio: `${fmt(json / awk, 1)}x awk`,
      target: '< 1 s',
      ok: json < 1000,
    },
  ];
}
