/**
 * PLACEHOLDER on branch `deploy` until branch `revocation` lands the real lint (INTERFACES.md).
 * Same exports and shapes as the contract; on merge, take the revocation version of this file.
 * It checks only what deploy must stop on: the ALB bundle format (facts doc 4.2), the
 * certificate requirements (4.1) and PEM CRLs (4.3).
 */
import {parseCertificate} from './cert.js';
import {summarizeCrl} from './crl-summary.js';
import {checkAlbRequirements} from './describe.js';
import {parsePem} from './pem.js';

export interface LintInput {
  path: string;
  data: Uint8Array;
}
export type LintTarget = 'alb' | 'apigw';
export interface LintFinding {
  severity: 'error' | 'warning' | 'info';
  rule: string;
  file: string;
  certificate?: string;
  message: string;
  fix: string;
}
export interface LintResult {
  findings: LintFinding[];
  errors: number;
  warnings: number;
}

/** Lints bundles and CRLs (placeholder subset; see the file comment). */
export function lintFiles(inputs: LintInput[], opts: {target: LintTarget; now: Date; warnDays: number}): LintResult {
  const findings: LintFinding[] = [];
  const error = (file: string, rule: string, message: string, fix: string): void => void findings.push({severity: 'error', rule, file, message, fix});
  for (const input of inputs) {
    const text = Buffer.from(input.data).toString('utf8');
    if (text.includes('-----BEGIN X509 CRL-----') || !text.includes('-----BEGIN')) {
      try {
        const s = summarizeCrl(input.data, input.path);
        if (!s.pem) error(input.path, 'crl-not-pem', 'the CRL is DER; ALB accepts only PEM CRLs', `openssl crl -inform DER -in ${input.path} -out crl.pem`);
        if (s.nextUpdate && s.nextUpdate.getTime() < opts.now.getTime()) findings.push({severity: 'warning', rule: 'crl-expired', file: input.path, message: `nextUpdate ${s.nextUpdate.toISOString()} has passed`, fix: 'regenerate the CRL: mtls-kit crl'});
      } catch (e) {
        error(input.path, 'crl-invalid', (e as Error).message, 'regenerate the CRL: mtls-kit crl');
      }
      continue;
    }
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    let inside = false;
    lines.forEach((line, i) => {
      if (/^-----BEGIN /.test(line)) inside = true;
      else if (/^-----END /.test(line)) inside = false;
      else if (line.trim() === '') error(input.path, 'bundle-blank-line', `line ${i + 1} is blank; ALB rejects bundles with blank lines`, 'delete the blank lines');
      else if (!inside && (!line.startsWith('#') || line.includes('-'))) error(input.path, 'bundle-text-outside-pem', `line ${i + 1} is neither PEM nor a "#" comment without "-"`, 'remove text outside the PEM blocks');
    });
    try {
      for (const b of parsePem(text, input.path)) {
        if (b.label !== 'CERTIFICATE') {
          error(input.path, 'bundle-not-certificate', `the ${b.label} block at line ${b.line} is not a certificate`, 'keep only CERTIFICATE blocks');
          continue;
        }
        const req = checkAlbRequirements(parseCertificate(b.der));
        if (!req.ok) error(input.path, 'cert-alb-requirements', `the certificate at line ${b.line}: ${req.problems.join('; ')}`, 'reissue the CA with a supported key (mtls-kit gen-ca --key-type ec-p256)');
      }
    } catch (e) {
      error(input.path, 'bundle-invalid', (e as Error).message, 'regenerate the bundle: mtls-kit gen-ca');
    }
  }
  void opts.target;
  return {findings, errors: findings.filter((f) => f.severity === 'error').length, warnings: findings.filter((f) => f.severity === 'warning').length};
}
