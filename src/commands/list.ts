import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {dirFlag} from '../flags.js';
import {loadCa, type LoadedTier} from '../io/ca/directory.js';
import {readTextIfExists} from '../io/files.js';
import {type ListedCert, type ListFilter, listIndexText, mergeByExpiry, parseDuration} from '../lib/pki/inventory.js';
import {renderInventory} from '../ui/inventory-render.js';
import {escapeTerminal} from '../ui/escape.js';
import {hint, warn, writePrettyJson} from '../ui/output.js';

export interface ListResult {
  caDir: string;
  /** The time statuses and daysLeft were computed at. */
  now: string;
  /** Lines in the indexes read. */
  total: number;
  count: number;
  filter: {expiringWithin: string | null; revoked: boolean; expired: boolean};
  certificates: ListedCert[];
}

function countLines(text: string): number {
  let n = 0;
  for (let p = text.indexOf('\n'); p >= 0; p = text.indexOf('\n', p + 1)) n++;
  return n + (text.length > 0 && !text.endsWith('\n') ? 1 : 0);
}

export default class List extends BaseCommand {
  static override summary = 'List the certificates the CA issued (its index): subject, serial, status, expiry.';
  static override description =
    `Reads the index.txt of each tier of the CA in --dir (openssl ca format; every certificate gen-client, sign and renew issued, and the revocations) and prints one row per certificate, soonest expiry first. Subjects are in RFC 2253 form (as ALB logs them). Status is valid, expired (past notAfter), revoked, or superseded (a later certificate was written to the same file, by renew or gen-client --force; --expiring leaves these out).

Exit codes: 0 listed (also when nothing matches); 2 bad flag values; 4 no CA in --dir or a malformed index line.`;

  static override examples = ['<%= config.bin %> list', '<%= config.bin %> list --expiring 30d', '<%= config.bin %> list --revoked --json'];

  static override flags = {
    dir: dirFlag,
    expiring: Flags.string({
      summary: 'Only valid certificates that expire within this time (30d, 12h, 2w; a bare number is days).',
      helpValue: 'DURATION',
      exclusive: ['revoked', 'expired'],
    }),
    revoked: Flags.boolean({summary: 'Only revoked certificates.', default: false, exclusive: ['expired']}),
    expired: Flags.boolean({summary: 'Only expired certificates.', default: false}),
    tier: Flags.option({summary: 'Only the index of this tier (default: every tier).', options: ['root', 'intermediate'] as const})(),
  };

  /** 100,000 rows: plain JSON (oclif's colouring tokenizer takes seconds on 20 MB), written in pieces. */
  protected override logJson(json: unknown): void {
    writePrettyJson(json);
  }

  async run(): Promise<ListResult> {
    const {flags} = await this.parse(List);
    const filter: ListFilter = {revoked: flags.revoked, expired: flags.expired, ...(flags.expiring ? {expiringWithinMs: parseDuration(flags.expiring)} : {})};
    const ca = await loadCa(flags.dir);
    for (const w of ca.warnings) warn(w);
    const tiers = [ca.root, ca.intermediate].filter((t): t is LoadedTier => t !== undefined && (!flags.tier || t.tier === flags.tier));
    const texts = await Promise.all(tiers.map(async (t) => (await readTextIfExists(t.paths.index)) ?? ''));
    const now = new Date();
    const certificates = mergeByExpiry(tiers.map((t, i) => listIndexText(texts[i]!, t.paths.index, t.tier, filter, now)));
    const result: ListResult = {
      caDir: flags.dir,
      now: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      total: texts.reduce((n, x) => n + countLines(x), 0),
      count: certificates.length,
      filter: {expiringWithin: flags.expiring ?? null, revoked: flags.revoked, expired: flags.expired},
      certificates,
    };
    return this.emit(result, (r) => {
      if (r.count > 0) process.stdout.write(renderInventory(r.certificates));
      hint(`${r.count} of ${r.total} certificate${r.total === 1 ? '' : 's'} in ${tiers.map((t) => t.paths.index).join(', ')}`);
      const soon = r.certificates.find((c) => c.status === 'valid' && c.daysLeft < 30);
      if (soon)
        hint(
          `next: mtls-kit renew ${soon.file === 'unknown' ? '<client folder>' : soon.file}   (${escapeTerminal(soon.subject)} expires in ${soon.daysLeft} days)`,
        );
    });
  }
}
