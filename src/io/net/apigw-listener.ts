/**
 * The sockets of `serve --listen PORT:apigw`: an API Gateway custom domain name with mutual
 * TLS (aws-reference 4.4) in front of a target, with the user's Lambda authorizer
 * (aws-reference 6).
 *
 * Per connection: the presented chain is judged after the handshake with API Gateway's rules
 * (src/lib/apigw/verify.ts: complete chain to a root, chain length, algorithms, and no
 * revocation check); an untrusted, expired or missing certificate has its socket destroyed
 * before any HTTP byte, so the client's handshake fails. Per request: the authorizer event
 * (REST REQUEST or HTTP payload 2.0) goes to the authorizer, its answer is applied (Allow
 * forwards, Deny 403, "Unauthorized" 401, anything else 500), `--map-header` sets
 * integration request headers from `context.authorizer.*` or `context.identity.clientCert.*`,
 * and one access-log line with the `$context.*` variables is written.
 */
import {randomUUID} from 'node:crypto';
import {createWriteStream, type WriteStream} from 'node:fs';
import http from 'node:http';
import {constants as cryptoConstants} from 'node:crypto';
import tls, {type SecureContext, type TLSSocket} from 'node:tls';
import {type Dispatcher, Pool} from 'undici';
import {type ApigwClientCert, encodeApigwClientCert} from '../../lib/alb/headers.js';
import {buildUpstreamHeaders, findSpoofedHeaders, HOP_BY_HOP, type ListenerSpec} from '../../lib/alb/proxy.js';
import type {TrustStore} from '../../lib/alb/verify.js';
import {
  type ApiIdentity,
  type AuthorizerOutcome,
  type AuthorizerPayload,
  AuthorizerCache,
  buildHttpAuthorizerEvent,
  buildRestAuthorizerEvent,
  executeApiArn,
  gatewayResponse,
  type GatewayResponse,
  identityValues,
  type IdentitySource,
  interpretAuthorizerResult,
  joinedHeaders,
  outcomeOfError,
  parseIdentitySource,
  parseQuery,
  type RequestFacts,
} from '../../lib/apigw/authorizer.js';
import {
  authorizerVariables,
  clientCertVariables,
  DEFAULT_ACCESS_LOG_FORMAT,
  formatAccessLog,
  formatRequestTime,
  type HeaderMapping,
  mappedHeaders,
  parseHeaderMappings,
  type SourceScope,
} from '../../lib/apigw/context.js';
import {verifyApigwClient} from '../../lib/apigw/verify.js';
import {preconditionError, usageError} from '../../lib/errors.js';
import {toPem} from '../../lib/x509/pem.js';
import type {LoadedAuthorizer} from './authorizer.js';
import {admittedState, type PresentedConnection, type RefusedConnection, runningHttpListener, type RunningFrame, startHttpFrames} from './listener-frame.js';

export interface ApigwServerParams {
  host: string;
  listeners: ListenerSpec[];
  certPem: string;
  keyPem: string;
  trustStore: TrustStore;
  authorizer: LoadedAuthorizer | null;
  payload: AuthorizerPayload;
  identitySources: IdentitySource[];
  /** Authorizer result cache TTL in seconds (0: no cache). */
  ttlSeconds: number;
  mappings: HeaderMapping[];
  target: URL;
  api: ApiIdentity;
  accessLogFormat: string;
  /** Receives each access-log line (no newline). */
  accessLog: (line: string) => void;
  /** Rejected handshakes and target failures (never ends the server). */
  onError?: (message: string) => void;
  /** Spoofing attempts (look-alikes of mapped headers). */
  onSpoof?: (message: string) => void;
  /** The clock (tests pin it); default `new Date()`. */
  now?: () => Date;
}

export interface RunningApigwServer {
  listeners: Array<{port: number; mode: 'apigw'; url: string}>;
  /** Counters of the listener frames (connections, bytes of client handshakes read, work units). */
  stats(): {connections: number; tappedBytes: number; work: number};
  close(): Promise<void>;
}

interface ConnState {
  clientCert: ApigwClientCert;
  peer: PresentedConnection['peer'];
}

/**
 * Resolves `.` and `..` segments of a request path (RFC 3986 5.2.4) before the authorizer
 * and the target see it, so `/public/../admin` is judged and forwarded as `/admin`. What
 * API Gateway does with dot segments is not documented (aws-reference 7); resolving them
 * keeps the authorizer and the target on the same path whatever the truth is.
 */
export function removeDotSegments(path: string): string {
  const out: string[] = [];
  const segments = path.split('/');
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const decoded = seg.replace(/%2e/gi, '.');
    if (decoded === '.') {
      if (i === segments.length - 1) out.push('');
      continue;
    }
    if (decoded === '..') {
      if (out.length > 1) out.pop();
      if (i === segments.length - 1) out.push('');
      continue;
    }
    out.push(seg);
  }
  const joined = out.join('/');
  return joined.startsWith('/') ? joined : `/${joined}`;
}

/** Starts the API Gateway listeners. @throws MtlsKitError PORT_IN_USE (exit 4). */
export async function startApigwServer(p: ApigwServerParams): Promise<RunningApigwServer> {
  const pool = new Pool(p.target.origin, {connections: 64, keepAliveTimeout: 60_000});
  const targetPath = p.target.pathname === '/' ? '' : p.target.pathname.replace(/\/$/, '');
  const cache = new AuthorizerCache(p.ttlSeconds * 1000);
  const now = p.now ?? ((): Date => new Date());
  const states = new WeakMap<TLSSocket, ConnState>();
  const running: RunningApigwServer['listeners'] = [];
  // Client-sent headers with a mapped name are replaced, never forwarded (no spoofing).
  const strip = new Set(p.mappings.map((m) => m.header.toLowerCase()));
  // The TLS context follows the trust store (reloads replace its certificate list).
  let context: {certs: unknown; ctx: SecureContext} | undefined;
  const secureContext = (): SecureContext => {
    if (context?.certs !== p.trustStore.certs) {
      context = {
        certs: p.trustStore.certs,
        ctx: tls.createSecureContext({
          cert: p.certPem,
          key: p.keyPem,
          // The truststore's names are the CertificateRequest's acceptable CAs; the verdict is verifyApigwClient's.
          ca: p.trustStore.certs.map((c) => toPem(c.der, 'CERTIFICATE')),
          // API Gateway's mTLS domains need TLS 1.2 or later (aws-reference 4.4: security policy TLS_1_2).
          minVersion: 'TLSv1.2',
          // Every connection is judged on a full handshake, never renegotiated.
          secureOptions: cryptoConstants.SSL_OP_NO_TICKET | cryptoConstants.SSL_OP_NO_RENEGOTIATION,
        }),
      };
    }
    return context.ctx;
  };
  const httpServer = http.createServer({keepAlive: true});
  httpServer.keepAliveTimeout = 60_000;

  const judge = (c: PresentedConnection): {ok: boolean; reason: string | null} =>
    c.chain ? verifyApigwClient(c.chain, p.trustStore, now()) : {ok: false, reason: 'the client certificate cannot be parsed'};
  const onVerdict = (c: PresentedConnection, v: {ok: boolean; reason: string | null}): void => {
    if (!v.ok) p.onError?.(`handshake from ${c.peer.remoteAddress} rejected: ${v.reason}`);
  };
  const admit = (c: PresentedConnection): void => {
    states.set(c.socket, {clientCert: encodeApigwClientCert(c.chain![0]!), peer: c.peer});
    httpServer.emit('connection', c.socket);
  };
  const onRefused = (r: RefusedConnection): void => {
    const why = r.code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE' ? 'no client certificate was presented' : r.reason;
    p.onError?.(`handshake from ${r.peer.remoteAddress} rejected: ${why}`);
  };

  const authorize = async (facts: RequestFacts, scope: SourceScope): Promise<{outcome: AuthorizerOutcome; status: string; latencyMs: number}> => {
    const t0 = performance.now();
    const arn = executeApiArn(facts);
    const ids = identityValues(p.identitySources, scope.headers, parseQuery(facts.rawQuery), scope.context);
    // A missing identity source: 401 without calling the authorizer.
    if (ids === null) return {outcome: {kind: 'unauthorized'}, status: '401', latencyMs: 0};
    const key = p.ttlSeconds > 0 ? AuthorizerCache.key(ids) : null;
    const cached = key ? cache.get(key, Date.now()) : undefined;
    let result: unknown;
    if (cached !== undefined) result = cached;
    else {
      const event = p.payload === 'rest' ? buildRestAuthorizerEvent(facts) : buildHttpAuthorizerEvent(facts, ids);
      const r = await p.authorizer!.invoke(event, facts.requestId);
      if (!r.ok) {
        const outcome = outcomeOfError(new Error(r.error.message));
        return {outcome, status: outcome.kind === 'unauthorized' ? '401' : '500', latencyMs: performance.now() - t0};
      }
      result = r.result;
    }
    const outcome = interpretAuthorizerResult(p.payload, result, arn);
    // Allow and Deny answers are cached; malformed ones are not.
    if (key && cached === undefined && outcome.kind !== 'error') cache.set(key, result, Date.now());
    const status = outcome.kind === 'allow' ? '200' : outcome.kind === 'deny' ? '403' : outcome.kind === 'unauthorized' ? '401' : '500';
    return {outcome, status, latencyMs: performance.now() - t0};
  };

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const state = admittedState(states, req.socket as TLSSocket);
    if (!state) return;
    const listenerPort = state.peer.localPort;
    // Look-alikes of the mapped headers (X_Client_Cert_Sub for x-client-cert-sub): CGI,
    // WSGI, PHP and Rack backends read them as the real one.
    const spoofed = findSpoofedHeaders(req.rawHeaders, strip);
    if (spoofed.length > 0) {
      const kept = spoofed.filter((n) => !strip.has(n.toLowerCase()));
      (p.onSpoof ?? p.onError)?.(
        `spoofing attempt: client ${state.peer.remoteAddress}:${state.peer.remotePort} on port ${listenerPort} sent ${spoofed.join(', ')}, which ${spoofed.length === 1 ? 'reads' : 'read'} as a mapped identity header once case and _/- are folded; ${kept.length === 0 ? 'removed' : `forwarded as API Gateway does: ${kept.join(', ')}`}`,
      );
    }
    void handle(req, res, state, listenerPort).catch((error: unknown) => {
      p.onError?.(`request ${req.method} ${req.url} failed: ${(error as Error).message}`);
      if (!res.headersSent) {
        res.writeHead(500, {'content-type': 'application/json'});
        res.end('{"message":"Internal server error"}');
      } else res.destroy();
    });
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, state: ConnState, listenerPort: number): Promise<void> => {
    const t = now();
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    // Dot segments resolved before the authorizer sees the path (removeDotSegments).
    const path = removeDotSegments(q < 0 ? raw : raw.slice(0, q));
    const url = q < 0 ? path : path + raw.slice(q);
    const facts: RequestFacts = {
      method: req.method ?? 'GET',
      path,
      rawQuery: q < 0 ? '' : url.slice(q + 1),
      rawHeaders: req.rawHeaders,
      sourceIp: state.peer.remoteAddress,
      protocol: `HTTP/${req.httpVersion}`,
      requestId: randomUUID(),
      now: t,
      clientCert: state.clientCert,
      api: p.api,
    };
    const headers = joinedHeaders(req.rawHeaders);
    const query: Record<string, string> = {};
    for (const [k, v] of parseQuery(facts.rawQuery)) query[k] = v[v.length - 1]!;
    const context: Record<string, string | undefined> = {
      requestId: facts.requestId,
      extendedRequestId: facts.requestId,
      'identity.sourceIp': facts.sourceIp,
      'identity.userAgent': headers['user-agent'],
      requestTime: formatRequestTime(t),
      requestTimeEpoch: String(t.getTime()),
      httpMethod: facts.method,
      path: facts.path,
      resourcePath: facts.path,
      protocol: facts.protocol,
      domainName: p.api.domainName,
      stage: p.api.stage,
      apiId: p.api.apiId,
      accountId: p.api.accountId,
      ...clientCertVariables(state.clientCert),
    };
    const scope: SourceScope = {context, headers, query};
    const log = (status: number, length: number): void => {
      context.status = String(status);
      context.responseLength = String(length);
      context.responseLatency = String(Math.round(now().getTime() - t.getTime()));
      try {
        p.accessLog(formatAccessLog(p.accessLogFormat, context));
      } catch (error) {
        p.onError?.(`access log: ${(error as Error).message}`);
      }
    };
    const answer = (r: GatewayResponse): void => {
      req.resume();
      res.writeHead(r.status, {...r.headers, 'x-amzn-requestid': facts.requestId, 'content-length': String(Buffer.byteLength(r.body))});
      res.end(r.body);
      log(r.status, Buffer.byteLength(r.body));
    };

    if (p.authorizer) {
      const a = await authorize(facts, scope);
      context['authorizer.status'] = a.status;
      context['authorizer.latency'] = String(Math.round(a.latencyMs));
      if (a.outcome.kind !== 'allow') {
        if (a.outcome.kind === 'error') {
          context['authorizer.error'] = a.outcome.message;
          p.onError?.(`authorizer error for ${facts.method} ${facts.path}: ${a.outcome.message}`);
        }
        answer(gatewayResponse(p.payload, a.outcome));
        return;
      }
      Object.assign(context, authorizerVariables(a.outcome.principalId, a.outcome.context));
    }

    const upstream = buildUpstreamHeaders({
      rawHeaders: req.rawHeaders,
      mtlsHeaders: mappedHeaders(p.mappings, scope),
      strip,
      clientIp: facts.sourceIp,
      listenerPort,
    });
    for (let i = upstream.length - 2; i >= 0; i -= 2) if (upstream[i]!.toLowerCase() === 'expect') upstream.splice(i, 2);
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    if (!hasBody) req.resume();
    let up: Dispatcher.ResponseData;
    try {
      up = await pool.request({method: facts.method as Dispatcher.HttpMethod, path: targetPath + url, headers: upstream, body: hasBody ? req : null});
    } catch (error) {
      p.onError?.(`target ${p.target.origin} failed: ${(error as Error).message}`);
      answer({status: 502, headers: {'content-type': 'application/json'}, body: '{"message":"Internal server error"}'});
      return;
    }
    const out: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(up.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v;
    out['x-amzn-requestid'] = facts.requestId;
    res.writeHead(up.statusCode, out);
    let length = 0;
    for await (const chunk of up.body) {
      length += (chunk as Buffer).length;
      if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
    }
    res.end();
    log(up.statusCode, length);
  };

  httpServer.on('request', onRequest);
  const frames: RunningFrame[] = [];
  await startHttpFrames<{ok: boolean; reason: string | null}, (typeof p.listeners)[number], RunningApigwServer['listeners'][number]>(
    {host: p.host, listeners: p.listeners, running, ...(p.onError ? {onError: p.onError} : {}), describe: (_l, port, url) => ({port, mode: 'apigw', url})},
    {frames, pool},
    () => ({
      listenFlag: '--listen port',
      secureContext,
      // No certificate fails the handshake (certificate_required), as on API Gateway.
      requireCertificate: true,
      judge,
      onVerdict,
      admit,
      onRefused,
    }),
  );
  return runningHttpListener(running, {frames, httpServer, pool}, () => p.authorizer?.close() ?? Promise.resolve());
}

/** The API Gateway settings of `serve` (flags already parsed). */
export interface ApigwOptions {
  /** The Lambda authorizer module; none: every request with a trusted certificate is forwarded. */
  authorizer?: string;
  payload: AuthorizerPayload;
  identitySources: IdentitySource[];
  ttlSeconds: number;
  authorizerTimeoutMs: number;
  mappings: HeaderMapping[];
  api: ApiIdentity;
  accessLogFormat: string;
  accessLog: (line: string) => void;
  /** Where the authorizer's console output goes (stderr). */
  authorizerLog: (chunk: string) => void;
}

/** What `serve --json` reports about the API Gateway listeners. */
export interface ApigwInfo {
  authorizer: string | null;
  payload: AuthorizerPayload;
  ttlSeconds: number;
  identitySources: string[];
  mapHeaders: string[];
  api: ApiIdentity;
}

/** Describes the options for `serve --json`. */
export function apigwInfo(o: ApigwOptions): ApigwInfo {
  return {
    authorizer: o.authorizer ?? null,
    payload: o.payload,
    ttlSeconds: o.ttlSeconds,
    identitySources: o.identitySources.map((s) => s.text),
    mapHeaders: o.mappings.map((m) => m.text),
    api: o.api,
  };
}

/**
 * Loads the authorizer and starts the API Gateway listeners.
 * @throws MtlsKitError AUTHORIZER_NOT_LOADED (exit 4), PORT_IN_USE (exit 4).
 */
export async function startApigwListeners(
  o: ApigwOptions & {
    host: string;
    listeners: ListenerSpec[];
    certPem: string;
    keyPem: string;
    trustStore: TrustStore;
    target: URL;
    onError?: (m: string) => void;
    onSpoof?: (m: string) => void;
  },
): Promise<RunningApigwServer> {
  const {loadAuthorizer} = await import('./authorizer.js');
  const authorizer = o.authorizer ? await loadAuthorizer(o.authorizer, {timeoutMs: o.authorizerTimeoutMs, log: o.authorizerLog}) : null;
  try {
    return await startApigwServer({...o, authorizer});
  } catch (error) {
    await authorizer?.close();
    throw error;
  }
}

/** The parsed `serve` flags that concern apigw listeners (see apigwServeFlags in src/flags.ts). */
export interface ApigwFlagValues {
  host: string;
  authorizer?: string | undefined;
  'authorizer-payload': AuthorizerPayload;
  'authorizer-ttl': number;
  'identity-source'?: string[] | undefined;
  'authorizer-timeout': number;
  'map-header'?: string[] | undefined;
  stage?: string | undefined;
  'access-log'?: string | undefined;
  'access-log-format'?: string | undefined;
}

/**
 * Resolves the apigw flags into options, opening --access-log for appending. Returns
 * undefined when no apigw listener is configured and no apigw flag was given.
 * @throws MtlsKitError APIGW_FLAG_WITHOUT_LISTENER, BAD_IDENTITY_SOURCE, TTL_NEEDS_IDENTITY_SOURCE,
 *   BAD_MAP_HEADER (exit 2); LOG_NOT_WRITABLE (exit 4).
 */
export async function resolveApigwOptions(f: ApigwFlagValues, hasListener: boolean): Promise<{options: ApigwOptions; close(): Promise<void>} | undefined> {
  const given = Boolean(
    f.authorizer || f['map-header']?.length || f['identity-source']?.length || f['access-log'] || f['access-log-format'] || f['authorizer-ttl'] || f.stage,
  );
  if (!hasListener) {
    if (given)
      throw usageError(
        'APIGW_FLAG_WITHOUT_LISTENER',
        '--authorizer, --map-header, --identity-source, --authorizer-ttl, --stage and --access-log apply to apigw listeners, and none is configured',
        ['add --listen 8443:apigw'],
      );
    return undefined;
  }
  const identitySources = (f['identity-source'] ?? []).map((s) => {
    const parsed = parseIdentitySource(s);
    if (!parsed)
      throw usageError('BAD_IDENTITY_SOURCE', `--identity-source ${s} is not an identity source`, [
        'write method.request.header.NAME, method.request.querystring.NAME or context.VAR ($request.header.NAME also works)',
      ]);
    return parsed;
  });
  if (identitySources.length > 0 && !f.authorizer)
    throw usageError('IDENTITY_SOURCE_WITHOUT_AUTHORIZER', '--identity-source needs --authorizer', ['add --authorizer authorizer.js']);
  // API Gateway requires identity sources to key its cache.
  if (f['authorizer-ttl'] > 0 && identitySources.length === 0) {
    throw usageError('TTL_NEEDS_IDENTITY_SOURCE', `--authorizer-ttl ${f['authorizer-ttl']} needs at least one --identity-source to key the cache`, [
      'for example: --identity-source method.request.header.Authorization, or --identity-source context.identity.clientCert.serialNumber',
    ]);
  }
  let file: WriteStream | undefined;
  if (f['access-log']) {
    const path = f['access-log'];
    const stream = createWriteStream(path, {flags: 'a'});
    file = stream;
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          preconditionError('LOG_NOT_WRITABLE', `cannot write --access-log ${path}: ${e.code ?? e.message}`, ['choose a file in a folder you can write to']),
        ),
      );
    });
  }
  const http = f['authorizer-payload'] !== 'rest';
  const options: ApigwOptions = {
    ...(f.authorizer ? {authorizer: f.authorizer} : {}),
    payload: f['authorizer-payload'],
    identitySources,
    ttlSeconds: f['authorizer-ttl'],
    authorizerTimeoutMs: f['authorizer-timeout'] * 1000,
    mappings: parseHeaderMappings(f['map-header'] ?? []),
    api: {
      region: 'us-east-1',
      accountId: '123456789012',
      apiId: 'mtlskit',
      stage: f.stage ?? (http ? '$default' : 'test'),
      domainName: f.host === '127.0.0.1' || f.host === '::1' ? 'localhost' : f.host,
    },
    accessLogFormat: f['access-log-format'] ?? DEFAULT_ACCESS_LOG_FORMAT,
    accessLog: file ? (line) => void file!.write(line + '\n') : (line) => void process.stderr.write(line + '\n'),
    authorizerLog: (chunk) => void process.stderr.write(chunk),
  };
  return {
    options,
    close: () => (file ? new Promise<void>((resolve) => file!.end(() => resolve())) : Promise.resolve()),
  };
}
