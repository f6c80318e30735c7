/**
 * The mTLS request headers: the one module that encodes what ALB and API Gateway send
 * (aws-reference 1 and 6) and decodes what a backend received, checking that the headers
 * of one request describe one certificate.
 */
import {parseCertificate, type ParsedCertificate} from '../x509/cert.js';
import {DnSyntaxError, formatApigwDn, formatClientCertSub, formatNodeName, formatRfc2253, parseDnText} from '../x509/dn.js';
import {usageError} from '../errors.js';
import {remember} from '../memo.js';
import {toPem} from '../x509/pem.js';
import {formatAlbValidity, formatApigwDate} from '../x509/validity.js';

/** ALB's header names (aws-reference 1.2), keyed as `--header-map` names them. */
export const ALB_HEADERS = {
  serial: 'X-Amzn-Mtls-Clientcert-Serial-Number',
  issuer: 'X-Amzn-Mtls-Clientcert-Issuer',
  subject: 'X-Amzn-Mtls-Clientcert-Subject',
  validity: 'X-Amzn-Mtls-Clientcert-Validity',
  leaf: 'X-Amzn-Mtls-Clientcert-Leaf',
  chain: 'X-Amzn-Mtls-Clientcert',
} as const;
export type AlbHeaderKey = keyof typeof ALB_HEADERS;
/** Renamed header names (ALB header modification, aws-reference 1.8). */
export type HeaderMap = Partial<Record<AlbHeaderKey, string>>;

/** The verify-mode headers in the order ALB documents them (aws-reference 1.2). */
export const VERIFY_KEYS: readonly AlbHeaderKey[] = ['serial', 'issuer', 'subject', 'validity', 'leaf'];

/** The seed sample's header (aws-samples/api-gateway-certificate-propagation, aws-reference 6.2). */
export const CLIENT_CERT_SUB_HEADER = 'X-Client-Cert-Sub';

/** The header name for a key, after renames. */
export function headerName(key: AlbHeaderKey, map?: HeaderMap): string {
  return map?.[key] ?? ALB_HEADERS[key];
}

// ---------------------------------------------------------------------------------
// Encoding

/**
 * PEM of the certificates, percent-encoded as ALB sends `-Leaf` and `-Clientcert`
 * (aws-reference 1.3): `encodeURIComponent` with `+`, `=` and `/` left as they are, so in
 * practice only spaces (`%20`) and newlines (`%0A`) are escaped; ends with `%0A`.
 */
export function encodePemForHeader(der: Uint8Array[]): string {
  const pem = der.map((d) => toPem(d, 'CERTIFICATE')).join('');
  // toPem writes base64 characters, '-', ' ' and '\n' only. Of those, encodeURIComponent
  // escapes ' ', '\n', '+', '=' and '/', and ALB leaves the last three as they are, so only
  // ' ' and '\n' change (test/headers.test.ts checks this against encodeURIComponent). Once
  // per connection, and it was 2% of serve's CPU with a new connection per request (issue 22).
  return pem.replaceAll(' ', '%20').replaceAll('\n', '%0A');
}

/**
 * The five headers ALB sends in verify mode, in its order: serial (uppercase hex),
 * issuer and subject (OpenSSL RFC 2253), validity, leaf (aws-reference 1.2-1.6).
 */
export function encodeVerifyHeaders(leaf: ParsedCertificate, map?: HeaderMap): Array<[string, string]> {
  return [
    [headerName('serial', map), leaf.serialHex],
    [headerName('issuer', map), formatRfc2253(leaf.issuer)],
    [headerName('subject', map), formatRfc2253(leaf.subject)],
    [headerName('validity', map), formatAlbValidity(leaf.notBefore, leaf.notAfter)],
    [headerName('leaf', map), encodePemForHeader([leaf.der])],
  ];
}

/** ALB's passthrough header: the chain as presented, leaf first (aws-reference 1.1, 1.3). */
export function encodePassthroughHeader(chainDer: Uint8Array[], map?: HeaderMap): [string, string] {
  return [headerName('chain', map), encodePemForHeader(chainDer)];
}

/** API Gateway's `clientCert` object (aws-reference 6.1). */
export interface ApigwClientCert {
  clientCertPem: string;
  subjectDN: string;
  issuerDN: string;
  serialNumber: string;
  validity: {notBefore: string; notAfter: string};
}

/**
 * API Gateway's `requestContext.identity.clientCert` (REST) / `.authentication.clientCert`
 * (HTTP API) for a leaf (aws-reference 6.1): real PEM, forward-order DNs, OpenSSL date text.
 * The serial is decimal, as in AWS's blog example (`"1"`); its exact format is
 * UNCONFIRMED (aws-reference 7.11), and decoding accepts decimal, hex and colon hex.
 */
export function encodeApigwClientCert(leaf: ParsedCertificate): ApigwClientCert {
  return {
    clientCertPem: toPem(leaf.der, 'CERTIFICATE'),
    subjectDN: formatApigwDn(leaf.subject),
    issuerDN: formatApigwDn(leaf.issuer),
    serialNumber: serialDecimal(leaf.serial),
    validity: {notBefore: formatApigwDate(leaf.notBefore), notAfter: formatApigwDate(leaf.notAfter)},
  };
}

/** The seed sample's `X-Client-Cert-Sub` header for a leaf (aws-reference 6.2). */
export function encodeClientCertSub(leaf: ParsedCertificate): [string, string] {
  return [CLIENT_CERT_SUB_HEADER, formatClientCertSub(leaf.subject)];
}

function serialDecimal(integerContent: Uint8Array): string {
  let v = 0n;
  for (const b of integerContent) v = (v << 8n) | BigInt(b);
  if (integerContent.length && integerContent[0]! & 0x80) v -= 1n << BigInt(integerContent.length * 8);
  return v.toString(10);
}

export type EncodeMode = 'verify' | 'passthrough' | 'apigw';

export interface EncodedHeaders {
  mode: EncodeMode;
  /** The HTTP headers, in the order AWS sends them. */
  headers: Array<[string, string]>;
  /** API Gateway's clientCert object (apigw mode only). */
  clientCert?: ApigwClientCert;
}

/**
 * What AWS sends for a presented chain (leaf first): verify mode's five headers for the
 * leaf, passthrough's chain header, or API Gateway's clientCert plus the seed sample's
 * X-Client-Cert-Sub header.
 */
export function encodeHeaders(chain: ParsedCertificate[], mode: EncodeMode, map?: HeaderMap): EncodedHeaders {
  const leaf = chain[0]!;
  if (mode === 'passthrough')
    return {
      mode,
      headers: [
        encodePassthroughHeader(
          chain.map((c) => c.der),
          map,
        ),
      ],
    };
  if (mode === 'apigw') return {mode, headers: [encodeClientCertSub(leaf)], clientCert: encodeApigwClientCert(leaf)};
  return {mode, headers: encodeVerifyHeaders(leaf, map)};
}

// ---------------------------------------------------------------------------------
// --header-map

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Parses `--header-map` values. Syntax: `KEY=New-Header-Name`, several per value
 * separated by commas, or the flag repeated. KEY is one of serial, issuer, subject,
 * validity, leaf, chain; or the original header name (`X-Amzn-Mtls-Clientcert-Leaf`);
 * or ALB's listener attribute key (`routing.http.request.x_amzn_mtls_clientcert_leaf.header_name`,
 * aws-reference 1.8), so `describe-listener-attributes` output can be pasted as it is.
 * @throws MtlsKitError BAD_HEADER_MAP (exit 2) naming the bad entry.
 */
export function parseHeaderMap(specs: string[]): HeaderMap {
  const map: HeaderMap = {};
  for (const entry of specs
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = entry.indexOf('=');
    const key = eq > 0 ? headerKeyFor(entry.slice(0, eq).trim()) : undefined;
    const name = eq > 0 ? entry.slice(eq + 1).trim() : '';
    if (!key || !TOKEN.test(name)) {
      throw usageError('BAD_HEADER_MAP', `--header-map "${entry}" is not KEY=Header-Name`, [
        'KEY is serial, issuer, subject, validity, leaf or chain (or the original header name, or the ALB attribute key routing.http.request.x_amzn_mtls_clientcert_leaf.header_name); e.g. --header-map leaf=X-Client-Leaf,subject=X-Client-Subject',
      ]);
    }
    map[key] = name;
  }
  return map;
}

function headerKeyFor(label: string): AlbHeaderKey | undefined {
  const l = label.toLowerCase();
  for (const [k, v] of Object.entries(ALB_HEADERS) as Array<[AlbHeaderKey, string]>) {
    if (l === k || l === v.toLowerCase() || l === `routing.http.request.${v.toLowerCase().replaceAll('-', '_')}.header_name`) return k;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------
// Decoding

/** One header as received (name as written, value after the `:`). */
export interface HeaderField {
  name: string;
  value: string;
}

/**
 * What a recognised header carries. The apigw* roles are API Gateway's clientCert fields;
 * `present` and `sha256` are CloudFront's (src/lib/cloudfront/headers.ts, which reuses the others).
 */
export type HeaderRole =
  | AlbHeaderKey
  | 'clientCertSub'
  | 'apigwPem'
  | 'apigwSubject'
  | 'apigwIssuer'
  | 'apigwSerial'
  | 'apigwNotBefore'
  | 'apigwNotAfter'
  | 'present'
  | 'sha256';

/** `cloudfront` / `cloudfront-passthrough`: sets decoded by src/lib/cloudfront/headers.ts. */
export type HeaderSetMode = 'verify' | 'passthrough' | 'apigw' | 'client-cert-sub' | 'cloudfront' | 'cloudfront-passthrough';

export type HeaderWarningCode = 'MISMATCH' | 'DUPLICATE_HEADER' | 'MIXED_MODES' | 'MALFORMED_HEADER' | 'FORM_DECODED' | 'BASE64_VALUE';

/** A problem with one header, naming it. */
export interface HeaderWarning {
  header: string;
  code: HeaderWarningCode;
  message: string;
}

/** A certificate decoded from a header, with where it came from. */
export interface DecodedCertificate {
  header: string;
  /** 0-based position in that header (0 = leaf in a chain). */
  position: number;
  certificate: ParsedCertificate;
}

/** A text field (serial, DN, validity) compared with the leaf. */
export interface FieldCheck {
  header: string;
  role: HeaderRole;
  value: string;
  /** Readable form: the DN's attributes with escapes undone, the validity dates, ... */
  text: string;
  /** What the leaf certificate says in this header's format; null without a leaf. */
  expected: string | null;
  /** null when there was no leaf to compare with. */
  matches: boolean | null;
}

export interface DecodedHeaderSet {
  mode: HeaderSetMode;
  headers: Array<HeaderField & {role: HeaderRole}>;
  /** Leaf first: the verify leaf or chain[0], then the rest of the chain. */
  certificates: DecodedCertificate[];
  checks: FieldCheck[];
  warnings: HeaderWarning[];
}

export interface DecodeHeadersOptions {
  map?: HeaderMap;
}

/** The warning text the issue asks for: every mismatch ends with it. */
export const SPOOF_HINT = 'these headers do not describe the same certificate: edited or spoofed?';

const APIGW_ROLES: Record<string, HeaderRole> = {
  clientcertpem: 'apigwPem',
  subjectdn: 'apigwSubject',
  issuerdn: 'apigwIssuer',
  serialnumber: 'apigwSerial',
  'validity.notbefore': 'apigwNotBefore',
  'validity.notafter': 'apigwNotAfter',
};

/** Lower-cased header name → role, for a header map. */
function roleTable(map?: HeaderMap): Map<string, HeaderRole> {
  const t = new Map<string, HeaderRole>();
  for (const k of Object.keys(ALB_HEADERS) as AlbHeaderKey[]) t.set(headerName(k, map).toLowerCase(), k);
  t.set(CLIENT_CERT_SUB_HEADER.toLowerCase(), 'clientCertSub');
  return t;
}

const defaultRoles = roleTable();

/** Names as written → role (or null), per role table: the same names repeat on every request. */
const seenNames = new WeakMap<Map<string, HeaderRole>, Map<string, HeaderRole | null>>();

function roleIn(roles: Map<string, HeaderRole>, name: string): HeaderRole | undefined {
  let seen = seenNames.get(roles);
  if (!seen) {
    seen = new Map();
    seenNames.set(roles, seen);
  }
  const known = seen.get(name);
  if (known !== undefined) return known ?? undefined;
  const l = name.toLowerCase();
  // API Gateway fields arrive as paths: requestContext.identity.clientCert.subjectDN, ...
  const i = l.lastIndexOf('clientcert.');
  const r = roles.get(l) ?? (i >= 0 ? APIGW_ROLES[l.slice(i + 11)] : undefined);
  if (seen.size < 1024) seen.set(name, r ?? null);
  return r;
}

/**
 * Percent-decodes a header value as ALB's targets must (aws-reference 1.3): `%XX` escapes
 * become bytes (UTF-8), `+` stays `+` (never a space), and `%3D` and a literal `=` are
 * both fine. Values without `%` are returned as they are.
 * @throws Error naming the bad escape.
 */
export function percentDecode(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    const bad = /%(?![0-9A-Fa-f]{2})/.exec(value);
    throw new Error(
      bad ? `bad percent-escape "${value.slice(bad.index, bad.index + 3)}" at character ${bad.index + 1}` : 'its percent-escapes are not valid UTF-8',
    );
  }
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

/** Result of splitting a PEM header value. */
export interface SplitPemResult {
  der: Uint8Array[];
  /** Number of spaces inside base64 that were put back as `+` (form-decoding damage). */
  repairedPluses: number;
}

/**
 * Splits a PEM chain (already percent-decoded) into DER certificates, in order.
 * A space inside base64 can only be a `+` that a form decoder turned into a space
 * (aws-reference 1.3), so it is put back and counted.
 * @throws Error saying which certificate is wrong and how.
 */
export function splitPemChain(text: string): SplitPemResult {
  const der: Uint8Array[] = [];
  let repairedPluses = 0;
  for (const m of text.matchAll(PEM_BLOCK)) {
    let body = m[1]!.replace(/[\r\n\t]/g, '');
    const spaces = body.includes(' ') ? body.split(' ').length - 1 : 0;
    if (spaces) {
      body = body.replaceAll(' ', '+');
      repairedPluses += spaces;
    }
    // Node's decoder skips characters that are not base64, so a short result means some
    // were there (cheaper than a regex over the whole body, which runs per request).
    const bytes = body.length % 4 === 0 ? Buffer.from(body, 'base64') : undefined;
    const pad = body.endsWith('==') ? 2 : body.endsWith('=') ? 1 : 0;
    if (!bytes || body.length === 0 || bytes.length !== (body.length / 4) * 3 - pad) {
      throw new Error(`certificate ${der.length + 1} is not base64 (${body.length ? `"${body.slice(0, 24)}..."` : 'empty'})`);
    }
    der.push(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
  }
  if (der.length === 0) throw new Error(text.includes('BEGIN') ? 'a BEGIN CERTIFICATE line has no END line' : 'it holds no -----BEGIN CERTIFICATE----- block');
  return {der, repairedPluses};
}

const FORM_DECODED_HELP =
  'it was form-decoded before it got here: each "+" of the base64 became a space (URLSearchParams, querystring.parse, ' +
  "Python unquote_plus, Go QueryUnescape and Java URLDecoder do this); decode ALB's headers with decodeURIComponent / unquote / PathUnescape";

interface Ctx {
  set: DecodedHeaderSet;
  leaf: ParsedCertificate | undefined;
}

function warnOnce(ctx: Ctx, w: HeaderWarning): void {
  if (!ctx.set.warnings.some((x) => x.header === w.header && x.code === w.code)) ctx.set.warnings.push(w);
}

/** Decodes a PEM-carrying header into certificates; problems become warnings. */
function decodePemHeader(ctx: Ctx, h: HeaderField, urlEncoded: boolean): ParsedCertificate[] {
  let text: string;
  try {
    text = urlEncoded ? percentDecode(h.value) : h.value;
  } catch (error) {
    warnOnce(ctx, {header: h.name, code: 'MALFORMED_HEADER', message: `${h.name} cannot be decoded: ${(error as Error).message}`});
    return [];
  }
  let split: SplitPemResult;
  try {
    split = splitPemChain(text);
  } catch (error) {
    warnOnce(ctx, {header: h.name, code: 'MALFORMED_HEADER', message: `${h.name} cannot be decoded: ${(error as Error).message}`});
    return [];
  }
  if (split.repairedPluses) {
    ctx.set.warnings.push({
      header: h.name,
      code: 'FORM_DECODED',
      message: `${h.name}: ${FORM_DECODED_HELP}; ${split.repairedPluses} space${split.repairedPluses === 1 ? ' was' : 's were'} put back as "+"`,
    });
  }
  const certs: ParsedCertificate[] = [];
  split.der.forEach((der, i) => {
    try {
      const c = parseCertificate(der);
      certs.push(c);
      ctx.set.certificates.push({header: h.name, position: i, certificate: c});
    } catch (error) {
      warnOnce(ctx, {
        header: h.name,
        code: 'MALFORMED_HEADER',
        message: `${h.name} cannot be decoded: certificate ${i + 1} is not a valid X.509 certificate (${(error as Error).message})`,
      });
    }
  });
  return certs;
}

/**
 * Readable text of a DN string: attributes with escapes undone, `, ` between RDNs, and
 * values that hold a separator, a quote or edge spaces in double quotes
 * (`CN="MÄNNIK,MARILIIS", C=EE`); the string itself if it does not parse.
 */
export function dnText(dn: string): string {
  return readDn(dn).text;
}

/** dnText, and the reason when the string is not a DN. Memoized: the same issuer (and often subject) comes with every request of a capture. */
function readDn(dn: string): {text: string; error?: string} {
  return remember(dnMemo, dn, 4096, readDnUncached, dn);
}

const dnMemo = new Map<string, {text: string; error?: string}>();

/** A DN value for reading: quoted when it holds a separator, a quote or edge spaces. */
function showDnValue(v: string): string {
  return /[,+;"]|^\s|\s$|^$/.test(v) ? JSON.stringify(v) : v;
}

function readDnUncached(dn: string): {text: string; error?: string} {
  try {
    const text = parseDnText(dn)
      .map((rdn) => rdn.map((a) => `${a.label}=${showDnValue(a.text)}`).join(' + '))
      .join(', ');
    return {text};
  } catch (error) {
    if (error instanceof DnSyntaxError) return {text: dn, error: error.message};
    throw error;
  }
}

/** Readable text of a DN header; a value that is not a DN is a MALFORMED_HEADER warning. */
function dnField(ctx: Ctx, h: HeaderField): string {
  const r = readDn(h.value);
  if (r.error) warnOnce(ctx, {header: h.name, code: 'MALFORMED_HEADER', message: `${h.name} "${h.value}" is not a distinguished name: ${r.error}`});
  return r.text;
}

/** Records a field check and its mismatch warning. `alternatives` are other accepted forms. */
function check(
  ctx: Ctx,
  h: HeaderField,
  role: HeaderRole,
  text: string,
  expected: ((c: ParsedCertificate) => string) | undefined,
  alternatives: Array<(c: ParsedCertificate) => string> = [],
): void {
  const leaf = ctx.leaf;
  const exp = leaf && expected ? expected(leaf) : null;
  let matches: boolean | null = null;
  if (leaf && exp !== null) {
    matches = h.value === exp || alternatives.some((f) => f(leaf) === h.value);
    if (!matches) {
      // A form decoder also turns the "+" of a DN or validity into a space.
      const formDecoded = exp.includes('+') && h.value === exp.replaceAll('+', ' ');
      ctx.set.warnings.push(
        formDecoded
          ? {header: h.name, code: 'FORM_DECODED', message: `${h.name}: ${FORM_DECODED_HELP}`}
          : {header: h.name, code: 'MISMATCH', message: `${h.name} is "${h.value}" but the leaf certificate's is "${exp}": ${SPOOF_HINT}`},
      );
    }
  }
  ctx.set.checks.push({header: h.name, role, value: h.value, text, expected: exp, matches});
}

const ISO = /^NotBefore=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ);NotAfter=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)$/;

function checkValidity(ctx: Ctx, h: HeaderField): void {
  const m = ISO.exec(h.value);
  if (!m)
    warnOnce(ctx, {
      header: h.name,
      code: 'MALFORMED_HEADER',
      message: `${h.name} "${h.value}" is not NotBefore=YYYY-MM-DDTHH:MM:SSZ;NotAfter=YYYY-MM-DDTHH:MM:SSZ`,
    });
  check(ctx, h, 'validity', m ? `${m[1]} → ${m[2]}` : h.value, (c) => formatAlbValidity(c.notBefore, c.notAfter));
}

function checkSerial(ctx: Ctx, h: HeaderField): void {
  if (!/^-?[0-9A-Fa-f]+$/.test(h.value)) warnOnce(ctx, {header: h.name, code: 'MALFORMED_HEADER', message: `${h.name} "${h.value}" is not hexadecimal`});
  check(ctx, h, 'serial', h.value, (c) => c.serialHex, [(c) => c.serialHex.toLowerCase()]);
}

function checkApigwSerial(ctx: Ctx, h: HeaderField): void {
  // Format UNCONFIRMED (aws-reference 7.11): accept decimal, hex, and colon hex in either case.
  check(ctx, h, 'apigwSerial', h.value, (c) => serialDecimal(c.serial), [
    (c) =>
      h.value
        .replaceAll(':', '')
        .toUpperCase()
        .replace(/^0+(?=.)/, '') === c.serialHex.replace(/^0+(?=.)/, '')
        ? h.value
        : '',
  ]);
}

/** DN alternatives for API Gateway: its escaping is UNCONFIRMED (aws-reference 7.11), so raw UTF-8 is also accepted. */
const apigwDnAlternative = (name: 'subject' | 'issuer') => (c: ParsedCertificate) => formatNodeName(c[name]).replaceAll('\n', ',');

/** Decodes `X-Client-Cert-Sub`: plain, or base64 as the AWS blog describes it (aws-reference 6.2). */
function clientCertSubValue(ctx: Ctx, h: HeaderField): string {
  const v = h.value;
  if (v.includes('=') && !/^[A-Za-z0-9+/]+={0,2}$/.test(v)) return v;
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(v) && v.length % 4 === 0) {
    const decoded = Buffer.from(v, 'base64').toString('utf8');
    if (/^[A-Za-z0-9.]+=/.test(decoded) && !decoded.includes('\uFFFD')) {
      ctx.set.warnings.push({
        header: h.name,
        code: 'BASE64_VALUE',
        message: `${h.name} is base64 (as the AWS blog describes it; the sample code sends it plain): "${decoded}"`,
      });
      return decoded;
    }
  }
  return v;
}

/**
 * Decodes one request's mTLS headers: recognises them by name (case-insensitive, with
 * renames from `map`), decodes the leaf / chain / API Gateway PEM into certificates
 * (leaf first), and checks every text header against the leaf. Never throws for bad
 * values: each problem is a warning naming its header (MISMATCH, DUPLICATE_HEADER,
 * MIXED_MODES, MALFORMED_HEADER, FORM_DECODED, BASE64_VALUE). Returns undefined when the set holds
 * no mTLS header at all.
 */
export function decodeHeaderSet(fields: HeaderField[], opts: DecodeHeadersOptions = {}): DecodedHeaderSet | undefined {
  const roles = opts.map ? roleTable(opts.map) : defaultRoles;
  const byRole = new Map<HeaderRole, HeaderField>();
  const set: DecodedHeaderSet = {mode: 'verify', headers: [], certificates: [], checks: [], warnings: []};
  for (const f of fields) {
    const role = roleIn(roles, f.name);
    if (!role) continue;
    set.headers.push({name: f.name, value: f.value, role});
    const first = byRole.get(role);
    if (first) {
      const same = first.value === f.value;
      warnOnce(
        {set, leaf: undefined},
        {
          header: f.name,
          code: 'DUPLICATE_HEADER',
          message: `${f.name} appears more than once${same ? ' (same value)' : ' with different values'}; ALB sends it once, so a client or proxy added a copy: ${SPOOF_HINT} (the first one is used)`,
        },
      );
      continue;
    }
    byRole.set(role, f);
  }
  if (set.headers.length === 0) return undefined;
  const ctx: Ctx = {set, leaf: undefined};

  const leafH = byRole.get('leaf');
  const chainH = byRole.get('chain');
  const pemH = byRole.get('apigwPem');
  if (leafH) ctx.leaf = decodePemHeader(ctx, leafH, true)[0];
  if (chainH && VERIFY_KEYS.some((k) => byRole.has(k))) {
    // A listener is in one mode (aws-reference 1.1): verify headers next to a passthrough chain
    // came from somewhere else, e.g. a client, if ALB does not strip them (aws-reference 7.1).
    const others = VERIFY_KEYS.filter((k) => byRole.has(k)).map((k) => byRole.get(k)!.name);
    set.warnings.push({
      header: others.join(', '),
      code: 'MIXED_MODES',
      message: `${others.join(', ')} came with ${chainH.name}; ALB sends either the verify-mode headers or the passthrough chain, never both: ${SPOOF_HINT}`,
    });
  }
  if (chainH) {
    const chain = decodePemHeader(ctx, chainH, true);
    if (ctx.leaf && chain[0] && Buffer.compare(chain[0].der, ctx.leaf.der) !== 0) {
      set.warnings.push({
        header: chainH.name,
        code: 'MISMATCH',
        message: `the first certificate of ${chainH.name} is not the one in ${leafH!.name}: ${SPOOF_HINT}`,
      });
    }
    ctx.leaf ??= chain[0];
  }
  if (pemH) ctx.leaf ??= decodePemHeader(ctx, pemH, true)[0];
  // Leaf first: the verify leaf, then the chain without a repeat of it.
  if (leafH && chainH && set.certificates[0]?.header === leafH.name) {
    const dup = set.certificates.findIndex(
      (c, i) => i > 0 && c.position === 0 && Buffer.compare(c.certificate.der, set.certificates[0]!.certificate.der) === 0,
    );
    if (dup > 0) set.certificates.splice(dup, 1);
  }

  for (const [role, h] of byRole) {
    switch (role) {
      case 'serial':
        checkSerial(ctx, h);
        break;
      case 'subject':
      case 'issuer':
        check(ctx, h, role, dnField(ctx, h), (c) => formatRfc2253(c[role]));
        break;
      case 'validity':
        checkValidity(ctx, h);
        break;
      case 'clientCertSub': {
        const v = clientCertSubValue(ctx, h);
        check(ctx, {name: h.name, value: v}, role, dnField(ctx, {name: h.name, value: v}), (c) => formatClientCertSub(c.subject));
        break;
      }
      case 'apigwSubject':
        check(ctx, h, role, dnField(ctx, h), (c) => formatApigwDn(c.subject), [apigwDnAlternative('subject')]);
        break;
      case 'apigwIssuer':
        check(ctx, h, role, dnField(ctx, h), (c) => formatApigwDn(c.issuer), [apigwDnAlternative('issuer')]);
        break;
      case 'apigwSerial':
        checkApigwSerial(ctx, h);
        break;
      case 'apigwNotBefore':
        check(ctx, h, role, h.value, (c) => formatApigwDate(c.notBefore));
        break;
      case 'apigwNotAfter':
        check(ctx, h, role, h.value, (c) => formatApigwDate(c.notAfter));
        break;
      default:
        break;
    }
  }
  set.mode =
    pemH || [...byRole.keys()].some((r) => r.startsWith('apigw'))
      ? 'apigw'
      : leafH || byRole.has('serial') || byRole.has('subject') || byRole.has('issuer') || byRole.has('validity')
        ? 'verify'
        : chainH
          ? 'passthrough'
          : 'client-cert-sub';
  return set;
}
