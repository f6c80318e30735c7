import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {
  apigwDeployFlags,
  awsFlags,
  cloudfrontDeployFlags,
  cloudfrontTargetFromFlags,
  deployInputFlagsApigw,
  dirFlag,
  identityFilterFlags,
  mutualAuthFlags,
} from '../flags.js';
import {createApigwClients, runApigwStatus} from '../flows/apigw-deploy.js';
import {createCloudfrontClients, runCloudfrontStatus} from '../flows/cloudfront-deploy.js';
import type {CloudfrontStatusResult} from '../lib/cloudfront/deploy-plan.js';
import {renderCloudfrontStatus} from '../ui/cloudfront-render.js';
import {runStatus, type StatusResult} from '../flows/status.js';
import type {ApigwStatusResult} from '../lib/apigw/deploy-plan.js';
import {renderApigwStatus} from '../ui/apigw-render.js';
import {out, printLine} from '../ui/output.js';
import {plural} from '../lib/plural.js';

export type {StatusResult} from '../flows/status.js';

export default class Status extends BaseCommand {
  static override summary = 'Show drift between the local bundle and CRLs, the S3 objects, the trust store and the listener.';
  static override description =
    `Compares the local CA bundle and CRLs with the S3 objects deploy uploaded, with the copy the trust store actually holds (downloaded through GetTrustStoreCaCertificatesBundle and GetTrustStoreRevocationContent), and with the listener's MutualAuthentication (--listener-arn; on an NLB TLS listener also its client certificate identity filters, compared as a set with --identity-filter / --identity-filter-file). With --listener-arn, also shows where the listener's Application Load Balancer writes its connection logs. Also reports CRLs, local or deployed, whose nextUpdate has passed or is within --warn-days. Makes only read calls.

With --apigw-domain NAME: compares the local truststore with the current version of the S3 object (--truststore-key) and that version with the domain's truststoreUri/truststoreVersion, and reports truststoreWarnings and mapped APIs whose default execute-api endpoint is still enabled.

With --cloudfront-trust-store NAME (and --distribution ID, repeatable, with the viewer mTLS flags deploy took): whether the bundle is in S3, whether the CloudFront trust store holds it (by deploy's record) with the same OCSP setting, and whether each distribution's ViewerMtlsConfig is as asked; any difference is drift.

Exit codes: 0 in sync (warnings allowed); 2 bad flag values; 3 drift found; 4 a local precondition (missing file, no region or credentials); 5 AWS failed.`;

  static override examples = [
    '<%= config.bin %> status --trust-store-name my-devices --bucket my-pki-bucket',
    '<%= config.bin %> status --trust-store-name my-devices --bucket my-pki-bucket --listener-arn <listener-arn> --json',
  ];

  static override flags = {
    dir: dirFlag,
    ...deployInputFlagsApigw,
    ...apigwDeployFlags,
    ...cloudfrontDeployFlags,
    'listener-arn': Flags.string({summary: "Also check this listener's MutualAuthentication.", helpValue: 'ARN'}),
    ...mutualAuthFlags,
    ...identityFilterFlags,
    'warn-days': Flags.integer({summary: 'Warn about CRLs whose nextUpdate is within this many days.', default: 7, min: 0}),
    ...awsFlags,
  };

  async run(): Promise<StatusResult | ApigwStatusResult | CloudfrontStatusResult> {
    const {flags} = await this.parse(Status);
    const cfName = flags['cloudfront-trust-store'];
    if (cfName) {
      const r = await runCloudfrontStatus({
        clients: await createCloudfrontClients({region: flags.region, profile: flags.profile, endpointUrl: flags['endpoint-url']}),
        ...cloudfrontTargetFromFlags(flags, cfName, flags.bucket),
        now: new Date(),
      });
      if (r.drift) this.resultExitCode = 3;
      return this.emit(r, renderCloudfrontStatus);
    }
    if (flags['apigw-domain']) {
      const clients = await createApigwClients({region: flags.region, profile: flags.profile, endpointUrl: flags['endpoint-url']});
      const r = await runApigwStatus({
        clients,
        dir: flags.dir,
        bundle: flags['ca-bundle'],
        bucket: flags.bucket,
        key: flags['truststore-key'] ?? `${flags.prefix}truststore.pem`,
        domain: flags['apigw-domain'],
        apiType: flags['api-type'],
        now: new Date(),
      });
      if (r.drift) this.resultExitCode = 3;
      return this.emit(r, renderApigwStatus);
    }
    const result = await runStatus(
      {
        dir: flags.dir,
        bundle: flags['ca-bundle'],
        crls: flags['skip-crl'] ? [] : flags.crl,
        prefix: flags.prefix,
        trustStoreName: flags['trust-store-name'],
        bucket: flags.bucket,
        listenerArn: flags['listener-arn'],
        mode: flags.mode,
        ignoreClientCertificateExpiry: flags['ignore-client-cert-expiry'],
        advertiseCaNames: flags['advertise-ca-names'],
        identityFilters: {'identity-filter': flags['identity-filter'], 'identity-filter-file': flags['identity-filter-file']},
        warnDays: flags['warn-days'],
        aws: {region: flags.region, profile: flags.profile, endpointUrl: flags['endpoint-url']},
      },
      {now: new Date()},
    );
    if (result.drift) this.resultExitCode = 3;
    return this.emit(result, renderStatus);
  }
}

function renderStatus(r: StatusResult): void {
  const t = r.trustStore;
  printLine(
    `trust store ${t.name}: ${t.arn ? `${t.status}, ${t.numberOfCaCertificates} CA certificate(s), ${t.totalRevokedEntries} revoked entries, revocation ids [${t.revocationIds.join(', ')}]  ${t.arn}` : 'not found'}`,
  );
  if (t.arn) printLine(`used by ${t.associations.length ? t.associations.join(', ') : 'no load balancer'}`);
  if (r.connectionLogs) printLine(`connection logs of ${r.connectionLogs.loadBalancerArn}: ${r.connectionLogs.uri ?? 'off'}`);
  for (const c of r.checks) {
    const mark = c.ok ? out.green('ok  ') : c.severity === 'warning' ? out.yellow('warn') : out.red('DRIFT');
    printLine(`${mark} ${c.detail}${!c.ok && c.fix ? out.dim(`  → ${c.fix}`) : ''}`);
  }
  for (const c of r.crls)
    printLine(
      `crl  ${c.source}: ${c.issuer}, number ${c.crlNumber ?? '-'}, nextUpdate ${c.nextUpdate ?? '-'} (${c.state}${c.daysLeft !== null ? `, ${plural(c.daysLeft, 'day')}` : ''})`,
    );
  for (const f of r.lint.findings.filter((x) => x.severity === 'error')) printLine(`${out.yellow('lint')} ${f.file}: ${f.message} (deploy would stop here)`);
  printLine(r.drift ? out.red('drift found') : 'in sync');
}
