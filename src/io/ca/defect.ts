/**
 * `gen-client --defect <kind>`: build the bad certificate (lib/defects.ts), write it like
 * any client certificate, record it in the index, and for `revoked` revoke it and write
 * the CRL.
 */
import type {ClientIssuer} from '../../lib/pki/client-cert.js';
import {buildDefect, type DefectKind, type DefectMaterial} from '../../lib/alb/defects.js';
import type {SanInput} from '../../lib/x509/issue.js';
import type {NameEntry} from '../../lib/x509/names.js';
import type {KeySpec} from '../../lib/x509/profiles.js';
import {revokeInIndex} from '../../lib/pki/revoke.js';
import {type LoadedCa, recordIssued, updateIndex} from './directory.js';
import {type ClientFiles, writeClientFiles} from './client-files.js';
import {writeTierCrl} from './crl.js';
import {MODE_PUBLIC, writeFileAtomic} from '../files.js';

export interface DefectWriteParams {
  ca: LoadedCa;
  issuer: ClientIssuer;
  kind: DefectKind;
  unsupportedKey?: 'rsa-1024' | 'ed25519';
  keySpec: KeySpec;
  subject: NameEntry[][];
  sans: SanInput[];
  serialHex: string;
  days: number;
  files: ClientFiles;
  indexFile: string;
  force: boolean;
}

export interface DefectWriteResult {
  material: DefectMaterial;
  /** The CRL written for `revoked`. */
  crl: string | null;
  /** The throwaway CA written for `untrusted` (beside the client's files). */
  throwawayCa: string | null;
}

/** Writes a defect certificate and everything it needs. */
export async function writeDefect(p: DefectWriteParams): Promise<DefectWriteResult> {
  const material = buildDefect({
    kind: p.kind,
    issuer: p.issuer,
    subject: p.subject,
    sans: p.sans,
    keySpec: p.keySpec,
    days: p.days,
    now: new Date(),
    serialHex: p.serialHex,
    indexFile: p.indexFile,
    ...(p.unsupportedKey ? {unsupportedKey: p.unsupportedKey} : {}),
  });
  // Recorded before the files appear (directory.ts), like every certificate.
  await recordIssued(p.ca.issuing.paths, material.indexEntries);
  writeClientFiles(p.files, material.issued, [], p.force);
  let throwawayCa: string | null = null;
  if (material.throwawayCaPem) {
    throwawayCa = p.files.certificate.replace(/[^/]+$/, 'throwaway-ca.crt');
    await writeFileAtomic(throwawayCa, material.throwawayCaPem, MODE_PUBLIC, {force: p.force});
  }
  let crl: string | null = null;
  if (material.revoke) {
    await updateIndex(p.ca.issuing.paths, (entries) => {
      const r = revokeInIndex({entries, serial: material.issued.parsed.serialHex, reason: 'keyCompromise', now: new Date(), force: false});
      return {...(r.outcome === 'revoked' ? {entries: r.entries} : {}), value: undefined};
    });
    crl = (await writeTierCrl(p.ca.issuing, p.issuer.key, 30, false)).path;
  }
  return {material, crl, throwawayCa};
}
