/**
 * Pre-upload checks of CA bundles, CRLs and client certificates against what ALB
 * (aws-reference 3, 4.1-4.3) or API Gateway (aws-reference 4.4) accepts. The file kind is
 * detected from the content. Malformed input never throws: it becomes a finding.
 */
import {parseCertificate, type ParsedCertificate} from '../x509/cert.js';
import {ALB_CRL_LIMITS, checkCrlSignature, checkCrlWithOpenSsl, loadCrl, type LoadedCrl, parseCrl} from '../x509/crl.js';
import {crlScopeNotes} from '../x509/crl-input.js';
import {DerError, readTlv} from '../x509/der.js';
import {identifyInput, wrongInputError} from '../x509/input-kind.js';
import {checkAlbRequirements, clientAuthProblem} from './describe.js';
import {formatRfc2253} from '../x509/dn.js';
import {isMtlsKitError} from '../errors.js';
import {ALB_MAX_CHAIN_DEPTH, judgeChain, policyFor, prepareTrustStore, type TrustStore, type VerifyChainResult} from './verify.js';
import type {VerificationPolicy} from './policy.js';

/** The client-purpose message's cause, kept with it in describe.ts (re-exported for existing importers). */
export {PUBLIC_CA_NO_CLIENTAUTH} from './describe.js';

export interface LintInput {
  path: string;
  data: Uint8Array;
  /**
   * What the caller knows the file is for: 'bundle' when it is the trust store (deploy), so a
   * file of certificates that are not CAs is linted as the bundle it was given as. Default:
   * detected from the content.
   */
  role?: 'bundle';
}
export type LintTarget = 'alb' | 'apigw';
export interface LintFinding {
  severity: 'error' | 'warning' | 'info';
  rule: string;
  file: string;
  certificate?: string;
  message: string;
  fix: string;
}
export interface LintResult {
  /** The policy client certificates were judged by (policy.ts id: `alb-verify`, `nlb-verify`, `apigw`). */
  policy: string;
  findings: LintFinding[];
  errors: number;
  warnings: number;
}
/** A finding as deploy (ALB and API Gateway) reports it in --json: no certificate reference. */
export interface DeployLintFinding {
  severity: string;
  rule: string;
  file: string;
  message: string;
  fix: string;
}
/** The `lint` part of deploy's --json result (ALB and API Gateway). */
export interface DeployLintSummary {
  errors: number;
  warnings: number;
  findings: DeployLintFinding[];
}
/** One finding in deploy's --json form. */
export function deployLintFinding(f: LintFinding): DeployLintFinding {
  return {severity: f.severity, rule: f.rule, file: f.file, message: f.message, fix: f.fix};
}
/** A lint result in deploy's --json form. */
export function deployLintSummary(r: LintResult): DeployLintSummary {
  return {errors: r.errors, warnings: r.warnings, findings: r.findings.map(deployLintFinding)};
}
/** What `mtls-kit lint` reports (its --json result): the files, the findings and their counts. */
export interface LintReport {
  target: 'alb' | 'nlb' | 'apigw' | 'cloudfront';
  /** The verification policy client certificates were judged by (`alb-verify`, `nlb-verify`, `apigw`, `cloudfront-viewer`; policy.ts). */
  policy: string;
  files: string[];
  /** --target nlb: the identity filters that were checked (FIELD:MATCH:VALUE), those that parse. */
  identityFilters?: string[];
  findings: LintFinding[];
  errors: number;
  warnings: number;
}
export interface LintOptions {
  target: LintTarget;
  now: Date;
  /** Warn about certificates and CRLs that expire within this many days. */
  warnDays: number;
  /**
   * Leave out OpenSSL's parse of each CRL (checkCrlWithOpenSsl); the caller runs it later with
   * crlOpensslFinding. Every other check still runs. Default false.
   */
  deferCrlOpensslCheck?: boolean;
  /**
   * CRLs the trust store brings without being linted (the CA directory's, aws-reference 12.4):
   * used only for the verdict on client certificates, so a revoked client is never passed.
   */
  revocationCrls?: LoadedCrl[];
  /**
   * Who judges client certificates when it is not the target's own policy through judgeChain:
   * `lint --target nlb` lints bundles and CRLs by ALB's rules (the same ELBv2 trust store) but
   * judges clients by NLB's policy and identity filters (lib/nlb/lint.ts).
   */
  clientVerdict?: ClientVerdictJudge;
}

/** A product's verdict on a client chain, for lint's client-verify findings. */
export interface ClientVerdictJudge {
  policy: VerificationPolicy;
  /** How findings name it: `NLB`. */
  product: string;
  judge: (chain: ParsedCertificate[], ctx: {trustStore: TrustStore; crls: LoadedCrl[]; at: Date}) => VerifyChainResult;
}

/** The client verdict of `opts`: the one given, else the target's policy through judgeChain. */
function clientVerdictOf(opts: LintOptions): ClientVerdictJudge {
  if (opts.clientVerdict) return opts.clientVerdict;
  const policy = policyFor(opts.target);
  return {policy, product: opts.target === 'apigw' ? 'API Gateway' : 'ALB', judge: (chain, ctx) => judgeChain(chain, policy, ctx)};
}

/** ALB quotas (aws-reference 3). */
export const ALB_BUNDLE_LIMITS = {maxCaCertificates: 25, maxCertificateBytes: 16 * 1024} as const;
/** API Gateway truststore quotas (aws-reference 4.4). */
export const APIGW_TRUSTSTORE_LIMITS = {maxCertificates: 1000, maxBytes: 1024 * 1024, maxChainLength: 4} as const;

type FileKind = 'bundle' | 'crl' | 'client' | 'unknown';

interface PemScan {
  blocks: Array<{label: string; line: number; der?: Uint8Array; error?: string}>;
  findings: LintFinding[];
}

const day = 86_400_000;
const iso = (d: Date): string => d.toISOString().replace('.000Z', 'Z');

function dn(c: ParsedCertificate): string {
  try {
    return formatRfc2253(c.subject) || '(empty subject)';
  } catch {
    return '(unreadable subject)';
  }
}

/**
 * Scans PEM text line by line for ALB's bundle format rules (aws-reference 4.2): PEM blocks,
 * optionally `#` comment lines without `-`, no blank lines, nothing else (a text dump
 * from `openssl x509 -text` before a block makes the file invalid). Never throws.
 */
function scanPem(text: string, file: string, target: LintTarget): PemScan {
  const findings: LintFinding[] = [];
  const blocks: PemScan['blocks'] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const blank: number[] = [];
  const stray: number[] = [];
  const badComment: number[] = [];
  let crlf = false;
  let i = 0;
  while (i < lines.length) {
    let line = lines[i]!;
    if (line.endsWith('\r')) {
      crlf = true;
      line = line.slice(0, -1);
    }
    const begin = /^-----BEGIN ([A-Z0-9 ]+)-----$/.exec(line.trim());
    if (begin) {
      const label = begin[1]!;
      const start = i + 1;
      const body: string[] = [];
      i++;
      let closed = false;
      while (i < lines.length) {
        const l = lines[i]!.replace(/\r$/, '');
        if (l.trim() === `-----END ${label}-----`) {
          closed = true;
          break;
        }
        if (/^-----(BEGIN|END) /.test(l.trim())) break;
        if (l.trim() === '') blank.push(i + 1);
        else body.push(l.trim());
        i++;
      }
      if (!closed) {
        blocks.push({label, line: start, error: `the ${label} block from line ${start} has no matching END line (truncated?)`});
        continue;
      }
      i++;
      const b64 = body.join('');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0 || b64.length === 0) {
        blocks.push({label, line: start, error: `the ${label} block from line ${start} is not valid base64`});
        continue;
      }
      const der = new Uint8Array(Buffer.from(b64, 'base64'));
      try {
        const t = readTlv(der, 0);
        if (t.end !== der.length) throw new DerError(`${der.length - t.end} bytes after the DER element`);
        blocks.push({label, line: start, der});
      } catch (error) {
        blocks.push({label, line: start, error: `the ${label} block from line ${start} is not valid DER (${(error as Error).message})`});
      }
      continue;
    }
    if (line.trim() === '') blank.push(i + 1);
    else if (line.startsWith('#')) {
      if (line.includes('-')) badComment.push(i + 1);
    } else stray.push(i + 1);
    i++;
  }
  const lineList = (xs: number[]): string => (xs.length > 5 ? `${xs.slice(0, 5).join(', ')} and ${xs.length - 5} more` : xs.join(', '));
  if (target === 'alb') {
    if (blank.length > 0) {
      findings.push({
        severity: 'error',
        rule: 'pem-blank-lines',
        file,
        message: `blank line${blank.length > 1 ? 's' : ''} at line ${lineList(blank)}; ALB rejects a bundle with blank lines`,
        fix: `remove them, e.g. sed -i '/^[[:space:]]*$/d' ${file}`,
      });
    }
    if (badComment.length > 0) {
      findings.push({
        severity: 'error',
        rule: 'pem-comment',
        file,
        message: `comment line${badComment.length > 1 ? 's' : ''} ${lineList(badComment)} contain${badComment.length > 1 ? '' : 's'} "-"; ALB allows # comments only without "-"`,
        fix: 'remove the "-" characters from the comments, or delete the comment lines',
      });
    }
  }
  if (stray.length > 0) {
    findings.push({
      severity: 'error',
      rule: 'pem-text-outside-blocks',
      file,
      message: `text outside PEM blocks at line ${lineList(stray)} (e.g. an "openssl x509 -text" dump); ${target === 'alb' ? 'ALB rejects the bundle' : 'the file is not a clean PEM'}`,
      fix: `keep only the -----BEGIN/END----- blocks: openssl crl2pkcs7 -nocrl -certfile ${file} | openssl pkcs7 -print_certs | grep -v -e '^subject=' -e '^issuer=' -e '^$'`,
    });
  }
  if (crlf)
    findings.push({
      severity: 'warning',
      rule: 'pem-crlf',
      file,
      message: 'Windows (CRLF) line endings',
      fix: `convert to LF line endings: sed -i 's/\\r$//' ${file}`,
    });
  return {blocks, findings};
}

/** Detects the file kind from its content. */
function detectKind(scan: PemScan | undefined, der: Uint8Array | undefined, certs: ParsedCertificate[]): FileKind {
  if (scan) {
    if (scan.blocks.some((b) => b.label === 'X509 CRL')) return 'crl';
    if (certs.length === 0) return 'unknown';
    return certificatesKind(certs);
  }
  if (der) return certs.length > 0 ? certificatesKind(certs) : 'crl';
  return 'unknown';
}

/**
 * A file of certificates is a bundle when the first is a CA, or when there are several and
 * none is a CA (leaves put together as a trust store: a client chain's later certificates
 * are CAs); else a client certificate, with its chain.
 */
function certificatesKind(certs: ParsedCertificate[]): FileKind {
  if (certs[0]!.basicConstraints?.ca === true) return 'bundle';
  return certs.length > 1 && !certs.some((c) => c.basicConstraints?.ca === true) ? 'bundle' : 'client';
}

interface FileState {
  input: LintInput;
  kind: FileKind;
  certs: ParsedCertificate[];
  crl?: LoadedCrl;
  pem: boolean;
}

/**
 * Lints files (CA bundles, CRLs, client certificates or chains) for `target`.
 * Bundles and CRLs given together are checked against each other (the CRL issuer
 * must be a CA in the bundle, the CRL signature must verify), and client certificates
 * are verified against the bundle as ALB would.
 * @returns every finding with its severity, the counts of errors and warnings. Never throws.
 */
export function lintFiles(inputs: LintInput[], opts: LintOptions): LintResult {
  const {crls: _crls, ...result} = lintFilesKeepingCrls(inputs, opts);
  return result;
}

/**
 * lintFiles, also returning each input's CRL as lint parsed it (undefined for inputs that are
 * not a readable CRL), so a caller that needs the CRLs does not parse a large file again.
 * @returns as lintFiles, plus `crls` aligned with `inputs`. Never throws.
 */
export function lintFilesKeepingCrls(inputs: LintInput[], opts: LintOptions): LintResult & {crls: Array<LoadedCrl | undefined>} {
  const findings: LintFinding[] = [];
  const states: FileState[] = [];
  for (const input of inputs) {
    try {
      states.push(lintOne(input, opts, findings));
    } catch (error) {
      // A bug or an input we did not foresee: still a finding, never a crash.
      findings.push({
        severity: 'error',
        rule: 'unreadable',
        file: input.path,
        message: `cannot be read as a bundle, CRL or certificate (${(error as Error).message})`,
        fix: 'check that the file is PEM or DER and not truncated',
      });
    }
  }
  try {
    crossChecks(states, opts, findings);
  } catch (error) {
    findings.push({
      severity: 'error',
      rule: 'unreadable',
      file: inputs.map((i) => i.path).join(', '),
      message: `cross-checks failed (${(error as Error).message})`,
      fix: 'lint the files one by one to find the one that is malformed',
    });
  }
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.filter((f) => f.severity === 'warning').length;
  return {policy: clientVerdictOf(opts).policy.id, findings, errors, warnings, crls: inputs.map((input) => states.find((st) => st.input === input)?.crl)};
}

function lintOne(input: LintInput, opts: LintOptions, findings: LintFinding[]): FileState {
  const file = input.path;
  const head = Buffer.from(input.data.subarray(0, 4096)).toString('latin1');
  const isPem = head.includes('-----BEGIN ') || (input.data.length > 0 && input.data[0] !== 0x30);
  if (input.data.length === 0) {
    findings.push({severity: 'error', rule: 'empty-file', file, message: 'the file is empty', fix: 'pass the bundle, CRL or certificate file'});
    return {input, kind: 'unknown', certs: [], pem: false};
  }
  if (!head.includes('-----BEGIN ') && input.data[0] !== 0x30) {
    // Neither PEM nor DER: an archive or binary data is said to be so; text goes on to the PEM rules (a text dump).
    const found = identifyInput(input.data);
    if (found.kind !== 'text') {
      const wrong = wrongInputError(input.data, file, [], {wanted: 'a CA bundle, a CRL or a client certificate'});
      findings.push({
        severity: 'error',
        rule: 'unknown-content',
        file,
        message: wrong ? wrong.message.slice(file.length + 1) : `is ${found.description}, not a CA bundle, a CRL or a client certificate`,
        fix: wrong?.suggestions[0] ?? 'pass a PEM CA bundle, a CRL (PEM) or a client certificate',
      });
      return {input, kind: 'unknown', certs: [], pem: false};
    }
  }
  const certs: ParsedCertificate[] = [];
  let scan: PemScan | undefined;
  if (isPem) {
    const text = Buffer.from(input.data).toString('utf8');
    const isCrl = text.includes('-----BEGIN X509 CRL-----');
    // A CRL is never a bundle: its formatting rules are only PEM validity (checked on load).
    scan = isCrl ? {blocks: [{label: 'X509 CRL', line: 1}], findings: []} : scanPem(text, file, opts.target);
    if (!isCrl) {
      findings.push(...scan.findings);
      for (const b of scan.blocks) {
        if (b.error) {
          findings.push({severity: 'error', rule: 'pem-invalid', file, message: b.error, fix: 'restore the complete block from the original certificate file'});
          continue;
        }
        if (b.label.includes('PRIVATE KEY')) {
          findings.push({
            severity: 'error',
            rule: 'private-key',
            file,
            message: `a ${b.label} block at line ${b.line}: never upload private keys`,
            fix: 'remove the key block from the file, and treat that key as exposed if the file was shared',
          });
          continue;
        }
        if (b.label !== 'CERTIFICATE') {
          findings.push({
            severity: 'error',
            rule: 'pem-label',
            file,
            message: `a "${b.label}" block at line ${b.line}; only CERTIFICATE blocks belong here`,
            fix: 'remove it',
          });
          continue;
        }
        try {
          const c = parseCertificate(b.der!);
          certs.push(c);
          unusableFindings(c, file, `the certificate at line ${b.line}`, findings);
        } catch (error) {
          findings.push({
            severity: 'error',
            rule: 'certificate-invalid',
            file,
            message: `the certificate at line ${b.line} is not a valid X.509 certificate (${(error as Error).message})`,
            fix: 'replace it with an intact copy',
          });
        }
      }
    }
  } else {
    try {
      const c = parseCertificate(input.data);
      certs.push(c);
      unusableFindings(c, file, 'the certificate', findings);
    } catch {
      // Not a certificate: a DER CRL (checked below), or another kind of file (a key, a CSR, gzip).
      const wrong = wrongInputError(input.data, file, ['crl', 'certificate'], {wanted: 'a CA bundle, a CRL or a client certificate'});
      if (wrong) {
        const key = (wrong.details?.found as string | undefined)?.includes('private-key');
        findings.push({
          severity: 'error',
          rule: key ? 'private-key' : 'unknown-content',
          file,
          message: wrong.message.slice(file.length + 1) + (key ? '; never upload private keys' : ''),
          fix: wrong.suggestions[0] ?? 'pass a PEM CA bundle, a CRL (PEM) or a client certificate',
        });
        return {input, kind: 'unknown', certs: [], pem: false};
      }
    }
  }
  const detected = detectKind(scan, isPem ? undefined : input.data, certs);
  const kind = input.role === 'bundle' && detected === 'client' ? 'bundle' : detected;
  const state: FileState = {input, kind, certs, pem: isPem};
  if (kind === 'crl') {
    lintCrl(state, opts, findings);
  } else if (kind === 'bundle') {
    lintBundle(state, opts, findings);
  } else if (kind === 'client') {
    lintClient(state, opts, findings);
  } else if (!findings.some((f) => f.file === file && f.severity === 'error')) {
    findings.push({
      severity: 'error',
      rule: 'unknown-content',
      file,
      message: 'holds no certificate and no CRL',
      fix: 'pass a PEM CA bundle, a CRL (PEM) or a client certificate',
    });
  }
  return state;
}

/** What makes a readable certificate unusable to OpenSSL's verifier (hence to ALB): errors. */
function unusableFindings(c: ParsedCertificate, file: string, what: string, findings: LintFinding[]): void {
  const problems = [
    ...(c.timeError ? [`its validity ${c.timeError}`] : []),
    ...c.invalidExtensions,
    ...(c.unsupportedCritical.length > 0 ? [`critical extension(s) OpenSSL does not handle: ${c.unsupportedCritical.join(', ')}`] : []),
  ];
  if (problems.length > 0)
    findings.push({
      severity: 'error',
      rule: 'certificate-invalid',
      file,
      certificate: dn(c),
      message: `${what} cannot be used by ALB's verifier: ${problems.join('; ')}`,
      fix: 'reissue it with well-formed extensions and RFC 5280 validity times',
    });
}

function expiryFindings(c: ParsedCertificate, file: string, what: string, opts: LintOptions, findings: LintFinding[]): void {
  const cert = dn(c);
  if (c.notAfter < opts.now) {
    findings.push({
      severity: 'error',
      rule: 'certificate-expired',
      file,
      certificate: cert,
      message: `${what} expired ${iso(c.notAfter)}`,
      fix: 'replace it with a renewed certificate',
    });
  } else if (c.notAfter.getTime() - opts.now.getTime() < opts.warnDays * day) {
    const days = Math.floor((c.notAfter.getTime() - opts.now.getTime()) / day);
    findings.push({
      severity: 'warning',
      rule: 'certificate-expiring',
      file,
      certificate: cert,
      message: `${what} expires ${iso(c.notAfter)} (in ${days} day${days === 1 ? '' : 's'})`,
      fix: 'renew it before then',
    });
  }
  if (c.notBefore > opts.now) {
    findings.push({
      severity: 'warning',
      rule: 'certificate-not-yet-valid',
      file,
      certificate: cert,
      message: `${what} is not valid before ${iso(c.notBefore)}`,
      fix: 'check the clock of the machine that issued it',
    });
  }
}

function algorithmFindings(c: ParsedCertificate, file: string, opts: LintOptions, findings: LintFinding[]): void {
  const r = checkAlbRequirements(c);
  for (const problem of r.problems) {
    const v1 = problem.startsWith('X.509 v');
    findings.push({
      severity: 'error',
      rule: v1 ? 'x509-version' : 'key-or-signature',
      file,
      certificate: dn(c),
      message: opts.target === 'alb' ? problem : problem.replace(/ALB/g, 'API Gateway'),
      fix: v1
        ? 'reissue it as an X.509 v3 certificate (with basicConstraints and keyUsage)'
        : 'reissue it with RSA 2048+ or ECDSA P-256/P-384/P-521 and SHA-256 or stronger',
    });
  }
}

function lintBundle(s: FileState, opts: LintOptions, findings: LintFinding[]): void {
  const file = s.input.path;
  if (!s.pem)
    findings.push({
      severity: 'error',
      rule: 'bundle-not-pem',
      file,
      message: 'a DER file; trust-store bundles must be PEM',
      fix: `convert it: openssl x509 -inform DER -in ${file} -out ${file.replace(/\.\w+$/, '')}.pem`,
    });
  for (const c of s.certs) {
    const cert = dn(c);
    algorithmFindings(c, file, opts, findings);
    if (!c.basicConstraints?.ca) {
      findings.push({
        severity: 'error',
        rule: 'not-a-ca',
        file,
        certificate: cert,
        message:
          "not a CA certificate (basicConstraints CA:TRUE missing): ALB's verifier would trust it only as itself, never a client certificate it issued, and AWS documents the trust store as a bundle of CA certificates",
        fix: 'remove it from the bundle; put only root and intermediate CA certificates in it',
      });
    } else if (c.keyUsage && !c.keyUsage.flags.includes('keyCertSign')) {
      findings.push({
        severity: 'error',
        rule: 'ca-key-usage',
        file,
        certificate: cert,
        message: `keyUsage ${c.keyUsage.flags.join(', ')} lacks keyCertSign; OpenSSL-based verifiers reject certificates it issued`,
        fix: 'reissue the CA with keyUsage keyCertSign, cRLSign',
      });
    }
    if (opts.target === 'alb' && c.der.length > ALB_BUNDLE_LIMITS.maxCertificateBytes) {
      // aws-reference 3: "CA certificate size 16 KB" (per certificate or per bundle is UNCONFIRMED; checked per certificate).
      findings.push({
        severity: 'error',
        rule: 'ca-certificate-size',
        file,
        certificate: cert,
        message: `${c.der.length} bytes; ALB's CA certificate size limit is 16 KB`,
        fix: 'use a smaller CA certificate (fewer extensions, a smaller key)',
      });
    }
    expiryFindings(c, file, 'the CA certificate', opts, findings);
  }
  const seen = new Set<string>();
  for (const c of s.certs) {
    if (seen.has(c.sha256Fingerprint))
      findings.push({
        severity: 'warning',
        rule: 'duplicate-certificate',
        file,
        certificate: dn(c),
        message: 'appears more than once',
        fix: 'remove the duplicate',
      });
    seen.add(c.sha256Fingerprint);
  }
  if (opts.target === 'alb') {
    if (s.certs.length > ALB_BUNDLE_LIMITS.maxCaCertificates) {
      findings.push({
        severity: 'error',
        rule: 'too-many-cas',
        file,
        message: `${s.certs.length} CA certificates; ALB allows ${ALB_BUNDLE_LIMITS.maxCaCertificates} per trust store (quota L-43FE5A42)`,
        fix: 'split the bundle over several trust stores, or request a quota increase',
      });
    }
  } else {
    if (s.certs.length > APIGW_TRUSTSTORE_LIMITS.maxCertificates) {
      findings.push({
        severity: 'error',
        rule: 'too-many-certificates',
        file,
        message: `${s.certs.length} certificates; API Gateway allows ${APIGW_TRUSTSTORE_LIMITS.maxCertificates} per truststore`,
        fix: 'remove CAs that no client uses',
      });
    }
    if (s.input.data.length > APIGW_TRUSTSTORE_LIMITS.maxBytes) {
      findings.push({
        severity: 'error',
        rule: 'truststore-size',
        file,
        message: `${s.input.data.length} bytes; API Gateway allows 1 MB per truststore`,
        fix: 'remove CAs that no client uses',
      });
    }
  }
  chainFindings(s, opts, findings);
}

/** Chain depth inside the bundle, and (API Gateway) the complete chain to a root. */
function chainFindings(s: FileState, opts: LintOptions, findings: LintFinding[]): void {
  const file = s.input.path;
  const bySubject = new Map<string, ParsedCertificate>();
  for (const c of s.certs) bySubject.set(Buffer.from(c.subject).toString('latin1'), c);
  for (const c of s.certs) {
    let cur = c;
    let length = 1;
    let complete = false;
    for (let guard = 0; guard < 32; guard++) {
      if (Buffer.compare(cur.subject, cur.issuer) === 0) {
        complete = true;
        break;
      }
      const up = bySubject.get(Buffer.from(cur.issuer).toString('latin1'));
      if (!up) break;
      cur = up;
      length++;
    }
    const maxLen = opts.target === 'alb' ? ALB_MAX_CHAIN_DEPTH : APIGW_TRUSTSTORE_LIMITS.maxChainLength;
    if (length > maxLen) {
      findings.push({
        severity: 'error',
        rule: 'chain-depth',
        file,
        certificate: dn(c),
        message: `its chain to the root is ${length} certificates; ${opts.target === 'alb' ? 'ALB' : 'API Gateway'} allows ${maxLen}`,
        fix: 'issue clients from a CA closer to the root',
      });
    }
    if (!complete) {
      const missing = (() => {
        try {
          return formatRfc2253(cur.issuer);
        } catch {
          return '(unreadable)';
        }
      })();
      if (opts.target === 'apigw') {
        findings.push({
          severity: 'error',
          rule: 'incomplete-chain',
          file,
          certificate: dn(c),
          message: `the chain stops at ${dn(cur)}: its issuer ${missing} is not in the file; API Gateway needs the complete chain up to the root`,
          fix: `append the certificate of ${missing} (and its issuers up to the self-signed root)`,
        });
      } else {
        findings.push({
          severity: 'info',
          rule: 'incomplete-chain',
          file,
          certificate: dn(c),
          message: `the issuer ${missing} of ${dn(cur)} is not in the bundle; ALB trusts it anyway (it verifies partial chains), but other verifiers may not`,
          fix: `append the certificate of ${missing} if you have it`,
        });
      }
    }
  }
}

/** lint's finding for a CRL that does not load. */
function crlInvalidFinding(file: string, pem: boolean, error: unknown): LintFinding {
  const message = isMtlsKitError(error) ? error.message.replace(`${file}: `, '') : (error as Error).message;
  return {
    severity: 'error',
    rule: 'crl-invalid',
    file,
    message: pem ? `not a readable CRL: ${message}` : `neither a DER certificate nor a readable DER CRL (${message})`,
    fix: 'regenerate it (mtls-kit crl) or re-download it; check it was not truncated',
  };
}

/**
 * The check lintFiles leaves out with `deferCrlOpensslCheck`: OpenSSL's parse of a CRL lint
 * parsed. Null when OpenSSL reads it, else the finding lint would have made.
 */
export function crlOpensslFinding(input: LintInput, crl: LoadedCrl): LintFinding | null {
  try {
    checkCrlWithOpenSsl(input.data, crl);
    return null;
  } catch (error) {
    return crlInvalidFinding(input.path, crl.format === 'pem', error);
  }
}

function lintCrl(s: FileState, opts: LintOptions, findings: LintFinding[]): void {
  const file = s.input.path;
  let crl: LoadedCrl;
  try {
    crl = opts.deferCrlOpensslCheck ? parseCrl(s.input.data, file) : loadCrl(s.input.data, file);
  } catch (error) {
    findings.push(crlInvalidFinding(file, s.pem, error));
    return;
  }
  s.crl = crl;
  findings.push(...crlFindings(crl, opts));
}

/** Part of a CRL's own lifetime (nextUpdate − thisUpdate) below which lint says it is time for a fresh one. */
export const CRL_RENEW_FRACTION = 1 / 3;

/**
 * The checks of one CRL on its own, as lint and inspect apply them: ALB's PEM-only, size and
 * entry limits (aws-reference 3), negative serials, unhandled critical extensions, thisUpdate
 * in the future, nextUpdate missing or passed, delta CRLs; and freshness: a warning
 * (crl-expiring) when less than opts.warnDays AND less than a third of the CRL's own lifetime
 * is left, so a CRL just written with `crl --days 30` passes, and the same CRL warns once
 * fewer than 10 days remain (a 7-day CRL: fewer than 2 days 8 hours; a 365-day CRL: fewer than
 * --warn-days). Bundle cross-checks (issuer, signature) need the bundle and are lint's alone.
 */
export function crlFindings(crl: LoadedCrl, opts: Omit<LintOptions, 'target'> & {target: LintTarget | 'nlb'}): LintFinding[] {
  const findings: LintFinding[] = [];
  const file = crl.source;
  const issuer = crl.issuerDn || '(empty issuer)';
  if (opts.target === 'apigw') {
    findings.push({
      severity: 'info',
      rule: 'crl-not-used',
      file,
      certificate: issuer,
      message: 'API Gateway does not check revocation',
      fix: 'check revocation in a Lambda authorizer instead',
    });
  }
  // deploy --crl uploads a DER CRL as PEM (aws-reference 4.5), so the file is fine for deploy: a warning.
  if (crl.format !== 'pem' && opts.target === 'alb') {
    findings.push({
      severity: 'warning',
      rule: 'crl-not-pem',
      file,
      certificate: issuer,
      message: 'a DER CRL (as AWS Private CA writes them); ALB accepts only PEM CRLs, so mtls-kit deploy uploads it as PEM',
      fix: `mtls-kit deploy --crl ${file} converts it to PEM itself; or convert it: openssl crl -inform DER -in ${file} -out ${file.replace(/\.\w+$/, '')}.pem`,
    });
  }
  if (opts.target !== 'apigw') for (const n of crlScopeNotes(crl)) findings.push({severity: 'warning', file, certificate: issuer, ...n});
  if (crl.fileSize > ALB_CRL_LIMITS.maxFileBytes) {
    findings.push({
      severity: 'error',
      rule: 'crl-size',
      file,
      certificate: issuer,
      message: `${crl.fileSize} bytes; ALB's revocation list file limit is 50 MB`,
      fix: 'split the revocations over several CRLs, or drop entries of certificates that have expired',
    });
  }
  if (crl.entryCount > ALB_CRL_LIMITS.maxEntriesPerTrustStore) {
    findings.push({
      severity: 'error',
      rule: 'crl-entries',
      file,
      certificate: issuer,
      message: `${crl.entryCount} entries; ALB allows 500,000 revocation entries per trust store`,
      fix: 'drop entries of certificates that have expired, or request a quota increase (L-37E1617B)',
    });
  }
  if (crl.negativeSerials > 0) {
    findings.push({
      severity: 'warning',
      rule: 'crl-negative-serials',
      file,
      certificate: issuer,
      message: `${crl.negativeSerials} entr${crl.negativeSerials === 1 ? 'y has' : 'ies have'} a negative serial; ALB cannot revoke those`,
      fix: 'reissue those certificates with positive serials and revoke them again',
    });
  }
  if (crl.unhandledCritical.length > 0) {
    findings.push({
      severity: 'error',
      rule: 'crl-critical-extension',
      file,
      certificate: issuer,
      message: `unhandled critical extension${crl.unhandledCritical.length === 1 ? '' : 's'} ${crl.unhandledCritical.join(', ')}; verifiers fail with ClientCertCrlProcessingError`,
      fix: 'write the CRL without them (mtls-kit crl)',
    });
  }
  if (crl.thisUpdate > opts.now) {
    findings.push({
      severity: 'error',
      rule: 'crl-not-yet-valid',
      file,
      certificate: issuer,
      message: `thisUpdate ${iso(crl.thisUpdate)} is in the future`,
      fix: 'check the clock of the machine that wrote it, and write it again',
    });
  }
  if (!crl.nextUpdate) {
    findings.push({
      severity: 'warning',
      rule: 'crl-no-next-update',
      file,
      certificate: issuer,
      message: 'no nextUpdate',
      fix: 'write CRLs with a nextUpdate (mtls-kit crl --days 30)',
    });
  } else if (crl.nextUpdate < opts.now) {
    findings.push({
      severity: 'error',
      rule: 'crl-expired',
      file,
      certificate: issuer,
      message: `past its nextUpdate ${iso(crl.nextUpdate)}; verifiers treat it as a CRL processing error`,
      fix: 'write a fresh CRL (mtls-kit crl) and upload it',
    });
  } else {
    const left = crl.nextUpdate.getTime() - opts.now.getTime();
    const lifetime = crl.nextUpdate.getTime() - crl.thisUpdate.getTime();
    if (left < opts.warnDays * day && left < lifetime * CRL_RENEW_FRACTION) {
      const days = Math.floor(left / day);
      const life = Math.round(lifetime / day);
      findings.push({
        severity: 'warning',
        rule: 'crl-expiring',
        file,
        certificate: issuer,
        message: `nextUpdate ${iso(crl.nextUpdate)} is in ${days} day${days === 1 ? '' : 's'}, less than a third of its ${life}-day lifetime`,
        fix: 'write and upload a fresh CRL before then (mtls-kit crl)',
      });
    }
  }
  if (crl.delta)
    findings.push({
      severity: 'warning',
      rule: 'crl-delta',
      file,
      certificate: issuer,
      message: 'a delta CRL; ALB support for delta CRLs is not documented',
      fix: 'upload full CRLs',
    });
  return findings;
}

function lintClient(s: FileState, opts: LintOptions, findings: LintFinding[]): void {
  const file = s.input.path;
  const leaf = s.certs[0]!;
  s.certs.forEach((c, i) => {
    algorithmFindings(c, file, opts, findings);
    expiryFindings(c, file, i === 0 ? 'the client certificate' : 'the intermediate', opts, findings);
  });
  const purpose = clientAuthProblem(leaf);
  if (purpose) {
    findings.push({
      severity: 'error',
      rule: 'client-purpose',
      file,
      certificate: dn(leaf),
      message: purpose,
      fix: 'issue client certificates from a private CA with extendedKeyUsage clientAuth (AWS Private CA, or mtls-kit gen-client)',
    });
  }
  if (s.certs.length > ALB_MAX_CHAIN_DEPTH) {
    findings.push({
      severity: 'error',
      rule: 'chain-depth',
      file,
      certificate: dn(leaf),
      message: `${s.certs.length} certificates in the chain; ALB allows a depth of ${ALB_MAX_CHAIN_DEPTH}`,
      fix: 'issue the client from a CA closer to the root',
    });
  }
}

/** Checks that need several files: CRL issuers against the bundle, clients against bundle + CRLs. */
function crossChecks(states: FileState[], opts: LintOptions, findings: LintFinding[]): void {
  const bundleCerts = states.filter((s) => s.kind === 'bundle').flatMap((s) => s.certs);
  const crls = states.filter((s) => s.crl).map((s) => s.crl!);
  let totalEntries = 0;
  for (const crl of crls) totalEntries += crl.entryCount;
  if (crls.length > 1 && totalEntries > ALB_CRL_LIMITS.maxEntriesPerTrustStore && opts.target === 'alb') {
    findings.push({
      severity: 'error',
      rule: 'crl-entries-total',
      file: crls.map((c) => c.source).join(', '),
      message: `${totalEntries} entries over ${crls.length} CRLs; ALB allows 500,000 per trust store`,
      fix: 'drop entries of certificates that have expired, or spread the CRLs over trust stores',
    });
  }
  if (crls.length > ALB_CRL_LIMITS.maxListsPerTrustStore && opts.target === 'alb') {
    findings.push({
      severity: 'error',
      rule: 'crl-count',
      file: crls.map((c) => c.source).join(', '),
      message: `${crls.length} CRLs; ALB allows 30 per trust store`,
      fix: 'merge CRLs of the same CA',
    });
  }
  for (const crl of crls) {
    if (bundleCerts.length === 0) {
      findings.push({
        severity: 'info',
        rule: 'crl-issuer-unchecked',
        file: crl.source,
        certificate: crl.issuerDn,
        message: 'no CA bundle given, so the CRL issuer and signature were not checked',
        fix: `lint the CRL together with the bundle: mtls-kit lint ca-bundle.pem ${crl.source}`,
      });
      continue;
    }
    const issuers = bundleCerts.filter((c) => Buffer.compare(c.subject, crl.issuer) === 0);
    if (issuers.length === 0) {
      findings.push({
        severity: 'error',
        rule: 'crl-issuer-missing',
        file: crl.source,
        certificate: crl.issuerDn,
        message: `its issuer ${crl.issuerDn || '(empty)'} is not a CA in the bundle; ALB cannot use it`,
        fix: 'add that CA to the bundle, or upload the CRL of a CA that is in it',
      });
    } else if (!issuers.some((c) => checkCrlSignature(crl, c))) {
      findings.push({
        severity: 'error',
        rule: 'crl-signature',
        file: crl.source,
        certificate: crl.issuerDn,
        message: 'the signature does not verify with the key of the CA of that name in the bundle',
        fix: 'write the CRL again with the CA that is in the bundle (mtls-kit crl)',
      });
    }
  }
  if (bundleCerts.length === 0) {
    // A lone certificate that is not a CA: a client certificate to lint, or a trust store by
    // mistake. As a trust store ALB's verifier (partial chains, aws-reference 7.7) would trust it
    // only as itself, so it must not pass silently; a warning, since it is also a fine client.
    for (const s of states.filter((x) => x.kind === 'client' && !x.certs.some((c) => c.basicConstraints?.ca === true)))
      findings.push({
        severity: 'warning',
        rule: 'no-ca-certificate',
        file: s.input.path,
        certificate: dn(s.certs[0]!),
        message:
          'holds no CA certificate, so it was checked as a client certificate; as a trust store it would trust only this certificate itself, never one it issued',
        fix: `for a trust store, put the root and intermediate CA certificates in it; for a client certificate, lint it with its CA bundle: mtls-kit lint ca-bundle.pem ${s.input.path}`,
      });
    return;
  }
  const store = prepareTrustStore(bundleCerts);
  const verdictCrls = [...crls, ...(opts.revocationCrls ?? [])];
  // The product's policy (policy.ts): the same verdict verify, decode-header and probe give.
  const {policy, product, judge} = clientVerdictOf(opts);
  const who = product === 'ALB' ? 'ALB would log' : `${product} would refuse it`;
  for (const s of states.filter((x) => x.kind === 'client')) {
    const r = judge(s.certs, {trustStore: store, crls: verdictCrls, at: opts.now});
    const note = r.revocationChecked ? '' : ' (revocation not checked)';
    if (r.code) {
      const failed = r.checks.find((c) => !c.ok && c.code)!;
      findings.push({
        severity: 'error',
        rule: 'client-verify',
        file: s.input.path,
        ...(failed.certificate ? {certificate: failed.certificate} : {}),
        message: `${who} Failed:${r.code}${note}: ${failed.detail}`,
        fix: failed.fix ?? 'see mtls-kit verify',
      });
    } else if (!r.revocationChecked && policy.revocation.source !== 'none') {
      findings.push({
        severity: 'info',
        rule: 'client-revocation-not-checked',
        file: s.input.path,
        message: `${who.replace(' would refuse it', ' would accept it')} Success (revocation not checked: no CRL from its issuer among the files)`,
        fix: "lint the client with its CA's CRL, e.g. mtls-kit lint pki/ca-bundle.pem pki/intermediate/crl.pem client.pem",
      });
    }
    for (const w of r.warnings.filter((x) => !x.startsWith('revocation not checked')))
      findings.push({severity: 'warning', rule: 'client-uncertain', file: s.input.path, message: w, fix: 'see docs/aws-reference.md section 12'});
  }
}
