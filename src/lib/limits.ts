/**
 * Bounds on the work a hostile input file can ask for (issue 25 "bounds on work for every
 * hostile file"), in one place: each is checked before the work it bounds (a size before
 * reading, a count while counting), and going over it is one error, INPUT_LIMIT (exit 4),
 * naming the file and the bound (`INPUT_LIMITS.crlEntries = 5,000,000`). PKCS#12 files
 * have their own bounds (pkcs12.ts PKCS12_LIMITS, PKCS12_LIMIT).
 *
 * Each is far above every AWS quota for the same thing (docs/aws-reference.md section 3,
 * the API Gateway truststore quota, 7.6), so no file AWS accepts is refused:
 * - fileBytes: any input file read whole (readInput), 256 MiB: above every kind below.
 * - pemBundleBytes / pemBlocks: a certificate bundle or chain. AWS: API Gateway truststores
 *   hold 1,000 certificates in 1 MB; ALB trust stores 25 CA certificates; a presented chain
 *   64 KB. 16 MiB and 10,000 PEM blocks.
 * - crlBytes / crlEntries: one CRL. AWS: 50 MB per CRL file, 500,000 entries per trust store.
 *   128 MiB (a 50 MB DER CRL is ~68 MB as PEM) and 5,000,000 entries.
 * - csrBytes: one certificate request; real ones are under 4 KB. 1 MiB.
 * - berNesting: nested BER indefinite lengths in our DER reader (der.ts), the only
 *   recursion in it; certificates and CRLs use none (DER), OpenSSL's ASN1_MAX_CONSTRUCTED_NEST is 30. 32.
 * - indexLineChars: one line of a CA's index.txt; the subjects gen-client and sign write are
 *   bounded by name-rules.ts far below this. 64 KiB.
 * - planBytes: a saved deploy plan (`deploy --plan`): digests and summaries, not CRLs. 64 MiB.
 * - headerValueBytes: one header value given to decode-header; ALB's certificate headers
 *   carry at most a 64 KB chain, URL-encoded (about 3x). 1 MiB.
 */
import {ExitCode, MtlsKitError} from './errors.js';

export const INPUT_LIMITS = {
  fileBytes: 256 * 1024 * 1024,
  pemBundleBytes: 16 * 1024 * 1024,
  pemBlocks: 10_000,
  crlBytes: 128 * 1024 * 1024,
  crlEntries: 5_000_000,
  csrBytes: 1024 * 1024,
  berNesting: 32,
  indexLineChars: 64 * 1024,
  planBytes: 64 * 1024 * 1024,
  headerValueBytes: 1024 * 1024,
} as const;

export type InputLimit = keyof typeof INPUT_LIMITS;

const UNITS: Partial<Record<InputLimit, string>> = {
  fileBytes: 'bytes',
  pemBundleBytes: 'bytes',
  crlBytes: 'bytes',
  csrBytes: 'bytes',
  planBytes: 'bytes',
  headerValueBytes: 'bytes',
  indexLineChars: 'characters',
};

/**
 * The error for `source` going over `limit`: `what` says what was found ("a line of 70,000
 * characters", "more than 10,000 PEM blocks").
 */
export function inputLimitError(source: string, limit: InputLimit, what: string): MtlsKitError {
  const n = INPUT_LIMITS[limit].toLocaleString('en-US');
  return new MtlsKitError({
    code: 'INPUT_LIMIT',
    message: `${source}: ${what}, over mtls-kit's bound INPUT_LIMITS.${limit} = ${n}${UNITS[limit] ? ` ${UNITS[limit]}` : ''}; refused without doing the work`,
    suggestions: ['check that this is the file you meant; the bounds (docs/limits.md) are far above what AWS accepts'],
    exitCode: ExitCode.Precondition,
  });
}

/** Throws INPUT_LIMIT when `size` (bytes or characters) is over `limit`. */
export function checkSize(source: string, limit: InputLimit, size: number): void {
  if (size > INPUT_LIMITS[limit]) throw inputLimitError(source, limit, `${size.toLocaleString('en-US')} ${UNITS[limit] ?? ''}`.trimEnd());
}
