/**
 * `probe`: one TLS connection to the address the user gave, as a client would make it,
 * with every byte the server sends captured (a Duplex between Node's TLS and the TCP
 * socket) and the TLS 1.3 handshake secret taken from Node's `keylog` event, so that the
 * CertificateRequest and its acceptable CA names can be read even though TLS 1.3 encrypts
 * them (lib/tls/handshake.ts). Then one HTTP/1.1 GET of the path.
 */
import {connect as netConnect, isIP, type Socket} from 'node:net';
import {connect as tlsConnect, type PeerCertificate, type TLSSocket} from 'node:tls';
import {MtlsKitError} from '../../lib/errors.js';
import {
  ALERTS,
  cleartextHandshake,
  decryptTls13Handshake,
  HANDSHAKE,
  type HandshakeMessage,
  parseCertificateMessage,
  parseCertificateRequest,
  parseServerHello,
  plaintextAlert,
  splitRecords,
} from '../../lib/tls/handshake.js';
import {SocketRelay} from './socket-relay.js';

export interface ProbeParams {
  host: string;
  port: number;
  path: string;
  /** PEM client certificate (chain) and key, when probing mTLS. */
  cert?: string;
  key?: string;
  /** Trust anchors for the server certificate (default: Node's CA list). */
  ca?: string;
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
  timeoutMs: number;
}

export interface ProbeObservation {
  version: string | null;
  cipher: string | null;
  /** DER, leaf first, as the server sent them. */
  serverChain: Uint8Array[];
  serverAuthorized: boolean;
  serverAuthorizationError: string | null;
  /** Whether the server sent a CertificateRequest (null when it could not be read). */
  certificateRequested: boolean | null;
  /** DER Names advertised in the CertificateRequest. */
  caNames: Uint8Array[];
  /** How the CertificateRequest was read. */
  caNamesSource: 'tls1.2-cleartext' | 'tls1.3-keylog-decrypted' | 'unavailable';
  handshakeCompleted: boolean;
  alert: {code: number; name: string} | null;
  error: string | null;
  httpStatus: number | null;
  httpStatusText: string | null;
}

/** A relay to a TCP socket that keeps a copy of what arrives. */
class TapStream extends SocketRelay {
  readonly received: Buffer[] = [];

  protected override onChunk(d: Buffer): void {
    this.received.push(d);
  }
}

function alertFromError(e: Error & {code?: string}): {code: number; name: string} | null {
  const m = /SSL alert number (\d+)/.exec(e.message);
  if (m) {
    const code = Number(m[1]);
    return {code, name: ALERTS[code] ?? `alert ${code}`};
  }
  return null;
}

function peerChain(s: TLSSocket): Uint8Array[] {
  const out: Uint8Array[] = [];
  let c: PeerCertificate & {issuerCertificate?: PeerCertificate} = s.getPeerCertificate(true);
  const seen = new Set<string>();
  while (c?.raw && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    out.push(new Uint8Array(c.raw));
    c = c.issuerCertificate as PeerCertificate & {issuerCertificate?: PeerCertificate};
  }
  return out;
}

/**
 * Opens the TCP connection first, so that an unreachable address is a clear exit-4 error
 * rather than a handshake result.
 * @throws MtlsKitError CONNECT_FAILED (exit 4).
 */
function tcpConnect(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({host, port});
    const timer = setTimeout(() => {
      s.destroy();
      reject(
        new MtlsKitError({
          code: 'CONNECT_FAILED',
          message: `no TCP connection to ${host}:${port} within ${timeoutMs / 1000}s`,
          suggestions: ['check the address, the port and any security group or firewall in between'],
        }),
      );
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (e: Error & {code?: string}) => {
      clearTimeout(timer);
      reject(
        new MtlsKitError({
          code: 'CONNECT_FAILED',
          message: `cannot connect to ${host}:${port}: ${e.code ?? e.message}`,
          suggestions: ['check the address and port (an ALB listener is usually 443)'],
          cause: e,
        }),
      );
    });
  });
}

/**
 * Connects, completes (or fails) the handshake, sends one GET, and reports what happened.
 * Never throws for what the server does (rejections are results); throws CONNECT_FAILED
 * when no TCP connection can be made.
 */
export async function probeEndpoint(p: ProbeParams): Promise<ProbeObservation> {
  const sock = await tcpConnect(p.host, p.port, p.timeoutMs);
  const tap = new TapStream(sock);
  const secrets = new Map<string, Buffer>();
  const obs: ProbeObservation = {
    version: null,
    cipher: null,
    serverChain: [],
    serverAuthorized: false,
    serverAuthorizationError: null,
    certificateRequested: null,
    caNames: [],
    caNamesSource: 'unavailable',
    handshakeCompleted: false,
    alert: null,
    error: null,
    httpStatus: null,
    httpStatusText: null,
  };
  await new Promise<void>((resolve) => {
    const s = tlsConnect({
      socket: tap,
      ...(isIP(p.host) ? {} : {servername: p.host}),
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
      ...(p.cert && p.key ? {cert: p.cert, key: p.key} : {}),
      ...(p.ca ? {ca: p.ca} : {}),
      ...(p.maxVersion ? {maxVersion: p.maxVersion} : {}),
    });
    let response = '';
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      s.destroy();
      resolve();
    };
    const timer = setTimeout(() => {
      obs.error ??= `no answer within ${p.timeoutMs / 1000}s`;
      finish();
    }, p.timeoutMs);
    s.on('keylog', (line: Buffer) => {
      const [label, , secret] = line.toString('latin1').trim().split(' ');
      if (label && secret) secrets.set(label, Buffer.from(secret, 'hex'));
    });
    s.on('secureConnect', () => {
      obs.handshakeCompleted = true;
      obs.version = s.getProtocol();
      obs.cipher = s.getCipher()?.standardName ?? s.getCipher()?.name ?? null;
      obs.serverChain = peerChain(s);
      obs.serverAuthorized = s.authorized;
      obs.serverAuthorizationError = s.authorizationError ? String(s.authorizationError) : null;
      const host = p.host.includes(':') ? `[${p.host}]` : p.host;
      s.write(
        `GET ${p.path} HTTP/1.1\r\nHost: ${host}${p.port === 443 ? '' : `:${p.port}`}\r\nUser-Agent: mtls-kit-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n`,
      );
    });
    s.on('data', (d: Buffer) => {
      response += d.toString('latin1');
      const m = /^HTTP\/\d(?:\.\d)? (\d{3}) ?([^\r\n]*)\r?\n/.exec(response);
      if (m) {
        obs.httpStatus = Number(m[1]);
        obs.httpStatusText = m[2] ?? '';
        finish();
      } else if (response.length > 65_536) finish();
    });
    s.on('error', (e: Error & {code?: string}) => {
      obs.alert ??= alertFromError(e);
      obs.error ??= e.code ? `${e.code}: ${e.message.split('\n')[0]}` : e.message;
      finish();
    });
    const closed = (): void => {
      if (obs.httpStatus === null)
        obs.error ??= obs.handshakeCompleted
          ? 'the server closed the connection after the handshake, without an HTTP response'
          : 'the server closed the connection during the handshake';
      finish();
    };
    s.on('end', closed);
    s.on('close', closed);
  });
  readHandshake(Buffer.concat(tap.received), secrets, obs);
  return obs;
}

/** The chain exactly as the server sent it (Node's peer chain may add local anchors). */
function sentChain(messages: HandshakeMessage[], tls13: boolean, obs: ProbeObservation): void {
  const m = messages.find((x) => x.type === HANDSHAKE.certificate);
  if (!m) return;
  try {
    const certs = parseCertificateMessage(m.body, tls13);
    if (certs.length > 0) obs.serverChain = certs;
  } catch {
    /* keep Node's view */
  }
}

/** Fills version, cipher, the CertificateRequest and a plaintext alert from the captured bytes. */
function readHandshake(data: Uint8Array, secrets: Map<string, Buffer>, obs: ProbeObservation): void {
  const records = splitRecords(data);
  const {messages, rest} = cleartextHandshake(records);
  const hello = messages.find((m) => m.type === HANDSHAKE.serverHello);
  if (!hello) return;
  const sh = parseServerHello(hello.body);
  obs.version ??= sh.version;
  if (sh.version === 'TLSv1.3') {
    const secret = secrets.get('SERVER_HANDSHAKE_TRAFFIC_SECRET');
    const decrypted = secret ? decryptTls13Handshake(rest, sh.cipherSuite, secret) : null;
    if (!decrypted?.some((m) => m.type === HANDSHAKE.encryptedExtensions)) return;
    sentChain(decrypted, true, obs);
    const cr = decrypted.find((m) => m.type === HANDSHAKE.certificateRequest);
    obs.certificateRequested = cr !== undefined;
    obs.caNamesSource = 'tls1.3-keylog-decrypted';
    if (cr) obs.caNames = parseCertificateRequest(cr.body, true).caNames;
  } else {
    const cr = messages.find((m) => m.type === HANDSHAKE.certificateRequest);
    // The server's first flight ends with ServerHelloDone; without it the capture is incomplete.
    sentChain(messages, false, obs);
    if (!cr && !messages.some((m) => m.type === HANDSHAKE.serverHelloDone)) return;
    obs.certificateRequested = cr !== undefined;
    obs.caNamesSource = 'tls1.2-cleartext';
    if (cr) obs.caNames = parseCertificateRequest(cr.body, false).caNames;
    if (!obs.alert) {
      const a = plaintextAlert(records);
      if (a !== undefined) obs.alert = {code: a, name: ALERTS[a] ?? `alert ${a}`};
    }
  }
}
