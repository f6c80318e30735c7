/**
 * Distinguished-name strings: the one module that renders names (aws-reference 8).
 *
 * `formatRfc2253` reproduces OpenSSL's `X509_NAME_print_ex(..., XN_FLAG_RFC2253)`, which
 * is what ALB puts in `X-Amzn-Mtls-Clientcert-Subject` / `-Issuer` and in connection
 * logs (aws-reference 1.5), byte for byte with `openssl x509 -nameopt RFC2253`.
 */
import {children, content, decodeOid, encodeOid, raw, readTlv, TAG, tlv, type Tlv, toHex} from './der.js';
import {remember} from '../memo.js';
import {OPENSSL_OBJECTS} from './openssl-objects.js';

/** One attribute of a name, in DER order. */
export interface NameAttribute {
  oid: string;
  /** The value's ASN.1 tag (UTF8String, PrintableString, BMPString, ...). */
  tag: number;
  /** The value's content octets. */
  value: Uint8Array;
  /** The whole value TLV (for `#hex` dumps). */
  valueDer: Uint8Array;
  /** Index of the RDN (SET) this attribute belongs to. */
  set: number;
}

/**
 * OpenSSL short names (XN_FLAG_FN_SN) for every OID OpenSSL knows, built from its object
 * table (openssl-objects.ts, generated from `openssl list -objects`). OpenSSL prints an
 * attribute whose OID it knows with this label and its string value; an OID it does not
 * know prints as `dotted.oid=#HEX` (XN_FLAG_DUMP_UNKNOWN_FIELDS), so the table must be
 * OpenSSL's whole table, not just the usual name attributes (e.g. `mail`, RFC 1274).
 */
export const OPENSSL_SHORT_NAMES: Readonly<Record<string, string>> = buildShortNames();

function buildShortNames(): Record<string, string> {
  const table: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const line of OPENSSL_OBJECTS.split('\n')) {
    const sp = line.indexOf(' ');
    table[line.slice(0, sp)] = line.slice(sp + 1);
  }
  return table;
}

/**
 * Parses a Name (SEQUENCE OF SET OF AttributeTypeAndValue) into its attributes in DER
 * order. Accepts the whole Name TLV.
 */
export function parseName(nameDer: Uint8Array): NameAttribute[] {
  const seq = readTlv(nameDer, 0);
  return nameAttributes(seq);
}

/** Same as parseName but from an already-read Name TLV. */
export function nameAttributes(seq: Tlv): NameAttribute[] {
  const out: NameAttribute[] = [];
  children(seq).forEach((set, setIndex) => {
    for (const atv of children(set)) {
      const [oidT, valT] = children(atv);
      if (!oidT || !valT) continue;
      out.push({oid: decodeOid(oidT), tag: valT.tag, value: content(valT), valueDer: raw(valT), set: setIndex});
    }
  });
  return out;
}

// OpenSSL crypto/asn1/charmap.h, with the flag bits of crypto/asn1/a_strex.c.
const CHAR_TYPE = [
  1026, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 120, 0, 1, 40, 0, 0, 0, 16, 16, 16, 0, 25, 25, 16, 16, 16,
  16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 9, 9, 16, 9, 16, 0, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
  16, 16, 16, 16, 1, 16, 0, 0, 0, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 0, 0, 0, 0, 2,
];
const ESC_2253 = 1;
const ESC_CTRL = 2;
const ESC_MSB = 4;
const FIRST_ESC_2253 = 0x20;
const LAST_ESC_2253 = 0x40;
const BS_ESC = ESC_2253 | FIRST_ESC_2253 | LAST_ESC_2253;
const HEX = '0123456789ABCDEF';

/**
 * One OpenSSL `X509_NAME_print_ex` flag set, as data. Output is built as a "byte string"
 * (one JS char per output byte); formats without ESC_MSB emit raw UTF-8 bytes that are
 * decoded at the end, exactly as the caller of OpenSSL reads its BIO.
 */
interface NameStyle {
  /** XN_FLAG_DN_REV: most specific RDN first. */
  reverse: boolean;
  /** Separator between RDNs, and between the members of a multi-valued RDN. */
  sepDn: string;
  sepMv: string;
  /** ASN1_STRFLGS_ESC_* bits. */
  esc: number;
  /** XN_FLAG_DUMP_UNKNOWN_FIELDS + ASN1_STRFLGS_DUMP_UNKNOWN/DUMP_DER: `#HEX` of the value TLV. */
  dump: boolean;
}

/** XN_FLAG_RFC2253: ALB headers and connection logs (aws-reference 1.5, 8). */
const RFC2253: NameStyle = {reverse: true, sepDn: ',', sepMv: '+', esc: ESC_2253 | ESC_CTRL | ESC_MSB, dump: true};
/**
 * API Gateway's subjectDN/issuerDN (aws-reference 6.1): forward (certificate) order, `,`
 * with no space. Its escaping is UNCONFIRMED (aws-reference 7.11); we assume the RFC 2253
 * escapes OpenSSL uses, as AWS's only example is plain ASCII.
 */
const APIGW: NameStyle = {reverse: false, sepDn: ',', sepMv: '+', esc: ESC_2253 | ESC_CTRL | ESC_MSB, dump: true};
/**
 * CloudFront's connection-log clientLeafCertSubject/-Issuer (aws-reference 11.7): AWS's
 * example `C=US, ST=WA, L=Seattle, O=Amazon.com, OU=CloudFront, CN=client.test.mtls.net` is
 * forward order joined by `, ` (OpenSSL's sep_comma_plus_space). Escaping and multi-valued
 * RDNs are UNCONFIRMED; the RFC 2253 escapes and ` + ` are assumed.
 */
const CLOUDFRONT_LOG: NameStyle = {reverse: false, sepDn: ', ', sepMv: ' + ', esc: ESC_2253 | ESC_CTRL | ESC_MSB, dump: true};
/**
 * Node's `X509Certificate.subject` (ncrypto kX509NameFlagsMultiline = ESC_2253 |
 * ESC_CTRL | UTF8_CONVERT | SEP_MULTILINE | FN_SN; aws-reference 6.2): forward order, one
 * RDN per line, ` + ` in multi-valued RDNs, raw UTF-8, no `#HEX` dumps.
 */
const NODE_MULTILINE: NameStyle = {reverse: false, sepDn: '\n', sepMv: ' + ', esc: ESC_2253 | ESC_CTRL, dump: false};

/** a_strex.c do_esc_char for one byte-sized character; `flags` = escape bits + first/last bits. */
function escChar(c: number, flags: number): string {
  const chflgs = c > 0x7f ? flags & ESC_MSB : CHAR_TYPE[c]! & flags;
  const ch = String.fromCharCode(c);
  if (chflgs & BS_ESC) return '\\' + ch;
  if (chflgs & (ESC_CTRL | ESC_MSB)) return '\\' + HEX[c >> 4]! + HEX[c & 15]!;
  return ch;
}

/**
 * OpenSSL 3 UTF8_putc: 1-4 bytes; surrogates and values past U+10FFFF give nothing (it
 * returns an error that do_buf ignores, so the character is dropped from the output).
 */
function utf8Bytes(cp: number): number[] {
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 0x3f)];
  if (cp < 0x10000) {
    if (cp >= 0xd800 && cp <= 0xdfff) return [];
    return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
  }
  if (cp < 0x110000) return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
  return [];
}

/** Character width OpenSSL assumes for a string tag (a_strex.c tag2nbyte); -1 = not a string. */
function tagWidth(tag: number): number {
  switch (tag) {
    case TAG.UTF8String:
      return 0;
    case TAG.NumericString:
    case TAG.PrintableString:
    case TAG.T61String:
    case TAG.IA5String:
    case TAG.UTCTime:
    case TAG.GeneralizedTime:
    case TAG.VisibleString:
      return 1;
    case TAG.UniversalString:
      return 4;
    case TAG.BMPString:
      return 2;
    default:
      return -1;
  }
}

/**
 * a_strex.c do_buf with UTF8_CONVERT. UTF8String is read one byte per character
 * (OpenSSL does not convert it twice), so under ESC_MSB each byte >= 0x80 is `\XX`;
 * 1-byte strings are Latin-1 converted to UTF-8; BMP/Universal strings are decoded and
 * converted to UTF-8. Width -1 (not a string type) is read as 1-byte characters, which
 * is what OpenSSL does when DUMP_UNKNOWN is off. Returns undefined when OpenSSL would
 * fail (a BMPString of odd length, a UniversalString not a multiple of 4).
 */
function escapeValue(tag: number, v: Uint8Array, esc: number): string | undefined {
  let width = tagWidth(tag);
  if ((width === 4 && v.length % 4) || (width === 2 && v.length % 2)) return undefined;
  const convUtf8 = width !== 0;
  if (width <= 0) width = 1;
  let out = '';
  for (let p = 0; p < v.length; p += width) {
    let flags = esc;
    if (p === 0) flags |= FIRST_ESC_2253;
    // do_buf overwrites (not ORs) the first-char flag with the last-char flag.
    if (p + width === v.length) flags = esc | LAST_ESC_2253;
    let c: number;
    if (width === 4) c = ((v[p]! << 24) >>> 0) + (v[p + 1]! << 16) + (v[p + 2]! << 8) + v[p + 3]!;
    else if (width === 2) c = (v[p]! << 8) | v[p + 1]!;
    else c = v[p]!;
    if (convUtf8 && c > 0x7f) {
      for (const b of utf8Bytes(c)) out += escChar(b, flags);
    } else {
      out += escChar(c, flags);
    }
  }
  return out;
}

/** Renders one attribute value (as a byte string) under a style. */
function styledValue(a: NameAttribute, style: NameStyle): string {
  if (style.dump) {
    // Unknown field (no OpenSSL name) or a non-string type: `#` + hex of the value TLV.
    if (OPENSSL_SHORT_NAMES[a.oid] === undefined || tagWidth(a.tag) < 0) return '#' + toHex(a.valueDer);
  }
  const s = escapeValue(a.tag, a.value, style.esc);
  // OpenSSL stops printing the name at a bad BMP/Universal string; we show the dump instead.
  return s ?? '#' + toHex(a.valueDer);
}

/** Renders one attribute value as OpenSSL does under RFC 2253 flags (`\XX` for bytes >= 0x80). */
export function formatAttributeValue(a: NameAttribute): string {
  return styledValue(a, RFC2253);
}

/** The label OpenSSL prints: its short name, or the dotted OID. */
export function attributeLabel(oid: string): string {
  return OPENSSL_SHORT_NAMES[oid] ?? oid;
}

/** a_strex.c do_name_ex for one style. */
function formatName(attrs: NameAttribute[], style: NameStyle): string {
  let out = '';
  let prevSet = -1;
  const n = attrs.length;
  for (let k = 0; k < n; k++) {
    const a = attrs[style.reverse ? n - 1 - k : k]!;
    if (prevSet !== -1) out += a.set === prevSet ? style.sepMv : style.sepDn;
    prevSet = a.set;
    out += attributeLabel(a.oid) + '=' + styledValue(a, style);
  }
  // Without ESC_MSB the byte string holds raw UTF-8; read it as the caller of OpenSSL would.
  return style.esc & ESC_MSB ? out : Buffer.from(out, 'latin1').toString('utf8');
}

/**
 * OpenSSL RFC 2253 string of a DER Name (`openssl x509 -nameopt RFC2253`, ALB's
 * `X-Amzn-Mtls-Clientcert-Subject`/`-Issuer`, aws-reference 1.5 and 8): RDNs in reverse
 * order joined by `,`, multi-valued RDN members joined by `+` (also reversed), the
 * RFC 2253 escapes, `\XX` for control characters and UTF-8 bytes >= 0x80, OpenSSL short
 * names, unknown OIDs as `oid=#HEX`. An empty name is the empty string. BER forms
 * OpenSSL's parser accepts (indefinite lengths) render as OpenSSL renders them; bytes
 * that are no Name at all render as `#HEX` (never throws).
 */
export function formatRfc2253(nameDer: Uint8Array): string {
  // decode-header formats every request's names twice (header checks, details), and a
  // capture repeats the same issuer in every request: remember recent names by content.
  const key = Buffer.from(nameDer.buffer, nameDer.byteOffset, nameDer.byteLength).toString('latin1');
  return remember(RFC2253_MEMO, key, 4096, formatRfc2253Uncached, nameDer);
}

const RFC2253_MEMO = new Map<string, string>();

function formatRfc2253Uncached(nameDer: Uint8Array): string {
  try {
    return formatName(parseName(nameDer), RFC2253);
  } catch {
    // Rendering never throws (a name is shown in logs and headers of a connection that
    // must not die for it): what cannot be read is shown as `#` and its bytes in hex.
    return '#' + toHex(nameDer);
  }
}

/**
 * API Gateway's `clientCert.subjectDN` / `issuerDN` form (aws-reference 6.1): the RFC 2253
 * attributes and escapes in forward (certificate) order, C first and CN last.
 * @throws DerError when the bytes are not a DER Name.
 */
export function formatApigwDn(nameDer: Uint8Array): string {
  return formatName(parseName(nameDer), APIGW);
}

/**
 * CloudFront's connection-log form of a name (aws-reference 11.7): forward order, `, `
 * between RDNs. Never throws: bytes that are no Name render as `#HEX`.
 */
export function formatCloudFrontLogDn(nameDer: Uint8Array): string {
  try {
    return formatName(parseName(nameDer), CLOUDFRONT_LOG);
  } catch {
    return '#' + toHex(nameDer);
  }
}

/**
 * Node's `X509Certificate.subject` / `.issuer` (aws-reference 6.2): forward order, one RDN
 * per line (`\n`), ` + ` inside multi-valued RDNs, RFC 2253 backslash escapes, raw UTF-8.
 * @throws DerError when the bytes are not a DER Name.
 */
export function formatNodeName(nameDer: Uint8Array): string {
  return formatName(parseName(nameDer), NODE_MULTILINE);
}

/**
 * The seed sample's `X-Client-Cert-Sub` header (aws-samples/api-gateway-certificate-
 * propagation, aws-reference 6.2): Node's `X509Certificate.subject` with each newline
 * replaced by `,`, e.g. `C=EE,O=Test\, Inc.,CN=client1`.
 * @throws DerError when the bytes are not a DER Name.
 */
export function formatClientCertSub(nameDer: Uint8Array): string {
  return formatNodeName(nameDer).replaceAll('\n', ',');
}

/**
 * OpenSSL's one-line form in DER order (`/C=US/O=Acme/CN=device-1`), used in the
 * CA index (index.txt) as `openssl ca` writes it. Values are shown as UTF-8.
 */
export function formatSlashForm(nameDer: Uint8Array): string {
  return parseName(nameDer)
    .map((a) => {
      const s = tagWidth(a.tag) < 0 ? '#' + toHex(a.valueDer) : decodeStringValue(a);
      return `/${attributeLabel(a.oid)}=${s}`;
    })
    .join('');
}

/** Decodes a string-typed attribute value to a JS string (UTF-8, Latin-1, UCS-2, UCS-4). */
export function decodeStringValue(a: NameAttribute): string {
  const v = a.value;
  switch (tagWidth(a.tag)) {
    case 0:
      return Buffer.from(v).toString('utf8');
    case 1:
      return Buffer.from(v).toString('latin1');
    case 2: {
      let s = '';
      for (let i = 0; i + 1 < v.length; i += 2) s += String.fromCharCode((v[i]! << 8) | v[i + 1]!);
      return s;
    }
    case 4: {
      let s = '';
      for (let i = 0; i + 3 < v.length; i += 4) s += String.fromCodePoint(((v[i]! << 24) >>> 0) + (v[i + 1]! << 16) + (v[i + 2]! << 8) + v[i + 3]!);
      return s;
    }
    default:
      return '#' + toHex(a.valueDer);
  }
}

// ---------------------------------------------------------------------------------
// Reading DN strings back (decode-header shows what a Subject/Issuer header says even
// when no certificate came with it) and building Name DER (tests, fixtures).

/** One attribute of a DN string, as written. */
export interface DnStringAttribute {
  /** The label as written (`CN`, `serialNumber`, `2.5.4.3`). */
  label: string;
  /** The OID when the label is an OpenSSL short name or a dotted OID. */
  oid: string | undefined;
  /** Value bytes after unescaping (`\XX` → that byte), or the DER TLV for `#HEX`. */
  value: Uint8Array;
  /** True for `#HEX` values (value is then a DER TLV). */
  der: boolean;
  /** The value as text: UTF-8 decoded, or the string inside a `#HEX` string TLV. */
  text: string;
}

let snToOid: Map<string, string> | undefined;

/** OID for an OpenSSL short name (case-sensitive, as OpenSSL prints them) or a dotted OID. */
export function oidForLabel(label: string): string | undefined {
  if (!snToOid) {
    snToOid = new Map();
    for (const [oid, sn] of Object.entries(OPENSSL_SHORT_NAMES)) if (!snToOid.has(sn)) snToOid.set(sn, oid);
  }
  return snToOid.get(label) ?? (/^\d+(\.\d+)+$/.test(label) ? label : undefined);
}

/** Error thrown by parseDnText; the message says where the string is wrong. */
export class DnSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DnSyntaxError';
  }
}

/**
 * Parses a DN string in the form formatRfc2253 (or formatApigwDn / formatClientCertSub)
 * writes: `label=value` joined by unescaped `,` (RDNs) and `+` (multi-valued RDN
 * members). Escapes: `\` + one of `,+"\<>;#= ` or `\XX` hex bytes; `#HEX` values are DER.
 * Returns the RDNs in the order written (RFC 2253 strings are most specific first).
 * @throws DnSyntaxError naming the offending position.
 */
export function parseDnText(s: string): DnStringAttribute[][] {
  const rdns: DnStringAttribute[][] = [];
  if (s === '') return rdns;
  let rdn: DnStringAttribute[] = [];
  let i = 0;
  const n = s.length;
  for (;;) {
    const eq = s.indexOf('=', i);
    if (eq < 0) throw new DnSyntaxError(`"${s.slice(i, i + 20)}" at character ${i + 1} is not of the form label=value`);
    const label = s.slice(i, eq);
    if (!/^[A-Za-z][A-Za-z0-9-]*$|^\d+(\.\d+)+$/.test(label)) throw new DnSyntaxError(`"${label}" at character ${i + 1} is not an attribute name`);
    i = eq + 1;
    const bytes: number[] = [];
    let der = false;
    if (s[i] === '#') {
      const m = /^#([0-9A-Fa-f]*)/.exec(s.slice(i))!;
      if (m[1]!.length % 2 || m[1]!.length === 0) throw new DnSyntaxError(`the #hex value of ${label} at character ${i + 1} has an odd number of digits`);
      for (let k = 0; k < m[1]!.length; k += 2) bytes.push(Number.parseInt(m[1]!.slice(k, k + 2), 16));
      der = true;
      i += m[0].length;
    } else {
      // Fast path (decode-header parses two DNs per request): a plain ASCII run up to the
      // next separator needs no byte-by-byte work.
      const start = i;
      while (i < n) {
        const ch = s.charCodeAt(i);
        if (ch === 0x2c || ch === 0x2b || ch === 0x5c || ch > 0x7e || ch < 0x20) break;
        i++;
      }
      if (i >= n || s.charCodeAt(i) === 0x2c || s.charCodeAt(i) === 0x2b) {
        const text = s.slice(start, i);
        rdn.push({label, oid: oidForLabel(label), value: new Uint8Array(Buffer.from(text, 'latin1')), der: false, text});
        if (i >= n) break;
        if (s.charCodeAt(i) === 0x2c) {
          rdns.push(rdn);
          rdn = [];
        }
        i++;
        continue;
      }
      for (let k = start; k < i; k++) bytes.push(s.charCodeAt(k));
      while (i < n && s[i] !== ',' && s[i] !== '+') {
        const ch = s.charCodeAt(i);
        if (ch === 0x5c) {
          const hex = s.slice(i + 1, i + 3);
          if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
            bytes.push(Number.parseInt(hex, 16));
            i += 3;
            continue;
          }
          if (i + 1 >= n) throw new DnSyntaxError(`the value of ${label} ends with a lone backslash`);
          i++;
        }
        // Raw characters (API Gateway / Node forms keep UTF-8): their UTF-8 bytes.
        const cp = s.codePointAt(i)!;
        if (cp < 0x80) {
          bytes.push(cp);
          i++;
          continue;
        }
        const step = cp > 0xffff ? 2 : 1;
        for (const b of Buffer.from(s.slice(i, i + step), 'utf8')) bytes.push(b);
        i += step;
      }
    }
    const value = Uint8Array.from(bytes);
    rdn.push({label, oid: oidForLabel(label), value, der, text: der ? derValueText(value) : bytesText(bytes)});
    if (i >= n) break;
    if (s[i] === ',') {
      rdns.push(rdn);
      rdn = [];
    } else if (s[i] !== '+') {
      throw new DnSyntaxError(`unexpected "${s[i]}" after the value of ${label} at character ${i + 1}`);
    }
    i++;
  }
  rdns.push(rdn);
  return rdns;
}

/** UTF-8 text of value bytes; plain ASCII without a Buffer round trip (decode-header runs this per header). */
function bytesText(bytes: number[]): string {
  for (const b of bytes) if (b > 0x7f) return Buffer.from(bytes).toString('utf8');
  return String.fromCharCode(...bytes);
}

/** Text of a `#HEX` value: the string inside when it is a string TLV, else `#HEX`. */
function derValueText(tlvBytes: Uint8Array): string {
  try {
    const t = readTlv(tlvBytes, 0);
    if (t.end === tlvBytes.length && tagWidth(t.tag) >= 0) {
      return decodeStringValue({oid: '', tag: t.tag, value: content(t), valueDer: tlvBytes, set: 0});
    }
  } catch {
    // not DER: show the hex
  }
  return '#' + toHex(tlvBytes);
}

/** One attribute to encode: OID, string tag and value bytes (already in that tag's encoding). */
export interface NameEntryDer {
  oid: string;
  tag: number;
  value: Uint8Array;
}

/**
 * Encodes a Name from RDNs in DER order (least specific first). Members of a
 * multi-valued RDN are written in the order given (DER would sort them; tests use the
 * order to check OpenSSL's reversal).
 */
export function encodeNameDer(rdns: NameEntryDer[][]): Uint8Array {
  return tlv(TAG.SEQUENCE, ...rdns.map((rdn) => tlv(TAG.SET, ...rdn.map((a) => tlv(TAG.SEQUENCE, encodeOid(a.oid), tlv(a.tag, a.value))))));
}

/**
 * DER Name for a DN string as parseDnText reads it (RFC 2253 order, most specific
 * first): `#HEX` values are kept as DER, other values become UTF8String (PrintableString
 * for C), which formatRfc2253 renders back to the same string.
 * @throws DnSyntaxError for a bad string or an unknown label.
 */
export function encodeDnText(s: string): Uint8Array {
  const rdns = parseDnText(s).reverse();
  return tlv(
    TAG.SEQUENCE,
    ...rdns.map((rdn) =>
      tlv(
        TAG.SET,
        ...[...rdn].reverse().map((a) => {
          if (!a.oid) throw new DnSyntaxError(`unknown attribute name "${a.label}"`);
          const value = a.der ? a.value : tlv(a.oid === '2.5.4.6' ? TAG.PrintableString : TAG.UTF8String, a.value);
          return tlv(TAG.SEQUENCE, encodeOid(a.oid), value);
        }),
      ),
    ),
  );
}

/** A slash-form subject whose values need no RFC 2253 escaping (the common case: fleets). */
const PLAIN_SLASH = /^(?:\/[A-Za-z][A-Za-z0-9]*=[A-Za-z0-9_.@:-](?:[A-Za-z0-9 _.@:-]*[A-Za-z0-9_.@:-])?)+$/;
const SLASH_SPLIT = /\/(?=[A-Za-z][A-Za-z0-9-]*=|\d+(?:\.\d+)+=)/;

/**
 * The RFC 2253 form (as formatRfc2253 writes it, control characters and non-ASCII
 * escaped as `\XX`) of a subject in the slash form formatSlashForm writes to index.txt.
 * Plain subjects are converted as strings (`list` of 100,000 lines); others are encoded
 * and rendered by formatRfc2253. A label this module does not know is kept as written,
 * with control characters escaped.
 */
export function slashFormToRfc2253(s: string): string {
  if (PLAIN_SLASH.test(s)) {
    // Plain values hold no '/': the RDNs, last first, joined by ','.
    let out = '';
    for (let end = s.length, p = s.lastIndexOf('/'); p >= 0; end = p, p = p > 0 ? s.lastIndexOf('/', p - 1) : -1)
      out += out === '' ? s.slice(p + 1, end) : `,${s.slice(p + 1, end)}`;
    return out;
  }
  const parts = s.split(SLASH_SPLIT).slice(1);
  try {
    const atvs = parts.map((p) => {
      const eq = p.indexOf('=');
      const oid = oidForLabel(p.slice(0, eq));
      if (!oid) throw new DnSyntaxError(`unknown attribute name "${p.slice(0, eq)}"`);
      const value = new TextEncoder().encode(p.slice(eq + 1));
      return tlv(
        TAG.SET,
        tlv(TAG.SEQUENCE, encodeOid(oid), tlv(oid === '2.5.4.6' && /^[A-Za-z]{2}$/.test(p.slice(eq + 1)) ? TAG.PrintableString : TAG.UTF8String, value)),
      );
    });
    return formatRfc2253(tlv(TAG.SEQUENCE, ...atvs));
  } catch {
    const joined = parts.reverse().join(',');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping them is the point
    return joined.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  }
}
