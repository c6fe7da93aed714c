// The namespace controller shell: for a Namespace being deleted, list what is left in it (live, every
// namespaced kind, as upstream's namespaced-content deleter does through discovery), let the core decide
// (delete everything, report progress in conditions, finalize once empty) and apply: deletes concurrently,
// then the status or finalize write. It runs again after the core's requeue delay, and as soon as an
// object of a terminating namespace is deleted (seen through any shared informer).
import type { KubeObject, Namespace } from '../api/types.ts';
import { RESOURCES, groupVersion } from '../api/resources.ts';
import type { Informer } from '../client/informer.ts';
import { WorkQueue } from '../client/work-queue.ts';
import type { Action } from './core/actions.ts';
import { reconcileNamespace } from './core/namespace.ts';
import { type ActionApplier, type Controller, Expectations, type Logger, type SharedInformers, failureToLog } from './runtime.ts';

const isTerminating = (ns: Namespace | undefined): boolean => ns?.metadata.deletionTimestamp !== undefined;

export class NamespaceController implements Controller {
  readonly name = 'namespace';
  readonly queue: WorkQueue<string>;
  readonly expectations = new Expectations();
  readonly #inf: SharedInformers;
  readonly #applier: ActionApplier;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(inf: SharedInformers, contentInformers: readonly Informer<KubeObject>[], applier: ActionApplier, log: Logger, options: { now?: () => number } = {}) {
    this.#inf = inf;
    this.#applier = applier;
    this.#log = log;
    this.#now = options.now ?? Date.now;
    this.queue = new WorkQueue<string>({ concurrency: 2, maxDelayMs: 10_000, onError: (k, e) => this.#report(k, e) });
    this.#unsubscribe.push(inf.namespaces.addEventHandler({
      onAdd: (ns) => {
        if (isTerminating(ns)) this.queue.add(ns.metadata.name ?? '');
      },
      onUpdate: (_o, ns) => {
        if (isTerminating(ns)) this.queue.add(ns.metadata.name ?? '');
      },
    }));
    for (const informer of new Set(contentInformers)) {
      this.#unsubscribe.push(informer.addEventHandler({
        onDelete: (o) => {
          const ns = o.metadata.namespace;
          if (ns !== undefined && ns !== '' && isTerminating(inf.namespaces.get(ns))) this.queue.addAfter(ns, 50);
        },
      }));
    }
  }

  #report(key: string, e: unknown): void {
    const line = failureToLog(e);
    if (line !== undefined) this.#log(`namespace ${key}: ${line}`);
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

  async #contents(namespace: string): Promise<KubeObject[]> {
    const client = this.#applier.client;
    const lists = await Promise.all(RESOURCES.filter((r) => r.namespaced && r.verbs.includes('list')).map(async (r) => {
      const list = await client.listAll(r, namespace);
      return list.items.map((o) => (o.apiVersion !== undefined && o.kind !== undefined ? o : { ...o, apiVersion: groupVersion(r), kind: r.kind }));
    }));
    return lists.flat();
  }

  async #sync(name: string): Promise<void> {
    const ns = this.#inf.namespaces.get(name);
    if (ns === undefined || !isTerminating(ns)) {
      this.expectations.forget(name);
      return;
    }
    if (!this.expectations.satisfied(name)) {
      this.queue.addAfter(name, Math.min(1000, this.expectations.msUntilExpiry(name) + 1));
      return;
    }
    const contents = await this.#contents(name);
    const result = reconcileNamespace({ namespace: ns, contents, now: this.#now() });
    for (const e of result.events) this.#applier.record(e);
    await this.#applier.apply(result.actions, {
      parallel: (a: Action) => a.verb === 'delete',
      maxBatch: 64,
      onApplied: (a, written) => {
        if (a.verb === 'update') this.expectations.expectWrite(name, this.#inf.namespaces, a, written);
      },
    });
    if (result.requeueAfterSeconds !== undefined) this.queue.addAfter(name, result.requeueAfterSeconds * 1000);
  }
}
