/**
 * The pure parts of `serve --listen PORT:nlb`, the local NLB TLS listener with mutual TLS
 * (aws-reference 9): its fixed choices, the PROXY protocol v2 header a target group with
 * proxy protocol enabled receives, and one NLB TLS access-log line per connection.
 */
import {usageError} from '../errors.js';

/**
 * mtls-kit's choices where AWS is UNCONFIRMED for NLB listeners (aws-reference 9.2, 9.5,
 * 9.6, 9.10). Change them here.
 */
export const NLB_LISTENER_POLICY = {
  /**
   * How a rejected client is turned away. AWS does not say which alert NLB sends (9.2).
   * Node's TLS server cannot send an alert of its choice after its own verdict, so the
   * connection is closed right after the handshake, before any byte reaches the target
   * (the client sees the connection end, as with `serve`'s ALB listeners).
   */
  rejection: 'close-after-handshake' as const,
  /** A client that presents no certificate is refused (verify only, 9.2). */
  requireCertificate: true,
  /** NLB forwards nothing about the certificate to targets (9.5): no header, no TLV. */
  forwardsCertificate: false,
  /**
   * The access-log line has NLB's 22 documented fields, then mtls-kit's own fields
   * (9.6 documents none for mTLS): the verdict, the filter that matched, the client
   * certificate's serial and subject.
   */
  logExtraFields: ['client_cert_verdict', 'identity_filter', 'client_cert_serial', 'client_cert_subject'] as const,
};

/** The 12-byte PROXY protocol v2 signature (haproxy proxy-protocol.txt 2.2). */
const PP2_SIGNATURE = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a);

export interface ProxyV2Params {
  /** The client's address and port as the listener saw them. */
  sourceIp: string;
  sourcePort: number;
  /** The listener's address and port. */
  destinationIp: string;
  destinationPort: number;
}

/** `::ffff:1.2.3.4` (an IPv4 client on a dual-stack socket) is IPv4. */
function unmapIpv4(ip: string): string {
  return /^::ffff:\d{1,3}(\.\d{1,3}){3}$/i.test(ip) ? ip.slice(7) : ip;
}

function ipv4Bytes(ip: string): number[] | null {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return null;
  return parts.map(Number);
}

/** 16 bytes of an IPv6 address in hex notation (Node reports IPv6 peers that way), or null. */
function ipv6Bytes(ip: string): number[] | null {
  const zone = ip.indexOf('%');
  const halves = (zone >= 0 ? ip.slice(0, zone) : ip).split('::');
  if (halves.length > 2) return null;
  const words = (h: string): number[] => (h === '' ? [] : h.split(':').map((w) => (/^[0-9a-f]{1,4}$/i.test(w) ? parseInt(w, 16) : NaN)));
  const head = words(halves[0]!);
  const rest = halves.length === 2 ? words(halves[1]!) : [];
  const fill = 8 - head.length - rest.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return null;
  const all = [...head, ...new Array<number>(fill).fill(0), ...rest];
  if (all.some((w) => Number.isNaN(w))) return null;
  return all.flatMap((w) => [w >> 8, w & 0xff]);
}

const mappedIpv4 = (b: number[]): number[] => [...new Array<number>(10).fill(0), 0xff, 0xff, ...b];

/**
 * The PROXY protocol v2 header NLB sends first on each target connection when proxy
 * protocol v2 is enabled on the target group: signature, version 2 / PROXY, TCP over IPv4
 * or IPv6, the client's address and port, then the listener's (haproxy proxy-protocol.txt
 * 2.2). No TLV: NLB's only known TLV is the VPC endpoint id (0xEA, aws-reference 9.5), which a
 * local listener has none of. Mixed families (IPv4 client, IPv6 listener) are sent as
 * IPv6 with the IPv4 address mapped.
 */
export function buildProxyV2Header(p: ProxyV2Params): Uint8Array {
  const src = unmapIpv4(p.sourceIp);
  const dst = unmapIpv4(p.destinationIp);
  const s4 = ipv4Bytes(src);
  const d4 = ipv4Bytes(dst);
  let family: number;
  let addresses: number[];
  if (s4 && d4) {
    family = 0x11; // AF_INET, STREAM
    addresses = [...s4, ...d4];
  } else {
    const s6 = s4 ? mappedIpv4(s4) : ipv6Bytes(src);
    const d6 = d4 ? mappedIpv4(d4) : ipv6Bytes(dst);
    if (!s6 || !d6) throw new Error(`not an IP address: ${s6 ? dst : src}`);
    family = 0x21; // AF_INET6, STREAM
    addresses = [...s6, ...d6];
  }
  const body = [...addresses, p.sourcePort >> 8, p.sourcePort & 0xff, p.destinationPort >> 8, p.destinationPort & 0xff];
  return Uint8Array.from([...PP2_SIGNATURE, 0x21, family, body.length >> 8, body.length & 0xff, ...body]);
}

/** One NLB TLS access-log entry (aws-reference 9.6), plus mtls-kit's trailing fields. */
export interface NlbAccessLogEntry {
  /** End of the connection. */
  time: Date;
  /** `net/<name>/<id>`. */
  elb: string;
  listenerId: string;
  clientIp: string;
  clientPort: number;
  /** `-` when no target connection was made (a rejected client). */
  target: string;
  tcpConnectionTimeMs: number;
  /** `-` when the handshake did not complete. */
  tlsHandshakeTimeMs: number | null;
  receivedBytes: number;
  sentBytes: number;
  /** The server certificate's serial (NLB logs the listener certificate's, not the client's). */
  certificateSerial: string;
  tlsCipherSuite: string;
  /** tlsv1 | tlsv11 | tlsv12 | tlsv13, or `-`. */
  tlsProtocolVersion: string;
  /** The key-exchange group (s2n-tls's name, aws-reference 13.3); `-` when unknown. */
  tlsNamedGroup?: string;
  domainName: string;
  alpnFeProtocol: string;
  alpnClientPreferenceList: string;
  connectionStart: Date;
  /** mtls-kit: `Success` or `Failed:<code>`. */
  verdict: string;
  /** mtls-kit: FIELD:MATCH:VALUE of the filter that admitted the client, or `-`. */
  identityFilter: string;
  clientCertSerial: string;
  /** RFC 2253, written in double quotes; `-` when none. */
  clientCertSubject: string;
}

/** NLB's time format in access logs: ISO 8601 to the second, no zone letter (`2018-12-20T02:59:40`). */
export function formatNlbLogTime(d: Date): string {
  return d.toISOString().slice(0, 19);
}

/** Node's `TLSv1.3` → NLB's `tlsv13`. */
export function nlbTlsVersion(nodeProtocol: string | null | undefined): string {
  if (!nodeProtocol) return '-';
  const m = /^TLSv1(?:\.(\d))?$/.exec(nodeProtocol);
  return m ? `tlsv1${m[1] ?? ''}` : '-';
}

const dash = (s: string): string => (s === '' ? '-' : s.replace(/\s/g, '_'));
const quoted = (s: string): string => (s === '' || s === '-' ? '-' : `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`);

/**
 * Formats one access-log line: `type version time elb listener_id client_ip:client_port
 * target_ip:target_port tcp_connection_time_ms tls_handshake_time_ms received_bytes
 * sent_bytes incoming_tls_alert cert_arn certificate_serial tls_cipher_suite
 * tls_protocol_version tls_named_group domain_name alpn_fe_protocol alpn_be_protocol
 * alpn_client_preference_list tls_connection_creation_time` (aws-reference 9.6), then
 * NLB_LISTENER_POLICY.logExtraFields. Fields Node cannot know (incoming alert, cert ARN,
 * backend ALPN) are `-`; the named group is read from the server's own handshake
 * (lib/tls/server-flight.ts).
 */
export function formatNlbAccessLogLine(e: NlbAccessLogEntry): string {
  return [
    'tls',
    '2.0',
    formatNlbLogTime(e.time),
    e.elb,
    e.listenerId,
    `${e.clientIp}:${e.clientPort}`,
    dash(e.target),
    String(Math.max(0, Math.round(e.tcpConnectionTimeMs))),
    e.tlsHandshakeTimeMs === null ? '-' : String(Math.max(0, Math.round(e.tlsHandshakeTimeMs))),
    String(e.receivedBytes),
    String(e.sentBytes),
    '-',
    '-',
    dash(e.certificateSerial),
    dash(e.tlsCipherSuite),
    dash(e.tlsProtocolVersion),
    dash(e.tlsNamedGroup ?? '-'),
    dash(e.domainName),
    dash(e.alpnFeProtocol),
    '-',
    dash(e.alpnClientPreferenceList),
    formatNlbLogTime(e.connectionStart),
    dash(e.verdict),
    quoted(e.identityFilter),
    dash(e.clientCertSerial),
    quoted(e.clientCertSubject),
  ].join(' ');
}

/**
 * Parses an NLB listener's `--target tcp://host:port`.
 * @throws MtlsKitError BAD_TARGET (exit 2) naming the value.
 */
export function parseTcpTarget(text: string): {host: string; port: number} {
  const m = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[^:/[\]]+):(\d{1,5})\/?$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535)
    throw usageError('BAD_TARGET', `--target ${text} is not tcp://HOST:PORT`, ['an NLB listener forwards TCP: write it as --target tcp://127.0.0.1:7000']);
  return {host: m[1]!.replace(/^\[|\]$/g, ''), port};
}
