/**
 * The client certificate chain exactly as the client presented it on the wire.
 *
 * Node does not expose it: `getPeerCertificate(true)` starts from OpenSSL's
 * SSL_get_peer_cert_chain but re-links it by issuer (X509_check_issued), so duplicates and
 * unrelated certificates vanish, the order is rebuilt and the chain is completed from the
 * server's own trust store; getPeerX509Certificate() gives only the leaf. ALB judges and
 * forwards the chain "as presented" (aws-reference 1.2, 7.6), so we read it ourselves:
 *
 *   - every TCP connection is accepted by a plain net.Server and handed to the TLS server
 *     through a Duplex that keeps a copy of what the client sends during the handshake;
 *   - TLS 1.2: the client's Certificate message is in clear in its handshake records;
 *   - TLS 1.3 (RFC 8446 4.4.2): it is encrypted under the client handshake traffic secret,
 *     which the TLS server hands us through its 'keylog' event (the same lines as
 *     SSLKEYLOGFILE); we derive the record key (RFC 8446 7.1, 7.3) and decrypt the records.
 *
 * The copy is dropped once the handshake is over (or past MAX_TAP bytes). When a chain
 * cannot be read this way (a cipher suite we do not decrypt), the caller falls back to
 * Node's rebuilt chain and says so.
 */
import net from 'node:net';
import type {DetailedPeerCertificate, TLSSocket} from 'node:tls';
import {
  cleartextHandshake,
  decryptTls13Handshake,
  HANDSHAKE,
  type HandshakeMessage,
  parseCertificateMessage,
  splitRecords,
  TLS13_SUITE_IDS,
} from '../../lib/tls/handshake.js';
import {SocketRelay} from './socket-relay.js';

/** OpenSSL's default limit on a peer's certificate list is 100 KB; keep a little more. */
const MAX_TAP = 160 * 1024;

/** A connection's address, as the raw TCP socket knows it. */
export interface PeerAddress {
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
}

/**
 * The Duplex between a TCP socket and the TLS server: passes bytes both ways and keeps
 * the client's handshake bytes until `stopTapping`.
 */
export class TapSocket extends SocketRelay {
  private chunks: Buffer[] = [];
  private size = 0;
  private tapping = true;
  /** Keylog lines of this connection (TLS 1.3 secrets, or TLS 1.2 CLIENT_RANDOM). */
  readonly keylog: string[] = [];
  readonly peer: PeerAddress;
  /** performance.now() when the TCP connection was accepted. */
  readonly acceptedAt: number;

  private random: string | undefined;

  /** `onHello` gets the client random as soon as the ClientHello has arrived, before TLS sees it. */
  constructor(
    raw: net.Socket,
    acceptedAt: number,
    private readonly onHello: (random: string, tap: TapSocket) => void,
  ) {
    super(raw, {allowHalfOpen: false});
    this.acceptedAt = acceptedAt;
    this.peer = {
      remoteAddress: raw.remoteAddress ?? '-',
      remotePort: raw.remotePort ?? 0,
      localAddress: raw.localAddress ?? '-',
      localPort: raw.localPort ?? 0,
    };
  }

  protected override onChunk(d: Buffer): void {
    if (!this.tapping) return;
    this.chunks.push(d);
    this.size += d.length;
    if (this.size > MAX_TAP) this.stopTapping();
    else if (this.random === undefined) {
      this.random = this.clientRandom();
      if (this.random) this.onHello(this.random, this);
    }
  }

  override _destroy(error: Error | null, cb: (e?: Error | null) => void): void {
    this.chunks = [];
    super._destroy(error, cb);
  }

  /** What the client sent so far (while tapping). */
  tapped(): Buffer | undefined {
    return this.tapping ? Buffer.concat(this.chunks) : undefined;
  }

  stopTapping(): void {
    this.tapping = false;
    this.chunks = [];
  }

  /** The client random of the first ClientHello, hex, once it has arrived. */
  private clientRandom(): string | undefined {
    const data = this.tapped();
    if (!data) return undefined;
    const hello = cleartextHandshake(splitRecords(data)).messages.find((m) => m.type === HANDSHAKE.clientHello);
    return hello && hello.body.length >= 34 ? Buffer.from(hello.body.subarray(2, 34)).toString('hex') : undefined;
  }
}

/** Links each TLS socket to its tap, by the client random in the keylog lines. */
export class TapRegistry {
  private readonly taps = new WeakMap<TLSSocket, TapSocket>();
  private readonly pending = new Map<string, TapSocket>();

  /** A tap for a new TCP connection, matched to its TLS socket by its client random. */
  tap(raw: net.Socket, acceptedAt: number): TapSocket {
    let random: string | undefined;
    const tap = new TapSocket(raw, acceptedAt, (r) => {
      random = r;
      this.pending.set(r, tap);
    });
    tap.once('close', () => {
      if (random !== undefined && this.pending.get(random) === tap) this.pending.delete(random);
    });
    return tap;
  }

  /** The server's 'keylog' listener. */
  onKeylog = (line: Buffer, socket: TLSSocket): void => {
    const [label, random, secret] = line.toString('latin1').trim().split(' ');
    if (!label || !random || !secret) return;
    let tap = this.taps.get(socket);
    if (!tap) {
      tap = this.pending.get(random);
      if (!tap) return;
      this.pending.delete(random);
      this.taps.set(socket, tap);
    }
    tap.keylog.push(`${label} ${secret}`);
  };

  /** The tap of a TLS socket (after its first keylog line). */
  tapOf(socket: TLSSocket): TapSocket | undefined {
    return this.taps.get(socket);
  }
}

/** Where a chain came from: the wire (as presented) or Node's re-linked chain (fallback). */
export type ChainSource = 'presented' | 'rebuilt';

/**
 * The chain the client presented, leaf first, read from the tapped handshake; then stops
 * tapping. Falls back to Node's rebuilt chain (see the top of this file) when it cannot.
 */
export function presentedChain(socket: TLSSocket, tap: TapSocket | undefined): {der: Uint8Array[]; source: ChainSource} {
  const data = tap?.tapped();
  tap?.stopTapping();
  if (tap && data) {
    const tls13 = socket.getProtocol() === 'TLSv1.3';
    const records = splitRecords(data);
    let messages: HandshakeMessage[] | null = null;
    if (tls13) {
      const secret = tap.keylog.find((l) => l.startsWith('CLIENT_HANDSHAKE_TRAFFIC_SECRET '))?.split(' ')[1];
      const suite = TLS13_SUITE_IDS[socket.getCipher()?.standardName ?? ''];
      if (secret && suite !== undefined) messages = decryptTls13Handshake(records, suite, Buffer.from(secret, 'hex'));
    } else {
      messages = cleartextHandshake(records).messages;
    }
    const certificate = messages?.find((m) => m.type === HANDSHAKE.certificate);
    if (certificate) {
      try {
        // Copies: the tapped bytes are dropped, the chain is kept.
        return {der: parseCertificateMessage(certificate.body, tls13).map((c) => new Uint8Array(c)), source: 'presented'};
      } catch {
        /* a malformed message: Node's view below */
      }
    } else if (messages?.some((m) => m.type === HANDSHAKE.finished)) {
      // A complete client handshake with no Certificate message: no certificate sent.
      return {der: [], source: 'presented'};
    }
  }
  return {der: rebuiltChainDer(socket), source: 'rebuilt'};
}

/**
 * Node's view of the peer chain: getPeerCertificate(true) followed through its
 * `issuerCertificate` links (re-linked by issuer, ending on a self-issued certificate that
 * points at itself).
 */
export function rebuiltChainDer(socket: TLSSocket): Uint8Array[] {
  const out: Uint8Array[] = [];
  let c: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true) as DetailedPeerCertificate | undefined;
  const seen = new Set<DetailedPeerCertificate>();
  while (c?.raw && !seen.has(c)) {
    seen.add(c);
    out.push(new Uint8Array(c.raw.buffer, c.raw.byteOffset, c.raw.byteLength));
    const next: DetailedPeerCertificate | undefined = c.issuerCertificate;
    if (!next || next === c) break;
    c = next;
  }
  return out;
}

export interface TappedListener {
  /** The TCP server that accepts connections for `tlsServer`; listen on it. */
  netServer: net.Server;
  registry: TapRegistry;
  /** Destroys every TCP connection still open (the TLS server's close does not see them). */
  destroyAll(): void;
}

/**
 * Puts a tap in front of a TLS (or HTTPS) server: connections are accepted by the returned
 * net.Server and handed over through a TapSocket; the server's keylog lines are routed to
 * the tap of their connection.
 */
export function tapTlsServer(
  tlsServer: net.Server & {on(event: 'keylog', l: (line: Buffer, s: TLSSocket) => void): unknown},
  registry: TapRegistry,
  now: () => number,
): TappedListener {
  const open = new Set<net.Socket>();
  tlsServer.on('keylog', registry.onKeylog);
  const netServer = net.createServer((raw) => {
    open.add(raw);
    raw.once('close', () => open.delete(raw));
    tlsServer.emit('connection', registry.tap(raw, now()));
  });
  return {
    netServer,
    registry,
    destroyAll() {
      for (const s of open) s.destroy();
    },
  };
}
