/**
 * OpenSSL's canonical name encoding (crypto/x509/x_name.c x509_name_canon), which is how
 * OpenSSL compares names (X509_NAME_cmp) when it matches an issuer to a certificate or a
 * CRL, and how it checks directoryName constraints: RFC 5280 section 7.1 in practice.
 *
 * Each RDN becomes a DER SET of SEQUENCE { OID, value }. A value of a string type in
 * ASN1_MASK_CANON (UTF8, BMP, Universal, Printable, T61, IA5, Visible) is converted to
 * UTF-8 with leading and trailing white space removed, inner runs of white space
 * collapsed to one space and ASCII letters lowercased, then encoded as a UTF8String;
 * other values are kept as they are. The RDNs are concatenated without the outer
 * SEQUENCE header; an empty name is empty.
 */
import {remember} from '../memo.js';
import {children, content, decodeOid, raw, readTlv, TAG, tlv} from './der.js';

const CANON_TAGS = new Set<number>([TAG.UTF8String, TAG.BMPString, TAG.UniversalString, TAG.PrintableString, TAG.T61String, TAG.IA5String, TAG.VisibleString]);

const isSpace = (b: number): boolean => b === 0x20 || (b >= 0x09 && b <= 0x0d);

/** A string value's UTF-8 bytes as ASN1_STRING_to_UTF8 converts them; undefined when OpenSSL could not. */
function toUtf8(tag: number, v: Uint8Array): Uint8Array | undefined {
  switch (tag) {
    case TAG.BMPString: {
      if (v.length % 2) return undefined;
      let s = '';
      for (let i = 0; i < v.length; i += 2) s += String.fromCharCode((v[i]! << 8) | v[i + 1]!);
      return Buffer.from(s, 'utf8');
    }
    case TAG.UniversalString: {
      if (v.length % 4) return undefined;
      let s = '';
      for (let i = 0; i < v.length; i += 4) {
        const cp = ((v[i]! << 24) >>> 0) + (v[i + 1]! << 16) + (v[i + 2]! << 8) + v[i + 3]!;
        if (cp > 0x10ffff) return undefined;
        s += String.fromCodePoint(cp);
      }
      return Buffer.from(s, 'utf8');
    }
    case TAG.UTF8String:
      return v;
    default: {
      // Printable, T61 (read as Latin-1 by OpenSSL), IA5, Visible: one byte per character.
      let ascii = true;
      for (const b of v) if (b > 0x7f) ascii = false;
      return ascii ? v : Buffer.from(Buffer.from(v).toString('latin1'), 'utf8');
    }
  }
}

/** asn1_string_canon on UTF-8 bytes. */
function canonBytes(u: Uint8Array): Uint8Array {
  let a = 0;
  let b = u.length;
  while (a < b && isSpace(u[a]!)) a++;
  while (b > a && isSpace(u[b - 1]!)) b--;
  const out: number[] = [];
  for (let i = a; i < b; ) {
    const c = u[i]!;
    if (c > 0x7f) {
      out.push(c);
      i++;
    } else if (isSpace(c)) {
      out.push(0x20);
      while (i < b && isSpace(u[i]!)) i++;
    } else {
      out.push(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
      i++;
    }
  }
  return Uint8Array.from(out);
}

/** DER SET OF ordering (OpenSSL der_cmp): bytes, then length. */
function derCompare(x: Uint8Array, y: Uint8Array): number {
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/**
 * The canonical encoding of a Name (DER, or BER as OpenSSL's parser accepts it), as a
 * latin1 string for use as a map key and for prefix comparison. Never throws: a name
 * that cannot be read canonicalises to its raw bytes prefixed with a marker, so it
 * matches only itself.
 */
export function canonicalName(nameDer: Uint8Array): string {
  // Every leaf of a CA carries the same issuer name: canonicalised once (bounded memo; the result depends only on the bytes).
  return remember(CANON_MEMO, Buffer.from(nameDer.buffer, nameDer.byteOffset, nameDer.byteLength).toString('latin1'), 1024, canonicalNameUncached, nameDer);
}

/** Recently canonicalised names: name DER (latin1) → canonical encoding. */
const CANON_MEMO = new Map<string, string>();

function canonicalNameUncached(nameDer: Uint8Array): string {
  try {
    const seq = readTlv(nameDer, 0);
    const parts: Uint8Array[] = [];
    for (const set of children(seq)) {
      const entries: Uint8Array[] = [];
      for (const atv of children(set)) {
        const [oidT, valT] = children(atv);
        if (!oidT || !valT) throw new Error('bad AttributeTypeAndValue');
        decodeOid(oidT);
        let value: Uint8Array = raw(valT);
        if (CANON_TAGS.has(valT.tag)) {
          const u = toUtf8(valT.tag, content(valT));
          if (!u) throw new Error('bad string');
          value = tlv(TAG.UTF8String, canonBytes(u));
        } else if (valT.contentEnd !== valT.end || valT.end - valT.start !== value.length) {
          value = tlv(valT.tag, content(valT));
        }
        entries.push(tlv(TAG.SEQUENCE, raw(oidT), value));
      }
      entries.sort(derCompare);
      parts.push(tlv(TAG.SET, ...entries));
    }
    return Buffer.concat(parts).toString('latin1');
  } catch {
    return '\u0000raw:' + Buffer.from(nameDer).toString('latin1');
  }
}
