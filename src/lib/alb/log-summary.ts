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

/** A count keyed by a string, found from bytes without decoding them (FNV-1a over the bytes, then a byte compare). */
interface Slot {
  bytes: Uint8Array;
  key: string;
  n: number;
  /** For a failing client's slot: its subject and serial. */
  subject?: string;
  serial?: string;
}

class ByteCounter {
  private readonly byHash = new Map<number, Slot[]>();
  readonly byKey = new Map<string, Slot>();

  slot(b: Uint8Array, s: number, e: number): Slot {
    // A hash of the length and up to 8 sampled bytes (then a full compare): values that differ
    // (statuses, ciphers, serials) almost always differ in length or in one of these bytes.
    const len = e - s;
    let h = 0x811c9dc5 ^ len;
    if (len <= 8) for (let i = s; i < e; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    else for (let k = 0; k < 8; k++) h = Math.imul(h ^ b[(s + ((len - 1) * k) / 7) | 0]!, 0x01000193);
    const list = this.byHash.get(h);
    if (list) {
      outer: for (const x of list) {
        if (x.bytes.length !== e - s) continue;
        for (let i = 0; i < x.bytes.length; i++) if (x.bytes[i] !== b[s + i]) continue outer;
        return x;
      }
    }
    const bytes = b.slice(s, e);
    const key = textDecoder.decode(bytes);
    let x = this.byKey.get(key);
    if (!x) {
      x = {bytes, key, n: 0};
      this.byKey.set(key, x);
    }
    if (list) list.push(x);
    else this.byHash.set(h, [x]);
    return x;
  }

  add(key: string, n: number): void {
    const x = this.byKey.get(key);
    if (x) x.n += n;
    else this.byKey.set(key, {bytes: textEncoder.encode(key), key, n});
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
  const byStatus = new ByteCounter();
  const protocols = new ByteCounter();
  const ciphers = new ByteCounter();
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
  // Failing clients of the byte path, by status, subject and serial slot (folded into `failures` by flushFailing).
  // A client is keyed by the bytes from its subject to its serial (fields 8-10), one lookup.
  const clients = new ByteCounter();
  const failing = new Map<Slot, Map<Slot, number>>();
  // Protocol and cipher (fields 5 and 6, adjacent) are counted as one key, split when read out.
  const tls = new ByteCounter();
  const flushFailing = (): void => {
    for (const [st, byClient] of failing) for (const [c, n] of byClient) addFailure(st.key.slice(7), c.serial!, c.subject!, n);
    failing.clear();
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
    const m = skipExportTimestamp(b, s, e);
    if (m !== s && b[m] === 123) {
      jsonLine(b.toString('utf8', m, e), depth);
      return;
    }
    if (!scanConnectionLogLine(b, m, e, scanned)) {
      badLine(b.toString('utf8', s, e).replace(/\r$/, ''));
      return;
    }
    connections++;
    const at = scanned.at;
    const st = byStatus.slot(b, at[2 * FIELD.status]!, at[2 * FIELD.status + 1]!);
    st.n++;
    const ps = at[2 * FIELD.protocol]!;
    const pe = at[2 * FIELD.protocol + 1]!;
    if (at[2 * FIELD.cipher] === pe + 1 && b[pe] === 32) tls.slot(b, ps, at[2 * FIELD.cipher + 1]!).n++;
    else {
      protocols.slot(b, ps, pe).n++;
      ciphers.slot(b, at[2 * FIELD.cipher]!, at[2 * FIELD.cipher + 1]!).n++;
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
    if (st.key.startsWith('Failed:')) {
      // Clients are interned by their bytes: no string is made for a client seen before.
      const c = clients.slot(b, at[2 * FIELD.subject]!, at[2 * FIELD.serial + 1]!);
      if (c.serial === undefined) {
        c.serial = b.toString('utf8', at[2 * FIELD.serial]!, at[2 * FIELD.serial + 1]!);
        c.subject = b.toString('utf8', at[2 * FIELD.subject]!, at[2 * FIELD.subject + 1]!);
      }
      let byClient = failing.get(st);
      if (!byClient) {
        byClient = new Map();
        failing.set(st, byClient);
      }
      byClient.set(c, (byClient.get(c) ?? 0) + 1);
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
      for (const v of st.latencies) pushLatency(v);
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
      const sorted = st.latencies.sort();
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
        handshakeLatency: {
          count: sorted.length,
          p50: percentile(sorted, 50),
          p90: percentile(sorted, 90),
          p99: percentile(sorted, 99),
          max: sorted.length ? sorted[sorted.length - 1]! : null,
        },
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
