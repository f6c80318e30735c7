/**
 * Name constraints (RFC 5280 4.2.1.10) as AWS-LC evaluates them (crypto/x509/v3_ncons.c
 * NAME_CONSTRAINTS_check, the library under s2n-tls on ALB and NLB): directoryName by
 * canonical-encoding prefix; DNS by right-hand label match with trailing dots removed and a
 * wildcard SAN caught by an excluded subtree one label down; rfc822Name (SAN and subject
 * emailAddress) with strict local-part and domain syntax; URI host (no IPv6 literal, no
 * userinfo, DNS characters only); IP address/mask with the mask a contiguous prefix. A
 * constraint of any other type (otherName, so no SmtpUTF8Mailbox matching) that meets a name
 * of that type is an error, as is a subtree with any minimum (even an explicit 0) or maximum;
 * and the product of names and constraints is bounded against quadratic blow-up. Where
 * OpenSSL 3 differs, AWS-LC is followed (aws-reference 12.2).
 */
import {canonicalName} from './name-canon.js';
import type {NameConstraintsExt, ParsedCertificate, RawGeneralName} from './cert.js';
import {children, content, decodeOid, readTlv, TAG} from './der.js';

/** The X509_V_ERR_* outcome of a check, as OpenSSL names it. */
export type NameConstraintError =
  | 'permitted subtree violation'
  | 'excluded subtree violation'
  | 'unsupported name constraint type'
  | 'unsupported or invalid name syntax'
  | 'unsupported or invalid name constraint syntax'
  | 'too many names or constraints'
  | 'name constraints minimum and maximum not supported';

const OK = null;
const PERMITTED: NameConstraintError = 'permitted subtree violation';
const SYNTAX: NameConstraintError = 'unsupported or invalid name syntax';
/** OpenSSL NAME_CHECK_MAX. */
const NAME_CHECK_MAX = 1 << 20;
const OID_EMAIL_ADDRESS = '1.2.840.113549.1.9.1';
const OID_COMMON_NAME = '2.5.4.3';

const lower = (b: number): number => (b >= 0x41 && b <= 0x5a ? b + 0x20 : b);

/** ia5ncasecmp: ASCII case-insensitive equality of n bytes. */
function caseEqual(a: Uint8Array, ai: number, b: Uint8Array, bi: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (lower(a[ai + i]!) !== lower(b[bi + i]!)) return false;
  return true;
}

function ncDn(name: Uint8Array, base: Uint8Array): NameConstraintError | null {
  const n = canonicalName(name);
  const b = canonicalName(base);
  if (b.length > n.length || !n.startsWith(b)) return PERMITTED;
  return OK;
}

const DOT = 0x2e;
const stripTrailingDot = (v: Uint8Array): Uint8Array => (v.length > 0 && v[v.length - 1] === DOT ? v.subarray(0, v.length - 1) : v);
const sameCase = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && caseEqual(a, 0, b, 0, a.length);
const hasSuffixCase = (a: Uint8Array, b: Uint8Array): boolean => a.length >= b.length && caseEqual(a, a.length - b.length, b, 0, b.length);

/** AWS-LC nc_dns. */
function ncDns(dnsIn: Uint8Array, baseIn: Uint8Array, excluding: boolean): NameConstraintError | null {
  if (baseIn.length === 0) return OK;
  const dns = stripTrailingDot(dnsIn);
  const base = stripTrailingDot(baseIn);
  // "*.bar.com" is inside an excluded "foo.bar.com": the wildcard could stand for foo.
  if (excluding && dns.length >= 2 && dns[0] === 0x2a && dns[1] === DOT) {
    const dot = base.indexOf(DOT);
    if (dot >= 0 && sameCase(dns.subarray(2), base.subarray(dot + 1))) return OK;
  }
  if (base[0] === DOT) return hasSuffixCase(dns, base) ? OK : PERMITTED;
  let rest = dns;
  if (dns.length > base.length) {
    if (dns[dns.length - base.length - 1] !== DOT) return PERMITTED;
    rest = dns.subarray(dns.length - base.length);
  }
  return sameCase(rest, base) ? OK : PERMITTED;
}

const isAlnum = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
/** RFC 5322 atext plus '.' (AWS-LC is_valid_rfc822_local_part). */
const ATEXT = new Set(Array.from("!#$%&'*+-/=?^_`{|}~.", (ch) => ch.charCodeAt(0)));
const validLocal = (v: Uint8Array): boolean => v.length > 0 && v.every((c) => isAlnum(c) || ATEXT.has(c));
const validDomain = (v: Uint8Array): boolean => v.length > 0 && v.every((c) => isAlnum(c) || c === 0x2d || c === DOT);

/** AWS-LC nc_email: one '@', RFC 5321 local part, DNS-character domain, on both sides. */
function ncEmail(eml: Uint8Array, base: Uint8Array, excluding: boolean): NameConstraintError | null {
  const at = eml.indexOf(0x40);
  if (at < 0 || eml.indexOf(0x40, at + 1) >= 0) return SYNTAX;
  const local = eml.subarray(0, at);
  const domain = eml.subarray(at + 1);
  if (!validLocal(local) || !validDomain(domain)) return SYNTAX;
  const bat = base.indexOf(0x40);
  if (bat >= 0) {
    if (bat === 0 || base.indexOf(0x40, bat + 1) >= 0) return SYNTAX;
    const bLocal = base.subarray(0, bat);
    const bDomain = base.subarray(bat + 1);
    if (!validLocal(bLocal) || !validDomain(bDomain)) return SYNTAX;
    // The local part is case-sensitive, except when excluding (the stricter reading).
    const localMatch = excluding ? sameCase(bLocal, local) : Buffer.compare(Buffer.from(bLocal), Buffer.from(local)) === 0;
    return localMatch && sameCase(bDomain, domain) ? OK : PERMITTED;
  }
  if (!validDomain(base)) return SYNTAX;
  if (base[0] === DOT) return hasSuffixCase(domain, base) ? OK : PERMITTED;
  return sameCase(base, domain) ? OK : PERMITTED;
}

/** AWS-LC nc_uri: scheme://host[:port][/...], the host a DNS name (no IPv6 literal, no userinfo). */
function ncUri(uri: Uint8Array, baseIn: Uint8Array): NameConstraintError | null {
  const colon = uri.indexOf(0x3a);
  if (colon < 0 || uri[colon + 1] !== 0x2f || uri[colon + 2] !== 0x2f) return SYNTAX;
  const rest = uri.subarray(colon + 3);
  if (rest[0] === 0x5b) return SYNTAX;
  for (const c of rest) {
    if (c === 0x2f || c === 0x3f || c === 0x23) break;
    if (c === 0x40) return SYNTAX;
  }
  let end = rest.indexOf(0x3a);
  if (end < 0) end = rest.indexOf(0x2f);
  let host = end < 0 ? rest : rest.subarray(0, end);
  if (host.length === 0) return SYNTAX;
  host = stripTrailingDot(host);
  const base = stripTrailingDot(baseIn);
  if (host.length === 0 || !host.every((c) => isAlnum(c) || c === 0x2d || c === DOT)) return SYNTAX;
  if (base[0] === DOT) return hasSuffixCase(host, base) ? OK : PERMITTED;
  return sameCase(base, host) ? OK : PERMITTED;
}

/** AWS-LC validate_cidr_mask: the mask is ones then zeros. */
function contiguousMask(mask: Uint8Array): boolean {
  let zero = false;
  for (const byte of mask) {
    for (let bit = 7; bit >= 0; bit--) {
      const one = (byte >> bit) & 1;
      if (one && zero) return false;
      if (!one) zero = true;
    }
  }
  return true;
}

/** AWS-LC nc_ip: address/mask of the same family, the mask a contiguous prefix. */
function ncIp(ip: Uint8Array, base: Uint8Array): NameConstraintError | null {
  if ((ip.length !== 4 && ip.length !== 16) || (base.length !== 8 && base.length !== 32)) return SYNTAX;
  if (ip.length * 2 !== base.length) return PERMITTED;
  if (!contiguousMask(base.subarray(ip.length))) return SYNTAX;
  for (let i = 0; i < ip.length; i++) if ((ip[i]! & base[ip.length + i]!) !== (base[i]! & base[ip.length + i]!)) return PERMITTED;
  return OK;
}

/** A name to check: its GeneralName tag and content (0xa4 with a Name DER for directoryName). */
type NameToCheck = RawGeneralName;

function matchSingle(g: NameToCheck, base: RawGeneralName, excluding: boolean): NameConstraintError | null {
  switch (base.tag) {
    case 0xa4:
      return ncDn(g.value, base.value);
    case 0x82:
      return ncDns(g.value, base.value, excluding);
    case 0x81:
      return ncEmail(g.value, base.value, excluding);
    case 0x86:
      return ncUri(g.value, base.value);
    case 0x87:
      return ncIp(g.value, base.value);
    default:
      return 'unsupported name constraint type';
  }
}

/** nc_match: one name against one certificate's constraints (same GeneralName type only). */
function ncMatch(g: NameToCheck, nc: NameConstraintsExt): NameConstraintError | null {
  const sameType = (base: RawGeneralName): boolean => g.tag === base.tag;
  let match = 0;
  for (const sub of nc.permitted) {
    if (!sameType(sub.base)) continue;
    if (!sub.minMaxValid) return 'name constraints minimum and maximum not supported';
    if (match === 2) continue;
    if (match === 0) match = 1;
    const r = matchSingle(g, sub.base, false);
    if (r === OK) match = 2;
    else if (r !== PERMITTED) return r;
  }
  if (match === 1) return PERMITTED;
  for (const sub of nc.excluded) {
    if (!sameType(sub.base)) continue;
    if (!sub.minMaxValid) return 'name constraints minimum and maximum not supported';
    const r = matchSingle(g, sub.base, true);
    if (r === OK) return 'excluded subtree violation';
    if (r !== PERMITTED) return r;
  }
  return OK;
}

/** Subject attributes of a certificate with their value tag and content. */
function subjectAttributes(c: ParsedCertificate): Array<{oid: string; tag: number; value: Uint8Array}> {
  const out: Array<{oid: string; tag: number; value: Uint8Array}> = [];
  try {
    for (const set of children(readTlv(c.subject, 0))) {
      for (const atv of children(set)) {
        const [o, v] = children(atv);
        if (o && v) out.push({oid: decodeOid(o), tag: v.tag, value: content(v)});
      }
    }
  } catch {
    // A name OpenSSL parsed but this reader cannot: no attributes to constrain.
  }
  return out;
}

/**
 * AWS-LC cn2dnsid: a commonName that looks like a DNS name (two labels or more, a leading
 * "*." allowed), else null; a multi-label CN with non-ASCII or control bytes is a syntax error.
 */
function cnAsDns(tag: number, v: Uint8Array): Uint8Array | null | 'syntax' {
  let u: Uint8Array = v;
  if (tag === TAG.BMPString) {
    let s = '';
    for (let i = 0; i + 1 < v.length; i += 2) s += String.fromCharCode((v[i]! << 8) | v[i + 1]!);
    u = Buffer.from(s, 'utf8');
  } else if (tag !== TAG.UTF8String && v.some((b) => b > 0x7f)) {
    u = Buffer.from(Buffer.from(v).toString('latin1'), 'utf8');
  }
  let n = u.length;
  while (n > 0 && u[n - 1] === 0) n--;
  u = u.subarray(0, n);
  if (u.includes(0)) return 'syntax';
  let isDns = false;
  let nonDns = false;
  const start = n > 2 && u[0] === 0x2a && u[1] === DOT ? 2 : 0;
  for (let i = start; i < n; i++) {
    const c = u[i]!;
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f) continue;
    if (c >= 0x80 || c <= 0x20 || c === 0x7f) {
      nonDns = true;
      continue;
    }
    if (i > start && i < n - 1) {
      if (c === 0x2d) continue;
      if (c === 0x2e && u[i + 1] !== 0x2e && u[i - 1] !== 0x2d && u[i + 1] !== 0x2d) {
        isDns = true;
        continue;
      }
    }
    isDns = false;
    break;
  }
  if (isDns && nonDns) return 'syntax';
  return isDns ? u : null;
}

/**
 * NAME_CONSTRAINTS_check (and, for the leaf without DNS SANs, the commonName check):
 * the subject as a directoryName, its emailAddress attributes, every subjectAltName.
 * @returns null when the certificate satisfies `nc`, else OpenSSL's error text.
 */
export function checkNameConstraints(c: ParsedCertificate, nc: NameConstraintsExt, isLeaf: boolean): NameConstraintError | null {
  const attrs = subjectAttributes(c);
  const nameCount = attrs.length + c.altNamesRaw.length;
  const constraintCount = nc.permitted.length + nc.excluded.length;
  if (nameCount > 0 && constraintCount > Math.floor(NAME_CHECK_MAX / nameCount)) return 'too many names or constraints';
  if (attrs.length > 0) {
    const r = ncMatch({tag: 0xa4, value: c.subject}, nc);
    if (r) return r;
    for (const a of attrs) {
      if (a.oid !== OID_EMAIL_ADDRESS) continue;
      if (a.tag !== TAG.IA5String) return SYNTAX;
      const e = ncMatch({tag: 0x81, value: a.value}, nc);
      if (e) return e;
    }
  }
  for (const g of c.altNamesRaw) {
    const r = ncMatch(g, nc);
    if (r) return r;
  }
  if (isLeaf && !c.altNamesRaw.some((g) => g.tag === 0x82)) {
    for (const a of attrs) {
      if (a.oid !== OID_COMMON_NAME) continue;
      const dns = cnAsDns(a.tag, a.value);
      if (dns === 'syntax') return SYNTAX;
      if (!dns) continue;
      const r = ncMatch({tag: 0x82, value: dns}, nc);
      if (r) return r;
    }
  }
  return OK;
}
