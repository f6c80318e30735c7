/**
 * Name constraints (RFC 5280 4.2.1.10) as OpenSSL evaluates them
 * (crypto/x509/v3_ncons.c NAME_CONSTRAINTS_check and x509_vfy.c check_name_constraints):
 * directoryName by canonical-encoding prefix, DNS by right-hand label match, rfc822Name
 * (SAN and subject emailAddress), URI host, IP address/mask, SmtpUTF8Mailbox as email;
 * a constraint of any other type that meets a name of that type is an error, as is a
 * subtree with a minimum other than 0 or any maximum; and the product of names and
 * constraints is bounded (NAME_CHECK_MAX) against quadratic blow-up.
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
const OID_SMTP_UTF8_MAILBOX = '1.3.6.1.5.5.7.8.9';

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

function ncDns(dns: Uint8Array, base: Uint8Array): NameConstraintError | null {
  if (base.length === 0) return OK;
  if (dns.length < base.length) return PERMITTED;
  let off = 0;
  if (dns.length > base.length) {
    off = dns.length - base.length;
    if (base[0] !== 0x2e && dns[off - 1] !== 0x2e) return PERMITTED;
  }
  return caseEqual(base, 0, dns, off, base.length) ? OK : PERMITTED;
}

function lastIndex(v: Uint8Array, c: number): number {
  for (let i = v.length - 1; i >= 0; i--) if (v[i] === c) return i;
  return -1;
}

function ncEmail(eml: Uint8Array, base: Uint8Array): NameConstraintError | null {
  const baseAt = lastIndex(base, 0x40);
  const emlAt = lastIndex(eml, 0x40);
  if (emlAt < 0) return SYNTAX;
  // Initial '.' is a right-hand-side match.
  if (baseAt < 0 && base.length > 0 && base[0] === 0x2e) {
    if (eml.length > base.length && caseEqual(base, 0, eml, eml.length - base.length, base.length)) return OK;
    return PERMITTED;
  }
  let bp = 0;
  if (baseAt >= 0) {
    if (baseAt !== 0) {
      if (baseAt !== emlAt) return PERMITTED;
      if (base.subarray(0, baseAt).includes(0) || eml.subarray(0, emlAt).includes(0)) return SYNTAX;
      // Case-sensitive local part (strncmp stops at a NUL, excluded above).
      for (let i = 0; i < emlAt; i++) if (base[i] !== eml[i]) return PERMITTED;
    }
    bp = baseAt + 1;
  }
  const ep = emlAt + 1;
  const baseHost = base.length - bp;
  const emlHost = eml.length - ep;
  if (baseHost !== emlHost || !caseEqual(base, bp, eml, ep, emlHost)) return PERMITTED;
  return OK;
}

/** nc_email_eai: an SmtpUTF8Mailbox (UTF8String) against an rfc822Name constraint, host part only. */
function ncEmailEai(value: RawGeneralName['otherValue'], base: Uint8Array): NameConstraintError | null {
  if (!value || value.tag !== TAG.UTF8String) return SYNTAX;
  const eml = content(value);
  const emlAt = lastIndex(eml, 0x40);
  if (emlAt < 0) return SYNTAX;
  const baseAt = lastIndex(base, 0x40);
  let bp = 0;
  if (baseAt >= 0) {
    // OpenSSL compares the whole constraint when it holds a local part.
    if (baseAt !== 0) return eml.length === base.length && Buffer.compare(Buffer.from(eml), Buffer.from(base)) === 0 ? OK : PERMITTED;
    bp = 1;
  }
  const host = eml.subarray(emlAt + 1);
  const b = base.subarray(bp);
  if (b.length > 0 && b[0] === 0x2e) {
    return host.length > b.length && caseEqual(b, 0, host, host.length - b.length, b.length) ? OK : PERMITTED;
  }
  return host.length === b.length && caseEqual(b, 0, host, 0, b.length) ? OK : PERMITTED;
}

function ncUri(uri: Uint8Array, base: Uint8Array): NameConstraintError | null {
  const colon = uri.indexOf(0x3a);
  if (colon < 0 || uri.length - colon < 3 || uri[colon + 1] !== 0x2f || uri[colon + 2] !== 0x2f) return SYNTAX;
  const hostStart = colon + 3;
  let end = uri.indexOf(0x3a, hostStart);
  if (end < 0) end = uri.indexOf(0x2f, hostStart);
  const hostLen = (end < 0 ? uri.length : end) - hostStart;
  if (hostLen === 0) return SYNTAX;
  if (base.length > 0 && base[0] === 0x2e) {
    if (hostLen > base.length && caseEqual(uri, hostStart + hostLen - base.length, base, 0, base.length)) return OK;
    return PERMITTED;
  }
  if (base.length !== hostLen || !caseEqual(uri, hostStart, base, 0, hostLen)) return PERMITTED;
  return OK;
}

function ncIp(ip: Uint8Array, base: Uint8Array): NameConstraintError | null {
  if (ip.length !== 4 && ip.length !== 16) return SYNTAX;
  if (base.length !== 8 && base.length !== 32) return SYNTAX;
  if (ip.length * 2 !== base.length) return PERMITTED;
  for (let i = 0; i < ip.length; i++) if ((ip[i]! & base[ip.length + i]!) !== (base[i]! & base[ip.length + i]!)) return PERMITTED;
  return OK;
}

/** A name to check: its GeneralName tag and content (0xa4 with a Name DER for directoryName). */
type NameToCheck = RawGeneralName;

function effectiveType(g: NameToCheck): number {
  return g.tag === 0xa0 && g.otherOid === OID_SMTP_UTF8_MAILBOX ? 0x81 : g.tag;
}

function matchSingle(effective: number, g: NameToCheck, base: RawGeneralName): NameConstraintError | null {
  switch (g.tag) {
    case 0xa0:
      return effective === 0x81 ? ncEmailEai(g.otherValue, base.value) : 'unsupported name constraint type';
    case 0xa4:
      return ncDn(g.value, base.value);
    case 0x82:
      return ncDns(g.value, base.value);
    case 0x81:
      return ncEmail(g.value, base.value);
    case 0x86:
      return ncUri(g.value, base.value);
    case 0x87:
      return ncIp(g.value, base.value);
    default:
      return 'unsupported name constraint type';
  }
}

/** nc_match: one name against one certificate's constraints. */
function ncMatch(g: NameToCheck, nc: NameConstraintsExt): NameConstraintError | null {
  const eff = effectiveType(g);
  const sameType = (base: RawGeneralName): boolean => eff === base.tag && !(eff === 0xa0 && g.otherOid !== base.otherOid);
  let match = 0;
  for (const sub of nc.permitted) {
    if (!sameType(sub.base)) continue;
    if (!sub.minMaxValid) return 'name constraints minimum and maximum not supported';
    if (match === 2) continue;
    if (match === 0) match = 1;
    const r = matchSingle(eff, g, sub.base);
    if (r === OK) match = 2;
    else if (r !== PERMITTED) return r;
  }
  if (match === 1) return PERMITTED;
  for (const sub of nc.excluded) {
    if (!sameType(sub.base)) continue;
    if (!sub.minMaxValid) return 'name constraints minimum and maximum not supported';
    const r = matchSingle(eff, g, sub.base);
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

/** cn2dnsid: a commonName that looks like a DNS name (two labels or more), else null. */
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
  for (let i = 0; i < n; i++) {
    const c = u[i]!;
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f) continue;
    if (i > 0 && i < n - 1) {
      if (c === 0x2d) continue;
      if (c === 0x2e && u[i + 1] !== 0x2e && u[i - 1] !== 0x2d && u[i + 1] !== 0x2d) {
        isDns = true;
        continue;
      }
    }
    isDns = false;
    break;
  }
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
