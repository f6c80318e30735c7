/**
 * CloudFront's viewer mTLS headers (aws-reference 11.6): the one module that encodes what
 * CloudFront sends an origin for a client certificate and decodes what an origin received.
 * Every field format comes from the shared modules: the serial from x509/serial.ts, the
 * names from x509/dn.ts (OpenSSL RFC 2253, as ALB), the validity from x509/validity.ts,
 * the percent-encoded PEM and its decoder from alb/headers.ts.
 */
import {parseCertificate, type ParsedCertificate} from '../x509/cert.js';
import {DnSyntaxError, formatRfc2253, parseDnText} from '../x509/dn.js';
import {formatSerialColonHex} from '../x509/serial.js';
import {formatAlbValidity} from '../x509/validity.js';
import {
  type DecodedHeaderSet,
  dnText,
  encodePemForHeader,
  type HeaderField,
  type HeaderRole,
  type HeaderWarning,
  percentDecode,
  SPOOF_HINT,
  splitPemChain,
} from '../alb/headers.js';

/** CloudFront's header names, in the order its documentation lists them (aws-reference 11.6). */
export const CLOUDFRONT_HEADERS = {
  serial: 'CloudFront-Viewer-Cert-Serial-Number',
  issuer: 'CloudFront-Viewer-Cert-Issuer',
  subject: 'CloudFront-Viewer-Cert-Subject',
  present: 'CloudFront-Viewer-Cert-Present',
  sha256: 'CloudFront-Viewer-Cert-Sha256',
  validity: 'CloudFront-Viewer-Cert-Validity',
  pem: 'CloudFront-Viewer-Cert-Pem',
  clientCert: 'Client-Cert',
  clientCertChain: 'Client-Cert-Chain',
} as const;
export type CloudFrontHeaderKey = keyof typeof CLOUDFRONT_HEADERS;

/** The viewer mTLS modes (aws-reference 11.3). */
export const CLOUDFRONT_MODES = ['required', 'optional', 'passthrough'] as const;
export type CloudFrontMode = (typeof CLOUDFRONT_MODES)[number];

/**
 * How `CloudFront-Viewer-Cert-Pem` is percent-encoded. AWS's example shows only `%20` and
 * `%0A`; whether `+`, `/` and `=` are escaped is UNCONFIRMED (aws-reference 11.6), so the
 * choice is ALB's (aws-reference 1.3, only space and newline escaped) and decoding accepts both.
 */
export const CLOUDFRONT_PEM_ENCODING = 'alb' as const;

export interface EncodeCloudFrontOptions {
  mode: CloudFrontMode;
  /**
   * Origin-request headers (default true): adds Validity and, in required/optional mode,
   * Pem, which CloudFront sends only to the origin, never to cache policies or edge
   * functions (aws-reference 11.6).
   */
  originRequest?: boolean;
}

/** RFC 9440 byte sequence: `:` base64 of the DER `:`. */
export function encodeRfc9440(der: Uint8Array): string {
  return `:${Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64')}:`;
}

/** SHA-256 of the certificate's DER as CloudFront's Sha256 header writes it: 64 lower-case hex digits (aws-reference 11.6). */
export function formatCertSha256(c: ParsedCertificate): string {
  return c.sha256Fingerprint.replaceAll(':', '').toLowerCase();
}

/**
 * The headers CloudFront adds for a presented chain (leaf first), in its documented order
 * (aws-reference 11.6): Serial-Number (lower-case colon hex), Issuer and Subject (RFC 2253),
 * Present, Sha256, then on origin requests Validity and, in required/optional mode, the
 * percent-encoded PEM; in passthrough mode the leaf as `Client-Cert` and the certificates
 * after it as `Client-Cert-Chain` (RFC 9440 byte sequences; UNCONFIRMED details in 11.6).
 * An empty chain (optional or passthrough mode, no certificate) gives `Present: 0` alone.
 * @throws Error for an empty chain in required mode (CloudFront refuses that connection).
 */
export function encodeCloudFrontHeaders(chain: ParsedCertificate[], opts: EncodeCloudFrontOptions): Array<[string, string]> {
  const H = CLOUDFRONT_HEADERS;
  const leaf = chain[0];
  if (!leaf) {
    if (opts.mode === 'required') throw new Error('in required mode CloudFront refuses a viewer without a certificate, so no request reaches the origin');
    return [[H.present, '0']];
  }
  const origin = opts.originRequest ?? true;
  const out: Array<[string, string]> = [
    [H.serial, formatSerialColonHex(leaf.serial)],
    [H.issuer, formatRfc2253(leaf.issuer)],
    [H.subject, formatRfc2253(leaf.subject)],
    [H.present, '1'],
    [H.sha256, formatCertSha256(leaf)],
  ];
  if (origin) out.push([H.validity, formatAlbValidity(leaf.notBefore, leaf.notAfter)]);
  if (opts.mode === 'passthrough') {
    out.push([H.clientCert, encodeRfc9440(leaf.der)]);
    if (chain.length > 1)
      out.push([
        H.clientCertChain,
        chain
          .slice(1)
          .map((c) => encodeRfc9440(c.der))
          .join(', '),
      ]);
  } else if (origin) {
    out.push([H.pem, encodePemForHeader([leaf.der])]);
  }
  return out;
}

// ---------------------------------------------------------------------------------
// Decoding

/** Lower-cased name → the key and the role it plays in decode-header's result. */
const BY_NAME = new Map<string, {key: CloudFrontHeaderKey; role: HeaderRole}>(
  (
    [
      ['serial', 'serial'],
      ['issuer', 'issuer'],
      ['subject', 'subject'],
      ['present', 'present'],
      ['sha256', 'sha256'],
      ['validity', 'validity'],
      ['pem', 'leaf'],
      ['clientCert', 'leaf'],
      ['clientCertChain', 'chain'],
    ] as Array<[CloudFrontHeaderKey, HeaderRole]>
  ).map(([key, role]) => [CLOUDFRONT_HEADERS[key].toLowerCase(), {key, role}]),
);

/** Whether a header name is one of CloudFront's (any case). */
export function isCloudFrontHeader(name: string): boolean {
  return BY_NAME.has(name.toLowerCase());
}

/**
 * Reads an RFC 9440 byte-sequence list (`:b64:, :b64:`; one item for Client-Cert).
 * @throws Error saying which item is wrong.
 */
export function decodeRfc9440List(value: string): Uint8Array[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new Error('it is empty');
  return items.map((item, i) => {
    const m = /^:([A-Za-z0-9+/]*={0,2}):$/.exec(item);
    if (!m || m[1]!.length % 4 !== 0 || m[1]!.length === 0) {
      throw new Error(`item ${i + 1} is not an RFC 9440 byte sequence (":" base64 ":"), got "${item.slice(0, 24)}${item.length > 24 ? '...' : ''}"`);
    }
    return new Uint8Array(Buffer.from(m[1]!, 'base64'));
  });
}

const ISO_VALIDITY = /^NotBefore=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ);NotAfter=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)$/;
const COLON_HEX = /^-?[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})*$/;

/** The value's expected form for the leaf, its readable text, and whether it is well formed. */
type FieldRule = {expect: (c: ParsedCertificate) => string; text: (v: string) => string; wellFormed: (v: string) => string | undefined; caseless?: boolean};

function dnProblem(v: string): string | undefined {
  try {
    parseDnText(v);
    return undefined;
  } catch (error) {
    if (error instanceof DnSyntaxError) return `is not a distinguished name: ${error.message}`;
    throw error;
  }
}

const RULES: Partial<Record<CloudFrontHeaderKey, FieldRule>> = {
  serial: {
    expect: (c) => formatSerialColonHex(c.serial),
    text: (v) => v,
    wellFormed: (v) => (COLON_HEX.test(v) ? undefined : 'is not colon-separated hex (4a:3f:5c:92)'),
    caseless: true,
  },
  issuer: {expect: (c) => formatRfc2253(c.issuer), text: dnText, wellFormed: dnProblem},
  subject: {expect: (c) => formatRfc2253(c.subject), text: dnText, wellFormed: dnProblem},
  sha256: {
    expect: formatCertSha256,
    text: (v) => v,
    wellFormed: (v) => (/^[0-9A-Fa-f]{64}$/.test(v) ? undefined : 'is not 64 hex digits (a SHA-256)'),
    caseless: true,
  },
  validity: {
    expect: (c) => formatAlbValidity(c.notBefore, c.notAfter),
    text: (v) => {
      const m = ISO_VALIDITY.exec(v);
      return m ? `${m[1]} → ${m[2]}` : v;
    },
    wellFormed: (v) => (ISO_VALIDITY.test(v) ? undefined : 'is not NotBefore=YYYY-MM-DDTHH:MM:SSZ;NotAfter=YYYY-MM-DDTHH:MM:SSZ'),
  },
};

/** Decodes the certificates of one PEM or RFC 9440 header; a problem becomes a MALFORMED_HEADER warning. */
function readCerts(set: DecodedHeaderSet, h: HeaderField, key: CloudFrontHeaderKey, firstPosition: number): ParsedCertificate[] {
  let ders: Uint8Array[];
  try {
    ders = key === 'pem' ? splitPemChain(percentDecode(h.value)).der : decodeRfc9440List(h.value);
  } catch (error) {
    set.warnings.push({header: h.name, code: 'MALFORMED_HEADER', message: `${h.name} cannot be decoded: ${(error as Error).message}`});
    return [];
  }
  const out: ParsedCertificate[] = [];
  ders.forEach((der, i) => {
    try {
      const c = parseCertificate(der);
      out.push(c);
      set.certificates.push({header: h.name, position: firstPosition + i, certificate: c});
    } catch (error) {
      set.warnings.push({
        header: h.name,
        code: 'MALFORMED_HEADER',
        message: `${h.name} cannot be decoded: certificate ${i + 1} is not a valid X.509 certificate (${(error as Error).message})`,
      });
    }
  });
  return out;
}

/**
 * Decodes one request's CloudFront mTLS headers (names in any case): the leaf from
 * `CloudFront-Viewer-Cert-Pem` or `Client-Cert`, the rest of the chain from
 * `Client-Cert-Chain` (positions 1..n, leaf = 0), and checks Serial-Number, Issuer,
 * Subject, Sha256, Validity and Present against the leaf. Never throws for bad values:
 * each problem is a warning naming its header (MISMATCH, DUPLICATE_HEADER, MIXED_MODES,
 * MALFORMED_HEADER). Returns undefined when the set holds no CloudFront header.
 */
export function decodeCloudFrontHeaderSet(fields: HeaderField[]): DecodedHeaderSet | undefined {
  const set: DecodedHeaderSet = {mode: 'cloudfront', headers: [], certificates: [], checks: [], warnings: []};
  const byKey = new Map<CloudFrontHeaderKey, HeaderField>();
  for (const f of fields) {
    const known = BY_NAME.get(f.name.toLowerCase());
    if (!known) continue;
    set.headers.push({name: f.name, value: f.value, role: known.role});
    if (byKey.has(known.key)) {
      const w: HeaderWarning = {
        header: f.name,
        code: 'DUPLICATE_HEADER',
        message: `${f.name} appears more than once; CloudFront sends it once, so a client or proxy added a copy: ${SPOOF_HINT} (the first one is used)`,
      };
      if (!set.warnings.some((x) => x.header === w.header && x.code === w.code)) set.warnings.push(w);
      continue;
    }
    byKey.set(known.key, f);
  }
  if (set.headers.length === 0) return undefined;

  const pem = byKey.get('pem');
  const cc = byKey.get('clientCert');
  const chainH = byKey.get('clientCertChain');
  const passthrough = cc !== undefined || chainH !== undefined;
  if (pem && passthrough) {
    // aws-reference 11.6: Pem is sent in required/optional mode, Client-Cert* only in passthrough.
    const other = [cc?.name, chainH?.name].filter(Boolean).join(', ');
    set.warnings.push({
      header: `${pem.name}, ${other}`,
      code: 'MIXED_MODES',
      message: `${pem.name} came with ${other}; CloudFront sends the PEM in required and optional mode and Client-Cert only in passthrough mode: ${SPOOF_HINT}`,
    });
  }
  let leaf: ParsedCertificate | undefined;
  if (pem) leaf = readCerts(set, pem, 'pem', 0)[0];
  if (cc) {
    const c = readCerts(set, cc, 'clientCert', 0)[0];
    if (leaf && c && Buffer.compare(leaf.der, c.der) !== 0)
      set.warnings.push({header: cc.name, code: 'MISMATCH', message: `${cc.name} is not the certificate in ${pem!.name}: ${SPOOF_HINT}`});
    leaf ??= c;
  }
  if (chainH) readCerts(set, chainH, 'clientCertChain', 1);

  for (const [key, h] of byKey) {
    const rule = RULES[key];
    if (rule) {
      const problem = rule.wellFormed(h.value);
      if (problem) set.warnings.push({header: h.name, code: 'MALFORMED_HEADER', message: `${h.name} "${h.value}" ${problem}`});
      const expected = leaf ? rule.expect(leaf) : null;
      const matches = expected === null ? null : h.value === expected || (rule.caseless === true && h.value.toLowerCase() === expected);
      if (matches === false)
        set.warnings.push({header: h.name, code: 'MISMATCH', message: `${h.name} is "${h.value}" but the leaf certificate's is "${expected}": ${SPOOF_HINT}`});
      set.checks.push({header: h.name, role: BY_NAME.get(h.name.toLowerCase())!.role, value: h.value, text: rule.text(h.value), expected, matches});
    } else if (key === 'present') {
      if (h.value !== '0' && h.value !== '1') set.warnings.push({header: h.name, code: 'MALFORMED_HEADER', message: `${h.name} "${h.value}" is not 0 or 1`});
      // With a certificate (or its fields) in the set, Present must say 1; "0" next to one is an edit.
      const hasCert = set.certificates.length > 0 || (['serial', 'issuer', 'subject', 'sha256'] as const).some((k) => byKey.has(k));
      const expected = hasCert ? '1' : null;
      const matches = expected === null ? null : h.value === expected;
      if (matches === false)
        set.warnings.push({
          header: h.name,
          code: 'MISMATCH',
          message: `${h.name} is "${h.value}" but a client certificate came with the request: ${SPOOF_HINT}`,
        });
      set.checks.push({
        header: h.name,
        role: 'present',
        value: h.value,
        text: h.value === '1' ? 'certificate presented' : h.value === '0' ? 'no certificate' : h.value,
        expected,
        matches,
      });
    }
  }
  set.mode = passthrough ? 'cloudfront-passthrough' : 'cloudfront';
  return set;
}
