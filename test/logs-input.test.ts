import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {gzipSync} from 'node:zlib';
import {runCli} from './support/cli.js';
import {generateConnectionLog} from './support/conn-logs.js';
import {opensslOk} from './support/openssl.js';
import {prng} from './support/prng.js';
import {tempDir} from './support/tmp.js';

describe('logs: only text connection logs (plain or gzip) are read', () => {
  const tmp = tempDir();
  const rand = prng(12);
  const randomBytes = Buffer.from(Array.from({length: 4096}, () => Math.floor(rand() * 256)));

  it('random bytes: exit 4 naming the file, what it looks like and the fix; no raw bytes printed', async () => {
    writeFileSync(join(tmp, 'random.bin'), randomBytes);
    const r = await runCli(['logs', join(tmp, 'random.bin')]);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /random\.bin is not a connection log: it is binary data, not text lines/);
    assert.match(r.stderr, /conn_log_\*\.log\.gz/);
    assert.doesNotMatch(r.stdout, /connections/);
    const j = await runCli(['logs', join(tmp, 'random.bin'), '--json']);
    assert.equal(j.json.error.code, 'NOT_A_LOG');
  });

  it('gzip that decompresses to binary, gzip twice, and a private key (never shown) are refused', async () => {
    writeFileSync(join(tmp, 'bin.log.gz'), gzipSync(randomBytes));
    const g = await runCli(['logs', join(tmp, 'bin.log.gz')]);
    assert.equal(g.code, 4);
    assert.match(g.stderr, /bin\.log\.gz is not a connection log: it is gzip-compressed binary data/);
    writeFileSync(join(tmp, 'twice.log.gz'), gzipSync(gzipSync(generateConnectionLog(10).text)));
    const t = await runCli(['logs', join(tmp, 'twice.log.gz')]);
    assert.equal(t.code, 4);
    assert.match(t.stderr, /gzip-compressed twice/);
    opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(tmp, 'key.pem')]);
    const k = await runCli(['logs', join(tmp, 'key.pem')]);
    assert.equal(k.code, 4);
    assert.match(k.stderr, /key\.pem is not a connection log: it is a private key \(PEM\)/);
    const body = readFileSync(join(tmp, 'key.pem'), 'utf8').split('\n')[1]!;
    assert.ok(!k.stderr.includes(body.slice(0, 16)) && !k.stdout.includes(body.slice(0, 16)), 'no part of the key is printed');
  });

  it('connection logs gzipped by the gzip CLI (as AWS delivers .log.gz) still work, also from stdin', async () => {
    const log = generateConnectionLog(300);
    writeFileSync(join(tmp, 'conn_log.log'), log.text);
    const z = spawnSync('gzip', ['-k', join(tmp, 'conn_log.log')]);
    assert.equal(z.status, 0);
    const r = await runCli(['logs', join(tmp, 'conn_log.log.gz'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.connections, 300);
    assert.equal(r.json.malformed.count, 0);
    const s = await runCli(['logs', '-', '--json'], {input: readFileSync(join(tmp, 'conn_log.log.gz'))});
    assert.equal(s.code, 0, s.stderr);
    assert.equal(s.json.connections, 300);
    assert.deepEqual(
      s.json.sources.map((x: {source?: string} | string) => (typeof x === 'string' ? x : x.source)),
      ['stdin'],
    );
  });
});
