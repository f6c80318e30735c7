/**
 * The no-op deploy's CRL work (issue 14 speed): lint parses each local CRL once, and OpenSSL's
 * own parse of it runs only when the trust store does not already hold those exact bytes. Run
 * in-process (readDeployInputs + readRemoteState, the steps `deploy` runs) against s3rver and
 * the ELBv2 emulator, with OpenSSL's check wrapped to count its calls and to fail on demand.
 */
import assert from 'node:assert/strict';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {createAwsClients} from '../src/io/aws/clients.js';
import {readDeployInputs, readRemoteState} from '../src/flows/deploy.js';
import {setCrlParseGate} from '../src/lib/x509/crl-gate.js';
import {isMtlsKitError} from '../src/lib/errors.js';
import {startAwsStandIns} from './support/aws-env.js';
import {runCli} from './support/cli.js';
import {makeTestCa} from './support/test-pki.js';
import {tempDir} from './support/tmp.js';

const BUCKET = 'crl-once-bucket';
const aws = await startAwsStandIns([BUCKET]);
for (const [k, v] of Object.entries(aws.env)) if (v !== undefined) process.env[k] = v;
const ca = await makeTestCa(join(tempDir(), 'pki'), {cn: 'CRL Once Root'});
ca.revokeSerial('0B01');
ca.opensslCrl('root');

// OpenSSL's check, counted; `refuse` makes it fail as OpenSSL does on a CRL it cannot read.
let gateCalls = 0;
let refuse = false;
setCrlParseGate(() => {
  gateCalls++;
  if (refuse) throw new Error('error:0680007B:asn1 encoding routines::header too long');
});

const inputs = () =>
  readDeployInputs({
    dir: ca.dir,
    bundle: undefined,
    crls: undefined,
    prefix: 'mtls-kit/',
    trustStoreName: 'crl-once',
    listeners: [],
    mutualAuthentication: {mode: 'verify', ignoreClientCertificateExpiry: false, advertiseTrustStoreCaNames: 'off'},
    now: new Date(),
    deferCrlOpensslCheck: true,
  });

describe('deploy: OpenSSL parses a CRL only when AWS does not hold it yet', () => {
  it('a new CRL is checked (after the remote read, before any upload); a held one is not', async () => {
    const client = await createAwsClients({region: 'us-east-1'});
    gateCalls = 0;
    const first = await inputs();
    assert.equal(gateCalls, 0, 'deferred: lint ran every other check without OpenSSL');
    assert.equal(first.opensslPending.length, 1);
    await readRemoteState(client, BUCKET, first);
    assert.equal(gateCalls, 1, 'the trust store does not exist yet: OpenSSL parses the CRL');

    const d = await runCli(['deploy', '--dir', ca.dir, '--trust-store-name', 'crl-once', '--bucket', BUCKET], {env: aws.env});
    assert.equal(d.code, 0, d.stderr);
    gateCalls = 0;
    refuse = true;
    const again = await inputs();
    const remote = await readRemoteState(client, BUCKET, again);
    assert.equal(gateCalls, 0, 'held by the trust store and stored at its key: not parsed again');
    assert.equal(remote.state.trustStore?.revocations.length, 1);

    // A new CRL (another revocation) is checked, and OpenSSL's refusal stops the run before S3.
    ca.revokeSerial('0B02');
    ca.opensslCrl('root');
    const changed = await inputs();
    const puts = aws.s3.requests.filter((q) => q.method === 'PUT').length;
    await assert.rejects(
      readRemoteState(client, BUCKET, changed),
      (e: unknown) => isMtlsKitError(e) && e.code === 'LINT_FAILED' && e.exitCode === 4 && /OpenSSL cannot parse it/.test(e.suggestions.join(' ')),
    );
    assert.equal(gateCalls, 1);
    assert.equal(aws.s3.requests.filter((q) => q.method === 'PUT').length, puts);
    refuse = false;
  });
});
