/**
 * `mtls-kit emulate`: the three AWS stand-ins of this folder behind one port on 127.0.0.1, so
 * the SDK (mtls-kit, the AWS CLI, any SDK) reaches all of them with one endpoint URL.
 *
 * Each stand-in listens on its own ephemeral port; the front server forwards each request
 * by the service in its SigV4 credential scope (`Credential=KEY/DATE/REGION/SERVICE/aws4_request`):
 * `s3` → the S3 server, `elasticloadbalancing` → ELBv2, `apigateway` → API Gateway (REST and
 * HTTP APIs sign with the same service name), `cloudfront` → CloudFront trust stores and
 * distributions (cloudfront.ts), `acm` → ACM ImportCertificate / DescribeCertificate /
 * GetCertificate (acm.ts, for CloudFront origin mTLS). Unsigned requests (the pre-signed content links
 * that GetTrustStoreCaCertificatesBundle returns, a `curl -X PUT` of a file) go by their shape:
 * `/_content/...` → ELBv2, `/domainnames`, `/restapis`, `/v2/...` → API Gateway, `/2020-05-31/...` → CloudFront, a form POST →
 * ELBv2, anything else → S3. Any other signed service gets a 400 naming it.
 *
 * Honest about what it is: an emulator of the documented API and its validation (each file's
 * header lists what it enforces and where AWS documents it), in memory, no IAM, no signature
 * check, nothing persisted; the load balancers and domains serve no traffic (`mtls-kit serve`
 * does that).
 */
import {createServer, type IncomingMessage, request, type Server, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import {AcmEmulator} from './acm.js';
import {ApigwEmulator, type ApiType} from './apigw.js';
import {CloudfrontEmulator} from './cloudfront.js';
import {Elbv2Emulator} from './elbv2.js';
import {VersionedS3} from './s3.js';

export interface EmulatorOptions {
  /** Port of the front server on 127.0.0.1 (0: a free one). */
  port: number;
  region: string;
  buckets: string[];
  versionedBuckets: string[];
  /** Application Load Balancers to create, by name. */
  albs: string[];
  /** Network Load Balancers to create, by name. */
  nlbs: string[];
  /** API Gateway custom domain names (Regional, TLS_1_2), each with an API of this type mapped. */
  domains: Array<{name: string; api: ApiType}>;
  /** CloudFront distribution ids to create (minimal configuration, no viewer mTLS). */
  distributions?: string[];
  /** How long a new trust store stays CREATING, and a domain UPDATING (ms). */
  delayMs?: number;
}

export interface RunningEmulator {
  url: string;
  elb: Elbv2Emulator;
  apigw: ApigwEmulator;
  cloudfront: CloudfrontEmulator;
  acm: AcmEmulator;
  s3: VersionedS3;
  /** Load balancer name → ARN, in the order created. */
  loadBalancers: Array<{name: string; type: 'application' | 'network'; arn: string}>;
  /** The service each request that reached the front server went to, in order. */
  routed: Array<{service: string; method: string; path: string}>;
  close(): Promise<void>;
}

/** Which stand-in answers a request (see the top of this file). */
export function routeOf(req: {method?: string | undefined; url?: string | undefined; headers: IncomingMessage['headers']}): string {
  const scope = /Credential=[^/,]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(req.headers.authorization ?? '');
  if (scope) return scope[1]!;
  const path = (req.url ?? '/').split('?')[0]!;
  if (path.startsWith('/_content/')) return 'elasticloadbalancing';
  if (/^\/(domainnames|restapis|v2)(\/|$)/.test(path)) return 'apigateway';
  if (path.startsWith('/2020-05-31/')) return 'cloudfront';
  if (req.method === 'POST' && /x-www-form-urlencoded/.test(req.headers['content-type'] ?? '') && path === '/') return 'elasticloadbalancing';
  return 's3';
}

/** Starts the stand-ins and the front server; rejects (EADDRINUSE...) when the port cannot be bound. */
export async function startEmulator(o: EmulatorOptions): Promise<RunningEmulator> {
  const s3 = new VersionedS3([]);
  for (const b of o.buckets) s3.addBucket(b);
  for (const b of o.versionedBuckets) s3.addBucket(b, 'Enabled');
  await s3.start();
  const elb = new Elbv2Emulator({s3Endpoint: s3.url, region: o.region, activationDelayMs: o.delayMs ?? 500});
  await elb.start();
  const apigw = new ApigwEmulator({s3Endpoint: s3.url, updateDelayMs: o.delayMs ?? 500});
  await apigw.start();
  const cloudfront = new CloudfrontEmulator({s3Endpoint: s3.url, delayMs: o.delayMs ?? 500});
  await cloudfront.start();
  for (const id of o.distributions ?? []) cloudfront.addDistribution(id);
  const acm = new AcmEmulator();
  await acm.start();
  const loadBalancers: RunningEmulator['loadBalancers'] = [];
  for (const name of o.albs) loadBalancers.push({name, type: 'application', arn: elb.addLoadBalancer(name)});
  for (const name of o.nlbs) loadBalancers.push({name, type: 'network', arn: elb.addLoadBalancer(name, 'network')});
  o.domains.forEach((d, i) => {
    apigw.addDomain(d.name);
    const id = `${d.api}api${i + 1}`;
    apigw.addApi(id, d.api);
    apigw.map(d.name, id);
  });
  const targets: Record<string, string> = {s3: s3.url, elasticloadbalancing: elb.url, apigateway: apigw.url, cloudfront: cloudfront.url, acm: acm.url};
  const routed: RunningEmulator['routed'] = [];
  const front: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const service = routeOf(req);
    routed.push({service, method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0]!});
    const target = targets[service];
    if (!target) {
      res.writeHead(400, {'content-type': 'application/xml'});
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>Sender</Type><Code>UnsupportedService</Code><Message>mtls-kit emulate emulates S3, ELBv2 trust stores and listeners, and API Gateway custom domain names, CloudFront trust stores and distributions, and ACM certificate import, not ${service}</Message></Error></ErrorResponse>`,
      );
      return;
    }
    const base = new URL(target);
    const up = request({host: base.hostname, port: base.port, method: req.method, path: req.url, headers: req.headers}, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  const stopAll = async (): Promise<void> => {
    await Promise.all([elb.stop(), apigw.stop(), cloudfront.stop(), acm.stop(), s3.stop()]);
  };
  try {
    await new Promise<void>((resolve, reject) => {
      front.once('error', reject);
      front.listen(o.port, '127.0.0.1', () => resolve());
    });
  } catch (error) {
    await stopAll();
    throw error;
  }
  const url = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  return {
    url,
    elb,
    apigw,
    cloudfront,
    acm,
    s3,
    loadBalancers,
    routed,
    async close() {
      front.closeAllConnections();
      await new Promise<void>((resolve) => front.close(() => resolve()));
      await stopAll();
    },
  };
}
