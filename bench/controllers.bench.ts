// Controllers benchmark (issue "Controllers"): `flatnet server` (API server + scheduler + controllers in one
// process, SQLite) with NODES Node objects without a data plane (marked Ready) and PODS pods from Deployments
// of 1,000 replicas, each behind a Service. This process plays the kubelet (marks bound pods Ready with an IP
// from the node's Pod CIDR). Measured: time until every pod is bound, and until every pod is an endpoint of
// its Service's EndpointSlices -> pods/s; then SERVICES NodePort Services (ClusterIP + node port) created
// 16 at a time -> total time. Sizes: FLATNET_BENCH_NODES (1000), FLATNET_BENCH_CTRL_PODS (30000),
// FLATNET_BENCH_SERVICES (10000).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Deployment, EndpointSlice, Node, Pod, Service } from '../src/api/types.ts';
import { Informer } from '../src/client/informer.ts';
import { KubeClient } from '../src/client/kube-client.ts';
import { WorkQueue } from '../src/client/work-queue.ts';
import { RESOURCE } from '../src/controllers/runtime.ts';
import { formatIPv4, parseCidr } from '../src/net/ipv4.ts';
import { type Benchmark, type Metric } from './harness.ts';

const root = resolve(import.meta.dirname, '..');
const NODES = Number(process.env['FLATNET_BENCH_NODES'] ?? 1000);
const PODS = Number(process.env['FLATNET_BENCH_CTRL_PODS'] ?? 30_000);
const SERVICES = Number(process.env['FLATNET_BENCH_SERVICES'] ?? 10_000);
const PER_DEPLOYMENT = Math.min(1000, PODS);
const DEPLOYMENTS = Math.ceil(PODS / PER_DEPLOYMENT);
const NS = 'bench';

function peakRss(pid: number): number {
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return hwm ? Number(hwm[1]) / 1024 : NaN;
}

async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await fn(items[next++] as T);
  }));
}

const bench: Benchmark = {
  name: 'controllers',
  description: `${NODES} nodes, ${PODS} pods from ${DEPLOYMENTS} Deployments behind Services; ${SERVICES} NodePort Services`,
  async run(log) {
    const dataDir = mkdtempSync(join(tmpdir(), 'flatnet-bench-ctl-'));
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', join(root, 'src/cli/main.ts'), 'server', '--data-dir', dataDir, '--port', '0',
      // 1,000 node subnets do not fit in a /16 of /24s; 15,000 node ports for the Service run.
      '--cluster-cidr', '10.128.0.0/9', '--node-port-range', '30000-44999'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FLATNET_CONTROLLER_STATS: '1' } });
    let serverLog = '';
    child.stderr.on('data', (d: Buffer) => {
      serverLog += d.toString();
      if (serverLog.length > 100_000) serverLog = serverLog.slice(-50_000);
    });
    const informers: Informer<Pod | Node | EndpointSlice>[] = [];
    let client: KubeClient | undefined;
    try {
      const line = await new Promise<string>((res, rej) => {
        let buf = '';
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          if (buf.includes('\n')) res(buf.slice(0, buf.indexOf('\n')));
        });
        child.on('exit', (c) => rej(new Error(`server exited ${c}: ${serverLog}`)));
      });
      const { kubeconfig } = JSON.parse(line) as { kubeconfig: string };
      const c = KubeClient.fromKubeconfig(kubeconfig, undefined, { requestTimeoutMs: 120_000 });
      client = c;

      // Nodes, marked Ready (no data plane behind them).
      const tNodes = performance.now();
      await pool(Array.from({ length: NODES }, (_, i) => `node-${String(i).padStart(4, '0')}`), 32, async (name) => {
        await c.create<Node>(RESOURCE.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } } });
        await c.patch(RESOURCE.nodes, undefined, name, { status: { conditions: [{ type: 'Ready', status: 'True' }], allocatable: { pods: '110' } } }, { type: 'merge', subresource: 'status' });
      });
      log(`${NODES} nodes created and Ready in ${((performance.now() - tNodes) / 1000).toFixed(1)} s`);

      // The kubelet's part: bound pods get Running/Ready and an IP from their node's Pod CIDR.
      const pods = Informer.forResource<Pod>(c, RESOURCE.pods, { namespace: NS });
      const nodes = Informer.forResource<Node>(c, RESOURCE.nodes);
      const slices = Informer.forResource<EndpointSlice>(c, RESOURCE.endpointSlices, { namespace: NS });
      informers.push(pods as Informer<Pod | Node | EndpointSlice>, nodes as Informer<Pod | Node | EndpointSlice>, slices as Informer<Pod | Node | EndpointSlice>);
      const kubelet = new WorkQueue<string>({ concurrency: 32, baseDelayMs: 50, maxDelayMs: 2000 });
      const nextHost = new Map<string, number>();
      let boundCount = 0;
      const boundSeen = new Set<string>();
      const enqueue = (p: Pod): void => {
        const key = `${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`;
        if (p.spec?.nodeName && !boundSeen.has(key)) {
          boundSeen.add(key);
          boundCount++;
        }
        if (p.spec?.nodeName && !p.status?.podIP) kubelet.add(key);
      };
      pods.addEventHandler({ onAdd: enqueue, onUpdate: (_o, p) => enqueue(p) });
      for (const i of informers) i.start();
      await Promise.all(informers.map((i) => i.waitForSync(60_000)));
      kubelet.run(async (key) => {
        const pod = pods.get(key);
        if (pod === undefined || pod.status?.podIP) return;
        const nodeName = pod.spec?.nodeName ?? '';
        const cidr = nodes.get(nodeName)?.spec?.podCIDR;
        if (!cidr) throw new Error(`node ${nodeName} has no Pod CIDR yet`);
        const host = nextHost.get(nodeName) ?? 2;
        nextHost.set(nodeName, host + 1);
        const ip = formatIPv4(parseCidr(cidr).network + host);
        const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        const updated = structuredClone(pod) as Pod;
        updated.status = {
          ...(updated.status ?? {}), phase: 'Running', podIP: ip, podIPs: [{ ip }], startTime: now,
          conditions: [...(updated.status?.conditions ?? []).filter((x) => x.type !== 'Ready'), { type: 'Ready', status: 'True', lastTransitionTime: now }],
        };
        await c.updateStatus(RESOURCE.pods, NS, updated);
      });

      await c.create(RESOURCE.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
      const t0 = performance.now();
      for (let d = 0; d < DEPLOYMENTS; d++) {
        const app = `app-${d}`;
        const replicas = Math.min(PER_DEPLOYMENT, PODS - d * PER_DEPLOYMENT);
        await c.create<Service>(RESOURCE.services, NS, { apiVersion: 'v1', kind: 'Service', metadata: { name: app, namespace: NS }, spec: { selector: { app }, ports: [{ port: 80, targetPort: 8080 }] } });
        await c.create<Deployment>(RESOURCE.deployments, NS, {
          apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: app, namespace: NS },
          spec: { replicas, selector: { matchLabels: { app } }, template: { metadata: { labels: { app } }, spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 8080 }] }] } } },
        });
      }
      // Done when every pod is bound and every pod IP is an endpoint (bounded by a deadline).
      let tBound: number | undefined;
      let tEndpoints: number | undefined;
      const deadline = Date.now() + Math.max(300_000, PODS * 40);
      let lastReport = 0;
      while (tEndpoints === undefined && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        if (tBound === undefined && boundCount >= PODS) tBound = performance.now();
        let endpoints = 0;
        for (const s of slices.list()) endpoints += (s.endpoints ?? []).length;
        if (tBound !== undefined && endpoints >= PODS) tEndpoints = performance.now();
        if (Date.now() - lastReport > 5000) {
          lastReport = Date.now();
          log(`t=${((performance.now() - t0) / 1000).toFixed(0)} s: ${pods.list().length} pods, ${boundCount} bound, ${endpoints} endpoints`);
        }
      }
      if (tBound === undefined || tEndpoints === undefined) throw new Error(`timed out: ${boundCount}/${PODS} bound\n${serverLog.slice(-3000)}`);
      const boundSeconds = (tBound - t0) / 1000;
      const endpointSeconds = (tEndpoints - t0) / 1000;
      log(`all ${PODS} pods bound after ${boundSeconds.toFixed(1)} s, all in EndpointSlices after ${endpointSeconds.toFixed(1)} s`);
      const rssAfterPods = peakRss(child.pid ?? 0);
      await kubelet.shutdown();
      for (const i of informers) await i.stop();
      informers.length = 0;

      // 10,000 NodePort Services (selector-less: this measures allocation, not the endpoint controllers).
      const tSvc = performance.now();
      const svcIPs = new Set<string>();
      await pool(Array.from({ length: SERVICES }, (_, i) => i), 16, async (i) => {
        const s = await c.create<Service>(RESOURCE.services, 'default', {
          apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${i}`, namespace: 'default' },
          spec: { type: 'NodePort', ports: [{ port: 80, targetPort: 8080 }] },
        });
        svcIPs.add(`${s.spec?.clusterIP ?? ''}/${s.spec?.ports?.[0]?.nodePort ?? 0}`);
      });
      const svcSeconds = (performance.now() - tSvc) / 1000;
      if (svcIPs.size !== SERVICES) throw new Error(`only ${svcIPs.size} distinct allocations for ${SERVICES} Services`);
      log(`${SERVICES} NodePort Services in ${svcSeconds.toFixed(1)} s`);

      const metrics: Metric[] = [
        { name: `time to bind ${PODS} pods on ${NODES} nodes`, value: boundSeconds, unit: 's' },
        { name: 'server peak RSS', value: rssAfterPods, unit: 'MiB' },
        { name: `${SERVICES} NodePort Services (ClusterIP + node port)`, value: svcSeconds, unit: 's', goal: 'goal <= 10 s' },
        { name: 'pods scheduled per second', value: PODS / boundSeconds, unit: '1/s' },
        { name: 'pods bound and in EndpointSlices per second', value: PODS / endpointSeconds, unit: '1/s', goal: 'KWOK: 20 fake nodes/s or pods/s; goal >= 500 pods/s' },
      ];
      return metrics;
    } finally {
      for (const i of informers) await i.stop();
      client?.close();
      child.kill('SIGTERM');
      await new Promise<void>((r) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          r();
        }, 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          r();
        });
      });
      for (const l of serverLog.split('\n')) if (l.includes('controller writes')) log(l);
      const dump = process.env['FLATNET_BENCH_SERVER_LOG'];
      if (dump !== undefined && dump !== '') writeFileSync(dump, serverLog);
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};

export default bench;
