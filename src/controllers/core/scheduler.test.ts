import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from '../../api/types.ts';
import { fitErrorMessage, schedulePods } from './scheduler.ts';
import { makeNode, makePod, T0 } from './testing.ts';

const now = T0 + 60_000;

function scheduleOne(pod: Pod, nodes: Node[], assigned: Pod[] = []) {
  const result = schedulePods({ pods: [pod], nodes, assignedPods: assigned, now });
  const decision = result.decisions[0];
  assert.ok(decision, 'a decision is made');
  return { result, decision };
}

function withSpec(pod: Pod, spec: Partial<NonNullable<Pod['spec']>>): Pod {
  return { ...pod, spec: { ...pod.spec!, ...spec } };
}

describe('scheduler filters', () => {
  const cases: { name: string; pod: Pod; nodes: Node[]; assigned?: Pod[]; expect: string }[] = [
    {
      name: 'a nodeSelector no node satisfies makes the pod unschedulable with the affinity/selector reason',
      pod: withSpec(makePod('p'), { nodeSelector: { disk: 'ssd' } }),
      nodes: [makeNode('a'), makeNode('b'), makeNode('c')],
      expect: "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
    },
    {
      name: 'each node reports the first filter that rejects it, reasons sorted as upstream',
      pod: makePod('p'),
      nodes: [
        makeNode('cp', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }),
        makeNode('cordoned', { unschedulable: true }),
        makeNode('down', { ready: 'False' }),
      ],
      expect: '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, '
        + '1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) were unschedulable.',
    },
    {
      name: 'a node whose Ready condition is Unknown is seen as unreachable',
      pod: makePod('p'),
      nodes: [makeNode('lost', { ready: 'Unknown' })],
      expect: '0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }.',
    },
    {
      name: 'a NoExecute taint with a value blocks the pod and is named with its value',
      pod: makePod('p'),
      nodes: [makeNode('a', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }] })],
      expect: '0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: db}.',
    },
    {
      name: 'a full node reports Too many pods',
      pod: makePod('p'),
      nodes: [makeNode('a', { maxPods: '1' })],
      assigned: [makePod('x', { nodeName: 'a' })],
      expect: '0/1 nodes are available: 1 Too many pods.',
    },
    {
      name: 'an unknown node name in required affinity matchFields rejects every node',
      pod: withSpec(makePod('p'), { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['zz'] }] }] } } } }),
      nodes: [makeNode('a'), makeNode('b')],
      expect: "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.",
    },
    {
      name: 'counts of ten sort before counts of two as strings, as upstream',
      pod: withSpec(makePod('p'), { nodeSelector: { x: 'y' } }),
      nodes: [...Array.from({ length: 10 }, (_, i) => makeNode(`n${i}`)), makeNode('c1', { unschedulable: true }), makeNode('c2', { unschedulable: true })],
      expect: "0/12 nodes are available: 10 node(s) didn't match Pod's node affinity/selector, 2 node(s) were unschedulable.",
    },
    {
      name: 'with no nodes at all the message is upstream\'s no-nodes error',
      pod: makePod('p'),
      nodes: [],
      expect: 'no nodes available to schedule pods',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { result, decision } = scheduleOne(c.pod, c.nodes, c.assigned);
      assert.equal(decision.outcome, 'unschedulable');
      assert.equal(decision.outcome === 'unschedulable' ? decision.message : '', c.expect);
      assert.deepEqual(result.events.map((e) => [e.type, e.reason, e.message]), [['Warning', 'FailedScheduling', c.expect]]);
      const update = result.actions[0];
      assert.equal(update?.verb, 'update');
      if (update?.verb === 'update') {
        assert.equal(update.subresource, 'status');
        const cond = (update.object as Pod).status?.conditions?.find((x) => x.type === 'PodScheduled');
        assert.deepEqual([cond?.status, cond?.reason, cond?.message], ['False', 'Unschedulable', c.expect]);
      }
    });
  }

  const fits: { name: string; pod: Pod; nodes: Node[]; assigned?: Pod[]; node: string }[] = [
    {
      name: 'a toleration lets the pod onto a tainted node',
      pod: withSpec(makePod('p'), { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] }),
      nodes: [makeNode('a', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] })],
      node: 'a',
    },
    {
      name: 'an Exists toleration without key tolerates every taint',
      pod: withSpec(makePod('p'), { tolerations: [{ operator: 'Exists' }] }),
      nodes: [makeNode('a', { ready: 'False', unschedulable: true })],
      node: 'a',
    },
    {
      name: 'the pod goes to the node with the fewest pods',
      pod: makePod('p'),
      nodes: [makeNode('a'), makeNode('b')],
      assigned: [makePod('x', { nodeName: 'a' }), makePod('y', { nodeName: 'a' }), makePod('z', { nodeName: 'b' })],
      node: 'b',
    },
    {
      name: 'terminal pods do not count against a node',
      pod: makePod('p'),
      nodes: [makeNode('a'), makeNode('b')],
      assigned: [makePod('x', { nodeName: 'a', phase: 'Succeeded' }), makePod('y', { nodeName: 'a', phase: 'Failed' }), makePod('z', { nodeName: 'b' })],
      node: 'a',
    },
    {
      name: 'equal scores go to the first node by name',
      pod: makePod('p'),
      nodes: [makeNode('c'), makeNode('a'), makeNode('b')],
      node: 'a',
    },
    {
      name: 'a PreferNoSchedule taint is avoided but not forbidden',
      pod: makePod('p'),
      nodes: [makeNode('a', { taints: [{ key: 'soft', effect: 'PreferNoSchedule' }] }), makeNode('b')],
      assigned: [makePod('x', { nodeName: 'b' })],
      node: 'b',
    },
    {
      name: 'preferred node affinity outweighs spreading',
      pod: withSpec(makePod('p'), { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 10, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] } }] } } }),
      nodes: [makeNode('a', { labels: { zone: 'z1' } }), makeNode('b')],
      assigned: [makePod('x', { nodeName: 'a' })],
      node: 'a',
    },
  ];
  for (const c of fits) {
    it(c.name, () => {
      const { result, decision } = scheduleOne(c.pod, c.nodes, c.assigned);
      assert.deepEqual(decision, { pod: 'default/p', outcome: 'bound', nodeName: c.node });
      assert.equal(result.events.length, 0);
    });
  }
});

describe('scheduler node affinity operators', () => {
  const node = makeNode('n1', { labels: { zone: 'z1', cores: '8' } });
  const cases: [string, NonNullable<NonNullable<Pod['spec']>['affinity']>, boolean][] = [
    ['In matches a listed value', { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1', 'z2'] }] }] } } }, true],
    ['NotIn rejects a listed value', { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['z1'] }] }] } } }, false],
    ['NotIn accepts a missing label', { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'gpu', operator: 'NotIn', values: ['yes'] }] }] } } }, true],
    ['Exists needs the label', { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'gpu', operator: 'Exists' }] }] } } }, false],
    ['DoesNotExist accepts a missing label', { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] }] } } }, true],
    ['Gt compares integers', { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['4'] }] }] } } }, true],
    ['Lt compares integers', { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'cores', operator: 'Lt', values: ['4'] }] }] } } }, false],
    ['Gt with a non-integer value never matches', { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'Gt', values: ['4'] }] }] } } }, false],
    ['terms are ORed', { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [
      { matchExpressions: [{ key: 'gpu', operator: 'Exists' }] }, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }] } } }, true],
    ['an empty term matches nothing', { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{}] } } }, false],
  ];
  for (const [name, affinity, fits] of cases) {
    it(`${name}`, () => {
      const { decision } = scheduleOne(withSpec(makePod('p'), { affinity }), [node]);
      assert.equal(decision.outcome, fits ? 'bound' : 'unschedulable');
    });
  }
});

describe('scheduler queue and outputs', () => {
  it('binds with a Binding to the pods/binding subresource and a Scheduled event on success', () => {
    const { result } = scheduleOne(makePod('web-1', { namespace: 'shop' }), [makeNode('node-1')]);
    const action = result.actions[0];
    assert.equal(action?.verb, 'create');
    if (action?.verb !== 'create') return;
    assert.equal(action.subresource, 'binding');
    assert.deepEqual(action.object, {
      apiVersion: 'v1', kind: 'Binding', metadata: { name: 'web-1', namespace: 'shop', uid: 'uid-web-1' },
      target: { apiVersion: 'v1', kind: 'Node', name: 'node-1' },
    });
    assert.equal(action.onSuccess?.reason, 'Scheduled');
    assert.equal(action.onSuccess?.message, 'Successfully assigned shop/web-1 to node-1');
    assert.equal(action.onSuccess?.source, 'default-scheduler');
  });

  it('spreads a batch of pods by counting the ones it just placed', () => {
    const pods = [makePod('p1'), makePod('p2'), makePod('p3'), makePod('p4')];
    const result = schedulePods({ pods, nodes: [makeNode('a'), makeNode('b')], assignedPods: [], now });
    assert.deepEqual(result.decisions.map((d) => d.outcome === 'bound' ? d.nodeName : '-'), ['a', 'b', 'a', 'b']);
  });

  it('places higher-priority pods first when capacity is short', () => {
    const low = makePod('low', { created: T0 });
    const high = withSpec(makePod('high', { created: T0 + 5000 }), { priority: 1000 });
    const result = schedulePods({ pods: [low, high], nodes: [makeNode('a', { maxPods: '1' })], assignedPods: [], now });
    assert.deepEqual(result.decisions.map((d) => [d.pod, d.outcome]), [['default/high', 'bound'], ['default/low', 'unschedulable']]);
  });

  it('skips pods already bound, terminating, or for another scheduler', () => {
    const pods = [makePod('bound', { nodeName: 'a' }), makePod('gone', { deleting: true }), withSpec(makePod('other'), { schedulerName: 'custom' })];
    const result = schedulePods({ pods, nodes: [makeNode('a')], assignedPods: [], now });
    assert.deepEqual(result.decisions, []);
    assert.deepEqual(result.actions, []);
  });

  it('does not rewrite an identical Unschedulable condition but still records the event', () => {
    const message = fitErrorMessage(1, { 'node(s) were unschedulable': 1 });
    const pod = makePod('p');
    pod.status!.conditions = [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }];
    const result = schedulePods({ pods: [pod], nodes: [makeNode('a', { unschedulable: true })], assignedPods: [], now });
    assert.deepEqual(result.actions, []);
    assert.equal(result.events.length, 1);
  });
});
