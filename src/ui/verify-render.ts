/**
 * `verify`'s human output: the verdict, then what failed and its fix, then what was used
 * (trust store, CRLs); every check only with --verbose.
 */
import type {VerifyCheck} from '../lib/alb/verify.js';
import {out, printLine} from './output.js';

export interface VerifyView {
  status: string;
  code: string | null;
  checks: VerifyCheck[];
  path: Array<{subject: string}>;
  trustStore: string;
  crls: string[];
  /** False: the verdict line says "revocation not checked". */
  revocationChecked?: boolean;
  /** CloudFront: where OCSP answers came from, printed instead of the CRLs. */
  ocsp?: {source: string; responses: string[]};
}

/** What every command prints next to a verdict reached without revocation data (aws-reference 12.4). */
export const REVOCATION_NOT_CHECKED = 'revocation not checked';

/**
 * The suffix for a verdict line: ` (revocation not checked)` in yellow on a Success reached
 * without revocation data (a Failed verdict fails whatever a CRL says; JSON carries
 * `revocationChecked` on every verdict).
 */
export function revocationNote(checked: boolean | undefined, status: string): string {
  return checked === false && status === 'Success' ? ` ${out.yellow(`(${REVOCATION_NOT_CHECKED})`)}` : '';
}

function renderCheck(c: VerifyCheck): void {
  const mark = c.notChecked || c.uncertain ? out.yellow(c.uncertain ? '!' : '·') : c.ok ? out.green('✔') : out.red('✘');
  const detail = c.notChecked || c.uncertain ? out.yellow(c.detail) : c.detail;
  printLine(`  ${mark} ${c.name.padEnd(18)} ${c.certificate ? out.bold(c.certificate) + ': ' : ''}${detail}${c.code && !c.ok ? out.dim(` [${c.code}]`) : ''}`);
  if (!c.ok && c.fix) printLine(`      ${out.dim('fix:')} ${c.fix}`);
}

export function renderVerify(x: VerifyView, verbose: boolean): void {
  const leaf = x.path[0]?.subject;
  printLine((x.code ? out.red(x.status) : `${out.green(x.status)}${leaf ? `: ${leaf} is accepted` : ''}`) + revocationNote(x.revocationChecked, x.status));
  const failed = x.checks.filter((c) => !c.ok);
  // NLB: which identity filter admitted the client is part of the verdict; an uncertain rule always shows.
  // CloudFront: the OCSP answers are the revocation evidence, so they show too.
  for (const c of verbose ? x.checks : x.checks.filter((k) => !k.ok || k.name === 'identity-filter' || k.name === 'ocsp' || k.uncertain)) renderCheck(c);
  const crls = x.ocsp ? ocspSourceLine(x.ocsp) : x.crls.length ? `CRLs ${x.crls.join(', ')}` : out.yellow('no CRL (revocation not checked)');
  printLine(out.dim(`  trust store ${x.trustStore}; `) + (x.crls.length || x.ocsp?.source === 'responders' ? out.dim(crls) : crls));
  if (!verbose) {
    const passed = x.checks.filter((c) => c.ok && !c.notChecked).length;
    const skipped = x.checks.filter((c) => c.notChecked).length;
    printLine(
      out.dim(
        `  ${passed} ${failed.length ? 'other ' : ''}check${passed === 1 ? '' : 's'} passed${skipped ? `, ${skipped} not checked` : ''} (--verbose lists them)`,
      ),
    );
  }
}

/** CloudFront's revocation source in words: the responders asked, the answers given, or none. */
function ocspSourceLine(o: {source: string; responses: string[]}): string {
  if (o.source === 'responders') return 'OCSP from the responders named in the certificates (the root is not checked)';
  if (o.source === 'responses') return `OCSP answers from ${o.responses.join(', ')}`;
  return out.yellow('OCSP off (revocation not checked)');
}
