import {Args, Flags} from '@oclif/core';
import {type InspectResult, runInspect} from '../actions/inspect.js';
import {BaseCommand} from '../base-command.js';
import {awsFlags, dirFlag, verdictTrustFlags} from '../flags.js';

export type {InspectResult} from '../actions/inspect.js';

export default class Inspect extends BaseCommand {
  static override summary =
    'Show the details of a certificate, chain, CA bundle, PKCS#12 file, CRL, certificate request or private key, and whether ALB accepts it.';
  static override description =
    `Reads PEM or DER (or - for stdin) and prints, for each certificate: subject and issuer (RFC 2253, as ALB sends them), serial (uppercase hex, as ALB prints it), validity, key type and size, signature algorithm, SANs, key usage, extended key usage, basic constraints, key identifiers, SHA-256 fingerprint, and whether ALB's certificate requirements are met.

A CRL: issuer, CRL number, this and next update, entries, whether its signature verifies with the issuing CA's certificate (found beside it or in --dir), and the checks lint applies to CRLs for ALB. A certificate request: subject, SANs, key type and size, public key SHA-256, whether its signature verifies. A private key: type and size, whether and how it is encrypted, the SHA-256 of its public key, and which certificates in its folder and in --dir hold that key; the key itself is never printed. An encrypted key is read with --passphrase-file (else MTLS_KIT_CA_PASSPHRASE); without one, inspect says what it can.

With --trust-store, the certificates are also judged as the chain a client presents (leaf first) by the --target product's policy (ALB by default; nlb, apigw), exactly as verify judges them, with the same revocation rule: a trust store that is a CA directory's ca-bundle.pem brings its CRLs, --crl replaces them, --skip-crl checks none, and a verdict reached without revocation data says "revocation not checked".

Exit codes: 0 read (whatever the verdict); 2 bad flags, a folder or a URL, a file inspect does not read (a public key, an archive); 4 the file is missing, empty, malformed or truncated, or the PKCS#12 password or key passphrase is wrong.`;

  static override examples = [
    '<%= config.bin %> inspect certificate.crt',
    '<%= config.bin %> inspect pki/ca-bundle.pem --json',
    'cat chain.pem | <%= config.bin %> inspect -',
    '<%= config.bin %> inspect pki/intermediate/crl.pem',
    '<%= config.bin %> inspect device-1/private-key.pem',
    '<%= config.bin %> inspect request.csr',
    '<%= config.bin %> inspect device-1/chain.pem --trust-store pki/ca-bundle.pem',
    '<%= config.bin %> inspect device-1/chain.pem --trust-store truststore.pem --target apigw --json',
  ];

  static override args = {
    file: Args.string({
      description: 'Certificate, chain, bundle, PKCS#12, CRL, CSR or private key file (PEM or DER); - for stdin; s3://bucket/key for an S3 object.',
      required: true,
    }),
  };

  static override flags = {
    'password-file': Flags.string({summary: 'File holding the PKCS#12 password (else MTLS_KIT_P12_PASSWORD).', helpValue: 'FILE'}),
    'passphrase-file': Flags.string({summary: "File holding an encrypted private key's passphrase (else MTLS_KIT_CA_PASSPHRASE).", helpValue: 'FILE'}),
    dir: dirFlag,
    ...verdictTrustFlags,
    ...awsFlags,
  };

  async run(): Promise<InspectResult> {
    const {args, flags} = await this.parse(Inspect);
    return runInspect(args, flags, this.actionContext());
  }
}
