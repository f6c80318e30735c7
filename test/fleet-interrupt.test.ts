/**
 * A fleet stopped at random points, by kill -9 and by Ctrl-C: after each stop every
 * visible certificate folder is in index.txt, every index line has its folder, no temp
 * file is visible, and re-running the same command finishes the fleet.
 */
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {X509Certificate} from 'node:crypto';
import {existsSync, readdirSync, readFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {describe, it} from 'node:test';
import {prng} from './support/prng.js';
import {parseIndex} from '../src/lib/x509/index-db.js';
import {BIN, runCli} from './support/cli.js';
import {tempDir} from './support/tmp.js';

// Large enough that a fleet on an idle machine (about 1,000 certificates a second) is still
// being issued when the signals land.
const COUNT = 4000;

const lineCount = (file: string): number => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').length - 1 : 0);

/**
 * Runs the command and sends `signal` `afterMs` after it started, or, with `index`, after
 * index.txt has grown (so the signal lands while certificates are being issued).
 */
function runAndStop(
  args: string[],
  signal: NodeJS.Signals,
  afterMs: number,
  index?: string,
): Promise<{code: number | null; signal: NodeJS.Signals | null; stderr: string}> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], {env: {...process.env, NO_COLOR: '1'}, stdio: ['ignore', 'ignore', 'pipe']});
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let timer: NodeJS.Timeout | undefined;
    if (index) {
      const start = lineCount(index);
      let polls = 0;
      const poll = (): void => {
        if (lineCount(index) > start || ++polls > 1200) timer = setTimeout(() => child.kill(signal), afterMs);
        else timer = setTimeout(poll, 25);
      };
      poll();
    } else timer = setTimeout(() => child.kill(signal), afterMs);
    const hard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', fail);
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      clearTimeout(hard);
      done({code, signal: sig, stderr});
    });
  });
}

/** Checks the invariants; `strict`: no staging folder may be left either (Ctrl-C, or a finished run). */
function checkInvariants(dir: string, fleet: string, strict: boolean): {folders: number; lines: number} {
  const indexPath = join(dir, 'root', 'index.txt');
  const entries = existsSync(indexPath) ? parseIndex(readFileSync(indexPath, 'utf8'), indexPath) : [];
  const bySerial = new Map(entries.map((e) => [e.serial, e]));
  assert.equal(bySerial.size, entries.length, 'no serial twice in the index');
  const names = existsSync(fleet) ? readdirSync(fleet) : [];
  const visible = names.filter((n) => !n.startsWith('.'));
  const hidden = names.filter((n) => n.startsWith('.'));
  for (const h of hidden) assert.match(h, /^\.d-\d+\.[0-9A-F]+\.partial$/, `only staging folders are hidden: ${h}`);
  if (strict) assert.deepEqual(hidden, [], 'nothing left behind after a clean stop');
  for (const name of visible) {
    const files = readdirSync(join(fleet, name)).sort();
    assert.deepEqual(files, ['certificate.crt', 'chain.pem', 'private-key.pem'], `${name} is complete, with no temp file`);
    const cert = join(fleet, name, 'certificate.crt');
    const serial = new X509Certificate(readFileSync(cert)).serialNumber.toUpperCase();
    const entry = bySerial.get(serial);
    assert.ok(entry, `${name} (serial ${serial}) is in index.txt`);
    assert.equal(entry.file, resolve(cert));
    bySerial.delete(serial);
  }
  // What remains must be in the instant between the index fsync and the rename: a
  // complete staging folder that the next run moves into place (kill -9 only).
  for (const [serial, entry] of bySerial) {
    assert.ok(!strict, `index line ${serial} has no folder (${entry.file})`);
    const staging = hidden.find((h) => h.endsWith(`.${serial}.partial`));
    assert.ok(staging, `index line ${serial} has its folder or its staging folder`);
    assert.ok(existsSync(join(fleet, staging, 'certificate.crt')) && existsSync(join(fleet, staging, 'private-key.pem')));
  }
  return {folders: visible.length, lines: entries.length};
}

describe('gen-client --count: interrupted and resumed', () => {
  it('kill -9 and Ctrl-C at random points lose nothing; re-running finishes the fleet', async () => {
    const tmp = tempDir();
    const dir = join(tmp, 'pki');
    const fleet = join(tmp, 'fleet');
    assert.equal((await runCli(['gen-ca', '--dir', dir])).code, 0);
    const args = ['gen-client', '--dir', dir, '--cn', 'd-{n}', '--count', String(COUNT), '--out', fleet];
    const seed = Number(process.env.FLEET_SEED ?? 20261129);
    const random = prng(seed);
    let interrupted = 0;
    const rounds: string[] = [];
    for (let i = 0; i < 6; i++) {
      // Ctrl-C first, while the whole fleet is still to issue: on a loaded machine a kill -9
      // first could leave too little for a later Ctrl-C to land on (the assertion at the end).
      const signal: NodeJS.Signals = i % 2 === 0 ? 'SIGINT' : 'SIGKILL';
      // kill -9 anywhere from start-up on; Ctrl-C while certificates are being issued.
      const afterMs = signal === 'SIGKILL' ? 300 + Math.floor(random() * 2500) : Math.floor(random() * 800);
      const r = await runAndStop(args, signal, afterMs, signal === 'SIGINT' ? join(dir, 'root', 'index.txt') : undefined);
      const where = `seed ${seed}, round ${i}, ${signal} after ${afterMs} ms`;
      rounds.push(`${where}: exit ${r.code ?? r.signal}, ${r.stderr.trim().split('\n').at(-1) ?? ''}`);
      const stats = checkInvariants(dir, fleet, signal === 'SIGINT');
      if (signal === 'SIGINT' && r.code === 130) {
        interrupted++;
        const m = new RegExp(`interrupted: (\\d+) certificates issued and recorded in .*index\\.txt \\((\\d+) of ${COUNT} in .*\\)`).exec(r.stderr);
        assert.ok(m, `${where}: ${r.stderr}`);
        assert.equal(Number(m[2]), stats.folders, where);
        assert.match(r.stderr, /re-run the same command to issue the remaining \d+/);
      } else if (r.code === 0) {
        assert.equal(stats.folders, COUNT, where);
      }
      if (stats.folders === COUNT) break;
    }
    const last = await runCli([...args, '--json']);
    assert.equal(last.code, 0, last.stderr);
    const stats = checkInvariants(dir, fleet, true);
    assert.equal(stats.folders, COUNT);
    assert.equal(stats.lines, COUNT);
    assert.equal(last.json.count + last.json.alreadyIssued, COUNT);
    // A third run has nothing left to do.
    const again = await runCli([...args, '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json.count, 0);
    assert.equal(again.json.alreadyIssued, COUNT);
    assert.ok(interrupted > 0, `at least one Ctrl-C landed while issuing:\n${rounds.join('\n')}`);
  });
});
