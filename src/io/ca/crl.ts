/**
 * Writing a tier's CRL: the shared tail of `mtls-kit crl` and `gen-client --defect revoked`.
 */
import type {KeyObject} from 'node:crypto';
import {buildCrl, formatCrlNumberFile, parseCrlNumberFile} from '../../lib/x509/crl.js';
import {crlEntriesFromIndexText} from '../../lib/pki/revoke.js';
import {type LoadedTier, withIndexLock} from './directory.js';
import {MODE_PUBLIC, type PlannedFile, readTextIfExists, writeFilesAtomic} from '../files.js';

export interface WriteTierCrlResult {
  path: string;
  derPath: string | null;
  entries: number;
  crlNumber: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  sizeBytes: number;
  skippedNegative: string[];
}

/**
 * Signs the tier's CRL from its index.txt and writes crl.pem (+ crl.der), and crlnumber
 * with the next number (openssl ca keeps the next one there), all-or-nothing.
 */
export async function writeTierCrl(tier: LoadedTier, key: KeyObject, days: number, der: boolean): Promise<WriteTierCrlResult> {
  // Under the index lock: the CRL sees every revocation recorded before it, and two crl
  // runs never take the same CRL number.
  return withIndexLock(tier.paths, () => writeTierCrlLocked(tier, key, days, der));
}

async function writeTierCrlLocked(tier: LoadedTier, key: KeyObject, days: number, der: boolean): Promise<WriteTierCrlResult> {
  const crlNumber = parseCrlNumberFile(await readTextIfExists(tier.paths.crlNumber));
  const entries = crlEntriesFromIndexText((await readTextIfExists(tier.paths.index)) ?? '', tier.paths.index);
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const nextUpdate = new Date(now.getTime() + days * 86_400_000);
  const built = buildCrl({issuer: tier.cert, issuerKey: key, entries, crlNumber, thisUpdate: now, nextUpdate});
  const files: PlannedFile[] = [
    {path: tier.paths.crl, data: built.pem, mode: MODE_PUBLIC},
    {path: tier.paths.crlNumber, data: formatCrlNumberFile(crlNumber + 1n), mode: MODE_PUBLIC},
  ];
  if (der) files.push({path: tier.paths.crlDer, data: built.der, mode: MODE_PUBLIC});
  await writeFilesAtomic(files, {force: true});
  return {
    path: tier.paths.crl,
    derPath: der ? tier.paths.crlDer : null,
    entries: built.entries,
    crlNumber,
    thisUpdate: now,
    nextUpdate,
    sizeBytes: Buffer.byteLength(built.pem, 'latin1'),
    skippedNegative: built.skippedNegative,
  };
}
