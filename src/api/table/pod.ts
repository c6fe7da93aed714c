// The Pod Table printer: READY, STATUS and RESTARTS computed the way upstream's printPod does, so kubectl
// shows the familiar CrashLoopBackOff / Init:1/2 / Terminating / Completed values. Pure.
import type { Condition, Container, ContainerState, ContainerStatus, Pod, TableColumnDefinition } from '../types.ts';
import { AGE_COLUMN, NAME_COLUMN, column, wide } from './columns.ts';
import { age, parseTimestamp } from './duration.ts';

export const POD_COLUMNS: readonly TableColumnDefinition[] = [
  NAME_COLUMN,
  column('Ready', 'Ready containers out of all long-running containers of the pod.'),
  column('Status', 'A one-word summary of the pod derived from its phase and its containers\' states.'),
  column('Restarts', 'Total container restarts, with the time since the most recent one.'),
  AGE_COLUMN,
  wide('IP', 'The primary IP address allocated to the pod.'),
  wide('Node', 'The node the pod is bound to.'),
  wide('Nominated Node', 'The node the scheduler has nominated after preempting other pods, if any.'),
  wide('Readiness Gates', 'Readiness gates whose condition is True out of all declared gates.'),
];

/** Pod `reason` the node lifecycle controller sets on pods of an unreachable node. */
const NODE_LOST_REASON = 'NodeLost';

const isSidecar = (c: Container | undefined): boolean => c?.restartPolicy === 'Always';

function lastFinishedAt(state: ContainerState | undefined): number | undefined {
  return parseTimestamp(state?.terminated?.finishedAt);
}

function conditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  const c = (conditions ?? []).find((x) => x.type === type);
  return c?.status === 'True';
}

/** The latest of two optional instants. */
const later = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.max(a, b);

export interface PodSummary {
  ready: string;
  status: string;
  restarts: string;
}

/** READY, STATUS and RESTARTS of a pod at `now`. */
export function summarizePod(pod: Pod, now: Date): PodSummary {
  const spec = pod.spec;
  const status = pod.status ?? {};
  const initSpecs = new Map<string, Container>((spec?.initContainers ?? []).map((c) => [c.name, c]));
  let total = (spec?.containers ?? []).length;
  for (const c of spec?.initContainers ?? []) if (isSidecar(c)) total++;
  let ready = 0;

  const phase = status.phase ?? '';
  let reason: string = status.reason || phase;
  for (const c of status.conditions ?? []) {
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }

  let restarts = 0;
  let lastRestart: number | undefined;
  let sidecarRestarts = 0;
  let lastSidecarRestart: number | undefined;
  let initializing = false;
  const initStatuses: readonly ContainerStatus[] = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i]!;
    const finished = lastFinishedAt(cs.lastState);
    restarts += cs.restartCount ?? 0;
    lastRestart = later(lastRestart, finished);
    const sidecar = isSidecar(initSpecs.get(cs.name));
    if (sidecar) {
      sidecarRestarts += cs.restartCount ?? 0;
      lastSidecarRestart = later(lastSidecarRestart, finished);
    }
    const terminated = cs.state?.terminated;
    const waiting = cs.state?.waiting;
    if (terminated && terminated.exitCode === 0) continue;
    if (sidecar && cs.started === true) {
      if (cs.ready) ready++;
      continue;
    }
    if (terminated) {
      if (terminated.reason) reason = `Init:${terminated.reason}`;
      else if (terminated.signal) reason = `Init:Signal:${terminated.signal}`;
      else reason = `Init:ExitCode:${terminated.exitCode}`;
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${(spec?.initContainers ?? []).length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(status.conditions, 'Initialized')) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses: readonly ContainerStatus[] = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i]!;
      restarts += cs.restartCount ?? 0;
      lastRestart = later(lastRestart, lastFinishedAt(cs.lastState));
      const terminated = cs.state?.terminated;
      const waiting = cs.state?.waiting;
      if (waiting?.reason) reason = waiting.reason;
      else if (terminated?.reason) reason = terminated.reason;
      else if (terminated) reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode}`;
      else if (cs.ready && cs.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    // A pod whose last container to report says Completed while another still runs is not done.
    if (reason === 'Completed' && hasRunning) reason = conditionTrue(status.conditions, 'Ready') ? 'Running' : 'NotReady';
  }

  if (pod.metadata.deletionTimestamp && status.reason === NODE_LOST_REASON) reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  const restartsText = restarts !== 0 && lastRestart !== undefined ? `${restarts} (${age(lastRestart, now)} ago)` : String(restarts);
  return { ready: `${ready}/${total}`, status: reason, restarts: restartsText };
}

export function podCells(pod: Pod, now: Date): unknown[] {
  const s = summarizePod(pod, now);
  const status = pod.status ?? {};
  const ip = status.podIPs?.[0]?.ip || status.podIP || '<none>';
  const gates = pod.spec?.readinessGates ?? [];
  let readinessGates = '<none>';
  if (gates.length > 0) {
    const trueGates = gates.filter((g) => conditionTrue(status.conditions, g.conditionType)).length;
    readinessGates = `${trueGates}/${gates.length}`;
  }
  return [
    pod.metadata.name ?? '',
    s.ready,
    s.status,
    s.restarts,
    age(pod.metadata.creationTimestamp, now),
    ip,
    pod.spec?.nodeName || '<none>',
    status.nominatedNodeName || '<none>',
    readinessGates,
  ];
}

/** Row conditions upstream attaches to finished pods (type Completed), so clients can tell them apart. */
export function podRowConditions(pod: Pod): Condition[] | undefined {
  switch (pod.status?.phase) {
    case 'Succeeded':
      return [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'All containers of the pod exited successfully.' }];
    case 'Failed':
      return [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod terminated in failure.' }];
    default:
      return undefined;
  }
}
