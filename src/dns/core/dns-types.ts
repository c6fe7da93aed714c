// The plain DNS model the cluster-DNS core works on: questions, resource records and the answer it decides.
// No wire format here (that is the shell's `src/dns/wire.ts`); names are presentation-format strings without
// the trailing dot (`kubernetes.default.svc.cluster.local`, the root is ''), with `\.`, `\\` and `\DDD`
// escapes for bytes that are not plain printable label characters.

/** RR type numbers (RFC 1035, 3596, 2782, 6891, 1995, 5936). */
export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;

export type RecordTypeName = 'A' | 'AAAA' | 'CNAME' | 'NS' | 'PTR' | 'SOA' | 'SRV' | 'TXT';

export const RCode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
} as const;

export type RCodeName = keyof typeof RCode;

export type RecordData =
  | { type: 'A'; address: string }
  | { type: 'AAAA'; address: string }
  | { type: 'CNAME'; target: string }
  | { type: 'NS'; target: string }
  | { type: 'PTR'; target: string }
  | { type: 'SRV'; priority: number; weight: number; port: number; target: string }
  | { type: 'TXT'; texts: string[] }
  | { type: 'SOA'; mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number };

/** One resource record of class IN. */
export interface ResourceRecord {
  name: string;
  ttl: number;
  data: RecordData;
}

export interface DnsQuestion {
  /** As asked (case preserved); answers for this name use it verbatim. */
  name: string;
  /** Numeric RR type (any value; unknown types get NODATA or NXDOMAIN like any other). */
  type: number;
}

/** An answer the cluster zone gives with authority. */
export interface AuthoritativeAnswer {
  kind: 'answer';
  rcode: 'NOERROR' | 'NXDOMAIN';
  answer: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
  /**
   * Set when the answer ends in a CNAME whose target is outside the cluster domain (an ExternalName
   * Service): the shell may resolve `name`/`type` upstream and append what it gets to the answer.
   */
  chase?: { name: string; type: number };
}

/** The question is not ours (outside the cluster domain, or a reverse name we hold no PTR for). */
export interface ForwardDecision {
  kind: 'forward';
}

export type Resolution = AuthoritativeAnswer | ForwardDecision;

export function typeNumber(name: RecordTypeName): number {
  return RRType[name];
}
