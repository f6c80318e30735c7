/**
 * Key generation and certificate issuance on @peculiar/x509, with the crypto provider
 * injected (STYLE: the same code runs in worker threads for fleets).
 */
import {createPrivateKey, createPublicKey, type KeyObject} from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import {Crypto} from '@peculiar/webcrypto';
import {preconditionError} from './errors.js';
import type {NameEntry} from './names.js';
import {toJsonName} from './names.js';
import {toPem} from './pem.js';
import {keyGenAlgorithm, type KeySpec, type CertProfile, signingAlgorithm} from './profiles.js';

export type {Crypto};

let shared: Crypto | undefined;

/** The crypto provider (one per thread), registered with @peculiar/x509. */
export function cryptoProvider(): Crypto {
  if (!shared) {
    shared = new Crypto();
    x509.cryptoProvider.set(shared);
  }
  return shared;
}

export interface KeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  spec: KeySpec;
}

/** Generates a key pair for a spec. */
export async function generateKeyPair(spec: KeySpec, crypto: Crypto = cryptoProvider()): Promise<KeyPair> {
  const pair = (await crypto.subtle.generateKey(keyGenAlgorithm(spec) as EcKeyGenParams, true, ['sign', 'verify'])) as CryptoKeyPair;
  return {privateKey: pair.privateKey, publicKey: pair.publicKey, spec};
}

/** PKCS#8 DER of a private key. */
export async function exportPkcs8(key: CryptoKey, crypto: Crypto = cryptoProvider()): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.exportKey('pkcs8', key));
}

/**
 * PKCS#8 PEM of a private key; encrypted (PBES2, AES-256-CBC, PBKDF2-HMAC-SHA256) when a
 * passphrase is given, which OpenSSL 3 reads with `-passin`.
 */
export function pkcs8Pem(pkcs8Der: Uint8Array, passphrase?: string): string {
  if (passphrase === undefined) return toPem(pkcs8Der, 'PRIVATE KEY');
  const key = createPrivateKey({key: Buffer.from(pkcs8Der), format: 'der', type: 'pkcs8'});
  return key.export({format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase}) as string;
}

const CURVE_BY_NODE_NAME: Record<string, 'P-256' | 'P-384' | 'P-521'> = {prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521'};

/** The KeySpec of a node KeyObject (for keys read from disk). */
export function specOfKeyObject(key: KeyObject): KeySpec {
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    const bits = d.modulusLength ?? 2048;
    return {kind: 'rsa', bits, hash: bits >= 4096 ? 'SHA-384' : 'SHA-256'};
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = CURVE_BY_NODE_NAME[d.namedCurve ?? ''];
    if (!curve) throw preconditionError('UNSUPPORTED_KEY', `EC curve ${d.namedCurve} is not supported`, ['use a P-256, P-384 or P-521 key']);
    return {kind: 'ec', curve, hash: curve === 'P-256' ? 'SHA-256' : curve === 'P-384' ? 'SHA-384' : 'SHA-512'};
  }
  if (key.asymmetricKeyType === 'ed25519') return {kind: 'ed25519', hash: 'none'};
  throw preconditionError('UNSUPPORTED_KEY', `key type ${key.asymmetricKeyType} is not supported`, ['use an RSA or EC (P-256/384/521) key']);
}

/**
 * Reads a PEM private key (encrypted or not) into a signing CryptoKey.
 * @param source the file name for messages
 * @throws MtlsKitError WRONG_PASSPHRASE / PASSPHRASE_REQUIRED / BAD_KEY (exit 4).
 */
export async function loadPrivateKey(pem: string, source: string, passphrase: string | undefined, crypto: Crypto = cryptoProvider()): Promise<{key: CryptoKey; keyObject: KeyObject; spec: KeySpec}> {
  const encrypted = pem.includes('ENCRYPTED');
  if (encrypted && passphrase === undefined) {
    throw preconditionError('PASSPHRASE_REQUIRED', `${source} is encrypted and no passphrase was given`, [
      'pass --passphrase-file FILE or set MTLS_KIT_CA_PASSPHRASE',
    ]);
  }
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(encrypted ? {key: pem, format: 'pem', passphrase: passphrase!} : {key: pem, format: 'pem'});
  } catch (error) {
    if (encrypted) {
      throw preconditionError('WRONG_PASSPHRASE', `wrong passphrase for ${source}`, ['check --passphrase-file / MTLS_KIT_CA_PASSPHRASE']);
    }
    throw preconditionError('BAD_KEY', `${source} is not a readable private key (${(error as Error).message})`, ['check that the file is a PEM private key and was not truncated']);
  }
  const spec = specOfKeyObject(keyObject);
  const der = keyObject.export({format: 'der', type: 'pkcs8'});
  const alg = spec.kind === 'ec' ? {name: 'ECDSA', namedCurve: spec.curve} : spec.kind === 'rsa' ? {name: 'RSASSA-PKCS1-v1_5', hash: spec.hash} : {name: 'Ed25519'};
  const key = await crypto.subtle.importKey('pkcs8', der, alg, false, ['sign']);
  return {key, keyObject, spec};
}

/** Whether a private key (node KeyObject) belongs to a SubjectPublicKeyInfo. */
export function keyMatchesSpki(keyObject: KeyObject, spki: Uint8Array): boolean {
  const pub = createPublicKey(keyObject).export({format: 'der', type: 'spki'});
  return Buffer.compare(pub, Buffer.from(spki)) === 0;
}

export type SanInput = {type: 'dns' | 'ip' | 'url' | 'email'; value: string};

/** Types a `--san` value: IP address, URI (has a scheme), email (has @), else DNS name. */
export function typeSan(value: string): SanInput {
  const v = value.trim();
  const m = /^(dns|ip|uri|url|email):(.*)$/i.exec(v);
  if (m) {
    const t = m[1]!.toLowerCase();
    return {type: t === 'uri' || t === 'url' ? 'url' : (t as SanInput['type']), value: m[2]!};
  }
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(v) || (v.includes(':') && /^[0-9a-f:.]+$/i.test(v))) return {type: 'ip', value: v};
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v) || /^(urn|spiffe|mailto):/i.test(v)) return {type: 'url', value: v};
  if (/^[^@\s]+@[^@\s]+$/.test(v)) return {type: 'email', value: v};
  return {type: 'dns', value: v};
}

export interface IssueParams {
  subject: NameEntry[][];
  /** The issuer's certificate; undefined for a self-signed root. */
  issuerCert?: x509.X509Certificate;
  issuerKey: CryptoKey;
  issuerSpec: KeySpec;
  publicKey: CryptoKey;
  subjectSpec: KeySpec;
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  profile: CertProfile;
  /** Overrides the profile's path length (a root with no intermediate gets 0). */
  pathLength?: number;
  sans?: SanInput[];
  /** Extra extensions (defects). */
  extraExtensions?: x509.Extension[];
  /** Replace the profile's EKU (defects: serverAuth only). */
  extKeyUsage?: string[];
}

const KU: Record<string, x509.KeyUsageFlags> = {
  digitalSignature: x509.KeyUsageFlags.digitalSignature,
  keyEncipherment: x509.KeyUsageFlags.keyEncipherment,
  keyCertSign: x509.KeyUsageFlags.keyCertSign,
  cRLSign: x509.KeyUsageFlags.cRLSign,
};

/**
 * Issues an X.509 v3 certificate from a profile: basicConstraints (critical; CA:TRUE
 * with a path length for CAs), keyUsage (critical), extendedKeyUsage, subject and
 * authority key identifiers, SANs.
 */
export async function issueCertificate(p: IssueParams, crypto: Crypto = cryptoProvider()): Promise<{der: Uint8Array; pem: string; cert: x509.X509Certificate}> {
  const usage = p.profile.keyUsage.map((k) => KU[k]!).reduce((a, b) => a | b, 0);
  const withKeyEnc = !p.profile.ca && p.subjectSpec.kind === 'rsa' ? usage | x509.KeyUsageFlags.keyEncipherment : usage;
  const exts: x509.Extension[] = [
    new x509.BasicConstraintsExtension(p.profile.ca, p.profile.ca ? (p.pathLength ?? p.profile.pathLength) : undefined, true),
    new x509.KeyUsagesExtension(withKeyEnc, true),
  ];
  const eku = p.extKeyUsage ?? p.profile.extKeyUsage;
  if (eku.length > 0) exts.push(new x509.ExtendedKeyUsageExtension(eku, false));
  exts.push(await x509.SubjectKeyIdentifierExtension.create(p.publicKey, false, crypto));
  if (p.issuerCert) {
    const ski = p.issuerCert.getExtension(x509.SubjectKeyIdentifierExtension);
    exts.push(ski ? new x509.AuthorityKeyIdentifierExtension(ski.keyId, false) : await x509.AuthorityKeyIdentifierExtension.create(p.issuerCert.publicKey, false, crypto));
  } else {
    exts.push(await x509.AuthorityKeyIdentifierExtension.create(p.publicKey, false, crypto));
  }
  if (p.sans && p.sans.length > 0) exts.push(new x509.SubjectAlternativeNameExtension(p.sans, false));
  if (p.extraExtensions) exts.push(...p.extraExtensions);
  const subject = new x509.Name(toJsonName(p.subject));
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: p.serialHex,
      subject,
      issuer: p.issuerCert ? p.issuerCert.subjectName : subject,
      notBefore: p.notBefore,
      notAfter: p.notAfter,
      publicKey: p.publicKey,
      signingKey: p.issuerKey,
      signingAlgorithm: signingAlgorithm(p.issuerSpec),
      extensions: exts,
    },
    crypto,
  );
  const der = new Uint8Array(cert.rawData);
  return {der, pem: toPem(der, 'CERTIFICATE'), cert};
}

/** Reads a certificate DER into @peculiar/x509 (for use as an issuer). */
export function x509FromDer(der: Uint8Array): x509.X509Certificate {
  return new x509.X509Certificate(Uint8Array.from(der));
}

/** Adds days to a date (UTC), dropping milliseconds (certificates have second precision). */
export function addDays(d: Date, days: number): Date {
  const t = new Date(d.getTime() + days * 86_400_000);
  t.setUTCMilliseconds(0);
  return t;
}

/** A date with milliseconds dropped. */
export function wholeSeconds(d: Date): Date {
  const t = new Date(d.getTime());
  t.setUTCMilliseconds(0);
  return t;
}
