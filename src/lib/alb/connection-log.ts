/**
 * ALB connection-log lines (aws-reference 5): one line per connection attempt, fields
 * separated by single spaces, in this order:
 *
 *   1 timestamp  2 client_ip  3 client_port  4 listener_port  5 tls_protocol  6 tls_cipher
 *   7 tls_handshake_latency  8 leaf_client_cert_subject (quoted)  9 leaf_client_cert_validity
 *   10 leaf_client_cert_serial_number  11 tls_verify_status  12 conn_trace_id
 *   13 tls_keyexchange  14 elb  15 ip_address
 *
 * Absent values are `-`. Fields 13 to 15 were added to the format later (the AWS example
 * lines have only 12), and AWS warns that more fields are appended at the end over time,
 * so a line with 12 or more fields parses; anything after field 15 is kept in `extra`.
 */

export interface ConnectionLogEntry {
  /** ISO 8601 with microseconds, e.g. `2023-10-04T17:05:15.514108Z`. */
  timestamp: string;
  clientIp: string;
  clientPort: number;
  listenerPort: number;
  tlsProtocol: string;
  tlsCipher: string;
  /** Seconds with millisecond precision (`4.036`), or `-` when the handshake failed. */
  handshakeLatency: string;
  /** RFC 2253 subject without the surrounding quotes, or `-`. */
  subject: string;
  validity: string;
  serial: string;
  /** `Success`, `Failed:<code>` (written with or without double quotes; the quotes are removed), or `-` on a listener without TLS. */
  verifyStatus: string;
  connTraceId: string;
  tlsKeyExchange: string;
  elb: string;
  ipAddress: string;
  /** Fields after the 15th (AWS appends new ones at the end). */
  extra: string[];
}

/** The fewest fields a line may have: the AWS doc examples show 12 (aws-reference 5). */
export const MIN_CONNECTION_LOG_FIELDS = 12;

const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const LATENCY_RE = /^(-|\d+(\.\d+)?)$/;

const dash = (s: string): string => (s === '' ? '-' : s);

/**
 * Formats one connection-log line (no trailing newline). The subject is written in
 * double quotes as ALB does; `-` stays unquoted. An RFC 2253 subject already escapes
 * `"` and `\` (aws-reference 8), so it never closes the quotes early.
 */
export function formatConnectionLogLine(e: ConnectionLogEntry): string {
  const subject = e.subject === '' || e.subject === '-' ? '-' : `"${e.subject}"`;
  const fields = [
    e.timestamp,
    dash(e.clientIp),
    String(e.clientPort),
    String(e.listenerPort),
    dash(e.tlsProtocol),
    dash(e.tlsCipher),
    dash(e.handshakeLatency),
    subject,
    dash(e.validity),
    dash(e.serial),
    dash(e.verifyStatus),
    dash(e.connTraceId),
    dash(e.tlsKeyExchange),
    dash(e.elb),
    dash(e.ipAddress),
    ...e.extra,
  ];
  return fields.join(' ');
}

/** Index just past the closing quote of a quoted field starting at `start` (a `"`), or -1. */
function closingQuote(line: string, start: number): number {
  for (let i = start + 1; i < line.length; i++) {
    const ch = line.charCodeAt(i);
    if (ch === 92 /* \ */) i++;
    else if (ch === 34 /* " */) return i + 1;
  }
  return -1;
}

/** Splits a line into fields: single spaces separate, a field starting with `"` runs to its closing quote. */
function splitFields(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  while (i <= n) {
    if (line.charCodeAt(i) === 34) {
      const end = closingQuote(line, i);
      if (end < 0) return null;
      out.push(line.slice(i, end));
      if (end < n && line.charCodeAt(end) !== 32) return null;
      i = end + 1;
    } else {
      let j = line.indexOf(' ', i);
      if (j < 0) j = n;
      out.push(line.slice(i, j));
      i = j + 1;
    }
  }
  return out;
}

function parsePort(s: string): number | null {
  if (s.length === 0 || s.length > 5) return null;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return null;
  }
  const v = Number(s);
  return v <= 65535 ? v : null;
}

/**
 * Parses one connection-log line (a trailing `\r` is ignored).
 * @returns the entry, or null when the line is malformed: fewer than 12 fields, an
 *   unterminated quoted subject, a timestamp that is not ISO 8601 UTC, a port that is not
 *   a number, a latency that is neither `-` nor seconds, or an empty field. Never throws.
 */
export function parseConnectionLogLine(line: string): ConnectionLogEntry | null {
  if (line.endsWith('\r')) line = line.slice(0, -1);
  const f = splitFields(line);
  if (!f || f.length < MIN_CONNECTION_LOG_FIELDS) return null;
  for (let i = 0; i < MIN_CONNECTION_LOG_FIELDS; i++) if (f[i] === '') return null;
  const [timestamp, clientIp, cp, lp, tlsProtocol, tlsCipher, handshakeLatency, rawSubject, validity, serial, verifyStatus, connTraceId] = f as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (!TIMESTAMP_RE.test(timestamp) || !LATENCY_RE.test(handshakeLatency)) return null;
  const clientPort = parsePort(cp);
  const listenerPort = parsePort(lp);
  if (clientPort === null || listenerPort === null) return null;
  const subject = rawSubject.charCodeAt(0) === 34 ? rawSubject.slice(1, -1) : rawSubject;
  // AWS's own example lines show the status quoted (`"Failed:ClientCertExpired"`, aws-reference 5): the same status.
  const status = verifyStatus.charCodeAt(0) === 34 ? verifyStatus.slice(1, -1) : verifyStatus;
  if (status === '') return null;
  return {
    timestamp,
    clientIp,
    clientPort,
    listenerPort,
    tlsProtocol,
    tlsCipher,
    handshakeLatency,
    subject,
    validity,
    serial,
    verifyStatus: status,
    connTraceId,
    tlsKeyExchange: f[12] || '-',
    elb: f[13] || '-',
    ipAddress: f[14] || '-',
    extra: f.slice(15),
  };
}

/**
 * Formats a time as the connection log does: UTC, microseconds, `Z`
 * (`2023-10-04T17:05:15.514108Z`, aws-reference 5 field 1).
 * @param epochMs milliseconds since the epoch, fractional part kept to the microsecond
 */
export function formatLogTimestamp(epochMs: number): string {
  // Whole microseconds since the epoch stay below 2^53 until the year 2255.
  const total = Math.round(epochMs * 1000);
  const whole = Math.floor(total / 1000);
  const micros = total - whole * 1000;
  const iso = new Date(whole).toISOString(); // 2023-10-04T17:05:15.514Z
  return `${iso.slice(0, 23)}${String(micros).padStart(3, '0')}Z`;
}

/** Handshake latency as ALB writes it: seconds with millisecond precision (`4.036`). */
export function formatHandshakeLatency(ms: number): string {
  return (ms / 1000).toFixed(3);
}
