/**
 * `logs --athena`: the Athena table AWS documents for ALB connection logs (with partition
 * projection over the S3 layout) and the summary `logs` prints, as SQL (aws-reference 5.4), and
 * the query results turned back into the same LogSummary. Pure: strings and rows in and out.
 */
import {usageError} from '../errors.js';
import type {FailureClient, FailureSummary, LogSummary} from './log-summary.js';

/** Where the logs of one load balancer account and Region are: `s3://bucket[/prefix]/AWSLogs/<account>/elasticloadbalancing/<region>/`. */
export interface AthenaLogLocation {
  bucket: string;
  prefix: string;
  account: string;
  region: string;
}

/**
 * Parses the S3 location of the connection logs of one account and Region (the layout of
 * aws-reference 5: `bucket[/prefix]/AWSLogs/<account>/elasticloadbalancing/<region>/yyyy/mm/dd/`).
 * @throws MtlsKitError ATHENA_BAD_LOCATION (exit 2) naming the expected form.
 */
export function parseAthenaLocation(uri: string): AthenaLogLocation {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(?:(.*?)\/)?AWSLogs\/(\d{12})\/elasticloadbalancing\/([a-z0-9-]+)\/?$/.exec(uri);
  if (!m)
    throw usageError(
      'ATHENA_BAD_LOCATION',
      `--athena needs the logs of one account and Region; ${uri} is not s3://bucket[/prefix]/AWSLogs/<account>/elasticloadbalancing/<region>/`,
      ['for example: mtls-kit logs --athena s3://my-alb-logs/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/ --athena-output s3://my-athena-results/'],
    );
  return {bucket: m[1]!, prefix: m[2] ?? '', account: m[3]!, region: m[4]!};
}

const locationOf = (l: AthenaLogLocation): string => `s3://${l.bucket}/${l.prefix ? `${l.prefix}/` : ''}AWSLogs/${l.account}/elasticloadbalancing/${l.region}/`;

/** Athena identifiers mtls-kit writes unquoted: lower-case letters, digits and `_` (Athena table and database names). */
export function checkIdentifier(kind: string, name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,127}$/.test(name))
    throw usageError('ATHENA_BAD_NAME', `--athena-${kind} "${name}" is not an Athena name mtls-kit accepts (lower-case letters, digits and _)`, [
      `for example: --athena-${kind} alb_connection_logs`,
    ]);
  return name;
}

/**
 * The input.regex of AWS's connection-log table (Athena user guide, "Create the table for ALB
 * connection logs"), as written in the DDL string literal.
 */
export const CONNECTION_LOG_REGEX =
  '([^ ]*) ([^ ]*) ([0-9]*) ([0-9]*) ([A-Za-z0-9.-]*) ([^ ]*) ([-.0-9]*) \\"([^\\"]*)\\" ([^ ]*) ([^ ]*) ([^ ]*) ?([^ ]*)?( .*)?';

/** The partition-projection range start AWS's example uses; mtls-kit uses the day given with --since (else this). */
export const DEFAULT_PROJECTION_START = '2023/01/01';

/**
 * AWS's documented CREATE TABLE for ALB connection logs with partition projection
 * (https://docs.aws.amazon.com/athena/latest/ug/create-alb-connection-logs-table-partition-projection.html):
 * the columns and RegexSerDe of the plain table, PARTITIONED BY (day STRING), and
 * projection.day as a date `yyyy/MM/dd` from the start day to NOW over the S3 layout.
 */
export function createTableSql(p: {database: string; table: string; location: AthenaLogLocation; projectionStart?: string}): string {
  const loc = locationOf(p.location);
  return [
    `CREATE EXTERNAL TABLE IF NOT EXISTS ${p.database}.${p.table} (`,
    '  time string,',
    '  client_ip string,',
    '  client_port int,',
    '  listener_port int,',
    '  tls_protocol string,',
    '  tls_cipher string,',
    '  tls_handshake_latency double,',
    '  leaf_client_cert_subject string,',
    '  leaf_client_cert_validity string,',
    '  leaf_client_cert_serial_number string,',
    '  tls_verify_status string,',
    '  conn_trace_id string',
    ')',
    'PARTITIONED BY (day STRING)',
    "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe'",
    'WITH SERDEPROPERTIES (',
    "  'serialization.format' = '1',",
    `  'input.regex' = '${CONNECTION_LOG_REGEX}'`,
    ')',
    `LOCATION '${loc}'`,
    'TBLPROPERTIES (',
    "  'projection.enabled' = 'true',",
    "  'projection.day.type' = 'date',",
    `  'projection.day.range' = '${p.projectionStart ?? DEFAULT_PROJECTION_START},NOW',`,
    "  'projection.day.format' = 'yyyy/MM/dd',",
    "  'projection.day.interval' = '1',",
    "  'projection.day.interval.unit' = 'DAYS',",
    `  'storage.location.template' = '${loc}\${day}'`,
    ')',
  ].join('\n');
}

/** The storage.location.template a table made by createTableSql has (to check a table that exists). */
export const locationTemplate = (l: AthenaLogLocation): string => `${locationOf(l)}\${day}`;

/** `yyyy/MM/dd` of a `YYYY-MM-DD` day; throws a usage error for anything else. */
export function projectionDay(flag: string, day: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`)))
    throw usageError('ATHENA_BAD_DAY', `--${flag} "${day}" is not a day (YYYY-MM-DD)`, [`for example: --${flag} 2026-12-01`]);
  return day.replace(/-/g, '/');
}

export interface AthenaQueries {
  /** Counts by status, protocol, cipher and listener port in one scan (GROUPING SETS). */
  dimensions: string;
  /** Lines, malformed lines, handshake latency percentiles, first and last timestamp. */
  totals: string;
  /** Per failure code: the top clients, distinct clients and total. */
  failures: string;
}

/**
 * The summary `logs` prints, as three Athena (Trino) queries over the days `[from, to]`
 * (partition values `yyyy/MM/dd`, so only those days' objects are read). A quoted status
 * (`"Failed:ClientCertExpired"`, aws-reference 5) is unquoted as the local reader does; lines
 * the RegexSerDe cannot match have NULL columns and are counted as malformed.
 * Percentiles use approx_percentile (Athena has no exact percentile; documented difference).
 */
export function summaryQueries(p: {database: string; table: string; from: string; to: string; topClients: number}): AthenaQueries {
  const t = `${p.database}.${p.table}`;
  const where = `day BETWEEN '${p.from}' AND '${p.to}'`;
  const status = `replace(tls_verify_status, '"', '')`;
  return {
    dimensions: [
      'SELECT status, tls_protocol, tls_cipher, listener_port, grouping(status, tls_protocol, tls_cipher, listener_port) AS g, count(*) AS n',
      `FROM (SELECT ${status} AS status, tls_protocol, tls_cipher, listener_port FROM ${t} WHERE ${where} AND time IS NOT NULL)`,
      'GROUP BY GROUPING SETS ((status), (tls_protocol), (tls_cipher), (listener_port))',
    ].join('\n'),
    totals: [
      'SELECT count(*) AS lines, count_if(time IS NULL) AS malformed, count(tls_handshake_latency) AS handshakes,',
      '  approx_percentile(tls_handshake_latency, 0.5) AS p50, approx_percentile(tls_handshake_latency, 0.9) AS p90,',
      '  approx_percentile(tls_handshake_latency, 0.99) AS p99, max(tls_handshake_latency) AS max_latency,',
      '  min(time) AS first_time, max(time) AS last_time',
      `FROM ${t} WHERE ${where}`,
    ].join('\n'),
    failures: [
      'WITH f AS (',
      `  SELECT substr(${status}, 8) AS code, leaf_client_cert_subject AS subject, leaf_client_cert_serial_number AS serial, count(*) AS n`,
      `  FROM ${t} WHERE ${where} AND ${status} LIKE 'Failed:%'`,
      '  GROUP BY 1, 2, 3',
      '), r AS (',
      '  SELECT code, subject, serial, n, row_number() OVER (PARTITION BY code ORDER BY n DESC, serial) AS rn,',
      '    count(*) OVER (PARTITION BY code) AS distinct_clients, sum(n) OVER (PARTITION BY code) AS total',
      '  FROM f',
      ')',
      `SELECT code, subject, serial, n, distinct_clients, total FROM r WHERE rn <= ${Math.max(1, Math.floor(p.topClients))} ORDER BY total DESC, code, rn`,
    ].join('\n'),
  };
}

/** One result row: column name → value (Athena returns every value as a string, NULL as absent). */
export type AthenaRow = Record<string, string | undefined>;

const num = (v: string | undefined): number => (v === undefined || v === '' ? 0 : Number(v));
const numOrNull = (v: string | undefined): number | null => (v === undefined || v === '' ? null : Number(v));
const sorted = (m: Map<string, number>): Record<string, number> => Object.fromEntries([...m].sort((a, b) => b[1] - a[1]));

/**
 * The LogSummary of the three queries' rows, in the shape the local reader returns (sources is
 * the S3 location; malformed examples are not available from Athena).
 */
export function summaryFromRows(p: {source: string; dimensions: AthenaRow[]; totals: AthenaRow[]; failures: AthenaRow[]}): LogSummary {
  const byStatus = new Map<string, number>();
  const protocols = new Map<string, number>();
  const ciphers = new Map<string, number>();
  const ports = new Map<string, number>();
  // grouping() sets a bit per column that is NOT grouped: status alone → 0b0111, protocol → 0b1011, cipher → 0b1101, port → 0b1110.
  for (const r of p.dimensions) {
    const g = num(r.g);
    const n = num(r.n);
    if (g === 0b0111) byStatus.set(r.status ?? '-', n);
    else if (g === 0b1011) protocols.set(r.tls_protocol ?? '-', n);
    else if (g === 0b1101) ciphers.set(r.tls_cipher ?? '-', n);
    else if (g === 0b1110) ports.set(r.listener_port ?? '-', n);
  }
  const t = p.totals[0] ?? {};
  const lines = num(t.lines);
  const malformed = num(t.malformed);
  const failures = new Map<string, FailureSummary>();
  for (const r of p.failures) {
    const code = r.code ?? '';
    let f = failures.get(code);
    if (!f) {
      f = {code, count: num(r.total), clients: [], distinctClients: num(r.distinct_clients)};
      failures.set(code, f);
    }
    const c: FailureClient = {subject: (r.subject ?? '-').replace(/^"(.*)"$/, '$1'), serial: r.serial ?? '-', count: num(r.n)};
    f.clients.push(c);
  }
  const statusRecord = sorted(byStatus);
  return {
    sources: [p.source],
    lines,
    connections: lines - malformed,
    malformed: {count: malformed, examples: []},
    byStatus: statusRecord,
    nonHttpsConnections: statusRecord['-'] ?? 0,
    failures: [...failures.values()].sort((a, b) => b.count - a.count),
    handshakeLatency: {count: num(t.handshakes), p50: numOrNull(t.p50), p90: numOrNull(t.p90), p99: numOrNull(t.p99), max: numOrNull(t.max_latency)},
    protocols: sorted(protocols),
    ciphers: sorted(ciphers),
    listenerPorts: sorted(ports),
    firstTimestamp: t.first_time ?? null,
    lastTimestamp: t.last_time ?? null,
  };
}
