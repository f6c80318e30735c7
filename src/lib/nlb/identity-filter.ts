/**
 * Network Load Balancer client certificate identity filters (aws-reference 9.3, 9.4): the
 * filter as data, its `FIELD:MATCH:VALUE` text form, AWS's value rules, and the match
 * itself with AWS's case rules. Pure: `verify`, `lint`, `serve` and `deploy` share it.
 *
 * Where AWS's documentation is silent (UNCONFIRMED, aws-reference 9.3), the choice is made
 * once in NLB_FILTER_POLICY below, so a later AWS statement changes one line.
 */
import type {ParsedCertificate} from '../x509/cert.js';
import {decodeStringValue, formatRfc2253, parseName} from '../x509/dn.js';
import {usageError} from '../errors.js';
import {NLB_POLICY, verifyChain, type VerifyChainParams, type VerifyChainResult, type VerifyCheck} from '../alb/verify.js';

/** The four fields AWS lists, a closed set (aws-reference 9.3). */
export const FILTER_FIELDS = ['subject-cn', 'subject-ou', 'san-dns', 'san-uri'] as const;
export type FilterField = (typeof FILTER_FIELDS)[number];

/** `exact` and `prefix`, the only match types (aws-reference 9.3). */
export const MATCH_TYPES = ['exact', 'prefix'] as const;
export type MatchType = (typeof MATCH_TYPES)[number];

/** One ClientCertificateIdentityFilter (aws-reference 9.4); `accept` is the only action. */
export interface IdentityFilter {
  field: FilterField;
  matchType: MatchType;
  value: string;
  action: 'accept';
}

/**
 * The choices mtls-kit makes where AWS's documentation is UNCONFIRMED (aws-reference 9.3,
 * 9.4, 9.10). Change them here.
 */
export const NLB_FILTER_POLICY = {
  /** `Value` length, printable ASCII (documented: 1-256). */
  maxValueLength: 256,
  /**
   * The `san-uri` scheme rule: documented "must begin with a letter; before the first colon
   * only letters, digits, plus signs (…"; the rest is cut off. Chosen: RFC 3986's scheme
   * characters `+ . -`, and the colon is not required (a prefix may stop inside the scheme).
   */
  sanUriScheme: /^[A-Za-z][A-Za-z0-9+.-]*$/,
  /** Filters per listener: AWS states no maximum; none is enforced. */
  maxFilters: undefined as number | undefined,
  /**
   * Case folding for case-insensitive parts: ASCII only (values are printable ASCII;
   * a certificate's non-ASCII characters then only ever equal themselves).
   */
  foldAsciiOnly: true,
} as const;

/**
 * mtls-kit's name for "no identity filter matched" in its verdicts (`Failed:<code>`). NLB
 * logs no documented code for it (aws-reference 9.6), so it deliberately lacks the
 * `ClientCert` prefix of AWS's codes.
 */
export const FILTER_FAILURE_CODE = 'IdentityFilterNoMatch' as const;

/** `subject-cn:prefix:device-`, the form of `--identity-filter` and of logs. */
export function formatIdentityFilter(f: IdentityFilter): string {
  return `${f.field}:${f.matchType}:${f.value}`;
}

/**
 * Problems with a filter value under AWS's rules (aws-reference 9.3): 1-256 printable ASCII,
 * and for `san-uri` the scheme rule. Empty when the value is acceptable.
 */
export function checkFilterValue(field: FilterField, value: string): string[] {
  const problems: string[] = [];
  if (value.length === 0) problems.push('the value is empty; it must be 1 to 256 printable ASCII characters');
  if (value.length > NLB_FILTER_POLICY.maxValueLength)
    problems.push(`the value is ${value.length} characters long; at most ${NLB_FILTER_POLICY.maxValueLength}`);
  const bad = [...value].find((ch) => ch < ' ' || ch > '~');
  if (bad !== undefined) problems.push(`the value contains ${describeChar(bad)}; only printable ASCII (space to ~) is allowed`);
  if (field === 'san-uri' && value.length > 0) {
    const colon = value.indexOf(':');
    const scheme = colon < 0 ? value : value.slice(0, colon);
    if (!NLB_FILTER_POLICY.sanUriScheme.test(scheme)) {
      problems.push(`a san-uri value must start with a URI scheme (a letter, then letters, digits, + . -, before the first colon); "${scheme}" is not one`);
    }
  }
  return problems;
}

function describeChar(ch: string): string {
  const cp = ch.codePointAt(0)!;
  return cp < 0x20 || cp === 0x7f
    ? `the control character 0x${cp.toString(16).padStart(2, '0')}`
    : `the non-ASCII character "${ch}" (U+${cp.toString(16).toUpperCase().padStart(4, '0')})`;
}

/**
 * Parses `FIELD:MATCH:VALUE` (the value may itself hold colons, as URIs do) and checks it.
 * @throws MtlsKitError (usage, exit 2) naming the text and what to write instead.
 */
export function parseIdentityFilter(text: string): IdentityFilter {
  const first = text.indexOf(':');
  const second = first < 0 ? -1 : text.indexOf(':', first + 1);
  const example = 'e.g. --identity-filter subject-cn:prefix:device- or --identity-filter san-uri:exact:spiffe://acme/client';
  if (second < 0) throw usageError('BAD_IDENTITY_FILTER', `identity filter "${text}" is not FIELD:MATCH:VALUE`, [example]);
  const field = text.slice(0, first).toLowerCase();
  const matchType = text.slice(first + 1, second).toLowerCase();
  const value = text.slice(second + 1);
  if (!(FILTER_FIELDS as readonly string[]).includes(field)) {
    throw usageError('BAD_IDENTITY_FILTER', `identity filter "${text}": unknown field "${field}"; NLB filters on ${FILTER_FIELDS.join(', ')}`, [example]);
  }
  if (!(MATCH_TYPES as readonly string[]).includes(matchType)) {
    throw usageError('BAD_IDENTITY_FILTER', `identity filter "${text}": unknown match type "${matchType}"; use exact or prefix`, [example]);
  }
  const f: IdentityFilter = {field: field as FilterField, matchType: matchType as MatchType, value, action: 'accept'};
  const problems = checkFilterValue(f.field, value);
  if (problems.length > 0) throw usageError('BAD_IDENTITY_FILTER', `identity filter "${text}": ${problems.join('; ')}`, [example]);
  return f;
}

/**
 * The values a certificate has for a field: every CN or OU attribute of the subject (in
 * DER order), every DNS or URI subjectAltName. Empty when the field is missing.
 */
export function fieldValues(cert: ParsedCertificate, field: FilterField): string[] {
  switch (field) {
    case 'subject-cn':
    case 'subject-ou': {
      const oid = field === 'subject-cn' ? '2.5.4.3' : '2.5.4.11';
      try {
        return parseName(cert.subject)
          .filter((a) => a.oid === oid)
          .map(decodeStringValue);
      } catch {
        return [];
      }
    }
    case 'san-dns':
      return cert.subjectAltNames.filter((g) => g.type === 'dns').map((g) => g.value as string);
    case 'san-uri':
      return cert.subjectAltNames.filter((g) => g.type === 'uri').map((g) => g.value as string);
  }
}

const lowerAscii = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/**
 * Which characters of a URI compare case-insensitively: the scheme and the host
 * (RFC 3986 3.1, 3.2.2; aws-reference 9.3). Returns [start, end) ranges. The rest
 * (userinfo, port, path, query, fragment) compares case-sensitively.
 */
export function uriCaseInsensitiveRanges(uri: string): Array<[number, number]> {
  const colon = uri.indexOf(':');
  if (colon < 0 || !NLB_FILTER_POLICY.sanUriScheme.test(uri.slice(0, colon))) return [];
  const ranges: Array<[number, number]> = [[0, colon]];
  if (uri.startsWith('//', colon + 1)) {
    const start = colon + 3;
    let end = uri.length;
    for (const stop of ['/', '?', '#']) {
      const i = uri.indexOf(stop, start);
      if (i >= 0 && i < end) end = i;
    }
    const at = uri.lastIndexOf('@', end - 1);
    const hostStart = at >= start ? at + 1 : start;
    let hostEnd = end;
    if (uri[hostStart] === '[') {
      const close = uri.indexOf(']', hostStart);
      hostEnd = close >= 0 && close < end ? close + 1 : end;
    } else {
      const port = uri.indexOf(':', hostStart);
      if (port >= 0 && port < end) hostEnd = port;
    }
    ranges.push([hostStart, hostEnd]);
  }
  return ranges;
}

/**
 * Whether one certificate value matches a filter value (aws-reference 9.3): CN, OU and DNS
 * compare case-insensitively; for a URI the scheme and host of the certificate's URI compare
 * case-insensitively and the rest case-sensitively, so a prefix may stop anywhere, even
 * inside the host. `exact` needs the whole value, `prefix` its start.
 */
export function matchesValue(field: FilterField, matchType: MatchType, filterValue: string, certValue: string): boolean {
  if (matchType === 'exact' ? certValue.length !== filterValue.length : certValue.length < filterValue.length) return false;
  const candidate = certValue.slice(0, filterValue.length);
  if (field !== 'san-uri') return lowerAscii(candidate) === lowerAscii(filterValue);
  const ranges = uriCaseInsensitiveRanges(certValue);
  for (let i = 0; i < filterValue.length; i++) {
    const a = candidate[i]!;
    const b = filterValue[i]!;
    if (a === b) continue;
    const folded = ranges.some(([s, e]) => i >= s && i < e);
    if (!folded || lowerAscii(a) !== lowerAscii(b)) return false;
  }
  return true;
}

/** How one filter fared against a certificate. */
export interface FilterOutcome {
  filter: string;
  /** The certificate's values for the field (empty: the field is missing). */
  values: string[];
  /** The value that matched, if any. */
  matchedValue: string | null;
}

export interface FilterEvaluation {
  /** True when no filters were given (no filtering) or one matched. */
  admitted: boolean;
  /** `FIELD:MATCH:VALUE` of the first filter that matched, or null. */
  matched: string | null;
  matchedValue: string | null;
  outcomes: FilterOutcome[];
  /** One sentence: which filter matched, or why none did. */
  reason: string;
}

const FIELD_LABEL: Record<FilterField, string> = {'subject-cn': 'subject CN', 'subject-ou': 'subject OU', 'san-dns': 'DNS SAN', 'san-uri': 'URI SAN'};

/**
 * Evaluates NLB's identity filters on a client certificate (aws-reference 9.3): filters are
 * ORed, a multi-valued field matches when any value does, a missing field never matches, and
 * an empty list admits every certificate.
 */
export function evaluateIdentityFilters(cert: ParsedCertificate, filters: readonly IdentityFilter[]): FilterEvaluation {
  if (filters.length === 0)
    return {admitted: true, matched: null, matchedValue: null, outcomes: [], reason: 'no identity filters configured; every trusted certificate is admitted'};
  const outcomes: FilterOutcome[] = [];
  for (const f of filters) {
    const values = fieldValues(cert, f.field);
    const hit = values.find((v) => matchesValue(f.field, f.matchType, f.value, v)) ?? null;
    outcomes.push({filter: formatIdentityFilter(f), values, matchedValue: hit});
    if (hit !== null) {
      return {
        admitted: true,
        matched: formatIdentityFilter(f),
        matchedValue: hit,
        outcomes,
        reason: `${formatIdentityFilter(f)} matched ${FIELD_LABEL[f.field]} "${hit}"`,
      };
    }
  }
  const why = outcomes.map((o, i) => {
    const f = filters[i]!;
    return o.values.length === 0
      ? `${o.filter}: the certificate has no ${FIELD_LABEL[f.field]}`
      : `${o.filter}: ${FIELD_LABEL[f.field]} ${o.values.map((v) => `"${v}"`).join(', ')}`;
  });
  return {admitted: false, matched: null, matchedValue: null, outcomes, reason: `no identity filter matched (${why.join('; ')})`};
}

/** The verdict step for a filter evaluation (the `identity-filter` check of `verify`). */
export function filterCheck(e: FilterEvaluation, subject: string): VerifyCheck {
  return e.admitted
    ? {name: 'identity-filter', ok: true, certificate: subject, detail: e.reason}
    : {
        name: 'identity-filter',
        ok: false,
        certificate: subject,
        detail: e.reason,
        fix: "issue the client a certificate whose CN, OU or SAN matches one of the listener's identity filters, or add a filter for it",
        code: FILTER_FAILURE_CODE,
      };
}

export interface NlbVerifyParams extends Omit<VerifyChainParams, 'leafFilter'> {
  /** The listener's ClientCertificateIdentityFilters; empty or absent: no filtering. */
  identityFilters?: readonly IdentityFilter[];
}

export interface NlbVerifyResult extends VerifyChainResult {
  /** How the filters fared; null when no certificate was presented. */
  identityFilters: FilterEvaluation | null;
}

/**
 * Verifies a client chain as an NLB TLS listener in verify mode does (aws-reference 9.2):
 * ALB's chain rules against the same trust store, then the identity filters, then
 * revocation; the code is the first failure in that order.
 */
export function verifyNlbChain(p: NlbVerifyParams): NlbVerifyResult {
  let evaluation: FilterEvaluation | null = null;
  const r = verifyChain({
    ...p,
    policy: p.policy ?? NLB_POLICY,
    leafFilter: (leaf) => {
      evaluation = evaluateIdentityFilters(leaf, p.identityFilters ?? []);
      return filterCheck(evaluation, safeSubject(leaf));
    },
  });
  return {...r, identityFilters: evaluation};
}

function safeSubject(cert: ParsedCertificate): string {
  try {
    return formatRfc2253(cert.subject);
  } catch {
    return '(unreadable name)';
  }
}

/** A filter text that failed to parse, for `lint` (which reports instead of throwing). */
export interface FilterProblem {
  /** Where the text came from: `--identity-filter` or `file:line`. */
  source: string;
  text: string;
  message: string;
}

/**
 * Reads a filters file: one `FIELD:MATCH:VALUE` per line (blank lines and lines starting
 * with `#` ignored), or the JSON that `aws elbv2 describe-listeners` prints for the list
 * (`[{"Field": ..., "MatchType": ..., "Value": ..., "Action": "accept"}]`, also wrapped in
 * `{"ClientCertificateIdentityFilters": [...]}`). Returns each entry's text and source; it
 * does not check them (parseIdentityFilter does).
 */
export function splitFilterFile(text: string, file: string): Array<{source: string; text: string}> {
  const trimmed = text.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let data: unknown;
    try {
      data = JSON.parse(trimmed);
    } catch (error) {
      throw usageError('BAD_IDENTITY_FILTER_FILE', `${file} is not valid JSON (${(error as Error).message})`, [
        'write one FIELD:MATCH:VALUE per line, or the ClientCertificateIdentityFilters JSON list',
      ]);
    }
    const list = Array.isArray(data) ? data : (data as {ClientCertificateIdentityFilters?: unknown}).ClientCertificateIdentityFilters;
    if (!Array.isArray(list))
      throw usageError('BAD_IDENTITY_FILTER_FILE', `${file}: expected a JSON list of {"Field", "MatchType", "Value"}`, [
        'e.g. [{"Field": "subject-cn", "MatchType": "prefix", "Value": "device-", "Action": "accept"}]',
      ]);
    return list.map((e: unknown, i) => {
      const o = (e ?? {}) as Record<string, unknown>;
      if (o.Action !== undefined && o.Action !== 'accept')
        throw usageError('BAD_IDENTITY_FILTER_FILE', `${file}: entry ${i + 1} has Action "${String(o.Action)}"; accept is the only action`, [
          'remove the Action or set it to accept',
        ]);
      return {source: `${file}[${i}]`, text: `${String(o.Field ?? '')}:${String(o.MatchType ?? '')}:${String(o.Value ?? '')}`};
    });
  }
  const out: Array<{source: string; text: string}> = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    out.push({source: `${file}:${i + 1}`, text: line});
  });
  return out;
}

/**
 * Parses every filter text; returns the filters that parse and a problem for each that
 * does not (never throws on a bad filter).
 */
export function collectIdentityFilters(entries: Array<{source: string; text: string}>): {filters: IdentityFilter[]; problems: FilterProblem[]} {
  const filters: IdentityFilter[] = [];
  const problems: FilterProblem[] = [];
  for (const e of entries) {
    try {
      filters.push(parseIdentityFilter(e.text));
    } catch (error) {
      problems.push({source: e.source, text: e.text, message: (error as Error).message});
    }
  }
  return {filters, problems};
}
