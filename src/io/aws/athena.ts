/**
 * The Athena side of `logs --athena` (aws-reference 5.4): create or reuse the connection-log
 * table, run the summary queries (StartQueryExecution, GetQueryExecution polled a bounded
 * number of times, GetQueryResults through the SDK's paginator), and map Athena errors. The
 * SQL and the mapping of rows are in src/lib/alb/athena-sql.ts.
 */
import {type AthenaLogLocation, type AthenaRow, createTableSql, locationTemplate, summaryFromRows, summaryQueries} from '../../lib/alb/athena-sql.js';
import type {LogSummary} from '../../lib/alb/log-summary.js';
import {ExitCode, MtlsKitError, preconditionError} from '../../lib/errors.js';
import {type AwsParams, awsErrorCode, commonJs, mapAwsError, sdkClientConfig} from './clients.js';

export interface AthenaParams extends AwsParams {
  location: AthenaLogLocation;
  /** The URI the user gave (shown as the source). */
  source: string;
  database: string;
  table: string;
  workgroup?: string;
  /** s3:// prefix for query results; optional when the workgroup sets one. */
  outputLocation?: string;
  /** Partition days `yyyy/MM/dd`, inclusive. */
  from: string;
  to: string;
  topClients: number;
  /** Poll interval (ms) and the most polls per query before giving up. */
  pollIntervalMs?: number;
  maxPolls?: number;
  onProgress?: (text: string) => void;
}

/** The most GetQueryExecution calls per query (with the default 1 s interval, 15 minutes): mtls-kit's choice, one constant. */
export const ATHENA_MAX_POLLS = 900;

type AthenaSdk = typeof import('@aws-sdk/client-athena');

/**
 * Creates the table when it does not exist (or checks the one that does), runs the three
 * summary queries concurrently and returns the summary.
 * @throws MtlsKitError ATHENA_TABLE_ELSEWHERE (4), ATHENA_QUERY_FAILED (5), ATHENA_TIMEOUT (5), AWS_* (5).
 */
export async function summarizeWithAthena(p: AthenaParams): Promise<LogSummary> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sdk = commonJs(await import('@aws-sdk/client-athena')) as AthenaSdk;
  // AWS_ENDPOINT_URL_ATHENA (or AWS_ENDPOINT_URL) is read by the SDK itself; --endpoint-url is S3's.
  const {endpoint: _s3Endpoint, ...config} = sdkClientConfig({...(p.region ? {region: p.region} : {}), ...(p.profile ? {profile: p.profile} : {})});
  const client = new sdk.AthenaClient(config);
  try {
    await ensureTable(sdk, client, p);
    const q = summaryQueries({database: p.database, table: p.table, from: p.from, to: p.to, topClients: p.topClients});
    const [dimensions, totals, failures] = await Promise.all([
      runQuery(sdk, client, p, q.dimensions),
      runQuery(sdk, client, p, q.totals),
      runQuery(sdk, client, p, q.failures),
    ]);
    return summaryFromRows({source: p.source, dimensions, totals, failures});
  } finally {
    client.destroy();
  }
}

async function ensureTable(sdk: AthenaSdk, client: InstanceType<AthenaSdk['AthenaClient']>, p: AthenaParams): Promise<void> {
  try {
    const r = await client.send(new sdk.GetTableMetadataCommand({CatalogName: 'AwsDataCatalog', DatabaseName: p.database, TableName: p.table}));
    const template = r.TableMetadata?.Parameters?.['storage.location.template'];
    if (template !== locationTemplate(p.location))
      throw preconditionError(
        'ATHENA_TABLE_ELSEWHERE',
        `Athena table ${p.database}.${p.table} exists but reads ${template ?? 'a location without partition projection'}, not ${locationTemplate(p.location)}`,
        [`use another table: --athena-table ${p.table}_${p.location.region.replace(/-/g, '_')}`, `or drop it: DROP TABLE ${p.database}.${p.table}`],
      );
    p.onProgress?.(`reusing Athena table ${p.database}.${p.table}`);
    return;
  } catch (error) {
    if (error instanceof MtlsKitError) throw error;
    // GetTableMetadata of a table that does not exist: MetadataException (Athena API reference).
    if (awsErrorCode(error) !== 'Metadata') throw mapAwsError(error, {action: 'athena:GetTableMetadata', resource: `${p.database}.${p.table}`});
  }
  p.onProgress?.(`creating Athena table ${p.database}.${p.table} (partition projection over ${p.source})`);
  await runQuery(sdk, client, p, createTableSql({database: p.database, table: p.table, location: p.location, projectionStart: p.from}));
}

/** Runs one query to completion and returns its rows (the header row of a SELECT removed). */
export async function runQuery(sdk: AthenaSdk, client: InstanceType<AthenaSdk['AthenaClient']>, p: AthenaParams, sql: string): Promise<AthenaRow[]> {
  const ctx = {action: 'athena:StartQueryExecution', resource: p.workgroup ?? 'primary'};
  let id: string;
  try {
    const started = await client.send(
      new sdk.StartQueryExecutionCommand({
        QueryString: sql,
        QueryExecutionContext: {Catalog: 'AwsDataCatalog', Database: p.database},
        ...(p.workgroup ? {WorkGroup: p.workgroup} : {}),
        ...(p.outputLocation ? {ResultConfiguration: {OutputLocation: p.outputLocation}} : {}),
      }),
    );
    id = started.QueryExecutionId ?? '';
  } catch (error) {
    if (awsErrorCode(error) === 'InvalidRequest' && /output location/i.test((error as Error).message ?? ''))
      throw preconditionError('ATHENA_NO_OUTPUT_LOCATION', `Athena has nowhere to write query results: ${(error as Error).message}`, [
        'add --athena-output s3://<bucket>/<prefix>/ (a bucket you may write to), or use a workgroup with a query result location (--athena-workgroup)',
      ]);
    throw mapAwsError(error, ctx);
  }
  const interval = p.pollIntervalMs ?? 1000;
  const maxPolls = p.maxPolls ?? ATHENA_MAX_POLLS;
  for (let poll = 0; ; poll++) {
    const r = await client
      .send(new sdk.GetQueryExecutionCommand({QueryExecutionId: id}))
      .catch((error: unknown) => Promise.reject(mapAwsError(error, {action: 'athena:GetQueryExecution', resource: id})));
    const state = r.QueryExecution?.Status?.State;
    if (state === 'SUCCEEDED') break;
    if (state === 'FAILED' || state === 'CANCELLED')
      throw new MtlsKitError({
        code: 'ATHENA_QUERY_FAILED',
        message: `Athena query ${id} ${state === 'FAILED' ? 'failed' : 'was cancelled'}: ${r.QueryExecution?.Status?.StateChangeReason ?? 'no reason given'}`,
        suggestions: ['see the query in the Athena console (Recent queries) or: aws athena get-query-execution --query-execution-id ' + id],
        exitCode: ExitCode.Aws,
        details: {queryExecutionId: id, state, errorCategory: r.QueryExecution?.Status?.AthenaError?.ErrorCategory ?? null},
      });
    if (poll + 1 >= maxPolls)
      throw new MtlsKitError({
        code: 'ATHENA_TIMEOUT',
        message: `Athena query ${id} was still ${state ?? 'running'} after ${maxPolls} checks`,
        suggestions: [`narrow the days (--since/--until), or wait and read it: aws athena get-query-results --query-execution-id ${id}`],
        exitCode: ExitCode.Aws,
        details: {queryExecutionId: id},
      });
    await new Promise((r2) => setTimeout(r2, interval));
  }
  const rows: AthenaRow[] = [];
  let columns: string[] | null = null;
  let header = true;
  try {
    for await (const page of sdk.paginateGetQueryResults({client, pageSize: 1000}, {QueryExecutionId: id})) {
      columns ??= (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => c.Name ?? '');
      for (const row of page.ResultSet?.Rows ?? []) {
        // The first row of a SELECT's first page is the header (Athena API reference, GetQueryResults).
        if (header) {
          header = false;
          continue;
        }
        const out: AthenaRow = {};
        (row.Data ?? []).forEach((d, i) => {
          if (d.VarCharValue !== undefined) out[columns![i] ?? String(i)] = d.VarCharValue;
        });
        rows.push(out);
      }
    }
  } catch (error) {
    throw mapAwsError(error, {action: 'athena:GetQueryResults', resource: id});
  }
  return rows;
}
