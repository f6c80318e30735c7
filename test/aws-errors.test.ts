/**
 * AWS failures mapped to what the user should do next (src/io/aws/clients.ts mapAwsError): each
 * error is produced by the ELBv2 emulator or an S3 stand-in and reaches the mapping through
 * the real SDK, as in a deploy or destroy run.
 */
import assert from 'node:assert/strict';
import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {join} from 'node:path';
import {after, describe, it} from 'node:test';
import {
  ElasticLoadBalancingV2Client,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  DeleteTrustStoreCommand,
  DescribeListenersCommand,
  ModifyListenerCommand,
  RemoveTrustStoreRevocationsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client} from '@aws-sdk/client-s3';
import {callAws, createAwsClients} from '../src/io/aws/clients.js';
import {isMtlsKitError, type MtlsKitError} from '../src/lib/errors.js';
import {startAwsStandIns} from './support/aws-env.js';
import {runCli} from './support/cli.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const BUCKET = 'errors-bucket';
const aws = await startAwsStandIns([BUCKET]);
const credentials = {accessKeyId: 'test', secretAccessKey: 'test'};
const elb = new ElasticLoadBalancingV2Client({region: 'us-east-1', endpoint: aws.elb.url, credentials, maxAttempts: 1});
after(() => elb.destroy());

/** The mapped error of one SDK call. */
async function mapped(action: string, resource: string, fn: () => Promise<unknown>): Promise<MtlsKitError> {
  try {
    await callAws({action, resource}, fn);
  } catch (error) {
    assert.ok(isMtlsKitError(error), String(error));
    return error;
  }
  assert.fail(`${action} did not fail`);
}

describe('ELBv2 errors are mapped to the next step (exit 5)', () => {
  const lb = aws.elb.addLoadBalancer('errors-alb');
  const ts = 'arn:aws:elasticloadbalancing:us-east-1:111122223333:truststore/nothing/0123456789abcdef';

  it('ListenerNotFound names the listener and how to list them', async () => {
    const arn = `${lb.replace(':loadbalancer/', ':listener/')}/ffffffffffffffff`;
    const e = await mapped('elasticloadbalancing:DescribeListeners', arn, () => elb.send(new DescribeListenersCommand({ListenerArns: [arn]})));
    assert.equal(e.code, 'LISTENER_NOT_FOUND');
    assert.equal(e.exitCode, 5);
    assert.match(e.message, new RegExp(`listener ${arn} does not exist`));
    assert.match(e.suggestions[0]!, /--listener-arn and --region/);
    assert.match(e.message, /request id [0-9a-f-]{36}/);
  });

  it('DuplicateListener says to pass the existing listener', async () => {
    const create = () =>
      elb.send(
        new CreateListenerCommand({
          LoadBalancerArn: lb,
          Protocol: 'HTTPS',
          Port: 8443,
          Certificates: [{CertificateArn: 'arn:cert'}],
          DefaultActions: [{Type: 'forward', TargetGroupArn: 'arn:tg'}],
        }),
      );
    await create();
    const e = await mapped('elasticloadbalancing:CreateListener', lb, create);
    assert.equal(e.code, 'LISTENER_EXISTS');
    assert.equal(e.exitCode, 5);
    assert.match(e.message, /already has a listener on that port/);
    assert.match(e.suggestions[0]!, /--listener-arn .*or choose another --port/);
  });

  it('CertificateNotFound points at --certificate-arn', async () => {
    const e = await mapped('elasticloadbalancing:CreateListener', lb, () =>
      elb.send(new CreateListenerCommand({LoadBalancerArn: lb, Protocol: 'HTTPS', Port: 9443, DefaultActions: [{Type: 'forward', TargetGroupArn: 'arn:tg'}]})),
    );
    assert.equal(e.code, 'CERTIFICATE_NOT_FOUND');
    assert.equal(e.exitCode, 5);
    assert.match(e.suggestions[0]!, /--certificate-arn: an issued ACM certificate in the same region/);
  });

  it("ValidationError keeps AWS's reason", async () => {
    const e = await mapped('elasticloadbalancing:CreateLoadBalancer', 'x', () => elb.send(new CreateLoadBalancerCommand({Name: 'gw', Type: 'gateway'})));
    assert.equal(e.code, 'AWS_VALIDATION_ERROR');
    assert.equal(e.exitCode, 5);
    assert.match(e.message, /AWS rejected a parameter of elasticloadbalancing:CreateLoadBalancer on x: Load balancer type 'gateway' is not supported/);
  });

  it('TooManyListeners names both listener quotas', async () => {
    aws.elb.injectFault({kind: 'error', code: 'TooManyListeners', count: 1, action: 'ModifyListener'});
    const arn = `${lb.replace(':loadbalancer/', ':listener/')}/0000000000000001`;
    const e = await mapped('elasticloadbalancing:ModifyListener', arn, () =>
      elb.send(new ModifyListenerCommand({ListenerArn: arn, MutualAuthentication: {Mode: 'off'}})),
    );
    assert.equal(e.code, 'TOO_MANY_LISTENERS');
    assert.equal(e.exitCode, 5);
    assert.match(e.message, /at most 2 listeners in mutual TLS verify mode/);
    assert.match(e.suggestions[0]!, /--mode off or passthrough/);
  });

  it('RevocationIdNotFound says to re-run', async () => {
    aws.elb.injectFault({kind: 'error', code: 'RevocationIdNotFound', count: 1, action: 'RemoveTrustStoreRevocations'});
    const e = await mapped('elasticloadbalancing:RemoveTrustStoreRevocations', `${ts} revocation id 7`, () =>
      elb.send(new RemoveTrustStoreRevocationsCommand({TrustStoreArn: ts, RevocationIds: [7]})),
    );
    assert.equal(e.code, 'REVOCATION_NOT_FOUND');
    assert.equal(e.exitCode, 5);
    assert.match(e.message, /revocation lists \(\S+ revocation id 7\) no longer exist/);
    assert.match(e.suggestions[0]!, /^re-run/);
  });

  it('TrustStoreNotFound and TrustStoreInUse', async () => {
    const missing = await mapped('elasticloadbalancing:DeleteTrustStore', ts, () => elb.send(new DeleteTrustStoreCommand({TrustStoreArn: ts})));
    assert.equal(missing.code, 'TRUST_STORE_NOT_FOUND');
    assert.equal(missing.exitCode, 5);
    assert.match(missing.suggestions[0]!, /--region/);
    aws.elb.injectFault({kind: 'error', code: 'TrustStoreInUse', count: 1, action: 'DeleteTrustStore'});
    const inUse = await mapped('elasticloadbalancing:DeleteTrustStore', ts, () => elb.send(new DeleteTrustStoreCommand({TrustStoreArn: ts})));
    assert.equal(inUse.code, 'TRUST_STORE_IN_USE');
    assert.equal(inUse.exitCode, 5);
    assert.match(inUse.suggestions[0]!, /describe-trust-store-associations/);
  });

  it('deploy to a listener that does not exist: one line, exit 5', async () => {
    const ca = await makeTestCa(join(tempDir(), 'pki'), {cn: 'Errors Root'});
    const arn = `${lb.replace(':loadbalancer/', ':listener/')}/fffffffffffffff0`;
    const r = await runCli(['deploy', '--dir', ca.dir, '--trust-store-name', 'errors', '--bucket', BUCKET, '--listener-arn', arn, '--json'], {env: aws.env});
    assert.equal(r.code, 5, r.stdout + r.stderr);
    assert.equal(r.json.error.code, 'LISTENER_NOT_FOUND');
    assert.match(r.json.error.message, /does not exist/);
  });
});

/**
 * An S3 endpoint for a bucket in another region: HEAD answers 301 with only the
 * x-amz-bucket-region header, other calls 301 PermanentRedirect with the Endpoint, and a
 * bucket named `auth-*` answers 400 AuthorizationHeaderMalformed naming the region, as S3 does.
 */
async function wrongRegionS3(region: string): Promise<{url: string; server: Server}> {
  const server = createServer((req, res) => {
    const auth = req.url?.startsWith('/auth-') ?? false;
    const body = auth
      ? `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AuthorizationHeaderMalformed</Code><Message>The authorization header is malformed; the region 'us-east-1' is wrong; expecting '${region}'</Message><Region>${region}</Region><RequestId>0A1B</RequestId></Error>`
      : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.</Message><Endpoint>b.s3.${region}.amazonaws.com</Endpoint><RequestId>0A1B</RequestId></Error>`;
    res.writeHead(auth ? 400 : 301, {'x-amz-bucket-region': region, 'content-type': 'application/xml', 'x-amz-request-id': '0A1B'});
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return {url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server};
}

describe('an S3 bucket in another region', async () => {
  const s3 = await wrongRegionS3('eu-west-1');
  const client = new S3Client({region: 'us-east-1', endpoint: s3.url, forcePathStyle: true, credentials, maxAttempts: 1});
  after(() => client.destroy());

  for (const [name, action, resource, fn] of [
    ['HeadBucket 301 (header only)', 's3:ListBucket', 's3://b', () => client.send(new HeadBucketCommand({Bucket: 'b'}))],
    ['PutObject 301 PermanentRedirect', 's3:PutObject', 's3://b/k.pem', () => client.send(new PutObjectCommand({Bucket: 'b', Key: 'k.pem', Body: 'x'}))],
    ['ListObjectsV2 301 PermanentRedirect', 's3:ListBucket', 's3://b', () => client.send(new ListObjectsV2Command({Bucket: 'b'}))],
    [
      'PutObject 400 AuthorizationHeaderMalformed',
      's3:PutObject',
      's3://auth-b/k.pem',
      () => client.send(new PutObjectCommand({Bucket: 'auth-b', Key: 'k.pem', Body: 'x'})),
    ],
  ] as const) {
    it(`${name}: says where the bucket is and to pass --region (exit 4)`, async () => {
      const e = await mapped(action, resource, fn);
      assert.equal(e.code, 'S3_WRONG_REGION');
      assert.equal(e.exitCode, 4);
      assert.match(e.message, /is in region eu-west-1/);
      assert.match(e.suggestions[0]!, /^pass --region eu-west-1/);
    });
  }

  it('a 400 whose x-amz-bucket-region is the region of the run is not a redirect', async () => {
    process.env.AWS_ACCESS_KEY_ID ??= 'test';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
    const clients = await createAwsClients({region: 'eu-west-1', endpointUrl: s3.url});
    try {
      const e = await mapped('s3:ListBucket', 's3://auth-b', () => client.send(new HeadBucketCommand({Bucket: 'auth-b'})));
      assert.notEqual(e.code, 'S3_WRONG_REGION', e.message);
    } finally {
      clients.s3.destroy();
      clients.elbv2.destroy();
      clients.elbv2Once.destroy();
    }
  });

  it('deploy against it stops at the first S3 call with that message', async () => {
    const ca = await makeTestCa(join(tempDir(), 'pki'), {cn: 'Region Root'});
    const r = await runCli(['deploy', '--dir', ca.dir, '--trust-store-name', 'region', '--bucket', 'far-bucket'], {
      env: {...aws.env, AWS_ENDPOINT_URL_S3: s3.url},
    });
    assert.equal(r.code, 4, r.stdout + r.stderr);
    assert.match(r.stderr, /S3 bucket far-bucket is in region eu-west-1, not us-east-1/);
    assert.match(r.stderr, /pass --region eu-west-1/);
  });
});
