// The Deployment controller: Deployment -> ReplicaSets, following upstream's sync loop.
//   * claims ReplicaSets (adopt/release), finds the "new" one (template equal ignoring the
//     pod-template-hash label) or creates it as <deployment>-<hash> with the hash in its selector,
//     template labels and labels;
//   * RollingUpdate: one step per pass, like upstream: scale the new RS up within maxSurge; if nothing
//     scaled up, scale old RSs down within maxUnavailable (unhealthy replicas first);
//   * Recreate: scale old RSs to 0, wait until their pods are gone, then create/scale the new RS;
//   * scaling events (spec.replicas changed while not rolling) and paused Deployments: proportional
//     scaling across active RSs using the desired-replicas/max-replicas annotations;
//   * deletes old RSs beyond revisionHistoryLimit (only fully scaled-down ones);
//   * status (replicas, updatedReplicas, readyReplicas, availableReplicas, unavailableReplicas,
//     observedGeneration, Available and Progressing conditions) exactly as `kubectl rollout status`
//     reads it; revision annotations on RSs and the Deployment; ScalingReplicaSet events.
import type { Condition, Deployment, DeploymentStatus, IntOrString, Pod, ReplicaSet } from '../../api/types.ts';
import {
  type Action, type ActionEvent, type EventRecord, type ReconcileResult, clone, compareStrings, event, formatTime, jsonEqual,
  parseTime, referenceTo, targetOf,
} from './actions.ts';
import { claimObjects } from './claim.ts';
import { computeTemplateHash } from './hash.ts';
import { controllerOwnerRef, isTerminating } from './pod-util.ts';
import { controllerRefOf, labelSelectorMatcher } from './selectors.ts';

export const DEPLOYMENT_SOURCE = 'deployment-controller';
export const POD_TEMPLATE_HASH = 'pod-template-hash';
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
const SKIP_COPY_ANNOTATIONS = new Set([
  'kubectl.kubernetes.io/last-applied-configuration', REVISION_ANNOTATION, 'deployment.kubernetes.io/revision-history',
  DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, 'deprecated.deployment.rollback.to',
]);

export const REASON_NEW_RS_AVAILABLE = 'NewReplicaSetAvailable';
export const REASON_RS_UPDATED = 'ReplicaSetUpdated';
export const REASON_NEW_RS_CREATED = 'NewReplicaSetCreated';
export const REASON_FOUND_NEW_RS = 'FoundNewReplicaSet';
export const REASON_TIMED_OUT = 'ProgressDeadlineExceeded';
export const REASON_PAUSED = 'DeploymentPaused';
export const REASON_RESUMED = 'DeploymentResumed';
export const REASON_MIN_AVAILABLE = 'MinimumReplicasAvailable';
export const REASON_MIN_UNAVAILABLE = 'MinimumReplicasUnavailable';

export interface DeploymentInput {
  deployment: Deployment;
  /** ReplicaSets in the Deployment's namespace (owned, orphaned and others). */
  replicaSets: readonly ReplicaSet[];
  /** Pods in the namespace (the Recreate strategy waits for old pods to be gone). */
  pods: readonly Pod[];
  now: number;
}

export interface DeploymentResult extends ReconcileResult {
  status: DeploymentStatus;
  /** Name of the ReplicaSet for the current template, when one exists or is being created. */
  newReplicaSetName?: string;
}

type DeploymentCondition = Condition & { lastUpdateTime?: string };

// ------------------------------------------------------------------------------------------ arithmetic

/** Upstream's GetScaledValueFromIntOrPercent: "25%" of total, rounded up or down; ints as is. */
export function scaledValue(value: IntOrString | undefined, total: number, roundUp: boolean): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  const match = /^([0-9]+)%$/.exec(value);
  if (!match) return 0;
  const exact = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

function isRollingUpdate(d: Deployment): boolean {
  return (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

function desiredReplicas(d: Deployment): number {
  return d.spec?.replicas ?? 1;
}

/** [maxSurge, maxUnavailable] resolved against the desired replicas; both zero becomes unavailable=1. */
export function resolveFenceposts(d: Deployment): [number, number] {
  const ru = d.spec?.strategy?.rollingUpdate;
  const desired = desiredReplicas(d);
  const surge = scaledValue(ru?.maxSurge ?? '25%', desired, true);
  const unavailable = scaledValue(ru?.maxUnavailable ?? '25%', desired, false);
  if (surge === 0 && unavailable === 0) return [0, 1];
  return [surge, unavailable];
}

export function maxSurge(d: Deployment): number {
  return isRollingUpdate(d) ? resolveFenceposts(d)[0] : 0;
}

export function maxUnavailable(d: Deployment): number {
  const desired = desiredReplicas(d);
  if (!isRollingUpdate(d) || desired === 0) return 0;
  return Math.min(resolveFenceposts(d)[1], desired);
}

const specReplicas = (rs: ReplicaSet): number => rs.spec?.replicas ?? 1;
const sum = (rss: readonly ReplicaSet[], f: (rs: ReplicaSet) => number): number => rss.reduce((n, rs) => n + f(rs), 0);
const statusReplicas = (rs: ReplicaSet): number => rs.status?.replicas ?? 0;
const availableOf = (rs: ReplicaSet): number => rs.status?.availableReplicas ?? 0;
const readyOf = (rs: ReplicaSet): number => rs.status?.readyReplicas ?? 0;

function intAnnotation(rs: ReplicaSet, key: string): number | undefined {
  const text = rs.metadata.annotations?.[key];
  return text !== undefined && /^[0-9]+$/.test(text) ? Number(text) : undefined;
}

export function revisionOf(obj: { metadata: { annotations?: Record<string, string> } }): number {
  const text = obj.metadata.annotations?.[REVISION_ANNOTATION];
  return text !== undefined && /^[0-9]+$/.test(text) ? Number(text) : 0;
}

function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  const ta = parseTime(a.metadata.creationTimestamp) ?? Number.MAX_SAFE_INTEGER;
  const tb = parseTime(b.metadata.creationTimestamp) ?? Number.MAX_SAFE_INTEGER;
  return ta !== tb ? ta - tb : compareStrings(a.metadata.name ?? '', b.metadata.name ?? '');
}

/** Template equality ignoring the pod-template-hash label (upstream's EqualIgnoreHash). */
export function templatesEqualIgnoringHash(a: unknown, b: unknown): boolean {
  const strip = (t: unknown): unknown => {
    const copy = clone(t) as { metadata?: { labels?: Record<string, string> } } | undefined;
    if (copy?.metadata?.labels) {
      delete copy.metadata.labels[POD_TEMPLATE_HASH];
      if (Object.keys(copy.metadata.labels).length === 0) delete copy.metadata.labels;
    }
    return copy;
  };
  return jsonEqual(strip(a), strip(b));
}

// ------------------------------------------------------------------------------------------ conditions

function setCondition(conditions: DeploymentCondition[], next: DeploymentCondition): DeploymentCondition[] {
  const current = conditions.find((c) => c.type === next.type);
  if (current && current.status === next.status && current.reason === next.reason) return conditions;
  const cond = { ...next };
  if (current && current.status === next.status && current.lastTransitionTime) cond.lastTransitionTime = current.lastTransitionTime;
  return [...conditions.filter((c) => c.type !== next.type), cond];
}

function newCondition(type: string, status: Condition['status'], reason: string, message: string, now: number): DeploymentCondition {
  const t = formatTime(now);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

// ------------------------------------------------------------------------------------------ the pass

interface WorkingRS {
  original?: ReplicaSet;
  rs: ReplicaSet;
}

export function reconcileDeployment(input: DeploymentInput): DeploymentResult {
  const d = input.deployment;
  const now = input.now;
  const dRef = referenceTo(d, { apiVersion: 'apps/v1', kind: 'Deployment' });
  const rsKind = { apiVersion: 'apps/v1', kind: 'ReplicaSet' };
  const actions: Action[] = [];
  const events: EventRecord[] = [];
  const desired = desiredReplicas(d);
  const hasDeadline = d.spec?.progressDeadlineSeconds !== 2147483647; // upstream: MaxInt32 means no deadline
  const deadlineSeconds = d.spec?.progressDeadlineSeconds ?? 600;

  // An empty selector selects everything; upstream refuses to act on it.
  const selector = d.spec?.selector;
  if (!selector || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0)) {
    events.push(event(DEPLOYMENT_SOURCE, dRef, 'Warning', 'SelectingAll', 'This deployment will select all pods. A non-empty selector is required.'));
    const status: DeploymentStatus = { ...(d.status ?? {}) };
    if (d.metadata.generation !== undefined && (d.status?.observedGeneration ?? 0) < d.metadata.generation) {
      status.observedGeneration = d.metadata.generation;
      const updated = clone(d);
      updated.status = status;
      actions.push({ verb: 'update', object: updated, subresource: 'status' });
    }
    return { actions, events, status };
  }

  const selects = labelSelectorMatcher(selector);
  const claim = claimObjects(d, controllerOwnerRef(d, 'apps/v1', 'Deployment'),
    (rs: ReplicaSet) => selects(rs.metadata.labels), input.replicaSets, (rs) => targetOf(rs, rsKind));
  actions.push(...claim.actions);

  const working: WorkingRS[] = claim.claimed.map((rs) => ({ original: rs, rs: clone(rs) })).sort((a, b) => byCreation(a.rs, b.rs));
  let conditions: DeploymentCondition[] = clone(d.status?.conditions ?? []);
  let collisionCount = d.status?.collisionCount;
  let deploymentRevision: string | undefined;
  const deletes: ReplicaSet[] = [];

  const findNew = (): WorkingRS | undefined => working.find((w) => templatesEqualIgnoringHash(w.rs.spec?.template, d.spec?.template));
  const olds = (): WorkingRS[] => working.filter((w) => w !== findNew());

  const replicasAnnotationsNeedUpdate = (rs: ReplicaSet): boolean =>
    rs.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION] !== String(desired) ||
    rs.metadata.annotations?.[MAX_REPLICAS_ANNOTATION] !== String(desired + maxSurge(d));
  const setReplicasAnnotations = (rs: ReplicaSet): void => {
    rs.metadata.annotations = { ...(rs.metadata.annotations ?? {}), [DESIRED_REPLICAS_ANNOTATION]: String(desired), [MAX_REPLICAS_ANNOTATION]: String(desired + maxSurge(d)) };
  };
  /** Upstream's scaleReplicaSet: returns true when the size changed. */
  const scale = (w: WorkingRS, to: number): boolean => {
    const sizeChanges = specReplicas(w.rs) !== to;
    if (!sizeChanges && !replicasAnnotationsNeedUpdate(w.rs)) return false;
    w.rs.spec = { ...(w.rs.spec ?? { selector: {} }), replicas: to };
    setReplicasAnnotations(w.rs);
    return sizeChanges;
  };

  /** getAllReplicaSetsAndSyncRevision: sync the new RS's annotations, or create it when asked. */
  const syncNewRS = (create: boolean): WorkingRS | undefined => {
    const maxOldRevision = Math.max(0, ...olds().map((w) => revisionOf(w.rs)));
    const newRevision = String(maxOldRevision + 1);
    const existing = findNew();
    if (existing) {
      const rs = existing.rs;
      const annotations = { ...(rs.metadata.annotations ?? {}) };
      for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) if (!SKIP_COPY_ANNOTATIONS.has(k)) annotations[k] = v;
      if (revisionOf(rs) < maxOldRevision + 1) annotations[REVISION_ANNOTATION] = newRevision;
      rs.metadata.annotations = annotations;
      if ((rs.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0) && rs.spec) rs.spec.minReadySeconds = d.spec?.minReadySeconds ?? 0;
      deploymentRevision = annotations[REVISION_ANNOTATION];
      if (hasDeadline && !conditions.some((c) => c.type === 'Progressing')) {
        conditions = setCondition(conditions, newCondition('Progressing', 'True', REASON_FOUND_NEW_RS, `Found new replica set "${rs.metadata.name ?? ''}"`, now));
      }
      return existing;
    }
    if (!create) return undefined;
    const taken = new Map(input.replicaSets.map((rs) => [rs.metadata.name ?? '', rs]));
    let hash = '';
    let name = '';
    for (let attempt = 0; attempt < 16; attempt++) {
      hash = computeTemplateHash(d.spec?.template, collisionCount);
      name = `${d.metadata.name ?? ''}-${hash}`;
      const clash = taken.get(name);
      // Same name and same template, owned by us: that is our RS (would have been found); anything else collides.
      if (clash === undefined) break;
      collisionCount = (collisionCount ?? 0) + 1;
    }
    const template = clone(d.spec?.template ?? {});
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH]: hash } };
    const rsSelector = clone(selector);
    rsSelector.matchLabels = { ...(rsSelector.matchLabels ?? {}), [POD_TEMPLATE_HASH]: hash };
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) if (!SKIP_COPY_ANNOTATIONS.has(k)) annotations[k] = v;
    annotations[REVISION_ANNOTATION] = newRevision;
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name,
        namespace: d.metadata.namespace ?? 'default',
        labels: { ...(template.metadata.labels ?? {}) },
        annotations,
        ownerReferences: [controllerOwnerRef(d, 'apps/v1', 'Deployment')],
      },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector: rsSelector, template },
    };
    const w: WorkingRS = { rs };
    working.push(w);
    rs.spec!.replicas = newRSReplicas(w);
    setReplicasAnnotations(rs);
    deploymentRevision = newRevision;
    if (hasDeadline) {
      conditions = setCondition(conditions, newCondition('Progressing', 'True', REASON_NEW_RS_CREATED, `Created new replica set "${name}"`, now));
    }
    return w;
  };

  /** NewRSNewReplicas: how big the new RS may be now. */
  function newRSReplicas(newRS: WorkingRS): number {
    if (!isRollingUpdate(d)) return desired;
    const current = sum(working.map((w) => w.rs), specReplicas);
    const maxTotal = desired + maxSurge(d);
    if (current >= maxTotal) return specReplicas(newRS.rs);
    const up = Math.min(maxTotal - current, Math.max(0, desired - specReplicas(newRS.rs)));
    return specReplicas(newRS.rs) + up;
  }

  const active = (list: WorkingRS[]): WorkingRS[] => list.filter((w) => specReplicas(w.rs) > 0);

  const isScalingEvent = (): boolean => {
    syncNewRS(false);
    return active(working).some((w) => {
      const annotated = intAnnotation(w.rs, DESIRED_REPLICAS_ANNOTATION);
      return annotated !== undefined && annotated !== desired;
    });
  };

  /** Upstream's scale(): proportional scaling of active RSs. */
  const scaleProportionally = (newRS: WorkingRS | undefined): void => {
    const oldList = olds();
    const activeAll = active(working);
    let activeOrLatest: WorkingRS | undefined;
    if (activeAll.length === 0) activeOrLatest = newRS ?? [...oldList].sort((a, b) => byCreation(b.rs, a.rs))[0];
    else if (activeAll.length === 1) activeOrLatest = activeAll[0];
    if (newRS === undefined && oldList.length === 0) return;
    if (activeOrLatest !== undefined) {
      if (specReplicas(activeOrLatest.rs) !== desired) scale(activeOrLatest, desired);
      return;
    }
    if (newRS && intAnnotation(newRS.rs, DESIRED_REPLICAS_ANNOTATION) === desired && specReplicas(newRS.rs) === desired && availableOf(newRS.rs) === desired) {
      for (const w of active(oldList)) scale(w, 0);
      return;
    }
    if (!isRollingUpdate(d)) return;
    const all = activeAll;
    const allowed = desired > 0 ? desired + maxSurge(d) : 0;
    const toAdd = allowed - sum(all.map((w) => w.rs), specReplicas);
    const bySizeThen = (newerFirst: boolean) => (a: WorkingRS, b: WorkingRS): number => {
      const diff = specReplicas(b.rs) - specReplicas(a.rs);
      if (diff !== 0) return diff;
      return newerFirst ? byCreation(b.rs, a.rs) : byCreation(a.rs, b.rs);
    };
    if (toAdd > 0) all.sort(bySizeThen(true));
    else if (toAdd < 0) all.sort(bySizeThen(false));
    let added = 0;
    const sizes = new Map<WorkingRS, number>();
    for (const w of all) {
      if (toAdd === 0) {
        sizes.set(w, specReplicas(w.rs));
        continue;
      }
      const proportion = proportionFor(w.rs, toAdd, added);
      sizes.set(w, specReplicas(w.rs) + proportion);
      added += proportion;
    }
    all.forEach((w, i) => {
      let size = sizes.get(w) ?? specReplicas(w.rs);
      if (i === 0 && toAdd !== 0) size = Math.max(0, size + (toAdd - added));
      scale(w, size);
    });
  };

  function proportionFor(rs: ReplicaSet, toAdd: number, added: number): number {
    if (specReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
    let fraction: number;
    if (desired === 0) fraction = -specReplicas(rs);
    else {
      const deploymentReplicas = desired + maxSurge(d);
      const annotated = intAnnotation(rs, MAX_REPLICAS_ANNOTATION) ?? d.status?.replicas ?? 0;
      fraction = annotated === 0 ? 0 : Math.round((specReplicas(rs) * deploymentReplicas) / annotated) - specReplicas(rs);
    }
    const allowed = toAdd - added;
    return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
  }

  const cleanup = (): void => {
    const limit = d.spec?.revisionHistoryLimit ?? 10;
    const cleanable = olds().map((w) => w.rs).filter((rs) => !isTerminating(rs));
    const diff = cleanable.length - limit;
    if (diff <= 0) return;
    cleanable.sort((a, b) => (revisionOf(a) - revisionOf(b)) || byCreation(a, b));
    for (const rs of cleanable.slice(0, diff)) {
      if (statusReplicas(rs) !== 0 || specReplicas(rs) !== 0) continue;
      if ((rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      deletes.push(rs);
    }
  };

  const allRS = (): ReplicaSet[] => working.map((w) => w.rs);
  const deploymentComplete = (s: DeploymentStatus): boolean =>
    (s.updatedReplicas ?? 0) === desired && (s.replicas ?? 0) === desired && (s.availableReplicas ?? 0) === desired &&
    (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);

  // ---- the sync itself
  let rolloutStatus = false; // syncRolloutStatus (Progressing handling) vs syncDeploymentStatus
  let newRS: WorkingRS | undefined;
  const paused = d.spec?.paused === true;
  if (hasDeadline) {
    const progressing = conditions.find((c) => c.type === 'Progressing');
    if (paused && progressing?.reason !== REASON_PAUSED) {
      conditions = setCondition(conditions, newCondition('Progressing', 'Unknown', REASON_PAUSED, 'Deployment is paused', now));
    } else if (!paused && progressing?.reason === REASON_PAUSED) {
      conditions = setCondition(conditions, newCondition('Progressing', 'Unknown', REASON_RESUMED, 'Deployment is resumed', now));
    }
  }
  if (isTerminating(d)) {
    newRS = syncNewRS(false);
  } else if (paused || isScalingEvent()) {
    newRS = syncNewRS(false);
    scaleProportionally(newRS);
    if (paused) cleanup();
  } else if (!isRollingUpdate(d)) {
    rolloutStatus = true;
    newRS = syncNewRS(false);
    let scaledDown = false;
    for (const w of active(olds())) scaledDown = scale(w, 0) || scaledDown;
    const oldUids = new Set(olds().map((w) => w.rs.metadata.uid).filter((u): u is string => u !== undefined));
    const oldPodsRunning = sum(olds().map((w) => w.rs), statusReplicas) > 0 || input.pods.some((p) => {
      const ref = controllerRefOf(p);
      return ref !== undefined && oldUids.has(ref.uid) && p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded';
    });
    if (!scaledDown && !oldPodsRunning) {
      newRS = newRS ?? syncNewRS(true);
      if (newRS) scale(newRS, desired);
      if (deploymentComplete(d.status ?? {})) cleanup();
    }
  } else {
    rolloutStatus = true;
    newRS = syncNewRS(true);
    let scaled = false;
    if (newRS) {
      const current = specReplicas(newRS.rs);
      if (current > desired) scaled = scale(newRS, desired);
      else if (current < desired) scaled = scale(newRS, newRSReplicas(newRS));
    }
    if (!scaled && newRS) scaled = reconcileOld(newRS);
    if (!scaled && deploymentComplete(d.status ?? {})) cleanup();
  }

  function reconcileOld(n: WorkingRS): boolean {
    const oldActive = active(olds());
    if (sum(oldActive.map((w) => w.rs), specReplicas) === 0) return false;
    const allPods = sum(allRS(), specReplicas);
    const minAvailable = desired - maxUnavailable(d);
    const newUnavailable = specReplicas(n.rs) - availableOf(n.rs);
    const maxScaledDown = allPods - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    // cleanupUnhealthyReplicas
    let cleaned = 0;
    const oldest = [...oldActive].sort((a, b) => byCreation(a.rs, b.rs));
    for (const w of oldest) {
      if (cleaned >= maxScaledDown) break;
      const replicas = specReplicas(w.rs);
      if (replicas === 0 || replicas === availableOf(w.rs)) continue;
      const down = Math.min(maxScaledDown - cleaned, replicas - availableOf(w.rs));
      scale(w, replicas - down);
      cleaned += down;
    }
    // scaleDownOldReplicaSetsForRollingUpdate
    const availableCount = sum(allRS(), availableOf);
    let scaledDown = 0;
    if (availableCount > minAvailable) {
      const total = availableCount - minAvailable;
      for (const w of oldest) {
        if (scaledDown >= total) break;
        const replicas = specReplicas(w.rs);
        if (replicas === 0) continue;
        const down = Math.min(replicas, total - scaledDown);
        scale(w, replicas - down);
        scaledDown += down;
      }
    }
    return cleaned + scaledDown > 0;
  }

  // ---- status
  const all = allRS();
  const available = sum(all, availableOf);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation ?? 0,
    replicas: sum(all, statusReplicas),
    updatedReplicas: newRS ? statusReplicas(newRS.rs) : 0,
    readyReplicas: sum(all, readyOf),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, sum(all, specReplicas) - available),
  };
  if (collisionCount !== undefined) status.collisionCount = collisionCount;
  if (d.metadata.generation === undefined) delete status.observedGeneration;
  conditions = available >= desired - maxUnavailable(d)
    ? setCondition(conditions, newCondition('Available', 'True', REASON_MIN_AVAILABLE, 'Deployment has minimum availability.', now))
    : setCondition(conditions, newCondition('Available', 'False', REASON_MIN_UNAVAILABLE, 'Deployment does not have minimum availability.', now));
  let requeueAfterSeconds: number | undefined;
  if (!hasDeadline) conditions = conditions.filter((c) => c.type !== 'Progressing');
  if (rolloutStatus && hasDeadline) {
    const current = conditions.find((c) => c.type === 'Progressing');
    const complete = status.replicas === status.updatedReplicas && current?.reason === REASON_NEW_RS_AVAILABLE;
    if (!complete) {
      const rsName = newRS?.rs.metadata.name;
      const subject = rsName !== undefined ? `ReplicaSet "${rsName}"` : `Deployment "${d.metadata.name ?? ''}"`;
      const old = d.status ?? {};
      const progressing = (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
        (status.replicas ?? 0) - (status.updatedReplicas ?? 0) < (old.replicas ?? 0) - (old.updatedReplicas ?? 0) ||
        (status.readyReplicas ?? 0) > (old.readyReplicas ?? 0) || (status.availableReplicas ?? 0) > (old.availableReplicas ?? 0);
      if (deploymentComplete(status)) {
        conditions = setCondition(conditions, newCondition('Progressing', 'True', REASON_NEW_RS_AVAILABLE, `${subject} has successfully progressed.`, now));
      } else if (progressing) {
        const cond = newCondition('Progressing', 'True', REASON_RS_UPDATED, `${subject} is progressing.`, now);
        if (current?.status === 'True' && current.lastTransitionTime) cond.lastTransitionTime = current.lastTransitionTime;
        conditions = [...conditions.filter((c) => c.type !== 'Progressing'), cond];
      } else if (current && current.reason !== REASON_NEW_RS_AVAILABLE) {
        const from = parseTime(current.lastUpdateTime);
        if (current.reason === REASON_TIMED_OUT || (from !== undefined && from + deadlineSeconds * 1000 < now)) {
          conditions = setCondition(conditions, newCondition('Progressing', 'False', REASON_TIMED_OUT, `${subject} has timed out progressing.`, now));
        } else if (from !== undefined) {
          requeueAfterSeconds = Math.max(1, Math.ceil((from + deadlineSeconds * 1000 - now) / 1000));
        }
      }
    }
  }
  if (conditions.length > 0) status.conditions = conditions;

  // ---- actions: RS creates and updates, cleanup deletes, Deployment status, revision annotation
  for (const w of working) {
    const name = w.rs.metadata.name ?? '';
    const to = specReplicas(w.rs);
    if (w.original === undefined) {
      const onSuccess: ActionEvent | undefined = to > 0 ? event(DEPLOYMENT_SOURCE, dRef, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${name} to ${to}`) : undefined;
      actions.push({ verb: 'create', object: w.rs, ...(onSuccess ? { onSuccess } : {}) });
      continue;
    }
    if (jsonEqual(w.rs, w.original)) continue;
    const from = specReplicas(w.original);
    const onSuccess = from !== to
      ? event(DEPLOYMENT_SOURCE, dRef, 'Normal', 'ScalingReplicaSet', `Scaled ${to > from ? 'up' : 'down'} replica set ${name} to ${to} from ${from}`)
      : undefined;
    actions.push({ verb: 'update', object: w.rs, ...(onSuccess ? { onSuccess } : {}) });
  }
  for (const rs of deletes) {
    actions.push({ verb: 'delete', target: targetOf(rs, rsKind), ...(rs.metadata.uid ? { uid: rs.metadata.uid } : {}) });
  }
  if (!jsonEqual(status, d.status ?? {})) {
    const updated = clone(d);
    updated.status = status;
    actions.push({ verb: 'update', object: updated, subresource: 'status' });
  }
  if (deploymentRevision !== undefined && d.metadata.annotations?.[REVISION_ANNOTATION] !== deploymentRevision && !isTerminating(d)) {
    actions.push({ verb: 'patch', target: targetOf(d, { apiVersion: 'apps/v1', kind: 'Deployment' }), patch: { metadata: { annotations: { [REVISION_ANNOTATION]: deploymentRevision } } } });
  }
  const result: DeploymentResult = { actions, events, status };
  if (newRS) result.newReplicaSetName = newRS.rs.metadata.name ?? '';
  if (requeueAfterSeconds !== undefined) result.requeueAfterSeconds = requeueAfterSeconds;
  return result;
}
