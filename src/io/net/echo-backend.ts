/**
 * The built-in echo backend of `mtls-kit serve` (no --target) and the demo: a plain HTTP
 * server on 127.0.0.1 that answers every request with JSON describing what it received,
 * like the seed walkthrough's demo backend.
 */
import http from 'node:http';
import type {AddressInfo} from 'node:net';

/** What the echo backend answers. */
export interface EchoResponse {
  method: string;
  path: string;
  /** The headers as received (names lower-case, as Node reports them). */
  headers: Record<string, string | string[] | undefined>;
  /** Bytes of request body received. */
  bodyBytes: number;
}

export interface RunningEchoBackend {
  url: URL;
  close(): Promise<void>;
}

/** Starts the echo backend on 127.0.0.1 and a free port. */
export async function startEchoBackend(): Promise<RunningEchoBackend> {
  const server = http.createServer((req, res) => {
    let bodyBytes = 0;
    req.on('data', (d: Buffer) => {
      bodyBytes += d.length;
    });
    req.on('end', () => {
      const body: EchoResponse = {method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, bodyBytes};
      const text = JSON.stringify(body, null, 2) + '\n';
      res.writeHead(200, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)});
      res.end(text);
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: new URL(`http://127.0.0.1:${port}/`),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
