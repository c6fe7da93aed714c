// Cross-node routing as data. The planner turns the list of nodes into the routes, neighbour entries and
// forwarding-database entries one node (or the host) should have; the differ compares that with what the
// kernel reports (`ip -j route show proto 241`, `ip -j neigh show dev flannel.1 nud permanent`,
// `bridge -j fdb show dev flannel.1`) and emits `ip -batch` / `bridge -batch` lines that converge the two.
// Only entries the lab owns are ever touched: routes tagged `proto 241`, permanent neighbours and
// fdb entries with a remote `dst` on flannel.1.
import { formatIPv4, nthAddress, parseCidr, tryParseCidr, tryParseIPv4 } from '../../net/ipv4.ts';
import { NODE_UPLINK, ROUTE_PROTO, VXLAN_DEVICE, rootLink } from './names.ts';
import type { Backend, LabNode, LabState } from './spec.ts';
import { externalAddress, rootRouteMetric, rootUnreachableCidrs } from './spec.ts';

export interface RouteSpec {
  type: 'unicast' | 'unreachable';
  /** Canonical CIDR (`0.0.0.0/0` for the default route). */
  dst: string;
  gateway?: string;
  dev?: string;
  onlink: boolean;
  metric: number;
}

export interface NeighSpec {
  ip: string;
  mac: string;
}

export interface FdbSpec {
  mac: string;
  /** The remote VTEP (peer node InternalIP). */
  dst: string;
}

export interface NetworkPlan {
  routes: RouteSpec[];
  neighs: NeighSpec[];
  fdbs: FdbSpec[];
}

/** The address a node puts on flannel.1: the network address of its Pod CIDR (as /32). */
export function vtepAddress(podCIDR: string): string {
  return formatIPv4(nthAddress(parseCidr(podCIDR), 0));
}

/**
 * What node `self` needs to reach every other node's pods, plus its default route to the external
 * namespace (the lab's stand-in for the internet gateway).
 *  host-gw: `<peer podCIDR> via <peer ip> dev eth0`.
 *  vxlan:   `<peer podCIDR> via <peer podCIDR>.0 dev flannel.1 onlink`, a permanent neighbour
 *           `<peer podCIDR>.0 -> <peer flannel.1 MAC>`, an fdb entry `<peer MAC> dst <peer ip>`.
 */
export function planNodeNetwork(backend: Backend, underlay: string, nodes: readonly LabNode[], self: string): NetworkPlan {
  const routes: RouteSpec[] = [
    { type: 'unicast', dst: '0.0.0.0/0', gateway: externalAddress(underlay), dev: NODE_UPLINK, onlink: false, metric: 0 },
  ];
  const neighs: NeighSpec[] = [];
  const fdbs: FdbSpec[] = [];
  for (const peer of nodes) {
    if (peer.name === self) continue;
    const dst = canonicalCidr(peer.podCIDR);
    if (backend === 'host-gw') {
      routes.push({ type: 'unicast', dst, gateway: peer.ip, dev: NODE_UPLINK, onlink: false, metric: 0 });
    } else {
      const vtep = vtepAddress(peer.podCIDR);
      routes.push({ type: 'unicast', dst, gateway: vtep, dev: VXLAN_DEVICE, onlink: true, metric: 0 });
      neighs.push({ ip: vtep, mac: peer.vxlanMac.toLowerCase() });
      fdbs.push({ mac: peer.vxlanMac.toLowerCase(), dst: peer.ip });
    }
  }
  return { routes, neighs, fdbs };
}

/**
 * The root namespace's routes for one cluster, all with the cluster's metric: each node's Pod CIDR via that
 * node's InternalIP on `fn-NAME` (the host reaches pods like any node on the underlay, without NAT), then
 * `unreachable` for the whole pod CIDR, the service CIDR and the LB pool so no lab address ever leaves by
 * the host's real interfaces (the per-node routes are more specific and win).
 */
export function planRootRoutes(state: LabState): RouteSpec[] {
  const metric = rootRouteMetric(state.slot);
  const dev = rootLink(state.name);
  const routes: RouteSpec[] = state.nodes.map((n) => ({
    type: 'unicast' as const,
    dst: canonicalCidr(n.podCIDR),
    gateway: n.ip,
    dev,
    onlink: false,
    metric,
  }));
  for (const cidr of rootUnreachableCidrs(state)) {
    routes.push({ type: 'unreachable', dst: canonicalCidr(cidr), onlink: false, metric });
  }
  return routes;
}

export function canonicalCidr(text: string): string {
  if (text === 'default') return '0.0.0.0/0';
  const withPrefix = text.includes('/') ? text : `${text}/32`;
  const cidr = tryParseCidr(withPrefix);
  if (cidr === undefined) return text;
  return `${formatIPv4(cidr.network)}/${cidr.prefix}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

const optString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** Routes from `ip -j route show ...` output (already parsed JSON). Types other than unicast/unreachable are dropped. */
export function parseRoutes(json: unknown): RouteSpec[] {
  const out: RouteSpec[] = [];
  for (const r of records(json)) {
    const type = r.type === undefined ? 'unicast' : r.type;
    if (type !== 'unicast' && type !== 'unreachable') continue;
    const dst = optString(r.dst);
    if (dst === undefined) continue;
    const flags = Array.isArray(r.flags) ? r.flags : [];
    const route: RouteSpec = {
      type,
      dst: canonicalCidr(dst),
      onlink: flags.includes('onlink'),
      metric: typeof r.metric === 'number' ? r.metric : 0,
    };
    const gateway = optString(r.gateway);
    const dev = optString(r.dev);
    if (gateway !== undefined) route.gateway = gateway;
    if (dev !== undefined && type === 'unicast') route.dev = dev;
    out.push(route);
  }
  return out;
}

/** Permanent neighbour entries from `ip -j neigh show ...`. */
export function parseNeighs(json: unknown): NeighSpec[] {
  const out: NeighSpec[] = [];
  for (const n of records(json)) {
    const ip = optString(n.dst);
    const mac = optString(n.lladdr);
    const state = Array.isArray(n.state) ? n.state : [];
    if (ip !== undefined && mac !== undefined && state.includes('PERMANENT')) out.push({ ip, mac: mac.toLowerCase() });
  }
  return out;
}

/** Remote-VTEP fdb entries (those with a `dst`) from `bridge -j fdb show dev flannel.1`. */
export function parseFdbs(json: unknown): FdbSpec[] {
  const out: FdbSpec[] = [];
  for (const f of records(json)) {
    const mac = optString(f.mac);
    const dst = optString(f.dst);
    if (mac !== undefined && dst !== undefined && tryParseIPv4(dst) !== undefined) out.push({ mac: mac.toLowerCase(), dst });
  }
  return out;
}

const routeKey = (r: RouteSpec): string =>
  [r.type, r.dst, r.gateway ?? '-', r.type === 'unicast' ? (r.dev ?? '-') : '-', r.onlink ? 'onlink' : '-', r.metric].join(' ');
const neighKey = (n: NeighSpec): string => `${n.ip} ${n.mac}`;
const fdbKey = (f: FdbSpec): string => `${f.mac} ${f.dst}`;

function routeTarget(r: RouteSpec): string {
  const parts = r.type === 'unreachable' ? ['unreachable', r.dst] : [r.dst];
  if (r.gateway !== undefined && r.type === 'unicast') parts.push('via', r.gateway);
  if (r.dev !== undefined && r.type === 'unicast') parts.push('dev', r.dev);
  if (r.onlink) parts.push('onlink');
  parts.push('proto', String(ROUTE_PROTO));
  if (r.metric !== 0) parts.push('metric', String(r.metric));
  return parts.join(' ');
}

export interface NetworkDiff {
  /** Lines for `ip -batch -` (deletions first, then `replace`s). */
  ip: string[];
  /** Lines for `bridge -batch -`. */
  bridge: string[];
}

/** The commands that turn `observed` into `desired`; empty when they already agree (idempotence). */
export function diffNetwork(desired: NetworkPlan, observed: NetworkPlan): NetworkDiff {
  const ip: string[] = [];
  const bridge: string[] = [];
  const want = {
    routes: new Set(desired.routes.map(routeKey)),
    neighs: new Set(desired.neighs.map(neighKey)),
    fdbs: new Set(desired.fdbs.map(fdbKey)),
  };
  const have = {
    routes: new Set(observed.routes.map(routeKey)),
    neighs: new Set(observed.neighs.map(neighKey)),
    fdbs: new Set(observed.fdbs.map(fdbKey)),
  };
  const desiredNeighIps = new Set(desired.neighs.map((n) => n.ip));
  for (const r of observed.routes) if (!want.routes.has(routeKey(r))) ip.push(`route del ${routeTarget(r)}`);
  // A neighbour whose IP is still wanted is overwritten by `replace` below, not deleted first.
  for (const n of observed.neighs) {
    if (!want.neighs.has(neighKey(n)) && !desiredNeighIps.has(n.ip)) ip.push(`neigh del ${n.ip} dev ${VXLAN_DEVICE}`);
  }
  for (const f of observed.fdbs) if (!want.fdbs.has(fdbKey(f))) bridge.push(`fdb del ${f.mac} dev ${VXLAN_DEVICE} dst ${f.dst} self`);
  for (const n of desired.neighs) {
    if (!have.neighs.has(neighKey(n))) ip.push(`neigh replace ${n.ip} lladdr ${n.mac} dev ${VXLAN_DEVICE} nud permanent`);
  }
  for (const r of desired.routes) if (!have.routes.has(routeKey(r))) ip.push(`route replace ${routeTarget(r)}`);
  for (const f of desired.fdbs) if (!have.fdbs.has(fdbKey(f))) bridge.push(`fdb append ${f.mac} dev ${VXLAN_DEVICE} dst ${f.dst} self permanent`);
  return { ip, bridge };
}
