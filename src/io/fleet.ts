/**
 * Issuing fleets of client certificates on every core (worker threads), and signing
 * folders of CSRs (`sign DIR`) the same way. The main
 * thread only hands out jobs, draws the progress bar and appends the CA index; the
 * workers generate keys, sign and write files (src/io/fleet-worker.ts).
 */
import {availableParallelism} from 'node:os';
import {Worker} from 'node:worker_threads';
import {MtlsKitError, type ExitCodeValue} from '../lib/errors.js';
import type {IndexEntry} from '../lib/x509/index-db.js';
import type {SanInput} from '../lib/x509/issue.js';
import type {StrippedItem} from '../lib/pki/sign-csr.js';
import type {NameEntry} from '../lib/x509/names.js';
import type {KeySpec} from '../lib/x509/profiles.js';
import type {ClientFiles, IssuedSummary} from './client-files.js';
import type {P12Options} from './issue-one.js';

/** One certificate to issue. */
export interface FleetJob {
  n: number;
  subject: NameEntry[][];
  sans: SanInput[];
  serialHex: string;
  files: ClientFiles;
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
  error: {code: string; message: string; suggestions: string[]; exitCode: number; bug: boolean};
}

export interface FleetRunResult {
  done: FleetDone[];
  /** Index entries of every certificate written (also on failure). */
  index: IndexEntry[];
  error?: MtlsKitError;
  workers: number;
}

/** Default worker count: every core. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

/**
 * Runs the jobs on `workers` threads. Resolves when all are done or the first failure
 * has stopped every worker; certificates already written are returned for the index.
 */
export async function runFleet(jobs: FleetJob[], shared: FleetShared, workers: number, onProgress: (n: number) => void): Promise<FleetRunResult> {
  const count = Math.max(1, Math.min(workers, jobs.length));
  const buckets: FleetJob[][] = Array.from({length: count}, () => []);
  jobs.forEach((j, i) => buckets[i % count]!.push(j));
  const done: FleetDone[] = [];
  let firstError: MtlsKitError | undefined;
  const threads: Worker[] = [];
  await Promise.all(
    buckets.map(
      (bucket) =>
        new Promise<void>((resolve) => {
          const w = new Worker(new URL('./fleet-worker.js', import.meta.url), {workerData: {shared, jobs: bucket}});
          threads.push(w);
          w.on('message', (m: FleetDone | FleetError) => {
            if (m.type === 'done') {
              done.push(m);
              onProgress(1);
            } else if (!firstError) {
              firstError = new MtlsKitError({code: m.error.code, message: m.error.message, suggestions: m.error.suggestions, exitCode: m.error.exitCode as ExitCodeValue});
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
  done.sort((a, b) => a.n - b.n);
  const index = done.map((d) => ({...d.index, notAfter: new Date(d.index.notAfterMs)}) as IndexEntry);
  for (const e of index) delete (e as unknown as {notAfterMs?: number}).notAfterMs;
  return {done, index, ...(firstError ? {error: firstError} : {}), workers: count};
}
