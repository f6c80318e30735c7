import assert from 'node:assert/strict';
import {readFileSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {runCli} from './support/cli.js';
import {openssl, opensslOk} from './support/openssl.js';
import {tempDir} from './support/tmp.js';

describe('gen-ca', () => {
  it('creates a two-tier CA that openssl accepts, with v3 CA extensions', async () => {
    const dir = join(tempDir(), 'pki');
    const r = await runCli(['gen-ca', '--dir', dir, '--cn', 'Test Root', '--intermediate', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.root.subject, 'CN=Test Root');
    assert.equal(r.json.intermediate.subject, 'CN=Test Root Intermediate');
    assert.equal(r.json.encrypted, false);
    const rootText = opensslOk(['x509', '-in', join(dir, 'root/ca.crt'), '-noout', '-text']);
    assert.match(rootText, /Version: 3 \(0x2\)/);
    assert.match(rootText, /Basic Constraints: critical\s+CA:TRUE, pathlen:1/);
    assert.match(rootText, /Key Usage: critical\s+Certificate Sign, CRL Sign/);
    assert.match(rootText, /Subject Key Identifier/);
    const interText = opensslOk(['x509', '-in', join(dir, 'intermediate/ca.crt'), '-noout', '-text']);
    assert.match(interText, /CA:TRUE, pathlen:0/);
    assert.match(interText, /Authority Key Identifier/);
    opensslOk(['verify', '-CAfile', join(dir, 'root/ca.crt'), join(dir, 'intermediate/ca.crt')]);
    assert.equal(statSync(join(dir, 'root/ca.key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'intermediate/ca.key')).mode & 0o777, 0o600);
    // ALB bundle format (aws-reference 4.2): PEM blocks only, no blank lines.
    const bundle = readFileSync(join(dir, 'ca-bundle.pem'), 'utf8');
    assert.ok(!/\n\s*\n/.test(bundle), 'no blank lines');
    assert.equal(bundle.match(/BEGIN CERTIFICATE/g)?.length, 2);
  });

  it('refuses to overwrite without --force, changing nothing (exit 4)', async () => {
    const dir = join(tempDir(), 'pki');
    assert.equal((await runCli(['gen-ca', '--dir', dir])).code, 0);
    const before = readFileSync(join(dir, 'root/ca.crt'), 'utf8');
    const again = await runCli(['gen-ca', '--dir', dir]);
    assert.equal(again.code, 4);
    assert.match(again.stderr, /already exists/);
    assert.match(again.stderr, /--force/);
    assert.equal(readFileSync(join(dir, 'root/ca.crt'), 'utf8'), before);
    const forced = await runCli(['gen-ca', '--dir', dir, '--force']);
    assert.equal(forced.code, 0);
    assert.notEqual(readFileSync(join(dir, 'root/ca.crt'), 'utf8'), before);
  });

  it('encrypts the CA key with a passphrase file that openssl can read', async () => {
    const tmp = tempDir();
    const dir = join(tmp, 'pki');
    writeFileSync(join(tmp, 'pass'), 's3cret\n');
    const r = await runCli(['gen-ca', '--dir', dir, '--passphrase-file', join(tmp, 'pass'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.encrypted, true);
    const key = readFileSync(join(dir, 'root/ca.key'), 'utf8');
    assert.match(key, /BEGIN ENCRYPTED PRIVATE KEY/);
    assert.ok(!r.stdout.includes('PRIVATE KEY'));
    assert.equal(openssl(['pkey', '-in', join(dir, 'root/ca.key'), '-passin', 'pass:s3cret', '-noout']).code, 0);
    assert.notEqual(openssl(['pkey', '-in', join(dir, 'root/ca.key'), '-passin', 'pass:wrong', '-noout']).code, 0);
  });

  it('rejects an unknown key type with a usage error (exit 2)', async () => {
    const dir = join(tempDir(), 'pki');
    const r = await runCli(['gen-ca', '--dir', dir, '--key-type', 'rsa-1000']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /rsa-1000/);
  });

  it('the manifest is not stale: every command and flag of the build is in it', async () => {
    const manifest = JSON.parse(readFileSync(new URL('../oclif.manifest.json', import.meta.url), 'utf8'));
    const {readdirSync} = await import('node:fs');
    const sources = readdirSync(new URL('../src/commands', import.meta.url))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.replace(/\.ts$/, ''));
    // The bundled oclif plugins' commands (scripts/command-table.js) are in both too.
    const all = [...sources, 'help', 'autocomplete', 'autocomplete:create', 'autocomplete:script'];
    const {COMMANDS} = (await import(new URL('../dist/cli.js', import.meta.url).href)) as {COMMANDS: Record<string, unknown>};
    assert.deepEqual(Object.keys(manifest.commands).sort(), all.sort());
    assert.deepEqual(Object.keys(COMMANDS).sort(), all.sort());
    for (const id of sources) {
      const cls = (await import(new URL(`../src/commands/${id}.ts`, import.meta.url).href)).default as {
        flags?: Record<string, unknown>;
        args?: Record<string, unknown>;
      };
      const built = [...new Set(Object.keys(cls.flags ?? {}).concat('json'))].sort();
      assert.deepEqual(Object.keys(manifest.commands[id].flags).sort(), built, `flags of ${id}`);
      assert.deepEqual(Object.keys(manifest.commands[id].args).sort(), Object.keys(cls.args ?? {}).sort(), `args of ${id}`);
    }
    assert.equal(manifest.version, JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
  });
});
