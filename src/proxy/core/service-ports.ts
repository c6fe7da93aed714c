// From API objects (Services, EndpointSlices, Nodes) to the proxier's intent: one ServicePortInfo per
// Service port with its endpoints, and upstream's endpoint categorisation (which endpoints serve
// Cluster- and Local-policy traffic). Both rule builders (nftables and iptables) start from here.
import type { EndpointSlice, Node, Service } from '../../api/types.ts';
import { tryParseIPv4 } from '../../net/ipv4.ts';

export type L4 = 'tcp' | 'udp' | 'sctp';

export interface ProxyConfig {
  /** This node's name (endpoints with this nodeName are local). */
  readonly nodeName: string;
  /** This node's IPv4 addresses (NodePort/LB firewall decisions and egress documentation). */
  readonly nodeIPs: readonly string[];
  /** The pod network; traffic from outside it to a ClusterIP is masqueraded (upstream's local detector). */
  readonly clusterCIDR: string;
  /** The ClusterIP range: unallocated ClusterIPs are dropped; egress masquerade skips it. */
  readonly serviceCIDR?: string;
  /** Bit of the packet mark meaning "masquerade me" (upstream default 14 = 0x4000). */
  readonly masqueradeBit?: number;
  /** Masquerade all traffic to ClusterIPs (upstream --masquerade-all). */
  readonly masqueradeAll?: boolean;
  /** Render the egress masquerade (pods to outside the cluster leave as the node IP). Default true. */
  readonly egressMasquerade?: boolean;
}

export interface EndpointInfo {
  readonly ip: string;
  readonly port: number;
  readonly nodeName?: string;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly isLocal: boolean;
}

export interface ServicePortInfo {
  readonly namespace: string;
  readonly name: string;
  /** The port's name ('' when unnamed). */
  readonly portName: string;
  readonly protocol: L4;
  readonly port: number;
  /** 0 when the port has no NodePort. */
  readonly nodePort: number;
  readonly clusterIP: string;
  readonly externalIPs: readonly string[];
  /** status.loadBalancer.ingress[].ip with ipMode VIP (or unset). */
  readonly loadBalancerIPs: readonly string[];
  readonly loadBalancerSourceRanges: readonly string[];
  readonly externalPolicyLocal: boolean;
  readonly internalPolicyLocal: boolean;
  /** Session affinity ClientIP timeout; 0 = no affinity. */
  readonly affinityTimeoutSeconds: number;
  readonly healthCheckNodePort: number;
  /** All endpoints from the Service's EndpointSlices for this port, sorted by ip then port. */
  readonly endpoints: readonly EndpointInfo[];
}

/** `ns/name:port` (or `ns/name` when the port has no name), upstream's ServicePortName string. */
export function servicePortNameString(sp: Pick<ServicePortInfo, 'namespace' | 'name' | 'portName'>): string {
  return `${sp.namespace}/${sp.name}${sp.portName ? `:${sp.portName}` : ''}`;
}

export function isExternallyAccessible(sp: ServicePortInfo): boolean {
  return sp.nodePort !== 0 || sp.loadBalancerIPs.length > 0 || sp.externalIPs.length > 0;
}

/** Cluster endpoints are needed unless all traffic is internal with internalTrafficPolicy Local. */
export function usesClusterEndpoints(sp: ServicePortInfo): boolean {
  return !sp.internalPolicyLocal || isExternallyAccessible(sp);
}

export function externalPolicyLocal(sp: ServicePortInfo): boolean {
  return sp.externalPolicyLocal && isExternallyAccessible(sp);
}

export function usesLocalEndpoints(sp: ServicePortInfo): boolean {
  return sp.internalPolicyLocal || externalPolicyLocal(sp);
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const DEFAULT_AFFINITY_SECONDS = 10800;

function protocolOf(p: string | undefined): L4 | undefined {
  switch (p ?? 'TCP') {
    case 'TCP': return 'tcp';
    case 'UDP': return 'udp';
    case 'SCTP': return 'sctp';
    default: return undefined;
  }
}

/**
 * The ServicePortInfos this node programs. ExternalName Services, headless Services (clusterIP None or
 * empty) and non-IPv4 ClusterIPs get nothing. Endpoints come from IPv4 EndpointSlices labelled with the
 * Service's name in its namespace, matched by port name and protocol; duplicates across slices are merged.
 */
/**
 * Memo for collectServicePorts: a Service object seen again with the very same EndpointSlice objects yields
 * the very same ServicePortInfo objects (informer caches hand out unchanged objects by reference), which
 * lets the rule builders' caches skip it.
 */
export interface CollectCache { config: string; byService: WeakMap<Service, { slices: readonly EndpointSlice[]; ports: readonly ServicePortInfo[] }> }

export function newCollectCache(): CollectCache {
  return { config: '', byService: new WeakMap() };
}

export function collectServicePorts(services: readonly Service[], slices: readonly EndpointSlice[], config: ProxyConfig, cache?: CollectCache): ServicePortInfo[] {
  if (cache !== undefined) {
    const key = JSON.stringify(config);
    if (cache.config !== key) { cache.config = key; cache.byService = new WeakMap(); }
  }
  const slicesBySvc = new Map<string, EndpointSlice[]>();
  for (const s of slices) {
    if (s.addressType !== 'IPv4') continue;
    const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
    if (svc === undefined) continue;
    const key = `${s.metadata.namespace ?? 'default'}/${svc}`;
    const list = slicesBySvc.get(key) ?? [];
    list.push(s);
    slicesBySvc.set(key, list);
  }
  const out: ServicePortInfo[] = [];
  for (const svc of services) {
    const spec = svc.spec;
    if (spec === undefined || spec.type === 'ExternalName') continue;
    const clusterIP = spec.clusterIP ?? '';
    if (clusterIP === '' || clusterIP === 'None' || tryParseIPv4(clusterIP) === undefined) continue;
    const namespace = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name ?? '';
    const svcSlices = slicesBySvc.get(`${namespace}/${name}`) ?? [];
    const hit = cache?.byService.get(svc);
    if (hit !== undefined && hit.slices.length === svcSlices.length && hit.slices.every((x, i) => x === svcSlices[i])) {
      out.push(...hit.ports);
      continue;
    }
    const first = out.length;
    const lbIPs = (svc.status?.loadBalancer?.ingress ?? [])
      .filter((i) => i.ip !== undefined && i.ipMode !== 'Proxy' && tryParseIPv4(i.ip) !== undefined)
      .map((i) => i.ip as string);
    const externalIPs = (spec.externalIPs ?? []).filter((ip) => tryParseIPv4(ip) !== undefined);
    for (const port of spec.ports ?? []) {
      const protocol = protocolOf(port.protocol);
      if (protocol === undefined) continue;
      const portName = port.name ?? '';
      const byAddr = new Map<string, EndpointInfo>();
      for (const slice of svcSlices) {
        const sp = (slice.ports ?? []).find((p) => (p.name ?? '') === portName && protocolOf(p.protocol) === protocol);
        if (sp === undefined || sp.port === undefined) continue;
        for (const ep of slice.endpoints ?? []) {
          const c = ep.conditions ?? {};
          const ready = spec.publishNotReadyAddresses === true || c.ready === undefined || c.ready === true;
          const serving = c.serving === undefined ? ready : c.serving;
          const terminating = c.terminating === true;
          for (const ip of ep.addresses.slice(0, 1)) {
            if (tryParseIPv4(ip) === undefined) continue;
            const info: EndpointInfo = { ip, port: sp.port, ...(ep.nodeName !== undefined ? { nodeName: ep.nodeName } : {}), ready, serving, terminating, isLocal: ep.nodeName === config.nodeName };
            const k = `${ip}:${sp.port}`;
            if (!byAddr.has(k)) byAddr.set(k, info);
          }
        }
      }
      const endpoints = [...byAddr.values()].map((e) => ({ e, n: tryParseIPv4(e.ip) ?? 0 })).sort((a, b) => a.n - b.n || a.e.port - b.e.port).map((x) => x.e);
      const affinity = spec.sessionAffinity === 'ClientIP' ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS) : 0;
      const typeAllowsNodePort = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
      out.push({
        namespace, name, portName, protocol, port: port.port,
        nodePort: typeAllowsNodePort ? (port.nodePort ?? 0) : 0,
        clusterIP,
        externalIPs,
        loadBalancerIPs: spec.type === 'LoadBalancer' ? lbIPs : [],
        loadBalancerSourceRanges: spec.type === 'LoadBalancer' ? (spec.loadBalancerSourceRanges ?? []) : [],
        externalPolicyLocal: spec.externalTrafficPolicy === 'Local',
        internalPolicyLocal: spec.internalTrafficPolicy === 'Local',
        affinityTimeoutSeconds: affinity,
        healthCheckNodePort: spec.healthCheckNodePort ?? 0,
        endpoints,
      });
    }
    cache?.byService.set(svc, { slices: svcSlices, ports: out.slice(first) });
  }
  const keyed = out.map((sp) => ({ sp, k: `${servicePortNameString(sp)}/${sp.protocol}` }));
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  return keyed.map((x) => x.sp);
}

export interface CategorizedEndpoints {
  /** Endpoints for Cluster-policy traffic (ready ones, else serving+terminating ones). */
  readonly cluster: readonly EndpointInfo[];
  /** Endpoints for Local-policy traffic (this node's ready ones, else its serving+terminating ones). */
  readonly local: readonly EndpointInfo[];
  /** Union: every endpoint some rule on this node may DNAT to. */
  readonly reachable: readonly EndpointInfo[];
  /** Whether the Service has any usable endpoint anywhere (not just here). */
  readonly hasAny: boolean;
}

/** Upstream's CategorizeEndpoints, without topology hints. */
export function categorizeEndpoints(sp: ServicePortInfo): CategorizedEndpoints {
  let cluster: EndpointInfo[] = [];
  let hasAny = false;
  if (usesClusterEndpoints(sp)) {
    cluster = sp.endpoints.filter((e) => e.ready);
    if (cluster.length === 0) cluster = sp.endpoints.filter((e) => e.serving && e.terminating);
    if (cluster.length > 0) hasAny = true;
  }
  if (!usesLocalEndpoints(sp)) return { cluster, local: [], reachable: cluster, hasAny };
  let hasLocalReady = false, hasLocalServingTerminating = false;
  for (const e of sp.endpoints) {
    if (e.ready) { hasAny = true; if (e.isLocal) hasLocalReady = true; }
    else if (e.serving && e.terminating) { hasAny = true; if (e.isLocal) hasLocalServingTerminating = true; }
  }
  let local: EndpointInfo[] = [];
  if (hasLocalReady) local = sp.endpoints.filter((e) => e.isLocal && e.ready);
  else if (hasLocalServingTerminating) local = sp.endpoints.filter((e) => e.isLocal && e.serving && e.terminating);
  if (!usesClusterEndpoints(sp)) return { cluster, local, reachable: local, hasAny };
  const seen = new Set(cluster.map((e) => `${e.ip}:${e.port}`));
  const reachable = [...cluster, ...local.filter((e) => !seen.has(`${e.ip}:${e.port}`))];
  return { cluster, local, reachable, hasAny };
}

/** The labels of this node from the Nodes list (for future topology use); undefined when absent. */
export function thisNode(nodes: readonly Node[], nodeName: string): Node | undefined {
  return nodes.find((n) => n.metadata.name === nodeName);
}
