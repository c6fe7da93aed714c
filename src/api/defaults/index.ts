// Defaulting of the served kinds, as kube-apiserver applies it on create and update: the SetDefaults_*
// functions of the core, apps, networking and discovery v1 APIs, the field syncing the registry strategies
// do (Service clusterIP/clusterIPs and IP families, Namespace finalizers, Secret stringData), and the
// defaults of the admission plugins flatnet emulates for Pods (ServiceAccount, DefaultTolerationSeconds,
// Priority). Returns a new object; the input is never mutated. Pure.
import type {
  Container, DaemonSet, Deployment, EndpointSlice, Endpoints, Ingress, IngressClass, KubeObject, Namespace, NetworkPolicy, Node, Pod, PodSpec,
  PodTemplateSpec, Probe, ProbeHandler, ReplicaSet, Secret, Service, Toleration,
} from '../types.ts';

export const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30;
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';
export const DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800;
export const DEFAULT_TOLERATION_SECONDS = 300;
export const TERMINATION_MESSAGE_PATH = '/dev/termination-log';
/** 0644, the default mode of secret and configMap volumes. */
export const DEFAULT_VOLUME_MODE = 420;
const SYSTEM_PRIORITIES: Record<string, number> = { 'system-node-critical': 2000001000, 'system-cluster-critical': 2000000000 };

function isObject<T extends object>(v: T | null | undefined): v is T;
function isObject(v: unknown): v is Record<string, unknown>;
function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function arr<T>(v: T[] | null | undefined): T[] {
  return Array.isArray(v) ? v : [];
}

/** The image's tag as the kubelet's image-name parser reads it: "latest" when neither tag nor digest is given. */
export function imageTag(image: string): string {
  const at = image.indexOf('@');
  const withoutDigest = at >= 0 ? image.slice(0, at) : image;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const lastPart = withoutDigest.slice(lastSlash + 1);
  const colon = lastPart.lastIndexOf(':');
  if (colon >= 0) return lastPart.slice(colon + 1);
  return at >= 0 ? '' : 'latest';
}

function defaultHandler(h: ProbeHandler | undefined): void {
  if (!isObject(h) || !isObject(h.httpGet)) return;
  if (!h.httpGet.path) h.httpGet.path = '/';
  if (!h.httpGet.scheme) h.httpGet.scheme = 'HTTP';
}

function defaultProbe(p: Probe | undefined): void {
  if (!isObject(p)) return;
  defaultHandler(p);
  if (!p.timeoutSeconds) p.timeoutSeconds = 1;
  if (!p.periodSeconds) p.periodSeconds = 10;
  if (!p.successThreshold) p.successThreshold = 1;
  if (!p.failureThreshold) p.failureThreshold = 3;
}

function defaultContainer(c: Container): void {
  if (!isObject(c)) return;
  if (!c.imagePullPolicy) c.imagePullPolicy = imageTag(c.image ?? '') === 'latest' ? 'Always' : 'IfNotPresent';
  if (!c.terminationMessagePath) c.terminationMessagePath = TERMINATION_MESSAGE_PATH;
  if (!c.terminationMessagePolicy) c.terminationMessagePolicy = 'File';
  for (const port of arr(c.ports)) if (isObject(port) && !port.protocol) port.protocol = 'TCP';
  for (const ev of arr(c.env)) {
    const ref = ev?.valueFrom?.fieldRef;
    if (isObject(ref) && !ref.apiVersion) ref.apiVersion = 'v1';
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  if (isObject(c.lifecycle)) {
    defaultHandler(c.lifecycle.postStart);
    defaultHandler(c.lifecycle.preStop);
  }
}

/** SetDefaults_PodSpec plus the defaults of everything a PodSpec contains (containers, probes, volumes). */
function defaultPodSpec(spec: PodSpec): void {
  if (!spec.dnsPolicy) spec.dnsPolicy = 'ClusterFirst';
  if (!spec.restartPolicy) spec.restartPolicy = 'Always';
  if (!isObject(spec.securityContext)) spec.securityContext = {};
  if (spec.terminationGracePeriodSeconds === undefined || spec.terminationGracePeriodSeconds === null) {
    spec.terminationGracePeriodSeconds = DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS;
  }
  if (!spec.schedulerName) spec.schedulerName = DEFAULT_SCHEDULER_NAME;
  for (const c of arr(spec.containers)) defaultContainer(c);
  for (const c of arr(spec.initContainers)) defaultContainer(c);
  for (const vol of arr(spec.volumes)) {
    if (!isObject(vol)) continue;
    const sources = Object.keys(vol).filter((k) => k !== 'name' && vol[k] !== undefined && vol[k] !== null);
    if (sources.length === 0) vol.emptyDir = {};
    if (isObject(vol.secret) && vol.secret.defaultMode === undefined) vol.secret.defaultMode = DEFAULT_VOLUME_MODE;
    if (isObject(vol.configMap) && vol.configMap.defaultMode === undefined) vol.configMap.defaultMode = DEFAULT_VOLUME_MODE;
    if (isObject(vol.hostPath) && vol.hostPath.type === undefined) vol.hostPath.type = '';
    for (const k of ['downwardAPI', 'projected'] as const) {
      const src = vol[k];
      if (isObject(src) && src['defaultMode'] === undefined) src['defaultMode'] = DEFAULT_VOLUME_MODE;
    }
  }
}

function defaultPodTemplate(tpl: PodTemplateSpec | undefined): void {
  if (isObject(tpl) && isObject(tpl.spec)) defaultPodSpec(tpl.spec);
}

/** Whether a toleration list already tolerates `key:NoExecute` with an empty value. */
function tolerates(tolerations: readonly Toleration[], key: string): boolean {
  return tolerations.some((t) => {
    if (!isObject(t)) return false;
    if (t.effect && t.effect !== 'NoExecute') return false;
    if (!t.key) return t.operator === 'Exists';
    if (t.key !== key) return false;
    return t.operator === 'Exists' || !t.value;
  });
}

function defaultPod(pod: Pod, create: boolean): void {
  if (!isObject(pod.spec)) return;
  const spec = pod.spec;
  defaultPodSpec(spec);
  // SetDefaults_Pod: requests default to limits; service links on; host-network ports mirror container ports.
  for (const c of [...arr(spec.containers), ...arr(spec.initContainers)]) {
    const res = c?.resources;
    if (!isObject(res) || !isObject(res.limits)) continue;
    res.requests = { ...res.limits, ...(isObject(res.requests) ? res.requests : {}) };
  }
  if (spec.enableServiceLinks === undefined || spec.enableServiceLinks === null) spec.enableServiceLinks = true;
  if (spec.hostNetwork === true) {
    for (const c of [...arr(spec.containers), ...arr(spec.initContainers)]) {
      for (const port of arr(c?.ports)) if (isObject(port) && !port.hostPort) port.hostPort = port.containerPort;
    }
  }
  if (!create) return;
  // Admission plugins run on create only.
  // ServiceAccount admission: the namespace's "default" account (the deprecated field mirrors it on output).
  if (!spec.serviceAccountName) spec.serviceAccountName = spec.serviceAccount || 'default';
  spec.serviceAccount = spec.serviceAccountName;
  // DefaultTolerationSeconds admission.
  const tolerations = arr(spec.tolerations);
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tolerates(tolerations, key)) {
      tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: DEFAULT_TOLERATION_SECONDS });
    }
  }
  spec.tolerations = tolerations;
  // Priority admission: built-in classes, otherwise priority 0; preemption defaults to PreemptLowerPriority.
  if (spec.priority === undefined || spec.priority === null) spec.priority = SYSTEM_PRIORITIES[spec.priorityClassName ?? ''] ?? 0;
  if (!spec.preemptionPolicy) spec.preemptionPolicy = 'PreemptLowerPriority';
}

function defaultService(svc: Service): void {
  if (!isObject(svc.spec)) svc.spec = {};
  const spec = svc.spec;
  if (!spec.sessionAffinity) spec.sessionAffinity = 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP' && typeof spec.sessionAffinityConfig?.clientIP?.timeoutSeconds !== 'number') {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: DEFAULT_CLIENT_IP_AFFINITY_SECONDS } };
  }
  if (!spec.type) spec.type = 'ClusterIP';
  for (const port of arr(spec.ports)) {
    if (!isObject(port)) continue;
    if (!port.protocol) port.protocol = 'TCP';
    if (port.targetPort === undefined || port.targetPort === null || port.targetPort === 0 || port.targetPort === '') port.targetPort = port.port;
  }
  const externallyAccessible = spec.type === 'LoadBalancer' || spec.type === 'NodePort' || (spec.type === 'ClusterIP' && arr(spec.externalIPs).length > 0);
  if (externallyAccessible && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
  if (!spec.internalTrafficPolicy && (spec.type === 'ClusterIP' || spec.type === 'NodePort' || spec.type === 'LoadBalancer')) {
    spec.internalTrafficPolicy = 'Cluster';
  }
  if (spec.type === 'LoadBalancer' && (spec.allocateLoadBalancerNodePorts === undefined || spec.allocateLoadBalancerNodePorts === null)) {
    spec.allocateLoadBalancerNodePorts = true;
  }
  if (spec.type === 'LoadBalancer' && isObject(svc.status) && isObject(svc.status.loadBalancer)) {
    for (const ing of arr(svc.status.loadBalancer.ingress)) if (isObject(ing) && ing.ip && !ing.ipMode) ing.ipMode = 'VIP';
  }
  if (spec.type !== 'ExternalName') {
    // The strategy keeps clusterIP and clusterIPs in step; the allocator picks single-stack IPv4 families.
    const ips = arr(spec.clusterIPs);
    if (spec.clusterIP && ips.length === 0) spec.clusterIPs = [spec.clusterIP];
    else if (!spec.clusterIP && ips.length > 0 && ips[0]) spec.clusterIP = ips[0];
    if (!spec.ipFamilyPolicy) spec.ipFamilyPolicy = 'SingleStack';
    if (arr(spec.ipFamilies).length === 0) {
      const first = spec.clusterIP && spec.clusterIP !== 'None' ? spec.clusterIP : '';
      spec.ipFamilies = [first.includes(':') ? 'IPv6' : 'IPv4'];
    }
  }
}

function defaultDeployment(d: Deployment): void {
  if (!isObject(d.spec)) return;
  const spec = d.spec;
  if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
  if (!isObject(spec.strategy)) spec.strategy = {};
  const strategy = spec.strategy;
  if (!strategy.type) strategy.type = 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    if (!isObject(strategy.rollingUpdate)) strategy.rollingUpdate = {};
    if (strategy.rollingUpdate.maxUnavailable === undefined || strategy.rollingUpdate.maxUnavailable === null) strategy.rollingUpdate.maxUnavailable = '25%';
    if (strategy.rollingUpdate.maxSurge === undefined || strategy.rollingUpdate.maxSurge === null) strategy.rollingUpdate.maxSurge = '25%';
  }
  if (spec.revisionHistoryLimit === undefined || spec.revisionHistoryLimit === null) spec.revisionHistoryLimit = 10;
  if (spec.progressDeadlineSeconds === undefined || spec.progressDeadlineSeconds === null) spec.progressDeadlineSeconds = 600;
  defaultPodTemplate(spec.template);
}

function defaultReplicaSet(rs: ReplicaSet): void {
  if (!isObject(rs.spec)) return;
  if (rs.spec.replicas === undefined || rs.spec.replicas === null) rs.spec.replicas = 1;
  defaultPodTemplate(rs.spec.template);
}

function defaultDaemonSet(ds: DaemonSet): void {
  if (!isObject(ds.spec)) return;
  const spec = ds.spec;
  if (!isObject(spec.updateStrategy)) spec.updateStrategy = {};
  const us = spec.updateStrategy;
  if (!us.type) us.type = 'RollingUpdate';
  if (us.type === 'RollingUpdate') {
    if (!isObject(us.rollingUpdate)) us.rollingUpdate = {};
    if (us.rollingUpdate.maxUnavailable === undefined || us.rollingUpdate.maxUnavailable === null) us.rollingUpdate.maxUnavailable = 1;
    if (us.rollingUpdate.maxSurge === undefined || us.rollingUpdate.maxSurge === null) us.rollingUpdate.maxSurge = 0;
  }
  if (spec.revisionHistoryLimit === undefined || spec.revisionHistoryLimit === null) spec.revisionHistoryLimit = 10;
  defaultPodTemplate(spec.template);
}

function defaultNamespace(ns: Namespace, create: boolean): void {
  const name = ns.metadata.name;
  if (name) ns.metadata.labels = { ...(isObject(ns.metadata.labels) ? ns.metadata.labels : {}), 'kubernetes.io/metadata.name': name };
  if (isObject(ns.status) && !ns.status.phase) ns.status.phase = 'Active';
  if (!create) return;
  // The strategy's create-time rules: phase Active, and the "kubernetes" finalizer (which may later be removed).
  ns.status = { ...(isObject(ns.status) ? ns.status : {}), phase: 'Active' };
  if (!isObject(ns.spec)) ns.spec = {};
  const finalizers = arr(ns.spec.finalizers);
  if (!finalizers.includes('kubernetes')) ns.spec.finalizers = [...finalizers, 'kubernetes'];
}

function defaultNetworkPolicy(np: NetworkPolicy): void {
  if (!isObject(np.spec)) return;
  const spec = np.spec;
  for (const rule of [...arr(spec.ingress), ...arr(spec.egress)]) {
    for (const port of arr(rule?.ports)) if (isObject(port) && !port.protocol) port.protocol = 'TCP';
  }
  if (arr(spec.policyTypes).length === 0) {
    spec.policyTypes = arr(spec.egress).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  }
}

function defaultEndpointSlice(es: EndpointSlice): void {
  for (const port of arr(es.ports)) {
    if (!isObject(port)) continue;
    if (port.name === undefined || port.name === null) port.name = '';
    if (!port.protocol) port.protocol = 'TCP';
  }
}

function defaultEndpoints(ep: Endpoints): void {
  for (const ss of arr(ep.subsets)) for (const port of arr(ss?.ports)) if (isObject(port) && !port.protocol) port.protocol = 'TCP';
}

/** UTF-8 bytes of `s`, base64-encoded. */
function base64Utf8(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

function defaultSecret(secret: Secret): void {
  if (!secret.type) secret.type = 'Opaque';
  if (isObject(secret.stringData)) {
    const data: Record<string, string> = isObject(secret.data) ? { ...secret.data } : {};
    for (const [k, v] of Object.entries(secret.stringData)) data[k] = base64Utf8(typeof v === 'string' ? v : String(v));
    secret.data = data;
  }
  delete secret.stringData;
}

function defaultNode(node: Node): void {
  const status = node.status;
  if (isObject(status) && isObject(status.capacity) && !isObject(status.allocatable)) status.allocatable = { ...status.capacity };
}

function defaultIngressClass(ic: IngressClass): void {
  const params = ic.spec?.parameters;
  if (isObject(params) && !params.scope) params.scope = 'Cluster';
}

export interface DefaultsOptions {
  /**
   * 'create' (the default) also applies what upstream does only when an object is created: the Pod admission
   * plugins (service account, default tolerations, priority) and the Namespace finalizer and phase.
   */
  operation?: 'create' | 'update';
}

/**
 * The object as stored after defaulting: a deep copy of `obj` with every upstream default of `kind` filled
 * in. Unknown kinds come back copied but unchanged.
 */
export function applyDefaults(kind: string, obj: KubeObject, options: DefaultsOptions = {}): KubeObject {
  const create = (options.operation ?? 'create') === 'create';
  const out = JSON.parse(JSON.stringify(obj)) as KubeObject;
  if (!isObject(out.metadata)) out.metadata = {};
  switch (kind) {
    case 'Pod': defaultPod(out as Pod, create); break;
    case 'Service': defaultService(out as Service); break;
    case 'Deployment': defaultDeployment(out as Deployment); break;
    case 'ReplicaSet': defaultReplicaSet(out as ReplicaSet); break;
    case 'DaemonSet': defaultDaemonSet(out as DaemonSet); break;
    case 'Namespace': defaultNamespace(out as Namespace, create); break;
    case 'NetworkPolicy': defaultNetworkPolicy(out as NetworkPolicy); break;
    case 'EndpointSlice': defaultEndpointSlice(out as EndpointSlice); break;
    case 'Endpoints': defaultEndpoints(out as Endpoints); break;
    case 'Secret': defaultSecret(out as Secret); break;
    case 'Node': defaultNode(out as Node); break;
    case 'IngressClass': defaultIngressClass(out as IngressClass); break;
    case 'Ingress': defaultIngress(out as Ingress); break;
    default: break; // ConfigMap, Event, ServiceAccount: no defaults that show on the wire.
  }
  return out;
}

/** networking.k8s.io/v1 Ingress has no defaults (pathType is required, not defaulted). */
function defaultIngress(_ing: Ingress): void {}
