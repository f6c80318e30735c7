import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {dirFlag, forceFlag, keyTypeFlag, passphraseFileFlag, subjectFlags} from '../flags.js';
import {type OriginCertResult, runOriginCert} from '../flows/origin-cert.js';
import {ORIGIN_ACM_REGION} from '../io/aws/acm.js';
import {ORIGIN_CERT_RULES} from '../lib/cloudfront/origin-cert.js';
import {renderCertSummary} from '../ui/cert-render.js';
import {hint, printLine, stderrProgress, warn} from '../ui/output.js';

export type {OriginCertResult} from '../flows/origin-cert.js';

export default class OriginCert extends BaseCommand {
  static override summary =
    "Issue the client certificate CloudFront presents to an origin (origin mTLS), check it as the origin's ALB would, and import it into ACM.";
  static override description =
    `For the CloudFront-to-ALB hop: CloudFront presents a client certificate imported into ACM in us-east-1 (OriginMtlsConfig.ClientCertificateArn), and the ALB in verify mode checks it against its trust store.

Issues from the CA in --dir as gen-client does (private-key.pem 0600, certificate.crt, chain.pem in --out; recorded in index.txt) with clientAuth, X.509 v3 and an ECDSA P-256 or RSA 2048 key, after refusing what CloudFront would refuse (docs/aws-reference.md 11.8): other key types, a chain deeper than ${ORIGIN_CERT_RULES.maxChainDepth} (leaf, intermediate, root), signatures other than SHA-256/384/512, a lifetime beyond the CA, a chain over 64 KB, a certificate over 96 KB, a key over 5 KB. Then judges the chain as an ALB in verify mode with the CA's ca-bundle.pem and CRLs would (as mtls-kit verify --target alb), or with --trust-store FILE, the bundle the ALB's trust store holds.

With --acm-import, imports the certificate, key and CA chain into ACM in ${ORIGIN_ACM_REGION} (always that region: CloudFront reads origin certificates only there) and prints the ARN; --certificate-arn re-imports over an existing certificate (rotation: the ARN the distribution names stays). Nothing is imported when ALB would refuse the certificate. The key is sent only to ACM, never printed.

Exit codes: 0 issued (and imported); 2 a CloudFront rule (ORIGIN_CERT_RULE) or bad flags; 3 ALB would refuse the certificate (nothing imported); 4 no CA in --dir, a file exists (use --force); 5 ACM refused the import (ACM_IMPORT_REJECTED, ACM_CERTIFICATE_NOT_FOUND, ACM_LIMIT_EXCEEDED) or another AWS failure.`;

  static override examples = [
    '<%= config.bin %> origin-cert --cn cloudfront-origin --out ./origin',
    '<%= config.bin %> origin-cert --cn cloudfront-origin --out ./origin --acm-import',
    '<%= config.bin %> origin-cert --cn cloudfront-origin --out ./origin --force --acm-import --certificate-arn arn:aws:acm:us-east-1:123456789012:certificate/abcd',
  ];

  static override flags = {
    dir: dirFlag,
    out: Flags.string({char: 'o', summary: 'Output folder.', default: '.', helpValue: 'DIR'}),
    ...subjectFlags,
    san: Flags.string({summary: 'Subject alternative name, repeatable (as gen-client).', multiple: true, helpValue: 'VALUE'}),
    days: Flags.integer({summary: 'Lifetime in days (at most until the issuing CA expires; ACM does not renew imported certificates).', default: 365, min: 1}),
    'key-type': keyTypeFlag,
    'passphrase-file': passphraseFileFlag,
    force: forceFlag,
    'acm-import': Flags.boolean({summary: `Import the certificate, key and chain into ACM in ${ORIGIN_ACM_REGION} and print its ARN.`, default: false}),
    'certificate-arn': Flags.string({
      summary: 'Re-import over this ACM certificate (rotation) instead of creating a new one.',
      helpValue: 'ARN',
      dependsOn: ['acm-import'],
    }),
    'trust-store': Flags.string({
      summary: "The ALB trust store's CA bundle to judge against (default: --dir's ca-bundle.pem, with the CA's CRLs).",
      helpValue: 'FILE',
    }),
    profile: Flags.string({summary: 'AWS shared-config profile (else AWS_PROFILE).', helpValue: 'NAME'}),
    'endpoint-url': Flags.string({summary: 'Endpoint for ACM (emulators); else AWS_ENDPOINT_URL_ACM, AWS_ENDPOINT_URL.', helpValue: 'URL'}),
  };

  async run(): Promise<OriginCertResult> {
    const {flags} = await this.parse(OriginCert);
    const fields = {cn: flags.cn, subject: flags.subject, org: flags.org, ou: flags.ou, country: flags.country, state: flags.state, locality: flags.locality};
    const ctx = {now: new Date(), onProgress: this.jsonEnabled() && !process.stderr.isTTY ? undefined : stderrProgress()};
    const result = await runOriginCert(
      {
        dir: flags.dir,
        out: flags.out,
        fields,
        sans: flags.san ?? [],
        days: flags.days,
        keyType: flags['key-type'],
        passphraseFile: flags['passphrase-file'],
        force: flags.force,
        acmImport: flags['acm-import'],
        certificateArn: flags['certificate-arn'],
        trustStore: flags['trust-store'],
        aws: {profile: flags.profile, endpointUrl: flags['endpoint-url']},
      },
      ctx,
    );
    if (result.alb.code) this.resultExitCode = 3;
    return this.emit(result, (r) => {
      printLine(renderCertSummary(r.certificate, `issued by ${r.ca.subject} (${r.ca.tier})`));
      const f = r.certificate.files;
      printLine(`wrote ${f.key} (0600), ${f.certificate}, ${f.chain}`);
      printLine(`CloudFront origin mTLS rules: met (chain depth ${r.cloudfront.chainDepth}, clientAuth, ${r.keyType})`);
      printLine(`ALB verify mode with ${r.alb.trustStore}: ${r.alb.status}`);
      for (const w of r.alb.warnings) warn(w);
      if (r.acm) printLine(`${r.acm.reimported ? 're-imported into' : 'imported into'} ACM (${r.acm.region}): ${r.acm.certificateArn}`);
      else if (flags['acm-import']) printLine('not imported into ACM: ALB would refuse the certificate');
      hint(`next: ${r.next}`);
    });
  }
}
