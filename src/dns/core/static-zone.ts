// A fixed zone from a list of records: the answers an ordinary authoritative server gives (records of the
// asked type, CNAME when the name has one, NODATA/NXDOMAIN with the SOA, empty non-terminals exist).
// Used for fake upstream resolvers in tests and as a simple authority; names outside it are forwarded.
import { RRType } from './dns-types.ts';
import type { DnsQuestion, RecordData, Resolution, ResourceRecord } from './dns-types.ts';
import { canonicalName, splitLabels } from './names.ts';

export interface StaticZoneOptions {
  origin: string;
  records: readonly ResourceRecord[];
  /** TTL and MINIMUM of the SOA (default 30). */
  negativeTtl?: number;
}

export class StaticZone {
  readonly origin: string;
  readonly #originLabels: string[];
  readonly #names = new Map<string, RecordData[]>();
  readonly #ttls = new Map<string, number>();
  readonly #exists = new Set<string>();
  readonly #negativeTtl: number;

  constructor(options: StaticZoneOptions) {
    this.origin = canonicalName(options.origin);
    this.#originLabels = splitLabels(this.origin);
    this.#negativeTtl = options.negativeTtl ?? 30;
    for (const r of options.records) {
      const name = canonicalName(r.name);
      let list = this.#names.get(name);
      if (list === undefined) this.#names.set(name, (list = []));
      list.push(r.data);
      this.#ttls.set(`${name}|${r.data.type}`, r.ttl);
      const labels = splitLabels(name);
      for (let i = 0; i < labels.length; i++) this.#exists.add(labels.slice(i).join('.'));
    }
    this.#exists.add(this.origin);
  }

  #soa(): ResourceRecord {
    return { name: this.origin, ttl: this.#negativeTtl, data: { type: 'SOA', mname: `ns.${this.origin}`, rname: `hostmaster.${this.origin}`, serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: this.#negativeTtl } };
  }

  resolve(question: DnsQuestion): Resolution {
    const labels = splitLabels(question.name);
    const o = this.#originLabels;
    if (labels.length < o.length || o.some((l, i) => labels[labels.length - o.length + i] !== l)) return { kind: 'forward' };
    const name = labels.join('.');
    const owner = question.name.endsWith('.') ? question.name.slice(0, -1) : question.name;
    if (!this.#exists.has(name)) return { kind: 'answer', rcode: 'NXDOMAIN', answer: [], authority: [this.#soa()], additional: [] };
    const records = this.#names.get(name) ?? [];
    const cname = records.find((r) => r.type === 'CNAME');
    const matching = cname !== undefined && question.type !== RRType.CNAME ? [cname] : records.filter((r) => question.type === RRType.ANY || RRType[r.type] === question.type);
    if (matching.length === 0) return { kind: 'answer', rcode: 'NOERROR', answer: [], authority: [this.#soa()], additional: [] };
    return { kind: 'answer', rcode: 'NOERROR', answer: matching.map((data) => ({ name: owner, ttl: this.#ttls.get(`${name}|${data.type}`) ?? 30, data })), authority: [], additional: [] };
  }
}
