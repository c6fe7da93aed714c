// Cluster benchmark (issue "The lab"): `flatnet up --nodes 3 --wait` wall time, memory of the idle cluster,
// pod creation to Running-with-an-IP (p50/p99), and N pods over 3 nodes (pods/s, memory per pod).
// Memory is PSS (proportional set size) summed over every process of the cluster: control plane, agents,
// the external resolver and every process inside the cluster's pod namespaces.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { percentile, type Benchmark, type Metric } from './harness.ts';
import { KubeClient } from '../src/client/kube-client.ts';
import { RESOURCES } from '../src/api/resources.ts';
import type { Pod } from '../src/api/types.ts';

const root = resolve(import.meta.dirname, '..');
const PODS = Number(process.env['FLATNET_BENCH_CLUSTER_PODS'] ?? 300);
const SINGLE = 30;
const POD_RESOURCE = RESOURCES.find((r) => r.kind === 'Pod');

function pssMiB(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function clusterPss(name: string, home: string): number {
  const rec = JSON.parse(readFileSync(join(home, 'clusters', name, 'cluster.json'), 'utf8')) as { pid: number; agentsPid?: number; externalDnsPid?: number };
  let total = [rec.pid, rec.agentsPid ?? 0, rec.externalDnsPid ?? 0].reduce((a, p) => a + pssMiB(p), 0);
  for (const ns of readdirSync('/run/netns').filter((n) => n.startsWith(`fn-${name}-p-`))) {
    const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
    total += pids.reduce((a, p) => a + pssMiB(p), 0);
  }
  return total;
}

async function waitRunning(client: KubeClient, ns: string, selector: string, count: number, timeoutMs: number): Promise<void> {
  if (!POD_RESOURCE) throw new Error('no Pod resource');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const list = await client.list<Pod>(POD_RESOURCE, ns, { labelSelector: selector });
    if (list.items.filter((p) => p.status?.phase === 'Running' && p.status.podIP).length >= count) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`pods ${selector} not running within ${timeoutMs} ms`);
}

const bench: Benchmark = {
  name: 'cluster',
  description: `flatnet up --nodes 3, idle memory, pod startup, ${PODS} pods over 3 nodes`,
  async run(log) {
    if (!POD_RESOURCE) throw new Error('no Pod resource');
    const home = mkdtempSync(join(tmpdir(), 'flatnet-bench-home-'));
    const name = `b${Math.random().toString(36).slice(2, 7)}`;
    const env = { ...process.env, FLATNET_HOME: home, KUBECONFIG: join(home, 'kubeconfig'), HOME: home };
    const flatnet = (args: string[]) => spawnSync(join(root, 'bin', 'flatnet'), args, { env, encoding: 'utf8', timeout: 300_000 });
    try {
      const t0 = performance.now();
      const up = flatnet(['up', '--name', name, '--nodes', '3', '--wait']);
      const upMs = performance.now() - t0;
      if (up.status !== 0) throw new Error(`flatnet up failed: ${up.stderr}`);
      log(up.stderr.split('\n').filter((l) => l.includes('✓')).join('\n'));
      await new Promise((r) => setTimeout(r, 2000));
      const idle = clusterPss(name, home);
      const client = KubeClient.fromKubeconfig(join(home, 'clusters', name, 'data', 'kubeconfig'));

      // One pod at a time: create to Running with an IP, seen through a watch.
      const startups: number[] = [];
      for (let i = 0; i < SINGLE; i++) {
        const podName = `single-${i}`;
        const t = performance.now();
        const stream = client.watch<Pod>(POD_RESOURCE, 'default', { fieldSelector: `metadata.name=${podName}`, timeoutSeconds: 60 });
        await client.create(POD_RESOURCE, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: podName, labels: { bench: 'single' } }, spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] } });
        for await (const ev of stream) {
          const p = ev.object as Pod;
          if (p.status?.phase === 'Running' && p.status.podIP) break;
        }
        stream.stop();
        startups.push(performance.now() - t);
      }
      startups.sort((a, b) => a - b);

      // Many pods at once, from a Deployment.
      const before = clusterPss(name, home);
      const t1 = performance.now();
      const deploy = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: many
spec:
  replicas: ${PODS}
  selector:
    matchLabels:
      bench: many
  template:
    metadata:
      labels:
        bench: many
    spec:
      containers:
      - name: c
        image: busybox
        command: ["sleep", "3600"]
`;
      const applied = spawnSync('kubectl', ['apply', '-f', '-'], { env, input: deploy, encoding: 'utf8' });
      if (applied.status !== 0) throw new Error(applied.stderr);
      await waitRunning(client, 'default', 'bench=many', PODS, 600_000);
      const manySeconds = (performance.now() - t1) / 1000;
      await new Promise((r) => setTimeout(r, 2000));
      const after = clusterPss(name, home);
      client.close();
      return [
        { name: 'idle cluster memory (PSS, 3 nodes + DNS + ingress)', value: idle, unit: 'MiB', goal: 'k3d 423 MiB, kind 463 MiB' },
        { name: 'pod create -> Running with IP, p99', value: percentile(startups, 99), unit: 'ms', goal: 'SLO p99 <= 5 s' },
        { name: `memory per busybox pod (${PODS} pods)`, value: (after - before) / PODS, unit: 'MiB' },
        { name: `${PODS} pods over 3 nodes`, value: PODS / manySeconds, unit: 'pods/s', goal: 'KWOK 20 fake pods/s; goal >= 50' },
        { name: 'flatnet up --nodes 3 --wait', value: upMs / 1000, unit: 's', goal: 'kind 33 s, k3d 19.9 s; goal <= 2 s' },
        { name: 'pod create -> Running with IP, p50', value: percentile(startups, 50), unit: 'ms', goal: 'goal p50 <= 50 ms' },
      ] satisfies Metric[];
    } finally {
      flatnet(['down', '--name', name]);
      rmSync(home, { recursive: true, force: true });
    }
  },
};

export default bench;
