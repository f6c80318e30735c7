/**
 * Human rendering of what `inspect` shows for CRLs, certificate requests and private keys
 * (cert-render.ts does certificates). Never given key material: there is none to print.
 */
import type {CrlDetails, CsrDetails, PrivateKeyDetails} from '../lib/alb/describe-files.js';
import type {RequirementCheck} from '../lib/alb/describe.js';
import {expiryPhrase, keyValues, out, whenRelative} from './output.js';

const albLine = (r: RequirementCheck | null, what: string): string =>
  r === null
    ? out.dim('unknown until the key is decrypted')
    : r.ok
      ? out.green(`meets ALB ${what} requirements`)
      : out.red(`does not meet ALB ${what} requirements: ${r.problems.join('; ')}`);

/** A CRL: issuer, number, dates with their relative form, entries, signature, ALB checks. */
export function renderCrlDetails(d: CrlDetails, format: string): string {
  const errors = d.findings.filter((f) => f.severity === 'error');
  const warnings = d.findings.filter((f) => f.severity === 'warning');
  const sig = d.issuerCertificate
    ? d.issuerCertificate.signatureValid
      ? out.green(`verifies with ${d.issuerCertificate.file}`)
      : out.red(`does not verify with ${d.issuerCertificate.file} (${d.issuerCertificate.subject})`)
    : out.dim('issuer certificate not found beside it or in the CA directory (--dir); not checked');
  const alb = d.findings.filter((f) => f.severity !== 'info');
  return (
    out.bold(`certificate revocation list (${format.toUpperCase()})`) +
    '\n' +
    keyValues([
      ['issuer', d.issuer || '(empty)'],
      ['CRL number', d.crlNumber ?? '(none)'],
      ['this update', whenRelative(d.thisUpdate)],
      ['next update', d.nextUpdate ? `${d.nextUpdate} (${expiryPhrase(d.nextUpdate)})` : '(none)'],
      ['entries', `${d.entries} revoked certificate${d.entries === 1 ? '' : 's'}`],
      ['signature', `${d.signatureAlgorithm}, ${sig}`],
      [
        'ALB',
        alb.length === 0
          ? out.green('passes the ALB checks lint applies to CRLs')
          : `${errors.length ? out.red(`${errors.length} error${errors.length === 1 ? '' : 's'}`) : ''}${errors.length && warnings.length ? ', ' : ''}${warnings.length ? out.yellow(`${warnings.length} warning${warnings.length === 1 ? '' : 's'}`) : ''}`,
      ],
      ...alb.map((f): [string, string] => [`  ${f.severity}`, `${f.message} (${f.rule}); fix: ${f.fix}`]),
    ])
  );
}

/** A certificate request: subject, SANs, key, signature. */
export function renderCsrDetails(d: CsrDetails, format: string): string {
  return (
    out.bold(`certificate signing request (${format.toUpperCase()})`) +
    '\n' +
    keyValues([
      ['subject', d.subject || '(empty)'],
      ['SANs', d.subjectAltNames.length ? d.subjectAltNames.join(', ') : '(none)'],
      ['key', d.keyType.startsWith('EC') ? d.keyType : `${d.keyType} ${d.keyBits} bits`],
      ['public key sha256', d.publicKeySha256],
      [
        'signature',
        `${d.signatureAlgorithm}, ${d.signatureValid ? out.green('valid (signed by its own key)') : out.red('does not verify with its own key: altered or damaged')}`,
      ],
      ['extensions', d.requestedExtensions.length ? d.requestedExtensions.join(', ') : undefined],
      ['ALB', albLine(d.albRequirements, 'key')],
    ])
  );
}

/** A private key: type, size, encryption, public key fingerprint, the certificates it belongs to. */
export function renderKeyDetails(d: PrivateKeyDetails, format: string): string {
  const key = d.keyType === null ? '(unknown: encrypted)' : d.keyBits === null || d.keyType.startsWith('EC') ? d.keyType : `${d.keyType} ${d.keyBits} bits`;
  const certs =
    d.publicKeySha256 === null
      ? undefined
      : d.matches.length === 0
        ? out.yellow(`none found in ${d.searched.join(', ') || 'the folders searched'}`)
        : d.matches.map((m) => `${m.file} (${m.subject}, serial ${m.serial}, ${expiryPhrase(m.notAfter)})`).join('\n' + ' '.repeat(21));
  return (
    out.bold(`private key (${format.toUpperCase()}; the key itself is never shown)`) +
    '\n' +
    keyValues([
      ['key', key],
      ['encrypted', d.encrypted ? `yes${d.encryption ? `, ${d.encryption}` : ''}` : 'no'],
      ['public key sha256', d.publicKeySha256 ?? undefined],
      ['certificate', certs],
      ['ALB', albLine(d.albRequirements, 'key')],
    ])
  );
}
