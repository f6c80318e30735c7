/**
 * The error-code contract (docs/json.md "Error codes"): src/lib/error-codes.ts is the one list,
 * docs/json.md shows the same list, and the type checker rejects a code that is not in it.
 */
import assert from 'node:assert/strict';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {describe, it} from 'node:test';
import ts from 'typescript';
import {ERROR_CODES, type ErrorCode, exitCodesOf} from '../src/lib/error-codes.js';
import {ExitCode, MtlsKitError, preconditionError, usageError} from '../src/lib/errors.js';

/** The rows of docs/json.md's "Error codes" table: code, exit codes, meaning. */
function documentedCodes(): Array<[string, string, string]> {
  const doc = readFileSync('docs/json.md', 'utf8');
  const section = doc.split(/^## Error codes$/m)[1];
  assert.ok(section, 'docs/json.md has no "## Error codes" section');
  const body = section.split(/^## /m)[0]!;
  return [...body.matchAll(/^\| `([A-Z0-9_]+)` \| ([0-9, ]+) \| (.+) \|$/gm)].map((m) => [m[1]!, m[2]!, m[3]!]);
}

/** Type-checks scratch files (name -> text) that import src/lib/errors.ts as ERRORS; returns each one's diagnostics. */
function typeCheck(texts: Record<string, string>): Record<string, string[]> {
  const scratch = mkdtempSync(join(tmpdir(), 'mtls-kit-codes-'));
  try {
    const files = Object.entries(texts).map(([name, text]) => {
      const file = join(scratch, `${name}.ts`);
      writeFileSync(file, text.replaceAll('ERRORS', JSON.stringify(resolve('src/lib/errors.js'))));
      return file;
    });
    const program = ts.createProgram(files, {
      strict: true,
      noEmit: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      types: [],
      skipLibCheck: true,
    });
    const out: Record<string, string[]> = {};
    for (const [i, name] of Object.keys(texts).entries())
      out[name] = ts.getPreEmitDiagnostics(program, program.getSourceFile(files[i]!)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    return out;
  } finally {
    rmSync(scratch, {recursive: true, force: true});
  }
}

describe('error codes', () => {
  const codes = Object.keys(ERROR_CODES) as ErrorCode[];

  it('every code has a known exit code and a one-line meaning', () => {
    assert.ok(codes.length > 150);
    const exits = new Set<number>(Object.values(ExitCode));
    for (const c of codes) {
      assert.match(c, /^[A-Z][A-Z0-9_]+$/);
      for (const e of exitCodesOf(c)) assert.ok(exits.has(e), `${c}: exit ${e}`);
      const meaning = ERROR_CODES[c].meaning;
      assert.ok(meaning.length > 5 && !meaning.includes('\n') && !meaning.includes('|'), `${c}: ${meaning}`);
    }
  });

  it("docs/json.md's list equals the table in src/lib/error-codes.ts", () => {
    const table = codes.map((c) => [c, exitCodesOf(c).join(', '), ERROR_CODES[c].meaning]);
    assert.deepEqual(documentedCodes(), table);
  });

  it('the helpers give each code its documented exit code', () => {
    assert.equal(usageError('BAD_PORTS', 'x').exitCode, 2);
    assert.equal(preconditionError('FILE_EXISTS', 'x').exitCode, 4);
    assert.equal(new MtlsKitError({code: 'CA_NOT_FOUND', message: 'x'}).exitCode, exitCodesOf('CA_NOT_FOUND')[0]);
  });

  it('tsc accepts a listed code and rejects a planted unknown one', () => {
    const d = typeCheck({
      // The control: listed codes type-check, so the failures below are the codes'.
      listed:
        "import {MtlsKitError, preconditionError, usageError} from ERRORS;\nexport const a = new MtlsKitError({code: 'FILE_EXISTS', message: 'm'});\nexport const b = usageError('BAD_PORTS', 'm');\nexport const c = preconditionError('CA_NOT_FOUND', 'm');\n",
      planted: "import {MtlsKitError} from ERRORS;\nexport const a = new MtlsKitError({code: 'NO_SUCH_CODE', message: 'm'});\n",
      // A listed code with the wrong helper: BAD_PORTS is a usage error (exit 2), not a precondition.
      wrongExit: "import {preconditionError} from ERRORS;\nexport const a = preconditionError('BAD_PORTS', 'm');\n",
    });
    assert.deepEqual(d.listed, []);
    const planted = d.planted!;
    assert.ok(
      planted.some((d) => d.includes('"NO_SUCH_CODE"') && d.includes('is not assignable')),
      planted.join('\n'),
    );
    const wrongExit = d.wrongExit!;
    assert.ok(
      wrongExit.some((d) => d.includes('"BAD_PORTS"')),
      wrongExit.join('\n'),
    );
  });
});
