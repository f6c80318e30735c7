/**
 * The one error class of mtls-kit, and the documented exit codes.
 *
 * Every command can return these codes (README "Exit codes"):
 *   0 ok, 1 bug, 2 usage, 3 verification failed, 4 precondition, 5 AWS;
 *   130 when Ctrl-C stopped work that can be resumed (gen-client --count, sign DIR, renew);
 *   10 when `deploy --exit-code` or `destroy --exit-code` planned changes (--dry-run / --plan-out), not an error.
 */
import type {ErrorCode, ErrorCodeWithExit} from './error-codes.js';

export type {ErrorCode} from './error-codes.js';

export const ExitCode = {
  Ok: 0,
  Bug: 1,
  Usage: 2,
  VerificationFailed: 3,
  Precondition: 4,
  Aws: 5,
  /** `deploy --exit-code` with --dry-run or --plan-out, `destroy --exit-code --dry-run`: the plan has changes (not an error). */
  ChangesPending: 10,
  /** Stopped by Ctrl-C or SIGTERM before the work was done (128 + SIGINT, as shells report it). */
  Interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface MtlsKitErrorParams {
  /** Stable machine code from src/lib/error-codes.ts, e.g. `FILE_EXISTS`, `BAD_PEM`, `WRONG_PASSPHRASE`. */
  code: ErrorCode;
  /** One line naming the file or value and what is wrong. */
  message: string;
  /** Next steps; printed under the message, one per line. */
  suggestions?: string[];
  /** Process exit code; defaults to 4 (precondition). */
  exitCode?: ExitCodeValue;
  /** The underlying error (AWS request ids live here). */
  cause?: unknown;
  /** Extra machine-readable detail for `--json` (never secrets). */
  details?: Record<string, unknown>;
}

/**
 * An expected failure with a clear message, a stable code and an exit code.
 * Anything thrown that is not an MtlsKitError is a bug (exit 1).
 */
export class MtlsKitError extends Error {
  readonly code: ErrorCode;
  readonly suggestions: string[];
  readonly exitCode: ExitCodeValue;
  readonly details: Record<string, unknown> | undefined;

  constructor(params: MtlsKitErrorParams) {
    super(params.message, params.cause === undefined ? undefined : {cause: params.cause});
    this.name = 'MtlsKitError';
    this.code = params.code;
    this.suggestions = params.suggestions ?? [];
    this.exitCode = params.exitCode ?? ExitCode.Precondition;
    this.details = params.details;
  }
}

/** A usage error (exit 2): a flag value or argument that cannot be right. */
export function usageError(code: ErrorCodeWithExit<2>, message: string, suggestions: string[] = []): MtlsKitError {
  return new MtlsKitError({code, message, suggestions, exitCode: ExitCode.Usage});
}

/** A precondition error (exit 4): a missing CA, an existing file, a wrong passphrase. */
export function preconditionError(code: ErrorCodeWithExit<4>, message: string, suggestions: string[] = []): MtlsKitError {
  return new MtlsKitError({code, message, suggestions, exitCode: ExitCode.Precondition});
}

/** Type guard that also accepts errors from another copy of this module (worker threads). */
export function isMtlsKitError(err: unknown): err is MtlsKitError {
  return err instanceof MtlsKitError || (typeof err === 'object' && err !== null && (err as {name?: unknown}).name === 'MtlsKitError');
}
