// Build: compile TypeScript to dist/, then regenerate oclif.manifest.json from it.
// The manifest is committed and a test fails when it is stale (issue 2).
import {execFileSync} from 'node:child_process';
import {rmSync} from 'node:fs';

const run = (cmd, args) => execFileSync(cmd, args, {stdio: 'inherit'});
rmSync(new URL('../dist', import.meta.url), {recursive: true, force: true});
run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json']);
run(process.execPath, ['node_modules/oclif/bin/run.js', 'manifest']);
