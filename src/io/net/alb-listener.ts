/**
 * The sockets of `mtls-kit serve`: HTTPS listeners that behave like an ALB mTLS listener
 * (aws-reference 1.1) in front of a target.
 *
 * Accepting, TLS, the chain as presented, judging, logging and failing one connection are
 * the listener frame's (listener-frame.ts); what is ALB's is here: the verdict's connection
 * log line (aws-reference 5), the mTLS headers, and HTTP forwarding to the target. A
 * rejected client's socket is destroyed before the HTTP parser sees a byte, so no HTTP
 * response is ever sent and curl exits non-zero, as with ALB (aws-reference 1.1).
 */
import {constants as cryptoConstants, randomFillSync} from 'node:crypto';
import http from 'node:http';
import {performance} from 'node:perf_hooks';
import tls, {type TLSSocket} from 'node:tls';
import {type Dispatcher, Pool} from 'undici';
import {
  buildUpstreamHeaders,
  findSpoofedHeaders,
  findSpoofedTlsHeaders,
  formatTraceId,
  HOP_BY_HOP,
  VALID_HEADER_NAME,
  type ListenerMode,
  type ListenerSpec,
} from '../../lib/alb/proxy.js';
import type {ParsedCertificate} from '../../lib/x509/cert.js';
import {type ConnectionLogEntry, formatConnectionLogLine, formatHandshakeLatency, formatLogTimestamp} from '../../lib/alb/connection-log.js';
import {formatRfc2253} from '../../lib/x509/dn.js';
import {formatAlbValidity} from '../../lib/x509/validity.js';
import {
  admittedState,
  forwardRequests,
  type PeerAddress,
  type PresentedConnection,
  type RefusedConnection,
  runningHttpListener,
  type RunningFrame,
  startHttpFrames,
} from './listener-frame.js';

/** The verdict on a presented chain (leaf first; empty when the client sent none). */
export interface ChainVerdict {
  /** `Success` or `Failed:<code>` (aws-reference 5). */
  status: string;
  ok: boolean;
}

export interface AlbServerParams {
  host: string;
  listeners: ListenerSpec[];
  /** Server certificate chain (PEM, leaf first) and key (PEM). */
  certPem: string;
  keyPem: string;
  /** Judges a chain on a verify listener; never throws. */
  judge: (chain: ParsedCertificate[]) => ChainVerdict;
  /** The five verify-mode headers for a leaf (aws-reference 1.2), names already mapped. */
  verifyHeaders: (leaf: ParsedCertificate) => Array<[string, string]>;
  /** The passthrough header for a chain (aws-reference 1.2), name already mapped. */
  passthroughHeader: (chainDer: Uint8Array[]) => [string, string];
  /** Lower-case header names to strip from client requests besides x-amzn-mtls-* (renamed names). */
  strip: ReadonlySet<string>;
  /** ALB's routing.http.drop_invalid_header_fields.enabled (aws-reference 7.12); default false. */
  dropInvalidHeaderFields?: boolean;
  /**
   * ALB's routing.http.x_amzn_tls_version_and_cipher_suite.enabled: X-Amzn-Tls-Version and
   * X-Amzn-Tls-Cipher-Suite (OpenSSL's cipher name) on every forwarded request; default false.
   */
  tlsVersionAndCipherHeaders?: boolean;
  /** Told of every client header that folds into an mTLS or identity header (spoofing attempt). */
  onSpoof?: (message: string) => void;
  /** Where requests go (http: or https:); required. */
  target: URL;
  /**
   * AdvertiseTrustStoreCaNames on (aws-reference 1.9): the trust store's certificates, whose
   * subjects OpenSSL then sends as the acceptable CA names of the CertificateRequest.
   */
  advertiseCaPem?: string;
  /**
   * The listener's TLS security policy mapped to Node's options (lib/alb/ssl-policies.ts);
   * without it, Node's OpenSSL defaults. With it the server's cipher order wins, as on ALB.
   */
  tlsOptions?: {minVersion: tls.SecureVersion; maxVersion: tls.SecureVersion; ciphers: string; ecdhCurve: string};
  /** Why a verified leaf conflicts with the security policy (ALB's ClientCertIncompatible), or null. */
  incompatibility?: (leaf: ParsedCertificate) => string | null;
  /** Receives each connection-log line (no newline). */
  log: (line: string) => void;
  /** Called for errors that do not end the server (target unreachable, ...). */
  onError?: (message: string) => void;
}

export interface RunningListener {
  port: number;
  mode: ListenerMode;
  url: string;
}

export interface RunningAlbServer {
  listeners: RunningListener[];
  /** Counters of the listener frames (bytes of client handshakes read, work units). */
  stats(): {connections: number; tappedBytes: number; work: number};
  /** Stops accepting, ends open connections, resolves when every socket is closed. */
  close(): Promise<void>;
}

interface ConnState {
  peer: PeerAddress;
  /** The mTLS headers, minus any whose (mapped) name the listener rewrites per request (see admit). */
  mtlsHeaders: Array<[string, string]>;
  /** The value of an mTLS header mapped to X-Amzn-Trace-Id, which counted as the client's trace id (see admit). */
  mtlsTrace: string | undefined;
  /** X-Amzn-Tls-Version and -Cipher-Suite when the attribute is on (client-sent ones are dropped). */
  tlsHeaders: Array<[string, string]>;
}

/** undici's response headers (lower-case object) minus hop-by-hop ones, for writeHead. */
function flattenResponseHeaders(h: Record<string, string | string[] | undefined>): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const k in h) if (!HOP_BY_HOP.has(k) && h[k] !== undefined) out[k] = h[k];
  return out;
}

const safe = <T>(f: () => T, fallback: T): T => {
  try {
    return f();
  } catch {
    return fallback;
  }
};

// Random ids for every request and connection, drawn from one pool refilled 4 KB at a
// time: one call into OpenSSL's RNG per ~340 requests instead of one each (bench/serve.ts).
const pool = Buffer.alloc(4096);
let poolAt = pool.length;
/** `n` fresh random bytes (a view of the pool: use before the next call). */
function randomView(n: number): Buffer {
  if (poolAt + n > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  poolAt += n;
  return pool.subarray(poolAt - n, poolAt);
}

// `1-{8 hex seconds}-`, formatted once per second instead of once per request.
let traceSecond = -1;
let tracePrefix = '';
/** A trace id `1-{8 hex seconds}-{24 hex}` (ALB request tracing). */
const newTraceId = (): string => {
  const second = Math.floor(Date.now() / 1000);
  if (second !== traceSecond) {
    traceSecond = second;
    tracePrefix = `1-${second.toString(16).padStart(8, '0')}-`;
  }
  return tracePrefix + randomView(12).toString('hex');
};

/**
 * ALB's X-Amzn-Trace-Id: without one from the client, `Root=<new id>`; with one that has a
 * Root, ALB keeps it and inserts a `Self=<new id>` field (ALB request tracing docs).
 */
export function traceHeader(client: string | undefined): string {
  if (client && /(^|;)\s*Root=1-[0-9a-f]{8}-[0-9a-f]{24}/i.test(client))
    return `Self=${newTraceId()};${client.replace(/(^|;)\s*Self=[^;]*;?/i, '$1').replace(/^;/, '')}`;
  return `Root=${newTraceId()}`;
}

/** ALB's verdict on one connection, with what the HTTP side needs. */
interface AlbVerdict extends ChainVerdict {
  mtlsHeaders: Array<[string, string]>;
}

/**
 * Starts the listeners. A connection is judged once, after its handshake, and its mTLS
 * headers computed once, then reused for every request on it (keep-alive).
 * @throws MtlsKitError PORT_IN_USE (exit 4) naming the port.
 */
export async function startAlbServer(p: AlbServerParams): Promise<RunningAlbServer> {
  // undici's pool: keep-alive connections to the target, and about half the CPU per
  // proxied request of http.request with an Agent (measured in bench/serve.ts).
  const pool = new Pool(p.target.origin, {connections: 256, keepAliveTimeout: 60_000});
  const targetPath = p.target.pathname === '/' ? '' : p.target.pathname.replace(/\/$/, '');
  const elb = 'app/mtls-kit-serve/local';
  const running: RunningListener[] = [];
  const frames: RunningFrame[] = [];
  const states = new WeakMap<TLSSocket, ConnState>();
  // HTTP over the admitted TLS sockets; it never listens itself.
  const httpServer = http.createServer({keepAlive: true});
  // ALB's default idle timeout is 60 s.
  httpServer.keepAliveTimeout = 60_000;

  const context = tls.createSecureContext({
    cert: p.certPem,
    key: p.keyPem,
    // Node gives `ca` to OpenSSL as the client CA list; the verdict stays the judge's.
    ...(p.advertiseCaPem ? {ca: p.advertiseCaPem} : {}),
    // ALB does not resume sessions in verify or passthrough mode (aws-reference 1.1): every
    // connection is judged on a full handshake. ALB's TLS server (s2n-tls) never
    // renegotiates: a TLS 1.2 client's renegotiation ClientHello is refused (OpenSSL answers
    // no_renegotiation), so no second, unjudged handshake can happen on a judged connection.
    secureOptions: cryptoConstants.SSL_OP_NO_TICKET | cryptoConstants.SSL_OP_NO_RENEGOTIATION,
    ...(p.tlsOptions ? {...p.tlsOptions, honorCipherOrder: true} : {}),
  });

  const logConnection = (
    socket: TLSSocket,
    peer: PeerAddress,
    listenerPort: number,
    leaf: ParsedCertificate | undefined,
    status: string,
    latencyMs: number | null,
    keyExchange: string,
  ): void => {
    const cipher = safe(() => socket.getCipher(), undefined);
    const entry: ConnectionLogEntry = {
      timestamp: formatLogTimestamp(performance.timeOrigin + performance.now()),
      clientIp: peer.remoteAddress,
      clientPort: peer.remotePort,
      listenerPort,
      tlsProtocol: safe(() => socket.getProtocol() ?? '-', '-'),
      tlsCipher: cipher?.name ?? '-',
      // ALB logs `-` for the latency of a failed handshake (aws-reference 5 field 7 and its example).
      handshakeLatency: latencyMs === null ? '-' : formatHandshakeLatency(latencyMs),
      subject: leaf ? safe(() => formatRfc2253(leaf.subject), '-') : '-',
      validity: leaf ? formatAlbValidity(leaf.notBefore, leaf.notAfter) : '-',
      serial: leaf?.serialHex ?? '-',
      verifyStatus: status,
      connTraceId: formatTraceId(randomView(16)),
      // Read from the server's own ServerHello / ServerKeyExchange (lib/tls/server-flight.ts):
      // Node tells a server nothing about the group (aws-reference 5, 13.3).
      tlsKeyExchange: keyExchange,
      elb,
      ipAddress: peer.localAddress,
      extra: [],
    };
    p.log(formatConnectionLogLine(entry));
  };

  const judge =
    (mode: ListenerMode) =>
    (c: PresentedConnection): AlbVerdict => {
      const leaf = c.chain?.[0];
      if (mode === 'verify') {
        let verdict: ChainVerdict = c.chain === null ? {status: 'Failed:ClientCertInvalid', ok: false} : p.judge(c.chain);
        // A chain the trust store accepts can still conflict with the listener's security policy.
        const conflict = verdict.ok && leaf && p.incompatibility ? p.incompatibility(leaf) : null;
        if (conflict) {
          p.onError?.(`client ${c.peer.remoteAddress}:${c.peer.remotePort} on port ${c.listenerPort} refused: ${conflict}`);
          verdict = {status: 'Failed:ClientCertIncompatible', ok: false};
        }
        return {...verdict, mtlsHeaders: verdict.ok && leaf ? p.verifyHeaders(leaf) : []};
      }
      // Passthrough: ALB does not verify, so the connection is logged as Success (what ALB
      // writes there is UNCONFIRMED, aws-reference 7.3); no certificate is accepted too (7.2).
      return {status: 'Success', ok: true, mtlsHeaders: c.chainDer.length > 0 ? [p.passthroughHeader(c.chainDer)] : []};
    };

  const onVerdict = (c: PresentedConnection, v: AlbVerdict): void => {
    logConnection(c.socket, c.peer, c.listenerPort, c.chain?.[0], v.status, v.ok ? c.handshakeMs : null, c.keyExchange);
  };

  const admit = (c: PresentedConnection, v: AlbVerdict): void => {
    const tlsHeaders: Array<[string, string]> = p.tlsVersionAndCipherHeaders
      ? [
          ['X-Amzn-Tls-Version', c.protocol],
          ['X-Amzn-Tls-Cipher-Suite', c.cipher.name],
        ]
      : [];
    // A --header-map name the listener rewrites per request (X-Amzn-Trace-Id, Expect, the TLS
    // headers) is handled here, once per connection, as forward() handles the client's: the
    // header is not forwarded, and a trace id's value counts as the client's (the last one).
    let mtlsTrace: string | undefined;
    const mtlsHeaders = v.mtlsHeaders.filter(([name, value]) => {
      const lower = name.toLowerCase();
      if (lower === TRACE) mtlsTrace = value;
      return lower !== TRACE && !omitClientHeader(lower);
    });
    states.set(c.socket, {peer: c.peer, mtlsHeaders, mtlsTrace, tlsHeaders});
    httpServer.emit('connection', c.socket);
  };

  // A chain that cannot be read exactly, a failed handshake, or our own error: one log
  // line with the reason (stderr) and, for the chain, a connection-log line.
  const onRefused = (r: RefusedConnection): void => {
    p.onError?.(`client ${r.peer.remoteAddress}:${r.peer.remotePort} on port ${r.listenerPort} refused: ${r.reason}`);
    // A failed negotiation (a version or suite outside the security policy, an alert from the
    // client) is in ALB's connection log too (AWS's troubleshooting guide reads
    // negotiation errors there), with the runtime code; which code ALB writes is UNCONFIRMED
    // (aws-reference 13.4): mtls-kit writes Failed:UnmappedConnectionError.
    logConnection(
      r.socket,
      r.peer,
      r.listenerPort,
      undefined,
      r.kind === 'handshake' ? 'Failed:UnmappedConnectionError' : 'Failed:ClientCertInvalid',
      null,
      r.keyExchange ?? '-',
    );
  };

  const spoofWarning = p.onSpoof ?? p.onError;
  /** Client headers that read as an identity or TLS header ALB adds: one warning per request, naming each and its fate. */
  const reportSpoofing = (rawHeaders: string[], peer: PeerAddress, listenerPort: number): void => {
    const spoofed = findSpoofedHeaders(rawHeaders, p.strip);
    const tlsSpoofed = findSpoofedTlsHeaders(rawHeaders);
    // Nearly every request: nothing to report, and nothing more is built.
    if (spoofed.length === 0 && tlsSpoofed.length === 0) return;
    const who = `spoofing attempt: client ${peer.remoteAddress}:${peer.remotePort} on port ${listenerPort} sent`;
    const dropped = (n: string): boolean => Boolean(p.dropInvalidHeaderFields) && !VALID_HEADER_NAME.test(n);
    if (spoofed.length > 0) {
      const kept = spoofed.filter((n) => !n.toLowerCase().startsWith('x-amzn-mtls-') && !p.strip.has(n.toLowerCase()) && !dropped(n));
      const fate = kept.length === 0 ? 'removed' : `forwarded as ALB does: ${kept.join(', ')} (--drop-invalid-header-fields drops names with _)`;
      spoofWarning?.(
        `${who} ${spoofed.join(', ')}, which ${spoofed.length === 1 ? 'reads' : 'read'} as an mTLS identity header once case and _/- are folded; ${fate}`,
      );
    }
    // X-Amzn-Tls-Version / -Cipher-Suite: replaced by the listener's own when the attribute is
    // on; with it off ALB adds none, and whether it strips a client's is UNCONFIRMED
    // (aws-reference 7.1): forwarded, and said so.
    if (tlsSpoofed.length > 0) {
      const kept = tlsSpoofed.filter((n) => !(p.tlsVersionAndCipherHeaders && n.toLowerCase().startsWith('x-amzn-tls-')) && !dropped(n));
      const fate =
        kept.length === 0
          ? 'removed'
          : `forwarded: ${kept.join(', ')}${p.tlsVersionAndCipherHeaders ? '' : ' (--tls-version-and-cipher-headers replaces them with the real ones)'}`;
      spoofWarning?.(`${who} ${tlsSpoofed.join(', ')}, which ${tlsSpoofed.length === 1 ? 'reads' : 'read'} as ALB's TLS version/cipher header; ${fate}`);
    }
  };

  const TRACE = 'x-amzn-trace-id';
  // Expect: 100-continue was answered by Node's server already; undici refuses to send it.
  // The client's X-Amzn-Tls-* are replaced by the listener's own when the attribute is on.
  const omitClientHeader = (lower: string): boolean => lower === 'expect' || (Boolean(p.tlsVersionAndCipherHeaders) && lower.startsWith('x-amzn-tls-'));

  // undici's callbacks, made once: the response they write to travels as the request's `opaque`.
  const onUpstreamHeaders: Dispatcher.StreamFactory<http.ServerResponse> = ({statusCode, headers: upHeaders, opaque: res}) => {
    res.writeHead(statusCode, flattenResponseHeaders(upHeaders));
    return res;
  };
  const onUpstreamDone = (error: Error | null, data: {opaque: http.ServerResponse} | undefined): void => {
    if (!error) return;
    p.onError?.(`target ${p.target.origin} failed: ${error.message}`);
    const res = data?.opaque;
    if (!res) return;
    // ALB answers 502 when the target cannot be reached.
    if (!res.headersSent) {
      res.writeHead(502, {'content-type': 'text/plain'});
      res.end('502 Bad Gateway: the target did not answer\n');
    } else {
      res.destroy();
    }
  };

  const forward = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const state = admittedState(states, req.socket as TLSSocket);
    if (!state) return;
    const listenerPort = state.peer.localPort;
    reportSpoofing(req.rawHeaders, state.peer, listenerPort);
    // A client's X-Amzn-Trace-Id is replaced by ALB's (its Root kept, a Self added).
    const trace = {name: TRACE, value: undefined as string | undefined};
    const headers = buildUpstreamHeaders({
      rawHeaders: req.rawHeaders,
      mtlsHeaders: state.mtlsHeaders,
      strip: p.strip,
      clientIp: state.peer.remoteAddress,
      listenerPort,
      dropInvalidHeaderFields: p.dropInvalidHeaderFields ?? false,
      omit: omitClientHeader,
      take: trace,
    });
    headers.push('X-Amzn-Trace-Id', traceHeader(state.mtlsTrace ?? trace.value));
    for (const [k, v] of state.tlsHeaders) headers.push(k, v);
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    if (!hasBody) req.resume();
    pool.stream(
      {method: (req.method ?? 'GET') as Dispatcher.HttpMethod, path: targetPath + (req.url ?? '/'), headers, body: hasBody ? req : null, opaque: res},
      onUpstreamHeaders,
      onUpstreamDone,
    );
  };

  forwardRequests(httpServer, forward, p.onError);
  await startHttpFrames<AlbVerdict, (typeof p.listeners)[number], RunningListener>(
    {host: p.host, listeners: p.listeners, running, ...(p.onError ? {onError: p.onError} : {}), describe: (l, port, url) => ({port, mode: l.mode, url})},
    {frames, pool},
    (l) => ({
      listenFlag: '--port / --listen',
      secureContext: () => context,
      judge: judge(l.mode),
      onVerdict,
      admit,
      onRefused,
    }),
  );
  return runningHttpListener(running, {frames, httpServer, pool});
}
