/**
 * CloudFront's connection-log record (lib/cloudfront/connection-log.ts, aws-reference 11.7)
 * against the values of AWS's field table: the names in its forward `, ` form, the serial as
 * colon hex, the validity, the connection id's shape, and `-` for what is absent.
 */
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {connectionLogRecord, LOCAL_DISTRIBUTION_ID} from '../src/lib/cloudfront/connection-log.js';
import type {ParsedCertificate} from '../src/lib/x509/cert.js';
import {encodeDnText, formatCloudFrontLogDn} from '../src/lib/x509/dn.js';

describe('CloudFront connection-log record', () => {
  it("renders AWS's example names (C first, `, ` between RDNs) from the DER", () => {
    for (const example of [
      'C=US, ST=WA, L=Seattle, O=Amazon.com, OU=CloudFront, CN=client.test.mtls.net',
      'C=US, ST=WA, L=Seattle, O=Amazon.com, OU=CloudFront, CN=test.mtls.net',
    ]) {
      // encodeDnText reads RFC 4514 text (most specific first): give it the reversed order.
      const der = encodeDnText(example.split(', ').reverse().join(','));
      assert.equal(formatCloudFrontLogDn(der), example);
    }
    assert.equal(formatCloudFrontLogDn(encodeDnText('CN=a\\, b,O=x')), 'O=x, CN=a\\, b');
    assert.equal(formatCloudFrontLogDn(Uint8Array.of(1, 2)), '#0102');
  });

  it("AWS's example serial and validity; `-` without a certificate; the id is 56 characters of URL-safe base64", () => {
    const leaf = {
      serial: Uint8Array.from(Buffer.from('00b143ed93d2d8f39d', 'hex')),
      subject: encodeDnText('CN=client.test.mtls.net,C=US'),
      issuer: encodeDnText('CN=test.mtls.net,C=US'),
      notBefore: new Date('2025-06-05T23:28:21Z'),
      notAfter: new Date('2125-05-12T23:28:21Z'),
    } as unknown as ParsedCertificate;
    const base = {
      at: 1731620046814.4,
      connectionIdBytes: new Uint8Array(40).fill(0xfb),
      status: 'Success',
      clientIp: '2001:db8::1',
      clientPort: 12137,
      serverIp: '127.0.0.1',
      tlsProtocol: 'TLSv1.3',
      tlsCipher: 'TLS_AES_128_GCM_SHA256',
      handshakeMs: 152.6,
      sni: 'localhost',
    };
    const r = connectionLogRecord({...base, leaf});
    assert.equal(r.eventTimestamp, 1731620046814);
    assert.equal(r.clientLeafCertSerialNumber, '00:b1:43:ed:93:d2:d8:f3:9d');
    assert.equal(r.clientLeafCertValidity, 'NotBefore=2025-06-05T23:28:21Z;NotAfter=2125-05-12T23:28:21Z');
    assert.equal(r.clientLeafCertSubject, 'C=US, CN=client.test.mtls.net');
    assert.equal(r.tlsHandshakeDuration, 153);
    assert.equal(r.distributionId, LOCAL_DISTRIBUTION_ID);
    assert.match(r.connectionId, /^[A-Za-z0-9_-]{54}==$/);
    assert.ok(!r.connectionId.includes('+') && !r.connectionId.includes('/'));
    const none = connectionLogRecord({...base, status: 'Failed:ClientCertMissing', handshakeMs: null, sni: null, leaf: undefined});
    assert.deepEqual(
      [
        none.clientLeafCertSerialNumber,
        none.clientLeafCertSubject,
        none.clientLeafCertIssuer,
        none.clientLeafCertValidity,
        none.tlsHandshakeDuration,
        none.tlsSni,
      ],
      ['-', '-', '-', '-', '-', '-'],
    );
  });
});
