/**
 * `lint --target nlb`: NLB uses the same ELBv2 trust store as ALB (aws-reference 9.7), so
 * bundles and CRLs get ALB's rules; on top, the identity filter values (aws-reference 9.3).
 */
import {type LintFinding, lintFiles, type LintInput, type LintOptions, type LintResult} from '../alb/lint.js';
import {NLB_POLICY} from '../alb/policy.js';
import {type FilterProblem, formatIdentityFilter, type IdentityFilter, verifyNlbChain} from './identity-filter.js';

export interface NlbLintParams {
  inputs: LintInput[];
  options: Omit<LintOptions, 'target'>;
  /** Filters that parsed, and the texts that did not (io/identity-filters.ts). */
  filters: IdentityFilter[];
  filterProblems: FilterProblem[];
}

/**
 * Lints bundles and CRLs as for ALB; judges client certificates by NLB's policy and the
 * identity filters that parse (as `verify --target nlb`), then adds one error per filter
 * that AWS would refuse.
 */
export function lintForNlb(p: NlbLintParams): LintResult {
  const r = lintFiles(p.inputs, {
    ...p.options,
    target: 'alb',
    clientVerdict: {
      policy: NLB_POLICY,
      product: 'NLB',
      judge: (chain, ctx) => verifyNlbChain({...ctx, chain, identityFilters: p.filters, policy: NLB_POLICY}),
    },
  });
  const findings: LintFinding[] = [...r.findings];
  for (const problem of p.filterProblems) {
    findings.push({
      severity: 'error',
      rule: 'identity-filter',
      file: problem.source,
      message: problem.message,
      fix: 'write FIELD:MATCH:VALUE with FIELD subject-cn, subject-ou, san-dns or san-uri, MATCH exact or prefix, and a value of 1 to 256 printable ASCII characters (san-uri: starting with a scheme)',
    });
  }
  const seen = new Set<string>();
  for (const f of p.filters) {
    const key = `${f.field}:${f.matchType}:${f.value.toLowerCase()}`;
    if (seen.has(key) && f.field !== 'san-uri') {
      findings.push({
        severity: 'warning',
        rule: 'identity-filter-duplicate',
        file: 'identity filters',
        message: `${formatIdentityFilter(f)} repeats another filter (values compare without case)`,
        fix: 'remove the duplicate filter',
      });
    }
    seen.add(key);
  }
  return {policy: r.policy, findings, errors: r.errors + p.filterProblems.length, warnings: findings.filter((f) => f.severity === 'warning').length};
}
