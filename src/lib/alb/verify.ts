/**
 * ALB-faithful client-certificate chain verification: the verdict ALB logs in its
 * connection log (`Success` or `Failed:<code>`, aws-reference 5), with every check that led
 * to it, the certificate each one concerns, and how to fix it.
 *
 * ALB terminates TLS with s2n-tls on AWS-LC (aws-reference 12). s2n hands the presented
 * chain to AWS-LC's `X509_verify_cert` against the trust store and maps the outcome to its
 * own error codes, which are ALB's reason codes. Where AWS-LC and OpenSSL 3 differ, AWS-LC's
 * rule is followed (aws-reference 12.2). The rules of each product are a policy (policy.ts);
 * `judgeChain(chain, policy, ctx)` is the entry. The order of checks is s2n's, then AWS-LC's:
 *
 *   1. size of the presented chain        ClientCertMaxSizeExceeded
 *   2. number of presented certificates   ClientCertMaxChainDepthExceeded
 *   3. key types and signature algorithms ClientCertTypeUnsupported (aws-reference 4.1)
 *   4. path building to the trust store   ClientCertUntrusted
 *   5. extensions: critical, CA, pathLen, keyCertSign   ClientCertUntrusted
 *      purpose (EKU / keyUsage for a TLS client)         ClientCertPurposeInvalid
 *   6. revocation against the CRLs        ClientCertCrlProcessingError / ClientCertCrlHit
 *   7. signatures and validity windows, from the anchor down to the leaf
 *      (OpenSSL internal_verify)          ClientCertUntrusted / ClientCertNotYetValid / ClientCertExpired
 *
 * Every step runs (so the user sees all problems); the code is the first failure in
 * this order. Synchronous on node:crypto `verify`, with the trust store's keys parsed
 * once, because `serve` calls it on every handshake.
 */
import {remember} from '../memo.js';
import type {KeyObject} from 'node:crypto';
import {OPENSSL_ONLY_CRITICAL, opensslCertificate, type ParsedCertificate, type PublicKeyKind} from '../x509/cert.js';
import {checkCrlSignature, findRevoked, type LoadedCrl} from '../x509/crl.js';
import {canonicalName} from '../x509/name-canon.js';
import {checkNameConstraints} from '../x509/name-constraints.js';
import {checkAlbRequirements} from './describe.js';
import {formatRfc2253} from '../x509/dn.js';
import {ALB_POLICY, type VerificationPolicy} from './policy.js';
import {hostInformationProblem} from './host-information.js';

export {ALB_POLICY, APIGW_POLICY, NLB_POLICY, POLICIES, policyFor, type VerificationPolicy} from './policy.js';
import {plural} from '../plural.js';
import {readCertificates} from '../x509/read-certs.js';

export type {LoadedCrl} from '../x509/crl.js';
export {loadCrl} from '../x509/crl.js';

export type AlbFailureCode =
  | 'ClientCertMaxChainDepthExceeded'
  | 'ClientCertMaxSizeExceeded'
  | 'ClientCertCrlHit'
  | 'ClientCertCrlProcessingError'
  | 'ClientCertUntrusted'
  | 'ClientCertNotYetValid'
  | 'ClientCertExpired'
  | 'ClientCertTypeUnsupported'
  | 'ClientCertInvalid'
  | 'ClientCertPurposeInvalid';

/**
 * Every code a verdict can carry: ALB's, plus mtls-kit's name for a certificate that no NLB
 * identity filter admits (lib/nlb/identity-filter.ts, aws-reference 9.2).
 */
export type VerifyFailureCode =
  | AlbFailureCode
  | 'IdentityFilterNoMatch'
  // CloudFront's connection-log codes that ALB has not (aws-reference 11.7; lib/cloudfront/verify.ts).
  | 'ClientCertIntentInvalid'
  | 'ClientCertRejected'
  | 'ClientCertMissing';

/** ALB's quota "Maximum certificate chain depth" (aws-reference 3). */
export const ALB_MAX_CHAIN_DEPTH = 4;
/** ALB's quota "TLS message size" 64 K (aws-reference 3): the client's Certificate message must fit. */
export const ALB_MAX_TLS_MESSAGE = 64 * 1024;

const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const EKU_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const EKU_ANY = '2.5.29.37.0';

interface StoreCert {
  cert: ParsedCertificate;
  /** Parsed once (STYLE: serve verifies per handshake). */
  key: KeyObject | null;
  subject: string;
  /** The DER as a latin1 string, to recognise a presented copy of a trust-store cert. */
  derKey: string;
}

/** Anchors and intermediates from a CA bundle, indexed by subject, keys parsed once. */
export interface TrustStore {
  certs: ParsedCertificate[];
  /** Canonical subject (OpenSSL X509_NAME_cmp form) → trust-store certificates with that subject, in bundle order. */
  bySubject: Map<string, StoreCert[]>;
  /** Certificate DER (latin1) → trust-store entry. */
  byDer: Map<string, StoreCert>;
  /** Verified signatures of CA certificates (issuer DER + child DER), bounded. */
  signatureCache: Map<string, boolean>;
}

const CACHE_LIMIT = 4096;

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

const KEYS = new WeakMap<ParsedCertificate, KeyObject | null>();

/** The certificate's public key as OpenSSL decodes it (null when it cannot), once per certificate. */
function publicKeyOf(cert: ParsedCertificate): KeyObject | null {
  let key = KEYS.get(cert);
  if (key === undefined) {
    try {
      key = opensslCertificate(cert).publicKey;
    } catch {
      key = null;
    }
    KEYS.set(cert, key);
  }
  return key;
}

/**
 * Prepares a trust store from a CA bundle's certificates. Every certificate in it is a
 * trust anchor: s2n loads ALB's CA file with X509_V_FLAG_PARTIAL_CHAIN
 * (aws/s2n-tls tls/s2n_x509_validator.c), as `openssl verify -partial_chain` does.
 * The path is still extended through the store up to a self-signed root, as OpenSSL's
 * build_chain does, so that every CA on it is checked.
 */
export function prepareTrustStore(certs: ParsedCertificate[]): TrustStore {
  const store: TrustStore = {certs, bySubject: new Map(), byDer: new Map(), signatureCache: new Map()};
  for (const cert of certs) {
    const entry: StoreCert = {cert, key: publicKeyOf(cert), subject: safeDn(cert.subject), derKey: latin1(cert.der)};
    const list = store.bySubject.get(cert.subjectCanon);
    if (list) list.push(entry);
    else store.bySubject.set(cert.subjectCanon, [entry]);
    store.byDer.set(entry.derKey, entry);
  }
  return store;
}

/** A trust store read from a CA bundle file: its certificates, prepared, and what is odd about it. */
export interface LoadedTrustStore {
  certs: ParsedCertificate[];
  store: TrustStore;
  /** One line per certificate that is not a CA (trustStoreLeafWarnings). */
  warnings: string[];
}

/**
 * The one way a CA bundle becomes a trust store (serve, verify, decode-header, probe, ocsp,
 * the library): parse every certificate, prepare the store, and warn about leaves in it.
 * @param source the file name for messages; `crlHint` the next step when the file is a CRL.
 * @throws MtlsKitError as readCertificates (EMPTY_FILE, WRONG_FILE_KIND, BAD_PEM, ...).
 */
export function loadTrustStore(data: Uint8Array, source: string, crlHint?: string): LoadedTrustStore {
  const certs = readCertificates(data, source, {wanted: 'a CA bundle', ...(crlHint ? {hints: {crl: crlHint}} : {})});
  return {certs, store: prepareTrustStore(certs), warnings: trustStoreLeafWarnings(certs, source)};
}

/**
 * The certificates of a trust store that are not CAs by AWS-LC's check_ca (usually a client
 * certificate pasted into the bundle). With partial chains such a certificate is trusted only as
 * itself, never a certificate it issued (AWS-LC, `awslc_verify -mode s2n`, agrees; aws-reference
 * 7.7), so it is worth a warning but verification goes on as ALB's would.
 * @returns one line per such certificate naming the file, the subject and the fix.
 */
export function trustStoreLeafWarnings(certs: ParsedCertificate[], source: string): string[] {
  return certs
    .filter((c) => checkCa(c) === 0)
    .map(
      (c) =>
        `${source} holds ${safeDn(c.subject) || '(empty subject)'}, which is not a CA certificate: it is trusted only as itself, never a certificate it issued; put only root and intermediate CA certificates in the trust store (mtls-kit lint ${source})`,
    );
}

export interface VerifyChainParams {
  /** As presented by the client, leaf first. */
  chain: ParsedCertificate[];
  trustStore: TrustStore;
  crls?: LoadedCrl[];
  at: Date;
  /** The listener option IgnoreClientCertificateExpiry (aws-reference 1.9). */
  ignoreExpiry?: boolean;
  /**
   * NLB only: the identity-filter check on the leaf, run after path validation and before
   * revocation as NLB orders them (aws-reference 9.2), so its failure outranks a CRL hit.
   * lib/nlb/identity-filter.ts makes it.
   */
  leafFilter?: (leaf: ParsedCertificate) => VerifyCheck;
  /**
   * The TLS purpose the leaf is judged for: `sslclient` (ALB, the default) or
   * `sslserver` (OpenSSL's -purpose sslserver; the conformance tests use it to compare
   * path validation on serverAuth-only leaves).
   */
  purpose?: 'sslclient' | 'sslserver';
  /** The product's rules (policy.ts); ALB's when absent. */
  policy?: VerificationPolicy;
}

export interface VerifyCheck {
  name: string;
  ok: boolean;
  /** RFC 2253 subject of the certificate this check concerns. */
  certificate?: string;
  detail: string;
  fix?: string;
  code?: VerifyFailureCode;
  /** True when the check could not be made (no CRL for that issuer): it passed, but proves nothing. */
  notChecked?: boolean;
  /** True when the check passed under a choice mtls-kit made where AWS documents nothing (the detail names it). */
  uncertain?: boolean;
}

export interface VerifyChainResult {
  status: 'Success' | `Failed:${VerifyFailureCode}`;
  code: VerifyFailureCode | null;
  checks: VerifyCheck[];
  /** leaf..anchor when a path was built (else leaf..as far as it got). */
  path: ParsedCertificate[];
  /** The policy the chain was judged by (policy.ts `id`). */
  policy: string;
  /**
   * False when the verdict was reached without revocation data for the client certificate
   * (no CRL from its issuer, --skip-crl, or a product that never checks): every output
   * prints "revocation not checked" next to the verdict.
   */
  revocationChecked: boolean;
  /** Warnings that belong next to the verdict (uncertain rules, revocation not checked). */
  warnings: string[];
}

function safeDn(name: Uint8Array): string {
  try {
    return formatRfc2253(name);
  } catch {
    return '(unreadable name)';
  }
}

/** Texts of recent instants by time value (a CA's validity comes with every chain it issued); bounded. */
const ISO_TEXT = new Map<number, string>();

/** An instant as ISO 8601 without milliseconds (`2030-01-01T00:00:00Z`). */
function iso(d: Date): string {
  return remember(ISO_TEXT, d.getTime(), 4096, isoText, d);
}

const isoText = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** X509_check_akid: the child's authorityKeyIdentifier agrees with the issuer (key id, serial, issuer name). */
function akidMatches(
  issuer: ParsedCertificate,
  aki: {keyId?: string | undefined; serial?: Uint8Array | undefined; issuerName?: Uint8Array | undefined},
): boolean {
  if (aki.keyId && issuer.subjectKeyId && aki.keyId !== issuer.subjectKeyId) return false;
  if (aki.serial && Buffer.compare(Buffer.from(aki.serial), Buffer.from(issuer.serial)) !== 0) return false;
  if (aki.issuerName && canonicalName(aki.issuerName) !== issuer.issuerCanon) return false;
  return true;
}

const childAki = (c: ParsedCertificate): {keyId?: string | undefined; serial?: Uint8Array | undefined; issuerName?: Uint8Array | undefined} => ({
  keyId: c.authorityKeyId,
  serial: c.authorityKeySerial,
  issuerName: c.authorityKeyIssuer,
});

const SIG_KEY_KIND: Record<string, PublicKeyKind[]> = {
  '1.2.840.113549.1.1.4': ['rsa'],
  '1.2.840.113549.1.1.5': ['rsa'],
  '1.2.840.113549.1.1.14': ['rsa'],
  '1.2.840.113549.1.1.11': ['rsa'],
  '1.2.840.113549.1.1.12': ['rsa'],
  '1.2.840.113549.1.1.13': ['rsa'],
  '1.2.840.113549.1.1.10': ['rsa', 'rsa-pss'],
  '1.2.840.10045.4.1': ['ec'],
  '1.2.840.10045.4.3.1': ['ec'],
  '1.2.840.10045.4.3.2': ['ec'],
  '1.2.840.10045.4.3.3': ['ec'],
  '1.2.840.10045.4.3.4': ['ec'],
  '1.3.101.112': ['ed25519'],
  '1.3.101.113': ['ed448'],
  '1.2.840.10040.4.3': ['dsa'],
  '2.16.840.1.101.3.4.3.2': ['dsa'],
};

/** check_sig_alg_match: the signature algorithm (inside the TBS) fits the issuer's key type. */
export function sigAlgFitsKey(sigOid: string, key: PublicKeyKind): boolean {
  return SIG_KEY_KIND[sigOid]?.includes(key) ?? false;
}

/** ku_reject(x, keyCertSign): a keyUsage is present and does not allow certificate signing. */
const kuRejectsCertSign = (c: ParsedCertificate): boolean => c.keyUsage !== undefined && !c.keyUsage.flags.includes('keyCertSign');

/**
 * AWS-LC's X509_check_issued (crypto/x509/v3_purp.c): canonical names chain (RFC 5280 7.1),
 * both certificates' extensions are valid, the AKI agrees, and the issuer's keyUsage (when
 * present) allows keyCertSign. (OpenSSL 3 also wants the signature algorithm to fit the
 * issuer's key; AWS-LC picks the issuer and fails on the signature instead.)
 */
function couldIssue(issuer: ParsedCertificate, child: ParsedCertificate): boolean {
  if (issuer.subjectCanon !== child.issuerCanon) return false;
  if (issuer.invalidExtensions.length > 0 || child.invalidExtensions.length > 0) return false;
  if (!akidMatches(issuer, childAki(child))) return false;
  return !kuRejectsCertSign(issuer);
}

/** EXFLAG_SI: subject and issuer are the same name. */
const isSelfIssued = (c: ParsedCertificate): boolean => c.subjectCanon === c.issuerCanon;
/** AWS-LC's EXFLAG_SS: self-issued, its AKI matches itself and its keyUsage (if any) allows keyCertSign. */
const isSelfSigned = (c: ParsedCertificate): boolean => isSelfIssued(c) && akidMatches(c, childAki(c)) && !kuRejectsCertSign(c);

interface PathNode {
  cert: ParsedCertificate;
  store?: StoreCert;
  subject: string;
}

const validAt = (c: ParsedCertificate, at: Date): boolean => !c.timeError && c.notBefore <= at && at < c.notAfter;

/** OpenSSL find_issuer: the first candidate valid at `at`, else the one with the latest notAfter. */
function pickIssuer<T extends {cert: ParsedCertificate}>(candidates: T[], at: Date): T | undefined {
  let best: T | undefined;
  for (const c of candidates) {
    if (validAt(c.cert, at)) return c;
    if (!best || c.cert.notAfter > best.cert.notAfter) best = c;
  }
  return best;
}

/**
 * Builds leaf → presented intermediates → trust store as AWS-LC's X509_verify_cert does with
 * X509_V_FLAG_TRUSTED_FIRST (its default): at each step the trust store is searched first,
 * then the presented certificates; among several candidates, one valid at `at` wins
 * (find_issuer). With partial chains (ALB, NLB) the path stops at the first trust-store
 * certificate reached (check_trust after each one; OpenSSL 3 does the same), so nothing
 * above it (an expired root, a root's EKU) is judged. Without (API Gateway) it goes on
 * through the store to a self-signed root. A policy that does not use the client's
 * intermediates searches the store alone.
 */
function buildPath(p: VerifyChainParams, policy: VerificationPolicy): PathNode[] {
  const store = p.trustStore;
  const leaf = p.chain[0]!;
  const leafStore = store.byDer.get(latin1(leaf.der));
  const path: PathNode[] = [{cert: leaf, ...(leafStore ? {store: leafStore} : {}), subject: leafStore?.subject ?? safeDn(leaf.subject)}];
  const inPath = (c: ParsedCertificate): boolean => path.some((n) => n.cert === c || Buffer.compare(n.cert.der, c.der) === 0);
  for (let guard = 0; guard < 32; guard++) {
    const top = path[path.length - 1]!;
    const cur = top.cert;
    if (path.length > 1 && top.store && policy.trustAnchors.partialChain) break;
    if (isSelfSigned(cur)) break;
    const fromStore = (store.bySubject.get(cur.issuerCanon) ?? []).filter((s) => couldIssue(s.cert, cur) && !inPath(s.cert));
    const pick = pickIssuer(fromStore, p.at);
    if (pick) {
      path.push({cert: pick.cert, store: pick, subject: pick.subject});
      continue;
    }
    if (top.store || !policy.intermediatesFromClient) break; // above a trust-store cert only the store is searched
    const presented = p.chain
      .slice(1)
      .filter((c) => couldIssue(c, cur) && !inPath(c))
      .map((c) => ({cert: c}));
    const next = pickIssuer(presented, p.at);
    if (!next) break;
    const s = store.byDer.get(latin1(next.cert.der));
    path.push({cert: next.cert, ...(s ? {store: s} : {}), subject: s?.subject ?? safeDn(next.cert.subject)});
  }
  return path;
}

function keyFor(_store: TrustStore, node: PathNode): KeyObject | null {
  return node.store ? node.store.key : publicKeyOf(node.cert);
}

/**
 * Signature of `child` by `issuer`, checked by OpenSSL itself (X509Certificate.verify,
 * i.e. X509_verify): the outer and inner algorithm identifiers must be identical, the
 * parameters (PSS) honoured, the key type must fit, no unused bits in the signature.
 * Cached when the child is a CA (intermediates repeat across handshakes, leaves do not).
 */
function signatureValid(store: TrustStore, child: PathNode, issuer: PathNode): boolean {
  const c = child.cert;
  const cacheable = c.basicConstraints?.ca === true;
  let cacheKey = '';
  if (cacheable) {
    cacheKey = latin1(issuer.cert.publicKey.spki) + '\u0000' + (child.store?.derKey ?? latin1(c.der));
    const hit = store.signatureCache.get(cacheKey);
    if (hit !== undefined) return hit;
  }
  const key = keyFor(store, issuer);
  let ok = false;
  if (key !== null && Buffer.compare(Buffer.from(c.tbsSignatureAlgDer), Buffer.from(c.signatureAlgDer)) === 0) {
    try {
      ok = opensslCertificate(c).verify(key);
    } catch {
      ok = false;
    }
  }
  if (cacheable) {
    if (store.signatureCache.size >= CACHE_LIMIT) store.signatureCache.clear();
    store.signatureCache.set(cacheKey, ok);
  }
  return ok;
}

const NS_SSL_CLIENT = 0x80;
const NS_SSL_SERVER = 0x40;
const EKU_NS_SGC = '2.16.840.1.113730.4.1';
const EKU_MS_SGC = '1.3.6.1.4.1.311.10.3.3';

/**
 * AWS-LC's check_ca (crypto/x509/v3_purp.c), applied at every depth above the leaf, the
 * trust anchor included: a keyUsage without keyCertSign is not a CA; a v1 self-signed
 * certificate is; otherwise only basicConstraints CA:TRUE makes a CA. (OpenSSL 3 also takes
 * keyUsage keyCertSign or a Netscape CA cert type without basicConstraints; AWS-LC does not,
 * aws-reference 12.2.) 0 = not a CA, 1 basicConstraints CA, 3 v1 self-signed root.
 */
function checkCa(c: ParsedCertificate): number {
  if (kuRejectsCertSign(c)) return 0;
  if (c.version === 1 && isSelfSigned(c)) return 3;
  return c.basicConstraints?.ca ? 1 : 0;
}

/**
 * OpenSSL's purpose check for sslclient / sslserver (check_purpose_ssl_client/_server):
 * extendedKeyUsage, when present, must list clientAuth (serverAuth or SGC for a server);
 * anyExtendedKeyUsage does not count. A CA must then be a CA (check_ssl_ca); a leaf's
 * keyUsage, when present, must allow digitalSignature or keyAgreement (also
 * keyEncipherment for a server); a Netscape cert type, when present, must allow the use.
 * @returns why the certificate is unfit, or null.
 */
function purposeProblem(c: ParsedCertificate, purpose: 'sslclient' | 'sslserver', asCa: boolean): string | null {
  const eku = c.extKeyUsage?.oids;
  const wanted = purpose === 'sslclient' ? [EKU_CLIENT_AUTH] : [EKU_SERVER_AUTH, EKU_NS_SGC, EKU_MS_SGC];
  if (eku && !eku.some((o) => wanted.includes(o)))
    return `extendedKeyUsage ${eku.map(ekuLabel).join(', ') || '(empty)'} does not include ${purpose === 'sslclient' ? 'clientAuth' : 'serverAuth'}${eku.includes(EKU_ANY) ? " (anyExtendedKeyUsage does not count for OpenSSL's TLS purposes)" : ''}`;
  if (asCa) return checkCa(c) === 0 ? 'it is not a CA' : null;
  const ku = c.keyUsage?.flags;
  const kuWanted = purpose === 'sslclient' ? ['digitalSignature', 'keyAgreement'] : ['digitalSignature', 'keyEncipherment', 'keyAgreement'];
  if (ku && !ku.some((f) => kuWanted.includes(f))) return `keyUsage ${ku.join(', ') || '(empty)'} lacks digitalSignature`;
  if (c.nsCertType !== undefined && !(c.nsCertType & (purpose === 'sslclient' ? NS_SSL_CLIENT : NS_SSL_SERVER)))
    return `its Netscape cert type does not allow an SSL ${purpose === 'sslclient' ? 'client' : 'server'}`;
  return null;
}

/**
 * Verifies a presented client chain as ALB does in verify mode.
 *
 * Decisions where ALB's behaviour is UNCONFIRMED (aws-reference 7, 12), following AWS-LC:
 * - chain depth (7.6): s2n refuses more presented certificates than its maximum depth,
 *   leaf included, so more than 4 presented certificates fail; a built path with more
 *   than 4 intermediate CAs also fails, as `openssl verify -verify_depth 4` does.
 * - key usage, basicConstraints, EKU (7.7): AWS-LC's rules for purpose `sslclient`, on every
 *   certificate except the trust anchor (s2n-tls's intent check; `policy.purpose.anchor`).
 * - CRL issuer (7.8): a CRL is used for a certificate as OpenSSL chooses it (issuer
 *   name, AKI, scope, time); its signature must verify with that issuer's key. A CA on
 *   the path with no CRL from its issuer given is not checked (ALB does not fetch CRLs,
 *   aws-reference 4.3).
 * - expired CRLs (7.8): a CRL past nextUpdate, or not yet valid, is a processing error,
 *   as OpenSSL's X509_V_ERR_CRL_HAS_EXPIRED / CRL_NOT_YET_VALID.
 * - IgnoreClientCertificateExpiry (7.9): ignores notAfter on every certificate of the
 *   path; notBefore is still checked.
 * The order of the failures, hence the code, is OpenSSL's verify_chain (aws-reference 10).
 *
 * @returns the status ALB would log, the code (null on Success), every check, and the path.
 */
export function verifyChain(p: VerifyChainParams): VerifyChainResult {
  const checks: VerifyCheck[] = [];
  const add = (c: VerifyCheck): void => {
    checks.push(c);
  };
  if (p.chain.length === 0) {
    add({
      name: 'parse',
      ok: false,
      detail: 'no certificate was presented',
      fix: 'present the client certificate (leaf first, then any intermediates)',
      code: 'ClientCertInvalid',
    });
    return finish(checks, [], p.policy ?? ALB_POLICY);
  }
  const policy = p.policy ?? ALB_POLICY;
  const purpose = p.purpose ?? (policy.purpose.eku === 'serverAuth' ? 'sslserver' : 'sslclient');
  const maxMessage = policy.maxMessageBytes ?? Number.POSITIVE_INFINITY;
  const maxPresented = policy.maxPresented ?? Number.POSITIVE_INFINITY;
  const maxIntermediates = policy.maxIntermediates ?? Number.POSITIVE_INFINITY;
  const leaf = p.chain[0]!;
  const leafSubject = safeDn(leaf.subject);

  // 1. Size: the Certificate message (3-byte list length, 3-byte length per cert) must fit ALB's 64 K TLS message quota [INFERRED from aws-reference 3].
  const messageSize = 3 + p.chain.reduce((n, c) => n + 3 + c.der.length, 0);
  add(
    messageSize > maxMessage
      ? {
          name: 'chain-size',
          ok: false,
          certificate: leafSubject,
          detail: `the presented chain is ${messageSize} bytes; the TLS message limit is ${maxMessage}`,
          fix: 'present fewer or smaller certificates (leave out the root, which the trust store already has)',
          code: 'ClientCertMaxSizeExceeded',
        }
      : {
          name: 'chain-size',
          ok: true,
          certificate: leafSubject,
          detail: `${p.chain.length} certificate${p.chain.length === 1 ? '' : 's'}, ${messageSize} bytes (limit ${maxMessage})`,
        },
  );

  // 2. Depth of the presented chain (s2n counts the certificates received, leaf included).
  add(
    p.chain.length > maxPresented
      ? {
          name: 'chain-depth',
          ok: false,
          certificate: leafSubject,
          detail: `${p.chain.length} certificates presented; ${policy.product.toUpperCase()} allows a chain depth of ${maxPresented}`,
          fix: 'issue the client from a CA closer to the root, or put intermediates in the trust store and present fewer',
          code: 'ClientCertMaxChainDepthExceeded',
        }
      : {name: 'chain-depth', ok: true, certificate: leafSubject, detail: `${p.chain.length} presented (limit ${maxPresented})`},
  );

  // s2n-tls's host-information check on the leaf (since 1.7.4); ALB's use of it is not documented (policy.ts).
  if (policy.hostInformation !== 'off') {
    const problem = hostInformationProblem(leaf);
    if (problem) {
      const detail = `${problem}: s2n-tls 1.7.4+ refuses such a client certificate (host-information check); ALB's behaviour is not documented`;
      add(
        policy.hostInformation === 'enforce'
          ? {
              name: 'host-information',
              ok: false,
              certificate: leafSubject,
              detail,
              fix: 'reissue the client certificate with a DNS or URI subjectAltName (mtls-kit gen-client --san)',
              code: 'ClientCertUntrusted',
            }
          : {
              name: 'host-information',
              ok: true,
              uncertain: true,
              certificate: leafSubject,
              detail,
              fix: 'reissue the client certificate with a DNS or URI subjectAltName',
            },
      );
    }
  }

  // 3. Key types, sizes, signature algorithms, v3 (aws-reference 4.1) for presented certificates.
  const profile = policy.profile === 'aws-4.1';
  if (profile) for (const [i, c] of p.chain.entries()) requirementCheck(add, c, i === 0 ? leafSubject : safeDn(c.subject));

  // 4. Path (AWS-LC X509_verify_cert).
  const path = buildPath(p, policy);
  const top = path[path.length - 1]!;
  const anchorIndex = policy.trustAnchors.requireRoot
    ? top.store && isSelfSigned(top.cert)
      ? path.length - 1
      : -1
    : path.findIndex((n) => n.store !== undefined);
  if (anchorIndex < 0 && policy.trustAnchors.requireRoot && path.some((n) => n.store)) {
    add({
      name: 'complete-chain',
      ok: false,
      certificate: top.subject,
      detail: `the truststore does not hold the complete chain: the path stops at ${top.subject || '(empty subject)'}, which is not a self-signed root in the truststore (Could not find issuer for certificate)`,
      fix: 'add every intermediate and the root CA to the truststore; intermediates sent by the client are not used',
      code: 'ClientCertUntrusted',
    });
  } else if (anchorIndex < 0) {
    const why =
      leaf.invalidExtensions.length > 0
        ? `${leafSubject || '(empty subject)'} has invalid extensions (${leaf.invalidExtensions.join('; ')}), so OpenSSL finds no issuer for it`
        : isSelfSigned(top.cert)
          ? `${top.subject || '(empty subject)'} is self-signed and not in the trust store`
          : `the issuer ${safeDn(top.cert.issuer) || '(empty)'} of ${top.subject || '(empty subject)'} is neither in the trust store nor ${policy.intermediatesFromClient ? 'presented' : 'found there (intermediates sent by the client are not used: Could not find issuer for certificate)'}${top.cert.invalidExtensions.length > 0 ? `; it has invalid extensions (${top.cert.invalidExtensions.join('; ')})` : ''}`;
    add({
      name: 'path',
      ok: false,
      certificate: top.subject,
      detail: why,
      fix: 'add the issuing CA (and its root) to the trust-store bundle, or present the missing intermediate after the leaf',
      code: 'ClientCertUntrusted',
    });
  } else {
    add({
      name: 'path',
      ok: true,
      certificate: path[anchorIndex]!.subject,
      detail: `${path.map((n) => n.subject || '(empty)').join(' → ')} (anchored at a trust-store certificate)`,
    });
  }
  const intermediates = Math.max(0, path.length - 2);
  if (intermediates > maxIntermediates && p.chain.length <= maxPresented) {
    add({
      name: 'chain-depth',
      ok: false,
      certificate: leafSubject,
      detail: `the path has ${intermediates} intermediate CAs; at most ${maxIntermediates}`,
      fix: 'issue from a CA closer to the root',
      code: 'ClientCertMaxChainDepthExceeded',
    });
  }
  // Trust-store certificates on the path that were not presented.
  if (profile) for (const n of path.slice(1)) if (!p.chain.includes(n.cert) && n.store) requirementCheck(add, n.cert, n.subject);

  // 5. Extensions (AWS-LC check_chain_extensions), then the purpose: s2n's intent check
  // skips the trust anchor (s2n_x509_validator_verify_intent) when the policy says so.
  const anchorAt = anchorIndex >= 0 ? path.length - 1 : -1;
  const purposeSkips = (i: number): boolean => policy.purpose.anchor === 'excluded' && i === anchorAt;
  // AWS-LC counts every certificate that is not self-issued, the leaf included, and refuses plen - 1 > pathLen.
  let plen = 0;
  path.forEach((n, i) => {
    const c = n.cert;
    if (c.unsupportedCritical.length > 0) {
      const u = c.unsupportedCritical;
      add({
        name: 'critical-extensions',
        ok: false,
        certificate: n.subject,
        detail: `critical extension${u.length > 1 ? 's' : ''} ${u.map(extensionLabel).join(', ')} that AWS-LC does not handle (RFC 5280 4.2; aws-reference 12.2)`,
        fix: 'reissue the certificate without the critical extension, or mark it non-critical',
        code: 'ClientCertUntrusted',
      });
    }
    if (i > 0) {
      const bc = c.basicConstraints;
      if (checkCa(c) === 0) {
        add({
          name: 'basic-constraints',
          ok: false,
          certificate: n.subject,
          detail:
            c.keyUsage && !c.keyUsage.flags.includes('keyCertSign')
              ? `issues a certificate on the path but its keyUsage ${c.keyUsage.flags.join(', ') || '(empty)'} lacks keyCertSign`
              : `issues a certificate on the path but is not a CA: basicConstraints CA:TRUE missing${i === path.length - 1 && n.store ? ' (AWS-LC requires it of trust anchors too)' : ''}${c.keyUsage || c.nsCertType !== undefined ? '; keyUsage keyCertSign or a Netscape CA type does not make a CA for AWS-LC' : ''}`,
          fix: 'reissue it as a CA: basicConstraints critical CA:TRUE, keyUsage keyCertSign, cRLSign',
          code: 'ClientCertUntrusted',
        });
      } else if (i > 1 && !isSelfIssued(c) && bc?.pathLength !== undefined && plen - 1 > bc.pathLength) {
        add({
          name: 'path-length',
          ok: false,
          certificate: n.subject,
          detail: `pathLen ${bc.pathLength} but ${plen - 1} CA${plen > 2 ? 's' : ''} below it (self-issued ones not counted)`,
          fix: 'reissue the CA with a larger pathLen, or issue the client from a CA higher up',
          code: 'ClientCertUntrusted',
        });
      } else {
        add({
          name: 'basic-constraints',
          ok: true,
          certificate: n.subject,
          detail: bc ? `CA:TRUE${bc.pathLength === undefined ? '' : `, pathLen ${bc.pathLength}`}` : 'a v1 self-signed root (a CA without extensions)',
        });
      }
    }
    if (!isSelfIssued(c)) plen++;
    if (purposeSkips(i)) {
      add({
        name: 'purpose',
        ok: true,
        certificate: n.subject,
        detail: 'the trust anchor: its purpose is not checked (s2n-tls checks every certificate of the chain except the anchor)',
      });
      return;
    }
    const why = purposeProblem(c, purpose, i > 0);
    if (i === 0) {
      add(
        why
          ? {
              name: 'purpose',
              ok: false,
              certificate: n.subject,
              detail: why,
              fix: `reissue the ${purpose === 'sslclient' ? 'client certificate with extendedKeyUsage clientAuth and keyUsage digitalSignature (mtls-kit gen-client does)' : 'certificate for serverAuth'}`,
              code: 'ClientCertPurposeInvalid',
            }
          : {
              name: 'purpose',
              ok: true,
              certificate: n.subject,
              detail: c.extKeyUsage ? `extendedKeyUsage ${c.extKeyUsage.oids.map(ekuLabel).join(', ')}` : 'no extendedKeyUsage (any purpose)',
            },
      );
    } else if (why && checkCa(c) !== 0) {
      add({
        name: 'purpose',
        ok: false,
        certificate: n.subject,
        detail: `the CA is unfit for TLS ${purpose === 'sslclient' ? 'clients' : 'servers'}: ${why}`,
        fix: 'reissue the CA without extendedKeyUsage, or with clientAuth in it',
        code: 'ClientCertPurposeInvalid',
      });
    }
  });

  // OpenSSL X509_get_pubkey_parameters: every key on the path must decode.
  for (const n of path) {
    if (keyFor(p.trustStore, n) === null)
      add({
        name: 'public-key',
        ok: false,
        certificate: n.subject,
        detail: 'OpenSSL cannot decode its public key',
        fix: 'reissue the certificate with a well-formed RSA or EC public key',
        code: 'ClientCertUntrusted',
      });
  }

  // 6. Revocation of every certificate on the path (for NLB, after the identity filters).
  const revocation = (): void => {
    const rule = policy.revocation;
    if (rule.source === 'none' || rule.scope === 'none')
      add({
        name: 'revocation',
        ok: true,
        notChecked: true,
        certificate: path[0]!.subject,
        detail: `revocation not checked: ${policy.title} does not check revocation`,
      });
    else if (rule.source === 'ocsp')
      add({name: 'revocation', ok: true, notChecked: true, certificate: path[0]!.subject, detail: 'revocation not checked: OCSP is not queried offline'});
    else if (p.crls && p.crls.length > 0)
      revocationChecks(add, p, rule.scope === 'leaf' ? path.slice(0, Math.min(2, path.length)) : path, rule.crlTime, rule.scope === 'leaf');
    else add({name: 'revocation', ok: true, notChecked: true, certificate: path[0]!.subject, detail: 'no CRL given; revocation not checked'});
  };
  if (!p.leafFilter) revocation();

  // 7. Signatures and validity, from the top down (OpenSSL internal_verify).
  for (let i = path.length - 1; i >= 0; i--) {
    const n = path[i]!;
    const issuer = path[i + 1];
    if (issuer) {
      add(
        signatureValid(p.trustStore, n, issuer)
          ? {name: 'signature', ok: true, certificate: n.subject, detail: `${n.cert.signatureAlgorithm.name} by ${issuer.subject}`}
          : {
              name: 'signature',
              ok: false,
              certificate: n.subject,
              detail:
                Buffer.compare(Buffer.from(n.cert.tbsSignatureAlgDer), Buffer.from(n.cert.signatureAlgDer)) !== 0
                  ? 'the signature algorithm outside the signed part differs from the one inside it'
                  : `the ${n.cert.signatureAlgorithm.name} signature does not verify with ${issuer.subject}'s key`,
              fix: 'the certificate was altered or issued by a different key with the same name; reissue it from the CA in the trust store',
              code: 'ClientCertUntrusted',
            },
      );
    }
    validityCheck(add, n, p);
  }

  // 8. Name constraints of every CA over the certificates below it (AWS-LC check_name_constraints).
  for (let i = path.length - 1; i >= 0; i--) {
    const c = path[i]!.cert;
    if (i !== 0 && isSelfIssued(c)) continue;
    for (let j = path.length - 1; j > i; j--) {
      const nc = path[j]!.cert.nameConstraints;
      if (!nc) continue;
      // AWS-LC checks a DNS-looking CN of every certificate without a DNS SAN (OpenSSL 3: the leaf only).
      const r = checkNameConstraints(c, nc, true);
      if (r)
        add({
          name: 'name-constraints',
          ok: false,
          certificate: path[i]!.subject,
          detail: `${r} of the name constraints of ${path[j]!.subject}`,
          fix: "issue the certificate with names inside the CA's permitted subtrees (and outside its excluded ones)",
          code: 'ClientCertUntrusted',
        });
      else add({name: 'name-constraints', ok: true, certificate: path[i]!.subject, detail: `within the name constraints of ${path[j]!.subject}`});
    }
  }
  // NLB: trust store, then identity filters, then revocation (aws-reference 9.2).
  if (p.leafFilter) {
    add(p.leafFilter(leaf));
    revocation();
  }
  return finish(
    checks,
    path.map((n) => n.cert),
    policy,
  );
}

function requirementCheck(add: (c: VerifyCheck) => void, c: ParsedCertificate, subject: string): void {
  const r = checkAlbRequirements(c);
  add(
    r.ok
      ? {
          name: 'key-and-signature',
          ok: true,
          certificate: subject,
          detail: `v${c.version}, ${c.publicKey.kind === 'ec' ? `EC ${c.publicKey.curve}` : `${c.publicKey.kind.toUpperCase()}-${c.publicKey.bits}`}, ${c.signatureAlgorithm.name}`,
        }
      : {
          name: 'key-and-signature',
          ok: false,
          certificate: subject,
          detail: r.problems.join('; '),
          fix: 'reissue as X.509 v3 with RSA 2048-8192 or ECDSA P-256/P-384/P-521 and SHA-256/384/512 (mtls-kit gen-client does)',
          code: 'ClientCertTypeUnsupported',
        },
  );
}

const extensionLabel = (oid: string): string => (OPENSSL_ONLY_CRITICAL[oid] ? `${oid} ${OPENSSL_ONLY_CRITICAL[oid]}` : oid);

const ekuLabel = (oid: string): string =>
  ({'1.3.6.1.5.5.7.3.1': 'serverAuth', '1.3.6.1.5.5.7.3.2': 'clientAuth', '2.5.29.37.0': 'anyExtendedKeyUsage'})[oid] ?? oid;

/** OpenSSL check_cert_time: notBefore <= at < notAfter (X509_cmp_time treats equal as before). */
function validityCheck(add: (c: VerifyCheck) => void, n: PathNode, p: VerifyChainParams): void {
  const c = n.cert;
  if (c.timeError) {
    add({
      name: 'validity',
      ok: false,
      certificate: n.subject,
      detail: `its validity ${c.timeError}; OpenSSL refuses it`,
      fix: 'reissue the certificate with UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ validity times',
      code: 'ClientCertUntrusted',
    });
  } else if (c.notBefore > p.at) {
    add({
      name: 'validity',
      ok: false,
      certificate: n.subject,
      detail: `not valid before ${iso(c.notBefore)} (checked at ${iso(p.at)})`,
      fix: 'wait until notBefore, fix the clock of the machine that issued it, or reissue it',
      code: 'ClientCertNotYetValid',
    });
  } else if (c.notAfter <= p.at && !p.ignoreExpiry) {
    add({
      name: 'validity',
      ok: false,
      certificate: n.subject,
      detail: `expired ${iso(c.notAfter)} (checked at ${iso(p.at)})`,
      fix: 'issue a new certificate (or set the listener option IgnoreClientCertificateExpiry, --ignore-expiry)',
      code: 'ClientCertExpired',
    });
  } else {
    add({
      name: 'validity',
      ok: true,
      certificate: n.subject,
      detail: `${iso(c.notBefore)} → ${iso(c.notAfter)}${c.notAfter <= p.at ? ' (expired; ignored)' : ''}`,
    });
  }
}

const CRL_SCORE_NOCRITICAL = 0x100;
const CRL_SCORE_SCOPE = 0x080;
const CRL_SCORE_TIME = 0x040;
const CRL_SCORE_ISSUER_NAME = 0x020;
const CRL_SCORE_AKID = 0x004;
const ALL_REASONS = 0x807f;

/**
 * Whether the CRL's issuingDistributionPoint covers the certificate (AWS-LC crl_crldp_check);
 * the reasons it covers (always all: AWS-LC never uses a CRL partitioned by reasons).
 * Distribution points with reasons or a cRLIssuer are skipped (they can only match indirect
 * or partitioned CRLs, which AWS-LC does not support).
 */
function crlScope(crl: LoadedCrl, c: ParsedCertificate): number | null {
  const idp = crl.idp;
  const reasons = ALL_REASONS;
  if (idp?.onlyAttribute) return null;
  const isCa = c.basicConstraints?.ca === true;
  if (isCa ? idp?.onlyUser : idp?.onlyCa) return null;
  for (const dp of c.crlDistributionPoints ?? []) {
    if (dp.hasCrlIssuer || dp.hasReasons) continue;
    if (!idp?.fullNames || idp.fullNames.some((x) => dp.fullNames.includes(x))) return reasons;
  }
  return !idp?.fullNames ? reasons : null;
}

/** OpenSSL check_crl_time for a CRL; the problem, or null. */
function crlTimeProblem(crl: LoadedCrl, at: Date): string | null {
  if (crl.timeError) return `its ${crl.timeError}`;
  if (crl.thisUpdate > at) return `it is not valid before ${iso(crl.thisUpdate)}`;
  if (crl.nextUpdate && crl.nextUpdate <= at) return `it expired at nextUpdate ${iso(crl.nextUpdate)}`;
  return null;
}

interface ScoredCrl {
  crl: LoadedCrl;
  score: number;
  reasons: number;
  issuer: PathNode;
}

/** Why AWS-LC never uses a CRL (get_crl_score returns 0 before looking further), or null. */
export function crlUnusableReason(crl: LoadedCrl): string | null {
  const idp = crl.idp;
  if (!idp) return null;
  if (idp.indirect) return 'its issuingDistributionPoint says indirectCRL, and AWS-LC supports no indirect CRL (it is never used as a direct one)';
  if (idp.reasons !== undefined) return 'its issuingDistributionPoint limits it to some reasons (onlySomeReasons), which AWS-LC does not support';
  if ([idp.onlyUser, idp.onlyCa, idp.onlyAttribute].filter(Boolean).length > 1)
    return 'its issuingDistributionPoint sets more than one of onlyContainsUserCerts, onlyContainsCACerts, onlyContainsAttributeCerts';
  return null;
}

/**
 * AWS-LC get_crl_score / crl_akid_check for one certificate: the CRL's issuer is the
 * certificate's issuer (canonical names) with an agreeing AKI, else a higher CA on the
 * path with the CRL's issuer name. Indirect CRLs, CRLs partitioned by reasons and invalid
 * IDPs are never used. AWS-LC does not know delta CRLs: a non-critical deltaCRLIndicator is
 * used like a full CRL (a critical one is an unhandled critical extension).
 */
function scoreCrl(crl: LoadedCrl, path: PathNode[], i: number, at: Date, done: number): ScoredCrl | null {
  if (crlUnusableReason(crl)) return null;
  const c = path[i]!.cert;
  if (crl.issuerCanon !== c.issuerCanon) return null; // indirect CRLs: not supported by AWS-LC
  let score = CRL_SCORE_ISSUER_NAME;
  if (crl.unhandledCritical.length === 0) score |= CRL_SCORE_NOCRITICAL;
  if (!crlTimeProblem(crl, at)) score |= CRL_SCORE_TIME;
  const aki = {keyId: crl.authorityKeyId, serial: crl.authorityKeySerial, issuerName: crl.authorityKeyIssuer};
  let issuer: PathNode | undefined;
  const direct = path[Math.min(i + 1, path.length - 1)]!;
  if (akidMatches(direct.cert, aki)) issuer = direct;
  else {
    for (let k = i + 2; k < path.length; k++) {
      if (path[k]!.cert.subjectCanon === crl.issuerCanon && akidMatches(path[k]!.cert, aki)) {
        issuer = path[k];
        break;
      }
    }
  }
  if (!issuer) return null;
  score |= CRL_SCORE_AKID;
  const reasons = crlScope(crl, c);
  if (reasons !== null) {
    if (!(reasons & ~done)) return null;
    score |= CRL_SCORE_SCOPE;
  }
  return {crl, score, reasons: reasons ?? 0, issuer};
}

/** A CRL's own signature: algorithm identifiers equal, key type fitting, no unused bits, then node:crypto verify. */
function crlSignatureValid(store: TrustStore, crl: LoadedCrl, issuer: PathNode): boolean {
  if (Buffer.compare(Buffer.from(crl.tbsSignatureAlgDer), Buffer.from(crl.signatureAlgDer)) !== 0 || crl.signatureUnusedBits !== 0) return false;
  if (!sigAlgFitsKey(crl.tbsSignatureOid, issuer.cert.publicKey.kind)) return false;
  return checkCrlSignature(crl, issuer.cert, keyFor(store, issuer) ?? undefined);
}

/**
 * OpenSSL check_revocation / check_cert / check_crl / cert_crl for each certificate on
 * the path whose issuer has a CRL given (a certificate whose issuer has none is not
 * checked, aws-reference 7.8): the best-scoring CRL is chosen, its scope, time, signer
 * keyUsage (cRLSign), critical extensions and signature are checked, then the serial
 * is looked up; CRLs limited to some reasons are combined until all reasons are covered.
 */
function revocationChecks(add: (c: VerifyCheck) => void, p: VerifyChainParams, path: PathNode[], crlTime: 'error' | 'ignore', leafOnly: boolean): void {
  path.forEach((n, i) => {
    if (leafOnly && i > 0) return;
    const c = n.cert;
    const byName = p.crls!.filter((crl) => crl.issuerCanon === c.issuerCanon);
    if (byName.length === 0) {
      if (i < path.length - 1 || !isSelfSigned(c))
        add({
          name: 'revocation',
          ok: true,
          notChecked: true,
          certificate: n.subject,
          detail: `no CRL from ${path[i + 1]?.subject ?? safeDn(c.issuer)} given; not checked`,
        });
      return;
    }
    if (i === path.length - 1 && !isSelfSigned(c)) {
      add({
        name: 'revocation',
        ok: true,
        notChecked: true,
        certificate: n.subject,
        detail: `its issuer ${safeDn(c.issuer)} is not on the path (the trust store ends here), so its CRL cannot be checked`,
      });
      return;
    }
    let done = 0;
    for (let round = 0; round < 8 && done !== ALL_REASONS; round++) {
      let best: ScoredCrl | null = null;
      for (const crl of byName) {
        const s = scoreCrl(crl, path, i, p.at, done);
        if (!s) continue;
        if (!best || s.score > best.score || (s.score === best.score && s.crl.thisUpdate > best.crl.thisUpdate)) best = s;
      }
      if (!best) {
        add({
          name: 'crl',
          ok: false,
          certificate: n.subject,
          detail:
            done === 0
              ? `no usable CRL for it among the ${byName.length} from its issuer ${safeDn(c.issuer)} (${byName.map(crlUnusableReason).find(Boolean) ?? 'a CRL of another scope, or a CRL whose authority key identifier names another CA'})`
              : 'the CRLs given do not cover every revocation reason',
          fix: 'write a full CRL signed by the issuing CA (mtls-kit crl) and upload it to the trust store',
          code: 'ClientCertCrlProcessingError',
        });
        return;
      }
      const {crl, issuer} = best;
      const problems: string[] = [];
      if (!(best.score & CRL_SCORE_SCOPE)) problems.push('its issuing distribution point does not cover this certificate');
      const t = crlTimeProblem(crl, p.at);
      if (t && crlTime === 'error') problems.push(t);
      if (issuer.cert.keyUsage && !issuer.cert.keyUsage.flags.includes('cRLSign'))
        problems.push(`its signer's keyUsage ${issuer.cert.keyUsage.flags.join(', ') || '(empty)'} lacks cRLSign`);
      if (crl.unhandledCritical.length > 0)
        problems.push(
          `it has unhandled critical extension${crl.unhandledCritical.length === 1 ? '' : 's'} ${crl.unhandledCritical.join(', ')} (AWS-LC handles only the issuing distribution point and authority key identifier as critical, and no critical entry extension)`,
        );
      if (!crlSignatureValid(p.trustStore, crl, issuer)) problems.push(`its signature does not verify with ${issuer.subject}'s key`);
      if (problems.length > 0) {
        add({
          name: 'crl',
          ok: false,
          certificate: n.subject,
          detail: `${crl.source}: ${problems.join('; ')}`,
          fix: 'write a fresh CRL signed by the issuing CA (mtls-kit crl) and upload it to the trust store',
          code: 'ClientCertCrlProcessingError',
        });
        return;
      }
      // AWS-LC's crl_lookup: a listed serial is revoked whatever its reason, removeFromCRL included.
      const hit = findRevoked(crl, c.serialHex);
      if (hit) {
        add({
          name: 'revocation',
          ok: false,
          certificate: n.subject,
          detail: `serial ${c.serialHex} revoked ${iso(hit.revokedAt)}${hit.reason ? ` (${hit.reason})` : ''} on ${crl.source}`,
          fix: 'issue the client a new certificate; a revoked one cannot be reinstated',
          code: 'ClientCertCrlHit',
        });
        return;
      }
      add({
        name: 'revocation',
        ok: true,
        certificate: n.subject,
        detail: `serial ${c.serialHex} not on ${crl.source} (${plural(crl.entryCount, 'entry', 'entries')})`,
      });
      done |= best.reasons;
    }
  });
}

function finish(checks: VerifyCheck[], path: ParsedCertificate[], policy: VerificationPolicy): VerifyChainResult {
  const failed = checks.find((c) => !c.ok && c.code);
  const code = failed?.code ?? null;
  const leafSubject = path[0] ? safeDn(path[0].subject) : undefined;
  // Checked: the leaf met a CRL (found or not on it, or the CRL could not be used: a verdict from revocation data).
  const revocationChecked = checks.some((c) => (c.name === 'revocation' || c.name === 'crl') && c.certificate === leafSubject && !c.notChecked);
  const warnings = checks.filter((c) => c.uncertain).map((c) => `${c.certificate ? `${c.certificate}: ` : ''}${c.detail}`);
  if (!revocationChecked) {
    const why = checks.find((c) => c.name === 'revocation' && c.notChecked && c.certificate === leafSubject)?.detail;
    warnings.push(
      `revocation not checked${why && !why.startsWith('revocation not checked') ? `: ${why.replace(/; revocation not checked$/, '')}` : why ? why.slice('revocation not checked'.length) : ''}`,
    );
  }
  return {status: code ? `Failed:${code}` : 'Success', code, checks, path, policy: policy.id, revocationChecked, warnings};
}

/**
 * The one entry every command and listener calls: judges a presented chain (leaf first) by a
 * product's policy (policy.ts: ALB_POLICY, NLB_POLICY, APIGW_POLICY, ...).
 * @param ctx the trust store, CRLs, time and the listener options; `leafFilter` carries NLB's identity filters
 */
export function judgeChain(chain: ParsedCertificate[], policy: VerificationPolicy, ctx: Omit<VerifyChainParams, 'chain' | 'policy'>): VerifyChainResult {
  return verifyChain({...ctx, chain, policy});
}
