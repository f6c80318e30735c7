/**
 * `deploy --json`: the result shape shared by the command, the deploy runner (io) and its
 * renderer (ui), kept below all three so none imports a command.
 */
import type {DeployLintSummary} from '../alb/lint.js';
import type {CertBrief, SerialChanges} from './review.js';
import type {MutualMode, QuotaCount, RevocationOrder, RevocationQuotas} from './plan.js';

export interface DeployResult {
  dryRun: boolean;
  region: string;
  bucket: string;
  /** True when this run made (or, with --dry-run, would make) a mutating call. */
  changed: boolean;
  /** "unchanged", or what changed in one line. */
  summary: string;
  lint: DeployLintSummary;
  uploads: Array<{kind: 'bundle' | 'crl'; path: string; key: string; uri: string; action: 'upload' | 'unchanged'; versionId: string | null}>;
  trustStore: {
    action: 'create' | 'modify' | 'unchanged';
    name: string;
    arn: string | null;
    status: string | null;
    numberOfCaCertificates: number | null;
    totalRevokedEntries: number | null;
    reason: string;
    /** The certificates the bundle change adds and removes (null when unchanged, or when the held copy was not downloaded). */
    certificates: {added: CertBrief[]; removed: CertBrief[]} | null;
    /** How the run learnt what the trust store held: from deploy's records (no download) or by downloading; null when it did not exist. */
    read: {bundle: 'record' | 'downloaded'; revocationsFromRecords: number; revocationsDownloaded: number} | null;
    /** Record tags (mtls-kit:*) added or updated, removed, and skipped for lack of room (50 tags). */
    records: {added: number; removed: number; skipped: number};
  };
  revocations: {
    /** `serials`: what the list revokes and un-revokes compared with the list(s) it supersedes (null for a new issuer). */
    added: Array<{
      path: string;
      key: string;
      revocationId: number | null;
      entries: number;
      issuer: string;
      crlNumber: string | null;
      serials: SerialChanges | null;
    }>;
    removed: Array<{revocationId: number; issuer: string; crlNumber: string | null; supersededBy: string; entries: number}>;
    unchanged: Array<{path: string; revocationId: number}>;
    kept: number[];
    /** add-then-remove, per-issuer (both never leave a serial unenforced) or remove-first (--allow-revocation-gap). */
    order: RevocationOrder;
    /** Lists and entries now, at the fullest moment of the run, and after it, against the quotas. */
    count: {now: QuotaCount; peak: QuotaCount; after: QuotaCount; quotas: RevocationQuotas};
    /** remove-first only: how long each issuer's revoked serials were not enforced. */
    gaps: Array<{path: string; issuer: string; ms: number}>;
  };
  /** The first of `listeners` (kept for scripts written before --listener-arn was repeatable). */
  listener: DeployedListener | null;
  listeners: DeployedListener[];
  /** --connection-logs: each listener's load balancer, its setting before and where its connection logs go now (empty without the flag). */
  connectionLogs: Array<{
    loadBalancerArn: string;
    action: 'modify' | 'unchanged';
    uri: string;
    bucket: string;
    prefix: string;
    previous: {enabled: boolean; bucket: string; prefix: string};
  }>;
}

export interface DeployedListener {
  action: 'create' | 'modify' | 'unchanged';
  arn: string | null;
  loadBalancerArn: string | null;
  /** identityFilters (FIELD:MATCH:VALUE) only on NLB TLS listeners. */
  mutualAuthentication: {
    mode: MutualMode;
    trustStoreArn: string | null;
    ignoreClientCertificateExpiry: boolean;
    advertiseTrustStoreCaNames: 'on' | 'off';
    identityFilters?: string[];
  };
  previous: {
    mode: MutualMode;
    trustStoreArn: string | null;
    ignoreClientCertificateExpiry: boolean;
    advertiseTrustStoreCaNames: 'on' | 'off';
    identityFilters?: string[];
  } | null;
}
