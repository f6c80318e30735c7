/**
 * Certificate and key fingerprints in the one style every command prints and puts in its --json
 * result: SHA-256, upper-case hex in colon-separated pairs, as `openssl x509 -fingerprint -sha256`
 * prints it (`69:28:64:...`). The one exception is CloudFront's `CloudFront-Viewer-Cert-Sha256`
 * header, whose value is AWS's (lib/cloudfront/headers.ts).
 */
import {hash} from 'node:crypto';

const HEX_PAIRS = Array.from({length: 256}, (_, b) => b.toString(16).toUpperCase().padStart(2, '0'));

/** A digest as upper-case colon hex: `AA:BB:...`. */
export function formatFingerprint(digest: Uint8Array): string {
  let s = '';
  for (let i = 0; i < digest.length; i++) s += i === 0 ? HEX_PAIRS[digest[i]!] : `:${HEX_PAIRS[digest[i]!]}`;
  return s;
}

/** SHA-256 of bytes, one-shot (crypto.hash: no Hash object per call). */
export function sha256Digest(data: Uint8Array): Buffer {
  return hash('sha256', data, 'buffer');
}

/** The SHA-256 fingerprint of DER bytes (a certificate, a SubjectPublicKeyInfo) in the one style. */
export function sha256Fingerprint(der: Uint8Array): string {
  return formatFingerprint(sha256Digest(der));
}

/**
 * A fingerprint in any style (colons or not, either case) as plain lower-case hex: what the
 * bundle digest in deploy's trust-store tag is computed over, so tags written before the
 * fingerprint style was unified still match.
 */
export function fingerprintHex(fingerprint: string): string {
  return fingerprint.replace(/:/g, '').toLowerCase();
}
