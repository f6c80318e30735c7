/**
 * What deploy and status need to know about a CRL without verifying it: who issued it,
 * its number and dates, how many entries it holds, and a content hash. Verification
 * (signature, revocation checks) lives in verify.ts; this only reads the structure
 * (RFC 5280 5.1) so deploy can tell which uploaded CRL a newer one supersedes.
 */
import {createHash} from 'node:crypto';
import {children, content, decodeOid, decodeTime, DerError, expectTag, parseOne, readTlv, TAG} from './der.js';
import {formatRfc2253} from './dn.js';
import {MtlsKitError} from './errors.js';
import {parseSignatureAlgorithm, type SignatureAlgorithm} from './cert.js';
import {looksLikePem, parsePem} from './pem.js';

const OID_CRL_NUMBER = '2.5.29.20';

export interface CrlSummary {
  /** Raw issuer Name DER. */
  issuer: Uint8Array;
  /** Issuer as RFC 2253 (facts doc 8). */
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
  /** Whether the input was PEM (ALB accepts only PEM, facts doc 4.3). */
  pem: boolean;
}

/**
 * Reads a CRL (PEM `X509 CRL` block or DER) into a summary.
 * @param source file name or URL for messages
 * @throws MtlsKitError BAD_CRL (exit 4) when the bytes are not one CRL.
 */
export function summarizeCrl(data: Uint8Array, source: string): CrlSummary {
  const pem = looksLikePem(data);
  let der: Uint8Array = data;
  if (pem) {
    const blocks = parsePem(Buffer.from(data).toString('utf8'), source).filter((b) => b.label === 'X509 CRL');
    if (blocks.length !== 1) throw badCrl(source, `expected one "-----BEGIN X509 CRL-----" block, found ${blocks.length}`);
    der = blocks[0]!.der;
  }
  try {
    const list = expectTag(parseOne(der), TAG.SEQUENCE, 'CertificateList');
    const [tbsT, sigAlgT] = children(list);
    if (!tbsT || !sigAlgT) throw new DerError('CertificateList needs tbsCertList and signatureAlgorithm');
    const f = children(expectTag(tbsT, TAG.SEQUENCE, 'tbsCertList'));
    let i = f[0]?.tag === TAG.INTEGER ? 1 : 0; // version is optional (v1 CRLs omit it)
    i++; // signature AlgorithmIdentifier
    const issuerT = expectTag(f[i++]!, TAG.SEQUENCE, 'issuer');
    const thisUpdate = decodeTime(f[i++]!);
    let nextUpdate: Date | null = null;
    if (f[i] && (f[i]!.tag === TAG.UTCTime || f[i]!.tag === TAG.GeneralizedTime)) nextUpdate = decodeTime(f[i++]!);
    let entries = 0;
    if (f[i]?.tag === TAG.SEQUENCE) entries = children(f[i++]!).length;
    let crlNumber: string | null = null;
    if (f[i]?.tag === 0xa0) {
      for (const ext of children(readTlv(f[i]!.buf, f[i]!.contentStart, f[i]!.end))) {
        const parts = children(ext);
        if (decodeOid(parts[0]!) !== OID_CRL_NUMBER) continue;
        const value = parts[parts.length - 1]!;
        const n = parseOne(content(value));
        crlNumber = BigInt('0x' + (Buffer.from(content(n)).toString('hex') || '0')).toString();
      }
    }
    return {
      issuer: issuerT.buf.subarray(issuerT.start, issuerT.end),
      issuerDn: formatRfc2253(issuerT.buf.subarray(issuerT.start, issuerT.end)),
      crlNumber,
      thisUpdate,
      nextUpdate,
      entries,
      signatureAlgorithm: parseSignatureAlgorithm(sigAlgT),
      der,
      sha256: createHash('sha256').update(der).digest('hex'),
      pem,
    };
  } catch (error) {
    if (error instanceof MtlsKitError) throw error;
    throw badCrl(source, `not a valid CRL (${(error as Error).message})`);
  }
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

function badCrl(source: string, message: string): MtlsKitError {
  return new MtlsKitError({code: 'BAD_CRL', message: `${source}: ${message}`, suggestions: ['regenerate it with mtls-kit crl, or pass a PEM CRL (-----BEGIN X509 CRL-----)']});
}
