/**
 * s2n-tls's host-information check on a client certificate (tls/s2n_x509_validator.c
 * s2n_verify_host_information, IP-in-CN refusal since s2n-tls 1.7.4), with a listener whose
 * verify_host callback accepts every name, as a server checking client certificates has:
 *
 * - subjectAltName entries of type DNS, URI or IP count; the check passes on the first one
 *   that is well formed (DNS/URI non-empty, IP 4 or 16 bytes) and fails when there are some
 *   and none is;
 * - without such entries, the last commonName is used: it fails when it is empty, longer
 *   than 254 bytes, or parses as an IPv4 or IPv6 address (inet_pton);
 * - with neither, it passes.
 *
 * Whether ALB's s2n build runs this check is not documented (policy.ts `hostInformation`).
 */
import type {ParsedCertificate} from '../x509/cert.js';
import {children, content, decodeOid, readTlv} from '../x509/der.js';

const OID_CN = '2.5.4.3';
/** X520CommonName string types s2n accepts: TeletexString, PrintableString, UniversalString, UTF8String, BMPString. */
const CN_TYPES = new Set([0x14, 0x13, 0x1c, 0x0c, 0x1e]);
/** s2n copies the CN into a 255-byte buffer with a terminating NUL. */
const MAX_CN = 254;

/** glibc inet_pton(AF_INET): four decimal octets 0-255, no leading zeros. */
export function isInetPton4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

/** glibc inet_pton(AF_INET6): eight groups of 1-4 hex digits, one `::`, an IPv4 tail allowed. */
export function isInetPton6(s: string): boolean {
  if (s.length === 0 || s.split('::').length > 2) return false;
  let groups = 0;
  const halves = s.split('::');
  for (let h = 0; h < halves.length; h++) {
    const half = halves[h]!;
    if (half === '') continue;
    const parts = half.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      const last = h === halves.length - 1 && i === parts.length - 1;
      if (last && p.includes('.')) {
        if (!isInetPton4(p)) return false;
        groups += 2;
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(p)) groups++;
      else return false;
    }
  }
  return halves.length === 2 ? groups <= 7 : groups === 8;
}

const ADDRESS_CHARS = /^[0-9A-Fa-f:.]+$/;

/** The last commonName of the subject: its tag and bytes, or null. */
function lastCommonName(c: ParsedCertificate): {tag: number; value: Uint8Array} | null {
  let last: {tag: number; value: Uint8Array} | null = null;
  try {
    for (const set of children(readTlv(c.subject, 0))) {
      for (const atv of children(set)) {
        const [o, v] = children(atv);
        if (o && v && decodeOid(o) === OID_CN) last = {tag: v.tag, value: content(v)};
      }
    }
  } catch {
    return null;
  }
  return last;
}

/**
 * Why s2n's host-information check refuses the certificate (one phrase), or null when it passes.
 */
export function hostInformationProblem(c: ParsedCertificate): string | null {
  let sanFound = false;
  for (const g of c.altNamesRaw) {
    if (g.tag === 0x82 || g.tag === 0x86) {
      sanFound = true;
      if (g.value.length > 0) return null;
    } else if (g.tag === 0x87) {
      sanFound = true;
      if (g.value.length === 4 || g.value.length === 16) return null;
    }
  }
  if (sanFound) return 'every DNS, URI or IP subjectAltName entry is malformed (empty, or an IP address that is neither 4 nor 16 bytes)';
  const cn = lastCommonName(c);
  if (!cn || !CN_TYPES.has(cn.tag)) return null;
  if (cn.value.length === 0) return 'its commonName is empty and it has no DNS, URI or IP subjectAltName';
  if (cn.value.length > MAX_CN) return `its commonName is ${cn.value.length} bytes (over ${MAX_CN}) and it has no DNS, URI or IP subjectAltName`;
  const nul = cn.value.indexOf(0);
  const text = Buffer.from(nul >= 0 ? cn.value.subarray(0, nul) : cn.value).toString('latin1');
  // Both address forms hold only hex digits, ':' and '.': any other character rules them out (the usual name-like CN).
  if (ADDRESS_CHARS.test(text) && (isInetPton4(text) || isInetPton6(text))) return `its commonName ${text} is an IP address and it has no subjectAltName`;
  return null;
}
