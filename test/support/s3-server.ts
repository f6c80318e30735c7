/**
 * A real S3-compatible server (s3rver, from the npm registry) for tests: 127.0.0.1,
 * random port, a temp directory, buckets created up front. Tests stop it in `after`.
 *
 * s3rver does not implement conditional writes; `conditionalWrites` adds them as S3 has them
 * (PutObject with If-None-Match: * or If-Match: <etag>, 412 PreconditionFailed, 409
 * ConditionalRequestConflict while another conditional write of the key is under way).
 *
 * s3rver does not implement bucket versioning (PUT ?versioning answers NotImplemented),
 * so the tests here cover unversioned buckets; VersionId handling is covered by the
 * deploy-plan unit tests.
 */
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {createRequire} from 'node:module';
import S3rver from 's3rver';

// s3rver verifies SigV4 against its account registry; register the tests' dummy key pair
// (AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test) next to its built-in S3RVER one.
const account = createRequire(import.meta.url)('s3rver/lib/models/account.js') as {DUMMY_ACCOUNT: {createKeyPair(id: string, secret: string): void}};
account.DUMMY_ACCOUNT.createKeyPair('test', 'test');

export interface S3Server {
  url: string;
  /** Every request s3rver served: method, path and headers. */
  requests: Array<{method: string; path: string; headers: Record<string, string | string[] | undefined>}>;
  stop(): Promise<void>;
}

/** Starts s3rver with the given buckets. */
export async function startS3(buckets: string[]): Promise<S3Server> {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-kit-s3-'));
  const requests: S3Server['requests'] = [];
  const server = new S3rver({address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: buckets.map((name) => ({name}))});
  // s3rver is a Koa app; record before its router answers.
  server.middleware.unshift(async (ctx: {method: string; path: string; headers: Record<string, string | string[] | undefined>}, next: () => Promise<void>) => {
    // conditionalWrites' own HEAD is not a request of the CLI
    if (ctx.headers['x-test-internal'] === undefined) requests.push({method: ctx.method, path: ctx.path, headers: ctx.headers});
    await next();
  });
  server.middleware.splice(1, 0, conditionalWrites(() => url));
  const address = (await server.run()) as {port: number};
  const url = `http://127.0.0.1:${address.port}`;
  return {
    url,
    requests,
    async stop() {
      await server.close();
      rmSync(dir, {recursive: true, force: true});
    },
  };
}

interface KoaContext {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  status: number;
  type: string;
  body: unknown;
}

/**
 * PutObject with If-None-Match: * (only when the key does not exist) or If-Match: <etag>
 * (only when it holds that version), as S3 does; conditional writes of one key are
 * serialised, a second one meanwhile gets 409 ConditionalRequestConflict.
 */
function conditionalWrites(base: () => string): (ctx: KoaContext, next: () => Promise<void>) => Promise<void> {
  const busy = new Set<string>();
  const fail = (ctx: KoaContext, status: number, code: string, message: string): void => {
    ctx.status = status;
    ctx.type = 'application/xml';
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  };
  return async (ctx, next) => {
    const noneMatch = ctx.headers['if-none-match'];
    const match = ctx.headers['if-match'];
    if (ctx.method !== 'PUT' || (noneMatch === undefined && match === undefined)) return next();
    if (busy.has(ctx.path)) return fail(ctx, 409, 'ConditionalRequestConflict', 'A conflicting conditional operation is currently in progress against this resource.');
    busy.add(ctx.path);
    try {
      const head = await fetch(base() + ctx.path, {method: 'HEAD', headers: {'x-test-internal': '1'}, signal: AbortSignal.timeout(10_000)});
      const etag = head.ok ? head.headers.get('etag') : null;
      const holds = (tag: string): boolean => etag !== null && tag.replace(/"/g, '') === etag.replace(/"/g, '');
      if ((noneMatch === '*' && head.ok) || (typeof match === 'string' && !holds(match))) {
        return fail(ctx, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      }
      await next();
    } finally {
      busy.delete(ctx.path);
    }
  };
}
