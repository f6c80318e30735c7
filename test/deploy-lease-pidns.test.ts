/**
 * The deploy lease across PID namespaces (host-network containers, CI runners): two
 * deploys of one trust store on the same hostname, each in its own PID namespace
 * (`unshare -p -f --mount-proc`, root as in CI), never both hold the lease. The holder's
 * pid does not exist in the other namespace; a lease keyed on hostname + pid was taken
 * over at once, and both created the trust store (one failed, exit 5). The owner is a
 * random token, so the second waits, reads the state again and plans from it.
 */
import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {startAwsStandIns} from './support/aws-env.js';
import {BIN} from './support/cli.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['-p', '-f', '--mount-proc', 'true']).status === 0;

const BUCKET = 'pidns-bucket';

/** Runs `mtls-kit deploy` as the `pad`+2-th process of a fresh PID namespace; resolves with its exit code and stderr. */
function deployInNamespace(
  args: string[],
  env: Record<string, string | undefined>,
  pad: number,
): Promise<{code: number | null; stderr: string; pidLine: string}> {
  // /bin/true `pad` times first, so the two deploys get different pids in their namespaces
  // (the holder's pid then names no process in the other one).
  const script = `${'/bin/true; '.repeat(pad)}"$0" "$@" & p=$!; echo "pid $p" >&2; wait $p`;
  const e: Record<string, string> = {};
  for (const [k, v] of Object.entries({...process.env, NO_COLOR: '1', ...env})) if (v !== undefined) e[k] = v;
  return new Promise((resolve) => {
    const child = spawn('unshare', ['-p', '-f', '--mount-proc', 'sh', '-c', script, process.execPath, BIN, 'deploy', ...args], {
      env: e,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({code, stderr, pidLine: /pid \d+/.exec(stderr)?.[0] ?? ''});
    });
  });
}

describe('deploy lease across PID namespaces', {skip: canUnshare ? false : 'needs root and unshare -p (as in CI)'}, () => {
  it('two deploys in separate PID namespaces never both hold the lease', async () => {
    // CREATING lasts 1.5 s: the first holder keeps the lease that long, so the runs overlap.
    const aws = await startAwsStandIns([BUCKET], {activationDelayMs: 1500});
    {
      const ca = await makeTestCa(join(tempDir(), 'pidns'), {cn: 'PID Namespace Root'});
      const older = join(ca.dir, 'older');
      const newer = join(ca.dir, 'newer');
      mkdirSync(older);
      mkdirSync(newer);
      ca.revokeSerial('0D01', 'root');
      writeFileSync(join(older, 'crl.pem'), ca.opensslCrl('root'));
      ca.revokeSerial('0D02', 'root');
      writeFileSync(join(newer, 'crl.pem'), ca.opensslCrl('root'));
      const args = (crl: string): string[] => ['--dir', ca.dir, '--trust-store-name', 'pidns', '--bucket', BUCKET, '--crl', join(crl, 'crl.pem')];
      const [a, b] = await Promise.all([deployInNamespace(args(older), aws.env, 0), deployInNamespace(args(newer), aws.env, 4)]);
      assert.notEqual(a.pidLine, b.pidLine, 'the deploys have different pids in their namespaces');
      // Had both held the lease, both would create the trust store: one is refused (exit 5).
      assert.equal(aws.elb.served('CreateTrustStore').filter((c) => c.params.Name === 'pidns').length, 1, `${a.stderr}\n${b.stderr}`);
      for (const r of [a, b]) assert.ok(r.code === 0 || (r.code === 4 && /newer CRL|REMOTE_CRL_NEWER|already holds a newer/.test(r.stderr)), r.stderr);
      assert.ok(
        [a, b].some((r) => /another deploy of pidns is running/.test(r.stderr)),
        `one of them waited for the other:\n${a.stderr}\n${b.stderr}`,
      );
    }
  });
});
