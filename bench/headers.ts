/**
 * Headers area of `npm run bench` (issue 4 "Speed"):
 * - decode 100,000 captured verify-mode header sets from one file, in one node process
 *   running the command's own modules (src/, through tsx) on the code path decode-header runs: readHeaderInput → decodeHeaderSet → toSetResult, i.e. sniffing,
 *   percent-decoding, certificate parsing, the four header checks and the certificate
 *   details. Target >= 20,000 sets/s. Every set carries a different client certificate
 *   (same issuer), the worst case for decode-header's small per-value memos.
 * - the same file end to end, `decode-header --file F --json` (for information).
 * - cold start of `decode-header <one leaf value>` against `node -e 0`; target <= 2.5x.
 */
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {spawnSync} from 'node:child_process';
import {parseCertificate} from '../src/lib/x509/cert.js';
import {TAG} from '../src/lib/x509/der.js';
import {encodeNameDer} from '../src/lib/x509/dn.js';
import {encodeVerifyHeaders} from '../src/lib/alb/headers.js';
import {buildCert} from '../test/support/cert-builder.js';
import {BIN, type BenchContext, type BenchRow, fmt, medianCommand, NODE, ROOT, timeCommand} from './lib.js';

const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

/** Writes `sets` verify-mode header sets ("Name: value" lines, blank line between). */
export function writeCapture(path: string, sets: number, distinct: number): string {
  const blocks: string[] = [];
  const issuer = encodeNameDer([
    [{oid: '2.5.4.6', tag: TAG.PrintableString, value: utf8('EE')}],
    [{oid: '2.5.4.10', tag: TAG.UTF8String, value: utf8('SK ID Solutions AS')}],
    [{oid: '2.5.4.3', tag: TAG.UTF8String, value: utf8('ESTEID2018')}],
  ]);
  for (let i = 0; i < distinct; i++) {
    const subject = encodeNameDer([
      [{oid: '2.5.4.6', tag: TAG.PrintableString, value: utf8('EE')}],
      [{oid: '2.5.4.3', tag: TAG.UTF8String, value: utf8(`MÄNNIK,MARILIIS,${47101010033 + i}`)}],
      [{oid: '2.5.4.5', tag: TAG.PrintableString, value: utf8(`PNOEE-${47101010033 + i}`)}],
    ]);
    const serial = Buffer.alloc(16);
    serial.writeUInt32BE(0x12db3f24 + i, 0);
    serial.writeUInt32BE(i * 7919, 12);
    const cert = parseCertificate(buildCert({subject, issuer, serial}).der);
    blocks.push(
      encodeVerifyHeaders(cert)
        .map(([n, v]) => `${n.toLowerCase()}: ${v}`)
        .join('\n'),
    );
  }
  const out: string[] = [];
  for (let i = 0; i < sets; i++) out.push(blocks[i % distinct]!);
  const text = out.join('\n\n') + '\n';
  writeFileSync(path, text);
  return text;
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const sets = ctx.quick ? 10_000 : 100_000;
  const file = join(ctx.work, 'captured.txt');
  writeCapture(file, sets, sets);

  // In-process, the command's own path (minus printing), in a fresh node process on
  // src/ so that the certificate generation above leaves no garbage behind.
  const script = `
    import {readFileSync} from 'node:fs';
    const {readHeaderInput} = await import(${JSON.stringify(join(ROOT, 'src/lib/alb/header-input.ts'))});
    const {decodeHeaderSet} = await import(${JSON.stringify(join(ROOT, 'src/lib/alb/headers.ts'))});
    const {toSetResult} = await import(${JSON.stringify(join(ROOT, 'src/lib/alb/decode-header-result.ts'))});
    const t0 = process.hrtime.bigint();
    const input = readHeaderInput(readFileSync(process.argv[1], 'utf8'), 'capture');
    let decoded = 0, warnings = 0;
    for (const fields of input.sets) {
      const set = decodeHeaderSet(fields);
      if (!set) continue;
      warnings += toSetResult(set).warnings.length;
      decoded++;
    }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    process.stdout.write(JSON.stringify({decoded, warnings, secs}));`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, file], {encoding: 'utf8', maxBuffer: 1 << 20});
  if (child.status !== 0) throw new Error(`in-process decode failed: ${child.stderr.slice(0, 300)}`);
  const {decoded, warnings, secs} = JSON.parse(child.stdout) as {decoded: number; warnings: number; secs: number};
  if (decoded !== sets || warnings !== 0) throw new Error(`decoded ${decoded}/${sets} sets with ${warnings} warnings`);
  const rate = decoded / secs;
  // The target is for 100,000 sets; in a quick run (10,000) JIT warm-up is a third of the time.
  rows.push({
    name: `decode ${sets.toLocaleString('en-US')} verify header sets (in-process)`,
    mtlsKit: `${fmt(rate / 1000)}k sets/s`,
    peer: '-',
    ratio: `${fmt(secs, 2)} s`,
    target: ctx.quick ? 'full run only' : '>= 20k sets/s',
    ok: ctx.quick || rate >= 20_000,
  });

  // End to end: the command with --file and --json to /dev/null.
  // Informational: the target above is for decoding; this adds process start, and
  // writing ~3 KB of JSON per request (certificate details and PEM).
  const ms = timeCommand(process.execPath, [BIN, 'decode-header', '--file', file, '--json']);
  const e2e = sets / (ms / 1000);
  rows.push({
    name: `decode-header --file --json (${sets.toLocaleString('en-US')} sets, end to end)`,
    mtlsKit: `${fmt(e2e / 1000)}k sets/s`,
    peer: '-',
    ratio: `${fmt(ms / 1000, 2)} s`,
    target: 'info',
    ok: true,
  });

  // Cold start: one leaf value as the argument.
  const leafValue = readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('x-amzn-mtls-clientcert-leaf: '))!
    .slice('x-amzn-mtls-clientcert-leaf: '.length);
  const n = ctx.quick ? 7 : 21;
  const node = medianCommand(n, process.execPath, ['-e', '0']);
  const cold = medianCommand(n, process.execPath, [BIN, 'decode-header', leafValue]);
  rows.push({
    name: 'cold start: decode-header <leaf value>',
    mtlsKit: `${fmt(cold)} ms`,
    peer: `${fmt(node)} ms node -e 0`,
    ratio: `${fmt(cold / node, 2)}x node (Node ${NODE})`,
    target: '<= 2.5x',
    ok: cold / node <= 2.5,
  });
  return rows;
}
