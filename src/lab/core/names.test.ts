import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LabError } from './errors.ts';
import {
  labPortName,
  markerCluster,
  netnsMarker,
  nodeNetns,
  podNetns,
  podShortId,
  rootLink,
  validateClusterName,
  validateNodeName,
  validatePodUid,
  vxlanMac,
} from './names.ts';

const rejects = (fn: () => void): void => assert.throws(fn, (e: unknown) => e instanceof LabError && e.code === 'InvalidArgument');

describe('lab names', () => {
  const clusterCases: [string, boolean][] = [
    ['a', true],
    ['demo-1', true],
    ['abcdefghijkl', true], // 12
    ['abcdefghijklm', false], // 13
    ['-a', false],
    ['a-', false],
    ['A', false],
    ['a_b', false],
    ['', false],
    ['slots', false],
    ['images', false],
  ];
  for (const [name, ok] of clusterCases) {
    it(`a cluster name ${JSON.stringify(name)} is ${ok ? 'accepted' : 'rejected'}`, () => {
      if (ok) validateClusterName(name);
      else rejects(() => validateClusterName(name));
    });
  }

  it('the root link of the longest cluster name fits the 15-character interface name limit', () => {
    assert.ok(rootLink('abcdefghijkl').length <= 15);
  });

  const nodeCases: [string, boolean][] = [
    ['a', true],
    ['worker-1', true],
    ['lab', false],
    ['ext', false],
    ['p-1', false],
    ['Node', false],
    ['x'.repeat(64), false],
  ];
  for (const [name, ok] of nodeCases) {
    it(`a node name ${JSON.stringify(name.length > 20 ? name.slice(0, 8) + '...' : name)} is ${ok ? 'accepted' : 'rejected'}`, () => {
      if (ok) validateNodeName(name);
      else rejects(() => validateNodeName(name));
    });
  }

  it('pod namespaces use the first 10 alphanumerics of the pod uid', () => {
    assert.equal(podShortId('3F2A9C1E-4B5d-4c6e-8f70-123456789abc'), '3f2a9c1e4b');
    assert.equal(podNetns('c1', '3f2a9c1e-4b5d-4c6e-8f70-123456789abc'), 'fn-c1-p-3f2a9c1e4b');
    assert.equal(nodeNetns('c1', 'a'), 'fn-c1-a');
  });

  it('pod uids that are not valid CNI container ids are rejected', () => {
    rejects(() => validatePodUid('-abc'));
    rejects(() => validatePodUid('a b'));
    rejects(() => validatePodUid('a/b'));
    validatePodUid('0b1c-uid_x.y');
  });

  it('lab port names stay within 15 characters and differ for different long node names', () => {
    const long1 = 'a-very-long-node-name-1';
    const long2 = 'a-very-long-node-name-2';
    assert.equal(labPortName('node-1'), 'n-node-1');
    for (const n of [long1, long2, 'abcdefghijklm']) assert.ok(labPortName(n).length <= 15, n);
    assert.notEqual(labPortName(long1), labPortName(long2));
  });

  it('vxlan MACs are locally administered unicast, stable, and distinct per node', () => {
    const macs = ['a', 'b', 'c', 'd'].map((n) => vxlanMac('c1', n));
    for (const mac of macs) {
      assert.match(mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      const first = parseInt(mac.slice(0, 2), 16);
      assert.equal(first & 1, 0, 'unicast');
      assert.equal(first & 2, 2, 'locally administered');
    }
    assert.equal(new Set(macs).size, macs.length);
    assert.equal(vxlanMac('c1', 'a'), macs[0]);
    assert.notEqual(vxlanMac('c2', 'a'), macs[0]);
  });

  it('an owner marker names its cluster and nothing else parses as one', () => {
    assert.equal(markerCluster(netnsMarker('c1', 'pod', 'uid')), 'c1');
    assert.equal(markerCluster('something else'), undefined);
    assert.equal(markerCluster(''), undefined);
  });
});
