/**
 * A small ASN.1 tree for building malformed and BER-encoded certificates in tests (the
 * BER-subject client, the mutation fuzzer): parse DER into nodes, change them, encode
 * back (definite lengths, or indefinite on the nodes marked so), and re-sign a TBS.
 */
import {type KeyObject, sign} from 'node:crypto';

export interface Node {
  tag: number;
  /** Constructed: children; primitive: content. */
  children?: Node[];
  content?: Uint8Array;
  /** Encode this constructed node with the BER indefinite length. */
  indefinite?: boolean;
}

/** Parses DER (definite lengths) into a tree; constructed tags are descended into. */
export function parseTree(buf: Uint8Array, start = 0, end = buf.length): Node[] {
  const out: Node[] = [];
  let p = start;
  while (p < end) {
    const tag = buf[p]!;
    let len = buf[p + 1]!;
    let q = p + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[q + i]!;
      q += n;
    }
    const body = buf.subarray(q, q + len);
    out.push(tag & 0x20 ? {tag, children: parseTree(buf, q, q + len)} : {tag, content: body});
    p = q + len;
  }
  return out;
}

function lengthBytes(n: number): number[] {
  if (n < 0x80) return [n];
  const b: number[] = [];
  while (n > 0) {
    b.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return [0x80 | b.length, ...b];
}

/** Encodes a node (DER lengths unless marked indefinite). */
export function encode(n: Node): Buffer {
  const body = n.children ? Buffer.concat(n.children.map(encode)) : Buffer.from(n.content ?? []);
  if (n.indefinite && n.children) return Buffer.concat([Buffer.from([n.tag, 0x80]), body, Buffer.from([0, 0])]);
  return Buffer.concat([Buffer.from([n.tag, ...lengthBytes(body.length)]), body]);
}

/** The certificate's three parts. */
export function certParts(der: Uint8Array): {tbs: Node; sigAlg: Node; sig: Node} {
  const [cert] = parseTree(der);
  const [tbs, sigAlg, sig] = cert!.children!;
  return {tbs: tbs!, sigAlg: sigAlg!, sig: sig!};
}

/** TBS fields by name (v3 certificates). */
export function tbsField(tbs: Node, name: 'serial' | 'signature' | 'issuer' | 'validity' | 'subject' | 'spki' | 'extensions'): Node {
  const idx = {serial: 1, signature: 2, issuer: 3, validity: 4, subject: 5, spki: 6, extensions: 7}[name];
  return tbs.children![idx]!;
}

/** Re-signs a TBS with the issuer's key (hash for ECDSA/RSA; null for Ed25519) and assembles the certificate. */
export function resign(tbs: Node, sigAlg: Node, key: KeyObject, hash: string | null = 'sha256'): Buffer {
  const tbsDer = encode(tbs);
  const signature = sign(hash, tbsDer, key);
  const body = Buffer.concat([tbsDer, encode(sigAlg), encode({tag: 0x03, content: Buffer.concat([Buffer.from([0]), signature])})]);
  return Buffer.concat([Buffer.from([0x30, ...lengthBytes(body.length)]), body]);
}

/** PEM for DER. */
export function pem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}
