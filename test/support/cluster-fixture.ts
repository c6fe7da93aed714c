// Test fixture: a real flatnet cluster (`bin/flatnet up`) with its own FLATNET_HOME and KUBECONFIG, and
// helpers to run kubectl and commands inside lab namespaces. Always `down` it in `after`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const FLATNET = join(ROOT, 'bin', 'flatnet');

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((res) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 120_000, stdio: [opts.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => res({ status: code ?? -1, stdout, stderr }));
    child.on('error', (e) => res({ status: -1, stdout, stderr: stderr + String(e) }));
    if (child.stdin) {
      // A command may exit before reading its input: that is its answer, not a test failure.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
  });
}

export interface ClusterFixture {
  name: string;
  env: NodeJS.ProcessEnv;
  upOutput: string;
  flatnet(args: string[]): Promise<RunResult>;
  kubectl(args: string[], input?: string): Promise<RunResult>;
  /** kubectl that must succeed; returns stdout. */
  k(args: string[], input?: string): Promise<string>;
  down(): Promise<RunResult>;
}

export async function upCluster(opts: { backend?: 'host-gw' | 'vxlan'; nodes?: number; proxyMode?: 'nftables' | 'iptables' } = {}): Promise<ClusterFixture> {
  const name = `t${Math.random().toString(36).slice(2, 8)}`;
  const home = mkdtempSync(join(tmpdir(), 'flatnet-home-'));
  const env = { ...process.env, FLATNET_HOME: home, KUBECONFIG: join(home, 'kubeconfig'), HOME: home };
  const flatnet = (args: string[]) => run(FLATNET, args, { env });
  const up = await flatnet(['up', '--name', name, '--nodes', String(opts.nodes ?? 3), '--backend', opts.backend ?? 'host-gw', '--proxy-mode', opts.proxyMode ?? 'nftables', '--wait']);
  if (up.status !== 0) {
    await flatnet(['down', '--name', name]);
    throw new Error(`flatnet up failed: ${up.stderr}`);
  }
  const kubectl = (args: string[], input?: string) => run('kubectl', args, { env, ...(input !== undefined ? { input } : {}) });
  return {
    name,
    env,
    upOutput: up.stderr,
    flatnet,
    kubectl,
    async k(args, input) {
      const r = await kubectl(args, input);
      if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr}`);
      return r.stdout;
    },
    async down() {
      const r = await flatnet(['down', '--name', name]);
      rmSync(home, { recursive: true, force: true });
      return r;
    },
  };
}

/** Polls until `probe` returns a value other than undefined (bounded). */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`);
}
