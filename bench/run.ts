// `npm run bench [name...]`: runs the benchmarks under bench/ (files *.bench.ts), prints their tables and
// writes bench/results/<name>.json.
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { renderTable, type Benchmark } from './harness.ts';

const dir = import.meta.dirname;
const wanted = process.argv.slice(2);
const files = readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).sort();
mkdirSync(join(dir, 'results'), { recursive: true });
let failed = 0;
for (const f of files) {
  const mod = (await import(join(dir, f))) as { default: Benchmark };
  const b = mod.default;
  if (wanted.length > 0 && !wanted.includes(b.name)) continue;
  const started = Date.now();
  try {
    const metrics = await b.run((line) => process.stderr.write(`[${b.name}] ${line}\n`));
    process.stdout.write(renderTable(b, metrics) + '\n\n');
    writeFileSync(join(dir, 'results', `${b.name}.json`), JSON.stringify({ name: b.name, description: b.description, date: new Date().toISOString(), seconds: (Date.now() - started) / 1000, metrics }, null, 2) + '\n');
  } catch (e) {
    failed++;
    process.stderr.write(`[${b.name}] failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  }
}
process.exit(failed > 0 ? 1 : 0);
