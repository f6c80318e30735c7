import assert from 'node:assert/strict';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {gzipSync} from 'node:zlib';
import {before, describe, it} from 'node:test';
import {runCli} from './support/cli.js';
import {openssl, opensslOk} from './support/openssl.js';
import {tempDir} from './support/tmp.js';
import {identifyInput} from '../src/lib/x509/input-kind.js';
import {typeSan} from '../src/lib/x509/san-input.js';

// Files made by the real openssl CLI, then given to commands that want something else.
describe('what a file is, when it is not what the command wants', () => {
  const tmp = tempDir();
  const dir = join(tmp, 'pki');
  const out = join(tmp, 'd1');
  const f = (name: string): string => join(tmp, name);
  before(async () => {
    assert.equal((await runCli(['gen-ca', '--dir', dir])).code, 0);
    assert.equal((await runCli(['gen-client', '--dir', dir, '--cn', 'd1', '--out', out])).code, 0);
    opensslOk(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('rsa.key'), '-subj', '/CN=req', '-out', f('req.csr')]);
    opensslOk(['req', '-in', f('req.csr'), '-outform', 'DER', '-out', f('req.der')]);
    opensslOk(['pkey', '-in', f('rsa.key'), '-outform', 'DER', '-out', f('rsa-key.der')]);
    opensslOk(['pkey', '-in', f('rsa.key'), '-aes256', '-passout', 'pass:pw', '-out', f('rsa-enc.key')]);
    opensslOk([
      'ca',
      '-gencrl',
      '-keyfile',
      join(dir, 'root', 'ca.key'),
      '-cert',
      join(dir, 'root', 'ca.crt'),
      '-out',
      f('root.crl'),
      '-config',
      writeCaConf(),
    ]);
    opensslOk(['crl', '-in', f('root.crl'), '-outform', 'DER', '-out', f('root-crl.der')]);
    opensslOk(['x509', '-in', join(out, 'certificate.crt'), '-outform', 'DER', '-out', f('cert.der')]);
    writeFileSync(f('empty.pem'), '');
    writeFileSync(f('cert.pem.gz'), gzipSync(readFileSync(join(out, 'certificate.crt'))));
    mkdirSync(f('folder'));
  });

  function writeCaConf(): string {
    const conf = f('ca.cnf');
    writeFileSync(f('index.txt'), '');
    writeFileSync(conf, `[ca]\ndefault_ca=x\n[x]\ndatabase=${f('index.txt')}\ndefault_md=sha256\ndefault_crl_days=30\n`);
    return conf;
  }

  it('identifies PEM and DER certificates, CRLs, CSRs, keys, gzip, text and emptiness', () => {
    const cases: Array<[string, string]> = [
      [join(out, 'certificate.crt'), 'certificate'],
      [f('cert.der'), 'certificate'],
      [f('root.crl'), 'crl'],
      [f('root-crl.der'), 'crl'],
      [f('req.csr'), 'csr'],
      [f('req.der'), 'csr'],
      [f('rsa.key'), 'private-key'],
      [f('rsa-key.der'), 'private-key'],
      [join(out, 'private-key.pem'), 'private-key'],
      [f('rsa-enc.key'), 'encrypted-private-key'],
      [f('cert.pem.gz'), 'gzip'],
      [f('empty.pem'), 'empty'],
    ];
    opensslOk(['crl2pkcs7', '-nocrl', '-certfile', join(out, 'chain.pem'), '-out', f('chain.p7b')]);
    opensslOk(['crl2pkcs7', '-nocrl', '-certfile', join(out, 'chain.pem'), '-outform', 'DER', '-out', f('chain-p7b.der')]);
    opensslOk([
      'pkcs12',
      '-export',
      '-in',
      join(out, 'certificate.crt'),
      '-inkey',
      join(out, 'private-key.pem'),
      '-passout',
      'pass:x',
      '-out',
      f('bundle.p12'),
    ]);
    opensslOk(['pkey', '-in', f('rsa.key'), '-pubout', '-out', f('rsa.pub')]);
    opensslOk(['pkey', '-in', f('rsa.key'), '-pubout', '-outform', 'DER', '-out', f('rsa-pub.der')]);
    cases.push(
      [f('chain.p7b'), 'pkcs7'],
      [f('chain-p7b.der'), 'pkcs7'],
      [f('bundle.p12'), 'pkcs12'],
      [f('rsa.pub'), 'public-key'],
      [f('rsa-pub.der'), 'public-key'],
    );
    for (const [file, kind] of cases) assert.equal(identifyInput(readFileSync(file)).kind, kind, file);
    const both = identifyInput(Buffer.concat([readFileSync(join(out, 'certificate.crt')), readFileSync(join(out, 'private-key.pem'))]));
    assert.deepEqual(both.kinds, ['certificate', 'private-key']);
    assert.equal(both.description, 'a PEM file with a certificate and a private key');
    assert.equal(identifyInput(Buffer.from('hello\n')).kind, 'text');
    assert.equal(identifyInput(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00])).kind, 'binary');
  });

  it('verify: a CRL as the chain says so and how to pass it (PEM and DER, exit 2)', async () => {
    for (const crl of [f('root.crl'), f('root-crl.der')]) {
      const r = await runCli(['verify', crl, '--dir', dir]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`${crl.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is a certificate revocation list \\((PEM|DER)\\), not a certificate chain`),
      );
      assert.match(r.stderr, /pass it with --crl/);
    }
    const j = await runCli(['verify', f('root.crl'), '--dir', dir, '--json']);
    assert.equal(j.code, 2);
    assert.equal(j.json.error.code, 'WRONG_FILE_KIND');
    assert.equal(j.json.error.details.found, 'crl');
  });

  it('verify: a certificate given as --crl, a key or a CSR as the chain, gzip', async () => {
    const asCrl = await runCli(['verify', join(out, 'certificate.crt'), '--crl', join(out, 'certificate.crt'), '--dir', dir]);
    assert.equal(asCrl.code, 2);
    assert.match(asCrl.stderr, /certificate\.crt is a certificate \(PEM\), not a CRL/);
    const key = await runCli(['verify', f('rsa-key.der'), '--dir', dir]);
    assert.equal(key.code, 2);
    assert.match(key.stderr, /rsa-key\.der is a private key \(DER\), not a certificate chain/);
    assert.ok(!key.stderr.includes('MII') && !key.stdout.includes('MII'), 'never any part of the key');
    const csr = await runCli(['verify', f('req.csr'), '--dir', dir]);
    assert.match(csr.stderr, /is a certificate signing request \(PEM\).*\n.*mtls-kit sign/);
    const gz = await runCli(['verify', f('cert.pem.gz'), '--dir', dir]);
    assert.equal(gz.code, 2);
    assert.match(gz.stderr, /gzip-compressed file.*\n.*gunzip -k/);
  });

  it('inspect: a public key or PKCS#7 says what it is and what inspect reads; a certificate with its key shows the certificate only', async () => {
    const pub = await runCli(['inspect', f('rsa-pub.der')]);
    assert.equal(pub.code, 2);
    assert.match(pub.stderr, /rsa-pub\.der is a public key \(DER\), not a certificate, CRL, certificate request, private key or PKCS#12 file/);
    const p7 = await runCli(['inspect', f('chain.p7b')]);
    assert.equal(p7.code, 2);
    assert.match(p7.stderr, /openssl pkcs7 -print_certs -in .*chain\.p7b/);
    writeFileSync(f('combined.pem'), Buffer.concat([readFileSync(join(out, 'certificate.crt')), readFileSync(join(out, 'private-key.pem'))]));
    const combined = await runCli(['inspect', f('combined.pem'), '--json']);
    assert.equal(combined.code, 0, combined.stderr);
    assert.equal(combined.json.kind, 'certificates');
    assert.match(combined.stderr, /also holds a private key \(not shown/);
    assert.ok(!combined.stdout.includes(readFileSync(join(out, 'private-key.pem'), 'utf8').split('\n')[1]!.slice(0, 16)));
  });

  it('empty file, URL, folder: one sentence each, not a DER offset or "does not exist"', async () => {
    const empty = await runCli(['inspect', f('empty.pem')]);
    assert.equal(empty.code, 4);
    assert.match(empty.stderr, /empty\.pem is empty/);
    assert.doesNotMatch(empty.stderr, /offset/);
    const emptyStdin = await runCli(['verify', '-', '--dir', dir, '--json'], {input: ''});
    assert.equal(emptyStdin.json.error.code, 'EMPTY_FILE');
    const url = await runCli(['verify', 'https://example.com/pki/chain.pem', '--dir', dir]);
    assert.equal(url.code, 2);
    assert.match(url.stderr, /is a URL; mtls-kit reads local files and does not download anything/);
    assert.match(url.stderr, /curl -fsSLo chain\.pem/);
    // verify reads local files only; inspect and lint read s3:// (with --region, --profile, --endpoint-url).
    const s3 = await runCli(['verify', 's3://bucket/chain.pem', '--dir', dir]);
    assert.match(s3.stderr, /aws s3 cp s3:\/\/bucket\/chain\.pem chain\.pem/);
    const folder = await runCli(['encode-header', f('folder')]);
    assert.equal(folder.code, 2);
    assert.match(folder.stderr, /folder is a folder, not a file/);
  });

  it('sign refuses a certificate, encode-header and revoke a CRL, lint names a DER key', async () => {
    const s = await runCli(['sign', join(out, 'certificate.crt'), '--dir', dir, '--out', f('signed')]);
    assert.equal(s.code, 2);
    assert.match(s.stderr, /is a certificate \(PEM\), not a certificate signing request/);
    const e = await runCli(['encode-header', f('root.crl')]);
    assert.equal(e.code, 2);
    assert.match(e.stderr, /root\.crl is a certificate revocation list \(PEM\), not a certificate or chain/);
    const r = await runCli(['revoke', '--cert', f('req.der'), '--dir', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /req\.der is a certificate signing request \(DER\), not a certificate/);
    const l = await runCli(['lint', f('rsa-key.der'), '--json']);
    assert.equal(l.code, 3);
    const finding = l.json.findings.find((x: {file: string}) => x.file === f('rsa-key.der'));
    assert.equal(finding.rule, 'private-key');
    assert.match(finding.message, /a private key \(DER\)/);
    writeFileSync(f('noise.bin'), Buffer.from(Array.from({length: 300}, (_, i) => (i * 37 + 1) % 256)));
    const other = await runCli(['lint', f('cert.pem.gz'), f('noise.bin'), '--json']);
    assert.equal(other.code, 3);
    const byFile = (p: string) => other.json.findings.find((x: {file: string}) => x.file === p);
    assert.match(byFile(f('cert.pem.gz')).message, /is a gzip-compressed file, not a CA bundle/);
    assert.match(byFile(f('cert.pem.gz')).fix, /gunzip -k/);
    assert.match(byFile(f('noise.bin')).message, /is binary data, not a CA bundle/);
  });

  it('decode-header refuses a key (never echoing it), a CRL, a DER certificate and binary data; UTF-16 headers still read', async () => {
    const key = await runCli(['decode-header', '--file', join(out, 'private-key.pem')]);
    assert.equal(key.code, 2);
    assert.match(key.stderr, /private-key\.pem holds a private key, not mTLS headers/);
    for (const line of readFileSync(join(out, 'private-key.pem'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('-----'))) {
      assert.ok(!key.stderr.includes(line.slice(0, 16)) && !key.stdout.includes(line.slice(0, 16)), 'no part of the key is echoed');
    }
    const asArg = await runCli(['decode-header', readFileSync(f('rsa.key'), 'utf8')]);
    assert.equal(asArg.code, 2);
    assert.ok(!asArg.stderr.includes(readFileSync(f('rsa.key'), 'utf8').split('\n')[1]!.slice(0, 16)));
    const crl = await runCli(['decode-header', '--file', f('root-crl.der'), '--json']);
    assert.equal(crl.code, 2);
    assert.match(crl.json.error.message, /root-crl\.der is a certificate revocation list \(DER\), not mTLS headers/);
    const der = await runCli(['decode-header', '--file', f('cert.der')]);
    assert.match(der.stderr, /is a certificate \(DER\).*\n.*mtls-kit encode-header/);
    writeFileSync(f('random.bin'), Buffer.from(Array.from({length: 512}, (_, i) => (i * 151 + 7) % 256)));
    const bin = await runCli(['decode-header', '-'], {input: readFileSync(f('random.bin'))});
    assert.equal(bin.code, 4);
    assert.match(bin.stderr, /stdin is binary data, not header text/);
    const enc = await runCli(['encode-header', join(out, 'certificate.crt')]);
    writeFileSync(f('utf16.txt'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(enc.stdout, 'utf16le')]));
    const u16 = await runCli(['decode-header', '--file', f('utf16.txt'), '--json']);
    assert.equal(u16.code, 0, u16.stderr);
    assert.match(u16.stdout, /CN=d1/);
  });

  it('serve: a certificate as --server-key, a key as --server-cert, a folder as --trust-store, a CRL as the bundle', async () => {
    const crt = join(out, 'certificate.crt');
    const key = join(out, 'private-key.pem');
    const swapped = await runCli(['serve', '--dir', dir, '--port', '0', '--server-cert', key, '--server-key', crt], {timeoutMs: 30_000});
    assert.equal(swapped.code, 2);
    assert.match(swapped.stderr, /private-key\.pem is a private key \(PEM\), not a server certificate\n.*pass it with --server-key/);
    const folder = await runCli(['serve', '--dir', dir, '--port', '0', '--trust-store', f('folder')], {timeoutMs: 30_000});
    assert.equal(folder.code, 2);
    assert.match(folder.stderr, /folder is a folder, not a file/);
    const crlBundle = await runCli(['serve', '--dir', dir, '--port', '0', '--trust-store', f('root.crl')], {timeoutMs: 30_000});
    assert.equal(crlBundle.code, 2);
    assert.match(crlBundle.stderr, /root\.crl is a certificate revocation list \(PEM\), not a CA bundle\n.*pass it with --crl/);
  });

  it('- is stdin for decode-header (positional), lint and verify', async () => {
    const leaf = readFileSync(join(out, 'certificate.crt'));
    const header = `X-Amzn-Mtls-Clientcert-Leaf: ${encodeURIComponent(leaf.toString('utf8')).replace(/%20/g, ' ')}\n`;
    const d = await runCli(['decode-header', '-', '--json'], {input: header});
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /CN=d1/);
    const l = await runCli(['lint', '-', '--json'], {input: readFileSync(join(dir, 'ca-bundle.pem'))});
    assert.equal(l.code, 0, l.stdout);
    assert.deepEqual(l.json.files, ['-']);
    const v = await runCli(['verify', '-', '--dir', dir, '--skip-crl', '--json'], {input: leaf});
    assert.equal(v.json.status, 'Success');
  });
});

describe('--san values are checked before anything is issued', () => {
  const tmp = tempDir();
  const dir = join(tmp, 'pki');
  before(async () => {
    assert.equal((await runCli(['gen-ca', '--dir', dir])).code, 0);
  });

  it('typeSan accepts DNS names (leading wildcard), IPv4/IPv6, email, URI; refuses the rest', () => {
    assert.deepEqual(typeSan('*.example.com'), {type: 'dns', value: '*.example.com'});
    assert.deepEqual(typeSan('device-1'), {type: 'dns', value: 'device-1'});
    assert.deepEqual(typeSan('2001:db8::1'), {type: 'ip', value: '2001:db8::1'});
    assert.deepEqual(typeSan('192.0.2.10'), {type: 'ip', value: '192.0.2.10'});
    assert.deepEqual(typeSan('ops@example.com'), {type: 'email', value: 'ops@example.com'});
    assert.deepEqual(typeSan('spiffe://acme/device-1'), {type: 'url', value: 'spiffe://acme/device-1'});
    assert.deepEqual(typeSan('dns:host.example'), {type: 'dns', value: 'host.example'});
    for (const bad of [
      'not a san!',
      'a..b',
      '-x.example.com',
      'x-.example.com',
      'a.*.example.com',
      '*',
      'ex_ample.com',
      '300.1.1.1',
      '1:2:3:4:5:6:7:8:9',
      'a@b@c',
      'ops@bad domain',
      'spiffe://acme/has space',
      'ip:example.com',
      'x'.repeat(64) + '.com',
      '',
    ]) {
      assert.throws(
        () => typeSan(bad),
        (e: {code?: string; exitCode?: number; message?: string}) => e.code === 'BAD_SAN' && e.exitCode === 2 && e.message!.includes(`"${bad}"`),
        bad,
      );
    }
  });

  it('gen-client --san "not a san!" exits 2 naming the value and the forms, and writes nothing', async () => {
    const r = await runCli(['gen-client', '--dir', dir, '--cn', 'x', '--san', 'not a san!', '--out', join(tmp, 'x')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--san "not a san!" is not a valid DNS name/);
    assert.match(r.stderr, /IPv4 or IPv6 address.*email address.*URI/);
    assert.equal(openssl(['x509', '-in', join(tmp, 'x', 'certificate.crt'), '-noout']).code !== 0, true, 'no certificate written');
    const csrOnly = await runCli(['gen-client', '--dir', dir, '--cn', 'x', '--san', 'bad_name.example', '--csr-only', '--out', join(tmp, 'y'), '--json']);
    assert.equal(csrOnly.code, 2);
    assert.equal(csrOnly.json.error.code, 'BAD_SAN');
  });

  it('sign --san refuses a bad value; good values reach the certificate as openssl reads them', async () => {
    opensslOk([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(tmp, 'k.pem'),
      '-subj',
      '/CN=s',
      '-out',
      join(tmp, 's.csr'),
    ]);
    const bad = await runCli(['sign', join(tmp, 's.csr'), '--dir', dir, '--san', 'a b', '--out', join(tmp, 's')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--san "a b"/);
    const ok = await runCli([
      'sign',
      join(tmp, 's.csr'),
      '--dir',
      dir,
      '--san',
      '*.fleet.example.com',
      '--san',
      '2001:db8::7',
      '--san',
      'ops@example.com',
      '--san',
      'spiffe://acme/s',
      '--out',
      join(tmp, 's'),
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    const text = opensslOk(['x509', '-in', join(tmp, 's', 'certificate.crt'), '-noout', '-ext', 'subjectAltName']);
    assert.match(text, /DNS:\*\.fleet\.example\.com, IP Address:2001:DB8:0:0:0:0:0:7, email:ops@example\.com, URI:spiffe:\/\/acme\/s/);
  });
});
