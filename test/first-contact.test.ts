/**
 * What a newcomer meets first (issue 24, the smaller items): one plural rule, durations that
 * do not read a day short, `gen-client device-9` pointing at --cn, "start here" in
 * `mtls-kit help`, and `logs --explain` saying "no certificate" when none was presented.
 */
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {explainFailures} from '../src/lib/alb/log-summary.js';
import {plural} from '../src/lib/plural.js';
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
