import assert from 'node:assert/strict';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {whenRelative} from '../src/ui/output.js';
import {runCli} from './support/cli.js';
import {tempDir} from './support/tmp.js';

describe('human output: short by default', () => {
  it('gen-client prints a summary (SANs included); --verbose every field', async () => {
    const tmp = tempDir();
    const dir = join(tmp, 'pki');
    assert.equal((await runCli(['gen-ca', '--cn', 'Out Root', '--dir', dir])).code, 0);
    const r = await runCli(['gen-client', '--cn', 'short', '--san', 'short.example.com', '--out', join(tmp, 'a'), '--dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^issued by CN=Out Root \(root\)\n {2}subject: CN=short\n {2}issuer: +CN=Out Root\n {2}serial: +[0-9A-F]{32}\n {2}valid: +\S+ → \S+ \(expires in 36[45] days\)\n {2}SANs: +DNS:short\.example\.com\n {2}sha256: +[0-9A-F:]{95}\nwrote /,
    );
    assert.doesNotMatch(r.stdout, /key usage|authority key id/);
    const v = await runCli(['gen-client', '--cn', 'long', '--out', join(tmp, 'b'), '--dir', dir, '--verbose']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /ext key usage: +clientAuth[\s\S]+authority key id:[\s\S]+ALB: +meets ALB certificate requirements/);
  });

  it('relative dates count minutes in the singular too', () => {
    const now = new Date('2026-11-29T12:00:00Z');
    assert.equal(whenRelative('2026-11-29T11:59:00Z', now), '2026-11-29T11:59:00Z (1 minute ago)');
    assert.equal(whenRelative('2026-11-29T12:05:00Z', now), '2026-11-29T12:05:00Z (in 5 minutes)');
  });
});
