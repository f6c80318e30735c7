import {Args, Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {readFileOrS3} from '../io/aws/s3-input.js';
import {inputName} from '../io/files.js';
import {type CertDetails, describeCertificate} from '../lib/alb/describe.js';
import type {CrlDetails, CsrDetails, PrivateKeyDetails} from '../lib/alb/describe-files.js';
import {identifyInput, type InputKind} from '../lib/x509/input-kind.js';
import {looksLikePem} from '../lib/x509/pem.js';
import {awsFlags, dirFlag, verdictTrustFlags} from '../flags.js';
import type {ChainVerdict} from '../flows/chain-verdict.js';
import {readCertificates} from '../lib/x509/read-certs.js';
import {renderCertDetails} from '../ui/cert-render.js';
import {renderChainVerdict} from '../ui/verdict-render.js';
import {hint, printLine} from '../ui/output.js';

export interface InspectResult {
  file: string;
  /** What the file holds: certificates (a certificate, chain, bundle or PKCS#12), a CRL, a certificate request or a private key. */
  kind: 'certificates' | 'crl' | 'csr' | 'private-key';
  format: 'pem' | 'der' | 'pkcs12';
  /** Certificates in the file (0 for a CRL, request or key). */
  count: number;
  certificates: CertDetails[];
  /**
   * Certificates: every one meets ALB's certificate requirements (aws-reference 4.1). CRL: no
   * error in lint's CRL checks. Request or key: ALB accepts the key type and size. null: an
   * encrypted key read without its passphrase.
   */
  albRequirementsMet: boolean | null;
  /** kind crl. */
  crl?: CrlDetails;
  /** kind csr. */
  csr?: CsrDetails;
  /** kind private-key: type, size, public key fingerprint and matching certificates, never the key. */
  privateKey?: PrivateKeyDetails;
  /**
   * With --trust-store (kind certificates): the file judged as the chain a client presents,
   * leaf first, by the --target product's policy, as `verify` judges it.
   */
  verdict?: ChainVerdict;
}

export default class Inspect extends BaseCommand {
  static override summary =
    'Show the details of a certificate, chain, CA bundle, PKCS#12 file, CRL, certificate request or private key, and whether ALB accepts it.';
  static override description =
    `Reads PEM or DER (or - for stdin) and prints, for each certificate: subject and issuer (RFC 2253, as ALB sends them), serial (uppercase hex, as ALB prints it), validity, key type and size, signature algorithm, SANs, key usage, extended key usage, basic constraints, key identifiers, SHA-256 fingerprint, and whether ALB's certificate requirements are met.

A CRL: issuer, CRL number, this and next update, entries, whether its signature verifies with the issuing CA's certificate (found beside it or in --dir), and the checks lint applies to CRLs for ALB. A certificate request: subject, SANs, key type and size, public key SHA-256, whether its signature verifies. A private key: type and size, whether and how it is encrypted, the SHA-256 of its public key, and which certificates in its folder and in --dir hold that key; the key itself is never printed. An encrypted key is read with --passphrase-file (else MTLS_KIT_CA_PASSPHRASE); without one, inspect says what it can.

With --trust-store, the certificates are also judged as the chain a client presents (leaf first) by the --target product's policy (ALB by default; nlb, apigw), exactly as verify judges them, with the same revocation rule: a trust store that is a CA directory's ca-bundle.pem brings its CRLs, --crl replaces them, --skip-crl checks none, and a verdict reached without revocation data says "revocation not checked".

Exit codes: 0 read (whatever the verdict); 2 bad flags, a folder or a URL, a file inspect does not read (a public key, an archive); 4 the file is missing, empty, malformed or truncated, or the PKCS#12 password or key passphrase is wrong.`;

  static override examples = [
    '<%= config.bin %> inspect certificate.crt',
    '<%= config.bin %> inspect pki/ca-bundle.pem --json',
    'cat chain.pem | <%= config.bin %> inspect -',
    '<%= config.bin %> inspect pki/intermediate/crl.pem',
    '<%= config.bin %> inspect device-1/private-key.pem',
    '<%= config.bin %> inspect request.csr',
    '<%= config.bin %> inspect device-1/chain.pem --trust-store pki/ca-bundle.pem',
    '<%= config.bin %> inspect device-1/chain.pem --trust-store truststore.pem --target apigw --json',
  ];

  static override args = {
    file: Args.string({
      description: 'Certificate, chain, bundle, PKCS#12, CRL, CSR or private key file (PEM or DER); - for stdin; s3://bucket/key for an S3 object.',
      required: true,
    }),
  };

  static override flags = {
    'password-file': Flags.string({summary: 'File holding the PKCS#12 password (else MTLS_KIT_P12_PASSWORD).', helpValue: 'FILE'}),
    'passphrase-file': Flags.string({summary: "File holding an encrypted private key's passphrase (else MTLS_KIT_CA_PASSPHRASE).", helpValue: 'FILE'}),
    dir: dirFlag,
    ...verdictTrustFlags,
    ...awsFlags,
  };

  async run(): Promise<InspectResult> {
    const {args, flags} = await this.parse(Inspect);
    const data = await readFileOrS3(args.file, {region: flags.region, profile: flags.profile, endpointUrl: flags['endpoint-url']});
    const source = inputName(args.file);
    const found = identifyInput(data);
    if (OTHER_KINDS.has(found.kind) && !found.kinds?.includes('certificate')) {
      if (flags['trust-store']) hint(`--trust-store judges certificates; ${source} holds no certificate, so there is no verdict`);
      return this.inspectOther(data, args.file, found.kind as OtherKind, found.encoding ?? 'der', flags);
    }
    let format: InspectResult['format'] = looksLikePem(data) ? 'pem' : 'der';
    let certs: ReturnType<typeof readCertificates>;
    if (format === 'der' && data[0] === 0x30 && isPkcs12(data)) {
      format = 'pkcs12';
      const {readPkcs12Certificates} = await import('../io/pkcs12-input.js');
      certs = await readPkcs12Certificates(data, source, flags['password-file']);
    } else {
      certs = readCertificates(data, source, {wanted: 'a certificate, CRL, certificate request, private key or PKCS#12 file'});
    }
    const certificates = certs.map(describeCertificate);
    const result: InspectResult = {
      file: args.file,
      kind: 'certificates',
      format,
      count: certificates.length,
      certificates,
      albRequirementsMet: certificates.every((c) => c.albRequirements.ok),
    };
    if (flags['trust-store']) {
      const {runChainVerdict} = await import('../flows/chain-verdict.js');
      const {dir, crl, target} = flags;
      result.verdict = await runChainVerdict({
        chain: certs,
        dir,
        trustStore: flags['trust-store'],
        crl,
        skipCrl: flags['skip-crl'],
        target: target ?? 'alb',
        now: new Date(),
      });
    }
    if (found.kinds?.some((k) => k === 'private-key' || k === 'encrypted-private-key'))
      hint(`${source} also holds a private key (not shown; inspect a file with the key alone to see it)`);
    return this.emit(result, (r) => {
      r.certificates.forEach((c, i) => {
        if (i > 0) printLine();
        printLine(renderCertDetails(c, r.count > 1 ? `certificate ${i + 1} of ${r.count}` : undefined));
      });
      if (r.verdict) {
        printLine();
        renderChainVerdict(r.verdict);
      }
    });
  }

  /** CRLs, requests and keys: their code is loaded only for them (cold start of inspect certificate.crt). */
  private async inspectOther(
    data: Uint8Array,
    file: string,
    kind: OtherKind,
    format: 'pem' | 'der',
    flags: {'passphrase-file'?: string; dir: string},
  ): Promise<InspectResult> {
    const [{inspectOther}, render] = await Promise.all([import('../io/ca/inspect-files.js'), import('../ui/file-render.js')]);
    const r = await inspectOther({
      data,
      file,
      kind,
      caDir: flags.dir,
      ...(flags['passphrase-file'] ? {passphraseFile: flags['passphrase-file']} : {}),
      now: new Date(),
      warnDays: 30,
    });
    const albRequirementsMet = r.crl
      ? !r.crl.findings.some((f) => f.severity === 'error')
      : r.csr
        ? r.csr.albRequirements.ok
        : (r.privateKey?.albRequirements?.ok ?? null);
    const result: InspectResult = {file, kind: r.crl ? 'crl' : r.csr ? 'csr' : 'private-key', format, count: 0, certificates: [], albRequirementsMet, ...r};
    if (r.privateKey && r.privateKey.publicKeySha256 === null) {
      hint(`${inputName(file)} is encrypted: pass --passphrase-file FILE (or set MTLS_KIT_CA_PASSPHRASE) to see its type, size, public key and certificate`);
    }
    return this.emit(result, (x) => {
      if (x.crl) printLine(render.renderCrlDetails(x.crl, x.format));
      if (x.csr) printLine(render.renderCsrDetails(x.csr, x.format));
      if (x.privateKey) printLine(render.renderKeyDetails(x.privateKey, x.format));
    });
  }
}

type OtherKind = 'crl' | 'csr' | 'private-key' | 'encrypted-private-key';
const OTHER_KINDS = new Set<InputKind>(['crl', 'csr', 'private-key', 'encrypted-private-key']);

/** PFX: SEQUENCE { INTEGER 3, ContentInfo ... } (RFC 7292 4). */
function isPkcs12(der: Uint8Array): boolean {
  // Find the first element inside the outer SEQUENCE: INTEGER (02 01 03).
  const lenByte = der[1] ?? 0;
  const off = lenByte & 0x80 ? 2 + (lenByte & 0x7f) : 2;
  return der[off] === 0x02 && der[off + 1] === 0x01 && der[off + 2] === 0x03;
}
