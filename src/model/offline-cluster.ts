// An offline cluster: manifests (objects as parsed from YAML/JSON) become the ClusterSnapshot a live
// `flatnet up` cluster would show after `kubectl apply -f`, with no root and no running cluster. Pure.
//
// Every step is flatnet's own code where a pure version exists, run in the order the live cluster runs it:
//   the API server's create path    prepareForCreate -> applyDefaults -> (Service allocation) -> validateCreate
//   the bootstrap objects           namespaces, `kubernetes` Service + its EndpointSlice (src/server/api-server.ts)
//   flatnet up's add-ons            kube-dns + coredns, the flatnet ingress controller (src/cli/cluster-commands.ts)
//   node registration + IPAM        node-1..N on the underlay from .11, Pod CIDRs from reconcileNodeIpam
//   ClusterIP / NodePort            the API server's allocator (src/net/service-allocation.ts), requested values first
//   LoadBalancer IPs                PoolAllocator over the pool, as src/controllers/service-lb-controller.ts
//   Deployments, ReplicaSets,       reconcileDeployment / reconcileReplicaSet / reconcileDaemonSet
//   DaemonSets
//   scheduling                      schedulePods, one batch per workload in manifest order
//   pod addresses                   the CNI host-local plugin's order: .2 upwards in the node's CIDR (.1 is cni0)
//   pod status                      podPhase / podConditions with every container running and ready
//   EndpointSlices                  reconcileEndpointSlices
//   Ingress status                  the ingress controller's class rules and its LoadBalancer address
// Random choices of the live cluster (uids, generateName suffixes) are derived from hashes, so the same
// manifests always give the same snapshot.
import { fieldErrorMessage, fieldErrors, type FieldError } from '../api/errors.ts';
import { applyDefaults } from '../api/defaults/index.ts';
import { resourceFor } from '../api/resources.ts';
import { generateNameSuffix, prepareForCreate } from '../api/strategy.ts';
import type {
  Container, ContainerStatus, DaemonSet, Deployment, EndpointSlice, Ingress, IngressClass, KubeObject, LabelSelector, Namespace,
  NetworkPolicy, Node, Pod, PodSpec, PodTemplateSpec, ReplicaSet, Service,
} from '../api/types.ts';
import { validateCreate } from '../api/validation/index.ts';
import { reconcileDaemonSet } from '../controllers/core/daemonset.ts';
import { reconcileDeployment } from '../controllers/core/deployment.ts';
import { reconcileEndpointSlices } from '../controllers/core/endpointslice.ts';
import { DEFAULT_LOAD_BALANCER_CLASS, managesService, poolRanges } from '../controllers/core/load-balancer.ts';
import { computeTemplateHash } from '../controllers/core/hash.ts';
import { reconcileNodeIpam } from '../controllers/core/node-ipam.ts';
import type { Action } from '../controllers/core/actions.ts';
import { controllerOwnerRef } from '../controllers/core/pod-util.ts';
import { reconcileReplicaSet } from '../controllers/core/replicaset.ts';
import { schedulePods } from '../controllers/core/scheduler.ts';
import { labelSelectorMatcher } from '../controllers/core/selectors.ts';
import { FLATNET_CLASS, isIngressClaimed } from '../ingress/core/ingress-class.ts';
import { loadBalancerFromService } from '../ingress/core/routing-table.ts';
import { LabError } from '../lab/core/errors.ts';
import { fnv1a } from '../lab/core/names.ts';
import { EXTERNAL_HOST, FIRST_NODE_HOST, externalAddress, hostAddress, validateClusterSpec } from '../lab/core/spec.ts';
import {
  PoolAllocator, ServiceIPAllocator, clusterDNSServiceIP, kubernetesServiceIP,
} from '../net/allocators.ts';
import { ServiceIPAllocator as ServiceAllocator } from '../net/service-allocation.ts';
import { cidrContains, cidrSize, cidrsOverlap, formatIPv4, nthAddress, parseCidr, tryParseCidr, tryParseIPv4, type Cidr } from '../net/ipv4.ts';
import { isRestartableInitContainer, podConditions, podPhase } from '../runtime/core/pod-status.ts';
import { mulberry32 } from './seeded-random.ts';
import { clusterDNSObjects, COREDNS_REPLICAS, INGRESS_CLASS, INGRESS_NAMESPACE, INGRESS_REPLICAS, INGRESS_SERVICE, ingressObjects } from '../addons/system-objects.ts';
import { ModelError, type Backend, type ClusterSnapshot, type ProxyMode } from './types.ts';

export interface OfflineClusterOptions {
  /** The cluster's name (default `offline`): namespace, link and service-account paths derive from it. */
  name?: string;
  /** How many nodes to make, node-1..node-N as `flatnet up` names them (default 3; 1..50). Ignored when the manifests hold Nodes. */
  nodes?: number;
  /** Default host-gw. */
  backend?: Backend;
  /** Default nftables. */
  proxyMode?: ProxyMode;
  /** The cluster Pod CIDR (default 10.244.0.0/16), split into one /24 per node. */
  podCIDR?: string;
  /** Default 10.96.0.0/12. */
  serviceCIDR?: string;
  /** The LoadBalancer pool (default 172.30.255.0/24, flatnet up's). */
  lbPool?: string;
  /** The underlay the nodes' eth0 sit on (default 172.31.0.0/24, the lab's slot 0). */
  underlay?: string;
  /**
   * What `flatnet up` adds (default true): the bootstrap namespaces, the `kubernetes` Service, kube-dns with
   * its coredns pods, and the ingress controller (namespace, IngressClass `flatnet`, LoadBalancer Service, pods).
   */
  includeSystem?: boolean;
  /** creationTimestamp and startTime of every object (RFC 3339; default OFFLINE_TIME). */
  now?: string;
}

export interface OfflineCluster {
  snapshot: ClusterSnapshot;
  /** What was assumed or created, one line each (nodes, allocations, expansions, auto-created namespaces). */
  notes: string[];
  /** Objects of kinds that do not shape the data plane, as `Kind namespace/name`. */
  ignored: string[];
}

export const OFFLINE_DEFAULTS = {
  name: 'offline',
  nodes: 3,
  backend: 'host-gw' as Backend,
  proxyMode: 'nftables' as ProxyMode,
  podCIDR: '10.244.0.0/16',
  serviceCIDR: '10.96.0.0/12',
  lbPool: '172.30.255.0/24',
  underlay: '172.31.0.0/24',
} as const;

/** The fixed clock of an offline cluster: every creationTimestamp, startTime and condition time. */
export const OFFLINE_TIME = '2024-01-01T00:00:00Z';
/** The API server's port on the advertise address (the `kubernetes` Service's target port). */
export const API_SERVER_PORT = 6443;
export const NODE_PORT_RANGE = '30000-32767';
const NODE_MASK_SIZE = 24;
const MAX_NODES = 50;
/** The spec.loadBalancerClass flatnet's LoadBalancer controller answers to (besides none). */

/** The kinds this module understands and the apiVersion each must carry (when it carries one). */
const KIND_VERSIONS: Readonly<Record<string, string>> = {
  Namespace: 'v1', Node: 'v1', Pod: 'v1', Service: 'v1',
  Deployment: 'apps/v1', ReplicaSet: 'apps/v1', StatefulSet: 'apps/v1', DaemonSet: 'apps/v1',
  EndpointSlice: 'discovery.k8s.io/v1',
  NetworkPolicy: 'networking.k8s.io/v1', Ingress: 'networking.k8s.io/v1', IngressClass: 'networking.k8s.io/v1',
};
const CLUSTER_SCOPED = new Set(['Namespace', 'Node', 'IngressClass']);

// ---------------------------------------------------------------------------------------------- helpers

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function fail(message: string, cause?: unknown): never {
  throw new ModelError('InvalidSnapshot', message, cause === undefined ? undefined : { cause });
}

function nsName(obj: KubeObject): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name ?? ''}` : (obj.metadata.name ?? '');
}

/** `Kind namespace/name` (namespaced kinds default to `default`), as notes and errors name objects. */
function label(kind: string, obj: KubeObject): string {
  const name = obj.metadata.name || (obj.metadata.generateName ? `${obj.metadata.generateName}*` : '<unnamed>');
  if (CLUSTER_SCOPED.has(kind)) return `${kind} ${name}`;
  return `${kind} ${obj.metadata.namespace || 'default'}/${name}`;
}

function describe(obj: KubeObject): string {
  return label(obj.kind ?? 'object', obj);
}

function invalid(what: string, errors: readonly FieldError[]): never {
  fail(`${what} is invalid: ${errors.map(fieldErrorMessage).join(', ')}`);
}

/** 32 hex digits from four FNV-1a hashes of `text`, shaped as a UUID (version nibble 8: custom). */
export function offlineUid(kind: string, namespace: string | undefined, name: string): string {
  const text = `${kind}/${namespace ?? ''}/${name}`;
  const hex = [0x811c9dc5, 0x01234567, 0x89abcdef, 0x0badc0de].map((seed) => fnv1a(text, seed).toString(16).padStart(8, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${'89ab'[parseInt(hex[16] ?? '0', 16) & 3]}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

// ------------------------------------------------------------------------------------------- the state

interface Source {
  obj: KubeObject;
  /** Made by `flatnet up` (a user object of the same identity replaces it). */
  system: boolean;
}

interface PodEntry {
  pod: Pod;
  origin: string;
  /** A manifest's status.podIP (Pod objects only). */
  requestedIP?: string;
}

interface NodeInfo {
  node: Node;
  ip: string;
  cidr: Cidr;
  ready: boolean;
  used: Set<string>;
  next: number;
}

class Builder {
  readonly notes: string[] = [];
  readonly ignored: string[] = [];
  readonly now: string;
  readonly nowMs: number;
  /** Identities taken: `Kind/namespace/name`. */
  readonly #taken = new Set<string>();
  readonly #generated = new Map<string, number>();

  constructor(now: string) {
    const ms = Date.parse(now);
    if (Number.isNaN(ms)) fail(`option now ${JSON.stringify(now)} is not an RFC 3339 time`);
    this.now = now;
    this.nowMs = ms;
  }

  /** Claims an identity; a second object with it is an error naming it and where it came from. */
  claim(kind: string, namespace: string | undefined, name: string, origin: string): void {
    const key = `${kind}/${namespace ?? ''}/${name}`;
    if (this.#taken.has(key)) {
      const self = `${kind} ${namespace ? `${namespace}/` : ''}${name}`;
      fail(`${self}${origin === self ? '' : ` (from ${origin})`} is defined twice`);
    }
    this.#taken.add(key);
  }

  /** The server's generateName: prefix + 5 characters, from a PRNG seeded by the prefix and its use count. */
  generateName(kind: string, namespace: string | undefined, prefix: string): string {
    const base = `${kind}/${namespace ?? ''}/${prefix}`;
    for (let attempt = 0; attempt < 1000; attempt++) {
      const n = this.#generated.get(base) ?? 0;
      this.#generated.set(base, n + 1);
      const name = prefix + generateNameSuffix(mulberry32(fnv1a(`${base}#${n}`)));
      if (!this.#taken.has(`${kind}/${namespace ?? ''}/${name}`)) return name;
    }
    return fail(`no free name for generateName ${prefix} in ${namespace ?? 'the cluster'}`);
  }

  /**
   * The first half of the API server's create path: namespace, name from generateName (the identity is
   * claimed here), system metadata (uid from a hash, the fixed clock), defaults.
   */
  prepare<T extends KubeObject>(kind: string, input: KubeObject, origin: string): T {
    const obj = clone(input);
    if (!isRecord(obj.metadata)) obj.metadata = {};
    if (CLUSTER_SCOPED.has(kind)) delete obj.metadata.namespace;
    else obj.metadata.namespace = obj.metadata.namespace || 'default';
    const ns = obj.metadata.namespace;
    if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = this.generateName(kind, ns, obj.metadata.generateName);
    const name = obj.metadata.name ?? '';
    if (name !== '') this.claim(kind, ns, name, origin);
    const out = prepareForCreate(resourceFor(kind), obj, { uid: offlineUid(kind, ns, name), now: this.now });
    return applyDefaults(kind, out) as T;
  }

  /** The second half: validation. Throws InvalidSnapshot naming the object (and where it came from) and the field errors. */
  check<T extends KubeObject>(kind: string, obj: T, origin: string): T {
    const errors = validateCreate(kind, obj);
    if (errors.length > 0) {
      const self = label(kind, obj);
      invalid(origin === self ? self : `${self} (from ${origin})`, errors);
    }
    return obj;
  }

  admit<T extends KubeObject>(kind: string, input: KubeObject, origin: string): T {
    return this.check(kind, this.prepare<T>(kind, input, origin), origin);
  }
}

// ------------------------------------------------------------------------------------------ the input

function flatten(objects: readonly unknown[]): KubeObject[] {
  const out: KubeObject[] = [];
  const take = (doc: unknown, where: string): void => {
    if (doc === null || doc === undefined) return;
    if (!isRecord(doc) || typeof doc['kind'] !== 'string' || doc['kind'] === '') fail(`${where}: not a Kubernetes object (no kind)`);
    const kind = doc['kind'];
    if (kind === 'List' || (kind.endsWith('List') && Array.isArray(doc['items']))) {
      const items = Array.isArray(doc['items']) ? (doc['items'] as unknown[]) : [];
      items.forEach((item, j) => take(item, `${where} item ${j}`));
      return;
    }
    if (doc['metadata'] !== undefined && !isRecord(doc['metadata'])) fail(`${where} (${kind}): metadata is not an object`);
    out.push({ ...doc, metadata: isRecord(doc['metadata']) ? { ...doc['metadata'] } : {} } as KubeObject);
  };
  objects.forEach((doc, i) => take(doc, `object ${i}`));
  return out;
}

function identity(obj: KubeObject): string {
  const kind = obj.kind ?? '';
  const ns = CLUSTER_SCOPED.has(kind) ? '' : obj.metadata.namespace || 'default';
  return `${kind}/${ns}/${obj.metadata.name ?? ''}`;
}

// ------------------------------------------------------------------------------------ flatnet up's objects

interface SystemContext {
  name: string;
  serviceCIDR: string;
  underlay: string;
}

/** What the API server bootstraps (src/server/api-server.ts bootstrap). */
function bootstrapObjects(c: SystemContext): KubeObject[] {
  return [
    ...['default', 'kube-system', 'kube-public', 'kube-node-lease'].map((name): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
    {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { type: 'ClusterIP', clusterIP: kubernetesServiceIP(c.serviceCIDR), ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: API_SERVER_PORT }], sessionAffinity: 'None' },
    },
  ];
}

/** The labels the node agent registers its Node with (src/agent/node-agent.ts register). */
function nodeLabels(name: string): Record<string, string> {
  return {
    'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux', 'beta.kubernetes.io/arch': 'amd64',
  };
}

/** The status the node agent posts (src/agent/node-agent.ts nodeStatus), with a fixed memory size. */
function agentNodeStatus(name: string, ip: string, now: string): NonNullable<Node['status']> {
  const cond = (type: string, status: 'True' | 'False', reason: string, message: string) => ({
    type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: now,
  });
  const resources = { cpu: '2', memory: '4030000Ki', pods: '110', 'ephemeral-storage': '100Gi' };
  return {
    capacity: { ...resources },
    allocatable: { ...resources },
    conditions: [
      cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
    ],
    addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }],
  };
}

// --------------------------------------------------------------------------------------- StatefulSets

interface StatefulSetLike extends KubeObject {
  spec?: { replicas?: number; serviceName?: string; selector?: LabelSelector; template?: PodTemplateSpec };
}

/**
 * StatefulSet pods as upstream's controller makes them: `<name>-<ordinal>`, hostname = pod name, subdomain =
 * spec.serviceName, the pod-name / pod-index / controller-revision-hash labels. flatnet's API server does not
 * serve StatefulSets; this expansion is for manifests written for real clusters.
 */
function statefulSetPods(b: Builder, input: KubeObject, origin: string): Pod[] {
  const sts = clone(input) as StatefulSetLike;
  sts.metadata.namespace = sts.metadata.namespace || 'default';
  const name = sts.metadata.name ?? '';
  const metaErrors = validateCreate('StatefulSet', sts);
  if (metaErrors.length > 0) invalid(origin, metaErrors);
  b.claim('StatefulSet', sts.metadata.namespace, name, origin);
  sts.metadata.uid = offlineUid('StatefulSet', sts.metadata.namespace, name);
  const spec = isRecord(sts.spec) ? sts.spec : {};
  const template: PodTemplateSpec = isRecord(spec.template) ? spec.template : {};
  const labels = template.metadata?.labels ?? {};
  if (!isRecord(spec.selector) || Object.keys(labels).length === 0) invalid(origin, [fieldErrors.required('spec.selector')]);
  if (!labelSelectorMatcher(spec.selector)(labels)) {
    invalid(origin, [fieldErrors.invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`')]);
  }
  const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1;
  if (!Number.isInteger(replicas) || replicas < 0) invalid(origin, [fieldErrors.invalid('spec.replicas', replicas, 'must be greater than or equal to 0')]);
  const revision = `${name}-${computeTemplateHash(template)}`;
  const pods: Pod[] = [];
  for (let i = 0; i < replicas; i++) {
    const podName = `${name}-${i}`;
    const podSpec: PodSpec = clone(template.spec ?? { containers: [] });
    podSpec.hostname = podName;
    if (spec.serviceName) podSpec.subdomain = spec.serviceName;
    pods.push({
      apiVersion: 'v1', kind: 'Pod',
      metadata: {
        name: podName,
        namespace: sts.metadata.namespace,
        labels: { ...labels, 'controller-revision-hash': revision, 'statefulset.kubernetes.io/pod-name': podName, 'apps.kubernetes.io/pod-index': String(i) },
        ...(template.metadata?.annotations ? { annotations: clone(template.metadata.annotations) } : {}),
        ownerReferences: [controllerOwnerRef(sts, 'apps/v1', 'StatefulSet')],
      },
      spec: podSpec,
    });
  }
  b.notes.push(`${origin}: ${replicas} pod(s) ${name}-0..${replicas - 1} (expanded offline: flatnet's API server does not serve StatefulSets)`);
  return pods;
}

// ------------------------------------------------------------------------------------------- pod status

function runningStatus(c: Container, now: string): ContainerStatus {
  return { name: c.name, state: { running: { startedAt: now } }, lastState: {}, ready: true, restartCount: 0, image: c.image ?? '', imageID: '', started: true };
}

function completedInitStatus(c: Container, now: string): ContainerStatus {
  if (isRestartableInitContainer(c)) return runningStatus(c, now);
  return {
    name: c.name, state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: now, finishedAt: now } }, lastState: {},
    ready: true, restartCount: 0, image: c.image ?? '', imageID: '', started: false,
  };
}

/** The status the node agent reports for a pod whose containers all started and are ready. */
function runningPodStatus(pod: Pod, hostIP: string, podIP: string, now: string): NonNullable<Pod['status']> {
  const spec = pod.spec ?? { containers: [] };
  const initStatuses = (spec.initContainers ?? []).map((c) => completedInitStatus(c, now));
  const statuses = spec.containers.map((c) => runningStatus(c, now));
  const phase = podPhase(spec, initStatuses, statuses, false);
  const conditions = podConditions({ spec, phase, initStatuses, statuses, sandboxReady: true, previous: pod.status?.conditions ?? [], nowIso: now });
  return {
    phase,
    conditions,
    hostIP,
    hostIPs: [{ ip: hostIP }],
    podIP,
    podIPs: [{ ip: podIP }],
    startTime: now,
    ...(initStatuses.length > 0 ? { initContainerStatuses: initStatuses } : {}),
    containerStatuses: statuses,
    ...(pod.status?.qosClass ? { qosClass: pod.status.qosClass } : {}),
  };
}

// ---------------------------------------------------------------------------------------------- the build

function resolveOptions(options: OfflineClusterOptions): Required<OfflineClusterOptions> {
  const o = {
    name: options.name ?? OFFLINE_DEFAULTS.name,
    nodes: options.nodes ?? OFFLINE_DEFAULTS.nodes,
    backend: options.backend ?? OFFLINE_DEFAULTS.backend,
    proxyMode: options.proxyMode ?? OFFLINE_DEFAULTS.proxyMode,
    podCIDR: options.podCIDR ?? OFFLINE_DEFAULTS.podCIDR,
    serviceCIDR: options.serviceCIDR ?? OFFLINE_DEFAULTS.serviceCIDR,
    lbPool: options.lbPool ?? OFFLINE_DEFAULTS.lbPool,
    underlay: options.underlay ?? OFFLINE_DEFAULTS.underlay,
    includeSystem: options.includeSystem ?? true,
    now: options.now ?? OFFLINE_TIME,
  };
  if (!Number.isInteger(o.nodes) || o.nodes < 1 || o.nodes > MAX_NODES) fail(`option nodes must be an integer between 1 and ${MAX_NODES}, not ${String(o.nodes)}`);
  if (o.proxyMode !== 'nftables' && o.proxyMode !== 'iptables') fail(`option proxyMode must be nftables or iptables, not ${JSON.stringify(o.proxyMode)}`);
  try {
    // The lab's own rules (cluster name, backend, CIDRs that must not overlap each other or the underlay).
    validateClusterSpec({ name: o.name, nodes: [], backend: o.backend, podCIDR: o.podCIDR, serviceCIDR: o.serviceCIDR, lbPool: o.lbPool });
  } catch (e) {
    if (e instanceof LabError) fail(`invalid option: ${e.message}`, e);
    throw e;
  }
  const underlay = tryParseCidr(o.underlay, { strict: true });
  if (underlay === undefined || cidrSize(underlay) <= EXTERNAL_HOST) fail(`option underlay ${JSON.stringify(o.underlay)} must be a network of /24 or wider`);
  for (const [what, text] of [['podCIDR', o.podCIDR], ['serviceCIDR', o.serviceCIDR]] as const) {
    if (cidrsOverlap(underlay, parseCidr(text))) fail(`invalid option: underlay ${o.underlay} overlaps ${what} ${text}`);
  }
  try {
    new ServiceIPAllocator(o.serviceCIDR);
  } catch (e) {
    fail(`invalid option: ${e instanceof Error ? e.message : String(e)}`, e);
  }
  return o;
}


type Options = Required<OfflineClusterOptions>;

/** flatnet up's objects first (in the order it creates them), then the manifests' in order. */
function collectSources(b: Builder, objects: readonly unknown[], o: Options): Source[] {
  const user: Source[] = [];
  const seen = new Set<string>();
  for (const obj of flatten(objects)) {
    const kind = obj.kind ?? '';
    const want = KIND_VERSIONS[kind];
    if (want === undefined) {
      b.ignored.push(`${kind} ${nsName(obj)}`.trimEnd());
      continue;
    }
    if (obj.apiVersion !== undefined && obj.apiVersion !== want) {
      fail(`${describe(obj)}: the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${want})`);
    }
    if (obj.metadata.name) {
      if (seen.has(identity(obj))) fail(`${describe(obj)} is defined twice`);
      seen.add(identity(obj));
    }
    user.push({ obj, system: false });
  }
  if (!o.includeSystem) return user;
  const sys: SystemContext = { name: o.name, serviceCIDR: o.serviceCIDR, underlay: o.underlay };
  const sources: Source[] = [];
  const addons = [...clusterDNSObjects({ cluster: o.name, serviceCIDR: o.serviceCIDR, externalIP: externalAddress(o.underlay) }), ...ingressObjects({ cluster: o.name })];
  for (const obj of [...bootstrapObjects(sys), ...addons]) {
    if (seen.has(identity(obj))) b.notes.push(`${describe(obj)}: the manifests' object replaces flatnet up's`);
    else sources.push({ obj, system: true });
  }
  b.notes.push(`system (flatnet up): namespaces default, kube-system, kube-public, kube-node-lease; Service default/kubernetes ` +
    `${kubernetesServiceIP(o.serviceCIDR)} -> ${hostAddress(o.underlay)}:${API_SERVER_PORT}; kube-system/kube-dns ${clusterDNSServiceIP(o.serviceCIDR)} ` +
    `with ${COREDNS_REPLICAS} coredns pods; the ingress controller (namespace ${INGRESS_NAMESPACE}, IngressClass ${INGRESS_CLASS}, LoadBalancer Service, ${INGRESS_REPLICAS} pods)`);
  return [...sources, ...user];
}

/** Declared namespaces, then the ones objects use but nobody declares. */
function buildNamespaces(b: Builder, sources: readonly Source[]): Namespace[] {
  const namespaces = new Map<string, Namespace>();
  for (const s of sources) {
    if (s.obj.kind !== 'Namespace') continue;
    const ns = b.admit<Namespace>('Namespace', s.obj, describe(s.obj));
    namespaces.set(ns.metadata.name ?? '', ns);
  }
  const used = sources.filter((s) => !CLUSTER_SCOPED.has(s.obj.kind ?? '')).map((s) => s.obj.metadata.namespace || 'default');
  for (const name of [...new Set(used)].sort(compareStrings)) {
    if (namespaces.has(name)) continue;
    namespaces.set(name, b.admit<Namespace>('Namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, `Namespace ${name}`));
    b.notes.push(`Namespace ${name}: created (objects use it and no manifest declares it; a live API server would refuse them)`);
  }
  return [...namespaces.values()];
}

/**
 * Nodes as `flatnet up` registers them (or the manifests' Nodes): each joins the underlay at the lowest free
 * address from .11, gets the agent's status unless its manifest has one, and its Pod CIDR from the IPAM
 * controller, one node at a time in the order they register.
 */
function buildNodes(b: Builder, sources: readonly Source[], o: Options, nodesGiven: boolean): NodeInfo[] {
  const inputs: KubeObject[] = sources.filter((s) => s.obj.kind === 'Node').map((s) => s.obj);
  const generated = inputs.length === 0;
  if (generated) {
    for (let i = 1; i <= o.nodes; i++) inputs.push({ apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${i}`, labels: nodeLabels(`node-${i}`) } });
  } else if (nodesGiven) {
    b.notes.push(`option nodes (${o.nodes}) ignored: the manifests define ${inputs.length} Node(s)`);
  }
  const underlay = parseCidr(o.underlay);
  const internalIP = (n: KubeObject): string | undefined => (n as Node).status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  const taken = new Set(inputs.map(internalIP).filter((ip): ip is string => ip !== undefined));
  const nodes: NodeInfo[] = [];
  let cursor: number | undefined;
  for (const input of inputs) {
    const node = b.admit<Node>('Node', input, describe(input));
    const name = node.metadata.name ?? '';
    let ip = internalIP(node);
    if (ip === undefined) {
      for (let host = FIRST_NODE_HOST; host < EXTERNAL_HOST && ip === undefined; host++) {
        const candidate = formatIPv4(nthAddress(underlay, host));
        if (!taken.has(candidate)) ip = candidate;
      }
      if (ip === undefined) fail(`no free node address left in the underlay ${o.underlay}`);
      taken.add(ip);
    } else if (nodes.some((n) => n.ip === ip)) {
      fail(`Node ${name}: InternalIP ${ip} is already another node's`);
    }
    const agent = agentNodeStatus(name, ip, o.now);
    const given = node.status ?? {};
    const addresses = [...(given.addresses ?? [])];
    for (const a of agent.addresses ?? []) if (!addresses.some((x) => x.type === a.type)) addresses.push(a);
    node.status = { ...agent, ...given, addresses, conditions: given.conditions ?? agent.conditions ?? [] };
    const ipam = reconcileNodeIpam({
      nodes: [...nodes.map((n) => n.node), node], clusterCIDR: o.podCIDR, nodeCIDRMaskSize: NODE_MASK_SIZE, ...(cursor !== undefined ? { cursor } : {}),
    });
    cursor = ipam.cursor;
    const cidrText = ipam.assignments[name];
    if (cidrText === undefined) fail(`Node ${name}: no Pod CIDR left in ${o.podCIDR} (the IPAM controller gives each node a /${NODE_MASK_SIZE})`);
    const cidr = tryParseCidr(cidrText);
    if (cidr === undefined) fail(`Node ${name}: Pod CIDR ${cidrText} is not an IPv4 CIDR`);
    node.spec = { ...(node.spec ?? {}), podCIDR: cidrText, podCIDRs: [cidrText] };
    const ready = (node.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
    nodes.push({ node, ip, cidr, ready, used: new Set(), next: 2 });
  }
  b.notes.push(`nodes (${generated ? 'generated' : 'from the manifests'}, ${o.backend}): ` +
    nodes.map((n) => `${n.node.metadata.name ?? ''} ${n.ip} pods ${n.node.spec?.podCIDR ?? ''}${n.ready ? '' : ' (NotReady)'}`).join(', '));
  return nodes;
}

/** Services through the API server's allocation and validation, then the LoadBalancer controller's addresses. */
function buildServices(b: Builder, sources: readonly Source[], o: Options): Service[] {
  // ClusterIPs and node ports by the API server's own allocator, in two passes over all Services: every value a
  // manifest asks for is reserved first, whatever the order; then the rest are allocated in creation order.
  const allocation = new ServiceAllocator({ serviceCIDR: o.serviceCIDR, nodePortRange: NODE_PORT_RANGE });
  const prepared = sources.filter((s) => s.obj.kind === 'Service').map((s) => ({ svc: b.prepare<Service>('Service', s.obj, describe(s.obj)), origin: describe(s.obj) }));
  for (const p of prepared) {
    const errors = allocation.reserve(p.svc);
    if (errors.length > 0) invalid(p.origin, errors);
  }
  const services: Service[] = [];
  for (const p of prepared) {
    const errors = allocation.fill(p.svc);
    if (errors.length > 0) invalid(p.origin, errors);
    services.push(b.check('Service', p.svc, p.origin));
  }
  const pool = new PoolAllocator(poolRanges([o.lbPool]));
  const lb = services.filter((svc) => managesService(svc, DEFAULT_LOAD_BALANCER_CLASS));
  const address = new Map<Service, string>();
  for (const svc of lb) {
    const requested = svc.spec?.loadBalancerIP;
    if (requested === undefined || requested === '') continue;
    if (pool.allocate(requested) === 'allocated') address.set(svc, requested);
    else b.notes.push(`${describe(svc)}: loadBalancerIP ${requested} is not available in the pool ${o.lbPool}: no address (the controller's AllocationFailed)`);
  }
  for (const svc of lb) {
    if ((svc.spec?.loadBalancerIP ?? '') !== '') continue;
    const ip = pool.allocateNext();
    if (ip === undefined) b.notes.push(`${describe(svc)}: the LoadBalancer pool ${o.lbPool} is exhausted: no address`);
    else address.set(svc, ip);
  }
  for (const svc of services) {
    const ip = address.get(svc);
    if (ip !== undefined) svc.status = { ...(svc.status ?? {}), loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] } };
    const spec = svc.spec ?? {};
    const parts = [spec.type === 'ExternalName' ? `ExternalName -> ${spec.externalName ?? ''}` : `${spec.type ?? 'ClusterIP'}, ClusterIP ${spec.clusterIP ?? ''}`];
    const nodePorts = (spec.ports ?? []).filter((p) => p.nodePort !== undefined).map((p) => `${p.port}/${p.protocol ?? 'TCP'}:${p.nodePort ?? ''}`);
    if (nodePorts.length > 0) parts.push(`nodePorts ${nodePorts.join(' ')}`);
    if (spec.healthCheckNodePort !== undefined) parts.push(`healthCheckNodePort ${spec.healthCheckNodePort}`);
    if (ip !== undefined) parts.push(`LoadBalancer ${ip}`);
    b.notes.push(`${describe(svc)}: ${parts.join(', ')}`);
  }
  return services;
}

/** Pods from Pod objects and from the workload controllers: one batch per source object, in order. */
function buildPods(b: Builder, sources: readonly Source[], nodes: readonly Node[]): PodEntry[][] {
  const batches: PodEntry[][] = [];
  const created = (actions: readonly Action[], kind: string): KubeObject[] =>
    actions.flatMap((a) => (a.verb === 'create' && a.object.kind === kind ? [a.object] : []));
  const replicaSetPods = (rs: ReplicaSet, origin: string): Pod[] =>
    created(reconcileReplicaSet({ replicaSet: rs, pods: [], now: b.nowMs, burstReplicas: Math.max(1, rs.spec?.replicas ?? 1) }).actions, 'Pod').map((p) => b.admit<Pod>('Pod', p, origin));
  for (const s of sources) {
    const kind = s.obj.kind ?? '';
    const origin = describe(s.obj);
    if (kind === 'Pod') {
      const status = isRecord(s.obj['status']) ? s.obj['status'] : {};
      const requestedIP = typeof status['podIP'] === 'string' && status['podIP'] !== '' ? status['podIP'] : undefined;
      batches.push([{ pod: b.admit<Pod>('Pod', s.obj, origin), origin, ...(requestedIP !== undefined ? { requestedIP } : {}) }]);
    } else if (kind === 'Deployment') {
      const d = b.admit<Deployment>('Deployment', s.obj, origin);
      const pods: Pod[] = [];
      for (const rsObj of created(reconcileDeployment({ deployment: d, replicaSets: [], pods: [], now: b.nowMs }).actions, 'ReplicaSet')) {
        const rs = b.admit<ReplicaSet>('ReplicaSet', rsObj, origin);
        const made = replicaSetPods(rs, origin);
        pods.push(...made);
        b.notes.push(`${origin}: ReplicaSet ${rs.metadata.name ?? ''} with ${made.length} pod(s)`);
      }
      batches.push(pods.map((pod) => ({ pod, origin })));
    } else if (kind === 'ReplicaSet') {
      const made = replicaSetPods(b.admit<ReplicaSet>('ReplicaSet', s.obj, origin), origin);
      b.notes.push(`${origin}: ${made.length} pod(s)`);
      batches.push(made.map((pod) => ({ pod, origin })));
    } else if (kind === 'DaemonSet') {
      const ds = b.admit<DaemonSet>('DaemonSet', s.obj, origin);
      const made = created(reconcileDaemonSet({ daemonSet: ds, nodes, pods: [], now: b.nowMs }).actions, 'Pod').map((p) => b.admit<Pod>('Pod', p, origin));
      b.notes.push(`${origin}: ${made.length} pod(s), one per eligible node`);
      batches.push(made.map((pod) => ({ pod, origin })));
    } else if (kind === 'StatefulSet') {
      batches.push(statefulSetPods(b, s.obj, origin).map((pod) => ({ pod: b.admit<Pod>('Pod', pod, origin), origin })));
    }
  }
  return batches;
}

/**
 * The scheduler, one batch at a time as the workloads arrive (pods of earlier batches count on their nodes).
 * A pod whose manifest gives status.podIP goes to the node whose Pod CIDR holds it. Returns the bound
 * pods in binding order (the order their kubelets start them).
 */
function schedule(b: Builder, batches: readonly PodEntry[][], nodes: readonly NodeInfo[]): PodEntry[] {
  const nodeObjects = nodes.map((n) => n.node);
  const bound: Pod[] = [];
  const order: PodEntry[] = [];
  const bind = (e: PodEntry, nodeName: string): void => {
    e.pod.spec = { ...(e.pod.spec ?? { containers: [] }), nodeName };
    const conditions = (e.pod.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    e.pod.status = { ...(e.pod.status ?? {}), conditions: [...conditions, { type: 'PodScheduled', status: 'True', lastTransitionTime: b.now }] };
    bound.push(e.pod);
    order.push(e);
  };
  for (const batch of batches) {
    for (const e of batch) {
      if (e.requestedIP === undefined || e.pod.spec?.nodeName || e.pod.spec?.hostNetwork === true) continue;
      const value = tryParseIPv4(e.requestedIP);
      const owner = value === undefined ? undefined : nodes.find((n) => cidrContains(n.cidr, value));
      if (owner === undefined) fail(`${e.origin}: status.podIP ${e.requestedIP} is not inside any node's Pod CIDR (${nodes.map((n) => n.node.spec?.podCIDR ?? '').join(', ')})`);
      e.pod.spec = { ...(e.pod.spec ?? { containers: [] }), nodeName: owner.node.metadata.name ?? '' };
      b.notes.push(`${e.origin}: on ${owner.node.metadata.name ?? ''}, whose Pod CIDR holds its status.podIP ${e.requestedIP}`);
    }
    const result = schedulePods({ pods: batch.map((e) => e.pod), nodes: nodeObjects, assignedPods: bound, now: b.nowMs });
    for (const e of batch) if (e.pod.spec?.nodeName) bind(e, e.pod.spec.nodeName);
    const byKey = new Map(batch.map((e) => [`${e.pod.metadata.namespace ?? ''}/${e.pod.metadata.name ?? ''}`, e]));
    for (const d of result.decisions) {
      const e = byKey.get(d.pod);
      if (e === undefined) continue;
      if (d.outcome === 'bound') {
        bind(e, d.nodeName);
        continue;
      }
      e.pod.status = {
        ...(e.pod.status ?? {}), phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: d.message, lastTransitionTime: b.now }],
      };
      b.notes.push(`Pod ${d.pod} (from ${e.origin}): Pending, unschedulable: ${d.message}`);
    }
  }
  return order;
}

/**
 * The kubelets and the CNI: addresses the manifests give first, then the host-local plugin's order per node
 * (.2 upwards; .1 is cni0), in binding order; host-network pods take the node's address. Every pod on a
 * Ready node runs with all containers ready.
 */
function startPods(b: Builder, order: readonly PodEntry[], nodes: readonly NodeInfo[]): void {
  const byName = new Map(nodes.map((n) => [n.node.metadata.name ?? '', n]));
  const given = new Map<Pod, string>();
  for (const e of order) {
    const info = byName.get(e.pod.spec?.nodeName ?? '');
    if (info === undefined || e.requestedIP === undefined || e.pod.spec?.hostNetwork === true) continue;
    const value = tryParseIPv4(e.requestedIP);
    const cidrText = info.node.spec?.podCIDR ?? '';
    if (value === undefined || !cidrContains(info.cidr, value)) {
      fail(`${e.origin}: status.podIP ${e.requestedIP} is not inside the Pod CIDR ${cidrText} of its node ${info.node.metadata.name ?? ''}`);
    }
    const offset = value - info.cidr.network;
    if (offset < 2 || offset >= cidrSize(info.cidr) - 1) fail(`${e.origin}: status.podIP ${e.requestedIP} is the network, cni0 gateway or broadcast address of ${cidrText}`);
    if (info.used.has(e.requestedIP)) fail(`${e.origin}: status.podIP ${e.requestedIP} is already another pod's`);
    info.used.add(e.requestedIP);
    given.set(e.pod, e.requestedIP);
  }
  for (const e of order) {
    const info = byName.get(e.pod.spec?.nodeName ?? '');
    if (info === undefined) {
      b.notes.push(`Pod ${nsName(e.pod)} (from ${e.origin}): bound to node ${e.pod.spec?.nodeName ?? ''}, which does not exist: it stays Pending`);
      continue;
    }
    if (!info.ready) {
      b.notes.push(`Pod ${nsName(e.pod)} (from ${e.origin}): node ${info.node.metadata.name ?? ''} is not Ready: it stays Pending`);
      continue;
    }
    let ip = e.pod.spec?.hostNetwork === true ? info.ip : given.get(e.pod);
    if (ip === undefined) {
      const size = cidrSize(info.cidr);
      for (let n = info.next; n < size - 1 && ip === undefined; n++) {
        const candidate = formatIPv4(nthAddress(info.cidr, n));
        if (info.used.has(candidate)) continue;
        ip = candidate;
        info.next = n + 1;
      }
      if (ip === undefined) fail(`Node ${info.node.metadata.name ?? ''}: no free pod address left in ${info.node.spec?.podCIDR ?? ''} for ${nsName(e.pod)}`);
      info.used.add(ip);
    }
    e.pod.status = runningPodStatus(e.pod, info.ip, ip, b.now);
  }
}

/** The manifests' EndpointSlices, the `kubernetes` Service's, and the EndpointSlice controller's for every Service. */
function buildEndpointSlices(b: Builder, sources: readonly Source[], services: readonly Service[], pods: readonly Pod[], nodes: readonly Node[], o: Options): EndpointSlice[] {
  const slices = new Map<string, EndpointSlice>();
  const key = (s: EndpointSlice): string => `${s.metadata.namespace ?? ''}/${s.metadata.name ?? ''}`;
  for (const s of sources) {
    if (s.obj.kind !== 'EndpointSlice') continue;
    const slice = b.admit<EndpointSlice>('EndpointSlice', s.obj, describe(s.obj));
    slices.set(key(slice), slice);
  }
  for (const svc of services) {
    const ns = svc.metadata.namespace ?? 'default';
    if (o.includeSystem && ns === 'default' && svc.metadata.name === 'kubernetes' && !svc.spec?.selector) {
      if (slices.has('default/kubernetes')) continue;
      // The API server's endpoint reconciler (src/controllers/kubernetes-endpoints.ts): its advertise address.
      const slice = b.admit<EndpointSlice>('EndpointSlice', {
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
        metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: [hostAddress(o.underlay)], conditions: { ready: true } }],
        ports: [{ name: 'https', port: API_SERVER_PORT, protocol: 'TCP' }],
      }, 'the kubernetes endpoint reconciler');
      slices.set(key(slice), slice);
      continue;
    }
    const inNamespace = [...slices.values()].filter((s) => s.metadata.namespace === ns);
    const result = reconcileEndpointSlices({ service: svc, pods: pods.filter((p) => p.metadata.namespace === ns), slices: inNamespace, nodes });
    for (const a of result.actions) if (a.verb === 'delete') slices.delete(`${a.target.namespace ?? ''}/${a.target.name}`);
    for (const desired of result.desired) {
      const slice = desired.metadata.name ? desired : b.admit<EndpointSlice>('EndpointSlice', desired, `the EndpointSlice controller (${describe(svc)})`);
      slices.set(key(slice), slice);
    }
  }
  return [...slices.values()];
}

/** Ingresses and IngressClasses; the flatnet controller publishes its LoadBalancer address on the Ingresses it serves. */
function buildIngresses(b: Builder, sources: readonly Source[], services: readonly Service[], o: Options): { ingresses: Ingress[]; ingressClasses: IngressClass[] } {
  const ingressClasses = sources.filter((s) => s.obj.kind === 'IngressClass').map((s) => b.admit<IngressClass>('IngressClass', s.obj, describe(s.obj)));
  const ingresses = sources.filter((s) => s.obj.kind === 'Ingress').map((s) => b.admit<Ingress>('Ingress', s.obj, describe(s.obj)));
  const controller = o.includeSystem ? services.find((s) => s.metadata.namespace === INGRESS_NAMESPACE && s.metadata.name === INGRESS_SERVICE) : undefined;
  const published = loadBalancerFromService(controller);
  for (const ing of ingresses) {
    if (controller === undefined || !isIngressClaimed(ing, ingressClasses, { className: FLATNET_CLASS })) {
      b.notes.push(`${describe(ing)}: no ingress controller serves it (class ${ing.spec?.ingressClassName ?? 'none'})`);
      continue;
    }
    if (published.length > 0) ing.status = { ...(ing.status ?? {}), loadBalancer: { ingress: published } };
    b.notes.push(`${describe(ing)}: served by the flatnet ingress controller${published.length > 0 ? ` at ${published.map((p) => p.ip ?? p.hostname ?? '').join(', ')}` : ' (which has no address)'}`);
  }
  return { ingresses, ingressClasses };
}

function byNamespaceAndName<T extends KubeObject>(list: readonly T[]): T[] {
  return [...list].sort((x, y) => compareStrings(x.metadata.namespace ?? '', y.metadata.namespace ?? '') || compareStrings(x.metadata.name ?? '', y.metadata.name ?? ''));
}

/**
 * The cluster the manifests describe, as a live `flatnet up` cluster would hold it after `kubectl apply`.
 * `objects` are parsed YAML/JSON documents (null ones are skipped; Lists are flattened). Lists in the
 * snapshot are sorted by namespace and name, as the API lists them. Throws ModelError('InvalidSnapshot')
 * for an object the API server would reject (naming it and the field errors), an object defined twice,
 * and options the lab would refuse.
 */
export function offlineCluster(objects: readonly unknown[], options: OfflineClusterOptions = {}): OfflineCluster {
  const o = resolveOptions(options);
  const b = new Builder(o.now);
  const sources = collectSources(b, objects, o);
  const namespaces = buildNamespaces(b, sources);
  const nodes = buildNodes(b, sources, o, options.nodes !== undefined);
  const nodeObjects = nodes.map((n) => n.node);
  const services = buildServices(b, sources, o);
  const batches = buildPods(b, sources, nodeObjects);
  startPods(b, schedule(b, batches, nodes), nodes);
  const pods = batches.flat().map((e) => e.pod);
  const endpointSlices = buildEndpointSlices(b, sources, services, pods, nodeObjects, o);
  const networkPolicies = sources.filter((s) => s.obj.kind === 'NetworkPolicy').map((s) => b.admit<NetworkPolicy>('NetworkPolicy', s.obj, describe(s.obj)));
  const { ingresses, ingressClasses } = buildIngresses(b, sources, services, o);
  const snapshot: ClusterSnapshot = {
    name: o.name,
    backend: o.backend,
    proxyMode: o.proxyMode,
    underlay: o.underlay,
    podCIDR: o.podCIDR,
    serviceCIDR: o.serviceCIDR,
    lbPool: o.lbPool,
    clusterDomain: 'cluster.local',
    nodes: byNamespaceAndName(nodeObjects),
    pods: byNamespaceAndName(pods),
    services: byNamespaceAndName(services),
    endpointSlices: byNamespaceAndName(endpointSlices),
    namespaces: byNamespaceAndName(namespaces),
    networkPolicies: byNamespaceAndName(networkPolicies),
    ingresses: byNamespaceAndName(ingresses),
    ingressClasses: byNamespaceAndName(ingressClasses),
  };
  return { snapshot, notes: b.notes, ignored: b.ignored };
}
