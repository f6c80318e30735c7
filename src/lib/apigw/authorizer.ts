/**
 * Lambda authorizers as API Gateway calls them and applies their answers (aws-reference 6):
 * the REST API REQUEST-authorizer event (`requestContext.identity.clientCert`), the HTTP API
 * payload 2.0 event (`requestContext.authentication.clientCert`), IAM-policy and simple
 * responses, the gateway responses for Deny (403), "Unauthorized" (401) and any other
 * failure (500), identity sources, and the authorizer result cache.
 *
 * AWS pages: Lambda authorizer input and output (REST: apigateway/latest/developerguide/
 * api-gateway-lambda-authorizer-input.html, -output.html; HTTP: http-api-lambda-authorizer.html)
 * and gateway responses (supported-gateway-response-types.html).
 */
import type {ApigwClientCert} from '../alb/headers.js';
import {formatRequestTime} from './context.js';

/** Which event and which answers: REST REQUEST authorizer, or HTTP API payload 2.0 with IAM-policy or simple responses. */
export type AuthorizerPayload = 'rest' | 'http-iam' | 'http-simple';
export const AUTHORIZER_PAYLOADS: readonly AuthorizerPayload[] = ['rest', 'http-iam', 'http-simple'];

/** What the gateway knows about one request. */
export interface RequestFacts {
  method: string;
  /** Path without the query string, as received. */
  path: string;
  /** Query string without `?` ('' when none). */
  rawQuery: string;
  /** Node's rawHeaders: name, value, name, value, ... */
  rawHeaders: string[];
  sourceIp: string;
  protocol: string;
  requestId: string;
  now: Date;
  clientCert: ApigwClientCert | null;
  /** The API: region, account, id, stage, custom domain name. */
  api: ApiIdentity;
}

export interface ApiIdentity {
  region: string;
  accountId: string;
  apiId: string;
  stage: string;
  domainName: string;
}

/** `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path}`: REST methodArn and HTTP routeArn. */
export function executeApiArn(f: Pick<RequestFacts, 'api' | 'method' | 'path'>): string {
  return `arn:aws:execute-api:${f.api.region}:${f.api.accountId}:${f.api.apiId}/${f.api.stage}/${f.method.toUpperCase()}/${f.path.replace(/^\//, '')}`;
}

function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** Query parameters: name → every value, in order. */
export function parseQuery(rawQuery: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (!rawQuery) return out;
  for (const part of rawQuery.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = decodeComponent(eq < 0 ? part : part.slice(0, eq));
    const v = eq < 0 ? '' : decodeComponent(part.slice(eq + 1));
    const list = out.get(k);
    if (list) list.push(v);
    else out.set(k, [v]);
  }
  return out;
}

/** Headers: name as first sent → every value. */
function headerValues(rawHeaders: string[]): Map<string, {name: string; values: string[]}> {
  const out = new Map<string, {name: string; values: string[]}>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const lower = rawHeaders[i]!.toLowerCase();
    const e = out.get(lower);
    if (e) e.values.push(rawHeaders[i + 1]!);
    else out.set(lower, {name: rawHeaders[i]!, values: [rawHeaders[i + 1]!]});
  }
  return out;
}

/** Lower-case header name → values joined with `,` (HTTP API headers; mapping sources). */
export function joinedHeaders(rawHeaders: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of headerValues(rawHeaders)) out[k] = v.values.join(',');
  return out;
}

const orNull = <T extends object>(o: T): T | null => (Object.keys(o).length ? o : null);

/**
 * The REST API REQUEST-authorizer event. Single-value maps keep the last value, as API
 * Gateway does; `requestContext.identity.clientCert` is exactly `encode-header --mode apigw`.
 */
export function buildRestAuthorizerEvent(f: RequestFacts): Record<string, unknown> {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const {name, values} of headerValues(f.rawHeaders).values()) {
    headers[name] = values[values.length - 1]!;
    multiValueHeaders[name] = values;
  }
  const query = parseQuery(f.rawQuery);
  const qs: Record<string, string> = {};
  const mqs: Record<string, string[]> = {};
  for (const [k, v] of query) {
    qs[k] = v[v.length - 1]!;
    mqs[k] = v;
  }
  const userAgent = headers['User-Agent'] ?? headers['user-agent'] ?? joinedHeaders(f.rawHeaders)['user-agent'] ?? null;
  return {
    type: 'REQUEST',
    methodArn: executeApiArn(f),
    resource: f.path,
    path: f.path,
    httpMethod: f.method,
    headers,
    multiValueHeaders,
    queryStringParameters: orNull(qs),
    multiValueQueryStringParameters: orNull(mqs),
    pathParameters: {},
    stageVariables: {},
    requestContext: {
      resourceId: 'local',
      resourcePath: f.path,
      httpMethod: f.method,
      extendedRequestId: f.requestId,
      requestTime: formatRequestTime(f.now),
      path: `/${f.api.stage}${f.path}`,
      accountId: f.api.accountId,
      protocol: f.protocol,
      stage: f.api.stage,
      domainPrefix: f.api.domainName.split('.')[0],
      requestTimeEpoch: f.now.getTime(),
      requestId: f.requestId,
      identity: {
        cognitoIdentityPoolId: null,
        accountId: null,
        cognitoIdentityId: null,
        caller: null,
        sourceIp: f.sourceIp,
        principalOrgId: null,
        accessKey: null,
        cognitoAuthenticationType: null,
        cognitoAuthenticationProvider: null,
        userArn: null,
        userAgent,
        user: null,
        apiKey: null,
        apiKeyId: null,
        clientCert: f.clientCert,
      },
      domainName: f.api.domainName,
      apiId: f.api.apiId,
    },
  };
}

/** The HTTP API payload 2.0 authorizer event; `requestContext.authentication.clientCert` as `encode-header --mode apigw`. */
export function buildHttpAuthorizerEvent(f: RequestFacts, identitySource: string[]): Record<string, unknown> {
  const headers = joinedHeaders(f.rawHeaders);
  const cookies = headers.cookie ? headers.cookie.split(/;\s*/).filter(Boolean) : undefined;
  delete headers.cookie;
  const qs: Record<string, string> = {};
  for (const [k, v] of parseQuery(f.rawQuery)) qs[k] = v.join(',');
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: executeApiArn(f),
    identitySource,
    routeKey: '$default',
    rawPath: f.path,
    rawQueryString: f.rawQuery,
    ...(cookies ? {cookies} : {}),
    headers,
    ...(Object.keys(qs).length ? {queryStringParameters: qs} : {}),
    requestContext: {
      accountId: f.api.accountId,
      apiId: f.api.apiId,
      ...(f.clientCert ? {authentication: {clientCert: f.clientCert}} : {}),
      domainName: f.api.domainName,
      domainPrefix: f.api.domainName.split('.')[0],
      http: {method: f.method, path: f.path, protocol: f.protocol, sourceIp: f.sourceIp, userAgent: headers['user-agent'] ?? ''},
      requestId: f.requestId,
      routeKey: '$default',
      stage: f.api.stage,
      time: formatRequestTime(f.now),
      timeEpoch: f.now.getTime(),
    },
    pathParameters: {},
    stageVariables: {},
  };
}

export type ContextValue = string | number | boolean;

/** What API Gateway does with the authorizer's answer. */
export type AuthorizerOutcome =
  | {kind: 'allow'; principalId: string | null; context: Record<string, ContextValue>}
  | {kind: 'deny'; explicit: boolean; principalId: string | null}
  | {kind: 'unauthorized'}
  | {kind: 'error'; message: string};

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** IAM wildcard match: `*` any run, `?` one character (case-sensitive, as IAM for ARNs). */
export function iamMatch(pattern: string, value: string, caseInsensitive = false): boolean {
  const re = new RegExp(
    '^' +
      pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.') +
      '$',
    caseInsensitive ? 'is' : 's',
  );
  return re.test(value);
}

/**
 * Evaluates the policy document against the method ARN: an explicit Deny wins, then an
 * Allow; otherwise an implicit deny. Effect and Action are matched case-insensitively
 * (the seed sample writes `Effect: 'allow'`).
 * @returns the decision, or a string saying what is malformed
 */
export function evaluatePolicy(policy: unknown, arn: string): 'allow' | 'deny' | 'implicit-deny' | {invalid: string} {
  if (!isObj(policy)) return {invalid: 'policyDocument is missing or not an object'};
  const statements = list(policy.Statement as unknown);
  if (statements.length === 0) return {invalid: 'policyDocument has no Statement'};
  let allowed = false;
  for (const s of statements) {
    if (!isObj(s)) return {invalid: 'a Statement is not an object'};
    const effect = String(s.Effect ?? '').toLowerCase();
    if (effect !== 'allow' && effect !== 'deny') return {invalid: `Effect "${String(s.Effect)}" is neither Allow nor Deny`};
    const actions = list(s.Action as string | string[] | undefined).map(String);
    const resources = list(s.Resource as string | string[] | undefined).map(String);
    const actionMatch = actions.some((a) => iamMatch(a, 'execute-api:Invoke', true));
    const resourceMatch = resources.some((r) => iamMatch(r, arn));
    if (!actionMatch || !resourceMatch) continue;
    if (effect === 'deny') return 'deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'implicit-deny';
}

/** Checks a context map: values must be strings, numbers or booleans (no objects or arrays). */
function checkContext(ctx: unknown): {context: Record<string, ContextValue>} | {invalid: string} {
  if (ctx === undefined || ctx === null) return {context: {}};
  if (!isObj(ctx)) return {invalid: 'context is not an object'};
  for (const [k, v] of Object.entries(ctx)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
      return {
        invalid: `context.${k} is ${Array.isArray(v) ? 'an array' : v === null ? 'null' : `${typeof v === 'object' ? 'an' : 'a'} ${typeof v}`}; only strings, numbers and booleans are allowed`,
      };
  }
  return {context: ctx as Record<string, ContextValue>};
}

/**
 * Applies an authorizer's answer as API Gateway does for the request's ARN.
 * REST and HTTP IAM: `{principalId, policyDocument, context}`; HTTP simple: `{isAuthorized, context}`.
 * A malformed answer is an error (API Gateway answers 500).
 */
export function interpretAuthorizerResult(payload: AuthorizerPayload, result: unknown, arn: string): AuthorizerOutcome {
  if (!isObj(result)) return {kind: 'error', message: `the authorizer returned ${result === undefined ? 'nothing' : JSON.stringify(result)}, not an object`};
  const ctx = checkContext(result.context);
  if ('invalid' in ctx) return {kind: 'error', message: ctx.invalid};
  if (payload === 'http-simple') {
    if (typeof result.isAuthorized !== 'boolean') return {kind: 'error', message: 'isAuthorized is missing or not a boolean (simple responses)'};
    return result.isAuthorized ? {kind: 'allow', principalId: null, context: ctx.context} : {kind: 'deny', explicit: false, principalId: null};
  }
  if (payload === 'rest' && (result.principalId === undefined || result.principalId === null)) return {kind: 'error', message: 'principalId is missing'};
  const principalId = result.principalId === undefined || result.principalId === null ? null : String(result.principalId);
  const decision = evaluatePolicy(result.policyDocument, arn);
  if (typeof decision === 'object') return {kind: 'error', message: decision.invalid};
  if (decision === 'allow') return {kind: 'allow', principalId, context: ctx.context};
  return {kind: 'deny', explicit: decision === 'deny', principalId};
}

/** A thrown error (or callback error) from the authorizer: `Unauthorized` exactly is 401, anything else 500. */
export function outcomeOfError(error: unknown): AuthorizerOutcome {
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : JSON.stringify(error);
  return message === 'Unauthorized' ? {kind: 'unauthorized'} : {kind: 'error', message: message ?? 'unknown error'};
}

/** A gateway response: status, headers, body. */
export interface GatewayResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * The response API Gateway sends instead of calling the integration (default gateway
 * responses): REST `UNAUTHORIZED` 401 `{"message":"Unauthorized"}`, `ACCESS_DENIED` 403
 * `{"Message":"User is not authorized to access this resource[ with an explicit deny]"}`,
 * `AUTHORIZER_CONFIGURATION_ERROR` 500 `{"message": null}`; HTTP APIs 401 Unauthorized,
 * 403 Forbidden, 500 Internal Server Error.
 */
export function gatewayResponse(payload: AuthorizerPayload, outcome: Exclude<AuthorizerOutcome, {kind: 'allow'}>): GatewayResponse {
  const json = (status: number, body: unknown, errorType?: string): GatewayResponse => ({
    status,
    headers: {'content-type': 'application/json', ...(errorType ? {'x-amzn-errortype': errorType} : {})},
    body: JSON.stringify(body),
  });
  if (payload === 'rest') {
    if (outcome.kind === 'unauthorized') return json(401, {message: 'Unauthorized'}, 'UnauthorizedException');
    if (outcome.kind === 'deny')
      return json(403, {Message: `User is not authorized to access this resource${outcome.explicit ? ' with an explicit deny' : ''}`}, 'AccessDeniedException');
    return json(500, {message: null}, 'AuthorizerConfigurationException');
  }
  if (outcome.kind === 'unauthorized') return json(401, {message: 'Unauthorized'});
  if (outcome.kind === 'deny') return json(403, {message: 'Forbidden'});
  return json(500, {message: 'Internal Server Error'});
}

/**
 * An identity source in REST (`method.request.header.Authorization`) or HTTP API
 * (`$request.header.Authorization`) syntax, also `context.*` variables.
 */
export type IdentitySource =
  | {kind: 'header'; name: string; text: string}
  | {kind: 'query'; name: string; text: string}
  | {kind: 'context'; name: string; text: string};

/** Parses an identity source; null when it is not one. */
export function parseIdentitySource(text: string): IdentitySource | null {
  const t = text.trim().replace(/^\$/, '');
  let m = /^(?:method\.)?request\.header\.([!#$%&'*+.^_`|~0-9A-Za-z-]+)$/.exec(t);
  if (m) return {kind: 'header', name: m[1]!.toLowerCase(), text};
  m = /^(?:method\.)?request\.querystring\.(.+)$/.exec(t);
  if (m) return {kind: 'query', name: m[1]!, text};
  m = /^context\.([A-Za-z0-9_.]+)$/.exec(t);
  if (m) return {kind: 'context', name: m[1]!, text};
  return null;
}

/**
 * The identity-source values of a request, in order; null when one is missing or empty (API
 * Gateway then answers 401 without calling the authorizer).
 */
export function identityValues(
  sources: IdentitySource[],
  headers: Record<string, string>,
  query: Map<string, string[]>,
  context: Record<string, string | undefined>,
): string[] | null {
  const out: string[] = [];
  for (const s of sources) {
    const v = s.kind === 'header' ? headers[s.name] : s.kind === 'query' ? query.get(s.name)?.join(',') : context[s.name];
    if (v === undefined || v === '') return null;
    out.push(v);
  }
  return out;
}

/** What the cache keeps: the raw answer, so a cached policy is evaluated against each request's ARN, as API Gateway does. */
export interface CachedAnswer {
  result: unknown;
  expiresAtMs: number;
}

/**
 * API Gateway's authorizer result cache: keyed by the identity-source values (REST) or
 * the identity sources (HTTP), for the TTL; the cached policy applies to every method and
 * resource the same identity calls (so a policy that names only the first methodArn denies
 * the others, as in AWS). Thrown errors are not cached. Bounded (oldest entry evicted).
 */
export class AuthorizerCache {
  private readonly entries = new Map<string, CachedAnswer>();
  constructor(
    readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /** The key for identity-source values. */
  static key(values: string[]): string {
    return JSON.stringify(values);
  }

  get(key: string, nowMs: number): unknown | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAtMs <= nowMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e.result;
  }

  has(key: string, nowMs: number): boolean {
    return this.get(key, nowMs) !== undefined;
  }

  set(key: string, result: unknown, nowMs: number): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, {result, expiresAtMs: nowMs + this.ttlMs});
  }
}
