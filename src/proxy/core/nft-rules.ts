// The proxier's nftables rules, following upstream kube-proxy's nftables mode (pkg/proxy/nftables):
// one `ip kube-proxy` table with filter chains running before DNAT (priority -110), nat chains at
// dstnat/srcnat, dispatch by verdict maps keyed `ip daddr . meta l4proto . th dport`, per service port
// `service-`/`local-`/`external-`/`firewall-` chains, per endpoint `endpoint-` chains with a DNAT, and
// masquerading decided by a packet mark. Plus flatnet's egress table (`ip flatnet-egress`): pods to
// anything outside the cluster and service CIDRs leave masqueraded to the node IP (like ip-masq-agent).
import type { Chain, Hook, MapElement, MapVerdict, NftMap, NftSet, Rule, Ruleset, Selector, SetElement, Table } from '../../nft/types.ts';
import { cidrContains, tryParseCidr, tryParseIPv4 } from '../../net/ipv4.ts';
import { nftEndpointNames, nftServiceNames } from './names.ts';
import {
  categorizeEndpoints, externalPolicyLocal, isExternallyAccessible, servicePortNameString, usesClusterEndpoints, usesLocalEndpoints,
  type EndpointInfo, type ProxyConfig, type ServicePortInfo,
} from './service-ports.ts';

export const KUBE_PROXY_TABLE = 'kube-proxy';
export const EGRESS_TABLE = 'flatnet-egress';

const DNAT = -100;
const SNAT = 100;
const FILTER_PRE_DNAT = DNAT - 10;
const FILTER_POST_DNAT = DNAT + 10;

const KEY3: readonly Selector[] = ['ip daddr', 'meta l4proto', 'th dport'];
const KEY2: readonly Selector[] = ['meta l4proto', 'th dport'];
const TYPE3 = ['ipv4_addr', 'inet_proto', 'inet_service'] as const;
const TYPE2 = ['inet_proto', 'inet_service'] as const;

const jump = (chain: string): MapVerdict => ({ kind: 'jump', chain });
const goto = (chain: string): MapVerdict => ({ kind: 'goto', chain });
const CT_NEW = { kind: 'cmp', left: 'ct state', right: 'new' } as const;

export function masqueradeMark(config: ProxyConfig): number {
  return (1 << (config.masqueradeBit ?? 14)) >>> 0;
}

function dportSelector(p: ServicePortInfo['protocol']): Selector {
  return p === 'tcp' ? 'tcp dport' : p === 'udp' ? 'udp dport' : 'sctp dport';
}

/** Builds one table's objects in upstream's order of definition. */
class TableBuilder {
  readonly sets: NftSet[] = [];
  readonly maps = new Map<string, { decl: Omit<NftMap, 'elements'>; elements: MapElement[] }>();
  readonly chains = new Map<string, { name: string; base?: Chain['base']; comment?: string; rules: Rule[] }>();

  chain(name: string, init?: { base?: Chain['base']; comment?: string }): Rule[] {
    let c = this.chains.get(name);
    if (c === undefined) {
      c = { name, rules: [], ...(init?.base ? { base: init.base } : {}), ...(init?.comment !== undefined ? { comment: init.comment } : {}) };
      this.chains.set(name, c);
    }
    return c.rules;
  }

  map(decl: Omit<NftMap, 'elements'>): MapElement[] {
    let m = this.maps.get(decl.name);
    if (m === undefined) { m = { decl, elements: [] }; this.maps.set(decl.name, m); }
    return m.elements;
  }

  table(family: Table['family'], name: string, comment: string): Table {
    // Base chains last: readers meet the pieces before the hooks that use them.
    const all = [...this.chains.values()];
    const chains: Chain[] = [...all.filter((c) => !c.base), ...all.filter((c) => c.base)].map((c) => ({ ...c }));
    return {
      family, name, comment,
      sets: [...this.sets],
      maps: [...this.maps.values()].map((m) => ({ ...m.decl, elements: m.elements })),
      chains,
    };
  }
}

/** What one service port contributes: its chains (rules arrays reused across syncs via the cache), sets and map elements. */
interface ServicePortObjects {
  readonly chains: readonly { name: string; rules: Rule[] }[];
  readonly sets: readonly NftSet[];
  readonly elements: ReadonlyMap<string, readonly MapElement[]>;
  readonly clusterIP: SetElement;
}

/**
 * Memo of per-service-port objects between builds. Unchanged service ports hand back the very same rule
 * arrays, so diffRulesets can skip them by identity. Keyed by ServicePortInfo identity: pair it with a
 * CollectCache so unchanged Services yield the same ServicePortInfo objects.
 */
export interface NftBuildCache { config: string; byPort: WeakMap<ServicePortInfo, ServicePortObjects> }

export function newNftBuildCache(): NftBuildCache {
  return { config: '', byPort: new WeakMap() };
}

function servicePortObjects(sp: ServicePortInfo, config: ProxyConfig): ServicePortObjects {
  const b = new TableBuilder();
  const el = (map: string) => b.map({ name: map, type: [], valueType: 'verdict' });
  const serviceIPs = el('service-ips');
  const noEndpointServices = el('no-endpoint-services');
  const noEndpointNodePorts = el('no-endpoint-nodeports');
  const firewallIPs = el('firewall-ips');
  const serviceNodePorts = el('service-nodeports');
    const names = nftServiceNames(sp);
    const proto = sp.protocol;
    const name = servicePortNameString(sp);
    const cat = categorizeEndpoints(sp);
    const epNames = new Map(cat.reachable.map((e) => [e, nftEndpointNames(sp, e)] as const));


    const usesClusterChain = cat.cluster.length > 0 && usesClusterEndpoints(sp);
    const usesLocalChain = cat.local.length > 0 && usesLocalEndpoints(sp);
    let hasInternal = cat.hasAny;
    const internalChain = sp.internalPolicyLocal ? names.local : names.cluster;
    if (sp.internalPolicyLocal && cat.local.length === 0) hasInternal = false;
    let hasExternal = cat.hasAny;
    const externalPolicyChain = externalPolicyLocal(sp) ? names.local : names.cluster;
    if (externalPolicyLocal(sp) && cat.local.length === 0) hasExternal = false;
    const usesExternalChain = cat.hasAny && isExternallyAccessible(sp);

    const internalFilter: MapVerdict = !cat.hasAny ? goto('reject-chain') : { kind: 'drop' };
    const externalFilter: MapVerdict = !cat.hasAny ? goto('reject-chain') : { kind: 'drop' };

    // ClusterIP
    if (hasInternal) serviceIPs.push({ key: [sp.clusterIP, proto, sp.port], value: goto(internalChain) });
    else noEndpointServices.push({ key: [sp.clusterIP, proto, sp.port], value: internalFilter, comment: name });

    // externalIPs
    for (const ip of sp.externalIPs) {
      if (cat.hasAny) serviceIPs.push({ key: [ip, proto, sp.port], value: goto(names.external) });
      if (!hasExternal) noEndpointServices.push({ key: [ip, proto, sp.port], value: externalFilter, comment: name });
    }

    // LoadBalancer source ranges
    const usesFirewall = sp.loadBalancerIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0;
    if (usesFirewall) {
      const allowed = [...sp.loadBalancerSourceRanges];
      const allowFromNode = sp.loadBalancerSourceRanges.some((r) => {
        const cidr = tryParseCidr(r);
        return cidr !== undefined && config.nodeIPs.some((n) => { const ip = tryParseIPv4(n); return ip !== undefined && cidrContains(cidr, ip); });
      });
      if (allowFromNode) allowed.push(...sp.loadBalancerIPs);
      b.chain(names.firewall).push({ match: [{ kind: 'cmp', left: 'ip saddr', op: '!=', right: allowed }], verdict: { kind: 'drop' } });
    }
    for (const ip of sp.loadBalancerIPs) {
      if (cat.hasAny) serviceIPs.push({ key: [ip, proto, sp.port], value: goto(names.external) });
      if (usesFirewall) firewallIPs.push({ key: [ip, proto, sp.port], value: goto(names.firewall), comment: name });
      if (!hasExternal) noEndpointServices.push({ key: [ip, proto, sp.port], value: externalFilter, comment: name });
    }

    // NodePort
    if (sp.nodePort !== 0) {
      if (cat.hasAny) serviceNodePorts.push({ key: [proto, sp.nodePort], value: goto(names.external) });
      if (!hasExternal) noEndpointNodePorts.push({ key: [proto, sp.nodePort], value: externalFilter, comment: name });
    }

    // Internal traffic: masquerade what comes from outside the pod network (e.g. the node itself).
    if (hasInternal) {
      const rules = b.chain(internalChain);
      const base: Rule['match'] = [{ kind: 'cmp', left: 'ip daddr', right: sp.clusterIP }, { kind: 'cmp', left: dportSelector(proto), right: sp.port }];
      if (config.masqueradeAll) rules.push({ match: base, verdict: jump('mark-for-masquerade') });
      else rules.push({ match: [...base, { kind: 'cmp', left: 'ip saddr', op: '!=', right: config.clusterCIDR }], verdict: jump('mark-for-masquerade') });
    }

    // External traffic: NodePort, LoadBalancer and external IPs.
    if (usesExternalChain) {
      const rules = b.chain(names.external);
      if (!externalPolicyLocal(sp)) {
        rules.push({ match: [], verdict: jump('mark-for-masquerade') });
      } else {
        rules.push(
          { match: [{ kind: 'cmp', left: 'ip saddr', right: config.clusterCIDR }], verdict: goto(names.cluster), comment: 'short-circuit pod traffic' },
          { match: [{ kind: 'cmp', left: 'fib saddr type', right: 'local' }], verdict: jump('mark-for-masquerade'), comment: 'masquerade local traffic' },
          { match: [{ kind: 'cmp', left: 'fib saddr type', right: 'local' }], verdict: goto(names.cluster), comment: 'short-circuit local traffic' },
        );
      }
      if (hasExternal) rules.push({ match: [], verdict: goto(externalPolicyChain) });
    }

    // Affinity sets, one per reachable endpoint.
    if (sp.affinityTimeoutSeconds > 0) {
      for (const e of cat.reachable) {
        const n = epNames.get(e);
        if (n) b.sets.push({ name: n.affinitySet, type: ['ipv4_addr'], flags: ['dynamic', 'timeout'], timeoutSeconds: sp.affinityTimeoutSeconds, elements: [] });
      }
    }

    const writeDispatch = (chain: string, eps: readonly EndpointInfo[]) => {
      const rules = b.chain(chain);
      if (sp.affinityTimeoutSeconds > 0) {
        for (const e of eps) {
          const n = epNames.get(e);
          if (n) rules.push({ match: [{ kind: 'lookup', keys: ['ip saddr'], set: n.affinitySet }], verdict: goto(n.chain) });
        }
      }
      rules.push({
        match: [],
        verdict: {
          kind: 'vmap-inline',
          key: [{ numgen: 'random', mod: eps.length }],
          entries: eps.map((e, i) => ({ key: [i], verdict: goto(epNames.get(e)?.chain ?? '') })),
        },
      });
    };
    if (usesClusterChain) writeDispatch(names.cluster, cat.cluster);
    if (usesLocalChain) writeDispatch(names.local, cat.local);

    for (const e of cat.reachable) {
      const n = epNames.get(e);
      if (!n) continue;
      const rules = b.chain(n.chain);
      rules.push({ match: [{ kind: 'cmp', left: 'ip saddr', right: e.ip }], verdict: jump('mark-for-masquerade') });
      if (sp.affinityTimeoutSeconds > 0) rules.push({ match: [], statements: [{ kind: 'set-update', op: 'update', set: n.affinitySet, keys: ['ip saddr'] }] });
      rules.push({ match: [{ kind: 'cmp', left: 'meta l4proto', right: proto }], statements: [{ kind: 'dnat', addr: e.ip, port: e.port }] });
    }
  return {
    chains: [...b.chains.values()].map((c) => ({ name: c.name, rules: c.rules })),
    sets: b.sets,
    elements: new Map([...b.maps.values()].filter((m) => m.elements.length > 0).map((m) => [m.decl.name, m.elements])),
    clusterIP: { key: [sp.clusterIP] },
  };
}

/** The `ip kube-proxy` table for these service ports. */
export function buildKubeProxyTable(ports: readonly ServicePortInfo[], config: ProxyConfig, cache?: NftBuildCache): Table {
  const b = new TableBuilder();
  const mark = masqueradeMark(config);
  if (cache !== undefined) {
    const key = JSON.stringify(config);
    if (cache.config !== key) { cache.config = key; cache.byPort = new WeakMap(); }
  }

  // Base chains (upstream: filter chains at dstnat-10 so they see pre-DNAT addresses).
  const base = (name: string, type: 'filter' | 'nat', hook: Hook, priority: number) =>
    b.chain(name, { base: { type, hook, priority, policy: 'accept' } });
  base('filter-prerouting', 'filter', 'prerouting', FILTER_PRE_DNAT);
  base('filter-input', 'filter', 'input', FILTER_PRE_DNAT);
  base('filter-forward', 'filter', 'forward', FILTER_PRE_DNAT);
  base('filter-output', 'filter', 'output', FILTER_PRE_DNAT);
  base('filter-output-post-dnat', 'filter', 'output', FILTER_POST_DNAT);
  base('nat-prerouting', 'nat', 'prerouting', DNAT);
  base('nat-output', 'nat', 'output', DNAT);
  base('nat-postrouting', 'nat', 'postrouting', SNAT);

  const jumps: readonly [string, string, boolean][] = [
    ['nodeport-endpoints-check', 'filter-input', true],
    ['service-endpoints-check', 'filter-input', true],
    ['service-endpoints-check', 'filter-forward', true],
    ['service-endpoints-check', 'filter-output', true],
    ['firewall-check', 'filter-prerouting', true],
    ['firewall-check', 'filter-output', true],
    ['services', 'nat-output', false],
    ['services', 'nat-prerouting', false],
    ['masquerading', 'nat-postrouting', false],
    ['cluster-ips-check', 'filter-forward', true],
    ['cluster-ips-check', 'filter-output-post-dnat', true],
  ];
  for (const [dst, src, ctNew] of jumps) {
    b.chain(dst);
    b.chain(src).push({ match: ctNew ? [CT_NEW] : [], verdict: jump(dst) });
  }

  b.chain('mark-for-masquerade').push({ match: [], statements: [{ kind: 'mark', target: 'meta', op: 'or', value: mark }] });
  b.chain('masquerading').push(
    { match: [{ kind: 'masked', left: 'meta mark', mask: mark, value: 0 }], verdict: { kind: 'return' } },
    { match: [], statements: [{ kind: 'mark', target: 'meta', op: 'xor', value: mark }] },
    { match: [], statements: [{ kind: 'masquerade', fullyRandom: true }] },
  );

  b.sets.push({ name: 'cluster-ips', type: ['ipv4_addr'], comment: 'Active ClusterIPs', elements: [] });
  b.chain('cluster-ips-check').push({ match: [{ kind: 'lookup', keys: ['ip daddr'], set: 'cluster-ips' }], verdict: { kind: 'reject', with: { icmp: 'port-unreachable' } }, comment: 'Reject traffic to invalid ports of ClusterIPs' });
  if (config.serviceCIDR !== undefined) {
    b.chain('cluster-ips-check').push({ match: [{ kind: 'cmp', left: 'ip daddr', right: [config.serviceCIDR] }], verdict: { kind: 'drop' }, comment: 'Drop traffic to unallocated ClusterIPs' });
  }

  const noEndpointServices = b.map({ name: 'no-endpoint-services', type: TYPE3, valueType: 'verdict', comment: 'vmap to drop or reject packets to services with no endpoints' });
  const noEndpointNodePorts = b.map({ name: 'no-endpoint-nodeports', type: TYPE2, valueType: 'verdict', comment: 'vmap to drop or reject packets to service nodeports with no endpoints' });
  b.chain('reject-chain', { comment: 'helper for @no-endpoint-services / @no-endpoint-nodeports' }).push({ match: [], verdict: { kind: 'reject', with: { icmp: 'port-unreachable' } } });
  b.chain('service-endpoints-check').push({ match: [], verdict: { kind: 'vmap', key: KEY3, map: 'no-endpoint-services' } });
  b.chain('nodeport-endpoints-check').push({ match: [{ kind: 'cmp', left: 'ip daddr', op: '!=', right: '127.0.0.0/8' }], verdict: { kind: 'vmap', key: KEY2, map: 'no-endpoint-nodeports' } });

  const firewallIPs = b.map({ name: 'firewall-ips', type: TYPE3, valueType: 'verdict', comment: 'destinations that are subject to LoadBalancerSourceRanges' });
  b.chain('firewall-check').push({ match: [], verdict: { kind: 'vmap', key: KEY3, map: 'firewall-ips' } });

  const serviceIPs = b.map({ name: 'service-ips', type: TYPE3, valueType: 'verdict', comment: 'ClusterIP, ExternalIP and LoadBalancer IP traffic' });
  const serviceNodePorts = b.map({ name: 'service-nodeports', type: TYPE2, valueType: 'verdict', comment: 'NodePort traffic' });
  b.chain('services').push(
    { match: [], verdict: { kind: 'vmap', key: KEY3, map: 'service-ips' } },
    { match: [{ kind: 'cmp', left: 'fib daddr type', right: 'local' }, { kind: 'cmp', left: 'ip daddr', op: '!=', right: '127.0.0.0/8' }], verdict: { kind: 'vmap', key: KEY2, map: 'service-nodeports' } },
  );

  const clusterIPSet = b.sets[0] as NftSet;
  const clusterIPElements: SetElement[] = [];
  const seenClusterIPs = new Set<string>();

  for (const sp of ports) {
    let objs = cache?.byPort.get(sp);
    if (objs === undefined) { objs = servicePortObjects(sp, config); cache?.byPort.set(sp, objs); }
    if (!seenClusterIPs.has(sp.clusterIP)) { seenClusterIPs.add(sp.clusterIP); clusterIPElements.push(objs.clusterIP); }
    for (const c of objs.chains) b.chains.set(c.name, c);
    b.sets.push(...objs.sets);
    for (const [map, elements] of objs.elements) b.map({ name: map, type: [], valueType: 'verdict' }).push(...elements);
  }

  b.sets[0] = { ...clusterIPSet, elements: clusterIPElements };
  return b.table('ip', KUBE_PROXY_TABLE, 'rules for kube-proxy');
}

/** `ip flatnet-egress`: pods leaving for destinations outside the cluster and service CIDRs are masqueraded. */
export function buildEgressTable(config: ProxyConfig): Table {
  const internal = [config.clusterCIDR, ...(config.serviceCIDR !== undefined ? [config.serviceCIDR] : [])];
  return {
    family: 'ip', name: EGRESS_TABLE, comment: 'flatnet egress masquerade (ip-masq-agent style)', sets: [], maps: [],
    chains: [{
      name: 'postrouting',
      base: { type: 'nat', hook: 'postrouting', priority: SNAT, policy: 'accept' },
      rules: [{
        match: [{ kind: 'cmp', left: 'ip saddr', right: config.clusterCIDR }, { kind: 'cmp', left: 'ip daddr', op: '!=', right: internal }],
        statements: [{ kind: 'masquerade' }],
        comment: 'pod egress leaves as the node IP',
      }],
    }],
  };
}

/** Everything the node's proxier programs in nftables mode. */
export function buildNftRuleset(ports: readonly ServicePortInfo[], config: ProxyConfig, cache?: NftBuildCache): Ruleset {
  const tables: Table[] = [buildKubeProxyTable(ports, config, cache)];
  if (config.egressMasquerade ?? true) tables.push(buildEgressTable(config));
  return { tables };
}
