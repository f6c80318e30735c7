/**
 * An offline ELBv2 emulator for the trust-store API (aws-reference 2), speaking the Query
 * protocol of API version 2015-12-01 exactly as the AWS SDK expects it: form-encoded
 * `Action=...&Version=2015-12-01` POSTs, XML results and `<ErrorResponse>` errors with
 * HTTP 400 (`Sender`) or 5xx (`Receiver`). No offline emulator implements trust stores
 * (aws-reference 2.5, testing note), so the tests start this one on 127.0.0.1.
 *
 * What it enforces, as AWS does (aws-reference 2 to 4):
 * - trust-store name pattern and length (2.2), DuplicateTrustStoreName, TooManyTrustStores (3: 20)
 * - it reads the CA bundle and CRLs from the S3 server with real GETs (honouring VersionId)
 *   and validates them: PEM only, no blank lines, `#` comments without `-`, X.509 v3,
 *   supported keys and signatures (4.1, 4.2) → InvalidCaCertificatesBundle; missing object
 *   → CaCertificatesBundleNotFound; CRL not PEM / not a CRL / unsupported algorithm
 *   → InvalidRevocationContent (4.3); missing → RevocationContentNotFound;
 *   30 lists / 500,000 entries → TooManyTrustStoreRevocationEntries (3)
 * - CREATING, then ACTIVE after `activationDelayMs`; TrustStoreNotReady on CreateListener /
 *   ModifyListener while CREATING (2.2); DeleteTrustStore answers TrustStoreInUse while a
 *   listener uses the trust store and TrustStoreNotFound once it is gone (2.5,
 *   https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeleteTrustStore.html);
 *   RemoveTrustStoreRevocations answers RevocationIdNotFound for an id the trust store does not
 *   hold (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RemoveTrustStoreRevocations.html);
 *   ListenerNotFound, DuplicateListener, TooManyListeners (2 verify-mode listeners per ALB, 3) and
 *   CertificateNotFound as CreateListener / ModifyListener / DescribeListeners document them
 *   (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateListener.html)
 * - revocation ids increase and are never reused (2.5); the bundle and CRLs are copied at
 *   create/modify time, so later S3 changes do not reach the trust store
 * - GetTrustStoreCaCertificatesBundle / GetTrustStoreRevocationContent return a URL to the
 *   copy, served by this server (AWS returns a pre-signed S3 URL, 2.1). Like a pre-signed
 *   S3 URL it expires (10 minutes, `locationTtlMs`; then 403 AccessDenied "Request has
 *   expired"), answers with an ETag and honours a one-range `Range: bytes=a-b` (206)
 * - tags (AddTags / RemoveTags / DescribeTags, and Tags on CreateTrustStore / CreateListener;
 *   https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_AddTags.html):
 *   at most 50 per resource (TooManyTags), a key twice in one call (DuplicateTagKeys),
 *   keys starting with `aws:` (ValidationError)
 * - bundle limits (3, https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html):
 *   25 CA certificates, 16 KB per certificate, and the "CA certificates subject size" quota
 *   of 10,000 (unit not stated by AWS, UNCONFIRMED: the emulator counts subject DER bytes).
 *   The model lists no dedicated error for these, so they answer InvalidCaCertificatesBundle.
 * - load-balancer attributes (DescribeLoadBalancerAttributes / ModifyLoadBalancerAttributes,
 *   https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_LoadBalancerAttribute.html):
 *   connection_logs.s3.enabled / .bucket / .prefix among an ALB's defaults; NLBs have no
 *   connection_logs.* ("supported by only Application Load Balancers", same page), so setting
 *   them there is ValidationError like any key the load balancer does not have; `enabled` is
 *   `true` or `false`; a prefix holding "AWSLogs" is refused (ALB-connlogs: "must not include
 *   the string AWSLogs"; the error code AWS gives is UNCONFIRMED, ValidationError here);
 *   enabling connection logs reads the bucket policy from the S3 server (GET ?policy) and
 *   fails with InvalidConfigurationRequest "Access Denied for bucket" unless it lets ELB write
 *   there (AWS writes a test object, aws-reference 5.2)
 *
 * Fault injection: `injectFault({kind: 'throttle' | 'server-error' | 'error', count, action?, code?})` and
 * `stuckCreating = true`. Every call is recorded in `calls` (action and flat params).
 */
import {createHash, randomBytes} from 'node:crypto';
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import {parseCertificate} from '../../lib/x509/cert.js';
import {summarizeCrl} from '../../lib/deploy/crl-summary.js';
import {ALB_CRL_LIMITS} from '../../lib/x509/crl.js';
import {checkAlbRequirements} from '../../lib/alb/describe.js';
import {parsePem} from '../../lib/x509/pem.js';

const XMLNS = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';
const NAME_PATTERN = /^([a-zA-Z0-9]+-)*[a-zA-Z0-9]+$/;

export interface RecordedCall {
  action: string;
  params: Record<string, string>;
  /** The form body exactly as it arrived (Query protocol encoding). */
  body: string;
  /** The fault injected instead of running the action, if any. */
  fault?: string;
}

export interface Fault {
  /** `error`: a 400 Sender error with `code` (e.g. TrustStoreNotReady right after ACTIVE). */
  kind: 'throttle' | 'server-error' | 'error';
  code?: string;
  /** How many matching calls fail. */
  count: number;
  /** Only this action (default: any). */
  action?: string;
  /** The error message (default `injected <code>`). */
  message?: string;
}

export interface Elbv2EmulatorOptions {
  /** Base URL of the S3 server the bundle and CRLs are read from (path-style). */
  s3Endpoint: string;
  /** How long a new trust store stays CREATING (default 300 ms). */
  activationDelayMs?: number;
  region?: string;
  account?: string;
  /** How long a pre-signed content URL stays valid (default 10 minutes, aws-reference 2.1). */
  locationTtlMs?: number;
  /** Quotas (aws-reference 3); lower them to test the limits. */
  maxTrustStores?: number;
  maxRevocationLists?: number;
  maxRevocationEntries?: number;
}

interface Revocation {
  id: number;
  content: Buffer;
  entries: number;
}

interface TrustStoreState {
  name: string;
  tags: Map<string, string>;
  arn: string;
  createdAt: number;
  bundle: Buffer;
  certificates: number;
  revocations: Map<number, Revocation>;
  nextRevocationId: number;
  stuck: boolean;
}

interface ListenerState {
  arn: string;
  tags: Map<string, string>;
  loadBalancerArn: string;
  port: number;
  protocol: string;
  certificates: string[];
  defaultActions: Array<Record<string, string>>;
  sslPolicy?: string;
  mutual?: {
    Mode: string;
    TrustStoreArn?: string;
    IgnoreClientCertificateExpiry?: boolean;
    AdvertiseTrustStoreCaNames?: string;
    ClientCertificateIdentityFilters?: Array<Record<string, string>>;
  };
}

interface LoadBalancerState {
  arn: string;
  /** `application` (ALB) or `network` (NLB). */
  type: 'application' | 'network';
  name: string;
  dns: string;
  tags: Map<string, string>;
  attributes: Map<string, string>;
}

/** What DescribeLoadBalancerAttributes answers for a new NLB (no connection logs: an ALB feature). */
const NLB_ATTRIBUTES: Array<[string, string]> = [
  ['access_logs.s3.enabled', 'false'],
  ['access_logs.s3.bucket', ''],
  ['access_logs.s3.prefix', ''],
  ['deletion_protection.enabled', 'false'],
  ['load_balancing.cross_zone.enabled', 'false'],
];

/** What DescribeLoadBalancerAttributes answers for a new ALB (the ones deploy touches and a few more). */
const DEFAULT_LB_ATTRIBUTES: Array<[string, string]> = [
  ['access_logs.s3.enabled', 'false'],
  ['access_logs.s3.bucket', ''],
  ['access_logs.s3.prefix', ''],
  ['connection_logs.s3.enabled', 'false'],
  ['connection_logs.s3.bucket', ''],
  ['connection_logs.s3.prefix', ''],
  ['deletion_protection.enabled', 'false'],
  ['idle_timeout.timeout_seconds', '60'],
];

/** Tags per resource (AddTags, TooManyTags). */
const MAX_TAGS = 50;

class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const MUTATING = /^(Create|Modify|Delete|Add|Remove|Set|Register|Deregister)/;

/** Whether an action changes state (used by tests asserting "zero mutating calls"). */
export function isMutatingAction(action: string): boolean {
  return MUTATING.test(action);
}

export class Elbv2Emulator {
  readonly calls: RecordedCall[] = [];
  /** New trust stores never leave CREATING while set. */
  stuckCreating = false;
  url = '';
  private server: Server | undefined;
  private faults: Fault[] = [];
  private readonly trustStores = new Map<string, TrustStoreState>();
  private readonly loadBalancers = new Map<string, LoadBalancerState>();
  private readonly listeners = new Map<string, ListenerState>();
  private readonly content = new Map<string, {data: Buffer; etag: string; expires: number}>();
  /** Names of trust stores whose CreateTrustStore is reading its bundle. */
  private readonly creating = new Set<string>();
  private readonly opts: Required<Elbv2EmulatorOptions>;

  constructor(opts: Elbv2EmulatorOptions) {
    this.opts = {
      activationDelayMs: 300,
      locationTtlMs: 600_000,
      region: 'us-east-1',
      account: '123456789012',
      maxTrustStores: 20,
      maxRevocationLists: ALB_CRL_LIMITS.maxListsPerTrustStore,
      maxRevocationEntries: ALB_CRL_LIMITS.maxEntriesPerTrustStore,
      ...opts,
    };
  }

  /** Starts listening on 127.0.0.1 on a random port; returns the base URL. */
  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, {'content-type': 'text/plain'});
        res.end(String(error));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  injectFault(f: Fault): void {
    this.faults.push({...f});
  }

  /** Calls that change state (faulted ones included: the SDK sent them). */
  mutatingCalls(): RecordedCall[] {
    return this.calls.filter((c) => isMutatingAction(c.action));
  }

  /** Calls of one action that reached the handler (not faulted). */
  served(action: string): RecordedCall[] {
    return this.calls.filter((c) => c.action === action && !c.fault);
  }

  /** Creates an ALB (or with type `network` an NLB) directly (setup for tests), returning its ARN. */
  addLoadBalancer(name: string, type: 'application' | 'network' = 'application'): string {
    const lb: LoadBalancerState = {
      arn: `arn:aws:elasticloadbalancing:${this.opts.region}:${this.opts.account}:loadbalancer/${type === 'network' ? 'net' : 'app'}/${name}/${hexId(8)}`,
      type,
      name,
      dns: `${name}-${hexId(4)}.${this.opts.region}.elb.amazonaws.com`,
      tags: new Map(),
      attributes: new Map(type === 'network' ? NLB_ATTRIBUTES : DEFAULT_LB_ATTRIBUTES),
    };
    this.loadBalancers.set(lb.arn, lb);
    return lb.arn;
  }

  /** The bundle a trust store holds (its copy). */
  heldBundle(name: string): Buffer | undefined {
    return [...this.trustStores.values()].find((t) => t.name === name)?.bundle;
  }

  /** Replaces a trust store's copy behind the CLI's back (drift tests). */
  replaceHeldBundle(name: string, bundle: Buffer): void {
    const ts = [...this.trustStores.values()].find((t) => t.name === name);
    if (!ts) throw new Error(`no trust store ${name}`);
    ts.bundle = bundle;
  }

  /** Adds `count` revocation lists of the same content directly (benchmark setup); returns their ids. */
  seedRevocations(name: string, content: Buffer, entries: number, count: number): number[] {
    const ts = [...this.trustStores.values()].find((t) => t.name === name);
    if (!ts) throw new Error(`no trust store ${name}`);
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      const r: Revocation = {id: ts.nextRevocationId++, content, entries};
      ts.revocations.set(r.id, r);
      ids.push(r.id);
    }
    return ids;
  }

  /** A trust store's tags (test helper). */
  tagsOf(name: string): Record<string, string> {
    const ts = [...this.trustStores.values()].find((t) => t.name === name);
    return Object.fromEntries(ts?.tags ?? []);
  }

  /** A load balancer's attributes (test helper). */
  loadBalancerAttributes(arn: string): Record<string, string> {
    return Object.fromEntries(this.loadBalancers.get(arn)?.attributes ?? []);
  }

  /** Whether a trust store with this name exists (test helper). */
  hasTrustStore(name: string): boolean {
    return [...this.trustStores.values()].some((t) => t.name === name);
  }

  private status(ts: TrustStoreState): 'ACTIVE' | 'CREATING' {
    if (ts.stuck) return 'CREATING';
    return Date.now() - ts.createdAt >= this.opts.activationDelayMs ? 'ACTIVE' : 'CREATING';
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUuid();
    if (req.method === 'GET' && req.url?.startsWith('/_content/')) {
      this.serveContent(req, res, req.url.slice('/_content/'.length));
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    if (req.method !== 'POST' || !/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')) {
      this.calls.push({action: `${req.method} ${req.url}`, params: {}, body: raw, fault: 'not-a-query-request'});
      sendError(res, requestId, new AwsError('InvalidAction', `not an ELBv2 Query request: ${req.method} ${req.url}`));
      return;
    }
    // Form encoding: here `+` is a space, as the SDK's query serializer escapes a real `+`.
    const params = Object.fromEntries(new URLSearchParams(raw));
    const action = params.Action ?? '';
    const call: RecordedCall = {action, params, body: raw};
    this.calls.push(call);
    const fault = this.faults.find((f) => f.count > 0 && (!f.action || f.action === action));
    if (fault) {
      fault.count--;
      call.fault = fault.kind;
      if (fault.kind === 'throttle') sendError(res, requestId, new AwsError('Throttling', 'Rate exceeded'));
      else if (fault.kind === 'error')
        sendError(res, requestId, new AwsError(fault.code ?? 'InternalFailure', fault.message ?? `injected ${fault.code ?? 'error'}`));
      else sendError(res, requestId, new AwsError('ServiceUnavailable', 'Service is unavailable, please try again', 503));
      return;
    }
    try {
      // SigV4 must have run (the real SDK signs); the key id is whatever the test set.
      if (!/^AWS4-HMAC-SHA256 Credential=[^/]+\//.test(req.headers.authorization ?? ''))
        throw new AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token');
      if (params.Version !== '2015-12-01') throw new AwsError('InvalidAction', `unsupported Version ${params.Version}`);
      const handler = (this.handlers as Record<string, ((p: Record<string, string>) => Promise<unknown>) | undefined>)[action];
      if (!handler) throw new AwsError('InvalidAction', `The action ${action} is not valid for this web service.`);
      const result = await handler.call(this, params);
      res.writeHead(200, {'content-type': 'text/xml', 'x-amzn-requestid': requestId});
      res.end(
        `<${action}Response xmlns="${XMLNS}"><${action}Result>${toXml(result)}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
      );
    } catch (error) {
      if (!(error instanceof AwsError)) throw error;
      sendError(res, requestId, error);
    }
  }

  /** A pre-signed content URL: 404 unknown, 403 expired, 206 for one `bytes=a-b` range, else 200. */
  private serveContent(req: IncomingMessage, res: ServerResponse, token: string): void {
    const c = this.content.get(token);
    const s3Error = (status: number, code: string, message: string): void => {
      res.writeHead(status, {'content-type': 'application/xml'});
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
    };
    if (!c) {
      s3Error(404, 'NoSuchKey', 'The specified key does not exist.');
      return;
    }
    if (Date.now() > c.expires) {
      s3Error(403, 'AccessDenied', 'Request has expired');
      return;
    }
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (m && Number(m[1]) < c.data.length) {
      const start = Number(m[1]);
      const end = Math.min(m[2] ? Number(m[2]) : c.data.length - 1, c.data.length - 1);
      res.writeHead(206, {
        'content-type': 'application/octet-stream',
        etag: `"${c.etag}"`,
        'content-range': `bytes ${start}-${end}/${c.data.length}`,
        'content-length': end - start + 1,
      });
      res.end(c.data.subarray(start, end + 1));
      return;
    }
    res.writeHead(200, {'content-type': 'application/octet-stream', etag: `"${c.etag}"`, 'content-length': c.data.length});
    res.end(c.data);
  }

  /** The tags of any resource this emulator holds. */
  private tagsOfArn(arn: string): Map<string, string> {
    const r = this.trustStores.get(arn) ?? this.listeners.get(arn) ?? this.loadBalancers.get(arn);
    if (r) return r.tags;
    if (arn.includes(':truststore/')) throw new AwsError('TrustStoreNotFound', `The specified trust store does not exist: ${arn}`);
    if (arn.includes(':listener/')) throw new AwsError('ListenerNotFound', 'One or more listeners not found');
    throw new AwsError('LoadBalancerNotFound', 'One or more load balancers not found');
  }

  private findTrustStore(arn: string | undefined): TrustStoreState {
    const ts = arn ? this.trustStores.get(arn) : undefined;
    if (!ts) throw new AwsError('TrustStoreNotFound', `The specified trust store does not exist: ${arn ?? ''}`);
    return ts;
  }

  private describeTrustStore(ts: TrustStoreState): Record<string, unknown> {
    let total = 0;
    for (const r of ts.revocations.values()) total += r.entries;
    return {Name: ts.name, TrustStoreArn: ts.arn, Status: this.status(ts), NumberOfCaCertificates: ts.certificates, TotalRevokedEntries: total};
  }

  /** GET an object from the S3 server (unsigned, path-style); undefined when missing. */
  private async readS3(bucket: string, key: string, version: string | undefined): Promise<Buffer | undefined> {
    const url = `${this.opts.s3Endpoint}/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}${version ? `?versionId=${encodeURIComponent(version)}` : ''}`;
    const res = await fetch(url, {signal: AbortSignal.timeout(10_000)});
    if (res.status === 404) return undefined;
    if (!res.ok) throw new AwsError('InternalFailure', `reading s3://${bucket}/${key} failed with HTTP ${res.status}`, 500);
    return Buffer.from(await res.arrayBuffer());
  }

  private async loadBundle(p: Record<string, string>): Promise<{bundle: Buffer; certificates: number}> {
    const bucket = required(p, 'CaCertificatesBundleS3Bucket');
    const key = required(p, 'CaCertificatesBundleS3Key');
    const bundle = await this.readS3(bucket, key, p.CaCertificatesBundleS3ObjectVersion);
    if (!bundle) throw new AwsError('CaCertificatesBundleNotFound', `The specified ca certificate bundle does not exist: s3://${bucket}/${key}`);
    return {bundle, certificates: validateBundle(bundle)};
  }

  private readonly handlers = {
    async CreateTrustStore(this: Elbv2Emulator, p: Record<string, string>) {
      const name = required(p, 'Name');
      // aws-reference 2.2: 1-32 characters, ^([a-zA-Z0-9]+-)*[a-zA-Z0-9]+$
      if (name.length > 32 || !NAME_PATTERN.test(name))
        throw new AwsError(
          'ValidationError',
          `1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([a-zA-Z0-9]+-)*[a-zA-Z0-9]+$`,
        );
      // The name is reserved before the bundle is read (an await): two CreateTrustStore calls
      // that arrive at once must not both pass this check.
      if (this.creating.has(name) || [...this.trustStores.values()].some((t) => t.name === name))
        throw new AwsError('DuplicateTrustStoreName', `A trust store with the name '${name}' already exists`);
      if (this.trustStores.size + this.creating.size >= this.opts.maxTrustStores)
        throw new AwsError('TooManyTrustStores', `You've reached the limit on the number of trust stores for your AWS account`);
      this.creating.add(name);
      let loaded: {bundle: Buffer; certificates: number};
      try {
        loaded = await this.loadBundle(p);
      } finally {
        this.creating.delete(name);
      }
      const {bundle, certificates} = loaded;
      const tags = new Map<string, string>();
      applyTags(tags, p);
      const ts: TrustStoreState = {
        name,
        tags,
        arn: `arn:aws:elasticloadbalancing:${this.opts.region}:${this.opts.account}:truststore/${name}/${hexId(8)}`,
        createdAt: Date.now(),
        bundle,
        certificates,
        revocations: new Map(),
        nextRevocationId: 1,
        stuck: this.stuckCreating,
      };
      this.trustStores.set(ts.arn, ts);
      return {TrustStores: [this.describeTrustStore(ts)]};
    },

    async ModifyTrustStore(this: Elbv2Emulator, p: Record<string, string>) {
      const ts = this.findTrustStore(required(p, 'TrustStoreArn'));
      const {bundle, certificates} = await this.loadBundle(p);
      // The copy is taken now; later changes to the S3 object do not reach the trust store.
      ts.bundle = bundle;
      ts.certificates = certificates;
      return {TrustStores: [this.describeTrustStore(ts)]};
    },

    async DescribeTrustStores(this: Elbv2Emulator, p: Record<string, string>) {
      const arns = memberList(p, 'TrustStoreArns');
      const names = memberList(p, 'Names');
      let list = [...this.trustStores.values()];
      if (arns.length > 0) {
        for (const a of arns) this.findTrustStore(a);
        list = list.filter((t) => arns.includes(t.arn));
      }
      if (names.length > 0) {
        const missing = names.filter((n) => !list.some((t) => t.name === n));
        if (missing.length > 0) throw new AwsError('TrustStoreNotFound', `One or more trust stores not found: ${missing.join(', ')}`);
        list = list.filter((t) => names.includes(t.name));
      }
      return page(
        list.map((t) => this.describeTrustStore(t)),
        p,
        'TrustStores',
      );
    },

    // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeleteTrustStore.html:
    // its errors are TrustStoreInUse (still used by a listener) and TrustStoreNotFound.
    async DeleteTrustStore(this: Elbv2Emulator, p: Record<string, string>) {
      const ts = this.findTrustStore(required(p, 'TrustStoreArn'));
      if ([...this.listeners.values()].some((l) => l.mutual?.TrustStoreArn === ts.arn))
        throw new AwsError('TrustStoreInUse', `Trust store '${ts.arn}' is in use by one or more listeners`);
      this.trustStores.delete(ts.arn);
      return {};
    },

    async AddTrustStoreRevocations(this: Elbv2Emulator, p: Record<string, string>) {
      const ts = this.findTrustStore(required(p, 'TrustStoreArn'));
      const contents = structList(p, 'RevocationContents');
      const loaded: Array<{content: Buffer; entries: number}> = [];
      for (const c of contents) {
        const bucket = c.S3Bucket ?? '';
        const key = c.S3Key ?? '';
        if ((c.RevocationType ?? 'CRL') !== 'CRL') throw new AwsError('InvalidRevocationContent', `Revocation type '${c.RevocationType}' is not supported`);
        const data = await this.readS3(bucket, key, c.S3ObjectVersion);
        if (!data) throw new AwsError('RevocationContentNotFound', `The specified revocation content does not exist: s3://${bucket}/${key}`);
        loaded.push({content: data, entries: validateCrl(data, `s3://${bucket}/${key}`)});
      }
      // aws-reference 3: 30 lists and 500,000 entries per trust store.
      const lists = ts.revocations.size + loaded.length;
      const entries = [...ts.revocations.values()].reduce((n, r) => n + r.entries, 0) + loaded.reduce((n, l) => n + l.entries, 0);
      if (lists > this.opts.maxRevocationLists || entries > this.opts.maxRevocationEntries) {
        throw new AwsError(
          'TooManyTrustStoreRevocationEntries',
          `The specified trust store has too many revocation entries (${lists} lists, ${entries} entries)`,
        );
      }
      const added = loaded.map((l) => {
        const r: Revocation = {id: ts.nextRevocationId++, content: l.content, entries: l.entries};
        ts.revocations.set(r.id, r);
        return {TrustStoreArn: ts.arn, RevocationId: r.id, RevocationType: 'CRL', NumberOfRevokedEntries: r.entries};
      });
      return {TrustStoreRevocations: added};
    },

    async RemoveTrustStoreRevocations(this: Elbv2Emulator, p: Record<string, string>) {
      const ts = this.findTrustStore(required(p, 'TrustStoreArn'));
      const ids = memberList(p, 'RevocationIds').map(Number);
      const missing = ids.filter((id) => !ts.revocations.has(id));
      if (missing.length > 0) throw new AwsError('RevocationIdNotFound', `The specified revocation ID does not exist: ${missing.join(', ')}`);
      // Ids are never reused: nextRevocationId only grows (aws-reference 2.5).
      for (const id of ids) ts.revocations.delete(id);
      return {};
    },

    async DescribeTrustStoreRevocations(this: Elbv2Emulator, p: Record<string, string>) {
      const ts = this.findTrustStore(required(p, 'TrustStoreArn'));
      const ids = memberList(p, 'RevocationIds').map(Number);
      const missing = ids.filter((id) => !ts.revocations.has(id));
      if (missing.length > 0) throw new AwsError('RevocationIdNotFound', `The specified revocation ID does not exist: ${missing.join(', ')}`);
      const list = [...ts.revocations.values()].filter((r) => ids.length === 0 || ids.includes(r.id));
      return page(
        list.map((r) => ({TrustStoreArn: ts.arn, RevocationId: r.id, RevocationType: 'CRL', NumberOfRevokedEntries: r.entries})),
        p,
        'TrustStoreRevocations',
      );
    },

    async GetTrustStoreCaCertificatesBundle(this: Elbv2Emulator, p: Record<string, string>) {
      const ts = this.findTrustStore(required(p, 'TrustStoreArn'));
      return {Location: this.publish(ts.bundle)};
    },

    async GetTrustStoreRevocationContent(this: Elbv2Emulator, p: Record<string, string>) {
      const ts = this.findTrustStore(required(p, 'TrustStoreArn'));
      const r = ts.revocations.get(Number(required(p, 'RevocationId')));
      if (!r) throw new AwsError('RevocationIdNotFound', `The specified revocation ID does not exist: ${p.RevocationId}`);
      return {Location: this.publish(r.content)};
    },

    async DescribeTrustStoreAssociations(this: Elbv2Emulator, p: Record<string, string>) {
      const ts = this.findTrustStore(required(p, 'TrustStoreArn'));
      const lbs = new Set([...this.listeners.values()].filter((l) => l.mutual?.TrustStoreArn === ts.arn).map((l) => l.loadBalancerArn));
      return page(
        [...lbs].map((ResourceArn) => ({ResourceArn})),
        p,
        'TrustStoreAssociations',
      );
    },

    async AddTags(this: Elbv2Emulator, p: Record<string, string>) {
      const arns = memberList(p, 'ResourceArns');
      if (arns.length === 0) throw new AwsError('ValidationError', 'ResourceArns must not be empty');
      for (const arn of arns) applyTags(this.tagsOfArn(arn), p);
      return {};
    },

    async RemoveTags(this: Elbv2Emulator, p: Record<string, string>) {
      const keys = memberList(p, 'TagKeys');
      for (const arn of memberList(p, 'ResourceArns')) {
        const tags = this.tagsOfArn(arn);
        for (const k of keys) tags.delete(k);
      }
      return {};
    },

    async DescribeTags(this: Elbv2Emulator, p: Record<string, string>) {
      const arns = memberList(p, 'ResourceArns');
      // The API takes at most 20 ARNs per call.
      if (arns.length === 0 || arns.length > 20) throw new AwsError('ValidationError', 'ResourceArns must hold 1 to 20 ARNs');
      return {TagDescriptions: arns.map((arn) => ({ResourceArn: arn, Tags: [...this.tagsOfArn(arn)].map(([Key, Value]) => ({Key, Value}))}))};
    },

    async DescribeLoadBalancerAttributes(this: Elbv2Emulator, p: Record<string, string>) {
      const lb = this.loadBalancers.get(required(p, 'LoadBalancerArn'));
      if (!lb) throw new AwsError('LoadBalancerNotFound', 'One or more load balancers not found');
      return {Attributes: [...lb.attributes].map(([Key, Value]) => ({Key, Value}))};
    },

    async ModifyLoadBalancerAttributes(this: Elbv2Emulator, p: Record<string, string>) {
      const lb = this.loadBalancers.get(required(p, 'LoadBalancerArn'));
      if (!lb) throw new AwsError('LoadBalancerNotFound', 'One or more load balancers not found');
      const changes = structList(p, 'Attributes');
      const next = new Map(lb.attributes);
      for (const a of changes) {
        if (!a.Key || !next.has(a.Key)) throw new AwsError('ValidationError', `Load balancer attribute key '${a.Key ?? ''}' is not recognized`);
        if (a.Key.endsWith('.enabled') && a.Value !== 'true' && a.Value !== 'false')
          throw new AwsError('ValidationError', `Load balancer attribute '${a.Key}' must be 'true' or 'false'`);
        next.set(a.Key, a.Value ?? '');
      }
      if (next.get('connection_logs.s3.prefix')?.includes('AWSLogs'))
        throw new AwsError('ValidationError', "The prefix for connection logs must not include the string 'AWSLogs'");
      if (next.get('connection_logs.s3.enabled') === 'true') {
        const bucket = next.get('connection_logs.s3.bucket') ?? '';
        if (!bucket) throw new AwsError('ValidationError', 'connection_logs.s3.bucket is required when connection logs are enabled');
        // ALB-connlogs: AWS checks it can write a test file; a policy that does not allow ELB fails.
        const policy = await fetch(`${this.opts.s3Endpoint}/${bucket}?policy`, {signal: AbortSignal.timeout(10_000)});
        if (
          !policyLetsElbWrite(
            policy.ok ? await policy.text() : undefined,
            bucket,
            next.get('connection_logs.s3.prefix') ?? '',
            this.opts.account,
            this.opts.region,
          )
        ) {
          throw new AwsError('InvalidConfigurationRequest', `Access Denied for bucket: ${bucket}. Please check S3bucket permission`);
        }
      }
      lb.attributes = next;
      return {Attributes: [...next].map(([Key, Value]) => ({Key, Value}))};
    },

    async CreateLoadBalancer(this: Elbv2Emulator, p: Record<string, string>) {
      const name = required(p, 'Name');
      if ([...this.loadBalancers.values()].some((l) => l.name === name))
        throw new AwsError('DuplicateLoadBalancerName', `A load balancer with the same name '${name}' exists`);
      const type = p.Type ?? 'application';
      if (type !== 'application' && type !== 'network') throw new AwsError('ValidationError', `Load balancer type '${type}' is not supported here`);
      const arn = this.addLoadBalancer(name, type);
      return {LoadBalancers: [this.describeLb(this.loadBalancers.get(arn)!)]};
    },

    async DescribeLoadBalancers(this: Elbv2Emulator, p: Record<string, string>) {
      const arns = memberList(p, 'LoadBalancerArns');
      const names = memberList(p, 'Names');
      const list = [...this.loadBalancers.values()].filter(
        (l) => (arns.length === 0 || arns.includes(l.arn)) && (names.length === 0 || names.includes(l.name)),
      );
      if (arns.length + names.length > 0 && list.length === 0) throw new AwsError('LoadBalancerNotFound', 'One or more load balancers not found');
      return page(
        list.map((l) => this.describeLb(l)),
        p,
        'LoadBalancers',
      );
    },

    async CreateListener(this: Elbv2Emulator, p: Record<string, string>) {
      const lb = this.loadBalancers.get(required(p, 'LoadBalancerArn'));
      if (!lb) throw new AwsError('LoadBalancerNotFound', 'One or more load balancers not found');
      const port = Number(required(p, 'Port'));
      if ([...this.listeners.values()].some((l) => l.loadBalancerArn === lb.arn && l.port === port))
        throw new AwsError('DuplicateListener', 'A listener already exists on this port for this load balancer');
      const protocol = p.Protocol ?? (lb.type === 'network' ? 'TCP' : 'HTTP');
      const allowed = lb.type === 'network' ? ['TCP', 'TLS', 'UDP', 'TCP_UDP'] : ['HTTP', 'HTTPS'];
      if (!allowed.includes(protocol))
        throw new AwsError('ValidationError', `Protocol '${protocol}' is not supported for a load balancer of type '${lb.type}'`);
      const certificates = structList(p, 'Certificates').map((c) => c.CertificateArn ?? '');
      if ((protocol === 'HTTPS' || protocol === 'TLS') && certificates.length === 0)
        throw new AwsError('CertificateNotFound', `A certificate must be specified for ${protocol} listeners`);
      const tags = new Map<string, string>();
      applyTags(tags, p);
      const listener: ListenerState = {
        arn: lb.arn.replace(':loadbalancer/', ':listener/') + '/' + hexId(8),
        tags,
        loadBalancerArn: lb.arn,
        port,
        protocol,
        certificates,
        defaultActions: structList(p, 'DefaultActions'),
        ...(p.SslPolicy ? {sslPolicy: p.SslPolicy} : {}),
      };
      this.applyMutual(listener, p);
      this.listeners.set(listener.arn, listener);
      return {Listeners: [this.describeListener(listener)]};
    },

    async ModifyListener(this: Elbv2Emulator, p: Record<string, string>) {
      const listener = this.listeners.get(required(p, 'ListenerArn'));
      if (!listener) throw new AwsError('ListenerNotFound', 'One or more listeners not found');
      if (p.Port) listener.port = Number(p.Port);
      if (p.Protocol) listener.protocol = p.Protocol;
      const certificates = structList(p, 'Certificates');
      if (certificates.length > 0) listener.certificates = certificates.map((c) => c.CertificateArn ?? '');
      this.applyMutual(listener, p);
      return {Listeners: [this.describeListener(listener)]};
    },

    async DescribeListeners(this: Elbv2Emulator, p: Record<string, string>) {
      const arns = memberList(p, 'ListenerArns');
      const lb = p.LoadBalancerArn;
      if (lb && !this.loadBalancers.has(lb)) throw new AwsError('LoadBalancerNotFound', 'One or more load balancers not found');
      for (const a of arns) if (!this.listeners.has(a)) throw new AwsError('ListenerNotFound', 'One or more listeners not found');
      const list = [...this.listeners.values()].filter((l) => (arns.length === 0 || arns.includes(l.arn)) && (!lb || l.loadBalancerArn === lb));
      return page(
        list.map((l) => this.describeListener(l)),
        p,
        'Listeners',
      );
    },
  };

  private applyMutual(listener: ListenerState, p: Record<string, string>): void {
    const mode = p['MutualAuthentication.Mode'];
    if (mode === undefined) return;
    const nlb = this.loadBalancers.get(listener.loadBalancerArn)?.type === 'network';
    if (listener.protocol !== (nlb ? 'TLS' : 'HTTPS'))
      throw new AwsError(
        'InvalidConfigurationRequest',
        `Mutual authentication is supported only on ${nlb ? 'TLS listeners of a Network Load Balancer' : 'HTTPS listeners'}`,
      );
    if (!['off', 'passthrough', 'verify'].includes(mode)) throw new AwsError('ValidationError', `Mutual authentication mode '${mode}' is not valid`);
    // aws-reference 9.8: verify only on NLB (the error code is UNCONFIRMED; InvalidConfigurationRequest assumed). Off is accepted.
    if (nlb && mode === 'passthrough') throw new AwsError('InvalidConfigurationRequest', 'Network Load Balancers support mutual TLS in verify mode only');
    const filters = identityFilters(p);
    if (filters !== undefined && (!nlb || mode !== 'verify'))
      throw new AwsError(
        'InvalidConfigurationRequest',
        'Client certificate identity filters are supported only in verify mode on TLS listeners of a Network Load Balancer',
      );
    const mutual: NonNullable<ListenerState['mutual']> = {Mode: mode};
    // The whole MutualAuthentication is replaced: no list means no filters (UNCONFIRMED, aws-reference 9.4).
    if (filters && filters.length > 0) mutual.ClientCertificateIdentityFilters = filters;
    if (mode === 'verify') {
      const ts = this.findTrustStore(p['MutualAuthentication.TrustStoreArn'] ?? '');
      // aws-reference 2.2: CreateListener / ModifyListener fail while the trust store is not ACTIVE.
      if (this.status(ts) !== 'ACTIVE') throw new AwsError('TrustStoreNotReady', 'The specified trust store is not active');
      // aws-reference 3: 2 listeners in verify mode per load balancer.
      const verifying = [...this.listeners.values()].filter(
        (l) => l.loadBalancerArn === listener.loadBalancerArn && l.arn !== listener.arn && l.mutual?.Mode === 'verify',
      );
      if (!nlb && verifying.length >= 2)
        throw new AwsError('TooManyListeners', 'You have reached the limit of 2 listeners in verify mode for this load balancer');
      mutual.TrustStoreArn = ts.arn;
      mutual.IgnoreClientCertificateExpiry = p['MutualAuthentication.IgnoreClientCertificateExpiry'] === 'true';
      mutual.AdvertiseTrustStoreCaNames = p['MutualAuthentication.AdvertiseTrustStoreCaNames'] ?? 'off';
    } else if (p['MutualAuthentication.TrustStoreArn']) {
      throw new AwsError('InvalidConfigurationRequest', `A trust store can be specified only in verify mode, not '${mode}'`);
    }
    listener.mutual = mutual;
  }

  private describeLb(l: LoadBalancerState): Record<string, unknown> {
    return {LoadBalancerArn: l.arn, LoadBalancerName: l.name, DNSName: l.dns, Scheme: 'internet-facing', Type: l.type, State: {Code: 'active'}};
  }

  private describeListener(l: ListenerState): Record<string, unknown> {
    return {
      ListenerArn: l.arn,
      LoadBalancerArn: l.loadBalancerArn,
      Port: l.port,
      Protocol: l.protocol,
      Certificates: l.certificates.map((CertificateArn) => ({CertificateArn})),
      DefaultActions: l.defaultActions,
      ...(l.sslPolicy ? {SslPolicy: l.sslPolicy} : {}),
      // HTTPS (and NLB TLS) listeners report Mode off when mutual TLS was never set.
      ...(l.protocol === 'HTTPS' || l.protocol === 'TLS' ? {MutualAuthentication: l.mutual ?? {Mode: 'off', IgnoreClientCertificateExpiry: false}} : {}),
    };
  }

  private publish(data: Buffer): string {
    const token = hexId(16);
    // Expired entries are dropped as new ones are published (bounded memory in long tests).
    for (const [k, v] of this.content) if (Date.now() > v.expires) this.content.delete(k);
    this.content.set(token, {data, etag: etagOf(data), expires: Date.now() + this.opts.locationTtlMs});
    return `${this.url}/_content/${token}`;
  }
}

/**
 * The bundle rules ALB applies (aws-reference 4.2 and 4.1); returns the certificate count.
 * @throws AwsError InvalidCaCertificatesBundle
 */
function validateBundle(data: Buffer): number {
  const bad = (why: string): AwsError => new AwsError('InvalidCaCertificatesBundle', `The specified ca certificates bundle is in an invalid format: ${why}`);
  const text = data.toString('utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop(); // the final newline ends the last line
  let inside = false;
  for (const [i, line] of lines.entries()) {
    const l = line.replace(/\r$/, '');
    if (l === '-----BEGIN CERTIFICATE-----') {
      if (inside) throw bad(`line ${i + 1}: BEGIN inside a certificate`);
      inside = true;
    } else if (l === '-----END CERTIFICATE-----') {
      if (!inside) throw bad(`line ${i + 1}: END without BEGIN`);
      inside = false;
    } else if (l.trim() === '') {
      throw bad(`line ${i + 1} is blank`);
    } else if (inside) {
      if (!/^[A-Za-z0-9+/=]+$/.test(l)) throw bad(`line ${i + 1} is not base64`);
    } else if (!l.startsWith('#') || l.includes('-')) {
      throw bad(`line ${i + 1} is neither PEM nor a "#" comment without "-"`);
    }
  }
  if (inside) throw bad('the last certificate has no END line');
  let blocks: ReturnType<typeof parsePem>;
  try {
    blocks = parsePem(text, 'bundle');
  } catch (error) {
    throw bad((error as Error).message);
  }
  if (blocks.length === 0) throw bad('no certificate');
  // aws-reference 3: 25 CA certificates per trust store (L-43FE5A42), 16 KB per certificate,
  // "CA certificates subject size" 10,000 (unit not stated; UNCONFIRMED, counted here as the
  // subject DER bytes of all the certificates).
  if (blocks.length > 25) throw bad(`${blocks.length} certificates; the trust store quota is 25 CA certificates`);
  let subjectBytes = 0;
  for (const b of blocks) {
    if (b.der.length > 16 * 1024) throw bad(`the certificate at line ${b.line} is ${b.der.length} bytes; the limit is 16 KB`);
  }
  for (const b of blocks) {
    let cert: ReturnType<typeof parseCertificate>;
    try {
      cert = parseCertificate(b.der);
    } catch (error) {
      throw bad(`the certificate at line ${b.line} is not X.509 (${(error as Error).message})`);
    }
    const req = checkAlbRequirements(cert);
    if (!req.ok) throw bad(`the certificate at line ${b.line}: ${req.problems.join('; ')}`);
    subjectBytes += cert.subject.length;
  }
  if (subjectBytes > 10_000) throw bad(`the certificates' subjects total ${subjectBytes} bytes; the trust store quota is 10,000`);
  return blocks.length;
}

/**
 * The CRL rules ALB applies (aws-reference 4.3): PEM only, a well-formed CRL, a supported
 * signature algorithm. Returns the entry count.
 * @throws AwsError InvalidRevocationContent
 */
function validateCrl(data: Buffer, source: string): number {
  const bad = (why: string): AwsError =>
    new AwsError('InvalidRevocationContent', `The specified revocation file is in an invalid format or uses an incorrect algorithm: ${source}: ${why}`);
  let summary: ReturnType<typeof summarizeCrl>;
  try {
    summary = summarizeCrl(data, source);
  } catch (error) {
    throw bad((error as Error).message);
  }
  if (!summary.pem) throw bad('only PEM CRLs are supported');
  const s = summary.signatureAlgorithm;
  const hash = s.pss?.hash ?? s.hash;
  if (!hash || !['sha256', 'sha384', 'sha512'].includes(hash) || !/RSA|ecdsa|Pss/i.test(s.name)) throw bad(`unsupported signature algorithm ${s.name}`);
  return summary.entries;
}

function required(p: Record<string, string>, name: string): string {
  const v = p[name];
  if (v === undefined || v === '')
    throw new AwsError('ValidationError', `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`);
  return v;
}

/** `Names.member.1=a&Names.member.2=b` → ['a', 'b'] (Query protocol lists). */
function memberList(p: Record<string, string>, name: string): string[] {
  const out: string[] = [];
  for (let i = 1; p[`${name}.member.${i}`] !== undefined; i++) out.push(p[`${name}.member.${i}`]!);
  return out;
}

/** `X.member.1.S3Bucket=..&X.member.1.S3Key=..` → [{S3Bucket, S3Key}] (one level of nesting kept flat below). */
function structList(p: Record<string, string>, name: string): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  for (let i = 1; ; i++) {
    const prefix = `${name}.member.${i}.`;
    const entry: Record<string, string> = {};
    for (const [k, v] of Object.entries(p)) if (k.startsWith(prefix)) entry[k.slice(prefix.length)] = v;
    if (Object.keys(entry).length === 0) return out;
    out.push(entry);
  }
}

/** NLB's filter fields and match types (aws-reference 9.3, 9.4), written here independently of src/lib/nlb. */
const FILTER_FIELDS = ['subject-cn', 'subject-ou', 'san-dns', 'san-uri'];
const FILTER_MATCH_TYPES = ['exact', 'prefix'];

/**
 * `MutualAuthentication.ClientCertificateIdentityFilters.member.N.{Action,Field,MatchType,Value}`
 * with AWS's documented validation (aws-reference 9.3, 9.4); `...Filters=` (empty) is the
 * empty list; undefined when the request has no list.
 * @throws AwsError ValidationError naming the member, as AWS's validation messages do
 */
function identityFilters(p: Record<string, string>): Array<Record<string, string>> | undefined {
  const name = 'MutualAuthentication.ClientCertificateIdentityFilters';
  const list = structList(p, name);
  if (list.length === 0) return p[name] === '' ? [] : undefined;
  const invalid = (i: number, member: string, value: string, constraint: string): AwsError =>
    new AwsError(
      'ValidationError',
      `1 validation error detected: Value '${value}' at 'mutualAuthentication.clientCertificateIdentityFilters.${i + 1}.member.${member}' failed to satisfy constraint: ${constraint}`,
    );
  list.forEach((f, i) => {
    for (const m of ['Action', 'Field', 'MatchType', 'Value'])
      if (f[m] === undefined) throw invalid(i, m.charAt(0).toLowerCase() + m.slice(1), 'null', 'Member must not be null');
    if (f.Action !== 'accept') throw invalid(i, 'action', f.Action!, 'Member must satisfy enum value set: [accept]');
    if (!FILTER_FIELDS.includes(f.Field!)) throw invalid(i, 'field', f.Field!, `Member must satisfy enum value set: [${FILTER_FIELDS.join(', ')}]`);
    if (!FILTER_MATCH_TYPES.includes(f.MatchType!))
      throw invalid(i, 'matchType', f.MatchType!, `Member must satisfy enum value set: [${FILTER_MATCH_TYPES.join(', ')}]`);
    const v = f.Value!;
    if (v.length < 1 || v.length > 256) throw invalid(i, 'value', v, 'Member must have length between 1 and 256');
    if (!/^[\x20-\x7e]+$/.test(v)) throw invalid(i, 'value', v, 'Member must contain only printable ASCII characters');
    if (f.Field === 'san-uri' && !/^[A-Za-z][A-Za-z0-9+.-]*(:|$)/.test(v))
      throw invalid(
        i,
        'value',
        v,
        'A san-uri value must begin with a letter, and before the first colon contain only letters, digits, plus signs, periods and hyphens',
      );
  });
  return list;
}

/** Marker / PageSize paging (PageSize 1-400, aws-reference 2.1). */
function page(list: unknown[], p: Record<string, string>, key: string): Record<string, unknown> {
  const size = p.PageSize ? Number(p.PageSize) : 400;
  if (!(size >= 1 && size <= 400)) throw new AwsError('ValidationError', `PageSize must be between 1 and 400`);
  const start = p.Marker ? Number(p.Marker) : 0;
  const slice = list.slice(start, start + size);
  const next = start + size < list.length ? {NextMarker: String(start + size)} : {};
  return {[key]: slice, ...next};
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Query-protocol XML: structures as elements, lists as <member> children. */
function toXml(v: unknown): string {
  if (Array.isArray(v)) return v.map((m) => `<member>${toXml(m)}</member>`).join('');
  if (v !== null && typeof v === 'object') {
    return Object.entries(v)
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => `<${k}>${toXml(x)}</${k}>`)
      .join('');
  }
  return escapeXml(String(v));
}

function sendError(res: ServerResponse, requestId: string, e: AwsError): void {
  res.writeHead(e.status, {'content-type': 'text/xml', 'x-amzn-requestid': requestId});
  res.end(
    `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${e.status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${e.code}</Code><Message>${escapeXml(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  );
}

/** ELB's account per Region for bucket policies in Regions older than August 2022 (ALB-connlogs, access-logs page); a few. */
const ELB_ACCOUNTS: Record<string, string> = {
  'us-east-1': '127311923021',
  'us-east-2': '033677994240',
  'us-west-1': '027434742980',
  'us-west-2': '797873946194',
  'eu-west-1': '156460612806',
  'eu-central-1': '054676820928',
};

/**
 * Whether a bucket policy lets the load balancer service write `prefix/AWSLogs/<account>/…`
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html#attach-bucket-policy):
 * an Allow of s3:PutObject to the logdelivery.elasticloadbalancing.amazonaws.com service or
 * to the Region's ELB account, on a resource covering that path.
 */
function policyLetsElbWrite(policy: string | undefined, bucket: string, prefix: string, account: string, region: string): boolean {
  if (!policy) return false;
  let doc: {Statement?: unknown};
  try {
    doc = JSON.parse(policy) as {Statement?: unknown};
  } catch {
    return false;
  }
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);
  const target = `arn:aws:s3:::${bucket}/${prefix ? `${prefix}/` : ''}AWSLogs/${account}/conn_log_test`;
  const matches = (pattern: string): boolean =>
    new RegExp(
      `^${pattern
        .split('*')
        .map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    ).test(target);
  const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  return statements.some((st) => {
    const s = st as {Effect?: string; Principal?: {Service?: unknown; AWS?: unknown}; Action?: unknown; Resource?: unknown};
    if (s?.Effect !== 'Allow') return false;
    const principals = [...list(s.Principal?.Service), ...list(s.Principal?.AWS)];
    const elb = principals.some(
      (x) => x === 'logdelivery.elasticloadbalancing.amazonaws.com' || x === `arn:aws:iam::${ELB_ACCOUNTS[region] ?? ''}:root` || x === ELB_ACCOUNTS[region],
    );
    const put = list(s.Action).some((a) => a === 's3:PutObject' || a === 's3:*');
    return elb && put && list(s.Resource).some(matches);
  });
}

/** The S3-style ETag of a single-part object: MD5 hex (memoised per buffer, CRLs can be 50 MB). */
const etags = new WeakMap<Buffer, string>();
function etagOf(data: Buffer): string {
  let e = etags.get(data);
  if (!e) {
    e = createHash('md5').update(data).digest('hex');
    etags.set(data, e);
  }
  return e;
}

/**
 * `Tags.member.N.Key/Value` → map, with AWS's checks (DuplicateTagKeys, reserved `aws:`, 50 per resource).
 * @throws AwsError
 */
function applyTags(target: Map<string, string>, p: Record<string, string>): void {
  const list = structList(p, 'Tags');
  const seen = new Set<string>();
  for (const t of list) {
    const key = t.Key ?? '';
    if (seen.has(key)) throw new AwsError('DuplicateTagKeys', `A tag key was specified more than once: ${key}`);
    seen.add(key);
    if (key === '' || key.length > 128 || /^aws:/i.test(key)) throw new AwsError('ValidationError', `Tag key '${key}' is not valid`);
    if ((t.Value ?? '').length > 256) throw new AwsError('ValidationError', `Tag value for '${key}' is longer than 256 characters`);
  }
  const after = new Set([...target.keys(), ...seen]);
  if (after.size > MAX_TAGS) throw new AwsError('TooManyTags', `You've reached the limit on the number of tags for this resource (${MAX_TAGS})`);
  for (const t of list) target.set(t.Key ?? '', t.Value ?? '');
}

function hexId(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

function randomUuid(): string {
  return globalThis.crypto.randomUUID();
}
