// `flatnet probe [--name CLUSTER] [-n NS,...] [--port P] [--protocol TCP|UDP] [-o table|json]`: the live
// NetworkPolicy truth table of a running cluster. For each running pod (the source) a worker runs inside the
// pod's network namespace and connects to every pod's IP on the port, all targets at once with a deadline;
// sources run in parallel up to --parallel. Printed like `flatnet matrix` (`.` connected, `X` not).
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { RESOURCES } from '../api/resources.ts';
import type { Pod } from '../api/types.ts';
import { KubeClient } from '../client/kube-client.ts';
import { podNetns } from '../lab/core/names.ts';
import type { ProbeResult } from '../netpol/probe-worker.ts';
import { readCluster } from './cluster-commands.ts';
import { CliError, stringOpt, type Command } from './command.ts';

const WORKER = resolve(import.meta.dirname, '..', 'netpol', 'probe-worker.ts');

export interface ProbeCell {
  from: string;
  to: string;
  connected: boolean;
  result: ProbeResult['result'];
  ms: number;
}

export interface ProbeReport {
  cluster: string;
  port: number;
  protocol: 'TCP' | 'UDP';
  timeoutMs: number;
  pods: string[];
  podIPs: Record<string, string>;
  /** One string per source row: `.` connected, `X` not, in `pods` order. */
  matrix: string[];
  /** Row-major [from * n + to]. */
  cells: ProbeCell[];
  allowedCount: number;
  deniedCount: number;
  wallMs: number;
}

interface Target { key: string; ip: string; netns: string }

function runWorker(netns: string, body: string, timeoutMs: number): Promise<ProbeResult[]> {
  return new Promise((res, rej) => {
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, WORKER, body], { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', rej);
    child.on('close', (code) => {
      if (code !== 0) return rej(new Error(`probe worker in ${netns} exited ${String(code)}: ${err.trim().split('\n').slice(-3).join(' ')}`));
      try {
        res(JSON.parse(out) as ProbeResult[]);
      } catch (e) {
        rej(new Error(`probe worker in ${netns}: unreadable output`, { cause: e }));
      }
    });
  });
}

/** Probes every pod from every pod. Exported for benches and tests that hold a cluster name. */
export async function probeCluster(opts: { cluster: string; pods: Pod[]; port: number; protocol: 'TCP' | 'UDP'; timeoutMs: number; parallel: number }): Promise<ProbeReport> {
  const t0 = performance.now();
  const targets: Target[] = opts.pods
    .filter((p) => p.status?.phase === 'Running' && (p.status.podIP ?? '') !== '' && p.metadata.uid && p.spec?.hostNetwork !== true)
    .map((p) => ({ key: `${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`, ip: p.status?.podIP ?? '', netns: podNetns(opts.cluster, p.metadata.uid ?? '') }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const n = targets.length;
  const body = JSON.stringify({ protocol: opts.protocol, timeoutMs: opts.timeoutMs, targets: targets.map((t) => ({ ip: t.ip, port: opts.port })) });
  const rows: ProbeResult[][] = new Array<ProbeResult[]>(n);
  let next = 0;
  const workerTimeout = opts.timeoutMs * (Math.ceil(n / 256) + 1) + 15_000;
  const lane = async () => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      const src = targets[i];
      if (!src) return;
      rows[i] = await runWorker(src.netns, body, workerTimeout);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.parallel, n)) }, lane));
  const cells: ProbeCell[] = [];
  const matrix: string[] = [];
  for (let i = 0; i < n; i++) {
    let line = '';
    for (let j = 0; j < n; j++) {
      const r = rows[i]?.[j];
      const connected = r?.connected === true;
      cells.push({ from: targets[i]?.key ?? '', to: targets[j]?.key ?? '', connected, result: r?.result ?? 'error', ms: r?.ms ?? 0 });
      line += connected ? '.' : 'X';
    }
    matrix.push(line);
  }
  const allowedCount = cells.filter((c) => c.connected).length;
  return {
    cluster: opts.cluster, port: opts.port, protocol: opts.protocol, timeoutMs: opts.timeoutMs,
    pods: targets.map((t) => t.key), podIPs: Object.fromEntries(targets.map((t) => [t.key, t.ip])),
    matrix, cells, allowedCount, deniedCount: cells.length - allowedCount, wallMs: Math.round(performance.now() - t0),
  };
}

export function renderProbeTable(r: ProbeReport): string {
  const title = `${r.protocol}/${r.port}`;
  const width = Math.max(title.length, ...r.pods.map((p) => p.length));
  const lines = [[title.padEnd(width), ...r.pods].join(' ')];
  r.pods.forEach((from, i) => {
    lines.push([from.padEnd(width), ...r.pods.map((to, j) => (r.matrix[i]?.[j] ?? 'X').padEnd(to.length))].join(' ').trimEnd());
  });
  const refused = r.cells.filter((c) => c.result === 'refused').length;
  const timedOut = r.cells.filter((c) => c.result === 'timeout').length;
  lines.push('', `${r.allowedCount} connected, ${r.deniedCount} not (${timedOut} timed out after ${r.timeoutMs} ms, ${refused} refused) ` +
    `(rows: from, columns: to); ${r.pods.length} pods probed in ${r.wallMs} ms`);
  return lines.join('\n');
}

export const probeCommand: Command = {
  name: 'probe',
  summary: 'live NetworkPolicy truth table: connect from every pod to every pod',
  usage: 'probe [--name CLUSTER] [-n NS[,NS...]] [--port P] [--protocol TCP|UDP] [-o table|json] [--timeout-ms MS] [--parallel N]',
  options: {
    name: { type: 'string', help: 'cluster name', default: 'flatnet' },
    namespace: { type: 'string', short: 'n', help: 'namespaces to probe, comma-separated (more as arguments); default every namespace but kube-system' },
    port: { type: 'string', help: 'destination port', default: '80' },
    protocol: { type: 'string', help: 'TCP or UDP (UDP needs a server that answers, e.g. agnhost netexec --udp-port)', default: 'TCP' },
    output: { type: 'string', short: 'o', help: 'table or json', default: 'table' },
    'timeout-ms': { type: 'string', help: 'per-connection deadline', default: '1000' },
    parallel: { type: 'string', help: 'source pods probed at once', default: '8' },
  },
  async run(values, positionals) {
    const cluster = stringOpt(values, 'name') ?? 'flatnet';
    const portText = stringOpt(values, 'port') ?? '80';
    const port = Number(portText);
    if (!/^[0-9]+$/.test(portText) || port < 1 || port > 65535) throw new CliError(`--port ${portText}: must be a number 1-65535`, 2);
    const protocol = (stringOpt(values, 'protocol') ?? 'TCP').toUpperCase();
    if (protocol !== 'TCP' && protocol !== 'UDP') throw new CliError(`--protocol ${protocol}: use TCP or UDP`, 2);
    const output = stringOpt(values, 'output') ?? 'table';
    if (output !== 'table' && output !== 'json') throw new CliError(`-o ${output}: use table or json`, 2);
    const timeoutMs = Number(stringOpt(values, 'timeout-ms') ?? '1000');
    if (!Number.isInteger(timeoutMs) || timeoutMs < 50 || timeoutMs > 30_000) throw new CliError('--timeout-ms: 50-30000', 2);
    const parallel = Number(stringOpt(values, 'parallel') ?? '8');
    if (!Number.isInteger(parallel) || parallel < 1 || parallel > 256) throw new CliError('--parallel: 1-256', 2);
    const namespaces = [...(stringOpt(values, 'namespace') ?? '').split(','), ...positionals].filter((s) => s !== '');
    const rec = readCluster(cluster);
    if (!rec) throw new CliError(`no cluster named "${cluster}"`);
    const client = KubeClient.fromKubeconfig(join(rec.dataDir, 'kubeconfig'));
    try {
      const podsRes = RESOURCES.find((r) => r.kind === 'Pod');
      if (!podsRes) throw new Error('no Pod resource');
      const all = (await client.listAll<Pod>(podsRes, undefined)).items;
      const pods = all.filter((p) => (namespaces.length > 0 ? namespaces.includes(p.metadata.namespace ?? '') : p.metadata.namespace !== 'kube-system'));
      const report = await probeCluster({ cluster, pods, port, protocol, timeoutMs, parallel });
      process.stdout.write((output === 'json' ? JSON.stringify(report, null, 2) : renderProbeTable(report)) + '\n');
      return 0;
    } finally {
      client.close();
    }
  },
};
