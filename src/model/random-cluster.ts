// Random small cluster configurations for differential testing (model vs kernel). A scenario relabels a
// FIXED set of pods and namespaces (the pods are never recreated) and replaces the NetworkPolicies and
// Services with 0-4 and 0-3 random ones. Over many seeds every field of both kinds occurs: selectors with
// matchLabels and every matchExpressions operator, empty selectors, namespaceSelector, both in one peer,
// ipBlocks (with except) around node IPs, the external address and the pod CIDRs, ports by number, by name
// and as ranges, TCP and UDP, every policyTypes form, `[]` (deny all) and `[{}]` (allow all); every Service
// type, traffic policies Local, ClientIP affinity, targetPorts by number and by name. Everything generated is
// valid for the API server (src/api/validation, after defaulting and allocation). Deterministic in the seed
// (mulberry32; no Math.random). Pure.
import { mulberry32 } from './seeded-random.ts';
import type {
  IPBlock, LabelSelector, LabelSelectorRequirement, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
  NetworkPolicyPort, Protocol, Service, ServicePort, ServiceSpec,
} from '../api/types.ts';
import { formatCidr, formatIPv4, parseCidr, parseIPv4, prefixMask } from '../net/ipv4.ts';

// ------------------------------------------------------------------------------------------ PRNG

export { mulberry32 };

/** Helpers over a PRNG. */
export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new RangeError('pick from an empty list');
    return xs[this.int(xs.length)] as T;
  }
  /** Picks by weight: `[[weight, value], ...]`. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    const total = choices.reduce((s, [w]) => s + w, 0);
    let r = this.next() * total;
    for (const [w, v] of choices) {
      if (r < w) return v;
      r -= w;
    }
    const last = choices[choices.length - 1];
    if (last === undefined) throw new RangeError('weighted pick from an empty list');
    return last[1];
  }
  /** k distinct elements (k clipped to the list's length), in random order. */
  sample<T>(xs: readonly T[], k: number): T[] {
    const pool = [...xs];
    const out: T[] = [];
    while (out.length < k && pool.length > 0) out.push(pool.splice(this.int(pool.length), 1)[0] as T);
    return out;
  }
}

// ------------------------------------------------------------------------------------------ input / output

export interface FixedPod {
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  /** The pod's IP (fixed pods keep theirs); used for /32 ipBlocks. */
  readonly ip: string;
}

export interface FixedNode {
  readonly name: string;
  /** InternalIP on the underlay. */
  readonly ip: string;
  /** The node's pod CIDR (spec.podCIDR). */
  readonly podCIDR: string;
}

/** A container port every fixed pod declares (the same on each pod). */
export interface DeclaredPort {
  readonly name: string;
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP';
}

/** What a scenario works with: the fixed pods, their namespaces and nodes, and the lab's addresses. */
export interface FixedPods {
  readonly namespaces: readonly string[];
  readonly pods: readonly FixedPod[];
  readonly nodes: readonly FixedNode[];
  /** The cluster pod CIDR (10.244.0.0/16). */
  readonly podCIDR: string;
  /** The underlay subnet (172.31.S.0/24). */
  readonly underlay: string;
  /** The external side's address (172.31.S.254). */
  readonly externalIP: string;
  readonly declaredPorts: readonly DeclaredPort[];
}

/**
 * One scenario: the labels the scenario's keys take on each namespace and pod (a key absent is removed), and
 * the complete sets of NetworkPolicies and Services (in the scenario's namespaces) that should exist.
 */
export interface ScenarioChange {
  readonly seed: number;
  /** namespace -> labels among NAMESPACE_LABEL_KEYS. */
  readonly namespaceLabels: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** `namespace/name` -> labels among POD_LABEL_KEYS. */
  readonly podLabels: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly policies: readonly NetworkPolicy[];
  readonly services: readonly Service[];
}

/** The label keys scenarios manage on pods and namespaces; other labels are never touched. */
export const POD_LABEL_KEYS = ['app', 'tier'] as const;
export const NAMESPACE_LABEL_KEYS = ['team', 'env'] as const;
const POD_LABEL_VALUES: Readonly<Record<(typeof POD_LABEL_KEYS)[number], readonly string[]>> = { app: ['a', 'b', 'c'], tier: ['web', 'db'] };
const NAMESPACE_LABEL_VALUES: Readonly<Record<(typeof NAMESPACE_LABEL_KEYS)[number], readonly string[]>> = { team: ['red', 'blue'], env: ['prod', 'dev'] };
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
export const MAX_POLICIES = 4;
export const MAX_SERVICES = 3;

// ------------------------------------------------------------------------------------------ labels and selectors

function randomLabels(rng: Rng, keys: readonly string[], values: Readonly<Record<string, readonly string[]>>, absent: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) {
    if (rng.chance(absent)) continue;
    out[k] = rng.pick(values[k] ?? []);
  }
  return out;
}

interface SelectorSpace {
  readonly keys: readonly string[];
  readonly values: Readonly<Record<string, readonly string[]>>;
}

function randomRequirement(rng: Rng, space: SelectorSpace): LabelSelectorRequirement {
  const key = rng.pick(space.keys);
  const op = rng.pick(['In', 'NotIn', 'Exists', 'DoesNotExist'] as const);
  if (op === 'Exists' || op === 'DoesNotExist') return { key, operator: op };
  const pool = space.values[key] ?? [];
  return { key, operator: op, values: rng.sample(pool, rng.between(1, Math.min(2, pool.length))).sort() };
}

/** A selector: empty, matchLabels, matchExpressions, or both. */
function randomSelector(rng: Rng, space: SelectorSpace, emptyWeight: number): LabelSelector {
  const form = rng.weighted([[emptyWeight, 'empty'], [4, 'labels'], [4, 'exprs'], [2, 'both']] as const);
  const sel: LabelSelector = {};
  if (form === 'labels' || form === 'both') {
    const key = rng.pick(space.keys);
    sel.matchLabels = { [key]: rng.pick(space.values[key] ?? []) };
  }
  if (form === 'exprs' || form === 'both') sel.matchExpressions = Array.from({ length: rng.between(1, 2) }, () => randomRequirement(rng, space));
  return sel;
}

function podSpace(): SelectorSpace {
  return { keys: POD_LABEL_KEYS, values: POD_LABEL_VALUES };
}

function namespaceSpace(fixed: FixedPods): SelectorSpace {
  return { keys: [...NAMESPACE_LABEL_KEYS, NAMESPACE_NAME_LABEL], values: { ...NAMESPACE_LABEL_VALUES, [NAMESPACE_NAME_LABEL]: fixed.namespaces } };
}

// ------------------------------------------------------------------------------------------ ipBlocks

const host32 = (ip: string): string => `${ip}/32`;

function networkOf(ip: string, prefix: number): string {
  return formatCidr({ network: (parseIPv4(ip) & prefixMask(prefix)) >>> 0, prefix });
}

/** Candidate ipBlocks: each `except` is a strict subset of its `cidr`. */
function ipBlockCandidates(fixed: FixedPods): IPBlock[] {
  const out: IPBlock[] = [{ cidr: fixed.podCIDR }, { cidr: '0.0.0.0/0', except: [fixed.podCIDR] }, { cidr: host32(fixed.externalIP) }];
  out.push({ cidr: fixed.underlay, except: [host32(fixed.externalIP)] });
  for (const n of fixed.nodes) {
    out.push({ cidr: fixed.podCIDR, except: [n.podCIDR] });
    out.push({ cidr: n.podCIDR });
    out.push({ cidr: host32(n.ip) });
    out.push({ cidr: fixed.underlay, except: [host32(n.ip)] });
    const onNode = fixed.pods.filter((p) => p.node === n.name);
    const first = onNode[0];
    if (first !== undefined) out.push({ cidr: n.podCIDR, except: [host32(first.ip)] });
  }
  for (const p of fixed.pods) {
    out.push({ cidr: host32(p.ip) });
    // A /30 around the pod: the pod and up to three neighbours.
    out.push({ cidr: networkOf(p.ip, 30) });
  }
  return out;
}

// ------------------------------------------------------------------------------------------ policies

function randomPolicyPort(rng: Rng, fixed: FixedPods): NetworkPolicyPort {
  const form = rng.weighted([[4, 'number'], [3, 'name'], [2, 'range'], [1, 'protocol']] as const);
  const protocol = rng.weighted([[3, undefined], [3, 'TCP'], [3, 'UDP']] as const);
  const withProto = <T extends NetworkPolicyPort>(p: T): T => (protocol === undefined ? p : { ...p, protocol });
  switch (form) {
    case 'number': return withProto({ port: rng.pick([80, 81, 82]) });
    case 'name': {
      // Mostly a name some container declares, with its protocol; sometimes the other protocol or an undeclared name.
      const declared = rng.pick(fixed.declaredPorts);
      const mode = rng.weighted([[6, 'exact'], [2, 'other'], [1, 'missing']] as const);
      if (mode === 'missing') return withProto({ port: 'undeclared' });
      if (mode === 'other') return { port: declared.name, protocol: declared.protocol === 'TCP' ? 'UDP' : 'TCP' };
      return rng.chance(0.3) && declared.protocol === 'TCP' ? { port: declared.name } : { port: declared.name, protocol: declared.protocol };
    }
    case 'range': {
      const lo = rng.pick([79, 80, 81]);
      return withProto({ port: lo, endPort: lo + rng.between(0, 2) });
    }
    case 'protocol': return { protocol: rng.pick(['TCP', 'UDP'] as const) };
  }
}

function randomPeer(rng: Rng, fixed: FixedPods, ipBlocks: readonly IPBlock[]): NetworkPolicyPeer {
  const form = rng.weighted([[4, 'pod'], [3, 'namespace'], [3, 'both'], [3, 'ipBlock']] as const);
  switch (form) {
    case 'pod': return { podSelector: randomSelector(rng, podSpace(), 1) };
    case 'namespace': return { namespaceSelector: randomSelector(rng, namespaceSpace(fixed), 1) };
    case 'both': return { namespaceSelector: randomSelector(rng, namespaceSpace(fixed), 1), podSelector: randomSelector(rng, podSpace(), 1) };
    case 'ipBlock': {
      const b = rng.pick(ipBlocks);
      return { ipBlock: b.except === undefined ? { cidr: b.cidr } : { cidr: b.cidr, except: [...b.except] } };
    }
  }
}

type RuleList = 'absent' | 'empty' | 'allowAll' | 'rules';

function randomRules<R extends NetworkPolicyIngressRule | NetworkPolicyEgressRule>(
  rng: Rng, fixed: FixedPods, ipBlocks: readonly IPBlock[], peersKey: 'from' | 'to', form: RuleList,
): R[] | undefined {
  switch (form) {
    case 'absent': return undefined;
    case 'empty': return [];
    case 'allowAll': return [{} as R];
    case 'rules': {
      return Array.from({ length: rng.weighted([[5, 1], [2, 2]] as const) }, () => {
        const rule: Record<string, unknown> = {};
        if (rng.chance(0.75)) rule[peersKey] = Array.from({ length: rng.weighted([[5, 1], [2, 2]] as const) }, () => randomPeer(rng, fixed, ipBlocks));
        if (rng.chance(0.65)) rule['ports'] = Array.from({ length: rng.weighted([[5, 1], [2, 2]] as const) }, () => randomPolicyPort(rng, fixed));
        return rule as R;
      });
    }
  }
}

function randomPolicy(rng: Rng, fixed: FixedPods, name: string, ipBlocks: readonly IPBlock[]): NetworkPolicy {
  type Types = readonly ('Ingress' | 'Egress')[] | undefined;
  const types = rng.weighted<Types>([[2, undefined], [3, ['Ingress']], [2, ['Egress']], [3, ['Ingress', 'Egress']]]);
  const ruleForm = (applies: boolean): RuleList =>
    rng.weighted([[applies ? 1 : 3, 'absent'], [applies ? 2 : 1, 'empty'], [1, 'allowAll'], [applies ? 6 : 1, 'rules']] as const);
  const ingressApplies = types === undefined || types.includes('Ingress');
  const egressApplies = types === undefined || types.includes('Egress');
  const ingress = randomRules<NetworkPolicyIngressRule>(rng, fixed, ipBlocks, 'from', ruleForm(ingressApplies));
  const egress = randomRules<NetworkPolicyEgressRule>(rng, fixed, ipBlocks, 'to', ruleForm(egressApplies));
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy',
    metadata: { name, namespace: rng.pick(fixed.namespaces) },
    spec: {
      podSelector: randomSelector(rng, podSpace(), 2),
      ...(ingress !== undefined ? { ingress } : {}),
      ...(egress !== undefined ? { egress } : {}),
      ...(types !== undefined ? { policyTypes: [...types] } : {}),
    },
  };
}

// ------------------------------------------------------------------------------------------ services

function randomServiceSelector(rng: Rng): Record<string, string> {
  const form = rng.weighted([[4, 'app'], [2, 'tier'], [2, 'both']] as const);
  const out: Record<string, string> = {};
  if (form !== 'tier') out['app'] = rng.pick(POD_LABEL_VALUES.app);
  if (form !== 'app') out['tier'] = rng.pick(POD_LABEL_VALUES.tier);
  return out;
}

function randomServicePorts(rng: Rng, fixed: FixedPods): ServicePort[] {
  const n = rng.weighted([[3, 1], [2, 2]] as const);
  const ports: ServicePort[] = [];
  const used = new Set<string>();
  for (let i = 0; ports.length < n && i < 10; i++) {
    const protocol: Protocol = rng.weighted([[3, 'TCP'], [2, 'UDP']] as const);
    const port = rng.pick([80, 81, 8080, 9000]);
    if (used.has(`${protocol}/${port}`)) continue;
    used.add(`${protocol}/${port}`);
    const targetForm = rng.weighted([[2, 'default'], [4, 'number'], [4, 'name']] as const);
    let targetPort: number | string | undefined;
    if (targetForm === 'number') targetPort = rng.pick([80, 81, 82]);
    else if (targetForm === 'name') {
      // Mostly a name declared with the port's protocol (resolves), sometimes one that does not resolve.
      const same = fixed.declaredPorts.filter((d) => d.protocol === protocol);
      targetPort = same.length > 0 && rng.chance(0.8) ? rng.pick(same).name : rng.pick(fixed.declaredPorts).name;
    }
    ports.push({
      ...(n > 1 ? { name: `p${i}` } : rng.chance(0.3) ? { name: 'only' } : {}),
      port, protocol,
      ...(targetPort !== undefined ? { targetPort } : {}),
    });
  }
  return ports;
}

function randomService(rng: Rng, fixed: FixedPods, name: string): Service {
  const type = rng.weighted([[4, 'ClusterIP'], [3, 'NodePort'], [3, 'LoadBalancer'], [2, 'headless'], [1, 'ExternalName']] as const);
  const metadata = { name, namespace: rng.pick(fixed.namespaces) };
  if (type === 'ExternalName') {
    const target = rng.chance(0.5) ? 'example.com' : `svc-0.${rng.pick(fixed.namespaces)}.svc.cluster.local`;
    return { apiVersion: 'v1', kind: 'Service', metadata, spec: { type: 'ExternalName', externalName: target, ...(rng.chance(0.5) ? { ports: [{ port: 80, protocol: 'TCP' }] } : {}) } };
  }
  const spec: ServiceSpec = { ports: randomServicePorts(rng, fixed) };
  // Mostly a selector; a Service without one has no endpoints (kube-proxy rejects).
  if (rng.chance(0.92)) spec.selector = randomServiceSelector(rng);
  if (type === 'headless') spec.clusterIP = 'None';
  else {
    spec.type = type;
    if (rng.chance(0.25)) spec.internalTrafficPolicy = 'Local';
    if (type !== 'ClusterIP' && rng.chance(0.4)) spec.externalTrafficPolicy = 'Local';
    if (type === 'LoadBalancer' && rng.chance(0.2)) spec.allocateLoadBalancerNodePorts = false;
  }
  if (rng.chance(0.25)) {
    spec.sessionAffinity = 'ClientIP';
    if (rng.chance(0.5)) spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: rng.pick([10, 60, 3600]) } };
  }
  return { apiVersion: 'v1', kind: 'Service', metadata, spec };
}

// ------------------------------------------------------------------------------------------ scenario

/** A random configuration of the fixed pods' cluster, deterministic in `seed`. */
export function randomScenario(seed: number, fixed: FixedPods): ScenarioChange {
  const rng = new Rng(seed);
  const namespaceLabels: Record<string, Record<string, string>> = {};
  for (const ns of fixed.namespaces) namespaceLabels[ns] = randomLabels(rng, NAMESPACE_LABEL_KEYS, NAMESPACE_LABEL_VALUES, 0.3);
  const podLabels: Record<string, Record<string, string>> = {};
  for (const p of fixed.pods) podLabels[`${p.namespace}/${p.name}`] = randomLabels(rng, POD_LABEL_KEYS, POD_LABEL_VALUES, 0.25);
  const ipBlocks = ipBlockCandidates(fixed);
  const nPolicies = rng.weighted([[1, 0], [3, 1], [3, 2], [2, 3], [1, 4]] as const);
  const policies = Array.from({ length: nPolicies }, (_, i) => randomPolicy(rng, fixed, `np-${i}`, ipBlocks));
  const nServices = rng.weighted([[1, 0], [3, 1], [3, 2], [2, 3]] as const);
  const services = Array.from({ length: nServices }, (_, i) => randomService(rng, fixed, `svc-${i}`));
  return { seed, namespaceLabels, podLabels, policies, services };
}

// ------------------------------------------------------------------------------------------ diff

export interface LabelPatch {
  /** A JSON merge patch: `{metadata: {labels: {k: v | null}}}`. */
  readonly patch: { readonly metadata: { readonly labels: Readonly<Record<string, string | null>> } };
}

export interface ObjectRef { readonly namespace: string; readonly name: string }

/** What to do to the API to go from one scenario (or a fresh cluster) to the next. */
export interface ScenarioOps {
  readonly namespaceLabels: readonly (LabelPatch & { readonly namespace: string })[];
  readonly podLabels: readonly (LabelPatch & ObjectRef)[];
  readonly deletePolicies: readonly ObjectRef[];
  readonly createPolicies: readonly NetworkPolicy[];
  readonly deleteServices: readonly ObjectRef[];
  readonly createServices: readonly Service[];
}

function labelPatch(keys: readonly string[], prev: Readonly<Record<string, string>> | undefined, next: Readonly<Record<string, string>>): LabelPatch | undefined {
  const labels: Record<string, string | null> = {};
  let changed = false;
  for (const k of keys) {
    const a = prev?.[k];
    const b = next[k];
    if (prev !== undefined && a === b) continue;
    labels[k] = b ?? null;
    changed = true;
  }
  return changed ? { patch: { metadata: { labels } } } : undefined;
}

const refOf = (o: { metadata: { namespace?: string; name?: string } }): ObjectRef => ({ namespace: o.metadata.namespace ?? '', name: o.metadata.name ?? '' });
const refKey = (r: ObjectRef): string => `${r.namespace}/${r.name}`;

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function diffObjects<T extends NetworkPolicy | Service>(prev: readonly T[], next: readonly T[]): { deletes: ObjectRef[]; creates: T[] } {
  const before = new Map(prev.map((o) => [refKey(refOf(o)), o]));
  const after = new Map(next.map((o) => [refKey(refOf(o)), o]));
  const deletes: ObjectRef[] = [];
  const creates: T[] = [];
  for (const [k, o] of before) {
    const n = after.get(k);
    if (n === undefined || canonical(n.spec) !== canonical(o.spec)) deletes.push(refOf(o));
  }
  for (const [k, o] of after) {
    const p = before.get(k);
    if (p === undefined || canonical(p.spec) !== canonical(o.spec)) creates.push(o);
  }
  return { deletes, creates };
}

/**
 * The operations turning `prev` into `next` (`prev` undefined: a cluster where the scenario keys are in an
 * unknown state, so every managed key is written and nothing is known to exist). Unchanged policies and
 * Services are kept; changed ones are deleted and created again.
 */
export function diffScenarios(prev: ScenarioChange | undefined, next: ScenarioChange): ScenarioOps {
  const namespaceLabels: (LabelPatch & { namespace: string })[] = [];
  for (const [namespace, labels] of Object.entries(next.namespaceLabels)) {
    const p = labelPatch(NAMESPACE_LABEL_KEYS, prev?.namespaceLabels[namespace], labels);
    if (p !== undefined) namespaceLabels.push({ namespace, ...p });
  }
  const podLabels: (LabelPatch & ObjectRef)[] = [];
  for (const [key, labels] of Object.entries(next.podLabels)) {
    const p = labelPatch(POD_LABEL_KEYS, prev?.podLabels[key], labels);
    const slash = key.indexOf('/');
    if (p !== undefined) podLabels.push({ namespace: key.slice(0, slash), name: key.slice(slash + 1), ...p });
  }
  const pol = diffObjects(prev?.policies ?? [], next.policies);
  const svc = diffObjects(prev?.services ?? [], next.services);
  return { namespaceLabels, podLabels, deletePolicies: pol.deletes, createPolicies: pol.creates, deleteServices: svc.deletes, createServices: svc.creates };
}

/** The underlay /24 of an address (helper for building FixedPods). */
export function underlayOf(ip: string): string {
  return networkOf(ip, 24);
}

/** `a.b.c.254` of an underlay (the lab's external side). */
export function externalAddressOf(underlay: string): string {
  const c = parseCidr(underlay);
  return formatIPv4((c.network + 254) >>> 0);
}
