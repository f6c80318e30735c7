/**
 * Certificate profiles as data (STYLE "Certificate profiles ... are one table of data").
 *
 * Key types and their signature hash follow issue 2: SHA-256 for P-256 and RSA up to
 * 3072, SHA-384 for P-384 and RSA-4096, SHA-512 for P-521. Every one of them is within
 * what ALB accepts (aws-reference 4.1: RSA 2K-8K, ECDSA P-256/384/521, SHA-256/384/512).
 */

import {usageError} from '../errors.js';

export type HashName = 'SHA-256' | 'SHA-384' | 'SHA-512';

export interface RsaKeySpec {
  kind: 'rsa';
  bits: number;
  hash: HashName;
}
export interface EcKeySpec {
  kind: 'ec';
  curve: 'P-256' | 'P-384' | 'P-521';
  hash: HashName;
}
export interface EdKeySpec {
  kind: 'ed25519';
  hash: 'none';
}
export type KeySpec = RsaKeySpec | EcKeySpec | EdKeySpec;

/** The key types a user can choose with --key-type. */
export const KEY_TYPES = {
  'rsa-2048': {kind: 'rsa', bits: 2048, hash: 'SHA-256'},
  'rsa-3072': {kind: 'rsa', bits: 3072, hash: 'SHA-256'},
  'rsa-4096': {kind: 'rsa', bits: 4096, hash: 'SHA-384'},
  'ec-p256': {kind: 'ec', curve: 'P-256', hash: 'SHA-256'},
  'ec-p384': {kind: 'ec', curve: 'P-384', hash: 'SHA-384'},
  'ec-p521': {kind: 'ec', curve: 'P-521', hash: 'SHA-512'},
} as const satisfies Record<string, KeySpec>;

export type KeyType = keyof typeof KEY_TYPES;
export const KEY_TYPE_NAMES = Object.keys(KEY_TYPES) as KeyType[];
export const DEFAULT_KEY_TYPE: KeyType = 'ec-p256';

/**
 * Key types ALB does not accept, used only to build deliberately bad certificates
 * (`gen-client --defect unsupported-key`).
 */
export const DEFECT_KEY_TYPES = {
  'rsa-1024': {kind: 'rsa', bits: 1024, hash: 'SHA-256'},
  ed25519: {kind: 'ed25519', hash: 'none'},
} as const satisfies Record<string, KeySpec>;

export type AnyKeyType = KeyType | keyof typeof DEFECT_KEY_TYPES;

/** Looks up a key spec by name (including the defect-only ones). */
export function keySpec(name: AnyKeyType): KeySpec {
  return (KEY_TYPES as Record<string, KeySpec>)[name] ?? (DEFECT_KEY_TYPES as Record<string, KeySpec>)[name]!;
}

export type CertRole = 'root' | 'intermediate' | 'client';

export interface CertProfile {
  /** Default lifetime in days. */
  days: number;
  ca: boolean;
  /** basicConstraints pathLenConstraint for CAs (undefined = unlimited / not a CA). */
  pathLength?: number;
  /** keyUsage flag names (RFC 5280 4.2.1.3); RSA clients add keyEncipherment. */
  keyUsage: Array<'digitalSignature' | 'keyEncipherment' | 'keyCertSign' | 'cRLSign'>;
  /** extendedKeyUsage OIDs (RFC 5280 4.2.1.12); empty = extension absent. */
  extKeyUsage: string[];
  /**
   * OCSP responder URLs for the authorityInfoAccess extension (RFC 5280 4.2.2.1, access
   * method id-ad-ocsp); absent or empty = no AIA. CloudFront with OCSP on needs one on
   * every certificate of a client chain but the root (aws-reference 11.4).
   */
  ocspUrls?: string[];
}

export const OID_EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
export const OID_EKU_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
export const OID_EKU_ANY = '2.5.29.37.0';
/** id-kp-OCSPSigning (RFC 6960 4.2.2.2): a delegated OCSP responder's certificate. */
export const OID_EKU_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';
/** id-pe-authorityInfoAccess and its access method id-ad-ocsp (RFC 5280 4.2.2.1). */
export const OID_AUTHORITY_INFO_ACCESS = '1.3.6.1.5.5.7.1.1';
export const OID_AD_OCSP = '1.3.6.1.5.5.7.48.1';

/**
 * The profiles. A root with an intermediate below it gets pathLen 1, a root that
 * issues clients directly pathLen 0; the intermediate always pathLen 0.
 */
export const PROFILES: Record<CertRole, CertProfile> = {
  root: {days: 3650, ca: true, pathLength: 1, keyUsage: ['keyCertSign', 'cRLSign'], extKeyUsage: []},
  intermediate: {days: 1825, ca: true, pathLength: 0, keyUsage: ['keyCertSign', 'cRLSign'], extKeyUsage: []},
  client: {days: 365, ca: false, keyUsage: ['digitalSignature'], extKeyUsage: [OID_EKU_CLIENT_AUTH]},
};

/** A server certificate for `serve` (localhost), not part of the user-facing profiles. */
export const SERVER_PROFILE: CertProfile = {days: 30, ca: false, keyUsage: ['digitalSignature'], extKeyUsage: [OID_EKU_SERVER_AUTH]};

/**
 * A profile that also names an OCSP responder in its authorityInfoAccess (`--ocsp-url`).
 * Returns the profile unchanged for an undefined URL.
 */
/**
 * Checks an OCSP responder URL for --ocsp-url: http(s), printable ASCII (an IA5String).
 * @returns the URL as given
 * @throws MtlsKitError BAD_OCSP_URL (exit 2) naming the value.
 */
export function checkOcspUrl(url: string): string {
  let u: URL | undefined;
  try {
    u = new URL(url);
  } catch {
    u = undefined;
  }
  // RFC 5280 4.2.2.1: the OCSP accessLocation is a URI; OCSP over HTTP (RFC 6960 A.1). IA5String: ASCII only.
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || !/^[\x21-\x7e]+$/.test(url))
    throw usageError('BAD_OCSP_URL', `--ocsp-url "${url}" is not an http:// URL`, ['e.g. --ocsp-url http://ocsp.example.com or the URL mtls-kit ocsp prints']);
  return url;
}

export function withOcspUrl(profile: CertProfile, url: string | undefined): CertProfile {
  return url === undefined ? profile : {...profile, ocspUrls: [url]};
}
