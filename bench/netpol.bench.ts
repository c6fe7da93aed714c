// NetworkPolicy enforcement: how long from creating a policy to every node's kernel enforcing it, with many
// pods and up to 100 policies in force, and how long `flatnet probe` takes for a larger matrix.
// A real 3-node cluster (`flatnet up`); pods are real pause processes in their own namespaces. Policies are
// created one at a time through the API; "enforced" is when each node's policy agent has applied a ruleset
// holding that policy's resourceVersion (its status file, written right after `nft -f` returned).
// Env: FLATNET_BENCH_NETPOL_PODS (60), FLATNET_BENCH_NETPOL_POLICIES (100). The probe covers every bench pod.
import { join } from 'node:path';
import { RESOURCES } from '../src/api/resources.ts';
import type { NetworkPolicy, Pod } from '../src/api/types.ts';
import { KubeClient } from '../src/client/kube-client.ts';
import { readStatuses } from '../test/netpol-support.ts';
import { FLATNET, run, upCluster, waitFor } from '../test/support/cluster-fixture.ts';
import { percentile, type Benchmark, type Metric } from './harness.ts';

const env = (k: string, d: number) => Number(process.env[`FLATNET_BENCH_NETPOL_${k}`] ?? d);
const res = (kind: string) => RESOURCES.find((r) => r.kind === kind) ?? ((): never => { throw new Error(kind); })();

const bench: Benchmark = {
  name: 'netpol',
  description: 'NetworkPolicy: create -> enforced on every node (3 nodes, many pods, up to 100 policies); flatnet probe wall time',
  async run(log) {
    const nPods = env('PODS', 60);
    const nPolicies = env('POLICIES', 100);
    const c = await upCluster({ nodes: 3 });
    const metrics: Metric[] = [];
    try {
      const client = KubeClient.fromKubeconfig(join(c.env['FLATNET_HOME'] ?? '', 'clusters', c.name, 'data', 'kubeconfig'));
      const namespaces = ['bench-a', 'bench-b', 'bench-c', 'bench-d', 'bench-e'];
      for (const ns of namespaces) await client.create(res('Namespace'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { team: ns } } });
      const t0 = Date.now();
      await Promise.all(Array.from({ length: nPods }, (_, i) => client.create<Pod>(res('Pod'), namespaces[i % namespaces.length], {
        apiVersion: 'v1', kind: 'Pod',
        metadata: { name: `p-${i}`, labels: { app: `app-${i % 10}`, tier: i % 2 === 0 ? 'web' : 'db' } },
        spec: { nodeName: `node-${(i % 3) + 1}`, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.9' }] },
      })));
      await waitFor(`${nPods} running pods`, async () => {
        const list = await client.list<Pod>(res('Pod'), undefined);
        const running = list.items.filter((p) => p.metadata.namespace?.startsWith('bench-') && p.status?.phase === 'Running' && p.status.podIP).length;
        return running === nPods ? true : undefined;
      }, 300_000);
      log(`${nPods} pods running after ${Date.now() - t0} ms`);

      const latencies: number[] = [];
      for (let k = 0; k < nPolicies; k++) {
        const ns = namespaces[k % namespaces.length] ?? 'bench-a';
        const body: NetworkPolicy = {
          apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `np-${k}` },
          spec: {
            podSelector: { matchLabels: { app: `app-${k % 10}` } },
            policyTypes: k % 4 === 3 ? ['Ingress', 'Egress'] : ['Ingress'],
            ingress: [{ from: [{ podSelector: { matchLabels: { app: `app-${(k + 1) % 10}` } } }, { namespaceSelector: { matchLabels: { team: namespaces[(k + 1) % namespaces.length] ?? '' } }, podSelector: { matchLabels: { tier: 'web' } } }], ports: [{ port: 8000 + k, endPort: 8100 + k }, { port: 53, protocol: 'UDP' }] }],
            ...(k % 4 === 3 ? { egress: [{ to: [{ ipBlock: { cidr: '10.244.0.0/16', except: ['10.244.200.0/24'] } }] }] } : {}),
          },
        };
        const start = performance.now();
        const created = await client.create<NetworkPolicy>(res('NetworkPolicy'), ns, body);
        const key = `${ns}/np-${k}`;
        const rv = created.metadata.resourceVersion ?? '';
        for (let spin = 0; spin < 20_000; spin++) {
          const st = readStatuses(c.name);
          if (st.length === 3 && st.every((s) => s.policies[key] === rv)) break;
          await new Promise((r) => setTimeout(r, 2));
        }
        const ms = performance.now() - start;
        latencies.push(ms);
        if (k % 20 === 19) log(`${k + 1} policies, last create -> enforced ${ms.toFixed(1)} ms`);
      }
      const s = [...latencies].sort((a, b) => a - b);
      const early = latencies.slice(0, 10).sort((a, b) => a - b);
      const late = latencies.slice(-10).sort((a, b) => a - b);
      metrics.push(
        { name: `create -> enforced on 3 nodes, p50 (${nPods} pods, 1-${nPolicies} policies)`, value: percentile(s, 50), unit: 'ms', goal: 'upstream CNIs: ~1 s typical' },
        { name: 'create -> enforced on 3 nodes, p99', value: percentile(s, 99), unit: 'ms' },
        { name: 'create -> enforced, p50 of the first 10 policies', value: percentile(early, 50), unit: 'ms' },
        { name: `create -> enforced, p50 of the last 10 (with ~${nPolicies} in force)`, value: percentile(late, 50), unit: 'ms' },
      );
      const st = readStatuses(c.name);
      log(`isolated pods per node at the end: ${st.map((x) => `${x.node}=${x.isolated}`).join(', ')}`);

      // A larger probe: every bench pod (pause pods listen nowhere: allowed cells answer RST at once,
      // denied cells wait for the 1 s deadline).
      const probeNs = namespaces.join(',');
      const pr = await run(FLATNET, ['probe', '--name', c.name, '-n', probeNs, '--port', '8000', '-o', 'json', '--parallel', '8'], { env: c.env, timeoutMs: 900_000 });
      if (pr.status !== 0) throw new Error(`probe failed (exit ${pr.status}): ${pr.stderr}`);
      const report = JSON.parse(pr.stdout) as { pods: string[]; wallMs: number; allowedCount: number; deniedCount: number; cells: { result: string }[] };
      const timedOut = report.cells.filter((x) => x.result === 'timeout').length;
      log(`probe of ${report.pods.length} pods: ${report.cells.length} cells, ${timedOut} timed out (denied), ${report.wallMs} ms`);
      metrics.push({ name: `flatnet probe ${report.pods.length}x${report.pods.length} (${timedOut} denied cells), wall`, value: report.wallMs / 1000, unit: 's' });
      client.close();
    } finally {
      await c.down();
    }
    return metrics;
  },
};

export default bench;
