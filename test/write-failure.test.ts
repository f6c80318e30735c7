/**
 * A failed write says what happened (issue 25 "read-only disk named as such"): the one
 * errno mapping (writeFailure, src/io/files.ts) used by the atomic writer, mkdir, appends and
 * the index writer, and real failures: a read-only bind mount (EROFS) and a full tmpfs
 * (ENOSPC) in a private mount namespace (root, as in CI), and a 0500 folder (EACCES) as a
 * user who is not root. Each is exit 4 naming the file and the cause, and leaves no file.
 */
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {chmodSync, mkdirSync, readdirSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {writeFailure} from '../src/io/files.js';
import {BIN} from './support/cli.js';
import {tempDir} from './support/tmp.js';

const isRoot = process.getuid?.() === 0;
const canMount = isRoot && spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs tmpfs /mnt']).status === 0;
const hasSetpriv = isRoot && spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true']).status === 0;

/** `mtls-kit args` in a private mount namespace after `setup` (shell, $1 = dir) ran. */
function inNamespace(setup: string, dir: string, args: string[]): {code: number | null; stderr: string; json: {error?: {code: string; message: string}}} {
  const r = spawnSync('unshare', ['-m', 'sh', '-c', `${setup} && shift && exec "$@"`, 'sh', dir, process.execPath, BIN, ...args, '--json'], {
    encoding: 'utf8',
    env: {...process.env, NO_COLOR: '1'},
    timeout: 60_000,
  });
  return {code: r.status, stderr: r.stderr, json: JSON.parse(r.stdout || '{}')};
}

describe('writes that fail name the cause', () => {
  const tmp = tempDir();

  it('writeFailure maps EROFS, EACCES/EPERM, ENOSPC/EDQUOT, and keeps other codes', () => {
    const e = (code: string): NodeJS.ErrnoException => Object.assign(new Error(code), {code});
    assert.equal(writeFailure(e('EROFS')).code, 'READ_ONLY_FILE_SYSTEM');
    assert.match(writeFailure(e('EROFS')).why, /read-only \(EROFS\)/);
    assert.equal(writeFailure(e('EACCES')).code, 'DIR_NOT_WRITABLE');
    assert.equal(writeFailure(e('EPERM')).code, 'DIR_NOT_WRITABLE');
    assert.equal(writeFailure(e('ENOSPC')).code, 'DISK_FULL');
    assert.match(writeFailure(e('EDQUOT')).why, /quota/);
    assert.deepEqual([writeFailure(e('EIO')).code, writeFailure(e('EIO')).why], ['WRITE_FAILED', 'EIO']);
  });

  it('a read-only bind mount: gen-ca (mkdir) and gen-client into an existing folder (atomic write) say read-only', {
    skip: !canMount && 'needs root and unshare -m (as in CI)',
  }, () => {
    const ro = join(tmp, 'ro');
    mkdirSync(join(ro, 'existing'), {recursive: true});
    const remount = 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1"';
    const ca = inNamespace(remount, ro, ['gen-ca', '--dir', join(ro, 'pki')]);
    assert.equal(ca.code, 4, ca.stderr);
    assert.equal(ca.json.error?.code, 'READ_ONLY_FILE_SYSTEM');
    assert.match(ca.json.error!.message, /ro\/pki.*read-only \(EROFS\)/);
    // A CA on a writable disk, the client's folder on the read-only one.
    const pki = join(tmp, 'pki');
    assert.equal(spawnSync(process.execPath, [BIN, 'gen-ca', '--dir', pki]).status, 0);
    const cl = inNamespace(remount, ro, ['gen-client', '--dir', pki, '--cn', 'device-1', '--out', join(ro, 'existing')]);
    assert.equal(cl.code, 4, cl.stderr);
    assert.equal(cl.json.error?.code, 'READ_ONLY_FILE_SYSTEM');
    assert.match(cl.json.error!.message, /existing\/.*read-only \(EROFS\)/);
    assert.deepEqual(readdirSync(join(ro, 'existing')), []);
  });

  it('a full disk (16 KB tmpfs): gen-ca says the disk is full and leaves no partial file', {skip: !canMount && 'needs root and unshare -m (as in CI)'}, () => {
    const full = join(tmp, 'full');
    mkdirSync(full);
    const r = inNamespace('mount -t tmpfs -o size=16k tmpfs "$1" && head -c 12288 /dev/zero > "$1/filler"', full, ['gen-ca', '--dir', join(full, 'pki')]);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.json.error?.code, 'DISK_FULL');
    assert.match(r.json.error!.message, /the disk is full \(ENOSPC\)/);
  });

  it('a 0500 folder as a user who is not root: permission denied', {skip: !(hasSetpriv || !isRoot) && 'needs a non-root user (or root with setpriv)'}, () => {
    const locked = join(tmp, 'locked');
    mkdirSync(locked);
    chmodSync(tmp, 0o755);
    chmodSync(locked, 0o500);
    const cmd = isRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath] : [process.execPath];
    const r = spawnSync(cmd[0]!, [...cmd.slice(1), BIN, 'gen-ca', '--dir', join(locked, 'pki'), '--json'], {
      encoding: 'utf8',
      env: {...process.env, NO_COLOR: '1'},
    });
    assert.equal(r.status, 4, r.stderr);
    const err = JSON.parse(r.stdout).error;
    assert.equal(err.code, 'DIR_NOT_WRITABLE');
    assert.match(err.message, /locked\/pki.*permission denied \(EACCES\)/);
  });
});
