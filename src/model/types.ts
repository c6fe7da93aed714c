// The data-plane model's public types: what a cluster looks like to the model (a snapshot of API objects
// plus the lab facts the objects do not carry), what a flow is, and what a trace says about it. Pure.
//
// The model does not re-implement kube-proxy or the policy agent: for each node it builds the very
// rulesets those components apply (src/proxy/core, src/netpol/core) and walks them with src/nft's
// evaluator. What it adds is the rest of the path the seeds draw: DNS with the pod's search path, the
// routing table of every namespace, veth pairs, the cni0 bridge, host-gw or VXLAN, and the reply.
import type {
  EndpointSlice, Ingress, IngressClass, Namespace, NetworkPolicy, Node, Pod, Service,
} from '../api/types.ts';
import type { TraceStep } from '../nft/evaluate.ts';

export type Backend = 'host-gw' | 'vxlan';
export type ProxyMode = 'nftables' | 'iptables';
export type TraceProtocol = 'TCP' | 'UDP';

/** Everything the model knows about one cluster. Objects as the API serves them (defaulted, allocated). */
export interface ClusterSnapshot {
  /** The cluster's name: namespace and link names derive from it (fn-NAME-node-1, ...). */
  readonly name: string;
  readonly backend: Backend;
  /** The kube-proxy mode in force. The model always walks the nftables ruleset; see docs/trace.md. */
  readonly proxyMode: ProxyMode;
  /** The underlay subnet the nodes' eth0 sit on (172.31.S.0/24): .1 the host, .254 the external side. */
  readonly underlay: string;
  /** The cluster-wide pod CIDR. */
  readonly podCIDR: string;
  readonly serviceCIDR: string;
  /** The LoadBalancer address pool the external side routes to the nodes (ECMP). */
  readonly lbPool?: string;
  /** Default `cluster.local`. */
  readonly clusterDomain?: string;
  /** The DNS zone the lab's internet resolver serves (default `example.com`), answering the external address. */
  readonly externalZone?: string;
  /**
   * What listens in the external namespace, as `PROTO/port` (a live cluster reads its sockets). Default: the lab's
   * internet resolver only (`UDP/53`, `TCP/53`).
   */
  readonly externalListeners?: readonly string[];
  /** Search domains of the host's resolv.conf, appended to ClusterFirst pods' search path. */
  readonly hostSearches?: readonly string[];
  readonly nodes: readonly Node[];
  readonly pods: readonly Pod[];
  readonly services: readonly Service[];
  readonly endpointSlices: readonly EndpointSlice[];
  readonly namespaces: readonly Namespace[];
  readonly networkPolicies: readonly NetworkPolicy[];
  readonly ingresses?: readonly Ingress[];
  readonly ingressClasses?: readonly IngressClass[];
  /** Host-side veth name per pod uid, from the CNI results (live clusters); offline the name is symbolic. */
  readonly podVeths?: Readonly<Record<string, string>>;
}

/** Where a flow starts. */
export type TraceSource =
  | { readonly kind: 'pod'; readonly namespace: string; readonly name: string }
  | { readonly kind: 'node'; readonly name: string }
  | { readonly kind: 'external' };

/** Where a flow goes, as the user typed it. */
export type TraceTarget =
  /** A DNS name (`nginx-service`, `web.shop`, `example.com`) or a URL's host; resolved from the source. */
  | { readonly kind: 'name'; readonly host: string; readonly port?: number; readonly scheme?: 'http' | 'https'; readonly path?: string }
  | { readonly kind: 'ip'; readonly ip: string; readonly port?: number; readonly scheme?: 'http' | 'https'; readonly path?: string }
  | { readonly kind: 'pod'; readonly namespace: string; readonly name: string; readonly port?: number };

export interface FlowSpec {
  readonly from: TraceSource;
  readonly to: TraceTarget;
  /** Default TCP. */
  readonly protocol?: TraceProtocol;
  /** Default: the target's port, else 443 for https, else 80. */
  readonly port?: number;
  /** The source port the model uses (default 40000); the live trace reports the kernel's. */
  readonly sourcePort?: number;
  /**
   * Which Service endpoint the main path follows (an endpoint IP, or `ip:port`). Default: the first
   * endpoint in the order the proxier lists them. Every other choice is still listed with its probability.
   */
  readonly endpoint?: string;
  /** Which next hop an ECMP route takes (a node name); default the first. */
  readonly ecmpNode?: string;
  /** The HTTP Host header for a URL target (default the URL's host): what an Ingress routes on. */
  readonly httpHost?: string;
}

export interface Addr { readonly ip: string; readonly port?: number }

/** The packet as it is at one hop. */
export interface PacketView {
  readonly protocol: TraceProtocol;
  readonly src: Addr;
  readonly dst: Addr;
}

/** The outer headers of an encapsulated packet (VXLAN). */
export interface OuterHeaders {
  readonly src: string;
  readonly dst: string;
  readonly udpPort: number;
  readonly vni: number;
}

export type HopKind =
  /** One DNS question on the search path, and its answer. */
  | 'dns'
  /** The sending socket (a container process, a node process, the external host). */
  | 'socket'
  /** A routing decision in a namespace's main table. */
  | 'route'
  /** Crossing a veth pair (pod eth0 <-> vethXXXX on the node; node eth0 <-> the underlay switch port). */
  | 'veth'
  /** L2 forwarding on a bridge (cni0 between pods of one node; br0 on the underlay). */
  | 'bridge'
  /** One netfilter hook in one namespace: the base chains walked and the rules that matched. */
  | 'netfilter'
  /** The Service the packet hit and every endpoint it may pick. */
  | 'service'
  /** A NetworkPolicy decision (isolation, the allowing rule, or why none allowed). */
  | 'policy'
  | 'encap'
  | 'decap'
  /** The packet reaches its destination's socket. */
  | 'deliver'
  /** An L7 proxy (the Ingress controller) routes the HTTP request and opens a second connection. */
  | 'ingress'
  /** The packet ends here: dropped, rejected, unroutable. */
  | 'stop';

/** A netfilter rule hit, with enough to find it in `nft list ruleset`. */
export interface RuleHit {
  readonly family: string;
  readonly table: string;
  readonly chain: string;
  /** Index of the rule in its chain (0-based); -1 for a chain policy or an end of chain. */
  readonly index: number;
  /** The rule as nft prints it (rendered from the same typed object), or the policy. */
  readonly text: string;
  readonly comment?: string;
  readonly action: TraceStep['action'];
  readonly detail: string;
}

export interface NatView {
  readonly kind: 'dnat' | 'snat' | 'masquerade';
  readonly from: Addr;
  readonly to: Addr;
  /** `table/chain` that made the binding. */
  readonly by: string;
}

export interface EndpointChoice {
  /** `ip:port` */
  readonly endpoint: string;
  /** `namespace/name` of the pod holding the address, when one does. */
  readonly pod?: string;
  readonly node?: string;
  readonly probability: number;
  /** The outcome of the whole flow if the kernel picks this endpoint. */
  readonly outcome: Outcome;
  readonly chosen: boolean;
}

export interface ServiceHit {
  /** `namespace/name:port` (the port's name, or its number when unnamed). */
  readonly service: string;
  readonly type: string;
  /** Which address of the Service matched: clusterIP, nodePort, loadBalancer, externalIP. */
  readonly via: 'clusterIP' | 'nodePort' | 'loadBalancer' | 'externalIP';
  readonly choices: readonly EndpointChoice[];
  /** Session affinity (ClientIP) timeout in seconds, 0 when none. */
  readonly affinitySeconds: number;
  readonly trafficPolicy?: { readonly external?: 'Cluster' | 'Local'; readonly internal?: 'Cluster' | 'Local' };
}

export interface PolicyView {
  readonly direction: 'ingress' | 'egress';
  readonly pod: string;
  readonly isolated: boolean;
  readonly allowed: boolean;
  /** Policies selecting the pod for this direction. */
  readonly policies: readonly string[];
  /** `policy rule N` that allowed, when one did. */
  readonly allowedBy?: string;
  /** One line per policy saying why none of its rules allowed. */
  readonly reasons: readonly string[];
}

export interface IngressView {
  readonly host: string;
  readonly path: string;
  /** `namespace/name` of the Ingress that matched, and its rule (host + path + pathType), or the default backend. */
  readonly ingress?: string;
  readonly rule?: string;
  /** `namespace/service:port`. */
  readonly backend?: string;
  /** Ready endpoints of the backend the controller balances over (round-robin). */
  readonly endpoints: readonly string[];
  /** The HTTP status the controller answers with when it cannot forward (404, 308, 503), else undefined. */
  readonly status?: number;
  readonly reason: string;
}

export interface Hop {
  readonly kind: HopKind;
  /** Human place: `pod default/frontend-1`, `node node-2`, `external`, `underlay`. */
  readonly where: string;
  /** The Linux network namespace (fn-NAME-...), when the hop is in one. */
  readonly netns?: string;
  readonly inIf?: string;
  readonly outIf?: string;
  /** The packet after this hop. */
  readonly packet: PacketView;
  readonly outer?: OuterHeaders;
  /** One line for the table output. */
  readonly summary: string;
  readonly hook?: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
  readonly rules?: readonly RuleHit[];
  readonly nat?: readonly NatView[];
  readonly service?: ServiceHit;
  readonly policy?: PolicyView;
  /** The Ingress controller's decision for an HTTP request (kind 'ingress'). */
  readonly ingress?: IngressView;
  /** Equal-cost next hops of a multipath route (the external side's route to the LB pool), with the outcome of each. */
  readonly ecmp?: readonly { readonly node: string; readonly via: string; readonly outcome: Outcome; readonly chosen: boolean }[];
  readonly dns?: { readonly query: string; readonly rcode: string; readonly answers: readonly string[]; readonly server: string };
}

export type Outcome =
  /** Reached a socket listening on the port (a container port the pod declares). */
  | 'delivered'
  /** Reached the destination but nothing declares that port: the kernel answers RST / port unreachable. */
  | 'refused'
  /** A rule rejected it (kube-proxy's no-endpoints reject, an invalid ClusterIP port). */
  | 'rejected'
  /** A rule or policy dropped it: the client times out. */
  | 'dropped'
  /** No route to the destination. */
  | 'unreachable'
  /** The name did not resolve. */
  | 'unresolved';

export interface Verdict {
  readonly outcome: Outcome;
  readonly reason: string;
  /** The rule, policy or route that decided, when one did. */
  readonly decidedBy?: string;
}

export interface Trace {
  readonly flow: {
    readonly from: string;
    readonly to: string;
    readonly protocol: TraceProtocol;
    readonly port: number;
  };
  /** The address the flow was sent to (after DNS), when one was found. */
  readonly destination?: Addr;
  readonly hops: readonly Hop[];
  readonly verdict: Verdict;
  /** The way back for a delivered (or refused/rejected) flow: replies, with NAT undone by conntrack. */
  readonly reply: readonly Hop[];
  /**
   * For an HTTP(S) URL that reached an Ingress controller: whether the request reaches a backend, or which
   * status the controller answers itself (404 no rule, 308 HTTPS redirect, 503 no endpoints, 502/504 the
   * backend leg failed).
   */
  readonly http?: {
    /** The controller forwarded the request and the backend leg was delivered: the backend answers. */
    readonly forwarded: boolean;
    /** The status the controller answers with itself (404, 308, 503, 502, 504), when it does. */
    readonly status?: number;
    readonly reason: string;
  };
  /** Things the user should know (a symbolic veth name offline, iptables mode walked as nftables...). */
  readonly notes: readonly string[];
}

export type ModelErrorCode = 'InvalidFlow' | 'UnknownSource' | 'UnknownTarget' | 'InvalidSnapshot';

export class ModelError extends Error {
  readonly code: ModelErrorCode;
  constructor(code: ModelErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelError';
    this.code = code;
  }
}
