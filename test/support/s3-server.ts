/**
 * A real S3-compatible server (s3rver, from the npm registry) for tests: 127.0.0.1,
 * random port, a temp directory, buckets created up front. Tests stop it in `after`.
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
    requests.push({method: ctx.method, path: ctx.path, headers: ctx.headers});
    await next();
  });
  const address = (await server.run()) as {port: number};
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    async stop() {
      await server.close();
      rmSync(dir, {recursive: true, force: true});
    },
  };
}
