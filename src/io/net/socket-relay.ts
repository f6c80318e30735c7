/**
 * A Duplex in front of a TCP socket that passes bytes both ways and shows each chunk the
 * peer sends to `onChunk` first. TLS runs over it when the handshake bytes must be read:
 * serve's listener frame (listener-frame.ts, what a client sent) and probe (probe.ts, what
 * a server sent).
 */
import type net from 'node:net';
import {Duplex, type DuplexOptions} from 'node:stream';

export class SocketRelay extends Duplex {
  constructor(
    readonly raw: net.Socket,
    opts: DuplexOptions = {},
  ) {
    super(opts);
    raw.on('data', (d: Buffer) => {
      this.onChunk(d);
      // onChunk may have refused the connection: nothing more reaches TLS.
      if (this.destroyed) return;
      if (!this.push(d)) raw.pause();
    });
    raw.on('end', () => this.push(null));
    raw.on('error', (e) => this.destroy(e));
    raw.on('close', () => this.destroy());
  }

  /** Each chunk the peer sent, before it is passed on. */
  protected onChunk(_chunk: Buffer): void {}

  /** Each chunk written to the peer (by TLS over this relay), before it is sent. */
  protected onWrite(_chunk: Buffer): void {}

  override _read(): void {
    this.raw.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    if (this.raw.destroyed) {
      cb();
      return;
    }
    this.onWrite(chunk);
    this.raw.write(chunk, cb);
  }

  override _writev(chunks: Array<{chunk: Buffer}>, cb: (e?: Error | null) => void): void {
    if (this.raw.destroyed) {
      cb();
      return;
    }
    for (const c of chunks) this.onWrite(c.chunk);
    this.raw.cork();
    for (let i = 0; i < chunks.length - 1; i++) this.raw.write(chunks[i]!.chunk);
    this.raw.write(chunks[chunks.length - 1]!.chunk, cb);
    this.raw.uncork();
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.raw.end(cb);
  }

  override _destroy(error: Error | null, cb: (e?: Error | null) => void): void {
    this.raw.destroy();
    cb(error);
  }
}
