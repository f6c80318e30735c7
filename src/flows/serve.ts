/**
 * Starting a local ALB from resolved options: loads the trust store, CRLs and server
 * identity from disk, wires the verifier (src/lib/alb/verify.ts) and the header encoder
 * (src/lib/alb/headers.ts) into the listeners, and starts the echo backend when there is no
 * target. `mtls-kit serve` and `mtls-kit demo` both start through here.
 */
import {isIP} from 'node:net';
import {relative} from 'node:path';
import type {ListenerMode, ListenerSpec} from '../lib/alb/proxy.js';
import {isMtlsKitError, preconditionError, usageError} from '../lib/errors.js';
import {readInput} from '../io/files.js';
import {ALB_HEADERS, encodePassthroughHeader, encodeVerifyHeaders, type HeaderMap} from '../lib/alb/headers.js';
import {loadPrivateKey} from '../lib/x509/issue.js';
import {assertInputKind, PRIVATE_KEY_KINDS} from '../lib/x509/input-kind.js';
import {issueServerCertificate} from '../lib/pki/server-cert.js';
import {ALB_POLICY, judgeChain, type LoadedCrl, type TrustStore} from '../lib/alb/verify.js';
import type {ParsedCertificate} from '../lib/x509/cert.js';
import {type ApigwInfo, apigwInfo, type ApigwOptions, type RunningApigwServer, startApigwListeners} from '../io/net/apigw-listener.js';
import {type ChainVerdict, type RunningAlbServer, startAlbServer} from '../io/net/alb-listener.js';
import {startNlbServe} from '../io/net/nlb-listener.js';
import {formatIdentityFilter, type IdentityFilter} from '../lib/nlb/identity-filter.js';
import {caPaths, loadCa, readTierKey} from '../io/ca/directory.js';
import {type RunningEchoBackend, startEchoBackend} from '../io/net/echo-backend.js';
import {resolveSecret} from '../io/secrets.js';
import {TrustMaterial} from '../io/net/trust-material.js';
import {type CloudFrontServeOptions, startCloudFrontServe} from './serve-cloudfront.js';
import {findSslPolicy, policyIncompatibility, SSL_POLICY_NAMES, tlsOptionsForPolicy} from '../lib/alb/ssl-policies.js';
import {opensslSupportsGroup} from '../io/net/tls-groups.js';

export interface ServeOptions {
  host: string;
  listeners: ListenerSpec[];
  /** CA directory: the default trust store and the issuer of the on-the-fly server certificate. */
  dir: string;
  trustStore?: string;
  crls: string[];
  ignoreExpiry: boolean;
  /** ALB's AdvertiseTrustStoreCaNames: send the trust store's subjects as acceptable CA names. */
  advertiseCaNames?: boolean;
  target?: string;
  headerMap: HeaderMap;
  serverCert?: string;
  serverKey?: string;
  /** A server identity already in memory (the demo's); wins over files and --dir. */
  serverIdentity?: {certPem: string; keyPem: string; caFile: string; label: string};
  passphraseFile?: string;
  /** Settings of `nlb` listeners: identity filters and PROXY protocol v2 to the target. */
  nlb?: {identityFilters: IdentityFilter[]; proxyProtocol: boolean};
  /** Settings of `apigw` listeners (required when there is one). */
  apigw?: ApigwOptions;
  /** Settings of `cloudfront` listeners (default: OCSP on). */
  cloudfront?: CloudFrontServeOptions;
  /** ALB's routing.http.drop_invalid_header_fields.enabled (aws-reference 7.12). */
  dropInvalidHeaderFields?: boolean;
  /** ALB's routing.http.x_amzn_tls_version_and_cipher_suite.enabled. */
  tlsVersionAndCipherHeaders?: boolean;
  /** The ALB/NLB TLS security policy by name (`ELBSecurityPolicy-TLS13-1-2-2021-06`); default: Node's OpenSSL defaults. */
  sslPolicy?: string;
  /** Reload the trust store and CRLs when their files change (default true). */
  watch?: boolean;
  log: (line: string) => void;
  onError?: (message: string) => void;
  /** Reloads of the trust material and spoofing attempts (one line each). */
  onNotice?: (message: string) => void;
}

export interface ServeListenerInfo {
  port: number;
  mode: ListenerMode;
  /** `cloudfront` listeners: required, optional or passthrough (aws-reference 11.3). */
  viewerMtlsMode?: string;
  url: string;
  /** A curl command for this listener (verify: with a client certificate). */
  curl: string;
}

export interface ServeInfo {
  host: string;
  listeners: ServeListenerInfo[];
  /** The target URL, or `echo` for the built-in echo backend. */
  target: string;
  trustStore: string | null;
  crls: string[];
  ignoreExpiry: boolean;
  /** Where the server certificate came from: a file, or `issued by <dir>` in memory. */
  serverCertificate: string;
  /** The CA file a client should trust for the server certificate (null: unknown). */
  serverCa: string | null;
  /** nlb listeners only: the identity filters (FIELD:MATCH:VALUE) and whether PROXY v2 is sent. */
  nlb?: {identityFilters: string[]; proxyProtocol: boolean};
  /** The API Gateway listeners' authorizer and mappings (null without apigw listeners). */
  apigw: ApigwInfo | null;
  /** The TLS security policy of the ALB and NLB listeners (null: Node's OpenSSL defaults). */
  sslPolicy: string | null;
}

export interface RunningServe {
  info: ServeInfo;
  /** Reads the trust store and CRLs again (SIGHUP); keeps the old ones when a file is bad. */
  reload(reason: string): Promise<void>;
  /** The listener frames' counters: connections, bytes of client handshakes read, work units. */
  stats(): {connections: number; tappedBytes: number; work: number};
  close(): Promise<void>;
}

async function readFileOr(path: string, what: string, fix: string): Promise<Buffer> {
  try {
    return await readInput(path);
  } catch (error) {
    // A folder or a URL keeps readInput's sentence; a missing file names what it was for.
    if (isMtlsKitError(error) && error.code !== 'FILE_NOT_FOUND') throw error;
    throw preconditionError('FILE_NOT_FOUND', `cannot read ${what} ${path}: ENOENT`, [fix]);
  }
}

/** `localhost` and 127.0.0.1 always, plus the host the listeners bind to. */
function serverNames(host: string): string[] {
  const names = ['localhost', '127.0.0.1'];
  if (host !== '0.0.0.0' && host !== '::' && !names.includes(host)) names.push(host);
  if (isIP(host) === 6 && host === '::1') names.push('::1');
  return names;
}

const shellPath = (p: string): string => {
  const r = relative(process.cwd(), p);
  const s = r && !r.startsWith('..') ? r : p;
  return /^[\w./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
};

/**
 * Loads everything and starts the listeners (and the echo backend without a target).
 * @throws MtlsKitError FILE_NOT_FOUND / CA_NOT_FOUND / BAD_CRL / PORT_IN_USE (exit 4),
 *   BAD_TARGET / NO_TRUST_STORE (exit 2).
 */
export async function startServe(o: ServeOptions): Promise<RunningServe> {
  const nlbPorts = o.listeners.filter((l) => l.mode === 'nlb').map((l) => l.port);
  if (nlbPorts.length > 0 && nlbPorts.length < o.listeners.length) {
    throw usageError('MIXED_LISTENERS', 'nlb listeners forward TCP to a tcp:// target and cannot share a serve with HTTP listeners', [
      'run one mtls-kit serve for the nlb listeners and another for the others',
    ]);
  }
  if (o.nlb && (o.nlb.identityFilters.length > 0 || o.nlb.proxyProtocol) && nlbPorts.length === 0) {
    throw usageError('NO_NLB_LISTENER', `${o.nlb.proxyProtocol ? '--proxy-protocol' : 'identity filters'} apply to nlb listeners, and none is configured`, [
      'add --listen PORT:nlb',
    ]);
  }
  // apigw listeners judge clients against the bundle too (as API Gateway's truststore), nlb ones as NLB does.
  const hasVerify = o.listeners.some(
    (l) => l.mode === 'verify' || l.mode === 'apigw' || l.mode === 'nlb' || (l.mode === 'cloudfront' && l.viewerMtlsMode !== 'passthrough'),
  );
  const cloudfrontSpecs = o.listeners.filter((l) => l.mode === 'cloudfront');
  const apigwSpecs = o.listeners.filter((l) => l.mode === 'apigw');
  const paths = caPaths(o.dir);

  // The TLS security policy (aws-reference 13): one table, mapped onto Node's options.
  const sslPolicy = o.sslPolicy === undefined ? undefined : findSslPolicy(o.sslPolicy);
  if (o.sslPolicy !== undefined && !sslPolicy) {
    throw usageError('UNKNOWN_SSL_POLICY', `--ssl-policy ${o.sslPolicy} is not an ALB security policy mtls-kit knows`, [
      `use one of: ${SSL_POLICY_NAMES.join(', ')}`,
      ...(/FIPS/i.test(o.sslPolicy) ? ['FIPS policies are not reproduced: the local OpenSSL is not a FIPS module'] : []),
    ]);
  }
  if (sslPolicy && apigwSpecs.length === o.listeners.length) {
    throw usageError('UNKNOWN_SSL_POLICY', '--ssl-policy applies to verify, passthrough and nlb listeners; API Gateway has its own TLS policies', [
      'drop --ssl-policy for apigw listeners',
    ]);
  }
  const policyTls = sslPolicy ? tlsOptionsForPolicy(sslPolicy, opensslSupportsGroup) : undefined;
  if (sslPolicy && policyTls && policyTls.missingGroups.length > 0) {
    o.onError?.(
      `${sslPolicy.name}: this Node's OpenSSL ${process.versions.openssl} lacks ${policyTls.missingGroups.join(', ')}; the listeners offer ${policyTls.options.ecdhCurve} instead (Node 24 with OpenSSL 3.5 has them)`,
    );
  }
  const incompatibility = sslPolicy ? (leaf: Parameters<typeof policyIncompatibility>[1]) => policyIncompatibility(sslPolicy, leaf) : undefined;

  // Trust store (verify listeners only): --trust-store, else the CA directory's bundle.
  // Reloaded when the bundle or a CRL changes, and on SIGHUP (trust-material.ts).
  let trustStorePath: string | null = null;
  let judge: (chain: ParsedCertificate[]) => ChainVerdict = () => ({status: 'Success', ok: true});
  let crls: LoadedCrl[] = [];
  let store: TrustStore | null = null;
  let material: TrustMaterial | undefined;
  let bundlePem: string | undefined;
  if (o.crls.length > 0 && !o.listeners.some((l) => l.mode === 'verify' || l.mode === 'nlb')) {
    throw usageError('NO_VERIFY_LISTENER', '--crl applies to verify listeners, and none is configured (API Gateway does not check revocation)', [
      'add --listen PORT:verify, or check revocation in the Lambda authorizer',
    ]);
  }
  if (hasVerify) {
    trustStorePath = o.trustStore ?? paths.bundle;
    // The CA names advertised in the CertificateRequest come from the bundle as it was at
    // start-up; verification follows every reload.
    bundlePem = (
      await readFileOr(
        trustStorePath,
        'the trust store',
        o.trustStore ? 'check --trust-store' : `create a CA with mtls-kit gen-ca --dir ${o.dir}, or pass --trust-store ca-bundle.pem`,
      )
    ).toString('utf8');
    material = await TrustMaterial.load({
      bundlePath: trustStorePath,
      crlPaths: o.crls,
      ...(o.onNotice ? {onReload: o.onNotice} : {}),
      ...(o.onError ? {onWarning: o.onError} : {}),
    });
    store = material.store;
    crls = material.crls;
    const live = material;
    judge = (chain) => {
      // An empty chain (no client certificate) gets the code judgeChain gives it,
      // ClientCertInvalid: what ALB logs for a missing certificate is not documented
      // (aws-reference 1.1 says only that the handshake fails; see the open items in 7).
      // ALB verify mode's policy (policy.ts), the one verify and decode-header judge by.
      const r = judgeChain(chain, ALB_POLICY, {trustStore: live.store, crls: live.crls, at: new Date(), ignoreExpiry: o.ignoreExpiry});
      return {status: r.status, ok: r.code === null};
    };
  } else if (o.crls.length > 0 || o.trustStore) {
    throw usageError('NO_VERIFY_LISTENER', '--trust-store and --crl apply to verify listeners, and none is configured', [
      'add --mode verify or --listen PORT:verify',
    ]);
  }
  if (o.watch !== false) material?.watch();

  // Server identity: files, or issued now by the CA for the names we answer on.
  let certPem: string;
  let keyPem: string;
  let serverCertificate: string;
  let serverCa: string | null;
  if (o.serverIdentity) {
    ({certPem, keyPem} = o.serverIdentity);
    serverCertificate = o.serverIdentity.label;
    serverCa = o.serverIdentity.caFile;
  } else if (o.serverCert || o.serverKey) {
    if (!o.serverCert || !o.serverKey)
      throw usageError('SERVER_CERT_INCOMPLETE', '--server-cert and --server-key go together', ['give both, or neither to have the CA issue one in memory']);
    const certData = await readFileOr(o.serverCert, 'the server certificate', 'check --server-cert');
    const keyData = await readFileOr(o.serverKey, 'the server key', 'check --server-key');
    assertInputKind(certData, o.serverCert, ['certificate'], {
      wanted: 'a server certificate',
      hints: {'private-key': `pass it with --server-key ${o.serverCert}`},
    });
    assertInputKind(keyData, o.serverKey, PRIVATE_KEY_KINDS, {wanted: 'a private key', hints: {certificate: `pass it with --server-cert ${o.serverKey}`}});
    certPem = certData.toString('utf8');
    keyPem = keyData.toString('utf8');
    serverCertificate = o.serverCert;
    serverCa = null;
  } else {
    const ca = await loadCa(o.dir);
    const passphrase = await resolveSecret(o.passphraseFile, 'MTLS_KIT_CA_PASSPHRASE', 'CA passphrase');
    const key = loadPrivateKey(await readTierKey(ca.issuing), ca.issuing.paths.key, passphrase);
    const issued = issueServerCertificate({issuer: ca.issuing.cert, issuerKey: key.key, issuerSpec: key.spec, hosts: serverNames(o.host), now: new Date()});
    // Send the intermediate too, so clients that trust only the root can build the path.
    certPem = issued.certPem + (ca.intermediate && ca.issuing === ca.intermediate ? ca.intermediate.certPem : '');
    keyPem = issued.keyPem;
    serverCertificate = `issued in memory by ${ca.issuing.paths.cert} for ${serverNames(o.host).join(', ')}`;
    serverCa = ca.root.paths.cert;
  }

  if (nlbPorts.length > 0) {
    // An NLB TLS listener: TCP to a tcp:// target (src/io/net/nlb-listener.ts).
    const nlbOptions = o.nlb ?? {identityFilters: [], proxyProtocol: false};
    const nlb = await startNlbServe({
      host: o.host,
      ports: nlbPorts,
      certPem,
      keyPem,
      trustStore: store!,
      crls,
      ignoreExpiry: o.ignoreExpiry,
      identityFilters: nlbOptions.identityFilters,
      target: o.target,
      proxyProtocol: nlbOptions.proxyProtocol,
      ...(policyTls ? {tlsOptions: policyTls.options} : {}),
      log: o.log,
      ...(o.onError ? {onError: o.onError} : {}),
    });
    const caFlag = serverCa ? `-CAfile ${shellPath(serverCa)}` : '';
    const info: ServeInfo = {
      host: o.host,
      listeners: nlb.listeners.map((l) => ({
        ...l,
        curl: `openssl s_client -connect ${o.host.includes(':') ? `[${o.host}]` : o.host}:${l.port} ${caFlag} -cert certificate.crt -key private-key.pem -quiet`.replace(
          '  ',
          ' ',
        ),
      })),
      target: nlb.target,
      trustStore: trustStorePath,
      crls: o.crls,
      ignoreExpiry: o.ignoreExpiry,
      serverCertificate,
      serverCa,
      nlb: {identityFilters: nlbOptions.identityFilters.map(formatIdentityFilter), proxyProtocol: nlbOptions.proxyProtocol},
      apigw: null,
      sslPolicy: sslPolicy?.name ?? null,
    };
    return {
      info,
      reload: async (reason) => material?.reload(reason, true),
      stats: () => nlb.stats(),
      close: async () => {
        material?.close();
        await nlb.close();
      },
    };
  }

  let target: URL;
  let echo: RunningEchoBackend | undefined;
  if (o.target) {
    try {
      target = new URL(o.target);
    } catch {
      throw usageError('BAD_TARGET', `--target ${o.target} is not a URL`, ['write it as --target http://127.0.0.1:3000']);
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw usageError('BAD_TARGET', `--target ${o.target} must be http:// or https://`);
  } else {
    echo = await startEchoBackend();
    target = echo.url;
  }

  // Client-sent headers under the renamed names are stripped like X-Amzn-Mtls-* (spoofing).
  const strip = new Set((Object.keys(ALB_HEADERS) as Array<keyof typeof ALB_HEADERS>).map((k) => (o.headerMap[k] ?? ALB_HEADERS[k]).toLowerCase()));
  let server: RunningAlbServer;
  try {
    server = await startAlbServer({
      host: o.host,
      listeners: o.listeners.filter((l) => l.mode !== 'apigw' && l.mode !== 'cloudfront'),
      certPem,
      keyPem,
      judge,
      verifyHeaders: (leaf) => encodeVerifyHeaders(leaf, o.headerMap),
      passthroughHeader: (der) => encodePassthroughHeader(der, o.headerMap),
      strip,
      dropInvalidHeaderFields: o.dropInvalidHeaderFields ?? false,
      tlsVersionAndCipherHeaders: o.tlsVersionAndCipherHeaders ?? false,
      ...(o.onNotice ? {onSpoof: o.onNotice} : {}),
      target,
      ...(o.advertiseCaNames && bundlePem ? {advertiseCaPem: bundlePem} : {}),
      ...(policyTls ? {tlsOptions: policyTls.options} : {}),
      ...(incompatibility ? {incompatibility} : {}),
      log: o.log,
      ...(o.onError ? {onError: o.onError} : {}),
    });
  } catch (error) {
    await echo?.close();
    throw error;
  }

  let gw: RunningApigwServer | undefined;
  if (apigwSpecs.length > 0) {
    try {
      if (!o.apigw) throw usageError('NO_APIGW_OPTIONS', 'apigw listeners need their settings');
      gw = await startApigwListeners({
        ...o.apigw,
        host: o.host,
        listeners: apigwSpecs,
        certPem,
        keyPem,
        trustStore: store!,
        target,
        ...(o.onError ? {onError: o.onError} : {}),
        ...(o.onNotice ? {onSpoof: o.onNotice} : {}),
      });
    } catch (error) {
      await server.close();
      await echo?.close();
      throw error;
    }
  }

  let cf: Awaited<ReturnType<typeof startCloudFrontServe>> | undefined;
  if (cloudfrontSpecs.length > 0) {
    try {
      const live = material;
      cf = await startCloudFrontServe({
        host: o.host,
        specs: cloudfrontSpecs,
        certPem,
        keyPem,
        // Passthrough-only edges have no trust store: nothing is judged there.
        trustStore: () => live!.store,
        ignoreExpiry: o.ignoreExpiry,
        options: o.cloudfront ?? {skipOcsp: false},
        target,
        ...(o.advertiseCaNames && bundlePem ? {advertiseCaPem: bundlePem} : {}),
        log: o.log,
        ...(o.onError ? {onError: o.onError} : {}),
        ...(o.onNotice ? {onSpoof: o.onNotice} : {}),
      });
    } catch (error) {
      await gw?.close();
      await server.close();
      await echo?.close();
      throw error;
    }
  }

  const cacert = serverCa ? `--cacert ${shellPath(serverCa)}` : '--insecure';
  const info: ServeInfo = {
    host: o.host,
    listeners: [...server.listeners, ...(gw?.listeners ?? []), ...(cf?.listeners ?? [])].map((l) => ({
      ...l,
      curl: `curl ${cacert} --cert certificate.crt --key private-key.pem ${l.url}`,
    })),
    target: o.target ?? 'echo',
    trustStore: trustStorePath,
    crls: o.crls,
    ignoreExpiry: o.ignoreExpiry,
    serverCertificate,
    serverCa,
    apigw: gw && o.apigw ? apigwInfo(o.apigw) : null,
    sslPolicy: sslPolicy?.name ?? null,
  };
  return {
    info,
    reload: async (reason) => material?.reload(reason, true),
    stats: () => {
      const a = server.stats();
      const g = gw?.stats() ?? {connections: 0, tappedBytes: 0, work: 0};
      const c = cf?.stats() ?? {connections: 0, tappedBytes: 0, work: 0};
      return {
        connections: a.connections + g.connections + c.connections,
        tappedBytes: a.tappedBytes + g.tappedBytes + c.tappedBytes,
        work: a.work + g.work + c.work,
      };
    },
    async close() {
      material?.close();
      await cf?.close();
      await gw?.close();
      await server.close();
      await echo?.close();
    },
  };
}
