// The forwarder's response cache: raw upstream responses keyed by (name, type, class, DO), kept for the
// smallest TTL in the answer (positive) or the SOA's negative TTL (NXDOMAIN / NODATA, RFC 2308), each
// capped, in a size-bounded LRU. Served copies get their TTLs aged by the time spent in the cache.
import { RCode } from './core/dns-types.ts';
import { ttlsOf } from './wire.ts';
import type { ScannedMessage } from './wire.ts';

export interface ResponseCacheOptions {
  /** Most entries kept (default 10 000); the least recently used goes first. */
  capacity?: number;
  /** Cap on positive TTLs, seconds (default 3600). */
  maxTtl?: number;
  /** Cap on negative TTLs, seconds (default 1800). */
  maxNegativeTtl?: number;
  /** Milliseconds clock (default Date.now). */
  now?: () => number;
}

export type CacheEntryKind = 'success' | 'denial';

export interface CacheEntry {
  raw: Uint8Array;
  scan: ScannedMessage;
  kind: CacheEntryKind;
  storedAt: number;
  expiresAt: number;
}

export function cacheKey(name: string, type: number, klass: number, dnssecOk: boolean): string {
  return `${name.toLowerCase()}|${type}|${klass}|${dnssecOk ? 1 : 0}`;
}

export class ResponseCache {
  readonly capacity: number;
  readonly #maxTtl: number;
  readonly #maxNegativeTtl: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, CacheEntry>();

  constructor(options: ResponseCacheOptions = {}) {
    this.capacity = Math.max(1, options.capacity ?? 10_000);
    this.#maxTtl = options.maxTtl ?? 3600;
    this.#maxNegativeTtl = options.maxNegativeTtl ?? 1800;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** A live entry (refreshed as most recently used), or undefined. Expired entries are dropped. */
  get(key: string): CacheEntry | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    this.#entries.delete(key);
    if (e.expiresAt <= this.#now()) return undefined;
    this.#entries.set(key, e);
    return e;
  }

  /**
   * Stores a response if it is cacheable: NOERROR with answers (TTL = smallest answer TTL), or NXDOMAIN /
   * NOERROR-without-answers carrying an SOA (TTL = min(SOA TTL, SOA MINIMUM)). Truncated responses, other
   * rcodes and TTL 0 are not stored. Returns the entry stored, if any.
   */
  put(key: string, raw: Uint8Array, scan: ScannedMessage): CacheEntry | undefined {
    if (scan.tc) return undefined;
    const { minAnswerTtl, negativeTtl, answers } = ttlsOf(raw, scan);
    let kind: CacheEntryKind;
    let ttl: number | undefined;
    if (scan.rcode === RCode.NOERROR && answers > 0) {
      kind = 'success';
      ttl = minAnswerTtl === undefined ? undefined : Math.min(minAnswerTtl, this.#maxTtl);
    } else if (scan.rcode === RCode.NXDOMAIN || (scan.rcode === RCode.NOERROR && answers === 0)) {
      kind = 'denial';
      ttl = negativeTtl === undefined ? undefined : Math.min(negativeTtl, this.#maxNegativeTtl);
    } else return undefined;
    if (ttl === undefined || ttl <= 0) return undefined;
    const now = this.#now();
    const entry: CacheEntry = { raw: Uint8Array.from(raw), scan, kind, storedAt: now, expiresAt: now + ttl * 1000 };
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    while (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
    return entry;
  }

  /** Entries by kind, for the coredns_cache_entries gauge. */
  counts(): Record<CacheEntryKind, number> {
    const out = { success: 0, denial: 0 };
    for (const e of this.#entries.values()) out[e.kind]++;
    return out;
  }

  clear(): void {
    this.#entries.clear();
  }
}
