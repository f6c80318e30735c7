import assert from 'node:assert/strict';
import {existsSync, readFileSync, writeFileSync} from 'node:fs';
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {parseConnectionLogLine} from '../src/lib/alb/connection-log.js';
import {runCli} from './support/cli.js';
import {opensslOk} from './support/openssl.js';
import {curl, eventually, nodeGet, sClient, spawnServe, type SpawnedServe} from './support/serve.js';
import {makeServeClients, type ServeClients} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const pemOf = (file: string): string =>
  readFileSync(file, 'utf8')
    .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)!
    .join('');
const logLines = (file: string): ReturnType<typeof parseConnectionLogLine>[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => parseConnectionLogLine(l));

describe('serve', () => {
  const tmp = tempDir();
  let pki: ServeClients;
  let serve: SpawnedServe | undefined;
  let verifyPort: number;
  let passPort: number;
  let connLog: string;

  after(() => serve?.stop());
  before(async () => {
    pki = await makeServeClients(tmp);
    connLog = join(tmp, 'conn.log');
    serve = await spawnServe(['--dir', pki.dir, '--listen', '0:verify', '--listen', '0:passthrough', '--crl', pki.crl, '--connection-log', connLog]);
    verifyPort = serve!.info.listeners.find((l) => l.mode === 'verify')!.port;
    passPort = serve!.info.listeners.find((l) => l.mode === 'passthrough')!.port;
  });

  it('prints listeners and curl commands, and a good certificate gets through with ALB headers (curl)', async () => {
    assert.equal(serve!.info.target, 'echo');
    assert.match(serve!.info.listeners[0]!.curl, /^curl --cacert .*ca\.crt --cert certificate\.crt --key private-key\.pem https:\/\/127\.0\.0\.1:\d+\/$/);
    const r = await curl(`https://127.0.0.1:${verifyPort}/hello?x=1`, {ca: pki.rootCert, cert: pki.good.cert, key: pki.good.key});
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.status, '200');
    const echo = JSON.parse(r.body);
    assert.equal(echo.path, '/hello?x=1');
    const h = echo.headers;
    // openssl is the oracle for the serial and the RFC 2253 names (aws-reference 1.4, 1.5, 8).
    const serial = opensslOk(['x509', '-in', pki.good.cert, '-noout', '-serial']).trim().replace('serial=', '');
    const subject = opensslOk(['x509', '-in', pki.good.cert, '-noout', '-subject', '-nameopt', 'RFC2253']).trim().replace('subject=', '');
    const issuer = opensslOk(['x509', '-in', pki.good.cert, '-noout', '-issuer', '-nameopt', 'RFC2253']).trim().replace('issuer=', '');
    assert.equal(h['x-amzn-mtls-clientcert-serial-number'], serial);
    assert.equal(h['x-amzn-mtls-clientcert-subject'], subject);
    assert.equal(h['x-amzn-mtls-clientcert-subject'], 'CN=device-good,O=Acme\\, Inc.,C=US');
    assert.equal(h['x-amzn-mtls-clientcert-issuer'], issuer);
    assert.match(h['x-amzn-mtls-clientcert-validity'], /^NotBefore=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ;NotAfter=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(decodeURIComponent(h['x-amzn-mtls-clientcert-leaf']), pemOf(pki.good.cert));
    assert.match(h['x-amzn-mtls-clientcert-leaf'], /^-----BEGIN%20CERTIFICATE-----%0A[^ \n]+%0A-----END%20CERTIFICATE-----%0A$/);
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'https');
    assert.equal(h['x-forwarded-port'], String(verifyPort));
    assert.equal(h['x-amzn-mtls-clientcert'], undefined);
  });

  it("the verify headers equal encode-header's output", async (t) => {
    if (!existsSync(new URL('../src/commands/encode-header.ts', import.meta.url))) {
      t.skip('encode-header is not on this branch yet');
      return;
    }
    const enc = await runCli(['encode-header', pki.good.cert, '--json']);
    assert.equal(enc.code, 0, enc.stderr);
    const r = await curl(`https://127.0.0.1:${verifyPort}/`, {ca: pki.rootCert, cert: pki.good.cert, key: pki.good.key});
    const got = JSON.parse(r.body).headers;
    const pairs: Array<[string, string]> = Array.isArray(enc.json.headers)
      ? enc.json.headers.map((x: [string, string] | {name: string; value: string}) => (Array.isArray(x) ? x : [x.name, x.value]))
      : Object.entries(enc.json.headers);
    assert.equal(pairs.length, 5);
    for (const [name, value] of pairs) assert.equal(got[name.toLowerCase()], value, name);
  });

  it('Node https and openssl s_client get through with a good certificate', async () => {
    const n = await nodeGet(`https://127.0.0.1:${verifyPort}/`, {ca: pki.rootCert, cert: pki.good.cert, key: pki.good.key});
    assert.equal(n.status, 200, n.error);
    assert.equal(JSON.parse(n.body!).headers['x-amzn-mtls-clientcert-serial-number'], pki.good.serial);
    const s = sClient(verifyPort, {ca: pki.rootCert, cert: pki.good.cert, key: pki.good.key});
    assert.match(s.output, /HTTP\/1\.1 200 OK/);
  });

  const rejected: Array<[string, keyof ServeClients | null, string]> = [
    ['no certificate', null, 'ClientCertInvalid'],
    ['expired', 'expired', 'ClientCertExpired'],
    ['untrusted', 'untrusted', 'ClientCertUntrusted'],
    ['wrong purpose (serverAuth only)', 'wrongPurpose', 'ClientCertPurposeInvalid'],
    ['revoked', 'revoked', 'ClientCertCrlHit'],
  ];
  for (const [label, which, code] of rejected) {
    it(`${label}: rejected before any HTTP response (curl, s_client, Node) and logged as Failed:${code}`, async () => {
      const files = which ? (pki[which] as ServeClients['good']) : undefined;
      const creds = files ? {cert: files.cert, key: files.key} : {};
      const c = await curl(`https://127.0.0.1:${verifyPort}/`, {ca: pki.rootCert, ...creds});
      assert.notEqual(c.code, 0, 'curl must fail');
      assert.equal(c.status, '000', 'no HTTP status');
      assert.equal(c.body, '');
      const s = sClient(verifyPort, {ca: pki.rootCert, ...creds});
      assert.doesNotMatch(s.output, /HTTP\/1\./);
      const n = await nodeGet(`https://127.0.0.1:${verifyPort}/`, {ca: pki.rootCert, ...creds});
      assert.equal(n.status, undefined);
      assert.ok(n.error);
      // Each of the three attempts is one log line with the code.
      const serial = files?.serial ?? '-';
      const failed = (): ReturnType<typeof logLines> =>
        logLines(connLog).filter((e) => e && e.listenerPort === verifyPort && e.serial === serial && e.verifyStatus.startsWith('Failed'));
      await eventually(() => failed().length >= 3);
      const mine = failed();
      assert.ok(mine.length >= 3, `${mine.length} lines for ${serial}`);
      for (const e of mine) {
        assert.equal(e!.verifyStatus, `Failed:${code}`);
        assert.equal(e!.handshakeLatency, '-');
      }
    });
  }

  it('a spoofed X-Amzn-Mtls-Clientcert-Subject never reaches the target (verify and passthrough)', async () => {
    const spoof = ['X-Amzn-Mtls-Clientcert-Subject: CN=admin', 'x-amzn-mtls-clientcert-serial-number: 01', 'X-Amzn-Mtls-Clientcert: evil'];
    const v = await curl(`https://127.0.0.1:${verifyPort}/`, {ca: pki.rootCert, cert: pki.good.cert, key: pki.good.key, headers: spoof});
    const vh = JSON.parse(v.body).headers;
    assert.equal(vh['x-amzn-mtls-clientcert-subject'], 'CN=device-good,O=Acme\\, Inc.,C=US');
    assert.equal(vh['x-amzn-mtls-clientcert-serial-number'], pki.good.serial);
    assert.equal(vh['x-amzn-mtls-clientcert'], undefined);
    const p = await curl(`https://127.0.0.1:${passPort}/`, {ca: pki.rootCert, cert: pki.good.cert, key: pki.good.key, headers: spoof});
    const ph = JSON.parse(p.body).headers;
    assert.equal(ph['x-amzn-mtls-clientcert-subject'], undefined);
    assert.equal(ph['x-amzn-mtls-clientcert-serial-number'], undefined);
    assert.notEqual(ph['x-amzn-mtls-clientcert'], 'evil');
  });

  it('passthrough forwards a presented chain of three, leaf first, and accepts an untrusted one', async () => {
    const r = await curl(`https://127.0.0.1:${passPort}/`, {ca: pki.rootCert, cert: pki.good.chain3, key: pki.good.key});
    assert.equal(r.status, '200', r.stderr);
    const value: string = JSON.parse(r.body).headers['x-amzn-mtls-clientcert'];
    assert.equal(decodeURIComponent(value), pemOf(pki.good.chain3));
    assert.equal(decodeURIComponent(value).match(/BEGIN CERTIFICATE/g)?.length, 3);
    assert.ok(!value.includes(' ') && !value.includes('\n'));
    const u = await curl(`https://127.0.0.1:${passPort}/`, {ca: pki.rootCert, cert: pki.untrusted.cert, key: pki.untrusted.key});
    assert.equal(u.status, '200');
    assert.equal(decodeURIComponent(JSON.parse(u.body).headers['x-amzn-mtls-clientcert']), pemOf(pki.untrusted.cert));
    const untrusted = (): ReturnType<typeof logLines> => logLines(connLog).filter((e) => e?.listenerPort === passPort && e.serial === pki.untrusted.serial);
    await eventually(() => untrusted().length > 0);
    assert.equal(untrusted()[0]?.verifyStatus, 'Success');
  });

  it('writes 15-field connection-log lines with subject, serial and latency for successes', async () => {
    const lines = readFileSync(connLog, 'utf8').split('\n').filter(Boolean);
    const ok = lines.map((l) => parseConnectionLogLine(l)).find((e) => e?.serial === pki.good.serial && e.listenerPort === verifyPort);
    assert.ok(ok);
    assert.equal(ok.verifyStatus, 'Success');
    assert.equal(ok.subject, 'CN=device-good,O=Acme\\, Inc.,C=US');
    assert.match(ok.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.match(ok.handshakeLatency, /^\d+\.\d{3}$/);
    assert.match(ok.connTraceId, /^TID_[0-9a-f]{32}$/);
    assert.match(ok.tlsProtocol, /^TLSv1\.[23]$/);
    assert.equal(ok.extra.length, 0);
    // logs reads what serve writes.
    const summary = await runCli(['logs', connLog, '--json']);
    assert.equal(summary.code, 0, summary.stderr);
    assert.equal(summary.json.malformed.count, 0);
    assert.ok(summary.json.byStatus['Failed:ClientCertCrlHit'] >= 3);
  });

  it('stops cleanly on SIGTERM (exit 0)', async () => {
    assert.equal(await serve!.stop(), 0);
  });
});

describe('serve --target', () => {
  it('forwards to the target with a streamed body, X-Forwarded-For appended, renamed headers, and 502 when the target is down', async (t) => {
    const tmp = tempDir();
    const pki = await makeServeClients(tmp);
    const seen: Array<{headers: http.IncomingHttpHeaders; body: number}> = [];
    const backend = http.createServer((req, res) => {
      let n = 0;
      req.on('data', (d: Buffer) => (n += d.length));
      req.on('end', () => {
        seen.push({headers: req.headers, body: n});
        res.writeHead(201, {'x-backend': 'yes'});
        res.end('created');
      });
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const port = (backend.address() as AddressInfo).port;
    const serve = await spawnServe(['--dir', pki.dir, '--port', '0', '--target', `http://127.0.0.1:${port}`, '--header-map', 'subject=X-Client-Subject']);
    t.after(() => serve.stop());
    const url = serve.info.listeners[0]!.url;
    writeFileSync(join(tmp, 'body.bin'), 'x'.repeat(200_000));
    const r = await curl(`${url}upload`, {
      ca: pki.rootCert,
      cert: pki.good.cert,
      key: pki.good.key,
      data: `@${join(tmp, 'body.bin')}`,
      headers: ['X-Forwarded-For: 198.51.100.7', 'X-Client-Subject: CN=spoofed'],
    });
    assert.equal(r.status, '201', r.stderr);
    assert.equal(r.body, 'created');
    const got = seen.at(-1)!;
    assert.equal(got.body, 200_000);
    assert.equal(got.headers['x-forwarded-for'], '198.51.100.7, 127.0.0.1');
    assert.equal(got.headers['x-client-subject'], 'CN=device-good,O=Acme\\, Inc.,C=US');
    assert.equal(got.headers['x-amzn-mtls-clientcert-subject'], undefined);
    assert.equal(got.headers['x-amzn-mtls-clientcert-serial-number'], pki.good.serial);
    await new Promise<void>((r) => {
      backend.close(() => r());
      backend.closeAllConnections();
    });
    const down = await curl(url, {ca: pki.rootCert, cert: pki.good.cert, key: pki.good.key});
    assert.equal(down.status, '502');
    assert.equal(await serve.stop(), 0);
  });

  it('--ignore-expiry lets an expired certificate through (ALB IgnoreClientCertificateExpiry); passthrough accepts no certificate', async (t) => {
    const tmp = tempDir();
    const pki = await makeServeClients(tmp);
    const serve = await spawnServe(['--dir', pki.dir, '--listen', '0:verify', '--listen', '0:passthrough', '--ignore-expiry']);
    t.after(() => serve.stop());
    const [v, p] = serve.info.listeners;
    const expired = await curl(v!.url, {ca: pki.rootCert, cert: pki.expired.cert, key: pki.expired.key});
    assert.equal(expired.status, '200', expired.stderr);
    assert.equal(JSON.parse(expired.body).headers['x-amzn-mtls-clientcert-serial-number'], pki.expired.serial);
    const untrusted = await curl(v!.url, {ca: pki.rootCert, cert: pki.untrusted.cert, key: pki.untrusted.key});
    assert.equal(untrusted.status, '000');
    const none = await curl(p!.url, {ca: pki.rootCert});
    assert.equal(none.status, '200');
    assert.equal(JSON.parse(none.body).headers['x-amzn-mtls-clientcert'], undefined);
  });

  it('refuses bad flags with exit 2 and a busy port with exit 4', async (t) => {
    const tmp = tempDir();
    const pki = await makeServeClients(tmp);
    const bad = await runCli(['serve', '--dir', pki.dir, '--listen', '8443:sideways']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /8443:sideways/);
    const noCa = await runCli(['serve', '--dir', join(tmp, 'nowhere'), '--port', '0']);
    assert.equal(noCa.code, 4);
    assert.match(noCa.stderr, /gen-ca/);
    const first = await spawnServe(['--dir', pki.dir, '--port', '0']);
    t.after(() => first.stop());
    const busy = await runCli(['serve', '--dir', pki.dir, '--port', String(first.info.listeners[0]!.port)]);
    assert.equal(busy.code, 4);
    assert.match(busy.stderr, /already in use/);
    assert.equal(await first.stop(), 0);
  });
});
