/**
 * Reading certificates out of a PKCS#12 file for `inspect`, with the password from
 * --password-file or MTLS_KIT_P12_PASSWORD.
 */
import {parseCertificate, type ParsedCertificate} from '../lib/x509/cert.js';
import {preconditionError} from '../lib/errors.js';
import {P12_PASSWORD_ENV, parsePkcs12} from '../lib/x509/pkcs12.js';
import {resolveSecret} from './secrets.js';

/**
 * @throws MtlsKitError PASSWORD_REQUIRED / WRONG_PASSWORD / BAD_PKCS12 (exit 4).
 */
export async function readPkcs12Certificates(data: Uint8Array, source: string, passwordFile: string | undefined): Promise<ParsedCertificate[]> {
  const password = await resolveSecret(passwordFile, P12_PASSWORD_ENV, 'PKCS#12 password');
  if (password === undefined) {
    throw preconditionError('PASSWORD_REQUIRED', `${source} is a PKCS#12 file and no password was given`, [
      `pass --password-file FILE or set ${P12_PASSWORD_ENV}`,
    ]);
  }
  return parsePkcs12(data, password, source).certificates.map((der) => parseCertificate(der));
}
