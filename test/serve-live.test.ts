/**
 * `serve` while things change around it: a CRL rewritten while serving takes effect on the
 * next handshake (file watch and SIGHUP, a bad file keeps the old one), and headers that
 * spoof an mTLS identity with underscores are handled as ALB does and reported.
 */
import assert from 'node:assert/strict';
import {readFileSync, writeFileSync} from 'node:fs';
import {after, before, describe, it} from 'node:test';
import {parseConnectionLogLine} from '../src/lib/alb/connection-log.js';
import {runCli} from './support/cli.js';
import {curl, eventually, type ServeFixture, serveVerifyAndPassthrough, spawnServe, type SpawnedServe} from './support/serve.js';
import {makeServeClients, type ServeClients} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const count = (text: string, re: RegExp): number => text.match(new RegExp(re.source, 'g'))?.length ?? 0;

describe('serve: trust material reloaded while serving', () => {
  const tmp = tempDir();
  let pki: ServeClients;
  let fx: ServeFixture | undefined;

  after(() => fx?.serve.stop());
  before(async () => {
    pki = await makeServeClients(tmp);
    fx = await serveVerifyAndPassthrough(tmp, pki.dir, ['--crl', pki.crl]);
  });

  const get = (): ReturnType<typeof curl> => curl(`https://127.0.0.1:${fx!.verifyPort}/`, {ca: pki.rootCert, cert: pki.good.cert, key: pki.good.key});
  const lastStatus = (): string => parseConnectionLogLine(readFileSync(fx!.connLog, 'utf8').trim().split('\n').pop()!)!.verifyStatus;

  it('revoke + crl while serving: the next handshake is refused with ClientCertCrlHit', async () => {
    assert.equal((await get()).status, '200');
    const revoke = await runCli(['revoke', '--dir', pki.dir, '--cert', pki.good.cert]);
    assert.equal(revoke.code, 0, revoke.stderr);
    const crl = await runCli(['crl', '--dir', pki.dir]);
    assert.equal(crl.code, 0, crl.stderr);
    assert.ok(await eventually(() => /reloaded the trust store and CRLs \(crl\.pem changed\)/.test(fx!.serve.stderr())), fx!.serve.stderr());
    const r = await get();
    assert.notEqual(r.code, 0, 'refused before any HTTP response');
    assert.ok(await eventually(() => lastStatus() === 'Failed:ClientCertCrlHit'));
  });

  it('a CRL file that does not parse keeps the previous CRLs and says why', async () => {
    const before = count(fx!.serve.stderr(), /kept the previous trust store and CRLs/);
    const good = readFileSync(pki.crl);
    writeFileSync(pki.crl, '-----BEGIN X509 CRL-----\nnot base64 at all\n-----END X509 CRL-----\n');
    assert.ok(await eventually(() => count(fx!.serve.stderr(), /kept the previous trust store and CRLs/) > before), fx!.serve.stderr());
    assert.match(
      fx!.serve.stderr(),
      new RegExp(`kept the previous trust store and CRLs \\(crl\\.pem changed\\): .*${pki.crl.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`),
    );
    // Still the old, good CRL: the revoked client is still refused.
    const r = await get();
    assert.notEqual(r.code, 0);
    writeFileSync(pki.crl, good);
  });

  it('SIGHUP reads the files again and says what it found', async () => {
    const before = count(fx!.serve.stderr(), /\(SIGHUP\)/);
    process.kill(fx!.serve.pid, 'SIGHUP');
    assert.ok(await eventually(() => count(fx!.serve.stderr(), /\(SIGHUP\)/) > before), fx!.serve.stderr());
    assert.match(fx!.serve.stderr(), /(unchanged|reloaded the trust store and CRLs) \(SIGHUP\)/);
  });
});

describe('serve: identity headers spoofed with underscores', () => {
  const tmp = tempDir();
  let pki: ServeClients;
  let fx: ServeFixture | undefined;
  let dropping: SpawnedServe | undefined;

  after(async () => {
    await fx?.serve.stop();
    await dropping?.stop();
  });
  before(async () => {
    pki = await makeServeClients(tmp);
    fx = await serveVerifyAndPassthrough(tmp, pki.dir);
    dropping = await spawnServe(['--dir', pki.dir, '--port', '0', '--drop-invalid-header-fields']);
  });

  const spoof = ['X_Amzn_Mtls_Clientcert_Subject: CN=admin', 'x-amzn-mtls-clientcert-serial-number: 01', 'X-Request-Id: r-1', 'My_Header: kept'];

  it('by default (as ALB): the underscore look-alike is forwarded, the exact name removed, and both reported as spoofing', async () => {
    const r = await curl(`https://127.0.0.1:${fx!.verifyPort}/`, {ca: pki.rootCert, cert: pki.good.cert, key: pki.good.key, headers: spoof});
    assert.equal(r.status, '200', r.stderr);
    const h = JSON.parse(r.body).headers as Record<string, string>;
    assert.equal(h.x_amzn_mtls_clientcert_subject, 'CN=admin');
    assert.equal(h['x-amzn-mtls-clientcert-subject'], 'CN=device-good,O=Acme\\, Inc.,C=US');
    assert.equal(h['x-amzn-mtls-clientcert-serial-number'], pki.good.serial);
    assert.equal(h['x-request-id'], 'r-1');
    assert.equal(h.my_header, 'kept');
    assert.ok(
      await eventually(() =>
        /spoofing attempt: client 127\.0\.0\.1:\d+ on port \d+ sent X_Amzn_Mtls_Clientcert_Subject, x-amzn-mtls-clientcert-serial-number/.test(
          fx!.serve.stderr(),
        ),
      ),
      fx!.serve.stderr(),
    );
    assert.match(fx!.serve.stderr(), /forwarded as ALB does: X_Amzn_Mtls_Clientcert_Subject/);
    assert.doesNotMatch(fx!.serve.stderr(), /sent [^\n]*X-Request-Id/);
  });

  it('passthrough reports them too', async () => {
    const r = await curl(`https://127.0.0.1:${fx!.passPort}/`, {
      ca: pki.rootCert,
      cert: pki.good.cert,
      key: pki.good.key,
      headers: ['X-AMZN-MTLS_CLIENTCERT: forged'],
    });
    assert.equal(r.status, '200', r.stderr);
    assert.ok(await eventually(() => /sent X-AMZN-MTLS_CLIENTCERT,/.test(fx!.serve.stderr())), fx!.serve.stderr());
  });

  it('--drop-invalid-header-fields drops every name outside [-A-Za-z0-9], as ALB with the attribute on', async () => {
    const port = dropping!.info.listeners[0]!.port;
    const r = await curl(`https://127.0.0.1:${port}/`, {ca: pki.rootCert, cert: pki.good.cert, key: pki.good.key, headers: spoof});
    assert.equal(r.status, '200', r.stderr);
    const h = JSON.parse(r.body).headers as Record<string, string>;
    assert.equal(h.x_amzn_mtls_clientcert_subject, undefined);
    assert.equal(h.my_header, undefined);
    assert.equal(h['x-request-id'], 'r-1');
    assert.equal(h['x-amzn-mtls-clientcert-subject'], 'CN=device-good,O=Acme\\, Inc.,C=US');
    assert.ok(await eventually(() => /spoofing attempt: .*X_Amzn_Mtls_Clientcert_Subject.*; removed/.test(dropping!.stderr())), dropping!.stderr());
  });
});
