// The walk: one flow, hop by hop, through the namespaces, links, routing tables and netfilter hooks the
// lab builds — the path the seeds draw (container -> eth0 -> veth pair -> cni0 -> routing table + overlay
// -> node network -> remote bridge -> pod), with kube-proxy's DNAT, conntrack, SNAT and NetworkPolicy on
// the way. Netfilter decisions are never guessed: each hook is `evaluate()` of the node's real ruleset.
// What the walk itself decides is what the kernel decides outside netfilter: routes, ARP on a bridge,
// source-address selection, br_netfilter for bridged frames, VXLAN encapsulation, local delivery. Pure.
import { RRType } from '../dns/core/dns-types.ts';
import type { ResourceRecord } from '../dns/core/dns-types.ts';
import { requestPathOf } from '../ingress/core/match.ts';
import { matchRoute } from '../ingress/core/routing-table.ts';
import { labPortName, NODE_UPLINK, POD_BRIDGE, UNDERLAY_BRIDGE, VXLAN_DEVICE, VXLAN_PORT, VXLAN_VNI } from '../lab/core/names.ts';
import { tryParseIPv4 } from '../net/ipv4.ts';
import { evaluateConnection } from '../netpol/core/evaluate.ts';
import { NETPOL_TABLE, podChainName } from '../netpol/core/nft-policy.ts';
import { evaluate, type EvalResult, type Packet as NftPacket } from '../nft/evaluate.ts';
import { renderRule } from '../nft/render.ts';
import type { Chain, Hook, Rule, Ruleset, Table } from '../nft/types.ts';
import { KUBE_PROXY_TABLE } from '../proxy/core/nft-rules.ts';
import { servicePortNameString, type ServicePortInfo } from '../proxy/core/service-ports.ts';
import { podResolvConf, renderHostsFile } from '../runtime/core/dns-files.ts';
import type { ClusterModel, NodeInfo, PodInfo, RulesetSlice } from './cluster-model.ts';
import {
  ModelError,
  type Addr, type EndpointChoice, type FlowSpec, type Hop, type IngressView, type NatView, type Outcome, type PacketView, type PolicyView,
  type RuleHit, type ServiceHit, type Trace, type TraceProtocol, type TraceSource, type TraceTarget, type Verdict,
} from './types.ts';

const DEFAULT_SOURCE_PORT = 40000;
/** Bound on node namespaces one flow may enter (a routing loop would exceed it). */
const MAX_NODE_VISITS = 16;

/** The packet inside the walk. `mark` is the skb mark: it lives while the packet stays in one namespace. */
interface Pkt {
  readonly protocol: TraceProtocol; readonly src: Required<Addr>; readonly dst: Required<Addr>; readonly mark?: number;
  /** A `masquerade fully-random` picked the source port: the kernel's choice, unknown to the model. */
  readonly randomSport?: boolean;
}

/** One stay in one namespace, for the reply path: the packet as it came in and as it left. */
interface Segment {
  readonly where: string;
  readonly netns?: string;
  readonly inIf?: string;
  readonly outIf?: string;
  readonly in: Pkt;
  readonly out: Pkt;
  readonly nat: readonly NatView[];
}

interface PendingChoice { readonly pickKey: string; readonly r: number; readonly choice: { readonly endpoint: string; outcome: Outcome } }
interface PendingEcmp { readonly node: string; readonly entry: { outcome: Outcome } }

interface Run {
  readonly model: ClusterModel;
  readonly quiet: boolean;
  /** Forced numgen draw per `<netns>/<hook>`: which endpoint a Service rule picks. */
  readonly picks: Map<string, number>;
  readonly ecmpNode: string | undefined;
  readonly endpointPref: string | undefined;
  readonly hops: Hop[];
  readonly notes: string[];
  readonly segments: Segment[];
  readonly pendingChoices: PendingChoice[];
  readonly pendingEcmp: PendingEcmp[];
  nodeVisits: number;
  /** The sender's source port is an ephemeral one the model does not know (a proxy's own connection). */
  ephemeralSport: boolean;
}

const view = (p: Pkt): PacketView => ({ protocol: p.protocol, src: p.randomSport === true ? { ip: p.src.ip } : p.src, dst: p.dst });
const fmt = (a: Addr): string => (a.port !== undefined ? `${a.ip}:${a.port}` : a.ip);
const flowText = (p: Pkt): string => `${p.protocol} ${p.randomSport === true ? `${p.src.ip}:*` : fmt(p.src)} -> ${fmt(p.dst)}`;

function push(run: Run, hop: () => Hop): void {
  if (!run.quiet) run.hops.push(hop());
}

function stop(outcome: Outcome, reason: string, decidedBy?: string): Verdict {
  return decidedBy !== undefined ? { outcome, reason, decidedBy } : { outcome, reason };
}

// ------------------------------------------------------------------------------------- places

const podWhere = (p: PodInfo): string => `pod ${p.key}`;
const nodeWhere = (n: NodeInfo): string => `node ${n.name}`;

/** The address a node's kernel picks as source for a packet leaving by `oif` (the interface's address). */
function ifaceAddress(node: NodeInfo, oif: string): string {
  if (oif === POD_BRIDGE) return node.gateway;
  if (oif === VXLAN_DEVICE) return node.vtep;
  return node.ip;
}

function localAddresses(model: ClusterModel, node: NodeInfo): Set<string> {
  const out = new Set([node.ip, node.gateway]);
  if (model.snapshot.backend === 'vxlan') out.add(node.vtep);
  return out;
}

function isLoopback(ip: string): boolean {
  const n = tryParseIPv4(ip);
  return n !== undefined && (n >>> 24) === 127;
}

// ------------------------------------------------------------------------------------- netfilter

interface HookOutcome {
  /** The node's rules this packet could match (ClusterModel.rulesetFor), which the hook walked. */
  readonly slice: RulesetSlice;
  readonly verdict: 'accept' | 'drop' | 'reject';
  readonly pkt: Pkt;
  readonly result: EvalResult;
  readonly nat: readonly NatView[];
}

const chainIndexes = new WeakMap<Table, Map<string, Chain>>();

function findChain(table: Table | undefined, name: string): Chain | undefined {
  if (table === undefined) return undefined;
  let ix = chainIndexes.get(table);
  if (ix === undefined) chainIndexes.set(table, (ix = new Map(table.chains.map((c) => [c.name, c]))));
  return ix.get(name);
}

function ruleHits(o: HookOutcome): RuleHit[] {
  const rs = o.slice.ruleset;
  const result = o.result;
  const out: RuleHit[] = [];
  for (const step of result.path) {
    const table = rs.tables.find((t) => t.name === step.table && t.family === step.family);
    const rule: Rule | undefined = step.rule >= 0 ? findChain(table, step.chain)?.rules[step.rule] : undefined;
    let text = step.action === 'policy' ? `policy ${step.detail}` : step.action === 'end-of-chain' ? `(end of chain: ${step.detail})`
      : step.action === 'skip-nat-chain' ? `(skipped: ${step.detail})` : '';
    if (rule !== undefined) {
      try {
        text = renderRule(rule);
      } catch {
        text = step.detail;
      }
    }
    out.push({
      family: step.family, table: step.table, chain: step.chain, index: step.rule, text,
      ...(rule?.comment !== undefined ? { comment: rule.comment } : {}), action: step.action, detail: step.detail,
    });
  }
  return out;
}

/** Did this hook's walk end in a `masquerade fully-random` (the kernel then picks a random source port)? */
function fullyRandomMasquerade(rs: Ruleset, result: EvalResult): boolean {
  if (!result.nat.some((n) => n.kind === 'masquerade')) return false;
  for (const step of result.path) {
    if (step.rule < 0) continue;
    const rule = findChain(rs.tables.find((t) => t.name === step.table && t.family === step.family), step.chain)?.rules[step.rule];
    if ((rule?.statements ?? []).some((st) => st.kind === 'masquerade' && st.fullyRandom === true)) return true;
  }
  return false;
}

function runHook(run: Run, node: NodeInfo, hook: Hook, pkt: Pkt, iif: string | undefined, oif: string | undefined): HookOutcome {
  const local = localAddresses(run.model, node);
  const isLocal = (ip: string): boolean => local.has(ip) || isLoopback(ip);
  const facts: NftPacket = {
    saddr: pkt.src.ip, daddr: pkt.dst.ip, l4proto: pkt.protocol === 'TCP' ? 'tcp' : 'udp', sport: pkt.src.port, dport: pkt.dst.port,
    ...(iif !== undefined ? { iif } : {}), ...(oif !== undefined ? { oif, masqueradeAddr: ifaceAddress(node, oif) } : {}),
    ctState: 'new', mark: pkt.mark ?? 0,
    fibDaddrType: isLocal(pkt.dst.ip) ? 'local' : 'unicast',
    fibSaddrType: isLocal(pkt.src.ip) ? 'local' : 'unicast',
  };
  const r = run.picks.get(`${node.netns}/${hook}`) ?? 0;
  const slice = run.model.rulesetFor(node.name, { saddr: pkt.src.ip, daddr: pkt.dst.ip, dport: pkt.dst.port });
  const result = evaluate(slice.ruleset, facts, hook, { random: () => r });
  const after: Pkt = {
    protocol: pkt.protocol,
    src: { ip: result.packet.saddr, port: result.packet.sport ?? pkt.src.port },
    dst: { ip: result.packet.daddr, port: result.packet.dport ?? pkt.dst.port },
    ...(result.packet.mark !== undefined && result.packet.mark !== 0 ? { mark: result.packet.mark } : {}),
    ...(pkt.randomSport === true || fullyRandomMasquerade(slice.ruleset, result) ? { randomSport: true } : {}),
  };
  const addr = (a: { addr: string; port?: number }): Addr => (a.port !== undefined ? { ip: a.addr, port: a.port } : { ip: a.addr });
  const nat: NatView[] = result.nat.map((n) => ({
    kind: n.kind, from: addr(n.from), to: n.kind === 'masquerade' && after.randomSport === true ? { ip: n.to.addr } : addr(n.to), by: `${n.table}/${n.chain}`,
  }));
  return { slice, verdict: result.verdict, pkt: after, result, nat };
}

function hookSummary(hook: Hook, o: HookOutcome, hits: readonly RuleHit[]): string {
  const decisive = hits.filter((h) => h.index >= 0);
  const chains = [...new Set(decisive.map((h) => `${h.table}/${h.chain}`))];
  const nat = o.nat.map((n) => `${n.kind} ${fmt(n.from)} -> ${n.to.port !== undefined ? fmt(n.to) : `${n.to.ip}:*`}`).join(', ');
  const what = o.verdict === 'accept' ? (nat !== '' ? nat : 'accept') : o.verdict;
  return `${hook}: ${chains.length > 0 ? chains.join(' > ') : 'no rule matched'}: ${what}`;
}

function netfilterHop(run: Run, node: NodeInfo, hook: Hook, o: HookOutcome, iif: string | undefined, oif: string | undefined): void {
  push(run, () => {
    const hits = ruleHits(o);
    return {
      kind: 'netfilter', where: nodeWhere(node), netns: node.netns, hook,
      ...(iif !== undefined ? { inIf: iif } : {}), ...(oif !== undefined ? { outIf: oif } : {}),
      packet: view(o.pkt), summary: hookSummary(hook, o, hits), rules: hits, ...(o.nat.length > 0 ? { nat: o.nat } : {}),
    };
  });
}

function lastDecision(model: ClusterModel, node: NodeInfo, o: HookOutcome): string {
  const hits = ruleHits(o).filter((h) => h.index >= 0 || h.action === 'policy');
  const last = hits[hits.length - 1];
  if (last === undefined) return 'a chain policy';
  if (last.index < 0) return `${last.family} ${last.table} ${last.chain} ${last.text}`;
  return `${last.family} ${last.table} ${last.chain} rule ${last.index}${last.comment !== undefined ? ` (${last.comment})` : ''}`;
}

// ------------------------------------------------------------------------------------- Services

function findServicePort(model: ClusterModel, node: NodeInfo, pkt: Pkt, o: HookOutcome): { sp: ServicePortInfo; via: ServiceHit['via'] } | undefined {
  const proto = pkt.protocol.toLowerCase();
  const local = localAddresses(model, node).has(pkt.dst.ip) || isLoopback(pkt.dst.ip);
  for (const sp of o.slice.servicePorts) {
    if (sp.protocol !== proto) continue;
    if (sp.port === pkt.dst.port) {
      if (sp.clusterIP === pkt.dst.ip) return { sp, via: 'clusterIP' };
      if (sp.loadBalancerIPs.includes(pkt.dst.ip)) return { sp, via: 'loadBalancer' };
      if (sp.externalIPs.includes(pkt.dst.ip)) return { sp, via: 'externalIP' };
    }
  }
  if (local) for (const sp of o.slice.servicePorts) if (sp.protocol === proto && sp.nodePort !== 0 && sp.nodePort === pkt.dst.port) return { sp, via: 'nodePort' };
  return undefined;
}

/** The endpoint chains a Service rule may pick from: read off the `numgen random mod N vmap {...}` it walked. */
function numgenTargets(o: HookOutcome): { mod: number; targets: string[] } | undefined {
  const rs = o.slice.ruleset;
  const table = rs.tables.find((t) => t.name === KUBE_PROXY_TABLE);
  for (const step of o.result.path) {
    if (step.table !== KUBE_PROXY_TABLE || step.action !== 'vmap' || step.rule < 0) continue;
    const rule = findChain(table, step.chain)?.rules[step.rule];
    const v = rule?.verdict;
    if (v?.kind !== 'vmap-inline' || !v.key.some((k) => typeof k !== 'string')) continue;
    const key = v.key.find((k) => typeof k !== 'string');
    const mod = key !== undefined && typeof key !== 'string' ? key.mod : v.entries.length;
    const targets = v.entries.map((e) => {
      const chainName = e.verdict.kind === 'goto' || e.verdict.kind === 'jump' ? e.verdict.chain : '';
      const chain = findChain(table, chainName);
      for (const r of chain?.rules ?? []) {
        for (const s of r.statements ?? []) if (s.kind === 'dnat') return `${s.addr}:${s.port ?? ''}`;
      }
      return '';
    });
    return { mod, targets };
  }
  return undefined;
}

function serviceHop(run: Run, node: NodeInfo, hook: Hook, before: Pkt, o: HookOutcome): void {
  const found = findServicePort(run.model, node, before, o);
  if (found === undefined) return;
  const { sp, via } = found;
  const svc = run.model.service(sp.namespace, sp.name);
  const pickKey = `${node.netns}/${hook}`;
  const choices: (EndpointChoice & { outcome: Outcome })[] = [];
  const dnat = o.nat.find((n) => n.kind === 'dnat');
  const targets = numgenTargets(o);
  if (targets !== undefined && !run.quiet) {
    const chosen = dnat !== undefined ? fmt(dnat.to) : '';
    targets.targets.forEach((t, i) => {
      const ip = t.slice(0, t.lastIndexOf(':'));
      const pod = run.model.podByIP(ip);
      const choice = {
        endpoint: t, ...(pod !== undefined ? { pod: pod.key } : {}), ...(pod?.nodeName ? { node: pod.nodeName } : {}),
        probability: 1 / targets.targets.length, outcome: 'dropped' as Outcome, chosen: t === chosen,
      };
      choices.push(choice);
      if (t !== chosen) run.pendingChoices.push({ pickKey, r: (i + 0.5) / targets.mod, choice });
    });
  } else if (dnat !== undefined && !run.quiet) {
    const ip = dnat.to.ip;
    const pod = run.model.podByIP(ip);
    choices.push({ endpoint: fmt(dnat.to), ...(pod !== undefined ? { pod: pod.key } : {}), ...(pod?.nodeName ? { node: pod.nodeName } : {}), probability: 1, outcome: 'dropped', chosen: true });
  }
  const hit: ServiceHit = {
    service: servicePortNameString(sp), type: svc?.spec?.type ?? 'ClusterIP', via, choices,
    affinitySeconds: sp.affinityTimeoutSeconds,
    trafficPolicy: { external: sp.externalPolicyLocal ? 'Local' : 'Cluster', internal: sp.internalPolicyLocal ? 'Local' : 'Cluster' },
  };
  push(run, () => {
    const ready = sp.endpoints.filter((e) => e.ready).length;
    const picked = dnat !== undefined ? `picked ${fmt(dnat.to)}${choices.length > 1 ? ` (1 of ${choices.length}, p=${(1 / choices.length).toFixed(2)} each)` : ''}` :
      o.verdict === 'accept' ? 'no endpoint picked' : `${o.verdict}ed: ${ready === 0 ? 'the Service has no ready endpoints' : 'no endpoint serves this traffic here'}`;
    return {
      kind: 'service', where: nodeWhere(node), netns: node.netns, hook, packet: view(o.pkt), service: hit,
      summary: `Service ${hit.service} (${hit.type}, via ${via}${sp.affinityTimeoutSeconds > 0 ? `, ClientIP affinity ${sp.affinityTimeoutSeconds}s` : ''}${sp.externalPolicyLocal && via !== 'clusterIP' ? ', externalTrafficPolicy Local' : ''}${sp.internalPolicyLocal ? ', internalTrafficPolicy Local' : ''}): ${picked}`,
    };
  });
}

// ------------------------------------------------------------------------------------- policy

function policyHops(run: Run, node: NodeInfo, hook: Hook, pkt: Pkt, o: HookOutcome): void {
  if (run.quiet) return;
  const src = run.model.podByIP(pkt.src.ip);
  const dst = run.model.podByIP(pkt.dst.ip);
  const srcLocal = src !== undefined && src.nodeName === node.name;
  const dstLocal = dst !== undefined && dst.nodeName === node.name && hook === 'forward';
  if (!srcLocal && !dstLocal) return;
  const { model } = run.model.policy();
  let verdict;
  try {
    // Pods by key (an IP lookup in the policy model is a scan); other addresses by IP.
    verdict = evaluateConnection(model, {
      from: src !== undefined ? { pod: src.key } : { ip: pkt.src.ip }, to: dst !== undefined ? { pod: dst.key } : { ip: pkt.dst.ip },
      port: pkt.dst.port, protocol: pkt.protocol,
    });
  } catch {
    return;
  }
  const walked = new Set(o.result.path.filter((s) => s.table === NETPOL_TABLE).map((s) => s.chain));
  const dropped = o.verdict !== 'accept' && o.result.path[o.result.path.length - 1]?.table === NETPOL_TABLE;
  for (const [direction, pod, dv] of [['egress', srcLocal ? src : undefined, verdict.egress], ['ingress', dstLocal ? dst : undefined, verdict.ingress]] as const) {
    if (pod === undefined) continue;
    const chain = podChainName(direction, pod.key);
    const kernelIsolated = walked.has(chain);
    const kernelDropped = dropped && o.result.path[o.result.path.length - 1]?.chain === chain;
    if (kernelIsolated !== dv.isolated || (kernelIsolated && kernelDropped === dv.allowed)) {
      run.notes.push(`model disagreement on node ${node.name}: the ${direction} rules of ${pod.key} ${kernelDropped ? 'drop' : 'pass'} this packet, ` +
        `but the policy evaluator says ${dv.allowed ? 'allowed' : 'denied'} (${dv.explanation})`);
    }
    const allowedBy = dv.allowedBy[0];
    const pv: PolicyView = {
      direction, pod: pod.key, isolated: dv.isolated, allowed: dv.allowed, policies: dv.isolatingPolicies,
      ...(allowedBy !== undefined ? { allowedBy: `${allowedBy.policy} ${direction} rule ${allowedBy.rule}` } : {}),
      reasons: dv.misses.map((m) => m.reason),
    };
    const summary = !dv.isolated ? `${direction} of ${pod.key}: not isolated (no NetworkPolicy selects it for ${direction}): allowed`
      : dv.allowed ? `${direction} of ${pod.key}: isolated by ${dv.isolatingPolicies.join(', ')}; allowed by ${pv.allowedBy ?? 'a rule'}`
        : `${direction} of ${pod.key}: isolated by ${dv.isolatingPolicies.join(', ')}; DENIED: no rule of these policies admits it`;
    push(run, () => ({ kind: 'policy', where: nodeWhere(node), netns: node.netns, hook, packet: view(pkt), policy: pv, summary }));
  }
}

// ------------------------------------------------------------------------------------- the walk

type Route =
  | { kind: 'local' }
  /** Out through cni0; `l2`: a frame the bridge already switched port to port (no routing on the node). */
  | { kind: 'bridge'; l2?: boolean }
  | { kind: 'gateway'; via: string; dev: string; node?: NodeInfo; onlink?: boolean }
  | { kind: 'direct'; dev: string }
  | { kind: 'unreachable'; reason: string };

/** The node's main routing table, as src/lab/core/routes.ts plans it. */
function nodeRoute(model: ClusterModel, node: NodeInfo, dst: string): Route {
  const n = tryParseIPv4(dst);
  if (n === undefined) return { kind: 'unreachable', reason: `${dst} is not IPv4` };
  if (localAddresses(model, node).has(dst) || isLoopback(dst)) return { kind: 'local' };
  const owner = model.nodeForPodIP(dst);
  if (owner !== undefined && owner.name === node.name) return { kind: 'bridge' };
  if (owner !== undefined) {
    return model.snapshot.backend === 'vxlan'
      ? { kind: 'gateway', via: owner.vtep, dev: VXLAN_DEVICE, node: owner, onlink: true }
      : { kind: 'gateway', via: owner.ip, dev: NODE_UPLINK, node: owner };
  }
  if (model.inUnderlay(dst)) return { kind: 'direct', dev: NODE_UPLINK };
  return { kind: 'gateway', via: model.externalIP, dev: NODE_UPLINK };
}

function routeText(r: Route, dst: string): string {
  switch (r.kind) {
    case 'local': return `${dst} is local: deliver to a socket of this namespace`;
    case 'bridge': return `${dst} is in this node's Pod CIDR: out dev ${POD_BRIDGE}`;
    case 'gateway': return `${dst} via ${r.via} dev ${r.dev}${r.onlink === true ? ' onlink' : ''}${r.node !== undefined ? ` (node ${r.node.name}'s Pod CIDR)` : ''}`;
    case 'direct': return `${dst} is on the underlay: out dev ${r.dev}`;
    case 'unreachable': return r.reason;
  }
}

/** A packet sent by a process of node `node` (or a host-network pod). */
function fromNode(run: Run, node: NodeInfo, dst: Required<Addr>, protocol: TraceProtocol, sport: number, who: string): Verdict {
  const first = nodeRoute(run.model, node, dst.ip);
  const out0 = first.kind === 'bridge' ? POD_BRIDGE : first.kind === 'gateway' || first.kind === 'direct' ? first.dev : 'lo';
  const src = first.kind === 'local' ? (isLoopback(dst.ip) ? dst.ip : node.ip) : ifaceAddress(node, out0);
  const pkt: Pkt = { protocol, src: { ip: src, port: sport }, dst, ...(run.ephemeralSport ? { randomSport: true } : {}) };
  push(run, () => ({ kind: 'socket', where: who, netns: node.netns, packet: view(pkt), summary: `${who} connects: ${flowText(pkt)} (source address of dev ${out0})` }));
  const out = runHook(run, node, 'output', pkt, undefined, undefined);
  netfilterHop(run, node, 'output', out, undefined, undefined);
  serviceHop(run, node, 'output', pkt, out);
  if (out.verdict !== 'accept') return stop(out.verdict === 'reject' ? 'rejected' : 'dropped', `the output hook ${out.verdict}s it`, lastDecision(run.model, node, out));
  const route = nodeRoute(run.model, node, out.pkt.dst.ip);
  push(run, () => ({ kind: 'route', where: nodeWhere(node), netns: node.netns, packet: view(out.pkt), summary: `route: ${routeText(route, out.pkt.dst.ip)}` }));
  if (route.kind === 'local') {
    run.segments.push({ where: nodeWhere(node), netns: node.netns, in: pkt, out: out.pkt, nat: out.nat });
    return deliverToNode(run, node, out.pkt);
  }
  return postroutingAndLeave(run, node, pkt, out.pkt, route, undefined, out.nat);
}

/** A packet entering node `node` on `iif` (cni0 from a pod, eth0 from the underlay, flannel.1 after decap). */
function arriveAtNode(run: Run, node: NodeInfo, pkt: Pkt, iif: string): Verdict {
  if (++run.nodeVisits > MAX_NODE_VISITS) return stop('dropped', 'routing loop: the packet kept bouncing between nodes (TTL exceeded)');
  const pre = runHook(run, node, 'prerouting', pkt, iif, undefined);
  netfilterHop(run, node, 'prerouting', pre, iif, undefined);
  serviceHop(run, node, 'prerouting', pkt, pre);
  if (pre.verdict !== 'accept') {
    return stop(pre.verdict === 'reject' ? 'rejected' : 'dropped', `node ${node.name}'s prerouting hook ${pre.verdict}s it`, lastDecision(run.model, node, pre));
  }
  const route = nodeRoute(run.model, node, pre.pkt.dst.ip);
  push(run, () => ({ kind: 'route', where: nodeWhere(node), netns: node.netns, inIf: iif, packet: view(pre.pkt), summary: `route: ${routeText(route, pre.pkt.dst.ip)}` }));
  if (route.kind === 'local') {
    const inp = runHook(run, node, 'input', pre.pkt, iif, undefined);
    netfilterHop(run, node, 'input', inp, iif, undefined);
    policyHops(run, node, 'input', pre.pkt, inp);
    run.segments.push({ where: nodeWhere(node), netns: node.netns, inIf: iif, in: pkt, out: inp.pkt, nat: [...pre.nat, ...inp.nat] });
    if (inp.verdict !== 'accept') return stop(inp.verdict === 'reject' ? 'rejected' : 'dropped', `node ${node.name}'s input hook ${inp.verdict}s it`, lastDecision(run.model, node, inp));
    return deliverToNode(run, node, inp.pkt);
  }
  return forward(run, node, pkt, pre.pkt, iif, route, pre.nat);
}

function outIfOf(route: Route): string {
  return route.kind === 'bridge' ? POD_BRIDGE : route.kind === 'gateway' || route.kind === 'direct' ? route.dev : 'lo';
}

function forward(run: Run, node: NodeInfo, original: Pkt, pkt: Pkt, iif: string, route: Route, natSoFar: readonly NatView[]): Verdict {
  const oif = outIfOf(route);
  const fwd = runHook(run, node, 'forward', pkt, iif, oif);
  netfilterHop(run, node, 'forward', fwd, iif, oif);
  policyHops(run, node, 'forward', pkt, fwd);
  if (fwd.verdict !== 'accept') {
    run.segments.push({ where: nodeWhere(node), netns: node.netns, inIf: iif, outIf: oif, in: original, out: pkt, nat: natSoFar });
    const last = fwd.result.path[fwd.result.path.length - 1];
    const byPolicy = last?.table === NETPOL_TABLE;
    return stop(fwd.verdict === 'reject' ? 'rejected' : 'dropped',
      byPolicy ? `NetworkPolicy: ${last?.chain.startsWith('egress') ? 'egress of the source' : 'ingress of the destination'} denies it on node ${node.name}` : `node ${node.name}'s forward hook ${fwd.verdict}s it`,
      lastDecision(run.model, node, fwd));
  }
  return postroutingAndLeave(run, node, original, fwd.pkt, route, iif, natSoFar);
}

function postroutingAndLeave(run: Run, node: NodeInfo, original: Pkt, pkt: Pkt, route: Route, iif: string | undefined, natSoFar: readonly NatView[]): Verdict {
  const oif = outIfOf(route);
  const post = runHook(run, node, 'postrouting', pkt, iif, oif);
  netfilterHop(run, node, 'postrouting', post, iif, oif);
  run.segments.push({ where: nodeWhere(node), netns: node.netns, ...(iif !== undefined ? { inIf: iif } : {}), outIf: oif, in: original, out: post.pkt, nat: [...natSoFar, ...post.nat] });
  if (post.verdict !== 'accept') return stop(post.verdict === 'reject' ? 'rejected' : 'dropped', `node ${node.name}'s postrouting hook ${post.verdict}s it`, lastDecision(run.model, node, post));
  return leaveNode(run, node, post.pkt, route);
}

function leaveNode(run: Run, node: NodeInfo, marked: Pkt, route: Route): Verdict {
  const model = run.model;
  // Leaving the namespace (veth, VXLAN) scrubs the skb mark.
  const pkt: Pkt = { protocol: marked.protocol, src: marked.src, dst: marked.dst, ...(marked.randomSport === true ? { randomSport: true } : {}) };
  if (route.kind === 'bridge') {
    const pod = model.podByIP(pkt.dst.ip);
    if (pod === undefined) {
      return stop('unreachable', `no pod holds ${pkt.dst.ip} on node ${node.name}: ARP on ${POD_BRIDGE} gets no answer (host unreachable)`);
    }
    if (route.l2 !== true) push(run, () => ({ kind: 'bridge', where: nodeWhere(node), netns: node.netns, inIf: POD_BRIDGE, outIf: pod.veth, packet: view(pkt), summary: `${POD_BRIDGE} bridge forwards the frame to port ${pod.veth}` }));
    return arriveAtPod(run, pod, pkt, node);
  }
  if (route.kind === 'gateway' && route.node !== undefined) {
    const peer = route.node;
    if (route.dev === VXLAN_DEVICE) {
      const outer = { src: node.ip, dst: peer.ip, udpPort: VXLAN_PORT, vni: VXLAN_VNI };
      push(run, () => ({ kind: 'encap', where: nodeWhere(node), netns: node.netns, outIf: VXLAN_DEVICE, packet: view(pkt), outer,
        summary: `${VXLAN_DEVICE} encapsulates: outer UDP ${node.ip} -> ${peer.ip}:${VXLAN_PORT} VNI ${VXLAN_VNI} (fdb: ${peer.name}'s VTEP), inner ${flowText(pkt)}` }));
      wireHop(run, node, peer, pkt, outer);
      push(run, () => ({ kind: 'decap', where: nodeWhere(peer), netns: peer.netns, inIf: VXLAN_DEVICE, packet: view(pkt),
        summary: `${peer.name}'s ${VXLAN_DEVICE} decapsulates VNI ${VXLAN_VNI}: inner ${flowText(pkt)}` }));
      return arriveAtNode(run, peer, pkt, VXLAN_DEVICE);
    }
    wireHop(run, node, peer, pkt, undefined);
    return arriveAtNode(run, peer, pkt, NODE_UPLINK);
  }
  // Out on the underlay: another node, the external side, or the host.
  const next = route.kind === 'gateway' ? route.via : pkt.dst.ip;
  const target = model.classify(next);
  if (target.kind === 'node') {
    wireHop(run, node, target.node, pkt, undefined);
    return arriveAtNode(run, target.node, pkt, NODE_UPLINK);
  }
  if (target.kind === 'external') {
    push(run, () => ({ kind: 'veth', where: 'underlay', netns: model.labNetns(), inIf: labPortName(node.name), outIf: 'ext', packet: view(pkt),
      summary: `${node.name} eth0 -> ${UNDERLAY_BRIDGE} -> external eth0 (${model.externalIP})${route.kind === 'gateway' ? ', the nodes\' default gateway' : ''}` }));
    return arriveAtExternal(run, pkt);
  }
  if (target.kind === 'host') {
    push(run, () => ({ kind: 'veth', where: 'underlay', netns: model.labNetns(), inIf: labPortName(node.name), outIf: 'host', packet: view(pkt),
      summary: `${node.name} eth0 -> ${UNDERLAY_BRIDGE} -> the host (${model.hostIP})` }));
    return deliverToHost(run, pkt);
  }
  return stop('unreachable', `nothing on the underlay answers ARP for ${next} (host unreachable)`);
}

function wireHop(run: Run, from: NodeInfo, to: NodeInfo, pkt: Pkt, outer: { src: string; dst: string; udpPort: number; vni: number } | undefined): void {
  push(run, () => ({
    kind: 'veth', where: 'underlay', netns: run.model.labNetns(), inIf: labPortName(from.name), outIf: labPortName(to.name), packet: view(pkt),
    ...(outer !== undefined ? { outer } : {}),
    summary: `${from.name} eth0 (${from.ip}) -> ${UNDERLAY_BRIDGE} -> ${to.name} eth0 (${to.ip})${outer !== undefined ? ': the underlay sees only node addresses (UDP 8472)' : `: pod addresses on the wire, no encapsulation (host-gw)`}`,
  }));
}

function listens(pod: PodInfo, protocol: TraceProtocol, port: number): { ok: boolean; why: string } {
  const k = `${protocol}/${port}`;
  if (pod.ports.has(k)) return { ok: true, why: `container ${pod.portOwners.get(k) ?? '?'} declares ${k}` };
  if (pod.ports.size === 0) return { ok: true, why: `no container declares ports; assuming a process listens on ${k}` };
  return { ok: false, why: `no container of ${pod.key} declares ${k} (declared: ${[...pod.ports].join(', ')}): the kernel answers ${protocol === 'TCP' ? 'RST' : 'ICMP port unreachable'}` };
}

function arriveAtPod(run: Run, pod: PodInfo, pkt: Pkt, node: NodeInfo): Verdict {
  push(run, () => ({ kind: 'veth', where: podWhere(pod), netns: pod.netns, inIf: pod.veth, outIf: 'eth0', packet: view(pkt),
    summary: `veth pair: ${node.name} ${pod.veth}${pod.vethKnown ? '' : ' (name symbolic offline)'} -> ${pod.key} eth0 (${pod.ip})` }));
  run.segments.push({ where: podWhere(pod), netns: pod.netns, inIf: 'eth0', in: pkt, out: pkt, nat: [] });
  const l = listens(pod, pkt.protocol, pkt.dst.port);
  push(run, () => ({ kind: 'deliver', where: podWhere(pod), netns: pod.netns, inIf: 'eth0', packet: view(pkt), summary: `${l.ok ? 'delivered' : 'refused'}: ${l.why}` }));
  return l.ok ? stop('delivered', `reached ${pod.key} ${fmt(pkt.dst)}: ${l.why}`) : stop('refused', l.why);
}

function deliverToNode(run: Run, node: NodeInfo, pkt: Pkt): Verdict {
  push(run, () => ({ kind: 'deliver', where: nodeWhere(node), netns: node.netns, packet: view(pkt), summary: `to a socket of node ${node.name} (${fmt(pkt.dst)}): flatnet runs no node service on it` }));
  return stop('refused', `${fmt(pkt.dst)} is node ${node.name} itself; nothing flatnet knows listens there`);
}

function hostListens(run: Run, pkt: Pkt): boolean {
  const api = run.model.snapshot.endpointSlices.find((s) => s.metadata.namespace === 'default' && s.metadata.labels?.['kubernetes.io/service-name'] === 'kubernetes');
  return api !== undefined && pkt.protocol === 'TCP' && (api.ports ?? []).some((p) => p.port === pkt.dst.port) && (api.endpoints ?? []).some((e) => e.addresses.includes(pkt.dst.ip));
}

function deliverToHost(run: Run, pkt: Pkt): Verdict {
  const ok = hostListens(run, pkt);
  push(run, () => ({ kind: 'deliver', where: 'host', packet: view(pkt), summary: ok ? `the host's API server (${fmt(pkt.dst)})` : `the host (${fmt(pkt.dst)}): nothing flatnet knows listens there` }));
  return ok ? stop('delivered', `reached the API server on the host ${fmt(pkt.dst)}`) : stop('refused', `${fmt(pkt.dst)} is the host; nothing flatnet knows listens there`);
}

function arriveAtExternal(run: Run, pkt: Pkt): Verdict {
  const model = run.model;
  run.segments.push({ where: 'external', netns: model.externalNetns(), inIf: 'eth0', in: pkt, out: pkt, nat: [] });
  if (pkt.dst.ip !== model.externalIP) {
    push(run, () => ({ kind: 'stop', where: 'external', netns: model.externalNetns(), inIf: 'eth0', packet: view(pkt),
      summary: `the lab's internet ends here: the external side does not forward (ip_forward=0), ${pkt.dst.ip} is not its address` }));
    return stop('dropped', `${pkt.dst.ip} is outside the lab; the external side (the nodes' default gateway) does not forward`, 'external: net.ipv4.ip_forward=0');
  }
  const listening = model.externalListens(pkt.protocol, pkt.dst.port);
  const known = model.snapshot.externalListeners !== undefined ? 'its sockets' : 'flatnet runs only its DNS resolver there (53)';
  push(run, () => ({ kind: 'deliver', where: 'external', netns: model.externalNetns(), inIf: 'eth0', packet: view(pkt),
    summary: listening ? `the external side listens on ${pkt.protocol}/${pkt.dst.port} (${fmt(pkt.dst)})` : `the external side (${fmt(pkt.dst)}): nothing listens on ${pkt.protocol}/${pkt.dst.port} (${known})` }));
  return listening ? stop('delivered', `reached the external side ${fmt(pkt.dst)}`)
    : stop('refused', `nothing listens on ${pkt.protocol}/${pkt.dst.port} on the external side (${known}): the kernel answers ${pkt.protocol === 'TCP' ? 'RST' : 'ICMP port unreachable'}`);
}

/** A packet sent by a container of pod `pod`. */
function fromPod(run: Run, pod: PodInfo, dst: Required<Addr>, protocol: TraceProtocol, sport: number): Verdict {
  const model = run.model;
  const node = model.node(pod.nodeName);
  if (pod.hostNetwork) {
    if (node === undefined) throw new ModelError('UnknownSource', `pod ${pod.key} is not on a known node`);
    return fromNode(run, node, dst, protocol, sport, `${podWhere(pod)} (hostNetwork on node ${node.name})`);
  }
  if (dst.ip === pod.ip || isLoopback(dst.ip)) {
    const pkt: Pkt = { protocol, src: { ip: isLoopback(dst.ip) ? dst.ip : pod.ip, port: sport }, dst };
    push(run, () => ({ kind: 'socket', where: podWhere(pod), netns: pod.netns, outIf: 'lo', packet: view(pkt), summary: `a container of ${pod.key} connects: ${flowText(pkt)}` }));
    push(run, () => ({ kind: 'route', where: podWhere(pod), netns: pod.netns, outIf: 'lo', packet: view(pkt),
      summary: `route: ${dst.ip} is local to the pod's network namespace: dev lo (containers of a pod share it, so localhost reaches every container)` }));
    run.segments.push({ where: podWhere(pod), netns: pod.netns, inIf: 'lo', outIf: 'lo', in: pkt, out: pkt, nat: [] });
    const l = listens(pod, protocol, dst.port);
    push(run, () => ({ kind: 'deliver', where: podWhere(pod), netns: pod.netns, inIf: 'lo', packet: view(pkt), summary: `${l.ok ? 'delivered over lo' : 'refused'}: ${l.why}` }));
    return l.ok ? stop('delivered', `stays inside ${pod.key} (lo): ${l.why}`) : stop('refused', l.why);
  }
  if (node === undefined) return stop('unreachable', `pod ${pod.key} is not running on a node of the model`);
  if (pod.ip === '') return stop('unreachable', `pod ${pod.key} has no IP yet`);
  const pkt: Pkt = { protocol, src: { ip: pod.ip, port: sport }, dst, ...(run.ephemeralSport ? { randomSport: true } : {}) };
  push(run, () => ({ kind: 'socket', where: podWhere(pod), netns: pod.netns, outIf: 'eth0', packet: view(pkt), summary: `a container of ${pod.key} connects: ${flowText(pkt)}` }));
  const onLink = model.nodeForPodIP(dst.ip)?.name === node.name && dst.ip !== node.gateway;
  push(run, () => ({ kind: 'route', where: podWhere(pod), netns: pod.netns, outIf: 'eth0', packet: view(pkt),
    summary: onLink ? `route: ${dst.ip} is on the pod's subnet ${node.podCIDR}: dev eth0, straight to its MAC (ARP)` : `route: default via ${node.gateway} dev eth0 (${POD_BRIDGE} on node ${node.name})` }));
  run.segments.push({ where: podWhere(pod), netns: pod.netns, outIf: 'eth0', in: pkt, out: pkt, nat: [] });
  push(run, () => ({ kind: 'veth', where: nodeWhere(node), netns: node.netns, inIf: pod.veth, packet: view(pkt),
    summary: `veth pair: ${pod.key} eth0 -> ${node.name} ${pod.veth}${pod.vethKnown ? '' : ' (name symbolic offline)'}, a port of ${POD_BRIDGE}` }));
  if (onLink) return bridged(run, node, pod, pkt);
  push(run, () => ({ kind: 'bridge', where: nodeWhere(node), netns: node.netns, inIf: pod.veth, outIf: POD_BRIDGE, packet: view(pkt),
    summary: `${POD_BRIDGE} receives the frame addressed to its own MAC (the gateway ${node.gateway}): up to node ${node.name}'s IP stack` }));
  return arriveAtNode(run, node, pkt, POD_BRIDGE);
}

/** Pod to pod on one node: L2 through cni0; br_netfilter still runs the ip hooks (prerouting, forward, postrouting). */
function bridged(run: Run, node: NodeInfo, from: PodInfo, pkt: Pkt): Verdict {
  const to = run.model.podByIP(pkt.dst.ip);
  push(run, () => ({ kind: 'bridge', where: nodeWhere(node), netns: node.netns, inIf: from.veth, outIf: to?.veth ?? '?', packet: view(pkt),
    summary: `${POD_BRIDGE} bridges the frame port to port (L2); br_netfilter runs the ip hooks on it with iif/oif ${POD_BRIDGE}` }));
  const pre = runHook(run, node, 'prerouting', pkt, POD_BRIDGE, undefined);
  netfilterHop(run, node, 'prerouting', pre, POD_BRIDGE, undefined);
  serviceHop(run, node, 'prerouting', pkt, pre);
  if (pre.verdict !== 'accept') return stop(pre.verdict === 'reject' ? 'rejected' : 'dropped', `node ${node.name}'s prerouting hook ${pre.verdict}s it`, lastDecision(run.model, node, pre));
  if (pre.pkt.dst.ip !== pkt.dst.ip) {
    // DNAT on a bridged frame: the packet is routed after all.
    const route = nodeRoute(run.model, node, pre.pkt.dst.ip);
    return forward(run, node, pkt, pre.pkt, POD_BRIDGE, route, pre.nat);
  }
  return forward(run, node, pkt, pre.pkt, POD_BRIDGE, { kind: 'bridge', l2: true }, pre.nat);
}

/** A packet sent from the external namespace (the lab's stand-in for the internet). */
function fromExternal(run: Run, dst: Required<Addr>, protocol: TraceProtocol, sport: number): Verdict {
  const model = run.model;
  const pkt: Pkt = { protocol, src: { ip: model.externalIP, port: sport }, dst };
  push(run, () => ({ kind: 'socket', where: 'external', netns: model.externalNetns(), outIf: 'eth0', packet: view(pkt), summary: `a client on the external side connects: ${flowText(pkt)}` }));
  run.segments.push({ where: 'external', netns: model.externalNetns(), outIf: 'eth0', in: pkt, out: pkt, nat: [] });
  if (dst.ip === model.externalIP || isLoopback(dst.ip)) return arriveAtExternal(run, pkt);
  if (model.inUnderlay(dst.ip)) {
    const target = model.classify(dst.ip);
    push(run, () => ({ kind: 'route', where: 'external', netns: model.externalNetns(), outIf: 'eth0', packet: view(pkt), summary: `route: ${dst.ip} is on the underlay: dev eth0` }));
    if (target.kind === 'node') {
      push(run, () => ({ kind: 'veth', where: 'underlay', netns: model.labNetns(), inIf: 'ext', outIf: labPortName(target.node.name), packet: view(pkt),
        summary: `external eth0 -> ${UNDERLAY_BRIDGE} -> ${target.node.name} eth0 (${target.node.ip})` }));
      return arriveAtNode(run, target.node, pkt, NODE_UPLINK);
    }
    if (target.kind === 'host') return deliverToHost(run, pkt);
    return stop('unreachable', `nothing on the underlay answers ARP for ${dst.ip}`);
  }
  if (model.inLbPool(dst.ip)) {
    const nodes = [...model.nodes.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const chosen = nodes.find((n) => n.name === run.ecmpNode) ?? nodes[0];
    if (chosen === undefined) return stop('unreachable', 'the LoadBalancer pool is routed to the nodes, but there are none');
    const ecmp = nodes.map((n) => ({ node: n.name, via: n.ip, outcome: 'dropped' as Outcome, chosen: n === chosen }));
    if (!run.quiet) for (const e of ecmp) if (!e.chosen) run.pendingEcmp.push({ node: e.node, entry: e });
    push(run, () => ({ kind: 'route', where: 'external', netns: model.externalNetns(), outIf: 'eth0', packet: view(pkt), ecmp,
      summary: `route: ${model.snapshot.lbPool ?? ''} (the LoadBalancer pool) via ${nodes.map((n) => n.ip).join(', ')} (ECMP, hashed per flow): this flow via ${chosen.name}` }));
    push(run, () => ({ kind: 'veth', where: 'underlay', netns: model.labNetns(), inIf: 'ext', outIf: labPortName(chosen.name), packet: view(pkt),
      summary: `external eth0 -> ${UNDERLAY_BRIDGE} -> ${chosen.name} eth0 (${chosen.ip})` }));
    return arriveAtNode(run, chosen, pkt, NODE_UPLINK);
  }
  push(run, () => ({ kind: 'stop', where: 'external', netns: model.externalNetns(), packet: view(pkt),
    summary: `route: none for ${dst.ip}: the external side routes only the underlay and the LoadBalancer pool (Pod and Service CIDRs are not reachable from outside)` }));
  return stop('unreachable', `the external side has no route to ${dst.ip} (network unreachable): only NodePorts and LoadBalancer IPs are reachable from outside`);
}

// ------------------------------------------------------------------------------------- DNS

interface Resolved { ip?: string; verdict?: Verdict }

function ndotsOf(options: readonly string[]): number {
  for (const o of options) {
    const m = /^ndots:(\d+)$/.exec(o);
    if (m !== null) return Math.min(15, Number(m[1]));
  }
  return 1;
}

function aRecords(records: readonly ResourceRecord[]): string[] {
  return records.flatMap((r) => (r.data.type === 'A' ? [r.data.address] : []));
}

/** Answers one A question as cluster DNS would: the cluster zone, else forwarded to the lab's internet resolver. */
function answerA(model: ClusterModel, name: string): { rcode: string; answers: string[]; by: string } {
  const zone = model.zone();
  const r = zone.resolve({ name, type: RRType.A });
  if (r.kind === 'answer') {
    let answers = aRecords(r.answer);
    const cnames = r.answer.flatMap((x) => (x.data.type === 'CNAME' ? [x.data.target] : []));
    if (r.chase !== undefined) {
      const ext = model.externalZone().resolve({ name: r.chase.name, type: RRType.A });
      if (ext.kind === 'answer') answers = [...answers, ...aRecords(ext.answer)];
    }
    return { rcode: r.rcode, answers: [...cnames.map((c) => `CNAME ${c}`), ...answers], by: 'cluster DNS (kube-dns)' };
  }
  const ext = model.externalZone().resolve({ name, type: RRType.A });
  if (ext.kind === 'answer') return { rcode: ext.rcode, answers: aRecords(ext.answer), by: "forwarded to the lab's internet resolver" };
  return { rcode: 'REFUSED', answers: [], by: "forwarded; the lab's internet resolver serves no such zone" };
}

function resolveFromPod(run: Run, pod: PodInfo, host: string): Resolved {
  const model = run.model;
  const conf = podResolvConf(pod.object.spec ?? { containers: [] }, {
    namespace: pod.namespace, clusterDomain: model.domain, clusterDNS: [model.clusterDNS],
    host: { nameservers: [], searches: [...(model.snapshot.hostSearches ?? [])], options: [] },
  });
  // glibc asks /etc/hosts first (nsswitch `hosts: files dns`): the kubelet-managed file, exact names only.
  const hosts = renderHostsFile(pod.ip !== '' ? [pod.ip] : [], pod.name, pod.object.spec ?? { containers: [] }, pod.namespace, model.domain);
  const wanted = (host.endsWith('.') ? host.slice(0, -1) : host).toLowerCase();
  for (const line of hosts.split('\n')) {
    const [ip, ...names] = line.split('#')[0]?.trim().split(/\s+/) ?? [];
    if (ip === undefined || tryParseIPv4(ip) === undefined || !names.some((n) => n.toLowerCase() === wanted)) continue;
    push(run, () => ({ kind: 'dns', where: podWhere(pod), netns: pod.netns, packet: { protocol: 'UDP', src: { ip: pod.ip }, dst: { ip } },
      dns: { query: wanted, rcode: 'NOERROR', answers: [ip], server: '/etc/hosts' },
      summary: `${wanted} -> ${ip} from the pod's /etc/hosts (kubelet-managed; looked up before DNS)` }));
    return { ip };
  }
  const server = conf.nameservers[0];
  if (server === undefined || server !== model.clusterDNS) {
    return { verdict: stop('unresolved', `${pod.key} does not use cluster DNS (dnsPolicy ${pod.object.spec?.dnsPolicy ?? 'ClusterFirst'}): its resolver is outside the lab`) };
  }
  // The queries travel as UDP to the kube-dns Service: if that path is closed, nothing resolves.
  const transport = subRun(run, { kind: 'pod', namespace: pod.namespace, name: pod.name }, { ip: server, port: 53 }, 'UDP');
  const ndots = ndotsOf(conf.options);
  const absolute = host.endsWith('.');
  const bare = absolute ? host.slice(0, -1) : host;
  const dots = bare.split('.').length - 1;
  const candidates = absolute ? [bare] : dots >= ndots ? [bare, ...conf.searches.map((d) => `${bare}.${d}`)] : [...conf.searches.map((d) => `${bare}.${d}`), bare];
  if (transport.outcome !== 'delivered') {
    push(run, () => ({ kind: 'dns', where: podWhere(pod), netns: pod.netns, packet: { protocol: 'UDP', src: { ip: pod.ip }, dst: { ip: server, port: 53 } },
      dns: { query: candidates[0] ?? bare, rcode: 'TIMEOUT', answers: [], server: `${server}:53` },
      summary: `DNS query for ${candidates[0] ?? bare} to ${server}:53 never gets an answer: ${transport.reason}` }));
    return { verdict: stop('unresolved', `${host} cannot be resolved: the DNS query to ${server}:53 is ${transport.outcome} (${transport.reason})`, transport.decidedBy) };
  }
  for (const q of candidates) {
    const a = answerA(model, q);
    const ip = a.answers.find((x) => !x.startsWith('CNAME '));
    push(run, () => ({ kind: 'dns', where: podWhere(pod), netns: pod.netns, packet: { protocol: 'UDP', src: { ip: pod.ip }, dst: { ip: server, port: 53 } },
      dns: { query: q, rcode: a.rcode, answers: a.answers, server: `${server}:53` },
      summary: `DNS A ${q}? -> ${a.rcode}${a.answers.length > 0 ? ` ${a.answers.join(', ')}` : ''} (${a.by}; search ${conf.searches.join(' ')}, ndots:${ndots})` }));
    if (ip !== undefined) return { ip };
    if (a.rcode === 'NOERROR' && a.answers.length > 0) continue;
  }
  return { verdict: stop('unresolved', `${host}: no name on the search path has an address (${candidates.join(', ')}): NXDOMAIN, no A record, or refused upstream`) };
}

function resolveOutside(run: Run, where: string, host: string): Resolved {
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  const ext = run.model.externalZone().resolve({ name, type: RRType.A });
  const answers = ext.kind === 'answer' ? aRecords(ext.answer) : [];
  const rcode = ext.kind === 'answer' ? ext.rcode : 'REFUSED';
  push(run, () => ({ kind: 'dns', where, packet: { protocol: 'UDP', src: { ip: '' }, dst: { ip: run.model.externalIP, port: 53 } },
    dns: { query: name, rcode, answers, server: `${run.model.externalIP}:53` },
    summary: `DNS A ${name}? -> ${rcode}${answers.length > 0 ? ` ${answers.join(', ')}` : ''} (the lab's internet resolver; nodes and the external side do not use cluster DNS)` }));
  const ip = answers[0];
  return ip !== undefined ? { ip } : { verdict: stop('unresolved', `${name} does not resolve outside the cluster (nodes and the external side do not use cluster DNS; use an IP, or trace from a pod)`) };
}

// ------------------------------------------------------------------------------------- Ingress (L7)

const INGRESS_IMAGE = 'flatnet.dev/ingress-controller';

/**
 * An HTTP(S) request that reached the Ingress controller: route it as the controller's own core does, then
 * follow the controller's second connection to the backend endpoint it opens (first in round-robin order).
 */
function ingressLeg(run: Run, controller: PodInfo, target: TraceTarget, httpHost: string | undefined): Trace['http'] {
  if (target.kind === 'pod' || target.scheme === undefined) return undefined;
  if (!(controller.object.spec?.containers ?? []).some((c) => (c.image ?? '').startsWith(INGRESS_IMAGE))) return undefined;
  const host = httpHost ?? (target.kind === 'name' ? target.host : target.ip);
  const path = requestPathOf(target.path ?? '/');
  const m = matchRoute(run.model.ingressTable(), host, path);
  const at = { where: podWhere(controller), netns: controller.netns };
  const base = { host, path };
  const answer = (status: number, reason: string, extra: Partial<IngressView> = {}): Trace['http'] => {
    push(run, () => ({ kind: 'ingress', ...at, packet: { protocol: 'TCP', src: { ip: controller.ip }, dst: { ip: controller.ip } },
      ingress: { ...base, endpoints: [], status, reason, ...extra }, summary: `Ingress controller answers ${status} itself: ${reason}` }));
    return { forwarded: false, status, reason };
  };
  if (m === undefined) return answer(404, `no Ingress rule matches host "${host}" and path "${path}", and there is no default backend`);
  const ingress = `${m.ingress.namespace}/${m.ingress.name}`;
  const rule = m.route !== undefined ? `host ${m.route.host === '' ? '*' : m.route.host} path ${m.route.path} (${m.route.pathType})` : 'default backend';
  const backend = `${m.backend.namespace}/${m.backend.service}:${m.backend.port}`;
  const endpoints = m.backend.endpoints.map((e) => `${e.ip}:${e.port}`);
  if (m.sslRedirect && target.scheme === 'http') return answer(308, `Ingress ${ingress} redirects plain HTTP to HTTPS`, { ingress, rule, backend, endpoints });
  const first = m.backend.endpoints[0];
  if (m.backend.problem !== undefined || first === undefined) {
    return answer(503, m.backend.problem?.message ?? `Service ${m.backend.namespace}/${m.backend.service} has no ready endpoints`, { ingress, rule, backend, endpoints });
  }
  push(run, () => ({ kind: 'ingress', ...at, packet: { protocol: 'TCP', src: { ip: controller.ip }, dst: { ip: first.ip, port: first.port } },
    ingress: { ...base, ingress, rule, backend, endpoints, reason: 'forwarded' },
    summary: `Ingress controller: Host ${host} path ${path} matches Ingress ${ingress} ${rule} -> ${backend}; opens a new connection to endpoint ${first.ip}:${first.port}` +
      `${endpoints.length > 1 ? ` (round-robin over ${endpoints.join(', ')})` : ''}` }));
  const saved = run.segments.length;
  run.ephemeralSport = true;
  const leg = walk(run, { kind: 'pod', namespace: controller.namespace, name: controller.name }, { ip: first.ip, port: first.port }, 'TCP', DEFAULT_SOURCE_PORT + 2);
  run.segments.length = saved;
  run.ephemeralSport = false;
  if (leg.outcome === 'delivered') return { forwarded: true, reason: `forwarded by Ingress ${ingress} to ${backend} (${first.ip}:${first.port}): the backend answers` };
  const status = leg.outcome === 'dropped' ? 504 : 502;
  return { forwarded: false, status, reason: `the backend leg to ${first.ip}:${first.port} is ${leg.outcome} (${leg.reason}): the controller answers ${status}` };
}

// ------------------------------------------------------------------------------------- driver

function newRun(model: ClusterModel, quiet: boolean, picks: Map<string, number>, ecmpNode: string | undefined, endpointPref: string | undefined): Run {
  return { model, quiet, picks, ecmpNode, endpointPref, hops: [], notes: [], segments: [], pendingChoices: [], pendingEcmp: [], nodeVisits: 0, ephemeralSport: false };
}

function walk(run: Run, from: TraceSource, dst: Required<Addr>, protocol: TraceProtocol, sport: number): Verdict {
  const model = run.model;
  switch (from.kind) {
    case 'pod': {
      const pod = model.pod(`${from.namespace}/${from.name}`);
      if (pod === undefined) throw new ModelError('UnknownSource', `no running pod ${from.namespace}/${from.name}`);
      return fromPod(run, pod, dst, protocol, sport);
    }
    case 'node': {
      const node = model.node(from.name);
      if (node === undefined) throw new ModelError('UnknownSource', `no node ${from.name} (nodes: ${[...model.nodes.keys()].join(', ')})`);
      return fromNode(run, node, dst, protocol, sport, nodeWhere(node));
    }
    case 'external':
      return fromExternal(run, dst, protocol, sport);
  }
}

function subRun(parent: Run, from: TraceSource, dst: Required<Addr>, protocol: TraceProtocol): Verdict {
  const run = newRun(parent.model, true, new Map(), undefined, undefined);
  return walk(run, from, dst, protocol, DEFAULT_SOURCE_PORT + 1);
}

function sourceText(s: TraceSource): string {
  return s.kind === 'pod' ? `${s.namespace}/${s.name}` : s.kind === 'node' ? `node/${s.name}` : 'external';
}

function targetText(t: TraceTarget): string {
  switch (t.kind) {
    case 'name': return t.scheme !== undefined ? `${t.scheme}://${t.host}${t.port !== undefined ? `:${t.port}` : ''}${t.path ?? ''}` : `${t.host}${t.port !== undefined ? `:${t.port}` : ''}`;
    case 'ip': return t.scheme !== undefined ? `${t.scheme}://${t.ip}${t.port !== undefined ? `:${t.port}` : ''}${t.path ?? ''}` : `${t.ip}${t.port !== undefined ? `:${t.port}` : ''}`;
    case 'pod': return `${t.namespace}/${t.name}${t.port !== undefined ? `:${t.port}` : ''}`;
  }
}

function reversePkt(p: Pkt): Pkt {
  return { protocol: p.protocol, src: p.dst, dst: p.src, ...(p.randomSport === true ? { randomDport: true } : {}) };
}

/** A reply packet as text: a destination port the kernel chose at random (fully-random masquerade) is `*`. */
function replyText(p: Pkt & { randomDport?: boolean }): string {
  return `${p.protocol} ${fmt(p.src)} -> ${p.randomDport === true ? `${p.dst.ip}:*` : fmt(p.dst)}`;
}

/** The reply: each namespace of the way back, in reverse, with the NAT its conntrack undoes. */
function replyHops(segments: readonly Segment[]): Hop[] {
  const out: Hop[] = [];
  for (let i = segments.length - 1; i >= 0; i--) {
    const s = segments[i];
    if (s === undefined) continue;
    const inReply = reversePkt(s.out);
    const outReply = reversePkt(s.in);
    const any = (a: Addr): string => `${a.ip}:${a.port ?? '*'}`;
    const undo = s.nat.map((n) => (n.kind === 'dnat' ? `un-DNAT source ${any(n.to)} -> ${any(n.from)}` : `un-${n.kind === 'snat' ? 'SNAT' : 'masquerade'} destination ${any(n.to)} -> ${any(n.from)}`));
    out.push({
      kind: i === 0 ? 'deliver' : 'route', where: s.where, ...(s.netns !== undefined ? { netns: s.netns } : {}),
      ...(s.outIf !== undefined ? { inIf: s.outIf } : {}), ...(s.inIf !== undefined ? { outIf: s.inIf } : {}),
      packet: (outReply as { randomDport?: boolean }).randomDport === true ? { protocol: outReply.protocol, src: outReply.src, dst: { ip: outReply.dst.ip } } : view(outReply),
      summary: i === segments.length - 1
        ? `reply leaves: ${replyText(inReply)}`
        : `${undo.length > 0 ? `conntrack (ct state established): ${undo.join(', ')}: ` : 'ct state established: '}${replyText(outReply)}${i === 0 ? ' reaches the client socket' : ''}`,
      ...(s.nat.length > 0 ? { nat: s.nat.map((n) => ({ kind: n.kind, from: n.to, to: n.from, by: `conntrack (${n.by})` })) } : {}),
    });
  }
  return out;
}

export function traceFlow(model: ClusterModel, flow: FlowSpec): Trace {
  const protocol: TraceProtocol = flow.protocol ?? 'TCP';
  const t = flow.to;
  const port = flow.port ?? t.port ?? (t.kind !== 'pod' && t.scheme === 'https' ? 443 : 80);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ModelError('InvalidFlow', `port ${port}: must be 1-65535`);
  const sport = flow.sourcePort ?? DEFAULT_SOURCE_PORT;
  const main = newRun(model, false, new Map(), flow.ecmpNode, flow.endpoint);
  const notes: string[] = [...model.notes, ...model.policyNotes];
  const header = { from: sourceText(flow.from), to: targetText(t), protocol, port };

  let dstIP: string | undefined;
  let early: Verdict | undefined;
  if (t.kind === 'ip') dstIP = t.ip;
  else if (t.kind === 'pod') {
    const pod = model.pod(`${t.namespace}/${t.name}`);
    if (pod === undefined) throw new ModelError('UnknownTarget', `no running pod ${t.namespace}/${t.name}`);
    if (pod.ip === '') early = stop('unreachable', `pod ${pod.key} has no IP yet`);
    dstIP = pod.hostNetwork ? model.node(pod.nodeName)?.ip : pod.ip;
  } else if (tryParseIPv4(t.host) !== undefined) {
    dstIP = t.host;
  } else {
    const from = flow.from;
    const srcPod = from.kind === 'pod' ? model.pod(`${from.namespace}/${from.name}`) : undefined;
    if (from.kind === 'pod' && srcPod === undefined) throw new ModelError('UnknownSource', `no running pod ${from.namespace}/${from.name}`);
    const r = srcPod !== undefined && !srcPod.hostNetwork ? resolveFromPod(main, srcPod, t.host) : resolveOutside(main, sourceText(from), t.host);
    dstIP = r.ip;
    early = r.verdict;
  }
  if (early !== undefined || dstIP === undefined) {
    return { flow: header, hops: main.hops, verdict: early ?? stop('unresolved', `${targetText(t)} has no address`), reply: [], notes: [...notes, ...main.notes] };
  }
  const dst = { ip: dstIP, port };
  // Pin the endpoint the user asked for: find the draw that picks it by walking once per candidate.
  const resolution = [...main.hops];
  let verdict = walk(main, flow.from, dst, protocol, sport);
  if (flow.endpoint !== undefined) {
    const want = flow.endpoint;
    const matching = main.pendingChoices.find((p) => p.choice.endpoint === want || p.choice.endpoint.startsWith(`${want}:`));
    if (matching !== undefined) {
      const pinned = newRun(model, false, new Map([[matching.pickKey, matching.r]]), flow.ecmpNode, flow.endpoint);
      pinned.hops.push(...resolution);
      verdict = walk(pinned, flow.from, dst, protocol, sport);
      return finish(model, pinned, flow, header, dst, verdict, notes, protocol, sport);
    }
  }
  return finish(model, main, flow, header, dst, verdict, notes, protocol, sport);
}

function finish(model: ClusterModel, run: Run, flow: FlowSpec, header: Trace['flow'], dst: Addr, verdict: Verdict, notes: readonly string[], protocol: TraceProtocol, sport: number): Trace {
  const full = { ip: dst.ip, port: dst.port ?? header.port };
  // The chosen endpoint's outcome is this walk's; every other choice is walked again, quietly.
  for (const hop of run.hops) {
    if (hop.service !== undefined) for (const c of hop.service.choices) if (c.chosen) (c as { outcome: Outcome }).outcome = verdict.outcome;
    if (hop.ecmp !== undefined) for (const e of hop.ecmp) if (e.chosen) (e as { outcome: Outcome }).outcome = verdict.outcome;
  }
  for (const p of run.pendingChoices) {
    const picks = new Map(run.picks);
    picks.set(p.pickKey, p.r);
    const alt = newRun(model, true, picks, run.ecmpNode, undefined);
    p.choice.outcome = walk(alt, flow.from, full, protocol, sport).outcome;
  }
  for (const e of run.pendingEcmp) {
    const alt = newRun(model, true, new Map(run.picks), e.node, undefined);
    e.entry.outcome = walk(alt, flow.from, full, protocol, sport).outcome;
  }
  const replies = verdict.outcome === 'delivered' ? replyHops(run.segments) : [];
  let http: Trace['http'];
  const reached = verdict.outcome === 'delivered' ? run.model.podByIP(run.hops.filter((h) => h.kind === 'deliver').at(-1)?.packet.dst.ip ?? '') : undefined;
  if (reached !== undefined) http = ingressLeg(run, reached, flow.to, flow.httpHost);
  return { flow: header, destination: dst, hops: run.hops, verdict, reply: replies, ...(http !== undefined ? { http } : {}), notes: [...notes, ...run.notes] };
}
