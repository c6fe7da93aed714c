// Network probes (httpGet, tcpSocket) — shell. The kubelet probes from the node; flatnet's runtime does
// not know the lab's routing, so the default executor probes from INSIDE the pod's network namespace
// with a short-lived helper (`nsenter --net=<netns> curl …` / `… nc -z …`), aimed at the pod IP (or
// 127.0.0.1 when the pod IP is unknown). A node agent that can route to pods may inject its own
// executor (for instance an in-process HTTP client) through PodRuntimeOptions.probeExecutor.
import { spawn } from 'node:child_process';
import { httpStatusIsSuccess } from './core/probe.ts';

export interface NetworkProbeRequest {
  kind: 'httpGet' | 'tcpSocket';
  /** Path of the pod network namespace, /var/run/netns/<name>. */
  netnsPath: string;
  host: string;
  port: number;
  /** httpGet only. */
  path?: string;
  scheme?: 'HTTP' | 'HTTPS';
  headers?: { name: string; value: string }[];
  timeoutMs: number;
}

export interface ProbeRun {
  outcome: 'success' | 'failure';
  /** Why it failed (kubelet's event text style). */
  output?: string;
}

export type ProbeExecutor = (req: NetworkProbeRequest) => Promise<ProbeRun>;

export interface HelperResult { code: number | null; stdout: string; stderr: string; timedOut: boolean }

export function runHelper(argv: string[], timeoutMs: number): Promise<HelperResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0] ?? '', argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => { if (stdout.length < 65536) stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { if (stderr.length < 65536) stderr += d; });
    child.on('error', (e) => { clearTimeout(timer); resolve({ code: null, stdout, stderr: stderr + e.message, timedOut }); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr, timedOut }); });
  });
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export const netnsHelperProbeExecutor: ProbeExecutor = async (req) => {
  const seconds = Math.max(1, req.timeoutMs / 1000).toString();
  if (req.kind === 'tcpSocket') {
    const r = await runHelper(['nsenter', `--net=${req.netnsPath}`, '--', 'nc', '-z', '-w', seconds, req.host, String(req.port)], req.timeoutMs + 2000);
    if (r.code === 0) return { outcome: 'success' };
    return { outcome: 'failure', output: `dial tcp ${hostForUrl(req.host)}:${req.port}: ${r.timedOut ? 'i/o timeout' : 'connect: connection refused'}` };
  }
  const scheme = req.scheme === 'HTTPS' ? 'https' : 'http';
  const path = (req.path ?? '/').startsWith('/') ? (req.path ?? '/') : `/${req.path ?? ''}`;
  const url = `${scheme}://${hostForUrl(req.host)}:${req.port}${path}`;
  const argv = ['nsenter', `--net=${req.netnsPath}`, '--', 'curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', seconds, '-k'];
  const headers = req.headers ?? [];
  if (!headers.some((h) => h.name.toLowerCase() === 'user-agent')) argv.push('-H', 'User-Agent: kube-probe/1.33');
  if (!headers.some((h) => h.name.toLowerCase() === 'accept')) argv.push('-H', 'Accept: */*');
  for (const h of headers) argv.push('-H', `${h.name}: ${h.value}`);
  argv.push(url);
  const r = await runHelper(argv, req.timeoutMs + 2000);
  const status = Number(r.stdout.trim());
  if (r.code === 0 && httpStatusIsSuccess(status)) return { outcome: 'success' };
  if (r.code === 0) return { outcome: 'failure', output: `HTTP probe failed with statuscode: ${status}` };
  if (r.code === 28 || r.timedOut) return { outcome: 'failure', output: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` };
  return { outcome: 'failure', output: `Get "${url}": dial tcp ${hostForUrl(req.host)}:${req.port}: connect: connection refused` };
};
