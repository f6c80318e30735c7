import {resolve, join} from 'node:path';
import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {dirFlag, forceFlag, keyTypeFlag, passphraseFileFlag, subjectFlags} from '../flags.js';
import {appendIndex, loadCa, readIndex, serialSet} from '../io/ca/directory.js';
import {clientFilePaths, type ClientFiles, type IssuedSummary, isRecordedFolder, loadIssuer} from '../io/ca/client-files.js';
import {assertOutDir, assertWritable} from '../io/files.js';
import {IndexJournal, stagingDirFor, sweepStaging} from '../io/ca/journal.js';
import {defaultWorkers, type FleetJob, runFleet} from '../io/ca/fleet.js';
import {writeDefect} from '../io/ca/defect.js';
import {issueAndWrite} from '../io/ca/issue.js';
import {CSR_FILE_NAME, csrFilePaths, type WrittenCsr, writeKeyAndCsr} from '../io/ca/csr.js';
import {DEFECT_KINDS, DEFECTS} from '../lib/alb/defects.js';
import {resolveSecret, withPassphrase} from '../io/secrets.js';
import {type CertDetails, describeCertificate} from '../lib/alb/describe.js';
import {ExitCode, MtlsKitError, usageError} from '../lib/errors.js';
import {typeSan} from '../lib/x509/issue.js';
import {expandTemplate, type NameEntry, subjectFromFields} from '../lib/x509/names.js';
import {KEY_TYPES} from '../lib/x509/profiles.js';
import {newSerialHex} from '../lib/x509/serial.js';
import type {CaRef} from '../lib/pki/ca.js';
import {P12_PASSWORD_ENV} from '../lib/x509/pkcs12-env.js';
import {renderCertDetails, renderCertSummary} from '../ui/cert-render.js';
import {hint, printLine, progressBar, warn} from '../ui/output.js';

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

/** A folder name from a CN: keeps letters, digits, dot, dash and underscore. */
function folderName(cn: string): string {
  return cn.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_') || 'client';
}

export default class GenClient extends BaseCommand {
  static override summary = 'Issue client certificates: private-key.pem, certificate.crt and chain.pem (one, or a fleet with --count).';
  static override description =
    `Issues from the CA in --dir (the intermediate when there is one). Writes private-key.pem (PKCS#8, 0600), certificate.crt and chain.pem (leaf then intermediates, for clients that must send the chain) into --out. Every certificate is recorded in the CA's index.txt, which revoke and crl read.

With --csr-only, writes private-key.pem and request.csr (PKCS#10 with the subject and SANs) instead, for a CA mtls-kit does not hold (AWS Private CA, an enterprise CA) or for mtls-kit sign; no CA is needed.

With --count N, issues N certificates named from a template (--cn 'device-{n}', {n:4} pads to 4 digits), one folder each under --out, on every core. Each certificate is recorded in index.txt (fsynced in batches) before its folder appears, so Ctrl-C or kill -9 never leaves a certificate nobody can revoke; re-running the same command issues only the missing ones (and finishes or removes what the interrupted run left in hidden .<name>.<serial>.partial folders).

Exit codes: 0 issued; 2 bad flag values (a --san that is no DNS name, IP address, email or URI), a file where --out or --dir should be a folder; 4 no CA in --dir, a file exists (use --force), wrong CA passphrase; 130 stopped by Ctrl-C (what was issued is recorded; re-run to finish).`;

  static override examples = [
    '<%= config.bin %> gen-client --cn device-1',
    '<%= config.bin %> gen-client --cn api-client --org Acme --san api.example.com --san spiffe://acme/client --out ./client',
    "<%= config.bin %> gen-client --cn 'device-{n:4}' --count 2000 --out ./fleet",
    '<%= config.bin %> gen-client --cn device-1 --san device-1.example.com --csr-only --out ./device-1',
  ];

  static override flags = {
    dir: dirFlag,
    out: Flags.string({char: 'o', summary: 'Output folder (fleets: one subfolder per certificate).', default: '.', helpValue: 'DIR'}),
    verbose: Flags.boolean({summary: 'Show every field of the issued certificate (as inspect does), not only the summary.', default: false}),
    ...subjectFlags,
    san: Flags.string({
      summary: 'Subject alternative name, repeatable; typed automatically (DNS name, IP, URI such as spiffe://..., email) or prefixed dns:/ip:/uri:/email:.',
      multiple: true,
      helpValue: 'VALUE',
    }),
    days: Flags.integer({summary: 'Lifetime in days.', default: 365, min: 1}),
    'key-type': keyTypeFlag,
    count: Flags.integer({summary: 'Issue a fleet of N certificates; --cn must contain {n}.', min: 1, helpValue: 'N'}),
    workers: Flags.integer({summary: 'Worker threads for fleets (default: every core).', min: 1}),
    p12: Flags.boolean({
      summary: 'Also write certificate.p12 (0600): PKCS#12 that OpenSSL 3 reads without -legacy (PBES2/AES-256, SHA-256 MAC).',
      default: false,
    }),
    'p12-legacy': Flags.boolean({
      summary: 'Also write certificate-legacy.p12 (0600): 3DES and a SHA-1 MAC, for older macOS and Java keystores.',
      default: false,
    }),
    'p12-password-file': Flags.string({summary: `File holding the PKCS#12 password (else ${P12_PASSWORD_ENV}).`, helpValue: 'FILE'}),
    'passphrase-file': passphraseFileFlag,
    force: forceFlag,
    'csr-only': Flags.boolean({
      summary: 'Write private-key.pem and request.csr (a PKCS#10 request to get signed elsewhere, or by mtls-kit sign) instead of a certificate.',
      default: false,
      exclusive: ['p12', 'p12-legacy', 'defect'],
    }),
    defect: Flags.option({
      summary: 'Issue a deliberately bad certificate that ALB must reject; prints the Failed:<code> ALB should log.',
      options: DEFECT_KINDS,
      exclusive: ['count'],
    })(),
    'defect-key': Flags.option({summary: 'Key for --defect unsupported-key.', options: ['rsa-1024', 'ed25519'] as const, default: 'rsa-1024' as const})(),
  };

  async run(): Promise<GenClientResult | GenClientCsrResult> {
    const {flags} = await this.parse(GenClient);
    const count = flags.count ?? 1;
    const fleet = flags.count !== undefined;
    if (!flags.cn && !flags.subject)
      throw usageError('MISSING_CN', 'no subject given', ['give --cn NAME (for a fleet a template such as --cn "device-{n}") or --subject "CN=...,O=..."']);
    const template = flags.cn ?? flags.subject!;
    if (fleet && count > 1 && !/\{n(:\d+)?\}/.test(template)) {
      throw usageError('FLEET_TEMPLATE', `--count ${count} needs a name template with {n}, got "${template}"`, [
        "example: --cn 'device-{n}' or --cn 'device-{n:4}'",
      ]);
    }
    if (flags['csr-only']) return this.csrOnly(flags, count, fleet);
    const ca = await loadCa(flags.dir);
    const passphrase = await resolveSecret(flags['passphrase-file'], 'MTLS_KIT_CA_PASSPHRASE', 'CA passphrase');
    const keySpec = KEY_TYPES[flags['key-type']];
    const sanTemplates = flags.san ?? [];
    const wantP12 = flags.p12 || flags['p12-legacy'];
    const p12Password = wantP12 ? await resolveSecret(flags['p12-password-file'], P12_PASSWORD_ENV, 'PKCS#12 password', {confirm: true}) : undefined;
    if (wantP12 && p12Password === undefined) {
      throw usageError('P12_PASSWORD_REQUIRED', '--p12 needs a password for the PKCS#12 file', [
        `pass --p12-password-file FILE or set ${P12_PASSWORD_ENV} (at a terminal, mtls-kit asks for it)`,
      ]);
    }

    // Plan every certificate first, so a conflict is found before anything is written.
    const indexEntries = await readIndex(ca.issuing.paths);
    const used = serialSet(indexEntries);
    let jobs: FleetJob[] = [];
    for (let n = 1; n <= count; n++) {
      const subject: NameEntry[][] = subjectFromFields({
        ...flags,
        ...(flags.cn ? {cn: expandTemplate(flags.cn, n)} : {}),
        ...(flags.subject ? {subject: expandTemplate(flags.subject, n)} : {}),
      });
      const cn = subject.flat().find((a) => a.type === '2.5.4.3')?.value ?? `client-${n}`;
      const outDir = fleet ? join(flags.out, folderName(cn)) : flags.out;
      const fileOpts = {p12: flags.p12, p12Legacy: flags['p12-legacy']};
      const files = clientFilePaths(outDir, fileOpts);
      const serialHex = newSerialHex(used);
      used.add(serialHex);
      const stagingDir = stagingDirFor(outDir, serialHex);
      jobs.push({
        n,
        subject,
        sans: sanTemplates.map((s) => typeSan(expandTemplate(s, n))),
        serialHex,
        files,
        stagingFiles: clientFilePaths(stagingDir, fileOpts),
        stagingDir,
        finalDir: outDir,
        indexFile: resolve(files.certificate),
      });
    }
    const outDirs = new Set(jobs.map((j) => j.files.key));
    if (outDirs.size !== jobs.length)
      throw usageError('FLEET_NAMES_COLLIDE', `the name template "${template}" gives the same folder twice`, ['include {n} in --cn']);
    await assertOutDir(flags.out);
    let alreadyIssued = 0;
    if (fleet) {
      // Resuming: finish or remove what an interrupted run left, then skip every
      // certificate already issued and recorded by an earlier run of the same command.
      const sweep = sweepStaging(flags.out, serialSet(indexEntries));
      if (sweep.promoted.length + sweep.removed.length > 0 && !this.jsonEnabled()) {
        hint(
          `an interrupted run left ${sweep.promoted.length} recorded certificate${sweep.promoted.length === 1 ? '' : 's'} (moved into place) and ${sweep.removed.length} unrecorded one${sweep.removed.length === 1 ? '' : 's'} (deleted)`,
        );
      }
      if (!flags.force) {
        const recorded = new Map(indexEntries.map((e) => [e.serial, e]));
        const before = jobs.length;
        jobs = jobs.filter((j) => !isRecordedFolder(j, recorded));
        alreadyIssued = before - jobs.length;
      }
    }
    await assertWritable(
      jobs.flatMap((j) => Object.values(j.files) as string[]),
      {force: flags.force},
    );
    const p12 = p12Password === undefined ? undefined : {password: p12Password, modern: flags.p12, legacy: flags['p12-legacy']};

    const {issuer, keyPkcs8Der} = await withPassphrase(passphrase, 'CA key passphrase', (p) => loadIssuer(ca, p));
    const caEnd = issuer.cert.notAfter;
    if (!flags.defect && Date.now() + flags.days * 86_400_000 > caEnd.getTime())
      warn(
        `--days ${flags.days} outlives the issuing CA, which expires ${caEnd.toISOString().replace(/\.\d{3}Z$/, 'Z')}: from then on no verifier accepts the certificate (renew the CA first, or issue for fewer days)`,
      );
    const started = process.hrtime.bigint();
    let certificate: GenClientResult['certificate'] = null;
    let summaries: IssuedSummary[];
    let workers = 1;
    let defect: GenClientResult['defect'];
    if (flags.defect) {
      const job = jobs[0]!;
      const d = await writeDefect({
        ca,
        issuer,
        kind: flags.defect,
        unsupportedKey: flags['defect-key'],
        keySpec,
        subject: job.subject,
        sans: job.sans,
        serialHex: job.serialHex,
        days: flags.days,
        files: job.files,
        indexFile: job.indexFile,
        force: flags.force,
      });
      const det = describeCertificate(d.material.issued.parsed);
      certificate = {...det, files: job.files};
      summaries = [
        {
          subject: det.subject,
          serial: det.serial,
          notBefore: det.notBefore,
          notAfter: det.notAfter,
          sha256Fingerprint: det.sha256Fingerprint,
          files: job.files,
        },
      ];
      defect = {kind: flags.defect, expected: d.material.expected, why: DEFECTS[flags.defect].why, crl: d.crl, throwawayCa: d.throwawayCa};
    } else if (!fleet) {
      const job = jobs[0]!;
      const cn = job.subject.flat().find((a) => a.type === '2.5.4.3')?.value;
      const issued = await issueAndWrite({
        issuer,
        keySpec,
        subject: job.subject,
        sans: job.sans,
        serialHex: job.serialHex,
        days: flags.days,
        now: new Date(),
        files: job.files,
        indexFile: job.indexFile,
        force: flags.force,
        ...(p12 ? {p12: {...p12, ...(cn ? {friendlyName: cn} : {})}} : {}),
      });
      await appendIndex(ca.issuing.paths, [issued.index]);
      const d = describeCertificate(issued.parsed);
      certificate = {...d, files: job.files};
      summaries = [
        {subject: d.subject, serial: d.serial, notBefore: d.notBefore, notAfter: d.notAfter, sha256Fingerprint: d.sha256Fingerprint, files: job.files},
      ];
    } else if (jobs.length > 0) {
      const bar = progressBar('issuing', jobs.length, !this.jsonEnabled() || Boolean(process.stderr.isTTY));
      const shared = {
        issuerCertDer: ca.issuing.cert.der,
        issuerKeyPkcs8Der: keyPkcs8Der,
        issuerSpec: issuer.spec,
        chainDers: issuer.chain.map((c) => c.der),
        keySpec,
        days: flags.days,
        nowMs: Date.now(),
        force: flags.force,
        ...(p12 ? {p12} : {}),
      };
      // Ctrl-C (or SIGTERM) stops the workers; what they finished is recorded, the rest removed.
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const journal = new IndexJournal(ca.issuing.paths.index);
      let r: Awaited<ReturnType<typeof runFleet>>;
      try {
        r = await runFleet(jobs, shared, {workers: flags.workers ?? defaultWorkers(), journal, onProgress: (n) => bar.tick(n), stop: stop.signal});
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        journal.close();
        // Staging folders of certificates a stopped worker wrote but nobody recorded.
        sweepStaging(flags.out, journal.recorded);
      }
      bar.done();
      workers = r.workers;
      if (r.interrupted) {
        const total = alreadyIssued + r.done.length;
        throw new MtlsKitError({
          code: 'INTERRUPTED',
          message: `interrupted: ${r.done.length} certificates issued and recorded in ${ca.issuing.paths.index} (${total} of ${count} in ${flags.out}); nothing half-written was left`,
          suggestions: [`re-run the same command to issue the remaining ${count - total}`],
          exitCode: ExitCode.Interrupted,
          details: {issued: r.done.length, recorded: r.done.length, alreadyIssued, remaining: count - total},
        });
      }
      if (r.error) throw r.error;
      summaries = r.done.map((d) => d.summary);
    } else {
      summaries = [];
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const first = (jobs[0] ?? {files: clientFilePaths(fleet ? join(flags.out, '<name>') : flags.out)}).files;
    const result: GenClientResult = {
      caDir: flags.dir,
      ca: {tier: ca.issuing.tier, subject: describeCertificate(ca.issuing.cert).subject},
      keyType: flags['key-type'],
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
    return this.emit(result, (r) => {
      if (r.certificate) {
        printLine((flags.verbose ? renderCertDetails : renderCertSummary)(r.certificate, `issued by ${r.ca.subject} (${r.ca.tier})`));
        const f = r.certificate.files;
        printLine(`wrote ${f.key} (0600), ${f.certificate}, ${f.chain}${f.p12 ? `, ${f.p12} (0600)` : ''}${f.p12Legacy ? `, ${f.p12Legacy} (0600)` : ''}`);
      } else {
        if (r.alreadyIssued > 0) printLine(`${r.alreadyIssued} of ${count} were already issued by an earlier run; issued the remaining ${r.count}`);
        printLine(
          `issued ${r.count} certificates by ${r.ca.subject} in ${r.seconds.toFixed(2)}s (${r.certsPerSecond}/s on ${r.workers} worker${r.workers === 1 ? '' : 's'}) under ${flags.out}`,
        );
      }
      if (r.defect) {
        printLine(`defect ${r.defect.kind}: ${r.defect.why}${r.defect.crl ? `; revoked and put on ${r.defect.crl}` : ''}`);
        printLine(`ALB should log: ${r.defect.expected}`);
        hint(
          `check: mtls-kit verify ${r.certificate?.files.chain ?? ''} --trust-store ${join(flags.dir, 'ca-bundle.pem')}${r.defect.crl ? ` --crl ${r.defect.crl}` : ''}`,
        );
      } else hint(`next: ${r.next}`);
    });
  }

  /** --csr-only: keys and requests, no CA. */
  private async csrOnly(
    flags: {cn?: string; subject?: string; san?: string[]; out: string; force: boolean; 'key-type': keyof typeof KEY_TYPES; dir: string} & Record<
      string,
      unknown
    >,
    count: number,
    fleet: boolean,
  ): Promise<GenClientCsrResult> {
    const keySpec = KEY_TYPES[flags['key-type']];
    const planned = [];
    for (let n = 1; n <= count; n++) {
      const subject = subjectFromFields({
        ...flags,
        ...(flags.cn ? {cn: expandTemplate(flags.cn, n)} : {}),
        ...(flags.subject ? {subject: expandTemplate(flags.subject, n)} : {}),
      });
      const cn = subject.flat().find((a) => a.type === '2.5.4.3')?.value ?? `client-${n}`;
      planned.push({
        subject,
        sans: (flags.san ?? []).map((s) => typeSan(expandTemplate(s, n))),
        files: csrFilePaths(fleet ? join(flags.out, folderName(cn)) : flags.out),
      });
    }
    await assertWritable(
      planned.flatMap((p) => [p.files.key, p.files.csr]),
      {force: flags.force},
    );
    const requests = planned.map((p) => writeKeyAndCsr({...p, keySpec, force: flags.force, durable: !fleet}));
    const dirArg = flags.dir === './pki' ? '' : ` --dir ${flags.dir}`;
    const result: GenClientCsrResult = {
      csrOnly: true,
      keyType: flags['key-type'],
      count: requests.length,
      requests,
      next: `mtls-kit sign ${fleet ? flags.out : requests[0]!.files.csr}${dirArg}`,
    };
    return this.emit(result, (r) => {
      if (fleet) printLine(`wrote ${r.count} keys (0600) and requests under ${flags.out}`);
      else
        printLine(
          `wrote ${r.requests[0]!.files.key} (0600) and ${r.requests[0]!.files.csr} for ${r.requests[0]!.subject}${r.requests[0]!.sans.length ? ` (${r.requests[0]!.sans.join(', ')})` : ''}`,
        );
      hint(`next: ${r.next}   (a CA directory made by mtls-kit gen-ca)`);
      hint(
        `or with AWS Private CA: aws acm-pca issue-certificate --certificate-authority-arn <CA ARN> --csr fileb://${fleet ? '<folder>/' + CSR_FILE_NAME : r.requests[0]!.files.csr} --signing-algorithm ${keySpec.kind === 'rsa' ? 'SHA256WITHRSA' : 'SHA256WITHECDSA'} --template-arn arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1 --validity Value=${flags.days ?? 365},Type=DAYS`,
      );
    });
  }
}
