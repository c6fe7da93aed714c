// The garbage collector over ownerReferences, as upstream's attemptToDelete / orphan / foreground logic:
//   * a dependent whose owners are all absent is deleted (Background, or per its own orphan/foreground
//     finalizer); the shell must confirm each absent owner with a live read first (verifyOwnersAbsent);
//   * a dependent with some owners present just loses its dangling references (a patch);
//   * foreground deletion: an owner with deletionTimestamp and the foregroundDeletion finalizer waits for
//     its blocking dependents (blockOwnerDeletion=true); they are deleted (Foreground if they have
//     dependents of their own), and the finalizer is removed once none is left;
//   * orphan policy: an owner with deletionTimestamp and the orphan finalizer has its references removed
//     from every dependent, then the finalizer is removed.
// Owners are found by uid. A reference from a namespaced dependent to a namespaced owner in another
// namespace, or from a cluster-scoped dependent to a namespaced owner, is invalid: the owner counts as
// absent and an OwnerRefInvalidNamespace warning is recorded, as upstream.
import type { KubeObject, OwnerReference } from '../../api/types.ts';
import { type Action, type EventRecord, type ObjectTarget, type ReconcileResult, event, jsonEqual, referenceTo } from './actions.ts';
import { isTerminating } from './pod-util.ts';

export const GC_SOURCE = 'garbage-collector-controller';
export const FINALIZER_FOREGROUND = 'foregroundDeletion';
export const FINALIZER_ORPHAN = 'orphan';

export interface GarbageCollectorInput {
  /** Every object the collector can see: owners and dependents, each with apiVersion, kind and uid. */
  objects: readonly KubeObject[];
}

const hasFinalizer = (obj: KubeObject, f: string): boolean => (obj.metadata.finalizers ?? []).includes(f);
const waitingForDependents = (obj: KubeObject): boolean => isTerminating(obj) && hasFinalizer(obj, FINALIZER_FOREGROUND);
const orphaning = (obj: KubeObject): boolean => isTerminating(obj) && hasFinalizer(obj, FINALIZER_ORPHAN);

function targetFor(obj: KubeObject): ObjectTarget {
  const t: ObjectTarget = { apiVersion: obj.apiVersion ?? '', kind: obj.kind ?? '', name: obj.metadata.name ?? '' };
  if (obj.metadata.namespace) t.namespace = obj.metadata.namespace;
  return t;
}

function refTarget(ref: OwnerReference, dependent: KubeObject): ObjectTarget {
  const t: ObjectTarget = { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name };
  if (dependent.metadata.namespace) t.namespace = dependent.metadata.namespace;
  return t;
}

function preconditions(obj: KubeObject): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  if (obj.metadata.uid !== undefined) m['uid'] = obj.metadata.uid;
  if (obj.metadata.resourceVersion !== undefined) m['resourceVersion'] = obj.metadata.resourceVersion;
  return m;
}

export function collectGarbage(input: GarbageCollectorInput): ReconcileResult {
  const byUid = new Map<string, KubeObject>();
  for (const obj of input.objects) if (obj.metadata.uid) byUid.set(obj.metadata.uid, obj);
  const dependentsOf = new Map<string, KubeObject[]>();
  for (const obj of input.objects) {
    for (const ref of obj.metadata.ownerReferences ?? []) dependentsOf.set(ref.uid, [...(dependentsOf.get(ref.uid) ?? []), obj]);
  }
  const actions: Action[] = [];
  const events: EventRecord[] = [];
  const ordered = [...input.objects].sort((a, b) => ((a.metadata.uid ?? '') < (b.metadata.uid ?? '') ? -1 : 1));

  for (const obj of ordered) {
    const refs = obj.metadata.ownerReferences ?? [];
    if (refs.length === 0) continue;
    const ref0 = referenceTo(obj, { apiVersion: '', kind: '' });
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    let orphanedRefs = 0;
    for (const ref of refs) {
      const owner = byUid.get(ref.uid);
      if (owner !== undefined && owner.metadata.namespace !== undefined && owner.metadata.namespace !== obj.metadata.namespace) {
        events.push(event(GC_SOURCE, ref0, 'Warning', 'OwnerRefInvalidNamespace',
          `ownerRef [${ref.apiVersion}/${ref.kind}, namespace: ${obj.metadata.namespace ?? ''}, name: ${ref.name}, uid: ${ref.uid}] does not exist in namespace "${obj.metadata.namespace ?? ''}"`));
        dangling.push(ref);
      } else if (owner === undefined) dangling.push(ref);
      else if (orphaning(owner)) orphanedRefs++;
      else if (waitingForDependents(owner)) waiting.push(ref);
      else solid.push(ref);
    }
    if (isTerminating(obj) && !waitingForDependents(obj)) continue;
    const unblocked = waiting.map((r) => ({ ...r, blockOwnerDeletion: false }));
    const patchRefs = (keep: OwnerReference[]): void => {
      if (jsonEqual(keep, refs)) return;
      actions.push({ verb: 'patch', target: targetFor(obj), patch: { metadata: { ...preconditions(obj), ownerReferences: keep } } });
    };
    const policy = hasFinalizer(obj, FINALIZER_ORPHAN) ? 'Orphan' : hasFinalizer(obj, FINALIZER_FOREGROUND) ? 'Foreground' : 'Background';
    const del = (propagationPolicy: 'Background' | 'Foreground' | 'Orphan'): void => {
      if (isTerminating(obj)) return;
      actions.push({
        verb: 'delete', target: targetFor(obj), propagationPolicy, ...(obj.metadata.uid ? { uid: obj.metadata.uid } : {}),
        ...(dangling.length > 0 ? { verifyOwnersAbsent: dangling.map((r) => refTarget(r, obj)) } : {}),
      });
    };
    if (solid.length > 0) {
      const keepUids = new Set(solid.map((r) => r.uid));
      const waitingUids = new Set(waiting.map((r) => r.uid));
      patchRefs(refs.filter((r) => keepUids.has(r.uid) || waitingUids.has(r.uid)).map((r) => (waitingUids.has(r.uid) ? { ...r, blockOwnerDeletion: false } : r)));
    } else if (waiting.length > 0) {
      const hasOwnDependents = (dependentsOf.get(obj.metadata.uid ?? '') ?? []).length > 0;
      if (hasOwnDependents) {
        patchRefs(unblocked);
        del('Foreground');
      } else del(policy);
    } else if (dangling.length > 0) {
      del(policy);
    } else if (orphanedRefs > 0) {
      patchRefs([]);
    }
  }

  // Owners being deleted: release orphans, finish foreground deletion.
  for (const owner of ordered) {
    if (!isTerminating(owner)) continue;
    const dependents = dependentsOf.get(owner.metadata.uid ?? '') ?? [];
    const finalizers = owner.metadata.finalizers ?? [];
    let remove: string | undefined;
    if (hasFinalizer(owner, FINALIZER_ORPHAN)) remove = FINALIZER_ORPHAN;
    else if (hasFinalizer(owner, FINALIZER_FOREGROUND)) {
      const blocking = dependents.filter((d) => (d.metadata.ownerReferences ?? []).some((r) => r.uid === owner.metadata.uid && r.blockOwnerDeletion === true));
      if (blocking.length === 0) remove = FINALIZER_FOREGROUND;
    }
    if (remove === undefined) continue;
    actions.push({
      verb: 'patch', target: targetFor(owner),
      patch: { metadata: { ...preconditions(owner), finalizers: finalizers.filter((f) => f !== remove) } },
    });
  }
  return { actions, events };
}
