/**
 * The library as a user installs it: `npm pack`, then `npm ci --offline` of the tarball in
 * a scratch project (the dependencies come from the npm cache, pinned by a lockfile made from the repo's), then each export is imported
 * under a module-resolution hook that records every module loaded: no oclif, and no file of
 * mtls-kit beyond dist/library (the CLI bundle, which holds oclif, is never loaded). A control
 * run that imports the CLI bundle proves the hook sees it. The types compile from the package.
 */
import assert from 'node:assert/strict';
import {execFileSync, spawnSync} from 'node:child_process';
import {readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {before, describe, it} from 'node:test';
import {tempDir} from './support/tmp.js';

const ROOT = new URL('..', import.meta.url).pathname;

const HOOKS = `import {appendFileSync} from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.LOADED_LOG, r.url + '\\n');
  return r;
}
`;
const REGISTER = `import {register} from 'node:module';
register('./hooks.mjs', import.meta.url);
`;
const APP = `import {createVerifier, checkTokenBinding, LIBRARY_CODES} from 'mtls-kit';
import {mtls as express} from 'mtls-kit/express';
import {mtls as fastify} from 'mtls-kit/fastify';
import {mtls as hono} from 'mtls-kit/hono';
import {withMtls} from 'mtls-kit/lambda';
import {readFileSync} from 'node:fs';
const pem = readFileSync(process.argv[2], 'utf8');
const verifier = await createVerifier({product: 'alb-passthrough', trustStore: pem});
const header = encodeURIComponent(pem).replace(/%2B|%3D|%2F/g, (m) => ({'%2B': '+', '%3D': '=', '%2F': '/'})[m]);
const v = verifier.verifyHeaders(['X-Amzn-Mtls-Clientcert', header]);
const none = verifier.verifyHeaders({host: 'x'});
console.log(JSON.stringify({status: v.status, subject: v.identity?.subject, none: none.status, fns: [express, fastify, hono, withMtls, checkTokenBinding].map((f) => typeof f), codes: Object.keys(LIBRARY_CODES)}));
`;
const TYPES = `import {createVerifier, type MtlsVerdict} from 'mtls-kit';
import {mtls} from 'mtls-kit/express';
import {withMtls} from 'mtls-kit/lambda';
const verifier = await createVerifier({product: 'alb', caDir: './pki'});
export const m = mtls({verifier, onRefused: 'continue'});
export const subject = (req: Express.Request): string | undefined => req.mtls?.identity?.subject;
export const h = withMtls(async (event: {path: string; mtls: MtlsVerdict}) => ({statusCode: 200, body: event.mtls.status}), {verifier});
`;

describe('library: the packed tarball installed into a scratch project', () => {
  const tmp = tempDir();
  const app = join(tmp, 'app');
  let loaded: (args: string[]) => {status: number | null; stdout: string; stderr: string; urls: string[]};
  let caPem: string;
  before(() => {
    // --ignore-scripts: the suite runs after `npm run build`; `prepare` would delete and rebuild
    // dist/ under the tests that run beside this one (they spawn bin/run.js).
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], {cwd: ROOT, encoding: 'utf8'}));
    const tarball = join(tmp, packed[0].filename);
    execFileSync('mkdir', ['-p', app]);
    const file = `file:${packed[0].filename}`;
    execFileSync('cp', [tarball, app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({name: 'scratch-app', private: true, type: 'module', dependencies: {'mtls-kit': file}}));
    // Offline: npm's cache holds the tarballs of the repo's own install but not the registry's
    // metadata, so the scratch project gets a lockfile: the repo's production entries (same
    // versions, same integrity) plus the packed tarball. `npm ci --offline` then needs no network.
    const repoLock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {packages: Record<string, {dev?: boolean; devOptional?: boolean}>};
    const repoPkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const packages: Record<string, unknown> = {'': {name: 'scratch-app', dependencies: {'mtls-kit': file}}};
    for (const [k, v] of Object.entries(repoLock.packages)) if (k !== '' && !v.dev && !v.devOptional) packages[k] = v;
    packages['node_modules/mtls-kit'] = {
      version: repoPkg.version,
      resolved: file,
      license: repoPkg.license,
      dependencies: repoPkg.dependencies,
      bin: repoPkg.bin,
      engines: repoPkg.engines,
      peerDependencies: repoPkg.peerDependencies,
      peerDependenciesMeta: repoPkg.peerDependenciesMeta,
    };
    writeFileSync(join(app, 'package-lock.json'), JSON.stringify({name: 'scratch-app', lockfileVersion: 3, requires: true, packages}));
    execFileSync('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], {cwd: app, encoding: 'utf8', stdio: 'pipe'});
    writeFileSync(join(app, 'hooks.mjs'), HOOKS);
    writeFileSync(join(app, 'register.mjs'), REGISTER);
    writeFileSync(join(app, 'app.mjs'), APP);
    caPem = join(tmp, 'ca.pem');
    execFileSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(tmp, 'ca.key'),
      '-subj',
      '/CN=Pack Test CA',
      '-days',
      '2',
      '-out',
      caPem,
    ]);
    loaded = (args) => {
      const log = join(tmp, `loaded-${Math.random().toString(36).slice(2)}.txt`);
      writeFileSync(log, '');
      const r = spawnSync(process.execPath, ['--import', './register.mjs', ...args], {
        cwd: app,
        encoding: 'utf8',
        env: {...process.env, LOADED_LOG: log},
        timeout: 60_000,
      });
      return {status: r.status, stdout: r.stdout, stderr: r.stderr, urls: readFileSync(log, 'utf8').split('\n').filter(Boolean)};
    };
  });

  it('ships dist/library and its types; peer frameworks are optional (none installed)', () => {
    const pkg = JSON.parse(readFileSync(join(app, 'node_modules/mtls-kit/package.json'), 'utf8'));
    assert.deepEqual(Object.keys(pkg.exports), ['.', './express', './fastify', './hono', './lambda', './package.json']);
    assert.deepEqual(readdirSync(join(app, 'node_modules/mtls-kit/dist/library')).sort(), ['express.js', 'fastify.js', 'hono.js', 'index.js', 'lambda.js']);
    for (const fw of ['express', 'fastify', 'hono']) assert.throws(() => readdirSync(join(app, 'node_modules', fw)), /ENOENT/);
  });

  it('imports every export and verifies, loading no oclif and nothing of mtls-kit outside dist/library', () => {
    const r = loaded(['app.mjs', caPem]);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.match(out.status, /^(Success|Failed:Client\w+)$/);
    assert.equal(out.subject, 'CN=Pack Test CA');
    assert.equal(out.none, 'Failed:NoClientCert');
    assert.deepEqual(out.fns, ['function', 'function', 'function', 'function', 'function']);
    const kit = r.urls.filter((u) => u.includes('/node_modules/mtls-kit/'));
    assert.ok(kit.length >= 5, r.urls.join('\n'));
    assert.deepEqual(
      kit.filter((u) => !/\/node_modules\/mtls-kit\/dist\/library\/\w+\.js$/.test(u)),
      [],
    );
    assert.deepEqual(
      r.urls.filter((u) => u.includes('/@oclif/') || u.includes('/chalk/') || u.includes('/@aws-sdk/')),
      [],
    );
  });

  it('control: the hook does see the CLI bundle when it is imported', () => {
    writeFileSync(join(app, 'cli.mjs'), "await import('./node_modules/mtls-kit/dist/cli.js');\n");
    const r = loaded(['cli.mjs']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(
      r.urls.some((u) => u.endsWith('/node_modules/mtls-kit/dist/cli.js')),
      r.urls.join('\n'),
    );
  });

  it("the package's types compile in the scratch project", () => {
    writeFileSync(join(app, 'check.ts'), TYPES);
    const r = spawnSync(
      process.execPath,
      [
        join(ROOT, 'node_modules/typescript/bin/tsc'),
        '--noEmit',
        '--strict',
        '--target',
        'ES2022',
        '--module',
        'NodeNext',
        '--moduleResolution',
        'NodeNext',
        '--typeRoots',
        join(ROOT, 'node_modules/@types'),
        '--types',
        'node',
        'check.ts',
      ],
      {cwd: app, encoding: 'utf8'},
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});
