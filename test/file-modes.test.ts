/**
 * Folder and file modes whatever the umask, and a file where a folder should be: a usage
 * error naming it, never exit 1 or a bare EEXIST/ENOTDIR.
 */
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {BIN, runCli} from './support/cli.js';
import {tempDir} from './support/tmp.js';

/** Runs the CLI in a shell whose umask is 000, as a careless operator's might be. */
function underUmask000(args: string[], cwd: string): {code: number | null; stderr: string} {
  const quoted = args.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1'};
  delete env.MTLS_KIT_CA_PASSPHRASE;
  const r = spawnSync('sh', ['-c', `umask 000 && exec '${process.execPath}' '${BIN}' ${quoted}`], {cwd, env, encoding: 'utf8'});
  return {code: r.status, stderr: r.stderr};
}

const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8).padStart(3, '0');

describe('file modes and folders in the way', () => {
  it('under umask 000: CA and client folders 0700, keys 0600, certificates, bundles, CRLs and indexes 0644, other folders 0755', () => {
    const tmp = tempDir();
    for (const args of [
      ['gen-ca', '--dir', 'pki', '--intermediate'],
      ['gen-client', '--dir', 'pki', '--cn', 'one', '--out', 'out/one'],
      ['gen-client', '--dir', 'pki', '--cn', 'd-{n}', '--count', '2', '--out', 'fleet/a'],
      ['revoke', '--dir', 'pki', '--cert', 'out/one/certificate.crt'],
      ['crl', '--dir', 'pki'],
    ]) {
      const r = underUmask000(args, tmp);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
    const expected: Record<string, string> = {
      pki: '755',
      'pki/ca-bundle.pem': '644',
      'pki/ca.json': '644',
      'pki/root': '700',
      'pki/root/ca.key': '600',
      'pki/root/ca.crt': '644',
      'pki/intermediate': '700',
      'pki/intermediate/ca.key': '600',
      'pki/intermediate/ca.crt': '644',
      'pki/intermediate/index.txt': '644',
      'pki/intermediate/crl.pem': '644',
      out: '755',
      'out/one': '700',
      'out/one/private-key.pem': '600',
      'out/one/certificate.crt': '644',
      'out/one/chain.pem': '644',
      fleet: '755',
      'fleet/a': '755',
      'fleet/a/d-1': '700',
      'fleet/a/d-1/private-key.pem': '600',
      'fleet/a/d-2/certificate.crt': '644',
    };
    const got = Object.fromEntries(Object.keys(expected).map((p) => [p, mode(join(tmp, p))]));
    assert.deepEqual(got, expected);
  });

  it('a file given as --dir, MTLS_KIT_DIR or --out: exit 2 naming it, for crl, gen-client, gen-ca and revoke', async () => {
    const tmp = tempDir();
    const file = join(tmp, 'not-a-folder');
    writeFileSync(file, 'x');
    const pki = join(tmp, 'pki');
    assert.equal((await runCli(['gen-ca', '--dir', pki])).code, 0);
    const cases: Array<{args: string[]; env?: Record<string, string>; names: string}> = [
      {args: ['crl', '--dir', file], names: file},
      {args: ['gen-client', '--cn', 'x'], env: {MTLS_KIT_DIR: file}, names: file},
      {args: ['gen-client', '--dir', pki, '--cn', 'x', '--out', file], names: file},
      {args: ['gen-client', '--dir', pki, '--cn', 'x', '--out', join(file, 'sub')], names: file},
      {args: ['gen-client', '--dir', pki, '--cn', 'd-{n}', '--count', '2', '--out', file], names: file},
      {args: ['gen-ca', '--dir', join(file, 'pki')], names: file},
      {args: ['revoke', '--dir', file, '01'], names: file},
    ];
    for (const c of cases) {
      const r = await runCli([...c.args, '--json'], c.env ? {env: c.env} : {});
      assert.equal(r.code, 2, `${c.args.join(' ')}: ${r.stdout} ${r.stderr}`);
      assert.equal(r.json.error.code, 'NOT_A_FOLDER');
      assert.ok(r.json.error.message.includes(`${c.names} is a file, not a folder`), r.json.error.message);
      assert.doesNotMatch(r.json.error.message, /EEXIST|ENOTDIR/);
      assert.ok(r.json.error.suggestions.length > 0);
    }
  });
});
