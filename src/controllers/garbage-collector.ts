// The garbage collector shell. It watches every kind the server serves (events excepted, as upstream) and
// keeps an ownership graph: uid -> object, owner uid -> dependent uids. Changes that can alter a decision
// mark objects "dirty":
//   * an object added, or whose ownerReferences, finalizers or deletionTimestamp changed;
//   * the dependents of an object that was deleted or started terminating;
//   * the terminating owners of an object that changed or went away (foreground deletion waits on them).
// A pass hands the pure `collectGarbage` core the dirty objects plus the context their decisions need
// (their owners; their dependents when they or an owner are terminating) and keeps only the actions and
// Events about dirty objects: the context objects are not complete enough to decide for themselves.
// Owners missing from the graph are confirmed absent with a live GET (matching uid) before a dependent is
// deleted, as upstream does for its "virtual" nodes. Actions on different objects are independent: they
// run concurrently, and a failed one only marks its object dirty again.
import { ApiError } from '../api/errors.ts';
import { RESOURCES, groupVersion, resourceByKind, type ResourceInfo } from '../api/resources.ts';
import type { KubeObject, OwnerReference } from '../api/types.ts';
import type { Informer, InformerFactory } from '../client/informer.ts';
import type { Action, DeleteAction } from './core/actions.ts';
import { jsonEqual } from './core/actions.ts';
import { collectGarbage } from './core/garbage-collector.ts';
import { type ActionApplier, ControllerShell, type Logger, forEachConcurrently } from './runtime.ts';

const KEY = 'graph';

/** Kinds the collector watches: everything listable and watchable but Events. */
export function collectedResources(): ResourceInfo[] {
  return RESOURCES.filter((r) => r.kind !== 'Event' && r.verbs.includes('list') && r.verbs.includes('watch'));
}

const targetKey = (apiVersion: string, kind: string, namespace: string | undefined, name: string): string =>
  `${apiVersion}|${kind}|${namespace ?? ''}|${name}`;

const isTerminating = (o: KubeObject): boolean => o.metadata.deletionTimestamp !== undefined && o.metadata.deletionTimestamp !== '';

export interface GarbageCollectorOptions {
  /** Dirty objects handled per pass (default 2000). */
  maxPerPass?: number;
  concurrency?: number;
}

export class GarbageCollectorController extends ControllerShell {
  readonly informers: Informer<KubeObject>[] = [];
  readonly #maxPerPass: number;
  readonly #concurrency: number;
  readonly #byUid = new Map<string, KubeObject>();
  readonly #dependents = new Map<string, Set<string>>();
  readonly #dirty = new Set<string>();
  #failures = 0;

  constructor(factory: InformerFactory, applier: ActionApplier, log: Logger, options: GarbageCollectorOptions = {}) {
    super(applier, log, { name: 'garbage-collector', concurrency: 1, singleKey: KEY });
    this.#maxPerPass = options.maxPerPass ?? 2000;
    this.#concurrency = options.concurrency ?? 32;
    for (const r of collectedResources()) {
      const informer = factory.informerFor<KubeObject>(r);
      this.informers.push(informer);
      const stamp = (o: KubeObject): KubeObject =>
        o.apiVersion !== undefined && o.kind !== undefined ? o : { ...o, apiVersion: groupVersion(r), kind: r.kind };
      this.watch(informer, {
        onAdd: (o) => this.#upsert(stamp(o)),
        onUpdate: (_old, o) => this.#upsert(stamp(o)),
        onDelete: (o) => this.#remove(stamp(o)),
      });
    }
  }

  /** Objects in the graph (for tests and metrics). */
  get size(): number {
    return this.#byUid.size;
  }

  #markDirty(uid: string): void {
    this.#dirty.add(uid);
    this.queue.add(KEY);
  }

  #markTerminatingOwners(refs: readonly OwnerReference[]): void {
    for (const ref of refs) {
      const owner = this.#byUid.get(ref.uid);
      if (owner !== undefined && isTerminating(owner)) this.#markDirty(ref.uid);
    }
  }

  #upsert(obj: KubeObject): void {
    const uid = obj.metadata.uid;
    if (uid === undefined || uid === '') return;
    const old = this.#byUid.get(uid);
    this.#byUid.set(uid, obj);
    const oldRefs = old?.metadata.ownerReferences ?? [];
    const refs = obj.metadata.ownerReferences ?? [];
    const refsChanged = old === undefined || !jsonEqual(oldRefs, refs);
    if (refsChanged) {
      for (const ref of oldRefs) this.#dependents.get(ref.uid)?.delete(uid);
      for (const ref of refs) {
        let set = this.#dependents.get(ref.uid);
        if (set === undefined) this.#dependents.set(ref.uid, (set = new Set()));
        set.add(uid);
      }
    }
    const lifecycleChanged = old === undefined || old.metadata.deletionTimestamp !== obj.metadata.deletionTimestamp ||
      !jsonEqual(old.metadata.finalizers ?? [], obj.metadata.finalizers ?? []);
    if ((refsChanged || lifecycleChanged) && (refs.length > 0 || isTerminating(obj))) this.#markDirty(uid);
    if (lifecycleChanged && isTerminating(obj)) for (const dep of this.#dependents.get(uid) ?? []) this.#markDirty(dep);
    if (refsChanged || lifecycleChanged) this.#markTerminatingOwners([...oldRefs, ...refs]);
  }

  #remove(obj: KubeObject): void {
    const uid = obj.metadata.uid;
    if (uid === undefined || uid === '') return;
    const known = this.#byUid.get(uid) ?? obj;
    this.#byUid.delete(uid);
    this.#dirty.delete(uid);
    const refs = known.metadata.ownerReferences ?? [];
    for (const ref of refs) {
      const set = this.#dependents.get(ref.uid);
      set?.delete(uid);
      if (set !== undefined && set.size === 0 && !this.#byUid.has(ref.uid)) this.#dependents.delete(ref.uid);
    }
    for (const dep of this.#dependents.get(uid) ?? []) this.#markDirty(dep);
    if ((this.#dependents.get(uid)?.size ?? 0) === 0) this.#dependents.delete(uid);
    this.#markTerminatingOwners(refs);
  }

  protected async sync(): Promise<void> {
    const batch: string[] = [];
    for (const uid of this.#dirty) {
      if (batch.length >= this.#maxPerPass) break;
      batch.push(uid);
    }
    for (const uid of batch) this.#dirty.delete(uid);
    if (this.#dirty.size > 0) this.queue.add(KEY);

    const focus = new Map<string, KubeObject>();
    for (const uid of batch) {
      const obj = this.#byUid.get(uid);
      if (obj !== undefined) focus.set(uid, obj);
    }
    if (focus.size === 0) return;
    const input = new Map<string, KubeObject>(focus);
    for (const [uid, obj] of focus) {
      let ownerTerminating = false;
      for (const ref of obj.metadata.ownerReferences ?? []) {
        const owner = this.#byUid.get(ref.uid);
        if (owner === undefined) continue;
        input.set(ref.uid, owner);
        if (isTerminating(owner)) ownerTerminating = true;
      }
      if (isTerminating(obj) || ownerTerminating) {
        for (const dep of this.#dependents.get(uid) ?? []) {
          const d = this.#byUid.get(dep);
          if (d !== undefined) input.set(dep, d);
        }
      }
    }
    const result = collectGarbage({ objects: [...input.values()] });
    const focusTargets = new Map<string, KubeObject>();
    for (const obj of focus.values()) focusTargets.set(targetKey(obj.apiVersion ?? '', obj.kind ?? '', obj.metadata.namespace, obj.metadata.name ?? ''), obj);
    const subjectOf = (a: Action): KubeObject | undefined => {
      if (a.verb === 'patch' || a.verb === 'delete') return focusTargets.get(targetKey(a.target.apiVersion, a.target.kind, a.target.namespace, a.target.name));
      return focusTargets.get(targetKey(a.object.apiVersion ?? '', a.object.kind ?? '', a.object.metadata.namespace, a.object.metadata.name ?? ''));
    };
    for (const e of result.events) if (e.involvedObject.uid !== undefined && focus.has(e.involvedObject.uid)) this.applier.record(e);
    const work = result.actions.map((a) => ({ action: a, subject: subjectOf(a) })).filter((w): w is { action: Action; subject: KubeObject } => w.subject !== undefined);

    let failed = 0;
    let firstError: unknown;
    await forEachConcurrently(work, this.#concurrency, async ({ action, subject }) => {
      try {
        await this.applier.applyOne(action, { verifyOwnersAbsent: (a) => this.#ownersAbsent(a, subject) });
      } catch (e) {
        failed++;
        firstError ??= e;
        if (subject.metadata.uid !== undefined && this.#byUid.has(subject.metadata.uid)) this.#dirty.add(subject.metadata.uid);
      }
    });
    if (failed > 0) {
      this.report(firstError);
      this.#failures = Math.min(this.#failures + 1, 10);
      this.queue.addAfter(KEY, this.queue.backoffFor(this.#failures));
    } else this.#failures = 0;
  }

  /** Each owner named by the delete is confirmed gone (404, or an object with another uid) by a live GET. */
  async #ownersAbsent(action: DeleteAction, dependent: KubeObject): Promise<boolean> {
    for (const target of action.verifyOwnersAbsent ?? []) {
      const r = resourceByKind(target.apiVersion, target.kind);
      if (r === undefined) return false; // A kind we cannot read: keep the dependent, as upstream.
      const uids = new Set((dependent.metadata.ownerReferences ?? [])
        .filter((ref) => ref.kind === target.kind && ref.name === target.name && ref.apiVersion === target.apiVersion).map((ref) => ref.uid));
      try {
        const live = await this.applier.client.get(r, r.namespaced ? target.namespace : undefined, target.name);
        if (live.metadata.uid !== undefined && uids.has(live.metadata.uid)) return false;
      } catch (e) {
        if (!(e instanceof ApiError && e.reason === 'NotFound')) throw e;
      }
    }
    return true;
  }
}
