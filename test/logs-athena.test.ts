/**
 * `logs --athena` against the Athena emulator (test/support/athena-emulator.ts) through
 * AWS_ENDPOINT_URL_ATHENA, so the real SDK path runs: the table AWS documents is created once and
 * reused, the three summary queries go out as AWS documents the requests, results are paged, and
 * the summary printed equals the local reader's on the same lines. The rows the emulator returns
 * are computed here from the generated lines with parseConnectionLogLine (not the scanner the
 * local reader uses), as Athena would compute them.
 */
import assert from 'node:assert/strict';
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {CONNECTION_LOG_REGEX, createTableSql, parseAthenaLocation, summaryQueries} from '../src/lib/alb/athena-sql.js';
import {parseConnectionLogLine} from '../src/lib/alb/connection-log.js';
import {percentile} from '../src/lib/alb/log-summary.js';
import {AthenaEmulator, type Row} from './support/athena-emulator.js';
import {runCli} from './support/cli.js';
import {generateConnectionLog} from './support/conn-logs.js';
import {tempDir} from './support/tmp.js';

const LOC = 's3://alb-logs/prod/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/';
const emu = new AthenaEmulator();
const tmp = tempDir();
const log = generateConnectionLog(600);
const entries = log.text
  .trimEnd()
  .split('\n')
  .map((l) => parseConnectionLogLine(l)!);
const env = {
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_SESSION_TOKEN: undefined,
  AWS_PROFILE: undefined,
  AWS_REGION: 'eu-west-1',
  AWS_CONFIG_FILE: join(tmp, 'none'),
  AWS_SHARED_CREDENTIALS_FILE: join(tmp, 'none'),
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  AWS_ENDPOINT_URL_ATHENA: '',
  MTLS_KIT_POLL_INTERVAL_MS: '20',
};

const count = (key: (e: (typeof entries)[number]) => string): Map<string, number> => {
  const m = new Map<string, number>();
  for (const e of entries) m.set(key(e), (m.get(key(e)) ?? 0) + 1);
  return m;
};

before(async () => {
  await emu.start();
  env.AWS_ENDPOINT_URL_ATHENA = emu.url;
  emu.onSelect((sql) => {
    if (!sql.includes('GROUPING SETS')) return undefined;
    const rows: Row[] = [];
    const dims: Array<[string, number, (e: (typeof entries)[number]) => string]> = [
      ['status', 0b0111, (e) => e.verifyStatus],
      ['tls_protocol', 0b1011, (e) => e.tlsProtocol],
      ['tls_cipher', 0b1101, (e) => e.tlsCipher],
      ['listener_port', 0b1110, (e) => String(e.listenerPort)],
    ];
    for (const [col, g, key] of dims)
      for (const [k, n] of count(key))
        rows.push({status: null, tls_protocol: null, tls_cipher: null, listener_port: null, [col]: k, g: String(g), n: String(n)});
    return {columns: ['status', 'tls_protocol', 'tls_cipher', 'listener_port', 'g', 'n'], rows};
  });
  emu.onSelect((sql) => {
    if (!sql.includes('approx_percentile')) return undefined;
    const lat = entries
      .filter((e) => e.handshakeLatency !== '-')
      .map((e) => Number(e.handshakeLatency))
      .sort((a, b) => a - b);
    const times = entries.map((e) => e.timestamp).sort();
    return {
      columns: ['lines', 'malformed', 'handshakes', 'p50', 'p90', 'p99', 'max_latency', 'first_time', 'last_time'],
      rows: [
        {
          lines: String(entries.length),
          malformed: '0',
          handshakes: String(lat.length),
          p50: String(percentile(lat, 50)),
          p90: String(percentile(lat, 90)),
          p99: String(percentile(lat, 99)),
          max_latency: String(lat.at(-1)),
          first_time: times[0]!,
          last_time: times.at(-1)!,
        },
      ],
    };
  });
  emu.onSelect((sql) => {
    if (!sql.includes('row_number()')) return undefined;
    const top = Number(/rn <= (\d+)/.exec(sql)![1]);
    const rows: Row[] = [];
    for (const [status] of count((e) => e.verifyStatus)) {
      if (!status.startsWith('Failed:')) continue;
      const m = new Map<string, {subject: string; serial: string; n: number}>();
      for (const e of entries.filter((x) => x.verifyStatus === status)) {
        const k = `${e.serial}\0${e.subject}`;
        const c = m.get(k) ?? {subject: e.subject, serial: e.serial, n: 0};
        c.n++;
        m.set(k, c);
      }
      const all = [...m.values()].sort((a, b) => b.n - a.n || a.serial.localeCompare(b.serial));
      const total = all.reduce((s, c) => s + c.n, 0);
      for (const c of all.slice(0, top))
        rows.push({code: status.slice(7), subject: c.subject, serial: c.serial, n: String(c.n), distinct_clients: String(all.length), total: String(total)});
    }
    return {columns: ['code', 'subject', 'serial', 'n', 'distinct_clients', 'total'], rows};
  });
});
after(() => emu.stop());

describe('logs --athena (Athena emulator through AWS_ENDPOINT_URL_ATHENA)', () => {
  it("the DDL is AWS's documented table with partition projection over the S3 layout", () => {
    const sql = createTableSql({database: 'default', table: 'alb_connection_logs', location: parseAthenaLocation(LOC), projectionStart: '2026/12/01'});
    assert.match(sql, /^CREATE EXTERNAL TABLE IF NOT EXISTS default\.alb_connection_logs \(/);
    assert.ok(sql.includes(`'input.regex' = '${CONNECTION_LOG_REGEX}'`));
    assert.ok(sql.includes("ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe'"));
    assert.ok(sql.includes('PARTITIONED BY (day STRING)'));
    assert.ok(sql.includes(`LOCATION '${LOC}'`));
    assert.ok(sql.includes(`'storage.location.template' = '${LOC}\${day}'`));
    assert.ok(sql.includes("'projection.day.range' = '2026/12/01,NOW'"));
    assert.ok(sql.includes("'projection.day.format' = 'yyyy/MM/dd'"));
    const q = summaryQueries({database: 'default', table: 'alb_connection_logs', from: '2026/12/01', to: '2026/12/07', topClients: 3});
    for (const s of Object.values(q))
      assert.ok(s.includes("day BETWEEN '2026/12/01' AND '2026/12/07'"), 'every query reads only the partitions of the days asked');
    assert.ok(q.dimensions.includes(`replace(tls_verify_status, '"', '')`), 'quoted statuses are unquoted');
    assert.throws(() => parseAthenaLocation('s3://alb-logs/prod/'), /AWSLogs\/<account>/);
  });

  it('creates the table, runs the summary, prints what the local reader prints; the second run reuses the table', async () => {
    writeFileSync(join(tmp, 'c.log'), log.text);
    const local = await runCli(['logs', join(tmp, 'c.log'), '--json', '--top', '3']);
    const args = [
      'logs',
      '--athena',
      LOC,
      '--since',
      '2026-11-21',
      '--until',
      '2026-11-21',
      '--athena-output',
      's3://athena-results/q/',
      '--top',
      '3',
      '--json',
    ];
    const r = await runCli(args, {env});
    assert.equal(r.code, 0, r.stderr);
    const {sources: _a, malformed: _b, lines: _c, ...got} = r.json;
    const {sources: _d, malformed: _e, lines: _f, ...want} = local.json;
    assert.deepEqual(got, want);
    assert.deepEqual(r.json.sources, [LOC]);
    const ddl = emu.queries.filter((q) => q.ddl);
    assert.equal(ddl.length, 1);
    assert.ok(emu.tables.get('default.alb_connection_logs')?.['storage.location.template']?.startsWith(LOC));
    for (const c of emu.calls.filter((x) => x.op === 'StartQueryExecution')) {
      assert.deepEqual(c.body.ResultConfiguration, {OutputLocation: 's3://athena-results/q/'});
      assert.deepEqual(c.body.QueryExecutionContext, {Catalog: 'AwsDataCatalog', Database: 'default'});
      assert.equal(typeof c.body.ClientRequestToken, 'string');
    }
    assert.ok(emu.calls.some((c) => c.op === 'GetQueryResults' && c.body.MaxResults === 1000));
    const again = await runCli(args, {env});
    assert.equal(again.code, 0, again.stderr);
    assert.equal(emu.queries.filter((q) => q.ddl).length, 1, 'the table is reused');
    assert.match(again.stderr, /reusing Athena table default\.alb_connection_logs/);
    // Human output: the same table as the local reader.
    const human = await runCli(
      args.filter((a) => a !== '--json'),
      {env},
    );
    assert.match(human.stdout, /600 connections in 1 file/);
  });

  it('errors: no output location (exit 4), a table reading another location (exit 4), a failed query (exit 5), a bad location (exit 2)', async () => {
    const base = ['logs', '--athena', LOC, '--since', '2026-11-21', '--until', '2026-11-21', '--json'];
    const noOut = await runCli(base, {env});
    assert.equal(noOut.code, 4, noOut.stderr);
    assert.equal(noOut.json.error.code, 'ATHENA_NO_OUTPUT_LOCATION');
    emu.workgroups.set('logs', 's3://wg-results/');
    const other = await runCli(['logs', '--athena', LOC.replace('eu-west-1', 'us-east-1'), '--athena-workgroup', 'logs', '--json'], {env});
    assert.equal(other.code, 4, other.stderr);
    assert.equal(other.json.error.code, 'ATHENA_TABLE_ELSEWHERE');
    emu.pollsToFinish = 1;
    emu.failWhen = {text: 'default.broken', reason: 'HIVE_BAD_DATA: Error parsing field value'};
    const failed = await runCli([...base, '--athena-workgroup', 'logs', '--athena-table', 'broken'], {env});
    assert.equal(failed.code, 5, failed.stderr);
    assert.equal(failed.json.error.code, 'ATHENA_QUERY_FAILED');
    assert.match(failed.json.error.message, /HIVE_BAD_DATA/);
    const bad = await runCli(['logs', '--athena', 's3://alb-logs/prod/', '--json'], {env});
    assert.equal(bad.code, 2);
    assert.equal(bad.json.error.code, 'ATHENA_BAD_LOCATION');
  });
});
