// The shape of a lab cluster: what callers ask for (ClusterSpec), what the lab records (LabState), and the
// underlay addressing plan. Pure: validation, address assignment, slot choice, state parsing.
//
// Underlay of slot S: 172.31.S.0/24. .1 is the host (root namespace end `fn-NAME`), nodes take .11 up to
// .253 in the order they join (the lowest free address), .254 is the external namespace.
import {
  cidrContains,
  cidrContainsCidr,
  cidrsOverlap,
  formatCidr,
  formatIPv4,
  nthAddress,
  parseAddressRange,
  parseCidr,
  tryParseCidr,
  tryParseIPv4,
} from '../../net/ipv4.ts';
import type { Cidr } from '../../net/ipv4.ts';
import { LabError } from './errors.ts';
import { validateClusterName, validateNodeName, vxlanMac } from './names.ts';

export type Backend = 'host-gw' | 'vxlan';
export const BACKENDS: readonly Backend[] = ['host-gw', 'vxlan'];

export interface NodeSpec {
  name: string;
  /** The node's Pod CIDR (its spec.podCIDR), inside the cluster's pod CIDR. */
  podCIDR: string;
}

export interface ClusterSpec {
  name: string;
  nodes: NodeSpec[];
  backend: Backend;
  /** The cluster-wide pod CIDR (e.g. 10.244.0.0/16). */
  podCIDR: string;
  /** The service CIDR (e.g. 10.96.0.0/12). */
  serviceCIDR: string;
  /** LoadBalancer address pool: a CIDR or an inclusive range `a.b.c.d-e.f.g.h`. */
  lbPool?: string;
}

export interface LabNode {
  name: string;
  podCIDR: string;
  /** InternalIP on the underlay. */
  ip: string;
  /** MAC of the node's flannel.1 (set even under host-gw, where no such device exists). */
  vxlanMac: string;
}

export interface LabState {
  version: 1;
  name: string;
  slot: number;
  /** The underlay subnet, 172.31.<slot>.0/24. */
  underlay: string;
  backend: Backend;
  podCIDR: string;
  serviceCIDR: string;
  lbPool?: string;
  nodes: LabNode[];
}

export const UNDERLAY_BASE = '172.31.0.0/16';
export const UNDERLAY_PREFIX = 24;
export const SLOT_COUNT = 256;
export const FIRST_NODE_HOST = 11;
export const EXTERNAL_HOST = 254;
/** Root-namespace routes of slot S carry metric ROOT_METRIC_BASE + S, so clusters never collide on a route. */
export const ROOT_METRIC_BASE = 4000;

export function underlayForSlot(slot: number): string {
  if (!Number.isInteger(slot) || slot < 0 || slot >= SLOT_COUNT) {
    throw new LabError('InvalidArgument', `underlay slot ${slot} is outside 0..${SLOT_COUNT - 1}`);
  }
  const base = parseCidr(UNDERLAY_BASE);
  return formatCidr({ network: base.network + slot * 256, prefix: UNDERLAY_PREFIX });
}

/** The slot whose underlay contains this address, or undefined. */
export function slotOfAddress(address: string): number | undefined {
  const value = tryParseIPv4(address);
  const base = parseCidr(UNDERLAY_BASE);
  if (value === undefined || !cidrContains(base, value)) return undefined;
  return Math.floor((value - base.network) / 256);
}

/** The lowest slot not in `used`. */
export function pickFreeSlot(used: ReadonlySet<number>): number {
  for (let slot = 0; slot < SLOT_COUNT; slot++) if (!used.has(slot)) return slot;
  throw new LabError('NoFreeSlot', `all ${SLOT_COUNT} underlay subnets of ${UNDERLAY_BASE} are in use`);
}

export const rootRouteMetric = (slot: number): number => ROOT_METRIC_BASE + slot;
export const hostAddress = (underlay: string): string => formatIPv4(nthAddress(parseCidr(underlay), 1));
export const externalAddress = (underlay: string): string => formatIPv4(nthAddress(parseCidr(underlay), EXTERNAL_HOST));
export const underlayPrefixLength = (underlay: string): number => parseCidr(underlay).prefix;

/** The lowest node address (.11 .. .253) not already taken. */
export function assignNodeAddress(underlay: string, taken: readonly string[]): string {
  const cidr = parseCidr(underlay);
  const used = new Set(taken);
  for (let host = FIRST_NODE_HOST; host < EXTERNAL_HOST; host++) {
    const candidate = formatIPv4(nthAddress(cidr, host));
    if (!used.has(candidate)) return candidate;
  }
  throw new LabError('InvalidArgument', `no free node address left in ${underlay}`);
}

function cidrOf(text: string, what: string): Cidr {
  const cidr = tryParseCidr(text, { strict: true });
  if (cidr === undefined) throw new LabError('InvalidArgument', `${what} ${JSON.stringify(text)} is not a CIDR network address`);
  return cidr;
}

/** The smallest list of CIDR blocks covering exactly the pool (a CIDR or an inclusive range). */
export function poolCidrs(pool: string): string[] {
  let range;
  try {
    range = parseAddressRange(pool);
  } catch (err) {
    throw new LabError('InvalidArgument', `lbPool ${JSON.stringify(pool)} is neither a CIDR nor an address range`, { cause: err });
  }
  const out: string[] = [];
  let next = range.first;
  for (let guard = 0; next <= range.last && guard < 64; guard++) {
    let prefix = 32;
    // Widen while the block stays aligned and inside the range.
    while (prefix > 0) {
      const size = 2 ** (33 - prefix);
      if (next % size !== 0 || next + size - 1 > range.last) break;
      prefix--;
    }
    out.push(formatCidr({ network: next, prefix }));
    next += 2 ** (32 - prefix);
  }
  return out;
}

/** Checks one node against the cluster (and the nodes already in it); throws InvalidArgument. */
export function validateNodeSpec(cluster: { podCIDR: string; nodes: readonly { name: string; podCIDR: string }[] }, node: NodeSpec): void {
  validateNodeName(node.name);
  const pods = cidrOf(cluster.podCIDR, 'cluster podCIDR');
  const mine = cidrOf(node.podCIDR, `node ${node.name} podCIDR`);
  if (!cidrContainsCidr(pods, mine)) {
    throw new LabError('InvalidArgument', `node ${node.name} podCIDR ${node.podCIDR} is not inside the cluster pod CIDR ${cluster.podCIDR}`);
  }
  if (mine.prefix > 28) throw new LabError('InvalidArgument', `node ${node.name} podCIDR ${node.podCIDR} is smaller than a /28`);
  for (const other of cluster.nodes) {
    if (other.name === node.name) throw new LabError('AlreadyExists', `node ${node.name} is already in the cluster`);
    if (cidrsOverlap(mine, cidrOf(other.podCIDR, `node ${other.name} podCIDR`))) {
      throw new LabError('InvalidArgument', `node ${node.name} podCIDR ${node.podCIDR} overlaps node ${other.name}'s ${other.podCIDR}`);
    }
  }
}

/** Checks a whole cluster spec; throws InvalidArgument (or AlreadyExists for a repeated node name). */
export function validateClusterSpec(spec: ClusterSpec): void {
  validateClusterName(spec.name);
  if (!BACKENDS.includes(spec.backend)) {
    throw new LabError('InvalidArgument', `backend ${JSON.stringify(spec.backend)} is not one of ${BACKENDS.join(', ')}`);
  }
  const pods = cidrOf(spec.podCIDR, 'podCIDR');
  const services = cidrOf(spec.serviceCIDR, 'serviceCIDR');
  const underlay = parseCidr(UNDERLAY_BASE);
  if (cidrsOverlap(pods, services)) throw new LabError('InvalidArgument', `podCIDR ${spec.podCIDR} overlaps serviceCIDR ${spec.serviceCIDR}`);
  for (const [what, cidr] of [['podCIDR', pods], ['serviceCIDR', services]] as const) {
    if (cidrsOverlap(cidr, underlay)) throw new LabError('InvalidArgument', `${what} ${formatCidr(cidr)} overlaps the lab underlay ${UNDERLAY_BASE}`);
  }
  if (spec.lbPool !== undefined) {
    for (const block of poolCidrs(spec.lbPool)) {
      const cidr = parseCidr(block);
      if (cidrsOverlap(cidr, pods) || cidrsOverlap(cidr, services)) {
        throw new LabError('InvalidArgument', `lbPool ${spec.lbPool} overlaps the pod or service CIDR`);
      }
    }
  }
  const seen: NodeSpec[] = [];
  for (const node of spec.nodes) {
    validateNodeSpec({ podCIDR: spec.podCIDR, nodes: seen }, node);
    seen.push(node);
  }
}

/** The recorded state of a new cluster: node addresses in the order given. */
export function planCluster(spec: ClusterSpec, slot: number): LabState {
  validateClusterSpec(spec);
  const underlay = underlayForSlot(slot);
  const nodes: LabNode[] = [];
  for (const node of spec.nodes) {
    const ip = assignNodeAddress(underlay, nodes.map((n) => n.ip));
    nodes.push({ name: node.name, podCIDR: node.podCIDR, ip, vxlanMac: vxlanMac(spec.name, node.name) });
  }
  const state: LabState = {
    version: 1,
    name: spec.name,
    slot,
    underlay,
    backend: spec.backend,
    podCIDR: spec.podCIDR,
    serviceCIDR: spec.serviceCIDR,
    nodes,
  };
  if (spec.lbPool !== undefined) state.lbPool = spec.lbPool;
  return state;
}

/** The state after a node joins (validated; it takes the lowest free underlay address). */
export function withNode(state: LabState, node: NodeSpec): LabState {
  validateNodeSpec(state, node);
  const ip = assignNodeAddress(state.underlay, state.nodes.map((n) => n.ip));
  return { ...state, nodes: [...state.nodes, { name: node.name, podCIDR: node.podCIDR, ip, vxlanMac: vxlanMac(state.name, node.name) }] };
}

export function withoutNode(state: LabState, node: string): LabState {
  if (!state.nodes.some((n) => n.name === node)) throw new LabError('NotFound', `node ${node} is not in cluster ${state.name}`);
  return { ...state, nodes: state.nodes.filter((n) => n.name !== node) };
}

/** Addresses the root namespace must never send out of the host: the pod CIDR, the service CIDR, the LB pool. */
export function rootUnreachableCidrs(state: LabState): string[] {
  const underlay = parseCidr(state.underlay);
  const out = [state.podCIDR, state.serviceCIDR];
  // Pool blocks on the underlay are already routed into the lab by the underlay's connected route.
  if (state.lbPool !== undefined) out.push(...poolCidrs(state.lbPool).filter((c) => !cidrContainsCidr(underlay, parseCidr(c))));
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(obj: Record<string, unknown>, key: string): string {
  const value = obj[key];
  if (typeof value !== 'string') throw new LabError('Corrupt', `lab state: ${key} is not a string`);
  return value;
}

/** Narrows a parsed lab.json into LabState; throws Corrupt. */
export function parseLabState(value: unknown): LabState {
  if (!isRecord(value) || value.version !== 1) throw new LabError('Corrupt', 'lab state: not a version 1 lab state');
  const backend = str(value, 'backend');
  if (backend !== 'host-gw' && backend !== 'vxlan') throw new LabError('Corrupt', `lab state: unknown backend ${backend}`);
  const slot = value.slot;
  if (typeof slot !== 'number' || !Number.isInteger(slot)) throw new LabError('Corrupt', 'lab state: slot is not an integer');
  const nodesValue = value.nodes;
  if (!Array.isArray(nodesValue)) throw new LabError('Corrupt', 'lab state: nodes is not a list');
  const nodes: LabNode[] = nodesValue.map((n: unknown) => {
    if (!isRecord(n)) throw new LabError('Corrupt', 'lab state: a node is not an object');
    return { name: str(n, 'name'), podCIDR: str(n, 'podCIDR'), ip: str(n, 'ip'), vxlanMac: str(n, 'vxlanMac') };
  });
  const state: LabState = {
    version: 1,
    name: str(value, 'name'),
    slot,
    underlay: str(value, 'underlay'),
    backend,
    podCIDR: str(value, 'podCIDR'),
    serviceCIDR: str(value, 'serviceCIDR'),
    nodes,
  };
  if (typeof value.lbPool === 'string') state.lbPool = value.lbPool;
  return state;
}
