// Ingress proxy benchmark (issue 8): wrk on loopback through flatnet's IngressProxy to 2 backend servers,
// against nginx configured as a reverse proxy to the same 2 backends, in the same run. Both proxies keep
// connections to the backends alive and set X-Forwarded-* headers; both get one worker (the Node proxy
// is one event loop, so nginx runs `worker_processes 1`). The backends are a separate nginx instance
// answering a fixed 13-byte body, so they cost both sides the same. A direct run against one backend shows
// the floor. Needs `wrk` and `nginx` (Debian packages `wrk`, `nginx`/`nginx-light`).
//
// The Node proxy runs in its own process: this file re-executes itself with FLATNET_INGRESS_BENCH_CHILD.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Benchmark, Metric } from './harness.ts';

const DURATION_S = Number(process.env['FLATNET_BENCH_INGRESS_SECONDS'] ?? 10);
const CONNECTIONS = Number(process.env['FLATNET_BENCH_INGRESS_CONNECTIONS'] ?? 64);
const THREADS = 2;
const HOST = 'bench.example.com';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(true)); // in use: someone listens
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

function toMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(v.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

function runWrk(port: number, seconds: number): Promise<WrkResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', [`-t${THREADS}`, `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-H', `Host: ${HOST}`, `http://127.0.0.1:${port}/`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`wrk exited ${code}: ${out}`));
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
      const p50 = toMs(/\n\s+50%\s+(\S+)/.exec(out)?.[1] ?? '');
      const p99 = toMs(/\n\s+99%\s+(\S+)/.exec(out)?.[1] ?? '');
      const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const errors = non2xx + (sock ? Number(sock[1]) + Number(sock[2]) + Number(sock[3]) + Number(sock[4]) : 0);
      resolve({ rps, p50, p99, errors });
    });
  });
}

function nginxConf(prefix: string, body: string): string {
  return `daemon off;\nmaster_process on;\nworker_processes 1;\nuser root;\npid ${prefix}/nginx.pid;\nerror_log ${prefix}/error.log warn;\n`
    + `events { worker_connections 4096; }\nhttp {\n  access_log off;\n  client_body_temp_path ${prefix}/body;\n  proxy_temp_path ${prefix}/proxy;\n`
    + `  fastcgi_temp_path ${prefix}/fastcgi;\n  uwsgi_temp_path ${prefix}/uwsgi;\n  scgi_temp_path ${prefix}/scgi;\n  keepalive_requests 1000000;\n  keepalive_timeout 60s;\n${body}\n}\n`;
}

function startNginx(dir: string, name: string, body: string): ChildProcess {
  const prefix = join(dir, name);
  spawnSync('mkdir', ['-p', prefix]);
  chmodSync(prefix, 0o755);
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(conf, nginxConf(prefix, body));
  return spawn('nginx', ['-p', prefix, '-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

// ------------------------------------------------------------------------------------- proxy child

/** The least a node:http proxy can do (no routing, headers or retries): shows what Node itself costs. */
async function bareChild(): Promise<void> {
  const [httpPortText, ...backendPorts] = process.argv.slice(2);
  const http = await import('node:http');
  const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 64 });
  let i = 0;
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const port = Number(backendPorts[i++ % backendPorts.length]);
    const preq = http.request({ host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers, agent }, (pres) => {
      res.writeHead(pres.statusCode ?? 502, pres.headers);
      pres.pipe(res);
    });
    preq.on('error', () => res.destroy());
    req.pipe(preq);
  });
  server.listen(Number(httpPortText), '127.0.0.1', () => process.stdout.write('ready\n'));
  process.on('SIGTERM', () => process.exit(0));
}

async function proxyChild(): Promise<void> {
  const [httpPortText, ...backendPorts] = process.argv.slice(2);
  const { IngressProxy } = await import('../src/ingress/proxy.ts');
  const { buildRoutingTable } = await import('../src/ingress/core/routing-table.ts');
  const { generateSelfSigned } = await import('../src/ingress/certs.ts');
  const proxy = new IngressProxy({ defaultCertificate: await generateSelfSigned('bench-default') });
  const { table } = buildRoutingTable({
    ingresses: [{ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'bench', namespace: 'default' },
      spec: { ingressClassName: 'flatnet', rules: [{ host: HOST, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'be', port: { number: 80 } } } }] } }] } }],
    ingressClasses: [{ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'flatnet' }, spec: { controller: 'flatnet.dev/ingress' } }],
    services: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'be', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80 }] } }],
    endpointSlices: backendPorts.map((p, i) => ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `be-${i}`, namespace: 'default', labels: { 'kubernetes.io/service-name': 'be' } },
      addressType: 'IPv4' as const, ports: [{ name: 'http', port: Number(p) }], endpoints: [{ addresses: ['127.0.0.1'] }] })),
    secrets: [],
  });
  proxy.setTable(table);
  await proxy.listen({ host: '127.0.0.1', httpPort: Number(httpPortText), httpsPort: null });
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => void proxy.close(100).then(() => process.exit(0)));
}

if (process.env['FLATNET_INGRESS_BENCH_CHILD'] === '1') await proxyChild();
if (process.env['FLATNET_INGRESS_BENCH_CHILD'] === 'bare') await bareChild();

// ------------------------------------------------------------------------------------------- bench

const bench: Benchmark = {
  name: 'ingress',
  description: `wrk -t${THREADS} -c${CONNECTIONS} ${DURATION_S}s on loopback: flatnet IngressProxy vs nginx (1 worker each) to 2 backends`,
  async run(log) {
    for (const tool of ['wrk', 'nginx']) {
      if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is not installed (apt-get install -y ${tool === 'nginx' ? 'nginx-light' : 'wrk'})`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'flatnet-ingress-bench-'));
    chmodSync(dir, 0o755);
    const children: ChildProcess[] = [];
    try {
      const [b1, b2, nginxPort, flatnetPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
      children.push(startNginx(dir, 'backends', [b1, b2].map((p) => `  server { listen 127.0.0.1:${p} reuseport; location / { return 200 "hello, world\\n"; } }`).join('\n')));
      children.push(startNginx(dir, 'proxy', `  upstream be { server 127.0.0.1:${b1}; server 127.0.0.1:${b2}; keepalive 128; }\n`
        + `  server { listen 127.0.0.1:${nginxPort}; server_name ${HOST};\n    location / { proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection "";\n`
        + `      proxy_set_header Host $http_host; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; proxy_set_header X-Forwarded-Proto $scheme;\n`
        + `      proxy_set_header X-Forwarded-Host $http_host; proxy_set_header X-Forwarded-Port $server_port; proxy_set_header X-Real-IP $remote_addr; } }`));
      const startChild = async (mode: string, port: number): Promise<void> => {
        const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', fileURLToPath(import.meta.url), String(port), String(b1), String(b2)], {
          env: { ...process.env, FLATNET_INGRESS_BENCH_CHILD: mode }, stdio: ['ignore', 'pipe', 'inherit'],
        });
        children.push(child);
        await new Promise<void>((resolve, reject) => {
          child.stdout?.on('data', (d: Buffer) => {
            if (d.toString().includes('ready')) resolve();
          });
          child.once('exit', (c) => reject(new Error(`proxy child (${mode}) exited ${c}`)));
        });
      };
      const barePort = await freePort();
      await startChild('1', flatnetPort);
      await startChild('bare', barePort);
      await Promise.all([waitForPort(b1), waitForPort(b2), waitForPort(nginxPort), waitForPort(flatnetPort), waitForPort(barePort)]);

      // Warm-up (JIT, keep-alive pools), then the measured runs, alternating to spread drift.
      await runWrk(flatnetPort, 2);
      await runWrk(nginxPort, 2);
      const direct = await runWrk(b1, DURATION_S);
      log(`direct to one backend: ${direct.rps.toFixed(0)} req/s, p99 ${direct.p99} ms`);
      const nginx = await runWrk(nginxPort, DURATION_S);
      log(`nginx: ${nginx.rps.toFixed(0)} req/s, p50 ${nginx.p50} ms, p99 ${nginx.p99} ms, errors ${nginx.errors}`);
      const flatnet = await runWrk(flatnetPort, DURATION_S);
      log(`flatnet: ${flatnet.rps.toFixed(0)} req/s, p50 ${flatnet.p50} ms, p99 ${flatnet.p99} ms, errors ${flatnet.errors}`);
      await runWrk(barePort, 2);
      const bare = await runWrk(barePort, DURATION_S);
      log(`bare node:http proxy: ${bare.rps.toFixed(0)} req/s, p99 ${bare.p99} ms; load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`);
      if (flatnet.errors > 0) throw new Error(`flatnet proxy had ${flatnet.errors} errors under load`);
      const metrics: Metric[] = [
        { name: 'direct to one backend (floor)', value: direct.rps, unit: 'req/s' },
        { name: 'flatnet proxy vs a bare node:http proxy', value: flatnet.rps, unit: 'req/s', baseline: { name: 'bare node:http proxy', value: bare.rps } },
        { name: 'flatnet proxy p50', value: flatnet.p50, unit: 'ms', baseline: { name: 'nginx p50', value: nginx.p50 } },
        { name: 'flatnet proxy p99', value: flatnet.p99, unit: 'ms', baseline: { name: 'nginx p99', value: nginx.p99 } },
        { name: 'flatnet proxy throughput', value: flatnet.rps, unit: 'req/s', baseline: { name: 'nginx', value: nginx.rps }, goal: 'goal >= 0.5x nginx' },
      ];
      return metrics;
    } finally {
      for (const c of children.reverse()) await stop(c);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
