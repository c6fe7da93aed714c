// The namespace controller shell: for a Namespace being deleted, list what is left in it (live, every
// namespaced kind, as upstream's namespaced-content deleter does through discovery), let the core decide
// (delete everything, report progress in conditions, finalize once empty) and apply: deletes concurrently,
// then the status or finalize write. It runs again after the core's requeue delay, and as soon as an
// object of a terminating namespace is deleted (seen through any shared informer).
import type { KubeObject, Namespace } from '../api/types.ts';
import { RESOURCES, groupVersion } from '../api/resources.ts';
import type { Informer } from '../client/informer.ts';
import type { Action } from './core/actions.ts';
import { reconcileNamespace } from './core/namespace.ts';
import { type ActionApplier, ControllerShell, type Logger, type SharedInformers } from './runtime.ts';

const isTerminating = (ns: Namespace | undefined): boolean => ns?.metadata.deletionTimestamp !== undefined;

export class NamespaceController extends ControllerShell {
  readonly #inf: SharedInformers;
  readonly #now: () => number;

  constructor(inf: SharedInformers, contentInformers: readonly Informer<KubeObject>[], applier: ActionApplier, log: Logger, options: { now?: () => number } = {}) {
    super(applier, log, { name: 'namespace', concurrency: 2 });
    this.#inf = inf;
    this.#now = options.now ?? Date.now;
    this.watch(inf.namespaces, {
      onAdd: (ns) => {
        if (isTerminating(ns)) this.queue.add(ns.metadata.name ?? '');
      },
      onUpdate: (_o, ns) => {
        if (isTerminating(ns)) this.queue.add(ns.metadata.name ?? '');
      },
    });
    for (const informer of new Set(contentInformers)) {
      this.watch(informer, {
        onDelete: (o) => {
          const ns = o.metadata.namespace;
          if (ns !== undefined && ns !== '' && isTerminating(inf.namespaces.get(ns))) this.queue.addAfter(ns, 50);
        },
      });
    }
  }

  async #contents(namespace: string): Promise<KubeObject[]> {
    const client = this.applier.client;
    const lists = await Promise.all(RESOURCES.filter((r) => r.namespaced && r.verbs.includes('list')).map(async (r) => {
      const list = await client.listAll(r, namespace);
      return list.items.map((o) => (o.apiVersion !== undefined && o.kind !== undefined ? o : { ...o, apiVersion: groupVersion(r), kind: r.kind }));
    }));
    return lists.flat();
  }

  protected async sync(name: string): Promise<void> {
    const ns = this.#inf.namespaces.get(name);
    if (ns === undefined || !isTerminating(ns)) {
      this.expectations.forget(name);
      return;
    }
    if (!this.expectationsMet(name)) return;
    const contents = await this.#contents(name);
    const result = reconcileNamespace({ namespace: ns, contents, now: this.#now() });
    await this.applyResult(name, result, {
      parallel: (a: Action) => a.verb === 'delete',
      maxBatch: 64,
      expectIn: (a) => (a.verb === 'update' ? this.#inf.namespaces : undefined),
    });
  }
}
