import {readdirSync, statSync} from 'node:fs';
import {basename, dirname, extname, join, resolve} from 'node:path';
import {Args, Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {dirFlag, forceFlag, passphraseFileFlag, subjectFlags} from '../flags.js';
import {appendIndex, loadCa, readIndex, serialSet} from '../io/ca/directory.js';
import {clientFilePaths, loadIssuer} from '../io/ca/client-files.js';
import {assertWritable, inputName, readInput} from '../io/files.js';
import {defaultWorkers, type FleetJob, runRecordedFleet} from '../io/ca/fleet.js';
import {stagingDirFor} from '../io/ca/journal.js';
import {resolveSecret, withPassphrase} from '../io/secrets.js';
import {signCsrAndWrite} from '../io/ca/sign.js';
import {type CertDetails, describeCertificate} from '../lib/alb/describe.js';
import {ExitCode, MtlsKitError, preconditionError, usageError} from '../lib/errors.js';
import type {CsrOverrides, StrippedItem} from '../lib/pki/sign-csr.js';
import {typeSan} from '../lib/x509/issue.js';
import {subjectFromFields} from '../lib/x509/names.js';
import {KEY_TYPES} from '../lib/x509/profiles.js';
import {newSerialHex} from '../lib/x509/serial.js';
import {renderCertDetails} from '../ui/cert-render.js';
import {hint, printLine, progressBar, warn} from '../ui/output.js';

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

const CSR_EXTENSIONS = new Set(['.csr', '.req']);

/**
 * The CSRs of a folder and where each certificate goes: `x/request.csr` (or any CSR in a
 * subfolder) beside itself, as `gen-client --csr-only` lays fleets out; `x.csr` directly
 * in the folder into `x/`. With --out the same layout is made under it.
 */
function findCsrs(folder: string, out: string | undefined): Array<{csr: string; outDir: string}> {
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

export default class Sign extends BaseCommand {
  static override summary = 'Sign a CSR (PKCS#10) as a client certificate: certificate.crt and chain.pem for a key mtls-kit never sees.';
  static override description =
    `Reads a PEM or DER certificate request (- for stdin), checks its signature with its own key, and issues a client certificate from the CA in --dir with the requested subject and SANs (or --cn/--subject and --san instead). The certificate always has the client profile: extendedKeyUsage clientAuth only, CA:FALSE, keyUsage digitalSignature (+ keyEncipherment for RSA).

Anything else the request asks for is stripped and listed: serverAuth or other extended key usages, extra key usages, SAN types other than DNS/IP/URI/email, and other extensions. A request for a CA (basicConstraints CA:TRUE) is refused unless --strip-ca. Keys must be RSA 2048-8192 or ECDSA P-256/P-384/P-521.

Writes certificate.crt and chain.pem into --out (default: the CSR's folder) and records the certificate in the CA index. Given a folder, signs every *.csr in it and in its subfolders on every core (x/request.csr gives x/certificate.crt; x.csr gives x/certificate.crt).

Exit codes: 0 signed; 2 bad flag values (a --san that is no DNS name, IP address, email or URI), a file that is not a CSR (a certificate, a key); 130 stopped by Ctrl-C (what was signed is recorded); 4 no CA, an unreadable or malformed CSR, a CSR whose signature does not verify, a CA request, an unsupported key, a file exists (use --force).`;

  static override examples = [
    '<%= config.bin %> sign device-1/request.csr',
    '<%= config.bin %> sign request.csr --cn device-1 --san device-1.example.com --out ./device-1',
    'cat request.der | <%= config.bin %> sign - --out ./device-1 --json',
    '<%= config.bin %> sign ./fleet-csrs/',
  ];

  static override args = {
    csr: Args.string({description: 'CSR file (PEM or DER), - for stdin, or a folder of CSRs.', required: true}),
  };

  static override flags = {
    dir: dirFlag,
    out: Flags.string({char: 'o', summary: "Output folder (default: the CSR's folder; for a folder of CSRs, one subfolder each).", helpValue: 'DIR'}),
    ...subjectFlags,
    san: Flags.string({
      summary: 'Replace the requested SANs; repeatable; typed as in gen-client (DNS name, IP, URI, email, or dns:/ip:/uri:/email:).',
      multiple: true,
      helpValue: 'VALUE',
    }),
    days: Flags.integer({summary: 'Lifetime in days.', default: 365, min: 1}),
    'strip-ca': Flags.boolean({summary: 'Sign a request for a CA (basicConstraints CA:TRUE) as a client certificate instead of refusing it.', default: false}),
    workers: Flags.integer({summary: 'Worker threads for a folder of CSRs (default: every core).', min: 1}),
    'passphrase-file': passphraseFileFlag,
    force: forceFlag,
  };

  async run(): Promise<SignResult> {
    const {args, flags} = await this.parse(Sign);
    const isFolder = args.csr !== '-' && statSafe(args.csr)?.isDirectory() === true;
    const subjectGiven = [flags.cn, flags.subject, flags.org, flags.ou, flags.country, flags.state, flags.locality].some((v) => v !== undefined);
    if (isFolder && (subjectGiven || flags.san))
      throw usageError('OVERRIDE_IN_BATCH', '--cn, --subject and --san apply to one CSR, not to a folder', [
        'sign the CSR on its own to override its subject or SANs',
      ]);
    const overrides: CsrOverrides = {
      ...(subjectGiven ? {subject: subjectFromFields(flags)} : {}),
      ...(flags.san ? {sans: flags.san.map((v) => typeSan(v))} : {}),
    };
    const ca = await loadCa(flags.dir);
    const passphrase = await resolveSecret(flags['passphrase-file'], 'MTLS_KIT_CA_PASSPHRASE', 'CA passphrase');
    const used = serialSet(await readIndex(ca.issuing.paths));
    const planned = isFolder ? findCsrs(args.csr, flags.out) : [{csr: args.csr, outDir: flags.out ?? (args.csr === '-' ? '.' : dirname(args.csr))}];
    if (planned.length === 0)
      throw preconditionError('NO_CSR', `${args.csr} holds no *.csr or *.req file (nor its subfolders)`, [
        'put the requests there, e.g. device-1/request.csr from mtls-kit gen-client --csr-only',
      ]);
    const jobs: FleetJob[] = planned.map((p, i) => {
      const serialHex = newSerialHex(used);
      used.add(serialHex);
      const files = clientFilePaths(p.outDir);
      // Batches go through the fleet's staging folders (recorded in the index before they appear).
      const stagingDir = stagingDirFor(p.outDir, serialHex);
      return {
        n: i + 1,
        subject: [],
        sans: [],
        serialHex,
        files,
        stagingFiles: clientFilePaths(stagingDir),
        stagingDir,
        finalDir: p.outDir,
        indexFile: resolve(files.certificate),
        csrFile: p.csr,
      };
    });
    await assertWritable(
      jobs.flatMap((j) => [j.files.certificate, j.files.chain]),
      {force: flags.force},
    );
    const {issuer, keyPkcs8Der} = await withPassphrase(passphrase, 'CA key passphrase', (p) => loadIssuer(ca, p));
    const started = process.hrtime.bigint();
    let certificate: SignResult['certificate'] = null;
    let certificates: SignedSummary[];
    let workers = 1;
    const filesOf = (j: FleetJob): SignedFiles => ({certificate: j.files.certificate, chain: j.files.chain});
    if (!isFolder) {
      const job = jobs[0]!;
      const source = inputName(args.csr);
      const r = await signCsrAndWrite({
        issuer,
        csrFile: source,
        data: await readInput(args.csr),
        overrides,
        stripCa: flags['strip-ca'],
        serialHex: job.serialHex,
        days: flags.days,
        now: new Date(),
        files: job.files,
        indexFile: job.indexFile,
        force: flags.force,
      });
      await appendIndex(ca.issuing.paths, [r.signed.index]);
      const d = describeCertificate(r.signed.parsed);
      certificate = {...d, files: filesOf(job), csr: source, stripped: r.stripped};
      certificates = [
        {
          csr: source,
          subject: d.subject,
          serial: d.serial,
          notBefore: d.notBefore,
          notAfter: d.notAfter,
          sha256Fingerprint: d.sha256Fingerprint,
          files: filesOf(job),
          stripped: r.stripped,
        },
      ];
    } else {
      const bar = progressBar('signing', jobs.length, !this.jsonEnabled() || Boolean(process.stderr.isTTY));
      const shared = {
        issuerCertDer: ca.issuing.cert.der,
        issuerKeyPkcs8Der: keyPkcs8Der,
        issuerSpec: issuer.spec,
        chainDers: issuer.chain.map((c) => c.der),
        keySpec: KEY_TYPES['ec-p256'],
        days: flags.days,
        nowMs: Date.now(),
        force: flags.force,
        stripCa: flags['strip-ca'],
      };
      const r = await runRecordedFleet(jobs, shared, {
        workers: flags.workers ?? defaultWorkers(),
        indexPath: ca.issuing.paths.index,
        onProgress: (n) => bar.tick(n),
      });
      bar.done();
      workers = r.workers;
      if (r.interrupted) {
        throw new MtlsKitError({
          code: 'INTERRUPTED',
          message: `interrupted: ${r.done.length} of ${jobs.length} requests signed and recorded in ${ca.issuing.paths.index}; nothing half-written was left`,
          suggestions: [`re-run with the folders of the ${jobs.length - r.done.length} unsigned requests, or all with --force`],
          exitCode: ExitCode.Interrupted,
        });
      }
      if (r.error) throw r.error;
      certificates = r.done.map((d) => {
        const job = jobs[d.n - 1]!;
        return {csr: job.csrFile!, ...d.summary, files: filesOf(job), stripped: d.stripped ?? []};
      });
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const bundle = join(flags.dir, 'ca-bundle.pem');
    const result: SignResult = {
      caDir: flags.dir,
      issuer: {tier: ca.issuing.tier, subject: describeCertificate(ca.issuing.cert).subject},
      count: certificates.length,
      certificate,
      certificates,
      workers,
      seconds: Number(seconds.toFixed(3)),
      certsPerSecond: Number((certificates.length / Math.max(seconds, 1e-9)).toFixed(1)),
      next: `mtls-kit verify ${certificates[0]!.files.chain} --trust-store ${bundle}`,
    };
    return this.emit(result, (r) => {
      if (r.certificate) {
        printLine(renderCertDetails(r.certificate, `signed ${r.certificate.csr} by ${r.issuer.subject} (${r.issuer.tier})`));
        printLine(`wrote ${r.certificate.files.certificate}, ${r.certificate.files.chain}`);
      } else {
        printLine(
          `signed ${r.count} requests by ${r.issuer.subject} in ${r.seconds.toFixed(2)}s (${r.certsPerSecond}/s on ${r.workers} worker${r.workers === 1 ? '' : 's'})`,
        );
      }
      for (const c of r.certificates) {
        if (c.stripped.length > 0)
          warn(`${c.csr}: stripped what the client profile does not allow: ${c.stripped.map((s) => `${s.extension} ${s.value}`).join(', ')}`);
      }
      hint(`next: ${r.next}   (then give certificate.crt and chain.pem to the device that holds the key)`);
    });
  }
}

function statSafe(p: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}
