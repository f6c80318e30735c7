/**
 * What both parts of `mtls-kit demo` (ALB in demo-run.ts, API Gateway in demo-apigw.ts) do
 * as the user's curl: one HTTPS request with or without a client certificate, the echo
 * backend's answer, and the curl command that does the same.
 */
import https from 'node:https';
import type {EchoResponse} from './echo-backend.js';

export type ApigwDemoStepName = 'apigw-no-certificate' | 'apigw-certificate' | 'apigw-deny' | 'apigw-untrusted';
export type DemoStepName = 'no-certificate' | 'certificate' | 'passthrough' | 'revoked' | ApigwDemoStepName;

/** One step of the demo: a request, what ALB or API Gateway does, and what happened. */
export interface DemoStep {
  name: DemoStepName;
  title: string;
  /** What a user would type. */
  curl: string;
  /** What ALB or API Gateway does here. */
  expected: string;
  /** Whether the listener behaved as ALB or API Gateway does. */
  ok: boolean;
  /** HTTP status, or null when the connection was cut before any response. */
  httpStatus: number | null;
  /** The client-side error when the connection was cut (ECONNRESET, ...). */
  clientError: string | null;
  /** ALB: the listener's connection-log line (aws-reference 5); API Gateway: the access-log line, or why the handshake was rejected. */
  connectionLog: string | null;
  /** ALB steps: the verify status of that line; null for API Gateway. */
  verifyStatus: string | null;
  /** The mTLS headers the backend received (names lower-case). */
  headers?: Record<string, string>;
  /** Those headers decoded: the certificates they carry. */
  decoded?: Array<{subject: string; issuer: string; serial: string; matches: boolean}>;
}

/** A client certificate: PEM for the request, file paths for the printed curl command. */
export interface DemoClient {
  certPem: string;
  keyPem: string;
  cert: string;
  key: string;
}

export interface Fetched {
  /** HTTP status, or null when the connection was cut before any response. */
  status: number | null;
  /** The client-side error (ECONNRESET, ...) when there was one. */
  error: string | null;
  body: string;
  /** The echo backend's JSON answer, when the status was 200 and the body is one. */
  echo: EchoResponse | null;
}

/** One GET with a fresh connection (no agent), trusting `ca`, presenting `client` if given; never throws. */
export function fetchOnce(url: string, ca: string, client?: Pick<DemoClient, 'certPem' | 'keyPem'>): Promise<Fetched> {
  const done = (status: number | null, error: string | null, body: string): Fetched => {
    let echo: EchoResponse | null = null;
    try {
      echo = status === 200 ? (JSON.parse(body) as EchoResponse) : null;
    } catch {
      echo = null;
    }
    return {status, error, body, echo};
  };
  return new Promise((resolve) => {
    const req = https.get(url, {ca, ...(client ? {cert: client.certPem, key: client.keyPem} : {}), agent: false, timeout: 5000}, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(done(res.statusCode ?? null, null, body)));
      res.on('error', (e: NodeJS.ErrnoException) => resolve(done(res.statusCode ?? null, e.code ?? e.message, body)));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(done(null, e.code ?? e.message, '')));
  });
}

/** A path as a shell word. */
export function shellWord(p: string): string {
  return /^[\w./:=,-]+$/.test(p) ? p : `'${p.replaceAll("'", `'\\''`)}'`;
}

/** The curl command that makes the same request. */
export function curlCommand(caFile: string, url: string, client?: Pick<DemoClient, 'cert' | 'key'>): string {
  return `curl --cacert ${shellWord(caFile)}${client ? ` --cert ${shellWord(client.cert)} --key ${shellWord(client.key)}` : ''} ${url}`;
}
