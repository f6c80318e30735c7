import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {type DemoResult, runDemo} from '../io/demo-run.js';
import {hint, out, printLine} from '../ui/output.js';

export type {DemoResult};

export default class Demo extends BaseCommand {
  static override summary = 'Walk through ALB mTLS locally in a few seconds: no certificate, a good one, passthrough, a revoked one.';
  static override description = `In a temporary folder and on 127.0.0.1 only, creates a CA, a client certificate and a revoked one, starts a verify listener and a passthrough listener (mtls-kit serve) with the built-in echo backend, and shows:
  Step 1   no client certificate: the connection is cut before any HTTP response, and the connection-log line
  Step 2   with the certificate: the X-Amzn-Mtls-Clientcert-* headers the backend received, decoded
  Passthrough   the chain header X-Amzn-Mtls-Clientcert
  Revoked  a certificate on the CRL: Failed:ClientCertCrlHit
  API Gateway 1-4   the certificate-propagation pattern: an apigw listener with the Lambda authorizer the demo writes (it extracts the subject); no certificate fails the handshake, a good one reaches the backend with x-client-cert-sub, the revoked one passes the handshake (API Gateway checks no CRL) and the authorizer's Deny gives 403, a certificate from another CA fails the handshake
then stops everything. The requests are made with Node's https client; the curl commands printed do the same. --keep keeps the folder (and writes the server certificate there) so those commands and the printed serve command work afterwards.

--json: {dir, kept, listeners, steps: [{name, title, curl, expected, ok, httpStatus, clientError, connectionLog, verifyStatus, headers?, decoded?}], ok, serveCommand, apigwServeCommand, seconds}.

Exit codes: 0 every step behaved as ALB does; 3 a step did not.`;

  static override examples = ['<%= config.bin %> demo', '<%= config.bin %> demo --keep', '<%= config.bin %> demo --json'];

  static override flags = {
    keep: Flags.boolean({summary: 'Keep the temporary folder with the certificates, CRL and server certificate.', default: false}),
  };

  async run(): Promise<DemoResult> {
    const {flags} = await this.parse(Demo);
    const result = await runDemo({keep: flags.keep});
    if (!result.ok) this.resultExitCode = 3;
    return this.emit(result, renderDemo);
  }
}

function renderDemo(r: DemoResult): void {
  printLine(out.bold('mtls-kit demo: a local ALB with mutual TLS'));
  for (const l of r.listeners) printLine(out.dim(`  ${l.mode.padEnd(11)} ${l.url} → echo backend`));
  for (const s of r.steps) {
    printLine('\n' + out.bold(s.title) + ' ' + (s.ok ? out.green('✓') : out.red('✗ unexpected')));
    printLine(`  $ ${s.curl}`);
    printLine(out.dim(`  expected: ${s.expected}`));
    if (s.httpStatus === null) printLine(`  → no HTTP response: the TLS connection was closed (${s.clientError ?? 'closed'})`);
    else printLine(`  → HTTP ${s.httpStatus}`);
    if (s.headers) {
      printLine('  headers the backend received:');
      for (const [k, v] of Object.entries(s.headers)) printLine(`    ${out.cyan(k)}: ${v.length > 100 ? v.slice(0, 97) + '…' : v}`);
    }
    if (s.decoded && s.decoded.length > 0) {
      printLine('  decoded:');
      s.decoded.forEach((d, i) => printLine(`    [${i}] subject ${d.subject}, issuer ${d.issuer}, serial ${d.serial}${d.matches ? out.green(' (the certificate sent)') : out.red(' (differs from the certificate sent)')}`));
    }
    if (s.connectionLog) printLine(`  connection log: ${out.dim(s.connectionLog)}`);
  }
  printLine('\n' + (r.ok ? out.green(`all steps behaved as ALB does (${r.seconds.toFixed(1)} s)`) : out.red('some steps did not behave as ALB does')));
  if (r.kept) {
    printLine(`files kept in ${r.dir}`);
    if (r.serveCommand) printLine(`run the listeners again: ${r.serveCommand}`);
    if (r.apigwServeCommand) printLine(`and the API Gateway listener: ${r.apigwServeCommand}`);
  } else {
    hint('the temporary folder was removed; run mtls-kit demo --keep to keep the files the curl commands use');
  }
  hint('next: mtls-kit gen-ca, mtls-kit gen-client --cn device-1, then mtls-kit serve --port 8443 --target http://127.0.0.1:3000 for your own backend');
}
