/**
 * Distinguished-name strings: the one module that renders names (facts doc section 8).
 *
 * `formatRfc2253` reproduces OpenSSL's `X509_NAME_print_ex(..., XN_FLAG_RFC2253)`, which
 * is what ALB puts in `X-Amzn-Mtls-Clientcert-Subject` / `-Issuer` and in connection
 * logs (facts doc 1.5), byte for byte with `openssl x509 -nameopt RFC2253`.
 */
import {children, content, decodeOid, raw, readTlv, TAG, type Tlv, toHex} from './der.js';

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
 * OpenSSL short names (FN_SN) for attribute OIDs, from OpenSSL's objects.txt.
 * Anything not listed prints as `dotted.oid=#HEX` (DUMP_UNKNOWN_FIELDS).
 */
export const OPENSSL_SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.13': 'description',
  '2.5.4.14': 'searchGuide',
  '2.5.4.15': 'businessCategory',
  '2.5.4.16': 'postalAddress',
  '2.5.4.17': 'postalCode',
  '2.5.4.18': 'postOfficeBox',
  '2.5.4.19': 'physicalDeliveryOfficeName',
  '2.5.4.20': 'telephoneNumber',
  '2.5.4.21': 'telexNumber',
  '2.5.4.22': 'teletexTerminalIdentifier',
  '2.5.4.23': 'facsimileTelephoneNumber',
  '2.5.4.24': 'x121Address',
  '2.5.4.25': 'internationaliSDNNumber',
  '2.5.4.26': 'registeredAddress',
  '2.5.4.27': 'destinationIndicator',
  '2.5.4.28': 'preferredDeliveryMethod',
  '2.5.4.29': 'presentationAddress',
  '2.5.4.30': 'supportedApplicationContext',
  '2.5.4.31': 'member',
  '2.5.4.32': 'owner',
  '2.5.4.33': 'roleOccupant',
  '2.5.4.34': 'seeAlso',
  '2.5.4.35': 'userPassword',
  '2.5.4.36': 'userCertificate',
  '2.5.4.37': 'cACertificate',
  '2.5.4.38': 'authorityRevocationList',
  '2.5.4.39': 'certificateRevocationList',
  '2.5.4.40': 'crossCertificatePair',
  '2.5.4.41': 'name',
  '2.5.4.42': 'GN',
  '2.5.4.43': 'initials',
  '2.5.4.44': 'generationQualifier',
  '2.5.4.45': 'x500UniqueIdentifier',
  '2.5.4.46': 'dnQualifier',
  '2.5.4.47': 'enhancedSearchGuide',
  '2.5.4.48': 'protocolInformation',
  '2.5.4.49': 'distinguishedName',
  '2.5.4.50': 'uniqueMember',
  '2.5.4.51': 'houseIdentifier',
  '2.5.4.52': 'supportedAlgorithms',
  '2.5.4.53': 'deltaRevocationList',
  '2.5.4.54': 'dmdName',
  '2.5.4.65': 'pseudonym',
  '2.5.4.72': 'role',
  '2.5.4.97': 'organizationIdentifier',
  '2.5.4.98': 'c3',
  '2.5.4.99': 'n3',
  '2.5.4.100': 'dnsName',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '1.2.840.113549.1.9.2': 'unstructuredName',
  '1.2.840.113549.1.9.8': 'unstructuredAddress',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.3.6.1.4.1.311.60.2.1.1': 'jurisdictionL',
  '1.3.6.1.4.1.311.60.2.1.2': 'jurisdictionST',
  '1.3.6.1.4.1.311.60.2.1.3': 'jurisdictionC',
};

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
  1026, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 120, 0, 1, 40, 0, 0, 0, 16, 16, 16, 0, 25, 25, 16, 16, 16, 16, 16,
  16, 16, 16, 16, 16, 16, 16, 16, 16, 9, 9, 16, 9, 16, 0, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
  1, 16, 0, 0, 0, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 0, 0, 0, 0, 2,
];
const ESC_2253 = 1;
const ESC_CTRL = 2;
const ESC_MSB = 4;
const FIRST_ESC_2253 = 0x20;
const LAST_ESC_2253 = 0x40;
const BS_ESC = ESC_2253 | FIRST_ESC_2253 | LAST_ESC_2253;
const RFC2253_FLAGS = ESC_2253 | ESC_CTRL | ESC_MSB;
const HEX = '0123456789ABCDEF';

/** a_strex.c do_esc_char for one byte-sized character under ASN1_STRFLGS_RFC2253. */
function escChar(c: number, flags: number): string {
  const chflgs = c > 0x7f ? flags & ESC_MSB : CHAR_TYPE[c]! & flags;
  const ch = String.fromCharCode(c);
  if (chflgs & BS_ESC) return '\\' + ch;
  if (chflgs & (ESC_CTRL | ESC_MSB)) return '\\' + HEX[c >> 4]! + HEX[c & 15]!;
  // Any escaping at all means the backslash itself must be escaped (it is ESC_2253 already).
  return ch;
}

function utf8Bytes(cp: number): number[] {
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 0x3f)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
  if (cp < 0x200000) return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
  if (cp < 0x4000000) return [0xf8 | (cp >> 24), 0x80 | ((cp >> 18) & 0x3f), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
  return [
    0xfc | ((cp >>> 30) & 1),
    0x80 | ((cp >> 24) & 0x3f),
    0x80 | ((cp >> 18) & 0x3f),
    0x80 | ((cp >> 12) & 0x3f),
    0x80 | ((cp >> 6) & 0x3f),
    0x80 | (cp & 0x3f),
  ];
}

/** Character width OpenSSL assumes for a string tag (a_strex.c tag2nbyte); -1 = dump. */
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
 * a_strex.c do_buf with ASN1_STRFLGS_RFC2253. UTF8String is read one byte per
 * character (OpenSSL avoids converting it twice), so each byte >= 0x80 is `\XX`;
 * 1-byte strings are Latin-1 converted to UTF-8; BMP/Universal strings are decoded
 * and converted to UTF-8; then every byte >= 0x80 is escaped.
 */
function escapeValue(tag: number, v: Uint8Array): string | undefined {
  const width = tagWidth(tag);
  if (width < 0) return undefined;
  if ((width === 4 && v.length % 4) || (width === 2 && v.length % 2)) return undefined;
  const convUtf8 = width !== 0;
  const step = width === 0 ? 1 : width;
  let out = '';
  for (let p = 0; p < v.length; p += step) {
    let flags = RFC2253_FLAGS;
    if (p === 0) flags |= FIRST_ESC_2253;
    // OpenSSL overwrites (not ORs) the first-flag with the last-flag on the final char.
    if (p + step === v.length) flags = RFC2253_FLAGS | LAST_ESC_2253;
    let c: number;
    if (step === 4) c = ((v[p]! << 24) >>> 0) + (v[p + 1]! << 16) + (v[p + 2]! << 8) + v[p + 3]!;
    else if (step === 2) c = (v[p]! << 8) | v[p + 1]!;
    else c = v[p]!;
    if (convUtf8) {
      for (const b of utf8Bytes(c)) out += escChar(b, flags);
    } else {
      out += escChar(c, flags);
    }
  }
  return out;
}

/** Renders one attribute value as OpenSSL does under RFC 2253 flags. */
export function formatAttributeValue(a: NameAttribute): string {
  const known = OPENSSL_SHORT_NAMES[a.oid] !== undefined;
  if (known) {
    const s = escapeValue(a.tag, a.value);
    if (s !== undefined) return s;
  }
  return '#' + toHex(a.valueDer);
}

/** The label OpenSSL prints: its short name, or the dotted OID. */
export function attributeLabel(oid: string): string {
  return OPENSSL_SHORT_NAMES[oid] ?? oid;
}

/**
 * OpenSSL RFC 2253 string of a DER Name: RDNs in reverse order joined by `,`,
 * multi-valued RDN members joined by `+` (also reversed), escapes per facts doc 8.
 * An empty name is the empty string.
 */
export function formatRfc2253(nameDer: Uint8Array): string {
  const attrs = parseName(nameDer);
  let out = '';
  let prevSet = -1;
  for (let i = attrs.length - 1; i >= 0; i--) {
    const a = attrs[i]!;
    if (prevSet !== -1) out += a.set === prevSet ? '+' : ',';
    prevSet = a.set;
    out += attributeLabel(a.oid) + '=' + formatAttributeValue(a);
  }
  return out;
}

/**
 * OpenSSL's one-line form in DER order (`/C=US/O=Acme/CN=device-1`), used in the
 * CA index (index.txt) as `openssl ca` writes it. Values are shown as UTF-8.
 */
export function formatSlashForm(nameDer: Uint8Array): string {
  return parseName(nameDer)
    .map((a) => {
      const s = escapeValue(a.tag, a.value) === undefined ? '#' + toHex(a.valueDer) : decodeStringValue(a);
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
