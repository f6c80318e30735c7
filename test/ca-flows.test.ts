/**
 * The CA flows in process (src/flows/gen-client.ts, sign.ts, renew.ts; no bin/run.js
 * except one gen-ca and the kill -9 runs, which need a process to kill), and the fleet
 * protocol they share: after Ctrl-C (the SIGINT the flow listens for) or kill -9 at any
 * point of `sign DIR` or `renew FLEET`, every visible certificate is in index.txt for its
 * file, nothing half-written is visible, and re-running the same command converges.
 */
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {X509Certificate} from 'node:crypto';
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {describe, it} from 'node:test';
import {type GenClientParams, runGenClient, runGenClientCsr} from '../src/flows/gen-client.js';
import type {ProgressEvent} from '../src/flows/progress.js';
import {runRenew} from '../src/flows/renew.js';
import {runSign} from '../src/flows/sign.js';
import {isMtlsKitError} from '../src/lib/errors.js';
import {parseIndex} from '../src/lib/x509/index-db.js';
import {BIN, runCli} from './support/cli.js';
import {openssl} from './support/openssl.js';
import {genClientParams} from './support/flow-params.js';
import {tempDir} from './support/tmp.js';

const tmp = tempDir();
const pki = join(tmp, 'pki');
assert.equal((await runCli(['gen-ca', '--dir', pki])).code, 0);
const INDEX = join(pki, 'root', 'index.txt');
const now = (): Date => new Date();

const genParams = (out: string, extra: Partial<GenClientParams> = {}): GenClientParams => genClientParams(pki, out, extra);

const indexEntries = () => (existsSync(INDEX) ? parseIndex(readFileSync(INDEX, 'utf8'), INDEX) : []);

/**
 * The protocol's invariants for a folder of client folders: every visible certificate.crt
 * is in the index for that very file; nothing else is visible; with `strict`, no staging
 * folder is left; without (kill -9), hidden staging folders may be left, which the next
 * run moves into place (recorded) or deletes (not recorded). Returns the folder count.
 */
function checkFleet(fleet: string, strict: boolean): number {
  const byFile = new Map(indexEntries().map((e) => [e.serial, e]));
  const names = readdirSync(fleet);
  const hidden = names.filter((n) => n.startsWith('.'));
  if (strict) assert.deepEqual(hidden, [], 'no staging folder left');
  for (const h of hidden) assert.match(h, /^\.(.+)\.([0-9A-F]+)\.partial$/, `only staging folders are hidden: ${h}`);
  const visible = names.filter((n) => !n.startsWith('.'));
  for (const name of visible) {
    const cert = join(fleet, name, 'certificate.crt');
    if (!existsSync(cert)) continue; // sign: a request not signed yet
    for (const f of readdirSync(join(fleet, name))) assert.doesNotMatch(f, /\.tmp|~/, `${name}/${f} is no temp file`);
    const serial = new X509Certificate(readFileSync(cert)).serialNumber.toUpperCase();
    assert.equal(byFile.get(serial)?.file, resolve(cert), `${name}'s certificate (${serial}) is in index.txt for its file`);
  }
  return visible.length;
}

/** Runs a flow and sends it Ctrl-C once index.txt has grown (bounded: 10 s of polling). */
async function withCtrlC<T>(run: () => Promise<T>): Promise<{result?: T; interrupted: boolean}> {
  const start = indexEntries().length;
  let polls = 0;
  const poll = setInterval(() => {
    if (indexEntries().length > start || ++polls > 1000) {
      clearInterval(poll);
      process.emit('SIGINT');
    }
  }, 10);
  try {
    return {result: await run(), interrupted: false};
  } catch (error) {
    if (isMtlsKitError(error) && error.code === 'INTERRUPTED') {
      assert.equal(error.exitCode, 130);
      return {interrupted: true};
    }
    throw error;
  } finally {
    clearInterval(poll);
  }
}

/** Spawns the command and SIGKILLs it once index.txt has grown by `lines` (bounded). */
function killAfterLines(args: string[], lines: number): Promise<void> {
  return new Promise((done) => {
    const start = indexEntries().length;
    const child = spawn(process.execPath, [BIN, ...args], {stdio: 'ignore'});
    let polls = 0;
    const poll = setInterval(() => {
      if (indexEntries().length >= start + lines || ++polls > 3000) {
        clearInterval(poll);
        child.kill('SIGKILL');
      }
    }, 5);
    child.on('close', () => {
      clearInterval(poll);
      done();
    });
  });
}

describe('CA flows in process', () => {
  it('gen-client: one certificate and a fleet on worker threads; progress goes to onProgress, never to stdout', async () => {
    const events: ProgressEvent[] = [];
    const one = await runGenClient(genParams(join(tmp, 'one'), {fields: {cn: 'device-1'}, sans: ['device-1.example.com']}), {now: now()});
    assert.equal(one.count, 1);
    assert.equal(one.certificate?.subject, 'CN=device-1');
    assert.equal(statSync(join(tmp, 'one', 'private-key.pem')).mode & 0o777, 0o600);
    const v = openssl(['verify', '-CAfile', join(pki, 'ca-bundle.pem'), '-purpose', 'sslclient', join(tmp, 'one', 'certificate.crt')]);
    assert.equal(v.code, 0, v.stderr);
    const fleet = await runGenClient(genParams(join(tmp, 'small'), {count: 12, workers: 2}), {now: now(), onProgress: (e) => events.push(e)});
    assert.equal(fleet.count, 12);
    assert.equal(fleet.workers, 2);
    assert.equal(checkFleet(join(tmp, 'small'), true), 12);
    const counts = events.filter((e) => e.kind === 'count');
    assert.deepEqual(counts.at(-1), {kind: 'count', label: 'issuing', done: 12, total: 12, final: true});
    // The same command again skips what is issued and recorded.
    const again = await runGenClient(genParams(join(tmp, 'small'), {count: 12}), {now: now()});
    assert.deepEqual([again.count, again.alreadyIssued], [0, 12]);
  });

  it('sign DIR: Ctrl-C leaves only recorded certificates, and re-running signs only the rest', async () => {
    const fleet = join(tmp, 'csrs');
    await runGenClientCsr({dir: pki, out: fleet, fields: {cn: 's-{n}'}, sans: [], keyType: 'ec-p256', count: 400, force: false}, {now: now()});
    const signParams = {
      dir: pki,
      csr: fleet,
      out: undefined,
      fields: {},
      sans: undefined,
      days: 30,
      stripCa: false,
      workers: 2,
      passphraseFile: undefined,
      force: false,
    };
    const before = indexEntries().length;
    const first = await withCtrlC(() => runSign(signParams, {now: now()}));
    checkFleet(fleet, true);
    const signedFirst = indexEntries().length - before;
    if (first.interrupted) assert.ok(signedFirst < 400, 'Ctrl-C stopped the batch');
    const second = await runSign(signParams, {now: now()});
    assert.equal(second.count, 400 - signedFirst);
    assert.equal(checkFleet(fleet, true), 400);
    assert.equal(indexEntries().length - before, 400, 'each request signed exactly once');
  });

  it('renew FLEET: Ctrl-C leaves every folder with a recorded certificate; re-running converges', async () => {
    const fleet = join(tmp, 'renew');
    await runGenClient(genParams(fleet, {fields: {cn: 'r-{n}'}, count: 150, workers: 2}), {now: now()});
    const params = {dir: pki, targets: [fleet], newKey: true, keyType: undefined, revokeOld: false, days: 10, passphraseFile: undefined};
    const r = await withCtrlC(() => runRenew(params, {now: now()}));
    assert.equal(checkFleet(fleet, true), 150);
    if (r.result) assert.equal(r.result.count, 150);
    const again = await runRenew({...params, revokeOld: true}, {now: now()});
    assert.equal(again.count, 150);
    assert.equal(checkFleet(fleet, true), 150);
    // --revoke-old revoked the serials the second run replaced, and only those.
    const revoked = new Set(
      indexEntries()
        .filter((e) => e.status === 'R')
        .map((e) => e.serial),
    );
    for (const c of again.renewed) {
      assert.ok(revoked.has(c.oldSerial), c.oldSerial);
      assert.ok(!revoked.has(c.newSerial), c.newSerial);
    }
  });

  it('kill -9 during sign DIR and renew FLEET: nothing unrecorded is visible, and the same command then finishes', async () => {
    const csrs = join(tmp, 'k-csrs');
    await runGenClientCsr({dir: pki, out: csrs, fields: {cn: 'k-{n}'}, sans: [], keyType: 'ec-p256', count: 400, force: false}, {now: now()});
    await killAfterLines(['sign', csrs, '--dir', pki, '--workers', '2'], 1);
    checkFleet(csrs, false);
    const resumed = await runCli(['sign', csrs, '--dir', pki]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(checkFleet(csrs, true), 400);

    const fleet = join(tmp, 'k-renew');
    await runGenClient(genParams(fleet, {fields: {cn: 'kr-{n}'}, count: 300, workers: 2}), {now: now()});
    await killAfterLines(['renew', fleet, '--dir', pki], 70);
    checkFleet(fleet, false);
    const r = await runCli(['renew', fleet, '--dir', pki, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.json.count, 300);
    assert.equal(checkFleet(fleet, true), 300);
  });
});
