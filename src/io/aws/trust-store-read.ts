/**
 * The AWS side of deploy and status: read what S3, the trust store and the listener hold,
 * and make the mutating calls. Every call goes through callAws (error mapping, request id).
 * Paginated reads are bounded (at most 50 pages).
 */
import {readCertificates} from '../../lib/x509/read-certs.js';
import {type CrlSummary, summarizeCrl} from '../../lib/deploy/crl-summary.js';
import {briefCertificates, type CertBrief} from '../../lib/deploy/review.js';
import {loadCrl} from '../../lib/x509/crl.js';
import {BUNDLE_RECORD_KEY, bundleDigest, CRL_RECORD_PREFIX, decodeBundleRecord, decodeCrlRecord, type Tag} from '../../lib/deploy/record.js';
import type {WireIdentityFilter} from './nlb-filters-wire.js';
import {parseIdentityFilter} from '../../lib/nlb/identity-filter.js';
import type {MutualAuthentication, MutualMode, RemoteListener, RemoteObject, RemoteRevocation, RemoteTrustStore} from '../../lib/deploy/plan.js';
import {ExitCode, MtlsKitError} from '../../lib/errors.js';
import {type AwsClients, awsErrorCode, callAws, fetchLocation, fetchLocationEtag, mapAwsError} from './clients.js';

const MAX_PAGES = 50;

/** The SHA-256 fingerprint (upper-case colon hex, lib/x509/fingerprint.ts) of each certificate in a bundle: the identity deploy compares. */
export function bundleFingerprints(data: Uint8Array, source: string): string[] {
  return readCertificates(data, source).map((c) => c.sha256Fingerprint);
}

/**
 * Checks the bucket exists and is reachable (HeadObject alone cannot tell a missing
 * bucket from a missing key: both are 404).
 */
export async function checkBucket(aws: AwsClients, bucket: string, expectedBucketOwner?: string): Promise<void> {
  try {
    await aws.s3.send(new aws.s3Sdk.HeadBucketCommand({Bucket: bucket, ...owner(expectedBucketOwner)}));
  } catch (error) {
    const status = (error as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode;
    const code = status === 404 ? 'NoSuchBucket' : status === 403 ? 'AccessDenied' : undefined;
    throw mapAwsError(code ? Object.assign(error as object, {name: code}) : error, {action: 's3:ListBucket', resource: `s3://${bucket}`});
  }
}

/** HeadObject for each key: whether it exists, its ETag and VersionId. */
export async function statObjects(aws: AwsClients, bucket: string, keys: string[], expectedBucketOwner?: string): Promise<RemoteObject[]> {
  const out: RemoteObject[] = [];
  for (const key of keys) {
    try {
      const h = await aws.s3.send(new aws.s3Sdk.HeadObjectCommand({Bucket: bucket, Key: key, ...owner(expectedBucketOwner)}));
      out.push({
        key,
        exists: true,
        ...(h.ETag ? {etag: h.ETag.replace(/"/g, '')} : {}),
        ...(h.VersionId && h.VersionId !== 'null' ? {versionId: h.VersionId} : {}),
      });
    } catch (error) {
      const status = (error as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode;
      if (status === 404) out.push({key, exists: false});
      else throw mapAwsError(error, {action: 's3:GetObject', resource: `s3://${bucket}/${key}`});
    }
  }
  return out;
}

/** ExpectedBucketOwner, when set: S3 answers 403 when another account owns the bucket. */
function owner(expectedBucketOwner: string | undefined): {ExpectedBucketOwner?: string} {
  return expectedBucketOwner ? {ExpectedBucketOwner: expectedBucketOwner} : {};
}

export interface PutOptions {
  sse?: 'aws:kms' | 'AES256';
  kmsKeyId?: string;
  expectedBucketOwner?: string;
  tags?: Tag[];
}

/** Uploads one object; returns its VersionId when the bucket is versioned. */
export async function putObject(
  aws: AwsClients,
  bucket: string,
  key: string,
  data: Uint8Array,
  sha256: string,
  o: PutOptions = {},
): Promise<string | undefined> {
  // Object tags travel as one URL-encoded header (x-amz-tagging).
  const tagging = o.tags?.length ? new URLSearchParams(o.tags.map((t) => [t.key, t.value])).toString() : undefined;
  const r = await callAws({action: 's3:PutObject', resource: `s3://${bucket}/${key}`}, () =>
    aws.s3.send(
      new aws.s3Sdk.PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: data,
        ContentType: 'application/x-pem-file',
        Metadata: {'mtls-kit-sha256': sha256},
        ...(o.sse ? {ServerSideEncryption: o.sse} : {}),
        ...(o.sse === 'aws:kms' && o.kmsKeyId ? {SSEKMSKeyId: o.kmsKeyId} : {}),
        ...(tagging ? {Tagging: tagging} : {}),
        ...owner(o.expectedBucketOwner),
      }),
    ),
  );
  return r.VersionId && r.VersionId !== 'null' ? r.VersionId : undefined;
}

/**
 * Reads one byte of an object with the caller's credentials: with SSE-KMS this needs
 * kms:Decrypt on the key, which ELBv2 also needs when it reads the bundle and CRLs for the
 * caller (CreateTrustStore, ModifyTrustStore, AddTrustStoreRevocations).
 * @throws MtlsKitError KMS_DECRYPT_DENIED (exit 5) with what to grant.
 */
export async function checkKmsReadable(aws: AwsClients, bucket: string, key: string, kmsKeyId: string, expectedBucketOwner?: string): Promise<void> {
  try {
    const r = await aws.s3.send(new aws.s3Sdk.GetObjectCommand({Bucket: bucket, Key: key, Range: 'bytes=0-0', ...owner(expectedBucketOwner)}));
    await r.Body?.transformToByteArray();
  } catch (error) {
    const code = awsErrorCode(error);
    if (code === 'AccessDenied' || code === 'KMS.AccessDeniedException' || /kms/i.test(String((error as Error).message))) {
      throw new MtlsKitError({
        code: 'KMS_DECRYPT_DENIED',
        message: `s3://${bucket}/${key} is encrypted with KMS key ${kmsKeyId}, and these credentials cannot read it back (${code})`,
        suggestions: kmsExplanation(kmsKeyId, aws.region),
        exitCode: ExitCode.Aws,
        cause: error,
      });
    }
    throw mapAwsError(error, {action: 's3:GetObject', resource: `s3://${bucket}/${key}`});
  }
}

/** What the load balancer service needs to read SSE-KMS objects (shown at plan time and on failure). */
export function kmsExplanation(kmsKeyId: string, region: string): string[] {
  return [
    `ELBv2 reads the bundle and CRLs from S3 with the credentials that call CreateTrustStore, ModifyTrustStore and AddTrustStoreRevocations, so those credentials need kms:Decrypt on ${kmsKeyId}`,
    `allow it in the key policy (or an IAM policy the key policy delegates to), for example with the condition kms:ViaService = s3.${region}.amazonaws.com`,
    'an AWS managed key (aws/s3) cannot be shared across accounts; use a customer managed key when the trust store is in another account',
  ];
}

/** Reads an S3 object (status compares it with the local file); undefined when missing. */
export async function getObject(aws: AwsClients, bucket: string, key: string): Promise<Uint8Array | undefined> {
  try {
    const r = await aws.s3.send(new aws.s3Sdk.GetObjectCommand({Bucket: bucket, Key: key}));
    return r.Body ? await r.Body.transformToByteArray() : new Uint8Array();
  } catch (error) {
    if (awsErrorCode(error) === 'NoSuchKey') return undefined;
    throw mapAwsError(error, {action: 's3:GetObject', resource: `s3://${bucket}/${key}`});
  }
}

export interface TrustStoreSummary {
  arn: string;
  name: string;
  status: string;
  numberOfCaCertificates: number;
  totalRevokedEntries: number;
}

/** DescribeTrustStores by name; null when there is none (AWS answers TrustStoreNotFound). */
export async function describeTrustStore(aws: AwsClients, name: string): Promise<TrustStoreSummary | null> {
  try {
    const r = await aws.elbv2.send(new aws.elbv2Sdk.DescribeTrustStoresCommand({Names: [name]}));
    const t = r.TrustStores?.find((x) => x.Name === name);
    return t ? toSummary(t) : null;
  } catch (error) {
    if (awsErrorCode(error) === 'TrustStoreNotFound') return null;
    throw mapAwsError(error, {action: 'elasticloadbalancing:DescribeTrustStores', resource: name});
  }
}

function toSummary(t: {
  TrustStoreArn?: string | undefined;
  Name?: string | undefined;
  Status?: string | undefined;
  NumberOfCaCertificates?: number | undefined;
  TotalRevokedEntries?: number | undefined;
}): TrustStoreSummary {
  return {
    arn: t.TrustStoreArn ?? '',
    name: t.Name ?? '',
    status: t.Status ?? 'UNKNOWN',
    numberOfCaCertificates: t.NumberOfCaCertificates ?? 0,
    totalRevokedEntries: t.TotalRevokedEntries ?? 0,
  };
}

/** The bundle the trust store holds (its own copy), via GetTrustStoreCaCertificatesBundle. */
export async function readHeldBundle(aws: AwsClients, arn: string): Promise<Uint8Array> {
  return fetchLocation(await bundleLocation(aws, arn), `the CA bundle of ${arn}`);
}

/** A revocation list as read: its full summary when downloaded. */
export interface HeldRevocation {
  revocationId: number;
  entries: number;
  summary: CrlSummary | null;
  content?: Uint8Array;
}

/** Every revocation list of a trust store (paginated), with the CRL it holds when readable. */
export async function readHeldRevocations(
  aws: AwsClients,
  arn: string,
  withContent: boolean | ((id: number, entries: number) => boolean),
): Promise<HeldRevocation[]> {
  const out: HeldRevocation[] = [];
  let marker: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const r = await callAws({action: 'elasticloadbalancing:DescribeTrustStoreRevocations', resource: arn}, () =>
      aws.elbv2.send(new aws.elbv2Sdk.DescribeTrustStoreRevocationsCommand({TrustStoreArn: arn, ...(marker ? {Marker: marker} : {})})),
    );
    for (const rev of r.TrustStoreRevocations ?? [])
      out.push({revocationId: Number(rev.RevocationId), entries: Number(rev.NumberOfRevokedEntries ?? 0), summary: null});
    marker = r.NextMarker;
    if (!marker) break;
  }
  if (withContent) {
    for (const rev of out) {
      if (typeof withContent === 'function' && !withContent(rev.revocationId, rev.entries)) continue;
      const g = await callAws({action: 'elasticloadbalancing:GetTrustStoreRevocationContent', resource: `${arn} revocation ${rev.revocationId}`}, () =>
        aws.elbv2.send(new aws.elbv2Sdk.GetTrustStoreRevocationContentCommand({TrustStoreArn: arn, RevocationId: rev.revocationId})),
      );
      if (!g.Location) continue;
      const content = await fetchLocation(g.Location, `revocation ${rev.revocationId} of ${arn}`);
      rev.content = content;
      try {
        rev.summary = summarizeCrl(content, `revocation ${rev.revocationId}`);
      } catch {
        rev.summary = null; // not ours to judge; deploy keeps lists it cannot read
      }
    }
  }
  return out;
}

/** Reads the whole remote trust store: summary, the certificates it holds, its revocations. */
export async function readTrustStore(
  aws: AwsClients,
  name: string,
): Promise<{summary: TrustStoreSummary; remote: RemoteTrustStore & {bundleCertificates: string[]}; bundle: Uint8Array; revocations: HeldRevocation[]} | null> {
  const summary = await describeTrustStore(aws, name);
  if (!summary) return null;
  const bundle = await readHeldBundle(aws, summary.arn);
  const revocations = await readHeldRevocations(aws, summary.arn, true);
  let certs: string[];
  try {
    certs = bundleFingerprints(bundle, `the bundle held by trust store ${name}`);
  } catch {
    certs = [];
  }
  return {
    summary,
    bundle,
    revocations,
    remote: {
      arn: summary.arn,
      status: summary.status,
      numberOfCaCertificates: summary.numberOfCaCertificates,
      totalRevokedEntries: summary.totalRevokedEntries,
      bundleCertificates: certs,
      bundleDigest: bundleDigest(certs),
      revocations: revocations.map(({content: _c, ...r}) => r),
    },
  };
}

/** How deploy learnt what the trust store holds: from its records, or by downloading. */
export interface RemoteReadStats {
  /** `record`: the recorded digest and the held copy's ETag matched; `downloaded`: the copy was fetched. */
  bundle: 'record' | 'downloaded';
  revocationsFromRecords: number;
  revocationsDownloaded: number;
}

export interface TrustStoreForDeploy {
  summary: TrustStoreSummary;
  remote: RemoteTrustStore;
  /** The trust store's tags (user tags and deploy's records). */
  tags: Tag[];
  /** ETag of the held copy of the bundle, when known. */
  bundleEtag: string | null;
  /** The certificates of the held copy, when it was downloaded (the plan review names them). */
  heldCertificates: CertBrief[] | null;
  stats: RemoteReadStats;
}

/**
 * Reads the trust store for deploy's plan, downloading only what its records do not cover
 * (record.ts): the bundle when its record is missing, its digest differs from `localDigest`
 * or the held copy's ETag changed; each revocation list without a record. `refresh` ignores
 * the records and downloads everything (the behaviour before records existed).
 */
export async function readTrustStoreForDeploy(aws: AwsClients, name: string, p: {localDigest: string; refresh: boolean}): Promise<TrustStoreForDeploy | null> {
  const summary = await describeTrustStore(aws, name);
  if (!summary) return null;
  const tags = await describeTags(aws, summary.arn);
  const tagOf = (key: string): string | undefined => tags.find((t) => t.key === key)?.value;
  const stats: RemoteReadStats = {bundle: 'downloaded', revocationsFromRecords: 0, revocationsDownloaded: 0};

  let certs: string[] | null = null;
  let heldCertificates: CertBrief[] | null = null;
  let digest: string | undefined;
  let bundleEtag: string | null = null;
  const record = p.refresh ? null : decodeBundleRecord(tagOf(BUNDLE_RECORD_KEY));
  if (record && record.digest === p.localDigest && record.count === summary.numberOfCaCertificates) {
    // One ranged byte of the held copy tells whether it is still the copy the record describes.
    bundleEtag = await heldBundleEtag(aws, summary.arn);
    if (bundleEtag === record.etag) {
      digest = record.digest;
      stats.bundle = 'record';
    }
  }
  if (!digest) {
    const {data, etag} = await readHeldBundleWithEtag(aws, summary.arn);
    bundleEtag = etag;
    try {
      heldCertificates = briefCertificates(readCertificates(data, `the bundle held by trust store ${name}`));
      certs = heldCertificates.map((c) => c.fingerprint);
    } catch {
      certs = [];
    }
    digest = bundleDigest(certs);
  }

  const recorded = new Map<number, ReturnType<typeof decodeCrlRecord>>();
  const held = await readHeldRevocations(aws, summary.arn, (id, entries) => {
    const facts = p.refresh ? null : decodeCrlRecord(tagOf(`${CRL_RECORD_PREFIX}${id}`));
    if (facts && facts.entries === entries) {
      recorded.set(id, facts);
      return false;
    }
    return true;
  });
  const revocations: RemoteRevocation[] = held.map((h) => {
    const facts = recorded.get(h.revocationId);
    if (facts) stats.revocationsFromRecords++;
    else if (h.content) stats.revocationsDownloaded++;
    return {revocationId: h.revocationId, entries: h.entries, summary: facts ?? h.summary};
  });
  return {
    summary,
    tags,
    bundleEtag,
    heldCertificates,
    stats,
    remote: {
      arn: summary.arn,
      status: summary.status,
      numberOfCaCertificates: summary.numberOfCaCertificates,
      totalRevokedEntries: summary.totalRevokedEntries,
      bundleCertificates: certs,
      bundleDigest: digest,
      revocations,
    },
  };
}

/** The serials of one revocation list the trust store holds (downloaded; for the plan review). */
export async function heldRevocationSerials(aws: AwsClients, arn: string, revocationId: number): Promise<string[] | null> {
  const g = await callAws({action: 'elasticloadbalancing:GetTrustStoreRevocationContent', resource: `${arn} revocation ${revocationId}`}, () =>
    aws.elbv2.send(new aws.elbv2Sdk.GetTrustStoreRevocationContentCommand({TrustStoreArn: arn, RevocationId: revocationId})),
  );
  if (!g.Location) return null;
  try {
    return [...loadCrl(await fetchLocation(g.Location, `revocation ${revocationId} of ${arn}`), `revocation ${revocationId}`).revoked.keys()];
  } catch {
    return null;
  }
}

/** The ETag of the trust store's copy of its bundle (one ranged byte of the pre-signed URL). */
export async function heldBundleEtag(aws: AwsClients, arn: string): Promise<string | null> {
  return fetchLocationEtag(await bundleLocation(aws, arn), `the CA bundle of ${arn}`);
}

async function bundleLocation(aws: AwsClients, arn: string): Promise<string> {
  const r = await callAws({action: 'elasticloadbalancing:GetTrustStoreCaCertificatesBundle', resource: arn}, () =>
    aws.elbv2.send(new aws.elbv2Sdk.GetTrustStoreCaCertificatesBundleCommand({TrustStoreArn: arn})),
  );
  if (!r.Location)
    throw new MtlsKitError({code: 'AWS_ERROR', message: `GetTrustStoreCaCertificatesBundle returned no Location for ${arn}`, exitCode: ExitCode.Aws});
  return r.Location;
}

async function readHeldBundleWithEtag(aws: AwsClients, arn: string): Promise<{data: Uint8Array; etag: string | null}> {
  const location = await bundleLocation(aws, arn);
  let etag: string | null = null;
  const data = await fetchLocation(location, `the CA bundle of ${arn}`, (h) => {
    etag = h.get('etag')?.replace(/"/g, '') ?? null;
  });
  return {data, etag};
}

/** The load balancers whose listeners use the trust store (DescribeTrustStoreAssociations, paginated, bounded). */
export async function trustStoreAssociations(aws: AwsClients, arn: string): Promise<string[]> {
  const out: string[] = [];
  let marker: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const r = await callAws({action: 'elasticloadbalancing:DescribeTrustStoreAssociations', resource: arn}, () =>
      aws.elbv2.send(new aws.elbv2Sdk.DescribeTrustStoreAssociationsCommand({TrustStoreArn: arn, ...(marker ? {Marker: marker} : {})})),
    );
    for (const a of r.TrustStoreAssociations ?? []) if (a.ResourceArn) out.push(a.ResourceArn);
    marker = r.NextMarker;
    if (!marker) break;
  }
  return out;
}

/** The tags of one ELBv2 resource. */
export async function describeTags(aws: AwsClients, arn: string): Promise<Tag[]> {
  const r = await callAws({action: 'elasticloadbalancing:DescribeTags', resource: arn}, () =>
    aws.elbv2.send(new aws.elbv2Sdk.DescribeTagsCommand({ResourceArns: [arn]})),
  );
  return (r.TagDescriptions?.find((d) => d.ResourceArn === arn)?.Tags ?? []).map((t) => ({key: t.Key ?? '', value: t.Value ?? ''}));
}

/** AddTags (adds or overwrites) and RemoveTags on one ELBv2 resource; no call when empty. */
export async function changeTags(aws: AwsClients, arn: string, add: Tag[], remove: string[]): Promise<void> {
  if (remove.length > 0) {
    await callAws({action: 'elasticloadbalancing:RemoveTags', resource: arn}, () =>
      aws.elbv2.send(new aws.elbv2Sdk.RemoveTagsCommand({ResourceArns: [arn], TagKeys: remove})),
    );
  }
  if (add.length > 0) {
    await callAws({action: 'elasticloadbalancing:AddTags', resource: arn}, () =>
      aws.elbv2.send(new aws.elbv2Sdk.AddTagsCommand({ResourceArns: [arn], Tags: add.map((t) => ({Key: t.key, Value: t.value}))})),
    );
  }
}

interface SdkListener {
  ListenerArn?: string | undefined;
  LoadBalancerArn?: string | undefined;
  Port?: number | undefined;
  Protocol?: string | undefined;
  MutualAuthentication?:
    | {
        Mode?: string | undefined;
        TrustStoreArn?: string | undefined;
        IgnoreClientCertificateExpiry?: boolean | undefined;
        AdvertiseTrustStoreCaNames?: string | undefined;
        ClientCertificateIdentityFilters?: WireIdentityFilter[] | undefined;
      }
    | undefined;
}

function toRemoteListener(l: SdkListener): RemoteListener {
  const m = l.MutualAuthentication;
  const mode = (m?.Mode ?? 'off').toLowerCase() as MutualMode;
  const mutualAuthentication: MutualAuthentication = {
    mode,
    trustStoreArn: mode === 'verify' ? (m?.TrustStoreArn ?? null) : null,
    ignoreClientCertificateExpiry: m?.IgnoreClientCertificateExpiry ?? false,
    advertiseTrustStoreCaNames: m?.AdvertiseTrustStoreCaNames === 'on' ? 'on' : 'off',
    // NLB TLS listeners: the filters the middleware read back (src/io/aws/nlb-filters-wire.ts).
    ...(l.Protocol === 'TLS' ? {identityFilters: (m?.ClientCertificateIdentityFilters ?? []).map((f) => `${f.Field}:${f.MatchType}:${f.Value}`)} : {}),
  };
  return {
    arn: l.ListenerArn ?? '',
    ...(l.LoadBalancerArn ? {loadBalancerArn: l.LoadBalancerArn} : {}),
    port: l.Port ?? 0,
    protocol: l.Protocol ?? '',
    mutualAuthentication,
  };
}

/** DescribeListeners for one ARN. */
export async function describeListener(aws: AwsClients, arn: string): Promise<RemoteListener> {
  const r = await callAws({action: 'elasticloadbalancing:DescribeListeners', resource: arn}, () =>
    aws.elbv2.send(new aws.elbv2Sdk.DescribeListenersCommand({ListenerArns: [arn]})),
  );
  const l = r.Listeners?.[0];
  if (!l) throw new MtlsKitError({code: 'LISTENER_NOT_FOUND', message: `listener ${arn} does not exist`, exitCode: ExitCode.Aws});
  return toRemoteListener(l);
}

/** The listener on `port` of a load balancer, or null. */
export async function findListenerOnPort(aws: AwsClients, loadBalancerArn: string, port: number): Promise<RemoteListener | null> {
  return (await listListeners(aws, loadBalancerArn)).find((l) => l.port === port) ?? null;
}

/** Every listener of a load balancer (paginated, bounded). */
export async function listListeners(aws: AwsClients, loadBalancerArn: string): Promise<RemoteListener[]> {
  const out: RemoteListener[] = [];
  let marker: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const r = await callAws({action: 'elasticloadbalancing:DescribeListeners', resource: loadBalancerArn}, () =>
      aws.elbv2.send(new aws.elbv2Sdk.DescribeListenersCommand({LoadBalancerArn: loadBalancerArn, ...(marker ? {Marker: marker} : {})})),
    );
    for (const l of r.Listeners ?? []) out.push(toRemoteListener(l));
    marker = r.NextMarker;
    if (!marker) break;
  }
  return out;
}

/**
 * The MutualAuthentication parameter as the API takes it (aws-reference 2.2). On an NLB TLS
 * listener in verify mode the identity filters are always sent, an empty list included, so
 * that a removed filter is removed whichever way AWS treats an absent list (9.4).
 */
export function toSdkMutual(m: MutualAuthentication): {
  Mode: string;
  TrustStoreArn?: string;
  IgnoreClientCertificateExpiry?: boolean;
  AdvertiseTrustStoreCaNames?: 'on' | 'off';
  ClientCertificateIdentityFilters?: WireIdentityFilter[];
} {
  if (m.mode !== 'verify') return {Mode: m.mode};
  const filters = m.identityFilters?.map((text): WireIdentityFilter => {
    const f = parseIdentityFilter(text);
    return {Action: f.action, Field: f.field, MatchType: f.matchType, Value: f.value};
  });
  return {
    Mode: 'verify',
    TrustStoreArn: m.trustStoreArn ?? '',
    IgnoreClientCertificateExpiry: m.ignoreClientCertificateExpiry,
    AdvertiseTrustStoreCaNames: m.advertiseTrustStoreCaNames,
    ...(filters ? {ClientCertificateIdentityFilters: filters} : {}),
  };
}

export interface WaitParams {
  arn: string;
  name: string;
  timeoutMs: number;
  /** Called after each poll with the status and elapsed ms. */
  onPoll?: (status: string, elapsedMs: number) => void;
  /** Poll interval (default 2 s; MTLS_KIT_POLL_MS overrides, for tests). */
  intervalMs?: number;
}

/**
 * Polls DescribeTrustStores until the trust store is ACTIVE (there is no SDK waiter,
 * aws-reference 2.4). Bounded by `timeoutMs`.
 * @throws MtlsKitError TRUST_STORE_WAIT_TIMEOUT (exit 5) with the last status.
 */
export async function waitForActive(aws: AwsClients, p: WaitParams): Promise<TrustStoreSummary> {
  const start = Date.now();
  const interval = p.intervalMs ?? 2000;
  let status = 'CREATING';
  for (;;) {
    // Each poll, SDK retries included, ends by the deadline: a hung poll cannot outlast --wait-timeout.
    const left = Math.max(1, p.timeoutMs - (Date.now() - start));
    let summary: TrustStoreSummary | null = null;
    try {
      const r = await aws.elbv2.send(new aws.elbv2Sdk.DescribeTrustStoresCommand({TrustStoreArns: [p.arn]}), {abortSignal: AbortSignal.timeout(left)});
      summary = toSummary(r.TrustStores?.[0] ?? {});
      status = summary.status;
    } catch (error) {
      if (Date.now() - start < p.timeoutMs) throw mapAwsError(error, {action: 'elasticloadbalancing:DescribeTrustStores', resource: p.arn});
    }
    const elapsed = Date.now() - start;
    p.onPoll?.(status, elapsed);
    if (summary?.status === 'ACTIVE') return summary;
    if (!summary || elapsed + interval > p.timeoutMs) {
      throw new MtlsKitError({
        code: 'TRUST_STORE_WAIT_TIMEOUT',
        message: `trust store ${p.name} is still ${status} after ${Math.round(elapsed / 1000)}s (--wait-timeout ${Math.round(p.timeoutMs / 1000)}s); the listener was not changed${summary ? '' : ' (the last poll did not answer)'}`,
        suggestions: [
          `re-run the same deploy later, or with a longer --wait-timeout: it picks up where it stopped`,
          `check it: aws elbv2 describe-trust-stores --trust-store-arns ${p.arn}`,
        ],
        exitCode: ExitCode.Aws,
        details: {trustStoreArn: p.arn, status},
      });
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
