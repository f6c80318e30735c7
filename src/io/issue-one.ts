/**
 * Issue one client certificate and write its files: the unit of work shared by
 * `gen-client` (main thread) and fleet workers.
 */
import {type ClientIssuer, type IssuedClient, issueClientCert} from '../lib/client-cert.js';
import type {SanInput} from '../lib/issue.js';
import type {NameEntry} from '../lib/names.js';
import type {KeySpec} from '../lib/profiles.js';
import {type ClientFiles, type ExtraFile, writeClientFiles} from './client-files.js';

export interface IssueOneParams {
  issuer: ClientIssuer;
  keySpec: KeySpec;
  subject: NameEntry[][];
  sans: SanInput[];
  serialHex: string;
  days: number;
  now: Date;
  files: ClientFiles;
  indexFile: string;
  force: boolean;
  /** fsync each file (default true; fleets turn it off, see fleet.ts). */
  durable?: boolean;
  p12?: {password: string; modern: boolean; legacy: boolean};
}

/** Issues, builds PKCS#12 files when asked, and writes everything all-or-nothing. */
export async function issueAndWrite(p: IssueOneParams): Promise<IssuedClient> {
  const issued = issueClientCert({
    issuer: p.issuer,
    keySpec: p.keySpec,
    subject: p.subject,
    sans: p.sans,
    days: p.days,
    now: p.now,
    serialHex: p.serialHex,
    indexFile: p.indexFile,
  });
  const extra: ExtraFile[] = [];
  writeClientFiles(p.files, issued, extra, p.force, p.durable ?? true);
  return issued;
}
