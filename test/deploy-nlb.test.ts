import assert from 'node:assert/strict';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {type AwsStandIns, startAwsStandIns} from './support/aws-env.js';
import {runCli} from './support/cli.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const BUCKET = 'nlb-pki';
const aws: AwsStandIns = await startAwsStandIns([BUCKET]);
const dirCa = await makeTestCa(join(tempDir(), 'pki'), {cn: 'NLB Deploy Root', intermediate: true});
const dir = dirCa.dir;
const nlbArn = aws.elb.addLoadBalancer('my-nlb', 'network');
const albArn = aws.elb.addLoadBalancer('my-alb');
const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/nlb';
const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tcp-tg/1';
const FILTER_MEMBER = 'MutualAuthentication.ClientCertificateIdentityFilters';

/** The filter parameters of a recorded call's form body, in the order they were sent. */
function filterParams(body: string): Array<[string, string]> {
  return [...new URLSearchParams(body)].filter(([k]) => k.startsWith(FILTER_MEMBER));
}

describe('deploy and status on an NLB TLS listener (s3rver + ELBv2 emulator)', () => {
  const base = ['--dir', dir, '--trust-store-name', 'nlb-devices', '--bucket', BUCKET, '--skip-crl'];
  let listenerArn = '';
  const deploy = (extra: string[]) => runCli(['deploy', ...base, ...extra, '--json'], {env: aws.env});
  const status = (extra: string[]) => runCli(['status', ...base, '--listener-arn', listenerArn, ...extra, '--json'], {env: aws.env});

  it('creates a TLS listener on the NLB in verify mode with the filters, encoded on the wire as the Query protocol does', async () => {
    const r = await deploy([
      '--load-balancer-arn',
      nlbArn,
      '--port',
      '443',
      '--certificate-arn',
      CERT,
      '--target-group-arn',
      TG,
      '--identity-filter',
      'subject-cn:prefix:device-',
      '--identity-filter',
      'san-uri:exact:spiffe://acme/a b+c&d=e',
    ]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    listenerArn = r.json.listener.arn;
    assert.match(listenerArn, /:listener\/net\/my-nlb\//);
    assert.deepEqual(r.json.listener.mutualAuthentication.identityFilters, ['subject-cn:prefix:device-', 'san-uri:exact:spiffe://acme/a b+c&d=e']);
    const create = aws.elb.served('CreateListener').at(-1)!;
    assert.equal(create.params.Protocol, 'TLS');
    assert.equal(create.params['MutualAuthentication.Mode'], 'verify');
    // Exactly the Query protocol's encoding: member.N.Name, RFC 3986 escapes.
    assert.ok(
      create.body.includes(
        'MutualAuthentication.ClientCertificateIdentityFilters.member.1.Action=accept&MutualAuthentication.ClientCertificateIdentityFilters.member.1.Field=subject-cn&MutualAuthentication.ClientCertificateIdentityFilters.member.1.MatchType=prefix&MutualAuthentication.ClientCertificateIdentityFilters.member.1.Value=device-&MutualAuthentication.ClientCertificateIdentityFilters.member.2.Action=accept&MutualAuthentication.ClientCertificateIdentityFilters.member.2.Field=san-uri&MutualAuthentication.ClientCertificateIdentityFilters.member.2.MatchType=exact&MutualAuthentication.ClientCertificateIdentityFilters.member.2.Value=spiffe%3A%2F%2Facme%2Fa%20b%2Bc%26d%3De',
      ),
      create.body,
    );
  });

  it('status reads the filters back from DescribeListeners: in sync, and the listener shows them', async () => {
    const r = await status(['--identity-filter', 'san-uri:exact:spiffe://acme/a b+c&d=e', '--identity-filter', 'subject-cn:prefix:device-']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.json.drift, false);
    assert.deepEqual(r.json.listener.identityFilters, ['subject-cn:prefix:device-', 'san-uri:exact:spiffe://acme/a b+c&d=e']);
    const h = await runCli(
      [
        'status',
        ...base,
        '--listener-arn',
        listenerArn,
        '--identity-filter',
        'subject-cn:prefix:device-',
        '--identity-filter',
        'san-uri:exact:spiffe://acme/a b+c&d=e',
      ],
      {env: aws.env},
    );
    assert.match(h.stdout, /ClientCertificateIdentityFilters=\[subject-cn:prefix:device-, san-uri:exact:spiffe:\/\/acme\/a b\+c&d=e\]/);
  });

  it('status reports drift when the filters differ (exit 3)', async () => {
    const r = await status(['--identity-filter', 'subject-cn:prefix:device-']);
    assert.equal(r.code, 3);
    const check = r.json.checks.find((c: {name: string}) => c.name === 'listener');
    assert.equal(check.ok, false);
    assert.match(check.detail, /expected .*ClientCertificateIdentityFilters=\[subject-cn:prefix:device-\]$/);
  });

  it('a second run (filters in another order) makes no mutating call', async () => {
    const before = aws.elb.mutatingCalls().length;
    const r = await deploy([
      '--listener-arn',
      listenerArn,
      '--identity-filter',
      'san-uri:exact:spiffe://acme/a b+c&d=e',
      '--identity-filter',
      'subject-cn:prefix:device-',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.changed, false);
    assert.equal(r.json.listener.action, 'unchanged');
    assert.equal(aws.elb.mutatingCalls().length, before);
  });

  it('changing the filters modifies the listener; removing them all sends the empty list', async () => {
    const a = await deploy(['--listener-arn', listenerArn, '--identity-filter', 'subject-ou:exact:Fleet A']);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.json.listener.action, 'modify');
    assert.deepEqual(filterParams(aws.elb.served('ModifyListener').at(-1)!.body), [
      [`${FILTER_MEMBER}.member.1.Action`, 'accept'],
      [`${FILTER_MEMBER}.member.1.Field`, 'subject-ou'],
      [`${FILTER_MEMBER}.member.1.MatchType`, 'exact'],
      [`${FILTER_MEMBER}.member.1.Value`, 'Fleet A'],
    ]);
    const b = await deploy(['--listener-arn', listenerArn]);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.json.listener.action, 'modify');
    assert.deepEqual(b.json.listener.previous.identityFilters, ['subject-ou:exact:Fleet A']);
    assert.deepEqual(b.json.listener.mutualAuthentication.identityFilters, []);
    assert.deepEqual(filterParams(aws.elb.served('ModifyListener').at(-1)!.body), [[FILTER_MEMBER, '']]);
    const c = await status([]);
    assert.equal(c.json.drift, false);
    assert.deepEqual(c.json.listener.identityFilters, []);
  });

  it('passthrough on an NLB is refused before any AWS call, with the reason (exit 2)', async () => {
    const calls = aws.elb.calls.length;
    const r = await deploy(['--listener-arn', listenerArn, '--mode', 'passthrough']);
    assert.equal(r.code, 2);
    assert.equal(r.json.error.code, 'NLB_VERIFY_ONLY');
    assert.match(r.json.error.message, /verify mode only/);
    assert.match(r.json.error.suggestions.join(' '), /TCP listener/);
    assert.equal(aws.elb.calls.length, calls);
  });

  it('identity filters for an ALB listener are refused before any AWS call (exit 2)', async () => {
    const r = await deploy([
      '--load-balancer-arn',
      albArn,
      '--port',
      '443',
      '--certificate-arn',
      CERT,
      '--target-group-arn',
      TG,
      '--identity-filter',
      'subject-cn:exact:x',
    ]);
    assert.equal(r.code, 2);
    assert.equal(r.json.error.code, 'FILTERS_NEED_NLB');
  });

  it('a TCP listener of the NLB is refused with the reason (exit 4)', async () => {
    // Make a TCP listener behind deploy's back, then point deploy at it.
    const {ElasticLoadBalancingV2Client, CreateListenerCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2');
    const client = new ElasticLoadBalancingV2Client({
      region: 'us-east-1',
      endpoint: aws.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 ?? aws.env.AWS_ENDPOINT_URL,
      credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
    });
    const made = await client.send(
      new CreateListenerCommand({LoadBalancerArn: nlbArn, Protocol: 'TCP', Port: 8080, DefaultActions: [{Type: 'forward', TargetGroupArn: TG}]}),
    );
    const r = await deploy(['--listener-arn', made.Listeners![0]!.ListenerArn!]);
    assert.equal(r.code, 4);
    assert.equal(r.json.error.code, 'LISTENER_NOT_TLS');
  });
});

describe('ELBv2 emulator: NLB identity filters validated as AWS documents them', () => {
  it('refuses a bad field, match type, action, value length or san-uri scheme, and filters on an ALB', async () => {
    const {ElasticLoadBalancingV2Client, CreateListenerCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2');
    const {addNlbFilterMiddleware} = await import('../src/io/aws/nlb-filters-wire.js');
    const client = new ElasticLoadBalancingV2Client({
      region: 'us-east-1',
      endpoint: aws.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 ?? aws.env.AWS_ENDPOINT_URL,
      credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
      maxAttempts: 1,
    });
    addNlbFilterMiddleware(client);
    const ts = (await runCli(['deploy', '--dir', dir, '--trust-store-name', 'emu-ts', '--bucket', BUCKET, '--skip-crl', '--json'], {env: aws.env})).json
      .trustStore.arn as string;
    let port = 9000;
    const create = (lb: string, filters: Array<Record<string, string>>) =>
      client.send(
        new CreateListenerCommand({
          LoadBalancerArn: lb,
          Protocol: lb === nlbArn ? 'TLS' : 'HTTPS',
          Port: port++,
          Certificates: [{CertificateArn: CERT}],
          DefaultActions: [{Type: 'forward', TargetGroupArn: TG}],
          MutualAuthentication: {Mode: 'verify', TrustStoreArn: ts, ClientCertificateIdentityFilters: filters} as never,
        }),
      );
    const ok = {Action: 'accept', Field: 'san-dns', MatchType: 'exact', Value: 'a.example'};
    const made = await create(nlbArn, [ok]);
    assert.deepEqual((made.Listeners![0]!.MutualAuthentication as {ClientCertificateIdentityFilters?: unknown}).ClientCertificateIdentityFilters, [ok]);
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{...ok, Field: 'san-ip'}, /member\.field' failed to satisfy constraint: Member must satisfy enum value set/],
      [{...ok, MatchType: 'suffix'}, /member\.matchType'/],
      [{...ok, Action: 'deny'}, /member\.action'/],
      [{...ok, Value: 'x'.repeat(257)}, /length between 1 and 256/],
      [{...ok, Value: 'caf\u00e9'}, /printable ASCII/],
      [{...ok, Field: 'san-uri', Value: '1abc://x'}, /must begin with a letter/],
    ];
    for (const [filter, why] of cases)
      await assert.rejects(create(nlbArn, [filter]), (e: Error & {name: string}) => e.name === 'ValidationError' && why.test(e.message));
    await assert.rejects(
      create(albArn, [ok]),
      (e: Error & {name: string}) => e.name === 'InvalidConfigurationRequestException' || e.name === 'InvalidConfigurationRequest',
    );
  });
});
