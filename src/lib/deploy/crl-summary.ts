/**
 * What deploy and status need to know about a CRL: who issued it, its number and dates,
 * how many entries it holds, and a content hash, so deploy can tell which uploaded CRL a
 * newer one supersedes. Parsing is crl.ts's `loadCrl`; this adds the hash and a
 * JSON-friendly number.
 */
import {createHash} from 'node:crypto';
import type {SignatureAlgorithm} from '../x509/cert.js';
import {loadCrl} from '../x509/crl.js';

export interface CrlSummary {
  /** Raw issuer Name DER. */
  issuer: Uint8Array;
  /** Issuer as RFC 2253 (aws-reference 8). */
  issuerDn: string;
  /** cRLNumber as decimal string, or null when the CRL has none. */
  crlNumber: string | null;
  thisUpdate: Date;
  nextUpdate: Date | null;
  /** Number of revokedCertificates entries. */
  entries: number;
  signatureAlgorithm: SignatureAlgorithm;
  /** The CRL's DER. */
  der: Uint8Array;
  /** Lowercase hex SHA-256 of the DER (equal DER = same CRL, whatever the PEM wrapping). */
  sha256: string;
  /** Whether the input was PEM (ALB accepts only PEM, aws-reference 4.3). */
  pem: boolean;
}

/**
 * Reads a CRL (PEM `X509 CRL` block or DER) into a summary.
 * @param source file name or URL for messages
 * @throws MtlsKitError BAD_CRL (exit 4) when the bytes are not one CRL (from loadCrl).
 */
export function summarizeCrl(data: Uint8Array, source: string): CrlSummary {
  const c = loadCrl(data, source);
  return {
    issuer: c.issuer,
    issuerDn: c.issuerDn,
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

/**
 * Orders two CRLs of the same issuer: by cRLNumber when both have one (RFC 5280 5.2.3
 * says it increases), else by thisUpdate. Returns <0 when a is older than b.
 */
export function compareCrlAge(a: CrlSummary, b: CrlSummary): number {
  if (a.crlNumber !== null && b.crlNumber !== null) {
    const d = BigInt(a.crlNumber) - BigInt(b.crlNumber);
    if (d !== 0n) return d < 0n ? -1 : 1;
  }
  return a.thisUpdate.getTime() - b.thisUpdate.getTime();
}
