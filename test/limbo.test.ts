import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {loadDivergences, loadLimbo, type LimboRow, runLimbo} from './support/limbo.js';
import {tempDir} from './support/tmp.js';

/**
 * x509-limbo through mtls-kit's verifier and the real `openssl verify -partial_chain
 * -purpose sslclient` (and -purpose sslserver for SERVER cases), see support/limbo.ts.
 * Every disagreement must be in fixtures/limbo/divergences.json with its reason, and
 * every entry there must still be a disagreement (the list never goes stale).
 */
describe('x509-limbo: mtls-kit agrees with openssl verify on every case', () => {
  const cases = loadLimbo();
  const divergences = loadDivergences();
  const key = (id: string, purpose: string): string => `${purpose} ${id}`;
  const listed = new Map(divergences.map((d) => [key(d.id, d.purpose), d]));
  let rows: LimboRow[] = [];

  it('runs every case on both sides', async () => {
    rows = await runLimbo(cases, tempDir(), new Date(), 4);
    assert.ok(rows.length >= cases.length, `${rows.length} rows for ${cases.length} cases`);
  });

  it('never says Success where openssl rejects', () => {
    const bad = rows.filter((r) => r.mtlsOk && !r.opensslOk && !listed.has(key(r.id, r.purpose)));
    assert.deepEqual(
      bad.map((r) => `${key(r.id, r.purpose)}: openssl ${r.openssl}`),
      [],
    );
  });

  it('has no disagreement outside the committed list of deliberate divergences', () => {
    const unexpected = rows.filter((r) => !r.agree && !listed.has(key(r.id, r.purpose)));
    assert.deepEqual(
      unexpected.map((r) => `${key(r.id, r.purpose)}: mtls-kit ${r.mtls}, openssl ${r.opensslOk ? 'OK' : r.openssl}`),
      [],
    );
  });

  it('lists only divergences that still happen, each with the verdict mtls-kit gives', () => {
    const byKey = new Map(rows.map((r) => [key(r.id, r.purpose), r]));
    for (const d of divergences) {
      const r = byKey.get(key(d.id, d.purpose));
      assert.ok(r, `${key(d.id, d.purpose)} is listed but is not a case`);
      assert.ok(!r.agree, `${key(d.id, d.purpose)} is listed as a divergence but now agrees with openssl: remove it from divergences.json`);
      assert.equal(r.mtls.replace(/^Refused:.*/, 'Refused'), d.mtls, `${key(d.id, d.purpose)}: mtls-kit now says ${r.mtls}`);
      assert.ok(d.reason.length > 20, `${key(d.id, d.purpose)} needs a reason`);
    }
  });
});
