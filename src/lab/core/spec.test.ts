import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LabError } from './errors.ts';
import type { ClusterSpec } from './spec.ts';
import {
  assignNodeAddress,
  externalAddress,
  hostAddress,
  parseLabState,
  pickFreeSlot,
  planCluster,
  poolCidrs,
  rootUnreachableCidrs,
  slotOfAddress,
  underlayForSlot,
  validateClusterSpec,
  withNode,
  withoutNode,
} from './spec.ts';

const base: ClusterSpec = {
  name: 'c1',
  backend: 'vxlan',
  podCIDR: '10.244.0.0/16',
  serviceCIDR: '10.96.0.0/12',
  nodes: [
    { name: 'a', podCIDR: '10.244.1.0/24' },
    { name: 'b', podCIDR: '10.244.2.0/24' },
  ],
};

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof LabError ? err.code : 'other';
  }
};

describe('lab cluster spec', () => {
  it('slot S gives the underlay 172.31.S.0/24 with the host at .1 and the external at .254', () => {
    assert.equal(underlayForSlot(0), '172.31.0.0/24');
    assert.equal(underlayForSlot(7), '172.31.7.0/24');
    assert.equal(hostAddress(underlayForSlot(7)), '172.31.7.1');
    assert.equal(externalAddress(underlayForSlot(7)), '172.31.7.254');
    assert.equal(slotOfAddress('172.31.7.1'), 7);
    assert.equal(slotOfAddress('172.30.7.1'), undefined);
    assert.equal(code(() => underlayForSlot(256)), 'InvalidArgument');
  });

  it('the free-slot search takes the lowest unused slot and fails when all are used', () => {
    assert.equal(pickFreeSlot(new Set()), 0);
    assert.equal(pickFreeSlot(new Set([0, 1, 3])), 2);
    assert.equal(code(() => pickFreeSlot(new Set(Array.from({ length: 256 }, (_, i) => i)))), 'NoFreeSlot');
  });

  it('nodes get addresses from .11 in order, and a joining node reuses the lowest freed address', () => {
    const state = planCluster({ ...base, nodes: [...base.nodes, { name: 'c', podCIDR: '10.244.3.0/24' }] }, 2);
    assert.deepEqual(state.nodes.map((n) => n.ip), ['172.31.2.11', '172.31.2.12', '172.31.2.13']);
    const shrunk = withoutNode(state, 'b');
    const grown = withNode(shrunk, { name: 'd', podCIDR: '10.244.4.0/24' });
    assert.equal(grown.nodes.find((n) => n.name === 'd')?.ip, '172.31.2.12');
    assert.equal(assignNodeAddress('172.31.0.0/24', []), '172.31.0.11');
  });

  const invalid: [string, Partial<ClusterSpec>, string][] = [
    ['a node CIDR outside the pod CIDR', { nodes: [{ name: 'a', podCIDR: '10.245.1.0/24' }] }, 'InvalidArgument'],
    ['overlapping node CIDRs', { nodes: [{ name: 'a', podCIDR: '10.244.1.0/24' }, { name: 'b', podCIDR: '10.244.1.128/25' }] }, 'InvalidArgument'],
    ['a repeated node name', { nodes: [{ name: 'a', podCIDR: '10.244.1.0/24' }, { name: 'a', podCIDR: '10.244.2.0/24' }] }, 'AlreadyExists'],
    ['a pod CIDR overlapping the service CIDR', { serviceCIDR: '10.244.128.0/17' }, 'InvalidArgument'],
    ['a pod CIDR overlapping the underlay', { podCIDR: '172.31.0.0/16', nodes: [] }, 'InvalidArgument'],
    ['a CIDR with host bits set', { podCIDR: '10.244.0.1/16' }, 'InvalidArgument'],
    ['an unknown backend', { backend: 'ipip' as 'vxlan' }, 'InvalidArgument'],
    ['an LB pool inside the service CIDR', { lbPool: '10.96.0.0/24' }, 'InvalidArgument'],
    ['a cluster name that is too long', { name: 'abcdefghijklm' }, 'InvalidArgument'],
  ];
  for (const [what, patch, expected] of invalid) {
    it(`a spec with ${what} is rejected with ${expected}`, () => {
      assert.equal(code(() => validateClusterSpec({ ...base, ...patch })), expected);
    });
  }

  it('an LB pool range is covered by the smallest exact set of CIDR blocks', () => {
    assert.deepEqual(poolCidrs('10.250.0.0/24'), ['10.250.0.0/24']);
    assert.deepEqual(poolCidrs('10.250.0.10-10.250.0.20'), ['10.250.0.10/31', '10.250.0.12/30', '10.250.0.16/30', '10.250.0.20/32']);
    assert.deepEqual(poolCidrs('10.250.0.7'), ['10.250.0.7/32']);
  });

  it('the root namespace gets unreachable routes for pods, services and an off-underlay LB pool only', () => {
    const off = planCluster({ ...base, lbPool: '192.168.250.0/28' }, 0);
    assert.deepEqual(rootUnreachableCidrs(off), ['10.244.0.0/16', '10.96.0.0/12', '192.168.250.0/28']);
    const on = planCluster({ ...base, lbPool: '172.31.0.200-172.31.0.210' }, 0);
    assert.deepEqual(rootUnreachableCidrs(on), ['10.244.0.0/16', '10.96.0.0/12']);
  });

  it('a saved state parses back to the same state and garbage is Corrupt', () => {
    const state = planCluster({ ...base, lbPool: '10.250.0.0/24' }, 3);
    assert.deepEqual(parseLabState(JSON.parse(JSON.stringify(state))), state);
    assert.equal(code(() => parseLabState({ version: 2 })), 'Corrupt');
    assert.equal(code(() => parseLabState({ ...state, nodes: [{ name: 1 }] })), 'Corrupt');
  });
});
