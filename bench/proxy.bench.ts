// kube-proxy benchmark (issue "Services"): first-packet latency (TCP connect through a ClusterIP, from a pod,
// many samples) with N Services installed (each with 5 endpoints), nftables vs iptables; the full sync of
// those N Services; the network programming latency of one Service change with the largest N installed
// (partial sync, then the first successful connect through it). Baseline in the same run: a connect to the
// backend pod IP directly (no Service). The target Service sorts last, the worst case for iptables' linear
// KUBE-SERVICES chain. Sizes: FLATNET_BENCH_PROXY_SIZES (default 10,1000,5000,10000), samples per size:
// FLATNET_BENCH_PROXY_SAMPLES (default 400). Writes bench/results/proxy.svg (hand-written SVG).
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EndpointSlice, Service } from '../src/api/types.ts';
import { httpPort, service, slice } from '../src/proxy/core/fixtures.ts';
import { formatIPv4, parseIPv4 } from '../src/net/ipv4.ts';
import { execIn } from '../src/proxy/exec.ts';
import { Proxier, type ProxyMode } from '../src/proxy/proxier.ts';
import { Topology } from '../src/proxy/test-topology.ts';
import { percentile, type Benchmark, type Metric } from './harness.ts';

const root = resolve(import.meta.dirname, '..');
const NODE = process.execPath;
const SIZES = (process.env['FLATNET_BENCH_PROXY_SIZES'] ?? '10,1000,5000,10000').split(',').map(Number).filter((n) => n > 0);
const SAMPLES = Number(process.env['FLATNET_BENCH_PROXY_SAMPLES'] ?? 400);
const MODES: ProxyMode[] = (process.env['FLATNET_BENCH_PROXY_MODES'] ?? 'nftables,iptables').split(',') as ProxyMode[];
const TIMEOUT_S = Number(process.env['FLATNET_BENCH_PROXY_TIMEOUT_S'] ?? 300);
const TARGET_IP = '10.96.0.2';
const EPS_PER_SERVICE = 5;

const CLIENT = `
const net = require('node:net');
const [ip, port, n] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const out = [];
function one(i) {
  if (i >= n) { process.stdout.write(JSON.stringify(out)); return; }
  const t = process.hrtime.bigint();
  const s = net.connect({ host: ip, port });
  s.setTimeout(3000, () => { s.destroy(); out.push(-1); one(i + 1); });
  s.on('connect', () => { out.push(Number(process.hrtime.bigint() - t) / 1e6); s.destroy(); setImmediate(() => one(i + 1)); });
  s.on('error', () => { out.push(-1); s.destroy(); setImmediate(() => one(i + 1)); });
}
one(0);`;

const SERVER = `require('node:net').createServer((s) => s.destroy()).listen(8080, () => process.stdout.write('ready\\n'));`;

/** n-1 filler Services with 5 unroutable endpoints each, plus the target Service (sorted last) -> server pod :9090. */
function objects(n: number, backend: string): { services: Service[]; slices: EndpointSlice[] } {
  const services: Service[] = [];
  const slices: EndpointSlice[] = [];
  const base = parseIPv4('10.96.1.0');
  const epBase = parseIPv4('10.250.0.0');
  for (let i = 0; i < n - 1; i++) {
    const name = `svc-${String(i).padStart(5, '0')}`;
    services.push(service(name, { clusterIP: formatIPv4(base + i), ports: [httpPort(80)] }));
    slices.push(slice(name, Array.from({ length: EPS_PER_SERVICE }, (_, k) => ({ ip: formatIPv4(epBase + i * EPS_PER_SERVICE + k) }))));
  }
  services.push(service('zz-target', { clusterIP: TARGET_IP, ports: [httpPort(80)] }));
  slices.push(slice('zz-target', [{ ip: backend }], [{ name: 'http', port: 9090 }]));
  return { services, slices };
}

async function connectTimes(netns: string, ip: string, port: number, n: number): Promise<number[]> {
  const r = await execIn(netns, NODE, ['-e', CLIENT, ip, String(port), String(n)], { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`client failed: ${r.stderr}`);
  const all = JSON.parse(r.stdout) as number[];
  const failed = all.filter((x) => x < 0).length;
  if (failed > 0) throw new Error(`${failed}/${n} connects to ${ip}:${port} failed`);
  return all.sort((a, b) => a - b);
}

interface Row { mode: ProxyMode; n: number; fullSyncS: number; p50: number; p99: number }

function svgChart(rows: readonly Row[], baselineP50: number): string {
  const W = 760, H = 360, left = 70, right = 20, top = 40, bottom = 60;
  const sizes = [...new Set(rows.map((r) => r.n))];
  const modes = [...new Set(rows.map((r) => r.mode))];
  const maxV = Math.max(...rows.map((r) => r.p50), baselineP50) * 1.15 || 1;
  const groupW = (W - left - right) / Math.max(1, sizes.length);
  const barW = Math.min(50, (groupW - 20) / Math.max(1, modes.length));
  const y = (v: number) => top + (H - top - bottom) * (1 - v / maxV);
  const colors: Record<string, string> = { nftables: '#2b6cb0', iptables: '#c05621' };
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">First-packet latency (TCP connect via ClusterIP, p50 ms) vs Services installed</text>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${H - bottom}" stroke="black"/>`,
    `<line x1="${left}" y1="${H - bottom}" x2="${W - right}" y2="${H - bottom}" stroke="black"/>`,
  ];
  for (let k = 0; k <= 4; k++) {
    const v = (maxV * k) / 4;
    parts.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(3)}</text>`, `<line x1="${left}" y1="${y(v)}" x2="${W - right}" y2="${y(v)}" stroke="#ddd"/>`);
  }
  parts.push(`<line x1="${left}" y1="${y(baselineP50)}" x2="${W - right}" y2="${y(baselineP50)}" stroke="green" stroke-dasharray="4 3"/>`,
    `<text x="${W - right}" y="${y(baselineP50) - 4}" text-anchor="end" fill="green">direct pod IP ${baselineP50.toFixed(3)} ms</text>`);
  sizes.forEach((n, i) => {
    const gx = left + i * groupW + 10;
    modes.forEach((m, j) => {
      const r = rows.find((x) => x.n === n && x.mode === m);
      if (!r) return;
      const x = gx + j * barW;
      parts.push(`<rect x="${x}" y="${y(r.p50)}" width="${barW - 4}" height="${H - bottom - y(r.p50)}" fill="${colors[m] ?? 'gray'}"/>`,
        `<text x="${x + (barW - 4) / 2}" y="${y(r.p50) - 3}" text-anchor="middle" font-size="10">${r.p50.toFixed(3)}</text>`);
    });
    parts.push(`<text x="${gx + (modes.length * barW) / 2}" y="${H - bottom + 16}" text-anchor="middle">${n.toLocaleString('en-US')}</text>`);
  });
  modes.forEach((m, j) => parts.push(`<rect x="${left + 10 + j * 110}" y="${H - 22}" width="12" height="12" fill="${colors[m] ?? 'gray'}"/>`, `<text x="${left + 26 + j * 110}" y="${H - 12}">${m}</text>`));
  parts.push(`<text x="${W - right}" y="${H - 12}" text-anchor="end">Services installed (x${EPS_PER_SERVICE} endpoints)</text>`, '</svg>');
  return parts.join('\n') + '\n';
}

const bench: Benchmark = {
  name: 'proxy',
  description: `kube-proxy first-packet latency with ${SIZES.join('/')} Services (x${EPS_PER_SERVICE} endpoints), full and partial sync; ${MODES.join(' vs ')}`,
  async run(log) {
    const topo = new Topology();
    let server: ChildProcess | undefined;
    const metrics: Metric[] = [];
    const rows: Row[] = [];
    try {
      await topo.create({ nodes: 1, pods: { 1: ['client', 'server'] } });
      const node = topo.node('n1');
      const clientNs = topo.pod('client').netns;
      const backend = topo.pod('server').ip;
      // A node TCP server on 9090 in the server pod (accept + close), besides busybox httpd on 8080.
      const srv = spawn('ip', ['netns', 'exec', topo.pod('server').netns, NODE, '-e', SERVER.replace('8080', '9090')], { stdio: ['ignore', 'pipe', 'inherit'] });
      server = srv;
      await new Promise<void>((res, rej) => { srv.stdout?.once('data', () => res()); srv.once('exit', (c) => rej(new Error(`server exited ${c}`))); });

      const direct = await connectTimes(clientNs, backend, 9090, SAMPLES);
      const baselineP50 = percentile(direct, 50);
      log(`direct connect p50 ${baselineP50.toFixed(3)} ms`);

      for (const mode of MODES) {
        for (const n of SIZES) {
          const proxier = new Proxier({ mode, runInNetns: node.netns, nodeName: 'n1', nodeIPs: [node.ip], clusterCIDR: topo.clusterCIDR, serviceCIDR: topo.serviceCIDR, commandTimeoutMs: TIMEOUT_S * 1000 });
          const { services, slices } = objects(n, backend);
          let full: Awaited<ReturnType<Proxier['sync']>>;
          try {
            full = await proxier.sync(services, slices, []);
          } catch (e) {
            log(`${mode} n=${n}: full sync FAILED (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
            metrics.push({ name: `${mode} full sync, ${n} services x${EPS_PER_SERVICE} eps: did not finish`, value: TIMEOUT_S, unit: 's (lower bound)' });
            await proxier.cleanup().catch(() => undefined);
            continue;
          }
          log(`${mode} n=${n}: full sync ${full.durationSeconds.toFixed(2)} s (${(full.scriptBytes / 1e6).toFixed(1)} MB)`);
          const times = await connectTimes(clientNs, TARGET_IP, 80, SAMPLES);
          const row: Row = { mode, n, fullSyncS: full.durationSeconds, p50: percentile(times, 50), p99: percentile(times, 99) };
          rows.push(row);
          log(`${mode} n=${n}: connect p50 ${row.p50.toFixed(3)} ms p99 ${row.p99.toFixed(3)} ms`);
          metrics.push(
            { name: `${mode} first packet p50, ${n} services`, value: row.p50, unit: 'ms', baseline: { name: 'direct pod IP p50', value: baselineP50 } },
            { name: `${mode} first packet p99, ${n} services`, value: row.p99, unit: 'ms', baseline: { name: 'direct pod IP p99', value: percentile(direct, 99) } },
            { name: `${mode} full sync, ${n} services x${EPS_PER_SERVICE} eps`, value: full.durationSeconds, unit: 's' },
          );
          if (n >= 5000 || n === Math.max(...SIZES)) {
            // Network programming: add one new Service (1 endpoint: the server) and time until a connect succeeds.
            const partials: number[] = [];
            const programming: number[] = [];
            for (let k = 0; k < 5; k++) {
              const ip = formatIPv4(parseIPv4('10.96.0.100') + k);
              const extra = service(`new-${k}`, { clusterIP: ip, ports: [httpPort(80)] });
              const extraSlice = slice(`new-${k}`, [{ ip: backend }], [{ name: 'http', port: 9090 }]);
              services.push(extra); slices.push(extraSlice);
              const t0 = performance.now();
              const r = await proxier.sync(services, slices, []);
              if (r.kind !== 'partial') throw new Error(`expected a partial sync, got ${r.kind}`);
              partials.push(r.durationSeconds * 1000);
              for (let tries = 0; tries < 50; tries++) {
                const ok = await execIn(clientNs, NODE, ['-e', CLIENT, ip, '80', '1']);
                if (ok.code === 0 && !ok.stdout.includes('-1')) break;
              }
              programming.push(performance.now() - t0);
            }
            partials.sort((a, b) => a - b); programming.sort((a, b) => a - b);
            log(`${mode} n=${n}: partial sync median ${percentile(partials, 50).toFixed(1)} ms, change->first connect ${percentile(programming, 50).toFixed(1)} ms`);
            metrics.push(
              { name: `${mode} partial sync (1 Service added), ${n} installed, median`, value: percentile(partials, 50), unit: 'ms', baseline: { name: 'full sync', value: full.durationSeconds * 1000 } },
              { name: `${mode} network programming (change -> first connect), median`, value: percentile(programming, 50), unit: 'ms' },
            );
          }
          await proxier.cleanup();
        }
      }
      mkdirSync(join(root, 'bench', 'results'), { recursive: true });
      writeFileSync(join(root, 'bench', 'results', 'proxy.svg'), svgChart(rows, baselineP50));
      log('wrote bench/results/proxy.svg');
      return metrics;
    } finally {
      if (server?.pid !== undefined) { try { process.kill(server.pid, 'SIGKILL'); } catch { /* gone */ } }
      await topo.destroy();
    }
  },
};

export default bench;
