/**
 * X.509 certificate parsing into the fields mtls-kit reads (RFC 5280 4.1), on the DER
 * reader in der.ts (see there for why). Keeps the raw bytes that verification signs.
 */
import {X509Certificate} from 'node:crypto';
import {remember} from '../memo.js';
import {formatFingerprint, sha256Fingerprint} from './fingerprint.js';
import {children, content, decodeOid, decodeTime, DerError, expectTag, inner, parseOne, raw, readTlv, TAG, type Tlv, toHex} from './der.js';
import {canonicalName} from './name-canon.js';
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
  /** The AlgorithmIdentifier DER inside the TBS and outside it (OpenSSL requires them equal). */
  tbsSignatureAlgDer: Uint8Array;
  signatureAlgDer: Uint8Array;
  /** OpenSSL's canonical encodings of subject and issuer (X509_NAME_cmp, RFC 5280 7.1), as latin1 strings. */
  subjectCanon: string;
  issuerCanon: string;
  /** Why OpenSSL would flag the certificate's extensions invalid (EXFLAG_INVALID): it can then issue nothing and be issued by nothing. */
  invalidExtensions: string[];
  /** Critical extensions OpenSSL does not support (X509_supported_extension): verification fails. */
  unsupportedCritical: string[];
  /** A validity time OpenSSL's X509_cmp_time refuses (RFC 5280 4.1.2.5: YYMMDDHHMMSSZ / YYYYMMDDHHMMSSZ, a real date). */
  timeError?: string;
  /** The subjectAltName entries as tag and content octets (for name constraints). */
  altNamesRaw: RawGeneralName[];
  nameConstraints?: NameConstraintsExt;
  /** Netscape certificate type bits (first octet), when present. */
  nsCertType?: number;
  /** authorityKeyIdentifier authorityCertSerialNumber (content octets) and authorityCertIssuer directory name (DER). */
  authorityKeySerial?: Uint8Array;
  authorityKeyIssuer?: Uint8Array;
  /** crlDistributionPoints: each point's fullName GeneralNames (raw DER, latin1), for IDP matching. */
  crlDistributionPoints?: Array<{fullNames: string[]; hasCrlIssuer: boolean; hasReasons: boolean}>;
}

/** A GeneralName as its context tag and content octets (explicit [4] directoryName: the Name DER). */
export interface RawGeneralName {
  tag: number;
  value: Uint8Array;
  /** For otherName: its type-id OID. */
  otherOid?: string;
  /** For otherName: the value inside [0] EXPLICIT. */
  otherValue?: Tlv;
}

export interface GeneralSubtree {
  base: RawGeneralName;
  /** minimum and maximum both absent (AWS-LC refuses an explicit minimum 0 too; OpenSSL 3 accepts it). */
  minMaxValid: boolean;
}

export interface NameConstraintsExt {
  permitted: GeneralSubtree[];
  excluded: GeneralSubtree[];
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

/**
 * The extensions AWS-LC may see critical (crypto/x509/v3_purp.c X509_supported_extension,
 * the library under s2n-tls on ALB and NLB); any other critical extension makes verification
 * fail with X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION, even AKI, SKI or AIA. OpenSSL 3 also
 * handles RFC 3779 (sbgp-ipAddrBlock, sbgp-autonomousSysNum), proxyCertInfo and OCSP no-check;
 * AWS-LC does not, so a critical one refuses the chain (aws-reference 12.2).
 */
export const KNOWN_EXTENSIONS = new Set<string>([
  '2.16.840.1.113730.1.1', // netscape-cert-type
  OID.keyUsage,
  OID.subjectAltName,
  OID.basicConstraints,
  OID.certificatePolicies,
  OID.crlDistributionPoints,
  OID.extKeyUsage,
  OID.policyConstraints,
  OID.nameConstraints,
  '2.5.29.33', // policyMappings
  OID.inhibitAnyPolicy,
]);

/** Names for the extensions OpenSSL 3 handles when critical and AWS-LC does not (messages). */
export const OPENSSL_ONLY_CRITICAL: Readonly<Record<string, string>> = {
  '1.3.6.1.5.5.7.1.7': 'sbgp-ipAddrBlock (RFC 3779)',
  '1.3.6.1.5.5.7.1.8': 'sbgp-autonomousSysNum (RFC 3779)',
  '1.3.6.1.5.5.7.1.14': 'proxyCertInfo (RFC 3820)',
  '1.3.6.1.5.5.7.48.1.5': 'OCSP no-check',
};

/** Extensions AWS-LC decodes when it caches a certificate's extensions (x509v3_cache_extensions): a decoding error or a duplicate marks the certificate invalid. */
const DECODED_EXTENSIONS = new Set<string>([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectAltName,
  OID.subjectKeyId,
  OID.authorityKeyId,
  OID.nameConstraints,
  OID.crlDistributionPoints,
  '2.16.840.1.113730.1.1',
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
    return groups
      .join(':')
      .replace(/(^|:)0(:0)+(:|$)/, '::')
      .replace(/:{3,}/, '::');
  }
  return toHex(b);
}

/** Decodes GeneralNames (RFC 5280 4.2.1.6) for display. */
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

/**
 * One GeneralName, checked as OpenSSL's decoder checks it (the form of each CHOICE).
 * @throws DerError when OpenSSL could not decode it.
 */
export function decodeGeneralName(g: Tlv): RawGeneralName {
  switch (g.tag) {
    case 0x81:
    case 0x82:
    case 0x86:
    case 0x87:
    case 0x88:
      return {tag: g.tag, value: content(g)};
    case 0xa0: {
      const [oidT, valT] = children(g);
      if (!oidT || oidT.tag !== TAG.OID || !valT || valT.tag !== 0xa0) throw new DerError('bad otherName');
      return {tag: g.tag, value: content(g), otherOid: decodeOid(oidT), otherValue: inner(valT)};
    }
    case 0xa4: {
      const name = inner(g);
      expectTag(name, TAG.SEQUENCE, 'directoryName');
      return {tag: g.tag, value: raw(name)};
    }
    case 0xa3:
    case 0xa5:
      return {tag: g.tag, value: content(g)};
    default:
      throw new DerError(`bad GeneralName tag 0x${g.tag.toString(16)}`);
  }
}

function decodeGeneralNames(t: Tlv): RawGeneralName[] {
  expectTag(t, TAG.SEQUENCE, 'GeneralNames');
  return children(t).map(decodeGeneralName);
}

/** Decodes an Extensions SEQUENCE (RFC 5280 4.1); certificates, and CSRs' extensionRequest. */
export function parseExtensions(list: Tlv): Extension[] {
  expectTag(list, TAG.SEQUENCE, 'extensions');
  return children(list).map((ext) => {
    const parts = children(ext);
    if (!parts[0] || parts[0].tag !== TAG.OID) throw new DerError('extension without an OID');
    const oid = decodeOid(parts[0]);
    let critical = false;
    let valueT = parts[1];
    if (valueT?.tag === TAG.BOOLEAN) {
      critical = content(valueT)[0] !== 0;
      valueT = parts[2];
    }
    if (!valueT) throw new DerError(`extension ${oid} has no value`);
    expectTag(valueT, TAG.OCTET_STRING, `extension ${oid}`);
    return {oid, critical, value: content(valueT)};
  });
}

/** Uppercase colon hex (`AB:CD:...`), the fingerprints' style. */
const colonHex = formatFingerprint;

/** A non-negative INTEGER that fits a number; -1 for a negative one. */
function smallInteger(t: Tlv): number {
  const c = content(expectTag(t, TAG.INTEGER, 'INTEGER'));
  if (c.length === 0) throw new DerError('empty INTEGER');
  if (c[0]! & 0x80) return -1;
  return Number(bigintFrom(c));
}

function decodeBoolean(t: Tlv): boolean {
  const c = content(expectTag(t, TAG.BOOLEAN, 'BOOLEAN'));
  if (c.length !== 1) throw new DerError('bad BOOLEAN');
  return c[0] !== 0;
}

function decodeSubtrees(t: Tlv): GeneralSubtree[] {
  return children(t).map((st) => {
    const parts = children(expectTag(st, TAG.SEQUENCE, 'GeneralSubtree'));
    if (!parts[0]) throw new DerError('empty GeneralSubtree');
    const base = decodeGeneralName(parts[0]);
    let minMaxValid = true;
    for (const f of parts.slice(1)) {
      // AWS-LC (v3_ncons.c nc_match): any minimum present, even an explicit 0, or any maximum is refused.
      if (f.tag === 0x80 || f.tag === 0x81) minMaxValid = false;
      else throw new DerError('bad GeneralSubtree');
    }
    return {base, minMaxValid};
  });
}

/**
 * Applies the extensions to the parsed certificate as OpenSSL's x509v3_cache_extensions
 * does: an extension it decodes that does not decode, appears twice, or says something
 * contradictory (pathLen negative or without CA:TRUE) marks the certificate invalid.
 */
function decodeKnownExtensions(cert: ParsedCertificate): void {
  const seen = new Set<string>();
  for (const ext of cert.extensions) {
    if (ext.critical && !KNOWN_EXTENSIONS.has(ext.oid)) cert.unsupportedCritical.push(ext.oid);
    if (!DECODED_EXTENSIONS.has(ext.oid)) continue;
    if (seen.has(ext.oid)) {
      cert.invalidExtensions.push(`extension ${ext.oid} appears more than once`);
      continue;
    }
    seen.add(ext.oid);
    try {
      decodeExtension(cert, ext);
    } catch (error) {
      cert.invalidExtensions.push(`extension ${ext.oid} cannot be decoded (${(error as Error).message})`);
    }
  }
}

function decodeExtension(cert: ParsedCertificate, ext: Extension): void {
  const t = parseOne(ext.value);
  switch (ext.oid) {
    case OID.basicConstraints: {
      expectTag(t, TAG.SEQUENCE, 'basicConstraints');
      let ca = false;
      let pathLength: number | undefined;
      const parts = children(t);
      let i = 0;
      if (parts[i]?.tag === TAG.BOOLEAN) ca = decodeBoolean(parts[i++]!);
      if (parts[i]?.tag === TAG.INTEGER) pathLength = smallInteger(parts[i++]!);
      if (i !== parts.length) throw new DerError('extra fields in basicConstraints');
      cert.basicConstraints = {ca, critical: ext.critical, ...(pathLength === undefined ? {} : {pathLength: Math.max(pathLength, 0)})};
      if (pathLength !== undefined && (pathLength < 0 || !ca))
        cert.invalidExtensions.push(pathLength < 0 ? 'basicConstraints pathLen is negative' : 'basicConstraints has a pathLen but not CA:TRUE');
      break;
    }
    case OID.keyUsage: {
      const bits = content(expectTag(t, TAG.BIT_STRING, 'keyUsage'));
      if (bits.length === 0 || bits[0]! > 7) throw new DerError('bad BIT STRING');
      const bytes = bits.subarray(1);
      const flags: KeyUsageName[] = [];
      KEY_USAGE_BITS.forEach((name, bit) => {
        const byte = bytes[bit >> 3];
        if (byte !== undefined && byte & (0x80 >> (bit & 7))) flags.push(name);
      });
      cert.keyUsage = {flags, critical: ext.critical};
      break;
    }
    case OID.extKeyUsage:
      cert.extKeyUsage = {
        oids: children(expectTag(t, TAG.SEQUENCE, 'extKeyUsage')).map((o) => decodeOid(expectTag(o, TAG.OID, 'KeyPurposeId'))),
        critical: ext.critical,
      };
      break;
    case OID.subjectAltName:
      cert.altNamesRaw = decodeGeneralNames(t);
      cert.subjectAltNames = parseGeneralNames(t);
      break;
    case OID.subjectKeyId:
      cert.subjectKeyId = colonHex(content(expectTag(t, TAG.OCTET_STRING, 'subjectKeyIdentifier')));
      break;
    case OID.authorityKeyId:
      for (const c of children(expectTag(t, TAG.SEQUENCE, 'authorityKeyIdentifier'))) {
        if (c.tag === 0x80) cert.authorityKeyId = colonHex(content(c));
        else if (c.tag === 0xa1) {
          const dir = children(c)
            .map(decodeGeneralName)
            .find((g) => g.tag === 0xa4);
          if (dir) cert.authorityKeyIssuer = dir.value;
        } else if (c.tag === 0x82) cert.authorityKeySerial = content(c);
        else throw new DerError('bad authorityKeyIdentifier field');
      }
      break;
    case OID.nameConstraints: {
      const nc: NameConstraintsExt = {permitted: [], excluded: []};
      for (const c of children(expectTag(t, TAG.SEQUENCE, 'nameConstraints'))) {
        if (c.tag === 0xa0) nc.permitted = decodeSubtrees(c);
        else if (c.tag === 0xa1) nc.excluded = decodeSubtrees(c);
        else throw new DerError('bad nameConstraints field');
      }
      cert.nameConstraints = nc;
      break;
    }
    case OID.crlDistributionPoints:
      cert.crlDistributionPoints = children(expectTag(t, TAG.SEQUENCE, 'cRLDistributionPoints')).map((dp) => {
        const out = {fullNames: [] as string[], hasCrlIssuer: false, hasReasons: false};
        for (const f of children(expectTag(dp, TAG.SEQUENCE, 'DistributionPoint'))) {
          if (f.tag === 0xa0) {
            const name = inner(f);
            if (name.tag === 0xa0) for (const g of children(name)) out.fullNames.push(latin1(raw(g)));
          } else if (f.tag === 0x81) out.hasReasons = true;
          else if (f.tag === 0xa2) out.hasCrlIssuer = true;
        }
        return out;
      });
      break;
    case '2.16.840.1.113730.1.1': {
      const bits = content(expectTag(t, TAG.BIT_STRING, 'nsCertType'));
      cert.nsCertType = bits[1] ?? 0;
      break;
    }
  }
}

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/**
 * A certificate validity time as OpenSSL's X509_cmp_time accepts it: exactly
 * YYMMDDHHMMSSZ (UTCTime) or YYYYMMDDHHMMSSZ (GeneralizedTime), RFC 5280 4.1.2.5, and a
 * real calendar date. Returns the date and, when it is not acceptable, why (the date is
 * then a best effort, never an Invalid Date).
 */
export function decodeStrictTime(t: Tlv): {date: Date; error?: string} {
  const fast = strictTimeFast(t);
  return fast ? {date: fast} : decodeStrictTimeGeneral(t);
}

/** decodeStrictTime without its fast path: every form, and why a time is refused. */
export function decodeStrictTimeGeneral(t: Tlv): {date: Date; error?: string} {
  const s = Buffer.from(content(t)).toString('latin1');
  const m =
    t.tag === TAG.UTCTime
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
      : t.tag === TAG.GeneralizedTime
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
        : null;
  let date: Date;
  try {
    date = decodeTime(t);
  } catch {
    date = new Date(0);
  }
  if (!m) return {date, error: `time "${s.slice(0, 40)}" is not in the RFC 5280 form`};
  const year = t.tag === TAG.UTCTime ? (Number(m[1]) >= 50 ? 1900 : 2000) + Number(m[1]) : Number(m[1]);
  const [mo, d, h, mi, se] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  const days = new Date(Date.UTC(year, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > days || h > 23 || mi > 59 || se > 59) return {date, error: `time "${s}" is not a real date`};
  return {date};
}

/** Two ASCII digits at `i` as a number, or -1. */
function twoDigits(b: Uint8Array, i: number): number {
  const x = b[i]! - 0x30;
  const y = b[i + 1]! - 0x30;
  return x >= 0 && x <= 9 && y >= 0 && y <= 9 ? x * 10 + y : -1;
}

/**
 * decodeStrictTime's common case without regular expressions (it runs twice per parse, on
 * every uncached library request): an RFC 5280 time that is a real date, as a Date; undefined
 * for anything else, which the general path then judges (and words) as before.
 */
function strictTimeFast(t: Tlv): Date | undefined {
  const utc = t.tag === TAG.UTCTime;
  if (!utc && t.tag !== TAG.GeneralizedTime) return undefined;
  const b = t.buf;
  const n = t.contentEnd - t.contentStart;
  const i = t.contentStart;
  if (n !== (utc ? 13 : 15) || b[i + n - 1] !== 0x5a) return undefined;
  let year: number;
  let at = i;
  if (utc) {
    const yy = twoDigits(b, i);
    if (yy < 0) return undefined;
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    at += 2;
  } else {
    const hi = twoDigits(b, i);
    const lo = twoDigits(b, i + 2);
    if (hi < 0 || lo < 0) return undefined;
    year = hi * 100 + lo;
    at += 4;
  }
  const mo = twoDigits(b, at);
  const d = twoDigits(b, at + 2);
  const h = twoDigits(b, at + 4);
  const mi = twoDigits(b, at + 6);
  const se = twoDigits(b, at + 8);
  if (mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59) return undefined;
  if (d > new Date(Date.UTC(year, mo, 0)).getUTCDate()) return undefined;
  return new Date(Date.UTC(year, mo - 1, d, h, mi, se));
}

const OPENSSL_X509 = new WeakMap<ParsedCertificate, X509Certificate>();

/** OpenSSL's own parse of the certificate (node:crypto X509Certificate), made when it was parsed. */
export function opensslCertificate(c: ParsedCertificate): X509Certificate {
  let x = OPENSSL_X509.get(c);
  if (!x) {
    x = new X509Certificate(c.der);
    OPENSSL_X509.set(c, x);
  }
  return x;
}

/**
 * Parses a DER certificate. OpenSSL (node:crypto X509Certificate) must be able to parse it
 * too: what OpenSSL refuses, mtls-kit refuses, so verification never judges a certificate
 * ALB could not read.
 * @throws DerError when the bytes are not a well-formed X.509 certificate.
 */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  // serve parses every presented chain: the same intermediates, and the same client
  // reconnecting, are parsed once (OpenSSL's parse costs about as much as a signature check).
  return remember(PARSED, Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('latin1'), 1024, parseCertificateUncached, der);
}

/** Recently parsed certificates by DER (bounded); a ParsedCertificate is never changed after parsing. */
const PARSED = new Map<string, ParsedCertificate>();

function parseCertificateUncached(der: Uint8Array): ParsedCertificate {
  const cert = parseOne(der);
  expectTag(cert, TAG.SEQUENCE, 'Certificate');
  const top = children(cert);
  const [tbsT, sigAlgT, sigT] = top;
  if (!tbsT || !sigAlgT || !sigT || top.length !== 3) throw new DerError('Certificate needs exactly tbsCertificate, signatureAlgorithm and signature');
  expectTag(tbsT, TAG.SEQUENCE, 'tbsCertificate');
  expectTag(sigAlgT, TAG.SEQUENCE, 'signatureAlgorithm');
  expectTag(sigT, TAG.BIT_STRING, 'signature');
  const f = children(tbsT);
  let i = 0;
  let version = 1;
  if (f[0]?.tag === 0xa0) {
    version = smallInteger(inner(f[0])) + 1;
    if (version < 1 || version > 3) throw new DerError(`unknown version ${version}`);
    i = 1;
  }
  if (f.length < i + 6) throw new DerError('tbsCertificate is missing fields');
  const serialT = expectTag(f[i]!, TAG.INTEGER, 'serialNumber');
  const tbsSigT = expectTag(f[i + 1]!, TAG.SEQUENCE, 'signature');
  const issuerT = expectTag(f[i + 2]!, TAG.SEQUENCE, 'issuer');
  const validityT = expectTag(f[i + 3]!, TAG.SEQUENCE, 'validity');
  const subjectT = expectTag(f[i + 4]!, TAG.SEQUENCE, 'subject');
  const spkiT = expectTag(f[i + 5]!, TAG.SEQUENCE, 'subjectPublicKeyInfo');
  const [nb, na] = children(validityT);
  if (!nb || !na) throw new DerError('validity needs notBefore and notAfter');
  let extensions: Extension[] = [];
  for (const rest of f.slice(i + 6)) {
    if (rest.tag === 0xa3) extensions = parseExtensions(inner(rest));
    else if (rest.tag !== 0x81 && rest.tag !== 0x82 && rest.tag !== 0xa1 && rest.tag !== 0xa2)
      throw new DerError(`unexpected field (tag 0x${rest.tag.toString(16)}) in tbsCertificate`);
  }
  const serial = content(serialT);
  const sigBits = content(sigT);
  if (sigBits.length === 0) throw new DerError('empty signature BIT STRING');
  const before = decodeStrictTime(nb);
  const after = decodeStrictTime(na);
  const tbsAlg = children(tbsSigT)[0];
  if (!tbsAlg || tbsAlg.tag !== TAG.OID) throw new DerError('bad signature AlgorithmIdentifier in tbsCertificate');
  let fingerprint: string | undefined;
  const parsed: ParsedCertificate = {
    der,
    tbs: raw(tbsT),
    version,
    serial,
    serialHex: formatSerialHex(serial),
    serialNegative: isNegativeSerial(serial),
    signatureAlgorithm: parseSignatureAlgorithm(sigAlgT),
    tbsSignatureOid: decodeOid(tbsAlg),
    issuer: raw(issuerT),
    subject: raw(subjectT),
    notBefore: before.date,
    notAfter: after.date,
    publicKey: parsePublicKeyInfo(spkiT),
    extensions,
    signature: sigBits.subarray(1),
    subjectAltNames: [],
    // Computed when first read: the library's uncached path never reads it (it hashes the DER once for both of its forms).
    get sha256Fingerprint(): string {
      fingerprint ??= sha256Fingerprint(der);
      return fingerprint;
    },
    tbsSignatureAlgDer: raw(tbsSigT),
    signatureAlgDer: raw(sigAlgT),
    subjectCanon: canonicalName(raw(subjectT)),
    issuerCanon: canonicalName(raw(issuerT)),
    invalidExtensions: [],
    unsupportedCritical: [],
    altNamesRaw: [],
  };
  const timeError = before.error ?? after.error;
  if (timeError) parsed.timeError = timeError;
  decodeKnownExtensions(parsed);
  try {
    OPENSSL_X509.set(parsed, new X509Certificate(der));
  } catch (error) {
    throw new DerError(`OpenSSL cannot parse it (${(error as Error).message.replace(/^error:[0-9A-F]+:/, '')})`);
  }
  return parsed;
}
