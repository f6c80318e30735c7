/**
 * The layout rules of docs/architecture.md: no import cycles among src/ files and each
 * folder imports only the layers below it (scripts/check-imports.js, a small Tarjan SCC
 * over relative imports); src/lib touches no fs, network, process.env, console or chalk;
 * every section of docs/aws-reference.md that code cites exists.
 */
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
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

/** Files under ROOT/lib that touch fs, sockets, process.env, console or chalk: `file: pattern` each. */
function impureLibFiles(root: string): string[] {
  const bad: string[] = [];
  for (const f of walk(join(root, 'lib'))) {
    const src = readFileSync(f, 'utf8');
    for (const re of [/from 'node:(fs|net|tls|http|https|dgram|child_process)(\/promises)?'/, /process\.env/, /\bconsole\./, /from 'chalk'/])
      if (re.test(src)) bad.push(`${f}: ${re}`);
  }
  return bad;
}

describe('architecture', () => {
  const SRC = resolve('src');

  it('src/ has no import cycles and no import from a higher layer', () => {
    // The rule must see the files it judges: an empty walk or no edges would pass anything.
    assert.ok(walk(SRC).length > 100);
    assert.deepEqual(checkImports(SRC), []);
  });

  // A rule that cannot fail is no rule: plant each kind of violation in a scratch copy of src/
  // and see both the exported function and the script (what CI and the hook run) catch it.
  const planted: Array<[string, string, string, RegExp]> = [
    [
      'io imports ui',
      'io/net/planted.ts',
      "import {warn} from '../../ui/output.js';\nexport const x = warn;\n",
      /layer: io\/net\/planted\.ts imports ui\/output\.ts/,
    ],
    [
      'lib imports io',
      'lib/x509/planted.ts',
      "import {pathExists} from '../../io/files.js';\nexport const x = pathExists;\n",
      /layer: lib\/x509\/planted\.ts imports io\/files\.ts/,
    ],
    [
      'flows imports ui',
      'flows/planted.ts',
      "import {warn} from '../ui/output.js';\nexport const x = warn;\n",
      /layer: flows\/planted\.ts imports ui\/output\.ts/,
    ],
    [
      'ui imports a flow for a value',
      'ui/planted.ts',
      "import {runDemo} from '../flows/demo.js';\nexport const x = runDemo;\n",
      /layer: ui\/planted\.ts imports flows\/demo\.ts/,
    ],
    [
      'a cycle',
      'lib/x509/planted-a.ts',
      "import {b} from './planted-b.js';\nexport const a = (): unknown => b;\n",
      /cycle: lib\/x509\/planted-a\.ts <-> lib\/x509\/planted-b\.ts/,
    ],
  ];
  for (const [name, file, text, expected] of planted) {
    it(`a planted violation is caught: ${name}`, () => {
      const scratch = mkdtempSync(join(tmpdir(), 'mtls-kit-arch-'));
      try {
        const copy = join(scratch, 'src');
        cpSync(SRC, copy, {recursive: true});
        writeFileSync(join(copy, file), text);
        if (name === 'a cycle') writeFileSync(join(copy, 'lib/x509/planted-b.ts'), "import {a} from './planted-a.js';\nexport const b = (): unknown => a;\n");
        const problems = checkImports(copy) as string[];
        assert.ok(
          problems.some((p) => expected.test(p)),
          problems.join('\n'),
        );
        const script = spawnSync(process.execPath, ['scripts/check-imports.js', copy], {encoding: 'utf8'});
        assert.equal(script.status, 1);
        assert.match(script.stdout, expected);
      } finally {
        rmSync(scratch, {recursive: true, force: true});
      }
    });
  }

  it('a type-only import of a flow from ui is allowed', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'mtls-kit-arch-'));
    try {
      const copy = join(scratch, 'src');
      cpSync(SRC, copy, {recursive: true});
      writeFileSync(join(copy, 'ui/planted.ts'), "import type {DemoResult} from '../flows/demo.js';\nexport type X = DemoResult;\n");
      assert.deepEqual(checkImports(copy), []);
    } finally {
      rmSync(scratch, {recursive: true, force: true});
    }
  });

  it('src/lib is pure: no fs, sockets, process.env, console or chalk', () => {
    assert.ok(walk(join(SRC, 'lib')).length > 50);
    assert.deepEqual(impureLibFiles(SRC), []);
  });

  // The purity guard, like the import rule, must catch what it forbids: one planted file per kind.
  const impure: Array<[string, string]> = [
    ['fs', "import {readFileSync} from 'node:fs';\nexport const x = readFileSync;\n"],
    ['fs/promises', "import {readFile} from 'node:fs/promises';\nexport const x = readFile;\n"],
    ['a socket', "import {connect} from 'node:tls';\nexport const x = connect;\n"],
    ['process.env', 'export const x = process.env.HOME;\n'],
    ['console', "export const x = (): void => console.log('x');\n"],
    ['chalk', "import chalk from 'chalk';\nexport const x = chalk;\n"],
  ];
  for (const [name, text] of impure) {
    it(`a planted impurity in src/lib is caught: ${name}`, () => {
      const scratch = mkdtempSync(join(tmpdir(), 'mtls-kit-arch-'));
      try {
        const copy = join(scratch, 'src');
        cpSync(join(SRC, 'lib'), join(copy, 'lib'), {recursive: true});
        writeFileSync(join(copy, 'lib/pki/planted.ts'), text);
        assert.deepEqual(
          impureLibFiles(copy).map((p) => p.split(':')[0]),
          [join(copy, 'lib/pki/planted.ts')],
        );
      } finally {
        rmSync(scratch, {recursive: true, force: true});
      }
    });
  }

  it('every docs/aws-reference.md section cited from src/ exists, and nothing cites the retired research notes', () => {
    const doc = readFileSync('docs/aws-reference.md', 'utf8');
    const sections = new Set([...doc.matchAll(/^#{2,3} (\d+(?:\.\d+)?)\.? /gm)].map((m) => m[1]));
    const missing: string[] = [];
    for (const f of walk(SRC)) {
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
