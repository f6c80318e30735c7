/**
 * Reading objects from S3 (or an S3-compatible endpoint) for `mtls-kit logs s3://...`,
 * on the clients and error mapping deploy uses (src/io/aws/clients.ts): --profile / --region /
 * --endpoint-url (or AWS_ENDPOINT_URL) over the SDK's default chain, SDK loaded lazily.
 */
import type {Readable} from 'node:stream';
import {usageError} from '../../lib/errors.js';
import {type AwsParams, callAws, createAwsClients} from './clients.js';

export type S3ReadOptions = AwsParams;

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
  if (!m?.[1])
    throw usageError('BAD_S3_URL', `${url} is not an s3://bucket/prefix URL`, ['write it as s3://my-log-bucket/AWSLogs/123456789012/elasticloadbalancing/']);
  return {bucket: m[1], prefix: m[2] ?? ''};
}

export interface S3Reader {
  /** Object keys under the prefix, in key order (ALB keys sort by date). */
  list(loc: S3Location): Promise<string[]>;
  /** A stream of the object's bytes. */
  open(bucket: string, key: string): Promise<Readable>;
  close(): void;
}

/**
 * Creates a reader.
 * @throws MtlsKitError AWS_REGION_MISSING (exit 4); list/open throw the mapped AWS errors (exit 4/5).
 */
export async function createS3Reader(opts: S3ReadOptions): Promise<S3Reader> {
  const {s3, s3Sdk, elbv2} = await createAwsClients(opts);
  return {
    async list(loc) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const r = await callAws({action: 's3:ListBucket', resource: `s3://${loc.bucket}/${loc.prefix}`}, () =>
          s3.send(new s3Sdk.ListObjectsV2Command({Bucket: loc.bucket, Prefix: loc.prefix, ...(token ? {ContinuationToken: token} : {})})),
        );
        for (const o of r.Contents ?? []) if (o.Key && !o.Key.endsWith('/')) keys.push(o.Key);
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    async open(bucket, key) {
      const r = await callAws({action: 's3:GetObject', resource: `s3://${bucket}/${key}`}, () =>
        s3.send(new s3Sdk.GetObjectCommand({Bucket: bucket, Key: key})),
      );
      return r.Body as Readable;
    },
    close() {
      s3.destroy();
      elbv2.destroy();
    },
  };
}
