/**
 * Conformance area: the x509-limbo suite (test/fixtures/limbo) as test/limbo.test.ts runs
 * it: every case through mtls-kit's verifier in process and through `openssl verify` on
 * the same files. Rows: the whole run's wall time, and mtls-kit's own verification time
 * for all cases against openssl's (one process per case, as the test runs it).
 */
import {mkdirSync} from 'node:fs';
import {join} from 'node:path';
import {caseTime, loadLimbo, mtlsVerdict, opensslVerdict, runLimbo, writeCaseFiles} from '../test/support/limbo.js';
import {type BenchContext, type BenchRow, fmt} from './lib.js';

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const cases = loadLimbo();
  const now = new Date();
  const t0 = performance.now();
  const rows = await runLimbo(cases, join(ctx.work, 'suite'), now, 4);
  const suiteMs = performance.now() - t0;
  const disagree = rows.filter((r) => !r.agree).length;

  // mtls-kit alone (in process) against openssl alone (one process per case, serially).
  const t1 = performance.now();
  for (const c of cases) mtlsVerdict(c, caseTime(c, now), 'sslclient');
  const mtlsMs = performance.now() - t1;
  const dir = join(ctx.work, 'serial');
  mkdirSync(dir, {recursive: true});
  const sample = cases.slice(0, ctx.quick ? 40 : cases.length);
  const t2 = performance.now();
  for (const c of sample) await opensslVerdict(writeCaseFiles(c, dir), caseTime(c, now), 'sslclient');
  const opensslMs = ((performance.now() - t2) * cases.length) / sample.length;
  return [
    {
      name: `limbo suite: ${rows.length} comparisons (${disagree} disagree, listed)`,
      mtlsKit: `${fmt(suiteMs / 1000)} s`,
      peer: '-',
      ratio: '-',
      target: 'runs in the test suite',
      ok: true,
    },
    {
      name: `limbo: verify ${cases.length} cases (sslclient)`,
      mtlsKit: `${fmt(mtlsMs)} ms`,
      peer: `${fmt(opensslMs)} ms openssl verify`,
      ratio: `${fmt(opensslMs / mtlsMs)}x`,
      target: 'faster than openssl',
      ok: mtlsMs < opensslMs,
    },
  ];
}
