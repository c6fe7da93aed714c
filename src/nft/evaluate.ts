// A pure evaluator: walks one packet through the base chains of one hook in priority order and returns
// the path taken (which rule matched in which chain), the verdict and the NAT applied. It covers exactly
// the expressions in types.ts. Facts the kernel would look up (fib address types, the masquerade
// address) are given with the packet; randomness (numgen) is injectable.
import { formatIPv4, lastAddress, parseCidr, tryParseIPv4 } from '../net/ipv4.ts';
import {
  NftModelError,
  type Chain, type DataType, type Hook, type KeyExpr, type MapVerdict, type Match, type NftMap, type NftSet,
  type RejectWith, type Rule, type Ruleset, type Selector, type Table, type Value, type Verdict,
} from './types.ts';

export type L4Proto = 'tcp' | 'udp' | 'sctp' | 'icmp';
export type CtState = 'new' | 'established' | 'related' | 'invalid' | 'untracked';
export type FibAddrType = 'local' | 'unicast' | 'broadcast' | 'multicast' | 'unreachable' | 'blackhole' | 'prohibit';

export interface Packet {
  readonly saddr: string;
  readonly daddr: string;
  readonly l4proto: L4Proto;
  readonly sport?: number;
  readonly dport?: number;
  readonly iif?: string;
  readonly oif?: string;
  /** Conntrack state as the kernel would see it; NAT chains only run for 'new'. Default 'new'. */
  readonly ctState?: CtState;
  readonly mark?: number;
  readonly ctMark?: number;
  /** Given facts for `fib daddr type` / `fib saddr type`; a rule needing an absent fact is an error. */
  readonly fibDaddrType?: FibAddrType;
  readonly fibSaddrType?: FibAddrType;
  /** The address `masquerade` would pick (the out interface's primary address). */
  readonly masqueradeAddr?: string;
}

/** Dynamic set contents (filled by `update @set { ... }`), keyed by `family table set`, element key -> expiry time (s). */
export type DynamicSets = Map<string, Map<string, number>>;

export interface EvalOptions {
  /** Uniform in [0, 1); default Math.random. Drives `numgen random`. */
  readonly random?: () => number;
  /** Shared across calls to model affinity; mutated by `update`/`add` statements. */
  readonly dynamicSets?: DynamicSets;
  /** Current time in seconds, for dynamic element timeouts. Default 0. */
  readonly now?: number;
  /** Bound on rules visited; exceeding it is a LoopDetected error. Default 100000. */
  readonly maxSteps?: number;
}

export type StepAction =
  | 'match' | 'jump' | 'goto' | 'vmap' | 'return' | 'end-of-chain' | 'policy' | 'skip-nat-chain';

export interface TraceStep {
  readonly table: string;
  readonly family: string;
  readonly chain: string;
  /** Index of the matched rule in its chain; -1 for policy/end-of-chain/skip steps. */
  readonly rule: number;
  readonly action: StepAction;
  /** Rendered-ish description: the verdict, the vmap key and target, the statements run. */
  readonly detail: string;
}

export interface NatApplied {
  readonly kind: 'dnat' | 'snat' | 'masquerade';
  readonly table: string;
  readonly chain: string;
  readonly from: { readonly addr: string; readonly port?: number };
  readonly to: { readonly addr: string; readonly port?: number };
}

export interface EvalResult {
  readonly hook: Hook;
  readonly verdict: 'accept' | 'drop' | 'reject';
  readonly rejectWith?: RejectWith;
  /** The packet after this hook (NAT and mark changes applied). */
  readonly packet: Packet;
  readonly nat: readonly NatApplied[];
  readonly path: readonly TraceStep[];
  /** Log statements and nftrace marks hit, in order. */
  readonly logs: readonly string[];
}

const PROTO_NUM: Readonly<Record<string, number>> = { icmp: 1, tcp: 6, udp: 17, sctp: 132 };

function protoNumber(v: Value): number {
  if (typeof v === 'number') return v;
  const n = PROTO_NUM[v];
  if (n === undefined) throw new NftModelError('Unsupported', `unknown protocol '${v}'`);
  return n;
}

type Scalar = { kind: 'ip'; v: number } | { kind: 'num'; v: number } | { kind: 'str'; v: string } | { kind: 'absent' };

function selectorValue(p: Packet, s: Selector): Scalar {
  const ip = (a: string): Scalar => ({ kind: 'ip', v: packetAddress(a) });
  const port = (want: L4Proto | undefined, which: 'sport' | 'dport'): Scalar => {
    if (p.l4proto === 'icmp') return { kind: 'absent' };
    if (want !== undefined && p.l4proto !== want) return { kind: 'absent' };
    const v = p[which];
    return v === undefined ? { kind: 'absent' } : { kind: 'num', v };
  };
  switch (s) {
    case 'ip saddr': return ip(p.saddr);
    case 'ip daddr': return ip(p.daddr);
    case 'ip protocol': case 'meta l4proto': return { kind: 'num', v: protoNumber(p.l4proto) };
    case 'meta mark': return { kind: 'num', v: p.mark ?? 0 };
    case 'ct mark': return { kind: 'num', v: p.ctMark ?? 0 };
    case 'meta iifname': return p.iif === undefined ? { kind: 'absent' } : { kind: 'str', v: p.iif };
    case 'meta oifname': return p.oif === undefined ? { kind: 'absent' } : { kind: 'str', v: p.oif };
    case 'th sport': return port(undefined, 'sport');
    case 'th dport': return port(undefined, 'dport');
    case 'tcp sport': return port('tcp', 'sport');
    case 'tcp dport': return port('tcp', 'dport');
    case 'udp sport': return port('udp', 'sport');
    case 'udp dport': return port('udp', 'dport');
    case 'sctp sport': return port('sctp', 'sport');
    case 'sctp dport': return port('sctp', 'dport');
    case 'ct state': return { kind: 'str', v: p.ctState ?? 'new' };
    case 'fib daddr type':
      if (p.fibDaddrType === undefined) throw new NftModelError('MissingFact', 'a rule needs `fib daddr type` but the packet does not give fibDaddrType');
      return { kind: 'str', v: p.fibDaddrType };
    case 'fib saddr type':
      if (p.fibSaddrType === undefined) throw new NftModelError('MissingFact', 'a rule needs `fib saddr type` but the packet does not give fibSaddrType');
      return { kind: 'str', v: p.fibSaddrType };
  }
}

// Parsed addresses and address literals, memoised by their text (rule literals are parsed on every
// packet otherwise). Bounded: cleared when full. Only successful parses are remembered, so a bad literal
// throws every time it is met, as before.
const MEMO_MAX = 8192;
const addressMemo = new Map<string, number>();
const intervalMemo = new Map<string, { readonly lo: number; readonly hi: number }>();

function remember<V>(memo: Map<string, V>, k: string, v: V): V {
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(k, v);
  return v;
}

function packetAddress(a: string): number {
  const hit = addressMemo.get(a);
  if (hit !== undefined) return hit;
  const n = tryParseIPv4(a);
  if (n === undefined) throw new NftModelError('Unsupported', `packet address '${a}' is not IPv4`);
  return remember(addressMemo, a, n);
}

/** The addresses an address literal (an address, a prefix or a range `a-b`) stands for, lo..hi inclusive. */
function addressInterval(s: string): { readonly lo: number; readonly hi: number } {
  const hit = intervalMemo.get(s);
  if (hit !== undefined) return hit;
  if (s.includes('/')) {
    const c = parseCidr(s);
    return remember(intervalMemo, s, { lo: c.network, hi: lastAddress(c) });
  }
  if (s.includes('-')) {
    const [a, b] = s.split('-');
    const lo = tryParseIPv4(a ?? ''), hi = tryParseIPv4(b ?? '');
    if (lo === undefined || hi === undefined) throw new NftModelError('Unsupported', `bad address range '${s}'`);
    return remember(intervalMemo, s, { lo, hi });
  }
  const n = tryParseIPv4(s);
  if (n === undefined) throw new NftModelError('Unsupported', `'${s}' is not an IPv4 literal`);
  return remember(intervalMemo, s, { lo: n, hi: n });
}

/** Does one literal (possibly a prefix or range) contain the packet's value? */
function literalMatches(actual: Scalar, lit: Value, sel: Selector | DataType): boolean {
  if (actual.kind === 'absent') return false;
  if (actual.kind === 'ip') {
    const r = addressInterval(String(lit));
    return actual.v >= r.lo && actual.v <= r.hi;
  }
  if (actual.kind === 'num') {
    if (sel === 'ip protocol' || sel === 'meta l4proto' || sel === 'inet_proto') return protoNumber(lit) === actual.v;
    if (typeof lit === 'string' && /^\d+-\d+$/.test(lit)) {
      const [a, b] = lit.split('-').map(Number);
      return actual.v >= (a ?? 0) && actual.v <= (b ?? -1);
    }
    return Number(lit) === actual.v;
  }
  return String(lit) === actual.v;
}

/** A key as nft would print it: addresses dotted, everything else as its value. */
function keyString(vals: readonly Scalar[]): string {
  return vals.map((v) => (v.kind === 'absent' ? '<absent>' : v.kind === 'ip' ? formatIPv4(v.v) : String(v.v))).join(' . ');
}

interface TableIndex {
  chains: Map<string, Chain>;
  sets: Map<string, NftSet>;
  maps: Map<string, NftMap>;
  /** Base chains per hook, in table order (evaluate() sorts them across tables by priority). */
  bases: Map<Hook, Chain[]>;
}

const indexCache = new WeakMap<Table, TableIndex>();

function indexOf(t: Table): TableIndex {
  let ix = indexCache.get(t);
  if (ix === undefined) {
    const bases = new Map<Hook, Chain[]>();
    for (const c of t.chains) {
      if (c.base === undefined) continue;
      const list = bases.get(c.base.hook);
      if (list === undefined) bases.set(c.base.hook, [c]); else list.push(c);
    }
    ix = {
      chains: new Map(t.chains.map((c) => [c.name, c])),
      sets: new Map(t.sets.map((s) => [s.name, s])),
      maps: new Map(t.maps.map((m) => [m.name, m])),
      bases,
    };
    indexCache.set(t, ix);
  }
  return ix;
}

function elementMatches(actual: readonly Scalar[], key: readonly Value[], types: readonly (DataType | Selector)[]): boolean {
  if (key.length !== actual.length) return false;
  for (let i = 0; i < key.length; i++) {
    const a = actual[i], k = key[i], t = types[i];
    if (a === undefined || k === undefined || t === undefined) return false;
    if (!literalMatches(a, k, t)) return false;
  }
  return true;
}

// Exact-match index of set/map elements. The element lists are immutable, so an index is built once per
// list (and per shape of lookup key) and cached by the owning object. A component is normalised the way
// literalMatches compares it: an address to its number, a protocol name to its number, a port or mark to
// its number, a string as is. An element is indexed when every component is a single value that normalises
// cleanly; the others (prefixes, ranges, anything literalMatches would reject) stay in a fallback list that
// is scanned with literalMatches itself. A lookup takes the first exact element with the packet's key and
// scans only the fallback elements that precede it, so the first matching element in list order wins (and
// errors are thrown) exactly as a linear scan would.

interface ElementIndex {
  /** Normalised key -> index of the first element with that exact key. */
  readonly exact: Map<string, number>;
  /** Indexes (ascending) of elements that need literalMatches. */
  readonly fallback: readonly number[];
}

type KeyedElement = { readonly key: readonly Value[] };

const PROTO_TYPES: ReadonlySet<string> = new Set(['ip protocol', 'meta l4proto', 'inet_proto']);
const PORT_RANGE = /^\d+-\d+$/;

/** Normalised form of a literal compared with a packet value of this kind, or undefined when it is not a single value. */
function normalisedLiteral(lit: Value, kind: Scalar['kind'], type: DataType | Selector): string | undefined {
  switch (kind) {
    case 'ip': {
      const s = String(lit);
      if (s.includes('/') || s.includes('-')) return undefined;
      const n = tryParseIPv4(s);
      return n === undefined ? undefined : String(n);
    }
    case 'num': {
      let n: number;
      if (PROTO_TYPES.has(type)) {
        const p: unknown = typeof lit === 'number' ? lit : PROTO_NUM[lit];
        if (typeof p !== 'number') return undefined;
        n = p;
      } else {
        if (typeof lit === 'string' && PORT_RANGE.test(lit)) return undefined;
        n = Number(lit);
      }
      return Number.isNaN(n) ? undefined : String(n);
    }
    case 'str': return strComponent(String(lit));
    case 'absent': return undefined;
  }
}

/** Length-prefixed, so a string holding the separator cannot make two different keys collide. */
function strComponent(s: string): string {
  return `${s.length}:${s}`;
}

function normalisedActual(actual: readonly Scalar[]): string {
  let out = '';
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as Scalar;
    if (i > 0) out += '|';
    out += a.kind === 'str' ? strComponent(a.v) : a.kind === 'absent' ? '' : String(a.v);
  }
  return out;
}

function buildElementIndex(elements: readonly KeyedElement[], types: readonly (DataType | Selector)[], kinds: readonly Scalar['kind'][]): ElementIndex {
  const exact = new Map<string, number>();
  const fallback: number[] = [];
  for (let e = 0; e < elements.length; e++) {
    const key = (elements[e] as KeyedElement).key;
    if (key.length !== kinds.length) continue; // never matches (elementMatches checks the length first)
    let norm = '';
    for (let i = 0; i < key.length; i++) {
      const t = types[i];
      const c = t === undefined ? undefined : normalisedLiteral(key[i] as Value, kinds[i] as Scalar['kind'], t);
      if (c === undefined) { fallback.push(e); break; }
      norm += i > 0 ? `|${c}` : c;
      if (i === key.length - 1 && !exact.has(norm)) exact.set(norm, e);
    }
  }
  return { exact, fallback };
}

const elementIndexCache = new WeakMap<object, Map<string, ElementIndex>>();

/**
 * Index of the first element of `elements` matching the packet values `actual` (none absent), or -1;
 * the same answer as scanning with elementMatches. `owner` is the immutable object holding the list
 * (a set, a map, an inline vmap) and keys the cache.
 */
function firstMatchingElement(owner: object, elements: readonly KeyedElement[], types: readonly (DataType | Selector)[], actual: readonly Scalar[]): number {
  let byShape = elementIndexCache.get(owner);
  if (byShape === undefined) { byShape = new Map(); elementIndexCache.set(owner, byShape); }
  const shape = actual.map((a) => a.kind).join(',');
  let ix = byShape.get(shape);
  if (ix === undefined) { ix = buildElementIndex(elements, types, actual.map((a) => a.kind)); byShape.set(shape, ix); }
  const hit = ix.exact.get(normalisedActual(actual)) ?? elements.length;
  for (const e of ix.fallback) {
    if (e >= hit) break;
    if (elementMatches(actual, (elements[e] as KeyedElement).key, types)) return e;
  }
  return hit < elements.length ? hit : -1;
}

/** Normalised lookup key for dynamic sets (so `update` and lookups agree). */
function dynKey(actual: readonly Scalar[]): string {
  return keyString(actual);
}

class Walker {
  private readonly t: Table;
  private readonly ix: TableIndex;
  private pkt: { -readonly [K in keyof Packet]: Packet[K] };
  readonly path: TraceStep[];
  readonly logs: string[];
  readonly nat: NatApplied[];
  private readonly opts: EvalOptions;
  private steps: { n: number };

  constructor(t: Table, pkt: Packet, path: TraceStep[], logs: string[], nat: NatApplied[], opts: EvalOptions, steps: { n: number }) {
    this.t = t; this.ix = indexOf(t); this.pkt = { ...pkt }; this.path = path; this.logs = logs; this.nat = nat; this.opts = opts; this.steps = steps;
  }

  packet(): Packet { return this.pkt; }

  private step(chain: string, rule: number, action: StepAction, detail: string): void {
    this.path.push({ table: this.t.name, family: this.t.family, chain, rule, action, detail });
  }

  private lookupSetMember(name: string, actual: readonly Scalar[]): boolean {
    const set = this.ix.sets.get(name);
    if (set === undefined) throw new NftModelError('UnknownSet', `set @${name} does not exist in table ${this.t.name}`);
    if (firstMatchingElement(set, set.elements, set.type, actual) >= 0) return true;
    const dyn = this.opts.dynamicSets?.get(`${this.t.family} ${this.t.name} ${name}`);
    const exp = dyn?.get(dynKey(actual));
    return exp !== undefined && exp > (this.opts.now ?? 0);
  }

  private matches(m: Match): boolean {
    switch (m.kind) {
      case 'cmp': {
        const actual = selectorValue(this.pkt, m.left);
        const rights = Array.isArray(m.right) ? (m.right as readonly Value[]) : [m.right as Value];
        const hit = rights.some((r) => literalMatches(actual, r, m.left));
        if (actual.kind === 'absent') return false;
        return (m.op ?? '==') === '==' ? hit : !hit;
      }
      case 'masked': {
        const actual = m.left === 'meta mark' ? (this.pkt.mark ?? 0) : (this.pkt.ctMark ?? 0);
        const eq = ((actual & m.mask) >>> 0) === (m.value >>> 0);
        return (m.op ?? '==') === '==' ? eq : !eq;
      }
      case 'lookup': {
        const actual = m.keys.map((k) => selectorValue(this.pkt, k));
        if (actual.some((a) => a.kind === 'absent')) return false;
        const hit = this.lookupSetMember(m.set, actual);
        return m.negate ? !hit : hit;
      }
    }
  }

  private keyValues(key: readonly KeyExpr[]): Scalar[] {
    return key.map((k): Scalar => {
      if (typeof k === 'string') return selectorValue(this.pkt, k);
      const r = k.numgen === 'random' ? (this.opts.random ?? Math.random)() : 0;
      return { kind: 'num', v: Math.min(k.mod - 1, Math.floor(r * k.mod)) + (k.offset ?? 0) };
    });
  }

  /** Resolves a vmap to the element's verdict, or undefined when no element matches (rule falls through). */
  private vmapLookup(v: Verdict & { kind: 'vmap' | 'vmap-inline' }): { verdict: MapVerdict; key: string } | undefined {
    const actual = this.keyValues(v.key);
    const key = keyString(actual);
    if (actual.some((a) => a.kind === 'absent')) return undefined;
    if (v.kind === 'vmap-inline') {
      const types = v.key.map((k): DataType | Selector => (typeof k === 'string' ? k : 'inet_service'));
      const e = v.entries[firstMatchingElement(v, v.entries, types, actual)];
      return e === undefined ? undefined : { verdict: e.verdict, key };
    }
    const map = this.ix.maps.get(v.map);
    if (map === undefined) throw new NftModelError('UnknownSet', `map @${v.map} does not exist in table ${this.t.name}`);
    if (map.valueType !== 'verdict') throw new NftModelError('InvalidRule', `map @${v.map} is not a verdict map`);
    const e = map.elements[firstMatchingElement(map, map.elements, map.type, actual)];
    return e === undefined ? undefined : { verdict: e.value as MapVerdict, key };
  }

  private runStatements(rule: Rule, chain: string, idx: number, natDone: { v: boolean }): 'accept' | undefined {
    for (const s of rule.statements ?? []) {
      switch (s.kind) {
        case 'counter': break;
        case 'log': this.logs.push(`${this.t.name}/${chain}#${idx}: log${s.prefix ? ` ${s.prefix}` : ''}`); break;
        case 'nftrace': this.logs.push(`${this.t.name}/${chain}#${idx}: nftrace`); break;
        case 'mark': {
          const cur = s.target === 'meta' ? (this.pkt.mark ?? 0) : (this.pkt.ctMark ?? 0);
          const next = (s.op === 'set' ? s.value : s.op === 'or' ? cur | s.value : s.op === 'xor' ? cur ^ s.value : cur & s.value) >>> 0;
          if (s.target === 'meta') this.pkt.mark = next; else this.pkt.ctMark = next;
          break;
        }
        case 'set-update': {
          const actual = s.keys.map((k) => selectorValue(this.pkt, k));
          const set = this.ix.sets.get(s.set);
          if (set === undefined) throw new NftModelError('UnknownSet', `set @${s.set} does not exist in table ${this.t.name}`);
          const store = this.opts.dynamicSets;
          if (store !== undefined) {
            const id = `${this.t.family} ${this.t.name} ${s.set}`;
            let m = store.get(id);
            if (m === undefined) { m = new Map(); store.set(id, m); }
            const k = dynKey(actual);
            const now = this.opts.now ?? 0;
            const expires = now + (set.timeoutSeconds ?? Number.POSITIVE_INFINITY);
            if (s.op === 'update' || !m.has(k) || (m.get(k) ?? 0) <= now) m.set(k, expires);
          }
          break;
        }
        case 'dnat': case 'snat': case 'masquerade': {
          if (s.kind === 'dnat') {
            const from = { addr: this.pkt.daddr, port: this.pkt.dport };
            this.pkt.daddr = s.addr;
            if (s.port !== undefined) this.pkt.dport = s.port;
            this.nat.push({ kind: 'dnat', table: this.t.name, chain, from, to: { addr: this.pkt.daddr, port: this.pkt.dport } });
          } else {
            const from = { addr: this.pkt.saddr, port: this.pkt.sport };
            const addr = s.kind === 'snat' ? s.addr : this.pkt.masqueradeAddr;
            if (addr === undefined) throw new NftModelError('MissingFact', 'masquerade needs the packet to give masqueradeAddr (the out interface address)');
            this.pkt.saddr = addr;
            if (s.kind === 'snat' && s.port !== undefined) this.pkt.sport = s.port;
            this.nat.push({ kind: s.kind, table: this.t.name, chain, from, to: { addr: this.pkt.saddr, port: this.pkt.sport } });
          }
          natDone.v = true;
          return 'accept';
        }
      }
    }
    return undefined;
  }

  /** Runs one base chain; returns its outcome and whether a NAT binding was made. */
  runBase(base: Chain): { verdict: 'accept' | 'drop' | 'reject'; rejectWith?: RejectWith; natDone: boolean } {
    const natDone = { v: false };
    const frames: { chain: Chain; idx: number }[] = [{ chain: base, idx: 0 }];
    const maxSteps = this.opts.maxSteps ?? 100_000;
    for (;;) {
      const top = frames[frames.length - 1];
      if (top === undefined) {
        const policy = base.base?.policy ?? 'accept';
        this.step(base.name, -1, 'policy', policy);
        return { verdict: policy, natDone: natDone.v };
      }
      if (top.idx >= top.chain.rules.length) {
        this.step(top.chain.name, -1, 'end-of-chain', frames.length > 1 ? 'return to caller' : 'fall through to policy');
        frames.pop();
        continue;
      }
      if (++this.steps.n > maxSteps) throw new NftModelError('LoopDetected', `more than ${maxSteps} rules visited (loop?)`);
      const idx = top.idx++;
      const rule = top.chain.rules[idx];
      if (rule === undefined || !rule.match.every((m) => this.matches(m))) continue;
      const stmt = this.runStatements(rule, top.chain.name, idx, natDone);
      if (stmt === 'accept') {
        const last = this.nat[this.nat.length - 1];
        this.step(top.chain.name, idx, 'match', last ? `${last.kind} to ${last.to.addr}${last.to.port !== undefined ? `:${last.to.port}` : ''}` : 'accept');
        return { verdict: 'accept', natDone: natDone.v };
      }
      let v: Verdict | MapVerdict | undefined = rule.verdict;
      let action: StepAction = 'match';
      let detail = '';
      if (v !== undefined && (v.kind === 'vmap' || v.kind === 'vmap-inline')) {
        const hit = this.vmapLookup(v);
        if (hit === undefined) {
          // No element: the rule does not match (the packet continues with the next rule).
          continue;
        }
        action = 'vmap';
        detail = `${hit.key} : `;
        v = hit.verdict;
      }
      if (v === undefined || v.kind === 'continue') {
        this.step(top.chain.name, idx, action, detail + 'continue');
        continue;
      }
      switch (v.kind) {
        case 'accept': case 'drop':
          this.step(top.chain.name, idx, action, detail + v.kind);
          return { verdict: v.kind, natDone: natDone.v };
        case 'reject':
          this.step(top.chain.name, idx, action, detail + 'reject');
          return { verdict: 'reject', rejectWith: v.with ?? { icmp: 'port-unreachable' }, natDone: natDone.v };
        case 'return':
          this.step(top.chain.name, idx, action === 'vmap' ? 'vmap' : 'return', detail + 'return');
          frames.pop();
          break;
        case 'jump': case 'goto': {
          const target = this.ix.chains.get(v.chain);
          if (target === undefined) throw new NftModelError('UnknownChain', `chain ${v.chain} does not exist in table ${this.t.name}`);
          if (target.base !== undefined) throw new NftModelError('InvalidRule', `cannot ${v.kind} to base chain ${v.chain}`);
          this.step(top.chain.name, idx, action === 'vmap' ? 'vmap' : v.kind, `${detail}${v.kind} ${v.chain}`);
          if (v.kind === 'goto') frames.pop();
          frames.push({ chain: target, idx: 0 });
          break;
        }
        default:
          throw new NftModelError('Unsupported', `verdict ${(v as { kind: string }).kind}`);
      }
    }
  }
}

function familyMatches(f: string): boolean {
  return f === 'ip' || f === 'inet';
}

/**
 * Walks `packet` through every base chain on `hook` (all `ip` and `inet` tables), lowest priority first.
 * Ties run as the kernel runs them: the chain registered last first. The ruleset's table (and chain) order is
 * taken as the order they were loaded in, as `nft -f` of the rendered ruleset loads them. `accept` ends one base chain and the next one runs; `drop`/`reject` end the hook.
 * NAT chains see only packets with ct state new, and after one NAT chain made a binding of a kind, the
 * later NAT chains on the same hook are skipped, as in the kernel.
 */
export function evaluate(ruleset: Ruleset, packet: Packet, hook: Hook, opts: EvalOptions = {}): EvalResult {
  const bases: { t: Table; c: Chain; order: number }[] = [];
  let order = 0;
  for (const t of ruleset.tables) {
    if (!familyMatches(t.family)) continue;
    for (const c of indexOf(t).bases.get(hook) ?? []) bases.push({ t, c, order: order++ });
  }
  bases.sort((a, b) => (a.c.base?.priority ?? 0) - (b.c.base?.priority ?? 0) || b.order - a.order);
  const path: TraceStep[] = [];
  const logs: string[] = [];
  const nat: NatApplied[] = [];
  const steps = { n: 0 };
  let pkt = packet;
  let natBound = false;
  for (const { t, c } of bases) {
    if (c.base?.type === 'nat' && ((pkt.ctState ?? 'new') !== 'new' || natBound)) {
      path.push({ table: t.name, family: t.family, chain: c.name, rule: -1, action: 'skip-nat-chain', detail: natBound ? 'NAT already bound on this hook' : 'NAT chains see only the first packet of a connection' });
      continue;
    }
    const w = new Walker(t, pkt, path, logs, nat, opts, steps);
    const r = w.runBase(c);
    pkt = w.packet();
    if (r.natDone) natBound = true;
    if (r.verdict !== 'accept') {
      return { hook, verdict: r.verdict, ...(r.rejectWith ? { rejectWith: r.rejectWith } : {}), packet: pkt, nat, path, logs };
    }
  }
  return { hook, verdict: 'accept', packet: pkt, nat, path, logs };
}

/**
 * Convenience for a route through several hooks (e.g. prerouting → forward → postrouting): stops at the
 * first drop/reject. The caller decides the route (and updates facts such as fibDaddrType between hooks
 * if they change after DNAT) — this model has no routing table.
 */
export function evaluateHooks(ruleset: Ruleset, packet: Packet, hooks: readonly Hook[], opts: EvalOptions = {}): EvalResult[] {
  const out: EvalResult[] = [];
  let pkt = packet;
  for (const h of hooks) {
    const r = evaluate(ruleset, pkt, h, opts);
    out.push(r);
    if (r.verdict !== 'accept') break;
    pkt = r.packet;
  }
  return out;
}
