import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {createServer} from 'node:tls';
import {after, before, describe, it} from 'node:test';
import {runCli} from './support/cli.js';
import {tempDir} from './support/tmp.js';
import {opensslServerCert, startOpensslServer, tlsGet} from './support/tls-peers.js';

// Issue 2 proof: real handshakes on 127.0.0.1 accept the generated client certificate
// and reject a client with no certificate and one from another CA.
describe('real TLS handshakes with generated certificates', () => {
  const tmp = tempDir();
  const dir = join(tmp, 'pki');
  const good = join(tmp, 'good');
  const other = join(tmp, 'other');
  let server: {key: string; cert: string};
  before(async () => {
    for (const [caDir, out] of [
      [dir, good],
      [join(tmp, 'other-pki'), other],
    ] as const) {
      assert.equal((await runCli(['gen-ca', '--dir', caDir, '--intermediate'])).code, 0);
      assert.equal((await runCli(['gen-client', '--dir', caDir, '--cn', 'client', '--out', out])).code, 0);
    }
    server = opensslServerCert(tmp);
  });

  it('openssl s_server -Verify with ca-bundle.pem accepts ours, rejects none and another CA', async () => {
    const s = await startOpensslServer([
      '-cert',
      server.cert,
      '-key',
      server.key,
      '-Verify',
      '3',
      '-CAfile',
      join(dir, 'ca-bundle.pem'),
      '-verify_return_error',
    ]);
    after(s.stop);
    try {
      assert.match(await tlsGet(s.port, {key: join(good, 'private-key.pem'), cert: join(good, 'chain.pem')}), /HTTP\/1\.0 200/);
      assert.doesNotMatch(await tlsGet(s.port), /HTTP\/1\.0 200/);
      assert.doesNotMatch(await tlsGet(s.port, {key: join(other, 'private-key.pem'), cert: join(other, 'chain.pem')}), /HTTP\/1\.0 200/);
    } finally {
      s.stop();
    }
  });

  it('a Node tls server requiring client certificates from ca-bundle.pem does the same', async () => {
    const authorized: boolean[] = [];
    const srv = createServer(
      {
        key: readFileSync(server.key),
        cert: readFileSync(server.cert),
        ca: readFileSync(join(dir, 'ca-bundle.pem')),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (sock) => {
        authorized.push(sock.authorized);
        sock.end('HTTP/1.0 200 OK\r\n\r\nhello');
      },
    );
    srv.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    after(() => srv.close());
    const port = (srv.address() as {port: number}).port;
    try {
      assert.match(await tlsGet(port, {key: join(good, 'private-key.pem'), cert: join(good, 'chain.pem')}), /hello/);
      // The leaf alone is enough when the intermediate is in the trust bundle.
      assert.match(await tlsGet(port, {key: join(good, 'private-key.pem'), cert: join(good, 'certificate.crt')}), /hello/);
      assert.doesNotMatch(await tlsGet(port), /hello/);
      assert.doesNotMatch(await tlsGet(port, {key: join(other, 'private-key.pem'), cert: join(other, 'chain.pem')}), /hello/);
      assert.deepEqual(authorized, [true, true]);
    } finally {
      srv.close();
    }
  });
});
