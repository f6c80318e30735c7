/**
 * Reading a TLS handshake from captured bytes (what the server sent): records (RFC 8446
 * 5.1), handshake messages (4), the ServerHello's version and cipher suite (4.1.3,
 * supported_versions 4.2.1), the CertificateRequest's acceptable CA names (TLS 1.2:
 * RFC 5246 7.4.4 certificate_authorities; TLS 1.3: the certificate_authorities extension,
 * RFC 8446 4.2.4), and the decryption of TLS 1.3 handshake records (5.2, 5.3, 7.1, 7.3)
 * with the handshake traffic secret that Node's `keylog` event reports. probe reads what a
 * server sent (SERVER_HANDSHAKE_TRAFFIC_SECRET); serve's listener frame (client-flight.ts)
 * reads what a client sent (CLIENT_HANDSHAKE_TRAFFIC_SECRET).
 */
import {createDecipheriv, createHmac, createSecretKey, type KeyObject} from 'node:crypto';

export const CONTENT = {changeCipherSpec: 20, alert: 21, handshake: 22, applicationData: 23} as const;
export const HANDSHAKE = {
  clientHello: 1,
  serverHello: 2,
  encryptedExtensions: 8,
  certificate: 11,
  certificateRequest: 13,
  certificateVerify: 15,
  clientKeyExchange: 16,
  serverHelloDone: 14,
  finished: 20,
} as const;

export interface TlsRecord {
  type: number;
  /** The 5-byte header (the AEAD additional data in TLS 1.3). */
  header: Uint8Array;
  fragment: Uint8Array;
}

export interface HandshakeMessage {
  type: number;
  body: Uint8Array;
}

/** Splits a byte stream into records; an incomplete last record is left out. */
export function splitRecords(data: Uint8Array): TlsRecord[] {
  const out: TlsRecord[] = [];
  let p = 0;
  while (p + 5 <= data.length) {
    const len = (data[p + 3]! << 8) | data[p + 4]!;
    if (p + 5 + len > data.length) break;
    out.push({type: data[p]!, header: data.subarray(p, p + 5), fragment: data.subarray(p + 5, p + 5 + len)});
    p += 5 + len;
  }
  return out;
}

/** Splits concatenated handshake fragments into messages; an incomplete last one is left out. */
export function splitHandshake(data: Uint8Array): HandshakeMessage[] {
  const out: HandshakeMessage[] = [];
  let p = 0;
  while (p + 4 <= data.length) {
    const len = (data[p + 1]! << 16) | (data[p + 2]! << 8) | data[p + 3]!;
    if (p + 4 + len > data.length) break;
    out.push({type: data[p]!, body: data.subarray(p + 4, p + 4 + len)});
    p += 4 + len;
  }
  return out;
}

const concat = (parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
const u16 = (b: Uint8Array, p: number): number => (b[p]! << 8) | b[p + 1]!;

export interface ServerHello {
  /** 'TLSv1.3' or 'TLSv1.2' (or older). */
  version: string;
  cipherSuite: number;
  /** The key_share extension's group (TLS 1.3, RFC 8446 4.2.8), when there is one. */
  keyShareGroup?: number;
}

const VERSIONS: Record<number, string> = {772: 'TLSv1.3', 771: 'TLSv1.2', 770: 'TLSv1.1', 769: 'TLSv1'};

/** Decodes a ServerHello body; supported_versions (43) gives TLS 1.3. */
export function parseServerHello(body: Uint8Array): ServerHello {
  let p = 2 + 32;
  const sidLen = body[p]!;
  p += 1 + sidLen;
  const cipherSuite = u16(body, p);
  p += 3; // suite + compression
  let version = u16(body, 0);
  let keyShareGroup: number | undefined;
  if (p + 2 <= body.length) {
    const end = p + 2 + u16(body, p);
    p += 2;
    while (p + 4 <= end) {
      const type = u16(body, p);
      const len = u16(body, p + 2);
      if (type === 43 && len === 2) version = u16(body, p + 4);
      if (type === 51 && len >= 2) keyShareGroup = u16(body, p + 4);
      p += 4 + len;
    }
  }
  return {version: VERSIONS[version] ?? `0x${version.toString(16)}`, cipherSuite, ...(keyShareGroup === undefined ? {} : {keyShareGroup})};
}

/** The DER Names in a DistinguishedName list (opaque DistinguishedName<1..2^16-1>, each 2-byte length prefixed). */
function readNameList(b: Uint8Array, p: number, end: number): Uint8Array[] {
  const names: Uint8Array[] = [];
  while (p + 2 <= end) {
    const len = u16(b, p);
    names.push(b.subarray(p + 2, p + 2 + len));
    p += 2 + len;
  }
  return names;
}

export interface CertificateRequestInfo {
  /** DER Names of the acceptable client CAs, in the server's order (empty: none advertised). */
  caNames: Uint8Array[];
  /** SignatureScheme code points (RFC 8446 4.2.3). */
  signatureSchemes: number[];
}

/**
 * Decodes a CertificateRequest body.
 * TLS 1.2: certificate_types<1..2^8-1>, supported_signature_algorithms<2..2^16-2>,
 * certificate_authorities<0..2^16-1>. TLS 1.3: certificate_request_context<0..2^8-1>,
 * extensions<2..2^16-1> with signature_algorithms (13) and certificate_authorities (47).
 */
export function parseCertificateRequest(body: Uint8Array, tls13: boolean): CertificateRequestInfo {
  const schemes = (p: number, end: number): number[] => {
    const out: number[] = [];
    for (; p + 2 <= end; p += 2) out.push(u16(body, p));
    return out;
  };
  if (!tls13) {
    let p = 1 + body[0]!;
    const sigLen = u16(body, p);
    const signatureSchemes = schemes(p + 2, p + 2 + sigLen);
    p += 2 + sigLen;
    const caLen = p + 2 <= body.length ? u16(body, p) : 0;
    return {caNames: readNameList(body, p + 2, p + 2 + caLen), signatureSchemes};
  }
  let p = 1 + body[0]!;
  const end = p + 2 + u16(body, p);
  p += 2;
  const info: CertificateRequestInfo = {caNames: [], signatureSchemes: []};
  while (p + 4 <= end) {
    const type = u16(body, p);
    const len = u16(body, p + 2);
    const v = p + 4;
    if (type === 13) info.signatureSchemes = schemes(v + 2, v + 2 + u16(body, v));
    if (type === 47) info.caNames = readNameList(body, v + 2, v + 2 + u16(body, v));
    p = v + len;
  }
  return info;
}

/**
 * The certificates of a Certificate message, leaf first, as the peer sent them.
 * TLS 1.2: certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1> (RFC 5246 7.4.2).
 * TLS 1.3: certificate_request_context<0..2^8-1>, then CertificateEntry {cert_data<1..2^24-1>,
 * extensions<0..2^16-1>} (RFC 8446 4.4.2).
 * @throws Error when the lengths do not add up (callers then keep Node's view of the chain)
 */
export function parseCertificateMessage(body: Uint8Array, tls13: boolean): Uint8Array[] {
  const bad = (): never => {
    throw new Error('malformed Certificate message');
  };
  const u24 = (p: number): number => (body[p]! << 16) | (body[p + 1]! << 8) | body[p + 2]!;
  let p = 0;
  if (tls13) {
    if (body.length < 1) bad();
    p = 1 + body[0]!;
  }
  if (p + 3 > body.length) bad();
  const end = p + 3 + u24(p);
  if (end !== body.length) bad();
  p += 3;
  const out: Uint8Array[] = [];
  while (p < end) {
    if (p + 3 > end) bad();
    const len = u24(p);
    p += 3;
    if (len === 0 || p + len > end) bad();
    out.push(body.subarray(p, p + len));
    p += len;
    if (tls13) {
      if (p + 2 > end) bad();
      p += 2 + u16(body, p);
    }
  }
  if (p !== end) bad();
  return out;
}

/**
 * HKDF-Expand-Label (RFC 8446 7.1) for outputs no longer than one hash block. Keys are
 * KeyObjects: with a Buffer key, Node 24's createHmac and createDecipheriv first test it
 * with a check that throws and catches (`isKeyObject`), about 60 us a call, which serve paid
 * several times on every TLS 1.3 connection (issue 22, measured with --cpu-prof).
 */
function expandLabel(hash: string, secret: KeyObject, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, full.length]), full, Buffer.from([0])]);
  return createHmac(hash, secret)
    .update(Buffer.concat([info, Buffer.from([1])]))
    .digest()
    .subarray(0, length);
}

/** The TLS 1.3 cipher suites by the standard name Node's getCipher() reports. */
export const TLS13_SUITE_IDS: Readonly<Record<string, number>> = {
  TLS_AES_128_GCM_SHA256: 0x1301,
  TLS_AES_256_GCM_SHA384: 0x1302,
  TLS_CHACHA20_POLY1305_SHA256: 0x1303,
};

const SUITES: Record<number, {cipher: string; keyLen: number; hash: string}> = {
  4865: {cipher: 'aes-128-gcm', keyLen: 16, hash: 'sha256'},
  4866: {cipher: 'aes-256-gcm', keyLen: 32, hash: 'sha384'},
  4867: {cipher: 'chacha20-poly1305', keyLen: 32, hash: 'sha256'},
};

/** The record key and IV of one TLS 1.3 traffic secret (RFC 8446 7.3), for decryptTls13Record. */
export interface Tls13RecordKey {
  cipher: string;
  key: KeyObject;
  iv: Buffer;
}

/**
 * Derives the record key and IV of a TLS 1.3 traffic secret (RFC 8446 7.3).
 * @returns null when the cipher suite is not one of the three TLS 1.3 suites.
 */
export function tls13RecordKey(cipherSuite: number, trafficSecret: Uint8Array): Tls13RecordKey | null {
  const suite = SUITES[cipherSuite];
  if (!suite) return null;
  const secret = createSecretKey(trafficSecret);
  return {
    cipher: suite.cipher,
    key: createSecretKey(expandLabel(suite.hash, secret, 'key', suite.keyLen)),
    iv: expandLabel(suite.hash, secret, 'iv', 12),
  };
}

/**
 * Decrypts one TLS 1.3 record (RFC 8446 5.2, 5.3) with sequence number `seq`.
 * @returns the inner content and its type, or null when the record does not authenticate.
 */
export function decryptTls13Record(k: Tls13RecordKey, seq: bigint, header: Uint8Array, body: Uint8Array): {type: number; content: Uint8Array} | null {
  if (body.length < 17) return null;
  const nonce = Buffer.from(k.iv);
  for (let i = 0; i < 8; i++) nonce[11 - i]! ^= Number((seq >> BigInt(8 * i)) & 0xffn);
  let inner: Buffer;
  try {
    const d = createDecipheriv(k.cipher as 'aes-128-gcm', k.key, nonce, {authTagLength: 16});
    d.setAAD(header);
    d.setAuthTag(body.subarray(body.length - 16));
    inner = Buffer.concat([d.update(body.subarray(0, body.length - 16)), d.final()]);
  } catch {
    return null;
  }
  // TLSInnerPlaintext: content, content type, zero padding (5.2).
  let end = inner.length - 1;
  while (end >= 0 && inner[end] === 0) end--;
  if (end < 0) return null;
  return {type: inner[end]!, content: inner.subarray(0, end)};
}

/**
 * Decrypts one side's encrypted handshake records of TLS 1.3 (the server's after its
 * ServerHello, or the client's after its ClientHello; cleartext records are skipped) under
 * that side's handshake traffic secret, and returns the handshake messages in them
 * (EncryptedExtensions, CertificateRequest, Certificate, CertificateVerify, Finished).
 * Stops at the first record that does not decrypt (application data keys start there).
 * @returns null when the cipher suite is not one of the three TLS 1.3 suites.
 */
export function decryptTls13Handshake(records: TlsRecord[], cipherSuite: number, handshakeSecret: Uint8Array): HandshakeMessage[] | null {
  const k = tls13RecordKey(cipherSuite, handshakeSecret);
  if (!k) return null;
  const plain: Uint8Array[] = [];
  let seq = 0n;
  for (const r of records) {
    if (r.type !== CONTENT.applicationData) continue;
    const inner = decryptTls13Record(k, seq++, r.header, r.fragment);
    if (!inner || inner.type !== CONTENT.handshake) break;
    plain.push(inner.content);
  }
  return splitHandshake(concat(plain));
}

/** Alert descriptions (RFC 8446 6, RFC 5246 7.2). */
export const ALERTS: Record<number, string> = {
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  22: 'record_overflow',
  40: 'handshake_failure',
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  44: 'certificate_revoked',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  47: 'illegal_parameter',
  48: 'unknown_ca',
  49: 'access_denied',
  50: 'decode_error',
  51: 'decrypt_error',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  90: 'user_canceled',
  109: 'missing_extension',
  110: 'unsupported_extension',
  112: 'unrecognized_name',
  113: 'bad_certificate_status_response',
  115: 'unknown_psk_identity',
  116: 'certificate_required',
  120: 'no_application_protocol',
};

/** The cleartext handshake messages (TLS 1.2 before ChangeCipherSpec; TLS 1.3 only the ServerHello). */
export function cleartextHandshake(records: TlsRecord[]): {messages: HandshakeMessage[]; rest: TlsRecord[]} {
  const frags: Uint8Array[] = [];
  let i = 0;
  for (; i < records.length; i++) {
    const r = records[i]!;
    if (r.type === CONTENT.handshake) frags.push(r.fragment);
    else if (r.type !== CONTENT.changeCipherSpec || frags.length === 0) break;
    else {
      // TLS 1.2: CCS ends the cleartext part. TLS 1.3: a compatibility CCS, then encrypted records.
      i++;
      break;
    }
  }
  return {messages: splitHandshake(concat(frags)), rest: records.slice(i)};
}

/** A plaintext alert record among the records (TLS 1.2, or a TLS 1.3 alert before keys). */
export function plaintextAlert(records: TlsRecord[]): number | undefined {
  const a = records.find((r) => r.type === CONTENT.alert && r.fragment.length === 2);
  return a ? a.fragment[1] : undefined;
}
