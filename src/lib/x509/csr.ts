/**
 * PKCS#10 certificate signing requests (RFC 2986): reading one (PEM or DER) and
 * checking its own signature, and building one for `gen-client --csr-only`.
 *
 * The structure is decoded by PeculiarVentures' `@peculiar/asn1-csr` (loaded lazily,
 * like the PKCS#12 modules), which keeps the signed CertificationRequestInfo bytes; the
 * subject and key are then taken as raw DER with der.ts so that the certificate carries
 * the requested name byte for byte, as `openssl x509 -req` does. Signatures: node:crypto.
 */
import {createPublicKey, type KeyObject} from 'node:crypto';
import {type MtlsKitError, preconditionError} from '../errors.js';
import {checkSize} from '../limits.js';
import {type Extension, parseExtensions, parsePublicKeyInfo, parseSignatureAlgorithm, type PublicKeyInfo, type SignatureAlgorithm} from './cert.js';
import {verifySignature} from './crl.js';
import {children, content, DerError, encodeOid, encodeSmallInteger, expectTag, parseOne, raw, TAG, tlv} from './der.js';
import {encodeExtension, encodeName, encodeSans, type SanInput, signatureAlgorithmDer, signBytes} from './issue.js';
import type {NameEntry} from './names.js';
import {wrongInputError} from './input-kind.js';
import {looksLikePem, parsePem, toPem} from './pem.js';
import type {KeySpec} from './profiles.js';

/** PKCS#9 extensionRequest (RFC 2985 5.4.2): the extensions a CSR asks for. */
export const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
/** PKCS#9 challengePassword (RFC 2985 5.4.1). */
export const OID_CHALLENGE_PASSWORD = '1.2.840.113549.1.9.7';

export interface ParsedCsr {
  der: Uint8Array;
  /** Raw Name DER of the requested subject. */
  subject: Uint8Array;
  publicKey: PublicKeyInfo;
  signatureAlgorithm: SignatureAlgorithm;
  /** The extensions requested through the extensionRequest attribute. */
  requestedExtensions: Extension[];
  /** OIDs of any other attributes (challengePassword, unstructuredName, ...). */
  otherAttributes: string[];
  /** Whether the request's signature verifies with its own key (always true unless parsed with allowBadSignature). */
  signatureValid: boolean;
}

const PEM_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);

function badCsr(source: string, why: string): MtlsKitError {
  return preconditionError('BAD_CSR', `${source} is not a valid PKCS#10 certificate request (${why})`, [
    'pass the CSR file as written by openssl req -new, a device or an HSM (PEM "CERTIFICATE REQUEST" or DER)',
  ]);
}

/**
 * The DER of the one CSR in PEM or DER input.
 * @throws MtlsKitError BAD_CSR / BAD_PEM / EMPTY_FILE (exit 4), WRONG_FILE_KIND (exit 2) naming the file.
 */
export function csrDerFromInput(data: Uint8Array, source: string): Uint8Array {
  const wrong = wrongInputError(data, source, ['csr'], {
    wanted: 'a certificate signing request (CSR)',
    hints: {certificate: `it is already issued; to renew it: mtls-kit renew ${source}`},
  });
  if (wrong) throw wrong;
  checkSize(source, 'csrBytes', data.length);
  if (!looksLikePem(data)) return data;
  const blocks = parsePem(Buffer.from(data).toString('utf8'), source).filter((b) => PEM_LABELS.has(b.label));
  if (blocks.length !== 1) throw badCsr(source, blocks.length === 0 ? 'no -----BEGIN CERTIFICATE REQUEST----- block' : `${blocks.length} requests in one file`);
  return blocks[0]!.der;
}

let decoder: Promise<typeof import('./csr-asn1.js')> | undefined;

/**
 * Parses a CSR and checks its signature with its own key (proof of possession).
 * @param source the file name for messages
 * @param opts allowBadSignature: report a signature that does not verify in `signatureValid`
 *   instead of throwing (inspect shows it; sign refuses it)
 * @throws MtlsKitError BAD_CSR (malformed) or CSR_BAD_SIGNATURE (exit 4).
 */
export async function parseCsr(der: Uint8Array, source: string, opts: {allowBadSignature?: boolean} = {}): Promise<ParsedCsr> {
  // Loaded once, on first use: the ASN.1 schemas cost tens of milliseconds to import.
  decoder ??= import('./csr-asn1.js');
  const {decodeCsr} = await decoder;
  let infoRaw: Uint8Array;
  let attributes: Array<{type: string; values: Uint8Array[]}>;
  try {
    const d = decodeCsr(der);
    if (d.version !== 0) throw new DerError(`version ${d.version + 1}, expected 1`);
    infoRaw = d.infoRaw;
    attributes = d.attributes;
  } catch (error) {
    throw badCsr(source, (error as Error).message);
  }
  let subject: Uint8Array;
  let publicKey: PublicKeyInfo;
  let signatureAlgorithm: SignatureAlgorithm;
  let signature: Uint8Array;
  try {
    // Strict DER walk of the same bytes: exact subject and key, and the outer fields.
    const top = children(expectTag(parseOne(der), TAG.SEQUENCE, 'CertificationRequest'));
    const info = children(expectTag(top[0]!, TAG.SEQUENCE, 'certificationRequestInfo'));
    subject = raw(expectTag(info[1]!, TAG.SEQUENCE, 'subject'));
    publicKey = parsePublicKeyInfo(expectTag(info[2]!, TAG.SEQUENCE, 'subjectPKInfo'));
    signatureAlgorithm = parseSignatureAlgorithm(expectTag(top[1]!, TAG.SEQUENCE, 'signatureAlgorithm'));
    signature = content(expectTag(top[2]!, TAG.BIT_STRING, 'signature')).subarray(1);
  } catch (error) {
    throw badCsr(source, (error as Error).message);
  }
  let key: KeyObject;
  try {
    key = createPublicKey({key: Buffer.from(publicKey.spki), format: 'der', type: 'spki'});
  } catch (error) {
    throw badCsr(source, `unreadable public key: ${(error as Error).message}`);
  }
  const signatureValid = verifySignature(signatureAlgorithm, infoRaw, signature, key);
  if (!signatureValid && !opts.allowBadSignature) {
    throw preconditionError(
      'CSR_BAD_SIGNATURE',
      `${source}: the request's signature does not verify with its own public key (${signatureAlgorithm.name}); it was altered or damaged`,
      ['ask for a fresh CSR from the device (openssl req -new -key private-key.pem -out request.csr)'],
    );
  }
  const requestedExtensions: Extension[] = [];
  const otherAttributes: string[] = [];
  for (const a of attributes) {
    if (a.type !== OID_EXTENSION_REQUEST) {
      otherAttributes.push(a.type);
      continue;
    }
    try {
      for (const v of a.values) requestedExtensions.push(...parseExtensionList(v));
    } catch (error) {
      throw badCsr(source, `extensionRequest: ${(error as Error).message}`);
    }
  }
  return {der, subject, publicKey, signatureAlgorithm, requestedExtensions, otherAttributes, signatureValid};
}

function parseExtensionList(der: Uint8Array): Extension[] {
  const exts = parseExtensions(expectTag(parseOne(der), TAG.SEQUENCE, 'Extensions'));
  // Each value must itself be one DER element.
  for (const e of exts) parseOne(e.value);
  return exts;
}

export interface BuildCsrParams {
  subject: NameEntry[][];
  sans: SanInput[];
  privateKey: KeyObject;
  publicKey: KeyObject;
  spec: KeySpec;
}

/**
 * Builds a PKCS#10 request signed by the key: the subject, and the SANs as an
 * extensionRequest attribute (what `openssl req -new -addext subjectAltName=...` writes).
 * @returns the DER and PEM ("CERTIFICATE REQUEST").
 */
export function buildCsr(p: BuildCsrParams): {der: Uint8Array; pem: string} {
  const spki = new Uint8Array(p.publicKey.export({format: 'der', type: 'spki'}));
  const attrs: Uint8Array[] = [];
  if (p.sans.length > 0) {
    const exts = tlv(TAG.SEQUENCE, encodeExtension('2.5.29.17', false, encodeSans(p.sans)));
    attrs.push(tlv(TAG.SEQUENCE, encodeOid(OID_EXTENSION_REQUEST), tlv(TAG.SET, exts)));
  }
  const info = tlv(TAG.SEQUENCE, encodeSmallInteger(0), encodeName(p.subject), spki, tlv(0xa0, ...attrs));
  const sigAlg = signatureAlgorithmDer(p.spec);
  const der = tlv(TAG.SEQUENCE, info, sigAlg, tlv(TAG.BIT_STRING, Uint8Array.of(0), signBytes(p.spec, p.privateKey, info)));
  return {der, pem: toPem(der, 'CERTIFICATE REQUEST')};
}
