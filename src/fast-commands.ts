/**
 * The fast path's flag table (src/fast.ts): for each command in bin/run.js FAST_COMMANDS, its
 * flags and arguments from oclif.manifest.json, parse-relevant properties only. This file is a
 * placeholder: scripts/build.js replaces its contents in dist/fast.js with the table
 * (scripts/fast-graph.js fastCommandTable), so the manifest stays the one source.
 */

/** A flag as the fast path needs it: oclif.manifest.json's entry, parse-relevant fields only. */
export interface FastFlag {
  type: 'boolean' | 'option';
  char?: string;
  multiple?: boolean;
  options?: string[];
  dependsOn?: string[];
  exclusive?: string[];
  default?: unknown;
  env?: string;
  required?: boolean;
}

/** A command as the fast path needs it. */
export interface FastCommand {
  flags: Record<string, FastFlag>;
  args: Record<string, {required?: boolean; options?: string[]; default?: unknown}>;
  strict: boolean;
}

/** Empty until built: without the table, every command runs through oclif. */
export const FAST_COMMANDS: Record<string, FastCommand> = {};
