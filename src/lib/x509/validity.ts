/**
 * Validity strings: the one module that formats certificate dates for headers and logs.
 */

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** `YYYY-MM-DDTHH:MM:SSZ` (UTC, no fraction), as in ALB headers (aws-reference 1.6). */
export function isoSeconds(d: Date): string {
  return `${String(d.getUTCFullYear()).padStart(4, '0')}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}Z`;
}

/**
 * ALB's `X-Amzn-Mtls-Clientcert-Validity` value and connection-log field 9:
 * `NotBefore=YYYY-MM-DDTHH:MM:SSZ;NotAfter=YYYY-MM-DDTHH:MM:SSZ` (aws-reference 1.6).
 * Dates after 2049 use the same form (assumed; aws-reference 1.6 marks it UNCONFIRMED).
 */
export function formatAlbValidity(notBefore: Date, notAfter: Date): string {
  return `NotBefore=${isoSeconds(notBefore)};NotAfter=${isoSeconds(notAfter)}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * API Gateway's `clientCert.validity` form: `MMM dD HH:MM:SS YYYY GMT` with a
 * space-padded day (aws-reference 6.1; OpenSSL ASN1_TIME_print).
 */
export function formatApigwDate(d: Date): string {
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} ${d.getUTCFullYear()} GMT`;
}
