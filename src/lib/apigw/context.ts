/**
 * API Gateway's request variables: the `$context.*` variables of mapping expressions and
 * access logs (aws-reference 6.1), `method.request.header.*` / `method.request.querystring.*`
 * sources, and the two uses the local gateway makes of them: integration request
 * parameters such as the seed sample's
 * `integration.request.header.X-Client-Cert-Sub: context.authorizer.clientCertSub`
 * (aws-reference 6.2), and access-log lines built from a `$context` template.
 */
import {usageError} from '../errors.js';
import type {ApigwClientCert} from '../alb/headers.js';

/** A value source: `context.X`, `method.request.header.X`, `method.request.querystring.X` or a 'literal'. */
export type ValueSource = {kind: 'context'; name: string} | {kind: 'header'; name: string} | {kind: 'query'; name: string} | {kind: 'literal'; value: string};

/** What a source is resolved against. */
export interface SourceScope {
  /** `context.*` variables without the `context.` prefix (`identity.sourceIp`, `authorizer.clientCertSub`, ...). */
  context: Record<string, string | undefined>;
  /** Request headers, lower-case name → value (duplicates joined with `,`). */
  headers: Record<string, string>;
  /** Query-string parameters → last value. */
  query: Record<string, string>;
}

/**
 * Parses a source as REST (`context.authorizer.KEY`, `method.request.header.NAME`) or HTTP API
 * (`$context.authorizer.KEY`, `$request.header.NAME`) mapping syntax writes it, or `'literal'`.
 * @throws MtlsKitError BAD_SOURCE (exit 2) naming the value.
 */
export function parseValueSource(text: string): ValueSource {
  const s = text.trim();
  const lit = /^'(.*)'$/.exec(s);
  if (lit) return {kind: 'literal', value: lit[1]!};
  const t = s.replace(/^\$/, '');
  let m = /^context\.([A-Za-z0-9_.-]+)$/.exec(t);
  if (m) return {kind: 'context', name: m[1]!};
  m = /^(?:method\.)?request\.header\.([!#$%&'*+.^_`|~0-9A-Za-z-]+)$/.exec(t);
  if (m) return {kind: 'header', name: m[1]!.toLowerCase()};
  m = /^(?:method\.)?request\.querystring\.(.+)$/.exec(t);
  if (m) return {kind: 'query', name: m[1]!};
  throw usageError('BAD_SOURCE', `"${text}" is not a value source`, [
    "write context.authorizer.KEY, context.identity.clientCert.subjectDN, method.request.header.NAME, method.request.querystring.NAME or 'a literal'",
  ]);
}

/** The value of a source; undefined when the request has none. */
export function resolveValueSource(src: ValueSource, scope: SourceScope): string | undefined {
  switch (src.kind) {
    case 'literal':
      return src.value;
    case 'context':
      return scope.context[src.name];
    case 'header':
      return scope.headers[src.name];
    case 'query':
      return scope.query[src.name];
  }
}

/** An integration request header set from a source (`--map-header NAME=SOURCE`). */
export interface HeaderMapping {
  header: string;
  source: ValueSource;
  /** The text the user wrote, for messages. */
  text: string;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Parses `--map-header` values: `X-Client-Cert-Sub=context.authorizer.clientCertSub`, also in
 * the template forms `integration.request.header.X-Client-Cert-Sub=...` (REST) and
 * `overwrite:header.X-Client-Cert-Sub=$context.authorizer.clientCertSub` (HTTP API).
 * @throws MtlsKitError BAD_MAP_HEADER / BAD_SOURCE (exit 2) naming the value.
 */
export function parseHeaderMappings(values: string[]): HeaderMapping[] {
  return values.map((v) => {
    const eq = v.indexOf('=');
    const header = (eq > 0 ? v.slice(0, eq) : '')
      .trim()
      .replace(/^integration\.request\.header\./, '')
      .replace(/^(?:overwrite|append):header\./, '');
    if (eq <= 0 || !TOKEN.test(header)) {
      throw usageError('BAD_MAP_HEADER', `--map-header ${v} is not NAME=SOURCE`, [
        'for example: --map-header X-Client-Cert-Sub=context.authorizer.clientCertSub',
      ]);
    }
    return {header, source: parseValueSource(v.slice(eq + 1)), text: v};
  });
}

/**
 * The integration request headers: each mapping whose source has a value (API Gateway sends
 * no header for a missing context value).
 */
export function mappedHeaders(mappings: HeaderMapping[], scope: SourceScope): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const m of mappings) {
    const v = resolveValueSource(m.source, scope);
    if (v !== undefined) out.push([m.header, v]);
  }
  return out;
}

/** `$context.identity.clientCert.*` variables for a certificate (aws-reference 6.1). */
export function clientCertVariables(cert: ApigwClientCert | null): Record<string, string | undefined> {
  return {
    'identity.clientCert.clientCertPem': cert?.clientCertPem,
    'identity.clientCert.subjectDN': cert?.subjectDN,
    'identity.clientCert.issuerDN': cert?.issuerDN,
    'identity.clientCert.serialNumber': cert?.serialNumber,
    'identity.clientCert.validity.notBefore': cert?.validity.notBefore,
    'identity.clientCert.validity.notAfter': cert?.validity.notAfter,
  };
}

/** The `$context.authorizer.*` variables: principalId and each context key, as strings. */
export function authorizerVariables(principalId: string | null, context: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  if (principalId !== null) out['authorizer.principalId'] = principalId;
  for (const [k, v] of Object.entries(context)) out[`authorizer.${k}`] = String(v);
  return out;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `$context.requestTime`: CLF form `dd/MMM/yyyy:HH:mm:ss +0000`, UTC. */
export function formatRequestTime(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/**
 * The default access-log format: AWS's JSON example plus every `$context.identity.clientCert.*`
 * field and the authorizer's outcome.
 */
export const DEFAULT_ACCESS_LOG_FORMAT =
  '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","path":"$context.path","status":"$context.status","protocol":"$context.protocol","responseLength":"$context.responseLength","principalId":"$context.authorizer.principalId","authorizerStatus":"$context.authorizer.status","authorizerError":"$context.authorizer.error","clientCertSubjectDN":"$context.identity.clientCert.subjectDN","clientCertIssuerDN":"$context.identity.clientCert.issuerDN","clientCertSerialNumber":"$context.identity.clientCert.serialNumber","clientCertNotBefore":"$context.identity.clientCert.validity.notBefore","clientCertNotAfter":"$context.identity.clientCert.validity.notAfter"}';

/**
 * One access-log line: each `$context.NAME` in the format replaced by its value, `-` when it
 * has none (as API Gateway writes). In a JSON format (starting with `{`) values are
 * JSON-escaped so the line stays parseable (DNs can hold `\` and `"`; API Gateway inserts
 * them raw).
 */
export function formatAccessLog(format: string, context: Record<string, string | undefined>): string {
  const json = format.trimStart().startsWith('{');
  return format.replace(/\$context\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)/g, (_all, name: string) => {
    const v = context[name];
    const s = v === undefined || v === '' ? '-' : v;
    return json ? JSON.stringify(s).slice(1, -1) : s;
  });
}
