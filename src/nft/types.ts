// Kernel rules as data: a typed model of an nftables ruleset. One renderer (render.ts) turns it into
// `nft -f` script text, a transaction builder (transaction.ts) turns two models into a minimal atomic
// update, and an evaluator (evaluate.ts) walks a packet through it. Pure: no I/O.
//
// Scope: the IPv4 subset flatnet uses (kube-proxy's nftables layout, egress masquerade, and what the
// NetworkPolicy and trace models need). Every expression here is rendered AND evaluated; anything the
// evaluator cannot decide honestly (a missing fact such as `fib daddr type`) is an error, not a guess.

export type Family = 'ip' | 'ip6' | 'inet';
export type ChainType = 'filter' | 'nat' | 'route';
export type Hook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
export type ChainPolicy = 'accept' | 'drop';

/** Data types usable as set/map keys (concatenated with ` . `) or map values. */
export type DataType = 'ipv4_addr' | 'inet_proto' | 'inet_service' | 'mark' | 'ifname';

/**
 * Packet selectors, written exactly as nft spells them. `th` is the transport header of whatever L4
 * protocol the packet carries; `tcp dport` etc. additionally require that protocol.
 */
export type Selector =
  | 'ip saddr' | 'ip daddr' | 'ip protocol'
  | 'meta l4proto' | 'meta mark' | 'meta iifname' | 'meta oifname'
  | 'th sport' | 'th dport'
  | 'tcp sport' | 'tcp dport' | 'udp sport' | 'udp dport' | 'sctp sport' | 'sctp dport'
  | 'ct state' | 'ct mark'
  | 'fib saddr type' | 'fib daddr type';

/**
 * A literal: an IPv4 address ('10.0.0.1'), prefix ('10.0.0.0/8') or range ('10.0.0.1-10.0.0.9'); a
 * protocol name ('tcp'); a port (80) or port range ('30000-32767'); a mark (0x4000); a ct state
 * ('new'); a fib address type ('local'); an interface name ('eth0').
 */
export type Value = string | number;

export type Match =
  /** `left value`, `left != value`, `left { a, b }` (anonymous set when `right` is an array). */
  | { readonly kind: 'cmp'; readonly left: Selector; readonly op?: '==' | '!='; readonly right: Value | readonly Value[] }
  /** `meta mark & 0x4000 == 0` */
  | { readonly kind: 'masked'; readonly left: 'meta mark' | 'ct mark'; readonly mask: number; readonly op?: '==' | '!='; readonly value: number }
  /** `ip daddr . meta l4proto . th dport @set` (or `!= @set`). */
  | { readonly kind: 'lookup'; readonly keys: readonly Selector[]; readonly set: string; readonly negate?: boolean };

export type RejectWith =
  | { readonly icmp: 'port-unreachable' | 'host-unreachable' | 'net-unreachable' | 'prot-unreachable' | 'admin-prohibited' }
  | { readonly tcpReset: true };

export type Statement =
  | { readonly kind: 'counter' }
  /** `meta mark set 0x1` (op 'set'), `meta mark set meta mark or 0x4000` (op 'or' / 'xor' / 'and'); same for ct mark. */
  | { readonly kind: 'mark'; readonly target: 'meta' | 'ct'; readonly op: 'set' | 'or' | 'xor' | 'and'; readonly value: number }
  | { readonly kind: 'log'; readonly prefix?: string }
  /** `meta nftrace set 1`: marks the packet for `nft monitor trace`. */
  | { readonly kind: 'nftrace' }
  /** `update @set { ip saddr }` / `add @set { ... }`: the dynamic-set statement used for session affinity. */
  | { readonly kind: 'set-update'; readonly op: 'add' | 'update'; readonly set: string; readonly keys: readonly Selector[] }
  /** `dnat to 10.0.0.1:8080`. With a port, the rule must match an L4 protocol earlier (nft requires it). Terminal (accept). */
  | { readonly kind: 'dnat'; readonly addr: string; readonly port?: number }
  | { readonly kind: 'snat'; readonly addr: string; readonly port?: number }
  | { readonly kind: 'masquerade'; readonly fullyRandom?: boolean };

/** numgen as a vmap key: `numgen random mod 3` (values 0..mod-1, plus offset). */
export interface Numgen { readonly numgen: 'random' | 'inc'; readonly mod: number; readonly offset?: number }
export type KeyExpr = Selector | Numgen;

/** The verdicts a verdict map element may carry. */
export type MapVerdict =
  | { readonly kind: 'accept' } | { readonly kind: 'drop' } | { readonly kind: 'continue' } | { readonly kind: 'return' }
  | { readonly kind: 'jump'; readonly chain: string } | { readonly kind: 'goto'; readonly chain: string };

export type Verdict =
  | MapVerdict
  | { readonly kind: 'reject'; readonly with?: RejectWith }
  /** `key vmap @map` */
  | { readonly kind: 'vmap'; readonly key: readonly KeyExpr[]; readonly map: string }
  /** `key vmap { 0 : goto a, 1 : goto b }` */
  | { readonly kind: 'vmap-inline'; readonly key: readonly KeyExpr[]; readonly entries: readonly { readonly key: readonly Value[]; readonly verdict: MapVerdict }[] };

/** A rule: all matches must hold; then statements run in order; then the verdict (none = continue). */
export interface Rule {
  readonly match: readonly Match[];
  readonly statements?: readonly Statement[];
  readonly verdict?: Verdict;
  readonly comment?: string;
}

export interface BaseChainSpec {
  readonly type: ChainType;
  readonly hook: Hook;
  /** Numeric (nft 1.0.6 in an `nft -f` script is safest with numbers): dstnat = -100, srcnat = 100, filter = 0. */
  readonly priority: number;
  readonly policy?: ChainPolicy;
}

export interface Chain {
  readonly name: string;
  /** Present for base chains (attached to a hook); absent for regular chains reached by jump/goto/vmap. */
  readonly base?: BaseChainSpec;
  readonly rules: readonly Rule[];
  readonly comment?: string;
}

export type SetFlag = 'interval' | 'timeout' | 'dynamic' | 'constant';

export interface SetElement { readonly key: readonly Value[]; readonly comment?: string }
export interface MapElement { readonly key: readonly Value[]; readonly value: MapVerdict | readonly Value[]; readonly comment?: string }

export interface NftSet {
  readonly name: string;
  /** One entry per concatenated component: ['ipv4_addr', 'inet_proto', 'inet_service']. */
  readonly type: readonly DataType[];
  readonly flags?: readonly SetFlag[];
  readonly timeoutSeconds?: number;
  readonly comment?: string;
  readonly elements: readonly SetElement[];
}

export interface NftMap {
  readonly name: string;
  readonly type: readonly DataType[];
  /** 'verdict' for verdict maps (vmap); otherwise the data type(s) of the value. */
  readonly valueType: 'verdict' | readonly DataType[];
  readonly flags?: readonly SetFlag[];
  readonly comment?: string;
  readonly elements: readonly MapElement[];
}

export interface Table {
  readonly family: Family;
  readonly name: string;
  readonly comment?: string;
  readonly sets: readonly NftSet[];
  readonly maps: readonly NftMap[];
  readonly chains: readonly Chain[];
}

export interface Ruleset { readonly tables: readonly Table[] }

export type NftErrorCode = 'InvalidRule' | 'UnknownChain' | 'UnknownSet' | 'MissingFact' | 'LoopDetected' | 'Unsupported';

export class NftModelError extends Error {
  readonly code: NftErrorCode;
  constructor(code: NftErrorCode, message: string) {
    super(message);
    this.name = 'NftModelError';
    this.code = code;
  }
}

/** Well-known priorities, as numbers (nft 1.0.6 wants numbers in some positions; we always use them). */
export const PRIORITY = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 } as const;
