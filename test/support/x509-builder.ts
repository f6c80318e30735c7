/**
 * Certificates and CRLs with exactly the extensions a test wants (critical RFC 3779,
 * proxyCertInfo, name constraints with odd syntax, CRL entry extensions, v1 CRLs with
 * extensions, ...), signed with real P-256 keys through node:crypto, so that AWS-LC,
 * OpenSSL and mtls-kit all read the same bytes. Used by test/aws-classes.test.ts.
 */
import {generateKeyPairSync, type KeyObject, sign} from 'node:crypto';
import {encodeOid, encodeSmallInteger, encodeTime, TAG, tlv} from '../../src/lib/x509/der.js';
import {toPem} from '../../src/lib/x509/pem.js';

export interface Key {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export const newKey = (): Key => generateKeyPairSync('ec', {namedCurve: 'prime256v1'});

const ECDSA_SHA256 = tlv(TAG.SEQUENCE, encodeOid('1.2.840.10045.4.3.2'));
const seq = (...parts: Uint8Array[]): Uint8Array => tlv(TAG.SEQUENCE, ...parts);
const octets = (b: Uint8Array): Uint8Array => tlv(TAG.OCTET_STRING, b);
const bool = (v: boolean): Uint8Array => tlv(TAG.BOOLEAN, Uint8Array.of(v ? 0xff : 0));

/** A Name with one CN (UTF8String), or raw attributes. */
export function name(cn: string): Uint8Array {
  return seq(tlv(TAG.SET, seq(encodeOid('2.5.4.3'), tlv(TAG.UTF8String, Buffer.from(cn, 'utf8')))));
}

export interface Ext {
  oid: string;
  critical?: boolean;
  /** The DER inside the OCTET STRING. */
  value: Uint8Array;
}

const KU_BITS = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign'];

/** Extension helpers (the values only; wrap with {oid, critical, value}). */
export const ext = {
  basicConstraints: (ca: boolean, critical = true): Ext => ({oid: '2.5.29.19', critical, value: ca ? seq(bool(true)) : seq()}),
  keyUsage: (flags: string[], critical = true): Ext => {
    let bits = 0;
    for (const f of flags) bits |= 0x80 >> KU_BITS.indexOf(f);
    return {oid: '2.5.29.15', critical, value: tlv(TAG.BIT_STRING, Uint8Array.of(0, bits))};
  },
  extKeyUsage: (oids: string[]): Ext => ({oid: '2.5.29.37', value: seq(...oids.map(encodeOid))}),
  /** GeneralNames as [tag, bytes] pairs: 0x82 dNSName, 0x86 URI, 0x87 iPAddress, 0x81 rfc822Name. */
  subjectAltName: (names: Array<[number, Uint8Array | string]>, critical = false): Ext => ({
    oid: '2.5.29.17',
    critical,
    value: seq(...names.map(([t, v]) => tlv(t, typeof v === 'string' ? Buffer.from(v, 'latin1') : v))),
  }),
  subjectKeyId: (id: Uint8Array): Ext => ({oid: '2.5.29.14', value: octets(id)}),
  authorityKeyId: (id: Uint8Array): Ext => ({oid: '2.5.29.35', value: seq(tlv(0x80, id))}),
  /** Subtrees as {tag, value, minimum?}; minimum is encoded explicitly when given (even 0). */
  nameConstraints: (
    permitted: Array<{tag: number; value: Uint8Array | string; minimum?: number}>,
    excluded: Array<{tag: number; value: Uint8Array | string; minimum?: number}> = [],
  ): Ext => {
    const subtree = (s: {tag: number; value: Uint8Array | string; minimum?: number}): Uint8Array =>
      seq(
        tlv(s.tag, typeof s.value === 'string' ? Buffer.from(s.value, 'latin1') : s.value),
        ...(s.minimum === undefined ? [] : [tlv(0x80, encodeSmallInteger(s.minimum).subarray(2))]),
      );
    const parts: Uint8Array[] = [];
    if (permitted.length) parts.push(tlv(0xa0, ...permitted.map(subtree)));
    if (excluded.length) parts.push(tlv(0xa1, ...excluded.map(subtree)));
    return {oid: '2.5.29.30', critical: true, value: seq(...parts)};
  },
  nsCertType: (byte: number): Ext => ({oid: '2.16.840.1.113730.1.1', value: tlv(TAG.BIT_STRING, Uint8Array.of(0, byte))}),
  /** RFC 3779 sbgp-ipAddrBlock for IPv4 10.0.0.0/8. */
  ipAddrBlocks: (critical = true): Ext => ({
    oid: '1.3.6.1.5.5.7.1.7',
    critical,
    value: seq(seq(octets(Uint8Array.of(0, 1)), seq(tlv(TAG.BIT_STRING, Uint8Array.of(0, 10))))),
  }),
  /** RFC 3820 proxyCertInfo: id-ppl-inheritAll. */
  proxyCertInfo: (critical = true): Ext => ({oid: '1.3.6.1.5.5.7.1.14', critical, value: seq(seq(encodeOid('1.3.6.1.5.5.7.21.1')))}),
  ocspNoCheck: (critical = true): Ext => ({oid: '1.3.6.1.5.5.7.48.1.5', critical, value: tlv(0x05, new Uint8Array(0))}),
};

export const EKU = {clientAuth: '1.3.6.1.5.5.7.3.2', serverAuth: '1.3.6.1.5.5.7.3.1'};

function extensions(list: Ext[]): Uint8Array {
  return seq(...list.map((e) => seq(encodeOid(e.oid), ...(e.critical ? [bool(true)] : []), octets(e.value))));
}

export interface Built {
  der: Uint8Array;
  pem: string;
  key: Key;
  subject: Uint8Array;
  serial: number;
}

let nextSerial = 0x1000;

export interface CertSpec {
  subject: string | Uint8Array;
  /** The issuer (default: self-signed with `key`). */
  issuer?: Built;
  key?: Key;
  version?: 1 | 3;
  notBefore?: Date;
  notAfter?: Date;
  extensions?: Ext[];
  serial?: number;
}

/** One certificate; a CA gets a subject key identifier and its children an authority key identifier by default. */
export function cert(s: CertSpec): Built {
  const key = s.key ?? newKey();
  const subject = typeof s.subject === 'string' ? name(s.subject) : s.subject;
  const issuerName = s.issuer?.subject ?? subject;
  const signer = s.issuer?.key ?? key;
  const serial = s.serial ?? nextSerial++;
  const now = Date.now();
  const spki = new Uint8Array(key.publicKey.export({type: 'spki', format: 'der'}));
  const exts = s.extensions ?? [];
  const tbs = seq(
    ...(s.version === 1 ? [] : [tlv(0xa0, encodeSmallInteger(2))]),
    encodeSmallInteger(serial),
    ECDSA_SHA256,
    issuerName,
    seq(encodeTime(s.notBefore ?? new Date(now - 86_400_000)), encodeTime(s.notAfter ?? new Date(now + 30 * 86_400_000))),
    subject,
    spki,
    ...(s.version === 1 || exts.length === 0 ? [] : [tlv(0xa3, extensions(exts))]),
  );
  const der = seq(tbs, ECDSA_SHA256, tlv(TAG.BIT_STRING, Uint8Array.of(0), sign('sha256', tbs, signer.privateKey)));
  return {der, pem: toPem(der, 'CERTIFICATE'), key, subject, serial};
}

/** A CA: basicConstraints CA:TRUE and keyUsage keyCertSign, cRLSign unless `extensions` says otherwise. */
export function ca(subject: string, issuer?: Built, extra: Ext[] = [], opts: Partial<CertSpec> = {}): Built {
  return cert({
    subject,
    ...(issuer ? {issuer} : {}),
    extensions: opts.extensions ?? [ext.basicConstraints(true), ext.keyUsage(['keyCertSign', 'cRLSign']), ...extra],
    ...opts,
  });
}

/** A TLS client leaf: keyUsage digitalSignature, EKU clientAuth, plus `extra`. */
export function client(subject: string, issuer: Built, extra: Ext[] = [], opts: Partial<CertSpec> = {}): Built {
  return cert({subject, issuer, extensions: [ext.keyUsage(['digitalSignature']), ext.extKeyUsage([EKU.clientAuth]), ...extra], ...opts});
}

export interface CrlEntry {
  serial: number;
  /** Entry extensions. */
  extensions?: Ext[];
}

export interface CrlSpec {
  issuer: Built;
  entries?: CrlEntry[];
  extensions?: Ext[];
  /** 1 omits the version field; 2 (default) writes v2. */
  version?: 1 | 2;
}

/** A CRL signed by `issuer`. */
export function crl(s: CrlSpec): string {
  const now = Date.now();
  const entries = (s.entries ?? []).map((e) =>
    seq(encodeSmallInteger(e.serial), encodeTime(new Date(now - 3_600_000)), ...(e.extensions?.length ? [extensions(e.extensions)] : [])),
  );
  const tbs = seq(
    ...(s.version === 1 ? [] : [encodeSmallInteger(1)]),
    ECDSA_SHA256,
    s.issuer.subject,
    encodeTime(new Date(now - 3_600_000)),
    encodeTime(new Date(now + 7 * 86_400_000)),
    ...(entries.length ? [seq(...entries)] : []),
    ...(s.extensions?.length ? [tlv(0xa0, extensions(s.extensions))] : []),
  );
  const der = seq(tbs, ECDSA_SHA256, tlv(TAG.BIT_STRING, Uint8Array.of(0), sign('sha256', tbs, s.issuer.key.privateKey)));
  return toPem(der, 'X509 CRL');
}

/** CRL and entry extension helpers. */
export const crlExt = {
  /** issuingDistributionPoint with indirectCRL TRUE. */
  indirectIdp: (): Ext => ({oid: '2.5.29.28', critical: true, value: seq(tlv(0x84, Uint8Array.of(0xff)))}),
  crlNumber: (n: number): Ext => ({oid: '2.5.29.20', value: encodeSmallInteger(n)}),
  /** CRLReason entry extension (8 = removeFromCRL). */
  reason: (code: number): Ext => ({oid: '2.5.29.21', value: tlv(TAG.ENUMERATED, Uint8Array.of(code))}),
  /** certificateIssuer entry extension naming `issuer` (a directoryName). */
  certificateIssuer: (issuer: Built, critical = true): Ext => ({oid: '2.5.29.29', critical, value: seq(tlv(0xa4, issuer.subject))}),
};
