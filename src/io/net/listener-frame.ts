/**
 * The one listener frame of `serve` (ALB verify and passthrough, NLB, API Gateway): accepts
 * each TCP connection, runs Node's TLS (OpenSSL) over it, reads the client's certificate
 * chain exactly as presented from the bytes of THAT connection, judges it through the
 * product's policy function, logs, and hands an admitted connection to the product (HTTP
 * forwarding, a TCP pipe). One client never ends the server: whatever throws while
 * judging, logging or admitting one connection ends that connection only, with its reason.
 *
 * Binding: the TLS socket is created here over the relay of its own TCP connection, and the
 * reader of that relay (lib/tls/client-flight.ts) is the only source of the chain judged;
 * the TLS server's keylog lines arrive on that same TLS socket, and the client random they
 * name must be the one this connection's ClientHello carried. Nothing is looked up by a
 * value the client chooses. When the chain cannot be read exactly the connection is
 * refused with the reason; Node's re-linked chain (getPeerCertificate) is never used.
 *
 * Once the client's handshake flight is read, the reader stops looking at the bytes.
 */
import type http from 'node:http';
import net, {type AddressInfo} from 'node:net';
import {performance} from 'node:perf_hooks';
import tls, {type SecureContext, type TLSSocket} from 'node:tls';
import {preconditionError} from '../../lib/errors.js';
import {ClientFlightReader} from '../../lib/tls/client-flight.js';
import {TLS13_SUITE_IDS} from '../../lib/tls/handshake.js';
import {ServerFlightReader} from '../../lib/tls/server-flight.js';
import {parseCertificate, type ParsedCertificate} from '../../lib/x509/cert.js';
import {SocketRelay} from './socket-relay.js';

/**
 * How long a client has to finish its handshake. ALB and API Gateway document no handshake
 * timeout; Node's TLS server default is 120 s. 10 s is our choice (docs/aws-reference.md 7).
 */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** A connection's address, as the raw TCP socket knows it. */
export interface PeerAddress {
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
}

/** A connection whose handshake is complete and whose presented chain was read. */
export interface PresentedConnection {
  listenerPort: number;
  peer: PeerAddress;
  socket: TLSSocket;
  /** performance.now() at accept, and the handshake's duration in ms. */
  acceptedAt: number;
  handshakeMs: number;
  /** The chain as the client presented it (DER, leaf first; empty: no certificate). */
  chainDer: Uint8Array[];
  /** The same, parsed; null when a certificate does not parse (ALB: ClientCertInvalid). */
  chain: ParsedCertificate[] | null;
  /** The ClientHello's random, hex (the one the TLS transcript used). */
  clientRandom: string;
  protocol: string;
  /** OpenSSL's and the standard cipher suite name. */
  cipher: {name: string; standardName: string};
  /** The key-exchange group, s2n-tls's name (`x25519`, `X25519MLKEM768`, ...), or `-` (lib/tls/server-flight.ts). */
  keyExchange: string;
}

/** A connection that ended before it could be judged, and why. */
export interface RefusedConnection {
  listenerPort: number;
  peer: PeerAddress;
  socket: TLSSocket;
  acceptedAt: number;
  /** One line: why. */
  reason: string;
  /** `chain`: the presented chain could not be read exactly; `handshake`: TLS failed or timed out; `internal`: our bug, isolated. */
  kind: 'chain' | 'handshake' | 'internal';
  /** The OpenSSL error code of a failed handshake (ERR_SSL_...), when there is one. */
  code?: string;
  /** The key-exchange group, when the server had chosen one before the connection ended. */
  keyExchange?: string;
}

/** The verdict of a product's policy; `ok: false` closes the connection before any application byte. */
export interface FrameVerdict {
  ok: boolean;
}

export interface ListenerFrameParams<V extends FrameVerdict> {
  host: string;
  ports: number[];
  /** Words for the PORT_IN_USE fix: `--listen PORT:nlb`, ... */
  listenFlag: string;
  /** The TLS context for the next connection (read per connection, so a reload applies to the next handshake). */
  secureContext: () => SecureContext;
  /** Fail the handshake when the client sends no certificate (API Gateway); default false. */
  requireCertificate?: boolean;
  /** Keep half-open TCP connections (a TCP pipe); default false. */
  allowHalfOpen?: boolean;
  /**
   * The product's policy: judges the presented chain; a promise when it must ask someone
   * (CloudFront's OCSP). May throw or reject (the connection is then refused, kind `internal`).
   */
  judge: (c: PresentedConnection) => V | Promise<V>;
  /** Logs the verdict (both outcomes), before the connection is closed or admitted. */
  onVerdict: (c: PresentedConnection, v: V) => void;
  /** Takes an admitted connection (HTTP, pipe). */
  admit: (c: PresentedConnection, v: V) => void;
  /** Logs a connection refused before it could be judged. Plain TCP connections that send nothing (health checks) are not reported. */
  onRefused: (r: RefusedConnection) => void;
  /** Last resort for errors inside the callbacks above (never ends the server). */
  onError?: (message: string) => void;
}

export interface RunningFrame {
  ports: number[];
  /** Counters over all connections: bytes the readers looked at and their work units. */
  stats(): {connections: number; tappedBytes: number; work: number};
  /** Stops accepting and destroys every open connection. */
  close(): Promise<void>;
}

/** The relay of one connection, feeding its readers until the client's flight and the server's key exchange are read. */
class ObservedRelay extends SocketRelay {
  readonly server = new ServerFlightReader();
  constructor(
    raw: net.Socket,
    readonly reader: ClientFlightReader,
    private readonly onRefuse: () => void,
    allowHalfOpen: boolean,
    private readonly totals: {tappedBytes: number; work: number},
  ) {
    super(raw, {allowHalfOpen});
  }

  protected override onChunk(chunk: Buffer): void {
    if (this.reader.state !== 'reading') return;
    const {bytes, work} = this.reader;
    this.reader.push(chunk);
    this.totals.tappedBytes += this.reader.bytes - bytes;
    this.totals.work += this.reader.work - work;
    if ((this.reader.state as string) === 'refused') this.onRefuse();
  }

  protected override onWrite(chunk: Buffer): void {
    if (this.server.keyExchange === undefined) this.server.push(chunk);
  }
}

const safely = (f: () => void, onError: ((m: string) => void) | undefined, what: string): void => {
  try {
    f();
  } catch (error) {
    try {
      onError?.(`${what}: ${(error as Error)?.message ?? String(error)}`);
    } catch {
      /* nothing left to tell */
    }
  }
};

/** An OpenSSL error in words: `peer did not return a certificate (ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE)`. */
function describeTlsError(error: NodeJS.ErrnoException): string {
  const code = error.code ?? '';
  if (code.startsWith('ERR_SSL_')) return `${code.slice(8).toLowerCase().replace(/_/g, ' ')} (${code})`;
  return code || error.message;
}

/**
 * Starts one TCP server per port with the frame around each connection.
 * @throws MtlsKitError PORT_IN_USE (exit 4) naming the port.
 */
export async function startListenerFrame<V extends FrameVerdict>(p: ListenerFrameParams<V>): Promise<RunningFrame> {
  const servers: net.Server[] = [];
  const open = new Set<net.Socket>();
  const totals = {connections: 0, tappedBytes: 0, work: 0};

  const accept = (listenerPort: number, raw: net.Socket): void => {
    const acceptedAt = performance.now();
    totals.connections++;
    open.add(raw);
    raw.once('close', () => open.delete(raw));
    raw.on('error', () => undefined);
    const peer: PeerAddress = {
      remoteAddress: raw.remoteAddress ?? '-',
      remotePort: raw.remotePort ?? 0,
      localAddress: raw.localAddress ?? '-',
      localPort: raw.localPort ?? listenerPort,
    };
    const reader = new ClientFlightReader();
    let ended = false;
    let socket: TLSSocket;
    const refuse = (kind: RefusedConnection['kind'], reason: string, code?: string): void => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      const keyExchange = relay.server.keyExchange;
      safely(
        () => p.onRefused({listenerPort, peer, socket, acceptedAt, reason, kind, ...(code ? {code} : {}), ...(keyExchange ? {keyExchange} : {})}),
        p.onError,
        'logging a refused connection',
      );
      socket.destroy();
      raw.destroy();
    };
    const relay = new ObservedRelay(raw, reader, () => refuse('chain', reader.reason ?? 'the chain cannot be read'), p.allowHalfOpen ?? false, totals);
    socket = new tls.TLSSocket(relay, {
      isServer: true,
      secureContext: p.secureContext(),
      requestCert: true,
      // Node's OpenSSL accepts any certificate (the verdict is the policy's); with this on,
      // a client that sends none fails the handshake (certificate_required).
      rejectUnauthorized: p.requireCertificate ?? false,
    });
    const timer = setTimeout(() => refuse('handshake', `the handshake did not complete within ${HANDSHAKE_TIMEOUT_MS / 1000} s`), HANDSHAKE_TIMEOUT_MS);
    timer.unref();
    let secret: Buffer | null = null;
    let transcriptRandom: string | null = null;
    const keyReader = (): void => {
      const suite = TLS13_SUITE_IDS[socket.getCipher()?.standardName ?? ''];
      const work = reader.work;
      if (secret && suite !== undefined) reader.setTls13Key(suite, secret);
      totals.work += reader.work - work;
    };
    socket.on('keylog', (line: Buffer) => {
      if (ended) return;
      const [label, random, hex] = line.toString('latin1').trim().split(' ');
      if (!label || !random || !hex) return;
      // The transcript's client random must be the one this connection's ClientHello carried.
      // The ClientHello passed through this connection's reader before TLS saw it.
      if (random !== reader.clientRandom) {
        refuse('chain', "the TLS transcript's client random is not the one this connection sent");
        return;
      }
      transcriptRandom ??= random;
      if (label === 'CLIENT_HANDSHAKE_TRAFFIC_SECRET') {
        secret = Buffer.from(hex, 'hex');
        safely(keyReader, p.onError, 'reading the handshake key');
        if ((reader.state as string) === 'refused') refuse('chain', reader.reason ?? 'the chain cannot be read');
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (ended) return;
      // A plain TCP connection that sent nothing and left (a health check) is not a failed handshake.
      if (reader.bytes === 0) {
        ended = true;
        clearTimeout(timer);
        raw.destroy();
        return;
      }
      // After the handshake, errors are the product's (a client that resets, ...).
      if (!secured) refuse('handshake', describeTlsError(error), error.code);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (!ended && !secured) {
        ended = true;
        if (reader.bytes > 0 && reader.state === 'refused')
          safely(() => p.onRefused({listenerPort, peer, socket, acceptedAt, reason: reader.reason!, kind: 'chain'}), p.onError, 'logging');
      }
    });
    let secured = false;
    const internal = (error: unknown): void => {
      ended = false;
      refuse('internal', `internal error, this connection only: ${(error as Error)?.message ?? String(error)}`);
    };
    socket.once('secure', () => {
      secured = true;
      if (ended) return;
      clearTimeout(timer);
      try {
        if (reader.state === 'reading' && socket.getProtocol() === 'TLSv1.3') keyReader();
        const protocol = socket.getProtocol();
        const result = reader.finish(protocol);
        if (!result.ok) {
          refuse('chain', result.reason);
          return;
        }
        if (transcriptRandom !== result.clientRandom) {
          refuse('chain', "the TLS transcript's client random is not the one this connection sent");
          return;
        }
        let chain: ParsedCertificate[] | null;
        try {
          chain = result.chain.map((d) => parseCertificate(d));
        } catch {
          chain = null;
        }
        const cipher = socket.getCipher();
        const conn: PresentedConnection = {
          listenerPort,
          peer,
          socket,
          acceptedAt,
          handshakeMs: performance.now() - acceptedAt,
          // Copies: the reader's buffers are gone, the chain is kept.
          chainDer: result.chain.map((c) => new Uint8Array(c)),
          chain,
          clientRandom: result.clientRandom,
          protocol: protocol ?? '-',
          cipher: {name: cipher?.name ?? '-', standardName: cipher?.standardName ?? '-'},
          keyExchange: relay.server.keyExchange ?? '-',
        };
        const decide = (verdict: V): void => {
          ended = true;
          p.onVerdict(conn, verdict);
          // A client that left while an asynchronous judge waited is not admitted either.
          if (!verdict.ok || socket.destroyed) {
            // Before any application byte: the client sees the connection end (aws-reference 1.1).
            socket.destroy();
            raw.destroy();
            return;
          }
          p.admit(conn, verdict);
        };
        const verdict = p.judge(conn);
        if (verdict instanceof Promise) verdict.then(decide).catch(internal);
        else decide(verdict);
      } catch (error) {
        internal(error);
      }
    });
  };

  const ports: number[] = [];
  for (const wanted of p.ports) {
    // noDelay: as Node's own HTTP server and nginx (tcp_nodelay) do; the TCP server here
    // gets none of the HTTP server's socket settings, so Nagle's algorithm was on.
    const server = net.createServer({allowHalfOpen: p.allowHalfOpen ?? false, noDelay: true}, (raw) => {
      try {
        accept(ports[servers.indexOf(server)] ?? wanted, raw);
      } catch (error) {
        raw.destroy();
        safely(() => p.onError?.(`connection from ${raw.remoteAddress ?? '?'} ended: ${(error as Error).message}`), undefined, '');
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        reject(
          error.code === 'EADDRINUSE'
            ? preconditionError('PORT_IN_USE', `port ${wanted} on ${p.host} is already in use`, [
                `choose another ${p.listenFlag}, or stop what is listening there`,
              ])
            : error,
        );
      });
      server.listen(wanted, p.host, () => resolve());
    }).catch(async (error) => {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      throw error;
    });
    server.on('error', (error) => p.onError?.(`listener on port ${wanted}: ${error.message}`));
    servers.push(server);
    ports.push((server.address() as AddressInfo).port);
  }

  return {
    ports,
    stats: () => ({...totals}),
    async close() {
      const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      for (const s of open) s.destroy();
      await closed;
    },
  };
}

/**
 * The product's state of an admitted connection; a socket without one (never admitted)
 * is destroyed, so no request is served on a connection the frame did not judge.
 */
export function admittedState<T>(states: WeakMap<TLSSocket, T>, socket: TLSSocket): T | undefined {
  const state = states.get(socket);
  if (!state) socket.destroy();
  return state;
}

/** The counters of several frames, added up. */
export function sumFrameStats(frames: RunningFrame[]): {connections: number; tappedBytes: number; work: number} {
  const t = {connections: 0, tappedBytes: 0, work: 0};
  for (const f of frames) {
    const x = f.stats();
    t.connections += x.connections;
    t.tappedBytes += x.tappedBytes;
    t.work += x.work;
  }
  return t;
}

/**
 * What the HTTP listeners (ALB, API Gateway) hold beside their frames: the HTTP server that
 * parses requests on admitted sockets (it never listens itself) and the upstream pool.
 */
export interface HttpListenerParts {
  frames: RunningFrame[];
  httpServer: {closeAllConnections(): void};
  pool: {close(): Promise<unknown>};
}

/**
 * Starts one frame per listener of an HTTP listener (ALB, API Gateway, CloudFront), in order:
 * each frame goes to `parts.frames` and what `describe` says of it (given its port and URL)
 * to `running`. A start that fails part way closes the frames already started and the pool,
 * then rethrows.
 */
export async function startHttpFrames<V extends FrameVerdict, L extends {port: number}, R>(
  p: {host: string; listeners: readonly L[]; running: R[]; describe: (l: L, port: number, url: string) => R; onError?: (message: string) => void},
  parts: Omit<HttpListenerParts, 'httpServer'>,
  frameParams: (l: L) => Omit<ListenerFrameParams<V>, 'host' | 'ports' | 'onError'>,
): Promise<void> {
  const hostForUrl = p.host.includes(':') ? `[${p.host}]` : p.host;
  try {
    for (const l of p.listeners) {
      const frame = await startListenerFrame<V>({host: p.host, ports: [l.port], ...frameParams(l), ...(p.onError ? {onError: p.onError} : {})});
      parts.frames.push(frame);
      const port = frame.ports[0]!;
      p.running.push(p.describe(l, port, `https://${hostForUrl}:${port}/`));
    }
  } catch (error) {
    await closeStartedFrames(parts);
    throw error;
  }
}

/** Requests on admitted sockets go to `forward`; one request's failure ends that connection only. */
export function forwardRequests(
  httpServer: http.Server,
  forward: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  onError: ((message: string) => void) | undefined,
): void {
  httpServer.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    try {
      forward(req, res);
    } catch (error) {
      onError?.(`request ${req.method} ${req.url} failed: ${(error as Error)?.message ?? String(error)}`);
      req.socket.destroy();
    }
  });
}

/** Undoes a start that failed part way: closes the frames already started, then the pool. */
export async function closeStartedFrames(parts: Omit<HttpListenerParts, 'httpServer'>): Promise<void> {
  await Promise.all(parts.frames.map((f) => f.close()));
  await parts.pool.close();
}

/**
 * The running handle of an HTTP listener: stats summed over its frames; close() drops the
 * open HTTP connections, then closes the frames and the pool, then `closeAlso` (the authorizer).
 */
export function runningHttpListener<L>(
  listeners: L[],
  parts: HttpListenerParts,
  closeAlso?: () => Promise<unknown>,
): {listeners: L[]; stats: () => ReturnType<typeof sumFrameStats>; close(): Promise<void>} {
  return {
    listeners,
    stats: () => sumFrameStats(parts.frames),
    async close() {
      parts.httpServer.closeAllConnections();
      await closeStartedFrames(parts);
      await closeAlso?.();
    },
  };
}
