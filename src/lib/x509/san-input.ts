/**
 * `--san` values as users type them: typed (DNS name, IP address, URI, email) and checked
 * before anything is issued, so `--san "not a san!"` is refused instead of becoming
 * DNS:not a san!.
 */
import {usageError} from '../errors.js';

export type SanInput = {type: 'dns' | 'ip' | 'url' | 'email'; value: string};

const ACCEPTED =
  'a SAN is a DNS name (device-1.example.com, *.example.com), an IPv4 or IPv6 address (192.0.2.10, 2001:db8::1), an email address (ops@example.com) or a URI (spiffe://acme/device-1); prefix dns:, ip:, email: or uri: to force the type';

/**
 * RFC 1035 2.3.1 preferred name syntax as RFC 5280 4.2.1.6 requires for dNSName: labels of
 * letters, digits and hyphens, 1 to 63 characters, not starting or ending with a hyphen, 253
 * characters in all; a leading `*` label (RFC 6125 6.4.3 wildcard) is allowed.
 * @returns why the name is not valid, or undefined.
 */
export function dnsNameProblem(name: string, allowWildcard = true): string | undefined {
  if (name === '') return 'it is empty';
  if (name.length > 253) return `it is ${name.length} characters long; DNS names have at most 253`;
  const labels = name.split('.');
  for (const [i, l] of labels.entries()) {
    if (i === 0 && l === '*' && allowWildcard && labels.length > 1) continue;
    if (l === '') return 'it has an empty label (two dots in a row, or a dot at the start or end)';
    if (l.length > 63) return `the label "${l.slice(0, 20)}..." is longer than 63 characters`;
    if (!/^[A-Za-z0-9-]+$/.test(l)) {
      const bad = [...l].find((c) => !/[A-Za-z0-9-]/.test(c))!;
      return l.includes('*')
        ? 'a wildcard may only be the whole first label (*.example.com)'
        : `it contains ${bad === ' ' ? 'a space' : `"${bad}"`}; DNS names have only letters, digits, hyphens and dots`;
    }
    if (l.startsWith('-') || l.endsWith('-')) return `the label "${l}" starts or ends with a hyphen`;
  }
  return undefined;
}

/** Dotted-quad IPv4, each part 0-255. */
export function isIpv4(v: string): boolean {
  const parts = v.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** RFC 4291 2.2 text form with hex groups only (no embedded IPv4, no zone). */
export function isIpv6(v: string): boolean {
  if (!/^[0-9A-Fa-f:]+$/.test(v)) return false;
  const halves = v.split('::');
  if (halves.length > 2) return false;
  const groups = halves.map((h) => (h === '' ? [] : h.split(':')));
  if (groups.some((g) => g.some((x) => !/^[0-9A-Fa-f]{1,4}$/.test(x)))) return false;
  const n = groups.reduce((a, g) => a + g.length, 0);
  return halves.length === 2 ? n <= 7 : n === 8;
}

/** Printable ASCII without spaces (an IA5String a verifier can compare). */
const ASCII_NO_SPACE = /^[\x21-\x7e]+$/;

/** URI schemes a client certificate never needs and a viewer might run or fetch. */
const REFUSED_URI_SCHEMES = new Set(['javascript', 'vbscript', 'data', 'file', 'blob', 'about']);
/** Our bounds on URI and email SANs (RFC 5280 sets none; 2048 and RFC 3696's 254 for email, rounded up). */
export const SAN_LIMITS = {maxUriLength: 2048, maxEmailLength: 255} as const;

/**
 * Why a typed SAN cannot be issued (the rules of --san, and of SANs sign copies from a
 * CSR), or undefined.
 */
export function sanProblem(s: SanInput): string | undefined {
  switch (s.type) {
    case 'dns':
      return dnsNameProblem(s.value);
    case 'ip':
      return isIpv4(s.value) || isIpv6(s.value) ? undefined : 'it is not an IPv4 or IPv6 address';
    case 'email': {
      if (s.value.length > SAN_LIMITS.maxEmailLength) return `it is ${s.value.length} characters long; at most ${SAN_LIMITS.maxEmailLength} are allowed`;
      // RFC 5280 4.2.1.6: rfc822Name is a Mailbox (RFC 5321 4.1.2), ASCII.
      const at = s.value.lastIndexOf('@');
      if (at <= 0 || !ASCII_NO_SPACE.test(s.value) || s.value.indexOf('@') !== at) return 'an email address is local-part@domain in ASCII, without spaces';
      const d = dnsNameProblem(s.value.slice(at + 1), false);
      return d ? `its domain is not a DNS name (${d})` : undefined;
    }
    case 'url':
      // RFC 3986 3: scheme ":" then the rest, no spaces (RFC 5280 4.2.1.6: an IA5String URI).
      if (!/^[A-Za-z][A-Za-z0-9+.-]*:./.test(s.value)) return 'a URI starts with a scheme such as spiffe:// or https://';
      if (s.value.length > SAN_LIMITS.maxUriLength) return `it is ${s.value.length} characters long; at most ${SAN_LIMITS.maxUriLength} are allowed`;
      if (REFUSED_URI_SCHEMES.has(s.value.slice(0, s.value.indexOf(':')).toLowerCase()))
        return `the ${s.value.slice(0, s.value.indexOf(':')).toLowerCase()}: scheme is not allowed in a certificate`;
      return ASCII_NO_SPACE.test(s.value) ? undefined : 'a URI has no spaces and only ASCII characters (percent-encode others)';
  }
}

/**
 * Types a `--san` value (IP address; URI when it has a scheme; email when it has @; else a
 * DNS name; or as prefixed: dns:, ip:, uri:/url:, email:) and checks it.
 * @param flag the flag named in the error
 * @throws MtlsKitError BAD_SAN (exit 2) naming the value, why, and the accepted forms.
 */
export function typeSan(value: string, flag = '--san'): SanInput {
  const v = value.trim();
  let s: SanInput;
  const m = /^(dns|ip|uri|url|email):(.*)$/i.exec(v);
  if (m) {
    const t = m[1]!.toLowerCase();
    s = {type: t === 'uri' || t === 'url' ? 'url' : (t as SanInput['type']), value: m[2]!};
  } else if (/^\d+(\.\d+){3}$/.test(v) || (v.includes(':') && /^[0-9a-f:.]+$/i.test(v))) s = {type: 'ip', value: v};
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v) || /^(urn|spiffe|mailto):/i.test(v)) s = {type: 'url', value: v};
  else if (v.includes('@')) s = {type: 'email', value: v};
  else s = {type: 'dns', value: v};
  const problem = sanProblem(s);
  if (problem)
    throw usageError(
      'BAD_SAN',
      `${flag} "${value}" is not a valid ${{dns: 'DNS name', ip: 'IP address', url: 'URI', email: 'email address'}[s.type]}: ${problem}`,
      [ACCEPTED],
    );
  return s;
}
