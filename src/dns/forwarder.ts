// Forwarding of questions outside the cluster domain to upstream resolvers, behind the response cache.
// One UDP socket per address family with random query ids; answers are accepted only from the upstream
// asked, with the id and question sent. A truncated UDP answer is retried over TCP. Upstreams are tried in
// order (each with its own timeout) until one gives a usable answer (anything but SERVFAIL/REFUSED or a
// broken message). Identical questions in flight share one upstream exchange.
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { connect } from 'node:net';
import { isIPv6 } from 'node:net';
import { randomInt } from 'node:crypto';
import { RCode } from './core/dns-types.ts';
import type { DnsMetrics } from './metrics.ts';
import { ResponseCache, cacheKey } from './response-cache.ts';
import type { CacheEntryKind } from './response-cache.ts';
import { encodeQuery, rcodeLabel, scanMessage } from './wire.ts';
import type { ScannedMessage, WireQuestion } from './wire.ts';

export interface Upstream {
  host: string;
  port: number;
}

export interface ForwarderOptions {
  upstreams: readonly Upstream[];
  /** Per-upstream attempt timeout, ms (default 2000). */
  timeoutMs?: number;
  /** Default: a 10 000-entry cache; `null` disables caching. */
  cache?: ResponseCache | null;
  metrics?: DnsMetrics;
  /** EDNS payload size advertised upstream (default 1232). */
  udpPayloadSize?: number;
}

export interface ForwardResult {
  raw: Uint8Array;
  scan: ScannedMessage;
  /** Seconds the answer spent in the cache (0 when fresh). */
  age: number;
  cached: CacheEntryKind | undefined;
}

interface Pending {
  upstream: Upstream;
  question: WireQuestion;
  resolve: (r: { raw: Uint8Array; scan: ScannedMessage } | undefined) => void;
  timer: NodeJS.Timeout;
}

function upstreamName(u: Upstream): string {
  return isIPv6(u.host) ? `[${u.host}]:${u.port}` : `${u.host}:${u.port}`;
}

/** Parses `host`, `host:port`, `[v6]:port` (default port 53). */
export function parseUpstream(text: string): Upstream {
  const t = text.trim().replace(/^dns:\/\//, '');
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (v6) return { host: v6[1] ?? '', port: Number(v6[2] ?? 53) };
  if (isIPv6(t)) return { host: t, port: 53 };
  const i = t.lastIndexOf(':');
  if (i > 0) return { host: t.slice(0, i), port: Number(t.slice(i + 1)) };
  return { host: t, port: 53 };
}

/** Nameservers of a resolv.conf text (`nameserver <ip>` lines), as upstreams on port 53. */
export function upstreamsFromResolvConf(text: string): Upstream[] {
  const out: Upstream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m?.[1] !== undefined) out.push({ host: m[1].replace(/%.*$/, ''), port: 53 });
  }
  return out;
}

function sameQuestion(a: WireQuestion | undefined, b: WireQuestion): boolean {
  return a !== undefined && a.type === b.type && a.class === b.class && a.name.toLowerCase() === b.name.toLowerCase();
}

export class Forwarder {
  readonly upstreams: readonly Upstream[];
  readonly cache: ResponseCache | undefined;
  readonly #timeoutMs: number;
  readonly #metrics: DnsMetrics | undefined;
  readonly #payload: number;
  readonly #pending = new Map<number, Pending>();
  readonly #inflight = new Map<string, Promise<ForwardResult | undefined>>();
  #udp4: Socket | undefined;
  #udp6: Socket | undefined;
  #closed = false;

  constructor(options: ForwarderOptions) {
    this.upstreams = options.upstreams;
    this.cache = options.cache === null ? undefined : (options.cache ?? new ResponseCache());
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#metrics = options.metrics;
    this.#payload = options.udpPayloadSize ?? 1232;
  }

  close(): void {
    this.#closed = true;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.resolve(undefined);
    }
    this.#pending.clear();
    this.#udp4?.close();
    this.#udp6?.close();
    this.#udp4 = this.#udp6 = undefined;
  }

  /** The answer (from cache or an upstream), or undefined when every upstream failed. */
  resolve(question: WireQuestion, dnssecOk = false): Promise<ForwardResult | undefined> {
    const key = cacheKey(question.name, question.type, question.class, dnssecOk);
    const hit = this.cache?.get(key);
    if (hit !== undefined) {
      this.#metrics?.cacheHit(hit.kind);
      return Promise.resolve({ raw: hit.raw, scan: hit.scan, age: Math.floor((Date.now() - hit.storedAt) / 1000), cached: hit.kind });
    }
    if (this.cache !== undefined) this.#metrics?.cacheMiss();
    const running = this.#inflight.get(key);
    if (running !== undefined) return running;
    const p = this.#exchangeAll(question, dnssecOk).then((r) => {
      if (r !== undefined) this.cache?.put(key, r.raw, r.scan);
      return r === undefined ? undefined : { ...r, age: 0, cached: undefined };
    }).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  async #exchangeAll(question: WireQuestion, dnssecOk: boolean): Promise<{ raw: Uint8Array; scan: ScannedMessage } | undefined> {
    for (const upstream of this.upstreams) {
      if (this.#closed) return undefined;
      let r = await this.#udpExchange(upstream, question, dnssecOk);
      if (r?.scan.tc === true) r = await this.#tcpExchange(upstream, question, dnssecOk);
      this.#metrics?.forwarded(upstreamName(upstream), r === undefined ? undefined : rcodeLabel(r.scan.rcode));
      if (r !== undefined && r.scan.rcode !== RCode.SERVFAIL && r.scan.rcode !== RCode.REFUSED) return r;
    }
    return undefined;
  }

  #socket(family: 4 | 6): Socket {
    const existing = family === 4 ? this.#udp4 : this.#udp6;
    if (existing !== undefined) return existing;
    const s = createSocket(family === 4 ? 'udp4' : 'udp6');
    s.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo.address, rinfo.port));
    s.on('error', () => {
      // Send errors surface as timeouts of the queries concerned.
    });
    s.unref();
    if (family === 4) this.#udp4 = s;
    else this.#udp6 = s;
    return s;
  }

  #onMessage(msg: Buffer, address: string, port: number): void {
    if (msg.length < 12) return;
    const id = msg.readUInt16BE(0);
    const p = this.#pending.get(id);
    if (p === undefined || p.upstream.port !== port || p.upstream.host !== address) return;
    let scan: ScannedMessage;
    try {
      scan = scanMessage(msg);
    } catch {
      return; // a broken message from the upstream: wait for a good one or time out
    }
    if ((scan.flags & 0x8000) === 0 || !sameQuestion(scan.question, p.question)) return;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    p.resolve({ raw: msg, scan });
  }

  #freeId(): number {
    for (let i = 0; i < 100; i++) {
      const id = randomInt(0, 65536);
      if (!this.#pending.has(id)) return id;
    }
    return -1;
  }

  #udpExchange(upstream: Upstream, question: WireQuestion, dnssecOk: boolean): Promise<{ raw: Uint8Array; scan: ScannedMessage } | undefined> {
    const id = this.#freeId();
    if (id < 0) return Promise.resolve(undefined);
    const socket = this.#socket(isIPv6(upstream.host) ? 6 : 4);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve(undefined);
      }, this.#timeoutMs);
      this.#pending.set(id, { upstream, question, resolve, timer });
      const q = encodeQuery(question, { id, edns: { udpPayloadSize: this.#payload, dnssecOk } });
      socket.send(q, upstream.port, upstream.host, (err) => {
        if (err !== null && err !== undefined && this.#pending.get(id)?.timer === timer) {
          this.#pending.delete(id);
          clearTimeout(timer);
          resolve(undefined);
        }
      });
    });
  }

  #tcpExchange(upstream: Upstream, question: WireQuestion, dnssecOk: boolean): Promise<{ raw: Uint8Array; scan: ScannedMessage } | undefined> {
    const id = randomInt(0, 65536);
    const q = encodeQuery(question, { id, edns: { udpPayloadSize: this.#payload, dnssecOk } });
    return new Promise((resolve) => {
      let settled = false;
      let buf = Buffer.alloc(0);
      const sock = connect({ host: upstream.host, port: upstream.port });
      const done = (r: { raw: Uint8Array; scan: ScannedMessage } | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        sock.destroy();
        resolve(r);
      };
      const timer = setTimeout(() => done(undefined), this.#timeoutMs);
      sock.on('error', () => done(undefined));
      sock.on('close', () => done(undefined));
      sock.on('connect', () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(q.length);
        sock.write(Buffer.concat([len, q]));
      });
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length < 2) return;
        const n = buf.readUInt16BE(0);
        if (buf.length < 2 + n) return;
        const msg = buf.subarray(2, 2 + n);
        try {
          const scan = scanMessage(msg);
          done(scan.id === id && sameQuestion(scan.question, question) ? { raw: msg, scan } : undefined);
        } catch {
          done(undefined);
        }
      });
    });
  }
}
