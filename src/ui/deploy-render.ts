/**
 * Human output of deploy: one line per step with what was (or would be) done and the ARN.
 */
import {formatConnectionLogsUri} from '../lib/deploy/connection-logs.js';
import {formatFiltersSuffix} from '../lib/deploy/drift.js';
import type {DeployResult} from '../lib/deploy/result.js';
import {hint, out, printLine} from './output.js';
import {plural} from '../lib/plural.js';

const PAST: Record<string, string> = {create: 'created', modify: 'modified', unchanged: 'unchanged', upload: 'uploaded', add: 'added', remove: 'removed'};
const FUTURE: Record<string, string> = {
  create: 'would create',
  modify: 'would modify',
  unchanged: 'unchanged',
  upload: 'would upload',
  add: 'would add',
  remove: 'would remove',
};

/** Renders a DeployResult on stdout. */
export function renderDeploy(r: DeployResult): void {
  const verb = (a: string): string => {
    const word = (r.dryRun ? FUTURE : PAST)[a] ?? a;
    return a === 'unchanged' ? out.dim(word) : out.green(word);
  };
  if (r.dryRun) printLine(out.bold('plan (--dry-run: nothing was changed)'));
  for (const u of r.uploads) printLine(`${verb(u.action)} ${u.uri}${u.versionId ? ` (version ${u.versionId})` : ''}  ← ${u.path}`);
  const t = r.trustStore;
  printLine(`${verb(t.action)} trust store ${t.name}${t.arn ? `  ${t.arn}` : ''}`);
  if (t.status)
    printLine(
      `  status ${t.status}, ${plural(t.numberOfCaCertificates ?? 0, 'CA certificate')}, ${plural(t.totalRevokedEntries ?? 0, 'revoked entry', 'revoked entries')}`,
    );
  if (t.action !== 'unchanged') printLine(`  ${out.dim(t.reason)}`);
  for (const c of t.certificates?.added ?? []) printLine(`  ${out.green('+')} ${c.subject}  sha256 ${c.fingerprint}  expires ${c.notAfter}`);
  for (const c of t.certificates?.removed ?? []) printLine(`  ${out.red('-')} ${c.subject}  sha256 ${c.fingerprint}  expires ${c.notAfter}`);
  for (const a of r.revocations.added) {
    printLine(
      `${verb('add')} CRL ${a.path} (${a.issuer}, number ${a.crlNumber ?? '-'}, ${plural(a.entries, 'entry', 'entries')})${a.revocationId !== null ? ` → revocation id ${a.revocationId}` : ''}`,
    );
    const sc = a.serials;
    if (sc) {
      printLine(`  ${out.dim(`compared with the list it replaces: ${plural(sc.added, 'serial')} newly revoked, ${sc.removed} no longer revoked`)}`);
      if (sc.addedSerials.length) printLine(`  ${out.green('+')} ${sc.addedSerials.join(' ')}${sc.added > sc.addedSerials.length ? ' …' : ''}`);
      if (sc.removedSerials.length)
        printLine(`  ${out.red('-')} ${sc.removedSerials.join(' ')}${sc.removed > sc.removedSerials.length ? ' …' : ''}  ${out.yellow('(un-revoked)')}`);
    }
  }
  for (const d of r.revocations.removed)
    printLine(`${verb('remove')} revocation id ${d.revocationId} (${d.issuer}, number ${d.crlNumber ?? '-'}), superseded by ${d.supersededBy}`);
  for (const u of r.revocations.unchanged) printLine(`${verb('unchanged')} CRL ${u.path} (revocation id ${u.revocationId})`);
  if (r.revocations.kept.length)
    printLine(`${out.dim('kept')} revocation id${r.revocations.kept.length === 1 ? '' : 's'} ${r.revocations.kept.join(', ')} (issuers without a local CRL)`);
  for (const l of r.listeners) {
    printLine(`${verb(l.action)} listener ${l.arn ?? '(new)'}  ${describeMutual(l.mutualAuthentication)}`);
    if (l.action === 'modify' && l.previous) printLine(`  ${out.dim(`was ${describeMutual(l.previous)}`)}`);
  }
  for (const cl of r.connectionLogs) {
    printLine(`${verb(cl.action)} connection logs of ${cl.loadBalancerArn}  → ${cl.uri}`);
    if (cl.action === 'modify') printLine(`  ${out.dim(`was ${cl.previous.enabled ? formatConnectionLogsUri(cl.previous) : 'off'}`)}`);
  }
  const c = r.revocations.count;
  if (r.revocations.added.length || r.revocations.removed.length) {
    printLine(
      `  ${out.dim(`revocation lists ${c.now.lists} → ${c.after.lists} (at most ${c.peak.lists} of ${c.quotas.lists}), entries ${c.now.entries} → ${c.after.entries} (at most ${c.peak.entries} of ${c.quotas.entries}), order ${r.revocations.order}`)}`,
    );
  }
  for (const g of r.revocations.gaps)
    printLine(out.yellow(`gap: revoked certificates of ${g.issuer} were not enforced for ${g.ms} ms (old list removed before ${g.path} was added)`));
  printLine(r.changed ? `${r.dryRun ? '' : 'done: '}${r.summary}` : 'unchanged: nothing to do');
  if (r.dryRun && r.changed) hint('apply it: re-run without --dry-run');
}

/** MutualAuthentication in the CLI's own spelling (Mode=..., TrustStoreArn=...). */
export function describeMutual(m: DeployResult['listeners'][number]['mutualAuthentication']): string {
  return m.mode === 'verify'
    ? `Mode=verify, TrustStoreArn=${m.trustStoreArn ?? '(new trust store)'}, IgnoreClientCertificateExpiry=${m.ignoreClientCertificateExpiry}, AdvertiseTrustStoreCaNames=${m.advertiseTrustStoreCaNames}${formatFiltersSuffix(m)}`
    : `Mode=${m.mode}`;
}
