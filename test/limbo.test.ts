import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {awsStackSkip} from './support/aws-stack.js';
import {loadDivergences, loadLimbo, loadStackDifferences, type LimboRow, runLimbo} from './support/limbo.js';
import {tempDir} from './support/tmp.js';

/**
 * x509-limbo through mtls-kit's verifier (ALB's policy), AWS-LC as s2n-tls asks it
 * (`awslc_verify -mode s2n`, the first oracle: the stack ALB and NLB run) and the real
 * `openssl verify -partial_chain` (the second), see support/limbo.ts.
 * - Every disagreement with AWS-LC is in fixtures/limbo/divergences.json with its reason
 *   (ALB's own rules on top of the library), and every entry there still disagrees.
 * - Every case where AWS-LC and OpenSSL 3 disagree is in fixtures/limbo/awslc-vs-openssl.json
 *   with its reason (mtls-kit follows AWS-LC), and every entry there still differs.
 * - Every disagreement with OpenSSL is one of those two.
 */
const key = (id: string, purpose: string): string => `${purpose} ${id}`;
const skipAws = awsStackSkip();

describe('x509-limbo: mtls-kit agrees with AWS-LC first and OpenSSL second', () => {
  const cases = loadLimbo();
  const divergences = loadDivergences();
  const differences = loadStackDifferences();
  const listed = new Map(divergences.map((d) => [key(d.id, d.purpose), d]));
  const stackListed = new Map(differences.map((d) => [key(d.id, d.purpose), d]));
  let rows: LimboRow[] = [];

  it('runs every case on every side', async () => {
    rows = await runLimbo(cases, tempDir(), new Date(), 2);
    assert.ok(rows.length >= cases.length, `${rows.length} rows for ${cases.length} cases`);
  });

  it('never says Success where AWS-LC refuses', {skip: skipAws}, () => {
    const bad = rows.filter((r) => r.mtlsOk && r.awsOk === false && !listed.has(key(r.id, r.purpose)));
    assert.deepEqual(
      bad.map((r) => `${key(r.id, r.purpose)}: AWS-LC ${r.aws}`),
      [],
    );
  });

  it('has no disagreement with AWS-LC outside the committed list of deliberate divergences', {skip: skipAws}, () => {
    const unexpected = rows.filter((r) => !r.agree && !listed.has(key(r.id, r.purpose)));
    assert.deepEqual(
      unexpected.map((r) => `${key(r.id, r.purpose)}: mtls-kit ${r.mtls}, AWS-LC ${r.aws}`),
      [],
    );
  });

  it('lists only divergences that still happen, each with the verdict mtls-kit gives', {skip: skipAws}, () => {
    const byKey = new Map(rows.map((r) => [key(r.id, r.purpose), r]));
    for (const d of divergences) {
      const r = byKey.get(key(d.id, d.purpose));
      assert.ok(r, `${key(d.id, d.purpose)} is listed but is not a case`);
      assert.ok(!r.agree, `${key(d.id, d.purpose)} is listed as a divergence but now agrees with AWS-LC: remove it from divergences.json`);
      assert.equal(r.mtls.replace(/^Refused:.*/, 'Refused'), d.mtls, `${key(d.id, d.purpose)}: mtls-kit now says ${r.mtls}`);
      assert.ok(d.reason.length > 20, `${key(d.id, d.purpose)} needs a reason`);
    }
  });

  it('lists exactly the cases where AWS-LC and OpenSSL 3 disagree, each with its reason', {skip: skipAws}, () => {
    const seen = rows
      .filter((r) => r.awsOk !== null && r.awsOk !== r.opensslOk)
      .map((r) => `${key(r.id, r.purpose)}: AWS-LC ${r.awsOk ? 'OK' : 'FAIL'}, OpenSSL ${r.opensslOk ? 'OK' : 'FAIL'}`);
    const want = differences.map((d) => `${key(d.id, d.purpose)}: AWS-LC ${d.aws}, OpenSSL ${d.openssl}`);
    assert.deepEqual(seen.sort(), want.sort());
    for (const d of differences) assert.ok(d.reason.length > 40, `${key(d.id, d.purpose)} needs a reason`);
  });

  it('differs from OpenSSL only where a listed divergence or a listed AWS-LC/OpenSSL difference says so', () => {
    const unexplained = rows.filter((r) => r.mtlsOk !== r.opensslOk && !listed.has(key(r.id, r.purpose)) && !stackListed.has(key(r.id, r.purpose)));
    assert.deepEqual(
      unexplained.map((r) => `${key(r.id, r.purpose)}: mtls-kit ${r.mtls}, openssl ${r.opensslOk ? 'OK' : r.openssl}`),
      [],
    );
  });
});
