/**
 * The base of every mtls-kit command: `--json`, the error contract and exit codes.
 *
 * JSON contract (README "JSON output"): on success stdout holds the command's result
 * object; on failure `{"error": {"code", "message", "suggestions", "exitCode"}}`.
 * Human output: the result on stdout, `error: <one line>` and suggestions on stderr.
 */
import {Command, Errors} from '@oclif/core';
import {ExitCode, isMtlsKitError} from './lib/errors.js';
import {err as c, printErr} from './ui/output.js';

export interface ErrorJson {
  error: {code: string; message: string; suggestions: string[]; exitCode: number; details?: Record<string, unknown>};
}

export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;

  /** Exit with a code after the result was rendered (e.g. 3 for a failed verification). */
  protected resultExitCode = 0;

  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    if (error instanceof Errors.ExitError) throw error;
    let body: ErrorJson['error'];
    if (isMtlsKitError(error)) {
      body = {code: error.code, message: error.message, suggestions: error.suggestions, exitCode: error.exitCode};
      if (error.details) body.details = error.details;
    } else if (error instanceof Errors.CLIError) {
      // oclif parse/validation errors: unknown flags, bad option values (exit 2).
      const exit = error.oclif?.exit ?? ExitCode.Usage;
      body = {code: 'USAGE', message: error.message.split('\n')[0] ?? error.message, suggestions: ['see --help'], exitCode: exit};
      if (!this.jsonEnabled()) throw error;
    } else {
      body = {code: 'BUG', message: `unexpected error: ${error.message}`, suggestions: ['this is a bug in mtls-kit; re-run with DEBUG=mtls-kit to see the stack'], exitCode: ExitCode.Bug};
      if (process.env.DEBUG) printErr(error.stack ?? String(error));
    }
    if (this.jsonEnabled()) {
      process.stdout.write(JSON.stringify({error: body}, null, 2) + '\n');
    } else {
      printErr(`${c.red('error:')} ${body.message}`);
      for (const s of body.suggestions) printErr(`  ${c.dim('→')} ${s}`);
    }
    throw new Errors.ExitError(body.exitCode);
  }

  protected override async finally(error: Error | undefined): Promise<unknown> {
    const r = await super.finally(error);
    if (!error && this.resultExitCode !== 0) process.exitCode = this.resultExitCode;
    return r;
  }

  /** Prints the result as JSON (when --json) or calls render for humans. */
  protected emit<T>(result: T, render: (r: T) => void): T {
    if (!this.jsonEnabled()) render(result);
    return result;
  }
}
