// Pod state helpers shared by the reconcilers (upstream's podutil and controller utils).
import type { Condition, OwnerReference, Pod, KubeObject } from '../../api/types.ts';
import { parseTime } from './actions.ts';

export function podCondition(pod: Pod, type: string): Condition | undefined {
  return (pod.status?.conditions ?? []).find((c) => c.type === type);
}

/** The Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return podCondition(pod, 'Ready')?.status === 'True';
}

export function isPodTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export function isTerminating(obj: KubeObject): boolean {
  return obj.metadata.deletionTimestamp !== undefined && obj.metadata.deletionTimestamp !== '';
}

/** Not terminal and not being deleted (upstream's controller.IsPodActive). */
export function isPodActive(pod: Pod): boolean {
  return !isPodTerminal(pod) && !isTerminating(pod);
}

/** Ready for at least minReadySeconds at `now` (ms). */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = parseTime(podCondition(pod, 'Ready')?.lastTransitionTime);
  return since !== undefined && since + minReadySeconds * 1000 <= now;
}

/**
 * Seconds until a ready pod becomes available, for requeueing; undefined when it already is or never
 * will be without a change.
 */
export function secondsUntilAvailable(pod: Pod, minReadySeconds: number, now: number): number | undefined {
  if (!isPodReady(pod) || minReadySeconds <= 0) return undefined;
  const since = parseTime(podCondition(pod, 'Ready')?.lastTransitionTime);
  if (since === undefined) return undefined;
  const remaining = since + minReadySeconds * 1000 - now;
  return remaining > 0 ? Math.ceil(remaining / 1000) : undefined;
}

export function podKey(pod: KubeObject): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
}

/** An ownerReference naming `owner` as the managing controller. */
export function controllerOwnerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return {
    apiVersion,
    kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function totalRestarts(pod: Pod): number {
  let sum = 0;
  for (const status of pod.status?.containerStatuses ?? []) sum += status.restartCount;
  return sum;
}
