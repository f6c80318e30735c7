/**
 * Header encoding and decoding (src/lib/alb/headers.ts) on certificates made by openssl.
 */
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {parseCertificate} from '../src/lib/x509/cert.js';
import {formatRfc2253} from '../src/lib/x509/dn.js';
import {isMtlsKitError} from '../src/lib/errors.js';
import {
  ALB_HEADERS,
  decodeHeaderSet,
  encodeApigwClientCert,
  encodeClientCertSub,
  encodePassthroughHeader,
  encodePemForHeader,
  encodeVerifyHeaders,
  type HeaderField,
  parseHeaderMap,
  percentDecode,
  SPOOF_HINT,
} from '../src/lib/alb/headers.js';
import {readCertificates} from '../src/lib/x509/read-certs.js';
import {toPem} from '../src/lib/x509/pem.js';
import {buildCert} from './support/cert-builder.js';
import {opensslOk} from './support/openssl.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const dir = tempDir();
const pki = await makeTestCa(dir, {intermediate: true, maker: 'openssl', cn: 'Header Root'});
/** Python's urllib is a second, independent peer for the percent-encoding rules. */
const python = spawnSync('python3', ['--version']).status === 0;
const fields = (pairs: Array<[string, string]>): HeaderField[] => pairs.map(([name, value]) => ({name, value}));
const intermediate = readCertificates(new Uint8Array(Buffer.from(pki.intermediatePem!)), 'int')[0]!;
const root = readCertificates(new Uint8Array(Buffer.from(pki.rootPem)), 'root')[0]!;

/** A leaf whose base64 holds both "+" and "/" (aws-reference 1.3: ALB leaves them unescaped). */
function plusHeavyLeaf() {
  for (let i = 0; i < 50; i++) {
    const l = pki.opensslLeaf('/C=US/O=Plus+Slash/CN=plus-heavy');
    const b64 = Buffer.from(l.cert.der).toString('base64');
    if ((b64.match(/\+/g)?.length ?? 0) >= 2 && b64.includes('/')) return l;
  }
  throw new Error('no leaf with + and / in 50 tries');
}

describe('encoding-1.6)', () => {
  const leaf = pki.opensslLeaf('/C=EE/O=Test, Inc./OU=a+OU=b/CN=M\u00c4NNIK "x" <y>;z', {serial: '0x00FEF257372D5C14D4'});

  it("verify headers equal openssl's serial, RFC 2253 names and dates, in ALB order", () => {
    const h = encodeVerifyHeaders(leaf.cert);
    assert.deepEqual(
      h.map(([n]) => n),
      [ALB_HEADERS.serial, ALB_HEADERS.issuer, ALB_HEADERS.subject, ALB_HEADERS.validity, ALB_HEADERS.leaf],
    );
    const o = opensslOk(['x509', '-in', leaf.path, '-noout', '-serial', '-issuer', '-subject', '-nameopt', 'RFC2253']).split('\n');
    assert.equal(h[0]![1], o[0]!.replace('serial=', ''));
    assert.equal(h[0]![1], 'FEF257372D5C14D4');
    assert.equal(h[1]![1], o[1]!.replace('issuer=', ''));
    assert.equal(h[2]![1], o[2]!.replace('subject=', ''));
    assert.match(h[3]![1], /^NotBefore=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ;NotAfter=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('PEM is percent-encoded with + = / left alone and a trailing %0A', () => {
    const v = encodePemForHeader([leaf.cert.der]);
    assert.ok(v.startsWith('-----BEGIN%20CERTIFICATE-----%0AMII'));
    assert.ok(v.endsWith('%0A-----END%20CERTIFICATE-----%0A'));
    assert.ok(!/%2B|%3D|%2F/i.test(v));
    assert.ok(!/[ \n]/.test(v));
    assert.equal(decodeURIComponent(v), leaf.pem);
  });

  it('PEM encoding equals encodeURIComponent with + = / put back, for bytes of every length up to 400 and random chains', () => {
    const reference = (der: Uint8Array[]): string =>
      encodeURIComponent(der.map((d) => toPem(d, 'CERTIFICATE')).join('')).replace(/%2B|%3D|%2F/g, (m) => (m === '%2B' ? '+' : m === '%3D' ? '=' : '/'));
    for (let n = 1; n <= 400; n++) {
      const der = [randomBytes(n)];
      assert.equal(encodePemForHeader(der), reference(der), `length ${n}`);
    }
    const chain = [randomBytes(1200), randomBytes(900), randomBytes(3)];
    assert.equal(encodePemForHeader(chain), reference(chain));
  });

  it('PEM encoding equals Python urllib.parse.quote(pem, safe="+=/")', {skip: !python}, () => {
    const l = plusHeavyLeaf();
    const r = spawnSync('python3', ['-c', 'import sys, urllib.parse; sys.stdout.write(urllib.parse.quote(sys.stdin.read(), safe="+=/"))'], {
      input: l.pem,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(encodePemForHeader([l.cert.der]), r.stdout);
  });

  it('the Estonian ID-card capture comes out exactly', () => {
    // The same names, made by openssl, and the captured serial and dates.
    const ca = join(dir, 'esteid.pem');
    opensslOk([
      'req',
      '-x509',
      '-new',
      '-key',
      join(dir, 'root', 'ca.key'),
      '-subj',
      '/C=EE/O=SK ID Solutions AS/organizationIdentifier=NTREE-10747013/CN=ESTEID2018',
      '-days',
      '30',
      '-out',
      ca,
    ]);
    const l = pki.opensslLeaf('/C=EE/CN=M\u00c4NNIK,MARILIIS,47101010033/SN=M\u00c4NNIK/GN=MARILIIS/serialNumber=PNOEE-47101010033');
    const esteid = readCertificates(new Uint8Array(readFileSync(ca)), ca)[0]!;
    const built = parseCertificate(
      buildCert({
        subject: l.cert.subject,
        issuer: esteid.subject,
        serial: Buffer.from('12DB3F24BFFD390A5CAF1A8F2712DFB4', 'hex'),
        notBefore: new Date('2019-04-11T09:36:15Z'),
        notAfter: new Date('2024-04-10T21:59:59Z'),
      }).der,
    );
    const h = Object.fromEntries(encodeVerifyHeaders(built).map(([n, v]) => [n.toLowerCase(), v]));
    assert.equal(h['x-amzn-mtls-clientcert-serial-number'], '12DB3F24BFFD390A5CAF1A8F2712DFB4');
    assert.equal(h['x-amzn-mtls-clientcert-issuer'], 'CN=ESTEID2018,organizationIdentifier=NTREE-10747013,O=SK ID Solutions AS,C=EE');
    assert.equal(
      h['x-amzn-mtls-clientcert-subject'],
      'serialNumber=PNOEE-47101010033,GN=MARILIIS,SN=M\\C3\\84NNIK,CN=M\\C3\\84NNIK\\,MARILIIS\\,47101010033,C=EE',
    );
    assert.equal(h['x-amzn-mtls-clientcert-validity'], 'NotBefore=2019-04-11T09:36:15Z;NotAfter=2024-04-10T21:59:59Z');
  });

  it('API Gateway clientCert: forward-order DNs, OpenSSL date text, decimal serial', () => {
    const l = pki.opensslLeaf('/C=US/ST=Washington/L=Seattle/O=Amazon Web Services/OU=Security/CN=My Client', {serial: '1'});
    const c = encodeApigwClientCert(l.cert);
    assert.equal(c.subjectDN, 'C=US,ST=Washington,L=Seattle,O=Amazon Web Services,OU=Security,CN=My Client');
    assert.equal(c.issuerDN, 'C=US,O=Header Tests,CN=Header Intermediate');
    assert.equal(c.serialNumber, '1');
    assert.equal(c.clientCertPem, l.pem);
    const dates = opensslOk(['x509', '-in', l.path, '-noout', '-startdate', '-enddate']).split('\n');
    assert.equal(c.validity.notBefore, dates[0]!.replace('notBefore=', ''));
    assert.equal(c.validity.notAfter, dates[1]!.replace('notAfter=', ''));
    assert.deepEqual(encodeClientCertSub(l.cert), ['X-Client-Cert-Sub', 'C=US,ST=Washington,L=Seattle,O=Amazon Web Services,OU=Security,CN=My Client']);
  });
});

describe('decoding', () => {
  it('percent-decoding keeps "+" and accepts %3D and a literal =', () => {
    assert.equal(percentDecode('a+b%20c%3D%3D'), 'a+b c==');
    assert.equal(percentDecode('a+b=='), 'a+b==');
    assert.throws(() => percentDecode('abc%G1'), /bad percent-escape "%G1" at character 4/);
  });

  it('a +-heavy leaf survives decoding, byte for byte', () => {
    const l = plusHeavyLeaf();
    const set = decodeHeaderSet(fields(encodeVerifyHeaders(l.cert)))!;
    assert.equal(set.warnings.length, 0, JSON.stringify(set.warnings));
    assert.equal(set.mode, 'verify');
    assert.deepEqual(set.certificates[0]!.certificate.der, l.cert.der);
    assert.ok(set.checks.every((c) => c.matches === true));
    // AWS's own example escapes "=" as %3D (aws-reference 1.3 "Conflict"): also fine.
    const v = encodePemForHeader([l.cert.der]).replaceAll('=', '%3D');
    assert.deepEqual(decodeHeaderSet(fields([[ALB_HEADERS.leaf, v]]))!.certificates[0]!.certificate.der, l.cert.der);
  });

  it('a form-decoded leaf ("+" turned into spaces) is detected, explained and repaired', () => {
    const l = plusHeavyLeaf();
    const encoded = encodePemForHeader([l.cert.der]);
    // What URLSearchParams / querystring.parse do to ALB's value.
    const mangled = new URLSearchParams('v=' + encoded).get('v')!;
    assert.ok(mangled.includes(' ') && !mangled.includes('+'));
    const set = decodeHeaderSet(fields([[ALB_HEADERS.leaf, mangled]]))!;
    const w = set.warnings.find((x) => x.code === 'FORM_DECODED');
    assert.ok(w, JSON.stringify(set.warnings));
    assert.equal(w.header, ALB_HEADERS.leaf);
    assert.match(w.message, /form-decoded/);
    assert.match(w.message, /decodeURIComponent/);
    assert.deepEqual(set.certificates[0]!.certificate.der, l.cert.der);
  });

  it('a value mangled by Python unquote_plus is repaired; unquote decodes it as we do', {skip: !python}, () => {
    const l = plusHeavyLeaf();
    const v = encodePemForHeader([l.cert.der]);
    const py = (fn: string) =>
      spawnSync('python3', ['-c', `import sys, urllib.parse; sys.stdout.write(urllib.parse.${fn}(sys.stdin.read()))`], {input: v, encoding: 'utf8'}).stdout;
    assert.equal(percentDecode(v), py('unquote'));
    const set = decodeHeaderSet(fields([[ALB_HEADERS.leaf, py('unquote_plus')]]))!;
    assert.deepEqual(
      set.warnings.map((w) => w.code),
      ['FORM_DECODED'],
    );
    assert.deepEqual(set.certificates[0]!.certificate.der, l.cert.der);
  });

  it('a form-decoded subject is explained, not called a spoof', () => {
    const l = pki.opensslLeaf('/CN=a\\+b/O=x\\+y');
    const h = encodeVerifyHeaders(l.cert).map(([n, v]): [string, string] => [n, n === ALB_HEADERS.subject ? v.replaceAll('+', ' ') : v]);
    const set = decodeHeaderSet(fields(h))!;
    assert.deepEqual(
      set.warnings.map((w) => [w.header, w.code]),
      [[ALB_HEADERS.subject, 'FORM_DECODED']],
    );
  });

  it('the captured verify set decodes as shown there', () => {
    const set = decodeHeaderSet(
      fields([
        ['x-amzn-mtls-clientcert-serial-number', '12DB3F24BFFD390A5CAF1A8F2712DFB4'],
        ['x-amzn-mtls-clientcert-issuer', 'CN=ESTEID2018,organizationIdentifier=NTREE-10747013,O=SK ID Solutions AS,C=EE'],
        ['x-amzn-mtls-clientcert-subject', 'serialNumber=PNOEE-47101010033,GN=MARILIIS,SN=M\\C3\\84NNIK,CN=M\\C3\\84NNIK\\,MARILIIS\\,47101010033,C=EE'],
        ['x-amzn-mtls-clientcert-validity', 'NotBefore=2019-04-11T09:36:15Z;NotAfter=2024-04-10T21:59:59Z'],
        ['x-amzn-mtls-clientcert-leaf', '-----BEGIN%20CERTIFICATE-----REMOVED-----END%20CERTIFICATE-----%0A'],
      ]),
    )!;
    assert.equal(set.mode, 'verify');
    const text = Object.fromEntries(set.checks.map((c) => [c.role, c.text]));
    assert.equal(text.serial, '12DB3F24BFFD390A5CAF1A8F2712DFB4');
    assert.equal(text.issuer, 'CN=ESTEID2018, organizationIdentifier=NTREE-10747013, O=SK ID Solutions AS, C=EE');
    assert.equal(text.subject, 'serialNumber=PNOEE-47101010033, GN=MARILIIS, SN=MÄNNIK, CN="MÄNNIK,MARILIIS,47101010033", C=EE');
    assert.equal(text.validity, '2019-04-11T09:36:15Z → 2024-04-10T21:59:59Z');
    assert.ok(set.checks.every((c) => c.matches === null));
    // The author removed the certificate body: that header is named as undecodable.
    assert.deepEqual(
      set.warnings.map((w) => [w.header, w.code]),
      [['x-amzn-mtls-clientcert-leaf', 'MALFORMED_HEADER']],
    );
    assert.match(set.warnings[0]!.message, /not base64/);
  });

  it('the AWS documentation example decodes; its elided PEM is named as undecodable', () => {
    const set = decodeHeaderSet(
      fields([
        ['X-Amzn-Mtls-Clientcert-Serial-Number', '03A5B1'],
        ['X-Amzn-Mtls-Clientcert-Issuer', 'CN=rootcamtls.com,OU=rootCA,O=mTLS,L=Seattle,ST=Washington,C=US'],
        ['X-Amzn-Mtls-Clientcert-Subject', 'CN=client_.com,OU=client-3,O=mTLS,ST=Washington,C=US'],
        ['X-Amzn-Mtls-Clientcert-Validity', 'NotBefore=2023-09-21T01:50:17Z;NotAfter=2024-09-20T01:50:17Z'],
        ['X-Amzn-Mtls-Clientcert-Leaf', '-----BEGIN%20CERTIFICATE-----%0AMIIG<...reduced...>NmrUlw%0A-----END%20CERTIFICATE-----%0A'],
      ]),
    )!;
    assert.deepEqual(
      set.checks.map((c) => c.text),
      [
        '03A5B1',
        'CN=rootcamtls.com, OU=rootCA, O=mTLS, L=Seattle, ST=Washington, C=US',
        'CN=client_.com, OU=client-3, O=mTLS, ST=Washington, C=US',
        '2023-09-21T01:50:17Z → 2024-09-20T01:50:17Z',
      ],
    );
    assert.deepEqual(
      set.warnings.map((w) => [w.header, w.code]),
      [['X-Amzn-Mtls-Clientcert-Leaf', 'MALFORMED_HEADER']],
    );
    // The passthrough example escapes "=" as %3D; its elided body is just as undecodable.
    const chain = decodeHeaderSet(
      fields([
        [
          'X-Amzn-Mtls-Clientcert',
          '-----BEGIN%20CERTIFICATE-----%0AMIID<...reduced...>do0g%3D%3D%0A-----END%20CERTIFICATE-----%0A-----BEGIN%20CERTIFICATE-----%0AMIID1<...reduced...>3eZlyKA%3D%3D%0A-----END%20CERTIFICATE-----%0A',
        ],
      ]),
    )!;
    assert.equal(chain.mode, 'passthrough');
    assert.match(chain.warnings[0]!.message, /certificate 1 is not base64/);
  });

  it('headers that disagree with the leaf are named: edited or spoofed?', () => {
    const a = pki.opensslLeaf('/CN=alice');
    const b = pki.opensslLeaf('/CN=mallory');
    const h = encodeVerifyHeaders(a.cert).map(([n, v]): [string, string] => [
      n,
      n === ALB_HEADERS.subject ? formatRfc2253(b.cert.subject) : n === ALB_HEADERS.serial ? b.cert.serialHex : v,
    ]);
    const set = decodeHeaderSet(fields(h))!;
    const mism = set.warnings.filter((w) => w.code === 'MISMATCH');
    assert.deepEqual(mism.map((w) => w.header).sort(), [ALB_HEADERS.serial, ALB_HEADERS.subject].sort());
    for (const w of mism) assert.ok(w.message.includes(SPOOF_HINT));
    assert.equal(set.checks.find((c) => c.role === 'subject')!.matches, false);
    assert.equal(set.checks.find((c) => c.role === 'issuer')!.matches, true);
  });

  it('a duplicated mTLS header is reported', () => {
    const a = pki.opensslLeaf('/CN=dup');
    const h = encodeVerifyHeaders(a.cert);
    const set = decodeHeaderSet(fields([...h, [ALB_HEADERS.subject.toLowerCase(), 'CN=admin']]))!;
    const w = set.warnings.find((x) => x.code === 'DUPLICATE_HEADER');
    assert.ok(w);
    assert.match(w.message, /more than once with different values/);
    assert.ok(w.message.includes(SPOOF_HINT));
  });

  it('an undecodable text header is a warning naming it', () => {
    const a = pki.opensslLeaf('/CN=bad-validity');
    const h = encodeVerifyHeaders(a.cert).map(([n, v]): [string, string] => [n, n === ALB_HEADERS.validity ? 'yesterday' : v]);
    const set = decodeHeaderSet(fields(h))!;
    const codes = set.warnings.filter((w) => w.header === ALB_HEADERS.validity).map((w) => w.code);
    assert.deepEqual(codes.sort(), ['MALFORMED_HEADER', 'MISMATCH']);
  });

  it('the passthrough chain is split leaf first, in order', () => {
    const l = pki.opensslLeaf('/CN=chain-leaf');
    const [name, value] = encodePassthroughHeader([l.cert.der, intermediate.der, root.der]);
    const set = decodeHeaderSet(fields([[name, value]]))!;
    assert.equal(set.mode, 'passthrough');
    assert.deepEqual(
      set.certificates.map((c) => [c.position, Buffer.from(c.certificate.der).toString('base64')]),
      [l.cert, intermediate, root].map((c, i) => [i, Buffer.from(c.der).toString('base64')]),
    );
    assert.equal(set.warnings.length, 0);
  });

  it('verify-mode headers next to a passthrough chain are reported (one listener, one mode)', () => {
    const l = pki.opensslLeaf('/CN=mixed');
    const set = decodeHeaderSet(fields([encodePassthroughHeader([l.cert.der]), [ALB_HEADERS.subject, 'CN=admin']]))!;
    const w = set.warnings.find((x) => x.code === 'MIXED_MODES');
    assert.ok(w);
    assert.ok(w.message.includes(SPOOF_HINT));
    assert.equal(w.header, ALB_HEADERS.subject);
  });

  it('renamed headers (--header-map)', () => {
    const map = parseHeaderMap([
      'leaf=X-Client-Leaf,subject=X-Client-Subject',
      'routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name=X-Client-Serial',
      'X-Amzn-Mtls-Clientcert-Issuer=X-Client-Issuer',
    ]);
    assert.deepEqual(map, {leaf: 'X-Client-Leaf', subject: 'X-Client-Subject', serial: 'X-Client-Serial', issuer: 'X-Client-Issuer'});
    const l = pki.opensslLeaf('/CN=renamed');
    const h = encodeVerifyHeaders(l.cert, map);
    assert.deepEqual(
      h.map(([n]) => n),
      ['X-Client-Serial', 'X-Client-Issuer', 'X-Client-Subject', ALB_HEADERS.validity, 'X-Client-Leaf'],
    );
    const set = decodeHeaderSet(fields(h.map(([n, v]) => [n.toLowerCase(), v])), {map})!;
    assert.equal(set.checks.length, 4);
    assert.ok(set.checks.every((c) => c.matches));
    assert.deepEqual(set.certificates[0]!.certificate.der, l.cert.der);
    // Without the map, the renamed headers are not mTLS headers.
    assert.equal(decodeHeaderSet(fields([['X-Client-Leaf', h[4]![1]]])), undefined);
    for (const bad of ['leaf', 'nope=X-A', 'leaf=bad name']) {
      assert.throws(
        () => parseHeaderMap([bad]),
        (e: unknown) => isMtlsKitError(e) && e.exitCode === 2 && e.message.includes(bad),
      );
    }
  });

  it('API Gateway fields and X-Client-Cert-Sub (plain and base64) check against the PEM', () => {
    const l = pki.opensslLeaf('/C=EE/O=Test, Inc./CN=client1');
    const c = encodeApigwClientCert(l.cert);
    const p = 'requestContext.identity.clientCert';
    const set = decodeHeaderSet(
      fields([
        [`${p}.clientCertPem`, c.clientCertPem],
        [`${p}.subjectDN`, c.subjectDN],
        [`${p}.issuerDN`, c.issuerDN],
        [`${p}.serialNumber`, c.serialNumber],
        [`${p}.validity.notBefore`, c.validity.notBefore],
        [`${p}.validity.notAfter`, c.validity.notAfter],
        ['x-client-cert-sub', 'C=EE,O=Test\\, Inc.,CN=client1'],
      ]),
    )!;
    assert.equal(set.mode, 'apigw');
    assert.equal(set.warnings.length, 0, JSON.stringify(set.warnings));
    assert.equal(set.checks.length, 6);
    assert.ok(set.checks.every((x) => x.matches === true));
    // The AWS Lambda sample events write the serial as colon hex: accepted too.
    const colon = decodeHeaderSet(
      fields([
        [`${p}.clientCertPem`, c.clientCertPem],
        [`${p}.serialNumber`, l.cert.serialHex.toLowerCase().replace(/(..)(?=.)/g, '$1:')],
      ]),
    )!;
    assert.equal(colon.checks[0]!.matches, true);
    const b64 = decodeHeaderSet(fields([['X-Client-Cert-Sub', Buffer.from('CN=client1').toString('base64')]]))!;
    assert.equal(b64.mode, 'client-cert-sub');
    assert.equal(b64.checks[0]!.text, 'CN=client1');
    assert.equal(b64.warnings[0]!.code, 'BASE64_VALUE');
  });
});
