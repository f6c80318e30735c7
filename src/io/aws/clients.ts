/**
 * AWS clients for deploy and status, and the mapping of AWS failures to what the user
 * should do next (STYLE "Errors"). The SDKs are imported lazily: only the commands that
 * talk to AWS pay for loading them.
 *
 * Configuration comes only from the SDK's own chain (STYLE "Files"): `--region`,
 * `--profile` and `--endpoint-url` when given, else AWS_REGION, AWS_PROFILE,
 * AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2,
 * the shared config files and the default credential chain. `--endpoint-url` wins over
 * every endpoint variable, as in the AWS CLI. Credentials are never read or printed here.
 */
import type {S3Client} from '@aws-sdk/client-s3';
import type {ElasticLoadBalancingV2Client} from '@aws-sdk/client-elastic-load-balancing-v2';
import {addNlbFilterMiddleware} from './nlb-filters-wire.js';
import {type ErrorCode, ExitCode, MtlsKitError} from '../../lib/errors.js';
import {plural} from '../../lib/plural.js';

export interface AwsParams {
  region?: string | undefined;
  profile?: string | undefined;
  endpointUrl?: string | undefined;
}

export interface AwsClients {
  s3: S3Client;
  elbv2: ElasticLoadBalancingV2Client;
  /**
   * The same ELBv2 client without SDK retries, for the calls that are not idempotent
   * (CreateTrustStore, AddTrustStoreRevocations, RemoveTrustStoreRevocations, CreateListener):
   * after a lost answer a blind retry would repeat work AWS already did, so these go
   * through mutateWithReadBack (aws-retry.ts), which reads the state back before retrying.
   */
  elbv2Once: ElasticLoadBalancingV2Client;
  /** Attempts per call (AWS_MAX_ATTEMPTS or DEFAULT_MAX_ATTEMPTS). */
  maxAttempts: number;
  s3Sdk: typeof import('@aws-sdk/client-s3');
  elbv2Sdk: typeof import('@aws-sdk/client-elastic-load-balancing-v2');
  /** The region the clients resolved. */
  region: string;
}

/** The region the last createAwsClients resolved: a bucket "in another region" must differ from it. */
let runRegion = '';

/** Attempts per call, throttling and 5xx included (SDK standard retry mode, exponential backoff with jitter). */
export const DEFAULT_MAX_ATTEMPTS = 5;

/** Bound on one HTTP request, connect to last byte (MTLS_KIT_AWS_TIMEOUT_MS overrides, for tests and slow links). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** The request timeout in force: MTLS_KIT_AWS_TIMEOUT_MS when a positive number, else 30 s. */
export function requestTimeoutMs(): number {
  const v = Number(process.env.MTLS_KIT_AWS_TIMEOUT_MS);
  return v > 0 ? v : DEFAULT_REQUEST_TIMEOUT_MS;
}

/** The configuration every SDK client of mtls-kit shares: region, profile, endpoint, retries, timeouts. */
export function sdkClientConfig(p: AwsParams): {
  region?: string;
  profile?: string;
  endpoint?: string;
  maxAttempts: number;
  retryMode: string;
  requestHandler: {connectionTimeout: number; requestTimeout: number; throwOnRequestTimeout: boolean; socketTimeout: number};
} {
  const maxAttempts = Number(process.env.AWS_MAX_ATTEMPTS) > 0 ? Number(process.env.AWS_MAX_ATTEMPTS) : DEFAULT_MAX_ATTEMPTS;
  const timeout = requestTimeoutMs();
  return {
    ...(p.region ? {region: p.region} : {}),
    ...(p.profile ? {profile: p.profile} : {}),
    ...(p.endpointUrl ? {endpoint: p.endpointUrl} : {}),
    maxAttempts,
    retryMode: 'standard',
    requestHandler: {connectionTimeout: Math.min(5000, timeout), requestTimeout: timeout, throwOnRequestTimeout: true, socketTimeout: timeout},
  };
}

/**
 * Builds the S3 and ELBv2 clients.
 * - S3 uses path-style addressing when a custom endpoint is set (S3-compatible stores
 *   and local servers rarely resolve `<bucket>.host`), and checksums only when required.
 * - Retries: the SDK's standard strategy, `AWS_MAX_ATTEMPTS` or 5 attempts.
 * - Every request is bounded: connect 5 s, then the request timeout (30 s) as an error, not
 *   the warning @smithy/node-http-handler logs by default (`throwOnRequestTimeout`), and
 *   the same bound on an idle socket (`socketTimeout`, a body that stops mid-way). A hung
 *   connection therefore costs at most attempts x timeout, never forever.
 * @throws MtlsKitError AWS_REGION_MISSING (exit 4) when no region is configured.
 */
export async function createAwsClients(p: AwsParams): Promise<AwsClients> {
  // The SDK warns on every run under Node 20 about a future release; our engines field
  // allows Node 20, so the warning is noise on stderr. The user's own setting wins.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [s3Sdk, elbv2Sdk] = await Promise.all([
    import('@aws-sdk/client-s3').then(commonJs),
    import('@aws-sdk/client-elastic-load-balancing-v2').then(commonJs),
  ]);
  const env = process.env;
  const customS3 = Boolean(p.endpointUrl || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL);
  const common = sdkClientConfig(p);
  const maxAttempts = common.maxAttempts;
  // S3-compatible stores (MinIO, s3rver, ...) often lack the SDK's default flexible
  // checksums: a streamed upload is sent aws-chunked with a CRC32 trailer, and s3rver stores
  // that framing as the object's bytes. With a custom endpoint we ask for checksums only
  // when the operation requires them, as those stores document; the SDK's own variables
  // (AWS_REQUEST_CHECKSUM_CALCULATION / AWS_RESPONSE_CHECKSUM_VALIDATION) still win.
  const checksums = customS3
    ? {
        ...(env.AWS_REQUEST_CHECKSUM_CALCULATION ? {} : {requestChecksumCalculation: 'WHEN_REQUIRED' as const}),
        ...(env.AWS_RESPONSE_CHECKSUM_VALIDATION ? {} : {responseChecksumValidation: 'WHEN_REQUIRED' as const}),
      }
    : {};
  const s3 = new s3Sdk.S3Client({...common, forcePathStyle: customS3, ...checksums});
  const elbv2 = new elbv2Sdk.ElasticLoadBalancingV2Client(common);
  const elbv2Once = new elbv2Sdk.ElasticLoadBalancingV2Client({...common, maxAttempts: 1});
  // NLB identity filters, which the SDK's model lacks (remove with that module).
  addNlbFilterMiddleware(elbv2);
  addNlbFilterMiddleware(elbv2Once);
  let region: string;
  try {
    region = await elbv2.config.region();
  } catch {
    region = '';
  }
  if (!region) {
    throw new MtlsKitError({
      code: 'AWS_REGION_MISSING',
      message: 'no AWS region configured',
      suggestions: ['pass --region us-east-1, or set AWS_REGION, or set region in your AWS profile'],
      exitCode: ExitCode.Precondition,
    });
  }
  runRegion = region;
  return {s3, elbv2, elbv2Once, maxAttempts, s3Sdk, elbv2Sdk, region};
}

/**
 * The exports of a CommonJS package loaded with a dynamic import. In the esbuild bundle
 * (scripts/build.js) such a chunk exports only `default` (= module.exports); under plain
 * Node `default` is module.exports too, next to the named exports.
 */
export function commonJs<T extends object>(m: T): T {
  const d = (m as {default?: unknown}).default;
  return d !== null && typeof d === 'object' ? (d as T) : m;
}

/** What a call was doing, for the error message. */
export interface AwsCallContext {
  /** IAM action, e.g. `s3:PutObject` or `elasticloadbalancing:CreateTrustStore`. */
  action: string;
  /** The resource (bucket/key, trust store name or ARN, listener ARN). */
  resource?: string;
  /** The local file the call was about (a CRL for AddTrustStoreRevocations). */
  file?: string;
}

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  Code?: string;
  $fault?: string;
  $metadata?: {httpStatusCode?: number; requestId?: string; attempts?: number};
}

/**
 * Runs one AWS call and maps its failure (STYLE "Errors"; aws-reference 2.3 for the codes).
 * The request id goes into the message and `details.requestId`; the SDK error is the cause.
 */
export async function callAws<T>(ctx: AwsCallContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw mapAwsError(error, ctx);
  }
}

/** The name of an SDK error without the `Exception` suffix (the wire code, aws-reference 2.3). */
export function awsErrorCode(error: unknown): string {
  const e = error as SdkError;
  return (e.Code ?? e.name ?? e.code ?? 'Error').replace(/Exception$/, '');
}

/**
 * What a service's own error mapper (API Gateway, CloudFront) starts from: the wire code, the
 * SDK error, the " (request id ...)" suffix, and a maker of exit-5 errors carrying the call's
 * context and request id in `details`, as mapAwsError writes them.
 */
export function awsFailure(
  error: unknown,
  ctx: AwsCallContext,
): {
  code: string;
  e: {message?: string; $metadata?: {requestId?: string}};
  rid: string;
  make: (c: ErrorCode, message: string, suggestions: string[]) => MtlsKitError;
} {
  const code = awsErrorCode(error);
  const e = error as {message?: string; $metadata?: {requestId?: string}};
  const rid = e.$metadata?.requestId ? ` (request id ${e.$metadata.requestId})` : '';
  const make = (c: ErrorCode, message: string, suggestions: string[]): MtlsKitError =>
    new MtlsKitError({
      code: c,
      message: message + rid,
      suggestions,
      exitCode: ExitCode.Aws,
      cause: error,
      details: {
        awsCode: code,
        action: ctx.action,
        ...(ctx.resource ? {resource: ctx.resource} : {}),
        ...(e.$metadata?.requestId ? {requestId: e.$metadata.requestId} : {}),
      },
    });
  return {code, e, rid, make};
}

/** Maps an SDK error to an MtlsKitError with the next step. */
export function mapAwsError(error: unknown, ctx: AwsCallContext): MtlsKitError {
  if (error instanceof MtlsKitError) return error;
  const e = error as SdkError;
  const code = awsErrorCode(error);
  const status = e.$metadata?.httpStatusCode;
  const requestId = e.$metadata?.requestId;
  const where = ctx.resource ? ` on ${ctx.resource}` : '';
  const rid = requestId ? ` (request id ${requestId})` : '';
  const details: Record<string, unknown> = {
    awsCode: code,
    action: ctx.action,
    ...(ctx.resource ? {resource: ctx.resource} : {}),
    ...(requestId ? {requestId} : {}),
    ...(status ? {httpStatus: status} : {}),
  };
  const make = (c: ErrorCode, message: string, suggestions: string[], exitCode: 4 | 5 = ExitCode.Aws): MtlsKitError =>
    new MtlsKitError({code: c, message: message + rid, suggestions, exitCode, cause: error, details});

  const bucket = ctx.resource?.replace(/^s3:\/\//, '').split('/')[0];
  const bucketRegion = ctx.action.startsWith('s3:') ? s3RedirectRegion(error, code) : null;
  if (bucketRegion) {
    // S3 answers 301 PermanentRedirect (a HEAD: no body, only x-amz-bucket-region) or 400
    // AuthorizationHeaderMalformed naming the region when the request went to the wrong region.
    return make(
      'S3_WRONG_REGION',
      `S3 bucket ${bucket} is in region ${bucketRegion}, not ${runRegion || 'the region of this run'}`,
      [`pass --region ${bucketRegion} (the trust store and load balancers must then be in ${bucketRegion} too), or use a bucket in the load balancer's region`],
      ExitCode.Precondition,
    );
  }
  switch (code) {
    case 'CredentialsProviderError':
    case 'ProviderError':
      return make(
        'AWS_CREDENTIALS_MISSING',
        `no AWS credentials found for ${ctx.action}`,
        ['set AWS_PROFILE or pass --profile, or set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or run where an instance role is available'],
        ExitCode.Precondition,
      );
    case 'NoSuchBucket':
      return make('S3_BUCKET_NOT_FOUND', `S3 bucket ${bucket} does not exist`, [
        `create it: aws s3 mb s3://${bucket}`,
        'or pass the right --bucket (and --region)',
      ]);
    case 'AccessDenied':
    case 'Forbidden':
    case 'AccessDeniedException':
    case 'UnauthorizedOperation':
      return make('AWS_ACCESS_DENIED', `AWS refused ${ctx.action}${where}`, [
        `allow ${ctx.action} for these credentials (IAM policy, bucket policy or SCP), then re-run`,
      ]);
    case 'InvalidAccessKeyId':
    case 'SignatureDoesNotMatch':
    case 'UnrecognizedClient':
    case 'InvalidClientTokenId':
    case 'ExpiredToken':
      return make('AWS_CREDENTIALS_INVALID', `AWS rejected the credentials (${code}) for ${ctx.action}`, [
        'check AWS_PROFILE / --profile, or refresh expired session credentials',
      ]);
    case 'TooManyTrustStores':
      // aws-reference 3: trust stores per account per region, 20 by default, quota L-A8F7060B.
      return make('TOO_MANY_TRUST_STORES', `the account's trust-store quota is reached, so ${ctx.resource ?? 'the trust store'} cannot be created`, [
        'delete unused trust stores (aws elbv2 describe-trust-stores), or',
        'request more: aws service-quotas request-service-quota-increase --service-code elasticloadbalancing --quota-code L-A8F7060B --desired-value 30',
      ]);
    case 'TrustStoreNotReady':
      return make('TRUST_STORE_NOT_READY', `trust store ${ctx.resource ?? ''} is not ACTIVE yet, so the listener cannot use it`, [
        're-run deploy with a longer --wait-timeout; the trust store is usually ACTIVE within a few minutes',
      ]);
    case 'TrustStoreInUse':
      return make('TRUST_STORE_IN_USE', `trust store ${ctx.resource ?? ''} is still used by a listener`, [
        'set the listener to another trust store or Mode=off first: aws elbv2 describe-trust-store-associations --trust-store-arn <arn>',
        'mtls-kit destroy --listener-arn <listener-arn> ... turns their mutual TLS off before deleting it',
      ]);
    case 'TrustStoreNotFound':
      return make('TRUST_STORE_NOT_FOUND', `trust store ${ctx.resource ?? ''} does not exist`, ['check --trust-store-name and --region']);
    case 'InvalidRevocationContent':
      return make('CRL_REJECTED', `AWS rejected the CRL ${ctx.file ?? ctx.resource ?? ''}: ${e.message ?? ''}`, [
        `check it with: mtls-kit lint ${ctx.file ?? '<crl.pem>'}`,
        'ALB accepts PEM CRLs signed with SHA-256/384/512 (RSA or ECDSA)',
      ]);
    case 'TooManyTrustStoreRevocationEntries':
      return make(
        'TOO_MANY_REVOCATIONS',
        `the trust store would exceed its revocation limits (30 lists, 500,000 entries) when adding ${ctx.file ?? 'the CRLs'}`,
        ['remove revocation lists that are no longer needed, or request more: quota codes L-332EE142 (lists) and L-37E1617B (entries)'],
      );
    case 'InvalidCaCertificatesBundle':
      return make('BUNDLE_REJECTED', `AWS rejected the CA bundle ${ctx.file ?? ctx.resource ?? ''}: ${e.message ?? ''}`, [
        `check it with: mtls-kit lint ${ctx.file ?? '<ca-bundle.pem>'}`,
      ]);
    case 'CaCertificatesBundleNotFound':
    case 'RevocationContentNotFound':
      return make('S3_OBJECT_NOT_FOUND', `AWS could not read ${ctx.resource ?? 'the S3 object'} (${code})`, [
        'the load balancer service reads the object with your credentials: check the key, the bucket region and s3:GetObject / s3:GetObjectVersion permissions',
      ]);
    case 'RevocationIdNotFound':
      return make(
        'REVOCATION_NOT_FOUND',
        `the revocation lists (${ctx.resource ?? ''}) no longer exist in the trust store (removed meanwhile by another run or by hand)`,
        ['re-run: mtls-kit reads what the trust store holds again and plans from that'],
      );
    case 'ListenerNotFound':
      return make('LISTENER_NOT_FOUND', `listener ${ctx.resource ?? ''} does not exist (deleted, or in another region or account)`, [
        'check --listener-arn and --region; list them with: aws elbv2 describe-listeners --load-balancer-arn <load-balancer-arn>',
      ]);
    case 'LoadBalancerNotFound':
      return make('LOAD_BALANCER_NOT_FOUND', `load balancer ${ctx.resource ?? ''} does not exist (deleted, or in another region or account)`, [
        'check --load-balancer-arn and --region: aws elbv2 describe-load-balancers',
      ]);
    case 'DuplicateListener':
      return make('LISTENER_EXISTS', `the load balancer already has a listener on that port (${ctx.action} on ${ctx.resource ?? ''})`, [
        'pass that listener with --listener-arn instead (aws elbv2 describe-listeners --load-balancer-arn <load-balancer-arn>), or choose another --port',
      ]);
    case 'TooManyListeners':
      // aws-reference 3: 2 listeners in mTLS verify mode per ALB (not adjustable); 50 listeners per load balancer.
      return make(
        'TOO_MANY_LISTENERS',
        `the load balancer of ${ctx.resource ?? 'this listener'} has reached a listener quota: at most 2 listeners in mutual TLS verify mode per Application Load Balancer, and 50 listeners per load balancer`,
        ['set another listener of that load balancer to --mode off or passthrough first (or delete an unused listener), or use another load balancer'],
      );
    case 'CertificateNotFound':
      return make('CERTIFICATE_NOT_FOUND', `AWS found no server certificate for ${ctx.action}${where}`, [
        'check --certificate-arn: an issued ACM certificate in the same region and account as the load balancer (aws acm list-certificates --region <region>)',
      ]);
    case 'ValidationError':
      return make('AWS_VALIDATION_ERROR', `AWS rejected a parameter of ${ctx.action}${where}: ${e.message ?? ''}`, [
        'correct the flag that gave the value named above and re-run; mtls-kit lint and --dry-run check most values before any call',
      ]);
    case 'DuplicateTrustStoreName':
      return make('TRUST_STORE_EXISTS', `a trust store named ${ctx.resource ?? ''} already exists (created concurrently?)`, [
        're-run deploy: it will find and update it',
      ]);
    default:
      break;
  }
  const msg = e.message ?? String(error);
  if (code === 'Timeout' || code === 'TimeoutError' || (e as {code?: string}).code === 'ETIMEDOUT') {
    return make(
      'AWS_TIMEOUT',
      `AWS did not answer ${ctx.action}${where} within ${Math.round(requestTimeoutMs() / 1000)}s (${plural(e.$metadata?.attempts ?? 1, 'attempt')})`,
      ['check the network and --endpoint-url / AWS_ENDPOINT_URL*, then re-run: deploy continues from what AWS holds'],
    );
  }
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|socket hang up|TimeoutError/i.test(`${code} ${msg}`)) {
    return make('AWS_UNREACHABLE', `could not reach AWS for ${ctx.action}: ${msg}`, ['check the network, --region and --endpoint-url / AWS_ENDPOINT_URL*']);
  }
  if (status !== undefined && status >= 500) {
    return make('AWS_SERVER_ERROR', `AWS failed ${ctx.action}${where} with HTTP ${status} (${code}) after ${e.$metadata?.attempts ?? 1} attempts`, [
      'AWS may be degraded; re-run later (deploy is idempotent)',
    ]);
  }
  if (code === 'Throttling' || code === 'ThrottlingException' || code === 'TooManyRequestsException' || code === 'SlowDown') {
    return make('AWS_THROTTLED', `AWS kept throttling ${ctx.action} after ${e.$metadata?.attempts ?? 1} attempts`, ['re-run later, or raise AWS_MAX_ATTEMPTS']);
  }
  return make('AWS_ERROR', `${ctx.action}${where} failed: ${code}: ${msg}`, ['see the AWS error above; deploy is idempotent and can be re-run']);
}

/**
 * The region S3 says the bucket is in, when a request went to the wrong one: the
 * `x-amz-bucket-region` header of a 301 PermanentRedirect or 400 AuthorizationHeaderMalformed
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html, "x-amz-bucket-region"),
 * the `Region` element of AuthorizationHeaderMalformed, or the region in its message or in a
 * PermanentRedirect's `Endpoint`. Null for every other failure.
 */
export function s3RedirectRegion(error: unknown, code = awsErrorCode(error)): string | null {
  const e = error as SdkError & {$response?: {headers?: Record<string, string | undefined>}; Region?: string; Endpoint?: string};
  const status = e.$metadata?.httpStatusCode;
  const redirect =
    status === 301 ||
    status === 307 ||
    code === 'PermanentRedirect' ||
    code === 'TemporaryRedirect' ||
    code === 'AuthorizationHeaderMalformed' ||
    code === 'IllegalLocationConstraintException';
  if (!redirect && status !== 400) return null;
  const header = e.$response?.headers?.['x-amz-bucket-region'];
  const fromBody = e.Region ?? /expecting '([a-z0-9-]+)'/.exec(e.message ?? '')?.[1] ?? /\.s3[.-]([a-z]{2}(?:-[a-z]+)+-\d)\./.exec(e.Endpoint ?? '')?.[1];
  const region = header ?? fromBody;
  if (!region || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region) || region === runRegion) return null;
  // A 400 of another kind that merely carries the header is not a redirect.
  return redirect || code === 'Unknown' ? region : null;
}

/**
 * Downloads a pre-signed URL (GetTrustStoreCaCertificatesBundle / GetTrustStoreRevocationContent
 * Location, valid 10 minutes, aws-reference 2.1). Bounded: 30 s, 50 MB (the CRL size limit, aws-reference 3).
 */
export async function fetchLocation(url: string, what: string, onHeaders?: (h: Headers) => void): Promise<Uint8Array> {
  const res = await getLocation(url, what, {});
  const len = Number(res.headers.get('content-length') ?? 0);
  if (len > 50 * 1024 * 1024) throw new MtlsKitError({code: 'AWS_DOWNLOAD_FAILED', message: `${what} is larger than 50 MB`, exitCode: ExitCode.Aws});
  onHeaders?.(res.headers);
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * The ETag of the object behind a pre-signed URL, reading at most one byte of it (a ranged
 * GET: the URL is signed for GET, so HEAD would not match the signature). Null without ETag.
 */
export async function fetchLocationEtag(url: string, what: string): Promise<string | null> {
  const res = await getLocation(url, what, {range: 'bytes=0-0'});
  // A server that ignores Range would send everything: stop reading.
  await res.body?.cancel();
  return res.headers.get('etag')?.replace(/"/g, '') ?? null;
}

async function getLocation(url: string, what: string, headers: Record<string, string>): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, {headers, signal: AbortSignal.timeout(30_000)});
  } catch (error) {
    throw new MtlsKitError({code: 'AWS_UNREACHABLE', message: `could not download ${what}: ${(error as Error).message}`, exitCode: ExitCode.Aws, cause: error});
  }
  if (res.status === 403) {
    await res.body?.cancel();
    // aws-reference 2.1: the link is pre-signed for 10 minutes.
    throw new MtlsKitError({
      code: 'AWS_DOWNLOAD_FAILED',
      message: `downloading ${what} was refused (HTTP 403): the pre-signed link expired or the clock is off`,
      suggestions: ['re-run: each run asks for a new link; check the machine clock if it keeps happening'],
      exitCode: ExitCode.Aws,
    });
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new MtlsKitError({code: 'AWS_DOWNLOAD_FAILED', message: `downloading ${what} failed with HTTP ${res.status}`, exitCode: ExitCode.Aws});
  }
  return res;
}
