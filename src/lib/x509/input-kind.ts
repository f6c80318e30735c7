/**
 * What a file is, from its bytes: the one place that turns "not a certificate" into "a
 * certificate revocation list, not a certificate chain; pass it with --crl". Every reader
 * (read-certs.ts, crl.ts, csr.ts, the key readers) calls it on its failure path only, so a
 * good file costs nothing extra.
 */
import {ExitCode, MtlsKitError, preconditionError} from '../errors.js';
import {children, decodeOid, parseOne, TAG, type Tlv} from './der.js';

export type InputKind =
  | 'empty'
  | 'certificate'
  | 'crl'
  | 'csr'
  | 'private-key'
  | 'encrypted-private-key'
  | 'public-key'
  | 'pkcs12'
  | 'pkcs7'
  | 'gzip'
  | 'zip'
  | 'bzip2'
  | 'xz'
  | 'zstd'
  | 'unknown-pem'
  | 'damaged-der'
  | 'text'
  | 'binary';

export interface InputDescription {
  kind: InputKind;
  /** For messages, with its article: "a certificate revocation list (PEM)". */
  description: string;
  /** PEM or DER where that applies. */
  encoding?: 'pem' | 'der';
  /** PEM: the kind of every block, in order, each once (a chain with its key: certificate, private-key). */
  kinds?: InputKind[];
}

const NOUN: Record<InputKind, string> = {
  empty: 'empty',
  certificate: 'a certificate',
  crl: 'a certificate revocation list',
  csr: 'a certificate signing request',
  'private-key': 'a private key',
  'encrypted-private-key': 'an encrypted private key',
  'public-key': 'a public key',
  pkcs12: 'a PKCS#12 file',
  pkcs7: 'a PKCS#7 certificate bundle',
  gzip: 'a gzip-compressed file',
  zip: 'a zip archive',
  bzip2: 'a bzip2-compressed file',
  xz: 'an xz-compressed file',
  zstd: 'a zstd-compressed file',
  'unknown-pem': 'a PEM file',
  'damaged-der': 'damaged or truncated DER data',
  text: 'a text file without PEM blocks',
  binary: 'binary data',
};

/** PEM labels (RFC 7468 and OpenSSL's) to kinds. */
const PEM_KINDS: Record<string, InputKind> = {
  CERTIFICATE: 'certificate',
  'X509 CERTIFICATE': 'certificate',
  'TRUSTED CERTIFICATE': 'certificate',
  'X509 CRL': 'crl',
  'CERTIFICATE REQUEST': 'csr',
  'NEW CERTIFICATE REQUEST': 'csr',
  'PRIVATE KEY': 'private-key',
  'RSA PRIVATE KEY': 'private-key',
  'EC PRIVATE KEY': 'private-key',
  'DSA PRIVATE KEY': 'private-key',
  'OPENSSH PRIVATE KEY': 'private-key',
  'ENCRYPTED PRIVATE KEY': 'encrypted-private-key',
  'PUBLIC KEY': 'public-key',
  'RSA PUBLIC KEY': 'public-key',
  PKCS7: 'pkcs7',
  CMS: 'pkcs7',
};

/** The kind of each PEM block's label, in file order (a legacy encrypted key counts as encrypted). */
function pemKinds(text: string): InputKind[] {
  const kinds: InputKind[] = [];
  const re = /-----BEGIN ([A-Z0-9 #]+)-----(\r?\n(?:Proc-Type: *4,ENCRYPTED)?)?/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    let k = PEM_KINDS[m[1]!] ?? 'unknown-pem';
    if (k === 'private-key' && m[2]?.includes('ENCRYPTED')) k = 'encrypted-private-key';
    kinds.push(k);
  }
  return kinds;
}

const isInt = (t: Tlv | undefined, value?: number): boolean =>
  t !== undefined && t.tag === TAG.INTEGER && (value === undefined || (t.contentEnd - t.contentStart === 1 && t.buf[t.contentStart] === value));

/** The kind of one DER element, from the shape of its outer structure. */
function derKind(data: Uint8Array): InputKind {
  let kids: Tlv[];
  try {
    const top = parseOne(data);
    if (top.tag !== TAG.SEQUENCE) return 'binary';
    kids = children(top);
  } catch {
    return data[0] === TAG.SEQUENCE ? 'damaged-der' : 'binary';
  }
  const [a, b, c] = kids;
  if (isInt(a, 3) && b?.tag === TAG.SEQUENCE) return 'pkcs12';
  if (a?.tag === TAG.OID) {
    try {
      if (decodeOid(a).startsWith('1.2.840.113549.1.7.')) return 'pkcs7';
    } catch {
      return 'damaged-der';
    }
  }
  if (kids.length === 3 && a?.tag === TAG.SEQUENCE && b?.tag === TAG.SEQUENCE && c?.tag === TAG.BIT_STRING) {
    let tbs: Tlv[];
    try {
      tbs = children(a);
    } catch {
      return 'damaged-der';
    }
    // RFC 5280 5.1: a CRL's TBS has thisUpdate (a Time) right after the issuer Name.
    if (tbs.some((t, i) => i <= 3 && (t.tag === TAG.UTCTime || t.tag === TAG.GeneralizedTime))) return 'crl';
    // RFC 2986 4.1: version 0, subject, subjectPKInfo, [0] attributes.
    if (tbs.length === 4 && isInt(tbs[0], 0) && tbs[3]?.tag === 0xa0) return 'csr';
    return 'certificate';
  }
  // RFC 5208 / 5958 PrivateKeyInfo; RFC 8017 A.1.2 RSAPrivateKey; RFC 5915 ECPrivateKey.
  if (isInt(a, 0) && b?.tag === TAG.SEQUENCE && c?.tag === TAG.OCTET_STRING) return 'private-key';
  if (isInt(a, 1) && b?.tag === TAG.SEQUENCE && c?.tag === TAG.OCTET_STRING) return 'private-key';
  if (isInt(a, 0) && kids.length >= 9 && kids.every((k) => k.tag === TAG.INTEGER)) return 'private-key';
  if (isInt(a, 1) && b?.tag === TAG.OCTET_STRING) return 'private-key';
  // RFC 5958 3 EncryptedPrivateKeyInfo: algorithm, encrypted OCTET STRING.
  if (kids.length === 2 && a?.tag === TAG.SEQUENCE && b?.tag === TAG.OCTET_STRING) return 'encrypted-private-key';
  // RFC 5280 4.1 SubjectPublicKeyInfo.
  if (kids.length === 2 && a?.tag === TAG.SEQUENCE && b?.tag === TAG.BIT_STRING) return 'public-key';
  return 'damaged-der';
}

/** Text if it decodes as UTF-8 with no control characters but tab, CR and LF. */
function looksLikeText(data: Uint8Array): boolean {
  const head = data.subarray(0, Math.min(data.length, 8192));
  for (const b of head) if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return false;
  try {
    // stream: a sequence cut at the end of the sample is not an error.
    new TextDecoder('utf-8', {fatal: true}).decode(head, {stream: true});
    return true;
  } catch {
    return false;
  }
}

/**
 * What the bytes are: empty, a PEM or DER certificate, CRL, CSR, key, PKCS#12 or PKCS#7,
 * gzip or zip, other text or binary data. Never throws; reads only the outer structure.
 */
export function identifyInput(data: Uint8Array): InputDescription {
  if (data.length === 0 || (data.length < 4096 && Buffer.from(data).toString('latin1').trim() === '')) return {kind: 'empty', description: NOUN.empty};
  if (data[0] === 0x1f && data[1] === 0x8b) return {kind: 'gzip', description: NOUN.gzip};
  if (data[0] === 0x50 && data[1] === 0x4b && data[2] === 0x03 && data[3] === 0x04) return {kind: 'zip', description: NOUN.zip};
  if (data[0] === 0x42 && data[1] === 0x5a && data[2] === 0x68) return {kind: 'bzip2', description: NOUN.bzip2};
  if (data[0] === 0xfd && data[1] === 0x37 && data[2] === 0x7a && data[3] === 0x58 && data[4] === 0x5a) return {kind: 'xz', description: NOUN.xz};
  if (data[0] === 0x28 && data[1] === 0xb5 && data[2] === 0x2f && data[3] === 0xfd) return {kind: 'zstd', description: NOUN.zstd};
  const latin = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  if (latin.includes('-----BEGIN ')) {
    const kinds = [...new Set(pemKinds(latin))];
    if (kinds.length === 0) return {kind: 'unknown-pem', description: NOUN['unknown-pem'], encoding: 'pem'};
    const known = kinds.filter((k) => k !== 'unknown-pem');
    const kind = known[0] ?? 'unknown-pem';
    const description = known.length > 1 ? `a PEM file with ${known.map((k) => NOUN[k]).join(' and ')}` : `${NOUN[kind]} (PEM)`;
    return {kind, description, encoding: 'pem', kinds};
  }
  if (data[0] === TAG.SEQUENCE) {
    const kind = derKind(data);
    return {
      kind,
      description: kind === 'damaged-der' || kind === 'binary' ? NOUN[kind] : `${NOUN[kind]} (DER)`,
      ...(kind === 'binary' ? {} : {encoding: 'der' as const}),
    };
  }
  if (looksLikeText(data)) return {kind: 'text', description: NOUN.text};
  return {kind: 'binary', description: NOUN.binary};
}

/** Kinds that say nothing more than "this is not it": the reader's own message is more precise. */
const VAGUE = new Set<InputKind>(['unknown-pem', 'damaged-der', 'text', 'binary']);

/** What to do with a file of this kind, when a command wanted something else. */
function defaultHint(kind: InputKind, source: string): string {
  switch (kind) {
    case 'certificate':
      return `show it with: mtls-kit inspect ${source}`;
    case 'crl':
      return `show it with: mtls-kit inspect ${source}; commands take CRLs with --crl`;
    case 'csr':
      return `issue a certificate from it: mtls-kit sign ${source}`;
    case 'private-key':
    case 'encrypted-private-key':
      return `pass the certificate that goes with this key (mtls-kit inspect ${source} names it)`;
    case 'public-key':
      return 'pass the certificate that holds this key';
    case 'pkcs12':
      return `extract its certificates: openssl pkcs12 -in ${source} -nokeys -out chain.pem`;
    case 'pkcs7':
      return `convert it: openssl pkcs7 -print_certs -in ${source} -out chain.pem (add -inform DER for a binary .p7b)`;
    case 'gzip':
      return `decompress it first: gunzip -k ${source}`;
    case 'zip':
      return `extract it first: unzip ${source}`;
    case 'bzip2':
      return `decompress it first: bunzip2 -k ${source}`;
    case 'xz':
      return `decompress it first: unxz -k ${source}`;
    case 'zstd':
      return `decompress it first: unzstd ${source}`;
    default:
      return 'check that this is the file you meant';
  }
}

export interface WrongInputOptions {
  /** What the command wanted, with its article: "a certificate chain". */
  wanted: string;
  /** A better next step than the default for some kinds ("pass it with --crl"). */
  hints?: Partial<Record<InputKind, string>>;
}

/**
 * The error for input that is not what a command wants, or undefined when the bytes are of
 * a wanted kind (`accept`) or of no recognisable kind (the reader's own error is then more
 * precise). Empty: EMPTY_FILE (exit 4). Another recognised kind (a CRL given as a chain, a
 * key given as a certificate): WRONG_FILE_KIND (exit 2), naming what the file is, what was
 * wanted and what to do.
 */
export function wrongInputError(data: Uint8Array, source: string, accept: InputKind[], o: WrongInputOptions): MtlsKitError | undefined {
  const found = identifyInput(data);
  if (found.kind === 'empty') {
    return preconditionError('EMPTY_FILE', `${source} is empty`, [
      source === 'stdin' ? 'pipe the file into the command, or pass its path' : 'check the path, and that whatever wrote the file finished',
    ]);
  }
  if (accept.includes(found.kind) || VAGUE.has(found.kind)) return undefined;
  return new MtlsKitError({
    code: 'WRONG_FILE_KIND',
    message: `${source} is ${found.description}, not ${o.wanted}`,
    suggestions: [o.hints?.[found.kind] ?? defaultHint(found.kind, source)],
    exitCode: ExitCode.Usage,
    details: {found: found.kind},
  });
}

/**
 * Throws wrongInputError's error when there is one (empty, or a recognised other kind).
 * @throws MtlsKitError EMPTY_FILE (exit 4) / WRONG_FILE_KIND (exit 2).
 */
export function assertInputKind(data: Uint8Array, source: string, accept: InputKind[], o: WrongInputOptions): void {
  const wrong = wrongInputError(data, source, accept, o);
  if (wrong) throw wrong;
}

/** Private keys as a command reads them (PEM or DER, plain or encrypted). */
export const PRIVATE_KEY_KINDS: InputKind[] = ['private-key', 'encrypted-private-key'];

/** Kinds that are text lines a line-oriented reader (logs) can use. */
const LINE_TEXT = new Set<InputKind>(['text', 'empty', 'unknown-pem']);

/**
 * Whether the first bytes of an input meant to be text lines (a connection log) are not:
 * what they look like instead (a certificate, a key, an archive, binary data), or undefined
 * for text. Binary: a NUL byte, or more than 1% control characters or invalid UTF-8.
 * A key is reported by kind only: none of its bytes are ever shown.
 */
export function notTextLines(head: Uint8Array): InputDescription | undefined {
  const found = identifyInput(head);
  // "damaged DER" only means the sample starts with 0x30 ("0" in text): the bytes decide.
  if (!LINE_TEXT.has(found.kind) && found.kind !== 'damaged-der') return found;
  const sample = head.subarray(0, Math.min(head.length, 65_536));
  let control = 0;
  for (const b of sample) {
    if (b === 0) return {kind: 'binary', description: NOUN.binary};
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f) control++;
  }
  const bad = (new TextDecoder('utf-8').decode(sample, {stream: true}).match(/\uFFFD/g) ?? []).length;
  return control + bad > sample.length / 100 ? {kind: 'binary', description: NOUN.binary} : undefined;
}

/** The next step for a file of this kind (the default hint of wrongInputError). */
export function nextStepFor(kind: InputKind, source: string): string {
  return defaultHint(kind, source);
}
