// The data-plane model of one cluster: the snapshot indexed (nodes, pods, Services by address), the topology
// the lab builds (namespaces, interfaces, routing tables), each node's nftables ruleset built by the SAME
// pure builders kube-proxy and the policy agent use, and cluster DNS answered by the SAME zone CoreDNS's
// stand-in serves. Node rulesets are built lazily (a trace touches one to three nodes), so a model of a
// 5,000-node cluster loads in the time it takes to index it. Pure.
import type { EndpointSlice, Node, Pod, Service } from '../api/types.ts';
import { ClusterZone } from '../dns/core/cluster-zone.ts';
import { EXTERNAL_ZONE, externalZoneRecords } from '../dns/core/external-zone.ts';
import { StaticZone } from '../dns/core/static-zone.ts';
import { extNetns, labNetns, nodeNetns, podNetns, podShortId } from '../lab/core/names.ts';
import { FLATNET_CLASS, FLATNET_CONTROLLER } from '../ingress/core/ingress-class.ts';
import { buildRoutingTable, type RoutingTable } from '../ingress/core/routing-table.ts';
import { vtepAddress } from '../lab/core/routes.ts';
import { clusterDNSServiceIP } from '../net/allocators.ts';
import { cidrContains, formatIPv4, nthAddress, parseCidr, prefixMask, tryParseIPv4, type Cidr } from '../net/ipv4.ts';
import { buildPolicyModel, compilePolicies, type CompiledPolicies, type PolicyModel } from '../netpol/core/index.ts';
import { buildNodePolicyTable, enforcedPods, unexpressiblePolicies } from '../netpol/core/nft-policy.ts';
import type { Ruleset, Table } from '../nft/types.ts';
import { buildNftRuleset } from '../proxy/core/index.ts';
import { collectServicePorts, type ProxyConfig, type ServicePortInfo } from '../proxy/core/service-ports.ts';
import { ModelError, type ClusterSnapshot, type FlowSpec, type Trace } from './types.ts';
import { traceFlow } from './trace-flow.ts';

export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
/** What the lab's external side is known to listen on: its DNS resolver. */
const EXTERNAL_LISTENERS: readonly string[] = ['UDP/53', 'TCP/53'];

export interface NodeInfo {
  readonly name: string;
  readonly ip: string;
  readonly podCIDR: string;
  readonly cidr: Cidr;
  /** cni0's address: the pods' default gateway (first address of the node's Pod CIDR). */
  readonly gateway: string;
  /** flannel.1's address under VXLAN (the network address of the Pod CIDR). */
  readonly vtep: string;
  readonly netns: string;
  readonly object: Node;
}

export interface PodInfo {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly ip: string;
  readonly nodeName: string;
  readonly netns: string;
  /** The node-side veth on cni0 (the real name on a live cluster; `veth<uid>` offline). */
  readonly veth: string;
  readonly vethKnown: boolean;
  readonly hostNetwork: boolean;
  /** Declared container ports as `PROTO/port`. */
  readonly ports: ReadonlySet<string>;
  /** Declared container ports by container, for messages. */
  readonly portOwners: ReadonlyMap<string, string>;
  readonly object: Pod;
}

/** What an address is, in this cluster. */
export type AddressKind =
  | { readonly kind: 'pod'; readonly pod: PodInfo }
  | { readonly kind: 'node'; readonly node: NodeInfo; readonly iface: 'eth0' | 'cni0' | 'flannel.1' }
  | { readonly kind: 'external' }
  | { readonly kind: 'host' }
  | { readonly kind: 'service'; readonly service: Service; readonly via: 'clusterIP' | 'loadBalancer' | 'externalIP' }
  | { readonly kind: 'pod-cidr-unassigned' }
  | { readonly kind: 'service-cidr-unallocated' }
  | { readonly kind: 'loopback' }
  | { readonly kind: 'outside' };

function nodeInternalIP(n: Node): string {
  return n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '';
}

function podIP(p: Pod): string {
  const first = p.status?.podIPs?.find((x) => !x.ip.includes(':'))?.ip;
  return first ?? p.status?.podIP ?? '';
}

const podKey = (p: { metadata: { namespace?: string; name?: string } }): string => `${p.metadata.namespace || 'default'}/${p.metadata.name ?? ''}`;

function isLive(p: Pod): boolean {
  const phase = p.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && p.metadata.deletionTimestamp === undefined;
}

/** The addresses and port a ruleset slice depends on (see ClusterModel.rulesetFor). */
export interface PacketKeys {
  readonly saddr: string;
  readonly daddr: string;
  readonly dport: number;
}

/** The rules of one node that can match one packet, and the Service ports they were built from. */
export interface RulesetSlice {
  readonly ruleset: Ruleset;
  readonly servicePorts: readonly ServicePortInfo[];
}

/** Bound on cached ruleset slices (each is small: the base chains plus a few Services and pods). */
const MAX_CACHED_SLICES = 4096;
/** Bound on the (node, addresses, port) -> slice lookups kept. */
const MAX_CACHED_PACKETS = 100_000;

export class ClusterModel {
  readonly snapshot: ClusterSnapshot;
  readonly domain: string;
  readonly podCidr: Cidr;
  readonly serviceCidr: Cidr;
  readonly underlayCidr: Cidr;
  readonly lbCidr: Cidr | undefined;
  readonly hostIP: string;
  readonly externalIP: string;
  readonly clusterDNS: string;
  readonly nodes: ReadonlyMap<string, NodeInfo>;
  readonly pods: ReadonlyMap<string, PodInfo>;
  readonly notes: readonly string[];
  private readonly nodesByIP = new Map<string, { node: NodeInfo; iface: 'eth0' | 'cni0' | 'flannel.1' }>();
  private readonly podsByIP = new Map<string, PodInfo>();
  /** Nodes by Pod CIDR: prefix length -> network address -> node. */
  private readonly nodesByCidr = new Map<number, Map<number, NodeInfo>>();
  private readonly servicesByKey = new Map<string, Service>();
  /** Services by NodePort number (any protocol). */
  private readonly servicesByNodePort = new Map<number, Service[]>();
  /** EndpointSlices by their Service (`namespace/name`). */
  private readonly slicesByService = new Map<string, EndpointSlice[]>();
  private readonly slicesByPacket = new Map<string, RulesetSlice>();
  private readonly proxySlices = new Map<string, { tables: readonly Table[]; servicePorts: readonly ServicePortInfo[] }>();
  private readonly policySlices = new Map<string, Table>();
  private readonly servicesByIP = new Map<string, { service: Service; via: 'clusterIP' | 'loadBalancer' | 'externalIP' }>();
  /** Notes found while building the policy model (policies this backend cannot enforce). */
  readonly policyNotes: string[] = [];
  private policyState: { model: PolicyModel; compiled: CompiledPolicies; enforced: ReadonlySet<string> } | undefined;
  private zoneState: ClusterZone | undefined;
  private externalZoneState: StaticZone | undefined;
  private ingressState: RoutingTable | undefined;

  private constructor(s: ClusterSnapshot) {
    this.snapshot = s;
    this.domain = s.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN;
    const cidr = (text: string, what: string): Cidr => {
      try {
        return parseCidr(text);
      } catch (e) {
        throw new ModelError('InvalidSnapshot', `${what} ${text} is not an IPv4 CIDR`, { cause: e });
      }
    };
    this.podCidr = cidr(s.podCIDR, 'pod CIDR');
    this.serviceCidr = cidr(s.serviceCIDR, 'service CIDR');
    this.underlayCidr = cidr(s.underlay, 'underlay');
    this.lbCidr = s.lbPool !== undefined && s.lbPool.includes('/') ? cidr(s.lbPool, 'LB pool') : undefined;
    this.hostIP = formatIPv4(nthAddress(this.underlayCidr, 1));
    this.externalIP = formatIPv4(nthAddress(this.underlayCidr, 254));
    this.clusterDNS = clusterDNSServiceIP(s.serviceCIDR);
    const notes: string[] = [];
    if (s.proxyMode === 'iptables') notes.push('kube-proxy runs in iptables mode here; the model walks the equivalent nftables ruleset (same Services, endpoints and probabilities)');

    const nodes = new Map<string, NodeInfo>();
    for (const n of s.nodes) {
      const name = n.metadata.name ?? '';
      const ip = nodeInternalIP(n);
      const podCIDR = n.spec?.podCIDR ?? '';
      if (ip === '' || podCIDR === '') {
        notes.push(`node ${name} has no ${ip === '' ? 'InternalIP' : 'Pod CIDR'} yet; left out of the model`);
        continue;
      }
      const c = cidr(podCIDR, `node ${name} Pod CIDR`);
      const info: NodeInfo = {
        name, ip, podCIDR, cidr: c, gateway: formatIPv4(nthAddress(c, 1)), vtep: vtepAddress(podCIDR),
        netns: nodeNetns(s.name, name), object: n,
      };
      nodes.set(name, info);
      let byNet = this.nodesByCidr.get(c.prefix);
      if (byNet === undefined) this.nodesByCidr.set(c.prefix, (byNet = new Map()));
      byNet.set(c.network, info);
      this.nodesByIP.set(ip, { node: info, iface: 'eth0' });
      this.nodesByIP.set(info.gateway, { node: info, iface: 'cni0' });
      if (s.backend === 'vxlan') this.nodesByIP.set(info.vtep, { node: info, iface: 'flannel.1' });
    }
    this.nodes = nodes;

    const pods = new Map<string, PodInfo>();
    for (const p of s.pods) {
      if (!isLive(p)) continue;
      const ip = podIP(p);
      const uid = p.metadata.uid ?? '';
      const key = podKey(p);
      const ports = new Set<string>();
      const owners = new Map<string, string>();
      for (const c of [...(p.spec?.initContainers ?? []).filter((x) => x.restartPolicy === 'Always'), ...(p.spec?.containers ?? [])]) {
        for (const port of c.ports ?? []) {
          const k = `${port.protocol ?? 'TCP'}/${port.containerPort}`;
          ports.add(k);
          if (!owners.has(k)) owners.set(k, c.name);
        }
      }
      const veth = uid !== '' ? s.podVeths?.[uid] : undefined;
      const info: PodInfo = {
        key, namespace: p.metadata.namespace || 'default', name: p.metadata.name ?? '', uid, ip,
        nodeName: p.spec?.nodeName ?? '', netns: p.spec?.hostNetwork === true ? nodeNetns(s.name, p.spec.nodeName ?? '') : podNetns(s.name, uid || key),
        veth: veth ?? `veth${podShortId(uid || key).slice(0, 8)}`, vethKnown: veth !== undefined,
        hostNetwork: p.spec?.hostNetwork === true, ports, portOwners: owners, object: p,
      };
      pods.set(key, info);
      if (ip !== '' && !info.hostNetwork) this.podsByIP.set(ip, info);
    }
    this.pods = pods;

    for (const svc of s.services) {
      this.servicesByKey.set(`${svc.metadata.namespace || 'default'}/${svc.metadata.name ?? ''}`, svc);
      const spec = svc.spec;
      if (spec === undefined || spec.type === 'ExternalName') continue;
      for (const ip of spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : [])) {
        if (ip !== 'None' && ip !== '') this.servicesByIP.set(ip, { service: svc, via: 'clusterIP' });
      }
      for (const ip of spec.externalIPs ?? []) this.servicesByIP.set(ip, { service: svc, via: 'externalIP' });
      for (const port of spec.ports ?? []) {
        if (port.nodePort === undefined || port.nodePort === 0) continue;
        const list = this.servicesByNodePort.get(port.nodePort) ?? [];
        if (!list.includes(svc)) list.push(svc);
        this.servicesByNodePort.set(port.nodePort, list);
      }
      if (spec.type === 'LoadBalancer') {
        for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
          if (ing.ip !== undefined && ing.ip !== '') this.servicesByIP.set(ing.ip, { service: svc, via: 'loadBalancer' });
        }
      }
    }
    for (const sl of s.endpointSlices) {
      const owner = sl.metadata.labels?.['kubernetes.io/service-name'];
      if (owner === undefined) continue;
      const key = `${sl.metadata.namespace || 'default'}/${owner}`;
      const list = this.slicesByService.get(key) ?? [];
      list.push(sl);
      this.slicesByService.set(key, list);
    }
    this.notes = notes;
  }

  static build(snapshot: ClusterSnapshot): ClusterModel {
    return new ClusterModel(snapshot);
  }

  /**
   * Builds now what traces would build on first use: the NetworkPolicy model and its compiled index, the DNS
   * zone, the Ingress routing table. After this, a trace only builds the small ruleset slices of its own packets.
   */
  prepare(): this {
    this.policy();
    this.zone();
    this.ingressTable();
    return this;
  }

  /** Follows one flow through the data plane. */
  trace(flow: FlowSpec): Trace {
    return traceFlow(this, flow);
  }

  // ------------------------------------------------------------------------------- lookups

  node(name: string): NodeInfo | undefined {
    return this.nodes.get(name);
  }

  pod(key: string): PodInfo | undefined {
    return this.pods.get(key.includes('/') ? key : `default/${key}`);
  }

  podByIP(ip: string): PodInfo | undefined {
    return this.podsByIP.get(ip);
  }

  /** The node whose Pod CIDR holds `ip`. */
  nodeForPodIP(ip: string): NodeInfo | undefined {
    const n = tryParseIPv4(ip);
    if (n === undefined) return undefined;
    for (const [prefix, byNet] of this.nodesByCidr) {
      const node = byNet.get((n & prefixMask(prefix)) >>> 0);
      if (node !== undefined) return node;
    }
    return undefined;
  }

  classify(ip: string): AddressKind {
    const n = tryParseIPv4(ip);
    if (n === undefined) return { kind: 'outside' };
    if ((n >>> 24) === 127) return { kind: 'loopback' };
    const pod = this.podsByIP.get(ip);
    if (pod !== undefined) return { kind: 'pod', pod };
    const node = this.nodesByIP.get(ip);
    if (node !== undefined) return { kind: 'node', node: node.node, iface: node.iface };
    if (ip === this.externalIP) return { kind: 'external' };
    if (ip === this.hostIP) return { kind: 'host' };
    const svc = this.servicesByIP.get(ip);
    if (svc !== undefined) return { kind: 'service', service: svc.service, via: svc.via };
    if (cidrContains(this.podCidr, n)) return { kind: 'pod-cidr-unassigned' };
    if (cidrContains(this.serviceCidr, n)) return { kind: 'service-cidr-unallocated' };
    return { kind: 'outside' };
  }

  inUnderlay(ip: string): boolean {
    const n = tryParseIPv4(ip);
    return n !== undefined && cidrContains(this.underlayCidr, n);
  }

  inLbPool(ip: string): boolean {
    const n = tryParseIPv4(ip);
    if (n === undefined) return false;
    if (this.lbCidr !== undefined) return cidrContains(this.lbCidr, n);
    const pool = this.snapshot.lbPool;
    if (pool === undefined || !pool.includes('-')) return false;
    const [a, b] = pool.split('-');
    const lo = tryParseIPv4(a ?? ''), hi = tryParseIPv4(b ?? '');
    return lo !== undefined && hi !== undefined && n >= lo && n <= hi;
  }

  /** Whether the external side listens on `PROTO/port` (the snapshot's sockets, else its DNS resolver). */
  externalListens(protocol: string, port: number): boolean {
    return (this.snapshot.externalListeners ?? EXTERNAL_LISTENERS).includes(`${protocol}/${port}`);
  }

  // ------------------------------------------------------------------------------- rulesets

  private proxyConfig(node: NodeInfo): ProxyConfig {
    return { nodeName: node.name, nodeIPs: [node.ip], clusterCIDR: this.snapshot.podCIDR, serviceCIDR: this.snapshot.serviceCIDR };
  }

  /**
   * The part of node `name`'s kernel rules that can match a packet with these addresses: kube-proxy's tables
   * (nftables layout) built for the Services the packet can hit (its destination's ClusterIP, LoadBalancer or
   * external IP, or a NodePort equal to its destination port), and the policy agent's
   * `ip flatnet-netpol` table built for the local pods among its source and destination. Every element and
   * chain left out is keyed by an address or port this packet does not carry, so the packet's walk — chains,
   * rule indexes, verdict, NAT — is the same as through the node's whole ruleset; a trace of a 10,000-Service
   * cluster then builds a few chains instead of 10,000 Services' worth per node it crosses.
   */
  rulesetFor(name: string, packet: PacketKeys): RulesetSlice {
    const direct = `${name}|${packet.saddr}|${packet.daddr}|${packet.dport}`;
    const known = this.slicesByPacket.get(direct);
    if (known !== undefined) return known;
    const slice = this.buildSlice(name, packet);
    if (this.slicesByPacket.size >= MAX_CACHED_PACKETS) this.slicesByPacket.clear();
    this.slicesByPacket.set(direct, slice);
    return slice;
  }

  private buildSlice(name: string, packet: PacketKeys): RulesetSlice {
    const node = this.nodes.get(name);
    if (node === undefined) throw new ModelError('UnknownSource', `no node ${name}`);
    const services = new Set<Service>();
    const atAddress = this.servicesByIP.get(packet.daddr);
    if (atAddress !== undefined) services.add(atAddress.service);
    // NodePort elements are keyed by protocol and port alone (the input hook's no-endpoint check matches them
    // for any local destination): a packet to that port number may meet them whatever its address.
    for (const svc of this.servicesByNodePort.get(packet.dport) ?? []) services.add(svc);
    const svcKeys = [...services].map((x) => `${x.metadata.namespace || 'default'}/${x.metadata.name ?? ''}`).sort();
    const { enforced } = this.policy();
    const pods = [...new Set([this.podsByIP.get(packet.saddr), this.podsByIP.get(packet.daddr)]
      .filter((p): p is PodInfo => p !== undefined && p.nodeName === name && enforced.has(p.key)).map((p) => p.key))].sort();
    const proxyKey = `${name}|${svcKeys.join(',')}`;
    let proxy = this.proxySlices.get(proxyKey);
    if (proxy === undefined) {
      const config = this.proxyConfig(node);
      const slices = svcKeys.flatMap((k) => this.slicesByService.get(k) ?? []);
      const ports = collectServicePorts([...services], slices, config);
      proxy = { tables: buildNftRuleset(ports, config).tables, servicePorts: ports };
      if (this.proxySlices.size >= MAX_CACHED_SLICES) this.proxySlices.clear();
      this.proxySlices.set(proxyKey, proxy);
    }
    // The policy table of a set of pods does not depend on the node they run on.
    const podKeyText = pods.join(',');
    let policy = this.policySlices.get(podKeyText);
    if (policy === undefined) {
      policy = buildNodePolicyTable(this.policy().compiled, { localPods: new Set(pods) }).table;
      if (this.policySlices.size >= MAX_CACHED_SLICES) this.policySlices.clear();
      this.policySlices.set(podKeyText, policy);
    }
    return { ruleset: { tables: [...proxy.tables, policy] }, servicePorts: proxy.servicePorts };
  }

  /** The NetworkPolicy model and its compiled index (built on first use). */
  policy(): { model: PolicyModel; compiled: CompiledPolicies; enforced: ReadonlySet<string> } {
    if (this.policyState === undefined) {
      const pods = enforcedPods(this.snapshot.pods);
      let model = buildPolicyModel({ namespaces: this.snapshot.namespaces, pods, policies: this.snapshot.networkPolicies });
      const refused = unexpressiblePolicies(model);
      if (refused.size > 0) {
        for (const [key, reason] of refused) this.policyNotes.push(`NetworkPolicy ${key} is not enforced by this backend: ${reason}`);
        const policies = this.snapshot.networkPolicies.filter((np) => !refused.has(podKey(np)));
        model = buildPolicyModel({ namespaces: this.snapshot.namespaces, pods, policies });
      }
      this.policyState = { model, compiled: compilePolicies(model), enforced: new Set(pods.map(podKey)) };
    }
    return this.policyState;
  }

  /**
   * Everything node `name`'s kernel is programmed with: kube-proxy's tables (nftables layout) and the policy
   * agent's `ip flatnet-netpol` table, built by their own pure builders from the whole snapshot. Traces walk
   * slices of it (rulesetFor); this whole ruleset is for showing a node's rules and for checking the slices.
   */
  ruleset(name: string): Ruleset {
    const node = this.nodes.get(name);
    if (node === undefined) throw new ModelError('UnknownSource', `no node ${name}`);
    const config = this.proxyConfig(node);
    const proxy = buildNftRuleset(collectServicePorts(this.snapshot.services, this.snapshot.endpointSlices, config), config);
    const local = new Set(enforcedPods(this.snapshot.pods).filter((p) => p.spec?.nodeName === name).map(podKey));
    const policy = buildNodePolicyTable(this.policy().compiled, { localPods: local });
    return { tables: [...proxy.tables, policy.table] };
  }

  // ------------------------------------------------------------------------------- DNS

  zone(): ClusterZone {
    if (this.zoneState === undefined) {
      const z = new ClusterZone({ domain: this.domain, nameserverAddresses: [this.clusterDNS] });
      for (const svc of this.snapshot.services) z.upsertService(svc);
      for (const sl of this.snapshot.endpointSlices) z.upsertEndpointSlice(sl);
      for (const p of this.snapshot.pods) if (isLive(p)) z.upsertPod(p);
      this.zoneState = z;
    }
    return this.zoneState;
  }

  externalZone(): StaticZone {
    if (this.externalZoneState === undefined) {
      const origin = this.snapshot.externalZone ?? EXTERNAL_ZONE;
      this.externalZoneState = new StaticZone({ origin, records: externalZoneRecords(origin, this.externalIP) });
    }
    return this.externalZoneState;
  }

  /** The flatnet Ingress controller's routing table, built by its own pure core from this snapshot. */
  ingressTable(): RoutingTable {
    if (this.ingressState === undefined) {
      this.ingressState = buildRoutingTable({
        ingresses: this.snapshot.ingresses ?? [], ingressClasses: this.snapshot.ingressClasses ?? [],
        services: this.snapshot.services, endpointSlices: this.snapshot.endpointSlices, secrets: [],
      }, { controllerName: FLATNET_CONTROLLER, className: FLATNET_CLASS }).table;
    }
    return this.ingressState;
  }

  // ------------------------------------------------------------------------------- names

  labNetns(): string {
    return labNetns(this.snapshot.name);
  }

  externalNetns(): string {
    return extNetns(this.snapshot.name);
  }

  /** The Service behind a ServicePortInfo (for its type and traffic policies). */
  service(namespace: string, name: string): Service | undefined {
    return this.servicesByKey.get(`${namespace}/${name}`);
  }
}
