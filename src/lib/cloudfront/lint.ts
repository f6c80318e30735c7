/**
 * `lint --target cloudfront`: a CloudFront trust store takes root and intermediate CAs from
 * S3 like an ELBv2 one (aws-reference 11.1); its limits and algorithm rules are UNCONFIRMED,
 * so ALB's stand in (the bundle and certificate rules of ../alb/lint.ts). What is
 * CloudFront's: no CRLs (revocation by OCSP, 11.4), and with OCSP on every certificate of a
 * client chain but the root must name an OCSP responder, or CloudFront fails the connection.
 * The client verdict is CloudFront's (lib/cloudfront/verify.ts, its log codes); lint asks no
 * responder, so revocation is not checked there (verify --target cloudfront asks).
 */
import {CLOUDFRONT_VERIFY_POLICY} from '../alb/policy.js';
import {judgeChain, prepareTrustStore} from '../alb/verify.js';
import {type LintFinding, lintFiles, type LintInput, type LintOptions, type LintResult} from '../alb/lint.js';
import {type ParsedCertificate, parseCertificate} from '../x509/cert.js';
import {formatRfc2253} from '../x509/dn.js';
import {ocspUrlsOf} from '../x509/ocsp.js';
import {readCertificates} from '../x509/read-certs.js';

export interface CloudFrontLintParams {
  inputs: LintInput[];
  options: Omit<LintOptions, 'target' | 'revocationCrls'>;
  /** The trust store's OCSP is off (UseClientCertificateOCSPEndpoint false): no OCSP URL is required. */
  ocspOff: boolean;
}

/** ALB's findings that CloudFront replaces with its own: CRL rules and the client verdict. */
const REPLACED = new Set(['client-verify', 'client-revocation-not-checked', 'client-uncertain']);

const isCrlInput = (i: LintInput): boolean => {
  const head = Buffer.from(i.data.subarray(0, 4096)).toString('latin1');
  if (head.includes('-----BEGIN X509 CRL-----')) return true;
  if (head.includes('-----BEGIN ') || i.data[0] !== 0x30) return false;
  try {
    parseCertificate(i.data);
    return false;
  } catch {
    return true;
  }
};

function certsOf(i: LintInput): ParsedCertificate[] {
  try {
    return readCertificates(i.data, i.path, {wanted: 'a certificate'});
  } catch {
    return [];
  }
}

const dn = (c: ParsedCertificate): string => {
  try {
    return formatRfc2253(c.subject) || '(empty subject)';
  } catch {
    return '(unreadable subject)';
  }
};

const selfIssued = (c: ParsedCertificate): boolean => c.issuerCanon === c.subjectCanon;

/** Lints the files for a CloudFront trust store and its viewers. Never throws. */
export function lintForCloudFront(p: CloudFrontLintParams): LintResult {
  const crlInputs = p.inputs.filter(isCrlInput);
  // ALB's rules for bundles and certificates; CRL files are not linted as CloudFront uses none.
  const r = lintFiles(
    p.inputs.filter((i) => !crlInputs.includes(i)),
    {...p.options, target: 'alb', revocationCrls: []},
  );
  const findings: LintFinding[] = r.findings.filter((f) => !REPLACED.has(f.rule));
  for (const c of crlInputs)
    findings.push({
      severity: 'warning',
      rule: 'crl-not-used',
      file: c.path,
      message: 'CloudFront does not use CRLs: it checks revocation by OCSP, the responder named in each certificate (aws-reference 11.4)',
      fix: 'issue certificates with an OCSP URL (gen-client --ocsp-url) and answer for the CA (mtls-kit ocsp --listen), or revoke with a Connection Function',
    });
  const parsed = p.inputs.filter((i) => !crlInputs.includes(i)).map((i) => ({input: i, certs: certsOf(i)}));
  const bundles = parsed.filter((x) => x.certs[0]?.basicConstraints?.ca === true);
  const clients = parsed.filter((x) => x.certs.length > 0 && x.certs[0]!.basicConstraints?.ca !== true);
  if (!p.ocspOff) {
    // Every certificate but the root is asked by OCSP (aws-reference 11.4): a trust-store intermediate too.
    for (const b of bundles)
      for (const c of b.certs.filter((x) => !selfIssued(x) && ocspUrlsOf(x).length === 0)) findings.push(missingUrl(b.input.path, c, 'an intermediate CA'));
    for (const cl of clients)
      for (const [i, c] of cl.certs.entries())
        if (!selfIssued(c) && ocspUrlsOf(c).length === 0)
          findings.push(missingUrl(cl.input.path, c, i === 0 ? 'the client certificate' : 'an intermediate CA'));
  }
  const anchors = bundles.flatMap((b) => b.certs);
  if (anchors.length > 0) {
    const store = prepareTrustStore(anchors);
    for (const cl of clients) {
      const v = judgeChain(cl.certs, CLOUDFRONT_VERIFY_POLICY, {trustStore: store, at: p.options.now});
      const failed = v.checks.find((c) => !c.ok && c.code);
      const code = v.code === 'ClientCertPurposeInvalid' ? 'ClientCertIntentInvalid' : v.code;
      if (failed && code)
        findings.push({
          severity: 'error',
          rule: 'client-verify',
          file: cl.input.path,
          ...(failed.certificate ? {certificate: failed.certificate} : {}),
          message: `CloudFront would log Failed:${code} (revocation not checked): ${failed.detail}`,
          fix: failed.fix ?? 'see mtls-kit verify --target cloudfront',
        });
      else
        findings.push({
          severity: 'info',
          rule: 'client-revocation-not-checked',
          file: cl.input.path,
          message: 'CloudFront would accept the path (revocation not checked: lint asks no OCSP responder)',
          fix: `ask the responders: mtls-kit verify ${cl.input.path} --trust-store BUNDLE --target cloudfront`,
        });
    }
  }
  return {
    policy: CLOUDFRONT_VERIFY_POLICY.id,
    findings,
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
  };
}

function missingUrl(file: string, c: ParsedCertificate, what: string): LintFinding {
  return {
    severity: 'error',
    rule: 'ocsp-url-missing',
    file,
    certificate: dn(c),
    message: `${what} names no OCSP responder (authorityInfoAccess); with OCSP on the trust store CloudFront fails every connection through it (aws-reference 11.4)`,
    fix: 'issue it again with an OCSP URL (mtls-kit gen-ca --ocsp-url URL / gen-client --ocsp-url URL), or lint with --skip-ocsp if the trust store has OCSP off',
  };
}
