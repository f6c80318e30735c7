import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {parseCertificateMessage} from '../src/lib/tls/handshake.js';

// The Certificate message reader shared by probe (what a server sent) and serve's tap (what
// a client sent): it returns the certificates only when every length adds up, and throws
// otherwise so that the caller keeps Node's view of the chain.
const u24 = (n: number): number[] => [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const tls12 = (certs: number[][]): Uint8Array => {
  const list = certs.flatMap((c) => [...u24(c.length), ...c]);
  return new Uint8Array([...u24(list.length), ...list]);
};
const tls13 = (context: number[], certs: number[][]): Uint8Array => {
  const list = certs.flatMap((c) => [...u24(c.length), ...c, 0, 0]);
  return new Uint8Array([context.length, ...context, ...u24(list.length), ...list]);
};

describe('parseCertificateMessage', () => {
  it('reads TLS 1.2 and TLS 1.3 lists in order, and an empty list', () => {
    assert.deepEqual(
      parseCertificateMessage(tls12([[1, 2], [3]]), false).map((c) => [...c]),
      [[1, 2], [3]],
    );
    assert.deepEqual(
      parseCertificateMessage(tls13([9], [[1, 2], [3]]), true).map((c) => [...c]),
      [[1, 2], [3]],
    );
    assert.deepEqual(parseCertificateMessage(tls12([]), false), []);
  });

  it('throws when a length does not add up', () => {
    const good = tls12([[1, 2], [3]]);
    assert.throws(() => parseCertificateMessage(good.subarray(0, good.length - 1), false), /malformed/);
    assert.throws(() => parseCertificateMessage(new Uint8Array([...good, 0]), false), /malformed/);
    assert.throws(() => parseCertificateMessage(tls12([[]]), false), /malformed/);
    const t13 = tls13([], [[1]]);
    assert.throws(() => parseCertificateMessage(t13.subarray(0, t13.length - 1), true), /malformed/);
    assert.throws(() => parseCertificateMessage(new Uint8Array([]), true), /malformed/);
  });
});
