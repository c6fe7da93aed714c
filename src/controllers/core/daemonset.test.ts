import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DaemonSet, Node, Pod } from '../../api/types.ts';
import { daemonPodTolerations, newDaemonPod, nodeShouldRunDaemonPod, reconcileDaemonSet, targetNodeName, templateHashOf } from './daemonset.ts';
import { makeNode, makePod, T0 } from './testing.ts';

function makeDS(extra: Partial<NonNullable<DaemonSet['spec']>> = {}, templateSpec: Partial<NonNullable<Pod['spec']>> = {}): DaemonSet {
  return {
    apiVersion: 'apps/v1', kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: 'kube-system', uid: 'ds-uid', generation: 3, resourceVersion: '7' },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a', image: 'agent:1' }], ...templateSpec } },
      ...extra,
    },
  };
}
const now = T0 + 3600_000;

function daemonPod(ds: DaemonSet, node: string, name: string, opts: { ready?: boolean; phase?: 'Running' | 'Failed'; created?: number; oldHash?: boolean } = {}): Pod {
  const pod = makePod(name, { namespace: 'kube-system', nodeName: node, ready: opts.ready ?? true, readySince: T0, phase: opts.phase ?? 'Running', created: opts.created ?? T0,
    labels: { app: 'agent', 'controller-revision-hash': opts.oldHash ? 'old' : templateHashOf(ds) }, owner: { kind: 'DaemonSet', name: 'agent', uid: 'ds-uid' } });
  return pod;
}

describe('DaemonSet node eligibility', () => {
  const cases: [string, DaemonSet, Node, boolean][] = [
    ['an ordinary ready node runs the daemon', makeDS(), makeNode('n'), true],
    ['a cordoned node still runs it (the unschedulable taint is tolerated)', makeDS(), makeNode('n', { unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] }), true],
    ['a not-ready NoExecute taint is tolerated', makeDS(), makeNode('n', { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] }), true],
    ['a control-plane NoSchedule taint is not tolerated by default', makeDS(), makeNode('n', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }), false],
    ['a template toleration admits the control plane', makeDS({}, { tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }] }),
      makeNode('n', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }), true],
    ['a PreferNoSchedule taint does not keep it away', makeDS(), makeNode('n', { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] }), true],
    ['a nodeSelector excludes nodes without the label', makeDS({}, { nodeSelector: { role: 'edge' } }), makeNode('n'), false],
    ['required affinity is honoured', makeDS({}, { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'role', operator: 'In', values: ['edge'] }] }] } } } }),
      makeNode('n', { labels: { role: 'edge' } }), true],
    ['network-unavailable is tolerated only for hostNetwork pods', makeDS({}, { hostNetwork: true }), makeNode('n', { taints: [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }] }), true],
    ['network-unavailable keeps ordinary daemon pods away', makeDS(), makeNode('n', { taints: [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }] }), false],
  ];
  for (const [name, ds, node, expected] of cases) it(name, () => assert.equal(nodeShouldRunDaemonPod(ds, node), expected));
});

describe('DaemonSet pods', () => {
  it('creates one pinned pod per eligible node with the default tolerations and revision labels', () => {
    const ds = makeDS();
    const r = reconcileDaemonSet({ daemonSet: ds, nodes: [makeNode('a'), makeNode('b'), makeNode('cp', { taints: [{ key: 'dedicated', effect: 'NoSchedule' }] })], pods: [], now });
    const creates = r.actions.filter((a) => a.verb === 'create');
    assert.deepEqual(creates.map((a) => a.verb === 'create' ? targetNodeName(a.object as Pod) : ''), ['a', 'b']);
    const pod = creates[0]?.verb === 'create' ? (creates[0].object as Pod) : undefined;
    assert.equal(pod?.metadata.generateName, 'agent-');
    assert.deepEqual(pod?.metadata.labels, { app: 'agent', 'controller-revision-hash': templateHashOf(ds), 'pod-template-generation': '3' });
    assert.deepEqual(pod?.spec?.affinity, { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }] }] } } });
    assert.equal(pod?.spec?.tolerations?.length, 6);
    assert.equal(pod?.spec?.nodeName, undefined, 'the scheduler binds daemon pods');
    assert.deepEqual(r.status, { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 2, numberReady: 0, numberAvailable: 0, updatedNumberScheduled: 0, numberUnavailable: 2, observedGeneration: 3 });
  });

  it('the pinning replaces the template\'s required terms but keeps preferred ones', () => {
    const ds = makeDS({}, { affinity: { nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'x', operator: 'Exists' }] }] },
      preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: 'y', operator: 'Exists' }] } }] } } });
    const pod = newDaemonPod(ds, 'n1');
    assert.deepEqual(pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }]);
    assert.equal(pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length, 1);
  });

  it('an existing toleration with the same key and effect is replaced, not duplicated', () => {
    const t = daemonPodTolerations({ containers: [], tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }] });
    assert.equal(t.filter((x) => x.key === 'node.kubernetes.io/not-ready').length, 1);
    assert.equal(t.find((x) => x.key === 'node.kubernetes.io/not-ready')?.tolerationSeconds, undefined);
  });

  it('removes extra pods (keeping the oldest), failed pods, pods on ineligible or vanished nodes', () => {
    const ds = makeDS({}, { nodeSelector: { daemon: 'yes' } });
    const nodes = [makeNode('a', { labels: { daemon: 'yes' } }), makeNode('b', { labels: { daemon: 'yes' } }), makeNode('c')];
    const pods = [
      daemonPod(ds, 'a', 'a-old', { created: T0 }), daemonPod(ds, 'a', 'a-new', { created: T0 + 10_000 }),
      daemonPod(ds, 'b', 'b-failed', { phase: 'Failed', ready: false }),
      daemonPod(ds, 'c', 'c-misplaced'),
      daemonPod(ds, 'gone', 'gone-1'),
    ];
    const r = reconcileDaemonSet({ daemonSet: ds, nodes, pods, now });
    const deleted = r.actions.filter((a) => a.verb === 'delete').map((a) => a.verb === 'delete' ? a.target.name : '').sort();
    assert.deepEqual(deleted, ['a-new', 'b-failed', 'c-misplaced', 'gone-1']);
    assert.deepEqual(r.actions.filter((a) => a.verb === 'create').map((a) => a.verb === 'create' ? targetNodeName(a.object as Pod) : ''), ['b']);
    assert.equal(r.status.numberMisscheduled, 1);
    assert.equal(r.status.desiredNumberScheduled, 2);
  });

  it('rolls old pods one node at a time with the default maxUnavailable of 1', () => {
    const ds = makeDS();
    const nodes = [makeNode('a'), makeNode('b'), makeNode('c')];
    const pods = nodes.map((n) => daemonPod(ds, n.metadata.name!, `p-${n.metadata.name}`, { oldHash: true }));
    const r = reconcileDaemonSet({ daemonSet: ds, nodes, pods, now });
    assert.deepEqual(r.actions.filter((a) => a.verb === 'delete').map((a) => a.verb === 'delete' ? a.target.name : ''), ['p-a']);
    assert.equal(r.status.updatedNumberScheduled, 0);
    // Next pass: node a has no pod -> it is created and, being unavailable, uses up the budget.
    const r2 = reconcileDaemonSet({ daemonSet: ds, nodes, pods: pods.slice(1), now });
    assert.equal(r2.actions.filter((a) => a.verb === 'create').length, 1);
    assert.equal(r2.actions.filter((a) => a.verb === 'delete').length, 0);
  });

  it('OnDelete leaves old pods alone', () => {
    const ds = makeDS({ updateStrategy: { type: 'OnDelete' } });
    const r = reconcileDaemonSet({ daemonSet: ds, nodes: [makeNode('a')], pods: [daemonPod(ds, 'a', 'p', { oldHash: true })], now });
    assert.equal(r.actions.filter((a) => a.verb === 'delete').length, 0);
  });

  it('counts ready, available (minReadySeconds) and updated pods in status', () => {
    const ds = makeDS({ minReadySeconds: 7200 });
    const pods = [daemonPod(ds, 'a', 'pa'), daemonPod(ds, 'b', 'pb', { ready: false })];
    const r = reconcileDaemonSet({ daemonSet: ds, nodes: [makeNode('a'), makeNode('b')], pods, now });
    assert.deepEqual([r.status.currentNumberScheduled, r.status.numberReady, r.status.numberAvailable, r.status.numberUnavailable, r.status.updatedNumberScheduled], [2, 1, 0, 2, 2]);
    assert.equal(r.requeueAfterSeconds, 3600);
  });
});
