/**
 * `serve --listen PORT:cloudfront[:MODE]`, the local CloudFront edge (aws-reference 11):
 * real clients (curl, openssl s_client) against the spawned serve, the real `mtls-kit ocsp`
 * responder named in the certificates, and an origin in this process that answers with the
 * raw headers it received, so the CloudFront-Viewer-Cert-* headers are compared byte for
 * byte with lib/cloudfront's encoder. Modes required, optional and passthrough; good,
 * revoked (OCSP), no certificate, responder down; the next good viewer is served after a
 * bad one; connection-log records in CloudFront's field order. Every server started here
 * is stopped by its process id (spawned) or closed (in-process).
 */
import assert from 'node:assert/strict';
import {type ChildProcess, execFile} from 'node:child_process';
import {readFileSync} from 'node:fs';
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {encodeCloudFrontHeaders} from '../src/lib/cloudfront/headers.js';
import {formatSerialColonHexDer} from '../src/lib/x509/serial.js';
import {readCertificates} from '../src/lib/x509/read-certs.js';
import {BIN, runCli} from './support/cli.js';
import {startUntil, stopProcess} from './support/ready-process.js';
import {curl, eventually, type SpawnedServe, spawnServe} from './support/serve.js';
import {freePort} from './support/tls-peers.js';
import {tempDir} from './support/tmp.js';

const dir = tempDir();
const pki = join(dir, 'pki');
const ca = join(pki, 'root/ca.crt');
const connLog = join(dir, 'connections.log');
const started: ChildProcess[] = [];
let serve: SpawnedServe | undefined;
let origin: http.Server;
/** An OCSP responder that answers 1.5 s late (a proxy to the real one), for the viewer that leaves while it waits. */
let slowResponder: http.Server;
/** The CloudFront-Viewer-Cert-Subject of every request the origin received. */
const originSubjects: string[] = [];
let originUrl = '';

const chainOf = (name: string) => readCertificates(new Uint8Array(readFileSync(join(dir, name, 'chain.pem'))), name);
const client = (name: string) => ({ca, cert: join(dir, name, 'chain.pem'), key: join(dir, name, 'private-key.pem')});
/** The headers the origin received, as [name, value] pairs in order (Node's rawHeaders). */
const pairs = (body: string): Array<[string, string]> => {
  const raw = JSON.parse(body).rawHeaders as string[];
  const out: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
};
const cloudfrontPairs = (body: string) => pairs(body).filter(([n]) => /^(cloudfront-viewer-cert-|client-cert)/i.test(n));
const ports: Record<string, number> = {};
const records = (): Array<Record<string, unknown>> =>
  readFileSync(connLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

before(async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const downUrl = `http://127.0.0.1:${await freePort()}`;
  slowResponder = http.createServer((req, res) => {
    const body: Buffer[] = [];
    req.on('data', (d: Buffer) => body.push(d));
    req.on('end', () => {
      setTimeout(async () => {
        try {
          const r = await fetch(url, {method: 'POST', headers: {'content-type': 'application/ocsp-request'}, body: Buffer.concat(body)});
          res.writeHead(r.status, {'content-type': 'application/ocsp-response'});
          res.end(Buffer.from(await r.arrayBuffer()));
        } catch {
          res.destroy();
        }
      }, 1500);
    });
  });
  await new Promise<void>((r) => slowResponder.listen(0, '127.0.0.1', r));
  const slowUrl = `http://127.0.0.1:${(slowResponder.address() as AddressInfo).port}`;
  assert.equal((await runCli(['gen-ca', '--dir', pki, '--cn', 'Edge Root', '--intermediate', '--ocsp-url', url])).code, 0);
  for (const [name, u] of [
    ['good', url],
    ['good2', url],
    ['revoked', url],
    ['down', downUrl],
    ['slow', slowUrl],
  ] as const)
    assert.equal((await runCli(['gen-client', '--dir', pki, '--cn', name, '--out', join(dir, name), '--ocsp-url', u])).code, 0);
  assert.equal((await runCli(['revoke', '--dir', pki, '--cert', join(dir, 'revoked/certificate.crt')])).code, 0);
  await startUntil(process.execPath, [BIN, 'ocsp', '--dir', pki, '--listen', `127.0.0.1:${port}`, '--json'], /"url"/, 'stdout', {cwd: dir, started});
  origin = http.createServer((req, res) => {
    originSubjects.push(String(req.headers['cloudfront-viewer-cert-subject']));
    req.resume();
    res.writeHead(200, {'content-type': 'application/json'});
    res.end(JSON.stringify({path: req.url, rawHeaders: req.rawHeaders}));
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  serve = await spawnServe([
    '--dir',
    pki,
    '--listen',
    '0:cloudfront',
    '--listen',
    '0:cloudfront:optional',
    '--listen',
    '0:cloudfront:passthrough',
    '--target',
    originUrl,
    '--connection-log',
    connLog,
  ]);
  for (const l of serve.info.listeners) ports[l.viewerMtlsMode!] = l.port;
});

after(async () => {
  await serve?.stop();
  for (const c of started) stopProcess(c);
  await new Promise((r) => origin?.close(r));
  slowResponder?.closeAllConnections();
  await new Promise((r) => slowResponder?.close(r));
});

/**
 * openssl s_client sending one HTTP/1.0 request, asynchronously: the origin answers from
 * this process, so support/serve.ts's spawnSync sClient would block it. Bounded by 20 s.
 */
function sClientAsync(port: number, c: {ca: string; cert: string; key: string}): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', c.ca, '-quiet', '-verify_return_error', '-cert', c.cert, '-key', c.key],
      {encoding: 'utf8', timeout: 20_000},
      (_error, stdout, stderr) => resolve(`${stdout}${stderr}`),
    );
    child.stdin?.end('GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n');
  });
}

const at = (mode: string) => `https://localhost:${ports[mode]}/`;

describe('serve --listen PORT:cloudfront (required)', () => {
  it('lists the three listeners with their viewer mTLS modes', () => {
    assert.deepEqual(serve!.info.listeners.map((l) => [l.mode, l.viewerMtlsMode]).sort(), [
      ['cloudfront', 'optional'],
      ['cloudfront', 'passthrough'],
      ['cloudfront', 'required'],
    ]);
  });

  it('good: the origin gets the CloudFront-Viewer-Cert-* headers byte for byte as the encoder writes them; a client-sent one is removed', async () => {
    const r = await curl(at('required'), {...client('good'), headers: ['CloudFront-Viewer-Cert-Subject: CN=admin']});
    assert.equal(r.status, '200', r.stderr);
    assert.deepEqual(cloudfrontPairs(r.body), encodeCloudFrontHeaders(chainOf('good'), {mode: 'required'}));
    assert.ok(!r.body.includes('CN=admin'));
    assert.ok(pairs(r.body).some(([n, v]) => n === 'X-Forwarded-For' && v === '127.0.0.1'));
    assert.match(serve!.stderr(), /spoofing attempt: viewer 127\.0\.0\.1:\d+ sent CloudFront-Viewer-Cert-Subject/);
  });

  it('revoked (OCSP says so): the connection ends with no HTTP answer; the next good viewer is served', async () => {
    const bad = await curl(at('required'), client('revoked'));
    assert.notEqual(bad.code, 0);
    assert.equal(bad.status, '000');
    const next = await curl(at('required'), client('good2'));
    assert.equal(next.status, '200', next.stderr);
    assert.equal(cloudfrontPairs(next.body).find(([n]) => n === 'CloudFront-Viewer-Cert-Subject')?.[1], 'CN=good2');
  });

  it('responder down: the viewer is refused (fail closed); no certificate: refused', async () => {
    assert.equal((await curl(at('required'), client('down'))).status, '000');
    assert.equal((await curl(at('required'), {ca})).status, '000');
    assert.equal((await curl(at('required'), client('good'))).status, '200');
  });

  it('a viewer that leaves while OCSP is asked is not admitted later; viewers meanwhile are served; the edge keeps serving', async () => {
    const leaving = curl(at('required'), {...client('slow'), headers: []}).catch(() => undefined);
    const killer = execFile('curl', ['-sS', '--max-time', '0.5', '--cacert', ca, '--cert', client('slow').cert, '--key', client('slow').key, at('required')]);
    const meanwhile = await curl(at('required'), client('good'));
    assert.equal(meanwhile.status, '200', meanwhile.stderr);
    await new Promise((r) => killer.on('exit', r));
    // The slow answer arrives after the impatient viewer left: its verdict is logged, nothing is sent.
    assert.ok(await eventually(() => records().filter((r) => r.clientLeafCertSubject === 'CN=slow').length >= 2));
    const patient = await leaving;
    assert.equal(patient?.status, '200');
    // Only the patient viewer's request reached the origin.
    assert.equal(originSubjects.filter((x) => x === 'CN=slow').length, 1);
    assert.equal((await curl(at('required'), client('good2'))).status, '200');
    assert.doesNotMatch(serve!.stderr(), /internal error/);
  });

  it('openssl s_client: good gets the answer, revoked does not', async () => {
    const good = await sClientAsync(ports.required!, client('good'));
    assert.match(good, /HTTP\/1\.1 200/);
    assert.match(good, /"CloudFront-Viewer-Cert-Present","1"/);
    const bad = await sClientAsync(ports.required!, client('revoked'));
    assert.doesNotMatch(bad, /HTTP\/1\.1 200/);
  });

  it("connection-log records: CloudFront's fields in its order, Success and Failed:<code> with the leaf's serial, subject and validity", async () => {
    assert.ok(await eventually(() => records().some((r) => r.connectionStatus === 'Failed:ClientCertMissing')));
    const all = records();
    assert.deepEqual(Object.keys(all[0]!), [
      'eventTimestamp',
      'connectionId',
      'connectionStatus',
      'clientIp',
      'clientPort',
      'serverIp',
      'distributionId',
      'distributionTenantId',
      'tlsProtocol',
      'tlsCipher',
      'tlsHandshakeDuration',
      'tlsSni',
      'clientLeafCertSerialNumber',
      'clientLeafCertSubject',
      'clientLeafCertIssuer',
      'clientLeafCertValidity',
      'connectionLogCustomData',
    ]);
    const leaf = chainOf('good')[0]!;
    const ok = all.find((r) => r.clientLeafCertSubject === 'CN=good' && r.connectionStatus === 'Success')!;
    assert.ok(ok, JSON.stringify(all));
    assert.equal(ok.clientLeafCertSerialNumber, formatSerialColonHexDer(leaf.serial));
    assert.equal(ok.clientLeafCertIssuer, 'CN=Edge Root Intermediate');
    assert.match(String(ok.clientLeafCertValidity), /^NotBefore=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ;NotAfter=/);
    assert.equal(typeof ok.eventTimestamp, 'number');
    assert.match(String(ok.connectionId), /^[A-Za-z0-9_-]{54}==$/);
    assert.equal(ok.tlsSni, 'localhost');
    assert.equal(ok.clientIp, '127.0.0.1');
    assert.equal(all.find((r) => r.clientLeafCertSubject === 'CN=revoked')?.connectionStatus, 'Failed:ClientCertRejected');
    assert.equal(all.find((r) => r.clientLeafCertSubject === 'CN=down')?.connectionStatus, 'Failed:ClientCertRejected');
  });
});

describe('serve --listen PORT:cloudfront:optional and :passthrough', () => {
  it('optional: no certificate is served with CloudFront-Viewer-Cert-Present: 0 alone; a revoked one is refused', async () => {
    const none = await curl(at('optional'), {ca});
    assert.equal(none.status, '200', none.stderr);
    assert.deepEqual(cloudfrontPairs(none.body), [['CloudFront-Viewer-Cert-Present', '0']]);
    assert.equal((await curl(at('optional'), client('revoked'))).status, '000');
    const good = await curl(at('optional'), client('good'));
    assert.deepEqual(cloudfrontPairs(good.body), encodeCloudFrontHeaders(chainOf('good'), {mode: 'optional'}));
  });

  it('passthrough: nothing is judged, the revoked viewer is forwarded with Client-Cert and Client-Cert-Chain (RFC 9440)', async () => {
    const r = await curl(at('passthrough'), client('revoked'));
    assert.equal(r.status, '200', r.stderr);
    const got = cloudfrontPairs(r.body);
    assert.deepEqual(got, encodeCloudFrontHeaders(chainOf('revoked'), {mode: 'passthrough'}));
    const leafDer = chainOf('revoked')[0]!.der;
    assert.equal(got.find(([n]) => n === 'Client-Cert')?.[1], `:${Buffer.from(leafDer).toString('base64')}:`);
    assert.ok(got.some(([n]) => n === 'Client-Cert-Chain'));
    assert.ok(!got.some(([n]) => n === 'CloudFront-Viewer-Cert-Pem'));
  });
});
