/**
 * `mtls-kit logs` over 1,000,000 connection-log lines, plain and gzip, against `zcat | awk`.
 * The target rows' awk counts one space-separated field (`$11`: the subject holds a space, so
 * that is the serial), far less work than a summary: it never finds the quoted subject, checks
 * nothing and keeps no latencies. Issue 26 target: at least 0.5x that awk's lines/s on one core
 * (--workers 1); a third row reads the same lines as 8 files with one thread per core. A last
 * row, for information, runs an awk that computes the same counts as `logs` (statuses,
 * protocols, ciphers, listener ports, failures by code and client, first and last timestamp)
 * without the latency percentiles or any validation, so the comparison with awk stays honest.
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
  // awk computing the same counts as the summary (not the percentiles: awk cannot sort), for information.
  const sameCounts = [
    'awk \'{ n = split($0, q, "\\""); split(q[3], r, " ");',
    'st[r[3]]++; pr[$5]++; ci[$6]++; po[$4]++; if ($7 != "-") { lat++ }',
    'if (r[3] ~ /^Failed:/) f[r[3] SUBSEP r[2] SUBSEP q[2]]++;',
    'if (min == "" || $1 < min) min = $1; if ($1 > max) max = $1 }',
    'END { for (k in st) print k, st[k]; for (k in pr) print k, pr[k]; for (k in ci) print k, ci[k];',
    `for (k in po) print k, po[k]; for (k in f) print k, f[k]; print min, max, lat }' ${plain}`,
  ].join(' ');
  {
    const ms = medianCommand(runs, process.execPath, [BIN, 'logs', plain, '--json', '--workers', '1']);
    const peerMs = medianCommand(runs, 'bash', ['-c', sameCounts]);
    const rate = n / (ms / 1000);
    const peerRate = n / (peerMs / 1000);
    rows.push({
      name: `logs: ${n.toLocaleString('en-US')} lines, plain, one core, vs awk computing the same counts`,
      mtlsKit: `${fmt(rate / 1000, 0)}k lines/s`,
      peer: `${fmt(peerRate / 1000, 0)}k lines/s (awk, same counts)`,
      ratio: `${fmt(rate / peerRate, 2)}x awk`,
      target: '(information)',
      ok: true,
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
