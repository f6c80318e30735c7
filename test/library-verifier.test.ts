/**
 * The library (src/library) in process: its verdict on headers equals `mtls-kit verify --json`
 * on the same chain for good, revoked, expired, wrong-CA, too-deep and multi-intermediate
 * clients; the per-leaf cache returns exactly what an uncached verifier returns (also across
 * a validity boundary and a reload); spoofed headers, the RFC 8705 check, and eviction.
 */
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {copyFileSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {before, describe, it} from 'node:test';
import {encodeHeaders} from '../src/lib/alb/headers.js';
import {readCertificates} from '../src/lib/x509/read-certs.js';
import {BoundedCache} from '../src/library/cache.js';
import {checkTokenBinding, createVerifier, type MtlsVerdict, type Verifier} from '../src/library/index.js';
import {runCli} from './support/cli.js';
import {type ClientFiles, makeServeClients, type ServeClients} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const chainOf = (file: string) => readCertificates(readFileSync(file), file);
const fields = (file: string, mode: 'verify' | 'passthrough' | 'apigw') => encodeHeaders(chainOf(file), mode).headers.map(([name, value]) => ({name, value}));
/** The check texts without the time of the check, which differs between two runs. */
const comparable = (checks: Array<{detail: string}>) => checks.map((c) => ({...c, detail: c.detail.replace(/ \(checked at [^)]*\)/, '')}));
/** A verdict without the time of the check. */
const timeless = (v: MtlsVerdict) => JSON.parse(JSON.stringify({...v, at: null}).replace(/ \(checked at [^)]*\)/g, ''));

describe('library: createVerifier', () => {
  const tmp = tempDir();
  let pki: ServeClients;
  let deep: ClientFiles;
  let cached: Verifier;
  let uncached: Verifier;
  let cases: Array<[string, string]>;
  before(async () => {
    pki = await makeServeClients(tmp);
    deep = await pki.ca.client('device-deep', {out: join(tmp, 'device-deep'), defect: 'too-deep'});
    cases = [
      ['good', pki.good.cert],
      ['good, leaf + intermediate + root', pki.good.chain3],
      ['revoked', pki.revoked.cert],
      ['expired', pki.expired.cert],
      ['wrong CA', pki.untrusted.cert],
      ['wrong purpose', pki.wrongPurpose.cert],
      ['too deep', deep.chain],
    ];
    const opts = {product: 'alb-passthrough' as const, trustStore: join(pki.dir, 'ca-bundle.pem'), crls: [pki.crl], watch: false};
    cached = await createVerifier(opts);
    uncached = await createVerifier({...opts, cacheSize: 0});
  });

  it('equals verify --json for every client (passthrough headers), cached and uncached, first and second time', async () => {
    for (const [name, file] of cases) {
      const cli = await runCli(['verify', file, '--trust-store', join(pki.dir, 'ca-bundle.pem'), '--crl', pki.crl, '--json']);
      const h = fields(file, 'passthrough');
      const a = uncached.verifyHeaders(h);
      const b = cached.verifyHeaders(h);
      const c = cached.verifyHeaders(h);
      assert.equal(a.status, cli.json.status, name);
      assert.equal(a.code, cli.json.code, name);
      assert.deepEqual(comparable(a.checks), comparable(cli.json.checks), name);
      assert.deepEqual(a.path, cli.json.path, name);
      assert.deepEqual(timeless(b), timeless(a), `${name}: cache miss equals uncached`);
      assert.deepEqual(timeless(c), timeless(a), `${name}: cache hit equals uncached`);
      assert.equal(a.identity?.sha256Fingerprint, chainOf(file)[0]!.sha256Fingerprint);
      if (a.code) assert.ok(a.why, name);
    }
    assert.ok(cached.stats.cacheHits >= 5, JSON.stringify(cached.stats));
  });

  it('reads verify-mode headers (ALB verify) and API Gateway events to the same verdict', async () => {
    const alb = await createVerifier({product: 'alb', caDir: pki.dir, crls: [pki.crl], watch: false});
    const apigw = await createVerifier({product: 'apigw', caDir: pki.dir, crls: [pki.crl], watch: false});
    for (const [name, file] of cases.filter(([n]) => !n.includes('deep') && !n.includes('root'))) {
      const want = uncached.verifyHeaders(fields(file, 'passthrough'));
      const v = alb.verifyHeaders(fields(file, 'verify'));
      assert.equal(v.status, want.status, name);
      const clientCert = encodeHeaders(chainOf(file), 'apigw').clientCert;
      const e = apigw.verifyEvent({resource: '/', requestContext: {identity: {clientCert, sourceIp: '127.0.0.1'}}, headers: {}});
      assert.equal(e.status, want.status, `${name} (apigw REST event)`);
      const h = apigw.verifyEvent({
        version: '2.0',
        requestContext: {http: {method: 'GET'}, authentication: {clientCert}},
        headers: {},
        body: 'x'.repeat(1 << 20),
      });
      assert.equal(h.status, want.status, `${name} (apigw HTTP API event)`);
    }
    alb.close();
    apigw.close();
  });

  it('refuses spoofed and foreign headers: HeaderMismatch, and NoClientCert without any', async () => {
    const alb = await createVerifier({product: 'alb', caDir: pki.dir, watch: false});
    const good = fields(pki.good.cert, 'verify');
    assert.equal(alb.verifyHeaders(good).status, 'Success');
    const edited = good.map((f) => (f.name.endsWith('Subject') ? {...f, value: 'CN=admin'} : f));
    const v = alb.verifyHeaders(edited);
    assert.equal(v.status, 'Failed:HeaderMismatch');
    assert.match(v.why!, /spoofed/);
    assert.equal(alb.verifyHeaders([...good, {name: 'x-amzn-mtls-clientcert-leaf', value: good[4]!.value}]).code, 'HeaderMismatch');
    // Passthrough headers to a verifier for ALB verify mode: another product's headers.
    assert.equal(alb.verifyHeaders(fields(pki.good.cert, 'passthrough')).code, 'HeaderMismatch');
    assert.equal(alb.verifyHeaders({host: 'x', x_amzn_mtls_clientcert_leaf: good[4]!.value}).code, 'NoClientCert');
    assert.equal(alb.verifyHeaders([]).status, 'Failed:NoClientCert');
    for (const e of [null, 'x', [], {requestContext: {identity: {clientCert: null}}, headers: {}}]) assert.equal(alb.verifyEvent(e).code, 'NoClientCert');
    // A certificate header that does not decode is what verify calls ClientCertInvalid.
    assert.equal(
      alb.verifyHeaders(good.map((f) => (f.name.endsWith('Leaf') ? {...f, value: '-----BEGIN%20CERTIFICATE-----%0AAAAA%0A-----END%20CERTIFICATE-----%0A'} : f)))
        .code,
      'ClientCertInvalid',
    );
    // Form decoding ("+" became " ") is repaired and reported, not refused.
    const formDecoded = fields(pki.good.cert, 'passthrough').map((f) => ({...f, value: f.value.replaceAll('+', ' ')}));
    const pass = await createVerifier({product: 'alb-passthrough', caDir: pki.dir, watch: false});
    const r = pass.verifyHeaders(formDecoded);
    if (fields(pki.good.cert, 'passthrough')[0]!.value.includes('+')) assert.ok(r.warnings.some((w) => w.code === 'FORM_DECODED'));
    assert.equal(r.status, 'Success');
    // Node's rawHeaders, an object, and Fetch Headers give the same verdict.
    const raw = fields(pki.good.cert, 'passthrough').flatMap((f) => [f.name.toLowerCase(), f.value]);
    assert.equal(pass.verifyHeaders(raw).status, 'Success');
    assert.equal(pass.verifyHeaders(new Headers([[raw[0]!, raw[1]!]])).status, 'Success');
    assert.equal(pass.verifyHeaders({[raw[0]!]: raw[1]!}).status, 'Success');
    alb.close();
    pass.close();
  });

  it('the cache never outlives a validity boundary: the same headers expire at notAfter', async () => {
    const leaf = chainOf(pki.good.cert)[0]!;
    let now = new Date(leaf.notAfter.getTime() - 1000);
    const v = await createVerifier({product: 'alb-passthrough', caDir: pki.dir, crls: [], watch: false, now: () => now});
    const h = fields(pki.good.cert, 'passthrough');
    assert.equal(v.verifyHeaders(h).status, 'Success');
    assert.equal(v.verifyHeaders(h).status, 'Success');
    assert.equal(v.stats.cacheHits, 1);
    now = new Date(leaf.notAfter.getTime());
    const expired = v.verifyHeaders(h);
    assert.equal(expired.status, 'Failed:ClientCertExpired');
    const u = await createVerifier({product: 'alb-passthrough', caDir: pki.dir, crls: [], watch: false, now: () => now, cacheSize: 0});
    assert.deepEqual(expired, u.verifyHeaders(h));
    v.close();
    u.close();
  });

  it('reloads the trust store when its file changes (atomically; a bad file keeps the old material)', async () => {
    const bundle = join(tmp, 'live-bundle.pem');
    copyFileSync(join(pki.dir, 'ca-bundle.pem'), bundle);
    const messages: string[] = [];
    const v = await createVerifier({product: 'alb-passthrough', trustStore: bundle, crls: [pki.crl], onReload: (m) => messages.push(m)});
    const h = fields(pki.good.cert, 'passthrough');
    assert.equal(v.verifyHeaders(h).status, 'Success');
    assert.equal(v.verifyHeaders(h).status, 'Success');
    // Only the root: the leaf's issuing intermediate is gone from the trust store.
    writeFileSync(bundle, readFileSync(pki.rootCert));
    for (let i = 0; i < 100 && v.stats.reloads === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(v.stats.reloads, 1, `the file watch reloaded: ${messages.join('; ')}`);
    assert.equal(v.verifyHeaders(h).status, 'Failed:ClientCertUntrusted');
    writeFileSync(bundle, 'not a bundle');
    await v.reload();
    assert.equal(v.verifyHeaders(h).status, 'Failed:ClientCertUntrusted');
    assert.ok(
      messages.some((m) => m.startsWith('kept the previous')),
      messages.join('\n'),
    );
    v.close();
  });

  it('takes PEM text as well as files, and refuses a call without a trust store', async () => {
    const v = await createVerifier({
      product: 'alb-passthrough',
      trustStore: readFileSync(join(pki.dir, 'ca-bundle.pem'), 'utf8'),
      crls: [readFileSync(pki.crl, 'utf8')],
    });
    assert.equal(v.verifyHeaders(fields(pki.revoked.cert, 'passthrough')).code, 'ClientCertCrlHit');
    await assert.rejects(createVerifier({product: 'alb'}), /trustStore/);
    await assert.rejects(createVerifier({product: 'nlb' as 'alb', caDir: pki.dir}), /product "nlb"/);
  });

  it('RFC 8705: a token is good only with the certificate its cnf.x5t#S256 names', () => {
    const good: MtlsVerdict = cached.verifyHeaders(fields(pki.good.cert, 'passthrough'));
    const other = cached.verifyHeaders(fields(pki.untrusted.cert, 'passthrough'));
    const der = chainOf(pki.good.cert)[0]!.der;
    const x5t = createHash('sha256').update(der).digest('base64url');
    assert.equal(good.identity!.x5tS256, x5t);
    const jwt = (payload: object) => `eyJhbGciOiJFUzI1NiJ9.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2ln`;
    assert.equal(checkTokenBinding(jwt({sub: 'a', cnf: {'x5t#S256': x5t}}), good).ok, true);
    assert.equal(checkTokenBinding({cnf: {'x5t#S256': x5t}}, good.identity).ok, true);
    assert.equal(checkTokenBinding({cnf: {'x5t#S256': x5t}}, other).reason, 'the token is bound to another certificate');
    assert.match(checkTokenBinding({sub: 'a'}, good).reason, /no cnf/);
    assert.match(checkTokenBinding('not-a-jwt', good).reason, /not a JWT/);
    assert.equal(checkTokenBinding({cnf: {'x5t#S256': x5t}}, cached.verifyHeaders([])).reason, 'no client certificate was presented');
  });

  it('the cache is bounded: the oldest entry goes first, and a hit in the older half is kept', () => {
    const c = new BoundedCache<string, number>(4);
    for (const [i, k] of ['a', 'b', 'c', 'd'].entries()) c.set(k, i);
    assert.equal(c.get('a'), 0);
    c.set('e', 4);
    assert.equal(c.get('b'), undefined);
    assert.equal(c.get('a'), 0);
    assert.equal(c.size, 4);
    for (let i = 0; i < 100; i++) c.set(`k${i}`, i);
    assert.equal(c.size, 4);
    assert.throws(() => new BoundedCache(0), /positive integer/);
  });
});
