/**
 * The CLI's global behaviour, as a user meets it: help (`help`, `-h`), did-you-mean for
 * commands and flags, one error style with the usage line (and one JSON error document
 * with --json), flags before or after arguments, repeatable flags that leave the
 * argument alone, PEM values as arguments, shell completion.
 */
import assert from 'node:assert/strict';
import {join} from 'node:path';
import {before, describe, it} from 'node:test';
import {valuesAsArguments} from '../src/base-command.js';
import {closest} from '../src/usage.js';
import {runCli} from './support/cli.js';
import {tempDir} from './support/tmp.js';

describe('help, suggestions and usage errors', () => {
  it('help, help <command>, -h and <command> -h', async () => {
    const all = await runCli(['help']);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /gen-client/);
    assert.match(all.stdout, /decode-header/);
    const top = await runCli(['-h']);
    assert.equal(top.code, 0);
    assert.equal(top.stdout, all.stdout);
    for (const args of [
      ['help', 'gen-client'],
      ['gen-client', '-h'],
      ['gen-client', '--help'],
    ]) {
      const r = await runCli(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /USAGE\n {2}\$ mtls-kit gen-client/);
      assert.match(r.stdout, /--san/);
    }
  });

  it('a mistyped command names the closest one (exit 2); with --json one JSON error document', async () => {
    const r = await runCli(['gen-clinet']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^error: gen-clinet is not a mtls-kit command\n.*did you mean: mtls-kit gen-client\n.*mtls-kit help/);
    const j = await runCli(['gen-clinet', '--json', '--cn', 'x']);
    assert.equal(j.code, 2);
    assert.equal(j.json.error.code, 'UNKNOWN_COMMAND');
    assert.equal(j.json.error.exitCode, 2);
    assert.deepEqual(j.json.error.suggestions[0], 'did you mean: mtls-kit gen-client');
    const far = await runCli(['frobnicate']);
    assert.equal(far.code, 2);
    assert.doesNotMatch(far.stderr, /did you mean/);
  });

  it('an unknown flag: one line, the closest flag, the usage line, not the whole help', async () => {
    const r = await runCli(['gen-client', '--cnn', 'device-1']);
    assert.equal(r.code, 2);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines[0], 'error: gen-client has no flag --cnn');
    assert.match(r.stderr, /did you mean --cn\?/);
    assert.match(r.stderr, /usage: mtls-kit gen-client \[flags\]/);
    assert.ok(lines.length <= 4, r.stderr);
    assert.doesNotMatch(r.stderr, /FLAGS|›/);
  });

  it('with --json every parse error is one JSON error document on stdout', async () => {
    for (const [args, code] of [
      [['gen-client', '--cnn', 'x', '--json'], 'UNKNOWN_FLAG'],
      [['verify', '--json'], 'MISSING_ARGUMENT'],
      [['gen-ca', '--key-type', 'rsa-1000', '--json'], 'BAD_VALUE'],
      [['inspect', 'a', 'b', '--json'], 'UNEXPECTED_ARGUMENT'],
    ] as const) {
      const r = await runCli([...args]);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.json?.error?.code, code, `${args.join(' ')}: ${r.stdout}`);
      assert.equal(r.json.error.exitCode, 2);
      assert.ok(r.json.error.suggestions.some((s: string) => s.startsWith('usage: mtls-kit ')));
    }
  });

  it('a missing required flag names it with its dashes and shows it in the usage line', async () => {
    const r = await runCli(['status'], {env: {MTLS_KIT_BUCKET: undefined, MTLS_KIT_TRUST_STORE_NAME: undefined}});
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--bucket/);
    assert.match(r.stderr, /usage: mtls-kit status (--\S+ \S+ )*--bucket BUCKET (--\S+ \S+ )*\[flags\]/);
  });

  it('autocomplete prints its set-up instructions', async () => {
    const r = await runCli(['autocomplete', 'bash']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /mtls-kit/);
  });
});

describe('flags before or after arguments', () => {
  const dir = tempDir();
  before(async () => {
    for (const args of [
      ['gen-ca', '--dir', join(dir, 'pki')],
      ['gen-client', '--dir', join(dir, 'pki'), '--cn', 'device-1', '--out', join(dir, 'device-1')],
      ['crl', '--dir', join(dir, 'pki')],
    ]) {
      const r = await runCli(args, {cwd: dir});
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
  });

  it('verify --crl crl.pem chain.pem (openssl word order): the repeatable flag leaves the argument alone', async () => {
    const crl = join(dir, 'pki/root/crl.pem');
    const chain = join(dir, 'device-1/chain.pem');
    const bundle = join(dir, 'pki/ca-bundle.pem');
    for (const args of [
      ['--crl', crl, '--trust-store', bundle, chain],
      [chain, '--crl', crl, '--trust-store', bundle],
      ['--trust-store', bundle, '--crl', crl, '--crl', crl, chain],
    ]) {
      const r = await runCli(['verify', ...args, '--json'], {cwd: dir});
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}${r.stdout}`);
      assert.equal(r.json.status, 'Success');
    }
  });

  it('encode-header --header-map leaf=X-Leaf cert.crt', async () => {
    const r = await runCli(['encode-header', '--header-map', 'leaf=X-Leaf', join(dir, 'device-1/certificate.crt')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /X-Leaf: /);
  });
});

describe('parsing helpers', () => {
  const flags = {file: {type: 'option', char: 'f'}, json: {type: 'boolean'}};
  it('valuesAsArguments moves PEM-like values after --, except a flag value', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----';
    assert.deepEqual(valuesAsArguments([pem, '--json'], flags), ['--json', '--', pem]);
    assert.deepEqual(valuesAsArguments(['--file', pem], flags), ['--file', pem]);
    assert.deepEqual(valuesAsArguments(['-f', pem, '--json'], flags), ['-f', pem, '--json']);
    assert.deepEqual(valuesAsArguments(['--json', '--', pem], flags), ['--json', '--', pem]);
    assert.deepEqual(valuesAsArguments(['-----BEGIN%20X', '--', 'y'], flags), ['--', '-----BEGIN%20X', 'y']);
    assert.deepEqual(valuesAsArguments(['a', '--json'], flags), ['a', '--json']);
  });

  it('closest suggests typos only', () => {
    assert.equal(closest('gen-clinet', ['gen-ca', 'gen-client', 'verify']), 'gen-client');
    assert.equal(closest('--cnn', ['--cn', '--org']), '--cn');
    assert.equal(closest('frobnicate', ['gen-ca', 'verify']), undefined);
    assert.equal(closest('insp', ['inspect', 'lint']), 'inspect');
  });
});
