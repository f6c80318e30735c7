import {join} from 'node:path';
import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {dirFlag, passphraseFileFlag} from '../flags.js';
import {startOcspResponder} from '../io/net/ocsp-responder.js';
import {resolveSecret} from '../io/secrets.js';
import {waitForStopSignal} from '../io/stop-signal.js';
import {usageError} from '../lib/errors.js';
import {hint, printErr, printLine} from '../ui/output.js';

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
  static override summary = "Answer OCSP for the CA directory's certificates (an HTTP OCSP responder), as CloudFront's OCSP check asks it.";
  static override description =
    `Every CA tier of --dir (root, intermediate) answers for the certificates it issued: good, revoked (with the time and reason of mtls-kit revoke) or unknown, read from its index.txt (re-read when it changes, so a revocation takes effect on the next request), signed with the tier's own key, the request's nonce echoed, valid for one hour. POST (application/ocsp-request) and GET are answered (RFC 6960 A.1). Put the URL into what the CA issues with gen-ca --ocsp-url and gen-client --ocsp-url. Runs until Ctrl-C; one line per answer on stderr.

--json prints one JSON object on stdout once listening: {dir, url, host, port, tiers}.

Exit codes: 0 stopped by Ctrl-C or SIGTERM; 2 bad --listen; 4 no CA in --dir, wrong or missing passphrase, port in use.`;

  static override examples = [
    '<%= config.bin %> ocsp --listen 8888',
    '<%= config.bin %> ocsp --dir ./pki-devices --listen 127.0.0.1:8888 --passphrase-file ./ca-pass.txt',
  ];

  static override flags = {
    dir: dirFlag,
    listen: Flags.string({summary: 'Address to answer on, [HOST:]PORT (host default 127.0.0.1).', required: true, helpValue: '[HOST:]PORT'}),
    'passphrase-file': passphraseFileFlag,
  };

  async run(): Promise<OcspResult | undefined> {
    const {flags} = await this.parse(Ocsp);
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
}
