/**
 * Creating a test CA: a root, and optionally an intermediate signed by it.
 */
import type {ParsedCertificate} from '../x509/cert.js';
import {formatSlashForm} from '../x509/dn.js';
import type {IndexEntry} from '../x509/index-db.js';
import {addDays, generateKeyPair, issueCertificate, pkcs8Pem} from '../x509/issue.js';
import type {NameEntry} from '../x509/names.js';
import {KEY_TYPES, type KeyType, PROFILES, withOcspUrl} from '../x509/profiles.js';
import {newSerialHex} from '../x509/serial.js';

export interface CreateCaParams {
  keyType: KeyType;
  rootSubject: NameEntry[][];
  intermediateSubject?: NameEntry[][];
  rootDays?: number;
  intermediateDays?: number;
  passphrase?: string;
  now: Date;
  /** OCSP responder URL for the intermediate's authorityInfoAccess (gen-ca --ocsp-url; the root needs none, aws-reference 11.4). */
  ocspUrl?: string;
}

export interface CaTierMaterial {
  certPem: string;
  cert: ParsedCertificate;
  keyPem: string;
}

export interface CreateCaResult {
  root: CaTierMaterial;
  intermediate?: CaTierMaterial;
  /** The ALB bundle: PEM blocks only, no blank lines, no comments (aws-reference 4.2). */
  bundlePem: string;
  /** Index entry for the intermediate in the root's index. */
  rootIndex: IndexEntry[];
}

/**
 * Creates a root CA (pathLen 1 when an intermediate follows, else 0) and optionally an
 * intermediate (pathLen 0). Validity starts one minute before `now` to absorb clock skew.
 */
export function createCa(p: CreateCaParams): CreateCaResult {
  const spec = KEY_TYPES[p.keyType];
  const notBefore = addDays(p.now, -1 / 1440);
  const rootKeys = generateKeyPair(spec);
  const root = issueCertificate({
    subject: p.rootSubject,
    issuerKey: rootKeys.privateKey,
    issuerSpec: spec,
    publicKey: rootKeys.publicKey,
    subjectSpec: spec,
    serialHex: newSerialHex(),
    notBefore,
    notAfter: addDays(p.now, p.rootDays ?? PROFILES.root.days),
    profile: PROFILES.root,
    pathLength: p.intermediateSubject ? 1 : 0,
  });
  const rootMaterial: CaTierMaterial = {certPem: root.pem, cert: root.parsed, keyPem: pkcs8Pem(rootKeys.privateKey, p.passphrase)};
  if (!p.intermediateSubject) return {root: rootMaterial, bundlePem: root.pem, rootIndex: []};

  const intKeys = generateKeyPair(spec);
  const intDays = Math.min(p.intermediateDays ?? PROFILES.intermediate.days, p.rootDays ?? PROFILES.root.days);
  const inter = issueCertificate({
    subject: p.intermediateSubject,
    issuerCert: root.parsed,
    issuerKey: rootKeys.privateKey,
    issuerSpec: spec,
    publicKey: intKeys.publicKey,
    subjectSpec: spec,
    serialHex: newSerialHex(),
    notBefore,
    notAfter: addDays(p.now, intDays),
    profile: withOcspUrl(PROFILES.intermediate, p.ocspUrl),
  });
  const interCert = inter.parsed;
  return {
    root: rootMaterial,
    intermediate: {certPem: inter.pem, cert: interCert, keyPem: pkcs8Pem(intKeys.privateKey, p.passphrase)},
    bundlePem: root.pem + inter.pem,
    rootIndex: [
      {status: 'V', notAfter: interCert.notAfter, serial: interCert.serialHex, file: 'intermediate/ca.crt', subject: formatSlashForm(interCert.subject)},
    ],
  };
}

/**
 * Which CA of a CA directory a command used, in every --json result (docs/json.md): the
 * tier and its subject (RFC 2253). `issuer` in JSON always means a certificate's issuer DN.
 */
export interface CaRef {
  tier: 'root' | 'intermediate';
  subject: string;
}
