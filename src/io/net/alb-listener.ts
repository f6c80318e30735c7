/**
 * The sockets of `mtls-kit serve`: HTTPS listeners that behave like an ALB mTLS listener
 * (aws-reference 1.1) in front of a target.
 *
 * TLS is Node's (OpenSSL) with `requestCert: true, rejectUnauthorized: false`: OpenSSL asks
 * for a client certificate but accepts whatever comes, and the verdict is ours, made right
 * after the handshake by the injected judge (verifyChain in the command). A rejected client
 * gets its TLS socket destroyed in 'secureConnection', before the HTTP parser sees a byte,
 * so no HTTP response is ever sent and curl exits non-zero, as with ALB.
 */
import {randomBytes} from 'node:crypto';
import type http from 'node:http';
import https from 'node:https';
import type {AddressInfo, Server} from 'node:net';
import {performance} from 'node:perf_hooks';
import {constants as cryptoConstants} from 'node:crypto';
import type {TLSSocket} from 'node:tls';
import {type Dispatcher, Pool} from 'undici';
import {
  buildUpstreamHeaders,
  findSpoofedHeaders,
  formatTraceId,
  HOP_BY_HOP,
  VALID_HEADER_NAME,
  type ListenerMode,
  type ListenerSpec,
} from '../../lib/alb/proxy.js';
import {parseCertificate, type ParsedCertificate} from '../../lib/x509/cert.js';
import {type ConnectionLogEntry, formatConnectionLogLine, formatHandshakeLatency, formatLogTimestamp} from '../../lib/alb/connection-log.js';
import {formatRfc2253} from '../../lib/x509/dn.js';
import {preconditionError} from '../../lib/errors.js';
import {formatAlbValidity} from '../../lib/x509/validity.js';
import {type PeerAddress, presentedChain, TapRegistry, tapTlsServer, type TappedListener} from './tls-tap.js';

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
  /** Told of every client header that folds into an mTLS or identity header (spoofing attempt). */
  onSpoof?: (message: string) => void;
  /** Where requests go (http: or https:); required. */
  target: URL;
  /**
   * AdvertiseTrustStoreCaNames on (aws-reference 1.9): the trust store's certificates, whose
   * subjects OpenSSL then sends as the acceptable CA names of the CertificateRequest.
   */
  advertiseCaPem?: string;
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
  /** Stops accepting, ends open connections, resolves when every socket is closed. */
  close(): Promise<void>;
}

interface ConnState {
  startMs: number;
  peer: PeerAddress;
  mtlsHeaders: Array<[string, string]>;
}

/**
 * Node's re-linked view of the peer chain (kept for callers that do not tap their
 * connections). The chain exactly as presented needs tapTlsServer and presentedChain
 * (tls-tap.ts), as startAlbServer does.
 */
export {rebuiltChainDer as presentedChainDer} from './tls-tap.js';

/** undici's response headers (lower-case object) minus hop-by-hop ones, for writeHead. */
function flattenResponseHeaders(h: Record<string, string | string[] | undefined>): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const k in h) if (!HOP_BY_HOP.has(k) && h[k] !== undefined) out[k] = h[k];
  return out;
}

/** Parses presented DER; null when any certificate is not parseable (ALB: ClientCertInvalid). */
function parseChain(der: Uint8Array[]): ParsedCertificate[] | null {
  try {
    return der.map((d) => parseCertificate(d));
  } catch {
    return null;
  }
}

const safe = <T>(f: () => T, fallback: T): T => {
  try {
    return f();
  } catch {
    return fallback;
  }
};

/**
 * Starts the listeners. Each one is an https.Server; a connection is judged once, after
 * its handshake, and its mTLS headers computed once, then reused for every request on it
 * (keep-alive).
 * @throws MtlsKitError PORT_IN_USE (exit 4) naming the port.
 */
export async function startAlbServer(p: AlbServerParams): Promise<RunningAlbServer> {
  // undici's pool: keep-alive connections to the target, and about half the CPU per
  // proxied request of http.request with an Agent (measured in bench/serve.ts).
  const pool = new Pool(p.target.origin, {connections: 256, keepAliveTimeout: 60_000});
  const targetPath = p.target.pathname === '/' ? '' : p.target.pathname.replace(/\/$/, '');
  const elb = 'app/mtls-kit-serve/local';
  const servers: Array<{https: https.Server; net: Server; tapped: TappedListener}> = [];
  const running: RunningListener[] = [];
  const states = new WeakMap<TLSSocket, ConnState>();

  const logConnection = (
    socket: TLSSocket,
    peer: PeerAddress,
    listenerPort: number,
    leaf: ParsedCertificate | undefined,
    status: string,
    latencyMs: number | null,
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
      connTraceId: formatTraceId(randomBytes(16)),
      // Node cannot tell a server which group the key exchange used (getEphemeralKeyInfo
      // is client-only), so the field stays `-`.
      tlsKeyExchange: '-',
      elb,
      ipAddress: peer.localAddress,
      extra: [],
    };
    p.log(formatConnectionLogLine(entry));
  };

  // One registry for every listener: it links each TLS socket to the tap of its TCP
  // connection (the presented chain, the client's address).
  const registry = new TapRegistry();
  const peerOf = (socket: TLSSocket): PeerAddress =>
    registry.tapOf(socket)?.peer ?? {
      remoteAddress: socket.remoteAddress ?? '-',
      remotePort: socket.remotePort ?? 0,
      localAddress: socket.localAddress ?? '-',
      localPort: socket.localPort ?? 0,
    };

  // A server never dies because of one client: whatever throws while judging, encoding or
  // logging a connection ends that connection only, with the reason logged.
  const failConnection = (socket: TLSSocket, listenerPort: number, error: unknown): void => {
    const peer = safe(() => peerOf(socket), {remoteAddress: '-', remotePort: 0, localAddress: '-', localPort: 0});
    safe(
      () => p.onError?.(`client ${peer.remoteAddress}:${peer.remotePort} on port ${listenerPort} refused: ${(error as Error)?.message ?? String(error)}`),
      undefined,
    );
    safe(() => logConnection(socket, peer, listenerPort, undefined, 'Failed:ClientCertInvalid', null), undefined);
    socket.destroy();
  };

  const onSecure =
    (mode: ListenerMode, listenerPort: number) =>
    (socket: TLSSocket): void => {
      try {
        judgeConnection(mode, listenerPort, socket);
      } catch (error) {
        failConnection(socket, listenerPort, error);
      }
    };

  const judgeConnection = (mode: ListenerMode, listenerPort: number, socket: TLSSocket): void => {
    const tap = registry.tapOf(socket);
    const startMs = tap?.acceptedAt ?? performance.now();
    const peer = peerOf(socket);
    const latencyMs = performance.now() - startMs;
    // As presented on the wire: duplicates, unrelated certificates and order kept (tls-tap.ts).
    const {der} = presentedChain(socket, tap);
    const chain = parseChain(der);
    const leaf = chain?.[0];
    let mtlsHeaders: Array<[string, string]> = [];
    if (mode === 'verify') {
      const verdict: ChainVerdict = chain === null ? {status: 'Failed:ClientCertInvalid', ok: false} : p.judge(chain);
      if (!verdict.ok) {
        logConnection(socket, peer, listenerPort, leaf, verdict.status, null);
        // Before any HTTP byte: the client sees the connection drop, as with ALB (aws-reference 1.1).
        socket.destroy();
        return;
      }
      mtlsHeaders = p.verifyHeaders(leaf!);
    } else if (der.length > 0) {
      mtlsHeaders = [p.passthroughHeader(der)];
    }
    // Passthrough: ALB does not verify, so the connection is logged as Success (what ALB
    // writes there is UNCONFIRMED, aws-reference 7.3); no certificate is accepted too (7.2).
    logConnection(socket, peer, listenerPort, leaf, 'Success', latencyMs);
    states.set(socket, {startMs, peer, mtlsHeaders});
  };

  const onRequest =
    (listenerPort: number) =>
    (req: http.IncomingMessage, res: http.ServerResponse): void => {
      try {
        forward(listenerPort, req, res);
      } catch (error) {
        failConnection(req.socket as TLSSocket, listenerPort, error);
      }
    };

  const forward = (listenerPort: number, req: http.IncomingMessage, res: http.ServerResponse): void => {
    const socket = req.socket as TLSSocket;
    const state = states.get(socket);
    if (!state) {
      socket.destroy();
      return;
    }
    const spoofed = findSpoofedHeaders(req.rawHeaders, p.strip);
    if (spoofed.length > 0) {
      const kept = spoofed.filter(
        (n) => !n.toLowerCase().startsWith('x-amzn-mtls-') && !p.strip.has(n.toLowerCase()) && !(p.dropInvalidHeaderFields && !VALID_HEADER_NAME.test(n)),
      );
      const fate = kept.length === 0 ? 'removed' : `forwarded as ALB does: ${kept.join(', ')} (--drop-invalid-header-fields drops names with _)`;
      (p.onSpoof ?? p.onError)?.(
        `spoofing attempt: client ${state.peer.remoteAddress}:${state.peer.remotePort} on port ${listenerPort} sent ${spoofed.join(', ')}, which ${spoofed.length === 1 ? 'reads' : 'read'} as an mTLS identity header once case and _/- are folded; ${fate}`,
      );
    }
    const headers = buildUpstreamHeaders({
      rawHeaders: req.rawHeaders,
      mtlsHeaders: state.mtlsHeaders,
      strip: p.strip,
      clientIp: state.peer.remoteAddress,
      listenerPort,
      dropInvalidHeaderFields: p.dropInvalidHeaderFields ?? false,
    });
    // Expect: 100-continue was answered by Node's server already; undici refuses to send it.
    for (let i = headers.length - 2; i >= 0; i -= 2) if (headers[i]!.toLowerCase() === 'expect') headers.splice(i, 2);
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    if (!hasBody) req.resume();
    pool.stream(
      {method: (req.method ?? 'GET') as Dispatcher.HttpMethod, path: targetPath + (req.url ?? '/'), headers, body: hasBody ? req : null},
      ({statusCode, headers: upHeaders}) => {
        res.writeHead(statusCode, flattenResponseHeaders(upHeaders));
        return res;
      },
      (error) => {
        if (!error) return;
        p.onError?.(`target ${p.target.origin} failed: ${error.message}`);
        // ALB answers 502 when the target cannot be reached.
        if (!res.headersSent) {
          res.writeHead(502, {'content-type': 'text/plain'});
          res.end('502 Bad Gateway: the target did not answer\n');
        } else {
          res.destroy();
        }
      },
    );
  };

  for (const l of p.listeners) {
    const server = https.createServer({
      cert: p.certPem,
      key: p.keyPem,
      requestCert: true,
      rejectUnauthorized: false,
      // Node gives `ca` to OpenSSL as the client CA list; the verdict stays the judge's.
      ...(p.advertiseCaPem ? {ca: p.advertiseCaPem} : {}),
      // ALB does not resume sessions in verify or passthrough mode (aws-reference 1.1): every
      // connection is judged on a full handshake. Node keeps no server session cache.
      // ALB's TLS server (s2n-tls) never renegotiates: a TLS 1.2 client's renegotiation
      // ClientHello is refused (OpenSSL answers no_renegotiation), so no second, unjudged
      // handshake can happen on a judged connection.
      secureOptions: cryptoConstants.SSL_OP_NO_TICKET | cryptoConstants.SSL_OP_NO_RENEGOTIATION,
      // ALB's default idle timeout is 60 s.
      keepAliveTimeout: 60_000,
    });
    // Connections arrive through a tap that keeps the client's handshake bytes, to read the
    // chain exactly as presented (tls-tap.ts).
    const tapped = tapTlsServer(server, registry, () => performance.now());
    server.on('tlsClientError', () => {
      /* handshake failures are the client's; nothing to log beyond ALB's own behaviour */
    });
    await new Promise<void>((resolve, reject) => {
      tapped.netServer.once('error', (error: NodeJS.ErrnoException) => {
        reject(
          error.code === 'EADDRINUSE'
            ? preconditionError('PORT_IN_USE', `port ${l.port} on ${p.host} is already in use`, [
                'choose another --port / --listen, or stop what is listening there',
              ])
            : error,
        );
      });
      tapped.netServer.listen(l.port, p.host, () => resolve());
    }).catch(async (error) => {
      await Promise.all(servers.map((s) => new Promise((r) => s.net.close(r))));
      throw error;
    });
    const port = (tapped.netServer.address() as AddressInfo).port;
    server.on('secureConnection', onSecure(l.mode, port));
    server.on('request', onRequest(port));
    servers.push({https: server, net: tapped.netServer, tapped});
    const hostForUrl = p.host.includes(':') ? `[${p.host}]` : p.host;
    running.push({port, mode: l.mode, url: `https://${hostForUrl}:${port}/`});
  }

  return {
    listeners: running,
    async close() {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.net.close(() => resolve());
              s.https.closeAllConnections();
              s.tapped.destroyAll();
            }),
        ),
      );
      await pool.close();
    },
  };
}
