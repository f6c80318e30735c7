/**
 * Issuing fleets of client certificates on every core (worker threads), and signing
 * folders of CSRs (`sign DIR`) the same way; withRecording and resumeFleet are the one
 * Ctrl-C / kill -9 protocol (journal.ts) that gen-client, sign and renew share. The main
 * thread only hands out jobs, draws the progress bar and appends the CA index; the
 * workers generate keys, sign and write files (src/io/ca/fleet-worker.ts).
 */
import {rmSync} from 'node:fs';
import {availableParallelism} from 'node:os';
import {dirname} from 'node:path';
import {Worker} from 'node:worker_threads';
import {type ErrorCode, type ExitCodeValue, MtlsKitError} from '../../lib/errors.js';
import type {IndexEntry} from '../../lib/x509/index-db.js';
import type {SanInput} from '../../lib/x509/issue.js';
import type {StrippedItem} from '../../lib/pki/sign-csr.js';
import type {NameEntry} from '../../lib/x509/names.js';
import type {CertProfile, KeySpec} from '../../lib/x509/profiles.js';
import {type ClientFiles, type IssuedSummary, isRecordedFolder} from './client-files.js';
import {IndexJournal, type StagingSweep, sweepStaging} from './journal.js';
import type {P12Options} from './issue.js';

/** One certificate to issue. */
export interface FleetJob {
  n: number;
  subject: NameEntry[][];
  sans: SanInput[];
  serialHex: string;
  /** Where the files end up (reported, and named in index.txt). */
  files: ClientFiles;
  /** Where the worker writes them: the same names in the hidden staging folder. */
  stagingFiles: ClientFiles;
  stagingDir: string;
  finalDir: string;
  indexFile: string;
  /** Sign this CSR (`sign` batches) instead of generating a key; subject and SANs come from it. */
  csrFile?: string;
}

export interface FleetShared {
  issuerCertDer: Uint8Array;
  issuerKeyPkcs8Der: Uint8Array;
  issuerSpec: KeySpec;
  chainDers: Uint8Array[];
  keySpec: KeySpec;
  days: number;
  nowMs: number;
  force: boolean;
  p12?: P12Options;
  /** `sign --strip-ca`: sign CA:TRUE requests as clients. */
  stripCa?: boolean;
  /** The client profile when it is not the default one (gen-client --ocsp-url adds an OCSP URL). */
  profile?: CertProfile;
}

/** What a worker sends back per certificate. */
export interface FleetDone {
  type: 'done';
  n: number;
  index: Omit<IndexEntry, 'notAfter'> & {notAfterMs: number};
  summary: IssuedSummary;
  /** `sign`: what the CSR asked for that the certificate does not carry. */
  stripped?: StrippedItem[];
}

export interface FleetError {
  type: 'error';
  n: number;
  error: {code: ErrorCode; message: string; suggestions: string[]; exitCode: number; bug: boolean};
}

export interface FleetRunResult {
  /** Every certificate written and recorded, in job order. */
  done: FleetDone[];
  error?: MtlsKitError;
  /** Set when `stop` was aborted (Ctrl-C): workers were stopped, what they finished is recorded. */
  interrupted: boolean;
  workers: number;
}

export interface FleetRunOptions {
  workers: number;
  /** Records each certificate; flushed every FLUSH_MS and every FLUSH_BATCH certificates. */
  journal: IndexJournal;
  onProgress: (n: number) => void;
  /** Aborting stops the workers (Ctrl-C). */
  stop?: AbortSignal;
}

/**
 * The one fleet protocol (journal.ts) with Ctrl-C handling, shared by gen-client --count,
 * sign DIR and renew: SIGINT/SIGTERM abort `stop`; every certificate `work` reports is
 * recorded through the journal (index line fsynced, then its staging folder renamed into
 * place); when `work` ends, however it ends, the journal is flushed and closed and the
 * staging folders of `stagingDirs` that were not recorded are removed.
 */
export async function withRecording<T>(
  indexPath: string,
  stagingDirs: ReadonlyMap<string, string>,
  work: (journal: IndexJournal, stop: AbortSignal) => Promise<T>,
): Promise<T> {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const journal = new IndexJournal(indexPath);
  try {
    return await work(journal, stop.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    try {
      journal.flush();
    } finally {
      journal.close();
      for (const [serial, dir] of stagingDirs) if (!journal.recorded.has(serial)) rmSync(dir, {recursive: true, force: true});
    }
  }
}

/**
 * runFleet under withRecording: what gen-client --count and sign DIR run. Ctrl-C stops the
 * workers; what they finished is recorded, the rest removed.
 */
export async function runRecordedFleet(
  jobs: FleetJob[],
  shared: FleetShared,
  o: {workers: number; indexPath: string; onProgress: (n: number) => void},
): Promise<FleetRunResult> {
  const staging = new Map(jobs.map((j) => [j.serialHex, j.stagingDir]));
  return withRecording(o.indexPath, staging, (journal, stop) => runFleet(jobs, shared, {workers: o.workers, journal, onProgress: o.onProgress, stop}));
}

/** What resuming found: staging folders finished or removed, and jobs an earlier run already did. */
export interface FleetResume<J> {
  jobs: J[];
  alreadyDone: number;
  sweep: StagingSweep;
}

/**
 * Resuming a fleet after Ctrl-C or kill -9: finishes or removes what an interrupted run
 * left beside the jobs' folders (a staging folder whose serial is recorded is moved into
 * place, any other deleted), then, unless `force`, drops the jobs whose folder already
 * holds the certificate the index records for it (`needsKey`: and its private key).
 */
export function resumeFleet<J extends {files: ClientFiles; finalDir: string; indexFile: string}>(
  jobs: J[],
  entries: IndexEntry[],
  o: {force: boolean; needsKey: boolean},
): FleetResume<J> {
  const recorded = new Map(entries.map((e) => [e.serial, e]));
  const sweep: StagingSweep = {promoted: [], removed: []};
  for (const parent of new Set(jobs.map((j) => dirname(j.finalDir)))) {
    const s = sweepStaging(parent, new Set(recorded.keys()));
    sweep.promoted.push(...s.promoted);
    sweep.removed.push(...s.removed);
  }
  if (o.force) return {jobs, alreadyDone: 0, sweep};
  const left = jobs.filter((j) => !isRecordedFolder(j, recorded, o.needsKey));
  return {jobs: left, alreadyDone: jobs.length - left.length, sweep};
}

/**
 * Starts a fleet worker: the built fleet-worker.js, or, when this module runs from source
 * (the in-process flow tests under tsx), fleet-worker.ts with tsx's loader registered in
 * the worker first (a worker does not inherit the loader hooks of `--import tsx`).
 */
function startWorker(workerData: {shared: FleetShared; jobs: FleetJob[]}): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./fleet-worker.js', import.meta.url), {workerData});
  const source = JSON.stringify(new URL('./fleet-worker.ts', import.meta.url).href);
  return new Worker(`import('tsx/esm/api').then((tsx) => tsx.register()).then(() => import(${source}))`, {eval: true, workerData});
}

/** A batch is fsynced at least this often, so little is lost to kill -9 (which loses nothing recorded). */
const FLUSH_MS = 200;
const FLUSH_BATCH = 256;

/** Default worker count: every core. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

/**
 * Runs the jobs on `workers` threads. Each certificate a worker finishes is recorded in
 * the journal (index line fsynced, then its folder renamed into place, see
 * fleet-journal.ts). Resolves when all are done, or the first failure or `stop` has ended
 * every worker; the journal is flushed before it resolves, also on failure.
 */
export async function runFleet(jobs: FleetJob[], shared: FleetShared, o: FleetRunOptions): Promise<FleetRunResult> {
  const count = Math.max(1, Math.min(o.workers, jobs.length));
  const buckets: FleetJob[][] = Array.from({length: count}, () => []);
  for (const [i, j] of jobs.entries()) buckets[i % count]!.push(j);
  const byN = new Map(jobs.map((j) => [j.n, j]));
  const done: FleetDone[] = [];
  let firstError: MtlsKitError | undefined;
  let flushError: MtlsKitError | undefined;
  let interrupted = false;
  const threads: Worker[] = [];
  const flush = (): void => {
    try {
      o.journal.flush();
    } catch (error) {
      flushError ??= error as MtlsKitError;
      for (const t of threads) void t.terminate();
    }
  };
  const timer = setInterval(flush, FLUSH_MS);
  const onStop = (): void => {
    interrupted = true;
    for (const t of threads) void t.terminate();
  };
  o.stop?.addEventListener('abort', onStop, {once: true});
  try {
    await Promise.all(
      buckets.map(
        (bucket) =>
          new Promise<void>((resolve) => {
            const w = startWorker({shared, jobs: bucket});
            threads.push(w);
            if (interrupted) void w.terminate();
            w.on('message', (m: FleetDone | FleetError) => {
              if (m.type === 'done') {
                const job = byN.get(m.n)!;
                const {notAfterMs, ...rest} = m.index;
                o.journal.add({...rest, notAfter: new Date(notAfterMs)}, job.stagingDir, job.finalDir);
                done.push(m);
                o.onProgress(1);
                if (o.journal.pendingCount >= FLUSH_BATCH) flush();
              } else if (!firstError) {
                firstError = new MtlsKitError({
                  code: m.error.code,
                  message: m.error.message,
                  suggestions: m.error.suggestions,
                  exitCode: m.error.exitCode as ExitCodeValue,
                });
                for (const t of threads) void t.terminate();
              }
            });
            w.on('error', (e) => {
              firstError ??= new MtlsKitError({code: 'WORKER_FAILED', message: `a fleet worker failed: ${e.message}`, exitCode: 1});
              resolve();
            });
            w.on('exit', () => resolve());
          }),
      ),
    );
  } finally {
    clearInterval(timer);
    o.stop?.removeEventListener('abort', onStop);
    flush();
  }
  done.sort((a, b) => a.n - b.n);
  const error = flushError ?? firstError;
  return {done, ...(error ? {error} : {}), interrupted, workers: count};
}
