import {Args, Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {awsFlags, identityFilterFlags} from '../flags.js';
import {readIdentityFilters} from '../io/identity-filters.js';
import {type LintFinding, lintFiles, type LintInput, type LintReport} from '../lib/alb/lint.js';
import {formatIdentityFilter} from '../lib/nlb/identity-filter.js';
import {lintForNlb} from '../lib/nlb/lint.js';
import {lintForCloudFront} from '../lib/cloudfront/lint.js';
import {isMtlsKitError, usageError} from '../lib/errors.js';
import {inputName, readInput} from '../io/files.js';
import {renderLint} from '../ui/lint-render.js';
import {readFileOrS3} from '../io/aws/s3-input.js';
import {resolveTrustCrls} from '../io/ca/trust-crls.js';
import {loadCrl, type LoadedCrl} from '../lib/x509/crl.js';
import {dirname} from 'node:path';

/** The findings, as `LintReport` in src/lib/alb/lint.ts says. */
export interface LintCommandResult extends LintReport {}

export default class Lint extends BaseCommand {
  static override summary = 'Check CA bundles, CRLs and client certificates against what ALB or API Gateway accepts, before upload.';
  static override description =
    `Detects each file's kind from its content. Bundles: PEM formatting (no blank lines, # comments without "-", no text dumps), X.509 v3, key and signature algorithms, CA flags and key usage, 16 KB per certificate, at most 25 CAs, chain depth; with --target apigw at most 1,000 certificates / 1 MB and the complete chain to the root; with --target nlb the same as ALB, plus the identity filters given with --identity-filter or --identity-filter-file (1 to 256 printable ASCII characters, a san-uri value starting with a URI scheme). CRLs: PEM (a DER CRL warns: deploy --crl uploads it as PEM), 50 MB and 500,000 entries, a partitioned, indirect or CA-only CRL (issuingDistributionPoint) warns, nextUpdate passed, or close (a warning when less than --warn-days and less than a third of the CRL's own lifetime, nextUpdate minus thisUpdate, is left: a CRL just written with crl --days 30 passes and warns from 10 days before its nextUpdate), issuer and signature against a bundle given alongside. Client certificates: algorithms, clientAuth, expiry, and (with a bundle) the verdict ALB would log.

With --target cloudfront the bundle and certificate rules are ALB's (CloudFront's own limits are not documented), CRLs are reported as unused (CloudFront checks revocation by OCSP), every certificate but the root, in a bundle or a client chain, must name an OCSP responder (unless --skip-ocsp: the trust store's OCSP is off), and the client verdict is CloudFront's (ClientCertIntentInvalid, ...) without revocation: lint asks no responder (verify --target cloudfront does).

The output is the verdict, then each error and warning with its fix (a rule that fires many times shows three and a count); --verbose adds the notes (info findings) and every repeat. --json always holds every finding.

Exit codes: 0 no errors (warnings allowed); 3 at least one error; 2 bad flags.`;

  static override examples = [
    '<%= config.bin %> lint ./pki/ca-bundle.pem ./pki/intermediate/crl.pem',
    '<%= config.bin %> lint truststore.pem --target apigw',
    '<%= config.bin %> lint ca-bundle.pem crl.pem client.pem --warn-days 14 --json',
    '<%= config.bin %> lint pki/ca-bundle.pem device-1/chain.pem --target cloudfront',
    '<%= config.bin %> lint ca-bundle.pem --target nlb --identity-filter subject-cn:prefix:device- --identity-filter-file filters.txt',
  ];

  static override strict = false;

  static override args = {
    file: Args.string({
      description:
        'Files to check (bundle, CRL, client certificate); several may be given; - for stdin; s3://bucket/key for an S3 object (AWS Private CA CRLs).',
      required: false,
    }),
  };

  static override flags = {
    target: Flags.option({summary: 'What the files are for.', options: ['alb', 'nlb', 'apigw', 'cloudfront'] as const, default: 'alb' as const})(),
    'skip-ocsp': Flags.boolean({
      summary: "--target cloudfront: the trust store's OCSP is off, so certificates need no OCSP URL.",
      default: false,
    }),
    'warn-days': Flags.integer({
      summary:
        'Warn about certificates that expire within this many days, and CRLs whose nextUpdate is this close and less than a third of their lifetime away.',
      default: 30,
      min: 0,
    }),
    verbose: Flags.boolean({summary: 'Also show notes, and every finding of a rule that fires many times.', default: false}),
    ...identityFilterFlags,
    ...awsFlags,
  };

  async run(): Promise<LintCommandResult> {
    const {argv, flags} = await this.parse(Lint);
    const files = argv as string[];
    const hasFilters = (flags['identity-filter']?.length ?? 0) > 0 || flags['identity-filter-file'] !== undefined;
    if (hasFilters && flags.target !== 'nlb') throw usageError('FILTERS_NEED_NLB', 'identity filters exist only on NLB TLS listeners', ['add --target nlb']);
    if (flags['skip-ocsp'] && flags.target !== 'cloudfront')
      throw usageError('OCSP_NEEDS_CLOUDFRONT', '--skip-ocsp applies to CloudFront, which checks revocation by OCSP', ['add --target cloudfront']);
    if (files.length === 0 && !hasFilters) throw usageError('NOTHING_TO_LINT', 'no file to check', ['e.g. mtls-kit lint ./pki/ca-bundle.pem']);
    const inputs: LintInput[] = [];
    const unreadable: LintFinding[] = [];
    for (const f of files) {
      try {
        inputs.push({path: inputName(f), data: await readFileOrS3(f, {region: flags.region, profile: flags.profile, endpointUrl: flags['endpoint-url']})});
      } catch (error) {
        if (!isMtlsKitError(error)) throw error;
        // readInput's message names the file first ("x does not exist"); the finding names it apart.
        const message = error.message.startsWith(`${f} `) ? error.message.slice(f.length + 1) : error.message;
        unreadable.push({severity: 'error', rule: 'unreadable', file: f, message, fix: error.suggestions[0] ?? 'check the path'});
      }
    }
    // The one revocation rule (io/ca/trust-crls.ts): a CA directory's ca-bundle.pem brings that
    // directory's current CRLs when no CRL is among the files, for the client verdict only (they
    // are not linted as files), so a revoked client is never passed.
    // (API Gateway never checks revocation, CloudFront checks it by OCSP: no CRL is brought for them.)
    const revocationCrls: LoadedCrl[] = [];
    if (flags.target !== 'apigw' && flags.target !== 'cloudfront' && !inputs.some((i) => Buffer.from(i.data).includes('-----BEGIN X509 CRL-----'))) {
      for (const f of files.filter((x) => x !== '-' && !x.startsWith('s3://'))) {
        const m = await resolveTrustCrls({dir: dirname(f), trustStore: f});
        if (m.source !== 'ca-directory') continue;
        for (const c of m.crls) revocationCrls.push(loadCrl(await readInput(c), c));
      }
    }
    const options = {now: new Date(), warnDays: flags['warn-days'], revocationCrls};
    let r: ReturnType<typeof lintFiles>;
    let identityFilters: string[] | undefined;
    if (flags.target === 'nlb') {
      const {filters, problems} = await readIdentityFilters(flags);
      identityFilters = filters.map(formatIdentityFilter);
      r = lintForNlb({inputs, options, filters, filterProblems: problems});
    } else if (flags.target === 'cloudfront') {
      r = lintForCloudFront({inputs, options, ocspOff: flags['skip-ocsp']});
    } else {
      r = lintFiles(inputs, {...options, target: flags.target});
    }
    const findings = [...unreadable, ...r.findings];
    const result: LintCommandResult = {
      target: flags.target,
      policy: r.policy,
      files,
      ...(identityFilters ? {identityFilters} : {}),
      findings,
      errors: r.errors + unreadable.length,
      warnings: r.warnings,
    };
    if (result.errors > 0) this.resultExitCode = 3;
    return this.emit(result, (x) => renderLint(x, flags.verbose));
  }
}
