// Writes docs/schemas/<command>.schema.json: the JSON Schema of each command's --json
// result, generated from the type its run() returns (the XxxResult interface at the top of
// the command file) with the TypeScript checker, plus error.schema.json for the error
// document. Run by `npm run build` (and `npm run schemas`); test/json-schema.test.ts validates every command's real
// --json output against these files and fails when they are stale.
//
// Rules (docs/json.md): every property of the type is required unless optional (`?`), no
// property outside the type is allowed, `T | null` is spelled out, and timestamps
// (notBefore, notAfter, thisUpdate, nextUpdate, revokedAt, at, ...At) are RFC 3339 UTC with
// whole seconds.
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import ts from 'typescript';
// @ts-expect-error plain JS module shared with build.js
import {commandTable} from './command-table.js';

const root = fileURLToPath(new URL('..', import.meta.url));
type Schema = Record<string, unknown>;

const TIMESTAMP = /^(notBefore|notAfter|thisUpdate|nextUpdate|at|created|[a-z]+At)$/;
const TIMESTAMP_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$';

export function generateSchemas(): Record<string, Schema> {
  const ids = (commandTable(root) as Array<[string, string]>).filter(([, p]) => p.startsWith('src/')).map(([id]) => id);
  const files = ids.map((id) => `${root}src/commands/${id}.ts`);
  const config = ts.readConfigFile(`${root}tsconfig.json`, ts.sys.readFile).config as object;
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, root);
  const program = ts.createProgram(files, parsed.options);
  const checker = program.getTypeChecker();

  const toSchema = (type: ts.Type, seen: Set<ts.Type>, name?: string): Schema => {
    if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return {};
    if (type.flags & ts.TypeFlags.Null) return {type: 'null'};
    if (type.isStringLiteral()) return {const: type.value};
    if (type.isNumberLiteral()) return {const: type.value};
    if (type.flags & ts.TypeFlags.BooleanLiteral) return {const: checker.typeToString(type) === 'true'};
    if (type.flags & ts.TypeFlags.String) return name && TIMESTAMP.test(name) ? {type: 'string', pattern: TIMESTAMP_PATTERN} : {type: 'string'};
    if (type.flags & ts.TypeFlags.Number) return {type: 'number'};
    if (type.flags & ts.TypeFlags.Boolean) return {type: 'boolean'};
    if (type.isUnion()) {
      const parts = type.types.filter((t) => !(t.flags & ts.TypeFlags.Undefined));
      const bools = parts.filter((t) => t.flags & ts.TypeFlags.BooleanLiteral);
      const rest = bools.length === 2 ? parts.filter((t) => !(t.flags & ts.TypeFlags.BooleanLiteral)) : parts;
      const schemas = rest.map((t) => toSchema(t, seen, name));
      if (bools.length === 2) schemas.push({type: 'boolean'});
      if (schemas.length === 1) return schemas[0]!;
      if (schemas.every((s) => 'const' in s)) return {enum: schemas.map((s) => s.const)};
      return {anyOf: schemas};
    }
    if (checker.isArrayType(type) || checker.isTupleType(type)) {
      const [item] = checker.getTypeArguments(type as ts.TypeReference);
      return {type: 'array', items: item ? toSchema(item, seen) : {}};
    }
    const symbolName = type.getSymbol()?.getName();
    if (symbolName === 'Date') return {type: 'string'};
    if (type.flags & ts.TypeFlags.Object || type.isIntersection()) {
      if (seen.has(type)) return {type: 'object'};
      const inner = new Set(seen).add(type);
      const index = checker.getIndexInfoOfType(type, ts.IndexKind.String);
      const properties: Record<string, Schema> = {};
      const required: string[] = [];
      for (const p of checker.getPropertiesOfType(type)) {
        const decl = p.valueDeclaration ?? p.declarations?.[0];
        const pt = decl ? checker.getTypeOfSymbolAtLocation(p, decl) : checker.getDeclaredTypeOfSymbol(p);
        if (pt.getCallSignatures().length) continue;
        properties[p.getName()] = toSchema(pt, inner, p.getName());
        if (!(p.flags & ts.SymbolFlags.Optional)) required.push(p.getName());
      }
      const s: Schema = {type: 'object', properties};
      if (required.length) s.required = required;
      s.additionalProperties = index ? toSchema(index.type, inner) : false;
      return s;
    }
    throw new Error(`no JSON Schema for type ${checker.typeToString(type)}`);
  };

  const out: Record<string, Schema> = {};
  for (const [i, id] of ids.entries()) {
    const sf = program.getSourceFile(files[i]!)!;
    const cls = sf.statements.find(
      (s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && (ts.getCombinedModifierFlags(s) & ts.ModifierFlags.Default) !== 0,
    );
    const run = cls?.members.find((m): m is ts.MethodDeclaration => ts.isMethodDeclaration(m) && m.name.getText(sf) === 'run');
    if (!run) throw new Error(`src/commands/${id}.ts: no default class with run()`);
    const sig = checker.getSignatureFromDeclaration(run)!;
    let ret = checker.getReturnTypeOfSignature(sig);
    if (ret.getSymbol()?.getName() === 'Promise') ret = checker.getTypeArguments(ret as ts.TypeReference)[0]!;
    const resultName = checker.typeToString(ret);
    out[id] = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: `https://mtls-kit.dev/schemas/${id}.schema.json`,
      title: `mtls-kit ${id} --json (${resultName})`,
      ...toSchema(ret, new Set()),
    };
  }
  out.error = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://mtls-kit.dev/schemas/error.schema.json',
    title: 'mtls-kit --json error document (every command, exit code != 0)',
    type: 'object',
    required: ['error'],
    additionalProperties: false,
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message', 'suggestions', 'exitCode'],
        additionalProperties: false,
        properties: {
          code: {type: 'string', pattern: '^[A-Z][A-Z0-9_]*$'},
          message: {type: 'string'},
          suggestions: {type: 'array', items: {type: 'string'}},
          exitCode: {enum: [1, 2, 3, 4, 5, 130]},
          details: {type: 'object'},
        },
      },
    },
  };
  return out;
}

/** The file text of each schema. */
export function schemaFiles(): Record<string, string> {
  return Object.fromEntries(Object.entries(generateSchemas()).map(([id, s]) => [`docs/schemas/${id}.schema.json`, JSON.stringify(s, null, 2) + '\n']));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  mkdirSync(`${root}docs/schemas`, {recursive: true});
  const files = schemaFiles();
  let changed = 0;
  for (const [path, text] of Object.entries(files)) {
    let old = '';
    try {
      old = readFileSync(`${root}${path}`, 'utf8');
    } catch {}
    if (old !== text) {
      writeFileSync(`${root}${path}`, text);
      changed++;
    }
  }
  console.log(`wrote JSON schemas (${Object.keys(files).length}, ${changed} changed)`);
}
