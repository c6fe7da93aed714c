// The Deployment controller shell: one work key per Deployment. A pass waits for its expectations (its
// own ReplicaSet and status writes must be visible), gives the core the ReplicaSets of the namespace (it
// claims its own and needs every name to avoid hash collisions) and, for Recreate, the pods of its
// ReplicaSets, and applies the actions strictly in order (the core relies on it: status before annotations).
import type { Deployment, Pod, ReplicaSet } from '../api/types.ts';
import { actionKind } from './core/actions.ts';
import { reconcileDeployment } from './core/deployment.ts';
import { controllerRefOf } from './core/selectors.ts';
import { type ActionApplier, ControllerShell, type Logger, type SharedInformers, dependentHandlers, keyOf, ownerKeys } from './runtime.ts';

export interface DeploymentControllerOptions {
  concurrency?: number;
  now?: () => number;
}

export class DeploymentController extends ControllerShell {
  readonly #inf: SharedInformers;
  readonly #now: () => number;

  constructor(inf: SharedInformers, applier: ActionApplier, log: Logger, options: DeploymentControllerOptions = {}) {
    super(applier, log, { name: 'deployment', concurrency: options.concurrency ?? 4 });
    this.#inf = inf;
    this.#now = options.now ?? Date.now;

    this.watch(inf.deployments, this.keyHandlers());
    this.watch(inf.replicaSets, dependentHandlers((rs) => {
      for (const key of ownerKeys(rs, 'Deployment', this.#inf.deployments)) this.queue.add(key);
    }));
    // Recreate waits for the old pods to be gone: a deleted pod may unblock its Deployment.
    this.watch(inf.pods, { onDelete: (p) => this.#enqueueForPod(p) });
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

  #podsOf(d: Deployment, replicaSets: readonly ReplicaSet[]): Pod[] {
    if (d.spec?.strategy?.type !== 'Recreate') return [];
    const pods: Pod[] = [];
    for (const rs of replicaSets) {
      if (controllerRefOf(rs)?.uid !== d.metadata.uid) continue;
      pods.push(...this.#inf.pods.byIndex('controller', rs.metadata.uid ?? ''));
    }
    return pods;
  }

  protected async sync(key: string): Promise<void> {
    const d = this.#inf.deployments.get(key);
    if (d === undefined) {
      this.expectations.forget(key);
      return;
    }
    if (!this.expectationsMet(key)) return;
    const replicaSets = this.#inf.replicaSets.byIndex('namespace', d.metadata.namespace ?? '');
    const result = reconcileDeployment({ deployment: d, replicaSets, pods: this.#podsOf(d, replicaSets), now: this.#now() });
    await this.applyResult(key, result, {
      expectIn: (action) => (actionKind(action) === 'Deployment' ? this.#inf.deployments : this.#inf.replicaSets),
    });
  }
}
