import {Args, Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {dirFlag, forceFlag} from '../flags.js';
import {loadCa, type LoadedTier, readIndex, updateIndex} from '../io/ca/directory.js';
import type {CaRef} from '../lib/pki/ca.js';
import {formatRfc2253, slashFormToRfc2253} from '../lib/x509/dn.js';
import {inputName, readInput} from '../io/files.js';
import {preconditionError, usageError} from '../lib/errors.js';
import {REVOCATION_REASONS, type RevocationReason} from '../lib/x509/index-db.js';
import {readCertificates} from '../lib/x509/read-certs.js';
import {revokeInIndex} from '../lib/pki/revoke.js';
import {parseSerial} from '../lib/x509/serial.js';
import {escapeTerminal} from '../ui/escape.js';
import {hint, printLine, warn} from '../ui/output.js';

export interface RevokeResult {
  serial: string;
  /** The CA whose index records the revocation. */
  ca: CaRef;
  index: string;
  reason: RevocationReason;
  revokedAt: string;
  /** True when the serial was already revoked (nothing changed). */
  alreadyRevoked: boolean;
  /** RFC 2253. */
  subject: string;
  next: string;
}

/** index.txt holds OpenSSL's /C=../CN=.. form; JSON speaks RFC 2253 (as it was written, if unreadable). */
function indexSubjectRfc2253(s: string): string {
  return slashFormToRfc2253(s);
}

export default class Revoke extends BaseCommand {
  static override summary = 'Revoke a client certificate in the CA index, by serial or by certificate file.';
  static override description =
    `Records the revocation in the issuing CA's index.txt (openssl ca format). The serial may be given as ALB prints it (03A5B1), as openssl prints it (03:a5:b1) or in decimal with a dec: prefix (dec:238001). Then run mtls-kit crl to write the CRL that ALB reads.

Revoking a certificate twice changes nothing. A serial the CA never issued is refused unless --force.

Exit codes: 0 revoked (or already revoked); 2 bad serial or flags, a --cert file of another kind; 4 no CA, unknown serial, or unreadable --cert file.`;

  static override examples = [
    '<%= config.bin %> revoke 03A5B1 --reason keyCompromise',
    '<%= config.bin %> revoke --cert ./clients/device-1/device-1.crt --reason superseded',
    '<%= config.bin %> revoke 3a:5f:00:91 --dir ./pki-devices --json',
  ];

  static override args = {
    serial: Args.string({description: 'Serial number: ALB hex (03A5B1), openssl colon hex (03:a5:b1) or dec:<decimal>.', required: false}),
  };

  static override flags = {
    dir: dirFlag,
    cert: Flags.string({summary: 'Revoke the certificate in this PEM/DER file instead of giving its serial.', helpValue: 'FILE'}),
    reason: Flags.option({summary: 'RFC 5280 revocation reason, put on the CRL entry.', options: REVOCATION_REASONS, default: 'unspecified' as const})(),
    issuer: Flags.option({
      summary: 'The CA tier that issued the certificate (default: the tier whose index holds the serial, else the issuing tier).',
      options: ['root', 'intermediate'] as const,
    })(),
    force: Flags.boolean({...forceFlag, summary: 'Record a serial the index does not know.'}),
  };

  async run(): Promise<RevokeResult> {
    const {args, flags} = await this.parse(Revoke);
    if (!args.serial && !flags.cert)
      throw usageError('SERIAL_REQUIRED', 'give the serial to revoke, or --cert FILE', ['e.g. mtls-kit revoke 03A5B1, or mtls-kit revoke --cert device-1.crt']);
    if (args.serial && flags.cert) throw usageError('SERIAL_AND_CERT', 'give either a serial or --cert, not both');
    const ca = await loadCa(flags.dir);
    for (const w of ca.warnings) warn(w);
    let serial: string;
    let certIssuer: Uint8Array | undefined;
    if (flags.cert) {
      const [cert] = readCertificates(await readInput(flags.cert), inputName(flags.cert), {wanted: 'a certificate'});
      serial = cert!.serialHex;
      certIssuer = cert!.issuer;
    } else {
      serial = parseSerial(args.serial!);
    }
    if (serial.startsWith('-'))
      throw usageError('NEGATIVE_SERIAL', `serial ${serial} is negative; ALB cannot revoke certificates with negative serials`, [
        'reissue the certificate with a positive serial',
      ]);

    const tiers: LoadedTier[] = [ca.issuing, ...[ca.root, ca.intermediate].filter((t): t is LoadedTier => t !== undefined && t !== ca.issuing)];
    let tier: LoadedTier | undefined;
    if (flags.issuer) {
      tier = flags.issuer === 'root' ? ca.root : ca.intermediate;
      if (!tier) throw usageError('NO_SUCH_TIER', `the CA in ${flags.dir} has no ${flags.issuer} tier`, ['leave out --issuer']);
    } else if (certIssuer) {
      tier = tiers.find((t) => Buffer.compare(t.cert.subject, certIssuer!) === 0);
      if (!tier)
        throw preconditionError('NOT_ISSUED_HERE', `${flags.cert} was not issued by the CA in ${flags.dir}`, ['pass the --dir of the CA that issued it']);
    }
    if (!tier) {
      for (const t of tiers) {
        if ((await readIndex(t.paths)).some((x) => x.serial === serial)) {
          tier = t;
          break;
        }
      }
      tier ??= ca.issuing;
    }
    // Decided again under the index lock on the index as it is then, so a line another
    // command appended meanwhile (a fleet, a sign) is kept and can be revoked.
    const r = await updateIndex(tier.paths, (current) => {
      const x = revokeInIndex({entries: current, serial, reason: flags.reason, now: new Date(), force: flags.force});
      return {...(x.outcome === 'revoked' ? {entries: x.entries} : {}), value: x};
    });
    if (r.outcome === 'unknown') {
      throw preconditionError('SERIAL_NOT_FOUND', `serial ${serial} is not in ${tier.paths.index}; the CA in ${flags.dir} never issued it`, [
        'check the serial (mtls-kit inspect <cert> prints it), or the --dir of the CA',
        'to record it anyway (a certificate this CA issued outside mtls-kit), re-run with --force',
      ]);
    }
    const dirArg = flags.dir === './pki' || flags.dir === 'pki' ? '' : ` --dir ${flags.dir}`;
    const result: RevokeResult = {
      serial,
      ca: {tier: tier.tier, subject: formatRfc2253(tier.cert.subject)},
      index: tier.paths.index,
      reason: (r.entry.reason ?? 'unspecified') as RevocationReason,
      revokedAt: r.entry.revokedAt!.toISOString().replace('.000Z', 'Z'),
      alreadyRevoked: r.outcome === 'already-revoked',
      subject: indexSubjectRfc2253(r.entry.subject),
      next: `mtls-kit crl${dirArg}${tier.tier === ca.issuing.tier ? '' : ` --issuer ${tier.tier}`}`,
    };
    return this.emit(result, (x) => {
      if (x.alreadyRevoked) hint(`notice: ${x.serial} was already revoked on ${x.revokedAt} (${x.reason}); nothing changed`);
      else printLine(`revoked ${x.serial} (${escapeTerminal(x.subject)}) in ${x.index}, reason ${x.reason}`);
      hint(`next: ${x.next}   (writes the CRL that ALB reads)`);
    });
  }
}
