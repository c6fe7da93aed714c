// The kernel's own trace of a packet (`nft monitor trace`, nft 1.0.6) as typed events, and its comparison
// with the model's path (evaluate.ts). Pure: the shell that installs the trace marks and runs the monitor
// is src/nft-shell/kernel-trace-capture.ts.
//
// What the kernel prints (checked on Linux 6.18 with nft 1.0.6, `nft -a monitor trace`):
// - `packet:` once per base-chain invocation, before that chain's first event (the headers as the chain saw
//   them: after an earlier DNAT, the new address).
// - `rule ... # handle N (verdict V)` for every rule whose matches all held: V is `continue` for a rule
//   without a verdict (counter, mark, set update), else its verdict; a vmap prints the verdict of the
//   element found (a vmap without a matching element prints nothing: the rule did not match); a NAT
//   statement prints `accept`; `reject` prints `drop`. A rule added after the monitor started prints as
//   `unknown rule handle N (verdict V)`.
// - `policy accept|drop [meta mark 0x..]` when a base chain ends without a verdict (also after a `goto`
//   whose chain ran out).
// - Nothing at the implicit return at the end of a regular chain on this kernel; older kernels print a
//   RETURN event (`... <chain> verdict continue`), parsed here as kind 'return'.
// - Nothing for NAT chains the kernel does not call (not the first packet of a connection, or a NAT
//   binding already made on the hook).
// Trace ids are per packet but are reused by later packets: splitPackets() separates them.
import type { TraceStep } from './evaluate.ts';
import type { Match, Table } from './types.ts';

export type KernelTraceKind = 'rule' | 'policy' | 'return' | 'packet';

/** The header fields of a `packet:` event that flatnet uses. */
export interface KernelPacketInfo {
  readonly iif?: string;
  readonly oif?: string;
  readonly saddr?: string;
  readonly daddr?: string;
  readonly sport?: number;
  readonly dport?: number;
  /** `tcp`, `udp`, `sctp`, `icmp`, ... */
  readonly l4proto?: string;
}

export interface KernelTraceEvent {
  /** The trace id, 8 hex digits as nft prints it. */
  readonly id: string;
  readonly family: string;
  readonly table: string;
  readonly chain: string;
  readonly kind: KernelTraceKind;
  /** The rule handle (rule events; needs `nft -a monitor trace`, or a rule unknown to the monitor). */
  readonly handle?: number;
  /** `accept`, `drop`, `continue`, `return`, `jump X`, `goto X` (rule, policy and return events). */
  readonly verdict?: string;
  /** The rule as nft lists it (without the handle); absent for a rule the monitor did not know. */
  readonly ruleText?: string;
  /** `meta mark` printed with policy/return events. */
  readonly mark?: number;
  readonly packet?: KernelPacketInfo;
}

export type KernelTraceErrorCode =
  | 'ApplyFailed' | 'CleanupFailed' | 'MonitorFailed' | 'MonitorNotReady' | 'ListFailed' | 'ProbeFailed' | 'BadListing' | 'TooLarge';

export class KernelTraceError extends Error {
  readonly code: KernelTraceErrorCode;
  constructor(code: KernelTraceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KernelTraceError';
    this.code = code;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Parsing

const HEADER = /^trace id ([0-9a-f]+) (\S+) (\S+) (\S+) (.*)$/;
const RULE = /^rule (.*?)\s*\(verdict ([^()]*)\)\s*$/;
const UNKNOWN_RULE = /^unknown rule handle (\d+)\s*\(verdict ([^()]*)\)\s*$/;
const HANDLE_SUFFIX = /^(.*?)\s*# handle (\d+)$/;
const POLICY = /^policy (\S+)(.*)$/;
const RETURN = /^verdict (.*?)((?:\s+meta mark \S+)?)\s*$/;
const MARK = /meta mark (0x[0-9a-f]+|\d+)/;

function parseMark(rest: string): number | undefined {
  const m = MARK.exec(rest);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** The fields of a `packet:` event that matter for matching a flow. */
export function parsePacketInfo(text: string): KernelPacketInfo {
  const out: { -readonly [K in keyof KernelPacketInfo]: KernelPacketInfo[K] } = {};
  const iif = /(?:^|\s)iif (?:"([^"]*)"|(\S+))/.exec(text);
  if (iif) out.iif = iif[1] ?? iif[2];
  const oif = /(?:^|\s)oif (?:"([^"]*)"|(\S+))/.exec(text);
  if (oif) out.oif = oif[1] ?? oif[2];
  const saddr = /(?:^|\s)ip saddr (\S+)/.exec(text);
  if (saddr) out.saddr = saddr[1];
  const daddr = /(?:^|\s)ip daddr (\S+)/.exec(text);
  if (daddr) out.daddr = daddr[1];
  const l4 = /(?:^|\s)(tcp|udp|udplite|sctp|dccp) (?:sport|dport) \d+/.exec(text);
  const sport = /(?:^|\s)(?:tcp|udp|udplite|sctp|dccp) sport (\d+)/.exec(text);
  if (sport?.[1] !== undefined) out.sport = Number(sport[1]);
  const dport = /(?:^|\s)(?:tcp|udp|udplite|sctp|dccp) dport (\d+)/.exec(text);
  if (dport?.[1] !== undefined) out.dport = Number(dport[1]);
  const proto = /(?:^|\s)ip protocol (\S+)/.exec(text);
  if (l4) out.l4proto = l4[1];
  else if (proto) out.l4proto = proto[1];
  else if (/(?:^|\s)icmp type /.test(text)) out.l4proto = 'icmp';
  return out;
}

/** One line of `nft monitor trace` output; undefined for anything else (blank lines, other monitor output). */
export function parseTraceLine(line: string): KernelTraceEvent | undefined {
  const h = HEADER.exec(line.trim());
  if (h === null) return undefined;
  const [, id = '', family = '', table = '', chain = '', rest = ''] = h;
  const head = { id, family, table, chain };
  if (rest.startsWith('packet:')) return { ...head, kind: 'packet', packet: parsePacketInfo(rest.slice('packet:'.length)) };
  const unknown = UNKNOWN_RULE.exec(rest);
  if (unknown) return { ...head, kind: 'rule', handle: Number(unknown[1]), verdict: (unknown[2] ?? '').trim() };
  const rule = RULE.exec(rest);
  if (rule) {
    const body = rule[1] ?? '';
    const withHandle = HANDLE_SUFFIX.exec(body);
    return {
      ...head, kind: 'rule', verdict: (rule[2] ?? '').trim(),
      ruleText: withHandle ? (withHandle[1] ?? '') : body,
      ...(withHandle ? { handle: Number(withHandle[2]) } : {}),
    };
  }
  const policy = POLICY.exec(rest);
  if (policy) {
    const mark = parseMark(policy[2] ?? '');
    return { ...head, kind: 'policy', verdict: policy[1] ?? '', ...(mark !== undefined ? { mark } : {}) };
  }
  const ret = RETURN.exec(rest);
  if (ret) {
    const mark = parseMark(ret[2] ?? '');
    return { ...head, kind: 'return', verdict: (ret[1] ?? '').trim(), ...(mark !== undefined ? { mark } : {}) };
  }
  return undefined;
}

/** All trace events in a chunk of `nft monitor trace` output, in order. */
export function parseKernelTrace(text: string): KernelTraceEvent[] {
  const out: KernelTraceEvent[] = [];
  for (const line of text.split('\n')) {
    const e = parseTraceLine(line);
    if (e !== undefined) out.push(e);
  }
  return out;
}

/** One packet's pass through one network namespace. */
export interface KernelPacketTrace {
  readonly id: string;
  /** The headers at the first base chain that printed them. */
  readonly packet?: KernelPacketInfo;
  readonly events: readonly KernelTraceEvent[];
}

/**
 * Groups events into packets. Events of one packet share a trace id, but the kernel reuses ids for later
 * packets (and events of different packets interleave): a `packet:` event for a base chain the open
 * group of that id already printed one for starts a new packet.
 */
export function splitPackets(events: readonly KernelTraceEvent[]): KernelPacketTrace[] {
  const groups: { id: string; packet?: KernelPacketInfo; events: KernelTraceEvent[]; chains: Set<string> }[] = [];
  const open = new Map<string, (typeof groups)[number]>();
  for (const e of events) {
    let g = open.get(e.id);
    const chainKey = `${e.family} ${e.table} ${e.chain}`;
    if (g === undefined || (e.kind === 'packet' && g.chains.has(chainKey))) {
      g = { id: e.id, events: [], chains: new Set() };
      groups.push(g);
      open.set(e.id, g);
    }
    if (e.kind === 'packet') {
      g.chains.add(chainKey);
      if (g.packet === undefined && e.packet !== undefined) g.packet = e.packet;
    }
    g.events.push(e);
  }
  return groups.map((g) => ({ id: g.id, ...(g.packet !== undefined ? { packet: g.packet } : {}), events: g.events }));
}

/** The first packet whose headers (at its first traced base chain) carry every field given in `want`. */
export function findPacket(traces: readonly KernelPacketTrace[], want: KernelPacketInfo): KernelPacketTrace | undefined {
  const keys = Object.keys(want) as (keyof KernelPacketInfo)[];
  return traces.find((t) => t.packet !== undefined && keys.every((k) => want[k] === undefined || t.packet?.[k] === want[k]));
}

// ---------------------------------------------------------------------------------------------------------
// Rule handles → rule indexes

/** Position of a rule in its chain, from its kernel handle; undefined for a handle not listed. */
export type HandleIndex = (table: string, chain: string, handle: number) => number | undefined;

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Reads `nft -a -j list table|ruleset` output: rules are listed in chain order, so a rule's index is the
 * number of rules of its chain listed before it. Throws BadListing for something that is not nft JSON.
 */
export function handleIndexFromNftJson(json: unknown): HandleIndex {
  if (!isRecord(json) || !Array.isArray(json['nftables'])) throw new KernelTraceError('BadListing', 'not `nft -j` output: no nftables array');
  const counts = new Map<string, number>();
  const index = new Map<string, number>();
  for (const item of json['nftables'] as unknown[]) {
    if (!isRecord(item) || !isRecord(item['rule'])) continue;
    const r = item['rule'];
    const table = r['table'], chain = r['chain'], handle = r['handle'];
    if (typeof table !== 'string' || typeof chain !== 'string' || typeof handle !== 'number') {
      throw new KernelTraceError('BadListing', 'a rule in the nft listing lacks table, chain or handle (list with -a)');
    }
    const ck = `${table}\u0000${chain}`;
    const n = counts.get(ck) ?? 0;
    counts.set(ck, n + 1);
    index.set(`${ck}\u0000${handle}`, n);
  }
  return (table, chain, handle) => index.get(`${table}\u0000${chain}\u0000${handle}`);
}

// ---------------------------------------------------------------------------------------------------------
// The trace-marking table

/** Before conntrack (-200) and raw (-300): the mark is set before anything else sees the packet. */
export const TRACE_MARK_PRIORITY = -350;

/**
 * `table ip <name>` with base chains at priority -350 on prerouting and output, each with one rule
 * `<match> meta nftrace set 1`. Packets it marks are traced through every later chain of that network
 * namespace (the mark does not cross a veth into another namespace).
 */
export function traceMarkTable(name: string, match: readonly Match[]): Table {
  const rules = [{ match, statements: [{ kind: 'nftrace' as const }], comment: 'flatnet trace --live' }];
  return {
    family: 'ip', name, comment: 'flatnet kernel trace marks (temporary)', sets: [], maps: [],
    chains: [
      { name: 'trace-prerouting', base: { type: 'filter', hook: 'prerouting', priority: TRACE_MARK_PRIORITY, policy: 'accept' }, rules },
      { name: 'trace-output', base: { type: 'filter', hook: 'output', priority: TRACE_MARK_PRIORITY, policy: 'accept' }, rules },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------
// Comparison with the model

/** What one model step should look like in the kernel trace. */
type Expectation =
  | { readonly kind: 'event'; readonly key: string; readonly optional: boolean }
  | { readonly kind: 'none' };

const NAT_DETAIL = /^(dnat|snat|masquerade) to /;

/** The kernel's verdict for a model verdict text (`reject` is a drop to the kernel, a NAT statement an accept). */
function kernelVerdictOf(modelVerdict: string): string {
  const v = modelVerdict.trim();
  if (v === 'reject') return 'drop';
  if (NAT_DETAIL.test(v)) return 'accept';
  return v;
}

function expectationOf(s: TraceStep): Expectation {
  const where = `${s.family}|${s.table}|${s.chain}`;
  switch (s.action) {
    case 'skip-nat-chain':
      return { kind: 'none' };
    case 'end-of-chain':
      // A base chain's end shows as its policy event; a regular chain's implicit return is silent on
      // current kernels (older ones print a RETURN event): optional.
      return s.detail === 'return to caller' ? { kind: 'event', key: `${where}|return`, optional: true } : { kind: 'none' };
    case 'policy':
      return { kind: 'event', key: `${where}|policy|${s.detail}`, optional: false };
    case 'vmap': {
      const at = s.detail.lastIndexOf(' : ');
      return { kind: 'event', key: `${where}|${s.rule}|${kernelVerdictOf(at < 0 ? s.detail : s.detail.slice(at + 3))}`, optional: false };
    }
    case 'match': case 'jump': case 'goto': case 'return':
      return { kind: 'event', key: `${where}|${s.rule}|${kernelVerdictOf(s.detail)}`, optional: false };
  }
}

function kernelKey(e: KernelTraceEvent, handleToIndex: HandleIndex): string | undefined {
  const where = `${e.family}|${e.table}|${e.chain}`;
  switch (e.kind) {
    case 'packet': return undefined;
    case 'policy': return `${where}|policy|${e.verdict ?? ''}`;
    case 'return': return `${where}|return`;
    case 'rule': {
      const idx = e.handle === undefined ? undefined : handleToIndex(e.table, e.chain, e.handle);
      return `${where}|${idx ?? `handle ${e.handle ?? '?'}`}|${e.verdict ?? ''}`;
    }
  }
}

export function describeModelStep(s: TraceStep): string {
  const at = `${s.family} ${s.table} ${s.chain}`;
  switch (s.action) {
    case 'policy': return `${at} policy ${s.detail}`;
    case 'end-of-chain': return `${at} end of chain (${s.detail})`;
    case 'skip-nat-chain': return `${at} NAT chain skipped (${s.detail})`;
    default: return `${at} rule #${s.rule} ${s.action}: ${s.detail}`;
  }
}

export function describeKernelEvent(e: KernelTraceEvent, handleToIndex: HandleIndex): string {
  const at = `${e.family} ${e.table} ${e.chain}`;
  const mark = e.mark !== undefined ? ` (meta mark 0x${e.mark.toString(16)})` : '';
  switch (e.kind) {
    case 'packet': return `${at} packet ${JSON.stringify(e.packet ?? {})}`;
    case 'policy': return `${at} policy ${e.verdict ?? '?'}${mark}`;
    case 'return': return `${at} return (verdict ${e.verdict ?? '?'})${mark}`;
    case 'rule': {
      const idx = e.handle === undefined ? undefined : handleToIndex(e.table, e.chain, e.handle);
      const pos = idx === undefined ? `handle ${e.handle ?? '?'} (not in the listed rules)` : `#${idx} (handle ${e.handle ?? '?'})`;
      return `${at} rule ${pos} verdict ${e.verdict ?? '?'}${e.ruleText !== undefined ? `: ${e.ruleText}` : ''}`;
    }
  }
}

export interface ComparisonRow {
  /** The model step (describeModelStep), absent for a kernel event the model does not have. */
  readonly model?: string;
  /** The kernel event (describeKernelEvent), absent for a model step without a kernel event. */
  readonly kernel?: string;
  readonly agree: boolean;
}

export interface KernelComparison {
  readonly agree: boolean;
  readonly rows: readonly ComparisonRow[];
}

export interface CompareOptions {
  /** Kernel events of these tables are left out (e.g. tables the model does not describe). */
  readonly ignoreTables?: readonly string[];
}

/**
 * Aligns the model's path with the kernel's events of ONE packet in ONE network namespace (a
 * KernelPacketTrace's events; the model path should cover the same hooks, e.g. evaluateHooks over
 * prerouting → forward → postrouting, paths concatenated). Steps and events are compared by
 * (family, table, chain, rule index, verdict): the longest common subsequence agrees; model steps the
 * kernel does not print (skipped NAT chains, the end of a base chain before its policy, a regular
 * chain's implicit return) agree without a kernel row; everything else is a disagreement, paired side
 * by side where model and kernel diverge.
 */
export function compareWithModel(
  modelPath: readonly TraceStep[],
  kernel: readonly KernelTraceEvent[],
  handleToIndex: HandleIndex,
  opts: CompareOptions = {},
): KernelComparison {
  const ignore = new Set(opts.ignoreTables ?? []);
  const model = modelPath.map((step) => ({ step, exp: expectationOf(step), text: describeModelStep(step) }));
  const ks = kernel
    .filter((e) => e.kind !== 'packet' && !ignore.has(e.table))
    .map((e) => ({ key: kernelKey(e, handleToIndex) ?? '', text: describeKernelEvent(e, handleToIndex) }));
  const ms = model.filter((m) => m.exp.kind === 'event');
  const keyOf = (i: number): string => { const e = ms[i]?.exp; return e?.kind === 'event' ? e.key : ''; };

  // Longest common subsequence over the comparable steps (paths are tens of steps; bounded anyway).
  const n = ms.length, m = ks.length;
  if (n * m > 4_000_000) throw new KernelTraceError('TooLarge', `too many steps to compare (${n} model x ${m} kernel)`);
  const dp: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    const row = dp[i] as Uint32Array, next = dp[i + 1] as Uint32Array;
    for (let j = m - 1; j >= 0; j--) {
      row[j] = keyOf(i) === ks[j]?.key ? (next[j + 1] ?? 0) + 1 : Math.max(next[j] ?? 0, row[j + 1] ?? 0);
    }
  }
  // Walk it: pairs, model-only and kernel-only, in order.
  type Op = { op: 'pair'; i: number; j: number } | { op: 'model'; i: number } | { op: 'kernel'; j: number };
  const ops: Op[] = [];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && keyOf(i) === ks[j]?.key) { ops.push({ op: 'pair', i, j }); i++; j++; continue; }
    const down = i < n ? (dp[i + 1]?.[j] ?? 0) : -1;
    const right = j < m ? (dp[i]?.[j + 1] ?? 0) : -1;
    if (i < n && down >= right) { ops.push({ op: 'model', i }); i++; } else { ops.push({ op: 'kernel', j }); j++; }
  }

  // Rows: model steps in path order (silent ones interleaved where they occur), unmatched runs paired.
  const rows: ComparisonRow[] = [];
  const silentBefore = new Map<number, string[]>(); // index into ms → silent steps before it
  const trailing: string[] = [];
  {
    let k = 0;
    for (const x of model) {
      if (x.exp.kind === 'none') {
        if (k < ms.length) { const list = silentBefore.get(k) ?? []; list.push(x.text); silentBefore.set(k, list); } else trailing.push(x.text);
      } else k++;
    }
  }
  const flushSilent = (idx: number) => {
    for (const t of silentBefore.get(idx) ?? []) rows.push({ model: t, agree: true });
    silentBefore.delete(idx);
  };
  let pendingModel: number[] = [], pendingKernel: number[] = [];
  const flushPending = () => {
    let kIdx = 0;
    for (const x of pendingModel) {
      flushSilent(x);
      const text = ms[x]?.text ?? '';
      const exp = ms[x]?.exp;
      if (exp?.kind === 'event' && exp.optional) { rows.push({ model: text, agree: true }); continue; }
      const k = pendingKernel[kIdx];
      if (k !== undefined) { rows.push({ model: text, kernel: ks[k]?.text ?? '', agree: false }); kIdx++; } else rows.push({ model: text, agree: false });
    }
    for (; kIdx < pendingKernel.length; kIdx++) rows.push({ kernel: ks[pendingKernel[kIdx] ?? 0]?.text ?? '', agree: false });
    pendingModel = []; pendingKernel = [];
  };
  for (const o of ops) {
    if (o.op === 'model') pendingModel.push(o.i);
    else if (o.op === 'kernel') pendingKernel.push(o.j);
    else {
      flushPending();
      flushSilent(o.i);
      rows.push({ model: ms[o.i]?.text ?? '', kernel: ks[o.j]?.text ?? '', agree: true });
    }
  }
  flushPending();
  for (const t of trailing) rows.push({ model: t, agree: true });
  return { agree: rows.every((r) => r.agree), rows };
}
