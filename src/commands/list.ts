import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {dirFlag} from '../flags.js';
import {loadCa, type LoadedTier} from '../io/ca/directory.js';
import {readBytesIfExists} from '../io/files.js';
import {Inventory, type ListedCert, type ListFilter, parseDuration, readIndexListing} from '../lib/pki/inventory.js';
import {escapeTerminal} from '../ui/escape.js';
import {writeInventoryJson, writeInventoryTable} from '../ui/inventory-render.js';
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

const writeStdout = (chunk: Uint8Array): void => {
  process.stdout.write(chunk);
};

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

  /** The rows of the result run() returned, for writing them without making an object per row. */
  private listed?: {result: ListResult; inventory: Inventory};

  /** 100,000 rows: written from the index's bytes (writeInventoryJson), the same bytes as JSON.stringify(result, null, 2). */
  protected override logJson(json: unknown): void {
    if (this.listed && json === this.listed.result) {
      const {caDir, now, total, count, filter} = this.listed.result;
      writeInventoryJson({caDir, now, total, count, filter}, this.listed.inventory, writeStdout);
    } else writePrettyJson(json);
  }

  async run(): Promise<ListResult> {
    const {flags} = await this.parse(List);
    const filter: ListFilter = {revoked: flags.revoked, expired: flags.expired, ...(flags.expiring ? {expiringWithinMs: parseDuration(flags.expiring)} : {})};
    const ca = await loadCa(flags.dir);
    for (const w of ca.warnings) warn(w);
    const tiers = [ca.root, ca.intermediate].filter((t): t is LoadedTier => t !== undefined && (!flags.tier || t.tier === flags.tier));
    const files = await Promise.all(tiers.map(async (t) => (await readBytesIfExists(t.paths.index)) ?? new Uint8Array(0)));
    const now = new Date();
    const inventory = new Inventory(tiers.map((t, i) => readIndexListing(files[i]!, t.paths.index, t.tier, filter, now)));
    let certificates: ListedCert[] | undefined;
    const result: ListResult = {
      caDir: flags.dir,
      now: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      total: inventory.listings.reduce((n, l) => n + l.lines, 0),
      count: inventory.count,
      filter: {expiringWithin: flags.expiring ?? null, revoked: flags.revoked, expired: flags.expired},
      // Made only when asked for: the table and the JSON are written from the inventory.
      get certificates(): ListedCert[] {
        certificates ??= inventory.certificates();
        return certificates;
      },
    };
    this.listed = {result, inventory};
    return this.emit(result, (r) => {
      if (r.count > 0) writeInventoryTable(inventory, writeStdout);
      hint(`${r.count} of ${r.total} certificate${r.total === 1 ? '' : 's'} in ${tiers.map((t) => t.paths.index).join(', ')}`);
      let k = 0;
      while (k < inventory.count && !(inventory.status(k) === 'valid' && inventory.expiry(k).days < 30)) k++;
      const soon = k < inventory.count ? inventory.cert(k) : undefined;
      if (soon)
        hint(
          `next: mtls-kit renew ${soon.file === 'unknown' ? '<client folder>' : soon.file}   (${escapeTerminal(soon.subject)} expires in ${soon.daysLeft} days)`,
        );
    });
  }
}
