/**
 * Secrets at a terminal (src/io/secrets.ts): with no file and no variable, gen-client --p12
 * asks for the PKCS#12 password twice, hidden, and an encrypted CA key's passphrase is asked
 * for when a command needs it. Run in a real pseudo-terminal: `script` (util-linux) gives the
 * CLI a TTY on stdin and stderr; the test types only after the prompt appears and checks the
 * terminal never showed what it typed. Skipped with a message where `script` is absent.
 */
import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {before, describe, it} from 'node:test';
import {BIN, runCli} from './support/cli.js';
import {tempDir} from './support/tmp.js';

const hasScript = spawnSync('script', ['--version']).status === 0;

/** Runs `mtls-kit <args>` on a pseudo-terminal; `answers` are typed, each after its prompt shows. Bounded: 60 s. */
function onTerminal(cwd: string, args: string[], answers: Array<[RegExp, string]>): Promise<{code: number; screen: string}> {
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, BIN, ...args].map(quote).join(' ');
  return new Promise((resolve) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({...process.env, NO_COLOR: '1', MTLS_KIT_CA_PASSPHRASE: undefined, MTLS_KIT_P12_PASSWORD: undefined}))
      if (v !== undefined) env[k] = v;
    const child = spawn('script', ['-qefc', command, '/dev/null'], {cwd, env, stdio: ['pipe', 'pipe', 'pipe']});
    let screen = '';
    let next = 0;
    let seen = 0;
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      screen += d.toString();
      const pending = answers[next];
      if (!pending) return;
      const m = pending[0].exec(screen.slice(seen));
      if (!m) return;
      seen += m.index + m[0].length;
      next++;
      child.stdin.write(`${pending[1]}\r`);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({code: code ?? -1, screen});
    });
  });
}

describe('secrets at a terminal', {skip: hasScript ? false : 'script (util-linux) is not installed: no pseudo-terminal to test prompts with'}, () => {
  const work = tempDir('mtls-kit-prompts-');
  before(async () => {
    assert.equal((await runCli(['gen-ca', '--cn', 'Prompt Root'], {cwd: work})).code, 0);
    writeFileSync(join(work, 'pass.txt'), 'ca-secret\n');
    assert.equal((await runCli(['gen-ca', '--cn', 'Locked Root', '--dir', 'locked', '--passphrase-file', 'pass.txt'], {cwd: work})).code, 0);
  });

  it('gen-client --p12 asks for the password twice, echoes nothing, and the file opens with it', async () => {
    const r = await onTerminal(
      work,
      ['gen-client', '--cn', 'laptop', '--p12', '--out', 'laptop'],
      [
        [/PKCS#12 password: /, 'tty-p12-pass'],
        [/PKCS#12 password again: /, 'tty-p12-pass'],
      ],
    );
    assert.equal(r.code, 0, r.screen);
    assert.doesNotMatch(r.screen, /tty-p12-pass/, 'the password never shows');
    const open = spawnSync('openssl', ['pkcs12', '-in', join(work, 'laptop/certificate.p12'), '-passin', 'pass:tty-p12-pass', '-noout'], {encoding: 'utf8'});
    assert.equal(open.status, 0, open.stderr);
  });

  it('two entries that differ three times: exit 4, nothing written', async () => {
    const pairs: Array<[RegExp, string]> = [];
    for (let i = 0; i < 3; i++) pairs.push([/PKCS#12 password: /, 'one'], [/PKCS#12 password again: /, 'two']);
    const r = await onTerminal(work, ['gen-client', '--cn', 'nope', '--p12', '--out', 'nope'], pairs);
    assert.equal(r.code, 4, r.screen);
    assert.match(r.screen, /the two entries differ, try again/);
    assert.match(r.screen, /SECRET_MISMATCH|no PKCS#12 password was entered/);
    assert.equal(spawnSync('test', ['-e', join(work, 'nope/private-key.pem')]).status, 1);
  });

  it('an encrypted CA key: the passphrase is asked for, a wrong one again, and crl signs with the right one', async () => {
    const r = await onTerminal(
      work,
      ['crl', '--dir', 'locked'],
      [
        [/CA key passphrase: /, 'not-it'],
        [/wrong CA key passphrase, try again\s+CA key passphrase: /, 'ca-secret'],
      ],
    );
    assert.equal(r.code, 0, r.screen);
    assert.doesNotMatch(r.screen, /ca-secret|not-it/);
  });

  it('without a terminal nothing is asked: the one-line error names the file and the variable', async () => {
    const r = await runCli(['gen-client', '--cn', 'ci', '--p12', '--out', 'ci'], {cwd: work, env: {MTLS_KIT_P12_PASSWORD: undefined}});
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--p12-password-file FILE or set MTLS_KIT_P12_PASSWORD/);
  });
});
