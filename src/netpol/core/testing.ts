// Builders for the network-policy tests: namespaces, pods and policies in a few words, and the upstream
// conformance topology (namespaces x, y, z; pods a, b, c; ports 80 and 81 on TCP and UDP). Pure.
import type { LabelSelector, Namespace, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, Pod, Protocol } from '../../api/types.ts';
import type { ClusterState } from './model.ts';

export function ns(name: string, labels: Record<string, string> = {}): Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export interface PodSpecLite {
  labels?: Record<string, string>;
  ip?: string;
  ports?: { name?: string; port: number; protocol?: Protocol }[];
}

/** A pod `namespace/name` with labels, an IP and container ports. */
export function pod(key: string, spec: PodSpecLite = {}): Pod {
  const [namespace, name] = key.split('/');
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: name ?? '', namespace: namespace ?? 'default', labels: spec.labels ?? {} },
    spec: {
      containers: [{
        name: 'c',
        image: 'img',
        ports: (spec.ports ?? []).map((p) => ({
          containerPort: p.port, protocol: p.protocol ?? 'TCP', ...(p.name === undefined ? {} : { name: p.name }),
        })),
      }],
    },
    ...(spec.ip === undefined ? {} : { status: { podIP: spec.ip, podIPs: [{ ip: spec.ip }] } }),
  };
}

export interface PolicySpecLite {
  podSelector?: LabelSelector;
  policyTypes?: ('Ingress' | 'Egress')[];
  ingress?: NetworkPolicyIngressRule[];
  egress?: NetworkPolicyEgressRule[];
}

/** A NetworkPolicy `namespace/name`; policyTypes left out stay out (the model defaults them). */
export function policy(key: string, spec: PolicySpecLite): NetworkPolicy {
  const [namespace, name] = key.split('/');
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: name ?? '', namespace: namespace ?? 'default' },
    spec: {
      podSelector: spec.podSelector ?? {},
      ...(spec.policyTypes ? { policyTypes: spec.policyTypes } : {}),
      ...(spec.ingress ? { ingress: spec.ingress } : {}),
      ...(spec.egress ? { egress: spec.egress } : {}),
    },
  };
}

export const CONFORMANCE_NAMESPACES = ['x', 'y', 'z'] as const;
export const CONFORMANCE_PODS = ['a', 'b', 'c'] as const;

/** `x/a` .. `z/c` in row-major order (the order PolicyModel.pods sorts them in). */
export const CONFORMANCE_KEYS: readonly string[] = CONFORMANCE_NAMESPACES.flatMap((n) => CONFORMANCE_PODS.map((p) => `${n}/${p}`));

/** The IP of a conformance pod: 10.0.<namespace 1..3>.<pod 1..3>. */
export function conformanceIP(key: string): string {
  const [n, p] = key.split('/');
  return `10.0.${CONFORMANCE_NAMESPACES.indexOf(n as 'x') + 1}.${CONFORMANCE_PODS.indexOf(p as 'a') + 1}`;
}

/**
 * Upstream's netpol e2e topology: namespaces x, y, z labelled ns=<name>; pods a, b, c in each labelled
 * pod=<name>; every pod serving 80 and 81 on TCP and UDP, the ports named serve-<port>-<tcp|udp>.
 */
export function conformanceCluster(policies: NetworkPolicy[]): ClusterState {
  return {
    namespaces: CONFORMANCE_NAMESPACES.map((n) => ns(n, { ns: n })),
    pods: CONFORMANCE_KEYS.map((key) => pod(key, {
      labels: { pod: key.split('/')[1] ?? '' },
      ip: conformanceIP(key),
      ports: [80, 81].flatMap((port) => (['TCP', 'UDP'] as const).map((protocol) => ({
        name: `serve-${port}-${protocol.toLowerCase()}`, port, protocol,
      }))),
    })),
    policies,
  };
}
