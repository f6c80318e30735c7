/**
 * The CA's index of issued certificates, in the `openssl ca` index.txt format so that
 * `openssl ca -gencrl` can read the very same file (the CRL benchmark does):
 *
 *   status \t expiry \t revocation[,reason] \t serial \t file \t subject
 *
 * status V (valid), R (revoked) or E (expired); times as YYMMDDHHMMSSZ (UTCTime form,
 * GeneralizedTime form YYYYMMDDHHMMSSZ from 2050 on, as openssl writes them).
 */
import {MtlsKitError} from '../errors.js';
import {INPUT_LIMITS, inputLimitError} from '../limits.js';

export const REVOCATION_REASONS = [
  'unspecified',
  'keyCompromise',
  'CACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  // 7 is unused in RFC 5280 5.3.1
  'removeFromCRL',
  'privilegeWithdrawn',
  'AACompromise',
] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

/** RFC 5280 5.3.1 CRLReason code for a reason name. */
export function reasonCode(reason: RevocationReason): number {
  const i = REVOCATION_REASONS.indexOf(reason);
  return i >= 7 ? i + 1 : i;
}

export interface IndexEntry {
  status: 'V' | 'R' | 'E';
  notAfter: Date;
  revokedAt?: Date;
  reason?: RevocationReason;
  /** ALB-form hex serial. */
  serial: string;
  /** Where the certificate was written, or `unknown`. */
  file: string;
  /** Subject in OpenSSL's one-line form (/C=US/O=Acme/CN=device-1). */
  subject: string;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** openssl ca's time form. */
export function formatIndexTime(d: Date): string {
  const y = d.getUTCFullYear();
  const head = y >= 1950 && y < 2050 ? pad2(y % 100) : String(y);
  return `${head}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}${pad2(d.getUTCSeconds())}Z`;
}

/** Parses openssl ca's time form. */
export function parseIndexTime(s: string): Date {
  const m = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) throw new Error(`bad index time "${s}"`);
  let year = Number(m[1]);
  if (m[1]!.length === 2) year = year >= 50 ? 1900 + year : 2000 + year;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

/** One index line (with its trailing newline). */
export function formatIndexLine(e: IndexEntry): string {
  let rev = '';
  if (e.status === 'R' && e.revokedAt) rev = formatIndexTime(e.revokedAt) + (e.reason ? `,${e.reason}` : '');
  const subject = e.subject.replace(/[\t\n]/g, ' ');
  return `${e.status}\t${formatIndexTime(e.notAfter)}\t${rev}\t${e.serial}\t${e.file || 'unknown'}\t${subject}\n`;
}

/**
 * Parses a whole index file.
 * @throws MtlsKitError BAD_INDEX naming the file and line.
 */
export function parseIndex(text: string, source: string): IndexEntry[] {
  const out: IndexEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    if (line.length > INPUT_LIMITS.indexLineChars) throw indexLineTooLong(source, i, line.length);
    const f = line.split('\t');
    try {
      if (f.length < 6) throw new Error('expected 6 tab-separated fields');
      const status = f[0] as IndexEntry['status'];
      if (status !== 'V' && status !== 'R' && status !== 'E') throw new Error(`unknown status "${f[0]}"`);
      const e: IndexEntry = {status, notAfter: parseIndexTime(f[1]!), serial: f[3]!.toUpperCase(), file: f[4]!, subject: f.slice(5).join('\t')};
      if (f[2]) {
        const [t, reason] = f[2].split(',');
        e.revokedAt = parseIndexTime(t!);
        if (reason) e.reason = reason as RevocationReason;
      }
      out.push(e);
    } catch (error) {
      throw new MtlsKitError({
        code: 'BAD_INDEX',
        message: `${source} line ${i + 1}: ${(error as Error).message}`,
        suggestions: ['the index is in openssl ca index.txt format; restore it from a backup or fix the line'],
      });
    }
  }
  return out;
}

/** INPUT_LIMIT for line `i` (0-based) of an index, `chars` long. */
export function indexLineTooLong(source: string, i: number, chars: number): MtlsKitError {
  return inputLimitError(`${source} line ${i + 1}`, 'indexLineChars', `a line of ${chars.toLocaleString('en-US')} characters`);
}
