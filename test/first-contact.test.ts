/**
 * What a newcomer meets first (issue 24, the smaller items): one plural rule, durations that
 * do not read a day short, `gen-client device-9` pointing at --cn, "start here" in
 * `mtls-kit help`, and `logs --explain` saying "no certificate" when none was presented.
 */
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {explainFailures} from '../src/lib/alb/log-summary.js';
import {groupThousands, plural} from '../src/lib/plural.js';
import {whenRelative} from '../src/ui/output.js';
import {runCli} from './support/cli.js';

describe('first contact', () => {
  it('plural: "1 entry", "2 entries", "1 object", "1,000 objects"', () => {
    assert.equal(plural(1, 'entry', 'entries'), '1 entry');
    assert.equal(plural(2, 'entry', 'entries'), '2 entries');
    assert.equal(plural(1, 'object'), '1 object');
    assert.equal(plural(1000, 'object'), '1,000 objects');
    assert.equal(plural(0, 'handshake'), '0 handshakes');
  });

  it("plural's grouping is toLocaleString('en-US') for every kind of number", () => {
    const cases = [
      0,
      -0,
      1,
      12,
      123,
      999,
      1000,
      -1000,
      12_345,
      123_456,
      999_999,
      1_000_000,
      500_000,
      -1_234_567,
      2 ** 31,
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER,
    ];
    cases.push(2 ** 53, 1e21, 1.5, 1234.5678, -0.25, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);
    let x = 1;
    for (let i = 0; i < 2000; i++) {
      x = (x * 48_271) % 2_147_483_647; // a fixed pseudo-random walk over every digit count
      cases.push(x % 10 ** (1 + (i % 16)), -(x % 10 ** (1 + (i % 10))));
    }
    for (const n of cases) assert.equal(groupThousands(n), n.toLocaleString('en-US'), String(n));
  });

  it('a certificate for 7 days, read a moment later, expires "in 7 days" (not 6)', () => {
    const now = new Date('2026-12-07T12:00:00.250Z');
    assert.equal(whenRelative('2026-12-14T12:00:00Z', now), '2026-12-14T12:00:00Z (in 7 days)');
    assert.equal(whenRelative('2026-11-30T12:00:01Z', now), '2026-11-30T12:00:01Z (7 days ago)');
    assert.equal(whenRelative('2026-12-08T12:00:00Z', now), '2026-12-08T12:00:00Z (in 24 hours)');
  });

  it('gen-client device-9: the command takes no argument, did you mean --cn device-9 (exit 2)', async () => {
    const r = await runCli(['gen-client', 'device-9']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: gen-client takes no argument device-9\n {2}→ did you mean: mtls-kit gen-client --cn device-9\n/);
    const json = await runCli(['gen-client', 'device-9', '--json']);
    assert.equal(json.json.error.code, 'UNEXPECTED_ARGUMENT');
  });

  it('mtls-kit help starts with where to start', async () => {
    const r = await runCli(['help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Start here: `mtls-kit demo`/);
    assert.match(r.stdout, /`mtls-kit emulate`/);
  });

  it('logs --explain: a failure whose connections carried no certificate says so', () => {
    const [none, parsed] = explainFailures(
      [
        {code: 'ClientCertInvalid', count: 2, clients: [{serial: '-', subject: '-', count: 2}]},
        {code: 'ClientCertInvalid', count: 1, clients: [{serial: '0A', subject: 'CN=x', count: 1}]},
      ] as Parameters<typeof explainFailures>[0],
      [],
      new Date(),
    );
    assert.match(none!.meaning, /^no client certificate was presented/);
    assert.match(parsed!.meaning, /could not be parsed or its signature is wrong/);
  });
});

describe('gen-client --days beyond the CA', () => {
  it('warns that the certificate outlives its issuer, and still issues it', async () => {
    const {tempDir} = await import('./support/tmp.js');
    const work = tempDir('mtls-kit-outlive-');
    assert.equal((await runCli(['gen-ca', '--cn', 'Short Root', '--days', '30'], {cwd: work})).code, 0);
    const r = await runCli(['gen-client', '--cn', 'long', '--days', '365', '--out', 'long'], {cwd: work});
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /--days 365 outlives the issuing CA, which expires \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
    const ok = await runCli(['gen-client', '--cn', 'short', '--days', '7', '--out', 'short'], {cwd: work});
    assert.doesNotMatch(ok.stderr, /outlives/);
  });
});
