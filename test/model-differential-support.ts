// The differential loop shared by test/model-differential.test.ts and bench/model-differential.bench.ts:
// fixed pods on a real cluster, relabelled and given random NetworkPolicies and Services per scenario
// (src/model/random-cluster.ts), every cell probed in the kernel and compared with an oracle (the data-plane
// model, or the NetworkPolicy matrix for pod -> pod cells).
//
// Per scenario:
// 1. apply: the diff against the previous scenario through the API (label merge patches, policy and Service
//    deletes, then creates);
// 2. wait (bounded polling, no fixed sleeps) until the cluster has converged: the API objects say what the
//    scenario says, every Service's EndpointSlices are what the EndpointSlice reconciler wants (and are owned
//    by the live Service), LoadBalancers have their address, and each node's kernel holds EXACTLY the
//    `ip kube-proxy` and `ip flatnet-netpol` tables the proxier and the policy agent compute from those
//    objects (the expected tables are loaded into a scratch namespace and both listings compared as nft
//    prints them, counters and dynamic set contents aside);
// 3. probe: one long-lived probe process per source namespace (test/support/probe-server.ts, the probe
//    worker's classification), all targets of a source at once;
// 4. compare each cell's kernel result with the oracle's possible outcomes; a disagreement is probed again
//    with a long deadline (a busy machine can miss a short one) and kept only if it persists.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { resourceFor } from '../src/api/resources.ts';
import type { KubeObject, Namespace, NetworkPolicy, Node, Pod, Service } from '../src/api/types.ts';
import type { KubeClient } from '../src/client/kube-client.ts';
import { probeCluster } from '../src/cli/probe-command.ts';
import { reconcileEndpointSlices } from '../src/controllers/core/endpointslice.ts';
import { podNetns } from '../src/lab/core/names.ts';
import { Lab } from '../src/lab/lab.ts';
import { ClusterModel } from '../src/model/cluster-model.ts';
import { possibleOutcomes } from '../src/model/outcomes.ts';
import type { ClusterSnapshot, FlowSpec, Outcome } from '../src/model/types.ts';
import {
  diffScenarios, NAMESPACE_LABEL_KEYS, POD_LABEL_KEYS, randomScenario, type FixedPods, type ScenarioChange, type ScenarioOps,
} from '../src/model/random-cluster.ts';
import { buildPolicyModel, compilePolicies, computeMatrix } from '../src/netpol/core/index.ts';
import { buildNodePolicyTable, NETPOL_TABLE } from '../src/netpol/core/nft-policy.ts';
import type { ProbeResult } from '../src/netpol/probe-worker.ts';
import { fullReplaceCommands, renderCommands } from '../src/nft/transaction.ts';
import type { Table } from '../src/nft/types.ts';
import { buildNftRuleset, collectServicePorts, KUBE_PROXY_TABLE, type ProxyConfig } from '../src/proxy/core/index.ts';
import { execIn } from '../src/proxy/exec.ts';
import { clusterClient, readLiveSnapshot } from '../src/trace/live-snapshot.ts';
import { waitFor, type ClusterFixture } from './support/cluster-fixture.ts';

export const DIFF_NAMESPACES = ['alpha', 'beta', 'gamma'] as const;
export const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.47';
/** The ports every fixed pod serves and declares (named containerPorts). */
export const SERVED: readonly { name: string; port: number; protocol: 'TCP' | 'UDP' }[] = [
  { name: 'tcp-80', port: 80, protocol: 'TCP' }, { name: 'tcp-81', port: 81, protocol: 'TCP' }, { name: 'udp-80', port: 80, protocol: 'UDP' },
];
const PROBE_SERVER = resolve(import.meta.dirname, 'support', 'probe-server.ts');
const res = resourceFor;

// ------------------------------------------------------------------------------------------ probe servers

interface Pending { resolve: (r: ProbeResult[]) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }

/** One long-lived probe process inside a network namespace. */
export class ProbeServer {
  readonly netns: string;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly ready: Promise<void>;
  private stderr = '';
  private exited = false;

  constructor(netns: string) {
    this.netns = netns;
    this.child = spawn('ip', ['netns', 'exec', netns, process.execPath, PROBE_SERVER], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-2000); });
    let markReady: () => void = () => undefined;
    let failReady: (e: Error) => void = () => undefined;
    this.ready = new Promise<void>((res2, rej) => { markReady = res2; failReady = rej; });
    const lines = createInterface({ input: this.child.stdout });
    lines.on('line', (line) => {
      const msg = JSON.parse(line) as { id: number; ready?: boolean; results?: ProbeResult[]; error?: string };
      if (msg.ready === true) return markReady();
      const p = this.pending.get(msg.id);
      if (p === undefined) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.results === undefined) p.reject(new Error(`probe server in ${netns}: ${msg.error ?? 'no results'}`));
      else p.resolve(msg.results);
    });
    this.child.on('exit', (code) => {
      this.exited = true;
      const e = new Error(`probe server in ${netns} exited ${String(code)}: ${this.stderr.trim()}`);
      failReady(e);
      for (const p of this.pending.values()) { clearTimeout(p.timer); p.reject(e); }
      this.pending.clear();
    });
  }

  async start(timeoutMs = 30_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.ready, new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`probe server in ${this.netns} not ready in ${timeoutMs} ms: ${this.stderr}`)), timeoutMs); })]);
    clearTimeout(timer);
  }

  probe(targets: readonly { ip: string; port: number; protocol: 'TCP' | 'UDP' }[], timeoutMs: number): Promise<ProbeResult[]> {
    if (this.exited) return Promise.reject(new Error(`probe server in ${this.netns} has exited: ${this.stderr}`));
    if (targets.length === 0) return Promise.resolve([]);
    const id = this.nextId++;
    return new Promise((res2, rej) => {
      const budget = timeoutMs * (Math.ceil(targets.length / 256) + 1) + 20_000;
      const timer = setTimeout(() => { this.pending.delete(id); rej(new Error(`probe server in ${this.netns}: no answer in ${budget} ms`)); }, budget);
      this.pending.set(id, { resolve: res2, reject: rej, timer });
      this.child.stdin.write(JSON.stringify({ id, timeoutMs, targets }) + '\n');
    });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
  }
}

// ------------------------------------------------------------------------------------------ the environment

export interface DiffPod {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  readonly ip: string;
  readonly netns: string;
}

export interface DiffNode { readonly name: string; readonly ip: string; readonly netns: string }

export interface DiffEnv {
  readonly cluster: string;
  readonly client: KubeClient;
  readonly fixed: FixedPods;
  readonly pods: readonly DiffPod[];
  readonly nodes: readonly DiffNode[];
  readonly extNetns: string;
  /** Probe servers by source id: `pod:<ns/name>`, `node:<name>`, `external`. */
  readonly servers: ReadonlyMap<string, ProbeServer>;
  /** A namespace of our own where the expected nft tables are loaded to be listed by nft. */
  readonly scratchNetns: string;
  /** The scenario the cluster is in (undefined: the fixed pods' initial labels, no objects). */
  current: ScenarioChange | undefined;
  /** Expected tables last loaded into the scratch namespace (skip reloading the same text). */
  scratchText: string;
  scratchListing: Map<string, string>;
  close(): Promise<void>;
}

function fixedPodObjects(nodes: readonly string[]): Pod[] {
  const pods: Pod[] = [];
  let i = 0;
  for (const ns of DIFF_NAMESPACES) {
    const count = ns === 'gamma' ? 2 : 3;
    for (let k = 0; k < count; k++, i++) {
      pods.push({
        apiVersion: 'v1', kind: 'Pod',
        metadata: { name: `p${i}`, namespace: ns },
        spec: {
          nodeName: nodes[i % nodes.length] ?? '',
          terminationGracePeriodSeconds: 1,
          containers: [
            { name: 'serve-80', image: AGNHOST, args: ['netexec', '--http-port=80', '--udp-port=80'],
              ports: [{ name: 'tcp-80', containerPort: 80, protocol: 'TCP' }, { name: 'udp-80', containerPort: 80, protocol: 'UDP' }] },
            { name: 'serve-81', image: AGNHOST, args: ['netexec', '--http-port=81', '--udp-port=0'], ports: [{ name: 'tcp-81', containerPort: 81, protocol: 'TCP' }] },
          ],
        },
      });
    }
  }
  return pods;
}

const keyOf = (o: { metadata: { namespace?: string; name?: string } }): string => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;

/**
 * Creates the fixed pods (8 over 3 namespaces, alternating over the nodes), waits until they run, and starts a
 * probe server in every pod, every node and the external namespace. The process's FLATNET_HOME is pointed at
 * the fixture's so the live snapshot finds the cluster.
 */
export async function setupDiffEnv(c: ClusterFixture): Promise<DiffEnv> {
  process.env['FLATNET_HOME'] = c.env['FLATNET_HOME'];
  const client = clusterClient(c.name);
  try {
    return await setupWith(c, client);
  } catch (e) {
    client.close();
    throw e;
  }
}

async function setupWith(c: ClusterFixture, client: KubeClient): Promise<DiffEnv> {
  const lab = await Lab.adopt(c.name);
  const nodeObjs = (await client.list<Node>(res('Node'), undefined)).items.sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  const nodes: DiffNode[] = nodeObjs.map((n) => ({ name: n.metadata.name ?? '', ip: lab.nodeIP(n.metadata.name ?? ''), netns: lab.nodeNetns(n.metadata.name ?? '') }));
  for (const ns of DIFF_NAMESPACES) await client.create<Namespace>(res('Namespace'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  for (const p of fixedPodObjects(nodes.map((n) => n.name))) await client.create<Pod>(res('Pod'), p.metadata.namespace, p);
  const running = await waitFor('the fixed pods running', async () => {
    const items = (await client.list<Pod>(res('Pod'), undefined)).items.filter((p) => (DIFF_NAMESPACES as readonly string[]).includes(p.metadata.namespace ?? ''));
    return items.length === 8 && items.every((p) => p.status?.phase === 'Running' && p.status.podIP) ? items : undefined;
  }, 180_000);
  const pods: DiffPod[] = running.map((p) => ({
    key: keyOf(p), namespace: p.metadata.namespace ?? '', name: p.metadata.name ?? '', node: p.spec?.nodeName ?? '',
    ip: p.status?.podIP ?? '', netns: podNetns(c.name, p.metadata.uid ?? ''),
  })).sort((a, b) => a.key.localeCompare(b.key));
  const fixed: FixedPods = {
    namespaces: DIFF_NAMESPACES,
    pods: pods.map((p) => ({ namespace: p.namespace, name: p.name, node: p.node, ip: p.ip })),
    nodes: nodes.map((n) => ({ name: n.name, ip: n.ip, podCIDR: lab.nodePodCIDR(n.name) })),
    podCIDR: lab.podCIDR,
    underlay: lab.underlay,
    externalIP: lab.externalIP(),
    declaredPorts: SERVED,
  };
  // Probing sends dozens of connections a rejecting node answers with ICMP errors to one client within
  // milliseconds; the kernel's per-destination ICMP error rate limit (burst 6, then 1/s) would silence all but
  // the first few, and the client would time out where the rules reject. The model (rightly) knows nothing of
  // rate limits, so the lab's namespaces send every ICMP error here (icmp_ratemask 0: no type is limited).
  const unlimited = [...nodes.map((n) => n.netns), ...pods.map((p) => p.netns), lab.externalNetns()];
  for (const netns of unlimited) {
    const r = await execIn(netns, 'sysctl', ['-qw', 'net.ipv4.icmp_ratemask=0']);
    if (r.code !== 0) throw new Error(`sysctl net.ipv4.icmp_ratemask=0 in ${netns}: ${r.stderr.trim()}`);
  }
  const servers = new Map<string, ProbeServer>();
  for (const p of pods) servers.set(`pod:${p.key}`, new ProbeServer(p.netns));
  for (const n of nodes) servers.set(`node:${n.name}`, new ProbeServer(n.netns));
  servers.set('external', new ProbeServer(lab.externalNetns()));
  const scratchNetns = `fnmd-${Math.random().toString(36).slice(2, 8)}`;
  const add = await execIn(undefined, 'ip', ['netns', 'add', scratchNetns]);
  let closed = false;
  const env: DiffEnv = {
    cluster: c.name, client, fixed, pods, nodes, extNetns: lab.externalNetns(), servers, scratchNetns,
    current: undefined, scratchText: '', scratchListing: new Map(),
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...servers.values()].map((s) => s.stop()));
      if (add.code === 0) await execIn(undefined, 'ip', ['netns', 'del', scratchNetns]);
      client.close();
    },
  };
  try {
    if (add.code !== 0) throw new Error(`ip netns add ${scratchNetns}: ${add.stderr}`);
    await Promise.all([...servers.values()].map((s) => s.start()));
  } catch (e) {
    await env.close();
    throw e;
  }
  return env;
}

// ------------------------------------------------------------------------------------------ apply

/** Applies the operations taking the cluster from env.current to `next`. */
export async function applyScenario(env: DiffEnv, next: ScenarioChange): Promise<ScenarioOps> {
  const ops = diffScenarios(env.current, next);
  const c = env.client;
  await Promise.all([
    ...ops.namespaceLabels.map((o) => c.patch(res('Namespace'), undefined, o.namespace, o.patch, { type: 'merge' })),
    ...ops.podLabels.map((o) => c.patch(res('Pod'), o.namespace, o.name, o.patch, { type: 'merge' })),
    ...ops.deletePolicies.map((o) => c.delete(res('NetworkPolicy'), o.namespace, o.name)),
    ...ops.deleteServices.map((o) => c.delete(res('Service'), o.namespace, o.name)),
  ]);
  await Promise.all([
    ...ops.createPolicies.map((p) => c.create<NetworkPolicy>(res('NetworkPolicy'), p.metadata.namespace, structuredClone(p) as NetworkPolicy)),
    ...ops.createServices.map((s) => c.create<Service>(res('Service'), s.metadata.namespace, structuredClone(s) as Service)),
  ]);
  env.current = next;
  return ops;
}

// ------------------------------------------------------------------------------------------ convergence

const inScope = (o: KubeObject): boolean => (DIFF_NAMESPACES as readonly string[]).includes(o.metadata.namespace ?? '');

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const pick = (labels: Readonly<Record<string, string>> | undefined, keys: readonly string[]): Record<string, string> =>
  Object.fromEntries(Object.entries(labels ?? {}).filter(([k]) => keys.includes(k)));

/** Why the API objects are not yet in the scenario's converged state ([] when they are). */
export function apiProblems(snap: ClusterSnapshot, sc: ScenarioChange): string[] {
  const out: string[] = [];
  for (const [ns, want] of Object.entries(sc.namespaceLabels)) {
    const got = snap.namespaces.find((n) => n.metadata.name === ns);
    if (canonical(pick(got?.metadata.labels, NAMESPACE_LABEL_KEYS)) !== canonical(want)) out.push(`namespace ${ns} labels`);
  }
  for (const [key, want] of Object.entries(sc.podLabels)) {
    const got = snap.pods.find((p) => keyOf(p) === key);
    if (got?.status?.phase !== 'Running') out.push(`pod ${key} not running`);
    if (canonical(pick(got?.metadata.labels, POD_LABEL_KEYS)) !== canonical(want)) out.push(`pod ${key} labels`);
  }
  const policies = snap.networkPolicies.filter(inScope).map(keyOf).sort();
  if (canonical(policies) !== canonical(sc.policies.map(keyOf).sort())) out.push(`policies ${policies.join(',')}`);
  const services = snap.services.filter(inScope);
  if (canonical(services.map(keyOf).sort()) !== canonical(sc.services.map(keyOf).sort())) out.push(`services ${services.map(keyOf).join(',')}`);
  const nsPods = (ns: string) => snap.pods.filter((p) => p.metadata.namespace === ns);
  const nsSlices = (ns: string) => snap.endpointSlices.filter((s) => s.metadata.namespace === ns);
  for (const svc of services) {
    const slices = nsSlices(svc.metadata.namespace ?? '');
    if (svc.spec?.type !== 'ExternalName' && Object.keys(svc.spec?.selector ?? {}).length > 0) {
      const r = reconcileEndpointSlices({ service: svc, pods: nsPods(svc.metadata.namespace ?? ''), slices, nodes: snap.nodes });
      if (r.actions.length > 0) out.push(`service ${keyOf(svc)}: endpointslice controller has ${r.actions.length} actions pending`);
    }
    // A slice of an earlier Service of the same name, not yet collected, would vanish under the probes.
    for (const s of slices) {
      if (s.metadata.labels?.['kubernetes.io/service-name'] !== svc.metadata.name) continue;
      if (!s.metadata.ownerReferences?.some((o) => o.uid === svc.metadata.uid)) out.push(`slice ${keyOf(s)} not owned by the live ${keyOf(svc)}`);
    }
    if (svc.spec?.type === 'LoadBalancer' && !svc.status?.loadBalancer?.ingress?.[0]?.ip) out.push(`service ${keyOf(svc)} has no LoadBalancer address`);
  }
  // Slices of deleted Services are harmless to kube-proxy (it goes by Service), so they are not waited for.
  return out;
}

/** The pods the policy agent enforces for (as src/netpol/policy-agent.ts selects them). */
function enforcedPods(pods: readonly Pod[]): Pod[] {
  return pods.filter((p) => {
    const phase = p.status?.phase;
    const hasIP = (p.status?.podIPs?.length ?? 0) > 0 || (p.status?.podIP ?? '') !== '';
    return hasIP && phase !== 'Succeeded' && phase !== 'Failed' && p.spec?.hostNetwork !== true;
  });
}

/** The tables each node's kernel should hold for this snapshot, by `<node>/<table>`. */
export function expectedTables(snap: ClusterSnapshot, nodes: readonly DiffNode[]): Map<string, Table> {
  const out = new Map<string, Table>();
  const pods = enforcedPods(snap.pods);
  const compiled = compilePolicies(buildPolicyModel({ namespaces: snap.namespaces, pods, policies: snap.networkPolicies }));
  for (const n of nodes) {
    const config: ProxyConfig = { nodeName: n.name, nodeIPs: [n.ip], clusterCIDR: snap.podCIDR, serviceCIDR: snap.serviceCIDR };
    const kp = buildNftRuleset(collectServicePorts(snap.services, snap.endpointSlices, config), config).tables.find((t) => t.name === KUBE_PROXY_TABLE);
    if (kp === undefined) throw new Error('the proxier builds no kube-proxy table');
    out.set(`${n.name}/${KUBE_PROXY_TABLE}`, kp);
    const local = new Set(pods.filter((p) => p.spec?.nodeName === n.name).map(keyOf));
    out.set(`${n.name}/${NETPOL_TABLE}`, buildNodePolicyTable(compiled, { localPods: local }).table);
  }
  return out;
}

/**
 * A table as `nft -j` lists it, made comparable: handles, counter values and the contents of dynamic
 * (timeout) sets dropped, elements sorted, rules kept in chain order; one canonical string per table.
 */
export function normaliseNftJson(doc: unknown): Map<string, string> {
  const entries = (doc as { nftables?: Record<string, Record<string, unknown>>[] }).nftables ?? [];
  const dynamicSets = new Set<string>();
  for (const e of entries) {
    const s = e['set'];
    const flags = s?.['flags'];
    if (s && Array.isArray(flags) && (flags.includes('timeout') || flags.includes('dynamic'))) dynamicSets.add(`${String(s['table'])}/${String(s['name'])}`);
  }
  const clean = (v: unknown, key = ''): unknown => {
    if (Array.isArray(v)) {
      const xs = v.map((x) => clean(x));
      return key === 'elem' || key === 'set' ? xs.map((x) => canonical(x)).sort().map((x) => JSON.parse(x) as unknown) : xs;
    }
    if (v !== null && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (k === 'handle' || k === 'expires' || k === 'table' || k === 'family') continue;
        o[k] = k === 'counter' ? null : clean(x, k);
      }
      return o;
    }
    return v;
  };
  const perTable = new Map<string, { defs: string[]; rules: Map<string, string[]> }>();
  const table = (name: string) => {
    let t = perTable.get(name);
    if (t === undefined) perTable.set(name, (t = { defs: [], rules: new Map() }));
    return t;
  };
  for (const e of entries) {
    const [kind, body] = Object.entries(e)[0] ?? [];
    if (kind === undefined || body === undefined || kind === 'metainfo') continue;
    const tname = String(body['table'] ?? body['name']);
    if (kind === 'table') { table(tname); continue; }
    if (kind === 'rule') {
      const t = table(tname);
      const chain = String(body['chain']);
      const list = t.rules.get(chain) ?? [];
      list.push(canonical(clean(body)));
      t.rules.set(chain, list);
      continue;
    }
    let b: unknown = body;
    if ((kind === 'set' || kind === 'map') && dynamicSets.has(`${tname}/${String(body['name'])}`)) b = { ...body, elem: undefined };
    table(tname).defs.push(`${kind}:${canonical(clean(b))}`);
  }
  const out = new Map<string, string>();
  for (const [name, t] of perTable) {
    out.set(name, [...t.defs.sort(), ...[...t.rules.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([c, rs]) => `rules ${c}:\n${rs.join('\n')}`)].join('\n'));
  }
  return out;
}

async function listJson(netns: string): Promise<unknown> {
  const r = await execIn(netns, 'nft', ['-j', 'list', 'ruleset'], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`nft -j list ruleset in ${netns}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as unknown;
}

/** Why some node's kernel does not (yet) hold the expected tables ([] when every one matches). */
export async function kernelProblems(env: DiffEnv, snap: ClusterSnapshot): Promise<string[]> {
  const want = expectedTables(snap, env.nodes);
  // Each expected table under a unique name (`e<i>`) in the scratch namespace, loaded only when changed.
  const keys = [...want.keys()].sort();
  const renamed = keys.map((k, i) => ({ ...(want.get(k) as Table), name: `e${i}` }));
  const text = renderCommands(fullReplaceCommands({ tables: renamed }));
  if (text !== env.scratchText) {
    const flush = await execIn(env.scratchNetns, 'nft', ['flush', 'ruleset']);
    if (flush.code !== 0) throw new Error(`nft flush ruleset in ${env.scratchNetns}: ${flush.stderr}`);
    const r = await execIn(env.scratchNetns, 'nft', ['-f', '-'], { input: text, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`loading the expected tables into ${env.scratchNetns}: ${r.stderr.trim().split('\n').slice(0, 5).join(' ')}`);
    const listed = normaliseNftJson(await listJson(env.scratchNetns));
    env.scratchListing = new Map(keys.map((k, i) => [k, listed.get(`e${i}`) ?? '']));
    env.scratchText = text;
  }
  const problems: string[] = [];
  const kernels = await Promise.all(env.nodes.map(async (n) => [n.name, normaliseNftJson(await listJson(n.netns))] as const));
  for (const [node, tables] of kernels) {
    for (const t of [KUBE_PROXY_TABLE, NETPOL_TABLE]) {
      const got = tables.get(t);
      const exp = env.scratchListing.get(`${node}/${t}`);
      if (got !== exp) problems.push(`${node}: ${t} differs${firstDifference(exp ?? '', got ?? '<absent>')}`);
    }
  }
  return problems;
}

function firstDifference(a: string, b: string): string {
  const la = a.split('\n');
  const lb = b.split('\n');
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return ` at line ${i}: expected ${(la[i] ?? '<end>').slice(0, 300)} | kernel ${(lb[i] ?? '<end>').slice(0, 300)}`;
  }
  return '';
}

/**
 * Polls (bounded in time and count) until the API and every node's kernel are in the scenario's state;
 * returns the snapshot they agree on and how long it took.
 */
export async function waitConverged(env: DiffEnv, sc: ScenarioChange, timeoutMs = 30_000): Promise<{ snapshot: ClusterSnapshot; ms: number; polls: number }> {
  const t0 = performance.now();
  let last: string[] = [];
  for (let polls = 1; polls <= 2000; polls++) {
    const snapshot = await readLiveSnapshot(env.cluster, env.client);
    last = apiProblems(snapshot, sc);
    if (last.length === 0) {
      last = await kernelProblems(env, snapshot);
      if (last.length === 0) return { snapshot, ms: performance.now() - t0, polls };
    }
    if (performance.now() - t0 > timeoutMs) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`seed ${sc.seed}: not converged within ${timeoutMs} ms: ${last.slice(0, 6).join('; ')}`);
}

// ------------------------------------------------------------------------------------------ cells

export type CellKind =
  | 'pod-pod' | 'pod-clusterip' | 'pod-nodeport' | 'pod-lb' | 'pod-external' | 'node-pod' | 'node-clusterip'
  | 'external-pod' | 'external-clusterip' | 'external-nodeport' | 'external-lb';

export interface Cell {
  readonly kind: CellKind;
  /** The probe server: `pod:<ns/name>`, `node:<name>`, `external`. */
  readonly source: string;
  readonly ip: string;
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP';
  /** The flows the oracle traces; several when the kernel may take any of several paths (ECMP). */
  readonly flows: readonly FlowSpec[];
  /** Human label: `alpha/p0 -> beta/p3 TCP/80`, `external -> svc beta/svc-1 (LB 172.30.255.1) UDP/80`. */
  readonly label: string;
  /** pod -> pod cells: the destination pod. */
  readonly toPod?: string;
}

const POD_PORTS: readonly { port: number; protocol: 'TCP' | 'UDP' }[] = SERVED.map((s) => ({ port: s.port, protocol: s.protocol }));
/**
 * Pods to the lab's external side: its DNS resolver listens on TCP 53 (connected, unless an egress policy
 * drops), nothing on TCP 80 (refused). UDP is left out: the probe's datagram is not a DNS query.
 */
const EXTERNAL_PORTS: readonly number[] = [53, 80];

/** Every cell a scenario has, from the converged snapshot. */
export function cellsOf(env: DiffEnv, snap: ClusterSnapshot): Cell[] {
  const cells: Cell[] = [];
  const podSrc = (p: DiffPod) => ({ kind: 'pod' as const, namespace: p.namespace, name: p.name });
  for (const s of env.pods) {
    for (const d of env.pods) {
      for (const { port, protocol } of POD_PORTS) {
        cells.push({
          kind: 'pod-pod', source: `pod:${s.key}`, ip: d.ip, port, protocol, toPod: d.key, label: `${s.key} -> ${d.key} ${protocol}/${port}`,
          flows: [{ from: podSrc(s), to: { kind: 'pod', namespace: d.namespace, name: d.name, port }, protocol, port }],
        });
      }
    }
  }
  for (const n of env.nodes) {
    for (const d of env.pods) {
      for (const { port, protocol } of POD_PORTS) {
        cells.push({
          kind: 'node-pod', source: `node:${n.name}`, ip: d.ip, port, protocol, toPod: d.key, label: `node ${n.name} -> ${d.key} ${protocol}/${port}`,
          flows: [{ from: { kind: 'node', name: n.name }, to: { kind: 'pod', namespace: d.namespace, name: d.name, port }, protocol, port }],
        });
      }
    }
  }
  // The external side has no route into the pod or Service networks (only to the underlay and the LB pool).
  for (const d of env.pods) {
    cells.push({
      kind: 'external-pod', source: 'external', ip: d.ip, port: 80, protocol: 'TCP', toPod: d.key, label: `external -> ${d.key} TCP/80`,
      flows: [{ from: { kind: 'external' }, to: { kind: 'pod', namespace: d.namespace, name: d.name, port: 80 }, protocol: 'TCP', port: 80 }],
    });
  }
  for (const s of env.pods) {
    for (const port of EXTERNAL_PORTS) {
      cells.push({
        kind: 'pod-external', source: `pod:${s.key}`, ip: env.fixed.externalIP, port, protocol: 'TCP', label: `${s.key} -> external ${env.fixed.externalIP} TCP/${port}`,
        flows: [{ from: podSrc(s), to: { kind: 'ip', ip: env.fixed.externalIP, port }, protocol: 'TCP', port }],
      });
    }
  }
  const services = snap.services.filter(inScope).sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  for (const svc of services) {
    const spec = svc.spec ?? {};
    if (spec.type === 'ExternalName' || spec.clusterIP === undefined || spec.clusterIP === 'None') continue;
    const lbIPs = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter((ip) => ip !== '');
    for (const sp of spec.ports ?? []) {
      const protocol = sp.protocol === 'UDP' ? 'UDP' : 'TCP';
      const name = `svc ${keyOf(svc)}`;
      const to = (ip: string, port: number) => ({ kind: 'ip' as const, ip, port });
      for (const s of env.pods) {
        cells.push({ kind: 'pod-clusterip', source: `pod:${s.key}`, ip: spec.clusterIP, port: sp.port, protocol, label: `${s.key} -> ${name} (ClusterIP ${spec.clusterIP}) ${protocol}/${sp.port}`, flows: [{ from: podSrc(s), to: to(spec.clusterIP, sp.port), protocol, port: sp.port }] });
      }
      cells.push({ kind: 'external-clusterip', source: 'external', ip: spec.clusterIP, port: sp.port, protocol, label: `external -> ${name} (ClusterIP ${spec.clusterIP}) ${protocol}/${sp.port}`, flows: [{ from: { kind: 'external' }, to: to(spec.clusterIP, sp.port), protocol, port: sp.port }] });
      for (const n of env.nodes) {
        cells.push({ kind: 'node-clusterip', source: `node:${n.name}`, ip: spec.clusterIP, port: sp.port, protocol, label: `node ${n.name} -> ${name} (ClusterIP ${spec.clusterIP}) ${protocol}/${sp.port}`, flows: [{ from: { kind: 'node', name: n.name }, to: to(spec.clusterIP, sp.port), protocol, port: sp.port }] });
      }
      if (sp.nodePort !== undefined && sp.nodePort > 0) {
        const np = sp.nodePort;
        for (const n of env.nodes) {
          for (const s of env.pods) {
            cells.push({ kind: 'pod-nodeport', source: `pod:${s.key}`, ip: n.ip, port: np, protocol, label: `${s.key} -> ${name} (NodePort ${n.ip}:${np}) ${protocol}`, flows: [{ from: podSrc(s), to: to(n.ip, np), protocol, port: np }] });
          }
          cells.push({ kind: 'external-nodeport', source: 'external', ip: n.ip, port: np, protocol, label: `external -> ${name} (NodePort ${n.ip}:${np}) ${protocol}`, flows: [{ from: { kind: 'external' }, to: to(n.ip, np), protocol, port: np }] });
        }
      }
      for (const lb of lbIPs) {
        for (const s of env.pods) {
          cells.push({ kind: 'pod-lb', source: `pod:${s.key}`, ip: lb, port: sp.port, protocol, label: `${s.key} -> ${name} (LB ${lb}) ${protocol}/${sp.port}`, flows: [{ from: podSrc(s), to: to(lb, sp.port), protocol, port: sp.port }] });
        }
        // The external side reaches an LB address over an ECMP route: the trace lists every next hop's outcome.
        cells.push({ kind: 'external-lb', source: 'external', ip: lb, port: sp.port, protocol, label: `external -> ${name} (LB ${lb}) ${protocol}/${sp.port}`, flows: [{ from: { kind: 'external' }, to: to(lb, sp.port), protocol, port: sp.port }] });
      }
    }
  }
  return cells;
}

/**
 * How many cells the scenario implies, from the scenario's own objects (not the snapshot): pods x pods and
 * nodes x pods on the three served ports, pods to the external side on two ports, the external side to every
 * pod; per port of a Service with a ClusterIP, every pod, node and the external side to the ClusterIP; with
 * node ports, every pod and the external side to each node's port; with a LoadBalancer, every pod and the
 * external side to its address.
 */
export function expectedCellCount(sc: ScenarioChange, pods: number, nodes: number): number {
  let n = pods * pods * POD_PORTS.length + nodes * pods * POD_PORTS.length + pods * EXTERNAL_PORTS.length + pods;
  for (const svc of sc.services) {
    const spec = svc.spec ?? {};
    if (spec.type === 'ExternalName' || spec.clusterIP === 'None') continue;
    const ports = (spec.ports ?? []).length;
    const type = spec.type ?? 'ClusterIP';
    n += ports * (pods + nodes + 1);
    if (type === 'NodePort' || (type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false)) n += ports * nodes * (pods + 1);
    if (type === 'LoadBalancer') n += ports * (pods + 1);
  }
  return n;
}

// ------------------------------------------------------------------------------------------ probing

export async function probeCells(env: DiffEnv, cells: readonly Cell[], timeoutMs: number): Promise<ProbeResult[]> {
  const bySource = new Map<string, number[]>();
  cells.forEach((c, i) => {
    const list = bySource.get(c.source) ?? [];
    list.push(i);
    bySource.set(c.source, list);
  });
  const out = new Array<ProbeResult>(cells.length);
  await Promise.all([...bySource.entries()].map(async ([source, idx]) => {
    const server = env.servers.get(source);
    if (server === undefined) throw new Error(`no probe server for ${source}`);
    const results = await server.probe(idx.map((i) => { const c = cells[i] as Cell; return { ip: c.ip, port: c.port, protocol: c.protocol }; }), timeoutMs);
    if (results.length !== idx.length) throw new Error(`probe server ${source}: ${results.length} results for ${idx.length} targets`);
    idx.forEach((i, k) => { out[i] = results[k] as ProbeResult; });
  }));
  return out;
}

/** The errno a probe error names (the worker reports `e.code`, or for UDP sends the message). */
export function errnoOf(r: ProbeResult): string {
  return /\bE[A-Z]+\b/.exec(r.error ?? '')?.[0] ?? '';
}

/**
 * Whether a kernel probe result is one of the model's outcomes, mapped as the probe worker reports them:
 * delivered = connected; refused and rejected = refused (RST / ICMP port unreachable); dropped = timeout;
 * unreachable = refused, or an error ENETUNREACH / EHOSTUNREACH. `unresolved` never matches an IP probe.
 *
 * One more case, from the kernel: a datagram that netfilter drops or rejects in the SENDING namespace's own
 * output hook fails the send() itself with EPERM (the probe worker reports `error (send EPERM)`), before any
 * ICMP could arrive; TCP ignores that error in connect() and retransmits (a timeout or, after a reject's ICMP,
 * refused). So `rejected`/`dropped` also match EPERM, but only for UDP and only when the model stops the
 * packet at the source's own output hook (`stopsAtSourceOutput`).
 */
export function kernelShows(outcome: Outcome, r: ProbeResult, cell?: { protocol: 'TCP' | 'UDP' }, answer?: { stopsAtSourceOutput?: boolean }): boolean {
  const sendRefused = cell?.protocol === 'UDP' && answer?.stopsAtSourceOutput === true && r.result === 'error' && errnoOf(r) === 'EPERM';
  switch (outcome) {
    case 'delivered': return r.result === 'connected';
    case 'refused': return r.result === 'refused';
    case 'rejected': return r.result === 'refused' || sendRefused;
    case 'dropped': return r.result === 'timeout' || sendRefused;
    case 'unreachable': return r.result === 'refused' || (r.result === 'error' && ['ENETUNREACH', 'EHOSTUNREACH'].includes(errnoOf(r)));
    case 'unresolved': return false;
  }
}

export function describeResult(r: ProbeResult): string {
  return `${r.result}${r.error ? ` (${r.error})` : ''} in ${r.ms} ms`;
}

// ------------------------------------------------------------------------------------------ oracles

export interface OracleAnswer {
  readonly outcomes: readonly Outcome[];
  /** The trace's verdict and reason, per traced flow. */
  readonly explanation: string;
  /** The packet ends (dropped or rejected) in the output hook of the namespace that sent it. */
  readonly stopsAtSourceOutput?: boolean;
}

/** Answers cells for one snapshot; undefined for cells it does not cover. */
export interface Oracle {
  readonly name: string;
  /** A deliberately wrong oracle, to show the comparison can see a difference: never re-probed for. */
  readonly control?: boolean;
  answer(cell: Cell): OracleAnswer | undefined;
}

export type OracleFactory = (snapshot: ClusterSnapshot) => Oracle;

/**
 * The NetworkPolicy truth table (src/netpol/core computeMatrix, loopback allowed) as an oracle for pod ->
 * pod cells: every fixed pod serves the three ports, so an allowed cell is delivered and a denied one dropped.
 */
export const matrixOracle: OracleFactory = (snap) => {
  const model = buildPolicyModel({ namespaces: snap.namespaces, pods: enforcedPods(snap.pods), policies: snap.networkPolicies });
  const compiled = compilePolicies(model);
  const tables = new Map<string, ReturnType<typeof computeMatrix>>();
  return {
    name: 'netpol matrix',
    answer(cell) {
      if (cell.kind !== 'pod-pod' || cell.toPod === undefined) return undefined;
      const k = `${cell.protocol}/${cell.port}`;
      let m = tables.get(k);
      if (m === undefined) tables.set(k, (m = computeMatrix(compiled, { port: cell.port, protocol: cell.protocol, allowLoopback: true })));
      const from = m.pods.indexOf(cell.source.slice('pod:'.length));
      const to = m.pods.indexOf(cell.toPod);
      if (from < 0 || to < 0) throw new Error(`the matrix has no ${from < 0 ? cell.source : cell.toPod}`);
      const allowed = m.allowed[from * m.pods.length + to] === 1;
      return { outcomes: [allowed ? 'delivered' : 'dropped'], explanation: allowed ? 'policies allow' : 'policies deny' };
    },
  };
};

/**
 * The data-plane model (src/model): ClusterModel built from the converged snapshot; a cell's outcomes are
 * possibleOutcomes of its trace (every endpoint and ECMP next hop the kernel may pick).
 */
export const modelOracle: OracleFactory = (snap) => {
  const model = ClusterModel.build(snap);
  return {
    name: 'ClusterModel',
    answer(cell) {
      const outcomes = new Set<Outcome>();
      const explanation: string[] = [];
      let stopsAtSourceOutput = cell.flows.length > 0;
      for (const flow of cell.flows) {
        const trace = model.trace(flow);
        for (const o of possibleOutcomes(trace)) outcomes.add(o);
        const v = trace.verdict;
        explanation.push(`${v.outcome}: ${v.reason}${v.decidedBy !== undefined ? ` [${v.decidedBy}]` : ''}`);
        // Never left the sending namespace, and an output hook there ended it.
        const source = trace.hops[0]?.netns;
        stopsAtSourceOutput &&= (v.outcome === 'rejected' || v.outcome === 'dropped') && source !== undefined &&
          trace.hops.every((h) => h.netns === undefined || h.netns === source) && trace.hops.some((h) => h.kind === 'netfilter' && h.hook === 'output');
      }
      return { outcomes: [...outcomes], explanation: explanation.join(' / '), stopsAtSourceOutput };
    },
  };
};

/**
 * Controls: the same oracle on the snapshot with every NetworkPolicy removed, or with every EndpointSlice
 * removed. Wherever a policy denies, or a Service has endpoints, they must disagree with the kernel; a run in
 * which they never do would mean the comparison cannot see anything.
 */
export function withoutPolicies(inner: OracleFactory): OracleFactory {
  return (snap) => {
    const o = inner({ ...snap, networkPolicies: [] });
    return { name: `${o.name} without policies (control)`, control: true, answer: (cell) => o.answer(cell) };
  };
}

export function withoutEndpoints(inner: OracleFactory): OracleFactory {
  return (snap) => {
    const o = inner({ ...snap, endpointSlices: [] });
    return { name: `${o.name} without endpoints (control)`, control: true, answer: (cell) => o.answer(cell) };
  };
}

// ------------------------------------------------------------------------------------------ the loop

export interface Disagreement {
  readonly oracle: string;
  readonly seed: number;
  readonly cell: string;
  readonly kind: CellKind;
  readonly kernel: string;
  readonly kernelFirst: string;
  readonly model: readonly Outcome[];
  readonly explanation: string;
  readonly scenarioYaml: string;
}

export interface ScenarioResult {
  readonly seed: number;
  readonly cells: number;
  /** Cells each oracle answered, by oracle name. */
  readonly compared: Readonly<Record<string, number>>;
  readonly expectedCells: number;
  readonly disagreements: readonly Disagreement[];
  /** Cells whose first probe disagreed but whose long re-probe agreed (timing noise). */
  readonly reprobedAgreed: number;
  readonly applyMs: number;
  readonly convergeMs: number;
  readonly probeMs: number;
  readonly oracleMs: number;
  readonly totalMs: number;
  /** Kernel results over the cells (`connected`, `timeout`, ...), by cell kind. */
  readonly kernelResults: Readonly<Record<string, number>>;
  readonly byKind: Readonly<Record<string, number>>;
}

export function scenarioYaml(sc: ScenarioChange): string {
  return toYaml({ seed: sc.seed, namespaceLabels: sc.namespaceLabels, podLabels: sc.podLabels, policies: sc.policies, services: sc.services });
}

export interface RunOptions {
  /** Per-connection deadline of the first probe (ms). */
  readonly timeoutMs?: number;
  /** Deadline of the re-probe of a disagreeing cell (ms). */
  readonly reprobeTimeoutMs?: number;
  /** Cross-check the probe server against `flatnet probe`'s worker (probeCluster) on pod -> pod cells. */
  readonly crossCheck?: boolean;
}

/** Runs one scenario: apply, converge, probe, compare with every oracle. */
export async function runScenario(env: DiffEnv, seed: number, oracles: readonly OracleFactory[], opts: RunOptions = {}): Promise<ScenarioResult> {
  const t0 = performance.now();
  const sc = randomScenario(seed, env.fixed);
  await applyScenario(env, sc);
  const applyMs = performance.now() - t0;
  const { snapshot, ms: convergeMs } = await waitConverged(env, sc);
  const cells = cellsOf(env, snapshot);
  const tp = performance.now();
  const first = await probeCells(env, cells, opts.timeoutMs ?? 300);
  const probeMs = performance.now() - tp;
  const to = performance.now();
  const answered = oracles.map((f) => {
    const oracle = f(snapshot);
    return { name: oracle.name, control: oracle.control === true, answers: cells.map((c) => oracle.answer(c)) };
  });
  const oracleMs = performance.now() - to;
  const agrees = (a: OracleAnswer, r: ProbeResult, c: Cell) => a.outcomes.some((o) => kernelShows(o, r, c, a));
  const disagreesAt = (answers: readonly (OracleAnswer | undefined)[], results: readonly ProbeResult[], i: number) => {
    const a = answers[i];
    return a !== undefined && !agrees(a, results[i] as ProbeResult, cells[i] as Cell);
  };
  const real = answered.filter((o) => !o.control);
  const suspects = cells.map((_, i) => i).filter((i) => real.some(({ answers }) => disagreesAt(answers, first, i)));
  const final = [...first];
  if (suspects.length > 0) {
    const again = await probeCells(env, suspects.map((i) => cells[i] as Cell), opts.reprobeTimeoutMs ?? 2000);
    suspects.forEach((i, k) => { final[i] = again[k] as ProbeResult; });
  }
  const reprobedAgreed = suspects.filter((i) => !real.some(({ answers }) => disagreesAt(answers, final, i))).length;
  const yaml = suspects.length > reprobedAgreed ? scenarioYaml(sc) : '';
  const disagreements: Disagreement[] = [];
  for (const { name, control, answers } of answered) {
    for (const i of control ? cells.map((_, k) => k) : suspects) {
      if (!disagreesAt(answers, final, i)) continue;
      const c = cells[i] as Cell;
      const a = answers[i] as OracleAnswer;
      disagreements.push({
        oracle: name, seed, cell: c.label, kind: c.kind, kernel: describeResult(final[i] as ProbeResult), kernelFirst: describeResult(first[i] as ProbeResult),
        model: a.outcomes, explanation: a.explanation, scenarioYaml: control ? '' : yaml,
      });
    }
  }
  if (opts.crossCheck === true) await crossCheck(env, snapshot, cells, final);
  const kernelResults: Record<string, number> = {};
  const byKind: Record<string, number> = {};
  final.forEach((r, i) => {
    kernelResults[r.result] = (kernelResults[r.result] ?? 0) + 1;
    const k = (cells[i] as Cell).kind;
    byKind[k] = (byKind[k] ?? 0) + 1;
  });
  return {
    seed, cells: cells.length, expectedCells: expectedCellCount(sc, env.pods.length, env.nodes.length),
    compared: Object.fromEntries(answered.map(({ name, answers }) => [name, answers.filter((a) => a !== undefined).length])),
    disagreements, reprobedAgreed, applyMs, convergeMs, probeMs, oracleMs, totalMs: performance.now() - t0, kernelResults, byKind,
  };
}

/**
 * The probe server must classify exactly as `flatnet probe`'s worker: probe pod -> pod on TCP/80 and UDP/80
 * with probeCluster (one worker process per source) and require the same result in every cell.
 */
async function crossCheck(env: DiffEnv, snap: ClusterSnapshot, cells: readonly Cell[], ours: readonly ProbeResult[]): Promise<void> {
  const pods = snap.pods.filter(inScope);
  for (const protocol of ['TCP', 'UDP'] as const) {
    const report = await probeCluster({ cluster: env.cluster, pods, port: 80, protocol, timeoutMs: 1000, parallel: 8 });
    if (report.pods.length !== env.pods.length) throw new Error(`probeCluster probed ${report.pods.length} pods, not ${env.pods.length}`);
    for (const cell of report.cells) {
      const i = cells.findIndex((c) => c.kind === 'pod-pod' && c.source === `pod:${cell.from}` && c.toPod === cell.to && c.port === 80 && c.protocol === protocol);
      const mine = ours[i];
      if (i < 0 || mine === undefined) throw new Error(`no cell ${cell.from} -> ${cell.to} ${protocol}/80`);
      if (mine.result !== cell.result) {
        throw new Error(`probe server and probe worker disagree on ${cell.from} -> ${cell.to} ${protocol}/80: server ${describeResult(mine)}, worker ${cell.result} in ${cell.ms} ms`);
      }
    }
  }
}

export interface RunSummary {
  readonly oracles: readonly string[];
  readonly results: readonly ScenarioResult[];
  readonly wallMs: number;
}

export function totals(s: RunSummary): { cells: number; compared: Record<string, number>; disagreements: Disagreement[]; reprobedAgreed: number; kernel: Record<string, number>; byKind: Record<string, number> } {
  const compared: Record<string, number> = {};
  const kernel: Record<string, number> = {};
  const byKind: Record<string, number> = {};
  for (const r of s.results) {
    for (const [k, v] of Object.entries(r.compared)) compared[k] = (compared[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.kernelResults)) kernel[k] = (kernel[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.byKind)) byKind[k] = (byKind[k] ?? 0) + v;
  }
  return {
    cells: s.results.reduce((a, r) => a + r.cells, 0), compared, kernel, byKind,
    disagreements: s.results.flatMap((r) => r.disagreements), reprobedAgreed: s.results.reduce((a, r) => a + r.reprobedAgreed, 0),
  };
}

/** One line: scenarios, cells, disagreements per oracle, time. */
export function summaryLine(s: RunSummary): string {
  const t = totals(s);
  const per = (f: (r: ScenarioResult) => number) => (s.results.length === 0 ? 0 : s.results.reduce((a, r) => a + f(r), 0) / s.results.length);
  const dis = s.oracles.map((o) => `${t.disagreements.filter((d) => d.oracle === o).length} disagreements with ${o} (${t.compared[o] ?? 0} cells compared)`).join(', ');
  return `model differential: ${s.results.length} scenarios, ${t.cells} cells (kernel: ${Object.entries(t.kernel).map(([k, v]) => `${v} ${k}`).join(', ')}), ${dis}, ` +
    `${t.reprobedAgreed} re-probed into agreement, ${(s.wallMs / 1000).toFixed(1)} s ` +
    `(per scenario: apply ${per((r) => r.applyMs).toFixed(0)} ms, converge ${per((r) => r.convergeMs).toFixed(0)} ms, probe ${per((r) => r.probeMs).toFixed(0)} ms, ` +
    `oracles ${per((r) => r.oracleMs).toFixed(0)} ms, total ${per((r) => r.totalMs).toFixed(0)} ms)`;
}

export function renderDisagreement(d: Disagreement): string {
  return [
    `seed ${d.seed}: ${d.cell} [${d.kind}]`,
    `  kernel: ${d.kernel} (first probe: ${d.kernelFirst})`,
    `  ${d.oracle}: ${d.model.join(' | ')}: ${d.explanation}`,
    '  scenario:',
    ...d.scenarioYaml.trimEnd().split('\n').map((l) => `    ${l}`),
  ].join('\n');
}
