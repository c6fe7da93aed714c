// Layering lint: the functional core imports no `node:*`, no Node builtin, no shell module and no package
// outside an allowlist. Pure directories are listed here; everything else under src/ is shell.
// Test files (*.test.ts) may import node:test / node:assert and test helpers.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

export const PURE_DIRS = [
  'src/addons',
  'src/api',
  'src/controllers/core',
  'src/model',
  'src/net',
  'src/nft',
  'src/proxy/core',
  'src/dns/core',
  'src/netpol/core',
  'src/ingress/core',
  'src/runtime/core',
  'src/lab/core',
];
const PURE_PACKAGE_ALLOWLIST = new Set<string>([]);
const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const builtins = new Set(builtinModules);

function walk(dir: string, out: string[]): string[] {
  let entries: string[];
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

const isPure = (file: string): boolean => {
  const rel = relative(root, file);
  return PURE_DIRS.some((d) => rel === d || rel.startsWith(d + '/'));
};

const importRe = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;

const problems: string[] = [];
for (const file of walk(join(root, 'src'), [])) {
  if (!isPure(file) || file.endsWith('.test.ts')) continue;
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec === undefined) continue;
    const where = relative(root, file);
    if (spec.startsWith('node:') || builtins.has(spec)) {
      problems.push(`${where}: pure module imports Node builtin '${spec}'`);
    } else if (spec.startsWith('.')) {
      const target = resolve(dirname(file), spec);
      if (!isPure(target)) problems.push(`${where}: pure module imports shell module '${spec}'`);
    } else if (!PURE_PACKAGE_ALLOWLIST.has(spec.split('/')[0] ?? spec)) {
      problems.push(`${where}: pure module imports package '${spec}' (not in the pure allowlist)`);
    }
  }
}
if (problems.length > 0) {
  console.error(`layering lint: ${problems.length} problem(s)`);
  for (const p of problems) console.error('  ' + p);
  process.exit(1);
}
