// The DNS server against the real `dig` (dnsutils) on 127.0.0.1, with a fake upstream (a second server
// instance serving a static zone) on 127.0.0.2.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import type { EndpointSlice, Service } from '../api/types.ts';
import { ClusterZone, SERVICE_NAME_LABEL } from './core/cluster-zone.ts';
import type { DnsQuestion, Resolution, ResourceRecord } from './core/dns-types.ts';
import { StaticZone } from './core/static-zone.ts';
import { DnsServer } from './dns-server.ts';
import { Forwarder } from './forwarder.ts';
import { DnsMetrics, startMetricsServer } from './metrics.ts';
import type { HealthServer } from './metrics.ts';
import { encodeQuery, scanMessage } from './wire.ts';

interface Dig {
  status: string;
  flags: string[];
  answer: string[];
  authority: string[];
  additional: string[];
  opt: string;
  raw: string;
}

function dig(port: number, args: string[], tries = 1): Promise<Dig> {
  return new Promise((resolve, reject) => {
    execFile('dig', ['@127.0.0.1', '-p', String(port), `+tries=${tries}`, `+time=${tries === 1 ? 5 : 2}`, ...args], { timeout: 15_000 }, (err, stdout) => {
      if (err && !stdout) return reject(err);
      const section = (title: string) => {
        const i = stdout.indexOf(`;; ${title} SECTION:\n`);
        if (i < 0) return [];
        const rest = stdout.slice(i).split('\n').slice(1);
        const end = rest.indexOf('');
        return rest.slice(0, end < 0 ? undefined : end).map((l) => l.split(/\s+/).join(' '));
      };
      resolve({
        status: /status: (\w+)/.exec(stdout)?.[1] ?? '',
        flags: (/;; flags: ([^;]*);/.exec(stdout)?.[1] ?? '').trim().split(/\s+/),
        answer: section('ANSWER'),
        authority: section('AUTHORITY'),
        additional: section('ADDITIONAL'),
        opt: /; EDNS: [^\n]*/.exec(stdout)?.[0] ?? '',
        raw: stdout,
      });
    });
  });
}

const D = 'cluster.local';

function svc(namespace: string, name: string, spec: Service['spec']): Service {
  return { metadata: { namespace, name }, spec };
}

function slice(namespace: string, name: string, service: string, ips: string[], hostnames: string[] = [], ports: EndpointSlice['ports'] = []): EndpointSlice {
  return {
    metadata: { namespace, name, labels: { [SERVICE_NAME_LABEL]: service } },
    addressType: 'IPv4',
    endpoints: ips.map((ip, i) => ({ addresses: [ip], conditions: { ready: true }, ...(hostnames[i] ? { hostname: hostnames[i] } : {}) })),
    ports,
  };
}

class CountingAuthority {
  readonly inner: StaticZone;
  count = 0;
  constructor(inner: StaticZone) {
    this.inner = inner;
  }
  resolve(q: DnsQuestion): Resolution {
    this.count++;
    return this.inner.resolve(q);
  }
}

describe('DnsServer with dig', () => {
  const zone = new ClusterZone();
  const upstreamRecords: ResourceRecord[] = [
    { name: 'www.example.test', ttl: 300, data: { type: 'A', address: '192.0.2.10' } },
    { name: 'cached.example.test', ttl: 300, data: { type: 'A', address: '192.0.2.11' } },
    ...Array.from({ length: 150 }, (_, i): ResourceRecord => ({ name: 'big.example.test', ttl: 300, data: { type: 'A', address: `192.0.3.${i}` } })),
  ];
  const upstreamAuthority = new CountingAuthority(new StaticZone({ origin: 'example.test', records: upstreamRecords, negativeTtl: 60 }));
  const upstream = new DnsServer({ authority: upstreamAuthority, host: '127.0.0.2', port: 0, onError: () => {} });
  let forwarder: Forwarder;
  let server: DnsServer;
  const metrics = new DnsMetrics();
  let health: HealthServer;
  let port = 0;

  before(async () => {
    zone.upsertService(svc('default', 'kubernetes', { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] }));
    zone.upsertService(svc('ns1', 'db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] }));
    zone.upsertEndpointSlice(slice('ns1', 'db-1', 'db', ['10.244.1.5', '10.244.1.6'], ['db-0'], [{ name: 'pg', port: 5432, protocol: 'TCP' }]));
    zone.upsertService(svc('ns1', 'ext', { type: 'ExternalName', externalName: 'www.example.test' }));
    zone.upsertService(svc('ns1', 'wide', { clusterIP: 'None' }));
    zone.upsertEndpointSlice(slice('ns1', 'wide-1', 'wide', Array.from({ length: 200 }, (_, i) => `10.250.${i >> 8}.${i & 255}`)));
    zone.upsertService(svc('ns1', 'mid', { clusterIP: 'None' }));
    zone.upsertEndpointSlice(slice('ns1', 'mid-1', 'mid', Array.from({ length: 40 }, (_, i) => `10.251.0.${i}`)));
    const up = await upstream.start();
    forwarder = new Forwarder({ upstreams: [{ host: '127.0.0.2', port: up.port }], metrics, timeoutMs: 1000 });
    server = new DnsServer({ authority: zone, forwarder, metrics, host: '127.0.0.1', port: 0 });
    port = (await server.start()).port;
    health = await startMetricsServer({ host: '127.0.0.1', port: 0, metrics, isReady: () => server.ready });
  });

  after(async () => {
    await server.stop();
    await upstream.stop();
    forwarder.close();
    await health.close();
  });

  it('answers a ClusterIP A record with authority and the 5 s TTL', async () => {
    const r = await dig(port, [`kubernetes.default.svc.${D}`, 'A']);
    assert.equal(r.status, 'NOERROR');
    assert.ok(r.flags.includes('aa'));
    assert.deepEqual(r.answer, [`kubernetes.default.svc.${D}. 5 IN A 10.96.0.1`]);
  });

  it('keeps the question\'s case in the answer', async () => {
    const r = await dig(port, [`KuberNetes.DEFAULT.svc.${D}`, 'A']);
    assert.deepEqual(r.answer, [`KuberNetes.DEFAULT.svc.${D}. 5 IN A 10.96.0.1`]);
  });

  it('answers SRV for a ClusterIP port with the service name and its A record as additional', async () => {
    const r = await dig(port, [`_https._tcp.kubernetes.default.svc.${D}`, 'SRV']);
    assert.deepEqual(r.answer, [`_https._tcp.kubernetes.default.svc.${D}. 5 IN SRV 0 100 443 kubernetes.default.svc.${D}.`]);
    assert.ok(r.additional.includes(`kubernetes.default.svc.${D}. 5 IN A 10.96.0.1`));
  });

  it('answers SRV for a headless port with one record per endpoint name', async () => {
    const r = await dig(port, [`_pg._tcp.db.ns1.svc.${D}`, 'SRV']);
    assert.deepEqual(r.answer.sort(), [`_pg._tcp.db.ns1.svc.${D}. 5 IN SRV 0 50 5432 10-244-1-6.db.ns1.svc.${D}.`, `_pg._tcp.db.ns1.svc.${D}. 5 IN SRV 0 50 5432 db-0.db.ns1.svc.${D}.`]);
  });

  it('answers headless A records for every ready endpoint and for an endpoint hostname', async () => {
    const all = await dig(port, [`db.ns1.svc.${D}`, 'A']);
    assert.deepEqual(all.answer.sort(), [`db.ns1.svc.${D}. 5 IN A 10.244.1.5`, `db.ns1.svc.${D}. 5 IN A 10.244.1.6`]);
    const one = await dig(port, [`db-0.db.ns1.svc.${D}`, 'A']);
    assert.deepEqual(one.answer, [`db-0.db.ns1.svc.${D}. 5 IN A 10.244.1.5`]);
  });

  it('answers PTR for a ClusterIP and for a headless endpoint', async () => {
    assert.deepEqual((await dig(port, ['-x', '10.96.0.1'])).answer, [`1.0.96.10.in-addr.arpa. 5 IN PTR kubernetes.default.svc.${D}.`]);
    assert.deepEqual((await dig(port, ['-x', '10.244.1.5'])).answer, [`5.1.244.10.in-addr.arpa. 5 IN PTR db-0.db.ns1.svc.${D}.`]);
  });

  it('answers an ExternalName with its CNAME followed by the target\'s address from upstream', async () => {
    const r = await dig(port, [`ext.ns1.svc.${D}`, 'A']);
    assert.equal(r.answer[0], `ext.ns1.svc.${D}. 5 IN CNAME www.example.test.`);
    assert.match(r.answer[1] ?? '', /^www\.example\.test\. \d+ IN A 192\.0\.2\.10$/);
  });

  it('answers pod A records for dashed addresses', async () => {
    assert.deepEqual((await dig(port, [`10-244-7-8.ns1.pod.${D}`, 'A'])).answer, [`10-244-7-8.ns1.pod.${D}. 5 IN A 10.244.7.8`]);
  });

  it('serves the dns-version TXT record', async () => {
    assert.deepEqual((await dig(port, [`dns-version.${D}`, 'TXT'])).answer, [`dns-version.${D}. 5 IN TXT "1.1.0"`]);
  });

  it('answers NXDOMAIN with the SOA for a missing name', async () => {
    const r = await dig(port, [`missing.ns1.svc.${D}`, 'A']);
    assert.equal(r.status, 'NXDOMAIN');
    assert.deepEqual(r.answer, []);
    assert.match(r.authority[0] ?? '', new RegExp(`^${D}\\. 5 IN SOA ns\\.dns\\.${D}\\. hostmaster\\.${D}\\. \\d+ 7200 1800 86400 5$`));
  });

  it('answers NOERROR with no records and the SOA for an existing name without that type or an intermediate name', async () => {
    for (const [name, type] of [[`kubernetes.default.svc.${D}`, 'AAAA'], [`ns1.svc.${D}`, 'A']] as const) {
      const r = await dig(port, [name, type]);
      assert.equal(r.status, 'NOERROR', name);
      assert.deepEqual(r.answer, []);
      assert.equal(r.authority.length, 1);
      assert.match(r.authority[0] ?? '', / IN SOA /);
    }
  });

  it('sets TC on a UDP answer over the limit and gives the whole answer over TCP', async () => {
    const udp = await dig(port, [`wide.ns1.svc.${D}`, 'A', '+ignore']);
    assert.ok(udp.flags.includes('tc'), udp.raw);
    assert.ok(udp.answer.length > 0 && udp.answer.length < 200);
    const tcp = await dig(port, [`wide.ns1.svc.${D}`, 'A', '+tcp']);
    assert.ok(!tcp.flags.includes('tc'));
    assert.equal(tcp.answer.length, 200);
  });

  it('advertises a 1232-byte EDNS payload and honors a client without EDNS (512 bytes)', async () => {
    const edns = await dig(port, [`mid.ns1.svc.${D}`, 'A', '+bufsize=4096']);
    assert.match(edns.opt, /udp: 1232/);
    assert.equal(edns.answer.length, 40);
    assert.ok(!edns.flags.includes('tc'));
    const plain = await dig(port, [`mid.ns1.svc.${D}`, 'A', '+noedns', '+ignore']);
    assert.equal(plain.opt, '');
    assert.ok(plain.flags.includes('tc'), plain.raw);
  });

  it('refuses zone transfers and non-IN classes and does not implement other opcodes', async () => {
    assert.equal((await dig(port, [D, 'AXFR'])).raw.includes('Transfer failed'), true);
    assert.equal((await dig(port, ['-c', 'CH', 'version.bind', 'TXT'])).status, 'REFUSED');
    assert.equal((await dig(port, [`kubernetes.default.svc.${D}`, '+opcode=status'])).status, 'NOTIMP');
  });

  it('forwards names outside the domain, and answers the second query from the cache', async () => {
    const before = upstreamAuthority.count;
    const first = await dig(port, ['cached.example.test', 'A']);
    assert.match(first.answer[0] ?? '', /^cached\.example\.test\. 300 IN A 192\.0\.2\.11$/);
    assert.ok(!first.flags.includes('aa'));
    assert.equal(upstreamAuthority.count, before + 1);
    const hitsBefore = metrics.cacheHits.get({ server: metrics.server, type: 'success', zones: '.', view: '' });
    const second = await dig(port, ['CACHED.example.test', 'A']);
    assert.match(second.answer[0] ?? '', /^CACHED\.example\.test\. \d+ IN A 192\.0\.2\.11$/);
    assert.equal(upstreamAuthority.count, before + 1, 'the upstream was not asked again');
    assert.equal(metrics.cacheHits.get({ server: metrics.server, type: 'success', zones: '.', view: '' }), hitsBefore + 1);
  });

  it('caches a forwarded NXDOMAIN', async () => {
    const before = upstreamAuthority.count;
    assert.equal((await dig(port, ['nope.example.test', 'A'])).status, 'NXDOMAIN');
    assert.equal((await dig(port, ['nope.example.test', 'A'])).status, 'NXDOMAIN');
    assert.equal(upstreamAuthority.count, before + 1);
  });

  it('truncates a large forwarded answer over UDP and relays it whole over TCP', async () => {
    const udp = await dig(port, ['big.example.test', 'A', '+ignore']);
    assert.ok(udp.flags.includes('tc'));
    const tcp = await dig(port, ['big.example.test', 'A', '+tcp']);
    assert.equal(tcp.answer.length, 150);
  });

  it('answers SERVFAIL when no upstream answers', async () => {
    const dead = new Forwarder({ upstreams: [{ host: '127.0.0.3', port: 9 }], timeoutMs: 300 });
    const lonely = new DnsServer({ authority: zone, forwarder: dead, host: '127.0.0.1', port: 0 });
    const p = (await lonely.start()).port;
    try {
      assert.equal((await dig(p, ['www.example.test', 'A'])).status, 'SERVFAIL');
    } finally {
      await lonely.stop();
      dead.close();
    }
  });

  it('answers SERVFAIL for cluster names until ready, while still forwarding', async () => {
    const waiting = new DnsServer({ authority: zone, forwarder, host: '127.0.0.1', port: 0, ready: false });
    const p = (await waiting.start()).port;
    try {
      assert.equal((await dig(p, [`kubernetes.default.svc.${D}`, 'A'])).status, 'SERVFAIL');
      assert.equal((await dig(p, ['www.example.test', 'A'])).status, 'NOERROR');
      waiting.setReady(true);
      assert.equal((await dig(p, [`kubernetes.default.svc.${D}`, 'A'])).status, 'NOERROR');
    } finally {
      await waiting.stop();
    }
  });

  it('answers FORMERR to a malformed packet over UDP and ignores runts and responses', async () => {
    const sock = createSocket('udp4');
    const replies: Buffer[] = [];
    sock.on('message', (m) => replies.push(m));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const send = (b: Uint8Array) => new Promise<void>((r) => sock.send(b, port, '127.0.0.1', () => r()));
    await send(Uint8Array.from([0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1])); // self pointer
    await send(Uint8Array.from([1, 2, 3])); // runt
    const resp = Buffer.from(encodeQuery({ name: 'a', type: 1, class: 1 }, { id: 5 }));
    resp[2] = (resp[2] ?? 0) | 0x80;
    await send(resp); // a response: must not be answered
    await new Promise((r) => setTimeout(r, 300));
    sock.close();
    assert.equal(replies.length, 1);
    const s = scanMessage(replies[0] ?? Buffer.alloc(0));
    assert.deepEqual({ id: s.id, rcode: s.rcode, qr: (s.flags & 0x8000) !== 0 }, { id: 0xabcd, rcode: 1, qr: true });
  });

  it('survives 5,000 random and mutated packets and still answers a valid query', async () => {
    const seeds = [
      encodeQuery({ name: `kubernetes.default.svc.${D}`, type: 1, class: 1 }, { id: 1, edns: { udpPayloadSize: 1232 } }),
      encodeQuery({ name: `_pg._tcp.db.ns1.svc.${D}`, type: 33, class: 1 }, { id: 2 }),
      encodeQuery({ name: 'www.example.test', type: 1, class: 1 }, { id: 3 }),
    ];
    let answered = 0;
    const deadline = Date.now() + 60_000;
    for (let i = 0; i < 5000; i++) {
      let pkt: Buffer;
      if (i % 4 === 0) pkt = randomBytes(i % 300);
      else {
        pkt = Buffer.from(seeds[i % seeds.length] ?? Buffer.alloc(0));
        const flips = 1 + (i % 6);
        for (let f = 0; f < flips; f++) pkt[(i * 7919 + f * 104729) % pkt.length] = randomBytes(1)[0] ?? 0;
        if (i % 5 === 0) pkt = pkt.subarray(0, i % pkt.length);
      }
      const out = await Promise.race([server.handle(pkt, i % 2 === 0 ? 'udp' : 'tcp'), new Promise<'hang'>((r) => setTimeout(() => r('hang'), 3000))]);
      assert.notEqual(out, 'hang', `packet ${i} hung: ${pkt.toString('hex')}`);
      if (out !== undefined && out !== 'hang') {
        answered++;
        assert.doesNotThrow(() => scanMessage(out), `packet ${i} got an unparsable reply`);
      }
      assert.ok(Date.now() < deadline, 'fuzzing took too long');
    }
    assert.ok(answered > 1000, `${answered} answered`);
    // Some of them over the real sockets too.
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    for (let i = 0; i < 300; i++) await new Promise<void>((r) => sock.send(randomBytes(1 + (i % 100)), port, '127.0.0.1', () => r()));
    sock.close();
    // The burst overflows the server socket's receive buffer (RcvbufErrors): a datagram arriving right after it
    // may be dropped by the kernel, so dig may ask again; a wedged server would still fail every try.
    const r = await dig(port, [`kubernetes.default.svc.${D}`, 'A'], 3);
    assert.deepEqual(r.answer, [`kubernetes.default.svc.${D}. 5 IN A 10.96.0.1`], r.raw);
  });

  it('exposes CoreDNS-style metrics, /health and /ready', async () => {
    await dig(port, [`kubernetes.default.svc.${D}`, 'A']);
    const text = await (await fetch(`http://127.0.0.1:${health.port}/metrics`)).text();
    assert.match(text, /coredns_dns_requests_total\{server="dns:\/\/:53",zone=".",view="",proto="udp",family="1",type="A"\} \d+/);
    assert.match(text, /coredns_dns_responses_total\{[^}]*rcode="NXDOMAIN"[^}]*\} \d+/);
    assert.match(text, /coredns_dns_request_duration_seconds_bucket\{[^}]*type="A",le="\+Inf"\} \d+/);
    assert.match(text, /coredns_cache_hits_total\{[^}]*type="success"[^}]*\} [1-9]/);
    assert.match(text, /coredns_cache_misses_total\{[^}]*\} [1-9]/);
    assert.equal((await fetch(`http://127.0.0.1:${health.port}/health`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${health.port}/ready`)).status, 200);
    server.setReady(false);
    try {
      assert.equal((await fetch(`http://127.0.0.1:${health.port}/ready`)).status, 503);
    } finally {
      server.setReady(true);
    }
  });
});
