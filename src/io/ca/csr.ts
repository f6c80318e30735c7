/**
 * `gen-client --csr-only`: a fresh key and a PKCS#10 request for a CA mtls-kit does not
 * hold (AWS Private CA, an enterprise CA), written as private-key.pem (0600) and
 * request.csr, all-or-nothing.
 */
import {join} from 'node:path';
import {buildCsr} from '../../lib/x509/csr.js';
import {formatRfc2253} from '../../lib/x509/dn.js';
import {encodeName, generateKeyPair, pkcs8Pem, type SanInput} from '../../lib/x509/issue.js';
import type {NameEntry} from '../../lib/x509/names.js';
import type {KeySpec} from '../../lib/x509/profiles.js';
import {MODE_PUBLIC, MODE_SECRET, writeFilesAtomicSync} from '../files.js';

export const CSR_FILE_NAME = 'request.csr';

export interface CsrFiles {
  key: string;
  csr: string;
}

export interface WrittenCsr {
  subject: string;
  sans: string[];
  files: CsrFiles;
}

/** The paths of a key and request in `dir`. */
export function csrFilePaths(dir: string): CsrFiles {
  return {key: join(dir, 'private-key.pem'), csr: join(dir, CSR_FILE_NAME)};
}

/**
 * Generates a key of `keySpec`, builds the request and writes both.
 * @throws MtlsKitError FILE_EXISTS (exit 4) without force.
 */
export function writeKeyAndCsr(p: {
  subject: NameEntry[][];
  sans: SanInput[];
  keySpec: KeySpec;
  files: CsrFiles;
  force: boolean;
  durable?: boolean;
}): WrittenCsr {
  const keys = generateKeyPair(p.keySpec);
  const csr = buildCsr({subject: p.subject, sans: p.sans, privateKey: keys.privateKey, publicKey: keys.publicKey, spec: p.keySpec});
  writeFilesAtomicSync(
    [
      {path: p.files.key, data: pkcs8Pem(keys.privateKey), mode: MODE_SECRET},
      {path: p.files.csr, data: csr.pem, mode: MODE_PUBLIC},
    ],
    {force: p.force, durable: p.durable ?? true},
  );
  return {
    subject: formatRfc2253(encodeName(p.subject)),
    sans: p.sans.map((s) => `${s.type === 'url' ? 'URI' : s.type.toUpperCase()}:${s.value}`),
    files: p.files,
  };
}
