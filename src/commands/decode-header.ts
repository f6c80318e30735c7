import {Args, Flags} from '@oclif/core';
import {runDecodeHeaderCommand} from '../actions/decode-header.js';
import {BaseCommand} from '../base-command.js';
import {dirFlag} from '../flags.js';
import type {DecodeHeaderResult} from '../lib/alb/decode-header-result.js';

export type {DecodeHeaderResult} from '../lib/alb/decode-header-result.js';

export default class DecodeHeader extends BaseCommand {
  static override summary = 'Decode the mTLS headers a backend received from ALB or API Gateway, and check that they agree.';
  static override description =
    `Reads a header value (argument, --file, or stdin) in any of these forms: a bare value; "Name: value" lines in any letter case (blank lines separate requests); a raw HTTP request; curl -v output; curl -H arguments; a HAR file; a JSON object of headers; an ALB Lambda-target event (headers or multiValueHeaders); an API Gateway REST or HTTP API event (requestContext.identity.clientCert / requestContext.authentication.clientCert); the X-Client-Cert-Sub header of the aws-samples certificate-propagation sample (plain or base64); NDJSON, one event per line.

It recognises ALB's verify-mode set (the five X-Amzn-Mtls-Clientcert-* headers), the passthrough chain (X-Amzn-Mtls-Clientcert, split leaf first) and renamed headers (--header-map). Percent-decoding never turns "+" into a space; a value that something else form-decoded is detected, repaired and explained. It prints every certificate, checks that serial, subject, issuer and validity headers match the leaf, and warns about duplicated, mismatching or undecodable headers ("edited or spoofed?"). With --trust-store it runs ALB's verification on the decoded chain.

--header-map takes KEY=Header-Name (comma-separated or repeated), KEY one of serial, issuer, subject, validity, leaf, chain, the original header name, or ALB's listener attribute key (routing.http.request.x_amzn_mtls_clientcert_leaf.header_name).

With --target nlb it says that an NLB target receives no certificate headers (NLB TLS listeners forward only the decrypted bytes) and exits 4.

Exit codes: 0 decoded (warnings go to stderr); 2 bad flags or no input; 3 --trust-store verification failed; 4 malformed input (the message names the header and what is wrong), no mTLS header found, or --target nlb.`;

  static override examples = [
    "<%= config.bin %> decode-header 'CN=M\\C3\\84NNIK\\,MARILIIS,C=EE'",
    '<%= config.bin %> decode-header --file captured-headers.txt',
    '<%= config.bin %> decode-header - --trust-store ca-bundle.pem --crl revoked.crl < captured-request.txt',
    '<%= config.bin %> decode-header --file lambda-event.json --header-map leaf=X-Client-Leaf --json',
  ];

  static override args = {
    value: Args.string({description: 'The header value, or headers / an event as text; - for stdin (default: --file or stdin).', required: false}),
  };

  static override flags = {
    file: Flags.string({char: 'f', summary: 'Read the input from this file (- for stdin).', helpValue: 'FILE'}),
    'header-map': Flags.string({summary: 'Renamed header names, KEY=Header-Name (e.g. leaf=X-Client-Leaf).', multiple: true, helpValue: 'KEY=NAME'}),
    'trust-store': Flags.string({summary: 'CA bundle to verify the decoded chain against, as ALB would.', helpValue: 'FILE'}),
    crl: Flags.string({
      summary:
        "CRL to check revocation against (repeatable; replaces the CA directory's); needs --trust-store. Default: a trust store that is a CA directory's ca-bundle.pem brings that directory's current CRLs.",
      multiple: true,
      dependsOn: ['trust-store'],
      helpValue: 'FILE',
    }),
    'skip-crl': Flags.boolean({
      summary: "Check no CRL, not even the CA directory's (the verdict says revocation not checked).",
      default: false,
      exclusive: ['crl'],
    }),
    dir: dirFlag,
    target: Flags.option({
      summary:
        'What the headers came through: ALB (default) or API Gateway are decoded; cloudfront decodes CloudFront-Viewer-Cert-* and Client-Cert headers; nlb says that an NLB target receives no certificate headers.',
      options: ['alb', 'apigw', 'nlb', 'cloudfront'] as const,
    })(),
  };

  /**
   * Output is streamed: each request is printed (or written as JSON) as soon as it is
   * decoded, so the returned result's `sets` is empty and oclif must not print it again.
   */
  override logJson(): void {}

  async run(): Promise<DecodeHeaderResult> {
    const {args, flags} = await this.parse(DecodeHeader);
    return runDecodeHeaderCommand(args, flags, this.actionContext());
  }
}
