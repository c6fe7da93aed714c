// `flatnet trace FROM TO`: one flow through the data plane, hop by hop, explained. The model is built from the
// running cluster's objects (or from manifests with -f, no cluster needed) and walks the same rulesets the
// node agents apply; --live also sends the real packet in the lab with nftables tracing and puts the kernel's
// own trace beside the model's, flagging any disagreement.
import { LabError } from '../lab/core/errors.ts';
import { ClusterModel } from '../model/cluster-model.ts';
import { offlineCluster } from '../model/offline-cluster.ts';
import { parseTraceSource, parseTraceTarget } from '../model/flow-text.ts';
import { renderTrace } from '../model/render-trace.ts';
import { ModelError, type ClusterSnapshot, type FlowSpec } from '../model/types.ts';
import { liveTrace, renderLive } from '../trace/live-trace.ts';
import { readLiveSnapshot } from '../trace/live-snapshot.ts';
import { CliError, stringOpt, type Command } from './command.ts';
import { loadDocuments, manifestFiles } from './manifests.ts';

/** The cluster to trace in: manifests with -f (offline, defaulted and allocated as flatnet would), else the live cluster. */
export async function loadSnapshot(values: Record<string, string | boolean | undefined>, positionalFiles: string[] = []): Promise<{ snapshot: ClusterSnapshot; notes: string[] }> {
  const files = [...(stringOpt(values, 'filename') ?? '').split(','), ...positionalFiles].filter((s) => s !== '');
  if (files.length > 0) {
    const nodesText = stringOpt(values, 'nodes') ?? '3';
    const nodes = Number(nodesText);
    if (!/^\d+$/.test(nodesText) || nodes < 1 || nodes > 50) throw new CliError(`--nodes ${nodesText}: 1-50`, 2);
    const backend = stringOpt(values, 'backend') ?? 'host-gw';
    if (backend !== 'host-gw' && backend !== 'vxlan') throw new CliError(`--backend ${backend}: use host-gw or vxlan`, 2);
    const objects = manifestFiles(files).flatMap(loadDocuments);
    try {
      const off = offlineCluster(objects, { nodes, backend });
      return { snapshot: off.snapshot, notes: off.ignored.length > 0 ? [`ignored (no effect on the data plane): ${off.ignored.join(', ')}`] : [] };
    } catch (e) {
      if (e instanceof ModelError) throw new CliError(e.message, 1, { cause: e });
      throw e;
    }
  }
  const cluster = stringOpt(values, 'name') ?? 'flatnet';
  try {
    return { snapshot: await readLiveSnapshot(cluster), notes: [] };
  } catch (e) {
    if (e instanceof ModelError || e instanceof LabError) throw new CliError(`${e.message} (bring it up with \`flatnet up --name ${cluster}\`, or trace manifests offline with -f)`, 1, { cause: e });
    throw e;
  }
}

export function flowFromArgs(values: Record<string, string | boolean | undefined>, positionals: string[]): FlowSpec {
  const [fromText, toText, ...rest] = positionals;
  if (fromText === undefined || toText === undefined || rest.length > 0) throw new CliError('usage: flatnet trace FROM TO (two arguments)', 2);
  const protocol = (stringOpt(values, 'protocol') ?? 'TCP').toUpperCase();
  if (protocol !== 'TCP' && protocol !== 'UDP') throw new CliError(`--protocol ${protocol}: use TCP or UDP`, 2);
  const portText = stringOpt(values, 'port');
  const port = portText !== undefined ? Number(portText) : undefined;
  if (portText !== undefined && (!/^\d+$/.test(portText) || (port ?? 0) < 1 || (port ?? 0) > 65535)) throw new CliError(`--port ${portText}: must be 1-65535`, 2);
  const endpoint = stringOpt(values, 'endpoint');
  const via = stringOpt(values, 'via-node');
  const hostHeader = stringOpt(values, 'host-header');
  try {
    return {
      from: parseTraceSource(fromText), to: parseTraceTarget(toText), protocol,
      ...(port !== undefined ? { port } : {}), ...(endpoint !== undefined ? { endpoint } : {}), ...(via !== undefined ? { ecmpNode: via } : {}),
      ...(hostHeader !== undefined ? { httpHost: hostHeader } : {}),
    };
  } catch (e) {
    if (e instanceof ModelError) throw new CliError(e.message, 2, { cause: e });
    throw e;
  }
}

/** Runs a trace; a flow the model refuses (unknown pod, node...) becomes a one-line CLI error. */
export async function traceOrFail<T>(run: () => T | Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof ModelError) throw new CliError(e.message, 1, { cause: e });
    throw e;
  }
}

export const traceCommand: Command = {
  name: 'trace',
  summary: 'follow one flow hop by hop through the data plane (DNS, routes, veths, bridges, nftables, policies, NAT)',
  usage: 'trace FROM TO [--name CLUSTER | -f DIR_OR_FILES [--nodes N] [--backend host-gw|vxlan]] [--protocol TCP|UDP] [--port P] [--endpoint IP] [--via-node NODE] [--host-header HOST] [-o text|json] [--verbose] [--live]\n  exit: 0, or 1 when --live finds the kernel disagreeing with the model\n' +
    '  FROM: ns/pod | node/NAME | external     TO: URL | host:port | Service name | IP[:port] | ns/pod:port',
  options: {
    name: { type: 'string', help: 'cluster name', default: 'flatnet' },
    filename: { type: 'string', short: 'f', help: 'trace manifests offline (file or directory; several separated by commas): no cluster, no root' },
    nodes: { type: 'string', help: 'with -f: how many nodes the offline cluster has', default: '3' },
    backend: { type: 'string', help: 'with -f: host-gw or vxlan', default: 'host-gw' },
    protocol: { type: 'string', help: 'TCP or UDP', default: 'TCP' },
    port: { type: 'string', help: 'destination port (default: from TO, else 80, 443 for https)' },
    endpoint: { type: 'string', help: 'follow this Service endpoint (IP or IP:port) instead of the first' },
    'host-header': { type: 'string', help: 'HTTP Host header for a URL target (what an Ingress routes on); default the URL\'s host' },
    'via-node': { type: 'string', help: 'for ECMP routes (LoadBalancer IPs from external): the node the flow hashes to' },
    output: { type: 'string', short: 'o', help: 'text or json', default: 'text' },
    verbose: { type: 'boolean', help: 'show every rule matched, not only the deciding ones', default: false },
    live: { type: 'boolean', help: 'also send the real packet in the lab with nftables tracing and compare the kernel\'s trace with the model (exit 1 on disagreement)', default: false },
  },
  async run(values, positionals) {
    const output = stringOpt(values, 'output') ?? 'text';
    if (output !== 'text' && output !== 'json') throw new CliError(`-o ${output}: use text or json`, 2);
    const flow = flowFromArgs(values, positionals);
    const live = values['live'] === true;
    if (live && stringOpt(values, 'filename') !== undefined) throw new CliError('--live needs a running cluster (--name), not manifests (-f)', 2);
    const { snapshot, notes } = await loadSnapshot(values);
    const model = ClusterModel.build(snapshot);
    if (live) {
      if (process.getuid?.() !== 0) throw new CliError('--live sends packets inside the lab\'s namespaces: run as root', 1);
      const result = await traceOrFail(() => liveTrace(model, flow));
      if (output === 'json') process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      else process.stdout.write(renderTrace(result.trace, { verbose: values['verbose'] === true }) + '\n' + renderLive(result) + '\n');
      return result.agree ? 0 : 1;
    }
    const traced = await traceOrFail(() => model.trace(flow));
    const trace = notes.length > 0 ? { ...traced, notes: [...traced.notes, ...notes] } : traced;
    if (output === 'json') process.stdout.write(JSON.stringify(trace, null, 2) + '\n');
    else process.stdout.write(renderTrace(trace, { verbose: values['verbose'] === true }) + '\n');
    return 0;
  },
};
