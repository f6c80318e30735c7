/**
 * CloudFront's viewer verification rules as data (docs/aws-reference.md 11.1-11.4), and the
 * OCSP check of a verified chain that CloudFront does instead of CRLs. The path building and
 * signature checks are the shared verifier's; this module adds what is CloudFront's: which
 * certificates are checked by OCSP, that each must name a responder, and what an answer means.
 * Fetching is the caller's (io/net/ocsp-client.ts `postOcspRequest`), so this stays pure.
 */
import {randomBytes} from 'node:crypto';
import type {ParsedCertificate} from '../x509/cert.js';
import {formatRfc2253} from '../x509/dn.js';
import {buildOcspRequest, type OcspCertStatus, ocspUrlsOf, parseOcspResponse, verifyOcspResponse} from '../x509/ocsp.js';
import {CLOUDFRONT_MODES} from './headers.js';

/**
 * CloudFront's viewer mTLS policy. Each value cites its aws-reference section; the ones AWS
 * does not document are mtls-kit's choices, marked UNCONFIRMED there.
 */
export const CLOUDFRONT_POLICY = {
  product: 'cloudfront',
  /** 11.3: required (default), optional, passthrough (no validation at the edge). */
  modes: CLOUDFRONT_MODES,
  /** 11.1: the trust store holds root and intermediate CAs; a client chain must reach one of them. */
  anchors: 'trust-store',
  /** Intermediates may come from the client's Certificate message as well as the trust store (11.1, as for ALB). */
  intermediatesFromClient: true,
  /** 11.2: the distribution can accept expired certificates (IgnoreCertificateExpiry). */
  ignoreExpiryOption: true,
  revocation: {
    /** 11.4/11.5: OCSP (on the trust store) or a Connection Function; never CRLs. */
    source: 'ocsp',
    crls: false,
    /** 11.4: the leaf and up to three intermediates; the root in the trust store is not checked. */
    checkedCertificates: 4,
    checkRoot: false,
    /** 11.4: with OCSP on, a certificate of the chain without an OCSP URL fails the connection. */
    requireOcspUrl: true,
    /** 11.4: answers are cached at the edge about 30 minutes. */
    cacheSeconds: 30 * 60,
    /**
     * What an answer other than good or revoked does: unknown, unreachable, unsigned, stale.
     * UNCONFIRMED (11.4); mtls-kit fails closed.
     */
    onUnknownOrUnavailable: 'fail',
  },
} as const;

/** Why OCSP failed a chain. mtls-kit's names: CloudFront's own log codes for these are UNCONFIRMED (11.7). */
export type OcspFailureCode = 'OcspUrlMissing' | 'OcspRevoked' | 'OcspUnknown' | 'OcspUnavailable' | 'OcspResponseInvalid';

/** One certificate's OCSP check. */
export interface OcspCertificateCheck {
  /** 0 = leaf. */
  position: number;
  subject: string;
  serial: string;
  url: string | null;
  outcome: 'good' | 'revoked' | 'unknown' | 'no-ocsp-url' | 'unavailable' | 'invalid-response';
  /** Revocation time and reason, or what went wrong. */
  detail: string;
  /** The check's failure code, when it failed the chain. */
  code: OcspFailureCode | null;
}

export interface OcspChainResult {
  ok: boolean;
  /** The first failing check's code. */
  code: OcspFailureCode | null;
  checks: OcspCertificateCheck[];
}

/** Sends an OCSP request to a URL and resolves to the response bytes (io/net/ocsp-client.ts postOcspRequest). */
export type OcspFetch = (url: string, requestDer: Uint8Array) => Promise<Uint8Array>;

/** Cached answers by issuer-key hash + serial (11.4: CloudFront caches about 30 minutes). */
export type OcspCache = Map<string, {status: OcspCertStatus; until: number}>;

export interface CheckChainOcspParams {
  /** The verified path, leaf first, the trust-store anchor last. */
  path: ParsedCertificate[];
  /** Asks the responder named in each certificate; or `responses`. */
  fetch?: OcspFetch;
  /**
   * Answers fetched earlier (`verify --ocsp-response FILE`): each certificate takes the first
   * one that answers for it, signed by its issuer; no nonce, nothing is fetched or cached.
   */
  responses?: Uint8Array[];
  now: Date;
  /** Shared between connections by a listener; answers are kept `cacheSeconds`. */
  cache?: OcspCache;
  /** Nonce bytes per request (default 16 random bytes; tests pin them). */
  nonce?: () => Uint8Array;
}

const CODE: Record<OcspCertificateCheck['outcome'], OcspFailureCode | null> = {
  good: null,
  revoked: 'OcspRevoked',
  unknown: 'OcspUnknown',
  'no-ocsp-url': 'OcspUrlMissing',
  unavailable: 'OcspUnavailable',
  'invalid-response': 'OcspResponseInvalid',
};

/**
 * CloudFront's OCSP check of a verified path (aws-reference 11.4): the leaf and up to three
 * intermediates, each against the first OCSP URL in its authorityInfoAccess, signed by its
 * issuer (the next certificate of the path) or its delegated responder; the anchor at the end
 * of the path (the trust store's certificate) is not checked. A certificate without an OCSP
 * URL, a revoked one, and (mtls-kit's fail-closed choice) an unknown, unreachable or
 * untrustworthy answer fail the chain. Every checked certificate is reported, in path order.
 * Never throws: network and parse errors become checks.
 */
export async function checkChainOcsp(p: CheckChainOcspParams): Promise<OcspChainResult> {
  const P = CLOUDFRONT_POLICY.revocation;
  const n = Math.min(p.path.length - 1, P.checkedCertificates);
  const checks = await Promise.all(p.path.slice(0, Math.max(n, 0)).map((cert, i) => checkOne(cert, p.path[i + 1]!, i, p)));
  const failed = checks.find((c) => c.code !== null);
  return {ok: !failed, code: failed?.code ?? null, checks};
}

async function checkOne(cert: ParsedCertificate, issuer: ParsedCertificate, position: number, p: CheckChainOcspParams): Promise<OcspCertificateCheck> {
  const base = {position, subject: formatRfc2253(cert.subject), serial: cert.serialHex};
  const url = ocspUrlsOf(cert)[0] ?? null;
  const done = (outcome: OcspCertificateCheck['outcome'], detail: string): OcspCertificateCheck => ({...base, url, outcome, detail, code: CODE[outcome]});
  if (!url) return done('no-ocsp-url', 'the certificate names no OCSP responder (authorityInfoAccess), which CloudFront requires with OCSP on');
  const key = `${issuer.sha256Fingerprint}/${cert.serialHex}`;
  if (p.responses) return fromGiven(cert, issuer, p.responses, p.now, done);
  if (!p.fetch) return done('unavailable', 'no OCSP responder was asked and no response given');
  const hit = p.cache?.get(key);
  if (hit && hit.until > p.now.getTime()) return describe(hit.status, done, ' (cached)');
  const nonce = (p.nonce ?? (() => new Uint8Array(randomBytes(16))))();
  let der: Uint8Array;
  try {
    der = await p.fetch(url, buildOcspRequest(cert, issuer, {nonce}));
  } catch (error) {
    return done('unavailable', (error as Error).message);
  }
  let verdict: ReturnType<typeof verifyOcspResponse>;
  try {
    verdict = verifyOcspResponse(parseOcspResponse(der), cert, issuer, {now: p.now, nonce});
  } catch (error) {
    return done('invalid-response', `${url}: ${(error as Error).message}`);
  }
  if (!verdict.status) return done('invalid-response', `${url}: ${verdict.problem}`);
  p.cache?.set(key, {status: verdict.status, until: p.now.getTime() + CLOUDFRONT_POLICY.revocation.cacheSeconds * 1000});
  return describe(verdict.status, done, '');
}

/** The first given response that answers for `cert` and can be trusted; else why none could be used. */
function fromGiven(
  cert: ParsedCertificate,
  issuer: ParsedCertificate,
  responses: Uint8Array[],
  now: Date,
  done: (o: OcspCertificateCheck['outcome'], d: string) => OcspCertificateCheck,
): OcspCertificateCheck {
  const problems: string[] = [];
  for (const der of responses) {
    let verdict: ReturnType<typeof verifyOcspResponse>;
    try {
      verdict = verifyOcspResponse(parseOcspResponse(der), cert, issuer, {now});
    } catch (error) {
      problems.push((error as Error).message);
      continue;
    }
    if (verdict.status) return describe(verdict.status, done, ' (given response)');
    if (!verdict.problem?.startsWith('the response does not answer for serial') && !verdict.problem?.includes('not signed by the issuer'))
      problems.push(verdict.problem ?? 'unusable');
  }
  if (problems.length > 0) return done('invalid-response', `the given response for serial ${cert.serialHex} cannot be used: ${problems[0]}`);
  return done('unavailable', `no given OCSP response answers for serial ${cert.serialHex}`);
}

/**
 * The path to check: the shared verifier's ends at the first trust-store certificate
 * (AWS-LC's rule), while CloudFront checks the whole chain except the root (aws-reference
 * 11.4), so an intermediate that is in the trust store is still asked about. The path is
 * extended through the trust store up to a self-issued certificate (issuer name = subject
 * name, compared as canonical names). Bounded: each step adds a certificate not yet on it.
 */
export function extendToRoot(path: ParsedCertificate[], anchors: ParsedCertificate[]): ParsedCertificate[] {
  const out = [...path];
  for (let last = out.at(-1); last && last.issuerCanon !== last.subjectCanon; last = out.at(-1)) {
    const issuer = anchors.find((a) => a.subjectCanon === last!.issuerCanon && !out.includes(a));
    if (!issuer) break;
    out.push(issuer);
  }
  return out;
}

function describe(s: OcspCertStatus, done: (o: OcspCertificateCheck['outcome'], d: string) => OcspCertificateCheck, suffix: string): OcspCertificateCheck {
  if (s.status === 'revoked')
    return done('revoked', `revoked at ${s.revokedAt.toISOString().replace('.000Z', 'Z')}${s.reason ? ` (${s.reason})` : ''}${suffix}`);
  if (s.status === 'unknown') return done('unknown', `the responder does not know this certificate${suffix}`);
  return done('good', `good${suffix}`);
}
