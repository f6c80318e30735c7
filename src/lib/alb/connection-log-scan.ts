/**
 * Byte-level reading of ALB connection-log lines for `mtls-kit logs` (aws-reference 5, 5.3):
 * the fields of one line are found by scanning its bytes once, without decoding the line to a
 * string, splitting it or running a regular expression, so a summary costs a few nanoseconds
 * per byte. The rules are those of `parseConnectionLogLine` (src/lib/alb/connection-log.ts),
 * which stays the string API for single lines; test/logs-scan.test.ts checks both agree.
 *
 * Also here: the other shapes AWS delivers connection logs in (aws-reference 5.3), turned
 * into the text line:
 * - a CloudWatch Logs export line, `<ingestion time> <message>`;
 * - a JSON record (CloudWatch Logs or Firehose with the JSON output format), keyed by the
 *   field names, one per line or concatenated (`}{`, as Firehose writes records to S3);
 * - a CloudWatch Logs subscription envelope (`{"messageType": ..., "logEvents": [...]}`).
 * Pure: bytes in, offsets and strings out.
 */

/** Offsets of the fields a summary needs, filled by `scanConnectionLogLine`. */
export interface ScannedLine {
  /** [start, end) byte offsets of fields 1-11 (index 0-10; quoted fields without their quotes), and the start of field 12 (its end is the line's). */
  readonly at: Int32Array;
  /** Handshake latency in seconds, or -1 for `-`. */
  latency: number;
  listenerPort: number;
  /** The timestamp as numbers (set by readLogTimestamp): yyyymmddhhmmss, the fraction in nanoseconds, and how many fraction digits it was written with. */
  tsSeconds: number;
  tsNanos: number;
  tsDigits: number;
  /**
   * The first 16 bytes (`yyyy-mm-ddThh:mm`, as 4 little-endian words) of the last timestamp read well-formed, and their
   * value (yyyymmddhhmm), or -1: the lines of one log share them, so the next timestamp that
   * starts with the same bytes is read from its seconds on.
   */
  readonly tsPrefix: Int32Array;
  tsPrefixValue: number;
  /** The buffer last scanned and a DataView over it (words are read 4 bytes at a time). */
  viewOf: Uint8Array | null;
  view: DataView | null;
}

/** A reusable holder for `scanConnectionLogLine`. */
export function newScannedLine(): ScannedLine {
  return {
    at: new Int32Array(24),
    latency: -1,
    listenerPort: 0,
    tsSeconds: 0,
    tsNanos: 0,
    tsDigits: 0,
    tsPrefix: new Int32Array(4),
    tsPrefixValue: -1,
    viewOf: null,
    view: null,
  };
}

/** Field numbers (0-based) in the text format (aws-reference 5). */
export const FIELD = {
  time: 0,
  clientIp: 1,
  clientPort: 2,
  listenerPort: 3,
  protocol: 4,
  cipher: 5,
  latency: 6,
  subject: 7,
  validity: 8,
  serial: 9,
  status: 10,
  traceId: 11,
} as const;

const SPACE = 32;
const QUOTE = 34;
const BACKSLASH = 92;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/**
 * Reads field 1 (`2023-10-04T17:05:15.514108Z`: ISO 8601 UTC, a fraction of 1-9 digits or none)
 * into `out.tsSeconds`, `out.tsNanos` and `out.tsDigits`, so timestamps compare as numbers and
 * the text is rebuilt exactly by formatScannedTimestamp.
 * @returns false when the bytes are not that shape.
 */
export function readLogTimestamp(b: Uint8Array, s: number, e: number, out: ScannedLine): boolean {
  const n = e - s;
  if (n < 20 || n > 30) return false;
  let secs = 0;
  const prefix = out.tsPrefix;
  let same = false;
  if (out.tsPrefixValue >= 0) {
    const v = viewOf(b, out);
    same =
      v.getInt32(s, true) === prefix[0] &&
      v.getInt32(s + 4, true) === prefix[1] &&
      v.getInt32(s + 8, true) === prefix[2] &&
      v.getInt32(s + 12, true) === prefix[3];
  }
  if (same) {
    // Same minute as the last timestamp: only `:ss` is left to read.
    const c1 = b[s + 17]!;
    const c2 = b[s + 18]!;
    if (b[s + 16] !== 58 || !isDigit(c1) || !isDigit(c2)) return false;
    secs = out.tsPrefixValue * 100 + (c1 - 48) * 10 + (c2 - 48);
  } else {
    for (let i = 0; i < 19; i++) {
      const c = b[s + i]!;
      if (i === 4 || i === 7) {
        if (c !== 45) return false;
      } else if (i === 10) {
        if (c !== 84) return false;
      } else if (i === 13 || i === 16) {
        if (c !== 58) return false;
      } else if (isDigit(c)) secs = secs * 10 + (c - 48);
      else return false;
    }
  }
  if (b[e - 1] !== 90) return false;
  let frac = 0;
  let digits = 0;
  if (n > 20) {
    if (b[s + 19] !== 46 || n === 21) return false;
    for (let i = s + 20; i < e - 1; i++) {
      const c = b[i]!;
      if (!isDigit(c)) return false;
      frac = frac * 10 + (c - 48);
      digits++;
    }
  }
  if (!same) {
    const v = viewOf(b, out);
    for (let i = 0; i < 4; i++) prefix[i] = v.getInt32(s + 4 * i, true);
    out.tsPrefixValue = Math.floor(secs / 100);
  }
  out.tsSeconds = secs;
  out.tsNanos = frac * POW10[9 - digits]!;
  out.tsDigits = digits;
  return true;
}

/** The text of a timestamp read by readLogTimestamp, exactly as it was written. */
export function formatScannedTimestamp(seconds: number, nanos: number, digits: number): string {
  const d = String(seconds).padStart(14, '0');
  const frac = digits === 0 ? '' : `.${String(nanos / POW10[9 - digits]!).padStart(digits, '0')}`;
  return `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(8, 10)}:${d.slice(10, 12)}:${d.slice(12, 14)}${frac}Z`;
}

const tsScratch: ScannedLine = newScannedLine();

/** The ISO 8601 UTC shape of field 1 (see readLogTimestamp). */
export function isLogTimestamp(b: Uint8Array, s: number, e: number): boolean {
  return readLogTimestamp(b, s, e, tsScratch);
}

/** A port 0-65535 written in 1-5 digits, or -1. */
function readPort(b: Uint8Array, s: number, e: number): number {
  const n = e - s;
  if (n < 1 || n > 5) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if (!isDigit(c)) return -1;
    v = v * 10 + (c - 48);
  }
  return v <= 65535 ? v : -1;
}

/** `-` → -1, `\d+(\.\d+)?` → seconds, else NaN. */
function readLatency(b: Uint8Array, s: number, e: number): number {
  if (e - s === 1 && b[s] === 45) return -1;
  let v = 0;
  let i = s;
  for (; i < e && isDigit(b[i]!); i++) v = v * 10 + (b[i]! - 48);
  if (i === s) return Number.NaN;
  if (i === e) return v;
  if (b[i] !== 46 || i + 1 === e) return Number.NaN;
  let scale = 1;
  let frac = 0;
  for (i++; i < e; i++) {
    const c = b[i]!;
    if (!isDigit(c)) return Number.NaN;
    frac = frac * 10 + (c - 48);
    scale *= 10;
  }
  return v + frac / scale;
}

/** `c` in every byte of a word, for wordHas. */
const SPACES = 0x20202020;
const QUOTES = 0x22222222;

/**
 * The first `c` (whose byte is repeated 4 times in `pattern`) in `[from, end)` of `b`, or
 * `end`. Reads 4 bytes at a time through `v` (a DataView over `b`) and finds the byte with the
 * zero-byte test of "Bit Twiddling Hacks" (Anderson): (w - 0x01010101) & ~w & 0x80808080 is
 * non-zero exactly when a byte of w is zero, and its lowest set bit marks the first such byte
 * (little-endian reads: the lowest byte is the first in memory). Cheaper than walking byte by
 * byte, and than Buffer.indexOf, whose call costs about as much as walking 60 bytes.
 */
function findByte(b: Uint8Array, v: DataView, pattern: number, c: number, from: number, end: number): number {
  let i = from;
  for (const last = end - 4; i <= last; i += 4) {
    const w = v.getUint32(i, true) ^ pattern;
    const t = (w - 0x01010101) & ~w & 0x80808080;
    if (t !== 0) return i + ((31 - Math.clz32(t & -t)) >> 3);
  }
  while (i < end && b[i] !== c) i++;
  return i;
}

/** A DataView over `b`, made once per buffer and kept in `out`. */
function viewOf(b: Uint8Array, out: ScannedLine): DataView {
  if (out.viewOf !== b) {
    out.viewOf = b;
    out.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  return out.view!;
}

/**
 * Scans one text line `[s, e)` (no `\n`; a trailing `\r` is ignored) into `out`. Short fields
 * are walked byte by byte; the long ones (the quoted subject, the validity) are jumped over with
 * Buffer.indexOf (memchr), whose call costs more than a short walk but far less than a long one
 * (measured: test/logs-scan.test.ts keeps the rules, bench/logs.ts the speed). Field 12 (the
 * trace id) is only checked to be present; fields AWS appends after it are not looked at.
 * @returns true for a well-formed line (the rules of parseConnectionLogLine: at least 12
 *   fields separated by single spaces, a field starting with `"` runs to its closing quote,
 *   no empty field among the first 12, an ISO 8601 UTC timestamp, numeric ports, a latency of
 *   `-` or seconds, a status that is not empty once unquoted); false otherwise. Never throws.
 */
export function scanConnectionLogLine(b: Buffer, s: number, e: number, out: ScannedLine): boolean {
  if (e > s && b[e - 1] === 13) e--;
  const at = out.at;
  const v = viewOf(b, out);
  let i = s;
  for (let n = 0; n < 12; n++) {
    if (i >= e) return false;
    let j: number;
    if (b[i] === QUOTE) {
      j = findByte(b, v, QUOTES, QUOTE, i + 1, e);
      // A quote preceded by an odd number of backslashes is escaped.
      while (j < e && b[j - 1] === BACKSLASH) {
        let k = j - 1;
        while (k > i && b[k] === BACKSLASH) k--;
        if ((j - 1 - k) % 2 === 0) break;
        j = findByte(b, v, QUOTES, QUOTE, j + 1, e);
      }
      if (j >= e) return false;
      // The subject and the status are read without their quotes; other fields keep them (as parseConnectionLogLine does).
      const inner = n === FIELD.subject || n === FIELD.status;
      at[2 * n] = inner ? i + 1 : i;
      at[2 * n + 1] = inner ? j : j + 1;
      if (j + 1 < e && b[j + 1] !== SPACE) return false;
      i = j + 2;
      continue;
    }
    if (n === FIELD.traceId) {
      // Field 12 must be there and not empty; its end is not needed.
      if (b[i] === SPACE) return false;
      at[22] = i;
      at[23] = e;
      break;
    }
    // Field 1 (the timestamp) has at least 20 bytes; a space among the first 19 fails readLogTimestamp.
    j = findByte(b, v, SPACES, SPACE, n === FIELD.time ? Math.min(i + 19, e) : i, e);
    if (j === i) return false;
    at[2 * n] = i;
    at[2 * n + 1] = j;
    i = j + 1;
  }
  if (!readLogTimestamp(b, at[0]!, at[1]!, out)) return false;
  if (readPort(b, at[4]!, at[5]!) < 0) return false;
  const port = readPort(b, at[6]!, at[7]!);
  if (port < 0) return false;
  const latency = readLatency(b, at[12]!, at[13]!);
  if (Number.isNaN(latency)) return false;
  // A quoted status (AWS's examples show `"Failed:ClientCertExpired"`) is the same status.
  if (at[21]! === at[20]!) return false;
  out.listenerPort = port;
  out.latency = latency;
  return true;
}

/**
 * When a line is a CloudWatch Logs export line (`<ingestion time> <message>`, aws-reference
 * 5.3), the offset where its message starts; else `s`. The message is recognised by what can
 * follow: a second timestamp (a text record) or `{` (a JSON record).
 */
export function skipExportTimestamp(b: Buffer, s: number, e: number): number {
  const lim = Math.min(s + 31, e);
  let p = s;
  while (p < lim && b[p] !== SPACE) p++;
  if (p >= lim) return s;
  const m = p + 1;
  const c = b[m];
  // Cheap shape test first: a record starts with `{` or with a timestamp (`yyyy-mm-ddT`).
  if (c !== 123 && !(b[m + 10] === 84 && b[m + 4] === 45 && isDigit(c ?? 0))) return s;
  if (!isLogTimestamp(b, s, p)) return s;
  if (c === 123) return m;
  let q = b.indexOf(SPACE, m);
  if (q < 0 || q > e) q = e;
  return isLogTimestamp(b, m, q) ? m : s;
}

/** The JSON record keys of the connection-log fields, in text-format order (aws-reference 5.3). */
export const JSON_FIELDS = [
  'time',
  'client_ip',
  'client_port',
  'listener_port',
  'tls_protocol',
  'tls_cipher',
  'tls_handshake_latency',
  'leaf_client_cert_subject',
  'leaf_client_cert_validity',
  'leaf_client_cert_serial_number',
  'tls_verify_status',
  'conn_trace_id',
  'tls_keyexchange',
  'elb',
  'ip_address',
] as const;

/** Splits concatenated JSON objects (`{...}{...}` or one per line) at top level; strings are respected. */
export function splitJsonObjects(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === 123) {
      if (depth++ === 0) start = i;
    } else if (c === 125 && depth > 0 && --depth === 0) {
      out.push(text.slice(start, i + 1));
    }
  }
  if (depth !== 0) out.push(text.slice(start));
  return out;
}

const fieldText = (v: unknown): string => {
  if (v === undefined || v === null || v === '') return '-';
  const t = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
  return t.replace(/[\s]/g, ' ');
};

/**
 * The text lines a JSON value stands for: a record keyed by the field names becomes one text
 * line (the subject quoted, absent fields `-`); a subscription envelope (`logEvents`) or an
 * object with a `message` string gives its messages, which may themselves be text or JSON.
 * @returns the lines, or null when the value is none of these (counted as malformed).
 */
export function jsonRecordLines(value: unknown): string[] | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const o = value as Record<string, unknown>;
  if (Array.isArray(o.logEvents)) {
    const out: string[] = [];
    for (const ev of o.logEvents) {
      const m = (ev as {message?: unknown} | null)?.message;
      if (typeof m !== 'string') return null;
      out.push(m);
    }
    return out;
  }
  if (o.time === undefined && typeof o.message === 'string') return [o.message];
  if (o.time === undefined || o.tls_verify_status === undefined) return null;
  const parts = JSON_FIELDS.map((k) => fieldText(o[k]));
  const subject = parts[7]!;
  // RFC 2253 already escapes `"` and `\` (aws-reference 8); a bare quote is escaped so the field still closes.
  if (subject !== '-') parts[7] = `"${subject.replace(/(^|[^\\])"/g, '$1\\"')}"`;
  return [parts.join(' ')];
}
