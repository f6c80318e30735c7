import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {mapAwsError} from '../src/io/aws/clients.js';
import type {CrlSummary} from '../src/lib/deploy/crl-summary.js';
import {checkTrustStoreName, contentKey, type LocalState, planDeploy, type RemoteState} from '../src/lib/deploy/plan.js';
import {bundleDigest, decodeCrlRecord, encodeCrlRecord, planTagChanges} from '../src/lib/deploy/record.js';
import {isMtlsKitError} from '../src/lib/errors.js';

const issuerA = new Uint8Array([0x30, 0x01, 0x41]);
const issuerB = new Uint8Array([0x30, 0x01, 0x42]);
const crl = (issuer: Uint8Array, n: number, sha: string): CrlSummary => ({
  issuer,
  issuerDn: issuer === issuerA ? 'CN=A' : 'CN=B',
  issuerId: issuer === issuerA ? 'a'.repeat(32) : 'b'.repeat(32),
  crlNumber: String(n),
  thisUpdate: new Date(Date.UTC(2026, 0, n)),
  nextUpdate: new Date(Date.UTC(2026, 1, n)),
  entries: n,
  signatureAlgorithm: {oid: '1.2.840.10045.4.3.2', name: 'ecdsa-with-SHA256', hash: 'sha256'},
  der: new Uint8Array(),
  sha256: sha,
  pem: true,
});

const local = (over: Partial<LocalState> = {}): LocalState => ({
  trustStoreName: 'ts',
  objects: [
    {kind: 'bundle', path: 'ca-bundle.pem', key: 'p/ca-bundle-1.pem', md5: 'aa'},
    {kind: 'crl', path: 'root/crl.pem', key: 'p/root-crl-2.pem', md5: 'bb'},
  ],
  bundleCertificates: ['c1', 'c2'],
  crls: [{path: 'root/crl.pem', key: 'p/root-crl-2.pem', summary: crl(issuerA, 2, 'sha-a2')}],
  listeners: [{kind: 'existing', listenerArn: 'arn:listener'}],
  mutualAuthentication: {mode: 'verify', ignoreClientCertificateExpiry: false, advertiseTrustStoreCaNames: 'off'},
  ...over,
});

const inSync = (): RemoteState => ({
  objects: [
    {key: 'p/ca-bundle-1.pem', exists: true, etag: 'AA'},
    {key: 'p/root-crl-2.pem', exists: true, etag: 'bb'},
  ],
  trustStore: {
    arn: 'arn:ts',
    status: 'ACTIVE',
    numberOfCaCertificates: 2,
    totalRevokedEntries: 2,
    bundleCertificates: ['c1', 'c2'],
    revocations: [{revocationId: 4, entries: 2, summary: crl(issuerA, 2, 'sha-a2')}],
  },
  listeners: [
    {
      arn: 'arn:listener',
      protocol: 'HTTPS',
      port: 443,
      mutualAuthentication: {mode: 'verify', trustStoreArn: 'arn:ts', ignoreClientCertificateExpiry: false, advertiseTrustStoreCaNames: 'off'},
    },
  ],
});

describe('planDeploy', () => {
  it('plans nothing when everything matches', () => {
    const p = planDeploy(local(), inSync());
    assert.equal(p.changes, false);
    assert.deepEqual(
      p.uploads.map((u) => u.action),
      ['unchanged', 'unchanged'],
    );
    assert.equal(p.trustStore.action, 'unchanged');
    assert.deepEqual(p.revocations.unchanged, [{path: 'root/crl.pem', revocationId: 4}]);
    assert.equal(p.listeners[0]!.action, 'unchanged');
  });

  it('creates everything on an empty account', () => {
    const p = planDeploy(local(), {objects: [], trustStore: null, listeners: [null]});
    assert.equal(p.trustStore.action, 'create');
    assert.equal(p.revocations.add.length, 1);
    assert.equal(p.listeners[0]!.action, 'modify');
    assert.equal(p.listeners[0]!.to.trustStoreArn, null);
    assert.deepEqual(
      p.uploads.map((u) => u.action),
      ['upload', 'upload'],
    );
  });

  it('re-uploads an object whose ETag differs, and keeps the VersionId of unchanged ones (versioned bucket)', () => {
    const r = inSync();
    r.objects = [
      {key: 'p/ca-bundle-1.pem', exists: true, etag: 'aa', versionId: 'v-123'},
      {key: 'p/root-crl-2.pem', exists: true, etag: 'tampered'},
    ];
    const p = planDeploy(local(), r);
    assert.deepEqual(
      p.uploads.map((u) => [u.action, u.versionId]),
      [
        ['unchanged', 'v-123'],
        ['upload', undefined],
      ],
    );
  });

  it('modifies the trust store only when the certificates differ', () => {
    const r = inSync();
    r.trustStore!.bundleCertificates = ['c1'];
    const p = planDeploy(local(), r);
    assert.equal(p.trustStore.action, 'modify');
    assert.equal(p.listeners[0]!.action, 'unchanged');
  });

  it('compares bundles as sets: a reordered or de-duplicated copy is unchanged', () => {
    for (const held of [
      ['c2', 'c1'],
      ['c1', 'c2', 'c1'],
    ]) {
      const r = inSync();
      r.trustStore!.bundleCertificates = held;
      assert.equal(planDeploy(local(), r).trustStore.action, 'unchanged', held.join());
    }
  });

  it('trusts a recorded bundle digest when the copy was not downloaded', () => {
    const r = inSync();
    r.trustStore!.bundleCertificates = null;
    r.trustStore!.bundleDigest = bundleDigest(['c2', 'c1']);
    assert.equal(planDeploy(local(), r).trustStore.action, 'unchanged');
    r.trustStore!.bundleDigest = bundleDigest(['c1']);
    assert.equal(planDeploy(local(), r).trustStore.action, 'modify');
  });

  it('adds a newer CRL and removes the older one of the same issuer; lists of other issuers are kept', () => {
    const r = inSync();
    r.trustStore!.revocations = [
      {revocationId: 4, entries: 1, summary: crl(issuerA, 1, 'sha-a1')},
      {revocationId: 5, entries: 9, summary: crl(issuerB, 7, 'sha-b7')},
      {revocationId: 6, entries: 0, summary: null},
    ];
    const p = planDeploy(local(), r);
    assert.deepEqual(
      p.revocations.add.map((a) => a.path),
      ['root/crl.pem'],
    );
    assert.deepEqual(
      p.revocations.remove.map((x) => x.revocationId),
      [4],
    );
    assert.deepEqual(p.revocations.kept, [5, 6]);
  });

  it('refuses to roll a CRL back when the trust store holds a newer one (exit 4)', () => {
    const r = inSync();
    r.trustStore!.revocations = [{revocationId: 9, entries: 3, summary: crl(issuerA, 3, 'sha-a3')}];
    assert.throws(
      () => planDeploy(local(), r),
      (e: unknown) => isMtlsKitError(e) && e.code === 'REMOTE_CRL_NEWER' && e.exitCode === 4,
    );
  });

  it('modifies the listener when any MutualAuthentication field differs', () => {
    for (const change of [{mode: 'passthrough', trustStoreArn: null}, {ignoreClientCertificateExpiry: true}, {advertiseTrustStoreCaNames: 'on'}] as const) {
      const r = inSync();
      Object.assign(r.listeners[0]!.mutualAuthentication, change);
      assert.equal(planDeploy(local(), r).listeners[0]!.action, 'modify', JSON.stringify(change));
    }
    const off = local({mutualAuthentication: {mode: 'off', ignoreClientCertificateExpiry: false, advertiseTrustStoreCaNames: 'off'}});
    const r = inSync();
    r.listeners[0]!.mutualAuthentication = {mode: 'off', trustStoreArn: null, ignoreClientCertificateExpiry: false, advertiseTrustStoreCaNames: 'off'};
    assert.equal(planDeploy(off, r).listeners[0]!.action, 'unchanged');
  });

  it('refuses to repoint a listener that verifies against another trust store, unless forced', () => {
    const r = inSync();
    r.listeners[0]!.mutualAuthentication.trustStoreArn = 'arn:other';
    assert.throws(
      () => planDeploy(local(), r),
      (e: unknown) => isMtlsKitError(e) && e.code === 'LISTENER_USES_OTHER_TRUST_STORE' && e.exitCode === 4 && /--force/.test(e.suggestions.join()),
    );
    const p = planDeploy(local(), r, {force: true});
    assert.equal(p.listeners[0]!.action, 'modify');
    assert.equal(p.listeners[0]!.from!.trustStoreArn, 'arn:other');
  });

  it('plans each of several listeners', () => {
    const l = local({
      listeners: [
        {kind: 'existing', listenerArn: 'arn:listener'},
        {kind: 'existing', listenerArn: 'arn:l2'},
      ],
    });
    const r = inSync();
    r.listeners.push({
      arn: 'arn:l2',
      protocol: 'HTTPS',
      port: 8443,
      mutualAuthentication: {mode: 'off', trustStoreArn: null, ignoreClientCertificateExpiry: false, advertiseTrustStoreCaNames: 'off'},
    });
    const p = planDeploy(l, r);
    assert.deepEqual(
      p.listeners.map((x) => [x.arn, x.action]),
      [
        ['arn:listener', 'unchanged'],
        ['arn:l2', 'modify'],
      ],
    );
    assert.equal(p.changes, true);
  });
});

describe('quota-aware revocation order', () => {
  // Two issuers, each rotating from an old list (in the store) to a new one (local).
  const rotation = (entries: number) => {
    const l = local({
      crls: [
        {path: 'root/crl.pem', key: 'k1', summary: {...crl(issuerA, 2, 'sha-a2'), entries}},
        {path: 'intermediate/crl.pem', key: 'k2', summary: {...crl(issuerB, 2, 'sha-b2'), entries}},
      ],
    });
    const r = inSync();
    r.trustStore!.revocations = [
      {revocationId: 1, entries, summary: {...crl(issuerA, 1, 'sha-a1'), entries}},
      {revocationId: 2, entries, summary: {...crl(issuerB, 1, 'sha-b1'), entries}},
    ];
    return {l, r};
  };

  it('adds everything, then removes, when the quotas allow it', () => {
    const {l, r} = rotation(100);
    const p = planDeploy(l, r);
    assert.equal(p.revocations.order, 'add-then-remove');
    assert.deepEqual(
      p.revocations.steps.map((s) => s.kind),
      ['add', 'add', 'remove'],
    );
    assert.deepEqual(p.revocations.count.peak, {lists: 4, entries: 400});
    assert.deepEqual(p.revocations.count.after, {lists: 2, entries: 200});
  });

  it('rotates issuer by issuer (still no gap) when adding everything first would exceed a quota', () => {
    const {l, r} = rotation(100);
    const p = planDeploy(l, r, {quotas: {lists: 3, entries: 1000}});
    assert.equal(p.revocations.order, 'per-issuer');
    assert.deepEqual(
      p.revocations.steps.map((s) => s.kind),
      ['add', 'remove', 'add', 'remove'],
    );
    assert.deepEqual(p.revocations.count.peak, {lists: 3, entries: 300});
  });

  it('stops and explains when only a remove-first rotation fits (two 260k-entry CRLs under 500,000)', () => {
    const l = local({crls: [{path: 'root/crl.pem', key: 'k1', summary: {...crl(issuerA, 2, 'sha-a2'), entries: 260_000}}]});
    const r = inSync();
    r.trustStore!.revocations = [{revocationId: 7, entries: 260_000, summary: {...crl(issuerA, 1, 'sha-a1'), entries: 260_000}}];
    assert.throws(
      () => planDeploy(l, r),
      (e: unknown) =>
        isMtlsKitError(e) &&
        e.code === 'REVOCATION_ROTATION_EXCEEDS_QUOTA' &&
        e.exitCode === 4 &&
        /520,000 entries at once; the trust store's quotas are 30 lists and 500,000 entries/.test(e.message) &&
        /--allow-revocation-gap/.test(e.suggestions.join()),
    );
    const p = planDeploy(l, r, {allowRevocationGap: true});
    assert.equal(p.revocations.order, 'remove-first');
    assert.deepEqual(p.revocations.steps, [
      {kind: 'remove', revocationIds: [7], supersededBy: 'root/crl.pem'},
      {kind: 'add', path: 'root/crl.pem'},
    ]);
    assert.deepEqual(p.revocations.count.peak, {lists: 1, entries: 260_000});
  });

  it('stops when even the final state exceeds a quota, gap or not', () => {
    const l = local({crls: [{path: 'root/crl.pem', key: 'k1', summary: {...crl(issuerA, 2, 'sha-a2'), entries: 600_000}}]});
    const r = inSync();
    r.trustStore!.revocations = [];
    assert.throws(
      () => planDeploy(l, r, {allowRevocationGap: true}),
      (e: unknown) => isMtlsKitError(e) && e.code === 'REVOCATION_QUOTA_EXCEEDED' && /L-37E1617B/.test(e.suggestions.join()),
    );
  });

  it('counts lists too (30 by default)', () => {
    const l = local();
    const r = inSync();
    r.trustStore!.revocations = Array.from({length: 30}, (_, i) => ({revocationId: i + 10, entries: 1, summary: i === 0 ? crl(issuerA, 1, 'sha-a1') : null}));
    assert.throws(
      () => planDeploy(l, r),
      (e: unknown) => isMtlsKitError(e) && e.code === 'REVOCATION_ROTATION_EXCEEDS_QUOTA' && /31 list/.test(e.message),
    );
    assert.equal(planDeploy(l, r, {allowRevocationGap: true}).revocations.count.after.lists, 30);
  });
});

describe('deploy records (trust-store tags)', () => {
  it('round-trips the bundle and CRL records within AWS tag rules', () => {
    const facts = {...crl(issuerA, 12345, 'f'.repeat(64))};
    const value = encodeCrlRecord(facts);
    assert.ok(value.length <= 256);
    assert.match(value, /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u);
    const back = decodeCrlRecord(value)!;
    assert.deepEqual(
      [back.sha256, back.issuerId, back.crlNumber, back.thisUpdate.getTime(), back.entries],
      [facts.sha256, facts.issuerId, '12345', facts.thisUpdate.getTime(), facts.entries],
    );
    assert.equal(decodeCrlRecord('v2:whatever'), null);
  });

  it('removes records of removed lists and keeps within 50 tags', () => {
    const current = [
      {key: 'team', value: 'x'},
      {key: 'mtls-kit:crl:1', value: 'old'},
    ];
    const revocations = Array.from({length: 60}, (_, i) => ({revocationId: i + 2, facts: crl(issuerA, 1, 'e'.repeat(64))}));
    const c = planTagChanges({current, user: [{key: 'team', value: 'y'}], bundle: {count: 2, digest: '0'.repeat(64), etag: 'abc'}, revocations});
    assert.deepEqual(c.remove, ['mtls-kit:crl:1']);
    assert.ok(c.add.some((t) => t.key === 'team' && t.value === 'y'));
    assert.equal(c.add.length, 1 + 1 + 48); // team, bundle, and records up to 50 tags
    assert.equal(c.skipped, 12);
  });
});

describe('deploy-plan helpers', () => {
  it('checks the trust-store name as ALB does', () => {
    for (const ok of ['a', 'my-store', 'A1-b2-C3', 'x'.repeat(32)]) assert.equal(checkTrustStoreName(ok), null, ok);
    for (const bad of ['', '-a', 'a-', 'a--b', 'a_b', 'a.b', 'x'.repeat(33)]) assert.notEqual(checkTrustStoreName(bad), null, bad);
  });

  it('builds content-addressed keys', () => {
    assert.equal(contentKey('p', 'ca-bundle', 'abcdef0123456789ffff'), 'p/ca-bundle-abcdef0123456789.pem');
    assert.equal(contentKey('', 'x', '0'.repeat(64)), 'x-0000000000000000.pem');
  });
});

describe('mapAwsError', () => {
  const sdkError = (name: string, status = 400, message = 'm') =>
    Object.assign(new Error(message), {name, $fault: 'client', $metadata: {httpStatusCode: status, requestId: 'req-123', attempts: 1}});
  const cases: Array<[string, string, RegExp, number]> = [
    ['TooManyTrustStoresException', 'TOO_MANY_TRUST_STORES', /L-A8F7060B/, 5],
    ['TrustStoreNotReadyException', 'TRUST_STORE_NOT_READY', /--wait-timeout/, 5],
    ['TrustStoreInUseException', 'TRUST_STORE_IN_USE', /describe-trust-store-associations/, 5],
    ['InvalidRevocationContentException', 'CRL_REJECTED', /mtls-kit lint root\/crl\.pem/, 5],
    ['NoSuchBucket', 'S3_BUCKET_NOT_FOUND', /aws s3 mb s3:\/\/b/, 5],
    ['AccessDenied', 'AWS_ACCESS_DENIED', /allow s3:PutObject/, 5],
    ['CredentialsProviderError', 'AWS_CREDENTIALS_MISSING', /AWS_PROFILE/, 4],
  ];
  for (const [name, code, suggestion, exit] of cases) {
    it(`${name} → ${code} (exit ${exit}), request id kept`, () => {
      const e = mapAwsError(sdkError(name), {action: 's3:PutObject', resource: 's3://b/k', file: 'root/crl.pem'});
      assert.equal(e.code, code);
      assert.equal(e.exitCode, exit);
      assert.match(e.suggestions.join('\n'), suggestion);
      assert.match(e.message, /request id req-123/);
      assert.equal(e.details?.requestId, 'req-123');
    });
  }

  it('names the refused action for AccessDenied', () => {
    assert.match(
      mapAwsError(sdkError('AccessDenied', 403), {action: 'elasticloadbalancing:CreateTrustStore', resource: 'ts'}).message,
      /^AWS refused elasticloadbalancing:CreateTrustStore on ts/,
    );
  });

  it('reports 5xx and throttling after the SDK gave up', () => {
    assert.equal(mapAwsError(sdkError('ServiceUnavailable', 503), {action: 'x'}).code, 'AWS_SERVER_ERROR');
    assert.equal(mapAwsError(sdkError('Throttling', 400), {action: 'x'}).code, 'AWS_THROTTLED');
  });
});
