/**
 * The IAM policies in docs/iam/ are exactly what each command family needs: every command of
 * a family runs against the emulators (src/io/emulate, in this process, reached by the real SDK
 * through endpoint URLs), every AWS call they record becomes the IAM action and resource it is
 * authorised by (plus the permissions AWS checks on the caller's behalf: ELBv2 and API Gateway
 * read the bundle, CRLs and truststore from S3 with the caller's credentials, SSE-KMS objects
 * need kms:GenerateDataKey to write and kms:Decrypt to read), and the test fails when the
 * family's policy does not allow one, or allows an action or resource that no call needed.
 *
 * The mapping from a recorded call to its IAM action is the Service Authorization Reference's
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html,
 * .../list_amazons3.html, .../list_amazonapigatewaymanagement.html): ELBv2 `Action=X` is
 * `elasticloadbalancing:X`; S3 HeadBucket and ListObjectsV2 are `s3:ListBucket`, HeadObject
 * `s3:GetObject`; API Gateway is `apigateway:<HTTP method>` on `arn:aws:apigateway:REGION::<path>`
 * (HTTP APIs' `/v2` prefix is not part of the resource).
 */
import assert from 'node:assert/strict';
import {readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {type RunningEmulator, startEmulator} from '../src/io/emulate/index.js';
import {type CliResult, runCli} from './support/cli.js';
import {tempDir} from './support/tmp.js';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const IAM_DIR = new URL('../docs/iam/', import.meta.url);

/** One permission a call needed: `service:Action` on a resource ARN. */
export interface Needed {
  action: string;
  resource: string;
  /** The call it came from (for messages). */
  why: string;
  /** ListObjectsV2's prefix (the `s3:prefix` condition key). */
  prefix?: string;
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  /** Only `StringLike` on `s3:prefix` is used in docs/iam. */
  Condition?: {StringLike?: Record<string, string | string[]>};
}

const list = (x: string | string[]): string[] => (Array.isArray(x) ? x : [x]);

/** IAM wildcard match (`*` any run, `?` one character), case-sensitive as resource ARNs are. */
export function iamMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    ignoreCase ? 'i' : '',
  );
  return re.test(value);
}

/** A policy file with its placeholders (REGION, ACCOUNT_ID, BUCKET, ...) filled in. */
function loadPolicy(name: string, values: Record<string, string>): Statement[] {
  let text = readFileSync(new URL(`${name}.json`, IAM_DIR), 'utf8');
  // Longest first: BUCKET is part of LOG_BUCKET.
  for (const [k, v] of Object.entries(values).sort(([a], [b]) => b.length - a.length)) text = text.replaceAll(k, v);
  const doc = JSON.parse(text) as {Version: string; Statement: Statement[]};
  assert.equal(doc.Version, '2012-10-17', `${name}.json: Version`);
  for (const s of doc.Statement) assert.equal(s.Effect, 'Allow', `${name}.json: only Allow statements`);
  return doc.Statement;
}

/** What is missing from the policy, and which of its action/resource pairs no call used. */
export function compare(statements: Statement[], needed: Needed[]): {missing: string[]; unused: string[]} {
  const missing: string[] = [];
  const used = new Set<string>();
  for (const n of needed) {
    let ok = false;
    statements.forEach((s, i) => {
      for (const a of list(s.Action))
        for (const r of list(s.Resource))
          if (iamMatch(a, n.action, true) && iamMatch(r, n.resource) && conditionHolds(s, n)) {
            ok = true;
            used.add(`${i} ${a} ${r}`);
          }
    });
    if (!ok) missing.push(`${n.action} on ${n.resource} (${n.why})`);
  }
  const unused: string[] = [];
  statements.forEach((s, i) => {
    for (const a of list(s.Action)) for (const r of list(s.Resource)) if (!used.has(`${i} ${a} ${r}`)) unused.push(`${a} on ${r}`);
  });
  return {missing: [...new Set(missing)], unused};
}

/** A statement's condition: every StringLike key must match (only s3:prefix is known; any other fails). */
function conditionHolds(s: Statement, n: Needed): boolean {
  for (const [key, patterns] of Object.entries(s.Condition?.StringLike ?? {})) {
    if (key !== 's3:prefix' || n.prefix === undefined) return false;
    if (!list(patterns).some((p) => iamMatch(p, n.prefix!))) return false;
  }
  return Object.keys(s.Condition ?? {}).every((k) => k === 'StringLike');
}

/** Where the emulators' records stand, to take what one command added. */
interface Mark {
  elb: number;
  apigw: number;
  cloudfront: number;
  acm: number;
  s3: number;
}

function mark(em: RunningEmulator): Mark {
  return {elb: em.elb.calls.length, apigw: em.apigw.calls.length, cloudfront: em.cloudfront.calls.length, acm: em.acm.calls.length, s3: em.s3.requests.length};
}

/**
 * A CloudFront REST call → its IAM action and resource (Service Authorization Reference,
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudfront.html:
 * the action is the operation name; distributions are `arn:aws:cloudfront::ACCOUNT:distribution/ID`;
 * trust stores are taken as `arn:aws:cloudfront::ACCOUNT:trust-store/ID`, the ARN CreateTrustStore
 * returns; creates and lists are on `*`).
 */
function cloudfrontNeed(method: string, path: string): {action: string; resource: string} {
  const p = path.replace(/^\/2020-05-31\//, '').split('/');
  const ts = (id: string): string => `arn:aws:cloudfront::${ACCOUNT}:trust-store/${id}`;
  if (p[0] === 'trust-store' && p.length === 1) return {action: 'cloudfront:CreateTrustStore', resource: '*'};
  if (p[0] === 'trust-stores') return {action: 'cloudfront:ListTrustStores', resource: '*'};
  if (p[0] === 'trust-store') {
    const action = {GET: 'GetTrustStore', PUT: 'UpdateTrustStore', DELETE: 'DeleteTrustStore'}[method] ?? method;
    return {action: `cloudfront:${action}`, resource: ts(p[1]!)};
  }
  if (p[0] === 'distributionsByTrustStore') return {action: 'cloudfront:ListDistributionsByTrustStore', resource: '*'};
  if (p[0] === 'distribution')
    return {
      action: method === 'GET' ? 'cloudfront:GetDistributionConfig' : 'cloudfront:UpdateDistribution',
      resource: `arn:aws:cloudfront::${ACCOUNT}:distribution/${p[1]}`,
    };
  return {action: `cloudfront:${method} ${path}`, resource: '*'};
}

const S3_ARN = (bucket: string, key?: string): string => (key === undefined ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${key}`);

/** The permissions the calls recorded since `m` needed. */
/** S3 key → the KMS key it was written with (SSE-KMS), across commands. */
const kmsObjects = new Map<string, string>();

export function neededSince(em: RunningEmulator, m: Mark): Needed[] {
  const out: Needed[] = [];
  const tsArn = (p: Record<string, string>): string =>
    p.TrustStoreArn ?? (p.Name ? `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:truststore/${p.Name}/new` : '*');
  const s3Read = (bucket: string, key: string, version: string | undefined, why: string): void => {
    out.push({action: 's3:GetObject', resource: S3_ARN(bucket, key), why});
    if (version) out.push({action: 's3:GetObjectVersion', resource: S3_ARN(bucket, key), why});
    const kms = kmsObjects.get(`${bucket}/${key}`);
    if (kms) out.push({action: 'kms:Decrypt', resource: kms, why: `${why} (SSE-KMS)`});
  };
  for (const c of em.elb.calls.slice(m.elb)) {
    if (c.fault) continue;
    const p = c.params;
    const why = `ELBv2 ${c.action}`;
    let resource = '*';
    if (/TrustStore|Revocation/.test(c.action) && !/^DescribeTrustStores$/.test(c.action)) resource = tsArn(p);
    if (c.action === 'CreateListener' || c.action === 'ModifyLoadBalancerAttributes') resource = p.LoadBalancerArn ?? '*';
    if (c.action === 'ModifyListener') resource = p.ListenerArn ?? '*';
    if (c.action === 'AddTags' || c.action === 'RemoveTags') {
      for (const [k, v] of Object.entries(p))
        if (/^ResourceArns\.member\.\d+$/.test(k)) out.push({action: `elasticloadbalancing:${c.action}`, resource: v, why});
      continue;
    }
    if (/^Describe/.test(c.action)) resource = '*';
    out.push({action: `elasticloadbalancing:${c.action}`, resource, why});
    // Tags on a create call are authorised as AddTags too (Service Authorization Reference).
    if ((c.action === 'CreateTrustStore' || c.action === 'CreateListener') && Object.keys(p).some((k) => k.startsWith('Tags.member.')))
      out.push({
        action: 'elasticloadbalancing:AddTags',
        resource: c.action === 'CreateTrustStore' ? tsArn(p) : `${p.LoadBalancerArn?.replace(':loadbalancer/', ':listener/')}/new`,
        why,
      });
    // ELBv2 reads the bundle and CRLs with the caller's credentials (docs/deploy.md "SSE-KMS").
    if (p.CaCertificatesBundleS3Bucket && p.CaCertificatesBundleS3Key)
      s3Read(p.CaCertificatesBundleS3Bucket, p.CaCertificatesBundleS3Key, p.CaCertificatesBundleS3ObjectVersion, `${why} reads the bundle`);
    for (const [k, v] of Object.entries(p)) {
      const r = /^RevocationContents\.member\.(\d+)\.S3Bucket$/.exec(k);
      if (r) s3Read(v, p[`RevocationContents.member.${r[1]}.S3Key`] ?? '', p[`RevocationContents.member.${r[1]}.S3ObjectVersion`], `${why} reads a CRL`);
    }
  }
  for (const c of em.apigw.calls.slice(m.apigw)) {
    const path = c.path.replace(/^\/v2\//, '/');
    out.push({action: `apigateway:${c.method}`, resource: `arn:aws:apigateway:${REGION}::${path}`, why: `API Gateway ${c.method} ${c.path}`});
    // API Gateway reads the truststore with the caller's credentials.
    const text = JSON.stringify(c.body ?? '');
    const uri = /s3:\/\/([^/"]+)\/([^"\\]+)/.exec(text);
    if (c.method === 'PATCH' && uri)
      s3Read(uri[1]!, uri[2]!, /truststoreVersion|TruststoreVersion/.test(text) ? 'v' : undefined, 'API Gateway reads the truststore');
  }
  for (const c of em.cloudfront.calls.slice(m.cloudfront)) {
    const why = `CloudFront ${c.method} ${c.path}`;
    out.push({...cloudfrontNeed(c.method, c.path), why});
    // As ELBv2 and API Gateway, CloudFront is taken to read the bundle with the caller's credentials (UNCONFIRMED, aws-reference 11.1).
    if (c.read) s3Read(c.read.bucket, c.read.key, c.read.version ?? undefined, `${why} reads the bundle`);
  }
  // ACM (origin-cert --acm-import): the action is the operation; a new import has no ARN yet (`*`), a re-import names it.
  for (const c of em.acm.calls.slice(m.acm)) out.push({action: `acm:${c.operation}`, resource: c.arn ?? '*', why: `ACM ${c.operation}`});
  for (const r of em.s3.requests.slice(m.s3)) {
    if (!r.signed) continue;
    const [bucket = '', ...rest] = r.path.slice(1).split('/');
    const key = rest.map(decodeURIComponent).join('/');
    const q = new URLSearchParams(r.query);
    const why = `S3 ${r.method} ${r.path}${r.query}`;
    const add = (action: string, resource: string): void => void out.push({action, resource, why});
    if (!key) {
      if (q.has('versioning')) add(r.method === 'GET' ? 's3:GetBucketVersioning' : 's3:PutBucketVersioning', S3_ARN(bucket));
      else if (q.has('policy')) add(r.method === 'GET' ? 's3:GetBucketPolicy' : 's3:PutBucketPolicy', S3_ARN(bucket));
      else out.push({action: 's3:ListBucket', resource: S3_ARN(bucket), why, ...(q.has('prefix') ? {prefix: q.get('prefix')!} : {})});
      continue;
    }
    const version = q.get('versionId');
    const kms =
      r.headers['x-amz-server-side-encryption'] === 'aws:kms' ? String(r.headers['x-amz-server-side-encryption-aws-kms-key-id'] ?? 'aws/s3') : undefined;
    if (r.method === 'PUT') {
      add(q.has('tagging') ? 's3:PutObjectTagging' : 's3:PutObject', S3_ARN(bucket, key));
      if (r.headers['x-amz-tagging']) add('s3:PutObjectTagging', S3_ARN(bucket, key));
      if (kms) {
        add('kms:GenerateDataKey', kms);
        kmsObjects.set(`${bucket}/${key}`, kms);
      } else kmsObjects.delete(`${bucket}/${key}`);
    } else if (r.method === 'DELETE') add(version ? 's3:DeleteObjectVersion' : 's3:DeleteObject', S3_ARN(bucket, key));
    else s3Read(bucket, key, version ?? undefined, why);
  }
  return out;
}

describe('IAM policies in docs/iam/ against the calls each command makes', () => {
  let em: RunningEmulator;
  const work = tempDir('mtls-kit-iam-');
  let env: Record<string, string | undefined>;
  const run = async (args: string[], expect = 0): Promise<CliResult> => {
    const r = await runCli(args, {cwd: work, env, timeoutMs: 120_000});
    assert.equal(r.code, expect, `mtls-kit ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r;
  };
  /** Runs the commands, returns what they needed. */
  const needs = async (commands: Array<string[] | (() => Promise<void>)>): Promise<Needed[]> => {
    const m = mark(em);
    for (const c of commands) {
      if (typeof c === 'function') await c();
      else await run(c);
    }
    return neededSince(em, m);
  };
  const values: Record<string, string> = {REGION: REGION, ACCOUNT_ID: ACCOUNT, TRUST_STORE_NAME: 'acme-clients', PREFIX: 'mtls-kit/'};
  /**
   * The policy (with `base`, for the ones that add to another) allows every needed permission,
   * and every grant of the policy itself was needed.
   */
  const check = (policy: string, needed: Needed[], extra: Record<string, string> = {}, base?: string): void => {
    const own = loadPolicy(policy, {...values, ...extra});
    const all = base ? [...own, ...loadPolicy(base, {...values, ...extra})] : own;
    const {missing} = compare(all, needed);
    const {unused} = compare(own, needed);
    assert.deepEqual({missing, unused}, {missing: [], unused: []}, `docs/iam/${policy}.json${base ? ` (with ${base}.json)` : ''}`);
  };
  let listener = '';

  before(async () => {
    em = await startEmulator({
      port: 0,
      region: REGION,
      buckets: ['acme-mtls', 'acme-logs', 'acme-conn-logs'],
      versionedBuckets: ['acme-truststores'],
      albs: ['acme-alb'],
      nlbs: ['acme-nlb'],
      domains: [
        {name: 'api.example.com', api: 'rest'},
        {name: 'http.example.com', api: 'http'},
      ],
      distributions: ['E1IAMDIST00001'],
      delayMs: 50,
    });
    const home = tempDir('mtls-kit-iam-home-');
    env = {
      AWS_ENDPOINT_URL: em.url,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'iam-test',
      AWS_SECRET_ACCESS_KEY: 'iam-test',
      AWS_SESSION_TOKEN: undefined,
      AWS_PROFILE: undefined,
      AWS_CONFIG_FILE: join(home, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      MTLS_KIT_POLL_INTERVAL_MS: '50',
    };
    await run(['gen-ca', '--cn', 'IAM Root', '--intermediate']);
    await run(['crl']);
    await run(['crl', '--issuer', 'root']);
    await run(['gen-client', '--cn', 'device-1', '--out', 'device-1']);
  });
  after(async () => {
    await em.close();
  });

  it('the policy matcher: a missing action and an unused grant are both reported (planted)', () => {
    const statements: Statement[] = [{Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::b/p/*'}];
    const r = compare(statements, [
      {action: 's3:GetObject', resource: 'arn:aws:s3:::b/p/x', why: 'a'},
      {action: 's3:DeleteObject', resource: 'arn:aws:s3:::b/p/x', why: 'b'},
      {action: 's3:GetObject', resource: 'arn:aws:s3:::other/x', why: 'c'},
    ]);
    assert.deepEqual(r.missing, ['s3:DeleteObject on arn:aws:s3:::b/p/x (b)', 's3:GetObject on arn:aws:s3:::other/x (c)']);
    assert.deepEqual(r.unused, ['s3:PutObject on arn:aws:s3:::b/p/*']);
    const listing: Statement[] = [{Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::b', Condition: {StringLike: {'s3:prefix': 'logs/*'}}}];
    assert.deepEqual(compare(listing, [{action: 's3:ListBucket', resource: 'arn:aws:s3:::b', why: 'in', prefix: 'logs/2026/'}]).missing, []);
    assert.equal(compare(listing, [{action: 's3:ListBucket', resource: 'arn:aws:s3:::b', why: 'out', prefix: 'other/'}]).missing.length, 1);
  });

  const ts = ['--trust-store-name', 'acme-clients', '--bucket', 'acme-mtls'];
  it('deploy-alb: create the trust store and a listener, rotate a CRL, change the bundle and the listener, dry-run', {timeout: 300_000}, async () => {
    const alb = em.loadBalancers.find((l) => l.name === 'acme-alb')!.arn;
    const needed = await needs([
      async () => {
        const r = await run([
          'deploy',
          ...ts,
          '--load-balancer-arn',
          alb,
          '--port',
          '443',
          '--certificate-arn',
          `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/iam`,
          '--target-group-arn',
          `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/iam/1`,
          '--tag',
          'team=pki',
          '--json',
        ]);
        listener = r.json.listener.arn;
      },
      async () => {
        await run(['revoke', '--cert', 'device-1/certificate.crt']);
        await run(['crl']);
        await run(['deploy', ...ts, '--listener-arn', listener, '--advertise-ca-names', '--tag', 'team=platform']);
        await run(['gen-ca', '--cn', 'Other Root', '--dir', 'other']);
        await run([
          'deploy',
          ...ts,
          '--listener-arn',
          listener,
          '--advertise-ca-names',
          '--ca-bundle',
          'other/ca-bundle.pem',
          '--skip-crl',
          '--tag',
          'team=platform',
        ]);
        await run(['deploy', ...ts, '--listener-arn', listener, '--dry-run']);
      },
    ]);
    show(needed);
    check('deploy-alb', needed, {BUCKET: 'acme-mtls'});
  });

  it("connection-logs: deploy --connection-logs turns them on for the listener's ALB", {timeout: 120_000}, async () => {
    em.s3.buckets.get('acme-conn-logs')!.policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: {Service: 'logdelivery.elasticloadbalancing.amazonaws.com'},
          Action: 's3:PutObject',
          Resource: 'arn:aws:s3:::acme-conn-logs/*',
        },
      ],
    });
    const needed = await needs([
      [
        'deploy',
        ...ts,
        '--listener-arn',
        listener,
        '--advertise-ca-names',
        '--tag',
        'team=platform',
        '--ca-bundle',
        'other/ca-bundle.pem',
        '--skip-crl',
        '--connection-logs',
        's3://acme-conn-logs/alb',
      ],
    ]);
    show(needed);
    check('connection-logs', needed, {BUCKET: 'acme-mtls', LOG_BUCKET: 'acme-conn-logs'}, 'deploy-alb');
  });

  it('status: the trust store, its objects, CRLs and the listener', {timeout: 120_000}, async () => {
    const needed = await needs([['status', ...ts, '--listener-arn', listener, '--advertise-ca-names', '--ca-bundle', 'other/ca-bundle.pem', '--skip-crl']]);
    show(needed);
    check('status', needed, {BUCKET: 'acme-mtls'});
  });

  it('sse-kms: deploy --sse aws:kms (objects written and read back under a KMS key)', {timeout: 120_000}, async () => {
    const key = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    const needed = await needs([
      ['deploy', '--trust-store-name', 'acme-kms', '--bucket', 'acme-mtls', '--prefix', 'kms/', '--sse', 'aws:kms', '--kms-key-id', key],
    ]);
    show(needed);
    check('sse-kms', needed, {BUCKET: 'acme-mtls', TRUST_STORE_NAME: 'acme-kms', PREFIX: 'kms/', KMS_KEY_ARN: key}, 'deploy-alb');
  });

  it('destroy: detach the listener, remove the CRLs and the trust store, delete its objects', {timeout: 120_000}, async () => {
    const needed = await needs([
      ['destroy', ...ts, '--listener-arn', listener, '--dry-run'],
      ['destroy', ...ts, '--listener-arn', listener, '--delete-objects', '--yes'],
    ]);
    show(needed);
    check('destroy', needed, {BUCKET: 'acme-mtls'});
  });

  it('deploy-nlb: a TLS listener with identity filters on an NLB', {timeout: 120_000}, async () => {
    const nlb = em.loadBalancers.find((l) => l.name === 'acme-nlb')!.arn;
    const needed = await needs([
      [
        'deploy',
        '--trust-store-name',
        'acme-nlb-clients',
        '--bucket',
        'acme-mtls',
        '--load-balancer-arn',
        nlb,
        '--port',
        '8443',
        '--certificate-arn',
        `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/iam`,
        '--target-group-arn',
        `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/iam/1`,
        '--identity-filter',
        'subject-cn:prefix:device-',
      ],
    ]);
    show(needed);
    check('deploy-nlb', needed, {BUCKET: 'acme-mtls', TRUST_STORE_NAME: 'acme-nlb-clients'});
  });

  it('deploy-apigw: the truststore of a REST and an HTTP API custom domain, and their status', {timeout: 120_000}, async () => {
    const needed = await needs([
      ['deploy', '--apigw-domain', 'api.example.com', '--bucket', 'acme-truststores'],
      ['deploy', '--apigw-domain', 'http.example.com', '--bucket', 'acme-truststores', '--truststore-key', 'mtls-kit/http-truststore.pem'],
      ['status', '--apigw-domain', 'api.example.com', '--bucket', 'acme-truststores'],
    ]);
    show(needed);
    check('deploy-apigw', needed, {BUCKET: 'acme-truststores', DOMAIN_NAME: '*.example.com'});
  });

  it('deploy-cloudfront: create the trust store, set viewer mTLS, a second run, status, destroy', {timeout: 120_000}, async () => {
    const cf = ['--cloudfront-trust-store', 'acme-cf', '--bucket', 'acme-mtls', '--distribution', 'E1IAMDIST00001'];
    await run(['gen-ca', '--cn', 'CloudFront Other Root', '--dir', 'cf-other']);
    const needed = await needs([
      ['deploy', ...cf, '--dry-run'],
      ['deploy', ...cf],
      ['deploy', ...cf, '--ca-bundle', 'cf-other/ca-bundle.pem', '--viewer-mtls-mode', 'optional'],
      ['status', ...cf, '--ca-bundle', 'cf-other/ca-bundle.pem', '--viewer-mtls-mode', 'optional'],
      ['destroy', ...cf, '--yes'],
    ]);
    show(needed);
    check('deploy-cloudfront', needed, {BUCKET: 'acme-mtls', DISTRIBUTION_ID: 'E1IAMDIST00001'});
  });

  it('origin-cert-acm: import the CloudFront origin certificate into ACM, then re-import it', {timeout: 120_000}, async () => {
    let arn = '';
    const needed = await needs([
      async () => {
        const r = await run(['origin-cert', '--cn', 'cf-origin', '--out', 'cf-origin', '--acm-import', '--json']);
        arn = r.json.acm.certificateArn;
      },
      async () => void (await run(['origin-cert', '--cn', 'cf-origin', '--out', 'cf-origin', '--force', '--acm-import', '--certificate-arn', arn])),
    ]);
    show(needed);
    assert.deepEqual(
      needed.map((n) => n.action),
      ['acm:ImportCertificate', 'acm:ImportCertificate'],
    );
    check('origin-cert-acm', needed);
  });

  it('logs-s3: read connection logs from a bucket', {timeout: 120_000}, async () => {
    em.s3.putDirect('acme-logs', 'AWSLogs/111122223333/elasticloadbalancing/us-east-1/2026/12/07/conn.log', 'x');
    const needed = await needs([
      async () => {
        const r = await runCli(['logs', 's3://acme-logs/AWSLogs/111122223333/elasticloadbalancing/', '--json'], {cwd: work, env});
        assert.ok(r.code === 0 || r.code === 4, r.stderr);
      },
    ]);
    show(needed);
    check('logs-s3', needed, {LOG_BUCKET: 'acme-logs', LOG_PREFIX: 'AWSLogs/111122223333/elasticloadbalancing/'});
  });

  it('every policy file in docs/iam is checked here, and docs/iam.md links each', () => {
    const files = readdirSync(IAM_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort();
    assert.deepEqual(files, [
      'connection-logs.json',
      'deploy-alb.json',
      'deploy-apigw.json',
      'deploy-cloudfront.json',
      'deploy-nlb.json',
      'destroy.json',
      'logs-s3.json',
      'origin-cert-acm.json',
      'sse-kms.json',
      'status.json',
    ]);
    const md = readFileSync(new URL('../iam.md', IAM_DIR), 'utf8');
    for (const f of files) assert.ok(md.includes(`(iam/${f})`), `docs/iam.md links iam/${f}`);
  });
});

function show(needed: Needed[]): void {
  if (!process.env.MTLS_KIT_IAM_PRINT) return;
  const seen = new Set<string>();
  for (const n of needed) {
    const line = `${n.action} ${n.resource}  <- ${n.why.replace(/[0-9a-f]{16}/g, 'H')}`;
    if (!seen.has(line)) console.log(line);
    seen.add(line);
  }
}
