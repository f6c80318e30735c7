/**
 * NLB identity filters from the command line (`--identity-filter`, repeatable) and from a
 * file (`--identity-filter-file`), in that order (aws-reference 9.3).
 */
import {readInput} from './files.js';
import {collectIdentityFilters, type FilterProblem, type IdentityFilter, splitFilterFile} from '../lib/nlb/identity-filter.js';
import {usageError} from '../lib/errors.js';

export interface FilterFlagValues {
  'identity-filter'?: string[] | undefined;
  'identity-filter-file'?: string | undefined;
}

/** Every filter given, parsed, and a problem for each that does not parse (lint). */
export async function readIdentityFilters(flags: FilterFlagValues): Promise<{filters: IdentityFilter[]; problems: FilterProblem[]}> {
  const entries = (flags['identity-filter'] ?? []).map((text) => ({source: '--identity-filter', text}));
  const file = flags['identity-filter-file'];
  if (file) entries.push(...splitFilterFile((await readInput(file)).toString('utf8'), file));
  return collectIdentityFilters(entries);
}

/**
 * Every filter given, parsed.
 * @throws MtlsKitError (usage) naming the first filter that does not parse.
 */
export async function resolveIdentityFilters(flags: FilterFlagValues): Promise<IdentityFilter[]> {
  const {filters, problems} = await readIdentityFilters(flags);
  const p = problems[0];
  if (p)
    throw usageError('BAD_IDENTITY_FILTER', p.source === '--identity-filter' ? p.message : `${p.source}: ${p.message}`, [
      'filters are FIELD:MATCH:VALUE with FIELD subject-cn, subject-ou, san-dns or san-uri and MATCH exact or prefix',
    ]);
  return filters;
}
