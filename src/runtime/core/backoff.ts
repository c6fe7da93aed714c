// Crash-loop back-off as the kubelet computes it (its per-container flowcontrol.Backoff, no jitter):
// the first restart after an exit is immediate and arms a window of `initialMs`; each later restart
// doubles the window up to `maxMs`. A container that exits while its window is open waits
// "CrashLoopBackOff" until `finishedAt + window`. An entry whose last update is older than
// 2 × maxMs at the time of the exit is forgotten, so a container that ran for 10 minutes (upstream
// defaults) starts again from the initial window. Pure: times are milliseconds since the epoch.

export interface BackoffConfig {
  /** First window, upstream 10 s. */
  initialMs: number;
  /** Cap, upstream 5 min. */
  maxMs: number;
}

export const UPSTREAM_CRASHLOOP_BACKOFF: BackoffConfig = { initialMs: 10_000, maxMs: 300_000 };
/** Image pull back-off: the kubelet uses the same 10 s → 5 min shape. */
export const UPSTREAM_IMAGE_PULL_BACKOFF: BackoffConfig = { initialMs: 10_000, maxMs: 300_000 };

/** What the runtime remembers per container between restarts (persisted in the state file). */
export interface BackoffEntry {
  windowMs: number;
  lastUpdateMs: number;
}

function expired(entry: BackoffEntry, eventMs: number, config: BackoffConfig): boolean {
  return eventMs - entry.lastUpdateMs > config.maxMs * 2;
}

export type RestartDecision =
  | { kind: 'restart-now'; entry: BackoffEntry }
  | { kind: 'back-off'; untilMs: number; windowMs: number };

/**
 * Decide, at `nowMs`, about a container that finished at `finishedAtMs`: restart now (and the new entry
 * to store), or wait in back-off until `untilMs`.
 */
export function decideRestart(
  entry: BackoffEntry | undefined,
  finishedAtMs: number,
  nowMs: number,
  config: BackoffConfig,
): RestartDecision {
  if (entry !== undefined && !expired(entry, finishedAtMs, config)) {
    const untilMs = finishedAtMs + entry.windowMs;
    if (nowMs < untilMs) return { kind: 'back-off', untilMs, windowMs: entry.windowMs };
  }
  return { kind: 'restart-now', entry: nextEntry(entry, finishedAtMs, nowMs, config) };
}

/** The entry after a restart is granted (upstream `Next`). */
export function nextEntry(
  entry: BackoffEntry | undefined,
  eventMs: number,
  nowMs: number,
  config: BackoffConfig,
): BackoffEntry {
  if (entry === undefined || expired(entry, eventMs, config)) return { windowMs: config.initialMs, lastUpdateMs: nowMs };
  return { windowMs: Math.min(entry.windowMs * 2, config.maxMs), lastUpdateMs: nowMs };
}

/** Go's time.Duration String() for whole/fractional seconds and minutes, as in "back-off 1m20s". */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const totalSeconds = ms / 1000;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds - hours * 3600 - minutes * 60;
  const secText = `${Number.isInteger(seconds) ? seconds : Number(seconds.toFixed(3))}s`;
  if (hours > 0) return `${hours}h${minutes}m${secText}`;
  if (minutes > 0) return `${minutes}m${secText}`;
  return secText;
}

/** The waiting message the kubelet shows for CrashLoopBackOff. */
export function crashLoopMessage(windowMs: number, container: string, podName: string, namespace: string, podUid: string): string {
  return `back-off ${formatGoDuration(windowMs)} restarting failed container=${container} pod=${podName}_${namespace}(${podUid})`;
}
