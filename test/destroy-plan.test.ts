/** planDestroy (src/lib/deploy/destroy-plan.ts): table-driven, no AWS. */
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {type DestroyState, planDestroy} from '../src/lib/deploy/destroy-plan.js';
import type {MutualAuthentication, RemoteListener} from '../src/lib/deploy/plan.js';

const TS = 'arn:aws:elasticloadbalancing:us-east-1:111122223333:truststore/devices/aaaa';
const OTHER = 'arn:aws:elasticloadbalancing:us-east-1:111122223333:truststore/theirs/bbbb';
const L1 = 'arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/a/1/1';
const L2 = 'arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/a/1/2';
const mutual = (mode: MutualAuthentication['mode'], trustStoreArn: string | null = null): MutualAuthentication => ({
  mode,
  trustStoreArn,
  ignoreClientCertificateExpiry: false,
  advertiseTrustStoreCaNames: 'off',
});
const listener = (arn: string, m: MutualAuthentication): RemoteListener => ({arn, protocol: 'HTTPS', port: 443, mutualAuthentication: m});
const state = (over: Partial<DestroyState> = {}): DestroyState => ({
  trustStore: {arn: TS, name: 'devices', status: 'ACTIVE', deployed: true, revocations: [{revocationId: 3, entries: 10}]},
  named: [],
  users: [],
  unreadable: [],
  objects: null,
  lease: null,
  ...over,
});
const opts = {force: false, allObjects: false};
const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    return (error as {code: string; exitCode: number}).exitCode === 4 ? (error as {code: string}).code : `exit ${(error as {exitCode: number}).exitCode}`;
  }
  return 'ok';
};

describe('planDestroy', () => {
  it('detaches a named listener that verifies against the trust store; the rest is left', () => {
    const p = planDestroy(
      'devices',
      state({
        named: [
          {arn: L1, listener: listener(L1, mutual('verify', TS))},
          {arn: L2, listener: listener(L2, mutual('passthrough'))},
          {arn: 'gone', listener: null},
        ],
        users: [L1],
      }),
      opts,
    );
    assert.deepEqual(
      p.listeners.map((l) => l.action),
      ['detach', 'unchanged', 'absent'],
    );
    assert.deepEqual(p.listeners[0]!.after, mutual('off'));
    assert.equal(p.listeners[1]!.reason, 'Mode=passthrough uses no trust store');
    assert.deepEqual(p.revocations, [{revocationId: 3, entries: 10}]);
    assert.deepEqual(p.trustStore, {action: 'delete', arn: TS});
    assert.equal(p.changes, true);
  });

  for (const [name, s, o, expected] of [
    ['a trust store without deploy records', state({trustStore: {...state().trustStore!, deployed: false}}), opts, 'TRUST_STORE_NOT_DEPLOYED'],
    ['... with --force', state({trustStore: {...state().trustStore!, deployed: false}}), {...opts, force: true}, 'ok'],
    ['a listener not named uses it', state({users: [L1]}), opts, 'TRUST_STORE_USED_BY_OTHER_LISTENERS'],
    ['... even with --force', state({users: [L1]}), {...opts, force: true}, 'TRUST_STORE_USED_BY_OTHER_LISTENERS'],
    ['a load balancer whose listeners could not be read', state({unreadable: ['arn:lb']}), opts, 'TRUST_STORE_USED_BY_OTHER_LISTENERS'],
    [
      'a named listener of another trust store',
      state({named: [{arn: L1, listener: listener(L1, mutual('verify', OTHER))}]}),
      opts,
      'LISTENER_USES_OTHER_TRUST_STORE',
    ],
    [
      'a named verifying listener when the trust store is gone',
      state({trustStore: null, named: [{arn: L1, listener: listener(L1, mutual('verify', OTHER))}]}),
      opts,
      'LISTENER_USES_OTHER_TRUST_STORE',
    ],
    ['users of a trust store that is gone do not matter', state({trustStore: null, users: [L1]}), opts, 'ok'],
  ] as const) {
    it(`${name}: ${expected}`, () =>
      assert.equal(
        code(() => planDestroy('devices', s, o)),
        expected,
      ));
  }

  it('objects: what the trust store holds is deleted, the rest kept unless --all-objects', () => {
    const objects = [
      {key: 'p/ca-bundle-0000000000000001.pem', holds: 'bundle' as const, versionId: null},
      {key: 'p/root-crl-0000000000000002.pem', holds: 'crl' as const, versionId: null},
      {key: 'p/root-crl-0000000000000003.pem', holds: null, versionId: null},
    ];
    const p = planDestroy('devices', state({objects}), opts);
    assert.deepEqual(
      p.objects!.delete.map((o) => o.key),
      objects.slice(0, 2).map((o) => o.key),
    );
    assert.deepEqual(
      p.objects!.keep.map((o) => o.key),
      [objects[2]!.key],
    );
    const all = planDestroy('devices', state({objects}), {...opts, allObjects: true});
    assert.equal(all.objects!.delete.length, 3);
  });

  it('nothing left: no changes; a left-over lease alone is a change', () => {
    const empty = state({trustStore: null, named: [{arn: L1, listener: listener(L1, mutual('off'))}], objects: []});
    assert.equal(planDestroy('devices', empty, opts).changes, false);
    assert.equal(planDestroy('devices', {...empty, lease: {key: 'p/locks/devices.json'}}, opts).changes, true);
  });
});
