import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {Args, Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {dirFlag} from '../flags.js';
import {CLIENT_FILE_NAMES} from '../io/ca/client-files.js';
import {readInput} from '../io/files.js';
import {assertInputKind, PRIVATE_KEY_KINDS} from '../lib/x509/input-kind.js';
import {probeEndpoint} from '../io/net/probe.js';
import {judgeChain, loadCrl, loadTrustStore, policyFor} from '../lib/alb/verify.js';
import {resolveTrustCrls} from '../io/ca/trust-crls.js';
import {usageError} from '../lib/errors.js';
import {parseCertificate} from '../lib/x509/cert.js';
import {formatRfc2253} from '../lib/x509/dn.js';
import {readCertificates} from '../lib/x509/read-certs.js';
import type {ProbeResult} from '../lib/tls/probe-result.js';
import {renderProbe} from '../ui/probe-render.js';
import {warn} from '../ui/output.js';

export type {ProbedCert, ProbeResult} from '../lib/tls/probe-result.js';

function parseTarget(input: string): {url: URL; host: string; port: number; path: string} {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(input) ? input : `https://${input}`);
  } catch {
    throw usageError('BAD_URL', `"${input}" is not an address`, ['e.g. mtls-kit probe https://api.example.com/health or https://127.0.0.1:8443/']);
  }
  if (url.protocol !== 'https:')
    throw usageError('BAD_URL', `probe speaks TLS; "${input}" is ${url.protocol.replace(':', '')}`, [`use https://${url.host}${url.pathname}`]);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return {url, host, port: url.port ? Number(url.port) : 443, path: `${url.pathname || '/'}${url.search}`};
}

export default class Probe extends BaseCommand {
  static override summary =
    'Probe a live TLS endpoint: version, cipher, server chain, the client CA names it advertises, and whether it accepts a client certificate.';
  static override description =
    `Connects to the one address given (an ALB, an API Gateway custom domain, mtls-kit serve, any TLS server) and reports: the TLS version and cipher; the server's certificate chain with expiry; whether it asks for a client certificate and the acceptable client CA names it advertises (ALB sends them when AdvertiseTrustStoreCaNames is on), matched against the local CA bundle; with --cert/--key or --client, whether the mutual TLS handshake is accepted or rejected and with which TLS alert, the HTTP status of the path, and beside it the offline verify verdict for the same chain, as ALB's verify mode would log it.

The CA names are read from the handshake itself: in TLS 1.2 the CertificateRequest is cleartext; in TLS 1.3 it is encrypted, and probe decrypts its own connection's handshake with the secret Node reports for it (keylog).

Exit codes: 0 the handshake was accepted; 3 the server rejected the handshake (or closed it); 2 a bad address or flags, a certificate or key file of another kind; 4 no TCP connection, unreadable certificate or key files.`;

  static override examples = [
    '<%= config.bin %> probe https://api.example.com/health',
    '<%= config.bin %> probe https://api.example.com/ --client ./device-1',
    '<%= config.bin %> probe https://127.0.0.1:8443/ --cert device-1/chain.pem --key device-1/private-key.pem --trust-store pki/ca-bundle.pem --json',
  ];

  static override args = {
    url: Args.string({description: 'https://host[:port][/path]', required: true}),
  };

  static override flags = {
    dir: dirFlag,
    cert: Flags.string({
      summary: 'Client certificate to present (PEM; a chain file sends the intermediates too).',
      helpValue: 'FILE',
      dependsOn: ['key'],
      exclusive: ['client'],
    }),
    key: Flags.string({summary: 'Private key of --cert (PEM).', helpValue: 'FILE', dependsOn: ['cert']}),
    client: Flags.string({summary: 'A client folder from gen-client or sign: presents chain.pem with private-key.pem.', helpValue: 'DIR'}),
    'trust-store': Flags.string({
      summary: 'Local CA bundle to match advertised names and to verify the client chain offline (default: <dir>/ca-bundle.pem when it exists).',
      helpValue: 'FILE',
    }),
    crl: Flags.string({
      summary:
        "CRL for the offline verdict; repeatable (replaces the CA directory's; default: a trust store that is a CA directory's ca-bundle.pem brings its CRLs).",
      multiple: true,
      helpValue: 'FILE',
    }),
    'skip-crl': Flags.boolean({summary: 'Check no CRL in the offline verdict (it then says revocation not checked).', default: false, exclusive: ['crl']}),
    target: Flags.option({
      summary: 'Whose rules the offline verdict uses: ALB (default), an NLB TLS listener, or API Gateway (complete chain in the truststore, no revocation).',
      options: ['alb', 'nlb', 'apigw'] as const,
    })(),
    cacert: Flags.string({summary: "CA certificates to verify the server with (default: Node's list); the probe continues either way.", helpValue: 'FILE'}),
    'tls-max': Flags.option({summary: 'Highest TLS version to offer.', options: ['1.2', '1.3'] as const})(),
    timeout: Flags.integer({summary: 'Seconds to wait for the connection and the answer.', default: 10, min: 1}),
  };

  async run(): Promise<ProbeResult> {
    const {args, flags} = await this.parse(Probe);
    const target = parseTarget(args.url);
    let certFile = flags.cert;
    let keyFile = flags.key;
    if (flags.client) {
      const chain = join(flags.client, CLIENT_FILE_NAMES.chain);
      certFile = existsSync(chain) ? chain : join(flags.client, CLIENT_FILE_NAMES.certificate);
      keyFile = join(flags.client, CLIENT_FILE_NAMES.key);
    }
    const certPem = certFile ? (await readInput(certFile)).toString('utf8') : undefined;
    const keyData = keyFile ? await readInput(keyFile) : undefined;
    if (keyData)
      assertInputKind(keyData, keyFile!, PRIVATE_KEY_KINDS, {
        wanted: 'a private key',
        hints: {certificate: `pass the certificate with --cert ${keyFile} and its key with --key`},
      });
    const keyPem = keyData?.toString('utf8');
    const presented =
      certFile && certPem
        ? readCertificates(Buffer.from(certPem), certFile, {
            wanted: 'a client certificate',
            hints: {'private-key': `pass the key with --key ${certFile} and the certificate with --cert`},
          })
        : [];
    const defaultBundle = join(flags.dir, 'ca-bundle.pem');
    const bundleFile = flags['trust-store'] ?? (existsSync(defaultBundle) ? defaultBundle : undefined);
    const trust = bundleFile ? loadTrustStore(await readInput(bundleFile), bundleFile, `pass it with --crl ${bundleFile}`) : undefined;
    const bundle = trust?.certs ?? [];
    for (const w of trust?.warnings ?? []) warn(w);
    const ca = flags.cacert ? (await readInput(flags.cacert)).toString('utf8') : undefined;

    const obs = await probeEndpoint({
      host: target.host,
      port: target.port,
      path: target.path,
      ...(certPem && keyPem ? {cert: certPem, key: keyPem} : {}),
      ...(ca ? {ca} : {}),
      ...(flags['tls-max'] ? {maxVersion: flags['tls-max'] === '1.2' ? ('TLSv1.2' as const) : ('TLSv1.3' as const)} : {}),
      timeoutMs: flags.timeout * 1000,
    });

    const now = Date.now();
    const serverChain = obs.serverChain.map((der) => {
      const c = parseCertificate(der);
      return {
        subject: formatRfc2253(c.subject),
        issuer: formatRfc2253(c.issuer),
        serial: c.serialHex,
        notAfter: c.notAfter.toISOString().replace('.000Z', 'Z'),
        daysLeft: Math.floor((c.notAfter.getTime() - now) / 86_400_000),
      };
    });
    const bundleSubjects = new Set(bundle.map((c) => Buffer.from(c.subject).toString('latin1')));
    const advertisedKeys = new Set(obs.caNames.map((n) => Buffer.from(n).toString('latin1')));
    const advertisedCaNames =
      obs.certificateRequested === null
        ? null
        : obs.caNames.map((n) => ({dn: safeDn(n), inLocalBundle: bundleSubjects.has(Buffer.from(n).toString('latin1'))}));
    const accepted = obs.handshakeCompleted && obs.httpStatus !== null;
    let offlineVerdict: ProbeResult['offlineVerdict'] = null;
    if (presented.length > 0 && bundleFile && trust) {
      const policy = policyFor(flags.target ?? 'alb');
      // The one revocation rule (io/ca/trust-crls.ts), unless the product never checks revocation.
      const material =
        policy.revocation.source === 'none'
          ? {crls: [] as string[]}
          : await resolveTrustCrls({dir: flags.dir, trustStore: bundleFile, crl: flags.crl, skipCrl: flags['skip-crl']});
      const crls = [];
      for (const f of material.crls) crls.push(loadCrl(await readInput(f), f));
      const v = judgeChain(presented, policy, {trustStore: trust.store, crls, at: new Date()});
      offlineVerdict = {status: v.status, trustStore: bundleFile, policy: v.policy, crls: material.crls, revocationChecked: v.revocationChecked};
    }
    const result: ProbeResult = {
      url: target.url.toString(),
      host: target.host,
      port: target.port,
      path: target.path,
      tls: {version: obs.version, cipher: obs.cipher},
      serverChain,
      serverTrusted: {ok: obs.serverAuthorized, error: obs.serverAuthorizationError},
      clientCertRequested: obs.certificateRequested,
      advertisedCaNames,
      caNamesSource: obs.caNamesSource,
      localBundle: bundleFile
        ? {
            file: bundleFile,
            notAdvertised:
              obs.certificateRequested && obs.caNames.length > 0
                ? bundle.filter((c) => !advertisedKeys.has(Buffer.from(c.subject).toString('latin1'))).map((c) => formatRfc2253(c.subject))
                : [],
          }
        : null,
      client: presented[0] ? {file: certFile!, subject: formatRfc2253(presented[0].subject), serial: presented[0].serialHex} : null,
      handshake: {outcome: accepted ? 'accepted' : 'rejected', alert: obs.alert, error: accepted ? null : obs.error},
      http: {status: obs.httpStatus, statusText: obs.httpStatusText},
      offlineVerdict,
      next: nextStep(obs.certificateRequested, presented.length > 0, accepted, bundleFile, args.url),
    };
    if (!accepted) this.resultExitCode = 3;
    return this.emit(result, renderProbe);
  }
}

function safeDn(der: Uint8Array): string {
  try {
    return formatRfc2253(der);
  } catch {
    return `(unparsable name, ${der.length} bytes)`;
  }
}

function nextStep(requested: boolean | null, presented: boolean, accepted: boolean, bundle: string | undefined, url: string): string | null {
  if (requested && !presented) return `mtls-kit probe ${url} --client <client folder>   (present a certificate)`;
  if (presented && !accepted && bundle) return 'the offline verdict above says why; mtls-kit verify <chain> --trust-store ' + bundle + ' lists every check';
  return null;
}
