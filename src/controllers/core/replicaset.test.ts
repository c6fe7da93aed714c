import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, ReplicaSet } from '../../api/types.ts';
import type { Action } from './actions.ts';
import { rankPodsForDeletion, reconcileReplicaSet } from './replicaset.ts';
import { makePod, T0 } from './testing.ts';

const RS_UID = 'rs-uid';
function makeRS(replicas: number, extra: Partial<NonNullable<ReplicaSet['spec']>> = {}): ReplicaSet {
  return {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: { name: 'web-abc', namespace: 'default', uid: RS_UID, generation: 2, resourceVersion: '5' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web', tier: 'fe' }, annotations: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      ...extra,
    },
  };
}
const owned = { kind: 'ReplicaSet', name: 'web-abc', uid: RS_UID };
const now = T0 + 3600_000;

const verbs = (actions: Action[]) => actions.map((a) => a.verb);

describe('ReplicaSet replica management', () => {
  it('creates the missing pods from the template with generateName and a controller reference', () => {
    const r = reconcileReplicaSet({ replicaSet: makeRS(3), pods: [makePod('web-abc-1', { labels: { app: 'web' }, owner: owned })], now });
    const creates = r.actions.filter((a) => a.verb === 'create');
    assert.equal(creates.length, 2);
    const first = creates[0];
    assert.ok(first?.verb === 'create');
    assert.deepEqual(first.object.metadata, {
      generateName: 'web-abc-', namespace: 'default', labels: { app: 'web', tier: 'fe' }, annotations: { a: 'b' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: RS_UID, controller: true, blockOwnerDeletion: true }],
    });
    assert.deepEqual([first.onSuccess?.reason, first.onSuccess?.message, first.onSuccess?.append], ['SuccessfulCreate', 'Created pod: ', 'name']);
    assert.equal(first.onFailure?.reason, 'FailedCreate');
  });

  it('ignores terminating and finished pods when counting, and replaces them', () => {
    const pods = [
      makePod('a', { labels: { app: 'web' }, owner: owned, nodeName: 'n', deleting: true }),
      makePod('b', { labels: { app: 'web' }, owner: owned, nodeName: 'n', phase: 'Failed' }),
      makePod('c', { labels: { app: 'web' }, owner: owned, nodeName: 'n', ready: true, readySince: T0 }),
    ];
    const r = reconcileReplicaSet({ replicaSet: makeRS(2), pods, now });
    assert.equal(r.actions.filter((a) => a.verb === 'create').length, 1);
    assert.equal(r.status.replicas, 1);
  });

  it('deletes the surplus pods, the least valuable first, with a uid precondition and an event', () => {
    const pods = [
      makePod('running-ready', { labels: { app: 'web' }, owner: owned, nodeName: 'n1', ready: true, readySince: T0 }),
      makePod('pending', { labels: { app: 'web' }, owner: owned, nodeName: 'n2', phase: 'Pending' }),
      makePod('unassigned', { labels: { app: 'web' }, owner: owned }),
    ];
    const r = reconcileReplicaSet({ replicaSet: makeRS(1), pods, now });
    const deletes = r.actions.filter((a) => a.verb === 'delete');
    assert.deepEqual(deletes.map((d) => d.verb === 'delete' ? [d.target.name, d.uid, d.onSuccess?.message] : []), [
      ['unassigned', 'uid-unassigned', 'Deleted pod: unassigned'],
      ['pending', 'uid-pending', 'Deleted pod: pending'],
    ]);
  });

  it('caps one pass at burstReplicas', () => {
    const r = reconcileReplicaSet({ replicaSet: makeRS(10), pods: [], now, burstReplicas: 4 });
    assert.equal(r.actions.filter((a) => a.verb === 'create').length, 4);
  });

  it('does not create or delete while the ReplicaSet is being deleted', () => {
    const rs = makeRS(3);
    rs.metadata.deletionTimestamp = '2025-01-01T00:00:00Z';
    const r = reconcileReplicaSet({ replicaSet: rs, pods: [], now });
    assert.deepEqual(verbs(r.actions).filter((v) => v !== 'update'), []);
  });
});

describe('ReplicaSet claiming', () => {
  it('adopts a matching orphan and releases an owned pod that no longer matches', () => {
    const pods = [
      makePod('orphan', { labels: { app: 'web' }, nodeName: 'n', ready: true, readySince: T0 }),
      makePod('strayed', { labels: { app: 'api' }, owner: owned, nodeName: 'n' }),
      makePod('foreign', { labels: { app: 'web' }, owner: { kind: 'ReplicaSet', name: 'other', uid: 'other' }, nodeName: 'n' }),
    ];
    const r = reconcileReplicaSet({ replicaSet: makeRS(1), pods, now });
    const patches = r.actions.filter((a) => a.verb === 'patch');
    assert.equal(patches.length, 2);
    const adopt = patches.find((p) => p.verb === 'patch' && p.target.name === 'orphan');
    const release = patches.find((p) => p.verb === 'patch' && p.target.name === 'strayed');
    assert.deepEqual(adopt?.verb === 'patch' ? adopt.patch : undefined, { metadata: {
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: RS_UID, controller: true, blockOwnerDeletion: true }],
      uid: 'uid-orphan', resourceVersion: '1' } });
    assert.deepEqual(release?.verb === 'patch' ? release.patch : undefined, { metadata: { ownerReferences: [], uid: 'uid-strayed', resourceVersion: '1' } });
    assert.equal(r.actions.filter((a) => a.verb === 'create' || a.verb === 'delete').length, 0, 'the adopted pod satisfies replicas=1');
  });
});

describe('ReplicaSet status', () => {
  it('reports replicas, fully labeled, ready, available (minReadySeconds) and observedGeneration', () => {
    const pods = [
      makePod('a', { labels: { app: 'web', tier: 'fe' }, owner: owned, nodeName: 'n', ready: true, readySince: now - 60_000 }),
      makePod('b', { labels: { app: 'web' }, owner: owned, nodeName: 'n', ready: true, readySince: now - 5_000 }),
      makePod('c', { labels: { app: 'web', tier: 'fe' }, owner: owned, nodeName: 'n', ready: false }),
    ];
    const r = reconcileReplicaSet({ replicaSet: makeRS(3, { minReadySeconds: 30 }), pods, now });
    assert.deepEqual(r.status, { replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 1, observedGeneration: 2 });
    assert.equal(r.requeueAfterSeconds, 25, 'pod b becomes available in 25 seconds');
    const update = r.actions.find((a) => a.verb === 'update');
    assert.ok(update?.verb === 'update' && update.subresource === 'status');
  });

  it('writes no status when nothing changed', () => {
    const rs = makeRS(0);
    rs.status = { replicas: 0, fullyLabeledReplicas: 0, readyReplicas: 0, availableReplicas: 0, observedGeneration: 2 };
    const r = reconcileReplicaSet({ replicaSet: rs, pods: [], now });
    assert.deepEqual(r.actions, []);
  });
});

describe('deletion ranking', () => {
  const base = { labels: { app: 'web' }, owner: owned };
  const cases: [string, Pod, Pod][] = [
    ['an unassigned pod goes before an assigned one', makePod('x', { ...base }), makePod('y', { ...base, nodeName: 'n' })],
    ['a pending pod goes before a running one', makePod('x', { ...base, nodeName: 'n', phase: 'Pending' }), makePod('y', { ...base, nodeName: 'n', phase: 'Running' })],
    ['an unknown-phase pod goes before a running one', makePod('x', { ...base, nodeName: 'n', phase: 'Unknown' }), makePod('y', { ...base, nodeName: 'n', phase: 'Running' })],
    ['a not-ready pod goes before a ready one', makePod('x', { ...base, nodeName: 'n', ready: false }), makePod('y', { ...base, nodeName: 'n', ready: true, readySince: T0 })],
    ['a lower deletion cost goes first', makePod('x', { ...base, nodeName: 'n', annotations: { 'controller.kubernetes.io/pod-deletion-cost': '-5' } }), makePod('y', { ...base, nodeName: 'n' })],
    ['a pod ready for much less time goes first', makePod('x', { ...base, nodeName: 'n', ready: true, readySince: now - 10_000 }), makePod('y', { ...base, nodeName: 'n', ready: true, readySince: now - 3600_000 })],
    ['more restarts go first', makePod('x', { ...base, nodeName: 'n', restarts: 4 }), makePod('y', { ...base, nodeName: 'n', restarts: 1 })],
    ['a much newer pod goes first', makePod('x', { ...base, nodeName: 'n', created: now - 5_000 }), makePod('y', { ...base, nodeName: 'n', created: now - 86_400_000 })],
  ];
  for (const [name, first, second] of cases) {
    it(name, () => {
      assert.deepEqual(rankPodsForDeletion([second, first], [second, first], now).map((p) => p.metadata.name), ['x', 'y']);
      assert.deepEqual(rankPodsForDeletion([first, second], [first, second], now).map((p) => p.metadata.name), ['x', 'y']);
    });
  }
  it('a pod on a node crowded with siblings goes first', () => {
    const x = makePod('x', { ...base, nodeName: 'crowded' });
    const y = makePod('y', { ...base, nodeName: 'quiet' });
    const sibling = makePod('s', { ...base, nodeName: 'crowded' });
    assert.deepEqual(rankPodsForDeletion([y, x], [x, y, sibling], now).map((p) => p.metadata.name), ['x', 'y']);
  });
});
