/**
 * Reading a private key that a user hands to `inspect` (PEM or DER; PKCS#8, PKCS#1 RSA,
 * SEC1 EC; plain or encrypted) to describe it: type, size and the SHA-256 of its public key.
 * The key itself never leaves this module: callers get the public half only.
 */
import {createPrivateKey, createPublicKey, type KeyObject} from 'node:crypto';
import {preconditionError} from '../errors.js';
import {children, decodeOid, parseOne, TAG} from './der.js';
import {attributeLabel} from './dn.js';
import {identifyInput} from './input-kind.js';
import {sha256Fingerprint} from './fingerprint.js';

export interface PrivateKeyRead {
  encrypted: boolean;
  encoding: 'pem' | 'der';
  /** The public key (SubjectPublicKeyInfo DER) when the key could be read. */
  spki?: Uint8Array;
  /** How the key is encrypted, when it is: "PBES2 (PBKDF2, AES-256-CBC)", "legacy PEM encryption (AES-256-CBC)". */
  encryption?: string;
  /** The type a legacy PEM label gives away without decrypting (RSA, EC, DSA). */
  typeHint?: string;
}

/** SHA-256 of a SubjectPublicKeyInfo DER, colon-separated upper-case hex (as `openssl pkey -pubout -outform DER | openssl dgst -sha256`). */
export function publicKeySha256(spki: Uint8Array): string {
  return sha256Fingerprint(spki);
}

/** RFC 8018 A.4 PBES2-params: "PBES2 (PBKDF2, AES-256-CBC)"; else the algorithm's name. */
function describePkcs8Encryption(der: Uint8Array): string | undefined {
  try {
    const [alg] = children(parseOne(der));
    const [oid, params] = children(alg!);
    const name = attributeLabel(decodeOid(oid!));
    if (name !== 'PBES2' || !params || params.tag !== TAG.SEQUENCE) return name;
    const [kdf, scheme] = children(params);
    const kdfName = attributeLabel(decodeOid(children(kdf!)[0]!));
    const schemeName = attributeLabel(decodeOid(children(scheme!)[0]!));
    return `PBES2 (${kdfName}, ${schemeName})`;
  } catch {
    return undefined;
  }
}

const pemBody = (text: string, label: string): Uint8Array | undefined => {
  const m = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(text);
  return m ? new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')) : undefined;
};

function spkiOf(key: KeyObject): Uint8Array {
  return new Uint8Array(createPublicKey(key).export({format: 'der', type: 'spki'}));
}

/**
 * Reads a private key to describe it. Encrypted without a passphrase: what can be known
 * without it (encrypted, how, the legacy PEM label's type), no `spki`.
 * @param source the file name for messages
 * @throws MtlsKitError WRONG_PASSPHRASE (exit 4) when the passphrase does not decrypt it,
 *   BAD_KEY (exit 4) when it is not a readable private key.
 */
export function readPrivateKeyInfo(data: Uint8Array, source: string, passphrase: string | undefined): PrivateKeyRead {
  const found = identifyInput(data);
  const encoding = found.encoding ?? 'der';
  const encrypted = found.kind === 'encrypted-private-key';
  const text = encoding === 'pem' ? Buffer.from(data).toString('latin1') : '';
  let encryption: string | undefined;
  let typeHint: string | undefined;
  if (encrypted) {
    const legacy = /-----BEGIN (RSA|EC|DSA) PRIVATE KEY-----\r?\nProc-Type: *4,ENCRYPTED\r?\nDEK-Info: *([A-Za-z0-9-]+)/.exec(text);
    if (legacy) {
      typeHint = legacy[1];
      encryption = `legacy PEM encryption (${legacy[2]!.toUpperCase()})`;
    } else {
      const der = encoding === 'pem' ? pemBody(text, 'ENCRYPTED PRIVATE KEY') : data;
      encryption = der ? describePkcs8Encryption(der) : undefined;
    }
    if (passphrase === undefined) return {encrypted, encoding, ...(encryption ? {encryption} : {}), ...(typeHint ? {typeHint} : {})};
  } else if (text.includes('-----BEGIN OPENSSH PRIVATE KEY-----')) {
    throw preconditionError('BAD_KEY', `${source} is an OpenSSH private key, which mtls-kit does not read`, [
      `convert a copy to PKCS#8: cp ${source} key.pem && ssh-keygen -p -m PKCS8 -f key.pem`,
    ]);
  }
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const attempts: Array<Parameters<typeof createPrivateKey>[0]> =
    encoding === 'pem'
      ? [{key: buf, format: 'pem', ...(passphrase !== undefined ? {passphrase} : {})}]
      : (['pkcs8', 'pkcs1', 'sec1'] as const).map((type) => ({
          key: buf,
          format: 'der' as const,
          type,
          ...(passphrase !== undefined && type === 'pkcs8' ? {passphrase} : {}),
        }));
  let lastError: unknown;
  for (const a of attempts) {
    try {
      return {encrypted, encoding, spki: spkiOf(createPrivateKey(a)), ...(encryption ? {encryption} : {}), ...(typeHint ? {typeHint} : {})};
    } catch (error) {
      lastError = error;
    }
  }
  if (encrypted) throw preconditionError('WRONG_PASSPHRASE', `wrong passphrase for ${source}`, ['check --passphrase-file / MTLS_KIT_CA_PASSPHRASE']);
  // The message of node:crypto names the format problem, never key material.
  throw preconditionError('BAD_KEY', `${source} is not a readable private key (${(lastError as Error).message})`, [
    'check that the file is a complete PEM or DER private key',
  ]);
}
