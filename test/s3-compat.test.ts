import assert from 'node:assert/strict';
import {Readable} from 'node:stream';
import {after, describe, it} from 'node:test';
import {GetObjectCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client} from '@aws-sdk/client-s3';
import {startS3} from './support/s3-server.js';

// Why src/io/aws/clients.ts sets requestChecksumCalculation=WHEN_REQUIRED for custom S3 endpoints,
// and why the tests cannot cover versioned buckets: both are facts about s3rver, proven here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const s3 = await startS3(['compat']);
after(() => s3.stop());
const client = (extra: Record<string, unknown> = {}): S3Client =>
  new S3Client({region: 'us-east-1', endpoint: s3.url, forcePathStyle: true, credentials: {accessKeyId: 'test', secretAccessKey: 'test'}, ...extra});
const read = async (c: S3Client, key: string): Promise<string> =>
  await (await c.send(new GetObjectCommand({Bucket: 'compat', Key: key}))).Body!.transformToString();

describe('s3rver and the SDK defaults', () => {
  it('a streamed upload with the default checksums stores the aws-chunked framing (corrupt object)', async () => {
    const c = client();
    await c.send(new PutObjectCommand({Bucket: 'compat', Key: 'default', Body: Readable.from([Buffer.from('hello\n')]), ContentLength: 6}));
    assert.notEqual(await read(c, 'default'), 'hello\n');
    c.destroy();
  });

  it('with WHEN_REQUIRED checksums the same upload is stored intact', async () => {
    const c = client({requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED'});
    await c.send(new PutObjectCommand({Bucket: 'compat', Key: 'required', Body: Readable.from([Buffer.from('hello\n')]), ContentLength: 6}));
    assert.equal(await read(c, 'required'), 'hello\n');
    c.destroy();
  });

  it('s3rver does not implement bucket versioning: PutBucketVersioning fails and objects get no VersionId', async () => {
    const c = client();
    // s3rver routes PUT /bucket?versioning to CreateBucket (BucketAlreadyExists) or NotImplemented.
    await assert.rejects(c.send(new PutBucketVersioningCommand({Bucket: 'compat', VersioningConfiguration: {Status: 'Enabled'}})));
    const put = await c.send(new PutObjectCommand({Bucket: 'compat', Key: 'v', Body: Buffer.from('v1\n')}));
    assert.equal(put.VersionId, undefined);
    c.destroy();
  });
});
