/**
 * The AWS side of `deploy --apigw-domain` and `status --apigw-domain` (aws-reference 4.4):
 * finds whether the custom domain name belongs to REST APIs (`@aws-sdk/client-api-gateway`)
 * or HTTP APIs (`@aws-sdk/client-apigatewayv2`), lints the truststore for API Gateway,
 * uploads it as a new version of one S3 object, points the domain's mutual TLS at that
 * version (REST: UpdateDomainName patch operations; HTTP: UpdateDomainName
 * MutualTlsAuthentication), waits until the domain is AVAILABLE and turns truststore
 * warnings into an error naming each certificate. Decisions are in src/lib/apigw/deploy-plan.ts.
 */
import {createHash} from 'node:crypto';
import type {APIGatewayClient} from '@aws-sdk/client-api-gateway';
import type {ApiGatewayV2Client} from '@aws-sdk/client-apigatewayv2';
import {deployLintSummary, lintFiles} from '../lib/alb/lint.js';
import {
  type ApigwDeployResult,
  apigwDrift,
  type ApigwDomainState,
  type ApigwStatusResult,
  type ApiType,
  disableEndpointFix,
  domainProblem,
  type ExecuteApiEndpoint,
  nameWarnings,
  patchOperations,
  planApigwDeploy,
  type TruststoreObjectState,
  truststoreUri,
} from '../lib/apigw/deploy-plan.js';
import {ExitCode, MtlsKitError, preconditionError} from '../lib/errors.js';
import {readCertificates} from '../lib/x509/read-certs.js';
import {type OnProgress, report} from './progress.js';
import {
  type AwsCallContext,
  type AwsClients,
  type AwsParams,
  awsErrorCode,
  awsFailure,
  callAws,
  commonJs,
  createAwsClients,
  mapAwsError,
  sdkClientConfig,
} from '../io/aws/clients.js';
import {caPaths} from '../io/ca/directory.js';
import {pathExists, readInput} from '../io/files.js';
import {checkBucket, putObject} from '../io/aws/trust-store-read.js';
import {plural} from '../lib/plural.js';

export interface ApigwClients {
  aws: AwsClients;
  rest: APIGatewayClient;
  v2: ApiGatewayV2Client;
  restSdk: typeof import('@aws-sdk/client-api-gateway');
  v2Sdk: typeof import('@aws-sdk/client-apigatewayv2');
}

/**
 * S3 (and the region) as for the ALB path, plus both API Gateway clients with the same
 * configuration. Endpoints: --endpoint-url, else AWS_ENDPOINT_URL_API_GATEWAY /
 * AWS_ENDPOINT_URL_APIGATEWAYV2 / AWS_ENDPOINT_URL as the SDK reads them.
 */
export async function createApigwClients(p: AwsParams): Promise<ApigwClients> {
  const aws = await createAwsClients(p);
  const [restSdk, v2Sdk] = await Promise.all([import('@aws-sdk/client-api-gateway').then(commonJs), import('@aws-sdk/client-apigatewayv2').then(commonJs)]);
  const cfg = {...sdkClientConfig(p), region: aws.region};
  return {aws, rest: new restSdk.APIGatewayClient(cfg), v2: new v2Sdk.ApiGatewayV2Client(cfg), restSdk, v2Sdk};
}

/** API Gateway error codes → what to do (other codes: mapAwsError). */
async function callApigw<T>(ctx: AwsCallContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const {code, e, rid, make} = awsFailure(error, ctx);
    switch (code) {
      case 'NotFound':
        throw make('APIGW_NOT_FOUND', `${ctx.action} on ${ctx.resource ?? '?'}: ${e.message ?? 'not found'}`, ['check the name and --region']);
      case 'BadRequest':
        // aws-reference 4.4: an imported or Private CA server certificate needs ownershipVerificationCertificateArn.
        if (/ownership/i.test(e.message ?? ''))
          throw new MtlsKitError({
            code: 'APIGW_OWNERSHIP_CERTIFICATE_REQUIRED',
            message: `API Gateway refused mutual TLS on ${ctx.resource ?? '?'}: its server certificate is imported into ACM or issued by AWS Private CA, and the domain has no ownership verification certificate (${e.message ?? ''})${rid}`,
            suggestions: [
              `request a public ACM certificate for the domain name, then: aws apigateway update-domain-name --domain-name ${ctx.resource ?? '<domain>'} --patch-operations op=replace,path=/ownershipVerificationCertificateArn,value=<public-acm-certificate-arn>`,
              'then re-run this deploy (it is idempotent)',
            ],
            exitCode: ExitCode.Precondition,
            cause: error,
            details: {awsCode: code, action: ctx.action, ...(ctx.resource ? {resource: ctx.resource} : {})},
          });
        throw make('APIGW_BAD_REQUEST', `API Gateway refused ${ctx.action} on ${ctx.resource ?? '?'}: ${e.message ?? ''}`, [
          'API Gateway reads the truststore with your credentials: check that the S3 object and version exist and that you may s3:GetObject / s3:GetObjectVersion it',
          `check the file with: mtls-kit lint ${ctx.file ?? 'truststore.pem'} --target apigw`,
        ]);
      case 'Conflict':
        throw make('APIGW_CONFLICT', `API Gateway refused ${ctx.action} on ${ctx.resource ?? '?'}: ${e.message ?? 'conflict'}`, [
          'the domain is being changed by someone else, or is still UPDATING: re-run deploy in a minute (it is idempotent)',
        ]);
      case 'TooManyRequests':
        throw make('AWS_THROTTLED', `API Gateway kept throttling ${ctx.action}`, ['re-run later, or raise AWS_MAX_ATTEMPTS']);
      case 'LimitExceeded':
        throw make('APIGW_LIMIT_EXCEEDED', `API Gateway limit reached for ${ctx.action}: ${e.message ?? ''}`, ['see the API Gateway quotas of the account']);
      case 'Unauthorized':
        throw make('AWS_CREDENTIALS_INVALID', `API Gateway rejected the credentials for ${ctx.action}`, [
          'check AWS_PROFILE / --profile, or refresh expired session credentials',
        ]);
      default:
        throw mapAwsError(error, ctx);
    }
  }
}

const isNotFound = (error: unknown): boolean =>
  awsErrorCode(error) === 'NotFound' || (error as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode === 404;

/** callApigw for a read whose missing resource is an answer (null), not an error. */
async function readOrNull<T>(ctx: AwsCallContext, fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (error) {
    if (isNotFound(error)) return null;
    return callApigw(ctx, () => Promise.reject(error));
  }
}

interface DomainRead {
  state: ApigwDomainState;
  /** APIs mapped to the domain. */
  apiIds: string[];
}

async function readRestDomain(c: ApigwClients, name: string): Promise<DomainRead | null> {
  const d = await readOrNull({action: 'apigateway:GET /domainnames', resource: name}, () =>
    c.rest.send(new c.restSdk.GetDomainNameCommand({domainName: name})),
  );
  if (!d) return null;
  const maps = await callApigw({action: 'apigateway:GET /domainnames/basepathmappings', resource: name}, () =>
    c.rest.send(new c.restSdk.GetBasePathMappingsCommand({domainName: name, limit: 500})),
  );
  const m = d.mutualTlsAuthentication;
  return {
    state: {
      apiType: 'rest',
      name,
      status: d.domainNameStatus ?? 'AVAILABLE',
      endpointType: d.endpointConfiguration?.types?.[0] ?? null,
      securityPolicy: d.securityPolicy ?? null,
      ownershipVerificationCertificateArn: d.ownershipVerificationCertificateArn ?? null,
      truststoreUri: m?.truststoreUri || null,
      truststoreVersion: m?.truststoreVersion || null,
      warnings: m?.truststoreWarnings ?? [],
    },
    apiIds: [...new Set((maps.items ?? []).map((x) => x.restApiId).filter((x): x is string => Boolean(x)))],
  };
}

async function readHttpDomain(c: ApigwClients, name: string): Promise<DomainRead | null> {
  const d = await readOrNull({action: 'apigateway:GET /v2/domainnames', resource: name}, () => c.v2.send(new c.v2Sdk.GetDomainNameCommand({DomainName: name})));
  if (!d) return null;
  const maps = await callApigw({action: 'apigateway:GET /v2/domainnames/apimappings', resource: name}, () =>
    c.v2.send(new c.v2Sdk.GetApiMappingsCommand({DomainName: name, MaxResults: '500'})),
  );
  const conf = d.DomainNameConfigurations?.[0];
  const m = d.MutualTlsAuthentication;
  return {
    state: {
      apiType: 'http',
      name,
      status: conf?.DomainNameStatus ?? 'AVAILABLE',
      endpointType: conf?.EndpointType ?? null,
      securityPolicy: conf?.SecurityPolicy ?? null,
      ownershipVerificationCertificateArn: conf?.OwnershipVerificationCertificateArn ?? null,
      truststoreUri: m?.TruststoreUri || null,
      truststoreVersion: m?.TruststoreVersion || null,
      warnings: m?.TruststoreWarnings ?? [],
    },
    apiIds: [...new Set((maps.Items ?? []).map((x) => x.ApiId).filter((x): x is string => Boolean(x)))],
  };
}

/**
 * Reads the domain and decides who owns it: REST APIs when base path mappings point at REST
 * APIs, HTTP APIs when API mappings point at HTTP APIs; a domain with no mapping is read
 * through the REST API (custom domain names are shared by both APIs). `apiType` forces one.
 * @throws MtlsKitError APIGW_DOMAIN_NOT_FOUND (exit 5).
 */
export async function readApigwDomain(c: ApigwClients, name: string, apiType: ApiType | 'auto'): Promise<DomainRead> {
  const rest = apiType === 'http' ? null : await readRestDomain(c, name);
  if (rest && (apiType === 'rest' || rest.apiIds.length > 0)) return rest;
  const http = apiType === 'rest' ? null : await readHttpDomain(c, name);
  if (http && (apiType === 'http' || http.apiIds.length > 0 || !rest)) return http;
  if (rest) return rest;
  throw new MtlsKitError({
    code: 'APIGW_DOMAIN_NOT_FOUND',
    message: `custom domain name ${name} does not exist in ${c.aws.region}${apiType === 'auto' ? '' : ` (${apiType === 'rest' ? 'REST' : 'HTTP'} APIs)`}`,
    suggestions: ['create it first (a Regional custom domain with an ACM certificate), or check --apigw-domain and --region'],
    exitCode: ExitCode.Aws,
  });
}

/** Whether each mapped API still serves its default execute-api endpoint. */
async function readEndpoints(c: ApigwClients, d: DomainRead): Promise<ExecuteApiEndpoint[]> {
  const out: ExecuteApiEndpoint[] = [];
  for (const apiId of d.apiIds.slice(0, 50)) {
    if (d.state.apiType === 'rest') {
      const r = await callApigw({action: 'apigateway:GET /restapis', resource: apiId}, () => c.rest.send(new c.restSdk.GetRestApiCommand({restApiId: apiId})));
      out.push({apiId, enabled: !r.disableExecuteApiEndpoint});
    } else {
      const r = await callApigw({action: 'apigateway:GET /v2/apis', resource: apiId}, () => c.v2.send(new c.v2Sdk.GetApiCommand({ApiId: apiId})));
      out.push({apiId, enabled: !r.DisableExecuteApiEndpoint});
    }
  }
  return out;
}

/** Bucket versioning and the current version of the truststore object. */
async function readObject(c: ApigwClients, bucket: string, key: string): Promise<TruststoreObjectState> {
  const aws = c.aws;
  await checkBucket(aws, bucket);
  const v = await callAws({action: 's3:GetBucketVersioning', resource: `s3://${bucket}`}, () =>
    aws.s3.send(new aws.s3Sdk.GetBucketVersioningCommand({Bucket: bucket})),
  );
  const versioning = v.Status ?? null;
  try {
    const h = await aws.s3.send(new aws.s3Sdk.HeadObjectCommand({Bucket: bucket, Key: key}));
    let sha256 = h.Metadata?.['mtls-kit-sha256'] ?? null;
    if (!sha256) {
      // Not uploaded by mtls-kit: hash the content.
      const g = await callAws({action: 's3:GetObject', resource: `s3://${bucket}/${key}`}, () =>
        aws.s3.send(new aws.s3Sdk.GetObjectCommand({Bucket: bucket, Key: key})),
      );
      sha256 = createHash('sha256')
        .update(g.Body ? await g.Body.transformToByteArray() : new Uint8Array())
        .digest('hex');
    }
    return {versioning, exists: true, versionId: h.VersionId && h.VersionId !== 'null' ? h.VersionId : null, sha256};
  } catch (error) {
    if ((error as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode === 404) return {versioning, exists: false, versionId: null, sha256: null};
    throw mapAwsError(error, {action: 's3:GetObject', resource: `s3://${bucket}/${key}`});
  }
}

export interface ApigwDeployParams {
  clients: ApigwClients;
  dir: string;
  bundle: string | undefined;
  bucket: string;
  key: string;
  domain: string;
  apiType: ApiType | 'auto';
  dryRun: boolean;
  waitTimeoutMs: number;
  pollIntervalMs: number;
  now: Date;
  /** Warnings go here; none with --json. */
  onProgress?: OnProgress | undefined;
}

interface LocalTruststore {
  path: string;
  data: Uint8Array;
  sha256: string;
  lint: ApigwDeployResult['lint'];
}

/** Reads and lints the truststore for API Gateway (complete chains, 1,000 certificates, 1 MB). */
async function readLocal(p: {dir: string; bundle: string | undefined; now: Date; failOnLint: boolean}): Promise<LocalTruststore> {
  const path = p.bundle ?? caPaths(p.dir).bundle;
  if (!p.bundle && !(await pathExists(path)))
    throw preconditionError('BUNDLE_NOT_FOUND', `${path} does not exist`, [
      `create a CA first: mtls-kit gen-ca --dir ${p.dir}`,
      'or pass --ca-bundle truststore.pem',
    ]);
  const data = new Uint8Array(await readInput(path));
  const lint = lintFiles([{path, data, role: 'bundle'}], {target: 'apigw', now: p.now, warnDays: 7});
  const summary = deployLintSummary(lint);
  const {findings} = summary;
  if (lint.errors > 0 && p.failOnLint) {
    const errors = findings.filter((f) => f.severity === 'error');
    throw new MtlsKitError({
      code: 'LINT_FAILED',
      message: `${plural(errors.length, 'lint error')} in ${path} for API Gateway; nothing was uploaded`,
      suggestions: errors.map((f) => `${f.message} → ${f.fix}`),
      details: {findings},
    });
  }
  return {path, data, sha256: createHash('sha256').update(data).digest('hex'), lint: summary};
}

/** Polls GetDomainName until AVAILABLE. @throws APIGW_DOMAIN_NOT_AVAILABLE (exit 5) after the timeout. */
async function waitAvailable(c: ApigwClients, name: string, apiType: ApiType, timeoutMs: number, intervalMs: number): Promise<DomainRead> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await readApigwDomain(c, name, apiType);
    if (d.state.status === 'AVAILABLE') return d;
    if (Date.now() >= deadline) {
      throw new MtlsKitError({
        code: 'APIGW_DOMAIN_NOT_AVAILABLE',
        message: `custom domain ${name} is still ${d.state.status} after ${Math.round(timeoutMs / 1000)} s`,
        suggestions: ['re-run deploy later with a longer --wait-timeout (it is idempotent)'],
        exitCode: ExitCode.Aws,
      });
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Runs deploy for a custom domain name: lint, upload a new version when the content
 * changed, enable or update the domain's mutual TLS, wait until AVAILABLE, fail on warnings.
 * @throws MtlsKitError LINT_FAILED (4), S3_VERSIONING_OFF (4), APIGW_DOMAIN_UNSUITABLE (4),
 *   APIGW_DOMAIN_NOT_FOUND / APIGW_BAD_REQUEST / TRUSTSTORE_WARNINGS / ... (5).
 */
export async function runApigwDeploy(p: ApigwDeployParams): Promise<ApigwDeployResult> {
  const c = p.clients;
  const local = await readLocal({dir: p.dir, bundle: p.bundle, now: p.now, failOnLint: true});
  for (const f of local.lint.findings.filter((x) => x.severity === 'warning'))
    report(p.onProgress, {kind: 'warning', text: `${f.file}: ${f.message} (${f.fix})`});
  const read = await readApigwDomain(c, p.domain, p.apiType);
  const problem = domainProblem(read.state);
  if (problem) throw preconditionError('APIGW_DOMAIN_UNSUITABLE', problem.message, [problem.fix]);
  const object = await readObject(c, p.bucket, p.key);
  // API Gateway pins a truststoreVersion only in a versioned bucket (aws-reference 4.4).
  if (object.versioning !== 'Enabled') {
    throw preconditionError('S3_VERSIONING_OFF', `bucket ${p.bucket} does not have versioning enabled; API Gateway needs a truststore object version`, [
      `aws s3api put-bucket-versioning --bucket ${p.bucket} --versioning-configuration Status=Enabled`,
    ]);
  }
  const plan = planApigwDeploy({bucket: p.bucket, key: p.key, sha256: local.sha256, object, domain: read.state});
  let version = plan.domain.to.truststoreVersion;
  if (!p.dryRun && plan.upload.action === 'upload') {
    version = (await putObject(c.aws, p.bucket, p.key, local.data, local.sha256)) ?? null;
    if (!version)
      throw new MtlsKitError({
        code: 'S3_NO_VERSION',
        message: `S3 returned no version id for s3://${p.bucket}/${p.key}`,
        suggestions: [`check that versioning is enabled on ${p.bucket}`],
        exitCode: ExitCode.Aws,
      });
  }
  const to = {truststoreUri: plan.domain.to.truststoreUri, truststoreVersion: version};
  const ops = plan.domain.action === 'unchanged' && plan.upload.action === 'unchanged' ? [] : patchOperations(plan.domain.from, to);
  const domainAction = plan.upload.action === 'upload' && plan.domain.action === 'unchanged' ? 'update' : plan.domain.action;
  let after = read;
  if (!p.dryRun && domainAction !== 'unchanged') {
    const ctx = {action: 'apigateway:PATCH /domainnames', resource: p.domain, file: local.path};
    if (read.state.apiType === 'rest') {
      await callApigw(ctx, () => c.rest.send(new c.restSdk.UpdateDomainNameCommand({domainName: p.domain, patchOperations: ops})));
    } else {
      await callApigw({...ctx, action: 'apigateway:PATCH /v2/domainnames'}, () =>
        c.v2.send(
          new c.v2Sdk.UpdateDomainNameCommand({
            DomainName: p.domain,
            MutualTlsAuthentication: {TruststoreUri: to.truststoreUri, ...(to.truststoreVersion ? {TruststoreVersion: to.truststoreVersion} : {})},
          }),
        ),
      );
    }
  }
  if (!p.dryRun) after = await waitAvailable(c, p.domain, read.state.apiType, p.waitTimeoutMs, p.pollIntervalMs);
  const endpoints = await readEndpoints(c, after);
  const warnings = nameWarnings(after.state.warnings, readCertificates(local.data, local.path));
  const changed = plan.upload.action === 'upload' || domainAction !== 'unchanged';
  const verb = (done: string, planned: string): string => (p.dryRun ? planned : done);
  const parts: string[] = [];
  if (plan.upload.action === 'upload') parts.push(verb('uploaded a new truststore version', 'upload a new truststore version'));
  if (domainAction === 'enable') parts.push(verb(`turned on mutual TLS on ${p.domain}`, `turn on mutual TLS on ${p.domain}`));
  else if (domainAction === 'update') parts.push(verb(`pointed ${p.domain} at version ${version}`, `point ${p.domain} at the new version`));
  const result: ApigwDeployResult = {
    target: 'apigw',
    dryRun: p.dryRun,
    region: c.aws.region,
    bucket: p.bucket,
    changed,
    summary: changed ? (p.dryRun ? 'would ' : '') + parts.join(', ') : 'unchanged',
    lint: local.lint,
    truststore: {
      path: local.path,
      key: p.key,
      uri: truststoreUri(p.bucket, p.key),
      action: plan.upload.action,
      versionId: version,
      certificates: readCertificates(local.data, local.path).length,
    },
    domain: {
      name: p.domain,
      apiType: read.state.apiType,
      action: domainAction,
      reason: plan.domain.reason,
      status: after.state.status,
      truststoreUri: to.truststoreUri,
      truststoreVersion: p.dryRun ? version : after.state.truststoreVersion,
      previous: plan.domain.from,
      patchOperations: read.state.apiType === 'rest' ? ops : [],
    },
    warnings,
    executeApiEndpoints: endpoints,
  };
  for (const e of endpoints.filter((x) => x.enabled))
    report(p.onProgress, {
      kind: 'warning',
      text: `API ${e.apiId} still has its default execute-api endpoint enabled: clients can reach it without a certificate (${disableEndpointFix(read.state.apiType, e.apiId)})`,
    });
  // API Gateway keeps mutual TLS on with warnings, but the certificates named are not trusted (aws-reference 4.4).
  if (warnings.length > 0 && !p.dryRun) {
    throw new MtlsKitError({
      code: 'TRUSTSTORE_WARNINGS',
      message: `API Gateway reported ${plural(warnings.length, 'truststore warning')} on ${p.domain}: ${warnings.map((w) => (w.certificate ? `${w.certificate}: ${w.warning}` : w.warning)).join('; ')}`,
      suggestions: [
        'clients whose chain needs those certificates will fail the handshake',
        `fix or remove them (mtls-kit lint ${local.path} --target apigw), then run deploy again to upload a new version`,
      ],
      exitCode: ExitCode.Aws,
      details: {result},
    });
  }
  return result;
}

export interface ApigwStatusParams {
  clients: ApigwClients;
  dir: string;
  bundle: string | undefined;
  bucket: string;
  key: string;
  domain: string;
  apiType: ApiType | 'auto';
  now: Date;
}

/** Compares the local truststore, the S3 object version and the domain's truststore (read calls only). */
export async function runApigwStatus(p: ApigwStatusParams): Promise<ApigwStatusResult> {
  const c = p.clients;
  const local = await readLocal({dir: p.dir, bundle: p.bundle, now: p.now, failOnLint: false});
  const read = await readApigwDomain(c, p.domain, p.apiType);
  const object = await readObject(c, p.bucket, p.key);
  const endpoints = await readEndpoints(c, read);
  const checks = apigwDrift({bucket: p.bucket, key: p.key, localPath: local.path, sha256: local.sha256, object, domain: read.state, endpoints});
  return {
    target: 'apigw',
    drift: checks.some((x) => !x.ok && x.severity === 'drift'),
    region: c.aws.region,
    bucket: p.bucket,
    truststore: {path: local.path, uri: truststoreUri(p.bucket, p.key), versionId: object.versionId, versioning: object.versioning},
    domain: {
      name: p.domain,
      apiType: read.state.apiType,
      status: read.state.status,
      truststoreUri: read.state.truststoreUri,
      truststoreVersion: read.state.truststoreVersion,
    },
    warnings: nameWarnings(read.state.warnings, readCertificates(local.data, local.path)),
    executeApiEndpoints: endpoints,
    checks,
  };
}
