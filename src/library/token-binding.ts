/**
 * RFC 8705 section 3: certificate-bound access tokens. A token bound to a client
 * certificate carries `cnf: {"x5t#S256": base64url(SHA-256(DER of the certificate))}`; the
 * resource server accepts it only from a client that presented that certificate.
 *
 * What this does NOT do: verify the token's signature, issuer, audience or expiry. Those
 * need the authorization server's keys and your policy; verify the token with your JWT
 * library first (jose, fast-jwt, ...) and pass the verified claims here. A compact JWT string
 * is accepted for convenience, but only its payload is read.
 */
import {timingSafeEqual} from 'node:crypto';
import type {MtlsIdentity, MtlsVerdict} from './verifier.js';

export interface TokenBindingResult {
  /** True when the token's cnf.x5t#S256 equals the presented leaf's thumbprint. */
  ok: boolean;
  /** Why not (or "bound to the presented certificate"). */
  reason: string;
  /** The presented leaf's thumbprint (base64url SHA-256 of its DER); null without a certificate. */
  expected: string | null;
  /** The token's cnf.x5t#S256, or null when it has none. */
  found: string | null;
}

/** The payload of a compact JWT (header.payload.signature), not verified; undefined when it is not one. */
function jwtPayload(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const v = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks that an access token is bound to the certificate the client presented (RFC 8705 3.1).
 * @param token verified JWT claims (recommended), or a compact JWT whose payload is read without verifying its signature
 * @param presented the request's verdict or identity, or the thumbprint itself (base64url)
 * @returns ok and why; never throws.
 */
export function checkTokenBinding(token: string | Record<string, unknown>, presented: MtlsVerdict | MtlsIdentity | string | null): TokenBindingResult {
  const expected = typeof presented === 'string' ? presented : presented && 'x5tS256' in presented ? presented.x5tS256 : (presented?.identity?.x5tS256 ?? null);
  const claims = typeof token === 'string' ? jwtPayload(token) : token;
  const no = (reason: string, found: string | null = null): TokenBindingResult => ({ok: false, reason, expected, found});
  if (!claims) return no('the token is not a JWT (header.payload.signature with a JSON payload)');
  const cnf = claims.cnf;
  const found = typeof cnf === 'object' && cnf !== null ? (cnf as Record<string, unknown>)['x5t#S256'] : undefined;
  if (typeof found !== 'string') return no('the token has no cnf.x5t#S256 claim: it is not bound to a certificate');
  if (expected === null) return no('no client certificate was presented', found);
  const a = Buffer.from(found, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  if (a.length !== b.length || !timingSafeEqual(a, b)) return no('the token is bound to another certificate', found);
  return {ok: true, reason: 'bound to the presented certificate', expected, found};
}
