/**
 * A real S3-compatible server (s3rver, from the npm registry) for tests: 127.0.0.1,
 * random port, a temp directory, buckets created up front. Tests stop it in `after`.
 *
 * s3rver does not implement conditional writes; `conditionalWrites` adds them as S3 has them
 * (PutObject with If-None-Match: * or If-Match: <etag>, 412 PreconditionFailed, 409
 * ConditionalRequestConflict while another conditional write of the key is under way).
 *
 * s3rver does not implement bucket policies either; `bucketPolicies` adds them as S3 has them
 * (PutBucketPolicy / GetBucketPolicy / DeleteBucketPolicy on `?policy`: the policy JSON as the
 * body, 400 MalformedPolicy for a body that is not a JSON object with Statement, 404
 * NoSuchBucketPolicy when there is none, 404 NoSuchBucket;
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicy.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html). The ELBv2 emulator
 * reads them when connection logs are enabled, as the load balancer service checks the bucket.
 *
 * s3rver does not implement bucket versioning (PUT ?versioning answers NotImplemented),
 * so the tests here cover unversioned buckets; VersionId handling is covered by the
 * deploy-plan unit tests.
 */
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {createRequire} from 'node:module';
import S3rver, {type KoaContext} from 's3rver';

// s3rver verifies SigV4 against its account registry; register the tests' dummy key pair
// (AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test) next to its built-in S3RVER one.
const account = createRequire(import.meta.url)('s3rver/lib/models/account.js') as {DUMMY_ACCOUNT: {createKeyPair(id: string, secret: string): void}};
account.DUMMY_ACCOUNT.createKeyPair('test', 'test');

export interface S3Server {
  url: string;
  /** Every request s3rver served: method, path and headers. */
  requests: Array<{method: string; path: string; headers: Record<string, string | string[] | undefined>}>;
  /** Bucket → policy JSON (set through PutBucketPolicy, or directly by a test). */
  policies: Map<string, string>;
  stop(): Promise<void>;
}

/** Starts s3rver with the given buckets. */
export async function startS3(buckets: string[]): Promise<S3Server> {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-kit-s3-'));
  const requests: S3Server['requests'] = [];
  const server = new S3rver({address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: buckets.map((name) => ({name}))});
  // s3rver is a Koa app; record before its router answers.
  server.middleware.unshift(async (ctx, next) => {
    // conditionalWrites' own HEAD is not a request of the CLI
    if (ctx.headers['x-test-internal'] === undefined) requests.push({method: ctx.method, path: ctx.path, headers: ctx.headers});
    await next();
  });
  server.middleware.splice(
    1,
    0,
    conditionalWrites(() => url),
  );
  const policies = new Map<string, string>();
  server.middleware.splice(
    2,
    0,
    bucketPolicies(() => url, policies),
  );
  const address = (await server.run()) as {port: number};
  const url = `http://127.0.0.1:${address.port}`;
  return {
    url,
    requests,
    policies,
    async stop() {
      await server.close();
      rmSync(dir, {recursive: true, force: true});
    },
  };
}

/**
 * PutObject with If-None-Match: * (only when the key does not exist) or If-Match: <etag>
 * (only when it holds that version), as S3 does; conditional writes of one key are
 * serialised, a second one meanwhile gets 409 ConditionalRequestConflict.
 */
function conditionalWrites(base: () => string): (ctx: KoaContext, next: () => Promise<void>) => Promise<void> {
  const busy = new Set<string>();
  return async (ctx, next) => {
    const noneMatch = ctx.headers['if-none-match'];
    const match = ctx.headers['if-match'];
    if (ctx.method !== 'PUT' || (noneMatch === undefined && match === undefined)) return next();
    if (busy.has(ctx.path))
      return s3Error(ctx, 409, 'ConditionalRequestConflict', 'A conflicting conditional operation is currently in progress against this resource.');
    busy.add(ctx.path);
    try {
      const head = await fetch(base() + ctx.path, {method: 'HEAD', headers: {'x-test-internal': '1'}, signal: AbortSignal.timeout(10_000)});
      const etag = head.ok ? head.headers.get('etag') : null;
      const holds = (tag: string): boolean => etag !== null && tag.replace(/"/g, '') === etag.replace(/"/g, '');
      if ((noneMatch === '*' && head.ok) || (typeof match === 'string' && !holds(match))) {
        return s3Error(ctx, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      }
      await next();
    } finally {
      busy.delete(ctx.path);
    }
  };
}

function s3Error(ctx: KoaContext, status: number, code: string, message: string): void {
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

/** `?policy` on a bucket: Get/Put/DeleteBucketPolicy, kept in `policies` (see the top of this file). */
function bucketPolicies(base: () => string, policies: Map<string, string>): (ctx: KoaContext, next: () => Promise<void>) => Promise<void> {
  return async (ctx, next) => {
    const bucket = /^\/([^/]+)\/?$/.exec(ctx.path)?.[1];
    if (!bucket || ctx.query.policy === undefined) return next();
    const head = await fetch(`${base()}/${bucket}`, {method: 'HEAD', headers: {'x-test-internal': '1'}, signal: AbortSignal.timeout(10_000)});
    if (head.status === 404) return s3Error(ctx, 404, 'NoSuchBucket', 'The specified bucket does not exist');
    if (ctx.method === 'GET') {
      const policy = policies.get(bucket);
      if (policy === undefined) return s3Error(ctx, 404, 'NoSuchBucketPolicy', 'The bucket policy does not exist');
      ctx.status = 200;
      ctx.type = 'application/json';
      ctx.body = policy;
      return;
    }
    if (ctx.method === 'DELETE') {
      policies.delete(bucket);
      ctx.status = 204;
      return;
    }
    if (ctx.method !== 'PUT') return next();
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.req) chunks.push(Buffer.from(chunk as Buffer));
    const text = Buffer.concat(chunks).toString('utf8');
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      return s3Error(ctx, 400, 'MalformedPolicy', "Policies must be valid JSON and the first byte must be '{'");
    }
    if (typeof doc !== 'object' || doc === null || !('Statement' in doc)) return s3Error(ctx, 400, 'MalformedPolicy', 'Missing required field Statement');
    policies.set(bucket, text);
    ctx.status = 204;
  };
}
