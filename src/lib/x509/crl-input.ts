/**
 * CRLs as AWS Private CA publishes them, made ready for an ALB trust store (aws-reference 4.3,
 * 4.5): AWS Private CA writes DER CRLs to its S3 bucket; ALB takes PEM only. A DER CRL is
 * re-encoded as PEM (the same bytes inside); a partitioned CRL (a critical
 * issuingDistributionPoint naming its partition) gets a note, since AWS does not document
 * whether ALB accepts one (crlScopeNotes, reported by lint's CRL checks). Pure: bytes in,
 * bytes and notes out.
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

/** A note about a CRL's scope, as lint, inspect and deploy report it (lint rule, message, fix). */
export interface CrlScopeNote {
  rule: 'crl-partitioned' | 'crl-indirect' | 'crl-scope';
  message: string;
  fix: string;
}

/**
 * What to say about a CRL's issuingDistributionPoint (RFC 5280 5.2.5). AWS Private CA's
 * partitioned CRLs carry a critical IDP naming their partition, and AWS tells clients to match
 * it with the certificate's CRL distribution point (aws-reference 4.5); for ALB trust stores
 * AWS documents no rule about partitioned CRLs (UNCONFIRMED). AWS-LC, ALB's verifier, and
 * OpenSSL use such a CRL only for certificates whose CRL distribution point matches the IDP,
 * so every partition must be uploaded.
 * @returns the notes (empty for a CRL without an IDP).
 */
export function crlScopeNotes(crl: LoadedCrl): CrlScopeNote[] {
  const idp = crl.idp;
  if (!idp) return [];
  const notes: CrlScopeNote[] = [];
  if (idp.fullNames?.length)
    notes.push({
      rule: 'crl-partitioned',
      message:
        'a partitioned CRL (its issuingDistributionPoint names one partition, as AWS Private CA writes them); AWS does not document whether ALB accepts partitioned CRLs, and a partition revokes only the certificates whose CRL distribution point names it',
      fix: 'upload every partition (each counts toward the 30 revocation lists of a trust store) and check that a revoked certificate fails with ClientCertCrlHit',
    });
  if (idp.indirect)
    notes.push({
      rule: 'crl-indirect',
      message: "an indirect CRL (it may list other issuers' certificates); AWS does not document how ALB handles one",
      fix: 'use a direct CRL from each issuing CA',
    });
  if (idp.onlyCa || idp.onlyAttribute)
    notes.push({
      rule: 'crl-scope',
      message: `covers only ${idp.onlyCa ? 'CA' : 'attribute'} certificates, so it revokes no client certificate`,
      fix: "also upload the CA's CRL of end-entity certificates",
    });
  return notes;
}
