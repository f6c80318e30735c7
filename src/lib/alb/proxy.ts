/**
 * The pure parts of `mtls-kit serve`, the local ALB: listener specs, the headers a
 * request carries to the target, and the connection-log entry of a connection.
 */
import {usageError} from '../errors.js';

/**
 * ALB's verify and passthrough modes, `apigw`: an API Gateway custom domain
 * (src/io/net/apigw-listener.ts), and `nlb`: an NLB TLS listener with mTLS (src/io/net/nlb-listener.ts).
 */
export type ListenerMode = 'verify' | 'passthrough' | 'apigw' | 'nlb' | 'cloudfront';
export const LISTENER_MODES: readonly ListenerMode[] = ['verify', 'passthrough', 'apigw', 'nlb', 'cloudfront'];

export interface ListenerSpec {
  port: number;
  mode: ListenerMode;
  /** `cloudfront` listeners: the viewer mTLS mode (aws-reference 11.3), `required` by default as on CloudFront. */
  viewerMtlsMode?: 'required' | 'optional' | 'passthrough';
}

/**
 * Parses `--listen PORT:MODE` values (`8443:verify`, `9443:passthrough`, `8444:apigw`,
 * `8445:cloudfront:optional`); port 0 picks a free port.
 * @throws MtlsKitError BAD_LISTEN (exit 2) naming the value; DUPLICATE_PORT (exit 2).
 */
export function parseListenSpecs(specs: string[]): ListenerSpec[] {
  const out: ListenerSpec[] = [];
  for (const s of specs) {
    const m = /^(\d{1,5}):(verify|passthrough|apigw|nlb|cloudfront(?::(required|optional|passthrough))?)$/.exec(s.trim());
    const port = m ? Number(m[1]) : NaN;
    if (!m || port > 65535) {
      throw usageError('BAD_LISTEN', `--listen ${s} is not PORT:MODE`, [
        'write it as --listen 8443:verify, --listen 9443:passthrough, --listen 8444:apigw, --listen 9444:nlb or --listen 8445:cloudfront[:required|optional|passthrough]',
      ]);
    }
    if (port !== 0 && out.some((l) => l.port === port)) throw usageError('DUPLICATE_PORT', `port ${port} is given twice`, ['give each listener its own port']);
    if (m[2]!.startsWith('cloudfront')) out.push({port, mode: 'cloudfront', viewerMtlsMode: (m[3] as ListenerSpec['viewerMtlsMode']) ?? 'required'});
    else out.push({port, mode: m[2] as ListenerMode});
  }
  return out;
}

/** Hop-by-hop headers (RFC 9110 7.6.1) that a proxy must not forward. */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** The prefix of every ALB mTLS header (aws-reference 1.2). */
const MTLS_PREFIX = 'x-amzn-mtls-';

export interface UpstreamHeaderParams {
  /** The client's headers as Node's rawHeaders (name, value, name, value, ...). */
  rawHeaders: string[];
  /** The mTLS headers this listener adds (already encoded; renamed by --header-map). */
  mtlsHeaders: Array<[string, string]>;
  /** Lower-case names to drop besides `x-amzn-mtls-*`: the renamed header names. */
  strip: ReadonlySet<string>;
  clientIp: string;
  listenerPort: number;
  /**
   * ALB's `routing.http.drop_invalid_header_fields.enabled` (default false): drop client
   * headers whose names are not `[-A-Za-z0-9]+` (aws-reference 7.12).
   */
  dropInvalidHeaderFields?: boolean;
  /**
   * Client headers (lower-case names) the listener replaces or refuses to forward (ALB:
   * `expect`, `x-amzn-tls-*` with the TLS header attribute on), after the rules above.
   */
  omit?: (lowerName: string) => boolean;
  /**
   * A client header (lower-case name) the listener rewrites (ALB's `x-amzn-trace-id`): not
   * forwarded; the value of its last occurrence is left in `value`.
   */
  take?: {name: string; value: string | undefined};
}

/** A header name ALB calls valid (aws-reference 7.12): letters, digits and hyphens. */
export const VALID_HEADER_NAME = /^[A-Za-z0-9-]+$/;

/**
 * A header name as CGI, WSGI, PHP and Rack backends see it: case folded and `_` read as
 * `-` (they turn both `X-A` and `X_A` into HTTP_X_A), so two names that fold alike reach
 * the application as one.
 */
export function foldHeaderName(name: string): string {
  const lower = name.toLowerCase();
  // Most names have no `_`: no regex run for them (it is called per header per request).
  return lower.includes('_') ? lower.replace(/_/g, '-') : lower;
}

const foldedSets = new WeakMap<ReadonlySet<string>, ReadonlySet<string>>();
/** The folded form of a set of names, computed once per set (it is checked on every request). */
function foldedNames(names: ReadonlySet<string>): ReadonlySet<string> {
  let f = foldedSets.get(names);
  if (!f) {
    f = new Set([...names].map(foldHeaderName));
    foldedSets.set(names, f);
  }
  return f;
}

/**
 * The client-sent header names that collide with an mTLS or identity header once folded
 * (foldHeaderName): any `X-Amzn-Mtls-*` and any renamed header name in `identity`
 * (lower-case). These are spoofing attempts, whether or not they are forwarded.
 * @returns the names as the client wrote them, in order
 */
export function findSpoofedHeaders(rawHeaders: string[], identity: ReadonlySet<string>): string[] {
  const folded = foldedNames(identity);
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const f = foldHeaderName(rawHeaders[i]!);
    if (f.startsWith(MTLS_PREFIX) || folded.has(f)) out.push(rawHeaders[i]!);
  }
  return out;
}

/** The TLS headers ALB adds with routing.http.x_amzn_tls_version_and_cipher_suite.enabled, lower case. */
export const TLS_INFO_HEADERS: ReadonlySet<string> = new Set(['x-amzn-tls-version', 'x-amzn-tls-cipher-suite']);

/**
 * The client-sent header names that read as ALB's X-Amzn-Tls-Version or -Cipher-Suite once
 * folded (foldHeaderName): a client claiming the connection's TLS version or suite.
 * @returns the names as the client wrote them, in order
 */
export function findSpoofedTlsHeaders(rawHeaders: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) if (TLS_INFO_HEADERS.has(foldHeaderName(rawHeaders[i]!))) out.push(rawHeaders[i]!);
  return out;
}

/**
 * The headers sent to the target: the client's, minus hop-by-hop headers and any
 * client-sent `X-Amzn-Mtls-*` header or renamed equivalent (a client must not be able to
 * claim an identity: aws-reference 7.1 leaves open whether ALB strips them, a local proxy
 * that forwarded them would let any client spoof one), then the mTLS headers,
 * `X-Forwarded-For` (appended to, as ALB does), `X-Forwarded-Proto` and `X-Forwarded-Port`.
 * Look-alikes such as `X_Amzn_Mtls_Clientcert_Subject` are forwarded, as ALB forwards
 * them, unless `dropInvalidHeaderFields` (findSpoofedHeaders names them for the log).
 * @returns a flat [name, value, ...] array in order, ready for `http.request`
 */
export function buildUpstreamHeaders(p: UpstreamHeaderParams): string[] {
  const out: string[] = [];
  let xff: string | undefined;
  const raw = p.rawHeaders;
  // Names lowered once; the Connection header's tokens only when there is one (this runs per request).
  const lowers: string[] = new Array(raw.length >> 1);
  let connectionTokens: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    lowers[i >> 1] = lower;
    if (lower === 'connection') {
      connectionTokens ??= new Set<string>();
      for (const t of raw[i + 1]!.split(',')) connectionTokens.add(t.trim().toLowerCase());
    }
  }
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = lowers[i >> 1]!;
    if (HOP_BY_HOP.has(lower) || connectionTokens?.has(lower) || lower.startsWith(MTLS_PREFIX) || p.strip.has(lower)) continue;
    if (p.dropInvalidHeaderFields && !VALID_HEADER_NAME.test(name)) continue;
    if (lower === 'x-forwarded-for') {
      xff = xff === undefined ? raw[i + 1]! : `${xff}, ${raw[i + 1]!}`;
      continue;
    }
    if (lower === 'x-forwarded-proto' || lower === 'x-forwarded-port') continue;
    if (p.take && lower === p.take.name) {
      p.take.value = raw[i + 1]!;
      continue;
    }
    if (p.omit?.(lower)) continue;
    out.push(name, raw[i + 1]!);
  }
  for (const [k, v] of p.mtlsHeaders) out.push(k, v);
  out.push(
    'X-Forwarded-For',
    xff === undefined ? p.clientIp : `${xff}, ${p.clientIp}`,
    'X-Forwarded-Proto',
    'https',
    'X-Forwarded-Port',
    String(p.listenerPort),
  );
  return out;
}

/** Response headers from the target, minus hop-by-hop ones (flat rawHeaders form). */
export function filterResponseHeaders(rawHeaders: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) if (!HOP_BY_HOP.has(rawHeaders[i]!.toLowerCase())) out.push(rawHeaders[i]!, rawHeaders[i + 1]!);
  return out;
}

/** A 32-hex connection trace id in ALB's form (`TID_…`, aws-reference 5 field 12). */
export function formatTraceId(random16: Uint8Array): string {
  return 'TID_' + Buffer.from(random16).toString('hex');
}
