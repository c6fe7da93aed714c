// Issue "Controllers": the scheduler and controllers run inside the API server process (startControlPlane,
// as `flatnet server` does) against Node objects with no data plane. The test plays the kubelet: it marks
// bound pods Ready through the status subresource (with a pod IP from the node's Pod CIDR) and confirms
// graceful deletions with gracePeriodSeconds=0. Everything else is the product, driven by the real kubectl.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ApiError } from '../src/api/errors.ts';
import type { Condition, EndpointSlice, Endpoints, Event, KubeObject, Node, Pod, ReplicaSet, Service } from '../src/api/types.ts';
import { Informer } from '../src/client/informer.ts';
import { KubeClient } from '../src/client/kube-client.ts';
import { WorkQueue } from '../src/client/work-queue.ts';
import { RESOURCE } from '../src/controllers/runtime.ts';
import { ServiceLoadBalancerController } from '../src/controllers/service-lb-controller.ts';
import { parseCidr, formatIPv4, cidrContains, tryParseIPv4 } from '../src/net/ipv4.ts';
import { startControlPlane, type ControlPlaneOptions, type RunningControlPlane } from '../src/server/control-plane.ts';
import { eventually, KUBECTL } from './support/api-fixture.ts';

const root = resolve(import.meta.dirname, '..');

// ------------------------------------------------------------------------------------------- fixtures

interface Plane {
  cp: RunningControlPlane;
  client: KubeClient;
  dataDir: string;
  kubectl(args: string[], input?: string): Promise<{ status: number; stdout: string; stderr: string }>;
  /** Stops the control plane (the data directory stays for a restart). */
  stop(): Promise<void>;
}

async function startPlane(options: Partial<ControlPlaneOptions> = {}, dataDir = mkdtempSync(join(tmpdir(), 'flatnet-ctl-'))): Promise<Plane> {
  const verbose = process.env['FLATNET_TEST_LOG'] === '1';
  const cp = await startControlPlane({ dataDir, port: 0, storage: 'sqlite', log: (l) => (verbose ? process.stderr.write(`[control-plane] ${l}\n`) : undefined), ...options });
  const client = KubeClient.fromKubeconfig(cp.server.kubeconfigPath);
  return {
    cp,
    client,
    dataDir,
    kubectl(args, input) {
      return new Promise((res) => {
        const child = spawn(KUBECTL, args, { env: { ...process.env, KUBECONFIG: cp.server.kubeconfigPath, HOME: dataDir }, timeout: 90_000 });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => res({ status: code ?? -1, stdout, stderr }));
        child.stdin.end(input ?? '');
      });
    },
    async stop() {
      client.close();
      await cp.stop();
    },
  };
}

async function createReadyNodes(client: KubeClient, names: readonly string[], labels: Record<string, Record<string, string>> = {}): Promise<void> {
  for (const name of names) {
    await client.create<Node>(RESOURCE.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(labels[name] ?? {}) } } });
    await client.patch(RESOURCE.nodes, undefined, name, {
      status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'test kubelet is ready' }], allocatable: { pods: '110' }, capacity: { pods: '110' } },
    }, { type: 'merge', subresource: 'status' });
  }
}

/**
 * The kubelet's part, played by the test: bound pods become Running and Ready with an IP from their node's
 * Pod CIDR; pods being deleted gracefully are confirmed with gracePeriodSeconds=0 (unless paused).
 */
class TestKubelet {
  readonly pods: Informer<Pod>;
  readonly nodes: Informer<Node>;
  readonly #client: KubeClient;
  readonly #queue = new WorkQueue<string>({ concurrency: 16, baseDelayMs: 20, maxDelayMs: 500 });
  readonly #nextHost = new Map<string, number>();
  confirmDeletions = true;

  constructor(client: KubeClient) {
    this.#client = client;
    this.pods = Informer.forResource<Pod>(client, RESOURCE.pods);
    this.nodes = Informer.forResource<Node>(client, RESOURCE.nodes);
    const enqueue = (p: Pod): void => this.#queue.add(`${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`);
    this.pods.addEventHandler({ onAdd: enqueue, onUpdate: (_o, p) => enqueue(p) });
    this.nodes.addEventHandler({ onUpdate: () => { for (const p of this.pods.list()) enqueue(p); } });
  }

  async start(): Promise<void> {
    this.pods.start();
    this.nodes.start();
    await Promise.all([this.pods.waitForSync(10_000), this.nodes.waitForSync(10_000)]);
    this.#queue.run((key) => this.#handle(key));
  }

  /** Lets paused deletions through. */
  resume(): void {
    this.confirmDeletions = true;
    for (const p of this.pods.list()) if (p.metadata.deletionTimestamp !== undefined) this.#queue.add(`${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`);
  }

  async stop(): Promise<void> {
    await this.#queue.shutdown();
    await Promise.all([this.pods.stop(), this.nodes.stop()]);
  }

  #ipFor(nodeName: string): string {
    const cidr = this.nodes.get(nodeName)?.spec?.podCIDR;
    if (cidr === undefined || cidr === '') throw new Error(`node ${nodeName} has no Pod CIDR yet`);
    const host = this.#nextHost.get(nodeName) ?? 2;
    this.#nextHost.set(nodeName, host + 1);
    return formatIPv4(parseCidr(cidr).network + host);
  }

  async #handle(key: string): Promise<void> {
    const pod = this.pods.get(key);
    if (pod === undefined) return;
    const { namespace, name } = { namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '' };
    if (pod.metadata.deletionTimestamp !== undefined) {
      if (!this.confirmDeletions) return;
      try {
        await this.#client.delete(RESOURCE.pods, namespace, name, { gracePeriodSeconds: 0, ...(pod.metadata.uid ? { preconditions: { uid: pod.metadata.uid } } : {}) });
      } catch (e) {
        if (!(e instanceof ApiError && (e.reason === 'NotFound' || e.reason === 'Conflict'))) throw e;
      }
      return;
    }
    const nodeName = pod.spec?.nodeName;
    if (nodeName === undefined || nodeName === '') return;
    if ((pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')) return;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const ip = pod.status?.podIP ?? this.#ipFor(nodeName);
    const updated = structuredClone(pod) as Pod;
    const keep = (updated.status?.conditions ?? []).filter((c) => !['Ready', 'ContainersReady', 'Initialized'].includes(c.type));
    const cond = (type: string): Condition => ({ type, status: 'True', lastTransitionTime: now });
    updated.status = {
      ...(updated.status ?? {}),
      phase: 'Running',
      hostIP: '192.0.2.10',
      podIP: ip,
      podIPs: [{ ip }],
      startTime: now,
      conditions: [...keep, cond('Initialized'), cond('ContainersReady'), cond('Ready')],
      containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
        name: c.name, ready: true, started: true, restartCount: 0, image: c.image ?? '', imageID: '', state: { running: { startedAt: now } },
      })),
    };
    await this.#client.updateStatus(RESOURCE.pods, namespace, updated);
  }
}

async function listAll<T extends KubeObject>(client: KubeClient, r: typeof RESOURCE.pods, ns?: string): Promise<T[]> {
  return (await client.listAll<T>(r, ns)).items;
}

const isReady = (p: Pod): boolean => (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
const active = (pods: readonly Pod[]): Pod[] => pods.filter((p) => p.metadata.deletionTimestamp === undefined);

async function sliceEndpoints(client: KubeClient, ns: string, svc: string): Promise<{ ready: string[]; all: number; ports: number[] }> {
  const slices = (await client.list<EndpointSlice>(RESOURCE.endpointSlices, ns, { labelSelector: `kubernetes.io/service-name=${svc}` })).items;
  const ready: string[] = [];
  let all = 0;
  const ports = new Set<number>();
  for (const s of slices) {
    for (const p of s.ports ?? []) if (p.port !== undefined) ports.add(p.port);
    for (const e of s.endpoints ?? []) {
      all++;
      if (e.conditions?.ready === true) ready.push(...e.addresses);
    }
  }
  return { ready: ready.sort(), all, ports: [...ports] };
}

// ------------------------------------------------------------------------------- workloads, end to end

describe('controllers: the seed nginx Deployment and Service through the real kubectl', () => {
  let plane: Plane;
  let kubelet: TestKubelet;

  before(async () => {
    plane = await startPlane();
    await createReadyNodes(plane.client, ['node-1', 'node-2', 'node-3']);
    kubelet = new TestKubelet(plane.client);
    await kubelet.start();
  });
  after(async () => {
    await kubelet.stop();
    await plane.stop();
    rmSync(plane.dataDir, { recursive: true, force: true });
  });

  it('binds the three pods across the nodes, fills the EndpointSlice and Endpoints, scales to 50 and back, rolls out and deletes the namespace', { timeout: 240_000 }, async () => {
    const applied = await plane.kubectl(['apply', '-f', join(root, 'examples/01-namespace.yaml'), '-f', join(root, 'examples/02-nginx.yaml')]);
    assert.equal(applied.status, 0, applied.stderr);

    // Bound, spread over the three nodes, marked Ready by the test's kubelet.
    const pods = await eventually(async () => {
      const ps = active(await listAll<Pod>(plane.client, RESOURCE.pods, 'demo'));
      return ps.length === 3 && ps.every((p) => p.spec?.nodeName && isReady(p)) ? ps : undefined;
    }, 30_000, 'three bound, ready nginx pods');
    assert.deepEqual(new Set(pods.map((p) => p.spec?.nodeName)), new Set(['node-1', 'node-2', 'node-3']), 'one pod per node');
    for (const p of pods) {
      const node = kubelet.nodes.get(p.spec?.nodeName ?? '');
      const ip = tryParseIPv4(p.status?.podIP ?? '');
      assert.ok(ip !== undefined && cidrContains(parseCidr(node?.spec?.podCIDR ?? ''), ip), `${p.metadata.name} IP in its node's Pod CIDR`);
    }
    const ips = pods.map((p) => p.status?.podIP ?? '').sort();

    const eps = await eventually(async () => {
      const s = await sliceEndpoints(plane.client, 'demo', 'nginx-service');
      return s.ready.length === 3 ? s : undefined;
    }, 20_000, 'three ready endpoints');
    assert.deepEqual(eps.ready, ips);
    assert.deepEqual(eps.ports, [8080], 'the slice carries the target port');

    const got = await eventually(async () => {
      const r = await plane.kubectl(['get', 'endpoints', 'nginx-service', '-n', 'demo']);
      return r.status === 0 && ips.every((ip) => r.stdout.includes(`${ip}:8080`)) ? r.stdout : undefined;
    }, 20_000, 'kubectl get endpoints to list the three IP:8080');
    assert.match(got, /nginx-service/);

    // Scale to 50 and back to 3; the kubelet keeps marking new pods Ready and confirming deletions.
    const up = await plane.kubectl(['scale', 'deployment/nginx', '-n', 'demo', '--replicas=50']);
    assert.equal(up.status, 0, up.stderr);
    await eventually(async () => {
      const ps = active(await listAll<Pod>(plane.client, RESOURCE.pods, 'demo'));
      const s = await sliceEndpoints(plane.client, 'demo', 'nginx-service');
      return ps.length === 50 && ps.every(isReady) && s.ready.length === 50 ? true : undefined;
    }, 60_000, '50 ready pods in the EndpointSlices');
    const spread = new Map<string, number>();
    for (const p of active(await listAll<Pod>(plane.client, RESOURCE.pods, 'demo'))) spread.set(p.spec?.nodeName ?? '', (spread.get(p.spec?.nodeName ?? '') ?? 0) + 1);
    assert.ok(Math.max(...spread.values()) - Math.min(...spread.values()) <= 1, `pods spread evenly: ${JSON.stringify([...spread])}`);
    const noDuplicates = (await listAll<Pod>(plane.client, RESOURCE.pods, 'demo')).length;
    assert.equal(noDuplicates, 50, 'no pod created twice');

    const down = await plane.kubectl(['scale', 'deployment/nginx', '-n', 'demo', '--replicas=3']);
    assert.equal(down.status, 0, down.stderr);
    await eventually(async () => {
      const ps = await listAll<Pod>(plane.client, RESOURCE.pods, 'demo');
      const s = await sliceEndpoints(plane.client, 'demo', 'nginx-service');
      return ps.length === 3 && s.all === 3 && s.ready.length === 3 ? true : undefined;
    }, 60_000, 'back to 3 pods and 3 endpoints');

    // A rolling update to a new image finishes and kubectl rollout status agrees.
    const set = await plane.kubectl(['set', 'image', 'deployment/nginx', 'nginx=nginx:1.27', '-n', 'demo']);
    assert.equal(set.status, 0, set.stderr);
    const rollout = await plane.kubectl(['rollout', 'status', 'deployment/nginx', '-n', 'demo', '--timeout=60s']);
    assert.equal(rollout.status, 0, `${rollout.stdout}\n${rollout.stderr}`);
    assert.match(rollout.stdout, /successfully rolled out/);
    await eventually(async () => {
      const ps = await listAll<Pod>(plane.client, RESOURCE.pods, 'demo');
      return ps.length === 3 && ps.every((p) => p.spec?.containers[0]?.image === 'nginx:1.27' && isReady(p)) ? true : undefined;
    }, 30_000, 'three pods of the new image');
    const rss = await listAll<ReplicaSet>(plane.client, RESOURCE.replicaSets, 'demo');
    assert.equal(rss.length, 2, 'the old ReplicaSet is kept (scaled to 0) as history');
    assert.deepEqual(rss.map((r) => r.spec?.replicas ?? 0).sort(), [0, 3]);

    // Deleting the namespace removes everything in it, then the namespace itself.
    const del = await plane.kubectl(['delete', 'namespace', 'demo', '--timeout=90s']);
    assert.equal(del.status, 0, del.stderr);
    const gone = await plane.kubectl(['get', 'namespace', 'demo']);
    assert.notEqual(gone.status, 0);
    assert.match(gone.stderr, /NotFound|not found/);
    for (const r of [RESOURCE.pods, RESOURCE.replicaSets, RESOURCE.deployments, RESOURCE.services, RESOURCE.endpoints, RESOURCE.endpointSlices]) {
      assert.deepEqual((await listAll(plane.client, r, 'demo')).map((o) => o.metadata.name), [], `no ${r.plural} left in demo`);
    }
  });

  it('keeps the kubernetes Service backed by an EndpointSlice and Endpoints at the API server address', { timeout: 30_000 }, async () => {
    const ep = await eventually(() => plane.client.get<Endpoints>(RESOURCE.endpoints, 'default', 'kubernetes').catch(() => undefined), 10_000, 'kubernetes Endpoints');
    const port = ep.subsets?.[0]?.ports?.[0];
    assert.equal(port?.port, plane.cp.server.port);
    assert.equal(port?.name, 'https');
    const slice = await plane.client.get<EndpointSlice>(RESOURCE.endpointSlices, 'default', 'kubernetes');
    assert.equal(slice.metadata.labels?.['kubernetes.io/service-name'], 'kubernetes');
    assert.deepEqual(slice.endpoints?.[0]?.addresses, [ep.subsets?.[0]?.addresses?.[0]?.ip]);
    // Deleted by someone: put back.
    await plane.client.delete(RESOURCE.endpointSlices, 'default', 'kubernetes');
    const back = await eventually(() => plane.client.get<EndpointSlice>(RESOURCE.endpointSlices, 'default', 'kubernetes').catch(() => undefined), 10_000, 'the slice to come back');
    assert.notEqual(back.metadata.uid, slice.metadata.uid);
  });

  it('marks a pod whose nodeSelector matches no node unschedulable with upstream\'s message and binds it once a node matches', { timeout: 60_000 }, async () => {
    await plane.client.create<Pod>(RESOURCE.pods, 'default', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'picky', namespace: 'default' },
      spec: { nodeSelector: { disk: 'ssd' }, containers: [{ name: 'c', image: 'busybox' }] },
    });
    const message = "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.";
    const cond = await eventually(async () => {
      const p = await plane.client.get<Pod>(RESOURCE.pods, 'default', 'picky');
      const c = (p.status?.conditions ?? []).find((x) => x.type === 'PodScheduled');
      return c?.status === 'False' ? c : undefined;
    }, 15_000, 'PodScheduled=False');
    assert.equal(cond.reason, 'Unschedulable');
    assert.equal(cond.message, message);
    const ev = await eventually(async () => {
      const evs = await listAll<Event>(plane.client, RESOURCE.events, 'default');
      return evs.find((e) => e.involvedObject.name === 'picky' && e.reason === 'FailedScheduling');
    }, 10_000, 'a FailedScheduling event');
    assert.equal(ev.type, 'Warning');
    assert.equal(ev.message, message);
    const described = await plane.kubectl(['describe', 'pod', 'picky']);
    assert.match(described.stdout, /FailedScheduling/);

    // A node change that makes it fit: the parked pod is retried and bound there.
    await plane.client.patch(RESOURCE.nodes, undefined, 'node-2', { metadata: { labels: { disk: 'ssd' } } }, { type: 'merge' });
    const bound = await eventually(async () => {
      const p = await plane.client.get<Pod>(RESOURCE.pods, 'default', 'picky');
      return p.spec?.nodeName ? p : undefined;
    }, 15_000, 'the pod to be bound after the node got the label');
    assert.equal(bound.spec?.nodeName, 'node-2');
    await plane.client.delete(RESOURCE.pods, 'default', 'picky');
  });

  it('runs one DaemonSet pod per eligible node and follows node label changes', { timeout: 60_000 }, async () => {
    await plane.client.patch(RESOURCE.nodes, undefined, 'node-1', { metadata: { labels: { edge: 'true' } } }, { type: 'merge' });
    await plane.client.patch(RESOURCE.nodes, undefined, 'node-3', { metadata: { labels: { edge: 'true' } } }, { type: 'merge' });
    const ds = `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: default}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      nodeSelector: {edge: "true"}
      containers: [{name: agent, image: busybox}]
`;
    const r = await plane.kubectl(['apply', '-f', '-'], ds);
    assert.equal(r.status, 0, r.stderr);
    const nodesOf = async (): Promise<string[]> => active(await plane.client.list<Pod>(RESOURCE.pods, 'default', { labelSelector: 'app=agent' }).then((l) => l.items))
      .map((p) => p.spec?.nodeName ?? '').sort();
    await eventually(async () => ((await nodesOf()).join() === 'node-1,node-3' ? true : undefined), 20_000, 'agent pods bound on node-1 and node-3');
    await plane.client.patch(RESOURCE.nodes, undefined, 'node-2', { metadata: { labels: { edge: 'true' } } }, { type: 'merge' });
    await eventually(async () => ((await nodesOf()).join() === 'node-1,node-2,node-3' ? true : undefined), 20_000, 'a third agent pod on node-2');
    await plane.client.patch(RESOURCE.nodes, undefined, 'node-1', { metadata: { labels: { edge: null } } }, { type: 'merge' });
    await eventually(async () => ((await nodesOf()).join() === 'node-2,node-3' ? true : undefined), 20_000, 'the agent pod leaving node-1');
    const status = await eventually(async () => {
      const d = await plane.client.get<KubeObject & { status?: { desiredNumberScheduled?: number; numberReady?: number } }>(RESOURCE.daemonSets, 'default', 'agent');
      return d.status?.desiredNumberScheduled === 2 && d.status.numberReady === 2 ? d.status : undefined;
    }, 20_000, 'DaemonSet status 2 desired, 2 ready');
    assert.equal(status.desiredNumberScheduled, 2);
    await plane.client.delete(RESOURCE.daemonSets, 'default', 'agent');
    await eventually(async () => ((await nodesOf()).length === 0 ? true : undefined), 20_000, 'agent pods collected after the DaemonSet is deleted');
  });

  it('garbage-collects a Deployment\'s ReplicaSets and pods in the background, waits for dependents in the foreground, and orphans on request', { timeout: 120_000 }, async () => {
    const deploy = (name: string): string => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {containers: [{name: c, image: busybox}]}
`;
    const podsOf = async (app: string): Promise<Pod[]> => (await plane.client.list<Pod>(RESOURCE.pods, 'default', { labelSelector: `app=${app}` })).items;
    const rsOf = async (app: string): Promise<ReplicaSet[]> => (await plane.client.list<ReplicaSet>(RESOURCE.replicaSets, 'default', { labelSelector: `app=${app}` })).items;
    for (const name of ['bg', 'fg', 'orph']) {
      const r = await plane.kubectl(['apply', '-f', '-'], deploy(name));
      assert.equal(r.status, 0, r.stderr);
    }
    for (const name of ['bg', 'fg', 'orph']) {
      await eventually(async () => ((await podsOf(name)).filter(isReady).length === 2 ? true : undefined), 30_000, `${name} pods ready`);
    }

    // Background (kubectl's default): the Deployment goes at once, its ReplicaSet and pods after it.
    const bg = await plane.kubectl(['delete', 'deployment', 'bg']);
    assert.equal(bg.status, 0, bg.stderr);
    await eventually(async () => ((await rsOf('bg')).length === 0 && (await podsOf('bg')).length === 0 ? true : undefined), 30_000, 'bg ReplicaSet and pods collected');

    // Foreground: while the kubelet holds the pods, the ReplicaSet waits (deletionTimestamp, finalizer).
    kubelet.confirmDeletions = false;
    const fg = await plane.kubectl(['delete', 'deployment', 'fg', '--cascade=foreground', '--wait=false']);
    assert.equal(fg.status, 0, fg.stderr);
    const waiting = await eventually(async () => {
      const rs = (await rsOf('fg'))[0];
      const pods = await podsOf('fg');
      return rs?.metadata.deletionTimestamp !== undefined && pods.length === 2 && pods.every((p) => p.metadata.deletionTimestamp !== undefined) ? rs : undefined;
    }, 20_000, 'the fg ReplicaSet terminating while its pods are');
    assert.ok(waiting.metadata.finalizers?.includes('foregroundDeletion'));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await rsOf('fg')).length, 1, 'the ReplicaSet still waits for its pods');
    kubelet.resume();
    await eventually(async () => {
      const d = await plane.client.get(RESOURCE.deployments, 'default', 'fg').catch((e: unknown) => (e instanceof ApiError && e.code === 404 ? undefined : Promise.reject(e)));
      return d === undefined && (await rsOf('fg')).length === 0 && (await podsOf('fg')).length === 0 ? true : undefined;
    }, 30_000, 'fg Deployment, ReplicaSet and pods gone');

    // Orphan: the ReplicaSet and pods stay, without the owner reference.
    const orph = await plane.kubectl(['delete', 'deployment', 'orph', '--cascade=orphan']);
    assert.equal(orph.status, 0, orph.stderr);
    const orphaned = await eventually(async () => {
      const rs = await rsOf('orph');
      return rs.length === 1 && (rs[0]?.metadata.ownerReferences ?? []).length === 0 ? rs[0] : undefined;
    }, 20_000, 'the orph ReplicaSet released');
    assert.equal((await podsOf('orph')).length, 2, 'its pods stay');
    await plane.client.delete(RESOURCE.replicaSets, 'default', orphaned.metadata.name ?? '');
    await eventually(async () => ((await podsOf('orph')).length === 0 ? true : undefined), 30_000, 'pods collected after their ReplicaSet');
  });
});

// ------------------------------------------------------------------------------------------ node IPAM

describe('controllers: node IPAM', () => {
  it('gives each node a distinct /24 of 10.244.0.0/16 that survives a restart of the control plane', { timeout: 60_000 }, async () => {
    let plane = await startPlane();
    try {
      await createReadyNodes(plane.client, ['a', 'b', 'c']);
      const cidrs = async (): Promise<Record<string, string>> => {
        const nodes = await listAll<Node>(plane.client, RESOURCE.nodes);
        return Object.fromEntries(nodes.map((n) => [n.metadata.name ?? '', n.spec?.podCIDR ?? '']));
      };
      const first = await eventually(async () => {
        const c = await cidrs();
        return Object.values(c).every((x) => x !== '') && Object.keys(c).length === 3 ? c : undefined;
      }, 10_000, 'three Pod CIDRs');
      const cluster = parseCidr('10.244.0.0/16');
      for (const cidr of Object.values(first)) {
        const parsed = parseCidr(cidr);
        assert.equal(parsed.prefix, 24);
        assert.ok(cidrContains(cluster, parsed.network), `${cidr} inside 10.244.0.0/16`);
      }
      assert.equal(new Set(Object.values(first)).size, 3, 'distinct');
      const node = await plane.client.get<Node>(RESOURCE.nodes, undefined, 'a');
      assert.deepEqual(node.spec?.podCIDRs, [node.spec?.podCIDR]);

      await plane.stop();
      plane = await startPlane({}, plane.dataDir);
      await createReadyNodes(plane.client, ['d']);
      const second = await eventually(async () => {
        const c = await cidrs();
        return c['d'] ? c : undefined;
      }, 10_000, 'a Pod CIDR for d');
      assert.deepEqual({ a: second['a'], b: second['b'], c: second['c'] }, first, 'existing assignments unchanged');
      assert.equal(new Set(Object.values(second)).size, 4, 'the new node gets a fourth, distinct subnet');
    } finally {
      await plane.stop();
      rmSync(plane.dataDir, { recursive: true, force: true });
    }
  });

  it('records CIDRNotAvailable when the cluster CIDR is exhausted and reuses a deleted node\'s subnet', { timeout: 60_000 }, async () => {
    const plane = await startPlane({ clusterCIDR: '10.250.0.0/23', nodeCIDRMaskSize: 24 });
    try {
      await createReadyNodes(plane.client, ['x1', 'x2']);
      const cidrOf = async (n: string): Promise<string | undefined> => (await plane.client.get<Node>(RESOURCE.nodes, undefined, n)).spec?.podCIDR || undefined;
      const x1 = await eventually(() => cidrOf('x1'), 10_000, 'x1 CIDR');
      await eventually(() => cidrOf('x2'), 10_000, 'x2 CIDR');
      await createReadyNodes(plane.client, ['x3']);
      const ev = await eventually(async () => (await listAll<Event>(plane.client, RESOURCE.events, 'default'))
        .find((e) => e.reason === 'CIDRNotAvailable' && e.involvedObject.name === 'x3'), 10_000, 'a CIDRNotAvailable event for x3');
      assert.equal(ev.message, 'Node x3 status is now: CIDRNotAvailable');
      assert.equal(await cidrOf('x3'), undefined);
      assert.equal((await plane.client.serverVersion()).gitVersion !== undefined, true, 'the server still answers');

      await plane.client.delete(RESOURCE.nodes, undefined, 'x1');
      const reused = await eventually(() => cidrOf('x3'), 10_000, 'x3 to get the freed subnet');
      assert.equal(reused, x1);
    } finally {
      await plane.stop();
      rmSync(plane.dataDir, { recursive: true, force: true });
    }
  });
});

// ------------------------------------------------------------------------------------ Service address pools

describe('controllers: ClusterIP, NodePort and LoadBalancer pools', () => {
  it('hands 200 parallel Services distinct ClusterIPs, node ports and LoadBalancer IPs, refuses a taken ClusterIP and is whole again after deletion', { timeout: 120_000 }, async () => {
    const plane = await startPlane({ lbPool: ['10.255.255.0/24'] });
    try {
      const lb = plane.cp.controllers?.controllers.find((c): c is ServiceLoadBalancerController => c instanceof ServiceLoadBalancerController);
      assert.ok(lb !== undefined);
      const mk = (i: number, extra: Partial<NonNullable<Service['spec']>> = {}): Service => ({
        apiVersion: 'v1', kind: 'Service', metadata: { name: `s${i}`, namespace: 'default' },
        spec: { type: i % 2 === 0 ? 'NodePort' : 'LoadBalancer', selector: { app: `s${i}` }, ports: [{ port: 80, targetPort: 8080 }], ...extra },
      });
      const created = await Promise.all(Array.from({ length: 200 }, (_, i) => plane.client.create<Service>(RESOURCE.services, 'default', mk(i))));
      const clusterIPs = created.map((s) => s.spec?.clusterIP ?? '');
      const nodePorts = created.map((s) => s.spec?.ports?.[0]?.nodePort ?? 0);
      assert.equal(new Set(clusterIPs).size, 200, 'distinct ClusterIPs');
      assert.ok(clusterIPs.every((ip) => cidrContains(parseCidr('10.96.0.0/12'), tryParseIPv4(ip) ?? 0)));
      assert.equal(new Set(nodePorts).size, 200, 'distinct node ports');
      assert.ok(nodePorts.every((p) => p >= 30000 && p <= 32767));
      const lbIPs = await eventually(async () => {
        const svcs = (await listAll<Service>(plane.client, RESOURCE.services, 'default')).filter((s) => s.spec?.type === 'LoadBalancer');
        const ips = svcs.map((s) => s.status?.loadBalancer?.ingress?.[0]?.ip ?? '');
        return svcs.length === 100 && ips.every((ip) => ip !== '') ? ips : undefined;
      }, 30_000, 'a LoadBalancer IP for each of the 100');
      assert.equal(new Set(lbIPs).size, 100, 'distinct LoadBalancer IPs');
      assert.ok(lbIPs.every((ip) => cidrContains(parseCidr('10.255.255.0/24'), tryParseIPv4(ip) ?? 0)));
      assert.ok(!lbIPs.includes('10.255.255.0') && !lbIPs.includes('10.255.255.255'), 'network and broadcast addresses are not handed out');

      const taken = await plane.client.create<Service>(RESOURCE.services, 'default', mk(1000, { type: 'ClusterIP', clusterIP: clusterIPs[7] ?? '' })).then(
        () => undefined, (e: unknown) => e);
      assert.ok(taken instanceof ApiError, 'creating a Service with a taken ClusterIP fails');
      assert.equal(taken.code, 422);
      assert.match(taken.message, /provided IP is already allocated/);

      // A Service of another load-balancer class is left alone.
      await plane.client.create<Service>(RESOURCE.services, 'default', mk(1001, { type: 'LoadBalancer', loadBalancerClass: 'example.com/other' }));

      await Promise.all(created.map((s) => plane.client.delete(RESOURCE.services, 'default', s.metadata.name ?? '')));
      await eventually(() => (lb.allocated === 0 ? true : undefined), 10_000, 'every LoadBalancer IP released');
      const other = await plane.client.get<Service>(RESOURCE.services, 'default', 's1001');
      assert.equal(other.status?.loadBalancer?.ingress, undefined, 'the other class got no address');
      assert.deepEqual(plane.cp.server.registry.allocator.usage(), { clusterIPs: 2, nodePorts: 1 }, 'only kubernetes and s1001 hold addresses');

      // Whole again: every address and port handed out before can be requested by a new Service.
      const again = await Promise.all(created.map((s, i) => plane.client.create<Service>(RESOURCE.services, 'default',
        mk(i, { clusterIP: s.spec?.clusterIP ?? '', ports: [{ port: 80, targetPort: 8080, nodePort: s.spec?.ports?.[0]?.nodePort ?? 0 }] }))));
      assert.equal(again.length, 200);
      const lbAgain = await eventually(async () => {
        const svcs = (await listAll<Service>(plane.client, RESOURCE.services, 'default')).filter((s) => s.spec?.type === 'LoadBalancer' && s.spec.loadBalancerClass === undefined);
        const ips = svcs.map((s) => s.status?.loadBalancer?.ingress?.[0]?.ip ?? '');
        return svcs.length === 100 && ips.every((ip) => ip !== '') ? ips : undefined;
      }, 30_000, 'LoadBalancer IPs again');
      assert.equal(new Set(lbAgain).size, 100);

      // Type change away from LoadBalancer releases and clears the address.
      const s1 = await plane.client.get<Service>(RESOURCE.services, 'default', 's1');
      const held = s1.status?.loadBalancer?.ingress?.[0]?.ip;
      // (The type-dependent fields are cleared explicitly: this server does not drop them on a type change yet.)
      await plane.client.patch(RESOURCE.services, 'default', 's1', {
        spec: { type: 'ClusterIP', allocateLoadBalancerNodePorts: null, externalTrafficPolicy: null, ports: [{ port: 80, targetPort: 8080 }] },
      }, { type: 'merge' });
      await eventually(async () => ((await plane.client.get<Service>(RESOURCE.services, 'default', 's1')).status?.loadBalancer?.ingress === undefined ? true : undefined), 10_000, 'status cleared');
      await eventually(() => (lb.allocated === 99 ? true : undefined), 10_000, 'the address released');
      const reuse = await plane.client.create<Service>(RESOURCE.services, 'default', mk(2001, { type: 'LoadBalancer', loadBalancerIP: held ?? '' }));
      const reused = await eventually(async () => (await plane.client.get<Service>(RESOURCE.services, 'default', reuse.metadata.name ?? '')).status?.loadBalancer?.ingress?.[0]?.ip, 10_000, 'the requested address');
      assert.equal(reused, held);
    } finally {
      await plane.stop();
      rmSync(plane.dataDir, { recursive: true, force: true });
    }
  });
});
