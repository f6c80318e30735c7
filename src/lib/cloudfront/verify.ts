/**
 * CloudFront's verdict on a viewer's certificate chain (aws-reference 11): the path by the
 * shared verifier under CLOUDFRONT_VERIFY_POLICY (lib/alb/policy.ts), then, with OCSP on,
 * the OCSP check of the whole chain except the root (policy.ts checkChainOcsp). The codes
 * are CloudFront's connection-log codes (aws-reference 11.7). `verify --target cloudfront`,
 * `lint --target cloudfront` (without OCSP) and the local edge (`serve --listen
 * PORT:cloudfront`) all judge through here. Fetching stays the caller's (an OcspFetch).
 */
import {CLOUDFRONT_VERIFY_POLICY} from '../alb/policy.js';
import {judgeChain, type TrustStore, type VerifyChainResult, type VerifyCheck, type VerifyFailureCode} from '../alb/verify.js';
import type {ParsedCertificate} from '../x509/cert.js';
import {formatRfc2253} from '../x509/dn.js';
import {checkChainOcsp, extendToRoot, type OcspCache, type OcspChainResult, type OcspFetch} from './policy.js';

/** The codes CloudFront writes in its connection logs (aws-reference 11.7, `CF-connlogs`). */
export const CLOUDFRONT_LOG_CODES = [
  'ClientCertMaxChainDepthExceeded',
  'ClientCertMaxSizeExceeded',
  'ClientCertUntrusted',
  'ClientCertNotYetValid',
  'ClientCertExpired',
  'ClientCertTypeUnsupported',
  'ClientCertInvalid',
  'ClientCertIntentInvalid',
  'ClientCertRejected',
  'ClientCertMissing',
  'TcpError',
  'TcpTimeout',
  'ConnectionFunctionError',
  'ConnectionFunctionDenied',
  'Internal',
  'UnmappedConnectionError',
] as const;

/**
 * The code for a chain that OCSP failed (revoked, no OCSP URL, unknown, unreachable). AWS's
 * list has no OCSP code: UNCONFIRMED (aws-reference 11.7). mtls-kit logs ClientCertRejected
 * ("rejected by custom validation") and names the OCSP reason (OcspRevoked, ...) beside it.
 */
export const CLOUDFRONT_OCSP_FAILURE_CODE = 'ClientCertRejected' as const;

/** The verifier's codes in CloudFront's words: the purpose check is "intent" there (aws-reference 11.7). */
const RENAMED: Partial<Record<VerifyFailureCode, VerifyFailureCode>> = {ClientCertPurposeInvalid: 'ClientCertIntentInvalid'};

/** Where OCSP answers come from: the responders in the certificates, files given, or nowhere (OCSP off). */
export type CloudFrontOcspSource =
  | {kind: 'query'; fetch: OcspFetch; cache?: OcspCache; nonce?: () => Uint8Array}
  | {kind: 'responses'; responses: Uint8Array[]}
  /** The trust store's OCSP is off (UseClientCertificateOCSPEndpoint false), or --skip-ocsp: revocation not checked. */
  | {kind: 'off'; why: string};

export interface CloudFrontJudgeParams {
  trustStore: TrustStore;
  at: Date;
  /** The distribution's IgnoreCertificateExpiry (aws-reference 11.2). */
  ignoreExpiry?: boolean;
  ocsp: CloudFrontOcspSource;
}

/** The shared verifier's result (its checks, then one `ocsp` check per certificate asked about), plus the OCSP check. */
export interface CloudFrontVerdict extends VerifyChainResult {
  /** The OCSP check (null: the path failed or OCSP is off). */
  ocsp: OcspChainResult | null;
}

const OCSP_FIX: Record<string, string> = {
  OcspUrlMissing: 'issue the certificate with an OCSP URL (mtls-kit gen-client --ocsp-url URL, gen-ca --ocsp-url URL), or turn OCSP off on the trust store',
  OcspRevoked: 'issue the client a new certificate (mtls-kit renew); a revoked one stays refused',
  OcspUnknown: 'the responder does not know the certificate: answer for its CA (mtls-kit ocsp --listen) or issue it from the CA the responder serves',
  OcspUnavailable: 'start the OCSP responder named in the certificate (mtls-kit ocsp --listen PORT) or give its answer with --ocsp-response FILE',
  OcspResponseInvalid: "the answer must be signed by the certificate's issuer (or its delegated responder) and be current",
};

/**
 * Judges a viewer chain as CloudFront would (aws-reference 11.3, 11.4): an empty chain is
 * ClientCertMissing; the path and certificate rules as ALB's; then, when the path passed and
 * OCSP is on, every certificate but the root by OCSP (ClientCertRejected when one fails).
 * Never throws for a bad chain or an unreachable responder.
 */
export async function judgeCloudFrontChain(chain: ParsedCertificate[], p: CloudFrontJudgeParams): Promise<CloudFrontVerdict> {
  const policy = CLOUDFRONT_VERIFY_POLICY;
  if (chain.length === 0) {
    return {
      status: 'Failed:ClientCertMissing',
      code: 'ClientCertMissing',
      checks: [
        {
          name: 'certificate',
          ok: false,
          detail: 'the viewer sent no certificate',
          fix: 'present a client certificate (curl --cert, --key)',
          code: 'ClientCertMissing',
        },
      ],
      path: [],
      policy: policy.id,
      revocationChecked: false,
      warnings: ['revocation not checked'],
      ocsp: null,
    };
  }
  const r = judgeChain(chain, policy, {trustStore: p.trustStore, at: p.at, ignoreExpiry: p.ignoreExpiry ?? false});
  const rename = (c: VerifyFailureCode | null | undefined): VerifyFailureCode | null => (c ? (RENAMED[c] ?? c) : null);
  // The verifier's placeholder ("OCSP is not queried offline") is replaced by what happened here.
  const checks: VerifyCheck[] = r.checks.filter((c) => !(c.name === 'revocation' && c.notChecked)).map((c) => (c.code ? {...c, code: rename(c.code)!} : c));
  const warnings = r.warnings.filter((w) => !w.startsWith('revocation not checked'));
  const pathCode = rename(r.code);
  const leafSubject = safeDn(chain[0]!);
  const notChecked = (detail: string): CloudFrontVerdict => ({
    status: pathCode ? `Failed:${pathCode}` : 'Success',
    code: pathCode,
    checks: [...checks, {name: 'revocation', ok: true, notChecked: true, certificate: leafSubject, detail}],
    path: r.path,
    policy: policy.id,
    revocationChecked: false,
    warnings: [
      `revocation not checked${detail.startsWith('revocation not checked') ? detail.slice('revocation not checked'.length) : `: ${detail}`}`,
      ...warnings,
    ],
    ocsp: null,
  });
  if (pathCode) return notChecked('revocation not checked: OCSP is asked only about a chain whose path is valid');
  if (p.ocsp.kind === 'off') return notChecked(`revocation not checked: ${p.ocsp.why}`);
  const src = p.ocsp;
  const ocsp = await checkChainOcsp({
    path: extendToRoot(r.path, p.trustStore.certs),
    now: p.at,
    ...(src.kind === 'query'
      ? {fetch: src.fetch, ...(src.cache ? {cache: src.cache} : {}), ...(src.nonce ? {nonce: src.nonce} : {})}
      : {responses: src.responses}),
  });
  for (const c of ocsp.checks) {
    checks.push({
      name: 'ocsp',
      ok: c.code === null,
      certificate: c.subject,
      detail: `${c.position === 0 ? 'leaf' : `intermediate ${c.position}`} serial ${c.serial}: ${c.outcome}${c.url ? ` from ${c.url}` : ''} (${c.detail})${c.code ? ` [${c.code}]` : ''}`,
      ...(c.code ? {fix: OCSP_FIX[c.code] ?? 'see mtls-kit ocsp --check', code: CLOUDFRONT_OCSP_FAILURE_CODE} : {}),
    });
  }
  const leafAnswered = ocsp.checks[0]?.outcome === 'good' || ocsp.checks[0]?.outcome === 'revoked';
  if (!ocsp.ok)
    warnings.push(
      `${CLOUDFRONT_OCSP_FAILURE_CODE} is mtls-kit's choice for an OCSP failure (${ocsp.code}); CloudFront's code for it is UNCONFIRMED (aws-reference 11.7)`,
    );
  const failedUnsure = ocsp.checks.find((c) => c.outcome === 'unknown' || c.outcome === 'unavailable' || c.outcome === 'invalid-response');
  if (failedUnsure)
    warnings.push(
      `an OCSP answer that is ${failedUnsure.outcome} fails the chain: mtls-kit's fail-closed choice, CloudFront's behaviour is UNCONFIRMED (aws-reference 11.4)`,
    );
  return {
    status: ocsp.ok ? 'Success' : `Failed:${CLOUDFRONT_OCSP_FAILURE_CODE}`,
    code: ocsp.ok ? null : CLOUDFRONT_OCSP_FAILURE_CODE,
    checks,
    path: r.path,
    policy: policy.id,
    revocationChecked: leafAnswered,
    warnings: leafAnswered ? warnings : ['revocation not checked: no OCSP answer for the client certificate', ...warnings],
    ocsp,
  };
}

function safeDn(c: ParsedCertificate): string {
  try {
    return formatRfc2253(c.subject);
  } catch {
    return '(unreadable name)';
  }
}
