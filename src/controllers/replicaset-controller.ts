// The ReplicaSet controller shell: one work key per ReplicaSet (`namespace/name`). A pass waits for its
// expectations (the pods it created or deleted last time must be visible in the informer), gives the core
// the pods it controls plus the namespace's orphans (candidates for adoption) and the pods of its sibling
// ReplicaSets (for the scale-down ranking), and applies the result: pod creates and deletes in concurrent
// slow-start batches, as upstream, then the status update.
import type { Pod, ReplicaSet } from '../api/types.ts';
import { reconcileReplicaSet } from './core/replicaset.ts';
import { controllerRefOf } from './core/selectors.ts';
import {
  type ActionApplier, ControllerShell, type Logger, PassThrottle, type SharedInformers, controllerChanged, dependentHandlers, isPodWrite, ownerKeys,
} from './runtime.ts';

export interface ReplicaSetControllerOptions {
  concurrency?: number;
  burstReplicas?: number;
  now?: () => number;
}

export class ReplicaSetController extends ControllerShell {
  /** Pod-triggered passes of big ReplicaSets are paced (status refreshes while a thousand pods turn Ready). */
  readonly #throttle = new PassThrottle({ budget: 0.15 });
  readonly #inf: SharedInformers;
  readonly #burst: number | undefined;
  readonly #now: () => number;

  constructor(inf: SharedInformers, applier: ActionApplier, log: Logger, options: ReplicaSetControllerOptions = {}) {
    super(applier, log, { name: 'replicaset', concurrency: options.concurrency ?? 4 });
    this.#inf = inf;
    this.#burst = options.burstReplicas;
    this.#now = options.now ?? Date.now;

    this.watch(inf.replicaSets, this.keyHandlers());
    // A relabelled pod may leave the selector of the ReplicaSet it matched.
    this.watch(inf.pods, dependentHandlers((p) => this.#enqueueFor(p),
      (old, p) => controllerChanged(old, p) || old.metadata.labels !== p.metadata.labels));
  }

  /** The ReplicaSet controlling `pod` (paced), or for an orphan every ReplicaSet of its namespace that selects it. */
  #enqueueFor(pod: Pod): void {
    const controlled = controllerRefOf(pod) !== undefined;
    // A terminating orphan is adopted by nobody.
    if (!controlled && pod.metadata.deletionTimestamp !== undefined) return;
    for (const key of ownerKeys(pod, 'ReplicaSet', this.#inf.replicaSets)) {
      if (controlled) this.queue.addAfter(key, this.#throttle.delayFor(key));
      else this.queue.add(key);
    }
  }

  protected async sync(key: string): Promise<void> {
    const rs = this.#inf.replicaSets.get(key);
    if (rs === undefined) {
      this.expectations.forget(key);
      this.#throttle.forget(key);
      return;
    }
    if (!this.expectationsMet(key)) return;
    const ns = rs.metadata.namespace ?? '';
    const uid = rs.metadata.uid ?? '';
    const pods = [...this.#inf.pods.byIndex('controller', uid), ...this.#inf.pods.byIndex('orphan', ns)];
    const related = this.#relatedPods(rs, pods);
    const now = this.#now();
    const result = this.#throttle.measure(key, () => reconcileReplicaSet({
      replicaSet: rs, pods, now, relatedPods: related,
      ...(this.#burst !== undefined ? { burstReplicas: this.#burst } : {}),
    }));
    await this.applyResult(key, result, {
      parallel: isPodWrite,
      maxBatch: 64,
      expectIn: (action) => (isPodWrite(action) || (action.verb === 'patch' && action.target.kind === 'Pod') ? this.#inf.pods : this.#inf.replicaSets),
    });
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
