// The import rules of src/ (docs/architecture.md), checked on the relative imports of every
// .ts file: no cycles (Tarjan's strongly connected components), and each folder imports
// only the folders its layer allows. Prints one line per problem; exit 1 when there is any.
// Usage: node scripts/check-imports.js [src-dir]   (used by test/architecture.test.ts)
import {readdirSync, readFileSync, statSync} from 'node:fs';
import {dirname, join, relative, resolve} from 'node:path';

const LIB = ['lib', 'lib/x509', 'lib/pki', 'lib/tls', 'lib/alb', 'lib/nlb', 'lib/apigw', 'lib/cloudfront', 'lib/deploy'];
const IO = ['io', 'io/aws', 'io/net', 'io/ca', 'io/emulate'];

/**
 * Folder (relative to src) -> the folders it may import besides itself (docs/architecture.md):
 * commands -> actions -> flows -> io/* -> lib/*; ui imports lib and, for types only, flows; library
 * (the package's library entry) imports lib and io. `lib` alone
 * is lib/errors.ts and lib/error-codes.ts.
 */
export const LAYERS = {
  'lib/x509': ['lib'],
  'lib/pki': ['lib', 'lib/x509'],
  'lib/tls': ['lib', 'lib/x509'],
  'lib/alb': ['lib', 'lib/x509', 'lib/pki', 'lib/tls'],
  'lib/nlb': ['lib', 'lib/x509', 'lib/pki', 'lib/alb'],
  'lib/apigw': ['lib', 'lib/x509', 'lib/pki', 'lib/alb'],
  'lib/cloudfront': ['lib', 'lib/x509', 'lib/pki', 'lib/alb'],
  'lib/deploy': ['lib', 'lib/x509', 'lib/pki', 'lib/alb', 'lib/nlb', 'lib/apigw'],
  lib: ['lib/x509'],
  ui: [...LIB],
  io: [...LIB],
  'io/aws': [...LIB, 'io'],
  'io/ca': [...LIB, 'io'],
  'io/net': [...LIB, 'io', 'io/ca'],
  'io/emulate': [...LIB],
  flows: [...LIB, ...IO],
  // The library entry (package.json exports): lib and io, never commands, ui or oclif.
  library: [...LIB, ...IO],
  // Command bodies the oclif command and the oclif-free fast path share: never '.' (base-command, flags: oclif).
  actions: [...LIB, ...IO, 'flows', 'ui'],
  commands: [...LIB, ...IO, 'flows', 'ui', 'actions', '.'],
  '.': [...LIB, ...IO, 'flows', 'ui', 'actions'],
};

/** Folder -> folders it may import with `import type` only (erased at build time). */
export const TYPE_ONLY = {
  ui: ['flows'],
};

export function checkImports(root) {
  const files = [];
  const walk = (d) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) files.push(p);
    }
  };
  walk(root);
  const known = new Set(files);
  const edges = new Map();
  const problems = [];
  const folder = (f) => relative(root, dirname(f)) || '.';
  for (const f of files) {
    const deps = new Set();
    const src = readFileSync(f, 'utf8');
    for (const m of src.matchAll(/(?:import|export)\s([^'";]*?)from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
      const typeOnly = m[1] !== undefined && /^type\s/.test(m[1]);
      const spec = (m[2] ?? m[3]).replace(/\.js$/, '.ts');
      const target = resolve(dirname(f), spec.endsWith('.ts') ? spec : `${spec}.ts`);
      if (!known.has(target)) continue;
      deps.add(target);
      const from = folder(f);
      const to = folder(target);
      const allowed = LAYERS[from];
      const typeAllowed = typeOnly && (TYPE_ONLY[from] ?? []).includes(to);
      if (from !== to && !typeAllowed && !allowed?.includes(to))
        problems.push(
          `layer: ${relative(root, f)} imports ${relative(root, target)} (${from} may import ${allowed ? allowed.join(', ') : 'nothing: add the folder to scripts/check-imports.js LAYERS'})`,
        );
    }
    edges.set(f, deps);
  }
  let i = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const visit = (v) => {
    idx.set(v, i);
    low.set(v, i);
    i++;
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v)) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        comp.push(relative(root, w));
      } while (w !== v);
      if (comp.length > 1) problems.push(`cycle: ${comp.sort().join(' <-> ')}`);
    }
  };
  for (const f of files) if (!idx.has(f)) visit(f);
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problems = checkImports(resolve(process.argv[2] ?? 'src'));
  for (const p of problems) console.log(p);
  process.exit(problems.length ? 1 : 0);
}
