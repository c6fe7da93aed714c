// What every controller shell shares: applying a reconciler's actions through the client (in order, stop at
// the first failure, concurrent slow-start batches where order does not matter), recording Events (bounded,
// deduplicated, never blocking a controller), expectations (wait until the informer cache has seen our own
// writes before the next pass), the shared informers with their indexes, and the scaffolding of a shell
// (`ControllerShell`: work queue, failure logging, subscriptions, lifecycle; event-handler and pass helpers).
import { ApiError } from '../api/errors.ts';
import { resourceByKind, resourceByPlural, type ResourceInfo } from '../api/resources.ts';
import type { DaemonSet, Deployment, EndpointSlice, Endpoints, KubeObject, LabelSelector, Namespace, Node, Pod, ReplicaSet, Service } from '../api/types.ts';
import { isTransportError } from '../client/client-errors.ts';
import type { EventHandlers, Informer, InformerFactory } from '../client/informer.ts';
import type { KubeClient } from '../client/kube-client.ts';
import { indexByNamespace, indexByNodeName, type IndexFunc } from '../client/object-cache.ts';
import { WorkQueue } from '../client/work-queue.ts';
import { type Action, type ActionEvent, type DeleteAction, type EventRecord, type ReconcileResult, actionKind } from './core/actions.ts';
import { controllerRefOf, labelSelectorMatcher } from './core/selectors.ts';

export type Logger = (line: string) => void;

/** The resource of an apiVersion/kind, or an error naming it. */
export function resourceFor(apiVersion: string, kind: string): ResourceInfo {
  const r = resourceByKind(apiVersion, kind);
  if (r === undefined) throw new Error(`no served resource for ${apiVersion} ${kind}`);
  return r;
}

export function mustPlural(group: string, plural: string): ResourceInfo {
  const r = resourceByPlural(group, 'v1', plural);
  if (r === undefined) throw new Error(`the resource registry has no ${plural}`);
  return r;
}

export const RESOURCE = {
  pods: mustPlural('', 'pods'),
  nodes: mustPlural('', 'nodes'),
  services: mustPlural('', 'services'),
  endpoints: mustPlural('', 'endpoints'),
  namespaces: mustPlural('', 'namespaces'),
  events: mustPlural('', 'events'),
  endpointSlices: mustPlural('discovery.k8s.io', 'endpointslices'),
  replicaSets: mustPlural('apps', 'replicasets'),
  deployments: mustPlural('apps', 'deployments'),
  daemonSets: mustPlural('apps', 'daemonsets'),
};

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Failures that are part of normal level-triggered operation (stale cache, races): retried without noise. */
export function isRoutineFailure(e: unknown): boolean {
  return e instanceof ApiError && (e.reason === 'Conflict' || e.reason === 'NotFound' || e.reason === 'AlreadyExists' || isNamespaceTerminating(e));
}

/** A create refused because its namespace is being deleted (upstream's NamespaceTerminatingCause). */
export function isNamespaceTerminating(e: unknown): boolean {
  return e instanceof ApiError && e.reason === 'Forbidden' && (e.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating');
}

/** A write refused because the namespace is terminating or gone (Events, creations during deletion). */
function isNamespaceGoneError(e: unknown): boolean {
  return e instanceof ApiError && (e.reason === 'Forbidden' || e.reason === 'NotFound');
}

const nsOf = (obj: KubeObject): string | undefined => obj.metadata.namespace || undefined;

// ------------------------------------------------------------------------------------------------- events

export interface EventRecorderOptions {
  /** Events waiting to be written; beyond this they are dropped, as client-go's broadcaster does. */
  maxPending?: number;
  concurrency?: number;
  /** A repeat of the same event within this window bumps the first one's count. */
  correlationWindowMs?: number;
  /**
   * Spam filter, as client-go's EventSourceObjectSpamFilter: per source, object, type and reason a token
   * bucket of `spamBurst` (25) refilled every `spamRefillMs` (5 min). Beyond it events are dropped.
   */
  spamBurst?: number;
  spamRefillMs?: number;
  now?: () => number;
}

interface Recorded {
  namespace: string;
  name: string;
  count: number;
  at: number;
}

/**
 * Records Events without ever blocking a controller: a bounded buffer drained by a few writers. The same
 * event (source, object, type, reason, message) repeated within the window updates the first one's
 * `count` and `lastTimestamp` instead of creating another, as client-go's event correlator does.
 */
export class EventRecorder {
  readonly #client: KubeClient;
  readonly #log: Logger;
  readonly #maxPending: number;
  readonly #concurrency: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  #pending: EventRecord[] = [];
  #running = 0;
  #stopped = false;
  #dropped = 0;
  #written = 0;
  #filtered = 0;
  readonly #seen = new Map<string, Recorded>();
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #spamBurst: number;
  readonly #spamRefillMs: number;
  #idle: (() => void)[] = [];

  constructor(client: KubeClient, log: Logger, options: EventRecorderOptions = {}) {
    this.#client = client;
    this.#log = log;
    this.#maxPending = options.maxPending ?? 1000;
    // One writer, as client-go's broadcaster: Events never compete with the controllers' own writes.
    this.#concurrency = options.concurrency ?? 1;
    this.#windowMs = options.correlationWindowMs ?? 10 * 60_000;
    this.#spamBurst = options.spamBurst ?? 25;
    this.#spamRefillMs = options.spamRefillMs ?? 5 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  get stats(): { written: number; dropped: number; filtered: number; pending: number } {
    return { written: this.#written, dropped: this.#dropped, filtered: this.#filtered, pending: this.#pending.length };
  }

  /** The spam filter: false when this source/object/type/reason has used up its tokens. */
  #admit(e: EventRecord): boolean {
    const ref = e.involvedObject;
    const key = [e.source, ref.kind, ref.namespace, ref.name, ref.uid, e.type, e.reason].join('\u0000');
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: this.#spamBurst, at: now };
      this.#buckets.set(key, bucket);
      if (this.#buckets.size > 16384) {
        const oldest = this.#buckets.keys().next();
        if (oldest.done !== true) this.#buckets.delete(oldest.value);
      }
    }
    const refill = Math.floor((now - bucket.at) / this.#spamRefillMs);
    if (refill > 0) {
      bucket.tokens = Math.min(this.#spamBurst, bucket.tokens + refill);
      bucket.at += refill * this.#spamRefillMs;
    }
    if (bucket.tokens <= 0) return false;
    bucket.tokens--;
    return true;
  }

  record(e: EventRecord): void {
    if (this.#stopped) return;
    if (!this.#admit(e)) {
      this.#filtered++;
      return;
    }
    if (this.#pending.length >= this.#maxPending) {
      this.#dropped++;
      return;
    }
    this.#pending.push(e);
    this.#pump();
  }

  /** Resolves once nothing is pending or being written (tests). */
  whenIdle(): Promise<void> {
    if (this.#pending.length === 0 && this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#pending = [];
    await this.whenIdle();
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#pending.length > 0) {
      const next = this.#pending.shift() as EventRecord;
      this.#running++;
      void this.#write(next).finally(() => {
        this.#running--;
        this.#pump();
        if (this.#running === 0 && this.#pending.length === 0) for (const w of this.#idle.splice(0)) w();
      });
    }
  }

  async #write(e: EventRecord): Promise<void> {
    const ref = e.involvedObject;
    const key = [e.source, ref.kind, ref.namespace, ref.name, ref.uid, e.type, e.reason, e.message].join('\u0000');
    const now = this.#now();
    const previous = this.#seen.get(key);
    try {
      if (previous !== undefined && now - previous.at < this.#windowMs) {
        previous.count++;
        previous.at = now;
        try {
          await this.#client.patch(RESOURCE.events, previous.namespace, previous.name,
            { count: previous.count, lastTimestamp: new Date(now).toISOString().replace(/\.\d+Z$/, 'Z') }, { type: 'merge' });
          this.#written++;
          return;
        } catch (err) {
          if (!(err instanceof ApiError && err.reason === 'NotFound')) throw err;
          this.#seen.delete(key);
        }
      }
      const created = await this.#client.createEvent(ref, { type: e.type, reason: e.reason, message: e.message, component: e.source });
      this.#written++;
      this.#seen.set(key, { namespace: created.metadata.namespace ?? 'default', name: created.metadata.name ?? '', count: 1, at: now });
      if (this.#seen.size > 8192) {
        const oldest = this.#seen.keys().next();
        if (oldest.done !== true) this.#seen.delete(oldest.value);
      }
    } catch (err) {
      // Events in a namespace being deleted are refused; a stopped client fails: neither matters.
      if (isNamespaceGoneError(err) || this.#stopped) return;
      this.#log(`events: could not record ${e.reason} for ${ref.kind ?? ''} ${ref.namespace ?? ''}/${ref.name ?? ''}: ${errorMessage(err)}`);
    }
  }
}

// ------------------------------------------------------------------------------------------- expectations

/** What expectations read of an informer. */
export interface CacheView {
  readonly resourceVersion: string;
  get(key: string): KubeObject | undefined;
}

type Expected =
  | { kind: 'revision'; informer: CacheView; revision: number }
  | { kind: 'gone'; informer: CacheView; key: string; uid: string | undefined };

/**
 * Upstream's ControllerExpectations, keyed by the controller's work key: after a pass writes (creates,
 * updates, deletes), the next pass waits until the informers have caught up with those writes, so it never
 * acts on a cache that does not show them yet (which would create pods twice or hit conflicts). A write
 * is seen when the informer's resourceVersion reaches the revision the server returned; a delete when the
 * object is gone from the cache, recreated (another uid) or terminating. Expectations expire (default 30 s)
 * so a lost event cannot wedge a controller.
 */
export class Expectations {
  readonly #pending = new Map<string, { items: Expected[]; deadline: number }>();
  readonly #timeoutMs: number;
  readonly #now: () => number;

  constructor(timeoutMs = 30_000, now: () => number = Date.now) {
    this.#timeoutMs = timeoutMs;
    this.#now = now;
  }

  #entry(owner: string): { items: Expected[]; deadline: number } {
    let entry = this.#pending.get(owner);
    if (entry === undefined) this.#pending.set(owner, (entry = { items: [], deadline: 0 }));
    entry.deadline = this.#now() + this.#timeoutMs;
    return entry;
  }

  /** The informer must reach `resourceVersion` (the revision of a write we made). */
  expectRevision(owner: string, informer: CacheView, resourceVersion: string | undefined): void {
    const revision = Number(resourceVersion);
    if (resourceVersion === undefined || !Number.isFinite(revision)) return;
    this.#entry(owner).items.push({ kind: 'revision', informer, revision });
  }

  /** The object `key` (uid) must be gone from the informer's cache, or terminating. */
  expectGone(owner: string, informer: CacheView, key: string, uid: string | undefined): void {
    this.#entry(owner).items.push({ kind: 'gone', informer, key, uid });
  }

  /** After a write: the right expectation for what the server returned. */
  expectWrite(owner: string, informer: CacheView, action: Action, result: KubeObject | undefined): void {
    if (action.verb === 'delete') {
      const ns = action.target.namespace;
      const key = ns !== undefined && ns !== '' ? `${ns}/${action.target.name}` : action.target.name;
      if (result?.metadata.deletionTimestamp !== undefined) this.expectRevision(owner, informer, result.metadata.resourceVersion);
      else this.expectGone(owner, informer, key, action.uid ?? result?.metadata.uid);
      return;
    }
    if (result !== undefined) this.expectRevision(owner, informer, result.metadata.resourceVersion);
  }

  static #met(e: Expected): boolean {
    if (e.kind === 'revision') {
      const seen = Number(e.informer.resourceVersion);
      return !Number.isFinite(seen) || seen >= e.revision;
    }
    const cached = e.informer.get(e.key);
    return cached === undefined || (e.uid !== undefined && cached.metadata.uid !== e.uid) || cached.metadata.deletionTimestamp !== undefined;
  }

  /** True when every expectation of `owner` is met (or expired); met ones are dropped. */
  satisfied(owner: string): boolean {
    const entry = this.#pending.get(owner);
    if (entry === undefined) return true;
    if (this.#now() >= entry.deadline) {
      this.#pending.delete(owner);
      return true;
    }
    entry.items = entry.items.filter((e) => !Expectations.#met(e));
    if (entry.items.length === 0) {
      this.#pending.delete(owner);
      return true;
    }
    return false;
  }

  /** How long until `owner`'s expectations expire (0 when none). */
  msUntilExpiry(owner: string): number {
    const entry = this.#pending.get(owner);
    return entry === undefined ? 0 : Math.max(0, entry.deadline - this.#now());
  }

  forget(owner: string): void {
    this.#pending.delete(owner);
  }
}

// ----------------------------------------------------------------------------------------------- applier

export interface ApplyOptions {
  /** Consecutive actions for which this is true run concurrently in slow-start batches (1, 2, 4, ...). */
  parallel?: (action: Action) => boolean;
  /** Largest concurrent batch (default 250). */
  maxBatch?: number;
  /** Told about every successful write and what the server returned (for expectations). */
  onApplied?: (action: Action, result: KubeObject | undefined) => void;
  /**
   * Deletes that carry verifyOwnersAbsent: resolves true when every listed owner is confirmed absent with a
   * live read. Default: a GET of each owner by name; 404 means absent.
   */
  verifyOwnersAbsent?: (action: DeleteAction) => Promise<boolean>;
}

const SKIPPED: unique symbol = Symbol('skipped');

/** Applies reconciler actions through the client and records their Events. */
export class ActionApplier {
  readonly #client: KubeClient;
  readonly #recorder: EventRecorder;

  constructor(client: KubeClient, recorder: EventRecorder) {
    this.#client = client;
    this.#recorder = recorder;
  }

  get client(): KubeClient {
    return this.#client;
  }

  /** Records an Event (a reconciler's `events`: observations made now, independent of the writes). */
  record(e: EventRecord): void {
    this.#recorder.record(e);
  }

  /**
   * Applies `actions` in order and throws the first failure (after its concurrent batch settles); later
   * actions are skipped: the caller requeues and the reconciler decides again from fresh state.
   */
  async apply(actions: readonly Action[], options: ApplyOptions = {}): Promise<void> {
    const parallel = options.parallel ?? (() => false);
    const maxBatch = options.maxBatch ?? 250;
    let i = 0;
    while (i < actions.length) {
      const first = actions[i] as Action;
      if (!parallel(first)) {
        await this.applyOne(first, options);
        i++;
        continue;
      }
      let end = i;
      while (end < actions.length && parallel(actions[end] as Action)) end++;
      let batch = 1;
      while (i < end) {
        const slice = actions.slice(i, Math.min(end, i + batch));
        const settled = await Promise.allSettled(slice.map((a) => this.applyOne(a, options)));
        const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
        if (failed !== undefined) throw failed.reason;
        i += slice.length;
        batch = Math.min(batch * 2, maxBatch);
      }
    }
  }

  /** Applies one action; resolves with what the server returned (undefined for Status answers). */
  async applyOne(action: Action, options: ApplyOptions = {}): Promise<KubeObject | undefined> {
    let result: KubeObject | undefined | typeof SKIPPED;
    try {
      result = await this.#write(action, options);
    } catch (e) {
      if (action.onFailure !== undefined) this.#recordOutcome(action.onFailure, errorMessage(e));
      throw e;
    }
    if (result === SKIPPED) return undefined;
    options.onApplied?.(action, result);
    if (action.onSuccess !== undefined) this.#recordOutcome(action.onSuccess, result?.metadata.name ?? '');
    return result;
  }

  #recordOutcome(e: ActionEvent, appendix: string): void {
    const { append, ...record } = e;
    this.#recorder.record(append === undefined ? record : { ...record, message: record.message + appendix });
  }

  /** Writes made, by `verb kind[/subresource]` (metrics). */
  readonly writes = new Map<string, number>();

  async #write(action: Action, options: ApplyOptions): Promise<KubeObject | undefined | typeof SKIPPED> {
    const kind = actionKind(action);
    const label = `${action.verb} ${kind ?? ''}${action.verb !== 'delete' && action.subresource !== undefined ? `/${action.subresource}` : ''}`;
    this.writes.set(label, (this.writes.get(label) ?? 0) + 1);
    switch (action.verb) {
      case 'create': {
        const obj = action.object;
        if (action.subresource === 'binding') {
          await this.#client.createSubresource(RESOURCE.pods, obj.metadata.namespace, obj.metadata.name ?? '', 'binding', obj);
          return undefined;
        }
        const r = resourceFor(obj.apiVersion ?? '', obj.kind ?? '');
        return this.#client.create(r, r.namespaced ? nsOf(obj) : undefined, obj);
      }
      case 'update': {
        const obj = action.object;
        const r = resourceFor(obj.apiVersion ?? '', obj.kind ?? '');
        return this.#client.updateSubresource(r, r.namespaced ? nsOf(obj) : undefined, action.subresource, obj);
      }
      case 'patch': {
        const r = resourceFor(action.target.apiVersion, action.target.kind);
        return this.#client.patch(r, r.namespaced ? action.target.namespace : undefined, action.target.name, action.patch,
          { type: 'merge', ...(action.subresource !== undefined ? { subresource: action.subresource } : {}) });
      }
      case 'delete': {
        const r = resourceFor(action.target.apiVersion, action.target.kind);
        if (action.verifyOwnersAbsent !== undefined && action.verifyOwnersAbsent.length > 0) {
          const absent = await (options.verifyOwnersAbsent ?? ((a: DeleteAction) => this.#ownersAbsentByName(a)))(action);
          if (!absent) return SKIPPED;
        }
        try {
          const out = await this.#client.delete(r, r.namespaced ? action.target.namespace : undefined, action.target.name, {
            ...(action.propagationPolicy !== undefined ? { propagationPolicy: action.propagationPolicy } : {}),
            ...(action.uid !== undefined ? { preconditions: { uid: action.uid } } : {}),
          });
          return 'metadata' in out && out.kind !== 'Status' ? (out as KubeObject) : undefined;
        } catch (e) {
          // Already gone: what the delete wanted.
          if (e instanceof ApiError && e.reason === 'NotFound') return undefined;
          throw e;
        }
      }
    }
  }

  async #ownersAbsentByName(action: DeleteAction): Promise<boolean> {
    for (const owner of action.verifyOwnersAbsent ?? []) {
      const r = resourceByKind(owner.apiVersion, owner.kind);
      if (r === undefined) return false; // Unknown kind: cannot confirm, keep the dependent.
      try {
        await this.#client.get(r, r.namespaced ? owner.namespace : undefined, owner.name);
        return false;
      } catch (e) {
        if (!(e instanceof ApiError && e.reason === 'NotFound')) throw e;
      }
    }
    return true;
  }
}


/** A short description of a failure for logs; routine ones (conflicts, races) return undefined. */
export function failureToLog(e: unknown): string | undefined {
  if (isRoutineFailure(e)) return undefined;
  if (isTransportError(e)) return `transport: ${e.message}`;
  return errorMessage(e);
}

// ------------------------------------------------------------------------------------------ the informers

export const podIndex = {
  namespace: indexByNamespace as IndexFunc<Pod>,
  node: indexByNodeName as IndexFunc<Pod>,
  /** The uid of the pod's controller. */
  controller: ((p: Pod) => {
    const ref = controllerRefOf(p);
    return ref !== undefined ? [ref.uid] : [];
  }) as IndexFunc<Pod>,
  /** Pods without a controller, by namespace (candidates for adoption). */
  orphan: ((p: Pod) => (controllerRefOf(p) === undefined ? [p.metadata.namespace ?? ''] : [])) as IndexFunc<Pod>,
  /** Unbound pods ('1'). */
  pending: ((p: Pod) => (p.spec?.nodeName === undefined || p.spec.nodeName === '' ? ['1'] : [])) as IndexFunc<Pod>,
  /** `namespace/key=value` for every label, to find a selector's pods without scanning the namespace. */
  label: ((p: Pod) => Object.entries(p.metadata.labels ?? {}).map(([k, v]) => `${p.metadata.namespace ?? ''}/${k}=${v}`)) as IndexFunc<Pod>,
};

const controllerIndex = <T extends KubeObject>(obj: T): string[] => {
  const ref = controllerRefOf(obj);
  return ref !== undefined ? [ref.uid] : [];
};

export interface SharedInformers {
  pods: Informer<Pod>;
  nodes: Informer<Node>;
  services: Informer<Service>;
  endpoints: Informer<Endpoints>;
  endpointSlices: Informer<EndpointSlice>;
  replicaSets: Informer<ReplicaSet>;
  deployments: Informer<Deployment>;
  daemonSets: Informer<DaemonSet>;
  namespaces: Informer<Namespace>;
}

/** The informers the controllers share, with every index they use. */
export function sharedInformers(factory: InformerFactory): SharedInformers {
  return {
    pods: factory.informerFor<Pod>(RESOURCE.pods, {}, podIndex),
    nodes: factory.informerFor<Node>(RESOURCE.nodes),
    services: factory.informerFor<Service>(RESOURCE.services, {}, { namespace: indexByNamespace }),
    endpoints: factory.informerFor<Endpoints>(RESOURCE.endpoints),
    endpointSlices: factory.informerFor<EndpointSlice>(RESOURCE.endpointSlices, {}, {
      service: (s: EndpointSlice) => {
        const svc = s.metadata.labels?.['kubernetes.io/service-name'];
        return svc !== undefined ? [`${s.metadata.namespace ?? ''}/${svc}`] : [];
      },
    }),
    replicaSets: factory.informerFor<ReplicaSet>(RESOURCE.replicaSets, {}, { namespace: indexByNamespace, controller: controllerIndex }),
    deployments: factory.informerFor<Deployment>(RESOURCE.deployments, {}, { namespace: indexByNamespace }),
    daemonSets: factory.informerFor<DaemonSet>(RESOURCE.daemonSets, {}, { namespace: indexByNamespace }),
    namespaces: factory.informerFor<Namespace>(RESOURCE.namespaces),
  };
}

/** `namespace/name` of an object, the work key of namespaced controllers. */
export function keyOf(obj: KubeObject): string {
  const ns = obj.metadata.namespace;
  return ns !== undefined && ns !== '' ? `${ns}/${obj.metadata.name ?? ''}` : obj.metadata.name ?? '';
}

/** Splits a `namespace/name` key. */
export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** Pods a label selector map could match, found through the label index (smallest candidate set). */
export function podsForSelectorMap(pods: Informer<Pod>, namespace: string, selector: Record<string, string> | undefined): Pod[] {
  const entries = Object.entries(selector ?? {});
  if (entries.length === 0) return [];
  let best: Pod[] | undefined;
  for (const [k, v] of entries) {
    const candidates = pods.byIndex('label', `${namespace}/${k}=${v}`);
    if (best === undefined || candidates.length < best.length) best = candidates;
    if (best.length === 0) break;
  }
  return (best ?? []).filter((p) => entries.every(([k, v]) => p.metadata.labels?.[k] === v));
}

/** Common machinery of a controller: its name, work queue handling and lifecycle. */
export interface Controller {
  readonly name: string;
  /** Starts the workers (after the informers have synced). */
  run(): void;
  stop(): Promise<void>;
  /** Resolves when the controller has nothing queued or in flight (tests, benchmarks). */
  whenIdle?(): Promise<void>;
}

// ------------------------------------------------------------------------------------------- the shells

/** Logs a failed pass as `what: message`, unless the failure is routine (conflicts, races). */
export function logFailure(log: Logger, what: string, e: unknown): void {
  const line = failureToLog(e);
  if (line !== undefined) log(`${what}: ${line}`);
}

/** Pod creates and deletes: independent of each other, they run in concurrent slow-start batches. */
export const isPodWrite = (a: Action): boolean =>
  (a.verb === 'create' && a.object.kind === 'Pod') || (a.verb === 'delete' && a.target.kind === 'Pod');

/** Handlers calling `fn` with the object on every add, update (its new state) and delete. */
export function onAnyChange<T extends KubeObject>(fn: (obj: T) => void): EventHandlers<T> {
  return { onAdd: (obj) => fn(obj), onUpdate: (_old, obj) => fn(obj), onDelete: fn };
}

/** Whether an update changed an object's controller (its former owner must hear of it too). */
export const controllerChanged = (old: KubeObject, cur: KubeObject): boolean => controllerRefOf(old)?.uid !== controllerRefOf(cur)?.uid;

/**
 * Handlers for the dependents of a controller's kind (pods of ReplicaSets, ReplicaSets of Deployments):
 * `enqueue` on every change, for the old state as well when `ownersMayDiffer(old, new)` (by default: the
 * controller reference changed).
 */
export function dependentHandlers<T extends KubeObject>(
  enqueue: (obj: T) => void,
  ownersMayDiffer: (old: T, cur: T) => boolean = controllerChanged,
): EventHandlers<T> {
  return {
    onAdd: (obj) => enqueue(obj),
    onUpdate: (old, obj) => {
      if (ownersMayDiffer(old, obj)) enqueue(old);
      enqueue(obj);
    },
    onDelete: enqueue,
  };
}

/** What of a node decides whether a pod may go there (labels, taints, schedulability, readiness): compare with jsonEqual. */
export function nodePlacementView(node: Node): Record<string, unknown> {
  return {
    labels: node.metadata.labels ?? {},
    taints: node.spec?.taints ?? [],
    unschedulable: node.spec?.unschedulable === true,
    ready: (node.status?.conditions ?? []).find((c) => c.type === 'Ready')?.status,
  };
}

/** An object with a label selector (ReplicaSet, Deployment, DaemonSet). */
export type SelectingObject = KubeObject & { spec?: { selector?: LabelSelector | null } };

/**
 * Work keys of whatever may own `dependent`: its controller when that is a `kind` (none when it is of
 * another kind), or, for an orphan, every object of `candidates` in its namespace whose selector matches
 * its labels (they may adopt it). `candidates` must have the `namespace` index.
 */
export function ownerKeys<O extends SelectingObject>(dependent: KubeObject, kind: string, candidates: Informer<O>): string[] {
  const ref = controllerRefOf(dependent);
  const ns = dependent.metadata.namespace ?? '';
  if (ref !== undefined) return ref.kind === kind ? [`${ns}/${ref.name}`] : [];
  return candidates.byIndex('namespace', ns).filter((o) => cachedSelectorMatcher(o.spec?.selector)(dependent.metadata.labels)).map(keyOf);
}

/** Matchers of the selectors of cached objects, built once: informers deep-freeze what they cache. */
const selectorMatchers = new WeakMap<LabelSelector, (labels: Record<string, string> | undefined) => boolean>();

function cachedSelectorMatcher(selector: LabelSelector | null | undefined): (labels: Record<string, string> | undefined) => boolean {
  if (selector === undefined || selector === null) return labelSelectorMatcher(selector);
  let matcher = selectorMatchers.get(selector);
  if (matcher === undefined) selectorMatchers.set(selector, (matcher = labelSelectorMatcher(selector)));
  return matcher;
}

/**
 * True when `key`'s expectations are met. Otherwise requeues the key for when they expire (at most a
 * second away: the informers' events requeue it anyway, this is a safety net) and returns false.
 */
export function expectationsMet(queue: WorkQueue<string>, expectations: Expectations, key: string): boolean {
  if (expectations.satisfied(key)) return true;
  queue.addAfter(key, Math.min(1000, expectations.msUntilExpiry(key) + 1));
  return false;
}

export interface ResultOptions extends Omit<ApplyOptions, 'onApplied'> {
  /** The informer that must show a successful write before the key's next pass (undefined: none). */
  expectIn?: (action: Action) => CacheView | undefined;
}

/**
 * The end of a pass over `key`: records the reconciler's Events, applies its actions (throwing the first
 * failure), expects each write as `options.expectIn` says, and requeues the key when the result asks to.
 */
export async function applyResult(
  applier: ActionApplier, queue: WorkQueue<string>, expectations: Expectations, key: string, result: ReconcileResult, options: ResultOptions = {},
): Promise<void> {
  const { expectIn, ...applyOptions } = options;
  for (const e of result.events) applier.record(e);
  await applier.apply(result.actions, {
    ...applyOptions,
    ...(expectIn !== undefined ? {
      onApplied: (action: Action, written: KubeObject | undefined) => {
        const informer = expectIn(action);
        if (informer !== undefined) expectations.expectWrite(key, informer, action, written);
      },
    } : {}),
  });
  if (result.requeueAfterSeconds !== undefined) queue.addAfter(key, result.requeueAfterSeconds * 1000);
}

/** Runs `work` over `items`, at most `concurrency` at a time, started in order. `work` handles its own failures. */
export async function forEachConcurrently<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

export interface ControllerShellOptions {
  /** Controller.name, and what its log lines start with. */
  name: string;
  /** Keys processed at once. */
  concurrency: number;
  /** Longest retry backoff of a failing key (default 10 s). */
  maxDelayMs?: number;
  /**
   * For a controller that handles everything under one work key: that key. It is queued when the
   * workers start, and log lines do not name it.
   */
  singleKey?: string;
}

/**
 * The scaffolding every controller shell shares: a work queue whose failed passes are logged (routine ones
 * excepted) and retried with backoff, expectations per work key, informer subscriptions dropped on stop,
 * and the Controller lifecycle. A shell adds its event mapping (in its constructor, through `watch`) and
 * its `sync` pass.
 */
export abstract class ControllerShell implements Controller {
  readonly name: string;
  readonly queue: WorkQueue<string>;
  /** What the next pass of a key waits for (empty for controllers that do not wait for their writes). */
  readonly expectations = new Expectations();
  protected readonly applier: ActionApplier;
  protected readonly log: Logger;
  readonly #singleKey: string | undefined;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(applier: ActionApplier, log: Logger, options: ControllerShellOptions) {
    this.name = options.name;
    this.applier = applier;
    this.log = log;
    this.#singleKey = options.singleKey;
    this.queue = new WorkQueue<string>({
      concurrency: options.concurrency,
      maxDelayMs: options.maxDelayMs ?? 10_000,
      onError: (key, e) => this.report(e, options.singleKey === undefined ? key : undefined),
    });
  }

  /** One pass over `key`. A throw is reported and the key retried with backoff. */
  protected abstract sync(key: string): Promise<void>;

  /** Subscribes to `informer` until the controller stops. */
  protected watch<T extends KubeObject>(informer: Informer<T>, handlers: EventHandlers<T>): void {
    this.#unsubscribe.push(informer.addEventHandler(handlers));
  }

  /** Handlers for the kind the controller reconciles: its key on every change; a deletion drops its expectations. */
  protected keyHandlers<T extends KubeObject>(): EventHandlers<T> {
    return {
      ...onAnyChange<T>((obj) => this.queue.add(keyOf(obj))),
      onDelete: (obj) => {
        this.expectations.forget(keyOf(obj));
        this.queue.add(keyOf(obj));
      },
    };
  }

  /** Logs a failure (unless routine) as `name key: message`, or `name: message` without a key. */
  protected report(e: unknown, key?: string): void {
    logFailure(this.log, key === undefined ? this.name : `${this.name} ${key}`, e);
  }

  /** See the function `expectationsMet`. */
  protected expectationsMet(key: string): boolean {
    return expectationsMet(this.queue, this.expectations, key);
  }

  /** See the function `applyResult`. */
  protected applyResult(key: string, result: ReconcileResult, options: ResultOptions = {}): Promise<void> {
    return applyResult(this.applier, this.queue, this.expectations, key, result, options);
  }

  run(): void {
    this.queue.run((key) => this.sync(key));
    if (this.#singleKey !== undefined) this.queue.add(this.#singleKey);
  }

  async stop(): Promise<void> {
    for (const u of this.#unsubscribe) u();
    await this.queue.shutdown();
  }

  whenIdle(): Promise<void> {
    return this.queue.whenIdle(true);
  }
}

/**
 * Keeps a controller whose passes are expensive (a Service with a thousand pods) from eating the process,
 * which it shares with the API server: after a pass, the same key may run again only after
 * max(minIntervalMs, recent cost of all keys / budget) (at most maxIntervalMs), where the recent cost is the
 * sum of each key's last pass time over the last `windowMs`. Idle, a change goes through at once; under a
 * storm of pod updates each key is synced at a rate that keeps the controller near `budget` of one CPU.
 */
export class PassThrottle {
  readonly #minIntervalMs: number;
  readonly #maxIntervalMs: number;
  readonly #budget: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #last = new Map<string, { at: number; costMs: number }>();
  #total = 0;
  #totalAt = -Infinity;

  constructor(options: { minIntervalMs?: number; maxIntervalMs?: number; budget?: number; windowMs?: number; now?: () => number } = {}) {
    this.#minIntervalMs = options.minIntervalMs ?? 0;
    this.#maxIntervalMs = options.maxIntervalMs ?? 5000;
    this.#budget = options.budget ?? 0.1;
    this.#windowMs = options.windowMs ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** Runs `pass` (its synchronous part is what counts as cost) and records it. */
  measure<T>(key: string, pass: () => T): T {
    const started = this.#now();
    const t = performance.now();
    try {
      return pass();
    } finally {
      this.record(key, started, performance.now() - t);
    }
  }

  /** Runs an asynchronous pass; its wall time (the writes it waits for included) counts as cost. */
  async measureAsync<T>(key: string, pass: () => Promise<T>): Promise<T> {
    const started = this.#now();
    const t = performance.now();
    try {
      return await pass();
    } finally {
      this.record(key, started, performance.now() - t);
    }
  }

  record(key: string, startedAt: number, costMs: number): void {
    this.#last.set(key, { at: startedAt, costMs });
  }

  #recentCost(): number {
    const now = this.#now();
    if (now - this.#totalAt < 100) return this.#total;
    let total = 0;
    for (const [key, l] of this.#last) {
      if (l.at < now - this.#windowMs) this.#last.delete(key);
      else total += l.costMs;
    }
    this.#total = total;
    this.#totalAt = now;
    return total;
  }

  /** Milliseconds before `key` should run again (0: now). */
  delayFor(key: string): number {
    const last = this.#last.get(key);
    if (last === undefined) return 0;
    const interval = Math.min(this.#maxIntervalMs, Math.max(this.#minIntervalMs, this.#recentCost() / this.#budget));
    return Math.max(0, last.at + interval - this.#now());
  }

  forget(key: string): void {
    this.#last.delete(key);
  }
}
