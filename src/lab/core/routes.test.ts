import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkPlan } from './routes.ts';
import { diffNetwork, parseFdbs, parseNeighs, parseRoutes, planNodeNetwork, planRootRoutes, vtepAddress } from './routes.ts';
import { planCluster } from './spec.ts';

const state = planCluster(
  {
    name: 'c1',
    backend: 'vxlan',
    podCIDR: '10.244.0.0/16',
    serviceCIDR: '10.96.0.0/12',
    nodes: [
      { name: 'a', podCIDR: '10.244.1.0/24' },
      { name: 'b', podCIDR: '10.244.2.0/24' },
      { name: 'c', podCIDR: '10.244.3.0/24' },
    ],
  },
  5,
);
const empty: NetworkPlan = { routes: [], neighs: [], fdbs: [] };
const macOf = (n: string): string => state.nodes.find((x) => x.name === n)?.vxlanMac ?? '';

describe('lab route planner', () => {
  it('host-gw routes every remote Pod CIDR via that node InternalIP on eth0, and defaults to the external', () => {
    const plan = planNodeNetwork('host-gw', state.underlay, state.nodes, 'a');
    assert.deepEqual(
      plan.routes.map((r) => `${r.dst} via ${r.gateway} dev ${r.dev}${r.onlink ? ' onlink' : ''}`),
      ['0.0.0.0/0 via 172.31.5.254 dev eth0', '10.244.2.0/24 via 172.31.5.12 dev eth0', '10.244.3.0/24 via 172.31.5.13 dev eth0'],
    );
    assert.deepEqual(plan.neighs, []);
    assert.deepEqual(plan.fdbs, []);
  });

  it('vxlan routes every remote Pod CIDR onlink via its .0 on flannel.1 with a permanent neighbour and an fdb entry', () => {
    const plan = planNodeNetwork('vxlan', state.underlay, state.nodes, 'b');
    assert.deepEqual(
      plan.routes.slice(1).map((r) => `${r.dst} via ${r.gateway} dev ${r.dev}${r.onlink ? ' onlink' : ''}`),
      ['10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink', '10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink'],
    );
    assert.deepEqual(plan.neighs, [
      { ip: '10.244.1.0', mac: macOf('a') },
      { ip: '10.244.3.0', mac: macOf('c') },
    ]);
    assert.deepEqual(plan.fdbs, [
      { mac: macOf('a'), dst: '172.31.5.11' },
      { mac: macOf('c'), dst: '172.31.5.13' },
    ]);
    assert.equal(vtepAddress('10.244.7.0/24'), '10.244.7.0');
  });

  it('the root plan routes each node Pod CIDR into the lab and makes the cluster ranges unreachable, all at the slot metric', () => {
    const routes = planRootRoutes(state);
    assert.ok(routes.every((r) => r.metric === 4005));
    assert.deepEqual(
      routes.filter((r) => r.type === 'unicast').map((r) => `${r.dst} via ${r.gateway} dev ${r.dev}`),
      ['10.244.1.0/24 via 172.31.5.11 dev fn-c1', '10.244.2.0/24 via 172.31.5.12 dev fn-c1', '10.244.3.0/24 via 172.31.5.13 dev fn-c1'],
    );
    assert.deepEqual(routes.filter((r) => r.type === 'unreachable').map((r) => r.dst), ['10.244.0.0/16', '10.96.0.0/12']);
  });

  it('from nothing, the diff adds every route, neighbour and fdb entry of the plan', () => {
    const plan = planNodeNetwork('vxlan', state.underlay, state.nodes, 'a');
    const diff = diffNetwork(plan, empty);
    assert.ok(diff.ip.includes('route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink proto 241'));
    assert.ok(diff.ip.includes(`neigh replace 10.244.3.0 lladdr ${macOf('c')} dev flannel.1 nud permanent`));
    assert.ok(diff.bridge.includes(`fdb append ${macOf('b')} dev flannel.1 dst 172.31.5.12 self permanent`));
    assert.equal(diff.ip.length, 3 + 2);
    assert.equal(diff.bridge.length, 2);
  });

  it('a diff of a plan against itself is empty (idempotent)', () => {
    for (const backend of ['vxlan', 'host-gw'] as const) {
      const plan = planNodeNetwork(backend, state.underlay, state.nodes, 'a');
      assert.deepEqual(diffNetwork(plan, plan), { ip: [], bridge: [] });
    }
    const root = { routes: planRootRoutes(state), neighs: [], fdbs: [] };
    assert.deepEqual(diffNetwork(root, root), { ip: [], bridge: [] });
  });

  it('a node that left is removed from its peers: route, neighbour and fdb deleted, nothing else touched', () => {
    const before = planNodeNetwork('vxlan', state.underlay, state.nodes, 'a');
    const after = planNodeNetwork('vxlan', state.underlay, state.nodes.filter((n) => n.name !== 'c'), 'a');
    const diff = diffNetwork(after, before);
    assert.deepEqual(diff.ip, ['route del 10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink proto 241', 'neigh del 10.244.3.0 dev flannel.1']);
    assert.deepEqual(diff.bridge, [`fdb del ${macOf('c')} dev flannel.1 dst 172.31.5.13 self`]);
  });

  it('a node whose MAC changed gets its neighbour replaced in place and its stale fdb entry deleted', () => {
    const before = planNodeNetwork('vxlan', state.underlay, state.nodes, 'a');
    const moved = state.nodes.map((n) => (n.name === 'b' ? { ...n, vxlanMac: '0e:00:00:00:00:0b' } : n));
    const diff = diffNetwork(planNodeNetwork('vxlan', state.underlay, moved, 'a'), before);
    assert.deepEqual(diff.ip, ['neigh replace 10.244.2.0 lladdr 0e:00:00:00:00:0b dev flannel.1 nud permanent']);
    assert.deepEqual(diff.bridge, [
      `fdb del ${macOf('b')} dev flannel.1 dst 172.31.5.12 self`,
      'fdb append 0e:00:00:00:00:0b dev flannel.1 dst 172.31.5.12 self permanent',
    ]);
  });

  it('kernel JSON for routes, neighbours and fdb entries parses into the planner shapes', () => {
    const routes = parseRoutes([
      { dst: 'default', gateway: '172.31.5.254', dev: 'eth0', flags: [] },
      { dst: '10.244.2.0/24', gateway: '10.244.2.0', dev: 'flannel.1', flags: ['onlink'] },
      { type: 'unreachable', dst: '10.96.0.0/12', metric: 4005, flags: [] },
      { type: 'blackhole', dst: '10.1.0.0/16', flags: [] },
    ]);
    assert.deepEqual(routes, [
      { type: 'unicast', dst: '0.0.0.0/0', gateway: '172.31.5.254', dev: 'eth0', onlink: false, metric: 0 },
      { type: 'unicast', dst: '10.244.2.0/24', gateway: '10.244.2.0', dev: 'flannel.1', onlink: true, metric: 0 },
      { type: 'unreachable', dst: '10.96.0.0/12', onlink: false, metric: 4005 },
    ]);
    assert.deepEqual(parseNeighs([{ dst: '10.244.2.0', lladdr: '0E:AA:00:00:00:01', state: ['PERMANENT'] }, { dst: '10.0.0.1', lladdr: 'x', state: ['STALE'] }]), [
      { ip: '10.244.2.0', mac: '0e:aa:00:00:00:01' },
    ]);
    assert.deepEqual(parseFdbs([{ mac: '0e:aa:00:00:00:01', dst: '172.31.5.12', flags: ['self'] }, { mac: '0e:aa:00:00:00:02', flags: ['self'] }]), [
      { mac: '0e:aa:00:00:00:01', dst: '172.31.5.12' },
    ]);
    assert.deepEqual(parseRoutes('not json'), []);
  });
});
