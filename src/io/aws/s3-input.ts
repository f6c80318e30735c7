/**
 * The one loader of inputs that may live in S3: `deploy --crl`, `lint` and `inspect` read a
 * local file, stdin (-) or `s3://bucket/key` through readFileOrS3, so the three take the same
 * inputs (AWS Private CA publishes its CRLs to S3 as DER, aws-reference 4.5). The S3 client is
 * loaded only for an s3:// input.
 */
import type {Readable} from 'node:stream';
import {readInput} from '../files.js';
import type {AwsParams} from './clients.js';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The bytes of a local file, stdin (`-`) or one S3 object (`s3://bucket/key`, on the SDK's
 * default chain: AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, or `aws`: the command's --region,
 * --profile and --endpoint-url).
 * @throws MtlsKitError FILE_NOT_FOUND (4) / IS_A_DIRECTORY (2) / FILE_UNREADABLE (4) for files;
 *   BAD_S3_URL (2) / AWS_REGION_MISSING (4) / the mapped S3 error (4/5) for objects.
 */
export async function readFileOrS3(path: string, aws: AwsParams = {}): Promise<Buffer> {
  if (!path.startsWith('s3://')) return readInput(path);
  const {createS3Reader, parseS3Url} = await import('./s3-read.js');
  const loc = parseS3Url(path);
  const s3 = await createS3Reader(aws);
  try {
    return await collect(await s3.open(loc.bucket, loc.prefix));
  } finally {
    s3.close();
  }
}
