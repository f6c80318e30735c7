/**
 * The filesystem side of mtls-kit: atomic writes with the right modes, refusal to
 * overwrite without --force, and all-or-nothing groups of files (STYLE "Files").
 */
import {randomBytes} from 'node:crypto';
import {constants, promises as fsp} from 'node:fs';
import {basename, dirname, join, resolve} from 'node:path';
import {MtlsKitError, preconditionError, usageError} from '../lib/errors.js';

/** Private keys and PKCS#12 files. */
export const MODE_SECRET = 0o600;
/** Certificates, bundles, CRLs, indexes. */
export const MODE_PUBLIC = 0o644;

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
export async function ensureDir(dir: string, mode = 0o755): Promise<void> {
  try {
    await fsp.mkdir(dir, {recursive: true, mode});
  } catch (error) {
    throw new MtlsKitError({
      code: 'DIR_NOT_WRITABLE',
      message: `cannot create folder ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      suggestions: ['choose a folder you can write to (--out / --dir)'],
      cause: error,
    });
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

/**
 * Writes a group of files all-or-nothing: each goes to a temp file with its final
 * mode (created with O_EXCL so a key is never readable by others, even briefly),
 * is fsynced, and only when every temp file exists are they renamed into place.
 * On any failure every temp file is removed and no target is touched.
 *
 * @throws MtlsKitError FILE_EXISTS (exit 4) when a target exists and force is not set,
 *   DIR_NOT_WRITABLE (exit 4) when a folder cannot be written.
 */
export async function writeFilesAtomic(files: PlannedFile[], options: WriteOptions = {}): Promise<void> {
  await assertWritable(
    files.map((f) => f.path),
    options,
  );
  const temps: string[] = [];
  try {
    for (const f of files) {
      await ensureDir(dirname(f.path));
      const tmp = tempName(f.path);
      const fh = await fsp.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, f.mode);
      temps.push(tmp);
      try {
        await fh.writeFile(f.data);
        await fh.chmod(f.mode);
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    if (!options.force) {
      // Re-check right before the renames: another process may have raced us.
      await assertWritable(
        files.map((f) => f.path),
        options,
      );
    }
    for (const [i, f] of files.entries()) {
      await fsp.rename(temps[i]!, f.path);
    }
  } catch (error) {
    await Promise.all(temps.map((t) => fsp.rm(t, {force: true})));
    if (error instanceof MtlsKitError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new MtlsKitError({
      code: 'WRITE_FAILED',
      message: `cannot write ${files.map((f) => f.path).join(', ')}: ${code ?? String(error)}`,
      suggestions: ['check that the folder exists and is writable, and that the disk is not full'],
      cause: error,
    });
  }
}

/** Writes one file atomically (see writeFilesAtomic). */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode: number, options: WriteOptions = {}): Promise<void> {
  await writeFilesAtomic([{path, data, mode}], options);
}

/** Appends text to a file with one write (O_APPEND), creating it 0644 if needed. */
export async function appendText(path: string, text: string): Promise<void> {
  await ensureDir(dirname(path));
  await fsp.appendFile(path, text, {mode: MODE_PUBLIC});
}

/**
 * Reads a whole input file, or stdin for `-`.
 * @throws MtlsKitError FILE_NOT_FOUND / FILE_UNREADABLE (exit 4) naming the file.
 */
export async function readInput(file: string): Promise<Buffer> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
  try {
    return await fsp.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw preconditionError('FILE_NOT_FOUND', `${file} does not exist`, ['check the path; relative paths are resolved from ' + process.cwd()]);
    }
    if (code === 'EISDIR') {
      throw usageError('IS_A_DIRECTORY', `${file} is a folder, not a file`);
    }
    throw new MtlsKitError({code: 'FILE_UNREADABLE', message: `cannot read ${file}: ${code ?? String(error)}`, cause: error});
  }
}

/** Reads a UTF-8 text file if it exists, else returns undefined. */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Whether a path exists. */
export const pathExists = exists;

/** Absolute path, for messages that must name the file unambiguously. */
export function absolute(path: string): string {
  return resolve(path);
}
