/**
 * status (ALB and NLB): read the deploy inputs (bundle, CRLs, lint) as deploy would, then
 * the remote state with read-only calls (the S3 objects, the trust store and its
 * revocations, the listener and its load balancer's connection logs) and compare them
 * (lib/deploy/drift.ts). API Gateway status is runApigwStatus in apigw-deploy.ts.
 */
import {type AwsParams, createAwsClients} from '../io/aws/clients.js';
import {readConnectionLogs} from '../io/aws/connection-log-attributes.js';
import {checkBucket, describeListener, getObject, readTrustStore, trustStoreAssociations} from '../io/aws/trust-store-read.js';
import {formatConnectionLogsUri, loadBalancerOfListener} from '../lib/deploy/connection-logs.js';
import {computeDrift, type CrlFreshness, type DriftCheck} from '../lib/deploy/drift.js';
import {checkNlbTargets, checkTrustStoreName} from '../lib/deploy/plan.js';
import {isMtlsKitError, usageError} from '../lib/errors.js';
import {type FilterFlagValues, resolveIdentityFilters} from '../io/identity-filters.js';
import {formatIdentityFilter} from '../lib/nlb/identity-filter.js';
import {readDeployInputs} from './deploy.js';
import type {FlowContext} from './progress.js';

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

export interface StatusParams {
  dir: string;
  bundle: string | undefined;
  /** CRL files; empty with --skip-crl; undefined: the CA directory's. */
  crls: string[] | undefined;
  prefix: string;
  trustStoreName: string | undefined;
  bucket: string;
  listenerArn: string | undefined;
  mode: 'verify' | 'passthrough' | 'off';
  ignoreClientCertificateExpiry: boolean;
  advertiseCaNames: boolean;
  /** --identity-filter values and --identity-filter-file (read after the name is checked, as before). */
  identityFilters: FilterFlagValues;
  warnDays: number;
  aws: AwsParams;
}

/**
 * Compares local inputs with what S3, the trust store and the listener hold.
 * @throws MtlsKitError MISSING_TARGET, BAD_TRUST_STORE_NAME, FILTERS_NEED_LISTENER (2), and AWS errors (5).
 */
export async function runStatus(p: StatusParams, ctx: FlowContext): Promise<StatusResult> {
  const name = p.trustStoreName;
  if (!name) throw usageError('MISSING_TARGET', 'give --trust-store-name (ALB) or --apigw-domain (API Gateway)');
  const nameProblem = checkTrustStoreName(name);
  if (nameProblem) throw usageError('BAD_TRUST_STORE_NAME', `--trust-store-name "${name}" ${nameProblem}`);
  const now = ctx.now;
  const filters = await resolveIdentityFilters(p.identityFilters);
  if (p.listenerArn) checkNlbTargets([{kind: 'existing', listenerArn: p.listenerArn}], p.mode, filters.length);
  else if (filters.length > 0)
    throw usageError('FILTERS_NEED_LISTENER', 'identity filters are checked on a listener', ['add --listener-arn <nlb-tls-listener-arn>']);
  const mutual = {
    mode: p.mode,
    ignoreClientCertificateExpiry: p.ignoreClientCertificateExpiry,
    advertiseTrustStoreCaNames: p.advertiseCaNames ? ('on' as const) : ('off' as const),
  };
  const inputs = await readDeployInputs({
    dir: p.dir,
    bundle: p.bundle,
    crls: p.crls,
    prefix: p.prefix,
    trustStoreName: name,
    listeners: [],
    mutualAuthentication: mutual,
    now,
    failOnLint: false,
  });

  const aws = await createAwsClients(p.aws);
  await checkBucket(aws, p.bucket);
  const s3 = new Map<string, Uint8Array | undefined>();
  for (const f of inputs.files) s3.set(f.key, await getObject(aws, p.bucket, f.key));
  const ts = await readTrustStore(aws, name);
  const listener = p.listenerArn ? await describeListener(aws, p.listenerArn) : null;
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
    bucket: p.bucket,
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
    warnDays: p.warnDays,
  });
  const result: StatusResult = {
    drift: drift.drift,
    region: aws.region,
    bucket: p.bucket,
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
  return result;
}
