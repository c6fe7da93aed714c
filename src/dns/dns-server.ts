// The cluster DNS server: UDP and TCP on one address and port. Each query is decoded defensively, checked
// (opcode, class, zone transfers), answered from the cluster zone (the pure core) or forwarded upstream,
// and encoded with EDNS0 and UDP truncation. Bad input never throws out of the handler: a packet with no
// readable header is dropped, anything else malformed gets FORMERR.
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { createServer } from 'node:net';
import type { Server, Socket as TcpSocket } from 'node:net';
import { RCode, RRType } from './core/dns-types.ts';
import type { DnsQuestion, Resolution, ResourceRecord } from './core/dns-types.ts';
import type { Forwarder } from './forwarder.ts';
import type { DnsMetrics, Proto } from './metrics.ts';
import { CLASS_IN, WireError, decodeQuery, decodeRecords, encodeResponse, peekId, rcodeLabel, rewriteForClient, typeLabel } from './wire.ts';
import type { DecodedQuery } from './wire.ts';

/** What answers questions with authority: the ClusterZone, or any static zone (tests, fake upstreams). */
export interface Authority {
  resolve(question: DnsQuestion): Resolution;
}

export interface DnsServerOptions {
  authority: Authority;
  /** Where questions the authority does not own go; without one they get SERVFAIL. */
  forwarder?: Forwarder;
  metrics?: DnsMetrics;
  host?: string;
  /** 0 picks a free port for both UDP and TCP. */
  port?: number;
  /** Largest UDP response we send and the payload size we advertise (default 1232, RFC 9715 / DNS flag day 2020). */
  maxUdpPayload?: number;
  /** Answers from the authority are SERVFAIL until ready (default true; the feeder sets false until synced). */
  ready?: boolean;
  /** Idle TCP connections are closed after this long (default 10 s). */
  tcpIdleTimeoutMs?: number;
  /** Concurrent TCP connections accepted (default 1000). */
  maxTcpConnections?: number;
  /** Told about unexpected handler errors (default: console.error). */
  onError?: (e: unknown) => void;
}

const OPCODE_QUERY = 0;
const BADVERS = 16;

export class DnsServer {
  readonly #authority: Authority;
  readonly #forwarder: Forwarder | undefined;
  readonly #metrics: DnsMetrics | undefined;
  readonly #host: string;
  readonly #port: number;
  readonly #maxUdp: number;
  readonly #idleMs: number;
  readonly #maxTcp: number;
  readonly #onError: (e: unknown) => void;
  #ready: boolean;
  #udp: Socket | undefined;
  #tcp: Server | undefined;
  readonly #conns = new Set<TcpSocket>();
  #boundPort = 0;

  constructor(options: DnsServerOptions) {
    this.#authority = options.authority;
    this.#forwarder = options.forwarder;
    this.#metrics = options.metrics;
    this.#host = options.host ?? '127.0.0.1';
    this.#port = options.port ?? 53;
    this.#maxUdp = Math.max(512, options.maxUdpPayload ?? 1232);
    this.#ready = options.ready ?? true;
    this.#idleMs = options.tcpIdleTimeoutMs ?? 10_000;
    this.#maxTcp = options.maxTcpConnections ?? 1000;
    this.#onError = options.onError ?? ((e) => console.error('dns: handler error', e));
  }

  get ready(): boolean {
    return this.#ready;
  }

  setReady(ready: boolean): void {
    this.#ready = ready;
  }

  get port(): number {
    return this.#boundPort;
  }

  get host(): string {
    return this.#host;
  }

  /** Binds UDP and TCP on the same port (with port 0: the first free port both can take). */
  async start(): Promise<{ host: string; port: number }> {
    const family = this.#host.includes(':') ? 'udp6' : 'udp4';
    for (let attempt = 0; attempt < 20; attempt++) {
      const udp = createSocket({ type: family, reuseAddr: false });
      const port = await new Promise<number>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(this.#port, this.#host, () => {
          udp.off('error', reject);
          resolve(udp.address().port);
        });
      });
      const tcp = createServer({ pauseOnConnect: false }, (sock) => this.#onTcp(sock));
      const ok = await new Promise<boolean>((resolve, reject) => {
        tcp.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' && this.#port === 0 ? resolve(false) : reject(e)));
        tcp.listen(port, this.#host, () => resolve(true));
      }).catch((e: unknown) => {
        udp.close();
        throw e;
      });
      if (!ok) {
        udp.close();
        continue;
      }
      tcp.maxConnections = this.#maxTcp;
      udp.on('message', (msg, rinfo) => this.#onUdp(msg, rinfo));
      udp.on('error', (e) => this.#onError(e));
      this.#udp = udp;
      this.#tcp = tcp;
      this.#boundPort = port;
      return { host: this.#host, port };
    }
    throw new Error('dns: no free port for both UDP and TCP');
  }

  async stop(): Promise<void> {
    this.#udp?.close();
    this.#udp = undefined;
    for (const c of this.#conns) c.destroy();
    this.#conns.clear();
    const tcp = this.#tcp;
    this.#tcp = undefined;
    if (tcp !== undefined) await new Promise<void>((r) => tcp.close(() => r()));
  }

  #onUdp(msg: Buffer, rinfo: RemoteInfo): void {
    const udp = this.#udp;
    this.handle(msg, 'udp', rinfo.family === 'IPv6' ? 6 : 4).then((out) => {
      if (out !== undefined && udp !== undefined) udp.send(out, rinfo.port, rinfo.address, () => {});
    }, (e: unknown) => this.#onError(e));
  }

  #onTcp(sock: TcpSocket): void {
    this.#conns.add(sock);
    let buf: Buffer = Buffer.alloc(0);
    let inFlight = 0;
    sock.setNoDelay(true);
    sock.setTimeout(this.#idleMs, () => sock.destroy());
    sock.on('error', () => sock.destroy());
    sock.on('close', () => this.#conns.delete(sock));
    sock.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      while (buf.length >= 2) {
        const n = buf.readUInt16BE(0);
        if (buf.length < 2 + n) break;
        const msg = buf.subarray(2, 2 + n);
        buf = buf.subarray(2 + n);
        if (++inFlight > 100) {
          sock.destroy(); // a client pipelining without reading
          return;
        }
        this.handle(msg, 'tcp', sock.remoteFamily === 'IPv6' ? 6 : 4).then((out) => {
          inFlight--;
          if (out === undefined || sock.destroyed) return;
          const len = Buffer.allocUnsafe(2);
          len.writeUInt16BE(out.length);
          sock.write(Buffer.concat([len, out]));
        }, (e: unknown) => {
          inFlight--;
          this.#onError(e);
        });
      }
    });
  }

  /**
   * The response to one message (undefined: send nothing). Never throws for any input: unexpected
   * failures become SERVFAIL.
   */
  async handle(msg: Uint8Array, proto: Proto, family: 4 | 6 = 4): Promise<Buffer | undefined> {
    const started = performance.now();
    let q: DecodedQuery;
    try {
      q = decodeQuery(msg);
    } catch (e) {
      if (!(e instanceof WireError) || msg.length < 12) return undefined;
      if ((msg[2] ?? 0) & 0x80) return undefined; // never answer a response
      this.#metrics?.request(proto, family, 'other');
      return this.#finish(encodeResponse({ id: peekId(msg), opcode: ((msg[2] ?? 0) >> 3) & 0xf, rcode: RCode.FORMERR }), RCode.FORMERR, 'other', started, '');
    }
    if (q.qr) return undefined;
    const qtype = q.question !== undefined ? typeLabel(q.question.type) : 'other';
    this.#metrics?.request(proto, family, qtype);
    try {
      return await this.#answer(q, proto, qtype, started);
    } catch (e) {
      this.#metrics?.panics.inc({});
      this.#onError(e);
      return this.#finish(this.#plain(q, RCode.SERVFAIL), RCode.SERVFAIL, qtype, started, '');
    }
  }

  #finish(out: Buffer, rcode: number, qtype: string, started: number, plugin: string): Buffer {
    this.#metrics?.response(rcodeLabel(rcode), qtype, (performance.now() - started) / 1000, plugin);
    return out;
  }

  #edns(q: DecodedQuery): { udpPayloadSize: number; dnssecOk: boolean } | undefined {
    return q.edns === undefined ? undefined : { udpPayloadSize: this.#maxUdp, dnssecOk: q.edns.dnssecOk };
  }

  #plain(q: DecodedQuery, rcode: number, extra: { aa?: boolean } = {}): Buffer {
    const edns = this.#edns(q);
    return encodeResponse({
      id: q.id,
      opcode: q.opcode,
      rd: q.rd,
      cd: q.cd,
      rcode,
      ...(q.questionBytes !== undefined ? { questionBytes: q.questionBytes } : {}),
      ...(edns !== undefined ? { edns } : {}),
      ...extra,
    });
  }

  #udpLimit(q: DecodedQuery, proto: Proto): number | undefined {
    if (proto === 'tcp') return undefined;
    if (q.edns === undefined) return 512;
    return Math.min(Math.max(512, q.edns.udpPayloadSize), this.#maxUdp);
  }

  async #answer(q: DecodedQuery, proto: Proto, qtype: string, started: number): Promise<Buffer> {
    if (q.opcode !== OPCODE_QUERY) return this.#finish(this.#plain(q, RCode.NOTIMP), RCode.NOTIMP, qtype, started, '');
    if (q.edns !== undefined && q.edns.version > 0) return this.#finish(this.#plain(q, BADVERS), BADVERS, qtype, started, '');
    const question = q.question;
    if (question === undefined) return this.#finish(this.#plain(q, RCode.FORMERR), RCode.FORMERR, qtype, started, '');
    if (question.type === RRType.OPT) return this.#finish(this.#plain(q, RCode.FORMERR), RCode.FORMERR, qtype, started, '');
    if (question.class !== CLASS_IN || question.type === RRType.AXFR || question.type === RRType.IXFR) {
      return this.#finish(this.#plain(q, RCode.REFUSED), RCode.REFUSED, qtype, started, '');
    }
    const res = this.#authority.resolve({ name: question.name, type: question.type });
    const maxSize = this.#udpLimit(q, proto);
    const edns = this.#edns(q);
    if (res.kind === 'answer') {
      if (!this.#ready) return this.#finish(this.#plain(q, RCode.SERVFAIL), RCode.SERVFAIL, qtype, started, 'kubernetes');
      const answer: ResourceRecord[] = [...res.answer];
      if (res.chase !== undefined && this.#forwarder !== undefined) {
        const chased = await this.#forwarder.resolve({ name: res.chase.name, type: res.chase.type, class: CLASS_IN });
        if (chased !== undefined) {
          const age = chased.age;
          for (const r of decodeRecords(chased.raw, chased.scan, 0)) answer.push({ ...r, ttl: Math.max(0, r.ttl - age) });
        }
      }
      const rcode = RCode[res.rcode];
      const out = encodeResponse({
        id: q.id, opcode: q.opcode, rd: q.rd, cd: q.cd, aa: true, rcode,
        ...(q.questionBytes !== undefined ? { questionBytes: q.questionBytes } : {}),
        answer, authority: res.authority, additional: res.additional,
        ...(edns !== undefined ? { edns } : {}),
        ...(maxSize !== undefined ? { maxSize } : {}),
      });
      return this.#finish(out, rcode, qtype, started, 'kubernetes');
    }
    if (this.#forwarder === undefined) return this.#finish(this.#plain(q, RCode.SERVFAIL), RCode.SERVFAIL, qtype, started, '');
    const fwd = await this.#forwarder.resolve(question, q.edns?.dnssecOk === true);
    if (fwd === undefined) return this.#finish(this.#plain(q, RCode.SERVFAIL), RCode.SERVFAIL, qtype, started, 'forward');
    const out = rewriteForClient(fwd.raw, fwd.scan, {
      id: q.id, rd: q.rd, cd: q.cd, age: fwd.age,
      ...(q.questionBytes !== undefined ? { questionBytes: q.questionBytes } : {}),
      ...(edns !== undefined ? { edns } : {}),
      ...(maxSize !== undefined ? { maxSize } : {}),
    });
    return this.#finish(out, fwd.scan.rcode, qtype, started, fwd.cached !== undefined ? 'cache' : 'forward');
  }
}
