/**
 * Terminal control characters never reach a terminal raw (issue 25): a CA and a client
 * certificate whose subjects and SANs carry ESC sequences (CSI, OSC), the C1 CSI, BEL, CR,
 * NUL and a bidi override, through the human output of inspect, verify, lint,
 * encode-header, decode-header (also a tampered header value), probe, serve's log lines,
 * list and revoke, and an error naming a hostile file name. The gate is structural
 * (guardTerminal in src/ui/output.ts, installed by the base command); --json keeps the
 * exact values, escaped by JSON.
 */
import assert from 'node:assert/strict';
import {type ChildProcess, spawn} from 'node:child_process';
import {appendFileSync, writeFileSync} from 'node:fs';
import {createServer} from 'node:net';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {formatIndexLine} from '../src/lib/x509/index-db.js';
import {generateConnectionLog} from './support/conn-logs.js';
import {escapeTerminalText} from '../src/ui/escape.js';
import {runCli} from './support/cli.js';
import {curl, type SpawnedServe, spawnServe} from './support/serve.js';
import {tempDir} from './support/tmp.js';
import {ca, client, ext} from './support/x509-builder.js';

const EVIL = 'ev\u001b[2J\u001b]0;pwned\u0007il\u009b31m\r\u0000x\u202e';
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function assertClean(what: string, r: {stdout: string; stderr: string}): void {
  const m = RAW.exec(r.stdout) ?? RAW.exec(r.stderr);
  assert.equal(m, null, `${what}: raw U+${m?.[0].charCodeAt(0).toString(16).padStart(4, '0')} in ${JSON.stringify((r.stdout + r.stderr).slice(0, 400))}`);
}

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const {port} = s.address() as {port: number};
      s.close(() => resolve(port));
    });
  });

describe('terminal control characters in every human output', () => {
  const tmp = tempDir();
  const root = ca(`Root ${EVIL}`);
  const leaf = client(`leaf ${EVIL}`, root, [
    ext.subjectAltName([
      [0x82, 'a\u001b[5mb\r\u0007.example'],
      [0x86, 'https://x/\u001b]8;;evil\u0007'],
    ]),
  ]);
  const rootPem = join(tmp, 'root.pem');
  const leafPem = join(tmp, 'leaf.pem');
  const leafKey = join(tmp, 'leaf.key');
  const chain = join(tmp, 'chain.pem');
  const pki = join(tmp, 'pki');
  let server: ChildProcess | undefined;
  let serve: SpawnedServe | undefined;

  before(async () => {
    writeFileSync(rootPem, root.pem);
    writeFileSync(leafPem, leaf.pem);
    writeFileSync(chain, leaf.pem + root.pem);
    writeFileSync(leafKey, leaf.key.privateKey.export({type: 'pkcs8', format: 'pem'}) as string);
    assert.equal((await runCli(['gen-ca', '--dir', pki])).code, 0);
  });
  after(async () => {
    if (server?.pid) process.kill(server.pid, 'SIGTERM');
    await serve?.stop();
  });

  it('escapeTerminalText keeps line feeds, tabs and (only with colour) SGR colour codes; a JSON line still parses to the same value', () => {
    assert.equal(escapeTerminalText('a\tb\nc', false), 'a\tb\nc');
    assert.equal(escapeTerminalText('\u001b[31mred\u001b[39m\r\u0007', true), '\u001b[31mred\u001b[39m\\u000D\\u0007');
    assert.equal(escapeTerminalText('\u001b[31mred\u001b[2J', false), '\\u001B[31mred\\u001B[2J');
    assert.equal(escapeTerminalText('\u001b[2J\u009b', true), '\\u001B[2J\\u009B');
    const line = JSON.stringify({subject: `CN=a\u009b31m\u202eb`});
    const guarded = escapeTerminalText(line, false);
    assert.doesNotMatch(guarded, RAW);
    assert.deepEqual(JSON.parse(guarded), JSON.parse(line));
  });

  it('inspect, verify, lint, encode-header: no raw control character; --json keeps the exact SAN', async () => {
    for (const args of [
      ['inspect', leafPem],
      ['inspect', chain],
      ['verify', chain, '--trust-store', rootPem, '--skip-crl', '--verbose'],
      ['verify', leafPem, '--dir', pki, '--skip-crl'],
      ['lint', leafPem],
      ['lint', rootPem],
      ['encode-header', leafPem],
    ]) {
      const r = await runCli(args);
      assert.ok([0, 3].includes(r.code), `${args.join(' ')}: exit ${r.code} ${r.stderr}`);
      assertClean(args.join(' '), r);
    }
    const j = await runCli(['inspect', leafPem, '--json']);
    assert.equal(j.code, 0, j.stderr);
    assert.ok(JSON.stringify(j.json).includes('a\\u001b[5mb\\r\\u0007.example'), 'JSON keeps the SAN, escaped by JSON');
  });

  it('decode-header of the hostile certificate; a subject header with raw control characters is refused, cleanly', async () => {
    const enc = await runCli(['encode-header', leafPem]);
    assert.equal(enc.code, 0, enc.stderr);
    const d = await runCli(['decode-header', '--skip-crl'], {input: enc.stdout});
    assert.equal(d.code, 0, d.stderr);
    assertClean('decode-header', d);
    const tampered = enc.stdout.replace(/^X-Amzn-Mtls-Clientcert-Subject: .*$/m, 'X-Amzn-Mtls-Clientcert-Subject: CN=\u001b[2Jadmin\u0007');
    const t = await runCli(['decode-header', '--skip-crl'], {input: tampered});
    assert.ok([2, 4].includes(t.code), 'control characters make header text binary: refused');
    assertClean('decode-header (tampered)', t);
  });

  it('an error naming a file whose name carries control characters', async () => {
    const r = await runCli(['inspect', join(tmp, 'x\u001b[2J\ry.pem')]);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /x\\u001B\[2J\\u000Dy\.pem does not exist/);
    assertClean('inspect missing', r);
    const j = await runCli(['inspect', join(tmp, 'x\u001b[2J\ry.pem'), '--json']);
    assert.ok(j.json.error.message.includes('x\u001b[2J\ry.pem'), 'JSON keeps the exact name');
  });

  it('probe of a server presenting the hostile chain', async () => {
    const port = await freePort();
    server = spawn('openssl', ['s_server', '-accept', String(port), '-cert', leafPem, '-key', leafKey, '-cert_chain', rootPem, '-www', '-quiet'], {
      stdio: 'ignore',
    });
    let r = {code: -1, stdout: '', stderr: ''};
    for (let i = 0; i < 50; i++) {
      r = await runCli(['probe', `https://127.0.0.1:${port}/`, '--timeout', '5', '--dir', pki, '--skip-crl']);
      if (!/ECONNREFUSED|refused/i.test(r.stderr + r.stdout)) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.ok(r.stdout.includes('pwned') || r.stderr.includes('pwned'), `probe shows the server chain: ${r.stdout}${r.stderr}`);
    assertClean('probe', r);
    process.kill(server.pid!, 'SIGTERM');
    server = undefined;
  });

  it("serve's log line for a client with the hostile certificate", async () => {
    serve = await spawnServe(['--dir', pki, '--trust-store', rootPem, '--listen', '0:verify', '--skip-crl']);
    const l = serve.info.listeners[0]!;
    await curl(l.url, {ca: join(pki, 'root', 'ca.crt'), cert: leafPem, key: leafKey});
    for (let i = 0; i < 50 && !serve.stderr().includes('pwned'); i++) await new Promise((res) => setTimeout(res, 100));
    assert.match(serve.stderr(), /pwned/);
    assertClean('serve', {stdout: '', stderr: serve.stderr()});
  });

  it('list and revoke of an index line with the hostile subject', async () => {
    appendFileSync(
      join(pki, 'root', 'index.txt'),
      formatIndexLine({status: 'V', notAfter: new Date(Date.now() + 5 * 86_400_000), serial: '0BADC0DE', file: 'unknown', subject: `/CN=${EVIL}`}),
    );
    const l = await runCli(['list', '--dir', pki]);
    assert.equal(l.code, 0, l.stderr);
    assertClean('list', l);
    const r = await runCli(['revoke', '0BADC0DE', '--dir', pki]);
    assert.equal(r.code, 0, r.stderr);
    assertClean('revoke', r);
  });

  it('logs refuses connection-log lines with control characters as binary, cleanly', async () => {
    const log = join(tmp, 'conn.log');
    writeFileSync(log, generateConnectionLog(40, {clients: 4}).text.replaceAll('CN=device-1,', 'CN=ev\u001b[2J\u001b]0;pwned\u0007il\u009b31m,'));
    const r = await runCli(['logs', log, '--top', '10']);
    assert.ok([2, 4].includes(r.code), r.stderr);
    assertClean('logs', r);
  });
});
