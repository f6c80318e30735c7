/**
 * Every input format decode-header accepts (src/lib/alb/header-input.ts), each decoding to
 * the same certificate.
 */
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {readHeaderInput} from '../src/lib/alb/header-input.js';
import {ALB_HEADERS, decodeHeaderSet, encodeApigwClientCert, encodePassthroughHeader, encodeVerifyHeaders} from '../src/lib/alb/headers.js';
import {readCertificates} from '../src/lib/x509/read-certs.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const pki = await makeTestCa(tempDir(), {intermediate: true, maker: 'openssl', cn: 'Header Root'});
const leaf = pki.opensslLeaf('/C=EE/O=Test, Inc./CN=input formats');
const intermediate = readCertificates(new Uint8Array(Buffer.from(pki.intermediatePem!)), 'int')[0]!;
const verify = encodeVerifyHeaders(leaf.cert);
const lines = verify.map(([n, v]) => `${n}: ${v}`).join('\r\n');
const obj = Object.fromEntries(verify);
const lower = Object.fromEntries(verify.map(([n, v]) => [n.toLowerCase(), v]));
const apigw = encodeApigwClientCert(leaf.cert);

/** Reads an input and decodes each set; asserts the leaf came back byte for byte with no warnings. */
function expectLeaf(text: string, format: string, sets = 1): void {
  const input = readHeaderInput(text, 'test');
  assert.equal(input.format, format);
  const decoded = input.sets.map((s) => decodeHeaderSet(s)).filter((s) => s !== undefined);
  assert.equal(decoded.length, sets);
  for (const d of decoded) {
    assert.deepEqual(d.warnings, []);
    assert.deepEqual(d.certificates[0]!.certificate.der, leaf.cert.der);
  }
}

describe('decode-header input formats', () => {
  it('Name: value lines in any letter case; blank lines separate requests', () => {
    expectLeaf(lines, 'lines');
    expectLeaf(verify.map(([n, v]) => `${n.toLowerCase()}:${v}`).join('\n'), 'lines');
    expectLeaf(verify.map(([n, v]) => `${n.toUpperCase()}:   ${v}`).join('\n'), 'lines');
    expectLeaf(`${lines}\n\n${lines}\n\n${lines}`, 'lines', 3);
  });

  it('a raw HTTP request, body skipped', () => {
    expectLeaf(`GET /whoami HTTP/1.1\r\nHost: example.com\r\n${lines}\r\n\r\nx-amzn-mtls-clientcert-subject: in the body\r\n`, 'http-request');
  });

  it('curl -v output and curl -H arguments', () => {
    const v = [
      '*   Trying 127.0.0.1:443...',
      '> GET / HTTP/1.1',
      '> Host: x',
      ...verify.map(([n, val]) => `> ${n}: ${val}`),
      '> ',
      '< HTTP/1.1 200 OK',
      '< content-type: text/plain',
    ].join('\n');
    expectLeaf(v, 'curl');
    const args = `curl https://x ${verify.map(([n, val]) => `-H '${n}: ${val}'`).join(' ')}`;
    expectLeaf(args.replace('curl https://x ', ''), 'curl');
    expectLeaf(`-H "${ALB_HEADERS.leaf}: ${obj[ALB_HEADERS.leaf]}"`, 'curl');
  });

  it('a HAR file (one set per entry with mTLS headers)', () => {
    const entry = (headers: Array<{name: string; value: string}>) => ({request: {method: 'GET', url: 'https://x/', headers}, response: {status: 200}});
    const har = {
      log: {
        version: '1.2',
        entries: [
          entry(verify.map(([name, value]) => ({name, value}))),
          entry([{name: 'Host', value: 'x'}]),
          entry([{name: ALB_HEADERS.leaf, value: obj[ALB_HEADERS.leaf]!}]),
        ],
      },
    };
    expectLeaf(JSON.stringify(har), 'har', 2);
  });

  it('a JSON object of headers, and NDJSON', () => {
    expectLeaf(JSON.stringify(obj), 'json');
    expectLeaf(JSON.stringify({headers: lower}) + '\n' + JSON.stringify(obj) + '\n', 'ndjson', 2);
  });

  it('an ALB Lambda-target event, headers or multiValueHeaders', () => {
    const rc = {elb: {targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/0'}};
    expectLeaf(JSON.stringify({requestContext: rc, httpMethod: 'GET', path: '/', headers: {host: 'x', ...lower}, body: ''}), 'alb-event');
    const multi = Object.fromEntries(Object.entries(lower).map(([k, v]) => [k, [v]]));
    expectLeaf(JSON.stringify({requestContext: rc, multiValueHeaders: multi}), 'alb-event');
  });

  it('API Gateway REST and HTTP API events, and the clientCert object', () => {
    expectLeaf(JSON.stringify({resource: '/', requestContext: {identity: {sourceIp: '1.2.3.4', clientCert: apigw}}, headers: {Host: 'x'}}), 'apigw-rest-event');
    expectLeaf(JSON.stringify({version: '2.0', requestContext: {authentication: {clientCert: apigw}}}), 'apigw-http-event');
    expectLeaf(JSON.stringify({clientCert: apigw, headers: {'X-Client-Cert-Sub': 'C=EE,O=Test\\, Inc.,CN=input formats'}}), 'apigw-client-cert');
    expectLeaf(JSON.stringify(apigw), 'apigw-client-cert');
  });

  it('bare values: leaf, chain, plain PEM, and the text headers', () => {
    expectLeaf(obj[ALB_HEADERS.leaf]!, 'value');
    const chain = encodePassthroughHeader([leaf.cert.der, intermediate.der])[1];
    const c = readHeaderInput(chain, 'test');
    assert.equal(c.readAs, ALB_HEADERS.chain);
    assert.equal(decodeHeaderSet(c.sets[0]!)!.certificates.length, 2);
    expectLeaf(leaf.pem, 'value');
    assert.equal(readHeaderInput(obj[ALB_HEADERS.serial]!, 't').readAs, ALB_HEADERS.serial);
    assert.equal(readHeaderInput(obj[ALB_HEADERS.validity]!, 't').readAs, ALB_HEADERS.validity);
    assert.equal(readHeaderInput(obj[ALB_HEADERS.subject]!, 't').readAs, ALB_HEADERS.subject);
    assert.equal(readHeaderInput('C=EE,O=Test\\, Inc.,CN=client1', 't').readAs, 'X-Client-Cert-Sub');
    assert.equal(readHeaderInput(Buffer.from('CN=client1').toString('base64'), 't').readAs, 'X-Client-Cert-Sub');
  });

  it('a PEM pasted with real newlines (and form-decoded) under a header name stays whole', () => {
    const mangled = new URLSearchParams('v=' + obj[ALB_HEADERS.leaf]).get('v')!;
    const input = readHeaderInput(`Host: x\nX-Amzn-Mtls-Clientcert-Leaf: ${mangled}\nX-Other: y\n`, 't');
    const set = decodeHeaderSet(input.sets[0]!)!;
    assert.deepEqual(set.certificates[0]!.certificate.der, leaf.cert.der);
    assert.equal(set.warnings.length, Buffer.from(leaf.cert.der).toString('base64').includes('+') ? 1 : 0);
  });

  it('a trailing escaped space in a DN survives line parsing', () => {
    const input = readHeaderInput(`${ALB_HEADERS.subject}: CN=trailing\\ \r\n${ALB_HEADERS.issuer}: CN=x   \r\n`, 't');
    assert.deepEqual(
      input.sets[0]!.map((f) => f.value),
      ['CN=trailing\\ ', 'CN=x'],
    );
    assert.equal(readHeaderInput('CN=bare\\ \n', 't').sets[0]![0]!.value, 'CN=bare\\ ');
  });

  it('JSON that does not parse and empty input are errors naming the source (exit 4)', () => {
    assert.throws(
      () => readHeaderInput('{"headers": ', 'capture.json'),
      (e: Error & {exitCode?: number}) => e.exitCode === 4 && /capture\.json: looks like JSON/.test(e.message),
    );
    assert.throws(() => readHeaderInput('  \n', 'stdin'), /stdin: the input is empty/);
  });
});
