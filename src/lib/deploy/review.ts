/**
 * What a reviewer needs to approve a deploy plan: the certificates a bundle change adds and
 * removes (subject, fingerprint, expiry) and the serials a CRL rotation revokes and
 * un-revokes. Pure: the runner hands in parsed certificates and serial sets.
 */
import type {ParsedCertificate} from '../x509/cert.js';
import {formatRfc2253} from '../x509/dn.js';

export interface CertBrief {
  /** SHA-256 of the DER in the one fingerprint style, upper-case colon hex (lib/x509/fingerprint.ts): the identity deploy compares. */
  fingerprint: string;
  /** RFC 2253. */
  subject: string;
  notAfter: string;
}

export interface CertificateChanges {
  added: CertBrief[];
  removed: CertBrief[];
}

export interface SerialChanges {
  /** Serials the new list revokes that the old one did not. */
  added: number;
  /** Serials the old list revoked that the new one does not (un-revoked: review these). */
  removed: number;
  /** The first `limit` of each, ALB hex form. */
  addedSerials: string[];
  removedSerials: string[];
}

/** Subject, fingerprint and expiry of each certificate (fingerprint = `sha256Fingerprint`, upper-case colon hex). */
export function briefCertificates(certs: ParsedCertificate[]): CertBrief[] {
  return certs.map((c) => ({
    fingerprint: c.sha256Fingerprint,
    subject: formatRfc2253(c.subject),
    notAfter: c.notAfter.toISOString().replace('.000Z', 'Z'),
  }));
}

/** The certificates in `local` and not in `held` (added) and the reverse (removed), as sets. */
export function diffCertificates(local: CertBrief[], held: CertBrief[]): CertificateChanges {
  const inHeld = new Set(held.map((c) => c.fingerprint));
  const inLocal = new Set(local.map((c) => c.fingerprint));
  const unique = (xs: CertBrief[]): CertBrief[] => [...new Map(xs.map((c) => [c.fingerprint, c])).values()];
  return {added: unique(local.filter((c) => !inHeld.has(c.fingerprint))), removed: unique(held.filter((c) => !inLocal.has(c.fingerprint)))};
}

/** The serials a rotation from `older` to `newer` revokes and un-revokes (first `limit` of each listed). */
export function diffSerials(newer: Iterable<string>, older: Iterable<string>, limit = 50): SerialChanges {
  const a = new Set(newer);
  const b = new Set(older);
  const added: string[] = [];
  const removed: string[] = [];
  let nAdded = 0;
  let nRemoved = 0;
  for (const s of a) {
    if (b.has(s)) continue;
    nAdded++;
    if (added.length < limit) added.push(s);
  }
  for (const s of b) {
    if (a.has(s)) continue;
    nRemoved++;
    if (removed.length < limit) removed.push(s);
  }
  return {added: nAdded, removed: nRemoved, addedSerials: added, removedSerials: removed};
}
