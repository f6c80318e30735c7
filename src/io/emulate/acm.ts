/**
 * An offline ACM emulator for `origin-cert --acm-import` (CloudFront origin mTLS,
 * aws-reference 11.8): ImportCertificate, DescribeCertificate and GetCertificate in the
 * JSON 1.1 protocol `@aws-sdk/client-acm` speaks (`POST /`, `X-Amz-Target:
 * CertificateManager.<Operation>`, blobs as base64, times as epoch seconds). Errors are
 * `{"__type": "<Code>", "message": "..."}` with HTTP 400. Tests reach it only through endpoint
 * URLs (AWS_ENDPOINT_URL_ACM) with the real SDK.
 *
 * What ImportCertificate enforces, each from ACM's own documentation (the ImportCertificate API
 * reference and the user guide's "Prerequisites for importing certificates"; aws-reference 11.8):
 * - Certificate, PrivateKey and CertificateChain are PEM (DER → ValidationException); the
 *   Certificate field holds exactly one certificate
 * - API length limits: Certificate ≤ 32,768 bytes, PrivateKey ≤ 5,124 bytes (the guide: 5 KB),
 *   CertificateChain ≤ 2,097,152 bytes (ValidationException)
 * - the private key is unencrypted, and matches the certificate's public key
 * - X.509 version 3
 * - key algorithms RSA 1024/2048/3072/4096, EC P-256/P-384/P-521
 * - NotBefore ≤ now ≤ NotAfter
 * - a certificate that is not self-signed needs a chain; its issuer must be the subject of a
 *   certificate in the chain; the chain must not hold the certificate itself
 * - re-import (CertificateArn): the ARN must exist (ResourceNotFoundException); Extended Key
 *   Usage values of the earlier certificate cannot be removed, except clientAuth (the guide's
 *   "Reimport a certificate")
 * What it does not enforce, because ACM does not: CloudFront's origin rules (chain depth at most
 * 3, RSA 2048 / P-256 only, clientAuth EKU; CloudFront checks them when a distribution names the
 * certificate, not ACM at import). The exact error texts are UNCONFIRMED (the codes are the SDK model's).
 */
import {createPrivateKey, createPublicKey, randomUUID} from 'node:crypto';
import type {IncomingMessage, ServerResponse} from 'node:http';
import {HttpStandIn} from './http-stand-in.js';
import {type ParsedCertificate, parseCertificate} from '../../lib/x509/cert.js';
import {type PemBlock, parsePem} from '../../lib/x509/pem.js';

/** ImportCertificate's documented length limits (API reference, Length Constraints). */
export const ACM_IMPORT_LIMITS = {certificate: 32_768, privateKey: 5_124, chain: 2_097_152} as const;

const KEY_ALGORITHMS: Record<string, string> = {
  'rsa-1024': 'RSA_1024',
  'rsa-2048': 'RSA_2048',
  'rsa-3072': 'RSA_3072',
  'rsa-4096': 'RSA_4096',
  'ec-prime256v1': 'EC_prime256v1',
  'ec-secp384r1': 'EC_secp384r1',
  'ec-secp521r1': 'EC_secp521r1',
};
const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'TLS_WEB_SERVER_AUTHENTICATION',
  [OID_CLIENT_AUTH]: 'TLS_WEB_CLIENT_AUTHENTICATION',
  '1.3.6.1.5.5.7.3.3': 'CODE_SIGNING',
  '1.3.6.1.5.5.7.3.4': 'EMAIL_PROTECTION',
};

export interface EmulatedAcmCertificate {
  arn: string;
  certificatePem: string;
  chainPem: string;
  cert: ParsedCertificate;
  keyAlgorithm: string;
  importedAt: Date;
  imports: number;
}

class AcmError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const invalid = (message: string): AcmError => new AcmError('ValidationException', message);

/** One PEM field: text, every block labelled `label`, at least one. */
function pemCertificates(b64: unknown, field: string, limit: number): {text: string; certs: ParsedCertificate[]} {
  if (typeof b64 !== 'string' || b64 === '') throw invalid(`${field} is required`);
  const raw = Buffer.from(b64, 'base64');
  if (raw.length > limit) throw invalid(`${field} is ${raw.length} bytes; the limit is ${limit}`);
  const text = raw.toString('utf8');
  if (!text.includes('-----BEGIN ')) throw invalid(`${field} is not PEM-encoded`);
  let blocks: PemBlock[];
  try {
    blocks = parsePem(text, field);
  } catch (e) {
    throw invalid(`${field} is not valid PEM: ${(e as Error).message}`);
  }
  if (blocks.length === 0 || blocks.some((b) => b.label !== 'CERTIFICATE')) throw invalid(`${field} must hold only PEM certificates`);
  try {
    return {text, certs: blocks.map((b) => parseCertificate(b.der))};
  } catch (e) {
    throw invalid(`${field} holds a certificate that cannot be parsed: ${(e as Error).message}`);
  }
}

export class AcmEmulator extends HttpStandIn {
  readonly certificates = new Map<string, EmulatedAcmCertificate>();
  /** Each operation, in order (for the IAM test). */
  readonly calls: Array<{operation: string; arn?: string}> = [];

  constructor(readonly opts: {region?: string; account?: string; now?: () => Date} = {}) {
    super();
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.replace(/^CertificateManager\./, '');
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, {'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID()});
      res.end(JSON.stringify(body));
    };
    try {
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        throw new AcmError('SerializationException', 'the body is not JSON');
      }
      const arn = typeof input.CertificateArn === 'string' ? input.CertificateArn : undefined;
      this.calls.push({operation, ...(arn ? {arn} : {})});
      if (operation === 'ImportCertificate') return send(200, {CertificateArn: this.importCertificate(input, arn)});
      if (operation === 'DescribeCertificate') return send(200, {Certificate: this.describe(this.get(arn))});
      if (operation === 'GetCertificate') {
        const c = this.get(arn);
        return send(200, {Certificate: c.certificatePem, ...(c.chainPem ? {CertificateChain: c.chainPem} : {})});
      }
      throw new AcmError(
        'UnknownOperationException',
        `mtls-kit emulate's ACM implements ImportCertificate, DescribeCertificate and GetCertificate, not ${operation || '(no X-Amz-Target)'}`,
      );
    } catch (e) {
      if (e instanceof AcmError) return send(400, {__type: e.code, message: e.message});
      return send(500, {__type: 'InternalFailure', message: (e as Error).message});
    }
  }

  private get(arn: string | undefined): EmulatedAcmCertificate {
    if (!arn) throw invalid('CertificateArn is required');
    if (!/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/.+$/.test(arn))
      throw new AcmError('InvalidArnException', `${arn} is not a valid ACM certificate ARN`);
    const c = this.certificates.get(arn);
    if (!c) throw new AcmError('ResourceNotFoundException', `Could not find certificate ${arn}.`);
    return c;
  }

  private importCertificate(input: Record<string, unknown>, arn: string | undefined): string {
    const previous = arn === undefined ? undefined : this.get(arn);
    const leafField = pemCertificates(input.Certificate, 'Certificate', ACM_IMPORT_LIMITS.certificate);
    if (leafField.certs.length !== 1)
      throw invalid('The certificate field contains more than one certificate. You can specify only one certificate in this field.');
    const cert = leafField.certs[0]!;
    // The key: PEM, unencrypted, at most 5,124 bytes, matching the certificate.
    if (typeof input.PrivateKey !== 'string' || input.PrivateKey === '') throw invalid('PrivateKey is required');
    const keyRaw = Buffer.from(input.PrivateKey, 'base64');
    if (keyRaw.length > ACM_IMPORT_LIMITS.privateKey) throw invalid(`PrivateKey is ${keyRaw.length} bytes; the limit is ${ACM_IMPORT_LIMITS.privateKey}`);
    const keyText = keyRaw.toString('utf8');
    if (!keyText.includes('-----BEGIN ')) throw invalid('The private key is not PEM-encoded.');
    if (/ENCRYPTED/.test(keyText)) throw invalid('The private key is encrypted; ACM imports only unencrypted keys.');
    let spki: Buffer;
    try {
      spki = createPublicKey(createPrivateKey(keyText)).export({type: 'spki', format: 'der'});
    } catch {
      throw invalid('The private key is not supported or cannot be read.');
    }
    if (!spki.equals(Buffer.from(cert.publicKey.spki))) throw invalid('The private key does not match the public key of the certificate.');
    if (cert.version !== 3) throw invalid(`The certificate is X.509 version ${cert.version}; ACM imports version 3 only.`);
    const pk = cert.publicKey;
    const keyAlgorithm = KEY_ALGORITHMS[`${pk.kind}-${pk.kind === 'ec' ? pk.curve : pk.bits}`];
    if (!keyAlgorithm) throw invalid(`The certificate's key (${pk.kind} ${pk.curve ?? pk.bits}) is not supported by ACM.`);
    const now = this.opts.now?.() ?? new Date();
    if (now < cert.notBefore || now > cert.notAfter)
      throw invalid('The certificate is not valid now (NotBefore, NotAfter); ACM imports only certificates valid at import time.');
    // The chain.
    const selfSigned = cert.subjectCanon === cert.issuerCanon;
    let chainPem = '';
    if (input.CertificateChain !== undefined) {
      const chain = pemCertificates(input.CertificateChain, 'CertificateChain', ACM_IMPORT_LIMITS.chain);
      if (chain.certs.some((c) => c.sha256Fingerprint === cert.sha256Fingerprint))
        throw invalid('The certificate chain must not contain the certificate itself.');
      if (!chain.certs.some((c) => c.subjectCanon === cert.issuerCanon))
        throw invalid('Could not validate the certificate with the certificate chain: no certificate of the chain is the issuer of the certificate.');
      chainPem = chain.text;
    } else if (!selfSigned) throw invalid('The certificate is not self-signed, so its certificate chain is required.');
    if (previous) {
      const kept = (previous.cert.extKeyUsage?.oids ?? []).filter((o) => o !== OID_CLIENT_AUTH);
      const now2 = cert.extKeyUsage?.oids ?? [];
      const removed = kept.filter((o) => !now2.includes(o));
      if (removed.length > 0) throw invalid(`A re-imported certificate cannot remove Extended Key Usage values (${removed.join(', ')}).`);
    }
    const certArn = arn ?? `arn:aws:acm:${this.opts.region ?? 'us-east-1'}:${this.opts.account ?? '123456789012'}:certificate/${randomUUID()}`;
    this.certificates.set(certArn, {
      arn: certArn,
      certificatePem: leafField.text,
      chainPem,
      cert,
      keyAlgorithm,
      importedAt: now,
      imports: (previous?.imports ?? 0) + 1,
    });
    return certArn;
  }

  private describe(c: EmulatedAcmCertificate): Record<string, unknown> {
    const secs = (d: Date): number => Math.floor(d.getTime() / 1000);
    const dns = c.cert.subjectAltNames.filter((n) => n.type === 'dns').map((n) => n.value);
    return {
      CertificateArn: c.arn,
      ...(dns[0] ? {DomainName: dns[0]} : {}),
      SubjectAlternativeNames: dns,
      Serial: c.cert.serialHex.replace(/(..)(?=.)/g, '$1:').toLowerCase(),
      Type: 'IMPORTED',
      Status: 'ISSUED',
      KeyAlgorithm: c.keyAlgorithm,
      SignatureAlgorithm: c.cert.signatureAlgorithm.name.toUpperCase(),
      NotBefore: secs(c.cert.notBefore),
      NotAfter: secs(c.cert.notAfter),
      ImportedAt: secs(c.importedAt),
      InUseBy: [],
      ExtendedKeyUsages: (c.cert.extKeyUsage?.oids ?? []).map((oid) => ({Name: EKU_NAMES[oid] ?? 'CUSTOM', OID: oid})),
      RenewalEligibility: 'INELIGIBLE',
    };
  }
}
