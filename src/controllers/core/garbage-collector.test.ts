import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject, OwnerReference } from '../../api/types.ts';
import { collectGarbage } from './garbage-collector.ts';

function obj(kind: string, name: string, opts: { ns?: string | null; owners?: OwnerReference[]; deleting?: boolean; finalizers?: string[] } = {}): KubeObject {
  const metadata: KubeObject['metadata'] = { name, uid: `uid-${name}`, resourceVersion: '3' };
  if (opts.ns !== null) metadata.namespace = opts.ns ?? 'default';
  if (opts.owners) metadata.ownerReferences = opts.owners;
  if (opts.deleting) metadata.deletionTimestamp = '2025-01-01T00:00:00Z';
  if (opts.finalizers) metadata.finalizers = opts.finalizers;
  return { apiVersion: kind === 'Pod' ? 'v1' : 'apps/v1', kind, metadata };
}
const ref = (kind: string, name: string, block = true): OwnerReference => ({ apiVersion: 'apps/v1', kind, name, uid: `uid-${name}`, controller: true, blockOwnerDeletion: block });
const summary = (objects: KubeObject[]) => collectGarbage({ objects }).actions.map((a) =>
  a.verb === 'delete' ? `delete ${a.target.name} ${a.propagationPolicy}` : a.verb === 'patch' ? `patch ${a.target.name} ${JSON.stringify(a.patch['metadata'])}` : a.verb);

describe('garbage collector', () => {
  it('deletes dependents whose owner is gone, in the background, asking for a live check of the owner', () => {
    const r = collectGarbage({ objects: [obj('Pod', 'p', { owners: [ref('ReplicaSet', 'rs')] })] });
    assert.deepEqual(r.actions, [{ verb: 'delete', target: { apiVersion: 'v1', kind: 'Pod', name: 'p', namespace: 'default' }, propagationPolicy: 'Background', uid: 'uid-p',
      verifyOwnersAbsent: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', namespace: 'default' }] }]);
  });

  it('leaves dependents of live owners alone', () => {
    assert.deepEqual(summary([obj('ReplicaSet', 'rs'), obj('Pod', 'p', { owners: [ref('ReplicaSet', 'rs')] })]), []);
  });

  it('removes only the dangling reference when another owner still exists', () => {
    assert.deepEqual(summary([obj('ReplicaSet', 'a'), obj('Pod', 'p', { owners: [ref('ReplicaSet', 'a'), ref('ReplicaSet', 'gone', false)] })]),
      [`patch p {"uid":"uid-p","resourceVersion":"3","ownerReferences":[${JSON.stringify(ref('ReplicaSet', 'a'))}]}`]);
  });

  it('uses the dependent\'s own orphan finalizer as its deletion policy', () => {
    assert.deepEqual(summary([obj('ReplicaSet', 'rs', { owners: [ref('Deployment', 'gone')], finalizers: ['orphan'] })]), ['delete rs Orphan']);
  });

  it('treats an owner in another namespace as absent and warns', () => {
    const r = collectGarbage({ objects: [obj('ReplicaSet', 'rs', { ns: 'other' }), obj('Pod', 'p', { owners: [ref('ReplicaSet', 'rs')] })] });
    assert.deepEqual(r.actions.map((a) => a.verb), ['delete']);
    assert.deepEqual(r.events.map((e) => [e.type, e.reason]), [['Warning', 'OwnerRefInvalidNamespace']]);
  });

  it('a cluster-scoped owner of a namespaced dependent is valid', () => {
    assert.deepEqual(summary([obj('Node', 'n1', { ns: null }), obj('Pod', 'p', { owners: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'uid-n1' }] })]), []);
  });

  it('foreground: blocking dependents are deleted and the owner keeps its finalizer until they are gone', () => {
    const owner = obj('ReplicaSet', 'rs', { deleting: true, finalizers: ['foregroundDeletion'] });
    assert.deepEqual(summary([owner, obj('Pod', 'p', { owners: [ref('ReplicaSet', 'rs')] })]), ['delete p Background']);
    assert.deepEqual(summary([owner]), ['patch rs {"uid":"uid-rs","resourceVersion":"3","finalizers":[]}']);
  });

  it('foreground: a dependent that has its own dependents is unblocked and deleted in the foreground', () => {
    const owner = obj('Deployment', 'd', { deleting: true, finalizers: ['foregroundDeletion'] });
    const rs = obj('ReplicaSet', 'rs', { owners: [ref('Deployment', 'd')] });
    const pod = obj('Pod', 'p', { owners: [ref('ReplicaSet', 'rs')] });
    assert.deepEqual(summary([owner, rs, pod]), [
      `patch rs {"uid":"uid-rs","resourceVersion":"3","ownerReferences":[${JSON.stringify(ref('Deployment', 'd', false))}]}`,
      'delete rs Foreground',
    ]);
  });

  it('foreground: non-blocking dependents do not hold the owner back', () => {
    const owner = obj('ReplicaSet', 'rs', { deleting: true, finalizers: ['foregroundDeletion', 'x'] });
    const r = summary([owner, obj('Pod', 'p', { owners: [ref('ReplicaSet', 'rs', false)], deleting: true })]);
    assert.deepEqual(r, ['patch rs {"uid":"uid-rs","resourceVersion":"3","finalizers":["x"]}']);
  });

  it('orphan: dependents lose the reference and the owner loses the orphan finalizer', () => {
    const owner = obj('ReplicaSet', 'rs', { deleting: true, finalizers: ['orphan'] });
    assert.deepEqual(summary([owner, obj('Pod', 'p', { owners: [ref('ReplicaSet', 'rs')] })]), [
      'patch p {"uid":"uid-p","resourceVersion":"3","ownerReferences":[]}',
      'patch rs {"uid":"uid-rs","resourceVersion":"3","finalizers":[]}',
    ]);
  });

  it('does not re-delete a dependent that is already terminating', () => {
    assert.deepEqual(summary([obj('Pod', 'p', { owners: [ref('ReplicaSet', 'gone')], deleting: true })]), []);
  });
});
