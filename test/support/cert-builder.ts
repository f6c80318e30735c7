/**
 * Builds X.509 certificates byte by byte for interop tests: any Name (string types,
 * multi-valued RDNs, unknown OIDs, control characters), any serial bytes, any dates.
 * Signed with a real P-256 key through node:crypto, so openssl and Node parse them;
 * openssl is the oracle for how they print.
 */
import {generateKeyPairSync, type KeyObject, sign} from 'node:crypto';
import {encodeOid, encodeTime, TAG, tlv} from '../../src/lib/x509/der.js';
import {toPem} from '../../src/lib/x509/pem.js';

const KEY = generateKeyPairSync('ec', {namedCurve: 'prime256v1'});

export interface BuildCertParams {
  /** Subject Name DER. */
  subject: Uint8Array;
  /** Issuer Name DER (default: the subject). */
  issuer?: Uint8Array;
  /** DER INTEGER content octets of the serial (default 01). */
  serial?: Uint8Array;
  notBefore?: Date;
  notAfter?: Date;
  key?: {privateKey: KeyObject; publicKey: KeyObject};
}

/** A v3 certificate (no extensions) with exactly the given fields; returns DER and PEM. */
export function buildCert(p: BuildCertParams): {der: Uint8Array; pem: string} {
  const key = p.key ?? KEY;
  const alg = tlv(TAG.SEQUENCE, encodeOid('1.2.840.10045.4.3.2'));
  const spki = new Uint8Array(key.publicKey.export({type: 'spki', format: 'der'}));
  const tbs = tlv(
    TAG.SEQUENCE,
    tlv(0xa0, tlv(TAG.INTEGER, Uint8Array.of(2))),
    tlv(TAG.INTEGER, p.serial ?? Uint8Array.of(1)),
    alg,
    p.issuer ?? p.subject,
    tlv(TAG.SEQUENCE, encodeTime(p.notBefore ?? new Date('2025-01-01T00:00:00Z')), encodeTime(p.notAfter ?? new Date('2035-01-01T00:00:00Z'))),
    p.subject,
    spki,
  );
  const sig = sign('sha256', tbs, key.privateKey);
  const der = tlv(TAG.SEQUENCE, tbs, alg, tlv(TAG.BIT_STRING, Uint8Array.of(0), sig));
  return {der, pem: toPem(der, 'CERTIFICATE')};
}
