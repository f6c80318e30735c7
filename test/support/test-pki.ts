/**
 * Client certificates for the serve and demo tests, good and bad, made the way a user
 * makes them: `mtls-kit gen-ca --intermediate`, then `mtls-kit gen-client` and
 * `gen-client --defect <kind>` (which also writes the CRL for `revoked`).
 */
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {runCli} from './cli.js';

export interface ClientFiles {
  cert: string;
  key: string;
  /** Leaf + intermediate + root, for passthrough. */
  chain3: string;
  serial: string;
}

export interface TestPki {
  dir: string;
  good: ClientFiles;
  expired: ClientFiles;
  wrongPurpose: ClientFiles;
  untrusted: ClientFiles;
  revoked: ClientFiles;
  /** The intermediate's CRL, listing `revoked`. */
  crl: string;
  rootCert: string;
}

async function genClient(tmp: string, dir: string, name: string, defect?: string): Promise<ClientFiles & {crl: string | null}> {
  const out = join(tmp, name);
  const r = await runCli(['gen-client', '--dir', dir, '--cn', name, '--org', 'Acme, Inc.', '--country', 'US', '--out', out, '--json', ...(defect ? ['--defect', defect] : [])]);
  if (r.code !== 0) throw new Error(`gen-client ${name}: ${r.stderr}`);
  const files = r.json.certificate.files as {key: string; certificate: string; chain: string};
  const chain3 = join(out, 'chain3.pem');
  writeFileSync(chain3, readFileSync(files.chain, 'utf8') + readFileSync(join(dir, 'root/ca.crt'), 'utf8'));
  return {cert: files.certificate, key: files.key, chain3, serial: r.json.certificate.serial, crl: r.json.defect?.crl ?? null};
}

/** gen-ca --intermediate into tmp/pki, then a good client and four defects. */
export async function buildTestPki(tmp: string): Promise<TestPki> {
  const dir = join(tmp, 'pki');
  const r = await runCli(['gen-ca', '--dir', dir, '--intermediate', '--cn', 'Serve Test Root']);
  if (r.code !== 0) throw new Error(r.stderr);
  const [good, expired, wrongPurpose, untrusted, revoked] = await Promise.all([
    genClient(tmp, dir, 'device-good'),
    genClient(tmp, dir, 'device-expired', 'expired'),
    genClient(tmp, dir, 'device-server-eku', 'wrong-purpose'),
    genClient(tmp, dir, 'device-untrusted', 'untrusted'),
  ]).then(async (xs) => [...xs, await genClient(tmp, dir, 'device-revoked', 'revoked')]);
  return {dir, good: good!, expired: expired!, wrongPurpose: wrongPurpose!, untrusted: untrusted!, revoked: revoked!, crl: revoked!.crl!, rootCert: join(dir, 'root/ca.crt')};
}
