/**
 * `decode-header`'s work and rendering, shared by the oclif command
 * (src/commands/decode-header.ts) and the oclif-free fast path that bin/run.js takes for
 * it (`main` below): loading @oclif/core alone costs more than the issue's cold-start
 * budget (2.5x `node -e 0`), so the common case parses its few flags with node:util.
 * Nothing here imports @oclif/core, @peculiar/* or issue.ts; verify.ts is loaded only
 * with --trust-store.
 */
import {parseArgs} from 'node:util';
import {readInput} from '../io/files.js';
import type {ParsedCertificate} from '../lib/x509/cert.js';
import {type CertDetails, describeCertificate} from '../lib/alb/describe.js';
import {ExitCode, MtlsKitError, usageError} from '../lib/errors.js';
import {type HeaderInputFormat, knownHeaderNames, readHeaderInput} from '../lib/alb/header-input.js';
import {decodeHeaderSet, type DecodedHeaderSet, type FieldCheck, type HeaderMap, type HeaderRole, type HeaderSetMode, type HeaderWarning, parseHeaderMap} from '../lib/alb/headers.js';
import {toPem} from '../lib/x509/pem.js';
import {readCertificates} from '../lib/x509/read-certs.js';
import type {LoadedCrl, VerifyChainResult} from '../lib/alb/verify.js';
import {renderCertDetails} from '../ui/cert-render.js';
import {errorBody, printErrorBody} from '../ui/error-output.js';
import {hint, keyValues, out, printLine, warn} from '../ui/output.js';

export interface DecodeHeaderParams {
  /** The value given as the argument. */
  value?: string | undefined;
  /** A file to read, or `-` for stdin. */
  file?: string | undefined;
  headerMap?: string[] | undefined;
  trustStore?: string | undefined;
  crl?: string[] | undefined;
  now: Date;
}

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

async function loadVerifier(p: DecodeHeaderParams): Promise<((chain: ParsedCertificate[]) => VerificationSummary) | undefined> {
  if (!p.trustStore) return undefined;
  // Loaded only with --trust-store (its own chunk in the bundle): cold start.
  const v = await import('../lib/alb/verify.js');
  const trustStore = v.prepareTrustStore(readCertificates(await readInput(p.trustStore), p.trustStore));
  const crls: LoadedCrl[] = [];
  for (const f of p.crl ?? []) crls.push(v.loadCrl(await readInput(f), f));
  return (chain) => {
    const r = v.verifyChain({chain, trustStore, crls, at: p.now});
    return {status: r.status, code: r.code, checks: r.checks};
  };
}

async function readText(p: DecodeHeaderParams): Promise<{text: string; source: string}> {
  if (p.value !== undefined && p.file !== undefined) throw usageError('TOO_MANY_INPUTS', 'give the header value as an argument or --file, not both');
  if (p.value !== undefined) return {text: p.value, source: 'the argument'};
  if (p.file !== undefined) return {text: decodeText(await readInput(p.file)), source: p.file === '-' ? 'stdin' : p.file};
  if (process.stdin.isTTY) {
    throw usageError('NO_INPUT', 'no header value given', ['pass it as an argument, with --file FILE, or on stdin: pbpaste | mtls-kit decode-header']);
  }
  return {text: decodeText(await readInput('-')), source: 'stdin'};
}

/** UTF-8, or UTF-16LE with its BOM (what PowerShell's `>` writes). */
function decodeText(b: Buffer): string {
  return b[0] === 0xff && b[1] === 0xfe ? b.subarray(2).toString('utf16le') : b.toString('utf8');
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

// For bench/headers.ts, which times this entry's own bundled code path.
export {decodeHeaderSet, readHeaderInput};

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
    const set = decodeHeaderSet(fields, map ? {map} : {});
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
      throw new MtlsKitError({code: 'MALFORMED_HEADER', message: firstMalformed.message, suggestions: ['pass the value exactly as the target received it (percent-encoded PEM for -Leaf / -Clientcert)']});
    }
    const seen = [...new Set(input.sets.flat().map((f) => f.name))];
    throw new MtlsKitError({
      code: 'NO_MTLS_HEADERS',
      message: `${source} has no mTLS header${seen.length ? ` (found ${seen.slice(0, 8).join(', ')}${seen.length > 8 ? ', ...' : ''})` : ''}`,
      suggestions: [`expected one of ${knownHeaderNames(map).join(', ')}`, 'if your listener renames them (ALB header modification), pass --header-map leaf=X-Your-Leaf,subject=...'],
    });
  }
  return result;
}

const MODE_LABEL: Record<HeaderSetMode, string> = {
  verify: 'ALB verify mode (X-Amzn-Mtls-Clientcert-* headers)',
  passthrough: 'ALB passthrough mode (X-Amzn-Mtls-Clientcert chain)',
  apigw: 'API Gateway clientCert',
  'client-cert-sub': 'X-Client-Cert-Sub (aws-samples api-gateway-certificate-propagation)',
};

/** Human output of one request: certificates and header checks on stdout, warnings on stderr. */
export function renderSet(s: DecodedSetResult, i: number, r: DecodeHeaderResult, many: boolean): void {
  const prefix = many ? `request ${i + 1}: ` : '';
  if (i > 0) printLine();
  printLine(out.bold(`${prefix}${MODE_LABEL[s.mode]}, read from ${r.input}${r.readAs ? ` as ${r.readAs}` : ''}`));
  for (const c of s.certificates) {
    const what = c.position === 0 ? 'leaf' : `chain certificate ${c.position + 1}`;
    printLine(renderCertDetails(c, `${what} (${c.header})`));
  }
  if (s.checks.length) {
    printLine(out.bold('headers'));
    const rows: Array<[string, string]> = s.checks.map((c) => [
      c.header,
      `${c.matches === null ? out.dim('·') : c.matches ? out.green('✓') : out.red('✗')} ${c.text}${c.matches === false ? out.red(` (the leaf says ${c.expected})`) : ''}`,
    ]);
    printLine(keyValues(rows));
  }
  if (s.verification) {
    const v = s.verification;
    printLine(`${out.bold('ALB verdict:')} ${v.status === 'Success' ? out.green(v.status) : out.red(v.status)}`);
    for (const c of v.checks.filter((x) => !x.ok)) printLine(`  ${out.red('✗')} ${c.name}: ${c.detail}${c.fix ? ` (${c.fix})` : ''}`);
  }
  for (const w of s.warnings) warn(`${prefix}${w.message}`);
}

/** Human output of a whole result (the oclif command's render). */
export function renderDecodeHeader(r: DecodeHeaderResult): void {
  r.sets.forEach((s, i) => renderSet(s, i, r, r.sets.length > 1));
  renderSummary(r, r.sets.length);
}

function renderSummary(r: DecodeHeaderResult, count: number): void {
  if (count > 1) hint(`${count} requests, ${r.warnings} warning${r.warnings === 1 ? '' : 's'}`);
}

/** Exit code for a result: 3 when --trust-store verification failed. */
export function resultExitCode(r: DecodeHeaderResult): number {
  return r.verified === false ? ExitCode.VerificationFailed : ExitCode.Ok;
}

/**
 * Streams the --json result: the same object as the oclif command returns, written set
 * by set (a 100,000-request file makes more JSON than one V8 string can hold). One
 * request is pretty-printed; with several, each request is one line of the "sets" array.
 */
function jsonSink(many: boolean): {sink: SetSink; finish: (r: DecodeHeaderResult) => void} {
  // Each request's JSON becomes bytes at once and goes out in ~1 MB writes: cheaper than
  // growing one string (a rope V8 must flatten before encoding it).
  let parts: Buffer[] = [];
  let size = 0;
  const push = (text: string): void => {
    const b = Buffer.from(text, 'utf8');
    parts.push(b);
    size += b.length;
    if (size > 1 << 20) {
      process.stdout.write(Buffer.concat(parts, size));
      parts = [];
      size = 0;
    }
  };
  const head = (r: DecodeHeaderResult): string => `{\n  "input": ${JSON.stringify(r.input)},\n  "readAs": ${JSON.stringify(r.readAs)},\n  "sets": [`;
  return {
    sink(s, i, r) {
      push((i === 0 ? head(r) : ',') + '\n    ' + (many ? JSON.stringify(s) : JSON.stringify(s, null, 2).replaceAll('\n', '\n    ')));
    },
    finish(r) {
      push(`\n  ],\n  "warnings": ${r.warnings},\n  "verified": ${JSON.stringify(r.verified)}\n}\n`);
      process.stdout.write(Buffer.concat(parts, size));
    },
  };
}

/**
 * The fast path: runs decode-header without oclif when the arguments are ones it knows.
 * Returns the exit code, or undefined to let oclif handle the command (help, unknown
 * flags and their usage errors stay oclif's).
 */
export async function main(argv: string[]): Promise<number | undefined> {
  let parsed;
  try {
    // A PEM header value starts with "-----BEGIN": a value, not a flag.
    const pem = argv.filter((a) => a.startsWith('-----'));
    parsed = parseArgs({
      args: pem.length ? [...argv.filter((a) => !a.startsWith('-----')), '--', ...pem] : argv,
      allowPositionals: true,
      strict: true,
      options: {
        file: {type: 'string', short: 'f'},
        'header-map': {type: 'string', multiple: true},
        'trust-store': {type: 'string'},
        crl: {type: 'string', multiple: true},
        json: {type: 'boolean'},
      },
    });
  } catch {
    return undefined;
  }
  // Two values, or --crl without --trust-store: oclif's usage errors say it best.
  if (parsed.positionals.length > 1 || (parsed.values.crl && !parsed.values['trust-store'])) return undefined;
  const json = parsed.values.json === true;
  // `decode-header --file big.txt | head`: a reader that leaves is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(process.exitCode ?? 0);
  });
  try {
    // Streamed: each request is printed as soon as it is decoded.
    let js: ReturnType<typeof jsonSink> | undefined;
    let many = false;
    let count = 0;
    const sink: SetSink = (s, i, r, requests) => {
      count++;
      if (i === 0) {
        many = requests > 1;
        js = json ? jsonSink(many) : undefined;
      }
      if (js) js.sink(s, i, r, requests);
      else renderSet(s, i, r, many);
    };
    const result = await runDecodeHeader(
      {
        value: parsed.positionals[0],
        file: parsed.values.file,
        headerMap: parsed.values['header-map'],
        trustStore: parsed.values['trust-store'],
        crl: parsed.values.crl,
        now: new Date(),
      },
      sink,
    );
    if (js) js.finish(result);
    else renderSummary(result, count);
    return resultExitCode(result);
  } catch (error) {
    const body = errorBody(error);
    printErrorBody(body, json);
    return body.exitCode;
  }
}
