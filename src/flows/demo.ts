/**
 * `mtls-kit demo`: the seed walkthrough on this machine, in-process, on 127.0.0.1 only.
 * A CA, a client certificate and a revoked one are made in a temporary folder; a verify
 * listener and a passthrough listener start with the echo backend; Node's https client
 * plays the user's curl for four steps (then the API Gateway steps of demo-apigw.ts); then
 * everything stops, or with a kept folder runs on fixed ports until `hold` resolves.
 */
import {createPrivateKey} from 'node:crypto';
import {existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {preconditionError} from '../lib/errors.js';
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
import {curlCommand, type DemoClient, type DemoStep, type DemoStepName, fetchOnce, shellWord} from '../io/net/demo-client.js';
import {MODE_PUBLIC, MODE_SECRET, writeFilesAtomic} from '../io/files.js';
import {startServe} from './serve.js';
import {runApigwDemo} from './demo-apigw.js';
import {encodeApigwClientCert} from '../lib/alb/headers.js';

export type {DemoStep, DemoStepName} from '../io/net/demo-client.js';

export interface DemoResult {
  /** The folder holding the CA, clients, CRL and authorizer (a temporary one, removed at the end, unless kept). */
  dir: string;
  /** Whether dir stays (--keep); the listeners then ran on fixed ports until Ctrl-C. */
  kept: boolean;
  listeners: Array<{mode: string; url: string}>;
  steps: DemoStep[];
  ok: boolean;
  /** With --keep: the serve command that starts these listeners again on the kept files. */
  serveCommand: string | null;
  /** With --keep: the serve command for the API Gateway listener and its authorizer. */
  apigwServeCommand: string | null;
  seconds: number;
}

/** Certificates in a URL-encoded PEM header value (decodeURIComponent keeps `+`, aws-reference 1.3). */
function decodeCerts(value: string | undefined): ReturnType<typeof readCertificates> {
  if (!value) return [];
  return readCertificates(new TextEncoder().encode(decodeURIComponent(value)), 'header');
}

/** Ports of the three listeners (0: any free port). */
export interface DemoPorts {
  verify: number;
  passthrough: number;
  apigw: number;
}

/** The ports `demo --keep` uses unless --ports says otherwise: the ones the README and ALB examples use. */
export const DEMO_KEEP_PORTS: DemoPorts = {verify: 8443, passthrough: 9443, apigw: 8444};

export interface DemoParams {
  /** Keep the files in this folder (made if missing; it must hold nothing yet); null: a temporary folder, removed at the end. */
  keepDir: string | null;
  ports: DemoPorts;
  /** With keepDir: called with the result while the listeners still run; they stop when it resolves. */
  hold?: (result: DemoResult) => Promise<void>;
}

function demoFolder(keepDir: string | null): string {
  if (keepDir === null) return mkdtempSync(join(tmpdir(), 'mtls-kit-demo-'));
  const dir = resolve(keepDir);
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory())
      throw preconditionError('NOT_A_FOLDER', `${keepDir} is a file; demo --keep needs a folder`, [
        'give a new folder: mtls-kit demo --keep ./mtls-kit-demo-2',
      ]);
    if (readdirSync(dir).length > 0)
      throw preconditionError('FOLDER_NOT_EMPTY', `${keepDir} already holds files; demo --keep writes only into a new or empty folder`, [
        `remove it (rm -r ${shellWord(keepDir)}) or give another: mtls-kit demo --keep ./mtls-kit-demo-2`,
      ]);
  }
  mkdirSync(dir, {recursive: true, mode: 0o700});
  return dir;
}

/**
 * Runs the ALB steps and the API Gateway steps, then stops everything; with `keepDir` the
 * files stay there and the listeners run until `hold` resolves.
 * @throws MtlsKitError FOLDER_NOT_EMPTY / NOT_A_FOLDER for keepDir, PORT_IN_USE for a port
 */
export async function runDemo(opts: DemoParams): Promise<DemoResult> {
  const t0 = performance.now();
  const keep = opts.keepDir !== null;
  const dir = demoFolder(opts.keepDir);
  let finished = false;
  const now = new Date();
  const spec = KEY_TYPES['ec-p256'];
  try {
    const ca = createCa({
      keyType: 'ec-p256',
      rootSubject: [[{type: '2.5.4.3', value: 'mtls-kit Demo Root CA'}]],
      intermediateSubject: [[{type: '2.5.4.3', value: 'mtls-kit Demo Intermediate CA'}]],
      now,
    });
    const inter = ca.intermediate!;
    const interKey = createPrivateKey(inter.keyPem);
    const issuer = {cert: inter.cert, key: interKey, spec, chain: [inter.cert]};
    const subject = (cn: string) => [[{type: '2.5.4.6', value: 'US'}], [{type: '2.5.4.10', value: 'Example Corp'}], [{type: '2.5.4.3', value: cn}]];
    const good = issueClientCert({issuer, keySpec: spec, subject: subject('device-1'), sans: [], days: 30, now, serialHex: newSerialHex()});
    const revoked = issueClientCert({issuer, keySpec: spec, subject: subject('device-2'), sans: [], days: 30, now, serialHex: newSerialHex()});
    const crl = buildCrl({
      issuer: inter.cert,
      issuerKey: interKey,
      entries: [{serial: revoked.parsed.serialHex, revokedAt: addDays(now, -1 / 1440), reason: 'keyCompromise'}],
      crlNumber: 1n,
      thisUpdate: addDays(now, -1 / 1440),
      nextUpdate: addDays(now, 30),
    });
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
      ...(keep
        ? [
            {path: f.serverCert, data: serverCertPem, mode: MODE_PUBLIC},
            {path: f.serverKey, data: server.keyPem, mode: MODE_SECRET},
          ]
        : []),
    ]);

    const lines: string[] = [];
    const running = await startServe({
      host: '127.0.0.1',
      listeners: [
        {port: opts.ports.verify, mode: 'verify'},
        {port: opts.ports.passthrough, mode: 'passthrough'},
      ],
      dir,
      trustStore: f.bundle,
      crls: [f.crl],
      ignoreExpiry: false,
      headerMap: {},
      serverIdentity: {
        certPem: serverCertPem,
        keyPem: server.keyPem,
        caFile: f.root,
        label: 'issued in memory by the demo intermediate CA for localhost, 127.0.0.1',
      },
      log: (l) => lines.push(l),
    });
    const steps: DemoStep[] = [];
    try {
      const verify = running.info.listeners.find((l) => l.mode === 'verify')!;
      const pass = running.info.listeners.find((l) => l.mode === 'passthrough')!;
      const rootPem = ca.root.certPem;
      const run = async (name: DemoStepName, title: string, expected: string, url: string, client?: DemoClient): Promise<DemoStep> => {
        const before = lines.length;
        const r = await fetchOnce(url, rootPem, client);
        // The log line is written before the socket is cut or the request forwarded.
        const line = lines.slice(before).at(-1) ?? null;
        const entry = line ? parseConnectionLogLine(line) : null;
        const step: DemoStep = {
          name,
          title,
          curl: curlCommand(f.root, url, client),
          expected,
          ok: false,
          httpStatus: r.status,
          clientError: r.error,
          connectionLog: line,
          verifyStatus: entry?.verifyStatus ?? null,
        };
        if (r.echo)
          step.headers = Object.fromEntries(
            Object.entries(r.echo.headers)
              .filter(([k]) => k.startsWith('x-amzn-mtls-'))
              .map(([k, v]) => [k, String(v)]),
          );
        return step;
      };
      const device1: DemoClient = {certPem: good.certPem, keyPem: good.keyPem, cert: f.cert, key: f.key};
      const device2: DemoClient = {certPem: revoked.certPem, keyPem: revoked.keyPem, cert: f.revokedCert, key: f.revokedKey};

      // Step 1: no certificate. ALB fails the handshake (aws-reference 1.1).
      const s1 = await run('no-certificate', 'Step 1: no client certificate', 'the connection is cut before any HTTP response', verify.url);
      s1.ok = s1.httpStatus === null && s1.verifyStatus?.startsWith('Failed:') === true;
      steps.push(s1);

      // Step 2: with the certificate; the backend receives the five verify headers.
      const s2 = await run(
        'certificate',
        'Step 2: with the client certificate',
        'HTTP 200; the backend receives X-Amzn-Mtls-Clientcert-Serial-Number, -Issuer, -Subject, -Validity, -Leaf',
        verify.url,
        device1,
      );
      const leaf = decodeCerts(s2.headers?.['x-amzn-mtls-clientcert-leaf'])[0];
      if (leaf)
        s2.decoded = [
          {
            subject: formatRfc2253(leaf.subject),
            issuer: formatRfc2253(leaf.issuer),
            serial: leaf.serialHex,
            matches: Buffer.from(leaf.der).equals(Buffer.from(good.certDer)),
          },
        ];
      s2.ok =
        s2.httpStatus === 200 &&
        s2.verifyStatus === 'Success' &&
        s2.headers?.['x-amzn-mtls-clientcert-serial-number'] === good.parsed.serialHex &&
        s2.decoded?.[0]?.matches === true;
      steps.push(s2);

      // A revoked certificate: on the CRL, so ALB logs Failed:ClientCertCrlHit (aws-reference 5).
      const s4 = await run('revoked', 'Step 3: a revoked certificate', 'the connection is cut; the log says Failed:ClientCertCrlHit', verify.url, device2);
      s4.ok = s4.httpStatus === null && s4.verifyStatus === 'Failed:ClientCertCrlHit';
      steps.push(s4);

      // Passthrough: the whole presented chain in one header (aws-reference 1.1).
      const s3 = await run(
        'passthrough',
        'Passthrough: the chain is forwarded to the target',
        'HTTP 200; the backend receives the presented chain in X-Amzn-Mtls-Clientcert',
        pass.url,
        {...device1, certPem: good.chainPem, cert: f.chain},
      );
      const chain = decodeCerts(s3.headers?.['x-amzn-mtls-clientcert']);
      const sent = [good.certDer, inter.cert.der];
      s3.decoded = chain.map((c, i) => ({
        subject: formatRfc2253(c.subject),
        issuer: formatRfc2253(c.issuer),
        serial: c.serialHex,
        matches: sent[i] !== undefined && Buffer.from(c.der).equals(Buffer.from(sent[i]!)),
      }));
      s3.ok = s3.httpStatus === 200 && chain.length === 2 && s3.decoded.every((d) => d.matches);
      steps.push(s3);

      // API Gateway: the certificate-propagation pattern (aws-reference 6.2).
      const gw = await runApigwDemo({
        dir,
        port: opts.ports.apigw,
        bundle: f.bundle,
        rootPem,
        rootFile: f.root,
        good: device1,
        revoked: {...device2, serialDecimal: encodeApigwClientCert(revoked.parsed).serialNumber},
        serverIdentity: {
          certPem: serverCertPem,
          keyPem: server.keyPem,
          caFile: f.root,
          label: 'issued in memory by the demo intermediate CA for localhost, 127.0.0.1',
        },
        keep,
        now,
      });
      try {
        steps.push(...gw.steps);
        const listeners = [...running.info.listeners.map((l) => ({mode: l.mode, url: l.url})), {mode: 'apigw', url: gw.url}];
        const serveCommand = keep
          ? `mtls-kit serve --listen ${opts.ports.verify}:verify --listen ${opts.ports.passthrough}:passthrough --trust-store ${shellWord(f.bundle)} --crl ${shellWord(f.crl)} --server-cert ${shellWord(f.serverCert)} --server-key ${shellWord(f.serverKey)}`
          : null;
        const result: DemoResult = {
          dir,
          kept: keep,
          listeners,
          steps,
          ok: steps.every((s) => s.ok),
          serveCommand,
          apigwServeCommand: gw.serveCommand,
          seconds: (performance.now() - t0) / 1000,
        };
        finished = true;
        if (keep && opts.hold) await opts.hold(result);
        return result;
      } finally {
        await gw.close();
      }
    } finally {
      await running.close();
    }
  } finally {
    // A kept folder stays only when the demo ran; after a failure (a port in use) it goes too.
    if (!keep) rmSync(dir, {recursive: true, force: true});
    else if (!finished) for (const e of readdirSync(dir)) rmSync(join(dir, e), {recursive: true, force: true});
  }
}
