/**
 * decode-header's output: each request as soon as it is decoded (a 100,000-request file
 * is never held as results), for humans or as the --json document.
 */
import type {HeaderSetMode} from '../lib/alb/headers.js';
import type {DecodedSetResult, DecodeHeaderResult} from '../lib/alb/decode-header-result.js';
import {renderCertDetails} from './cert-render.js';
import {hint, keyValues, out, printLine, warn} from './output.js';
import {revocationNote} from './verify-render.js';

const MODE_LABEL: Record<HeaderSetMode, string> = {
  verify: 'ALB verify mode (X-Amzn-Mtls-Clientcert-* headers)',
  passthrough: 'ALB passthrough mode (X-Amzn-Mtls-Clientcert chain)',
  apigw: 'API Gateway clientCert',
  'client-cert-sub': 'X-Client-Cert-Sub (aws-samples api-gateway-certificate-propagation)',
  cloudfront: 'CloudFront required/optional mode (CloudFront-Viewer-Cert-* headers)',
  'cloudfront-passthrough': 'CloudFront passthrough mode (Client-Cert, Client-Cert-Chain)',
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
    const who = v.policy === 'apigw' ? 'API Gateway' : v.policy === 'nlb-verify' ? 'NLB' : 'ALB';
    printLine(
      `${out.bold(`${who} verdict:`)} ${v.status === 'Success' ? out.green(v.status) : out.red(v.status)}${revocationNote(v.revocationChecked, v.status)}`,
    );
    for (const c of v.checks.filter((x) => !x.ok)) printLine(`  ${out.red('✗')} ${c.name}: ${c.detail}${c.fix ? ` (${c.fix})` : ''}`);
    for (const w of v.warnings ?? []) if (!w.startsWith('revocation not checked')) warn(`${prefix}${w}`);
  }
  for (const w of s.warnings) warn(`${prefix}${w.message}`);
}

/** Human output of a whole result (the oclif command's render). */
export function renderDecodeHeader(r: DecodeHeaderResult): void {
  for (const [i, s] of r.sets.entries()) renderSet(s, i, r, r.sets.length > 1);
  renderSummary(r, r.sets.length);
}

export function renderSummary(r: DecodeHeaderResult, count: number): void {
  if (count > 1) hint(`${count} requests, ${r.warnings} warning${r.warnings === 1 ? '' : 's'}`);
}

/**
 * Streams the --json result: the same object as the oclif command returns, written set
 * by set (a 100,000-request file makes more JSON than one V8 string can hold). One
 * request is pretty-printed; with several, each request is one line of the "sets" array.
 */
export function jsonSink(many: boolean): {sink: (s: DecodedSetResult, i: number, r: DecodeHeaderResult) => void; finish: (r: DecodeHeaderResult) => void} {
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
