/**
 * origin-cert: the client certificate CloudFront presents to an origin (origin mTLS,
 * aws-reference 11.8). Refuses what CloudFront would refuse before issuing (key type, the
 * CA chain's depth and algorithms, a lifetime beyond the CA), issues through gen-client's
 * flow (same files, same index writer), checks the issued material against CloudFront's
 * rules, judges it as an ALB in verify mode with the CA directory's bundle would (the
 * judgeChain path of `verify --target alb`), and with acmImport imports it into ACM in
 * us-east-1 (only when ALB accepts it).
 */
import {readFile} from 'node:fs/promises';
import {importToAcm, type AcmImported} from '../io/aws/acm.js';
import type {AwsParams} from '../io/aws/clients.js';
import {loadCa} from '../io/ca/directory.js';
import {resolveTrustCrls} from '../io/ca/trust-crls.js';
import {inputName, readInput} from '../io/files.js';
import type {CertDetails} from '../lib/alb/describe.js';
import {judgeChain, policyFor, prepareTrustStore, type VerifyFailureCode} from '../lib/alb/verify.js';
import {checkOriginCaPath, checkOriginKeyType, checkOriginMaterial, type OriginRuleFailure} from '../lib/cloudfront/origin-cert.js';
import {isMtlsKitError, usageError} from '../lib/errors.js';
import type {CaRef} from '../lib/pki/ca.js';
import {loadCrl} from '../lib/x509/crl.js';
import {formatRfc2253} from '../lib/x509/dn.js';
import {toPem} from '../lib/x509/pem.js';
import {readCertificates} from '../lib/x509/read-certs.js';
import type {ClientFiles} from '../io/ca/client-files.js';
import {type GenClientParams, runGenClient} from './gen-client.js';
import type {FlowContext} from './progress.js';

/** gen-client's parameters for one certificate, plus the ACM import. */
export interface OriginCertParams
  extends Pick<GenClientParams, 'dir' | 'out' | 'fields' | 'sans' | 'days' | 'keyType' | 'passphraseFile' | 'force' | 'ocspUrl'> {
  /** Import into ACM (us-east-1) when ALB accepts the certificate. */
  acmImport: boolean;
  /** Re-import to this ACM certificate (rotation). */
  certificateArn?: string | undefined;
  /** The bundle the ALB trust store holds (undefined: --dir's ca-bundle.pem, whose CRLs then apply too). */
  trustStore?: string | undefined;
  aws: AwsParams;
}

export interface OriginCertResult {
  caDir: string;
  ca: CaRef;
  keyType: string;
  certificate: CertDetails & {files: ClientFiles};
  /** CloudFront's rules (aws-reference 11.8), all met (a failure is an ORIGIN_CERT_RULE error). */
  cloudfront: {rules: string[]; chainDepth: number; sizes: {certificate: number; chain: number; key: number}};
  /** The verdict of an ALB in verify mode with the CA directory's bundle (and its CRLs), as `verify --target alb` gives it. */
  alb: {status: string; code: VerifyFailureCode | null; trustStore: string; crls: string[]; path: Array<{subject: string; serial: string}>; warnings: string[]};
  /** The ACM import: null without --acm-import, or when ALB refuses the certificate (nothing is imported then). */
  acm: AcmImported | null;
  next: string;
}

const ruleError = (f: OriginRuleFailure, issued?: string) =>
  usageError(
    'ORIGIN_CERT_RULE',
    `CloudFront origin mTLS rule ${f.rule}: ${f.detail}${issued ? ` (${issued} was issued and recorded; revoke it with mtls-kit revoke)` : ''}`,
    ['see docs/aws-reference.md 11.8 for what CloudFront accepts'],
  );

/** Issues, checks and optionally imports the origin certificate (see the file comment). */
export async function runOriginCert(p: OriginCertParams, ctx: FlowContext): Promise<OriginCertResult> {
  const keyFailure = checkOriginKeyType(p.keyType);
  if (keyFailure) throw ruleError(keyFailure);
  const ca = await loadCa(p.dir);
  const caPath = ca.issuing.tier === 'intermediate' ? [ca.issuing.cert, ca.root.cert] : [ca.root.cert];
  const caFailure = checkOriginCaPath(caPath)[0];
  if (caFailure) throw ruleError(caFailure);
  const caEnd = ca.issuing.cert.notAfter;
  if (ctx.now.getTime() + p.days * 86_400_000 > caEnd.getTime())
    throw ruleError({
      rule: 'validity',
      detail: `--days ${p.days} outlives the issuing CA (it expires ${caEnd.toISOString()}); from then on the origin refuses the certificate: issue for fewer days or renew the CA`,
    });

  // As ALB in verify mode would judge it (read before issuing, so a bad file stops nothing half-done): the same material resolution and judgeChain call as `verify --target alb`.
  const material = await resolveTrustCrls({dir: p.dir, trustStore: p.trustStore});
  const trustStore = prepareTrustStore(readCertificates(await readInput(material.trustStore), inputName(material.trustStore), {wanted: 'a CA bundle'}));
  const crls = [];
  for (const f of material.crls) crls.push(loadCrl(await readInput(f), inputName(f), {wanted: 'a CRL'}));

  const gen = await runGenClient(
    {
      dir: p.dir,
      out: p.out,
      fields: p.fields,
      sans: p.sans,
      days: p.days,
      keyType: p.keyType,
      count: undefined,
      p12: false,
      p12Legacy: false,
      p12PasswordFile: undefined,
      passphraseFile: p.passphraseFile,
      force: p.force,
      defectKey: 'rsa-1024',
      ocspUrl: p.ocspUrl,
    },
    ctx,
  );
  const certificate = gen.certificate!;
  const files = certificate.files;
  const [certPem, chainText, keyPem] = await Promise.all([readFile(files.certificate, 'utf8'), readFile(files.chain, 'utf8'), readFile(files.key, 'utf8')]);

  const presented = readCertificates(Buffer.from(chainText), files.chain, {wanted: 'a certificate chain'});
  const verdict = judgeChain(presented, policyFor('alb'), {trustStore, crls, at: ctx.now, ignoreExpiry: false});

  // What ACM gets as CertificateChain, and what CloudFront counts as the chain: the issuing CA up to the root.
  const fullPath = [presented[0]!, ...caPath];
  const acmChainPem = fullPath
    .slice(1)
    .map((c) => toPem(c.der, 'CERTIFICATE'))
    .join('');
  const sizes = {certificate: Buffer.byteLength(certPem), chain: Buffer.byteLength(acmChainPem), key: Buffer.byteLength(keyPem)};
  const failure = checkOriginMaterial(fullPath, sizes)[0];
  if (failure) throw ruleError(failure, files.certificate);

  let acm: AcmImported | null = null;
  if (p.acmImport && !verdict.code) {
    try {
      acm = await importToAcm(p.aws, {certificatePem: certPem, chainPem: acmChainPem, keyPem, certificateArn: p.certificateArn});
    } catch (error) {
      if (isMtlsKitError(error))
        error.suggestions.push(
          `the certificate was issued and written to ${files.certificate} (recorded in the CA's index); re-run with --force to issue and import a fresh one`,
        );
      throw error;
    }
  }
  return {
    caDir: p.dir,
    ca: gen.ca,
    keyType: p.keyType,
    certificate,
    cloudfront: {
      rules: ['key-type', 'chain-depth', 'chain-size', 'certificate-size', 'key-size', 'x509-version', 'signature', 'eku', 'validity'],
      chainDepth: fullPath.length,
      sizes,
    },
    alb: {
      status: verdict.status,
      code: verdict.code,
      trustStore: material.trustStore,
      crls: material.crls,
      path: verdict.path.map((c) => ({subject: formatRfc2253(c.subject), serial: c.serialHex})),
      warnings: verdict.warnings,
    },
    acm,
    next: acm
      ? `set OriginMtlsConfig.ClientCertificateArn=${acm.certificateArn} on the distribution's origin, and trust ${material.trustStore} on the ALB (mtls-kit deploy)`
      : verdict.code
        ? `fix what ALB refuses (mtls-kit verify ${files.chain} --dir ${p.dir}), then issue again`
        : `import it into ACM in us-east-1: run again with --acm-import, or aws acm import-certificate --region us-east-1 --certificate fileb://${files.certificate} --private-key fileb://${files.key} --certificate-chain fileb://${material.trustStore}`,
  };
}
