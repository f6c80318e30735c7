import {existsSync, readdirSync, statSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {dirFlag, passphraseFileFlag} from '../flags.js';
import {appendIndex, loadCa, readIndex, serialSet, writeIndex} from '../io/ca/directory.js';
import {CLIENT_FILE_NAMES, loadIssuer} from '../io/ca/client-files.js';
import {MODE_PUBLIC, MODE_SECRET, type PlannedFile, readInput, writeFilesAtomicSync} from '../io/files.js';
import {resolveSecret, withPassphrase} from '../io/secrets.js';
import {describeCertificate} from '../lib/alb/describe.js';
import {preconditionError, usageError} from '../lib/errors.js';
import {revokeManyInIndex} from '../lib/pki/revoke.js';
import {clientKeySpec, sansOfCertificate, signClientForKey} from '../lib/pki/sign-csr.js';
import type {IndexEntry} from '../lib/x509/index-db.js';
import {generateKeyPair, pkcs8Pem} from '../lib/x509/issue.js';
import {KEY_TYPE_NAMES, KEY_TYPES} from '../lib/x509/profiles.js';
import {readCertificates} from '../lib/x509/read-certs.js';
import {newSerialHex} from '../lib/x509/serial.js';
import {hint, printLine} from '../ui/output.js';

export interface RenewedCert {
  folder: string;
  subject: string;
  oldSerial: string;
  newSerial: string;
  notAfter: string;
  /** True with --new-key: private-key.pem was replaced. */
  newKey: boolean;
  /** True with --revoke-old: the old serial is revoked (superseded) in the index. */
  oldRevoked: boolean;
  files: {certificate: string; chain: string; key?: string};
}

export interface RenewResult {
  caDir: string;
  issuer: {tier: 'root' | 'intermediate'; subject: string};
  count: number;
  renewed: RenewedCert[];
  next: string;
}

/** The certificate files a target names: a certificate, a client folder, or a folder of client folders. */
function certificateFiles(target: string): string[] {
  let st;
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
    .filter((e) => e.isDirectory() && existsSync(join(target, e.name, CLIENT_FILE_NAMES.certificate)))
    .map((e) => join(target, e.name, CLIENT_FILE_NAMES.certificate))
    .sort();
  if (fleet.length === 0)
    throw preconditionError('NO_CERTIFICATE', `${target} holds no ${CLIENT_FILE_NAMES.certificate}, nor do its subfolders`, [
      'pass the folder gen-client or sign wrote',
    ]);
  return fleet;
}

export default class Renew extends BaseCommand {
  static override summary = 'Reissue client certificates with the same subject and SANs (same key, or --new-key), and optionally revoke the old ones.';
  static override description =
    `For a client folder (certificate.crt, chain.pem, private-key.pem as gen-client and sign write them), a certificate file, or a folder of client folders (a fleet), issues a new certificate from the CA in --dir with the same subject and SANs and the client profile, writes certificate.crt and chain.pem in place (atomically), and records it in the index. The key stays the same unless --new-key, which writes a new private-key.pem (0600, same key type unless --key-type). --revoke-old marks the old serial revoked (reason superseded) in the same index write; then run mtls-kit crl.

The lifetime is the old certificate's unless --days.

Exit codes: 0 renewed; 2 bad flag values; 4 no CA, a certificate this CA did not issue, an unreadable certificate.`;

  static override examples = [
    '<%= config.bin %> renew device-1/',
    '<%= config.bin %> renew device-1/ --new-key --revoke-old',
    '<%= config.bin %> renew ./fleet --days 90 --json',
  ];

  static override strict = false;
  static override args = {};

  static override flags = {
    dir: dirFlag,
    'new-key': Flags.boolean({summary: 'Generate a new key (private-key.pem is replaced) instead of certifying the same key again.', default: false}),
    'key-type': Flags.option({summary: "Key type for --new-key (default: the old key's type).", options: KEY_TYPE_NAMES, dependsOn: ['new-key']})(),
    'revoke-old': Flags.boolean({summary: 'Revoke the old certificate (reason superseded) in the index.', default: false}),
    days: Flags.integer({summary: "Lifetime in days (default: the old certificate's).", min: 1}),
    'passphrase-file': passphraseFileFlag,
  };

  async run(): Promise<RenewResult> {
    const {argv, flags} = await this.parse(Renew);
    const targets = argv as string[];
    if (targets.length === 0)
      throw usageError('TARGET_REQUIRED', 'give the client folder (or certificate, or fleet folder) to renew', ['e.g. mtls-kit renew device-1/']);
    const ca = await loadCa(flags.dir);
    const passphrase = await resolveSecret(flags['passphrase-file'], 'MTLS_KIT_CA_PASSPHRASE', 'CA passphrase');
    const tier = ca.issuing;
    const entries: IndexEntry[] = await readIndex(tier.paths);
    const known = serialSet(entries);
    const files = targets.flatMap(certificateFiles);
    // Check every certificate before anything is written.
    const olds = await Promise.all(
      files.map(async (f) => {
        const [cert] = readCertificates(await readInput(f), f);
        if (Buffer.compare(cert!.issuer, tier.cert.subject) !== 0 || !known.has(cert!.serialHex)) {
          throw preconditionError('NOT_ISSUED_HERE', `${f} (serial ${cert!.serialHex}) was not issued by the ${tier.tier} CA in ${flags.dir}`, [
            'pass the --dir of the CA that issued it; a certificate from another CA can be re-requested with gen-client --csr-only and sign',
          ]);
        }
        return {file: f, cert: cert!};
      }),
    );
    const {issuer} = await withPassphrase(passphrase, 'CA key passphrase', (p) => loadIssuer(ca, p));
    const now = new Date();
    const renewed: RenewedCert[] = [];
    const added: IndexEntry[] = [];
    for (const {file, cert} of olds) {
      const folder = dirname(file);
      const days = flags.days ?? Math.max(1, Math.round((cert.notAfter.getTime() - cert.notBefore.getTime()) / 86_400_000));
      let spki = cert.publicKey.spki;
      let keySpec = clientKeySpec(cert.publicKey, file);
      const planned: PlannedFile[] = [];
      const keyFile = join(folder, CLIENT_FILE_NAMES.key);
      if (flags['new-key']) {
        if (flags['key-type']) keySpec = KEY_TYPES[flags['key-type']];
        const keys = generateKeyPair(keySpec);
        spki = new Uint8Array(keys.publicKey.export({format: 'der', type: 'spki'}));
        planned.push({path: keyFile, data: pkcs8Pem(keys.privateKey), mode: MODE_SECRET});
      }
      const serialHex = newSerialHex(known);
      known.add(serialHex);
      const chainFile = join(folder, CLIENT_FILE_NAMES.chain);
      const signed = signClientForKey({
        issuer,
        subjectDer: cert.subject,
        sans: sansOfCertificate(cert),
        spki,
        keySpec,
        serialHex,
        days,
        now,
        indexFile: resolve(file),
      });
      planned.push({path: file, data: signed.certPem, mode: MODE_PUBLIC}, {path: chainFile, data: signed.chainPem, mode: MODE_PUBLIC});
      writeFilesAtomicSync(planned, {force: true});
      added.push(signed.index);
      const d = describeCertificate(signed.parsed);
      renewed.push({
        folder,
        subject: d.subject,
        oldSerial: cert.serialHex,
        newSerial: d.serial,
        notAfter: d.notAfter,
        newKey: flags['new-key'],
        oldRevoked: flags['revoke-old'],
        files: {certificate: file, chain: chainFile, ...(flags['new-key'] ? {key: keyFile} : {})},
      });
    }
    if (flags['revoke-old'])
      await writeIndex(tier.paths, [...revokeManyInIndex(entries, new Set(olds.map((o) => o.cert.serialHex)), 'superseded', now).entries, ...added]);
    else await appendIndex(tier.paths, added);
    const dirArg = flags.dir === './pki' || flags.dir === 'pki' ? '' : ` --dir ${flags.dir}`;
    const result: RenewResult = {
      caDir: flags.dir,
      issuer: {tier: tier.tier, subject: describeCertificate(tier.cert).subject},
      count: renewed.length,
      renewed,
      next: flags['revoke-old'] ? `mtls-kit crl${dirArg}` : `mtls-kit verify ${renewed[0]!.files.chain} --trust-store ${join(flags.dir, 'ca-bundle.pem')}`,
    };
    return this.emit(result, (r) => {
      for (const c of r.renewed)
        printLine(
          `renewed ${c.subject} in ${c.folder}: ${c.oldSerial} → ${c.newSerial}, expires ${c.notAfter}${c.newKey ? ', new key' : ', same key'}${c.oldRevoked ? `; ${c.oldSerial} revoked (superseded)` : ''}`,
        );
      hint(`next: ${r.next}${flags['revoke-old'] ? '   (publishes the revocations)' : ''}`);
    });
  }
}
