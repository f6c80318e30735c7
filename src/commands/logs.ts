import {nlbSendsNoCertificateData} from '../lib/nlb/target.js';
import {Args, Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {dirFlag} from '../flags.js';
import {caPaths, readIndex} from '../io/ca/directory.js';
import {summarizeLogs} from '../io/aws/log-sources.js';
import {usageError} from '../lib/errors.js';
import {type ExplainedClient, type ExplainedFailure, type FailureClient, explainFailures, type IndexedTier, type LogSummary} from '../lib/alb/log-summary.js';
import {hint, keyValues, out, printErr, printLine, warn} from '../ui/output.js';
import {plural} from '../lib/plural.js';

export interface LogsResult extends LogSummary {
  /** With --explain: each failure code's meaning and fix, clients joined with the CA index. */
  explain?: ExplainedFailure[];
}

const fmtSeconds = (s: number | null): string => (s === null ? '-' : `${(s * 1000).toFixed(0)} ms`);
const pct = (n: number, total: number): string => (total ? `${((n / total) * 100).toFixed(1)}%` : '-');

export default class Logs extends BaseCommand {
  static override summary = 'Summarise ALB connection logs: verify status, failures by code and client, handshake latency, TLS versions and ciphers.';
  static override description =
    `Reads connection-log files (plain or .gz; folders are read recursively), stdin (-) or every object under s3://bucket/prefix, streaming: ALB's S3 text format, CloudWatch Logs exports (a timestamp before each record) and JSON records (CloudWatch Logs or Firehose with the JSON format, one per line or concatenated, or CloudWatch Logs subscription envelopes). Lines with extra trailing fields are accepted (AWS appends fields); malformed lines are counted and shown, never fatal. Many local files are read by one thread per core.

--explain joins the failing clients' serials with the CA directory's index (which certificate, revoked when, on which CRL) and says how to fix each failure code.

With --target nlb it says that NLB's TLS access logs carry no client-certificate fields and exits 4.

--athena (for logs too large for one machine) creates or reuses the Athena table AWS documents for connection logs, with partition projection over s3://bucket[/prefix]/AWSLogs/<account>/elasticloadbalancing/<region>/, and runs the same summary as Athena queries over the days --since..--until; percentiles are Athena's approximations and malformed lines are counted without examples.

Exit codes: 0 summarised (whatever the log says); 2 bad arguments; 4 a file is missing or not readable, is not text (binary data, a key or certificate, an archive other than gzip), --target nlb, or an Athena table of that name reading another location; 5 S3 or Athena error.`;

  static override examples = [
    '<%= config.bin %> logs conn_log_*.log.gz',
    '<%= config.bin %> logs ./connection.log --explain --dir ./pki',
    '<%= config.bin %> logs s3://my-alb-logs/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/ --region eu-west-1 --json',
    '<%= config.bin %> logs --athena s3://my-alb-logs/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/ --since 2026-12-01 --until 2026-12-07 --athena-output s3://my-athena-results/',
  ];

  static override strict = false;
  static override args = {
    input: Args.string({description: 'Connection-log files (plain or .gz), folders, s3://bucket/prefix, or - for stdin (several allowed).', required: true}),
  };

  static override flags = {
    explain: Flags.boolean({summary: 'Join failing serials with the CA index (--dir) and say how to fix each failure code.', default: false}),
    dir: dirFlag,
    top: Flags.integer({summary: 'Clients listed per failure code.', default: 10, min: 1}),
    workers: Flags.integer({
      summary: 'Threads for local files: 0 = one per core when the files are many and large (default), 1 = read them one after another.',
      min: 0,
      env: 'MTLS_KIT_LOG_WORKERS',
    }),
    'endpoint-url': Flags.string({summary: 'S3-compatible endpoint (else AWS_ENDPOINT_URL).', helpValue: 'URL'}),
    region: Flags.string({summary: 'AWS region of the log bucket (else the SDK default chain).'}),
    profile: Flags.string({summary: 'AWS profile (else AWS_PROFILE / the default chain).'}),
    athena: Flags.boolean({
      summary:
        'Summarise with Amazon Athena instead of reading here: creates (or reuses) the connection-log table with partition projection and runs the summary as queries.',
      default: false,
    }),
    'athena-database': Flags.string({summary: 'Athena database of the table.', default: 'default', dependsOn: ['athena']}),
    'athena-table': Flags.string({summary: 'Athena table name.', default: 'alb_connection_logs', dependsOn: ['athena']}),
    'athena-workgroup': Flags.string({summary: 'Athena workgroup (else primary).', dependsOn: ['athena']}),
    'athena-output': Flags.string({
      summary: 'S3 location for Athena query results (else the workgroup setting).',
      helpValue: 's3://BUCKET/PREFIX/',
      dependsOn: ['athena'],
    }),
    since: Flags.string({summary: 'With --athena: first day to summarise (UTC, default today).', helpValue: 'YYYY-MM-DD', dependsOn: ['athena']}),
    until: Flags.string({summary: 'With --athena: last day to summarise (UTC, default today).', helpValue: 'YYYY-MM-DD', dependsOn: ['athena']}),
    target: Flags.option({
      summary: 'Whose logs: ALB connection logs (default); nlb says that NLB logs carry no client-certificate fields.',
      options: ['alb', 'nlb'] as const,
    })(),
  };

  async run(): Promise<LogsResult> {
    const {argv, flags} = await this.parse(Logs);
    // aws-reference 9.5, 9.6: NLB's TLS access logs have no client-certificate fields.
    if (flags.target === 'nlb') throw nlbSendsNoCertificateData('logs');
    const inputs = argv as string[];
    if (inputs.length === 0)
      throw usageError('NO_INPUT', 'no connection-log files given', ['mtls-kit logs conn_log.log.gz (or a folder, or s3://bucket/prefix)']);
    const summary = flags.athena
      ? await this.athena(inputs, flags)
      : await summarizeLogs(inputs, {
          ...(flags.region ? {region: flags.region} : {}),
          ...(flags.profile ? {profile: flags.profile} : {}),
          ...(flags['endpoint-url'] ? {endpointUrl: flags['endpoint-url']} : {}),
          summary: {topClients: flags.top},
          ...(flags.workers === undefined ? {} : {workers: flags.workers}),
        });
    const result: LogsResult = {...summary};
    if (flags.explain) {
      const paths = caPaths(flags.dir);
      const tiers: IndexedTier[] = [];
      for (const tier of ['root', 'intermediate'] as const) tiers.push({tier, entries: await readIndex(paths[tier]), crl: paths[tier].crl});
      if (tiers.every((t) => t.entries.length === 0)) warn(`no certificates in the CA index under ${flags.dir}; serials are not joined (use --dir)`);
      result.explain = explainFailures(summary.failures, tiers, new Date());
    }
    return this.emit(result, renderLogs);
  }

  /** --athena: one s3:// location of one account and Region, summarised by Athena queries (aws-reference 5.4). */
  private async athena(inputs: string[], flags: {region?: string; profile?: string; top: number} & Record<string, unknown>): Promise<LogSummary> {
    if (inputs.length !== 1)
      throw usageError('ATHENA_ONE_LOCATION', '--athena summarises one S3 location', [
        'mtls-kit logs --athena s3://bucket/prefix/AWSLogs/<account>/elasticloadbalancing/<region>/',
      ]);
    const [{parseAthenaLocation, checkIdentifier, projectionDay}, {summarizeWithAthena}] = await Promise.all([
      import('../lib/alb/athena-sql.js'),
      import('../io/aws/athena.js'),
    ]);
    const location = parseAthenaLocation(inputs[0]!);
    const today = new Date().toISOString().slice(0, 10);
    const from = projectionDay('since', (flags.since as string | undefined) ?? today);
    const to = projectionDay('until', (flags.until as string | undefined) ?? today);
    const str = (k: string): string | undefined => flags[k] as string | undefined;
    const poll = Number(process.env.MTLS_KIT_POLL_INTERVAL_MS);
    return summarizeWithAthena({
      location,
      source: inputs[0]!,
      database: checkIdentifier('database', str('athena-database') ?? 'default'),
      table: checkIdentifier('table', str('athena-table') ?? 'alb_connection_logs'),
      ...(str('athena-workgroup') ? {workgroup: str('athena-workgroup')!} : {}),
      ...(str('athena-output') ? {outputLocation: str('athena-output')!} : {}),
      ...(flags.region ? {region: flags.region} : {region: location.region}),
      ...(flags.profile ? {profile: flags.profile} : {}),
      from,
      to,
      topClients: flags.top,
      ...(poll > 0 ? {pollIntervalMs: poll} : {}),
      onProgress: (text) => printErr(text),
    });
  }
}

function renderLogs(r: LogsResult): void {
  if (r.malformed.count > 0 && r.malformed.examples.length === 0)
    warn(`${r.malformed.count} lines did not match the table's pattern (Athena gives no examples)`);
  printLine(
    out.bold(`${plural(r.connections, 'connection')} in ${plural(r.sources.length, 'file')}`) +
      (r.firstTimestamp ? ` (${r.firstTimestamp} … ${r.lastTimestamp})` : ''),
  );
  if (r.malformed.count > 0) {
    warn(`${r.malformed.count} malformed line${r.malformed.count === 1 ? '' : 's'} skipped`);
    for (const m of r.malformed.examples) printLine(`  ${out.dim(`${m.source}:${m.line}`)} ${m.text}`);
  }
  printLine(out.bold('\nby tls_verify_status'));
  printLine(keyValues(Object.entries(r.byStatus).map(([k, v]) => [k === '-' ? '- (non-HTTPS listener)' : k, `${v} (${pct(v, r.connections)})`])));
  const h = r.handshakeLatency;
  printLine(out.bold('\nhandshake latency') + out.dim(` (${plural(h.count, 'handshake')})`));
  printLine(
    keyValues([
      ['p50', fmtSeconds(h.p50)],
      ['p90', fmtSeconds(h.p90)],
      ['p99', fmtSeconds(h.p99)],
      ['max', fmtSeconds(h.max)],
    ]),
  );
  printLine(out.bold('\nTLS protocols'));
  printLine(keyValues(Object.entries(r.protocols).map(([k, v]) => [k, String(v)])));
  printLine(out.bold('\nTLS ciphers'));
  printLine(keyValues(Object.entries(r.ciphers).map(([k, v]) => [k, String(v)])));
  const explained = new Map((r.explain ?? []).map((e) => [e.code, e]));
  for (const f of r.failures) {
    printLine(
      out.bold(`\nFailed:${f.code}`) + ` ${f.count} connection${f.count === 1 ? '' : 's'}, ${f.distinctClients} client${f.distinctClients === 1 ? '' : 's'}`,
    );
    const ex = explained.get(f.code);
    if (ex) printLine(`  ${ex.meaning}\n  ${out.green('fix:')} ${ex.fix}`);
    const clients: Array<FailureClient & {issued?: ExplainedClient['issued']}> = ex?.clients ?? f.clients;
    for (const c of clients) {
      printLine(`  ${c.count}× serial ${c.serial} ${c.subject}`);
      const issued = c.issued;
      if (issued) {
        const rev = issued.status === 'revoked' ? `, revoked ${issued.revokedAt ?? ''}${issued.reason ? ` (${issued.reason})` : ''} on ${issued.crl}` : '';
        printLine(out.dim(`      issued by the ${issued.tier} CA: ${issued.file}, ${issued.status}, expires ${issued.notAfter}${rev}`));
      } else if (issued === null) {
        printLine(out.dim('      not in the local CA index'));
      }
    }
    if (f.distinctClients > f.clients.length) printLine(out.dim(`  … and ${f.distinctClients - f.clients.length} more (--top)`));
  }
  if (!r.explain && r.failures.length > 0) hint('next: add --explain (and --dir) to see which certificates these are and how to fix each code');
}
