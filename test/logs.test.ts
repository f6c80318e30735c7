import assert from 'node:assert/strict';
import {appendFileSync, mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {gzipSync} from 'node:zlib';
import {formatIndexLine} from '../src/lib/x509/index-db.js';
import {createLogSummarizer, percentile} from '../src/lib/alb/log-summary.js';
import {runCli} from './support/cli.js';
import {generateConnectionLog} from './support/conn-logs.js';
import {startS3} from './support/s3-server.js';
import {tempDir} from './support/tmp.js';

describe('logs', () => {
  it('counts plain, .gz and folder inputs, with a malformed line reported and not fatal', async () => {
    const tmp = tempDir();
    const a = generateConnectionLog(1000);
    const b = generateConnectionLog(500, {extraField: true});
    writeFileSync(join(tmp, 'a.log'), a.text + 'this is not a log line\n');
    mkdirSync(join(tmp, 'more'));
    writeFileSync(join(tmp, 'more', 'b.log.gz'), gzipSync(b.text));
    const r = await runCli(['logs', join(tmp, 'a.log'), join(tmp, 'more'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.sources.length, 2);
    assert.equal(r.json.connections, 1500);
    assert.equal(r.json.malformed.count, 1);
    assert.equal(r.json.malformed.examples[0].line, 1001);
    assert.equal(r.json.malformed.examples[0].text, 'this is not a log line');
    for (const [status, n] of Object.entries(a.byStatus)) assert.equal(r.json.byStatus[status], n + (b.byStatus[status] ?? 0), status);
    const crl = r.json.failures.find((f: {code: string}) => f.code === 'ClientCertCrlHit');
    assert.equal(crl.count, a.byStatus['Failed:ClientCertCrlHit']! + b.byStatus['Failed:ClientCertCrlHit']!);
    assert.equal(crl.clients[0].subject, 'CN=device-6,O=Acme Devices,C=US');
    assert.equal(crl.clients[0].serial, '1006');
    assert.equal(r.json.protocols['TLSv1.3'] + r.json.protocols['TLSv1.2'], 1500);
    assert.ok(r.json.handshakeLatency.p50 > 0 && r.json.handshakeLatency.p50 <= r.json.handshakeLatency.p99);
  });

  it('renders a human summary and hints at --explain', async () => {
    const tmp = tempDir();
    writeFileSync(join(tmp, 'c.log'), generateConnectionLog(100).text);
    const r = await runCli(['logs', join(tmp, 'c.log')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /100 connections in 1 file/);
    assert.match(r.stdout, /Failed:ClientCertCrlHit:\s+10 \(10\.0%\)/);
    assert.match(r.stdout, /p99:/);
    assert.match(r.stderr, /--explain/);
  });

  it('--explain joins serials with the CA index and says how to fix each code', async () => {
    const tmp = tempDir();
    const dir = join(tmp, 'pki');
    assert.equal((await runCli(['gen-ca', '--dir', dir])).code, 0);
    appendFileSync(
      join(dir, 'root/index.txt'),
      formatIndexLine({
        status: 'R',
        notAfter: new Date('2027-01-01T00:00:00Z'),
        revokedAt: new Date('2026-11-01T10:00:00Z'),
        reason: 'keyCompromise',
        serial: '1006',
        file: 'clients/device-6.crt',
        subject: '/C=US/O=Acme Devices/CN=device-6',
      }),
    );
    writeFileSync(join(tmp, 'c.log'), generateConnectionLog(100).text);
    const r = await runCli(['logs', join(tmp, 'c.log'), '--explain', '--dir', dir, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const crl = r.json.explain.find((f: {code: string}) => f.code === 'ClientCertCrlHit');
    assert.match(crl.fix, /gen-client/);
    const c = crl.clients.find((x: {serial: string}) => x.serial === '1006');
    assert.equal(c.issued.status, 'revoked');
    assert.equal(c.issued.revokedAt, '2026-11-01T10:00:00Z');
    assert.equal(c.issued.reason, 'keyCompromise');
    assert.equal(c.issued.crl, join(dir, 'root/crl.pem'));
    const other = crl.clients.find((x: {serial: string}) => x.serial === '1010');
    assert.equal(other.issued, null);
    const human = await runCli(['logs', join(tmp, 'c.log'), '--explain', '--dir', dir]);
    assert.match(human.stdout, /revoked 2026-11-01T10:00:00Z \(keyCompromise\)/);
  });

  it('a missing file is a precondition error (exit 4), a bad s3 URL a usage error (exit 2)', async () => {
    const r = await runCli(['logs', join(tempDir(), 'nope.log')]);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /nope\.log does not exist/);
    const s = await runCli(['logs', 's3://']);
    assert.equal(s.code, 2);
  });

  it('summarizer percentiles are nearest-rank', () => {
    assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50), 5);
    assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90), 9);
    assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99), 10);
    assert.equal(percentile([], 50), null);
    const s = createLogSummarizer();
    s.addLine('', 'x', 1);
    assert.equal(s.finish().lines, 0);
  });
});

describe('logs from S3', () => {
  it('reads every object under an s3:// prefix from an S3-compatible server (s3rver)', async (t) => {
    const tmp = tempDir();
    const server = await startS3(['alb-logs']);
    t.after(() => server.stop());
    const endpoint = server.url;
    const {S3Client, PutObjectCommand} = await import('@aws-sdk/client-s3');
    const creds = {accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER'};
    const s3 = new S3Client({endpoint, region: 'us-east-1', forcePathStyle: true, credentials: creds});
    t.after(() => s3.destroy());
    const a = generateConnectionLog(300);
    const prefix = 'AWSLogs/123456789012/elasticloadbalancing/us-east-1/2026/11/21/';
    await s3.send(new PutObjectCommand({Bucket: 'alb-logs', Key: `${prefix}conn_log_a.log.gz`, Body: gzipSync(a.text)}));
    await s3.send(new PutObjectCommand({Bucket: 'alb-logs', Key: `${prefix}conn_log_b.log.gz`, Body: gzipSync(a.text)}));
    await s3.send(new PutObjectCommand({Bucket: 'alb-logs', Key: 'elsewhere/x.log', Body: 'not counted\n'}));
    const env = {
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_PROFILE: undefined,
      AWS_CONFIG_FILE: join(tmp, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(tmp, 'none'),
    };
    const r = await runCli(['logs', `s3://alb-logs/${prefix}`, '--endpoint-url', endpoint, '--region', 'us-east-1', '--json'], {env});
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.sources.length, 2);
    assert.equal(r.json.connections, 600);
    assert.equal(r.json.byStatus.Success, a.byStatus.Success! * 2);
    const missing = await runCli(['logs', 's3://no-such-bucket/x/', '--endpoint-url', endpoint, '--region', 'us-east-1'], {env});
    assert.equal(missing.code, 5, missing.stderr);
  });
});
