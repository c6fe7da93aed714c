// Child process for the SqliteStore crash test: creates keys in a bounded loop and prints
// "<index> <revision>" on stdout after each create is acknowledged. The parent kills it with SIGKILL.
// Usage: node crash-writer.ts <db-path> <max-writes> [full]
import { SqliteStore } from '../sqlite-store.ts';

const [dbPath, maxArg, mode] = process.argv.slice(2);
if (dbPath === undefined || maxArg === undefined) {
  process.stderr.write('usage: crash-writer.ts <db-path> <max-writes> [full]\n');
  process.exit(2);
}
const max = Number(maxArg);
const store = SqliteStore.open(dbPath, mode === 'full' ? { synchronous: 'full' } : {});
for (let i = 0; i < max; i++) {
  const entry = await store.create(`/registry/crash/k${String(i).padStart(6, '0')}`, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `k${i}`, namespace: 'crash' },
    data: { index: String(i), padding: 'x'.repeat(200) },
  });
  process.stdout.write(`${i} ${entry.modRevision}\n`);
}
await store.close();
