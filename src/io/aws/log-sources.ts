/**
 * Streaming input for connection logs: local files (plain or gzip), folders (read
 * recursively, in name order), stdin and s3:// prefixes (src/io/aws/s3-read.ts). Lines are
 * handed on as bytes chunk by chunk, never the whole file in memory; many local files are read
 * by worker threads (src/io/aws/logs-worker.ts), one per core.
 */
import {promises as fsp} from 'node:fs';
import {availableParallelism} from 'node:os';
import {join} from 'node:path';
import {Worker} from 'node:worker_threads';
import {createGunzip} from 'node:zlib';
import {createLogSummarizer, type LogSummarizer, type LogSummary, type LogSummaryOptions, type SummaryState} from '../../lib/alb/log-summary.js';
import {type ExitCodeValue, MtlsKitError, preconditionError} from '../../lib/errors.js';
import type {ErrorCode} from '../../lib/error-codes.js';
import {nextStepFor, notTextLines} from '../../lib/x509/input-kind.js';

/** Complete lines `[start, end)` of `chunk` (separated by `\n`; the last may lack it). */
export type LinesHandler = (chunk: Buffer, start: number, end: number) => void;

/** gzip magic (RFC 1952 2.3.1). */
const isGzipMagic = (b: Buffer): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/**
 * Bytes read from a local file at a time, into two buffers used in turn: large enough that a
 * read costs nothing next to scanning it, small enough for a worker thread per core
 * (measured with bench/logs.ts).
 */
export const FILE_CHUNK_BYTES = 4 << 20;

/**
 * A local file's bytes, read into two reused buffers: the next read runs while the caller
 * handles the current chunk, so each chunk is valid only until the next one is asked for.
 * No buffer is allocated per chunk (a stream allocates one per read, and collecting them cost
 * a tenth of `logs`' time).
 */
export async function* readFileChunks(path: string): AsyncGenerator<Buffer> {
  const fh = await fsp.open(path, 'r');
  const bufs = [Buffer.allocUnsafe(FILE_CHUNK_BYTES), Buffer.allocUnsafe(FILE_CHUNK_BYTES)] as const;
  let k = 0;
  let position = 0;
  let pending: Promise<{bytesRead: number}> | null = fh.read(bufs[0], 0, FILE_CHUNK_BYTES, 0);
  try {
    for (;;) {
      const {bytesRead} = await pending;
      pending = null;
      if (bytesRead === 0) return;
      position += bytesRead;
      const current = bufs[k];
      k ^= 1;
      pending = fh.read(bufs[k], 0, FILE_CHUNK_BYTES, position);
      yield current.subarray(0, bytesRead);
    }
  } finally {
    await pending?.catch(() => undefined);
    await fh.close();
  }
}

/**
 * Calls onLines with runs of whole lines of a source, as bytes (never decoded here: the
 * summarizer reads the bytes it needs, aws-reference 5.3). Each chunk of `source` is handled
 * before the next is asked for, so a source may reuse its buffers (readFileChunks); only a
 * line split across two chunks is copied. gzip input is detected by its magic bytes and
 * decompressed on the fly (zlib, in libuv's thread pool while lines are scanned here).
 */
export async function forEachLineChunk(
  source: AsyncIterable<Buffer>,
  onLines: LinesHandler,
  checkFirst?: (head: Buffer, gzipped: boolean) => void,
): Promise<void> {
  const it = source[Symbol.asyncIterator]();
  const firstRead = await it.next();
  if (firstRead.done) return;
  const first: Buffer = firstRead.value;
  const gzipped = isGzipMagic(first);
  let chunks: AsyncIterable<Buffer>;
  if (gzipped) {
    const gunzip = createGunzip({chunkSize: 1 << 20});
    // Feed the gunzip from the iterator already started (keeps back-pressure); zlib keeps the
    // chunks it is given until it has read them, so reused buffers are copied (compressed: small).
    void (async () => {
      try {
        let r: IteratorResult<Buffer> = firstRead;
        for (; !r.done; r = await it.next()) {
          if (!gunzip.write(Buffer.from(r.value))) await new Promise((res) => gunzip.once('drain', res));
        }
        gunzip.end();
      } catch (error) {
        gunzip.destroy(error as Error);
      }
    })();
    chunks = gunzip;
  } else {
    chunks = (async function* () {
      yield first;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    })();
  }
  let firstChunk = true;
  let rest: Buffer | null = null;
  for await (const raw of chunks) {
    if (firstChunk) {
      firstChunk = false;
      checkFirst?.(raw, gzipped);
    }
    let from = 0;
    if (rest) {
      const nl = raw.indexOf(10);
      if (nl < 0) {
        rest = Buffer.concat([rest, raw]);
        continue;
      }
      const joined = Buffer.concat([rest, raw.subarray(0, nl + 1)]);
      onLines(joined, 0, joined.length);
      rest = null;
      from = nl + 1;
    }
    const lastNl = raw.lastIndexOf(10);
    if (lastNl < from) {
      rest = Buffer.from(raw.subarray(from));
      continue;
    }
    if (lastNl + 1 > from) onLines(raw, from, lastNl + 1);
    // A copy: the source may reuse `raw` for its next chunk.
    rest = lastNl + 1 < raw.length ? Buffer.from(raw.subarray(lastNl + 1)) : null;
  }
  if (rest && rest.length > 0) onLines(rest, 0, rest.length);
}

/**
 * Refuses input that is not text lines before any line is read (so no raw bytes, and never a
 * line of a key, are shown as "malformed lines").
 * @throws MtlsKitError NOT_A_LOG (exit 4) naming the file, what it looks like and the fix.
 */
function assertLogText(head: Buffer, gzipped: boolean, source: string): void {
  const found = notTextLines(head);
  if (!found) return;
  const what = !gzipped ? found.description : found.kind === 'gzip' ? 'gzip-compressed twice' : `gzip-compressed ${found.description.replace(/^an? /, '')}`;
  const fix =
    found.kind === 'binary' || found.kind === 'damaged-der'
      ? 'pass the connection-log files ALB writes (conn_log_*.log.gz, or the .log text inside)'
      : nextStepFor(found.kind, source);
  throw preconditionError('NOT_A_LOG', `${source} is not a connection log: it is ${what}, not text lines`, [
    fix,
    'logs reads plain text and gzip (.log, .log.gz), folders of them, and s3://bucket/prefix',
  ]);
}

/**
 * Expands local inputs to files: a file stays, a folder becomes every file under it.
 * @throws MtlsKitError INPUT_NOT_FOUND (exit 4) naming the path.
 */
export async function expandLocalInputs(inputs: string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (p: string): Promise<void> => {
    const entries = (await fsp.readdir(p, {withFileTypes: true})).sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const child = join(p, e.name);
      if (e.isDirectory()) await walk(child);
      else if (e.isFile()) out.push(child);
    }
  };
  for (const input of inputs) {
    let st: Awaited<ReturnType<typeof fsp.stat>>;
    try {
      st = await fsp.stat(input);
    } catch {
      throw preconditionError('INPUT_NOT_FOUND', `${input} does not exist`, [
        'give connection-log files (.log or .log.gz), a folder of them, or s3://bucket/prefix',
      ]);
    }
    if (st.isDirectory()) await walk(input);
    else out.push(input);
  }
  return out;
}

export interface LogSourceOptions {
  region?: string;
  profile?: string;
  endpointUrl?: string;
}

/** What to read: one input after expansion (a local file, stdin, or one S3 object). */
export type LogTask = {kind: 'file'; path: string} | {kind: 'stdin'} | {kind: 's3'; bucket: string; key: string};

/**
 * Reads one source into a summarizer (addSource, then its bytes).
 * @throws MtlsKitError NOT_A_LOG (4), UNREADABLE_LOG (4).
 */
export async function summarizeSource(summarizer: LogSummarizer, source: string, open: () => Promise<AsyncIterable<Buffer>>): Promise<void> {
  summarizer.addSource(source);
  try {
    await forEachLineChunk(
      await open(),
      (chunk, start, end) => summarizer.addBytes(chunk, start, end),
      (head, gzipped) => assertLogText(head, gzipped, source),
    );
  } catch (error) {
    if ((error as {code?: string}).code?.startsWith('Z_') || (error as Error).message?.includes('incorrect header check')) {
      throw preconditionError('UNREADABLE_LOG', `${source} is not a readable gzip file (${(error as Error).message})`, ['re-download it, or leave it out']);
    }
    throw error;
  }
}

/** Reads a local file into a summarizer (the worker thread's unit of work too). */
export function summarizeFile(summarizer: LogSummarizer, path: string): Promise<void> {
  return summarizeSource(summarizer, path, async () => readFileChunks(path));
}

/**
 * Below this many bytes of local files, one thread reads them all: starting workers costs more
 * than it saves (mtls-kit's choice, measured with bench/logs.ts).
 */
export const PARALLEL_MIN_BYTES = 8 << 20;

export interface SummarizeLogsOptions extends LogSourceOptions {
  summary?: LogSummaryOptions;
  /** Worker threads for local files: 0 or undefined = one per core when there are several large files; 1 = none. */
  workers?: number;
}

/**
 * Summarises every input: local files and folders, `-` (stdin) and s3://bucket/prefix URLs
 * (every object under the prefix), in input order. With several local files (more than
 * PARALLEL_MIN_BYTES in all) they are read by worker threads, one per core, and the states
 * merged in input order, so the result is the same as reading them one after another.
 * @throws MtlsKitError INPUT_NOT_FOUND (4), BAD_S3_URL (2), AWS_S3 (5), NOT_A_LOG (4), UNREADABLE_LOG (4).
 */
export async function summarizeLogs(inputs: string[], opts: SummarizeLogsOptions = {}): Promise<LogSummary> {
  const tasks: LogTask[] = [];
  for (const input of inputs) {
    if (input === '-') tasks.push({kind: 'stdin'});
    else if (input.startsWith('s3://')) {
      const {parseS3Url} = await import('./s3-read.js');
      // A bad URL is a usage error before anything is read.
      tasks.push({kind: 's3', bucket: parseS3Url(input).bucket, key: input});
    } else for (const path of await expandLocalInputs([input])) tasks.push({kind: 'file', path});
  }
  // s3:// prefixes become their objects (listed before anything is read).
  const expanded: LogTask[] = [];
  let s3: Awaited<ReturnType<typeof import('./s3-read.js').createS3Reader>> | null = null;
  try {
    for (const t of tasks) {
      if (t.kind !== 's3') {
        expanded.push(t);
        continue;
      }
      const {createS3Reader, parseS3Url} = await import('./s3-read.js');
      const loc = parseS3Url(t.key);
      s3 ??= await createS3Reader(opts);
      const keys = await s3.list(loc);
      if (keys.length === 0)
        throw preconditionError('INPUT_NOT_FOUND', `no objects under ${t.key}`, [
          'check the prefix: ALB writes to <prefix>/AWSLogs/<account>/elasticloadbalancing/<region>/yyyy/mm/dd/',
        ]);
      for (const key of keys) expanded.push({kind: 's3', bucket: loc.bucket, key});
    }
    const states: Array<SummaryState | undefined> = new Array(expanded.length);
    const files = expanded.map((t, i) => ({t, i})).filter((x): x is {t: {kind: 'file'; path: string}; i: number} => x.t.kind === 'file');
    const workers = await workerCount(
      opts.workers,
      files.map((f) => f.t.path),
    );
    const parallel = workers > 1 ? runWorkers(files, workers, opts.summary ?? {}, states) : Promise.resolve();
    // Everything else (and every file when there are no workers) is read here, in order.
    const local = (async () => {
      for (const [i, t] of expanded.entries()) {
        if (t.kind === 'file' && workers > 1) continue;
        const one = createLogSummarizer(opts.summary);
        if (t.kind === 'stdin') await summarizeSource(one, 'stdin', async () => process.stdin);
        else if (t.kind === 'file') await summarizeFile(one, t.path);
        else {
          const reader = s3!;
          await summarizeSource(one, `s3://${t.bucket}/${t.key}`, () => reader.open(t.bucket, t.key));
        }
        states[i] = one.snapshot();
      }
    })();
    await Promise.all([parallel, local]);
    const all = createLogSummarizer(opts.summary);
    for (const st of states) if (st) all.merge(st);
    return all.finish();
  } finally {
    s3?.close();
  }
}

async function workerCount(requested: number | undefined, files: string[]): Promise<number> {
  if (files.length < 2) return 1;
  const cores = availableParallelism();
  if (requested !== undefined && requested > 0) return Math.min(requested, files.length);
  let bytes = 0;
  for (const f of files) {
    bytes += (await fsp.stat(f)).size;
    if (bytes >= PARALLEL_MIN_BYTES) return Math.min(cores, files.length);
  }
  return 1;
}

/** A worker's answer for one file. */
export type LogsWorkerMessage =
  | {index: number; state: SummaryState}
  | {index: number; error: {code: ErrorCode; message: string; suggestions: string[]; exitCode: number}};

/** Reads the files with `n` worker threads (src/io/aws/logs-worker.ts), one file at a time each; the first error (in input order) is thrown. */
async function runWorkers(
  files: Array<{t: {path: string}; i: number}>,
  n: number,
  summary: LogSummaryOptions,
  states: Array<SummaryState | undefined>,
): Promise<void> {
  let next = 0;
  const errors = new Map<number, MtlsKitError>();
  const threads: Worker[] = [];
  try {
    await Promise.all(
      Array.from({length: n}, () => {
        const w = new Worker(new URL('./logs-worker.js', import.meta.url), {workerData: {summary}});
        threads.push(w);
        return new Promise<void>((resolve, reject) => {
          const give = (): void => {
            const job = files[next++];
            if (!job || errors.size > 0) {
              resolve();
              return;
            }
            w.postMessage({index: job.i, path: job.t.path});
          };
          w.on('message', (m: LogsWorkerMessage) => {
            if ('state' in m) states[m.index] = m.state;
            else errors.set(m.index, new MtlsKitError({...m.error, exitCode: m.error.exitCode as ExitCodeValue}));
            give();
          });
          w.on('error', reject);
          w.on('exit', (code) => reject(new Error(`a logs worker thread stopped (exit code ${code})`)));
          give();
        });
      }),
    );
  } finally {
    for (const t of threads) void t.terminate();
  }
  if (errors.size > 0) throw errors.get(Math.min(...errors.keys()))!;
}
