/**
 * Fleet worker thread: imports the issuing key once, then issues and writes each job
 * (or, for `sign` batches, signs each CSR).
 */
import {parentPort, workerData} from 'node:worker_threads';
import {isMtlsKitError} from '../../lib/errors.js';
import {createPrivateKey} from 'node:crypto';
import {parseCertificate, type ParsedCertificate} from '../../lib/x509/cert.js';
import {describeCertificate} from '../../lib/alb/describe.js';
import type {IndexEntry} from '../../lib/x509/index-db.js';
import type {StrippedItem} from '../../lib/pki/sign-csr.js';
import type {FleetDone, FleetError, FleetJob, FleetShared} from './fleet.js';
import {issueAndWrite} from './issue.js';
import {signCsrAndWrite} from './sign.js';

const {shared, jobs} = workerData as {shared: FleetShared; jobs: FleetJob[]};
const key = createPrivateKey({key: Buffer.from(shared.issuerKeyPkcs8Der), format: 'der', type: 'pkcs8'});
const issuer = {cert: parseCertificate(shared.issuerCertDer), key, spec: shared.issuerSpec, chain: shared.chainDers.map((d) => parseCertificate(d))};
const now = new Date(shared.nowMs);

function report(job: FleetJob, parsed: ParsedCertificate, index: IndexEntry, stripped?: StrippedItem[]): void {
  const d = describeCertificate(parsed);
  const {notAfter, ...rest} = index;
  const msg: FleetDone = {
    type: 'done',
    n: job.n,
    index: {...rest, notAfterMs: notAfter.getTime()},
    summary: {subject: d.subject, serial: d.serial, notBefore: d.notBefore, notAfter: d.notAfter, sha256Fingerprint: d.sha256Fingerprint, files: job.files},
    ...(stripped ? {stripped} : {}),
  };
  parentPort!.postMessage(msg);
}

for (const job of jobs) {
  try {
    if (job.csrFile) {
      const r = await signCsrAndWrite({
        issuer,
        csrFile: job.csrFile,
        stripCa: shared.stripCa ?? false,
        serialHex: job.serialHex,
        days: shared.days,
        now,
        files: job.stagingFiles,
        indexFile: job.indexFile,
        force: shared.force,
        durable: false,
      });
      report(job, r.signed.parsed, r.signed.index, r.stripped);
      continue;
    }
    const issued = await issueAndWrite({
      issuer,
      keySpec: shared.keySpec,
      subject: job.subject,
      sans: job.sans,
      serialHex: job.serialHex,
      days: shared.days,
      now,
      files: job.stagingFiles,
      indexFile: job.indexFile,
      force: shared.force,
      durable: false,
      ...(shared.p12 ? {p12: shared.p12} : {}),
      ...(shared.profile ? {profile: shared.profile} : {}),
    });
    report(job, issued.parsed, issued.index);
  } catch (error) {
    const msg: FleetError = {
      type: 'error',
      n: job.n,
      error: isMtlsKitError(error)
        ? {code: error.code, message: error.message, suggestions: error.suggestions, exitCode: error.exitCode, bug: false}
        : {code: 'BUG', message: `unexpected error issuing #${job.n}: ${(error as Error).message}`, suggestions: [], exitCode: 1, bug: true},
    };
    parentPort!.postMessage(msg);
    break;
  }
}
