import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../types.ts';
import { applyDefaults, imageTag } from './index.ts';

/** Reads a dotted/indexed path (`spec.ports[0].protocol`) out of a JSON value. */
function at(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split(/\.|\[|\]/).filter((p) => p !== '')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

const meta = (name: string, namespace?: string): KubeObject['metadata'] => (namespace ? { name, namespace } : { name });
const container = { name: 'c', image: 'nginx:1.25' };

interface Case {
  name: string;
  kind: string;
  obj: KubeObject;
  operation?: 'create' | 'update';
  /** path -> expected value after defaulting (undefined: must be absent). */
  want: Record<string, unknown>;
}

const cases: Case[] = [
  {
    name: 'a bare pod gets the PodSpec, container and admission defaults',
    kind: 'Pod',
    obj: { metadata: meta('p', 'default'), spec: { containers: [{ ...container, ports: [{ containerPort: 80 }] }] } },
    want: {
      'spec.restartPolicy': 'Always',
      'spec.dnsPolicy': 'ClusterFirst',
      'spec.terminationGracePeriodSeconds': 30,
      'spec.schedulerName': 'default-scheduler',
      'spec.securityContext': {},
      'spec.enableServiceLinks': true,
      'spec.serviceAccountName': 'default',
      'spec.serviceAccount': 'default',
      'spec.priority': 0,
      'spec.preemptionPolicy': 'PreemptLowerPriority',
      'spec.containers[0].imagePullPolicy': 'IfNotPresent',
      'spec.containers[0].terminationMessagePath': '/dev/termination-log',
      'spec.containers[0].terminationMessagePolicy': 'File',
      'spec.containers[0].ports[0].protocol': 'TCP',
      'spec.tolerations': [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
    },
  },
  {
    name: 'an untagged or :latest image is pulled Always',
    kind: 'Pod',
    obj: { metadata: meta('p', 'default'), spec: { containers: [{ name: 'a', image: 'nginx' }, { name: 'b', image: 'reg:5000/x/nginx:latest' }, { name: 'c', image: 'nginx@sha256:abc' }] } },
    want: { 'spec.containers[0].imagePullPolicy': 'Always', 'spec.containers[1].imagePullPolicy': 'Always', 'spec.containers[2].imagePullPolicy': 'IfNotPresent' },
  },
  {
    name: 'probes get their timing defaults and httpGet its path and scheme',
    kind: 'Pod',
    obj: { metadata: meta('p', 'default'), spec: { containers: [{ ...container, readinessProbe: { httpGet: { port: 8080 } }, livenessProbe: { tcpSocket: { port: 80 }, periodSeconds: 5 } }] } },
    want: {
      'spec.containers[0].readinessProbe': { httpGet: { port: 8080, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
      'spec.containers[0].livenessProbe.periodSeconds': 5,
    },
  },
  {
    name: 'a pod that already tolerates not-ready keeps its own toleration and gets only unreachable',
    kind: 'Pod',
    obj: { metadata: meta('p', 'default'), spec: { containers: [container], tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }] } },
    want: { 'spec.tolerations[0].tolerationSeconds': 5, 'spec.tolerations[1].key': 'node.kubernetes.io/unreachable', 'spec.tolerations[2]': undefined },
  },
  {
    name: 'a pod with limits but no requests gets requests equal to its limits',
    kind: 'Pod',
    obj: { metadata: meta('p', 'default'), spec: { containers: [{ ...container, resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m' } } }] } },
    want: { 'spec.containers[0].resources.requests': { cpu: '500m', memory: '1Gi' } },
  },
  {
    name: 'admission defaults are not applied on update',
    kind: 'Pod',
    operation: 'update',
    obj: { metadata: meta('p', 'default'), spec: { containers: [container] } },
    want: { 'spec.serviceAccountName': undefined, 'spec.tolerations': undefined, 'spec.priority': undefined, 'spec.restartPolicy': 'Always' },
  },
  {
    name: 'a system-node-critical pod gets its priority',
    kind: 'Pod',
    obj: { metadata: meta('p', 'kube-system'), spec: { containers: [container], priorityClassName: 'system-node-critical' } },
    want: { 'spec.priority': 2000001000 },
  },
  {
    name: 'a deployment gets replicas, a 25%/25% rolling update, history and deadline, and template defaults without admission ones',
    kind: 'Deployment',
    obj: { metadata: meta('d', 'default'), spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [container] } } } },
    want: {
      'spec.replicas': 1,
      'spec.strategy': { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      'spec.revisionHistoryLimit': 10,
      'spec.progressDeadlineSeconds': 600,
      'spec.template.spec.restartPolicy': 'Always',
      'spec.template.spec.containers[0].imagePullPolicy': 'IfNotPresent',
      'spec.template.spec.serviceAccountName': undefined,
      'spec.template.spec.tolerations': undefined,
      'spec.template.spec.enableServiceLinks': undefined,
    },
  },
  {
    name: 'a Recreate deployment gets no rollingUpdate block',
    kind: 'Deployment',
    obj: { metadata: meta('d', 'default'), spec: { strategy: { type: 'Recreate' }, selector: { matchLabels: { a: 'b' } }, template: { spec: { containers: [container] } } } },
    want: { 'spec.strategy': { type: 'Recreate' } },
  },
  {
    name: 'a replicaset defaults to one replica',
    kind: 'ReplicaSet',
    obj: { metadata: meta('r', 'default'), spec: { selector: { matchLabels: { a: 'b' } }, template: { spec: { containers: [container] } } } },
    want: { 'spec.replicas': 1, 'spec.template.spec.dnsPolicy': 'ClusterFirst' },
  },
  {
    name: 'a daemonset rolls one pod at a time without surge and keeps ten revisions',
    kind: 'DaemonSet',
    obj: { metadata: meta('ds', 'default'), spec: { selector: { matchLabels: { a: 'b' } }, template: { spec: { containers: [container] } } } },
    want: { 'spec.updateStrategy': { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }, 'spec.revisionHistoryLimit': 10 },
  },
  {
    name: 'a service becomes a single-stack IPv4 ClusterIP service with TCP ports targeting themselves',
    kind: 'Service',
    obj: { metadata: meta('s', 'default'), spec: { ports: [{ port: 80 }, { port: 53, protocol: 'UDP', targetPort: 'dns' }] } },
    want: {
      'spec.type': 'ClusterIP',
      'spec.sessionAffinity': 'None',
      'spec.internalTrafficPolicy': 'Cluster',
      'spec.externalTrafficPolicy': undefined,
      'spec.ipFamilies': ['IPv4'],
      'spec.ipFamilyPolicy': 'SingleStack',
      'spec.ports[0].protocol': 'TCP',
      'spec.ports[0].targetPort': 80,
      'spec.ports[1].targetPort': 'dns',
      'spec.allocateLoadBalancerNodePorts': undefined,
    },
  },
  {
    name: 'a LoadBalancer service gets Cluster external policy and node-port allocation',
    kind: 'Service',
    obj: { metadata: meta('s', 'default'), spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } },
    want: { 'spec.externalTrafficPolicy': 'Cluster', 'spec.allocateLoadBalancerNodePorts': true },
  },
  {
    name: 'a ClientIP service gets the three-hour affinity timeout',
    kind: 'Service',
    obj: { metadata: meta('s', 'default'), spec: { sessionAffinity: 'ClientIP', ports: [{ port: 80 }] } },
    want: { 'spec.sessionAffinityConfig': { clientIP: { timeoutSeconds: 10800 } } },
  },
  {
    name: 'a headless service mirrors clusterIP into clusterIPs',
    kind: 'Service',
    obj: { metadata: meta('s', 'default'), spec: { clusterIP: 'None', selector: { a: 'b' } } },
    want: { 'spec.clusterIPs': ['None'], 'spec.ipFamilies': ['IPv4'] },
  },
  {
    name: 'an ExternalName service gets no IP families or internal policy',
    kind: 'Service',
    obj: { metadata: meta('s', 'default'), spec: { type: 'ExternalName', externalName: 'example.com' } },
    want: { 'spec.ipFamilies': undefined, 'spec.ipFamilyPolicy': undefined, 'spec.internalTrafficPolicy': undefined, 'spec.clusterIPs': undefined },
  },
  {
    name: 'a namespace gets its name label, the kubernetes finalizer and phase Active',
    kind: 'Namespace',
    obj: { metadata: { name: 'team', labels: { x: 'y' } } },
    want: { 'metadata.labels': { x: 'y', 'kubernetes.io/metadata.name': 'team' }, 'spec.finalizers': ['kubernetes'], 'status.phase': 'Active' },
  },
  {
    name: 'a network policy with egress rules covers both directions and its ports default to TCP',
    kind: 'NetworkPolicy',
    obj: { metadata: meta('n', 'default'), spec: { podSelector: {}, egress: [{ ports: [{ port: 53 }] }] } },
    want: { 'spec.policyTypes': ['Ingress', 'Egress'], 'spec.egress[0].ports[0].protocol': 'TCP' },
  },
  {
    name: 'a network policy with only ingress rules is an Ingress policy',
    kind: 'NetworkPolicy',
    obj: { metadata: meta('n', 'default'), spec: { podSelector: {}, ingress: [{}] } },
    want: { 'spec.policyTypes': ['Ingress'] },
  },
  {
    name: 'endpoint slice ports get an empty name and TCP',
    kind: 'EndpointSlice',
    obj: { metadata: meta('e', 'default'), addressType: 'IPv4', endpoints: [], ports: [{ port: 80 }] },
    want: { 'ports[0].name': '', 'ports[0].protocol': 'TCP' },
  },
  {
    name: 'endpoints ports default to TCP',
    kind: 'Endpoints',
    obj: { metadata: meta('e', 'default'), subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }] },
    want: { 'subsets[0].ports[0].protocol': 'TCP' },
  },
  {
    name: 'a secret is Opaque and its stringData is merged into base64 data and dropped',
    kind: 'Secret',
    obj: { metadata: meta('s', 'default'), data: { a: 'YQ==', b: 'eA==' }, stringData: { b: 'bé', c: 'hello' } },
    want: { type: 'Opaque', data: { a: 'YQ==', b: 'YsOp', c: 'aGVsbG8=' }, stringData: undefined },
  },
  {
    name: 'a node without allocatable gets its capacity',
    kind: 'Node',
    obj: { metadata: meta('n'), status: { capacity: { cpu: '4' } } },
    want: { 'status.allocatable': { cpu: '4' } },
  },
  {
    name: 'ingress class parameters default to cluster scope',
    kind: 'IngressClass',
    obj: { metadata: meta('ic'), spec: { controller: 'example.com/c', parameters: { kind: 'Cfg', name: 'x' } } },
    want: { 'spec.parameters.scope': 'Cluster' },
  },
];

describe('applyDefaults', () => {
  for (const c of cases) {
    it(c.name, () => {
      const out = applyDefaults(c.kind, c.obj, c.operation ? { operation: c.operation } : {});
      for (const [path, want] of Object.entries(c.want)) assert.deepEqual(at(out, path), want, path);
    });
  }

  it('never mutates its input', () => {
    for (const c of cases) {
      const before = JSON.stringify(c.obj);
      applyDefaults(c.kind, c.obj);
      assert.equal(JSON.stringify(c.obj), before, c.name);
    }
  });

  it('is idempotent: defaulting a defaulted object changes nothing', () => {
    for (const c of cases) {
      const once = applyDefaults(c.kind, c.obj);
      assert.deepEqual(applyDefaults(c.kind, once), once, c.name);
    }
  });

  it('leaves kinds without defaults as an equal copy', () => {
    const cm: KubeObject = { metadata: meta('cm', 'default'), data: { a: 'b' } };
    const out = applyDefaults('ConfigMap', cm);
    assert.deepEqual(out, cm);
    assert.notEqual(out, cm);
  });

  it('reads image tags as the kubelet does', () => {
    assert.equal(imageTag('nginx'), 'latest');
    assert.equal(imageTag('localhost:5000/nginx'), 'latest');
    assert.equal(imageTag('localhost:5000/nginx:1.2'), '1.2');
    assert.equal(imageTag('nginx@sha256:00'), '');
  });
});
