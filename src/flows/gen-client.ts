/**
 * gen-client: plan every certificate (subjects, SANs, serials, folders), check nothing is in
 * the way, then issue one certificate in this thread, a deliberate defect, or a fleet on
 * worker threads under the fleet protocol (io/ca/fleet.ts: recorded in index.txt before
 * its folder appears; Ctrl-C or kill -9 loses nothing; a re-run issues only what is
 * missing). With csrOnly: keys and requests, no CA.
 */
import {join, resolve} from 'node:path';
import {clientFilePaths, type ClientFiles, type IssuedSummary, loadIssuer} from '../io/ca/client-files.js';
import {csrFilePaths, type WrittenCsr, writeKeyAndCsr} from '../io/ca/csr.js';
import {writeDefect} from '../io/ca/defect.js';
import {loadCa, readIndex, recordIssuedSync, serialSet} from '../io/ca/directory.js';
import {type FleetJob, resumeFleet} from '../io/ca/fleet.js';
import {issueAndWrite} from '../io/ca/issue.js';
import {stagingDirFor} from '../io/ca/journal.js';
import {assertOutDir, assertWritable} from '../io/files.js';
import {resolveSecret, withPassphrase} from '../io/secrets.js';
import {DEFECTS, type DefectKind} from '../lib/alb/defects.js';
import {type CertDetails, describeCertificate} from '../lib/alb/describe.js';
import {ExitCode, MtlsKitError, usageError} from '../lib/errors.js';
import type {CaRef} from '../lib/pki/ca.js';
import {typeSan} from '../lib/x509/issue.js';
import {expandTemplate, type NameEntry, type SubjectFields, subjectFromFields} from '../lib/x509/names.js';
import {checkOcspUrl, KEY_TYPES, type KeyType, PROFILES, withOcspUrl} from '../lib/x509/profiles.js';
import {P12_PASSWORD_ENV} from '../lib/x509/pkcs12-env.js';
import {newSerialHex} from '../lib/x509/serial.js';
import {runCaFleet} from './fleet.js';
import {type FlowContext, report} from './progress.js';

export interface GenClientResult {
  caDir: string;
  /** The CA that issued them. */
  ca: CaRef;
  keyType: string;
  /** Certificates issued by this run. */
  count: number;
  /** Fleets: certificates an earlier, interrupted run of the same command had already issued (skipped). */
  alreadyIssued: number;
  /** Full details of the certificate when one was issued; null for fleets. */
  certificate: (CertDetails & {files: ClientFiles}) | null;
  certificates: IssuedSummary[];
  workers: number;
  /** With --defect: the kind, the status ALB should log, why, and the CRL written (revoked). */
  defect?: {kind: string; expected: string; why: string; crl: string | null; throwawayCa: string | null};
  seconds: number;
  certsPerSecond: number;
  next: string;
}

/** With --csr-only: the keys and requests written (no CA is used). */
export interface GenClientCsrResult {
  csrOnly: true;
  keyType: string;
  count: number;
  requests: WrittenCsr[];
  next: string;
}

export interface GenClientParams {
  dir: string;
  out: string;
  /** Subject fields (cn and subject may hold a {n} template for fleets). */
  fields: SubjectFields;
  /** SAN templates. */
  sans: string[];
  days: number;
  keyType: KeyType;
  /** Undefined: one certificate; a number: a fleet (even of 1). */
  count: number | undefined;
  workers?: number;
  p12: boolean;
  p12Legacy: boolean;
  /** The PKCS#12 password's file (else MTLS_KIT_P12_PASSWORD), read only with p12 or p12Legacy. */
  p12PasswordFile: string | undefined;
  /** The CA passphrase's file (else MTLS_KIT_CA_PASSPHRASE). */
  passphraseFile: string | undefined;
  force: boolean;
  defect?: DefectKind;
  defectKey: 'rsa-1024' | 'ed25519';
  /** An OCSP responder URL for the certificates' authorityInfoAccess (CloudFront with OCSP on). */
  ocspUrl?: string | undefined;
}

/** A folder name from a CN: keeps letters, digits, dot, dash and underscore. */
function folderName(cn: string): string {
  return cn.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_') || 'client';
}

const cnOf = (subject: NameEntry[][]): string | undefined => subject.flat().find((a) => a.type === '2.5.4.3')?.value;

/** The subject of certificate n (templates expanded). */
function subjectFor(fields: SubjectFields, n: number): NameEntry[][] {
  return subjectFromFields({
    ...fields,
    ...(fields.cn ? {cn: expandTemplate(fields.cn, n)} : {}),
    ...(fields.subject ? {subject: expandTemplate(fields.subject, n)} : {}),
  });
}

/**
 * Checks the subject flags every gen-client needs.
 * @throws MtlsKitError MISSING_CN, FLEET_TEMPLATE (exit 2).
 */
function checkTemplate(fields: SubjectFields, count: number | undefined): string {
  if (!fields.cn && !fields.subject)
    throw usageError('MISSING_CN', 'no subject given', ['give --cn NAME (for a fleet a template such as --cn "device-{n}") or --subject "CN=...,O=..."']);
  const template = fields.cn ?? fields.subject!;
  if (count !== undefined && count > 1 && !/\{n(:\d+)?\}/.test(template)) {
    throw usageError('FLEET_TEMPLATE', `--count ${count} needs a name template with {n}, got "${template}"`, [
      "example: --cn 'device-{n}' or --cn 'device-{n:4}'",
    ]);
  }
  return template;
}

/**
 * Issues one client certificate, a defect, or a fleet (see the file comment).
 * @throws MtlsKitError INTERRUPTED (exit 130) when Ctrl-C stopped a fleet; what was issued is recorded.
 */
export async function runGenClient(p: GenClientParams, ctx: FlowContext): Promise<GenClientResult> {
  const fleet = p.count !== undefined;
  const count = p.count ?? 1;
  const template = checkTemplate(p.fields, p.count);
  const ca = await loadCa(p.dir);
  for (const w of ca.warnings) report(ctx.onProgress, {kind: 'warning', text: w});
  const passphrase = await resolveSecret(p.passphraseFile, 'MTLS_KIT_CA_PASSPHRASE', 'CA passphrase');
  const profile = p.ocspUrl ? withOcspUrl(PROFILES.client, checkOcspUrl(p.ocspUrl)) : undefined;
  const keySpec = KEY_TYPES[p.keyType];
  const wantP12 = p.p12 || p.p12Legacy;
  const p12Password = wantP12 ? await resolveSecret(p.p12PasswordFile, P12_PASSWORD_ENV, 'PKCS#12 password', {confirm: true}) : undefined;
  if (wantP12 && p12Password === undefined)
    throw usageError('P12_PASSWORD_REQUIRED', '--p12 needs a password for the PKCS#12 file', [
      `pass --p12-password-file FILE or set ${P12_PASSWORD_ENV} (at a terminal, mtls-kit asks for it)`,
    ]);

  // Plan every certificate first, so a conflict is found before anything is written.
  const indexEntries = await readIndex(ca.issuing.paths);
  const used = serialSet(indexEntries);
  let jobs: FleetJob[] = [];
  const fileOpts = {p12: p.p12, p12Legacy: p.p12Legacy};
  for (let n = 1; n <= count; n++) {
    const subject = subjectFor(p.fields, n);
    const outDir = fleet ? join(p.out, folderName(cnOf(subject) ?? `client-${n}`)) : p.out;
    const files = clientFilePaths(outDir, fileOpts);
    const serialHex = newSerialHex(used);
    used.add(serialHex);
    const stagingDir = stagingDirFor(outDir, serialHex);
    jobs.push({
      n,
      subject,
      sans: p.sans.map((s) => typeSan(expandTemplate(s, n))),
      serialHex,
      files,
      stagingFiles: clientFilePaths(stagingDir, fileOpts),
      stagingDir,
      finalDir: outDir,
      indexFile: resolve(files.certificate),
    });
  }
  if (new Set(jobs.map((j) => j.files.key)).size !== jobs.length)
    throw usageError('FLEET_NAMES_COLLIDE', `the name template "${template}" gives the same folder twice`, ['include {n} in --cn']);
  await assertOutDir(p.out);
  let alreadyIssued = 0;
  if (fleet) {
    // Resuming: finish or remove what an interrupted run left, then skip every
    // certificate already issued and recorded by an earlier run of the same command.
    const resumed = resumeFleet(jobs, indexEntries, {force: p.force, needsKey: true});
    const {promoted, removed} = resumed.sweep;
    if (promoted.length + removed.length > 0)
      report(ctx.onProgress, {
        kind: 'note',
        text: `an interrupted run left ${promoted.length} recorded certificate${promoted.length === 1 ? '' : 's'} (moved into place) and ${removed.length} unrecorded one${removed.length === 1 ? '' : 's'} (deleted)`,
      });
    jobs = resumed.jobs;
    alreadyIssued = resumed.alreadyDone;
  }
  await assertWritable(
    jobs.flatMap((j) => Object.values(j.files) as string[]),
    {force: p.force},
  );
  const p12 = p12Password === undefined ? undefined : {password: p12Password, modern: p.p12, legacy: p.p12Legacy};

  const {issuer, keyPkcs8Der} = await withPassphrase(passphrase, 'CA key passphrase', (pass) => loadIssuer(ca, pass));
  const caEnd = issuer.cert.notAfter;
  if (!p.defect && ctx.now.getTime() + p.days * 86_400_000 > caEnd.getTime())
    report(ctx.onProgress, {
      kind: 'warning',
      text: `--days ${p.days} outlives the issuing CA, which expires ${caEnd.toISOString().replace(/\.\d{3}Z$/, 'Z')}: from then on no verifier accepts the certificate (renew the CA first, or issue for fewer days)`,
    });
  const started = process.hrtime.bigint();
  let certificate: GenClientResult['certificate'] = null;
  let summaries: IssuedSummary[] = [];
  let workers = 1;
  let defect: GenClientResult['defect'];
  const summaryOf = (d: CertDetails, files: ClientFiles): IssuedSummary => ({
    subject: d.subject,
    serial: d.serial,
    notBefore: d.notBefore,
    notAfter: d.notAfter,
    sha256Fingerprint: d.sha256Fingerprint,
    files,
  });
  if (p.defect) {
    const job = jobs[0]!;
    const d = await writeDefect({
      ca,
      issuer,
      kind: p.defect,
      unsupportedKey: p.defectKey,
      keySpec,
      subject: job.subject,
      sans: job.sans,
      serialHex: job.serialHex,
      days: p.days,
      files: job.files,
      indexFile: job.indexFile,
      force: p.force,
    });
    const det = describeCertificate(d.material.issued.parsed);
    certificate = {...det, files: job.files};
    summaries = [summaryOf(det, job.files)];
    defect = {kind: p.defect, expected: d.material.expected, why: DEFECTS[p.defect].why, crl: d.crl, throwawayCa: d.throwawayCa};
  } else if (!fleet) {
    const job = jobs[0]!;
    const cn = cnOf(job.subject);
    const issued = await issueAndWrite({
      issuer,
      keySpec,
      subject: job.subject,
      sans: job.sans,
      serialHex: job.serialHex,
      days: p.days,
      now: ctx.now,
      files: job.files,
      indexFile: job.indexFile,
      force: p.force,
      ...(p12 ? {p12: {...p12, ...(cn ? {friendlyName: cn} : {})}} : {}),
      ...(profile ? {profile} : {}),
      record: (e) => recordIssuedSync(ca.issuing.paths, [e]),
    });
    const d = describeCertificate(issued.parsed);
    certificate = {...d, files: job.files};
    summaries = [summaryOf(d, job.files)];
  } else if (jobs.length > 0) {
    const r = await runCaFleet({
      ca,
      issuer,
      keyPkcs8Der,
      jobs,
      work: {keySpec, days: p.days, nowMs: ctx.now.getTime(), force: p.force, ...(p12 ? {p12} : {}), ...(profile ? {profile} : {})},
      workers: p.workers,
      label: 'issuing',
      onProgress: ctx.onProgress,
    });
    workers = r.workers;
    if (r.interrupted) {
      const total = alreadyIssued + r.done.length;
      throw new MtlsKitError({
        code: 'INTERRUPTED',
        message: `interrupted: ${r.done.length} certificates issued and recorded in ${ca.issuing.paths.index} (${total} of ${count} in ${p.out}); nothing half-written was left`,
        suggestions: [`re-run the same command to issue the remaining ${count - total}`],
        exitCode: ExitCode.Interrupted,
        details: {issued: r.done.length, recorded: r.done.length, alreadyIssued, remaining: count - total},
      });
    }
    if (r.error) throw r.error;
    summaries = r.done.map((d) => d.summary);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const first = (jobs[0] ?? {files: clientFilePaths(fleet ? join(p.out, '<name>') : p.out)}).files;
  return {
    caDir: p.dir,
    ca: {tier: ca.issuing.tier, subject: describeCertificate(ca.issuing.cert).subject},
    keyType: p.keyType,
    count: summaries.length,
    alreadyIssued,
    certificate,
    certificates: summaries,
    workers,
    ...(defect ? {defect} : {}),
    seconds: Number(seconds.toFixed(3)),
    certsPerSecond: Number((summaries.length / Math.max(seconds, 1e-9)).toFixed(1)),
    next: `curl --key ${first.key} --cert ${first.certificate} https://your-alb.example.com/`,
  };
}

export interface GenClientCsrParams {
  dir: string;
  out: string;
  fields: SubjectFields;
  sans: string[];
  keyType: KeyType;
  count: number | undefined;
  force: boolean;
}

/** --csr-only: keys and requests, no CA. */
export async function runGenClientCsr(p: GenClientCsrParams, _ctx: FlowContext): Promise<GenClientCsrResult> {
  checkTemplate(p.fields, p.count);
  const fleet = p.count !== undefined;
  const keySpec = KEY_TYPES[p.keyType];
  const planned = [];
  for (let n = 1; n <= (p.count ?? 1); n++) {
    const subject = subjectFor(p.fields, n);
    planned.push({
      subject,
      sans: p.sans.map((s) => typeSan(expandTemplate(s, n))),
      files: csrFilePaths(fleet ? join(p.out, folderName(cnOf(subject) ?? `client-${n}`)) : p.out),
    });
  }
  await assertWritable(
    planned.flatMap((x) => [x.files.key, x.files.csr]),
    {force: p.force},
  );
  const requests = planned.map((x) => writeKeyAndCsr({...x, keySpec, force: p.force, durable: !fleet}));
  const dirArg = p.dir === './pki' ? '' : ` --dir ${p.dir}`;
  return {
    csrOnly: true,
    keyType: p.keyType,
    count: requests.length,
    requests,
    next: `mtls-kit sign ${fleet ? p.out : requests[0]!.files.csr}${dirArg}`,
  };
}
