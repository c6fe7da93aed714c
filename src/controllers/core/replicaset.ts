// The ReplicaSet controller: claim pods (adopt matching orphans, release owned pods that stopped
// matching), create or delete pods to reach spec.replicas, and report status. Terminating and terminal
// pods are not counted, as upstream. Deletion order follows upstream's ActivePodsWithRanks (with
// LogarithmicScaleDown): unassigned < assigned; Pending < Unknown < Running; not ready < ready; lower
// pod-deletion-cost; more pods of the same owner on the node; ready for less time; more restarts;
// newer; then by UID (deterministic).
//
// The shell must hold "expectations" as upstream does: after applying creates/deletes it waits until
// its informer has observed them before calling this again, or it would create twice.
import type { Pod, ReplicaSet, ReplicaSetStatus } from '../../api/types.ts';
import {
  type Action, type EventRecord, type ReconcileResult, clone, compareStrings, event, jsonEqual, parseTime, referenceTo, targetOf,
} from './actions.ts';
import { claimObjects } from './claim.ts';
import {
  controllerOwnerRef, isPodActive, isPodAvailable, isPodReady, isTerminating, podCondition, secondsUntilAvailable,
} from './pod-util.ts';
import { labelSelectorMatcher, matchesSelectorMap } from './selectors.ts';

export const REPLICASET_SOURCE = 'replicaset-controller';
export const DEFAULT_BURST_REPLICAS = 500;
export const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

export interface ReplicaSetInput {
  replicaSet: ReplicaSet;
  /** Pods in the ReplicaSet's namespace (owned, orphaned and others; the reconciler claims). */
  pods: readonly Pod[];
  now: number;
  /** Pods of sibling ReplicaSets (same Deployment), used to rank pods on crowded nodes first. */
  relatedPods?: readonly Pod[];
  /** Most pods created or deleted in one pass (upstream's burstReplicas, 500). */
  burstReplicas?: number;
}

export interface ReplicaSetResult extends ReconcileResult {
  /** The status this pass computed (also written through an update action when it changed). */
  status: ReplicaSetStatus;
  /** Active pods the ReplicaSet controls after this pass (before its creates/deletes land). */
  activePods: Pod[];
}

const PHASE_ORDINAL: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function deletionCost(pod: Pod): number {
  const text = pod.metadata.annotations?.[POD_DELETION_COST];
  if (text === undefined || !/^-?[0-9]+$/.test(text)) return 0;
  return Number(text);
}

function readyTime(pod: Pod): number | undefined {
  if (!isPodReady(pod)) return undefined;
  return parseTime(podCondition(pod, 'Ready')?.lastTransitionTime);
}

function maxRestarts(pod: Pod): number {
  let max = 0;
  for (const s of pod.status?.containerStatuses ?? []) max = Math.max(max, s.restartCount);
  return max;
}

/** floor(log2(age in ns)) of t1 minus that of t2 (upstream's logarithmicRankDiff). */
function logRankDiff(t1: number, t2: number, now: number): number {
  const rank = (t: number): number => {
    const d = (now - t) * 1e6;
    return d > 0 ? Math.floor(Math.log2(d)) : -1;
  };
  return rank(t1) - rank(t2);
}

/** -1 when `a` should be deleted before `b`. */
function compareForDeletion(a: Pod, b: Pod, rankA: number, rankB: number, now: number): number {
  const na = a.spec?.nodeName ?? '';
  const nb = b.spec?.nodeName ?? '';
  if (na !== nb && (na === '' || nb === '')) return na === '' ? -1 : 1;
  const pa = PHASE_ORDINAL[a.status?.phase ?? ''] ?? 0;
  const pb = PHASE_ORDINAL[b.status?.phase ?? ''] ?? 0;
  if (pa !== pb) return pa < pb ? -1 : 1;
  const ra = isPodReady(a);
  const rb = isPodReady(b);
  if (ra !== rb) return ra ? 1 : -1;
  const ca = deletionCost(a);
  const cb = deletionCost(b);
  if (ca !== cb) return ca < cb ? -1 : 1;
  if (rankA !== rankB) return rankA > rankB ? -1 : 1;
  const tieBreak = (): number => compareStrings(a.metadata.uid ?? '', b.metadata.uid ?? '') || compareStrings(a.metadata.name ?? '', b.metadata.name ?? '');
  if (ra && rb) {
    const ta = readyTime(a);
    const tb = readyTime(b);
    if (ta !== tb) {
      if (ta === undefined || tb === undefined) return ta === undefined ? -1 : 1;
      const diff = logRankDiff(ta, tb, now);
      return diff === 0 ? tieBreak() : diff < 0 ? -1 : 1;
    }
  }
  const xa = maxRestarts(a);
  const xb = maxRestarts(b);
  if (xa !== xb) return xa > xb ? -1 : 1;
  const ta = parseTime(a.metadata.creationTimestamp);
  const tb = parseTime(b.metadata.creationTimestamp);
  if (ta !== tb) {
    if (ta === undefined || tb === undefined) return ta === undefined ? -1 : 1;
    const diff = logRankDiff(ta, tb, now);
    return diff === 0 ? tieBreak() : diff < 0 ? -1 : 1;
  }
  return tieBreak();
}

/** Pods in the order they should be deleted (first = delete first). */
export function rankPodsForDeletion(pods: readonly Pod[], relatedPods: readonly Pod[], now: number): Pod[] {
  const onNode = new Map<string, number>();
  for (const pod of relatedPods) {
    if (!isPodActive(pod)) continue;
    const node = pod.spec?.nodeName ?? '';
    onNode.set(node, (onNode.get(node) ?? 0) + 1);
  }
  const ranked = pods.map((pod) => ({ pod, rank: onNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
  ranked.sort((x, y) => compareForDeletion(x.pod, y.pod, x.rank, y.rank, now));
  return ranked.map((x) => x.pod);
}

/** A pod created from the ReplicaSet's template (upstream's GetPodFromTemplate). */
export function podFromTemplate(rs: ReplicaSet): Pod {
  const template = rs.spec?.template ?? {};
  const metadata: Pod['metadata'] = {
    generateName: `${rs.metadata.name ?? ''}-`,
    namespace: rs.metadata.namespace ?? 'default',
    ownerReferences: [controllerOwnerRef(rs, 'apps/v1', 'ReplicaSet')],
  };
  if (template.metadata?.labels) metadata.labels = clone(template.metadata.labels);
  if (template.metadata?.annotations) metadata.annotations = clone(template.metadata.annotations);
  if (template.metadata?.finalizers) metadata.finalizers = clone(template.metadata.finalizers);
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: clone(template.spec ?? { containers: [] }) };
}

export function replicaSetStatus(rs: ReplicaSet, activePods: readonly Pod[], now: number): ReplicaSetStatus {
  const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
  const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
  const status: ReplicaSetStatus = {
    replicas: activePods.length,
    fullyLabeledReplicas: activePods.filter((p) => matchesSelectorMap(templateLabels, p.metadata.labels)).length,
    readyReplicas: activePods.filter(isPodReady).length,
    availableReplicas: activePods.filter((p) => isPodAvailable(p, minReadySeconds, now)).length,
  };
  if (rs.metadata.generation !== undefined) status.observedGeneration = rs.metadata.generation;
  if (rs.status?.conditions && rs.status.conditions.length > 0) status.conditions = rs.status.conditions;
  return status;
}

export function reconcileReplicaSet(input: ReplicaSetInput): ReplicaSetResult {
  const rs = input.replicaSet;
  const rsTarget = { apiVersion: 'apps/v1', kind: 'ReplicaSet' };
  const podKind = { apiVersion: 'v1', kind: 'Pod' };
  const ref = referenceTo(rs, rsTarget);
  const actions: Action[] = [];
  const events: EventRecord[] = [];

  const selects = labelSelectorMatcher(rs.spec?.selector);
  const claim = claimObjects(rs, controllerOwnerRef(rs, 'apps/v1', 'ReplicaSet'),
    (pod: Pod) => selects(pod.metadata.labels),
    input.pods, (pod) => targetOf(pod, podKind));
  actions.push(...claim.actions);
  const activePods = claim.claimed.filter(isPodActive);

  if (!isTerminating(rs)) {
    const desired = Math.max(0, rs.spec?.replicas ?? 1);
    const burst = input.burstReplicas ?? DEFAULT_BURST_REPLICAS;
    const diff = activePods.length - desired;
    if (diff < 0) {
      const count = Math.min(-diff, burst);
      for (let i = 0; i < count; i++) {
        actions.push({
          verb: 'create',
          object: podFromTemplate(rs),
          onSuccess: { ...event(REPLICASET_SOURCE, ref, 'Normal', 'SuccessfulCreate', 'Created pod: '), append: 'name' },
          onFailure: { ...event(REPLICASET_SOURCE, ref, 'Warning', 'FailedCreate', 'Error creating: '), append: 'error' },
        });
      }
    } else if (diff > 0) {
      const count = Math.min(diff, burst);
      const ranked = rankPodsForDeletion(activePods, input.relatedPods ?? activePods, input.now);
      for (const pod of ranked.slice(0, count)) {
        actions.push({
          verb: 'delete',
          target: targetOf(pod, podKind),
          ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}),
          onSuccess: event(REPLICASET_SOURCE, ref, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name ?? ''}`),
          onFailure: { ...event(REPLICASET_SOURCE, ref, 'Warning', 'FailedDelete', 'Error deleting: '), append: 'error' },
        });
      }
    }
  }

  const status = replicaSetStatus(rs, activePods, input.now);
  if (!jsonEqual(status, rs.status ?? {})) {
    const updated = clone(rs);
    updated.status = status;
    actions.push({ verb: 'update', object: updated, subresource: 'status' });
  }
  const result: ReplicaSetResult = { actions, events, status, activePods };
  let wait: number | undefined;
  for (const pod of activePods) {
    const s = secondsUntilAvailable(pod, rs.spec?.minReadySeconds ?? 0, input.now);
    if (s !== undefined) wait = wait === undefined ? s : Math.min(wait, s);
  }
  if (wait !== undefined) result.requeueAfterSeconds = wait;
  return result;
}
