/**
 * `serve --listen PORT:cloudfront[:MODE]`: a local CloudFront edge with viewer mutual TLS
 * (aws-reference 11) in front of an origin.
 *
 * Accepting, TLS, the chain as presented and failing one connection are the listener
 * frame's (listener-frame.ts); what is CloudFront's is here: the viewer mTLS mode (required,
 * optional, passthrough: 11.3), the verdict with OCSP (lib/cloudfront/verify.ts, asked while
 * the connection waits), the connection-log record (lib/cloudfront/connection-log.ts, 11.7)
 * and the `CloudFront-Viewer-Cert-*` / `Client-Cert*` headers to the origin
 * (lib/cloudfront/headers.ts, 11.6). A refused viewer's socket is destroyed before the HTTP
 * parser sees a byte.
 */
import {constants as cryptoConstants, randomBytes} from 'node:crypto';
import http from 'node:http';
import {performance} from 'node:perf_hooks';
import tls, {type TLSSocket} from 'node:tls';
import {type Dispatcher, Pool} from 'undici';
import {buildUpstreamHeaders, findSpoofedHeaders, HOP_BY_HOP} from '../../lib/alb/proxy.js';
import {connectionLogRecord} from '../../lib/cloudfront/connection-log.js';
import {CLOUDFRONT_HEADERS, type CloudFrontMode, encodeCloudFrontHeaders} from '../../lib/cloudfront/headers.js';
import type {CloudFrontVerdict} from '../../lib/cloudfront/verify.js';
import type {ParsedCertificate} from '../../lib/x509/cert.js';
import {
  admittedState,
  forwardRequests,
  type PresentedConnection,
  type RefusedConnection,
  runningHttpListener,
  type RunningFrame,
  startHttpFrames,
} from './listener-frame.js';

export interface CloudFrontListenerSpec {
  port: number;
  mode: CloudFrontMode;
}

export interface CloudFrontEdgeParams {
  host: string;
  listeners: CloudFrontListenerSpec[];
  certPem: string;
  keyPem: string;
  /** CloudFront's verdict on a presented chain (path, then OCSP); never rejects for a bad chain. */
  judge: (chain: ParsedCertificate[]) => Promise<CloudFrontVerdict>;
  /** The origin (http: or https:). */
  target: URL;
  /** AdvertiseTrustStoreCaNames (aws-reference 11.2): the trust store's subjects as acceptable CA names. */
  advertiseCaPem?: string;
  /** Receives each connection-log record as one JSON line (no newline). */
  log: (line: string) => void;
  onError?: (message: string) => void;
  /** Told of every client header that reads as a CloudFront viewer-certificate header. */
  onSpoof?: (message: string) => void;
}

export interface RunningCloudFrontListener {
  port: number;
  mode: 'cloudfront';
  /** required, optional or passthrough. */
  viewerMtlsMode: CloudFrontMode;
  url: string;
}

/** The edge's verdict on one connection, with the headers its requests carry to the origin. */
interface EdgeVerdict {
  ok: boolean;
  status: string;
  headers: Array<[string, string]>;
}

/**
 * Client-sent headers under CloudFront's names are removed before the edge adds its own.
 * Whether CloudFront removes them is UNCONFIRMED (aws-reference 11.6); a local edge that
 * forwarded them would let any viewer claim a certificate.
 */
const STRIP = new Set(Object.values(CLOUDFRONT_HEADERS).map((n) => n.toLowerCase()));

/**
 * ALB's X-Forwarded-Proto / -Port are not CloudFront's (it adds X-Forwarded-For, aws-reference
 * 11.6 note): they are removed from what buildUpstreamHeaders gives.
 */
const NOT_CLOUDFRONT = new Set(['x-forwarded-proto', 'x-forwarded-port']);

const safe = <T>(f: () => T, fallback: T): T => {
  try {
    return f();
  } catch {
    return fallback;
  }
};

/**
 * Starts the CloudFront listeners. A connection is judged once after its handshake (OCSP
 * asked meanwhile, answers cached as CloudFront does), its headers computed once and reused
 * for every request on it.
 * @throws MtlsKitError PORT_IN_USE (exit 4) naming the port.
 */
export async function startCloudFrontEdge(p: CloudFrontEdgeParams): Promise<{
  listeners: RunningCloudFrontListener[];
  stats(): {connections: number; tappedBytes: number; work: number};
  close(): Promise<void>;
}> {
  const pool = new Pool(p.target.origin, {connections: 64, keepAliveTimeout: 60_000});
  const targetPath = p.target.pathname === '/' ? '' : p.target.pathname.replace(/\/$/, '');
  const states = new WeakMap<TLSSocket, {peer: PresentedConnection['peer']; headers: Array<[string, string]>}>();
  const httpServer = http.createServer({keepAlive: true});
  const context = tls.createSecureContext({
    cert: p.certPem,
    key: p.keyPem,
    ...(p.advertiseCaPem ? {ca: p.advertiseCaPem} : {}),
    // Every connection is judged on a full handshake; no renegotiation (as the ALB listener).
    secureOptions: cryptoConstants.SSL_OP_NO_TICKET | cryptoConstants.SSL_OP_NO_RENEGOTIATION,
  });

  // A verdict whose OCSP answer arrives after close() is not logged: the log may be closed by then.
  let closed = false;
  const record = (c: {socket: TLSSocket; peer: PresentedConnection['peer']}, status: string, handshakeMs: number | null, leaf?: ParsedCertificate): void => {
    if (closed) return;
    const cipher = safe(() => c.socket.getCipher(), undefined);
    const r = connectionLogRecord({
      at: performance.timeOrigin + performance.now(),
      connectionIdBytes: randomBytes(40),
      status,
      clientIp: c.peer.remoteAddress,
      clientPort: c.peer.remotePort,
      serverIp: c.peer.localAddress,
      tlsProtocol: safe(() => c.socket.getProtocol(), null),
      tlsCipher: cipher?.standardName ?? cipher?.name ?? null,
      handshakeMs,
      sni: safe(() => (c.socket as TLSSocket & {servername?: string | false}).servername || null, null),
      leaf,
    });
    p.log(JSON.stringify(r));
  };

  const judge =
    (mode: CloudFrontMode) =>
    async (c: PresentedConnection): Promise<EdgeVerdict> => {
      if (c.chain === null) return {ok: false, status: 'Failed:ClientCertInvalid', headers: []};
      // Passthrough: the origin validates; CloudFront forwards what was presented (aws-reference 11.3).
      // A viewer without a certificate is let through with Present: 0 (UNCONFIRMED, as ALB's passthrough).
      if (mode === 'passthrough') return {ok: true, status: 'Success', headers: encodeCloudFrontHeaders(c.chain, {mode})};
      // Optional: a viewer without a certificate is allowed (11.3).
      if (c.chain.length === 0 && mode === 'optional') return {ok: true, status: 'Success', headers: encodeCloudFrontHeaders([], {mode})};
      const v = await p.judge(c.chain);
      return {ok: v.code === null, status: v.status, headers: v.code === null ? encodeCloudFrontHeaders(c.chain, {mode}) : []};
    };

  const onVerdict = (c: PresentedConnection, v: EdgeVerdict): void => record(c, v.status, c.handshakeMs, c.chain?.[0]);

  const admit = (c: PresentedConnection, v: EdgeVerdict): void => {
    states.set(c.socket, {peer: c.peer, headers: v.headers});
    httpServer.emit('connection', c.socket);
  };

  const onRefused = (r: RefusedConnection): void => {
    p.onError?.(`viewer ${r.peer.remoteAddress}:${r.peer.remotePort} on port ${r.listenerPort} refused: ${r.reason}`);
    if (r.kind !== 'handshake') record(r, r.kind === 'internal' ? 'Failed:Internal' : 'Failed:ClientCertInvalid', null);
  };

  const forward = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const state = admittedState(states, req.socket as TLSSocket);
    if (!state) return;
    const spoofed = findSpoofedHeaders(req.rawHeaders, STRIP);
    if (spoofed.length > 0)
      (p.onSpoof ?? p.onError)?.(
        `spoofing attempt: viewer ${state.peer.remoteAddress}:${state.peer.remotePort} sent ${spoofed.join(', ')}, which read as CloudFront viewer-certificate headers once case and _/- are folded; the exact names are removed, look-alikes forwarded`,
      );
    const headers = buildUpstreamHeaders({
      rawHeaders: req.rawHeaders,
      mtlsHeaders: state.headers,
      strip: STRIP,
      clientIp: state.peer.remoteAddress,
      listenerPort: state.peer.localPort,
    });
    for (let i = headers.length - 2; i >= 0; i -= 2) {
      const name = headers[i]!.toLowerCase();
      if (NOT_CLOUDFRONT.has(name) || name === 'expect') headers.splice(i, 2);
    }
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    if (!hasBody) req.resume();
    pool.stream(
      {method: (req.method ?? 'GET') as Dispatcher.HttpMethod, path: targetPath + (req.url ?? '/'), headers, body: hasBody ? req : null},
      ({statusCode, headers: up}) => {
        const out: http.OutgoingHttpHeaders = {};
        for (const k in up) if (!HOP_BY_HOP.has(k) && up[k] !== undefined) out[k] = up[k];
        res.writeHead(statusCode, out);
        return res;
      },
      (error) => {
        if (!error) return;
        p.onError?.(`origin ${p.target.origin} failed: ${error.message}`);
        // CloudFront answers 502 when it cannot reach the origin.
        if (!res.headersSent) {
          res.writeHead(502, {'content-type': 'text/plain'});
          res.end('502 Bad Gateway: the origin did not answer\n');
        } else res.destroy();
      },
    );
  };
  forwardRequests(httpServer, forward, p.onError);
  const frames: RunningFrame[] = [];
  const running: RunningCloudFrontListener[] = [];
  await startHttpFrames<EdgeVerdict, (typeof p.listeners)[number], RunningCloudFrontListener>(
    {
      host: p.host,
      listeners: p.listeners,
      running,
      ...(p.onError ? {onError: p.onError} : {}),
      describe: (l, port, url) => ({port, mode: 'cloudfront', viewerMtlsMode: l.mode, url}),
    },
    {frames, pool},
    (l) => ({
      listenFlag: '--listen PORT:cloudfront',
      secureContext: () => context,
      judge: judge(l.mode),
      onVerdict,
      admit,
      onRefused,
    }),
  );
  const handle = runningHttpListener(running, {frames, httpServer, pool});
  return {
    ...handle,
    async close() {
      closed = true;
      await handle.close();
    },
  };
}
