import assert from 'node:assert/strict';
import {existsSync, rmSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {runCli} from './support/cli.js';
import {curl, spawnServe} from './support/serve.js';

describe('demo', () => {
  it('exits 0 and shows the four steps with curl commands and connection-log lines', async () => {
    const r = await runCli(['demo'], {timeoutMs: 30_000});
    assert.equal(r.code, 0, r.stderr);
    for (const step of ['Step 1: no client certificate', 'Step 2: with the client certificate', 'Passthrough: the chain is forwarded', 'A revoked certificate']) assert.match(r.stdout, new RegExp(step));
    assert.match(r.stdout, /\$ curl --cacert \S+root-ca\.crt https:\/\/127\.0\.0\.1:\d+\//);
    assert.match(r.stdout, /Failed:ClientCertInvalid/);
    assert.match(r.stdout, /x-amzn-mtls-clientcert-subject: CN=device-1,O=Example Corp,C=US/);
    assert.match(r.stdout, /x-amzn-mtls-clientcert: -----BEGIN%20CERTIFICATE-----/);
    assert.match(r.stdout, / Failed:ClientCertCrlHit /);
    assert.match(r.stdout, /all steps behaved as ALB does/);
    assert.match(r.stdout, /API Gateway 2: with the client certificate ✓[\s\S]+x-client-cert-sub: C=US,O=Example Corp,CN=device-1/);
    assert.match(r.stdout, /API Gateway 3: the revoked certificate ✓[\s\S]+→ HTTP 403/);
    assert.doesNotMatch(r.stdout, /PRIVATE KEY/);
  });

  it('--json gives every step\'s result; --keep leaves files that serve and curl can use again', async (t) => {
    const r = await runCli(['demo', '--json', '--keep'], {timeoutMs: 30_000});
    assert.equal(r.code, 0, r.stderr);
    const dir: string = r.json.dir;
    t.after(() => rmSync(dir, {recursive: true, force: true}));
    assert.equal(r.json.ok, true);
    assert.deepEqual(r.json.steps.map((s: {name: string}) => s.name), ['no-certificate', 'certificate', 'passthrough', 'revoked', 'apigw-no-certificate', 'apigw-certificate', 'apigw-deny', 'apigw-untrusted']);
    const [s1, s2, s3, s4] = r.json.steps;
    assert.equal(s1.httpStatus, null);
    assert.match(s1.verifyStatus, /^Failed:/);
    assert.equal(s2.httpStatus, 200);
    assert.equal(s2.verifyStatus, 'Success');
    assert.equal(Object.keys(s2.headers).length, 5);
    assert.equal(s2.decoded[0].matches, true);
    assert.equal(s3.decoded.length, 2);
    assert.equal(s4.verifyStatus, 'Failed:ClientCertCrlHit');
    // API Gateway: the seed's pattern with the authorizer the demo wrote.
    const gw = r.json.steps.slice(4);
    assert.deepEqual(gw.map((s: {httpStatus: number | null}) => s.httpStatus), [null, 200, 403, null]);
    assert.equal(gw[1].headers['x-client-cert-sub'], 'C=US,O=Example Corp,CN=device-1');
    assert.ok(existsSync(join(dir, 'authorizer.cjs')));
    assert.match(r.json.apigwServeCommand, /--listen 8444:apigw .*--authorizer \S+authorizer\.cjs --map-header X-Client-Cert-Sub=context\.authorizer\.clientCertSub/);
    assert.equal(statSync(join(dir, 'device-1/private-key.pem')).mode & 0o777, 0o600);
    assert.ok(existsSync(join(dir, 'server.key')));
    // The printed serve command, on free ports, then Step 2's curl.
    const args = (r.json.serveCommand as string).split(' ').slice(2).map((a) => (a === '8443:verify' ? '0:verify' : a === '9443:passthrough' ? '0:passthrough' : a));
    const serve = await spawnServe(args);
    t.after(() => serve.stop());
    const url = serve.info.listeners[0]!.url;
    const c = await curl(url, {ca: join(dir, 'root-ca.crt'), cert: join(dir, 'device-1/certificate.crt'), key: join(dir, 'device-1/private-key.pem')});
    assert.equal(c.status, '200', c.stderr);
    const revoked = await curl(url, {ca: join(dir, 'root-ca.crt'), cert: join(dir, 'device-2/certificate.crt'), key: join(dir, 'device-2/private-key.pem')});
    assert.equal(revoked.status, '000');
  });
});
