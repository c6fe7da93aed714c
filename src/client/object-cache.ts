// The informer's in-memory store: objects keyed `namespace/name` (just `name` for cluster-scoped kinds),
// with secondary indexes computed by caller-supplied functions (e.g. pods by spec.nodeName). Every
// mutation is synchronous, so between two awaits a reader always sees a consistent cache and its indexes
// (JavaScript's form of thread safety); `list` and `byIndex` return fresh arrays.
import type { KubeObject } from '../api/types.ts';

/** The index values of an object; an object may appear under several values, or none. */
export type IndexFunc<T> = (obj: T) => readonly string[];

/** The cache key of a namespace and name: `ns/name`, or `name` when there is no namespace. */
export function cacheKey(namespace: string | undefined, name: string): string {
  return namespace === undefined || namespace === '' ? name : `${namespace}/${name}`;
}

export function objectKey(obj: KubeObject): string {
  return cacheKey(obj.metadata.namespace, obj.metadata.name ?? '');
}

/** Indexes pods (or anything with spec.nodeName) by the node they are bound to. */
export const indexByNodeName: IndexFunc<KubeObject> = (obj) => {
  const spec = obj['spec'];
  if (typeof spec === 'object' && spec !== null && 'nodeName' in spec) {
    const node = (spec as { nodeName?: unknown }).nodeName;
    if (typeof node === 'string' && node !== '') return [node];
  }
  return [];
};

export const indexByNamespace: IndexFunc<KubeObject> = (obj) => (obj.metadata.namespace !== undefined ? [obj.metadata.namespace] : []);

export class ObjectCache<T extends KubeObject> {
  readonly #items = new Map<string, T>();
  readonly #indexers = new Map<string, IndexFunc<T>>();
  /** index name -> index value -> keys */
  readonly #indices = new Map<string, Map<string, Set<string>>>();
  /** index name -> key -> the values the object was filed under */
  readonly #filed = new Map<string, Map<string, readonly string[]>>();

  constructor(indexers: Record<string, IndexFunc<T>> = {}) {
    for (const [name, fn] of Object.entries(indexers)) this.addIndexer(name, fn);
  }

  get size(): number {
    return this.#items.size;
  }

  /** Adds an index; objects already cached are filed under it at once. Names are unique. */
  addIndexer(name: string, fn: IndexFunc<T>): void {
    if (this.#indexers.has(name)) throw new Error(`indexer "${name}" already exists`);
    this.#indexers.set(name, fn);
    this.#indices.set(name, new Map());
    this.#filed.set(name, new Map());
    for (const [key, obj] of this.#items) this.#file(name, fn, key, obj);
  }

  hasIndexer(name: string): boolean {
    return this.#indexers.has(name);
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  has(key: string): boolean {
    return this.#items.has(key);
  }

  keys(): string[] {
    return [...this.#items.keys()];
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  /** Objects filed under `value` in index `indexName`. Throws for an unknown index. */
  byIndex(indexName: string, value: string): T[] {
    const index = this.#indices.get(indexName);
    if (index === undefined) throw new Error(`no indexer named "${indexName}"`);
    const out: T[] = [];
    for (const key of index.get(value) ?? []) {
      const obj = this.#items.get(key);
      if (obj !== undefined) out.push(obj);
    }
    return out;
  }

  /** The distinct values of an index that currently have objects. */
  indexValues(indexName: string): string[] {
    const index = this.#indices.get(indexName);
    if (index === undefined) throw new Error(`no indexer named "${indexName}"`);
    return [...index.keys()];
  }

  /** Stores `obj` under `key`; returns what was there before. */
  set(key: string, obj: T): T | undefined {
    const old = this.#items.get(key);
    if (old !== undefined) this.#unfileAll(key);
    this.#items.set(key, obj);
    for (const [name, fn] of this.#indexers) this.#file(name, fn, key, obj);
    return old;
  }

  /** Removes `key`; returns the removed object. */
  delete(key: string): T | undefined {
    const old = this.#items.get(key);
    if (old === undefined) return undefined;
    this.#unfileAll(key);
    this.#items.delete(key);
    return old;
  }

  #file(name: string, fn: IndexFunc<T>, key: string, obj: T): void {
    const values = [...new Set(fn(obj))];
    if (values.length === 0) return;
    const index = this.#indices.get(name) as Map<string, Set<string>>;
    for (const v of values) {
      let keys = index.get(v);
      if (keys === undefined) index.set(v, (keys = new Set()));
      keys.add(key);
    }
    (this.#filed.get(name) as Map<string, readonly string[]>).set(key, values);
  }

  #unfileAll(key: string): void {
    for (const [name, filed] of this.#filed) {
      const values = filed.get(key);
      if (values === undefined) continue;
      const index = this.#indices.get(name) as Map<string, Set<string>>;
      for (const v of values) {
        const keys = index.get(v);
        keys?.delete(key);
        if (keys !== undefined && keys.size === 0) index.delete(v);
      }
      filed.delete(key);
    }
  }
}
