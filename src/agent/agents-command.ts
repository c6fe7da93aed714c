// `flatnet agents`: the data-plane process of a cluster. It hosts one NodeAgent (the kubelet's role) per lab
// node, each with its own pod runtime state, like KWOK hosts many nodes in one process but with real
// namespaces, CNI and processes behind every node. Started by `flatnet up`; safe to kill and restart: the
// agents adopt running pods instead of restarting them.
import { join } from 'node:path';
import { KubeClient } from '../client/kube-client.ts';
import { loadKubeconfig } from '../client/kubeconfig.ts';
import { StreamServer } from './stream-server.ts';
import { CliError, stringOpt, type Command } from '../cli/command.ts';
import { Lab } from '../lab/lab.ts';
import { PodRuntime } from '../runtime/pod-runtime.ts';
import { clusterDNSServiceIP } from '../net/allocators.ts';
import { NodeAgent } from './node-agent.ts';
import { ProxyLoop } from './node-proxy-loop.ts';
import { PolicyLoop } from '../netpol/policy-agent.ts';

export interface RunningAgents {
  agents: NodeAgent[];
  proxy: ProxyLoop;
  policy: PolicyLoop;
  stop(): Promise<void>;
}

export async function startAgents(opts: { cluster: string; kubeconfig: string; nodes?: string[]; proxyMode?: string; log: (line: string) => void }): Promise<RunningAgents> {
  const lab = await Lab.adopt(opts.cluster);
  const client = KubeClient.fromKubeconfig(opts.kubeconfig);
  const clusterDNS = clusterDNSServiceIP(lab.serviceCIDR);
  const agents: NodeAgent[] = [];
  const token = loadKubeconfig(opts.kubeconfig).token;
  if (!token) throw new Error('the kubeconfig has no bearer token for the agents\' endpoint');
  const streams = new StreamServer({
    token,
    pods: { find: (ns, name) => agents.map((a) => a.locate(ns, name)).find((x) => x !== undefined) },
  });
  const daemonPort = await streams.listen(0);
  const names = opts.nodes ?? lab.nodes.map((n) => n.name);
  for (const nodeName of names) {
    let agent: NodeAgent | undefined;
    const runtime = new PodRuntime({
      cluster: opts.cluster,
      clusterDNS: [clusterDNS],
      stateRoot: join('/run/flatnet', opts.cluster, 'runtime', nodeName),
      logRoot: join('/var/log/flatnet', opts.cluster, nodeName),
      onStatus: (uid, status) => agent?.onRuntimeStatus(uid, status),
    });
    agent = new NodeAgent({ client, lab, runtime, nodeName, daemonPort, log: (l) => opts.log(`[${nodeName}] ${l}`) });
    agents.push(agent);
  }
  const proxy = new ProxyLoop({
    client,
    nodes: names.map((name) => ({ name, netns: lab.nodeNetns(name), ip: lab.nodeIP(name) })),
    mode: opts.proxyMode ?? 'nftables',
    clusterCIDR: lab.podCIDR,
    serviceCIDR: lab.serviceCIDR,
    log: (l) => opts.log(`[kube-proxy] ${l}`),
  });
  // NetworkPolicy enforcement: one `ip flatnet-netpol` table per node, next to kube-proxy's.
  const policy = new PolicyLoop({
    client,
    nodes: names.map((name) => ({ name, netns: lab.nodeNetns(name) })),
    statusDir: join('/run/flatnet', opts.cluster, 'netpol'),
    log: (l) => opts.log(`[netpol] ${l}`),
  });
  await Promise.all([...agents.map((a) => a.start()), proxy.start(), policy.start()]);
  return {
    agents,
    proxy,
    policy,
    async stop() {
      await policy.stop();
      await proxy.stop();
      await Promise.all(agents.map((a) => a.stop()));
      await streams.close();
      client.close();
    },
  };
}

export const agentsCommand: Command = {
  name: 'agents',
  summary: 'run the node agents of a cluster (started by `flatnet up`)',
  usage: 'agents --name CLUSTER --kubeconfig PATH [--node NAME]',
  options: {
    name: { type: 'string', help: 'cluster name' },
    kubeconfig: { type: 'string', help: 'kubeconfig of the cluster' },
    node: { type: 'string', help: 'run only this node (default: every node of the lab)' },
    'proxy-mode': { type: 'string', help: 'kube-proxy mode: nftables or iptables (ipvs is not in this kernel)', default: 'nftables' },
  },
  async run(values) {
    const cluster = stringOpt(values, 'name');
    const kubeconfig = stringOpt(values, 'kubeconfig');
    if (!cluster || !kubeconfig) throw new CliError('--name and --kubeconfig are required', 2);
    const node = stringOpt(values, 'node');
    const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
    const proxyMode = stringOpt(values, 'proxy-mode') ?? 'nftables';
    if (proxyMode !== 'nftables' && proxyMode !== 'iptables') {
      throw new CliError(proxyMode === 'ipvs' ? 'proxy mode ipvs is not available: this kernel has no IPVS; use nftables (default) or iptables' : `unknown proxy mode "${proxyMode}"`, 2);
    }
    const running = await startAgents({ cluster, kubeconfig, proxyMode, ...(node ? { nodes: [node] } : {}), log });
    log(`node agents running for ${running.agents.map((a) => a.nodeName).join(', ')}`);
    process.stdout.write('ready\n');
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', () => resolve());
      process.once('SIGINT', () => resolve());
    });
    await running.stop();
    return 0;
  },
};
