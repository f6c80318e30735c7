/**
 * The body of `decode-header` (src/commands/decode-header.ts has its flags and help): decode
 * each request's headers and stream it out as soon as it is decoded (human text, or JSON),
 * then the summary. Called by the oclif command and by the fast path (src/fast.ts); see README.md.
 */
import {type DecodeHeaderResult, resultExitCode} from '../lib/alb/decode-header-result.js';
import {runDecodeHeader, type SetSink} from '../flows/decode-header.js';
import {jsonSink, renderSet, renderSummary} from '../ui/decode-header-render.js';
import {stderrProgress} from '../ui/output.js';
import {nlbSendsNoCertificateData} from '../lib/nlb/target.js';
import type {ActionContext} from './context.js';

/** decode-header's parsed flags (the command's flag definitions produce this shape). */
export interface DecodeHeaderFlags {
  file?: string | undefined;
  'header-map'?: string[] | undefined;
  'trust-store'?: string | undefined;
  crl?: string[] | undefined;
  'skip-crl': boolean;
  dir: string;
  target?: 'alb' | 'apigw' | 'nlb' | 'cloudfront' | undefined;
}

/**
 * Decodes the input (`args.value`, --file or stdin) and writes every request as it is
 * decoded: JSON on stdout with ctx.json (so the returned result's `sets` is empty and must
 * not be printed again), else text. Sets the exit code (3: --trust-store verification failed).
 */
export async function runDecodeHeaderCommand(args: {value?: string | undefined}, flags: DecodeHeaderFlags, ctx: ActionContext): Promise<DecodeHeaderResult> {
  // aws-reference 9.5: an NLB sends its targets nothing about the certificate.
  if (flags.target === 'nlb') throw nlbSendsNoCertificateData('headers');
  // `decode-header --file big.txt | head`: a reader that leaves is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(process.exitCode ?? 0);
  });
  const json = ctx.json;
  let js: ReturnType<typeof jsonSink> | undefined;
  let many = false;
  let count = 0;
  const sink: SetSink = (s, i, r, requests) => {
    count++;
    if (i === 0) {
      many = requests > 1;
      js = json ? jsonSink(many) : undefined;
    }
    if (js) js.sink(s, i, r);
    else renderSet(s, i, r, many);
  };
  const result = await runDecodeHeader(
    {
      value: args.value,
      file: flags.file,
      headerMap: flags['header-map'],
      trustStore: flags['trust-store'],
      crl: flags.crl,
      skipCrl: flags['skip-crl'],
      dir: flags.dir,
      target: flags.target === 'apigw' ? 'apigw' : 'alb',
      now: new Date(),
      cloudfront: flags.target === 'cloudfront',
      onProgress: stderrProgress(),
    },
    sink,
  );
  if (js) js.finish(result);
  else renderSummary(result, count);
  ctx.setExitCode(resultExitCode(result));
  return result;
}
