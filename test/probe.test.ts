/**
 * probe against real servers on 127.0.0.1: `openssl s_server -Verify` (with and without
 * -verify_return_error, CA names from -CAfile, -no_ca_names, -client_sigalgs, TLS 1.2
 * and 1.3) and `mtls-kit serve` (with and without --advertise-ca-names): the advertised
 * CA names, accepted and rejected handshakes with their alerts, and the offline verdict.
 */
import assert from 'node:assert/strict';
import {type ChildProcess, spawn} from 'node:child_process';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {runCli} from './support/cli.js';
import {opensslOk} from './support/openssl.js';
import {spawnServe} from './support/serve.js';
import {tempDir} from './support/tmp.js';

const tmp = tempDir();
const pki = join(tmp, 'pki');
const bundle = join(pki, 'ca-bundle.pem');
const good = join(tmp, 'good');
const expired = join(tmp, 'expired');
const servers: ChildProcess[] = [];

/** Starts openssl s_server on a free port; resolves with the port once it accepts. */
function sServer(extra: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', ['s_server', '-accept', '127.0.0.1:0', '-cert', join(tmp, 'srv.crt'), '-key', join(tmp, 'srv.key'), '-www', ...extra], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    servers.push(child);
    let out = '';
    const timer = setTimeout(() => reject(new Error(`s_server not ready: ${out}`)), 20_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /ACCEPT [^:\s]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`s_server exited ${code}: ${out}`)));
  });
}

const probe = (port: number, ...args: string[]): ReturnType<typeof runCli> =>
  runCli(['probe', `https://127.0.0.1:${port}/`, '--dir', pki, '--timeout', '20', '--json', ...args]);

describe('probe', () => {
  before(async () => {
    assert.equal((await runCli(['gen-ca', '--dir', pki, '--cn', 'Probe Root', '--intermediate'])).code, 0);
    assert.equal((await runCli(['gen-client', '--dir', pki, '--cn', 'good-device', '--out', good])).code, 0);
    assert.equal((await runCli(['gen-client', '--dir', pki, '--cn', 'old-device', '--defect', 'expired', '--out', expired])).code, 0);
    opensslOk([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(tmp, 'srv.key'),
      '-out',
      join(tmp, 'srv.crt'),
      '-subj',
      '/CN=probe-server',
      '-days',
      '2',
    ]);
  });
  after(() => {
    for (const s of servers) s.kill('SIGKILL');
  });

  it('s_server -Verify -verify_return_error: CA names (TLS 1.3 decrypted, TLS 1.2 cleartext), accepted with a good certificate, rejected with the alert otherwise', async () => {
    const port = await sServer(['-Verify', '2', '-CAfile', bundle, '-verify_return_error']);
    for (const tlsMax of ['1.3', '1.2']) {
      const none = await probe(port, '--tls-max', tlsMax);
      assert.equal(none.code, 3, none.stderr);
      assert.equal(none.json.tls.version, `TLSv${tlsMax}`);
      assert.equal(none.json.caNamesSource, tlsMax === '1.3' ? 'tls1.3-keylog-decrypted' : 'tls1.2-cleartext');
      assert.equal(none.json.clientCertRequested, true);
      assert.deepEqual(none.json.advertisedCaNames, [
        {dn: 'CN=Probe Root', inLocalBundle: true},
        {dn: 'CN=Probe Root Intermediate', inLocalBundle: true},
      ]);
      assert.equal(none.json.handshake.outcome, 'rejected');
      assert.equal(none.json.handshake.alert.name, tlsMax === '1.3' ? 'certificate_required' : 'handshake_failure');
      assert.equal(none.json.serverChain[0].subject, 'CN=probe-server');

      const ok = await probe(port, '--tls-max', tlsMax, '--client', good);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.equal(ok.json.handshake.outcome, 'accepted');
      assert.equal(ok.json.http.status, 200);
      assert.equal(ok.json.client.subject, 'CN=good-device');
      assert.equal(ok.json.offlineVerdict.status, 'Success');

      const old = await probe(port, '--tls-max', tlsMax, '--cert', join(expired, 'chain.pem'), '--key', join(expired, 'private-key.pem'));
      assert.equal(old.code, 3);
      assert.equal(old.json.handshake.outcome, 'rejected');
      assert.equal(old.json.handshake.alert.name, 'certificate_expired');
      assert.equal(old.json.offlineVerdict.status, 'Failed:ClientCertExpired');
    }
  });

  it('s_server -verify without -verify_return_error accepts an expired certificate; the offline verdict says ALB would not', async () => {
    const port = await sServer(['-verify', '2', '-CAfile', bundle]);
    const r = await probe(port, '--client', expired);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.handshake.outcome, 'accepted');
    assert.equal(r.json.http.status, 200);
    assert.equal(r.json.offlineVerdict.status, 'Failed:ClientCertExpired');
    const none = await probe(port);
    assert.equal(none.json.handshake.outcome, 'accepted', 'optional client certificate');
    assert.equal(none.json.clientCertRequested, true);
  });

  it('s_server -no_ca_names with -client_sigalgs: a request without CA names; a name outside the local bundle is flagged', async () => {
    const port = await sServer(['-Verify', '2', '-CAfile', bundle, '-no_ca_names', '-client_sigalgs', 'ECDSA+SHA256:RSA-PSS+SHA256', '-verify_return_error']);
    for (const tlsMax of ['1.3', '1.2']) {
      const r = await probe(port, '--tls-max', tlsMax, '--client', good);
      assert.equal(r.json.clientCertRequested, true);
      assert.deepEqual(r.json.advertisedCaNames, []);
      assert.equal(r.json.handshake.outcome, 'accepted');
    }
    const other = join(tmp, 'other');
    assert.equal((await runCli(['gen-ca', '--dir', other, '--cn', 'Somebody Else Root'])).code, 0);
    const port2 = await sServer(['-Verify', '2', '-CAfile', join(other, 'ca-bundle.pem'), '-verify_return_error']);
    const r = await probe(port2, '--client', good);
    assert.deepEqual(r.json.advertisedCaNames, [{dn: 'CN=Somebody Else Root', inLocalBundle: false}]);
    assert.deepEqual(r.json.localBundle.notAdvertised, ['CN=Probe Root', 'CN=Probe Root Intermediate']);
    assert.equal(r.json.handshake.outcome, 'rejected');
    assert.equal(r.json.handshake.alert.name, 'unknown_ca');
    assert.equal(r.json.offlineVerdict.status, 'Success', 'our bundle trusts it; that server does not');
  });

  it('mtls-kit serve: names only with --advertise-ca-names; accepted (200) and rejected beside the offline verdict', async () => {
    const quiet = await spawnServe(['--port', '0', '--dir', pki]);
    const loud = await spawnServe(['--port', '0', '--dir', pki, '--advertise-ca-names']);
    try {
      const q = await probe(quiet.info.listeners[0]!.port, '--client', good, '--cacert', bundle);
      assert.equal(q.code, 0, q.stderr);
      assert.equal(q.json.clientCertRequested, true);
      assert.deepEqual(q.json.advertisedCaNames, []);
      assert.equal(q.json.serverTrusted.ok, true);
      assert.equal(q.json.http.status, 200);

      const port = loud.info.listeners[0]!.port;
      const ok = await probe(port, '--client', good);
      assert.deepEqual(
        ok.json.advertisedCaNames.map((n: {dn: string}) => n.dn),
        ['CN=Probe Root', 'CN=Probe Root Intermediate'],
      );
      assert.equal(ok.json.handshake.outcome, 'accepted');
      assert.equal(ok.json.offlineVerdict.status, 'Success');
      // The chain as the server sent it: leaf and intermediate, not the local root.
      assert.deepEqual(
        ok.json.serverChain.map((c: {subject: string}) => c.subject),
        ['CN=localhost', 'CN=Probe Root Intermediate'],
      );

      const bad = await probe(port, '--client', expired);
      assert.equal(bad.code, 3);
      assert.equal(bad.json.handshake.outcome, 'rejected');
      assert.equal(bad.json.http.status, null);
      assert.equal(bad.json.offlineVerdict.status, 'Failed:ClientCertExpired');
      const none = await probe(port);
      assert.equal(none.json.handshake.outcome, 'rejected');
    } finally {
      await quiet.stop();
      await loud.stop();
    }
  });

  it('a closed port is exit 4 naming the address; a non-https URL is exit 2', async () => {
    const r = await runCli(['probe', 'https://127.0.0.1:1/', '--json']);
    assert.equal(r.code, 4);
    assert.match(r.json.error.message, /127\.0\.0\.1:1/);
    const u = await runCli(['probe', 'http://127.0.0.1:8080/']);
    assert.equal(u.code, 2);
  });
});
