/**
 * `inspect` for what is not a certificate: CRLs, certificate requests and private keys.
 * Loaded only for those (inspect certificate.crt never imports it: cold start). Finds the
 * certificates a key or CRL belongs to in the file's folder and the CA directory.
 */
import {promises as fsp} from 'node:fs';
import {dirname, extname, join, relative, resolve} from 'node:path';
import {
  type CrlDetails,
  type CsrDetails,
  certificateHoldsKey,
  describeCrl,
  describeCsr,
  describePrivateKey,
  type KeyMatch,
  type PrivateKeyDetails,
} from '../../lib/alb/describe-files.js';
import type {ParsedCertificate} from '../../lib/x509/cert.js';
import {checkCrlSignature, loadCrl} from '../../lib/x509/crl.js';
import {csrDerFromInput, parseCsr} from '../../lib/x509/csr.js';
import {formatRfc2253} from '../../lib/x509/dn.js';
import {readPrivateKeyInfo} from '../../lib/x509/private-key-info.js';
import {looksLikePem, parsePem} from '../../lib/x509/pem.js';
import {readCertificates} from '../../lib/x509/read-certs.js';
import {isoSeconds} from '../../lib/x509/validity.js';
import {caPaths, readIndex} from './directory.js';
import {inputName, pathExists} from '../files.js';
import {resolveSecret} from '../secrets.js';

export interface InspectOtherParams {
  data: Uint8Array;
  /** As given; `-` for stdin. */
  file: string;
  kind: 'crl' | 'csr' | 'private-key' | 'encrypted-private-key';
  /** The CA directory to search too (skipped when it does not exist). */
  caDir: string;
  passphraseFile?: string;
  now: Date;
  warnDays: number;
}

export interface InspectOtherResult {
  crl?: CrlDetails;
  csr?: CsrDetails;
  privateKey?: PrivateKeyDetails;
}

/** Files in a folder that may hold certificates; bounded so a huge folder cannot stall inspect. */
const CERT_EXT = new Set(['.crt', '.pem', '.cer', '.der', '.cert']);
const MAX_FOLDER_FILES = 500;
const MAX_INDEX_FILES = 5000;
const MAX_FILE_BYTES = 1 << 20;

interface Candidate {
  file: string;
  cert: ParsedCertificate;
}

/** Shows a path relative to the working folder when it is inside it. */
const shown = (p: string): string => {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith('..') ? r : p;
};

/**
 * The certificates beside `file` and in the CA directory (its bundle and tier certificates,
 * and with `issued` every certificate its index records) whose DER holds `needle`, each file
 * read once.
 */
async function candidateCertificates(file: string, caDir: string, needle: Uint8Array, issued: boolean): Promise<{candidates: Candidate[]; searched: string[]}> {
  const paths: string[] = [];
  const searched: string[] = [];
  if (file !== '-') {
    const folder = dirname(file);
    searched.push(shown(resolve(folder)) || '.');
    const names = (await fsp.readdir(folder, {withFileTypes: true}).catch(() => [])).filter((e) => e.isFile() && CERT_EXT.has(extname(e.name).toLowerCase()));
    for (const e of names.slice(0, MAX_FOLDER_FILES)) paths.push(join(folder, e.name));
  }
  if (await pathExists(caPaths(caDir).config).catch(() => false)) {
    const p = caPaths(caDir);
    searched.push(shown(resolve(caDir)));
    paths.push(p.bundle, p.root.cert, p.intermediate.cert);
    for (const tier of issued ? [p.root, p.intermediate] : []) {
      const entries = await readIndex(tier).catch(() => []);
      for (const e of entries.slice(-MAX_INDEX_FILES)) if (e.file !== 'unknown') paths.push(e.file);
    }
  }
  const self = file === '-' ? '' : resolve(file);
  const seen = new Set<string>([self]);
  const candidates: Candidate[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    if (seen.has(abs)) continue;
    seen.add(abs);
    try {
      const st = await fsp.stat(abs);
      if (!st.isFile() || st.size > MAX_FILE_BYTES) continue;
      const data = await fsp.readFile(abs);
      // Parse only files whose DER holds the bytes looked for (the key's SPKI, the CRL issuer's name): a fleet's thousands stay cheap.
      const ders = looksLikePem(data) ? parsePem(data.toString('latin1'), p).map((b) => Buffer.from(b.der)) : [data];
      if (!ders.some((d) => d.indexOf(needle) >= 0)) continue;
      for (const cert of readCertificates(data, p)) candidates.push({file: shown(abs), cert});
    } catch {
      // Not a certificate file (a key, a CSR, something else): not a candidate.
    }
  }
  return {candidates, searched};
}

/**
 * Describes a CRL, CSR or private key; the key itself is never returned or shown.
 * @throws MtlsKitError BAD_CRL / BAD_CSR / BAD_KEY / WRONG_PASSPHRASE (exit 4).
 */
export async function inspectOther(p: InspectOtherParams): Promise<InspectOtherResult> {
  const source = inputName(p.file);
  if (p.kind === 'crl') {
    const crl = loadCrl(p.data, source);
    const {candidates} = await candidateCertificates(p.file, p.caDir, crl.issuer, false);
    const issuers = candidates.filter((c) => Buffer.compare(c.cert.subject, crl.issuer) === 0);
    const verified = issuers.find((c) => checkCrlSignature(crl, c.cert));
    const issuer = verified ?? issuers[0];
    const issuerCertificate = issuer ? {file: issuer.file, subject: formatRfc2253(issuer.cert.subject), signatureValid: verified !== undefined} : null;
    return {crl: describeCrl(crl, p.now, p.warnDays, issuerCertificate)};
  }
  if (p.kind === 'csr') {
    const csr = await parseCsr(csrDerFromInput(p.data, source), source, {allowBadSignature: true});
    return {csr: describeCsr(csr)};
  }
  const passphrase = await resolveSecret(p.passphraseFile, 'MTLS_KIT_CA_PASSPHRASE', 'key passphrase');
  const key = readPrivateKeyInfo(p.data, source, passphrase);
  let matches: KeyMatch[] = [];
  let searched: string[] = [];
  if (key.spki) {
    const found = await candidateCertificates(p.file, p.caDir, key.spki, true);
    searched = found.searched;
    const seen = new Set<string>();
    matches = found.candidates
      .filter((c) => certificateHoldsKey(c.cert, key.spki!))
      .map((c) => ({file: c.file, subject: formatRfc2253(c.cert.subject), serial: c.cert.serialHex, notAfter: isoSeconds(c.cert.notAfter)}))
      .filter((m) => !seen.has(`${m.file}\0${m.serial}`) && seen.add(`${m.file}\0${m.serial}`) !== undefined);
  }
  return {privateKey: describePrivateKey(key, matches, searched)};
}
