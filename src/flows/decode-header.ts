/**
 * decode-header's work: reads the input (argument, file or stdin), decodes every header
 * set and, with a trust store, verifies each chain as ALB would. verify.ts is loaded only
 * with --trust-store (its own chunk: cold start).
 */
import {inputName, readInput} from '../io/files.js';
import type {ParsedCertificate} from '../lib/x509/cert.js';
import {MtlsKitError, usageError} from '../lib/errors.js';
import {knownHeaderNames, readHeaderInput} from '../lib/alb/header-input.js';
import {decodeHeaderSet, type HeaderMap, type HeaderWarning, parseHeaderMap} from '../lib/alb/headers.js';
import {decodeCloudFrontHeaderSet} from '../lib/cloudfront/headers.js';
import {notTextLines, wrongInputError} from '../lib/x509/input-kind.js';
import type {LoadedCrl} from '../lib/alb/verify.js';
import {type OnProgress, report} from './progress.js';
import {type DecodedSetResult, type DecodeHeaderResult, toSetResult, type VerificationSummary} from '../lib/alb/decode-header-result.js';

export interface DecodeHeaderParams {
  /** The value given as the argument. */
  value?: string | undefined;
  /** A file to read, or `-` for stdin. */
  file?: string | undefined;
  headerMap?: string[] | undefined;
  trustStore?: string | undefined;
  crl?: string[] | undefined;
  /** --skip-crl: no CRL, not even the CA directory's. */
  skipCrl?: boolean | undefined;
  /** The CA directory (--dir): a trust store that is its ca-bundle.pem brings its CRLs (io/ca/trust-crls.ts). */
  dir?: string | undefined;
  /** Whose rules judge the chain: ALB (default) or API Gateway (policy.ts). */
  target?: 'alb' | 'apigw' | undefined;
  now: Date;
  /** Decode CloudFront's headers (src/lib/cloudfront/headers.ts) instead of ALB's and API Gateway's. */
  cloudfront?: boolean | undefined;
  /** Where warnings about the trust store go (a certificate in it that is not a CA). */
  onProgress?: OnProgress | undefined;
}

async function loadVerifier(p: DecodeHeaderParams): Promise<((chain: ParsedCertificate[]) => VerificationSummary) | undefined> {
  if (!p.trustStore) return undefined;
  // Loaded only with --trust-store (its own chunk in the bundle): cold start.
  const [v, t] = await Promise.all([import('../lib/alb/verify.js'), import('../io/ca/trust-crls.js')]);
  const {store: trustStore, warnings} = v.loadTrustStore(await readInput(p.trustStore), p.trustStore, `pass it with --crl ${p.trustStore}`);
  for (const text of warnings) report(p.onProgress, {kind: 'warning', text});
  const policy = v.policyFor(p.target ?? 'alb');
  // The one revocation rule (verify, probe, lint share it): the CA directory's bundle brings its CRLs.
  const material =
    policy.revocation.source === 'none'
      ? {crls: [] as string[]}
      : await t.resolveTrustCrls({dir: p.dir ?? './pki', trustStore: p.trustStore, crl: p.crl, skipCrl: p.skipCrl});
  const crls: LoadedCrl[] = [];
  for (const f of material.crls) crls.push(v.loadCrl(await readInput(f), f));
  return (chain) => {
    const r = v.judgeChain(chain, policy, {trustStore, crls, at: p.now});
    return {status: r.status, code: r.code, checks: r.checks, policy: r.policy, revocationChecked: r.revocationChecked, warnings: r.warnings};
  };
}

const WANTED = 'mTLS headers (a header value, "Name: value" lines, a HAR file or a Lambda event)';

/**
 * Refuses input that is not header text before anything is decoded, so no error message ever
 * echoes a key or binary bytes: a private key anywhere in it, or something else than text (a
 * CRL, a DER certificate, an archive, binary data). A PEM certificate is accepted (read as the leaf).
 * @throws MtlsKitError WRONG_FILE_KIND (exit 2), NOT_HEADER_TEXT (exit 4).
 */
function assertHeaderText(text: string, source: string, bytes: Buffer | undefined): void {
  // The bytes as read (a DER file is recognised from them), unless UTF-16 made them text.
  const head =
    bytes && !(bytes[0] === 0xff && bytes[1] === 0xfe) ? bytes.subarray(0, 65_536) : Buffer.from(text.length > 65_536 ? text.slice(0, 65_536) : text, 'utf8');
  if (/-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/.test(text)) {
    throw new MtlsKitError({
      code: 'WRONG_FILE_KIND',
      message: `${source} holds a private key, not ${WANTED}`,
      suggestions: ['decode-header reads the headers a target received; keep the key to yourself'],
      exitCode: 2,
      details: {found: 'private-key'},
    });
  }
  const found = notTextLines(head);
  if (!found || (found.kind === 'certificate' && found.encoding === 'pem')) return;
  throw (
    wrongInputError(head, source, [], {wanted: WANTED, hints: {certificate: `see the headers ALB would send for it: mtls-kit encode-header ${source}`}}) ??
    new MtlsKitError({
      code: 'NOT_HEADER_TEXT',
      message: `${source} is ${found.description}, not header text`,
      suggestions: ['pass a header value, "Name: value" lines, a HAR file or a Lambda event (UTF-8, or UTF-16 with its BOM)'],
    })
  );
}

async function readText(p: DecodeHeaderParams): Promise<{text: string; source: string}> {
  const r = await readTextUnchecked(p);
  assertHeaderText(r.text, r.source, r.bytes);
  return r;
}

async function readTextUnchecked(p: DecodeHeaderParams): Promise<{text: string; source: string; bytes?: Buffer}> {
  if (p.value !== undefined && p.file !== undefined) throw usageError('TOO_MANY_INPUTS', 'give the header value as an argument or --file, not both');
  const fromBytes = (bytes: Buffer, source: string): {text: string; source: string; bytes: Buffer} => ({text: decodeText(bytes), source, bytes});
  // `-` means stdin, as for every command that reads a file (a header value is never "-").
  if (p.value === '-') return fromBytes(await readInput('-'), 'stdin');
  if (p.value !== undefined) return {text: p.value, source: 'the argument'};
  if (p.file !== undefined) return fromBytes(await readInput(p.file), inputName(p.file));
  if (process.stdin.isTTY) {
    throw usageError('NO_INPUT', 'no header value given', [
      'pass it as an argument, with --file FILE, or on stdin: mtls-kit decode-header - < captured-request.txt',
    ]);
  }
  return fromBytes(await readInput('-'), 'stdin');
}

/** UTF-8, or UTF-16LE with its BOM (what PowerShell's `>` writes). */
function decodeText(b: Buffer): string {
  return b[0] === 0xff && b[1] === 0xfe ? b.subarray(2).toString('utf16le') : b.toString('utf8');
}

/** Receives each decoded request as soon as it is ready (streaming output). */
export type SetSink = (set: DecodedSetResult, index: number, result: DecodeHeaderResult, requests: number) => void;

/**
 * Reads the input, decodes every header set, and verifies each chain with --trust-store.
 * With `sink`, each set goes to it as it is decoded and `sets` stays empty (a 100,000-
 * request file is never held in memory as results); without, `sets` holds them all.
 * @throws MtlsKitError NO_INPUT/TOO_MANY_INPUTS/BAD_HEADER_MAP (exit 2); NO_MTLS_HEADERS,
 *   MALFORMED_HEADER, BAD_HEADER_INPUT (exit 4) naming the header and what is wrong.
 *   Both are thrown before the sink sees a set.
 */
export async function runDecodeHeader(p: DecodeHeaderParams, sink?: SetSink): Promise<DecodeHeaderResult> {
  const map: HeaderMap | undefined = p.headerMap?.length ? parseHeaderMap(p.headerMap) : undefined;
  const {text, source} = await readText(p);
  const input = readHeaderInput(text, source, map);
  const verify = await loadVerifier(p);
  // Key order is the JSON order: input, readAs, sets, warnings, verified.
  const result: DecodeHeaderResult = {input: input.format, readAs: input.readAs ?? null, sets: [], warnings: 0, verified: verify ? true : null};
  let count = 0;
  let firstMalformed: HeaderWarning | undefined;
  for (const fields of input.sets) {
    const set = p.cloudfront ? decodeCloudFrontHeaderSet(fields) : decodeHeaderSet(fields, map ? {map} : {});
    if (!set) continue;
    // A set with nothing usable (no certificate, every field malformed) is an error below.
    const usable = set.certificates.length > 0 || set.checks.some((c) => !set.warnings.some((w) => w.header === c.header && w.code === 'MALFORMED_HEADER'));
    const malformed = set.warnings.find((w) => w.code === 'MALFORMED_HEADER');
    if (!usable && malformed) {
      firstMalformed ??= malformed;
      continue;
    }
    const r = toSetResult(set, verify);
    result.warnings += r.warnings.length;
    if (r.verification && r.verification.status !== 'Success') result.verified = false;
    if (sink) sink(r, count, result, input.sets.length);
    else result.sets.push(r);
    count++;
  }
  if (count === 0) {
    if (firstMalformed) {
      throw new MtlsKitError({
        code: 'MALFORMED_HEADER',
        message: firstMalformed.message,
        suggestions: ['pass the value exactly as the target received it (percent-encoded PEM for -Leaf / -Clientcert)'],
      });
    }
    const seen = [...new Set(input.sets.flat().map((f) => f.name))];
    throw new MtlsKitError({
      code: 'NO_MTLS_HEADERS',
      message: `${source} has no mTLS header${seen.length ? ` (found ${seen.slice(0, 8).join(', ')}${seen.length > 8 ? ', ...' : ''})` : ''}`,
      suggestions: [
        `expected one of ${knownHeaderNames(map).join(', ')}`,
        'if your listener renames them (ALB header modification), pass --header-map leaf=X-Your-Leaf,subject=...',
      ],
    });
  }
  return result;
}
