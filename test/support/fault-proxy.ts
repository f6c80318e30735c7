/**
 * A fault proxy on 127.0.0.1 in front of the S3 server and the ELBv2 emulator, reached
 * through the endpoint URLs exactly like the real services: ELBv2 Query requests (form
 * POSTs) go to the emulator, everything else to S3. Headers, Host included, are forwarded
 * unchanged, so SigV4 signatures still verify.
 *
 * Faults, each for `count` matching requests:
 * - `hang`: read the request and never answer (the connection stays open);
 * - `drop-answer`: forward the request, let the service carry it out, then cut the
 *   connection instead of answering (a lost answer);
 * - `server-error`: answer 503 without forwarding;
 * - `throttle`: answer Throttling (ELBv2, HTTP 400) or SlowDown (S3, HTTP 503) without forwarding.
 * A hook (`onRequest`) sees each request before and after forwarding: the SIGKILL tests
 * kill the CLI there.
 */
import {createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import type {AddressInfo, Socket} from 'node:net';

export type ProxyFaultKind = 'hang' | 'drop-answer' | 'server-error' | 'throttle';

export interface ProxiedRequest {
  service: 's3' | 'elbv2';
  /** ELBv2: the Action; S3: `PUT /bucket/key` and so on. */
  action: string;
  method: string;
  path: string;
  /** ELBv2: the form parameters; S3: {}. */
  params: Record<string, string>;
  /** Whether it changes state (S3 PUT/POST/DELETE, ELBv2 Create/Modify/Add/Remove/...). */
  mutating: boolean;
  fault?: ProxyFaultKind;
}

export interface ProxyFault {
  kind: ProxyFaultKind;
  /** How many matching requests get the fault. */
  count: number;
  /** Which requests: an ELBv2 action name, an S3 method (`PUT`), or a predicate. */
  match: string | ((r: ProxiedRequest) => boolean);
  /** Let this many matching requests through first. */
  skip?: number;
}

/** Called before forwarding (`phase` 'before') and once the service answered ('after'). */
export type ProxyHook = (r: ProxiedRequest, phase: 'before' | 'after') => void | Promise<void>;

const MUTATING = /^(Create|Modify|Delete|Add|Remove|Set|Register|Deregister)/;

export class FaultProxy {
  readonly requests: ProxiedRequest[] = [];
  onRequest: ProxyHook | undefined;
  url = '';
  private server: Server | undefined;
  private readonly faults: ProxyFault[] = [];
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly s3Url: string,
    private readonly elbv2Url: string,
  ) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  inject(f: ProxyFault): void {
    this.faults.push({...f});
  }

  /** Forgets the remaining faults. */
  clearFaults(): void {
    this.faults.length = 0;
  }

  mutating(): ProxiedRequest[] {
    return this.requests.filter((r) => r.mutating);
  }

  private takeFault(r: ProxiedRequest): ProxyFaultKind | undefined {
    for (const f of this.faults) {
      if (f.count <= 0) continue;
      const hit = typeof f.match === 'function' ? f.match(r) : f.match === r.action || f.match === r.method;
      if (!hit) continue;
      if ((f.skip ?? 0) > 0) {
        f.skip!--;
        continue;
      }
      f.count--;
      return f.kind;
    }
    return undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const isElb = method === 'POST' && /x-www-form-urlencoded/.test(req.headers['content-type'] ?? '');
    const params: Record<string, string> = isElb ? Object.fromEntries(new URLSearchParams(body.toString('utf8'))) : {};
    const action = isElb ? (params.Action ?? '') : `${method} ${path.split('?')[0]}`;
    const r: ProxiedRequest = {
      service: isElb ? 'elbv2' : 's3',
      action,
      method,
      path,
      params,
      mutating: isElb ? MUTATING.test(action) : ['PUT', 'POST', 'DELETE'].includes(method),
    };
    this.requests.push(r);
    const fault = this.takeFault(r);
    if (fault) r.fault = fault;
    if (fault === 'hang') return; // never answered; stop() destroys the socket
    if (fault === 'server-error' || fault === 'throttle') {
      const [status, code] = fault === 'server-error' ? [503, 'ServiceUnavailable'] : isElb ? [400, 'Throttling'] : [503, 'SlowDown'];
      res.writeHead(status, {'content-type': 'text/xml'});
      res.end(
        isElb
          ? `<ErrorResponse><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${code}</Code><Message>injected by the fault proxy</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>`
          : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected by the fault proxy</Message></Error>`,
      );
      return;
    }
    await this.onRequest?.(r, 'before');
    const target = new URL(path, isElb ? this.elbv2Url : this.s3Url);
    const answer = await new Promise<{status: number; headers: IncomingMessage['headers']; body: Buffer}>((resolve, reject) => {
      const up = httpRequest(target, {method, headers: req.headers}, (u) => {
        const parts: Buffer[] = [];
        u.on('data', (d: Buffer) => parts.push(d));
        u.on('end', () => resolve({status: u.statusCode ?? 502, headers: u.headers, body: Buffer.concat(parts)}));
        u.on('error', reject);
      });
      up.on('error', reject);
      up.end(body);
    });
    await this.onRequest?.(r, 'after');
    if (fault === 'drop-answer') {
      res.destroy();
      return;
    }
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  }
}
