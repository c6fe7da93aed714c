// The DaemonSet controller shell: one work key per DaemonSet. Node changes that can change eligibility
// (added, deleted, labels, taints, schedulability, readiness) requeue every DaemonSet; pod changes requeue
// the owner. Pod creates/deletes run in concurrent slow-start batches behind expectations, as ReplicaSets.
import type { Pod } from '../api/types.ts';
import { actionKind, jsonEqual } from './core/actions.ts';
import { reconcileDaemonSet } from './core/daemonset.ts';
import { controllerRefOf } from './core/selectors.ts';
import { type ActionApplier, ControllerShell, type Logger, type SharedInformers, dependentHandlers, isPodWrite, keyOf, nodePlacementView, ownerKeys } from './runtime.ts';

export class DaemonSetController extends ControllerShell {
  readonly #inf: SharedInformers;
  readonly #now: () => number;

  constructor(inf: SharedInformers, applier: ActionApplier, log: Logger, options: { concurrency?: number; now?: () => number } = {}) {
    super(applier, log, { name: 'daemonset', concurrency: options.concurrency ?? 4 });
    this.#inf = inf;
    this.#now = options.now ?? Date.now;

    this.watch(inf.daemonSets, this.keyHandlers());
    this.watch(inf.pods, dependentHandlers((p) => this.#enqueueFor(p)));
    const all = (): void => {
      for (const ds of this.#inf.daemonSets.list()) this.queue.add(keyOf(ds));
    };
    this.watch(inf.nodes, {
      onAdd: all,
      onUpdate: (old, n) => {
        if (!jsonEqual(nodePlacementView(old), nodePlacementView(n))) all();
      },
      onDelete: all,
    });
  }

  #enqueueFor(pod: Pod): void {
    // A terminating orphan is adopted by nobody.
    if (controllerRefOf(pod) === undefined && pod.metadata.deletionTimestamp !== undefined) return;
    for (const key of ownerKeys(pod, 'DaemonSet', this.#inf.daemonSets)) this.queue.add(key);
  }

  protected async sync(key: string): Promise<void> {
    const ds = this.#inf.daemonSets.get(key);
    if (ds === undefined) {
      this.expectations.forget(key);
      return;
    }
    if (!this.expectationsMet(key)) return;
    const ns = ds.metadata.namespace ?? '';
    const pods = [...this.#inf.pods.byIndex('controller', ds.metadata.uid ?? ''), ...this.#inf.pods.byIndex('orphan', ns)];
    const result = reconcileDaemonSet({ daemonSet: ds, nodes: this.#inf.nodes.list(), pods, now: this.#now() });
    await this.applyResult(key, result, {
      parallel: isPodWrite,
      maxBatch: 64,
      expectIn: (action) => (actionKind(action) === 'Pod' ? this.#inf.pods : this.#inf.daemonSets),
    });
  }
}
