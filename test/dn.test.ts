/**
 * DN strings against the real openssl CLI (`x509 -nameopt RFC2253`) and Node's
 * X509Certificate: the golden values come from those peers, never from us.
 */
import assert from 'node:assert/strict';
import {X509Certificate} from 'node:crypto';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import type {parseCertificate} from '../src/lib/x509/cert.js';
import {TAG} from '../src/lib/x509/der.js';
import {
  encodeDnText,
  encodeNameDer,
  formatApigwDn,
  formatClientCertSub,
  formatNodeName,
  formatRfc2253,
  type NameEntryDer,
  OPENSSL_SHORT_NAMES,
  parseDnText,
} from '../src/lib/x509/dn.js';
import {readCertificates} from '../src/lib/x509/read-certs.js';
import {buildCert} from './support/cert-builder.js';
import {opensslOk} from './support/openssl.js';
import {tempDir} from './support/tmp.js';

const dir = tempDir();
const keyPath = join(dir, 'key.pem');
opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath]);

/** openssl's RFC 2253 subject and issuer of a PEM file. */
function opensslNames(pemPath: string): {subject: string; issuer: string} {
  const outText = opensslOk(['x509', '-in', pemPath, '-noout', '-subject', '-issuer', '-nameopt', 'RFC2253']);
  const [s, i] = outText.split('\n');
  return {subject: s!.replace(/^subject=/, ''), issuer: i!.replace(/^issuer=/, '')};
}

let n = 0;
/** A self-signed certificate made by `openssl req -x509` with this -subj. */
function opensslCert(subj: string, extra: string[] = []): string {
  const path = join(dir, `req-${n++}.pem`);
  opensslOk(['req', '-x509', '-new', '-key', keyPath, '-subj', subj, '-utf8', '-multivalue-rdn', '-days', '30', '-out', path, ...extra]);
  return path;
}

function writeBuilt(subject: Uint8Array, issuer?: Uint8Array): string {
  const path = join(dir, `built-${n++}.pem`);
  writeFileSync(path, buildCert({subject, ...(issuer ? {issuer} : {})}).pem);
  return path;
}

function ours(pemPath: string): {subject: string; issuer: string; cert: ReturnType<typeof parseCertificate>} {
  const [cert] = readCertificates(new Uint8Array(readFileSync(pemPath)), pemPath);
  return {subject: formatRfc2253(cert!.subject), issuer: formatRfc2253(cert!.issuer), cert: cert!};
}

const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
const latin1 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
function bmp(s: string): Uint8Array {
  const b = Buffer.alloc(s.length * 2);
  for (let i = 0; i < s.length; i++) b.writeUInt16BE(s.charCodeAt(i), i * 2);
  return new Uint8Array(b);
}
function ucs4(s: string): Uint8Array {
  const cps = [...s].map((c) => c.codePointAt(0)!);
  const b = Buffer.alloc(cps.length * 4);
  for (const [i, cp] of cps.entries()) b.writeUInt32BE(cp, i * 4);
  return new Uint8Array(b);
}
const at = (oid: string, tag: number, value: Uint8Array): NameEntryDer => ({oid, tag, value});

// -subj strings that stress the RFC 2253 rules (issue 4 "Proof"), made by openssl itself.
const SUBJ_CASES: Array<[string, string]> = [
  ['commas', '/C=EE/O=Test, Inc./CN=M\u00c4NNIK,MARILIIS,47101010033'],
  ['plus (escaped in -multivalue-rdn)', '/O=a\\+b/CN=c\\+\\+d'],
  ['quotes', '/CN=say "hi"/O="quoted"'],
  ['backslash', '/CN=back\\\\slash/O=end\\\\'],
  ['<>; and =', '/CN=<a>;b=c/O=x>y'],
  ['leading # and spaces, trailing space', '/CN=#hash/O=  two leading/OU=trailing /L=# and #'],
  ['single # and single space', '/CN=#/O= '],
  ['multi-valued RDNs', '/C=US/O=Acme/OU=Eng+CN=device-1+UID=u1'],
  ['UTF-8: Latin-1, CJK, emoji', '/CN=Mäñnïk/O=東京都/OU=😀 emoji/L=Ærøskøbing'],
  ['control characters', '/CN=a\u0001b\u001fc\u007fd/O=tab\there'],
  ['emailAddress DC UID', '/DC=com/DC=example/UID=jdoe/emailAddress=j.doe+x@example.com/CN=J Doe'],
  ['serialNumber street postalCode', '/serialNumber=PNOEE-47101010033/street=1 Main St/postalCode=10115/CN=x'],
  ['organizationIdentifier jurisdictionC', '/jurisdictionC=EE/organizationIdentifier=NTREE-10747013/businessCategory=Private Organization/CN=y'],
  ['GN SN title', '/GN=MARILIIS/SN=M\u00c4NNIK/title=Dr./pseudonym=p/initials=MM/CN=z'],
];

describe('formatRfc2253 equals openssl -nameopt RFC2253', () => {
  for (const [name, subj] of SUBJ_CASES) {
    it(`openssl req -subj: ${name}`, () => {
      const path = opensslCert(subj);
      const golden = opensslNames(path);
      const mine = ours(path);
      assert.equal(mine.subject, golden.subject);
      assert.equal(mine.issuer, golden.issuer);
    });
  }

  const BUILT: Array<[string, NameEntryDer[][]]> = [
    ['empty subject', []],
    ['BMPString', [[at('2.5.4.3', TAG.BMPString, bmp('Müller 東京, #1'))]]],
    ['BMPString with leading space and trailing space', [[at('2.5.4.10', TAG.BMPString, bmp(' x '))]]],
    ['UniversalString', [[at('2.5.4.3', TAG.UniversalString, ucs4('Ünï 😀,+'))]]],
    ['T61String with Latin-1 bytes', [[at('2.5.4.3', TAG.T61String, latin1('caf\u00e9 #1'))]]],
    ['IA5String and NumericString', [[at('1.2.840.113549.1.9.1', TAG.IA5String, utf8('a@b.c'))], [at('2.5.4.5', TAG.NumericString, utf8('0123'))]]],
    // Not here: VisibleString values and BMPStrings holding surrogate pairs, which
    // OpenSSL 3 refuses to load at all (so ALB could not have printed them either).
    ['unknown OID', [[at('1.2.3.4.5', TAG.UTF8String, utf8('secret'))], [at('2.5.4.3', TAG.UTF8String, utf8('x'))]]],
    ['known OID with a non-string value (OCTET STRING is dumped)', [[at('2.5.4.3', TAG.BIT_STRING, Uint8Array.of(0, 0xab))]]],
    ['UTF8String with raw control bytes and 0x80+', [[at('2.5.4.3', TAG.UTF8String, Uint8Array.of(0x00, 0x41, 0x0a, 0x7f, 0xc3, 0xa9, 0x20))]]],
    [
      'multi-valued RDN in non-sorted order',
      [[at('2.5.4.3', TAG.UTF8String, utf8('b')), at('2.5.4.11', TAG.UTF8String, utf8('a')), at('0.9.2342.19200300.100.1.1', TAG.UTF8String, utf8('c'))]],
    ],
    ['empty value', [[at('2.5.4.3', TAG.UTF8String, new Uint8Array(0))]]],
    ['mail (RFC 1274, not in the usual lists)', [[at('0.9.2342.19200300.100.1.3', TAG.IA5String, utf8('m@x'))]]],
  ];
  for (const [name, rdns] of BUILT) {
    it(`built Name: ${name}`, () => {
      const issuer = encodeNameDer([[at('2.5.4.3', TAG.UTF8String, utf8('Issuer, with comma'))]]);
      const path = writeBuilt(encodeNameDer(rdns), issuer);
      const golden = opensslNames(path);
      const mine = ours(path);
      assert.equal(mine.subject, golden.subject);
      assert.equal(mine.issuer, golden.issuer);
    });
  }

  it("every OID in the short-name table prints with openssl's label (one certificate, all OIDs)", () => {
    const oids = Object.keys(OPENSSL_SHORT_NAMES);
    assert.ok(oids.length > 1000, `table has ${oids.length} entries`);
    const rdns = oids.map((oid) => [at(oid, TAG.UTF8String, utf8('v'))]);
    const path = writeBuilt(encodeNameDer(rdns));
    const golden = opensslNames(path).subject;
    const mine = ours(path).subject;
    if (mine !== golden) {
      const g = golden.split(',');
      const m = mine.split(',');
      const diffs = g.map((x, i) => [x, m[i]]).filter(([x, y]) => x !== y);
      assert.fail(`${diffs.length} labels differ, e.g. ${JSON.stringify(diffs.slice(0, 5))}`);
    }
  });
});

describe('random names, differential against openssl and Node', () => {
  // Deterministic PRNG (mulberry32): the same names on every run.
  let seed = 0x5eed;
  const rnd = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const SPECIAL = [',', '+', '"', '\\', '<', '>', ';', '#', '=', ' ', '\u0001', '\u001f', '\u007f', 'a', 'Z', '0', '.', '-'];
  const WIDE = ['é', 'Ä', 'ß', '東', '京', 'Ж', 'ǅ', '\u00a0', '😀', '𝄞'];
  const OIDS = [
    '2.5.4.3',
    '2.5.4.10',
    '2.5.4.11',
    '2.5.4.7',
    '0.9.2342.19200300.100.1.1',
    '1.2.840.113549.1.9.1',
    '2.5.4.5',
    '2.5.4.97',
    '1.3.6.1.4.1.99999.1',
  ];
  function randomValue(tag: number): Uint8Array {
    const len = 1 + Math.floor(rnd() * 6);
    let str = '';
    for (let i = 0; i < len; i++) str += rnd() < 0.7 ? pick(SPECIAL) : pick(WIDE);
    if (tag === TAG.UTF8String) return utf8(str);
    if (tag === TAG.UniversalString) return ucs4(str);
    const bmpSafe = [...str].filter((ch) => ch.codePointAt(0)! < 0x10000).join('') || 'x';
    if (tag === TAG.BMPString) return bmp(bmpSafe);
    // 1-byte types: Latin-1 bytes, including 0x80-0xFF.
    return latin1([...bmpSafe].map((ch) => String.fromCharCode(ch.charCodeAt(0) & 0xff)).join(''));
  }
  for (let k = 0; k < 40; k++) {
    it(`random name ${k + 1}`, () => {
      const rdns: NameEntryDer[][] = [];
      const count = 1 + Math.floor(rnd() * 8);
      for (let r = 0; r < count; r++) {
        const members = rnd() < 0.25 ? 2 + Math.floor(rnd() * 2) : 1;
        rdns.push(
          Array.from({length: members}, () => {
            const tag = pick([TAG.UTF8String, TAG.UTF8String, TAG.BMPString, TAG.UniversalString, TAG.T61String, TAG.PrintableString, TAG.IA5String]);
            return at(pick(OIDS), tag, randomValue(tag));
          }),
        );
      }
      const path = writeBuilt(encodeNameDer(rdns));
      const golden = opensslNames(path);
      const mine = ours(path);
      assert.equal(mine.subject, golden.subject);
      const node = new X509Certificate(readFileSync(path, 'utf8'));
      assert.equal(formatNodeName(mine.cert.subject), node.subject ?? '');
    });
  }
});

describe('other DN forms', () => {
  it('formatNodeName equals Node X509Certificate.subject/issuer on the stress certificates', () => {
    for (const [, subj] of SUBJ_CASES) {
      const path = opensslCert(subj);
      const pem = readFileSync(path, 'utf8');
      const x = new X509Certificate(pem);
      const c = ours(path).cert;
      assert.equal(formatNodeName(c.subject), x.subject, subj);
      assert.equal(formatNodeName(c.issuer), x.issuer, subj);
    }
  });

  it('formatClientCertSub is the seed sample\'s subject.replaceAll("\\n", ",")', () => {
    const path = opensslCert('/C=EE/O=Test, Inc./CN=client1');
    const c = ours(path).cert;
    assert.equal(formatClientCertSub(c.subject), 'C=EE,O=Test\\, Inc.,CN=client1');
    assert.equal(formatClientCertSub(c.subject), new X509Certificate(readFileSync(path, 'utf8')).subject.replaceAll('\n', ','));
  });

  it('formatApigwDn is forward order example)', () => {
    const path = opensslCert('/C=US/ST=Washington/L=Seattle/O=Amazon Web Services/OU=Security/CN=My Client');
    assert.equal(formatApigwDn(ours(path).cert.subject), 'C=US,ST=Washington,L=Seattle,O=Amazon Web Services,OU=Security,CN=My Client');
  });
});

describe('parseDnText', () => {
  const CAPTURED = [
    // aws-reference 1.5 / 1.7 (Estonian ID card, v3rm0n/eid-aws-alb)
    'serialNumber=PNOEE-47101010033,GN=MARILIIS,SN=M\\C3\\84NNIK,CN=M\\C3\\84NNIK\\,MARILIIS\\,47101010033,C=EE',
    'CN=ESTEID2018,organizationIdentifier=NTREE-10747013,O=SK ID Solutions AS,C=EE',
    'CN=rootcamtls.com,OU=rootCA,O=mTLS,L=Seattle,ST=Washington,C=US',
    'CN=Client Certificate,O=My Organization,L=tokyo,C=jp',
    'CN=a+OU=b\\+c,O=\\#x\\ ,1.2.3.4=#0C0173,C=US',
  ];
  for (const s of CAPTURED) {
    it(`round-trips ${s.slice(0, 40)}...`, () => {
      assert.equal(formatRfc2253(encodeDnText(s)), s);
    });
  }

  it('reads the Estonian subject into values', () => {
    const rdns = parseDnText(CAPTURED[0]!);
    assert.deepEqual(
      rdns.map((r) => r.map((a) => `${a.label}=${a.text}`).join('+')),
      ['serialNumber=PNOEE-47101010033', 'GN=MARILIIS', 'SN=MÄNNIK', 'CN=MÄNNIK,MARILIIS,47101010033', 'C=EE'],
    );
    assert.equal(rdns[3]![0]!.oid, '2.5.4.3');
  });

  it('rejects malformed strings with a position', () => {
    assert.throws(() => parseDnText('CN=a,novalue'), /not of the form label=value/);
    assert.throws(() => parseDnText('CN=a\\'), /lone backslash/);
    assert.throws(() => parseDnText('1.2.3=#ABC'), /odd number/);
  });
});
