// `flatnet matrix -f DIR_OR_FILES [--port P] [--protocol TCP|UDP|SCTP] [-o table|json|md]`: the offline
// NetworkPolicy truth table. Loads YAML/JSON manifests (multi-document files, or the *.yaml/*.yml/*.json files
// of a directory), builds the cluster they describe (src/netpol/core/scenario.ts: defaulting, validation,
// Deployments expanded, absent namespaces created, pod IPs assigned) and prints pods x pods for one port
// with an explanation of every denied cell. No root, no cluster.
//
// `flatnet matrix --live [--name CLUSTER] [-n NS,...] [-f ...]`: the same table built from a running cluster's
// objects (or, with -f, from the manifests, matched to the running pods by `ns/name`), with loopback allowed
// as the kernel behaves, compared cell by cell with `flatnet probe` over the same pods. Every cell where the
// kernel disagrees is marked `!` and explained; exit 0 when all agree, 1 otherwise.
import {
  buildMatrixReport, buildPolicyModel, compilePolicies, NetpolError, renderMatrixMarkdown, renderMatrixTable, scenarioFromObjects,
  type MatrixReport,
} from '../netpol/core/index.ts';
import type { Pod, Protocol } from '../api/types.ts';
import { LabError } from '../lab/core/errors.ts';
import { ModelError, type ClusterSnapshot } from '../model/types.ts';
import { readLiveSnapshot } from '../trace/live-snapshot.ts';
import { CliError, stringOpt, type Command } from './command.ts';
import { loadDocuments, manifestFiles } from './manifests.ts';
import { probeCluster, type ProbeCell, type ProbeReport } from './probe-command.ts';

/** The model's side of one disagreement: its verdict and why. */
export interface ModelSide {
  allowed: boolean;
  loopback: boolean;
  explanation: string;
}

/** The kernel's side: what the probe saw. `reached` is true for connected and refused (the packet got through). */
export interface KernelSide {
  result: ProbeCell['result'];
  reached: boolean;
  ms: number;
}

export interface LiveDisagreement {
  from: string;
  to: string;
  model: ModelSide;
  kernel: KernelSide;
}

/** `flatnet matrix --live -o json`. */
export interface LiveMatrixComparison {
  cluster: string;
  /** Where the model's table came from: the cluster's own objects, or manifests (-f). */
  modelSource: 'live' | 'manifests';
  port: number;
  protocol: 'TCP' | 'UDP';
  /** The union of both sides' pod keys, sorted: the rows (sources) and columns (destinations) of `marks`. */
  pods: string[];
  /**
   * One string per source row: `.` both allow, `X` both deny, `!` they disagree, `?` not compared (the pod
   * is on one side only).
   */
  marks: string[];
  cellCount: number;
  agreeCount: number;
  disagreeCount: number;
  disagreements: LiveDisagreement[];
  /** Pods in the model's table that the probe did not see (not running, or only in the manifests). */
  onlyInModel: string[];
  /** Running pods the probe saw that the model's table lacks. */
  onlyInCluster: string[];
  /** Cells both allow where nothing listened (the kernel let the packet through; the server refused). */
  allowedButRefused: number;
  model: MatrixReport & { podIPs: Record<string, string> };
  probe: ProbeReport;
}

export function kernelReached(result: ProbeCell['result']): boolean {
  return result === 'connected' || result === 'refused';
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Compares the model's table with the probe's, cell by cell, matching pods by key. A kernel result counts as
 * allowed when the packet got through (connected, or refused by the destination: policy drops, never
 * rejects) and as denied otherwise (timeout, error).
 */
export function compareWithProbe(model: MatrixReport, podIPs: Record<string, string>, probe: ProbeReport, modelSource: 'live' | 'manifests'): LiveMatrixComparison {
  const modelIndex = new Map(model.pods.map((k, i) => [k, i]));
  const probeIndex = new Map(probe.pods.map((k, i) => [k, i]));
  const pods = [...new Set([...model.pods, ...probe.pods])].sort(compareKeys);
  const marks: string[] = [];
  const disagreements: LiveDisagreement[] = [];
  let cellCount = 0;
  let agreeCount = 0;
  let allowedButRefused = 0;
  for (const from of pods) {
    let row = '';
    for (const to of pods) {
      const mi = modelIndex.get(from), mj = modelIndex.get(to), pi = probeIndex.get(from), pj = probeIndex.get(to);
      const mc = mi !== undefined && mj !== undefined ? model.cells[mi * model.pods.length + mj] : undefined;
      const pc = pi !== undefined && pj !== undefined ? probe.cells[pi * probe.pods.length + pj] : undefined;
      if (mc === undefined || pc === undefined) {
        row += '?';
        continue;
      }
      cellCount++;
      const reached = kernelReached(pc.result);
      if (reached === mc.allowed) {
        agreeCount++;
        if (mc.allowed && pc.result === 'refused') allowedButRefused++;
        row += mc.allowed ? '.' : 'X';
      } else {
        row += '!';
        disagreements.push({
          from, to,
          model: { allowed: mc.allowed, loopback: mc.loopback, explanation: mc.explanation },
          kernel: { result: pc.result, reached, ms: pc.ms },
        });
      }
    }
    marks.push(row);
  }
  return {
    cluster: probe.cluster, modelSource, port: probe.port, protocol: probe.protocol, pods, marks,
    cellCount, agreeCount, disagreeCount: disagreements.length, disagreements,
    onlyInModel: model.pods.filter((k) => !probeIndex.has(k)),
    onlyInCluster: probe.pods.filter((k) => !modelIndex.has(k)),
    allowedButRefused,
    model: { ...model, podIPs },
    probe,
  };
}

function kernelText(k: KernelSide, c: LiveMatrixComparison): string {
  switch (k.result) {
    case 'connected': return `kernel connected in ${k.ms} ms`;
    case 'refused': return `kernel let it through (refused by the destination: nothing listens on ${c.protocol}/${c.port})`;
    case 'timeout': return `kernel timed out after ${c.probe.timeoutMs} ms (dropped)`;
    default: return 'kernel could not connect (error)';
  }
}

/** One line per disagreement: `from -> to: model allowed|denied (why); kernel ...`. */
export function describeDisagreement(d: LiveDisagreement, c: LiveMatrixComparison): string {
  return `${d.from} -> ${d.to}: model ${d.model.allowed ? 'allowed' : 'denied'} (${d.model.explanation}); ${kernelText(d.kernel, c)}`;
}

/** `N cells, M agree, K disagree`, plus what was not compared. */
export function comparisonSummary(c: LiveMatrixComparison): string {
  const notCompared = c.pods.length * c.pods.length - c.cellCount;
  return `${c.cellCount} cells, ${c.agreeCount} agree, ${c.disagreeCount} disagree` + (notCompared > 0 ? ` (${notCompared} not compared: pods on one side only)` : '');
}

function sideNotes(c: LiveMatrixComparison): string[] {
  const where = c.modelSource === 'manifests' ? 'the manifests' : 'the model';
  return [
    ...c.onlyInModel.map((k) => `? ${k}: in ${where} but not probed (no running pod with an IP): row and column not compared`),
    ...c.onlyInCluster.map((k) => `? ${k}: running in the cluster but not in ${where}: row and column not compared`),
  ];
}

export function renderComparisonTable(c: LiveMatrixComparison): string {
  const title = `${c.protocol}/${c.port}`;
  const width = Math.max(title.length, ...c.pods.map((p) => p.length));
  const lines = [[title.padEnd(width), ...c.pods].join(' ')];
  c.pods.forEach((from, i) => {
    lines.push([from.padEnd(width), ...c.pods.map((to, j) => (c.marks[i]?.[j] ?? '?').padEnd(to.length))].join(' ').trimEnd());
  });
  const p = c.probe;
  const timedOut = p.cells.filter((x) => x.result === 'timeout').length;
  lines.push(
    '',
    comparisonSummary(c),
    `(rows: from, columns: to; . allowed by ${c.modelSource === 'manifests' ? 'the manifests' : 'the model'} and by the kernel, X denied by both, ! they disagree, ? not compared)`,
    `probe of cluster ${c.cluster}: ${p.allowedCount} connected, ${p.cells.length - p.allowedCount - timedOut} refused or failed, ${timedOut} timed out after ${p.timeoutMs} ms; ` +
      `${p.pods.length} pods in ${p.wallMs} ms` + (c.allowedButRefused > 0 ? `; ${c.allowedButRefused} allowed cells refused (nothing listening, the packet got through)` : ''),
  );
  const notes = sideNotes(c);
  if (notes.length > 0) lines.push('', ...notes);
  if (c.disagreements.length > 0) {
    lines.push('');
    for (const d of c.disagreements) lines.push(`! ${describeDisagreement(d, c)}`);
  }
  return lines.join('\n');
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|');
}

export function renderComparisonMarkdown(c: LiveMatrixComparison): string {
  const lines = [`| ${c.protocol}/${c.port} (from \\ to) | ${c.pods.map(mdEscape).join(' | ')} |`, `|---|${c.pods.map(() => ':-:').join('|')}|`];
  c.pods.forEach((from, i) => lines.push(`| **${mdEscape(from)}** | ${c.pods.map((_, j) => c.marks[i]?.[j] ?? '?').join(' | ')} |`));
  lines.push('', `${comparisonSummary(c)}.`);
  const notes = sideNotes(c);
  if (notes.length > 0) lines.push('', ...notes.map((n) => `- ${mdEscape(n)}`));
  if (c.disagreements.length > 0) {
    lines.push('', '**Disagreements:**', '');
    for (const d of c.disagreements) lines.push(`- ${mdEscape(describeDisagreement(d, c))}`);
  }
  return lines.join('\n');
}

/** The pods `flatnet probe` connects from and to (running, with an IP and a sandbox, not hostNetwork). */
function probeable(p: Pod): boolean {
  return p.status?.phase === 'Running' && (p.status.podIP ?? '') !== '' && (p.metadata.uid ?? '') !== '' && p.spec?.hostNetwork !== true;
}

const podKey = (p: Pod): string => `${p.metadata.namespace || 'default'}/${p.metadata.name ?? ''}`;

async function liveSnapshot(cluster: string): Promise<ClusterSnapshot> {
  try {
    return await readLiveSnapshot(cluster);
  } catch (e) {
    if (e instanceof ModelError || e instanceof LabError) throw new CliError(`cluster ${cluster}: ${e.message}`, 1, { cause: e });
    throw e;
  }
}

interface LiveOptions {
  cluster: string;
  namespaces: string[];
  files: string[];
  port: number;
  protocol: 'TCP' | 'UDP';
  timeoutMs: number;
  parallel: number;
}

async function liveComparison(o: LiveOptions): Promise<LiveMatrixComparison> {
  const snap = await liveSnapshot(o.cluster);
  const inScope = (ns: string): boolean => (o.namespaces.length > 0 ? o.namespaces.includes(ns) : ns !== 'kube-system');
  const running = snap.pods.filter((p) => probeable(p) && inScope(p.metadata.namespace || 'default'));
  let objects: unknown[];
  if (o.files.length === 0) {
    objects = [...snap.namespaces, ...running, ...snap.networkPolicies];
  } else {
    // The manifests as written, but each pod that runs under the same key gets its real address, so ipBlock
    // peers judge what the kernel sees. Pods outside the chosen namespaces are left out on both sides.
    objects = manifestFiles(o.files).flatMap(loadDocuments);
  }
  const scenario = scenarioFromObjects(objects, { podCIDR: snap.podCIDR });
  const liveIPs = new Map(running.map((p) => [podKey(p), p.status?.podIPs && p.status.podIPs.length > 0 ? p.status.podIPs : [{ ip: p.status?.podIP ?? '' }]]));
  const pods = scenario.state.pods.filter((p) => inScope(p.metadata.namespace || 'default')).map((p): Pod => {
    const ips = liveIPs.get(podKey(p));
    return ips === undefined ? p : { ...p, status: { ...(p.status ?? {}), podIP: ips[0]?.ip ?? '', podIPs: ips } };
  });
  const compiled = compilePolicies(buildPolicyModel({ ...scenario.state, pods }));
  const report = buildMatrixReport(compiled, { port: o.port, protocol: o.protocol, allowLoopback: true });
  const podIPs = Object.fromEntries(compiled.model.pods.map((p) => [p.key, p.ips[0] ?? '']));
  const probe = await probeCluster({ cluster: o.cluster, pods: running, port: o.port, protocol: o.protocol, timeoutMs: o.timeoutMs, parallel: o.parallel });
  return compareWithProbe(report, podIPs, probe, o.files.length === 0 ? 'live' : 'manifests');
}

const LIVE_ONLY = ['name', 'namespace', 'timeout-ms', 'parallel'] as const;

export const matrixCommand: Command = {
  name: 'matrix',
  summary: 'print the NetworkPolicy truth table (pods x pods) of manifests, offline, or compare it with a live probe (--live)',
  usage: 'matrix -f DIR_OR_FILES [--port P] [--protocol TCP|UDP|SCTP] [-o table|json|md] [--allow-loopback] [--pod-cidr CIDR]\n' +
    '       flatnet matrix --live [--name CLUSTER] [-n NS[,NS...]] [-f DIR_OR_FILES] [--port P] [--protocol TCP|UDP] [-o table|json|md] [--timeout-ms MS] [--parallel N]\n\n' +
    '--live builds the table from the running cluster\'s namespaces, running pods (real IPs) and policies, or with -f from\n' +
    'the manifests matched to the running pods by ns/name, with loopback allowed as the kernel does, and compares it with\n' +
    '`flatnet probe` over the same pods: `.`/`X` where both agree, `!` where the kernel disagrees (each explained), `?` for\n' +
    'a pod on one side only (listed). Connected and refused count as let through, timeouts and errors as dropped.\n' +
    'Exit status with --live: 0 every cell agrees, 1 some cell disagrees or a pod is on one side only (or a failure), 2 usage.',
  options: {
    filename: { type: 'string', short: 'f', help: 'manifest file or directory; several separated by commas (more as arguments)' },
    port: { type: 'string', help: 'destination port', default: '80' },
    protocol: { type: 'string', help: 'TCP, UDP or SCTP (--live: TCP or UDP)', default: 'TCP' },
    output: { type: 'string', short: 'o', help: 'table, json or md', default: 'table' },
    'allow-loopback': { type: 'boolean', help: "count a pod's traffic to itself as allowed (it never leaves the pod; always on with --live)", default: false },
    'pod-cidr': { type: 'string', help: 'block for pods without status.podIP (--live: the cluster\'s)', default: '10.244.0.0/16' },
    live: { type: 'boolean', help: 'compare the table with a probe of a running cluster (needs root)', default: false },
    name: { type: 'string', help: 'with --live: cluster name (default flatnet)' },
    namespace: { type: 'string', short: 'n', help: 'with --live: namespaces, comma-separated (default every namespace but kube-system)' },
    'timeout-ms': { type: 'string', help: 'with --live: per-connection deadline of the probe (default 1000)' },
    parallel: { type: 'string', help: 'with --live: source pods probed at once (default 8)' },
  },
  async run(values, positionals) {
    const live = values['live'] === true;
    const given = [...(stringOpt(values, 'filename') ?? '').split(','), ...positionals].filter((s) => s !== '');
    if (given.length === 0 && !live) throw new CliError('-f DIR_OR_FILES (or --live) is required', 2);
    if (!live) {
      const stray = LIVE_ONLY.find((o) => values[o] !== undefined);
      if (stray !== undefined) throw new CliError(`--${stray} needs --live`, 2);
    }
    const portText = stringOpt(values, 'port') ?? '80';
    const port = Number(portText);
    if (!/^[0-9]+$/.test(portText) || port < 1 || port > 65535) throw new CliError(`--port ${portText}: must be a number 1-65535`, 2);
    const protocol = (stringOpt(values, 'protocol') ?? 'TCP').toUpperCase();
    if (protocol !== 'TCP' && protocol !== 'UDP' && protocol !== 'SCTP') throw new CliError(`--protocol ${protocol}: use TCP, UDP or SCTP`, 2);
    const output = stringOpt(values, 'output') ?? 'table';
    if (output !== 'table' && output !== 'json' && output !== 'md') throw new CliError(`-o ${output}: use table, json or md`, 2);
    if (live) {
      if (protocol === 'SCTP') throw new CliError('--protocol SCTP: --live probes TCP or UDP only', 2);
      const timeoutMs = Number(stringOpt(values, 'timeout-ms') ?? '1000');
      if (!Number.isInteger(timeoutMs) || timeoutMs < 50 || timeoutMs > 30_000) throw new CliError('--timeout-ms: 50-30000', 2);
      const parallel = Number(stringOpt(values, 'parallel') ?? '8');
      if (!Number.isInteger(parallel) || parallel < 1 || parallel > 256) throw new CliError('--parallel: 1-256', 2);
      const namespaces = (stringOpt(values, 'namespace') ?? '').split(',').filter((s) => s !== '');
      try {
        const c = await liveComparison({ cluster: stringOpt(values, 'name') ?? 'flatnet', namespaces, files: given, port, protocol, timeoutMs, parallel });
        const text = output === 'json' ? JSON.stringify(c, null, 2) : output === 'md' ? renderComparisonMarkdown(c) : renderComparisonTable(c);
        process.stdout.write(text + '\n');
        return c.disagreeCount === 0 && c.onlyInModel.length === 0 && c.onlyInCluster.length === 0 ? 0 : 1;
      } catch (e) {
        if (e instanceof NetpolError) throw new CliError(e.message, 1, { cause: e });
        throw e;
      }
    }
    const objects = manifestFiles(given).flatMap(loadDocuments);
    try {
      const scenario = scenarioFromObjects(objects, { podCIDR: stringOpt(values, 'pod-cidr') ?? '10.244.0.0/16' });
      const compiled = compilePolicies(buildPolicyModel(scenario.state));
      const report = buildMatrixReport(compiled, { port, protocol: protocol as Protocol, allowLoopback: values['allow-loopback'] === true });
      if (output === 'json') {
        const ips = Object.fromEntries(compiled.model.pods.map((p) => [p.key, p.ips[0] ?? '']));
        process.stdout.write(JSON.stringify({
          ...report, podIPs: ips, assignedIPs: scenario.assignedIPs, createdNamespaces: scenario.createdNamespaces, ignored: scenario.ignored,
        }, null, 2) + '\n');
      } else {
        process.stdout.write((output === 'md' ? renderMatrixMarkdown(report) : renderMatrixTable(report)) + '\n');
      }
      return 0;
    } catch (e) {
      if (e instanceof NetpolError) throw new CliError(e.message, 1, { cause: e });
      throw e;
    }
  },
};
