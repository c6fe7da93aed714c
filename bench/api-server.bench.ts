// API server benchmark (issue "Foundation"): 10,000 Pod creates (p50/p99), `kubectl get pods -A` over them,
// write-to-event delay across 100 concurrent watchers, and the server's peak RSS. The server runs as its own
// process (`flatnet server`, SQLite) so RSS is its own. Baselines from the same run: a GET /healthz round
// trip on the same connections (the transport floor) and `kubectl version --client` (kubectl's start-up).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { percentile, type Benchmark, type Metric } from './harness.ts';

const root = resolve(import.meta.dirname, '..');
const PODS = Number(process.env['FLATNET_BENCH_PODS'] ?? 10_000);
const WATCHERS = 100;
const CONCURRENCY = 16;

function call(url: string, agent: Agent, ca: string, token: string, method: string, path: string, body?: unknown): Promise<number> {
  return new Promise((res, rej) => {
    const req = request(url + path, { method, agent, ca, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } }, (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode ?? 0));
    });
    req.on('error', rej);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
  return hwm ? Number(hwm[1]) / 1024 : NaN;
}

const bench: Benchmark = {
  name: 'api-server',
  description: `${PODS} Pod creates, kubectl get pods -A, ${WATCHERS} watchers`,
  async run(log) {
    const dataDir = mkdtempSync(join(tmpdir(), 'flatnet-bench-'));
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', join(root, 'src/cli/main.ts'), 'server', '--data-dir', dataDir, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((res, rej) => {
        let buf = '';
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          if (buf.includes('\n')) res(buf.slice(0, buf.indexOf('\n')));
        });
        child.on('exit', (c) => rej(new Error(`server exited ${c}`)));
      });
      const { url, kubeconfig } = JSON.parse(line) as { url: string; kubeconfig: string };
      const ca = readFileSync(join(dataDir, 'pki', 'ca.crt'), 'utf8');
      const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
      const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

      // Baseline: transport round trip.
      const health: number[] = [];
      for (let i = 0; i < 2000; i++) {
        const t = performance.now();
        await call(url, agent, ca, token, 'GET', '/healthz');
        health.push(performance.now() - t);
      }
      health.sort((a, b) => a - b);

      // Watchers: each records when it saw each pod; we compare with the create's acknowledgement time.
      const seen = new Map<string, number[]>();
      const watchReqs = Array.from({ length: WATCHERS }, () => {
        const req = request(`${url}/api/v1/namespaces/default/pods?watch=true&resourceVersion=0`, { ca, headers: { Authorization: `Bearer ${token}` }, agent: new Agent({ keepAlive: false }) }, (r) => {
          let buf = '';
          r.on('data', (d: Buffer) => {
            const now = performance.now();
            buf += d.toString();
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const ev = buf.slice(0, nl);
              buf = buf.slice(nl + 1);
              const m = /"name":"(bench-\d+)"/.exec(ev);
              if (m?.[1] && ev.startsWith('{"type":"ADDED"')) {
                const arr = seen.get(m[1]) ?? [];
                arr.push(now);
                seen.set(m[1], arr);
              }
            }
          });
        });
        req.end();
        return req;
      });
      await new Promise((r) => setTimeout(r, 1000));

      // Creates: the first 1,000 are timed with all watchers attached.
      const latencies: number[] = [];
      const acked = new Map<string, number>();
      let next = 0;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (next < PODS) {
          const i = next++;
          const name = `bench-${i}`;
          const t = performance.now();
          const status = await call(url, agent, ca, token, 'POST', '/api/v1/namespaces/default/pods', {
            apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'bench' } },
            spec: { containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 8080 }] }] },
          });
          const done = performance.now();
          if (status !== 201) throw new Error(`create ${name}: HTTP ${status}`);
          latencies.push(done - t);
          if (i < 1000) acked.set(name, done);
          if (i === 999) for (const w of watchReqs) w.destroy();
        }
      }));
      const createSeconds = (performance.now() - t0) / 1000;
      latencies.sort((a, b) => a - b);
      const delays: number[] = [];
      for (const [name, at] of acked) for (const s of seen.get(name) ?? []) delays.push(Math.max(0, s - at));
      delays.sort((a, b) => a - b);
      log(`created ${PODS} pods in ${createSeconds.toFixed(1)} s; ${delays.length} watch deliveries measured`);

      // kubectl get pods -A over all of them, against kubectl's own start-up.
      const env = { ...process.env, KUBECONFIG: kubeconfig, HOME: dataDir };
      const timeCmd = (args: string[]) => {
        const t = performance.now();
        const r = spawnSync('kubectl', args, { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
        if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
        return { ms: performance.now() - t, lines: r.stdout.split('\n').length };
      };
      const startup = Math.min(...[0, 1, 2].map(() => timeCmd(['version', '--client']).ms));
      const getAll = timeCmd(['get', 'pods', '-A']);
      // kubectl pages by 500 and its client-side limiter (5 QPS after a burst of 10) spaces later pages
      // 200 ms apart; one unpaginated request shows what the server and kubectl's printing cost.
      const getAllOnePage = timeCmd(['get', 'pods', '-A', '--chunk-size=0']);
      log(`kubectl get pods -A printed ${getAll.lines - 2} rows`);
      const rss = rssOf(child.pid ?? 0);
      agent.destroy();

      const metrics: Metric[] = [
        { name: 'creates per second', value: PODS / createSeconds, unit: '1/s' },
        { name: 'create latency p50', value: percentile(latencies, 50), unit: 'ms', baseline: { name: 'GET /healthz p50', value: percentile(health, 50) } },
        { name: 'watch delay p99 (100 watchers)', value: percentile(delays, 99), unit: 'ms', goal: 'goal <= 50 ms' },
        { name: 'server peak RSS', value: rss, unit: 'MiB', goal: 'k3s server 1.6 GB' },
        { name: `kubectl get pods -A --chunk-size=0`, value: getAllOnePage.ms, unit: 'ms', baseline: { name: 'kubectl version --client', value: startup } },
        { name: `kubectl get pods -A (${PODS} pods)`, value: getAll.ms, unit: 'ms', baseline: { name: 'kubectl version --client', value: startup }, goal: 'SLO list p99 <= 30 s; goal < 1 s' },
        { name: 'create latency p99', value: percentile(latencies, 99), unit: 'ms', baseline: { name: 'GET /healthz p99', value: percentile(health, 99) }, goal: 'SLO p99 <= 1 s; goal <= 20 ms' },
      ];
      return metrics;
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};

export default bench;
