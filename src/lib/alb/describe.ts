/**
 * A certificate's details as every command shows them (inspect, gen-*, decode-header),
 * with the ALB certificate requirements of aws-reference 4.1.
 */
import {formatRfc2253} from '../x509/dn.js';
import type {ParsedCertificate, PublicKeyInfo} from '../x509/cert.js';
import {formatAlbValidity} from '../x509/validity.js';

export interface RequirementCheck {
  ok: boolean;
  /** Plain-language problems, empty when ok. */
  problems: string[];
}

export interface CertDetails {
  subject: string;
  issuer: string;
  /** ALB form, uppercase hex (aws-reference 1.4). */
  serial: string;
  notBefore: string;
  notAfter: string;
  /** ALB's `X-Amzn-Mtls-Clientcert-Validity` form. */
  validity: string;
  version: number;
  keyType: string;
  keyBits: number;
  signatureAlgorithm: string;
  subjectAltNames: string[];
  keyUsage: string[];
  extendedKeyUsage: string[];
  basicConstraints: {ca: boolean; pathLength?: number; critical: boolean} | null;
  subjectKeyId: string | null;
  authorityKeyId: string | null;
  sha256Fingerprint: string;
  selfSigned: boolean;
  sizeBytes: number;
  albRequirements: RequirementCheck;
  /**
   * For a certificate that is not a CA: why ALB would refuse it as a client certificate
   * (extendedKeyUsage without clientAuth: ClientCertPurposeInvalid), naming the likely cause
   * for a serverAuth-only certificate; null when it may authenticate a client.
   */
  clientAuthProblem: string | null;
}

/**
 * Why a leaf with serverAuth but no clientAuth is common since 2026 (aws-reference 4.5): the
 * Chrome Root Program requires TLS server-authentication-only hierarchies (new subordinate CAs
 * from 15 June 2026, new leaf certificates by 15 March 2027 under policy v1.8), so public CAs
 * stopped issuing clientAuth certificates around June 2026; client certificates now come from
 * private CAs.
 */
export const PUBLIC_CA_NO_CLIENTAUTH =
  'a serverAuth-only certificate, as public CAs issue since they stopped issuing clientAuth certificates around June 2026 (Chrome Root Program); client certificates now come from a private CA';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const ANY_EKU = '2.5.29.37.0';

/**
 * What ALB says of a leaf as a client certificate, by its extendedKeyUsage (aws-reference 4.1,
 * 4.5): the one message lint (rule client-purpose) and inspect (clientAuthProblem) print.
 * @returns the problem, or null when the EKU is absent or allows clientAuth (or any purpose).
 */
export function clientAuthProblem(c: ParsedCertificate): string | null {
  const eku = c.extKeyUsage?.oids;
  if (!eku || eku.includes(CLIENT_AUTH) || eku.includes(ANY_EKU)) return null;
  return `extendedKeyUsage lacks clientAuth; ALB fails it with ClientCertPurposeInvalid${eku.includes(SERVER_AUTH) ? ` (${PUBLIC_CA_NO_CLIENTAUTH})` : ''}`;
}

const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

/** An EKU OID's usual name, or the OID. */
export function ekuName(oid: string): string {
  return EKU_NAMES[oid] ?? oid;
}

/** Key type label: `RSA`, `EC prime256v1`, `Ed25519`, ... */
export function keyTypeLabel(c: {publicKey: ParsedCertificate['publicKey']}): string {
  const k = c.publicKey;
  switch (k.kind) {
    case 'rsa':
      return 'RSA';
    case 'rsa-pss':
      return 'RSA-PSS';
    case 'ec':
      return `EC ${k.curve ?? 'unknown curve'}`;
    case 'ed25519':
      return 'Ed25519';
    case 'ed448':
      return 'Ed448';
    case 'dsa':
      return 'DSA';
    default:
      return k.algorithmOid;
  }
}

const ALB_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);
const ALB_HASHES = new Set(['sha256', 'sha384', 'sha512']);

/**
 * ALB's certificate requirements (aws-reference 4.1): X.509 v3; RSA 2048-8192 or ECDSA
 * P-256/P-384/P-521; SHA-256/384/512 with RSA or ECDSA, or RSASSA-PSS with MGF1
 * SHA-256/384/512. Ed25519 and DSA support is UNCONFIRMED (aws-reference 7.7): treated as
 * unsupported, as ALB documents only RSA and ECDSA.
 */
export function checkAlbRequirements(c: ParsedCertificate): RequirementCheck {
  const problems: string[] = [];
  if (c.version !== 3) problems.push(`X.509 v${c.version}; ALB accepts only v3 certificates`);
  problems.push(...albKeyProblems(c.publicKey));
  const s = c.signatureAlgorithm;
  if (s.pss) {
    if (!ALB_HASHES.has(s.pss.hash) || !ALB_HASHES.has(s.pss.mgfHash))
      problems.push(`RSASSA-PSS with ${s.pss.hash}/MGF1-${s.pss.mgfHash}; ALB needs SHA-256, SHA-384 or SHA-512`);
  } else if (!s.hash || !ALB_HASHES.has(s.hash) || !/RSA|ecdsa/i.test(s.name)) {
    problems.push(`signature ${s.name}; ALB accepts SHA-256/384/512 with RSA or ECDSA, or RSASSA-PSS`);
  }
  return {ok: problems.length === 0, problems};
}

/** ALB's key requirements (aws-reference 4.1): RSA 2048-8192 or ECDSA P-256/P-384/P-521. */
export function albKeyProblems(k: PublicKeyInfo): string[] {
  if (k.kind === 'rsa' || k.kind === 'rsa-pss') return k.bits < 2048 || k.bits > 8192 ? [`RSA-${k.bits} key; ALB accepts RSA 2048 to 8192 bits`] : [];
  if (k.kind === 'ec') return ALB_CURVES.has(k.curve ?? '') ? [] : [`EC key on ${k.curve}; ALB accepts P-256, P-384 and P-521`];
  return [`${keyTypeLabel({publicKey: k})} key; ALB accepts RSA and ECDSA keys only`];
}

/** All details of a parsed certificate. */
/** A validity instant as describeCertificate and the library print it: ISO 8601 without milliseconds when they are zero. */
export const certTime = (d: Date): string => d.toISOString().replace('.000Z', 'Z');

/** subjectAltName entries as describeCertificate prints them (`DNS:...`, `URI:...`, `IP:...`, `EMAIL:...`, `DirName`). */
export const formatSubjectAltNames = (c: ParsedCertificate): string[] =>
  c.subjectAltNames.map((g) => (g.type === 'dirname' ? 'DirName' : `${g.type.toUpperCase()}:${g.value}`));

export function describeCertificate(c: ParsedCertificate): CertDetails {
  return {
    subject: formatRfc2253(c.subject),
    issuer: formatRfc2253(c.issuer),
    serial: c.serialHex,
    notBefore: certTime(c.notBefore),
    notAfter: certTime(c.notAfter),
    validity: formatAlbValidity(c.notBefore, c.notAfter),
    version: c.version,
    keyType: keyTypeLabel(c),
    keyBits: c.publicKey.bits,
    signatureAlgorithm: c.signatureAlgorithm.name,
    subjectAltNames: formatSubjectAltNames(c),
    keyUsage: c.keyUsage?.flags ?? [],
    extendedKeyUsage: (c.extKeyUsage?.oids ?? []).map(ekuName),
    basicConstraints: c.basicConstraints ?? null,
    subjectKeyId: c.subjectKeyId ?? null,
    authorityKeyId: c.authorityKeyId ?? null,
    sha256Fingerprint: c.sha256Fingerprint,
    selfSigned: Buffer.compare(c.subject, c.issuer) === 0,
    sizeBytes: c.der.length,
    albRequirements: checkAlbRequirements(c),
    clientAuthProblem: c.basicConstraints?.ca ? null : clientAuthProblem(c),
  };
}
