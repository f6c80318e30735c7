/**
 * `logs` reads every shape AWS delivers connection logs in (aws-reference 5.3) and the byte
 * scanner keeps the rules of parseConnectionLogLine; many files read by worker threads give the
 * same summary as one thread.
 */
import assert from 'node:assert/strict';
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {gzipSync} from 'node:zlib';
import {parseConnectionLogLine} from '../src/lib/alb/connection-log.js';
import {jsonRecordLines, newScannedLine, scanConnectionLogLine, splitJsonObjects} from '../src/lib/alb/connection-log-scan.js';
import {createLogSummarizer, percentile, selectInPlace} from '../src/lib/alb/log-summary.js';
import {FILE_CHUNK_BYTES, summarizeLogs} from '../src/io/aws/log-sources.js';
import {runCli} from './support/cli.js';
import {generateConnectionLog} from './support/conn-logs.js';
import {prng} from './support/prng.js';
import {tempDir} from './support/tmp.js';

const AWS_FAILED =
  '2023-10-04T17:05:15.514108Z 203.0.113.1 36280 443 TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 - "CN=amazondomains.com,O=endEntity,L=Seattle,ST=Washington,C=US" NotBefore=2023-09-21T22:43:21Z;NotAfter=2026-06-17T22:43:21Z FEF257372D5C14D4 Failed:ClientCertUntrusted TID_1c71a68d70587445ad5127ff8b2687d7';
const FIELDS = AWS_FAILED.match(/"[^"]*"|\S+/g)!;

const summarize = (text: string) => {
  const s = createLogSummarizer();
  s.addSource('t');
  const b = Buffer.from(text);
  s.addBytes(b, 0, b.length);
  return s.finish();
};

describe('connection-log byte scanner', () => {
  it('agrees with parseConnectionLogLine on the AWS lines and on mutations of them (well-formed or not)', () => {
    const rand = prng(26);
    const out = newScannedLine();
    const cases = [AWS_FAILED, AWS_FAILED.replace('-', '0.004'), `${AWS_FAILED} x25519 app/a/b 10.0.0.1 extra`, `${AWS_FAILED}\r`];
    const junk = ['', ' ', '"', '-', 'x', '99999', '2023-10-04T17:05:15Z', '"a b"', '\\"'];
    for (let i = 0; i < 3000; i++) {
      const f = [...FIELDS];
      const k = Math.floor(rand() * f.length);
      const what = rand();
      if (what < 0.4) f[k] = junk[Math.floor(rand() * junk.length)]!;
      else if (what < 0.6) f.splice(k, 1);
      else if (what < 0.7) f[k] = `"${f[k]}"`;
      cases.push(f.join(' '));
    }
    for (const line of cases) {
      const b = Buffer.from(line);
      const got = scanConnectionLogLine(b, 0, b.length, out);
      const want = parseConnectionLogLine(line);
      assert.equal(got, want !== null, `scanner and parser disagree on: ${JSON.stringify(line)}`);
      if (want) {
        const at = out.at;
        assert.equal(b.toString('utf8', at[20]!, at[21]!), want.verifyStatus);
        assert.equal(b.toString('utf8', at[14]!, at[15]!), want.subject);
        assert.equal(b.toString('utf8', at[18]!, at[19]!), want.serial);
      }
    }
  });

  it('the same summary from text, CloudWatch Logs export lines, JSON records, concatenated Firehose records and subscription envelopes', () => {
    const log = generateConnectionLog(200);
    const text = summarize(log.text);
    const lines = log.text.trimEnd().split('\n');
    const records = lines.map((l) => {
      const e = parseConnectionLogLine(l)!;
      return {
        time: e.timestamp,
        client_ip: e.clientIp,
        client_port: e.clientPort,
        listener_port: e.listenerPort,
        tls_protocol: e.tlsProtocol,
        tls_cipher: e.tlsCipher,
        tls_handshake_latency: e.handshakeLatency === '-' ? '-' : Number(e.handshakeLatency),
        leaf_client_cert_subject: e.subject,
        leaf_client_cert_validity: e.validity,
        leaf_client_cert_serial_number: e.serial,
        tls_verify_status: e.verifyStatus,
        conn_trace_id: e.connTraceId,
      };
    });
    const exported = lines.map((l) => `2026-11-21T06:00:00.000Z ${l}`).join('\n');
    const jsonLines = records.map((r) => JSON.stringify(r)).join('\n');
    const firehose = records.map((r) => JSON.stringify(r)).join('');
    const envelope = JSON.stringify({
      messageType: 'DATA_MESSAGE',
      logGroup: 'alb',
      logEvents: lines.map((message, i) => ({id: String(i), timestamp: 0, message})),
    });
    const exportedJson = records.map((r) => `2026-11-21T06:00:00.000Z ${JSON.stringify(r)}`).join('\n');
    const strip = (x: ReturnType<typeof summarize>) => ({...x, sources: [], lines: 0, malformed: {count: x.malformed.count, examples: []}});
    for (const [name, input] of Object.entries({exported, jsonLines, firehose, envelope, exportedJson})) {
      const got = summarize(input);
      assert.equal(got.connections, 200, name);
      assert.deepEqual(strip(got), strip(text), name);
    }
    assert.deepEqual(splitJsonObjects('{"a":"}{"}{"b":1}'), ['{"a":"}{"}', '{"b":1}']);
    assert.equal(jsonRecordLines({unrelated: true}), null);
    assert.equal(summarize('{"unrelated": true}\n{not json\n').malformed.count, 2);
  });
});

describe('logs: reading speed does not change the answer', () => {
  it('selectInPlace picks the same nearest-rank percentiles as sorting (duplicates, sorted, reversed, random)', () => {
    const rand = prng(7);
    const shapes: Array<(n: number) => Float64Array> = [
      (n) => Float64Array.from({length: n}, () => rand()),
      (n) => Float64Array.from({length: n}, () => Math.floor(rand() * 5) / 1000),
      (n) => Float64Array.from({length: n}, (_, i) => i / 1000),
      (n) => Float64Array.from({length: n}, (_, i) => (n - i) / 1000),
      (n) => new Float64Array(n).fill(0.004),
    ];
    for (const shape of shapes) {
      for (const n of [1, 2, 3, 10, 101, 5000]) {
        const a = shape(n);
        const sorted = Float64Array.from(a).sort();
        let lo = 0;
        for (const p of [50, 90, 99]) {
          const k = Math.max(1, Math.ceil((p / 100) * n)) - 1;
          assert.equal(selectInPlace(a, k, lo), percentile(sorted, p), `n=${n} p${p}`);
          lo = k;
        }
      }
    }
  });

  it('a file read in reused buffers (lines and a 5 MiB line across chunk boundaries) sums up as the same bytes in memory', async () => {
    const tmp = tempDir();
    const log = generateConnectionLog(30_000).text;
    // Longer than two chunks, so both read buffers are reused; the long line has no newline
    // inside one chunk and must be carried across it whole.
    const body = Buffer.from(`${log}${'x'.repeat(FILE_CHUNK_BYTES + 1000)}\n${log}`);
    assert.ok(body.length > 2 * FILE_CHUNK_BYTES);
    const file = join(tmp, 'big.log');
    writeFileSync(file, body);
    const fromFile = await summarizeLogs([file], {workers: 1});
    const s = createLogSummarizer();
    s.addSource(file);
    s.addBytes(body, 0, body.length);
    assert.deepEqual(fromFile, s.finish());
    assert.equal(fromFile.connections, 60_000);
    assert.equal(fromFile.malformed.count, 1);
    assert.equal(fromFile.malformed.examples[0]!.line, 30_001);
  });
});

describe('logs: formats and worker threads end to end', () => {
  it('many files with --workers 2 give exactly the summary of one thread, malformed examples in input order', async () => {
    const tmp = tempDir();
    const dir = join(tmp, 'many');
    mkdirSync(dir);
    for (let i = 0; i < 4; i++) {
      const body = generateConnectionLog(500 + i * 10).text + (i === 2 ? 'broken line\n' : '');
      writeFileSync(join(dir, `conn_${i}.log${i % 2 ? '.gz' : ''}`), i % 2 ? gzipSync(body) : body);
    }
    const one = await runCli(['logs', dir, '--json', '--workers', '1']);
    const two = await runCli(['logs', dir, '--json', '--workers', '2']);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(two.code, 0, two.stderr);
    assert.deepEqual(two.json, one.json);
    assert.equal(two.json.malformed.examples[0].source, join(dir, 'conn_2.log'));
    assert.equal(two.json.connections, 500 + 510 + 520 + 530);
  });

  it('a bad file among many is reported by name (exit 4) with workers too', async () => {
    const tmp = tempDir();
    writeFileSync(join(tmp, 'a.log'), generateConnectionLog(10).text);
    writeFileSync(join(tmp, 'b.log'), Buffer.from([0, 1, 2, 3, 255, 254, 0, 0, 7, 8]));
    const r = await runCli(['logs', tmp, '--json', '--workers', '2']);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.json.error.code, 'NOT_A_LOG');
    assert.match(r.json.error.message, /b\.log/);
  });

  it('JSON records from stdin (CloudWatch Logs / Firehose JSON format)', async () => {
    const rec = {
      time: '2026-11-21T05:00:00.000001Z',
      client_ip: '203.0.113.9',
      client_port: 4000,
      listener_port: 443,
      tls_protocol: 'TLSv1.3',
      tls_cipher: 'TLS_AES_128_GCM_SHA256',
      tls_handshake_latency: '-',
      leaf_client_cert_subject: 'CN=d,O=Acme',
      leaf_client_cert_validity: 'NotBefore=2026-01-01T00:00:00Z;NotAfter=2027-01-01T00:00:00Z',
      leaf_client_cert_serial_number: '0A',
      tls_verify_status: 'Failed:ClientCertCrlHit',
      conn_trace_id: 'TID_1',
    };
    const r = await runCli(['logs', '-', '--json'], {
      input: Buffer.from(`${JSON.stringify(rec)}${JSON.stringify({...rec, tls_verify_status: 'Success', tls_handshake_latency: 0.002})}\n`),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json.byStatus, {'Failed:ClientCertCrlHit': 1, Success: 1});
    assert.equal(r.json.failures[0].clients[0].subject, 'CN=d,O=Acme');
    assert.equal(r.json.handshakeLatency.p50, 0.002);
  });
});
