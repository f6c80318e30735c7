import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {
  type ConnectionLogEntry,
  formatConnectionLogLine,
  formatHandshakeLatency,
  formatLogTimestamp,
  parseConnectionLogLine,
} from '../src/lib/alb/connection-log.js';

// The AWS documentation's example lines, copied from aws-reference 5 (12 fields each).
const AWS_SUCCESS =
  '2023-10-04T17:05:15.514108Z 203.0.113.1 36280 443 TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 4.036 "CN=amazondomains.com,O=endEntity,L=Seattle,ST=Washington,C=US" NotBefore=2023-09-21T22:43:21Z;NotAfter=2026-06-17T22:43:21Z FEF257372D5C14D4 Success TID_3180a73013c8ca4bac2f731159d4b0fe';
const AWS_FAILED =
  '2023-10-04T17:05:15.514108Z 203.0.113.1 36280 443 TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 - "CN=amazondomains.com,O=endEntity,L=Seattle,ST=Washington,C=US" NotBefore=2023-09-21T22:43:21Z;NotAfter=2026-06-17T22:43:21Z FEF257372D5C14D4 Failed:ClientCertUntrusted TID_1c71a68d70587445ad5127ff8b2687d7';

const full: ConnectionLogEntry = {
  timestamp: '2026-11-21T05:49:52.123456Z',
  clientIp: '127.0.0.1',
  clientPort: 51234,
  listenerPort: 8443,
  tlsProtocol: 'TLSv1.3',
  tlsCipher: 'TLS_AES_256_GCM_SHA384',
  handshakeLatency: '0.004',
  subject: 'serialNumber=PNOEE-47101010033,GN=MARILIIS,SN=M\\C3\\84NNIK,CN=M\\C3\\84NNIK\\,MARILIIS\\,47101010033,O=SK ID Solutions AS,C=EE',
  validity: 'NotBefore=2019-04-11T09:36:15Z;NotAfter=2024-04-10T21:59:59Z',
  serial: '12DB3F24BFFD390A5CAF1A8F2712DFB4',
  verifyStatus: 'Success',
  connTraceId: 'TID_3180a73013c8ca4bac2f731159d4b0fe',
  tlsKeyExchange: '-',
  elb: 'app/mtls-kit-serve/local',
  ipAddress: '127.0.0.1',
  extra: [],
};

describe('connection-log', () => {
  it('parses the AWS example lines', () => {
    const ok = parseConnectionLogLine(AWS_SUCCESS);
    assert.ok(ok);
    assert.equal(ok.timestamp, '2023-10-04T17:05:15.514108Z');
    assert.equal(ok.clientIp, '203.0.113.1');
    assert.equal(ok.clientPort, 36280);
    assert.equal(ok.listenerPort, 443);
    assert.equal(ok.tlsProtocol, 'TLSv1.2');
    assert.equal(ok.tlsCipher, 'ECDHE-RSA-AES128-GCM-SHA256');
    assert.equal(ok.handshakeLatency, '4.036');
    assert.equal(ok.subject, 'CN=amazondomains.com,O=endEntity,L=Seattle,ST=Washington,C=US');
    assert.equal(ok.validity, 'NotBefore=2023-09-21T22:43:21Z;NotAfter=2026-06-17T22:43:21Z');
    assert.equal(ok.serial, 'FEF257372D5C14D4');
    assert.equal(ok.verifyStatus, 'Success');
    assert.equal(ok.connTraceId, 'TID_3180a73013c8ca4bac2f731159d4b0fe');
    assert.equal(ok.tlsKeyExchange, '-');
    const failed = parseConnectionLogLine(AWS_FAILED);
    assert.ok(failed);
    assert.equal(failed.handshakeLatency, '-');
    assert.equal(failed.verifyStatus, 'Failed:ClientCertUntrusted');
  });

  it('round-trips all 15 fields, spaces and escapes inside the quoted subject included', () => {
    const line = formatConnectionLogLine(full);
    assert.equal(line.split(' ').length >= 15, true);
    assert.deepEqual(parseConnectionLogLine(line), full);
  });

  it('keeps extra trailing fields (AWS appends new ones)', () => {
    const line = formatConnectionLogLine(full) + ' - future-field';
    assert.deepEqual(parseConnectionLogLine(line)?.extra, ['-', 'future-field']);
  });

  it('writes `-` for absent fields and reads them back', () => {
    const none = {...full, subject: '-', validity: '', serial: '', handshakeLatency: '-', verifyStatus: 'Failed:ClientCertUntrusted'};
    const line = formatConnectionLogLine(none);
    assert.match(line, / - - - - Failed:ClientCertUntrusted /);
    const back = parseConnectionLogLine(line);
    assert.equal(back?.subject, '-');
    assert.equal(back?.serial, '-');
  });

  it('returns null for malformed lines, never throws', () => {
    for (const bad of [
      '',
      'garbage',
      AWS_SUCCESS.split(' ').slice(0, 11).join(' '),
      AWS_SUCCESS.replace('36280', 'port'),
      AWS_SUCCESS.replace('2023-10-04T17:05:15.514108Z', '04/Oct/2023'),
      AWS_SUCCESS.replace('4.036', 'fast'),
      AWS_SUCCESS.replace('"CN=amazondomains.com', '"CN=unterminated').replace('C=US"', 'C=US'),
      AWS_SUCCESS.replace(' 443 ', '  443 '),
    ]) {
      assert.equal(parseConnectionLogLine(bad), null, bad);
    }
    assert.ok(parseConnectionLogLine(AWS_SUCCESS + '\r'));
  });

  it('formats timestamps with microseconds and latency in seconds', () => {
    assert.equal(formatLogTimestamp(Date.UTC(2023, 9, 4, 17, 5, 15, 514) + 0.108), '2023-10-04T17:05:15.514108Z');
    assert.equal(formatLogTimestamp(Date.UTC(2023, 9, 4, 17, 5, 15, 0)), '2023-10-04T17:05:15.000000Z');
    assert.equal(formatHandshakeLatency(4036.4), '4.036');
  });
});

describe('connection-log statuses (issue 26)', () => {
  const base = AWS_FAILED.replace(' Failed:ClientCertUntrusted ', ' STATUS ');
  it('a quoted status, as in AWS examples, is the same failure as the unquoted one', async () => {
    const {createLogSummarizer} = await import('../src/lib/alb/log-summary.js');
    assert.equal(parseConnectionLogLine(base.replace('STATUS', '"Failed:ClientCertExpired"'))?.verifyStatus, 'Failed:ClientCertExpired');
    const s = createLogSummarizer();
    s.addLine(base.replace('STATUS', '"Failed:ClientCertExpired"'), 'a', 1);
    s.addLine(base.replace('STATUS', 'Failed:ClientCertExpired'), 'a', 2);
    s.addLine(base.replace('STATUS', '"Success"'), 'a', 3);
    const r = s.finish();
    assert.deepEqual(r.byStatus, {'Failed:ClientCertExpired': 2, Success: 1});
    assert.equal(r.failures.length, 1);
    assert.equal(r.failures[0]!.code, 'ClientCertExpired');
    assert.equal(r.failures[0]!.count, 2);
    assert.equal(r.malformed.count, 0);
  });
  it('`-` is a connection on a listener without TLS, not a failure; an empty quoted status is malformed', async () => {
    const {createLogSummarizer} = await import('../src/lib/alb/log-summary.js');
    const s = createLogSummarizer();
    s.addLine(base.replace('STATUS', '-'), 'a', 1);
    s.addLine(base.replace('STATUS', '""'), 'a', 2);
    const r = s.finish();
    assert.equal(r.nonHttpsConnections, 1);
    assert.equal(r.byStatus['-'], 1);
    assert.equal(r.failures.length, 0);
    assert.equal(r.malformed.count, 1);
  });
});
