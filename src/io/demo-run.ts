/**
 * `mtls-kit demo`: the seed walkthrough on this machine, in-process, on 127.0.0.1 only.
 * A CA, a client certificate and a revoked one are made in a temporary folder; a verify
 * listener and a passthrough listener start with the echo backend; Node's https client
 * plays the user's curl for four steps; then everything stops.
 */
import {createPrivateKey} from 'node:crypto';
import {mkdtempSync, rmSync} from 'node:fs';
import https from 'node:https';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {createCa} from '../lib/pki/ca.js';
import {issueClientCert} from '../lib/pki/client-cert.js';
import {parseConnectionLogLine} from '../lib/alb/connection-log.js';
import {buildCrl} from '../lib/x509/crl.js';
import {formatRfc2253} from '../lib/x509/dn.js';
import {addDays} from '../lib/x509/issue.js';
import {KEY_TYPES} from '../lib/x509/profiles.js';
import {readCertificates} from '../lib/x509/read-certs.js';
import {newSerialHex} from '../lib/x509/serial.js';
import {issueServerCertificate} from '../lib/pki/server-cert.js';
import type {EchoResponse} from './echo-backend.js';
import {MODE_PUBLIC, MODE_SECRET, writeFilesAtomic} from './files.js';
import {startServe} from './serve-runtime.js';
import {type ApigwDemoStepName, runApigwDemo} from './demo-apigw.js';
import {encodeApigwClientCert} from '../lib/alb/headers.js';

export type DemoStepName = 'no-certificate' | 'certificate' | 'passthrough' | 'revoked' | ApigwDemoStepName;

export interface DemoStep {
  name: DemoStepName;
  title: string;
  /** What a user would type. */
  curl: string;
  /** What ALB does here. */
  expected: string;
  /** Whether the listener behaved as ALB does. */
  ok: boolean;
  /** HTTP status, or null when the connection was cut before any response. */
  httpStatus: number | null;
  /** The client-side error when the connection was cut (ECONNRESET, ...). */
  clientError: string | null;
  /** The listener's connection-log line for this connection (aws-reference 5). */
  connectionLog: string | null;
  verifyStatus: string | null;
  /** The mTLS headers the backend received (names lower-case). */
  headers?: Record<string, string>;
  /** Those headers decoded: the certificates they carry. */
  decoded?: Array<{subject: string; issuer: string; serial: string; matches: boolean}>;
}

export interface DemoResult {
  /** The temporary folder (removed at the end unless --keep). */
  dir: string;
  kept: boolean;
  listeners: Array<{mode: string; url: string}>;
  steps: DemoStep[];
  ok: boolean;
  /** With --keep: the serve command that restarts these listeners on the kept files. */
  serveCommand: string | null;
  /** With --keep: the serve command for the API Gateway listener and its authorizer. */
  apigwServeCommand: string | null;
  seconds: number;
}

interface Fetched {
  status: number | null;
  error: string | null;
  body: string;
}

function fetch(url: string, ca: string, cert?: string, key?: string): Promise<Fetched> {
  return new Promise((resolve) => {
    const req = https.get(url, {ca, ...(cert ? {cert} : {}), ...(key ? {key} : {}), agent: false, timeout: 5000}, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({status: res.statusCode ?? null, error: null, body}));
      res.on('error', (e: NodeJS.ErrnoException) => resolve({status: res.statusCode ?? null, error: e.code ?? e.message, body}));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({status: null, error: e.code ?? e.message, body: ''}));
  });
}

/** Certificates in a URL-encoded PEM header value (decodeURIComponent keeps `+`, aws-reference 1.3). */
function decodeCerts(value: string | undefined): ReturnType<typeof readCertificates> {
  if (!value) return [];
  return readCertificates(new TextEncoder().encode(decodeURIComponent(value)), 'header');
}

/**
 * Runs the four steps and stops everything.
 * @param keep keep the temporary folder (and write the server certificate there) so the printed commands work afterwards
 */
export async function runDemo(opts: {keep: boolean}): Promise<DemoResult> {
  const t0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'mtls-kit-demo-'));
  const now = new Date();
  const spec = KEY_TYPES['ec-p256'];
  try {
    const ca = createCa({keyType: 'ec-p256', rootSubject: [[{type: '2.5.4.3', value: 'mtls-kit Demo Root CA'}]], intermediateSubject: [[{type: '2.5.4.3', value: 'mtls-kit Demo Intermediate CA'}]], now});
    const inter = ca.intermediate!;
    const interKey = createPrivateKey(inter.keyPem);
    const issuer = {cert: inter.cert, key: interKey, spec, chain: [inter.cert]};
    const subject = (cn: string) => [[{type: '2.5.4.6', value: 'US'}], [{type: '2.5.4.10', value: 'Example Corp'}], [{type: '2.5.4.3', value: cn}]];
    const good = issueClientCert({issuer, keySpec: spec, subject: subject('device-1'), sans: [], days: 30, now, serialHex: newSerialHex()});
    const revoked = issueClientCert({issuer, keySpec: spec, subject: subject('device-2'), sans: [], days: 30, now, serialHex: newSerialHex()});
    const crl = buildCrl({issuer: inter.cert, issuerKey: interKey, entries: [{serial: revoked.parsed.serialHex, revokedAt: addDays(now, -1 / 1440), reason: 'keyCompromise'}], crlNumber: 1n, thisUpdate: addDays(now, -1 / 1440), nextUpdate: addDays(now, 30)});
    const server = issueServerCertificate({issuer: inter.cert, issuerKey: interKey, issuerSpec: spec, hosts: ['localhost', '127.0.0.1'], now});
    const f = {
      root: join(dir, 'root-ca.crt'),
      bundle: join(dir, 'ca-bundle.pem'),
      crl: join(dir, 'crl.pem'),
      cert: join(dir, 'device-1', 'certificate.crt'),
      key: join(dir, 'device-1', 'private-key.pem'),
      chain: join(dir, 'device-1', 'chain.pem'),
      revokedCert: join(dir, 'device-2', 'certificate.crt'),
      revokedKey: join(dir, 'device-2', 'private-key.pem'),
      serverCert: join(dir, 'server.crt'),
      serverKey: join(dir, 'server.key'),
    };
    const serverCertPem = server.certPem + inter.certPem;
    await writeFilesAtomic([
      {path: f.root, data: ca.root.certPem, mode: MODE_PUBLIC},
      {path: f.bundle, data: ca.bundlePem, mode: MODE_PUBLIC},
      {path: f.crl, data: crl.pem, mode: MODE_PUBLIC},
      {path: f.cert, data: good.certPem, mode: MODE_PUBLIC},
      {path: f.key, data: good.keyPem, mode: MODE_SECRET},
      {path: f.chain, data: good.chainPem, mode: MODE_PUBLIC},
      {path: f.revokedCert, data: revoked.certPem, mode: MODE_PUBLIC},
      {path: f.revokedKey, data: revoked.keyPem, mode: MODE_SECRET},
      // Only kept folders get the server key: otherwise it lives in memory alone.
      ...(opts.keep ? [{path: f.serverCert, data: serverCertPem, mode: MODE_PUBLIC}, {path: f.serverKey, data: server.keyPem, mode: MODE_SECRET}] : []),
    ]);

    const lines: string[] = [];
    const running = await startServe({
      host: '127.0.0.1',
      listeners: [
        {port: 0, mode: 'verify'},
        {port: 0, mode: 'passthrough'},
      ],
      dir,
      trustStore: f.bundle,
      crls: [f.crl],
      ignoreExpiry: false,
      headerMap: {},
      serverIdentity: {certPem: serverCertPem, keyPem: server.keyPem, caFile: f.root, label: 'issued in memory by the demo intermediate CA for localhost, 127.0.0.1'},
      log: (l) => lines.push(l),
    });
    const steps: DemoStep[] = [];
    try {
      const verify = running.info.listeners.find((l) => l.mode === 'verify')!;
      const pass = running.info.listeners.find((l) => l.mode === 'passthrough')!;
      const rootPem = ca.root.certPem;
      const run = async (name: DemoStepName, title: string, expected: string, url: string, curl: string, cert?: string, key?: string): Promise<{step: DemoStep; echo: EchoResponse | null}> => {
        const before = lines.length;
        const r = await fetch(url, rootPem, cert, key);
        // The log line is written before the socket is cut or the request forwarded.
        const line = lines.slice(before).at(-1) ?? null;
        const entry = line ? parseConnectionLogLine(line) : null;
        let echo: EchoResponse | null = null;
        try {
          echo = r.status === 200 ? (JSON.parse(r.body) as EchoResponse) : null;
        } catch {
          echo = null;
        }
        const step: DemoStep = {name, title, curl, expected, ok: false, httpStatus: r.status, clientError: r.error, connectionLog: line, verifyStatus: entry?.verifyStatus ?? null};
        if (echo) step.headers = Object.fromEntries(Object.entries(echo.headers).filter(([k]) => k.startsWith('x-amzn-mtls-')).map(([k, v]) => [k, String(v)]));
        return {step, echo};
      };
      const q = (p: string): string => (/^[\w./-]+$/.test(p) ? p : `'${p}'`);
      const base = `curl --cacert ${q(f.root)}`;

      // Step 1: no certificate. ALB fails the handshake (aws-reference 1.1).
      const s1 = await run('no-certificate', 'Step 1: no client certificate', 'the connection is cut before any HTTP response', verify.url, `${base} ${verify.url}`);
      s1.step.ok = s1.step.httpStatus === null && s1.step.verifyStatus?.startsWith('Failed:') === true;
      steps.push(s1.step);

      // Step 2: with the certificate; the backend receives the five verify headers.
      const s2 = await run('certificate', 'Step 2: with the client certificate', 'HTTP 200; the backend receives X-Amzn-Mtls-Clientcert-Serial-Number, -Issuer, -Subject, -Validity, -Leaf', verify.url, `${base} --cert ${q(f.cert)} --key ${q(f.key)} ${verify.url}`, good.certPem, good.keyPem);
      const leaf = decodeCerts(s2.step.headers?.['x-amzn-mtls-clientcert-leaf'])[0];
      if (leaf) s2.step.decoded = [{subject: formatRfc2253(leaf.subject), issuer: formatRfc2253(leaf.issuer), serial: leaf.serialHex, matches: Buffer.from(leaf.der).equals(Buffer.from(good.certDer))}];
      s2.step.ok = s2.step.httpStatus === 200 && s2.step.verifyStatus === 'Success' && s2.step.headers?.['x-amzn-mtls-clientcert-serial-number'] === good.parsed.serialHex && s2.step.decoded?.[0]?.matches === true;
      steps.push(s2.step);

      // Passthrough: the whole presented chain in one header (aws-reference 1.1).
      const s3 = await run('passthrough', 'Passthrough: the chain is forwarded', 'HTTP 200; the backend receives the presented chain in X-Amzn-Mtls-Clientcert', pass.url, `${base} --cert ${q(f.chain)} --key ${q(f.key)} ${pass.url}`, good.chainPem, good.keyPem);
      const chain = decodeCerts(s3.step.headers?.['x-amzn-mtls-clientcert']);
      const sent = [good.certDer, inter.cert.der];
      s3.step.decoded = chain.map((c, i) => ({subject: formatRfc2253(c.subject), issuer: formatRfc2253(c.issuer), serial: c.serialHex, matches: sent[i] !== undefined && Buffer.from(c.der).equals(Buffer.from(sent[i]!))}));
      s3.step.ok = s3.step.httpStatus === 200 && chain.length === 2 && s3.step.decoded.every((d) => d.matches);
      steps.push(s3.step);

      // A revoked certificate: on the CRL, so ALB logs Failed:ClientCertCrlHit (aws-reference 5).
      const s4 = await run('revoked', 'A revoked certificate', 'the connection is cut; the log says Failed:ClientCertCrlHit', verify.url, `${base} --cert ${q(f.revokedCert)} --key ${q(f.revokedKey)} ${verify.url}`, revoked.certPem, revoked.keyPem);
      s4.step.ok = s4.step.httpStatus === null && s4.step.verifyStatus === 'Failed:ClientCertCrlHit';
      steps.push(s4.step);

      // API Gateway: the certificate-propagation pattern (aws-reference 6.2).
      const gw = await runApigwDemo({
        dir,
        bundle: f.bundle,
        rootPem,
        rootFile: f.root,
        good: {certPem: good.certPem, keyPem: good.keyPem, cert: f.cert, key: f.key},
        revoked: {certPem: revoked.certPem, keyPem: revoked.keyPem, cert: f.revokedCert, key: f.revokedKey, serialDecimal: encodeApigwClientCert(revoked.parsed).serialNumber},
        serverIdentity: {certPem: serverCertPem, keyPem: server.keyPem, caFile: f.root, label: 'issued in memory by the demo intermediate CA for localhost, 127.0.0.1'},
        keep: opts.keep,
        now,
        q,
      });
      steps.push(...gw.steps);

      const listeners = [...running.info.listeners.map((l) => ({mode: l.mode, url: l.url})), {mode: 'apigw', url: gw.url}];
      const serveCommand = opts.keep
        ? `mtls-kit serve --listen 8443:verify --listen 9443:passthrough --trust-store ${q(f.bundle)} --crl ${q(f.crl)} --server-cert ${q(f.serverCert)} --server-key ${q(f.serverKey)}`
        : null;
      return {dir, kept: opts.keep, listeners, steps, ok: steps.every((s) => s.ok), serveCommand, apigwServeCommand: gw.serveCommand, seconds: (performance.now() - t0) / 1000};
    } finally {
      await running.close();
    }
  } finally {
    if (!opts.keep) rmSync(dir, {recursive: true, force: true});
  }
}
