/**
 * The body of `inspect` (src/commands/inspect.ts has its flags and help): read the file,
 * describe what it holds, judge certificates with --trust-store, print it for humans.
 * Called by the oclif command and by the fast path (src/fast.ts); see README.md.
 */
import {readFileOrS3} from '../io/aws/s3-input.js';
import {inputName} from '../io/files.js';
import {type CertDetails, describeCertificate} from '../lib/alb/describe.js';
import type {CrlDetails, CsrDetails, PrivateKeyDetails} from '../lib/alb/describe-files.js';
import {identifyInput, type InputKind} from '../lib/x509/input-kind.js';
import {looksLikePem} from '../lib/x509/pem.js';
import type {ChainVerdict} from '../flows/chain-verdict.js';
import {readCertificates} from '../lib/x509/read-certs.js';
import {renderCertDetails} from '../ui/cert-render.js';
import {hint, printLine} from '../ui/output.js';
import type {ActionContext} from './context.js';

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

/** inspect's parsed flags (the command's flag definitions produce this shape). */
export interface InspectFlags {
  'password-file'?: string | undefined;
  'passphrase-file'?: string | undefined;
  dir: string;
  'trust-store'?: string | undefined;
  crl?: string[] | undefined;
  'skip-crl'?: boolean | undefined;
  target?: 'alb' | 'nlb' | 'apigw' | undefined;
  region?: string | undefined;
  profile?: string | undefined;
  'endpoint-url'?: string | undefined;
}

/** Runs inspect on `args.file`: prints the details for humans (unless ctx.json) and returns the result. */
export async function runInspect(args: {file: string}, flags: InspectFlags, ctx: ActionContext): Promise<InspectResult> {
  const data = await readFileOrS3(args.file, {region: flags.region, profile: flags.profile, endpointUrl: flags['endpoint-url']});
  const source = inputName(args.file);
  const found = identifyInput(data);
  if (OTHER_KINDS.has(found.kind) && !found.kinds?.includes('certificate')) {
    if (flags['trust-store']) hint(`--trust-store judges certificates; ${source} holds no certificate, so there is no verdict`);
    return inspectNonCertificate(data, args.file, found.kind as OtherKind, found.encoding ?? 'der', flags, ctx);
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
  return emit(ctx, result, async (r) => {
    r.certificates.forEach((c, i) => {
      if (i > 0) printLine();
      printLine(renderCertDetails(c, r.count > 1 ? `certificate ${i + 1} of ${r.count}` : undefined));
    });
    if (r.verdict) {
      printLine();
      const {renderChainVerdict} = await import('../ui/verdict-render.js');
      renderChainVerdict(r.verdict);
    }
  });
}

/** CRLs, requests and keys: their code is loaded only for them (cold start of inspect certificate.crt). */
async function inspectNonCertificate(
  data: Uint8Array,
  file: string,
  kind: OtherKind,
  format: 'pem' | 'der',
  flags: {'passphrase-file'?: string | undefined; dir: string},
  ctx: ActionContext,
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
  return emit(ctx, result, (x) => {
    if (x.crl) printLine(render.renderCrlDetails(x.crl, x.format));
    if (x.csr) printLine(render.renderCsrDetails(x.csr, x.format));
    if (x.privateKey) printLine(render.renderKeyDetails(x.privateKey, x.format));
  });
}

/** The result, rendered for humans first unless --json (oclif or the fast path prints the JSON). */
async function emit<T>(ctx: ActionContext, result: T, render: (r: T) => void | Promise<void>): Promise<T> {
  if (!ctx.json) await render(result);
  return result;
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
