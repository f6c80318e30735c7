/**
 * How each AWS product judges a client certificate, as data: one verifier (verify.ts
 * `judgeChain`) takes a policy, so `verify --target`, `lint`, `decode-header`, `probe`,
 * `inspect` and the listeners ask the same question the same way (aws-reference 12).
 * Modelled on pyca/cryptography's `x509.verification.Policy` (a profile, EKU, max chain
 * depth, validation time) and rustls-webpki's verifier options (revocation depth and
 * unknown-status policy, which trust anchors, which intermediates).
 *
 * The type is open: a product adds an entry here (CloudFront's viewer mTLS checks OCSP,
 * `revocation.source: 'ocsp'`) without touching the verifier's other rules.
 */

/** Products with a policy today; any other string names a policy added later (e.g. 'cloudfront'). */
export type PolicyProduct = 'alb' | 'nlb' | 'apigw' | (string & {});

/** Where revocation status comes from. */
export type RevocationSource =
  /** CRLs uploaded with the trust store (ALB, NLB). */
  | 'crl'
  /** OCSP responders named in the certificates (CloudFront; not implemented by the verifier yet). */
  | 'ocsp'
  /** Never checked (API Gateway: revocation belongs in an authorizer). */
  | 'none';

export interface RevocationRule {
  source: RevocationSource;
  /**
   * Which certificates are checked: `every-issuer-with-crl` = every certificate of the path
   * whose issuer has a CRL in the trust store (ALB does not demand a CRL for every CA,
   * aws-reference 7.8); `leaf` = only the client certificate; `none`.
   */
  scope: 'every-issuer-with-crl' | 'leaf' | 'none';
  /**
   * A CRL past nextUpdate or not yet valid: `error` (ClientCertCrlProcessingError, OpenSSL's
   * X509_V_ERR_CRL_HAS_EXPIRED) or `ignore` (s2n's CRL callback). ALB: UNCONFIRMED (7.8).
   */
  crlTime: 'error' | 'ignore';
}

export interface TrustAnchorRule {
  /**
   * Every certificate in the trust store is an anchor (X509_V_FLAG_PARTIAL_CHAIN, as s2n loads
   * ALB's CA file), and the path stops at the first one reached (AWS-LC's check_trust).
   */
  partialChain: boolean;
  /** The path must end at a self-signed root that is in the trust store (API Gateway: the complete chain). */
  requireRoot: boolean;
}

/**
 * The s2n-tls host-information check (tls/s2n_x509_validator.c, since 1.7.4): a client
 * certificate whose CN is an IP address with no SAN, whose CN is empty or over 254 bytes
 * without SAN, or whose SAN entries are all malformed fails the handshake. Whether ALB's
 * build applies it is not documented: `warn` says so next to the verdict, `enforce` fails
 * with ClientCertUntrusted, `off` says nothing.
 */
export type HostInformationRule = 'warn' | 'enforce' | 'off';

/** The choice where AWS documents nothing (aws-reference 12.3): warn, do not fail. */
export const S2N_HOST_INFORMATION_RULE: HostInformationRule = 'warn';

export interface VerificationPolicy {
  /** Stable id, e.g. `alb-verify`; printed in JSON as `policy`. */
  id: string;
  product: PolicyProduct;
  /** One line for humans. */
  title: string;
  trustAnchors: TrustAnchorRule;
  /** Intermediates sent by the client are used to build the path (ALB, NLB) or ignored (API Gateway). */
  intermediatesFromClient: boolean;
  /** Certificates the client may present, leaf included (s2n's max chain depth), or null. */
  maxPresented: number | null;
  /** CAs allowed between the leaf and the anchor on the built path, or null. */
  maxIntermediates: number | null;
  /** Bytes of the client's Certificate message, or null. */
  maxMessageBytes: number | null;
  revocation: RevocationRule;
  /** Key, signature and version requirements: `aws-4.1` (ALB/NLB/API Gateway's RSA/ECDSA/SHA-2 list, v3) or `none`. */
  profile: 'aws-4.1' | 'none';
  /**
   * The TLS purpose (EKU, keyUsage, CA-ness for purpose) checked on the path: `clientAuth` for
   * a client certificate. `anchor: 'excluded'` = not on the trust anchor (s2n's
   * s2n_x509_validator_verify_intent); `included` = on every certificate (`openssl verify -purpose`).
   */
  purpose: {eku: 'clientAuth' | 'serverAuth'; anchor: 'excluded' | 'included'};
  /** Filters on the leaf after path validation and before revocation: NLB's identity filters (aws-reference 9.2), or none. */
  filters: 'nlb-identity' | 'none';
  hostInformation: HostInformationRule;
}

const define = (p: VerificationPolicy): VerificationPolicy => Object.freeze(p);

const AWS_PROFILE_LIMITS = {maxPresented: 4, maxIntermediates: 4, maxMessageBytes: 64 * 1024} as const;

/** ALB mutual TLS in verify mode (aws-reference 1, 3-5, 7). */
export const ALB_POLICY: VerificationPolicy = define({
  id: 'alb-verify',
  product: 'alb',
  title: 'ALB mutual TLS, verify mode',
  trustAnchors: {partialChain: true, requireRoot: false},
  intermediatesFromClient: true,
  ...AWS_PROFILE_LIMITS,
  revocation: {source: 'crl', scope: 'every-issuer-with-crl', crlTime: 'error'},
  profile: 'aws-4.1',
  purpose: {eku: 'clientAuth', anchor: 'excluded'},
  filters: 'none',
  hostInformation: S2N_HOST_INFORMATION_RULE,
});

/** NLB TLS listener with mutual TLS verify: ALB's rules plus identity filters (aws-reference 9.2). */
export const NLB_POLICY: VerificationPolicy = define({
  ...ALB_POLICY,
  id: 'nlb-verify',
  product: 'nlb',
  title: 'NLB TLS listener, mutual TLS verify with identity filters',
  filters: 'nlb-identity',
});

/**
 * API Gateway custom domain mutual TLS (aws-reference 4.4): the truststore must hold the
 * complete chain to a root; intermediates sent by the client are not used (API Gateway logs
 * "Could not find issuer for certificate" when the truststore lacks one); no revocation.
 */
export const APIGW_POLICY: VerificationPolicy = define({
  id: 'apigw',
  product: 'apigw',
  title: 'API Gateway custom domain mutual TLS',
  trustAnchors: {partialChain: false, requireRoot: true},
  intermediatesFromClient: false,
  ...AWS_PROFILE_LIMITS,
  revocation: {source: 'none', scope: 'none', crlTime: 'error'},
  profile: 'aws-4.1',
  purpose: {eku: 'clientAuth', anchor: 'excluded'},
  filters: 'none',
  hostInformation: 'off',
});

/**
 * CloudFront viewer mutual TLS (aws-reference 11): the path as ALB builds it (the trust store's
 * root and intermediate CAs are anchors, intermediates from the client are used; CloudFront's
 * own limits and algorithm rules are UNCONFIRMED, ALB's stand in, 11.1), no CRLs, revocation by
 * OCSP, which lib/cloudfront/verify.ts checks after the path (CLOUDFRONT_POLICY.revocation in
 * lib/cloudfront/policy.ts says which certificates). Whether CloudFront's TLS stack applies
 * s2n's host-information check is not documented: off.
 */
export const CLOUDFRONT_VERIFY_POLICY: VerificationPolicy = define({
  ...ALB_POLICY,
  id: 'cloudfront-viewer',
  product: 'cloudfront',
  title: 'CloudFront viewer mutual TLS',
  revocation: {source: 'ocsp', scope: 'none', crlTime: 'error'},
  hostInformation: 'off',
});

/** Every policy by product. */
export const POLICIES: Readonly<Record<string, VerificationPolicy>> = Object.freeze({
  alb: ALB_POLICY,
  nlb: NLB_POLICY,
  apigw: APIGW_POLICY,
  cloudfront: CLOUDFRONT_VERIFY_POLICY,
});

/** The policy of a product (`alb`, `nlb`, `apigw`, ...); ALB's when the product has none. */
export function policyFor(product: PolicyProduct | undefined): VerificationPolicy {
  return (product && POLICIES[product]) || ALB_POLICY;
}

/** A policy with some rules replaced (conformance tests judge with `purpose.anchor: 'included'` and serverAuth). */
export function withRules(base: VerificationPolicy, rules: Partial<VerificationPolicy>): VerificationPolicy {
  return Object.freeze({...base, ...rules});
}
