// Which UDP conntrack entries to clear after a sync (upstream pkg/proxy/conntrack CleanStaleEntries).
// UDP has no connection teardown: a flow DNAT'ed to a removed endpoint, or one that was being rejected
// while a Service had no endpoints, would otherwise stick to its old conntrack entry.
import { categorizeEndpoints, servicePortNameString, type ServicePortInfo } from './service-ports.ts';

export interface ConntrackDeletion {
  readonly proto: 'udp';
  /** --orig-dst: the Service IP the client sent to. */
  readonly origDst?: string;
  /** --dport (original destination port): a NodePort. */
  readonly origDstPort?: number;
  /** --dst-nat: the endpoint the flow was DNAT'ed to. */
  readonly dstNat?: string;
  readonly reason: string;
}

const key = (sp: ServicePortInfo) => `${servicePortNameString(sp)}/${sp.protocol}`;
const serviceIPs = (sp: ServicePortInfo) => [sp.clusterIP, ...sp.externalIPs, ...sp.loadBalancerIPs];

/** The `conntrack` arguments for one deletion (without `ip netns exec`). */
export function conntrackArgs(d: ConntrackDeletion): string[] {
  const a = ['-D', '-p', d.proto];
  if (d.origDst !== undefined) a.push('--orig-dst', d.origDst);
  if (d.origDstPort !== undefined) a.push('--dport', String(d.origDstPort));
  if (d.dstNat !== undefined) a.push('--dst-nat', d.dstNat);
  return a;
}

/** Deletions needed when going from `prev` to `next` (both as produced by collectServicePorts). */
export function staleConntrackEntries(prev: readonly ServicePortInfo[], next: readonly ServicePortInfo[]): ConntrackDeletion[] {
  const out: ConntrackDeletion[] = [];
  const seen = new Set<string>();
  const push = (d: ConntrackDeletion) => {
    const k = JSON.stringify([d.origDst, d.origDstPort, d.dstNat]);
    if (!seen.has(k)) { seen.add(k); out.push(d); }
  };
  const before = new Map(prev.filter((s) => s.protocol === 'udp').map((s) => [key(s), s]));
  const after = new Map(next.filter((s) => s.protocol === 'udp').map((s) => [key(s), s]));
  for (const [k, old] of before) {
    const cur = after.get(k);
    const oldEps = categorizeEndpoints(old).reachable;
    if (cur === undefined) {
      // Service port deleted: its ClusterIP flows are dead.
      push({ proto: 'udp', origDst: old.clusterIP, reason: `${k} deleted` });
      continue;
    }
    const curEps = new Set(categorizeEndpoints(cur).reachable.map((e) => `${e.ip}:${e.port}`));
    for (const e of oldEps) {
      if (curEps.has(`${e.ip}:${e.port}`)) continue;
      for (const ip of serviceIPs(old)) push({ proto: 'udp', origDst: ip, dstNat: e.ip, reason: `${k}: endpoint ${e.ip}:${e.port} removed` });
      if (old.nodePort !== 0) push({ proto: 'udp', origDstPort: old.nodePort, dstNat: e.ip, reason: `${k}: endpoint ${e.ip}:${e.port} removed (NodePort)` });
    }
  }
  for (const [k, cur] of after) {
    const old = before.get(k);
    const hadAny = old !== undefined && categorizeEndpoints(old).reachable.length > 0;
    if (hadAny || categorizeEndpoints(cur).reachable.length === 0) continue;
    // Newly active: flows created while it had no endpoints (rejected/blackholed) must be forgotten.
    for (const ip of serviceIPs(cur)) push({ proto: 'udp', origDst: ip, reason: `${k} became active` });
    if (cur.nodePort !== 0) push({ proto: 'udp', origDstPort: cur.nodePort, reason: `${k} became active (NodePort)` });
  }
  return out;
}
