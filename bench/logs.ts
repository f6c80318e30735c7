/**
 * `mtls-kit logs` over 1,000,000 connection-log lines (issue 6 target: >= 200,000 lines/s),
 * plain and gzip, against `zcat | awk` counting tls_verify_status as the peer (awk splits on
 * spaces only, so it does less work: no quoted subjects, no percentiles).
 */
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {gzipSync} from 'node:zlib';
import {generateConnectionLog} from '../test/support/conn-logs.js';
import {BIN, type BenchRow, fmt, medianCommand} from './lib.js';

export async function run(ctx: {work: string; quick: boolean}): Promise<BenchRow[]> {
  const n = ctx.quick ? 200_000 : 1_000_000;
  const {text} = generateConnectionLog(n);
  const plain = join(ctx.work, 'conn.log');
  const gz = join(ctx.work, 'conn.log.gz');
  writeFileSync(plain, text);
  writeFileSync(gz, gzipSync(text));
  const runs = ctx.quick ? 1 : 3;
  const rows: BenchRow[] = [];
  for (const [label, file, peerCmd] of [
    ['plain', plain, `awk '{c[$11]++} END {for (k in c) print k, c[k]}' ${plain}`],
    ['gzip', gz, `zcat ${gz} | awk '{c[$11]++} END {for (k in c) print k, c[k]}'`],
  ] as const) {
    const ms = medianCommand(runs, process.execPath, [BIN, 'logs', file, '--json']);
    const peerMs = medianCommand(runs, 'bash', ['-c', peerCmd]);
    const rate = n / (ms / 1000);
    const peerRate = n / (peerMs / 1000);
    rows.push({
      name: `logs: ${n.toLocaleString('en-US')} lines, ${label}`,
      mtlsKit: `${fmt(rate / 1000, 0)}k lines/s`,
      peer: `${fmt(peerRate / 1000, 0)}k lines/s (${label === 'gzip' ? 'zcat|awk' : 'awk'})`,
      ratio: `${fmt(rate / peerRate, 2)}x awk`,
      target: '>= 200k lines/s',
      ok: rate >= 200_000,
    });
  }
  return rows;
}
