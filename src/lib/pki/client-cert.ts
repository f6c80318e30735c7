/**
 * Issuing client certificates: the "Generate Certificate" step (seed: private-key.pem
 * and certificate.crt), for one certificate or a whole fleet.
 */
import type {KeyObject} from 'node:crypto';
import type {ParsedCertificate} from '../x509/cert.js';
import {formatSlashForm} from '../x509/dn.js';
import type {IndexEntry} from '../x509/index-db.js';
import {addDays, exportPkcs8, generateKeyPair, issueCertificate, pkcs8Pem, type SanInput} from '../x509/issue.js';
import type {NameEntry} from '../x509/names.js';
import {toPem} from '../x509/pem.js';
import {type CertProfile, type KeySpec, PROFILES} from '../x509/profiles.js';

export interface ClientIssuer {
  cert: ParsedCertificate;
  key: KeyObject;
  spec: KeySpec;
  /** CA certificates a client should send after its leaf (intermediates, not the root). */
  chain: ParsedCertificate[];
}

export interface IssueClientParams {
  issuer: ClientIssuer;
  keySpec: KeySpec;
  subject: NameEntry[][];
  sans: SanInput[];
  days: number;
  now: Date;
  serialHex: string;
  /** Relative path recorded in the index's file column. */
  indexFile?: string;
  /** Overrides for deliberately bad certificates (defects). */
  notBefore?: Date;
  notAfter?: Date;
  profile?: CertProfile;
  extKeyUsage?: string[];
}

export interface IssuedClient {
  certPem: string;
  certDer: Uint8Array;
  /** Unencrypted PKCS#8 DER (for PKCS#12); written only as private-key.pem 0600. */
  keyPkcs8Der: Uint8Array;
  keyPem: string;
  /** Leaf then intermediates. */
  chainPem: string;
  parsed: ParsedCertificate;
  index: IndexEntry;
}

/**
 * Issues one client certificate: a fresh key of `keySpec`, keyUsage digitalSignature
 * (+ keyEncipherment for RSA), extendedKeyUsage clientAuth only, key identifiers, SANs.
 * Validity starts one minute before `now` (clock skew) and lasts `days`.
 */
export function issueClientCert(p: IssueClientParams): IssuedClient {
  const keys = generateKeyPair(p.keySpec);
  const issued = issueCertificate({
    subject: p.subject,
    issuerCert: p.issuer.cert,
    issuerKey: p.issuer.key,
    issuerSpec: p.issuer.spec,
    publicKey: keys.publicKey,
    subjectSpec: p.keySpec,
    serialHex: p.serialHex,
    notBefore: p.notBefore ?? addDays(p.now, -1 / 1440),
    notAfter: p.notAfter ?? addDays(p.now, p.days),
    profile: p.profile ?? PROFILES.client,
    sans: p.sans,
    ...(p.extKeyUsage ? {extKeyUsage: p.extKeyUsage} : {}),
  });
  const keyPkcs8Der = exportPkcs8(keys.privateKey);
  const parsed = issued.parsed;
  return {
    certPem: issued.pem,
    certDer: issued.der,
    keyPkcs8Der,
    keyPem: pkcs8Pem(keys.privateKey),
    chainPem: issued.pem + p.issuer.chain.map((c) => toPem(c.der, 'CERTIFICATE')).join(''),
    parsed,
    index: {status: 'V', notAfter: parsed.notAfter, serial: parsed.serialHex, file: p.indexFile ?? 'unknown', subject: formatSlashForm(parsed.subject)},
  };
}
