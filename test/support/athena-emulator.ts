/**
 * An offline Amazon Athena emulator for `logs --athena`, speaking the JSON 1.1 protocol of
 * `@aws-sdk/client-athena` (`X-Amz-Target: AmazonAthena.<Operation>`); tests reach it only
 * through AWS_ENDPOINT_URL_ATHENA with the real SDK. Errors are HTTP 400 with
 * `{"__type": ..., "message": ...}`.
 *
 * What it checks, as the Athena API reference documents it
 * (https://docs.aws.amazon.com/athena/latest/APIReference/):
 * - StartQueryExecution: QueryString 1-262144 characters; ClientRequestToken 32-128 characters
 *   (the SDK fills it: an idempotency token), the same token returns the same query id;
 *   WorkGroup `[a-zA-Z0-9._-]{1,128}`; QueryExecutionContext.Database 1-255 and Catalog 1-256
 *   characters; ResultConfiguration.OutputLocation an `s3://` URI; without an output location
 *   in the request or the workgroup → InvalidRequestException (the message AWS returns:
 *   "No output location provided. An output location is required either through the Workgroup
 *   result configuration setting or as an API input.")
 * - GetQueryExecution: an unknown id → InvalidRequestException; a query goes QUEUED → RUNNING →
 *   SUCCEEDED (or FAILED with a StateChangeReason) over `pollsToFinish` calls
 * - GetQueryResults: MaxResults 1-1000, NextToken paging, the header row first on the first page
 *   of a SELECT (none for DDL); before SUCCEEDED → InvalidRequestException
 * - GetTableMetadata: CatalogName, DatabaseName, TableName required; an unknown table →
 *   MetadataException; a table created by `CREATE EXTERNAL TABLE` here carries its TBLPROPERTIES
 *   as Parameters (`storage.location.template`, ...)
 * It does not run SQL: a SELECT is answered by the handlers a test registers (`onSelect`), and
 * one with no handler FAILS, so a query nobody expected cannot pass unnoticed.
 */
import type {IncomingMessage, ServerResponse} from 'node:http';
import {randomUUID} from 'node:crypto';
import {HttpStandIn} from './http-stand-in.js';

export type Row = Record<string, string | null>;
interface Query {
  id: string;
  sql: string;
  database: string | null;
  polls: number;
  state: 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  reason?: string;
  columns: string[];
  rows: Row[];
  ddl: boolean;
}

class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export class AthenaEmulator extends HttpStandIn {
  readonly queries: Query[] = [];
  readonly calls: Array<{op: string; body: Record<string, unknown>}> = [];
  readonly tables = new Map<string, Record<string, string>>();
  /** Workgroups with a result location (name → s3 URI or null). */
  readonly workgroups = new Map<string, string | null>([['primary', null]]);
  pollsToFinish = 2;
  /** A SELECT naming this text FAILS (as Athena does on bad data), with this reason. */
  failWhen: {text: string; reason: string} | null = null;
  private readonly handlers: Array<(sql: string) => {columns: string[]; rows: Row[]} | undefined> = [];
  private readonly tokens = new Map<string, string>();

  onSelect(h: (sql: string) => {columns: string[]; rows: Row[]} | undefined): void {
    this.handlers.push(h);
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const send = (status: number, value: unknown): void => {
      res.writeHead(status, {'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID()});
      res.end(JSON.stringify(value));
    };
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      if (!target.startsWith('AmazonAthena.')) throw new ApiError('UnknownOperationException', `no target ${target}`);
      const op = target.slice('AmazonAthena.'.length);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      this.calls.push({op, body});
      if (op === 'StartQueryExecution') return send(200, this.startQuery(body));
      if (op === 'GetQueryExecution') return send(200, this.get(body));
      if (op === 'GetQueryResults') return send(200, this.results(body));
      if (op === 'GetTableMetadata') return send(200, this.table(body));
      throw new ApiError('InvalidRequestException', `operation ${op} is not emulated`);
    } catch (error) {
      const e = error instanceof ApiError ? error : new ApiError('InternalServerException', String(error));
      send(400, {__type: e.type, message: e.message});
    }
  }

  private startQuery(b: Record<string, unknown>): unknown {
    const sql = b.QueryString;
    if (typeof sql !== 'string' || sql.length < 1 || sql.length > 262144)
      throw new ApiError('InvalidRequestException', 'QueryString must be 1-262144 characters');
    const token = b.ClientRequestToken;
    if (token !== undefined && (typeof token !== 'string' || token.length < 32 || token.length > 128))
      throw new ApiError('InvalidRequestException', 'ClientRequestToken must be 32-128 characters');
    if (typeof token === 'string' && this.tokens.has(token)) return {QueryExecutionId: this.tokens.get(token)};
    const wg = (b.WorkGroup as string | undefined) ?? 'primary';
    if (!/^[a-zA-Z0-9._-]{1,128}$/.test(wg)) throw new ApiError('InvalidRequestException', `invalid WorkGroup ${wg}`);
    if (!this.workgroups.has(wg)) throw new ApiError('InvalidRequestException', `WorkGroup ${wg} is not found.`);
    const ctx = (b.QueryExecutionContext ?? {}) as {Database?: string; Catalog?: string};
    if (ctx.Database !== undefined && (ctx.Database.length < 1 || ctx.Database.length > 255))
      throw new ApiError('InvalidRequestException', 'Database must be 1-255 characters');
    if (ctx.Catalog !== undefined && (ctx.Catalog.length < 1 || ctx.Catalog.length > 256))
      throw new ApiError('InvalidRequestException', 'Catalog must be 1-256 characters');
    const out = (b.ResultConfiguration as {OutputLocation?: string} | undefined)?.OutputLocation ?? this.workgroups.get(wg);
    if (!out)
      throw new ApiError(
        'InvalidRequestException',
        'No output location provided. An output location is required either through the Workgroup result configuration setting or as an API input.',
      );
    if (!/^s3:\/\/[^/]+/.test(out)) throw new ApiError('InvalidRequestException', `OutputLocation ${out} is not an s3:// URI`);
    const q: Query = {id: randomUUID(), sql, database: ctx.Database ?? null, polls: 0, state: 'QUEUED', columns: [], rows: [], ddl: /^\s*CREATE\s/i.test(sql)};
    if (typeof token === 'string') this.tokens.set(token, q.id);
    this.queries.push(q);
    return {QueryExecutionId: q.id};
  }

  private find(b: Record<string, unknown>): Query {
    const q = this.queries.find((x) => x.id === b.QueryExecutionId);
    if (!q) throw new ApiError('InvalidRequestException', `QueryExecution ${String(b.QueryExecutionId)} was not found`);
    return q;
  }

  private get(b: Record<string, unknown>): unknown {
    const q = this.find(b);
    q.polls++;
    if (q.state === 'QUEUED' || q.state === 'RUNNING') {
      q.state = q.polls >= this.pollsToFinish ? this.finish(q) : 'RUNNING';
    }
    return {
      QueryExecution: {
        QueryExecutionId: q.id,
        Query: q.sql,
        StatementType: q.ddl ? 'DDL' : 'DML',
        Status: {State: q.state, ...(q.reason ? {StateChangeReason: q.reason, AthenaError: {ErrorCategory: 2}} : {})},
      },
    };
  }

  private finish(q: Query): 'SUCCEEDED' | 'FAILED' {
    if (q.ddl) {
      const name = /CREATE EXTERNAL TABLE IF NOT EXISTS ([a-z0-9_]+)\.([a-z0-9_]+)/.exec(q.sql);
      if (!name) {
        q.reason = 'line 1:1: mismatched input';
        return 'FAILED';
      }
      const props: Record<string, string> = {};
      const tbl = /TBLPROPERTIES \(([\s\S]*)\)\s*$/.exec(q.sql)?.[1] ?? '';
      for (const m of tbl.matchAll(/'([^']+)' = '([^']*)'/g)) props[m[1]!] = m[2]!;
      if (!this.tables.has(`${name[1]}.${name[2]}`)) this.tables.set(`${name[1]}.${name[2]}`, props);
      return 'SUCCEEDED';
    }
    if (this.failWhen && q.sql.includes(this.failWhen.text)) {
      q.reason = this.failWhen.reason;
      return 'FAILED';
    }
    for (const h of this.handlers) {
      const r = h(q.sql);
      if (r) {
        q.columns = r.columns;
        q.rows = r.rows;
        return 'SUCCEEDED';
      }
    }
    q.reason = 'no handler for this query in the emulator';
    return 'FAILED';
  }

  private results(b: Record<string, unknown>): unknown {
    const q = this.find(b);
    if (q.state !== 'SUCCEEDED') throw new ApiError('InvalidRequestException', `Query has not yet finished. Current state: ${q.state}`);
    const max = (b.MaxResults as number | undefined) ?? 1000;
    if (max < 1 || max > 1000) throw new ApiError('InvalidRequestException', 'MaxResults must be 1-1000');
    const all = q.ddl ? [] : [Object.fromEntries(q.columns.map((c) => [c, c])) as Row, ...q.rows];
    const from = b.NextToken ? Number(b.NextToken) : 0;
    const page = all.slice(from, from + max);
    return {
      ResultSet: {
        ResultSetMetadata: {ColumnInfo: q.columns.map((c) => ({Name: c, Label: c, Type: 'varchar'}))},
        Rows: page.map((r) => ({Data: q.columns.map((c) => (r[c] === null || r[c] === undefined ? {} : {VarCharValue: r[c]}))})),
      },
      ...(from + max < all.length ? {NextToken: String(from + max)} : {}),
    };
  }

  private table(b: Record<string, unknown>): unknown {
    for (const k of ['CatalogName', 'DatabaseName', 'TableName'])
      if (typeof b[k] !== 'string' || !b[k]) throw new ApiError('InvalidRequestException', `${k} is required`);
    const t = this.tables.get(`${b.DatabaseName}.${b.TableName}`);
    if (!t) throw new ApiError('MetadataException', `Table ${b.TableName} not found in database ${b.DatabaseName}`);
    return {TableMetadata: {Name: b.TableName, TableType: 'EXTERNAL_TABLE', Parameters: t, PartitionKeys: [{Name: 'day', Type: 'string'}]}};
  }
}
