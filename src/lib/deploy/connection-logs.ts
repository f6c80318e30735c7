/**
 * `deploy --connection-logs s3://bucket/prefix`: where an Application Load Balancer writes its
 * connection logs (the load-balancer attributes of aws-reference 5.1), and whether a bucket
 * policy lets Elastic Load Balancing deliver them there (aws-reference 5.2). Pure: takes the
 * attributes and the policy text, returns values; the AWS calls are in src/io/aws/connection-log-attributes.ts.
 */
import {usageError} from '../errors.js';

/** The three connection-log attributes of a load balancer (aws-reference 5.1). */
export const CONNECTION_LOG_KEYS = {enabled: 'connection_logs.s3.enabled', bucket: 'connection_logs.s3.bucket', prefix: 'connection_logs.s3.prefix'} as const;

/** Where connection logs go: a bucket and a prefix without leading or trailing slash ('' = the bucket's root). */
export interface ConnectionLogTarget {
  bucket: string;
  prefix: string;
}

/** A load balancer's connection-log setting as its attributes hold it. */
export interface ConnectionLogSetting extends ConnectionLogTarget {
  enabled: boolean;
}

/**
 * Parses `s3://bucket[/prefix]`.
 * @throws MtlsKitError BAD_CONNECTION_LOGS_URI (exit 2) naming what is wrong: not s3://, a
 *   bucket name S3 refuses, or a prefix holding `AWSLogs` (aws-reference 5.1: ELB adds it).
 */
export function parseConnectionLogsUri(uri: string): ConnectionLogTarget {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(uri);
  const example = ['for example: --connection-logs s3://my-log-bucket/alb/prod'];
  // aws-reference 5.2: the ELBv2 API has only connection_logs.s3.* attributes; CloudWatch Logs and
  // Firehose delivery is set up through CloudWatch Logs' vended-log API instead.
  if (/^arn:[^:]+:(logs|firehose):/.test(uri))
    throw usageError('CONNECTION_LOGS_DESTINATION_NOT_S3', `--connection-logs takes an S3 location; ${uri} is a CloudWatch Logs or Firehose destination`, [
      'the load balancer API sets only S3 delivery; for CloudWatch Logs or Firehose use CloudWatch Logs log delivery: aws logs put-delivery-source --name alb-conn --resource-arn <load-balancer-arn> --log-type ALB_CONNECTION_LOGS, then put-delivery-destination and create-delivery',
    ]);
  if (!m) throw usageError('BAD_CONNECTION_LOGS_URI', `--connection-logs "${uri}" is not s3://bucket/prefix`, example);
  const bucket = m[1]!;
  // S3's bucket naming rules: 3-63 characters, lower case letters, digits, dots and hyphens, starting and ending with a letter or digit.
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw usageError(
      'BAD_CONNECTION_LOGS_URI',
      `--connection-logs: "${bucket}" is not a valid S3 bucket name (3-63 lower-case letters, digits, dots and hyphens)`,
      example,
    );
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.includes('AWSLogs'))
    throw usageError(
      'BAD_CONNECTION_LOGS_URI',
      `--connection-logs prefix "${prefix}" contains "AWSLogs", which the load balancer adds itself after the prefix`,
      ['leave AWSLogs out: --connection-logs s3://' + bucket + '/' + prefix.replace(/\/?AWSLogs.*$/, '')],
    );
  return {bucket, prefix};
}

/** `s3://bucket/prefix` of a target (or of a setting). */
export function formatConnectionLogsUri(t: ConnectionLogTarget): string {
  return `s3://${t.bucket}${t.prefix ? `/${t.prefix}` : ''}`;
}

/**
 * The connection-log setting in a load balancer's attributes, or null when it has none of
 * them (a Network or Gateway Load Balancer: connection logs are an ALB feature, aws-reference 5.1).
 */
export function readConnectionLogSetting(attributes: Array<{key: string; value: string}>): ConnectionLogSetting | null {
  const get = (k: string): string | undefined => attributes.find((a) => a.key === k)?.value;
  const enabled = get(CONNECTION_LOG_KEYS.enabled);
  if (enabled === undefined) return null;
  return {
    enabled: enabled === 'true',
    bucket: get(CONNECTION_LOG_KEYS.bucket) ?? '',
    prefix: (get(CONNECTION_LOG_KEYS.prefix) ?? '').replace(/^\/+|\/+$/g, ''),
  };
}

/** Whether a load balancer already writes its connection logs to the target. */
export function sameConnectionLogs(held: ConnectionLogSetting, want: ConnectionLogTarget): boolean {
  return held.enabled && held.bucket === want.bucket && held.prefix === want.prefix;
}

/** The attributes ModifyLoadBalancerAttributes takes to send the connection logs to the target. */
export function connectionLogAttributes(t: ConnectionLogTarget): Array<{key: string; value: string}> {
  return [
    {key: CONNECTION_LOG_KEYS.enabled, value: 'true'},
    {key: CONNECTION_LOG_KEYS.bucket, value: t.bucket},
    {key: CONNECTION_LOG_KEYS.prefix, value: t.prefix},
  ];
}

/** Partition, Region and account of an ELBv2 ARN (`arn:<partition>:elasticloadbalancing:<region>:<account>:...`). */
export function elbArnParts(arn: string): {partition: string; region: string; account: string} | null {
  const m = /^arn:([a-z-]+):elasticloadbalancing:([a-z0-9-]+):(\d{12}):/.exec(arn);
  return m ? {partition: m[1]!, region: m[2]!, account: m[3]!} : null;
}

/** The load balancer of a listener ARN (`listener/app/name/lb-id/listener-id` → `loadbalancer/app/name/lb-id`). */
export function loadBalancerOfListener(listenerArn: string): string | null {
  const m = /^(arn:[^:]+:elasticloadbalancing:[^:]+:\d{12}:)listener\/((?:app|net|gwy)\/[^/]+\/[^/]+)\/[^/]+$/.exec(listenerArn);
  return m ? `${m[1]}loadbalancer/${m[2]}` : null;
}

/**
 * Elastic Load Balancing's legacy account per Region, for Regions available before August 2022
 * (aws-reference 5.2). Since September 2025 AWS documents the log-delivery service principal for
 * every Region and recommends replacing statements that name these accounts; they are kept to
 * recognise existing policies, and printed only in the partitions of LEGACY_STATEMENT_PARTITIONS.
 */
export const ELB_LOG_ACCOUNTS: Readonly<Record<string, string>> = {
  'us-east-1': '127311923021',
  'us-east-2': '033677994240',
  'us-west-1': '027434742980',
  'us-west-2': '797873946194',
  'af-south-1': '098369216593',
  'ap-east-1': '754344448648',
  'ap-southeast-3': '589379963580',
  'ap-south-1': '718504428378',
  'ap-northeast-3': '383597477331',
  'ap-northeast-2': '600734575887',
  'ap-southeast-1': '114774131450',
  'ap-southeast-2': '783225319266',
  'ap-northeast-1': '582318560864',
  'ca-central-1': '985666609251',
  'eu-central-1': '054676820928',
  'eu-west-1': '156460612806',
  'eu-west-2': '652711504416',
  'eu-south-1': '635631232127',
  'eu-west-3': '009996457667',
  'eu-north-1': '897822967062',
  'me-south-1': '076674570225',
  'sa-east-1': '507241528517',
  'us-gov-west-1': '048591011584',
  'us-gov-east-1': '190560391635',
  'cn-north-1': '638102146993',
  'cn-northwest-1': '037604701340',
};

/** The log-delivery service principal, documented for every Region since September 2025 (aws-reference 5.2). */
export const ELB_LOG_DELIVERY_SERVICE = 'logdelivery.elasticloadbalancing.amazonaws.com';

/**
 * Partitions where mtls-kit also prints the legacy ELB-account statement: AWS's page documents
 * the service principal for "all AWS Regions" but whether that covers China and GovCloud is
 * UNCONFIRMED (aws-reference 5.2), so there both statements are printed; either is enough.
 */
export const LEGACY_STATEMENT_PARTITIONS: readonly string[] = ['aws-cn', 'aws-us-gov'];

export interface DeliveryScope extends ConnectionLogTarget {
  /** Of the load balancer (from its ARN). */
  partition: string;
  region: string;
  account: string;
}

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal: {Service: string} | {AWS: string};
  Action: string;
  Resource: string;
}

/** `arn:<partition>:s3:::bucket/prefix/AWSLogs/<account>/*`: where ELB writes the load balancer's logs. */
export function deliveryResource(s: DeliveryScope): string {
  return `arn:${s.partition}:s3:::${s.bucket}/${s.prefix ? `${s.prefix}/` : ''}AWSLogs/${s.account}/*`;
}

/**
 * The bucket-policy statement AWS documents for log delivery to this bucket and prefix in every
 * Region (aws-reference 5.2): s3:PutObject for the log-delivery service principal.
 */
export function deliveryStatement(s: DeliveryScope): PolicyStatement {
  return {
    Sid: 'AllowElbConnectionLogs',
    Effect: 'Allow',
    Principal: {Service: ELB_LOG_DELIVERY_SERVICE},
    Action: 's3:PutObject',
    Resource: deliveryResource(s),
  };
}

/**
 * The statements to print: the service-principal statement, plus the legacy ELB-account
 * statement only in LEGACY_STATEMENT_PARTITIONS (where the principal's reach is UNCONFIRMED).
 */
export function deliveryStatements(s: DeliveryScope): PolicyStatement[] {
  const out = [deliveryStatement(s)];
  const elbAccount = ELB_LOG_ACCOUNTS[s.region];
  if (elbAccount && LEGACY_STATEMENT_PARTITIONS.includes(s.partition))
    out.push({
      Sid: 'AllowElbConnectionLogsLegacyAccount',
      Effect: 'Allow',
      Principal: {AWS: `arn:${s.partition}:iam::${elbAccount}:root`},
      Action: 's3:PutObject',
      Resource: deliveryResource(s),
    });
  return out;
}

export interface PolicyVerdict {
  ok: boolean;
  /** Why not (or, when ok, which statement allows it). */
  reason: string;
  /** Statements that allow it only under a Condition mtls-kit does not evaluate (ok, with a warning). */
  conditional: boolean;
}

/**
 * Whether a bucket policy lets Elastic Load Balancing put the load balancer's log objects
 * under the prefix (aws-reference 5.2): an Allow of s3:PutObject to the log-delivery service
 * principal (every Region) or to the Region's legacy ELB account (Regions older than August
 * 2022, still accepted there), on a Resource covering
 * `bucket/prefix/AWSLogs/<account>/...`, and no unconditional Deny of it. Statements with
 * NotPrincipal, NotAction or NotResource are not judged (neither allow nor deny here).
 * @param policy the policy JSON, or null when the bucket has none
 */
export function checkDeliveryPolicy(policy: string | null, s: DeliveryScope): PolicyVerdict {
  const where = deliveryResource(s).replace(/\*$/, '');
  if (policy === null) return {ok: false, reason: `the bucket ${s.bucket} has no bucket policy`, conditional: false};
  let doc: {Statement?: unknown};
  try {
    doc = JSON.parse(policy) as {Statement?: unknown};
  } catch {
    return {ok: false, reason: `the bucket policy of ${s.bucket} is not JSON`, conditional: false};
  }
  const statements = (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]).filter(
    (x): x is Record<string, unknown> => typeof x === 'object' && x !== null,
  );
  // A representative object ELB would write (aws-reference 5: the file-name layout).
  const object = `${where}elasticloadbalancing/${s.region}/2026/01/01/conn_log.${s.account}_elasticloadbalancing_${s.region}_app.lb_20260101T0000Z_10.0.0.1_x.log.gz`;
  const elbAccount = ELB_LOG_ACCOUNTS[s.region];
  const principalMatches = (p: unknown): boolean => {
    if (p === '*') return true;
    if (typeof p !== 'object' || p === null) return false;
    const {Service, AWS} = p as {Service?: unknown; AWS?: unknown};
    if (list(Service).includes(ELB_LOG_DELIVERY_SERVICE)) return true;
    return list(AWS).some((a) => a === '*' || (elbAccount !== undefined && (a === elbAccount || a === `arn:${s.partition}:iam::${elbAccount}:root`)));
  };
  const applies = (st: Record<string, unknown>): boolean =>
    st.NotPrincipal === undefined &&
    st.NotAction === undefined &&
    st.NotResource === undefined &&
    principalMatches(st.Principal) &&
    list(st.Action).some((a) => wildcard(a.toLowerCase(), 's3:putobject')) &&
    list(st.Resource).some((r) => wildcard(r, object));
  const deny = statements.find((st) => st.Effect === 'Deny' && st.Condition === undefined && applies(st));
  if (deny)
    return {
      ok: false,
      reason: `a Deny statement${typeof deny.Sid === 'string' ? ` (${deny.Sid})` : ''} of the bucket policy of ${s.bucket} refuses it`,
      conditional: false,
    };
  const allows = statements.filter((st) => st.Effect === 'Allow' && applies(st));
  const plain = allows.find((st) => st.Condition === undefined);
  if (plain)
    return {ok: true, reason: `allowed by statement ${typeof plain.Sid === 'string' ? plain.Sid : `#${statements.indexOf(plain) + 1}`}`, conditional: false};
  if (allows.length > 0) return {ok: true, reason: 'allowed by a statement with a Condition, which mtls-kit does not evaluate', conditional: true};
  return {ok: false, reason: `no statement of the bucket policy of ${s.bucket} lets Elastic Load Balancing put objects under ${where}`, conditional: false};
}

function list(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];
}

/** IAM's wildcard match: `*` any run of characters, `?` one character (case-sensitive). */
function wildcard(pattern: string, value: string): boolean {
  const re = pattern
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${re}$`, 's').test(value);
}
