/**
 * deploy and destroy --cloudfront-trust-store take the deploy lease of src/io/aws/lease.ts
 * (`<prefix>locks/cloudfront/<name>.json`) as the ALB path does: two concurrent deploys of
 * one trust store never both upload, create or update it; a live foreign holder is waited
 * for up to --lease-timeout, then exit 4; --dry-run and runs with nothing to change take
 * none. Real SDK against `mtls-kit emulate`'s CloudFront and S3, reached by endpoint URL.
 */
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {readFileSync, readlinkSync} from 'node:fs';
import {hostname} from 'node:os';
import {join} from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import {after, describe, it} from 'node:test';
import {DeleteObjectCommand, PutObjectCommand, S3Client} from '@aws-sdk/client-s3';
import {Ajv2020} from 'ajv/dist/2020.js';
import {emulatorCliEnv} from './support/aws-env.js';
import {startTestEmulator} from './support/emulate.js';
import {runCli} from './support/cli.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const BUCKET = 'pki';
const DIST = 'E1AAAAAAAAAAAA';
const tmp = tempDir('mtls-kit-cloudfront-lease-');
// A new or updated trust store stays pending for delayMs (raised for the race below).
const emu = await startTestEmulator({buckets: [BUCKET], distributions: [DIST], delayMs: 300});

const ca = await makeTestCa(join(tmp, 'pki'), {cn: 'CloudFront Lease Root'});
const other = await makeTestCa(join(tmp, 'other'), {cn: 'CloudFront Lease Other Root'});
const env = emulatorCliEnv(emu.url, tmp);
const deploy = (name: string, args: string[]) =>
  runCli(['deploy', '--dir', ca.dir, '--bucket', BUCKET, '--cloudfront-trust-store', name, '--distribution', DIST, ...args], {env});
const destroy = (name: string, args: string[]) =>
  runCli(['destroy', '--bucket', BUCKET, '--cloudfront-trust-store', name, '--distribution', DIST, '--yes', ...args], {env});
const lockKey = (name: string) => `mtls-kit/locks/cloudfront/${name}.json`;
/** Signed PutObject calls on a key (the lease's conditional writes and renewals). */
const puts = (key: string): number => emu.s3.requests.filter((r) => r.signed && r.method === 'PUT' && r.path === `/${BUCKET}/${key}`).length;
const lockHeld = (name: string): boolean => emu.s3.objectVersions(BUCKET, lockKey(name)).some((v) => !v.deleteMarker);
const creates = (): number => emu.cloudfront.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/trust-store')).length;
const updates = (): number => emu.cloudfront.calls.filter((c) => c.method === 'PUT' && c.path.includes('/trust-store/')).length;
const trustStoresNamed = (name: string) => [...emu.cloudfront.trustStores.values()].filter((t) => t.name === name);

const s3 = new S3Client({region: 'eu-west-1', endpoint: emu.url, forcePathStyle: true, credentials: {accessKeyId: 'test', secretAccessKey: 'test'}});
after(() => s3.destroy());
/** A lease of a live deploy elsewhere (another host: its pid means nothing here). */
const plantForeignLease = (name: string) =>
  s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: lockKey(name),
      ContentType: 'application/json',
      Body: JSON.stringify({
        owner: 'f00dfeedf00dfeedf00dfeedf00dfeed',
        host: 'ci-runner-7',
        pid: 4242,
        pidScope: 'pid:[4026531836]/other-boot',
        started: new Date().toISOString(),
        expires: new Date(Date.now() + 10 * 60_000).toISOString(),
      }),
    }),
  );

/** A lease a deploy left when it was killed: `holder` says whose (expired, or a pid of this host that is gone). */
const plantLease = (name: string, holder: {host: string; pid: number; pidScope: string; expires: string}) =>
  s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: lockKey(name),
      ContentType: 'application/json',
      Body: JSON.stringify({owner: 'deadbeefdeadbeefdeadbeefdeadbeef', started: new Date(Date.now() - 60_000).toISOString(), ...holder}),
    }),
  );
/** destroy's documented --json shape (docs/schemas, generated from CloudfrontDestroyResult). */
const destroySchema = new Ajv2020({allErrors: true, strict: true}).compile(
  JSON.parse(readFileSync(new URL('../docs/schemas/destroy.schema.json', import.meta.url), 'utf8')),
);
const assertShape = (json: unknown): void => assert.ok(destroySchema(json), JSON.stringify(destroySchema.errors));
/** This process's PID namespace and boot, as lease.ts writes them (the CLI it starts shares both). */
const ownPidScope = (): string => `${readlinkSync('/proc/self/ns/pid')}/${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}`;

describe('deploy / destroy --cloudfront-trust-store take the deploy lease', () => {
  it('--dry-run writes no lease; the real run takes <prefix>locks/cloudfront/NAME.json and deletes it; a no-op run takes none', {
    timeout: 120_000,
  }, async () => {
    const dry = await deploy('solo', ['--dry-run', '--json']);
    assert.equal(dry.code, 0, dry.stderr + dry.stdout);
    assert.equal(dry.json.changed, true);
    assert.equal(puts(lockKey('solo')), 0, 'a --dry-run wrote the lease');
    const real = await deploy('solo', ['--json']);
    assert.equal(real.code, 0, real.stderr + real.stdout);
    assert.ok(puts(lockKey('solo')) >= 1, 'the deploy took no lease');
    assert.equal(puts('mtls-kit/locks/solo.json'), 0, "the CloudFront lease is not the ALB trust store's key");
    assert.equal(lockHeld('solo'), false, 'the lease was left behind');
    const mark = puts(lockKey('solo'));
    const again = await deploy('solo', ['--json']);
    assert.equal(again.json.changed, false, again.stdout);
    assert.equal(puts(lockKey('solo')), mark, 'a run with nothing to change took the lease');
  });

  it('two concurrent deploys: one holds the lease, the other waits, reads again and changes nothing; one trust store, one upload', {
    timeout: 120_000,
  }, async () => {
    // The first deploy holds the lease while its trust store is pending: 10 s, so that the
    // second one (a new process) surely reads the state and asks for the lease meanwhile.
    emu.cloudfront.opts.delayMs = 10_000;
    const first = deploy('raced', ['--json']);
    for (let i = 0; i < 400 && trustStoresNamed('raced').length === 0; i++) await sleep(25);
    assert.equal(trustStoresNamed('raced').length, 1, 'the first deploy never created its trust store');
    assert.equal(lockHeld('raced'), true, 'the first deploy holds no lease while it waits for its trust store');
    const second = deploy('raced', []);
    const [a, b] = await Promise.all([first, second]);
    emu.cloudfront.opts.delayMs = 300;
    assert.equal(a.code, 0, a.stderr + a.stdout);
    assert.equal(b.code, 0, b.stderr + b.stdout);
    assert.match(b.stderr, /another deploy of CloudFront trust store raced is running \(pid \d+ on .+\); waiting up to 300s/);
    assert.match(b.stdout, /unchanged/);
    assert.equal(trustStoresNamed('raced').length, 1);
    assert.equal(creates(), 2, 'one CreateTrustStore for "solo", one for "raced"');
    assert.equal(updates(), 0, 'the waiting deploy updated the trust store');
    const bundleKey = a.json.bundle.key as string;
    assert.equal(puts(bundleKey), 1, 'the bundle was uploaded twice');
    assert.equal(lockHeld('raced'), false);
  });

  it('a live foreign holder: deploy and destroy wait --lease-timeout, then exit 4 DEPLOY_LEASE_HELD naming it, and change nothing', {
    timeout: 120_000,
  }, async () => {
    await plantForeignLease('raced');
    const mutating = emu.cloudfront.mutatingCalls().length;
    const d = await deploy('raced', ['--ca-bundle', join(other.dir, 'ca-bundle.pem'), '--lease-timeout', '1', '--json']);
    assert.equal(d.code, 4, d.stderr + d.stdout);
    assert.equal(d.json.error.code, 'DEPLOY_LEASE_HELD');
    assert.match(d.json.error.message, /pid 4242 on ci-runner-7/);
    const x = await destroy('raced', ['--lease-timeout', '1']);
    assert.equal(x.code, 4, x.stderr + x.stdout);
    assert.match(x.stderr, /a deploy of CloudFront trust store raced is running \(pid 4242 on ci-runner-7/);
    assert.match(x.stderr, /another deploy of trust store raced is running \(pid 4242 on ci-runner-7/);
    assert.equal(emu.cloudfront.mutatingCalls().length, mutating, 'a run changed CloudFront while another held the lease');
    assert.equal(trustStoresNamed('raced').length, 1);
    // Once it is gone, destroy goes ahead and leaves no lease.
    await s3.send(new DeleteObjectCommand({Bucket: BUCKET, Key: lockKey('raced')}));
    const gone = await destroy('raced', ['--json']);
    assert.equal(gone.code, 0, gone.stderr + gone.stdout);
    assert.equal(trustStoresNamed('raced').length, 0);
    assert.equal(lockHeld('raced'), false);
  });

  it('destroy lists a lease left by a killed deploy (expired, or its pid gone) and removes it, as the ALB destroy does; a live one is waited for', {
    timeout: 120_000,
  }, async () => {
    const uri = (name: string) => `s3://${BUCKET}/${lockKey(name)}`;
    const real = await deploy('left', ['--json']);
    assert.equal(real.code, 0, real.stderr + real.stdout);
    // 1. Beside the trust store, an expired lease of another host.
    await plantLease('left', {host: 'ci-runner-7', pid: 4242, pidScope: 'pid:[4026531836]/other-boot', expires: new Date(Date.now() - 1000).toISOString()});
    const plan = await destroy('left', ['--dry-run', '--json']);
    assert.equal(plan.code, 0, plan.stderr + plan.stdout);
    assert.equal(plan.json.changed, true);
    assert.deepEqual(plan.json.lease, {key: lockKey('left'), uri: uri('left')});
    assertShape(plan.json);
    assert.match(plan.json.summary, /delete the deploy lease mtls-kit\/locks\/cloudfront\/left\.json/);
    assert.equal(lockHeld('left'), true, 'a --dry-run deleted the lease');
    const gone = await destroy('left', ['--json']);
    assert.equal(gone.code, 0, gone.stderr + gone.stdout);
    assert.deepEqual(gone.json.lease, {key: lockKey('left'), uri: uri('left')});
    assertShape(gone.json);
    assert.equal(trustStoresNamed('left').length, 0);
    assert.equal(lockHeld('left'), false, 'the left-over lease is still there');

    // 2. Nothing else left but the unexpired lease of a deploy on this host whose pid is gone: a change alone.
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    await plantLease('left', {host: hostname(), pid: dead, pidScope: ownPidScope(), expires: new Date(Date.now() + 10 * 60_000).toISOString()});
    const human = await destroy('left', ['--dry-run']);
    assert.equal(human.code, 0, human.stderr + human.stdout);
    assert.match(human.stdout, /would delete the deploy lease mtls-kit\/locks\/cloudfront\/left\.json/);
    const alone = await destroy('left', ['--json']);
    assert.equal(alone.code, 0, alone.stderr + alone.stdout);
    assert.equal(alone.json.changed, true, alone.stdout);
    assert.deepEqual(alone.json.lease, {key: lockKey('left'), uri: uri('left')});
    assert.equal(alone.json.trustStore.action, 'absent');
    assert.equal(lockHeld('left'), false, 'the lease of a killed deploy is still there');
    const mark = puts(lockKey('left'));
    const again = await destroy('left', ['--json']);
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.equal(again.json.changed, false, again.stdout);
    assert.equal(again.json.lease, null);
    assertShape(again.json);
    assert.equal(puts(lockKey('left')), mark, 'a run with nothing left took the lease');

    // 3. A live lease (another host, not expired) alone: listed, then waited for and respected (exit 4, kept).
    await plantForeignLease('left');
    const live = await destroy('left', ['--dry-run', '--json']);
    assert.equal(live.json.changed, true, live.stdout);
    assert.deepEqual(live.json.lease, {key: lockKey('left'), uri: uri('left')});
    const held = await destroy('left', ['--lease-timeout', '1', '--json']);
    assert.equal(held.code, 4, held.stderr + held.stdout);
    assert.equal(held.json.error.code, 'DEPLOY_LEASE_HELD');
    assert.equal(lockHeld('left'), true, 'destroy deleted a live lease');
    await s3.send(new DeleteObjectCommand({Bucket: BUCKET, Key: lockKey('left')}));
  });
});
