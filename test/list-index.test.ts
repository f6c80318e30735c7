/**
 * `list`: RFC 2253 subjects (dn.ts) in text and JSON, renewed certificates marked
 * superseded (renew records the new certificate for the same file through the index
 * writer) and left out of --expiring, and terminal control characters from an index line
 * escaped in human output (src/ui/escape.ts). `--json` of a large index is written in
 * pieces (writePrettyJson) with exactly the bytes of JSON.stringify(result, null, 2).
 */
import assert from 'node:assert/strict';
import {appendFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {formatIndexLine} from '../src/lib/x509/index-db.js';
import {escapeTerminal} from '../src/ui/escape.js';
import {writePrettyJson} from '../src/ui/output.js';
import {runCli} from './support/cli.js';
import {tempDir} from './support/tmp.js';

describe('list', () => {
  const tmp = tempDir();
  const dir = join(tmp, 'pki');

  it('renew supersedes: the old certificate is superseded, --expiring shows only the new one; subjects in RFC 2253', async () => {
    assert.equal((await runCli(['gen-ca', '--dir', dir])).code, 0);
    assert.equal((await runCli(['gen-client', '--dir', dir, '--cn', 'device-1', '--org', 'Acme, Inc.', '--days', '10', '--out', join(tmp, 'd1')])).code, 0);
    assert.equal((await runCli(['gen-client', '--dir', dir, '--cn', 'device-2', '--days', '10', '--out', join(tmp, 'd2')])).code, 0);
    const renew = await runCli(['renew', join(tmp, 'd1'), '--dir', dir, '--json']);
    assert.equal(renew.code, 0, renew.stderr);
    const l = await runCli(['list', '--dir', dir, '--json']);
    assert.equal(l.code, 0, l.stderr);
    const rows = l.json.certificates as Array<{serial: string; status: string; subject: string}>;
    assert.equal(rows.length, 3);
    const old = rows.find((r) => r.serial === renew.json.renewed[0].oldSerial)!;
    const fresh = rows.find((r) => r.serial === renew.json.renewed[0].newSerial)!;
    assert.equal(old.status, 'superseded');
    assert.equal(fresh.status, 'valid');
    assert.equal(fresh.subject, 'CN=device-1,O=Acme\\, Inc.');
    const soon = await runCli(['list', '--dir', dir, '--expiring', '30d', '--json']);
    assert.deepEqual(soon.json.certificates.map((r: {subject: string}) => r.subject).sort(), ['CN=device-1,O=Acme\\, Inc.', 'CN=device-2']);
    assert.ok(!soon.json.certificates.some((r: {serial: string}) => r.serial === old.serial), 'the superseded one needs no renewing');
    const text = await runCli(['list', '--dir', dir]);
    assert.match(text.stdout, /superseded .*CN=device-1,O=Acme\\, Inc\./);
  });

  it('terminal control characters in an index subject are escaped in human output', async () => {
    appendFileSync(
      join(dir, 'root', 'index.txt'),
      formatIndexLine({
        status: 'V',
        notAfter: new Date(Date.now() + 5 * 86_400_000),
        serial: '0BADC0DE',
        file: 'unknown',
        subject: '/CN=ev\u001b[2J\u001b]0;pwned\u0007il',
      }),
    );
    const text = await runCli(['list', '--dir', dir]);
    assert.equal(text.code, 0, text.stderr);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking for them
    assert.doesNotMatch(text.stdout + text.stderr, /[\u0000-\u0008\u000b-\u001f\u007f]/);
    assert.match(text.stdout, /CN=ev\\1B\[2J\\1B\]0\\;pwned\\07il/);
    const json = await runCli(['list', '--dir', dir, '--json']);
    assert.ok(json.json.certificates.some((r: {subject: string}) => r.subject === 'CN=ev\\1B[2J\\1B]0\\;pwned\\07il'));
  });

  it('escapeTerminal: C0, DEL, C1 and bidi overrides; plain text is returned as is', () => {
    assert.equal(escapeTerminal('a\u001bb\u007fc\u009bd\u202ee'), 'a\\1Bb\\7Fc\\9Bd\\u{202E}e');
    const plain = 'CN=device-1,O=Acme';
    assert.equal(escapeTerminal(plain), plain);
  });

  it('writePrettyJson writes exactly JSON.stringify(value, null, 2) and a newline, whatever the piece size', () => {
    const rows = Array.from({length: 4501}, (_, i) => ({i, s: `r\u001b"${i}`, n: i % 3 ? undefined : [i, {z: 1}], e: [], o: {}}));
    const cases: unknown[] = [
      {},
      [],
      null,
      7,
      'x',
      {a: undefined},
      {a: [1, 2, 3], b: {c: [{d: 'e\n"'}]}, e: undefined, f: null},
      {rows, after: 1},
      {sparse: Array.from({length: 4000}, (_, i) => (i % 7 ? i : undefined)), t: new Date(0), u: [undefined, () => 1]},
      {nested: Array.from({length: 2001}, () => [])},
    ];
    for (const value of cases)
      for (const size of [1, 2, 3, 2000]) {
        let out = '';
        writePrettyJson(value, (c) => (out += c), size);
        assert.equal(out, `${JSON.stringify(value, null, 2)}\n`, `${JSON.stringify(value).slice(0, 60)} in pieces of ${size}`);
      }
  });

  it('list --json of 5,000 lines (several pieces) is byte for byte JSON.stringify of its result', async () => {
    const big = join(tmp, 'big');
    assert.equal((await runCli(['gen-ca', '--dir', big])).code, 0);
    const now = Date.now();
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++)
      lines.push(
        formatIndexLine({
          status: i % 50 === 0 ? 'R' : 'V',
          notAfter: new Date(now + (i % 400) * 86_400_000),
          ...(i % 50 === 0 ? {revokedAt: new Date(now)} : {}),
          serial: (i + 0x1000).toString(16).toUpperCase(),
          file: i % 10 === 0 ? 'unknown' : `/srv/fleet/device-${i % 4000}/certificate.crt`,
          subject: i % 7 === 0 ? `/CN=d\u001b[31m${i}/O=A "q", B` : `/C=US/O=Acme Devices/CN=device-${i}`,
        }),
      );
    writeFileSync(join(big, 'root', 'index.txt'), lines.join(''));
    const l = await runCli(['list', '--dir', big, '--json']);
    assert.equal(l.code, 0, l.stderr);
    assert.equal(l.json.certificates.length, 5000);
    assert.ok(l.json.certificates.some((r: {status: string}) => r.status === 'superseded'));
    const subjects = new Set(l.json.certificates.map((r: {subject: string}) => r.subject));
    assert.ok(subjects.has('CN=device-1,O=Acme Devices,C=US'), 'plain subjects reversed into RFC 2253');
    assert.ok(subjects.has('O=A \\"q\\"\\, B,CN=d\\1B[31m7'), 'others escaped as formatRfc2253 does');
    assert.equal(l.stdout, `${JSON.stringify(l.json, null, 2)}\n`);
  });
});
