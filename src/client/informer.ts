// A shared informer: mirrors one resource (optionally one namespace and selector) into an in-memory cache
// and tells handlers about every change, in the manner of client-go's reflector + indexer.
//
//   list (paged) ──► replace cache, emit the differences ──► watch from the list's resourceVersion
//        ▲                                                     │ ADDED/MODIFIED/DELETED: update cache, emit
//        │ 410 Gone/Expired (HTTP or an ERROR event)           │ BOOKMARK: just advance resourceVersion
//        └─────────────────────────────────────────────────────┤ stream ended: re-watch from the last version
//                                   other failures: back off (exponential, jitter, capped), then re-watch
//
// Handlers run synchronously, in event order, on the informer's loop: keep them short (enqueue a key in
// a WorkQueue and return). Cached objects are deep-frozen by default: copy (structuredClone) before
// modifying one to send back to the server.
import { ApiError } from '../api/errors.ts';
import type { ResourceInfo } from '../api/resources.ts';
import type { KubeList, KubeObject, Status, WatchEvent } from '../api/types.ts';
import { Backoff, sleep } from './backoff.ts';
import type { BackoffOptions } from './backoff.ts';
import { apiErrorFromStatus } from './client-errors.ts';
import type { KubeClient } from './kube-client.ts';
import { ObjectCache, objectKey } from './object-cache.ts';
import type { IndexFunc } from './object-cache.ts';

/** What an informer needs from the server: a complete list, and a watch from a resourceVersion. */
export interface ListerWatcher<T extends KubeObject> {
  list(): Promise<KubeList<T>>;
  watch(options: { resourceVersion: string; allowWatchBookmarks: boolean; timeoutSeconds: number }): AsyncIterable<WatchEvent<T>> & { stop(): void };
}

export interface InformerScope {
  /** Limit to one namespace (undefined: all namespaces, or a cluster-scoped kind). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** A ListerWatcher over a KubeClient for one resource and scope. */
export function listerWatcherFor<T extends KubeObject>(client: KubeClient, resource: ResourceInfo, scope: InformerScope = {}, pageSize = 500): ListerWatcher<T> {
  const selectors: { labelSelector?: string; fieldSelector?: string } = {};
  if (scope.labelSelector !== undefined) selectors.labelSelector = scope.labelSelector;
  if (scope.fieldSelector !== undefined) selectors.fieldSelector = scope.fieldSelector;
  return {
    list: () => client.listAll<T>(resource, scope.namespace, { ...selectors, pageSize }),
    watch: (options) => client.watch<T>(resource, scope.namespace, { ...selectors, ...options }),
  };
}

export interface EventHandlers<T> {
  /** `initial` is true for objects delivered by the first list (or replayed to a late handler). */
  onAdd?: (obj: T, initial: boolean) => void;
  onUpdate?: (oldObj: T, newObj: T) => void;
  /** Receives the object's final state (from the DELETED event, or the last cached state after a relist). */
  onDelete?: (obj: T) => void;
}

export interface InformerOptions<T> {
  indexers?: Record<string, IndexFunc<T>>;
  /** Retry backoff after failed lists/watches (default 800 ms doubling to 30 s, ±50% jitter). */
  backoff?: BackoffOptions;
  /** Server-side timeout of each watch (default: random in [300, 600) s, so informers do not re-watch in lockstep). */
  watchTimeoutSeconds?: number;
  /** Deep-freeze cached objects so handlers cannot corrupt the cache by mutating them (default true). */
  freeze?: boolean;
  /** Told about every list/watch failure (the informer retries by itself). */
  onError?: (error: unknown, phase: 'list' | 'watch') => void;
  /** Told when a handler throws (default: console.error). */
  onHandlerError?: (error: unknown) => void;
  /** Name used in messages. */
  name?: string;
}

export type InformerErrorCode = 'SyncTimeout' | 'Stopped';

export class InformerError extends Error {
  readonly code: InformerErrorCode;
  constructor(code: InformerErrorCode, message: string) {
    super(message);
    this.name = 'InformerError';
    this.code = code;
  }
}

export interface InformerStats {
  /** Completed lists (the first one plus every relist). */
  lists: number;
  /** Watches opened. */
  watches: number;
  /** Relists forced by 410 Gone/Expired. */
  expired: number;
  /** Failed lists/watches that were retried after a backoff. */
  failures: number;
}

function deepFreeze<V>(value: V): V {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function isExpired(e: unknown): boolean {
  return e instanceof ApiError && (e.code === 410 || e.reason === 'Expired' || e.reason === 'Gone');
}

export class Informer<T extends KubeObject = KubeObject> {
  readonly #lw: ListerWatcher<T>;
  readonly #options: InformerOptions<T>;
  readonly #cache: ObjectCache<T>;
  readonly #handlers = new Set<EventHandlers<T>>();
  readonly #backoff: Backoff;
  readonly #stopController = new AbortController();
  #resourceVersion = '';
  #synced = false;
  #started = false;
  #loop: Promise<void> | undefined;
  #watch: { stop(): void } | undefined;
  #syncWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  readonly #stats: InformerStats = { lists: 0, watches: 0, expired: 0, failures: 0 };

  constructor(listerWatcher: ListerWatcher<T>, options: InformerOptions<T> = {}) {
    this.#lw = listerWatcher;
    this.#options = options;
    this.#cache = new ObjectCache<T>(options.indexers ?? {});
    this.#backoff = new Backoff(options.backoff ?? { initialMs: 800, maxMs: 30_000, jitter: 0.5 });
  }

  /** An informer over `client` for one resource and scope. */
  static forResource<T extends KubeObject = KubeObject>(client: KubeClient, resource: ResourceInfo, scope: InformerScope = {}, options: InformerOptions<T> = {}): Informer<T> {
    return new Informer<T>(listerWatcherFor<T>(client, resource, scope), { name: resource.plural, ...options });
  }

  // ---------------------------------------------------------------------------------------- lifecycle

  /** Starts listing and watching in the background (idempotent). */
  start(): this {
    if (this.#started || this.#stopController.signal.aborted) return this;
    this.#started = true;
    this.#loop = this.#run();
    return this;
  }

  get started(): boolean {
    return this.#started;
  }

  /** Ends the watch and the loop; resolves once the loop has exited. Pending waitForSync calls reject. */
  async stop(): Promise<void> {
    this.#stopController.abort();
    this.#watch?.stop();
    for (const w of this.#syncWaiters.splice(0)) w.reject(new InformerError('Stopped', `${this.#name()}: stopped before syncing`));
    await this.#loop;
  }

  /** True once the first list has been stored and its adds delivered. */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves once synced; rejects with InformerError `SyncTimeout` after `timeoutMs`, or `Stopped`. */
  waitForSync(timeoutMs: number): Promise<void> {
    if (this.#synced) return Promise.resolve();
    if (this.#stopController.signal.aborted) return Promise.reject(new InformerError('Stopped', `${this.#name()}: stopped`));
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.#syncWaiters = this.#syncWaiters.filter((w) => w !== waiter);
        reject(new InformerError('SyncTimeout', `${this.#name()}: not synced within ${timeoutMs}ms`));
      }, timeoutMs);
      this.#syncWaiters.push(waiter);
    });
  }

  /** The resourceVersion the cache reflects (of the last list, event or bookmark). */
  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  get stats(): Readonly<InformerStats> {
    return { ...this.#stats };
  }

  // ------------------------------------------------------------------------------------------- cache

  /** The cached object with key `ns/name` (or `name` for cluster-scoped kinds). */
  get(key: string): T | undefined {
    return this.#cache.get(key);
  }

  getByName(namespace: string | undefined, name: string): T | undefined {
    return this.#cache.get(namespace === undefined || namespace === '' ? name : `${namespace}/${name}`);
  }

  list(): T[] {
    return this.#cache.list();
  }

  keys(): string[] {
    return this.#cache.keys();
  }

  byIndex(indexName: string, value: string): T[] {
    return this.#cache.byIndex(indexName, value);
  }

  /** Adds an index (also on a running informer: cached objects are indexed at once). */
  addIndexer(name: string, fn: IndexFunc<T>): void {
    this.#cache.addIndexer(name, fn);
  }

  hasIndexer(name: string): boolean {
    return this.#cache.hasIndexer(name);
  }

  // ---------------------------------------------------------------------------------------- handlers

  /**
   * Registers handlers; returns a function that unregisters them. A handler added after objects are cached
   * first receives an onAdd(obj, true) for each of them.
   */
  addEventHandler(handlers: EventHandlers<T>): () => void {
    const own = { ...handlers };
    this.#handlers.add(own);
    if (own.onAdd !== undefined) for (const obj of this.#cache.list()) this.#call(() => own.onAdd?.(obj, true));
    return () => {
      this.#handlers.delete(own);
    };
  }

  onAdd(fn: (obj: T, initial: boolean) => void): () => void {
    return this.addEventHandler({ onAdd: fn });
  }

  onUpdate(fn: (oldObj: T, newObj: T) => void): () => void {
    return this.addEventHandler({ onUpdate: fn });
  }

  onDelete(fn: (obj: T) => void): () => void {
    return this.addEventHandler({ onDelete: fn });
  }

  // -------------------------------------------------------------------------------------------- loop

  #name(): string {
    return `informer ${this.#options.name ?? ''}`.trim();
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      (this.#options.onHandlerError ?? ((err: unknown) => console.error(`${this.#name()}: handler failed:`, err)))(e);
    }
  }

  #emitAdd(obj: T, initial: boolean): void {
    for (const h of [...this.#handlers]) if (h.onAdd !== undefined) this.#call(() => h.onAdd?.(obj, initial));
  }

  #emitUpdate(oldObj: T, newObj: T): void {
    for (const h of [...this.#handlers]) if (h.onUpdate !== undefined) this.#call(() => h.onUpdate?.(oldObj, newObj));
  }

  #emitDelete(obj: T): void {
    for (const h of [...this.#handlers]) if (h.onDelete !== undefined) this.#call(() => h.onDelete?.(obj));
  }

  #prepare(obj: T): T {
    return this.#options.freeze === false ? obj : deepFreeze(obj);
  }

  /** Makes the cache equal `items`, emitting adds, updates (changed resourceVersion) and deletes. */
  #replace(items: readonly T[], resourceVersion: string): void {
    const initial = !this.#synced;
    const seen = new Set<string>();
    for (const raw of items) {
      const obj = this.#prepare(raw);
      const key = objectKey(obj);
      seen.add(key);
      const old = this.#cache.get(key);
      if (old !== undefined && old.metadata.resourceVersion === obj.metadata.resourceVersion && old.metadata.uid === obj.metadata.uid) continue;
      this.#cache.set(key, obj);
      if (old === undefined) this.#emitAdd(obj, initial);
      else if (old.metadata.uid !== undefined && obj.metadata.uid !== undefined && old.metadata.uid !== obj.metadata.uid) {
        // Deleted and recreated while we were not watching: report both halves.
        this.#emitDelete(old);
        this.#emitAdd(obj, initial);
      } else this.#emitUpdate(old, obj);
    }
    for (const key of this.#cache.keys()) {
      if (seen.has(key)) continue;
      const old = this.#cache.delete(key);
      if (old !== undefined) this.#emitDelete(old);
    }
    this.#resourceVersion = resourceVersion;
    if (!this.#synced) {
      this.#synced = true;
      for (const w of this.#syncWaiters.splice(0)) w.resolve();
    }
  }

  #apply(event: WatchEvent<T>): void {
    const obj = event.object as T;
    const rv = obj.metadata?.resourceVersion;
    if (event.type === 'BOOKMARK') {
      if (rv !== undefined && rv !== '') this.#resourceVersion = rv;
      return;
    }
    const prepared = this.#prepare(obj);
    const key = objectKey(prepared);
    if (event.type === 'DELETED') {
      this.#cache.delete(key);
      this.#emitDelete(prepared);
    } else {
      const old = this.#cache.set(key, prepared);
      if (old === undefined) this.#emitAdd(prepared, false);
      else this.#emitUpdate(old, prepared);
    }
    if (rv !== undefined && rv !== '') this.#resourceVersion = rv;
  }

  #watchTimeout(): number {
    return this.#options.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
  }

  async #run(): Promise<void> {
    const signal = this.#stopController.signal;
    let needList = true;
    let expiredInARow = 0;
    // Bounded by stop(): every iteration either makes progress or sleeps a backoff that stop() cuts short.
    while (!signal.aborted) {
      let phase: 'list' | 'watch' = needList ? 'list' : 'watch';
      try {
        if (needList) {
          const list = await this.#lw.list();
          if (signal.aborted) break;
          this.#stats.lists++;
          this.#replace(list.items, list.metadata?.resourceVersion ?? '');
          needList = false;
        }
        phase = 'watch';
        const opened = Date.now();
        let delivered = 0;
        const watch = this.#lw.watch({ resourceVersion: this.#resourceVersion, allowWatchBookmarks: true, timeoutSeconds: this.#watchTimeout() });
        this.#watch = watch;
        this.#stats.watches++;
        if (signal.aborted) watch.stop();
        for await (const event of watch) {
          if (signal.aborted) break;
          if (event.type === 'ERROR') {
            const status = event.object as Status;
            throw apiErrorFromStatus(typeof status.code === 'number' ? status.code : 500, status);
          }
          this.#apply(event);
          delivered++;
          expiredInARow = 0;
        }
        this.#watch = undefined;
        if (signal.aborted) break;
        // A watch the server ends at once and empty-handed is a failure in disguise: back off rather than spin.
        if (delivered === 0 && Date.now() - opened < 1000) {
          await sleep(this.#backoff.next(), signal);
        } else {
          this.#backoff.reset();
        }
      } catch (e) {
        this.#watch = undefined;
        if (signal.aborted) break;
        if (isExpired(e)) {
          // Our resourceVersion was compacted away: relist and report what changed meanwhile.
          this.#stats.expired++;
          needList = true;
          expiredInARow++;
          if (expiredInARow > 1) await sleep(this.#backoff.next(), signal);
          continue;
        }
        this.#stats.failures++;
        try {
          this.#options.onError?.(e, phase);
        } catch {
          // An error hook must not kill the loop.
        }
        await sleep(this.#backoff.next(), signal);
      }
    }
    this.#watch = undefined;
  }
}

/** Hands out one shared informer per resource + namespace + selectors. */
export class InformerFactory {
  readonly #client: KubeClient;
  readonly #defaults: InformerOptions<KubeObject>;
  readonly #informers = new Map<string, Informer<KubeObject>>();
  #started = false;

  constructor(client: KubeClient, defaults: Omit<InformerOptions<KubeObject>, 'indexers'> = {}) {
    this.#client = client;
    this.#defaults = defaults;
  }

  /**
   * The informer for `resource` in `scope`, created on first request. Indexers requested by later callers
   * are added to the shared informer (an indexer name already present is kept). Started at once if the
   * factory is running.
   */
  informerFor<T extends KubeObject = KubeObject>(resource: ResourceInfo, scope: InformerScope = {}, indexers: Record<string, IndexFunc<T>> = {}): Informer<T> {
    const key = [resource.group, resource.version, resource.plural, scope.namespace ?? '', scope.labelSelector ?? '', scope.fieldSelector ?? ''].join('|');
    let informer = this.#informers.get(key) as Informer<T> | undefined;
    if (informer === undefined) {
      informer = Informer.forResource<T>(this.#client, resource, scope, { ...(this.#defaults as InformerOptions<T>), name: resource.plural });
      this.#informers.set(key, informer as unknown as Informer<KubeObject>);
      if (this.#started) informer.start();
    }
    for (const [name, fn] of Object.entries(indexers)) if (!informer.hasIndexer(name)) informer.addIndexer(name, fn);
    return informer;
  }

  get informers(): Informer<KubeObject>[] {
    return [...this.#informers.values()];
  }

  /** Starts every informer (and any created later). */
  start(): void {
    this.#started = true;
    for (const i of this.#informers.values()) i.start();
  }

  /** Resolves when every informer has synced; rejects (SyncTimeout) if any has not within `timeoutMs`. */
  async waitForSync(timeoutMs: number): Promise<void> {
    await Promise.all([...this.#informers.values()].map((i) => i.waitForSync(timeoutMs)));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#informers.values()].map((i) => i.stop()));
  }
}
