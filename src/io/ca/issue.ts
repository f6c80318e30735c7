/**
 * Issue one client certificate and write its files: the unit of work shared by
 * `gen-client` (main thread) and fleet workers.
 */
import {type ClientIssuer, type IssuedClient, issueClientCert} from '../../lib/pki/client-cert.js';
import type {IndexEntry} from '../../lib/x509/index-db.js';
import type {SanInput} from '../../lib/x509/issue.js';
import type {NameEntry} from '../../lib/x509/names.js';
import type {CertProfile, KeySpec} from '../../lib/x509/profiles.js';
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
  p12?: P12Options;
  /** The client profile when it is not the default one (gen-client --ocsp-url). */
  profile?: CertProfile;
  /** Records the index line; called after signing and before any file is written. */
  record?: (entry: IndexEntry) => void;
}

export interface P12Options {
  password: string;
  modern: boolean;
  legacy: boolean;
  friendlyName?: string;
}

/** Issues, builds PKCS#12 files when asked, records the certificate (`record`), then writes everything all-or-nothing. */
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
    ...(p.profile ? {profile: p.profile} : {}),
  });
  const extra: ExtraFile[] = [];
  if (p.p12 && (p.p12.modern || p.p12.legacy)) {
    // Loaded only when asked: the PKCS#12 module and its ASN.1 schemas cost ~100 ms to import.
    const {buildPkcs12} = await import('../../lib/x509/pkcs12.js');
    const base = {
      keyPkcs8Der: issued.keyPkcs8Der,
      certDer: issued.certDer,
      chainDer: p.issuer.chain.map((c) => c.der),
      password: p.p12.password,
      friendlyName: p.p12.friendlyName,
    };
    if (p.p12.modern && p.files.p12) extra.push({path: p.files.p12, data: buildPkcs12(base)});
    if (p.p12.legacy && p.files.p12Legacy) extra.push({path: p.files.p12Legacy, data: buildPkcs12({...base, legacy: true})});
  }
  p.record?.(issued.index);
  writeClientFiles(p.files, issued, extra, p.force, p.durable ?? true);
  return issued;
}
