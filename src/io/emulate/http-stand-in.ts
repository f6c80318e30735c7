/**
 * The start and stop of the HTTP stand-ins for AWS services in test/support (the API
 * Gateway emulator, the versioned S3 server): 127.0.0.1, port 0, every connection closed on
 * stop so a test file never waits for keep-alive sockets.
 */
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';

export abstract class HttpStandIn {
  private server: Server | null = null;
  /** `http://127.0.0.1:<port>` once started. */
  url = '';

  /** Answers one request. */
  protected abstract handle(req: IncomingMessage, res: ServerResponse): Promise<void>;

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s)
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
  }
}
