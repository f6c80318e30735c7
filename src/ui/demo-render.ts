/**
 * What `mtls-kit demo` prints for people: each mode explained where its steps start, every
 * step with what ALB or API Gateway does and what happened, and the verdict last.
 */
import type {DemoResult, DemoStep} from '../flows/demo.js';
import {hint, out, printLine} from './output.js';

/** Printed above the first step of each mode. */
const MODE_NOTES: Partial<Record<DemoStep['name'], string[]>> = {
  'no-certificate': [
    "ALB verify mode: the load balancer checks the client's chain against the trust store and its CRLs,",
    'rejects a failing client in the TLS handshake, and sends the target the leaf in X-Amzn-Mtls-Clientcert-* headers.',
  ],
  passthrough: [
    'ALB passthrough mode: the load balancer checks nothing; it forwards the whole chain the client sent',
    'in X-Amzn-Mtls-Clientcert, and the target must check it itself.',
  ],
  'apigw-no-certificate': [
    'API Gateway (custom domain with mutual TLS): the truststore is checked in the handshake, but no CRL;',
    'a Lambda authorizer decides the rest and can pass the subject to the backend.',
  ],
};

/** The walkthrough; the curl commands only when the folder and listeners are still there. */
export function renderDemo(r: DemoResult): void {
  printLine(out.bold('mtls-kit demo: mutual TLS on a local ALB and API Gateway'));
  for (const l of r.listeners) printLine(out.dim(`  ${l.mode.padEnd(11)} ${l.url} → echo backend`));
  for (const s of r.steps) {
    const note = MODE_NOTES[s.name];
    if (note) printLine('\n' + note.map((l) => out.cyan(l)).join('\n'));
    printLine('\n' + out.bold(s.title) + ' ' + (s.ok ? out.green('✓') : out.red('✗ unexpected')));
    if (r.kept) printLine(`  $ ${s.curl}`);
    printLine(out.dim(`  expected: ${s.expected}`));
    if (s.httpStatus === null) printLine(`  → no HTTP response: the TLS connection was closed (${s.clientError ?? 'closed'})`);
    else printLine(`  → HTTP ${s.httpStatus}`);
    if (s.headers) {
      printLine('  headers the backend received:');
      for (const [k, v] of Object.entries(s.headers)) printLine(`    ${out.cyan(k)}: ${v.length > 100 ? v.slice(0, 97) + '…' : v}`);
    }
    if (s.decoded && s.decoded.length > 0) {
      printLine('  decoded:');
      for (const [i, d] of s.decoded.entries()) {
        const sent = d.matches ? out.green(' (the certificate sent)') : out.red(' (differs from the certificate sent)');
        printLine(`    [${i}] subject ${d.subject}, issuer ${d.issuer}, serial ${d.serial}${sent}`);
      }
    }
    if (s.connectionLog) printLine(`  ${s.name.startsWith('apigw-') ? 'log' : 'connection log'}: ${out.dim(s.connectionLog)}`);
  }
  if (!r.kept)
    hint(
      '\nthe temporary folder and the listeners are gone now; mtls-kit demo --keep runs the same steps, prints a curl command for each and leaves the listeners running until Ctrl-C',
    );
  printLine('\n' + verdict(r));
}

/** "all 8 steps behaved as ALB (4) and API Gateway (4) do", or which did not. */
function verdict(r: DemoResult): string {
  const gw = r.steps.filter((s) => s.name.startsWith('apigw-'));
  const alb = r.steps.filter((s) => !s.name.startsWith('apigw-'));
  const who = [alb.length > 0 ? `ALB (${alb.length})` : '', gw.length > 0 ? `API Gateway (${gw.length})` : ''].filter(Boolean).join(' and ');
  if (r.ok) return out.green(`all ${r.steps.length} steps behaved as ${who} ${alb.length > 0 && gw.length > 0 ? 'do' : 'does'} (${r.seconds.toFixed(1)} s)`);
  const bad = r.steps.filter((s) => !s.ok).map((s) => s.title);
  return out.red(`${bad.length} of ${r.steps.length} steps did not behave as ${who} would: ${bad.join('; ')}`);
}

/** With --keep: where the files are and that the listeners keep running. */
export function renderKeptRunning(r: DemoResult): void {
  printLine(`\nfiles kept in ${r.dir}; the listeners keep running, so the curl commands above work as printed:`);
  for (const l of r.listeners) printLine(`  ${l.mode.padEnd(11)} ${l.url}`);
  hint('press Ctrl-C to stop them (the files stay); to start them again later:');
  if (r.serveCommand) hint(`  ${r.serveCommand}`);
  if (r.apigwServeCommand) hint(`  ${r.apigwServeCommand}`);
}
