/**
 * The sockets of `mtls-kit serve --listen PORT:nlb`: TLS listeners that behave like an NLB
 * TLS listener with mutual TLS in verify mode (aws-reference 9) in front of a TCP target.
 *
 * Accepting, TLS, the chain as presented (listener-frame.ts) and judging it (trust store,
 * identity filters, revocation: lib/nlb/identity-filter.ts) are the listener frame's. A rejected client is closed before a target connection is
 * even opened (NLB_LISTENER_POLICY.rejection). An admitted client's decrypted byte stream
 * is piped to the target, after a PROXY protocol v2 header when asked; nothing about the
 * certificate reaches the target (aws-reference 9.5). One access-log line per connection.
 */
import {constants as cryptoConstants, createHash} from 'node:crypto';
import net, {type AddressInfo, type Socket} from 'node:net';
import {performance} from 'node:perf_hooks';
import tls from 'node:tls';
import {parseCertificate, type ParsedCertificate} from '../../lib/x509/cert.js';
import {formatRfc2253} from '../../lib/x509/dn.js';
import {parsePem} from '../../lib/x509/pem.js';
import {buildProxyV2Header, formatNlbAccessLogLine, nlbTlsVersion, parseTcpTarget} from '../../lib/nlb/listener.js';
import {type IdentityFilter, verifyNlbChain} from '../../lib/nlb/identity-filter.js';
import {NLB_POLICY} from '../../lib/alb/policy.js';
import type {LoadedCrl, TrustStore} from '../../lib/alb/verify.js';
import {type PresentedConnection, type RefusedConnection, startListenerFrame} from './listener-frame.js';

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
  /** The listener's TLS security policy as Node's options (lib/alb/ssl-policies.ts); default: OpenSSL's. */
  tlsOptions?: {minVersion: tls.SecureVersion; maxVersion: tls.SecureVersion; ciphers: string; ecdhCurve: string};
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
  /** Counters of the listener frame (bytes of client handshakes read, work units). */
  stats(): {connections: number; tappedBytes: number; work: number};
  close(): Promise<void>;
}

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
  const open = new Set<Socket>();
  const context = tls.createSecureContext({
    cert: p.certPem,
    key: p.keyPem,
    // Every connection is judged on a full handshake (no resumption, as ALB mTLS; NLB's is
    // UNCONFIRMED, aws-reference 9.7), and never renegotiated.
    secureOptions: cryptoConstants.SSL_OP_NO_TICKET | cryptoConstants.SSL_OP_NO_RENEGOTIATION,
    ...(p.tlsOptions ? {...p.tlsOptions, honorCipherOrder: true} : {}),
  });

  /** One access-log line for a connection; `target`, byte counts and the end time as they stand. */
  const logLine = (
    c: {listenerPort: number; peer: PresentedConnection['peer']; acceptedAt: number; socket: PresentedConnection['socket']},
    o: {
      handshakeMs: number;
      target: string;
      received: number;
      sent: number;
      cipher: string;
      protocol: string;
      /** The key-exchange group (listener-frame's keyExchange), `-` when unknown. */
      group: string;
      verdict: NlbVerdict;
      leaf?: ParsedCertificate | undefined;
    },
  ): void => {
    const servername = (c.socket as PresentedConnection['socket'] & {servername?: unknown}).servername;
    const alpn = c.socket.alpnProtocol;
    p.log(
      formatNlbAccessLogLine({
        time: new Date(),
        elb: 'net/mtls-kit-serve/local',
        listenerId: listenerId(c.listenerPort),
        clientIp: c.peer.remoteAddress,
        clientPort: c.peer.remotePort,
        target: o.target,
        tcpConnectionTimeMs: performance.now() - c.acceptedAt,
        tlsHandshakeTimeMs: o.handshakeMs,
        receivedBytes: o.received,
        sentBytes: o.sent,
        certificateSerial: serverSerial,
        tlsCipherSuite: o.cipher,
        tlsProtocolVersion: o.protocol,
        tlsNamedGroup: o.group,
        domainName: typeof servername === 'string' ? servername : '-',
        alpnFeProtocol: typeof alpn === 'string' ? alpn : '-',
        alpnClientPreferenceList: '-',
        connectionStart: new Date(Date.now() - (performance.now() - c.acceptedAt)),
        verdict: o.verdict.status,
        identityFilter: o.verdict.identityFilter ?? '-',
        clientCertSerial: o.leaf?.serialHex ?? '-',
        clientCertSubject: o.leaf ? safe(() => formatRfc2253(o.leaf!.subject), '-') : '-',
      }),
    );
  };

  const judge = (c: PresentedConnection): NlbVerdict =>
    c.chain === null ? {status: 'Failed:ClientCertInvalid', ok: false, identityFilter: null} : p.judge(c.chain);

  // A refused client is logged at once; an admitted one when its connection closes (admit).
  const onVerdict = (c: PresentedConnection, verdict: NlbVerdict): void => {
    if (verdict.ok) return;
    logLine(c, {
      handshakeMs: c.handshakeMs,
      target: '-',
      received: 0,
      sent: 0,
      cipher: c.cipher.name,
      protocol: nlbTlsVersion(c.protocol),
      group: c.keyExchange,
      verdict,
      leaf: c.chain?.[0],
    });
  };

  const onRefused = (r: RefusedConnection): void => {
    p.onError?.(`client ${r.peer.remoteAddress}:${r.peer.remotePort} on port ${r.listenerPort} refused: ${r.reason}`);
    if (r.kind === 'handshake') return; // NLB logs only completed TLS connections
    logLine(r, {
      handshakeMs: 0,
      target: '-',
      received: 0,
      sent: 0,
      cipher: '-',
      protocol: '-',
      group: r.keyExchange ?? '-',
      verdict: {status: 'Failed:ClientCertInvalid', ok: false, identityFilter: null},
    });
  };

  const admit = (c: PresentedConnection, verdict: NlbVerdict): void => {
    const socket = c.socket;
    let received = 0;
    let sent = 0;
    let targetText = '-';
    let logged = false;
    const protocol = nlbTlsVersion(c.protocol);
    const log = (): void => {
      if (logged) return;
      logged = true;
      logLine(c, {
        handshakeMs: c.handshakeMs,
        target: targetText,
        received,
        sent,
        cipher: c.cipher.name,
        protocol,
        group: c.keyExchange,
        verdict,
        leaf: c.chain?.[0],
      });
    };
    socket.on('error', () => {
      /* the client went away; the close handler logs */
    });
    socket.pause();
    const upstream = net.connect({host: p.target.host, port: p.target.port, allowHalfOpen: true});
    open.add(upstream);
    const finish = (): void => {
      if (socket.destroyed && upstream.destroyed) log();
    };
    upstream.on('connect', () => {
      targetText = `${upstream.remoteAddress ?? p.target.host}:${upstream.remotePort ?? p.target.port}`;
      if (p.proxyProtocol) {
        upstream.write(
          buildProxyV2Header({
            sourceIp: c.peer.remoteAddress,
            sourcePort: c.peer.remotePort,
            destinationIp: c.peer.localAddress,
            destinationPort: c.peer.localPort,
          }),
        );
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

  const frame = await startListenerFrame<NlbVerdict>({
    host: p.host,
    ports: p.ports,
    listenFlag: '--listen PORT:nlb',
    secureContext: () => context,
    allowHalfOpen: true,
    judge,
    onVerdict,
    admit,
    onRefused,
    ...(p.onError ? {onError: p.onError} : {}),
  });

  return {
    listeners: frame.ports.map((port) => ({port, mode: 'nlb' as const, url: `tls://${p.host.includes(':') ? `[${p.host}]` : p.host}:${port}`})),
    stats: () => frame.stats(),
    async close() {
      for (const s of open) s.destroy();
      await frame.close();
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
  tlsOptions?: NlbServerParams['tlsOptions'];
  log: (line: string) => void;
  onError?: (message: string) => void;
}

export interface RunningNlbServe {
  listeners: RunningNlbListener[];
  stats(): {connections: number; tappedBytes: number; work: number};
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
    const r = verifyNlbChain({
      chain,
      trustStore: o.trustStore,
      crls: o.crls,
      at: new Date(),
      ignoreExpiry: o.ignoreExpiry,
      identityFilters: o.identityFilters,
      policy: NLB_POLICY,
    });
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
      ...(o.tlsOptions ? {tlsOptions: o.tlsOptions} : {}),
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
    stats: () => server.stats(),
    async close() {
      await server.close();
      if (echo) await new Promise<void>((resolve) => echo!.close(() => resolve()));
    },
  };
}
