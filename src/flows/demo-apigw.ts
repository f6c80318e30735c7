/**
 * The API Gateway part of `mtls-kit demo`: the certificate-propagation pattern of the
 * aws-samples seed (aws-reference 6.2) on 127.0.0.1. It writes the sample's Lambda
 * authorizer (extracting the subject, plus a deny list, since API Gateway checks no CRL),
 * starts an apigw listener with `--map-header X-Client-Cert-Sub=context.authorizer.clientCertSub`
 * in front of the echo backend, and runs four requests: no certificate, a good one (the
 * backend receives x-client-cert-sub), the revoked one (the authorizer denies: 403) and an
 * untrusted one (the handshake fails).
 */
import {createPrivateKey, X509Certificate} from 'node:crypto';
import {join} from 'node:path';
import {DEFAULT_ACCESS_LOG_FORMAT, parseHeaderMappings} from '../lib/apigw/context.js';
import {createCa} from '../lib/pki/ca.js';
import {issueClientCert} from '../lib/pki/client-cert.js';
import {KEY_TYPES} from '../lib/x509/profiles.js';
import {newSerialHex} from '../lib/x509/serial.js';
import {type ApigwDemoStepName, curlCommand, type DemoClient, type DemoStep, fetchOnce, shellWord} from '../io/net/demo-client.js';
import {MODE_PUBLIC, MODE_SECRET, writeFilesAtomic} from '../io/files.js';
import {startServe} from './serve.js';

export type {ApigwDemoStepName};

/** The seed's authorizer (src/authorizer/index.js), denying the demo's revoked device. */
export const DEMO_AUTHORIZER = `// The aws-samples/api-gateway-certificate-propagation authorizer, plus a deny list:
// API Gateway does not check CRLs, so revocation belongs here.
const crypto = require('crypto');
const REVOKED = new Set(process.env.DEMO_REVOKED_SERIALS ? process.env.DEMO_REVOKED_SERIALS.split(',') : []);

exports.handler = async (event) => {
    const clientCertPem = event.requestContext.identity.clientCert.clientCertPem;
    const clientCert = new crypto.X509Certificate(clientCertPem);
    const clientCertSub = clientCert.subject.replaceAll('\\n', ',');
    const effect = REVOKED.has(event.requestContext.identity.clientCert.serialNumber) ? 'Deny' : 'Allow';
    return {
        principalId: clientCertSub,
        context: { clientCertSub },
        policyDocument: {
            Version: '2012-10-17',
            Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: event.methodArn }],
        },
    };
};
`;

/** One API Gateway step. */
export type ApigwDemoStep = DemoStep & {name: ApigwDemoStepName};

/**
 * Runs the API Gateway steps with the demo's CA files; the listener runs until `close`.
 * @param p.serverIdentity the demo's in-memory server certificate
 */
export async function runApigwDemo(p: {
  dir: string;
  /** The listener's port (0: any free port). */
  port: number;
  bundle: string;
  rootPem: string;
  rootFile: string;
  good: DemoClient;
  revoked: DemoClient & {serialDecimal: string};
  serverIdentity: {certPem: string; keyPem: string; caFile: string; label: string};
  keep: boolean;
  now: Date;
}): Promise<{steps: ApigwDemoStep[]; url: string; authorizer: string; serveCommand: string | null; close: () => Promise<void>}> {
  const spec = KEY_TYPES['ec-p256'];
  const other = createCa({keyType: 'ec-p256', rootSubject: [[{type: '2.5.4.3', value: 'Someone Else Root CA'}]], now: p.now});
  const stranger = issueClientCert({
    issuer: {cert: other.root.cert, key: createPrivateKey(other.root.keyPem), spec, chain: []},
    keySpec: spec,
    subject: [[{type: '2.5.4.3', value: 'stranger'}]],
    sans: [],
    days: 30,
    now: p.now,
    serialHex: newSerialHex(),
  });
  const authorizer = join(p.dir, 'authorizer.cjs');
  const strangerFiles = {cert: join(p.dir, 'stranger', 'certificate.crt'), key: join(p.dir, 'stranger', 'private-key.pem')};
  await writeFilesAtomic([
    {path: authorizer, data: DEMO_AUTHORIZER, mode: MODE_PUBLIC},
    {path: strangerFiles.cert, data: stranger.certPem, mode: MODE_PUBLIC},
    {path: strangerFiles.key, data: stranger.keyPem, mode: MODE_SECRET},
  ]);
  // The authorizer reads its deny list from the environment, as a Lambda reads its configuration.
  const previous = process.env.DEMO_REVOKED_SERIALS;
  process.env.DEMO_REVOKED_SERIALS = p.revoked.serialDecimal;
  const access: string[] = [];
  const rejected: string[] = [];
  const mapping = 'X-Client-Cert-Sub=context.authorizer.clientCertSub';
  const running = await startServe({
    host: '127.0.0.1',
    listeners: [{port: p.port, mode: 'apigw'}],
    dir: p.dir,
    trustStore: p.bundle,
    crls: [],
    ignoreExpiry: false,
    headerMap: {},
    serverIdentity: p.serverIdentity,
    apigw: {
      authorizer,
      payload: 'rest',
      identitySources: [],
      ttlSeconds: 0,
      authorizerTimeoutMs: 10_000,
      mappings: parseHeaderMappings([mapping]),
      api: {region: 'us-east-1', accountId: '123456789012', apiId: 'mtlskit', stage: 'test', domainName: 'localhost'},
      accessLogFormat: DEFAULT_ACCESS_LOG_FORMAT,
      accessLog: (l) => access.push(l),
      authorizerLog: () => {},
    },
    log: () => {},
    onError: (m) => rejected.push(m),
  });
  const close = async (): Promise<void> => {
    await running.close();
    if (previous === undefined) delete process.env.DEMO_REVOKED_SERIALS;
    else process.env.DEMO_REVOKED_SERIALS = previous;
  };
  try {
    const url = running.info.listeners[0]!.url;
    const step = async (name: ApigwDemoStepName, title: string, expected: string, c?: DemoClient): Promise<ApigwDemoStep> => {
      const [a, r] = [access.length, rejected.length];
      const res = await fetchOnce(url, p.rootPem, c);
      const echo = res.echo;
      // Let the server write its line for a connection the client saw cut.
      for (let i = 0; i < 20 && access.length === a && rejected.length === r; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      const line = access.slice(a).at(-1) ?? rejected.slice(r).at(-1) ?? null;
      const s: ApigwDemoStep = {
        name,
        title,
        curl: curlCommand(p.rootFile, url, c),
        expected,
        ok: false,
        httpStatus: res.status,
        clientError: res.error,
        connectionLog: line,
        verifyStatus: null,
      };
      if (echo?.headers['x-client-cert-sub'] !== undefined) s.headers = {'x-client-cert-sub': String(echo.headers['x-client-cert-sub'])};
      return s;
    };
    const steps: ApigwDemoStep[] = [];
    const s1 = await step('apigw-no-certificate', 'API Gateway 1: no client certificate', 'the TLS handshake fails; the authorizer is not called');
    s1.ok = s1.httpStatus === null;
    steps.push(s1);
    const s2 = await step(
      'apigw-certificate',
      'API Gateway 2: with the client certificate',
      'HTTP 200; the authorizer extracts the subject and the backend receives it in x-client-cert-sub',
      p.good,
    );
    s2.ok = s2.httpStatus === 200 && s2.headers?.['x-client-cert-sub'] === new X509Certificate(p.good.certPem).subject.replaceAll('\n', ',');
    steps.push(s2);
    const s3 = await step(
      'apigw-deny',
      'API Gateway 3: the revoked certificate',
      'the handshake succeeds (API Gateway checks no CRL); the authorizer answers Deny: HTTP 403',
      p.revoked,
    );
    s3.ok = s3.httpStatus === 403;
    steps.push(s3);
    const s4 = await step('apigw-untrusted', 'API Gateway 4: a certificate from another CA', 'the TLS handshake fails (not in the truststore)', {
      ...stranger,
      ...strangerFiles,
    });
    s4.ok = s4.httpStatus === null;
    steps.push(s4);
    const serveCommand = p.keep
      ? `DEMO_REVOKED_SERIALS=${p.revoked.serialDecimal} mtls-kit serve --listen ${p.port}:apigw --trust-store ${shellWord(p.bundle)} --authorizer ${shellWord(authorizer)} --map-header ${mapping} --server-cert ${shellWord(join(p.dir, 'server.crt'))} --server-key ${shellWord(join(p.dir, 'server.key'))}`
      : null;
    return {steps, url, authorizer, serveCommand, close};
  } catch (e) {
    await close();
    throw e;
  }
}
