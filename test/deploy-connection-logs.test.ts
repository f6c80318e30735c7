/**
 * `deploy --connection-logs s3://bucket/prefix` (issue 14) against s3rver (with bucket
 * policies) and the ELBv2 emulator through the real SDK: the bucket policy is checked before
 * anything changes, the statement to add is printed and works, the attributes are set once,
 * NLB listeners are refused; and the policy judgment itself (lib) on AWS's documented forms.
 */
import assert from 'node:assert/strict';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {DeleteBucketPolicyCommand, PutBucketPolicyCommand, S3Client} from '@aws-sdk/client-s3';
import {
  checkDeliveryPolicy,
  deliveryStatement,
  deliveryStatements,
  ELB_LOG_ACCOUNTS,
  type DeliveryScope,
  loadBalancerOfListener,
  parseConnectionLogsUri,
  readConnectionLogSetting,
} from '../src/lib/deploy/connection-logs.js';
import {isMtlsKitError} from '../src/lib/errors.js';
import {type AwsStandIns, startAwsStandIns} from './support/aws-env.js';
import {runCli} from './support/cli.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const BUCKET = 'cl-pki-bucket';
const LOGS = 'cl-log-bucket';
const ACCOUNT = '123456789012';
const CERT = `arn:aws:acm:us-east-1:${ACCOUNT}:certificate/abc`;
const TG = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/tg/1`;

describe('connection-log bucket policy (lib)', () => {
  const scope = (region: string, prefix = 'alb/prod'): DeliveryScope => ({partition: 'aws', region, account: ACCOUNT, bucket: LOGS, prefix});
  const policy = (...statements: unknown[]): string => JSON.stringify({Version: '2012-10-17', Statement: statements});

  it('prints the statement AWS documents for every Region since September 2025: the log-delivery service principal', () => {
    // us-east-1 is one of the 26 older Regions that used to get the legacy ELB-account statement.
    assert.deepEqual(deliveryStatement(scope('us-east-1')), {
      Sid: 'AllowElbConnectionLogs',
      Effect: 'Allow',
      Principal: {Service: 'logdelivery.elasticloadbalancing.amazonaws.com'},
      Action: 's3:PutObject',
      Resource: `arn:aws:s3:::${LOGS}/alb/prod/AWSLogs/${ACCOUNT}/*`,
    });
    assert.deepEqual(deliveryStatement(scope('eu-south-2', '')).Principal, {Service: 'logdelivery.elasticloadbalancing.amazonaws.com'});
    assert.equal(deliveryStatement(scope('eu-south-2', '')).Resource, `arn:aws:s3:::${LOGS}/AWSLogs/${ACCOUNT}/*`);
    for (const region of Object.keys(ELB_LOG_ACCOUNTS).filter((r) => !/^(cn|us-gov)-/.test(r)))
      assert.deepEqual(
        deliveryStatements(scope(region)).map((x) => x.Principal),
        [{Service: 'logdelivery.elasticloadbalancing.amazonaws.com'}],
        region,
      );
    // China and GovCloud: the legacy statement is printed as well (the principal's reach there is not documented).
    const cn = deliveryStatements({...scope('cn-north-1'), partition: 'aws-cn'});
    assert.deepEqual(
      cn.map((x) => x.Principal),
      [{Service: 'logdelivery.elasticloadbalancing.amazonaws.com'}, {AWS: 'arn:aws-cn:iam::638102146993:root'}],
    );
    // Existing policies with the legacy account statement are still recognised in its Region.
    const legacy = {
      Effect: 'Allow',
      Principal: {AWS: 'arn:aws:iam::127311923021:root'},
      Action: 's3:PutObject',
      Resource: deliveryStatement(scope('us-east-1')).Resource,
    };
    assert.equal(checkDeliveryPolicy(policy(legacy), scope('us-east-1')).ok, true);
    assert.equal(checkDeliveryPolicy(policy(legacy), scope('eu-south-2')).ok, false);
    assert.throws(() => parseConnectionLogsUri('arn:aws:logs:us-east-1:123456789012:log-group:alb'), /CloudWatch Logs or Firehose/);
  });

  it('judges policies: the printed statement, wildcards, wrong prefix or account, Deny, no policy', () => {
    const s = scope('us-east-1');
    assert.equal(checkDeliveryPolicy(policy(deliveryStatement(s)), s).ok, true);
    // The service principal and a bucket-wide wildcard are accepted too.
    assert.equal(
      checkDeliveryPolicy(
        policy({
          Effect: 'Allow',
          Principal: {Service: ['logdelivery.elasticloadbalancing.amazonaws.com']},
          Action: ['s3:Put*'],
          Resource: `arn:aws:s3:::${LOGS}/*`,
        }),
        s,
      ).ok,
      true,
    );
    const wrongPrefix = checkDeliveryPolicy(policy(deliveryStatement(scope('us-east-1', 'alb/staging'))), s);
    assert.equal(wrongPrefix.ok, false);
    assert.match(wrongPrefix.reason, /no statement .* under arn:aws:s3:::cl-log-bucket\/alb\/prod\/AWSLogs\/123456789012\//);
    assert.equal(checkDeliveryPolicy(policy({...deliveryStatement(s), Resource: `arn:aws:s3:::${LOGS}/alb/prod/AWSLogs/999999999999/*`}), s).ok, false);
    // Another Region's ELB account does not write here.
    assert.equal(checkDeliveryPolicy(policy({...deliveryStatement(s), Principal: {AWS: 'arn:aws:iam::797873946194:root'}}), s).ok, false);
    assert.equal(checkDeliveryPolicy(policy({...deliveryStatement(s), Action: 's3:GetObject'}), s).ok, false);
    const denied = checkDeliveryPolicy(
      policy(deliveryStatement(s), {Sid: 'NoWrites', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: `arn:aws:s3:::${LOGS}/*`}),
      s,
    );
    assert.deepEqual([denied.ok, /NoWrites/.test(denied.reason)], [false, true]);
    // A Deny under a Condition (the usual aws:SecureTransport rule) does not refuse ELB's writes.
    assert.equal(
      checkDeliveryPolicy(
        policy(deliveryStatement(s), {
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: `arn:aws:s3:::${LOGS}/*`,
          Condition: {Bool: {'aws:SecureTransport': 'false'}},
        }),
        s,
      ).ok,
      true,
    );
    assert.deepEqual(checkDeliveryPolicy(policy({...deliveryStatement(s), Condition: {StringEquals: {'aws:SourceAccount': ACCOUNT}}}), s), {
      ok: true,
      reason: 'allowed by a statement with a Condition, which mtls-kit does not evaluate',
      conditional: true,
    });
    assert.equal(checkDeliveryPolicy(null, s).ok, false);
    assert.equal(checkDeliveryPolicy('{not json', s).ok, false);
  });

  it('parses s3://bucket/prefix and refuses what AWS refuses', () => {
    assert.deepEqual(parseConnectionLogsUri('s3://cl-log-bucket/alb/prod/'), {bucket: LOGS, prefix: 'alb/prod'});
    assert.deepEqual(parseConnectionLogsUri('s3://cl-log-bucket'), {bucket: LOGS, prefix: ''});
    for (const bad of ['cl-log-bucket/alb', 's3://Upper_Case/x', 's3://cl-log-bucket/alb/AWSLogs/x', 's3://']) {
      assert.throws(
        () => parseConnectionLogsUri(bad),
        (e: unknown) => isMtlsKitError(e) && e.exitCode === 2 && e.code === 'BAD_CONNECTION_LOGS_URI',
        bad,
      );
    }
    assert.equal(
      loadBalancerOfListener(`arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:listener/app/my-alb/50dc6c495c0c9188/f2f7dc8efc522ab2`),
      `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:loadbalancer/app/my-alb/50dc6c495c0c9188`,
    );
    assert.equal(readConnectionLogSetting([{key: 'access_logs.s3.enabled', value: 'false'}]), null);
  });
});

describe('deploy --connection-logs (s3rver + ELBv2 emulator)', async () => {
  const aws: AwsStandIns = await startAwsStandIns([BUCKET, LOGS]);
  const ca = await makeTestCa(join(tempDir(), 'pki'), {cn: 'Connection Logs Root'});
  const lbArn = aws.elb.addLoadBalancer('logs-alb');
  const s3 = new S3Client({endpoint: aws.s3.url, forcePathStyle: true, region: 'us-east-1', credentials: {accessKeyId: 'test', secretAccessKey: 'test'}});
  const putPolicy = (statement: unknown) =>
    s3.send(new PutBucketPolicyCommand({Bucket: LOGS, Policy: JSON.stringify({Version: '2012-10-17', Statement: [statement]})}));
  const deploy = (extra: string[]) => runCli(['deploy', '--dir', ca.dir, '--trust-store-name', 'logs-ts', '--bucket', BUCKET, ...extra], {env: aws.env});
  const mutating = (since: number): string[] =>
    aws.elb.calls
      .slice(since)
      .filter((c) => /^(Create|Modify|Add|Remove|Delete)/.test(c.action))
      .map((c) => c.action);
  const policyReads = (): number => aws.s3.requests.filter((q) => q.method === 'GET' && q.path === `/${LOGS}`).length;
  let listenerArn = '';

  it('setup: a listener with mutual TLS, no connection logs yet', async () => {
    const r = await deploy(['--load-balancer-arn', lbArn, '--port', '443', '--certificate-arn', CERT, '--target-group-arn', TG, '--json']);
    assert.equal(r.code, 0, r.stderr);
    listenerArn = r.json.listener.arn;
    assert.deepEqual(r.json.connectionLogs, []);
  });

  it('a bucket without a policy for ELB: exit 4 with the exact statement, and nothing changed', async () => {
    const start = aws.elb.calls.length;
    const r = await deploy(['--listener-arn', listenerArn, '--connection-logs', `s3://${LOGS}/alb/prod`, '--json']);
    assert.equal(r.code, 4, r.stdout);
    assert.equal(r.json.error.code, 'CONNECTION_LOGS_BUCKET_POLICY');
    assert.match(r.json.error.message, /cl-log-bucket has no bucket policy/);
    assert.deepEqual(r.json.error.details.statement, {
      Sid: 'AllowElbConnectionLogs',
      Effect: 'Allow',
      Principal: {Service: 'logdelivery.elasticloadbalancing.amazonaws.com'},
      Action: 's3:PutObject',
      Resource: `arn:aws:s3:::${LOGS}/alb/prod/AWSLogs/${ACCOUNT}/*`,
    });
    assert.deepEqual(mutating(start), []);
    assert.equal(aws.elb.loadBalancerAttributes(lbArn)['connection_logs.s3.enabled'], 'false');
    // Without --json the statement is on stderr, one line to copy.
    const text = await deploy(['--listener-arn', listenerArn, '--connection-logs', `s3://${LOGS}/alb/prod`]);
    assert.equal(text.code, 4);
    assert.ok(text.stderr.includes(JSON.stringify(r.json.error.details.statement)), text.stderr);
  });

  it('a policy for another prefix is refused the same way, naming the prefix it needs', async () => {
    await putPolicy({
      Effect: 'Allow',
      Principal: {AWS: 'arn:aws:iam::127311923021:root'},
      Action: 's3:PutObject',
      Resource: `arn:aws:s3:::${LOGS}/alb/staging/AWSLogs/${ACCOUNT}/*`,
    });
    const r = await deploy(['--listener-arn', listenerArn, '--connection-logs', `s3://${LOGS}/alb/prod`, '--json']);
    assert.equal(r.code, 4, r.stdout);
    assert.match(r.json.error.message, /no statement .* under arn:aws:s3:::cl-log-bucket\/alb\/prod\/AWSLogs\/123456789012\//);
    assert.equal(r.json.error.details.statement.Resource, `arn:aws:s3:::${LOGS}/alb/prod/AWSLogs/${ACCOUNT}/*`);
  });

  it('with the printed statement in place: --dry-run shows the change (exit 10 with --exit-code) and changes nothing', async () => {
    const refused = await deploy(['--listener-arn', listenerArn, '--connection-logs', `s3://${LOGS}/alb/prod`, '--json']);
    await putPolicy(refused.json.error.details.statement);
    const start = aws.elb.calls.length;
    const r = await deploy(['--listener-arn', listenerArn, '--connection-logs', `s3://${LOGS}/alb/prod`, '--dry-run', '--exit-code']);
    assert.equal(r.code, 10, r.stderr);
    assert.match(r.stdout, new RegExp(`would modify connection logs of ${lbArn.replace(/[/.]/g, '\\$&')}  → s3://cl-log-bucket/alb/prod`));
    assert.match(r.stdout, /was off/);
    assert.match(r.stdout, /would send connection logs of .* to s3:\/\/cl-log-bucket\/alb\/prod/);
    assert.deepEqual(mutating(start), []);
  });

  it('sets the three attributes; the emulator, which checks the policy itself, accepts them', async () => {
    const reads = policyReads();
    const r = await deploy(['--listener-arn', listenerArn, '--connection-logs', `s3://${LOGS}/alb/prod`, '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(policyReads(), reads + 1);
    assert.deepEqual(r.json.connectionLogs, [
      {
        loadBalancerArn: lbArn,
        action: 'modify',
        uri: `s3://${LOGS}/alb/prod`,
        bucket: LOGS,
        prefix: 'alb/prod',
        previous: {enabled: false, bucket: '', prefix: ''},
      },
    ]);
    const attrs = aws.elb.loadBalancerAttributes(lbArn);
    assert.deepEqual([attrs['connection_logs.s3.enabled'], attrs['connection_logs.s3.bucket'], attrs['connection_logs.s3.prefix']], ['true', LOGS, 'alb/prod']);
    assert.equal(r.json.changed, true);
  });

  it('a second run is a no-op: no mutating call and no bucket-policy read; status shows the setting', async () => {
    const start = aws.elb.calls.length;
    const reads = policyReads();
    const r = await deploy(['--listener-arn', listenerArn, '--connection-logs', `s3://${LOGS}/alb/prod/`, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.changed, false);
    assert.equal(r.json.connectionLogs[0].action, 'unchanged');
    assert.deepEqual(mutating(start), []);
    assert.equal(policyReads(), reads);
    const st = await runCli(['status', '--dir', ca.dir, '--trust-store-name', 'logs-ts', '--bucket', BUCKET, '--listener-arn', listenerArn, '--json'], {
      env: aws.env,
    });
    assert.equal(st.code, 0, st.stderr + st.stdout);
    assert.deepEqual(st.json.connectionLogs, {loadBalancerArn: lbArn, enabled: true, bucket: LOGS, prefix: 'alb/prod', uri: `s3://${LOGS}/alb/prod`});
    const text = await runCli(['status', '--dir', ca.dir, '--trust-store-name', 'logs-ts', '--bucket', BUCKET, '--listener-arn', listenerArn], {env: aws.env});
    assert.match(text.stdout, /connection logs of .*logs-alb.*: s3:\/\/cl-log-bucket\/alb\/prod/);
  });

  it('a saved plan carries the connection logs, applies them, and is refused when the attributes changed since', async () => {
    const plan = join(tempDir(), 'plan.json');
    await putPolicy(deliveryStatement({partition: 'aws', region: 'us-east-1', account: ACCOUNT, bucket: LOGS, prefix: 'alb/v2'}));
    const made = await deploy(['--listener-arn', listenerArn, '--connection-logs', `s3://${LOGS}/alb/v2`, '--plan-out', plan, '--exit-code', '--json']);
    assert.equal(made.code, 10, made.stderr + made.stdout);
    assert.equal(made.json.connectionLogs[0].action, 'modify');
    // Someone turns them off meanwhile: the plan no longer applies.
    const {ElasticLoadBalancingV2Client, ModifyLoadBalancerAttributesCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2');
    const elb = new ElasticLoadBalancingV2Client({
      endpoint: aws.elb.url,
      region: 'us-east-1',
      credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
      maxAttempts: 1,
    });
    await elb.send(new ModifyLoadBalancerAttributesCommand({LoadBalancerArn: lbArn, Attributes: [{Key: 'connection_logs.s3.enabled', Value: 'false'}]}));
    const stale = await runCli(['deploy', '--plan', plan, '--json'], {env: aws.env});
    assert.equal(stale.code, 4, stale.stdout);
    assert.equal(stale.json.error.code, 'PLAN_STALE');
    assert.match(stale.json.error.message, /the connection logs of .*logs-alb.* changed/);
    // A fresh plan applies exactly.
    const again = await deploy(['--listener-arn', listenerArn, '--connection-logs', `s3://${LOGS}/alb/v2`, '--plan-out', plan]);
    assert.equal(again.code, 0, again.stderr);
    const applied = await runCli(['deploy', '--plan', plan, '--json'], {env: aws.env});
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    assert.equal(aws.elb.loadBalancerAttributes(lbArn)['connection_logs.s3.prefix'], 'alb/v2');
    assert.equal(aws.elb.loadBalancerAttributes(lbArn)['connection_logs.s3.enabled'], 'true');
  });

  it('AWS refusing the bucket at ModifyLoadBalancerAttributes (its own test write) is the same exit 4 with the statement', async () => {
    // The local check passes (the right statement), AWS's own test write fails anyway (an SCP, a KMS-encrypted bucket, ...).
    await putPolicy(deliveryStatement({partition: 'aws', region: 'us-east-1', account: ACCOUNT, bucket: LOGS, prefix: 'alb/other'}));
    aws.elb.injectFault({
      kind: 'error',
      code: 'InvalidConfigurationRequest',
      action: 'ModifyLoadBalancerAttributes',
      count: 1,
      message: `Access Denied for bucket: ${LOGS}. Please check S3bucket permission`,
    });
    const r = await deploy(['--listener-arn', listenerArn, '--connection-logs', `s3://${LOGS}/alb/other`, '--json']);
    assert.equal(r.code, 4, r.stdout);
    assert.equal(r.json.error.code, 'CONNECTION_LOGS_BUCKET_POLICY');
    assert.match(r.json.error.message, /AWS refused it \(Access Denied for bucket/);
    assert.equal(aws.elb.loadBalancerAttributes(lbArn)['connection_logs.s3.prefix'], 'alb/v2');
    await s3.send(new DeleteBucketPolicyCommand({Bucket: LOGS}));
  });

  it('NLB listeners and runs without a listener are refused before any AWS call (exit 2)', async () => {
    const start = aws.elb.calls.length;
    const nlb = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:listener/net/logs-nlb/0123456789abcdef/fedcba9876543210`;
    const r = await deploy(['--listener-arn', nlb, '--connection-logs', `s3://${LOGS}/nlb`, '--json']);
    assert.equal(r.code, 2, r.stdout);
    assert.equal(r.json.error.code, 'CONNECTION_LOGS_NEED_ALB');
    assert.match(r.json.error.message, /Network Load Balancer's, and connection logs exist only on Application Load Balancers/);
    const none = await deploy(['--connection-logs', `s3://${LOGS}/x`, '--json']);
    assert.equal(none.code, 2);
    assert.equal(none.json.error.code, 'CONNECTION_LOGS_NEED_LISTENER');
    assert.equal(aws.elb.calls.length, start);
  });

  it('the emulator refuses connection-log attributes on an NLB and a prefix holding AWSLogs (AWS API rules)', async () => {
    const {ElasticLoadBalancingV2Client, ModifyLoadBalancerAttributesCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2');
    const elb = new ElasticLoadBalancingV2Client({
      endpoint: aws.elb.url,
      region: 'us-east-1',
      credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
      maxAttempts: 1,
    });
    const nlbArn = aws.elb.addLoadBalancer('logs-nlb', 'network');
    const set = (arn: string, prefix: string) =>
      elb.send(
        new ModifyLoadBalancerAttributesCommand({
          LoadBalancerArn: arn,
          Attributes: [
            {Key: 'connection_logs.s3.enabled', Value: 'false'},
            {Key: 'connection_logs.s3.prefix', Value: prefix},
          ],
        }),
      );
    await assert.rejects(set(nlbArn, 'x'), (e: Error) => e.name === 'ValidationError' && /not recognized/.test(e.message));
    await assert.rejects(set(lbArn, 'a/AWSLogs'), (e: Error) => e.name === 'ValidationError');
  });
});
