// Counts in messages go through lib/plural.ts: no "2 object(s)" and no "revocation id(s) 7"
// anywhere in src/ (issue 24). The guard is a scan of the source; a planted line shows it bites.
import assert from 'node:assert/strict';
import {readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';

/** A count (a template value) before a word with "(s)", or a word with "(s)" before a value. */
const COUNTED = /\$\{[^}]+\} [a-z -]*[a-z]\(s\)|[a-z]\(s\) \$\{/;

function sources(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('plurals', () => {
  it('the scan catches planted "(s)" counts', () => {
    assert.match('message: `${n} lint error(s) in ${file}`', COUNTED);
    assert.match('`kept revocation id(s) ${ids.join()}`', COUNTED);
    assert.doesNotMatch("`${plural(n, 'lint error')} in ${file}`", COUNTED);
  });

  it('no message in src/ writes a count with "(s)"', () => {
    const files = sources('src');
    assert.ok(files.length > 100, `only ${files.length} files read`);
    const hits = files.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .map((line, i) => [`${f}:${i + 1}`, line] as const)
        .filter(([, line]) => COUNTED.test(line) && !/^\s*(\/\/|\*)/.test(line))
        .map(([where, line]) => `${where}: ${line.trim()}`),
    );
    assert.deepEqual(hits, []);
  });
});
