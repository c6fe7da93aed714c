// NetworkPolicy as kernel rules: the compiled policies (compile.ts), lowered per pod (lowerPod), become one
// nftables table per node (`ip flatnet-netpol`), as typed data from src/nft. Pure.
//
// Layout (see docs/network-policy.md, "Enforcement in the kernel"):
//   map egress-pods  { ipv4_addr : verdict }   local pod IP -> jump egress-<ns>/<pod>   (isolated pods only)
//   map ingress-pods { ipv4_addr : verdict }   local pod IP -> jump ingress-<ns>/<pod>
//   set <dir>/<ns>/<policy>/<rule>/<entry>     the peer pods' IPs of one lowered allow entry (shared by pods)
//   chain forward  (filter, hook forward, priority 0, after kube-proxy's DNAT at -100):
//       ct state established,related accept; ip saddr vmap @egress-pods; ip daddr vmap @ingress-pods
//   chain input    (filter, hook input, priority 0): pods reaching the node itself, egress only
//       ct state established,related accept; ip saddr vmap @egress-pods
//   chain egress-<ns>/<pod>:  one counted `return` per allow entry, then `counter drop` naming the policies
//   chain ingress-<ns>/<pod>: one counted `accept` per allow entry, then `counter drop` naming the policies
// Only pods of this node get chains and map entries, so egress is decided on the source pod's node and
// ingress on the destination pod's node. Traffic the node itself originates (output hook) is never filtered.
import type { Pod } from '../../api/types.ts';
import type { Chain, Match, NftMap, NftSet, Rule, Table } from '../../nft/types.ts';
import type { CompiledPolicies, LoweredAllow, LoweredDirection, LoweredPort } from './compile.ts';
import { lowerPod } from './compile.ts';
import type { Direction, PolicyModel } from './model.ts';

export const NETPOL_TABLE = 'flatnet-netpol';
/** After kube-proxy's DNAT (-100) and its filter chains (-110): policy sees the backend pod IP. */
export const NETPOL_PRIORITY = 0;
export const EGRESS_MAP = 'egress-pods';
export const INGRESS_MAP = 'ingress-pods';

const MAX_READABLE_NAME = 200;

/** 32-bit FNV-1a, twice with different seeds, as 12 base-36 characters: short stable names for long keys. */
function shortHash(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193 + 2) >>> 0;
  }
  return (a.toString(36).padStart(7, '0') + b.toString(36).padStart(7, '0')).slice(0, 12);
}

function readable(prefix: string, rest: string): string {
  const name = `${prefix}-${rest}`;
  return name.length <= MAX_READABLE_NAME && /^[A-Za-z0-9_./-]+$/.test(rest) ? name : `${prefix}-h${shortHash(rest)}`;
}

/** The chain that filters one local pod in one direction: `ingress-x/a`, `egress-x/a`. */
export function podChainName(direction: Direction, podKey: string): string {
  return readable(direction, podKey);
}

/** The set holding the peer IPs of allow entry `entry` of a policy rule (same for every pod it applies to). */
export function peerSetName(direction: Direction, policyKey: string, rule: number, entry: number): string {
  return readable(direction === 'ingress' ? 'from' : 'to', `${policyKey}/${rule}/${entry}`);
}

const protoName = (p: LoweredPort['protocol']): string => p.toLowerCase();

function portMatches(port: LoweredPort): Match[] {
  const proto: Match = { kind: 'cmp', left: 'meta l4proto', right: protoName(port.protocol) };
  if (port.from <= 0 && port.to >= 65535) return [proto];
  return [proto, { kind: 'cmp', left: 'th dport', right: port.from === port.to ? port.from : `${port.from}-${port.to}` }];
}

/** Why a policy cannot be enforced by this backend (undefined when it can). */
export function unexpressibleReason(model: PolicyModel, policyKey: string): string | undefined {
  const policy = model.policies.find((p) => p.key === policyKey);
  if (!policy) return undefined;
  const problems: string[] = [];
  for (const [direction, rules] of [['ingress', policy.ingress], ['egress', policy.egress]] as const) {
    for (const rule of rules) {
      for (const peer of rule.peers ?? []) {
        if (peer.kind !== 'ipBlock') continue;
        const bad = [peer.cidr, ...peer.except.map((e) => e.cidr)].some((c) => c.ip.family !== 4);
        if (bad) {
          problems.push(`spec.${direction}[${rule.index}].${direction === 'ingress' ? 'from' : 'to'}[${peer.index}].ipBlock ${peer.cidrText} is IPv6, ` +
            'but flatnet enforces policies in an IPv4 (ip family) nftables table on single-stack IPv4 nodes');
        }
      }
    }
  }
  return problems.length === 0 ? undefined : problems.join('; ');
}

/** Every policy of the model this backend cannot express, with the reason. */
export function unexpressiblePolicies(model: PolicyModel): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of model.policies) {
    const why = unexpressibleReason(model, p.key);
    if (why !== undefined) out.set(p.key, why);
  }
  return out;
}

/**
 * The pods the policy agent enforces for: those with an IP, not terminal (Succeeded/Failed), not on the host
 * network. The agent and the data-plane model both filter with this, so their tables are the same.
 */
export function enforcedPods<P extends Pod>(pods: readonly P[]): P[] {
  return pods.filter((p) => {
    const phase = p.status?.phase;
    const hasIP = (p.status?.podIPs?.length ?? 0) > 0 || (p.status?.podIP ?? '') !== '';
    return hasIP && phase !== 'Succeeded' && phase !== 'Failed' && p.spec?.hostNetwork !== true;
  });
}

export interface NodePolicyTableOptions {
  /** Pod keys (`namespace/name`) of the pods running on this node. */
  localPods: ReadonlySet<string>;
  tableName?: string;
}

export interface NodePolicyTable {
  table: Table;
  /** Local pods isolated per direction, with the policies isolating them. */
  isolated: { pod: string; direction: Direction; policies: string[] }[];
}

function dropComment(direction: Direction, pod: string, policies: readonly string[]): string {
  // 128 bytes at most (nft): name as many policies as fit, then how many more.
  const head = `deny ${direction} ${pod} isolated by `;
  let text = head;
  for (let i = 0; i < policies.length; i++) {
    const next = `${i === 0 ? '' : ','}${policies[i]}`;
    const tail = i < policies.length - 1 ? ` +${policies.length - i - 1}` : '';
    if ((text + next + tail).length > 120) return `${text} +${policies.length - i}`;
    text += next;
  }
  return text;
}

/** Peer sets per compiled policy index, by name (immutable, so tables can share them). */
const sharedSets = new WeakMap<CompiledPolicies, Map<string, NftSet>>();

/**
 * The node's policy table: chains for its isolated pods, maps dispatching by pod IP, and the peer sets those
 * chains use. Deterministic for the same input (sorted), so `diffRulesets` against the last applied table
 * yields only the changes.
 */
export function buildNodePolicyTable(compiled: CompiledPolicies, options: NodePolicyTableOptions): NodePolicyTable {
  const model = compiled.model;
  const sets = new Map<string, NftSet>();
  const chains: Chain[] = [];
  const egressMap: { key: string[]; chain: string }[] = [];
  const ingressMap: { key: string[]; chain: string }[] = [];
  const isolated: NodePolicyTable['isolated'] = [];
  // Entry index per (direction, policy, rule), counted the way lowerPod emits them.
  const setFor = (direction: Direction, allow: LoweredAllow, entry: number): string => {
    const name = peerSetName(direction, allow.policy, allow.rule, entry);
    if (!sets.has(name)) {
      // A peer set depends only on the compiled policies: every node's table (and every trace slice) shares one.
      let shared = sharedSets.get(compiled);
      if (shared === undefined) sharedSets.set(compiled, (shared = new Map()));
      let set = shared.get(name);
      if (set === undefined) {
        const addrs = [...new Set(allow.ips.addresses)].sort();
        set = { name, type: ['ipv4_addr'], comment: `${direction} peers of ${allow.policy} rule ${allow.rule}`, elements: addrs.map((a) => ({ key: [a] })) };
        shared.set(name, set);
      }
      sets.set(name, set);
    }
    return name;
  };
  const chainFor = (direction: Direction, podKey: string, lowered: LoweredDirection): Chain => {
    const addrSel = direction === 'ingress' ? 'ip saddr' : 'ip daddr';
    const allowVerdict = direction === 'ingress' ? { kind: 'accept' as const } : { kind: 'return' as const };
    const rules: Rule[] = [];
    const entryIndex = new Map<string, number>();
    for (const allow of lowered.allow) {
      const rk = `${allow.policy}#${allow.rule}`;
      const entry = entryIndex.get(rk) ?? 0;
      entryIndex.set(rk, entry + 1);
      const addrParts: Match[][] = [];
      if (allow.ips.any) addrParts.push([]);
      else {
        if (allow.ips.addresses.length > 0) addrParts.push([{ kind: 'lookup', keys: [addrSel], set: setFor(direction, allow, entry) }]);
        // IPv6 blocks never match an IPv4 packet (and the agent refuses policies holding them).
        for (const b of allow.ips.blocks.filter((x) => !x.cidr.includes(':'))) {
          const m: Match[] = [{ kind: 'cmp', left: addrSel, right: b.cidr }];
          if (b.except.length > 0) m.push({ kind: 'cmp', left: addrSel, op: '!=', right: [...b.except] });
          addrParts.push(m);
        }
      }
      const portParts: Match[][] = allow.ports === null ? [[]] : allow.ports.map(portMatches);
      for (const a of addrParts) {
        for (const p of portParts) {
          rules.push({ match: [...a, ...p], statements: [{ kind: 'counter' }], verdict: allowVerdict, comment: `allow ${allow.policy} rule ${allow.rule}` });
        }
      }
    }
    rules.push({ match: [], statements: [{ kind: 'counter' }], verdict: { kind: 'drop' }, comment: dropComment(direction, podKey, lowered.policies) });
    return { name: podChainName(direction, podKey), rules, comment: `${direction} of pod ${podKey}` };
  };
  // The node's pods in model order (sorted by key), found by key when they are few (a trace's slice).
  const local = options.localPods.size * 8 < model.pods.length
    ? [...options.localPods].map((k) => model.podsByKey.get(k)).filter((p) => p !== undefined).sort((a, b) => a.index - b.index)
    : model.pods.filter((p) => options.localPods.has(p.key));
  for (const pod of local) {
    const lowered = lowerPod(compiled, pod.index);
    const ipv4 = pod.ips.filter((ip) => !ip.includes(':'));
    if (ipv4.length === 0) continue;
    for (const direction of ['egress', 'ingress'] as const) {
      const dir = lowered[direction];
      if (!dir.isolated) continue;
      const chain = chainFor(direction, pod.key, dir);
      chains.push(chain);
      isolated.push({ pod: pod.key, direction, policies: [...dir.policies] });
      for (const ip of ipv4) (direction === 'egress' ? egressMap : ingressMap).push({ key: [ip], chain: chain.name });
    }
  }
  const established: Rule = { match: [{ kind: 'cmp', left: 'ct state', right: ['established', 'related'] }], verdict: { kind: 'accept' } };
  const dispatchEgress: Rule = { match: [], verdict: { kind: 'vmap', key: ['ip saddr'], map: EGRESS_MAP } };
  const dispatchIngress: Rule = { match: [], verdict: { kind: 'vmap', key: ['ip daddr'], map: INGRESS_MAP } };
  const base: Chain[] = [
    { name: 'forward', base: { type: 'filter', hook: 'forward', priority: NETPOL_PRIORITY, policy: 'accept' }, rules: [established, dispatchEgress, dispatchIngress] },
    { name: 'input', base: { type: 'filter', hook: 'input', priority: NETPOL_PRIORITY, policy: 'accept' }, rules: [established, dispatchEgress] },
  ];
  const map = (name: string, entries: { key: string[]; chain: string }[]): NftMap => ({
    name, type: ['ipv4_addr'], valueType: 'verdict',
    elements: entries.sort((x, y) => (x.key[0] ?? '').localeCompare(y.key[0] ?? '')).map((e) => ({ key: e.key, value: { kind: 'jump', chain: e.chain } })),
  });
  chains.sort((x, y) => x.name.localeCompare(y.name));
  return {
    table: {
      family: 'ip',
      name: options.tableName ?? NETPOL_TABLE,
      comment: 'flatnet NetworkPolicy enforcement',
      sets: [...sets.values()].sort((x, y) => x.name.localeCompare(y.name)),
      maps: [map(EGRESS_MAP, egressMap), map(INGRESS_MAP, ingressMap)],
      chains: [...base, ...chains],
    },
    isolated,
  };
}

// ------------------------------------------------------------------------------------------ counters

/** One counted rule of the policy table, read back from `nft -j list table`. */
export interface PolicyRuleCounter {
  chain: string;
  direction: Direction | undefined;
  /** `namespace/name` of the pod the chain filters (from the chain name; undefined for hashed names). */
  pod: string | undefined;
  kind: 'allow' | 'deny';
  /** Allow rules: the policy that admitted; deny rules: the isolating policies named in the comment. */
  policies: string[];
  rule: number | undefined;
  comment: string;
  packets: number;
  bytes: number;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The counted rules of the policy table in `nft -j list table ip flatnet-netpol` output. */
export function parsePolicyCounters(nftJson: unknown): PolicyRuleCounter[] {
  const out: PolicyRuleCounter[] = [];
  const items = isObj(nftJson) && Array.isArray(nftJson['nftables']) ? nftJson['nftables'] : [];
  for (const item of items) {
    if (!isObj(item) || !isObj(item['rule'])) continue;
    const r = item['rule'];
    const chain = typeof r['chain'] === 'string' ? r['chain'] : '';
    const comment = typeof r['comment'] === 'string' ? r['comment'] : '';
    const exprs = Array.isArray(r['expr']) ? r['expr'] : [];
    const counter = exprs.map((e) => (isObj(e) && isObj(e['counter']) ? e['counter'] : undefined)).find((c) => c !== undefined);
    if (!counter) continue;
    const direction: Direction | undefined = chain.startsWith('ingress-') ? 'ingress' : chain.startsWith('egress-') ? 'egress' : undefined;
    const podPart = direction ? chain.slice(direction.length + 1) : '';
    const pod = podPart.includes('/') ? podPart : undefined;
    const allow = /^allow (\S+) rule (\d+)$/.exec(comment);
    const deny = /^deny (?:ingress|egress) \S+ isolated by (.*)$/.exec(comment);
    out.push({
      chain, direction, pod,
      kind: allow ? 'allow' : 'deny',
      policies: allow ? [allow[1] ?? ''] : (deny?.[1] ?? '').split(/[ ,]/).filter((s) => s !== '' && !s.startsWith('+')),
      rule: allow ? Number(allow[2]) : undefined,
      comment,
      packets: typeof counter['packets'] === 'number' ? counter['packets'] : 0,
      bytes: typeof counter['bytes'] === 'number' ? counter['bytes'] : 0,
    });
  }
  return out;
}

/** Denied packets per isolating policy (a packet dropped for a pod isolated by P and Q counts for both). */
export function deniedPacketsByPolicy(counters: readonly PolicyRuleCounter[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of counters) {
    if (c.kind !== 'deny') continue;
    for (const p of c.policies) out.set(p, (out.get(p) ?? 0) + c.packets);
  }
  return out;
}
