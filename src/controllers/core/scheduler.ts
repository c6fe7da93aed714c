// The kube-scheduler role: choose a node for each pending pod, or explain why none fits.
// Filters run in upstream's default order and a node fails on the first filter that rejects it:
//   NodeUnschedulable -> NodeName -> TaintToleration -> NodeAffinity (nodeSelector + required affinity)
//   -> NodeResourcesFit (pod count only: status.allocatable.pods, default 110).
// Node conditions are seen as the taints the node lifecycle controller would add (Ready=False ->
// node.kubernetes.io/not-ready, Ready=Unknown -> node.kubernetes.io/unreachable), so a pod that
// tolerates them (as DaemonSet pods do) can still land there, as upstream.
// Score (higher wins): fewer untolerated PreferNoSchedule taints, then more preferred-affinity weight,
// then fewer pods (spread), then the node name (deterministic tie-break; upstream picks at random).
import type { Condition, Node, Pod, Taint, Toleration } from '../../api/types.ts';
import { type Action, type EventRecord, type ReconcileResult, clone, compareStrings, event, formatTime, parseTime, referenceTo } from './actions.ts';
import { isPodTerminal, isTerminating, podKey } from './pod-util.ts';
import { firstUntoleratedTaint, matchesNodeSelectorTerm, matchesNodeSelectorTerms, matchesSelectorMap, toleratesTaint } from './selectors.ts';

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';
export const DEFAULT_MAX_PODS = 110;

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

/** Upstream's filter failure reasons (the text after the count in FailedScheduling messages). */
export const REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
export const REASON_NODE_NAME = "node(s) didn't match the requested node name";
export const REASON_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
export const REASON_TOO_MANY_PODS = 'Too many pods';
export const untoleratedTaintReason = (taint: Taint): string => `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
export const NO_NODES_MESSAGE = 'no nodes available to schedule pods';

export interface SchedulerInput {
  /** Pods to consider. Pods already bound, terminating, terminal or for another scheduler are skipped. */
  pods: readonly Pod[];
  nodes: readonly Node[];
  /** Pods already bound to nodes (spec.nodeName set); terminal ones are not counted. */
  assignedPods: readonly Pod[];
  /** Milliseconds since the epoch; used for condition timestamps. */
  now: number;
  schedulerName?: string;
}

export type PodDecision =
  | { pod: string; outcome: 'bound'; nodeName: string }
  | { pod: string; outcome: 'unschedulable'; message: string; reasons: Record<string, number> };

export interface SchedulerResult extends ReconcileResult {
  decisions: PodDecision[];
}

function readyStatus(node: Node): Condition['status'] | undefined {
  return (node.status?.conditions ?? []).find((c) => c.type === 'Ready')?.status;
}

/** The node's taints plus the NoSchedule taints implied by its Ready condition (TaintNodesByCondition). */
export function effectiveTaints(node: Node): Taint[] {
  const taints = [...(node.spec?.taints ?? [])];
  const status = readyStatus(node);
  const implied = status === 'True' ? undefined : status === 'Unknown' ? TAINT_UNREACHABLE : TAINT_NOT_READY;
  if (implied !== undefined && !taints.some((t) => t.key === implied && t.effect === 'NoSchedule')) {
    taints.push({ key: implied, effect: 'NoSchedule' });
  }
  return taints;
}

/** Maximum pods on the node: status.allocatable.pods, else DEFAULT_MAX_PODS. */
export function maxPods(node: Node): number {
  const text = node.status?.allocatable?.['pods'];
  if (text !== undefined && /^[0-9]+$/.test(text)) return Number(text);
  return DEFAULT_MAX_PODS;
}

/** Required node affinity and nodeSelector (upstream's NodeAffinity filter). */
export function matchesNodeAffinity(pod: Pod, node: Node): boolean {
  if (!matchesSelectorMap(pod.spec?.nodeSelector, node.metadata.labels)) return false;
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required !== undefined && !matchesNodeSelectorTerms(required.nodeSelectorTerms ?? [], node)) return false;
  return true;
}

/** Runs the filters for one pod on one node; returns the failure reason or undefined when it fits. */
export function filterNode(pod: Pod, node: Node, podsOnNode: number): string | undefined {
  const tolerations: Toleration[] = pod.spec?.tolerations ?? [];
  if (node.spec?.unschedulable === true &&
    !tolerations.some((t) => toleratesTaint(t, { key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' }))) {
    return REASON_UNSCHEDULABLE;
  }
  const wanted = pod.spec?.nodeName;
  if (wanted !== undefined && wanted !== '' && wanted !== node.metadata.name) return REASON_NODE_NAME;
  const taint = firstUntoleratedTaint(effectiveTaints(node), tolerations, ['NoSchedule', 'NoExecute']);
  if (taint !== undefined) return untoleratedTaintReason(taint);
  if (!matchesNodeAffinity(pod, node)) return REASON_AFFINITY;
  if (podsOnNode + 1 > maxPods(node)) return REASON_TOO_MANY_PODS;
  return undefined;
}

/** Upstream's FitError text: "0/N nodes are available: <count reason>, ... ." with reasons sorted as strings. */
export function fitErrorMessage(totalNodes: number, reasons: Record<string, number>): string {
  const parts = Object.entries(reasons).map(([reason, count]) => `${count} ${reason}`);
  parts.sort(compareStrings);
  return `0/${totalNodes} nodes are available: ${parts.join(', ')}.`;
}

interface NodeScore {
  preferNoSchedule: number;
  affinityWeight: number;
  pods: number;
  name: string;
}

function scoreNode(pod: Pod, node: Node, pods: number): NodeScore {
  const tolerations = pod.spec?.tolerations ?? [];
  const preferNoSchedule = (node.spec?.taints ?? []).filter(
    (t) => t.effect === 'PreferNoSchedule' && !tolerations.some((tol) => toleratesTaint(tol, t))).length;
  let affinityWeight = 0;
  for (const pref of pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
    if (matchesNodeSelectorTerm(pref.preference, node)) affinityWeight += pref.weight;
  }
  return { preferNoSchedule, affinityWeight, pods, name: node.metadata.name ?? '' };
}

function better(a: NodeScore, b: NodeScore): boolean {
  if (a.preferNoSchedule !== b.preferNoSchedule) return a.preferNoSchedule < b.preferNoSchedule;
  if (a.affinityWeight !== b.affinityWeight) return a.affinityWeight > b.affinityWeight;
  if (a.pods !== b.pods) return a.pods < b.pods;
  return compareStrings(a.name, b.name) < 0;
}

/** Queue order: higher priority first, then older, then by namespace/name. */
function queueOrder(a: Pod, b: Pod): number {
  const pa = a.spec?.priority ?? 0;
  const pb = b.spec?.priority ?? 0;
  if (pa !== pb) return pb - pa;
  const ta = parseTime(a.metadata.creationTimestamp) ?? 0;
  const tb = parseTime(b.metadata.creationTimestamp) ?? 0;
  if (ta !== tb) return ta - tb;
  return compareStrings(podKey(a), podKey(b));
}

function needsScheduling(pod: Pod, schedulerName: string): boolean {
  if (pod.spec?.nodeName !== undefined && pod.spec.nodeName !== '') return false;
  if (isTerminating(pod) || isPodTerminal(pod)) return false;
  return (pod.spec?.schedulerName ?? DEFAULT_SCHEDULER_NAME) === schedulerName;
}

export function schedulePods(input: SchedulerInput): SchedulerResult {
  const schedulerName = input.schedulerName ?? DEFAULT_SCHEDULER_NAME;
  const source = schedulerName;
  const podCount = new Map<string, number>();
  for (const pod of input.assignedPods) {
    const nodeName = pod.spec?.nodeName;
    if (nodeName === undefined || nodeName === '' || isPodTerminal(pod)) continue;
    podCount.set(nodeName, (podCount.get(nodeName) ?? 0) + 1);
  }
  const nodes = [...input.nodes].sort((a, b) => compareStrings(a.metadata.name ?? '', b.metadata.name ?? ''));
  const pods = input.pods.filter((p) => needsScheduling(p, schedulerName)).sort(queueOrder);
  const actions: Action[] = [];
  const events: EventRecord[] = [];
  const decisions: PodDecision[] = [];

  for (const pod of pods) {
    const ref = referenceTo(pod, { apiVersion: 'v1', kind: 'Pod' });
    const reasons: Record<string, number> = {};
    let best: NodeScore | undefined;
    for (const node of nodes) {
      const name = node.metadata.name ?? '';
      const count = podCount.get(name) ?? 0;
      const reason = filterNode(pod, node, count);
      if (reason !== undefined) {
        reasons[reason] = (reasons[reason] ?? 0) + 1;
        continue;
      }
      const score = scoreNode(pod, node, count);
      if (best === undefined || better(score, best)) best = score;
    }
    if (best !== undefined) {
      podCount.set(best.name, (podCount.get(best.name) ?? 0) + 1);
      decisions.push({ pod: podKey(pod), outcome: 'bound', nodeName: best.name });
      const binding = {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: pod.metadata.name ?? '', namespace: pod.metadata.namespace ?? 'default', ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}) },
        target: { apiVersion: 'v1', kind: 'Node', name: best.name },
      };
      actions.push({
        verb: 'create',
        object: binding,
        subresource: 'binding',
        onSuccess: event(source, ref, 'Normal', 'Scheduled', `Successfully assigned ${podKey(pod)} to ${best.name}`),
      });
      continue;
    }
    const message = nodes.length === 0 ? NO_NODES_MESSAGE : fitErrorMessage(nodes.length, reasons);
    decisions.push({ pod: podKey(pod), outcome: 'unschedulable', message, reasons });
    events.push(event(source, ref, 'Warning', 'FailedScheduling', message));
    const existing = (pod.status?.conditions ?? []).find((c) => c.type === 'PodScheduled');
    if (existing?.status === 'False' && existing.reason === 'Unschedulable' && existing.message === message) continue;
    const updated = clone(pod);
    const condition: Condition = {
      type: 'PodScheduled',
      status: 'False',
      reason: 'Unschedulable',
      message,
      lastTransitionTime: existing?.status === 'False' && existing.lastTransitionTime ? existing.lastTransitionTime : formatTime(input.now),
    };
    const others = (updated.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    updated.status = { ...(updated.status ?? {}), phase: updated.status?.phase ?? 'Pending', conditions: [...others, condition] };
    actions.push({ verb: 'update', object: updated, subresource: 'status' });
  }
  return { actions, events, decisions };
}
