/**
 * Summaries of ALB connection logs (aws-reference 5) for `mtls-kit logs`: connections by
 * tls_verify_status, failures by code with the clients involved, handshake-latency
 * percentiles, TLS protocols and ciphers, and malformed lines. Pure: bytes or lines in, a result out.
 */
import {
  FIELD,
  formatScannedTimestamp,
  jsonRecordLines,
  newScannedLine,
  readLogTimestamp,
  scanConnectionLogLine,
  skipExportTimestamp,
  splitJsonObjects,
} from './connection-log-scan.js';
import type {IndexEntry} from '../x509/index-db.js';
import {isoSeconds} from '../x509/validity.js';

export interface FailureClient {
  subject: string;
  serial: string;
  count: number;
}

export interface FailureSummary {
  /** The ALB code after `Failed:` (aws-reference 5). */
  code: string;
  count: number;
  /** Distinct (subject, serial) pairs, most frequent first, at most `topClients`. */
  clients: FailureClient[];
  /** How many distinct clients there were in all. */
  distinctClients: number;
}

export interface MalformedLine {
  source: string;
  line: number;
  text: string;
}

export interface LatencySummary {
  /** Connections with a numeric latency (failed handshakes log `-`). */
  count: number;
  /** Seconds, nearest-rank percentiles. */
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

export interface LogSummary {
  sources: string[];
  /** Non-empty lines read. */
  lines: number;
  connections: number;
  malformed: {count: number; examples: MalformedLine[]};
  /** Count per tls_verify_status value (`Success`, `Failed:ClientCertCrlHit`, ..., `-`); quoted values are counted unquoted. */
  byStatus: Record<string, number>;
  /** Connections with status `-`: a listener without TLS (HTTP), so no handshake and no client certificate (aws-reference 5). */
  nonHttpsConnections: number;
  failures: FailureSummary[];
  handshakeLatency: LatencySummary;
  protocols: Record<string, number>;
  ciphers: Record<string, number>;
  listenerPorts: Record<string, number>;
  firstTimestamp: string | null;
  lastTimestamp: string | null;
}

export interface LogSummaryOptions {
  /** Clients listed per failure code (default 10). */
  topClients?: number;
  /** Malformed lines kept as examples (default 5). */
  malformedExamples?: number;
}

/**
 * Everything a summarizer has counted, as plain data (structured-clone safe), so a worker
 * thread can summarise some files and the main thread merge the states in input order.
 */
export interface SummaryState {
  sources: string[];
  lines: number;
  connections: number;
  malformed: number;
  examples: MalformedLine[];
  byStatus: Array<[string, number]>;
  protocols: Array<[string, number]>;
  ciphers: Array<[string, number]>;
  listenerPorts: Array<[string, number]>;
  /** Every failing client per code (not only the top ones). */
  failures: Array<[string, FailureClient[]]>;
  /** Latencies in seconds, in the order read. */
  latencies: Float64Array;
  firstTimestamp: string | null;
  lastTimestamp: string | null;
}

/** The running state of a summary; feed it lines (as bytes or strings), then call `finish()`. */
export interface LogSummarizer {
  /** Starts a new source: line numbers count from 1 again. */
  addSource(source: string): void;
  /**
   * Adds every line of `[start, end)` of `chunk` (complete lines separated by `\n`; the last
   * may lack it). Text, CloudWatch Logs export and JSON lines are all accepted (aws-reference 5.3).
   */
  addBytes(chunk: Buffer, start: number, end: number): void;
  /** Adds one line (empty lines are skipped). */
  addLine(line: string, source: string, lineNumber: number): void;
  /** The counts so far, as data. */
  snapshot(): SummaryState;
  /** Adds another summarizer's counts (after everything this one counted). */
  merge(state: SummaryState): void;
  finish(): LogSummary;
}

/** A count keyed by a string, found from bytes without decoding them (a byte compare, after a hash for counters with many keys). */
interface Slot {
  bytes: Uint8Array;
  /** `bytes` as little-endian 32-bit words (the last 0-3 bytes are compared one by one). */
  words: Int32Array;
  /** The last 4 bytes as a word (0 when shorter): with the length, tells most keys apart before a full compare. */
  tail: number;
  key: string;
  n: number;
  /** The key starts with `Failed:` (a failing tls_verify_status, aws-reference 5). */
  failed: boolean;
  /** For a failing status: its clients (made at its first failing connection). */
  clients: ClientCounter | null;
}

const newSlot = (bytes: Uint8Array, key: string, n: number): Slot => ({
  bytes,
  words: wordsOf(bytes),
  tail: tailWord(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0, bytes.length),
  key,
  n,
  failed: key.startsWith('Failed:'),
  clients: null,
});

/** Bytes as little-endian 32-bit words, without the last `length % 4` bytes. */
function wordsOf(bytes: Uint8Array): Int32Array {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const w = new Int32Array(bytes.length >> 2);
  for (let k = 0; k < w.length; k++) w[k] = v.getInt32(4 * k, true);
  return w;
}

/** The last 4 bytes of `[s, e)` as a little-endian word, or 0 when it is shorter. */
const tailWord = (v: DataView, s: number, e: number): number => (e - s >= 4 ? v.getInt32(e - 4, true) : 0);

/** Whether `[s, s + len)` of `b` (read through its DataView `v`) holds the same bytes as `bytes`/`words`, 4 at a time. */
function sameBytes(bytes: Uint8Array, words: Int32Array, b: Uint8Array, v: DataView, s: number, len: number): boolean {
  if (bytes.length !== len) return false;
  const n = words.length;
  for (let k = 0; k < n; k++) if (v.getInt32(s + 4 * k, true) !== words[k]) return false;
  for (let i = 4 * n; i < len; i++) if (bytes[i] !== b[s + i]) return false;
  return true;
}

/** A failing client: its subject and serial as bytes (to compare) and as text. */
interface ClientSlot {
  subjectBytes: Uint8Array;
  subjectWords: Int32Array;
  serialBytes: Uint8Array;
  serialWords: Int32Array;
  subject: string;
  serial: string;
  n: number;
}

/** Counts of clients by (subject, serial), two byte ranges of a line, found by a hash of sampled bytes and a byte compare. */
class ClientCounter {
  private readonly byHash = new Map<number, ClientSlot[]>();
  /** Every client, in the order first seen. */
  readonly slots: ClientSlot[] = [];

  slot(b: Buffer, v: DataView, ss: number, se: number, rs: number, re: number): ClientSlot {
    const sl = se - ss;
    const rl = re - rs;
    let h = Math.imul(0x811c9dc5 ^ sl, 0x01000193) ^ rl;
    for (let i = rs; i < re; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    if (sl <= 8) for (let i = ss; i < se; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    else for (let k = 0; k < 8; k++) h = Math.imul(h ^ b[(ss + ((sl - 1) * k) / 7) | 0]!, 0x01000193);
    const list = this.byHash.get(h);
    if (list) {
      for (const x of list) {
        if (sameBytes(x.serialBytes, x.serialWords, b, v, rs, rl) && sameBytes(x.subjectBytes, x.subjectWords, b, v, ss, sl)) return x;
      }
    }
    const subjectBytes = new Uint8Array(b.subarray(ss, se));
    const serialBytes = new Uint8Array(b.subarray(rs, re));
    const x: ClientSlot = {
      subjectBytes,
      subjectWords: wordsOf(subjectBytes),
      serialBytes,
      serialWords: wordsOf(serialBytes),
      subject: b.toString('utf8', ss, se),
      serial: b.toString('utf8', rs, re),
      n: 0,
    };
    this.slots.push(x);
    if (list) list.push(x);
    else this.byHash.set(h, [x]);
    return x;
  }
}

/**
 * Keys a counter with few distinct values (statuses, protocols and ciphers) keeps in a list,
 * compared by length and then bytes: cheaper than hashing for a handful of keys.
 */
const FEW_KEYS = 8;

class ByteCounter {
  private readonly byHash = new Map<number, Slot[]>();
  /** The first FEW_KEYS keys met (all of them when `few`), looked up before the hash. */
  private readonly first: Slot[] = [];
  readonly byKey = new Map<string, Slot>();

  /** @param few the counter expects a handful of keys (look them up by comparing bytes first). */
  constructor(private readonly few: boolean) {}

  slot(b: Uint8Array, v: DataView, s: number, e: number): Slot {
    const len = e - s;
    if (this.few) {
      const first = this.first;
      const tail = tailWord(v, s, e);
      for (let k = 0; k < first.length; k++) {
        const x = first[k]!;
        if (x.tail === tail && sameBytes(x.bytes, x.words, b, v, s, len)) return x;
      }
      if (first.length < FEW_KEYS) {
        const x = this.intern(b, s, e);
        if (!first.includes(x)) first.push(x);
        return x;
      }
    }
    // A hash of the length and up to 8 sampled bytes (then a full compare): values that differ
    // (statuses, ciphers, serials) almost always differ in length or in one of these bytes.
    let h = 0x811c9dc5 ^ len;
    if (len <= 8) for (let i = s; i < e; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    else for (let k = 0; k < 8; k++) h = Math.imul(h ^ b[(s + ((len - 1) * k) / 7) | 0]!, 0x01000193);
    const list = this.byHash.get(h);
    if (list) for (const x of list) if (sameBytes(x.bytes, x.words, b, v, s, len)) return x;
    const x = this.intern(b, s, e);
    if (list) list.push(x);
    else this.byHash.set(h, [x]);
    return x;
  }

  /** The slot of the key these bytes decode to (made when new). */
  private intern(b: Uint8Array, s: number, e: number): Slot {
    // A copy as a plain Uint8Array: every slot's bytes of one type keeps the compare loop monomorphic.
    const bytes = new Uint8Array(b.subarray(s, e));
    const key = textDecoder.decode(bytes);
    let x = this.byKey.get(key);
    if (!x) {
      x = newSlot(bytes, key, 0);
      this.byKey.set(key, x);
    }
    return x;
  }

  add(key: string, n: number): void {
    const x = this.byKey.get(key);
    if (x) x.n += n;
    else this.byKey.set(key, newSlot(textEncoder.encode(key), key, n));
  }

  /** Forgets every count (the interned keys stay). */
  clear(): void {
    for (const x of this.byKey.values()) x.n = 0;
  }

  entries(): Array<[string, number]> {
    return [...this.byKey.values()].filter((x) => x.n > 0).map((x) => [x.key, x.n]);
  }
}

const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

const toRecord = (entries: Array<[string, number]>): Record<string, number> => Object.fromEntries([...entries].sort((a, b) => b[1] - a[1]));

/** Nearest-rank percentile of a sorted array (RFC-free: the textbook definition). */
export function percentile(sorted: Float64Array | number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** The byte at `m` may start a record after an export timestamp: `{` or `yyyy-mm-ddT` (as skipExportTimestamp tests first). */
const maybeRecordStart = (b: Uint8Array, m: number): boolean => {
  const c = b[m]!;
  return c === 123 || (c >= 48 && c <= 57 && b[m + 10] === 84 && b[m + 4] === 45);
};

/**
 * The k-th smallest (0-based) of `a[lo, hi)`, moving elements so that everything before
 * index k is at most it and everything after at least it (quickselect, Hoare's partition,
 * median-of-three pivots; the range is sorted instead when it keeps failing to shrink). Linear
 * on average, where sorting every latency was a twentieth of `logs`' time.
 */
export function selectInPlace(a: Float64Array, k: number, lo = 0, hi = a.length): number {
  let l = lo;
  let r = hi - 1;
  for (let rounds = 0; r > l; rounds++) {
    if (rounds > 64) {
      a.subarray(l, r + 1).sort();
      break;
    }
    const x = a[l]!;
    const y = a[(l + r) >>> 1]!;
    const z = a[r]!;
    const pivot = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
    let i = l;
    let j = r;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i++] = a[j]!;
        a[j--] = t;
      }
    }
    // a[l..j] <= pivot, a(j..i) === pivot, a[i..r] >= pivot.
    if (k <= j) r = j;
    else if (k >= i) l = i;
    else break;
  }
  return a[k]!;
}

/** Nearest-rank p50, p90, p99 and the maximum of `a` (reordered in place). */
function latencySummary(a: Float64Array): LatencySummary {
  const n = a.length;
  if (n === 0) return {count: 0, p50: null, p90: null, p99: null, max: null};
  const rank = (p: number): number => Math.max(1, Math.ceil((p / 100) * n)) - 1;
  const k50 = rank(50);
  const k90 = rank(90);
  const k99 = rank(99);
  const p50 = selectInPlace(a, k50);
  const p90 = selectInPlace(a, k90, k50);
  const p99 = selectInPlace(a, k99, k90);
  let max = p99;
  for (let i = k99 + 1; i < n; i++) if (a[i]! > max) max = a[i]!;
  return {count: n, p50, p90, p99, max};
}

/**
 * Creates a summarizer. Memory grows with distinct statuses, ciphers and failing clients,
 * plus 8 bytes per successful handshake (for exact percentiles). Lines are read byte by
 * byte (src/lib/alb/connection-log-scan.ts); JSON lines take a slower path through JSON.parse.
 */
export function createLogSummarizer(opts: LogSummaryOptions = {}): LogSummarizer {
  const topClients = opts.topClients ?? 10;
  const maxExamples = opts.malformedExamples ?? 5;
  const sources: string[] = [];
  let source = '';
  let lineNo = 0;
  let lines = 0;
  let connections = 0;
  let malformed = 0;
  const examples: MalformedLine[] = [];
  const byStatus = new ByteCounter(true);
  const protocols = new ByteCounter(true);
  const ciphers = new ByteCounter(true);
  const ports = new Float64Array(65536);
  const extraPorts = new Map<string, number>();
  const failures = new Map<string, Map<string, FailureClient>>();
  let lat = new Float64Array(1024);
  let latN = 0;
  let firstSec = -1;
  let firstNs = 0;
  let firstDigits = 0;
  let lastSec = -1;
  let lastNs = 0;
  let lastDigits = 0;
  const scanned = newScannedLine();
  // Failing statuses of the byte path, in the order first seen; each counts its clients by
  // subject and serial bytes (folded into `failures` by flushFailing).
  const failingStatuses: Slot[] = [];
  // Protocol and cipher (fields 5 and 6, adjacent) are counted as one key, split when read out.
  const tls = new ByteCounter(true);
  const flushFailing = (): void => {
    for (const st of failingStatuses) {
      for (const c of st.clients!.slots) {
        if (c.n === 0) continue;
        addFailure(st.key.slice(7), c.serial, c.subject, c.n);
        c.n = 0;
      }
    }
  };
  const flushTls = (): void => {
    for (const [k, n] of tls.entries()) {
      const sp = k.indexOf(' ');
      protocols.add(k.slice(0, sp), n);
      ciphers.add(k.slice(sp + 1), n);
    }
    tls.clear();
  };

  const pushLatency = (v: number): void => {
    if (latN === lat.length) {
      const bigger = new Float64Array(lat.length * 2);
      bigger.set(lat);
      lat = bigger;
    }
    lat[latN++] = v;
  };
  const addFailure = (code: string, serial: string, subject: string, n: number): void => {
    let clients = failures.get(code);
    if (!clients) {
      clients = new Map();
      failures.set(code, clients);
    }
    const key = `${serial}\u0000${subject}`;
    const c = clients.get(key);
    if (c) c.count += n;
    else clients.set(key, {subject, serial, count: n});
  };
  const badLine = (text: string): void => {
    malformed++;
    if (examples.length < maxExamples) examples.push({source, line: lineNo, text: text.length > 200 ? `${text.slice(0, 200)}…` : text});
  };
  /** One text line already known to be non-empty. */
  const textLine = (b: Buffer, s: number, e: number, depth: number): void => {
    if (b[s] === 123 /* { */) {
      jsonLine(b.toString('utf8', s, e), depth);
      return;
    }
    const at = scanned.at;
    // A text line (the common case) is scanned as one first. Only a line whose second field
    // looks like a timestamp or `{` can be a CloudWatch Logs export line instead, which
    // skipExportTimestamp decides (a client IP is never either).
    if (!scanConnectionLogLine(b, s, e, scanned) || maybeRecordStart(b, at[2]!)) {
      const m = skipExportTimestamp(b, s, e);
      if (m !== s && b[m] === 123) {
        jsonLine(b.toString('utf8', m, e), depth);
        return;
      }
      if (!scanConnectionLogLine(b, m, e, scanned)) {
        badLine(b.toString('utf8', s, e).replace(/\r$/, ''));
        return;
      }
    }
    connections++;
    const v = scanned.view!;
    const st = byStatus.slot(b, v, at[2 * FIELD.status]!, at[2 * FIELD.status + 1]!);
    st.n++;
    const ps = at[2 * FIELD.protocol]!;
    const pe = at[2 * FIELD.protocol + 1]!;
    if (at[2 * FIELD.cipher] === pe + 1 && b[pe] === 32) tls.slot(b, v, ps, at[2 * FIELD.cipher + 1]!).n++;
    else {
      protocols.slot(b, v, ps, pe).n++;
      ciphers.slot(b, v, at[2 * FIELD.cipher]!, at[2 * FIELD.cipher + 1]!).n++;
    }
    ports[scanned.listenerPort]!++;
    // Timestamps compare as numbers (seconds as yyyymmddhhmmss, then nanoseconds): no bytes copied per line.
    const sec = scanned.tsSeconds;
    const ns = scanned.tsNanos;
    if (firstSec < 0 || sec < firstSec || (sec === firstSec && ns < firstNs)) {
      firstSec = sec;
      firstNs = ns;
      firstDigits = scanned.tsDigits;
    }
    if (sec > lastSec || (sec === lastSec && ns > lastNs)) {
      lastSec = sec;
      lastNs = ns;
      lastDigits = scanned.tsDigits;
    }
    if (scanned.latency >= 0) pushLatency(scanned.latency);
    if (st.failed) {
      // Clients are interned by their bytes: no string is made for a client seen before.
      let clients = st.clients;
      if (!clients) {
        clients = new ClientCounter();
        st.clients = clients;
        failingStatuses.push(st);
      }
      clients.slot(b, v, at[2 * FIELD.subject]!, at[2 * FIELD.subject + 1]!, at[2 * FIELD.serial]!, at[2 * FIELD.serial + 1]!).n++;
    }
  };
  /** A JSON line: records, concatenated records or a subscription envelope (aws-reference 5.3). */
  const jsonLine = (text: string, depth: number): void => {
    const objects = splitJsonObjects(text);
    if (objects.length === 0) {
      badLine(text);
      return;
    }
    for (const o of objects) {
      let value: unknown;
      try {
        value = JSON.parse(o);
      } catch {
        badLine(o);
        continue;
      }
      const got = depth < 2 ? jsonRecordLines(value) : null;
      if (!got) {
        badLine(o);
        continue;
      }
      for (const line of got) {
        if (line.length === 0) continue;
        const bytes = Buffer.from(line, 'utf8');
        textLine(bytes, 0, bytes.length, depth + 1);
      }
    }
  };

  const self: LogSummarizer = {
    addSource(name) {
      sources.push(name);
      source = name;
      lineNo = 0;
    },
    addBytes(b, start, end) {
      let s = start;
      while (s < end) {
        let nl = b.indexOf(10, s);
        if (nl < 0 || nl > end) nl = end;
        lineNo++;
        if (nl > s && !(nl - s === 1 && b[s] === 13)) {
          lines++;
          textLine(b, s, nl, 0);
        }
        s = nl + 1;
      }
    },
    addLine(line, name, lineNumber) {
      if (line.length === 0 || line === '\r') return;
      source = name;
      lineNo = lineNumber;
      lines++;
      const bytes = Buffer.from(line, 'utf8');
      textLine(bytes, 0, bytes.length, 0);
    },
    snapshot() {
      flushFailing();
      flushTls();
      const listenerPorts: Array<[string, number]> = [...extraPorts];
      for (let p = 0; p < ports.length; p++) if (ports[p]! > 0) listenerPorts.push([String(p), ports[p]!]);
      return {
        sources: [...sources],
        lines,
        connections,
        malformed,
        examples: [...examples],
        byStatus: byStatus.entries(),
        protocols: protocols.entries(),
        ciphers: ciphers.entries(),
        listenerPorts,
        failures: [...failures].map(([code, m]) => [code, [...m.values()]]),
        latencies: lat.slice(0, latN),
        firstTimestamp: firstSec < 0 ? null : formatScannedTimestamp(firstSec, firstNs, firstDigits),
        lastTimestamp: lastSec < 0 ? null : formatScannedTimestamp(lastSec, lastNs, lastDigits),
      };
    },
    merge(st) {
      sources.push(...st.sources);
      lines += st.lines;
      connections += st.connections;
      malformed += st.malformed;
      for (const ex of st.examples) if (examples.length < maxExamples) examples.push(ex);
      for (const [k, n] of st.byStatus) byStatus.add(k, n);
      for (const [k, n] of st.protocols) protocols.add(k, n);
      for (const [k, n] of st.ciphers) ciphers.add(k, n);
      for (const [k, n] of st.listenerPorts) {
        const p = Number(k);
        if (String(p) === k && p < 65536) ports[p]! += n;
        else extraPorts.set(k, (extraPorts.get(k) ?? 0) + n);
      }
      for (const [code, clients] of st.failures) for (const c of clients) addFailure(code, c.serial, c.subject, c.count);
      if (latN + st.latencies.length > lat.length) {
        const bigger = new Float64Array(Math.max(lat.length * 2, latN + st.latencies.length));
        bigger.set(lat.subarray(0, latN));
        lat = bigger;
      }
      lat.set(st.latencies, latN);
      latN += st.latencies.length;
      for (const t of [st.firstTimestamp, st.lastTimestamp]) {
        if (t === null) continue;
        const bytes = Buffer.from(t, 'latin1');
        if (!readLogTimestamp(bytes, 0, bytes.length, scanned)) continue;
        const {tsSeconds: sec, tsNanos: ns, tsDigits: digits} = scanned;
        if (firstSec < 0 || sec < firstSec || (sec === firstSec && ns < firstNs)) [firstSec, firstNs, firstDigits] = [sec, ns, digits];
        if (sec > lastSec || (sec === lastSec && ns > lastNs)) [lastSec, lastNs, lastDigits] = [sec, ns, digits];
      }
    },
    finish() {
      const st = self.snapshot();
      const failureList: FailureSummary[] = st.failures.map(([code, clients]) => {
        const all = [...clients].sort((a, b) => b.count - a.count || a.serial.localeCompare(b.serial));
        return {code, count: all.reduce((sum, c) => sum + c.count, 0), clients: all.slice(0, topClients), distinctClients: all.length};
      });
      failureList.sort((a, b) => b.count - a.count);
      const statusRecord = toRecord(st.byStatus);
      return {
        sources: st.sources,
        lines: st.lines,
        connections: st.connections,
        malformed: {count: st.malformed, examples: st.examples},
        byStatus: statusRecord,
        nonHttpsConnections: statusRecord['-'] ?? 0,
        failures: failureList,
        handshakeLatency: latencySummary(st.latencies),
        protocols: toRecord(st.protocols),
        ciphers: toRecord(st.ciphers),
        listenerPorts: toRecord(st.listenerPorts),
        firstTimestamp: st.firstTimestamp,
        lastTimestamp: st.lastTimestamp,
      };
    },
  };
  return self;
}

/**
 * What each ALB failure code means and how to fix it (codes from aws-reference 5; the
 * requirements behind them from aws-reference 3 and 4).
 */
export const FAILURE_FIXES: Record<string, {meaning: string; fix: string}> = {
  ClientCertMaxChainDepthExceeded: {
    meaning: 'the client chain is deeper than ALB allows',
    fix: 'issue clients from a CA at most a few tiers below the root; send only leaf and intermediates',
  },
  ClientCertMaxSizeExceeded: {
    meaning: 'a client certificate is larger than ALB accepts',
    fix: 'issue a smaller certificate (fewer SANs/extensions, an EC key)',
  },
  ClientCertCrlHit: {
    meaning: 'the certificate is revoked on a CRL attached to the trust store',
    fix: 'issue a new certificate for the client (mtls-kit gen-client) and install it; revocation cannot be undone',
  },
  ClientCertCrlProcessingError: {
    meaning: 'ALB could not use a CRL for this issuer',
    fix: 'check the CRL with mtls-kit lint (signature, issuer in the bundle, nextUpdate) and re-upload it',
  },
  ClientCertUntrusted: {
    meaning: 'the chain does not lead to a CA in the trust store (or no certificate was sent)',
    fix: 'add the issuing CA to the trust-store bundle, or have the client send its certificate and intermediates (mtls-kit verify shows where the path breaks)',
  },
  ClientCertNotYetValid: {meaning: 'notBefore is in the future', fix: 'check the client and CA clocks; re-issue with a start time in the past'},
  ClientCertExpired: {
    meaning: 'notAfter has passed',
    fix: 'renew the client certificate (mtls-kit gen-client), or set IgnoreClientCertificateExpiry while you roll out',
  },
  ClientCertTypeUnsupported: {
    meaning: 'the key or signature type is not one ALB accepts',
    fix: 're-issue with RSA 2048-8192 or ECDSA P-256/384/521 and SHA-256/384/512',
  },
  ClientCertInvalid: {
    meaning: 'the certificate could not be parsed or its signature is wrong',
    fix: 'check it with mtls-kit inspect / mtls-kit verify and re-issue it',
  },
  ClientCertPurposeInvalid: {
    meaning: 'keyUsage/extendedKeyUsage do not allow client authentication',
    fix: 're-issue with extendedKeyUsage clientAuth and keyUsage digitalSignature',
  },
  ClientCertRejected: {meaning: 'rejected by custom server validation', fix: "check the listener's custom validation rules"},
  UnmappedConnectionError: {meaning: 'a runtime connection error ALB did not map to a code', fix: 'look at the client side (timeouts, resets); retry'},
  ClientCertIncompatible: {
    meaning: "the certificate is incompatible with the listener's security policy",
    fix: "use a key and signature the listener's TLS policy accepts",
  },
};

/** What a failure means when its connections carried no certificate (serial and subject `-`). */
const NO_CERTIFICATE = {
  meaning: 'no client certificate was presented (the log has no serial or subject)',
  fix: 'configure the client to send its certificate and key (curl --cert/--key, mtls-kit probe --client DIR); a verify-mode listener rejects a client without one',
};

export interface ExplainedClient extends FailureClient {
  /** The CA index entry with this serial, when the certificate was issued by the local CA. */
  issued: null | {
    tier: string;
    status: 'valid' | 'revoked' | 'expired';
    file: string;
    indexSubject: string;
    notAfter: string;
    revokedAt?: string;
    reason?: string;
    /** The CRL that lists it (when revoked). */
    crl?: string;
  };
}

export interface ExplainedFailure {
  code: string;
  count: number;
  meaning: string;
  fix: string;
  clients: ExplainedClient[];
}

export interface IndexedTier {
  tier: string;
  entries: IndexEntry[];
  /** Path of the tier's CRL (the one a revocation appears on). */
  crl: string;
}

/**
 * Joins each failure's clients with the CA's index by serial (ALB hex form, aws-reference 1.4)
 * and adds the meaning and fix of each code.
 */
export function explainFailures(failures: FailureSummary[], tiers: IndexedTier[], now: Date): ExplainedFailure[] {
  const bySerial = new Map<string, {tier: IndexedTier; entry: IndexEntry}>();
  for (const t of tiers) for (const e of t.entries) bySerial.set(e.serial.toUpperCase(), {tier: t, entry: e});
  return failures.map((f) => {
    let known = FAILURE_FIXES[f.code] ?? {meaning: 'a code mtls-kit does not know', fix: 'see the ALB connection-log documentation'};
    // No serial and no subject on any connection: the client sent no certificate at all.
    if (f.clients.length > 0 && f.clients.every((c) => c.serial === '-' && c.subject === '-')) known = NO_CERTIFICATE;
    return {
      code: f.code,
      count: f.count,
      meaning: known.meaning,
      fix: known.fix,
      clients: f.clients.map((c) => {
        const hit = bySerial.get(c.serial.toUpperCase());
        if (!hit) return {...c, issued: null};
        const e = hit.entry;
        const status = e.status === 'R' ? 'revoked' : e.status === 'E' || e.notAfter.getTime() < now.getTime() ? 'expired' : 'valid';
        return {
          ...c,
          issued: {
            tier: hit.tier.tier,
            status,
            file: e.file,
            indexSubject: e.subject,
            notAfter: isoSeconds(e.notAfter),
            ...(e.revokedAt ? {revokedAt: isoSeconds(e.revokedAt)} : {}),
            ...(e.reason ? {reason: e.reason} : {}),
            ...(status === 'revoked' ? {crl: hit.tier.crl} : {}),
          },
        };
      }),
    };
  });
}
