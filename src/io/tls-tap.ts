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
import {createDecipheriv, createHmac} from 'node:crypto';
import net from 'node:net';
import {Duplex} from 'node:stream';
import type {DetailedPeerCertificate, TLSSocket} from 'node:tls';

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
export class TapSocket extends Duplex {
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
  constructor(readonly raw: net.Socket, acceptedAt: number, onHello: (random: string, tap: TapSocket) => void) {
    super({allowHalfOpen: false});
    this.acceptedAt = acceptedAt;
    this.peer = {remoteAddress: raw.remoteAddress ?? '-', remotePort: raw.remotePort ?? 0, localAddress: raw.localAddress ?? '-', localPort: raw.localPort ?? 0};
    raw.on('data', (d: Buffer) => {
      if (this.tapping) {
        this.chunks.push(d);
        this.size += d.length;
        if (this.size > MAX_TAP) this.stopTapping();
        else if (this.random === undefined) {
          this.random = this.clientRandom();
          if (this.random) onHello(this.random, this);
        }
      }
      if (!this.push(d)) raw.pause();
    });
    raw.on('end', () => this.push(null));
    raw.on('error', (e) => this.destroy(e));
    raw.on('close', () => this.destroy());
  }

  override _read(): void {
    this.raw.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    if (this.raw.destroyed) return cb();
    this.raw.write(chunk, cb);
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.raw.end(cb);
  }

  override _destroy(error: Error | null, cb: (e?: Error | null) => void): void {
    this.raw.destroy();
    this.chunks = [];
    cb(error);
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
    const hs = readHandshake(plainRecords(data), 1);
    return hs && hs.length >= 34 ? hs.subarray(2, 34).toString('hex') : undefined;
  }
}

/** TLS records: [type, body]; stops at an incomplete one. */
function* records(data: Buffer): Generator<{type: number; header: Buffer; body: Buffer}> {
  let off = 0;
  while (off + 5 <= data.length) {
    const len = data.readUInt16BE(off + 3);
    if (off + 5 + len > data.length) return;
    yield {type: data[off]!, header: data.subarray(off, off + 5), body: data.subarray(off + 5, off + 5 + len)};
    off += 5 + len;
  }
}

/** The bodies of the plaintext handshake records (type 22) before anything encrypted. */
function plainRecords(data: Buffer): Buffer {
  const out: Buffer[] = [];
  for (const r of records(data)) {
    if (r.type === 22) out.push(r.body);
    else if (r.type !== 20) break; // 20: ChangeCipherSpec; anything else ends the clear part
  }
  return Buffer.concat(out);
}

/** The body of the first handshake message of `type` in a handshake byte stream. */
function readHandshake(stream: Buffer, type: number): Buffer | undefined {
  let off = 0;
  while (off + 4 <= stream.length) {
    const t = stream[off]!;
    const len = stream.readUIntBE(off + 1, 3);
    if (off + 4 + len > stream.length) return undefined;
    if (t === type) return stream.subarray(off + 4, off + 4 + len);
    off += 4 + len;
  }
  return undefined;
}

/** RFC 8446 7.1 HKDF-Expand-Label, for lengths up to one hash block. */
function expandLabel(hash: string, secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from('tls13 ' + label, 'latin1');
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, full.length]), full, Buffer.from([0]), Buffer.from([1])]);
  return createHmac(hash, secret).update(info).digest().subarray(0, length);
}

const TLS13_SUITES: Record<string, {hash: string; cipher: string; keyLen: number}> = {
  TLS_AES_128_GCM_SHA256: {hash: 'sha256', cipher: 'aes-128-gcm', keyLen: 16},
  TLS_AES_256_GCM_SHA384: {hash: 'sha384', cipher: 'aes-256-gcm', keyLen: 32},
  TLS_CHACHA20_POLY1305_SHA256: {hash: 'sha256', cipher: 'chacha20-poly1305', keyLen: 32},
};

/**
 * Decrypts the client's encrypted handshake records (RFC 8446 5.2, 5.3) and returns the
 * handshake byte stream, or undefined when a record does not decrypt.
 */
function decryptClientHandshake(data: Buffer, suite: string, secretHex: string): Buffer | undefined {
  const s = TLS13_SUITES[suite];
  if (!s) return undefined;
  const secret = Buffer.from(secretHex, 'hex');
  const key = expandLabel(s.hash, secret, 'key', s.keyLen);
  const iv = expandLabel(s.hash, secret, 'iv', 12);
  const out: Buffer[] = [];
  let seq = 0n;
  let clear = true;
  for (const r of records(data)) {
    if (clear && (r.type === 22 || r.type === 20)) continue; // ClientHello(s), compatibility CCS
    clear = false;
    if (r.type === 20) continue;
    if (r.type !== 23 || r.body.length < 17) return undefined;
    const nonce = Buffer.from(iv);
    for (let i = 0; i < 8; i++) nonce[11 - i]! ^= Number((seq >> BigInt(8 * i)) & 0xffn);
    seq++;
    let plain: Buffer;
    try {
      const d = createDecipheriv(s.cipher as 'aes-128-gcm', key, nonce, {authTagLength: 16});
      d.setAAD(r.header);
      d.setAuthTag(r.body.subarray(r.body.length - 16));
      plain = Buffer.concat([d.update(r.body.subarray(0, r.body.length - 16)), d.final()]);
    } catch {
      return undefined;
    }
    // TLSInnerPlaintext: content, then the real content type, then zero padding.
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end--;
    if (end < 0) return undefined;
    if (plain[end] === 22) out.push(plain.subarray(0, end));
    else break; // application data: the handshake is over
    const stream = Buffer.concat(out);
    // Finished (20) ends the client's handshake.
    if (readHandshake(stream, 20)) return stream;
  }
  return Buffer.concat(out);
}

/** The certificate_list of a Certificate message body (TLS 1.3 has a context and extensions). */
function parseCertificateList(body: Buffer, tls13: boolean): Uint8Array[] | undefined {
  let off = 0;
  if (tls13) {
    if (body.length < 1) return undefined;
    off = 1 + body[0]!;
  }
  if (off + 3 > body.length) return undefined;
  const end = off + 3 + body.readUIntBE(off, 3);
  if (end !== body.length) return undefined;
  off += 3;
  const certs: Uint8Array[] = [];
  while (off < end) {
    if (off + 3 > end) return undefined;
    const len = body.readUIntBE(off, 3);
    off += 3;
    if (len === 0 || off + len > end) return undefined;
    certs.push(new Uint8Array(body.subarray(off, off + len)));
    off += len;
    if (tls13) {
      if (off + 2 > end) return undefined;
      off += 2 + body.readUInt16BE(off);
    }
  }
  return off === end ? certs : undefined;
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
    const protocol = socket.getProtocol();
    let stream: Buffer | undefined;
    if (protocol === 'TLSv1.3') {
      const secret = tap.keylog.find((l) => l.startsWith('CLIENT_HANDSHAKE_TRAFFIC_SECRET '))?.split(' ')[1];
      const suite = socket.getCipher()?.standardName ?? '';
      if (secret) stream = decryptClientHandshake(data, suite, secret);
    } else {
      stream = plainRecords(data);
    }
    const body = stream ? readHandshake(stream, 11) : undefined;
    if (body) {
      const der = parseCertificateList(body, protocol === 'TLSv1.3');
      if (der) return {der, source: 'presented'};
    } else if (stream && readHandshake(stream, 20)) {
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
  while (c && c.raw && !seen.has(c)) {
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
export function tapTlsServer(tlsServer: net.Server & {on(event: 'keylog', l: (line: Buffer, s: TLSSocket) => void): unknown}, registry: TapRegistry, now: () => number): TappedListener {
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
