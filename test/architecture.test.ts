/**
 * The layout rules of docs/architecture.md: no import cycles among src/ files and each
 * folder imports only the layers below it (scripts/check-imports.js, a small Tarjan SCC
 * over relative imports); src/lib touches no fs, network, process.env, console or chalk;
 * every section of docs/aws-reference.md that code cites exists.
 */
import assert from 'node:assert/strict';
import {readdirSync, readFileSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
// @ts-expect-error: a plain .js script, no types
import {checkImports} from '../scripts/check-imports.js';

const walk = (d: string, out: string[] = []): string[] => {
  for (const n of readdirSync(d)) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
};

describe('architecture', () => {
  it('src/ has no import cycles and no import from a higher layer', () => {
    assert.deepEqual(checkImports('src'), []);
  });

  it('src/lib is pure: no fs, sockets, process.env, console or chalk', () => {
    const bad: string[] = [];
    for (const f of walk('src/lib')) {
      const src = readFileSync(f, 'utf8');
      for (const re of [/from 'node:(fs|net|tls|http|https|dgram|child_process)(\/promises)?'/, /process\.env/, /\bconsole\./, /from 'chalk'/]) if (re.test(src)) bad.push(`${f}: ${re}`);
    }
    assert.deepEqual(bad, []);
  });

  it('every docs/aws-reference.md section cited from src/ exists, and nothing cites the retired research notes', () => {
    const doc = readFileSync('docs/aws-reference.md', 'utf8');
    const sections = new Set([...doc.matchAll(/^#{2,3} (\d+(?:\.\d+)?)\.? /gm)].map((m) => m[1]));
    const missing: string[] = [];
    for (const f of walk('src')) {
      const src = readFileSync(f, 'utf8');
      assert.doesNotMatch(src, /facts\x20doc/i, f);
      for (const m of src.matchAll(/aws-reference(?:\.md)?,? (?:section )?(\d+(?:\.\d+)?)/g)) {
        const n = m[1]!.replace(/\.$/, '');
        if (!sections.has(n)) missing.push(`${f}: ${n}`);
      }
    }
    assert.deepEqual(missing, []);
  });
});
