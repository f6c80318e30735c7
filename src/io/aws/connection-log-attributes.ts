/**
 * The AWS side of `deploy --connection-logs` and of status's connection-log line: read a load
 * balancer's connection-log attributes, read the bucket policy, and set the attributes
 * (aws-reference 5.1, 5.2). The decisions are in src/lib/deploy/connection-logs.ts.
 */
import {
  checkDeliveryPolicy,
  type ConnectionLogSetting,
  type ConnectionLogTarget,
  connectionLogAttributes,
  deliveryStatement,
  deliveryStatements,
  type DeliveryScope,
  elbArnParts,
  formatConnectionLogsUri,
  readConnectionLogSetting,
} from '../../lib/deploy/connection-logs.js';
import {ExitCode, MtlsKitError, preconditionError} from '../../lib/errors.js';
import {type AwsClients, awsErrorCode, callAws, mapAwsError} from './clients.js';

/** DescribeLoadBalancerAttributes: the connection-log setting, or null when the load balancer has none (not an ALB). */
export async function readConnectionLogs(aws: AwsClients, loadBalancerArn: string): Promise<ConnectionLogSetting | null> {
  const r = await callAws({action: 'elasticloadbalancing:DescribeLoadBalancerAttributes', resource: loadBalancerArn}, () =>
    aws.elbv2.send(new aws.elbv2Sdk.DescribeLoadBalancerAttributesCommand({LoadBalancerArn: loadBalancerArn})),
  );
  return readConnectionLogSetting((r.Attributes ?? []).map((a) => ({key: a.Key ?? '', value: a.Value ?? ''})));
}

/**
 * The connection-log settings of the load balancers deploy sets them on, each checked to be
 * an Application Load Balancer.
 * @throws MtlsKitError CONNECTION_LOGS_NEED_ALB (exit 4) when one has no connection-log attributes.
 */
export async function readLoadBalancersForLogs(
  aws: AwsClients,
  loadBalancerArns: string[],
): Promise<Array<{arn: string; connectionLogs: ConnectionLogSetting}>> {
  const out: Array<{arn: string; connectionLogs: ConnectionLogSetting}> = [];
  for (const arn of [...new Set(loadBalancerArns)]) {
    const setting = await readConnectionLogs(aws, arn);
    if (!setting)
      throw preconditionError(
        'CONNECTION_LOGS_NEED_ALB',
        `load balancer ${arn} has no connection-log attributes; connection logs exist only on Application Load Balancers`,
        [
          'leave out --connection-logs for this load balancer (a Network Load Balancer writes TLS access logs instead: aws elbv2 modify-load-balancer-attributes with access_logs.s3.*)',
        ],
      );
    out.push({arn, connectionLogs: setting});
  }
  return out;
}

/** GetBucketPolicy: the policy JSON, null when the bucket has none, 'denied' when these credentials may not read it. */
export async function getBucketPolicy(aws: AwsClients, bucket: string): Promise<string | null | 'denied'> {
  try {
    const r = await aws.s3.send(new aws.s3Sdk.GetBucketPolicyCommand({Bucket: bucket}));
    return r.Policy ?? null;
  } catch (error) {
    const code = awsErrorCode(error);
    if (code === 'NoSuchBucketPolicy') return null;
    if (code === 'AccessDenied' || code === 'Forbidden') return 'denied';
    throw mapAwsError(error, {action: 's3:GetBucketPolicy', resource: `s3://${bucket}`});
  }
}

/** The scope of the bucket policy for a load balancer (its partition, Region and account, from its ARN). */
export function deliveryScope(loadBalancerArn: string, target: ConnectionLogTarget): DeliveryScope {
  const parts = elbArnParts(loadBalancerArn);
  if (!parts) throw new MtlsKitError({code: 'BAD_LOAD_BALANCER_ARN', message: `${loadBalancerArn} is not a load balancer ARN`, exitCode: ExitCode.Usage});
  return {...parts, ...target};
}

/** The error that names the exact statement to add (exit 4), used before the call and when AWS refuses it. */
function policyMissing(scope: DeliveryScope, reason: string, cause?: unknown): MtlsKitError {
  const statement = deliveryStatement(scope);
  const statements = deliveryStatements(scope);
  return new MtlsKitError({
    code: 'CONNECTION_LOGS_BUCKET_POLICY',
    message: `Elastic Load Balancing cannot write connection logs to ${formatConnectionLogsUri(scope)}: ${reason}; nothing was changed on the load balancer`,
    suggestions: [
      statements.length === 1
        ? `add this statement to the bucket policy of ${scope.bucket}: ${JSON.stringify(statement)}`
        : `add these statements to the bucket policy of ${scope.bucket} (either one is enough where it is accepted; whether the service principal works in ${scope.partition} is not documented): ${JSON.stringify(statements)}`,
      `see the current one: aws s3api get-bucket-policy --bucket ${scope.bucket}; set the merged one: aws s3api put-bucket-policy --bucket ${scope.bucket} --policy file://policy.json`,
    ],
    exitCode: ExitCode.Precondition,
    details: {statement, statements, bucket: scope.bucket, prefix: scope.prefix},
    ...(cause === undefined ? {} : {cause}),
  });
}

/**
 * Checks, before any change, that the bucket policy lets ELB deliver the load balancer's
 * connection logs (aws-reference 5.2).
 * @returns a warning to show when the check could not be made or is not conclusive, else null.
 * @throws MtlsKitError CONNECTION_LOGS_BUCKET_POLICY (exit 4) with the statement to add.
 */
export async function checkLogDelivery(aws: AwsClients, loadBalancerArn: string, target: ConnectionLogTarget): Promise<string | null> {
  const scope = deliveryScope(loadBalancerArn, target);
  const policy = await getBucketPolicy(aws, target.bucket);
  if (policy === 'denied')
    return `cannot read the bucket policy of ${target.bucket} (s3:GetBucketPolicy denied); the load balancer checks it when the attributes are set`;
  const verdict = checkDeliveryPolicy(policy, scope);
  if (!verdict.ok) throw policyMissing(scope, verdict.reason);
  return verdict.conditional
    ? `the bucket policy of ${target.bucket} lets Elastic Load Balancing write there only under a Condition, which mtls-kit does not evaluate`
    : null;
}

/**
 * ModifyLoadBalancerAttributes with the three connection-log attributes. AWS writes a test
 * object when they are set (aws-reference 5.2) and refuses with InvalidConfigurationRequest
 * "Access Denied for bucket" when it cannot: that becomes the same exit 4 with the statement.
 */
export async function setConnectionLogs(aws: AwsClients, loadBalancerArn: string, target: ConnectionLogTarget): Promise<void> {
  try {
    await aws.elbv2.send(
      new aws.elbv2Sdk.ModifyLoadBalancerAttributesCommand({
        LoadBalancerArn: loadBalancerArn,
        Attributes: connectionLogAttributes(target).map((a) => ({Key: a.key, Value: a.value})),
      }),
    );
  } catch (error) {
    if (awsErrorCode(error) === 'InvalidConfigurationRequest' && /access denied/i.test((error as Error).message ?? '')) {
      throw policyMissing(deliveryScope(loadBalancerArn, target), `AWS refused it (${(error as Error).message})`, error);
    }
    throw mapAwsError(error, {action: 'elasticloadbalancing:ModifyLoadBalancerAttributes', resource: loadBalancerArn});
  }
}
