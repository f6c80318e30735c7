import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {apigwDeployFlags, awsFlags, deployInputFlagsApigw, dirFlag, identityFilterFlags, mutualAuthFlags} from '../flags.js';
import {createApigwClients, runApigwStatus} from '../flows/apigw-deploy.js';
import {resolveIdentityFilters} from '../io/identity-filters.js';
import type {ApigwStatusResult} from '../lib/apigw/deploy-plan.js';
import {formatIdentityFilter} from '../lib/nlb/identity-filter.js';
import {renderApigwStatus} from '../ui/apigw-render.js';
import {createAwsClients} from '../io/aws/clients.js';
import {readDeployInputs} from '../flows/deploy.js';
import {checkBucket, describeListener, getObject, readTrustStore, trustStoreAssociations} from '../io/aws/trust-store-read.js';
import {checkNlbTargets, checkTrustStoreName} from '../lib/deploy/plan.js';
import {readConnectionLogs} from '../io/aws/connection-log-attributes.js';
import {formatConnectionLogsUri, loadBalancerOfListener} from '../lib/deploy/connection-logs.js';
import {computeDrift, type CrlFreshness, type DriftCheck} from '../lib/deploy/drift.js';
import {isMtlsKitError, usageError} from '../lib/errors.js';
import {out, printLine} from '../ui/output.js';
import {plural} from '../lib/plural.js';

export interface StatusResult {
  /** True when anything differs (exit 3). */
  drift: boolean;
  region: string;
  bucket: string;
  trustStore: {
    name: string;
    arn: string | null;
    status: string | null;
    numberOfCaCertificates: number | null;
    totalRevokedEntries: number | null;
    revocationIds: number[];
    /** Load balancers whose listeners use this trust store (DescribeTrustStoreAssociations). */
    associations: string[];
  };
  /** identityFilters (FIELD:MATCH:VALUE, as the listener holds them) only on NLB TLS listeners. */
  listener: {
    arn: string;
    mode: string;
    trustStoreArn: string | null;
    ignoreClientCertificateExpiry: boolean;
    advertiseTrustStoreCaNames: 'on' | 'off';
    identityFilters?: string[];
  } | null;
  /** The connection logs of the listener's load balancer (null without --listener-arn, or on a load balancer without them: NLB). */
  connectionLogs: {loadBalancerArn: string; enabled: boolean; bucket: string; prefix: string; uri: string | null} | null;
  checks: DriftCheck[];
  crls: CrlFreshness[];
  /** Local lint findings (status reports them; deploy would stop on errors). */
  lint: {errors: number; warnings: number; findings: Array<{severity: string; rule: string; file: string; message: string; fix: string}>};
}

export default class Status extends BaseCommand {
  static override summary = 'Show drift between the local bundle and CRLs, the S3 objects, the trust store and the listener.';
  static override description =
    `Compares the local CA bundle and CRLs with the S3 objects deploy uploaded, with the copy the trust store actually holds (downloaded through GetTrustStoreCaCertificatesBundle and GetTrustStoreRevocationContent), and with the listener's MutualAuthentication (--listener-arn; on an NLB TLS listener also its client certificate identity filters, compared as a set with --identity-filter / --identity-filter-file). With --listener-arn, also shows where the listener's Application Load Balancer writes its connection logs. Also reports CRLs, local or deployed, whose nextUpdate has passed or is within --warn-days. Makes only read calls.

With --apigw-domain NAME: compares the local truststore with the current version of the S3 object (--truststore-key) and that version with the domain's truststoreUri/truststoreVersion, and reports truststoreWarnings and mapped APIs whose default execute-api endpoint is still enabled.

Exit codes: 0 in sync (warnings allowed); 2 bad flag values; 3 drift found; 4 a local precondition (missing file, no region or credentials); 5 AWS failed.`;

  static override examples = [
    '<%= config.bin %> status --trust-store-name my-devices --bucket my-pki-bucket',
    '<%= config.bin %> status --trust-store-name my-devices --bucket my-pki-bucket --listener-arn <listener-arn> --json',
  ];

  static override flags = {
    dir: dirFlag,
    ...deployInputFlagsApigw,
    ...apigwDeployFlags,
    'listener-arn': Flags.string({summary: "Also check this listener's MutualAuthentication.", helpValue: 'ARN'}),
    ...mutualAuthFlags,
    ...identityFilterFlags,
    'warn-days': Flags.integer({summary: 'Warn about CRLs whose nextUpdate is within this many days.', default: 7, min: 0}),
    ...awsFlags,
  };

  async run(): Promise<StatusResult | ApigwStatusResult> {
    const {flags} = await this.parse(Status);
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
    const name = flags['trust-store-name'];
    if (!name) throw usageError('MISSING_TARGET', 'give --trust-store-name (ALB) or --apigw-domain (API Gateway)');
    const nameProblem = checkTrustStoreName(name);
    if (nameProblem) throw usageError('BAD_TRUST_STORE_NAME', `--trust-store-name "${name}" ${nameProblem}`);
    const now = new Date();
    const filters = await resolveIdentityFilters(flags);
    if (flags['listener-arn']) checkNlbTargets([{kind: 'existing', listenerArn: flags['listener-arn']}], flags.mode, filters.length);
    else if (filters.length > 0)
      throw usageError('FILTERS_NEED_LISTENER', 'identity filters are checked on a listener', ['add --listener-arn <nlb-tls-listener-arn>']);
    const mutual = {
      mode: flags.mode,
      ignoreClientCertificateExpiry: flags['ignore-client-cert-expiry'],
      advertiseTrustStoreCaNames: flags['advertise-ca-names'] ? ('on' as const) : ('off' as const),
    };
    const inputs = await readDeployInputs({
      dir: flags.dir,
      bundle: flags['ca-bundle'],
      crls: flags['skip-crl'] ? [] : flags.crl,
      prefix: flags.prefix,
      trustStoreName: name,
      listeners: [],
      mutualAuthentication: mutual,
      now,
      failOnLint: false,
    });

    const aws = await createAwsClients({region: flags.region, profile: flags.profile, endpointUrl: flags['endpoint-url']});
    await checkBucket(aws, flags.bucket);
    const s3 = new Map<string, Uint8Array | undefined>();
    for (const f of inputs.files) s3.set(f.key, await getObject(aws, flags.bucket, f.key));
    const ts = await readTrustStore(aws, name);
    const listener = flags['listener-arn'] ? await describeListener(aws, flags['listener-arn']) : null;
    const associations = ts ? await trustStoreAssociations(aws, ts.summary.arn) : [];
    const lbArn = listener ? (listener.loadBalancerArn ?? loadBalancerOfListener(listener.arn)) : null;
    // Shown, not compared: credentials without DescribeLoadBalancerAttributes still get a status.
    const logs = lbArn
      ? await readConnectionLogs(aws, lbArn).catch((error: unknown) => {
          if (isMtlsKitError(error) && error.code === 'AWS_ACCESS_DENIED') return null;
          throw error;
        })
      : null;

    const bundleFile = inputs.files[0]!;
    const drift = computeDrift({
      bundle: {path: bundleFile.path, data: bundleFile.data, key: bundleFile.key, certificates: inputs.local.bundleCertificates},
      crls: inputs.local.crls.map((c) => ({path: c.path, key: c.key, summary: c.summary, data: inputs.files.find((f) => f.key === c.key)!.data})),
      s3,
      bucket: flags.bucket,
      trustStore: ts ? {name, arn: ts.summary.arn, status: ts.summary.status, certificates: ts.remote.bundleCertificates, revocations: ts.revocations} : null,
      trustStoreName: name,
      // On an NLB TLS listener the filters are part of what is expected (none: an empty list).
      listener: listener
        ? {
            arn: listener.arn,
            actual: listener.mutualAuthentication,
            expected: listener.protocol === 'TLS' ? {...mutual, identityFilters: filters.map(formatIdentityFilter)} : mutual,
          }
        : null,
      now,
      warnDays: flags['warn-days'],
    });
    const result: StatusResult = {
      drift: drift.drift,
      region: aws.region,
      bucket: flags.bucket,
      trustStore: {
        name,
        arn: ts?.summary.arn ?? null,
        status: ts?.summary.status ?? null,
        numberOfCaCertificates: ts?.summary.numberOfCaCertificates ?? null,
        totalRevokedEntries: ts?.summary.totalRevokedEntries ?? null,
        revocationIds: ts?.remote.revocations.map((r) => r.revocationId) ?? [],
        associations,
      },
      listener: listener ? {arn: listener.arn, ...listener.mutualAuthentication} : null,
      connectionLogs: lbArn && logs ? {loadBalancerArn: lbArn, ...logs, uri: logs.enabled ? formatConnectionLogsUri(logs) : null} : null,
      checks: drift.checks,
      crls: drift.crls,
      lint: inputs.lint,
    };
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
