/**
 * Deliberately bad client certificates (`gen-client --defect <kind>`), one per ALB
 * failure code that a certificate can produce (aws-reference 5), so a team can prove its
 * listener rejects them. Each kind carries the `Failed:<code>` that ALB should log and
 * that `mtls-kit verify` reports for it.
 */
import {parseCertificate} from '../x509/cert.js';
import {type ClientIssuer, type IssuedClient, issueClientCert} from '../pki/client-cert.js';
import {formatSlashForm} from '../x509/dn.js';
import type {IndexEntry} from '../x509/index-db.js';
import {addDays, exportPkcs8, generateKeyPair, issueCertificate, pkcs8Pem, type SanInput} from '../x509/issue.js';
import type {NameEntry} from '../x509/names.js';
import {DEFECT_KEY_TYPES, KEY_TYPES, type KeySpec, OID_EKU_SERVER_AUTH, PROFILES} from '../x509/profiles.js';
import {toPem} from '../x509/pem.js';
import {newSerialHex} from '../x509/serial.js';
import type {AlbFailureCode} from './verify.js';

/** Sub-CAs below the issuing CA for `too-deep`: leaf + 5 = 6 presented certificates (> 4), and 5 intermediates also exceed `openssl verify -verify_depth 4`. */
const TOO_DEEP_SUB_CAS = 5;

export const DEFECT_KINDS = ['expired', 'not-yet-valid', 'untrusted', 'revoked', 'wrong-purpose', 'too-deep', 'unsupported-key', 'v1'] as const;
export type DefectKind = (typeof DEFECT_KINDS)[number];

/** What ALB logs for each defect (aws-reference 5) and why. */
export const DEFECTS: Record<DefectKind, {code: AlbFailureCode; why: string}> = {
  expired: {code: 'ClientCertExpired', why: 'notAfter is in the past (unless the listener sets IgnoreClientCertificateExpiry)'},
  'not-yet-valid': {code: 'ClientCertNotYetValid', why: 'notBefore is in the future'},
  untrusted: {code: 'ClientCertUntrusted', why: 'signed by a throwaway CA that is not in the trust store'},
  revoked: {code: 'ClientCertCrlHit', why: 'its serial is on the CRL of the issuing CA'},
  'wrong-purpose': {code: 'ClientCertPurposeInvalid', why: 'extendedKeyUsage is serverAuth only, no clientAuth'},
  'too-deep': {
    code: 'ClientCertMaxChainDepthExceeded',
    why: `the client presents ${TOO_DEEP_SUB_CAS + 1} certificates (5 sub-CAs below the issuing CA); ALB allows a chain depth of 4`,
  },
  'unsupported-key': {code: 'ClientCertTypeUnsupported', why: 'the key type is not one ALB accepts (RSA 2048-8192, ECDSA P-256/P-384/P-521)'},
  v1: {code: 'ClientCertTypeUnsupported', why: 'an X.509 v1 certificate; ALB accepts only v3'},
};

export interface BuildDefectParams {
  kind: DefectKind;
  issuer: ClientIssuer;
  subject: NameEntry[][];
  sans?: SanInput[];
  /** Key type for the leaf (unsupported-key uses `unsupportedKey` instead). */
  keySpec: KeySpec;
  /** For unsupported-key: `rsa-1024` (default) or `ed25519`. */
  unsupportedKey?: keyof typeof DEFECT_KEY_TYPES;
  days: number;
  now: Date;
  serialHex?: string;
  /** Path recorded in the index's file column. */
  indexFile?: string;
}

export interface DefectMaterial {
  kind: DefectKind;
  /** The status ALB should log. */
  expected: `Failed:${AlbFailureCode}`;
  code: AlbFailureCode;
  why: string;
  /** The leaf, its key, and chainPem = what the client presents (leaf, then intermediates). */
  issued: IssuedClient;
  /** DERs presented after the leaf (too-deep: the sub-CAs nearest first, then the issuing intermediate). */
  presentedIntermediates: Uint8Array[];
  /** The throwaway CA of `untrusted` (in no trust store). */
  throwawayCaPem?: string;
  /** Lines for the issuing CA's index: the leaf, or too-deep's first sub-CA; none for untrusted. */
  indexEntries: IndexEntry[];
  /** The leaf must be revoked in the index and a CRL written (revoked). */
  revoke: boolean;
}

const indexEntryOf = (der: Uint8Array, file: string): IndexEntry => {
  const c = parseCertificate(der);
  return {status: 'V', notAfter: c.notAfter, serial: c.serialHex, file, subject: formatSlashForm(c.subject)};
};

/**
 * Builds one deliberately bad client certificate. Pure apart from key generation; the
 * caller writes `issued` like any client certificate, appends `indexEntries` to the
 * index and, for `revoked`, revokes the leaf and writes the CRL.
 * @returns the material and the `Failed:<code>` ALB should log for it.
 */
export function buildDefect(p: BuildDefectParams): DefectMaterial {
  const def = DEFECTS[p.kind];
  const serialHex = p.serialHex ?? newSerialHex();
  const base = {
    issuer: p.issuer,
    keySpec: p.keySpec,
    subject: p.subject,
    sans: p.sans ?? [],
    days: p.days,
    now: p.now,
    serialHex,
    ...(p.indexFile ? {indexFile: p.indexFile} : {}),
  };
  const out = (issued: IssuedClient, extra: Partial<DefectMaterial> = {}): DefectMaterial => ({
    kind: p.kind,
    expected: `Failed:${def.code}`,
    code: def.code,
    why: def.why,
    issued,
    presentedIntermediates: p.issuer.chain.map((c) => c.der),
    indexEntries: [issued.index],
    revoke: false,
    ...extra,
  });
  const notBefore = addDays(p.now, -1 / 1440);
  switch (p.kind) {
    case 'expired': {
      // Valid for `days`, ended a day ago.
      const notAfter = addDays(p.now, -1);
      return out(issueClientCert({...base, notBefore: addDays(notAfter, -Math.max(1, p.days)), notAfter}));
    }
    case 'not-yet-valid': {
      const start = addDays(p.now, 30);
      return out(issueClientCert({...base, notBefore: start, notAfter: addDays(start, Math.max(1, p.days))}));
    }
    case 'revoked':
      return out(issueClientCert(base), {revoke: true});
    case 'wrong-purpose':
      return out(issueClientCert({...base, extKeyUsage: [OID_EKU_SERVER_AUTH]}));
    case 'unsupported-key':
      return out(issueClientCert({...base, keySpec: DEFECT_KEY_TYPES[p.unsupportedKey ?? 'rsa-1024']}));
    case 'v1': {
      // X.509 v1: no version field, no extensions (RFC 5280 4.1.2.1).
      const keys = generateKeyPair(p.keySpec);
      const c = issueCertificate({
        subject: p.subject,
        issuerCert: p.issuer.cert,
        issuerKey: p.issuer.key,
        issuerSpec: p.issuer.spec,
        publicKey: keys.publicKey,
        subjectSpec: p.keySpec,
        serialHex,
        notBefore,
        notAfter: addDays(p.now, p.days),
        profile: PROFILES.client,
        version: 1,
      });
      const index = indexEntryOf(c.der, p.indexFile ?? 'unknown');
      return out({
        certPem: c.pem,
        certDer: c.der,
        keyPkcs8Der: exportPkcs8(keys.privateKey),
        keyPem: pkcs8Pem(keys.privateKey),
        chainPem: c.pem + p.issuer.chain.map((x) => toPem(x.der, 'CERTIFICATE')).join(''),
        parsed: c.parsed,
        index,
      });
    }
    case 'untrusted': {
      // A throwaway root with its own name: the issuer is simply not in the trust store.
      const spec = KEY_TYPES['ec-p256'];
      const caKeys = generateKeyPair(spec);
      const ca = issueCertificate({
        subject: [[{type: '2.5.4.3', value: 'mtls-kit throwaway CA (in no trust store)'}]],
        issuerKey: caKeys.privateKey,
        issuerSpec: spec,
        publicKey: caKeys.publicKey,
        subjectSpec: spec,
        serialHex: newSerialHex(),
        notBefore,
        notAfter: addDays(p.now, Math.max(1, p.days) + 1),
        profile: PROFILES.root,
        pathLength: 0,
      });
      const throwaway: ClientIssuer = {cert: ca.parsed, key: caKeys.privateKey, spec, chain: []};
      const issued = issueClientCert({...base, issuer: throwaway});
      return out(issued, {throwawayCaPem: ca.pem, indexEntries: [], presentedIntermediates: []});
    }
    case 'too-deep': {
      // issuing CA → sub-CA 1 → ... → sub-CA 5 → leaf; the client presents all of them.
      const {pathLength: _unlimited, ...subCaProfile} = PROFILES.intermediate;
      const cn = p.subject.flat().find((a) => a.type === '2.5.4.3')?.value ?? 'client';
      let parent: ClientIssuer = p.issuer;
      const subs: Array<{der: Uint8Array; pem: string}> = [];
      for (let i = 1; i <= TOO_DEEP_SUB_CAS; i++) {
        const spec = KEY_TYPES['ec-p256'];
        const k = generateKeyPair(spec);
        const sub = issueCertificate({
          subject: [[{type: '2.5.4.3', value: `${cn} sub-CA ${i}`}]],
          issuerCert: parent.cert,
          issuerKey: parent.key,
          issuerSpec: parent.spec,
          publicKey: k.publicKey,
          subjectSpec: spec,
          serialHex: newSerialHex(),
          notBefore,
          notAfter: addDays(p.now, Math.max(1, p.days)),
          profile: subCaProfile,
        });
        subs.push(sub);
        parent = {cert: sub.parsed, key: k.privateKey, spec, chain: [sub.parsed, ...parent.chain]};
      }
      const issued = issueClientCert({...base, issuer: parent});
      const presented = [...subs].reverse().map((s) => s.der);
      return out(issued, {
        presentedIntermediates: [...presented, ...p.issuer.chain.map((c) => c.der)],
        indexEntries: [indexEntryOf(subs[0]!.der, 'unknown')],
      });
    }
  }
}
