import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { EndpointSlice, KubeObject, Pod, Service } from '../api/types.ts';
import { FIRST_NODE_HOST } from '../lab/core/spec.ts';
import { clusterDNSServiceIP, kubernetesServiceIP } from '../net/allocators.ts';
import { cidrContains, cidrContainsCidr, cidrSize, formatIPv4, nthAddress, parseCidr, parseIPv4 } from '../net/ipv4.ts';
import { SEED_ALLOW_FRONTEND_TO_BACKEND, SEED_BACKEND_POLICY } from '../../test/support/seed-policies.ts';
import { offlineCluster, type OfflineCluster, type OfflineClusterOptions } from './offline-cluster.ts';
import { ModelError } from './types.ts';

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');

function yamlDocs(text: string): unknown[] {
  return parseAllDocuments(text).map((d) => d.toJS() as unknown).filter((d) => d !== null);
}

function examples(): unknown[] {
  return readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort().flatMap((f) => yamlDocs(readFileSync(join(EXAMPLES, f), 'utf8')));
}

const deployment = (name: string, replicas: number, labels: Record<string, string>, extra: { namespace?: string; port?: number; podSpec?: Record<string, unknown> } = {}): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { name, ...(extra.namespace ? { namespace: extra.namespace } : {}) },
  spec: {
    replicas, selector: { matchLabels: labels },
    template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ name: 'http', containerPort: extra.port ?? 8080 }] }], ...(extra.podSpec ?? {}) } },
  },
});

const service = (name: string, spec: Record<string, unknown>, namespace?: string): KubeObject => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, ...(namespace ? { namespace } : {}) }, spec,
});

const pod = (name: string, labels: Record<string, string>, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...extra },
});

const svcOf = (c: OfflineCluster, ns: string, name: string): Service => {
  const s = c.snapshot.services.find((x) => x.metadata.namespace === ns && x.metadata.name === name);
  assert.ok(s, `service ${ns}/${name} exists`);
  return s;
};
const slicesOf = (c: OfflineCluster, ns: string, name: string): EndpointSlice[] =>
  c.snapshot.endpointSlices.filter((s) => s.metadata.namespace === ns && s.metadata.labels?.['kubernetes.io/service-name'] === name);
const endpointIPs = (slices: readonly EndpointSlice[]): string[] => slices.flatMap((s) => (s.endpoints ?? []).flatMap((e) => e.addresses)).sort();
const selected = (c: OfflineCluster, ns: string, labels: Record<string, string>): Pod[] =>
  c.snapshot.pods.filter((p) => p.metadata.namespace === ns && Object.entries(labels).every(([k, v]) => p.metadata.labels?.[k] === v));
const podIPs = (pods: readonly Pod[]): string[] => pods.map((p) => p.status?.podIP ?? '').sort();

function assertInvalid(objects: unknown[], mustName: readonly string[], options?: OfflineClusterOptions): void {
  assert.throws(() => offlineCluster(objects, options), (e: unknown) => {
    assert.ok(e instanceof ModelError, `a ModelError, not ${String(e)}`);
    assert.equal(e.code, 'InvalidSnapshot');
    for (const part of mustName) assert.ok(e.message.includes(part), `"${e.message}" names ${part}`);
    return true;
  });
}

describe('offlineCluster: the seeds\' examples', () => {
  const cluster = offlineCluster(examples());
  const { snapshot } = cluster;

  it('expands the nginx Deployment into 3 running, ready pods owned by its ReplicaSet, named as the controllers name them', () => {
    const nginx = selected(cluster, 'demo', { app: 'nginx' });
    assert.equal(nginx.length, 3);
    for (const p of nginx) {
      const hash = p.metadata.labels?.['pod-template-hash'];
      assert.ok(hash, 'pod-template-hash label');
      const owner = p.metadata.ownerReferences?.[0];
      assert.equal(owner?.kind, 'ReplicaSet');
      assert.equal(owner?.name, `nginx-${hash}`);
      assert.match(p.metadata.name ?? '', new RegExp(`^nginx-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      assert.equal(p.status?.phase, 'Running');
      assert.equal(p.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
      assert.match(p.metadata.uid ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
    assert.equal(new Set(snapshot.pods.map((p) => p.metadata.uid)).size, snapshot.pods.length, 'uids are unique');
  });

  it('backs nginx-service with exactly the pods its selector picks, on the targetPort, each endpoint naming its pod and node', () => {
    const svc = svcOf(cluster, 'demo', 'nginx-service');
    const slices = slicesOf(cluster, 'demo', 'nginx-service');
    assert.deepEqual(endpointIPs(slices), podIPs(selected(cluster, 'demo', svc.spec?.selector ?? {})));
    for (const s of slices) {
      assert.deepEqual(s.ports, [{ name: '', port: 8080, protocol: 'TCP' }]);
      for (const ep of s.endpoints ?? []) {
        const backing = snapshot.pods.find((p) => p.metadata.uid === ep.targetRef?.uid);
        assert.equal(backing?.status?.podIP, ep.addresses[0]);
        assert.equal(backing?.spec?.nodeName, ep.nodeName);
        assert.equal(ep.conditions?.ready, true);
      }
    }
  });

  it('gives every node a distinct /24 of the pod CIDR and an underlay address from .11, and every pod an address in its node\'s CIDR above the cni0 gateway', () => {
    const podCIDR = parseCidr(snapshot.podCIDR);
    const underlay = parseCidr(snapshot.underlay);
    assert.deepEqual(snapshot.nodes.map((n) => n.metadata.name), ['node-1', 'node-2', 'node-3']);
    snapshot.nodes.forEach((n, i) => {
      const cidr = parseCidr(n.spec?.podCIDR ?? '');
      assert.equal(cidr.prefix, 24);
      assert.ok(cidrContainsCidr(podCIDR, cidr));
      assert.deepEqual(n.spec?.podCIDRs, [n.spec?.podCIDR]);
      assert.equal(n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address, formatIPv4(nthAddress(underlay, FIRST_NODE_HOST + i)));
      assert.equal(n.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    });
    assert.equal(new Set(snapshot.nodes.map((n) => n.spec?.podCIDR)).size, 3);
    for (const p of snapshot.pods) {
      const node = snapshot.nodes.find((n) => n.metadata.name === p.spec?.nodeName);
      assert.ok(node, `${p.metadata.name} is on a node`);
      const cidr = parseCidr(node.spec?.podCIDR ?? '');
      const ip = parseIPv4(p.status?.podIP ?? '');
      assert.ok(cidrContains(cidr, ip), `${p.status?.podIP} in ${node.spec?.podCIDR}`);
      assert.ok(ip - cidr.network >= 2 && ip - cidr.network < cidrSize(cidr) - 1, 'not network, gateway or broadcast');
      assert.equal(p.status?.hostIP, node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address);
    }
    assert.equal(new Set(snapshot.pods.map((p) => p.status?.podIP)).size, snapshot.pods.length, 'pod IPs are unique');
  });

  it('adds what flatnet up makes: the kubernetes Service, kube-dns on 53 UDP/TCP and 9153 backed by the coredns pods, and the ingress controller', () => {
    assert.equal(svcOf(cluster, 'default', 'kubernetes').spec?.clusterIP, kubernetesServiceIP(snapshot.serviceCIDR));
    assert.deepEqual(endpointIPs(slicesOf(cluster, 'default', 'kubernetes')), [formatIPv4(nthAddress(parseCidr(snapshot.underlay), 1))]);
    const dns = svcOf(cluster, 'kube-system', 'kube-dns');
    assert.equal(dns.spec?.clusterIP, clusterDNSServiceIP(snapshot.serviceCIDR));
    assert.deepEqual(dns.spec?.ports?.map((p) => `${p.port}/${p.protocol}`), ['53/UDP', '53/TCP', '9153/TCP']);
    const coredns = selected(cluster, 'kube-system', { 'k8s-app': 'kube-dns' });
    assert.equal(coredns.length, 2);
    assert.deepEqual(endpointIPs(slicesOf(cluster, 'kube-system', 'kube-dns')), podIPs(coredns));
    assert.deepEqual(snapshot.namespaces.map((n) => n.metadata.name),
      ['default', 'demo', 'flatnet-ingress', 'kube-node-lease', 'kube-public', 'kube-system']);
    assert.deepEqual(snapshot.ingressClasses?.map((c) => c.metadata.name), ['flatnet']);
  });

  it('publishes the ingress controller\'s LoadBalancer address on the seed Ingress', () => {
    const lb = svcOf(cluster, 'flatnet-ingress', 'flatnet-ingress').status?.loadBalancer?.ingress?.[0]?.ip;
    assert.ok(lb !== undefined && cidrContains(parseCidr(snapshot.lbPool ?? ''), parseIPv4(lb)));
    assert.deepEqual(snapshot.ingresses?.find((i) => i.metadata.name === 'web')?.status?.loadBalancer?.ingress, [{ ip: lb }]);
  });

  it('keeps the seed NetworkPolicies, defaulted as the API server defaults them', () => {
    assert.deepEqual(snapshot.networkPolicies.map((p) => p.metadata.name), ['allow-frontend-to-backend', 'backend-policy']);
    assert.deepEqual(snapshot.networkPolicies.find((p) => p.metadata.name === 'allow-frontend-to-backend')?.spec?.policyTypes, ['Ingress']);
    assert.equal(snapshot.networkPolicies.find((p) => p.metadata.name === 'backend-policy')?.spec?.ingress?.[0]?.ports?.[0]?.protocol, 'TCP');
  });
});

describe('offlineCluster: Services', () => {
  const objects = [
    deployment('web', 2, { app: 'web' }),
    service('web-np', { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'web', port: 80, targetPort: 'http' }, { name: 'fixed', port: 81, nodePort: 30080 }] }),
    service('web-lb', { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }),
    service('web-lb2', { type: 'LoadBalancer', loadBalancerIP: '172.30.255.200', externalTrafficPolicy: 'Local', selector: { app: 'web' }, ports: [{ port: 80 }] }),
    service('other-class', { type: 'LoadBalancer', loadBalancerClass: 'example.com/lb', selector: { app: 'web' }, ports: [{ port: 80 }] }),
    service('fixed-ip', { clusterIP: '10.96.10.50', selector: { app: 'web' }, ports: [{ port: 80 }] }),
    service('dns-like', { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'u', port: 53, protocol: 'UDP' }, { name: 't', port: 53, protocol: 'TCP' }] }),
    service('db', { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432 }] }),
    { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db' }, spec: {
      serviceName: 'db', replicas: 2, selector: { matchLabels: { app: 'db' } },
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'pg', image: 'busybox', ports: [{ containerPort: 5432 }] }] } },
    } },
    service('external', { type: 'ExternalName', externalName: 'example.com' }),
  ];
  const cluster = offlineCluster(objects);
  const serviceCIDR = parseCidr(cluster.snapshot.serviceCIDR);
  const lbPool = parseCidr(cluster.snapshot.lbPool ?? '');

  const cases: { name: string; check: () => void }[] = [
    {
      name: 'NodePort and LoadBalancer Services get node ports in 30000-32767, a requested one is kept, and none is shared between Services',
      check: () => {
        const ports = cluster.snapshot.services.flatMap((s) => (s.spec?.ports ?? []).map((p) => p.nodePort).filter((n): n is number => n !== undefined));
        assert.ok(ports.length >= 6);
        for (const p of ports) assert.ok(p >= 30000 && p <= 32767, `${p} in range`);
        assert.equal(svcOf(cluster, 'default', 'web-np').spec?.ports?.[1]?.nodePort, 30080);
        const dnsLike = svcOf(cluster, 'default', 'dns-like').spec?.ports ?? [];
        assert.equal(dnsLike[0]?.nodePort, dnsLike[1]?.nodePort, 'one port number on UDP and TCP shares its node port');
        const perService = cluster.snapshot.services.flatMap((s) => [...new Set((s.spec?.ports ?? []).map((p) => p.nodePort).filter((n) => n !== undefined))]);
        assert.equal(new Set(perService).size, perService.length);
      },
    },
    {
      name: 'a LoadBalancer Service gets a pool address in status.loadBalancer.ingress, a requested loadBalancerIP is honoured, another class gets none',
      check: () => {
        const lb = svcOf(cluster, 'default', 'web-lb').status?.loadBalancer?.ingress ?? [];
        assert.equal(lb.length, 1);
        assert.ok(cidrContains(lbPool, parseIPv4(lb[0]?.ip ?? '')));
        assert.equal(lb[0]?.ipMode, 'VIP');
        assert.equal(svcOf(cluster, 'default', 'web-lb2').status?.loadBalancer?.ingress?.[0]?.ip, '172.30.255.200');
        assert.ok((svcOf(cluster, 'default', 'web-lb2').spec?.healthCheckNodePort ?? 0) >= 30000, 'Local policy gets a health-check node port');
        assert.equal(svcOf(cluster, 'default', 'other-class').status?.loadBalancer?.ingress, undefined);
        const ips = cluster.snapshot.services.flatMap((s) => (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip));
        assert.equal(new Set(ips).size, ips.length);
      },
    },
    {
      name: 'a ClusterIP given in the manifest is kept and every other Service gets a distinct address of the service CIDR',
      check: () => {
        assert.equal(svcOf(cluster, 'default', 'fixed-ip').spec?.clusterIP, '10.96.10.50');
        assert.deepEqual(svcOf(cluster, 'default', 'fixed-ip').spec?.clusterIPs, ['10.96.10.50']);
        const ips = cluster.snapshot.services.map((s) => s.spec?.clusterIP).filter((ip): ip is string => ip !== undefined && ip !== 'None');
        for (const ip of ips) assert.ok(cidrContains(serviceCIDR, parseIPv4(ip)));
        assert.equal(new Set(ips).size, ips.length);
        assert.equal(svcOf(cluster, 'default', 'external').spec?.clusterIP, undefined);
      },
    },
    {
      name: 'a headless Service keeps clusterIP None and its slices carry the headless label and the StatefulSet pods\' hostnames',
      check: () => {
        assert.equal(svcOf(cluster, 'default', 'db').spec?.clusterIP, 'None');
        const slices = slicesOf(cluster, 'default', 'db');
        assert.ok(slices.length > 0 && slices.every((s) => s.metadata.labels?.['service.kubernetes.io/headless'] === ''));
        assert.deepEqual(slices.flatMap((s) => (s.endpoints ?? []).map((e) => e.hostname)).sort(), ['db-0', 'db-1']);
        assert.deepEqual(endpointIPs(slices), podIPs(selected(cluster, 'default', { app: 'db' })));
      },
    },
    {
      name: 'a named targetPort resolves to the container port of that name in the slices',
      check: () => {
        const slices = slicesOf(cluster, 'default', 'web-np');
        assert.deepEqual(slices.flatMap((s) => s.ports ?? []).map((p) => `${p.name}:${p.port}`).sort(), ['fixed:81', 'web:8080']);
        assert.equal(endpointIPs(slices).length, 2);
      },
    },
  ];
  for (const c of cases) it(c.name, c.check);
});

describe('offlineCluster: placement and addresses', () => {
  const cases: { name: string; objects: unknown[]; options?: OfflineClusterOptions; check: (c: OfflineCluster) => void }[] = [
    {
      name: 'pods on one node take the node CIDR\'s addresses from .2 upwards with no gaps',
      objects: [deployment('web', 4, { app: 'web' })],
      options: { nodes: 1, includeSystem: false },
      check: (c) => {
        const cidr = parseCidr(c.snapshot.nodes[0]?.spec?.podCIDR ?? '');
        assert.deepEqual(podIPs(c.snapshot.pods), [2, 3, 4, 5].map((n) => formatIPv4(nthAddress(cidr, n))).sort());
      },
    },
    {
      name: 'spec.nodeName is honoured and a manifest\'s status.podIP is kept, placing the pod on the node whose CIDR holds it',
      objects: [pod('pinned', { app: 'a' }, { nodeName: 'node-2' }), { ...pod('addressed', { app: 'a' }), status: { podIP: '10.244.2.77' } }],
      options: { includeSystem: false },
      check: (c) => {
        const pinned = c.snapshot.pods.find((p) => p.metadata.name === 'pinned');
        const addressed = c.snapshot.pods.find((p) => p.metadata.name === 'addressed');
        assert.equal(pinned?.spec?.nodeName, 'node-2');
        assert.equal(addressed?.status?.podIP, '10.244.2.77');
        const owner = c.snapshot.nodes.find((n) => cidrContains(parseCidr(n.spec?.podCIDR ?? ''), parseIPv4('10.244.2.77')));
        assert.equal(addressed?.spec?.nodeName, owner?.metadata.name);
      },
    },
    {
      name: 'a DaemonSet runs one pod on every node',
      objects: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: 'ops' }, spec: {
        selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a', image: 'busybox' }] } },
      } }],
      options: { nodes: 4, includeSystem: false },
      check: (c) => {
        assert.deepEqual(c.snapshot.pods.map((p) => p.spec?.nodeName).sort(), c.snapshot.nodes.map((n) => n.metadata.name).sort());
        assert.ok(c.notes.some((n) => n.includes('Namespace ops')), 'the auto-created namespace is noted');
      },
    },
    {
      name: 'Node objects in the manifests replace the generated nodes and a given podCIDR is kept',
      objects: [
        { apiVersion: 'v1', kind: 'Node', metadata: { name: 'alpha' }, spec: { podCIDR: '10.244.9.0/24' } },
        { apiVersion: 'v1', kind: 'Node', metadata: { name: 'beta' } },
        deployment('web', 2, { app: 'web' }),
      ],
      options: { includeSystem: false },
      check: (c) => {
        assert.deepEqual(c.snapshot.nodes.map((n) => `${n.metadata.name}=${n.spec?.podCIDR}`), ['alpha=10.244.9.0/24', 'beta=10.244.0.0/24']);
        assert.deepEqual(c.snapshot.pods.map((p) => p.spec?.nodeName).sort(), ['alpha', 'beta']);
      },
    },
    {
      name: 'a pod no node fits stays Pending with the scheduler\'s reason, gets no address and backs no Service',
      objects: [pod('picky', { app: 'p' }, { nodeSelector: { disk: 'ssd' } }), service('picky', { selector: { app: 'p' }, ports: [{ port: 80 }] })],
      options: { includeSystem: false },
      check: (c) => {
        const p = c.snapshot.pods[0];
        assert.equal(p?.status?.phase, 'Pending');
        assert.equal(p?.status?.podIP, undefined);
        assert.equal(p?.status?.conditions?.find((x) => x.type === 'PodScheduled')?.reason, 'Unschedulable');
        assert.deepEqual(endpointIPs(slicesOf(c, 'default', 'picky')), []);
      },
    },
    {
      name: 'host-network pods take their node\'s address instead of one from the Pod CIDR',
      objects: [pod('hostnet', { app: 'h' }, { hostNetwork: true })],
      options: { includeSystem: false, nodes: 1 },
      check: (c) => assert.equal(c.snapshot.pods[0]?.status?.podIP, c.snapshot.pods[0]?.status?.hostIP),
    },
    {
      name: 'Lists are flattened, kinds that do not shape the data plane are listed as ignored, and the options reach the snapshot',
      objects: [{ apiVersion: 'v1', kind: 'List', items: [pod('a', { app: 'a' }), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'x' } }] }],
      options: { includeSystem: false, backend: 'vxlan', name: 'lab2', podCIDR: '10.32.0.0/16' },
      check: (c) => {
        assert.deepEqual(c.snapshot.pods.map((p) => p.metadata.name), ['a']);
        assert.deepEqual(c.ignored, ['ConfigMap x/cfg']);
        assert.equal(c.snapshot.backend, 'vxlan');
        assert.equal(c.snapshot.name, 'lab2');
        assert.ok(cidrContains(parseCidr('10.32.0.0/16'), parseIPv4(c.snapshot.pods[0]?.status?.podIP ?? '')));
        assert.deepEqual(c.snapshot.services, []);
      },
    },
  ];
  for (const c of cases) it(c.name, () => c.check(offlineCluster(c.objects, c.options)));
});

describe('offlineCluster: rejected manifests', () => {
  const seedPolicies = [...yamlDocs(SEED_BACKEND_POLICY), ...yamlDocs(SEED_ALLOW_FRONTEND_TO_BACKEND)];
  const cases: { name: string; objects: unknown[]; options?: OfflineClusterOptions; names: string[] }[] = [
    { name: 'the same Deployment twice', objects: [deployment('web', 1, { app: 'w' }), deployment('web', 2, { app: 'w' })], names: ['Deployment default/web'] },
    { name: 'the seed policy twice in one namespace', objects: [...seedPolicies, seedPolicies[0]], names: ['NetworkPolicy default/backend-policy'] },
    { name: 'a Pod named like a StatefulSet\'s pod', objects: [
      { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db' }, spec: { replicas: 1, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } } },
      pod('db-0', {}),
    ], names: ['Pod default/db-0'] },
    { name: 'a Service port out of range', objects: [service('bad', { ports: [{ port: 70000 }] })], names: ['Service default/bad', 'spec.ports[0].port'] },
    { name: 'a Pod without containers', objects: [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'empty' }, spec: { containers: [] } }], names: ['Pod default/empty', 'spec.containers'] },
    { name: 'a Deployment whose selector misses its template', objects: [{ ...deployment('web', 1, { app: 'w' }), spec: { selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'w' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } } }], names: ['Deployment default/web', 'spec.template.metadata.labels'] },
    { name: 'a NetworkPolicy with a bad port', objects: [{ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'np' }, spec: { podSelector: {}, ingress: [{ ports: [{ port: 0 }] }] } }], names: ['NetworkPolicy default/np'] },
    { name: 'a ClusterIP outside the service CIDR', objects: [service('far', { clusterIP: '192.168.0.10', ports: [{ port: 80 }] })], names: ['Service default/far', 'spec.clusterIPs'] },
    { name: 'one ClusterIP asked for by two Services', objects: [service('a', { clusterIP: '10.96.0.50', ports: [{ port: 80 }] }), service('b', { clusterIP: '10.96.0.50', ports: [{ port: 80 }] })], names: ['Service default/b', 'already allocated'] },
    { name: 'the kube-dns address taken by a user Service', objects: [service('mine', { clusterIP: '10.96.0.10', ports: [{ port: 80 }] })], names: ['already allocated'] },
    { name: 'one NodePort asked for by two Services', objects: [service('a', { type: 'NodePort', ports: [{ port: 80, nodePort: 30001 }] }), service('b', { type: 'NodePort', ports: [{ port: 80, nodePort: 30001 }] })], names: ['Service default/b', 'spec.ports[0].nodePort'] },
    { name: 'a NodePort outside 30000-32767', objects: [service('a', { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] })], names: ['Service default/a', 'spec.ports[0].nodePort'] },
    { name: 'a served kind under a wrong apiVersion', objects: [{ ...deployment('web', 1, { app: 'w' }), apiVersion: 'extensions/v1beta1' }], names: ['Deployment default/web', 'apps/v1'] },
    { name: 'a document that is not an object', objects: ['just text'], names: ['object 0'] },
    { name: 'a pod address outside every node\'s CIDR', objects: [{ ...pod('lost', {}), status: { podIP: '10.250.0.5' } }], names: ['Pod default/lost', '10.250.0.5'] },
    { name: 'zero nodes', objects: [], options: { nodes: 0 }, names: ['nodes'] },
    { name: 'overlapping pod and service CIDRs', objects: [], options: { podCIDR: '10.96.0.0/16' }, names: ['serviceCIDR'] },
  ];
  for (const c of cases) it(`rejects ${c.name} with InvalidSnapshot naming the object and field`, () => assertInvalid(c.objects, c.names, c.options));
});

describe('offlineCluster: determinism', () => {
  it('gives the same snapshot, notes and names for the same manifests, and leaves the input untouched', () => {
    const input = [...examples(), deployment('web', 5, { app: 'web' }), service('web', { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80 }] })];
    const before = JSON.stringify(input);
    const a = offlineCluster(input);
    const b = offlineCluster(JSON.parse(before) as unknown[]);
    assert.deepEqual(a, b);
    assert.equal(JSON.stringify(input), before);
  });

  it('gives other pod names when the template changes, as a new pod-template-hash does', () => {
    const one = offlineCluster([deployment('web', 1, { app: 'web' })], { includeSystem: false });
    const two = offlineCluster([deployment('web', 1, { app: 'web' }, { port: 9090 })], { includeSystem: false });
    assert.notEqual(one.snapshot.pods[0]?.metadata.name, two.snapshot.pods[0]?.metadata.name);
  });
});
