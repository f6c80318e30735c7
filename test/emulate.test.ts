/**
 * `mtls-kit emulate`: one port on 127.0.0.1 for the S3, ELBv2 and API Gateway stand-ins
 * (src/io/emulate), reached by deploy, status and destroy through the export lines it prints,
 * with the real SDK; requests routed by the SigV4 credential scope; a port in use is exit 4;
 * Ctrl-C stops it with exit 0.
 */
import assert from 'node:assert/strict';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {routeOf} from '../src/io/emulate/index.js';
import {runCli} from './support/cli.js';
import {type SpawnedEmulate, spawnEmulate} from './support/emulate.js';
import {tempDir} from './support/tmp.js';

const signed = (service: string): string => `AWS4-HMAC-SHA256 Credential=emulate/20261207/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=00`;

describe('emulate: routing by the SigV4 credential scope', () => {
  it('sends each signed service to its stand-in, and unsigned requests by their shape', () => {
    assert.equal(routeOf({method: 'POST', url: '/', headers: {authorization: signed('elasticloadbalancing')}}), 'elasticloadbalancing');
    assert.equal(routeOf({method: 'GET', url: '/domainnames/x', headers: {authorization: signed('apigateway')}}), 'apigateway');
    assert.equal(routeOf({method: 'PUT', url: '/v2/x', headers: {authorization: signed('s3')}}), 's3');
    assert.equal(routeOf({method: 'POST', url: '/', headers: {authorization: signed('sts')}}), 'sts');
    assert.equal(routeOf({method: 'GET', url: '/_content/abc', headers: {}}), 'elasticloadbalancing');
    assert.equal(routeOf({method: 'GET', url: '/v2/domainnames/x', headers: {}}), 'apigateway');
    assert.equal(routeOf({method: 'POST', url: '/', headers: {'content-type': 'application/x-www-form-urlencoded'}}), 'elasticloadbalancing');
    assert.equal(routeOf({method: 'PUT', url: '/bucket/key', headers: {}}), 's3');
    assert.equal(routeOf({method: 'POST', url: '/2020-05-31/trust-store', headers: {authorization: signed('cloudfront')}}), 'cloudfront');
    assert.equal(routeOf({method: 'GET', url: '/2020-05-31/distribution/E1/config', headers: {}}), 'cloudfront');
    assert.equal(routeOf({method: 'POST', url: '/', headers: {authorization: signed('acm'), 'x-amz-target': 'CertificateManager.ImportCertificate'}}), 'acm');
  });
});

describe('mtls-kit emulate', () => {
  const work = tempDir('mtls-kit-emulate-');
  let em: SpawnedEmulate;
  let env: Record<string, string | undefined>;
  before(async () => {
    em = await spawnEmulate([
      '--bucket',
      'acme-mtls',
      '--versioned-bucket',
      'acme-truststores',
      '--alb',
      'acme-alb',
      '--nlb',
      'acme-nlb',
      '--apigw-domain',
      'api.example.com',
      '--distribution',
      'E1EMULATE00001',
    ]);
    const home = tempDir('mtls-kit-emulate-home-');
    env = {
      ...em.info.env,
      AWS_PROFILE: undefined,
      AWS_SESSION_TOKEN: undefined,
      AWS_CONFIG_FILE: join(home, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      MTLS_KIT_POLL_INTERVAL_MS: '50',
    };
    const ca = await runCli(['gen-ca', '--cn', 'Emulate Root', '--intermediate'], {cwd: work});
    assert.equal(ca.code, 0, ca.stderr);
  });
  after(async () => {
    await em.stop();
  });

  it('prints its endpoint, the export lines and what it created, as --json', () => {
    const {info} = em;
    assert.match(info.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    for (const k of [
      'AWS_ENDPOINT_URL_S3',
      'AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2',
      'AWS_ENDPOINT_URL_API_GATEWAY',
      'AWS_ENDPOINT_URL_APIGATEWAYV2',
      'AWS_ENDPOINT_URL_CLOUDFRONT',
      'AWS_ENDPOINT_URL_ACM',
    ])
      assert.equal(info.env[k], info.endpoint, k);
    assert.match(info.env.LOAD_BALANCER_ARN ?? '', /:loadbalancer\/app\/acme-alb\//);
    assert.match(info.env.NLB_ARN ?? '', /:loadbalancer\/net\/acme-nlb\//);
    assert.deepEqual(info.buckets, [
      {name: 'acme-mtls', versioned: false},
      {name: 'acme-truststores', versioned: true},
    ]);
    assert.deepEqual(info.apigwDomains, [{name: 'api.example.com', api: 'rest'}]);
    assert.deepEqual(info.distributions, ['E1EMULATE00001']);
  });

  it('deploy, status and destroy run against it through the SDK', {timeout: 120_000}, async () => {
    const ts = ['--trust-store-name', 'acme-clients', '--bucket', 'acme-mtls'];
    const deploy = await runCli(
      [
        'deploy',
        ...ts,
        '--load-balancer-arn',
        em.info.env.LOAD_BALANCER_ARN!,
        '--port',
        '443',
        '--certificate-arn',
        em.info.env.CERTIFICATE_ARN!,
        '--target-group-arn',
        em.info.env.TARGET_GROUP_ARN!,
        '--json',
      ],
      {cwd: work, env},
    );
    assert.equal(deploy.code, 0, deploy.stdout + deploy.stderr);
    const listener = deploy.json.listener.arn as string;
    const status = await runCli(['status', ...ts, '--listener-arn', listener], {cwd: work, env});
    assert.equal(status.code, 0, status.stdout + status.stderr);
    const apigw = await runCli(['deploy', '--apigw-domain', 'api.example.com', '--bucket', 'acme-truststores'], {
      cwd: work,
      env,
    });
    assert.equal(apigw.code, 0, apigw.stdout + apigw.stderr);
    const cf = ['--cloudfront-trust-store', 'acme-cf', '--bucket', 'acme-mtls', '--distribution', 'E1EMULATE00001'];
    const cfDeploy = await runCli(['deploy', ...cf, '--json'], {cwd: work, env});
    assert.equal(cfDeploy.code, 0, cfDeploy.stdout + cfDeploy.stderr);
    assert.equal(cfDeploy.json.trustStore.status, 'active');
    const cfStatus = await runCli(['status', ...cf], {cwd: work, env});
    assert.equal(cfStatus.code, 0, cfStatus.stdout + cfStatus.stderr);
    assert.match(cfStatus.stdout, /in sync/);
    const destroy = await runCli(['destroy', ...ts, '--listener-arn', listener, '--delete-objects', '--yes'], {cwd: work, env});
    assert.equal(destroy.code, 0, destroy.stdout + destroy.stderr);
    const again = await runCli(['status', ...ts], {cwd: work, env});
    assert.notEqual(again.code, 0, 'the trust store is gone');
  });

  it('origin-cert --acm-import imports into its ACM (AWS_ENDPOINT_URL_ACM from the export lines)', {timeout: 60_000}, async () => {
    const r = await runCli(['origin-cert', '--cn', 'cf-origin', '--out', 'cf-origin', '--acm-import', '--json'], {
      cwd: work,
      env: {...env, AWS_ENDPOINT_URL: 'http://127.0.0.1:9'},
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.json.acm.certificateArn, /^arn:aws:acm:us-east-1:/);
  });

  it('takes an unsigned PUT of a file (curl), and refuses a service it does not emulate', async () => {
    const url = `${em.info.endpoint}/acme-mtls/AWSLogs/conn.log`;
    assert.equal((await fetch(url, {method: 'PUT', body: 'a line\n'})).status, 200);
    assert.equal(await (await fetch(url)).text(), 'a line\n');
    const sts = await fetch(em.info.endpoint, {method: 'POST', headers: {authorization: signed('sts')}, body: 'Action=GetCallerIdentity'});
    assert.equal(sts.status, 400);
    assert.match(await sts.text(), /UnsupportedService.*not sts/);
  });

  it('a port in use: one line, exit 4', async () => {
    const port = new URL(em.info.endpoint).port;
    const r = await runCli(['emulate', '--port', port], {timeoutMs: 30_000});
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE`));
  });

  it('Ctrl-C (SIGINT) stops it with exit 0', async () => {
    const other = await spawnEmulate([]);
    assert.equal(await other.stop('SIGINT'), 0);
  });
});
