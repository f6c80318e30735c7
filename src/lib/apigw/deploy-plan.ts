/**
 * The decisions of `deploy --apigw-domain` and `status --apigw-domain` (aws-reference 4.4):
 * whether the truststore needs a new S3 object version, which change the custom domain
 * needs (REST: patch operations on /mutualTlsAuthentication/truststoreUri and
 * /truststoreVersion; HTTP APIs: the MutualTlsAuthentication of UpdateDomainName), what
 * stops a deploy before any call (edge-optimized domain, security policy other than
 * TLS 1.2, unversioned bucket), drift, and which local certificate each truststore
 * warning concerns. Pure: the remote state comes in as values.
 */
import type {DeployLintSummary} from '../alb/lint.js';
import type {ParsedCertificate} from '../x509/cert.js';
import {formatApigwDn, formatRfc2253} from '../x509/dn.js';
import {plural} from '../plural.js';

export type ApiType = 'rest' | 'http';

/** What a custom domain name holds (from GetDomainName, REST or apigatewayv2). */
export interface ApigwDomainState {
  apiType: ApiType;
  name: string;
  /** AVAILABLE, UPDATING, PENDING, ... (REST domainNameStatus; HTTP the first configuration's). */
  status: string;
  /** REGIONAL, EDGE or PRIVATE. */
  endpointType: string | null;
  securityPolicy: string | null;
  /** The public ACM certificate that proves domain ownership; needed for mutual TLS with an imported or Private CA server certificate (aws-reference 4.4). */
  ownershipVerificationCertificateArn?: string | null;
  truststoreUri: string | null;
  truststoreVersion: string | null;
  warnings: string[];
}

/** The truststore object in S3. */
export interface TruststoreObjectState {
  /** Bucket versioning: Enabled, Suspended, or null when never enabled. */
  versioning: string | null;
  exists: boolean;
  /** The current version. */
  versionId: string | null;
  /** SHA-256 of its content (from the object metadata deploy writes, or computed). */
  sha256: string | null;
}

export interface PatchOperation {
  op: 'replace';
  path: '/mutualTlsAuthentication/truststoreUri' | '/mutualTlsAuthentication/truststoreVersion';
  value: string;
}

export interface ApigwPlan {
  upload: {action: 'upload' | 'unchanged'; reason: string};
  domain: {
    action: 'enable' | 'update' | 'unchanged';
    reason: string;
    from: {truststoreUri: string | null; truststoreVersion: string | null};
    /** The version is null in a dry run that would upload (S3 assigns it). */
    to: {truststoreUri: string; truststoreVersion: string | null};
  };
  changes: boolean;
}

/** API Gateway's enhanced security policies (`SecurityPolicy_TLS13_1_3_2025_09`, ...) start with this (aws-reference 4.4). */
export const ENHANCED_POLICY_PREFIX = 'SecurityPolicy_';

/** `s3://bucket/key`, the truststoreUri form (aws-reference 4.4). */
export const truststoreUri = (bucket: string, key: string): string => `s3://${bucket}/${key}`;

/**
 * Why API Gateway cannot take mutual TLS on this domain, or null (aws-reference 4.4: REST
 * APIs need a Regional domain with the TLS_1_2 security policy; private APIs are not supported).
 */
export function domainProblem(d: ApigwDomainState): {message: string; fix: string} | null {
  if (d.endpointType && d.endpointType !== 'REGIONAL') {
    return {
      message: `custom domain ${d.name} is ${d.endpointType}; mutual TLS needs a Regional custom domain name`,
      fix: `create a Regional custom domain name (aws apigateway create-domain-name --domain-name ${d.name} --endpoint-configuration types=REGIONAL --security-policy TLS_1_2 --regional-certificate-arn <acm-arn>)`,
    };
  }
  // aws-reference 4.4: "You can't enable mutual TLS on a domain name that uses an enhanced security policy" (SecurityPolicy_*).
  if (d.securityPolicy?.startsWith(ENHANCED_POLICY_PREFIX)) {
    return {
      message: `custom domain ${d.name} uses the enhanced security policy ${d.securityPolicy}; API Gateway cannot turn on mutual TLS on a domain with an enhanced (${ENHANCED_POLICY_PREFIX}*) policy, only with the legacy TLS_1_2 policy`,
      fix: `aws apigateway update-domain-name --domain-name ${d.name} --patch-operations op=replace,path=/securityPolicy,value=TLS_1_2 (or use another custom domain name for the mutual TLS clients)`,
    };
  }
  if (d.apiType === 'rest' && d.securityPolicy && d.securityPolicy !== 'TLS_1_2') {
    return {
      message: `custom domain ${d.name} uses security policy ${d.securityPolicy}; mutual TLS needs TLS_1_2`,
      fix: `aws apigateway update-domain-name --domain-name ${d.name} --patch-operations op=replace,path=/securityPolicy,value=TLS_1_2`,
    };
  }
  return null;
}

/**
 * Plans the deploy. With an upload the new version is only known after PutObject, so
 * `to.truststoreVersion` is null and `patchOperations` are computed again with it.
 */
export function planApigwDeploy(p: {bucket: string; key: string; sha256: string; object: TruststoreObjectState; domain: ApigwDomainState}): ApigwPlan {
  const uri = truststoreUri(p.bucket, p.key);
  const same = p.object.exists && p.object.sha256 === p.sha256 && p.object.versionId !== null;
  const upload: ApigwPlan['upload'] = same
    ? {action: 'unchanged', reason: `s3://${p.bucket}/${p.key} version ${p.object.versionId} already holds this truststore`}
    : {action: 'upload', reason: p.object.exists ? 'the current S3 version holds a different truststore' : 'the object does not exist yet'};
  const version = same ? p.object.versionId : null;
  const from = {truststoreUri: p.domain.truststoreUri, truststoreVersion: p.domain.truststoreVersion};
  let action: ApigwPlan['domain']['action'];
  let reason: string;
  if (!p.domain.truststoreUri) {
    action = 'enable';
    reason = 'mutual TLS is off on the domain';
  } else if (p.domain.truststoreUri !== uri) {
    action = 'update';
    reason = `the domain uses ${p.domain.truststoreUri}`;
  } else if (version === null || p.domain.truststoreVersion !== version) {
    action = 'update';
    reason = `the domain uses version ${p.domain.truststoreVersion ?? '(none)'}`;
  } else {
    action = 'unchanged';
    reason = `the domain already uses ${uri} version ${version}`;
  }
  return {
    upload,
    domain: {action, reason, from, to: {truststoreUri: uri, truststoreVersion: version}},
    changes: upload.action === 'upload' || action !== 'unchanged',
  };
}

/** REST API patch operations from the current settings to the target (aws-reference 4.4: update truststoreVersion; a new URI too when it differs). */
export function patchOperations(from: ApigwPlan['domain']['from'], to: {truststoreUri: string; truststoreVersion: string | null}): PatchOperation[] {
  const ops: PatchOperation[] = [];
  if (from.truststoreUri !== to.truststoreUri) ops.push({op: 'replace', path: '/mutualTlsAuthentication/truststoreUri', value: to.truststoreUri});
  if (to.truststoreVersion !== null && (from.truststoreVersion !== to.truststoreVersion || ops.length > 0))
    ops.push({op: 'replace', path: '/mutualTlsAuthentication/truststoreVersion', value: to.truststoreVersion});
  return ops;
}

/** A truststore warning with the local certificate it names (matched by DN or serial), if any. */
export interface NamedWarning {
  warning: string;
  /** The certificate's subject (RFC 2253), or null when the warning names none we know. */
  certificate: string | null;
}

/**
 * Names the certificate behind each warning. AWS documents the warnings as a list of
 * strings without a format (UNCONFIRMED, aws-reference 4.4), so a certificate matches when
 * its subject (in API Gateway's or RFC 2253 order, or just its CN) or its serial
 * (decimal or hex) appears in the text.
 */
export function nameWarnings(warnings: string[], certs: ParsedCertificate[]): NamedWarning[] {
  const keys = certs.map((c) => {
    const names: string[] = [];
    for (const f of [formatApigwDn, formatRfc2253]) {
      try {
        names.push(f(c.subject));
      } catch {
        /* unreadable name */
      }
    }
    const cn = /(?:^|,)CN=((?:[^,\\]|\\.)+)/.exec(names[1] ?? '')?.[1];
    const serialHex = c.serialHex.replace(/^0+(?=.)/, '').toLowerCase();
    return {subject: names[1] ?? names[0] ?? '(unreadable name)', names, cn, serials: [serialHex, BigInt('0x' + (c.serialHex || '0')).toString(10)]};
  });
  return warnings.map((w) => {
    const lower = w.toLowerCase();
    const hit =
      keys.find((k) => k.names.some((n) => n && w.includes(n))) ??
      keys.find((k) => k.cn && w.includes(k.cn)) ??
      keys.find((k) => k.serials.some((s) => s.length >= 2 && new RegExp(`(^|[^0-9a-f])${s}([^0-9a-f]|$)`).test(lower)));
    return {warning: w, certificate: hit?.subject ?? null};
  });
}

export interface ApigwDriftCheck {
  name: 'truststore-object' | 'domain-truststore' | 'truststore-warnings' | 'execute-api-endpoint' | 'domain-status';
  ok: boolean;
  severity: 'drift' | 'warning';
  detail: string;
  fix?: string;
}

/** A mapped API whose default execute-api endpoint is (or is not) disabled. */
export interface ExecuteApiEndpoint {
  apiId: string;
  enabled: boolean;
}

/**
 * The status checks: local file vs the S3 object's current version, that version vs the
 * domain's truststoreUri/truststoreVersion, warnings, the domain status, and mapped APIs
 * whose default execute-api endpoint still lets clients around mutual TLS (aws-reference 4.4).
 */
export function apigwDrift(p: {
  bucket: string;
  key: string;
  localPath: string;
  sha256: string;
  object: TruststoreObjectState;
  domain: ApigwDomainState;
  endpoints: ExecuteApiEndpoint[];
}): ApigwDriftCheck[] {
  const uri = truststoreUri(p.bucket, p.key);
  const checks: ApigwDriftCheck[] = [];
  if (!p.object.exists)
    checks.push({
      name: 'truststore-object',
      ok: false,
      severity: 'drift',
      detail: `${uri} does not exist`,
      fix: `mtls-kit deploy --apigw-domain ${p.domain.name}`,
    });
  else if (p.object.sha256 !== p.sha256)
    checks.push({
      name: 'truststore-object',
      ok: false,
      severity: 'drift',
      detail: `${p.localPath} differs from ${uri} version ${p.object.versionId ?? '(unversioned)'}`,
      fix: `mtls-kit deploy --apigw-domain ${p.domain.name} uploads a new version`,
    });
  else
    checks.push({name: 'truststore-object', ok: true, severity: 'drift', detail: `${p.localPath} = ${uri} version ${p.object.versionId ?? '(unversioned)'}`});

  if (!p.domain.truststoreUri)
    checks.push({
      name: 'domain-truststore',
      ok: false,
      severity: 'drift',
      detail: `mutual TLS is off on ${p.domain.name}`,
      fix: `mtls-kit deploy --apigw-domain ${p.domain.name}`,
    });
  else if (p.domain.truststoreUri !== uri)
    checks.push({
      name: 'domain-truststore',
      ok: false,
      severity: 'drift',
      detail: `${p.domain.name} uses ${p.domain.truststoreUri}, not ${uri}`,
      fix: `mtls-kit deploy --apigw-domain ${p.domain.name}`,
    });
  else if (p.object.exists && p.domain.truststoreVersion !== p.object.versionId) {
    checks.push({
      name: 'domain-truststore',
      ok: false,
      severity: 'drift',
      detail: `${p.domain.name} uses version ${p.domain.truststoreVersion ?? '(none)'} of ${uri}; the current version is ${p.object.versionId}`,
      fix: `mtls-kit deploy --apigw-domain ${p.domain.name}`,
    });
  } else
    checks.push({
      name: 'domain-truststore',
      ok: true,
      severity: 'drift',
      detail: `${p.domain.name} uses ${uri} version ${p.domain.truststoreVersion ?? '(none)'}`,
    });

  if (p.domain.warnings.length > 0) {
    checks.push({
      name: 'truststore-warnings',
      ok: false,
      severity: 'drift',
      detail: `${plural(p.domain.warnings.length, 'truststore warning')}: ${p.domain.warnings.join('; ')}`,
      fix: 'fix or remove those certificates (mtls-kit lint --target apigw), then deploy a new version',
    });
  }
  if (p.domain.status !== 'AVAILABLE') checks.push({name: 'domain-status', ok: false, severity: 'warning', detail: `${p.domain.name} is ${p.domain.status}`});
  for (const e of p.endpoints.filter((x) => x.enabled)) {
    checks.push({
      name: 'execute-api-endpoint',
      ok: false,
      severity: 'warning',
      detail: `API ${e.apiId} still has its default execute-api endpoint enabled: clients can call it without a certificate`,
      fix: disableEndpointFix(p.domain.apiType, e.apiId),
    });
  }
  return checks;
}

/** The command that disables an API's default endpoint. */
export function disableEndpointFix(apiType: ApiType, apiId: string): string {
  return apiType === 'rest'
    ? `aws apigateway update-rest-api --rest-api-id ${apiId} --patch-operations op=replace,path=/disableExecuteApiEndpoint,value='True', then redeploy the stage`
    : `aws apigatewayv2 update-api --api-id ${apiId} --disable-execute-api-endpoint`;
}

/** `deploy --apigw-domain --json` (README "JSON output"). */
export interface ApigwDeployResult {
  target: 'apigw';
  dryRun: boolean;
  region: string;
  bucket: string;
  changed: boolean;
  summary: string;
  lint: DeployLintSummary;
  truststore: {path: string; key: string; uri: string; action: 'upload' | 'unchanged'; versionId: string | null; certificates: number};
  domain: {
    name: string;
    apiType: ApiType;
    action: 'enable' | 'update' | 'unchanged';
    reason: string;
    status: string;
    truststoreUri: string;
    truststoreVersion: string | null;
    previous: {truststoreUri: string | null; truststoreVersion: string | null};
    /** REST APIs: the UpdateDomainName patch operations (sent, or planned with --dry-run). */
    patchOperations: PatchOperation[];
  };
  warnings: NamedWarning[];
  executeApiEndpoints: ExecuteApiEndpoint[];
}

/** `status --apigw-domain --json`. */
export interface ApigwStatusResult {
  target: 'apigw';
  drift: boolean;
  region: string;
  bucket: string;
  truststore: {path: string; uri: string; versionId: string | null; versioning: string | null};
  domain: {name: string; apiType: ApiType; status: string; truststoreUri: string | null; truststoreVersion: string | null};
  warnings: NamedWarning[];
  executeApiEndpoints: ExecuteApiEndpoint[];
  checks: ApigwDriftCheck[];
}
