// `flatnet trace --live` end to end, on real clusters (host-gw and VXLAN): each flow the seeds describe is
// traced by the model and sent for real with nftables tracing; the hops the seeds name must be there, the
// verdict must be the expected one, and the kernel must agree with the model node by node.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from '../src/api/types.ts';
import type { Hop } from '../src/model/types.ts';
import type { LiveTrace } from '../src/trace/live-trace.ts';
import { upCluster, waitFor, type ClusterFixture } from './support/cluster-fixture.ts';
import { policyVersions, waitEnforced } from './netpol-support.ts';
import { run } from './support/cluster-fixture.ts';

const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.39';

function server(name: string, node: string, labels: Record<string, string>): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: shop, labels: ${JSON.stringify(labels)}}
spec:
  nodeName: ${node}
  containers:
  - {name: app, image: ${AGNHOST}, args: [netexec, --http-port=8080], ports: [{containerPort: 8080, name: http}]}
`;
}

const MANIFESTS = [
  'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n',
  server('frontend', 'node-1', { app: 'frontend' }),
  server('backend-1', 'node-1', { app: 'backend' }),
  server('backend-2', 'node-2', { app: 'backend' }),
  server('stranger', 'node-1', { app: 'stranger' }),
  server('web-1', 'node-1', { app: 'web' }),
  server('web-2', 'node-2', { app: 'web' }),
  `apiVersion: v1
kind: Pod
metadata: {name: sidecar, namespace: shop}
spec:
  nodeName: node-2
  containers:
  - {name: web, image: nginx, env: [{name: NGINX_PORT, value: "8080"}], ports: [{containerPort: 8080}]}
  - {name: helper, image: busybox, command: [sleep, "3600"]}
`,
  `apiVersion: v1
kind: Service
metadata: {name: backend, namespace: shop}
spec: {selector: {app: backend}, ports: [{port: 80, targetPort: 8080}]}
`,
  `apiVersion: v1
kind: Service
metadata: {name: web-np, namespace: shop}
spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
`,
  `apiVersion: v1
kind: Service
metadata: {name: web-lb, namespace: shop}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
`,
  `apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
`,
  `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: backend-policy, namespace: shop}
spec:
  podSelector: {matchLabels: {app: backend}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: frontend}}}]
    ports: [{protocol: TCP, port: 8080}]
`,
  `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: shop}
spec:
  ingressClassName: flatnet
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
`,
].join('---\n');

interface Env {
  c: ClusterFixture;
  nodeIP: (node: string) => string;
  service: (name: string) => Service;
  ingressIP: string;
}

async function setUp(backend: 'host-gw' | 'vxlan', proxyMode: 'nftables' | 'iptables' = 'nftables'): Promise<Env> {
  const c = await upCluster({ backend, nodes: 2, proxyMode });
  await c.k(['apply', '-f', '-'], MANIFESTS);
  await c.k(['-n', 'shop', 'wait', '--for=condition=Ready', 'pod', '--all', '--timeout=60s']);
  await waitEnforced(c, await policyVersions(c, ['shop']), ['shop'], Date.now(), 2);
  const services = (JSON.parse(await c.k(['get', 'services', '-A', '-o', 'json'])) as { items: Service[] }).items;
  const service = (name: string): Service => {
    const s = services.find((x) => x.metadata.name === name);
    if (s === undefined) throw new Error(`no service ${name}`);
    return s;
  };
  const lb = await waitFor('LoadBalancer IPs', async () => {
    const all = (JSON.parse(await c.k(['get', 'services', '-A', '-o', 'json'])) as { items: Service[] }).items;
    const ips = all.filter((s) => s.spec?.type === 'LoadBalancer').map((s) => s.status?.loadBalancer?.ingress?.[0]?.ip);
    return ips.every((ip) => ip !== undefined) ? all : undefined;
  });
  const lbOf = (name: string): string => lb.find((s) => s.metadata.name === name)?.status?.loadBalancer?.ingress?.[0]?.ip ?? '';
  services.splice(0, services.length, ...lb);
  // kube-proxy has every Service's addresses in every node's service map (bounded poll: the proxier's sync).
  const wanted = services.flatMap((s) => [s.spec?.clusterIP ?? '', ...(s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '')]).filter((ip) => /^\d/.test(ip));
  for (const node of ['node-1', 'node-2']) {
    await waitFor(`kube-proxy rules on ${node}`, async () => {
      const r = proxyMode === 'nftables'
        ? await run('ip', ['netns', 'exec', `fn-${c.name}-${node}`, 'nft', 'list', 'map', 'ip', 'kube-proxy', 'service-ips'])
        : await run('ip', ['netns', 'exec', `fn-${c.name}-${node}`, 'iptables-save', '-t', 'nat']);
      return wanted.every((ip) => r.stdout.includes(ip)) ? true : undefined;
    });
  }
  const nodes = JSON.parse(await c.k(['get', 'nodes', '-o', 'json'])) as { items: { metadata: { name: string }; status: { addresses: { type: string; address: string }[] } }[] };
  const nodeIP = (node: string): string => nodes.items.find((n) => n.metadata.name === node)?.status.addresses.find((a) => a.type === 'InternalIP')?.address ?? '';
  return { c, nodeIP, service, ingressIP: lbOf('flatnet-ingress') };
}

async function live(env: Env, ...args: string[]): Promise<LiveTrace> {
  const r = await env.c.flatnet(['trace', '--name', env.c.name, ...args, '--live', '-o', 'json']);
  assert.ok(r.status === 0 || r.status === 1, `trace exited ${String(r.status)}: ${r.stderr}`);
  return JSON.parse(r.stdout) as LiveTrace;
}

function assertAgrees(l: LiveTrace): void {
  const bad = l.namespaces.filter((n) => !n.agree).map((n) => `${n.where}: ${n.rows.filter((r) => !r.agree).map((r) => `model ${r.model ?? '-'} / kernel ${r.kernel ?? '-'}`).join('; ')}`);
  assert.ok(l.agree, `the kernel disagrees with the model: result ${l.kernel.result} vs ${l.trace.verdict.outcome}; ${bad.join(' | ')}; dns ${JSON.stringify(l.dns)}; http ${JSON.stringify(l.http)}`);
}

const kinds = (hops: readonly Hop[]): string[] => hops.map((h) => h.kind);

for (const backend of ['host-gw', 'vxlan'] as const) {
  describe(`flatnet trace --live on a ${backend} cluster`, () => {
    let env: Env;
    before(async () => { env = await setUp(backend); });
    after(async () => { await env?.c.down(); });

    it('keeps container-to-container traffic on lo inside the pod, and the kernel connects', async () => {
      const l = await live(env, 'shop/sidecar', '127.0.0.1:8080');
      assertAgrees(l);
      assert.equal(l.kernel.result, 'connected');
      assert.deepEqual(kinds(l.trace.hops), ['socket', 'route', 'deliver']);
      assert.equal(l.namespaces.length, 0, 'no node namespace sees the packet');
    });

    it('bridges pod-to-pod traffic on one node through cni0', async () => {
      const l = await live(env, 'shop/frontend', 'shop/web-1:8080');
      assertAgrees(l);
      assert.equal(l.kernel.result, 'connected');
      assert.ok(l.trace.hops.some((h) => h.kind === 'bridge' && h.inIf?.startsWith('veth') === true && h.outIf?.startsWith('veth') === true));
      assert.deepEqual(l.namespaces.map((n) => n.where), ['node node-1']);
    });

    it(`crosses nodes by ${backend === 'vxlan' ? 'VXLAN (outer node addresses)' : 'host-gw routes (pod addresses on the wire)'}`, async () => {
      const l = await live(env, 'shop/frontend', 'shop/web-2:8080');
      assertAgrees(l);
      assert.equal(l.kernel.result, 'connected');
      const encap = l.trace.hops.find((h) => h.kind === 'encap');
      if (backend === 'vxlan') assert.deepEqual([encap?.outer?.src, encap?.outer?.dst, encap?.outer?.udpPort], [env.nodeIP('node-1'), env.nodeIP('node-2'), 8472]);
      else assert.equal(encap, undefined);
      assert.deepEqual(l.namespaces.map((n) => n.where), ['node node-1', 'node node-2']);
    });

    it('reaches a Service by name: the search path, the DNAT to the endpoint the kernel picked', async () => {
      const l = await live(env, 'shop/frontend', 'http://web');
      assertAgrees(l);
      assert.equal(l.dns?.kernel[0], env.service('web').spec?.clusterIP);
      assert.equal(l.trace.hops.find((h) => h.kind === 'dns')?.dns?.query, 'web.shop.svc.cluster.local');
      const dnat = l.trace.hops.flatMap((h) => h.nat ?? []).find((n) => n.kind === 'dnat');
      assert.equal(`${dnat?.to.ip ?? ''}:${dnat?.to.port ?? ''}`, l.kernel.endpoint);
      assert.equal(l.trace.hops.find((h) => h.kind === 'service')?.service?.choices.length, 2);
    });

    it('leaves for the lab\'s internet masqueraded as the node IP', async () => {
      const l = await live(env, 'shop/frontend', 'example.com:53');
      assertAgrees(l);
      assert.equal(l.kernel.result, 'connected');
      const masq = l.trace.hops.flatMap((h) => h.nat ?? []).find((n) => n.kind === 'masquerade');
      assert.equal(masq?.to.ip, env.nodeIP('node-1'));
    });

    it('takes a NodePort from the external side', async () => {
      const np = env.service('web-np').spec?.ports?.[0]?.nodePort ?? 0;
      const l = await live(env, 'external', `${env.nodeIP('node-2')}:${np}`);
      assertAgrees(l);
      assert.equal(l.kernel.result, 'connected');
      assert.equal(l.trace.hops.find((h) => h.kind === 'service')?.service?.via, 'nodePort');
    });

    it('takes a LoadBalancer IP from the external side over the ECMP route', async () => {
      const ip = env.service('web-lb').status?.loadBalancer?.ingress?.[0]?.ip ?? '';
      const l = await live(env, 'external', `${ip}:80`);
      assertAgrees(l);
      assert.equal(l.kernel.result, 'connected');
      assert.ok(l.kernel.viaNode !== undefined, 'the kernel\'s ECMP choice was seen');
      assert.equal(l.trace.hops.find((h) => h.ecmp !== undefined)?.ecmp?.length, 2);
    });

    it('routes an Ingress host and path to the backend Service, and a real HTTP request agrees', async () => {
      const l = await live(env, 'external', `http://${env.ingressIP}/anything`, '--host-header', 'shop.example.com');
      assertAgrees(l);
      assert.equal(l.trace.http?.forwarded, true);
      assert.match(l.trace.hops.find((h) => h.kind === 'ingress')?.summary ?? '', /shop\/shop .*shop\/web:80/);
      const miss = await live(env, 'external', `http://${env.ingressIP}/`, '--host-header', 'nobody.example.com');
      assertAgrees(miss);
      assert.equal(miss.http?.status, 404);
    });

    it('explains a NetworkPolicy denial, and the kernel drops the packet where the model says', async () => {
      const l = await live(env, 'shop/stranger', 'shop/backend-2:8080');
      assertAgrees(l);
      assert.equal(l.kernel.result, 'timeout');
      assert.equal(l.trace.verdict.outcome, 'dropped');
      assert.match(l.trace.verdict.decidedBy ?? '', /flatnet-netpol ingress-shop\/backend-2/);
      const allowed = await live(env, 'shop/frontend', 'shop/backend-2:8080');
      assertAgrees(allowed);
      assert.equal(allowed.kernel.result, 'connected');
    });
  });
}

describe('flatnet trace --live with kube-proxy in iptables mode', () => {
  let env: Env;
  before(async () => { env = await setUp('host-gw', 'iptables'); });
  after(async () => { await env?.c.down(); });

  it('compares outcomes (not nftables rules) and agrees for a Service, a NodePort and a policy denial', async () => {
    const svc = await live(env, 'shop/frontend', 'http://web');
    assertAgrees(svc);
    assert.equal(svc.kernel.result, 'connected');
    assert.ok(svc.namespaces.length > 0 && svc.namespaces.every((n) => n.skipped !== undefined), 'rule-by-rule comparison is skipped in iptables mode');
    assert.ok(svc.trace.notes.some((n) => n.includes('iptables mode')));
    const np = env.service('web-np').spec?.ports?.[0]?.nodePort ?? 0;
    const nodePort = await live(env, 'external', `${env.nodeIP('node-1')}:${np}`);
    assertAgrees(nodePort);
    assert.equal(nodePort.kernel.result, 'connected');
    const denied = await live(env, 'shop/stranger', 'shop/backend-1:8080');
    assertAgrees(denied);
    assert.equal(denied.kernel.result, 'timeout');
  });
});
