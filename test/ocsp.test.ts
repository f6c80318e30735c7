/**
 * OCSP for the CA directory: gen-ca / gen-client --ocsp-url put the responder URL into what
 * they issue; `mtls-kit ocsp` answers the real `openssl ocsp` client (good, revoked with time
 * and reason, unknown, nonce, the intermediate's own status from the root); and our OCSP
 * client (lib/x509/ocsp.ts + io/net/ocsp-client.ts) reads answers of `openssl ocsp` as a
 * responder. Every server a test starts is stopped by its process id.
 */
import assert from 'node:assert/strict';
import type {ChildProcess} from 'node:child_process';
import {existsSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {postOcspRequest} from '../src/io/net/ocsp-client.js';
import type {ParsedCertificate} from '../src/lib/x509/cert.js';
import {buildOcspRequest, ocspUrlsOf, parseOcspRequest, parseOcspResponse, verifyOcspResponse} from '../src/lib/x509/ocsp.js';
import {readCertificates} from '../src/lib/x509/read-certs.js';
import {BIN, runCli} from './support/cli.js';
import {openssl, opensslOk} from './support/openssl.js';
import {freePort} from './support/tls-peers.js';
import {tempDir} from './support/tmp.js';
import {startUntil as startUntilIn, stopProcess} from './support/ready-process.js';

const dir = tempDir();
const pki = join(dir, 'pki');
const cert = (path: string): ParsedCertificate => readCertificates(new Uint8Array(readFileSync(path)), path)[0]!;
const started: ChildProcess[] = [];

const startUntil = (cmd: string, args: string[], ready: RegExp, stream: 'stdout' | 'stderr') => startUntilIn(cmd, args, ready, stream, {cwd: dir, started});
const stop = stopProcess;

after(() => {
  for (const c of started) stop(c);
});

let url = '';
const port = await freePort();
url = `http://127.0.0.1:${port}`;

describe('gen-ca / gen-client --ocsp-url', () => {
  before(async () => {
    const ca = await runCli(['gen-ca', '--dir', pki, '--cn', 'OCSP Root', '--intermediate', '--ocsp-url', url, '--json']);
    assert.equal(ca.code, 0, ca.stderr);
    for (const name of ['good', 'bad']) {
      const c = await runCli(['gen-client', '--dir', pki, '--cn', `device-${name}`, '--out', join(dir, name), '--ocsp-url', url]);
      assert.equal(c.code, 0, c.stderr);
    }
    const fleet = await runCli([
      'gen-client',
      '--dir',
      pki,
      '--cn',
      'fleet-{n}',
      '--count',
      '2',
      '--workers',
      '1',
      '--out',
      join(dir, 'fleet'),
      '--ocsp-url',
      url,
    ]);
    assert.equal(fleet.code, 0, fleet.stderr);
  });

  it('the intermediate and every client name the responder (openssl -ocsp_uri); the root does not', () => {
    for (const f of [join(pki, 'intermediate/ca.crt'), join(dir, 'good/certificate.crt'), join(dir, 'fleet/fleet-2/certificate.crt')]) {
      assert.equal(opensslOk(['x509', '-in', f, '-noout', '-ocsp_uri']).trim(), url, f);
      assert.deepEqual(ocspUrlsOf(cert(f)), [url]);
    }
    assert.equal(opensslOk(['x509', '-in', join(pki, 'root/ca.crt'), '-noout', '-ocsp_uri']).trim(), '');
    // The chain still verifies with openssl (the extension is well formed and not critical).
    assert.match(opensslOk(['verify', '-CAfile', join(pki, 'ca-bundle.pem'), join(dir, 'good/certificate.crt')]), /OK/);
  });

  it('a URL that is not http(s) is a usage error (exit 2), and nothing is written', async () => {
    const r = await runCli(['gen-client', '--dir', pki, '--cn', 'x', '--out', join(dir, 'x'), '--ocsp-url', 'ldap://ocsp']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--ocsp-url "ldap:\/\/ocsp" is not an http:\/\/ URL/);
    assert.equal(existsSync(join(dir, 'x')), false);
  });
});

describe('mtls-kit ocsp answers the openssl ocsp client', () => {
  let responder: ChildProcess;
  before(async () => {
    const r = await startUntil(process.execPath, [BIN, 'ocsp', '--dir', pki, '--listen', `127.0.0.1:${port}`, '--json'], /"url":"([^"]+)"/, 'stdout');
    responder = r.child;
    assert.equal(r.match[1], url);
  });
  after(() => stop(responder));

  const ask = (args: string[]) =>
    openssl(['ocsp', '-url', url, '-CAfile', join(pki, 'ca-bundle.pem'), '-issuer', join(pki, 'intermediate/ca.crt'), ...args], {cwd: dir});

  it('good, with the nonce echoed and the signature verified', () => {
    const r = ask(['-cert', join(dir, 'good/certificate.crt'), '-nonce']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr + r.stdout, /Response verify OK/);
    assert.match(r.stdout, /good\/certificate\.crt: good/);
    assert.doesNotMatch(r.stderr + r.stdout, /nonce/i);
    assert.match(r.stdout, /This Update: .*\n\s+Next Update: /);
  });

  it('revoked, with the time and reason of mtls-kit revoke', async () => {
    const rv = await runCli(['revoke', '--dir', pki, '--cert', join(dir, 'bad/certificate.crt'), '--reason', 'keyCompromise']);
    assert.equal(rv.code, 0, rv.stderr);
    const r = ask(['-cert', join(dir, 'bad/certificate.crt')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /bad\/certificate\.crt: revoked/);
    assert.match(r.stdout, /Reason: keyCompromise/);
    assert.match(r.stdout, /Revocation Time: /);
  });

  it('unknown for a serial the index does not hold; the intermediate is good when asked of the root', () => {
    const u = ask(['-serial', '0x0123456789']);
    assert.equal(u.code, 0, u.stderr);
    assert.match(u.stdout, /0x0123456789: unknown/);
    const i = openssl([
      'ocsp',
      '-url',
      url,
      '-CAfile',
      join(pki, 'ca-bundle.pem'),
      '-issuer',
      join(pki, 'root/ca.crt'),
      '-cert',
      join(pki, 'intermediate/ca.crt'),
    ]);
    assert.equal(i.code, 0, i.stderr);
    assert.match(i.stdout, /intermediate\/ca\.crt: good/);
    assert.match(i.stderr + i.stdout, /Response verify OK/);
  });

  it('GET (RFC 6960 A.1), garbage, and a foreign issuer: answered, and the responder keeps serving', async () => {
    const good = cert(join(dir, 'good/certificate.crt'));
    const inter = cert(join(pki, 'intermediate/ca.crt'));
    const nonce = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const req = buildOcspRequest(good, inter, {nonce});
    const get = await fetch(`${url}/${encodeURIComponent(Buffer.from(req).toString('base64'))}`);
    assert.equal(get.headers.get('content-type'), 'application/ocsp-response');
    const parsed = parseOcspResponse(new Uint8Array(await get.arrayBuffer()));
    assert.deepEqual(verifyOcspResponse(parsed, good, inter, {now: new Date(), nonce}), {status: {status: 'good'}, signer: 'issuer'});
    const bad = parseOcspResponse(await postOcspRequest(url, Uint8Array.from([0x30, 0x03, 0x02, 0x01])));
    assert.equal(bad.responseStatus, 'malformedRequest');
    const root = cert(join(pki, 'root/ca.crt'));
    const foreign = parseOcspResponse(await postOcspRequest(url, buildOcspRequest(good, good)));
    assert.equal(foreign.responseStatus, 'unauthorized');
    // A body larger than any OCSP request: that connection is cut, the next client is answered.
    await assert.rejects(postOcspRequest(url, new Uint8Array(200_000)));
    const again = parseOcspResponse(await postOcspRequest(url, buildOcspRequest(inter, root)));
    assert.equal(verifyOcspResponse(again, inter, root, {now: new Date()}).status?.status, 'good');
  });

  it('ocsp --check: a good chain passes (leaf and intermediate asked, root not); a revoked leaf exits 3', async () => {
    const good = await runCli(['ocsp', '--check', join(dir, 'good/chain.pem'), '--trust-store', join(pki, 'ca-bundle.pem'), '--json']);
    assert.equal(good.code, 0, good.stderr);
    assert.equal(good.json.ok, true);
    assert.deepEqual(
      good.json.ocsp.checks.map((c: {position: number; outcome: string}) => [c.position, c.outcome]),
      [
        [0, 'good'],
        [1, 'good'],
      ],
    );
    const bad = await runCli(['ocsp', '--check', join(dir, 'bad/chain.pem'), '--trust-store', join(pki, 'ca-bundle.pem')]);
    assert.equal(bad.code, 3, bad.stderr);
    assert.match(bad.stdout, /OCSP: failed/);
    assert.match(bad.stdout, /leaf \S+ CN=device-bad: revoked from http:\/\/127\.0\.0\.1:\d+ \(revoked at .*keyCompromise\)/);
  });

  it('a response edited in transit fails verification (the check can fail)', async () => {
    const good = cert(join(dir, 'good/certificate.crt'));
    const inter = cert(join(pki, 'intermediate/ca.crt'));
    const der = await postOcspRequest(url, buildOcspRequest(good, inter));
    const i = Buffer.from(der).indexOf(Buffer.from([0x80, 0x00])); // certStatus good [0] NULL
    assert.ok(i > 0);
    const edited = Uint8Array.from(der);
    edited[i] = 0x82; // → unknown
    assert.match(verifyOcspResponse(parseOcspResponse(edited), good, inter, {now: new Date()}).problem ?? '', /signature does not verify/);
    // Stale: checked a day after nextUpdate.
    assert.match(verifyOcspResponse(parseOcspResponse(der), good, inter, {now: new Date(Date.now() + 86_400_000)}).problem ?? '', /stale/);
  });
});

describe('mtls-kit ocsp with an encrypted CA key', () => {
  it('refuses to start without the passphrase (exit 4, one clear line) and answers with it', async () => {
    const enc = join(dir, 'pki-enc');
    writeFileSync(join(dir, 'pass.txt'), 'correct horse\n');
    assert.equal((await runCli(['gen-ca', '--dir', enc, '--cn', 'Enc Root', '--passphrase-file', join(dir, 'pass.txt')])).code, 0);
    const r = await runCli(['ocsp', '--dir', enc, '--listen', '127.0.0.1:0'], {env: {MTLS_KIT_CA_PASSPHRASE: undefined}});
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /ca\.key is encrypted and no passphrase was given/);
    const bad = await runCli(['ocsp', '--dir', enc, '--listen', 'not-a-port']);
    assert.equal(bad.code, 2, bad.stderr);
    const s = await startUntil(
      process.execPath,
      [BIN, 'ocsp', '--dir', enc, '--listen', '127.0.0.1:0', '--passphrase-file', join(dir, 'pass.txt')],
      /answering OCSP for .* at (http:\S+)/,
      'stdout',
    );
    const root = cert(join(enc, 'root/ca.crt'));
    const der = await postOcspRequest(s.match[1]!, buildOcspRequest(root, root));
    assert.equal(verifyOcspResponse(parseOcspResponse(der), root, root, {now: new Date()}).status?.status, 'unknown');
    stop(s.child);
  });
});

describe('our OCSP client against openssl ocsp as the responder', () => {
  let opensslResponder: ChildProcess;
  let rootResponder: ChildProcess;
  let peerUrl = '';
  const pki2 = join(dir, 'pki2');
  const inter = () => cert(join(pki, 'intermediate/ca.crt'));
  before(async () => {
    const p = await freePort();
    peerUrl = `http://127.0.0.1:${p}`;
    // A root-only CA whose clients name an openssl responder (for ocsp --check against openssl).
    const p2 = await freePort();
    assert.equal((await runCli(['gen-ca', '--dir', pki2, '--cn', 'Root Only'])).code, 0);
    for (const name of ['p2-good', 'p2-bad'])
      assert.equal((await runCli(['gen-client', '--dir', pki2, '--cn', name, '--out', join(dir, name), '--ocsp-url', `http://127.0.0.1:${p2}`])).code, 0);
    assert.equal((await runCli(['revoke', '--dir', pki2, '--cert', join(dir, 'p2-bad/certificate.crt'), '--reason', 'affiliationChanged'])).code, 0);
    const rootArgs = ['ocsp', '-index', join(pki2, 'root/index.txt'), '-CA', join(pki2, 'root/ca.crt'), '-rsigner', join(pki2, 'root/ca.crt')];
    rootArgs.push('-rkey', join(pki2, 'root/ca.key'), '-port', String(p2), '-ndays', '1');
    rootResponder = (await startUntil('openssl', rootArgs, /waiting for OCSP client connections/i, 'stderr')).child;
    const args = ['ocsp', '-index', join(pki, 'intermediate/index.txt'), '-CA', join(pki, 'intermediate/ca.crt')];
    args.push('-rsigner', join(pki, 'intermediate/ca.crt'), '-rkey', join(pki, 'intermediate/ca.key'), '-port', String(p), '-ndays', '1', '-resp_key_id');
    const r = await startUntil('openssl', args, /waiting for OCSP client connections/i, 'stderr');
    opensslResponder = r.child;
  });
  after(() => {
    stop(opensslResponder);
    stop(rootResponder);
  });

  it('ocsp --check with openssl ocsp as the responder: good exits 0, revoked exits 3 with the reason', async () => {
    const good = await runCli(['ocsp', '--check', join(dir, 'p2-good/chain.pem'), '--trust-store', join(pki2, 'ca-bundle.pem'), '--json']);
    assert.equal(good.code, 0, good.stdout + good.stderr);
    assert.deepEqual(
      good.json.ocsp.checks.map((c: {outcome: string}) => c.outcome),
      ['good'],
    );
    const bad = await runCli(['ocsp', '--check', join(dir, 'p2-bad/chain.pem'), '--trust-store', join(pki2, 'ca-bundle.pem'), '--json']);
    assert.equal(bad.code, 3, bad.stderr);
    assert.equal(bad.json.ocsp.code, 'OcspRevoked');
    assert.match(bad.json.ocsp.checks[0].detail, /affiliationChanged/);
  });

  const check = async (path: string, nonce?: Uint8Array) => {
    const c = cert(path);
    const der = await postOcspRequest(peerUrl, buildOcspRequest(c, inter(), nonce ? {nonce} : {}));
    return verifyOcspResponse(parseOcspResponse(der), c, inter(), {now: new Date(), ...(nonce ? {nonce} : {})});
  };

  it('good (byKey responder id, nonce echoed), revoked with reason, unknown', async () => {
    const nonce = Uint8Array.from(Buffer.from('00112233445566778899aabbccddeeff', 'hex'));
    assert.deepEqual(await check(join(dir, 'good/certificate.crt'), nonce), {status: {status: 'good'}, signer: 'issuer'});
    const revoked = await check(join(dir, 'bad/certificate.crt'));
    assert.equal(revoked.status?.status, 'revoked');
    assert.equal(revoked.status?.status === 'revoked' && revoked.status.reason, 'keyCompromise');
    // A certificate the index does not hold: the intermediate asked of itself by serial.
    const fake = {...inter(), serialHex: '0123456789'} as ParsedCertificate;
    const der = await postOcspRequest(peerUrl, buildOcspRequest(fake, inter()));
    assert.equal(verifyOcspResponse(parseOcspResponse(der), fake, inter(), {now: new Date()}).status?.status, 'unknown');
  });

  it('our request is one openssl parses (openssl ocsp -reqin -req_text)', () => {
    const req = buildOcspRequest(cert(join(dir, 'good/certificate.crt')), inter(), {nonce: Uint8Array.of(9, 9, 9)});
    writeFileSync(join(dir, 'req.der'), req);
    const text = opensslOk(['ocsp', '-reqin', join(dir, 'req.der'), '-req_text']);
    assert.match(text, /Hash Algorithm: sha1/);
    assert.match(text, /OCSP Nonce:\s*\n\s*0403090909/);
    assert.equal(parseOcspRequest(req).certIds[0]!.serial, cert(join(dir, 'good/certificate.crt')).serialHex);
  });
});
