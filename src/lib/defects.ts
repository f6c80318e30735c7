/**
 * Deliberately bad client certificates (`gen-client --defect <kind>`), one per ALB
 * failure code that a certificate can produce (facts doc 5), so a team can prove its
 * listener rejects them. Each kind carries the `Failed:<code>` that ALB should log and
 * that `mtls-kit verify` reports for it.
 */
import {generateKeyPairSync, type KeyObject, sign} from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import {parseCertificate, type ParsedCertificate} from './cert.js';
import {signatureAlgorithmForKey} from './crl.js';
import {encodeTime, TAG, tlv} from './der.js';
import {addDays, cryptoProvider, type Crypto, exportPkcs8, generateKeyPair, issueCertificate, type KeyPair, type SanInput, x509FromDer} from './issue.js';
import {type NameEntry, toJsonName} from './names.js';
import {toPem} from './pem.js';
import {DEFECT_KEY_TYPES, KEY_TYPES, type KeySpec, OID_EKU_SERVER_AUTH, PROFILES} from './profiles.js';
import {newSerialHex, serialToIntegerContent} from './serial.js';
import type {AlbFailureCode} from './verify.js';

/** Sub-CAs below the issuing CA for `too-deep`: leaf + 5 = 6 presented certificates (> 4), and 5 intermediates also exceed `openssl verify -verify_depth 4`. */
const TOO_DEEP_SUB_CAS = 5;

export const DEFECT_KINDS = ['expired', 'not-yet-valid', 'untrusted', 'revoked', 'wrong-purpose', 'too-deep', 'unsupported-key', 'v1'] as const;
export type DefectKind = (typeof DEFECT_KINDS)[number];

/** What ALB logs for each defect (facts doc 5) and why. */
export const DEFECTS: Record<DefectKind, {code: AlbFailureCode; why: string}> = {
  expired: {code: 'ClientCertExpired', why: 'notAfter is in the past (unless the listener sets IgnoreClientCertificateExpiry)'},
  'not-yet-valid': {code: 'ClientCertNotYetValid', why: 'notBefore is in the future'},
  untrusted: {code: 'ClientCertUntrusted', why: 'signed by a throwaway CA that is not in the trust store'},
  revoked: {code: 'ClientCertCrlHit', why: 'its serial is on the CRL of the issuing CA'},
  'wrong-purpose': {code: 'ClientCertPurposeInvalid', why: 'extendedKeyUsage is serverAuth only, no clientAuth'},
  'too-deep': {code: 'ClientCertMaxChainDepthExceeded', why: `the client presents ${TOO_DEEP_SUB_CAS + 1} certificates (5 sub-CAs below the issuing CA); ALB allows a chain depth of 4`},
  'unsupported-key': {code: 'ClientCertTypeUnsupported', why: 'the key type is not one ALB accepts (RSA 2048-8192, ECDSA P-256/P-384/P-521; facts doc 4.1)'},
  v1: {code: 'ClientCertTypeUnsupported', why: 'an X.509 v1 certificate; ALB accepts only v3 (facts doc 1.1, 4.1)'},
};

/** The CA that issues the defect certificates. */
export interface DefectIssuer {
  cert: ParsedCertificate;
  key: CryptoKey;
  keyObject: KeyObject;
  spec: KeySpec;
}

export interface BuildDefectParams {
  kind: DefectKind;
  issuer: DefectIssuer;
  subject: NameEntry[][];
  sans?: SanInput[];
  /** Key type for the leaf (ignored by unsupported-key, which uses `unsupportedKey`). */
  keySpec: KeySpec;
  /** For unsupported-key: `rsa-1024` (default) or `ed25519`. */
  unsupportedKey?: keyof typeof DEFECT_KEY_TYPES;
  days: number;
  now: Date;
  crypto?: Crypto;
}

export interface DefectMaterial {
  kind: DefectKind;
  /** The status ALB should log. */
  expected: `Failed:${AlbFailureCode}`;
  code: AlbFailureCode;
  why: string;
  leaf: {der: Uint8Array; pem: string; cert: ParsedCertificate};
  /** PKCS#8 DER of the leaf's private key. */
  keyPkcs8: Uint8Array;
  /** What the client presents after the leaf (too-deep: the sub-CAs, nearest first). */
  presentedIntermediates: Array<{der: Uint8Array; pem: string}>;
  /** The throwaway CA of `untrusted` (not in any trust store). */
  throwawayCa?: {der: Uint8Array; pem: string};
  /** Certificates issued by the issuing CA itself, for its index (the leaf, or too-deep's first sub-CA; none for untrusted). */
  issuedByIssuer: ParsedCertificate[];
  /** The leaf must be revoked in the index and a CRL written (revoked). */
  revoke: boolean;
}

async function issueLeaf(p: BuildDefectParams, o: {issuerCert: x509.X509Certificate | undefined; issuerKey: CryptoKey; issuerSpec: KeySpec; keys: KeyPair; notBefore: Date; notAfter: Date; extKeyUsage?: string[]}): Promise<{der: Uint8Array; pem: string}> {
  const crypto = p.crypto ?? cryptoProvider();
  return issueCertificate(
    {
      subject: p.subject,
      ...(o.issuerCert ? {issuerCert: o.issuerCert} : {}),
      issuerKey: o.issuerKey,
      issuerSpec: o.issuerSpec,
      publicKey: o.keys.publicKey,
      subjectSpec: o.keys.spec,
      serialHex: newSerialHex(),
      notBefore: o.notBefore,
      notAfter: o.notAfter,
      profile: PROFILES.client,
      ...(p.sans ? {sans: p.sans} : {}),
      ...(o.extKeyUsage ? {extKeyUsage: o.extKeyUsage} : {}),
    },
    crypto,
  );
}

/**
 * An X.509 v1 certificate (no version field, no extensions; RFC 5280 4.1), hand-built
 * because @peculiar/x509 always writes v3. The key is EC P-256.
 */
function buildV1(p: BuildDefectParams, notBefore: Date, notAfter: Date): {der: Uint8Array; keyPkcs8: Uint8Array} {
  const {publicKey, privateKey} = generateKeyPairSync('ec', {namedCurve: 'prime256v1'});
  const spki = publicKey.export({type: 'spki', format: 'der'});
  const alg = signatureAlgorithmForKey(p.issuer.keyObject);
  const subject = new Uint8Array(new x509.Name(toJsonName(p.subject)).toArrayBuffer());
  const serial = tlv(TAG.INTEGER, serialToIntegerContent(newSerialHex()));
  const tbs = tlv(TAG.SEQUENCE, serial, alg.algId, p.issuer.cert.subject, tlv(TAG.SEQUENCE, encodeTime(notBefore), encodeTime(notAfter)), subject, spki);
  const signature = sign(alg.hash, tbs, p.issuer.keyObject);
  const der = tlv(TAG.SEQUENCE, tbs, alg.algId, tlv(TAG.BIT_STRING, Uint8Array.of(0), signature));
  return {der, keyPkcs8: new Uint8Array(privateKey.export({type: 'pkcs8', format: 'der'}))};
}

/**
 * Builds the material for one defect kind. Pure apart from key generation; the caller
 * writes files, records `issuedByIssuer` in the CA index and, for `revoked`, revokes
 * the leaf and writes the CRL.
 * @returns the leaf, its key, what the client must present, and the expected ALB status.
 */
export async function buildDefect(p: BuildDefectParams): Promise<DefectMaterial> {
  const crypto = p.crypto ?? cryptoProvider();
  const def = DEFECTS[p.kind];
  const issuerX509 = x509FromDer(p.issuer.cert.der);
  let notBefore = addDays(p.now, -1 / 1440);
  let notAfter = addDays(p.now, p.days);
  const base = {kind: p.kind, expected: `Failed:${def.code}` as const, code: def.code, why: def.why, presentedIntermediates: [] as Array<{der: Uint8Array; pem: string}>, revoke: false};
  const finish = (leaf: {der: Uint8Array; pem: string}, keyPkcs8: Uint8Array, extra: Partial<DefectMaterial> = {}): DefectMaterial => {
    const cert = parseCertificate(leaf.der);
    return {...base, leaf: {...leaf, cert}, keyPkcs8, issuedByIssuer: [cert], ...extra};
  };

  if (p.kind === 'v1') {
    const v1 = buildV1(p, notBefore, notAfter);
    return finish({der: v1.der, pem: toPem(v1.der, 'CERTIFICATE')}, v1.keyPkcs8);
  }
  const leafSpec = p.kind === 'unsupported-key' ? DEFECT_KEY_TYPES[p.unsupportedKey ?? 'rsa-1024'] : p.keySpec;
  const keys = await generateKeyPair(leafSpec, crypto);
  const keyPkcs8 = await exportPkcs8(keys.privateKey, crypto);
  const common = {issuerCert: issuerX509, issuerKey: p.issuer.key, issuerSpec: p.issuer.spec, keys};

  switch (p.kind) {
    case 'expired':
      // Valid for `days`, ending a day ago.
      notAfter = addDays(p.now, -1);
      notBefore = addDays(notAfter, -Math.max(1, p.days));
      return finish(await issueLeaf(p, {...common, notBefore, notAfter}), keyPkcs8);
    case 'not-yet-valid':
      notBefore = addDays(p.now, 30);
      notAfter = addDays(notBefore, Math.max(1, p.days));
      return finish(await issueLeaf(p, {...common, notBefore, notAfter}), keyPkcs8);
    case 'revoked':
      return finish(await issueLeaf(p, {...common, notBefore, notAfter}), keyPkcs8, {revoke: true});
    case 'wrong-purpose':
      return finish(await issueLeaf(p, {...common, notBefore, notAfter, extKeyUsage: [OID_EKU_SERVER_AUTH]}), keyPkcs8);
    case 'unsupported-key':
      return finish(await issueLeaf(p, {...common, notBefore, notAfter}), keyPkcs8);
    case 'untrusted': {
      // A throwaway root with the same name as the real issuer would also fail (signature);
      // a distinct name makes the reason plain: the issuer is not in the trust store.
      const spec = KEY_TYPES['ec-p256'];
      const caKeys = await generateKeyPair(spec, crypto);
      const caSubject: NameEntry[][] = [[{type: '2.5.4.3', value: 'mtls-kit throwaway CA (not in any trust store)'}]];
      const ca = await issueCertificate(
        {subject: caSubject, issuerKey: caKeys.privateKey, issuerSpec: spec, publicKey: caKeys.publicKey, subjectSpec: spec, serialHex: newSerialHex(), notBefore, notAfter: addDays(p.now, Math.max(p.days, 1) + 1), profile: PROFILES.root, pathLength: 0},
        crypto,
      );
      const leaf = await issueLeaf(p, {issuerCert: ca.cert, issuerKey: caKeys.privateKey, issuerSpec: spec, keys, notBefore, notAfter});
      return {...finish(leaf, keyPkcs8), throwawayCa: {der: ca.der, pem: ca.pem}, issuedByIssuer: []};
    }
    case 'too-deep': {
      // issuing CA → sub-CA 1 → ... → sub-CA 5 → leaf; the client presents leaf + 5 sub-CAs.
      const subs: Array<{der: Uint8Array; pem: string; cert: x509.X509Certificate; key: CryptoKey; spec: KeySpec}> = [];
      let parent = {cert: issuerX509, key: p.issuer.key, spec: p.issuer.spec};
      const {pathLength: _unlimited, ...subCaProfile} = PROFILES.intermediate;
      const cn = p.subject.flat().find((a) => a.type === '2.5.4.3')?.value ?? 'client';
      for (let i = 1; i <= TOO_DEEP_SUB_CAS; i++) {
        const spec = KEY_TYPES['ec-p256'];
        const k = await generateKeyPair(spec, crypto);
        const sub = await issueCertificate(
          {subject: [[{type: '2.5.4.3', value: `${cn} sub-CA ${i}`}]], issuerCert: parent.cert, issuerKey: parent.key, issuerSpec: parent.spec, publicKey: k.publicKey, subjectSpec: spec, serialHex: newSerialHex(), notBefore, notAfter, profile: subCaProfile},
          crypto,
        );
        subs.push({...sub, key: k.privateKey, spec});
        parent = {cert: sub.cert, key: k.privateKey, spec};
      }
      const leaf = await issueLeaf(p, {issuerCert: parent.cert, issuerKey: parent.key, issuerSpec: parent.spec, keys, notBefore, notAfter});
      return {
        ...finish(leaf, keyPkcs8),
        presentedIntermediates: subs.reverse().map((s) => ({der: s.der, pem: s.pem})),
        issuedByIssuer: [parseCertificate(subs[subs.length - 1]!.der)],
      };
    }
  }
  throw new Error(`unknown defect kind ${String(p.kind)}`);
}
