/**
 * Sign one CSR and write certificate.crt and chain.pem: the unit of work shared by
 * `sign` (main thread) and batch signing in fleet workers (fleet-worker.ts).
 */
import {readdirSync, readFileSync, statSync} from 'node:fs';
import {basename, extname, join} from 'node:path';
import {MtlsKitError, preconditionError} from '../../lib/errors.js';
import type {ClientIssuer} from '../../lib/pki/client-cert.js';
import {type CsrOverrides, planClientRequest, type SignedForKey, signClientForKey, type StrippedItem} from '../../lib/pki/sign-csr.js';
import {csrDerFromInput, parseCsr} from '../../lib/x509/csr.js';
import type {IndexEntry} from '../../lib/x509/index-db.js';
import {MODE_PUBLIC, writeFilesAtomicSync} from '../files.js';

export interface SignOneParams {
  issuer: ClientIssuer;
  /** The CSR file (for messages, and read when `data` is absent). */
  csrFile: string;
  data?: Uint8Array;
  overrides?: CsrOverrides;
  stripCa: boolean;
  serialHex: string;
  days: number;
  now: Date;
  files: {certificate: string; chain: string};
  indexFile: string;
  force: boolean;
  /** fsync each file (default true; batches turn it off, as fleets do). */
  durable?: boolean;
  /** Records the index line; called after signing and before any file is written. */
  record?: (entry: IndexEntry) => void;
}

export interface SignOneResult {
  signed: SignedForKey;
  stripped: StrippedItem[];
}

function readCsrFile(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw preconditionError('FILE_NOT_FOUND', `${file} does not exist`, ['check the path']);
    throw new MtlsKitError({code: 'FILE_UNREADABLE', message: `cannot read ${file}: ${code ?? String(error)}`, cause: error});
  }
}

/**
 * Reads, checks and signs a CSR with the client profile, then writes the certificate and
 * chain all-or-nothing.
 * @throws MtlsKitError BAD_CSR, CSR_BAD_SIGNATURE, CSR_REQUESTS_CA, CSR_KEY_UNSUPPORTED, FILE_EXISTS (exit 4).
 */
export async function signCsrAndWrite(p: SignOneParams): Promise<SignOneResult> {
  const der = csrDerFromInput(p.data ?? readCsrFile(p.csrFile), p.csrFile);
  const csr = await parseCsr(der, p.csrFile);
  const plan = planClientRequest(csr, p.csrFile, p.overrides, p.stripCa);
  const signed = signClientForKey({
    issuer: p.issuer,
    subjectDer: plan.subjectDer,
    sans: plan.sans,
    spki: plan.spki,
    keySpec: plan.keySpec,
    serialHex: p.serialHex,
    days: p.days,
    now: p.now,
    indexFile: p.indexFile,
  });
  p.record?.(signed.index);
  writeFilesAtomicSync(
    [
      {path: p.files.certificate, data: signed.certPem, mode: MODE_PUBLIC},
      {path: p.files.chain, data: signed.chainPem, mode: MODE_PUBLIC},
    ],
    {force: p.force, durable: (p.durable ?? true) || Boolean(process.env.MTLS_KIT_DURABLE)},
  );
  return {signed, stripped: plan.stripped};
}

const CSR_EXTENSIONS = new Set(['.csr', '.req']);

/** Whether `sign`'s argument is a folder of CSRs (not `-`, not a file). */
export function isCsrFolder(arg: string): boolean {
  if (arg === '-') return false;
  try {
    return statSync(arg).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The CSRs of a folder and where each certificate goes: `x/request.csr` (or any CSR in a
 * subfolder) beside itself, as `gen-client --csr-only` lays fleets out; `x.csr` directly
 * in the folder into `x/`. With `out` the same layout is made under it.
 */
export function findCsrs(folder: string, out: string | undefined): Array<{csr: string; outDir: string}> {
  const found: Array<{csr: string; outDir: string}> = [];
  const base = out ?? folder;
  for (const e of readdirSync(folder, {withFileTypes: true}).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(folder, e.name);
    if (e.isFile() && CSR_EXTENSIONS.has(extname(e.name))) found.push({csr: p, outDir: join(base, basename(e.name, extname(e.name)))});
    else if (e.isDirectory()) {
      for (const f of readdirSync(p, {withFileTypes: true}).sort((a, b) => a.name.localeCompare(b.name))) {
        if (f.isFile() && CSR_EXTENSIONS.has(extname(f.name))) found.push({csr: join(p, f.name), outDir: join(base, e.name)});
      }
    }
  }
  return found;
}
