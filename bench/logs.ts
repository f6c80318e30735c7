/**
 * `mtls-kit logs` over 1,000,000 connection-log lines, plain and gzip, against `zcat | awk`
 * counting one field as the peer (awk splits on spaces only, so it does less work: no quoted
 * subjects, no percentiles, no validation). Issue 26 target: at least 0.5x awk's lines/s on one
 * core (--workers 1); a third row reads the same lines as 8 files with one thread per core.
 */
import {mkdirSync, writeFileSync} from 'node:fs';
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
    const ms = medianCommand(runs, process.execPath, [BIN, 'logs', file, '--json', '--workers', '1']);
    const peerMs = medianCommand(runs, 'bash', ['-c', peerCmd]);
    const rate = n / (ms / 1000);
    const peerRate = n / (peerMs / 1000);
    rows.push({
      name: `logs: ${n.toLocaleString('en-US')} lines, ${label}, one core`,
      mtlsKit: `${fmt(rate / 1000, 0)}k lines/s`,
      peer: `${fmt(peerRate / 1000, 0)}k lines/s (${label === 'gzip' ? 'zcat|awk' : 'awk'})`,
      ratio: `${fmt(rate / peerRate, 2)}x awk`,
      target: '>= 0.5x awk',
      ok: rate / peerRate >= 0.5,
    });
  }
  // Many files: the same lines split into 8 files, read with one worker thread per core.
  const dir = join(ctx.work, 'many');
  mkdirSync(dir, {recursive: true});
  const lines = text.split('\n');
  const per = Math.ceil(lines.length / 8);
  for (let i = 0; i < 8; i++) writeFileSync(join(dir, `conn_${i}.log`), lines.slice(i * per, (i + 1) * per).join('\n') + '\n');
  const ms = medianCommand(runs, process.execPath, [BIN, 'logs', dir, '--json']);
  const peerMs = medianCommand(runs, 'bash', ['-c', `cat ${dir}/*.log | awk '{c[$11]++} END {for (k in c) print k, c[k]}'`]);
  const rate = n / (ms / 1000);
  const peerRate = n / (peerMs / 1000);
  rows.push({
    name: `logs: ${n.toLocaleString('en-US')} lines in 8 files, every core`,
    mtlsKit: `${fmt(rate / 1000, 0)}k lines/s`,
    peer: `${fmt(peerRate / 1000, 0)}k lines/s (awk, one core)`,
    ratio: `${fmt(rate / peerRate, 2)}x awk`,
    target: '>= 0.5x awk',
    ok: rate / peerRate >= 0.5,
  });
  return rows;
}
