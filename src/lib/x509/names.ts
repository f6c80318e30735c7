/**
 * Building subject names from flags or DN strings (the input side; dn.ts renders).
 */
import {usageError} from '../errors.js';
import {assertSubjectFlags, type NameEntry} from './name-rules.js';

export interface SubjectFields {
  cn?: string;
  org?: string;
  ou?: string;
  country?: string;
  state?: string;
  locality?: string;
  /** A whole DN: RFC 2253 (`CN=a,O=b,C=US`, most specific first) or OpenSSL slash form (`/C=US/O=b/CN=a`). */
  subject?: string;
}

export type {NameEntry} from './name-rules.js';

const LABELS: Record<string, string> = {
  CN: '2.5.4.3',
  SN: '2.5.4.4',
  SERIALNUMBER: '2.5.4.5',
  C: '2.5.4.6',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  S: '2.5.4.8',
  STREET: '2.5.4.9',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  TITLE: '2.5.4.12',
  POSTALCODE: '2.5.4.17',
  GN: '2.5.4.42',
  GIVENNAME: '2.5.4.42',
  INITIALS: '2.5.4.43',
  ORGANIZATIONIDENTIFIER: '2.5.4.97',
  EMAILADDRESS: '1.2.840.113549.1.9.1',
  E: '1.2.840.113549.1.9.1',
  UID: '0.9.2342.19200300.100.1.1',
  DC: '0.9.2342.19200300.100.1.25',
};

function oidFor(label: string, dn: string): string {
  if (/^\d+(\.\d+)+$/.test(label)) return label;
  const oid = LABELS[label.toUpperCase()];
  if (!oid) {
    throw usageError('BAD_SUBJECT', `unknown attribute "${label}" in subject "${dn}"`, [`use one of ${Object.keys(LABELS).join(', ')} or a dotted OID`]);
  }
  return oid;
}

/** Splits on an unescaped separator. */
function splitUnescaped(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '\\' && i + 1 < s.length) {
      cur += ch + s[i + 1]!;
      i++;
    } else if (ch === sep) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts;
}

function unescapeDnValue(v: string): string {
  const bytes: number[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < v.length; i++) {
    const ch = v[i]!;
    if (ch === '\\' && i + 1 < v.length) {
      const hex = v.slice(i + 1, i + 3);
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        bytes.push(Number.parseInt(hex, 16));
        i += 2;
        continue;
      }
      bytes.push(...enc.encode(v[i + 1]!));
      i++;
      continue;
    }
    bytes.push(...enc.encode(ch));
  }
  return new TextDecoder().decode(Uint8Array.from(bytes));
}

/**
 * Parses a DN string into RDNs in DER order (least specific first).
 * `/C=US/O=x/CN=y` is already in DER order; `CN=y,O=x,C=US` (RFC 2253) is reversed.
 * `+` joins a multi-valued RDN in either form.
 * @throws MtlsKitError BAD_SUBJECT (exit 2).
 */
export function parseDnString(dn: string): NameEntry[][] {
  const s = dn.trim();
  if (s === '') return [];
  const slash = s.startsWith('/');
  const rdnStrings = slash ? splitUnescaped(s.slice(1), '/') : splitUnescaped(s, ',');
  const rdns = rdnStrings
    .map((r) => r.trim())
    .filter((r) => r !== '')
    .map((r) =>
      splitUnescaped(r, '+').map((atv) => {
        const eq = atv.indexOf('=');
        if (eq <= 0)
          throw usageError('BAD_SUBJECT', `"${atv}" in subject "${dn}" is not of the form NAME=value`, ['example: --subject "CN=device-1,O=Acme,C=US"']);
        return {type: oidFor(atv.slice(0, eq).trim(), dn), value: unescapeDnValue(atv.slice(eq + 1))};
      }),
    );
  return slash ? rdns : rdns.reverse();
}

/**
 * The subject from `--subject`, or from the separate flags in the usual DER order
 * C, ST, L, O, OU, CN.
 * @throws MtlsKitError BAD_SUBJECT when nothing names the subject, or C is not 2 letters.
 */
export function subjectFromFields(f: SubjectFields): NameEntry[][] {
  if (f.subject !== undefined) {
    const rdns = parseDnString(f.subject);
    if (rdns.length === 0) throw usageError('BAD_SUBJECT', 'the subject is empty', ['give --cn or a non-empty --subject']);
    return assertSubjectFlags(rdns);
  }
  if (f.country !== undefined && !/^[A-Za-z]{2}$/.test(f.country)) {
    throw usageError('BAD_SUBJECT', `--country "${f.country}" is not a two-letter ISO 3166 code`, ['example: --country US']);
  }
  const order: Array<[keyof SubjectFields, string]> = [
    ['country', '2.5.4.6'],
    ['state', '2.5.4.8'],
    ['locality', '2.5.4.7'],
    ['org', '2.5.4.10'],
    ['ou', '2.5.4.11'],
    ['cn', '2.5.4.3'],
  ];
  const rdns = order.filter(([k]) => f[k] !== undefined && f[k] !== '').map(([k, type]) => [{type, value: f[k] as string}]);
  if (rdns.length === 0)
    throw usageError('BAD_SUBJECT', 'no subject given', ['give --cn NAME (and optionally --org, --ou, --country, ...) or --subject "CN=...,O=..."']);
  // The same rules sign applies to a CSR's subject (name-rules.ts).
  return assertSubjectFlags(rdns);
}

/** Expands a fleet template: `{n}` is the 1-based index, `{n:4}` zero-padded to 4. */
export function expandTemplate(template: string, n: number): string {
  return template.replace(/\{n(?::(\d+))?\}/g, (_m, pad: string | undefined) => (pad ? String(n).padStart(Number(pad), '0') : String(n)));
}
