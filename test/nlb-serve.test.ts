import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {readFileSync} from 'node:fs';
import net, {type AddressInfo} from 'node:net';
import {join} from 'node:path';
import tls from 'node:tls';
import {after, before, describe, it} from 'node:test';
import proxyProtocol from 'proxy-protocol-js';
import {buildProxyV2Header} from '../src/lib/nlb/listener.js';
import {runCli} from './support/cli.js';
import {spawnServe, type SpawnedServe} from './support/serve.js';
import {tempDir} from './support/tmp.js';

interface Client {
  cert: string;
  key: string;
}

/** A TCP echo target that records what each connection brought. */
async function startRecordingEcho(): Promise<{port: number; connections: Buffer[][]; close: () => Promise<void>}> {
  const connections: Buffer[][] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer({allowHalfOpen: true}, (s) => {
    const got: Buffer[] = [];
    connections.push(got);
    sockets.add(s);
    s.on('data', (d: Buffer) => {
      got.push(d);
      s.write(d);
    });
    s.on('end', () => s.end());
    s.on('error', () => s.destroy());
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Node TLS client: sends payload after the handshake, resolves with what came back once `expect` arrived or the server closed (bounded). */
function nodeExchange(
  port: number,
  ca: string,
  client: Client,
  payload: string,
  expect: string,
): Promise<{data: string; localPort: number; closedEarly: boolean}> {
  return new Promise((resolve) => {
    let data = '';
    let done = false;
    let localPort = 0;
    const s = tls.connect({
      host: '127.0.0.1',
      port,
      ca: readFileSync(ca),
      cert: readFileSync(client.cert),
      key: readFileSync(client.key),
      servername: 'localhost',
    });
    const finish = (closedEarly: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({data, localPort, closedEarly});
    };
    const timer = setTimeout(() => finish(false), 10_000);
    s.on('secureConnect', () => {
      localPort = s.localPort ?? 0;
      s.write(payload);
    });
    s.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      if (data.includes(expect)) finish(false);
    });
    s.on('error', () => finish(true));
    s.on('close', () => finish(true));
  });
}

/** openssl s_client -quiet: writes the line, resolves with its stdout once the echo arrived or it exited (bounded). */
function opensslExchange(port: number, ca: string, client: Client, line: string): Promise<{stdout: string; exited: boolean}> {
  return new Promise((resolve) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', ca, '-cert', client.cert, '-key', client.key, '-quiet'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let done = false;
    const finish = (exited: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve({stdout, exited});
    };
    const timer = setTimeout(() => finish(false), 10_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('latin1');
      if (stdout.includes(line)) finish(false);
    });
    child.on('exit', () => finish(true));
    child.stdin.on('error', () => {});
    child.stdin.write(line + '\n');
  });
}

describe('serve --listen PORT:nlb: an NLB TLS listener with mTLS in front of a TCP target', () => {
  const work = tempDir();
  const dir = join(work, 'pki');
  const root = join(dir, 'root/ca.crt');
  const log = join(work, 'access.log');
  const proxyLog = join(work, 'access-proxy.log');
  const clients: Record<'device' | 'laptop' | 'revoked', Client> = {} as never;
  let crl = '';
  let echo: Awaited<ReturnType<typeof startRecordingEcho>>;
  let serve: SpawnedServe;
  let port = 0;

  before(async () => {
    assert.equal((await runCli(['gen-ca', '--dir', dir, '--intermediate', '--cn', 'NLB Serve Root'])).code, 0);
    const gen = async (cn: string, extra: string[] = []): Promise<Client & {crl?: string}> => {
      const r = await runCli(['gen-client', '--dir', dir, '--cn', cn, '--out', join(work, cn), '--json', ...extra]);
      assert.equal(r.code, 0, r.stderr);
      return {cert: r.json.certificate.files.chain, key: r.json.certificate.files.key, ...(r.json.defect?.crl ? {crl: r.json.defect.crl} : {})};
    };
    clients.device = await gen('device-1', ['--san', 'spiffe://acme/device-1']);
    clients.laptop = await gen('laptop-1');
    const revoked = await gen('device-revoked', ['--defect', 'revoked']);
    clients.revoked = revoked;
    crl = revoked.crl!;
    echo = await startRecordingEcho();
    serve = await spawnServe([
      '--listen',
      '0:nlb',
      '--dir',
      dir,
      '--crl',
      crl,
      '--identity-filter',
      'subject-cn:prefix:DEVICE-',
      '--target',
      `tcp://127.0.0.1:${echo.port}`,
      '--connection-log',
      log,
    ]);
    port = serve.info.listeners[0]!.port;
  });

  after(async () => {
    await serve?.stop();
    await echo?.close();
  });

  it('reports the listener, the target and the filters in --json', () => {
    assert.equal(serve.info.listeners[0]!.mode, 'nlb');
    assert.equal(serve.info.listeners[0]!.url, `tls://127.0.0.1:${port}`);
    assert.match(serve.info.listeners[0]!.curl, /^openssl s_client -connect 127\.0\.0\.1:\d+ /);
    assert.equal(serve.info.target, `tcp://127.0.0.1:${echo.port}`);
    assert.deepEqual((serve.info as unknown as {nlb: unknown}).nlb, {identityFilters: ['subject-cn:prefix:DEVICE-'], proxyProtocol: false});
  });

  it('a matching certificate round-trips bytes (Node TLS client), and nothing but those bytes reaches the target', async () => {
    const before = echo.connections.length;
    const r = await nodeExchange(port, root, clients.device, 'ping over nlb', 'ping over nlb');
    assert.equal(r.data, 'ping over nlb');
    assert.equal(echo.connections.length, before + 1);
    assert.equal(Buffer.concat(echo.connections[before]!).toString(), 'ping over nlb');
  });

  it('a matching certificate round-trips bytes (openssl s_client)', async () => {
    const r = await opensslExchange(port, root, clients.device, 'hello from openssl');
    assert.match(r.stdout, /hello from openssl/);
  });

  it('a trusted certificate that matches no filter never reaches the target', async () => {
    const before = echo.connections.length;
    const r = await nodeExchange(port, root, clients.laptop, 'let me in', 'let me in');
    assert.equal(r.data, '');
    assert.equal(r.closedEarly, true);
    const o = await opensslExchange(port, root, clients.laptop, 'let me in too');
    assert.doesNotMatch(o.stdout, /let me in too/);
    assert.equal(echo.connections.length, before);
  });

  it('a revoked certificate that matches the filter is refused', async () => {
    const before = echo.connections.length;
    const r = await nodeExchange(port, root, clients.revoked, 'revoked?', 'revoked?');
    assert.equal(r.data, '');
    assert.equal(echo.connections.length, before);
  });

  it('logs one NLB TLS access-log line per connection, with the verdict and the matching filter', async () => {
    // Lines are written when a connection closes; wait (bounded) for the five connections above.
    let lines: string[] = [];
    for (let i = 0; i < 100; i++) {
      lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
      if (lines.length >= 5) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(lines.length, 5, lines.join('\n'));
    for (const l of lines) {
      const f = l.split(' ');
      assert.equal(f[0], 'tls');
      assert.equal(f[1], '2.0');
      assert.match(f[2]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
      assert.equal(f[3], 'net/mtls-kit-serve/local');
      assert.match(f[5]!, /^127\.0\.0\.1:\d+$/);
      assert.match(f[15]!, /^tlsv1[23]$/);
    }
    const ok = lines.filter((l) => l.includes(' Success '));
    // tls_named_group (field 17), read from the server's own handshake: never the old constant `-` on a completed TLS connection.
    for (const l of ok) assert.match(l.split(' ')[16]!, /^(x25519|secp256r1|secp384r1|X25519MLKEM768)$/);
    assert.equal(ok.length, 2);
    for (const l of ok) {
      assert.match(l, / "subject-cn:prefix:DEVICE-" [0-9A-F]+ "CN=device-1"$/);
      assert.equal(l.split(' ')[6], `127.0.0.1:${echo.port}`);
    }
    const refused = lines.filter((l) => !l.includes(' Success '));
    // No target connection, no byte in either direction.
    for (const l of refused) assert.deepEqual([l.split(' ')[6], l.split(' ')[9], l.split(' ')[10]], ['-', '0', '0']);
    assert.equal(refused.filter((l) => / Failed:IdentityFilterNoMatch - [0-9A-F]+ "CN=laptop-1"$/.test(l)).length, 2, lines.join('\n'));
    assert.equal(
      refused.filter((l) => / Failed:ClientCertCrlHit "subject-cn:prefix:DEVICE-" [0-9A-F]+ "CN=device-revoked"$/.test(l)).length,
      1,
      lines.join('\n'),
    );
  });

  it('--proxy-protocol: the target first receives a PROXY v2 header that a real parser reads', async () => {
    const s2 = await spawnServe([
      '--listen',
      '0:nlb',
      '--dir',
      dir,
      '--identity-filter',
      'san-uri:exact:SPIFFE://ACME/device-1',
      '--proxy-protocol',
      '--target',
      `tcp://127.0.0.1:${echo.port}`,
      '--connection-log',
      proxyLog,
    ]);
    try {
      const p2 = s2.info.listeners[0]!.port;
      const before = echo.connections.length;
      const r = await nodeExchange(p2, root, clients.device, 'after the header', 'after the header');
      assert.match(r.data, /after the header$/);
      const got = new Uint8Array(Buffer.concat(echo.connections[before]!));
      const parsed = proxyProtocol.V2ProxyProtocol.parse(got);
      assert.equal(parsed.command, proxyProtocol.Command.PROXY);
      assert.equal(parsed.transportProtocol, proxyProtocol.TransportProtocol.STREAM);
      const a = parsed.proxyAddress as InstanceType<typeof proxyProtocol.IPv4ProxyAddress>;
      assert.deepEqual(a.sourceAddress.address, [127, 0, 0, 1]);
      assert.equal(a.sourcePort, r.localPort);
      assert.equal(a.destinationPort, p2);
      assert.equal(Buffer.from(parsed.data ?? new Uint8Array()).toString(), 'after the header');
    } finally {
      await s2.stop();
    }
  });

  it('refuses a non-tcp target and nlb listeners mixed with HTTP ones (exit 2)', async () => {
    const a = await runCli(['serve', '--listen', '0:nlb', '--dir', dir, '--target', 'http://127.0.0.1:1', '--json']);
    assert.equal(a.code, 2);
    assert.equal(a.json.error.code, 'BAD_TARGET');
    const b = await runCli(['serve', '--listen', '0:nlb', '--listen', '0:verify', '--dir', dir, '--json']);
    assert.equal(b.code, 2);
    assert.equal(b.json.error.code, 'MIXED_LISTENERS');
  });
});

describe('PROXY protocol v2 header (lib/nlb/listener.ts) read back by proxy-protocol-js', () => {
  const cases: Array<{name: string; src: string; dst: string; family: 'v4' | 'v6'; srcBytes: number[]}> = [
    {name: 'IPv4', src: '192.0.2.7', dst: '10.0.0.1', family: 'v4', srcBytes: [192, 0, 2, 7]},
    {name: 'IPv4 client on a dual-stack socket', src: '::ffff:192.0.2.7', dst: '::ffff:10.0.0.1', family: 'v4', srcBytes: [192, 0, 2, 7]},
    {name: 'IPv6', src: '2001:db8::1', dst: '::1', family: 'v6', srcBytes: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]},
    {
      name: 'IPv4 client, IPv6 listener: mapped',
      src: '192.0.2.7',
      dst: 'fe80::1%eth0',
      family: 'v6',
      srcBytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const header = buildProxyV2Header({sourceIp: c.src, sourcePort: 51341, destinationIp: c.dst, destinationPort: 443});
      const parsed = proxyProtocol.V2ProxyProtocol.parse(header);
      const a = parsed.proxyAddress as InstanceType<typeof proxyProtocol.IPv4ProxyAddress>;
      assert.equal(a instanceof (c.family === 'v4' ? proxyProtocol.IPv4ProxyAddress : proxyProtocol.IPv6ProxyAddress), true);
      assert.deepEqual(a.sourceAddress.address, c.srcBytes);
      assert.equal(a.sourcePort, 51341);
      assert.equal(a.destinationPort, 443);
      assert.equal(parsed.data?.length ?? 0, 0);
    });
  }
});
