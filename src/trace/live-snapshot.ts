// Reads a running cluster into the model's ClusterSnapshot: the API objects (through the cluster's own
// kubeconfig), the lab's facts (backend, underlay, CIDRs, LB pool: /run/flatnet/NAME/lab.json) and each
// pod's node-side veth name (from the CNI result cache the lab keeps per node). Shell.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resourceFor } from '../api/resources.ts';
import type {
  EndpointSlice, Ingress, IngressClass, KubeObject, Namespace, NetworkPolicy, Node, Pod, Service,
} from '../api/types.ts';
import { KubeClient } from '../client/kube-client.ts';
import { readCluster } from '../cli/cluster-commands.ts';
import { podNetns } from '../lab/core/names.ts';
import { Lab } from '../lab/lab.ts';
import { execIn } from '../proxy/exec.ts';
import { parseResolvConf } from '../runtime/core/dns-files.ts';
import { ModelError, type ClusterSnapshot, type ProxyMode } from '../model/types.ts';

async function listKind<T extends KubeObject>(client: KubeClient, kind: string): Promise<T[]> {
  const res = resourceFor(kind);
  if (res === undefined) throw new Error(`no resource for ${kind}`);
  return (await client.listAll<T>(res, undefined)).items;
}

/** What listens in the external namespace (`PROTO/port`), from its sockets. */
async function externalListeners(netns: string): Promise<string[] | undefined> {
  const out: string[] = [];
  for (const [proto, flag] of [['TCP', '-ltnH'], ['UDP', '-lunH']] as const) {
    const r = await execIn(netns, 'ss', [flag], { timeoutMs: 5000 });
    if (r.code !== 0) return undefined;
    for (const line of r.stdout.split('\n')) {
      const local = line.trim().split(/\s+/)[3];
      const port = local?.slice(local.lastIndexOf(':') + 1);
      if (port !== undefined && /^\d+$/.test(port)) out.push(`${proto}/${port}`);
    }
  }
  return [...new Set(out)].sort();
}

function hostSearches(): string[] {
  try {
    return parseResolvConf(readFileSync('/etc/resolv.conf', 'utf8')).searches;
  } catch {
    return [];
  }
}

/** A client for the named cluster (its kubeconfig under the cluster's data directory). */
export function clusterClient(cluster: string): KubeClient {
  const rec = readCluster(cluster);
  if (rec === undefined) throw new ModelError('InvalidSnapshot', `no cluster named "${cluster}"`);
  return KubeClient.fromKubeconfig(join(rec.dataDir, 'kubeconfig'));
}

export async function readLiveSnapshot(cluster: string, client: KubeClient = clusterClient(cluster)): Promise<ClusterSnapshot> {
  const rec = readCluster(cluster);
  if (rec === undefined) throw new ModelError('InvalidSnapshot', `no cluster named "${cluster}"`);
  const lab = await Lab.adopt(cluster);
  const [nodes, pods, services, endpointSlices, namespaces, networkPolicies, ingresses, ingressClasses] = await Promise.all([
    listKind<Node>(client, 'Node'),
    listKind<Pod>(client, 'Pod'),
    listKind<Service>(client, 'Service'),
    listKind<EndpointSlice>(client, 'EndpointSlice'),
    listKind<Namespace>(client, 'Namespace'),
    listKind<NetworkPolicy>(client, 'NetworkPolicy'),
    listKind<Ingress>(client, 'Ingress'),
    listKind<IngressClass>(client, 'IngressClass'),
  ]);
  const podVeths: Record<string, string> = {};
  for (const n of lab.nodes) {
    for (const sb of await lab.listPodSandboxes(n.name)) {
      const uid = pods.find((p) => p.metadata.uid !== undefined && podNetns(cluster, p.metadata.uid) === sb.netns)?.metadata.uid;
      if (uid !== undefined) podVeths[uid] = sb.hostVeth;
    }
  }
  const listeners = await externalListeners(lab.externalNetns());
  const proxyMode: ProxyMode = rec.proxyMode === 'iptables' ? 'iptables' : 'nftables';
  return {
    name: cluster,
    backend: lab.backend,
    proxyMode,
    underlay: lab.underlay,
    podCIDR: lab.podCIDR,
    serviceCIDR: lab.serviceCIDR,
    ...(lab.lbPool !== undefined ? { lbPool: lab.lbPool } : {}),
    hostSearches: hostSearches(),
    ...(listeners !== undefined ? { externalListeners: listeners } : {}),
    nodes, pods, services, endpointSlices, namespaces, networkPolicies, ingresses, ingressClasses,
    podVeths,
  };
}
