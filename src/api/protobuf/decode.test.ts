import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../errors.ts';
import { decodeKubernetesProtobuf, decodeMessage, isProtobufMediaType, PROTOBUF_MAGIC } from './index.ts';
import { KUBECTL_CAPTURES } from './kubectl-captures.ts';
import { messageSpec } from './message-table.ts';
import { KIND_MESSAGES, MESSAGES } from './schema.ts';
import { encodeKubernetesProtobuf, encodeObject } from './test-encoder.ts';

const hex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
/** A length-delimited field built by hand: tag byte, one-byte length, payload. */
const ld = (tagByte: number, payload: number[]) => [tagByte, payload.length, ...payload];
const envelope = (apiVersion: string, kind: string, raw: number[], extra: number[] = []) =>
  Uint8Array.from([...PROTOBUF_MAGIC, ...ld(0x0a, [...ld(0x0a, ascii(apiVersion)), ...ld(0x12, ascii(kind))]), ...ld(0x12, raw), ...extra]);

function badRequest(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ApiError, `expected an ApiError, got ${String(e)}`);
    assert.equal(e.code, 400);
    assert.equal(e.reason, 'BadRequest');
    for (const f of fragments) assert.ok(e.message.includes(f), `"${e.message}" should mention "${f}"`);
    return true;
  });
}

describe('decoding bodies the real kubectl sends', () => {
  for (const c of KUBECTL_CAPTURES) {
    it(`kubectl ${c.command} decodes to the JSON kubectl sends for the same command`, () => {
      assert.deepEqual(decodeKubernetesProtobuf(hex(c.protobufHex)), JSON.parse(c.json));
    });
  }
});

describe('hand-built byte sequences', () => {
  it('a ConfigMap with a name, one data entry and immutable decodes field by field', () => {
    // metadata = 1 { name = 1 "c" }, data = 2 { key = 1 "a", value = 2 "b" }, immutable = 4 (varint) true
    const raw = [...ld(0x0a, ld(0x0a, ascii('c'))), ...ld(0x12, [...ld(0x0a, ascii('a')), ...ld(0x12, ascii('b'))]), 0x20, 0x01];
    assert.deepEqual(decodeKubernetesProtobuf(envelope('v1', 'ConfigMap', raw)),
      { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'c' }, data: { a: 'b' }, immutable: true });
  });

  it('a Secret data value is bytes and comes out base64-encoded, binary included', () => {
    const raw = [...ld(0x12, [...ld(0x0a, ascii('k')), ...ld(0x12, [0x00, 0xff, 0x10])]), ...ld(0x1a, ascii('Opaque'))];
    assert.deepEqual(decodeKubernetesProtobuf(envelope('v1', 'Secret', raw)), { kind: 'Secret', apiVersion: 'v1', data: { k: 'AP8Q' }, type: 'Opaque' });
  });

  it('a negative int32 written sign-extended over ten bytes decodes as negative', () => {
    // ContainerPort.containerPort = 3: -1 as a 64-bit varint
    const port = decodeMessage('core.v1.ContainerPort', Uint8Array.from([0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]));
    assert.deepEqual(port, { containerPort: -1 });
  });

  it('a packed repeated int64 field and the unpacked form decode to the same list', () => {
    // PodSecurityContext.supplementalGroups = 4
    const packed = decodeMessage('core.v1.PodSecurityContext', Uint8Array.from([0x22, 0x03, 0x01, 0xe8, 0x07]));
    const unpacked = decodeMessage('core.v1.PodSecurityContext', Uint8Array.from([0x20, 0x01, 0x20, 0xe8, 0x07]));
    assert.deepEqual(packed, { supplementalGroups: [1, 1000] });
    assert.deepEqual(unpacked, packed);
  });

  it('an embedded struct (Volume.volumeSource) is inlined into its parent as in JSON', () => {
    // Volume: name = 1 "v", volumeSource = 2 { emptyDir = 2 { medium = 1 "Memory" } }
    const volume = decodeMessage('core.v1.Volume', Uint8Array.from([...ld(0x0a, ascii('v')), ...ld(0x12, ld(0x12, ld(0x0a, ascii('Memory'))))]));
    assert.deepEqual(volume, { name: 'v', emptyDir: { medium: 'Memory' } });
  });
});

describe('zero values, presence and special forms', () => {
  const cases: { name: string; message: string; bytes: number[]; want: unknown }[] = [
    { name: 'zero scalars of omitempty fields are dropped (generation 0, empty uid)', message: 'meta.v1.ObjectMeta',
      bytes: [...ld(0x0a, ascii('n')), ...ld(0x2a, []), 0x38, 0x00], want: { name: 'n' } },
    { name: 'a pointer int32 set to zero is kept (replicas 0)', message: 'apps.v1.DeploymentSpec',
      bytes: [0x08, 0x00, 0x28, 0x00], want: { replicas: 0 } },
    { name: 'a pointer bool set to false is kept (automountServiceAccountToken false)', message: 'core.v1.ServiceAccount',
      bytes: [0x20, 0x00], want: { automountServiceAccountToken: false } },
    { name: 'a non-omitempty field keeps its zero value (ServicePort.port 0)', message: 'core.v1.ServicePort',
      bytes: [0x18, 0x00], want: { port: 0 } },
    { name: 'a zero Time is null, as JSON writes creationTimestamp', message: 'meta.v1.ObjectMeta',
      bytes: ld(0x42, []), want: { creationTimestamp: null } },
    { name: 'a Time is RFC 3339 in UTC with whole seconds', message: 'meta.v1.ObjectMeta',
      bytes: ld(0x42, [0x08, 0x80, 0x81, 0xc8, 0xac, 0x06, 0x10, 0x05]), want: { creationTimestamp: '2024-01-01T00:00:00Z' } },
    { name: 'a MicroTime keeps microseconds', message: 'core.v1.Event',
      bytes: ld(0x52, [0x08, 0x80, 0x81, 0xc8, 0xac, 0x06, 0x10, 0xe8, 0x07]), want: { eventTime: '2024-01-01T00:00:00.000001Z' } },
    { name: 'an IntOrString of type 1 is its string', message: 'core.v1.ServicePort',
      bytes: ld(0x22, [0x08, 0x01, 0x10, 0x00, ...ld(0x1a, ascii('http'))]), want: { targetPort: 'http' } },
    { name: 'an IntOrString of type 0 is its int', message: 'core.v1.ServicePort',
      bytes: ld(0x22, [0x08, 0x00, 0x10, 0x90, 0x3f, ...ld(0x1a, [])]), want: { targetPort: 8080 } },
    { name: 'a Quantity is its string form', message: 'core.v1.ResourceRequirements',
      bytes: ld(0x0a, [...ld(0x0a, ascii('cpu')), ...ld(0x12, ld(0x0a, ascii('100m')))]), want: { limits: { cpu: '100m' } } },
    { name: 'an empty nested struct is kept as {} (resources)', message: 'core.v1.Container',
      bytes: [...ld(0x0a, ascii('c')), ...ld(0x42, [])], want: { name: 'c', resources: {} } },
    { name: 'managedFields fieldsV1 is the JSON it carries', message: 'meta.v1.ManagedFieldsEntry',
      bytes: ld(0x3a, ld(0x0a, ascii('{"f:data":{}}'))), want: { fieldsV1: { 'f:data': {} } } },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(decodeMessage(c.message, Uint8Array.from(c.bytes)), c.want));
  }
});

describe('round trips through the test encoder', () => {
  const objects: { apiVersion: string; kind: string; obj: Record<string, unknown> }[] = [
    { apiVersion: 'apps/v1', kind: 'Deployment', obj: {
      metadata: { name: 'web', namespace: 'prod', labels: { app: 'web' }, annotations: { note: 'x' }, creationTimestamp: null, resourceVersion: '12', generation: 3,
        ownerReferences: [{ apiVersion: 'v1', kind: 'Thing', name: 'o', uid: 'u-1', controller: true }], finalizers: ['f'] },
      spec: { replicas: 0, selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] },
        template: { metadata: { creationTimestamp: null, labels: { app: 'web' } }, spec: {
          containers: [{ name: 'nginx', image: 'nginx:1', command: ['nginx'], args: ['-g', 'daemon off;'], ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }],
            env: [{ name: 'A', value: 'B' }, { name: 'POD', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
              { name: 'S', valueFrom: { secretKeyRef: { name: 's', key: 'k', optional: false } } }],
            envFrom: [{ configMapRef: { name: 'cm' } }],
            resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m' } },
            volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }],
            livenessProbe: { httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' }, initialDelaySeconds: 3, periodSeconds: 10 },
            readinessProbe: { tcpSocket: { port: 80 }, timeoutSeconds: 1 },
            startupProbe: { exec: { command: ['true'] }, failureThreshold: 30 },
            lifecycle: { preStop: { sleep: { seconds: 5 } } },
            terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent',
            securityContext: { runAsUser: 0, privileged: false, capabilities: { add: ['NET_ADMIN'] } } }],
          volumes: [{ name: 'data', emptyDir: { sizeLimit: '1Gi' } }, { name: 'cfg', configMap: { name: 'cm', defaultMode: 420, items: [{ key: 'a', path: 'a.txt' }] } },
            { name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } }] } }],
          restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', nodeSelector: { 'kubernetes.io/os': 'linux' },
          securityContext: { fsGroup: 2000, supplementalGroups: [1, 2], sysctls: [{ name: 'net.ipv4.ip_forward', value: '1' }] },
          affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'k', operator: 'Exists' }] }] } } },
          tolerations: [{ key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule', tolerationSeconds: 0 }],
          hostAliases: [{ ip: '10.0.0.1', hostnames: ['a'] }], dnsConfig: { nameservers: ['1.1.1.1'], options: [{ name: 'ndots', value: '2' }] },
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' }] } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 1 } }, revisionHistoryLimit: 10, progressDeadlineSeconds: 600 },
      status: { replicas: 2, readyReplicas: 1, conditions: [{ type: 'Available', status: 'True', lastUpdateTime: '2024-05-06T07:08:09Z', lastTransitionTime: null }] } } },
    { apiVersion: 'v1', kind: 'Service', obj: {
      metadata: { name: 's' }, spec: { type: 'NodePort', selector: { app: 's' }, clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack',
        ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 }, { name: 'dns', protocol: 'UDP', port: 53, targetPort: 'dns' }],
        sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } }, externalTrafficPolicy: 'Local', healthCheckNodePort: 31000,
        allocateLoadBalancerNodePorts: false, internalTrafficPolicy: 'Cluster' },
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.1', ipMode: 'VIP', ports: [{ port: 80, protocol: 'TCP', error: 'e' }] }] } } } },
    { apiVersion: 'v1', kind: 'ConfigMap', obj: { metadata: { name: 'c' }, data: { a: 'b', empty: '' }, binaryData: { bin: 'AP8=' }, immutable: false } },
    { apiVersion: 'v1', kind: 'Secret', obj: { metadata: { name: 's' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'Y2VydA==', 'tls.key': '' }, stringData: { x: 'y' } } },
    { apiVersion: 'v1', kind: 'Namespace', obj: { metadata: { name: 'n', deletionTimestamp: '2024-01-01T00:00:00Z', deletionGracePeriodSeconds: 0 }, spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Terminating', conditions: [{ type: 'NamespaceDeletionContentFailure', status: 'False', lastTransitionTime: '2024-01-01T00:00:01Z' }] } } },
    { apiVersion: 'v1', kind: 'ServiceAccount', obj: { metadata: { name: 'sa' }, secrets: [{ name: 'tok' }], imagePullSecrets: [{ name: 'reg' }], automountServiceAccountToken: true } },
    { apiVersion: 'v1', kind: 'Pod', obj: { metadata: { name: 'p', managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'v1', time: '2024-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } }] },
      spec: { nodeName: 'n1', hostNetwork: true, containers: [{ name: 'c', image: 'busybox', stdin: true, tty: true }],
        ephemeralContainers: [{ name: 'dbg', image: 'busybox', targetContainerName: 'c' }], initContainers: [{ name: 'i', image: 'busybox', restartPolicy: 'Always' }],
        volumes: [{ name: 'root', hostPath: { path: '/', type: '' } }, { name: 'sec', secret: { secretName: 's', optional: true } }, { name: 'pvc', persistentVolumeClaim: { claimName: 'c' } }] },
      status: { phase: 'Running', podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }], startTime: '2024-01-01T00:00:00Z',
        conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2024-01-01T00:00:02Z' }],
        containerStatuses: [{ name: 'c', ready: true, restartCount: 0, image: 'busybox', imageID: '', started: true,
          state: { running: { startedAt: '2024-01-01T00:00:01Z' } }, lastState: { terminated: { exitCode: 0, reason: 'Completed', startedAt: null, finishedAt: null } } }] } } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', obj: { metadata: { name: 'i' }, spec: { ingressClassName: 'flatnet',
      defaultBackend: { service: { name: 'd', port: { name: 'http' } } }, tls: [{ hosts: ['a.example'], secretName: 't' }],
      rules: [{ host: 'a.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 's', port: { number: 80 } } } }] } }] },
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.2' }] } } } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', obj: { metadata: { name: 'np' }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }, { namespaceSelector: { matchLabels: { a: 'b' } } }], ports: [{ protocol: 'TCP', port: 'http', endPort: 90 }] }],
      egress: [{ to: [{ podSelector: { matchLabels: { app: 'db' } } }], ports: [{ protocol: 'UDP', port: 53 }] }] } } },
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', obj: { metadata: { name: 'e' }, addressType: 'IPv4',
      endpoints: [{ addresses: ['10.0.0.5'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'n1', targetRef: { kind: 'Pod', name: 'p', namespace: 'd' } }],
      ports: [{ name: 'http', protocol: 'TCP', port: 80 }] } },
    { apiVersion: 'apps/v1', kind: 'DaemonSet', obj: { metadata: { name: 'ds' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } } }, status: { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 1, numberReady: 0 } } },
    { apiVersion: 'apps/v1', kind: 'ReplicaSet', obj: { metadata: { name: 'rs' }, spec: { replicas: 1, selector: { matchLabels: { a: 'b' } } }, status: { replicas: 0 } } },
    { apiVersion: 'v1', kind: 'Event', obj: { metadata: { name: 'ev' }, involvedObject: { kind: 'Pod', name: 'p' }, reason: 'Started', message: 'm', source: { component: 'kubelet' },
      firstTimestamp: '2024-01-01T00:00:00Z', lastTimestamp: null, count: 2, type: 'Normal', eventTime: '2024-01-01T00:00:00.123456Z', reportingComponent: '', reportingInstance: '' } },
    { apiVersion: 'v1', kind: 'Endpoints', obj: { metadata: { name: 'e' }, subsets: [{ addresses: [{ ip: '10.0.0.5', nodeName: 'n1' }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }] } },
    { apiVersion: 'v1', kind: 'Node', obj: { metadata: { name: 'n' }, spec: { podCIDR: '10.244.0.0/24', podCIDRs: ['10.244.0.0/24'], taints: [{ key: 'k', effect: 'NoSchedule' }] },
      status: { capacity: { cpu: '4' }, addresses: [{ type: 'InternalIP', address: '10.0.0.1' }], conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: null, lastTransitionTime: null }],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } } } } },
    { apiVersion: 'v1', kind: 'Binding', obj: { metadata: { name: 'p' }, target: { kind: 'Node', name: 'n1' } } },
    { apiVersion: 'policy/v1', kind: 'Eviction', obj: { metadata: { name: 'p' }, deleteOptions: { gracePeriodSeconds: 0, preconditions: { uid: 'u' } } } },
    { apiVersion: 'autoscaling/v1', kind: 'Scale', obj: { metadata: { name: 'x' }, spec: { replicas: 3 }, status: { replicas: 0, selector: 'app=x' } } },
    { apiVersion: 'meta.k8s.io/v1', kind: 'DeleteOptions', obj: { gracePeriodSeconds: 0, propagationPolicy: 'Foreground', dryRun: ['All'], orphanDependents: false } },
    { apiVersion: 'apps/v1', kind: 'DeleteOptions', obj: { propagationPolicy: 'Orphan' } },
  ];
  for (const { apiVersion, kind, obj } of objects) {
    it(`a ${apiVersion} ${kind} survives encoding and decoding, with and without the marshaller's zero scalars`, () => {
      const expected = { kind, apiVersion, ...obj };
      const message = KIND_MESSAGES[`${apiVersion}/${kind}`] ?? 'meta.v1.DeleteOptions';
      assert.deepEqual(decodeKubernetesProtobuf(encodeKubernetesProtobuf(apiVersion, kind, message, obj)), expected);
      assert.deepEqual(decodeKubernetesProtobuf(encodeKubernetesProtobuf(apiVersion, kind, message, obj, { zeros: true })), expected);
    });
  }
});

describe('malformed or unsupported bodies', () => {
  const podWithSpec = (spec: number[]) => envelope('v1', 'Pod', ld(0x12, spec));
  const cases: { name: string; body: () => Uint8Array; mentions: string[] }[] = [
    { name: 'an unknown field number fails naming the message, the number and where it is', mentions: ['core.v1.PodSpec', 'field number 99', 'at spec'],
      body: () => podWithSpec([0x98, 0x06, 0x01]) },
    { name: 'an unknown field deep inside a container fails naming the container message', mentions: ['core.v1.Container', 'field number 90', 'spec.containers'],
      body: () => podWithSpec(ld(0x12, [...ld(0x0a, ascii('c')), 0xd0, 0x05, 0x01])) },
    { name: 'an unknown envelope field fails', mentions: ['runtime.Unknown', 'field number 9'],
      body: () => Uint8Array.from([...envelope('v1', 'Namespace', []), 0x48, 0x01]) },
    { name: 'a body without the k8s magic prefix fails', mentions: ['k8s'],
      body: () => Uint8Array.from(ascii('{"kind":"Namespace"}')) },
    { name: 'a length running past the end of the body fails', mentions: ['longer than its message'],
      body: () => Uint8Array.from([...PROTOBUF_MAGIC, 0x12, 0x40, 0x0a]) },
    { name: 'a truncated varint fails', mentions: ['truncated varint'],
      body: () => envelope('apps/v1', 'Deployment', ld(0x12, [0x08, 0x80])) },
    { name: 'a string field sent as a varint fails naming the field and wire types', mentions: ['field 2 (image)', 'core.v1.Container', 'wire type 0'],
      body: () => podWithSpec(ld(0x12, [0x10, 0x01])) },
    { name: 'a group wire type fails', mentions: ['wire type 3'],
      body: () => podWithSpec([0x0b]) },
    { name: 'a kind flatnet does not decode fails naming kind and version', mentions: ['Job', 'batch/v1'],
      body: () => envelope('batch/v1', 'Job', []) },
    { name: 'an envelope without a kind fails', mentions: ['Kind'],
      body: () => Uint8Array.from([...PROTOBUF_MAGIC, ...ld(0x12, [])]) },
    { name: 'a compressed envelope fails', mentions: ['contentEncoding', 'gzip'],
      body: () => envelope('v1', 'Namespace', [], ld(0x1a, ascii('gzip'))) },
    { name: 'a timestamp beyond year 9999 fails instead of printing an invalid time', mentions: ['outside years'],
      body: () => envelope('v1', 'Namespace', ld(0x0a, ld(0x42, [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f]))) },
    { name: 'an IntOrString with an unknown type fails', mentions: ['IntOrString type 7'],
      body: () => envelope('v1', 'Service', ld(0x12, ld(0x0a, ld(0x22, [0x08, 0x07])))) },
    { name: 'a deprecated in-tree volume plugin is refused, not dropped', mentions: ['core.v1.VolumeSource', 'field number 3'],
      body: () => podWithSpec(ld(0x0a, [...ld(0x0a, ascii('v')), ...ld(0x12, ld(0x1a, []))])) },
  ];
  for (const c of cases) {
    it(c.name, () => badRequest(() => decodeKubernetesProtobuf(c.body()), ...c.mentions));
  }
});

describe('the message table', () => {
  it('parses every message and every referenced message exists', () => {
    for (const name of Object.keys(MESSAGES)) {
      const spec = messageSpec(name);
      assert.ok(spec && spec.fields.size > 0, name);
      for (const f of spec.fields.values()) assert.ok(f.num > 0 && (f.scalar !== undefined || f.message !== undefined), `${name}.${f.json}`);
    }
  });

  it('names an existing message for every served kind', () => {
    for (const [key, message] of Object.entries(KIND_MESSAGES)) assert.ok(messageSpec(message), key);
  });
});

describe('media types', () => {
  const cases: [string | undefined, boolean][] = [
    ['application/vnd.kubernetes.protobuf', true],
    ['Application/Vnd.Kubernetes.Protobuf; charset=binary', true],
    ['application/vnd.kubernetes.protobuf;stream=watch', true],
    ['application/json', false],
    ['application/yaml', false],
    [undefined, false],
  ];
  for (const [type, want] of cases) {
    it(`${String(type)} ${want ? 'is' : 'is not'} the protobuf media type`, () => assert.equal(isProtobufMediaType(type), want));
  }

  it('the test encoder and the hand-built envelope agree on the prefix', () => {
    assert.deepEqual([...encodeKubernetesProtobuf('v1', 'Namespace', 'core.v1.Namespace', {}).slice(0, 4)], [...PROTOBUF_MAGIC]);
    assert.deepEqual(encodeObject('core.v1.NamespaceSpec', { finalizers: ['a'] }), [0x0a, 0x01, 0x61]);
  });
});
