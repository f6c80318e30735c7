import {Args, Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {isoSeconds} from '../lib/x509/validity.js';
import {dirFlag, identityFilterFlags} from '../flags.js';
import {inputName, readInput} from '../io/files.js';
import {resolveIdentityFilters} from '../io/identity-filters.js';
import type {ParsedCertificate} from '../lib/x509/cert.js';
import {loadCrl} from '../lib/x509/crl.js';
import {formatRfc2253} from '../lib/x509/dn.js';
import {isMtlsKitError, usageError} from '../lib/errors.js';
import {readCertificates} from '../lib/x509/read-certs.js';
import {judgeChain, loadTrustStore, policyFor, type VerifyCheck, type VerifyFailureCode} from '../lib/alb/verify.js';
import {type FilterEvaluation, formatIdentityFilter, verifyNlbChain} from '../lib/nlb/identity-filter.js';
import {renderVerify} from '../ui/verify-render.js';
import {hint, warn} from '../ui/output.js';
import {resolveTrustCrls} from '../io/ca/trust-crls.js';
import {judgeCloudFrontChain} from '../lib/cloudfront/verify.js';
import type {OcspChainResult} from '../lib/cloudfront/policy.js';
import {postOcspRequest} from '../io/net/ocsp-client.js';

export interface VerifyResult {
  /** `Success` or `Failed:<code>`, as ALB logs it (aws-reference 5); for NLB, `Failed:IdentityFilterNoMatch` is mtls-kit's own. */
  status: string;
  code: VerifyFailureCode | null;
  /** Whose rules: ALB's, an NLB TLS listener's (chain, identity filters, revocation), or CloudFront's viewer mTLS (OCSP). */
  target: 'alb' | 'nlb' | 'cloudfront';
  /**
   * CloudFront only: where the OCSP answers came from (the responders in the certificates'
   * authorityInfoAccess, --ocsp-response files, or skipped), and the check of every certificate
   * but the root (null when the path failed or OCSP was skipped).
   */
  ocsp?: {source: 'responders' | 'responses' | 'skipped'; responses: string[]; result: OcspChainResult | null};
  /** NLB only: the filters given, the one that matched (FIELD:MATCH:VALUE) or null, and why. */
  identityFilters?: {filters: string[]; matched: string | null; matchedValue: string | null; reason: string};
  checks: VerifyCheck[];
  /** The verification policy the chain was judged by (`alb-verify`, `nlb-verify`). */
  policy: string;
  /** False when the verdict was reached without revocation data for the client certificate ("revocation not checked"). */
  revocationChecked: boolean;
  /** Where the CRLs came from: --crl, the CA directory's, --skip-crl, or none (a bundle outside a CA directory). */
  crlSource: 'given' | 'ca-directory' | 'skipped' | 'none';
  /** Warnings printed next to the verdict (a trust-store certificate that is not a CA, uncertain rules, revocation not checked). */
  warnings: string[];
  /** The path that was built, leaf first. */
  path: Array<{subject: string; serial: string}>;
  chainFile: string;
  trustStore: string;
  crls: string[];
  at: string;
  ignoreExpiry: boolean;
}

export default class Verify extends BaseCommand {
  static override summary =
    'Verify a client certificate chain as ALB (or an NLB TLS listener) would, offline: prints Success or Failed:<code>, then every check.';
  static override description =
    `The chain file is what the client presents: the leaf first, then any intermediates (PEM or DER). It is checked against the trust-store bundle and CRLs with ALB's rules (path to a CA in the bundle, signatures, validity, CA constraints, clientAuth purpose, key and signature algorithms, chain depth 4, revocation) and the result uses ALB's connection-log codes (ClientCertUntrusted, ClientCertExpired, ClientCertCrlHit, ...).

With --target nlb or --identity-filter, the rules are an NLB TLS listener's: the chain against the trust store, then the client certificate identity filters (any one must match; subject-cn, subject-ou and san-dns ignore case, san-uri ignores the case of scheme and host only), then revocation. A certificate no filter admits fails with Failed:IdentityFilterNoMatch (mtls-kit's name; NLB logs no code for it), even when it is also revoked.

With --target cloudfront, the rules are CloudFront viewer mTLS's (aws-reference 11): the path as ALB builds it, CloudFront's log codes (ClientCertIntentInvalid for the purpose, ClientCertMissing), no CRLs; then every certificate of the chain but the root is asked of the OCSP responder its authorityInfoAccess names (at most 5 s each). A revoked certificate, one without an OCSP URL, an unknown answer, an unreachable responder or an answer not signed by the issuer fails with Failed:ClientCertRejected (mtls-kit's choice of code, the OCSP reason beside it). --ocsp-response FILE uses answers fetched earlier instead (openssl ocsp -respout), --skip-ocsp asks nothing (as a trust store with OCSP off; revocation not checked).

By default (with the CA directory's bundle) the directory's current CRLs are checked, as deploy uploads them; the CRLs used are named, and a warning says when revocation was not checked. The output is the verdict, the failing check and its fix; --verbose lists every check.

Exit codes: 0 Success; 3 Failed (the result is still printed); 2 bad flags (a CRL flag with --target cloudfront, an OCSP flag without it), a file of another kind (a CRL or key where a certificate belongs, ...), a folder or a URL; 4 an empty file, unreadable trust store or CRL.`;

  static override examples = [
    '<%= config.bin %> verify ./clients/device-1/device-1-chain.pem --trust-store ./pki/ca-bundle.pem',
    '<%= config.bin %> verify client.pem --trust-store ca-bundle.pem --crl pki/intermediate/crl.pem --crl pki/root/crl.pem',
    '<%= config.bin %> verify client.pem --trust-store ca-bundle.pem --at 2027-01-01T00:00:00Z --ignore-expiry --json',
    '<%= config.bin %> verify ./clients/device-1/chain.pem --trust-store ./pki/ca-bundle.pem --target cloudfront',
    '<%= config.bin %> verify client.pem --trust-store ca-bundle.pem --identity-filter subject-cn:prefix:device- --identity-filter san-uri:exact:spiffe://acme/client',
  ];

  static override args = {
    chain: Args.string({description: 'Client certificate chain file (leaf first), or - for stdin.', required: true}),
  };

  static override flags = {
    dir: dirFlag,
    'trust-store': Flags.string({summary: 'CA bundle (PEM) as uploaded to the ALB trust store (default: <dir>/ca-bundle.pem).', helpValue: 'FILE'}),
    crl: Flags.string({
      summary: "CRL (PEM or DER) in the trust store; repeatable (default, with the CA directory's bundle: its current CRLs, as deploy uploads them).",
      multiple: true,
      helpValue: 'FILE',
    }),
    'skip-crl': Flags.boolean({summary: "Check no CRL, not even the CA directory's (revocation is not tested).", default: false, exclusive: ['crl']}),
    verbose: Flags.boolean({summary: 'List every check, not only the verdict and what failed.', default: false}),
    at: Flags.string({summary: 'Verify at this time (ISO 8601) instead of now.', helpValue: 'TIME'}),
    'ignore-expiry': Flags.boolean({summary: 'Accept expired certificates, as the listener option IgnoreClientCertificateExpiry does.', default: false}),
    target: Flags.option({
      summary: 'Whose rules: ALB, an NLB TLS listener, or CloudFront viewer mTLS (default nlb when identity filters are given, else alb).',
      options: ['alb', 'nlb', 'cloudfront'] as const,
    })(),
    'ocsp-response': Flags.string({
      summary: 'CloudFront: an OCSP response (DER) to use instead of asking the responders; repeatable (one per certificate but the root).',
      multiple: true,
      helpValue: 'FILE',
      exclusive: ['skip-ocsp'],
    }),
    'skip-ocsp': Flags.boolean({summary: "CloudFront: ask no OCSP responder, as with the trust store's OCSP off (revocation not checked).", default: false}),
    ...identityFilterFlags,
  };

  async run(): Promise<VerifyResult> {
    const {args, flags} = await this.parse(Verify);
    const at = flags.at ? new Date(flags.at) : new Date();
    if (Number.isNaN(at.getTime())) throw usageError('BAD_TIME', `--at "${flags.at}" is not an ISO 8601 time`, ['e.g. --at 2027-01-01T00:00:00Z']);
    const filters = await resolveIdentityFilters(flags);
    const target = flags.target ?? (filters.length > 0 ? 'nlb' : 'alb');
    if (target === 'alb' && filters.length > 0)
      throw usageError('FILTERS_NEED_NLB', 'identity filters exist only on NLB TLS listeners, not on ALB', ['drop --target alb, or use --target nlb']);
    const cloudfront = target === 'cloudfront';
    if (cloudfront && (flags.crl || flags['skip-crl']))
      throw usageError('CRL_NOT_USED', 'CloudFront checks revocation by OCSP, not CRLs (aws-reference 11.4)', [
        'drop --crl/--skip-crl; use --ocsp-response FILE or --skip-ocsp',
      ]);
    if (!cloudfront && (flags['ocsp-response'] || flags['skip-ocsp']))
      throw usageError('OCSP_NEEDS_CLOUDFRONT', '--ocsp-response and --skip-ocsp apply to CloudFront, which checks revocation by OCSP', [
        'add --target cloudfront',
      ]);
    // One rule for every command (io/ca/trust-crls.ts): the CA directory's bundle brings its CRLs (not CloudFront's: OCSP).
    const material = await resolveTrustCrls({dir: flags.dir, trustStore: flags['trust-store'], crl: flags.crl, skipCrl: flags['skip-crl'] || cloudfront});
    const trustFile = material.trustStore;
    const {store: trustStore, warnings: trustWarnings} = loadTrustStore(await readInput(trustFile), inputName(trustFile), `pass it with --crl ${trustFile}`);
    const crlFiles = material.crls;
    const policy = policyFor(target);
    const crls = [];
    for (const f of crlFiles)
      crls.push(
        loadCrl(await readInput(f), inputName(f), {
          wanted: 'a CRL',
          hints: {certificate: `pass the chain to verify as the argument (mtls-kit verify ${f}) and only CRLs with --crl`},
        }),
      );
    const data = await readInput(args.chain);
    let chain: ParsedCertificate[] = [];
    let parseError: string | undefined;
    try {
      chain = readCertificates(data, inputName(args.chain), {
        wanted: 'a certificate chain',
        hints: {crl: args.chain === '-' ? 'save it to a file and pass it with --crl FILE' : `pass it with --crl ${args.chain}`},
      });
    } catch (error) {
      // An empty file or another kind of file (a CRL, a key) is the user's mistake, not a client's certificate.
      if (!isMtlsKitError(error) || error.code === 'EMPTY_FILE' || error.code === 'WRONG_FILE_KIND') throw error;
      // What ALB logs when it cannot parse the client's certificate.
      parseError = error.message;
    }
    const ocspResponses = flags['ocsp-response'] ?? [];
    const responses: Uint8Array[] = [];
    for (const f of ocspResponses) responses.push(await readInput(f));
    const r = parseError
      ? {
          status: 'Failed:ClientCertInvalid' as const,
          code: 'ClientCertInvalid' as const,
          checks: [
            {
              name: 'parse',
              ok: false,
              detail: parseError,
              fix: 'present a well-formed X.509 certificate (PEM or DER), leaf first',
              code: 'ClientCertInvalid' as const,
            },
          ],
          path: [],
          policy: policy.id,
          revocationChecked: false,
          warnings: ['revocation not checked'],
        }
      : cloudfront
        ? await judgeCloudFrontChain(chain, {
            trustStore,
            at,
            ignoreExpiry: flags['ignore-expiry'],
            ocsp: flags['skip-ocsp']
              ? {kind: 'off', why: '--skip-ocsp'}
              : responses.length > 0
                ? {kind: 'responses', responses}
                : {kind: 'query', fetch: (url, der) => postOcspRequest(url, der, {timeoutMs: 5000})},
          })
        : target === 'nlb'
          ? verifyNlbChain({chain, trustStore, crls, at, ignoreExpiry: flags['ignore-expiry'], identityFilters: filters, policy})
          : judgeChain(chain, policy, {trustStore, crls, at, ignoreExpiry: flags['ignore-expiry']});
    const evaluation: FilterEvaluation | null = 'identityFilters' in r ? (r.identityFilters as FilterEvaluation | null) : null;
    const result: VerifyResult = {
      status: r.status,
      code: r.code,
      target,
      ...(target === 'nlb'
        ? {
            identityFilters: {
              filters: filters.map(formatIdentityFilter),
              matched: evaluation?.matched ?? null,
              matchedValue: evaluation?.matchedValue ?? null,
              reason: evaluation?.reason ?? 'not evaluated: no certificate',
            },
          }
        : {}),
      ...(cloudfront
        ? {
            ocsp: {
              source: flags['skip-ocsp'] ? ('skipped' as const) : responses.length > 0 ? ('responses' as const) : ('responders' as const),
              responses: ocspResponses,
              result: 'ocsp' in r ? (r.ocsp as OcspChainResult | null) : null,
            },
          }
        : {}),
      checks: r.checks,
      policy: r.policy,
      revocationChecked: r.revocationChecked,
      crlSource: cloudfront ? 'none' : material.source,
      warnings: [...trustWarnings, ...r.warnings],
      path: r.path.map((c) => ({subject: formatRfc2253(c.subject), serial: c.serialHex})),
      chainFile: args.chain,
      trustStore: trustFile,
      crls: crlFiles,
      at: isoSeconds(at),
      ignoreExpiry: flags['ignore-expiry'],
    };
    if (r.code) this.resultExitCode = 3;
    // The client certificate's own revocation (an intermediate's shows in --verbose); the verdict line says it too.
    const unchecked = result.checks.find((c) => c.notChecked && c.certificate === result.path[0]?.subject);
    if (unchecked && cloudfront) warn(`revocation of ${unchecked.certificate} not checked: ${unchecked.detail.replace(/^revocation not checked: /, '')}`);
    else if (unchecked) {
      warn(`revocation of ${unchecked.certificate} not checked: ${flags['skip-crl'] ? '--skip-crl' : crlFiles.length ? unchecked.detail : 'no CRL'}`);
      if (!flags['skip-crl'])
        hint(
          crlFiles.length
            ? '  pass the missing CRL with --crl FILE'
            : material.source === 'none'
              ? `  ${trustFile} is not a CA directory's ca-bundle.pem: pass its CRLs with --crl FILE (or --skip-crl)`
              : "  pass --crl FILE, or write the CA directory's CRL: mtls-kit crl",
        );
    }
    for (const w of result.warnings) if (!w.startsWith('revocation not checked')) warn(w);
    return this.emit(result, (x) => renderVerify(x, flags.verbose));
  }
}
