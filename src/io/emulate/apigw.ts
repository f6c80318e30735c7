/**
 * An offline API Gateway emulator for the custom-domain-name calls of
 * `deploy --apigw-domain` and `status --apigw-domain`, speaking the REST-JSON protocol both
 * SDK clients use: `@aws-sdk/client-api-gateway` (`/domainnames/...`, `/restapis/...`) and
 * `@aws-sdk/client-apigatewayv2` (`/v2/domainnames/...`, `/v2/apis/...`). Errors are the
 * HTTP status, the `x-amzn-ErrorType` header and `{"message": ...}`, as API Gateway sends them.
 * Tests reach it only through endpoint URLs (AWS_ENDPOINT_URL_API_GATEWAY,
 * AWS_ENDPOINT_URL_APIGATEWAYV2) with the real SDK.
 *
 * What it enforces, and where AWS documents it:
 * - GetDomainName / UpdateDomainName of an unknown name → 404 NotFoundException
 *   (https://docs.aws.amazon.com/apigateway/latest/api/API_GetDomainName.html,
 *   https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/domainnames-domainname.html)
 * - UpdateDomainName (REST) takes patch operations; a path other than
 *   /mutualTlsAuthentication/truststoreUri, /mutualTlsAuthentication/truststoreVersion,
 *   /securityPolicy or an op other than replace → 400 BadRequestException
 *   (https://docs.aws.amazon.com/apigateway/latest/api/patch-operations.html#UpdateDomainName-Patch)
 * - mutual TLS needs a Regional custom domain name with security policy TLS_1_2 (REST);
 *   an edge-optimized domain → 400 BadRequestException
 *   (https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-mutual-tls.html, "Prerequisites")
 * - an enhanced security policy (`SecurityPolicy_*`) cannot be combined with mutual TLS → 400
 *   BadRequestException ("You can't enable mutual TLS on a domain name that uses an enhanced
 *   security policy", https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-custom-domain-tls-version.html)
 * - a server certificate imported into ACM or issued by AWS Private CA (`addDomain(..., {certificateType})`)
 *   needs `ownershipVerificationCertificateArn` before mutual TLS is turned on → 400
 *   BadRequestException ("Only required when configuring mutual TLS and using an ACM imported or
 *   private CA certificate ARN as the regionalCertificateArn",
 *   https://docs.aws.amazon.com/apigateway/latest/api/API_DomainName.html); the patch path
 *   /ownershipVerificationCertificateArn sets it. The error text is not documented (UNCONFIRMED).
 * - the truststore is `s3://bucket/key`, read from S3 with real GETs: a missing bucket,
 *   object or version → 400 BadRequestException; truststoreVersion needs a versioned
 *   bucket ("To specify a version, you must have versioning enabled for the S3 bucket",
 *   https://docs.aws.amazon.com/apigateway/latest/api/API_MutualTlsAuthentication.html)
 * - a truststore that is not PEM certificates → 400 BadRequestException; invalid certificates
 *   only produce `truststoreWarnings` and mutual TLS stays enabled (same page: "Invalid
 *   certificates produce warnings. Mutual TLS is still enabled"); warned here: expired or
 *   not yet valid, not X.509 v3, RSA under 2048 bits, EC under 256 bits, a hash weaker than
 *   SHA-256, an issuer missing from the file (the complete chain), a chain longer than 4
 *   (rest-api-mutual-tls.html, "Configuring your truststore"). The warning text format is not
 *   documented (UNCONFIRMED); here: `Certificate <RFC 2253 subject> (serial <hex>): <problem>`
 * - an emptied truststoreUri turns mutual TLS off (rest-api-mutual-tls.html, "Disable mutual TLS")
 * - the domain is UPDATING for `updateDelayMs` after an update, then AVAILABLE; an update
 *   while UPDATING → 409 ConflictException
 *   (https://docs.aws.amazon.com/apigateway/latest/api/CommonErrors.html lists ConflictException)
 * - base path mappings (REST, JSON key `item`) and API mappings (HTTP, `items`); GetRestApi /
 *   GetApi with `disableExecuteApiEndpoint` (rest-api-disable-default-endpoint.html). A
 *   simplification: v1 lists only mappings to REST APIs and v2 only mappings to HTTP APIs.
 * - injected faults: `injectFault({status, code, count})` (429 TooManyRequestsException is
 *   retried by the SDK)
 */
import type {IncomingMessage, ServerResponse} from 'node:http';
import {HttpStandIn} from './http-stand-in.js';
import {parseCertificate, type ParsedCertificate} from '../../lib/x509/cert.js';
import {formatRfc2253} from '../../lib/x509/dn.js';
import {parsePem} from '../../lib/x509/pem.js';

export type ApiType = 'rest' | 'http';

export interface EmulatedDomain {
  name: string;
  endpointType: 'REGIONAL' | 'EDGE';
  securityPolicy: string;
  /** How ACM holds the Regional server certificate (AMAZON_ISSUED, IMPORTED or PRIVATE). */
  certificateType: 'AMAZON_ISSUED' | 'IMPORTED' | 'PRIVATE';
  ownershipVerificationCertificateArn: string | null;
  status: 'AVAILABLE' | 'UPDATING';
  mtls: {truststoreUri: string; truststoreVersion: string | null; truststoreWarnings: string[]} | null;
  /** The truststore bytes API Gateway copied at the last update. */
  held: Buffer | null;
}

export interface ApigwCall {
  method: string;
  path: string;
  body: unknown;
}

export interface ApigwEmulatorOptions {
  s3Endpoint: string;
  updateDelayMs?: number;
  /** The clock for certificate validity (default: now). */
  now?: () => Date;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export class ApigwEmulator extends HttpStandIn {
  readonly domains = new Map<string, EmulatedDomain>();
  readonly apis = new Map<string, {type: ApiType; disableExecuteApiEndpoint: boolean}>();
  readonly mappings: Array<{domain: string; apiId: string; basePath: string; stage: string}> = [];
  readonly calls: ApigwCall[] = [];
  private faults: Array<{status: number; code: string; count: number}> = [];

  constructor(readonly opts: ApigwEmulatorOptions) {
    super();
  }

  addDomain(
    name: string,
    o: {
      endpointType?: 'REGIONAL' | 'EDGE';
      securityPolicy?: string;
      certificateType?: EmulatedDomain['certificateType'];
      ownershipVerificationCertificateArn?: string;
    } = {},
  ): void {
    this.domains.set(name, {
      name,
      endpointType: o.endpointType ?? 'REGIONAL',
      securityPolicy: o.securityPolicy ?? 'TLS_1_2',
      certificateType: o.certificateType ?? 'AMAZON_ISSUED',
      ownershipVerificationCertificateArn: o.ownershipVerificationCertificateArn ?? null,
      status: 'AVAILABLE',
      mtls: null,
      held: null,
    });
  }

  addApi(id: string, type: ApiType, o: {disableExecuteApiEndpoint?: boolean} = {}): void {
    this.apis.set(id, {type, disableExecuteApiEndpoint: o.disableExecuteApiEndpoint ?? false});
  }

  map(domain: string, apiId: string, stage = 'prod'): void {
    this.mappings.push({domain, apiId, basePath: '(none)', stage});
  }

  injectFault(f: {status: number; code: string; count: number}): void {
    this.faults.push({...f});
  }

  /** Calls that change something. */
  mutatingCalls(): ApigwCall[] {
    return this.calls.filter((c) => c.method !== 'GET');
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    const u = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    this.calls.push({method, path: u.pathname, body});
    const send = (status: number, value: unknown, headers: Record<string, string> = {}): void => {
      const out = JSON.stringify(value);
      res.writeHead(status, {'content-type': 'application/json', 'x-amzn-requestid': `req-${this.calls.length}`, ...headers});
      res.end(out);
    };
    try {
      const fault = this.faults.find((f) => f.count > 0);
      if (fault) {
        fault.count--;
        throw new ApiError(fault.status, fault.code, `injected ${fault.code}`);
      }
      const parts = u.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      const v2 = parts[0] === 'v2';
      const p = v2 ? parts.slice(1) : parts;
      if (p[0] === 'domainnames' && p.length === 2) {
        const d = this.domain(p[1]!);
        if (method === 'GET') return send(200, v2 ? this.v2Domain(d) : this.v1Domain(d));
        if (method === 'PATCH') {
          await this.update(d, v2 ? v2Changes(body) : v1Changes(body));
          return send(200, v2 ? this.v2Domain(d) : this.v1Domain(d));
        }
      }
      if (p[0] === 'domainnames' && p.length === 3 && method === 'GET') {
        this.domain(p[1]!);
        const mine = this.mappings.filter((m) => m.domain === p[1] && this.apis.get(m.apiId)?.type === (v2 ? 'http' : 'rest'));
        if (!v2 && p[2] === 'basepathmappings') return send(200, {item: mine.map((m) => ({basePath: m.basePath, restApiId: m.apiId, stage: m.stage}))});
        if (v2 && p[2] === 'apimappings')
          return send(200, {items: mine.map((m, i) => ({apiId: m.apiId, apiMappingId: `map${i}`, apiMappingKey: '', stage: m.stage}))});
      }
      if (!v2 && p[0] === 'restapis' && p.length === 2 && method === 'GET') {
        const a = this.apis.get(p[1]!);
        if (a?.type !== 'rest') throw new ApiError(404, 'NotFoundException', 'Invalid API identifier specified');
        return send(200, {id: p[1], name: p[1], disableExecuteApiEndpoint: a.disableExecuteApiEndpoint, endpointConfiguration: {types: ['REGIONAL']}});
      }
      if (v2 && p[0] === 'apis' && p.length === 2 && method === 'GET') {
        const a = this.apis.get(p[1]!);
        if (a?.type !== 'http') throw new ApiError(404, 'NotFoundException', 'Invalid API identifier specified');
        return send(200, {
          apiId: p[1],
          name: p[1],
          protocolType: 'HTTP',
          disableExecuteApiEndpoint: a.disableExecuteApiEndpoint,
          apiEndpoint: `https://${p[1]}.execute-api.us-east-1.amazonaws.com`,
        });
      }
      throw new ApiError(404, 'NotFoundException', `no route for ${method} ${u.pathname}`);
    } catch (error) {
      if (error instanceof ApiError) return send(error.status, {message: error.message}, {'x-amzn-errortype': error.type});
      return send(500, {message: String(error)}, {'x-amzn-errortype': 'InternalServerErrorException'});
    }
  }

  private domain(name: string): EmulatedDomain {
    const d = this.domains.get(name);
    if (!d) throw new ApiError(404, 'NotFoundException', 'Invalid domain name identifier specified');
    return d;
  }

  private v1Domain(d: EmulatedDomain): unknown {
    return {
      domainName: d.name,
      regionalDomainName: `d-abc123.execute-api.us-east-1.amazonaws.com`,
      regionalCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
      endpointConfiguration: {types: [d.endpointType]},
      domainNameStatus: d.status,
      securityPolicy: d.securityPolicy,
      ...(d.ownershipVerificationCertificateArn ? {ownershipVerificationCertificateArn: d.ownershipVerificationCertificateArn} : {}),
      ...(d.mtls
        ? {
            mutualTlsAuthentication: {
              truststoreUri: d.mtls.truststoreUri,
              ...(d.mtls.truststoreVersion ? {truststoreVersion: d.mtls.truststoreVersion} : {}),
              truststoreWarnings: d.mtls.truststoreWarnings,
            },
          }
        : {}),
    };
  }

  private v2Domain(d: EmulatedDomain): unknown {
    return {
      domainName: d.name,
      domainNameConfigurations: [
        {
          apiGatewayDomainName: 'd-abc123.execute-api.us-east-1.amazonaws.com',
          certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
          domainNameStatus: d.status,
          endpointType: d.endpointType,
          securityPolicy: d.securityPolicy,
          ...(d.ownershipVerificationCertificateArn ? {ownershipVerificationCertificateArn: d.ownershipVerificationCertificateArn} : {}),
        },
      ],
      ...(d.mtls
        ? {
            mutualTlsAuthentication: {
              truststoreUri: d.mtls.truststoreUri,
              ...(d.mtls.truststoreVersion ? {truststoreVersion: d.mtls.truststoreVersion} : {}),
              truststoreWarnings: d.mtls.truststoreWarnings,
            },
          }
        : {}),
    };
  }

  private async update(d: EmulatedDomain, ch: Changes): Promise<void> {
    if (d.status === 'UPDATING') throw new ApiError(409, 'ConflictException', `Domain name ${d.name} is being updated; try again later`);
    if (ch.securityPolicy) d.securityPolicy = ch.securityPolicy;
    if (ch.ownership !== undefined) d.ownershipVerificationCertificateArn = ch.ownership || null;
    const uri = ch.uri ?? d.mtls?.truststoreUri;
    const version = ch.version !== undefined ? ch.version : (d.mtls?.truststoreVersion ?? null);
    if (uri === '') {
      d.mtls = null;
      d.held = null;
    } else if (uri !== undefined && (ch.uri !== undefined || ch.version !== undefined)) {
      if (d.endpointType !== 'REGIONAL') throw new ApiError(400, 'BadRequestException', 'Mutual TLS is only supported on REGIONAL domain names');
      if (d.securityPolicy.startsWith('SecurityPolicy_'))
        throw new ApiError(
          400,
          'BadRequestException',
          `Mutual TLS cannot be enabled on a domain name that uses the enhanced security policy ${d.securityPolicy}`,
        );
      if (d.securityPolicy !== 'TLS_1_2') throw new ApiError(400, 'BadRequestException', 'Mutual TLS requires the TLS_1_2 security policy');
      if (d.certificateType !== 'AMAZON_ISSUED' && !d.ownershipVerificationCertificateArn)
        throw new ApiError(
          400,
          'BadRequestException',
          'An ownershipVerificationCertificateArn is required to enable mutual TLS with an imported or private CA certificate',
        );
      const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
      if (!m) throw new ApiError(400, 'BadRequestException', `Invalid truststore URI ${uri}: expected s3://bucket-name/key-name`);
      const held = await this.readS3(m[1]!, m[2]!, version);
      d.mtls = {truststoreUri: uri, truststoreVersion: version, truststoreWarnings: this.warnings(held)};
      d.held = held;
    }
    d.status = 'UPDATING';
    setTimeout(() => {
      d.status = 'AVAILABLE';
    }, this.opts.updateDelayMs ?? 200).unref();
  }

  private async readS3(bucket: string, key: string, version: string | null): Promise<Buffer> {
    if (version) {
      const v = await fetch(`${this.opts.s3Endpoint}/${bucket}?versioning`);
      const enabled = v.ok && /<Status>Enabled<\/Status>/.test(await v.text());
      if (!enabled) throw new ApiError(400, 'BadRequestException', `The truststore version cannot be used: bucket ${bucket} does not have versioning enabled`);
    }
    const r = await fetch(
      `${this.opts.s3Endpoint}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}${version ? `?versionId=${encodeURIComponent(version)}` : ''}`,
    );
    if (!r.ok) {
      const code = /<Code>([^<]+)<\/Code>/.exec(await r.text())?.[1] ?? String(r.status);
      throw new ApiError(400, 'BadRequestException', `Unable to read the truststore s3://${bucket}/${key}${version ? ` version ${version}` : ''} (${code})`);
    }
    return Buffer.from(await r.arrayBuffer());
  }

  /** Warnings for a truststore; throws BadRequestException when it holds no PEM certificate. */
  private warnings(data: Buffer): string[] {
    let certs: ParsedCertificate[];
    try {
      const blocks = parsePem(data.toString('latin1'), 'truststore').filter((b) => b.label === 'CERTIFICATE');
      if (blocks.length === 0) throw new Error('no certificate');
      certs = blocks.map((b) => parseCertificate(b.der));
    } catch (error) {
      throw new ApiError(400, 'BadRequestException', `Invalid truststore: ${(error as Error).message}`);
    }
    const now = this.opts.now?.() ?? new Date();
    const bySubject = new Map(certs.map((c) => [Buffer.from(c.subject).toString('latin1'), c]));
    const out: string[] = [];
    for (const c of certs) {
      const problems: string[] = [];
      if (c.notAfter < now) problems.push('the certificate has expired');
      if (c.notBefore > now) problems.push('the certificate is not yet valid');
      if (c.version !== 3) problems.push('not an X.509 v3 certificate');
      if (c.publicKey.kind === 'rsa' && (c.publicKey.bits ?? 0) < 2048) problems.push(`RSA key of ${c.publicKey.bits} bits; at least 2048 required`);
      if (c.publicKey.kind === 'ec' && !/P-(256|384|521)|prime256v1|secp384r1|secp521r1/.test(String(c.publicKey.curve)))
        problems.push(`unsupported EC curve ${c.publicKey.curve}`);
      if (/sha1|md5/i.test(c.signatureAlgorithm.name)) problems.push(`unsupported signature algorithm ${c.signatureAlgorithm.name}`);
      let cur = c;
      let length = 1;
      for (let i = 0; i < 16 && Buffer.compare(Buffer.from(cur.subject), Buffer.from(cur.issuer)) !== 0; i++) {
        const up = bySubject.get(Buffer.from(cur.issuer).toString('latin1'));
        if (!up) {
          problems.push(`the issuer ${formatRfc2253(cur.issuer)} is not in the truststore (incomplete chain)`);
          break;
        }
        cur = up;
        length++;
      }
      if (length > 4) problems.push(`chain length ${length} exceeds 4`);
      for (const pr of problems) out.push(`Certificate ${formatRfc2253(c.subject)} (serial ${c.serialHex}): ${pr}`);
    }
    return out;
  }
}

interface Changes {
  uri?: string;
  version?: string | null;
  securityPolicy?: string;
  ownership?: string;
}

function v1Changes(body: unknown): Changes {
  const ops = (body as {patchOperations?: Array<{op?: string; path?: string; value?: string}>} | null)?.patchOperations;
  if (!Array.isArray(ops) || ops.length === 0) throw new ApiError(400, 'BadRequestException', 'patchOperations is required');
  const out: Changes = {};
  for (const o of ops) {
    if (o.op !== 'replace') throw new ApiError(400, 'BadRequestException', `Invalid patch operation ${o.op} for ${o.path}; only replace is supported`);
    if (o.path === '/mutualTlsAuthentication/truststoreUri') out.uri = o.value ?? '';
    else if (o.path === '/mutualTlsAuthentication/truststoreVersion') out.version = o.value || null;
    else if (o.path === '/securityPolicy') out.securityPolicy = o.value ?? '';
    else if (o.path === '/ownershipVerificationCertificateArn') out.ownership = o.value ?? '';
    else throw new ApiError(400, 'BadRequestException', `Invalid patch path ${o.path}`);
  }
  return out;
}

function v2Changes(body: unknown): {uri?: string; version?: string | null} {
  const m = (body as {mutualTlsAuthentication?: {truststoreUri?: string; truststoreVersion?: string}} | null)?.mutualTlsAuthentication;
  if (!m) return {};
  return {...(m.truststoreUri !== undefined ? {uri: m.truststoreUri} : {}), version: m.truststoreVersion ?? null};
}
