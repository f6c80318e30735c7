/**
 * The filesystem side of mtls-kit: atomic writes with the right modes, refusal to
 * overwrite without --force, and all-or-nothing groups of files (STYLE "Files").
 */
import {randomBytes} from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  fstatSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  promises as fsp,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import {basename, dirname, join} from 'node:path';
import {MtlsKitError, preconditionError, usageError} from '../lib/errors.js';
import {checkSize} from '../lib/limits.js';
import {setCrlParseGate} from '../lib/x509/crl-gate.js';

// OpenSSL parses every CRL mtls-kit reads (lib/x509/crl-gate.ts); node:tls is loaded only
// when a CRL is read, so commands that read none do not pay for it.
setCrlParseGate((pem) => {
  const tls = process.getBuiltinModule('node:tls') as typeof import('node:tls');
  tls.createSecureContext({crl: pem});
});

/** Private keys and PKCS#12 files. */
export const MODE_SECRET = 0o600;
/** Certificates, bundles, CRLs, indexes. */
export const MODE_PUBLIC = 0o644;
/** Folders that hold a private key (a CA tier, a client's folder). */
export const MODE_DIR_SECRET = 0o700;
/** Other folders we create (the CA directory, a fleet's --out). */
export const MODE_DIR_PUBLIC = 0o755;

/**
 * The first of `path` and its parents that exists and is not a folder, if any: what
 * ENOTDIR and EEXIST from mkdir really mean ("pki is a file").
 */
export function fileInTheWay(path: string): string | undefined {
  for (let p = path; ; p = dirname(p)) {
    try {
      return statSync(p).isDirectory() ? undefined : p;
    } catch {
      if (dirname(p) === p) return undefined;
    }
  }
}

function notAFolder(path: string, file: string): MtlsKitError {
  return usageError('NOT_A_FOLDER', file === path ? `${path} is a file, not a folder` : `${file} is a file, not a folder, so ${path} cannot be used`, [
    'choose another folder (--out / --dir / MTLS_KIT_DIR), or move that file away',
  ]);
}

/**
 * Checks that a folder we are about to write into is a folder, or does not exist yet and
 * can be created (no file in the way).
 * @throws MtlsKitError NOT_A_FOLDER (exit 2) naming the file in the way.
 */
export async function assertOutDir(dir: string): Promise<void> {
  const file = fileInTheWay(dir);
  if (file) throw notAFolder(dir, file);
}

/**
 * mkdir -p with the modes we mean whatever the umask (it can be 000): the folder itself
 * gets `mode`, each parent created on the way MODE_DIR_PUBLIC. Existing folders are left as
 * they are.
 */
export function makeDirSync(dir: string, mode: number): void {
  let first: string | undefined;
  try {
    first = mkdirSync(dir, {recursive: true, mode});
  } catch (error) {
    // Node's recursive mkdir reports ENOENT where a folder cannot be made (EROFS, EACCES):
    // making the first missing one alone throws the real cause.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      let d = dir;
      while (dirname(d) !== d && !existsSync(dirname(d))) d = dirname(d);
      mkdirSync(d, {mode});
    }
    throw error;
  }
  if (first === undefined) return;
  chmodSync(dir, mode);
  for (let d = dirname(dir); d.length >= first.length && d !== dirname(d); d = dirname(d)) chmodSync(d, MODE_DIR_PUBLIC);
}

/** Why a write failed, as the user should read it, from its errno code. */
export interface WriteFailure {
  code: 'READ_ONLY_FILE_SYSTEM' | 'DIR_NOT_WRITABLE' | 'DISK_FULL' | 'WRITE_FAILED';
  /** "the file system is read-only (EROFS)", ... */
  why: string;
  fix: string;
}

/**
 * The one mapping of a write's errno to what happened (every writer: atomic writes, mkdir,
 * appends, the index writer): EROFS a read-only file system, EACCES/EPERM no permission,
 * ENOSPC/EDQUOT a full disk or quota, others as the system names them.
 */
export function writeFailure(error: unknown): WriteFailure {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EROFS':
      return {
        code: 'READ_ONLY_FILE_SYSTEM',
        why: 'the file system is read-only (EROFS)',
        fix: 'write to a folder on a writable disk, or remount it read-write',
      };
    case 'EACCES':
    case 'EPERM':
      return {code: 'DIR_NOT_WRITABLE', why: `permission denied (${code})`, fix: 'choose a folder you can write to, or fix its owner or permissions'};
    case 'ENOSPC':
      return {code: 'DISK_FULL', why: 'the disk is full (ENOSPC)', fix: 'free disk space, then re-run the same command'};
    case 'EDQUOT':
      return {code: 'DISK_FULL', why: 'the disk quota is exceeded (EDQUOT)', fix: 'free space within your quota, then re-run the same command'};
    default:
      return {code: 'WRITE_FAILED', why: code ?? String(error), fix: 'check that the folder exists and is writable, and that the disk is not full'};
  }
}

/** The error for a failed mkdir or open: a file in the way is a usage error naming it. */
function folderError(dir: string, error: unknown): MtlsKitError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOTDIR' || code === 'EEXIST') {
    const file = fileInTheWay(dir);
    if (file) return notAFolder(dir, file);
  }
  const f = writeFailure(error);
  return new MtlsKitError({
    code: f.code === 'WRITE_FAILED' ? 'DIR_NOT_WRITABLE' : f.code,
    message: `cannot create folder ${dir}: ${f.why}`,
    suggestions: [f.code === 'WRITE_FAILED' ? 'choose a folder you can write to (--out / --dir)' : f.fix],
    cause: error,
  });
}

export interface PlannedFile {
  path: string;
  data: string | Uint8Array;
  mode: number;
}

export interface WriteOptions {
  /** Overwrite existing files. */
  force?: boolean;
  /** The flag that allows overwriting, named in the error (default `--force`). */
  forceFlag?: string;
}

async function exists(path: string): Promise<boolean> {
  try {
    await fsp.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Creates a directory (and parents) or fails with a clear, exit-4 error. */
export async function ensureDir(dir: string, mode = MODE_DIR_PUBLIC): Promise<void> {
  try {
    makeDirSync(dir, mode);
  } catch (error) {
    throw folderError(dir, error);
  }
}

/**
 * Refuses when any of the paths exists and force is not set.
 * @throws MtlsKitError FILE_EXISTS (exit 4) naming the first existing file and the flag.
 */
export async function assertWritable(paths: string[], options: WriteOptions = {}): Promise<void> {
  if (options.force) return;
  for (const p of paths) {
    if (await exists(p)) {
      throw preconditionError('FILE_EXISTS', `${p} already exists; nothing was written`, [
        `re-run with ${options.forceFlag ?? '--force'} to replace it, or choose another folder`,
      ]);
    }
  }
}

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

function fileExistsError(path: string, options: WriteOptions): MtlsKitError {
  return preconditionError('FILE_EXISTS', `${path} already exists; nothing was written`, [
    `re-run with ${options.forceFlag ?? '--force'} to replace it, or choose another folder`,
  ]);
}

function writeFailed(files: PlannedFile[], error: unknown): MtlsKitError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOTDIR' || code === 'EEXIST') {
    for (const f of files) {
      const file = fileInTheWay(dirname(f.path));
      if (file) return notAFolder(dirname(f.path), file);
    }
  }
  const f = writeFailure(error);
  return new MtlsKitError({
    code: code === 'ENOTDIR' ? 'DIR_NOT_WRITABLE' : f.code,
    message: `cannot write ${files.map((x) => x.path).join(', ')}: ${f.why}`,
    suggestions: [f.fix],
    cause: error,
  });
}

/**
 * Writes a group of files all-or-nothing (synchronous: fast in fleet worker threads,
 * and a CLI has nothing else to do meanwhile). Each file goes to a temp file created
 * with O_EXCL and its final mode (a key is never readable by others, even briefly),
 * fsynced when `durable` (default), then moved into place: with `force` by rename,
 * otherwise by link(2), which fails atomically when the target exists, so an existing
 * file is never replaced even by a racing process. On any failure every temp file,
 * and every target this call created, is removed.
 *
 * @throws MtlsKitError FILE_EXISTS (exit 4) when a target exists and force is not set,
 *   DIR_NOT_WRITABLE / WRITE_FAILED (exit 4) when a folder cannot be written.
 */
export function writeFilesAtomicSync(files: PlannedFile[], options: WriteOptions & {durable?: boolean; precheck?: boolean} = {}): void {
  if (!options.force && options.precheck !== false) {
    for (const f of files) if (existsSync(f.path)) throw fileExistsError(f.path, options);
  }
  const temps: string[] = [];
  const placed: string[] = [];
  // A folder that receives a key is 0700, any other we create 0755 (keys 0600 in 0700 folders).
  const dirs = new Map<string, number>();
  for (const f of files) {
    const dir = dirname(f.path);
    dirs.set(dir, f.mode === MODE_SECRET || dirs.get(dir) === MODE_DIR_SECRET ? MODE_DIR_SECRET : MODE_DIR_PUBLIC);
  }
  try {
    for (const [dir, mode] of dirs) makeDirSync(dir, mode);
    for (const f of files) {
      const tmp = tempName(f.path);
      const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, f.mode);
      temps.push(tmp);
      try {
        writeSync(fd, typeof f.data === 'string' ? Buffer.from(f.data) : f.data);
        fchmodSync(fd, f.mode);
        if (options.durable !== false) fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    for (const [i, f] of files.entries()) {
      const tmp = temps[i]!;
      if (options.force) {
        renameSync(tmp, f.path);
      } else {
        try {
          linkSync(tmp, f.path);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw fileExistsError(f.path, options);
          throw error;
        }
        placed.push(f.path);
        unlinkSync(tmp);
      }
    }
  } catch (error) {
    for (const t of temps) rmSync(t, {force: true});
    for (const p of placed) rmSync(p, {force: true});
    if (error instanceof MtlsKitError) throw error;
    throw writeFailed(files, error);
  }
}

/** Async form of writeFilesAtomicSync (same behaviour). */
export async function writeFilesAtomic(files: PlannedFile[], options: WriteOptions = {}): Promise<void> {
  writeFilesAtomicSync(files, options);
}

/** Writes one file atomically (see writeFilesAtomic). */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode: number, options: WriteOptions = {}): Promise<void> {
  await writeFilesAtomic([{path, data, mode}], options);
}

/** Appends text to a file with one write (O_APPEND) and fsyncs it, creating it 0644 if needed. */
export async function appendText(path: string, text: string): Promise<void> {
  await ensureDir(dirname(path));
  try {
    const fd = await fsp.open(path, 'a', MODE_PUBLIC);
    try {
      // The umask may have taken bits off a new file; 0644 is what we mean.
      if ((await fd.stat()).size === 0) await fd.chmod(MODE_PUBLIC);
      await fd.write(text);
      await fd.sync();
    } finally {
      await fd.close();
    }
  } catch (error) {
    throw writeFailed([{path, data: text, mode: MODE_PUBLIC}], error);
  }
}

/** How messages name an input: `stdin` for `-`, else the path as given. */
export function inputName(file: string): string {
  return file === '-' ? 'stdin' : file;
}

/** A URL where a file was wanted: mtls-kit reads local files only (it fetches nothing). */
function urlGivenAsFile(url: string): MtlsKitError {
  const name = basename(url.replace(/[?#].*$/, '')) || 'downloaded.pem';
  return usageError('URL_NOT_FETCHED', `${url} is a URL; mtls-kit reads local files and does not download anything`, [
    url.startsWith('s3://') ? `download it first: aws s3 cp ${url} ${name}` : `download it first: curl -fsSLo ${name} '${url}', then pass ${name}`,
  ]);
}

/**
 * Reads a whole input file, or stdin for `-`, up to INPUT_LIMITS.fileBytes (checked before reading).
 * @throws MtlsKitError FILE_NOT_FOUND / FILE_UNREADABLE / INPUT_LIMIT (exit 4) naming the file,
 *   IS_A_DIRECTORY / URL_NOT_FETCHED (exit 2).
 */
export async function readInput(file: string): Promise<Buffer> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of process.stdin) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      checkSize('stdin', 'fileBytes', size);
    }
    return Buffer.concat(chunks);
  }
  try {
    // Synchronous: one input read at start, and the first use of fs.promises loads a good
    // part of Node's streams (cold start of inspect / decode-header, docs/architecture.md).
    const fd = openSync(file, 'r');
    try {
      const st = fstatSync(fd);
      if (st.isFile()) checkSize(file, 'fileBytes', st.size);
      return readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if (error instanceof MtlsKitError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file)) throw urlGivenAsFile(file);
      throw preconditionError('FILE_NOT_FOUND', `${file} does not exist`, ['check the path; relative paths are resolved from ' + process.cwd()]);
    }
    if (code === 'EISDIR') {
      throw usageError('IS_A_DIRECTORY', `${file} is a folder, not a file`, ['pass a file inside it (ls ' + file + '), or - to read stdin']);
    }
    if (code === 'ENOTDIR') throw notAFolder(dirname(file), fileInTheWay(dirname(file)) ?? dirname(file));
    throw new MtlsKitError({code: 'FILE_UNREADABLE', message: `cannot read ${file}: ${code ?? String(error)}`, cause: error});
  }
}

/**
 * Reads a UTF-8 text file if it exists, else returns undefined.
 * @throws MtlsKitError NOT_A_FOLDER (exit 2) when a parent is a file (`--dir` pointing at
 *   a file), IS_A_DIRECTORY (exit 2), FILE_UNREADABLE (exit 4) naming the file.
 */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  return (await readBytesIfExists(path))?.toString('utf8');
}

/**
 * Reads a file's bytes if it exists, else returns undefined (`list` parses index.txt as bytes).
 * @throws MtlsKitError as readTextIfExists.
 */
export async function readBytesIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await fsp.readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') throw notAFolder(dirname(path), fileInTheWay(dirname(path)) ?? dirname(path));
    if (code === 'EISDIR') throw usageError('IS_A_DIRECTORY', `${path} is a folder, not a file`, ['move that folder away, or choose another --dir']);
    throw new MtlsKitError({
      code: 'FILE_UNREADABLE',
      message: `cannot read ${path}: ${code ?? String(error)}`,
      suggestions: ['check the file permissions'],
      cause: error,
    });
  }
}

/** Whether a path exists. */
export const pathExists = exists;
