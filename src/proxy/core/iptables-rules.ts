// The same intent as nft-rules.ts, in upstream kube-proxy's iptables layout (pkg/proxy/iptables):
// nat KUBE-SERVICES → KUBE-SVC-* (random `-m statistic` spread) → KUBE-SEP-* (DNAT), KUBE-NODEPORTS,
// KUBE-EXT-* / KUBE-SVL-* for external traffic and Local policies, KUBE-MARK-MASQ and KUBE-POSTROUTING
// for masquerading; filter KUBE-SERVICES / KUBE-EXTERNAL-SERVICES rejecting Services without endpoints,
// KUBE-FORWARD, KUBE-PROXY-FIREWALL for loadBalancerSourceRanges. Rendered as `iptables-restore` input.
import { iptEndpointChain, iptServiceNames } from './names.ts';
import {
  categorizeEndpoints, externalPolicyLocal, isExternallyAccessible, servicePortNameString, usesClusterEndpoints, usesLocalEndpoints,
  type EndpointInfo, type ProxyConfig, type ServicePortInfo,
} from './service-ports.ts';
import { masqueradeMark } from './nft-rules.ts';

export type IptTable = 'nat' | 'filter';

/** A chain's rules, each the text after `-A CHAIN ` in iptables-restore syntax. */
export interface IptChain { readonly name: string; readonly rules: readonly string[] }

/** A rule we keep in a built-in chain (PREROUTING, OUTPUT, ...), inserted once and checked on full syncs. */
export interface IptJump { readonly table: IptTable; readonly chain: string; readonly rule: string }

export interface IptablesRuleset {
  readonly nat: readonly IptChain[];
  readonly filter: readonly IptChain[];
  readonly jumps: readonly IptJump[];
}

export const EGRESS_CHAIN = 'FLATNET-EGRESS';

/** Chains this proxier owns (and may delete when stale): KUBE-* service/endpoint chains and ours. */
export function isOwnedIptChain(name: string): boolean {
  return name.startsWith('KUBE-') || name === EGRESS_CHAIN;
}

function q(text: string): string {
  return `"${text.replace(/"/g, '')}"`;
}

/** `%0.10f` of 1/n, as upstream prints probabilities. */
export function probability(n: number): string {
  return (1 / n).toFixed(10);
}

function hexMark(m: number): string {
  return '0x' + m.toString(16);
}

class Chains {
  private readonly m = new Map<string, string[]>();
  get(name: string): string[] {
    let r = this.m.get(name);
    if (r === undefined) { r = []; this.m.set(name, r); }
    return r;
  }
  set(name: string, rules: string[]): void { this.m.set(name, rules); }
  entries(): { name: string; rules: string[] }[] {
    return [...this.m.entries()].map(([name, rules]) => ({ name, rules }));
  }
  list(): IptChain[] { return this.entries(); }
}

/** Chains shared by all service ports (their lines are concatenated); every other chain belongs to one port. */
const SHARED_CHAINS: ReadonlySet<string> = new Set(['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-EXTERNAL-SERVICES', 'KUBE-PROXY-FIREWALL']);

interface ServicePortChains { readonly nat: readonly { name: string; rules: string[] }[]; readonly filter: readonly { name: string; rules: string[] }[] }

/** Memo of per-service-port chains between builds (same idea as NftBuildCache). */
export interface IptBuildCache { config: string; byPort: WeakMap<ServicePortInfo, ServicePortChains> }

export function newIptBuildCache(): IptBuildCache {
  return { config: '', byPort: new WeakMap() };
}

function servicePortChains(sp: ServicePortInfo, config: ProxyConfig): ServicePortChains {
  const nat = new Chains();
  const filter = new Chains();
    const names = iptServiceNames(sp);
    const spn = servicePortNameString(sp);
    const p = sp.protocol;
    const match = (dst: string | undefined, port: number) => `${dst !== undefined ? `-d ${dst}/32 ` : ''}-p ${p} -m ${p} --dport ${port}`;
    const cat = categorizeEndpoints(sp);

    const usesClusterChain = cat.cluster.length > 0 && usesClusterEndpoints(sp);
    const usesLocalChain = cat.local.length > 0 && usesLocalEndpoints(sp);
    const internalChain = sp.internalPolicyLocal ? names.svl : names.svc;
    const hasInternal = cat.hasAny && !(sp.internalPolicyLocal && cat.local.length === 0);
    const externalPolicyChain = externalPolicyLocal(sp) ? names.svl : names.svc;
    const hasExternal = cat.hasAny && !(externalPolicyLocal(sp) && cat.local.length === 0);
    const usesExternalChain = cat.hasAny && isExternallyAccessible(sp);
    const internalFilter = !cat.hasAny ? 'REJECT --reject-with icmp-port-unreachable' : 'DROP';
    const externalFilter = internalFilter;
    const noEpComment = (what: string) => q(`${spn} ${!cat.hasAny ? 'has no endpoints' : `has no local endpoints${what}`}`);

    // ClusterIP
    if (hasInternal) {
      nat.get('KUBE-SERVICES').push(`-m comment --comment ${q(`${spn} cluster IP`)} ${match(sp.clusterIP, sp.port)} -j ${internalChain}`);
    } else {
      filter.get('KUBE-SERVICES').push(`-m comment --comment ${noEpComment('')} ${match(sp.clusterIP, sp.port)} -j ${internalFilter}`);
    }
    // External IPs
    for (const ip of sp.externalIPs) {
      if (cat.hasAny) nat.get('KUBE-SERVICES').push(`-m comment --comment ${q(`${spn} external IP`)} ${match(ip, sp.port)} -j ${names.ext}`);
      if (!hasExternal) filter.get('KUBE-EXTERNAL-SERVICES').push(`-m comment --comment ${noEpComment('')} ${match(ip, sp.port)} -j ${externalFilter}`);
    }
    // LoadBalancer IPs (+ source ranges in filter KUBE-PROXY-FIREWALL → KUBE-FW-*)
    const usesFirewall = sp.loadBalancerIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0;
    for (const ip of sp.loadBalancerIPs) {
      if (cat.hasAny) nat.get('KUBE-SERVICES').push(`-m comment --comment ${q(`${spn} loadbalancer IP`)} ${match(ip, sp.port)} -j ${names.ext}`);
      if (usesFirewall) filter.get('KUBE-PROXY-FIREWALL').push(`-m comment --comment ${q(`${spn} traffic not accepted by ${names.fw}`)} ${match(ip, sp.port)} -j ${names.fw}`);
      if (!hasExternal) filter.get('KUBE-EXTERNAL-SERVICES').push(`-m comment --comment ${noEpComment('')} ${match(ip, sp.port)} -j ${externalFilter}`);
    }
    if (usesFirewall) {
      const fw = filter.get(names.fw);
      for (const r of sp.loadBalancerSourceRanges) fw.push(`-m comment --comment ${q(`${spn} loadbalancer IP`)} -s ${r} -j RETURN`);
      fw.push(`-m comment --comment ${q(`${spn} loadbalancer IP`)} -j DROP`);
    }
    // NodePort
    if (sp.nodePort !== 0) {
      if (cat.hasAny) nat.get('KUBE-NODEPORTS').push(`-m comment --comment ${q(spn)} -p ${p} -m ${p} --dport ${sp.nodePort} -j ${names.ext}`);
      if (!hasExternal) filter.get('KUBE-EXTERNAL-SERVICES').push(`-m comment --comment ${noEpComment('')} -m addrtype --dst-type LOCAL -p ${p} -m ${p} --dport ${sp.nodePort} -j ${externalFilter}`);
    }

    if (hasInternal) {
      const c = nat.get(internalChain);
      if (config.masqueradeAll) c.push(`-m comment --comment ${q(`${spn} cluster IP`)} ${match(sp.clusterIP, sp.port)} -j KUBE-MARK-MASQ`);
      else c.push(`-m comment --comment ${q(`${spn} cluster IP`)} ${match(sp.clusterIP, sp.port)} ! -s ${config.clusterCIDR} -j KUBE-MARK-MASQ`);
    }
    if (usesExternalChain) {
      const c = nat.get(names.ext);
      if (!externalPolicyLocal(sp)) {
        c.push(`-m comment --comment ${q(`masquerade traffic for ${spn} external destinations`)} -j KUBE-MARK-MASQ`);
      } else {
        c.push(
          `-s ${config.clusterCIDR} -m comment --comment ${q(`pod traffic for ${spn} external destinations`)} -j ${names.svc}`,
          `-m comment --comment ${q(`masquerade LOCAL traffic for ${spn} external destinations`)} -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
          `-m comment --comment ${q(`route LOCAL traffic for ${spn} external destinations`)} -m addrtype --src-type LOCAL -j ${names.svc}`,
        );
      }
      if (hasExternal) c.push(`-j ${externalPolicyChain}`);
    }

    const dispatch = (chain: string, eps: readonly EndpointInfo[]) => {
      const c = nat.get(chain);
      if (sp.affinityTimeoutSeconds > 0) {
        for (const e of eps) {
          const sep = iptEndpointChain(sp, e);
          c.push(`-m comment --comment ${q(`${spn} -> ${e.ip}:${e.port}`)} -m recent --name ${sep} --rcheck --seconds ${sp.affinityTimeoutSeconds} --reap -j ${sep}`);
        }
      }
      eps.forEach((e, i) => {
        const sep = iptEndpointChain(sp, e);
        const stat = i < eps.length - 1 ? ` -m statistic --mode random --probability ${probability(eps.length - i)}` : '';
        c.push(`-m comment --comment ${q(`${spn} -> ${e.ip}:${e.port}`)}${stat} -j ${sep}`);
      });
    };
    if (usesClusterChain) dispatch(names.svc, cat.cluster);
    if (usesLocalChain) dispatch(names.svl, cat.local);

    for (const e of cat.reachable) {
      const sep = iptEndpointChain(sp, e);
      const c = nat.get(sep);
      c.push(`-m comment --comment ${q(spn)} -s ${e.ip}/32 -j KUBE-MARK-MASQ`);
      const recent = sp.affinityTimeoutSeconds > 0 ? ` -m recent --name ${sep} --set` : '';
      c.push(`-m comment --comment ${q(spn)} -p ${p}${recent} -m ${p} -j DNAT --to-destination ${e.ip}:${e.port}`);
    }
  return { nat: nat.entries(), filter: filter.entries() };
}

export function buildIptablesRuleset(ports: readonly ServicePortInfo[], config: ProxyConfig, cache?: IptBuildCache): IptablesRuleset {
  const nat = new Chains();
  const filter = new Chains();
  const mark = hexMark(masqueradeMark(config));
  if (cache !== undefined) {
    const key = JSON.stringify(config);
    if (cache.config !== key) { cache.config = key; cache.byPort = new WeakMap(); }
  }
  const jumps: IptJump[] = [
    { table: 'filter', chain: 'INPUT', rule: `-m conntrack --ctstate NEW -m comment --comment ${q('kubernetes load balancer firewall')} -j KUBE-PROXY-FIREWALL` },
    { table: 'filter', chain: 'INPUT', rule: `-m conntrack --ctstate NEW -m comment --comment ${q('kubernetes externally-visible service portals')} -j KUBE-EXTERNAL-SERVICES` },
    { table: 'filter', chain: 'FORWARD', rule: `-m conntrack --ctstate NEW -m comment --comment ${q('kubernetes load balancer firewall')} -j KUBE-PROXY-FIREWALL` },
    { table: 'filter', chain: 'FORWARD', rule: `-m comment --comment ${q('kubernetes forwarding rules')} -j KUBE-FORWARD` },
    { table: 'filter', chain: 'FORWARD', rule: `-m conntrack --ctstate NEW -m comment --comment ${q('kubernetes service portals')} -j KUBE-SERVICES` },
    { table: 'filter', chain: 'FORWARD', rule: `-m conntrack --ctstate NEW -m comment --comment ${q('kubernetes externally-visible service portals')} -j KUBE-EXTERNAL-SERVICES` },
    { table: 'filter', chain: 'OUTPUT', rule: `-m conntrack --ctstate NEW -m comment --comment ${q('kubernetes load balancer firewall')} -j KUBE-PROXY-FIREWALL` },
    { table: 'filter', chain: 'OUTPUT', rule: `-m conntrack --ctstate NEW -m comment --comment ${q('kubernetes service portals')} -j KUBE-SERVICES` },
    { table: 'nat', chain: 'PREROUTING', rule: `-m comment --comment ${q('kubernetes service portals')} -j KUBE-SERVICES` },
    { table: 'nat', chain: 'OUTPUT', rule: `-m comment --comment ${q('kubernetes service portals')} -j KUBE-SERVICES` },
    { table: 'nat', chain: 'POSTROUTING', rule: `-m comment --comment ${q('kubernetes postrouting rules')} -j KUBE-POSTROUTING` },
  ];

  // Fixed chains (declared even when empty).
  for (const c of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD', 'KUBE-PROXY-FIREWALL']) filter.get(c);
  for (const c of ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ']) nat.get(c);

  nat.get('KUBE-MARK-MASQ').push(`-j MARK --or-mark ${mark}`);
  nat.get('KUBE-POSTROUTING').push(
    `-m mark ! --mark ${mark}/${mark} -j RETURN`,
    `-j MARK --xor-mark ${mark}`,
    `-m comment --comment ${q('kubernetes service traffic requiring SNAT')} -j MASQUERADE --random-fully`,
  );
  filter.get('KUBE-FORWARD').push(
    `-m conntrack --ctstate INVALID -j DROP`,
    `-m comment --comment ${q('kubernetes forwarding rules')} -m mark --mark ${mark}/${mark} -j ACCEPT`,
    `-m comment --comment ${q('kubernetes forwarding conntrack rule')} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
  );

  for (const sp of ports) {
    let objs = cache?.byPort.get(sp);
    if (objs === undefined) { objs = servicePortChains(sp, config); cache?.byPort.set(sp, objs); }
    for (const [table, target] of [['nat', nat], ['filter', filter]] as const) {
      for (const c of objs[table]) {
        if (SHARED_CHAINS.has(c.name)) target.get(c.name).push(...c.rules);
        else target.set(c.name, c.rules);
      }
    }
  }
  nat.get('KUBE-SERVICES').push(`-m comment --comment ${q('kubernetes service nodeports; NOTE: this must be the last rule in this chain')} -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`);

  if (config.egressMasquerade ?? true) {
    const c = nat.get(EGRESS_CHAIN);
    c.push(`-d ${config.clusterCIDR} -j RETURN`);
    if (config.serviceCIDR !== undefined) c.push(`-d ${config.serviceCIDR} -j RETURN`);
    c.push(`-s ${config.clusterCIDR} -m comment --comment ${q('pod egress leaves as the node IP')} -j MASQUERADE`);
    jumps.push({ table: 'nat', chain: 'POSTROUTING', rule: `-m comment --comment ${q('flatnet egress masquerade')} -j ${EGRESS_CHAIN}` });
  }
  return { nat: nat.list(), filter: filter.list(), jumps };
}

export interface RestoreOptions {
  /** Only these chains get rewritten (declared + rules); others are left as they are. Default: all. */
  readonly onlyChains?: ReadonlySet<string>;
  /** Chains to delete (`-X`), e.g. service chains no longer wanted; they are flushed first. */
  readonly deleteChains?: { readonly nat: readonly string[]; readonly filter: readonly string[] };
  /** Jumps to insert at the top of built-in chains (the caller checked they are missing). */
  readonly insertJumps?: readonly IptJump[];
}

/** The jumps of `rs` not present in `saved` (iptables-save text of both tables): matched by chain and target. */
export function missingJumps(rs: IptablesRuleset, saved: string): IptJump[] {
  const lines = new Set(saved.split('\n').map((l) => l.trim()));
  const present = (j: IptJump) => {
    const target = /-j (\S+)$/.exec(j.rule)?.[1] ?? '';
    for (const l of lines) if (l.startsWith(`-A ${j.chain} `) && l.endsWith(`-j ${target}`)) return true;
    return false;
  };
  return rs.jumps.filter((j) => !present(j));
}

/**
 * `iptables-restore --noflush` input: each written chain is declared (which flushes it) and refilled;
 * stale chains are flushed and deleted. One COMMIT per table: each table is applied atomically.
 */
export function renderIptablesRestore(rs: IptablesRuleset, opts: RestoreOptions = {}): string {
  const out: string[] = [];
  for (const table of ['filter', 'nat'] as const) {
    const chains = rs[table].filter((c) => opts.onlyChains === undefined || opts.onlyChains.has(c.name));
    const del = opts.deleteChains?.[table] ?? [];
    const ins = (opts.insertJumps ?? []).filter((j) => j.table === table);
    if (chains.length === 0 && del.length === 0 && ins.length === 0) continue;
    out.push(`*${table}`);
    for (const c of chains) out.push(`:${c.name} - [0:0]`);
    for (const d of del) out.push(`:${d} - [0:0]`);
    for (const c of chains) for (const r of c.rules) out.push(`-A ${c.name} ${r}`);
    for (const d of del) out.push(`-X ${d}`);
    for (const j of [...ins].reverse()) out.push(`-I ${j.chain} 1 ${j.rule}`);
    out.push('COMMIT');
  }
  return out.length === 0 ? '' : out.join('\n') + '\n';
}

/** The whole ruleset as iptables-save-like text (for `flatnet rules NODE`), built-in jumps included. */
export function renderIptablesText(rs: IptablesRuleset): string {
  const out: string[] = [];
  for (const table of ['filter', 'nat'] as const) {
    out.push(`*${table}`);
    for (const c of rs[table]) out.push(`:${c.name} - [0:0]`);
    for (const j of rs.jumps.filter((x) => x.table === table)) out.push(`-A ${j.chain} ${j.rule}`);
    for (const c of rs[table]) for (const r of c.rules) out.push(`-A ${c.name} ${r}`);
    out.push('COMMIT');
  }
  return out.join('\n') + '\n';
}

/** Chains whose rules differ between two rulesets, plus chains only in `next`; and chains only in `prev`. */
export function diffIptables(prev: IptablesRuleset, next: IptablesRuleset): { changed: Set<string>; removed: { nat: string[]; filter: string[] } } {
  const changed = new Set<string>();
  const removed = { nat: [] as string[], filter: [] as string[] };
  for (const table of ['filter', 'nat'] as const) {
    const before = new Map(prev[table].map((c) => [c.name, c.rules]));
    const after = new Set<string>();
    for (const c of next[table]) {
      after.add(c.name);
      const old = before.get(c.name);
      if (old === c.rules) continue;
      if (old === undefined || old.length !== c.rules.length || old.some((r, i) => r !== c.rules[i])) changed.add(c.name);
    }
    for (const name of before.keys()) if (!after.has(name)) removed[table].push(name);
  }
  return { changed, removed };
}
