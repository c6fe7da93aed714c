// The data-plane model (src/model/cluster-model.ts) at Kubernetes' scalability thresholds: a synthetic
// ClusterSnapshot with 5,000 nodes, 150,000 pods in ~100 namespaces, 10,000 Services whose EndpointSlices
// come from the EndpointSlice controller's own reconciler (<=100 endpoints each), and 1,000 NetworkPolicies
// using every field (pod/namespace selectors with matchLabels and matchExpressions, ipBlock with except,
// named ports, port ranges, both directions, deny-all and allow-all). Measured:
//   (a) loading: ClusterModel.build + prepare() (policy model and index, DNS zone, Ingress table): wall time and
//       heap/RSS growth (goal <=10 s, <=2 GB);
//   (b) trace pod -> Service by name (DNS on the pod's search path, the DNS transport, every hook on the nodes it
//       crosses, and every endpoint's path walked for its outcome): the first trace, then a few hundred random
//       flows cold (each once: the ruleset slices of their packets are built on first touch) and warm (the same
//       flows again, up to 300 traces) (goal <=1 ms);
//   (c) the NetworkPolicy matrix of a 1,000-pod subset (1,000 x 1,000) with src/netpol/core
//       (buildPolicyModel + compilePolicies + computeMatrix) against all the policies (goal <=10 s).
// Baseline in the same run: the same at 1/10 of the scale. Env: FLATNET_BENCH_MODEL_SCALE (default 1;
// 0.1 for a quick run, the baseline is then 0.01), FLATNET_BENCH_MODEL_FLOWS (default 300),
// FLATNET_BENCH_MODEL_TRACE_NODES (default 0 = flows from pods anywhere; N = source pods on N nodes only),
// FLATNET_BENCH_MODEL_TRACE_BUDGET_S (default 300, per scale), FLATNET_BENCH_MODEL_SEED (default 1).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { EndpointSlice, Namespace, NetworkPolicy, NetworkPolicySpec, Node, Pod, Service } from '../src/api/types.ts';
import { reconcileEndpointSlices } from '../src/controllers/core/endpointslice.ts';
import type { ClusterModel as ClusterModelClass } from '../src/model/cluster-model.ts';
import type { ClusterSnapshot, FlowSpec, Outcome } from '../src/model/types.ts';
import { formatIPv4, parseIPv4 } from '../src/net/ipv4.ts';
import { buildPolicyModel, compilePolicies, computeMatrix } from '../src/netpol/core/index.ts';
import { percentile, type Benchmark, type Metric } from './harness.ts';

const SCALE = Number(process.env['FLATNET_BENCH_MODEL_SCALE'] ?? 1);
const FLOWS = Number(process.env['FLATNET_BENCH_MODEL_FLOWS'] ?? 300);
const TRACE_NODES = Number(process.env['FLATNET_BENCH_MODEL_TRACE_NODES'] ?? 0);
const SEED = Number(process.env['FLATNET_BENCH_MODEL_SEED'] ?? 1);
const TRACE_BUDGET_S = Number(process.env['FLATNET_BENCH_MODEL_TRACE_BUDGET_S'] ?? 300);
const MATRIX_PODS = 1000;

const POD_CIDR = '10.0.0.0/8';
const SERVICE_CIDR = '172.20.0.0/16';
const UNDERLAY = '172.16.0.0/16';
const APPS = ['frontend', 'backend', 'api', 'cache', 'db', 'worker', 'auth', 'search'] as const;
const TIER: Readonly<Record<string, string>> = { frontend: 'web', backend: 'api', api: 'api', cache: 'db', db: 'db', worker: 'api', auth: 'api', search: 'web' };
const ENVS = ['prod', 'staging', 'dev'] as const;

// ------------------------------------------------------------------------------------------ the snapshot

export interface Sizes { nodes: number; pods: number; services: number; policies: number; namespaces: number }

export function sizesAt(scale: number): Sizes {
  return {
    nodes: Math.max(3, Math.round(5000 * scale)),
    pods: Math.max(30, Math.round(150_000 * scale)),
    services: Math.max(3, Math.round(10_000 * scale)),
    policies: Math.max(10, Math.round(1000 * scale)),
    namespaces: Math.max(2, Math.round(100 * scale)),
  };
}

/** mulberry32: deterministic in the seed. */
function rng(seed: number): { float: () => number; int: (n: number) => number } {
  let a = seed >>> 0;
  const float = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { float, int: (n) => Math.floor(float() * n) };
}

const SUFFIX = 'bcdfghjklmnpqrstvwxz2456789';
const uid = (kind: string, i: number): string => `${kind}-${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;

interface Workload { name: string; namespace: string; app: string; pods: Pod[] }

/**
 * A cluster as `kubectl get -A -o json` would show it after the controllers settled: Ready nodes with
 * /24 Pod CIDRs from 10.0.0.0/8, Running+Ready pods placed at random (addresses from .2 as host-local
 * gives them), one Deployment-like workload per Service (1..100 replicas, skewed small, ~15 on average),
 * EndpointSlices from reconcileEndpointSlices, plus `kubernetes` and kube-dns with two coredns pods.
 */
export function syntheticSnapshot(sizes: Sizes, seed: number): ClusterSnapshot {
  const r = rng(seed);
  const suffix = (): string => Array.from({ length: 5 }, () => SUFFIX[r.int(SUFFIX.length)] ?? 'x').join('');
  const ready = [{ type: 'Ready', status: 'True' as const }];

  const nsNames = Array.from({ length: sizes.namespaces }, (_, i) => `ns-${String(i).padStart(3, '0')}`);
  const namespaces: Namespace[] = ['default', 'kube-system', ...nsNames].map((name, i) => ({
    apiVersion: 'v1', kind: 'Namespace',
    metadata: { name, uid: uid('ns', i), labels: { 'kubernetes.io/metadata.name': name, ...(i >= 2 ? { team: `team-${i % 7}`, env: ENVS[i % 3] ?? 'dev' } : {}) } },
    status: { phase: 'Active' },
  }));

  const podBase = parseIPv4('10.0.0.0');
  const nodeBase = parseIPv4('172.16.1.1');
  const nodes: Node[] = [];
  const nodeIPs: string[] = [];
  const nextHost: number[] = [];
  for (let i = 0; i < sizes.nodes; i++) {
    const name = `node-${i + 1}`;
    const podCIDR = `${formatIPv4(podBase + i * 256)}/24`;
    const ip = formatIPv4(nodeBase + i);
    nodeIPs.push(ip);
    nextHost.push(2);
    nodes.push({
      apiVersion: 'v1', kind: 'Node',
      metadata: { name, uid: uid('node', i), labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'topology.kubernetes.io/zone': `zone-${i % 3}` } },
      spec: { podCIDR, podCIDRs: [podCIDR] },
      status: { addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }], conditions: [{ type: 'Ready', status: 'True' }] },
    });
  }
  let podSerial = 0;
  const makePod = (namespace: string, name: string, labels: Record<string, string>, ports: NonNullable<Pod['spec']>['containers'][number]['ports'], node?: number): Pod => {
    let n = node ?? r.int(sizes.nodes);
    for (let tries = 0; tries < 100 && (nextHost[n] ?? 255) > 250; tries++) n = r.int(sizes.nodes);
    const host = nextHost[n] ?? 2;
    nextHost[n] = host + 1;
    const ip = formatIPv4(podBase + n * 256 + host);
    return {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name, namespace, uid: uid('pod', podSerial++), labels },
      spec: { nodeName: `node-${n + 1}`, dnsPolicy: 'ClusterFirst', restartPolicy: 'Always', containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.9', ...(ports ? { ports } : {}) }] },
      status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], hostIP: nodeIPs[n] ?? '', hostIPs: [{ ip: nodeIPs[n] ?? '' }], conditions: ready },
    };
  };

  // Workload sizes: 1 + 99 u^6 (mean ~15), adjusted to the pod count (each stays within 1..100).
  const W = sizes.services;
  const replicas = Array.from({ length: W }, () => 1 + Math.floor(99 * r.float() ** 6));
  let total = replicas.reduce((s, x) => s + x, 0);
  for (let guard = 0; total !== sizes.pods && guard < 50 * sizes.pods; guard++) {
    const k = r.int(W);
    const v = replicas[k] ?? 1;
    if (total > sizes.pods && v > 1) { replicas[k] = v - 1; total--; }
    if (total < sizes.pods && v < 100) { replicas[k] = v + 1; total++; }
  }
  const appPorts = [{ name: 'http', containerPort: 8080, protocol: 'TCP' as const }, { name: 'metrics', containerPort: 9090, protocol: 'TCP' as const }];
  const workloads: Workload[] = [];
  const pods: Pod[] = [];
  for (let k = 0; k < W; k++) {
    const namespace = nsNames[k % nsNames.length] ?? 'default';
    const app = APPS[k % APPS.length] ?? 'api';
    const name = `wl-${k}`;
    const hash = `${(k * 2654435761 >>> 0).toString(36).slice(0, 9)}`;
    const wl: Workload = { name, namespace, app, pods: [] };
    for (let i = 0; i < (replicas[k] ?? 1); i++) {
      const p = makePod(namespace, `${name}-${hash}-${suffix()}`, { app, tier: TIER[app] ?? 'api', workload: name, 'pod-template-hash': hash }, appPorts);
      wl.pods.push(p);
      pods.push(p);
    }
    workloads.push(wl);
  }
  const dnsLabels = { 'k8s-app': 'kube-dns' };
  const dnsPorts = [{ name: 'dns', containerPort: 53, protocol: 'UDP' as const }, { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' as const }, { name: 'metrics', containerPort: 9153, protocol: 'TCP' as const }];
  const coredns = [0, 1].map((i) => makePod('kube-system', `coredns-5d78c9869d-${suffix()}`, dnsLabels, dnsPorts, i % sizes.nodes));
  pods.push(...coredns);

  const svcBase = parseIPv4('172.20.1.0');
  const services: Service[] = [];
  const endpointSlices: EndpointSlice[] = [];
  const addSlices = (svc: Service, backing: readonly Pod[]): void => {
    for (const s of reconcileEndpointSlices({ service: svc, pods: backing, slices: [] }).desired) {
      s.metadata.name = `${svc.metadata.name ?? ''}-${suffix()}`;
      s.metadata.uid = uid('eps', endpointSlices.length);
      endpointSlices.push(s);
    }
  };
  const kubeDns: Service = {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'kube-dns', namespace: 'kube-system', uid: uid('svc', 0), labels: { ...dnsLabels, 'kubernetes.io/name': 'CoreDNS' } },
    spec: { type: 'ClusterIP', selector: dnsLabels, clusterIP: '172.20.0.10', clusterIPs: ['172.20.0.10'], sessionAffinity: 'None', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', internalTrafficPolicy: 'Cluster', ports: [
      { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }, { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 }, { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
    ] },
  };
  services.push(kubeDns);
  addSlices(kubeDns, coredns);
  services.push({
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'kubernetes', namespace: 'default', uid: uid('svc', 1), labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: '172.20.0.1', clusterIPs: ['172.20.0.1'], sessionAffinity: 'None', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
  });
  endpointSlices.push({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { name: 'kubernetes', namespace: 'default', uid: uid('eps', endpointSlices.length), labels: { 'kubernetes.io/service-name': 'kubernetes', 'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io' } },
    endpoints: [{ addresses: [nodeIPs[0] ?? ''], conditions: { ready: true } }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }],
  });
  for (let k = 0; k < W; k++) {
    const wl = workloads[k] as Workload;
    const nodePort = k % 20 === 0;
    const ip = formatIPv4(svcBase + k);
    const svc: Service = {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: `svc-${k}`, namespace: wl.namespace, uid: uid('svc', k + 2), labels: { app: wl.app } },
      spec: {
        type: nodePort ? 'NodePort' : 'ClusterIP', selector: { workload: wl.name }, clusterIP: ip, clusterIPs: [ip],
        sessionAffinity: k % 50 === 7 ? 'ClientIP' : 'None', ...(k % 50 === 7 ? { sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } } } : {}),
        ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', internalTrafficPolicy: 'Cluster', ...(nodePort ? { externalTrafficPolicy: 'Cluster' as const } : {}),
        ports: [
          { name: 'http', port: 80, protocol: 'TCP', targetPort: 'http', ...(nodePort ? { nodePort: 30000 + ((k / 20) % 2768) } : {}) },
          ...(k % 5 === 0 ? [{ name: 'metrics', port: 9090, protocol: 'TCP' as const, targetPort: 9090 }] : []),
        ],
      },
    };
    services.push(svc);
    addSlices(svc, wl.pods);
  }

  const policies: NetworkPolicy[] = [];
  for (let j = 0; j < sizes.policies; j++) {
    const nsIndex = j % nsNames.length;
    const namespace = nsNames[nsIndex] ?? 'default';
    const app = APPS[(j + nsIndex) % APPS.length] ?? 'api';
    const other = APPS[(j + nsIndex + 3) % APPS.length] ?? 'api';
    const wl = workloads[(Math.floor(j / nsNames.length) * nsNames.length + nsIndex) % W];
    const policy = (name: string, spec: NetworkPolicySpec): NetworkPolicy => ({
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `${name}-${j}`, namespace, uid: uid('np', j) }, spec,
    });
    switch (Math.floor(j / nsNames.length) % 10) {
      case 0: policies.push(policy('default-deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] })); break;
      case 1: policies.push(policy('allow-app', { podSelector: { matchLabels: { app } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { app: other } } }], ports: [{ protocol: 'TCP', port: 8080 }] }] })); break;
      case 2: policies.push(policy('allow-team', { podSelector: { matchLabels: { tier: 'web' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: `team-${j % 7}` } } }], ports: [{ port: 'http' }] }] })); break;
      case 3: policies.push(policy('allow-expr', {
        podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: [app, other] }] }, policyTypes: ['Ingress'],
        ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] }, podSelector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] } }] }],
      })); break;
      case 4: policies.push(policy('egress-cidr', {
        podSelector: { matchLabels: { app } }, policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.200.0.0/16'] } }], ports: [{ protocol: 'TCP', port: 8000, endPort: 9100 }] }, { ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] }],
      })); break;
      case 5: policies.push(policy('allow-all', { podSelector: { matchLabels: { workload: wl?.name ?? '' } }, policyTypes: ['Ingress'], ingress: [{}] })); break;
      case 6: policies.push(policy('deny-egress', { podSelector: { matchLabels: { workload: wl?.name ?? '' } }, policyTypes: ['Egress'] })); break;
      case 7: policies.push(policy('db', {
        podSelector: { matchLabels: { tier: 'db' } }, policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ podSelector: { matchLabels: { tier: 'api' } } }], ports: [{ protocol: 'TCP', port: 8080 }, { protocol: 'TCP', port: 'metrics' }] }],
        egress: [{ to: [{ namespaceSelector: {} }] }],
      })); break;
      case 8: policies.push(policy('from-nodes', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ ipBlock: { cidr: UNDERLAY } }] }] })); break;
      default: policies.push(policy('not-canary', {
        podSelector: { matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] }, policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: {} }], ports: [{ protocol: 'TCP', port: 8080 }, { protocol: 'TCP', port: 9090 }] }],
      })); break;
    }
  }

  return {
    name: 'bench', backend: 'host-gw', proxyMode: 'nftables', underlay: UNDERLAY, podCIDR: POD_CIDR, serviceCIDR: SERVICE_CIDR,
    nodes, pods, services, endpointSlices, namespaces, networkPolicies: policies,
  };
}

// ------------------------------------------------------------------------------------------ measuring

/** A handle on the collector (`--expose-gc` set at run time), for honest heap figures. */
function gcHandle(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  return () => { if (typeof gc === 'function') { gc(); gc(); } };
}

const MB = 2 ** 20;

interface Figures {
  snapshotS: number;
  buildS: number;
  buildHeapMB: number;
  buildRssMB: number;
  prepareS: number;
  loadS: number;
  loadHeapMB: number;
  loadRssMB: number;
  firstTraceMs: number;
  traced: number;
  skipped: number;
  warmTraces: number;
  coldP50: number;
  coldP99: number;
  warmP50: number;
  warmP99: number;
  outcomes: string;
  nodesBuilt: number;
  afterTracesHeapMB: number;
  matrixS: number;
  matrixOnlyS: number;
  allowedCells: number;
}

type Model = ClusterModelClass;

async function measure(scale: number, log: (line: string) => void, gc: () => void): Promise<Figures> {
  const { ClusterModel } = await import('../src/model/cluster-model.ts');
  const sizes = sizesAt(scale);
  const t0 = performance.now();
  const snap = syntheticSnapshot(sizes, SEED);
  const snapshotS = (performance.now() - t0) / 1000;
  log(`scale ${scale}: ${sizes.nodes} nodes, ${snap.pods.length} pods, ${snap.services.length} Services, ${snap.endpointSlices.length} EndpointSlices, ${snap.networkPolicies.length} NetworkPolicies, ${sizes.namespaces} namespaces (generated in ${snapshotS.toFixed(1)} s)`);

  // (a) build
  gc();
  const before = process.memoryUsage();
  const t1 = performance.now();
  const model: Model = ClusterModel.build(snap);
  const buildS = (performance.now() - t1) / 1000;
  gc();
  const after = process.memoryUsage();
  const buildHeapMB = (after.heapUsed - before.heapUsed) / MB;
  const buildRssMB = (after.rss - before.rss) / MB;
  log(`scale ${scale}: build ${buildS.toFixed(2)} s, heap +${buildHeapMB.toFixed(0)} MB, RSS +${buildRssMB.toFixed(0)} MB`);
  // Loading = build + prepare (policy model and index, DNS zone, Ingress table): everything but the per-packet slices.
  const tp = performance.now();
  model.prepare();
  const prepareS = (performance.now() - tp) / 1000;
  gc();
  const loaded = process.memoryUsage();
  const loadS = buildS + prepareS;
  const loadHeapMB = (loaded.heapUsed - before.heapUsed) / MB;
  const loadRssMB = (loaded.rss - before.rss) / MB;
  log(`scale ${scale}: prepare ${prepareS.toFixed(2)} s; loaded in ${loadS.toFixed(2)} s, heap +${loadHeapMB.toFixed(0)} MB, RSS +${loadRssMB.toFixed(0)} MB`);

  // (c) the policy matrix of a 1,000-pod subset, against every policy.
  const subset = sample(snap.pods.filter((p) => p.metadata.namespace !== 'kube-system'), MATRIX_PODS, rng(SEED + 11));
  const t6 = performance.now();
  const compiled = compilePolicies(buildPolicyModel({ namespaces: snap.namespaces, pods: subset, policies: snap.networkPolicies }));
  const t7 = performance.now();
  const matrix = computeMatrix(compiled, { port: 8080, protocol: 'TCP' });
  const t8 = performance.now();
  const allowedCells = matrix.allowed.reduce((s, x) => s + x, 0);
  log(`scale ${scale}: ${subset.length}x${subset.length} matrix: ${((t8 - t6) / 1000).toFixed(2)} s (model + compile ${((t7 - t6) / 1000).toFixed(2)} s, matrix ${((t8 - t7) / 1000).toFixed(2)} s); ${allowedCells} of ${subset.length ** 2} cells allowed`);

  // (b) traces: pod -> Service by name (`svc-k.ns-x`, resolved on the pod's search path), port 80.
  const r = rng(SEED + 7);
  const sourceNodes = TRACE_NODES > 0 ? new Set(Array.from({ length: TRACE_NODES }, () => `node-${r.int(sizes.nodes) + 1}`)) : undefined;
  const candidates = snap.pods.filter((p) => p.metadata.namespace !== 'kube-system' && (sourceNodes === undefined || sourceNodes.has(p.spec?.nodeName ?? '')));
  const targets = snap.services.filter((s) => (s.metadata.name ?? '').startsWith('svc-'));
  // The nodes a flow's trace passes (whose rulesets it builds): the source's, the DNS pods', every endpoint's.
  const endpointNodes = new Map<string, Set<string>>();
  for (const sl of snap.endpointSlices) {
    const key = `${sl.metadata.namespace ?? ''}/${sl.metadata.labels?.['kubernetes.io/service-name'] ?? ''}`;
    const set = endpointNodes.get(key) ?? new Set<string>();
    for (const e of sl.endpoints ?? []) if (e.nodeName !== undefined) set.add(e.nodeName);
    endpointNodes.set(key, set);
  }
  const flows = Array.from({ length: FLOWS }, (): { flow: FlowSpec; nodes: readonly string[] } => {
    const p = candidates[r.int(candidates.length)] as Pod;
    const s = targets[r.int(targets.length)] as Service;
    const nodes = new Set([p.spec?.nodeName ?? '', ...(endpointNodes.get('kube-system/kube-dns') ?? []), ...(endpointNodes.get(`${s.metadata.namespace ?? ''}/${s.metadata.name ?? ''}`) ?? [])]);
    return { flow: { from: { kind: 'pod', namespace: p.metadata.namespace ?? '', name: p.metadata.name ?? '' }, to: { kind: 'name', host: `${s.metadata.name ?? ''}.${s.metadata.namespace ?? ''}`, port: 80 } }, nodes: [...nodes] };
  });
  // Cold: every flow once (a trace builds the ruleset slices of its packets on the nodes it crosses), within
  // the time budget; then warm: the same flows again.
  const outcomes = new Map<Outcome, number>();
  const built = new Set<string>();
  const coldUntil = performance.now() + TRACE_BUDGET_S * 1000;
  const cold: number[] = [];
  const done: FlowSpec[] = [];
  let stopped = '';
  const skipped = 0;
  for (const f of flows) {
    if (performance.now() > coldUntil) { stopped = `time budget of ${TRACE_BUDGET_S} s`; break; }
    const s = performance.now();
    const tr = model.trace(f.flow);
    cold.push(performance.now() - s);
    done.push(f.flow);
    for (const n of f.nodes) built.add(n);
    outcomes.set(tr.verdict.outcome, (outcomes.get(tr.verdict.outcome) ?? 0) + 1);
  }
  const firstTraceMs = cold[0] ?? NaN;
  log(`scale ${scale}: first trace ${firstTraceMs.toFixed(1)} ms`);
  if (stopped !== '') log(`scale ${scale}: cold traces stopped after ${cold.length + skipped} of ${flows.length} flows (${stopped})`);
  // Warm: the same flows again (every ruleset they need is built).
  const warm: number[] = [];
  for (let round = 0; round < 3 && warm.length < 300; round++) {
    for (const f of done) {
      const s = performance.now();
      model.trace(f);
      warm.push(performance.now() - s);
    }
  }
  cold.sort((a, b) => a - b);
  warm.sort((a, b) => a - b);
  const nodesBuilt = built.size;
  gc();
  const afterTracesHeapMB = (process.memoryUsage().heapUsed - before.heapUsed) / MB;
  const outcomeText = [...outcomes].map(([k, v]) => `${k} ${v}`).join(', ');
  log(`scale ${scale}: ${cold.length} traces: cold p50 ${percentile(cold, 50).toFixed(2)} ms p99 ${percentile(cold, 99).toFixed(1)} ms; warm (${warm.length}) p50 ${percentile(warm, 50).toFixed(3)} ms p99 ${percentile(warm, 99).toFixed(3)} ms; outcomes: ${outcomeText}; nodes passed: ${nodesBuilt}; heap +${afterTracesHeapMB.toFixed(0)} MB`);
  if (cold.length > 0 && (outcomes.get('unresolved') ?? 0) === cold.length) throw new Error('no flow resolved its Service name: the synthetic cluster or the model is broken');

  return {
    snapshotS, buildS, buildHeapMB, buildRssMB, prepareS, loadS, loadHeapMB, loadRssMB, firstTraceMs, traced: cold.length, skipped, warmTraces: warm.length,
    coldP50: percentile(cold, 50), coldP99: percentile(cold, 99), warmP50: percentile(warm, 50), warmP99: percentile(warm, 99),
    outcomes: outcomeText, nodesBuilt, afterTracesHeapMB,
    matrixS: (t8 - t6) / 1000, matrixOnlyS: (t8 - t7) / 1000, allowedCells,
  };
}

function sample<T>(xs: readonly T[], k: number, r: { int: (n: number) => number }): T[] {
  const pool = [...xs];
  const out: T[] = [];
  for (let i = 0; i < k && pool.length > 0; i++) {
    const j = r.int(pool.length);
    out.push(pool[j] as T);
    pool[j] = pool[pool.length - 1] as T;
    pool.pop();
  }
  return out;
}

const bench: Benchmark = {
  name: 'model',
  description: `data-plane model at ${SCALE === 1 ? "Kubernetes' scale thresholds" : `${SCALE} x Kubernetes' scale thresholds`} (5,000 nodes, 150,000 pods, 10,000 Services, 1,000 NetworkPolicies at scale 1): build, trace, 1,000-pod policy matrix`,
  async run(log) {
    const gc = gcHandle();
    const base = await measure(SCALE / 10, log, gc);
    gc();
    const full = await measure(SCALE, log, gc);
    const b = (value: number) => ({ name: `same at scale ${SCALE / 10}`, value });
    const size = sizesAt(SCALE);
    const label = `${size.nodes} nodes/${size.pods} pods/${size.services} Services`;
    return [
      { name: `synthetic snapshot generated, ${label}`, value: full.snapshotS, unit: 's', baseline: b(base.snapshotS) },
      { name: 'ClusterModel.build', value: full.buildS, unit: 's', baseline: b(base.buildS) },
      { name: 'prepare (policy model + index, DNS zone, Ingress table)', value: full.prepareS, unit: 's', baseline: b(base.prepareS) },
      { name: 'model loaded: heap growth', value: full.loadHeapMB, unit: 'MB', baseline: b(base.loadHeapMB), goal: '<= 2048 MB' },
      { name: 'model loaded: RSS growth', value: full.loadRssMB, unit: 'MB', baseline: b(base.loadRssMB), goal: '<= 2048 MB' },
      { name: 'first trace', value: full.firstTraceMs, unit: 'ms', baseline: b(base.firstTraceMs) },
      { name: `trace pod -> Service by name, cold p50 (${full.traced} of ${FLOWS} random flows, budget ${TRACE_BUDGET_S} s)`, value: full.coldP50, unit: 'ms', baseline: b(base.coldP50) },
      { name: 'trace pod -> Service by name, cold p99', value: full.coldP99, unit: 'ms', baseline: b(base.coldP99) },
      { name: `heap growth after the traces (they passed ${full.nodesBuilt} nodes)`, value: full.afterTracesHeapMB, unit: 'MB', baseline: b(base.afterTracesHeapMB) },
      { name: `${MATRIX_PODS}x${MATRIX_PODS} policy matrix (${size.policies} policies): model + compile + matrix`, value: full.matrixS, unit: 's', baseline: b(base.matrixS), goal: '<= 10 s' },
      { name: 'model loaded (build + prepare)', value: full.loadS, unit: 's', baseline: b(base.loadS), goal: '<= 10 s' },
      { name: `trace pod -> Service by name, warm p50 (${full.warmTraces} traces; outcomes ${full.outcomes})`, value: full.warmP50, unit: 'ms', baseline: b(base.warmP50), goal: '<= 1 ms' },
      { name: 'trace pod -> Service by name, warm p99 (headline)', value: full.warmP99, unit: 'ms', baseline: b(base.warmP99), goal: '<= 1 ms' },
    ] satisfies Metric[];
  },
};

export default bench;
