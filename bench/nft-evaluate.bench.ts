// The nftables evaluator (src/nft/evaluate.ts) on kube-proxy rulesets at Kubernetes scale: one ClusterIP
// packet from a pod walked through prerouting -> forward -> postrouting (service-ips vmap, numgen endpoint
// dispatch, DNAT; the no-endpoint-services vmap and the cluster-ips set lookup in forward; masquerade
// check in postrouting), with the ruleset src/proxy/core buildNftRuleset makes for N Services (3 endpoints
// each; every 10th Service has none, every 4th is a NodePort). Targets are spread over the whole map, so
// a linear scan pays on average half of it. Baseline in the same run: the 10-Service ruleset.
// Sizes: FLATNET_BENCH_NFT_SIZES (default 10,1000,10000); time per size: FLATNET_BENCH_NFT_MS (default 1000).
import type { EndpointSlice, Service } from '../src/api/types.ts';
import { formatIPv4, parseIPv4 } from '../src/net/ipv4.ts';
import { evaluateHooks, type Packet } from '../src/nft/evaluate.ts';
import type { Ruleset } from '../src/nft/types.ts';
import { httpPort, service, slice } from '../src/proxy/core/fixtures.ts';
import { buildNftRuleset } from '../src/proxy/core/nft-rules.ts';
import { collectServicePorts, type ProxyConfig } from '../src/proxy/core/service-ports.ts';
import { percentile, type Benchmark, type Metric } from './harness.ts';

const SIZES = (process.env['FLATNET_BENCH_NFT_SIZES'] ?? '10,1000,10000').split(',').map(Number).filter((n) => n > 0);
const MS_PER_SIZE = Number(process.env['FLATNET_BENCH_NFT_MS'] ?? 1000);
const EPS_PER_SERVICE = 3;
const TARGETS = 64;
const config: ProxyConfig = { nodeName: 'n1', nodeIPs: ['192.168.50.11'], clusterCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12' };

interface Fixture { ruleset: Ruleset; packets: Packet[] }

function fixture(n: number): Fixture {
  const services: Service[] = [];
  const slices: EndpointSlice[] = [];
  const ipBase = parseIPv4('10.96.1.0');
  const epBase = parseIPv4('10.244.1.0');
  const withEndpoints: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = `svc-${String(i).padStart(5, '0')}`;
    const nodePort = i % 4 === 0 ? { nodePort: 30000 + (i / 4) % 2768 } : {};
    services.push(service(name, { clusterIP: formatIPv4(ipBase + i), type: i % 4 === 0 ? 'NodePort' : 'ClusterIP', ports: [httpPort(80, nodePort)] }));
    const eps = i % 10 === 9 ? [] : Array.from({ length: EPS_PER_SERVICE }, (_, k) => ({ ip: formatIPv4(epBase + i * EPS_PER_SERVICE + k), node: `n${(k % 3) + 1}` }));
    slices.push(slice(name, eps));
    if (eps.length > 0) withEndpoints.push(formatIPv4(ipBase + i));
  }
  const ruleset = buildNftRuleset(collectServicePorts(services, slices, config), config);
  const packets = Array.from({ length: TARGETS }, (_, k): Packet => ({
    saddr: '10.244.0.5', daddr: withEndpoints[Math.floor((k * withEndpoints.length) / TARGETS)] ?? '', l4proto: 'tcp', sport: 40000 + k, dport: 80,
    fibDaddrType: 'unicast', fibSaddrType: 'unicast', masqueradeAddr: '192.168.50.11',
  }));
  return { ruleset, packets };
}

/** Deterministic numgen draws (a small LCG), so every size walks the same endpoint choices. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
}

const HOOKS = ['prerouting', 'forward', 'postrouting'] as const;

function evalOnce(f: Fixture, k: number, random: () => number): void {
  const pkt = f.packets[k % f.packets.length] as Packet;
  const r = evaluateHooks(f.ruleset, pkt, HOOKS, { random });
  const pre = r[0];
  if (r.length !== 3 || pre === undefined || pre.nat[0]?.kind !== 'dnat' || r[2]?.verdict !== 'accept') {
    throw new Error(`ClusterIP packet to ${pkt.daddr} was not DNATed and forwarded (${r.map((x) => x.verdict).join(',')})`);
  }
}

/** µs per evaluation: batches of evaluations for about MS_PER_SIZE ms, median batch. */
function measure(f: Fixture): { median: number; p99: number; evals: number } {
  const random = lcg(1);
  const batch = 64;
  const perBatch: number[] = [];
  const until = performance.now() + MS_PER_SIZE;
  let k = 0;
  for (let b = 0; b < 100_000 && (b < 5 || performance.now() < until); b++) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) evalOnce(f, k++, random);
    perBatch.push(((performance.now() - t0) * 1000) / batch);
  }
  perBatch.sort((a, b) => a - b);
  return { median: percentile(perBatch, 50), p99: percentile(perBatch, 99), evals: k };
}

const bench: Benchmark = {
  name: 'nft-evaluate',
  description: `nft evaluator: one ClusterIP packet through prerouting+forward+postrouting of kube-proxy's ruleset for ${SIZES.join('/')} Services`,
  async run(log) {
    const metrics: Metric[] = [];
    let baseline: { name: string; value: number } | undefined;
    const rows: Metric[] = [];
    for (const n of [...SIZES].sort((a, b) => a - b)) {
      const t0 = performance.now();
      const f = fixture(n);
      const buildMs = performance.now() - t0;
      const t1 = performance.now();
      evalOnce(f, 0, lcg(7));
      const firstUs = (performance.now() - t1) * 1000;
      // Warm the JIT on this ruleset before timing.
      for (let i = 0; i < 200; i++) evalOnce(f, i, lcg(3));
      const m = measure(f);
      const elements = f.ruleset.tables[0]?.maps.find((x) => x.name === 'service-ips')?.elements.length ?? 0;
      log(`${n} services (${elements} service-ips elements): ruleset built in ${buildMs.toFixed(0)} ms, first evaluation ${firstUs.toFixed(0)} µs, median ${m.median.toFixed(2)} µs (${m.evals} evaluations)`);
      if (baseline === undefined) baseline = { name: `${n} Services`, value: m.median };
      metrics.push({ name: `first evaluation (builds indexes), ${n} Services`, value: firstUs, unit: 'µs' });
      rows.push({ name: `µs per evaluation (3 hooks), ${n} Services`, value: m.median, unit: 'µs', baseline, goal: 'well under 1000 µs' });
    }
    // Headline last: the largest size.
    return [...metrics, ...rows];
  },
};

export default bench;
