/**
 * Human output of destroy: each listener before and after, each object, the revocation
 * lists and the trust store, with what was (or would be) done.
 */
import type {DestroyResult} from '../lib/deploy/destroy-plan.js';
import {describeMutual} from './deploy-render.js';
import {hint, out, printLine, warn} from './output.js';

/** Renders a DestroyResult on stdout (warnings and hints on stderr). */
export function renderDestroy(r: DestroyResult): void {
  const verb = (past: string, future: string): string => out.red(r.dryRun ? future : past);
  if (r.dryRun) printLine(out.bold('plan (--dry-run: nothing was changed)'));
  for (const l of r.listeners) {
    if (l.action === 'detach') printLine(`${verb('detached', 'would detach')} listener ${l.arn}`);
    else printLine(`${out.dim(l.action === 'absent' ? 'absent' : 'unchanged')} listener ${l.arn}  ${out.dim(l.reason)}`);
    if (l.before) printLine(`  before: ${describeMutual(l.before)}`);
    if (l.action === 'detach' && l.after) printLine(`  after:  ${describeMutual(l.after)}`);
  }
  for (const o of r.objects.deleted)
    printLine(
      `${verb('deleted', 'would delete')} ${o.uri}${o.holds ? out.dim(o.holds === 'lease' ? ' (the deploy lease a stopped run left)' : ` (the trust store's ${o.holds === 'bundle' ? 'CA bundle' : 'CRL'})`) : ''}`,
    );
  for (const o of r.objects.kept)
    printLine(`${out.dim('kept')} ${o.uri}  ${out.dim('(written by deploy, not held by this trust store; --all-objects deletes it)')}`);
  const entries = r.revocations.removed.reduce((n, x) => n + x.entries, 0);
  if (r.revocations.removed.length)
    printLine(
      `${verb('removed', 'would remove')} revocation id${r.revocations.removed.length === 1 ? '' : 's'} ${r.revocations.removed.map((x) => x.revocationId).join(', ')} (${entries} revoked entr${entries === 1 ? 'y' : 'ies'})`,
    );
  const t = r.trustStore;
  if (t.action === 'delete') printLine(`${verb('deleted', 'would delete')} trust store ${t.name}  ${t.arn}`);
  else printLine(`${out.dim('absent')} trust store ${t.name}  ${out.dim('(no such trust store)')}`);
  if (r.objects.versioned && r.objects.deleted.length)
    warn(
      `s3://${r.bucket} keeps versions: the deleted objects' earlier versions stay (S3 added a delete marker); remove them with aws s3api delete-object --version-id, or a lifecycle rule for noncurrent versions`,
    );
  printLine(r.changed ? `${r.dryRun ? '' : 'done: '}${r.summary}` : 'nothing to destroy');
  if (!r.objects.requested && r.changed) hint('the S3 objects deploy wrote were left; --delete-objects deletes those this trust store holds');
  if (r.dryRun && r.changed) hint('apply it: re-run without --dry-run (with --yes when not at a terminal)');
}
