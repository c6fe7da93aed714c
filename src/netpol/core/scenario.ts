// A cluster state from manifests, for `flatnet matrix` and tests: objects as parsed from YAML/JSON
// (Namespaces, Pods, Deployments/ReplicaSets/StatefulSets expanded into pods, NetworkPolicies, Lists of them),
// defaulted as flatnet's API server defaults them, NetworkPolicies validated as it validates them, absent
// namespaces created, and pods without an IP given one deterministically. Pure.
import { fieldErrorMessage } from '../../api/errors.ts';
import { applyDefaults } from '../../api/defaults/index.ts';
import type { KubeObject, Namespace, NetworkPolicy, Pod, PodTemplateSpec } from '../../api/types.ts';
import { validateCreate } from '../../api/validation/index.ts';
import { formatIPv4, nthAddress, parseCidr, cidrSize } from '../../net/ipv4.ts';
import { NAMESPACE_NAME_LABEL, NetpolError, type ClusterState } from './model.ts';

/** Where pods without `status.podIP` get their address. */
export const DEFAULT_SCENARIO_POD_CIDR = '10.244.0.0/16';
/** The first address handed out is the network address plus this (10.244.0.2 in the default block). */
export const FIRST_POD_IP_OFFSET = 2;

const WORKLOAD_KINDS = new Set(['Deployment', 'ReplicaSet', 'StatefulSet']);

export interface ScenarioOptions {
  podCIDR?: string;
}

export interface Scenario {
  state: ClusterState;
  /** Pods that got an address from podCIDR, in assignment order. */
  assignedIPs: { pod: string; ip: string }[];
  /** Namespaces created because something referenced them. */
  createdNamespaces: string[];
  /** Objects skipped (kinds that do not affect policy), as `Kind namespace/name`. */
  ignored: string[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function asObject(doc: unknown, where: string): KubeObject {
  if (!isRecord(doc) || typeof doc['kind'] !== 'string') throw new NetpolError('InvalidManifest', `${where}: not a Kubernetes object (no kind)`);
  const metadata = isRecord(doc['metadata']) ? doc['metadata'] : {};
  return { ...doc, metadata } as KubeObject;
}

function flatten(objects: readonly unknown[]): KubeObject[] {
  const out: KubeObject[] = [];
  objects.forEach((doc, i) => {
    if (doc === null || doc === undefined) return;
    const obj = asObject(doc, `object ${i}`);
    if (obj.kind === 'List' || (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj['items']))) {
      const items = Array.isArray(obj['items']) ? (obj['items'] as unknown[]) : [];
      items.forEach((item, j) => out.push(asObject(item, `object ${i} item ${j}`)));
    } else {
      out.push(obj);
    }
  });
  return out;
}

function namespaced(obj: KubeObject): KubeObject {
  return { ...obj, metadata: { ...obj.metadata, namespace: obj.metadata.namespace || 'default' } };
}

function expandWorkload(obj: KubeObject): Pod[] {
  const defaulted = applyDefaults(obj.kind ?? '', namespaced(obj));
  const spec = isRecord(defaulted['spec']) ? defaulted['spec'] : {};
  const replicas = typeof spec['replicas'] === 'number' ? spec['replicas'] : 1;
  const template: PodTemplateSpec = isRecord(spec['template']) ? (spec['template'] as PodTemplateSpec) : {};
  const pods: Pod[] = [];
  for (let n = 0; n < replicas; n++) {
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${defaulted.metadata.name ?? ''}-${n}`,
        namespace: defaulted.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}) },
      },
      spec: template.spec ?? { containers: [] },
    };
    pods.push(applyDefaults('Pod', pod) as Pod);
  }
  return pods;
}

function keyOf(obj: KubeObject): string {
  return `${obj.metadata.namespace || 'default'}/${obj.metadata.name ?? ''}`;
}

/** Builds the cluster state the manifests describe. Throws NetpolError for invalid or duplicate objects. */
export function scenarioFromObjects(objects: readonly unknown[], options: ScenarioOptions = {}): Scenario {
  const namespaces = new Map<string, Namespace>();
  const pods = new Map<string, Pod>();
  const policies = new Map<string, NetworkPolicy>();
  const ignored: string[] = [];
  const addPod = (pod: Pod, origin: string): void => {
    const key = keyOf(pod);
    if (pods.has(key)) throw new NetpolError('DuplicateObject', `pod ${key} (from ${origin}) is defined twice`);
    pods.set(key, pod);
  };
  for (const obj of flatten(objects)) {
    const kind = obj.kind ?? '';
    if (kind === 'Namespace') {
      const ns = applyDefaults('Namespace', obj) as Namespace;
      const name = ns.metadata.name ?? '';
      if (namespaces.has(name)) throw new NetpolError('DuplicateObject', `namespace ${name} is defined twice`);
      ns.metadata.labels = { ...(ns.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: name };
      namespaces.set(name, ns);
    } else if (kind === 'Pod') {
      addPod(applyDefaults('Pod', namespaced(obj)) as Pod, `Pod ${keyOf(obj)}`);
    } else if (WORKLOAD_KINDS.has(kind)) {
      for (const pod of expandWorkload(obj)) addPod(pod, `${kind} ${keyOf(obj)}`);
    } else if (kind === 'NetworkPolicy') {
      const np = applyDefaults('NetworkPolicy', namespaced(obj)) as NetworkPolicy;
      const errs = validateCreate('NetworkPolicy', np);
      if (errs.length > 0) {
        throw new NetpolError('InvalidManifest', `NetworkPolicy ${keyOf(np)} is invalid: ${errs.map(fieldErrorMessage).join(', ')}`);
      }
      if (policies.has(keyOf(np))) throw new NetpolError('DuplicateObject', `NetworkPolicy ${keyOf(np)} is defined twice`);
      policies.set(keyOf(np), np);
    } else {
      ignored.push(`${kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name ?? ''}`);
    }
  }
  const createdNamespaces: string[] = [];
  const referenced = [...pods.values(), ...policies.values()].map((o) => o.metadata.namespace || 'default');
  for (const name of [...new Set(referenced)].sort(compareStrings)) {
    if (namespaces.has(name)) continue;
    namespaces.set(name, applyDefaults('Namespace', {
      apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { [NAMESPACE_NAME_LABEL]: name } },
    }) as Namespace);
    createdNamespaces.push(name);
  }
  const assignedIPs = assignPodIPs([...pods.values()], options.podCIDR ?? DEFAULT_SCENARIO_POD_CIDR);
  return {
    state: { namespaces: [...namespaces.values()], pods: [...pods.values()], policies: [...policies.values()] },
    assignedIPs,
    createdNamespaces,
    ignored,
  };
}

/**
 * Gives every pod without status.podIP(s) an address, mutating it: pods in (namespace, name) order take the
 * free addresses of `podCIDR` from network+FIRST_POD_IP_OFFSET upwards, skipping any address a manifest
 * already gave a pod. The same manifests always give the same addresses.
 */
function assignPodIPs(pods: Pod[], podCIDR: string): { pod: string; ip: string }[] {
  let cidr;
  try {
    cidr = parseCidr(podCIDR);
  } catch (e) {
    throw new NetpolError('InvalidAddress', `pod CIDR ${podCIDR}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const used = new Set<string>();
  const missing: Pod[] = [];
  for (const pod of pods) {
    const status = isRecord(pod.status) ? pod.status : undefined;
    const ips = [
      ...(Array.isArray(status?.podIPs) ? status.podIPs.map((p) => (isRecord(p) ? String(p.ip ?? '') : '')) : []),
      typeof status?.podIP === 'string' ? status.podIP : '',
    ].filter((s) => s !== '');
    if (ips.length === 0) missing.push(pod);
    for (const ip of ips) used.add(ip);
  }
  missing.sort((a, b) => compareStrings(keyOf(a), keyOf(b)));
  const out: { pod: string; ip: string }[] = [];
  let next = FIRST_POD_IP_OFFSET;
  const size = cidrSize(cidr);
  for (const pod of missing) {
    let ip = '';
    for (; next < size - 1; next++) {
      const candidate = formatIPv4(nthAddress(cidr, next));
      if (!used.has(candidate)) {
        ip = candidate;
        next++;
        break;
      }
    }
    if (ip === '') throw new NetpolError('InvalidAddress', `pod CIDR ${podCIDR} has no free address left for ${keyOf(pod)}`);
    used.add(ip);
    pod.status = { ...(isRecord(pod.status) ? pod.status : {}), podIP: ip, podIPs: [{ ip }] };
    out.push({ pod: keyOf(pod), ip });
  }
  return out;
}
