import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {dirFlag, passphraseFileFlag} from '../flags.js';
import {loadCa, readTierKey} from '../io/ca/directory.js';
import type {CaRef} from '../lib/pki/ca.js';
import {writeTierCrl} from '../io/ca/crl.js';
import {resolveSecret, withPassphrase} from '../io/secrets.js';
import {ALB_CRL_LIMITS} from '../lib/x509/crl.js';
import {formatRfc2253} from '../lib/x509/dn.js';
import {usageError} from '../lib/errors.js';
import {loadPrivateKey} from '../lib/x509/issue.js';
import {hint, printLine, warn, whenRelative} from '../ui/output.js';
import {plural} from '../lib/plural.js';

export interface CrlResult {
  /** The CA that signed the CRL. */
  ca: CaRef;
  path: string;
  derPath: string | null;
  entries: number;
  /** Decimal, as a string: CRL numbers may be up to 20 octets (RFC 5280 5.2.3). */
  crlNumber: string;
  thisUpdate: string;
  nextUpdate: string;
  sizeBytes: number;
  skippedNegative: string[];
  next: string;
}

export default class Crl extends BaseCommand {
  static override summary = "Write the CA's certificate revocation list (v2 CRL, PEM) for the ALB trust store.";
  static override description =
    `Signs a CRL with the issuing CA (the intermediate of a two-tier CA; --issuer root for the root's own CRL) from the revocations in its index.txt, and writes <tier>/crl.pem (and crl.der with --der). The CRL number comes from <tier>/crlnumber (openssl ca format) and increases on every run. ALB accepts only PEM CRLs, at most 50 MB and 500,000 entries per trust store.

Exit codes: 0 written; 2 bad flags; 4 no CA, missing or encrypted CA key without a passphrase.`;

  static override examples = [
    '<%= config.bin %> crl',
    '<%= config.bin %> crl --days 7 --der',
    '<%= config.bin %> crl --issuer root --dir ./pki-devices --json',
  ];

  static override flags = {
    dir: dirFlag,
    issuer: Flags.option({
      summary: 'The CA tier that signs the CRL (default: the tier that issues client certificates).',
      options: ['root', 'intermediate'] as const,
    })(),
    days: Flags.integer({summary: 'Days until nextUpdate.', default: 30, min: 1}),
    der: Flags.boolean({summary: 'Also write the CRL in DER (crl.der).', default: false}),
    'passphrase-file': passphraseFileFlag,
  };

  async run(): Promise<CrlResult> {
    const {flags} = await this.parse(Crl);
    const ca = await loadCa(flags.dir);
    for (const w of ca.warnings) warn(w);
    const tier = flags.issuer === undefined ? ca.issuing : flags.issuer === 'root' ? ca.root : ca.intermediate;
    if (!tier) throw usageError('NO_SUCH_TIER', `the CA in ${flags.dir} has no intermediate`, ['leave out --issuer, or use --issuer root']);
    const passphrase = await resolveSecret(flags['passphrase-file'], 'MTLS_KIT_CA_PASSPHRASE', 'CA passphrase');
    const keyPem = await readTierKey(tier);
    const {key: keyObject} = await withPassphrase(passphrase, 'CA key passphrase', async (p) => loadPrivateKey(keyPem, tier.paths.key, p));
    const w = await writeTierCrl(tier, keyObject, flags.days, flags.der);
    const result: CrlResult = {
      ca: {tier: tier.tier, subject: formatRfc2253(tier.cert.subject)},
      path: w.path,
      derPath: w.derPath,
      entries: w.entries,
      crlNumber: w.crlNumber.toString(),
      thisUpdate: w.thisUpdate.toISOString().replace('.000Z', 'Z'),
      nextUpdate: w.nextUpdate.toISOString().replace('.000Z', 'Z'),
      sizeBytes: w.sizeBytes,
      skippedNegative: w.skippedNegative,
      next: `mtls-kit lint ${ca.paths.bundle} ${tier.paths.crl}`,
    };
    return this.emit(result, (r) => {
      if (r.skippedNegative.length > 0)
        warn(`left out ${plural(r.skippedNegative.length, 'negative serial')} (ALB cannot revoke them): ${r.skippedNegative.slice(0, 3).join(', ')}`);
      if (r.entries > ALB_CRL_LIMITS.maxEntriesPerTrustStore) warn(`${r.entries} entries is more than ALB's 500,000 per trust store`);
      if (r.sizeBytes > ALB_CRL_LIMITS.maxFileBytes) warn(`${r.sizeBytes} bytes is more than ALB's 50 MB per CRL file`);
      printLine(
        `wrote ${r.path}${r.derPath ? ` and ${r.derPath}` : ''}: CRL #${r.crlNumber} by ${r.ca.subject}, ${r.entries} revoked entr${r.entries === 1 ? 'y' : 'ies'}, next update ${whenRelative(r.nextUpdate)}`,
      );
      hint(`next: ${r.next}   (then upload ${r.path} to the trust store)`);
    });
  }
}
