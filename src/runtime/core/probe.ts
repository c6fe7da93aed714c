// Probe result state machines, as the kubelet's prober workers keep them. Pure.
//
// Each probe kind starts from its own initial result: readiness "failure" (not ready until a success),
// liveness "success" (alive until proven otherwise), startup "failure" (not started). A result flips only
// after `successThreshold` consecutive successes or `failureThreshold` consecutive failures (defaults
// 1 and 3). Before `initialDelaySeconds` have passed since the container started, no probe runs and
// the initial result stands.
import type { Probe } from '../../api/types.ts';

export type ProbeKind = 'readiness' | 'liveness' | 'startup';
export type ProbeOutcome = 'success' | 'failure';

export interface ProbeState {
  result: ProbeOutcome;
  consecutiveSuccesses: number;
  consecutiveFailures: number;
}

export interface ProbeTiming {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

/** Upstream defaults: period 10 s, timeout 1 s, success 1, failure 3, no initial delay. */
export function probeTiming(probe: Probe): ProbeTiming {
  return {
    initialDelayMs: Math.max(0, probe.initialDelaySeconds ?? 0) * 1000,
    periodMs: Math.max(1, probe.periodSeconds ?? 10) * 1000,
    timeoutMs: Math.max(1, probe.timeoutSeconds ?? 1) * 1000,
    successThreshold: Math.max(1, probe.successThreshold ?? 1),
    failureThreshold: Math.max(1, probe.failureThreshold ?? 3),
  };
}

export function initialProbeState(kind: ProbeKind): ProbeState {
  return { result: kind === 'liveness' ? 'success' : 'failure', consecutiveSuccesses: 0, consecutiveFailures: 0 };
}

/** Fold one probe outcome into the state. */
export function applyProbeOutcome(state: ProbeState, outcome: ProbeOutcome, timing: ProbeTiming): ProbeState {
  if (outcome === 'success') {
    const consecutiveSuccesses = state.consecutiveSuccesses + 1;
    return {
      result: consecutiveSuccesses >= timing.successThreshold ? 'success' : state.result,
      consecutiveSuccesses,
      consecutiveFailures: 0,
    };
  }
  const consecutiveFailures = state.consecutiveFailures + 1;
  return {
    result: consecutiveFailures >= timing.failureThreshold ? 'failure' : state.result,
    consecutiveSuccesses: 0,
    consecutiveFailures,
  };
}

/** What the runtime must do after a probe result changed. */
export type ProbeAction = 'none' | 'set-ready' | 'set-unready' | 'mark-started' | 'kill-container';

export function probeAction(kind: ProbeKind, before: ProbeState, after: ProbeState, timing: ProbeTiming): ProbeAction {
  switch (kind) {
    case 'readiness':
      if (before.result === after.result) return 'none';
      return after.result === 'success' ? 'set-ready' : 'set-unready';
    case 'liveness':
      return before.result === 'success' && after.result === 'failure' ? 'kill-container' : 'none';
    case 'startup':
      if (after.result === 'success') return before.result === 'success' ? 'none' : 'mark-started';
      // The initial result is already "failure", so exhaustion is counted, not flipped.
      return after.consecutiveFailures >= timing.failureThreshold ? 'kill-container' : 'none';
  }
}

/** kubelet: HTTP status codes in [200, 400) are a success. */
export function httpStatusIsSuccess(status: number): boolean {
  return status >= 200 && status < 400;
}

/** Resolve a probe port (number, or a named container port) to a number; undefined when unknown. */
export function resolveProbePort(port: number | string, ports: { name?: string; containerPort: number }[] | undefined): number | undefined {
  if (typeof port === 'number') return port > 0 && port < 65536 ? port : undefined;
  if (/^\d+$/.test(port)) {
    const n = Number(port);
    return n > 0 && n < 65536 ? n : undefined;
  }
  return ports?.find((p) => p.name === port)?.containerPort;
}
