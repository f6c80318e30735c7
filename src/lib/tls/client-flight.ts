/**
 * The client's side of a TLS handshake, read incrementally from the bytes of ONE connection
 * as they arrive, to recover the certificate chain exactly as the client presented it
 * (aws-reference 1.2, 7.6): Node's getPeerCertificate(true) re-links it by issuer.
 *
 * Every byte is looked at a bounded number of times (records and handshake messages are
 * assembled in growable buffers, never re-parsed from the start), so the work is linear in
 * the bytes received, and the bytes are capped (`CLIENT_FLIGHT_MAX_BYTES`). Anything that
 * would make the chain uncertain refuses the connection with a reason instead of guessing:
 * an alert or an unexpected record type in the middle of the flight, a record or flight
 * over the limit, TLS 1.3 early data, a cipher suite that cannot be decrypted, a record
 * that does not authenticate, or a handshake message out of place.
 *
 * TLS 1.2 (RFC 5246 7.3): ClientHello, then in clear Certificate, ClientKeyExchange,
 * CertificateVerify, then ChangeCipherSpec: the flight is complete at the CCS.
 * TLS 1.3 (RFC 8446 2): ClientHello (a second one after a HelloRetryRequest), an optional
 * compatibility CCS, then records encrypted under the client handshake traffic secret
 * holding Certificate, CertificateVerify, Finished: complete at Finished.
 */
import {CONTENT, decryptTls13Record, HANDSHAKE, parseCertificateMessage, type Tls13RecordKey, tls13RecordKey} from './handshake.js';

/**
 * Wire bytes of the client's handshake flights we read before refusing. OpenSSL's default
 * limit on a peer's certificate list is 100 KB; a little more for the records' headers and
 * the other messages.
 */
export const CLIENT_FLIGHT_MAX_BYTES = 128 * 1024;
/** A TLS record's fragment may be 2^14 bytes, 2^14 + 256 when encrypted (RFC 8446 5.2). */
const MAX_RECORD = 16384 + 256;
/** The early_data extension (RFC 8446 4.2.10). */
const EXT_EARLY_DATA = 42;

/** A byte buffer that grows by doubling, read from the front: appends are amortised O(n). */
class ByteQueue {
  private buf = Buffer.alloc(0);
  private start = 0;
  private end = 0;

  get length(): number {
    return this.end - this.start;
  }

  append(b: Uint8Array): void {
    if (this.end + b.length > this.buf.length) {
      const live = this.end - this.start;
      if (live + b.length > this.buf.length - 0 || this.start === 0) {
        const next = Buffer.alloc(Math.max(256, 2 * (live + b.length)));
        this.buf.copy(next, 0, this.start, this.end);
        this.buf = next;
      } else {
        this.buf.copy(this.buf, 0, this.start, this.end);
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(b, this.end);
    this.end += b.length;
  }

  /** The byte at offset i from the front. */
  at(i: number): number {
    return this.buf[this.start + i]!;
  }

  /** Removes and returns (a copy of) the first n bytes. */
  take(n: number): Uint8Array {
    const out = new Uint8Array(this.buf.subarray(this.start, this.start + n));
    this.start += n;
    return out;
  }

  clear(): void {
    this.buf = Buffer.alloc(0);
    this.start = this.end = 0;
  }
}

/** Assembles handshake messages (RFC 8446 4) from record fragments. */
class MessageAssembler {
  private q = new ByteQueue();

  /** Appends a fragment and returns the messages it completed. */
  push(fragment: Uint8Array, limit: number): Array<{type: number; body: Uint8Array}> | string {
    this.q.append(fragment);
    const out: Array<{type: number; body: Uint8Array}> = [];
    while (this.q.length >= 4) {
      const len = (this.q.at(1) << 16) | (this.q.at(2) << 8) | this.q.at(3);
      if (len > limit) return `a handshake message of ${len} bytes, over the ${limit}-byte limit`;
      if (this.q.length < 4 + len) break;
      const m = this.q.take(4 + len);
      out.push({type: m[0]!, body: m.subarray(4)});
    }
    return out;
  }

  get pending(): number {
    return this.q.length;
  }

  clear(): void {
    this.q.clear();
  }
}

/** What the reader concluded once the server's handshake is over. */
export type ClientFlightResult = {ok: true; chain: Uint8Array[]; clientRandom: string} | {ok: false; reason: string};

/** Where the reader stands. */
export type ClientFlightState = 'reading' | 'complete' | 'refused';

// TLS 1.0 and 1.1 send the client's Certificate in clear, encoded as TLS 1.2 does
// (RFC 2246 7.4.6, RFC 4346 7.4.6): one reading for the three (the ELB policies with TLS 1.0/1.1).
const VERSION_NAMES: Record<string, 'tls12' | 'tls13'> = {TLSv1: 'tls12', 'TLSv1.1': 'tls12', 'TLSv1.2': 'tls12', 'TLSv1.3': 'tls13'};

/**
 * Reads the client's handshake flights of one connection. Feed it every byte the client
 * sends, in order (`push`); give it the TLS 1.3 client handshake traffic secret when the
 * server reports it (`setTls13Key`); ask for the chain when the server's handshake is done
 * (`finish`). After `complete` or `refused`, `push` does nothing (no work).
 */
export class ClientFlightReader {
  state: ClientFlightState = 'reading';
  /** Why the connection is refused (state 'refused'). */
  reason: string | null = null;
  /** Bytes received while reading. */
  bytes = 0;
  /** Work units: bytes copied or decrypted, plus 16 per record; linear in `bytes` by construction. */
  work = 0;
  /** The ClientHello's random, hex (the first ClientHello; a second after a HelloRetryRequest must repeat it). */
  clientRandom: string | null = null;

  private wire = new ByteQueue();
  private clear = new MessageAssembler();
  private sealed = new MessageAssembler();
  private hellos = 0;
  private sawClientKeyExchange = false;
  private sawCompatCcs = false;
  private version: 'tls12' | 'tls13' | null = null;
  private cleartext: Array<{type: number; body: Uint8Array}> = [];
  private encrypted: Array<{type: number; body: Uint8Array}> = [];
  private waiting: Array<{header: Uint8Array; body: Uint8Array}> = [];
  private key: Tls13RecordKey | null = null;
  private seq = 0n;

  constructor(private readonly maxBytes = CLIENT_FLIGHT_MAX_BYTES) {}

  /** The next bytes the client sent. */
  push(chunk: Uint8Array): void {
    if (this.state !== 'reading') return;
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      this.refuse(
        `the client's handshake passed ${this.maxBytes} bytes before it was complete (records of ${this.bytes > 0 ? 'any' : 'no'} size count with their headers)`,
      );
      return;
    }
    this.work += chunk.length;
    this.wire.append(chunk);
    while (this.state === 'reading' && this.wire.length >= 5) {
      const len = (this.wire.at(3) << 8) | this.wire.at(4);
      if (len > MAX_RECORD) {
        this.refuse(`a TLS record of ${len} bytes, over the ${MAX_RECORD}-byte limit`);
        return;
      }
      if (len === 0) {
        this.refuse('an empty TLS record in the handshake');
        return;
      }
      if (this.wire.length < 5 + len) break;
      const rec = this.wire.take(5 + len);
      this.work += 16 + rec.length;
      this.record(rec[0]!, rec.subarray(0, 5), rec.subarray(5));
    }
  }

  /** The TLS 1.3 client handshake traffic secret (from the server's keylog line) and the negotiated suite. */
  setTls13Key(cipherSuite: number, secret: Uint8Array): void {
    if (this.state !== 'reading' || this.key) return;
    const k = tls13RecordKey(cipherSuite, secret);
    if (!k) {
      this.refuse(`cipher suite 0x${cipherSuite.toString(16).padStart(4, '0')} cannot be decrypted to read the client's certificate`);
      return;
    }
    this.key = k;
    const waiting = this.waiting;
    this.waiting = [];
    for (const r of waiting) if (this.state === 'reading') this.decrypt(r.header, r.body);
  }

  /**
   * The chain as presented, once the server's handshake is over, given the protocol it
   * negotiated (`TLSv1.2`, `TLSv1.3`). Refuses anything it could not read exactly.
   */
  finish(protocol: string | null): ClientFlightResult {
    const result = this.result(protocol);
    if (!result.ok && this.state !== 'refused') this.refuse(result.reason);
    this.drop();
    return result;
  }

  private result(protocol: string | null): ClientFlightResult {
    if (this.state === 'refused') return {ok: false, reason: this.reason ?? 'refused'};
    const negotiated = protocol ? VERSION_NAMES[protocol] : undefined;
    if (!negotiated) return {ok: false, reason: `protocol ${protocol ?? 'unknown'}: the client's certificate is read only from TLS 1.0 to 1.3`};
    if (this.state !== 'complete' || this.version !== negotiated)
      return {ok: false, reason: `the client's ${protocol} handshake was not seen complete on this connection`};
    if (!this.clientRandom) return {ok: false, reason: 'no ClientHello was seen on this connection'};
    const messages = negotiated === 'tls13' ? this.encrypted : this.cleartext;
    const certs = messages.filter((m) => m.type === HANDSHAKE.certificate);
    if (certs.length > 1) return {ok: false, reason: 'the client sent two Certificate messages'};
    // TLS 1.2 (RFC 5246 7.4.6) and TLS 1.3 (RFC 8446 4.4.2): a client asked for a certificate
    // sends a Certificate message, empty when it has none; without one it sent nothing.
    if (certs.length === 0) return {ok: true, chain: [], clientRandom: this.clientRandom};
    try {
      return {ok: true, chain: parseCertificateMessage(certs[0]!.body, negotiated === 'tls13'), clientRandom: this.clientRandom};
    } catch {
      return {ok: false, reason: "the client's Certificate message is malformed"};
    }
  }

  private refuse(reason: string): void {
    this.state = 'refused';
    this.reason = reason;
    this.drop();
  }

  private drop(): void {
    this.wire.clear();
    this.clear.clear();
    this.sealed.clear();
    this.waiting = [];
  }

  private record(type: number, header: Uint8Array, body: Uint8Array): void {
    if (type === CONTENT.handshake) {
      if (this.version === 'tls13') {
        this.refuse('a cleartext handshake record after the encrypted ones began');
        return;
      }
      const done = this.clear.push(body, this.maxBytes);
      if (typeof done === 'string') {
        this.refuse(done);
        return;
      }
      for (const m of done) {
        this.cleartextMessage(m);
        if (this.state !== 'reading') return;
      }
      return;
    }
    if (type === CONTENT.changeCipherSpec) {
      if (body.length !== 1 || body[0] !== 1) {
        this.refuse('a malformed ChangeCipherSpec record');
        return;
      }
      if (this.clear.pending > 0) {
        this.refuse('a ChangeCipherSpec in the middle of a handshake message');
        return;
      }
      if (this.sawClientKeyExchange) {
        // TLS 1.2: the cleartext flight ends here; the Finished after it is encrypted.
        this.version = 'tls12';
        this.state = 'complete';
        this.drop();
        return;
      }
      if (this.hellos === 0 || this.sawCompatCcs) {
        this.refuse('a ChangeCipherSpec out of place');
        return;
      }
      // TLS 1.3 middlebox compatibility (RFC 8446 D.4); may also come after a HelloRetryRequest.
      this.sawCompatCcs = true;
      return;
    }
    if (type === CONTENT.applicationData) {
      if (this.hellos === 0 || this.sawClientKeyExchange || this.cleartext.some((m) => m.type !== HANDSHAKE.clientHello)) {
        this.refuse('an encrypted record where the client handshake was expected in clear');
        return;
      }
      if (this.clear.pending > 0) {
        this.refuse('an encrypted record in the middle of a handshake message');
        return;
      }
      this.version = 'tls13';
      if (!this.key) {
        this.waiting.push({header, body});
        return;
      }
      this.decrypt(header, body);
      return;
    }
    if (type === CONTENT.alert) {
      this.refuse(`an alert record in the middle of the client's handshake${body.length === 2 ? ` (level ${body[0]}, description ${body[1]})` : ''}`);
      return;
    }
    this.refuse(`a record of type ${type} in the client's handshake`);
  }

  private cleartextMessage(m: {type: number; body: Uint8Array}): void {
    if (m.type === HANDSHAKE.clientHello) {
      // A second ClientHello answers a HelloRetryRequest (TLS 1.3 only, RFC 8446 4.1.4).
      if (this.hellos >= 2 || this.cleartext.some((x) => x.type !== HANDSHAKE.clientHello)) {
        this.refuse('a ClientHello out of place');
        return;
      }
      const hello = readClientHello(m.body);
      if (!hello) {
        this.refuse('a malformed ClientHello');
        return;
      }
      if (hello.earlyData) {
        this.refuse('the client offers TLS 1.3 early data, which would come before its certificate');
        return;
      }
      if (this.clientRandom !== null && hello.random !== this.clientRandom) {
        this.refuse('the second ClientHello has a different random');
        return;
      }
      this.clientRandom = hello.random;
      this.hellos++;
    } else if (this.hellos === 0) {
      this.refuse(`handshake message ${m.type} before the ClientHello`);
      return;
    } else if (m.type === HANDSHAKE.clientKeyExchange) {
      this.sawClientKeyExchange = true;
    } else if (m.type !== HANDSHAKE.certificate && m.type !== HANDSHAKE.certificateVerify) {
      this.refuse(`an unexpected handshake message (type ${m.type}) in the client's TLS 1.2 flight`);
      return;
    } else if (this.sawClientKeyExchange && m.type === HANDSHAKE.certificate) {
      this.refuse('a Certificate after the ClientKeyExchange');
      return;
    }
    this.cleartext.push(m.type === HANDSHAKE.clientHello ? {type: m.type, body: new Uint8Array(0)} : m);
  }

  private decrypt(header: Uint8Array, body: Uint8Array): void {
    const inner = decryptTls13Record(this.key!, this.seq++, header, body);
    this.work += body.length;
    if (!inner) {
      this.refuse("an encrypted record of the client's handshake does not decrypt with its handshake key");
      return;
    }
    if (inner.type === CONTENT.alert) {
      this.refuse("an alert record in the middle of the client's handshake");
      return;
    }
    if (inner.type !== CONTENT.handshake) {
      this.refuse(`a record of inner type ${inner.type} in the client's encrypted handshake`);
      return;
    }
    const done = this.sealed.push(inner.content, this.maxBytes);
    if (typeof done === 'string') {
      this.refuse(done);
      return;
    }
    for (const m of done) {
      if (m.type !== HANDSHAKE.certificate && m.type !== HANDSHAKE.certificateVerify && m.type !== HANDSHAKE.finished) {
        this.refuse(`an unexpected handshake message (type ${m.type}) in the client's TLS 1.3 flight`);
        return;
      }
      this.encrypted.push(m);
      if (m.type === HANDSHAKE.finished) {
        if (this.sealed.pending > 0) {
          this.refuse('bytes after the Finished message');
          return;
        }
        this.state = 'complete';
        this.drop();
        return;
      }
    }
  }
}

/** The random and whether early_data is offered, from a ClientHello body (RFC 8446 4.1.2); null when malformed. */
export function readClientHello(body: Uint8Array): {random: string; earlyData: boolean} | null {
  const u16 = (p: number): number => (body[p]! << 8) | body[p + 1]!;
  if (body.length < 35) return null;
  const random = Buffer.from(body.subarray(2, 34)).toString('hex');
  let p = 34;
  p += 1 + body[p]!;
  if (p + 2 > body.length) return null;
  p += 2 + u16(p);
  if (p + 1 > body.length) return null;
  p += 1 + body[p]!;
  if (p > body.length) return null;
  let earlyData = false;
  if (p + 2 <= body.length) {
    const end = p + 2 + u16(p);
    if (end > body.length) return null;
    p += 2;
    while (p + 4 <= end) {
      if (u16(p) === EXT_EARLY_DATA) earlyData = true;
      p += 4 + u16(p + 2);
    }
    if (p !== end) return null;
  }
  return {random, earlyData};
}
