import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject, Namespace } from '../../api/types.ts';
import { reconcileNamespace } from './namespace.ts';
import { T0 } from './testing.ts';

function ns(deleting: boolean): Namespace {
  return {
    apiVersion: 'v1', kind: 'Namespace',
    metadata: { name: 'shop', uid: 'ns-uid', resourceVersion: '9', ...(deleting ? { deletionTimestamp: '2025-01-01T00:00:00Z' } : {}) },
    spec: { finalizers: ['kubernetes'] }, status: { phase: deleting ? 'Terminating' : 'Active' },
  };
}
const item = (apiVersion: string, kind: string, name: string, extra: Partial<KubeObject['metadata']> = {}): KubeObject =>
  ({ apiVersion, kind, metadata: { name, namespace: 'shop', uid: `uid-${name}`, ...extra } });

describe('namespace deletion', () => {
  it('does nothing for a namespace that is not being deleted', () => {
    assert.deepEqual(reconcileNamespace({ namespace: ns(false), contents: [item('v1', 'Pod', 'p')], now: T0 }).actions, []);
  });

  it('deletes every object not already terminating and reports what remains with upstream wording', () => {
    const contents = [
      item('v1', 'Pod', 'p1'), item('v1', 'Pod', 'p2', { deletionTimestamp: '2025-01-01T00:00:00Z' }), item('v1', 'ConfigMap', 'cm'),
      item('apps/v1', 'Deployment', 'd', { finalizers: ['example.com/hold'] }),
    ];
    const r = reconcileNamespace({ namespace: ns(true), contents, now: T0 });
    assert.deepEqual(r.actions.filter((a) => a.verb === 'delete').map((a) => a.verb === 'delete' ? `${a.target.kind}/${a.target.name}` : ''), ['ConfigMap/cm', 'Deployment/d', 'Pod/p1']);
    const update = r.actions.find((a) => a.verb === 'update');
    const conditions = update?.verb === 'update' ? (update.object as Namespace).status?.conditions ?? [] : [];
    const byType = Object.fromEntries(conditions.map((c) => [c.type, [c.status, c.reason, c.message]]));
    assert.deepEqual(byType['NamespaceContentRemaining'], ['True', 'SomeResourcesRemain', 'Some resources are remaining: deployments.apps has 1 resource instances, pods. has 2 resource instances']);
    assert.deepEqual(byType['NamespaceFinalizersRemaining'], ['True', 'SomeFinalizersRemain', 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances']);
    assert.deepEqual(byType['NamespaceDeletionContentFailure'], ['False', 'ContentDeleted', 'All content successfully deleted, may be waiting on finalization']);
    assert.equal(r.finalizing, false);
    assert.equal(r.remaining, 3);
    assert.ok((r.requeueAfterSeconds ?? 0) > 0);
  });

  it('removes the kubernetes finalizer once the namespace is empty, through the finalize subresource only', () => {
    const r = reconcileNamespace({ namespace: ns(true), contents: [], now: T0 });
    assert.equal(r.finalizing, true);
    assert.equal(r.actions.length, 1);
    const a = r.actions[0];
    assert.ok(a?.verb === 'update' && a.subresource === 'finalize');
    assert.deepEqual((a.object as Namespace).spec?.finalizers, []);
    assert.deepEqual((a.object as Namespace).status?.conditions?.find((c) => c.type === 'NamespaceContentRemaining')?.reason, 'ContentRemoved');
  });

  it('keeps condition transition times when nothing about them changed', () => {
    const first = reconcileNamespace({ namespace: ns(true), contents: [item('v1', 'Pod', 'p', { deletionTimestamp: 'x' })], now: T0 });
    const updated = first.actions.find((a) => a.verb === 'update');
    const again = reconcileNamespace({ namespace: updated?.verb === 'update' ? (updated.object as Namespace) : ns(true), contents: [item('v1', 'Pod', 'p', { deletionTimestamp: 'x' })], now: T0 + 60_000 });
    assert.deepEqual(again.actions, []);
  });
});
