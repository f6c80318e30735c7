/**
 * The middleware in real frameworks (Express, Fastify, Hono on @hono/node-server) behind
 * `mtls-kit serve --listen PORT:passthrough` and `PORT:verify`, and the Lambda wrapper on the
 * events of `serve --listen PORT:apigw`: for good, revoked, expired, wrong-CA, wrong-purpose,
 * too-deep, multi-intermediate and header-spoofing clients, the library's verdict equals
 * `mtls-kit verify --json` on the chain the client presented, and a refused client gets 403
 * with the code.
 */
import assert from 'node:assert/strict';
import {readFileSync, writeFileSync} from 'node:fs';
import http, {type IncomingMessage, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import {join} from 'node:path';
import {pathToFileURL} from 'node:url';
import {after, before, describe, it} from 'node:test';
import {getRequestListener} from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import {Hono} from 'hono';
import {encodePassthroughHeader} from '../src/lib/alb/headers.js';
import {readCertificates} from '../src/lib/x509/read-certs.js';
import {parseCertificate} from '../src/lib/x509/cert.js';
import {addDays, generateKeyPair, issueCertificate, pkcs8Pem} from '../src/lib/x509/issue.js';
import {toPem} from '../src/lib/x509/pem.js';
import {KEY_TYPES, PROFILES} from '../src/lib/x509/profiles.js';
import {mtls as mtlsExpress} from '../src/library/express.js';
import {mtls as mtlsFastify} from '../src/library/fastify.js';
import {mtls as mtlsHono, type MtlsVariables} from '../src/library/hono.js';
import {createVerifier, type MtlsVerdict, type Product, type Verifier} from '../src/library/index.js';
import {withMtls} from '../src/library/lambda.js';
import {runCli} from './support/cli.js';
import {curl, spawnServe, type SpawnedServe} from './support/serve.js';
import {type ClientFiles, makeServeClients, type ServeClients} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const FRAMEWORKS = ['express', 'fastify', 'hono'] as const;

/**
 * A root, two intermediates below it and a client leaf (EC P-256): the client presents
 * leaf + both intermediates (the header ALB would send is about 2.5 KB). Returns the root's
 * PEM (for the trust store) and the client's chain and key files.
 */
function twoIntermediateClient(dir: string): {rootPem: string; cert: string; key: string} {
  const spec = KEY_TYPES['ec-p256'];
  const now = new Date();
  const {pathLength: _root, ...rootProfile} = PROFILES.root;
  const {pathLength: _int, ...intProfile} = PROFILES.intermediate;
  let parent: {cert?: ReturnType<typeof parseCertificate>; key: ReturnType<typeof generateKeyPair>} = {key: generateKeyPair(spec)};
  const pems: string[] = [];
  const names = ['Two-Tier Root', 'Two-Tier Intermediate 1', 'Two-Tier Intermediate 2', 'device-two-intermediates'];
  for (const [i, cn] of names.entries()) {
    const key = i === 0 ? parent.key : generateKeyPair(spec);
    const issued = issueCertificate({
      subject: [[{type: '2.5.4.3', value: cn}]],
      ...(parent.cert ? {issuerCert: parent.cert} : {}),
      issuerKey: parent.key.privateKey,
      issuerSpec: spec,
      publicKey: key.publicKey,
      subjectSpec: spec,
      serialHex: (0x2000 + i).toString(16),
      notBefore: addDays(now, -1),
      notAfter: addDays(now, 30),
      profile: i === 0 ? rootProfile : i < 3 ? intProfile : PROFILES.client,
    });
    pems.push(toPem(issued.der, 'CERTIFICATE'));
    parent = {cert: parseCertificate(issued.der), key};
  }
  const cert = join(dir, 'two-intermediates-chain.pem');
  const key = join(dir, 'two-intermediates.key');
  writeFileSync(cert, [pems[3], pems[2], pems[1]].join(''));
  writeFileSync(key, pkcs8Pem(parent.key.privateKey), {mode: 0o600});
  return {rootPem: pems[0]!, cert, key};
}
const comparable = (checks: Array<{detail: string}>) => checks.map((c) => ({...c, detail: c.detail.replace(/ \(checked at [^)]*\)/, '')}));

interface Client {
  name: string;
  /** What curl presents (--cert), and what `verify` judges. */
  cert?: string;
  key?: string;
  headers?: string[];
}

/** The three frameworks in one backend: /<framework>/<pass|verify>/<reject|continue>/..., answering the verdict as JSON. */
async function startBackend(verifiers: Record<'pass' | 'verify', Verifier>): Promise<{port: number; close: () => Promise<void>}> {
  const ex = express();
  const fa = Fastify({serverFactory: (handler) => http.createServer(handler)});
  const ho = new Hono<{Variables: MtlsVariables}>();
  for (const mode of ['pass', 'verify'] as const) {
    for (const onRefused of ['reject', 'continue'] as const) {
      const o = {verifier: verifiers[mode], onRefused};
      ex.use(`/express/${mode}/${onRefused}`, mtlsExpress(o));
      await fa.register(
        async (child) => {
          await child.register(mtlsFastify(o));
          child.get('/*', async (request) => ({framework: 'fastify', verdict: (request as unknown as {mtls: MtlsVerdict}).mtls}));
        },
        {prefix: `/fastify/${mode}/${onRefused}`},
      );
      ho.use(`/hono/${mode}/${onRefused}/*`, mtlsHono(o));
    }
  }
  ex.use((req, res) => {
    res.json({framework: 'express', verdict: (req as unknown as {mtls: MtlsVerdict}).mtls});
  });
  ho.all('*', (c) => c.json({framework: 'hono', verdict: c.get('mtls')}));
  await fa.ready();
  const fastifyHandler = (req: IncomingMessage, res: ServerResponse): void => {
    fa.server.emit('request', req, res);
  };
  const honoHandler = getRequestListener(ho.fetch);
  const server = http.createServer((req, res) => {
    if (req.url!.startsWith('/express/')) ex(req, res);
    else if (req.url!.startsWith('/fastify/')) fastifyHandler(req, res);
    else void honoHandler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      await fa.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('library middleware behind serve (passthrough and verify listeners)', () => {
  const tmp = tempDir();
  let pki: ServeClients;
  let deep: ClientFiles;
  let two: {rootPem: string; cert: string; key: string};
  let bundle: string;
  let serve: SpawnedServe | undefined;
  let backend: {port: number; close: () => Promise<void>} | undefined;
  const verifiers: Verifier[] = [];
  let passPort: number;
  let verifyPort: number;
  const expected = new Map<string, {status: string; code: string | null; checks: Array<{detail: string}>; path: unknown}>();

  const verifyCli = async (file: string) => {
    if (!expected.has(file)) {
      const r = await runCli(['verify', file, '--trust-store', bundle, '--crl', pki.crl, '--json']);
      expected.set(file, r.json);
    }
    return expected.get(file)!;
  };

  after(async () => {
    await serve?.stop();
    await backend?.close();
    for (const v of verifiers) v.close();
  });
  before(async () => {
    pki = await makeServeClients(tmp);
    deep = await pki.ca.client('device-deep', {out: join(tmp, 'device-deep'), defect: 'too-deep'});
    // The CA directory's bundle plus a second root whose client presents two intermediates.
    two = twoIntermediateClient(tmp);
    bundle = join(tmp, 'bundle.pem');
    writeFileSync(bundle, readFileSync(join(pki.dir, 'ca-bundle.pem'), 'utf8') + two.rootPem);
    const make = async (product: Product): Promise<Verifier> => {
      const v = await createVerifier({product, trustStore: bundle, crls: [pki.crl]});
      verifiers.push(v);
      return v;
    };
    backend = await startBackend({pass: await make('alb-passthrough'), verify: await make('alb')});
    // No --crl: the verify listener lets a revoked client through, and the application catches it.
    serve = await spawnServe([
      '--dir',
      pki.dir,
      '--trust-store',
      bundle,
      '--listen',
      '0:passthrough',
      '--listen',
      '0:verify',
      '--target',
      `http://127.0.0.1:${backend.port}`,
    ]);
    passPort = serve.info.listeners.find((l) => l.mode === 'passthrough')!.port;
    verifyPort = serve.info.listeners.find((l) => l.mode === 'verify')!.port;
  });

  const get = async (port: number, path: string, c: Client) =>
    curl(`https://127.0.0.1:${port}${path}`, {
      ca: pki.rootCert,
      ...(c.cert ? {cert: c.cert, key: c.key!} : {}),
      ...(c.headers ? {headers: c.headers} : {}),
    });

  it('passthrough: every framework sees verify’s verdict, and 403 with the code when it refuses', async () => {
    const goodChainHeader = encodePassthroughHeader(readCertificates(readFileSync(pki.good.chain3), 'chain3').map((c) => c.der))[1];
    const clients: Client[] = [
      {name: 'good', cert: pki.good.cert, key: pki.good.key},
      {name: 'good, two CAs presented', cert: pki.good.chain3, key: pki.good.key},
      {name: 'good, two intermediates presented', cert: two.cert, key: two.key},
      {name: 'revoked', cert: pki.revoked.cert, key: pki.revoked.key},
      {name: 'expired', cert: pki.expired.cert, key: pki.expired.key},
      {name: 'wrong CA', cert: pki.untrusted.cert, key: pki.untrusted.key},
      {name: 'wrong purpose', cert: pki.wrongPurpose.cert, key: pki.wrongPurpose.key},
      {name: 'too deep (5 sub-CAs)', cert: deep.chain, key: deep.key},
      // Spoofers: serve strips client-sent X-Amzn-Mtls-* (as ALB must), so the verdict is on what was presented.
      {name: 'wrong CA claiming the good chain', cert: pki.untrusted.cert, key: pki.untrusted.key, headers: [`X-Amzn-Mtls-Clientcert: ${goodChainHeader}`]},
      {name: 'no certificate, claiming the good chain', headers: [`X-Amzn-Mtls-Clientcert: ${goodChainHeader}`, `X_Amzn_Mtls_Clientcert: ${goodChainHeader}`]},
    ];
    for (const c of clients) {
      const want = c.cert ? await verifyCli(c.cert) : {status: 'Failed:NoClientCert', code: 'NoClientCert', checks: [], path: []};
      for (const fw of FRAMEWORKS) {
        const label = `${fw}, ${c.name}`;
        const cont = await get(passPort, `/${fw}/pass/continue/x`, c);
        assert.equal(cont.status, '200', `${label}: ${cont.stderr}${cont.body}`);
        const v = JSON.parse(cont.body) as {framework: string; verdict: MtlsVerdict};
        assert.equal(v.framework, fw);
        assert.equal(v.verdict.status, want.status, label);
        assert.equal(v.verdict.code, want.code, label);
        assert.deepEqual(comparable(v.verdict.checks), comparable(want.checks), label);
        assert.deepEqual(v.verdict.path, want.path, label);
        const rej = await get(passPort, `/${fw}/pass/reject/x`, c);
        if (want.code === null) {
          assert.equal(rej.status, '200', label);
          assert.equal(JSON.parse(rej.body).verdict.identity.serial, JSON.parse(cont.body).verdict.identity.serial);
        } else {
          assert.equal(rej.status, '403', `${label}: ${rej.body}`);
          const body = JSON.parse(rej.body);
          assert.deepEqual(
            {error: body.error, status: body.status, code: body.code},
            {error: 'client certificate refused', status: want.status, code: want.code},
            label,
          );
          assert.ok(body.why, label);
        }
      }
    }
    // The two-intermediate chain arrived whole: verify builds leaf, both intermediates, root from it.
    const twoVerdict = await verifyCli(two.cert);
    assert.equal(twoVerdict.status, 'Success');
    assert.equal((twoVerdict.path as unknown[]).length, 4);
    assert.equal((await verifyCli(pki.good.chain3)).status, 'Success');
    assert.equal((await verifyCli(deep.chain)).code, 'ClientCertMaxChainDepthExceeded');
  });

  it('verify: ALB checked the handshake (no CRL), the application refuses the revoked client', async () => {
    for (const c of [
      {name: 'good', cert: pki.good.chain3, key: pki.good.key},
      {name: 'revoked', cert: pki.revoked.cert, key: pki.revoked.key},
    ]) {
      const want = await verifyCli(c.cert);
      for (const fw of FRAMEWORKS) {
        const cont = await get(verifyPort, `/${fw}/verify/continue/`, c);
        assert.equal(cont.status, '200', `${fw} ${c.name}: ${cont.stderr}`);
        const v = JSON.parse(cont.body).verdict as MtlsVerdict;
        assert.equal(v.status, want.status, `${fw} ${c.name}`);
        assert.equal(v.product, 'alb');
        const rej = await get(verifyPort, `/${fw}/verify/reject/`, c);
        assert.equal(rej.status, want.code ? '403' : '200', `${fw} ${c.name}`);
        if (want.code) assert.equal(JSON.parse(rej.body).code, 'ClientCertCrlHit');
      }
    }
    // Expired and wrong-CA clients never get past the handshake of a verify listener.
    const e = await get(verifyPort, '/express/verify/continue/', {name: 'expired', cert: pki.expired.cert, key: pki.expired.key});
    assert.equal(e.status, '000');
  });
});

// The authorizer runs inside serve: it imports the built library (dist/, npm run build), wraps
// its handler with withMtls and writes each verdict and event next to itself.
const AUTHORIZER = (lib: string, lambda: string, bundle: string, crl: string, out: string) => `
import {writeFileSync} from 'node:fs';
import {createVerifier} from ${JSON.stringify(lib)};
import {withMtls} from ${JSON.stringify(lambda)};
const verifier = await createVerifier({product: 'apigw', trustStore: ${JSON.stringify(bundle)}, crls: [${JSON.stringify(crl)}], watch: false});
export const handler = withMtls(async (event) => {
  const name = event.path.replaceAll('/', '');
  writeFileSync(${JSON.stringify(out)} + '/' + name + '.verdict.json', JSON.stringify(event.mtls));
  const {mtls, ...plain} = event;
  writeFileSync(${JSON.stringify(out)} + '/' + name + '.event.json', JSON.stringify(plain));
  const effect = event.mtls.code ? 'Deny' : 'Allow';
  return {principalId: event.mtls.identity?.subject ?? 'none', policyDocument: {Version: '2012-10-17', Statement: [{Action: 'execute-api:Invoke', Effect: effect, Resource: event.methodArn}]}};
}, {verifier, onRefused: 'continue'});
`;

describe('library Lambda wrapper on the events of serve --listen PORT:apigw', () => {
  const tmp = tempDir();
  let pki: ServeClients;
  let serve: SpawnedServe | undefined;
  let port: number;
  const root = new URL('..', import.meta.url);
  after(async () => {
    await serve?.stop();
  });
  before(async () => {
    pki = await makeServeClients(tmp);
    const file = join(tmp, 'authorizer.mjs');
    const lib = pathToFileURL(join(root.pathname, 'dist/library/index.js')).href;
    const lambda = pathToFileURL(join(root.pathname, 'dist/library/lambda.js')).href;
    writeFileSync(file, AUTHORIZER(lib, lambda, join(pki.dir, 'ca-bundle.pem'), pki.crl, tmp));
    serve = await spawnServe(['--dir', pki.dir, '--listen', '0:apigw', '--authorizer', file]);
    port = serve.info.listeners[0]!.port;
  });

  it('REST events: the verdict equals verify’s; API Gateway lets the revoked client in, the application does not', async () => {
    for (const [name, cert, key] of [
      ['good', pki.good.chain3, pki.good.key],
      ['revoked', pki.revoked.cert, pki.revoked.key],
    ] as const) {
      const want = (await runCli(['verify', cert, '--trust-store', join(pki.dir, 'ca-bundle.pem'), '--crl', pki.crl, '--json'])).json;
      const r = await curl(`https://127.0.0.1:${port}/${name}`, {ca: pki.rootCert, cert, key});
      assert.equal(r.status, want.code ? '403' : '200', `${name}: ${r.body}${serve!.stderr()}`);
      const v = JSON.parse(readFileSync(join(tmp, `${name}.verdict.json`), 'utf8')) as MtlsVerdict;
      assert.equal(v.status, want.status, name);
      assert.equal(v.product, 'apigw');
      const event = JSON.parse(readFileSync(join(tmp, `${name}.event.json`), 'utf8'));
      assert.ok(event.requestContext.identity.clientCert.clientCertPem.includes('BEGIN CERTIFICATE'));
      // The same event through withMtls with the default onRefused: a 403 proxy response naming the code, without ALB's statusDescription.
      const verifier = await createVerifier({product: 'apigw', trustStore: join(pki.dir, 'ca-bundle.pem'), crls: [pki.crl], watch: false});
      const wrapped = withMtls(async (e: {mtls: MtlsVerdict}) => ({statusCode: 200, body: e.mtls.identity!.subject}), {verifier});
      const res = (await wrapped(event, {})) as {statusCode: number; body: string; statusDescription?: string};
      if (want.code) {
        assert.equal(res.statusCode, 403);
        assert.equal(JSON.parse(res.body).code, want.code);
        assert.equal(res.statusDescription, undefined);
      } else assert.equal(res.statusCode, 200);
      // As an HTTP API (payload 2.0) event and as an ALB target event (passthrough headers), the same.
      const clientCert = event.requestContext.identity.clientCert;
      const httpEvent = {version: '2.0', rawPath: '/', requestContext: {http: {method: 'GET'}, authentication: {clientCert}}, headers: {}};
      assert.equal(verifier.verifyEvent(httpEvent).status, want.status);
      const pass = await createVerifier({product: 'alb-passthrough', trustStore: join(pki.dir, 'ca-bundle.pem'), crls: [pki.crl], watch: false});
      const der = readCertificates(readFileSync(cert), cert).map((c) => c.der);
      const albEvent = {
        requestContext: {elb: {targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/1'}},
        headers: {'x-amzn-mtls-clientcert': encodePassthroughHeader(der)[1]},
      };
      const albRes = (await withMtls(async () => ({statusCode: 200}), {verifier: pass})(albEvent, {})) as {statusCode: number; statusDescription?: string};
      assert.equal(albRes.statusCode, want.code ? 403 : 200);
      if (want.code) assert.equal(albRes.statusDescription, '403 Forbidden');
      verifier.close();
      pass.close();
    }
  });
});
