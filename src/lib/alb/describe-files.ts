/**
 * What `inspect` shows for a CRL, a certificate request or a private key (describe.ts does
 * certificates), with ALB's view of each: lint's CRL checks (aws-reference 3, 4.3), ALB's key
 * requirements (aws-reference 4.1). Pure: the files a key is matched against come from io.
 */
import {parseGeneralNames, parsePublicKeyInfo, type ParsedCertificate} from '../x509/cert.js';
import type {LoadedCrl} from '../x509/crl.js';
import type {ParsedCsr} from '../x509/csr.js';
import {parseOne} from '../x509/der.js';
import {attributeLabel, formatRfc2253} from '../x509/dn.js';
import type {PrivateKeyRead} from '../x509/private-key-info.js';
import {publicKeySha256} from '../x509/private-key-info.js';
import {isoSeconds} from '../x509/validity.js';
import {albKeyProblems, keyTypeLabel, type RequirementCheck} from './describe.js';
import {crlFindings, type LintFinding} from './lint.js';

export interface CrlDetails {
  issuer: string;
  /** Decimal string (docs/json.md); null when the CRL has no cRLNumber. */
  crlNumber: string | null;
  thisUpdate: string;
  nextUpdate: string | null;
  entries: number;
  version: number;
  signatureAlgorithm: string;
  authorityKeyId: string | null;
  delta: boolean;
  sizeBytes: number;
  /** The issuing CA's certificate found beside the CRL or in the CA directory, and whether the CRL's signature verifies with its key; null when none was found. */
  issuerCertificate: {file: string; subject: string; signatureValid: boolean} | null;
  /** lint's checks of a CRL on its own for ALB: PEM, size, entries, dates, extensions (errors and warnings, as `mtls-kit lint` reports them). */
  findings: LintFinding[];
}

export interface CsrDetails {
  subject: string;
  subjectAltNames: string[];
  keyType: string;
  keyBits: number;
  /** SHA-256 of the public key (SubjectPublicKeyInfo DER), colon hex. */
  publicKeySha256: string;
  signatureAlgorithm: string;
  /** Whether the request's signature verifies with its own public key (proof of possession). */
  signatureValid: boolean;
  /** Names (or OIDs) of the extensions requested. */
  requestedExtensions: string[];
  /** ALB's key requirements, for the certificate that would be issued from it. */
  albRequirements: RequirementCheck;
}

/** A certificate whose public key is the key's. */
export interface KeyMatch {
  file: string;
  subject: string;
  serial: string;
  notAfter: string;
}

export interface PrivateKeyDetails {
  encrypted: boolean;
  /** How it is encrypted ("PBES2 (PBKDF2, AES-256-CBC)"), null when it is not. */
  encryption: string | null;
  /** Null when the key is encrypted and no passphrase was given (then only a legacy PEM label can say). */
  keyType: string | null;
  keyBits: number | null;
  /** SHA-256 of the public key (SubjectPublicKeyInfo DER), colon hex; the private key itself is never shown. */
  publicKeySha256: string | null;
  /** Certificates (in the key's folder and the CA directory) that hold this public key. */
  matches: KeyMatch[];
  /** The folders and files that were searched for matching certificates. */
  searched: string[];
  albRequirements: RequirementCheck | null;
}

/** A CRL's details; `issuerCertificate` as io found it (or null). */
export function describeCrl(crl: LoadedCrl, now: Date, warnDays: number, issuerCertificate: CrlDetails['issuerCertificate']): CrlDetails {
  return {
    issuer: crl.issuerDn,
    crlNumber: crl.crlNumber === undefined ? null : crl.crlNumber.toString(),
    thisUpdate: isoSeconds(crl.thisUpdate),
    nextUpdate: crl.nextUpdate ? isoSeconds(crl.nextUpdate) : null,
    entries: crl.entryCount,
    version: crl.version,
    signatureAlgorithm: crl.signatureAlgorithm.name,
    authorityKeyId: crl.authorityKeyId ?? null,
    delta: crl.delta,
    sizeBytes: crl.fileSize,
    issuerCertificate,
    findings: crlFindings(crl, {target: 'alb', now, warnDays}),
  };
}

const sanText = (g: ParsedCertificate['subjectAltNames'][number]): string => (g.type === 'dirname' ? 'DirName' : `${g.type.toUpperCase()}:${g.value}`);

/** A CSR's details (its signature checked by parseCsr). */
export function describeCsr(csr: ParsedCsr): CsrDetails {
  const sanExt = csr.requestedExtensions.find((e) => e.oid === '2.5.29.17');
  const problems = albKeyProblems(csr.publicKey);
  return {
    subject: formatRfc2253(csr.subject),
    subjectAltNames: sanExt ? parseGeneralNames(parseOne(sanExt.value)).map(sanText) : [],
    keyType: keyTypeLabel(csr),
    keyBits: csr.publicKey.bits,
    publicKeySha256: publicKeySha256(csr.publicKey.spki),
    signatureAlgorithm: csr.signatureAlgorithm.name,
    signatureValid: csr.signatureValid,
    requestedExtensions: csr.requestedExtensions.map((e) => attributeLabel(e.oid)),
    albRequirements: {ok: problems.length === 0, problems},
  };
}

/** Whether a certificate holds the public key `spki`. */
export function certificateHoldsKey(c: ParsedCertificate, spki: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(c.publicKey.spki), Buffer.from(spki)) === 0;
}

/** A private key's details, never the key: type, size, public key fingerprint, matching certificates. */
export function describePrivateKey(k: PrivateKeyRead, matches: KeyMatch[], searched: string[]): PrivateKeyDetails {
  const pub = k.spki ? parsePublicKeyInfo(parseOne(k.spki)) : undefined;
  const problems = pub ? albKeyProblems(pub) : undefined;
  return {
    encrypted: k.encrypted,
    encryption: k.encryption ?? null,
    keyType: pub ? keyTypeLabel({publicKey: pub}) : (k.typeHint ?? null),
    keyBits: pub ? pub.bits : null,
    publicKeySha256: k.spki ? publicKeySha256(k.spki) : null,
    matches,
    searched,
    albRequirements: problems ? {ok: problems.length === 0, problems} : null,
  };
}
