/**
 * Summaries of ALB connection logs (aws-reference 5) for `mtls-kit logs`: connections by
 * tls_verify_status, failures by code with the clients involved, handshake-latency
 * percentiles, TLS protocols and ciphers, and malformed lines. Pure: lines in, a result out.
 */
import {parseConnectionLogLine} from './connection-log.js';
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
  /** Count per tls_verify_status value (`Success`, `Failed:ClientCertCrlHit`, ...). */
  byStatus: Record<string, number>;
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

/** The running state of a summary; feed it lines, then call `finish()`. */
export interface LogSummarizer {
  /** Adds one line (empty lines are skipped). */
  addLine(line: string, source: string, lineNumber: number): void;
  addSource(source: string): void;
  finish(): LogSummary;
}

const bump = (m: Map<string, number>, k: string): void => {
  m.set(k, (m.get(k) ?? 0) + 1);
};
const toRecord = (m: Map<string, number>): Record<string, number> => Object.fromEntries([...m].sort((a, b) => b[1] - a[1]));

/** Nearest-rank percentile of a sorted array (RFC-free: the textbook definition). */
export function percentile(sorted: Float64Array | number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/**
 * Creates a summarizer. Memory grows with distinct statuses, ciphers and failing clients,
 * plus 8 bytes per successful handshake (for exact percentiles).
 */
export function createLogSummarizer(opts: LogSummaryOptions = {}): LogSummarizer {
  const topClients = opts.topClients ?? 10;
  const maxExamples = opts.malformedExamples ?? 5;
  const sources: string[] = [];
  let lines = 0;
  let connections = 0;
  let malformed = 0;
  const examples: MalformedLine[] = [];
  const byStatus = new Map<string, number>();
  const protocols = new Map<string, number>();
  const ciphers = new Map<string, number>();
  const ports = new Map<string, number>();
  const failures = new Map<string, Map<string, FailureClient>>();
  let lat = new Float64Array(1024);
  let latN = 0;
  let first: string | null = null;
  let last: string | null = null;

  return {
    addSource(source) {
      sources.push(source);
    },
    addLine(line, source, lineNumber) {
      if (line.length === 0 || line === '\r') return;
      lines++;
      const e = parseConnectionLogLine(line);
      if (!e) {
        malformed++;
        if (examples.length < maxExamples) examples.push({source, line: lineNumber, text: line.length > 200 ? line.slice(0, 200) + '…' : line});
        return;
      }
      connections++;
      bump(byStatus, e.verifyStatus);
      bump(protocols, e.tlsProtocol);
      bump(ciphers, e.tlsCipher);
      bump(ports, String(e.listenerPort));
      // ISO timestamps in one format compare as strings.
      if (first === null || e.timestamp < first) first = e.timestamp;
      if (last === null || e.timestamp > last) last = e.timestamp;
      if (e.handshakeLatency !== '-') {
        if (latN === lat.length) {
          const bigger = new Float64Array(lat.length * 2);
          bigger.set(lat);
          lat = bigger;
        }
        lat[latN++] = Number(e.handshakeLatency);
      }
      if (e.verifyStatus.startsWith('Failed:')) {
        const code = e.verifyStatus.slice(7);
        let clients = failures.get(code);
        if (!clients) failures.set(code, (clients = new Map()));
        const key = `${e.serial}\u0000${e.subject}`;
        const c = clients.get(key);
        if (c) c.count++;
        else clients.set(key, {subject: e.subject, serial: e.serial, count: 1});
      }
    },
    finish() {
      const sorted = lat.subarray(0, latN).sort();
      const failureList: FailureSummary[] = [...failures].map(([code, clients]) => {
        const all = [...clients.values()].sort((a, b) => b.count - a.count || a.serial.localeCompare(b.serial));
        return {code, count: all.reduce((s, c) => s + c.count, 0), clients: all.slice(0, topClients), distinctClients: all.length};
      });
      failureList.sort((a, b) => b.count - a.count);
      return {
        sources,
        lines,
        connections,
        malformed: {count: malformed, examples},
        byStatus: toRecord(byStatus),
        failures: failureList,
        handshakeLatency: {
          count: latN,
          p50: percentile(sorted, 50),
          p90: percentile(sorted, 90),
          p99: percentile(sorted, 99),
          max: latN ? sorted[latN - 1]! : null,
        },
        protocols: toRecord(protocols),
        ciphers: toRecord(ciphers),
        listenerPorts: toRecord(ports),
        firstTimestamp: first,
        lastTimestamp: last,
      };
    },
  };
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
