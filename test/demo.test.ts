import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {createServer} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import type {DemoResult} from '../src/flows/demo.js';
import {BIN, runCli} from './support/cli.js';
import {curl, spawnServe} from './support/serve.js';
import {freePort} from './support/tls-peers.js';
import {tempDir} from './support/tmp.js';

const demoTemps = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith('mtls-kit-demo-'));

describe('demo', () => {
  it('explains verify and passthrough mode, shows every step, and prints no command for what is gone', async () => {
    const r = await runCli(['demo'], {timeoutMs: 30_000});
    assert.equal(r.code, 0, r.stderr);
    for (const step of [
      'Step 1: no client certificate',
      'Step 2: with the client certificate',
      'Step 3: a revoked certificate',
      'Passthrough: the chain is forwarded',
    ])
      assert.match(r.stdout, new RegExp(step));
    // Each mode explained right above its steps.
    assert.match(
      r.stdout,
      /ALB verify mode: the load balancer checks the client's chain against the trust store and its CRLs,\nrejects a failing client in the TLS handshake, and sends the target the leaf in X-Amzn-Mtls-Clientcert-\* headers\.\n\nStep 1/,
    );
    assert.match(
      r.stdout,
      /ALB passthrough mode: the load balancer checks nothing; it forwards the whole chain the client sent\nin X-Amzn-Mtls-Clientcert, and the target must check it itself\.\n\nPassthrough/,
    );
    assert.match(r.stdout, /Failed:ClientCertInvalid/);
    assert.match(r.stdout, /x-amzn-mtls-clientcert-subject: CN=device-1,O=Example Corp,C=US/);
    assert.match(r.stdout, /x-amzn-mtls-clientcert: -----BEGIN%20CERTIFICATE-----/);
    assert.match(r.stdout, / Failed:ClientCertCrlHit /);
    assert.match(r.stdout, /API Gateway 2: with the client certificate ✓[\s\S]+x-client-cert-sub: C=US,O=Example Corp,CN=device-1/);
    assert.match(r.stdout + r.stderr, /API Gateway 3: the revoked certificate ✓[\s\S]+→ HTTP 403/);
    // The folder and the ports are gone: no curl command to copy, and it says so.
    assert.doesNotMatch(r.stdout, /\$ curl/);
    assert.match(r.stdout + r.stderr, /the temporary folder and the listeners are gone now; mtls-kit demo --keep/);
    // The verdict is the last line and names both.
    assert.match(r.stdout.trimEnd().split('\n').at(-1)!, /^all 8 steps behaved as ALB \(4\) and API Gateway \(4\) do \(\d+\.\d s\)$/);
    assert.doesNotMatch(r.stdout, /PRIVATE KEY/);
  });

  it('--keep DIR --ports: the printed curl commands work while it runs; Ctrl-C stops it; files only in DIR', async (t) => {
    const tmp = tempDir();
    const dir = join(tmp, 'kept');
    const ports = [await freePort(), await freePort(), await freePort()];
    const tempsBefore = demoTemps();
    const child = spawn(process.execPath, [BIN, 'demo', '--keep', dir, '--ports', ports.join(','), '--json'], {
      cwd: tmp,
      env: {...process.env, NO_COLOR: '1'},
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => child.kill('SIGKILL'));
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // The JSON comes once the listeners are ready (bounded: 60 s).
    const json = await new Promise<DemoResult>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no JSON within 60 s: ${stderr}`)), 60_000);
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.endsWith('\n')) {
          clearTimeout(timer);
          resolve(JSON.parse(stdout));
        }
      });
    });
    assert.equal(json.ok, true);
    assert.equal(json.kept, true);
    assert.equal(json.dir, dir);
    assert.deepEqual(
      json.listeners.map((l: {url: string}) => l.url),
      ports.map((p) => `https://127.0.0.1:${p}/`),
    );
    assert.deepEqual(
      json.steps.map((s: {name: string}) => s.name),
      ['no-certificate', 'certificate', 'revoked', 'passthrough', 'apigw-no-certificate', 'apigw-certificate', 'apigw-deny', 'apigw-untrusted'],
    );
    assert.equal(statSync(join(dir, 'device-1/private-key.pem')).mode & 0o777, 0o600);
    // Run the printed commands as a user would paste them: still served by the demo.
    const step = (name: string): {curl: string} => json.steps.find((s) => s.name === name)!;
    const good = spawnSync('sh', ['-c', `${step('certificate').curl} --silent --show-error --max-time 10`], {encoding: 'utf8'});
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /"x-amzn-mtls-clientcert-subject": "CN=device-1,O=Example Corp,C=US"/);
    const revoked = spawnSync('sh', ['-c', `${step('revoked').curl} --silent --max-time 10`], {encoding: 'utf8'});
    assert.notEqual(revoked.status, 0);
    const gw = spawnSync('sh', ['-c', `${step('apigw-certificate').curl} --silent --show-error --max-time 10`], {encoding: 'utf8'});
    assert.equal(gw.status, 0, gw.stderr);
    assert.match(gw.stdout, /"x-client-cert-sub": "C=US,O=Example Corp,CN=device-1"/);
    // Ctrl-C: the listeners stop, the process ends, DIR stays, nothing else is left.
    child.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
    const c = await curl(json.listeners[0].url, {
      ca: join(dir, 'root-ca.crt'),
      cert: join(dir, 'device-1/certificate.crt'),
      key: join(dir, 'device-1/private-key.pem'),
    });
    assert.equal(c.status, '000');
    assert.deepEqual(readdirSync(tmp), ['kept']);
    assert.deepEqual(demoTemps(), tempsBefore);
    assert.ok(existsSync(join(dir, 'authorizer.cjs')));
    // The printed serve command starts the same listeners again later (on free ports here).
    const args = (json.serveCommand as string)
      .split(' ')
      .slice(2)
      .map((a) => a.replace(/^\d+:(verify|passthrough)$/, '0:$1'));
    const serve = await spawnServe(args);
    t.after(() => serve.stop());
    const again = await curl(serve.info.listeners[0]!.url, {
      ca: join(dir, 'root-ca.crt'),
      cert: join(dir, 'device-1/certificate.crt'),
      key: join(dir, 'device-1/private-key.pem'),
    });
    assert.equal(again.status, '200', again.stderr);
  });

  it('--keep refuses a folder that holds files, and a port in use leaves the folder empty (exit 4)', async (t) => {
    const tmp = tempDir();
    const full = join(tmp, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'mine.txt'), 'x');
    const r = await runCli(['demo', '--keep', full], {timeoutMs: 30_000});
    assert.equal(r.code, 4);
    assert.match(r.stderr, /already holds files/);
    assert.deepEqual(readdirSync(full), ['mine.txt']);
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    t.after(() => busy.close());
    const port = (busy.address() as {port: number}).port;
    const dir = join(tmp, 'ported');
    const p = await runCli(['demo', dir, '--ports', `${port},${await freePort()},${await freePort()}`], {timeoutMs: 30_000});
    assert.equal(p.code, 4, p.stderr);
    assert.match(p.stderr, new RegExp(`port ${port} .*already in use`));
    assert.deepEqual(readdirSync(dir), []);
    const bad = await runCli(['demo', '--ports', '1,2'], {timeoutMs: 30_000});
    assert.equal(bad.code, 2);
    rmSync(dir, {recursive: true, force: true});
  });
});
