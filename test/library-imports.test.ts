/**
 * The library layer (src/library) imports src/lib and src/io only (scripts/check-imports.js
 * LAYERS): planted imports of ui, commands and flows are caught, an import of lib is not;
 * and lib/io may not import the library.
 */
import assert from 'node:assert/strict';
import {cpSync, writeFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {describe, it} from 'node:test';
// @ts-expect-error: a plain .js script, no types
import {checkImports} from '../scripts/check-imports.js';
import {tempDir} from './support/tmp.js';

describe('library: import layer', () => {
  const tmp = tempDir();
  const planted: Array<[string, string, RegExp | null]> = [
    ['library/planted.ts', "import {warn} from '../ui/output.js';\nexport const x = warn;\n", /layer: library\/planted\.ts imports ui\/output\.ts/],
    ['library/planted.ts', "import V from '../commands/verify.js';\nexport const x = V;\n", /layer: library\/planted\.ts imports commands\/verify\.ts/],
    ['library/planted.ts', "import {runServe} from '../flows/serve.js';\nexport const x = runServe;\n", /layer: library\/planted\.ts imports flows\/serve\.ts/],
    [
      'io/net/planted.ts',
      "import {createVerifier} from '../../library/index.js';\nexport const x = createVerifier;\n",
      /layer: io\/net\/planted\.ts imports library\/index\.ts/,
    ],
    ['library/planted.ts', "import {verifyChain} from '../lib/alb/verify.js';\nexport const x = verifyChain;\n", null],
  ];
  for (const [i, [file, text, expected]] of planted.entries()) {
    it(`${expected ? 'catches' : 'allows'}: ${text.split('\n')[0]} in ${file}`, () => {
      const copy = join(tmp, `src-${i}`);
      cpSync(resolve('src'), copy, {recursive: true});
      writeFileSync(join(copy, file), text);
      const problems = checkImports(copy) as string[];
      if (expected)
        assert.ok(
          problems.some((p) => expected.test(p)),
          problems.join('\n'),
        );
      else assert.deepEqual(problems, []);
    });
  }
});
