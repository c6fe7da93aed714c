// Per-kind write strategies, as kube-apiserver's registry strategies: what a create or update may set,
// what the server resets (status on the main resource, spec on the status subresource), when generation
// moves, and the system fields it owns. Pure: identities and clocks come in as arguments.
import type { ResourceInfo } from './resources.ts';
import type { KubeObject, ObjectMeta, Pod, Service } from './types.ts';

export interface CreateContext {
  uid: string;
  now: string; // RFC 3339, seconds precision
}

function clone<T>(v: T): T {
  return structuredCloneJson(v);
}

/** A JSON-only deep clone (objects here are always plain JSON). */
export function structuredCloneJson<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

const KINDS_WITH_STATUS_RESET_ON_CREATE = new Set(['Service', 'Deployment', 'ReplicaSet', 'DaemonSet', 'Ingress']);

/** Quality-of-service class as upstream computes it from requests and limits. */
export function podQosClass(pod: Pod): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  let anySet = false;
  let guaranteed = true;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const res of ['cpu', 'memory']) {
      if (req[res] !== undefined || lim[res] !== undefined) anySet = true;
      const l = lim[res];
      const r = req[res] ?? l;
      if (l === undefined || r !== l) guaranteed = false;
    }
  }
  if (!anySet) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** System metadata on create: uid, creationTimestamp, generation; user-set system fields are dropped. */
export function prepareForCreate(resource: ResourceInfo, input: KubeObject, ctx: CreateContext): KubeObject {
  const obj = clone(input);
  const meta: ObjectMeta = obj.metadata;
  meta.uid = ctx.uid;
  meta.creationTimestamp = ctx.now;
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  delete meta.resourceVersion;
  if (resource.hasGeneration) meta.generation = 1;
  else delete meta.generation;
  obj.apiVersion = resource.group === '' ? resource.version : `${resource.group}/${resource.version}`;
  obj.kind = resource.kind;
  if (KINDS_WITH_STATUS_RESET_ON_CREATE.has(resource.kind)) delete obj['status'];
  if (resource.kind === 'Pod') {
    const pod = obj as Pod;
    pod.status = { phase: 'Pending', qosClass: podQosClass(pod) };
  }
  return obj;
}

function specOf(obj: KubeObject): unknown {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

function jsonEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Merges an update into the live object as the strategy allows. `subresource` is undefined for the main
 * resource, 'status' for the status subresource. System metadata always comes from `old`.
 */
export function prepareForUpdate(resource: ResourceInfo, input: KubeObject, old: KubeObject, subresource: string | undefined): KubeObject {
  let obj = clone(input);
  const hasStatusSubresource = resource.subresources.includes('status');
  if (subresource === 'status') {
    // Only status changes: everything else comes from the live object.
    obj = { ...clone(old), status: obj['status'] } as KubeObject;
    if (obj['status'] === undefined) delete obj['status'];
  } else if (hasStatusSubresource && resource.kind !== 'Namespace') {
    if (old['status'] === undefined) delete obj['status'];
    else obj['status'] = clone(old['status']);
  } else if (resource.kind === 'Namespace') {
    // Namespace status (phase) is owned by the server.
    obj['status'] = clone(old['status']);
    obj['spec'] = clone(old['spec']);
  }
  const meta = obj.metadata;
  const oldMeta = old.metadata;
  meta.uid = oldMeta.uid;
  meta.creationTimestamp = oldMeta.creationTimestamp;
  meta.name = oldMeta.name;
  if (oldMeta.namespace !== undefined) meta.namespace = oldMeta.namespace;
  else delete meta.namespace;
  if (oldMeta.deletionTimestamp !== undefined) meta.deletionTimestamp = oldMeta.deletionTimestamp;
  else delete meta.deletionTimestamp;
  if (oldMeta.deletionGracePeriodSeconds !== undefined) meta.deletionGracePeriodSeconds = oldMeta.deletionGracePeriodSeconds;
  else delete meta.deletionGracePeriodSeconds;
  if (oldMeta.generateName !== undefined && meta.generateName === undefined) meta.generateName = oldMeta.generateName;
  obj.apiVersion = old.apiVersion;
  obj.kind = old.kind;
  if (resource.hasGeneration) {
    const gen = oldMeta.generation ?? 1;
    meta.generation = subresource === undefined && !jsonEqual(specOf(obj), specOf(old)) ? gen + 1 : gen;
  } else {
    delete meta.generation;
  }
  return obj;
}

/** Whether an update changed nothing but server-managed fields (then nothing is written, as upstream). */
export function isNoopUpdate(updated: KubeObject, old: KubeObject): boolean {
  const strip = (o: KubeObject) => {
    const c = clone(o);
    delete c.metadata.resourceVersion;
    delete c.metadata.managedFields;
    return c;
  };
  return jsonEqual(strip(updated), strip(old));
}

const NAME_SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** The 5-character random suffix upstream appends to generateName; `random` yields numbers in [0,1). */
export function generateNameSuffix(random: () => number): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += NAME_SUFFIX_ALPHABET[Math.floor(random() * NAME_SUFFIX_ALPHABET.length)] ?? 'x';
  return s;
}

const needsNodePorts = (svc: Service) => svc.spec?.type === 'NodePort' || svc.spec?.type === 'LoadBalancer';
const needsHealthCheckPort = (svc: Service) => svc.spec?.type === 'LoadBalancer' && svc.spec.externalTrafficPolicy === 'Local';

/**
 * When a Service's type changes, fields that only belonged to the old type go, as upstream's
 * dropTypeDependentFields does — but only those the user left untouched (a user who changes them in the
 * same update gets validation's answer instead).
 */
export function dropServiceTypeDependentFields(updated: Service, old: Service): Service {
  const spec = updated.spec;
  const oldSpec = old.spec;
  if (!spec || !oldSpec || spec.type === oldSpec.type) return updated;
  const out = structuredCloneJson(updated);
  const s = out.spec ?? {};
  const samePorts = JSON.stringify((spec.ports ?? []).map((p) => p.nodePort)) === JSON.stringify((oldSpec.ports ?? []).map((p) => p.nodePort));
  if (needsNodePorts(old) && !needsNodePorts(updated) && samePorts) for (const p of s.ports ?? []) delete p.nodePort;
  if (needsHealthCheckPort(old) && !needsHealthCheckPort(updated) && spec.healthCheckNodePort === oldSpec.healthCheckNodePort) delete s.healthCheckNodePort;
  if (oldSpec.type === 'LoadBalancer' && spec.type !== 'LoadBalancer') {
    if (spec.allocateLoadBalancerNodePorts === oldSpec.allocateLoadBalancerNodePorts) delete s.allocateLoadBalancerNodePorts;
    if (spec.loadBalancerClass === oldSpec.loadBalancerClass) delete s.loadBalancerClass;
  }
  if (!needsNodePorts(updated) && spec.externalTrafficPolicy === oldSpec.externalTrafficPolicy) delete s.externalTrafficPolicy;
  if (spec.type === 'ExternalName' && oldSpec.type !== 'ExternalName' && spec.clusterIP === oldSpec.clusterIP) {
    delete s.clusterIP;
    delete s.clusterIPs;
  }
  return out;
}
