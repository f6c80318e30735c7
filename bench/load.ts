/**
 * A small bounded HTTPS load generator that presents a client certificate (wrk and
 * h2load in Debian cannot). `concurrency` loops each send requests until `durationMs` has
 * passed; either a new TLS connection per request (agent: false, no session reuse, so every
 * request is a full mTLS handshake) or keep-alive connections. Latency per request is kept
 * for the p99.
 */
import https from 'node:https';

export interface LoadParams {
  url: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  concurrency: number;
  durationMs: number;
  keepAlive: boolean;
}

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

/** Runs the load; every request must answer 200 or it counts as an error. */
export async function runLoad(p: LoadParams): Promise<LoadResult> {
  const agent = p.keepAlive ? new https.Agent({keepAlive: true, maxSockets: p.concurrency, ca: p.ca, cert: p.cert, key: p.key}) : undefined;
  const latencies: number[] = [];
  let errors = 0;
  const t0 = performance.now();
  const end = t0 + p.durationMs;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const start = performance.now();
      const req = https.get(p.url, {ca: p.ca, cert: p.cert, key: p.key, agent: agent ?? false, timeout: 10_000}, (res) => {
        res.on('data', () => {});
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(performance.now() - start);
          else errors++;
          resolve();
        });
        res.on('error', () => {
          errors++;
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        errors++;
        resolve();
      });
    });
  const loop = async (): Promise<void> => {
    // Bounded by time and by a hard cap on requests per loop.
    for (let i = 0; i < 1_000_000 && performance.now() < end; i++) await one();
  };
  await Promise.all(Array.from({length: p.concurrency}, loop));
  const seconds = (performance.now() - t0) / 1000;
  agent?.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil(q * latencies.length) - 1))] ?? NaN;
  return {requests: latencies.length, errors, seconds, rps: latencies.length / seconds, p50Ms: at(0.5), p99Ms: at(0.99)};
}
