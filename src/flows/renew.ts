/**
 * renew: reissue client certificates with the same subject and SANs (same key, or a new
 * one) under the fleet protocol (io/ca/fleet.ts withRecording): each new certificate is
 * written into its folder's hidden staging folder, recorded in index.txt (fsynced), and
 * only then moved into place. So Ctrl-C or kill -9 never leaves a visible certificate the
 * index does not know; a re-run first finishes or removes what was left, then renews the
 * targets. --revoke-old rewrites the index once every new certificate is recorded.
 */
import {basename, dirname, join, resolve} from 'node:path';
import {CLIENT_FILE_NAMES, clientCertificateFiles, loadIssuer} from '../io/ca/client-files.js';
import {loadCa, readIndex, serialSet, updateIndex} from '../io/ca/directory.js';
import {withRecording} from '../io/ca/fleet.js';
import {stagingDirFor, sweepStaging} from '../io/ca/journal.js';
import {MODE_PUBLIC, MODE_SECRET, type PlannedFile, readInput, writeFilesAtomicSync} from '../io/files.js';
import {resolveSecret, withPassphrase} from '../io/secrets.js';
import {describeCertificate} from '../lib/alb/describe.js';
import {ExitCode, MtlsKitError, preconditionError, usageError} from '../lib/errors.js';
import {revokeManyInIndex} from '../lib/pki/revoke.js';
import {clientKeySpec, sansOfCertificate, signClientForKey} from '../lib/pki/sign-csr.js';
import {generateKeyPair, pkcs8Pem} from '../lib/x509/issue.js';
import {KEY_TYPES, type KeyType} from '../lib/x509/profiles.js';
import {readCertificates} from '../lib/x509/read-certs.js';
import {newSerialHex} from '../lib/x509/serial.js';
import {type FlowContext, report} from './progress.js';
import {plural} from '../lib/plural.js';

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

export interface RenewParams {
  dir: string;
  /** Client folders, certificate files or fleet folders. */
  targets: string[];
  newKey: boolean;
  keyType: KeyType | undefined;
  revokeOld: boolean;
  /** Lifetime in days; undefined: the old certificate's. */
  days: number | undefined;
  passphraseFile: string | undefined;
}

/** Index lines are fsynced at least every this many certificates. */
const FLUSH_EVERY = 64;

/**
 * Renews every certificate the targets name (see the file comment).
 * @throws MtlsKitError TARGET_REQUIRED (2), NOT_ISSUED_HERE (4), INTERRUPTED (130).
 */
export async function runRenew(p: RenewParams, ctx: FlowContext): Promise<RenewResult> {
  if (p.targets.length === 0)
    throw usageError('TARGET_REQUIRED', 'give the client folder (or certificate, or fleet folder) to renew', ['e.g. mtls-kit renew device-1/']);
  const ca = await loadCa(p.dir);
  for (const w of ca.warnings) report(ctx.onProgress, {kind: 'warning', text: w});
  const passphrase = await resolveSecret(p.passphraseFile, 'MTLS_KIT_CA_PASSPHRASE', 'CA passphrase');
  const tier = ca.issuing;
  const files = p.targets.flatMap(clientCertificateFiles);
  // Finish or remove what an interrupted renew left beside these folders, before reading them.
  const recordedBefore = serialSet(await readIndex(tier.paths));
  for (const parent of new Set(files.map((f) => dirname(resolve(dirname(f)))))) {
    const s = sweepStaging(parent, recordedBefore);
    if (s.promoted.length + s.removed.length > 0)
      report(ctx.onProgress, {
        kind: 'note',
        text: `an interrupted run left ${plural(s.promoted.length, 'recorded certificate')} (moved into place) and ${plural(s.removed.length, 'unrecorded one')} (deleted) in ${parent}`,
      });
  }
  const known = serialSet(await readIndex(tier.paths));
  // Check every certificate before anything is written.
  const olds = await Promise.all(
    files.map(async (f) => {
      const [cert] = readCertificates(await readInput(f), f);
      if (Buffer.compare(cert!.issuer, tier.cert.subject) !== 0 || !known.has(cert!.serialHex)) {
        throw preconditionError('NOT_ISSUED_HERE', `${f} (serial ${cert!.serialHex}) was not issued by the ${tier.tier} CA in ${p.dir}`, [
          'pass the --dir of the CA that issued it; a certificate from another CA can be re-requested with gen-client --csr-only and sign',
        ]);
      }
      return {file: f, cert: cert!};
    }),
  );
  const {issuer} = await withPassphrase(passphrase, 'CA key passphrase', (pass) => loadIssuer(ca, pass));
  const now = ctx.now;
  const renewed: RenewedCert[] = [];
  const plan = olds.map((o) => {
    const serialHex = newSerialHex(known);
    known.add(serialHex);
    return {...o, serialHex, stagingDir: stagingDirFor(resolve(dirname(o.file)), serialHex)};
  });
  const staging = new Map(plan.map((x) => [x.serialHex, x.stagingDir]));
  const interrupted = await withRecording(tier.paths.index, staging, async (journal, stop) => {
    for (const [i, {file, cert, serialHex, stagingDir}] of plan.entries()) {
      // Let a pending Ctrl-C through between certificates.
      await new Promise((r) => setImmediate(r));
      if (stop.aborted) return true;
      const folder = dirname(file);
      const days = p.days ?? Math.max(1, Math.round((cert.notAfter.getTime() - cert.notBefore.getTime()) / 86_400_000));
      let spki = cert.publicKey.spki;
      let keySpec = clientKeySpec(cert.publicKey, file);
      const staged: PlannedFile[] = [];
      const keyFile = join(folder, CLIENT_FILE_NAMES.key);
      if (p.newKey) {
        if (p.keyType) keySpec = KEY_TYPES[p.keyType];
        const keys = generateKeyPair(keySpec);
        spki = new Uint8Array(keys.publicKey.export({format: 'der', type: 'spki'}));
        staged.push({path: join(stagingDir, CLIENT_FILE_NAMES.key), data: pkcs8Pem(keys.privateKey), mode: MODE_SECRET});
      }
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
      staged.push(
        {path: join(stagingDir, basename(file)), data: signed.certPem, mode: MODE_PUBLIC},
        {path: join(stagingDir, CLIENT_FILE_NAMES.chain), data: signed.chainPem, mode: MODE_PUBLIC},
      );
      writeFilesAtomicSync(staged, {force: true});
      journal.add(signed.index, stagingDir, resolve(folder));
      if ((i + 1) % FLUSH_EVERY === 0) journal.flush();
      const d = describeCertificate(signed.parsed);
      renewed.push({
        folder,
        subject: d.subject,
        oldSerial: cert.serialHex,
        newSerial: d.serial,
        notAfter: d.notAfter,
        newKey: p.newKey,
        oldRevoked: p.revokeOld,
        files: {certificate: file, chain: chainFile, ...(p.newKey ? {key: keyFile} : {})},
      });
      if (plan.length > 1) report(ctx.onProgress, {kind: 'count', label: 'renewing', done: i + 1, total: plan.length, final: i + 1 === plan.length});
    }
    return false;
  });
  if (interrupted) {
    throw new MtlsKitError({
      code: 'INTERRUPTED',
      message: `interrupted: ${renewed.length} of ${plan.length} certificates renewed and recorded in ${tier.paths.index}${p.revokeOld ? '; no old certificate was revoked' : ''}; nothing half-written was left`,
      suggestions: ['re-run the same command: it finishes what was left and renews the targets'],
      exitCode: ExitCode.Interrupted,
      details: {renewed: renewed.length, remaining: plan.length - renewed.length},
    });
  }
  if (p.revokeOld) {
    // Under the index lock, re-reading the file (directory.ts): a concurrent writer's lines survive.
    const oldSerials = new Set(olds.map((o) => o.cert.serialHex));
    await updateIndex(tier.paths, (current) => ({entries: revokeManyInIndex(current, oldSerials, 'superseded', now).entries, value: undefined}));
  }
  const dirArg = p.dir === './pki' || p.dir === 'pki' ? '' : ` --dir ${p.dir}`;
  return {
    caDir: p.dir,
    issuer: {tier: tier.tier, subject: describeCertificate(tier.cert).subject},
    count: renewed.length,
    renewed,
    next: p.revokeOld ? `mtls-kit crl${dirArg}` : `mtls-kit verify ${renewed[0]!.files.chain} --trust-store ${join(p.dir, 'ca-bundle.pem')}`,
  };
}
