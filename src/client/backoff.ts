// Exponential backoff with jitter, capped: the retry delay shared by the informer (failed lists and watches)
// and the work queue (rate-limited requeue). The delay for attempt n (0-based) is
//   min(maxMs, initialMs * factor^n), then spread by ±jitter (a fraction) and clamped to [0, maxMs].
// `random` is injectable so tests can pin the jitter.

export interface BackoffOptions {
  /** Delay of the first retry, in milliseconds. */
  initialMs: number;
  /** Cap on any delay, in milliseconds. */
  maxMs: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** Relative spread in [0, 1]: 0.2 makes each delay uniformly random within ±20% of the nominal one. */
  jitter?: number;
  /** Uniform random source in [0, 1) (default Math.random). */
  random?: () => number;
}

/** The delay before retry number `attempt` (0 = first retry). */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const factor = options.factor ?? 2;
  const jitter = Math.min(Math.max(options.jitter ?? 0, 0), 1);
  const random = options.random ?? Math.random;
  // initialMs * factor^n overflows to Infinity for large n, which the cap absorbs; 0 * Infinity is guarded.
  const grown = options.initialMs === 0 ? 0 : options.initialMs * Math.pow(factor, Math.max(0, attempt));
  const nominal = Math.min(options.maxMs, grown);
  const spread = jitter === 0 ? 0 : nominal * jitter * (2 * random() - 1);
  return Math.round(Math.min(options.maxMs, Math.max(0, nominal + spread)));
}

/** A stateful backoff: `next()` returns the next delay and advances; `reset()` starts over. */
export class Backoff {
  readonly #options: BackoffOptions;
  #attempt = 0;

  constructor(options: BackoffOptions) {
    if (!(options.initialMs >= 0) || !(options.maxMs >= options.initialMs)) {
      throw new RangeError('backoff needs 0 <= initialMs <= maxMs');
    }
    this.#options = options;
  }

  /** How many delays have been handed out since the last reset. */
  get attempts(): number {
    return this.#attempt;
  }

  next(): number {
    return backoffDelay(this.#attempt++, this.#options);
  }

  reset(): void {
    this.#attempt = 0;
  }
}

/** Resolves after `ms`, or early (without rejecting) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
