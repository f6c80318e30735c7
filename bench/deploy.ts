/**
 * Deploy area: a no-op `deploy` against a trust store holding 30 CRLs of 500,000 entries each
 * (s3rver and the ELBv2 emulator on 127.0.0.1, reached through a byte-counting TCP proxy),
 * with the records deploy keeps on the trust store, side by side with the behaviour before
 * them (`--refresh`: download and parse everything the trust store holds, as every run did).
 *
 * Setup: a CA directory whose intermediate CRL holds 500,000 entries (deployed by a first
 * `deploy --crl`; lint refuses local CRLs that total more than 500,000), plus 29 lists of
 * another issuer's 500,000-entry CRL put straight into the emulator's trust store (issuers
 * without a local CRL: deploy keeps them): 30 lists of 500,000 entries. The quotas are
 * raised with --revocation-entries-quota, as an account with a raised quota would.
 */
import {spawn, spawnSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {createServer, type Server, connect} from 'node:net';
import {join} from 'node:path';
import {Elbv2Emulator} from '../test/support/elbv2-emulator.js';
import {startS3} from '../test/support/s3-server.js';
import {summarizeCrl} from '../src/lib/deploy/crl-summary.js';
import {writeIndexFile} from './crl.js';
import {type BenchContext, BIN, type BenchRow, fmt} from './lib.js';

const BUCKET = 'bench-bucket';

/** A TCP proxy to 127.0.0.1:port that counts the bytes in both directions. */
async function countingProxy(port: number): Promise<{url: string; bytes: () => number; reset: () => void; close: () => Promise<void>}> {
  let bytes = 0;
  const server: Server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    client.on('data', (d: Buffer) => (bytes += d.length));
    upstream.on('data', (d: Buffer) => (bytes += d.length));
    client.pipe(upstream).pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as {port: number};
  return {
    url: `http://127.0.0.1:${address.port}`,
    bytes: () => bytes,
    reset: () => (bytes = 0),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as Server & {closeAllConnections?: () => void}).closeAllConnections?.();
      }),
  };
}

/** Runs the CLI without blocking this process's event loop (the servers live here). */
function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ms: number; stdout: string}> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [BIN, ...args], {env, stdio: ['ignore', 'pipe', 'pipe']});
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) reject(new Error(`mtls-kit ${args[0]} failed (${code}): ${(Buffer.concat(err).toString() + Buffer.concat(out).toString()).slice(-300)}`));
      else resolve({ms, stdout: Buffer.concat(out).toString('utf8')});
    });
  });
}

/** A CA directory (root + intermediate) whose intermediate CRL holds n entries. */
function caWithBigCrls(dir: string, cn: string, n: number): void {
  const ok = (args: string[]): void => {
    const r = spawnSync(process.execPath, [BIN, ...args], {encoding: 'utf8'});
    if (r.status !== 0) throw new Error(`mtls-kit ${args.join(' ')} failed: ${r.stderr.slice(-400)}`);
  };
  ok(['gen-ca', '--dir', dir, '--intermediate', '--cn', cn]);
  writeIndexFile(join(dir, 'intermediate', 'index.txt'), n);
  ok(['crl', '--dir', dir, '--issuer', 'intermediate']);
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const n = ctx.quick ? 50_000 : 500_000;
  const label = ctx.quick ? '50k' : '500k';
  const pki = join(ctx.work, 'pki');
  const other = join(ctx.work, 'other');
  caWithBigCrls(pki, 'Bench Deploy Root', n);
  caWithBigCrls(other, 'Other Team Root', n);
  const otherCrl = readFileSync(join(other, 'intermediate/crl.pem'));
  const otherEntries = summarizeCrl(otherCrl, 'other').entries;

  const s3 = await startS3([BUCKET]);
  const elb = new Elbv2Emulator({s3Endpoint: s3.url, activationDelayMs: 0, maxRevocationEntries: 30 * n, maxRevocationLists: 30});
  await elb.start();
  const s3Proxy = await countingProxy(Number(new URL(s3.url).port));
  const elbProxy = await countingProxy(Number(new URL(elb.url).port));
  // The pre-signed links the emulator hands out go through the proxy too.
  elb.url = elbProxy.url;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: elbProxy.url,
    AWS_ENDPOINT_URL_S3: s3Proxy.url,
    AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: elbProxy.url,
    AWS_CONFIG_FILE: join(ctx.work, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(ctx.work, 'aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    MTLS_KIT_POLL_INTERVAL_MS: '20',
    NO_COLOR: '1',
  };
  const args = [
    'deploy',
    '--dir',
    pki,
    '--crl',
    join(pki, 'intermediate/crl.pem'),
    '--trust-store-name',
    'bench',
    '--bucket',
    BUCKET,
    '--revocation-entries-quota',
    String(30 * n),
    '--json',
  ];
  try {
    await cli(args, env);
    elb.seedRevocations('bench', otherCrl, otherEntries, 29);
    // One run writes the records of the 28 seeded lists (they were not put there by deploy).
    await cli(args, env);

    const measure = async (extra: string[]): Promise<{ms: number; bytes: number; read: unknown}> => {
      const ms: number[] = [];
      let bytes = 0;
      let read: unknown;
      for (let i = 0; i < 3; i++) {
        s3Proxy.reset();
        elbProxy.reset();
        const r = await cli([...args, ...extra], env);
        const j = JSON.parse(r.stdout) as {changed: boolean; trustStore: {read: unknown}};
        if (j.changed) throw new Error('the no-op deploy planned changes');
        read = j.trustStore.read;
        ms.push(r.ms);
        bytes = s3Proxy.bytes() + elbProxy.bytes();
      }
      ms.sort((a, b) => a - b);
      return {ms: ms[1]!, bytes, read};
    };
    const ours = await measure([]);
    const before = await measure(['--refresh']);
    const kb = (b: number): string => (b < 1024 * 1024 ? `${fmt(b / 1024, 1)} KB` : `${fmt(b / 1048576, 1)} MB`);
    return [
      {
        name: `deploy: no-op, 30 CRLs x ${label} entries`,
        mtlsKit: `${fmt(ours.ms / 1000, 2)} s, ${kb(ours.bytes)} transferred`,
        peer: `before records (--refresh) ${fmt(before.ms / 1000, 2)} s, ${kb(before.bytes)}`,
        ratio: `${fmt(before.ms / ours.ms, 1)}x faster, ${fmt(before.bytes / ours.bytes, 0)}x fewer bytes`,
        target: '< 2 s, < 100 KB',
        ok: ours.ms < 2000 && ours.bytes < 100 * 1024,
      },
    ];
  } finally {
    await s3Proxy.close();
    await elbProxy.close();
    await elb.stop();
    await s3.stop();
  }
}
