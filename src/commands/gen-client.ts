import {join} from 'node:path';
import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {dirFlag, forceFlag, keyTypeFlag, passphraseFileFlag, subjectFlags} from '../flags.js';
import {type GenClientCsrResult, type GenClientResult, runGenClient, runGenClientCsr} from '../flows/gen-client.js';
import {CSR_FILE_NAME} from '../io/ca/csr.js';
import {DEFECT_KINDS} from '../lib/alb/defects.js';
import {KEY_TYPES} from '../lib/x509/profiles.js';
import {P12_PASSWORD_ENV} from '../lib/x509/pkcs12-env.js';
import {renderCertDetails, renderCertSummary} from '../ui/cert-render.js';
import {hint, printLine, stderrProgress} from '../ui/output.js';

export type {GenClientCsrResult, GenClientResult} from '../flows/gen-client.js';

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
    'ocsp-url': Flags.string({
      summary: "OCSP responder URL for the certificate's authorityInfoAccess (CloudFront with OCSP on needs it; see mtls-kit ocsp).",
      helpValue: 'URL',
      exclusive: ['csr-only', 'defect'],
    }),
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
    const fields = {cn: flags.cn, subject: flags.subject, org: flags.org, ou: flags.ou, country: flags.country, state: flags.state, locality: flags.locality};
    const ctx = {now: new Date(), onProgress: this.jsonEnabled() && !process.stderr.isTTY ? undefined : stderrProgress()};
    const common = {dir: flags.dir, out: flags.out, fields, sans: flags.san ?? [], keyType: flags['key-type'], count: flags.count, force: flags.force};
    if (flags['csr-only']) return this.emit(await runGenClientCsr(common, ctx), (r) => renderCsrs(r, flags.out, flags.days, common.count !== undefined));
    const result = await runGenClient(
      {
        ...common,
        days: flags.days,
        ...(flags.workers === undefined ? {} : {workers: flags.workers}),
        p12: flags.p12,
        p12Legacy: flags['p12-legacy'],
        p12PasswordFile: flags['p12-password-file'],
        passphraseFile: flags['passphrase-file'],
        ...(flags.defect ? {defect: flags.defect} : {}),
        defectKey: flags['defect-key'],
        ocspUrl: flags['ocsp-url'],
      },
      ctx,
    );
    const count = flags.count ?? 1;
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
}

/** --csr-only's human output. */
function renderCsrs(r: GenClientCsrResult, out: string, days: number, fleet: boolean): void {
  const first = r.requests[0]!;
  if (fleet) printLine(`wrote ${r.count} keys (0600) and requests under ${out}`);
  else printLine(`wrote ${first.files.key} (0600) and ${first.files.csr} for ${first.subject}${first.sans.length ? ` (${first.sans.join(', ')})` : ''}`);
  hint(`next: ${r.next}   (a CA directory made by mtls-kit gen-ca)`);
  const kind = KEY_TYPES[r.keyType as keyof typeof KEY_TYPES]?.kind;
  hint(
    `or with AWS Private CA: aws acm-pca issue-certificate --certificate-authority-arn <CA ARN> --csr fileb://${fleet ? '<folder>/' + CSR_FILE_NAME : first.files.csr} --signing-algorithm ${kind === 'rsa' ? 'SHA256WITHRSA' : 'SHA256WITHECDSA'} --template-arn arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1 --validity Value=${days},Type=DAYS`,
  );
}
