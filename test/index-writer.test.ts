/**
 * The one locked index writer (src/io/ca/directory.ts): concurrent revoke and a fleet keep
 * every line; a single gen-client records before it writes, so a kill leaves nothing
 * unrecorded; the lock is broken only when its owner is certainly gone or it is stale;
 * a symlinked index.txt is refused.
 */
import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import {X509Certificate} from 'node:crypto';
import {chmodSync, existsSync, readdirSync, readFileSync, readlinkSync, renameSync, symlinkSync, utimesSync, writeFileSync} from 'node:fs';
import {hostname} from 'node:os';
import {join, resolve} from 'node:path';
import {describe, it} from 'node:test';
import {indexLockPath, recordIssuedSync, takeIndexLock, updateIndexSync} from '../src/io/ca/directory.js';
import {type IndexEntry, parseIndex} from '../src/lib/x509/index-db.js';
import {BIN, runCli} from './support/cli.js';
import {tempDir} from './support/tmp.js';

const readEntries = (indexPath: string): IndexEntry[] => (existsSync(indexPath) ? parseIndex(readFileSync(indexPath, 'utf8'), indexPath) : []);

function entry(serial: string): IndexEntry {
  return {status: 'V', notAfter: new Date('2030-01-01T00:00:00Z'), serial, file: 'unknown', subject: `/CN=${serial}`};
}

describe('index writer: concurrent commands', () => {
  it('revoke during a gen-client --count fleet: every signed certificate is recorded, every revocation kept', async () => {
    const tmp = tempDir();
    const dir = join(tmp, 'pki');
    const fleet = join(tmp, 'fleet');
    const index = join(dir, 'root', 'index.txt');
    assert.equal((await runCli(['gen-ca', '--dir', dir])).code, 0);
    const COUNT = 1500;
    const child = spawn(process.execPath, [BIN, 'gen-client', '--dir', dir, '--cn', 'd-{n}', '--count', String(COUNT), '--out', fleet, '--workers', '2'], {
      stdio: 'ignore',
      env: {...process.env, NO_COLOR: '1'},
    });
    const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    let running = true;
    void exited.then(() => (running = false));
    const revoked = new Set<string>();
    // Revoke serials the fleet has recorded while it is still issuing (bounded: 60 s, 40 revokes).
    const until = Date.now() + 60_000;
    while (running && revoked.size < 40 && Date.now() < until) {
      const victim = readEntries(index).find((e) => e.status === 'V' && !revoked.has(e.serial));
      if (!victim) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const r = await runCli(['revoke', victim.serial, '--dir', dir, '--reason', 'keyCompromise']);
      assert.equal(r.code, 0, r.stderr);
      revoked.add(victim.serial);
    }
    assert.equal(await exited, 0, 'the fleet finished');
    assert.ok(revoked.size > 0, 'at least one revoke ran while the fleet was issuing');
    const entries = readEntries(index);
    const bySerial = new Map(entries.map((e) => [e.serial, e]));
    assert.equal(bySerial.size, entries.length, 'no serial twice');
    const folders = readdirSync(fleet).filter((n) => !n.startsWith('.'));
    assert.equal(folders.length, COUNT);
    for (const name of folders) {
      const cert = join(fleet, name, 'certificate.crt');
      const serial = new X509Certificate(readFileSync(cert)).serialNumber.toUpperCase();
      assert.equal(bySerial.get(serial)?.file, resolve(cert), `${name} (serial ${serial}) is recorded`);
    }
    assert.equal(entries.length, COUNT, 'every certificate signed is recorded, and nothing else');
    for (const s of revoked) assert.equal(bySerial.get(s)?.status, 'R', `${s} stays revoked`);
    // A re-run has nothing to issue (it was refused when lines were lost).
    const again = await runCli(['gen-client', '--dir', dir, '--cn', 'd-{n}', '--count', String(COUNT), '--out', fleet, '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json.alreadyIssued, COUNT);
  });

  it('two writers in one process: an append between read and rewrite is kept (re-read under the lock)', () => {
    const tmp = tempDir();
    const tier = {index: join(tmp, 'index.txt')};
    recordIssuedSync(tier, [entry('01'), entry('02')]);
    updateIndexSync(tier, (current) => {
      // A writer that did not take the lock would lose this line when the rewrite lands;
      // with the lock held, the append waits (and fails here, proving it cannot interleave).
      assert.throws(() => takeIndexLock(tier.index, 200), /is locked by another mtls-kit/);
      return {
        entries: current.map((e) => (e.serial === '01' ? {...e, status: 'R' as const, revokedAt: new Date('2026-01-01T00:00:00Z')} : e)),
        value: undefined,
      };
    });
    recordIssuedSync(tier, [entry('03')]);
    assert.deepEqual(
      readEntries(tier.index).map((e) => `${e.status}${e.serial}`),
      ['R01', 'V02', 'V03'],
    );
    assert.throws(() => updateIndexSync(tier, (current) => ({entries: current.slice(1), value: undefined})), /would drop 1 line/);
    assert.equal(readEntries(tier.index).length, 3, 'a buggy update is refused, not written');
  });
});

describe('index writer: the lock', () => {
  it('a lock left by a dead process on this host and PID namespace is broken at once', () => {
    const tmp = tempDir();
    const index = join(tmp, 'index.txt');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    const pidns = readlinkSync('/proc/self/ns/pid');
    writeFileSync(indexLockPath(index), JSON.stringify({token: 'x', pid: dead, host: hostname(), pidns, at: new Date().toISOString()}));
    const lock = takeIndexLock(index, 500);
    lock.release();
    assert.equal(existsSync(indexLockPath(index)), false);
  });

  it('a live-looking lock from another PID namespace is waited for, and broken only once stale (30 s untouched)', () => {
    const tmp = tempDir();
    const index = join(tmp, 'index.txt');
    const lockPath = indexLockPath(index);
    writeFileSync(lockPath, JSON.stringify({token: 'y', pid: 1, host: hostname(), pidns: 'pid:[1]', at: new Date().toISOString()}));
    assert.throws(
      () => takeIndexLock(index, 300),
      (e: Error & {code?: string}) => e.code === 'INDEX_LOCKED' && e.message.includes(lockPath),
    );
    const old = new Date(Date.now() - 31_000);
    utimesSync(lockPath, old, old);
    const lock = takeIndexLock(index, 300);
    assert.notEqual(JSON.parse(readFileSync(lockPath, 'utf8')).token, 'y');
    lock.release();
  });

  it('release leaves a lock that is not ours alone', () => {
    const tmp = tempDir();
    const index = join(tmp, 'index.txt');
    const lock = takeIndexLock(index);
    renameSync(indexLockPath(index), `${indexLockPath(index)}.moved`);
    writeFileSync(indexLockPath(index), JSON.stringify({token: 'other'}));
    lock.release();
    assert.equal(JSON.parse(readFileSync(indexLockPath(index), 'utf8')).token, 'other');
  });
});

describe('index writer: a single gen-client records before it writes', () => {
  it('blocked on the lock it has written nothing; SIGKILL then leaves no certificate, and the next run breaks the dead lock', async () => {
    const tmp = tempDir();
    const dir = join(tmp, 'pki');
    const out = join(tmp, 'device-1');
    const index = join(dir, 'root', 'index.txt');
    assert.equal((await runCli(['gen-ca', '--dir', dir])).code, 0);
    const held = takeIndexLock(index);
    try {
      const child = spawn(process.execPath, [BIN, 'gen-client', '--dir', dir, '--cn', 'device-1', '--out', out], {stdio: 'ignore'});
      const exited = new Promise<void>((done) => child.on('close', () => done()));
      // It signs in memory, then waits for the lock; whatever it wrote by then is visible.
      let wrote = false;
      for (let i = 0; i < 60 && !wrote; i++) {
        await new Promise((r) => setTimeout(r, 50));
        wrote = existsSync(join(out, 'certificate.crt')) || existsSync(join(out, 'private-key.pem'));
      }
      assert.equal(wrote, false, 'no file before its index line');
      child.kill('SIGKILL');
      await exited;
    } finally {
      held.release();
    }
    assert.equal(existsSync(join(out, 'certificate.crt')), false);
    assert.deepEqual(readEntries(index), []);
    // Kill -9 inside the writer's critical section leaves its lock; the dead owner is detected.
    writeFileSync(
      indexLockPath(index),
      JSON.stringify({token: 'z', pid: 999_999, host: hostname(), pidns: readlinkSync('/proc/self/ns/pid'), at: new Date().toISOString()}),
    );
    const r = await runCli(['gen-client', '--dir', dir, '--cn', 'device-1', '--out', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const serial = new X509Certificate(readFileSync(join(out, 'certificate.crt'))).serialNumber.toUpperCase();
    assert.deepEqual(
      readEntries(index).map((e) => e.serial),
      [serial],
    );
  });

  it('a symlinked index.txt is refused by writers (exit 4 naming it), never replaced', async () => {
    const tmp = tempDir();
    const dir = join(tmp, 'pki');
    assert.equal((await runCli(['gen-ca', '--dir', dir])).code, 0);
    assert.equal((await runCli(['gen-client', '--dir', dir, '--cn', 'a', '--out', join(tmp, 'a')])).code, 0);
    const index = join(dir, 'root', 'index.txt');
    renameSync(index, join(tmp, 'real-index.txt'));
    symlinkSync(join(tmp, 'real-index.txt'), index);
    const serial = readEntries(join(tmp, 'real-index.txt'))[0]!.serial;
    const r = await runCli(['revoke', serial, '--dir', dir]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /index\.txt is a symbolic link/);
    assert.equal(readlinkSync(index), join(tmp, 'real-index.txt'), 'the link is left as it was');
  });
});

describe('CA directory permissions', () => {
  it('a 0777 CA folder and a 0644 CA key behind a symlink are warned about, naming the fix', async () => {
    const tmp = tempDir();
    const dir = join(tmp, 'pki');
    assert.equal((await runCli(['gen-ca', '--dir', dir])).code, 0);
    const quiet = await runCli(['list', '--dir', dir]);
    assert.doesNotMatch(quiet.stderr, /others can/, 'no warning for 0700 and 0600');
    chmodSync(join(dir, 'root'), 0o777);
    renameSync(join(dir, 'root', 'ca.key'), join(tmp, 'real-ca.key'));
    chmodSync(join(tmp, 'real-ca.key'), 0o644);
    symlinkSync(join(tmp, 'real-ca.key'), join(dir, 'root', 'ca.key'));
    const r = await runCli(['list', '--dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /root is mode 0777: others can list the CA key's folder; fix: chmod 700/);
    assert.match(r.stderr, /ca\.key \(a symbolic link\) is mode 0644: others can read the CA key; fix: chmod 600/);
  });
});
