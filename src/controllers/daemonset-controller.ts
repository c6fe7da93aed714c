// The DaemonSet controller shell: one work key per DaemonSet. Node changes that can change eligibility
// (added, deleted, labels, taints, schedulability, readiness) requeue every DaemonSet; pod changes requeue
// the owner. Pod creates/deletes run in concurrent slow-start batches behind expectations, as ReplicaSets.
import type { DaemonSet, Node, Pod } from '../api/types.ts';
import { WorkQueue } from '../client/work-queue.ts';
import { type Action, jsonEqual } from './core/actions.ts';
import { reconcileDaemonSet } from './core/daemonset.ts';
import { controllerRefOf, matchesLabelSelector } from './core/selectors.ts';
import { type ActionApplier, type Controller, Expectations, type Logger, type SharedInformers, failureToLog, keyOf } from './runtime.ts';

const isPodWrite = (a: Action): boolean =>
  (a.verb === 'create' && a.object.kind === 'Pod') || (a.verb === 'delete' && a.target.kind === 'Pod');

function eligibilityView(node: Node): unknown {
  return {
    labels: node.metadata.labels ?? {},
    taints: node.spec?.taints ?? [],
    unschedulable: node.spec?.unschedulable === true,
    ready: (node.status?.conditions ?? []).find((c) => c.type === 'Ready')?.status,
  };
}

export class DaemonSetController implements Controller {
  readonly name = 'daemonset';
  readonly queue: WorkQueue<string>;
  readonly expectations = new Expectations();
  readonly #inf: SharedInformers;
  readonly #applier: ActionApplier;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(inf: SharedInformers, applier: ActionApplier, log: Logger, options: { concurrency?: number; now?: () => number } = {}) {
    this.#inf = inf;
    this.#applier = applier;
    this.#log = log;
    this.#now = options.now ?? Date.now;
    this.queue = new WorkQueue<string>({ concurrency: options.concurrency ?? 4, maxDelayMs: 10_000, onError: (k, e) => this.#report(k, e) });

    this.#unsubscribe.push(inf.daemonSets.addEventHandler({
      onAdd: (ds) => this.queue.add(keyOf(ds)),
      onUpdate: (_o, ds) => this.queue.add(keyOf(ds)),
      onDelete: (ds) => {
        this.expectations.forget(keyOf(ds));
        this.queue.add(keyOf(ds));
      },
    }));
    this.#unsubscribe.push(inf.pods.addEventHandler({
      onAdd: (p) => this.#enqueueFor(p),
      onUpdate: (old, p) => {
        if (controllerRefOf(old)?.uid !== controllerRefOf(p)?.uid) this.#enqueueFor(old);
        this.#enqueueFor(p);
      },
      onDelete: (p) => this.#enqueueFor(p),
    }));
    const all = (): void => {
      for (const ds of this.#inf.daemonSets.list()) this.queue.add(keyOf(ds));
    };
    this.#unsubscribe.push(inf.nodes.addEventHandler({
      onAdd: all,
      onUpdate: (old, n) => {
        if (!jsonEqual(eligibilityView(old), eligibilityView(n))) all();
      },
      onDelete: all,
    }));
  }

  #enqueueFor(pod: Pod): void {
    const ref = controllerRefOf(pod);
    const ns = pod.metadata.namespace ?? '';
    if (ref !== undefined) {
      if (ref.kind === 'DaemonSet') this.queue.add(`${ns}/${ref.name}`);
      return;
    }
    if (pod.metadata.deletionTimestamp !== undefined) return;
    for (const ds of this.#inf.daemonSets.byIndex('namespace', ns)) {
      if (matchesLabelSelector(ds.spec?.selector, pod.metadata.labels)) this.queue.add(keyOf(ds));
    }
  }

  #report(key: string, e: unknown): void {
    const line = failureToLog(e);
    if (line !== undefined) this.#log(`daemonset ${key}: ${line}`);
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
    const ds: DaemonSet | undefined = this.#inf.daemonSets.get(key);
    if (ds === undefined) {
      this.expectations.forget(key);
      return;
    }
    if (!this.expectations.satisfied(key)) {
      this.queue.addAfter(key, Math.min(1000, this.expectations.msUntilExpiry(key) + 1));
      return;
    }
    const ns = ds.metadata.namespace ?? '';
    const pods = [...this.#inf.pods.byIndex('controller', ds.metadata.uid ?? ''), ...this.#inf.pods.byIndex('orphan', ns)];
    const result = reconcileDaemonSet({ daemonSet: ds, nodes: this.#inf.nodes.list(), pods, now: this.#now() });
    for (const e of result.events) this.#applier.record(e);
    await this.#applier.apply(result.actions, {
      parallel: isPodWrite,
      maxBatch: 64,
      onApplied: (action, written) => {
        const kind = action.verb === 'create' || action.verb === 'update' ? action.object.kind : action.target.kind;
        this.expectations.expectWrite(key, kind === 'Pod' ? this.#inf.pods : this.#inf.daemonSets, action, written);
      },
    });
    if (result.requeueAfterSeconds !== undefined) this.queue.addAfter(key, result.requeueAfterSeconds * 1000);
  }
}
