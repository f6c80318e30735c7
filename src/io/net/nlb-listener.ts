/**
 * The sockets of `mtls-kit serve --listen PORT:nlb`: TLS listeners that behave like an NLB
 * TLS listener with mutual TLS in verify mode (aws-reference 9) in front of a TCP target.
 *
 * TLS is Node's (OpenSSL) with `requestCert: true, rejectUnauthorized: false`; the verdict
 * is ours (trust store, identity filters, revocation: lib/nlb/identity-filter.ts), made
 * right after the handshake. A rejected client is closed before a target connection is
 * even opened (NLB_LISTENER_POLICY.rejection). An admitted client's decrypted byte stream
 * is piped to the target, after a PROXY protocol v2 header when asked; nothing about the
 * certificate reaches the target (aws-reference 9.5). One access-log line per connection.
 */
import {constants as cryptoConstants, createHash} from 'node:crypto';
import net, {type AddressInfo, type Socket} from 'node:net';
import {performance} from 'node:perf_hooks';
import tls, {type TLSSocket} from 'node:tls';
import {parseCertificate, type ParsedCertificate} from '../../lib/x509/cert.js';
import {formatRfc2253} from '../../lib/x509/dn.js';
import {parsePem} from '../../lib/x509/pem.js';
import {preconditionError} from '../../lib/errors.js';
import {buildProxyV2Header, formatNlbAccessLogLine, nlbTlsVersion, parseTcpTarget} from '../../lib/nlb/listener.js';
import {type IdentityFilter, verifyNlbChain} from '../../lib/nlb/identity-filter.js';
import type {LoadedCrl, TrustStore} from '../../lib/alb/verify.js';
import {presentedChainDer} from './alb-listener.js';

/** The verdict on a presented chain (leaf first; empty when the client sent none). */
export interface NlbVerdict {
  /** `Success` or `Failed:<code>`. */
  status: string;
  ok: boolean;
  /** FIELD:MATCH:VALUE of the filter that admitted the client, or null. */
  identityFilter: string | null;
}

export interface NlbServerParams {
  host: string;
  /** Listener ports (0 picks a free one). */
  ports: number[];
  /** Server certificate chain (PEM, leaf first) and key (PEM). */
  certPem: string;
  keyPem: string;
  /** Judges a chain; never throws. */
  judge: (chain: ParsedCertificate[]) => NlbVerdict;
  target: {host: string; port: number};
  /** Send a PROXY protocol v2 header first on each target connection. */
  proxyProtocol: boolean;
  /** Receives each access-log line (no newline). */
  log: (line: string) => void;
  /** Errors that do not end the server (target unreachable, ...). */
  onError?: (message: string) => void;
}

export interface RunningNlbListener {
  port: number;
  mode: 'nlb';
  /** `tls://host:port`: a TLS listener, not HTTPS. */
  url: string;
}

export interface RunningNlbServer {
  listeners: RunningNlbListener[];
  close(): Promise<void>;
}

const START = Symbol('mtls-kit.nlb-start');
type TimedSocket = Socket & {[START]?: number};

const safe = <T>(f: () => T, fallback: T): T => {
  try {
    return f();
  } catch {
    return fallback;
  }
};

/** The listener id field: 16 hex digits, stable per port (NLB's are opaque hex ids). */
const listenerId = (port: number): string => createHash('sha256').update(`mtls-kit-nlb-${port}`).digest('hex').slice(0, 16);

/**
 * Starts the NLB listeners.
 * @throws MtlsKitError PORT_IN_USE (exit 4) naming the port.
 */
export async function startNlbServer(p: NlbServerParams): Promise<RunningNlbServer> {
  const serverSerial = safe(() => parseCertificate(parsePem(p.certPem, 'server certificate')[0]!.der).serialHex, '-');
  const servers: tls.Server[] = [];
  const open = new Set<Socket>();
  const running: RunningNlbListener[] = [];

  const onSecure =
    (port: number) =>
    (socket: TLSSocket): void => {
      const raw = (socket as unknown as {_parent?: TimedSocket})._parent;
      const startMs = raw?.[START] ?? performance.now();
      const startedAt = new Date(Date.now() - (performance.now() - startMs));
      const handshakeMs = performance.now() - startMs;
      let chain: ParsedCertificate[] | null;
      try {
        chain = presentedChainDer(socket).map((d) => parseCertificate(d));
      } catch {
        chain = null;
      }
      const leaf = chain?.[0];
      const verdict: NlbVerdict = chain === null ? {status: 'Failed:ClientCertInvalid', ok: false, identityFilter: null} : p.judge(chain);
      // Read now: once the socket is closed, Node no longer knows the cipher or protocol.
      const cipher = safe(() => socket.getCipher().name, '-');
      const protocol = nlbTlsVersion(safe(() => socket.getProtocol(), null));
      const servername = (socket as TLSSocket & {servername?: unknown}).servername;
      const alpn = socket.alpnProtocol;
      const client = {ip: socket.remoteAddress ?? raw?.remoteAddress ?? '-', port: socket.remotePort ?? raw?.remotePort ?? 0};
      const local = {ip: socket.localAddress ?? '0.0.0.0', port: socket.localPort ?? port};
      let received = 0;
      let sent = 0;
      let targetText = '-';
      let logged = false;
      const log = (): void => {
        if (logged) return;
        logged = true;
        p.log(
          formatNlbAccessLogLine({
            time: new Date(),
            elb: 'net/mtls-kit-serve/local',
            listenerId: listenerId(port),
            clientIp: client.ip,
            clientPort: client.port,
            target: targetText,
            tcpConnectionTimeMs: performance.now() - startMs,
            tlsHandshakeTimeMs: handshakeMs,
            receivedBytes: received,
            sentBytes: sent,
            certificateSerial: serverSerial,
            tlsCipherSuite: cipher,
            tlsProtocolVersion: protocol,
            domainName: typeof servername === 'string' ? servername : '-',
            alpnFeProtocol: typeof alpn === 'string' ? alpn : '-',
            alpnClientPreferenceList: '-',
            connectionStart: startedAt,
            verdict: verdict.status,
            identityFilter: verdict.identityFilter ?? '-',
            clientCertSerial: leaf?.serialHex ?? '-',
            clientCertSubject: leaf ? safe(() => formatRfc2253(leaf.subject), '-') : '-',
          }),
        );
      };
      socket.on('error', () => {
        /* the client went away; the close handler logs */
      });
      if (!verdict.ok) {
        log();
        // No target connection, no byte forwarded: the client sees the connection end.
        socket.destroy();
        return;
      }
      socket.pause();
      const upstream = net.connect({host: p.target.host, port: p.target.port, allowHalfOpen: true});
      open.add(upstream);
      const finish = (): void => {
        if (socket.destroyed && upstream.destroyed) log();
      };
      upstream.on('connect', () => {
        targetText = `${upstream.remoteAddress ?? p.target.host}:${upstream.remotePort ?? p.target.port}`;
        if (p.proxyProtocol) {
          upstream.write(buildProxyV2Header({sourceIp: client.ip, sourcePort: client.port, destinationIp: local.ip, destinationPort: local.port}));
        }
        socket.on('data', (d: Buffer) => {
          received += d.length;
        });
        upstream.on('data', (d: Buffer) => {
          sent += d.length;
        });
        socket.pipe(upstream);
        upstream.pipe(socket);
        socket.resume();
      });
      upstream.on('error', (error: NodeJS.ErrnoException) => {
        if (targetText === '-') p.onError?.(`target ${p.target.host}:${p.target.port} failed: ${error.code ?? error.message}`);
        socket.destroy();
      });
      socket.on('close', () => {
        upstream.destroy();
        finish();
      });
      upstream.on('close', () => {
        open.delete(upstream);
        socket.destroy();
        finish();
      });
    };

  for (const wanted of p.ports) {
    const server = tls.createServer({
      cert: p.certPem,
      key: p.keyPem,
      requestCert: true,
      rejectUnauthorized: false,
      allowHalfOpen: true,
      // Every connection is judged on a full handshake (no resumption, as ALB mTLS; NLB's is UNCONFIRMED, aws-reference 9.7).
      secureOptions: cryptoConstants.SSL_OP_NO_TICKET,
    });
    server.on('connection', (s: TimedSocket) => {
      s[START] = performance.now();
      open.add(s);
      s.once('close', () => open.delete(s));
    });
    server.on('tlsClientError', () => {
      /* a failed handshake reaches no target; NLB logs only completed TLS connections */
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        reject(
          error.code === 'EADDRINUSE'
            ? preconditionError('PORT_IN_USE', `port ${wanted} on ${p.host} is already in use`, [
                'choose another --listen PORT:nlb, or stop what is listening there',
              ])
            : error,
        );
      });
      server.listen(wanted, p.host, () => resolve());
    }).catch(async (error) => {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      throw error;
    });
    const port = (server.address() as AddressInfo).port;
    server.on('secureConnection', (s: TLSSocket) => {
      try {
        onSecure(port)(s);
      } catch (error) {
        // One client never ends the server (STYLE "Errors").
        p.onError?.(`connection from ${s.remoteAddress ?? '?'} ended: ${(error as Error).message}`);
        s.destroy();
      }
    });
    servers.push(server);
    running.push({port, mode: 'nlb', url: `tls://${p.host.includes(':') ? `[${p.host}]` : p.host}:${port}`});
  }

  return {
    listeners: running,
    async close() {
      const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      for (const s of open) s.destroy();
      await closed;
    },
  };
}

export interface NlbServeParams {
  host: string;
  ports: number[];
  certPem: string;
  keyPem: string;
  trustStore: TrustStore;
  crls: LoadedCrl[];
  ignoreExpiry: boolean;
  identityFilters: IdentityFilter[];
  /** `tcp://host:port`; without it a built-in TCP echo target. */
  target: string | undefined;
  proxyProtocol: boolean;
  log: (line: string) => void;
  onError?: (message: string) => void;
}

export interface RunningNlbServe {
  listeners: RunningNlbListener[];
  /** The target as `tcp://host:port`, or `echo`. */
  target: string;
  close(): Promise<void>;
}

/**
 * Starts NLB listeners judging clients as NLB does (trust store, identity filters,
 * revocation: verifyNlbChain) in front of a TCP target, or of a built-in TCP echo target.
 * @throws MtlsKitError BAD_TARGET (exit 2), PORT_IN_USE (exit 4).
 */
export async function startNlbServe(o: NlbServeParams): Promise<RunningNlbServe> {
  let echo: net.Server | undefined;
  let target: {host: string; port: number};
  if (o.target) {
    target = parseTcpTarget(o.target);
  } else {
    echo = net.createServer({allowHalfOpen: true}, (s) => {
      s.on('error', () => s.destroy());
      s.pipe(s);
    });
    await new Promise<void>((resolve) => echo!.listen(0, '127.0.0.1', resolve));
    target = {host: '127.0.0.1', port: (echo.address() as AddressInfo).port};
  }
  const judge = (chain: ParsedCertificate[]): NlbVerdict => {
    // No certificate: verifyChain's ClientCertInvalid (NLB verifies only; what it logs is UNCONFIRMED, aws-reference 9.2).
    const r = verifyNlbChain({chain, trustStore: o.trustStore, crls: o.crls, at: new Date(), ignoreExpiry: o.ignoreExpiry, identityFilters: o.identityFilters});
    return {status: r.status, ok: r.code === null, identityFilter: r.identityFilters?.matched ?? null};
  };
  let server: RunningNlbServer;
  try {
    server = await startNlbServer({
      host: o.host,
      ports: o.ports,
      certPem: o.certPem,
      keyPem: o.keyPem,
      judge,
      target,
      proxyProtocol: o.proxyProtocol,
      log: o.log,
      ...(o.onError ? {onError: o.onError} : {}),
    });
  } catch (error) {
    echo?.close();
    throw error;
  }
  return {
    listeners: server.listeners,
    target: o.target ?? 'echo',
    async close() {
      await server.close();
      if (echo) await new Promise<void>((resolve) => echo!.close(() => resolve()));
    },
  };
}
