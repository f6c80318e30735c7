/**
 * The library's uncached path was made cheaper (issue 23: header sets verified per second)
 * without changing a verdict. Each shortcut is compared here with the code it replaced over a corpus:
 * - decodeStrictTime's regex-free fast path against its general path (the code as it was),
 *   over every field value around the limits and seeded random damage (wrong lengths, signs,
 *   fractions, offsets);
 * - formatFingerprint's table against the regular expression it replaced, decodeOid's memo
 *   against the decoder, the host-information check's early exit against inet_pton alone;
 * - the verdict's identity and path, read from the x509-limbo corpus through createVerifier,
 *   against describeCertificate and a SHA-256 of the DER as before, and equal for
 *   JSON.stringify, spread and `in` (its fingerprints are computed when first read).
 */
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {describe, it} from 'node:test';
import {describeCertificate} from '../src/lib/alb/describe.js';
import {encodePassthroughHeader} from '../src/lib/alb/headers.js';
import {hostInformationProblem, isInetPton4, isInetPton6} from '../src/lib/alb/host-information.js';
import {decodeStrictTime, decodeStrictTimeGeneral, type ParsedCertificate} from '../src/lib/x509/cert.js';
import {decodeOid, decodeOidUncached, encodeOid, readTlv, TAG, type Tlv, tlv, toHex} from '../src/lib/x509/der.js';
import {formatFingerprint} from '../src/lib/x509/fingerprint.js';
import {toPem} from '../src/lib/x509/pem.js';
import {readCertificates} from '../src/lib/x509/read-certs.js';
import {createVerifier, type MtlsVerdict} from '../src/library/index.js';
import {judgeChain, trustStoreFrom} from '../src/library/seam.js';
import {caseTime, loadLimbo} from './support/limbo.js';
import {prng} from './support/prng.js';

const timeTlv = (tag: number, text: string): Tlv => readTlv(tlv(tag, Buffer.from(text, 'latin1')), 0);
const same = (a: {date: Date; error?: string}, b: {date: Date; error?: string}, what: string): void => {
  assert.ok(Object.is(a.date.getTime(), b.date.getTime()), `${what}: ${a.date.getTime()} vs ${b.date.getTime()}`);
  assert.equal(a.error, b.error, what);
};

describe('library fast paths equal the code they replaced', () => {
  it('decodeStrictTime: every field at and around its limits, and seeded damage', () => {
    const years2 = ['00', '49', '50', '99', '24', '0a'];
    const years4 = ['0000', '0050', '1950', '2024', '2100', '9999', '20x4'];
    const months = ['00', '01', '02', '12', '13', '1a'];
    const days = ['00', '01', '28', '29', '30', '31', '32'];
    const hours = ['00', '23', '24'];
    const mins = ['00', '59', '60'];
    const secs = ['00', '59', '60', '9 '];
    let n = 0;
    for (const [tag, years] of [
      [TAG.UTCTime, years2],
      [TAG.GeneralizedTime, years4],
    ] as const)
      for (const y of years)
        for (const mo of months)
          for (const d of days)
            for (const h of hours)
              for (const mi of mins)
                for (const se of secs) {
                  const text = `${y}${mo}${d}${h}${mi}${se}Z`;
                  same(decodeStrictTime(timeTlv(tag, text)), decodeStrictTimeGeneral(timeTlv(tag, text)), text);
                  n++;
                }
    const rnd = prng(0x71e5);
    const alphabet = '0123456789Z.+-Z0123456789 ';
    for (let i = 0; i < 20_000; i++) {
      const len = Math.floor(rnd() * 19);
      let text = '';
      for (let j = 0; j < len; j++) text += alphabet[Math.floor(rnd() * alphabet.length)];
      for (const tag of [TAG.UTCTime, TAG.GeneralizedTime, TAG.OCTET_STRING]) {
        same(decodeStrictTime(timeTlv(tag, text)), decodeStrictTimeGeneral(timeTlv(tag, text)), `${tag}: ${text}`);
        n++;
      }
    }
    // Valid times that damage would rarely produce: a mutation of each digit of a good one.
    for (const good of ['240229120000Z', '20240229120000Z', '491231235959Z', '19500101000000Z']) {
      const tag = good.length === 13 ? TAG.UTCTime : TAG.GeneralizedTime;
      for (let i = 0; i < good.length; i++)
        for (const ch of '0123456789Z') {
          const text = good.slice(0, i) + ch + good.slice(i + 1);
          same(decodeStrictTime(timeTlv(tag, text)), decodeStrictTimeGeneral(timeTlv(tag, text)), text);
          n++;
        }
    }
    assert.ok(n > 60_000, `${n} times compared`);
  });

  it('formatFingerprint and decodeOid (memoized) over seeded random bytes', () => {
    const rnd = prng(0xf1e6);
    for (let i = 0; i < 5000; i++) {
      const bytes = Uint8Array.from({length: Math.floor(rnd() * 40)}, () => Math.floor(rnd() * 256));
      assert.equal(formatFingerprint(bytes), toHex(bytes).replace(/(..)(?=.)/g, '$1:'));
      if (bytes.length > 0) {
        const t = readTlv(tlv(TAG.OID, bytes), 0);
        assert.equal(decodeOid(t), decodeOidUncached(bytes));
        assert.equal(decodeOid(t), decodeOidUncached(bytes), 'a memo hit');
      }
    }
    assert.equal(decodeOid(readTlv(encodeOid('1.2.840.113549.1.1.11'), 0)), '1.2.840.113549.1.1.11');
  });

  it('host-information: the early exit for names that cannot be addresses changes no answer', () => {
    const rnd = prng(0x5a2);
    const alphabet = '0123456789abcdefABCDEF:.:.gG -x';
    const cnProblem = (cn: string): string | null => {
      const name = tlv(TAG.SEQUENCE, tlv(TAG.SET, tlv(TAG.SEQUENCE, encodeOid('2.5.4.3'), tlv(TAG.UTF8String, Buffer.from(cn, 'latin1')))));
      return hostInformationProblem({subject: name, altNamesRaw: []} as unknown as ParsedCertificate);
    };
    let addresses = 0;
    for (let i = 0; i < 20_000; i++) {
      const len = 1 + Math.floor(rnd() * 16);
      let cn = '';
      for (let j = 0; j < len; j++) cn += alphabet[Math.floor(rnd() * alphabet.length)];
      const before = isInetPton4(cn) || isInetPton6(cn) ? `its commonName ${cn} is an IP address and it has no subjectAltName` : null;
      assert.equal(cnProblem(cn), before, cn);
      if (before) addresses++;
    }
    for (const cn of ['10.0.0.1', '::1', '2001:db8::1', '::ffff:10.0.0.1', 'fe80::1']) assert.match(cnProblem(cn) ?? '', /is an IP address/, cn);
    assert.ok(addresses > 50, `${addresses} random names were addresses`);
  });

  it("the verdict's identity and path equal describeCertificate's over the x509-limbo corpus", async () => {
    let compared = 0;
    for (const c of loadLimbo()) {
      let chain: ParsedCertificate[];
      let trust: ParsedCertificate[];
      try {
        chain = [c.peer_certificate, ...c.untrusted_intermediates].flatMap((p) => readCertificates(Buffer.from(p), 'limbo'));
        trust = c.trusted_certs.flatMap((p) => readCertificates(Buffer.from(p), 'limbo'));
      } catch {
        continue; // a file mtls-kit refuses to read: no verdict to compare
      }
      if (trust.length === 0) continue;
      const at = caseTime(c, new Date());
      const pem = trust.map((t) => toPem(t.der, 'CERTIFICATE')).join('');
      const verifier = await createVerifier({
        product: 'alb-passthrough',
        trustStore: pem,
        cacheSize: 0,
        now: () => at,
      });
      const leaf = chain[0]!;
      let v: MtlsVerdict;
      try {
        v = verifier.verifyHeaders(encodePassthroughHeader(chain.map((x) => x.der)));
      } catch (error) {
        // A name formatRfc2253 cannot print: describeCertificate threw for it as well.
        assert.throws(() => describeCertificate(leaf), Error, `${c.id}: ${(error as Error).message}`);
        verifier.close();
        continue;
      }
      verifier.close();
      const d = describeCertificate(leaf);
      const before = {
        subject: d.subject,
        issuer: d.issuer,
        serial: d.serial,
        subjectAltNames: d.subjectAltNames,
        notBefore: d.notBefore,
        notAfter: d.notAfter,
        sha256Fingerprint: d.sha256Fingerprint,
        x5tS256: createHash('sha256').update(leaf.der).digest('base64url'),
      };
      assert.deepEqual(JSON.parse(JSON.stringify(v.identity)), before, c.id);
      assert.deepEqual({...v.identity}, before, `${c.id}: spread`);
      assert.ok(v.identity && 'x5tS256' in v.identity && Object.keys(v.identity).length === 8, c.id);
      assert.equal(v.identity.sha256Fingerprint, leaf.sha256Fingerprint, c.id);
      // The path as it was: judgeChain's, every entry described by describeCertificate.
      const r = judgeChain({product: 'alb-passthrough', chain, trustStore: trustStoreFrom(Buffer.from(pem), 'limbo').store, crls: [], at, ignoreExpiry: false});
      assert.equal(v.status, r.status, c.id);
      assert.deepEqual(
        v.path,
        r.path.map((x) => ({subject: describeCertificate(x).subject, serial: x.serialHex})),
        c.id,
      );
      compared++;
    }
    assert.ok(compared > 100, `${compared} limbo cases compared`);
  });
});
