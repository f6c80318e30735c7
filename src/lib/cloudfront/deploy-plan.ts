/**
 * The decisions of `deploy --cloudfront-trust-store` / `status` / `destroy` (aws-reference
 * 11.1, 11.2): from what CloudFront and S3 hold and what the user asked, what to create,
 * update or leave. Pure: the calls are in src/flows/cloudfront-deploy.ts.
 *
 * CloudFront's GetTrustStore does not say which S3 object a trust store was made from
 * (aws-reference 11.1: the response has Id, Arn, Name, Status, NumberOfCaCertificates,
 * Reason, UseClientCertificateOCSPEndpoint), so deploy records the SHA-256 of the bundle it
 * loaded in an S3 object beside the bundle (`cloudfrontRecordKey`); without a record, or with
 * another digest, the trust store is updated.
 */

export type ViewerMtlsMode = 'required' | 'optional';
export const VIEWER_MTLS_MODES = ['required', 'optional'] as const;

/** A distribution's ViewerMtlsConfig as CloudFront returns it (null: viewer mTLS off). */
export interface ViewerMtls {
  mode: string;
  trustStoreId: string | null;
  advertiseTrustStoreCaNames: boolean;
  ignoreCertificateExpiry: boolean;
}

export interface CloudfrontRecord {
  trustStoreId: string;
  sha256: string;
  key: string;
}

export interface CloudfrontTrustStoreState {
  id: string;
  arn: string;
  status: string;
  numberOfCaCertificates: number;
  ocsp: boolean;
  etag: string;
  reason: string | null;
}

/** S3 key of the bundle: content-addressed, so an upload never replaces what a trust store was made from. */
export function cloudfrontBundleKey(prefix: string, sha256: string): string {
  return `${prefix}cloudfront/bundle-${sha256}.pem`;
}

/** S3 key of deploy's record of what it loaded into the trust store `name`. */
export function cloudfrontRecordKey(prefix: string, name: string): string {
  return `${prefix}cloudfront/${name}.deployed.json`;
}

/** CloudFront's trust store name rule is not documented (UNCONFIRMED, aws-reference 11.1); mtls-kit uses ALB's. */
export function checkCloudfrontTrustStoreName(name: string): string | null {
  if (name.length < 1 || name.length > 32) return 'must be 1 to 32 characters';
  if (!/^([a-zA-Z0-9]+-)*[a-zA-Z0-9]+$/.test(name)) return 'may hold only letters, digits and single hyphens, not at the start or end';
  return null;
}

export interface CloudfrontPlanInput {
  localSha256: string;
  bundleUploaded: boolean;
  trustStore: CloudfrontTrustStoreState | null;
  record: CloudfrontRecord | null;
  ocsp: boolean;
  wanted: {mode: ViewerMtlsMode; advertiseTrustStoreCaNames: boolean; ignoreCertificateExpiry: boolean};
  distributions: Array<{id: string; current: ViewerMtls | null}>;
}

export type TrustStoreAction = 'create' | 'update' | 'unchanged';

export interface CloudfrontPlan {
  upload: 'upload' | 'unchanged';
  trustStore: {action: TrustStoreAction; reason: string};
  distributions: Array<{id: string; action: 'update' | 'unchanged'; from: ViewerMtls | null; reason: string}>;
  changes: boolean;
}

/** The ViewerMtlsConfig deploy sets for a trust store id. */
export function wantedViewerMtls(w: CloudfrontPlanInput['wanted'], trustStoreId: string | null): ViewerMtls {
  return {mode: w.mode, trustStoreId, advertiseTrustStoreCaNames: w.advertiseTrustStoreCaNames, ignoreCertificateExpiry: w.ignoreCertificateExpiry};
}

export function sameViewerMtls(a: ViewerMtls | null, b: ViewerMtls | null): boolean {
  if (!a || !b) return a === b;
  return (
    a.mode === b.mode &&
    a.trustStoreId === b.trustStoreId &&
    a.advertiseTrustStoreCaNames === b.advertiseTrustStoreCaNames &&
    a.ignoreCertificateExpiry === b.ignoreCertificateExpiry
  );
}

export function planCloudfrontDeploy(i: CloudfrontPlanInput): CloudfrontPlan {
  const ts = i.trustStore;
  let trustStore: CloudfrontPlan['trustStore'];
  if (!ts) trustStore = {action: 'create', reason: 'no trust store of that name'};
  else if (!i.record || i.record.trustStoreId !== ts.id) trustStore = {action: 'update', reason: 'no mtls-kit record of the bundle it holds'};
  else if (i.record.sha256 !== i.localSha256) trustStore = {action: 'update', reason: 'the bundle changed'};
  else if (ts.ocsp !== i.ocsp) trustStore = {action: 'update', reason: `OCSP checking is ${ts.ocsp ? 'on' : 'off'}`};
  else if (ts.status === 'failed') trustStore = {action: 'update', reason: `the trust store failed${ts.reason ? ` (${ts.reason})` : ''}`};
  else trustStore = {action: 'unchanged', reason: 'holds this bundle'};
  const id = ts?.id ?? null;
  const distributions = i.distributions.map((d) => {
    const want = wantedViewerMtls(i.wanted, id);
    if (id && sameViewerMtls(d.current, want)) return {id: d.id, action: 'unchanged' as const, from: d.current, reason: 'viewer mTLS as asked'};
    const reason = !d.current
      ? 'viewer mTLS is off'
      : d.current.trustStoreId !== id
        ? `uses ${d.current.trustStoreId ? `trust store ${d.current.trustStoreId}` : 'no trust store'}`
        : 'other viewer mTLS settings';
    return {id: d.id, action: 'update' as const, from: d.current, reason};
  });
  const changes = !i.bundleUploaded || trustStore.action !== 'unchanged' || distributions.some((d) => d.action !== 'unchanged');
  return {upload: i.bundleUploaded ? 'unchanged' : 'upload', trustStore, distributions, changes};
}

export interface CloudfrontDeployResult {
  target: 'cloudfront';
  dryRun: boolean;
  changed: boolean;
  summary: string;
  bucket: string;
  bundle: {path: string; key: string; sha256: string; certificates: number; action: 'upload' | 'unchanged'};
  trustStore: {
    name: string;
    action: TrustStoreAction;
    reason: string;
    id: string | null;
    arn: string | null;
    status: string | null;
    numberOfCaCertificates: number | null;
    ocsp: boolean;
  };
  distributions: Array<{id: string; action: 'update' | 'unchanged'; reason: string; from: ViewerMtls | null; to: ViewerMtls}>;
}

export interface CloudfrontCheck {
  ok: boolean;
  detail: string;
  fix?: string;
}

export interface CloudfrontStatusResult {
  target: 'cloudfront';
  drift: boolean;
  bucket: string;
  trustStore: {name: string; id: string | null; arn: string | null; status: string | null; numberOfCaCertificates: number | null; ocsp: boolean | null};
  distributions: Array<{id: string; viewerMtls: ViewerMtls | null}>;
  checks: CloudfrontCheck[];
}

/** status: the checks from what deploy would do (a plan with changes is drift). */
export function cloudfrontChecks(plan: CloudfrontPlan, name: string, key: string): CloudfrontCheck[] {
  const rerun = 'mtls-kit deploy --cloudfront-trust-store ... (the same flags)';
  const out: CloudfrontCheck[] = [
    plan.upload === 'upload' ? {ok: false, detail: `the bundle is not in S3 at ${key}`, fix: rerun} : {ok: true, detail: `bundle in S3 at ${key}`},
    plan.trustStore.action === 'unchanged'
      ? {ok: true, detail: `trust store ${name} ${plan.trustStore.reason}`}
      : {ok: false, detail: `trust store ${name}: ${plan.trustStore.reason}`, fix: rerun},
  ];
  for (const d of plan.distributions)
    out.push(
      d.action === 'unchanged' ? {ok: true, detail: `distribution ${d.id}: ${d.reason}`} : {ok: false, detail: `distribution ${d.id}: ${d.reason}`, fix: rerun},
    );
  return out;
}

export interface CloudfrontDestroyResult {
  target: 'cloudfront';
  dryRun: boolean;
  changed: boolean;
  summary: string;
  trustStore: {name: string; id: string | null; action: 'delete' | 'absent'};
  distributions: Array<{id: string; action: 'turn-off' | 'unchanged'; reason: string}>;
  /** The deploy lease a killed or running deploy left (`<prefix>locks/cloudfront/<name>.json`), deleted by destroy; null when none. */
  lease: {key: string; uri: string} | null;
}
