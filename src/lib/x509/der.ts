/**
 * A minimal DER reader and writer.
 *
 * Why not @peculiar/asn1-schema here: parsing must keep the exact bytes and tags of
 * names (OpenSSL's RFC 2253 rendering depends on the string tag and raw octets, facts
 * doc section 8), a 500,000-entry CRL must load in well under 2 s, and `inspect` /
 * `decode-header` must start in ~2.5x `node -e 0`: importing @peculiar/x509 with its
 * crypto provider alone costs ~150 ms here. Generation (issue.ts) uses this writer too.
 */
import {remember} from '../memo.js';
import {INPUT_LIMITS} from '../limits.js';

/** One TLV: tag byte(s), where its content starts and ends inside `buf`. */
export interface Tlv {
  /** The full identifier octet (class, constructed bit, tag number < 31). */
  tag: number;
  /** Offset of the identifier octet. */
  start: number;
  /** Offset of the first content octet. */
  contentStart: number;
  /** Offset one past the last content octet (before the end-of-contents octets of a BER indefinite length). */
  contentEnd: number;
  /** Offset one past the whole TLV. */
  end: number;
  buf: Uint8Array;
}

export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8String: 0x0c,
  NumericString: 0x12,
  PrintableString: 0x13,
  T61String: 0x14,
  IA5String: 0x16,
  UTCTime: 0x17,
  GeneralizedTime: 0x18,
  VisibleString: 0x1a,
  UniversalString: 0x1c,
  BMPString: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Nesting bound for BER indefinite lengths (a hostile input cannot exhaust the stack). */
const MAX_BER_DEPTH = INPUT_LIMITS.berNesting;

/**
 * Reads the TLV at `offset`. Only low tag numbers (< 31) are supported, which covers
 * every structure in certificates and CRLs. A constructed element may use the BER
 * indefinite length (OpenSSL's parser accepts it, e.g. in a subject's SET); its content
 * then ends at the matching end-of-contents octets.
 * @throws DerError on truncation, bad lengths or lengths past `limit`.
 */
export function readTlv(buf: Uint8Array, offset = 0, limit = buf.length, depth = 0): Tlv {
  if (offset + 2 > limit) throw new DerError(`truncated DER at offset ${offset}`);
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`high-tag-number form at offset ${offset}`);
  let len = buf[offset + 1]!;
  let p = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) {
      if (!(tag & 0x20)) throw new DerError(`indefinite length on a primitive element at offset ${offset}`);
      if (depth >= MAX_BER_DEPTH) throw new DerError(`indefinite lengths nested deeper than INPUT_LIMITS.berNesting = ${MAX_BER_DEPTH} at offset ${offset}`);
      let q = p;
      for (;;) {
        if (q + 2 > limit) throw new DerError(`no end-of-contents for the indefinite length at offset ${offset}`);
        if (buf[q] === 0 && buf[q + 1] === 0) return {tag, start: offset, contentStart: p, contentEnd: q, end: q + 2, buf};
        q = readTlv(buf, q, limit, depth + 1).end;
      }
    }
    if (n > 4) throw new DerError(`length too large at offset ${offset}`);
    if (p + n > limit) throw new DerError(`truncated length at offset ${offset}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    p += n;
  }
  const end = p + len;
  if (end > limit) throw new DerError(`truncated DER: element at offset ${offset} needs ${len} bytes, ${limit - p} left`);
  return {tag, start: offset, contentStart: p, contentEnd: end, end, buf};
}

/** Content octets of a TLV (a view, not a copy). */
export function content(t: Tlv): Uint8Array {
  return t.buf.subarray(t.contentStart, t.contentEnd);
}

/** The whole TLV's bytes (a view). */
export function raw(t: Tlv): Uint8Array {
  return t.buf.subarray(t.start, t.end);
}

/** The children of a constructed TLV. */
export function children(t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let p = t.contentStart;
  while (p < t.contentEnd) {
    const c = readTlv(t.buf, p, t.contentEnd);
    out.push(c);
    p = c.end;
  }
  return out;
}

/** The TLV inside an explicitly tagged element ([0] EXPLICIT ...). */
export function inner(t: Tlv): Tlv {
  return readTlv(t.buf, t.contentStart, t.contentEnd);
}

/** Reads exactly one TLV spanning the whole buffer. */
export function parseOne(buf: Uint8Array): Tlv {
  const t = readTlv(buf, 0, buf.length);
  if (t.end !== buf.length) throw new DerError(`${buf.length - t.end} trailing bytes after DER element`);
  return t;
}

/** Asserts a tag. */
export function expectTag(t: Tlv, tag: number, what: string): Tlv {
  if (t.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`);
  return t;
}

/** Decodes an OBJECT IDENTIFIER's content to dotted form. */
export function decodeOid(t: Tlv): string {
  const c = content(t);
  if (c.length === 0) throw new DerError('empty OID');
  // The same few OIDs come in every certificate: decoded once (bounded memo; the result depends only on the bytes).
  if (c.length > 24) return decodeOidUncached(c);
  return remember(OID_MEMO, String.fromCharCode.apply(null, c as unknown as number[]), 1024, decodeOidUncached, c);
}

/** Content octets (as char codes) → dotted OID. */
const OID_MEMO = new Map<string, string>();

/** decodeOid without the memo (content octets, not empty). */
export function decodeOidUncached(c: Uint8Array): string {
  const parts: number[] = [];
  let v = 0;
  for (let i = 0; i < c.length; i++) {
    const b = c[i]!;
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      if (parts.length === 0) {
        const first = v < 40 ? 0 : v < 80 ? 1 : 2;
        parts.push(first, v - first * 40);
      } else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** Uppercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').toUpperCase();
}

/** Decodes UTCTime or GeneralizedTime (DER forms, `Z` only) to a Date. */
export function decodeTime(t: Tlv): Date {
  const s = Buffer.from(content(t)).toString('latin1');
  let m: RegExpMatchArray | null;
  if (t.tag === TAG.UTCTime) {
    m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(s);
    if (!m) throw new DerError(`bad UTCTime "${s}"`);
    const yy = Number(m[1]);
    // RFC 5280 4.1.2.5.1: YY >= 50 is 19YY, else 20YY.
    const year = yy >= 50 ? 1900 + yy : 2000 + yy;
    return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)));
  }
  if (t.tag === TAG.GeneralizedTime) {
    m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d+))?Z$/.exec(s);
    if (!m) throw new DerError(`bad GeneralizedTime "${s}"`);
    const ms = m[7] ? Math.floor(Number('0.' + m[7]) * 1000) : 0;
    return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms));
  }
  throw new DerError(`expected a time, got tag 0x${t.tag.toString(16)}`);
}

// ---------------------------------------------------------------------------------
// Writer: just enough to build CRLs and small structures fast.

/** Encodes a DER length. */
export function encodeLength(len: number): Uint8Array {
  if (len < 0x80) return Uint8Array.of(len);
  const bytes: number[] = [];
  let n = len;
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** Concatenates byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

/** Encodes one TLV from a tag and content parts. */
export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  return Buffer.concat([Uint8Array.of(tag), encodeLength(len), ...parts]);
}

/** DER INTEGER from unsigned big-endian magnitude bytes (adds a 0x00 sign byte if needed). */
export function encodeUnsignedInteger(magnitude: Uint8Array): Uint8Array {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  let m = magnitude.subarray(i);
  if (m.length === 0) m = Uint8Array.of(0);
  if (m[0]! & 0x80) return tlv(TAG.INTEGER, Uint8Array.of(0), m);
  return tlv(TAG.INTEGER, m);
}

/** DER INTEGER for a small non-negative number. */
export function encodeSmallInteger(n: number | bigint): Uint8Array {
  let v = BigInt(n);
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  } while (v > 0n);
  return encodeUnsignedInteger(Uint8Array.from(bytes));
}

/** Encodes a dotted OID. */
export function encodeOid(oid: string): Uint8Array {
  const parts = oid.split('.').map(Number);
  const body: number[] = [];
  const push = (v: number): void => {
    const tmp: number[] = [v & 0x7f];
    v = Math.floor(v / 128);
    while (v > 0) {
      tmp.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    body.push(...tmp);
  };
  push(parts[0]! * 40 + parts[1]!);
  for (const p of parts.slice(2)) push(p);
  return tlv(TAG.OID, Uint8Array.from(body));
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** RFC 5280 5.1.2.4/4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
export function encodeTime(d: Date): Uint8Array {
  const y = d.getUTCFullYear();
  const rest = `${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}${pad2(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(TAG.UTCTime, Buffer.from(pad2(y % 100) + rest, 'latin1'));
  return tlv(TAG.GeneralizedTime, Buffer.from(String(y).padStart(4, '0') + rest, 'latin1'));
}
