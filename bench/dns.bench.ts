// Cluster DNS benchmark (issue 6): dnsperf against our server on loopback for cluster names (10k Services,
// 30k Pods loaded) and for cached external names, with unbound serving the same records as a static
// local-zone (and the external names through its cache) on another loopback port as the same-run baseline.
// Both are single-threaded (unbound num-threads: 1). Throughput is dnsperf's unthrottled QPS; latency
// p50/p99 come from dnsperf -v at a fixed 2,000 QPS. Memory: the zone's heap with everything loaded
// (separate process, after GC) and the server process's peak RSS.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EndpointSlice, Pod, Service } from '../src/api/types.ts';
import { ClusterZone, SERVICE_NAME_LABEL } from '../src/dns/core/cluster-zone.ts';
import type { ResourceRecord } from '../src/dns/core/dns-types.ts';
import { StaticZone } from '../src/dns/core/static-zone.ts';
import { DnsServer } from '../src/dns/dns-server.ts';
import { Forwarder } from '../src/dns/forwarder.ts';
import { percentile, type Benchmark, type Metric } from './harness.ts';

const SERVICES = Number(process.env['FLATNET_BENCH_DNS_SERVICES'] ?? 10_000);
const PODS = Number(process.env['FLATNET_BENCH_DNS_PODS'] ?? 30_000);
const SECONDS = Number(process.env['FLATNET_BENCH_DNS_SECONDS'] ?? 8);
const NAMESPACES = 100;
const EXTERNAL = 1000;
const LATENCY_QPS = 2000;

// ------------------------------------------------------------------------------------------ the fixture

interface Fixture {
  services: Service[];
  slices: EndpointSlice[];
  pods: Pod[];
}

const nsOf = (i: number) => `ns-${i % NAMESPACES}`;
const isHeadless = (i: number) => i % 10 === 0;
const clusterIP = (i: number) => `10.96.${(i + 16) >> 8}.${(i + 16) & 255}`;

type FixtureObject = { kind: 'service'; obj: Service } | { kind: 'slice'; obj: EndpointSlice } | { kind: 'pod'; obj: Pod };

/** The objects one at a time (so a loader need not hold them all): Services with their slices, then Pods. */
function* fixtureObjects(): Generator<FixtureObject> {
  let ep = 0;
  for (let i = 0; i < SERVICES; i++) {
    const ports = [{ name: 'http', port: 80, protocol: 'TCP' as const }, { name: 'metrics', port: 9090, protocol: 'TCP' as const }];
    const headless = isHeadless(i);
    yield { kind: 'service', obj: { metadata: { namespace: nsOf(i), name: `svc-${i}` }, spec: { clusterIP: headless ? 'None' : clusterIP(i), ports } } };
    if (headless) {
      const endpoints = Array.from({ length: 10 }, (_, k) => {
        const n = ep++;
        return { addresses: [`10.200.${n >> 8}.${n & 255}`], conditions: { ready: true }, ...(k % 2 === 0 ? { hostname: `h-${k}` } : {}) };
      });
      yield { kind: 'slice', obj: { metadata: { namespace: nsOf(i), name: `svc-${i}-abcde`, labels: { [SERVICE_NAME_LABEL]: `svc-${i}` } }, addressType: 'IPv4', endpoints, ports } };
    }
  }
  for (let j = 0; j < PODS; j++) {
    yield { kind: 'pod', obj: { metadata: { namespace: nsOf(j), name: `pod-${j}` }, spec: { containers: [] }, status: { phase: 'Running', podIP: `10.128.${j >> 8}.${j & 255}`, conditions: [{ type: 'Ready', status: 'True' }] } } };
  }
}

function fixture(): Fixture {
  const f: Fixture = { services: [], slices: [], pods: [] };
  for (const o of fixtureObjects()) {
    if (o.kind === 'service') f.services.push(o.obj);
    else if (o.kind === 'slice') f.slices.push(o.obj);
    else f.pods.push(o.obj);
  }
  return f;
}

function loadZone(zone: ClusterZone, objects: Iterable<FixtureObject>): void {
  for (const o of objects) {
    if (o.kind === 'service') zone.upsertService(o.obj);
    else if (o.kind === 'slice') zone.upsertEndpointSlice(o.obj);
    else zone.upsertPod(o.obj);
  }
}

function externalRecords(): ResourceRecord[] {
  return Array.from({ length: EXTERNAL }, (_, i) => ({ name: `host-${i}.example.test`, ttl: 3600, data: { type: 'A' as const, address: `192.0.2.${i & 255}` } }));
}

/** Deterministic query mix: 70% ClusterIP A, 10% SRV, 10% headless A (10 answers), 10% NXDOMAIN. */
function clusterQueries(): string {
  const lines: string[] = [];
  let x = 12345;
  const rnd = (n: number) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
  for (let q = 0; q < 5000; q++) {
    const kind = q % 10;
    let i = rnd(SERVICES);
    if (kind === 8) i = i - (i % 10);
    else if (isHeadless(i)) i = (i + 1) % SERVICES;
    const base = `svc-${i}.${nsOf(i)}.svc.cluster.local`;
    if (kind < 7) lines.push(`${base} A`);
    else if (kind === 7) lines.push(`_http._tcp.${base} SRV`);
    else if (kind === 8) lines.push(`${base} A`);
    else lines.push(`nope-${q}.${nsOf(i)}.svc.cluster.local A`);
  }
  return lines.join('\n') + '\n';
}

function externalQueries(): string {
  return Array.from({ length: EXTERNAL }, (_, i) => `host-${i}.example.test A`).join('\n') + '\n';
}

function unboundConf(dir: string, port: number, upstreamPort: number, f: Fixture): string {
  const lines = [
    'server:', '  interface: 127.0.0.1', `  port: ${port}`, '  do-daemonize: no', '  username: ""', '  chroot: ""', `  directory: "${dir}"`,
    '  pidfile: ""', '  use-syslog: no', '  logfile: ""', '  verbosity: 0', '  num-threads: 1', '  so-reuseport: no', '  do-ip6: no',
    '  access-control: 127.0.0.0/8 allow', '  do-not-query-localhost: no', '  module-config: "iterator"', '  domain-insecure: "example.test"',
    '  msg-cache-size: 64m', '  rrset-cache-size: 64m', '  local-zone: "cluster.local." static',
  ];
  const data = (rr: string) => lines.push(`  local-data: "${rr}"`);
  data('cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5');
  const byService = new Map<string, EndpointSlice>();
  for (const s of f.slices) byService.set(`${s.metadata.namespace}/${s.metadata.labels?.[SERVICE_NAME_LABEL]}`, s);
  for (const s of f.services) {
    const fq = `${s.metadata.name}.${s.metadata.namespace}.svc.cluster.local.`;
    if (s.spec?.clusterIP !== 'None') {
      data(`${fq} 5 IN A ${s.spec?.clusterIP}`);
      for (const p of s.spec?.ports ?? []) data(`_${p.name}._tcp.${fq} 5 IN SRV 0 100 ${p.port} ${fq}`);
    } else {
      for (const e of byService.get(`${s.metadata.namespace}/${s.metadata.name}`)?.endpoints ?? []) data(`${fq} 5 IN A ${e.addresses[0]}`);
    }
  }
  lines.push('forward-zone:', '  name: "example.test."', `  forward-addr: 127.0.0.2@${upstreamPort}`, 'remote-control:', '  control-enable: no');
  return lines.join('\n') + '\n';
}

// ------------------------------------------------------------------------------------- child processes

async function childMain(role: string): Promise<void> {
  if (role === 'memory') {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc === undefined) throw new Error('run with --expose-gc');
    const f = fixture();
    gc();
    const before = process.memoryUsage().heapUsed;
    const zone = new ClusterZone();
    const t = performance.now();
    loadZone(zone, [...f.services.map((obj) => ({ kind: 'service' as const, obj })), ...f.slices.map((obj) => ({ kind: 'slice' as const, obj })), ...f.pods.map((obj) => ({ kind: 'pod' as const, obj }))]);
    const loadMs = performance.now() - t;
    gc();
    const after = process.memoryUsage().heapUsed;
    // Incremental update cost on the loaded zone: re-apply one object at a time, per kind.
    const perKind = (objects: readonly (Service | EndpointSlice | Pod)[], apply: (o: never) => void): number => {
      const n = Math.min(10_000, objects.length);
      const t0 = performance.now();
      for (let k = 0; k < n; k++) apply(objects[k] as never);
      return ((performance.now() - t0) * 1000) / n;
    };
    const serviceUs = perKind(f.services, (s) => zone.upsertService(s));
    const sliceUs = perKind(f.slices, (s) => zone.upsertEndpointSlice(s));
    const podUs = perKind(f.pods, (p) => zone.upsertPod(p));
    const updateUs = (serviceUs * f.services.length + sliceUs * f.slices.length + podUs * f.pods.length) / (f.services.length + f.slices.length + f.pods.length);
    process.stdout.write(JSON.stringify({ heapMiB: (after - before) / 1048576, loadMs, updateUs, serviceUs, sliceUs, podUs, objects: f.services.length + f.slices.length + f.pods.length, stats: zone.stats() }) + '\n');
    return;
  }
  if (role === 'server') {
    const zone = new ClusterZone();
    loadZone(zone, fixtureObjects());
    (globalThis as { gc?: () => void }).gc?.(); // the fixture's objects are garbage now; start serving from a clean heap
    const upstream = new DnsServer({ authority: new StaticZone({ origin: 'example.test', records: externalRecords() }), host: '127.0.0.2', port: 0 });
    const up = await upstream.start();
    const forwarder = new Forwarder({ upstreams: [{ host: '127.0.0.2', port: up.port }] });
    const server = new DnsServer({ authority: zone, forwarder, host: '127.0.0.1', port: 0 });
    const { port } = await server.start();
    const mem = process.memoryUsage();
    process.stdout.write(JSON.stringify({ port, upstreamPort: up.port, heapMiB: mem.heapUsed / 1048576, rssMiB: mem.rss / 1048576 }) + '\n');
    process.on('SIGTERM', () => process.exit(0));
    return;
  }
  throw new Error(`unknown role ${role}`);
}

if (process.argv[2] === '--dns-bench-child') await childMain(process.argv[3] ?? '');

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
}

function rssMiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function freeUdpPort(): number {
  return 20000 + Math.floor(Math.random() * 20000);
}

interface PerfResult {
  qps: number;
  lost: number;
  latenciesMs: number[];
}

function dnsperf(port: number, file: string, args: string[]): PerfResult {
  const r = spawnSync('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', file, ...args], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`dnsperf failed: ${r.stderr || r.stdout}`);
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(r.stdout)?.[1] ?? NaN);
  const lost = Number(/Queries lost:\s+(\d+)/.exec(r.stdout)?.[1] ?? NaN);
  const latenciesMs: number[] = [];
  for (const m of r.stdout.matchAll(/^> \S+ .* ([\d.]+)$/gm)) latenciesMs.push(Number(m[1]) * 1000);
  latenciesMs.sort((a, b) => a - b);
  return { qps, lost, latenciesMs };
}

function measure(log: (l: string) => void, label: string, port: number, file: string): { qps: number; p50: number; p99: number } {
  dnsperf(port, file, ['-n', '1', '-c', '4']); // warm-up (fills caches)
  const max = dnsperf(port, file, ['-l', String(SECONDS), '-c', '8', '-q', '200']);
  const lat = dnsperf(port, file, ['-l', '4', '-Q', String(LATENCY_QPS), '-c', '4', '-v']);
  const out = { qps: max.qps, p50: percentile(lat.latenciesMs, 50), p99: percentile(lat.latenciesMs, 99) };
  const slow = lat.latenciesMs.filter((x) => x > 5).length;
  log(`${label}: ${out.qps.toFixed(0)} qps (lost ${max.lost}, in flight at the time limit); at ${LATENCY_QPS} qps p50 ${out.p50.toFixed(3)} ms p90 ${percentile(lat.latenciesMs, 90).toFixed(3)} ms p99 ${out.p99.toFixed(3)} ms, ${slow} of ${lat.latenciesMs.length} over 5 ms (lost ${lat.lost})`);
  return out;
}

const bench: Benchmark = {
  name: 'dns',
  description: `cluster DNS: dnsperf vs unbound (static local-zone, 1 thread), ${SERVICES} Services + ${PODS} Pods loaded`,
  async run(log) {
    for (const tool of ['dnsperf', 'unbound']) {
      if (spawnSync('which', [tool]).status !== 0) throw new Error(`${tool} is not installed (apt-get install ${tool})`);
    }
    const self = import.meta.filename;
    const node = [process.execPath, '--disable-warning=ExperimentalWarning'];
    // Memory and update cost, in a process of its own.
    const mem = spawnSync(node[0] ?? '', [...node.slice(1), '--expose-gc', self, '--dns-bench-child', 'memory'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (mem.status !== 0) throw new Error(`memory child failed: ${mem.stderr}`);
    const m = JSON.parse(mem.stdout.trim().split('\n').at(-1) ?? '{}') as { heapMiB: number; loadMs: number; updateUs: number; serviceUs: number; sliceUs: number; podUs: number; objects: number; stats: unknown };
    log(`zone with ${m.objects} objects: heap ${m.heapMiB.toFixed(1)} MiB, loaded in ${m.loadMs.toFixed(0)} ms, ${m.updateUs.toFixed(1)} us per update (Service ${m.serviceUs.toFixed(1)}, EndpointSlice ${m.sliceUs.toFixed(1)}, Pod ${m.podUs.toFixed(1)}); ${JSON.stringify(m.stats)}`);

    const dir = mkdtempSync(join(tmpdir(), 'flatnet-dns-bench-'));
    const clusterFile = join(dir, 'cluster.txt');
    const externalFile = join(dir, 'external.txt');
    writeFileSync(clusterFile, clusterQueries());
    writeFileSync(externalFile, externalQueries());
    const ours = spawn(node[0] ?? '', [...node.slice(1), '--expose-gc', self, '--dns-bench-child', 'server'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let unbound: ChildProcess | undefined;
    try {
      const info = JSON.parse(await firstLine(ours)) as { port: number; upstreamPort: number; heapMiB: number; rssMiB: number };
      log(`server loaded: heap ${info.heapMiB.toFixed(1)} MiB, RSS ${info.rssMiB.toFixed(0)} MiB`);
      const ubPort = freeUdpPort();
      writeFileSync(join(dir, 'unbound.conf'), unboundConf(dir, ubPort, info.upstreamPort, fixture()));
      const check = spawnSync('unbound-checkconf', [join(dir, 'unbound.conf')], { encoding: 'utf8' });
      if (check.status !== 0) throw new Error(`unbound-checkconf: ${check.stdout}${check.stderr}`);
      unbound = spawn('unbound', ['-d', '-c', join(dir, 'unbound.conf')], { stdio: ['ignore', 'ignore', 'inherit'] });
      // Wait for unbound to answer.
      for (let i = 0; ; i++) {
        const r = spawnSync('dig', ['@127.0.0.1', '-p', String(ubPort), '+short', '+tries=1', '+time=1', 'svc-1.ns-1.svc.cluster.local']);
        if (r.status === 0 && r.stdout.toString().trim() !== '') break;
        if (i > 50) throw new Error('unbound did not come up');
        await new Promise((r2) => setTimeout(r2, 200));
      }
      const oursCluster = measure(log, 'flatnet cluster names', info.port, clusterFile);
      const ubCluster = measure(log, 'unbound cluster names', ubPort, clusterFile);
      const oursExt = measure(log, 'flatnet cached external names', info.port, externalFile);
      const ubExt = measure(log, 'unbound cached external names', ubPort, externalFile);
      const rss = rssMiB(ours.pid ?? 0, 'VmRSS');
      const peak = rssMiB(ours.pid ?? 0, 'VmHWM');
      const ubRss = unbound.pid !== undefined ? rssMiB(unbound.pid, 'VmRSS') : NaN;
      log(`server RSS ${rss.toFixed(0)} MiB after the runs (peak ${peak.toFixed(0)} MiB); unbound ${ubRss.toFixed(0)} MiB`);
      const metrics: Metric[] = [
        { name: 'zone heap (10k Services, 1k slices, 30k Pods)', value: m.heapMiB, unit: 'MiB' },
        { name: 'zone update (mean per object change)', value: m.updateUs, unit: 'us' },
        { name: 'server heap after load (GC)', value: info.heapMiB, unit: 'MiB' },
        { name: 'server RSS (zone loaded, after runs)', value: rss, unit: 'MiB', baseline: { name: 'unbound RSS', value: ubRss } },
        { name: 'cached external QPS', value: oursExt.qps, unit: '1/s', baseline: { name: 'unbound cache', value: ubExt.qps } },
        { name: `cached external p99 @${LATENCY_QPS}/s`, value: oursExt.p99, unit: 'ms', baseline: { name: 'unbound cache', value: ubExt.p99 } },
        { name: `cluster names p50 @${LATENCY_QPS}/s`, value: oursCluster.p50, unit: 'ms', baseline: { name: 'unbound local-zone', value: ubCluster.p50 } },
        { name: `cluster names p99 @${LATENCY_QPS}/s`, value: oursCluster.p99, unit: 'ms', baseline: { name: 'unbound local-zone', value: ubCluster.p99 }, goal: 'goal <= 1 ms' },
        { name: 'cluster names QPS', value: oursCluster.qps, unit: '1/s', baseline: { name: 'unbound local-zone', value: ubCluster.qps }, goal: 'goal >= 0.3x unbound' },
      ];
      return metrics;
    } finally {
      ours.kill('SIGTERM');
      unbound?.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
