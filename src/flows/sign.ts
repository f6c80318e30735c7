/**
 * sign: one CSR in this thread, or a folder of CSRs on worker threads under the fleet
 * protocol (io/ca/fleet.ts), which makes a batch resumable: Ctrl-C or kill -9 leaves
 * every visible certificate recorded in index.txt, and re-running the same command
 * finishes what was left and signs only the requests not yet signed.
 */
import {dirname, join, resolve} from 'node:path';
import {clientFilePaths, loadIssuer} from '../io/ca/client-files.js';
import {loadCa, readIndex, recordIssuedSync, serialSet} from '../io/ca/directory.js';
import {type FleetJob, resumeFleet} from '../io/ca/fleet.js';
import {stagingDirFor} from '../io/ca/journal.js';
import {findCsrs, isCsrFolder, signCsrAndWrite} from '../io/ca/sign.js';
import {assertWritable, inputName, readInput} from '../io/files.js';
import {resolveSecret, withPassphrase} from '../io/secrets.js';
import {type CertDetails, describeCertificate} from '../lib/alb/describe.js';
import {ExitCode, MtlsKitError, preconditionError, usageError} from '../lib/errors.js';
import type {CsrOverrides, StrippedItem} from '../lib/pki/sign-csr.js';
import {typeSan} from '../lib/x509/issue.js';
import {type SubjectFields, subjectFromFields} from '../lib/x509/names.js';
import {KEY_TYPES} from '../lib/x509/profiles.js';
import {newSerialHex} from '../lib/x509/serial.js';
import {runCaFleet} from './fleet.js';
import {type FlowContext, report} from './progress.js';

export interface SignedFiles {
  certificate: string;
  chain: string;
}

export interface SignedSummary {
  csr: string;
  subject: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  sha256Fingerprint: string;
  files: SignedFiles;
  /** What the request asked for that the certificate does not carry. */
  stripped: StrippedItem[];
}

export interface SignResult {
  caDir: string;
  issuer: {tier: 'root' | 'intermediate'; subject: string};
  count: number;
  /** Full details when one CSR was signed; null for a folder. */
  certificate: (CertDetails & {files: SignedFiles; csr: string; stripped: StrippedItem[]}) | null;
  certificates: SignedSummary[];
  workers: number;
  seconds: number;
  certsPerSecond: number;
  next: string;
}

export interface SignParams {
  dir: string;
  /** A CSR file, `-` for stdin, or a folder of CSRs. */
  csr: string;
  out: string | undefined;
  /** Subject fields given on the command line (replace the request's subject); none: keep it. */
  fields: SubjectFields;
  /** SANs given on the command line (replace the request's); undefined: keep them. */
  sans: string[] | undefined;
  days: number;
  stripCa: boolean;
  workers?: number;
  passphraseFile: string | undefined;
  force: boolean;
}

/**
 * Signs one CSR or a folder of CSRs (see the file comment).
 * @throws MtlsKitError OVERRIDE_IN_BATCH (2), NO_CSR (4), INTERRUPTED (130), and the CSR checks' codes.
 */
export async function runSign(p: SignParams, ctx: FlowContext): Promise<SignResult> {
  const isFolder = isCsrFolder(p.csr);
  const subjectGiven = Object.values(p.fields).some((v) => v !== undefined);
  if (isFolder && (subjectGiven || p.sans))
    throw usageError('OVERRIDE_IN_BATCH', '--cn, --subject and --san apply to one CSR, not to a folder', [
      'sign the CSR on its own to override its subject or SANs',
    ]);
  const overrides: CsrOverrides = {
    ...(subjectGiven ? {subject: subjectFromFields(p.fields)} : {}),
    ...(p.sans ? {sans: p.sans.map((v) => typeSan(v))} : {}),
  };
  const ca = await loadCa(p.dir);
  for (const w of ca.warnings) report(ctx.onProgress, {kind: 'warning', text: w});
  const passphrase = await resolveSecret(p.passphraseFile, 'MTLS_KIT_CA_PASSPHRASE', 'CA passphrase');
  const entries = await readIndex(ca.issuing.paths);
  const used = serialSet(entries);
  const planned = isFolder ? findCsrs(p.csr, p.out) : [{csr: p.csr, outDir: p.out ?? (p.csr === '-' ? '.' : dirname(p.csr))}];
  if (planned.length === 0)
    throw preconditionError('NO_CSR', `${p.csr} holds no *.csr or *.req file (nor its subfolders)`, [
      'put the requests there, e.g. device-1/request.csr from mtls-kit gen-client --csr-only',
    ]);
  const all: FleetJob[] = planned.map((x, i) => {
    const serialHex = newSerialHex(used);
    used.add(serialHex);
    const files = clientFilePaths(x.outDir);
    // Batches go through the fleet's staging folders (recorded in the index before they appear).
    const stagingDir = stagingDirFor(x.outDir, serialHex);
    return {
      n: i + 1,
      subject: [],
      sans: [],
      serialHex,
      files,
      stagingFiles: clientFilePaths(stagingDir),
      stagingDir,
      finalDir: x.outDir,
      indexFile: resolve(files.certificate),
      csrFile: x.csr,
    };
  });
  let jobs = all;
  if (isFolder) {
    // Resuming: finish what an interrupted batch left, skip the requests it already signed.
    const resumed = resumeFleet(all, entries, {force: p.force, needsKey: false});
    jobs = resumed.jobs;
    if (resumed.alreadyDone > 0)
      report(ctx.onProgress, {
        kind: 'note',
        text: `${resumed.alreadyDone} of ${all.length} requests were already signed by an earlier run; signing the remaining ${jobs.length}`,
      });
  }
  await assertWritable(
    jobs.flatMap((j) => [j.files.certificate, j.files.chain]),
    {force: p.force},
  );
  const {issuer, keyPkcs8Der} = await withPassphrase(passphrase, 'CA key passphrase', (pass) => loadIssuer(ca, pass));
  const started = process.hrtime.bigint();
  let certificate: SignResult['certificate'] = null;
  let certificates: SignedSummary[] = [];
  let workers = 1;
  const filesOf = (j: FleetJob): SignedFiles => ({certificate: j.files.certificate, chain: j.files.chain});
  if (!isFolder) {
    const job = jobs[0]!;
    const source = inputName(p.csr);
    const r = await signCsrAndWrite({
      issuer,
      csrFile: source,
      data: await readInput(p.csr),
      overrides,
      stripCa: p.stripCa,
      serialHex: job.serialHex,
      days: p.days,
      now: ctx.now,
      files: job.files,
      indexFile: job.indexFile,
      force: p.force,
      record: (e) => recordIssuedSync(ca.issuing.paths, [e]),
    });
    const d = describeCertificate(r.signed.parsed);
    certificate = {...d, files: filesOf(job), csr: source, stripped: r.stripped};
    const {subject, serial, notBefore, notAfter, sha256Fingerprint} = d;
    certificates = [{csr: source, subject, serial, notBefore, notAfter, sha256Fingerprint, files: filesOf(job), stripped: r.stripped}];
  } else if (jobs.length > 0) {
    const r = await runCaFleet({
      ca,
      issuer,
      keyPkcs8Der,
      jobs,
      // keySpec is unused when signing CSRs (the key is the request's).
      work: {keySpec: KEY_TYPES['ec-p256'], days: p.days, nowMs: ctx.now.getTime(), force: p.force, stripCa: p.stripCa},
      workers: p.workers,
      label: 'signing',
      onProgress: ctx.onProgress,
    });
    workers = r.workers;
    if (r.interrupted) {
      throw new MtlsKitError({
        code: 'INTERRUPTED',
        message: `interrupted: ${r.done.length} of ${jobs.length} requests signed and recorded in ${ca.issuing.paths.index}; nothing half-written was left`,
        suggestions: [`re-run the same command to sign the remaining ${jobs.length - r.done.length}`],
        exitCode: ExitCode.Interrupted,
      });
    }
    if (r.error) throw r.error;
    const byN = new Map(jobs.map((j) => [j.n, j]));
    certificates = r.done.map((d) => {
      const job = byN.get(d.n)!;
      return {csr: job.csrFile!, ...d.summary, files: filesOf(job), stripped: d.stripped ?? []};
    });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    caDir: p.dir,
    issuer: {tier: ca.issuing.tier, subject: describeCertificate(ca.issuing.cert).subject},
    count: certificates.length,
    certificate,
    certificates,
    workers,
    seconds: Number(seconds.toFixed(3)),
    certsPerSecond: Number((certificates.length / Math.max(seconds, 1e-9)).toFixed(1)),
    next: `mtls-kit verify ${(certificates[0]?.files ?? filesOf(all[0]!)).chain} --trust-store ${join(p.dir, 'ca-bundle.pem')}`,
  };
}
