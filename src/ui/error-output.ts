/**
 * The error contract's rendering (docs/json.md), shared by BaseCommand and the
 * not-found hook: `{"error": {...}}` on stdout with --json, else
 * `error: <one line>` and the suggestions on stderr.
 */
import {type ErrorCode, ExitCode, isMtlsKitError} from '../lib/errors.js';
import {err as c, printErr} from './output.js';

export interface ErrorJson {
  error: {code: ErrorCode; message: string; suggestions: string[]; exitCode: number; details?: Record<string, unknown>};
}

/** The JSON body for an MtlsKitError, or for anything else as a bug (exit 1). */
export function errorBody(error: unknown): ErrorJson['error'] {
  if (isMtlsKitError(error)) {
    const body: ErrorJson['error'] = {code: error.code, message: error.message, suggestions: error.suggestions, exitCode: error.exitCode};
    if (error.details) body.details = error.details;
    return body;
  }
  if (process.env.DEBUG) printErr((error as Error)?.stack ?? String(error));
  return {
    code: 'BUG',
    message: `unexpected error: ${(error as Error)?.message ?? String(error)}`,
    suggestions: ['this is a bug in mtls-kit; re-run with DEBUG=mtls-kit to see the stack'],
    exitCode: ExitCode.Bug,
  };
}

/** Prints an error body as JSON on stdout or as `error:` lines on stderr. */
export function printErrorBody(body: ErrorJson['error'], json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify({error: body}, null, 2) + '\n');
  } else {
    printErr(`${c.red('error:')} ${body.message}`);
    for (const s of body.suggestions) printErr(`  ${c.dim('→')} ${s}`);
  }
}
