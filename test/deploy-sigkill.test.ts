/**
 * SIGKILL at each mutating point of a deploy converges on re-run. The deploy runs through
 * the fault proxy; at the n-th mutating request (S3 PUT/DELETE, ELBv2 Create/Add/Remove/...)
 * the CLI is killed, either before the request reaches the service or after the service
 * carried it out. Then the same command is run again (exit 0, status in sync) and once more
 * (no mutating call). Bounded: the points of one first deploy, both phases.
 */
import assert from 'node:assert/strict';
import {join} from 'node:path';
import {after, describe, it} from 'node:test';
import {startAwsStandIns} from './support/aws-env.js';
import {runCli} from './support/cli.js';
import {FaultProxy} from './support/fault-proxy.js';
import {runKilledAt} from './support/kill-at.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const BUCKET = 'kill-bucket';
const aws = await startAwsStandIns([BUCKET]);
const proxy = new FaultProxy(aws.s3.url, aws.elb.url);
await proxy.start();
after(() => proxy.stop());
const env: Record<string, string | undefined> = {
  ...aws.env,
  AWS_ENDPOINT_URL: proxy.url,
  AWS_ENDPOINT_URL_S3: proxy.url,
  AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: proxy.url,
  NO_COLOR: '1',
};
const ca = await makeTestCa(join(tempDir(), 'kill'), {cn: 'Kill Root'});
ca.revokeSerial('0D01', 'root');
ca.opensslCrl('root');
// A prefix per trust store: each run uploads its own objects, so every run has the same points.
const args = (name: string): string[] => ['deploy', '--dir', ca.dir, '--trust-store-name', name, '--bucket', BUCKET, '--prefix', `${name}/`, '--json'];

/** Runs deploy and SIGKILLs it at mutating request `point` (1-based) in `phase`; resolves when it exited. */
function deployKilledAt(name: string, point: number, phase: 'before' | 'after'): Promise<{killed: boolean}> {
  return runKilledAt(proxy, args(name), env, point, phase);
}

describe('SIGKILL at each mutating point converges on re-run', () => {
  it('measures the points, kills at each (before and after the service acted), re-runs', async () => {
    const mark = proxy.requests.length;
    const clean = await runCli(args('kill-ref'), {env});
    assert.equal(clean.code, 0, clean.stderr);
    const points = proxy.requests.slice(mark).filter((r) => r.mutating).length;
    assert.ok(points >= 5, `only ${points} mutating requests`);
    let n = 0;
    for (let point = 1; point <= points; point++) {
      for (const phase of ['before', 'after'] as const) {
        const name = `kill-${point}-${phase[0]}`;
        const k = await deployKilledAt(name, point, phase);
        assert.ok(k.killed, `${name}: not killed`);
        n++;
        const again = await runCli(args(name), {env});
        assert.equal(again.code, 0, `${name}: ${again.stderr}${again.stdout}`);
        const s = await runCli(['status', '--dir', ca.dir, '--trust-store-name', name, '--bucket', BUCKET, '--prefix', `${name}/`, '--json'], {env});
        assert.equal(s.code, 0, `${name}: ${s.stdout}`);
        assert.equal(s.json.trustStore.revocationIds.length, 1, name);
        const m = proxy.requests.length;
        const third = await runCli(args(name), {env});
        assert.equal(third.json.changed, false, `${name}: ${third.stdout}`);
        assert.deepEqual(
          proxy.requests
            .slice(m)
            .filter((r) => r.mutating)
            .map((r) => r.action),
          [],
          name,
        );
      }
    }
    assert.equal(n, points * 2);
  });
});
