import {join} from 'node:path';
import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {dirFlag, passphraseFileFlag} from '../flags.js';
import {type OcspCheckResult, runOcspCheck} from '../flows/ocsp-check.js';
import {startOcspResponder} from '../io/net/ocsp-responder.js';
import {resolveSecret} from '../io/secrets.js';
import {waitForStopSignal} from '../io/stop-signal.js';
import {ExitCode, usageError} from '../lib/errors.js';
import {hint, out, printErr, printLine, stderrProgress} from '../ui/output.js';

export type {OcspCheckResult} from '../flows/ocsp-check.js';

/** `ocsp --json`: printed once, when the responder listens. */
export interface OcspResult {
  dir: string;
  /** The URL to give gen-ca / gen-client --ocsp-url. */
  url: string;
  host: string;
  port: number;
  /** The CA tiers that answer, root first. */
  tiers: string[];
}

/** `[HOST:]PORT` → host and port. */
function parseListen(v: string): {host: string; port: number} {
  const m = /^(?:(\[[^\]]+\]|[^:]+):)?(\d{1,5})$/.exec(v.trim());
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65535) throw usageError('BAD_LISTEN', `--listen "${v}" is not [HOST:]PORT`, ['e.g. --listen 8888 or --listen 127.0.0.1:8888']);
  return {host: m[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1', port};
}

export default class Ocsp extends BaseCommand {
  static override summary = "Answer OCSP for the CA directory's certificates (an HTTP OCSP responder); or check a client chain by OCSP as CloudFront does.";
  static override description =
    `Every CA tier of --dir (root, intermediate) answers for the certificates it issued: good, revoked (with the time and reason of mtls-kit revoke) or unknown, read from its index.txt (re-read when it changes, so a revocation takes effect on the next request), signed with the tier's own key, the request's nonce echoed, valid for one hour. POST (application/ocsp-request) and GET are answered (RFC 6960 A.1). Put the URL into what the CA issues with gen-ca --ocsp-url and gen-client --ocsp-url. Runs until Ctrl-C; one line per answer on stderr.

--json prints one JSON object on stdout once listening: {dir, url, host, port, tiers}.

With --check CHAIN --trust-store BUNDLE it is the other side, CloudFront's check with OCSP on: the chain is verified against the bundle, then the leaf and up to three intermediates (never the root) are each asked of the OCSP responder in their authorityInfoAccess; a certificate without one, a revoked or unknown one, an unreachable responder or an answer not signed by the issuer fails. --json: {chain, trustStore, path: {status, code, length}, ocsp: {ok, code, checks: [{position, subject, serial, url, outcome, detail, code}]} | null, ok}.

Exit codes: 0 stopped by Ctrl-C or SIGTERM, or --check passed; 2 bad --listen, neither --listen nor --check; 3 --check failed (path or OCSP); 4 no CA in --dir, wrong or missing passphrase, port in use, a --check file missing.`;

  static override examples = [
    '<%= config.bin %> ocsp --listen 8888',
    '<%= config.bin %> ocsp --dir ./pki-devices --listen 127.0.0.1:8888 --passphrase-file ./ca-pass.txt',
    '<%= config.bin %> ocsp --check device-1/chain.pem --trust-store pki/ca-bundle.pem',
  ];

  static override flags = {
    dir: dirFlag,
    listen: Flags.string({summary: 'Address to answer on, [HOST:]PORT (host default 127.0.0.1).', helpValue: '[HOST:]PORT', exclusive: ['check']}),
    check: Flags.string({
      summary: 'Check this client chain (leaf first) by OCSP as CloudFront does, instead of answering.',
      helpValue: 'CHAIN',
      dependsOn: ['trust-store'],
    }),
    'trust-store': Flags.string({summary: 'With --check: the CA bundle (the CloudFront trust store).', helpValue: 'FILE', dependsOn: ['check']}),
    'passphrase-file': passphraseFileFlag,
  };

  async run(): Promise<OcspResult | OcspCheckResult | undefined> {
    const {flags} = await this.parse(Ocsp);
    if (flags.check) return this.check(flags.check, flags['trust-store']!);
    if (!flags.listen)
      throw usageError('NO_MODE', 'give --listen [HOST:]PORT to answer OCSP, or --check CHAIN --trust-store BUNDLE to ask', [
        'e.g. mtls-kit ocsp --listen 8888',
      ]);
    const {host, port} = parseListen(flags.listen);
    const passphrase = await resolveSecret(flags['passphrase-file'], 'MTLS_KIT_CA_PASSPHRASE', 'CA passphrase');
    const running = await startOcspResponder({
      dir: flags.dir,
      host,
      port,
      passphrase,
      onAnswer: (a) =>
        printErr(
          `ocsp: ${a.method} ${a.responseStatus}${a.answers.length ? ` ${a.answers.map((x) => `${x.serial} ${x.status}${x.tier ? ` (${x.tier})` : ''}`).join(', ')}` : ''}${a.problem ? `: ${a.problem}` : ''}`,
        ),
    });
    const result: OcspResult = {dir: flags.dir, url: running.url, host, port: running.port, tiers: running.tiers};
    if (this.jsonEnabled()) process.stdout.write(JSON.stringify(result) + '\n');
    else {
      printLine(`answering OCSP for ${flags.dir} (${result.tiers.join(', ')}) at ${result.url}`);
      hint(`issue with it: mtls-kit gen-client --dir ${flags.dir} --cn device-1 --ocsp-url ${result.url}`);
      hint(
        `check one: openssl ocsp -url ${result.url} -issuer ${join(flags.dir, result.tiers.at(-1)!, 'ca.crt')} -cert device-1/certificate.crt -CAfile ${join(flags.dir, 'ca-bundle.pem')}`,
      );
    }
    await waitForStopSignal();
    await running.close();
    // The ready object was the JSON result; nothing more on stdout.
    return undefined;
  }

  /** --check: CloudFront's OCSP check of one chain. */
  private async check(chain: string, trustStore: string): Promise<OcspCheckResult> {
    const r = await runOcspCheck({chain, trustStore, now: new Date(), onProgress: stderrProgress()});
    if (!r.ok) this.resultExitCode = ExitCode.VerificationFailed;
    return this.emit(r, (x) => {
      printLine(`${x.ok ? out.green('OCSP: passed') : out.red('OCSP: failed')} ${x.chain} (path ${x.path.status}, ${x.path.length} certificates)`);
      for (const c of x.ocsp?.checks ?? [])
        printLine(
          `  ${c.position === 0 ? 'leaf' : `intermediate ${c.position}`} ${c.serial} ${c.subject}: ${c.outcome}${c.url ? ` from ${c.url}` : ''} (${c.detail})`,
        );
      if (x.ocsp) printLine(out.dim(`  the root (the trust store's certificate) is not checked, as on CloudFront`));
    });
  }
}
