/**
 * `deploy --plan FILE`: the saved settings are the truth. Every flag --plan would ignore is
 * refused (exit 2 naming it) before any AWS call, and a plan whose content does not match
 * its digest (edited after --plan-out wrote it) is refused (exit 4). s3rver and the ELBv2
 * emulator through the real SDK.
 */
import assert from 'node:assert/strict';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {type AwsStandIns, startAwsStandIns} from './support/aws-env.js';
import {runCli} from './support/cli.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const BUCKET = 'plan-flags-bucket';
const aws: AwsStandIns = await startAwsStandIns([BUCKET]);
const work = tempDir();
const ca = await makeTestCa(join(work, 'pki'), {cn: 'Plan Flags Root'});
const planFile = join(work, 'plan.json');

/** Each flag deploy --plan would ignore, with a value. */
const IGNORED: string[][] = [
  ['--mode', 'off'],
  ['--trust-store-name', 'other'],
  ['--bucket', 'other-bucket'],
  ['--dir', join(work, 'elsewhere')],
  ['--prefix', 'x/'],
  ['--ca-bundle', join(work, 'pki', 'ca-bundle.pem')],
  ['--crl', join(work, 'x.pem')],
  ['--skip-crl'],
  ['--listener-arn', 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/x/1/2'],
  ['--ignore-client-cert-expiry'],
  ['--advertise-ca-names'],
  ['--identity-filter', 'CN=x'],
  ['--tag', 'a=b'],
  ['--sse', 'AES256'],
  ['--expected-bucket-owner', '123456789012'],
  ['--allow-revocation-gap'],
  ['--revocation-lists-quota', '5'],
  ['--revocation-entries-quota', '5'],
  ['--force'],
  ['--connection-logs', 's3://b/p'],
  ['--apigw-domain', 'api.example.com'],
  ['--api-type', 'rest'],
  ['--truststore-key', 'k.pem'],
  ['--dry-run'],
  ['--exit-code'],
];

describe('deploy --plan: ignored flags and tampered plans are refused', () => {
  it('makes a plan with --plan-out (it carries a digest)', async () => {
    const r = await runCli(['deploy', '--dir', ca.dir, '--trust-store-name', 'plan-flags', '--bucket', BUCKET, '--plan-out', planFile], {env: aws.env});
    assert.equal(r.code, 0, r.stderr);
    assert.match(JSON.parse(readFileSync(planFile, 'utf8')).digest, /^sha256:[0-9a-f]{64}$/);
  });

  it(`each of ${IGNORED.length} flags --plan would ignore: exit 2 naming it, no AWS call`, async () => {
    const before = aws.elb.mutatingCalls().length;
    const queue = [...IGNORED];
    await Promise.all(
      [0, 1].map(async () => {
        for (let f = queue.shift(); f; f = queue.shift()) {
          const r = await runCli(['deploy', '--plan', planFile, ...f], {env: aws.env});
          assert.equal(r.code, 2, `${f.join(' ')}: ${r.stderr}`);
          assert.match(r.stderr, new RegExp(`${f[0]}\\b`), `${f.join(' ')}: ${r.stderr}`);
        }
      }),
    );
    assert.equal(aws.elb.mutatingCalls().length, before);
  });

  it('a plan edited after it was written (mode verify -> off) is refused, exit 4; the untouched plan applies', async () => {
    const text = readFileSync(planFile, 'utf8');
    const edited = JSON.parse(text);
    edited.settings.mutualAuthentication.mode = 'off';
    const tampered = join(work, 'tampered.json');
    writeFileSync(tampered, JSON.stringify(edited, null, 2));
    const before = aws.elb.mutatingCalls().length;
    const r = await runCli(['deploy', '--plan', tampered], {env: aws.env});
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /tampered\.json was changed after it was written: its content does not match its digest/);
    const {digest: _d, ...undigested} = JSON.parse(text);
    writeFileSync(tampered, JSON.stringify(undigested));
    const none = await runCli(['deploy', '--plan', tampered], {env: aws.env});
    assert.equal(none.code, 4, none.stderr);
    assert.match(none.stderr, /has no digest/);
    assert.equal(aws.elb.mutatingCalls().length, before);
    // Honoured flags (AWS context, waiting, output) are accepted; the plan applies.
    const ok = await runCli(['deploy', '--plan', planFile, '--lease-timeout', '30', '--wait-timeout', '60', '--json'], {env: aws.env});
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.json.dryRun, false);
  });
});
