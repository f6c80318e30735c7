/**
 * `lint`'s human output, in verify's order: the verdict first, then the errors and the
 * warnings with their fix (a rule that fires many times shows its first few and a count),
 * notes and every repeat only with --verbose.
 */
import type {LintFinding, LintReport} from '../lib/alb/lint.js';
import {out, printLine} from './output.js';

/** How many findings of one rule and severity are shown before "and N more". */
const SHOWN_PER_RULE = 3;
const TARGET = {alb: 'ALB', nlb: 'NLB', apigw: 'API Gateway', cloudfront: 'CloudFront'} as const;

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function renderFinding(f: LintFinding, showFix: boolean): void {
  const sev = f.severity === 'error' ? out.red('✘ error  ') : f.severity === 'warning' ? out.yellow('! warning') : out.dim('· note   ');
  printLine(`  ${sev} ${f.file}${f.certificate ? ` [${f.certificate}]` : ''}: ${f.message} ${out.dim(`(${f.rule})`)}`);
  if (showFix) printLine(`      ${out.dim('fix:')} ${f.fix}`);
}

export function renderLint(x: LintReport, verbose: boolean): void {
  const what = `${plural(x.files.length, 'file')}${x.identityFilters ? ` and ${plural(x.identityFilters.length, 'identity filter')}` : ''}`;
  const notes = x.findings.filter((f) => f.severity === 'info');
  const also = x.warnings ? `, ${plural(x.warnings, 'warning')}` : '';
  if (x.errors > 0) printLine(out.red(`✘ ${TARGET[x.target]} would reject: ${plural(x.errors, 'error')}${also} (${what} checked)`));
  else
    printLine(
      `${out.green('✔')} ${what} pass${x.files.length === 1 && !x.identityFilters ? 'es' : ''} ${TARGET[x.target]}'s checks${x.warnings ? ` (${plural(x.warnings, 'warning')})` : ''}`,
    );
  for (const severity of ['error', 'warning', ...(verbose ? ['info'] : [])] as const) {
    const byRule = new Map<string, LintFinding[]>();
    for (const f of x.findings.filter((k) => k.severity === severity)) byRule.set(f.rule, [...(byRule.get(f.rule) ?? []), f]);
    for (const [rule, list] of byRule) {
      const shown = verbose ? list : list.slice(0, SHOWN_PER_RULE);
      // One fix for a group that shares it.
      const sameFix = list.every((f) => f.fix === list[0]!.fix);
      for (const [i, f] of shown.entries()) renderFinding(f, !sameFix || i === shown.length - 1);
      if (shown.length < list.length)
        printLine(out.dim(`      … and ${list.length - shown.length} more ${rule} ${severity === 'error' ? 'errors' : 'warnings'} (--verbose lists them)`));
    }
  }
  if (!verbose && notes.length > 0) printLine(out.dim(`  ${plural(notes.length, 'note')} not shown (--verbose shows ${notes.length === 1 ? 'it' : 'them'})`));
}
