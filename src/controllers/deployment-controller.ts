// The Deployment controller shell: one work key per Deployment. A pass waits for its expectations (its
// own ReplicaSet and status writes must be visible), gives the core the ReplicaSets of the namespace (it
// claims its own and needs every name to avoid hash collisions) and, for Recreate, the pods of its
// ReplicaSets, and applies the actions strictly in order (the core relies on it: status before annotations).
import type { Deployment, Pod, ReplicaSet } from '../api/types.ts';
import { WorkQueue } from '../client/work-queue.ts';
import { reconcileDeployment } from './core/deployment.ts';
import { controllerRefOf, matchesLabelSelector } from './core/selectors.ts';
import { type ActionApplier, type Controller, Expectations, type Logger, type SharedInformers, failureToLog, keyOf } from './runtime.ts';

export interface DeploymentControllerOptions {
  concurrency?: number;
  now?: () => number;
}

export class DeploymentController implements Controller {
  readonly name = 'deployment';
  readonly queue: WorkQueue<string>;
  readonly expectations = new Expectations();
  readonly #inf: SharedInformers;
  readonly #applier: ActionApplier;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(inf: SharedInformers, applier: ActionApplier, log: Logger, options: DeploymentControllerOptions = {}) {
    this.#inf = inf;
    this.#applier = applier;
    this.#log = log;
    this.#now = options.now ?? Date.now;
    this.queue = new WorkQueue<string>({ concurrency: options.concurrency ?? 4, maxDelayMs: 10_000, onError: (k, e) => this.#report(k, e) });

    this.#unsubscribe.push(inf.deployments.addEventHandler({
      onAdd: (d) => this.queue.add(keyOf(d)),
      onUpdate: (_o, d) => this.queue.add(keyOf(d)),
      onDelete: (d) => {
        this.expectations.forget(keyOf(d));
        this.queue.add(keyOf(d));
      },
    }));
    this.#unsubscribe.push(inf.replicaSets.addEventHandler({
      onAdd: (rs) => this.#enqueueFor(rs),
      onUpdate: (old, rs) => {
        if (controllerRefOf(old)?.uid !== controllerRefOf(rs)?.uid) this.#enqueueFor(old);
        this.#enqueueFor(rs);
      },
      onDelete: (rs) => this.#enqueueFor(rs),
    }));
    // Recreate waits for the old pods to be gone: a deleted pod may unblock its Deployment.
    this.#unsubscribe.push(inf.pods.addEventHandler({
      onDelete: (p) => this.#enqueueForPod(p),
    }));
  }

  #enqueueFor(rs: ReplicaSet): void {
    const ref = controllerRefOf(rs);
    const ns = rs.metadata.namespace ?? '';
    if (ref !== undefined) {
      if (ref.kind === 'Deployment') this.queue.add(`${ns}/${ref.name}`);
      return;
    }
    for (const d of this.#inf.deployments.byIndex('namespace', ns)) {
      if (matchesLabelSelector(d.spec?.selector, rs.metadata.labels)) this.queue.add(keyOf(d));
    }
  }

  #enqueueForPod(pod: Pod): void {
    const ref = controllerRefOf(pod);
    if (ref?.kind !== 'ReplicaSet') return;
    const rs = this.#inf.replicaSets.getByName(pod.metadata.namespace, ref.name);
    const owner = rs !== undefined ? controllerRefOf(rs) : undefined;
    if (owner?.kind === 'Deployment') {
      const d = this.#inf.deployments.getByName(pod.metadata.namespace, owner.name);
      if (d?.spec?.strategy?.type === 'Recreate') this.queue.add(keyOf(d));
    }
  }

  #report(key: string, e: unknown): void {
    const line = failureToLog(e);
    if (line !== undefined) this.#log(`deployment ${key}: ${line}`);
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

  #podsOf(d: Deployment, replicaSets: readonly ReplicaSet[]): Pod[] {
    if (d.spec?.strategy?.type !== 'Recreate') return [];
    const pods: Pod[] = [];
    for (const rs of replicaSets) {
      if (controllerRefOf(rs)?.uid !== d.metadata.uid) continue;
      pods.push(...this.#inf.pods.byIndex('controller', rs.metadata.uid ?? ''));
    }
    return pods;
  }

  async #sync(key: string): Promise<void> {
    const d = this.#inf.deployments.get(key);
    if (d === undefined) {
      this.expectations.forget(key);
      return;
    }
    if (!this.expectations.satisfied(key)) {
      this.queue.addAfter(key, Math.min(1000, this.expectations.msUntilExpiry(key) + 1));
      return;
    }
    const replicaSets = this.#inf.replicaSets.byIndex('namespace', d.metadata.namespace ?? '');
    const result = reconcileDeployment({ deployment: d, replicaSets, pods: this.#podsOf(d, replicaSets), now: this.#now() });
    for (const e of result.events) this.#applier.record(e);
    await this.#applier.apply(result.actions, {
      onApplied: (action, written) => {
        const kind = action.verb === 'create' || action.verb === 'update' ? action.object.kind : action.target.kind;
        this.expectations.expectWrite(key, kind === 'Deployment' ? this.#inf.deployments : this.#inf.replicaSets, action, written);
      },
    });
    if (result.requeueAfterSeconds !== undefined) this.queue.addAfter(key, result.requeueAfterSeconds * 1000);
  }
}
