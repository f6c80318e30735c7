/**
 * ACM ImportCertificate for CloudFront origin mTLS (aws-reference 11.8): CloudFront reads
 * the certificate it presents to an origin from ACM in us-east-1 only (`CF-origin-acm`), so
 * the client is always built for us-east-1, whatever AWS_REGION says. Endpoint: --endpoint-url,
 * AWS_ENDPOINT_URL_ACM or AWS_ENDPOINT_URL (the SDK's own chain). ImportCertificate is not
 * idempotent without a CertificateArn (each call makes a new certificate), so it is sent once
 * (no SDK retries); a re-import names the ARN and may be retried.
 */
import {type AwsCallContext, type AwsParams, callAws, commonJs, sdkClientConfig} from './clients.js';
import {awsErrorCode} from './clients.js';
import {ExitCode, MtlsKitError} from '../../lib/errors.js';

/** ACM certificates CloudFront can use live in us-east-1 (CF-origin-acm). */
export const ORIGIN_ACM_REGION = 'us-east-1';

export interface AcmImportInput {
  /** PEM text of the leaf, of its CA chain (intermediates then root), and of the private key. */
  certificatePem: string;
  chainPem: string;
  keyPem: string;
  /** Re-import to this ARN (rotation); omitted: a new certificate. */
  certificateArn?: string | undefined;
}

export interface AcmImported {
  certificateArn: string;
  region: string;
  reimported: boolean;
}

/** Imports into ACM in us-east-1; returns the ARN. Never logs the key. */
export async function importToAcm(p: AwsParams, input: AcmImportInput): Promise<AcmImported> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sdk = commonJs(await import('@aws-sdk/client-acm'));
  const common = sdkClientConfig(p);
  const client = new sdk.ACMClient({...common, region: ORIGIN_ACM_REGION, ...(input.certificateArn ? {} : {maxAttempts: 1})});
  const enc = new TextEncoder();
  const ctx: AwsCallContext = {action: 'acm:ImportCertificate', resource: input.certificateArn ?? `ACM in ${ORIGIN_ACM_REGION}`};
  try {
    const out = await callAcm(ctx, () =>
      client.send(
        new sdk.ImportCertificateCommand({
          Certificate: enc.encode(input.certificatePem),
          PrivateKey: enc.encode(input.keyPem),
          CertificateChain: enc.encode(input.chainPem),
          ...(input.certificateArn ? {CertificateArn: input.certificateArn} : {}),
        }),
      ),
    );
    if (!out.CertificateArn) throw new MtlsKitError({code: 'AWS_ERROR', message: 'ACM ImportCertificate returned no CertificateArn', exitCode: ExitCode.Aws});
    return {certificateArn: out.CertificateArn, region: ORIGIN_ACM_REGION, reimported: Boolean(input.certificateArn)};
  } finally {
    client.destroy();
  }
}

/** ACM's error codes → what to do (other codes: mapAwsError). The SDK error's message never holds the key. */
async function callAcm<T>(ctx: AwsCallContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const code = awsErrorCode(error);
    const msg = (error as Error).message ?? '';
    const status = (error as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode;
    const details = {awsCode: code, action: ctx.action, resource: ctx.resource, ...(status ? {httpStatus: status} : {})};
    const make = (c: 'ACM_IMPORT_REJECTED' | 'ACM_CERTIFICATE_NOT_FOUND' | 'ACM_LIMIT_EXCEEDED', message: string, suggestions: string[]): MtlsKitError =>
      new MtlsKitError({code: c, message, suggestions, exitCode: ExitCode.Aws, cause: error, details});
    switch (code) {
      case 'Validation':
      case 'InvalidParameter':
      case 'MalformedCertificate':
        throw make('ACM_IMPORT_REJECTED', `ACM rejected the import (${code}): ${msg}`, [
          'the key must be unencrypted PEM matching the certificate, the chain its CA certificates: issue fresh files with mtls-kit origin-cert',
        ]);
      case 'InvalidArn':
      case 'ResourceNotFound':
        throw make('ACM_CERTIFICATE_NOT_FOUND', `ACM has no certificate ${ctx.resource ?? ''} in ${ORIGIN_ACM_REGION} (${code})`, [
          `check --certificate-arn: aws acm list-certificates --region ${ORIGIN_ACM_REGION}; omit it to import a new certificate`,
        ]);
      case 'LimitExceeded':
        throw make('ACM_LIMIT_EXCEEDED', `ACM refused the import: a quota of the account in ${ORIGIN_ACM_REGION} is reached (${msg})`, [
          'delete unused imported certificates, or re-import over an existing one with --certificate-arn; see ACM quotas in Service Quotas',
        ]);
      default:
        return callAws(ctx, () => Promise.reject(error));
    }
  }
}
