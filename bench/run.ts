/**
 * `npm run bench`: every area side by side with its peer, in one run, as one table.
 * BENCH_QUICK=1 runs smaller sizes; BENCH_ONLY=area1,area2 runs some areas.
 */
import {existsSync} from 'node:fs';
import {rmSync} from 'node:fs';
import {join} from 'node:path';
import {type BenchRow, ROOT, scratch} from './lib.js';

const AREAS = ['pki', 'crl', 'list', 'headers', 'library', 'serve', 'logs', 'limbo', 'sign', 'deploy', 'ocsp'];
const only = process.env.BENCH_ONLY?.split(',').filter(Boolean);
const quick = process.env.BENCH_QUICK === '1';
const rows: BenchRow[] = [];

for (const area of AREAS) {
  if (only && !only.includes(area)) continue;
  const file = join(ROOT, 'bench', `${area}.ts`);
  if (!existsSync(file)) continue;
  process.stderr.write(`bench: ${area}...\n`);
  const mod = (await import(file)) as {run: (ctx: {work: string; quick: boolean}) => Promise<BenchRow[]>};
  try {
    rows.push(...(await mod.run({work: scratch(area), quick})));
  } catch (error) {
    rows.push({name: `${area}: failed`, mtlsKit: String((error as Error).message).slice(0, 80), peer: '-', ratio: '-', target: '-', ok: false});
  }
}
rmSync(join(ROOT, 'bench/.work'), {recursive: true, force: true});

const headers = ['measure', 'mtls-kit', 'peer', 'ratio', 'target', 'ok'];
const table = rows.map((r) => [r.name, r.mtlsKit, r.peer, r.ratio, r.target, r.ok ? 'yes' : 'NO']);
const widths = headers.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
const line = (cells: string[]): string => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
console.log(line(headers));
console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
for (const t of table) console.log(line(t));
