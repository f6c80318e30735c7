/**
 * CRLs as AWS Private CA publishes them, made ready for an ALB trust store (aws-reference 4.3,
 * 4.5): AWS Private CA writes DER CRLs to its S3 bucket; ALB takes PEM only. A DER CRL is
 * re-encoded as PEM (the same bytes inside); a partitioned CRL (a critical
 * issuingDistributionPoint naming its partition) gets a note, since AWS does not document
 * whether ALB accepts one. Pure: bytes in, bytes and notes out.
 */
import {encodePemFast, type LoadedCrl} from './crl.js';

export interface CrlInput {
  /** PEM bytes to upload. */
  pem: Buffer;
  /** The input was DER and was converted. */
  convertedFromDer: boolean;
}

/**
 * A CRL file's bytes as PEM: DER (a SEQUENCE, no PEM armour) is wrapped as `X509 CRL`; anything
 * else is returned as is. Nothing is parsed here: the lint that follows parses the CRL once
 * (and refuses what is no CRL), so a 500,000-entry CRL is not parsed twice.
 */
export function crlInputToPem(data: Uint8Array): CrlInput {
  const head = Buffer.from(data.subarray(0, Math.min(data.length, 64))).toString('latin1');
  const der = data[0] === 0x30 && !head.includes('-----BEGIN');
  return {pem: der ? Buffer.from(encodePemFast(data, 'X509 CRL'), 'latin1') : Buffer.from(data), convertedFromDer: der};
}

/**
 * What to say about a CRL's issuingDistributionPoint (RFC 5280 5.2.5). AWS documents no rule
 * about partitioned CRLs for ALB trust stores (UNCONFIRMED, aws-reference 4.5); OpenSSL, whose
 * rules ALB's verifier follows where AWS is silent, uses such a CRL only for certificates whose
 * CRL distribution point matches the IDP, so every partition must be uploaded.
 */
export function partitionNotes(crl: LoadedCrl, source: string): string[] {
  const idp = crl.idp;
  if (!idp) return [];
  const notes: string[] = [];
  if (idp.fullNames?.length)
    notes.push(
      `${source} is a partitioned CRL (issuingDistributionPoint names its partition); AWS does not document whether ALB accepts partitioned CRLs: upload every partition (each counts toward the revocation-list quota) and check a revoked certificate fails with ClientCertCrlHit`,
    );
  if (idp.indirect) notes.push(`${source} is an indirect CRL; ALB's handling of indirect CRLs is not documented`);
  if (idp.onlyCa || idp.onlyAttribute) notes.push(`${source} covers only CA or attribute certificates, so it revokes no client certificate`);
  return notes;
}
