/**
 * PKCS#12 (RFC 7292) files: building them for `gen-client --p12` / `--p12-legacy` and
 * reading them for `inspect file.p12`.
 *
 * Structures come from PeculiarVentures' `@peculiar/asn1-pfx` / `asn1-cms` / `asn1-pkcs8`
 * schemas (the same family @peculiar/x509 is built on); the few parameter types they do not
 * define (PBES2, PBKDF2 and PKCS#12 PBE parameters, CMS EncryptedData) are declared below
 * with `@peculiar/asn1-schema` decorators. PBKDF2, ciphers and HMAC are node:crypto. The
 * PKCS#12 key derivation (RFC 7292 appendix B.2) is written here: node:crypto does not
 * expose it, PKI.js keeps its copy private, and node-forge works on binary strings.
 *
 * Loading these schemas costs roughly 60-150 ms, so commands that must start fast (`inspect`
 * on a certificate) should `await import()` this module only when the input is PKCS#12.
 */
import * as nodeCrypto from 'node:crypto';
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  pbkdf2Sync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import {AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, OctetString} from '@peculiar/asn1-schema';
import {AlgorithmIdentifier} from '@peculiar/asn1-x509';
import {DigestInfo} from '@peculiar/asn1-rsa';
import {ContentInfo, EncryptedContent, EncryptedContentInfo, id_data, id_encryptedData, id_envelopedData} from '@peculiar/asn1-cms';
import {EncryptedPrivateKeyInfo} from '@peculiar/asn1-pkcs8';
import {
  AuthenticatedSafe,
  CertBag,
  MacData,
  PFX,
  PKCS12Attribute,
  SafeBag,
  SafeContents,
  id_certBag,
  id_keyBag,
  id_pkcs8ShroudedKeyBag,
  id_SafeContents,
  id_x509Certificate,
} from '@peculiar/asn1-pfx';
import {parseCertificate} from './cert.js';
import {parseOne, TAG, tlv} from './der.js';
import {ExitCode, MtlsKitError, usageError} from '../errors.js';
import {P12_PASSWORD_ENV} from './pkcs12-env.js';

// ---------------------------------------------------------------------------------
// Object identifiers

const OID = {
  // RFC 7292 appendix C: PKCS#12 password-based encryption.
  pbeSha1Rc4_128: '1.2.840.113549.1.12.1.1',
  pbeSha1Rc4_40: '1.2.840.113549.1.12.1.2',
  pbeSha1TripleDes3Key: '1.2.840.113549.1.12.1.3',
  pbeSha1TripleDes2Key: '1.2.840.113549.1.12.1.4',
  pbeSha1Rc2_128: '1.2.840.113549.1.12.1.5',
  pbeSha1Rc2_40: '1.2.840.113549.1.12.1.6',
  // RFC 8018: PBES2 and PBKDF2 with its PRFs.
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacWithSha1: '1.2.840.113549.2.7',
  hmacWithSha224: '1.2.840.113549.2.8',
  hmacWithSha256: '1.2.840.113549.2.9',
  hmacWithSha384: '1.2.840.113549.2.10',
  hmacWithSha512: '1.2.840.113549.2.11',
  aes128Cbc: '2.16.840.1.101.3.4.1.2',
  aes192Cbc: '2.16.840.1.101.3.4.1.22',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  desEde3Cbc: '1.2.840.113549.3.7',
  // Digests for the MAC (RFC 7292 4, DigestInfo).
  sha1: '1.3.14.3.2.26',
  sha224: '2.16.840.1.101.3.4.2.4',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  // RFC 9579 (OpenSSL 3.4+ `-pbmac1_pbkdf2`).
  pbmac1: '1.2.840.113549.1.5.14',
  // PKCS#9 attributes used on bags (RFC 7292 4.2).
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
} as const;

const PRF_HASH: Record<string, string> = {
  [OID.hmacWithSha1]: 'sha1',
  [OID.hmacWithSha224]: 'sha224',
  [OID.hmacWithSha256]: 'sha256',
  [OID.hmacWithSha384]: 'sha384',
  [OID.hmacWithSha512]: 'sha512',
};

const PBES2_CIPHERS: Record<string, {name: string; keyLength: number}> = {
  [OID.aes128Cbc]: {name: 'aes-128-cbc', keyLength: 16},
  [OID.aes192Cbc]: {name: 'aes-192-cbc', keyLength: 24},
  [OID.aes256Cbc]: {name: 'aes-256-cbc', keyLength: 32},
  [OID.desEde3Cbc]: {name: 'des-ede3-cbc', keyLength: 24},
};

/** RFC 7292 appendix C: cipher, key and IV length of each PKCS#12 PBE scheme (SHA-1 KDF). */
const PKCS12_PBE: Record<string, {name: string; keyLength: number; ivLength: number; label: string}> = {
  [OID.pbeSha1TripleDes3Key]: {name: 'des-ede3-cbc', keyLength: 24, ivLength: 8, label: 'pbeWithSHAAnd3-KeyTripleDES-CBC'},
  [OID.pbeSha1TripleDes2Key]: {name: 'des-ede-cbc', keyLength: 16, ivLength: 8, label: 'pbeWithSHAAnd2-KeyTripleDES-CBC'},
  [OID.pbeSha1Rc2_128]: {name: 'rc2-cbc', keyLength: 16, ivLength: 8, label: 'pbeWithSHAAnd128BitRC2-CBC'},
  [OID.pbeSha1Rc2_40]: {name: 'rc2-40-cbc', keyLength: 5, ivLength: 8, label: 'pbewithSHAAnd40BitRC2-CBC'},
  [OID.pbeSha1Rc4_128]: {name: 'rc4', keyLength: 16, ivLength: 0, label: 'pbeWithSHAAnd128BitRC4'},
  [OID.pbeSha1Rc4_40]: {name: 'rc4-40', keyLength: 5, ivLength: 0, label: 'pbeWithSHAAnd40BitRC4'},
};

const MAC_DIGESTS: Record<string, {hash: string; length: number; blockSize: number}> = {
  [OID.sha1]: {hash: 'sha1', length: 20, blockSize: 64},
  [OID.sha224]: {hash: 'sha224', length: 28, blockSize: 64},
  [OID.sha256]: {hash: 'sha256', length: 32, blockSize: 64},
  [OID.sha384]: {hash: 'sha384', length: 48, blockSize: 128},
  [OID.sha512]: {hash: 'sha512', length: 64, blockSize: 128},
};

// ---------------------------------------------------------------------------------
// ASN.1 types the @peculiar packages do not define

/** RFC 7292 appendix C: `pkcs-12PbeParams ::= SEQUENCE { salt OCTET STRING, iterations INTEGER }`. */
class Pkcs12PbeParams {
  @AsnProp({type: OctetString}) salt = new OctetString();
  @AsnProp({type: AsnPropTypes.Integer}) iterations = 0;
  constructor(params: Partial<Pkcs12PbeParams> = {}) {
    Object.assign(this, params);
  }
}

/** RFC 8018 A.2 `PBKDF2-params` (the `otherSource` salt choice is not used by anyone). */
class Pbkdf2Params {
  @AsnProp({type: OctetString}) salt = new OctetString();
  @AsnProp({type: AsnPropTypes.Integer}) iterationCount = 0;
  @AsnProp({type: AsnPropTypes.Integer, optional: true}) keyLength?: number;
  @AsnProp({type: AlgorithmIdentifier, optional: true}) prf?: AlgorithmIdentifier;
  constructor(params: Partial<Pbkdf2Params> = {}) {
    Object.assign(this, params);
  }
}

/** RFC 8018 A.4 `PBES2-params`. */
class Pbes2Params {
  @AsnProp({type: AlgorithmIdentifier}) keyDerivationFunc = new AlgorithmIdentifier();
  @AsnProp({type: AlgorithmIdentifier}) encryptionScheme = new AlgorithmIdentifier();
  constructor(params: Partial<Pbes2Params> = {}) {
    Object.assign(this, params);
  }
}

/** RFC 5652 8: `EncryptedData ::= SEQUENCE { version, encryptedContentInfo, unprotectedAttrs [1] OPTIONAL }`. */
@AsnType({type: AsnTypeTypes.Sequence})
class CmsEncryptedData {
  @AsnProp({type: AsnPropTypes.Integer}) version = 0;
  @AsnProp({type: EncryptedContentInfo}) encryptedContentInfo = new EncryptedContentInfo();
  @AsnProp({type: AsnPropTypes.Any, context: 1, implicit: true, optional: true}) unprotectedAttrs?: ArrayBuffer;
  constructor(params: Partial<CmsEncryptedData> = {}) {
    Object.assign(this, params);
  }
}

/**
 * Any OCTET STRING, primitive or BER-constructed in chunks (as streaming encoders such as
 * NSS write them; X.690 8.7.3). asn1-schema's OctetString reads only the primitive form.
 */
class OctetStringBytes {
  bytes: Buffer = Buffer.alloc(0);
  fromASN(asn: {idBlock?: {tagClass: number; tagNumber: number}; getValue?: () => ArrayBuffer}): this {
    if (asn.idBlock?.tagClass !== 1 || asn.idBlock.tagNumber !== 4 || typeof asn.getValue !== 'function') throw new TypeError('expected an OCTET STRING');
    this.bytes = Buffer.from(asn.getValue());
    return this;
  }
  toASN(): never {
    throw new Error('OctetStringBytes is for parsing only');
  }
}

/** The value of a DER/BER OCTET STRING. */
const octets = (der: ArrayBuffer | Uint8Array): Buffer => AsnConvert.parse(der, OctetStringBytes).bytes;

// ---------------------------------------------------------------------------------
// Key derivation and encryption

/** The password as RFC 7292 B.1 wants it for the PKCS#12 KDF: BMPString (UTF-16BE) plus two zero bytes. */
function bmpPassword(password: string): Buffer {
  const le = Buffer.from(password + '\0', 'utf16le');
  return le.swap16();
}

/** One-shot digest: `crypto.hash` (Node >= 20.12) is ~40% faster than createHash in the KDF's loop. */
const hashOnce: (hash: string, data: Buffer) => Buffer =
  typeof nodeCrypto.hash === 'function' ? (h, d) => nodeCrypto.hash(h, d, 'buffer') : (h, d) => createHash(h).update(d).digest();

/**
 * The PKCS#12 key derivation function (RFC 7292 appendix B.2).
 * @param hash node hash name (sha1, sha256, ...)
 * @param id 1 = encryption key, 2 = IV, 3 = MAC key (B.3)
 * @param password already BMP-encoded (see {@link bmpPassword})
 * @returns `length` bytes of key material
 */
export function derivePkcs12Key(hash: string, id: 1 | 2 | 3, password: Uint8Array, salt: Uint8Array, iterations: number, length: number): Buffer {
  const digest = Object.values(MAC_DIGESTS).find((d) => d.hash === hash);
  if (!digest) throw new Error(`PKCS#12 KDF: unsupported hash ${hash}`);
  const u = digest.length;
  const v = digest.blockSize;
  // B.2 steps 1-4: D = ID repeated to v bytes; I = S || P, each stretched to a multiple of v.
  const D = Buffer.alloc(v, id);
  const stretch = (src: Uint8Array): Buffer => {
    const out = Buffer.alloc(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const I = Buffer.concat([stretch(salt), stretch(password)]);
  const out = Buffer.alloc(Math.ceil(length / u) * u);
  for (let block = 0; block * u < length; block++) {
    // Step 6a: A = H^r(D || I).
    let A: Buffer = createHash(hash).update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = hashOnce(hash, A);
    A.copy(out, block * u);
    if ((block + 1) * u >= length) break;
    // Steps 6b-6c: B = A stretched to v bytes; each v-byte block I_j = (I_j + B + 1) mod 2^(8v).
    const B = stretch(A);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k]! + B[k]! + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return out.subarray(0, length);
}

const toArrayBuffer = (b: Uint8Array): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

const toBuf = (b: ArrayBuffer | ArrayBufferView): Buffer => (b instanceof ArrayBuffer ? Buffer.from(b) : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** An AlgorithmIdentifier with DER-encoded parameters. */
function algorithm(oid: string, params: unknown): AlgorithmIdentifier {
  return new AlgorithmIdentifier({algorithm: oid, parameters: AsnConvert.serialize(params)});
}

type Random = (n: number) => Uint8Array;

/** Encrypts with PBES2 (RFC 8018 6.2): PBKDF2-HMAC-SHA256 and AES-256-CBC, OpenSSL 3's default. */
function encryptPbes2(data: Uint8Array, password: string, iterations: number, random: Random): {alg: AlgorithmIdentifier; ciphertext: Buffer} {
  const salt = random(16);
  const iv = random(16);
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const c = createCipheriv('aes-256-cbc', key, iv);
  const ciphertext = Buffer.concat([c.update(data), c.final()]);
  const kdf = algorithm(
    OID.pbkdf2,
    // The PRF with NULL parameters, byte for byte as OpenSSL 3 writes it.
    new Pbkdf2Params({
      salt: new OctetString(salt),
      iterationCount: iterations,
      prf: new AlgorithmIdentifier({algorithm: OID.hmacWithSha256, parameters: null}),
    }),
  );
  const scheme = algorithm(OID.aes256Cbc, new OctetString(iv));
  return {alg: algorithm(OID.pbes2, new Pbes2Params({keyDerivationFunc: kdf, encryptionScheme: scheme})), ciphertext};
}

/** Encrypts with pbeWithSHAAnd3-KeyTripleDES-CBC (RFC 7292 appendix C, key and IV from B.2). */
function encryptPkcs12TripleDes(data: Uint8Array, password: string, iterations: number, random: Random): {alg: AlgorithmIdentifier; ciphertext: Buffer} {
  const salt = random(8);
  const pass = bmpPassword(password);
  const key = derivePkcs12Key('sha1', 1, pass, salt, iterations, 24);
  const iv = derivePkcs12Key('sha1', 2, pass, salt, iterations, 8);
  const c = createCipheriv('des-ede3-cbc', key, iv);
  const ciphertext = Buffer.concat([c.update(data), c.final()]);
  return {alg: algorithm(OID.pbeSha1TripleDes3Key, new Pkcs12PbeParams({salt: new OctetString(salt), iterations})), ciphertext};
}

/**
 * Bounds on the work a PKCS#12 file may ask of us (every file read is hostile until its
 * MAC verifies, and the MAC itself costs its iteration count).
 *
 * maxIterations: per key derivation (the MAC, and each PBE). Our choice, where the
 * standards set none (RFC 7292 and RFC 8018 give only minimums): 1,000,000. OpenSSL caps
 * nothing when parsing (openssl/openssl#21103, open); .NET caps 600,000 per derivation for
 * files loaded without a password (Pkcs12LoaderLimits), Botan 100,000,000, and the Go x/crypto
 * fixes for the same 2^31-1 file 1,000,000-10,000,000. Writers use 2,048 (OpenSSL's
 * PKCS12_DEFAULT_ITER) to ~600,000 (OWASP for PBKDF2-SHA256), so no real file is refused.
 * maxTotalIterations: the sum over a file (MAC + certificates + key + a few more bags).
 * maxBytes: far above any client bundle (a key and a few certificates are ~10 KB).
 * maxBags: certificates and keys together; maxNesting: safeContentsBag depth.
 */
export const PKCS12_LIMITS = {
  maxIterations: 1_000_000,
  maxTotalIterations: 5_000_000,
  maxBytes: 4 * 1024 * 1024,
  maxBags: 1_000,
  maxNesting: 4,
} as const;

/** The work spent so far on one file. */
interface Pkcs12Work {
  iterations: number;
  bags: number;
}

function limitError(source: string, what: string, fix: string): MtlsKitError {
  return new MtlsKitError({
    code: 'PKCS12_LIMIT',
    message: `${source}: ${what}; refused without doing the work`,
    suggestions: [fix],
    exitCode: ExitCode.Precondition,
  });
}

/**
 * Accounts for one key derivation before running it.
 * @throws MtlsKitError PKCS12_LIMIT (exit 4) when the count is not a positive integer or above the caps.
 */
function spendIterations(work: Pkcs12Work, raw: unknown, what: string, source: string): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw limitError(source, `${what} iteration count ${String(raw)} is not a positive integer`, 'export the file again');
  if (n > PKCS12_LIMITS.maxIterations)
    throw limitError(
      source,
      `${what} iteration count ${n} is above mtls-kit's limit of ${PKCS12_LIMITS.maxIterations.toLocaleString('en-US')}`,
      'export the file again with the default iteration count (openssl pkcs12 -export uses 2048)',
    );
  work.iterations += n;
  if (work.iterations > PKCS12_LIMITS.maxTotalIterations)
    throw limitError(
      source,
      `the file asks for more than ${PKCS12_LIMITS.maxTotalIterations.toLocaleString('en-US')} key-derivation iterations in all`,
      'export the key and certificates with the default iteration count',
    );
  return n;
}

/** Thrown inside this module when a ciphertext does not decrypt; mapped to WRONG_PASSWORD. */
class BadDecrypt extends Error {}

/**
 * Decrypts data protected by PBES2 or a PKCS#12 PBE scheme.
 * @throws BadDecrypt when the padding is wrong (wrong password); MtlsKitError BAD_PKCS12 for
 *   schemes this Node cannot run (RC2/RC4 need OpenSSL's legacy provider).
 */
function decryptPbe(alg: AlgorithmIdentifier, ciphertext: Uint8Array, password: string, source: string, work: Pkcs12Work): Buffer {
  let cipherName: string;
  let key: Buffer;
  let iv: Buffer | null;
  let unsupportedHint: string | undefined;
  if (alg.algorithm === OID.pbes2) {
    const p = AsnConvert.parse(alg.parameters!, Pbes2Params);
    if (p.keyDerivationFunc.algorithm !== OID.pbkdf2) throw badPkcs12(source, `unsupported PBES2 key derivation ${p.keyDerivationFunc.algorithm}`);
    const kdf = AsnConvert.parse(p.keyDerivationFunc.parameters!, Pbkdf2Params);
    const prfHash = kdf.prf ? PRF_HASH[kdf.prf.algorithm] : 'sha1';
    if (!prfHash) throw badPkcs12(source, `unsupported PBKDF2 PRF ${kdf.prf!.algorithm}`);
    const cipher = PBES2_CIPHERS[p.encryptionScheme.algorithm];
    if (!cipher) throw badPkcs12(source, `unsupported PBES2 cipher ${p.encryptionScheme.algorithm}`);
    cipherName = cipher.name;
    iv = octets(p.encryptionScheme.parameters!);
    const iterations = spendIterations(work, kdf.iterationCount, 'PBKDF2', source);
    key = pbkdf2Sync(Buffer.from(password, 'utf8'), toBuf(kdf.salt.buffer), iterations, kdf.keyLength ?? cipher.keyLength, prfHash);
  } else {
    const scheme = PKCS12_PBE[alg.algorithm];
    if (!scheme) throw badPkcs12(source, `unsupported encryption algorithm ${alg.algorithm}`);
    const p = AsnConvert.parse(alg.parameters!, Pkcs12PbeParams);
    const pass = bmpPassword(password);
    const salt = toBuf(p.salt.buffer);
    cipherName = scheme.name;
    const iterations = spendIterations(work, p.iterations, 'PBE', source);
    key = derivePkcs12Key('sha1', 1, pass, salt, iterations, scheme.keyLength);
    iv = scheme.ivLength ? derivePkcs12Key('sha1', 2, pass, salt, spendIterations(work, iterations, 'PBE', source), scheme.ivLength) : null;
    unsupportedHint = scheme.name.startsWith('rc') ? scheme.label : undefined;
  }
  let d: ReturnType<typeof createDecipheriv>;
  try {
    d = createDecipheriv(cipherName, key, iv);
  } catch (err) {
    if (unsupportedHint) {
      // OpenSSL 3 moved RC2 and RC4 to its legacy provider, which Node loads only with --openssl-legacy-provider.
      throw badPkcs12(source, `encrypted with ${unsupportedHint} (the old \`openssl pkcs12 -legacy\` default), which this Node's OpenSSL cannot decrypt`, [
        `Re-export it with modern encryption: openssl pkcs12 -legacy -in ${source} -nodes | openssl pkcs12 -export -out new.p12`,
        'Or run mtls-kit with NODE_OPTIONS=--openssl-legacy-provider',
      ]);
    }
    throw badPkcs12(source, `cannot run cipher ${cipherName}: ${(err as Error).message}`);
  }
  try {
    return Buffer.concat([d.update(ciphertext), d.final()]);
  } catch {
    throw new BadDecrypt();
  }
}

// ---------------------------------------------------------------------------------
// Errors

/** The environment variable commands read a PKCS#12 password from (named in error messages). */
export {P12_PASSWORD_ENV};

function badPkcs12(source: string, detail: string, suggestions: string[] = []): MtlsKitError {
  return new MtlsKitError({
    code: 'BAD_PKCS12',
    message: `${source}: not a readable PKCS#12 file: ${detail}`,
    suggestions,
    exitCode: ExitCode.Precondition,
  });
}

function wrongPassword(source: string, what: string): MtlsKitError {
  return new MtlsKitError({
    code: 'WRONG_PASSWORD',
    message: `${source}: wrong PKCS#12 password (${what})`,
    suggestions: [`Give the password the file was exported with: --password-file FILE (first line) or the ${P12_PASSWORD_ENV} environment variable`],
    exitCode: ExitCode.Precondition,
  });
}

// ---------------------------------------------------------------------------------
// Building

export interface BuildPkcs12Params {
  /** The private key, unencrypted PKCS#8 DER (RSA or EC). */
  keyPkcs8Der: Uint8Array;
  /** The leaf certificate, DER. */
  certDer: Uint8Array;
  /** Intermediates (and optionally the root), DER, in chain order after the leaf. */
  chainDer?: Uint8Array[];
  password: string;
  /** 3DES + SHA-1 MAC for older macOS and Java keystores; default false (AES-256 + SHA-256 MAC). */
  legacy?: boolean;
  /** A friendlyName (alias in Java keystores) on the key and leaf bags; none by default. */
  friendlyName?: string;
  /** PBKDF2 / PKCS#12 KDF / MAC iterations; default 2048 (OpenSSL's PKCS12_DEFAULT_ITER). */
  iterations?: number;
  /** Source of salts and IVs; default node:crypto randomBytes. */
  random?: (n: number) => Uint8Array;
}

/** Bag attributes (RFC 7292 4.2): localKeyId links the key and its certificate, friendlyName names them. */
function bagAttributes(localKeyId: Uint8Array | undefined, friendlyName: string | undefined): PKCS12Attribute[] | undefined {
  const attrs: PKCS12Attribute[] = [];
  const attr = (id: string, valueDer: ArrayBuffer): PKCS12Attribute => {
    // PKCS12Attribute's constructor ignores its argument (asn1-pfx 2.11.1), so assign fields.
    const a = new PKCS12Attribute();
    a.attrId = id;
    a.attrValues = [valueDer];
    return a;
  };
  if (friendlyName !== undefined) {
    const bmp = Buffer.from(friendlyName, 'utf16le').swap16();
    attrs.push(attr(OID.friendlyName, toArrayBuffer(tlv(TAG.BMPString, bmp))));
  }
  if (localKeyId) attrs.push(attr(OID.localKeyId, AsnConvert.serialize(new OctetString(localKeyId))));
  return attrs.length ? attrs : undefined;
}

/**
 * Builds a password-protected PKCS#12 (PFX, RFC 7292) holding one private key and its
 * certificate chain, leaf first.
 *
 * Modern (default), as `openssl pkcs12 -export` in OpenSSL 3 writes it, readable without
 * `-legacy`: the key in a pkcs8ShroudedKeyBag and the certificates in an EncryptedData, both
 * PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC); MAC HMAC-SHA256.
 * Legacy (`legacy: true`): pbeWithSHAAnd3-KeyTripleDES-CBC for both and a SHA-1 MAC, which
 * older macOS (Keychain) and Java keystores import.
 * The key and leaf carry a localKeyId (SHA-1 of the leaf, as OpenSSL sets it).
 * @returns DER bytes of the PFX
 * @throws MtlsKitError BAD_ITERATIONS (exit 2) when `iterations` is not a positive integer;
 *   BAD_KEY (exit 1: callers pass keys mtls-kit made) when `keyPkcs8Der` is not an unencrypted PKCS#8 key
 */
export function buildPkcs12(p: BuildPkcs12Params): Uint8Array {
  const iterations = p.iterations ?? 2048;
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw usageError('BAD_ITERATIONS', `PKCS#12 iteration count ${iterations} is not a positive integer`, ['use 2048 (the OpenSSL default) or more']);
  }
  const random: Random = p.random ?? ((n) => randomBytes(n));
  const encrypt = p.legacy ? encryptPkcs12TripleDes : encryptPbes2;
  try {
    createPrivateKey({key: toBuf(p.keyPkcs8Der), format: 'der', type: 'pkcs8'});
  } catch (err) {
    throw new MtlsKitError({
      code: 'BAD_KEY',
      message: `PKCS#12: the private key is not unencrypted PKCS#8 DER (${(err as Error).message})`,
      exitCode: ExitCode.Bug,
    });
  }
  const localKeyId = createHash('sha1').update(p.certDer).digest();

  // Certificates: one certBag each (RFC 7292 4.2.3), leaf first, in an EncryptedData.
  const certBags = [p.certDer, ...(p.chainDer ?? [])].map((der, i) => {
    const certBag = new CertBag({certId: id_x509Certificate, certValue: AsnConvert.serialize(new OctetString(der))});
    const bag = new SafeBag({bagId: id_certBag, bagValue: AsnConvert.serialize(certBag)});
    const attrs = i === 0 ? bagAttributes(localKeyId, p.friendlyName) : undefined;
    if (attrs) bag.bagAttributes = attrs;
    return bag;
  });
  const certsPlain = new Uint8Array(AsnConvert.serialize(new SafeContents(certBags)));
  const certsEnc = encrypt(certsPlain, p.password, iterations, random);
  const encryptedData = new CmsEncryptedData({
    version: 0,
    encryptedContentInfo: new EncryptedContentInfo({
      contentType: id_data,
      contentEncryptionAlgorithm: certsEnc.alg,
      encryptedContent: new EncryptedContent({value: new OctetString(certsEnc.ciphertext)}),
    }),
  });

  // The key: a pkcs8ShroudedKeyBag (RFC 7292 4.2.2) in a plain Data ContentInfo.
  const keyEnc = encrypt(p.keyPkcs8Der, p.password, iterations, random);
  const shrouded = new EncryptedPrivateKeyInfo({encryptionAlgorithm: keyEnc.alg});
  shrouded.encryptedData = new OctetString(keyEnc.ciphertext);
  const keyBag = new SafeBag({bagId: id_pkcs8ShroudedKeyBag, bagValue: AsnConvert.serialize(shrouded)});
  const keyAttrs = bagAttributes(localKeyId, p.friendlyName);
  if (keyAttrs) keyBag.bagAttributes = keyAttrs;
  const keyContents = AsnConvert.serialize(new SafeContents([keyBag]));

  const authSafe = new AuthenticatedSafe([
    new ContentInfo({contentType: id_encryptedData, content: AsnConvert.serialize(encryptedData)}),
    new ContentInfo({contentType: id_data, content: AsnConvert.serialize(new OctetString(keyContents))}),
  ]);
  const authSafeDer = new Uint8Array(AsnConvert.serialize(authSafe));

  // MAC over the AuthenticatedSafe octets with a key from the PKCS#12 KDF (RFC 7292 B.3/5.1).
  const macDigest = p.legacy ? MAC_DIGESTS[OID.sha1]! : MAC_DIGESTS[OID.sha256]!;
  const macSalt = random(8);
  const macKey = derivePkcs12Key(macDigest.hash, 3, bmpPassword(p.password), macSalt, iterations, macDigest.length);
  const mac = createHmac(macDigest.hash, macKey).update(authSafeDer).digest();
  const pfx = new PFX({
    version: 3,
    authSafe: new ContentInfo({contentType: id_data, content: AsnConvert.serialize(new OctetString(authSafeDer))}),
    macData: new MacData({
      mac: new DigestInfo({
        digestAlgorithm: new AlgorithmIdentifier({algorithm: p.legacy ? OID.sha1 : OID.sha256, parameters: null}),
        digest: new OctetString(mac),
      }),
      macSalt: new OctetString(macSalt),
      iterations,
    }),
  });
  return new Uint8Array(AsnConvert.serialize(pfx));
}

// ---------------------------------------------------------------------------------
// Reading

export interface ParsedPkcs12 {
  /** Certificates, DER, leaf first (the one linked to the key), then the others in file order. */
  certificates: Uint8Array[];
  /** Whether the file holds a private key (it was decrypted to check, never returned). */
  hasKey: boolean;
}

interface FoundCert {
  der: Uint8Array;
  localKeyId?: string;
}

interface FoundKey {
  pkcs8: Buffer;
  localKeyId?: string;
}

function localKeyIdOf(bag: SafeBag): string | undefined {
  const attr = bag.bagAttributes?.find((a) => a.attrId === OID.localKeyId);
  const v = attr?.attrValues[0];
  return v ? octets(v).toString('hex') : undefined;
}

/** Collects certificates and keys from SafeContents, recursing into safeContentsBags. */
function readSafeContents(
  der: ArrayBuffer | Uint8Array,
  password: string,
  source: string,
  certs: FoundCert[],
  keys: FoundKey[],
  work: Pkcs12Work,
  depth = 0,
): void {
  if (depth > PKCS12_LIMITS.maxNesting) throw limitError(source, `SafeContents nested more than ${PKCS12_LIMITS.maxNesting} deep`, 'export the file again');
  const contents = AsnConvert.parse(der, SafeContents);
  for (const bag of contents) {
    if (++work.bags > PKCS12_LIMITS.maxBags) throw limitError(source, `more than ${PKCS12_LIMITS.maxBags} bags`, 'export only the client key and its chain');
    const localKeyId = localKeyIdOf(bag);
    if (bag.bagId === id_certBag) {
      const certBag = AsnConvert.parse(bag.bagValue, CertBag);
      if (certBag.certId !== id_x509Certificate) continue; // SDSI certificates: nobody uses them.
      const c: FoundCert = {der: new Uint8Array(octets(certBag.certValue))};
      if (localKeyId) c.localKeyId = localKeyId;
      certs.push(c);
    } else if (bag.bagId === id_pkcs8ShroudedKeyBag) {
      const epki = AsnConvert.parse(bag.bagValue, EncryptedPrivateKeyInfo);
      let pkcs8: Buffer;
      try {
        pkcs8 = decryptPbe(epki.encryptionAlgorithm, toBuf(epki.encryptedData.buffer), password, source, work);
        // A wrong password can pass the padding check; a PKCS#8 key is one DER SEQUENCE.
        if (!isDerSequence(pkcs8)) throw new BadDecrypt();
      } catch (err) {
        if (err instanceof BadDecrypt) throw wrongPassword(source, 'the private key does not decrypt');
        throw err;
      }
      const k: FoundKey = {pkcs8};
      if (localKeyId) k.localKeyId = localKeyId;
      keys.push(k);
    } else if (bag.bagId === id_keyBag) {
      const k: FoundKey = {pkcs8: toBuf(bag.bagValue)};
      if (localKeyId) k.localKeyId = localKeyId;
      keys.push(k);
    } else if (bag.bagId === id_SafeContents) {
      readSafeContents(bag.bagValue, password, source, certs, keys, work, depth + 1);
    }
    // CRL and secret bags are not certificates or keys: skipped.
  }
}

/** Verifies the PFX MAC (RFC 7292 5.1) with the password; throws WRONG_PASSWORD when it differs. */
function verifyMac(pfx: PFX, authSafeDer: Buffer, password: string, source: string, work: Pkcs12Work): void {
  const macData = pfx.macData;
  const algOid = macData.mac.digestAlgorithm.algorithm;
  if (algOid === OID.pbmac1) throw badPkcs12(source, 'the MAC is PBMAC1 (RFC 9579), which mtls-kit does not verify yet');
  const digest = MAC_DIGESTS[algOid];
  if (!digest) throw badPkcs12(source, `unsupported MAC digest ${algOid}`);
  const expected = toBuf(macData.mac.digest.buffer);
  const salt = toBuf(macData.macSalt.buffer);
  const iterations = spendIterations(work, macData.iterations ?? 1, 'MAC', source);
  const macFor = (pass: Buffer): Buffer => {
    const key = derivePkcs12Key(digest.hash, 3, pass, salt, iterations, digest.length);
    return createHmac(digest.hash, key).update(authSafeDer).digest();
  };
  const same = (a: Buffer): boolean => a.length === expected.length && timingSafeEqual(a, expected);
  if (same(macFor(bmpPassword(password)))) return;
  // OpenSSL also accepts an empty password encoded as no bytes at all (PKCS12_verify_mac with NULL).
  if (password === '' && spendIterations(work, iterations, 'MAC', source) && same(macFor(Buffer.alloc(0)))) return;
  throw wrongPassword(source, 'MAC check failed');
}

function isDerSequence(b: Uint8Array): boolean {
  try {
    return parseOne(b).tag === TAG.SEQUENCE;
  } catch {
    return false;
  }
}

function isCa(der: Uint8Array): boolean {
  try {
    return parseCertificate(der).basicConstraints?.ca === true;
  } catch {
    return false;
  }
}

function keyMatchesCert(pkcs8: Buffer, certDer: Uint8Array): boolean {
  try {
    const pub = createPublicKey(createPrivateKey({key: pkcs8, format: 'der', type: 'pkcs8'})).export({format: 'der', type: 'spki'});
    return Buffer.from(pub).equals(Buffer.from(parseCertificate(certDer).publicKey.spki));
  } catch {
    return false;
  }
}

/**
 * Reads a PKCS#12 file: verifies its MAC with `password`, decrypts the bags (PBES2 with
 * PBKDF2 and AES/3DES as OpenSSL 3 and mtls-kit write them; PKCS#12 3DES PBE as legacy
 * tools write them) and returns the certificates. The private key is decrypted only to
 * confirm it is there and to find its certificate; it is never returned.
 *
 * Leaf first: the certificate whose localKeyId matches the key's, else the one whose
 * public key matches the key, else the first that is not a CA; then the others in file order.
 * @param source the file name, for messages
 * Work is bounded by PKCS12_LIMITS, checked before the work is done.
 * @throws MtlsKitError WRONG_PASSWORD (exit 4) when the MAC or a decryption fails with the password;
 *   PKCS12_LIMIT (exit 4) when the file is above a bound (size, iterations, bags, nesting);
 *   BAD_PKCS12 (exit 4) when the bytes are not PKCS#12 or use RC2/RC4 (OpenSSL 3 legacy
 *   provider only), public-key encryption or an unknown algorithm.
 */
export function parsePkcs12(der: Uint8Array, password: string, source: string): ParsedPkcs12 {
  if (der.length > PKCS12_LIMITS.maxBytes)
    throw limitError(
      source,
      `${der.length} bytes is more than mtls-kit reads as PKCS#12 (${PKCS12_LIMITS.maxBytes} bytes)`,
      'export only the client key and its chain',
    );
  const work: Pkcs12Work = {iterations: 0, bags: 0};
  let pfx: PFX;
  let authSafeDer: Buffer;
  try {
    pfx = AsnConvert.parse(der, PFX);
    if (pfx.authSafe.contentType !== id_data) {
      throw badPkcs12(source, 'public-key integrity mode (SignedData) is not supported; export it with a password');
    }
    authSafeDer = octets(pfx.authSafe.content);
  } catch (err) {
    if (err instanceof MtlsKitError) throw err;
    throw badPkcs12(source, `malformed (${(err as Error).message})`, ['Check that the file is a .p12/.pfx file, not PEM or a certificate']);
  }
  if (pfx.version !== 3) throw badPkcs12(source, `unsupported PFX version ${pfx.version}`);
  // asn1-pfx fills an absent (optional) macData with an empty MacData, so look at its algorithm.
  const hasMac = pfx.macData !== undefined && pfx.macData.mac.digestAlgorithm.algorithm !== '';
  if (hasMac) verifyMac(pfx, authSafeDer, password, source, work);

  const certs: FoundCert[] = [];
  const keys: FoundKey[] = [];
  try {
    const authSafe = AsnConvert.parse(authSafeDer, AuthenticatedSafe);
    for (const ci of authSafe) {
      if (ci.contentType === id_data) {
        readSafeContents(octets(ci.content), password, source, certs, keys, work);
      } else if (ci.contentType === id_encryptedData) {
        const ed = AsnConvert.parse(ci.content, CmsEncryptedData);
        const eci = ed.encryptedContentInfo;
        const enc = eci.encryptedContent;
        const ciphertext = enc?.value ? toBuf(enc.value.buffer) : Buffer.concat((enc?.constructedValue ?? []).map((o) => toBuf(o.buffer)));
        let plain: Buffer;
        try {
          plain = decryptPbe(eci.contentEncryptionAlgorithm, ciphertext, password, source, work);
        } catch (err) {
          if (err instanceof BadDecrypt) throw wrongPassword(source, 'the certificates do not decrypt');
          throw err;
        }
        try {
          readSafeContents(plain, password, source, certs, keys, work);
        } catch (err) {
          // Without a MAC, a wrong password can still yield valid padding (~1 in 256): garbage follows.
          if (!hasMac && !(err instanceof MtlsKitError)) throw wrongPassword(source, 'the certificates do not decrypt');
          throw err;
        }
      } else if (ci.contentType === id_envelopedData) {
        throw badPkcs12(source, 'public-key privacy mode (EnvelopedData) is not supported; export it with a password');
      }
    }
  } catch (err) {
    if (err instanceof MtlsKitError) throw err;
    throw badPkcs12(source, `malformed contents (${(err as Error).message})`);
  }

  const key = keys[0];
  let leafIndex = -1;
  if (key?.localKeyId) leafIndex = certs.findIndex((c) => c.localKeyId === key.localKeyId);
  if (leafIndex < 0 && key) leafIndex = certs.findIndex((c) => keyMatchesCert(key.pkcs8, c.der));
  if (leafIndex < 0) leafIndex = certs.findIndex((c) => !isCa(c.der));
  const ordered = leafIndex > 0 ? [certs[leafIndex]!, ...certs.filter((_, i) => i !== leafIndex)] : certs;
  return {certificates: ordered.map((c) => c.der), hasKey: keys.length > 0};
}
