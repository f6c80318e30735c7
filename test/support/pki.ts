/**
 * Test PKI on disk: a CA directory made by the real CLI (gen-ca) and CRLs made by the real
 * `openssl ca -gencrl` from that directory's index.txt (openssl format, see src/lib/x509/index-db.ts).
 */
import {appendFileSync, existsSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {runCli} from './cli.js';
import {opensslOk} from './openssl.js';

/** Creates a CA directory with gen-ca; returns its path. */
export async function makeCa(dir: string, opts: {intermediate?: boolean; cn?: string} = {}): Promise<string> {
  const args = ['gen-ca', '--dir', dir, '--cn', opts.cn ?? 'Deploy Test Root', '--json'];
  if (opts.intermediate) args.push('--intermediate');
  const r = await runCli(args);
  if (r.code !== 0) throw new Error(`gen-ca failed: ${r.stderr}`);
  return dir;
}

/** Marks a serial revoked in a tier's index.txt (the line `openssl ca -revoke` writes). */
export function revokeSerial(dir: string, tier: 'root' | 'intermediate', serialHex: string): void {
  appendFileSync(join(dir, tier, 'index.txt'), `R\t351231235959Z\t251101000000Z\t${serialHex}\tunknown\t/CN=revoked-${serialHex}\n`);
}

/**
 * Writes `<dir>/<tier>/crl.pem` with `openssl ca -gencrl` (its cRLNumber increases each time).
 * @returns the PEM text
 */
export function writeCrl(dir: string, tier: 'root' | 'intermediate', opts: {days?: number; md?: string; lastUpdate?: string; nextUpdate?: string} = {}): string {
  const t = join(dir, tier);
  if (!existsSync(join(t, 'crlnumber'))) writeFileSync(join(t, 'crlnumber'), '01\n');
  const cfg = join(t, 'openssl-crl.cnf');
  writeFileSync(
    cfg,
    ['[ca]', 'default_ca = CA_default', '[CA_default]', `database = ${join(t, 'index.txt')}`, `crlnumber = ${join(t, 'crlnumber')}`, `certificate = ${join(t, 'ca.crt')}`, `private_key = ${join(t, 'ca.key')}`, `default_md = ${opts.md ?? 'sha256'}`, `default_crl_days = ${opts.days ?? 30}`, ''].join('\n'),
  );
  const times = [...(opts.lastUpdate ? ['-crl_lastupdate', opts.lastUpdate] : []), ...(opts.nextUpdate ? ['-crl_nextupdate', opts.nextUpdate] : [])];
  opensslOk(['ca', '-gencrl', '-batch', '-config', cfg, ...times, '-out', join(t, 'crl.pem')]);
  return opensslOk(['crl', '-in', join(t, 'crl.pem')]);
}
