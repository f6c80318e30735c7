/**
 * Human output of `deploy --apigw-domain` and `status --apigw-domain`.
 */
import type {ApigwDeployResult, ApigwStatusResult} from '../lib/apigw/deploy-plan.js';
import {hint, out, printLine} from './output.js';
import {plural} from '../lib/plural.js';

/** Renders an ApigwDeployResult on stdout. */
export function renderApigwDeploy(r: ApigwDeployResult): void {
  const t = r.truststore;
  const d = r.domain;
  if (r.dryRun) printLine(out.bold('plan (--dry-run: nothing was changed)'));
  const did = (action: string, past: string, future: string): string => (action === 'unchanged' ? out.dim('unchanged') : out.green(r.dryRun ? future : past));
  printLine(
    `${did(t.action, 'uploaded', 'would upload')} ${t.uri}${t.versionId ? ` (version ${t.versionId})` : ''}  ← ${t.path}, ${plural(t.certificates, 'certificate')}`,
  );
  printLine(
    `${did(d.action, d.action === 'enable' ? 'turned on mutual TLS on' : 'updated', d.action === 'enable' ? 'would turn on mutual TLS on' : 'would update')} ${d.apiType === 'rest' ? 'REST' : 'HTTP'} API custom domain ${d.name}  (${d.status})`,
  );
  printLine(
    out.dim(
      `  truststore ${d.previous.truststoreUri ?? '(none)'}${d.previous.truststoreVersion ? ` version ${d.previous.truststoreVersion}` : ''} → ${d.truststoreUri}${d.truststoreVersion ? ` version ${d.truststoreVersion}` : ''}`,
    ),
  );
  for (const op of d.patchOperations) printLine(out.dim(`  patch op=${op.op},path=${op.path},value=${op.value}`));
  for (const w of r.warnings) printLine(`${out.yellow('warning')} ${w.certificate ? `${w.certificate}: ` : ''}${w.warning}`);
  for (const e of r.executeApiEndpoints)
    printLine(
      `${e.enabled ? out.yellow('warn') : out.green('ok  ')} API ${e.apiId}: default execute-api endpoint ${e.enabled ? 'enabled (bypasses mutual TLS)' : 'disabled'}`,
    );
  printLine(r.changed ? `${r.dryRun ? '' : 'done: '}${r.summary}` : 'unchanged: nothing to do');
  if (r.dryRun && r.changed) hint('apply it: re-run without --dry-run');
}

/** Renders an ApigwStatusResult on stdout. */
export function renderApigwStatus(r: ApigwStatusResult): void {
  const d = r.domain;
  printLine(
    `custom domain ${d.name} (${d.apiType === 'rest' ? 'REST' : 'HTTP'} APIs): ${d.status}, truststore ${d.truststoreUri ?? '(mutual TLS off)'}${d.truststoreVersion ? ` version ${d.truststoreVersion}` : ''}`,
  );
  for (const c of r.checks) {
    const mark = c.ok ? out.green('ok  ') : c.severity === 'warning' ? out.yellow('warn') : out.red('DRIFT');
    printLine(`${mark} ${c.detail}${!c.ok && c.fix ? out.dim(`  → ${c.fix}`) : ''}`);
  }
  for (const w of r.warnings) printLine(`${out.yellow('warning')} ${w.certificate ? `${w.certificate}: ` : ''}${w.warning}`);
  printLine(r.drift ? out.red('drift found') : 'in sync');
}
