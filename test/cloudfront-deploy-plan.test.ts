/** src/lib/cloudfront/deploy-plan.ts: what deploy --cloudfront-trust-store decides, table-driven. */
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {
  type CloudfrontPlanInput,
  type CloudfrontTrustStoreState,
  checkCloudfrontTrustStoreName,
  planCloudfrontDeploy,
  sameViewerMtls,
} from '../src/lib/cloudfront/deploy-plan.js';

const ts: CloudfrontTrustStoreState = {id: 'ts-1', arn: 'arn', status: 'active', numberOfCaCertificates: 2, ocsp: false, etag: 'E1', reason: null};
const wanted = {mode: 'required' as const, advertiseTrustStoreCaNames: true, ignoreCertificateExpiry: false};
const on = {mode: 'required', trustStoreId: 'ts-1', advertiseTrustStoreCaNames: true, ignoreCertificateExpiry: false};
const base: CloudfrontPlanInput = {
  localSha256: 'aa',
  bundleUploaded: true,
  trustStore: ts,
  record: {trustStoreId: 'ts-1', sha256: 'aa', key: 'k'},
  ocsp: false,
  wanted,
  distributions: [{id: 'E1', current: on}],
};

describe('planCloudfrontDeploy', () => {
  const cases: Array<[string, Partial<CloudfrontPlanInput>, string, string, boolean]> = [
    ['all as asked', {}, 'unchanged', 'unchanged', false],
    ['no trust store', {trustStore: null, record: null}, 'create', 'update', true],
    ['bundle changed', {localSha256: 'bb'}, 'update', 'unchanged', true],
    ['no record', {record: null}, 'update', 'unchanged', true],
    ["another trust store's record", {record: {trustStoreId: 'ts-0', sha256: 'aa', key: 'k'}}, 'update', 'unchanged', true],
    ['OCSP asked', {ocsp: true}, 'update', 'unchanged', true],
    ['failed trust store', {trustStore: {...ts, status: 'failed'}}, 'update', 'unchanged', true],
    ['viewer mTLS off', {distributions: [{id: 'E1', current: null}]}, 'unchanged', 'update', true],
    ['other mode', {distributions: [{id: 'E1', current: {...on, mode: 'optional'}}]}, 'unchanged', 'update', true],
    ['other trust store', {distributions: [{id: 'E1', current: {...on, trustStoreId: 'ts-9'}}]}, 'unchanged', 'update', true],
    ['bundle object missing', {bundleUploaded: false}, 'unchanged', 'unchanged', true],
  ];
  for (const [name, change, store, dist, changes] of cases)
    it(name, () => {
      const p = planCloudfrontDeploy({...base, ...change});
      assert.equal(p.trustStore.action, store);
      assert.equal(p.distributions[0]!.action, dist);
      assert.equal(p.changes, changes);
    });

  it('sameViewerMtls compares every field, and null only with null', () => {
    assert.equal(sameViewerMtls(on, {...on}), true);
    assert.equal(sameViewerMtls(on, {...on, ignoreCertificateExpiry: true}), false);
    assert.equal(sameViewerMtls(null, on), false);
    assert.equal(sameViewerMtls(null, null), true);
  });

  it('trust store names: ALB rule', () => {
    assert.equal(checkCloudfrontTrustStoreName('my-devices'), null);
    assert.notEqual(checkCloudfrontTrustStoreName('bad_name'), null);
    assert.notEqual(checkCloudfrontTrustStoreName('-x'), null);
    assert.notEqual(checkCloudfrontTrustStoreName('x'.repeat(33)), null);
  });
});
