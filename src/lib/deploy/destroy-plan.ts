/**
 * The destroy plan: given what AWS holds, which listeners to detach, which revocation lists
 * to remove, whether to delete the trust store and which S3 objects to delete, or why
 * destroy must refuse. Pure: no AWS calls (STYLE "Where code lives"); src/flows/destroy.ts
 * reads the state and carries the plan out.
 *
 * The rules (docs/deploy.md "destroy"):
 * - A trust store is deploy's when it carries deploy's records (`mtls-kit:*` tags,
 *   record.ts); any other is refused without `force`, as deploy refuses to repoint a
 *   listener that verifies against another trust store.
 * - Listeners are changed only when named (--listener-arn), as in deploy. A named listener
 *   that verifies against this trust store is set to Mode=off: that is what "detach" means,
 *   on ALB HTTPS and NLB TLS listeners alike (a listener has one trust store, aws-reference
 *   2.5, and off is the only mode without one on NLB, 9.8). A named listener in passthrough or
 *   off uses no trust store and is left as it is. A named listener that verifies against
 *   another trust store is refused. A listener that uses the trust store and is not named
 *   is refused before any change (AWS would answer TrustStoreInUse, aws-reference 2.5).
 * - Order, so that a run killed at any point is finished by the next one: listeners, then
 *   S3 objects (they are tied to the trust store by what it holds, so they go while it
 *   still holds it), then revocation lists, then the trust store.
 */
import {MtlsKitError} from '../errors.js';
import type {MutualAuthentication, RemoteListener} from './plan.js';

export interface DestroyTrustStore {
  arn: string;
  name: string;
  status: string;
  /** Whether it carries deploy's records (mtls-kit:* tags). */
  deployed: boolean;
  revocations: Array<{revocationId: number; entries: number}>;
}

/** An S3 object deploy wrote under the prefix (content-addressed key whose mtls-kit-sha256 metadata matches). */
export interface DeployObject {
  key: string;
  /** What it holds for this trust store: its bundle, one of its lists, or neither. */
  holds: 'bundle' | 'crl' | null;
  /** The current version id in a versioned bucket, else null. */
  versionId: string | null;
}

export interface DestroyState {
  /** Null when there is no such trust store (already deleted). */
  trustStore: DestroyTrustStore | null;
  /** Each --listener-arn in order, with what AWS holds (null: no such listener). */
  named: Array<{arn: string; listener: RemoteListener | null}>;
  /** Listeners that verify against the trust store (from DescribeTrustStoreAssociations). */
  users: string[];
  /** Load balancers associated with the trust store whose listeners could not be read. */
  unreadable: string[];
  /** Objects deploy wrote under the prefix; null when objects are not to be deleted. */
  objects: DeployObject[] | null;
  /** With objects: a deploy lease of this trust store is left in the bucket (a run was killed). */
  lease: {key: string} | null;
}

export interface DestroyOptions {
  /** Destroy a trust store without deploy's records. */
  force: boolean;
  /** Also delete objects deploy wrote under the prefix that this trust store does not hold. */
  allObjects: boolean;
}

export type DestroyListenerAction = 'detach' | 'unchanged' | 'absent';

export interface DestroyPlan {
  listeners: Array<{arn: string; action: DestroyListenerAction; reason: string; before: MutualAuthentication | null; after: MutualAuthentication | null}>;
  objects: {delete: DeployObject[]; keep: DeployObject[]} | null;
  /** A lease left by a killed run: taken over and released (deleted) like deploy's own. */
  lease: {key: string} | null;
  revocations: Array<{revocationId: number; entries: number}>;
  trustStore: {action: 'delete' | 'absent'; arn: string | null};
  changes: boolean;
}

const OFF: MutualAuthentication = {mode: 'off', trustStoreArn: null, ignoreClientCertificateExpiry: false, advertiseTrustStoreCaNames: 'off'};

/**
 * Computes the destroy plan.
 * @returns the plan; `changes` is false when nothing is left to do.
 * @throws MtlsKitError (exit 4) TRUST_STORE_NOT_DEPLOYED without `force` for a trust store
 *   without deploy's records; TRUST_STORE_USED_BY_OTHER_LISTENERS when a listener that is not
 *   named uses it; LISTENER_USES_OTHER_TRUST_STORE for a named listener that verifies against
 *   another trust store.
 */
export function planDestroy(name: string, s: DestroyState, o: DestroyOptions): DestroyPlan {
  const ts = s.trustStore;
  if (ts && !ts.deployed && !o.force) {
    throw new MtlsKitError({
      code: 'TRUST_STORE_NOT_DEPLOYED',
      message: `trust store ${ts.name} (${ts.arn}) carries no mtls-kit deploy records, so it was not made by mtls-kit deploy and may belong to another team`,
      suggestions: [
        `check who uses it: aws elbv2 describe-tags --resource-arns ${ts.arn}`,
        'to destroy it anyway, re-run with --force (a deploy stopped before it finished also leaves no records: re-running that deploy writes them)',
      ],
      details: {trustStoreArn: ts.arn},
    });
  }
  const named = new Set(s.named.map((n) => n.arn));
  const others = s.users.filter((arn) => !named.has(arn));
  if (ts && (others.length > 0 || s.unreadable.length > 0)) {
    const what = [...others.map((a) => `listener ${a}`), ...s.unreadable.map((a) => `load balancer ${a} (its listeners could not be read)`)];
    throw new MtlsKitError({
      code: 'TRUST_STORE_USED_BY_OTHER_LISTENERS',
      message: `trust store ${ts.name} is still used by ${what.join(', ')}, which destroy was not asked to detach; AWS refuses to delete a trust store in use (TrustStoreInUse)`,
      suggestions: [
        others.length
          ? `to turn mutual TLS off there too, add ${others.map((a) => `--listener-arn ${a}`).join(' ')}`
          : `check it: aws elbv2 describe-trust-store-associations --trust-store-arn ${ts.arn}`,
        'or point those listeners at another trust store first (mtls-kit deploy --listener-arn ... --trust-store-name <other>)',
      ],
      details: {trustStoreArn: ts.arn, listeners: others, loadBalancers: s.unreadable},
    });
  }
  const listeners = s.named.map(({arn, listener}): DestroyPlan['listeners'][number] => {
    if (!listener) return {arn, action: 'absent', reason: 'no such listener', before: null, after: null};
    const m = listener.mutualAuthentication;
    if (m.mode !== 'verify') return {arn, action: 'unchanged', reason: `Mode=${m.mode} uses no trust store`, before: m, after: m};
    if (!ts || m.trustStoreArn !== ts.arn) {
      throw new MtlsKitError({
        code: 'LISTENER_USES_OTHER_TRUST_STORE',
        message: `listener ${arn} verifies clients against ${m.trustStoreArn ?? 'another trust store'}, not ${ts ? ts.arn : `trust store ${name}`}; destroy does not change it`,
        suggestions: [
          'drop it from --listener-arn; to turn its mutual TLS off, destroy the trust store it uses, or: aws elbv2 modify-listener --listener-arn <arn> --mutual-authentication Mode=off',
        ],
        details: {listenerArn: arn, trustStoreArn: m.trustStoreArn},
      });
    }
    return {arn, action: 'detach', reason: 'verifies against this trust store', before: m, after: OFF};
  });
  const objects = s.objects
    ? {delete: s.objects.filter((x) => x.holds !== null || o.allObjects), keep: s.objects.filter((x) => x.holds === null && !o.allObjects)}
    : null;
  const revocations = ts?.revocations ?? [];
  const changes =
    listeners.some((l) => l.action === 'detach') || (objects?.delete.length ?? 0) > 0 || revocations.length > 0 || ts !== null || s.lease !== null;
  return {listeners, objects, lease: s.lease, revocations, trustStore: {action: ts ? 'delete' : 'absent', arn: ts?.arn ?? null}, changes};
}

/** `destroy --json` (docs/json.md): what was (or, with --dry-run, would be) removed. */
export interface DestroyResult {
  dryRun: boolean;
  region: string;
  bucket: string;
  /** True when this run made (or, with --dry-run, would make) a mutating call. */
  changed: boolean;
  /** "nothing to destroy", or what was done in one line. */
  summary: string;
  trustStore: {
    name: string;
    /** Null when there was no such trust store. */
    arn: string | null;
    action: 'delete' | 'absent';
    /** Whether it carried deploy's records (null when absent); without them destroy needs --force. */
    deployed: boolean | null;
  };
  /** Each --listener-arn: its MutualAuthentication before and after (null when the listener does not exist). */
  listeners: Array<{arn: string; action: DestroyListenerAction; reason: string; before: MutualAuthentication | null; after: MutualAuthentication | null}>;
  revocations: {removed: Array<{revocationId: number; entries: number}>};
  objects: {
    /** --delete-objects was given. */
    requested: boolean;
    /** Objects deploy wrote under the prefix that were (would be) deleted. */
    /** `holds` lease: the deploy lease a killed run left (`<prefix>locks/<name>.json`). */
    deleted: Array<{key: string; uri: string; holds: 'bundle' | 'crl' | 'lease' | null; versionId: string | null}>;
    /** Objects deploy wrote under the prefix that this trust store does not hold (kept without --all-objects). */
    kept: Array<{key: string; uri: string; versionId: string | null}>;
    /** The bucket keeps versions: a delete leaves the earlier versions (S3 adds a delete marker). */
    versioned: boolean;
  };
}
