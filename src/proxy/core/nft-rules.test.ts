import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, evaluateHooks, type Packet } from '../../nft/evaluate.ts';
import { renderRule, renderTable } from '../../nft/render.ts';
import type { Chain, MapElement, Table } from '../../nft/types.ts';
import { httpPort, service, slice, type EndpointSpec } from './fixtures.ts';
import { nftServiceNames } from './names.ts';
import { buildNftRuleset, KUBE_PROXY_TABLE } from './nft-rules.ts';
import { collectServicePorts, type ProxyConfig } from './service-ports.ts';
import type { EndpointSlice, Service } from '../../api/types.ts';

const config: ProxyConfig = { nodeName: 'n1', nodeIPs: ['192.168.50.11'], clusterCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12' };
const eps3: EndpointSpec[] = [{ ip: '10.244.1.2', node: 'n1' }, { ip: '10.244.2.2', node: 'n2' }, { ip: '10.244.2.3', node: 'n2' }];

function build(services: Service[], slices: EndpointSlice[], cfg: ProxyConfig = config): Table {
  const rs = buildNftRuleset(collectServicePorts(services, slices, cfg), cfg);
  const t = rs.tables.find((x) => x.name === KUBE_PROXY_TABLE);
  assert.ok(t);
  return t;
}
const chain = (t: Table, name: string): Chain | undefined => t.chains.find((c) => c.name === name);
const elems = (t: Table, map: string): readonly MapElement[] => t.maps.find((m) => m.name === map)?.elements ?? [];
const rules = (c: Chain | undefined) => (c?.rules ?? []).map((r) => renderRule(r));
const keyOf = (e: MapElement) => e.key.join(' . ');
const serviceChains = (t: Table) => t.chains.filter((c) => c.name.includes('/')).map((c) => c.name);

const web = (spec: Partial<Service['spec']> = {}, lbIPs?: string[]) =>
  service('web', { clusterIP: '10.96.0.10', ports: [httpPort(80)], ...spec }, lbIPs ? { lbIPs } : {});

describe('nftables rule builder (kube-proxy layout)', () => {
  it('gives a Service with 3 endpoints a 3-way numgen vmap to 3 endpoint chains that DNAT', () => {
    const t = build([web()], [slice('web', eps3)]);
    const names = nftServiceNames(collectServicePorts([web()], [slice('web', eps3)], config)[0]!);
    assert.deepEqual(elems(t, 'service-ips').map((e) => [keyOf(e), e.value]), [['10.96.0.10 . tcp . 80', { kind: 'goto', chain: names.cluster }]]);
    const dispatch = chain(t, names.cluster)?.rules.at(-1)?.verdict;
    assert.ok(dispatch?.kind === 'vmap-inline');
    assert.deepEqual(dispatch.key, [{ numgen: 'random', mod: 3 }]);
    assert.equal(dispatch.entries.length, 3);
    const targets = dispatch.entries.map((e) => (e.verdict.kind === 'goto' ? e.verdict.chain : ''));
    targets.forEach((name, i) => {
      assert.match(name, /^endpoint-[A-Z2-7]{8}-default\/web\/tcp\/http__10\.244\.\d\.\d\/8080$/);
      assert.ok(rules(chain(t, name)).includes(`meta l4proto tcp dnat to ${eps3[i]!.ip}:8080`));
    });
  });

  it('rejects traffic to a Service without endpoints through no-endpoint-services and gives it no nat chains', () => {
    const t = build([web()], [slice('web', [])]);
    assert.deepEqual(elems(t, 'service-ips'), []);
    assert.deepEqual(elems(t, 'no-endpoint-services').map((e) => [keyOf(e), e.value]), [['10.96.0.10 . tcp . 80', { kind: 'goto', chain: 'reject-chain' }]]);
    assert.deepEqual(rules(chain(t, 'reject-chain')), ['reject with icmp type port-unreachable']);
    assert.deepEqual(serviceChains(t), []);
  });

  it('falls back to serving+terminating endpoints when none is ready', () => {
    const t = build([web()], [slice('web', [{ ip: '10.244.1.2', ready: false, serving: true, terminating: true }, { ip: '10.244.1.3', ready: false, serving: false, terminating: true }])]);
    const dnats = t.chains.flatMap((c) => rules(c)).filter((r) => r.includes('dnat to'));
    assert.deepEqual(dnats, ['meta l4proto tcp dnat to 10.244.1.2:8080']);
  });

  it('uses only ready endpoints when some are ready', () => {
    const t = build([web()], [slice('web', [{ ip: '10.244.1.2' }, { ip: '10.244.1.3', ready: false, serving: true, terminating: true }, { ip: '10.244.1.4', ready: false }])]);
    assert.deepEqual(t.chains.flatMap((c) => rules(c)).filter((r) => r.includes('dnat to')), ['meta l4proto tcp dnat to 10.244.1.2:8080']);
  });

  const nothing: { name: string; svc: Service }[] = [
    { name: 'an ExternalName Service', svc: service('ext', { type: 'ExternalName', externalName: 'example.com', ports: [httpPort()] }) },
    { name: 'a headless Service', svc: service('web', { clusterIP: 'None', ports: [httpPort()] }) },
  ];
  for (const c of nothing) {
    it(`gives ${c.name} no rules at all`, () => {
      const t = build([c.svc], [slice(c.svc.metadata.name ?? '', eps3)]);
      assert.deepEqual(serviceChains(t), []);
      for (const m of t.maps) assert.deepEqual(m.elements, [], m.name);
      assert.deepEqual(t.sets.find((s) => s.name === 'cluster-ips')?.elements, []);
    });
  }

  it('masquerades ClusterIP traffic from outside the cluster CIDR, and marks hairpin traffic in each endpoint chain', () => {
    const t = build([web()], [slice('web', eps3)]);
    const sp = collectServicePorts([web()], [slice('web', eps3)], config)[0]!;
    assert.equal(rules(chain(t, nftServiceNames(sp).cluster))[0], 'ip daddr 10.96.0.10 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade');
    const ep = t.chains.find((c) => c.name.endsWith('__10.244.2.2/8080'));
    assert.equal(rules(ep)[0], 'ip saddr 10.244.2.2 jump mark-for-masquerade');
  });

  it('with externalTrafficPolicy Local sends NodePort traffic to local endpoints only, without masquerade', () => {
    const svc = web({ type: 'NodePort', externalTrafficPolicy: 'Local', ports: [httpPort(80, { nodePort: 30080 })] });
    const t = build([svc], [slice('web', eps3)]);
    const names = nftServiceNames(collectServicePorts([svc], [slice('web', eps3)], config)[0]!);
    assert.deepEqual(elems(t, 'service-nodeports').map((e) => [keyOf(e), e.value]), [['tcp . 30080', { kind: 'goto', chain: names.external }]]);
    const ext = rules(chain(t, names.external));
    assert.ok(!ext.includes('jump mark-for-masquerade'), 'no unconditional masquerade');
    assert.equal(ext.at(-1), `goto ${names.local}`);
    const local = chain(t, names.local)?.rules.at(-1)?.verdict;
    assert.ok(local?.kind === 'vmap-inline' && local.entries.length === 1, 'only the one endpoint on n1');
  });

  it('with externalTrafficPolicy Local and no local endpoint drops external traffic but serves pods through the short-circuit', () => {
    const svc = web({ type: 'NodePort', externalTrafficPolicy: 'Local', ports: [httpPort(80, { nodePort: 30080 })] });
    const remote = eps3.slice(1);
    const t = build([svc], [slice('web', remote)]);
    assert.deepEqual(elems(t, 'no-endpoint-nodeports').map((e) => [keyOf(e), e.value]), [['tcp . 30080', { kind: 'drop' }]]);
    const names = nftServiceNames(collectServicePorts([svc], [slice('web', remote)], config)[0]!);
    assert.deepEqual(rules(chain(t, names.external)), [
      `ip saddr 10.244.0.0/16 goto ${names.cluster} comment "short-circuit pod traffic"`,
      'fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"',
      `fib saddr type local goto ${names.cluster} comment "short-circuit local traffic"`,
    ]);
  });

  it('with internalTrafficPolicy Local and no local endpoint drops ClusterIP traffic', () => {
    const t = build([web({ internalTrafficPolicy: 'Local' })], [slice('web', eps3.slice(1))]);
    assert.deepEqual(elems(t, 'no-endpoint-services').map((e) => e.value), [{ kind: 'drop' }]);
    assert.deepEqual(elems(t, 'service-ips'), []);
  });

  it('with ClientIP affinity creates a timed dynamic set per endpoint, checks it first and updates it on the way', () => {
    const svc = web({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 300 } } });
    const t = build([svc], [slice('web', eps3)]);
    const aff = t.sets.filter((s) => s.name.startsWith('affinity-'));
    assert.equal(aff.length, 3);
    for (const s of aff) { assert.deepEqual(s.flags, ['dynamic', 'timeout']); assert.equal(s.timeoutSeconds, 300); }
    const names = nftServiceNames(collectServicePorts([svc], [slice('web', eps3)], config)[0]!);
    const svcRules = rules(chain(t, names.cluster));
    assert.equal(svcRules.filter((r) => /^ip saddr @affinity-\S+ goto endpoint-/.test(r)).length, 3);
    assert.match(svcRules.at(-1) ?? '', /^numgen random mod 3/);
    const ep = t.chains.find((c) => c.name.startsWith('endpoint-'));
    assert.match(rules(ep).join('\n'), /update @affinity-\S+ \{ ip saddr \}\nmeta l4proto tcp dnat/);
  });

  it('defaults affinity to 10800 seconds', () => {
    const t = build([web({ sessionAffinity: 'ClientIP' })], [slice('web', eps3)]);
    assert.equal(t.sets.find((s) => s.name.startsWith('affinity-'))?.timeoutSeconds, 10800);
  });

  it('renders every port of a multi-port Service with its protocol (TCP, UDP, SCTP)', () => {
    const svc = service('multi', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }, { name: 'assoc', port: 9, protocol: 'SCTP' }] });
    const sl = slice('multi', [{ ip: '10.244.1.9' }], [{ name: 'http', port: 8080 }, { name: 'dns', port: 5353, protocol: 'UDP' }, { name: 'assoc', port: 9999, protocol: 'SCTP' }]);
    const t = build([svc], [sl]);
    assert.deepEqual(elems(t, 'service-ips').map(keyOf).sort(), ['10.96.0.20 . sctp . 9', '10.96.0.20 . tcp . 80', '10.96.0.20 . udp . 53']);
    const dnats = t.chains.flatMap((c) => rules(c)).filter((r) => r.includes('dnat')).sort();
    assert.deepEqual(dnats, ['meta l4proto sctp dnat to 10.244.1.9:9999', 'meta l4proto tcp dnat to 10.244.1.9:8080', 'meta l4proto udp dnat to 10.244.1.9:5353']);
    assert.match(renderTable(t), /udp dport 53 ip saddr != 10\.244\.0\.0\/16 jump mark-for-masquerade/);
  });

  it('captures LoadBalancer ingress IPs (not Proxy-mode ones) and firewalls loadBalancerSourceRanges', () => {
    const svc = service('lb', { type: 'LoadBalancer', clusterIP: '10.96.0.30', loadBalancerSourceRanges: ['203.0.113.0/24'], ports: [httpPort(80, { nodePort: 30090 })] });
    svc.status = { loadBalancer: { ingress: [{ ip: '192.168.60.10' }, { ip: '192.168.60.11', ipMode: 'Proxy' }] } };
    const t = build([svc], [slice('lb', eps3)]);
    const names = nftServiceNames(collectServicePorts([svc], [slice('lb', eps3)], config)[0]!);
    assert.deepEqual(elems(t, 'service-ips').map(keyOf).sort(), ['10.96.0.30 . tcp . 80', '192.168.60.10 . tcp . 80']);
    assert.deepEqual(elems(t, 'firewall-ips').map((e) => [keyOf(e), e.value]), [['192.168.60.10 . tcp . 80', { kind: 'goto', chain: names.firewall }]]);
    assert.deepEqual(rules(chain(t, names.firewall)), ['ip saddr != { 203.0.113.0/24 } drop']);
  });

  it('adds the egress masquerade table skipping the cluster and service CIDRs, unless disabled', () => {
    const rs = buildNftRuleset([], config);
    const egress = rs.tables.find((t) => t.name === 'flatnet-egress');
    assert.deepEqual(rules(egress?.chains[0]), ['ip saddr 10.244.0.0/16 ip daddr != { 10.244.0.0/16, 10.96.0.0/12 } masquerade comment "pod egress leaves as the node IP"']);
    assert.equal(buildNftRuleset([], { ...config, egressMasquerade: false }).tables.length, 1);
  });
});

describe('nftables rules walked by the evaluator', () => {
  const svc = web({ type: 'NodePort', ports: [httpPort(80, { nodePort: 30080 })] });
  const rs = buildNftRuleset(collectServicePorts([svc, service('empty', { clusterIP: '10.96.0.11', ports: [httpPort()] })], [slice('web', eps3)], config), config);
  const p = (x: Partial<Packet>): Packet => ({ saddr: '10.244.1.2', daddr: '10.96.0.10', l4proto: 'tcp', sport: 33333, dport: 80, fibDaddrType: 'unicast', fibSaddrType: 'unicast', masqueradeAddr: '10.244.1.1', ...x });

  it('spreads a ClusterIP over the endpoints by the numgen draw and keeps the pod source', () => {
    const seen = [0, 0.4, 0.8].map((r) => evaluateHooks(rs, p({ saddr: '10.244.1.50' }), ['prerouting', 'forward', 'postrouting'], { random: () => r }));
    assert.deepEqual(seen.map((hops) => hops.at(-1)?.packet.daddr), ['10.244.1.2', '10.244.2.2', '10.244.2.3']);
    assert.deepEqual(seen.map((hops) => hops.at(-1)?.packet.saddr), ['10.244.1.50', '10.244.1.50', '10.244.1.50']);
  });

  it('masquerades a NodePort packet from outside (Cluster policy)', () => {
    const hops = evaluateHooks(rs, p({ saddr: '192.168.50.100', daddr: '192.168.50.11', dport: 30080, fibDaddrType: 'local', masqueradeAddr: '192.168.50.11' }), ['prerouting', 'forward', 'postrouting'], { random: () => 0.9 });
    assert.equal(hops.at(-1)?.packet.daddr, '10.244.2.3');
    assert.equal(hops.at(-1)?.packet.saddr, '192.168.50.11');
  });

  it('rejects a new connection to a Service without endpoints in the forward hook', () => {
    const hops = evaluateHooks(rs, p({ daddr: '10.96.0.11' }), ['prerouting', 'forward']);
    assert.equal(hops.at(-1)?.verdict, 'reject');
    assert.equal(hops.at(-1)?.path.at(-1)?.chain, 'reject-chain');
  });

  it('rejects a ClusterIP on a port it does not serve, and drops an unallocated ClusterIP', () => {
    assert.equal(evaluate(rs, p({ dport: 81 }), 'forward').verdict, 'reject');
    assert.equal(evaluate(rs, p({ daddr: '10.96.5.5' }), 'forward').verdict, 'drop');
  });

  it('masquerades hairpin traffic (an endpoint reaching itself through the Service)', () => {
    const hops = evaluateHooks(rs, p({}), ['prerouting', 'forward', 'postrouting'], { random: () => 0 });
    assert.equal(hops.at(-1)?.packet.daddr, '10.244.1.2');
    assert.equal(hops.at(-1)?.packet.saddr, '10.244.1.1');
  });

  it('lets egress from a pod to outside leave as the node address, and pod-to-pod pass unmasqueraded', () => {
    assert.equal(evaluate(rs, p({ daddr: '8.8.8.8', dport: 53, l4proto: 'udp', masqueradeAddr: '192.168.50.11' }), 'postrouting').packet.saddr, '192.168.50.11');
    assert.equal(evaluate(rs, p({ daddr: '10.244.2.9', masqueradeAddr: '10.244.1.1' }), 'postrouting').packet.saddr, '10.244.1.2');
  });
});

describe('build caches', () => {
  it('give the same table as an uncached build and reuse the rule arrays of unchanged Services', async () => {
    const { newCollectCache } = await import('./service-ports.ts');
    const { newNftBuildCache } = await import('./nft-rules.ts');
    const { diffRulesets } = await import('../../nft/transaction.ts');
    const services = [web(), service('other', { clusterIP: '10.96.0.20', ports: [httpPort(80)] })];
    const slices1 = [slice('web', eps3), slice('other', eps3.slice(0, 1))];
    const cc = newCollectCache();
    const bc = newNftBuildCache();
    const first = buildNftRuleset(collectServicePorts(services, slices1, config, cc), config, bc);
    assert.equal(renderTable(first.tables[0]!), renderTable(build(services, slices1)));
    // Only `other` changes (a new slice object); `web` keeps its objects.
    const slices2 = [slices1[0]!, slice('other', eps3.slice(0, 2))];
    const second = buildNftRuleset(collectServicePorts(services, slices2, config, cc), config, bc);
    assert.equal(renderTable(second.tables[0]!), renderTable(build(services, slices2)));
    const webChain = (t: Table) => t.chains.find((c) => c.name.startsWith('service-') && c.name.includes('/web/'));
    assert.equal(webChain(first.tables[0]!)?.rules, webChain(second.tables[0]!)?.rules, 'same rule array for the unchanged Service');
    const d = diffRulesets(first, second);
    assert.equal(d.stats.chainsChanged, 1);
    assert.equal(d.stats.chainsAdded, 1);
  });
});
