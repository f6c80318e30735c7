/**
 * An OCSP responder over HTTP (RFC 6960 appendix A.1: POST with application/ocsp-request,
 * or GET /<url-encoded base64 of the request>) for a CA directory: every tier answers for the
 * certificates it issued, from its index.txt, signed with its own key. index.txt is read
 * again when it changes on disk, so `mtls-kit revoke` takes effect on the next request.
 * One client can never stop the server: a bad request gets malformedRequest, any other
 * failure internalError, and bodies are bounded.
 */
import {stat} from 'node:fs/promises';
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import {type LoadedTier, loadCa, readIndex, readTierKey} from '../ca/directory.js';
import {preconditionError} from '../../lib/errors.js';
import type {IndexEntry} from '../../lib/x509/index-db.js';
import {keyMatchesSpki, loadPrivateKey} from '../../lib/x509/issue.js';
import {buildOcspErrorResponse, type OcspAnswerLog, type OcspTier, respondFromIndex} from '../../lib/x509/ocsp.js';

/** Largest request body read (an OCSP request for one certificate is about 100 bytes). */
const MAX_REQUEST_BYTES = 64 * 1024;

export interface OcspResponderParams {
  dir: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  passphrase?: string | undefined;
  /** Clock (tests pin it). */
  now?: () => Date;
  /** Called for every answered request. */
  onAnswer?: (a: {method: string; responseStatus: string; answers: OcspAnswerLog[]; problem?: string}) => void;
}

export interface RunningOcspResponder {
  url: string;
  port: number;
  /** The tiers that answer, root first. */
  tiers: string[];
  close(): Promise<void>;
}

interface TierState {
  loaded: LoadedTier;
  tier: OcspTier;
  mtimeMs: number;
}

/** Loads each tier's key (checked against its certificate) and index. */
async function loadTiers(dir: string, passphrase: string | undefined): Promise<TierState[]> {
  const ca = await loadCa(dir);
  const out: TierState[] = [];
  for (const loaded of [ca.root, ...(ca.intermediate ? [ca.intermediate] : [])]) {
    const {key} = loadPrivateKey(await readTierKey(loaded), loaded.paths.key, passphrase);
    if (!keyMatchesSpki(key, loaded.cert.publicKey.spki))
      throw preconditionError('KEY_MISMATCH', `${loaded.paths.key} does not belong to ${loaded.paths.cert}`, ['restore the matching key']);
    out.push({loaded, tier: {name: loaded.tier, cert: loaded.cert, key, entries: await readIndex(loaded.paths)}, mtimeMs: await mtime(loaded.paths.index)});
  }
  return out;
}

async function mtime(path: string): Promise<number> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return 0;
  }
}

/** Re-reads an index that changed on disk since it was read. */
async function refresh(t: TierState): Promise<void> {
  const m = await mtime(t.loaded.paths.index);
  if (m === t.mtimeMs) return;
  const entries: IndexEntry[] = await readIndex(t.loaded.paths);
  t.tier = {...t.tier, entries};
  t.mtimeMs = m;
}

function readBody(req: IncomingMessage): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_REQUEST_BYTES) {
        resolve(undefined);
        req.destroy();
        return;
      }
      parts.push(d);
    });
    req.on('end', () => resolve(new Uint8Array(Buffer.concat(parts))));
    req.on('error', reject);
  });
}

/** GET form (RFC 6960 A.1): the last path segment is the url-encoded base64 DER. */
function requestFromPath(url: string): Uint8Array | undefined {
  const seg = url.split('?')[0]!.split('/').filter(Boolean).pop();
  if (!seg) return undefined;
  try {
    return new Uint8Array(Buffer.from(decodeURIComponent(seg), 'base64'));
  } catch {
    return undefined;
  }
}

/**
 * Starts the responder; resolves once it listens.
 * @throws MtlsKitError CA_NOT_FOUND, PASSPHRASE_REQUIRED, WRONG_PASSPHRASE, KEY_MISMATCH (exit 4);
 *   PORT_IN_USE (exit 4) when the port is taken.
 */
export async function startOcspResponder(p: OcspResponderParams): Promise<RunningOcspResponder> {
  const tiers = await loadTiers(p.dir, p.passphrase);
  const now = p.now ?? (() => new Date());
  const send = (res: ServerResponse, der: Uint8Array): void => {
    res.writeHead(200, {'content-type': 'application/ocsp-response', 'content-length': der.length, 'cache-control': 'no-store'});
    res.end(Buffer.from(der));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let body: Uint8Array | undefined;
    if (req.method === 'POST') body = await readBody(req);
    else if (req.method === 'GET') body = requestFromPath(req.url ?? '/');
    else {
      res.writeHead(405, {allow: 'GET, POST'});
      res.end();
      return;
    }
    if (!body) {
      p.onAnswer?.({method: req.method, responseStatus: 'malformedRequest', answers: [], problem: 'no request in the body or path'});
      send(res, buildOcspErrorResponse('malformedRequest'));
      return;
    }
    for (const t of tiers) await refresh(t);
    const r = respondFromIndex(
      body,
      tiers.map((t) => t.tier),
      {now: now()},
    );
    p.onAnswer?.({method: req.method, responseStatus: r.responseStatus, answers: r.answers, ...(r.problem ? {problem: r.problem} : {})});
    send(res, r.der);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      p.onAnswer?.({method: req.method ?? '?', responseStatus: 'internalError', answers: [], problem: (error as Error).message});
      if (!res.headersSent) send(res, buildOcspErrorResponse('internalError'));
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'EADDRINUSE'
          ? preconditionError('PORT_IN_USE', `port ${p.port} on ${p.host} is already in use`, ['choose another --listen port, or stop what uses it'])
          : e,
      ),
    );
    server.listen(p.port, p.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = p.host.includes(':') ? `[${p.host}]` : p.host;
  return {
    url: `http://${host}:${port}`,
    port,
    tiers: tiers.map((t) => t.loaded.tier),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
