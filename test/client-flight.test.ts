import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {CLIENT_FLIGHT_MAX_BYTES, ClientFlightReader} from '../src/lib/tls/client-flight.js';

// lib/tls/client-flight.ts on synthetic TLS 1.2 flights: the chain as sent, refusals with
// a reason for what cannot be read exactly, and work linear in the bytes however they arrive.
const u16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
const u24 = (n: number): number[] => [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const rec = (type: number, body: number[]): number[] => [type, 3, 3, ...u16(body.length), ...body];
const msg = (type: number, body: number[]): number[] => [type, ...u24(body.length), ...body];
const hello = (random: number, extensions: number[] = []): number[] =>
  msg(1, [3, 3, ...new Array(32).fill(random), 0, ...u16(2), 0x13, 0x01, 1, 0, ...u16(extensions.length), ...extensions]);
const certificate = (certs: number[][]): number[] => {
  const list = certs.flatMap((c) => [...u24(c.length), ...c]);
  return msg(11, [...u24(list.length), ...list]);
};
const flight12 = (certs: number[][]): number[] => [
  ...rec(22, hello(7)),
  ...rec(22, [...certificate(certs), ...msg(16, [1, 2]), ...msg(15, [3])]),
  ...rec(20, [1]),
];
const feed = (r: ClientFlightReader, bytes: number[], step = bytes.length): void => {
  for (let i = 0; i < bytes.length; i += step) r.push(new Uint8Array(bytes.slice(i, i + step)));
};

describe('ClientFlightReader', () => {
  it('reads a TLS 1.2 chain exactly as sent (duplicates, order), in one chunk or one byte at a time', () => {
    for (const step of [1, 7, 100_000]) {
      const r = new ClientFlightReader();
      feed(r, flight12([[1, 2], [3], [1, 2]]), step);
      assert.equal(r.state, 'complete');
      const out = r.finish('TLSv1.2');
      assert.ok(out.ok);
      assert.deepEqual(
        out.chain.map((c) => [...c]),
        [[1, 2], [3], [1, 2]],
      );
      assert.equal(out.clientRandom, '07'.repeat(32));
    }
  });

  it('reads a chain fragmented over 1-byte records', () => {
    const body = [...certificate([[9, 9, 9]]), ...msg(16, [1])];
    const r = new ClientFlightReader();
    feed(r, [...rec(22, hello(1)), ...body.flatMap((b) => rec(22, [b])), ...rec(20, [1])]);
    const out = r.finish('TLSv1.2');
    assert.ok(out.ok && out.chain.length === 1);
  });

  it('refuses an alert record in the middle of the flight, early data, a cap overrun and a protocol mismatch', () => {
    const alert = new ClientFlightReader();
    feed(alert, [...rec(22, hello(1)), ...rec(21, [1, 90]), ...rec(22, certificate([[1]]))]);
    assert.equal(alert.state, 'refused');
    assert.match(alert.reason!, /alert record/);
    assert.equal(alert.finish('TLSv1.2').ok, false);

    const early = new ClientFlightReader();
    feed(early, rec(22, hello(1, [0, 42, 0, 0])));
    assert.match(early.reason!, /early data/);

    const big = new ClientFlightReader();
    const one = rec(22, [0]);
    feed(big, [...rec(22, hello(1)), ...new Array(Math.ceil(CLIENT_FLIGHT_MAX_BYTES / one.length) + 1).fill(one).flat()]);
    assert.match(big.reason!, /passed \d+ bytes/);

    const mismatch = new ClientFlightReader();
    feed(mismatch, flight12([[1]]));
    assert.match((mismatch.finish('TLSv1.3') as {reason: string}).reason, /not seen complete/);
  });

  it('costs work linear in the bytes however they are split (a trickled ClientHello)', () => {
    const bytes = [
      ...rec(
        22,
        hello(
          3,
          new Array(4000).fill(0).flatMap(() => [0, 99, 0, 0]),
        ),
      ),
    ];
    const whole = new ClientFlightReader();
    feed(whole, bytes);
    const trickled = new ClientFlightReader();
    feed(trickled, bytes, 1);
    assert.equal(trickled.bytes, bytes.length);
    assert.ok(trickled.work <= 3 * bytes.length + 64, `work ${trickled.work} for ${bytes.length} bytes`);
    assert.ok(trickled.work <= whole.work + bytes.length, `${trickled.work} vs ${whole.work}`);
  });
});
