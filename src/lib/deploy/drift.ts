/**
 * Drift between what is on disk, what S3 holds, what the trust store actually holds and
 * what the listener uses; plus CRL freshness. Pure: the status command gathers the bytes.
 */
import {createHash} from 'node:crypto';
import type {CrlSummary} from './crl-summary.js';
import {type MutualAuthentication, sameMutual} from './plan.js';
import {sameCertificates} from './record.js';
import {plural} from '../plural.js';

export interface DriftCheck {
  name: string;
  ok: boolean;
  /** A warning does not fail status (e.g. a CRL that expires soon). */
  severity: 'error' | 'warning' | 'info';
  detail: string;
  fix?: string;
}

export interface CrlFreshness {
  source: string;
  issuer: string;
  crlNumber: string | null;
  nextUpdate: string | null;
  /** Days until nextUpdate (negative when passed), or null without nextUpdate. */
  daysLeft: number | null;
  state: 'ok' | 'near' | 'expired' | 'no-next-update';
}

export interface DriftInput {
  bundle: {path: string; data: Uint8Array; key: string; certificates: string[]};
  crls: Array<{path: string; data: Uint8Array; key: string; summary: CrlSummary}>;
  /** The S3 objects at the local keys (undefined = missing). */
  s3: Map<string, Uint8Array | undefined>;
  bucket: string;
  trustStore: null | {
    name: string;
    arn: string;
    status: string;
    /** Certificate fingerprints of the copy it holds. */
    certificates: string[];
    revocations: Array<{revocationId: number; summary: CrlSummary | null}>;
  };
  trustStoreName: string;
  listener: null | {arn: string; actual: MutualAuthentication; expected: Omit<MutualAuthentication, 'trustStoreArn'>};
  now: Date;
  warnDays: number;
}

export interface DriftResult {
  drift: boolean;
  checks: DriftCheck[];
  crls: CrlFreshness[];
}

const DAY = 86_400_000;

/**
 * Compares local, S3, trust store and listener.
 * @returns every check; `drift` is true when any check with severity error failed.
 */
export function computeDrift(d: DriftInput): DriftResult {
  const checks: DriftCheck[] = [];
  const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
  const s3Check = (path: string, key: string, data: Uint8Array): void => {
    const remote = d.s3.get(key);
    const uri = `s3://${d.bucket}/${key}`;
    if (remote === undefined)
      checks.push({name: 's3-object', ok: false, severity: 'error', detail: `${uri} (for ${path}) does not exist`, fix: 'run mtls-kit deploy to upload it'});
    else if (sha(remote) !== sha(data))
      checks.push({
        name: 's3-object',
        ok: false,
        severity: 'error',
        detail: `${uri} was changed: it no longer holds ${path}`,
        fix: 'run mtls-kit deploy to restore it, and find out who wrote to the bucket',
      });
    else checks.push({name: 's3-object', ok: true, severity: 'info', detail: `${uri} holds ${path}`});
  };
  s3Check(d.bundle.path, d.bundle.key, d.bundle.data);
  for (const c of d.crls) s3Check(c.path, c.key, c.data);

  const ts = d.trustStore;
  if (!ts) {
    checks.push({
      name: 'trust-store',
      ok: false,
      severity: 'error',
      detail: `trust store ${d.trustStoreName} does not exist`,
      fix: 'run mtls-kit deploy to create it',
    });
  } else {
    if (ts.status !== 'ACTIVE')
      checks.push({
        name: 'trust-store-status',
        ok: false,
        severity: 'warning',
        detail: `trust store ${ts.name} is ${ts.status}`,
        fix: 'wait until it is ACTIVE',
      });
    // Compared as sets: a reordered or de-duplicated copy holds the same trust.
    const same = sameCertificates(ts.certificates, d.bundle.certificates);
    checks.push(
      same
        ? {
            name: 'trust-store-bundle',
            ok: true,
            severity: 'info',
            detail: `trust store ${ts.name} holds the ${plural(ts.certificates.length, 'certificate')} of ${d.bundle.path}`,
          }
        : {
            name: 'trust-store-bundle',
            ok: false,
            severity: 'error',
            detail: `trust store ${ts.name} holds ${plural(ts.certificates.length, 'certificate')}, not the ${plural(d.bundle.certificates.length, 'certificate')} of ${d.bundle.path}`,
            fix: 'run mtls-kit deploy to replace its bundle (ModifyTrustStore)',
          },
    );
    for (const c of d.crls) {
      const held = ts.revocations.find((r) => r.summary?.sha256 === c.summary.sha256);
      checks.push(
        held
          ? {name: 'trust-store-crl', ok: true, severity: 'info', detail: `${c.path} is revocation id ${held.revocationId}`}
          : {
              name: 'trust-store-crl',
              ok: false,
              severity: 'error',
              detail: `trust store ${ts.name} does not hold ${c.path} (${c.summary.issuerDn}, number ${c.summary.crlNumber ?? '-'})`,
              fix: 'run mtls-kit deploy to add it',
            },
      );
    }
    // The same CRL held twice (a retried AddTrustStoreRevocations whose answer was lost, or
    // two deploys at once) counts twice against the 30-list and entry quotas (aws-reference 3).
    const firstOf = new Map<string, number>();
    for (const r of ts.revocations) {
      const s = r.summary;
      if (!s) continue;
      const first = firstOf.get(s.sha256);
      if (first === undefined) firstOf.set(s.sha256, r.revocationId);
      else
        checks.push({
          name: 'trust-store-duplicate',
          ok: false,
          severity: 'error',
          detail: `trust store ${ts.name} holds the same CRL twice: revocation ids ${first} and ${r.revocationId} (${s.issuerDn}, number ${s.crlNumber ?? '-'})`,
          fix: 'run mtls-kit deploy to remove the copy',
        });
    }
    for (const r of ts.revocations) {
      const s = r.summary;
      if (!s || d.crls.some((c) => c.summary.sha256 === s.sha256)) continue;
      if (d.crls.some((c) => c.summary.issuerId === s.issuerId)) {
        checks.push({
          name: 'trust-store-crl',
          ok: false,
          severity: 'error',
          detail: `trust store ${ts.name} still holds revocation id ${r.revocationId}, another CRL of ${s.issuerDn} (number ${s.crlNumber ?? '-'})`,
          fix: 'run mtls-kit deploy to remove the superseded list',
        });
      }
    }
  }

  if (d.listener) {
    const expected: MutualAuthentication = {...d.listener.expected, trustStoreArn: d.listener.expected.mode === 'verify' ? (ts?.arn ?? null) : null};
    const a = d.listener.actual;
    checks.push(
      sameMutual(a, expected)
        ? {
            name: 'listener',
            ok: true,
            severity: 'info',
            detail: `listener ${d.listener.arn} uses Mode=${a.mode}${a.mode === 'verify' ? ` with ${a.trustStoreArn}` : ''}${formatFiltersSuffix(a)}`,
          }
        : {
            name: 'listener',
            ok: false,
            severity: 'error',
            detail: `listener ${d.listener.arn} has Mode=${a.mode}${a.trustStoreArn ? `, TrustStoreArn=${a.trustStoreArn}` : ''}, IgnoreClientCertificateExpiry=${a.ignoreClientCertificateExpiry}, AdvertiseTrustStoreCaNames=${a.advertiseTrustStoreCaNames}${formatFiltersSuffix(a)}; expected Mode=${expected.mode}${expected.trustStoreArn ? `, TrustStoreArn=${expected.trustStoreArn}` : ''}, IgnoreClientCertificateExpiry=${expected.ignoreClientCertificateExpiry}, AdvertiseTrustStoreCaNames=${expected.advertiseTrustStoreCaNames}${formatFiltersSuffix(expected)}`,
            fix: 'run mtls-kit deploy --listener-arn <arn> to set it',
          },
    );
  }

  // CRL freshness, for the local files and for what the trust store actually serves.
  const crls: CrlFreshness[] = [];
  const seen = new Set<string>();
  const freshness = (source: string, s: CrlSummary): void => {
    if (seen.has(s.sha256)) return;
    seen.add(s.sha256);
    const daysLeft = s.nextUpdate ? Math.floor((s.nextUpdate.getTime() - d.now.getTime()) / DAY) : null;
    const state: CrlFreshness['state'] = !s.nextUpdate
      ? 'no-next-update'
      : s.nextUpdate.getTime() <= d.now.getTime()
        ? 'expired'
        : daysLeft! < d.warnDays
          ? 'near'
          : 'ok';
    crls.push({
      source,
      issuer: s.issuerDn,
      crlNumber: s.crlNumber,
      nextUpdate: s.nextUpdate ? s.nextUpdate.toISOString().replace('.000Z', 'Z') : null,
      daysLeft,
      state,
    });
    if (state === 'expired')
      checks.push({
        name: 'crl-next-update',
        ok: false,
        severity: 'error',
        detail: `${source} (${s.issuerDn}): nextUpdate ${s.nextUpdate!.toISOString()} has passed`,
        fix: 'issue a new CRL (mtls-kit crl) and run mtls-kit deploy',
      });
    else if (state === 'near')
      checks.push({
        name: 'crl-next-update',
        ok: false,
        severity: 'warning',
        detail: `${source} (${s.issuerDn}): nextUpdate in ${plural(daysLeft ?? 0, 'day')}`,
        fix: 'issue a new CRL soon (mtls-kit crl) and run mtls-kit deploy',
      });
  };
  for (const c of d.crls) freshness(c.path, c.summary);
  for (const r of ts?.revocations ?? []) if (r.summary) freshness(`revocation id ${r.revocationId}`, r.summary);

  return {drift: checks.some((c) => !c.ok && c.severity === 'error'), checks, crls};
}

/** NLB listeners: `, ClientCertificateIdentityFilters=[a, b]` (none: `[]`); ALB: nothing (aws-reference 9.4). */
export function formatFiltersSuffix(m: {identityFilters?: string[] | undefined}): string {
  return m.identityFilters ? `, ClientCertificateIdentityFilters=[${m.identityFilters.join(', ')}]` : '';
}
