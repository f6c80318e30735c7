/**
 * The key exchange of a connection, read from what OUR server sent (Node tells a server
 * nothing about the group: getEphemeralKeyInfo answers only on a client). TLS 1.3: the
 * ServerHello's key_share group (RFC 8446 4.2.8); TLS 1.2 and older: the named curve of
 * the ServerKeyExchange (RFC 8422 5.4), none for RSA key transport. Both are in clear.
 * Fed chunk by chunk, linear in the bytes, bounded; it stops at the first answer.
 *
 * The names are the ones s2n-tls (ALB's TLS stack) gives the groups, for the connection
 * log's tls_keyexchange field (aws-reference 5, 13.3).
 */
import {CONTENT, HANDSHAKE, parseServerHello} from './handshake.js';

/** IANA TLS Supported Groups code points, with s2n-tls's names. */
export const KEY_EXCHANGE_GROUP_NAMES: Readonly<Record<number, string>> = {
  23: 'secp256r1',
  24: 'secp384r1',
  25: 'secp521r1',
  29: 'x25519',
  30: 'x448',
  4587: 'SecP256r1MLKEM768',
  4588: 'X25519MLKEM768',
  4589: 'SecP384r1MLKEM1024',
};

/** The most server bytes looked at (our own certificate chain sits before a TLS 1.2 ServerKeyExchange). */
export const SERVER_FLIGHT_MAX_BYTES = 64 * 1024;

export class ServerFlightReader {
  /** The group's name (`-`: RSA key transport or not found); undefined while reading. */
  keyExchange: string | undefined;
  private records = Buffer.alloc(0);
  private handshake = Buffer.alloc(0);
  private seen = 0;

  /** One chunk our server wrote to this connection. */
  push(chunk: Uint8Array): void {
    if (this.keyExchange !== undefined) return;
    this.seen += chunk.length;
    if (this.seen > SERVER_FLIGHT_MAX_BYTES) {
      this.keyExchange = '-';
      return;
    }
    this.records = this.records.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.records, chunk]);
    let p = 0;
    while (p + 5 <= this.records.length && this.keyExchange === undefined) {
      const len = this.records.readUInt16BE(p + 3);
      if (p + 5 + len > this.records.length) break;
      const type = this.records[p]!;
      const fragment = this.records.subarray(p + 5, p + 5 + len);
      p += 5 + len;
      if (type !== CONTENT.handshake) {
        // A ChangeCipherSpec or an encrypted record: nothing clear follows that tells more.
        if (type !== CONTENT.changeCipherSpec) this.keyExchange = '-';
        continue;
      }
      this.handshake = Buffer.concat([this.handshake, fragment]);
      this.readMessages();
    }
    this.records = this.records.subarray(p);
  }

  private readMessages(): void {
    while (this.handshake.length >= 4 && this.keyExchange === undefined) {
      const len = this.handshake.readUIntBE(1, 3);
      if (this.handshake.length < 4 + len) return;
      const type = this.handshake[0]!;
      const body = this.handshake.subarray(4, 4 + len);
      this.handshake = this.handshake.subarray(4 + len);
      if (type === HANDSHAKE.serverHello) {
        const hello = parseServerHello(body);
        // A HelloRetryRequest names the group too; the ServerHello that follows names the same one.
        if (hello.version === 'TLSv1.3') this.keyExchange = this.name(hello.keyShareGroup);
      } else if (type === 12 /* server_key_exchange */) {
        // ECParameters: curve_type 3 (named_curve), then the NamedCurve (RFC 8422 5.4).
        this.keyExchange = body[0] === 3 && body.length >= 3 ? this.name(body.readUInt16BE(1)) : '-';
      } else if (type === HANDSHAKE.serverHelloDone) {
        this.keyExchange = '-';
      }
    }
  }

  private name(group: number | undefined): string {
    if (group === undefined) return '-';
    return KEY_EXCHANGE_GROUP_NAMES[group] ?? `0x${group.toString(16).padStart(4, '0')}`;
  }
}
