// The policy model: cluster state (Namespaces, Pods, NetworkPolicies as the API serves them) normalised into
// what networking.k8s.io/v1 semantics need — namespace labels, pod labels/IPs/named ports, and every policy
// with its effective policyTypes, parsed selectors, peers and ports. Both the explaining evaluator
// (evaluate.ts) and the compiled index (compile.ts) read this model. Pure.
import { formatRequirements, matchesLabels, requirementsFromLabelSelector, type LabelRequirement } from '../../api/labels.ts';
import type { LabelSelector, Namespace, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, Pod, Protocol } from '../../api/types.ts';
import { parseCIDR, parseIP, type ParsedCIDR, type ParsedIP } from '../../api/validation/ip.ts';

/** The label upstream's API server puts on every Namespace (and flatnet does too). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export type NetpolErrorCode = 'InvalidPolicy' | 'InvalidManifest' | 'DuplicateObject' | 'UnknownPod' | 'InvalidAddress';

/** A domain error of the network-policy core; branch on `code`, never on the message. */
export class NetpolError extends Error {
  readonly code: NetpolErrorCode;
  constructor(code: NetpolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NetpolError';
    this.code = code;
  }
}

/** The objects a decision depends on. Pods in a namespace that has no Namespace object get that namespace's name label only. */
export interface ClusterState {
  namespaces: readonly Namespace[];
  pods: readonly Pod[];
  policies: readonly NetworkPolicy[];
}

export type Direction = 'ingress' | 'egress';

export interface PodView {
  /** Position in `PolicyModel.pods` (sorted by key); the index of every bitset. */
  index: number;
  /** `namespace/name`. */
  key: string;
  namespace: string;
  name: string;
  labels: Readonly<Record<string, string>>;
  /** All IPs (status.podIPs, else status.podIP); the first is the one the pod's connections come from. */
  ips: readonly string[];
  primaryIP: ParsedIP | undefined;
  /** Named container ports, keyed `PROTOCOL/name`. */
  namedPorts: ReadonlyMap<string, number>;
}

/** A selector as requirements plus its printed form ('' when it selects everything). */
export interface SelectorView {
  requirements: readonly LabelRequirement[];
  text: string;
}

export type PeerView =
  | { index: number; kind: 'pods'; podSelector: SelectorView | undefined; namespaceSelector: SelectorView | undefined; policyNamespace: string }
  | { index: number; kind: 'ipBlock'; cidr: ParsedCIDR; cidrText: string; except: readonly { cidr: ParsedCIDR; text: string }[] }
  /** A peer with no selector and no ipBlock (rejected by validation): it matches nothing. */
  | { index: number; kind: 'empty' };

export type PortView =
  | { index: number; protocol: Protocol; kind: 'all' }
  | { index: number; protocol: Protocol; kind: 'range'; from: number; to: number }
  | { index: number; protocol: Protocol; kind: 'named'; name: string };

export interface RuleView {
  index: number;
  /** Undefined: `from`/`to` absent or empty, every peer (any pod, any IP). */
  peers: readonly PeerView[] | undefined;
  /** Undefined: `ports` absent or empty, every port and protocol. */
  ports: readonly PortView[] | undefined;
}

export interface PolicyView {
  namespace: string;
  name: string;
  /** `namespace/name`. */
  key: string;
  podSelector: SelectorView;
  /** Effective policyTypes (explicit, or defaulted: Ingress always, Egress when egress rules exist). */
  ingressType: boolean;
  egressType: boolean;
  ingress: readonly RuleView[];
  egress: readonly RuleView[];
}

export interface PolicyModel {
  /** Sorted by key. */
  pods: readonly PodView[];
  podsByKey: ReadonlyMap<string, PodView>;
  /** Namespace name -> labels (with kubernetes.io/metadata.name). */
  namespaceLabels: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Sorted by key. */
  policies: readonly PolicyView[];
  policiesByNamespace: ReadonlyMap<string, readonly PolicyView[]>;
}

function isRecord<T extends object>(v: T | null | undefined): v is T;
function isRecord(v: unknown): v is Record<string, unknown>;
function isRecord(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function arr<T>(v: readonly T[] | null | undefined): readonly T[] {
  return Array.isArray(v) ? v : [];
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function selectorView(sel: LabelSelector, path: string, policyKey: string): SelectorView {
  try {
    const requirements = requirementsFromLabelSelector(sel, path);
    return { requirements, text: formatRequirements(requirements) };
  } catch (e) {
    throw new NetpolError('InvalidPolicy', `NetworkPolicy ${policyKey}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

function protocolOf(p: unknown): Protocol {
  return p === 'UDP' || p === 'SCTP' ? p : 'TCP';
}

function peerView(peer: NetworkPolicyPeer, index: number, path: string, policyNamespace: string, policyKey: string): PeerView {
  if (!isRecord(peer)) return { index, kind: 'empty' };
  if (isRecord(peer.ipBlock)) {
    const cidrText = String(peer.ipBlock.cidr ?? '');
    const cidr = parseCIDR(cidrText);
    if (!cidr) throw new NetpolError('InvalidPolicy', `NetworkPolicy ${policyKey}: ${path}.ipBlock.cidr: invalid CIDR ${JSON.stringify(cidrText)}`);
    const except = arr(peer.ipBlock.except).map((text, i) => {
      const parsed = parseCIDR(String(text));
      if (!parsed) throw new NetpolError('InvalidPolicy', `NetworkPolicy ${policyKey}: ${path}.ipBlock.except[${i}]: invalid CIDR ${JSON.stringify(text)}`);
      return { cidr: parsed, text: String(text) };
    });
    return { index, kind: 'ipBlock', cidr, cidrText, except };
  }
  const podSelector = isRecord(peer.podSelector) ? selectorView(peer.podSelector, `${path}.podSelector`, policyKey) : undefined;
  const namespaceSelector = isRecord(peer.namespaceSelector) ? selectorView(peer.namespaceSelector, `${path}.namespaceSelector`, policyKey) : undefined;
  if (!podSelector && !namespaceSelector) return { index, kind: 'empty' };
  return { index, kind: 'pods', podSelector, namespaceSelector, policyNamespace };
}

function portView(port: NetworkPolicyPort, index: number): PortView {
  const protocol = protocolOf(isRecord(port) ? port.protocol : undefined);
  if (!isRecord(port) || port.port === undefined || port.port === null) return { index, protocol, kind: 'all' };
  if (typeof port.port === 'string') {
    // Validation rejects an all-digit port name; a quoted number ("80") from a hand-written object is read as the number.
    if (/^[0-9]+$/.test(port.port)) return { index, protocol, kind: 'range', from: Number(port.port), to: Number(port.port) };
    return { index, protocol, kind: 'named', name: port.port };
  }
  const from = port.port;
  const end = typeof port.endPort === 'number' ? port.endPort : from;
  return { index, protocol, kind: 'range', from, to: Math.max(from, end) };
}

function ruleView(
  rule: { ports?: NetworkPolicyPort[]; from?: NetworkPolicyPeer[]; to?: NetworkPolicyPeer[] },
  index: number,
  direction: Direction,
  policyNamespace: string,
  policyKey: string,
): RuleView {
  const peersRaw = arr(direction === 'ingress' ? rule?.from : rule?.to);
  const portsRaw = arr(rule?.ports);
  const path = `spec.${direction}[${index}].${direction === 'ingress' ? 'from' : 'to'}`;
  return {
    index,
    peers: peersRaw.length === 0 ? undefined : peersRaw.map((p, i) => peerView(p, i, `${path}[${i}]`, policyNamespace, policyKey)),
    ports: portsRaw.length === 0 ? undefined : portsRaw.map((p, i) => portView(p, i)),
  };
}

/** Normalises one NetworkPolicy (defaulting policyTypes as the API server would, for objects straight from manifests). */
export function policyView(np: NetworkPolicy): PolicyView {
  const namespace = np.metadata.namespace || 'default';
  const name = np.metadata.name ?? '';
  const key = `${namespace}/${name}`;
  const spec = isRecord(np.spec) ? np.spec : { podSelector: {} };
  const ingressRules = arr(spec.ingress);
  const egressRules = arr(spec.egress);
  const declared = arr(spec.policyTypes);
  const ingressType = declared.length === 0 ? true : declared.includes('Ingress');
  const egressType = declared.length === 0 ? egressRules.length > 0 : declared.includes('Egress');
  return {
    namespace,
    name,
    key,
    podSelector: selectorView(isRecord(spec.podSelector) ? spec.podSelector : {}, 'spec.podSelector', key),
    ingressType,
    egressType,
    ingress: ingressRules.map((r, i) => ruleView(r, i, 'ingress', namespace, key)),
    egress: egressRules.map((r, i) => ruleView(r, i, 'egress', namespace, key)),
  };
}

function podIPs(pod: Pod): string[] {
  const status = pod.status;
  if (!isRecord(status)) return [];
  const fromList = arr(status.podIPs).map((p) => (isRecord(p) ? String(p.ip ?? '') : '')).filter((s) => s !== '');
  if (fromList.length > 0) return fromList;
  return typeof status.podIP === 'string' && status.podIP !== '' ? [status.podIP] : [];
}

function podNamedPorts(pod: Pod): Map<string, number> {
  const out = new Map<string, number>();
  const spec = pod.spec;
  if (!isRecord(spec)) return out;
  for (const c of arr(spec.containers)) {
    for (const p of arr(c?.ports)) {
      if (!isRecord(p) || typeof p.name !== 'string' || p.name === '' || typeof p.containerPort !== 'number') continue;
      const k = `${protocolOf(p.protocol)}/${p.name}`;
      if (!out.has(k)) out.set(k, p.containerPort);
    }
  }
  return out;
}

/** Builds the model. Throws NetpolError('InvalidPolicy') for a selector or CIDR no API server would accept. */
export function buildPolicyModel(state: ClusterState): PolicyModel {
  const namespaceLabels = new Map<string, Readonly<Record<string, string>>>();
  for (const ns of state.namespaces) {
    const name = ns.metadata.name ?? '';
    namespaceLabels.set(name, { ...(ns.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: name });
  }
  const sortedPods = [...state.pods].sort((a, b) =>
    compareStrings(`${a.metadata.namespace || 'default'}/${a.metadata.name ?? ''}`, `${b.metadata.namespace || 'default'}/${b.metadata.name ?? ''}`));
  const pods: PodView[] = [];
  const podsByKey = new Map<string, PodView>();
  for (const pod of sortedPods) {
    const namespace = pod.metadata.namespace || 'default';
    const name = pod.metadata.name ?? '';
    const key = `${namespace}/${name}`;
    if (podsByKey.has(key)) throw new NetpolError('DuplicateObject', `pod ${key} is given twice`);
    if (!namespaceLabels.has(namespace)) namespaceLabels.set(namespace, { [NAMESPACE_NAME_LABEL]: namespace });
    const ips = podIPs(pod);
    const first = ips[0];
    const view: PodView = {
      index: pods.length,
      key,
      namespace,
      name,
      labels: { ...(pod.metadata.labels ?? {}) },
      ips,
      primaryIP: first === undefined ? undefined : parseIP(first),
      namedPorts: podNamedPorts(pod),
    };
    pods.push(view);
    podsByKey.set(key, view);
  }
  const policies = state.policies.map(policyView).sort((a, b) => compareStrings(a.key, b.key));
  const policiesByNamespace = new Map<string, PolicyView[]>();
  for (const p of policies) {
    const list = policiesByNamespace.get(p.namespace) ?? [];
    list.push(p);
    policiesByNamespace.set(p.namespace, list);
  }
  return { pods, podsByKey, namespaceLabels, policies, policiesByNamespace };
}

// ------------------------------------------------------------------------------------------ matching

export function selectorMatches(sel: SelectorView, labels: Readonly<Record<string, string>>): boolean {
  return matchesLabels(sel.requirements, labels);
}

/** The policies of the pod's namespace that select it and list `direction` in their (effective) policyTypes. */
export function policiesSelecting(model: PolicyModel, pod: PodView, direction: Direction): PolicyView[] {
  return (model.policiesByNamespace.get(pod.namespace) ?? []).filter((p) =>
    (direction === 'ingress' ? p.ingressType : p.egressType) && selectorMatches(p.podSelector, pod.labels));
}

/** Whether `cidr` holds `ip` (same family, first `prefix` bits equal). */
export function cidrHolds(cidr: ParsedCIDR, ip: ParsedIP): boolean {
  if (cidr.ip.family !== ip.family) return false;
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((cidr.ip.bytes[i] ?? 0) & mask) !== ((ip.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** ipBlock semantics: inside `cidr` and inside none of `except`. */
export function ipBlockHolds(peer: Extract<PeerView, { kind: 'ipBlock' }>, ip: ParsedIP): boolean {
  return cidrHolds(peer.cidr, ip) && !peer.except.some((e) => cidrHolds(e.cidr, ip));
}

/** Whether a pod (by namespace labels and its own labels, and its primary IP for ipBlock peers) is one of the peer's. */
export function peerHoldsPod(model: PolicyModel, peer: PeerView, pod: PodView): boolean {
  switch (peer.kind) {
    case 'empty':
      return false;
    case 'ipBlock':
      return pod.primaryIP !== undefined && ipBlockHolds(peer, pod.primaryIP);
    case 'pods': {
      if (peer.namespaceSelector) {
        if (!selectorMatches(peer.namespaceSelector, model.namespaceLabels.get(pod.namespace) ?? {})) return false;
      } else if (pod.namespace !== peer.policyNamespace) {
        return false;
      }
      return peer.podSelector === undefined || selectorMatches(peer.podSelector, pod.labels);
    }
  }
}

/** Whether a port entry admits `protocol/port` on `destination` (whose container ports resolve named ports). */
export function portAdmits(port: PortView, protocol: Protocol, portNumber: number, destination: PodView | undefined): boolean {
  if (port.protocol !== protocol) return false;
  switch (port.kind) {
    case 'all':
      return true;
    case 'range':
      return portNumber >= port.from && portNumber <= port.to;
    case 'named':
      return destination !== undefined && destination.namedPorts.get(`${protocol}/${port.name}`) === portNumber;
  }
}

// ------------------------------------------------------------------------------------------ printing

export function describeSelector(sel: SelectorView | undefined, what: 'pod' | 'namespace'): string {
  if (sel === undefined || sel.text === '') return what === 'pod' ? 'any pod' : 'any namespace';
  return sel.text;
}

/** What a peer demands, e.g. `pod=c in namespace y`, `any pod in namespaces ns=y`, `IP in 10.0.0.0/8 except [10.1.0.0/16]`. */
export function describePeer(peer: PeerView): string {
  switch (peer.kind) {
    case 'empty':
      return 'nothing (a peer with no selector and no ipBlock selects nothing)';
    case 'ipBlock':
      return `IP in ${peer.cidrText}${peer.except.length > 0 ? ` except [${peer.except.map((e) => e.text).join(', ')}]` : ''}`;
    case 'pods': {
      const pods = peer.podSelector === undefined || peer.podSelector.text === '' ? 'any pod' : peer.podSelector.text;
      if (!peer.namespaceSelector) return `${pods} in namespace ${peer.policyNamespace}`;
      if (peer.namespaceSelector.text === '') return `${pods} in any namespace`;
      return `${pods} in namespaces ${peer.namespaceSelector.text}`;
    }
  }
}

export function describePort(port: PortView): string {
  switch (port.kind) {
    case 'all':
      return `${port.protocol}/any`;
    case 'range':
      return port.from === port.to ? `${port.protocol}/${port.from}` : `${port.protocol}/${port.from}-${port.to}`;
    case 'named':
      return `${port.protocol}/${port.name}`;
  }
}
