/**
 * Reading objects from S3 (or an S3-compatible endpoint) for `mtls-kit logs s3://...`.
 * The SDK is imported lazily so that commands that never touch S3 start fast. Credentials
 * and region come from the SDK's default chain, with --profile / --region /
 * --endpoint-url (or AWS_ENDPOINT_URL) on top (STYLE "Files").
 */
import type {Readable} from 'node:stream';
import {ExitCode, MtlsKitError, usageError} from '../lib/errors.js';

export interface S3ReadOptions {
  region?: string;
  profile?: string;
  endpointUrl?: string;
}

export interface S3Location {
  bucket: string;
  prefix: string;
}

/**
 * Splits `s3://bucket/prefix` into bucket and prefix (the prefix may be empty).
 * @throws MtlsKitError BAD_S3_URL (exit 2).
 */
export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m || !m[1]) throw usageError('BAD_S3_URL', `${url} is not an s3://bucket/prefix URL`, ['write it as s3://my-log-bucket/AWSLogs/123456789012/elasticloadbalancing/']);
  return {bucket: m[1], prefix: m[2] ?? ''};
}

function awsError(error: unknown, what: string): MtlsKitError {
  const e = error as {name?: string; message?: string; $metadata?: {requestId?: string}};
  const name = e.name ?? 'Error';
  const suggestions =
    name === 'NoSuchBucket'
      ? ['check the bucket name (the load balancer attribute connection_logs.s3.bucket)']
      : name === 'AccessDenied' || name === 'InvalidAccessKeyId' || name === 'CredentialsProviderError'
        ? ['check your AWS credentials (--profile, AWS_PROFILE) and that they may s3:ListBucket and s3:GetObject']
        : ['check --region / --endpoint-url and your network'];
  return new MtlsKitError({code: 'AWS_S3', message: `${what}: ${name}: ${e.message ?? ''}`.trim(), suggestions, exitCode: ExitCode.Aws, cause: error});
}

export interface S3Reader {
  /** Object keys under the prefix, in key order (ALB keys sort by date). */
  list(loc: S3Location): Promise<string[]>;
  /** A stream of the object's bytes. */
  open(bucket: string, key: string): Promise<Readable>;
  close(): void;
}

/** Creates a reader on a lazily imported S3 client. */
export async function createS3Reader(opts: S3ReadOptions): Promise<S3Reader> {
  // In the esbuild bundle the SDK (CommonJS) may arrive as the namespace or under `default`.
  const mod = (await import('@aws-sdk/client-s3')) as typeof import('@aws-sdk/client-s3') & {default?: typeof import('@aws-sdk/client-s3')};
  const {S3Client, ListObjectsV2Command, GetObjectCommand} = mod.S3Client ? mod : mod.default!;
  const endpoint = opts.endpointUrl ?? process.env.AWS_ENDPOINT_URL;
  const client = new S3Client({
    ...(opts.region ? {region: opts.region} : {}),
    ...(opts.profile ? {profile: opts.profile} : {}),
    // S3-compatible servers (MinIO, s3rver) want path-style addressing.
    ...(endpoint ? {endpoint, forcePathStyle: true} : {}),
  });
  return {
    async list(loc) {
      const keys: string[] = [];
      let token: string | undefined;
      try {
        do {
          const r = await client.send(new ListObjectsV2Command({Bucket: loc.bucket, Prefix: loc.prefix, ...(token ? {ContinuationToken: token} : {})}));
          for (const o of r.Contents ?? []) if (o.Key && !o.Key.endsWith('/')) keys.push(o.Key);
          token = r.IsTruncated ? r.NextContinuationToken : undefined;
        } while (token);
      } catch (error) {
        throw awsError(error, `listing s3://${loc.bucket}/${loc.prefix}`);
      }
      return keys.sort();
    },
    async open(bucket, key) {
      try {
        const r = await client.send(new GetObjectCommand({Bucket: bucket, Key: key}));
        return r.Body as Readable;
      } catch (error) {
        throw awsError(error, `reading s3://${bucket}/${key}`);
      }
    },
    close() {
      client.destroy();
    },
  };
}
