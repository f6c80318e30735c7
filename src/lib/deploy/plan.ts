/**
 * The deploy plan: given what is on disk and what AWS holds, what deploy must create,
 * modify, add, remove or leave alone. Pure: no AWS calls, no files (STYLE "Where code lives").
 *
 * The rules, from the issue and aws-reference 2:
 * - S3 keys are content-addressed, so an object at the key with the same content is
 *   never uploaded again.
 * - The trust store holds exactly one bundle (aws-reference 2.5): create it when missing,
 *   ModifyTrustStore only when the certificates it holds differ from the local bundle.
 * - Revocations: add every local CRL the trust store does not hold yet, then remove the
 *   lists it supersedes (an older CRL of the same issuer). Add before remove, so the
 *   revoked serials are never missing.
 * - Quotas (aws-reference 3): the lists and entries the trust store holds at every step are
 *   counted; the plan picks the order that never leaves a revoked serial unenforced and
 *   fits the quotas, and stops and explains when none does (unless a gap is allowed).
 * - Listeners: MutualAuthentication is changed only when it differs, and a listener that
 *   verifies against another trust store is not repointed without `force`.
 * - Bundles are compared as sets of certificates (record.ts `bundleDigest`).
 * - Connection logs (aws-reference 5.1): the attributes of each listener's load balancer are
 *   changed only when they do not already point at the requested bucket and prefix.
 */
import {compareCrlAge, type CrlFacts, type CrlSummary} from './crl-summary.js';
import {type ConnectionLogSetting, type ConnectionLogTarget, sameConnectionLogs} from './connection-logs.js';
import {bundleDigest} from './record.js';
import {MtlsKitError, usageError} from '../errors.js';
import {plural} from '../plural.js';

export type MutualMode = 'verify' | 'passthrough' | 'off';

/** The listener's MutualAuthentication as deploy compares it (aws-reference 2.2, 1.9). */
export interface MutualAuthentication {
  mode: MutualMode;
  /** Only in verify mode. */
  trustStoreArn: string | null;
  ignoreClientCertificateExpiry: boolean;
  advertiseTrustStoreCaNames: 'on' | 'off';
  /**
   * NLB TLS listeners only: the ClientCertificateIdentityFilters as FIELD:MATCH:VALUE
   * (aws-reference 9.4); absent on ALB listeners.
   */
  identityFilters?: string[];
}

export interface LocalObject {
  kind: 'bundle' | 'crl';
  path: string;
  key: string;
  /** Lowercase hex MD5 of the content: the ETag S3 gives a single-part upload. */
  md5: string;
}

export interface LocalCrl {
  path: string;
  key: string;
  summary: CrlSummary;
}

export type ListenerTarget =
  | {kind: 'existing'; listenerArn: string}
  | {kind: 'create'; loadBalancerArn: string; port: number; certificateArn: string; targetGroupArn: string};

export interface LocalState {
  trustStoreName: string;
  objects: LocalObject[];
  /** SHA-256 (hex) of each certificate's DER in the local bundle, in file order. */
  bundleCertificates: string[];
  crls: LocalCrl[];
  /** The listeners to set (--listener-arn, repeatable, or one to create). */
  listeners: ListenerTarget[];
  mutualAuthentication: Omit<MutualAuthentication, 'trustStoreArn'>;
  /** --connection-logs: where the listeners' load balancers should write connection logs (absent: left alone). */
  connectionLogs?: ConnectionLogTarget | null;
}

export interface RemoteObject {
  key: string;
  exists: boolean;
  /** ETag without quotes. */
  etag?: string;
  versionId?: string;
}

export interface RemoteRevocation {
  revocationId: number;
  entries: number;
  /** What the list holds (downloaded, or recorded by an earlier deploy), or null when unknown. */
  summary: CrlFacts | null;
}

export interface RemoteTrustStore {
  arn: string;
  status: string;
  numberOfCaCertificates: number;
  totalRevokedEntries: number;
  /** SHA-256 (hex) of each certificate DER in the copy the trust store holds; null when not downloaded. */
  bundleCertificates: string[] | null;
  /** bundleDigest() of that copy (from the record deploy wrote, or computed from the download). */
  bundleDigest?: string;
  revocations: RemoteRevocation[];
}

export interface RemoteListener {
  arn: string;
  loadBalancerArn?: string;
  protocol: string;
  port: number;
  mutualAuthentication: MutualAuthentication;
}

export interface RemoteState {
  objects: RemoteObject[];
  trustStore: RemoteTrustStore | null;
  /** For each local listener target, in order: the listener AWS has (null = none yet). */
  listeners: Array<RemoteListener | null>;
  /** With --connection-logs: each load balancer of the listeners, with its connection-log attributes. */
  loadBalancers?: Array<{arn: string; connectionLogs: ConnectionLogSetting}>;
}

export type StepAction = 'create' | 'modify' | 'unchanged';

export interface PlannedUpload {
  kind: 'bundle' | 'crl';
  path: string;
  key: string;
  action: 'upload' | 'unchanged';
  /** Known when the object exists in a versioned bucket. */
  versionId?: string;
}

export interface PlannedRevocationAdd {
  path: string;
  key: string;
  issuer: string;
  crlNumber: string | null;
  entries: number;
}

export interface PlannedRevocationRemove {
  revocationId: number;
  issuer: string;
  crlNumber: string | null;
  /** The local CRL that supersedes it. */
  supersededBy: string;
  entries: number;
}

/** One revocation call, in the order the runner makes them. */
export type RevocationStep = {kind: 'add'; path: string} | {kind: 'remove'; revocationIds: number[]; supersededBy: string};

/**
 * How the revocation calls are ordered:
 * - `add-then-remove`: every add, then one remove (no serial is ever unenforced);
 * - `per-issuer`: for each issuer, add its new list then remove its old ones (still no gap,
 *   a lower peak when adding everything first would exceed a quota);
 * - `remove-first`: for each issuer, remove its old lists then add the new one: the issuer's
 *   revoked serials are not enforced between the two calls (only with allowRevocationGap).
 */
export type RevocationOrder = 'add-then-remove' | 'per-issuer' | 'remove-first';

/** Revocation quotas of a trust store (aws-reference 3: L-332EE142 lists, L-37E1617B entries). */
export interface RevocationQuotas {
  lists: number;
  entries: number;
}

export const DEFAULT_REVOCATION_QUOTAS: RevocationQuotas = {lists: 30, entries: 500_000};

export interface QuotaCount {
  lists: number;
  entries: number;
}

export interface PlannedListener {
  action: StepAction;
  /** The listener's ARN (null until one is created). */
  arn: string | null;
  target: ListenerTarget;
  from: MutualAuthentication | null;
  to: MutualAuthentication;
  /** A TLS listener of a Network Load Balancer (identity filters, verify only). */
  nlb: boolean;
}

/** One load balancer's connection-log attributes (aws-reference 5.1). */
export interface PlannedConnectionLogs {
  loadBalancerArn: string;
  action: 'modify' | 'unchanged';
  from: ConnectionLogSetting;
  to: ConnectionLogSetting;
}

export interface DeployPlan {
  uploads: PlannedUpload[];
  trustStore: {action: StepAction; name: string; arn: string | null; reason: string};
  revocations: {
    add: PlannedRevocationAdd[];
    remove: PlannedRevocationRemove[];
    /** Local CRLs the trust store already holds: path → revocation id. */
    unchanged: Array<{path: string; revocationId: number}>;
    /** Lists of issuers deploy does not manage (no local CRL of that issuer): left alone. */
    kept: number[];
    order: RevocationOrder;
    steps: RevocationStep[];
    /** Lists and entries the trust store holds now, at the fullest moment of the run, and after. */
    count: {now: QuotaCount; peak: QuotaCount; after: QuotaCount; quotas: RevocationQuotas};
  };
  listeners: PlannedListener[];
  /** With --connection-logs, per load balancer (empty otherwise). */
  connectionLogs: PlannedConnectionLogs[];
  /** Whether any mutating call is planned. */
  changes: boolean;
}

export interface PlanOptions {
  quotas?: RevocationQuotas;
  /** Allow the remove-first order when adding first would exceed a quota. */
  allowRevocationGap?: boolean;
  /** Repoint listeners that verify against another trust store. */
  force?: boolean;
}

/**
 * Computes the deploy plan.
 * @returns the plan; `changes` is false when a run would make no mutating call.
 * @throws MtlsKitError REMOTE_CRL_NEWER (exit 4) when the trust store holds a newer CRL of
 *   an issuer than the local one (deploying would roll revocations back);
 *   REVOCATION_QUOTA_EXCEEDED (exit 4) when the lists after the run exceed a quota;
 *   REVOCATION_ROTATION_EXCEEDS_QUOTA (exit 4) when only a remove-first rotation fits and
 *   `allowRevocationGap` is not set; LISTENER_USES_OTHER_TRUST_STORE (exit 4) without `force`.
 */
export function planDeploy(local: LocalState, remote: RemoteState, options: PlanOptions = {}): DeployPlan {
  const uploads: PlannedUpload[] = local.objects.map((o) => {
    const r = remote.objects.find((x) => x.key === o.key);
    // Content-addressed keys: an existing object with our MD5 ETag holds our bytes.
    const same = Boolean(r?.exists && r.etag?.toLowerCase() === o.md5);
    return {kind: o.kind, path: o.path, key: o.key, action: same ? 'unchanged' : 'upload', ...(same && r?.versionId ? {versionId: r.versionId} : {})};
  });

  const ts = remote.trustStore;
  let trustStore: DeployPlan['trustStore'];
  if (!ts) trustStore = {action: 'create', name: local.trustStoreName, arn: null, reason: 'no trust store with this name'};
  else if (remoteBundleDigest(ts) !== bundleDigest(local.bundleCertificates)) {
    const held = ts.bundleCertificates?.length ?? ts.numberOfCaCertificates;
    trustStore = {
      action: 'modify',
      name: local.trustStoreName,
      arn: ts.arn,
      reason: `the trust store holds ${plural(held, 'certificate')} that differ from the local bundle (${local.bundleCertificates.length})`,
    };
  } else trustStore = {action: 'unchanged', name: local.trustStoreName, arn: ts.arn, reason: 'the trust store holds the same certificates'};

  const revocations = planRevocations(local.crls, ts?.revocations ?? [], options);

  const listeners = local.listeners.map((target, i) => planListener(local, target, remote.listeners[i] ?? null, ts, options));
  const want = local.connectionLogs;
  const connectionLogs: PlannedConnectionLogs[] = want
    ? (remote.loadBalancers ?? []).map((lb) => ({
        loadBalancerArn: lb.arn,
        action: sameConnectionLogs(lb.connectionLogs, want) ? 'unchanged' : 'modify',
        from: lb.connectionLogs,
        to: {enabled: true, ...want},
      }))
    : [];

  const changes =
    uploads.some((u) => u.action === 'upload') ||
    trustStore.action !== 'unchanged' ||
    revocations.add.length > 0 ||
    revocations.remove.length > 0 ||
    listeners.some((l) => l.action !== 'unchanged') ||
    connectionLogs.some((c) => c.action !== 'unchanged');
  return {uploads, trustStore, revocations, listeners, connectionLogs, changes};
}

function remoteBundleDigest(ts: RemoteTrustStore): string | null {
  if (ts.bundleDigest) return ts.bundleDigest;
  return ts.bundleCertificates ? bundleDigest(ts.bundleCertificates) : null;
}

function planListener(
  local: LocalState,
  target: ListenerTarget,
  held: RemoteListener | null,
  ts: RemoteTrustStore | null,
  options: PlanOptions,
): PlannedListener {
  const nlb = isNetworkListener(target);
  const {identityFilters, ...common} = local.mutualAuthentication;
  const to: MutualAuthentication = {
    ...common,
    trustStoreArn: common.mode === 'verify' ? (ts?.arn ?? null) : null,
    ...(nlb ? {identityFilters: identityFilters ?? []} : {}),
  };
  if (!held)
    return target.kind === 'existing'
      ? {action: 'modify', arn: target.listenerArn, target, from: null, to, nlb}
      : {action: 'create', arn: null, target, from: null, to, nlb};
  const from = held.mutualAuthentication;
  // aws-reference 2.5: a listener has one trust store. One that verifies against another
  // trust store belongs to someone else's setup: repointing it silently would lock out
  // their clients.
  if (from.mode === 'verify' && from.trustStoreArn && from.trustStoreArn !== ts?.arn && !options.force) {
    throw new MtlsKitError({
      code: 'LISTENER_USES_OTHER_TRUST_STORE',
      message: `listener ${held.arn} verifies clients against another trust store (${from.trustStoreArn}); deploy would repoint it to ${local.trustStoreName}`,
      suggestions: [
        `check who owns it: aws elbv2 describe-trust-store-associations --trust-store-arn ${from.trustStoreArn}`,
        'to repoint it anyway, re-run with --force',
      ],
      details: {listenerArn: held.arn, trustStoreArn: from.trustStoreArn},
    });
  }
  const same = to.trustStoreArn !== null || to.mode !== 'verify' ? sameMutual(from, to) : false;
  return {action: same ? 'unchanged' : 'modify', arn: held.arn, target, from, to, nlb};
}

function planRevocations(crls: LocalCrl[], held: RemoteRevocation[], options: PlanOptions): DeployPlan['revocations'] {
  const add: PlannedRevocationAdd[] = [];
  const remove: PlannedRevocationRemove[] = [];
  const unchanged: Array<{path: string; revocationId: number}> = [];
  const matched = new Set<number>();
  for (const crl of crls) {
    const same = held.find((h) => h.summary?.sha256 === crl.summary.sha256 && !matched.has(h.revocationId));
    if (same) {
      matched.add(same.revocationId);
      unchanged.push({path: crl.path, revocationId: same.revocationId});
    } else {
      add.push({path: crl.path, key: crl.key, issuer: crl.summary.issuerDn, crlNumber: crl.summary.crlNumber, entries: crl.summary.entries});
    }
  }
  const kept: number[] = [];
  for (const h of held) {
    if (matched.has(h.revocationId)) continue;
    const s = h.summary;
    const local = s ? crls.find((c) => c.summary.issuerId === s.issuerId) : undefined;
    if (!s || !local) {
      kept.push(h.revocationId);
      continue;
    }
    if (s.sha256 !== local.summary.sha256 && compareCrlAge(s, local.summary) > 0) {
      throw new MtlsKitError({
        code: 'REMOTE_CRL_NEWER',
        message: `the trust store holds a newer CRL of ${local.summary.issuerDn} (number ${s.crlNumber ?? '?'}, revocation id ${h.revocationId}) than ${local.path} (number ${local.summary.crlNumber ?? '?'}); deploying would un-revoke certificates`,
        suggestions: ['regenerate the CRL (mtls-kit crl) so it is the newest, or deploy from the CA directory that issued the newer one'],
      });
    }
    // An older CRL of the same issuer, or a second copy of the same CRL: superseded.
    remove.push({revocationId: h.revocationId, issuer: local.summary.issuerDn, crlNumber: s.crlNumber, supersededBy: local.path, entries: h.entries});
  }
  return {add, remove, unchanged, kept, ...orderRevocations(crls, held, add, remove, options)};
}

/**
 * Chooses the order of the revocation calls that fits the quotas (aws-reference 3), trying
 * the orders without a gap first.
 */
function orderRevocations(
  crls: LocalCrl[],
  held: RemoteRevocation[],
  add: PlannedRevocationAdd[],
  remove: PlannedRevocationRemove[],
  options: PlanOptions,
): Pick<DeployPlan['revocations'], 'order' | 'steps' | 'count'> {
  const quotas = options.quotas ?? DEFAULT_REVOCATION_QUOTAS;
  const now: QuotaCount = {lists: held.length, entries: held.reduce((n, h) => n + h.entries, 0)};
  const entriesOfAdd = new Map(add.map((a) => [a.path, a.entries]));
  const entriesOfId = new Map(remove.map((r) => [r.revocationId, r.entries]));
  const after: QuotaCount = {
    lists: now.lists + add.length - remove.length,
    entries: now.entries + add.reduce((n, a) => n + a.entries, 0) - remove.reduce((n, r) => n + r.entries, 0),
  };
  const fits = (c: QuotaCount): boolean => c.lists <= quotas.lists && c.entries <= quotas.entries;
  const peakOf = (steps: RevocationStep[]): QuotaCount => {
    const c = {...now};
    const peak = {...now};
    for (const s of steps) {
      if (s.kind === 'add') {
        c.lists++;
        c.entries += entriesOfAdd.get(s.path) ?? 0;
      } else {
        c.lists -= s.revocationIds.length;
        c.entries -= s.revocationIds.reduce((n, id) => n + (entriesOfId.get(id) ?? 0), 0);
      }
      peak.lists = Math.max(peak.lists, c.lists);
      peak.entries = Math.max(peak.entries, c.entries);
    }
    return peak;
  };
  const count = (peak: QuotaCount) => ({now, peak, after, quotas});

  if (!fits(after)) {
    throw new MtlsKitError({
      code: 'REVOCATION_QUOTA_EXCEEDED',
      message: `after this deploy the trust store would hold ${plural(after.lists, 'revocation list')} and ${plural(after.entries, 'entry', 'entries')}; its quotas are ${plural(quotas.lists, 'list')} and ${plural(quotas.entries, 'entry', 'entries')}`,
      suggestions: [
        'remove lists you no longer need (aws elbv2 describe-trust-store-revocations), or shorten the CRLs (drop expired certificates)',
        'or request more: aws service-quotas request-service-quota-increase --service-code elasticloadbalancing --quota-code L-332EE142 (lists) or L-37E1617B (entries), then pass the new values with --revocation-lists-quota / --revocation-entries-quota',
      ],
      details: {now, after, quotas},
    });
  }

  // Per local CRL: the removes it supersedes that are already covered (its content is held), first.
  const covered = new Set(crls.filter((c) => !add.some((a) => a.path === c.path)).map((c) => c.path));
  const removesOf = (path: string): number[] => remove.filter((r) => r.supersededBy === path).map((r) => r.revocationId);
  const safeRemoves: RevocationStep[] = [...covered]
    .filter((p) => removesOf(p).length > 0)
    .map((p) => ({kind: 'remove', revocationIds: removesOf(p), supersededBy: p}));

  const allAtOnce: RevocationStep[] = [...safeRemoves, ...add.map((a): RevocationStep => ({kind: 'add', path: a.path}))];
  const rest = remove.filter((r) => !covered.has(r.supersededBy));
  if (rest.length > 0)
    allAtOnce.push({kind: 'remove', revocationIds: rest.map((r) => r.revocationId), supersededBy: [...new Set(rest.map((r) => r.supersededBy))].join(', ')});
  if (fits(peakOf(allAtOnce))) return {order: 'add-then-remove', steps: allAtOnce, count: count(peakOf(allAtOnce))};

  const perIssuer: RevocationStep[] = [...safeRemoves];
  for (const a of add) {
    perIssuer.push({kind: 'add', path: a.path});
    if (removesOf(a.path).length > 0) perIssuer.push({kind: 'remove', revocationIds: removesOf(a.path), supersededBy: a.path});
  }
  if (fits(peakOf(perIssuer))) return {order: 'per-issuer', steps: perIssuer, count: count(peakOf(perIssuer))};

  const removeFirst: RevocationStep[] = [...safeRemoves];
  for (const a of add) {
    if (removesOf(a.path).length > 0) removeFirst.push({kind: 'remove', revocationIds: removesOf(a.path), supersededBy: a.path});
    removeFirst.push({kind: 'add', path: a.path});
  }
  const peak = peakOf(removeFirst);
  if (!options.allowRevocationGap || !fits(peak)) {
    const worst = peakOf(perIssuer);
    throw new MtlsKitError({
      code: 'REVOCATION_ROTATION_EXCEEDS_QUOTA',
      message: `adding the new CRLs before removing the old ones needs room for ${plural(worst.lists, 'list')} and ${plural(worst.entries, 'entry', 'entries')} at once; the trust store's quotas are ${plural(quotas.lists, 'list')} and ${plural(quotas.entries, 'entry', 'entries')}`,
      suggestions: [
        'request more: aws service-quotas request-service-quota-increase --service-code elasticloadbalancing --quota-code L-332EE142 (lists) or L-37E1617B (entries), then pass --revocation-lists-quota / --revocation-entries-quota',
        "or re-run with --allow-revocation-gap: each issuer's old list is removed before its new one is added, so its revoked certificates are accepted for the moment between the two calls (deploy reports how long)",
      ],
      details: {now, peak: worst, after, quotas},
    });
  }
  return {order: 'remove-first', steps: removeFirst, count: count(peak)};
}

/** Normalised comparison of MutualAuthentication (defaults: expiry false, advertise off). */
export function sameMutual(a: MutualAuthentication, b: MutualAuthentication): boolean {
  if (a.mode !== b.mode) return false;
  if (a.mode !== 'verify') return true;
  return (
    a.trustStoreArn === b.trustStoreArn &&
    a.ignoreClientCertificateExpiry === b.ignoreClientCertificateExpiry &&
    a.advertiseTrustStoreCaNames === b.advertiseTrustStoreCaNames &&
    sameFilters(a.identityFilters ?? [], b.identityFilters ?? [])
  );
}

/** Identity filters compare as sets: they are ORed, so their order does not matter (aws-reference 9.3). */
function sameFilters(a: string[], b: string[]): boolean {
  const x = [...new Set(a)].sort();
  const y = [...new Set(b)].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Whether an ELBv2 ARN is a Network Load Balancer's or one of its listeners' (`loadbalancer/net/...`, `listener/net/...`). */
export function isNetworkArn(arn: string): boolean {
  return /:(loadbalancer|listener)\/net\//.test(arn);
}

/** Whether a deploy target is (or will be) a listener of a Network Load Balancer. */
export function isNetworkListener(target: ListenerTarget): boolean {
  return isNetworkArn(target.kind === 'existing' ? target.listenerArn : target.loadBalancerArn);
}

/**
 * NLB's rules for deploy's listener targets (aws-reference 9.1, 9.8): mutual TLS in verify
 * mode only, and identity filters only on NLB listeners.
 * @throws MtlsKitError (usage) naming the listener and the way out.
 */
export function checkNlbTargets(targets: ListenerTarget[], mode: MutualMode, filterCount: number): void {
  const nlb = targets.filter(isNetworkListener);
  const first = nlb[0];
  if (first && mode === 'passthrough') {
    throw usageError(
      'NLB_VERIFY_ONLY',
      `${first.kind === 'existing' ? `listener ${first.listenerArn}` : `load balancer ${first.loadBalancerArn}`} is a Network Load Balancer's, and NLB supports mutual TLS in verify mode only`,
      ['use --mode verify; to let your targets see the client certificate themselves, use a TCP listener instead, which passes the encrypted stream through'],
    );
  }
  if (filterCount > 0 && nlb.length < targets.length) {
    const alb = targets.find((t) => !isNetworkListener(t))!;
    throw usageError(
      'FILTERS_NEED_NLB',
      `identity filters exist only on NLB TLS listeners, and ${alb.kind === 'existing' ? `listener ${alb.listenerArn}` : `load balancer ${alb.loadBalancerArn}`} is not one`,
      ['deploy the ALB listeners without --identity-filter, in a separate run'],
    );
  }
}

/**
 * --connection-logs needs listeners, all of Application Load Balancers: connection logs are an
 * ALB feature (aws-reference 5.1; NLB writes TLS access logs, 9.6).
 * @throws MtlsKitError (usage, exit 2) naming the listener or the missing flag.
 */
export function checkConnectionLogTargets(targets: ListenerTarget[]): void {
  if (targets.length === 0)
    throw usageError(
      'CONNECTION_LOGS_NEED_LISTENER',
      "--connection-logs sets the connection logs of the listeners' load balancers, and no listener was given",
      ['add --listener-arn <alb-https-listener-arn> (or --load-balancer-arn with --port, --certificate-arn, --target-group-arn)'],
    );
  const nlb = targets.find(isNetworkListener);
  if (nlb) {
    throw usageError(
      'CONNECTION_LOGS_NEED_ALB',
      `${nlb.kind === 'existing' ? `listener ${nlb.listenerArn}` : `load balancer ${nlb.loadBalancerArn}`} is a Network Load Balancer's, and connection logs exist only on Application Load Balancers`,
      ['deploy the NLB listeners without --connection-logs, in a separate run (an NLB writes TLS access logs instead: its access_logs.s3.* attributes)'],
    );
  }
}

/**
 * The S3 key of a file: `<prefix><base>-<first 16 hex of SHA-256>.pem`, so a new content
 * gets a new key and an unchanged one is never re-uploaded.
 */
export function contentKey(prefix: string, base: string, sha256: string): string {
  return `${keyPrefix(prefix)}${base}-${sha256.slice(0, 16)}.pem`;
}

/** `--prefix` as keys start with it: empty, or ending in `/`. */
export function keyPrefix(prefix: string): string {
  return prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
}

/**
 * The base and the 16 hex digits of a key contentKey() made under `prefix`, or null for any
 * other key (a lease, another tool's object, a key in a deeper folder).
 */
export function parseContentKey(prefix: string, key: string): {base: string; sha256Prefix: string} | null {
  const p = keyPrefix(prefix);
  if (!key.startsWith(p)) return null;
  const m = /^([A-Za-z0-9._-]+)-([0-9a-f]{16})\.pem$/.exec(key.slice(p.length));
  return m ? {base: m[1]!, sha256Prefix: m[2]!} : null;
}

/** AWS's trust-store name rule (aws-reference 2.2): 1-32 characters, `^([a-zA-Z0-9]+-)*[a-zA-Z0-9]+$`. */
export function checkTrustStoreName(name: string): string | null {
  if (name.length < 1 || name.length > 32) return `must be 1 to 32 characters (it has ${name.length})`;
  if (!/^([a-zA-Z0-9]+-)*[a-zA-Z0-9]+$/.test(name)) return 'may hold only letters, digits and single hyphens between them';
  return null;
}
