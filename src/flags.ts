/**
 * Flags shared by several commands, and the one place configuration is resolved:
 * flag, then MTLS_KIT_* environment variable, then default (STYLE "Files").
 */
import {Flags} from '@oclif/core';
import type {CloudfrontDeployParams} from './flows/cloudfront-deploy.js';
import {DEFAULT_KEY_TYPE, KEY_TYPE_NAMES} from './lib/x509/profiles.js';

export const dirFlag = Flags.string({
  char: 'd',
  summary: 'CA directory.',
  env: 'MTLS_KIT_DIR',
  default: './pki',
  helpValue: 'DIR',
});

export const keyTypeFlag = Flags.option({
  summary: 'Key type; the signature hash follows it (SHA-256 for P-256 and RSA up to 3072, SHA-384 for P-384 and RSA-4096, SHA-512 for P-521).',
  options: KEY_TYPE_NAMES,
  default: DEFAULT_KEY_TYPE,
})();

export const forceFlag = Flags.boolean({summary: 'Replace existing files.', default: false});

export const passphraseFileFlag = Flags.string({
  summary: 'File holding the CA key passphrase (else MTLS_KIT_CA_PASSPHRASE, else asked at a terminal; gen-ca given none stores the key unencrypted).',
  helpValue: 'FILE',
});

/** --cn, --org, ... and --subject. */
export const subjectFlags = {
  cn: Flags.string({summary: 'Common name (CN).'}),
  org: Flags.string({summary: 'Organization (O).'}),
  ou: Flags.string({summary: 'Organizational unit (OU).'}),
  country: Flags.string({summary: 'Two-letter country code (C).'}),
  state: Flags.string({summary: 'State or province (ST).'}),
  locality: Flags.string({summary: 'Locality (L).'}),
  subject: Flags.string({
    summary: 'Whole subject DN, RFC 2253 ("CN=device-1,O=Acme,C=US") or OpenSSL ("/C=US/O=Acme/CN=device-1"); overrides --cn and friends.',
    helpValue: 'DN',
  }),
};

/**
 * The same flags, shown under their own heading in `-h` ("<GROUP> FLAGS"), so a command with
 * many flags reads in short sections with a wide description column at 80 columns.
 */
export function inHelpGroup<T extends Record<string, object>>(group: string, flags: T): T {
  return Object.fromEntries(Object.entries(flags).map(([name, flag]) => [name, {...flag, helpGroup: group}])) as T;
}

/** AWS connection flags (deploy, status); the SDK's environment applies when they are absent. */
export const awsFlags = inHelpGroup('AWS', {
  region: Flags.string({summary: "AWS region (else AWS_REGION or the profile's region).", helpValue: 'REGION'}),
  profile: Flags.string({summary: 'AWS shared-config profile (else AWS_PROFILE).', helpValue: 'NAME'}),
  'endpoint-url': Flags.string({
    summary:
      'Endpoint for both S3 and ELBv2 (S3-compatible stores, emulators); else AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2, AWS_ENDPOINT_URL.',
    helpValue: 'URL',
  }),
});

/** What deploy and status compare: the trust store, the bucket, the bundle and the CRLs. */
export const deployInputFlags = {
  'trust-store-name': Flags.string({
    summary: 'Trust store name (1-32 letters, digits and single hyphens).',
    required: true,
    env: 'MTLS_KIT_TRUST_STORE_NAME',
    helpValue: 'NAME',
  }),
  bucket: Flags.string({summary: 'S3 bucket for the bundle and CRLs.', required: true, env: 'MTLS_KIT_BUCKET', helpValue: 'BUCKET'}),
  prefix: Flags.string({summary: 'Key prefix in the bucket.', default: 'mtls-kit/', env: 'MTLS_KIT_PREFIX', helpValue: 'PREFIX'}),
  'ca-bundle': Flags.string({summary: 'CA bundle to deploy (default: <dir>/ca-bundle.pem).', helpValue: 'FILE'}),
  crl: Flags.string({summary: "CRL to deploy; repeatable (default: the CA directory's current CRLs).", multiple: true, helpValue: 'FILE'}),
  'skip-crl': Flags.boolean({summary: "Deploy no CRL (the trust store's revocation lists are left as they are).", default: false, exclusive: ['crl']}),
};

/** The listener's MutualAuthentication (aws-reference 2.2, 1.9). */
export const mutualAuthFlags = inHelpGroup('LISTENER', {
  mode: Flags.option({summary: 'Mutual TLS mode of the listener.', options: ['verify', 'passthrough', 'off'] as const, default: 'verify' as const})(),
  'ignore-client-cert-expiry': Flags.boolean({summary: 'Accept expired client certificates (verify mode).', default: false}),
  'advertise-ca-names': Flags.boolean({summary: "Send the trust store's CA names in the TLS CertificateRequest (verify mode).", default: false}),
});

/** NLB client certificate identity filters (aws-reference 9.3); read by io/identity-filters.ts. */
export const identityFilterFlags = inHelpGroup('NLB', {
  'identity-filter': Flags.string({
    summary:
      'NLB client certificate identity filter FIELD:MATCH:VALUE (FIELD subject-cn, subject-ou, san-dns or san-uri; MATCH exact or prefix); repeatable, any one must match.',
    multiple: true,
    helpValue: 'FILTER',
  }),
  'identity-filter-file': Flags.string({
    summary: 'File of NLB identity filters: one FIELD:MATCH:VALUE per line (# comments), or the ClientCertificateIdentityFilters JSON list.',
    helpValue: 'FILE',
  }),
});

/** `serve`'s API Gateway listeners (`--listen PORT:apigw`): the Lambda authorizer, its cache, header mappings, access log. */
export const apigwServeFlags = inHelpGroup('API GATEWAY', {
  authorizer: Flags.string({
    summary: 'Lambda authorizer module (exports handler; ESM or CommonJS, async or callback) called for every request on apigw listeners.',
    helpValue: 'FILE',
  }),
  'authorizer-payload': Flags.option({
    summary: 'Event and answers: rest (REST REQUEST authorizer, IAM policy), http-iam or http-simple (HTTP API payload 2.0).',
    options: ['rest', 'http-iam', 'http-simple'] as const,
    default: 'rest' as const,
  })(),
  'authorizer-ttl': Flags.integer({
    summary: 'Seconds API Gateway caches an authorizer answer, keyed by --identity-source values (0: no cache).',
    default: 0,
    min: 0,
    max: 3600,
  }),
  'identity-source': Flags.string({
    summary:
      'Identity source (repeatable): method.request.header.NAME, method.request.querystring.NAME, context.VAR ($request.header.NAME for HTTP APIs); missing → 401.',
    multiple: true,
    helpValue: 'SOURCE',
  }),
  'authorizer-timeout': Flags.integer({summary: 'Seconds to wait for the authorizer before answering 500.', default: 10, min: 1, max: 30}),
  'map-header': Flags.string({
    summary:
      'Integration request header from a source (repeatable), e.g. X-Client-Cert-Sub=context.authorizer.clientCertSub or X-Client-DN=context.identity.clientCert.subjectDN.',
    multiple: true,
    helpValue: 'NAME=SOURCE',
  }),
  stage: Flags.string({summary: 'Stage name in methodArn and the event (default: test for REST, $default for HTTP APIs).', helpValue: 'NAME'}),
  'access-log': Flags.string({summary: 'Append API Gateway access-log lines to this file (default: stderr).', helpValue: 'FILE'}),
  'access-log-format': Flags.string({
    summary: 'Access-log format with $context variables (default: JSON with the $context.identity.clientCert.* fields).',
    helpValue: 'FORMAT',
  }),
});

/** `deploy` and `status` for an API Gateway custom domain name instead of an ALB trust store. */
export const apigwDeployFlags = inHelpGroup('API GATEWAY', {
  'apigw-domain': Flags.string({
    summary: 'API Gateway custom domain name whose mutual TLS truststore to deploy (REST or HTTP API, found automatically); replaces --trust-store-name.',
    exclusive: ['trust-store-name'],
    helpValue: 'NAME',
  }),
  'api-type': Flags.option({
    summary: 'Which API owns the --apigw-domain (auto: the one its mappings point to).',
    options: ['auto', 'rest', 'http'] as const,
    default: 'auto' as const,
  })(),
  'truststore-key': Flags.string({summary: 'S3 key of the versioned truststore object (default: <prefix>truststore.pem).', helpValue: 'KEY'}),
});

/** deployInputFlags with --trust-store-name optional: --apigw-domain needs none. */
export const deployInputFlagsApigw = {...deployInputFlags, 'trust-store-name': {...deployInputFlags['trust-store-name'], required: false}};

/**
 * The trust material of a chain verdict (inspect; verify and probe name theirs the same):
 * --trust-store, --crl, --skip-crl, under the one revocation rule (io/ca/trust-crls.ts).
 * `needsTrustStore`: the CRL flags only mean something with --trust-store (inspect, decode-header).
 */
export const verdictTrustFlags = {
  'trust-store': Flags.string({
    summary: "CA bundle to judge the chain against, as the --target product would (a CA directory's ca-bundle.pem brings its CRLs).",
    helpValue: 'FILE',
  }),
  crl: Flags.string({
    summary: "CRL (PEM or DER) for the verdict; repeatable (replaces the CA directory's).",
    multiple: true,
    helpValue: 'FILE',
    dependsOn: ['trust-store'],
  }),
  'skip-crl': Flags.boolean({
    summary: "Check no CRL, not even the CA directory's (the verdict then says revocation not checked).",
    // No default: oclif counts a defaulted flag as given, and dependsOn would then demand --trust-store.
    exclusive: ['crl'],
    dependsOn: ['trust-store'],
  }),
  target: Flags.option({
    summary:
      'Whose rules judge the chain: ALB (default), an NLB TLS listener (no identity filters), or API Gateway (complete chain in the truststore, no revocation).',
    options: ['alb', 'nlb', 'apigw'] as const,
    dependsOn: ['trust-store'],
  })(),
};

/** The flags deploy and status both turn into what the CloudFront flow compares (cloudfrontDeployFlags, awsFlags, deployInputFlags). */
interface CloudfrontTargetFlags {
  dir: string;
  'ca-bundle'?: string | undefined;
  prefix: string;
  distribution?: string[] | undefined;
  'viewer-mtls-mode': CloudfrontDeployParams['mode'];
  'advertise-ca-names': boolean;
  'ignore-client-cert-expiry': boolean;
  'cloudfront-ocsp': boolean;
}

/**
 * The CloudFront trust store `name` in `bucket` and its distributions' viewer mTLS, as deploy
 * and status read them from their flags (one mapping, so the two compare the same thing); the
 * AWS clients come from the command (awsFlags).
 */
export function cloudfrontTargetFromFlags(
  flags: CloudfrontTargetFlags,
  name: string,
  bucket: string,
): Omit<CloudfrontDeployParams, 'clients' | 'dryRun' | 'waitTimeoutMs' | 'pollIntervalMs' | 'now' | 'onProgress' | 'lease'> {
  return {
    dir: flags.dir,
    bundle: flags['ca-bundle'],
    bucket,
    prefix: flags.prefix,
    name,
    distributions: [...new Set(flags.distribution ?? [])],
    mode: flags['viewer-mtls-mode'],
    advertiseCaNames: flags['advertise-ca-names'],
    ignoreCertificateExpiry: flags['ignore-client-cert-expiry'],
    ocsp: flags['cloudfront-ocsp'],
  };
}

/** deploy / status / destroy of a CloudFront trust store and its distributions' viewer mTLS (aws-reference 11.1, 11.2). */
export const cloudfrontDeployFlags = inHelpGroup('CLOUDFRONT', {
  'cloudfront-trust-store': Flags.string({
    summary: 'CloudFront trust store (account-level) to create or update from the bundle; replaces --trust-store-name.',
    exclusive: ['trust-store-name', 'apigw-domain'],
    helpValue: 'NAME',
  }),
  distribution: Flags.string({
    summary: 'CloudFront distribution id whose viewer mTLS to set to the --cloudfront-trust-store; repeatable.',
    multiple: true,
    dependsOn: ['cloudfront-trust-store'],
    helpValue: 'ID',
  }),
  'viewer-mtls-mode': Flags.option({
    summary: 'CloudFront viewer mTLS mode of the --distribution(s).',
    options: ['required', 'optional'] as const,
    default: 'required' as const,
  })(),
  'cloudfront-ocsp': Flags.boolean({
    summary: "Turn on the trust store's OCSP checking (UseClientCertificateOCSPEndpoint; every certificate of the client chain then needs an OCSP URL).",
    default: false,
  }),
});
