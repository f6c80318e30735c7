/**
 * The `list` table: one row per certificate, columns padded to the widest value.
 * Built as one string (100,000 rows are written with one write); the cells that repeat
 * (status, tier) are padded and coloured once. Subjects come in RFC 2253 form with control
 * characters already escaped (dn.ts), and the terminal guard (output.ts) escapes whatever
 * else reaches stdout, so no row is escaped one by one.
 */
import type {CertStatus, ListedCert} from '../lib/pki/inventory.js';
import {out} from './output.js';

const HEAD = ['STATUS', 'EXPIRES', 'DAYS', 'SERIAL', 'TIER', 'SUBJECT'];
const STATUSES: CertStatus[] = ['valid', 'expired', 'revoked', 'superseded'];

/** The table with a header line and a trailing newline. */
export function renderInventory(rows: ListedCert[]): string {
  const w = HEAD.map((h) => h.length);
  w[0] = Math.max(w[0]!, ...STATUSES.map((s) => s.length));
  w[4] = Math.max(w[4]!, 'intermediate'.length);
  for (const r of rows) {
    if (r.notAfter.length > w[1]!) w[1] = r.notAfter.length;
    const days = String(r.daysLeft).length;
    if (days > w[2]!) w[2] = days;
    if (r.serial.length > w[3]!) w[3] = r.serial.length;
  }
  const spaces = Array.from({length: Math.max(...w) + 3}, (_, n) => ' '.repeat(n));
  const cell = (v: string, i: number): string => v + spaces[w[i]! - v.length + 2];
  const status: Record<string, string> = {};
  for (const s of STATUSES) {
    const padded = cell(s, 0);
    status[s] = s === 'revoked' ? out.red(padded) : s === 'expired' ? out.yellow(padded) : s === 'superseded' ? out.dim(padded) : padded;
  }
  const tier = {root: cell('root', 4), intermediate: cell('intermediate', 4)};
  const lines: string[] = [
    out.bold(
      HEAD.map((h, i) => h.padEnd(w[i]!))
        .join('  ')
        .trimEnd(),
    ),
  ];
  for (const r of rows) lines.push(status[r.status]! + cell(r.notAfter, 1) + cell(String(r.daysLeft), 2) + cell(r.serial, 3) + tier[r.tier] + r.subject);
  lines.push('');
  return lines.join('\n');
}
