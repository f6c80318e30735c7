/**
 * An offline CloudFront emulator for the trust-store and distribution calls of
 * `deploy --cloudfront-trust-store`, `status` and `destroy`, speaking the REST-XML protocol
 * `@aws-sdk/client-cloudfront` uses (API version 2020-05-31; the SDK serialises, this parses
 * with the SDK's own XML parser, `@aws-sdk/xml-builder`'s `parseXML`). Errors are
 * `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>` with
 * the HTTP status of each error shape. Tests reach it only through endpoint URLs
 * (AWS_ENDPOINT_URL_CLOUDFRONT) with the real SDK.
 *
 * Operations (paths from the SDK model): CreateTrustStore `POST /trust-store`, GetTrustStore
 * `GET /trust-store/{Identifier}`, UpdateTrustStore `PUT /trust-store/{Id}`, DeleteTrustStore
 * `DELETE /trust-store/{Id}`, ListTrustStores `POST /trust-stores`, ListDistributionsByTrustStore
 * `GET /distributionsByTrustStore`, GetDistributionConfig `GET /distribution/{Id}/config`,
 * UpdateDistribution `PUT /distribution/{Id}/config`.
 *
 * What it enforces, and where AWS documents it (aws-reference 11.1, 11.2):
 * - the bundle comes from S3 (`CaCertificatesBundleS3Location` Bucket, Key, Region, Version),
 *   read here with a real GET; a missing bucket, object or version → 400 InvalidArgument
 *   (CF-API-CreateTrustStore; the error text is UNCONFIRMED)
 * - the bundle is PEM CA certificates: no certificate, or a certificate that is not a CA
 *   (basicConstraints cA) → 400 InvalidArgument (CF-truststores: "root and intermediate CA
 *   certificates"); the count is `NumberOfCaCertificates`
 * - a second trust store with the same name → 409 EntityAlreadyExists (the SDK model lists it)
 * - quotas (certificates per trust store, bundle size) are not documented (UNCONFIRMED); here:
 *   none beyond 1 MB, `EntityLimitExceeded` otherwise, one constant below
 * - a new or updated trust store is `pending` for `delayMs`, then `active`
 *   (TrustStoreStatus pending | active | failed in the SDK model)
 * - UpdateTrustStore, DeleteTrustStore and UpdateDistribution take the ETag in If-Match: none →
 *   400 InvalidIfMatchVersion, a stale one → 412 PreconditionFailed (CloudFront's optimistic
 *   locking for every update; the SDK model lists both errors)
 * - DeleteTrustStore of a trust store a distribution's ViewerMtlsConfig names → 409
 *   CannotDeleteEntityWhileInUse (listed in the SDK model)
 * - ViewerMtlsConfig: Mode required | optional | passthrough (the SDK model's enum); required and
 *   optional need TrustStoreConfig.TrustStoreId naming an existing, active trust store → 400
 *   InvalidArgument (UNCONFIRMED which error AWS returns for a pending one)
 * - unknown ids → 404 NoSuchDistribution / EntityNotFound
 */
import type {IncomingMessage, ServerResponse} from 'node:http';
import {randomBytes} from 'node:crypto';
import {parseXML} from '@aws-sdk/xml-builder';
import {HttpStandIn} from './http-stand-in.js';
import {parseCertificate} from '../../lib/x509/cert.js';
import {parsePem} from '../../lib/x509/pem.js';

const XMLNS = 'http://cloudfront.amazonaws.com/doc/2020-05-31/';
/** The emulator's bundle size limit; AWS documents none for CloudFront (UNCONFIRMED, aws-reference 11.1). */
export const EMULATED_BUNDLE_LIMIT_BYTES = 1024 * 1024;

type XmlValue = string | XmlObject | XmlValue[];
interface XmlObject {
  [key: string]: XmlValue;
}

export interface EmulatedTrustStore {
  id: string;
  arn: string;
  name: string;
  status: 'pending' | 'active' | 'failed';
  certificates: number;
  etag: string;
  ocsp: boolean;
  lastModified: Date;
  source: {bucket: string; key: string; version: string | null};
}

export interface EmulatedDistribution {
  id: string;
  etag: string;
  /** The DistributionConfig as parsed XML (round-tripped as sent). */
  config: XmlObject;
}

export interface CloudfrontCall {
  method: string;
  path: string;
  /** The S3 object the call made CloudFront read (CreateTrustStore, UpdateTrustStore). */
  read?: {bucket: string; key: string; version: string | null};
}

class CfError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Serialises parsed XML back (elements only; attributes such as xmlns are dropped). */
function toXml(name: string, v: XmlValue): string {
  if (Array.isArray(v)) return v.map((x) => toXml(name, x)).join('');
  if (typeof v === 'string') return `<${name}>${esc(v)}</${name}>`;
  return `<${name}>${Object.entries(v)
    .filter(([k]) => !k.startsWith('@_') && k !== '#text')
    .map(([k, x]) => toXml(k, x))
    .join('')}</${name}>`;
}

const obj = (v: XmlValue | undefined): XmlObject | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? v : undefined);
const str = (v: XmlValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

export class CloudfrontEmulator extends HttpStandIn {
  readonly trustStores = new Map<string, EmulatedTrustStore>();
  readonly distributions = new Map<string, EmulatedDistribution>();
  readonly calls: CloudfrontCall[] = [];
  private seq = 0;

  constructor(readonly opts: {s3Endpoint: string; delayMs?: number; account?: string}) {
    super();
  }

  /** A distribution with a minimal configuration and no viewer mTLS. */
  addDistribution(id: string): void {
    const xml = `<DistributionConfig><CallerReference>${id}-ref</CallerReference><Comment>${id}</Comment><Enabled>true</Enabled><Origins><Quantity>1</Quantity><Items><Origin><Id>origin1</Id><DomainName>origin.example.com</DomainName><CustomOriginConfig><HTTPPort>80</HTTPPort><HTTPSPort>443</HTTPSPort><OriginProtocolPolicy>https-only</OriginProtocolPolicy></CustomOriginConfig></Origin></Items></Origins><DefaultCacheBehavior><TargetOriginId>origin1</TargetOriginId><ViewerProtocolPolicy>https-only</ViewerProtocolPolicy></DefaultCacheBehavior><ViewerCertificate><CloudFrontDefaultCertificate>true</CloudFrontDefaultCertificate></ViewerCertificate></DistributionConfig>`;
    this.distributions.set(id, {id, etag: this.etag(), config: obj(parseXML(xml).DistributionConfig as XmlValue)!});
  }

  /** The distribution's ViewerMtlsConfig as plain values, or null. */
  viewerMtls(id: string): {mode: string; trustStoreId: string | null; advertise: boolean; ignoreExpiry: boolean} | null {
    const v = obj(this.distributions.get(id)?.config.ViewerMtlsConfig);
    if (!v) return null;
    const t = obj(v.TrustStoreConfig);
    return {
      mode: str(v.Mode) ?? 'required',
      trustStoreId: str(t?.TrustStoreId) ?? null,
      advertise: str(t?.AdvertiseTrustStoreCaNames) === 'true',
      ignoreExpiry: str(t?.IgnoreCertificateExpiry) === 'true',
    };
  }

  /** Calls that change something. */
  mutatingCalls(): CloudfrontCall[] {
    return this.calls.filter((c) => c.method !== 'GET' && !(c.method === 'POST' && c.path.endsWith('/trust-stores')));
  }

  private etag(): string {
    this.seq++;
    return `E${this.seq.toString(36).toUpperCase().padStart(12, '0')}`;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const u = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    this.calls.push({method, path: u.pathname});
    const rid = randomBytes(8).toString('hex');
    const send = (status: number, root: string, value: XmlObject | null, headers: Record<string, string> = {}): void => {
      res.writeHead(status, {'content-type': 'text/xml', 'x-amz-request-id': rid, ...headers});
      res.end(value ? `<?xml version="1.0" encoding="UTF-8"?>\n${toXml(root, value).replace(`<${root}>`, `<${root} xmlns="${XMLNS}">`)}` : undefined);
    };
    try {
      const body: XmlObject = text.trim() ? (parseXML(text) as XmlObject) : {};
      const p = u.pathname
        .replace(/^\/2020-05-31/, '')
        .split('/')
        .filter(Boolean)
        .map(decodeURIComponent);
      const ifMatch = typeof req.headers['if-match'] === 'string' ? req.headers['if-match'] : undefined;
      if (p[0] === 'trust-store' && p.length === 1 && method === 'POST') {
        const ts = await this.create(obj(body.CreateTrustStoreRequest) ?? {});
        return send(201, 'TrustStore', this.view(ts), {etag: ts.etag, location: `https://cloudfront.amazonaws.com/2020-05-31/trust-store/${ts.id}`});
      }
      if (p[0] === 'trust-store' && p.length === 2) {
        const ts = this.trustStore(p[1]!);
        if (method === 'GET') return send(200, 'TrustStore', this.view(ts), {etag: ts.etag});
        this.checkIfMatch(ifMatch, ts.etag);
        if (method === 'PUT') {
          const loc = obj(obj(body.CaCertificatesBundleSource)?.CaCertificatesBundleS3Location);
          if (loc) await this.load(ts, loc);
          const ocsp = req.headers.useclientcertificateocspendpoint;
          if (typeof ocsp === 'string') ts.ocsp = ocsp === 'true';
          ts.etag = this.etag();
          ts.lastModified = new Date();
          return send(200, 'TrustStore', this.view(ts), {etag: ts.etag});
        }
        if (method === 'DELETE') {
          const users = this.usersOf(ts.id);
          if (users.length > 0)
            throw new CfError(
              409,
              'CannotDeleteEntityWhileInUse',
              `Trust store ${ts.id} is associated with ${users.length === 1 ? 'distribution' : 'distributions'} ${users.join(', ')}`,
            );
          this.trustStores.delete(ts.id);
          res.writeHead(204, {'x-amz-request-id': rid});
          return void res.end();
        }
      }
      if (p[0] === 'trust-stores' && p.length === 1 && method === 'POST') {
        const r = obj(body.ListTrustStoresRequest) ?? {};
        const all = [...this.trustStores.values()];
        const start = Number(str(r.Marker) ?? '0') || 0;
        const max = Math.min(Number(str(r.MaxItems) ?? '100') || 100, 100);
        const page = all.slice(start, start + max);
        return send(200, 'ListTrustStoresResult', {
          ...(start + max < all.length ? {NextMarker: String(start + max)} : {}),
          TrustStoreList: {TrustStoreSummary: page.map((ts) => ({...this.view(ts), ETag: ts.etag}))},
        });
      }
      if (p[0] === 'distributionsByTrustStore' && method === 'GET') {
        const id = u.searchParams.get('TrustStoreIdentifier') ?? '';
        const users = this.usersOf(this.trustStore(id).id);
        return send(200, 'DistributionList', {
          Marker: '',
          MaxItems: '100',
          IsTruncated: 'false',
          Quantity: String(users.length),
          Items: {
            DistributionSummary: users.map((d) => ({
              Id: d,
              ARN: `arn:aws:cloudfront::${this.opts.account ?? '123456789012'}:distribution/${d}`,
              Status: 'Deployed',
              DomainName: `${d.toLowerCase()}.cloudfront.net`,
            })),
          },
        });
      }
      if (p[0] === 'distribution' && p.length === 3 && p[2] === 'config') {
        const d = this.distributions.get(p[1]!);
        if (!d) throw new CfError(404, 'NoSuchDistribution', 'The specified distribution does not exist.');
        if (method === 'GET') return send(200, 'DistributionConfig', d.config, {etag: d.etag});
        if (method === 'PUT') {
          this.checkIfMatch(ifMatch, d.etag);
          const config = obj(body.DistributionConfig);
          if (!config) throw new CfError(400, 'MissingBody', 'This operation requires a body.');
          if (str(config.CallerReference) !== str(d.config.CallerReference))
            throw new CfError(400, 'IllegalUpdate', 'The CallerReference of a distribution cannot be changed.');
          this.checkViewerMtls(obj(config.ViewerMtlsConfig));
          d.config = config;
          d.etag = this.etag();
          return send(
            200,
            'Distribution',
            {
              Id: d.id,
              ARN: `arn:aws:cloudfront::${this.opts.account ?? '123456789012'}:distribution/${d.id}`,
              Status: 'InProgress',
              LastModifiedTime: new Date().toISOString(),
              InProgressInvalidationBatches: '0',
              DomainName: `${d.id.toLowerCase()}.cloudfront.net`,
              DistributionConfig: d.config,
            },
            {etag: d.etag},
          );
        }
      }
      throw new CfError(404, 'NotFound', `no route for ${method} ${u.pathname}`);
    } catch (error) {
      const e = error instanceof CfError ? error : new CfError(500, 'InternalError', String(error));
      res.writeHead(e.status, {'content-type': 'text/xml', 'x-amz-request-id': rid});
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${XMLNS}"><Error><Type>${e.status < 500 ? 'Sender' : 'Receiver'}</Type><Code>${e.code}</Code><Message>${esc(e.message)}</Message></Error><RequestId>${rid}</RequestId></ErrorResponse>`,
      );
    }
  }

  private checkIfMatch(ifMatch: string | undefined, etag: string): void {
    if (!ifMatch) throw new CfError(400, 'InvalidIfMatchVersion', 'The If-Match version is missing or not valid for the resource.');
    if (ifMatch !== etag)
      throw new CfError(412, 'PreconditionFailed', 'The precondition given in one or more of the request-header fields evaluated to false.');
  }

  private checkViewerMtls(v: XmlObject | undefined): void {
    if (!v) return;
    const mode = str(v.Mode) ?? 'required';
    if (!['required', 'optional', 'passthrough'].includes(mode))
      throw new CfError(400, 'InvalidArgument', `ViewerMtlsConfig Mode ${mode} is not one of required, optional, passthrough`);
    if (mode === 'passthrough') return;
    const id = str(obj(v.TrustStoreConfig)?.TrustStoreId);
    if (!id) throw new CfError(400, 'InvalidArgument', `ViewerMtlsConfig Mode ${mode} needs TrustStoreConfig.TrustStoreId`);
    const ts = this.trustStores.get(id);
    if (!ts) throw new CfError(400, 'InvalidArgument', `The trust store ${id} does not exist`);
    if (ts.status !== 'active') throw new CfError(400, 'InvalidArgument', `The trust store ${id} is ${ts.status}, not active`);
  }

  private usersOf(trustStoreId: string): string[] {
    return [...this.distributions.keys()].filter((d) => this.viewerMtls(d)?.trustStoreId === trustStoreId);
  }

  private trustStore(idOrArn: string): EmulatedTrustStore {
    const ts = this.trustStores.get(idOrArn) ?? [...this.trustStores.values()].find((t) => t.arn === idOrArn);
    if (!ts) throw new CfError(404, 'EntityNotFound', `The trust store ${idOrArn} does not exist.`);
    return ts;
  }

  private view(ts: EmulatedTrustStore): XmlObject {
    return {
      Id: ts.id,
      Arn: ts.arn,
      Name: ts.name,
      Status: ts.status,
      NumberOfCaCertificates: String(ts.certificates),
      LastModifiedTime: ts.lastModified.toISOString(),
      ...(ts.status === 'failed' ? {Reason: 'The CA certificates bundle could not be processed'} : {}),
      UseClientCertificateOCSPEndpoint: String(ts.ocsp),
    };
  }

  private async create(r: XmlObject): Promise<EmulatedTrustStore> {
    const name = str(r.Name);
    if (!name) throw new CfError(400, 'InvalidArgument', 'Name is required');
    if ([...this.trustStores.values()].some((t) => t.name === name))
      throw new CfError(409, 'EntityAlreadyExists', `A trust store named ${name} already exists.`);
    const loc = obj(obj(r.CaCertificatesBundleSource)?.CaCertificatesBundleS3Location);
    if (!loc) throw new CfError(400, 'InvalidArgument', 'CaCertificatesBundleSource.CaCertificatesBundleS3Location is required');
    const id = `ts-${randomBytes(8).toString('hex')}`;
    const ts: EmulatedTrustStore = {
      id,
      arn: `arn:aws:cloudfront::${this.opts.account ?? '123456789012'}:trust-store/${id}`,
      name,
      status: 'pending',
      certificates: 0,
      etag: this.etag(),
      ocsp: str(r.UseClientCertificateOCSPEndpoint) === 'true',
      lastModified: new Date(),
      source: {bucket: '', key: '', version: null},
    };
    await this.load(ts, loc);
    this.trustStores.set(id, ts);
    return ts;
  }

  /** Reads the bundle from S3, checks it and makes the trust store pending for delayMs. */
  private async load(ts: EmulatedTrustStore, loc: XmlObject): Promise<void> {
    const bucket = str(loc.Bucket);
    const key = str(loc.Key);
    const version = str(loc.Version) ?? null;
    if (!bucket || !key) throw new CfError(400, 'InvalidArgument', 'CaCertificatesBundleS3Location needs Bucket and Key');
    const r = await fetch(
      `${this.opts.s3Endpoint}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}${version ? `?versionId=${encodeURIComponent(version)}` : ''}`,
    );
    if (!r.ok) {
      const code = /<Code>([^<]+)<\/Code>/.exec(await r.text())?.[1] ?? String(r.status);
      throw new CfError(
        400,
        'InvalidArgument',
        `Unable to read the CA certificates bundle s3://${bucket}/${key}${version ? ` version ${version}` : ''} (${code})`,
      );
    }
    const call = this.calls.at(-1);
    if (call) call.read = {bucket, key, version};
    const data = Buffer.from(await r.arrayBuffer());
    if (data.length > EMULATED_BUNDLE_LIMIT_BYTES)
      throw new CfError(400, 'EntityLimitExceeded', `The CA certificates bundle is ${data.length} bytes; the limit is ${EMULATED_BUNDLE_LIMIT_BYTES}`);
    let count = 0;
    try {
      const blocks = parsePem(data.toString('latin1'), 'bundle').filter((b) => b.label === 'CERTIFICATE');
      if (blocks.length === 0) throw new Error('no PEM certificate');
      for (const b of blocks) {
        const c = parseCertificate(b.der);
        if (c.basicConstraints?.ca !== true) throw new Error(`certificate serial ${c.serialHex} is not a CA certificate`);
        count++;
      }
    } catch (error) {
      throw new CfError(400, 'InvalidArgument', `Invalid CA certificates bundle s3://${bucket}/${key}: ${(error as Error).message}`);
    }
    ts.certificates = count;
    ts.source = {bucket, key, version};
    ts.status = 'pending';
    setTimeout(() => {
      if (this.trustStores.get(ts.id) === ts) ts.status = 'active';
    }, this.opts.delayMs ?? 200).unref();
  }
}
