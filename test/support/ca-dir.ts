/**
 * A real CA directory made by `mtls-kit gen-ca`, and helpers that issue into it through
 * the same lib code the commands use.
 */
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {parseCertificate} from '../../src/lib/x509/cert.js';
import type {ClientIssuer} from '../../src/lib/pki/client-cert.js';
import {formatIndexLine, type IndexEntry} from '../../src/lib/x509/index-db.js';
import {loadPrivateKey} from '../../src/lib/x509/issue.js';
import {parsePem, toPem} from '../../src/lib/x509/pem.js';
import {runCli} from './cli.js';

export interface CaDir {
  dir: string;
  bundle: string;
  issuerTier: 'root' | 'intermediate';
  issuer: ClientIssuer;
}

/**
 * Creates a CA with `mtls-kit gen-ca` (two-tier unless `oneTier`) in a fresh folder under
 * `base` and loads its issuing tier. (Call tempDir() at describe level, not in a hook: its
 * cleanup would run when the hook ends.)
 */
export async function makeCaDir(base: string, opts: {oneTier?: boolean; keyType?: string} = {}): Promise<CaDir> {
  const dir = mkdtempSync(join(base, 'pki-'));
  const args = ['gen-ca', '--dir', dir, '--cn', 'Test Root', ...(opts.oneTier ? [] : ['--intermediate']), ...(opts.keyType ? ['--key-type', opts.keyType] : [])];
  const r = await runCli(args);
  if (r.code !== 0) throw new Error(r.stderr);
  const issuerTier = opts.oneTier ? 'root' : 'intermediate';
  const cert = parseCertificate(parsePem(readFileSync(join(dir, issuerTier, 'ca.crt'), 'utf8'), 'ca.crt')[0]!.der);
  const {key, spec} = loadPrivateKey(readFileSync(join(dir, issuerTier, 'ca.key'), 'utf8'), 'ca.key', undefined);
  return {dir, bundle: join(dir, 'ca-bundle.pem'), issuerTier, issuer: {cert, key, spec, chain: issuerTier === 'intermediate' ? [cert] : []}};
}

/** Records index entries in the issuing tier's index, as gen-client does. */
export function recordInIndex(ca: CaDir, entries: IndexEntry[]): void {
  const path = join(ca.dir, ca.issuerTier, 'index.txt');
  const lines = entries.map(formatIndexLine).join('');
  writeFileSync(path, readFileSync(path, 'utf8') + lines);
}

/** Writes PEM files for DER certificates and returns the path. */
export function writePem(path: string, ders: Uint8Array[]): string {
  writeFileSync(path, ders.map((d) => toPem(d, 'CERTIFICATE')).join(''));
  return path;
}
