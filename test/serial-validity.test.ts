/**
 * Serial and validity header formats against openssl (`x509 -serial`, `-startdate/-enddate`).
 */
import assert from 'node:assert/strict';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {TAG} from '../src/lib/x509/der.js';
import {encodeNameDer} from '../src/lib/x509/dn.js';
import {readCertificates} from '../src/lib/x509/read-certs.js';
import {formatAlbValidity, formatApigwDate} from '../src/lib/x509/validity.js';
import {buildCert, type BuildCertParams} from './support/cert-builder.js';
import {opensslOk} from './support/openssl.js';
import {tempDir} from './support/tmp.js';

const dir = tempDir();
const keyPath = join(dir, 'key.pem');
opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath]);
const subject = encodeNameDer([[{oid: '2.5.4.3', tag: TAG.UTF8String, value: new Uint8Array(Buffer.from('t'))}]]);
let n = 0;

function load(path: string) {
  return readCertificates(new Uint8Array(readFileSync(path)), path)[0]!;
}

function built(p: Omit<BuildCertParams, 'subject'>): string {
  const path = join(dir, `b-${n++}.pem`);
  writeFileSync(path, buildCert({subject, ...p}).pem);
  return path;
}

/** openssl's `-startdate`/`-enddate` (ASN1_TIME_print: `Jun 10 12:00:00 2081 GMT`). */
function opensslDates(path: string): {notBefore: string; notAfter: string} {
  const [a, b] = opensslOk(['x509', '-in', path, '-noout', '-startdate', '-enddate']).split('\n');
  return {notBefore: a!.replace('notBefore=', ''), notAfter: b!.replace('notAfter=', '')};
}

/** openssl's dates as ALB's ISO form, via Date parsing of its text. */
const iso = (t: string): string => new Date(t.replace(' GMT', ' UTC')).toISOString().replace('.000Z', 'Z');

describe('serial equals openssl x509 -serial', () => {
  for (const serial of [
    '0x03A5B1',
    '0xFEF257372D5C14D4',
    '0x0F',
    '0x00FF',
    '1',
    '0x7F',
    '0x80',
    '0x12DB3F24BFFD390A5CAF1A8F2712DFB4',
    '0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF',
  ]) {
    it(`openssl req -set_serial ${serial}`, () => {
      const path = join(dir, `s-${n++}.pem`);
      opensslOk(['req', '-x509', '-new', '-key', keyPath, '-subj', '/CN=s', '-set_serial', serial, '-days', '1', '-out', path]);
      const golden = opensslOk(['x509', '-in', path, '-noout', '-serial']).trim().replace('serial=', '');
      assert.equal(load(path).serialHex, golden);
    });
  }
  it('the documented examples keep the leading zero nibble and drop the sign byte', () => {
    const a = load(built({serial: Uint8Array.of(0x03, 0xa5, 0xb1)}));
    assert.equal(a.serialHex, '03A5B1');
    const b = load(built({serial: Uint8Array.of(0x00, 0xfe, 0xf2, 0x57, 0x37, 0x2d, 0x5c, 0x14, 0xd4)}));
    assert.equal(b.serialHex, 'FEF257372D5C14D4');
  });
  it('a negative serial prints as openssl prints it', () => {
    const path = built({serial: Uint8Array.of(0xff, 0x01)});
    const golden = opensslOk(['x509', '-in', path, '-noout', '-serial']).trim().replace('serial=', '');
    assert.equal(load(path).serialHex, golden);
  });
});

describe('validity including dates after 2049', () => {
  const CASES: Array<[string, Date, Date]> = [
    ['UTCTime both', new Date('2023-09-21T01:50:17Z'), new Date('2024-09-20T01:50:17Z')],
    ['UTCTime to GeneralizedTime across 2050', new Date('2049-12-31T23:59:59Z'), new Date('2050-01-01T00:00:00Z')],
    ['far future, single-digit day', new Date('2081-06-05T12:00:00Z'), new Date('9999-12-31T23:59:59Z')],
    ['1950 lower bound of UTCTime', new Date('1950-01-01T00:00:00Z'), new Date('2120-08-05T00:28:21Z')],
  ];
  for (const [name, nb, na] of CASES) {
    it(name, () => {
      const path = built({notBefore: nb, notAfter: na});
      const c = load(path);
      const golden = opensslDates(path);
      assert.equal(formatAlbValidity(c.notBefore, c.notAfter), `NotBefore=${iso(golden.notBefore)};NotAfter=${iso(golden.notAfter)}`);
      // API Gateway's validity form is OpenSSL's ASN1_TIME_print text.
      assert.equal(formatApigwDate(c.notBefore), golden.notBefore);
      assert.equal(formatApigwDate(c.notAfter), golden.notAfter);
    });
  }
  it('an openssl-made certificate valid past 2050', () => {
    const path = join(dir, `v-${n++}.pem`);
    opensslOk(['req', '-x509', '-new', '-key', keyPath, '-subj', '/CN=v', '-days', '15000', '-out', path]);
    const c = load(path);
    assert.ok(c.notAfter.getUTCFullYear() > 2050);
    const golden = opensslDates(path);
    assert.equal(formatAlbValidity(c.notBefore, c.notAfter), `NotBefore=${iso(golden.notBefore)};NotAfter=${iso(golden.notAfter)}`);
    assert.equal(formatApigwDate(c.notAfter), golden.notAfter);
  });
});
