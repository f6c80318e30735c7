/**
 * The examples of docs/library.md run as written (the Express app's port 3000 becomes a free
 * port): the Express app behind `serve --listen PORT:passthrough` greets a good client and
 * refuses a revoked one with 403 naming the code; the Lambda handler answers a REST event.
 * They import `mtls-kit` and `express` as a user would, through a node_modules folder that
 * links to this package (its exports: dist/, npm run build) and to the dev dependency.
 */
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {encodeHeaders} from '../src/lib/alb/headers.js';
import {readCertificates} from '../src/lib/x509/read-certs.js';
import {curl, spawnServe, type SpawnedServe} from './support/serve.js';
import {makeServeClients, type ServeClients} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const ROOT = new URL('..', import.meta.url).pathname;

/** The ```js block that follows a heading of docs/library.md. */
function example(heading: string): string {
  const doc = readFileSync(join(ROOT, 'docs/library.md'), 'utf8');
  const at = doc.indexOf(`## ${heading}`);
  assert.ok(at >= 0, heading);
  const m = /```js\n([\s\S]*?)```/.exec(doc.slice(at));
  assert.ok(m, `no js block after ${heading}`);
  return m[1]!;
}

describe('library: the examples of docs/library.md', () => {
  const tmp = tempDir();
  const app = join(tmp, 'app');
  let pki: ServeClients;
  let serve: SpawnedServe | undefined;
  let child: ReturnType<typeof spawn> | undefined;
  after(async () => {
    await serve?.stop();
    child?.kill('SIGTERM');
  });
  before(async () => {
    pki = await makeServeClients(tmp);
    mkdirSync(join(app, 'node_modules'), {recursive: true});
    symlinkSync(ROOT, join(app, 'node_modules/mtls-kit'));
    symlinkSync(join(ROOT, 'node_modules/express'), join(app, 'node_modules/express'));
    writeFileSync(join(app, 'package.json'), JSON.stringify({name: 'docs-example', private: true, type: 'module'}));
    // The paths the examples use: ./pki/ca-bundle.pem, ./pki/intermediate/crl.pem, ./ca-bundle.pem, ./crl.pem.
    mkdirSync(join(app, 'pki/intermediate'), {recursive: true});
    copyFileSync(join(pki.dir, 'ca-bundle.pem'), join(app, 'pki/ca-bundle.pem'));
    copyFileSync(pki.crl, join(app, 'pki/intermediate/crl.pem'));
    copyFileSync(join(pki.dir, 'ca-bundle.pem'), join(app, 'ca-bundle.pem'));
    copyFileSync(pki.crl, join(app, 'crl.pem'));
  });

  it('Express behind ALB passthrough: a good client is greeted, a revoked one gets 403 ClientCertCrlHit', async () => {
    const code = example('Express behind ALB passthrough');
    assert.ok(code.trim().split('\n').length <= 15);
    assert.ok(code.includes('app.listen(3000)'));
    writeFileSync(
      join(app, 'express-app.mjs'),
      code.replace('app.listen(3000);', "const s = app.listen(0, '127.0.0.1', () => console.log(s.address().port));"),
    );
    child = spawn(process.execPath, ['express-app.mjs'], {cwd: app, stdio: ['ignore', 'pipe', 'pipe']});
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const port = await new Promise<number>((resolve, reject) => {
      child!.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      child!.once('exit', (c) => reject(new Error(`the example exited ${c}: ${err}`)));
    });
    serve = await spawnServe(['--dir', pki.dir, '--listen', '0:passthrough', '--target', `http://127.0.0.1:${port}`]);
    const url = serve.info.listeners[0]!.url;
    const good = await curl(url, {ca: pki.rootCert, cert: pki.good.cert, key: pki.good.key});
    assert.equal(good.status, '200', good.body + err);
    assert.deepEqual(JSON.parse(good.body), {hello: 'CN=device-good,O=Acme\\, Inc.,C=US'});
    const revoked = await curl(url, {ca: pki.rootCert, cert: pki.revoked.cert, key: pki.revoked.key});
    assert.equal(revoked.status, '403');
    assert.equal(JSON.parse(revoked.body).code, 'ClientCertCrlHit');
  });

  it('Lambda behind API Gateway: a REST event with a good certificate is answered, a revoked one refused', async () => {
    writeFileSync(join(app, 'lambda.mjs'), example('Lambda behind API Gateway'));
    const {handler} = (await import(join(app, 'lambda.mjs'))) as {handler: (e: unknown, c: unknown) => Promise<{statusCode: number; body: string}>};
    const event = (file: string) => ({
      resource: '/',
      path: '/',
      httpMethod: 'GET',
      headers: {},
      requestContext: {identity: {sourceIp: '127.0.0.1', clientCert: encodeHeaders(readCertificates(readFileSync(file), file), 'apigw').clientCert}},
    });
    const ok = await handler(event(pki.good.cert), {});
    assert.deepEqual(ok, {statusCode: 200, body: 'hello CN=device-good,O=Acme\\, Inc.,C=US'});
    const no = await handler(event(pki.revoked.cert), {});
    assert.equal(no.statusCode, 403);
    assert.equal(JSON.parse(no.body).code, 'ClientCertCrlHit');
  });
});
