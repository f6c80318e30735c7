/**
 * The CA directory on disk (`--dir`, MTLS_KIT_DIR, default ./pki):
 *
 *   ca.json                  what kind of CA this is (key type, tiers, encrypted)
 *   ca-bundle.pem            the ALB trust-store bundle (aws-reference 4.2)
 *   root/ca.crt, ca.key      the root CA (key 0600, PKCS#8, encrypted with a passphrase)
 *   root/index.txt           certificates the root issued (openssl ca format)
 *   root/crlnumber           next CRL number (openssl ca format, hex)
 *   intermediate/...         the same for the intermediate, when there is one
 */
import {join} from 'node:path';
import {parseCertificate, type ParsedCertificate} from '../../lib/x509/cert.js';
import {type MtlsKitError, preconditionError} from '../../lib/errors.js';
import {formatIndexLine, type IndexEntry, parseIndex} from '../../lib/x509/index-db.js';
import {parsePem} from '../../lib/x509/pem.js';
import type {KeySpec, KeyType} from '../../lib/x509/profiles.js';
import {appendText, MODE_PUBLIC, pathExists, readTextIfExists, writeFileAtomic} from '../files.js';

export type CaTier = 'root' | 'intermediate';

export interface CaConfig {
  format: 1;
  keyType: KeyType;
  /** The CA that issues client certificates. */
  issuer: CaTier;
  tiers: CaTier[];
  encrypted: boolean;
  created: string;
}

export interface TierPaths {
  dir: string;
  cert: string;
  key: string;
  index: string;
  indexAttr: string;
  crlNumber: string;
  crl: string;
  crlDer: string;
}

export interface CaPaths {
  dir: string;
  config: string;
  bundle: string;
  root: TierPaths;
  intermediate: TierPaths;
}

/** The paths of a CA directory. */
export function caPaths(dir: string): CaPaths {
  const tier = (name: CaTier): TierPaths => {
    const d = join(dir, name);
    return {
      dir: d,
      cert: join(d, 'ca.crt'),
      key: join(d, 'ca.key'),
      index: join(d, 'index.txt'),
      indexAttr: join(d, 'index.txt.attr'),
      crlNumber: join(d, 'crlnumber'),
      crl: join(d, 'crl.pem'),
      crlDer: join(d, 'crl.der'),
    };
  };
  return {dir, config: join(dir, 'ca.json'), bundle: join(dir, 'ca-bundle.pem'), root: tier('root'), intermediate: tier('intermediate')};
}

export interface LoadedTier {
  tier: CaTier;
  paths: TierPaths;
  certPem: string;
  cert: ParsedCertificate;
}

export interface LoadedCa {
  dir: string;
  paths: CaPaths;
  config: CaConfig;
  root: LoadedTier;
  intermediate?: LoadedTier;
  /** The tier that issues client certificates. */
  issuing: LoadedTier;
}

function missingCa(dir: string): MtlsKitError {
  return preconditionError('CA_NOT_FOUND', `no CA in ${dir} (${join(dir, 'ca.json')} is missing)`, [
    `create one with: mtls-kit gen-ca --dir ${dir} --cn "My Test Root CA"`,
    'or point --dir / MTLS_KIT_DIR at an existing CA directory',
  ]);
}

async function loadTier(paths: CaPaths, tier: CaTier): Promise<LoadedTier> {
  const p = paths[tier];
  const certPem = await readTextIfExists(p.cert);
  if (certPem === undefined) throw preconditionError('CA_INCOMPLETE', `${p.cert} is missing`, ['restore it, or re-create the CA with mtls-kit gen-ca --force']);
  const blocks = parsePem(certPem, p.cert);
  if (blocks.length !== 1 || blocks[0]!.label !== 'CERTIFICATE') throw preconditionError('CA_INCOMPLETE', `${p.cert} must hold exactly one certificate`);
  return {tier, paths: p, certPem, cert: parseCertificate(blocks[0]!.der)};
}

/**
 * Loads a CA directory's certificates and config (keys are read only when signing).
 * @throws MtlsKitError CA_NOT_FOUND (exit 4) with the command that creates one.
 */
export async function loadCa(dir: string): Promise<LoadedCa> {
  const paths = caPaths(dir);
  const text = await readTextIfExists(paths.config);
  if (text === undefined) throw missingCa(dir);
  let config: CaConfig;
  try {
    config = JSON.parse(text) as CaConfig;
  } catch {
    throw preconditionError('CA_CONFIG_INVALID', `${paths.config} is not valid JSON`, [
      'restore it from a backup or re-create the CA with mtls-kit gen-ca --force',
    ]);
  }
  const root = await loadTier(paths, 'root');
  const intermediate = config.tiers.includes('intermediate') ? await loadTier(paths, 'intermediate') : undefined;
  const issuing = config.issuer === 'intermediate' && intermediate ? intermediate : root;
  return {dir, paths, config, root, ...(intermediate ? {intermediate} : {}), issuing};
}

/** Whether a CA already exists in dir (any of its files). */
export async function caExists(dir: string): Promise<string | undefined> {
  const p = caPaths(dir);
  for (const f of [p.config, p.bundle, p.root.cert, p.root.key, p.intermediate.cert, p.intermediate.key]) {
    if (await pathExists(f)) return f;
  }
  return undefined;
}

/** Reads a tier's index (empty when the file does not exist yet). */
export async function readIndex(tier: TierPaths): Promise<IndexEntry[]> {
  const text = await readTextIfExists(tier.index);
  return text === undefined ? [] : parseIndex(text, tier.index);
}

/** Appends entries to a tier's index in one write. */
export async function appendIndex(tier: TierPaths, entries: IndexEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await appendText(tier.index, entries.map(formatIndexLine).join(''));
}

/** Rewrites a tier's index atomically (revocation changes lines in place). */
export async function writeIndex(tier: TierPaths, entries: IndexEntry[]): Promise<void> {
  await writeFileAtomic(tier.index, entries.map(formatIndexLine).join(''), MODE_PUBLIC, {force: true});
}

/** Reads the tier's private key PEM. */
export async function readTierKey(tier: LoadedTier): Promise<string> {
  const pem = await readTextIfExists(tier.paths.key);
  if (pem === undefined)
    throw preconditionError('CA_KEY_MISSING', `${tier.paths.key} is missing; the CA cannot sign`, [
      'restore the key from a backup, or re-create the CA with mtls-kit gen-ca --force',
    ]);
  return pem;
}

/** The serials already in an index, for uniqueness checks. */
export function serialSet(entries: IndexEntry[]): Set<string> {
  return new Set(entries.map((e) => e.serial));
}

export type {KeySpec};

/**
 * The CA directory's current CRLs (root/crl.pem, intermediate/crl.pem, those that exist):
 * what deploy uploads, and what verify and serve check by default when they use the
 * directory's bundle, so local checks and the deployed trust store agree.
 */
export async function currentCrlPaths(dir: string): Promise<string[]> {
  const paths = caPaths(dir);
  const found: string[] = [];
  for (const f of [paths.root.crl, paths.intermediate.crl]) if (await pathExists(f)) found.push(f);
  return found;
}
