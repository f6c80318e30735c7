/**
 * The classes where AWS-LC (the library under s2n-tls on ALB and NLB) and OpenSSL 3 disagree,
 * each confirmed by asking the binaries (support/aws-stack.ts) and not from memory, and
 * mtls-kit's verdict (ALB's policy) agreeing with AWS-LC on every one (aws-reference 12.2):
 * CA-ness without basicConstraints at every depth, the handled critical-extension set,
 * indirect CRLs, name-constraint syntax, CRL entry semantics, the trust anchor excluded from
 * the purpose check, the path ending at the first trust-store certificate, and s2n's
 * host-information check in a real s2n handshake.
 */
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {ALB_POLICY, judgeChain, loadCrl, type LoadedCrl, prepareTrustStore} from '../src/lib/alb/verify.js';
import {withRules} from '../src/lib/alb/policy.js';
import {readCertificates} from '../src/lib/x509/read-certs.js';
import '../src/io/files.js'; // registers OpenSSL's CRL parse gate, as every command has it
import {awslcVerdict, awsStackSkip, type S2nServer, startS2nd} from './support/aws-stack.js';
import {tempDir} from './support/tmp.js';
import {type Built, ca, cert, client, crl, crlExt, EKU, ext, name} from './support/x509-builder.js';

const skip = awsStackSkip();

interface Case {
  name: string;
  /** Trust store, presented intermediates (after the leaf), leaf, CRLs (PEM). */
  store: Built[];
  intermediates?: Built[];
  leaf: Built;
  crls?: string[];
  /** What AWS-LC (as s2n asks it) says: the rule being confirmed. */
  aws: 'OK' | 'FAIL';
  /** What `openssl verify -partial_chain -purpose sslclient` says, where it differs (documented). */
  openssl?: 'OK' | 'FAIL';
  /** Judge without ALB's key/version profile (aws-reference 4.1), to see the library rule alone. */
  noProfile?: boolean;
}

function cases(): Case[] {
  const root = ca('Class Root');
  const out: Case[] = [];
  const add = (c: Case): void => {
    out.push(c);
  };

  // CA-ness as AWS-LC's check_ca decides it, at every depth.
  for (const [label, extra] of [
    ['keyUsage keyCertSign', [ext.keyUsage(['keyCertSign', 'cRLSign'])]],
    ['Netscape sslCA cert type', [ext.nsCertType(0x04)]],
  ] as const) {
    const inter = ca(`Class No-BC Inter ${label}`, root, [], {extensions: [...extra]});
    add({
      name: `intermediate without basicConstraints (${label}) is not a CA`,
      store: [root],
      intermediates: [inter],
      leaf: client('c-nobc', inter),
      aws: 'FAIL',
    });
  }
  const noBcRoot = cert({subject: 'Class No-BC Root', extensions: [ext.keyUsage(['keyCertSign', 'cRLSign'])]});
  add({name: 'trust anchor without basicConstraints is not a CA', store: [noBcRoot], leaf: client('c-nobc-root', noBcRoot), aws: 'FAIL', openssl: 'OK'});
  const v1Root = cert({subject: 'Class V1 Root', version: 1});
  // (ALB's own profile then refuses the v1 certificate: ClientCertTypeUnsupported, aws-reference 4.1.)
  add({name: 'v1 self-signed root is a CA', store: [v1Root], leaf: client('c-v1root', v1Root), aws: 'OK', noProfile: true});

  // The handled critical-extension set.
  add({name: 'critical RFC 3779 ipAddrBlocks is unhandled', store: [root], leaf: client('c-3779', root, [ext.ipAddrBlocks()]), aws: 'FAIL'});
  add({name: 'critical proxyCertInfo is unhandled', store: [root], leaf: client('c-proxy', root, [ext.proxyCertInfo()]), aws: 'FAIL'});
  add({name: 'critical OCSP no-check is unhandled', store: [root], leaf: client('c-nocheck', root, [ext.ocspNoCheck()]), aws: 'FAIL', openssl: 'OK'});
  add({name: 'non-critical proxyCertInfo is ignored', store: [root], leaf: client('c-proxy-nc', root, [ext.proxyCertInfo(false)]), aws: 'OK'});

  // CRLs: usability and entry semantics (s2n: CRL_CHECK_ALL; a 2-certificate chain so one CRL covers both).
  const crlRoot = ca('Class CRL Root');
  const okLeaf = client('c-crl-ok', crlRoot);
  add({name: 'a direct CRL that does not list the leaf', store: [crlRoot], leaf: okLeaf, crls: [crl({issuer: crlRoot})], aws: 'OK'});
  const revoked = client('c-crl-revoked', crlRoot);
  add({
    name: 'a direct CRL that lists the leaf',
    store: [crlRoot],
    leaf: revoked,
    crls: [crl({issuer: crlRoot, entries: [{serial: revoked.serial}]})],
    aws: 'FAIL',
  });
  add({
    name: 'an indirect CRL (issuingDistributionPoint indirectCRL) is never used as a direct one',
    store: [crlRoot],
    leaf: client('c-crl-indirect', crlRoot),
    crls: [crl({issuer: crlRoot, extensions: [crlExt.indirectIdp()]})],
    aws: 'FAIL',
  });
  const removed = client('c-crl-remove', crlRoot);
  add({
    name: 'a removeFromCRL entry still revokes',
    store: [crlRoot],
    leaf: removed,
    crls: [crl({issuer: crlRoot, entries: [{serial: removed.serial, extensions: [crlExt.reason(8)]}]})],
    aws: 'FAIL',
    openssl: 'OK',
  });
  add({
    name: 'a critical certificateIssuer entry extension makes the CRL unusable',
    store: [crlRoot],
    leaf: client('c-crl-certissuer', crlRoot),
    crls: [crl({issuer: crlRoot, entries: [{serial: 0x7fff, extensions: [crlExt.certificateIssuer(crlRoot)]}]})],
    aws: 'FAIL',
  });
  add({
    name: 'a v1 CRL carrying extensions does not load',
    store: [crlRoot],
    leaf: client('c-crl-v1ext', crlRoot),
    crls: [crl({issuer: crlRoot, version: 1, extensions: [crlExt.crlNumber(1)]})],
    aws: 'FAIL',
  });

  // Name-constraint syntax.
  const ipNc = ca('Class NC IP mask', root, [ext.nameConstraints([{tag: 0x87, value: Uint8Array.of(10, 0, 0, 0, 255, 0, 255, 0)}])]);
  add({
    name: 'a non-contiguous IP mask is invalid syntax',
    store: [root, ipNc],
    leaf: client('c-nc-ip', ipNc, [ext.subjectAltName([[0x87, Uint8Array.of(10, 0, 0, 1)]])]),
    aws: 'FAIL',
  });
  const minNc = ca('Class NC min 0', root, [ext.nameConstraints([{tag: 0x82, value: 'example.com', minimum: 0}])]);
  add({
    name: 'an explicit minimum of 0 is refused',
    store: [root, minNc],
    leaf: client('c-nc-min', minNc, [ext.subjectAltName([[0x82, 'a.example.com']])]),
    aws: 'FAIL',
    openssl: 'OK',
  });
  const exNc = ca('Class NC excluded', root, [ext.nameConstraints([], [{tag: 0x82, value: 'bad.example.com'}])]);
  add({
    name: 'a wildcard SAN under an excluded subtree is excluded',
    store: [root, exNc],
    leaf: client('c-nc-wild', exNc, [ext.subjectAltName([[0x82, '*.example.com']])]),
    aws: 'FAIL',
    openssl: 'OK',
  });
  const dotNc = ca('Class NC dot', root, [ext.nameConstraints([{tag: 0x82, value: 'example.com'}])]);
  add({
    name: 'a trailing-dot DNS SAN inside a permitted subtree is accepted',
    store: [root, dotNc],
    leaf: client('c-nc-dot', dotNc, [ext.subjectAltName([[0x82, 'host.example.com.']])]),
    aws: 'OK',
    openssl: 'FAIL',
  });

  // The purpose: s2n skips the trust anchor; the path ends at the first trust-store certificate.
  const serverRoot = ca('Class ServerAuth Root', undefined, [ext.extKeyUsage([EKU.serverAuth])]);
  add({
    name: 'a root whose EKU is serverAuth only still accepts clients (anchor excluded)',
    store: [serverRoot],
    leaf: client('c-anchor-eku', serverRoot),
    aws: 'OK',
    openssl: 'FAIL',
  });
  const serverInter = ca('Class ServerAuth Inter', root, [ext.extKeyUsage([EKU.serverAuth])]);
  add({
    name: 'an intermediate whose EKU is serverAuth only refuses clients',
    store: [root],
    intermediates: [serverInter],
    leaf: client('c-inter-eku', serverInter),
    aws: 'FAIL',
  });
  const expiredRoot = ca('Class Expired Root', undefined, [], {
    notBefore: new Date(Date.now() - 400 * 86_400_000),
    notAfter: new Date(Date.now() - 86_400_000),
  });
  const storeInter = ca('Class Store Inter', expiredRoot);
  add({
    name: 'an expired root above a trust-store intermediate is never judged',
    store: [storeInter, expiredRoot],
    leaf: client('c-above', storeInter),
    aws: 'OK',
  });
  return out;
}

function opensslOk(dir: string, c: Case): boolean {
  const args = ['verify', '-partial_chain', '-purpose', 'sslclient', '-CAfile', join(dir, 'ca.pem')];
  if (c.intermediates?.length) args.push('-untrusted', join(dir, 'untrusted.pem'));
  if (c.crls?.length) args.push('-crl_check_all', '-CRLfile', join(dir, 'crl.pem'));
  args.push(join(dir, 'leaf.pem'));
  return spawnSync('openssl', args, {encoding: 'utf8'}).status === 0;
}

function mtlsOk(c: Case): {ok: boolean; status: string} {
  let crls: LoadedCrl[];
  try {
    crls = (c.crls ?? []).map((p, i) => loadCrl(Buffer.from(p), `crl-${i}.pem`));
  } catch (error) {
    return {ok: false, status: `CRL refused: ${(error as Error).message}`};
  }
  const chain = readCertificates(Buffer.from([c.leaf, ...(c.intermediates ?? [])].map((b) => b.pem).join('')), 'chain.pem');
  const store = prepareTrustStore(readCertificates(Buffer.from(c.store.map((b) => b.pem).join('')), 'ca.pem'));
  const r = judgeChain(chain, c.noProfile ? withRules(ALB_POLICY, {profile: 'none'}) : ALB_POLICY, {trustStore: store, crls, at: new Date()});
  return {ok: r.code === null, status: r.status};
}

describe('AWS-LC, not OpenSSL: each class confirmed with the binaries, mtls-kit agreeing', {skip}, () => {
  const tmp = tempDir();
  const all = cases();
  all.forEach((c, i) => {
    it(c.name, async () => {
      const dir = join(tmp, String(i));
      mkdirSync(dir, {recursive: true});
      writeFileSync(join(dir, 'ca.pem'), c.store.map((b) => b.pem).join(''));
      writeFileSync(join(dir, 'leaf.pem'), c.leaf.pem);
      if (c.intermediates?.length) writeFileSync(join(dir, 'untrusted.pem'), c.intermediates.map((b) => b.pem).join(''));
      if (c.crls?.length) writeFileSync(join(dir, 'crl.pem'), c.crls.join(''));
      const aws = await awslcVerdict(
        {
          ca: join(dir, 'ca.pem'),
          leaf: join(dir, 'leaf.pem'),
          ...(c.intermediates?.length ? {untrusted: join(dir, 'untrusted.pem')} : {}),
          ...(c.crls?.length ? {crl: join(dir, 'crl.pem')} : {}),
        },
        new Date(),
      );
      assert.equal(aws.ok ? 'OK' : 'FAIL', c.aws, `AWS-LC says ${aws.line}`);
      const m = mtlsOk(c);
      assert.equal(m.ok, aws.ok, `mtls-kit ${m.status}, AWS-LC ${aws.line}`);
      if (c.openssl) assert.equal(opensslOk(dir, c) ? 'OK' : 'FAIL', c.openssl, 'OpenSSL 3 differs from AWS-LC here (aws-reference 12.2)');
    });
  });
});

describe("s2n-tls's own checks in a real s2n handshake (s2nd --mutualAuth)", {skip}, () => {
  const tmp = tempDir();
  const root = ca('Handshake Root');
  const serverRoot = ca('Handshake ServerAuth Root', undefined, [ext.extKeyUsage([EKU.serverAuth])]);
  let s2n: S2nServer | undefined;
  const write = (file: string, text: string): string => {
    writeFileSync(join(tmp, file), text, {mode: 0o600});
    return join(tmp, file);
  };
  const keyPem = (b: Built): string => b.key.privateKey.export({type: 'pkcs8', format: 'pem'}).toString();

  before(async () => {
    const server = cert({
      subject: 'localhost',
      issuer: root,
      extensions: [ext.keyUsage(['digitalSignature']), ext.extKeyUsage([EKU.serverAuth]), ext.subjectAltName([[0x82, 'localhost']])],
    });
    s2n = await startS2nd({
      trustStore: write('store.pem', root.pem + serverRoot.pem),
      cert: write('server.pem', server.pem),
      key: write('server.key', keyPem(server)),
    });
  });
  after(() => s2n?.stop());

  const judge = (leaf: Built, anchors: Built[]) =>
    judgeChain(readCertificates(Buffer.from(leaf.pem), 'leaf.pem'), ALB_POLICY, {
      trustStore: prepareTrustStore(readCertificates(Buffer.from(anchors.map((a) => a.pem).join('')), 'ca.pem')),
      at: new Date(),
    });
  const shake = async (leaf: Built, tls: '1.2' | '1.3' = '1.3') =>
    s2n!.handshake({cert: write(`${leaf.serial}.pem`, leaf.pem), key: write(`${leaf.serial}.key`, keyPem(leaf)), tls});

  it('a plain client is accepted by s2n and by mtls-kit, with no host-information warning', async () => {
    const leaf = client('device-1', root);
    const h = await shake(leaf);
    assert.ok(h.ok, h.line);
    const r = judge(leaf, [root]);
    assert.equal(r.status, 'Success');
    assert.ok(!r.checks.some((c) => c.name === 'host-information'));
  });

  it("a CN that is an IP address with no SAN fails s2n's host-information check; mtls-kit warns and names the uncertainty", async () => {
    const leaf = cert({subject: name('10.0.0.1'), issuer: root, extensions: [ext.keyUsage(['digitalSignature']), ext.extKeyUsage([EKU.clientAuth])]});
    for (const tls of ['1.2', '1.3'] as const) {
      const h = await shake(leaf, tls);
      assert.ok(!h.ok, `s2n accepted over TLS ${tls}: ${h.line}`);
    }
    const r = judge(leaf, [root]);
    assert.equal(r.status, 'Success', 'ALB policy: warn, not fail (policy.ts S2N_HOST_INFORMATION_RULE)');
    const w = r.checks.find((c) => c.name === 'host-information');
    assert.ok(w?.uncertain, JSON.stringify(r.checks));
    assert.match(w.detail, /s2n-tls 1\.7\.4\+ refuses .*ALB's behaviour is not documented/);
    assert.ok(r.warnings.some((x) => x.includes('10.0.0.1')));
    // The same CN with a DNS SAN passes s2n: the check looks at SANs first.
    const withSan = cert({
      subject: name('10.0.0.1'),
      issuer: root,
      extensions: [ext.keyUsage(['digitalSignature']), ext.extKeyUsage([EKU.clientAuth]), ext.subjectAltName([[0x82, 'device.example.com']])],
    });
    assert.ok((await shake(withSan)).ok);
    assert.ok(!judge(withSan, [root]).checks.some((c) => c.name === 'host-information'));
  });

  for (const [label, cn] of [
    ['an empty CN', ''],
    ['a CN over 254 bytes', `${'a'.repeat(300)}.example.com`],
    ['an IPv6 CN', '2001:db8::1'],
  ] as const) {
    it(`${label} without SAN: s2n refuses, mtls-kit warns`, async () => {
      const leaf = cert({subject: name(cn), issuer: root, extensions: [ext.keyUsage(['digitalSignature']), ext.extKeyUsage([EKU.clientAuth])]});
      const h = await shake(leaf);
      assert.ok(!h.ok, h.line);
      const r = judge(leaf, [root]);
      assert.ok(r.checks.find((c) => c.name === 'host-information')?.uncertain, JSON.stringify(r.checks.map((c) => c.name)));
    });
  }

  it('a trust anchor whose EKU is serverAuth only: s2n accepts the client, and so does mtls-kit', async () => {
    const leaf = client('device-2', serverRoot);
    const h = await shake(leaf);
    assert.ok(h.ok, h.line);
    assert.equal(judge(leaf, [serverRoot]).status, 'Success');
  });
});
