// Runs the Store conformance suite on MemoryStore.
import { MemoryStore } from './memory-store.ts';
import { runStoreConformance } from './store-conformance.ts';

runStoreConformance('MemoryStore', async () => {
  const store = new MemoryStore();
  return { store, cleanup: () => store.close() };
});
