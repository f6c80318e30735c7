/**
 * ALB-faithful client-certificate chain verification: the verdict ALB logs in its
 * connection log (`Success` or `Failed:<code>`, aws-reference 5), with every check that led
 * to it, the certificate each one concerns, and how to fix it.
 *
 * ALB terminates TLS with s2n-tls on an OpenSSL-family libcrypto (aws-reference intro).
 * s2n hands the presented chain to `X509_verify_cert` against the trust store and maps
 * the outcome to its own error codes, which are ALB's reason codes. So the order of
 * checks here is s2n's, then OpenSSL's `verify_chain()`:
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
import {createPublicKey, type KeyObject} from 'node:crypto';
import {KNOWN_EXTENSIONS, type ParsedCertificate} from '../x509/cert.js';
import {checkCrlSignature, findRevoked, type LoadedCrl, verifySignature} from '../x509/crl.js';
import {checkAlbRequirements} from './describe.js';
import {formatRfc2253} from '../x509/dn.js';

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
export type VerifyFailureCode = AlbFailureCode | 'IdentityFilterNoMatch';

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
  /** Subject DER (latin1) → trust-store certificates with that subject. */
  bySubject: Map<string, StoreCert[]>;
  /** Certificate DER (latin1) → trust-store entry. */
  byDer: Map<string, StoreCert>;
  /** Verified signatures of CA certificates (issuer DER + child DER), bounded. */
  signatureCache: Map<string, boolean>;
  /** Public keys of presented intermediates (DER → key), bounded. */
  keyCache: Map<string, KeyObject | null>;
}

const CACHE_LIMIT = 4096;

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

function publicKeyOf(cert: ParsedCertificate): KeyObject | null {
  try {
    return createPublicKey({key: Buffer.from(cert.publicKey.spki), format: 'der', type: 'spki'});
  } catch {
    return null;
  }
}

/**
 * Prepares a trust store from a CA bundle's certificates. Every certificate in it is a
 * trust anchor: s2n loads ALB's CA file with X509_V_FLAG_PARTIAL_CHAIN
 * (aws/s2n-tls tls/s2n_x509_validator.c), as `openssl verify -partial_chain` does.
 * The path is still extended through the store up to a self-signed root, as OpenSSL does
 * without -partial_chain, so that a CRL over every CA on the path can be checked.
 */
export function prepareTrustStore(certs: ParsedCertificate[]): TrustStore {
  const store: TrustStore = {certs, bySubject: new Map(), byDer: new Map(), signatureCache: new Map(), keyCache: new Map()};
  for (const cert of certs) {
    const entry: StoreCert = {cert, key: publicKeyOf(cert), subject: safeDn(cert.subject), derKey: latin1(cert.der)};
    const k = latin1(cert.subject);
    const list = store.bySubject.get(k);
    if (list) list.push(entry);
    else store.bySubject.set(k, [entry]);
    store.byDer.set(entry.derKey, entry);
  }
  return store;
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
}

export interface VerifyCheck {
  name: string;
  ok: boolean;
  /** RFC 2253 subject of the certificate this check concerns. */
  certificate?: string;
  detail: string;
  fix?: string;
  code?: VerifyFailureCode;
}

export interface VerifyChainResult {
  status: 'Success' | `Failed:${VerifyFailureCode}`;
  code: VerifyFailureCode | null;
  checks: VerifyCheck[];
  /** leaf..anchor when a path was built (else leaf..as far as it got). */
  path: ParsedCertificate[];
}

function safeDn(name: Uint8Array): string {
  try {
    return formatRfc2253(name);
  } catch {
    return '(unreadable name)';
  }
}

const iso = (d: Date): string => d.toISOString().replace('.000Z', 'Z');

/** Whether `issuer` may have issued `child`: names chain and, when both are present, AKI = SKI (as OpenSSL's check_issued). */
function couldIssue(issuer: ParsedCertificate, child: ParsedCertificate): boolean {
  if (Buffer.compare(issuer.subject, child.issuer) !== 0) return false;
  if (child.authorityKeyId && issuer.subjectKeyId && child.authorityKeyId !== issuer.subjectKeyId) return false;
  return true;
}

const isSelfSigned = (c: ParsedCertificate): boolean => Buffer.compare(c.subject, c.issuer) === 0 && (!c.authorityKeyId || !c.subjectKeyId || c.authorityKeyId === c.subjectKeyId);

interface PathNode {
  cert: ParsedCertificate;
  store?: StoreCert;
  subject: string;
}

/**
 * Builds leaf → presented intermediates → trust store, trust store first as OpenSSL 1.1+
 * does (X509_V_FLAG_TRUSTED_FIRST); among several candidates, one valid at `at` wins
 * (OpenSSL find_issuer). Continues up through the store to a self-signed root so that
 * every CA on the path can be checked against its CRL.
 */
function buildPath(p: VerifyChainParams): PathNode[] {
  const store = p.trustStore;
  const leaf = p.chain[0]!;
  const leafStore = store.byDer.get(latin1(leaf.der));
  const path: PathNode[] = [{cert: leaf, ...(leafStore ? {store: leafStore} : {}), subject: leafStore?.subject ?? safeDn(leaf.subject)}];
  const used = new Set<number>([0]);
  const inPath = (c: ParsedCertificate): boolean => path.some((n) => n.cert === c || Buffer.compare(n.cert.der, c.der) === 0);
  for (let guard = 0; guard < 16; guard++) {
    const cur = path[path.length - 1]!.cert;
    if (isSelfSigned(cur)) break;
    const fromStore = (store.bySubject.get(latin1(cur.issuer)) ?? []).filter((s) => couldIssue(s.cert, cur) && !inPath(s.cert));
    if (fromStore.length > 0) {
      const pick = fromStore.find((s) => s.cert.notBefore <= p.at && p.at <= s.cert.notAfter) ?? fromStore[0]!;
      path.push({cert: pick.cert, store: pick, subject: pick.subject});
      continue;
    }
    if (path[path.length - 1]!.store) break; // above a trust-store cert only the store is searched
    let found = -1;
    for (let i = 1; i < p.chain.length; i++) {
      if (!used.has(i) && couldIssue(p.chain[i]!, cur) && !inPath(p.chain[i]!)) {
        found = i;
        if (p.chain[i]!.notBefore <= p.at && p.at <= p.chain[i]!.notAfter) break;
      }
    }
    if (found < 0) break;
    used.add(found);
    const c = p.chain[found]!;
    const s = store.byDer.get(latin1(c.der));
    path.push({cert: c, ...(s ? {store: s} : {}), subject: s?.subject ?? safeDn(c.subject)});
  }
  return path;
}

function keyFor(store: TrustStore, node: PathNode): KeyObject | null {
  if (node.store) return node.store.key;
  const k = latin1(node.cert.der);
  let key = store.keyCache.get(k);
  if (key === undefined) {
    key = publicKeyOf(node.cert);
    if (store.keyCache.size >= CACHE_LIMIT) store.keyCache.clear();
    store.keyCache.set(k, key);
  }
  return key;
}

/** Signature of `child` by `issuer`; cached when the child is a CA (intermediates repeat across handshakes, leaves do not). */
function signatureValid(store: TrustStore, child: PathNode, issuer: PathNode): boolean {
  const c = child.cert;
  if (c.tbsSignatureOid !== c.signatureAlgorithm.oid) return false; // RFC 5280 4.1.1.2
  const cacheable = c.basicConstraints?.ca === true;
  let cacheKey = '';
  if (cacheable) {
    cacheKey = latin1(issuer.cert.publicKey.spki) + '\u0000' + (child.store?.derKey ?? latin1(c.der));
    const hit = store.signatureCache.get(cacheKey);
    if (hit !== undefined) return hit;
  }
  const key = keyFor(store, issuer);
  const ok = key !== null && verifySignature(c.signatureAlgorithm, c.tbs, c.signature, key);
  if (cacheable) {
    if (store.signatureCache.size >= CACHE_LIMIT) store.signatureCache.clear();
    store.signatureCache.set(cacheKey, ok);
  }
  return ok;
}

/**
 * Verifies a presented client chain as ALB does in verify mode.
 *
 * Decisions where ALB's behaviour is UNCONFIRMED (aws-reference 7), following OpenSSL:
 * - chain depth (7.6): s2n refuses more presented certificates than its maximum depth,
 *   leaf included, so more than 4 presented certificates fail; a built path with more
 *   than 4 intermediate CAs also fails, as `openssl verify -verify_depth 4` does.
 * - key usage, basicConstraints, EKU (7.7): OpenSSL's rules for purpose `sslclient`.
 * - CRL issuer (7.8): a CRL is used for a certificate when the CRL's issuer name is the
 *   certificate's issuer; its signature must verify with that issuer's key. A CA on the
 *   path with no CRL given is not checked (ALB does not fetch CRLs, aws-reference 4.3).
 * - expired CRLs (7.8): a CRL past nextUpdate, or not yet valid, is a processing error,
 *   as OpenSSL's X509_V_ERR_CRL_HAS_EXPIRED / CRL_NOT_YET_VALID.
 * - IgnoreClientCertificateExpiry (7.9): ignores notAfter on every certificate of the
 *   path; notBefore is still checked.
 *
 * @returns the status ALB would log, the code (null on Success), every check, and the path.
 */
export function verifyChain(p: VerifyChainParams): VerifyChainResult {
  const checks: VerifyCheck[] = [];
  const add = (c: VerifyCheck): void => {
    checks.push(c);
  };
  if (p.chain.length === 0) {
    add({name: 'parse', ok: false, detail: 'no certificate was presented', fix: 'present the client certificate (leaf first, then any intermediates)', code: 'ClientCertInvalid'});
    return finish(checks, []);
  }
  const leaf = p.chain[0]!;
  const leafSubject = safeDn(leaf.subject);

  // 1. Size: the Certificate message (3-byte list length, 3-byte length per cert) must fit ALB's 64 K TLS message quota [INFERRED from aws-reference 3].
  const messageSize = 3 + p.chain.reduce((n, c) => n + 3 + c.der.length, 0);
  add(
    messageSize > ALB_MAX_TLS_MESSAGE
      ? {name: 'chain-size', ok: false, certificate: leafSubject, detail: `the presented chain is ${messageSize} bytes; ALB's TLS message limit is ${ALB_MAX_TLS_MESSAGE}`, fix: 'present fewer or smaller certificates (leave out the root, which the trust store already has)', code: 'ClientCertMaxSizeExceeded'}
      : {name: 'chain-size', ok: true, certificate: leafSubject, detail: `${p.chain.length} certificate${p.chain.length === 1 ? '' : 's'}, ${messageSize} bytes (limit ${ALB_MAX_TLS_MESSAGE})`},
  );

  // 2. Depth of the presented chain (s2n counts the certificates received, leaf included).
  add(
    p.chain.length > ALB_MAX_CHAIN_DEPTH
      ? {name: 'chain-depth', ok: false, certificate: leafSubject, detail: `${p.chain.length} certificates presented; ALB allows a chain depth of ${ALB_MAX_CHAIN_DEPTH}`, fix: 'issue the client from a CA closer to the root, or put intermediates in the trust store and present fewer', code: 'ClientCertMaxChainDepthExceeded'}
      : {name: 'chain-depth', ok: true, certificate: leafSubject, detail: `${p.chain.length} presented (limit ${ALB_MAX_CHAIN_DEPTH})`},
  );

  // 3. Key types, sizes, signature algorithms, v3 (aws-reference 4.1) for presented certificates.
  p.chain.forEach((c, i) => requirementCheck(add, c, i === 0 ? leafSubject : safeDn(c.subject)));

  // 4. Path.
  const path = buildPath(p);
  const anchorIndex = path.findIndex((n) => n.store !== undefined);
  const top = path[path.length - 1]!;
  if (anchorIndex < 0) {
    const why = isSelfSigned(top.cert)
      ? `${top.subject || '(empty subject)'} is self-signed and not in the trust store`
      : `the issuer ${safeDn(top.cert.issuer) || '(empty)'} of ${top.subject || '(empty subject)'} is neither in the trust store nor presented`;
    add({name: 'path', ok: false, certificate: top.subject, detail: why, fix: 'add the issuing CA (and its root) to the trust-store bundle, or present the missing intermediate after the leaf', code: 'ClientCertUntrusted'});
  } else {
    add({name: 'path', ok: true, certificate: path[anchorIndex]!.subject, detail: `${path.map((n) => n.subject || '(empty)').join(' → ')} (anchored at a trust-store certificate)`});
  }
  const intermediates = Math.max(0, path.length - 2);
  if (intermediates > ALB_MAX_CHAIN_DEPTH && p.chain.length <= ALB_MAX_CHAIN_DEPTH) {
    add({name: 'chain-depth', ok: false, certificate: leafSubject, detail: `the path has ${intermediates} intermediate CAs; at most ${ALB_MAX_CHAIN_DEPTH}`, fix: 'issue from a CA closer to the root', code: 'ClientCertMaxChainDepthExceeded'});
  }
  // Trust-store certificates on the path that were not presented.
  for (const n of path.slice(1)) if (!p.chain.includes(n.cert) && n.store) requirementCheck(add, n.cert, n.subject);

  // 5. Extensions (OpenSSL check_extensions / check_purpose for sslclient).
  let caCount = 0;
  path.forEach((n, i) => {
    const c = n.cert;
    const unknown = c.extensions.filter((e) => e.critical && !KNOWN_EXTENSIONS.has(e.oid)).map((e) => e.oid);
    if (unknown.length > 0) {
      add({name: 'critical-extensions', ok: false, certificate: n.subject, detail: `unhandled critical extension${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (RFC 5280 4.2)`, fix: 'reissue the certificate without the critical extension, or mark it non-critical', code: 'ClientCertUntrusted'});
    }
    if (i === 0) {
      purposeChecks(add, c, n.subject, p.purpose === 'sslserver' ? EKU_SERVER_AUTH : EKU_CLIENT_AUTH);
      return;
    }
    // A CA on the path (RFC 5280 6.1.4).
    const bc = c.basicConstraints;
    if (!(bc?.ca || (c.version === 1 && isSelfSigned(c)))) {
      add({name: 'basic-constraints', ok: false, certificate: n.subject, detail: 'issues a certificate on the path but is not a CA (basicConstraints CA:TRUE missing)', fix: 'reissue it as a CA: basicConstraints critical, CA:TRUE', code: 'ClientCertUntrusted'});
    } else if (bc?.pathLength !== undefined && caCount > bc.pathLength) {
      add({name: 'path-length', ok: false, certificate: n.subject, detail: `pathLen ${bc.pathLength} but ${caCount} CA${caCount > 1 ? 's' : ''} below it`, fix: 'reissue the CA with a larger pathLen, or issue the client from a CA higher up', code: 'ClientCertUntrusted'});
    } else {
      add({name: 'basic-constraints', ok: true, certificate: n.subject, detail: `CA:TRUE${bc?.pathLength === undefined ? '' : `, pathLen ${bc.pathLength}`}`});
    }
    if (c.keyUsage && !c.keyUsage.flags.includes('keyCertSign')) {
      add({name: 'key-usage', ok: false, certificate: n.subject, detail: `keyUsage ${c.keyUsage.flags.join(', ') || '(empty)'} lacks keyCertSign`, fix: 'reissue the CA with keyUsage keyCertSign, cRLSign', code: 'ClientCertUntrusted'});
    }
    // OpenSSL's check_ssl_ca: a CA restricted by EKU must allow clientAuth.
    const eku = c.extKeyUsage?.oids;
    if (eku && !eku.includes(p.purpose === 'sslserver' ? EKU_SERVER_AUTH : EKU_CLIENT_AUTH) && !eku.includes(EKU_ANY)) {
      add({name: 'purpose', ok: false, certificate: n.subject, detail: 'the CA\'s extendedKeyUsage does not allow clientAuth', fix: 'reissue the CA without extendedKeyUsage, or with clientAuth in it', code: 'ClientCertPurposeInvalid'});
    }
    if (!isSelfSigned(c) || i !== path.length - 1) caCount++;
  });

  // 6. Revocation of every certificate on the path (for NLB, after the identity filters).
  const revocation = (): void => {
    if (p.crls && p.crls.length > 0) revocationChecks(add, p, path);
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
          : {name: 'signature', ok: false, certificate: n.subject, detail: `the ${n.cert.signatureAlgorithm.name} signature does not verify with ${issuer.subject}'s key`, fix: 'the certificate was altered or issued by a different key with the same name; reissue it from the CA in the trust store', code: 'ClientCertUntrusted'},
      );
    }
    validityCheck(add, n, p);
  }
  // NLB: trust store, then identity filters, then revocation (aws-reference 9.2).
  if (p.leafFilter) {
    add(p.leafFilter(leaf));
    revocation();
  }
  return finish(checks, path.map((n) => n.cert));
}

function requirementCheck(add: (c: VerifyCheck) => void, c: ParsedCertificate, subject: string): void {
  const r = checkAlbRequirements(c);
  add(
    r.ok
      ? {name: 'key-and-signature', ok: true, certificate: subject, detail: `v${c.version}, ${c.publicKey.kind === 'ec' ? `EC ${c.publicKey.curve}` : `${c.publicKey.kind.toUpperCase()}-${c.publicKey.bits}`}, ${c.signatureAlgorithm.name}`}
      : {name: 'key-and-signature', ok: false, certificate: subject, detail: r.problems.join('; '), fix: 'reissue as X.509 v3 with RSA 2048-8192 or ECDSA P-256/P-384/P-521 and SHA-256/384/512 (mtls-kit gen-client does)', code: 'ClientCertTypeUnsupported'},
  );
}

/** Leaf purpose for a TLS client (OpenSSL X509_PURPOSE_SSL_CLIENT): EKU clientAuth/any/none; keyUsage, if present, digitalSignature or keyAgreement. */
function purposeChecks(add: (c: VerifyCheck) => void, c: ParsedCertificate, subject: string, wanted: string): void {
  const eku = c.extKeyUsage?.oids;
  if (eku && !eku.includes(wanted) && !eku.includes(EKU_ANY)) {
    add({name: 'purpose', ok: false, certificate: subject, detail: `extendedKeyUsage ${eku.map(ekuLabel).join(', ')} does not include clientAuth`, fix: 'reissue the client certificate with extendedKeyUsage clientAuth (mtls-kit gen-client does)', code: 'ClientCertPurposeInvalid'});
  } else {
    add({name: 'purpose', ok: true, certificate: subject, detail: eku ? `extendedKeyUsage ${eku.map(ekuLabel).join(', ')}` : 'no extendedKeyUsage (any purpose)'});
  }
  if (c.keyUsage && !c.keyUsage.flags.includes('digitalSignature') && !c.keyUsage.flags.includes('keyAgreement')) {
    add({name: 'key-usage', ok: false, certificate: subject, detail: `keyUsage ${c.keyUsage.flags.join(', ') || '(empty)'} lacks digitalSignature`, fix: 'reissue the client certificate with keyUsage digitalSignature', code: 'ClientCertPurposeInvalid'});
  }
}

const ekuLabel = (oid: string): string => ({'1.3.6.1.5.5.7.3.1': 'serverAuth', '1.3.6.1.5.5.7.3.2': 'clientAuth', '2.5.29.37.0': 'anyExtendedKeyUsage'})[oid] ?? oid;

function validityCheck(add: (c: VerifyCheck) => void, n: PathNode, p: VerifyChainParams): void {
  const c = n.cert;
  if (c.notBefore > p.at) {
    add({name: 'validity', ok: false, certificate: n.subject, detail: `not valid before ${iso(c.notBefore)} (checked at ${iso(p.at)})`, fix: 'wait until notBefore, fix the clock of the machine that issued it, or reissue it', code: 'ClientCertNotYetValid'});
  } else if (c.notAfter < p.at && !p.ignoreExpiry) {
    add({name: 'validity', ok: false, certificate: n.subject, detail: `expired ${iso(c.notAfter)} (checked at ${iso(p.at)})`, fix: 'issue a new certificate (or set the listener option IgnoreClientCertificateExpiry, --ignore-expiry)', code: 'ClientCertExpired'});
  } else {
    add({name: 'validity', ok: true, certificate: n.subject, detail: `${iso(c.notBefore)} → ${iso(c.notAfter)}${c.notAfter < p.at ? ' (expired; ignored)' : ''}`});
  }
}

function revocationChecks(add: (c: VerifyCheck) => void, p: VerifyChainParams, path: PathNode[]): void {
  path.forEach((n, i) => {
    const issuer = path[i + 1] ?? (isSelfSigned(n.cert) ? n : undefined);
    const crls = p.crls!.filter((crl) => Buffer.compare(crl.issuer, n.cert.issuer) === 0 && !crl.delta);
    if (crls.length === 0) {
      // A trust anchor with no CRL over it, or a CA with no CRL given: nothing to check.
      if (i < path.length - 1) add({name: 'revocation', ok: true, certificate: n.subject, detail: `no CRL from ${issuer?.subject ?? safeDn(n.cert.issuer)} given; not checked`});
      return;
    }
    for (const crl of crls) {
      const problems: string[] = [];
      if (!issuer) problems.push('its issuer is not on the path, so its signature cannot be checked');
      else if (!checkCrlSignature(crl, issuer.cert, keyForCrl(p.trustStore, issuer))) problems.push(`its signature does not verify with ${issuer.subject}'s key`);
      if (crl.thisUpdate > p.at) problems.push(`it is not valid before ${iso(crl.thisUpdate)}`);
      if (crl.nextUpdate && crl.nextUpdate < p.at) problems.push(`it expired at nextUpdate ${iso(crl.nextUpdate)}`);
      if (crl.unhandledCritical.length > 0) problems.push(`it has unhandled critical extension(s) ${crl.unhandledCritical.join(', ')}`);
      if (problems.length > 0) {
        add({name: 'crl', ok: false, certificate: n.subject, detail: `${crl.source}: ${problems.join('; ')}`, fix: 'write a fresh CRL signed by the issuing CA (mtls-kit crl) and upload it to the trust store', code: 'ClientCertCrlProcessingError'});
        continue;
      }
      const hit = findRevoked(crl, n.cert.serialHex);
      add(
        hit
          ? {name: 'revocation', ok: false, certificate: n.subject, detail: `serial ${n.cert.serialHex} revoked ${iso(hit.revokedAt)}${hit.reason ? ` (${hit.reason})` : ''} on ${crl.source}`, fix: 'issue the client a new certificate; a revoked one cannot be reinstated', code: 'ClientCertCrlHit'}
          : {name: 'revocation', ok: true, certificate: n.subject, detail: `serial ${n.cert.serialHex} not on ${crl.source} (${crl.entryCount} entries)`},
      );
    }
  });
}

function keyForCrl(store: TrustStore, n: PathNode): KeyObject | undefined {
  return keyFor(store, n) ?? undefined;
}

function finish(checks: VerifyCheck[], path: ParsedCertificate[]): VerifyChainResult {
  const failed = checks.find((c) => !c.ok && c.code);
  const code = failed?.code ?? null;
  return {status: code ? `Failed:${code}` : 'Success', code, checks, path};
}
