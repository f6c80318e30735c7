/**
 * sign against a generated corpus of hostile CSRs, each validly signed by its own key:
 * made with `openssl req` and with our own DER builder (raw subjects and SANs that no
 * well-behaved tool writes). Every one ends in exit 0, 2 or 4, never 1; what is signed
 * carries a subject re-encoded in DER and SANs that gen-client's --san would accept, and
 * OpenSSL parses it; what is refused names the field.
 */
import assert from 'node:assert/strict';
import {generateKeyPairSync, X509Certificate} from 'node:crypto';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {before, describe, it} from 'node:test';
import {encodeOid, encodeSmallInteger, TAG, tlv} from '../src/lib/x509/der.js';
import {signatureAlgorithmDer, signBytes} from '../src/lib/x509/issue.js';
import {NAME_LIMITS} from '../src/lib/x509/name-rules.js';
import {toPem} from '../src/lib/x509/pem.js';
import {KEY_TYPES} from '../src/lib/x509/profiles.js';
import {runCli} from './support/cli.js';
import {openssl} from './support/openssl.js';
import {tempDir} from './support/tmp.js';

const te = new TextEncoder();
const CN = '2.5.4.3';
const atv = (oid: string, tag: number, value: Uint8Array): Uint8Array => tlv(TAG.SEQUENCE, encodeOid(oid), tlv(tag, value));
const rdn = (...atvs: Uint8Array[]): Uint8Array => tlv(TAG.SET, ...atvs);
const name = (...rdns: Uint8Array[]): Uint8Array => tlv(TAG.SEQUENCE, ...rdns);
const cn = (v: string | Uint8Array, tag: number = TAG.UTF8String): Uint8Array => name(rdn(atv(CN, tag, typeof v === 'string' ? te.encode(v) : v)));
const gn = (tag: number, v: string | Uint8Array): Uint8Array => tlv(tag, typeof v === 'string' ? Buffer.from(v, 'latin1') : v);
const DNS = 0x82;
const IP = 0x87;
const URI = 0x86;
const EMAIL = 0x81;

/** A CSR with this exact subject DER and these exact GeneralNames, signed by a fresh P-256 key. */
function rawCsr(subject: Uint8Array, sans: Uint8Array[] = []): string {
  const spec = KEY_TYPES['ec-p256'];
  const {privateKey, publicKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'});
  const spki = new Uint8Array(publicKey.export({format: 'der', type: 'spki'}));
  const attrs: Uint8Array[] = [];
  if (sans.length > 0) {
    const ext = tlv(TAG.SEQUENCE, encodeOid('2.5.29.17'), tlv(TAG.OCTET_STRING, tlv(TAG.SEQUENCE, ...sans)));
    attrs.push(tlv(TAG.SEQUENCE, encodeOid('1.2.840.113549.1.9.14'), tlv(TAG.SET, tlv(TAG.SEQUENCE, ext))));
  }
  const info = tlv(TAG.SEQUENCE, encodeSmallInteger(0), subject, spki, tlv(0xa0, ...attrs));
  const der = tlv(TAG.SEQUENCE, info, signatureAlgorithmDer(spec), tlv(TAG.BIT_STRING, Uint8Array.of(0), signBytes(spec, privateKey, info)));
  return toPem(der, 'CERTIFICATE REQUEST');
}

/** The subject as BER: indefinite-length SEQUENCE and SET. */
function berSubject(value: string): Uint8Array {
  const a = atv(CN, TAG.UTF8String, te.encode(value));
  return Uint8Array.from([0x30, 0x80, 0x31, 0x80, ...a, 0, 0, 0, 0]);
}

interface Case {
  id: string;
  pem?: string;
  /** openssl req arguments after -new -key (subject, -addext ...). */
  req?: string[];
  /** 0 signed, 4 refused; the field the refusal must name. */
  expect: 0 | 4;
  names?: RegExp;
}

const bmp = (s: string): Uint8Array => Uint8Array.from([...s].flatMap((c) => [0, c.charCodeAt(0)]));
const ok = (s: string): Uint8Array => cn(s);

const CASES: Case[] = [
  // Subjects from our DER builder.
  {id: 'plain', pem: rawCsr(ok('device-1')), expect: 0},
  {id: 'bell', pem: rawCsr(ok('dev\u0007ice')), expect: 4, names: /subject CN .*control character U\+0007/},
  {id: 'ansi-escape', pem: rawCsr(ok('dev\u001b[31mred')), expect: 4, names: /control character U\+001B/},
  {id: 'crlf', pem: rawCsr(ok('a\r\nb')), expect: 4, names: /U\+000D/},
  {id: 'nul', pem: rawCsr(ok('a\u0000b')), expect: 4, names: /U\+0000/},
  {id: 'c1', pem: rawCsr(ok('a\u009bb')), expect: 4, names: /U\+009B/},
  {id: 'bidi', pem: rawCsr(ok('abc\u202edef')), expect: 4, names: /U\+202E/},
  {id: 'cn-100k', pem: rawCsr(ok('x'.repeat(100_000))), expect: 4, names: /100000 characters long; at most 64/},
  {id: 'cn-64', pem: rawCsr(ok('x'.repeat(64))), expect: 0},
  {
    id: 'rdns-1000',
    pem: rawCsr(name(...Array.from({length: 1000}, (_, i) => rdn(atv('2.5.4.11', TAG.UTF8String, te.encode(`u${i}`)))))),
    expect: 4,
    names: /1000 RDNs/,
  },
  {
    id: 'rdns-max',
    pem: rawCsr(name(...Array.from({length: NAME_LIMITS.maxRdns}, (_, i) => rdn(atv('2.5.4.11', TAG.UTF8String, te.encode(`u${i}`)))))),
    expect: 0,
  },
  {
    id: 'multivalue-5',
    pem: rawCsr(name(rdn(...Array.from({length: 5}, (_, i) => atv(CN, TAG.UTF8String, te.encode(`c${i}`)))))),
    expect: 4,
    names: /5 attributes/,
  },
  {id: 'ber-subject', pem: rawCsr(berSubject('device-ber')), expect: 0},
  {id: 'bmp', pem: rawCsr(cn(bmp('device-bmp'), TAG.BMPString)), expect: 0},
  {id: 'bmp-odd', pem: rawCsr(cn(Uint8Array.of(0, 0x41, 0), TAG.BMPString)), expect: 4, names: /not a valid PKCS#10 certificate request|tag 30/},
  {id: 'utf8-invalid', pem: rawCsr(cn(Uint8Array.of(0x41, 0xff, 0x42))), expect: 4, names: /tag 12/},
  {id: 'printable-8bit', pem: rawCsr(cn(Uint8Array.of(0x41, 0xe9), TAG.PrintableString)), expect: 4, names: /tag 19/},
  {id: 't61-latin1', pem: rawCsr(cn(Uint8Array.of(0x41, 0xe9), TAG.T61String)), expect: 0},
  {id: 'octet-string-value', pem: rawCsr(cn(te.encode('x'), TAG.OCTET_STRING)), expect: 4, names: /tag 4/},
  {
    id: 'country-3',
    pem: rawCsr(name(rdn(atv('2.5.4.6', TAG.PrintableString, te.encode('USA'))), rdn(atv(CN, TAG.UTF8String, te.encode('d'))))),
    expect: 4,
    names: /C "USA"/,
  },
  {id: 'empty-cn', pem: rawCsr(ok('')), expect: 4, names: /CN "": it is empty/},
  {id: 'unknown-oid', pem: rawCsr(name(rdn(atv('1.2.3.4', TAG.UTF8String, te.encode('x'))), rdn(atv(CN, TAG.UTF8String, te.encode('d'))))), expect: 0},
  {id: 'email-attr-8bit', pem: rawCsr(name(rdn(atv('1.2.840.113549.1.9.1', TAG.UTF8String, te.encode('é@x.com'))))), expect: 4, names: /must be ASCII/},
  // SANs from our DER builder.
  {id: 'san-dns-space', pem: rawCsr(ok('d'), [gn(DNS, 'a b.example.com')]), expect: 4, names: /subjectAltName DNS "a b.example.com": it contains a space/},
  {id: 'san-dns-crlf', pem: rawCsr(ok('d'), [gn(DNS, 'a\r\nb.example.com')]), expect: 4, names: /subjectAltName: a name contains the byte 0x0d/},
  {id: 'san-dns-empty', pem: rawCsr(ok('d'), [gn(DNS, '')]), expect: 4, names: /DNS "": it is empty/},
  {id: 'san-dns-nul', pem: rawCsr(ok('d'), [gn(DNS, 'a\u0000.example.com')]), expect: 4, names: /0x00/},
  {id: 'san-dns-long', pem: rawCsr(ok('d'), [gn(DNS, `${'a'.repeat(63)}.`.repeat(5) + 'com')]), expect: 4, names: /at most 253/},
  {id: 'san-dns-8bit', pem: rawCsr(ok('d'), [gn(DNS, Uint8Array.of(0x61, 0xe9, 0x2e, 0x63, 0x6f))]), expect: 4, names: /0xe9/},
  {id: 'san-dns-wildcard', pem: rawCsr(ok('d'), [gn(DNS, '*.example.com')]), expect: 0},
  {id: 'san-ip-5', pem: rawCsr(ok('d'), [gn(IP, Uint8Array.of(4, 5, 0, 0, 1))]), expect: 4, names: /IP: 5 bytes/},
  {id: 'san-ip-0', pem: rawCsr(ok('d'), [gn(IP, new Uint8Array(0))]), expect: 4, names: /IP: 0 bytes/},
  {id: 'san-ip-8-mask', pem: rawCsr(ok('d'), [gn(IP, Uint8Array.of(10, 0, 0, 0, 255, 0, 0, 0))]), expect: 4, names: /IP: 8 bytes/},
  {id: 'san-ip-4', pem: rawCsr(ok('d'), [gn(IP, Uint8Array.of(192, 0, 2, 10))]), expect: 0},
  {id: 'san-ip-16', pem: rawCsr(ok('d'), [gn(IP, Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1))]), expect: 0},
  {id: 'san-uri-javascript', pem: rawCsr(ok('d'), [gn(URI, 'javascript:alert(1)')]), expect: 4, names: /javascript: scheme is not allowed/},
  {id: 'san-uri-data', pem: rawCsr(ok('d'), [gn(URI, 'data:text/html,x')]), expect: 4, names: /data: scheme/},
  {id: 'san-uri-noscheme', pem: rawCsr(ok('d'), [gn(URI, '/relative')]), expect: 4, names: /URI "\/relative"/},
  {id: 'san-uri-spiffe', pem: rawCsr(ok('d'), [gn(URI, 'spiffe://acme/device-1')]), expect: 0},
  {id: 'san-uri-huge', pem: rawCsr(ok('d'), [gn(URI, `https://x/${'a'.repeat(5000)}`)]), expect: 4, names: /at most 2048/},
  {id: 'san-email-two-at', pem: rawCsr(ok('d'), [gn(EMAIL, 'a@b@example.com')]), expect: 4, names: /email "a@b@example.com"/},
  {id: 'san-email', pem: rawCsr(ok('d'), [gn(EMAIL, 'ops@example.com')]), expect: 0},
  {
    id: 'san-too-many',
    pem: rawCsr(
      ok('d'),
      Array.from({length: NAME_LIMITS.maxSans + 1}, (_, i) => gn(DNS, `d${i}.example.com`)),
    ),
    expect: 4,
    names: /65 names/,
  },
  {id: 'san-dirname-stripped', pem: rawCsr(ok('d'), [tlv(0xa4, cn('x')), gn(DNS, 'd.example.com')]), expect: 0},
  // From openssl req.
  {
    id: 'openssl-plain',
    req: ['-subj', '/O=Acme/CN=device-2', '-addext', 'subjectAltName=DNS:device-2.example.com,IP:192.0.2.1,URI:spiffe://acme/d2'],
    expect: 0,
  },
  {id: 'openssl-utf8', req: ['-utf8', '-subj', '/CN=Gérard Ü'], expect: 0},
  {id: 'openssl-escape', req: ['-utf8', '-subj', '/CN=evil\u001b]0;title\u0007'], expect: 4, names: /control character U\+001B/},
  {id: 'openssl-multivalue', req: ['-multivalue-rdn', '-subj', '/CN=a+UID=b'], expect: 0},
  {id: 'openssl-javascript', req: ['-subj', '/CN=d', '-addext', 'subjectAltName=URI:javascript:alert(1)'], expect: 4, names: /javascript/},
  {id: 'openssl-dns-space', req: ['-subj', '/CN=d', '-addext', 'subjectAltName=DNS:a b.example.com'], expect: 4, names: /a space/},
  {id: 'openssl-dns-empty-label', req: ['-subj', '/CN=d', '-addext', 'subjectAltName=DNS:a..example.com'], expect: 4, names: /empty label/},
  {
    id: 'openssl-o-65',
    pem: rawCsr(name(rdn(atv('2.5.4.10', TAG.UTF8String, te.encode('o'.repeat(65)))), rdn(atv(CN, TAG.UTF8String, te.encode('d'))))),
    expect: 4,
    names: /subject O .*at most 64/,
  },
  {id: 'openssl-email', req: ['-subj', '/CN=d', '-addext', 'subjectAltName=email:ops@example.com'], expect: 0},
];

describe('sign: hostile CSRs end in exit 0, 2 or 4, never 1', () => {
  const tmp = tempDir();
  const dir = join(tmp, 'pki');
  before(async () => {
    assert.equal((await runCli(['gen-ca', '--dir', dir])).code, 0);
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', join(tmp, 'k.pem')]);
  });

  it(`${CASES.length} requests, two at a time`, async () => {
    const results: string[] = [];
    const runOne = async (c: Case): Promise<void> => {
      const csr = join(tmp, `${c.id}.csr`);
      if (c.pem) writeFileSync(csr, c.pem);
      else {
        const r = openssl(['req', '-new', '-key', join(tmp, 'k.pem'), '-out', csr, ...c.req!]);
        assert.equal(r.code, 0, `${c.id}: openssl req failed: ${r.stderr}`);
      }
      const out = join(tmp, `out-${c.id}`);
      const r = await runCli(['sign', csr, '--dir', dir, '--out', out, '--json']);
      assert.ok([0, 2, 4].includes(r.code), `${c.id}: exit ${r.code}: ${r.stderr}${r.stdout}`);
      assert.equal(r.code, c.expect, `${c.id}: ${r.stderr}${r.stdout}`);
      if (r.code === 0) {
        const pem = readFileSync(join(out, 'certificate.crt'), 'utf8');
        const x = new X509Certificate(pem);
        assert.ok(x.subject.length > 0 || x.subjectAltName, c.id);
        // OpenSSL parses and prints it (RFC 2253), with no raw control character.
        const printed = openssl(['x509', '-noout', '-subject', ...(x.subjectAltName ? ['-ext', 'subjectAltName'] : []), '-nameopt', 'RFC2253'], {input: pem});
        assert.equal(printed.code, 0, `${c.id}: ${printed.stderr}`);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: checking for them
        assert.doesNotMatch(printed.stdout.replace(/\n/g, ''), /[\u0000-\u001f\u007f]/, c.id);
      } else {
        const err = JSON.stringify(r.json ?? r.stderr);
        if (c.names) assert.match(JSON.parse(err).error?.message ?? err, c.names, `${c.id}: ${err}`);
      }
      results.push(c.id);
    };
    const queue = [...CASES];
    await Promise.all(
      [0, 1].map(async () => {
        for (let c = queue.shift(); c; c = queue.shift()) await runOne(c);
      }),
    );
    assert.equal(results.length, CASES.length);
  });

  it('gen-client --cn and --san refuse what sign refuses (one set of rules)', async () => {
    const out = join(tmp, 'gc');
    for (const [flags, pattern] of [
      [['--cn', 'dev\u001b[31m'], /control character U\+001B/],
      [['--cn', 'x'.repeat(65)], /at most 64/],
      [['--cn', 'd', '--san', 'uri:javascript:alert(1)'], /javascript: scheme/],
      [['--subject', 'C=USA,CN=d'], /C "USA"/],
    ] as Array<[string[], RegExp]>) {
      const r = await runCli(['gen-client', '--dir', dir, '--out', out, ...flags]);
      assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
    }
  });
});
