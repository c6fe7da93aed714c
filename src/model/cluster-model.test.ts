// The ruleset slices the model walks must decide every packet exactly as the node's whole ruleset does:
// same chains, same rule indexes, same verdict, same NAT. Checked packet by packet against the full ruleset
// built from the same snapshot, over every hook, on every node.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, type Packet } from '../nft/evaluate.ts';
import type { Hook } from '../nft/types.ts';
import { ClusterModel } from './cluster-model.ts';
import { offlineCluster } from './offline-cluster.ts';

type Obj = Record<string, unknown>;

const pod = (ns: string, name: string, node: string, labels: Record<string, string>): Obj => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels },
  spec: { nodeName: node, containers: [{ name: 'app', image: 'busybox', ports: [{ containerPort: 8080, name: 'http' }] }] },
});
const svc = (name: string, selector: Record<string, string>, spec: Obj = {}): Obj => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec: { selector, ports: [{ port: 80, targetPort: 'http' }], ...spec },
});

const objects: Obj[] = [
  pod('shop', 'a', 'node-1', { app: 'a' }), pod('shop', 'b', 'node-2', { app: 'b' }), pod('shop', 'c', 'node-2', { app: 'b' }),
  pod('other', 'd', 'node-1', { app: 'd' }),
  svc('b', { app: 'b' }), svc('b-np', { app: 'b' }, { type: 'NodePort', externalTrafficPolicy: 'Local' }),
  svc('b-lb', { app: 'b' }, { type: 'LoadBalancer', sessionAffinity: 'ClientIP' }), svc('none', { app: 'nobody' }),
  {
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'b-from-a', namespace: 'shop' },
    spec: { podSelector: { matchLabels: { app: 'b' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'a' } } }], ports: [{ port: 'http' }] }] },
  },
  {
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'a-egress', namespace: 'shop' },
    spec: { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.244.0.0/16', except: ['10.244.0.0/24'] } }] }] },
  },
];

describe('ruleset slices', () => {
  const model = ClusterModel.build(offlineCluster(objects, { nodes: 2 }).snapshot);
  const s = model.snapshot;
  const ip = (key: string): string => model.pod(key)?.ip ?? '';
  const svcOf = (name: string) => s.services.find((x) => x.metadata.name === name);
  const nodes = [...model.nodes.values()];
  const addresses = [
    ip('shop/a'), ip('shop/b'), ip('shop/c'), ip('other/d'), model.externalIP, ...nodes.flatMap((n) => [n.ip, n.gateway]),
    ...s.services.flatMap((x) => [x.spec?.clusterIP ?? '', ...(x.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '')]).filter((a) => /^\d/.test(a)),
    '10.96.99.99', '10.244.1.250',
  ];
  const ports = [80, 8080, 53, 443, svcOf('b-np')?.spec?.ports?.[0]?.nodePort ?? 0];

  it('decide every packet as the whole node ruleset does (chains, rule indexes, verdict, NAT)', () => {
    let compared = 0;
    for (const node of nodes) {
      const full = model.ruleset(node.name);
      for (const saddr of addresses) {
        for (const daddr of addresses) {
          for (const dport of ports) {
            for (const l4proto of ['tcp', 'udp'] as const) {
              for (const hook of ['prerouting', 'input', 'forward', 'output', 'postrouting'] as Hook[]) {
                const local = new Set([node.ip, node.gateway]);
                const p: Packet = {
                  saddr, daddr, l4proto, sport: 40000, dport, iif: 'cni0', oif: 'eth0', ctState: 'new', masqueradeAddr: node.ip,
                  fibDaddrType: local.has(daddr) ? 'local' : 'unicast', fibSaddrType: local.has(saddr) ? 'local' : 'unicast',
                };
                const slice = model.rulesetFor(node.name, { saddr, daddr, dport });
                const a = evaluate(full, p, hook, { random: () => 0.4 });
                const b = evaluate(slice.ruleset, p, hook, { random: () => 0.4 });
                assert.deepEqual(
                  { verdict: b.verdict, path: b.path, nat: b.nat, packet: b.packet },
                  { verdict: a.verdict, path: a.path, nat: a.nat, packet: a.packet },
                  `${node.name} ${hook} ${l4proto} ${saddr} -> ${daddr}:${dport}`,
                );
                compared++;
              }
            }
          }
        }
      }
    }
    assert.ok(compared > 5000, `compared ${compared} packets`);
  });

  it('are small: a packet to one Service carries only that Service\'s chains', () => {
    const node = nodes[0];
    assert.ok(node !== undefined);
    const slice = model.rulesetFor(node.name, { saddr: ip('shop/a'), daddr: svcOf('b')?.spec?.clusterIP ?? '', dport: 80 });
    const full = model.ruleset(node.name);
    const chains = (rs: typeof full) => rs.tables.reduce((n, t) => n + t.chains.length, 0);
    assert.ok(chains(slice.ruleset) < chains(full), `${chains(slice.ruleset)} chains vs ${chains(full)}`);
    assert.deepEqual(slice.servicePorts.map((sp) => sp.name), ['b']);
  });
});
