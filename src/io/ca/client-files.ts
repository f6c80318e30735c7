/**
 * Loading the issuing CA for signing, and writing a client certificate's files
 * (private-key.pem 0600, certificate.crt, chain.pem, optional PKCS#12).
 */
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {parseCertificate} from '../../lib/x509/cert.js';
import type {IndexEntry} from '../../lib/x509/index-db.js';
import {parsePem} from '../../lib/x509/pem.js';
import {preconditionError} from '../../lib/errors.js';
import type {ClientIssuer, IssuedClient} from '../../lib/pki/client-cert.js';
import {exportPkcs8, keyMatchesSpki, loadPrivateKey} from '../../lib/x509/issue.js';
import {type LoadedCa, readTierKey} from './directory.js';
import {MODE_PUBLIC, MODE_SECRET, type PlannedFile, writeFilesAtomicSync} from '../files.js';

export const CLIENT_FILE_NAMES = {
  key: 'private-key.pem',
  certificate: 'certificate.crt',
  chain: 'chain.pem',
  p12: 'certificate.p12',
  p12Legacy: 'certificate-legacy.p12',
} as const;

export interface ClientFiles {
  key: string;
  certificate: string;
  chain: string;
  p12?: string;
  p12Legacy?: string;
}

/** What commands report for each issued certificate. */
export interface IssuedSummary {
  subject: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  sha256Fingerprint: string;
  files: ClientFiles;
}

/** The paths a client certificate is written to in `dir`. */
export function clientFilePaths(dir: string, opts: {p12?: boolean; p12Legacy?: boolean} = {}): ClientFiles {
  return {
    key: join(dir, CLIENT_FILE_NAMES.key),
    certificate: join(dir, CLIENT_FILE_NAMES.certificate),
    chain: join(dir, CLIENT_FILE_NAMES.chain),
    ...(opts.p12 ? {p12: join(dir, CLIENT_FILE_NAMES.p12)} : {}),
    ...(opts.p12Legacy ? {p12Legacy: join(dir, CLIENT_FILE_NAMES.p12Legacy)} : {}),
  };
}

/**
 * Reads the issuing tier's key and checks it belongs to its certificate.
 * @returns the issuer and the key's PKCS#8 DER (for worker threads; never written).
 * @throws MtlsKitError PASSPHRASE_REQUIRED / WRONG_PASSPHRASE / KEY_MISMATCH (exit 4).
 */
export async function loadIssuer(ca: LoadedCa, passphrase: string | undefined): Promise<{issuer: ClientIssuer; keyPkcs8Der: Uint8Array}> {
  const tier = ca.issuing;
  const pem = await readTierKey(tier);
  const {key, spec} = loadPrivateKey(pem, tier.paths.key, passphrase);
  if (!keyMatchesSpki(key, tier.cert.publicKey.spki)) {
    throw preconditionError('KEY_MISMATCH', `${tier.paths.key} does not belong to ${tier.paths.cert}`, [
      'restore the matching key, or re-create the CA with mtls-kit gen-ca --force',
    ]);
  }
  const chain = ca.issuing.tier === 'intermediate' ? [ca.issuing.cert] : [];
  return {issuer: {cert: tier.cert, key, spec, chain}, keyPkcs8Der: exportPkcs8(key)};
}

/** Extra files (PKCS#12) to write beside the PEMs. */
export interface ExtraFile {
  path: string;
  data: Uint8Array;
}

/**
 * Writes one client's files all-or-nothing.
 * @throws MtlsKitError FILE_EXISTS (exit 4) without force.
 */
export function writeClientFiles(paths: ClientFiles, issued: IssuedClient, extra: ExtraFile[], force: boolean, durable = true): void {
  const files: PlannedFile[] = [
    {path: paths.key, data: issued.keyPem, mode: MODE_SECRET},
    {path: paths.certificate, data: issued.certPem, mode: MODE_PUBLIC},
    {path: paths.chain, data: issued.chainPem, mode: MODE_PUBLIC},
    ...extra.map((e) => ({path: e.path, data: e.data, mode: MODE_SECRET})),
  ];
  writeFilesAtomicSync(files, {force, durable: durable || Boolean(process.env.MTLS_KIT_DURABLE)});
}

/**
 * Whether a certificate's folder already holds what an earlier run of the same command
 * issued: its key (unless `needsKey` is false: sign, whose keys live elsewhere), and a certificate whose serial the index records for this very file.
 * Anything else there (unreadable, another serial, unrecorded) is not ours to skip.
 */
export function isRecordedFolder(job: {files: ClientFiles; indexFile: string}, recorded: ReadonlyMap<string, IndexEntry>, needsKey = true): boolean {
  if (needsKey && !existsSync(job.files.key)) return false;
  try {
    const blocks = parsePem(readFileSync(job.files.certificate, 'utf8'), job.files.certificate);
    if (blocks.length !== 1) return false;
    const cert = parseCertificate(blocks[0]!.der);
    return recorded.get(cert.serialHex)?.file === job.indexFile;
  } catch {
    return false;
  }
}

/**
 * The certificate files a renew target names: a certificate file, a client folder
 * (certificate.crt), or a folder of client folders (a fleet), sorted.
 * @throws MtlsKitError FILE_NOT_FOUND, NO_CERTIFICATE (exit 4).
 */
export function clientCertificateFiles(target: string): string[] {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(target);
  } catch {
    throw preconditionError('FILE_NOT_FOUND', `${target} does not exist`, [
      'pass a client folder (with certificate.crt), a certificate file, or a fleet folder',
    ]);
  }
  if (!st.isDirectory()) return [target];
  const own = join(target, CLIENT_FILE_NAMES.certificate);
  if (existsSync(own)) return [own];
  const fleet = readdirSync(target, {withFileTypes: true})
    // Hidden folders are staging folders of the fleet protocol (journal.ts), never targets.
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && existsSync(join(target, e.name, CLIENT_FILE_NAMES.certificate)))
    .map((e) => join(target, e.name, CLIENT_FILE_NAMES.certificate))
    .sort();
  if (fleet.length === 0)
    throw preconditionError('NO_CERTIFICATE', `${target} holds no ${CLIENT_FILE_NAMES.certificate}, nor do its subfolders`, [
      'pass the folder gen-client or sign wrote',
    ]);
  return fleet;
}
