// Runs every test file under test/ with Node's built-in runner (TypeScript via tsx).
// Usage: node scripts/run-tests.js [name-filter...]
import {spawnSync} from 'node:child_process';
import {readdirSync} from 'node:fs';

const filters = process.argv.slice(2);
const files = readdirSync('test')
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort()
  .map((f) => `test/${f}`);
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files], {stdio: 'inherit'});
process.exit(r.status ?? 1);
