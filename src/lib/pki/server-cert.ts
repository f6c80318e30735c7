/**
 * The TLS server certificate `mtls-kit serve` uses when none is given: issued in memory
 * by the CA for the names the listener answers on, never written to disk.
 */
import type {KeyObject} from 'node:crypto';
import type {ParsedCertificate} from '../x509/cert.js';
import {addDays, generateKeyPair, issueCertificate, pkcs8Pem, type SanInput, typeSan} from '../x509/issue.js';
import {KEY_TYPES, SERVER_PROFILE, type KeySpec} from '../x509/profiles.js';
import {newSerialHex} from '../x509/serial.js';

export interface IssueServerCertParams {
  /** The issuing CA certificate. */
  issuer: ParsedCertificate;
  issuerKey: KeyObject;
  issuerSpec: KeySpec;
  /** DNS names and IP addresses (`localhost`, `127.0.0.1`, ...); the first is the CN. */
  hosts: string[];
  now: Date;
}

export interface IssueServerCertResult {
  certPem: string;
  /** Unencrypted PKCS#8 PEM; keep it in memory. */
  keyPem: string;
}

/**
 * Issues a server certificate (SERVER_PROFILE: serverAuth, 30 days, P-256 key) with the
 * hosts as subjectAltNames (RFC 6125: clients match SANs, not the CN). Validity starts a
 * minute before `now` to absorb clock skew. Synchronous.
 */
export function issueServerCertificate(p: IssueServerCertParams): IssueServerCertResult {
  const spec = KEY_TYPES['ec-p256'];
  const keys = generateKeyPair(spec);
  const sans: SanInput[] = [...new Set(p.hosts)].map((h) => typeSan(h, '--host'));
  const cert = issueCertificate({
    subject: [[{type: '2.5.4.3', value: p.hosts[0] ?? 'localhost'}]],
    issuerCert: p.issuer,
    issuerKey: p.issuerKey,
    issuerSpec: p.issuerSpec,
    publicKey: keys.publicKey,
    subjectSpec: spec,
    serialHex: newSerialHex(),
    notBefore: addDays(p.now, -1 / 1440),
    notAfter: addDays(p.now, SERVER_PROFILE.days),
    profile: SERVER_PROFILE,
    sans,
  });
  return {certPem: cert.pem, keyPem: pkcs8Pem(keys.privateKey)};
}
