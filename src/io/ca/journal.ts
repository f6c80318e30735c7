/**
 * What makes a fleet survive Ctrl-C and kill -9: every certificate is written into a
 * hidden staging folder, its index line is appended and fsynced, and only then is the
 * folder renamed to its visible name. So at any instant:
 *
 *   - every visible certificate folder has its line in index.txt;
 *   - every index line has its folder, or (in the instant between the fsync and the
 *     rename) a complete staging folder that the next run renames into place;
 *   - a staging folder without an index line is a certificate nobody ever recorded:
 *     the next run (or this one, on Ctrl-C) deletes it, keys included.
 *
 * Staging folders are named `.<folder>.<serial>.partial` beside their final folder.
 * The guarantee is against the process being killed; against power loss only the index
 * is fsynced (certificate files are, too, with MTLS_KIT_DURABLE=1).
 */
import {existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync} from 'node:fs';
import {basename, dirname, join} from 'node:path';
import {isMtlsKitError, MtlsKitError} from '../../lib/errors.js';
import type {IndexEntry} from '../../lib/x509/index-db.js';
import {recordIssuedSync} from './directory.js';

const STAGING = /^\.(.+)\.([0-9A-F]+)\.partial$/;

/** The hidden staging folder of a certificate folder. */
export function stagingDirFor(finalDir: string, serialHex: string): string {
  return join(dirname(finalDir), `.${basename(finalDir)}.${serialHex}.partial`);
}

/**
 * Moves a staging folder's files into their final folder: one atomic rename when the final
 * folder does not exist, else file by file (--force over an existing folder).
 */
export function promoteStaging(staging: string, finalDir: string): void {
  try {
    renameSync(staging, finalDir);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR') throw error;
  }
  mkdirSync(finalDir, {recursive: true});
  for (const f of readdirSync(staging)) renameSync(join(staging, f), join(finalDir, f));
  rmdirSync(staging);
}

export interface StagingSweep {
  /** Staging folders whose certificate was recorded: renamed into place. */
  promoted: string[];
  /** Staging folders of certificates never recorded: deleted. */
  removed: string[];
}

/**
 * Finishes or removes what an interrupted fleet left in `parent`: a staging folder whose
 * serial is in `recorded` is renamed into place, any other is deleted.
 */
export function sweepStaging(parent: string, recorded: ReadonlySet<string>): StagingSweep {
  const sweep: StagingSweep = {promoted: [], removed: []};
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return sweep;
  }
  for (const name of names) {
    const m = STAGING.exec(name);
    if (!m) continue;
    const staging = join(parent, name);
    if (recorded.has(m[2]!)) {
      promoteStaging(staging, join(parent, m[1]!));
      sweep.promoted.push(join(parent, m[1]!));
    } else {
      rmSync(staging, {recursive: true, force: true});
      sweep.removed.push(staging);
    }
  }
  return sweep;
}

/**
 * Appends index lines in batches (one locked write and fsync per batch, directory.ts),
 * then the batch's staging folders are renamed into place.
 */
export class IndexJournal {
  private pending: Array<{entry: IndexEntry; staging: string; finalDir: string}> = [];
  /** Serials recorded (fsynced) by this journal. */
  readonly recorded = new Set<string>();

  constructor(private readonly indexPath: string) {}

  /** Queues a written certificate; `flush` records it. */
  add(entry: IndexEntry, staging: string, finalDir: string): void {
    this.pending.push({entry, staging, finalDir});
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /**
   * Records every queued certificate through the locked index writer (directory.ts:
   * lock, open afresh, append, fsync), then renames each staging folder into place.
   * @throws MtlsKitError INDEX_WRITE_FAILED / READ_ONLY_FILE_SYSTEM / INDEX_LOCKED (exit 4) naming index.txt.
   */
  flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    try {
      recordIssuedSync(
        {index: this.indexPath},
        batch.map((b) => b.entry),
      );
    } catch (error) {
      if (!isMtlsKitError(error)) throw error;
      const e = error;
      throw new MtlsKitError({
        code: e.code,
        message: e.message,
        suggestions: [...e.suggestions, 're-run the same command: it issues only what is missing'],
        cause: error,
      });
    }
    for (const b of batch) {
      this.recorded.add(b.entry.serial);
      if (existsSync(b.staging)) promoteStaging(b.staging, b.finalDir);
    }
  }

  /** Nothing to close: every flush opens index.txt afresh under the lock. */
  close(): void {}
}
