// Adoption and release of controlled objects (upstream's ControllerRefManager.ClaimObject): an owner
// claims objects that match its selector and have no controller, and releases objects it controls that
// no longer match. Objects controlled by someone else are left alone.
import type { KubeObject, OwnerReference } from '../../api/types.ts';
import type { Action, ObjectTarget } from './actions.ts';
import { isTerminating } from './pod-util.ts';
import { controllerRefOf } from './selectors.ts';

export interface ClaimResult<T extends KubeObject> {
  /** Objects the owner controls after this pass (including ones being adopted). */
  claimed: T[];
  /** Patches adopting orphans and releasing non-matching objects. */
  actions: Action[];
}

function patchOwnerReferences(obj: KubeObject, target: ObjectTarget, refs: OwnerReference[]): Action {
  const metadata: Record<string, unknown> = { ownerReferences: refs };
  // Preconditions carried in the patch: the same incarnation, unchanged since we looked.
  if (obj.metadata.uid !== undefined) metadata['uid'] = obj.metadata.uid;
  if (obj.metadata.resourceVersion !== undefined) metadata['resourceVersion'] = obj.metadata.resourceVersion;
  return { verb: 'patch', target, patch: { metadata } };
}

export function claimObjects<T extends KubeObject>(
  owner: KubeObject,
  ownerRef: OwnerReference,
  matches: (obj: T) => boolean,
  candidates: readonly T[],
  targetOf: (obj: T) => ObjectTarget,
): ClaimResult<T> {
  const claimed: T[] = [];
  const actions: Action[] = [];
  const ownerDeleting = isTerminating(owner);
  for (const obj of candidates) {
    if (obj.metadata.namespace !== owner.metadata.namespace) continue;
    const ref = controllerRefOf(obj);
    if (ref !== undefined) {
      if (ref.uid !== ownerRef.uid) continue;
      if (matches(obj)) {
        claimed.push(obj);
      } else if (!ownerDeleting && !isTerminating(obj)) {
        const rest = (obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerRef.uid);
        actions.push(patchOwnerReferences(obj, targetOf(obj), rest));
      }
      continue;
    }
    if (ownerDeleting || isTerminating(obj) || !matches(obj)) continue;
    actions.push(patchOwnerReferences(obj, targetOf(obj), [...(obj.metadata.ownerReferences ?? []), ownerRef]));
    claimed.push(obj);
  }
  return { claimed, actions };
}
