/**
 * The CA directory on disk (`--dir`, MTLS_KIT_DIR, default ./pki):
 *
 *   ca.json                  what kind of CA this is (key type, tiers, encrypted)
 *   ca-bundle.pem            the ALB trust-store bundle (aws-reference 4.2)
 *   root/ca.crt, ca.key      the root CA (key 0600, PKCS#8, encrypted with a passphrase)
 *   root/index.txt           certificates the root issued (openssl ca format)
 *   root/crlnumber           next CRL number (openssl ca format, hex)
 *   intermediate/...         the same for the intermediate, when there is one
 */
import {randomBytes} from 'node:crypto';
import {
  closeSync,
  constants,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import {hostname} from 'node:os';
import {dirname, join} from 'node:path';
import {parseCertificate, type ParsedCertificate} from '../../lib/x509/cert.js';
import {MtlsKitError, preconditionError} from '../../lib/errors.js';
import {formatIndexLine, type IndexEntry, parseIndex} from '../../lib/x509/index-db.js';
import {parsePem} from '../../lib/x509/pem.js';
import type {KeySpec, KeyType} from '../../lib/x509/profiles.js';
import {MODE_PUBLIC, pathExists, readTextIfExists, writeFailure, writeFilesAtomicSync} from '../files.js';
import {plural} from '../../lib/plural.js';

export type CaTier = 'root' | 'intermediate';

export interface CaConfig {
  format: 1;
  keyType: KeyType;
  /** The CA that issues client certificates. */
  issuer: CaTier;
  tiers: CaTier[];
  encrypted: boolean;
  created: string;
}

export interface TierPaths {
  dir: string;
  cert: string;
  key: string;
  index: string;
  indexAttr: string;
  crlNumber: string;
  crl: string;
  crlDer: string;
}

export interface CaPaths {
  dir: string;
  config: string;
  bundle: string;
  root: TierPaths;
  intermediate: TierPaths;
}

/** The paths of a CA directory. */
export function caPaths(dir: string): CaPaths {
  const tier = (name: CaTier): TierPaths => {
    const d = join(dir, name);
    return {
      dir: d,
      cert: join(d, 'ca.crt'),
      key: join(d, 'ca.key'),
      index: join(d, 'index.txt'),
      indexAttr: join(d, 'index.txt.attr'),
      crlNumber: join(d, 'crlnumber'),
      crl: join(d, 'crl.pem'),
      crlDer: join(d, 'crl.der'),
    };
  };
  return {dir, config: join(dir, 'ca.json'), bundle: join(dir, 'ca-bundle.pem'), root: tier('root'), intermediate: tier('intermediate')};
}

export interface LoadedTier {
  tier: CaTier;
  paths: TierPaths;
  certPem: string;
  cert: ParsedCertificate;
}

export interface LoadedCa {
  dir: string;
  paths: CaPaths;
  config: CaConfig;
  root: LoadedTier;
  intermediate?: LoadedTier;
  /** The tier that issues client certificates. */
  issuing: LoadedTier;
  /** Permissive modes found on the CA's folders and keys (to print as warnings). */
  warnings: string[];
}

/**
 * What is readable by others in a CA directory: each tier folder should be 0700 and each
 * key 0600 (checked through a symlink, on the file it points to).
 */
export function permissionWarnings(paths: CaPaths, tiers: CaTier[]): string[] {
  const out: string[] = [];
  const mode = (p: string): number | undefined => {
    try {
      return statSync(p).mode & 0o777;
    } catch {
      return undefined;
    }
  };
  for (const t of tiers) {
    const d = mode(paths[t].dir);
    if (d !== undefined && d & 0o077)
      out.push(`${paths[t].dir} is mode ${d.toString(8).padStart(4, '0')}: others can list the CA key's folder; fix: chmod 700 ${paths[t].dir}`);
    const k = mode(paths[t].key);
    const link = (() => {
      try {
        return lstatSync(paths[t].key).isSymbolicLink();
      } catch {
        return false;
      }
    })();
    if (k !== undefined && k & 0o077)
      out.push(
        `${paths[t].key}${link ? ' (a symbolic link)' : ''} is mode ${k.toString(8).padStart(4, '0')}: others can read the CA key; fix: chmod 600 ${link ? `"$(readlink -f ${paths[t].key})"` : paths[t].key}`,
      );
  }
  return out;
}

function missingCa(dir: string): MtlsKitError {
  return preconditionError('CA_NOT_FOUND', `no CA in ${dir} (${join(dir, 'ca.json')} is missing)`, [
    `create one with: mtls-kit gen-ca --dir ${dir} --cn "My Test Root CA"`,
    'or point --dir / MTLS_KIT_DIR at an existing CA directory',
  ]);
}

async function loadTier(paths: CaPaths, tier: CaTier): Promise<LoadedTier> {
  const p = paths[tier];
  const certPem = await readTextIfExists(p.cert);
  if (certPem === undefined) throw preconditionError('CA_INCOMPLETE', `${p.cert} is missing`, ['restore it, or re-create the CA with mtls-kit gen-ca --force']);
  const blocks = parsePem(certPem, p.cert);
  if (blocks.length !== 1 || blocks[0]!.label !== 'CERTIFICATE') throw preconditionError('CA_INCOMPLETE', `${p.cert} must hold exactly one certificate`);
  return {tier, paths: p, certPem, cert: parseCertificate(blocks[0]!.der)};
}

/**
 * Loads a CA directory's certificates and config (keys are read only when signing).
 * @throws MtlsKitError CA_NOT_FOUND (exit 4) with the command that creates one.
 */
export async function loadCa(dir: string): Promise<LoadedCa> {
  const paths = caPaths(dir);
  const text = await readTextIfExists(paths.config);
  if (text === undefined) throw missingCa(dir);
  let config: CaConfig;
  try {
    config = JSON.parse(text) as CaConfig;
  } catch {
    throw preconditionError('CA_CONFIG_INVALID', `${paths.config} is not valid JSON`, [
      'restore it from a backup or re-create the CA with mtls-kit gen-ca --force',
    ]);
  }
  const root = await loadTier(paths, 'root');
  const intermediate = config.tiers.includes('intermediate') ? await loadTier(paths, 'intermediate') : undefined;
  const issuing = config.issuer === 'intermediate' && intermediate ? intermediate : root;
  return {dir, paths, config, root, ...(intermediate ? {intermediate} : {}), issuing, warnings: permissionWarnings(paths, config.tiers)};
}

/** Whether a CA already exists in dir (any of its files). */
export async function caExists(dir: string): Promise<string | undefined> {
  const p = caPaths(dir);
  for (const f of [p.config, p.bundle, p.root.cert, p.root.key, p.intermediate.cert, p.intermediate.key]) {
    if (await pathExists(f)) return f;
  }
  return undefined;
}

/** Reads a tier's index (empty when the file does not exist yet). */
export async function readIndex(tier: TierPaths): Promise<IndexEntry[]> {
  const text = await readTextIfExists(tier.index);
  return text === undefined ? [] : parseIndex(text, tier.index);
}

/**
 * The one writer of index.txt. Every command that issues or revokes (gen-client, fleets,
 * sign, renew, revoke, crl, --defect) goes through these functions, and each of them:
 *
 *   - takes the tier's lock (`index.txt.lock`, created with O_EXCL; see takeIndexLock), so
 *     no two writers interleave a read-modify-write;
 *   - opens index.txt afresh under the lock (a writer that kept a descriptor across a
 *     rewrite would append to the unlinked old file: the lines lost in issue 25);
 *   - appends new lines with one O_APPEND write and fsyncs them, or, to change a status in
 *     place (revoke), re-reads the file under the lock and replaces it atomically;
 *   - refuses an index.txt that is a symbolic link (a rename would replace the link).
 *
 * Callers record a certificate before its files become visible (fleets: staging folders,
 * journal.ts; one certificate: the line first, then the files), so a kill at any point
 * leaves no certificate that revoke cannot find.
 */

/** Where the lock of an index lives. */
export function indexLockPath(indexPath: string): string {
  return `${indexPath}.lock`;
}

/** A lock untouched this long whose owner cannot be checked (another host, another PID namespace) is stale. */
export const INDEX_LOCK_STALE_MS = 30_000;
/** How long a writer waits for another's lock before giving up (exit 4 naming the lock). */
export const INDEX_LOCK_WAIT_MS = 60_000;

interface LockOwner {
  token: string;
  pid: number;
  host: string;
  /** The PID namespace (Linux), so a pid is only checked where it means the same process. */
  pidns: string;
  at: string;
}

let pidNamespace: string | undefined;
function ownPidNamespace(): string {
  if (pidNamespace === undefined) {
    try {
      pidNamespace = readlinkSync('/proc/self/ns/pid');
    } catch {
      pidNamespace = '';
    }
  }
  return pidNamespace;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

function readOwner(path: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

/** Whether a lock file's owner is certainly gone: same host and PID namespace, and no such process. */
function ownerIsGone(o: LockOwner | undefined): boolean {
  if (!o || o.host !== hostname() || !o.pidns || o.pidns !== ownPidNamespace()) return false;
  try {
    process.kill(o.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Removes a stale lock only if it is still the one judged stale: it is renamed aside, and
 * put back (link, which fails if a new lock appeared meanwhile) when its token differs.
 */
function breakStaleLock(path: string, stale: LockOwner | undefined): void {
  const aside = `${path}.${randomBytes(6).toString('hex')}.stale`;
  try {
    renameSync(path, aside);
  } catch {
    return;
  }
  const moved = readOwner(aside);
  if (stale && moved?.token !== stale.token) {
    try {
      linkSync(aside, path);
    } catch {
      // a new lock was taken meanwhile; the one we moved was live but is now superseded
    }
  }
  rmSync(aside, {force: true});
}

/** A held index lock. */
export interface IndexLock {
  path: string;
  token: string;
  release(): void;
}

/** The error for a failed index operation, naming the file and what happened (writeFailure: a read-only disk, a full disk, ...). */
export function indexWriteError(file: string, error: unknown): MtlsKitError {
  if (error instanceof MtlsKitError) return error;
  const f = writeFailure(error);
  return new MtlsKitError({
    code: f.code === 'READ_ONLY_FILE_SYSTEM' ? 'READ_ONLY_FILE_SYSTEM' : 'INDEX_WRITE_FAILED',
    message: `cannot write ${file}: ${f.why}`,
    suggestions: [
      f.code === 'READ_ONLY_FILE_SYSTEM'
        ? 'use a CA directory on a writable disk (--dir / MTLS_KIT_DIR), or remount it read-write'
        : 'free disk space or fix the folder permissions, then re-run the same command',
    ],
    cause: error,
  });
}

/**
 * Takes the lock of an index (synchronously: the fleet journal records from a timer).
 * Waits while another writer holds it; breaks it when its owner is certainly gone (same
 * host and PID namespace, no such pid) or it is older than INDEX_LOCK_STALE_MS.
 * @throws MtlsKitError INDEX_LOCKED (exit 4) after INDEX_LOCK_WAIT_MS, naming the lock and its owner.
 */
export function takeIndexLock(indexPath: string, waitMs = INDEX_LOCK_WAIT_MS): IndexLock {
  const path = indexLockPath(indexPath);
  const owner: LockOwner = {token: randomBytes(16).toString('hex'), pid: process.pid, host: hostname(), pidns: ownPidNamespace(), at: new Date().toISOString()};
  const deadline = Date.now() + waitMs;
  for (let attempt = 0; ; attempt++) {
    try {
      mkdirSync(dirname(path), {recursive: true});
      const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, MODE_PUBLIC);
      try {
        writeSync(fd, JSON.stringify(owner));
      } finally {
        closeSync(fd);
      }
      return {
        path,
        token: owner.token,
        release: () => {
          if (readOwner(path)?.token === owner.token) rmSync(path, {force: true});
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw indexWriteError(path, error);
    }
    const held = readOwner(path);
    let age = 0;
    try {
      age = Date.now() - statSync(path).mtimeMs;
    } catch {
      continue; // released meanwhile
    }
    if (ownerIsGone(held) || age > INDEX_LOCK_STALE_MS) {
      breakStaleLock(path, held);
      continue;
    }
    if (Date.now() >= deadline) {
      throw preconditionError(
        'INDEX_LOCKED',
        `${indexPath} is locked by another mtls-kit (${path}: pid ${held?.pid ?? '?'} on ${held?.host ?? '?'} since ${held?.at ?? '?'})`,
        ['wait for that command to finish and re-run; if it crashed on another host, delete the lock file'],
      );
    }
    sleepSync(Math.min(5 + attempt * 5, 100));
  }
}

/**
 * Refuses an index.txt that is a symbolic link: it is replaced on revocation, and a
 * rename would replace the link rather than what it points to.
 * @throws MtlsKitError INDEX_IS_SYMLINK (exit 4).
 */
function assertIndexNotSymlink(indexPath: string): void {
  let link = false;
  try {
    link = lstatSync(indexPath).isSymbolicLink();
  } catch {
    return;
  }
  if (link)
    throw preconditionError('INDEX_IS_SYMLINK', `${indexPath} is a symbolic link; mtls-kit writes the CA index only as a regular file`, [
      `replace the link with the file it points to: cp --remove-destination "$(readlink -f ${indexPath})" ${indexPath}`,
    ]);
}

/** Runs fn holding the tier's index lock (released also when fn throws). */
export function withIndexLockSync<T>(tier: {index: string}, fn: () => T): T {
  assertIndexNotSymlink(tier.index);
  const lock = takeIndexLock(tier.index);
  try {
    return fn();
  } finally {
    lock.release();
  }
}

/** Async form of withIndexLockSync: fn may await (crl signs while holding the lock). */
export async function withIndexLock<T>(tier: {index: string}, fn: () => Promise<T>): Promise<T> {
  assertIndexNotSymlink(tier.index);
  const lock = takeIndexLock(tier.index);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** Reads and parses index.txt as it is now (call under the lock to see every writer's lines). */
function readIndexSync(indexPath: string): IndexEntry[] {
  let text: string;
  try {
    text = readFileSync(indexPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw indexWriteError(indexPath, error);
  }
  return parseIndex(text, indexPath);
}

function appendLinesSync(indexPath: string, entries: IndexEntry[]): void {
  try {
    mkdirSync(dirname(indexPath), {recursive: true});
    const fd = openSync(indexPath, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, MODE_PUBLIC);
    try {
      writeSync(fd, Buffer.from(entries.map(formatIndexLine).join('')));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw indexWriteError(indexPath, error);
  }
}

/**
 * Records issued certificates: one locked, fsynced O_APPEND write. Call it before the
 * certificates' files become visible.
 * @throws MtlsKitError INDEX_LOCKED, INDEX_IS_SYMLINK, INDEX_WRITE_FAILED, READ_ONLY_FILE_SYSTEM (exit 4).
 */
export function recordIssuedSync(tier: {index: string}, entries: IndexEntry[]): void {
  if (entries.length === 0) return;
  withIndexLockSync(tier, () => appendLinesSync(tier.index, entries));
}

/** Async form of recordIssuedSync (same behaviour). */
export async function recordIssued(tier: {index: string}, entries: IndexEntry[]): Promise<void> {
  recordIssuedSync(tier, entries);
}

/** What an index update decides, given the index as it is under the lock. */
export interface IndexUpdate<T> {
  /** The whole index with lines changed in place (revocations); omitted when nothing changes. */
  entries?: IndexEntry[];
  value: T;
}

/**
 * Changes an index in place under its lock: re-reads the file (so every other writer's
 * lines are seen), lets `fn` decide, and replaces the file atomically (temp file, fsync,
 * rename) when `fn` returns new entries. `fn` must keep every line it was given.
 * @throws what fn throws; INDEX_LOCKED, INDEX_IS_SYMLINK, INDEX_WRITE_FAILED, READ_ONLY_FILE_SYSTEM (exit 4).
 */
export function updateIndexSync<T>(tier: {index: string}, fn: (current: IndexEntry[]) => IndexUpdate<T>): T {
  return withIndexLockSync(tier, () => {
    const current = readIndexSync(tier.index);
    const u = fn(current);
    if (u.entries) {
      if (u.entries.length < current.length) throw new Error(`index update would drop ${plural(current.length - u.entries.length, 'line')} of ${tier.index}`);
      try {
        writeFilesAtomicSync([{path: tier.index, data: u.entries.map(formatIndexLine).join(''), mode: MODE_PUBLIC}], {force: true});
      } catch (error) {
        throw indexWriteError(tier.index, (error as {cause?: unknown}).cause ?? error);
      }
    }
    return u.value;
  });
}

/** Async form of updateIndexSync (same behaviour). */
export async function updateIndex<T>(tier: {index: string}, fn: (current: IndexEntry[]) => IndexUpdate<T>): Promise<T> {
  return updateIndexSync(tier, fn);
}

/** Reads the tier's private key PEM. */
export async function readTierKey(tier: LoadedTier): Promise<string> {
  const pem = await readTextIfExists(tier.paths.key);
  if (pem === undefined)
    throw preconditionError('CA_KEY_MISSING', `${tier.paths.key} is missing; the CA cannot sign`, [
      'restore the key from a backup, or re-create the CA with mtls-kit gen-ca --force',
    ]);
  return pem;
}

/** The serials already in an index, for uniqueness checks. */
export function serialSet(entries: IndexEntry[]): Set<string> {
  return new Set(entries.map((e) => e.serial));
}

export type {KeySpec};

/**
 * The CA directory's current CRLs (root/crl.pem, intermediate/crl.pem, those that exist):
 * what deploy uploads, and what verify and serve check by default when they use the
 * directory's bundle, so local checks and the deployed trust store agree.
 */
export async function currentCrlPaths(dir: string): Promise<string[]> {
  const paths = caPaths(dir);
  const found: string[] = [];
  for (const f of [paths.root.crl, paths.intermediate.crl]) if (await pathExists(f)) found.push(f);
  return found;
}
