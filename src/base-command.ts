/**
 * The base of every mtls-kit command: `--json`, the error contract and exit codes.
 *
 * JSON contract (README "JSON output"): on success stdout holds the command's result
 * object; on failure `{"error": {"code", "message", "suggestions", "exitCode"}}`.
 * Human output: the result on stdout, `error: <one line>` and suggestions on stderr.
 */
import {Command, Errors} from '@oclif/core';
import {ExitCode, isMtlsKitError} from './lib/errors.js';
import {errorBody, type ErrorJson, printErrorBody} from './ui/error-output.js';

export type {ErrorJson} from './ui/error-output.js';

export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;

  /** Exit with a code after the result was rendered (e.g. 3 for a failed verification). */
  protected resultExitCode = 0;

  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    if (error instanceof Errors.ExitError) throw error;
    let body: ErrorJson['error'];
    if (error instanceof Errors.CLIError && !isMtlsKitError(error)) {
      // oclif parse/validation errors: unknown flags, bad option values (exit 2).
      const exit = error.oclif?.exit ?? ExitCode.Usage;
      body = {code: 'USAGE', message: error.message.split('\n')[0] ?? error.message, suggestions: ['see --help'], exitCode: exit};
      if (!this.jsonEnabled()) throw error;
    } else {
      body = errorBody(error);
    }
    printErrorBody(body, this.jsonEnabled());
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
