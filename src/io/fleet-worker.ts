/**
 * Fleet worker thread: imports the issuing key once, then issues and writes each job.
 */
import {parentPort, workerData} from 'node:worker_threads';
import {isMtlsKitError} from '../lib/errors.js';
import {createPrivateKey} from 'node:crypto';
import {parseCertificate} from '../lib/x509/cert.js';
import {describeCertificate} from '../lib/alb/describe.js';
import type {FleetDone, FleetError, FleetJob, FleetShared} from './fleet.js';
import {issueAndWrite} from './issue-one.js';

const {shared, jobs} = workerData as {shared: FleetShared; jobs: FleetJob[]};
const key = createPrivateKey({key: Buffer.from(shared.issuerKeyPkcs8Der), format: 'der', type: 'pkcs8'});
const issuer = {cert: parseCertificate(shared.issuerCertDer), key, spec: shared.issuerSpec, chain: shared.chainDers.map((d) => parseCertificate(d))};
const now = new Date(shared.nowMs);

for (const job of jobs) {
  try {
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
    });
    const d = describeCertificate(issued.parsed);
    const {notAfter, ...rest} = issued.index;
    const msg: FleetDone = {
      type: 'done',
      n: job.n,
      index: {...rest, notAfterMs: notAfter.getTime()},
      summary: {subject: d.subject, serial: d.serial, notBefore: d.notBefore, notAfter: d.notAfter, sha256Fingerprint: d.sha256Fingerprint, files: job.files},
    };
    parentPort!.postMessage(msg);
  } catch (error) {
    const e = error as Error & {code?: string; suggestions?: string[]; exitCode?: number};
    const msg: FleetError = {
      type: 'error',
      n: job.n,
      error: isMtlsKitError(error)
        ? {code: e.code ?? 'ERROR', message: e.message, suggestions: e.suggestions ?? [], exitCode: e.exitCode ?? 4, bug: false}
        : {code: 'BUG', message: `unexpected error issuing #${job.n}: ${e.message}`, suggestions: [], exitCode: 1, bug: true},
    };
    parentPort!.postMessage(msg);
    break;
  }
}
