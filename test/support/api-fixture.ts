// Test fixture: a real flatnet API server on an ephemeral loopback port with its own data directory,
// and helpers to run the real kubectl against it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type RunningApiServer } from '../../src/server/api-server.ts';

export interface ApiFixture {
  server: RunningApiServer;
  dataDir: string;
  /** Runs kubectl asynchronously (the server lives in this process: a synchronous spawn would deadlock). */
  kubectl(args: string[], opts?: { input?: string; env?: Record<string, string>; bin?: string }): Promise<KubectlResult>;
  close(): Promise<void>;
}

export interface KubectlResult {
  status: number;
  stdout: string;
  stderr: string;
}

export const KUBECTL = '/usr/bin/kubectl';

export async function startFixture(opts: { storage?: 'sqlite' | 'memory'; bookmarkIntervalMs?: number; compactKeepRevisions?: number } = {}): Promise<ApiFixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'flatnet-test-'));
  const server = await startApiServer({ dataDir, port: 0, storage: opts.storage ?? 'sqlite', ...(opts.bookmarkIntervalMs ? { bookmarkIntervalMs: opts.bookmarkIntervalMs } : {}),
    ...(opts.compactKeepRevisions !== undefined ? { compactKeepRevisions: opts.compactKeepRevisions } : {}) });
  const env = (extra?: Record<string, string>) => ({ ...process.env, KUBECONFIG: server.kubeconfigPath, HOME: dataDir, ...(extra ?? {}) });
  return {
    server,
    dataDir,
    kubectl(args, o) {
      return new Promise((resolve) => {
        const child = spawn(o?.bin ?? KUBECTL, args, { env: env(o?.env), timeout: 60_000 });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => resolve({ status: code ?? -1, stdout, stderr }));
        child.stdin.end(o?.input ?? '');
      });
    },
    async close() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `probe` until it returns a value (not undefined) or the deadline passes (bounded). */
export async function eventually<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}
