import assert from 'node:assert/strict';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {startAwsStandIns} from './support/aws-env.js';
import {runCli} from './support/cli.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

// The whole path with mtls-kit's own tools: gen-ca, gen-client, revoke, crl, then deploy
// with its defaults (the CA directory's ca-bundle.pem and current CRLs).
const BUCKET = 'pipeline';
const aws = await startAwsStandIns([BUCKET]);
const tmp = tempDir();
const dirCa = await makeTestCa(join(tmp, 'pki'), {cn: 'Deploy Test Root', intermediate: true});
const dir = dirCa.dir;
const ok = async (args: string[]) => {
  const r = await runCli(args, {env: aws.env});
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r;
};

describe('gen-client → revoke → crl → deploy (defaults)', () => {
  it('deploys the CRLs `mtls-kit crl` writes, and a rotation after another revoke', async () => {
    const client = await ok(['gen-client', '--dir', dir, '--out', join(tmp, 'clients'), '--cn', 'device-{n}', '--count', '2', '--json']);
    const serials: string[] = client.json.certificates.map((c: {serial: string}) => c.serial);
    assert.equal(serials.length, 2);
    await ok(['revoke', '--dir', dir, serials[0]!]);
    await ok(['crl', '--dir', dir]);
    await ok(['crl', '--dir', dir, '--issuer', 'root']);
    const first = await ok(['deploy', '--dir', dir, '--trust-store-name', 'pipeline', '--bucket', BUCKET, '--json']);
    assert.deepEqual(
      first.json.uploads.map((u: {kind: string}) => u.kind),
      ['bundle', 'crl', 'crl'],
    );
    assert.equal(first.json.trustStore.totalRevokedEntries, 1);
    assert.equal(first.json.revocations.added.length, 2);

    await ok(['revoke', '--dir', dir, serials[1]!]);
    await ok(['crl', '--dir', dir]);
    const second = await ok(['deploy', '--dir', dir, '--trust-store-name', 'pipeline', '--bucket', BUCKET, '--json']);
    assert.equal(second.json.revocations.added.length, 1);
    assert.equal(second.json.revocations.removed.length, 1);
    assert.equal(second.json.revocations.unchanged.length, 1);
    assert.equal(second.json.trustStore.totalRevokedEntries, 2);
    const status = await runCli(['status', '--dir', dir, '--trust-store-name', 'pipeline', '--bucket', BUCKET, '--json'], {env: aws.env});
    assert.equal(status.code, 0, status.stdout);
  });
});
