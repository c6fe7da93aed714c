// The data-plane model on offline clusters built from manifests: each flow the seeds describe, checked for
// the hops they name, the addresses before and after NAT, and the verdict with what decided it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterModel } from './cluster-model.ts';
import { parseTraceSource, parseTraceTarget } from './flow-text.ts';
import { offlineCluster } from './offline-cluster.ts';
import { possibleOutcomes } from './outcomes.ts';
import { renderTrace } from './render-trace.ts';
import { ModelError, type Backend, type FlowSpec, type Hop, type Trace } from './types.ts';

type Obj = Record<string, unknown>;

const pod = (ns: string, name: string, node: string, labels: Record<string, string>, ports: number[] = [8080], extra: Obj = {}): Obj => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels },
  spec: { nodeName: node, containers: [{ name: 'app', image: 'registry.k8s.io/e2e-test-images/agnhost:2.39', ports: ports.map((p) => ({ containerPort: p, name: `p${p}` })) }], ...extra },
});

const svc = (ns: string, name: string, selector: Record<string, string>, spec: Obj = {}): Obj => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { selector, ports: [{ port: 80, targetPort: 8080 }], ...spec },
});

const denyIngressExcept = (ns: string, name: string, target: Record<string, string>, from: Record<string, string>): Obj => ({
  apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns },
  spec: { podSelector: { matchLabels: target }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: from } }], ports: [{ port: 8080 }] }] },
});

const BASE: Obj[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
  pod('shop', 'frontend', 'node-1', { app: 'frontend' }),
  pod('shop', 'backend-1', 'node-1', { app: 'backend' }),
  pod('shop', 'backend-2', 'node-2', { app: 'backend' }),
  pod('shop', 'stranger', 'node-1', { app: 'stranger' }),
  {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'sidecar', namespace: 'shop' },
    spec: { nodeName: 'node-2', containers: [
      { name: 'web', image: 'nginx', ports: [{ containerPort: 8080 }] },
      { name: 'helper', image: 'busybox', command: ['sleep', '3600'] },
    ] },
  },
  svc('shop', 'backend', { app: 'backend' }),
  pod('other', 'web', 'node-3', { app: 'web' }),
  svc('other', 'web', { app: 'web' }),
  svc('shop', 'nodeport', { app: 'backend' }, { type: 'NodePort' }),
  svc('shop', 'lb-local', { app: 'backend' }, { type: 'LoadBalancer', externalTrafficPolicy: 'Local' }),
  svc('shop', 'empty', { app: 'nobody' }),
  svc('shop', 'self', { app: 'frontend' }),
  denyIngressExcept('shop', 'backend-policy', { app: 'backend' }, { app: 'frontend' }),
];

function model(objects: Obj[] = BASE, backend: Backend = 'host-gw'): ClusterModel {
  return ClusterModel.build(offlineCluster(objects, { nodes: 3, backend }).snapshot);
}

function trace(m: ClusterModel, from: string, to: string, extra: Partial<FlowSpec> = {}): Trace {
  return m.trace({ from: parseTraceSource(from), to: parseTraceTarget(to), ...extra });
}

const kinds = (t: Trace): string[] => t.hops.map((h) => h.kind);
const hopsAt = (t: Trace, where: string): Hop[] => t.hops.filter((h) => h.where === where);
const last = (t: Trace): Hop | undefined => t.hops[t.hops.length - 1];

describe('the data-plane model', () => {
  const hostGw = model();
  const vxlan = model(BASE, 'vxlan');

  it('keeps container-to-container traffic on the pod\'s lo: no node namespace, no veth, no netfilter', () => {
    const t = trace(hostGw, 'shop/sidecar', '127.0.0.1:8080');
    assert.equal(t.verdict.outcome, 'delivered');
    assert.deepEqual(kinds(t), ['socket', 'route', 'deliver']);
    assert.ok(t.hops.every((h) => h.where === 'pod shop/sidecar'));
    assert.equal(t.hops[1]?.outIf, 'lo');
    assert.equal(trace(hostGw, 'shop/sidecar', '127.0.0.1:9999').verdict.outcome, 'refused');
  });

  it('bridges pod-to-pod traffic on one node through cni0, with br_netfilter hooks and no NAT', () => {
    const t = trace(hostGw, 'shop/frontend', 'shop/backend-1:8080');
    assert.equal(t.verdict.outcome, 'delivered');
    const bridge = t.hops.find((h) => h.kind === 'bridge');
    assert.ok(bridge !== undefined && bridge.inIf?.startsWith('veth') && bridge.outIf?.startsWith('veth'), 'port to port on cni0');
    const hooks = t.hops.filter((h) => h.kind === 'netfilter').map((h) => `${h.hook} ${h.inIf ?? ''} ${h.outIf ?? ''}`.trim());
    assert.deepEqual(hooks, ['prerouting cni0', 'forward cni0 cni0', 'postrouting cni0 cni0']);
    assert.ok(!t.hops.some((h) => h.kind === 'encap' || (h.nat ?? []).length > 0));
    assert.equal(last(t)?.packet.src.ip, hostGw.pod('shop/frontend')?.ip, 'the destination sees the pod IP');
  });

  it('routes pod-to-pod traffic across nodes by host-gw: via the peer node on eth0, pod addresses on the wire', () => {
    const t = trace(hostGw, 'shop/frontend', 'shop/backend-2:8080');
    assert.equal(t.verdict.outcome, 'delivered');
    const node2 = hostGw.node('node-2');
    const route = hopsAt(t, 'node node-1').find((h) => h.kind === 'route');
    assert.match(route?.summary ?? '', new RegExp(`via ${node2?.ip?.replace(/\./g, '\\.') ?? 'x'} dev eth0`));
    const wire = t.hops.find((h) => h.where === 'underlay');
    assert.equal(wire?.outer, undefined);
    assert.equal(wire?.packet.src.ip, hostGw.pod('shop/frontend')?.ip);
    assert.ok(hopsAt(t, 'node node-2').some((h) => h.kind === 'netfilter' && h.hook === 'prerouting' && h.inIf === 'eth0'));
  });

  it('encapsulates cross-node traffic in VXLAN: outer node addresses on UDP 8472, inner pod addresses', () => {
    const t = trace(vxlan, 'shop/frontend', 'shop/backend-2:8080');
    assert.equal(t.verdict.outcome, 'delivered');
    const encap = t.hops.find((h) => h.kind === 'encap');
    assert.deepEqual(encap?.outer, { src: vxlan.node('node-1')?.ip, dst: vxlan.node('node-2')?.ip, udpPort: 8472, vni: 1 });
    assert.equal(encap?.packet.dst.ip, vxlan.pod('shop/backend-2')?.ip);
    assert.ok(t.hops.some((h) => h.kind === 'decap' && h.where === 'node node-2' && h.inIf === 'flannel.1'));
  });

  it('resolves a Service name with the pod\'s search path and DNATs to one of its endpoints', () => {
    const t = trace(hostGw, 'shop/frontend', 'http://backend');
    const dns = t.hops.filter((h) => h.kind === 'dns');
    assert.equal(dns[0]?.dns?.query, 'backend.shop.svc.cluster.local');
    assert.equal(dns[0]?.dns?.rcode, 'NOERROR');
    const service = t.hops.find((h) => h.kind === 'service')?.service;
    assert.equal(service?.service, 'shop/backend');
    assert.equal(service?.choices.length, 2);
    assert.equal(service?.choices.reduce((s, c) => s + c.probability, 0), 1);
    assert.deepEqual(new Set(service?.choices.map((c) => c.pod)), new Set(['shop/backend-1', 'shop/backend-2']));
    const dnat = t.hops.flatMap((h) => h.nat ?? []).find((n) => n.kind === 'dnat');
    assert.equal(dnat?.from.ip, t.destination?.ip);
    assert.equal(t.verdict.outcome, 'delivered');
    assert.ok(t.reply.some((h) => h.summary.includes('un-DNAT')), 'the reply undoes the DNAT');
  });

  it('tries each search domain in order: a name with a namespace answers on the second query', () => {
    const t = trace(hostGw, 'shop/frontend', 'web.other');
    const dns = t.hops.filter((h) => h.kind === 'dns').map((h) => `${h.dns?.query ?? ''} ${h.dns?.rcode ?? ''}`);
    assert.deepEqual(dns, ['web.other.shop.svc.cluster.local NXDOMAIN', 'web.other.svc.cluster.local NOERROR']);
    assert.equal(t.verdict.outcome, 'delivered');
    assert.equal(last(t)?.where, 'pod other/web');
  });

  it('masquerades egress to the lab\'s internet as the node IP', () => {
    const t = trace(hostGw, 'shop/frontend', 'example.com:53', { protocol: 'UDP' });
    assert.equal(t.verdict.outcome, 'delivered');
    const masq = t.hops.flatMap((h) => h.nat ?? []).find((n) => n.kind === 'masquerade');
    assert.equal(masq?.to.ip, hostGw.node('node-1')?.ip);
    assert.ok(t.hops.some((h) => (h.rules ?? []).some((r) => r.table === 'flatnet-egress')));
    assert.equal(last(t)?.where, 'external');
  });

  it('drops traffic to addresses outside the lab at the external side, which does not forward', () => {
    const t = trace(hostGw, 'shop/frontend', '1.1.1.1:443');
    assert.equal(t.verdict.outcome, 'dropped');
    assert.equal(last(t)?.where, 'external');
  });

  it('takes a NodePort from the external side: DNAT on the node, masquerade for externalTrafficPolicy Cluster', () => {
    const m = hostGw;
    const np = m.snapshot.services.find((s) => s.metadata.name === 'nodeport')?.spec?.ports?.[0]?.nodePort;
    assert.ok(np !== undefined && np >= 30000 && np <= 32767);
    const t = trace(m, 'external', `${m.node('node-3')?.ip ?? ''}:${np}`);
    assert.equal(t.hops.find((h) => h.kind === 'service')?.service?.via, 'nodePort');
    assert.ok(t.hops.flatMap((h) => h.nat ?? []).some((n) => n.kind === 'masquerade'), 'node-3 has no endpoint: the source becomes node-3');
    assert.equal(t.verdict.outcome, 'dropped', 'the backend policy admits only frontends, and a masqueraded source is the node');
  });

  it('lists every ECMP next hop of a LoadBalancer IP; with externalTrafficPolicy Local nodes without an endpoint drop', () => {
    const m = hostGw;
    const ip = m.snapshot.services.find((s) => s.metadata.name === 'lb-local')?.status?.loadBalancer?.ingress?.[0]?.ip ?? '';
    const t = trace(m, 'external', `${ip}:80`, { ecmpNode: 'node-3' });
    const ecmp = t.hops.find((h) => h.ecmp !== undefined)?.ecmp ?? [];
    assert.deepEqual(ecmp.map((e) => e.node), ['node-1', 'node-2', 'node-3']);
    assert.equal(ecmp.find((e) => e.node === 'node-3')?.outcome, 'dropped');
    assert.equal(t.verdict.outcome, 'dropped');
    assert.ok(possibleOutcomes(t).includes('dropped'));
  });

  it('explains a NetworkPolicy denial: the isolating policy, the rule that would have allowed, the kernel rule that dropped', () => {
    const t = trace(hostGw, 'shop/stranger', 'shop/backend-1:8080');
    assert.equal(t.verdict.outcome, 'dropped');
    assert.match(t.verdict.decidedBy ?? '', /flatnet-netpol ingress-shop\/backend-1/);
    const p = t.hops.find((h) => h.kind === 'policy' && h.policy?.direction === 'ingress')?.policy;
    assert.deepEqual(p?.policies, ['shop/backend-policy']);
    assert.equal(p?.allowed, false);
    assert.match(p?.reasons.join(' ') ?? '', /app=frontend/);
    assert.equal(trace(hostGw, 'shop/frontend', 'shop/backend-1:8080').verdict.outcome, 'delivered');
  });

  it('cannot resolve names when an egress policy blocks DNS, and says so', () => {
    const denyEgress: Obj = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'no-egress', namespace: 'shop' }, spec: { podSelector: { matchLabels: { app: 'frontend' } }, policyTypes: ['Egress'] } };
    const t = trace(model([...BASE, denyEgress]), 'shop/frontend', 'http://backend');
    assert.equal(t.verdict.outcome, 'unresolved');
    assert.match(t.verdict.reason, /DNS query to 10\.96\.0\.10:53/);
  });

  it('has no route from the external side to a ClusterIP', () => {
    const ip = hostGw.snapshot.services.find((s) => s.metadata.name === 'backend')?.spec?.clusterIP ?? '';
    assert.equal(trace(hostGw, 'external', `${ip}:80`).verdict.outcome, 'unreachable');
  });

  it('rejects a Service without endpoints at once (kube-proxy\'s no-endpoints reject)', () => {
    const t = trace(hostGw, 'shop/frontend', 'empty');
    assert.equal(t.verdict.outcome, 'rejected');
    assert.match(t.verdict.decidedBy ?? '', /kube-proxy/);
  });

  it('masquerades hairpin traffic (a pod reaching itself through its Service) to the cni0 address', () => {
    const t = trace(hostGw, 'shop/frontend', 'self');
    assert.equal(t.verdict.outcome, 'delivered');
    assert.equal(last(t)?.packet.src.ip, hostGw.node('node-1')?.gateway);
  });

  it('follows the endpoint the user pins, and reports the others with their outcomes', () => {
    const ip2 = hostGw.pod('shop/backend-2')?.ip ?? '';
    const t = trace(hostGw, 'shop/frontend', 'backend', { endpoint: ip2 });
    assert.equal(last(t)?.where, 'pod shop/backend-2');
    const choices = t.hops.find((h) => h.kind === 'service')?.service?.choices ?? [];
    assert.deepEqual(choices.filter((c) => c.chosen).map((c) => c.pod), ['shop/backend-2']);
    assert.equal(t.hops[0]?.kind, 'dns', 'the name resolution stays at the head of the pinned trace');
  });

  it('uses the flannel.1 address as the source of a node\'s own traffic to a pod on another node under VXLAN', () => {
    const t = trace(vxlan, 'node/node-1', 'shop/backend-2:8080');
    assert.equal(t.hops[0]?.packet.src.ip, vxlan.node('node-1')?.vtep);
    assert.equal(t.verdict.outcome, 'dropped', 'the backend policy does not admit the node');
  });

  it('resolves localhost and the pod\'s own hostname from its /etc/hosts before asking DNS', () => {
    const t = trace(hostGw, 'shop/sidecar', 'localhost:8080');
    assert.deepEqual(t.hops.filter((h) => h.kind === 'dns').map((h) => h.dns?.server), ['/etc/hosts']);
    assert.equal(t.destination?.ip, '127.0.0.1');
    assert.equal(t.verdict.outcome, 'delivered');
    assert.equal(trace(hostGw, 'shop/frontend', 'frontend:8080').destination?.ip, hostGw.pod('shop/frontend')?.ip);
  });

  it('does not invent the source port a fully-random masquerade picks, but keeps the known one of a plain masquerade', () => {
    const np = hostGw.snapshot.services.find((s) => s.metadata.name === 'nodeport')?.spec?.ports?.[0]?.nodePort;
    const t = trace(hostGw, 'external', `${hostGw.node('node-3')?.ip ?? ''}:${np ?? 0}`);
    const masq = t.hops.flatMap((h) => h.nat ?? []).find((n) => n.kind === 'masquerade');
    assert.equal(masq?.to.port, undefined);
    assert.equal(last(t)?.packet.src.port, undefined);
    const egress = trace(hostGw, 'shop/frontend', 'example.com:53', { protocol: 'UDP' });
    assert.equal(egress.hops.flatMap((h) => h.nat ?? []).find((n) => n.kind === 'masquerade')?.to.port, 40000);
  });

  it('knows what listens on the external side: its DNS resolver by default, or the sockets a snapshot lists', () => {
    assert.equal(trace(hostGw, 'shop/frontend', 'http://example.com/').verdict.outcome, 'refused');
    assert.equal(trace(hostGw, 'shop/frontend', 'example.com:53').verdict.outcome, 'delivered');
    const withServer = ClusterModel.build({ ...hostGw.snapshot, externalListeners: ['TCP/80'] });
    assert.equal(trace(withServer, 'shop/frontend', 'http://example.com/').verdict.outcome, 'delivered');
  });

  it('refuses unknown sources and targets with a ModelError code', () => {
    assert.throws(() => trace(hostGw, 'shop/ghost', 'backend'), (e: unknown) => e instanceof ModelError && e.code === 'UnknownSource');
    assert.throws(() => trace(hostGw, 'shop/frontend', 'shop/ghost:80'), (e: unknown) => e instanceof ModelError && e.code === 'UnknownTarget');
    assert.throws(() => parseTraceTarget('http://x:99999'), (e: unknown) => e instanceof ModelError && e.code === 'InvalidFlow');
  });

  it('renders every hop and the verdict as text', () => {
    const text = renderTrace(trace(hostGw, 'shop/stranger', 'shop/backend-1:8080'));
    assert.match(text, /verdict: DROPPED/);
    assert.match(text, /cni0/);
  });
});
