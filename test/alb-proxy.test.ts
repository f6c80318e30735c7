import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {buildUpstreamHeaders, filterResponseHeaders, formatTraceId, parseListenSpecs} from '../src/lib/alb/proxy.js';

describe('alb-proxy', () => {
  it('parses --listen PORT:MODE and refuses bad or duplicate values (exit 2)', () => {
    assert.deepEqual(parseListenSpecs(['8443:verify', '9443:passthrough', '0:verify', '0:passthrough']), [
      {port: 8443, mode: 'verify'},
      {port: 9443, mode: 'passthrough'},
      {port: 0, mode: 'verify'},
      {port: 0, mode: 'passthrough'},
    ]);
    for (const bad of ['8443', 'verify', '8443:off', '70000:verify', ':verify'])
      assert.throws(
        () => parseListenSpecs([bad]),
        (e: {exitCode: number; message: string}) => e.exitCode === 2 && e.message.includes(bad),
      );
    assert.throws(() => parseListenSpecs(['8443:verify', '8443:passthrough']), /twice/);
  });

  it("strips client-sent mTLS headers (any case), renamed names and hop-by-hop headers, then adds ALB's", () => {
    const h = buildUpstreamHeaders({
      rawHeaders: [
        'Host',
        'a.example',
        'X-AMZN-MTLS-CLIENTCERT-SUBJECT',
        'CN=admin',
        'x-amzn-mtls-clientcert',
        'evil',
        'X-Client-Subject',
        'CN=admin',
        'Connection',
        'keep-alive, X-Secret',
        'X-Secret',
        '1',
        'Transfer-Encoding',
        'chunked',
        'X-Forwarded-For',
        '198.51.100.7',
        'X-Forwarded-Proto',
        'http',
        'Accept',
        '*/*',
      ],
      mtlsHeaders: [['X-Client-Subject', 'CN=device-1']],
      strip: new Set(['x-client-subject']),
      clientIp: '203.0.113.9',
      listenerPort: 8443,
    });
    assert.deepEqual(h, [
      'Host',
      'a.example',
      'Accept',
      '*/*',
      'X-Client-Subject',
      'CN=device-1',
      'X-Forwarded-For',
      '198.51.100.7, 203.0.113.9',
      'X-Forwarded-Proto',
      'https',
      'X-Forwarded-Port',
      '8443',
    ]);
  });

  it('omit and take: the headers a listener rewrites are not forwarded, the last taken value is kept, after the hop-by-hop rules', () => {
    const take = {name: 'x-amzn-trace-id', value: undefined as string | undefined};
    const h = buildUpstreamHeaders({
      rawHeaders: [
        'Host',
        'a',
        'X-Amzn-Trace-Id',
        'Root=1',
        'Expect',
        '100-continue',
        'x-amzn-trace-id',
        'Root=2',
        'X-Amzn-Tls-Version',
        'SSLv2',
        'Accept',
        '*/*',
      ],
      mtlsHeaders: [],
      strip: new Set(),
      clientIp: '203.0.113.9',
      listenerPort: 8443,
      omit: (lower) => lower === 'expect' || lower.startsWith('x-amzn-tls-'),
      take,
    });
    assert.deepEqual(h.slice(0, 4), ['Host', 'a', 'Accept', '*/*']);
    assert.equal(take.value, 'Root=2');
    // A trace id named in Connection is a hop-by-hop header: removed before it can be taken.
    const hop = {name: 'x-amzn-trace-id', value: undefined as string | undefined};
    buildUpstreamHeaders({
      rawHeaders: ['Connection', 'X-Amzn-Trace-Id', 'X-Amzn-Trace-Id', 'Root=1'],
      mtlsHeaders: [],
      strip: new Set(),
      clientIp: '203.0.113.9',
      listenerPort: 8443,
      take: hop,
    });
    assert.equal(hop.value, undefined);
  });

  it('drops hop-by-hop response headers and formats trace ids', () => {
    assert.deepEqual(filterResponseHeaders(['Content-Type', 'text/plain', 'Keep-Alive', 'timeout=5', 'Connection', 'keep-alive']), [
      'Content-Type',
      'text/plain',
    ]);
    assert.equal(formatTraceId(new Uint8Array(16).fill(0xab)), 'TID_' + 'ab'.repeat(16));
  });
});
