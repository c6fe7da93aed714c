// The ReplicaSet controller shell: one work key per ReplicaSet (`namespace/name`). A pass waits for its
// expectations (the pods it created or deleted last time must be visible in the informer), gives the core
// the pods it controls plus the namespace's orphans (candidates for adoption) and the pods of its sibling
// ReplicaSets (for the scale-down ranking), and applies the result: pod creates and deletes in concurrent
// slow-start batches, as upstream, then the status update.
import type { Pod, ReplicaSet } from '../api/types.ts';
import { WorkQueue } from '../client/work-queue.ts';
import type { Action } from './core/actions.ts';
import { reconcileReplicaSet } from './core/replicaset.ts';
import { controllerRefOf, matchesLabelSelector } from './core/selectors.ts';
import { type ActionApplier, type Controller, Expectations, type Logger, PassThrottle, type SharedInformers, failureToLog, keyOf } from './runtime.ts';

export interface ReplicaSetControllerOptions {
  concurrency?: number;
  burstReplicas?: number;
  now?: () => number;
}

const isPodWrite = (a: Action): boolean =>
  (a.verb === 'create' && a.object.kind === 'Pod') || (a.verb === 'delete' && a.target.kind === 'Pod');

export class ReplicaSetController implements Controller {
  readonly name = 'replicaset';
  readonly queue: WorkQueue<string>;
  readonly expectations = new Expectations();
  /** Pod-triggered passes of big ReplicaSets are paced (status refreshes while a thousand pods turn Ready). */
  readonly #throttle = new PassThrottle({ budget: 0.15 });
  readonly #inf: SharedInformers;
  readonly #applier: ActionApplier;
  readonly #log: Logger;
  readonly #burst: number | undefined;
  readonly #now: () => number;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(inf: SharedInformers, applier: ActionApplier, log: Logger, options: ReplicaSetControllerOptions = {}) {
    this.#inf = inf;
    this.#applier = applier;
    this.#log = log;
    this.#burst = options.burstReplicas;
    this.#now = options.now ?? Date.now;
    this.queue = new WorkQueue<string>({ concurrency: options.concurrency ?? 4, maxDelayMs: 10_000, onError: (k, e) => this.#report(k, e) });

    this.#unsubscribe.push(inf.replicaSets.addEventHandler({
      onAdd: (rs) => this.queue.add(keyOf(rs)),
      onUpdate: (_o, rs) => this.queue.add(keyOf(rs)),
      onDelete: (rs) => {
        this.expectations.forget(keyOf(rs));
        this.queue.add(keyOf(rs));
      },
    }));
    this.#unsubscribe.push(inf.pods.addEventHandler({
      onAdd: (p) => this.#enqueueFor(p),
      onUpdate: (old, p) => {
        const a = controllerRefOf(old)?.uid;
        const b = controllerRefOf(p)?.uid;
        if (a !== b || old.metadata.labels !== p.metadata.labels) this.#enqueueFor(old);
        this.#enqueueFor(p);
      },
      onDelete: (p) => this.#enqueueFor(p),
    }));
  }

  /** The ReplicaSet controlling `pod`, or for an orphan every ReplicaSet of its namespace that selects it. */
  #enqueueFor(pod: Pod): void {
    const ref = controllerRefOf(pod);
    const ns = pod.metadata.namespace ?? '';
    if (ref !== undefined) {
      if (ref.kind === 'ReplicaSet') {
        const key = `${ns}/${ref.name}`;
        this.queue.addAfter(key, this.#throttle.delayFor(key));
      }
      return;
    }
    if (pod.metadata.deletionTimestamp !== undefined) return;
    for (const rs of this.#inf.replicaSets.byIndex('namespace', ns)) {
      if (matchesLabelSelector(rs.spec?.selector, pod.metadata.labels)) this.queue.add(keyOf(rs));
    }
  }

  #report(key: string, e: unknown): void {
    const line = failureToLog(e);
    if (line !== undefined) this.#log(`replicaset ${key}: ${line}`);
  }

  run(): void {
    this.queue.run((key) => this.#sync(key));
  }

  async stop(): Promise<void> {
    for (const u of this.#unsubscribe) u();
    await this.queue.shutdown();
  }

  whenIdle(): Promise<void> {
    return this.queue.whenIdle(true);
  }

  async #sync(key: string): Promise<void> {
    const rs = this.#inf.replicaSets.get(key);
    if (rs === undefined) {
      this.expectations.forget(key);
      this.#throttle.forget(key);
      return;
    }
    if (!this.expectations.satisfied(key)) {
      // The informer has not caught up with our last writes; its events requeue us, this is a safety net.
      this.queue.addAfter(key, Math.min(1000, this.expectations.msUntilExpiry(key) + 1));
      return;
    }
    const ns = rs.metadata.namespace ?? '';
    const uid = rs.metadata.uid ?? '';
    const pods = [...this.#inf.pods.byIndex('controller', uid), ...this.#inf.pods.byIndex('orphan', ns)];
    const related = this.#relatedPods(rs, pods);
    const now = this.#now();
    const result = this.#throttle.measure(key, () => reconcileReplicaSet({
      replicaSet: rs, pods, now, relatedPods: related,
      ...(this.#burst !== undefined ? { burstReplicas: this.#burst } : {}),
    }));
    for (const e of result.events) this.#applier.record(e);
    await this.#applier.apply(result.actions, {
      parallel: isPodWrite,
      maxBatch: 64,
      onApplied: (action, written) => {
        const informer = isPodWrite(action) || (action.verb === 'patch' && action.target.kind === 'Pod') ? this.#inf.pods : this.#inf.replicaSets;
        this.expectations.expectWrite(key, informer, action, written);
      },
    });
    if (result.requeueAfterSeconds !== undefined) this.queue.addAfter(key, result.requeueAfterSeconds * 1000);
  }

  /** Pods of the ReplicaSets sharing this one's controller (the Deployment), this one's included. */
  #relatedPods(rs: ReplicaSet, own: readonly Pod[]): Pod[] {
    const owner = controllerRefOf(rs);
    if (owner === undefined) return [...own];
    const related: Pod[] = [];
    for (const sibling of this.#inf.replicaSets.byIndex('controller', owner.uid)) {
      related.push(...this.#inf.pods.byIndex('controller', sibling.metadata.uid ?? ''));
    }
    return related;
  }
}
