/**
 * How a flow tells the person at the terminal what it is doing without importing ui:
 * the command passes a callback (ui/output.ts `stderrProgress`, or nothing with --json)
 * and the flow calls it with events. Flows never write to stdout or stderr themselves.
 */

/** One thing a flow reports while it runs. */
export type ProgressEvent =
  /** Something the user should act on or know (printed as `warning: ...`). */
  | {kind: 'warning'; text: string}
  /** A line of context (printed dimmed). */
  | {kind: 'note'; text: string}
  /** The state of a wait; `final` when it ended. A TTY redraws it in place. */
  | {kind: 'status'; text: string; final: boolean}
  /** Items done of a batch (gen-client --count, sign DIR, renew): a progress bar on a TTY, one line at the end elsewhere. */
  | {kind: 'count'; label: string; done: number; total: number; final: boolean};

/** The callback every flow takes; undefined means quiet (--json). */
export type OnProgress = (event: ProgressEvent) => void;

/** What every flow takes besides its params: the time to use, and where progress goes. */
export interface FlowContext {
  now: Date;
  onProgress?: OnProgress;
}

/** Calls `onProgress` when there is one: flows say `report(p.onProgress, ...)`. */
export function report(onProgress: OnProgress | undefined, event: ProgressEvent): void {
  onProgress?.(event);
}
