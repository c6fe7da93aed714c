// The compiled, indexed form of the policy model: per pod and direction, whether it is isolated and the list
// of rules that may admit traffic, each rule's peers precomputed as a set of pod indices (Uint8Array over
// PolicyModel.pods) plus its ipBlocks for addresses outside the pod list. A pods x pods truth table for one
// port is then a few passes over bytes (computeMatrix), and the same structure lowers to per-pod kernel
// allow-lists of (IP set, port set) pairs (lowerPod; see docs/network-policy.md). Pure.
import type { Protocol } from '../../api/types.ts';
import {
  peerHoldsPod, portAdmits, selectorMatches,
  type Direction, type PeerView, type PodView, type PolicyModel, type PolicyView, type PortView, type RuleView,
} from './model.ts';

export interface CompiledPeer {
  view: PeerView;
  /** pods[i] = 1 when pod i is this peer (selectors; for an ipBlock, the pod's primary IP is inside it). */
  pods: Uint8Array;
}

export interface CompiledRule {
  /** `namespace/name`. */
  policy: string;
  policyName: string;
  direction: Direction;
  rule: number;
  /** The rule has no `from`/`to`: every pod and every IP. */
  anyPeer: boolean;
  peers: readonly CompiledPeer[];
  /** Union of the peers' pod sets (all ones when anyPeer). */
  peerPods: Uint8Array;
  /** The rule has no `ports`: every protocol and port. */
  anyPort: boolean;
  ports: readonly PortView[];
  hasNamedPorts: boolean;
}

export interface CompiledDirection {
  isolated: boolean;
  /** `namespace/name` of the policies selecting the pod for this direction. */
  policies: readonly string[];
  /** Rules of those policies (shared objects: one per policy rule, whatever the number of pods it selects). */
  rules: readonly CompiledRule[];
}

export interface CompiledPolicies {
  model: PolicyModel;
  /** Indexed like model.pods. */
  ingress: readonly CompiledDirection[];
  egress: readonly CompiledDirection[];
}

function podsByNamespace(model: PolicyModel): Map<string, PodView[]> {
  const out = new Map<string, PodView[]>();
  for (const pod of model.pods) {
    const list = out.get(pod.namespace) ?? [];
    list.push(pod);
    out.set(pod.namespace, list);
  }
  return out;
}

function compilePeer(model: PolicyModel, byNs: Map<string, PodView[]>, peer: PeerView): CompiledPeer {
  const pods = new Uint8Array(model.pods.length);
  if (peer.kind === 'ipBlock') {
    for (const pod of model.pods) if (peerHoldsPod(model, peer, pod)) pods[pod.index] = 1;
  } else if (peer.kind === 'pods') {
    const nsSel = peer.namespaceSelector;
    const candidates: PodView[] = [];
    if (nsSel === undefined) candidates.push(...(byNs.get(peer.policyNamespace) ?? []));
    else for (const [ns, list] of byNs) if (selectorMatches(nsSel, model.namespaceLabels.get(ns) ?? {})) candidates.push(...list);
    for (const pod of candidates) if (peer.podSelector === undefined || selectorMatches(peer.podSelector, pod.labels)) pods[pod.index] = 1;
  }
  return { view: peer, pods };
}

function compileRule(model: PolicyModel, byNs: Map<string, PodView[]>, policy: PolicyView, rule: RuleView, direction: Direction): CompiledRule {
  const n = model.pods.length;
  const anyPeer = rule.peers === undefined;
  const peers = (rule.peers ?? []).map((p) => compilePeer(model, byNs, p));
  const peerPods = new Uint8Array(n);
  if (anyPeer) peerPods.fill(1);
  else for (const p of peers) for (let i = 0; i < n; i++) peerPods[i] = (peerPods[i] ?? 0) | (p.pods[i] ?? 0);
  const ports = rule.ports ?? [];
  return {
    policy: policy.key,
    policyName: policy.name,
    direction,
    rule: rule.index,
    anyPeer,
    peers,
    peerPods,
    anyPort: rule.ports === undefined,
    ports,
    hasNamedPorts: ports.some((p) => p.kind === 'named'),
  };
}

/** Precomputes isolation and peer sets for every pod. O(policies x rules x pods). */
export function compilePolicies(model: PolicyModel): CompiledPolicies {
  const byNs = podsByNamespace(model);
  const empty = (): { isolated: boolean; policies: string[]; rules: CompiledRule[] } => ({ isolated: false, policies: [], rules: [] });
  const ingress = model.pods.map(empty);
  const egress = model.pods.map(empty);
  for (const policy of model.policies) {
    const selected = (byNs.get(policy.namespace) ?? []).filter((pod) => selectorMatches(policy.podSelector, pod.labels));
    if (selected.length === 0) continue;
    const sides: [Direction, boolean, readonly RuleView[], typeof ingress][] = [
      ['ingress', policy.ingressType, policy.ingress, ingress],
      ['egress', policy.egressType, policy.egress, egress],
    ];
    for (const [direction, applies, rules, table] of sides) {
      if (!applies) continue;
      const compiled = rules.map((r) => compileRule(model, byNs, policy, r, direction));
      for (const pod of selected) {
        const entry = table[pod.index];
        if (!entry) continue;
        entry.isolated = true;
        entry.policies.push(policy.key);
        entry.rules.push(...compiled);
      }
    }
  }
  return { model, ingress, egress };
}

export interface MatrixOptions {
  port: number;
  protocol: Protocol;
  /**
   * Count a pod's connections to itself as allowed whatever the policies say. Off by default: the API leaves
   * loopback undefined (upstream's conformance tests ignore it); in flatnet's lab such traffic never leaves
   * the pod's network namespace, so the kernel cannot filter it.
   */
  allowLoopback?: boolean;
}

export interface PolicyMatrix {
  /** Pod keys, the order of rows (sources) and columns (destinations). */
  pods: readonly string[];
  port: number;
  protocol: Protocol;
  allowLoopback: boolean;
  /** Row-major [from * n + to]: 1 when the source's egress allows it. */
  egress: Uint8Array;
  /** Row-major [from * n + to]: 1 when the destination's ingress allows it. */
  ingress: Uint8Array;
  /** Row-major [from * n + to]: egress AND ingress (and loopback when allowLoopback). */
  allowed: Uint8Array;
}

function ruleAdmitsStatic(rule: CompiledRule, protocol: Protocol, port: number): boolean {
  return rule.anyPort || rule.ports.some((p) => p.kind !== 'named' && portAdmits(p, protocol, port, undefined));
}

/** The pods x pods truth table for one port and protocol. O(pods^2 x rules per pod) byte operations. */
export function computeMatrix(compiled: CompiledPolicies, options: MatrixOptions): PolicyMatrix {
  const pods = compiled.model.pods;
  const n = pods.length;
  const { port, protocol } = options;
  const egress = new Uint8Array(n * n);
  const ingress = new Uint8Array(n * n);
  const row = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const dir = compiled.egress[i];
    if (!dir || !dir.isolated) {
      egress.fill(1, i * n, i * n + n);
      continue;
    }
    row.fill(0);
    for (const rule of dir.rules) {
      if (ruleAdmitsStatic(rule, protocol, port)) {
        for (let j = 0; j < n; j++) row[j] = (row[j] ?? 0) | (rule.peerPods[j] ?? 0);
      } else if (rule.hasNamedPorts) {
        for (let j = 0; j < n; j++) {
          if (row[j] || !rule.peerPods[j]) continue;
          const dest = pods[j];
          if (rule.ports.some((p) => p.kind === 'named' && portAdmits(p, protocol, port, dest))) row[j] = 1;
        }
      }
    }
    egress.set(row, i * n);
  }
  for (let j = 0; j < n; j++) {
    const dir = compiled.ingress[j];
    if (!dir || !dir.isolated) {
      for (let i = 0; i < n; i++) ingress[i * n + j] = 1;
      continue;
    }
    row.fill(0);
    const dest = pods[j];
    for (const rule of dir.rules) {
      if (!rule.anyPort && !rule.ports.some((p) => portAdmits(p, protocol, port, dest))) continue;
      for (let i = 0; i < n; i++) row[i] = (row[i] ?? 0) | (rule.peerPods[i] ?? 0);
    }
    for (let i = 0; i < n; i++) ingress[i * n + j] = row[i] ?? 0;
  }
  const allowed = new Uint8Array(n * n);
  for (let k = 0; k < n * n; k++) allowed[k] = (egress[k] ?? 0) & (ingress[k] ?? 0);
  if (options.allowLoopback) for (let i = 0; i < n; i++) allowed[i * n + i] = 1;
  return { pods: pods.map((p) => p.key), port, protocol, allowLoopback: options.allowLoopback === true, egress, ingress, allowed };
}

// ------------------------------------------------------------------------------------------ lowering

/** A set of addresses: everything, or pod IPs plus CIDR blocks minus their exceptions. */
export interface IpSet {
  any: boolean;
  addresses: string[];
  blocks: { cidr: string; except: string[] }[];
}

/** A protocol and an inclusive port range; a protocol-only policy port is 0-65535. */
export interface LoweredPort {
  protocol: Protocol;
  from: number;
  to: number;
}

/** Traffic to admit: from/to any address in `ips` on any of `ports` (null: every protocol and port). */
export interface LoweredAllow {
  ips: IpSet;
  ports: LoweredPort[] | null;
  /** The policy rule it comes from. */
  policy: string;
  rule: number;
}

export interface LoweredDirection {
  /** When false the kernel admits everything in this direction and `allow` is empty. */
  isolated: boolean;
  policies: string[];
  allow: LoweredAllow[];
}

/** One pod's kernel-ready filter: per direction an allow-list; traffic matching no entry of an isolated direction is dropped. */
export interface LoweredPod {
  pod: string;
  ips: string[];
  ingress: LoweredDirection;
  egress: LoweredDirection;
}

/** The peer addresses of a rule (without a per-pod restriction) are the same for every pod it applies to. */
const rulePeerSets = new WeakMap<CompiledRule, IpSet>();

function peerIpSet(model: PolicyModel, rule: CompiledRule, onlyPods?: Uint8Array): IpSet {
  if (onlyPods === undefined) {
    let memo = rulePeerSets.get(rule);
    if (memo === undefined) rulePeerSets.set(rule, (memo = computePeerIpSet(model, rule)));
    return memo;
  }
  return computePeerIpSet(model, rule, onlyPods);
}

function computePeerIpSet(model: PolicyModel, rule: CompiledRule, onlyPods?: Uint8Array): IpSet {
  if (rule.anyPeer && !onlyPods) return { any: true, addresses: [], blocks: [] };
  const addresses = new Set<string>();
  const blocks: { cidr: string; except: string[] }[] = [];
  if (onlyPods) {
    model.pods.forEach((pod, i) => {
      if (onlyPods[i]) for (const ip of pod.ips) addresses.add(ip);
    });
    return { any: false, addresses: [...addresses], blocks };
  }
  for (const peer of rule.peers) {
    if (peer.view.kind === 'ipBlock') blocks.push({ cidr: peer.view.cidrText, except: peer.view.except.map((e) => e.text) });
    else model.pods.forEach((pod, i) => {
      if (peer.pods[i]) for (const ip of pod.ips) addresses.add(ip);
    });
  }
  return { any: false, addresses: [...addresses], blocks };
}

function lowerStaticPort(p: PortView): LoweredPort | undefined {
  if (p.kind === 'all') return { protocol: p.protocol, from: 0, to: 65535 };
  if (p.kind === 'range') return { protocol: p.protocol, from: p.from, to: p.to };
  return undefined;
}

function lowerIngressRule(model: PolicyModel, rule: CompiledRule, pod: PodView): LoweredAllow[] {
  const ips = peerIpSet(model, rule);
  if (rule.anyPort) return [{ ips, ports: null, policy: rule.policy, rule: rule.rule }];
  const ports: LoweredPort[] = [];
  for (const p of rule.ports) {
    const fixed = lowerStaticPort(p);
    if (fixed) ports.push(fixed);
    else if (p.kind === 'named') {
      const n = pod.namedPorts.get(`${p.protocol}/${p.name}`);
      if (n !== undefined) ports.push({ protocol: p.protocol, from: n, to: n });
    }
  }
  return ports.length === 0 ? [] : [{ ips, ports, policy: rule.policy, rule: rule.rule }];
}

function lowerEgressRule(model: PolicyModel, rule: CompiledRule): LoweredAllow[] {
  const out: LoweredAllow[] = [];
  if (rule.anyPort) return [{ ips: peerIpSet(model, rule), ports: null, policy: rule.policy, rule: rule.rule }];
  const fixed = rule.ports.map(lowerStaticPort).filter((p): p is LoweredPort => p !== undefined);
  if (fixed.length > 0) out.push({ ips: peerIpSet(model, rule), ports: fixed, policy: rule.policy, rule: rule.rule });
  // A named egress port means "the port of that name on whichever pod is the destination": one entry per
  // resolved number, holding the peer pods that declare the name with that number.
  for (const p of rule.ports) {
    if (p.kind !== 'named') continue;
    const byNumber = new Map<number, Uint8Array>();
    model.pods.forEach((pod, i) => {
      if (!rule.peerPods[i]) return;
      const n = pod.namedPorts.get(`${p.protocol}/${p.name}`);
      if (n === undefined) return;
      const set = byNumber.get(n) ?? new Uint8Array(model.pods.length);
      set[i] = 1;
      byNumber.set(n, set);
    });
    for (const [num, set] of [...byNumber].sort((a, b) => a[0] - b[0])) {
      out.push({ ips: peerIpSet(model, rule, set), ports: [{ protocol: p.protocol, from: num, to: num }], policy: rule.policy, rule: rule.rule });
    }
  }
  return out;
}

/** The kernel-ready allow-lists of one pod (by index). */
export function lowerPod(compiled: CompiledPolicies, podIndex: number): LoweredPod {
  const model = compiled.model;
  const pod = model.pods[podIndex];
  if (!pod) throw new RangeError(`no pod at index ${podIndex}`);
  const ing = compiled.ingress[podIndex];
  const eg = compiled.egress[podIndex];
  return {
    pod: pod.key,
    ips: [...pod.ips],
    ingress: {
      isolated: ing?.isolated ?? false,
      policies: [...(ing?.policies ?? [])],
      allow: (ing?.rules ?? []).flatMap((r) => lowerIngressRule(model, r, pod)),
    },
    egress: {
      isolated: eg?.isolated ?? false,
      policies: [...(eg?.policies ?? [])],
      allow: (eg?.rules ?? []).flatMap((r) => lowerEgressRule(model, r)),
    },
  };
}
