/**
 * What a certificate mtls-kit issues may name: the one set of rules for subject attributes
 * and SANs, whether they come from gen-client's flags or are copied from a CSR by sign
 * (which decodes the request's subject and SANs, checks them here, and re-encodes what it
 * accepts in DER with encodeName, as mtls-kit writes names).
 *
 * May import: ../errors.ts and this folder.
 */
import {MtlsKitError, usageError} from '../errors.js';
import {type NameAttribute, nameAttributes} from './dn.js';
import {children, content, readTlv, TAG, type Tlv} from './der.js';
import {sanProblem, type SanInput} from './san-input.js';

/** One attribute in DER order, with an explicit string type (re-exported by names.ts). */
export interface NameEntry {
  type: string;
  value: string;
}

/**
 * Bounds on a name (our choice where RFC 5280 sets none; it sets the per-attribute upper
 * bounds of Appendix A below): no client certificate needs more than a handful of RDNs.
 */
export const NAME_LIMITS = {maxRdns: 16, maxAttributesPerRdn: 4, maxSans: 64, maxOtherLength: 256} as const;

/** RFC 5280 Appendix A upper bounds (ub-*) by attribute OID; others get NAME_LIMITS.maxOtherLength. */
const UPPER_BOUNDS: Record<string, number> = {
  '2.5.4.3': 64, // commonName
  '2.5.4.4': 40, // surname (ub-surname... X.520 ub-name 32768; 40 as OpenSSL's table)
  '2.5.4.5': 64, // serialNumber
  '2.5.4.6': 2, // countryName
  '2.5.4.7': 128, // localityName
  '2.5.4.8': 128, // stateOrProvinceName
  '2.5.4.10': 64, // organizationName
  '2.5.4.11': 64, // organizationalUnitName
  '2.5.4.12': 64, // title
  '1.2.840.113549.1.9.1': 255, // emailAddress
  '0.9.2342.19200300.100.1.25': 63, // domainComponent: one DNS label
};

/** IA5String attributes: ASCII only. */
const IA5_ONLY = new Set(['1.2.840.113549.1.9.1', '0.9.2342.19200300.100.1.25']);

const ATTRIBUTE_LABELS: Record<string, string> = {'2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU'};

/** A short name for an attribute in messages (CN, O, ... or the OID). */
export function attributeLabel(oid: string): string {
  return ATTRIBUTE_LABELS[oid] ?? oid;
}

/** The first character a name or SAN value may not hold (C0, DEL, C1 controls, NUL), as U+XXXX. */
export function controlCharacterIn(value: string): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  const m = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.exec(value);
  return m ? `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` : undefined;
}

/**
 * Why one subject attribute cannot be issued, or undefined.
 * Rules: not empty; no control characters, NUL or bidi overrides; within the RFC 5280
 * upper bound; C two letters; emailAddress and DC ASCII.
 */
export function nameEntryProblem(e: NameEntry): string | undefined {
  if (e.value === '') return 'it is empty';
  const ctl = controlCharacterIn(e.value);
  if (ctl) return `it contains the control character ${ctl}`;
  if (e.value.includes('\uFFFD')) return 'it is not valid text in its declared encoding';
  const ub = UPPER_BOUNDS[e.type] ?? NAME_LIMITS.maxOtherLength;
  const len = [...e.value].length;
  if (len > ub) return `it is ${len} characters long; at most ${ub} are allowed`;
  if (e.type === '2.5.4.6' && !/^[A-Za-z]{2}$/.test(e.value)) return 'a country is a two-letter ISO 3166 code';
  if (IA5_ONLY.has(e.type) && !/^[\x20-\x7e]+$/.test(e.value)) return 'it must be ASCII';
  return undefined;
}

/**
 * Checks a whole subject (from flags or a CSR): RDN count, attributes per RDN, each attribute.
 * @returns the first problem as `field: why`, or undefined.
 */
export function subjectProblem(rdns: NameEntry[][]): string | undefined {
  if (rdns.length > NAME_LIMITS.maxRdns) return `subject: it has ${rdns.length} RDNs; at most ${NAME_LIMITS.maxRdns} are allowed`;
  for (const rdn of rdns) {
    if (rdn.length === 0) return 'subject: an RDN is empty';
    if (rdn.length > NAME_LIMITS.maxAttributesPerRdn)
      return `subject: an RDN has ${rdn.length} attributes; at most ${NAME_LIMITS.maxAttributesPerRdn} are allowed`;
    for (const e of rdn) {
      const p = nameEntryProblem(e);
      if (p) return `subject ${attributeLabel(e.type)} "${e.value.slice(0, 40)}": ${p}`;
    }
  }
  return undefined;
}

/**
 * Checks subject attributes given as flags.
 * @throws MtlsKitError BAD_SUBJECT (exit 2) naming the field.
 */
export function assertSubjectFlags(rdns: NameEntry[][]): NameEntry[][] {
  const p = subjectProblem(rdns);
  if (p) throw usageError('BAD_SUBJECT', p, ['use printable text within the length limits (CN up to 64 characters)']);
  return rdns;
}

function csrFieldError(source: string, field: string): MtlsKitError {
  return new MtlsKitError({
    code: 'CSR_BAD_FIELD',
    message: `${source}: ${field}; nothing was signed`,
    suggestions: ['make the request again with a valid subject and SANs, or override them with --cn/--subject and --san'],
  });
}

const utf8 = new TextDecoder('utf-8', {fatal: true});

/** Decodes a directory string by its tag; undefined for types a name may not use here. */
function decodeDirectoryString(a: NameAttribute): string | undefined {
  const v = a.value;
  try {
    switch (a.tag) {
      case TAG.UTF8String:
        return utf8.decode(v);
      case TAG.PrintableString:
      case TAG.IA5String:
        return [...v].every((b) => b < 0x80) ? Buffer.from(v).toString('latin1') : undefined;
      case TAG.NumericString:
      case TAG.VisibleString:
        return [...v].every((b) => b < 0x80) ? Buffer.from(v).toString('latin1') : undefined;
      case TAG.T61String: // treated as Latin-1, as OpenSSL does
        return Buffer.from(v).toString('latin1');
      case TAG.BMPString: {
        // BMPString: UCS-2 big-endian
        if (v.length % 2) return undefined;
        let s = '';
        for (let i = 0; i < v.length; i += 2) s += String.fromCharCode((v[i]! << 8) | v[i + 1]!);
        return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s) ? undefined : s;
      }
      case TAG.UniversalString: {
        // UniversalString: UCS-4 big-endian
        if (v.length % 4) return undefined;
        let s = '';
        for (let i = 0; i < v.length; i += 4) {
          const cp = ((v[i]! << 24) | (v[i + 1]! << 16) | (v[i + 2]! << 8) | v[i + 3]!) >>> 0;
          if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
          s += String.fromCodePoint(cp);
        }
        return s;
      }
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

/**
 * Decodes a CSR's subject (DER or BER as the request holds it) into attributes, checks
 * them with the rules gen-client's flags follow, and returns them for encodeName.
 * @throws MtlsKitError CSR_BAD_FIELD (exit 4) naming the field and why.
 */
export function subjectFromRequest(nameDer: Uint8Array, source: string): NameEntry[][] {
  let attrs: NameAttribute[];
  let setCount: number;
  try {
    const seq = readTlv(nameDer, 0);
    setCount = children(seq).length;
    if (setCount > NAME_LIMITS.maxRdns) throw csrFieldError(source, `subject: it has ${setCount} RDNs; at most ${NAME_LIMITS.maxRdns} are allowed`);
    attrs = nameAttributes(seq);
  } catch (error) {
    if (error instanceof MtlsKitError) throw error;
    throw csrFieldError(source, `subject: it is not a valid DER Name (${(error as Error).message})`);
  }
  const rdns: NameEntry[][] = Array.from({length: setCount}, () => []);
  for (const a of attrs) {
    const value = decodeDirectoryString(a);
    if (value === undefined)
      throw csrFieldError(source, `subject ${attributeLabel(a.oid)}: its string type (tag ${a.tag}) or encoding is not one a name may use`);
    rdns[a.set]!.push({type: a.oid, value});
  }
  const p = subjectProblem(rdns);
  if (p) throw csrFieldError(source, p);
  return rdns;
}

/**
 * The SANs of a request's subjectAltName extension that mtls-kit issues (DNS, IP, email,
 * URI), checked with the rules of gen-client's --san; other types are returned in `other`
 * (stripped and reported by the caller).
 * @throws MtlsKitError CSR_BAD_FIELD (exit 4) naming the SAN and why.
 */
export function sansFromRequest(sanExtension: Tlv, source: string): {sans: SanInput[]; other: Array<'dirName' | 'otherName'>} {
  const sans: SanInput[] = [];
  const other: Array<'dirName' | 'otherName'> = [];
  const names = children(sanExtension);
  if (names.length > NAME_LIMITS.maxSans) throw csrFieldError(source, `subjectAltName: ${names.length} names; at most ${NAME_LIMITS.maxSans} are allowed`);
  for (const g of names) {
    const v = content(g);
    const ascii = (): string => {
      if (![...v].every((b) => b >= 0x20 && b < 0x7f)) {
        const bad = [...v].find((b) => b < 0x20 || b >= 0x7f)!;
        throw csrFieldError(source, `subjectAltName: a name contains the byte 0x${bad.toString(16).padStart(2, '0')} (an IA5String SAN is printable ASCII)`);
      }
      return Buffer.from(v).toString('latin1');
    };
    let s: SanInput;
    switch (g.tag) {
      case 0x82:
        s = {type: 'dns', value: ascii()};
        break;
      case 0x81:
        s = {type: 'email', value: ascii()};
        break;
      case 0x86:
        s = {type: 'url', value: ascii()};
        break;
      case 0x87: {
        // RFC 5280 4.2.1.6: four octets (IPv4) or sixteen (IPv6); a SAN holds no mask.
        if (v.length !== 4 && v.length !== 16) throw csrFieldError(source, `subjectAltName IP: ${v.length} bytes; an IP address is 4 (IPv4) or 16 (IPv6)`);
        const value = v.length === 4 ? [...v].join('.') : Array.from({length: 8}, (_, i) => ((v[2 * i]! << 8) | v[2 * i + 1]!).toString(16)).join(':');
        s = {type: 'ip', value};
        break;
      }
      case 0xa4:
        other.push('dirName');
        continue;
      default:
        other.push('otherName');
        continue;
    }
    const p = sanProblem(s);
    if (p) throw csrFieldError(source, `subjectAltName ${{dns: 'DNS', ip: 'IP', url: 'URI', email: 'email'}[s.type]} "${s.value.slice(0, 60)}": ${p}`);
    sans.push(s);
  }
  return {sans, other};
}
