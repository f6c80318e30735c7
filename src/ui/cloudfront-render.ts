/**
 * Human output of `deploy`, `status` and `destroy --cloudfront-trust-store`.
 */
import type {CloudfrontDeployResult, CloudfrontDestroyResult, CloudfrontStatusResult, ViewerMtls} from '../lib/cloudfront/deploy-plan.js';
import {plural} from '../lib/plural.js';
import {hint, out, printLine} from './output.js';

const mtls = (v: ViewerMtls | null): string =>
  v
    ? `${v.mode}, trust store ${v.trustStoreId ?? '(the one to create)'}${v.advertiseTrustStoreCaNames ? ', advertise CA names' : ''}${v.ignoreCertificateExpiry ? ', ignore expiry' : ''}`
    : 'off';

export function renderCloudfrontDeploy(r: CloudfrontDeployResult): void {
  if (r.dryRun) printLine(out.bold('plan (--dry-run: nothing was changed)'));
  const did = (action: string, past: string, future: string): string => (action === 'unchanged' ? out.dim('unchanged') : out.green(r.dryRun ? future : past));
  printLine(
    `${did(r.bundle.action, 'uploaded', 'would upload')} s3://${r.bucket}/${r.bundle.key}  ← ${r.bundle.path}, ${plural(r.bundle.certificates, 'certificate')}`,
  );
  const t = r.trustStore;
  printLine(
    `${did(t.action, t.action === 'create' ? 'created' : 'updated', t.action === 'create' ? 'would create' : 'would update')} CloudFront trust store ${t.name}${t.id ? ` ${t.id}` : ''}${t.status ? ` (${t.status}${t.numberOfCaCertificates !== null ? `, ${plural(t.numberOfCaCertificates, 'CA certificate')}` : ''})` : ''}: ${t.reason}`,
  );
  for (const d of r.distributions)
    printLine(
      `${did(d.action, 'set viewer mTLS on', 'would set viewer mTLS on')} distribution ${d.id}: ${d.reason}${out.dim(d.action === 'unchanged' ? `  ${mtls(d.to)}` : `  ${mtls(d.from)} → ${mtls(d.to)}`)}`,
    );
  printLine(r.changed ? `${r.dryRun ? '' : 'done: '}${r.summary}` : 'unchanged: nothing to do');
  if (r.dryRun && r.changed) hint('apply it: re-run without --dry-run');
}

export function renderCloudfrontStatus(r: CloudfrontStatusResult): void {
  const t = r.trustStore;
  printLine(
    `CloudFront trust store ${t.name}: ${t.id ? `${t.status}, ${plural(t.numberOfCaCertificates ?? 0, 'CA certificate')}, OCSP ${t.ocsp ? 'on' : 'off'}  ${t.arn}` : 'not found'}`,
  );
  for (const d of r.distributions) printLine(`distribution ${d.id}: viewer mTLS ${mtls(d.viewerMtls)}`);
  for (const c of r.checks) printLine(`${c.ok ? out.green('ok  ') : out.red('DRIFT')} ${c.detail}${!c.ok && c.fix ? out.dim(`  → ${c.fix}`) : ''}`);
  printLine(r.drift ? out.red('drift found') : 'in sync');
}

export function renderCloudfrontDestroy(r: CloudfrontDestroyResult): void {
  if (r.dryRun) printLine(out.bold('plan (--dry-run: nothing was changed)'));
  for (const d of r.distributions)
    printLine(
      `${d.action === 'turn-off' ? out.green(r.dryRun ? 'would turn off viewer mTLS on' : 'turned off viewer mTLS on') : out.dim('unchanged')} distribution ${d.id}: ${d.reason}`,
    );
  if (r.lease)
    printLine(`${out.green(r.dryRun ? 'would delete' : 'deleted')} the deploy lease ${r.lease.uri} (left by a deploy that was killed or is still running)`);
  printLine(r.changed ? `${r.dryRun ? '' : 'done: '}${r.summary}` : r.summary);
}
