/**
 * What an NLB target receives about the client certificate: nothing (aws-reference 9.5).
 * `decode-header --target nlb` and `logs --target nlb` say so instead of decoding.
 */
import {ExitCode, MtlsKitError} from '../errors.js';

/**
 * The error `decode-header` and `logs` give for `--target nlb` (exit 4): an NLB TLS listener
 * sends its targets no certificate headers, no TLV and no connection-log fields.
 * @param what `headers` (decode-header) or `logs` (logs)
 */
export function nlbSendsNoCertificateData(what: 'headers' | 'logs'): MtlsKitError {
  return new MtlsKitError({
    code: 'NLB_SENDS_NO_CERTIFICATE',
    message:
      what === 'headers'
        ? 'an NLB target receives no client-certificate headers: an NLB TLS listener forwards only the decrypted bytes (and, if enabled, a PROXY protocol v2 header without certificate data)'
        : 'NLB logs carry no client-certificate fields: its TLS access logs (not ALB-style connection logs) record the server certificate and the TLS session, not the client',
    suggestions: [
      'an X-Amzn-Mtls-* header that reaches an NLB target was sent by the client or another proxy: do not trust it',
      'to see the client certificate at the target, use a TCP listener: the target terminates TLS and verifies the client itself',
      'to see which clients a listener admits, run mtls-kit serve --listen PORT:nlb (its access-log lines carry the verdict and the matching filter)',
    ],
    exitCode: ExitCode.Precondition,
  });
}
