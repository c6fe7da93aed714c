// Namespace deletion (the namespace controller). While a Namespace has a deletionTimestamp: delete
// everything in it, report progress with upstream's NamespaceDeletion*/NamespaceContentRemaining/
// NamespaceFinalizersRemaining conditions, and once nothing is left remove the `kubernetes` finalizer
// from spec.finalizers (PUT namespaces/{name}/finalize); the API server then removes the Namespace.
import type { Condition, KubeObject, Namespace } from '../../api/types.ts';
import { RESOURCES } from '../../api/resources.ts';
import { type Action, type ReconcileResult, clone, compareStrings, formatTime, jsonEqual, targetOf } from './actions.ts';
import { isTerminating } from './pod-util.ts';

export const NAMESPACE_SOURCE = 'namespace-controller';
export const KUBERNETES_FINALIZER = 'kubernetes';

export interface NamespaceInput {
  namespace: Namespace;
  /** Every object in the namespace, each with apiVersion and kind. */
  contents: readonly KubeObject[];
  now: number;
  /** The `resource.group` text for messages (default: from the resource registry). */
  resourceName?: (obj: KubeObject) => string;
}

export interface NamespaceResult extends ReconcileResult {
  /** True when this pass removes the `kubernetes` finalizer. */
  finalizing: boolean;
  /** Objects expected to still be present after this pass's deletes (finalizers, graceful deletion). */
  remaining: number;
}

function defaultResourceName(obj: KubeObject): string {
  const apiVersion = obj.apiVersion ?? 'v1';
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  const info = RESOURCES.find((r) => r.kind === obj.kind && r.group === group);
  const plural = info?.plural ?? `${(obj.kind ?? '').toLowerCase()}s`;
  return `${plural}.${group}`;
}

/** Objects that do not vanish at once when deleted: ones with finalizers, pods (graceful), ones already terminating. */
function lingers(obj: KubeObject): boolean {
  return isTerminating(obj) || (obj.metadata.finalizers ?? []).length > 0 || (obj.kind === 'Pod' && obj.metadata.deletionGracePeriodSeconds !== 0);
}

function setCondition(list: Condition[], next: Condition): Condition[] {
  const current = list.find((c) => c.type === next.type);
  if (current && current.status === next.status && current.reason === next.reason && current.message === next.message) return list;
  const cond = { ...next };
  if (current && current.status === next.status && current.lastTransitionTime) cond.lastTransitionTime = current.lastTransitionTime;
  return [...list.filter((c) => c.type !== next.type), cond];
}

export function reconcileNamespace(input: NamespaceInput): NamespaceResult {
  const ns = input.namespace;
  if (!isTerminating(ns)) return { actions: [], events: [], finalizing: false, remaining: input.contents.length };
  const resourceName = input.resourceName ?? defaultResourceName;
  const actions: Action[] = [];
  const contents = [...input.contents].sort((a, b) =>
    compareStrings(`${a.kind}/${a.metadata.name ?? ''}`, `${b.kind}/${b.metadata.name ?? ''}`));
  for (const obj of contents) {
    if (isTerminating(obj)) continue;
    actions.push({ verb: 'delete', target: targetOf(obj, { apiVersion: 'v1', kind: '' }), propagationPolicy: 'Background', ...(obj.metadata.uid ? { uid: obj.metadata.uid } : {}) });
  }
  const lingering = contents.filter(lingers);
  const byResource = new Map<string, number>();
  const byFinalizer = new Map<string, number>();
  for (const obj of lingering) {
    const name = resourceName(obj);
    byResource.set(name, (byResource.get(name) ?? 0) + 1);
    for (const f of obj.metadata.finalizers ?? []) byFinalizer.set(f, (byFinalizer.get(f) ?? 0) + 1);
  }
  const t = formatTime(input.now);
  let conditions: Condition[] = clone(ns.status?.conditions ?? []);
  const set = (type: string, status: Condition['status'], reason: string, message: string): void => {
    conditions = setCondition(conditions, { type, status, lastTransitionTime: t, reason, message });
  };
  set('NamespaceDeletionDiscoveryFailure', 'False', 'ResourcesDiscovered', 'All resources successfully discovered');
  set('NamespaceDeletionGroupVersionParsingFailure', 'False', 'ParsedGroupVersions', 'All legacy kube types successfully parsed');
  set('NamespaceDeletionContentFailure', 'False', 'ContentDeleted', 'All content successfully deleted, may be waiting on finalization');
  if (byResource.size > 0) {
    const parts = [...byResource].map(([r, n]) => `${r} has ${n} resource instances`).sort(compareStrings);
    set('NamespaceContentRemaining', 'True', 'SomeResourcesRemain', `Some resources are remaining: ${parts.join(', ')}`);
  } else set('NamespaceContentRemaining', 'False', 'ContentRemoved', 'All content successfully removed');
  if (byFinalizer.size > 0) {
    const parts = [...byFinalizer].map(([f, n]) => `${f} in ${n} resource instances`).sort(compareStrings);
    set('NamespaceFinalizersRemaining', 'True', 'SomeFinalizersRemain', `Some content in the namespace has finalizers remaining: ${parts.join(', ')}`);
  } else set('NamespaceFinalizersRemaining', 'False', 'ContentHasNoFinalizers', 'All content-preserving finalizers finished');

  const status = { ...(ns.status ?? {}), phase: 'Terminating' as const, conditions };
  const finalizers = ns.spec?.finalizers ?? [];
  const finalizing = input.contents.length === 0 && finalizers.includes(KUBERNETES_FINALIZER);
  // When finalizing, the finalize call is the only write (a status write first would bump resourceVersion).
  if (!finalizing && !jsonEqual(status, ns.status ?? {})) {
    const updated = clone(ns);
    updated.status = status;
    actions.push({ verb: 'update', object: updated, subresource: 'status' });
  }
  if (finalizing) {
    const updated = clone(ns);
    updated.status = status;
    updated.spec = { ...(updated.spec ?? {}), finalizers: finalizers.filter((f) => f !== KUBERNETES_FINALIZER) };
    actions.push({ verb: 'update', object: updated, subresource: 'finalize' });
  }
  const result: NamespaceResult = { actions, events: [], finalizing, remaining: lingering.length };
  if (input.contents.length > 0) result.requeueAfterSeconds = lingering.length > 0 ? 5 : 1;
  return result;
}
