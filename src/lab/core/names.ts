// Names of everything a lab cluster creates, and the checks on the names it is given. Every network
// namespace, link and file of a cluster NAME is derivable from NAME alone, so a cluster can be torn down
// from its name even when its state files are gone.
//
//   fn-NAME-lab         the underlay namespace: bridge br0 joining every node, the external and the host
//   fn-NAME-ext         the "internet" namespace on the underlay
//   fn-NAME-<node>      one namespace per node (eth0 on the underlay, cni0, flannel.1)
//   fn-NAME-p-<id10>    one namespace per pod sandbox
//   fn-NAME             the root-namespace end of the veth joining the host to the underlay (IFNAMSIZ
//                       leaves 15 characters: `fn-` + a 12-character NAME fills them exactly)
//
// Names can collide across clusters (`fn-a-b-lab` is node `b-lab` of cluster `a` and the lab namespace of
// cluster `a-b`), so every namespace also carries an owner marker: the alias of its `lo`.
import { LabError } from './errors.ts';

export const NETNS_PREFIX = 'fn-';
export const UNDERLAY_BRIDGE = 'br0';
export const NODE_UPLINK = 'eth0';
export const POD_BRIDGE = 'cni0';
export const VXLAN_DEVICE = 'flannel.1';
export const VXLAN_VNI = 1;
export const VXLAN_PORT = 8472;
export const VXLAN_MTU = 1450;
export const UNDERLAY_MTU = 1500;
/** Routing protocol number tagging every route the lab installs (unassigned in rt_protos). */
export const ROUTE_PROTO = 241;
/** The lab-namespace ends of the host and external veths. */
export const LAB_HOST_PORT = 'host';
export const LAB_EXT_PORT = 'ext';

const CLUSTER_NAME = /^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/;
const NODE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const POD_UID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const RESERVED_NODE_NAMES = new Set(['lab', 'ext']);

/** Directories of /run/flatnet that are not clusters (cluster state lives in /run/flatnet/NAME). */
const RESERVED_CLUSTER_NAMES = new Set(['slots', 'images']);

export function validateClusterName(name: string): void {
  if (!CLUSTER_NAME.test(name)) {
    throw new LabError('InvalidArgument', `cluster name ${JSON.stringify(name)} must be 1-12 characters of [a-z0-9-], starting and ending alphanumeric`);
  }
  if (RESERVED_CLUSTER_NAMES.has(name)) {
    throw new LabError('InvalidArgument', `cluster name ${JSON.stringify(name)} is reserved (a shared directory of /run/flatnet)`);
  }
}

export function validateNodeName(node: string): void {
  if (!NODE_NAME.test(node)) {
    throw new LabError('InvalidArgument', `node name ${JSON.stringify(node)} must be a DNS label (1-63 characters of [a-z0-9-])`);
  }
  if (RESERVED_NODE_NAMES.has(node) || node.startsWith('p-')) {
    throw new LabError('InvalidArgument', `node name ${JSON.stringify(node)} is reserved (lab, ext and p-* name the lab's own namespaces)`);
  }
}

/** A pod UID doubles as the CNI container ID, so it must satisfy the CNI spec's container ID rules. */
export function validatePodUid(uid: string): void {
  if (!POD_UID.test(uid) || podShortId(uid).length < 1) {
    throw new LabError('InvalidArgument', `pod uid ${JSON.stringify(uid)} must start alphanumeric and contain only [A-Za-z0-9_.-]`);
  }
}

export const labNetns = (cluster: string): string => `${NETNS_PREFIX}${cluster}-lab`;
export const extNetns = (cluster: string): string => `${NETNS_PREFIX}${cluster}-ext`;
export const nodeNetns = (cluster: string, node: string): string => `${NETNS_PREFIX}${cluster}-${node}`;
export const rootLink = (cluster: string): string => `${NETNS_PREFIX}${cluster}`;
export const clusterNetnsPrefix = (cluster: string): string => `${NETNS_PREFIX}${cluster}-`;
/** The nftables table (family inet) in the root namespace that keeps the host from forwarding lab traffic. */
export const rootNftTable = (cluster: string): string => `flatnet-${cluster}`;

/** The first 10 alphanumerics of the pod UID, lower-cased (a UUID gives 10 hex digits). */
export function podShortId(uid: string): string {
  return uid.replace(/[^A-Za-z0-9]/g, '').toLowerCase().slice(0, 10);
}

export const podNetns = (cluster: string, uid: string): string => `${NETNS_PREFIX}${cluster}-p-${podShortId(uid)}`;
export const netnsPath = (netns: string): string => `/var/run/netns/${netns}`;

/** 32-bit FNV-1a of a string's UTF-16 code units: a stable, dependency-free hash for names and MACs. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The lab-namespace end of a node's underlay veth: `n-<node>` when that fits IFNAMSIZ, else `h-<hash>`. */
export function labPortName(node: string): string {
  if (node.length <= 13) return `n-${node}`;
  return `h-${fnv1a(node).toString(16).padStart(8, '0')}`;
}

/**
 * The flannel.1 MAC of a node: locally administered unicast (first octet 0x0a... with bit 1 set and bit 0
 * clear), stable for (cluster, node) so a node that is re-created keeps its MAC.
 */
export function vxlanMac(cluster: string, node: string): string {
  const a = fnv1a(`${cluster}/${node}`);
  const b = fnv1a(`${node}/${cluster}`, 0x01234567);
  const bytes = [0x0e, (a >>> 24) & 255, (a >>> 16) & 255, (a >>> 8) & 255, a & 255, b & 255];
  return bytes.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** Owner markers written as the `lo` alias of every namespace the lab creates. */
export const MARKER_PREFIX = 'flatnet:';
export const netnsMarker = (cluster: string, role: 'lab' | 'ext' | 'node' | 'pod', id: string): string =>
  `${MARKER_PREFIX}${cluster}:${role}:${id}`;

/** The cluster named by a marker, or undefined when the text is not a lab marker. */
export function markerCluster(alias: string): string | undefined {
  if (!alias.startsWith(MARKER_PREFIX)) return undefined;
  const rest = alias.slice(MARKER_PREFIX.length);
  const colon = rest.indexOf(':');
  return colon < 0 ? undefined : rest.slice(0, colon);
}
