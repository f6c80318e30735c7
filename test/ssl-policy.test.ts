/**
 * `serve --ssl-policy`: ALB security policies by name, through the real listeners and real
 * clients. openssl s_client (-tls1_1/-tls1_2/-tls1_3, -cipher/-ciphersuites) is refused a
 * version or suite outside the policy and served one inside it; Node's TLS client (OpenSSL
 * 3.5) negotiates the hybrid post-quantum group of a PQ policy and is refused it by a
 * classical one; the connection log names the key exchange (field 13); an RSASSA-PSS client
 * certificate is ClientCertIncompatible on a policy without rsa_pss_pss signatures.
 */
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import tls from 'node:tls';
import {type RunningServe, startServe} from '../src/flows/serve.js';
import {parseConnectionLogLine} from '../src/lib/alb/connection-log.js';
import {isMtlsKitError} from '../src/lib/errors.js';
import {findSslPolicy, PQ_GROUPS, SSL_POLICY_NAMES, tlsOptionsForPolicy} from '../src/lib/alb/ssl-policies.js';
import {opensslOk} from './support/openssl.js';
import {makeTestCa, type TestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

interface Served {
  serve: RunningServe;
  port: number;
  lines: string[];
  errors: string[];
}

async function start(ca: TestCa, sslPolicy: string): Promise<Served> {
  const lines: string[] = [];
  const errors: string[] = [];
  const serve = await startServe({
    host: '127.0.0.1',
    listeners: [{port: 0, mode: 'verify'}],
    dir: ca.dir,
    crls: [],
    ignoreExpiry: false,
    headerMap: {},
    watch: false,
    sslPolicy,
    log: (l) => lines.push(l),
    onError: (m) => errors.push(m),
  });
  return {serve, port: serve.info.listeners[0]!.port, lines, errors};
}

/** openssl s_client sending one HTTP request; resolves with what it printed (bounded by a timer, killed by its pid). */
function sClient(port: number, args: string[]): Promise<{served: boolean; out: string}> {
  return new Promise((resolve) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-ign_eof', ...args], {stdio: ['pipe', 'pipe', 'pipe']});
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('close', () => {
      clearTimeout(timer);
      resolve({served: /HTTP\/1\.1 200/.test(out), out});
    });
    child.stdin.end('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  });
}

/** Node's TLS client offering only `groups`; resolves with whether the request was served. */
function nodeClient(port: number, o: {cert: string; key: string; ca: string; groups: string}): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tls.connect({port, host: '127.0.0.1', ca: o.ca, cert: o.cert, key: o.key, ecdhCurve: o.groups, servername: 'localhost'});
    let body = '';
    const timer = setTimeout(() => s.destroy(), 10_000);
    s.on('secureConnect', () => s.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'));
    s.on('data', (d) => (body += d));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(/^HTTP\/1\.1 200/.test(body));
    });
  });
}

const lastLog = (s: Served) => parseConnectionLogLine(s.lines[s.lines.length - 1]!)!;

describe('serve --ssl-policy', () => {
  const tmp = tempDir();
  let ca: TestCa;
  let leaf: {cert: string; key: string};
  let pss: {cert: string; key: string};
  const served: Record<string, Served> = {};
  const RES = 'ELBSecurityPolicy-TLS13-1-2-Res-2021-06';
  const OLD = 'ELBSecurityPolicy-2016-08';
  const PQ = 'ELBSecurityPolicy-TLS13-1-2-PQ-2025-09';

  before(async () => {
    // An EC root issues the clients and, in memory, the server certificate (so ECDHE-ECDSA suites).
    ca = await makeTestCa(join(tmp, 'pki'), {cn: 'Policy Test Root'});
    const l = ca.opensslLeaf('/CN=device-ec', {name: 'device-ec'});
    leaf = {cert: l.path, key: l.path.replace(/\.pem$/, '.key')};
    // A client with an RSASSA-PSS key (id-RSASSA-PSS), signed by the same root.
    const key = join(tmp, 'pss.key');
    opensslOk(['genpkey', '-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key]);
    opensslOk(['req', '-new', '-key', key, '-subj', '/CN=device-pss', '-out', join(tmp, 'pss.csr')]);
    writeFileSync(join(tmp, 'leaf.ext'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
    const root = join(ca.dir, 'root');
    opensslOk([
      'x509',
      '-req',
      '-in',
      join(tmp, 'pss.csr'),
      '-CA',
      join(root, 'ca.crt'),
      '-CAkey',
      join(root, 'ca.key'),
      '-set_serial',
      '0x5555',
      '-days',
      '30',
      '-extfile',
      join(tmp, 'leaf.ext'),
      '-out',
      join(tmp, 'pss.crt'),
    ]);
    pss = {cert: join(tmp, 'pss.crt'), key};
    for (const name of [RES, OLD, PQ]) served[name] = await start(ca, name);
  });
  after(async () => {
    for (const s of Object.values(served)) await s.serve.close();
  });

  const withCert = (c: {cert: string; key: string}): string[] => ['-CAfile', ca.rootCert, '-cert', c.cert, '-key', c.key];

  it(`${RES}: a suite outside the policy is refused, one inside is served; TLS 1.1 is refused`, async () => {
    const s = served[RES]!;
    assert.equal(s.serve.info.sslPolicy, RES);
    // In ELBSecurityPolicy-TLS13-1-2-2021-06 but not in its Res variant.
    const out = await sClient(s.port, [...withCert(leaf), '-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-SHA256']);
    assert.equal(out.served, false, out.out);
    const inside = await sClient(s.port, [...withCert(leaf), '-tls1_2', '-cipher', 'ECDHE-ECDSA-AES256-GCM-SHA384']);
    assert.equal(inside.served, true, inside.out);
    const log = lastLog(s);
    assert.equal(log.tlsProtocol, 'TLSv1.2');
    assert.equal(log.tlsCipher, 'ECDHE-ECDSA-AES256-GCM-SHA384');
    assert.equal(log.verifyStatus, 'Success');
    // The TLS 1.3 policies offer X25519 first (s2n-tls's TLS 1.3 groups), s_client too.
    assert.equal(log.tlsKeyExchange, 'x25519');
    const before = s.lines.length;
    const v11 = await sClient(s.port, [...withCert(leaf), '-tls1_1', '-cipher', 'ECDHE-ECDSA-AES128-SHA@SECLEVEL=0']);
    assert.equal(v11.served, false, v11.out);
    // The refused negotiation is in the connection log, with the runtime code (aws-reference 13.4).
    for (let i = 0; i < 50 && s.lines.length === before; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(parseConnectionLogLine(s.lines[before]!)!.verifyStatus, 'Failed:UnmappedConnectionError');
    const v13 = await sClient(s.port, [...withCert(leaf), '-tls1_3', '-ciphersuites', 'TLS_CHACHA20_POLY1305_SHA256', '-groups', 'P-384']);
    assert.equal(v13.served, true, v13.out);
    assert.equal(lastLog(s).tlsCipher, 'TLS_CHACHA20_POLY1305_SHA256');
    assert.equal(lastLog(s).tlsKeyExchange, 'secp384r1');
  });

  it(`${OLD}: TLS 1.3 is refused, TLS 1.1 with a listed suite is served, a suite outside is refused`, async () => {
    const s = served[OLD]!;
    const v13 = await sClient(s.port, [...withCert(leaf), '-tls1_3']);
    assert.equal(v13.served, false, v13.out);
    const v11 = await sClient(s.port, [...withCert(leaf), '-tls1_1', '-cipher', 'ECDHE-ECDSA-AES128-SHA@SECLEVEL=0']);
    assert.equal(v11.served, true, v11.out);
    assert.equal(lastLog(s).tlsProtocol, 'TLSv1.1');
    // The classic ELB policies offer P-256 and P-384 only (s2n-tls's ELB definitions): never x25519.
    assert.equal(lastLog(s).tlsKeyExchange, 'secp256r1');
    const chacha = await sClient(s.port, [...withCert(leaf), '-tls1_2', '-cipher', 'ECDHE-ECDSA-CHACHA20-POLY1305']);
    assert.equal(chacha.served, false, chacha.out);
  });

  it('an RSASSA-PSS client certificate is ClientCertIncompatible on a policy without rsa_pss_pss, and served on a TLS 1.3 policy', async () => {
    const old = served[OLD]!;
    const refused = await sClient(old.port, [...withCert(pss), '-tls1_2']);
    assert.equal(refused.served, false, refused.out);
    assert.equal(lastLog(old).verifyStatus, 'Failed:ClientCertIncompatible');
    assert.match(old.errors.join('\n'), /RSASSA-PSS key/);
    // The next good client is served.
    assert.equal((await sClient(old.port, [...withCert(leaf), '-tls1_2'])).served, true);
    const res = served[RES]!;
    const ok = await sClient(res.port, [...withCert(pss), '-tls1_3']);
    assert.equal(ok.served, true, ok.out);
    assert.equal(lastLog(res).verifyStatus, 'Success');
  });

  it(`${PQ}: a client offering only X25519MLKEM768 is served and logged with it; a classical policy refuses that client`, async () => {
    const pq = served[PQ]!;
    const client = {
      cert: readFileSync(leaf.cert, 'utf8'),
      key: readFileSync(leaf.key, 'utf8'),
      ca: readFileSync(ca.rootCert, 'utf8'),
      groups: 'X25519MLKEM768',
    };
    assert.equal(await nodeClient(pq.port, client), true);
    assert.equal(lastLog(pq).tlsKeyExchange, 'X25519MLKEM768');
    assert.equal(await nodeClient(served[RES]!.port, client), false);
  });

  it('an unknown policy name is a usage error (exit 2) listing the valid names', async () => {
    await assert.rejects(start(ca, 'ELBSecurityPolicy-Nope'), (e: unknown) => {
      assert.ok(isMtlsKitError(e));
      assert.equal(e.code, 'UNKNOWN_SSL_POLICY');
      assert.equal(e.exitCode, 2);
      assert.ok(e.suggestions.join(' ').includes('ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09'));
      return true;
    });
  });

  it('without the PQ groups in OpenSSL, the PQ policies fall back to the classical groups and name the missing ones', () => {
    const policy = findSslPolicy(PQ)!;
    const none = tlsOptionsForPolicy(policy, () => false);
    assert.deepEqual(none.missingGroups, [...PQ_GROUPS]);
    assert.equal(none.options.ecdhCurve, 'X25519:P-256:P-384');
    const all = tlsOptionsForPolicy(policy, () => true);
    assert.deepEqual(all.missingGroups, []);
    assert.match(all.options.ecdhCurve, /^X25519MLKEM768:SecP256r1MLKEM768:SecP384r1MLKEM1024:/);
    // Every name is unique, and every policy maps onto a secure context the running OpenSSL accepts.
    assert.equal(new Set(SSL_POLICY_NAMES).size, SSL_POLICY_NAMES.length);
    for (const name of SSL_POLICY_NAMES)
      assert.doesNotThrow(() => tls.createSecureContext(tlsOptionsForPolicy(findSslPolicy(name)!, () => true).options), name);
  });
});
