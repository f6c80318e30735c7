import {nlbSendsNoCertificateData} from '../lib/nlb/target.js';
import {Args, Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {dirFlag} from '../flags.js';
import {caPaths, readIndex} from '../io/ca/directory.js';
import {forEachLogLine} from '../io/aws/log-sources.js';
import {usageError} from '../lib/errors.js';
import {
  createLogSummarizer,
  type ExplainedClient,
  type ExplainedFailure,
  type FailureClient,
  explainFailures,
  type IndexedTier,
  type LogSummary,
} from '../lib/alb/log-summary.js';
import {hint, keyValues, out, printLine, warn} from '../ui/output.js';
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
    `Reads connection-log files (plain or .gz; folders are read recursively) or every object under s3://bucket/prefix, streaming. Lines with extra trailing fields are accepted (AWS appends fields); malformed lines are counted and shown, never fatal.

--explain joins the failing clients' serials with the CA directory's index (which certificate, revoked when, on which CRL) and says how to fix each failure code.

With --target nlb it says that NLB's TLS access logs carry no client-certificate fields and exits 4.

Exit codes: 0 summarised (whatever the log says); 2 bad arguments; 4 a file is missing or not readable, is not text (binary data, a key or certificate, an archive other than gzip), or --target nlb; 5 S3 error.`;

  static override examples = [
    '<%= config.bin %> logs conn_log_*.log.gz',
    '<%= config.bin %> logs ./connection.log --explain --dir ./pki',
    '<%= config.bin %> logs s3://my-alb-logs/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/11/21/ --region eu-west-1 --json',
  ];

  static override strict = false;
  static override args = {
    input: Args.string({description: 'Connection-log files (plain or .gz), folders, s3://bucket/prefix, or - for stdin (several allowed).', required: true}),
  };

  static override flags = {
    explain: Flags.boolean({summary: 'Join failing serials with the CA index (--dir) and say how to fix each failure code.', default: false}),
    dir: dirFlag,
    top: Flags.integer({summary: 'Clients listed per failure code.', default: 10, min: 1}),
    'endpoint-url': Flags.string({summary: 'S3-compatible endpoint (else AWS_ENDPOINT_URL).', helpValue: 'URL'}),
    region: Flags.string({summary: 'AWS region of the log bucket (else the SDK default chain).'}),
    profile: Flags.string({summary: 'AWS profile (else AWS_PROFILE / the default chain).'}),
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
    const summarizer = createLogSummarizer({topClients: flags.top});
    await forEachLogLine(
      inputs,
      {
        ...(flags.region ? {region: flags.region} : {}),
        ...(flags.profile ? {profile: flags.profile} : {}),
        ...(flags['endpoint-url'] ? {endpointUrl: flags['endpoint-url']} : {}),
      },
      (s) => summarizer.addSource(s),
      (line, source, n) => summarizer.addLine(line, source, n),
    );
    const summary = summarizer.finish();
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
}

function renderLogs(r: LogsResult): void {
  printLine(
    out.bold(`${plural(r.connections, 'connection')} in ${plural(r.sources.length, 'file')}`) +
      (r.firstTimestamp ? ` (${r.firstTimestamp} … ${r.lastTimestamp})` : ''),
  );
  if (r.malformed.count > 0) {
    warn(`${r.malformed.count} malformed line${r.malformed.count === 1 ? '' : 's'} skipped`);
    for (const m of r.malformed.examples) printLine(`  ${out.dim(`${m.source}:${m.line}`)} ${m.text}`);
  }
  printLine(out.bold('\nby tls_verify_status'));
  printLine(keyValues(Object.entries(r.byStatus).map(([k, v]) => [k, `${v} (${pct(v, r.connections)})`])));
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
