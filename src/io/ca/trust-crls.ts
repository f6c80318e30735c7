/**
 * One revocation rule for every command that judges a client (verify, decode-header, probe,
 * lint, serve): which CRLs come with a trust store (aws-reference 12.4).
 *
 * - `--skip-crl`: none, said explicitly.
 * - `--crl FILE...`: exactly those (they replace the directory's).
 * - otherwise, a trust store that is a CA directory's bundle (the default `<dir>/ca-bundle.pem`,
 *   or a `--trust-store` path that is that file or any `ca-bundle.pem` beside a CA directory's
 *   `root/` and `intermediate/`) brings that directory's current CRLs, as deploy uploads them.
 * - any other trust store: none (and every verdict says "revocation not checked").
 */
import {realpath} from 'node:fs/promises';
import {basename, dirname, join} from 'node:path';
import {caPaths, currentCrlPaths} from './directory.js';
import {pathExists} from '../files.js';

export interface TrustCrlOptions {
  /** The CA directory (--dir). */
  dir: string;
  /** --trust-store as given (undefined: the directory's bundle). */
  trustStore?: string | undefined;
  crl?: string[] | undefined;
  skipCrl?: boolean | undefined;
}

export interface TrustCrls {
  /** The trust-store file to read. */
  trustStore: string;
  /** The CRL files to load. */
  crls: string[];
  /** Where they come from: --crl, the CA directory's (which one), --skip-crl, or none for a foreign bundle. */
  source: 'given' | 'ca-directory' | 'skipped' | 'none';
  /** The CA directory whose CRLs were taken. */
  caDirectory?: string;
}

const same = async (a: string, b: string): Promise<boolean> => {
  try {
    return (await realpath(a)) === (await realpath(b));
  } catch {
    return false;
  }
};

/** The CA directory whose bundle `file` is, or undefined. */
async function directoryOfBundle(file: string, dir: string): Promise<string | undefined> {
  if (await same(file, join(dir, 'ca-bundle.pem'))) return dir;
  if (basename(file) !== 'ca-bundle.pem') return undefined;
  const d = dirname(file);
  const p = caPaths(d);
  return (await pathExists(p.root.cert)) || (await pathExists(p.intermediate.cert)) ? d : undefined;
}

/** Applies the rule above. `-` (stdin) as trust store is never a CA directory's bundle. */
export async function resolveTrustCrls(o: TrustCrlOptions): Promise<TrustCrls> {
  const trustStore = o.trustStore ?? join(o.dir.replace(/\/$/, '') || '.', 'ca-bundle.pem');
  if (o.skipCrl) return {trustStore, crls: [], source: 'skipped'};
  if (o.crl && o.crl.length > 0) return {trustStore, crls: o.crl, source: 'given'};
  const caDirectory = trustStore === '-' ? undefined : o.trustStore === undefined ? o.dir : await directoryOfBundle(trustStore, o.dir);
  if (!caDirectory) return {trustStore, crls: [], source: 'none'};
  return {trustStore, crls: await currentCrlPaths(caDirectory), source: 'ca-directory', caDirectory};
}
