// `flatnet trace --live`: the model's trace checked against the kernel. The real packet is sent from the
// flow's source namespace with a known source port while every node namespace traces it (`meta nftrace`,
// `nft monitor trace`); the kernel's choices the model cannot predict (which endpoint `numgen` picked, which
// node the ECMP route hashed to) are read off the kernel's trace and the model is walked again with the same
// choices; then each node's kernel events are compared with the model's path there, rule by rule, and the
// client's result with the model's verdict. For a name, the pod's own resolver (glibc, the pod's
// resolv.conf) is asked too, and its answer compared with the model's DNS hops. Shell.
import type { ClusterModel } from '../model/cluster-model.ts';
import { clientResult, possibleOutcomes } from '../model/outcomes.ts';
import type { FlowSpec, Hop, Outcome, Trace } from '../model/types.ts';
import { compareWithModel, type ComparisonRow, type KernelTraceEvent } from '../nft/kernel-trace.ts';
import type { TraceStep } from '../nft/evaluate.ts';
import type { Match } from '../nft/types.ts';
import { captureKernelTrace, rulesetHandleIndex } from '../nft-shell/kernel-trace-capture.ts';
import { sendProbe, type ProbeResult } from '../nft-shell/send-probe.ts';
import { NETPOL_TABLE } from '../netpol/core/nft-policy.ts';
import { EGRESS_TABLE, KUBE_PROXY_TABLE } from '../proxy/core/nft-rules.ts';
import { execIn } from '../proxy/exec.ts';

export interface NamespaceComparison {
  readonly netns: string;
  readonly where: string;
  readonly agree: boolean;
  /** Why this namespace was not compared (its packet cannot be recognised), when it was not. */
  readonly skipped?: string;
  readonly rows: readonly ComparisonRow[];
}

export interface LiveTrace {
  /** The model's trace, walked with the kernel's own choices (endpoint, ECMP next hop). */
  readonly trace: Trace;
  readonly kernel: { readonly result: ProbeResult['result']; readonly sourcePort: number; readonly error?: string; readonly ms: number; readonly endpoint?: string; readonly viaNode?: string };
  /** For a URL that reached the Ingress controller: what curl got, against the model's expectation. */
  readonly http?: { readonly status: number; readonly fromController: boolean; readonly agree: boolean };
  readonly dns?: { readonly name: string; readonly model: readonly string[]; readonly kernel: readonly string[]; readonly agree: boolean };
  readonly namespaces: readonly NamespaceComparison[];
  /** Tables the kernel ran for this packet that flatnet does not manage (hand-made rules, another tool's). */
  readonly foreignTables: readonly string[];
  /** What the live check did not cover. */
  readonly notCompared: readonly string[];
  /** The client saw what the model's verdict implies. */
  readonly resultAgrees: boolean;
  /**
   * The packet went exactly where the model says, but the destination did not answer as its declared ports
   * promise (nothing listens, or something listens on a port no container declares): a workload fact the
   * model cannot see, not a data-plane disagreement.
   */
  readonly listenerMismatch?: string;
  readonly agree: boolean;
}

/** Where the flow's first packet is sent from. */
function sourceNetns(model: ClusterModel, flow: FlowSpec): string {
  const from = flow.from;
  if (from.kind === 'external') return model.externalNetns();
  if (from.kind === 'node') {
    const n = model.node(from.name);
    if (n === undefined) throw new Error(`no node ${from.name}`);
    return n.netns;
  }
  const pod = model.pod(`${from.namespace}/${from.name}`);
  if (pod === undefined) throw new Error(`no pod ${from.namespace}/${from.name}`);
  return pod.netns;
}

/**
 * The events of the flow's first packet in one namespace. The kernel's trace id is not stable across one
 * packet's hooks (it changes after NAT), but this flow's packets pass one at a time: the first packet's events
 * run until a base chain it already passed prints a packet line again (the next packet).
 */
function firstPacketEvents(events: readonly KernelTraceEvent[]): KernelTraceEvent[] {
  const seen = new Set<string>();
  const out: KernelTraceEvent[] = [];
  for (const e of events) {
    const key = `${e.family} ${e.table} ${e.chain}`;
    if (e.kind === 'packet') {
      if (seen.has(key)) break;
      seen.add(key);
    }
    out.push(e);
  }
  return out;
}

/** The endpoint kube-proxy's `endpoint-...__IP/PORT` chain names, from the kernel's rule events. */
function kernelEndpoint(events: readonly KernelTraceEvent[]): string | undefined {
  for (const e of events) {
    const m = /__(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(e.chain);
    if (m !== null && e.kind === 'rule') return `${m[1] ?? ''}:${m[2] ?? ''}`;
  }
  return undefined;
}

/** The endpoint a DNAT sent the packet to, from the headers the kernel printed after the translation. */
function dnatTarget(events: readonly KernelTraceEvent[], original: { ip: string; port?: number }): string | undefined {
  for (const e of events) {
    const p = e.packet;
    if (e.kind !== 'packet' || p?.daddr === undefined) continue;
    if (p.daddr !== original.ip || (p.dport !== undefined && original.port !== undefined && p.dport !== original.port)) {
      return `${p.daddr}:${p.dport ?? original.port ?? ''}`;
    }
  }
  return undefined;
}

function hopsByNetns(trace: Trace): Map<string, Hop[]> {
  const out = new Map<string, Hop[]>();
  for (const h of trace.hops) {
    // The Ingress controller's own connection to the backend is another flow (another source port).
    if (h.kind === 'ingress') break;
    if (h.kind !== 'netfilter' || h.netns === undefined) continue;
    const list = out.get(h.netns) ?? [];
    list.push(h);
    out.set(h.netns, list);
  }
  return out;
}

function modelPath(hops: readonly Hop[]): TraceStep[] {
  return hops.flatMap((h) => (h.rules ?? []).map((r) => ({ table: r.table, family: r.family, chain: r.chain, rule: r.index, action: r.action, detail: r.detail })));
}

async function resolveInPod(netns: string, name: string): Promise<string[]> {
  const r = await execIn(netns, 'getent', ['ahostsv4', name], { timeoutMs: 8000 });
  if (r.code !== 0) return [];
  return [...new Set(r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter((x) => /^\d+\.\d+\.\d+\.\d+$/.test(x)))].sort();
}

/** One real HTTP request from the source namespace (curl), connecting to the model's destination address. */
async function httpRequest(netns: string, flow: FlowSpec, dst: { ip: string; port?: number }): Promise<{ status: number; fromController: boolean }> {
  const t = flow.to;
  if (t.kind === 'pod' || t.scheme === undefined) return { status: 0, fromController: false };
  const host = flow.httpHost ?? (t.kind === 'name' ? t.host : t.ip);
  const port = dst.port ?? (t.scheme === 'https' ? 443 : 80);
  const url = `${t.scheme}://${host}:${port}${t.path ?? '/'}`;
  const args = ['-s', '-k', '-o', '/dev/null', '-D', '-', '--max-time', '5', '--resolve', `${host}:${port}:${dst.ip}`, url];
  const r = await execIn(netns, 'curl', args, { timeoutMs: 10_000 });
  const lines = r.stdout.split(/\r?\n/);
  const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
  return { status, fromController: lines.some((l) => /^x-flatnet-ingress:/i.test(l)) };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function liveTrace(model: ClusterModel, flow: FlowSpec, opts: { timeoutMs?: number } = {}): Promise<LiveTrace> {
  const first = model.trace(flow);
  if (first.destination === undefined) {
    return { trace: first, kernel: { result: 'error', sourcePort: 0, error: 'no destination address', ms: 0 }, namespaces: [], foreignTables: [], notCompared: [], resultAgrees: false, agree: false };
  }
  const dst = first.destination;
  const protocol = flow.protocol ?? 'TCP';
  const src = sourceNetns(model, flow);
  const nodes = [...model.nodes.values()];
  const sourcePort = 20000 + Math.floor(Math.random() * 10000);
  const match: Match[] = [
    { kind: 'cmp', left: 'meta l4proto', right: protocol.toLowerCase() },
    { kind: 'cmp', left: 'th sport', right: sourcePort },
  ];
  let probe: ProbeResult | undefined;
  const timeoutMs = opts.timeoutMs ?? 1500;
  const events = await captureKernelTrace({
    netns: nodes.map((n) => n.netns), match, settleMs: 300,
    send: async () => {
      probe = await sendProbe(src, { protocol, dst: dst.ip, port: dst.port ?? 80, srcPort: sourcePort, timeoutMs });
    },
  });
  const p = probe ?? { result: 'error' as const, localPort: sourcePort, ms: 0 };

  // The kernel's choices, then the model walked with them.
  let endpoint: string | undefined;
  let viaNode: string | undefined;
  const firstPackets = new Map<string, readonly KernelTraceEvent[]>();
  for (const n of nodes) {
    const evs = firstPacketEvents(events.get(n.netns) ?? []);
    if (evs.length > 0) firstPackets.set(n.netns, evs);
    endpoint ??= kernelEndpoint(evs);
  }
  // iptables mode names endpoint chains by hash (KUBE-SEP-...): read the DNAT off the translated headers instead.
  if (endpoint === undefined && first.hops.some((h) => h.kind === 'service')) {
    for (const evs of firstPackets.values()) {
      endpoint = dnatTarget(evs, dst);
      if (endpoint !== undefined) break;
    }
  }
  if (flow.from.kind === 'external') {
    const entered = first.hops.find((h) => h.ecmp !== undefined);
    if (entered !== undefined) viaNode = nodes.find((n) => firstPackets.has(n.netns))?.name;
  }
  const pinned: FlowSpec = {
    ...flow, sourcePort,
    ...(endpoint !== undefined && flow.endpoint === undefined ? { endpoint } : {}),
    ...(viaNode !== undefined && flow.ecmpNode === undefined ? { ecmpNode: viaNode } : {}),
  };
  const trace = model.trace(pinned);

  // Node by node: the model's netfilter path against the kernel's events for the same packet.
  const byNetns = hopsByNetns(trace);
  const comparisons: NamespaceComparison[] = [];
  let masqueradedAt: string | undefined;
  const iptables = model.snapshot.proxyMode === 'iptables';
  for (const [netns, hops] of byNetns) {
    const where = hops[0]?.where ?? netns;
    if (iptables) {
      // kube-proxy's rules here are iptables chains (KUBE-SVC-..., KUBE-SEP-...); the model walks the nftables
      // layout of the same Services, so only the outcome is compared, not rule by rule.
      comparisons.push({ netns, where, agree: true, skipped: 'kube-proxy runs in iptables mode: its chains are not the nftables layout the model walks; the outcome is compared instead', rows: [] });
      continue;
    }
    const kernel = firstPackets.get(netns);
    if (masqueradedAt !== undefined && kernel === undefined) {
      comparisons.push({ netns, where, agree: true, skipped: `the packet was masqueraded on ${masqueradedAt} with a random source port; its trace here cannot be told apart`, rows: [] });
      continue;
    }
    const index = await rulesetHandleIndex(netns);
    const cmp = compareWithModel(modelPath(hops), kernel ?? [], index, { ignoreTables: [] });
    comparisons.push({ netns, where, agree: cmp.agree, rows: cmp.rows });
    if (hops.some((h) => (h.nat ?? []).some((n) => n.kind === 'masquerade' || n.kind === 'snat'))) masqueradedAt = where;
  }
  // A node the kernel traced but the model never entered is a disagreement too.
  for (const [netns, evs] of firstPackets) {
    if (byNetns.has(netns)) continue;
    const where = nodes.find((n) => n.netns === netns)?.name ?? netns;
    comparisons.push({ netns, where: `node ${where}`, agree: false, rows: [{ kernel: `${evs.length} kernel events for this packet; the model's path never enters this node`, agree: false }] });
  }

  let dns: LiveTrace['dns'];
  if (flow.to.kind === 'name' && flow.from.kind === 'pod' && !/^\d+\.\d+\.\d+\.\d+$/.test(flow.to.host)) {
    const modelAnswers = [...new Set(trace.hops.filter((h) => h.kind === 'dns').flatMap((h) => (h.dns?.answers ?? []).filter((a) => !a.startsWith('CNAME '))))].sort();
    let kernelAnswers = await resolveInPod(src, flow.to.host);
    for (let i = 0; i < 2 && kernelAnswers.length === 0 && modelAnswers.length > 0; i++) {
      await sleep(200);
      kernelAnswers = await resolveInPod(src, flow.to.host);
    }
    dns = { name: flow.to.host, model: modelAnswers, kernel: kernelAnswers, agree: JSON.stringify(modelAnswers) === JSON.stringify(kernelAnswers) };
  }

  // In iptables mode kube-proxy's rules live in iptables-nft's own tables.
  const managed = new Set([KUBE_PROXY_TABLE, EGRESS_TABLE, NETPOL_TABLE, ...(iptables ? ['nat', 'filter', 'mangle', 'raw'] : [])].map((t) => `ip ${t}`));
  const foreignTables = [...new Set([...firstPackets.values()].flatMap((evs) => evs.map((e) => `${e.family} ${e.table}`)).filter((t) => !managed.has(t)))].sort();
  const notCompared: string[] = [];
  if (trace.hops.some((h) => h.kind === 'ingress')) {
    notCompared.push("the Ingress controller's own connection to the backend (a separate flow from an ephemeral port): shown by the model only; the real HTTP answer is checked instead");
  }
  let http: LiveTrace['http'];
  if (trace.http !== undefined) {
    const got = await httpRequest(src, flow, dst);
    const agree = trace.http.forwarded ? got.status !== 0 && !got.fromController : got.status === trace.http.status;
    http = { ...got, agree };
  }
  const matchesClient = (o: Outcome): boolean => {
    const expected = clientResult(o);
    return expected === p.result || (expected === 'unreachable' && (p.result === 'error' || p.result === 'refused'));
  };
  // Without the kernel's endpoint choice (iptables mode), any endpoint's outcome is a possible result.
  const resultAgrees = iptables && endpoint === undefined ? possibleOutcomes(trace).some(matchesClient) : matchesClient(trace.verdict.outcome);
  const pathAgrees = comparisons.every((c) => c.agree);
  const reachedSocket = trace.verdict.outcome === 'delivered' || trace.verdict.outcome === 'refused';
  const listenerMismatch = !resultAgrees && pathAgrees && reachedSocket && (p.result === 'refused' || p.result === 'connected')
    ? `the packet reached ${trace.hops.at(-1)?.where ?? 'the destination'} as the model says, but the client got ${p.result}: ` +
      (p.result === 'refused' ? 'nothing listens on that port, though the model assumed it (declared container ports, or none declared)' : 'a process listens on a port no container declares')
    : undefined;
  return {
    trace,
    kernel: { result: p.result, sourcePort, ...(p.error !== undefined ? { error: p.error } : {}), ms: p.ms, ...(endpoint !== undefined ? { endpoint } : {}), ...(viaNode !== undefined ? { viaNode } : {}) },
    ...(dns !== undefined ? { dns } : {}),
    ...(http !== undefined ? { http } : {}),
    namespaces: comparisons,
    foreignTables,
    notCompared,
    resultAgrees,
    ...(listenerMismatch !== undefined ? { listenerMismatch } : {}),
    agree: resultAgrees && pathAgrees && (dns?.agree ?? true) && (http?.agree ?? true),
  };
}

export function renderLive(l: LiveTrace): string {
  const out: string[] = ['', `live: the kernel's own trace (nft monitor trace in every node namespace), source port ${l.kernel.sourcePort}`];
  out.push(`  client result: ${l.kernel.result}${l.kernel.error !== undefined ? ` (${l.kernel.error})` : ''} in ${l.kernel.ms} ms; the model says ${l.trace.verdict.outcome} -> ${l.resultAgrees ? 'agree' : 'DISAGREE'}`);
  if (l.kernel.endpoint !== undefined) out.push(`  the kernel picked endpoint ${l.kernel.endpoint}; the model above follows the same endpoint`);
  if (l.kernel.viaNode !== undefined) out.push(`  the ECMP route sent this flow to ${l.kernel.viaNode}; the model above follows the same node`);
  if (l.dns !== undefined) out.push(`  DNS: the pod's resolver answers ${l.dns.kernel.join(', ') || 'nothing'}; the model ${l.dns.model.join(', ') || 'nothing'} -> ${l.dns.agree ? 'agree' : 'DISAGREE'}`);
  if (l.http !== undefined) {
    const model = l.trace.http?.forwarded === true ? 'forwarded to a backend' : `${l.trace.http?.status ?? '?'} from the controller`;
    out.push(`  HTTP: curl got ${l.http.status}${l.http.fromController ? ' from the Ingress controller itself' : ' from the backend'}; the model says ${model} -> ${l.http.agree ? 'agree' : 'DISAGREE'}`);
  }
  for (const c of l.namespaces) {
    out.push(`  ${c.where} [${c.netns}]: ${c.skipped !== undefined ? `not compared: ${c.skipped}` : c.agree ? 'model and kernel agree' : 'DISAGREE'}`);
    const width = Math.max(10, ...c.rows.map((r) => (r.model ?? '').length));
    if (c.skipped === undefined) {
      out.push(`    ${'model'.padEnd(width)}   kernel`);
      for (const r of c.rows) out.push(`  ${r.agree ? ' ' : '!'} ${(r.model ?? '-').padEnd(width)}   ${r.kernel ?? '-'}`);
    }
  }
  if (l.listenerMismatch !== undefined) out.push(`  note: ${l.listenerMismatch}`);
  for (const n of l.notCompared) out.push(`  not compared: ${n}`);
  if (l.foreignTables.length > 0) out.push(`  the kernel also ran tables flatnet does not manage: ${l.foreignTables.join(', ')}`);
  out.push(`live verdict: ${l.agree ? 'the model and the kernel agree'
    : l.listenerMismatch !== undefined && l.namespaces.every((c) => c.agree) && (l.dns?.agree ?? true) && (l.http?.agree ?? true) ? 'the data plane agrees; the destination\'s listening ports differ from what its pod spec declares'
      : l.foreignTables.length > 0 ? `DISAGREEMENT: rules outside flatnet (${l.foreignTables.join(', ')}) changed this packet's fate; the model only knows what the API objects describe`
        : 'DISAGREEMENT (a bug in the model or the rule compiler, or an agent that has not caught up yet: please report it if it persists)'}`);
  return out.join('\n');
}
