import {Args, Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {inputName, readInput} from '../io/files.js';
import {type ApigwClientCert, type EncodeMode, encodeHeaders, encodePemForHeader, parseHeaderMap} from '../lib/alb/headers.js';
import {type CloudFrontMode, encodeCloudFrontHeaders} from '../lib/cloudfront/headers.js';
import {usageError} from '../lib/errors.js';
import {readCertificates} from '../lib/x509/read-certs.js';
import {hint, printLine} from '../ui/output.js';

export interface EncodeHeaderResult {
  /** Whose headers: ALB (and API Gateway with --mode apigw) or CloudFront. */
  target: 'alb' | 'cloudfront';
  /** ALB: verify, passthrough, apigw. CloudFront: required, optional, passthrough. */
  mode: EncodeMode | CloudFrontMode;
  format: 'lines' | 'curl' | 'json';
  headers: Array<{name: string; value: string}>;
  /** API Gateway's clientCert object, --mode apigw only. */
  clientCert: ApigwClientCert | null;
  certificates: number;
}

/** `'...'` for a POSIX shell. */
const shellQuote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

export default class EncodeHeader extends BaseCommand {
  static override summary = 'Print exactly the headers ALB, API Gateway or CloudFront would send a backend for a client certificate.';
  static override description =
    `--mode verify (default): the five X-Amzn-Mtls-Clientcert-* headers of ALB's verify mode for the first (leaf) certificate. --mode passthrough: the one X-Amzn-Mtls-Clientcert header with every certificate in the file, in file order (leaf first). --mode apigw: API Gateway's clientCert object (forward-order DNs, "MMM dD HH:MM:SS YYYY GMT" dates, decimal serial) and the X-Client-Cert-Sub header of the aws-samples certificate-propagation sample.

--target cloudfront prints CloudFront's headers instead (--mode required, the default, or optional: CloudFront-Viewer-Cert-Serial-Number as lower-case colon hex, -Issuer and -Subject as RFC 2253, -Present, -Sha256, -Validity and the percent-encoded -Pem; --mode passthrough: the same fields with Client-Cert and Client-Cert-Chain as RFC 9440 byte sequences instead of -Pem). --viewer-request leaves out what CloudFront sends only on origin requests (-Validity, -Pem).

--format lines prints "Name: value" lines (apigw adds clientCert.<field> lines, the PEM percent-encoded); curl prints -H arguments ready to paste after curl; json prints an object of headers ({"clientCert": ..., "headers": ...} for apigw). Every format decode-header reads gives back the same certificates byte for byte.

Exit codes: 0 printed; 2 bad flags, a file of another kind (a CRL or key where a certificate belongs, ...), a folder or a URL; 4 the file is missing, empty or holds no certificate.`;

  static override examples = [
    '<%= config.bin %> encode-header pki/clients/device-1.crt',
    '<%= config.bin %> encode-header chain.pem --mode passthrough --format curl',
    '<%= config.bin %> encode-header device-1.crt --mode apigw --format json',
    '<%= config.bin %> encode-header device-1.crt --header-map leaf=X-Client-Leaf,subject=X-Client-Subject',
    '<%= config.bin %> encode-header device-1.crt --target cloudfront',
    '<%= config.bin %> encode-header chain.pem --target cloudfront --mode passthrough --format curl',
  ];

  static override args = {
    cert: Args.string({description: 'Certificate or chain (PEM or DER), leaf first; - for stdin.', required: true}),
  };

  static override flags = {
    target: Flags.option({
      summary: 'Whose headers: ALB (default; API Gateway with --mode apigw) or CloudFront.',
      options: ['alb', 'cloudfront'] as const,
      default: 'alb' as const,
    })(),
    mode: Flags.option({
      summary: 'Which headers to print: ALB verify (default), passthrough, apigw; CloudFront required (default), optional, passthrough.',
      options: ['verify', 'passthrough', 'apigw', 'required', 'optional'] as const,
    })(),
    'viewer-request': Flags.boolean({summary: 'CloudFront: only the headers of viewer requests (no -Validity, no -Pem).', default: false}),
    format: Flags.option({summary: 'Output format.', options: ['lines', 'curl', 'json'] as const, default: 'lines' as const})(),
    'header-map': Flags.string({summary: 'Renamed header names, KEY=Header-Name (e.g. leaf=X-Client-Leaf).', multiple: true, helpValue: 'KEY=NAME'}),
  };

  async run(): Promise<EncodeHeaderResult> {
    const {args, flags} = await this.parse(EncodeHeader);
    const cloudfront = flags.target === 'cloudfront';
    const mode = flags.mode ?? (cloudfront ? 'required' : 'verify');
    if (cloudfront ? mode === 'verify' || mode === 'apigw' : mode === 'required' || mode === 'optional')
      throw usageError('BAD_MODE', `--mode ${mode} does not exist for --target ${flags.target}`, [
        cloudfront
          ? 'CloudFront modes: --mode required, optional or passthrough'
          : 'ALB modes: --mode verify, passthrough or apigw; for CloudFront add --target cloudfront',
      ]);
    if (cloudfront && flags['header-map']?.length)
      throw usageError('BAD_HEADER_MAP', '--header-map renames ALB headers and does not apply to --target cloudfront', ['leave out --header-map']);
    if (!cloudfront && flags['viewer-request']) throw usageError('BAD_FLAG', '--viewer-request is for --target cloudfront', ['add --target cloudfront']);
    const map = flags['header-map']?.length ? parseHeaderMap(flags['header-map']) : undefined;
    const source = inputName(args.cert);
    const chain = readCertificates(await readInput(args.cert), source, {wanted: 'a certificate or chain'});
    const enc = cloudfront
      ? {headers: encodeCloudFrontHeaders(chain, {mode: mode as CloudFrontMode, originRequest: !flags['viewer-request']}), clientCert: undefined}
      : encodeHeaders(chain, mode as EncodeMode, map);
    const result: EncodeHeaderResult = {
      target: flags.target,
      mode,
      format: flags.format,
      headers: enc.headers.map(([name, value]) => ({name, value})),
      clientCert: enc.clientCert ?? null,
      certificates: mode === 'passthrough' ? chain.length : 1,
    };
    return this.emit(result, (r) => {
      if (r.format === 'json') {
        const headers = Object.fromEntries(r.headers.map((h) => [h.name, h.value]));
        printLine(JSON.stringify(r.clientCert ? {clientCert: r.clientCert, headers} : headers, null, 2));
      } else if (r.format === 'curl') {
        printLine(r.headers.map((h) => `-H ${shellQuote(`${h.name}: ${h.value}`)}`).join(' '));
        if (r.clientCert) hint('clientCert is not a header: API Gateway puts it in the Lambda event; use --format json for it');
      } else {
        for (const h of r.headers) printLine(`${h.name}: ${h.value}`);
        if (r.clientCert) {
          const c = r.clientCert;
          const pem = encodePemForHeader([chain[0]!.der]);
          for (const [k, v] of [
            ['clientCertPem', pem],
            ['subjectDN', c.subjectDN],
            ['issuerDN', c.issuerDN],
            ['serialNumber', c.serialNumber],
            ['validity.notBefore', c.validity.notBefore],
            ['validity.notAfter', c.validity.notAfter],
          ] as const)
            printLine(`clientCert.${k}: ${v}`);
        }
      }
      if (chain.length > 1 && mode !== 'passthrough') hint(`${source} holds ${chain.length} certificates; ${mode} mode describes the first (the leaf)`);
    });
  }
}
