import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {dirFlag, passphraseFileFlag} from '../flags.js';
import {type RenewResult, runRenew} from '../flows/renew.js';
import {KEY_TYPE_NAMES} from '../lib/x509/profiles.js';
import {hint, printLine, stderrProgress} from '../ui/output.js';

export type {RenewedCert, RenewResult} from '../flows/renew.js';

export default class Renew extends BaseCommand {
  static override summary = 'Reissue client certificates with the same subject and SANs (same key, or --new-key), and optionally revoke the old ones.';
  static override description =
    `For a client folder (certificate.crt, chain.pem, private-key.pem as gen-client and sign write them), a certificate file, or a folder of client folders (a fleet), issues a new certificate from the CA in --dir with the same subject and SANs and the client profile, writes certificate.crt and chain.pem in place (atomically), and records it in the index. The key stays the same unless --new-key, which writes a new private-key.pem (0600, same key type unless --key-type). --revoke-old marks the old serials revoked (reason superseded) once every new certificate is recorded; then run mtls-kit crl. Each new certificate is recorded in index.txt before it replaces the old one, so Ctrl-C or kill -9 never leaves a certificate the CA does not know; re-running the same command finishes what was left.

The lifetime is the old certificate's unless --days.

Exit codes: 0 renewed; 2 bad flag values; 4 no CA, a certificate this CA did not issue, an unreadable certificate; 130 stopped by Ctrl-C (what was renewed is recorded).`;

  static override examples = [
    '<%= config.bin %> renew device-1/',
    '<%= config.bin %> renew device-1/ --new-key --revoke-old',
    '<%= config.bin %> renew ./fleet --days 90 --json',
  ];

  static override strict = false;
  static override args = {};

  static override flags = {
    dir: dirFlag,
    'new-key': Flags.boolean({summary: 'Generate a new key (private-key.pem is replaced) instead of certifying the same key again.', default: false}),
    'key-type': Flags.option({summary: "Key type for --new-key (default: the old key's type).", options: KEY_TYPE_NAMES, dependsOn: ['new-key']})(),
    'revoke-old': Flags.boolean({summary: 'Revoke the old certificate (reason superseded) in the index.', default: false}),
    days: Flags.integer({summary: "Lifetime in days (default: the old certificate's).", min: 1}),
    'passphrase-file': passphraseFileFlag,
  };

  async run(): Promise<RenewResult> {
    const {argv, flags} = await this.parse(Renew);
    const result = await runRenew(
      {
        dir: flags.dir,
        targets: argv as string[],
        newKey: flags['new-key'],
        keyType: flags['key-type'],
        revokeOld: flags['revoke-old'],
        days: flags.days,
        passphraseFile: flags['passphrase-file'],
      },
      {now: new Date(), onProgress: this.jsonEnabled() ? undefined : stderrProgress()},
    );
    return this.emit(result, (r) => {
      for (const c of r.renewed)
        printLine(
          `renewed ${c.subject} in ${c.folder}: ${c.oldSerial} → ${c.newSerial}, expires ${c.notAfter}${c.newKey ? ', new key' : ', same key'}${c.oldRevoked ? `; ${c.oldSerial} revoked (superseded)` : ''}`,
        );
      hint(`next: ${r.next}${flags['revoke-old'] ? '   (publishes the revocations)' : ''}`);
    });
  }
}
