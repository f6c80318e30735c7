import assert from 'node:assert/strict';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {after, describe, it} from 'node:test';
import {ApigwEmulator} from './support/apigw-emulator.js';
import {runCli} from './support/cli.js';
import {makeTestCa} from './support/test-pki.js';
import {VersionedS3} from './support/s3-versioned.js';
import {tempDir} from './support/tmp.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const BUCKET = 'truststores';
const tmp = tempDir();
const s3 = new VersionedS3([{name: BUCKET, versioning: 'Enabled'}, {name: 'unversioned'}]);
await s3.start();
const gw = new ApigwEmulator({s3Endpoint: s3.url, updateDelayMs: 150});
await gw.start();
after(async () => {
  await gw.stop();
  await s3.stop();
});
gw.addDomain('api.example.com');
gw.addApi('rest1', 'rest');
gw.map('api.example.com', 'rest1');
gw.addDomain('http.example.com');
gw.addApi('http1', 'http', {disableExecuteApiEndpoint: true});
gw.map('http.example.com', 'http1', '$default');
gw.addDomain('edge.example.com', {endpointType: 'EDGE'});
gw.addDomain('warn.example.com');
gw.addDomain('pq.example.com', {securityPolicy: 'SecurityPolicy_TLS13_1_3_2025_09'});
gw.addDomain('imported.example.com', {certificateType: 'IMPORTED'});
gw.addApi('rest2', 'rest');
gw.map('imported.example.com', 'rest2');

const dir = (await makeTestCa(join(tmp, 'pki'), {intermediate: true, cn: 'Deploy Test Root'})).dir;
const other = (await makeTestCa(join(tmp, 'other'), {cn: 'Second Root'})).dir;
const bundle = join(dir, 'ca-bundle.pem');
const env: Record<string, string | undefined> = {
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_SESSION_TOKEN: undefined,
  AWS_REGION: 'us-east-1',
  AWS_PROFILE: undefined,
  // Every endpoint on 127.0.0.1: nothing can reach AWS.
  AWS_ENDPOINT_URL: gw.url,
  AWS_ENDPOINT_URL_S3: s3.url,
  AWS_ENDPOINT_URL_API_GATEWAY: gw.url,
  AWS_ENDPOINT_URL_APIGATEWAYV2: gw.url,
  AWS_CONFIG_FILE: join(tmp, 'aws-config'),
  AWS_SHARED_CREDENTIALS_FILE: join(tmp, 'aws-credentials'),
  AWS_EC2_METADATA_DISABLED: 'true',
  MTLS_KIT_POLL_INTERVAL_MS: '50',
};
const deploy = (args: string[]) => runCli(['deploy', '--dir', dir, '--bucket', BUCKET, ...args], {env});
const status = (args: string[]) => runCli(['status', '--dir', dir, '--bucket', BUCKET, ...args], {env});
const puts = (): number => s3.requests.filter((r) => r.method === 'PUT').length;

describe('deploy --apigw-domain (API Gateway emulator + versioned S3)', () => {
  let firstVersion: string;

  it('REST domain: lints, uploads a versioned object, turns on mutual TLS with patch operations, waits until AVAILABLE', async () => {
    const r = await deploy(['--apigw-domain', 'api.example.com', '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const j = r.json;
    assert.equal(j.target, 'apigw');
    assert.equal(j.changed, true);
    assert.equal(j.truststore.action, 'upload');
    assert.equal(j.truststore.uri, `s3://${BUCKET}/mtls-kit/truststore.pem`);
    const versions = s3.objectVersions(BUCKET, 'mtls-kit/truststore.pem');
    assert.equal(versions.length, 1);
    firstVersion = versions[0]!.versionId!;
    assert.equal(j.truststore.versionId, firstVersion);
    assert.equal(j.domain.apiType, 'rest');
    assert.equal(j.domain.action, 'enable');
    assert.equal(j.domain.status, 'AVAILABLE');
    assert.equal(j.domain.truststoreVersion, firstVersion);
    assert.deepEqual(j.domain.patchOperations, [
      {op: 'replace', path: '/mutualTlsAuthentication/truststoreUri', value: `s3://${BUCKET}/mtls-kit/truststore.pem`},
      {op: 'replace', path: '/mutualTlsAuthentication/truststoreVersion', value: firstVersion},
    ]);
    const patch = gw.mutatingCalls();
    assert.equal(patch.length, 1);
    assert.equal(patch[0]!.method, 'PATCH');
    assert.equal(patch[0]!.path, '/domainnames/api.example.com');
    assert.deepEqual((patch[0]!.body as {patchOperations: unknown}).patchOperations, j.domain.patchOperations);
    // What API Gateway copied is our bundle, byte for byte.
    assert.equal(gw.domains.get('api.example.com')!.held!.toString(), readFileSync(bundle, 'utf8'));
    assert.deepEqual(j.warnings, []);
    // The default execute-api endpoint of the mapped REST API is still on: deploy warns.
    assert.deepEqual(j.executeApiEndpoints, [{apiId: 'rest1', enabled: true}]);
  });

  it('a second run makes no mutating call (no PUT, no PATCH) and says unchanged', async () => {
    const before = gw.mutatingCalls().length;
    const putsBefore = puts();
    const r = await deploy(['--apigw-domain', 'api.example.com']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /unchanged: nothing to do/);
    // The default execute-api endpoint of the mapped REST API is still on: deploy warns.
    assert.match(r.stderr, /API rest1 still has its default execute-api endpoint enabled: clients can reach it without a certificate/);
    const j = (await deploy(['--apigw-domain', 'api.example.com', '--json'])).json;
    assert.equal(j.changed, false);
    assert.equal(j.summary, 'unchanged');
    assert.equal(j.truststore.versionId, firstVersion);
    assert.equal(gw.mutatingCalls().length, before);
    assert.equal(puts(), putsBefore);
  });

  it('status: in sync, with the execute-api warning; exit 0', async () => {
    const r = await status(['--apigw-domain', 'api.example.com', '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(r.json.drift, false);
    assert.equal(r.json.domain.truststoreVersion, firstVersion);
    assert.ok(r.json.checks.some((c: {name: string; ok: boolean}) => c.name === 'execute-api-endpoint' && !c.ok));
  });

  it('a changed bundle: status shows drift (exit 3), --dry-run plans without calls, deploy uploads a new version and patches only truststoreVersion', async () => {
    const changed = join(tmp, 'truststore-2.pem');
    writeFileSync(changed, readFileSync(bundle, 'utf8') + readFileSync(join(other, 'ca-bundle.pem'), 'utf8'));
    const st = await status(['--apigw-domain', 'api.example.com', '--ca-bundle', changed, '--json']);
    assert.equal(st.code, 3);
    assert.equal(st.json.drift, true);
    assert.match(st.json.checks.find((c: {name: string}) => c.name === 'truststore-object').detail, /differs from/);

    const before = gw.mutatingCalls().length;
    const putsBefore = puts();
    const dry = await deploy(['--apigw-domain', 'api.example.com', '--ca-bundle', changed, '--dry-run', '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(dry.json.dryRun, true);
    assert.equal(dry.json.truststore.action, 'upload');
    assert.equal(dry.json.domain.action, 'update');
    assert.equal(gw.mutatingCalls().length, before);
    assert.equal(puts(), putsBefore);

    const r = await deploy(['--apigw-domain', 'api.example.com', '--ca-bundle', changed, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const versions = s3.objectVersions(BUCKET, 'mtls-kit/truststore.pem');
    assert.equal(versions.length, 2);
    const v2 = versions[1]!.versionId!;
    assert.notEqual(v2, firstVersion);
    assert.deepEqual(r.json.domain.patchOperations, [{op: 'replace', path: '/mutualTlsAuthentication/truststoreVersion', value: v2}]);
    assert.equal(gw.domains.get('api.example.com')!.mtls!.truststoreVersion, v2);
    assert.equal(gw.domains.get('api.example.com')!.held!.toString(), readFileSync(changed, 'utf8'));
  });

  it("status: an S3 version uploaded behind deploy's back is drift between the object and the domain", async () => {
    const changed = join(tmp, 'truststore-2.pem');
    const v3 = s3.putDirect(BUCKET, 'mtls-kit/truststore.pem', readFileSync(changed));
    const r = await status(['--apigw-domain', 'api.example.com', '--ca-bundle', changed, '--json']);
    assert.equal(r.code, 3, r.stderr);
    const c = r.json.checks.find((x: {name: string}) => x.name === 'domain-truststore');
    assert.equal(c.ok, false);
    assert.match(c.detail, new RegExp(`the current version is ${v3}`));
    // deploy repairs it: same content, so no upload, only the version patch.
    const putsBefore = puts();
    const d = await deploy(['--apigw-domain', 'api.example.com', '--ca-bundle', changed, '--json']);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(d.json.truststore.action, 'unchanged');
    assert.equal(d.json.domain.truststoreVersion, v3);
    assert.equal(puts(), putsBefore);
  });

  it('HTTP API domain: found through apigatewayv2, MutualTlsAuthentication set, no execute-api warning', async () => {
    const r = await deploy(['--apigw-domain', 'http.example.com', '--truststore-key', 'http/truststore.pem', '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(r.json.domain.apiType, 'http');
    assert.deepEqual(r.json.domain.patchOperations, []);
    const call = gw.mutatingCalls().at(-1)!;
    assert.equal(call.path, '/v2/domainnames/http.example.com');
    const version = s3.objectVersions(BUCKET, 'http/truststore.pem')[0]!.versionId;
    assert.deepEqual((call.body as {mutualTlsAuthentication: unknown}).mutualTlsAuthentication, {
      truststoreUri: `s3://${BUCKET}/http/truststore.pem`,
      truststoreVersion: version,
    });
    assert.deepEqual(r.json.executeApiEndpoints, [{apiId: 'http1', enabled: false}]);
    assert.doesNotMatch(r.stderr, /execute-api endpoint enabled/);
    const st = await status(['--apigw-domain', 'http.example.com', '--truststore-key', 'http/truststore.pem']);
    assert.equal(st.code, 0, st.stdout);
    assert.match(st.stdout, /in sync/);
  });

  it('truststore warnings are an error naming the certificate (exit 5)', async () => {
    const real = gw.opts.now;
    gw.opts.now = () => new Date('2100-01-01T00:00:00Z');
    try {
      const r = await deploy(['--apigw-domain', 'warn.example.com', '--truststore-key', 'warn/truststore.pem', '--json']);
      assert.equal(r.code, 5, r.stdout);
      assert.equal(r.json.error.code, 'TRUSTSTORE_WARNINGS');
      assert.match(r.json.error.message, /CN=Deploy Test Root: Certificate CN=Deploy Test Root \(serial [0-9A-F]+\): the certificate has expired/);
      // Mutual TLS is still on, as in AWS.
      assert.ok(gw.domains.get('warn.example.com')!.mtls);
    } finally {
      gw.opts.now = real;
    }
  });

  it('errors: unknown domain (5), edge-optimized domain (4), unversioned bucket (4), lint errors before any upload (4)', async () => {
    const nf = await deploy(['--apigw-domain', 'nope.example.com', '--json']);
    assert.equal(nf.code, 5);
    assert.equal(nf.json.error.code, 'APIGW_DOMAIN_NOT_FOUND');
    const edge = await deploy(['--apigw-domain', 'edge.example.com', '--json']);
    assert.equal(edge.code, 4);
    assert.equal(edge.json.error.code, 'APIGW_DOMAIN_UNSUITABLE');
    assert.match(edge.json.error.message, /EDGE; mutual TLS needs a Regional custom domain name/);
    const unv = await runCli(['deploy', '--dir', dir, '--bucket', 'unversioned', '--apigw-domain', 'warn.example.com', '--json'], {env});
    assert.equal(unv.code, 4);
    assert.equal(unv.json.error.code, 'S3_VERSIONING_OFF');
    assert.match(unv.json.error.suggestions[0], /put-bucket-versioning --bucket unversioned/);
    const partial = join(tmp, 'intermediate-only.pem');
    writeFileSync(partial, readFileSync(join(dir, 'intermediate', 'ca.crt')));
    const putsBefore = puts();
    const lint = await deploy(['--apigw-domain', 'api.example.com', '--ca-bundle', partial, '--json']);
    assert.equal(lint.code, 4);
    assert.equal(lint.json.error.code, 'LINT_FAILED');
    assert.match(lint.json.error.suggestions.join('\n'), /complete chain/);
    assert.equal(puts(), putsBefore);
    const none = await runCli(['deploy', '--dir', dir, '--bucket', BUCKET], {env});
    assert.equal(none.code, 2);
  });

  it("the emulator enforces AWS's rules through the real SDK (missing version, bad patch path, unknown domain)", async () => {
    const {APIGatewayClient, UpdateDomainNameCommand, GetDomainNameCommand} = await import('@aws-sdk/client-api-gateway');
    const c = new APIGatewayClient({region: 'us-east-1', endpoint: gw.url, credentials: {accessKeyId: 'test', secretAccessKey: 'test'}, maxAttempts: 1});
    await assert.rejects(
      c.send(
        new UpdateDomainNameCommand({
          domainName: 'warn.example.com',
          patchOperations: [{op: 'replace', path: '/mutualTlsAuthentication/truststoreVersion', value: 'no-such-version'}],
        }),
      ),
      (e: Error) => e.name === 'BadRequestException' && /NoSuchVersion/.test(e.message),
    );
    await assert.rejects(
      c.send(new UpdateDomainNameCommand({domainName: 'warn.example.com', patchOperations: [{op: 'replace', path: '/certificateArn', value: 'x'}]})),
      (e: Error) => e.name === 'BadRequestException' && /Invalid patch path/.test(e.message),
    );
    await assert.rejects(c.send(new GetDomainNameCommand({domainName: 'missing.example.com'})), (e: Error) => e.name === 'NotFoundException');
    c.destroy();
  });
});

describe('deploy --apigw-domain: enhanced security policies and ownership verification (issue 26)', () => {
  it('refuses an enhanced SecurityPolicy_* domain before any call that changes something, saying why', async () => {
    const before = gw.mutatingCalls().length;
    const puts0 = puts();
    const r = await deploy(['--apigw-domain', 'pq.example.com', '--json']);
    assert.equal(r.code, 4, r.stderr + r.stdout);
    assert.equal(r.json.error.code, 'APIGW_DOMAIN_UNSUITABLE');
    assert.match(r.json.error.message, /enhanced security policy SecurityPolicy_TLS13_1_3_2025_09/);
    assert.match(r.json.error.message, /cannot turn on mutual TLS/);
    assert.equal(gw.mutatingCalls().length, before);
    assert.equal(puts(), puts0);
  });

  it('an imported server certificate without ownershipVerificationCertificateArn: exit 4 naming the fix; with it, mutual TLS turns on', async () => {
    const r = await deploy(['--apigw-domain', 'imported.example.com', '--json']);
    assert.equal(r.code, 4, r.stderr + r.stdout);
    assert.equal(r.json.error.code, 'APIGW_OWNERSHIP_CERTIFICATE_REQUIRED');
    assert.match(JSON.stringify(r.json.error), /ownershipVerificationCertificateArn/);
    assert.equal(gw.domains.get('imported.example.com')!.mtls, null);
    gw.domains.get('imported.example.com')!.ownershipVerificationCertificateArn = 'arn:aws:acm:us-east-1:123456789012:certificate/public';
    const ok = await deploy(['--apigw-domain', 'imported.example.com', '--json']);
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.ok(gw.domains.get('imported.example.com')!.mtls);
  });
});
