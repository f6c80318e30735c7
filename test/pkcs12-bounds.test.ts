/**
 * Bounds on the work a hostile PKCS#12 file can ask for (PKCS12_LIMITS in
 * src/lib/x509/pkcs12.ts): one test per bound. Each file is refused with PKCS12_LIMIT
 * before the work is done; no test asserts a time.
 */
import assert from 'node:assert/strict';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {before, describe, it} from 'node:test';
import {isMtlsKitError} from '../src/lib/errors.js';
import {PKCS12_LIMITS, parsePkcs12} from '../src/lib/x509/pkcs12.js';
import {encode, type Node, parseTree} from './support/asn1-tree.js';
import {runCli} from './support/cli.js';
import {openssl} from './support/openssl.js';
import {tempDir} from './support/tmp.js';

const ID_DATA = Buffer.from('06092a864886f70d010701', 'hex');
const SAFE_CONTENTS_BAG = Buffer.from('060b2a864886f70d010c0a0106', 'hex');
const seq = (...children: Node[]): Node => ({tag: 0x30, children});
const raw = (der: Buffer): Node => parseTree(der)[0]!;
const octet = (content: Uint8Array): Node => ({tag: 0x04, content});
const explicit0 = (n: Node): Node => ({tag: 0xa0, children: [n]});
const int = (bytes: number[]): Node => ({tag: 0x02, content: Uint8Array.from(bytes)});
/** A PFX without MAC or encryption whose authSafe holds `safeContents`. */
const plainPfx = (safeContents: Node): Buffer => {
  const authSafe = seq(seq(raw(ID_DATA), explicit0(octet(encode(safeContents)))));
  return encode(seq(int([3]), seq(raw(ID_DATA), explicit0(octet(encode(authSafe))))));
};

const SHROUDED_KEY_BAG = Buffer.from('060b2a864886f70d010c0a0102', 'hex');
const oidOf = (n: Node): Buffer => encode(n.children![0]!);

/** The PFX without its MacData (so the bags' own derivations are reached). */
function withoutMac(der: Buffer): Buffer {
  const [pfx] = parseTree(der);
  pfx!.children!.splice(2);
  return encode(pfx!);
}

/** The pkcs8ShroudedKeyBag of a PFX whose key sits in a plain (id-data) ContentInfo, as OpenSSL writes it. */
function shroudedKeyBag(der: Buffer): Node {
  const [pfx] = parseTree(der);
  const authSafe = parseTree(pfx!.children![1]!.children![1]!.children![0]!.content!)[0]!;
  for (const ci of authSafe.children!) {
    if (!oidOf(ci).equals(ID_DATA)) continue;
    const bag = parseTree(ci.children![1]!.children![0]!.content!)[0]!.children!.find((b) => oidOf(b).equals(SHROUDED_KEY_BAG));
    if (bag) return bag;
  }
  throw new Error('no shrouded key bag');
}

function refused(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isMtlsKitError(e), String(e));
    assert.equal(e.code, 'PKCS12_LIMIT');
    assert.equal(e.exitCode, 4);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('PKCS#12 bounds', () => {
  const tmp = tempDir();
  let p12: Buffer;
  before(() => {
    openssl([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(tmp, 'k.pem'),
      '-out',
      join(tmp, 'c.pem'),
      '-subj',
      '/CN=x',
      '-days',
      '1',
    ]);
    openssl(['pkcs12', '-export', '-inkey', join(tmp, 'k.pem'), '-in', join(tmp, 'c.pem'), '-passout', 'pass:pw', '-out', join(tmp, 'a.p12')]);
    p12 = readFileSync(join(tmp, 'a.p12'));
  });

  it('the file as OpenSSL writes it is read (the bounds refuse no ordinary file)', () => {
    assert.equal(parsePkcs12(p12, 'pw', 'a.p12').certificates.length, 1);
  });

  it('a MAC iteration count of 2^31-1: inspect finishes, exit 4 PKCS12_LIMIT naming the count', async () => {
    const [pfx] = parseTree(p12);
    const macData = pfx!.children![2]!;
    macData.children![2] = int([0x7f, 0xff, 0xff, 0xff]);
    const file = join(tmp, 'huge-mac.p12');
    writeFileSync(file, encode(pfx!));
    refused(() => parsePkcs12(readFileSync(file), 'pw', file), /MAC iteration count 2147483647 is above mtls-kit's limit of 1,000,000/);
    const r = await runCli(['inspect', file, '--json'], {env: {MTLS_KIT_P12_PASSWORD: 'pw'}, timeoutMs: 60_000});
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.json?.error?.code ?? r.json?.code, 'PKCS12_LIMIT', r.stdout);
  });

  it('a zero or negative MAC iteration count is refused', () => {
    const [pfx] = parseTree(p12);
    pfx!.children![2]!.children![2] = int([0xff]);
    refused(() => parsePkcs12(encode(pfx!), 'pw', 'neg.p12'), /iteration count -1 is not a positive integer/);
  });

  it('a PBKDF2 iteration count above the cap (openssl pkcs12 -iter) is refused before deriving', () => {
    const file = join(tmp, 'iter.p12');
    openssl([
      'pkcs12',
      '-export',
      '-inkey',
      join(tmp, 'k.pem'),
      '-in',
      join(tmp, 'c.pem'),
      '-passout',
      'pass:pw',
      '-nomac',
      '-iter',
      String(PKCS12_LIMITS.maxIterations + 1),
      '-out',
      file,
    ]);
    refused(() => parsePkcs12(withoutMac(readFileSync(file)), 'pw', file), /PBKDF2 iteration count 1000001 is above/);
  });

  it('the total over a file is bounded: a sixth derivation at the cap is refused', () => {
    // openssl's key bag at the cap, copied six times into a PFX without MAC or encryption:
    // five derivations fit the 5,000,000 total, the sixth does not.
    const file = join(tmp, 'cap.p12');
    openssl([
      'pkcs12',
      '-export',
      '-inkey',
      join(tmp, 'k.pem'),
      '-in',
      join(tmp, 'c.pem'),
      '-passout',
      'pass:pw',
      '-nomac',
      '-iter',
      String(PKCS12_LIMITS.maxIterations),
      '-out',
      file,
    ]);
    const keyBag = shroudedKeyBag(readFileSync(file));
    const bags = Array.from({length: 6}, () => keyBag);
    refused(() => parsePkcs12(plainPfx(seq(...bags)), 'pw', 'six.p12'), /more than 5,000,000 key-derivation iterations in all/);
  });

  it('more than maxBags bags is refused', () => {
    // Tiny certificate values: many real certificates hit the ASN.1 decoder's own node limit first (also exit 4).
    const certBag = (): Node =>
      seq(
        raw(Buffer.from('060b2a864886f70d010c0a0103', 'hex')),
        explicit0(seq(raw(Buffer.from('060a2a864886f70d01091601', 'hex')), explicit0(octet(Uint8Array.from([0x30, 0x00]))))),
      );
    const bags = Array.from({length: PKCS12_LIMITS.maxBags + 1}, certBag);
    refused(() => parsePkcs12(plainPfx(seq(...bags)), '', 'many.p12'), /more than 1000 bags/);
    assert.equal(parsePkcs12(plainPfx(seq(...bags.slice(0, 3))), '', 'few.p12').certificates.length, 3);
  });

  it('SafeContents nested deeper than maxNesting is refused', () => {
    let inner: Node = seq();
    for (let i = 0; i <= PKCS12_LIMITS.maxNesting; i++) inner = seq(seq(raw(SAFE_CONTENTS_BAG), explicit0(inner)));
    refused(() => parsePkcs12(plainPfx(inner), '', 'deep.p12'), /nested more than 4 deep/);
  });

  it('a file above maxBytes is refused before it is parsed', () => {
    refused(() => parsePkcs12(Buffer.alloc(PKCS12_LIMITS.maxBytes + 1, 0x30), 'pw', 'big.p12'), /bytes is more than mtls-kit reads as PKCS#12/);
  });
});
