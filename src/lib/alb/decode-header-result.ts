/**
 * decode-header's result (docs/json.md "decode-header"): one entry per request, each with
 * the decoded certificates, the header checks, warnings and, with a trust store, ALB's
 * verdict. Types and conversion only; src/flows/decode-header.ts reads the input and
 * src/ui/decode-header-render.ts prints it.
 */
import type {VerifyChainResult} from './verify.js';
import {type CertDetails, describeCertificate} from './describe.js';
import {ExitCode} from '../errors.js';
import type {HeaderInputFormat} from './header-input.js';
import type {DecodedHeaderSet, FieldCheck, HeaderRole, HeaderSetMode, HeaderWarning} from './headers.js';
import type {ParsedCertificate} from '../x509/cert.js';
import {toPem} from '../x509/pem.js';

/** The ALB verdict on one decoded chain (verify.ts verifyChain without the path). */
export type VerificationSummary = Omit<VerifyChainResult, 'path'>;

export interface DecodedSetResult {
  mode: HeaderSetMode;
  headers: Array<{name: string; role: HeaderRole}>;
  /** Leaf first. */
  certificates: Array<CertDetails & {header: string; position: number; pem: string}>;
  checks: FieldCheck[];
  warnings: HeaderWarning[];
  verification: VerificationSummary | null;
}

/** `decode-header --json` (README "decode-header"). */
export interface DecodeHeaderResult {
  input: HeaderInputFormat;
  /** For a bare value: the header it was read as. */
  readAs: string | null;
  sets: DecodedSetResult[];
  warnings: number;
  /** null without --trust-store; else whether every set verified. */
  verified: boolean | null;
}

/** Converts one decoded set to its JSON shape (certificate details, PEM). */
export function toSetResult(set: DecodedHeaderSet, verify?: (chain: ParsedCertificate[]) => VerificationSummary): DecodedSetResult {
  const chain = set.certificates.map((c) => c.certificate);
  return {
    mode: set.mode,
    headers: set.headers.map((h) => ({name: h.name, role: h.role})),
    certificates: set.certificates.map((c) => {
      // Extends the fresh details object rather than spreading it (a 20-key spread per
      // request is measurable when decoding 100,000 requests).
      const d = describeCertificate(c.certificate) as DecodedSetResult['certificates'][number];
      d.header = c.header;
      d.position = c.position;
      d.pem = toPem(c.certificate.der, 'CERTIFICATE');
      return d;
    }),
    checks: set.checks,
    warnings: set.warnings,
    verification: verify && chain.length ? verify(chain) : null,
  };
}

/** Exit code for a result: 3 when --trust-store verification failed. */
export function resultExitCode(r: DecodeHeaderResult): number {
  return r.verified === false ? ExitCode.VerificationFailed : ExitCode.Ok;
}
