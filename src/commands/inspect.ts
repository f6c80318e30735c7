import {Args, Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {readInput} from '../io/files.js';
import {type CertDetails, describeCertificate} from '../lib/alb/describe.js';
import {looksLikePem} from '../lib/x509/pem.js';
import {readCertificates} from '../lib/x509/read-certs.js';
import {renderCertDetails} from '../ui/cert-render.js';
import {printLine} from '../ui/output.js';

export interface InspectResult {
  file: string;
  format: 'pem' | 'der' | 'pkcs12';
  count: number;
  certificates: CertDetails[];
  /** True when every certificate meets ALB's certificate requirements (aws-reference 4.1). */
  albRequirementsMet: boolean;
}

export default class Inspect extends BaseCommand {
  static override summary = 'Show the details of a certificate, chain, CA bundle or PKCS#12 file, and whether ALB accepts it.';
  static override description = `Reads PEM or DER (or - for stdin) and prints, for each certificate: subject and issuer (RFC 2253, as ALB sends them), serial (uppercase hex, as ALB prints it), validity, key type and size, signature algorithm, SANs, key usage, extended key usage, basic constraints, key identifiers, SHA-256 fingerprint, and whether ALB's certificate requirements are met.

Exit codes: 0 read; 2 bad flags, a folder or a URL; 4 the file is missing, empty, malformed or truncated, or the PKCS#12 password is wrong.`;

  static override examples = ['<%= config.bin %> inspect certificate.crt', '<%= config.bin %> inspect pki/ca-bundle.pem --json', 'cat chain.pem | <%= config.bin %> inspect -'];

  static override args = {
    file: Args.string({description: 'Certificate, chain, bundle or PKCS#12 file; - for stdin.', required: true}),
  };

  static override flags = {
    'password-file': Flags.string({summary: 'File holding the PKCS#12 password (else MTLS_KIT_P12_PASSWORD).', helpValue: 'FILE'}),
  };

  async run(): Promise<InspectResult> {
    const {args, flags} = await this.parse(Inspect);
    const data = await readInput(args.file);
    const source = args.file === '-' ? 'stdin' : args.file;
    let format: InspectResult['format'] = looksLikePem(data) ? 'pem' : 'der';
    let certs;
    if (format === 'der' && data[0] === 0x30 && isPkcs12(data)) {
      format = 'pkcs12';
      const {readPkcs12Certificates} = await import('../io/pkcs12-input.js');
      certs = await readPkcs12Certificates(data, source, flags['password-file']);
    } else {
      certs = readCertificates(data, source);
    }
    const certificates = certs.map(describeCertificate);
    const result: InspectResult = {file: args.file, format, count: certificates.length, certificates, albRequirementsMet: certificates.every((c) => c.albRequirements.ok)};
    return this.emit(result, (r) => {
      r.certificates.forEach((c, i) => {
        if (i > 0) printLine();
        printLine(renderCertDetails(c, r.count > 1 ? `certificate ${i + 1} of ${r.count}` : undefined));
      });
    });
  }
}

/** PFX: SEQUENCE { INTEGER 3, ContentInfo ... } (RFC 7292 4). */
function isPkcs12(der: Uint8Array): boolean {
  // Find the first element inside the outer SEQUENCE: INTEGER (02 01 03).
  const lenByte = der[1] ?? 0;
  const off = lenByte & 0x80 ? 2 + (lenByte & 0x7f) : 2;
  return der[off] === 0x02 && der[off + 1] === 0x01 && der[off + 2] === 0x03;
}
