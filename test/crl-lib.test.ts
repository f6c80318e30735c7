import assert from 'node:assert/strict';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {buildCrl, findRevoked, loadCrl, parseCrlNumberFile, formatCrlNumberFile} from '../src/lib/x509/crl.js';
import {TAG, tlv} from '../src/lib/x509/der.js';
import {generateKeyPair, issueCertificate} from '../src/lib/x509/issue.js';
import {lintFiles, lintFilesKeepingCrls} from '../src/lib/alb/lint.js';
import {summarizeCrl, summarizeLoadedCrl} from '../src/lib/deploy/crl-summary.js';
import {KEY_TYPES, PROFILES} from '../src/lib/x509/profiles.js';
import {crlEntriesFromIndex, crlEntriesFromIndexText, revokeInIndex} from '../src/lib/pki/revoke.js';
import {parseIndex} from '../src/lib/x509/index-db.js';
import {newSerialHex} from '../src/lib/x509/serial.js';
import {makeTestCaIn} from './support/test-pki.js';
import {runCli} from './support/cli.js';
import {openssl} from './support/openssl.js';
import {tempDir} from './support/tmp.js';

const work = tempDir();
const day = 86_400_000;

describe('crl lib', () => {
  it('round-trips entries, reasons and the CRL number; leaves out negative serials', async () => {
    const ca = await makeTestCaIn(work, {keyType: 'rsa-2048'});
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const built = buildCrl({
      issuer: ca.issuer.cert,
      issuerKey: ca.issuer.key,
      entries: [
        {serial: '03A5B1', revokedAt: now, reason: 'keyCompromise'},
        {serial: 'FEF257372D5C14D4', revokedAt: now, reason: 'superseded'},
        {serial: '-01', revokedAt: now},
        {serial: '0F', revokedAt: now, reason: 'unspecified'},
      ],
      crlNumber: 0x1234n,
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + day),
    });
    assert.deepEqual(built.skippedNegative, ['-01']);
    const crl = loadCrl(new TextEncoder().encode(built.pem), 'x.pem');
    assert.equal(crl.entryCount, 3);
    assert.equal(crl.crlNumber, 0x1234n);
    assert.equal(crl.version, 2);
    assert.equal(findRevoked(crl, 'FEF257372D5C14D4')?.reason, 'superseded');
    assert.equal(findRevoked(crl, '0F')?.reason, undefined);
    assert.equal(findRevoked(crl, '03A5B1')?.revokedAt.getTime(), now.getTime());
    assert.equal(loadCrl(built.der, 'x.der').format, 'der');
    assert.equal(parseCrlNumberFile(formatCrlNumberFile(255n)), 255n);
    assert.equal(formatCrlNumberFile(255n), 'FF\n');
    assert.equal(parseCrlNumberFile(undefined), 1n);
  });

  it('malformed CRLs throw BAD_CRL with the file name, never anything else', () => {
    for (const bad of ['-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n', '-----BEGIN X509 CRL-----\nMIIB', 'garbage', '\x30\x03\x02\x01\x01']) {
      assert.throws(
        () => loadCrl(new TextEncoder().encode(bad), 'bad.crl'),
        (e: Error & {code?: string}) => e.code === 'BAD_CRL' && /bad\.crl/.test(e.message),
      );
    }
  });

  it('the fast index reader gives what parseIndex + crlEntriesFromIndex give', () => {
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    let entries = parseIndex('V\t300101000000Z\t\t0A\tunknown\t/CN=a\nV\t300101000000Z\t\t0B\tunknown\t/CN=b\n', 'i');
    const r = revokeInIndex({entries, serial: '0A', reason: 'keyCompromise', now, force: false});
    assert.equal(r.outcome, 'revoked');
    if (r.outcome === 'revoked') entries = r.entries;
    assert.equal(revokeInIndex({entries, serial: '0A', reason: 'superseded', now, force: false}).outcome, 'already-revoked');
    assert.equal(revokeInIndex({entries, serial: '0C', reason: 'superseded', now, force: false}).outcome, 'unknown');
    const text = entries.map((e) => `${e.status}\t300101000000Z\t${e.revokedAt ? '261121000000Z,keyCompromise' : ''}\t${e.serial}\tunknown\t/CN=x\n`).join('');
    assert.deepEqual(crlEntriesFromIndexText(text, 'i'), crlEntriesFromIndex(parseIndex(text, 'i')));
    assert.throws(() => crlEntriesFromIndexText('R\tbad\n', 'index.txt'), /index\.txt line 1/);
  });

  it('the fast index reader agrees with parseIndex on odd but valid lines and refuses what it refuses', () => {
    const good = [
      'R\t300101000000Z\t261121000000Z\t0a\tunknown\t/CN=lowercase serial',
      'R\t300101000000Z\t261121000000Z,superseded,extra\tABC\tunknown\t/CN=odd length, a third comma field',
      'R\t300101000000Z\t20261121000000Z,unspecified\t7F\tunknown\t/CN=four-digit year\twith a tab',
      'V\t300101000000Z\t\t01\tunknown\t/CN=valid',
      'E\t200101000000Z\t\t02\tunknown\t/CN=expired',
      'R\t300101000000Z\t261121000000Z,CACompromise\tFF00\tunknown\t/CN=last line, no newline',
    ];
    for (let n = 1; n <= good.length; n++) {
      const text = good.slice(0, n).join('\n') + (n < good.length ? '\n' : '');
      assert.deepEqual(crlEntriesFromIndexText(text, 'i'), crlEntriesFromIndex(parseIndex(text, 'i')), text);
    }
    const bad = [
      'R',
      'R\t300101000000Z',
      'R\t300101000000Z\t261121000000Z',
      'RX\t300101000000Z\t261121000000Z\t0A\tu\t/CN=x',
      'R\t300101000000Z\t\t0A\tu\t/CN=x',
      'R\t300101000000Z\t261121000000Z,noSuchReason\t0A\tu\t/CN=x',
      'R\t300101000000Z\t,keyCompromise\t0A\tu\t/CN=x',
    ];
    for (const line of bad) assert.throws(() => crlEntriesFromIndexText(`V\t300101000000Z\t\t01\tunknown\t/CN=v\n${line}\n`, 'index.txt'), /index\.txt/, line);
  });
});

describe('CRL processing errors', () => {
  it('an unknown critical CRL extension: ClientCertCrlProcessingError, openssl agrees, lint flags it', async () => {
    const ca = await makeTestCaIn(work, {intermediate: true});
    const g = await runCli(['gen-client', '--dir', ca.dir, '--cn', 'c1', '--out', join(work, 'c1')]);
    assert.equal(g.code, 0, g.stderr);
    const now = new Date(Date.now() - 60_000);
    const built = buildCrl({
      issuer: ca.issuer.cert,
      issuerKey: ca.issuer.key,
      entries: [],
      crlNumber: 1n,
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + day),
      extraExtensions: [{oid: '1.3.6.1.4.1.99999.1', critical: true, value: tlv(TAG.NULL)}],
    });
    const file = join(work, 'crit.pem');
    writeFileSync(file, built.pem);
    const chain = join(work, 'c1/chain.pem');
    const r = await runCli(['verify', chain, '--trust-store', ca.bundle, '--crl', file, '--json']);
    assert.equal(r.json.status, 'Failed:ClientCertCrlProcessingError');
    assert.match(r.json.checks.find((c: {name: string; ok: boolean}) => c.name === 'crl' && !c.ok).detail, /critical extension/);
    const o = openssl(['verify', '-CAfile', ca.bundle, '-crl_check', '-CRLfile', file, join(work, 'c1/certificate.crt')]);
    assert.notEqual(o.code, 0);
    assert.match(o.stdout + o.stderr, /unhandled critical CRL extension/);
    const lint = lintFiles(
      [
        {path: file, data: readFileSync(file)},
        {path: ca.bundle, data: readFileSync(ca.bundle)},
      ],
      {target: 'alb', now: new Date(), warnDays: 0},
    );
    assert.ok(lint.findings.some((f) => f.rule === 'crl-critical-extension' && f.severity === 'error'));
  });

  it('lint hands back the CRLs it parsed (deploy summarises them without parsing again), none for a broken one', async () => {
    const ca = await makeTestCaIn(work);
    const now = new Date(Date.now() - 60_000);
    const good = buildCrl({
      issuer: ca.issuer.cert,
      issuerKey: ca.issuer.key,
      entries: [{serial: '0A', revokedAt: now}],
      crlNumber: 7n,
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + day),
    });
    const broken = Buffer.from('-----BEGIN X509 CRL-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A\n-----END X509 CRL-----\n');
    const inputs = [
      {path: ca.bundle, data: readFileSync(ca.bundle)},
      {path: 'good.pem', data: Buffer.from(good.pem)},
      {path: 'broken.pem', data: broken},
    ];
    const r = lintFilesKeepingCrls(inputs, {target: 'alb', now: new Date(), warnDays: 0});
    assert.equal(r.crls.length, 3);
    assert.equal(r.crls[0], undefined);
    assert.equal(r.crls[2], undefined);
    assert.ok(r.findings.some((f) => f.file === 'broken.pem' && f.rule === 'crl-invalid'));
    assert.deepEqual(summarizeLoadedCrl(r.crls[1]!), summarizeCrl(inputs[1]!.data, 'good.pem'));
    const {crls: _crls, ...plain} = r;
    assert.deepEqual(
      lintFiles(inputs, {target: 'alb', now: new Date(), warnDays: 0}).findings.map((f) => f.rule),
      plain.findings.map((f) => f.rule),
    );
  });

  it('verify with a malformed CRL file: exit 4 naming the file', async () => {
    const ca = await makeTestCaIn(work);
    const bad = join(work, 'broken.crl');
    writeFileSync(bad, '-----BEGIN X509 CRL-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A\n-----END X509 CRL-----\n');
    const r = await runCli(['verify', ca.bundle, '--trust-store', ca.bundle, '--crl', bad]);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /broken\.crl/);
  });
});

describe('lint quotas', () => {
  it('more than 25 CAs is an error for ALB, fine for API Gateway', () => {
    const spec = KEY_TYPES['ec-p256'];
    const now = new Date();
    let pem = '';
    for (let i = 0; i < 26; i++) {
      const k = generateKeyPair(spec);
      pem += issueCertificate({
        subject: [[{type: '2.5.4.3', value: `CA ${i}`}]],
        issuerKey: k.privateKey,
        issuerSpec: spec,
        publicKey: k.publicKey,
        subjectSpec: spec,
        serialHex: newSerialHex(),
        notBefore: now,
        notAfter: new Date(now.getTime() + 400 * day),
        profile: PROFILES.root,
      }).pem;
    }
    const input = [{path: 'many.pem', data: new TextEncoder().encode(pem)}];
    const alb = lintFiles(input, {target: 'alb', now, warnDays: 30});
    assert.ok(alb.findings.some((f) => f.rule === 'too-many-cas'));
    const apigw = lintFiles(input, {target: 'apigw', now, warnDays: 30});
    assert.equal(apigw.errors, 0, JSON.stringify(apigw.findings));
  });
});
