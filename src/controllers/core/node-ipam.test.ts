import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { reconcileNodeIpam } from './node-ipam.ts';
import { makeNode } from './testing.ts';

describe('node IPAM', () => {
  it('assigns /24s from 10.244.0.0/16 by default, skipping ones in use, with a patch per node', () => {
    const r = reconcileNodeIpam({ nodes: [makeNode('b'), makeNode('a', { podCIDR: '10.244.0.0/24' }), makeNode('c')] });
    assert.deepEqual(r.assignments, { a: '10.244.0.0/24', b: '10.244.1.0/24', c: '10.244.2.0/24' });
    assert.deepEqual(r.actions.map((a) => a.verb === 'patch' ? [a.target.name, a.patch['spec']] : []), [
      ['b', { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] }],
      ['c', { podCIDR: '10.244.2.0/24', podCIDRs: ['10.244.2.0/24'] }],
    ]);
  });

  it('is stable: a second pass over the patched nodes changes nothing', () => {
    const nodes = [makeNode('a'), makeNode('b')];
    const first = reconcileNodeIpam({ nodes });
    const patched = nodes.map((n) => makeNode(n.metadata.name!, { podCIDR: first.assignments[n.metadata.name!] }));
    const second = reconcileNodeIpam({ nodes: patched, cursor: first.cursor });
    assert.deepEqual(second.actions, []);
    assert.deepEqual(second.assignments, first.assignments);
  });

  it('frees a deleted node\'s CIDR, but the rotating cursor hands out a new one first', () => {
    const first = reconcileNodeIpam({ nodes: [makeNode('a'), makeNode('b')], clusterCIDR: '10.244.0.0/22' });
    const afterDelete = [makeNode('b', { podCIDR: first.assignments['b'] }), makeNode('c')];
    const second = reconcileNodeIpam({ nodes: afterDelete, clusterCIDR: '10.244.0.0/22', cursor: first.cursor });
    assert.equal(second.assignments['c'], '10.244.2.0/24');
    const third = reconcileNodeIpam({ nodes: [...afterDelete.slice(0, 1), makeNode('c', { podCIDR: '10.244.2.0/24' }), makeNode('d'), makeNode('e')], clusterCIDR: '10.244.0.0/22', cursor: second.cursor });
    assert.deepEqual([third.assignments['d'], third.assignments['e']], ['10.244.3.0/24', '10.244.0.0/24']);
  });

  it('on exhaustion records CIDRNotAvailable on the node and does not throw', () => {
    const r = reconcileNodeIpam({ nodes: [makeNode('a'), makeNode('b'), makeNode('c')], clusterCIDR: '10.244.0.0/23' });
    assert.deepEqual(r.unassigned, ['c']);
    assert.deepEqual(r.events.map((e) => [e.involvedObject.kind, e.involvedObject.name, e.reason, e.message]), [['Node', 'c', 'CIDRNotAvailable', 'Node c status is now: CIDRNotAvailable']]);
    assert.equal(r.actions.length, 2);
  });

  it('honours a custom mask size and leaves a hand-set CIDR outside the range alone', () => {
    const r = reconcileNodeIpam({ nodes: [makeNode('a', { podCIDR: '192.168.9.0/24' }), makeNode('b')], clusterCIDR: '10.0.0.0/16', nodeCIDRMaskSize: 26 });
    assert.deepEqual(r.assignments, { a: '192.168.9.0/24', b: '10.0.0.0/26' });
  });
});
