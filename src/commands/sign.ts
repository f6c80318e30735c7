import {Args, Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {dirFlag, forceFlag, passphraseFileFlag, subjectFlags} from '../flags.js';
import {runSign, type SignResult} from '../flows/sign.js';
import {renderCertDetails} from '../ui/cert-render.js';
import {hint, printLine, stderrProgress, warn} from '../ui/output.js';

export type {SignedFiles, SignedSummary, SignResult} from '../flows/sign.js';

export default class Sign extends BaseCommand {
  static override summary = 'Sign a CSR (PKCS#10) as a client certificate: certificate.crt and chain.pem for a key mtls-kit never sees.';
  static override description =
    `Reads a PEM or DER certificate request (- for stdin), checks its signature with its own key, and issues a client certificate from the CA in --dir with the requested subject and SANs (or --cn/--subject and --san instead). The certificate always has the client profile: extendedKeyUsage clientAuth only, CA:FALSE, keyUsage digitalSignature (+ keyEncipherment for RSA).

Anything else the request asks for is stripped and listed: serverAuth or other extended key usages, extra key usages, SAN types other than DNS/IP/URI/email, and other extensions. A request for a CA (basicConstraints CA:TRUE) is refused unless --strip-ca. Keys must be RSA 2048-8192 or ECDSA P-256/P-384/P-521.

Writes certificate.crt and chain.pem into --out (default: the CSR's folder) and records the certificate in the CA index. Given a folder, signs every *.csr in it and in its subfolders on every core (x/request.csr gives x/certificate.crt; x.csr gives x/certificate.crt). Each certificate is recorded in index.txt before its files appear, so Ctrl-C or kill -9 never leaves one the CA does not know; re-running the same command finishes the folder.

Exit codes: 0 signed; 2 bad flag values (a --san that is no DNS name, IP address, email or URI), a file that is not a CSR (a certificate, a key); 130 stopped by Ctrl-C (what was signed is recorded; re-running the same command signs only the rest); 4 no CA, an unreadable or malformed CSR, a CSR whose signature does not verify, a CA request, an unsupported key, a file exists (use --force).`;

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
    const result = await runSign(
      {
        dir: flags.dir,
        csr: args.csr,
        out: flags.out,
        fields: {cn: flags.cn, subject: flags.subject, org: flags.org, ou: flags.ou, country: flags.country, state: flags.state, locality: flags.locality},
        sans: flags.san,
        days: flags.days,
        stripCa: flags['strip-ca'],
        ...(flags.workers === undefined ? {} : {workers: flags.workers}),
        passphraseFile: flags['passphrase-file'],
        force: flags.force,
      },
      {now: new Date(), onProgress: this.jsonEnabled() && !process.stderr.isTTY ? undefined : stderrProgress()},
    );
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
