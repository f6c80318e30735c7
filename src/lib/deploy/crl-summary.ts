/**
 * What deploy and status need to know about a CRL: who issued it, its number and dates,
 * how many entries it holds, and a content hash, so deploy can tell which uploaded CRL a
 * newer one supersedes. Parsing is crl.ts's `loadCrl`; this adds the hash and a
 * JSON-friendly number.
 */
import {createHash} from 'node:crypto';
import type {SignatureAlgorithm} from '../x509/cert.js';
import {loadCrl, type LoadedCrl} from '../x509/crl.js';

/**
 * What deploy's plan needs to know about a CRL the trust store holds. It is small enough to
 * be recorded on the trust store as a tag (record.ts), so a later run need not download it.
 */
export interface CrlFacts {
  /** Lowercase hex SHA-256 of the DER (equal DER = same CRL, whatever the PEM wrapping). */
  sha256: string;
  /** First 32 hex of SHA-256 of the issuer Name DER: equal ids = same issuer. */
  issuerId: string;
  /** Issuer as RFC 2253 (aws-reference 8), or null when only the recorded facts are known. */
  issuerDn: string | null;
  /** cRLNumber as decimal string, or null when the CRL has none. */
  crlNumber: string | null;
  thisUpdate: Date;
  /** Number of revokedCertificates entries. */
  entries: number;
}

export interface CrlSummary extends CrlFacts {
  /** Raw issuer Name DER. */
  issuer: Uint8Array;
  issuerDn: string;
  nextUpdate: Date | null;
  signatureAlgorithm: SignatureAlgorithm;
  /** The CRL's DER. */
  der: Uint8Array;
  /** Whether the input was PEM (ALB accepts only PEM, aws-reference 4.3). */
  pem: boolean;
}

/**
 * Reads a CRL (PEM `X509 CRL` block or DER) into a summary.
 * @param source file name or URL for messages
 * @throws MtlsKitError BAD_CRL (exit 4) when the bytes are not one CRL (from loadCrl).
 */
export function summarizeCrl(data: Uint8Array, source: string): CrlSummary {
  return summarizeLoadedCrl(loadCrl(data, source));
}

/** The summary of a CRL already parsed (lint's copy: a 500,000-entry CRL is not parsed twice). */
export function summarizeLoadedCrl(c: LoadedCrl): CrlSummary {
  return {
    issuer: c.issuer,
    issuerDn: c.issuerDn,
    issuerId: issuerIdOf(c.issuer),
    crlNumber: c.crlNumber === undefined ? null : c.crlNumber.toString(),
    thisUpdate: c.thisUpdate,
    nextUpdate: c.nextUpdate ?? null,
    entries: c.entryCount,
    signatureAlgorithm: c.signatureAlgorithm,
    der: c.der,
    sha256: createHash('sha256').update(c.der).digest('hex'),
    pem: c.format === 'pem',
  };
}

/** The issuer id of CrlFacts: the first 32 hex digits of SHA-256 of the issuer Name DER. */
export function issuerIdOf(issuerDer: Uint8Array): string {
  return createHash('sha256').update(issuerDer).digest('hex').slice(0, 32);
}

/**
 * Orders two CRLs of the same issuer: by cRLNumber when both have one (RFC 5280 5.2.3
 * says it increases), else by thisUpdate. Returns <0 when a is older than b.
 */
export function compareCrlAge(a: CrlFacts, b: CrlFacts): number {
  if (a.crlNumber !== null && b.crlNumber !== null) {
    const d = BigInt(a.crlNumber) - BigInt(b.crlNumber);
    if (d !== 0n) return d < 0n ? -1 : 1;
  }
  return a.thisUpdate.getTime() - b.thisUpdate.getTime();
}
