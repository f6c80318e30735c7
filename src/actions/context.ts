/**
 * What a command's body (src/actions) needs from whoever runs it: oclif's command class
 * (src/commands) or the oclif-free fast path (src/fast.ts). Both give the same values, so
 * a command behaves the same whichever path ran it.
 */
export interface ActionContext {
  /** --json: the result is printed as JSON on stdout, nothing for humans. */
  json: boolean;
  /** The exit code once the result is out (e.g. 3 for a failed verification). */
  setExitCode(code: number): void;
}
