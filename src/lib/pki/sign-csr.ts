/**
 * Signing a certificate for a key mtls-kit does not hold: a CSR (`sign`) or an existing
 * certificate being renewed (`renew`). Always the client profile (profiles.ts): keyUsage
 * digitalSignature (+ keyEncipherment for RSA), extendedKeyUsage clientAuth only,
 * basicConstraints CA:FALSE, key identifiers, and the SANs.
 *
 * What a CSR asks for beyond that is never copied. The policy (README "sign"):
 * - basicConstraints CA:TRUE is refused (exit 4): a request for a CA is almost always the
 *   wrong file, and signing it as a client silently would hide that. `--strip-ca` signs
 *   it as a client anyway and reports the strip.
 * - every other requested extension is stripped and reported: extendedKeyUsage other
 *   than clientAuth (serverAuth, anyExtendedKeyUsage, ...), keyUsage bits beyond the
 *   profile's, SAN entries of types ALB and mtls-kit do not type (otherName, dirName),
 *   and any other extension (by name or OID). A requested subjectKeyIdentifier,
 *   basicConstraints CA:FALSE, clientAuth and the profile's own key usages are what the
 *   certificate gets anyway and are not reported.
 * - the key must be one ALB accepts (aws-reference 4.1): RSA 2048-8192 or ECDSA
 *   P-256/P-384/P-521; anything else is refused (exit 4).
 */
import {createPublicKey} from 'node:crypto';
import {preconditionError} from '../errors.js';
import {type GeneralName, type ParsedCertificate, type PublicKeyInfo, OID} from '../x509/cert.js';
import type {ParsedCsr} from '../x509/csr.js';
import {children, content, decodeOid, parseOne, TAG} from '../x509/der.js';
import {formatSlashForm} from '../x509/dn.js';
import type {IndexEntry} from '../x509/index-db.js';
import {addDays, encodeName, issueCertificate, type SanInput} from '../x509/issue.js';
import {sansFromRequest, subjectFromRequest} from '../x509/name-rules.js';
import type {NameEntry} from '../x509/names.js';
import {toPem} from '../x509/pem.js';
import {type KeySpec, OID_EKU_CLIENT_AUTH, PROFILES} from '../x509/profiles.js';
import type {ClientIssuer} from './client-cert.js';

/** What was in the request and is not in the certificate. */
export interface StrippedItem {
  /** Extension name (subjectAltName, extendedKeyUsage, ...) or OID. */
  extension: string;
  /** What was dropped, e.g. "serverAuth" or "otherName". */
  value: string;
}

export interface CsrOverrides {
  /** Replace the requested subject. */
  subject?: NameEntry[][];
  /** Replace the requested SANs. */
  sans?: SanInput[];
}

export interface ClientRequestPlan {
  subjectDer: Uint8Array;
  sans: SanInput[];
  spki: Uint8Array;
  keySpec: KeySpec;
  stripped: StrippedItem[];
}

const EXT_NAMES: Record<string, string> = {
  [OID.basicConstraints]: 'basicConstraints',
  [OID.keyUsage]: 'keyUsage',
  [OID.extKeyUsage]: 'extendedKeyUsage',
  [OID.subjectAltName]: 'subjectAltName',
  [OID.subjectKeyId]: 'subjectKeyIdentifier',
  [OID.authorityKeyId]: 'authorityKeyIdentifier',
  [OID.crlDistributionPoints]: 'crlDistributionPoints',
  [OID.certificatePolicies]: 'certificatePolicies',
  [OID.nameConstraints]: 'nameConstraints',
  [OID.authorityInfoAccess]: 'authorityInfoAccess',
  '1.3.6.1.5.5.7.1.24': 'tlsFeature',
};
const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};
const KU_NAMES = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];
const CURVE_SPECS: Record<string, KeySpec> = {
  prime256v1: {kind: 'ec', curve: 'P-256', hash: 'SHA-256'},
  secp384r1: {kind: 'ec', curve: 'P-384', hash: 'SHA-384'},
  secp521r1: {kind: 'ec', curve: 'P-521', hash: 'SHA-512'},
};

/**
 * The KeySpec of a requested key, if ALB accepts it (aws-reference 4.1).
 * @throws MtlsKitError CSR_KEY_UNSUPPORTED (exit 4).
 */
export function clientKeySpec(k: PublicKeyInfo, source: string): KeySpec {
  if (k.kind === 'rsa' && k.bits >= 2048 && k.bits <= 8192) return {kind: 'rsa', bits: k.bits, hash: k.bits >= 4096 ? 'SHA-384' : 'SHA-256'};
  const ec = k.kind === 'ec' ? CURVE_SPECS[k.curve ?? ''] : undefined;
  if (ec) return ec;
  const what = k.kind === 'rsa' ? `RSA-${k.bits}` : k.kind === 'ec' ? `EC ${k.curve}` : k.kind;
  throw preconditionError(
    'CSR_KEY_UNSUPPORTED',
    `${source}: the requested key is ${what}; ALB accepts RSA 2048-8192 bits or ECDSA P-256, P-384 and P-521 only`,
    ['make the request with a supported key, e.g. openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 ...'],
  );
}

function toSanInput(g: GeneralName): SanInput | undefined {
  switch (g.type) {
    case 'dns':
    case 'ip':
    case 'email':
      return {type: g.type, value: g.value};
    case 'uri':
      return {type: 'url', value: g.value};
    default:
      return undefined;
  }
}

/**
 * Applies the client profile to a request (see the policy at the top of this file).
 * @throws MtlsKitError CSR_REQUESTS_CA (unless stripCa), CSR_KEY_UNSUPPORTED, CSR_EMPTY_SUBJECT, CSR_BAD_FIELD (exit 4).
 */
export function planClientRequest(csr: ParsedCsr, source: string, overrides: CsrOverrides = {}, stripCa = false): ClientRequestPlan {
  const keySpec = clientKeySpec(csr.publicKey, source);
  const stripped: StrippedItem[] = [];
  let sans: SanInput[] = [];
  for (const ext of csr.requestedExtensions) {
    const name = EXT_NAMES[ext.oid] ?? ext.oid;
    const t = parseOne(ext.value);
    switch (ext.oid) {
      case OID.basicConstraints: {
        const ca = children(t).some((c) => c.tag === TAG.BOOLEAN && content(c)[0] !== 0);
        if (ca && !stripCa) {
          throw preconditionError('CSR_REQUESTS_CA', `${source} asks for a CA certificate (basicConstraints CA:TRUE); sign issues client certificates only`, [
            'make the request without CA:TRUE, or re-run with --strip-ca to sign it as a client certificate (CA:FALSE)',
          ]);
        }
        if (ca) stripped.push({extension: name, value: 'CA:TRUE'});
        break;
      }
      case OID.extKeyUsage:
        for (const c of children(t)) {
          const oid = decodeOid(c);
          if (oid !== OID_EKU_CLIENT_AUTH) stripped.push({extension: name, value: EKU_NAMES[oid] ?? oid});
        }
        break;
      case OID.keyUsage: {
        const bytes = content(t).subarray(1);
        const allowed = new Set<string>([...PROFILES.client.keyUsage, ...(keySpec.kind === 'rsa' ? ['keyEncipherment'] : [])]);
        KU_NAMES.forEach((ku, bit) => {
          const byte = bytes[bit >> 3];
          if (byte !== undefined && byte & (0x80 >> (bit & 7)) && !allowed.has(ku)) stripped.push({extension: name, value: ku});
        });
        break;
      }
      case OID.subjectAltName: {
        // Checked with gen-client's --san rules (name-rules.ts); refused, not copied, when bad.
        const r = sansFromRequest(t, source);
        sans = r.sans;
        for (const o of r.other) stripped.push({extension: name, value: o});
        break;
      }
      case OID.subjectKeyId:
        break;
      default:
        stripped.push({extension: name, value: ext.critical ? 'critical' : 'present'});
    }
  }
  if (overrides.sans) sans = overrides.sans;
  // The requested subject is decoded, checked with gen-client's rules and re-encoded in
  // DER as mtls-kit writes names; it is never copied byte for byte.
  const subjectDer = encodeName(overrides.subject ?? subjectFromRequest(csr.subject, source));
  // An empty Name with no SANs identifies nothing (RFC 5280 4.1.2.6).
  if (subjectDer.length <= 2 && sans.length === 0) {
    throw preconditionError('CSR_EMPTY_SUBJECT', `${source} has an empty subject and no subject alternative names`, [
      'give --cn NAME (or --subject) to name the certificate',
    ]);
  }
  return {subjectDer, sans, spki: csr.publicKey.spki, keySpec, stripped};
}

export interface SignForKeyParams {
  issuer: ClientIssuer;
  subjectDer: Uint8Array;
  sans: SanInput[];
  spki: Uint8Array;
  keySpec: KeySpec;
  serialHex: string;
  days: number;
  now: Date;
  indexFile?: string;
}

export interface SignedForKey {
  certPem: string;
  certDer: Uint8Array;
  /** Leaf then intermediates. */
  chainPem: string;
  parsed: ParsedCertificate;
  index: IndexEntry;
}

/**
 * Issues a client certificate for a public key given as SubjectPublicKeyInfo DER.
 * Validity starts one minute before `now` (clock skew) and lasts `days`, as gen-client.
 */
export function signClientForKey(p: SignForKeyParams): SignedForKey {
  const issued = issueCertificate({
    subject: [],
    subjectDer: p.subjectDer,
    issuerCert: p.issuer.cert,
    issuerKey: p.issuer.key,
    issuerSpec: p.issuer.spec,
    publicKey: createPublicKey({key: Buffer.from(p.spki), format: 'der', type: 'spki'}),
    subjectSpec: p.keySpec,
    serialHex: p.serialHex,
    notBefore: addDays(p.now, -1 / 1440),
    notAfter: addDays(p.now, p.days),
    profile: PROFILES.client,
    sans: p.sans,
  });
  return {
    certPem: issued.pem,
    certDer: issued.der,
    chainPem: issued.pem + p.issuer.chain.map((c) => toPem(c.der, 'CERTIFICATE')).join(''),
    parsed: issued.parsed,
    index: {
      status: 'V',
      notAfter: issued.parsed.notAfter,
      serial: issued.parsed.serialHex,
      file: p.indexFile ?? 'unknown',
      subject: formatSlashForm(issued.parsed.subject),
    },
  };
}

/** The SANs of an issued certificate, as inputs for reissuing it (renew). */
export function sansOfCertificate(c: ParsedCertificate): SanInput[] {
  return c.subjectAltNames.map(toSanInput).filter((s): s is SanInput => s !== undefined);
}
