// The work queue controller shells drive their reconcilers with, in the manner of client-go's
// workqueue: keys (usually `namespace/name`) are deduplicated while waiting; a key being processed is
// never handed to a second worker at the same time, and if it is added meanwhile it runs once more
// afterwards; a failed key is requeued after a per-key exponential backoff (with jitter, capped) and
// forgotten on success; at most `concurrency` handlers run at once.
import { backoffDelay } from './backoff.ts';

export interface WorkQueueOptions<K> {
  /** Handlers running at once (default 1). */
  concurrency?: number;
  /** First requeue delay of a failing key, in ms (default 5). */
  baseDelayMs?: number;
  /** Cap on a key's requeue delay, in ms (default 30 000). */
  maxDelayMs?: number;
  /** Relative jitter of requeue delays in [0, 1] (default 0.1). */
  jitter?: number;
  /** A failing key is retried at most this many times, then dropped (default: retried forever). */
  maxRetries?: number;
  /** Called with every handler failure, before the key is requeued (or dropped). */
  onError?: (key: K, error: unknown, failures: number) => void;
  /** Called when a key is dropped after maxRetries failures. */
  onDrop?: (key: K, error: unknown) => void;
  random?: () => number;
}

export type WorkHandler<K> = (key: K) => Promise<void> | void;

export class WorkQueue<K = string> {
  readonly #concurrency: number;
  readonly #options: WorkQueueOptions<K>;
  /** Keys waiting, in FIFO order; each also in #waiting. */
  #order: K[] = [];
  /** Keys that need processing: waiting in #order, or re-added while processing (the "dirty" set). */
  readonly #waiting = new Set<K>();
  readonly #processing = new Set<K>();
  readonly #delayed = new Map<K, { at: number; timer: NodeJS.Timeout }>();
  readonly #failures = new Map<K, number>();
  #handler: WorkHandler<K> | undefined;
  #shuttingDown = false;
  #idleWaiters: (() => void)[] = [];
  #inFlight = new Set<Promise<void>>();

  constructor(options: WorkQueueOptions<K> = {}) {
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be a positive integer');
    this.#concurrency = concurrency;
    this.#options = options;
  }

  /** Keys waiting to be processed (not counting those in flight or delayed). */
  get length(): number {
    return this.#order.length;
  }

  /** Keys being processed right now. */
  get processing(): number {
    return this.#processing.size;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Queues `key` unless it is already waiting. */
  add(key: K): void {
    if (this.#shuttingDown || this.#waiting.has(key)) return;
    this.#waiting.add(key);
    // A key in flight is only marked; it re-enters #order when its handler finishes.
    if (!this.#processing.has(key)) this.#order.push(key);
    this.#pump();
  }

  /** Queues `key` after `delayMs`; if it is already scheduled, the earlier time wins. */
  addAfter(key: K, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const existing = this.#delayed.get(key);
    if (existing !== undefined) {
      if (existing.at <= at) return;
      clearTimeout(existing.timer);
    }
    const timer = setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
      this.#checkIdle();
    }, delayMs);
    this.#delayed.set(key, { at, timer });
  }

  /** Queues `key` after its backoff delay, which doubles with each call until forget(key). */
  addRateLimited(key: K): void {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    this.addAfter(key, this.backoffFor(failures));
  }

  /** The requeue delay of the n-th consecutive failure (0-based), per this queue's options. */
  backoffFor(failures: number): number {
    const options = { initialMs: this.#options.baseDelayMs ?? 5, maxMs: this.#options.maxDelayMs ?? 30_000, jitter: this.#options.jitter ?? 0.1 };
    return backoffDelay(failures, this.#options.random !== undefined ? { ...options, random: this.#options.random } : options);
  }

  /** Clears a key's failure count (its next rate-limited requeue starts at the base delay). */
  forget(key: K): void {
    this.#failures.delete(key);
  }

  numRequeues(key: K): number {
    return this.#failures.get(key) ?? 0;
  }

  /**
   * Starts workers calling `handler` for each key. A handler that resolves forgets the key's failures;
   * one that throws requeues it rate-limited (or drops it after maxRetries).
   */
  run(handler: WorkHandler<K>): void {
    if (this.#handler !== undefined) throw new Error('the work queue is already running');
    this.#handler = handler;
    this.#pump();
  }

  /** Resolves once nothing is waiting, in flight, or (unless `ignoreDelayed`) scheduled for later. */
  whenIdle(ignoreDelayed = false): Promise<void> {
    if (this.#isIdle(ignoreDelayed)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.#isIdle(ignoreDelayed)) resolve();
        else this.#idleWaiters.push(check);
      };
      this.#idleWaiters.push(check);
    });
  }

  /** Stops accepting keys, drops waiting and delayed ones, and resolves when in-flight handlers finish. */
  async shutdown(): Promise<void> {
    this.#shuttingDown = true;
    for (const { timer } of this.#delayed.values()) clearTimeout(timer);
    this.#delayed.clear();
    this.#order = [];
    this.#waiting.clear();
    await Promise.allSettled([...this.#inFlight]);
    this.#checkIdle();
  }

  #isIdle(ignoreDelayed: boolean): boolean {
    return this.#order.length === 0 && this.#processing.size === 0 && (ignoreDelayed || this.#delayed.size === 0);
  }

  #checkIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  #pump(): void {
    const handler = this.#handler;
    if (handler === undefined || this.#shuttingDown) return;
    while (this.#processing.size < this.#concurrency && this.#order.length > 0) {
      const key = this.#order.shift() as K;
      this.#waiting.delete(key);
      this.#processing.add(key);
      const done = this.#process(handler, key);
      this.#inFlight.add(done);
      void done.finally(() => this.#inFlight.delete(done));
    }
  }

  async #process(handler: WorkHandler<K>, key: K): Promise<void> {
    let failed = false;
    let error: unknown;
    try {
      await handler(key);
    } catch (e) {
      failed = true;
      error = e;
    }
    this.#processing.delete(key);
    if (this.#shuttingDown) {
      this.#checkIdle();
      return;
    }
    if (!failed) {
      this.forget(key);
    } else {
      const failures = (this.#failures.get(key) ?? 0) + 1;
      try {
        this.#options.onError?.(key, error, failures);
      } catch {
        // A failing error hook must not stall the queue.
      }
      const maxRetries = this.#options.maxRetries ?? Infinity;
      if (failures > maxRetries) {
        this.forget(key);
        try {
          this.#options.onDrop?.(key, error);
        } catch {
          // As above.
        }
      } else {
        this.addRateLimited(key);
      }
    }
    // Re-added while in flight: it goes back in line now.
    if (this.#waiting.has(key)) this.#order.push(key);
    this.#pump();
    this.#checkIdle();
  }
}
