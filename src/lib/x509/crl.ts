/**
 * Certificate revocation lists (RFC 5280 section 5): a fast builder and a fast reader.
 *
 * Why hand-built DER instead of @peculiar/x509's X509CrlGenerator: a CRL of 500,000
 * entries (ALB's per-trust-store maximum, aws-reference 3) must be written faster than
 * `openssl ca -gencrl` and read in well under 2 s. Building one ASN.1 object per entry
 * is far too slow at that size; here every entry is written straight into one
 * preallocated buffer, and the reader walks the entries without allocating a TLV per
 * field. Signing and signature checks use node:crypto.
 */
import {createPublicKey, type KeyObject, sign, verify} from 'node:crypto';
import {decodeStrictTime, OID, parseSignatureAlgorithm, type ParsedCertificate, type SignatureAlgorithm} from './cert.js';
import {
  children,
  content,
  decodeOid,
  decodeTime,
  DerError,
  encodeLength,
  encodeOid,
  encodeSmallInteger,
  encodeTime,
  expectTag,
  raw,
  readTlv,
  TAG,
  type Tlv,
  tlv,
  toHex,
} from './der.js';
import {canonicalName} from './name-canon.js';
import {opensslCrlProblem} from './crl-gate.js';
import {formatRfc2253} from './dn.js';
import {MtlsKitError} from '../errors.js';
import {checkSize, INPUT_LIMITS, inputLimitError} from '../limits.js';
import {REVOCATION_REASONS, reasonCode, type RevocationReason} from './index-db.js';
import {issuerKeyIdentifier, signatureAlgorithmDer, signatureHash, specOfKeyObject} from './issue.js';
import {wrongInputError, type WrongInputOptions} from './input-kind.js';
import {looksLikePem, parsePem} from './pem.js';
import type {KeySpec} from './profiles.js';
import {formatSerialHex} from './serial.js';

/** ALB's limits on revocation (aws-reference 3 and 4.3). */
export const ALB_CRL_LIMITS = {maxFileBytes: 50 * 1024 * 1024, maxEntriesPerTrustStore: 500_000, maxListsPerTrustStore: 30} as const;

/** One revoked certificate to put on a CRL. */
export interface CrlEntryInput {
  /** ALB-form hex serial (aws-reference 1.4). */
  serial: string;
  revokedAt: Date;
  reason?: RevocationReason;
}

export interface BuildCrlParams {
  /** The CA that signs the CRL; its subject is the CRL issuer, its SKI the CRL's AKI. */
  issuer: ParsedCertificate;
  /** The CA's private key (node:crypto). */
  issuerKey: KeyObject;
  entries: CrlEntryInput[];
  /** The cRLNumber extension value (RFC 5280 5.2.3), from the tier's `crlnumber` file. */
  crlNumber: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  /** More crlExtensions, as is (tests use it to write an unknown critical extension). */
  extraExtensions?: Array<{oid: string; critical: boolean; value: Uint8Array}>;
}

export interface BuildCrlResult {
  der: Uint8Array;
  pem: string;
  /** Entries written. */
  entries: number;
  /** Serials left out because they are negative (ALB cannot revoke them, aws-reference 4.3). */
  skippedNegative: string[];
}

const OID_CRL_NUMBER_BYTES = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x14]);
const OID_CRL_REASON_BYTES = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x15]);

export interface SigAlg {
  hash: string | null;
  algId: Uint8Array;
}

/**
 * The signature algorithm for a CA key, as certificates are signed (issue.ts / profiles.ts:
 * ECDSA with SHA-256/384/512 by curve, RSA PKCS#1 v1.5 with SHA-256, SHA-384 from 4096 bits,
 * Ed25519), all within what ALB accepts (aws-reference 4.1). Returns the node:crypto hash
 * name and the DER AlgorithmIdentifier.
 * @throws MtlsKitError UNSUPPORTED_KEY for other key types.
 */
export function signatureAlgorithmForKey(key: KeyObject): SigAlg {
  let spec: KeySpec;
  try {
    spec = specOfKeyObject(key);
  } catch {
    throw new MtlsKitError({
      code: 'UNSUPPORTED_KEY',
      message: `cannot sign a CRL with a ${key.asymmetricKeyType} key`,
      suggestions: ['use an RSA or EC CA key'],
    });
  }
  return {hash: signatureHash(spec), algId: signatureAlgorithmDer(spec)};
}

/** Writes a DER length at `p`, returns the new offset. */
function putLength(buf: Buffer, p: number, len: number): number {
  if (len < 0x80) {
    buf[p] = len;
    return p + 1;
  }
  const l = encodeLength(len);
  buf.set(l, p);
  return p + l.length;
}

const lengthSize = (len: number): number => (len < 0x80 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : len < 0x1000000 ? 4 : 5);

/**
 * Encodes the revokedCertificates SEQUENCE (RFC 5280 5.1.2.6) into one buffer. Each entry
 * is `SEQUENCE { INTEGER serial, Time revocationDate, [extensions: reasonCode] }`; the
 * reason extension is left out for `unspecified`, as RFC 5280 5.3.1 recommends.
 * Returns undefined when there are no entries (the field is then absent).
 */
function encodeRevokedList(entries: CrlEntryInput[], skippedNegative: string[]): {der: Uint8Array; count: number} | undefined {
  const timeCache = new Map<number, Uint8Array>();
  let bound = 0;
  for (const e of entries) bound += e.serial.length / 2 + 64;
  const body = Buffer.allocUnsafe(bound);
  let p = 0;
  let count = 0;
  for (const e of entries) {
    if (e.serial.startsWith('-')) {
      // aws-reference 4.3: "The ALB can't revoke certificates whose serial number is negative."
      skippedNegative.push(e.serial);
      continue;
    }
    const hex = e.serial.length % 2 ? '0' + e.serial : e.serial;
    let serialLen = hex.length / 2;
    const firstByte = parseInt(hex.slice(0, 2), 16);
    const sign = firstByte & 0x80 ? 1 : 0;
    serialLen += sign;
    const t = e.revokedAt.getTime() - (e.revokedAt.getTime() % 1000);
    let time = timeCache.get(t);
    if (!time) {
      time = encodeTime(new Date(t));
      timeCache.set(t, time);
    }
    const code = e.reason && e.reason !== 'unspecified' ? reasonCode(e.reason) : -1;
    const extLen = code >= 0 ? 14 : 0;
    const entryLen = 1 + lengthSize(serialLen) + serialLen + time.length + extLen;
    body[p++] = TAG.SEQUENCE;
    p = putLength(body, p, entryLen);
    body[p++] = TAG.INTEGER;
    p = putLength(body, p, serialLen);
    if (sign) body[p++] = 0;
    p += body.write(hex, p, 'hex');
    body.set(time, p);
    p += time.length;
    if (code >= 0) {
      // SEQUENCE { SEQUENCE { OID reasonCode, OCTET STRING { ENUMERATED code } } }
      body[p++] = TAG.SEQUENCE;
      body[p++] = 12;
      body[p++] = TAG.SEQUENCE;
      body[p++] = 10;
      OID_CRL_REASON_BYTES.copy(body, p);
      p += 5;
      body[p++] = TAG.OCTET_STRING;
      body[p++] = 3;
      body[p++] = TAG.ENUMERATED;
      body[p++] = 1;
      body[p++] = code;
    }
    count++;
  }
  if (count === 0) return undefined;
  const header = Buffer.concat([Uint8Array.of(TAG.SEQUENCE), encodeLength(p)]);
  return {der: Buffer.concat([header, body.subarray(0, p)]), count};
}

/**
 * Builds and signs a v2 CRL (RFC 5280 5.1): version v2, the issuer's subject, thisUpdate,
 * nextUpdate, the revoked entries (reason codes as entry extensions, negative serials
 * left out), and the crlExtensions authorityKeyIdentifier and cRLNumber (both required
 * by RFC 5280 5.2.1 / 5.2.3).
 * @returns the DER, its PEM (the only form ALB accepts, aws-reference 4.3), the entry count
 *   and the serials that were skipped.
 * @throws MtlsKitError UNSUPPORTED_KEY when the key cannot sign.
 */
export function buildCrl(p: BuildCrlParams): BuildCrlResult {
  const alg = signatureAlgorithmForKey(p.issuerKey);
  const skippedNegative: string[] = [];
  const revoked = encodeRevokedList(p.entries, skippedNegative);
  const aki = tlv(TAG.SEQUENCE, encodeOid(OID.authorityKeyId), tlv(TAG.OCTET_STRING, tlv(TAG.SEQUENCE, tlv(0x80, issuerKeyIdentifier(p.issuer)))));
  const crlNumber = tlv(TAG.SEQUENCE, OID_CRL_NUMBER_BYTES, tlv(TAG.OCTET_STRING, encodeSmallInteger(p.crlNumber)));
  const extra = (p.extraExtensions ?? []).map((e) =>
    tlv(TAG.SEQUENCE, encodeOid(e.oid), ...(e.critical ? [Uint8Array.of(TAG.BOOLEAN, 1, 0xff)] : []), tlv(TAG.OCTET_STRING, e.value)),
  );
  const extensions = tlv(0xa0, tlv(TAG.SEQUENCE, aki, crlNumber, ...extra));
  const parts: Uint8Array[] = [encodeSmallInteger(1), alg.algId, p.issuer.subject, encodeTime(p.thisUpdate), encodeTime(p.nextUpdate)];
  if (revoked) parts.push(revoked.der);
  parts.push(extensions);
  const tbs = tlv(TAG.SEQUENCE, ...parts);
  const signature = sign(alg.hash, tbs, p.issuerKey);
  const bitString = tlv(TAG.BIT_STRING, Uint8Array.of(0), signature);
  const der = tlv(TAG.SEQUENCE, tbs, alg.algId, bitString);
  return {der, pem: encodePemFast(der, 'X509 CRL'), entries: revoked?.count ?? 0, skippedNegative};
}

/**
 * PEM with 64-character lines, written into one buffer (toPem's string building is slow
 * for a 30 MB CRL).
 */
export function encodePemFast(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const head = `-----BEGIN ${label}-----\n`;
  const tail = `-----END ${label}-----\n`;
  const lines = Math.ceil(b64.length / 64);
  const out = Buffer.allocUnsafe(head.length + b64.length + lines + tail.length);
  let p = out.write(head, 0, 'latin1');
  const src = Buffer.from(b64, 'latin1');
  for (let i = 0; i < src.length; i += 64) {
    const end = Math.min(i + 64, src.length);
    p += src.copy(out, p, i, end);
    out[p++] = 0x0a;
  }
  p += out.write(tail, p, 'latin1');
  return out.toString('latin1', 0, p);
}

// ---------------------------------------------------------------------------------
// Reader

/** A revoked entry as looked up (decoded only on a hit). */
export interface RevokedEntry {
  serial: string;
  revokedAt: Date;
  reason?: string;
  /** The CRLReason code (8 = removeFromCRL, which OpenSSL does not count as revoked). */
  reasonCode?: number;
}

/**
 * A parsed CRL. Revoked serials are kept in a Map from ALB-hex serial to the entry's
 * offset in `der`, so the date and reason are decoded only for a hit.
 */
export interface LoadedCrl {
  source: string;
  format: 'pem' | 'der';
  der: Uint8Array;
  /** Bytes of the file as given (PEM or DER). */
  fileSize: number;
  /** 1 or 2. */
  version: number;
  /** Raw issuer Name DER and its RFC 2253 string. */
  issuer: Uint8Array;
  issuerDn: string;
  thisUpdate: Date;
  nextUpdate?: Date;
  crlNumber?: bigint;
  /** Colon hex, as cert.ts prints key ids. */
  authorityKeyId?: string;
  signatureAlgorithm: SignatureAlgorithm;
  tbsSignatureOid: string;
  tbs: Uint8Array;
  signature: Uint8Array;
  revoked: Map<string, number>;
  entryCount: number;
  negativeSerials: number;
  /** Critical CRL or entry extensions we do not handle (RFC 5280 5.2 / 5.3: the CRL must then not be used). */
  unhandledCritical: string[];
  /** A delta CRL (deltaCRLIndicator present). */
  delta: boolean;
  /** Signature results by issuer SPKI (checked once per issuer key). */
  signatureChecks: Map<string, boolean>;
  /** OpenSSL's canonical issuer name (name-canon.ts), for matching certificates. */
  issuerCanon: string;
  /** authorityKeyIdentifier serial and issuer directory name, when present. */
  authorityKeySerial?: Uint8Array;
  authorityKeyIssuer?: Uint8Array;
  /** AlgorithmIdentifier DER inside and outside the signed part, and the signature BIT STRING's unused bits. */
  tbsSignatureAlgDer: Uint8Array;
  signatureAlgDer: Uint8Array;
  signatureUnusedBits: number;
  /** thisUpdate or nextUpdate not in RFC 5280 form (OpenSSL's X509_cmp_time refuses it). */
  timeError?: string;
  /** issuingDistributionPoint (RFC 5280 5.2.5), when present. */
  idp?: IssuingDistributionPoint;
}

export interface IssuingDistributionPoint {
  /** fullName GeneralNames (raw DER, latin1); undefined when the IDP names no distribution point. */
  fullNames?: string[];
  onlyUser: boolean;
  onlyCa: boolean;
  onlyAttribute: boolean;
  indirect: boolean;
  /** OpenSSL's reason mask (CRLDP_ALL_REASONS 0x807f when absent). */
  reasons?: number;
}

function badCrl(source: string, message: string): MtlsKitError {
  return new MtlsKitError({
    code: 'BAD_CRL',
    message: `${source}: ${message}`,
    suggestions: ['pass a CRL (-----BEGIN X509 CRL----- PEM or DER), e.g. the crl.pem written by mtls-kit crl; check the file was not truncated'],
  });
}

/**
 * CRL extensions AWS-LC handles when critical (crypto/x509/x_crl.c crl_cb): the issuing
 * distribution point and the authority key identifier; any other critical one (a critical
 * deltaCRLIndicator too: AWS-LC knows no delta CRLs) makes the CRL unusable
 * (aws-reference 12.2; OpenSSL 3 also handles the delta indicator).
 */
const KNOWN_CRL_EXTENSIONS = new Set<string>([OID.authorityKeyId, OID.issuingDistributionPoint]);
/**
 * Entry extensions AWS-LC handles when critical: none ("We do not support any critical CRL
 * entry extensions", crl_parse_entry_extensions), so a critical certificateIssuer or reasonCode
 * makes the whole CRL unusable (OpenSSL 3 handles a critical certificateIssuer).
 */
const KNOWN_ENTRY_EXTENSIONS = new Set<string>();

/** Looks inside an entry's extensions for critical ones we do not handle. */
function scanEntryExtensions(buf: Uint8Array, exts: {start: number; end: number}, unhandled: Set<string>): void {
  const seq = readTlv(buf, exts.start, exts.end);
  let p = seq.contentStart;
  while (p < seq.end) {
    const ext = readTlv(buf, p, seq.end);
    p = ext.end;
    const oidT = readTlv(buf, ext.contentStart, ext.end);
    const next = readTlv(buf, oidT.end, ext.end);
    if (next.tag === TAG.BOOLEAN && buf[next.contentStart] !== 0) {
      const oid = decodeOid(oidT);
      if (!KNOWN_ENTRY_EXTENSIONS.has(oid)) unhandled.add(oid);
    }
  }
}

/**
 * Reads a CRL from PEM (`X509 CRL`) or DER bytes. Walks revokedCertificates once without
 * building objects per entry (a 500,000-entry CRL loads in a few hundred ms). Unknown
 * critical extensions are recorded in `unhandledCritical`, not thrown: verification
 * reports them as ClientCertCrlProcessingError and lint as a finding.
 * @param source the file name for messages
 * @param expect what the command wanted and next steps, for input of another kind
 * @throws MtlsKitError BAD_CRL (exit 4) when the bytes are not a well-formed CRL, EMPTY_FILE
 *   (exit 4), WRONG_FILE_KIND (exit 2) when they are a certificate, key, CSR, ...
 */
export function loadCrl(data: Uint8Array, source: string, expect: WrongInputOptions = {wanted: 'a CRL'}): LoadedCrl {
  const crl = parseCrl(data, source, expect);
  checkCrlWithOpenSsl(data, crl);
  return crl;
}

/**
 * loadCrl without its last step, OpenSSL's own parse (checkCrlWithOpenSsl, about half the
 * time of a 500,000-entry CRL): for deploy, which runs that step later only for CRLs the
 * trust store does not already hold.
 * @throws as loadCrl, except OpenSSL's verdict
 */
export function parseCrl(data: Uint8Array, source: string, expect: WrongInputOptions = {wanted: 'a CRL'}): LoadedCrl {
  let der: Uint8Array;
  let format: LoadedCrl['format'] = 'der';
  let crl: LoadedCrl;
  checkSize(source, 'crlBytes', data.length);
  try {
    if (looksLikePem(data)) {
      format = 'pem';
      der = decodeCrlPem(data, source);
    } else {
      der = data;
    }
    crl = parseCrlDer(der, source, format, data.length);
  } catch (error) {
    // Empty, or another kind of file (a certificate given as --crl): say what it is.
    const wrong = wrongInputError(data, source, ['crl'], expect);
    if (wrong) throw wrong;
    if (error instanceof MtlsKitError) throw error;
    throw badCrl(source, `not a valid CRL (${(error as Error).message})`);
  }
  return crl;
}

/**
 * OpenSSL parses the CRL (crl-gate.ts): what it refuses, ALB refuses (InvalidRevocationContent).
 * @param data the bytes `crl` was parsed from (a PEM file is given to OpenSSL as it is)
 * @throws MtlsKitError BAD_CRL (exit 4) with OpenSSL's complaint
 */
export function checkCrlWithOpenSsl(data: Uint8Array, crl: LoadedCrl): void {
  const problem = opensslCrlProblem(
    crl.format === 'pem' ? Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1') : encodePemFast(crl.der, 'X509 CRL'),
  );
  if (problem !== null) throw badCrl(crl.source, `OpenSSL cannot parse it (${problem})`);
}

const PEM_BEGIN = '-----BEGIN X509 CRL-----';
const PEM_END = '-----END X509 CRL-----';

/**
 * The DER inside a PEM CRL. A single CRL block takes a fast path (indexOf and one base64
 * decode; a 30 MB PEM decodes in tens of ms, where the line-by-line parser takes ~0.6 s);
 * anything else goes through parsePem for its precise messages.
 */
function decodeCrlPem(data: Uint8Array, source: string): Uint8Array {
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  const b = text.indexOf(PEM_BEGIN);
  const e = text.indexOf(PEM_END);
  if (b >= 0 && e > b && text.indexOf(PEM_BEGIN, b + 1) < 0 && text.indexOf('-----BEGIN', e) < 0) {
    const body = text.slice(b + PEM_BEGIN.length, e);
    if (/^[A-Za-z0-9+/=\s]*$/.test(body)) {
      const der = Buffer.from(body, 'base64');
      if (der.length > 0) return new Uint8Array(der.buffer, der.byteOffset, der.byteLength);
    }
  }
  let blocks: ReturnType<typeof parsePem>;
  try {
    blocks = parsePem(text, source);
  } catch (error) {
    // The interface promises BAD_CRL for anything that is not a readable CRL.
    throw badCrl(source, (error as Error).message.replace(`${source}: `, ''));
  }
  const crls = blocks.filter((x) => x.label === 'X509 CRL');
  if (crls.length === 0) throw badCrl(source, `holds no -----BEGIN X509 CRL----- block (found ${blocks.map((x) => x.label).join(', ') || 'no PEM blocks'})`);
  if (crls.length > 1) throw badCrl(source, `holds ${crls.length} CRLs; give one CRL per file`);
  return crls[0]!.der;
}

/** How many TLVs follow each other from q to end (up to `stop`; a malformed length ends the count). */
function countEntries(buf: Uint8Array, q: number, end: number, stop: number): number {
  let n = 0;
  while (q + 2 <= end && n < stop) {
    let len = buf[q + 1]!;
    let c = q + 2;
    if (len & 0x80) {
      const k = len & 0x7f;
      if (k === 0 || k > 4) break;
      len = 0;
      for (let i = 0; i < k; i++) len = len * 256 + buf[c + i]!;
      c += k;
    }
    q = c + len;
    n++;
  }
  return n;
}

function parseCrlDer(der: Uint8Array, source: string, format: LoadedCrl['format'], fileSize: number): LoadedCrl {
  const top = readTlv(der, 0);
  if (top.end !== der.length) throw new DerError(`${der.length - top.end} trailing bytes`);
  expectTag(top, TAG.SEQUENCE, 'CertificateList');
  const tbsT = expectTag(readTlv(der, top.contentStart, top.end), TAG.SEQUENCE, 'tbsCertList');
  const sigAlgT = expectTag(readTlv(der, tbsT.end, top.end), TAG.SEQUENCE, 'signatureAlgorithm');
  const sigT = expectTag(readTlv(der, sigAlgT.end, top.end), TAG.BIT_STRING, 'signatureValue');
  if (sigT.end !== top.end) throw new DerError('extra fields after signatureValue');
  let p = tbsT.contentStart;
  let t = readTlv(der, p, tbsT.end);
  let version = 1;
  if (t.tag === TAG.INTEGER) {
    // AWS-LC (x_crl.c): the whole INTEGER must be v1 (0, explicitly encoded) or v2 (1).
    const v = content(t);
    if (v.length !== 1 || v[0]! > 1) throw new DerError(`unsupported CRL version (INTEGER ${Buffer.from(v).toString('hex')}; v1 or v2 only)`);
    version = v[0]! + 1;
    t = readTlv(der, t.end, tbsT.end);
  }
  const tbsSigT = expectTag(t, TAG.SEQUENCE, 'signature');
  const issuerT = expectTag(readTlv(der, tbsSigT.end, tbsT.end), TAG.SEQUENCE, 'issuer');
  const thisT = readTlv(der, issuerT.end, tbsT.end);
  const thisTime = decodeStrictTime(thisT);
  const thisUpdate = thisTime.date;
  let timeError = thisTime.error ? `thisUpdate ${thisTime.error}` : undefined;
  p = thisT.end;
  let nextUpdate: Date | undefined;
  if (p < tbsT.end) {
    t = readTlv(der, p, tbsT.end);
    if (t.tag === TAG.UTCTime || t.tag === TAG.GeneralizedTime) {
      const next = decodeStrictTime(t);
      nextUpdate = next.date;
      if (next.error) timeError ??= `nextUpdate ${next.error}`;
      p = t.end;
    }
  }
  const revoked = new Map<string, number>();
  const unhandled = new Set<string>();
  let negativeSerials = 0;
  if (p < tbsT.end) {
    t = readTlv(der, p, tbsT.end);
    if (t.tag === TAG.SEQUENCE) {
      // The hot loop: lengths read inline, no TLV objects or child arrays per entry.
      const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
      let q = t.contentStart;
      const listEnd = t.end;
      // An entry is at least 7 bytes (SEQUENCE, INTEGER, an empty time): only a list that
      // long can be over the bound, and its entries are counted before any is read.
      if (listEnd - q > INPUT_LIMITS.crlEntries * 7 && countEntries(buf, q, listEnd, INPUT_LIMITS.crlEntries + 1) > INPUT_LIMITS.crlEntries)
        throw inputLimitError(source, 'crlEntries', `more than ${INPUT_LIMITS.crlEntries.toLocaleString('en-US')} revoked entries`);
      while (q < listEnd) {
        if (buf[q] !== TAG.SEQUENCE) throw new DerError(`revoked entry at offset ${q} is not a SEQUENCE`);
        let len = buf[q + 1]!;
        let c = q + 2;
        if (len & 0x80) {
          const n = len & 0x7f;
          if (n === 0 || n > 3) throw new DerError(`bad length in revoked entry at offset ${q}`);
          len = 0;
          for (let i = 0; i < n; i++) len = len * 256 + buf[c + i]!;
          c += n;
        }
        const entryEnd = c + len;
        if (entryEnd > listEnd) throw new DerError(`revoked entry at offset ${q} runs past the list`);
        if (buf[c] !== TAG.INTEGER) throw new DerError(`revoked entry at offset ${q} has no serial`);
        const serialLen = buf[c + 1]!;
        if (serialLen & 0x80 || serialLen === 0 || c + 2 + serialLen > entryEnd) throw new DerError(`bad serial in revoked entry at offset ${q}`);
        let s0 = c + 2;
        const s1 = s0 + serialLen;
        const timeTag = buf[s1];
        const timeEnd = s1 + 2 + buf[s1 + 1]!;
        if ((timeTag !== TAG.UTCTime && timeTag !== TAG.GeneralizedTime) || timeEnd > entryEnd)
          throw new DerError(`revoked entry at offset ${q} has no revocation date`);
        if (timeEnd < entryEnd) scanEntryExtensions(der, {start: timeEnd, end: entryEnd}, unhandled);
        let serial: string;
        if (buf[s0]! & 0x80) {
          negativeSerials++;
          serial = formatSerialHex(der.subarray(s0, s1));
        } else {
          // ALB form (aws-reference 1.4): no sign byte, uppercase.
          while (s0 < s1 - 1 && buf[s0] === 0) s0++;
          serial = buf.toString('hex', s0, s1).toUpperCase();
        }
        revoked.set(serial, q);
        q = entryEnd;
      }
      p = t.end;
    }
  }
  let crlNumber: bigint | undefined;
  let authorityKeyId: string | undefined;
  let authorityKeySerial: Uint8Array | undefined;
  let authorityKeyIssuer: Uint8Array | undefined;
  let idp: IssuingDistributionPoint | undefined;
  let delta = false;
  if (p < tbsT.end) {
    t = readTlv(der, p, tbsT.end);
    if (t.tag !== 0xa0) throw new DerError(`unexpected field (tag 0x${t.tag.toString(16)}) in tbsCertList`);
    // AWS-LC (x_crl.c): extensions require a v2 CRL (RFC 5280 5.1.2.1); a v1 CRL with extensions does not load.
    if (version !== 2) throw new DerError('a v1 CRL carries crlExtensions (RFC 5280 5.1.2.1: extensions need version v2)');
    const list = readTlv(der, t.contentStart, t.end);
    for (const ext of children(list)) {
      const parts = children(ext);
      const oid = decodeOid(parts[0]!);
      const critical = parts[1]?.tag === TAG.BOOLEAN && content(parts[1])[0] !== 0;
      const valueT = parts[parts.length - 1]!;
      expectTag(valueT, TAG.OCTET_STRING, `CRL extension ${oid}`);
      const inner = readTlv(der, valueT.contentStart, valueT.end);
      if (oid === OID.crlNumber) {
        let v = 0n;
        for (const b of content(inner)) v = (v << 8n) | BigInt(b);
        crlNumber = v;
      } else if (oid === OID.authorityKeyId) {
        for (const c of children(inner)) {
          if (c.tag === 0x80) authorityKeyId = toHex(content(c)).replace(/(..)(?=.)/g, '$1:');
          else if (c.tag === 0x82) authorityKeySerial = content(c);
          else if (c.tag === 0xa1) {
            const dir = children(c).find((g) => g.tag === 0xa4);
            if (dir) authorityKeyIssuer = raw(readTlv(der, dir.contentStart, dir.contentEnd));
          }
        }
      } else if (oid === OID.deltaCrlIndicator) {
        // Delta CRLs: UNCONFIRMED for ALB (aws-reference 4.3); like openssl without
        // -use_deltas, a delta CRL is never used as the CRL of a certificate.
        delta = true;
      } else if (oid === OID.issuingDistributionPoint) {
        idp = parseIdp(inner);
      }
      if (critical && !KNOWN_CRL_EXTENSIONS.has(oid)) {
        unhandled.add(oid);
      }
    }
  }
  return {
    source,
    format,
    der,
    fileSize,
    version,
    issuer: raw(issuerT),
    issuerDn: formatRfc2253(raw(issuerT)),
    thisUpdate,
    ...(nextUpdate ? {nextUpdate} : {}),
    ...(crlNumber === undefined ? {} : {crlNumber}),
    ...(authorityKeyId ? {authorityKeyId} : {}),
    signatureAlgorithm: parseSignatureAlgorithm(sigAlgT),
    tbsSignatureOid: decodeOid(children(tbsSigT)[0]!),
    tbs: raw(tbsT),
    signature: content(sigT).subarray(1),
    revoked,
    entryCount: revoked.size,
    negativeSerials,
    unhandledCritical: [...unhandled],
    delta,
    signatureChecks: new Map(),
    issuerCanon: canonicalName(raw(issuerT)),
    ...(authorityKeySerial ? {authorityKeySerial} : {}),
    ...(authorityKeyIssuer ? {authorityKeyIssuer} : {}),
    tbsSignatureAlgDer: raw(tbsSigT),
    signatureAlgDer: raw(sigAlgT),
    signatureUnusedBits: content(sigT)[0] ?? 0,
    ...(timeError ? {timeError} : {}),
    ...(idp ? {idp} : {}),
  };
}

/** Reads an issuingDistributionPoint (RFC 5280 5.2.5) as OpenSSL's setup_idp does. */
function parseIdp(t: Tlv): IssuingDistributionPoint {
  const out: IssuingDistributionPoint = {onlyUser: false, onlyCa: false, onlyAttribute: false, indirect: false};
  const flag = (f: Tlv): boolean => content(f)[0] !== 0;
  for (const f of children(expectTag(t, TAG.SEQUENCE, 'issuingDistributionPoint'))) {
    if (f.tag === 0xa0) {
      const name = readTlv(f.buf, f.contentStart, f.contentEnd);
      if (name.tag === 0xa0) out.fullNames = children(name).map((g) => Buffer.from(raw(g)).toString('latin1'));
      else out.fullNames = ['relative:' + Buffer.from(raw(name)).toString('latin1')];
    } else if (f.tag === 0x81) out.onlyUser = flag(f);
    else if (f.tag === 0x82) out.onlyCa = flag(f);
    else if (f.tag === 0x83) {
      const bits = content(f);
      out.reasons = ((bits[1] ?? 0) | ((bits[2] ?? 0) << 8)) & 0x807f;
    } else if (f.tag === 0x84) out.indirect = flag(f);
    else if (f.tag === 0x85) out.onlyAttribute = flag(f);
  }
  return out;
}

/** The revocation entry for a serial, or undefined when the serial is not on the CRL. */
export function findRevoked(crl: LoadedCrl, serialHex: string): RevokedEntry | undefined {
  const at = crl.revoked.get(serialHex);
  if (at === undefined) return undefined;
  const entry = readTlv(crl.der, at);
  const serialT = readTlv(crl.der, entry.contentStart, entry.end);
  const timeT = readTlv(crl.der, serialT.end, entry.end);
  const out: RevokedEntry = {serial: serialHex, revokedAt: decodeTime(timeT)};
  if (timeT.end < entry.end) {
    const exts = readTlv(crl.der, timeT.end, entry.end);
    for (const ext of children(exts)) {
      const parts = children(ext);
      if (decodeOid(parts[0]!) === OID.crlReason) {
        const code = content(readTlv(content(parts[parts.length - 1]!), 0))[0]!;
        out.reasonCode = code;
        out.reason = REVOCATION_REASONS[code >= 8 ? code - 1 : code] ?? `reason ${code}`;
      }
    }
  }
  return out;
}

/** node:crypto verify options for a signature algorithm and key. */
export function verifyOptions(
  alg: SignatureAlgorithm,
  key: KeyObject,
): {hash: string | null; key: KeyObject | {key: KeyObject; padding: number; saltLength: number}} {
  if (alg.pss) {
    // RSASSA-PSS (RFC 4055): node needs the padding and salt length spelled out.
    return {hash: alg.pss.hash, key: {key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: alg.pss.saltLength}};
  }
  return {hash: alg.hash ?? null, key};
}

/** Verifies `signature` over `data` with a SubjectPublicKeyInfo's key; false on any failure. */
export function verifySignature(alg: SignatureAlgorithm, data: Uint8Array, signature: Uint8Array, key: KeyObject): boolean {
  try {
    const o = verifyOptions(alg, key);
    return verify(o.hash, data, o.key as KeyObject, signature);
  } catch {
    return false;
  }
}

/**
 * Whether the CRL's signature verifies with the issuer's key. The result is cached on
 * the CRL per issuer key, so verifying many chains checks the signature once.
 */
export function checkCrlSignature(crl: LoadedCrl, issuer: ParsedCertificate, issuerKey?: KeyObject): boolean {
  const spki = issuer.publicKey.spki;
  const id = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength).toString('latin1');
  const cached = crl.signatureChecks.get(id);
  if (cached !== undefined) return cached;
  let ok = crl.tbsSignatureOid === crl.signatureAlgorithm.oid;
  if (ok) {
    try {
      const key = issuerKey ?? createPublicKey({key: Buffer.from(issuer.publicKey.spki), format: 'der', type: 'spki'});
      ok = verifySignature(crl.signatureAlgorithm, crl.tbs, crl.signature, key);
    } catch {
      ok = false;
    }
  }
  crl.signatureChecks.set(id, ok);
  return ok;
}

/** Parses the `crlnumber` file of openssl ca (hex, one line). Missing or empty → 1. */
export function parseCrlNumberFile(text: string | undefined): bigint {
  const s = (text ?? '').trim();
  if (s === '') return 1n;
  if (!/^[0-9A-Fa-f]+$/.test(s))
    throw new MtlsKitError({
      code: 'BAD_CRLNUMBER',
      message: `crlnumber holds "${s.slice(0, 40)}", not a hex number`,
      suggestions: ['write the next CRL number in hex (e.g. 01) into the file'],
    });
  return BigInt('0x' + s);
}

/** The `crlnumber` file content for a number (uppercase hex, whole bytes, as openssl ca writes it). */
export function formatCrlNumberFile(n: bigint): string {
  let hex = n.toString(16).toUpperCase();
  if (hex.length % 2) hex = '0' + hex;
  return hex + '\n';
}
