// Test support: a real flatnet API server (in-memory storage, ephemeral port, throwaway data directory)
// plus a KubeClient built from the kubeconfig it writes, for integration tests of the client layer.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer } from '../server/api-server.ts';
import type { RunningApiServer } from '../server/api-server.ts';
import { KubeClient } from './kube-client.ts';

export interface TestCluster {
  server: RunningApiServer;
  client: KubeClient;
  dataDir: string;
  stop(): Promise<void>;
}

export async function startTestCluster(options: { bookmarkIntervalMs?: number } = {}): Promise<TestCluster> {
  const dataDir = mkdtempSync(join(tmpdir(), 'flatnet-client-it-'));
  const server = await startApiServer({
    dataDir,
    port: 0,
    storage: 'memory',
    // Automatic compaction off: tests compact explicitly when they need a 410.
    compactKeepRevisions: 0,
    ...(options.bookmarkIntervalMs !== undefined ? { bookmarkIntervalMs: options.bookmarkIntervalMs } : {}),
  });
  const client = KubeClient.fromKubeconfig(server.kubeconfigPath, undefined, { requestTimeoutMs: 10_000 });
  return {
    server,
    client,
    dataDir,
    async stop() {
      client.close();
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
