import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults } from '../defaults/index.ts';
import { fieldErrorMessage, type FieldError, type FieldErrorType } from '../errors.ts';
import type { KubeObject } from '../types.ts';
import { validateCreate, validateUpdate } from './index.ts';

// Objects are written as a client would send them; the test defaults them (as the server does) before
// validating, so the expectations are about the stored shape.

type Want = [FieldErrorType, string][];

/** A patch: field path (upstream notation, `data[a/b]` for keys) -> new value, or DEL to remove the field. */
type Patch = Record<string, unknown>;
const DEL = Symbol('delete');

function isContainer(v: unknown): v is Record<string, unknown> | unknown[] {
  return typeof v === 'object' && v !== null;
}

function setPath(root: unknown, path: string, value: unknown): void {
  const tokens = [...path.matchAll(/([^.[\]]+)|\[([^\]]*)\]/g)].map((m) => m[1] ?? m[2] ?? '');
  let cur: unknown = root;
  tokens.forEach((tok, i) => {
    if (!isContainer(cur)) throw new Error(`cannot walk into ${path} at ${tok}`);
    const container: Record<string, unknown> = cur as Record<string, unknown>;
    if (i === tokens.length - 1) {
      if (value !== DEL) container[tok] = value;
      else if (Array.isArray(cur)) cur.splice(Number(tok), 1);
      else delete container[tok];
      return;
    }
    if (!isContainer(container[tok])) container[tok] = /^\d+$/.test(tokens[i + 1] ?? '') ? [] : {};
    cur = container[tok];
  });
}

/** A deep copy of `base` with `patch` applied. */
function mk(base: KubeObject, patch: Patch = {}): KubeObject {
  const o = JSON.parse(JSON.stringify(base)) as KubeObject;
  for (const [path, value] of Object.entries(patch)) setPath(o, path, value);
  return o;
}

function shape(errs: FieldError[]): string[] {
  return errs.map((e) => `${e.type} ${e.field}`).sort();
}

function want(w: Want): string[] {
  return w.map(([t, f]) => `${t} ${f}`).sort();
}

const R = 'FieldValueRequired';
const I = 'FieldValueInvalid';
const NS = 'FieldValueNotSupported';
const D = 'FieldValueDuplicate';
const F = 'FieldValueForbidden';
const TL = 'FieldValueTooLong';
const TM = 'FieldValueTooMany';
const NF = 'FieldValueNotFound';

// ------------------------------------------------------------------------------------------- fixtures

const pod: KubeObject = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
  spec: { containers: [{ name: 'web', image: 'nginx:1.25', ports: [{ name: 'http', containerPort: 80 }] }] },
};

const svc: KubeObject = {
  apiVersion: 'v1', kind: 'Service',
  metadata: { name: 'web', namespace: 'default' },
  spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] },
};

const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] } };
const deploy: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } }, template } };
const rs: KubeObject = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-1', namespace: 'default' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template } };
const ds: KubeObject = { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } }, template } };

const slice: KubeObject = {
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
  metadata: { name: 'web-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
  addressType: 'IPv4',
  endpoints: [{ addresses: ['10.244.1.5'], conditions: { ready: true }, nodeName: 'node-1' }],
  ports: [{ name: 'http', port: 80 }],
};

const endpoints: KubeObject = {
  apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'default' },
  subsets: [{ addresses: [{ ip: '10.244.1.5', nodeName: 'node-1' }], ports: [{ port: 80 }] }],
};

const netpol: KubeObject = {
  apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'allow', namespace: 'default' },
  spec: {
    podSelector: { matchLabels: { app: 'web' } },
    ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }, { namespaceSelector: {}, podSelector: { matchLabels: { role: 'fe' } } }], ports: [{ port: 8000, endPort: 9000 }, { port: 'http' }] }],
    egress: [{ to: [{ podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['db'] }] } }] }],
  },
};

const ingress: KubeObject = {
  apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: 'default' },
  spec: {
    ingressClassName: 'flatnet',
    tls: [{ hosts: ['*.example.com'], secretName: 'tls' }],
    rules: [{ host: '*.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }, { path: '/api', pathType: 'Exact', backend: { service: { name: 'api', port: { name: 'http' } } } }] } }],
  },
};

const ingressClass: KubeObject = { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'flatnet' }, spec: { controller: 'flatnet.dev/ingress' } };
const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, data: { 'app.conf': 'x=1', KEY_NAME: 'v' }, binaryData: { 'blob.bin': 'AAEC' } };
const secret: KubeObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tls', namespace: 'default' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'Y2VydA==', 'tls.key': 'a2V5' } };
const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } };
const node: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'], taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] } };
const event: KubeObject = {
  apiVersion: 'v1', kind: 'Event', metadata: { name: 'web.17a', namespace: 'default' },
  involvedObject: { kind: 'Pod', namespace: 'default', name: 'web' }, reason: 'Started', message: 'Started container', type: 'Normal', count: 1,
};
const sa: KubeObject = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'builder', namespace: 'default' } };

// -------------------------------------------------------------------------------------- create cases

interface CreateCase { name: string; kind: string; obj: KubeObject; want: Want }

const create: CreateCase[] = [
  // Pod
  { name: 'a minimal pod is valid', kind: 'Pod', obj: pod, want: [] },
  { name: 'a pod named only by generateName is valid', kind: 'Pod', obj: mk(pod, { 'metadata.name': DEL, 'metadata.generateName': 'web-' }), want: [] },
  { name: 'a pod with a configMap volume mounted, env from a secret and dnsPolicy None with nameservers is valid', kind: 'Pod', obj: mk(pod, {
    'spec.volumes': [{ name: 'cfg', configMap: { name: 'cfg' } }],
    'spec.containers[0].volumeMounts': [{ name: 'cfg', mountPath: '/etc/cfg' }],
    'spec.containers[0].env': [{ name: 'PASS', valueFrom: { secretKeyRef: { name: 's', key: 'pass' } } }, { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
    'spec.dnsPolicy': 'None',
    'spec.dnsConfig': { nameservers: ['10.96.0.10'], searches: ['svc.cluster.local'] },
  }), want: [] },
  { name: 'a pod with a bad name is rejected at metadata.name', kind: 'Pod', obj: mk(pod, { 'metadata.name': 'Web_1' }), want: [[I, 'metadata.name']] },
  { name: 'a pod without name or generateName needs a name', kind: 'Pod', obj: mk(pod, { 'metadata.name': DEL }), want: [[R, 'metadata.name']] },
  { name: 'a pod without a namespace needs one', kind: 'Pod', obj: mk(pod, { 'metadata.namespace': DEL }), want: [[R, 'metadata.namespace']] },
  { name: 'a label value with a space is rejected on metadata.labels', kind: 'Pod', obj: mk(pod, { 'metadata.labels': { app: 'a b' } }), want: [[I, 'metadata.labels']] },
  { name: 'annotations over 256KiB in total are too long', kind: 'Pod', obj: mk(pod, { 'metadata.annotations': { big: 'x'.repeat(256 * 1024) } }), want: [[TL, 'metadata.annotations']] },
  { name: 'a pod without containers is rejected', kind: 'Pod', obj: mk(pod, { 'spec.containers': [] }), want: [[R, 'spec.containers']] },
  { name: 'two containers with one name are a duplicate', kind: 'Pod', obj: mk(pod, { 'spec.containers[1]': { name: 'web', image: 'busybox' } }), want: [[D, 'spec.containers[1].name']] },
  { name: 'a container name must be a DNS label', kind: 'Pod', obj: mk(pod, { 'spec.containers[0].name': 'Web' }), want: [[I, 'spec.containers[0].name']] },
  { name: 'a container needs an image', kind: 'Pod', obj: mk(pod, { 'spec.containers[0].image': DEL }), want: [[R, 'spec.containers[0].image']] },
  { name: 'a container port above 65535 is invalid', kind: 'Pod', obj: mk(pod, { 'spec.containers[0].ports[0].containerPort': 70000 }), want: [[I, 'spec.containers[0].ports[0].containerPort']] },
  { name: 'a port name longer than 15 characters is invalid', kind: 'Pod', obj: mk(pod, { 'spec.containers[0].ports[0].name': 'abcdefghijklmnop' }), want: [[I, 'spec.containers[0].ports[0].name']] },
  { name: 'two ports with one name are a duplicate', kind: 'Pod', obj: mk(pod, { 'spec.containers[0].ports[1]': { name: 'http', containerPort: 81 } }), want: [[D, 'spec.containers[0].ports[1].name']] },
  { name: 'an unknown port protocol is unsupported', kind: 'Pod', obj: mk(pod, { 'spec.containers[0].ports[0].protocol': 'HTTP' }), want: [[NS, 'spec.containers[0].ports[0].protocol']] },
  { name: 'an env var name may not start with a digit', kind: 'Pod', obj: mk(pod, { 'spec.containers[0].env': [{ name: '1BAD', value: 'x' }] }), want: [[I, 'spec.containers[0].env[0].name']] },
  { name: 'a probe with two handlers forbids the second', kind: 'Pod', obj: mk(pod, { 'spec.containers[0].livenessProbe': { exec: { command: ['true'] }, httpGet: { port: 80 } } }), want: [[F, 'spec.containers[0].livenessProbe.httpGet']] },
  { name: 'a probe without a handler needs one', kind: 'Pod', obj: mk(pod, { 'spec.containers[0].readinessProbe': { periodSeconds: 5 } }), want: [[R, 'spec.containers[0].readinessProbe']] },
  { name: 'a tcpSocket probe on port 0 is out of range', kind: 'Pod', obj: mk(pod, { 'spec.containers[0].livenessProbe': { tcpSocket: { port: 0 } } }), want: [[I, 'spec.containers[0].livenessProbe.tcpSocket.port']] },
  { name: 'a liveness probe must succeed once', kind: 'Pod', obj: mk(pod, { 'spec.containers[0].livenessProbe': { exec: { command: ['true'] }, successThreshold: 2 } }), want: [[I, 'spec.containers[0].livenessProbe.successThreshold']] },
  { name: 'an unknown restartPolicy is unsupported', kind: 'Pod', obj: mk(pod, { 'spec.restartPolicy': 'Sometimes' }), want: [[NS, 'spec.restartPolicy']] },
  { name: 'an unknown dnsPolicy is unsupported', kind: 'Pod', obj: mk(pod, { 'spec.dnsPolicy': 'Cluster' }), want: [[NS, 'spec.dnsPolicy']] },
  { name: 'dnsPolicy None needs a dnsConfig', kind: 'Pod', obj: mk(pod, { 'spec.dnsPolicy': 'None' }), want: [[R, 'spec.dnsConfig']] },
  { name: 'a nodeSelector key must be a qualified name', kind: 'Pod', obj: mk(pod, { 'spec.nodeSelector': { 'a/b/c': 'x' } }), want: [[I, 'spec.nodeSelector']] },
  { name: 'tolerationSeconds needs the NoExecute effect', kind: 'Pod', obj: mk(pod, { 'spec.tolerations': [{ key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 10 }] }), want: [[I, 'spec.tolerations[0].effect']] },
  { name: 'an empty toleration key needs operator Exists', kind: 'Pod', obj: mk(pod, { 'spec.tolerations': [{ operator: 'Equal', value: 'x' }] }), want: [[I, 'spec.tolerations[0].operator']] },
  { name: 'a pod hostname must be a DNS label', kind: 'Pod', obj: mk(pod, { 'spec.hostname': 'Host_1' }), want: [[I, 'spec.hostname']] },
  { name: 'a pod subdomain must be a DNS label', kind: 'Pod', obj: mk(pod, { 'spec.subdomain': 'a.b' }), want: [[I, 'spec.subdomain']] },
  { name: 'a mount of an undeclared volume is not found', kind: 'Pod', obj: mk(pod, { 'spec.containers[0].volumeMounts': [{ name: 'nope', mountPath: '/x' }] }), want: [[NF, 'spec.containers[0].volumeMounts[0].name']] },
  { name: 'a hostNetwork pod needs hostPort equal to containerPort', kind: 'Pod', obj: mk(pod, { 'spec.hostNetwork': true, 'spec.containers[0].ports[0].hostPort': 8080 }), want: [[I, 'spec.containers[0].ports[0].hostPort']] },

  // Service
  { name: 'a ClusterIP service is valid', kind: 'Service', obj: svc, want: [] },
  { name: 'a headless service without ports is valid', kind: 'Service', obj: mk(svc, { 'spec.clusterIP': 'None', 'spec.ports': DEL }), want: [] },
  { name: 'an ExternalName service is valid', kind: 'Service', obj: mk(svc, { 'spec': { type: 'ExternalName', externalName: 'db.example.com.' } }), want: [] },
  { name: 'a NodePort service with named ports is valid', kind: 'Service', obj: mk(svc, { 'spec.type': 'NodePort', 'spec.ports': [{ name: 'http', port: 80, nodePort: 30080 }, { name: 'dns', port: 53, protocol: 'UDP' }] }), want: [] },
  { name: 'a LoadBalancer service with a class and ClientIP affinity is valid', kind: 'Service', obj: mk(svc, { 'spec.type': 'LoadBalancer', 'spec.loadBalancerClass': 'flatnet.dev/lb', 'spec.sessionAffinity': 'ClientIP' }), want: [] },
  { name: 'a service port of 70000 is out of range (and so is the defaulted targetPort)', kind: 'Service', obj: mk(svc, { 'spec.ports': [{ port: 70000 }] }), want: [[I, 'spec.ports[0].port'], [I, 'spec.ports[0].targetPort']] },
  { name: 'an unknown service type is unsupported', kind: 'Service', obj: mk(svc, { 'spec.type': 'Balanced' }), want: [[NS, 'spec.type']] },
  { name: 'a service name must be an RFC 1035 label (no leading digit)', kind: 'Service', obj: mk(svc, { 'metadata.name': '1web' }), want: [[I, 'metadata.name']] },
  { name: 'a service without ports needs them', kind: 'Service', obj: mk(svc, { 'spec.ports': [] }), want: [[R, 'spec.ports']] },
  { name: 'several service ports each need a name', kind: 'Service', obj: mk(svc, { 'spec.ports': [{ port: 80 }, { port: 443 }] }), want: [[R, 'spec.ports[0].name'], [R, 'spec.ports[1].name']] },
  { name: 'two service ports with one name are a duplicate', kind: 'Service', obj: mk(svc, { 'spec.ports': [{ name: 'a', port: 80 }, { name: 'a', port: 81 }] }), want: [[D, 'spec.ports[1].name']] },
  { name: 'the same port and protocol twice is a duplicate', kind: 'Service', obj: mk(svc, { 'spec.ports': [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] }), want: [[D, 'spec.ports[1]']] },
  { name: 'an unknown service protocol is unsupported', kind: 'Service', obj: mk(svc, { 'spec.ports[0].protocol': 'ICMP' }), want: [[NS, 'spec.ports[0].protocol']] },
  { name: 'a named targetPort must be an IANA service name', kind: 'Service', obj: mk(svc, { 'spec.ports[0].targetPort': 'web--http' }), want: [[I, 'spec.ports[0].targetPort']] },
  { name: 'a clusterIP must be an IP address', kind: 'Service', obj: mk(svc, { 'spec.clusterIP': '10.0.0.300' }), want: [[I, 'spec.clusterIPs[0]']] },
  { name: 'an ExternalName service needs externalName', kind: 'Service', obj: mk(svc, { 'spec': { type: 'ExternalName' } }), want: [[R, 'spec.externalName']] },
  { name: 'an externalName must be a DNS subdomain', kind: 'Service', obj: mk(svc, { 'spec': { type: 'ExternalName', externalName: 'db_1.example.com' } }), want: [[I, 'spec.externalName']] },
  { name: 'an unknown session affinity is unsupported', kind: 'Service', obj: mk(svc, { 'spec.sessionAffinity': 'Sticky' }), want: [[NS, 'spec.sessionAffinity']] },
  { name: 'a ClientIP timeout above a day is invalid', kind: 'Service', obj: mk(svc, { 'spec.sessionAffinity': 'ClientIP', 'spec.sessionAffinityConfig': { clientIP: { timeoutSeconds: 90000 } } }), want: [[I, 'spec.sessionAffinityConfig.clientIP.timeoutSeconds']] },
  { name: 'externalTrafficPolicy is only for externally reachable services', kind: 'Service', obj: mk(svc, { 'spec.externalTrafficPolicy': 'Local' }), want: [[I, 'spec.externalTrafficPolicy']] },
  { name: 'loadBalancerClass is only for LoadBalancer services', kind: 'Service', obj: mk(svc, { 'spec.loadBalancerClass': 'x.dev/lb' }), want: [[F, 'spec.loadBalancerClass']] },
  { name: 'a nodePort must be a port number', kind: 'Service', obj: mk(svc, { 'spec.type': 'NodePort', 'spec.ports[0].nodePort': 70000 }), want: [[I, 'spec.ports[0].nodePort']] },
  { name: 'a ClusterIP service may not carry a nodePort', kind: 'Service', obj: mk(svc, { 'spec.ports[0].nodePort': 30080 }), want: [[F, 'spec.ports[0].nodePort']] },
  { name: 'a LoadBalancer service may not be headless', kind: 'Service', obj: mk(svc, { 'spec.type': 'LoadBalancer', 'spec.clusterIP': 'None' }), want: [[I, 'spec.clusterIPs[0]']] },
  { name: 'a service selector key must be a qualified name', kind: 'Service', obj: mk(svc, { 'spec.selector': { '-app': 'web' } }), want: [[I, 'spec.selector']] },

  // Deployment, ReplicaSet, DaemonSet
  { name: 'a deployment is valid', kind: 'Deployment', obj: deploy, want: [] },
  { name: 'a deployment whose selector does not match its template labels is rejected', kind: 'Deployment', obj: mk(deploy, { 'spec.selector': { matchLabels: { app: 'api' } } }), want: [[I, 'spec.template.metadata.labels']] },
  { name: 'a deployment needs a selector', kind: 'Deployment', obj: mk(deploy, { 'spec.selector': DEL }), want: [[R, 'spec.selector']] },
  { name: 'an empty deployment selector is invalid', kind: 'Deployment', obj: mk(deploy, { 'spec.selector': {} }), want: [[I, 'spec.selector']] },
  { name: 'a selector with an unknown operator is invalid twice over', kind: 'Deployment', obj: mk(deploy, { 'spec.selector': { matchExpressions: [{ key: 'app', operator: 'Has' }] } }), want: [[I, 'spec.selector.matchExpressions[0].operator'], [I, 'spec.selector']] },
  { name: 'negative replicas are invalid', kind: 'Deployment', obj: mk(deploy, { 'spec.replicas': -1 }), want: [[I, 'spec.replicas']] },
  { name: 'maxSurge and maxUnavailable may not both be zero', kind: 'Deployment', obj: mk(deploy, { 'spec.strategy': { rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } } }), want: [[I, 'spec.strategy.rollingUpdate.maxUnavailable']] },
  { name: 'maxUnavailable may not exceed 100%', kind: 'Deployment', obj: mk(deploy, { 'spec.strategy': { rollingUpdate: { maxUnavailable: '110%' } } }), want: [[I, 'spec.strategy.rollingUpdate.maxUnavailable']] },
  { name: 'maxSurge must be an integer or a percentage', kind: 'Deployment', obj: mk(deploy, { 'spec.strategy': { rollingUpdate: { maxSurge: 'lots' } } }), want: [[I, 'spec.strategy.rollingUpdate.maxSurge']] },
  { name: 'an unknown strategy type is unsupported', kind: 'Deployment', obj: mk(deploy, { 'spec.strategy': { type: 'BlueGreen' } }), want: [[NS, 'spec.strategy']] },
  { name: 'a Recreate strategy may not carry rollingUpdate', kind: 'Deployment', obj: mk(deploy, { 'spec.strategy': { type: 'Recreate', rollingUpdate: { maxSurge: 1 } } }), want: [[F, 'spec.strategy.rollingUpdate']] },
  { name: 'a deployment template must restart Always', kind: 'Deployment', obj: mk(deploy, { 'spec.template.spec.restartPolicy': 'Never' }), want: [[NS, 'spec.template.spec.restartPolicy']] },
  { name: 'a deployment template pod spec is validated', kind: 'Deployment', obj: mk(deploy, { 'spec.template.spec.containers[0].image': DEL }), want: [[R, 'spec.template.spec.containers[0].image']] },
  { name: 'progressDeadlineSeconds must exceed minReadySeconds', kind: 'Deployment', obj: mk(deploy, { 'spec.minReadySeconds': 10, 'spec.progressDeadlineSeconds': 5 }), want: [[I, 'spec.progressDeadlineSeconds']] },
  { name: 'a replicaset is valid', kind: 'ReplicaSet', obj: rs, want: [] },
  { name: 'a replicaset whose selector does not match its template is rejected', kind: 'ReplicaSet', obj: mk(rs, { 'spec.template.metadata.labels': { app: 'other' } }), want: [[I, 'spec.template.metadata.labels']] },
  { name: 'an empty replicaset selector is invalid', kind: 'ReplicaSet', obj: mk(rs, { 'spec.selector': {} }), want: [[I, 'spec.selector']] },
  { name: 'a daemonset is valid', kind: 'DaemonSet', obj: ds, want: [] },
  { name: 'a daemonset may not surge and be unavailable at once', kind: 'DaemonSet', obj: mk(ds, { 'spec.updateStrategy': { rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } }), want: [[I, 'spec.updateStrategy.rollingUpdate.maxSurge']] },
  { name: 'a daemonset rolling update needs maxUnavailable when maxSurge is 0', kind: 'DaemonSet', obj: mk(ds, { 'spec.updateStrategy': { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }), want: [[R, 'spec.updateStrategy.rollingUpdate.maxUnavailable']] },
  { name: 'an unknown daemonset strategy is unsupported', kind: 'DaemonSet', obj: mk(ds, { 'spec.updateStrategy': { type: 'Never' } }), want: [[NS, 'spec.updateStrategy']] },
  { name: 'a daemonset template may not set activeDeadlineSeconds', kind: 'DaemonSet', obj: mk(ds, { 'spec.template.spec.activeDeadlineSeconds': 10 }), want: [[F, 'spec.template.spec.activeDeadlineSeconds']] },

  // EndpointSlice, Endpoints
  { name: 'an endpoint slice is valid', kind: 'EndpointSlice', obj: slice, want: [] },
  { name: 'an unknown address type is unsupported', kind: 'EndpointSlice', obj: mk(slice, { 'addressType': 'IPv5' }), want: [[NS, 'addressType']] },
  { name: 'an IPv4 slice may not hold an IPv6 address', kind: 'EndpointSlice', obj: mk(slice, { 'endpoints[0].addresses': ['fd00::1'] }), want: [[I, 'endpoints[0].addresses[0]']] },
  { name: 'an endpoint may not be a loopback address', kind: 'EndpointSlice', obj: mk(slice, { 'endpoints[0].addresses': ['127.0.0.1'] }), want: [[I, 'endpoints[0].addresses[0]']] },
  { name: 'an endpoint needs an address', kind: 'EndpointSlice', obj: mk(slice, { 'endpoints[0].addresses': [] }), want: [[R, 'endpoints[0].addresses']] },
  { name: 'more than 1000 endpoints are too many', kind: 'EndpointSlice', obj: mk(slice, { 'endpoints': Array.from({ length: 1001 }, () => ({ addresses: ['10.0.0.1'] })) }), want: [[TM, 'endpoints']] },
  { name: 'an unknown slice port protocol is unsupported', kind: 'EndpointSlice', obj: mk(slice, { 'ports[0].protocol': 'ICMP' }), want: [[NS, 'ports[0].protocol']] },
  { name: 'two slice ports with one name are a duplicate', kind: 'EndpointSlice', obj: mk(slice, { 'ports[1]': { name: 'http', port: 81 } }), want: [[D, 'ports[1].name']] },
  { name: 'endpoints are valid', kind: 'Endpoints', obj: endpoints, want: [] },
  { name: 'an endpoints subset needs addresses', kind: 'Endpoints', obj: mk(endpoints, { 'subsets[0].addresses': [] }), want: [[R, 'subsets[0]']] },
  { name: 'an endpoints address must be an IP', kind: 'Endpoints', obj: mk(endpoints, { 'subsets[0].addresses[0].ip': 'web' }), want: [[I, 'subsets[0].addresses[0].ip'], [I, 'subsets[0].addresses[0].ip']] },
  { name: 'several endpoints ports each need a name', kind: 'Endpoints', obj: mk(endpoints, { 'subsets[0].ports': [{ port: 80 }, { port: 81 }] }), want: [[R, 'subsets[0].ports[0].name'], [R, 'subsets[0].ports[1].name']] },

  // NetworkPolicy
  { name: 'a network policy is valid', kind: 'NetworkPolicy', obj: netpol, want: [] },
  { name: 'an ipBlock may not be combined with a selector in one peer', kind: 'NetworkPolicy', obj: mk(netpol, { 'spec.ingress[0].from[0].podSelector': {} }), want: [[F, 'spec.ingress[0].from[0]']] },
  { name: 'an ipBlock cidr must be a CIDR', kind: 'NetworkPolicy', obj: mk(netpol, { 'spec.ingress[0].from[0].ipBlock': { cidr: '10.0.0.0' } }), want: [[I, 'spec.ingress[0].from[0].ipBlock.cidr']] },
  { name: 'an except block must lie within the cidr', kind: 'NetworkPolicy', obj: mk(netpol, { 'spec.ingress[0].from[0].ipBlock.except': ['192.168.0.0/16'] }), want: [[I, 'spec.ingress[0].from[0].ipBlock.except[0]']] },
  { name: 'an empty peer must specify something', kind: 'NetworkPolicy', obj: mk(netpol, { 'spec.egress[0].to': [{}] }), want: [[R, 'spec.egress[0].to[0]']] },
  { name: 'endPort needs a numeric port', kind: 'NetworkPolicy', obj: mk(netpol, { 'spec.ingress[0].ports[1].endPort': 90 }), want: [[I, 'spec.ingress[0].ports[1].endPort']] },
  { name: 'endPort may not be below port', kind: 'NetworkPolicy', obj: mk(netpol, { 'spec.ingress[0].ports[0].endPort': 7000 }), want: [[I, 'spec.ingress[0].ports[0].endPort']] },
  { name: 'an unknown policy port protocol is unsupported', kind: 'NetworkPolicy', obj: mk(netpol, { 'spec.ingress[0].ports[0].protocol': 'ICMP' }), want: [[NS, 'spec.ingress[0].ports[0].protocol']] },
  { name: 'an unknown policy type is unsupported', kind: 'NetworkPolicy', obj: mk(netpol, { 'spec.policyTypes': ['Sideways'] }), want: [[NS, 'spec.policyTypes[0]']] },
  { name: 'a podSelector with a bad operator is invalid', kind: 'NetworkPolicy', obj: mk(netpol, { 'spec.podSelector': { matchExpressions: [{ key: 'a', operator: 'Like' }] } }), want: [[I, 'spec.podSelector.matchExpressions[0].operator']] },

  // Ingress, IngressClass
  { name: 'an ingress is valid', kind: 'Ingress', obj: ingress, want: [] },
  { name: 'an ingress with only a default backend is valid', kind: 'Ingress', obj: mk(ingress, { 'spec': { defaultBackend: { resource: { apiGroup: 'k8s.example.com', kind: 'Bucket', name: 'static' } } } }), want: [] },
  { name: 'an ingress needs rules or a default backend', kind: 'Ingress', obj: mk(ingress, { 'spec': {} }), want: [[I, 'spec']] },
  { name: 'an ingress host must be a lowercase DNS name', kind: 'Ingress', obj: mk(ingress, { 'spec.rules[0].host': 'Example.com' }), want: [[I, 'spec.rules[0].host']] },
  { name: 'an ingress host may not be an IP address', kind: 'Ingress', obj: mk(ingress, { 'spec.rules[0].host': '1.2.3.4' }), want: [[I, 'spec.rules[0].host']] },
  { name: 'a Prefix path must be absolute', kind: 'Ingress', obj: mk(ingress, { 'spec.rules[0].http.paths[0].path': 'api' }), want: [[I, 'spec.rules[0].http.paths[0].path']] },
  { name: 'a path needs a pathType', kind: 'Ingress', obj: mk(ingress, { 'spec.rules[0].http.paths[0].pathType': DEL }), want: [[R, 'spec.rules[0].http.paths[0].pathType']] },
  { name: 'an unknown pathType is unsupported', kind: 'Ingress', obj: mk(ingress, { 'spec.rules[0].http.paths[0].pathType': 'Regex' }), want: [[NS, 'spec.rules[0].http.paths[0].pathType']] },
  { name: 'a backend may not name both a service and a resource', kind: 'Ingress', obj: mk(ingress, { 'spec.rules[0].http.paths[0].backend.resource': { kind: 'Bucket', name: 'b' } }), want: [[I, 'spec.rules[0].http.paths[0].backend']] },
  { name: 'a service backend may not set both port name and number', kind: 'Ingress', obj: mk(ingress, { 'spec.rules[0].http.paths[0].backend.service.port': { name: 'http', number: 80 } }), want: [[I, 'spec.rules[0].http.paths[0].backend']] },
  { name: 'a service backend needs a port', kind: 'Ingress', obj: mk(ingress, { 'spec.rules[0].http.paths[0].backend.service.port': {} }), want: [[R, 'spec.rules[0].http.paths[0].backend']] },
  { name: 'a backend service name must be a service name', kind: 'Ingress', obj: mk(ingress, { 'spec.rules[0].http.paths[0].backend.service.name': 'Web' }), want: [[I, 'spec.rules[0].http.paths[0].backend.service.name']] },
  { name: 'an http rule needs paths', kind: 'Ingress', obj: mk(ingress, { 'spec.rules[0].http.paths': [] }), want: [[R, 'spec.rules[0].http.paths']] },
  { name: 'a TLS host must be a DNS name', kind: 'Ingress', obj: mk(ingress, { 'spec.tls[0].hosts': ['bad_host'] }), want: [[I, 'spec.tls[0].hosts[0]']] },
  { name: 'an ingress class is valid', kind: 'IngressClass', obj: ingressClass, want: [] },
  { name: 'an ingress class needs a controller', kind: 'IngressClass', obj: mk(ingressClass, { 'spec': {} }), want: [[R, 'spec.controller']] },
  { name: 'an ingress class controller must be a domain-prefixed path', kind: 'IngressClass', obj: mk(ingressClass, { 'spec.controller': 'nginx' }), want: [[I, 'spec.controller']] },
  { name: 'namespace-scoped ingress class parameters need a namespace', kind: 'IngressClass', obj: mk(ingressClass, { 'spec.parameters': { kind: 'Cfg', name: 'c', scope: 'Namespace' } }), want: [[R, 'spec.parameters.namespace']] },
  { name: 'a cluster-scoped kind may not carry a namespace', kind: 'IngressClass', obj: mk(ingressClass, { 'metadata.namespace': 'default' }), want: [[F, 'metadata.namespace']] },

  // ConfigMap, Secret
  { name: 'a configmap is valid', kind: 'ConfigMap', obj: cm, want: [] },
  { name: 'a configmap key may not contain a slash', kind: 'ConfigMap', obj: mk(cm, { 'data[a/b]': 'x' }), want: [[I, 'data[a/b]']] },
  { name: 'a configmap key may not be in both data and binaryData', kind: 'ConfigMap', obj: mk(cm, { 'binaryData[app.conf]': 'AA==' }), want: [[I, 'data[app.conf]']] },
  { name: 'a configmap over 1MiB is too long', kind: 'ConfigMap', obj: mk(cm, { 'data.big': 'x'.repeat(1024 * 1024) }), want: [[TL, '']] },
  { name: 'a TLS secret is valid', kind: 'Secret', obj: secret, want: [] },
  { name: 'an opaque secret from stringData is valid', kind: 'Secret', obj: mk(secret, { 'type': DEL, 'data': DEL, 'stringData': { password: 'hunter2' } }), want: [] },
  { name: 'a TLS secret needs tls.crt and tls.key', kind: 'Secret', obj: mk(secret, { 'data': { 'ca.crt': 'eA==' } }), want: [[R, 'data[tls.crt]'], [R, 'data[tls.key]']] },
  { name: 'a secret key must be a valid config key', kind: 'Secret', obj: mk(secret, { 'data[bad key]': 'eA==' }), want: [[I, 'data[bad key]']] },
  { name: 'a dockerconfigjson secret must hold JSON', kind: 'Secret', obj: mk(secret, { 'type': 'kubernetes.io/dockerconfigjson', 'data': { '.dockerconfigjson': 'bm90IGpzb24=' } }), want: [[I, 'data[.dockerconfigjson]']] },
  { name: 'a basic-auth secret needs a username or a password', kind: 'Secret', obj: mk(secret, { 'type': 'kubernetes.io/basic-auth', 'data': {} }), want: [[R, 'data[username]'], [R, 'data[password]']] },
  { name: 'a service-account token secret names its account', kind: 'Secret', obj: mk(secret, { 'type': 'kubernetes.io/service-account-token', 'data': {} }), want: [[R, 'metadata.annotations[kubernetes.io/service-account.name]']] },

  // Namespace, Node, Event, ServiceAccount
  { name: 'a namespace is valid', kind: 'Namespace', obj: ns, want: [] },
  { name: 'a namespace name must be a DNS label', kind: 'Namespace', obj: mk(ns, { 'metadata.name': 'team.a' }), want: [[I, 'metadata.name']] },
  { name: 'a namespace finalizer must be standard or qualified', kind: 'Namespace', obj: mk(ns, { 'spec': { finalizers: ['kubernetes', 'custom'] } }), want: [[I, 'spec.finalizers']] },
  { name: 'a node is valid', kind: 'Node', obj: node, want: [] },
  { name: 'a node podCIDR must be a CIDR', kind: 'Node', obj: mk(node, { 'spec': { podCIDR: '10.244.1.1/24' } }), want: [[I, 'spec.podCIDR']] },
  { name: 'a node taint effect must be known', kind: 'Node', obj: mk(node, { 'spec.taints[0].effect': 'NoRun' }), want: [[NS, 'metadata.taints[0].effect']] },
  { name: 'an event is valid', kind: 'Event', obj: event, want: [] },
  { name: 'an event namespace must match its object', kind: 'Event', obj: mk(event, { 'involvedObject.namespace': 'other' }), want: [[I, 'involvedObject.namespace']] },
  { name: 'a service account is valid', kind: 'ServiceAccount', obj: sa, want: [] },
  { name: 'a service account name must be a DNS subdomain', kind: 'ServiceAccount', obj: mk(sa, { 'metadata.name': 'Builder' }), want: [[I, 'metadata.name']] },
];

describe('validateCreate', () => {
  for (const c of create) {
    it(c.name, () => {
      const errs = validateCreate(c.kind, applyDefaults(c.kind, c.obj));
      assert.deepEqual(shape(errs), want(c.want), errs.map(fieldErrorMessage).join('\n'));
    });
  }

  it('every kind the server stores has a valid fixture above', () => {
    const kinds = new Set(create.filter((c) => c.want.length === 0).map((c) => c.kind));
    for (const k of ['Namespace', 'Node', 'Pod', 'Service', 'Endpoints', 'ConfigMap', 'Secret', 'Event', 'ServiceAccount', 'Deployment', 'ReplicaSet', 'DaemonSet', 'EndpointSlice', 'NetworkPolicy', 'Ingress', 'IngressClass']) {
      assert.ok(kinds.has(k), k);
    }
  });
});

describe('acceptance messages', () => {
  const first = (kind: string, obj: KubeObject): string => fieldErrorMessage(validateCreate(kind, applyDefaults(kind, obj))[0] ?? assert.fail('no error'));

  it('a bad name reads as upstream prints it', () => {
    assert.equal(
      first('Pod', mk(pod, { 'metadata.name': 'Web_1' })),
      `metadata.name: Invalid value: "Web_1": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    );
  });

  it('a service port of 70000 reads as upstream prints it', () => {
    assert.equal(first('Service', mk(svc, { 'spec.ports': [{ port: 70000 }] })), 'spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive');
  });

  it('an unknown service type lists the four supported types', () => {
    assert.equal(
      first('Service', mk(svc, { 'spec.type': 'Balanced' })),
      'spec.type: Unsupported value: "Balanced": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    );
  });

  it('a deployment selector mismatch reads as upstream prints it', () => {
    assert.equal(
      first('Deployment', mk(deploy, { 'spec.selector': { matchLabels: { app: 'api' } } })),
      'spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`',
    );
  });
});

// -------------------------------------------------------------------------------------- update cases

/** What the server has stored: defaulted, with system metadata. */
function stored(kind: string, obj: KubeObject): KubeObject {
  const o = applyDefaults(kind, obj);
  o.metadata = { ...o.metadata, uid: 'uid-1', resourceVersion: '5', creationTimestamp: '2024-01-01T00:00:00Z' };
  return o;
}

interface UpdateCase { name: string; kind: string; old: KubeObject; change: Patch; want: Want }

const scheduled = mk(pod, { 'spec.nodeName': 'node-1', 'spec.activeDeadlineSeconds': 100 });
const headlessSvc = mk(svc, { 'spec.clusterIP': '10.96.0.10' });
const lbSvc = mk(svc, { 'spec.type': 'LoadBalancer', 'spec.clusterIP': '10.96.0.10', 'spec.loadBalancerClass': 'a.dev/lb' });

const update: UpdateCase[] = [
  { name: 'a pod may change its container image', kind: 'Pod', old: pod, change: { 'spec.containers[0].image': 'nginx:1.26' }, want: [] },
  { name: 'a pod may change its labels', kind: 'Pod', old: pod, change: { 'metadata.labels.tier': 'fe' }, want: [] },
  { name: 'a pod may not change its restartPolicy', kind: 'Pod', old: pod, change: { 'spec.restartPolicy': 'Never' }, want: [[F, 'spec']] },
  { name: 'a pod may not add a container', kind: 'Pod', old: pod, change: { 'spec.containers[1]': { name: 'side', image: 'busybox', imagePullPolicy: 'Always', terminationMessagePolicy: 'File' } }, want: [[F, 'spec.containers']] },
  { name: 'a pod may add a toleration', kind: 'Pod', old: pod, change: { 'spec.tolerations[2]': { key: 'x', operator: 'Exists' } }, want: [] },
  { name: 'a pod may not drop a toleration', kind: 'Pod', old: pod, change: { 'spec.tolerations[1]': DEL }, want: [[F, 'spec.tolerations']] },
  { name: 'a pod may lower activeDeadlineSeconds', kind: 'Pod', old: scheduled, change: { 'spec.activeDeadlineSeconds': 50 }, want: [] },
  { name: 'a pod may not raise activeDeadlineSeconds', kind: 'Pod', old: scheduled, change: { 'spec.activeDeadlineSeconds': 200 }, want: [[I, 'spec.activeDeadlineSeconds']] },
  { name: 'an unscheduled pod may be bound to a node', kind: 'Pod', old: pod, change: { 'spec.nodeName': 'node-1' }, want: [] },
  { name: 'a scheduled pod may not move to another node', kind: 'Pod', old: scheduled, change: { 'spec.nodeName': 'node-2' }, want: [[F, 'spec']] },
  { name: 'a pod may not be renamed', kind: 'Pod', old: pod, change: { 'metadata.name': 'web2' }, want: [[I, 'metadata.name']] },
  { name: 'an object uid is immutable', kind: 'Pod', old: pod, change: { 'metadata.uid': 'uid-2' }, want: [[I, 'metadata.uid']] },
  { name: 'an object creationTimestamp is immutable', kind: 'ConfigMap', old: cm, change: { 'metadata.creationTimestamp': '2025-01-01T00:00:00Z' }, want: [[I, 'metadata.creationTimestamp']] },
  { name: 'an object namespace is immutable', kind: 'ServiceAccount', old: sa, change: { 'metadata.namespace': 'other' }, want: [[I, 'metadata.namespace']] },
  { name: 'a service may change its selector', kind: 'Service', old: headlessSvc, change: { 'spec.selector': { app: 'api' } }, want: [] },
  { name: 'a service clusterIP is immutable', kind: 'Service', old: headlessSvc, change: { 'spec.clusterIP': '10.96.0.11' }, want: [[I, 'spec.clusterIP']] },
  { name: 'a service may not switch its IP family', kind: 'Service', old: headlessSvc, change: { 'spec.ipFamilies': ['IPv6'] }, want: [[I, 'spec.ipFamilies[0]'], [I, 'spec.clusterIPs[0]']] },
  { name: 'a LoadBalancer service may not change its class', kind: 'Service', old: lbSvc, change: { 'spec.loadBalancerClass': 'b.dev/lb' }, want: [[I, 'spec.loadBalancerClass']] },
  { name: 'a deployment may scale', kind: 'Deployment', old: deploy, change: { 'spec.replicas': 5 }, want: [] },
  { name: 'a deployment selector is immutable', kind: 'Deployment', old: deploy, change: { 'spec.selector.matchLabels.tier': 'fe', 'spec.template.metadata.labels.tier': 'fe' }, want: [[I, 'spec.selector']] },
  { name: 'a replicaset selector is immutable', kind: 'ReplicaSet', old: rs, change: { 'spec.selector': { matchLabels: { app: 'web', v: '2' } }, 'spec.template.metadata.labels.v': '2' }, want: [[I, 'spec.selector']] },
  { name: 'a daemonset selector is immutable', kind: 'DaemonSet', old: ds, change: { 'spec.selector': { matchExpressions: [{ key: 'app', operator: 'Exists' }] } }, want: [[I, 'spec.selector']] },
  { name: 'an endpoint slice address type is immutable', kind: 'EndpointSlice', old: slice, change: { 'addressType': 'IPv6', 'endpoints': [] }, want: [[I, 'addressType']] },
  { name: 'an ingress class controller is immutable', kind: 'IngressClass', old: ingressClass, change: { 'spec.controller': 'other.dev/ingress' }, want: [[I, 'spec.controller']] },
  { name: 'an immutable configmap may not change its data', kind: 'ConfigMap', old: mk(cm, { 'immutable': true }), change: { 'data.KEY_NAME': 'w' }, want: [[F, 'data']] },
  { name: 'a secret type is immutable', kind: 'Secret', old: secret, change: { 'type': 'Opaque' }, want: [[I, 'type']] },
  { name: 'a node podCIDR may not change once set', kind: 'Node', old: node, change: { 'spec.podCIDR': '10.244.2.0/24', 'spec.podCIDRs': ['10.244.2.0/24'] }, want: [[F, 'spec.podCIDRs']] },
  { name: 'a node podCIDR may be assigned when empty', kind: 'Node', old: mk(node, { 'spec': {} }), change: { 'spec.podCIDR': '10.244.2.0/24', 'spec.podCIDRs': ['10.244.2.0/24'] }, want: [] },
  { name: 'a network policy may gain a rule', kind: 'NetworkPolicy', old: netpol, change: { 'spec.ingress[1]': {} }, want: [] },
  { name: 'a namespace may change its labels', kind: 'Namespace', old: ns, change: { 'metadata.labels.team': 'a' }, want: [] },
];

describe('validateUpdate', () => {
  for (const c of update) {
    it(c.name, () => {
      const old = stored(c.kind, c.old);
      const changed = mk(old, c.change);
      const errs = validateUpdate(c.kind, applyDefaults(c.kind, changed, { operation: 'update' }), old);
      assert.deepEqual(shape(errs), want(c.want), errs.map(fieldErrorMessage).join('\n'));
    });
  }

  it('a forbidden pod change names the updatable fields and the changed path', () => {
    const old = stored('Pod', pod);
    const errs = validateUpdate('Pod', mk(old, { 'spec.restartPolicy': 'Never' }), old);
    const msg = fieldErrorMessage(errs[0] ?? assert.fail('no error'));
    assert.ok(msg.startsWith('spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,'), msg);
    assert.ok(msg.includes('spec.restartPolicy: "Always" -> "Never"'), msg);
  });

  it('a changed clusterIP reads "field is immutable"', () => {
    const old = stored('Service', headlessSvc);
    const errs = validateUpdate('Service', mk(old, { 'spec.clusterIP': '10.96.0.11' }), old);
    assert.equal(fieldErrorMessage(errs[0] ?? assert.fail('no error')), 'spec.clusterIP: Invalid value: "10.96.0.11": field is immutable');
  });
});
