/**
 * X.509 certificate parsing into the fields mtls-kit reads (RFC 5280 4.1), on the DER
 * reader in der.ts (see there for why). Keeps the raw bytes that verification signs.
 */
import {createHash} from 'node:crypto';
import {children, content, decodeOid, decodeTime, DerError, expectTag, parseOne, raw, readTlv, TAG, type Tlv, toHex} from './der.js';
import {formatSerialHex, isNegativeSerial} from './serial.js';

export interface Extension {
  oid: string;
  critical: boolean;
  /** Content of the extnValue OCTET STRING (the extension's own DER). */
  value: Uint8Array;
}

export type PublicKeyKind = 'rsa' | 'rsa-pss' | 'ec' | 'ed25519' | 'ed448' | 'dsa' | 'unknown';

export interface PublicKeyInfo {
  kind: PublicKeyKind;
  algorithmOid: string;
  /** RSA modulus bits, EC field bits. */
  bits: number;
  /** OpenSSL-style curve name for EC keys (prime256v1, secp384r1, secp521r1, ...). */
  curve?: string;
  curveOid?: string;
  /** The whole SubjectPublicKeyInfo DER. */
  spki: Uint8Array;
}

export interface SignatureAlgorithm {
  oid: string;
  /** OpenSSL's name, e.g. sha256WithRSAEncryption, ecdsa-with-SHA256, rsassaPss. */
  name: string;
  /** Hash for node:crypto verify (undefined for Ed25519/Ed448). */
  hash?: 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512' | 'md5';
  /** For RSASSA-PSS: parameters decoded (hash, MGF1 hash, salt length). */
  pss?: {hash: string; mgfHash: string; saltLength: number};
}

export type GeneralName =
  | {type: 'dns'; value: string}
  | {type: 'ip'; value: string}
  | {type: 'uri'; value: string}
  | {type: 'email'; value: string}
  | {type: 'dirname'; value: Uint8Array}
  | {type: 'other'; value: string};

export interface ParsedCertificate {
  der: Uint8Array;
  /** The signed TBSCertificate bytes. */
  tbs: Uint8Array;
  /** 1, 2 or 3. */
  version: number;
  /** DER INTEGER content octets of the serial. */
  serial: Uint8Array;
  /** ALB form (aws-reference 1.4). */
  serialHex: string;
  serialNegative: boolean;
  signatureAlgorithm: SignatureAlgorithm;
  /** The algorithm inside the TBS (must equal the outer one). */
  tbsSignatureOid: string;
  /** Raw Name DER. */
  issuer: Uint8Array;
  subject: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  publicKey: PublicKeyInfo;
  extensions: Extension[];
  /** Signature value bytes (BIT STRING without the unused-bits octet). */
  signature: Uint8Array;
  basicConstraints?: {ca: boolean; pathLength?: number; critical: boolean};
  keyUsage?: {flags: KeyUsageName[]; critical: boolean};
  extKeyUsage?: {oids: string[]; critical: boolean};
  subjectAltNames: GeneralName[];
  subjectKeyId?: string;
  authorityKeyId?: string;
  /** SHA-256 of the DER, uppercase hex with colons (as openssl -fingerprint). */
  sha256Fingerprint: string;
}

export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

const KEY_USAGE_BITS: KeyUsageName[] = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];

export const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  crlNumber: '2.5.29.20',
  crlReason: '2.5.29.21',
  deltaCrlIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  nameConstraints: '2.5.29.30',
  policyConstraints: '2.5.29.36',
  inhibitAnyPolicy: '2.5.29.54',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsassaPss: '1.2.840.113549.1.1.10',
  ecPublicKey: '1.2.840.10045.2.1',
  ed25519: '1.3.101.112',
  ed448: '1.3.101.113',
  dsa: '1.2.840.10040.4.1',
} as const;

/** Extensions this parser understands; any other critical one is "unknown critical". */
export const KNOWN_EXTENSIONS = new Set<string>([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectAltName,
  OID.subjectKeyId,
  OID.authorityKeyId,
  OID.crlDistributionPoints,
  OID.certificatePolicies,
  OID.authorityInfoAccess,
  OID.nameConstraints,
  OID.policyConstraints,
  OID.inhibitAnyPolicy,
  '2.5.29.18', // issuerAltName
  '2.5.29.9', // subjectDirectoryAttributes
  '2.5.29.33', // policyMappings
  '1.3.6.1.5.5.7.1.11', // subjectInfoAccess
  '1.3.6.1.4.1.11129.2.4.2', // CT precertificate SCTs
]);

const CURVES: Record<string, {name: string; bits: number}> = {
  '1.2.840.10045.3.1.7': {name: 'prime256v1', bits: 256},
  '1.3.132.0.34': {name: 'secp384r1', bits: 384},
  '1.3.132.0.35': {name: 'secp521r1', bits: 521},
  '1.3.132.0.10': {name: 'secp256k1', bits: 256},
  '1.2.840.10045.3.1.1': {name: 'prime192v1', bits: 192},
  '1.3.132.0.33': {name: 'secp224r1', bits: 224},
  '1.3.36.3.3.2.8.1.1.7': {name: 'brainpoolP256r1', bits: 256},
};

const HASH_OIDS: Record<string, SignatureAlgorithm['hash']> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

const SIG_ALGS: Record<string, Omit<SignatureAlgorithm, 'oid'>> = {
  '1.2.840.113549.1.1.4': {name: 'md5WithRSAEncryption', hash: 'md5'},
  '1.2.840.113549.1.1.5': {name: 'sha1WithRSAEncryption', hash: 'sha1'},
  '1.2.840.113549.1.1.14': {name: 'sha224WithRSAEncryption', hash: 'sha224'},
  '1.2.840.113549.1.1.11': {name: 'sha256WithRSAEncryption', hash: 'sha256'},
  '1.2.840.113549.1.1.12': {name: 'sha384WithRSAEncryption', hash: 'sha384'},
  '1.2.840.113549.1.1.13': {name: 'sha512WithRSAEncryption', hash: 'sha512'},
  '1.2.840.113549.1.1.10': {name: 'rsassaPss'},
  '1.2.840.10045.4.1': {name: 'ecdsa-with-SHA1', hash: 'sha1'},
  '1.2.840.10045.4.3.1': {name: 'ecdsa-with-SHA224', hash: 'sha224'},
  '1.2.840.10045.4.3.2': {name: 'ecdsa-with-SHA256', hash: 'sha256'},
  '1.2.840.10045.4.3.3': {name: 'ecdsa-with-SHA384', hash: 'sha384'},
  '1.2.840.10045.4.3.4': {name: 'ecdsa-with-SHA512', hash: 'sha512'},
  '1.3.101.112': {name: 'ED25519'},
  '1.3.101.113': {name: 'ED448'},
  '1.2.840.10040.4.3': {name: 'dsaWithSHA1', hash: 'sha1'},
  '2.16.840.1.101.3.4.3.2': {name: 'dsa_with_SHA256', hash: 'sha256'},
};

/** Decodes an AlgorithmIdentifier into a SignatureAlgorithm. */
export function parseSignatureAlgorithm(algId: Tlv): SignatureAlgorithm {
  const [oidT, params] = children(algId);
  if (!oidT) throw new DerError('empty AlgorithmIdentifier');
  const oid = decodeOid(oidT);
  const known = SIG_ALGS[oid];
  const alg: SignatureAlgorithm = {oid, name: known?.name ?? oid};
  if (known?.hash) alg.hash = known.hash;
  if (oid === OID.rsassaPss && params && params.tag === TAG.SEQUENCE) {
    // RFC 4055 RSASSA-PSS-params; defaults are SHA-1, MGF1-SHA-1, salt 20.
    let hash = 'sha1';
    let mgfHash = 'sha1';
    let saltLength = 20;
    for (const f of children(params)) {
      const inner = readTlv(f.buf, f.contentStart, f.end);
      if (f.tag === 0xa0) hash = HASH_OIDS[decodeOid(children(inner)[0]!)] ?? 'unknown';
      if (f.tag === 0xa1) {
        const mgfParams = children(inner)[1];
        if (mgfParams) mgfHash = HASH_OIDS[decodeOid(children(mgfParams)[0]!)] ?? 'unknown';
      }
      if (f.tag === 0xa2) saltLength = Number(bigintFrom(content(inner)));
    }
    alg.pss = {hash, mgfHash, saltLength};
    if (hash in {sha256: 1, sha384: 1, sha512: 1, sha1: 1, sha224: 1}) alg.hash = hash as SignatureAlgorithm['hash'];
  }
  return alg;
}

function bigintFrom(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

function bitLength(magnitude: Uint8Array): number {
  let i = 0;
  while (i < magnitude.length && magnitude[i] === 0) i++;
  if (i === magnitude.length) return 0;
  return (magnitude.length - i - 1) * 8 + (32 - Math.clz32(magnitude[i]!));
}

/** Decodes a SubjectPublicKeyInfo. */
export function parsePublicKeyInfo(spki: Tlv): PublicKeyInfo {
  const [algId, bits] = children(spki);
  if (!algId || !bits) throw new DerError('bad SubjectPublicKeyInfo');
  const [oidT, params] = children(algId);
  const algorithmOid = decodeOid(oidT!);
  const info: PublicKeyInfo = {kind: 'unknown', algorithmOid, bits: 0, spki: raw(spki)};
  const keyBytes = content(bits).subarray(1);
  if (algorithmOid === OID.rsaEncryption || algorithmOid === OID.rsassaPss) {
    info.kind = algorithmOid === OID.rsaEncryption ? 'rsa' : 'rsa-pss';
    const rsaKey = readTlv(keyBytes, 0);
    const modulus = children(rsaKey)[0];
    if (modulus) info.bits = bitLength(content(modulus));
  } else if (algorithmOid === OID.ecPublicKey) {
    info.kind = 'ec';
    if (params && params.tag === TAG.OID) {
      const curveOid = decodeOid(params);
      info.curveOid = curveOid;
      const curve = CURVES[curveOid];
      info.curve = curve?.name ?? curveOid;
      info.bits = curve?.bits ?? 0;
    }
  } else if (algorithmOid === OID.ed25519) {
    info.kind = 'ed25519';
    info.bits = 256;
  } else if (algorithmOid === OID.ed448) {
    info.kind = 'ed448';
    info.bits = 456;
  } else if (algorithmOid === OID.dsa) {
    info.kind = 'dsa';
    const p = params ? children(params)[0] : undefined;
    if (p) info.bits = bitLength(content(p));
  }
  return info;
}

function formatIp(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join('.');
  if (b.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
    return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
  }
  return toHex(b);
}

/** Decodes GeneralNames (RFC 5280 4.2.1.6). */
export function parseGeneralNames(seq: Tlv): GeneralName[] {
  return children(seq).map((g): GeneralName => {
    const v = content(g);
    const text = (): string => Buffer.from(v).toString('latin1');
    switch (g.tag) {
      case 0x82:
        return {type: 'dns', value: text()};
      case 0x87:
        return {type: 'ip', value: formatIp(v)};
      case 0x86:
        return {type: 'uri', value: text()};
      case 0x81:
        return {type: 'email', value: text()};
      case 0xa4:
        return {type: 'dirname', value: v};
      default:
        return {type: 'other', value: `tag ${g.tag.toString(16)}: ${toHex(v)}`};
    }
  });
}

/** Decodes an Extensions SEQUENCE (RFC 5280 4.1); certificates, and CSRs' extensionRequest. */
export function parseExtensions(list: Tlv): Extension[] {
  return children(list).map((ext) => {
    const parts = children(ext);
    const oid = decodeOid(parts[0]!);
    let critical = false;
    let valueT = parts[1]!;
    if (valueT.tag === TAG.BOOLEAN) {
      critical = content(valueT)[0] !== 0;
      valueT = parts[2]!;
    }
    expectTag(valueT, TAG.OCTET_STRING, `extension ${oid}`);
    return {oid, critical, value: content(valueT)};
  });
}

function colonHex(bytes: Uint8Array): string {
  return toHex(bytes).replace(/(..)(?=.)/g, '$1:');
}

/** Applies the extensions we understand to the parsed certificate. */
function decodeKnownExtensions(cert: ParsedCertificate): void {
  for (const ext of cert.extensions) {
    const t = parseOne(ext.value);
    switch (ext.oid) {
      case OID.basicConstraints: {
        let ca = false;
        let pathLength: number | undefined;
        for (const c of children(t)) {
          if (c.tag === TAG.BOOLEAN) ca = content(c)[0] !== 0;
          if (c.tag === TAG.INTEGER) pathLength = Number(bigintFrom(content(c)));
        }
        cert.basicConstraints = {ca, critical: ext.critical, ...(pathLength === undefined ? {} : {pathLength})};
        break;
      }
      case OID.keyUsage: {
        const bytes = content(t).subarray(1);
        const flags: KeyUsageName[] = [];
        KEY_USAGE_BITS.forEach((name, bit) => {
          const byte = bytes[bit >> 3];
          if (byte !== undefined && byte & (0x80 >> (bit & 7))) flags.push(name);
        });
        cert.keyUsage = {flags, critical: ext.critical};
        break;
      }
      case OID.extKeyUsage:
        cert.extKeyUsage = {oids: children(t).map(decodeOid), critical: ext.critical};
        break;
      case OID.subjectAltName:
        cert.subjectAltNames = parseGeneralNames(t);
        break;
      case OID.subjectKeyId:
        cert.subjectKeyId = colonHex(content(t));
        break;
      case OID.authorityKeyId:
        for (const c of children(t)) if (c.tag === 0x80) cert.authorityKeyId = colonHex(content(c));
        break;
    }
  }
}

/**
 * Parses a DER certificate.
 * @throws DerError when the bytes are not a well-formed X.509 certificate.
 */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  const cert = parseOne(der);
  expectTag(cert, TAG.SEQUENCE, 'Certificate');
  const [tbsT, sigAlgT, sigT] = children(cert);
  if (!tbsT || !sigAlgT || !sigT) throw new DerError('Certificate needs tbsCertificate, signatureAlgorithm and signature');
  expectTag(tbsT, TAG.SEQUENCE, 'tbsCertificate');
  expectTag(sigT, TAG.BIT_STRING, 'signature');
  const f = children(tbsT);
  let i = 0;
  let version = 1;
  if (f[0]?.tag === 0xa0) {
    const v = readTlv(f[0].buf, f[0].contentStart, f[0].end);
    version = Number(bigintFrom(content(v))) + 1;
    i = 1;
  }
  const serialT = expectTag(f[i]!, TAG.INTEGER, 'serialNumber');
  const tbsSigT = f[i + 1]!;
  const issuerT = expectTag(f[i + 2]!, TAG.SEQUENCE, 'issuer');
  const validityT = expectTag(f[i + 3]!, TAG.SEQUENCE, 'validity');
  const subjectT = expectTag(f[i + 4]!, TAG.SEQUENCE, 'subject');
  const spkiT = expectTag(f[i + 5]!, TAG.SEQUENCE, 'subjectPublicKeyInfo');
  const [nb, na] = children(validityT);
  if (!nb || !na) throw new DerError('validity needs notBefore and notAfter');
  let extensions: Extension[] = [];
  for (const rest of f.slice(i + 6)) {
    if (rest.tag === 0xa3) extensions = parseExtensions(readTlv(rest.buf, rest.contentStart, rest.end));
  }
  const serial = content(serialT);
  const parsed: ParsedCertificate = {
    der,
    tbs: raw(tbsT),
    version,
    serial,
    serialHex: formatSerialHex(serial),
    serialNegative: isNegativeSerial(serial),
    signatureAlgorithm: parseSignatureAlgorithm(sigAlgT),
    tbsSignatureOid: decodeOid(children(tbsSigT)[0]!),
    issuer: raw(issuerT),
    subject: raw(subjectT),
    notBefore: decodeTime(nb),
    notAfter: decodeTime(na),
    publicKey: parsePublicKeyInfo(spkiT),
    extensions,
    signature: content(sigT).subarray(1),
    subjectAltNames: [],
    sha256Fingerprint: colonHex(createHash('sha256').update(der).digest()),
  };
  decodeKnownExtensions(parsed);
  return parsed;
}
