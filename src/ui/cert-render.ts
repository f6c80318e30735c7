/**
 * Human rendering of certificate details.
 */
import type {CertDetails} from '../lib/alb/describe.js';
import {escapeTerminal} from './escape.js';
import {expiryPhrase, keyValues, out, whenRelative} from './output.js';

/** Short block: subject, issuer, serial, validity, SANs, fingerprint, and ALB's requirements only when they fail. */
export function renderCertSummary(d: CertDetails, title?: string): string {
  const head = title ? out.bold(title) + '\n' : '';
  return (
    head +
    keyValues([
      ['subject', escapeTerminal(d.subject) || '(empty)'],
      ['issuer', d.issuer || '(empty)'],
      ['serial', d.serial],
      ['valid', `${d.notBefore} → ${d.notAfter} (${expiryPhrase(d.notAfter)})`],
      ['SANs', d.subjectAltNames.length ? escapeTerminal(d.subjectAltNames.join(', ')) : undefined],
      ['sha256', d.sha256Fingerprint],
      ['ALB', d.albRequirements.ok ? undefined : out.red('does not meet ALB requirements: ' + d.albRequirements.problems.join('; '))],
    ])
  );
}

/** Full block, as `inspect` prints it. */
export function renderCertDetails(d: CertDetails, title?: string): string {
  const head = title ? out.bold(title) + '\n' : '';
  const alb = d.albRequirements.ok
    ? out.green('meets ALB certificate requirements')
    : out.red('does not meet ALB requirements: ' + d.albRequirements.problems.join('; '));
  const bc = d.basicConstraints
    ? `CA:${d.basicConstraints.ca ? 'TRUE' : 'FALSE'}${d.basicConstraints.pathLength === undefined ? '' : `, pathlen:${d.basicConstraints.pathLength}`}${d.basicConstraints.critical ? ' (critical)' : ''}`
    : '(none)';
  return (
    head +
    keyValues([
      ['subject', escapeTerminal(d.subject) || '(empty)'],
      ['issuer', d.issuer || '(empty)'],
      ['serial', d.serial],
      ['not before', whenRelative(d.notBefore)],
      ['not after', `${d.notAfter} (${expiryPhrase(d.notAfter)})`],
      ['version', `v${d.version}`],
      ['key', d.keyType.startsWith('EC') ? d.keyType : `${d.keyType} ${d.keyBits} bits`],
      ['signature', d.signatureAlgorithm],
      ['SANs', d.subjectAltNames.length ? escapeTerminal(d.subjectAltNames.join(', ')) : undefined],
      ['key usage', d.keyUsage.length ? d.keyUsage.join(', ') : '(none)'],
      ['ext key usage', d.extendedKeyUsage.length ? d.extendedKeyUsage.join(', ') : '(none)'],
      ['client use', d.clientAuthProblem ? out.yellow(d.clientAuthProblem) : undefined],
      ['basic constr.', bc],
      ['subject key id', d.subjectKeyId ?? undefined],
      ['authority key id', d.authorityKeyId ?? undefined],
      ['sha256', d.sha256Fingerprint],
      ['ALB', alb],
    ])
  );
}
