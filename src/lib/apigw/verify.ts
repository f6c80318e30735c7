/**
 * API Gateway's check of a client certificate on a custom domain name with mutual TLS
 * (aws-reference 4.4): X.509 syntax, signature integrity, validity period and name/key
 * chaining to a root in the truststore, chain length 4, SHA-256+ hashes, RSA-2048+ and
 * ECDSA-256+ keys. API Gateway does NOT check revocation (no CRLs: a revoked certificate
 * passes, revocation belongs in a Lambda authorizer). A failure fails the TLS handshake.
 *
 * The one verifier (../alb/verify.ts judgeChain) with API Gateway's policy (../alb/policy.ts
 * APIGW_POLICY): the path is built from the truststore alone (intermediates the client sends
 * are not used; API Gateway logs "Could not find issuer for certificate") and must end at a
 * self-signed root that is in the truststore (ALB also accepts a path anchored at an
 * intermediate); no CRLs. Whether the leaf counts in the
 * chain length of 4 is UNCONFIRMED; we count the CAs above the leaf, as `lint --target apigw`
 * counts chains inside the truststore.
 */
import type {ParsedCertificate} from '../x509/cert.js';
import {formatApigwDn} from '../x509/dn.js';
import {APIGW_POLICY, judgeChain, type TrustStore, type VerifyCheck} from '../alb/verify.js';

/** API Gateway's maximum chain length (aws-reference 4.4). */
export const APIGW_MAX_CHAIN_LENGTH = 4;

export interface ApigwVerdict {
  ok: boolean;
  /** One line: why the handshake fails (null when ok). */
  reason: string | null;
  /** The failing check's code in ALB's vocabulary (ClientCertUntrusted, ...), or IncompleteChain / NoCertificate. */
  code: string | null;
  checks: VerifyCheck[];
}

const isSelfIssued = (c: ParsedCertificate): boolean => Buffer.compare(Buffer.from(c.subject), Buffer.from(c.issuer)) === 0;

const dnOf = (c: ParsedCertificate): string => {
  try {
    return formatApigwDn(c.subject);
  } catch {
    return '(unreadable name)';
  }
};

/**
 * Judges a presented chain (leaf first) against the truststore at `at`, as API Gateway does.
 * Never throws.
 */
export function verifyApigwClient(chain: ParsedCertificate[], trustStore: TrustStore, at: Date): ApigwVerdict {
  if (chain.length === 0) return {ok: false, reason: 'no client certificate was presented', code: 'NoCertificate', checks: []};
  // API Gateway's policy (alb/policy.ts APIGW_POLICY): the complete chain from the truststore
  // only (intermediates the client sends are not used), no revocation (aws-reference 4.4).
  const r = judgeChain(chain, APIGW_POLICY, {trustStore, at});
  const checks = [...r.checks];
  if (r.code) {
    const failed = r.checks.find((c) => !c.ok && c.code)!;
    return {
      ok: false,
      reason: `${failed.certificate ? `${failed.certificate}: ` : ''}${failed.detail}`,
      code: failed.name === 'complete-chain' ? 'IncompleteChain' : r.code,
      checks,
    };
  }
  const top = r.path[r.path.length - 1]!;
  const inStore = trustStore.byDer.has(Buffer.from(top.der).toString('latin1'));
  if (!isSelfIssued(top) || !inStore) {
    const reason = `the chain stops at ${dnOf(top)}, which is not a root in the truststore; API Gateway needs the complete chain up to the root`;
    checks.push({name: 'complete-chain', ok: false, certificate: dnOf(top), detail: reason, fix: 'add the root CA (and every intermediate) to the truststore'});
    return {ok: false, reason, code: 'IncompleteChain', checks};
  }
  const cas = r.path.length - 1;
  if (cas > APIGW_MAX_CHAIN_LENGTH) {
    const reason = `the chain above ${dnOf(chain[0]!)} has ${cas} CA certificates; API Gateway allows ${APIGW_MAX_CHAIN_LENGTH}`;
    checks.push({name: 'chain-length', ok: false, detail: reason, fix: 'issue clients from a CA closer to the root'});
    return {ok: false, reason, code: 'ChainTooLong', checks};
  }
  checks.push({
    name: 'complete-chain',
    ok: true,
    certificate: dnOf(top),
    detail: `${r.path.map(dnOf).join(' → ')} (ends at a root in the truststore; revocation is not checked)`,
  });
  return {ok: true, reason: null, code: null, checks};
}
