// Pod phase and the kubelet-owned pod conditions, computed from container statuses the way the kubelet
// does it (getPhase and the status generators). Pure.
import type { Condition, Container, ContainerStatus, PodPhase, PodSpec } from '../../api/types.ts';

export function isRestartableInitContainer(c: Container): boolean {
  return c.restartPolicy === 'Always';
}

function statusOf(statuses: readonly ContainerStatus[], name: string): ContainerStatus | undefined {
  return statuses.find((s) => s.name === name);
}

/**
 * The pod phase. `podIsTerminal` is true when the runtime will start no container again (all stopped and
 * the restart policy forbids restarts, or the pod is being torn down for good).
 */
export function podPhase(spec: PodSpec, initStatuses: readonly ContainerStatus[], statuses: readonly ContainerStatus[], podIsTerminal: boolean): PodPhase {
  let pendingInitialization = 0;
  let failedInitialization = 0;
  for (const c of spec.initContainers ?? []) {
    const st = statusOf(initStatuses, c.name);
    if (isRestartableInitContainer(c)) {
      if (st === undefined) { pendingInitialization++; continue; }
      if (st.state?.running !== undefined) { if (st.started !== true) pendingInitialization++; }
      else if (st.state?.terminated !== undefined) { /* stopped sidecars do not count */ }
      else if (st.state?.waiting !== undefined && st.lastState?.terminated === undefined) pendingInitialization++;
      continue;
    }
    if (st === undefined) { pendingInitialization++; continue; }
    if (st.state?.running !== undefined) pendingInitialization++;
    else if (st.state?.terminated !== undefined) {
      if (st.state.terminated.exitCode !== 0) failedInitialization++;
    } else if (st.state?.waiting !== undefined) {
      if (st.lastState?.terminated !== undefined) {
        if (st.lastState.terminated.exitCode !== 0) failedInitialization++;
      }
      pendingInitialization++;
    } else pendingInitialization++;
  }

  let running = 0, waiting = 0, stopped = 0, succeeded = 0, unknown = 0;
  for (const c of spec.containers) {
    const st = statusOf(statuses, c.name);
    if (st === undefined) { unknown++; continue; }
    if (st.state?.running !== undefined) running++;
    else if (st.state?.terminated !== undefined) {
      stopped++;
      if (st.state.terminated.exitCode === 0) succeeded++;
    } else if (st.state?.waiting !== undefined) {
      if (st.lastState?.terminated !== undefined) stopped++;
      else waiting++;
    } else unknown++;
  }

  const restartPolicy = spec.restartPolicy ?? 'Always';
  if (failedInitialization > 0 && restartPolicy === 'Never') return 'Failed';
  const anyRegularStarted = spec.containers.some((c) => {
    const st = statusOf(statuses, c.name);
    return st !== undefined && (st.state?.running !== undefined || st.state?.terminated !== undefined || st.lastState?.terminated !== undefined);
  });
  if ((pendingInitialization > 0 && !anyRegularStarted) || waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (podIsTerminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

export interface PodConditionsInput {
  spec: PodSpec;
  phase: PodPhase;
  initStatuses: readonly ContainerStatus[];
  statuses: readonly ContainerStatus[];
  /** The pod sandbox (network namespace) exists and is configured. */
  sandboxReady: boolean;
  /** Conditions currently on the pod: readiness-gate conditions are read from here, and unchanged
   *  kubelet conditions keep their lastTransitionTime. */
  previous?: readonly Condition[];
  nowIso: string;
}

type Cond = Omit<Condition, 'lastTransitionTime'>;

function containersReady(input: PodConditionsInput): Cond {
  const unknown: string[] = [];
  const unready: string[] = [];
  const check = (c: Container, statuses: readonly ContainerStatus[]): void => {
    const st = statusOf(statuses, c.name);
    if (st === undefined) unknown.push(c.name);
    else if (!st.ready) unready.push(c.name);
  };
  for (const c of input.spec.initContainers ?? []) if (isRestartableInitContainer(c)) check(c, input.initStatuses);
  for (const c of input.spec.containers) check(c, input.statuses);
  if (input.phase === 'Succeeded' && unknown.length === 0) {
    return { type: 'ContainersReady', status: 'False', reason: 'PodCompleted' };
  }
  const messages: string[] = [];
  if (unknown.length > 0) messages.push(`containers with unknown status: [${unknown.join(' ')}]`);
  if (unready.length > 0) messages.push(`containers with unready status: [${unready.join(' ')}]`);
  if (messages.length > 0) return { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: messages.join(', ') };
  return { type: 'ContainersReady', status: 'True' };
}

function initialized(input: PodConditionsInput): Cond {
  const incomplete: string[] = [];
  for (const c of input.spec.initContainers ?? []) {
    const st = statusOf(input.initStatuses, c.name);
    if (isRestartableInitContainer(c)) {
      if (st?.started !== true) incomplete.push(c.name);
    } else if (st?.state?.terminated?.exitCode !== 0) incomplete.push(c.name);
  }
  if (incomplete.length === 0) {
    return input.phase === 'Succeeded' && (input.spec.initContainers ?? []).length > 0
      ? { type: 'Initialized', status: 'True', reason: 'PodCompleted' }
      : { type: 'Initialized', status: 'True' };
  }
  // Once any regular container ran, initialisation is considered done even if a sidecar restarts.
  return { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: `containers with incomplete status: [${incomplete.join(' ')}]` };
}

function ready(input: PodConditionsInput, containersReadyCond: Cond): Cond {
  if (containersReadyCond.status !== 'True') {
    return { type: 'Ready', status: 'False', reason: containersReadyCond.reason, message: containersReadyCond.message };
  }
  const messages: string[] = [];
  for (const gate of input.spec.readinessGates ?? []) {
    const c = input.previous?.find((p) => p.type === gate.conditionType);
    if (c === undefined) messages.push(`corresponding condition of pod readiness gate "${gate.conditionType}" does not exist.`);
    else if (c.status !== 'True') messages.push(`the status of pod readiness gate "${gate.conditionType}" is not "True", but ${c.status}`);
  }
  if (messages.length > 0) return { type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady', message: messages.join(', ') };
  return { type: 'Ready', status: 'True' };
}

/** Kubelet-owned conditions in the kubelet's order; lastTransitionTime is kept while status is unchanged. */
export function podConditions(input: PodConditionsInput): Condition[] {
  const cr = containersReady(input);
  const list: Cond[] = [
    { type: 'PodReadyToStartContainers', status: input.sandboxReady ? 'True' : 'False' },
    initialized(input),
    ready(input, cr),
    cr,
    { type: 'PodScheduled', status: 'True' },
  ];
  return list.map((c) => {
    const prev = input.previous?.find((p) => p.type === c.type);
    const lastTransitionTime = prev !== undefined && prev.status === c.status && prev.lastTransitionTime !== undefined
      ? prev.lastTransitionTime : input.nowIso;
    const out: Condition = { type: c.type, status: c.status, lastTransitionTime };
    if (c.reason !== undefined) out.reason = c.reason;
    if (c.message !== undefined) out.message = c.message;
    return out;
  });
}

/** Kubelet restart rule for a regular container that exited. */
export function shouldRestart(restartPolicy: PodSpec['restartPolicy'], exitCode: number): boolean {
  const policy = restartPolicy ?? 'Always';
  if (policy === 'Always') return true;
  if (policy === 'OnFailure') return exitCode !== 0;
  return false;
}

/** Reason of a terminated container: Completed on exit 0, Error otherwise (OOMKilled needs cgroups we do not use). */
export function terminatedReason(exitCode: number): 'Completed' | 'Error' {
  return exitCode === 0 ? 'Completed' : 'Error';
}

/** Exit code a container runtime reports for a process killed by a signal (128 + number). */
export function exitCodeForSignal(signal: string): number {
  const numbers: Record<string, number> = {
    SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9,
    SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSTKFLT: 16,
    SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24,
    SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29, SIGPWR: 30, SIGSYS: 31,
  };
  return 128 + (numbers[signal] ?? 0);
}
