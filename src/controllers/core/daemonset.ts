// The DaemonSet controller: one pod per eligible node. A node is eligible when it passes the
// DaemonSet pod's nodeSelector, required node affinity and the node's NoSchedule/NoExecute taints
// given the pod's tolerations plus the ones upstream always adds to daemon pods. Pods are pinned with
// a required node affinity on metadata.name (the scheduler then binds them), carry the
// controller-revision-hash and pod-template-generation labels, and are rolled with the RollingUpdate
// strategy (maxUnavailable; surge is not implemented) or left alone with OnDelete.
import type { Affinity, DaemonSet, DaemonSetStatus, Node, Pod, PodSpec, Toleration } from '../../api/types.ts';
import {
  type Action, type EventRecord, type ReconcileResult, clone, compareStrings, event, jsonEqual, parseTime, referenceTo, targetOf,
} from './actions.ts';
import { claimObjects } from './claim.ts';
import { scaledValue } from './deployment.ts';
import { computeTemplateHash } from './hash.ts';
import { controllerOwnerRef, isPodAvailable, isPodReady, isTerminating, secondsUntilAvailable } from './pod-util.ts';
import { firstUntoleratedTaint, labelSelectorMatcher } from './selectors.ts';
import { matchesNodeAffinity } from './scheduler.ts';

export const DAEMONSET_SOURCE = 'daemonset-controller';
export const CONTROLLER_REVISION_HASH = 'controller-revision-hash';
export const POD_TEMPLATE_GENERATION = 'pod-template-generation';

export interface DaemonSetInput {
  daemonSet: DaemonSet;
  nodes: readonly Node[];
  /** Pods in the DaemonSet's namespace. */
  pods: readonly Pod[];
  now: number;
}

export interface DaemonSetResult extends ReconcileResult {
  status: DaemonSetStatus;
}

/** The tolerations upstream adds to every daemon pod (AddOrUpdateDaemonPodTolerations). */
export function daemonPodTolerations(spec: PodSpec): Toleration[] {
  const add: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (spec.hostNetwork === true) add.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  const result = [...(spec.tolerations ?? [])];
  for (const t of add) {
    const i = result.findIndex((r) => r.key === t.key && r.effect === t.effect);
    if (i >= 0) result[i] = t;
    else result.push(t);
  }
  return result;
}

/** Required node affinity replaced by a single term pinning metadata.name (upstream's helper). */
export function pinToNode(affinity: Affinity | undefined, nodeName: string): Affinity {
  const required = { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In' as const, values: [nodeName] }] }] };
  const result: Affinity = clone(affinity ?? {});
  result.nodeAffinity = { ...(result.nodeAffinity ?? {}), requiredDuringSchedulingIgnoredDuringExecution: required };
  return result;
}

/** The node a daemon pod is for: spec.nodeName, else its pinned metadata.name affinity. */
export function targetNodeName(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  for (const term of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of term.matchFields ?? []) {
      if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
    }
  }
  return undefined;
}

export function templateHashOf(ds: DaemonSet): string {
  return computeTemplateHash(ds.spec?.template);
}

/** A daemon pod for `node` (not yet created). */
export function newDaemonPod(ds: DaemonSet, nodeName: string): Pod {
  const template = ds.spec?.template ?? {};
  const spec: PodSpec = clone(template.spec ?? { containers: [] });
  spec.tolerations = daemonPodTolerations(spec);
  spec.affinity = pinToNode(spec.affinity, nodeName);
  const labels: Record<string, string> = { ...(template.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH]: templateHashOf(ds) };
  if (ds.metadata.generation !== undefined) labels[POD_TEMPLATE_GENERATION] = String(ds.metadata.generation);
  const metadata: Pod['metadata'] = {
    generateName: `${ds.metadata.name ?? ''}-`,
    namespace: ds.metadata.namespace ?? 'default',
    labels,
    ownerReferences: [controllerOwnerRef(ds, 'apps/v1', 'DaemonSet')],
  };
  if (template.metadata?.annotations) metadata.annotations = clone(template.metadata.annotations);
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}

/** Whether the DaemonSet should run a pod on the node (nodeSelector, affinity, taints). */
export function nodeShouldRunDaemonPod(ds: DaemonSet, node: Node): boolean {
  const pod = newDaemonPod(ds, node.metadata.name ?? '');
  // The pinning affinity always matches this node; check the template's own affinity and selector.
  const templatePod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: {}, spec: { ...(ds.spec?.template.spec ?? { containers: [] }) } };
  if (!matchesNodeAffinity(templatePod, node)) return false;
  return firstUntoleratedTaint(node.spec?.taints ?? [], pod.spec?.tolerations ?? [], ['NoSchedule', 'NoExecute']) === undefined;
}

function oldestFirst(a: Pod, b: Pod): number {
  const ra = a.status?.phase === 'Running' ? 0 : 1;
  const rb = b.status?.phase === 'Running' ? 0 : 1;
  if (ra !== rb) return ra - rb;
  const ta = parseTime(a.metadata.creationTimestamp) ?? 0;
  const tb = parseTime(b.metadata.creationTimestamp) ?? 0;
  return ta !== tb ? ta - tb : compareStrings(a.metadata.name ?? '', b.metadata.name ?? '');
}

export function reconcileDaemonSet(input: DaemonSetInput): DaemonSetResult {
  const ds = input.daemonSet;
  const ref = referenceTo(ds, { apiVersion: 'apps/v1', kind: 'DaemonSet' });
  const podKind = { apiVersion: 'v1', kind: 'Pod' };
  const actions: Action[] = [];
  const events: EventRecord[] = [];
  const hash = templateHashOf(ds);
  const minReady = ds.spec?.minReadySeconds ?? 0;

  const selects = labelSelectorMatcher(ds.spec?.selector);
  const claim = claimObjects(ds, controllerOwnerRef(ds, 'apps/v1', 'DaemonSet'),
    (pod: Pod) => selects(pod.metadata.labels), input.pods, (p) => targetOf(p, podKind));
  actions.push(...claim.actions);

  const byNode = new Map<string, Pod[]>();
  const orphans: Pod[] = [];
  const nodeNames = new Set(input.nodes.map((n) => n.metadata.name ?? ''));
  for (const pod of claim.claimed) {
    if (isTerminating(pod)) continue;
    const nodeName = targetNodeName(pod);
    if (nodeName === undefined || !nodeNames.has(nodeName)) {
      orphans.push(pod);
      continue;
    }
    byNode.set(nodeName, [...(byNode.get(nodeName) ?? []), pod]);
  }

  const creates: string[] = [];
  const deletes: Pod[] = [...orphans];
  const status: DaemonSetStatus = { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0, numberAvailable: 0, updatedNumberScheduled: 0 };
  const nodes = [...input.nodes].sort((a, b) => compareStrings(a.metadata.name ?? '', b.metadata.name ?? ''));
  // Rolling update bookkeeping: per eligible node, its surviving daemon pod.
  const running: { node: string; pod: Pod }[] = [];
  let unavailableNodes = 0;
  for (const node of nodes) {
    const name = node.metadata.name ?? '';
    const pods = [...(byNode.get(name) ?? [])].sort(oldestFirst);
    const shouldRun = nodeShouldRunDaemonPod(ds, node);
    if (!shouldRun) {
      if (pods.length > 0) status.numberMisscheduled++;
      deletes.push(...pods);
      continue;
    }
    status.desiredNumberScheduled++;
    if (pods.length > 0) {
      status.currentNumberScheduled++;
      const first = pods[0]!;
      if (isPodReady(first)) {
        status.numberReady++;
        if (isPodAvailable(first, minReady, input.now)) status.numberAvailable = (status.numberAvailable ?? 0) + 1;
      }
      if (first.metadata.labels?.[CONTROLLER_REVISION_HASH] === hash) status.updatedNumberScheduled = (status.updatedNumberScheduled ?? 0) + 1;
    }
    const failed = pods.filter((p) => p.status?.phase === 'Failed');
    const alive = pods.filter((p) => p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded');
    deletes.push(...failed);
    if (alive.length === 0) {
      creates.push(name);
      unavailableNodes++;
      continue;
    }
    deletes.push(...alive.slice(1));
    const keep = alive[0]!;
    running.push({ node: name, pod: keep });
    if (!isPodAvailable(keep, minReady, input.now)) unavailableNodes++;
  }
  status.numberUnavailable = status.desiredNumberScheduled - (status.numberAvailable ?? 0);
  if (ds.metadata.generation !== undefined) status.observedGeneration = ds.metadata.generation;
  if (ds.status?.collisionCount !== undefined) status.collisionCount = ds.status.collisionCount;

  if (!isTerminating(ds)) {
    for (const nodeName of creates) {
      actions.push({
        verb: 'create',
        object: newDaemonPod(ds, nodeName),
        onSuccess: { ...event(DAEMONSET_SOURCE, ref, 'Normal', 'SuccessfulCreate', 'Created pod: '), append: 'name' },
        onFailure: { ...event(DAEMONSET_SOURCE, ref, 'Warning', 'FailedCreate', 'Error creating: '), append: 'error' },
      });
    }
    // RollingUpdate: old pods that are unavailable go at once; available old pods within the budget.
    if ((ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
      let maxUnavailable = scaledValue(ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1, status.desiredNumberScheduled, true);
      if (maxUnavailable === 0) maxUnavailable = 1;
      let budget = maxUnavailable - unavailableNodes;
      const old = running.filter((r) => r.pod.metadata.labels?.[CONTROLLER_REVISION_HASH] !== hash);
      for (const r of old) if (!isPodAvailable(r.pod, minReady, input.now)) deletes.push(r.pod);
      for (const r of old) {
        if (budget <= 0) break;
        if (!isPodAvailable(r.pod, minReady, input.now)) continue;
        deletes.push(r.pod);
        budget--;
      }
    }
    const seen = new Set<string>();
    for (const pod of deletes) {
      const key = pod.metadata.uid ?? pod.metadata.name ?? '';
      if (seen.has(key)) continue;
      seen.add(key);
      actions.push({
        verb: 'delete',
        target: targetOf(pod, podKind),
        ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}),
        onSuccess: event(DAEMONSET_SOURCE, ref, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name ?? ''}`),
        onFailure: { ...event(DAEMONSET_SOURCE, ref, 'Warning', 'FailedDelete', 'Error deleting: '), append: 'error' },
      });
    }
  }

  if (!jsonEqual(status, ds.status ?? {})) {
    const updated = clone(ds);
    updated.status = status;
    actions.push({ verb: 'update', object: updated, subresource: 'status' });
  }
  const result: DaemonSetResult = { actions, events, status };
  let wait: number | undefined;
  for (const r of running) {
    const s = secondsUntilAvailable(r.pod, minReady, input.now);
    if (s !== undefined) wait = wait === undefined ? s : Math.min(wait, s);
  }
  if (wait !== undefined) result.requeueAfterSeconds = wait;
  return result;
}
