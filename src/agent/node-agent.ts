// The node agent: the kubelet's role for one lab node. It registers its Node (InternalIP, capacity, Ready with
// heartbeats), and for every Pod bound to the node creates the sandbox (a netns wired by CNI through the lab),
// starts the containers in the pod runtime, reports podIP/hostIP/phase/conditions/containerStatuses, and
// carries out graceful deletion (stop containers, CNI DEL, then confirm the delete with grace 0).
// On start it adopts what an earlier agent left running: no running pod is restarted.
import { hostname, totalmem, release } from 'node:os';
import { ApiError } from '../api/errors.ts';
import { resourceFor, type ResourceInfo } from '../api/resources.ts';
import type { Node, NodeCondition, Pod, PodStatus } from '../api/types.ts';
import { Informer } from '../client/informer.ts';
import type { KubeClient } from '../client/kube-client.ts';
import { WorkQueue } from '../client/work-queue.ts';
import type { Lab } from '../lab/lab.ts';
import type { PodRuntime } from '../runtime/pod-runtime.ts';
import { kubernetesServiceIP } from '../net/allocators.ts';

const resource = resourceFor;
const PODS = resource('Pod');
const NODES = resource('Node');

export const KUBELET_VERSION = 'v1.33.0+flatnet';
const HEARTBEAT_MS = 10_000;

export interface NodeAgentOptions {
  client: KubeClient;
  lab: Lab;
  runtime: PodRuntime;
  nodeName: string;
  log: (line: string) => void;
  /** Port of the agent's own endpoint for logs/exec (recorded as the kubelet endpoint). */
  daemonPort?: number;
}

function rfc3339(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const podKey = (p: Pod) => `${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`;

export class NodeAgent {
  readonly nodeName: string;
  private readonly client: KubeClient;
  private readonly lab: Lab;
  private readonly runtime: PodRuntime;
  private readonly log: (line: string) => void;
  private readonly daemonPort: number;
  private pods: Informer<Pod> | undefined;
  private readonly queue = new WorkQueue<string>({ concurrency: 8, maxDelayMs: 5000 });
  private heartbeat: NodeJS.Timeout | undefined;
  /** Pods we started, by key, with their uid: a recreated pod of the same name is a different pod. */
  private readonly running = new Map<string, { uid: string; podIP: string }>();
  private readonly statusWrites = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(o: NodeAgentOptions) {
    this.client = o.client;
    this.lab = o.lab;
    this.runtime = o.runtime;
    this.nodeName = o.nodeName;
    this.log = o.log;
    this.daemonPort = o.daemonPort ?? 10250;
  }

  /** The lab's view of this node (InternalIP, Pod CIDR). */
  private labNode() {
    const n = this.lab.nodes.find((x) => x.name === this.nodeName);
    if (!n) throw new Error(`node ${this.nodeName} is not part of lab ${this.lab.name}`);
    return n;
  }

  async start(): Promise<void> {
    await this.register();
    this.heartbeat = setInterval(() => void this.postStatus().catch((e: unknown) => this.log(`heartbeat: ${String(e)}`)), HEARTBEAT_MS);
    // Adopt what an earlier agent left running before looking at the API, so nothing restarts.
    const adopted = await this.runtime.adopt();
    if (adopted.length > 0) this.log(`adopted ${adopted.length} running pod(s)`);
    for (const sb of await this.lab.listPodSandboxes(this.nodeName)) {
      // As containerd does on restart: CNI CHECK each sandbox found; a broken one is torn down and recreated.
      try {
        await this.lab.checkPodSandbox(this.nodeName, sb.containerId);
        this.running.set(`uid:${sb.containerId}`, { uid: sb.containerId, podIP: sb.ip });
      } catch (e) {
        this.log(`sandbox ${sb.containerId} failed CNI CHECK (${e instanceof Error ? e.message : String(e)}); recreating it`);
        await this.teardown(sb.containerId);
      }
    }
    this.pods = Informer.forResource<Pod>(this.client, PODS, { fieldSelector: `spec.nodeName=${this.nodeName}` }, { name: `pods@${this.nodeName}` });
    this.pods.addEventHandler({
      onAdd: (p) => this.queue.add(podKey(p)),
      onUpdate: (_o, p) => this.queue.add(podKey(p)),
      onDelete: (p) => {
        // Force-deleted from the API while running here: tear down.
        this.queue.add(`deleted:${p.metadata.uid ?? ''}`);
      },
    });
    this.queue.run((key) => this.syncPod(key));
    this.pods.start();
    await this.pods.waitForSync(30_000);
    await this.cleanupOrphans();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.pods?.stop();
    await this.queue.shutdown();
    this.runtime.detach();
  }

  // -------------------------------------------------------------------------------------- the Node

  private nodeStatus(): Node['status'] {
    const ln = this.labNode();
    const now = rfc3339();
    const cond = (type: string, status: 'True' | 'False', reason: string, message: string): NodeCondition => ({
      type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: this.startedAt,
    });
    const memKi = `${Math.floor(totalmem() / 1024)}Ki`;
    const resources = { cpu: '2', memory: memKi, pods: '110', 'ephemeral-storage': '100Gi' };
    return {
      capacity: resources,
      allocatable: resources,
      conditions: [
        cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [{ type: 'InternalIP', address: ln.ip }, { type: 'Hostname', address: this.nodeName }],
      daemonEndpoints: { kubeletEndpoint: { Port: this.daemonPort } },
      nodeInfo: {
        machineID: this.lab.name, systemUUID: `${this.lab.name}-${this.nodeName}`, bootID: String(process.pid),
        kernelVersion: release(), osImage: `flatnet lab on ${hostname()}`, containerRuntimeVersion: 'flatnet://0.1.0',
        kubeletVersion: KUBELET_VERSION, kubeProxyVersion: KUBELET_VERSION, operatingSystem: 'linux', architecture: 'amd64',
      },
    };
  }

  private readonly startedAt = rfc3339();

  private async register(): Promise<void> {
    const ln = this.labNode();
    const labels = {
      'kubernetes.io/hostname': this.nodeName,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'beta.kubernetes.io/os': 'linux',
      'beta.kubernetes.io/arch': 'amd64',
    };
    try {
      const node = await this.client.get<Node>(NODES, undefined, this.nodeName);
      const merged = { ...(node.metadata.labels ?? {}), ...labels };
      await this.client.patch<Node>(NODES, undefined, this.nodeName, { metadata: { labels: merged }, spec: { podCIDR: node.spec?.podCIDR ?? ln.podCIDR, podCIDRs: node.spec?.podCIDRs ?? [ln.podCIDR] } }, { type: 'merge', fieldManager: 'flatnet-agent' });
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === 'NotFound')) throw e;
      await this.client.create<Node>(NODES, undefined, {
        apiVersion: 'v1', kind: 'Node', metadata: { name: this.nodeName, labels },
        spec: { podCIDR: ln.podCIDR, podCIDRs: [ln.podCIDR] },
      }, { fieldManager: 'flatnet-agent' });
    }
    await this.postStatus();
  }

  private async postStatus(): Promise<void> {
    if (this.stopped) return;
    await this.client.patch<Node>(NODES, undefined, this.nodeName, { status: this.nodeStatus() }, { type: 'merge', subresource: 'status', fieldManager: 'flatnet-agent' });
  }

  // ---------------------------------------------------------------------------------------- pods

  private async cleanupOrphans(): Promise<void> {
    const wanted = new Set((this.pods?.list() ?? []).map((p) => p.metadata.uid ?? ''));
    for (const sb of await this.lab.listPodSandboxes(this.nodeName)) {
      if (!wanted.has(sb.containerId)) {
        this.log(`removing orphaned sandbox ${sb.containerId}`);
        await this.teardown(sb.containerId);
      }
    }
  }

  private async teardown(uid: string, graceSeconds?: number): Promise<void> {
    await this.runtime.removePod(uid, graceSeconds !== undefined ? { gracePeriodSeconds: graceSeconds } : {}).catch(() => undefined);
    await this.lab.deletePodSandbox(this.nodeName, uid);
    this.running.delete(`uid:${uid}`);
  }

  private async syncPod(key: string): Promise<void> {
    if (key.startsWith('deleted:')) {
      const uid = key.slice('deleted:'.length);
      if (uid && !(this.pods?.list() ?? []).some((p) => p.metadata.uid === uid)) await this.teardown(uid, 0);
      return;
    }
    const [namespace, name] = key.split('/') as [string, string];
    const pod = this.pods?.getByName(namespace, name);
    if (!pod) return;
    const uid = pod.metadata.uid ?? '';
    if (pod.metadata.deletionTimestamp) {
      const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
      await this.teardown(uid, grace);
      try {
        await this.client.delete(PODS, namespace, name, { gracePeriodSeconds: 0, preconditions: { uid } });
      } catch (e) {
        if (!(e instanceof ApiError && (e.reason === 'NotFound' || e.reason === 'Conflict'))) throw e;
      }
      return;
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') {
      if (this.running.has(`uid:${uid}`) && !this.runtime.listPods().includes(uid)) await this.lab.deletePodSandbox(this.nodeName, uid);
      return;
    }
    if (this.runtime.listPods().includes(uid)) return; // running (or adopted): the runtime reports its status
    const sandbox = await this.lab.createPodSandbox(this.nodeName, uid, name, namespace);
    this.running.set(`uid:${uid}`, { uid, podIP: sandbox.ip });
    const hostIP = this.labNode().ip;
    await this.runtime.startPod({
      pod: structuredClone(pod) as Pod,
      sandbox: { netns: sandbox.netns, podIPs: [sandbox.ip], hostIP, nodeName: this.nodeName },
      env: await this.envSources(pod),
    });
  }

  /**
   * What the pod's env may reference: the ConfigMaps and Secrets it names (read now, as the kubelet does at
   * container start) and the `kubernetes` Service variables every pod gets.
   */
  private async envSources(pod: Pod): Promise<{ configMaps: Record<string, Record<string, string> | undefined>; secrets: Record<string, Record<string, string> | undefined>; serviceEnv: Record<string, string> }> {
    const ns = pod.metadata.namespace ?? 'default';
    const cmNames = new Set<string>();
    const secretNames = new Set<string>();
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      for (const e of c.env ?? []) {
        if (e.valueFrom?.configMapKeyRef) cmNames.add(e.valueFrom.configMapKeyRef.name);
        if (e.valueFrom?.secretKeyRef) secretNames.add(e.valueFrom.secretKeyRef.name);
      }
      for (const f of c.envFrom ?? []) {
        if (f.configMapRef) cmNames.add(f.configMapRef.name);
        if (f.secretRef) secretNames.add(f.secretRef.name);
      }
    }
    const read = async <T,>(r: ResourceInfo, name: string): Promise<T | undefined> => {
      try {
        return await this.client.get(r, ns, name) as T;
      } catch (e) {
        if (e instanceof ApiError && e.reason === 'NotFound') return undefined;
        throw e;
      }
    };
    const configMaps: Record<string, Record<string, string> | undefined> = {};
    for (const name of cmNames) configMaps[name] = (await read<{ data?: Record<string, string> }>(resource('ConfigMap'), name))?.data ?? undefined;
    const secrets: Record<string, Record<string, string> | undefined> = {};
    for (const name of secretNames) {
      const data = (await read<{ data?: Record<string, string> }>(resource('Secret'), name))?.data;
      secrets[name] = data ? Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])) : undefined;
    }
    const ip = kubernetesServiceIP(this.lab.serviceCIDR);
    const serviceEnv = {
      KUBERNETES_SERVICE_HOST: ip, KUBERNETES_SERVICE_PORT: '443', KUBERNETES_SERVICE_PORT_HTTPS: '443',
      KUBERNETES_PORT: `tcp://${ip}:443`, KUBERNETES_PORT_443_TCP: `tcp://${ip}:443`, KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
      KUBERNETES_PORT_443_TCP_PORT: '443', KUBERNETES_PORT_443_TCP_ADDR: ip,
    };
    return { configMaps, secrets, serviceEnv };
  }

  /** The runtime and uid of a pod of this node that the runtime knows (for logs/exec/attach). */
  locate(namespace: string, name: string): { runtime: PodRuntime; uid: string; containers: string[] } | undefined {
    const pod = this.pods?.getByName(namespace, name);
    const uid = pod?.metadata.uid;
    if (!pod || !uid || !this.runtime.listPods().includes(uid)) return undefined;
    return { runtime: this.runtime, uid, containers: (pod.spec?.containers ?? []).map((c) => c.name) };
  }

  /** Called by the runtime whenever a pod's status changes: written through the status subresource. */
  onRuntimeStatus(uid: string, status: PodStatus): void {
    const pod = (this.pods?.list() ?? []).find((p) => p.metadata.uid === uid);
    if (!pod || pod.metadata.deletionTimestamp) return;
    const entry = this.running.get(`uid:${uid}`);
    const hostIP = this.labNode().ip;
    const full: PodStatus = {
      ...status,
      hostIP,
      hostIPs: [{ ip: hostIP }],
      ...(entry ? { podIP: entry.podIP, podIPs: [{ ip: entry.podIP }] } : {}),
      ...(pod.status?.startTime ? { startTime: pod.status.startTime } : { startTime: rfc3339() }),
      ...(pod.status?.qosClass ? { qosClass: pod.status.qosClass } : {}),
    };
    // Keep the scheduler's PodScheduled condition.
    const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (scheduled && !(full.conditions ?? []).some((c) => c.type === 'PodScheduled')) full.conditions = [...(full.conditions ?? []), scheduled];
    const key = podKey(pod);
    const previous = this.statusWrites.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.writeStatus(pod, full)).catch((e: unknown) => this.log(`status of ${key}: ${String(e)}`));
    this.statusWrites.set(key, next);
  }

  private async writeStatus(pod: Pod, status: PodStatus): Promise<void> {
    if (this.stopped) return;
    await this.client.patch<Pod>(PODS, pod.metadata.namespace, pod.metadata.name ?? '', { status }, { type: 'merge', subresource: 'status', fieldManager: 'flatnet-agent' });
  }
}
