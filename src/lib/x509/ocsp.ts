/**
 * OCSP (RFC 6960): requests and responses, both ways. The responder side parses a request
 * and builds a signed BasicOCSPResponse from index.txt answers; the client side builds a
 * request for a certificate and reads and verifies a response.
 *
 * Why our own DER code (der.ts) and not @peculiar/asn1-ocsp: it is not installed, and the
 * structures are small (a dozen fields); crl.ts and issue.ts already sign and verify with
 * node:crypto on the same writer. Every structure here is checked against the real
 * `openssl ocsp` client and responder in test/ocsp.test.ts.
 */
import {createHash, createPublicKey, type KeyObject, sign} from 'node:crypto';
import {type ParsedCertificate, parseCertificate, parseSignatureAlgorithm, type SignatureAlgorithm} from './cert.js';
import {verifySignature} from './crl.js';
import {children, content, decodeOid, decodeTime, DerError, encodeOid, raw, readTlv, TAG, type Tlv, tlv} from './der.js';
import {type IndexEntry, REVOCATION_REASONS, type RevocationReason} from './index-db.js';
import {keyIdentifier, signatureAlgorithmDer, signatureHash, specOfKeyObject} from './issue.js';
import {OID_AD_OCSP, OID_AUTHORITY_INFO_ACCESS, OID_EKU_OCSP_SIGNING} from './profiles.js';
import {formatSerialHex, serialToIntegerContent} from './serial.js';

/** id-pkix-ocsp-basic, id-pkix-ocsp-nonce (RFC 6960 4.2.1, 4.4.1). */
export const OID_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
export const OID_OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2';

/** OCSPResponseStatus (RFC 6960 4.2.1). */
export const OCSP_RESPONSE_STATUS = {successful: 0, malformedRequest: 1, internalError: 2, tryLater: 3, sigRequired: 5, unauthorized: 6} as const;
export type OcspResponseStatus = keyof typeof OCSP_RESPONSE_STATUS;

/** Hash algorithms a CertID may use: OID → node:crypto name. */
const CERT_ID_HASHES: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const SHA1_ALG = tlv(TAG.SEQUENCE, encodeOid('1.3.14.3.2.26'), Uint8Array.of(TAG.NULL, 0));

export class OcspError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OcspError';
  }
}

/** A CertID (RFC 6960 4.1.1) as received: its DER (echoed in the answer) and its fields. */
export interface CertId {
  der: Uint8Array;
  /** node:crypto hash name, or undefined for a hash we do not know. */
  hash: string | undefined;
  hashOid: string;
  issuerNameHash: Uint8Array;
  issuerKeyHash: Uint8Array;
  /** ALB-form hex serial (serial.ts). */
  serial: string;
}

export interface ParsedOcspRequest {
  certIds: CertId[];
  /** The whole nonce extension (RFC 6960 4.4.1), to echo as is; undefined without one. */
  nonceExtension?: Uint8Array;
  /** The nonce value (the extension's extnValue content). */
  nonce?: Uint8Array;
}

function parseCertId(t: Tlv): CertId {
  const [alg, nameHash, keyHash, serial] = children(t);
  if (!alg || !nameHash || !keyHash || serial?.tag !== TAG.INTEGER) throw new OcspError('a CertID lacks a field');
  const hashOid = decodeOid(children(alg)[0]!);
  return {
    der: raw(t),
    hash: CERT_ID_HASHES[hashOid],
    hashOid,
    issuerNameHash: content(nameHash),
    issuerKeyHash: content(keyHash),
    serial: formatSerialHex(content(serial)),
  };
}

/** Finds the nonce among Extensions (SEQUENCE OF Extension): the whole extension and its value. */
function findNonce(exts: Tlv): {ext: Uint8Array; value: Uint8Array} | undefined {
  for (const e of children(exts)) {
    const parts = children(e);
    if (decodeOid(parts[0]!) === OID_OCSP_NONCE) return {ext: raw(e), value: content(parts[parts.length - 1]!)};
  }
  return undefined;
}

/**
 * Parses an OCSPRequest (RFC 6960 4.1.1): the CertIDs asked about and the nonce.
 * A request signature (optionalSignature) is ignored: the responder does not require one.
 * @throws OcspError when the bytes are not an OCSPRequest (the responder answers malformedRequest).
 */
export function parseOcspRequest(der: Uint8Array): ParsedOcspRequest {
  try {
    const req = readTlv(der, 0);
    if (req.tag !== TAG.SEQUENCE || req.end !== der.length) throw new OcspError('not one DER SEQUENCE');
    const tbs = children(req)[0];
    if (tbs?.tag !== TAG.SEQUENCE) throw new OcspError('no tbsRequest');
    const out: ParsedOcspRequest = {certIds: []};
    for (const f of children(tbs)) {
      if (f.tag === TAG.SEQUENCE) {
        for (const r of children(f)) out.certIds.push(parseCertId(children(r)[0]!));
      } else if (f.tag === 0xa2) {
        const n = findNonce(children(f)[0]!);
        if (n) {
          out.nonceExtension = n.ext;
          out.nonce = n.value;
        }
      }
    }
    if (out.certIds.length === 0) throw new OcspError('the request asks about no certificate');
    return out;
  } catch (error) {
    if (error instanceof OcspError) throw error;
    if (error instanceof DerError) throw new OcspError(`not valid DER (${error.message})`);
    throw new OcspError(`not an OCSP request (${(error as Error).message})`);
  }
}

/** The hashes a CertID holds for an issuer (RFC 6960 4.1.1): of its subject Name DER and of its subjectPublicKey BIT STRING value. */
export function issuerHashes(issuer: ParsedCertificate, hash = 'sha1'): {nameHash: Uint8Array; keyHash: Uint8Array} {
  const keyBits = children(readTlv(issuer.publicKey.spki, 0))[1]!;
  return {
    nameHash: new Uint8Array(createHash(hash).update(issuer.subject).digest()),
    keyHash: new Uint8Array(createHash(hash).update(content(keyBits).subarray(1)).digest()),
  };
}

/** Whether a CertID names this issuer (same name and key hashes). */
export function certIdIsFor(id: CertId, issuer: ParsedCertificate): boolean {
  if (!id.hash) return false;
  const h = issuerHashes(issuer, id.hash);
  return Buffer.compare(h.nameHash, id.issuerNameHash) === 0 && Buffer.compare(h.keyHash, id.issuerKeyHash) === 0;
}

/** One certificate's status in an answer. */
export type OcspCertStatus = {status: 'good'} | {status: 'revoked'; revokedAt: Date; reason?: RevocationReason} | {status: 'unknown'};

export interface OcspSingleAnswer {
  /** The CertID DER exactly as the request sent it. */
  certIdDer: Uint8Array;
  status: OcspCertStatus;
  thisUpdate: Date;
  nextUpdate?: Date;
}

export interface BuildOcspResponseParams {
  answers: OcspSingleAnswer[];
  /** The signer: the CA that issued the certificates asked about (RFC 6960 4.2.2.2), or a delegated responder. */
  signerCert: ParsedCertificate;
  signerKey: KeyObject;
  producedAt: Date;
  /** The request's nonce extension, echoed in responseExtensions (RFC 6960 4.4.1). */
  nonceExtension?: Uint8Array;
}

/** GeneralizedTime with whole seconds, as RFC 6960 requires for every OCSP time (not UTCTime). */
function generalizedTime(d: Date): Uint8Array {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const s = `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return tlv(TAG.GeneralizedTime, Buffer.from(s, 'latin1'));
}

const REASON_CODE = (r: RevocationReason): number => {
  const i = REVOCATION_REASONS.indexOf(r);
  return i >= 7 ? i + 1 : i;
};

function encodeCertStatus(s: OcspCertStatus): Uint8Array {
  if (s.status === 'good') return Uint8Array.of(0x80, 0);
  if (s.status === 'unknown') return Uint8Array.of(0x82, 0);
  // revoked [1] IMPLICIT RevokedInfo { revocationTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
  const reason = s.reason ? [tlv(0xa0, tlv(TAG.ENUMERATED, Uint8Array.of(REASON_CODE(s.reason))))] : [];
  return tlv(0xa1, generalizedTime(s.revokedAt), ...reason);
}

/**
 * Builds and signs a successful OCSPResponse with a BasicOCSPResponse (RFC 6960 4.2.1):
 * responderID byName (the signer's subject), producedAt, one SingleResponse per answer
 * (the request's CertID echoed byte for byte), the nonce echoed, and the signer's
 * certificate in `certs` so a client finds the signer without being told.
 * @throws MtlsKitError UNSUPPORTED_KEY for a key that cannot sign (crl.ts rules).
 */
export function buildOcspResponse(p: BuildOcspResponseParams): Uint8Array {
  const spec = specOfKeyObject(p.signerKey);
  const algId = signatureAlgorithmDer(spec);
  const singles = p.answers.map((a) =>
    tlv(
      TAG.SEQUENCE,
      a.certIdDer,
      encodeCertStatus(a.status),
      generalizedTime(a.thisUpdate),
      ...(a.nextUpdate ? [tlv(0xa0, generalizedTime(a.nextUpdate))] : []),
    ),
  );
  const tbs = tlv(
    TAG.SEQUENCE,
    tlv(0xa1, p.signerCert.subject),
    generalizedTime(p.producedAt),
    tlv(TAG.SEQUENCE, ...singles),
    ...(p.nonceExtension ? [tlv(0xa1, tlv(TAG.SEQUENCE, p.nonceExtension))] : []),
  );
  const signature = new Uint8Array(sign(signatureHash(spec), tbs, p.signerKey));
  const basic = tlv(TAG.SEQUENCE, tbs, algId, tlv(TAG.BIT_STRING, Uint8Array.of(0), signature), tlv(0xa0, tlv(TAG.SEQUENCE, p.signerCert.der)));
  return tlv(
    TAG.SEQUENCE,
    tlv(TAG.ENUMERATED, Uint8Array.of(OCSP_RESPONSE_STATUS.successful)),
    tlv(0xa0, tlv(TAG.SEQUENCE, encodeOid(OID_OCSP_BASIC), tlv(TAG.OCTET_STRING, basic))),
  );
}

/** An unsuccessful OCSPResponse: the status alone, unsigned (RFC 6960 4.2.1). */
export function buildOcspErrorResponse(status: Exclude<OcspResponseStatus, 'successful'>): Uint8Array {
  return tlv(TAG.SEQUENCE, tlv(TAG.ENUMERATED, Uint8Array.of(OCSP_RESPONSE_STATUS[status])));
}

// ---------------------------------------------------------------------------------
// Client side

/**
 * Builds an OCSPRequest for one certificate (RFC 6960 4.1.1): a SHA-1 CertID (what
 * `openssl ocsp` sends by default) and, when given, a nonce extension (value: an OCTET
 * STRING holding the nonce, as OpenSSL writes it).
 */
export function buildOcspRequest(cert: ParsedCertificate, issuer: ParsedCertificate, opts: {nonce?: Uint8Array} = {}): Uint8Array {
  const h = issuerHashes(issuer, 'sha1');
  const certId = tlv(
    TAG.SEQUENCE,
    SHA1_ALG,
    tlv(TAG.OCTET_STRING, h.nameHash),
    tlv(TAG.OCTET_STRING, h.keyHash),
    tlv(TAG.INTEGER, serialToIntegerContent(cert.serialHex)),
  );
  const exts = opts.nonce
    ? [tlv(0xa2, tlv(TAG.SEQUENCE, tlv(TAG.SEQUENCE, encodeOid(OID_OCSP_NONCE), tlv(TAG.OCTET_STRING, tlv(TAG.OCTET_STRING, opts.nonce)))))]
    : [];
  return tlv(TAG.SEQUENCE, tlv(TAG.SEQUENCE, tlv(TAG.SEQUENCE, tlv(TAG.SEQUENCE, certId)), ...exts));
}

export interface ParsedSingleResponse {
  certId: CertId;
  status: OcspCertStatus;
  thisUpdate: Date;
  nextUpdate?: Date;
}

export interface ParsedOcspResponse {
  responseStatus: OcspResponseStatus | `status ${number}`;
  /** Present for a successful response. */
  basic?: {
    tbs: Uint8Array;
    signatureAlgorithm: SignatureAlgorithm;
    signature: Uint8Array;
    /** byName: the Name DER; byKey: the SHA-1 key hash. */
    responderId: {byName: Uint8Array} | {byKey: Uint8Array};
    producedAt: Date;
    responses: ParsedSingleResponse[];
    nonce?: Uint8Array;
    certs: ParsedCertificate[];
  };
}

function parseCertStatus(t: Tlv): OcspCertStatus {
  if (t.tag === 0x80) return {status: 'good'};
  if (t.tag === 0x82) return {status: 'unknown'};
  if (t.tag !== 0xa1) throw new OcspError(`unknown certStatus tag 0x${t.tag.toString(16)}`);
  const [time, reason] = children(t);
  const out: OcspCertStatus = {status: 'revoked', revokedAt: decodeTime(time!)};
  if (reason?.tag === 0xa0) {
    const code = content(children(reason)[0]!)[0]!;
    const name = REVOCATION_REASONS[code >= 8 ? code - 1 : code];
    if (name) out.reason = name;
  }
  return out;
}

/**
 * Reads an OCSPResponse (RFC 6960 4.2.1). Does not check the signature: see verifyOcspResponse.
 * @throws OcspError when the bytes are not an OCSPResponse or the basic response is malformed.
 */
export function parseOcspResponse(der: Uint8Array): ParsedOcspResponse {
  try {
    const resp = readTlv(der, 0);
    if (resp.tag !== TAG.SEQUENCE || resp.end !== der.length) throw new OcspError('not one DER SEQUENCE');
    const [statusT, bytesT] = children(resp);
    if (statusT?.tag !== TAG.ENUMERATED) throw new OcspError('no responseStatus');
    const code = content(statusT)[0]!;
    const name = (Object.keys(OCSP_RESPONSE_STATUS) as OcspResponseStatus[]).find((k) => OCSP_RESPONSE_STATUS[k] === code);
    const out: ParsedOcspResponse = {responseStatus: name ?? `status ${code}`};
    if (code !== 0) return out;
    if (bytesT?.tag !== 0xa0) throw new OcspError('a successful response without responseBytes');
    const [typeT, octets] = children(children(bytesT)[0]!);
    if (decodeOid(typeT!) !== OID_OCSP_BASIC) throw new OcspError(`response type ${decodeOid(typeT!)} is not id-pkix-ocsp-basic`);
    const basicDer = content(octets!);
    const [tbsT, algT, sigT, certsT] = children(readTlv(basicDer, 0));
    const fields = children(tbsT!);
    let i = 0;
    if (fields[0]?.tag === 0xa0) i++; // version, v1 by default
    const ridT = fields[i++]!;
    const responderId = ridT.tag === 0xa1 ? {byName: raw(children(ridT)[0]!)} : {byKey: content(children(ridT)[0]!)};
    const producedAt = decodeTime(fields[i++]!);
    const responses = children(fields[i++]!).map((sr): ParsedSingleResponse => {
      const [id, st, tu, ...rest] = children(sr);
      const r: ParsedSingleResponse = {certId: parseCertId(id!), status: parseCertStatus(st!), thisUpdate: decodeTime(tu!)};
      const nu = rest.find((x) => x.tag === 0xa0);
      if (nu) r.nextUpdate = decodeTime(children(nu)[0]!);
      return r;
    });
    const extT = fields.slice(i).find((x) => x.tag === 0xa1);
    // The nonce's extnValue holds an OCTET STRING (OpenSSL) or the bare value: report its content.
    const n = extT ? findNonce(children(extT)[0]!) : undefined;
    let nonce: Uint8Array | undefined;
    if (n) {
      const inner = n.value.length > 2 && n.value[0] === TAG.OCTET_STRING ? readTlv(n.value, 0) : undefined;
      nonce = inner && inner.end === n.value.length ? content(inner) : n.value;
    }
    out.basic = {
      tbs: raw(tbsT!),
      signatureAlgorithm: parseSignatureAlgorithm(algT!),
      signature: content(sigT!).subarray(1),
      responderId,
      producedAt,
      responses,
      ...(nonce ? {nonce} : {}),
      certs: certsT ? children(children(certsT)[0]!).map((c) => parseCertificate(raw(c))) : [],
    };
    return out;
  } catch (error) {
    if (error instanceof OcspError) throw error;
    throw new OcspError(`not a valid OCSP response (${(error as Error).message})`);
  }
}

/** Why a response cannot be trusted for `cert`, or undefined when it can (and the status it gives). */
export interface OcspVerdict {
  /** The status for the certificate asked about, when the response is trustworthy. */
  status?: OcspCertStatus;
  /** What is wrong, when it is not. */
  problem?: string;
  /** Who signed: the issuing CA itself, or a delegated responder certificate (RFC 6960 4.2.2.2). */
  signer?: 'issuer' | 'delegated';
}

function responderMatches(rid: {byName: Uint8Array} | {byKey: Uint8Array}, c: ParsedCertificate): boolean {
  if ('byName' in rid) return Buffer.compare(rid.byName, c.subject) === 0;
  return Buffer.compare(rid.byKey, keyIdentifier(c.publicKey.spki)) === 0;
}

/**
 * Checks a parsed response for one certificate as a relying party must (RFC 6960 3.2):
 * successful status; signed by the issuer, or by a responder certificate in `certs` that the
 * issuer signed and that has id-kp-OCSPSigning; a SingleResponse for this CertID; thisUpdate
 * not in the future and nextUpdate not in the past (with `skewSeconds`); the nonce equal to
 * the one sent (when one was sent).
 */
export function verifyOcspResponse(
  resp: ParsedOcspResponse,
  cert: ParsedCertificate,
  issuer: ParsedCertificate,
  opts: {now: Date; nonce?: Uint8Array; skewSeconds?: number},
): OcspVerdict {
  if (resp.responseStatus !== 'successful' || !resp.basic) return {problem: `the responder answered ${resp.responseStatus}`};
  const b = resp.basic;
  const issuerKey = createPublicKey({key: Buffer.from(issuer.publicKey.spki), format: 'der', type: 'spki'});
  let signer: OcspVerdict['signer'];
  if (responderMatches(b.responderId, issuer)) {
    if (!verifySignature(b.signatureAlgorithm, b.tbs, b.signature, issuerKey))
      return {problem: "the response's signature does not verify with the issuer's key"};
    signer = 'issuer';
  } else {
    const delegate = b.certs.find((c) => responderMatches(b.responderId, c));
    if (!delegate) return {problem: 'the response is not signed by the issuer and names no responder certificate it carries'};
    if (!verifySignature(delegate.signatureAlgorithm, delegate.tbs, delegate.signature, issuerKey))
      return {problem: "the responder's certificate is not signed by the certificate's issuer"};
    if (!delegate.extKeyUsage?.oids.includes(OID_EKU_OCSP_SIGNING)) return {problem: "the responder's certificate lacks the OCSPSigning extended key usage"};
    const key = createPublicKey({key: Buffer.from(delegate.publicKey.spki), format: 'der', type: 'spki'});
    if (!verifySignature(b.signatureAlgorithm, b.tbs, b.signature, key)) return {problem: "the response's signature does not verify"};
    signer = 'delegated';
  }
  const single = b.responses.find((r) => r.certId.serial === cert.serialHex && certIdIsFor(r.certId, issuer));
  if (!single) return {problem: `the response does not answer for serial ${cert.serialHex}`, signer};
  const skew = (opts.skewSeconds ?? 300) * 1000;
  const now = opts.now.getTime();
  if (single.thisUpdate.getTime() > now + skew) return {problem: `the answer is dated in the future (thisUpdate ${single.thisUpdate.toISOString()})`, signer};
  if (single.nextUpdate && single.nextUpdate.getTime() < now - skew)
    return {problem: `the answer is stale (nextUpdate ${single.nextUpdate.toISOString()})`, signer};
  if (opts.nonce && (!b.nonce || Buffer.compare(b.nonce, opts.nonce) !== 0)) return {problem: 'the response does not echo the nonce that was sent', signer};
  return {status: single.status, signer};
}

/**
 * The OCSP responder URLs of a certificate's authorityInfoAccess (RFC 5280 4.2.2.1,
 * access method id-ad-ocsp, uniformResourceIdentifier names only); empty when it has none.
 */
export function ocspUrlsOf(cert: ParsedCertificate): string[] {
  const ext = cert.extensions.find((e) => e.oid === OID_AUTHORITY_INFO_ACCESS);
  if (!ext) return [];
  const out: string[] = [];
  try {
    for (const ad of children(readTlv(ext.value, 0))) {
      const [method, location] = children(ad);
      if (method && location?.tag === 0x86 && decodeOid(method) === OID_AD_OCSP) out.push(Buffer.from(content(location)).toString('latin1'));
    }
  } catch {
    return [];
  }
  return out;
}

// ---------------------------------------------------------------------------------
// Answering from a CA directory's index

/**
 * How long an answer is valid (nextUpdate - thisUpdate). RFC 6960 leaves it to the
 * responder; CloudFront caches answers about 30 minutes (aws-reference 11.4), so an hour
 * keeps every cached answer inside its validity.
 */
export const OCSP_ANSWER_VALIDITY_SECONDS = 3600;

/** One CA tier the responder answers for: its certificate, key and index.txt entries. */
export interface OcspTier {
  name: string;
  cert: ParsedCertificate;
  key: KeyObject;
  entries: readonly IndexEntry[];
}

export interface OcspAnswerLog {
  serial: string;
  status: OcspCertStatus['status'];
  /** The tier that answered (undefined when no tier issued the certificate). */
  tier?: string;
}

export interface RespondResult {
  der: Uint8Array;
  responseStatus: OcspResponseStatus;
  answers: OcspAnswerLog[];
  /** Why the request was refused (malformedRequest / unauthorized). */
  problem?: string;
}

/**
 * Answers an OCSPRequest from index.txt as `openssl ocsp -index` does: R → revoked with its
 * time and reason, V (and E: expired, never revoked) → good, a serial the index does not
 * hold → unknown. Signed by the tier that issued the certificates (CertID issuer hashes);
 * a request naming an issuer no tier is answers `unauthorized`, bytes that are not a request
 * `malformedRequest` (RFC 6960 2.3). The nonce is echoed. Never throws for bad input.
 */
export function respondFromIndex(requestDer: Uint8Array, tiers: OcspTier[], opts: {now: Date; validitySeconds?: number}): RespondResult {
  let req: ParsedOcspRequest;
  try {
    req = parseOcspRequest(requestDer);
  } catch (error) {
    return {der: buildOcspErrorResponse('malformedRequest'), responseStatus: 'malformedRequest', answers: [], problem: (error as Error).message};
  }
  const tier = tiers.find((t) => req.certIds.some((id) => certIdIsFor(id, t.cert)));
  if (!tier) {
    return {
      der: buildOcspErrorResponse('unauthorized'),
      responseStatus: 'unauthorized',
      answers: req.certIds.map((id) => ({serial: id.serial, status: 'unknown'})),
      problem: 'the request names an issuer this CA directory does not hold',
    };
  }
  const now = new Date(Math.floor(opts.now.getTime() / 1000) * 1000);
  const nextUpdate = new Date(now.getTime() + (opts.validitySeconds ?? OCSP_ANSWER_VALIDITY_SECONDS) * 1000);
  const bySerial = new Map(tier.entries.map((e) => [e.serial, e]));
  const answers: OcspAnswerLog[] = [];
  const singles: OcspSingleAnswer[] = req.certIds.map((id) => {
    const e = certIdIsFor(id, tier.cert) ? bySerial.get(id.serial) : undefined;
    const status: OcspCertStatus = !e
      ? {status: 'unknown'}
      : e.status === 'R'
        ? {status: 'revoked', revokedAt: e.revokedAt ?? now, ...(e.reason ? {reason: e.reason} : {})}
        : {status: 'good'};
    answers.push({serial: id.serial, status: status.status, ...(e ? {tier: tier.name} : {})});
    return {certIdDer: id.der, status, thisUpdate: now, nextUpdate};
  });
  const der = buildOcspResponse({
    answers: singles,
    signerCert: tier.cert,
    signerKey: tier.key,
    producedAt: now,
    ...(req.nonceExtension ? {nonceExtension: req.nonceExtension} : {}),
  });
  return {der, responseStatus: 'successful', answers};
}
