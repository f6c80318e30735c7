/**
 * The `list` table: one row per certificate, columns padded to the widest value.
 * Built as one string (100,000 rows are written with one write).
 */
import type {ListedCert} from '../lib/pki/inventory.js';
import {out} from './output.js';

const HEAD = ['STATUS', 'EXPIRES', 'DAYS', 'SERIAL', 'TIER', 'SUBJECT'];

/** The table with a header line and a trailing newline. */
export function renderInventory(rows: ListedCert[]): string {
  const w = HEAD.map((h) => h.length);
  for (const r of rows) {
    if (r.status.length > w[0]!) w[0] = r.status.length;
    if (r.notAfter.length > w[1]!) w[1] = r.notAfter.length;
    const days = String(r.daysLeft).length;
    if (days > w[2]!) w[2] = days;
    if (r.serial.length > w[3]!) w[3] = r.serial.length;
    if (r.tier.length > w[4]!) w[4] = r.tier.length;
  }
  const plain = out.level === 0;
  const parts: string[] = [out.bold(HEAD.map((h, i) => h.padEnd(w[i]!)).join('  ').trimEnd()), '\n'];
  for (const r of rows) {
    const status = r.status.padEnd(w[0]!);
    parts.push(plain ? status : r.status === 'revoked' ? out.red(status) : r.status === 'expired' ? out.yellow(status) : status, '  ', r.notAfter.padEnd(w[1]!), '  ', String(r.daysLeft).padEnd(w[2]!), '  ', r.serial.padEnd(w[3]!), '  ', r.tier.padEnd(w[4]!), '  ', r.subject, '\n');
  }
  return parts.join('');
}
