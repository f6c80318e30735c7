/**
 * Streaming line input for log files: local files (plain or gzip), folders (read
 * recursively, in name order) and s3:// prefixes (src/io/aws/s3-read.ts). Lines are handed to a
 * callback chunk by chunk, never the whole file in memory.
 */
import {createReadStream, promises as fsp} from 'node:fs';
import {join} from 'node:path';
import type {Readable} from 'node:stream';
import {StringDecoder} from 'node:string_decoder';
import {createGunzip} from 'node:zlib';
import {preconditionError} from '../../lib/errors.js';
import {nextStepFor, notTextLines} from '../../lib/x509/input-kind.js';

export type LineHandler = (line: string, lineNumber: number) => void;

/** gzip magic (RFC 1952 2.3.1). */
const isGzipMagic = (b: Buffer): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/**
 * Calls onLine for every line of a stream (without the `\n`; a final line without one
 * counts too). gzip input is detected by its magic bytes and decompressed on the fly.
 * @returns the number of lines
 */
export async function forEachLine(stream: Readable, onLine: LineHandler, checkFirst?: (head: Buffer, gzipped: boolean) => void): Promise<number> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let n = 0;
  let source: AsyncIterable<Buffer> = stream;
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const firstRead = await it.next();
  if (firstRead.done) return 0;
  const first = firstRead.value;
  if (isGzipMagic(first)) {
    const gunzip = createGunzip({chunkSize: 1 << 18});
    // Feed the gunzip from the iterator we already started (keeps back-pressure).
    void (async () => {
      try {
        if (!gunzip.write(first)) await new Promise((r) => gunzip.once('drain', r));
        for (let r = await it.next(); !r.done; r = await it.next()) {
          if (!gunzip.write(r.value)) await new Promise((res) => gunzip.once('drain', res));
        }
        gunzip.end();
      } catch (error) {
        gunzip.destroy(error as Error);
      }
    })();
    source = gunzip;
  } else {
    source = (async function* () {
      yield first;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    })();
  }
  let firstChunk = true;
  for await (const chunk of source) {
    if (firstChunk) {
      firstChunk = false;
      checkFirst?.(chunk, isGzipMagic(first));
    }
    const text = rest + decoder.write(chunk);
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      onLine(text.slice(start, nl), ++n);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (rest.length > 0) onLine(rest, ++n);
  return n;
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

/**
 * Reads every line of every input: local files and folders, and s3://bucket/prefix URLs
 * (every object under the prefix). Calls onSource once per file or object before its lines.
 * @throws MtlsKitError INPUT_NOT_FOUND (4), BAD_S3_URL (2), AWS_S3 (5), UNREADABLE_LOG (4).
 */
export async function forEachLogLine(
  inputs: string[],
  opts: LogSourceOptions,
  onSource: (source: string) => void,
  onLine: (line: string, source: string, lineNumber: number) => void,
): Promise<void> {
  const readOne = async (source: string, open: () => Promise<Readable>): Promise<void> => {
    onSource(source);
    try {
      await forEachLine(
        await open(),
        (line, n) => onLine(line, source, n),
        (head, gzipped) => assertLogText(head, gzipped, source),
      );
    } catch (error) {
      if ((error as {code?: string}).code?.startsWith('Z_') || (error as Error).message?.includes('incorrect header check')) {
        throw preconditionError('UNREADABLE_LOG', `${source} is not a readable gzip file (${(error as Error).message})`, ['re-download it, or leave it out']);
      }
      throw error;
    }
  };
  for (const input of inputs) {
    if (input === '-') {
      await readOne('stdin', async () => process.stdin);
    } else if (input.startsWith('s3://')) {
      const {createS3Reader, parseS3Url} = await import('./s3-read.js');
      const loc = parseS3Url(input);
      const s3 = await createS3Reader(opts);
      try {
        const keys = await s3.list(loc);
        if (keys.length === 0)
          throw preconditionError('INPUT_NOT_FOUND', `no objects under ${input}`, [
            'check the prefix: ALB writes to <prefix>/AWSLogs/<account>/elasticloadbalancing/<region>/yyyy/mm/dd/',
          ]);
        for (const key of keys) await readOne(`s3://${loc.bucket}/${key}`, () => s3.open(loc.bucket, key));
      } finally {
        s3.close();
      }
    } else {
      for (const file of await expandLocalInputs([input])) await readOne(file, async () => createReadStream(file, {highWaterMark: 1 << 20}));
    }
  }
}
