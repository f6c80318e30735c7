/**
 * The base of every mtls-kit command: `--json`, argument parsing, the error contract and
 * exit codes.
 *
 * JSON contract (docs/json.md): on success stdout holds the command's result object; on
 * failure `{"error": {"code", "message", "suggestions", "exitCode"}}`, also for usage errors.
 * Human output: the result on stdout, `error: <one line>` and suggestions on stderr; a
 * usage error adds the command's usage line, never its whole help.
 *
 * Parsing (every command, so new flags behave the same): flags may come before or after
 * the arguments, a repeatable flag takes one value per occurrence (`verify --crl a.pem
 * chain.pem` keeps chain.pem as the argument, as openssl does), and a value that starts
 * with `-----` (a PEM header value) is an argument, not a flag. A missing argument is never
 * read from stdin behind the user's back; `-` means stdin.
 */
import {Command, Errors, type Interfaces} from '@oclif/core';
import {isMtlsKitError} from './lib/errors.js';
import {errorBody, type ErrorJson, printErrorBody} from './ui/error-output.js';
import {guardTerminal} from './ui/output.js';
import type {ActionContext} from './actions/context.js';
import {type CommandShape, parseErrorBody, valuesAsArguments} from './usage.js';

export type {ErrorJson} from './ui/error-output.js';
export {valuesAsArguments} from './usage.js';

// What oclif's FlagOutput and ArgOutput (not exported by @oclif/core) accept.
type Output = Record<string, unknown>;
type FlagDefs = Record<string, {type?: string; char?: string; multiple?: boolean; multipleNonGreedy?: boolean} | undefined>;

export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;

  /** Exit with a code after the result was rendered (e.g. 3 for a failed verification). */
  protected resultExitCode = 0;

  /** Human output (stderr always, stdout without --json) goes through the terminal guard (ui/output.ts). */
  public override async init(): Promise<void> {
    guardTerminal(!this.jsonEnabled());
    await super.init();
  }

  protected override async parse<F extends Output, B extends Output, A extends Output>(
    options?: Interfaces.Input<F, B, A>,
    argv: string[] = this.argv,
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const input = options ?? (this.ctor as unknown as Interfaces.Input<F, B, A>);
    const flags = (input.flags ?? {}) as FlagDefs;
    for (const f of Object.values(flags)) if (f?.multiple) f.multipleNonGreedy = true;
    // oclif would read stdin as the value of a missing argument; commands read stdin
    // themselves, for `-` or when a command documents it (decode-header).
    for (const a of Object.values((input.args ?? {}) as Record<string, {ignoreStdin?: boolean} | undefined>)) if (a) a.ignoreStdin = true;
    return super.parse(input, valuesAsArguments(argv, flags));
  }

  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    if (error instanceof Errors.ExitError) throw error;
    let body: ErrorJson['error'];
    if (error instanceof Errors.CLIError && !isMtlsKitError(error)) {
      // oclif parse/validation errors: unknown flags, missing arguments, bad option values (exit 2).
      const ctor = this.ctor as unknown as CommandShape;
      body = parseErrorBody(error, this.config.bin, {id: this.id ?? ctor.id, args: ctor.args, flags: {...ctor.flags, json: {type: 'boolean'}}});
      const exit = error.oclif?.exit;
      if (typeof exit === 'number' && exit !== 1) body.exitCode = exit;
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

  /** What a command body in src/actions needs: --json and the exit code (the fast path gives the same). */
  protected actionContext(): ActionContext {
    return {
      json: this.jsonEnabled(),
      setExitCode: (code) => {
        this.resultExitCode = code;
      },
    };
  }

  /** Prints the result as JSON (when --json) or calls render for humans. */
  protected emit<T>(result: T, render: (r: T) => void): T {
    if (!this.jsonEnabled()) render(result);
    return result;
  }
}
