// Fingerprints in one style (src/lib/x509/fingerprint.ts): every command's human and --json
// output shows a certificate or key fingerprint as upper-case colon hex, as openssl prints it,
// and never as the bare 64-digit hex deploy used to print. The bundle digest deploy keeps in
// its trust-store tag does not depend on the style, so existing deployments show no drift.
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {briefCertificates} from '../src/lib/deploy/review.js';
import {bundleDigest} from '../src/lib/deploy/record.js';
import {readCertificates} from '../src/lib/x509/read-certs.js';
import {fingerprintHex, formatFingerprint, sha256Fingerprint} from '../src/lib/x509/fingerprint.js';
import {runCli} from './support/cli.js';
import {opensslOk} from './support/openssl.js';
import {tempDir} from './support/tmp.js';

const ONE_STYLE = /\b(?:[0-9A-F]{2}:){31}[0-9A-F]{2}\b/g;
/** Any other way of writing a SHA-256: 64 hex digits in a row, or colon pairs in lower case. */
const OTHER_STYLE = /\b[0-9a-fA-F]{64}\b|\b(?:[0-9a-f]{2}:){31}[0-9a-f]{2}\b/;

const tmp = tempDir();
const dir = join(tmp, 'pki');
const cli = (args: string[]) => runCli(args, {cwd: tmp});

/** Fingerprints in the text, after checking nothing in it is written another way. */
function fingerprintsIn(what: string, text: string): string[] {
  const other = OTHER_STYLE.exec(text);
  assert.equal(other, null, `${what} writes a fingerprint in another style: ${other?.[0]}`);
  return text.match(ONE_STYLE) ?? [];
}

describe('fingerprints in one style', () => {
  it('the formatter is openssl -fingerprint -sha256; a planted lower-case or bare digest is caught', () => {
    assert.equal(formatFingerprint(new Uint8Array([0xab, 0x01, 0xff])), 'AB:01:FF');
    const der = new Uint8Array(createHash('sha256').update('x').digest());
    assert.match(sha256Fingerprint(der), /^(?:[0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const bare = createHash('sha256').update('y').digest('hex');
    assert.throws(() => fingerprintsIn('a planted line', `sha256 ${bare}`), /another style/);
    assert.throws(() => fingerprintsIn('a planted line', `sha256 ${formatFingerprint(new Uint8Array(32).fill(0xab)).toLowerCase()}`), /another style/);
  });

  it('gen-ca, gen-client, inspect and sign print it, human and --json, as openssl does', async () => {
    const outputs: Array<[string, string]> = [];
    const run = async (args: string[]): Promise<string> => {
      const r = await cli(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      outputs.push([args.join(' '), r.stdout + r.stderr]);
      return r.stdout;
    };
    await run(['gen-ca', '--dir', dir, '--cn', 'Fingerprint Root']);
    await run(['gen-client', '--dir', dir, '--cn', 'fp-1', '--out', join(tmp, 'fp-1')]);
    await run(['gen-client', '--dir', dir, '--cn', 'fp-2', '--out', join(tmp, 'fp-2'), '--json']);
    const cert = join(tmp, 'fp-1', 'certificate.crt');
    await run(['inspect', cert]);
    const inspected = JSON.parse(await run(['inspect', cert, '--json']));
    await run(['inspect', join(tmp, 'fp-1', 'private-key.pem')]);
    const req = 'req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=fp-csr'.split(' ');
    opensslOk([...req, '-keyout', join(tmp, 'csr.key'), '-out', join(tmp, 'fp.csr')]);
    await run(['sign', join(tmp, 'fp.csr'), '--dir', dir, '--out', join(tmp, 'fp-signed'), '--json']);
    let seen = 0;
    for (const [what, text] of outputs) seen += fingerprintsIn(what, text).length;
    assert.ok(seen >= 6, `only ${seen} fingerprints seen`);
    const openssl = opensslOk(['x509', '-in', cert, '-noout', '-fingerprint', '-sha256']).trim().split('=')[1];
    assert.equal(inspected.certificates[0].sha256Fingerprint, openssl);
  });

  it("deploy's plan review uses it, and the trust-store tag digest does not depend on the style", () => {
    const certs = readCertificates(new Uint8Array(readFileSync(join(dir, 'ca-bundle.pem'))), 'ca-bundle.pem');
    const briefs = briefCertificates(certs);
    assert.equal(briefs[0]!.fingerprint, certs[0]!.sha256Fingerprint);
    fingerprintsIn('the plan review', briefs.map((b) => `+ ${b.subject}  sha256 ${b.fingerprint}`).join('\n'));
    // The digest earlier versions wrote into the mtls-kit:bundle tag (bare lower-case hex).
    const old = certs.map((c) => createHash('sha256').update(c.der).digest('hex'));
    assert.equal(bundleDigest(briefs.map((b) => b.fingerprint)), bundleDigest(old));
    assert.equal(fingerprintHex(briefs[0]!.fingerprint), old[0]);
  });
});
