import {createWriteStream, type WriteStream} from 'node:fs';
import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {apigwServeFlags, dirFlag, identityFilterFlags, passphraseFileFlag} from '../flags.js';
import {waitForStopSignal} from '../io/stop-signal.js';
import {resolveApigwOptions} from '../io/net/apigw-listener.js';
import {resolveIdentityFilters} from '../io/identity-filters.js';
import {type ServeInfo, startServe} from '../flows/serve.js';
import {type ListenerSpec, LISTENER_MODES, parseListenSpecs} from '../lib/alb/proxy.js';
import {preconditionError, usageError} from '../lib/errors.js';
import {parseHeaderMap} from '../lib/alb/headers.js';
import {err as ec, hint, out, printErr, printLine, warn} from '../ui/output.js';
import {resolveTrustCrls} from '../io/ca/trust-crls.js';
import {MODE_PUBLIC, writeFileAtomic} from '../io/files.js';

export type ServeResult = ServeInfo;

export default class Serve extends BaseCommand {
  static override summary = 'Run a local ALB: HTTPS listeners in mTLS verify or passthrough mode in front of your backend.';
  static override description =
    `Each listener behaves like an ALB mTLS listener: in verify mode the client chain is judged by the same code as \`mtls-kit verify\` (--trust-store, --crl, --ignore-expiry) and a rejected client, or one without a certificate, has its connection closed right after the TLS handshake, before any HTTP response; in passthrough mode any chain is accepted and forwarded in X-Amzn-Mtls-Clientcert. Requests go to --target with the headers ALB adds (renamed with --header-map), X-Forwarded-For/-Proto/-Port; client-sent X-Amzn-Mtls-* headers are removed first. Look-alikes such as X_Amzn_Mtls_Clientcert_Subject (which CGI, WSGI, PHP and Rack backends read as the real header) are forwarded as ALB forwards them, or dropped with --drop-invalid-header-fields (ALB's routing.http.drop_invalid_header_fields.enabled), and every one is reported on stderr as a spoofing attempt. The chain judged and forwarded is the one the client presented, in its order with duplicates; TLS renegotiation is refused. Without --target a built-in echo backend answers with the headers it received.

The trust store and CRLs are read again when their files change (for example after mtls-kit revoke and mtls-kit crl) and on SIGHUP; the next handshake uses them. Each reload is reported on stderr; a file that does not parse keeps the previous material and says why.

An nlb listener (--listen PORT:nlb) behaves like an NLB TLS listener with mutual TLS (verify mode, the only one NLB has): the client chain is judged against the trust store, then the identity filters (--identity-filter, --identity-filter-file; any one must match), then the CRLs; a rejected client is closed right after the handshake and never reaches the target. An admitted client's decrypted byte stream goes to --target tcp://HOST:PORT (without --target, a built-in TCP echo), after a PROXY protocol v2 header with --proxy-protocol; the target receives nothing about the certificate, as with NLB. One NLB TLS access-log line per connection, with mtls-kit's fields (verdict, matching filter, client serial and subject) after NLB's 22. nlb listeners run in their own serve (not with verify or passthrough ones); for them the "curl" field of --json holds an openssl s_client command.

An apigw listener (--listen PORT:apigw) behaves like an API Gateway custom domain name with mutual TLS: the bundle is the truststore, a client needs the complete chain to a root in it (chain length 4, SHA-256+, RSA-2048+/ECDSA-256+), revocation is NOT checked, and an untrusted, expired or missing certificate fails the handshake. --authorizer runs your Lambda authorizer for every request with the REST REQUEST event (requestContext.identity.clientCert) or, with --authorizer-payload http-iam/http-simple, the HTTP API payload 2.0 event (requestContext.authentication.clientCert): Allow forwards, Deny answers 403, a thrown "Unauthorized" 401, anything else 500; --authorizer-ttl caches answers keyed by --identity-source. --map-header NAME=context.authorizer.KEY (or context.identity.clientCert.subjectDN, ...) sets integration request headers. One access-log line per request (--access-log FILE, else stderr) carries the $context.identity.clientCert.* fields.

A cloudfront listener (--listen PORT:cloudfront, or PORT:cloudfront:optional, PORT:cloudfront:passthrough) behaves like a CloudFront edge with viewer mutual TLS (docs/aws-reference.md 11): required (the default) refuses a viewer without a valid certificate; optional lets a viewer without one through (CloudFront-Viewer-Cert-Present: 0) and refuses an invalid one; passthrough judges nothing and forwards the certificate. A certificate is judged as verify --target cloudfront judges it: the path against the trust store, then every certificate but the root asked of the OCSP responder its authorityInfoAccess names (answers cached 30 minutes, as CloudFront; --skip-ocsp asks nothing, as a trust store with OCSP off); a revoked one, one without an OCSP URL, an unknown answer or an unreachable responder is refused right after the handshake. Requests go to --target with the CloudFront-Viewer-Cert-* headers (Serial-Number, Issuer, Subject, Present, Sha256, Validity, Pem; in passthrough Client-Cert and Client-Cert-Chain) as encode-header --target cloudfront writes them, client-sent ones removed, and X-Forwarded-For. One connection-log record per connection, as JSON with CloudFront's fields in its order (eventTimestamp, connectionId, connectionStatus Success or Failed:<code>, ..., clientLeafCertSerialNumber, clientLeafCertSubject, clientLeafCertIssuer, clientLeafCertValidity, connectionLogCustomData).

--ssl-policy NAME gives the verify, passthrough and nlb listeners an ALB TLS security policy's protocol versions and cipher suites, in AWS's order with the server's preference winning; the PQ policies add the hybrid post-quantum groups X25519MLKEM768, SecP256r1MLKEM768 and SecP384r1MLKEM1024 where the running Node's OpenSSL has them (a warning names the groups used instead otherwise). A verified client whose certificate the policy cannot take (an RSASSA-PSS key on a policy without rsa_pss_pss signatures) is logged Failed:ClientCertIncompatible and closed. The connection log's tls_keyexchange field names the group the handshake used (x25519, secp256r1, X25519MLKEM768, ...). An unknown name exits 2 listing the valid ones.

The server certificate comes from --server-cert/--server-key, or is issued in memory for localhost and 127.0.0.1 by the CA in --dir (never written). One ALB connection-log line per connection goes to --connection-log FILE, or stderr. Stops cleanly on Ctrl-C (SIGINT) or SIGTERM.

--json prints one JSON object on stdout once listening: {host, listeners: [{port, mode, url, curl}], target, trustStore, crls, ignoreExpiry, serverCertificate, serverCa, sslPolicy}. --ready-file FILE writes the same object to FILE at that moment (atomically), for scripts that start serve in the background and wait for the file.

Exit codes: 0 stopped by a signal; 2 bad flag values (an unknown --ssl-policy), a certificate or key file of another kind; 4 a file is missing or unreadable, no CA, or a port in use.`;

  static override examples = [
    '<%= config.bin %> serve --port 8443 --target http://127.0.0.1:3000',
    '<%= config.bin %> serve --listen 8443:verify --listen 9443:passthrough --crl pki/root/crl.pem',
    '<%= config.bin %> serve --port 8443 --trust-store ca-bundle.pem --server-cert server.crt --server-key server.key --connection-log conn.log',
    '<%= config.bin %> serve --port 8443 --ssl-policy ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09',
    '<%= config.bin %> serve --listen 9443:nlb --identity-filter subject-cn:prefix:device- --target tcp://127.0.0.1:7000 --proxy-protocol',
    '<%= config.bin %> serve --listen 8443:cloudfront --listen 8444:cloudfront:optional --target http://127.0.0.1:3000',
    '<%= config.bin %> serve --listen 8443:apigw --trust-store truststore.pem --authorizer authorizer.js --map-header X-Client-Cert-Sub=context.authorizer.clientCertSub --target http://127.0.0.1:3000',
  ];

  static override flags = {
    host: Flags.string({summary: 'Address to listen on.', default: '127.0.0.1'}),
    port: Flags.integer({summary: 'Port of a single listener (with --mode; default 8443; 0 picks a free port).', min: 0, max: 65535, exclusive: ['listen']}),
    mode: Flags.option({summary: 'Mode of the --port listener.', options: LISTENER_MODES, default: 'verify' as const})(),
    listen: Flags.string({
      summary: 'A listener as PORT:MODE (repeatable), e.g. --listen 8443:verify --listen 9443:passthrough.',
      multiple: true,
      exclusive: ['port'],
    }),
    'trust-store': Flags.string({summary: 'CA bundle that verify listeners trust (default: <dir>/ca-bundle.pem).', helpValue: 'FILE'}),
    crl: Flags.string({
      summary: "CRL to check (PEM or DER, repeatable; default, with the CA directory's bundle: its current CRLs, as deploy uploads them).",
      multiple: true,
      helpValue: 'FILE',
    }),
    'skip-crl': Flags.boolean({summary: "Check no CRL, not even the CA directory's (revoked clients are served).", default: false, exclusive: ['crl']}),
    'ignore-expiry': Flags.boolean({summary: 'Accept expired client certificates (ALB IgnoreClientCertificateExpiry).', default: false}),
    'advertise-ca-names': Flags.boolean({
      summary: "Send the trust store's CA names in the TLS CertificateRequest (ALB AdvertiseTrustStoreCaNames).",
      default: false,
    }),
    target: Flags.string({
      summary: 'Backend URL requests are forwarded to (default: the built-in echo backend); tcp://HOST:PORT for nlb listeners.',
      helpValue: 'URL',
    }),
    'header-map': Flags.string({
      summary: 'Rename an mTLS header as ALB header modification does (repeatable; syntax as encode-header --header-map).',
      multiple: true,
    }),
    'server-cert': Flags.string({
      summary: 'Server certificate (PEM, leaf first); default: issued in memory by the CA in --dir.',
      helpValue: 'FILE',
      dependsOn: ['server-key'],
    }),
    'server-key': Flags.string({summary: 'Server private key (PEM).', helpValue: 'FILE', dependsOn: ['server-cert']}),
    dir: dirFlag,
    'passphrase-file': passphraseFileFlag,
    'connection-log': Flags.string({
      summary: 'Append ALB connection-log lines (NLB access-log lines for nlb listeners) to this file (default: stderr).',
      helpValue: 'FILE',
    }),
    'ready-file': Flags.string({
      summary: 'Write the --json ready object to FILE once every listener accepts connections (a script waits for the file, then connects).',
      helpValue: 'FILE',
    }),
    ...identityFilterFlags,
    'proxy-protocol': Flags.boolean({
      summary: 'nlb listeners: send a PROXY protocol v2 header with the client address to the target first, as a target group with proxy protocol v2 does.',
      default: false,
    }),
    ...apigwServeFlags,
    'drop-invalid-header-fields': Flags.boolean({
      summary:
        "Drop client headers whose names are not letters, digits and '-' (X_Amzn_Mtls_...), as ALB's routing.http.drop_invalid_header_fields.enabled does; off by default, as on ALB.",
      default: false,
    }),
    'skip-ocsp': Flags.boolean({
      summary: 'cloudfront listeners: ask no OCSP responder, as a trust store with OCSP off (revocation not checked).',
      default: false,
    }),
    'ssl-policy': Flags.string({
      summary:
        "The listeners' TLS security policy by ALB name (protocol versions, cipher suites and, for the PQ policies, hybrid post-quantum key exchange), e.g. ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09; default: Node's OpenSSL defaults (TLS 1.2-1.3). verify, passthrough and nlb listeners.",
      helpValue: 'NAME',
    }),
    'tls-version-and-cipher-headers': Flags.boolean({
      summary:
        "Add X-Amzn-Tls-Version and X-Amzn-Tls-Cipher-Suite to forwarded requests, as ALB's routing.http.x_amzn_tls_version_and_cipher_suite.enabled does; off by default, as on ALB.",
      default: false,
    }),
  };

  async run(): Promise<ServeResult | undefined> {
    const {flags} = await this.parse(Serve);
    // Without --port or --listen: one listener on 8443 in --mode (verify by default).
    const listeners: ListenerSpec[] = flags.listen ? parseListenSpecs(flags.listen) : [{port: flags.port ?? 8443, mode: flags.mode}];
    let logFile: WriteStream | undefined;
    if (flags['connection-log']) {
      logFile = createWriteStream(flags['connection-log'], {flags: 'a'});
      await new Promise<void>((resolve, reject) => {
        logFile!.once('open', () => resolve());
        logFile!.once('error', (e) =>
          reject(
            preconditionError(
              'LOG_NOT_WRITABLE',
              `cannot write --connection-log ${flags['connection-log']}: ${(e as NodeJS.ErrnoException).code ?? e.message}`,
              ['choose a file in a folder you can write to'],
            ),
          ),
        );
      });
    }
    // The one revocation rule (io/ca/trust-crls.ts, aws-reference 12.4): a CA directory's bundle, by
    // default or given with --trust-store, brings its current CRLs, so serve and the deployed listener agree.
    const verifies = listeners.some((l) => l.mode === 'verify' || l.mode === 'nlb');
    const crls = verifies
      ? (await resolveTrustCrls({dir: flags.dir, trustStore: flags['trust-store'], crl: flags.crl, skipCrl: flags['skip-crl']})).crls
      : (flags.crl ?? []);
    if (verifies && crls.length === 0)
      warn(
        `verify listeners check no CRL: revoked clients are accepted${flags['skip-crl'] ? '' : " (pass --crl FILE, or write the CA directory's CRL: mtls-kit crl)"}`,
      );
    const edges = listeners.some((l) => l.mode === 'cloudfront');
    if (flags['skip-ocsp'] && !edges)
      throw usageError('OCSP_NEEDS_CLOUDFRONT', '--skip-ocsp applies to cloudfront listeners, and none is configured', ['add --listen PORT:cloudfront']);
    if (edges && flags['skip-ocsp']) warn('cloudfront listeners check no revocation (--skip-ocsp): revoked viewers are accepted');
    else if (edges)
      warn(
        "cloudfront listeners ask the OCSP responder in each certificate (answers cached 30 minutes, as CloudFront); an unknown answer or an unreachable responder fails the viewer (mtls-kit's choice, UNCONFIRMED: aws-reference 11.4)",
      );
    const identityFilters = await resolveIdentityFilters(flags);
    const apigw = await resolveApigwOptions(
      flags,
      listeners.some((l) => l.mode === 'apigw'),
    );
    const log = logFile ? (line: string): void => void logFile!.write(line + '\n') : (line: string): void => void process.stderr.write(line + '\n');
    const running = await startServe({
      host: flags.host,
      listeners,
      dir: flags.dir,
      ...(flags['trust-store'] ? {trustStore: flags['trust-store']} : {}),
      crls,
      ignoreExpiry: flags['ignore-expiry'],
      advertiseCaNames: flags['advertise-ca-names'],
      ...(flags.target ? {target: flags.target} : {}),
      headerMap: parseHeaderMap(flags['header-map'] ?? []),
      ...(flags['server-cert'] ? {serverCert: flags['server-cert']} : {}),
      ...(flags['server-key'] ? {serverKey: flags['server-key']} : {}),
      ...(flags['passphrase-file'] ? {passphraseFile: flags['passphrase-file']} : {}),
      nlb: {identityFilters, proxyProtocol: flags['proxy-protocol']},
      ...(apigw ? {apigw: apigw.options} : {}),
      dropInvalidHeaderFields: flags['drop-invalid-header-fields'],
      tlsVersionAndCipherHeaders: flags['tls-version-and-cipher-headers'],
      cloudfront: {skipOcsp: flags['skip-ocsp']},
      ...(flags['ssl-policy'] ? {sslPolicy: flags['ssl-policy']} : {}),
      log,
      onError: (m) => printErr(`${ec.yellow('warning:')} ${m}`),
      onNotice: (m) => printErr(`${ec.cyan('serve:')} ${m}`),
    });
    const info = running.info;
    if (flags['ready-file']) await writeFileAtomic(flags['ready-file'], JSON.stringify(info) + '\n', MODE_PUBLIC, {force: true});
    if (this.jsonEnabled()) process.stdout.write(JSON.stringify(info) + '\n');
    else renderReady(info);

    // SIGHUP reads the trust store and CRLs again (they are also reloaded when their files change).
    const hup = (): void => void running.reload('SIGHUP');
    process.on('SIGHUP', hup);
    await waitForStopSignal();
    process.off('SIGHUP', hup);
    if (!this.jsonEnabled()) hint('stopping…');
    await running.close();
    if (logFile) await new Promise<void>((resolve) => logFile!.end(() => resolve()));
    await apigw?.close();
    // The ready object was the JSON result; nothing more on stdout.
    return undefined;
  }
}

function renderReady(info: ServeInfo): void {
  for (const l of info.listeners)
    printLine(
      `${out.green('listening')} ${l.url} ${out.bold(l.mode)}${l.viewerMtlsMode ? ` (${l.viewerMtlsMode})` : ''} → ${info.target === 'echo' ? (l.mode === 'nlb' ? 'built-in TCP echo target' : 'built-in echo backend') : info.target}`,
    );
  if (info.nlb) {
    printLine(
      out.dim(
        `  identity filters: ${info.nlb.identityFilters.length > 0 ? info.nlb.identityFilters.join(', ') : 'none (every trusted certificate is admitted)'}${info.nlb.proxyProtocol ? '; PROXY protocol v2 to the target' : ''}`,
      ),
    );
  }
  if (info.trustStore)
    printLine(
      out.dim(
        `  trust store ${info.trustStore}${info.crls.length ? `, CRLs ${info.crls.join(', ')}` : info.listeners.every((l) => l.mode === 'cloudfront') ? ' (revocation: OCSP, see above)' : ', no CRL (revocation not checked)'}${info.ignoreExpiry ? ', expired certificates accepted' : ''}`,
      ),
    );
  printLine(out.dim(`  server certificate ${info.serverCertificate}`));
  if (info.sslPolicy) printLine(out.dim(`  TLS security policy ${info.sslPolicy}`));
  printLine('\ntry (with a client certificate from mtls-kit gen-client):');
  for (const l of info.listeners) printLine(`  ${l.curl}`);
  const v = info.listeners.find((l) => l.mode === 'verify');
  if (v)
    printLine(`  ${v.curl.replace(' --cert certificate.crt --key private-key.pem', '')}   ${out.dim('# no certificate: the handshake is cut, curl fails')}`);
  hint('connection log lines follow; Ctrl-C stops');
}
