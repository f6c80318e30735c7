import assert from 'node:assert/strict';
import {X509Certificate} from 'node:crypto';
import {existsSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {runCli} from './support/cli.js';
import {curl, nodeGet, spawnServe, type SpawnedServe} from './support/serve.js';
import {makeServeClients, type ServeClients} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

// The seed sample's authorizer (aws-samples/api-gateway-certificate-propagation, aws-reference 6.2),
// CommonJS and async, plus: a Deny for `x-deny`, a thrown "Unauthorized" for /unauthorized,
// a malformed answer for /broken; each event is written next to the file for the test to read.
const SEED_AUTHORIZER = `const crypto = require('crypto');
const fs = require('fs');
exports.handler = async (event) => {
    console.log('> handler', event.path);
    fs.writeFileSync(__dirname + '/last-event.json', JSON.stringify(event));
    fs.appendFileSync(__dirname + '/calls.txt', 'x');
    if (event.path === '/unauthorized') throw new Error('Unauthorized');
    if (event.path === '/broken') return {principalId: 'x', policyDocument: {Version: '2012-10-17', Statement: [{Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn}]}, context: {nested: {no: 1}}};
    const clientCertPem = event.requestContext.identity.clientCert.clientCertPem;
    const clientCert = new crypto.X509Certificate(clientCertPem);
    const clientCertSub = clientCert.subject.replaceAll('\\n', ',');
    const effect = event.headers['X-Deny'] ? 'Deny' : 'allow';
    return {principalId: clientCertSub, context: {clientCertSub}, policyDocument: {Version: '2012-10-17', Statement: [{Action: 'execute-api:Invoke', Effect: effect, Resource: event.methodArn}]}};
};
`;

// ESM, callback style, HTTP API simple responses (payload 2.0).
const HTTP_AUTHORIZER = `import {writeFileSync} from 'node:fs';
export const handler = (event, context, callback) => {
  writeFileSync(new URL('./last-http-event.json', import.meta.url), JSON.stringify(event));
  const dn = event.requestContext.authentication.clientCert.subjectDN;
  callback(null, {isAuthorized: !dn.includes('device-revoked'), context: {dn, token: event.identitySource.join('|')}});
};
`;

describe('serve --listen PORT:apigw (API Gateway custom domain with mTLS and a Lambda authorizer)', () => {
  const tmp = tempDir();
  let pki: ServeClients;
  let rest: SpawnedServe | undefined;
  let httpApi: SpawnedServe | undefined;
  let restPort: number;
  let httpPort: number;
  const accessLog = join(tmp, 'access.log');
  const seedFile = join(tmp, 'authorizer.js');
  const httpFile = join(tmp, 'authorizer.mjs');
  const seedSub = (certFile: string): string => new X509Certificate(readFileSync(certFile)).subject.replaceAll('\n', ',');

  after(async () => {
    await rest?.stop();
    await httpApi?.stop();
  });
  before(async () => {
    pki = await makeServeClients(tmp);
    writeFileSync(seedFile, SEED_AUTHORIZER);
    writeFileSync(httpFile, HTTP_AUTHORIZER);
    rest = await spawnServe([
      '--dir',
      pki.dir,
      '--listen',
      '0:apigw',
      '--authorizer',
      seedFile,
      '--map-header',
      'X-Client-Cert-Sub=context.authorizer.clientCertSub',
      '--map-header',
      'X-Client-DN=context.identity.clientCert.subjectDN',
      '--access-log',
      accessLog,
    ]);
    restPort = rest.info.listeners[0]!.port;
    httpApi = await spawnServe([
      '--dir',
      pki.dir,
      '--listen',
      '0:apigw',
      '--authorizer',
      httpFile,
      '--authorizer-payload',
      'http-simple',
      '--authorizer-ttl',
      '300',
      '--identity-source',
      '$request.header.X-Token',
      '--map-header',
      'X-Dn=$context.authorizer.dn',
    ]);
    httpPort = httpApi.info.listeners[0]!.port;
  });

  it('no client certificate: the handshake fails (curl and Node https), nothing reaches the authorizer', async () => {
    const c = await curl(`https://127.0.0.1:${restPort}/`, {ca: pki.rootCert});
    assert.notEqual(c.code, 0);
    assert.equal(c.status, '000');
    const n = await nodeGet(`https://127.0.0.1:${restPort}/`, {ca: pki.rootCert});
    assert.equal(n.status, undefined);
    assert.ok(n.error);
    assert.equal(existsSync(join(tmp, 'calls.txt')), false);
  });

  it('untrusted and expired certificates fail the handshake', async () => {
    for (const files of [pki.untrusted, pki.expired]) {
      const c = await curl(`https://127.0.0.1:${restPort}/`, {ca: pki.rootCert, cert: files.cert, key: files.key});
      assert.notEqual(c.code, 0, c.body);
      assert.equal(c.status, '000');
      const n = await nodeGet(`https://127.0.0.1:${restPort}/`, {ca: pki.rootCert, cert: files.cert, key: files.key});
      assert.equal(n.status, undefined);
    }
    assert.match(rest!.stderr(), /handshake( from 127\.0\.0\.1)? rejected: /);
  });

  it('a good certificate: the backend receives X-Client-Cert-Sub equal to what the authorizer computed (curl)', async () => {
    const c = await curl(`https://127.0.0.1:${restPort}/hello?a=1&a=2`, {
      ca: pki.rootCert,
      cert: pki.good.cert,
      key: pki.good.key,
      headers: ['X-Client-Cert-Sub: spoofed'],
    });
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.status, '200');
    const echo = JSON.parse(c.body);
    assert.equal(echo.headers['x-client-cert-sub'], seedSub(pki.good.cert));
    assert.equal(echo.headers['x-client-cert-sub'], 'C=US,O=Acme\\, Inc.,CN=device-good');
    assert.equal(echo.headers['x-client-dn'], 'C=US,O=Acme\\, Inc.,CN=device-good');
    assert.equal(echo.path, '/hello?a=1&a=2');
    const event = JSON.parse(readFileSync(join(tmp, 'last-event.json'), 'utf8'));
    assert.equal(event.type, 'REQUEST');
    assert.match(event.methodArn, /^arn:aws:execute-api:us-east-1:123456789012:mtlskit\/test\/GET\/hello$/);
    assert.deepEqual(event.multiValueQueryStringParameters, {a: ['1', '2']});
    assert.equal(event.queryStringParameters.a, '2');
    assert.equal(event.headers['X-Client-Cert-Sub'], 'spoofed');
  });

  it('the same through Node https', async () => {
    const n = await nodeGet(`https://127.0.0.1:${restPort}/node`, {ca: pki.rootCert, cert: pki.good.cert, key: pki.good.key});
    assert.equal(n.status, 200, n.error);
    assert.equal(JSON.parse(n.body!).headers['x-client-cert-sub'], seedSub(pki.good.cert));
  });

  it('the event clientCert equals encode-header --mode apigw for the same certificate', async () => {
    await curl(`https://127.0.0.1:${restPort}/event`, {ca: pki.rootCert, cert: pki.good.cert, key: pki.good.key});
    const event = JSON.parse(readFileSync(join(tmp, 'last-event.json'), 'utf8'));
    const enc = await runCli(['encode-header', pki.good.cert, '--mode', 'apigw', '--format', 'json']);
    assert.equal(enc.code, 0, enc.stderr);
    assert.deepEqual(event.requestContext.identity.clientCert, enc.json.clientCert);
    assert.equal(event.requestContext.identity.sourceIp, '127.0.0.1');
  });

  it('Deny → 403, thrown "Unauthorized" → 401, a malformed answer → 500; the backend is not called', async () => {
    const deny = await curl(`https://127.0.0.1:${restPort}/x`, {ca: pki.rootCert, cert: pki.good.cert, key: pki.good.key, headers: ['X-Deny: 1']});
    assert.equal(deny.status, '403');
    assert.deepEqual(JSON.parse(deny.body), {Message: 'User is not authorized to access this resource with an explicit deny'});
    const unauth = await curl(`https://127.0.0.1:${restPort}/unauthorized`, {ca: pki.rootCert, cert: pki.good.cert, key: pki.good.key});
    assert.equal(unauth.status, '401');
    assert.deepEqual(JSON.parse(unauth.body), {message: 'Unauthorized'});
    const broken = await curl(`https://127.0.0.1:${restPort}/broken`, {ca: pki.rootCert, cert: pki.good.cert, key: pki.good.key});
    assert.equal(broken.status, '500');
    assert.deepEqual(JSON.parse(broken.body), {message: null});
  });

  it('a revoked certificate is still let through (API Gateway checks no CRL), and lint --target apigw says so', async () => {
    const c = await curl(`https://127.0.0.1:${restPort}/revoked`, {ca: pki.rootCert, cert: pki.revoked.cert, key: pki.revoked.key});
    assert.equal(c.status, '200', c.stderr);
    assert.equal(JSON.parse(c.body).headers['x-client-cert-sub'], seedSub(pki.revoked.cert));
    const lint = await runCli(['lint', join(pki.dir, 'ca-bundle.pem'), pki.crl, '--target', 'apigw', '--json']);
    const f = lint.json.findings.find((x: {rule: string}) => x.rule === 'crl-not-used');
    assert.ok(f, JSON.stringify(lint.json));
    assert.match(f.message, /API Gateway does not check revocation/);
  });

  it('writes one access-log line per request with the $context.identity.clientCert fields', async () => {
    const lines = readFileSync(accessLog, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const ok = lines.find((l) => l.path === '/hello')!;
    const enc = (await runCli(['encode-header', pki.good.cert, '--mode', 'apigw', '--format', 'json'])).json.clientCert;
    assert.equal(ok.status, '200');
    assert.equal(ok.clientCertSubjectDN, enc.subjectDN);
    assert.equal(ok.clientCertIssuerDN, enc.issuerDN);
    assert.equal(ok.clientCertSerialNumber, enc.serialNumber);
    assert.equal(ok.clientCertNotAfter, enc.validity.notAfter);
    assert.equal(ok.principalId, seedSub(pki.good.cert));
    assert.equal(lines.find((l) => l.path === '/x')!.status, '403');
    assert.equal(lines.find((l) => l.path === '/unauthorized')!.status, '401');
    assert.equal(lines.find((l) => l.path === '/broken')!.authorizerStatus, '500');
    assert.match(lines.find((l) => l.path === '/broken')!.authorizerError, /^context\.nested is an object/);
    // The authorizer's console.log goes to stderr, never stdout.
    assert.match(rest!.stderr(), /> handler \/hello/);
  });

  it('HTTP API payload 2.0, ESM callback authorizer, simple responses, cache keyed by the identity source', async () => {
    const get = (token: string | null, files = pki.good) =>
      curl(`https://127.0.0.1:${httpPort}/v2?q=1`, {ca: pki.rootCert, cert: files.cert, key: files.key, headers: token ? [`X-Token: ${token}`] : []});
    const a = await get('t1');
    assert.equal(a.status, '200', a.body);
    const enc = (await runCli(['encode-header', pki.good.cert, '--mode', 'apigw', '--format', 'json'])).json.clientCert;
    assert.equal(JSON.parse(a.body).headers['x-dn'], enc.subjectDN);
    const event = JSON.parse(readFileSync(join(tmp, 'last-http-event.json'), 'utf8'));
    assert.equal(event.version, '2.0');
    assert.deepEqual(event.requestContext.authentication.clientCert, enc);
    assert.deepEqual(event.identitySource, ['t1']);
    assert.equal(event.rawQueryString, 'q=1');
    // Missing identity source: 401 without calling the authorizer.
    const none = await get(null);
    assert.equal(none.status, '401');
    // Cached: the revoked client with the same token gets the cached Allow (keyed like API Gateway: identity sources only).
    const cached = await get('t1', pki.revoked);
    assert.equal(cached.status, '200');
    assert.equal(JSON.parse(readFileSync(join(tmp, 'last-http-event.json'), 'utf8')).identitySource[0], 't1');
    // A new token calls the authorizer, which says no.
    const denied = await get('t2', pki.revoked);
    assert.equal(denied.status, '403');
    assert.deepEqual(JSON.parse(denied.body), {message: 'Forbidden'});
  });

  it('refuses authorizer flags without an apigw listener, and a TTL without identity sources', async () => {
    const r1 = await runCli(['serve', '--dir', pki.dir, '--listen', '0:verify', '--authorizer', seedFile]);
    assert.equal(r1.code, 2);
    assert.match(r1.stderr, /apply to apigw listeners/);
    const r2 = await runCli(['serve', '--dir', pki.dir, '--listen', '0:apigw', '--authorizer', seedFile, '--authorizer-ttl', '60']);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /needs at least one --identity-source/);
    const r3 = await runCli(['serve', '--dir', pki.dir, '--listen', '0:apigw', '--authorizer', join(tmp, 'missing.js')]);
    assert.equal(r3.code, 4);
    assert.match(r3.stderr, /cannot load the authorizer/);
    const r4 = await runCli(['serve', '--dir', pki.dir, '--listen', '0:apigw', '--crl', pki.crl]);
    assert.equal(r4.code, 2);
    assert.match(r4.stderr, /API Gateway does not check revocation/);
  });
});
