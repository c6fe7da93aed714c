// Manifests from the command line: files, or the *.yaml/*.yml/*.json files of a directory, each possibly holding
// several YAML documents. Used by the offline commands (`flatnet matrix -f`, `flatnet trace -f`).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CliError } from './command.ts';

export function manifestFiles(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new CliError(`${p}: no such file or directory`, 1);
    }
    if (st.isDirectory()) {
      const names = readdirSync(p).filter((n) => /\.(ya?ml|json)$/.test(n)).sort();
      for (const n of names) out.push(join(p, n));
    } else {
      out.push(p);
    }
  }
  return out;
}

export function loadDocuments(file: string): unknown[] {
  const text = readFileSync(file, 'utf8');
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const out: unknown[] = [];
  for (const doc of list) {
    if (doc.errors.length > 0) throw new CliError(`${file}: ${doc.errors[0]?.message ?? 'invalid YAML'}`, 1);
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}
