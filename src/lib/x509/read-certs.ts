/**
 * Reading certificates from what users have: a PEM certificate, chain or bundle, or
 * a DER certificate. (PKCS#12 lives in pkcs12.ts.)
 */
import {parseCertificate, type ParsedCertificate} from './cert.js';
import {MtlsKitError} from '../errors.js';
import {checkSize} from '../limits.js';
import {type InputKind, wrongInputError, type WrongInputOptions} from './input-kind.js';
import {looksLikePem, parsePem} from './pem.js';

const CERTIFICATE_KINDS: InputKind[] = ['certificate'];

/**
 * Parses every certificate in PEM text or a DER file.
 * @param source the file name for messages
 * @param expect what the command wants, for the message when the file is something else
 *   (default "a certificate"), and next steps for some kinds ("pass it with --crl").
 * @throws MtlsKitError EMPTY_FILE (exit 4), WRONG_FILE_KIND (exit 2: a CRL, key, CSR, ...),
 *   BAD_PEM / BAD_CERTIFICATE / NO_CERTIFICATE (exit 4) naming the file.
 */
export function readCertificates(data: Uint8Array, source: string, expect: WrongInputOptions = {wanted: 'a certificate'}): ParsedCertificate[] {
  const wrong = (): MtlsKitError | undefined => wrongInputError(data, source, CERTIFICATE_KINDS, expect);
  if (data.length === 0) throw wrong()!;
  checkSize(source, 'pemBundleBytes', data.length);
  if (looksLikePem(data)) {
    const blocks = parsePem(Buffer.from(data).toString('utf8'), source);
    const certs = blocks.filter((b) => b.label === 'CERTIFICATE' || b.label === 'X509 CERTIFICATE' || b.label === 'TRUSTED CERTIFICATE');
    if (certs.length === 0) {
      throw (
        wrong() ??
        new MtlsKitError({
          code: 'NO_CERTIFICATE',
          message: `${source} holds no certificate (found ${blocks.map((b) => b.label).join(', ') || 'no PEM blocks'})`,
          suggestions: ['pass a file with -----BEGIN CERTIFICATE----- blocks'],
        })
      );
    }
    return certs.map((b) => {
      try {
        return parseCertificate(b.der);
      } catch (error) {
        throw new MtlsKitError({
          code: 'BAD_CERTIFICATE',
          message: `${source}: the certificate at line ${b.line} is not a valid X.509 certificate (${(error as Error).message})`,
          suggestions: ['regenerate or re-download the certificate'],
        });
      }
    });
  }
  try {
    return [parseCertificate(data)];
  } catch (error) {
    throw (
      wrong() ??
      new MtlsKitError({
        code: 'BAD_CERTIFICATE',
        message: `${source} is neither PEM nor a DER certificate (${(error as Error).message})`,
        suggestions: ['pass a PEM or DER certificate, a chain or a CA bundle; for PKCS#12 add --password-file'],
      })
    );
  }
}
