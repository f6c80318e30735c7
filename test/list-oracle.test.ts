/**
 * `list` (which reads index.txt as bytes and copies plain fields into its output,
 * src/lib/pki/inventory.ts and src/ui/inventory-render.ts) against an independent reading of
 * the same index: the file split on newlines and tabs as text, statuses and order from the rules
 * list documents, subjects through dn.ts's slashFormToRfc2253, the table padded and escaped as
 * the terminal guard escapes, and awk counting lines and revocations. The index is hostile:
 * control characters, UTF-8 and invalid UTF-8, '/' and '=' in values, quotes and backslashes,
 * lower-case serials, files named twice, CRLF, empty lines, a last line without a newline,
 * in both tiers.
 */
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {Inventory, type ListedCert, readIndexListing} from '../src/lib/pki/inventory.js';
import {slashFormToRfc2253} from '../src/lib/x509/dn.js';
import {escapeTerminalText} from '../src/ui/escape.js';
import {writeInventoryJson, writeInventoryTable} from '../src/ui/inventory-render.js';
import {runCli} from './support/cli.js';
import {tempDir} from './support/tmp.js';

const DAY = 86_400_000;
const pad2 = (n: number): string => String(n).padStart(2, '0');
/** openssl ca's index time, 2-digit years up to 2049. */
const indexTime = (ms: number): string => {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  return `${y < 2050 ? pad2(y % 100) : y}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}${pad2(d.getUTCSeconds())}Z`;
};

const SUBJECTS = [
  '/C=US/O=Acme Devices/CN=device-1',
  '/CN=ev\u001b[2J\u001b]0;pwned\u0007il',
  '/CN=caf\u00e9/O=\u4e2d\u6587 \u{1f600}',
  '/CN=a/b=c/O=x=y',
  '/CN=rtl\u202eevil/OU=line\u2028sep',
  '/CN=trail /O= lead',
  '/CN=/O=empty',
  '/FOO=bar/CN=x',
  'CN=noslash',
  '/CN=a+b,c;d"e\\f<g>h#i',
  '/CN=del\u007fc1\u009b[31m',
  '/CN=tab\there/O=x',
  '/CN=\u001b[31mred\u001b[0m',
  '/2.5.4.3=oid',
  '/CN=a//O=b',
  '/O=Acme, Inc./CN=device-2',
  '/CN=plain.example.com/emailAddress=a@b.c',
];
const SERIALS = ['0A1B', '0a1b', 'DEADbeef', 'xyz1', '\u00dfa', '1"2', '3\\4', '5\u001b[31m6', '', 'ABCDEF0123456789ABCDEF0123456789'];
const FILES = ['unknown', '', '/srv/a/cert.crt', '/srv/b/cert.crt', '/srv/\u00e9/c.crt', 'q"uote\\back', '/srv/\u001b[2J', 'C:\\x'];

/** A hostile index for one tier: plain fleet lines mixed with the lines above. */
function hostileIndex(now: number, seed: number): Buffer {
  const parts: Buffer[] = [];
  let i = 0;
  for (let k = 0; k < 600; k++) {
    // Half a day past whole days, so days and statuses do not depend on when the test runs.
    const days = [-40, -1, 0, 1, 5, 29, 30, 31, 200, 10_000, 30_000][(k * 7 + seed) % 11]!;
    const notAfter = indexTime(now + days * DAY + DAY / 2);
    if (k % 3 !== 0) {
      parts.push(Buffer.from(`V\t${notAfter}\t\t${(k + 0x1000).toString(16)}\t/srv/fleet/d-${k % 250}/c.crt\t/C=US/O=Fleet/CN=d-${k}\n`));
      continue;
    }
    const st = ['V', 'R', 'E', 'V', 'V'][(i + seed) % 5]!;
    const rev =
      st !== 'R'
        ? ''
        : [indexTime(now - 3 * DAY), `${indexTime(now - 3 * DAY)},keyCompromise`, `${indexTime(now - 3 * DAY)},superseded,x`, `${indexTime(now)},\u00e9\u001b`][
            i % 4
          ]!;
    const subject = SUBJECTS[(i + seed) % SUBJECTS.length]!;
    parts.push(Buffer.from(`${st}\t${notAfter}\t${rev}\t${SERIALS[(i + seed) % SERIALS.length]}\t${FILES[(i * 3 + seed) % FILES.length]}\t${subject}\n`));
    i++;
  }
  parts.push(Buffer.from('\n'));
  parts.push(Buffer.from(`V\t${indexTime(now + 3 * DAY + DAY / 2)}\t\t0BAD\t/srv/inv/\xff.crt\t/CN=bad\xffutf8\n`, 'latin1'));
  parts.push(Buffer.from(`V\t${indexTime(now + 4 * DAY + DAY / 2)}\t\t0BAE\t/srv/inv/\xfe.crt\t/CN=bad\xfe\xc3utf8\n`, 'latin1'));
  parts.push(Buffer.from(`V\t${indexTime(now + 6 * DAY + DAY / 2)}\t\t0CRLF\tunknown\t/CN=crlf\r\n`));
  parts.push(Buffer.from(`E\t${indexTime(now + 7 * DAY + DAY / 2)}\t\t0E\t/srv/a/cert.crt\t/CN=last`));
  return Buffer.concat(parts);
}

type Filter = {revoked?: boolean; expired?: boolean; expiringMs?: number};

/** What list should print, read independently: text lines split on tabs, the documented rules. */
function expected(tiers: Array<{tier: 'root' | 'intermediate'; path: string}>, now: number, filter: Filter): ListedCert[] {
  const time = (s: string): [number, string] => {
    const m = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
    assert.ok(m, `index time ${s}`);
    const year = m[1]!.length === 4 ? Number(m[1]) : Number(m[1]) + (Number(m[1]) >= 50 ? 1900 : 2000);
    return [Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])), `${year}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`];
  };
  const all: Array<[number, ListedCert]> = [];
  for (const {tier, path} of tiers) {
    const lines = readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('\t'));
    lines.forEach((f, i) => {
      const [ms, iso] = time(f[1]!);
      const file = f[4]!;
      let status: ListedCert['status'] = f[0] === 'R' ? 'revoked' : f[0] === 'E' || ms <= now ? 'expired' : 'valid';
      if (status === 'valid' && file !== 'unknown' && file !== '' && lines.slice(i + 1).some((g) => g[4] === file)) status = 'superseded';
      if (filter.revoked && status !== 'revoked') return;
      if (filter.expired && status !== 'expired') return;
      if (filter.expiringMs !== undefined && (status !== 'valid' || ms - now > filter.expiringMs)) return;
      const serial = /[a-f]/.test(f[3]!) ? f[3]!.toUpperCase() : f[3]!;
      const row: ListedCert = {
        tier,
        status,
        serial,
        subject: slashFormToRfc2253(f.slice(5).join('\t')),
        notAfter: iso,
        daysLeft: Math.floor((ms - now) / DAY),
        file,
      };
      if (f[2]) {
        const comma = f[2].indexOf(',');
        row.revokedAt = time(comma < 0 ? f[2] : f[2].slice(0, comma))[1];
        if (comma >= 0) row.reason = f[2].slice(comma + 1);
      }
      all.push([ms, row]);
    });
  }
  // Soonest first; the root's lines before the intermediate's on the same expiry, each in file order.
  return all
    .map((x, i) => [x[0], i, x[1]] as const)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .map((x) => x[2]);
}

/** The table as list documents it: columns padded to the widest value, the whole escaped as the terminal guard does. */
function table(rows: ListedCert[]): string {
  const head = ['STATUS', 'EXPIRES', 'DAYS', 'SERIAL', 'TIER', 'SUBJECT'];
  const cells = rows.map((r) => [r.status, r.notAfter, String(r.daysLeft), r.serial, r.tier]);
  const w = head.map((h, i) => Math.max(h.length, i === 0 ? 'superseded'.length : i === 4 ? 'intermediate'.length : 0, ...cells.map((c) => c[i]?.length ?? 0)));
  const lines = [
    head
      .map((h, i) => h.padEnd(w[i]!))
      .join('  ')
      .trimEnd(),
  ];
  for (const [k, r] of rows.entries()) lines.push(cells[k]!.map((c, i) => c + ' '.repeat(w[i]! - c.length + 2)).join('') + r.subject);
  return escapeTerminalText(`${lines.join('\n')}\n`, false);
}

describe('list against an independent reading of a hostile index', () => {
  const tmp = tempDir();
  const dir = join(tmp, 'pki');
  const now = Date.now();
  const tiers = [
    {tier: 'root' as const, path: join(dir, 'root', 'index.txt')},
    {tier: 'intermediate' as const, path: join(dir, 'intermediate', 'index.txt')},
  ];

  it('table, --json and every filter are what the index says', async () => {
    assert.equal((await runCli(['gen-ca', '--dir', dir, '--intermediate'])).code, 0);
    writeFileSync(tiers[0]!.path, hostileIndex(now, 0));
    writeFileSync(tiers[1]!.path, hostileIndex(now, 5));
    // awk's count of lines and of revocations (status R), for total and --revoked.
    const awk = (program: string): number => Number(execFileSync('awk', ['-F', '\t', program, tiers[0]!.path, tiers[1]!.path], {encoding: 'utf8'}).trim());
    const total = awk('END {print NR}');
    const revoked = awk('$1 == "R" {n++} END {print n}');
    assert.ok(revoked > 10 && total > 1000);

    const all = expected(tiers, now, {});
    assert.ok(all.some((r) => r.status === 'superseded') && all.some((r) => r.status === 'expired') && all.some((r) => r.reason === 'superseded,x'));
    const l = await runCli(['list', '--dir', dir, '--json']);
    assert.equal(l.code, 0, l.stderr);
    assert.equal(l.json.total, total);
    assert.equal(l.stdout, `${JSON.stringify({...l.json, certificates: all}, null, 2)}\n`);

    const text = await runCli(['list', '--dir', dir]);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stdout, table(all));
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking for them
    assert.doesNotMatch(text.stdout + text.stderr, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
    assert.match(text.stderr, new RegExp(`^${all.length} of ${total} certificates in `));

    const cases: Array<[string[], Filter]> = [
      [['--revoked'], {revoked: true}],
      [['--expired'], {expired: true}],
      [['--expiring', '30d'], {expiringMs: 30 * DAY}],
    ];
    for (const [flags, filter] of cases) {
      const want = expected(tiers, now, filter);
      const j = await runCli(['list', '--dir', dir, ...flags, '--json']);
      assert.equal(j.code, 0, j.stderr);
      assert.deepEqual(j.json.certificates, want, flags.join(' '));
      const t = await runCli(['list', '--dir', dir, ...flags]);
      assert.equal(t.stdout, want.length ? table(want) : '', flags.join(' '));
    }
    assert.equal(expected(tiers, now, {revoked: true}).length, revoked);
    const root = await runCli(['list', '--dir', dir, '--tier', 'root', '--json']);
    assert.deepEqual(root.json.certificates, expected(tiers.slice(0, 1), now, {}));
  });

  it('the writers give the same bytes in chunks of any size', () => {
    const listings = tiers.map((t) => readIndexListing(readFileSync(t.path), t.path, t.tier, {}, new Date(now)));
    const inv = new Inventory(listings);
    const head = {caDir: dir, now: 'x', total: 1, count: inv.count, filter: {expiringWithin: null, revoked: false, expired: false}};
    const collect = (f: (write: (c: Uint8Array) => void) => void): {text: string; chunks: number} => {
      const chunks: Buffer[] = [];
      f((c) => chunks.push(Buffer.from(c)));
      return {text: Buffer.concat(chunks).toString('utf8'), chunks: chunks.length};
    };
    const tableWhole = collect((w) => writeInventoryTable(inv, w));
    const jsonWhole = collect((w) => writeInventoryJson(head, inv, w));
    assert.equal(jsonWhole.text, `${JSON.stringify({...head, certificates: inv.certificates()}, null, 2)}\n`);
    for (const size of [1, 64, 4096]) {
      const t = collect((w) => writeInventoryTable(inv, w, size));
      assert.equal(t.text, tableWhole.text, `table in chunks of ${size}`);
      assert.ok(t.chunks > 10);
      assert.equal(collect((w) => writeInventoryJson(head, inv, w, size)).text, jsonWhole.text, `JSON in chunks of ${size}`);
    }
  });

  it('the line bound counts characters, not bytes: 40,000 two-byte characters list, 70,000 are refused naming the line', async () => {
    const t = indexTime(now + 5 * DAY + DAY / 2);
    writeFileSync(tiers[0]!.path, `V\t${t}\t\t01\tunknown\t/CN=ok\nV\t${t}\t\t02\tunknown\t/CN=${'\u00e9'.repeat(40_000)}\n`);
    writeFileSync(tiers[1]!.path, '');
    const ok = await runCli(['list', '--dir', dir, '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.json.count, 2);
    writeFileSync(tiers[0]!.path, `V\t${t}\t\t01\tunknown\t/CN=ok\nX\tbad\n\nV\t${t}\t\t02\tunknown\t/CN=${'\u00e9'.repeat(70_000)}\n`);
    const refused = await runCli(['list', '--dir', dir]);
    assert.equal(refused.code, 4);
    assert.match(refused.stderr, /index\.txt line 4: a line of 70,032 characters, over mtls-kit's bound INPUT_LIMITS\.indexLineChars/);
    writeFileSync(tiers[0]!.path, `V\t${t}\t\t01\tunknown\t/CN=ok\nX\tbad\n`);
    const bad = await runCli(['list', '--dir', dir]);
    assert.equal(bad.code, 4);
    assert.match(bad.stderr, /index\.txt line 2: expected 6 tab-separated fields/);
  });
});
