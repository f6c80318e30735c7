/**
 * Waiting for the user to stop a long-running command: Ctrl-C (SIGINT) or SIGTERM.
 */

/** Resolves at the first SIGINT or SIGTERM, and then stops listening for them. */
export function waitForStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
