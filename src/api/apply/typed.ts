// Kind-aware walks over JSON objects, as structured-merge-diff's typed values do with a schema: the field
// set an object sets, the comparison of two objects, the merge of an applied configuration into a live
// object, and removal of a field set. List and struct semantics come from src/api/list-semantics.ts.
// Pure.
import { isAtomicStructAt, listSemanticsAt } from '../list-semantics.ts';
import type { ListSemantics } from '../list-semantics.ts';
import { FieldSet, fieldElement, pathElementKey, pathString, sortedJson } from './field-set.ts';
import type { FieldPath, PathElement } from './field-set.ts';

type Json = unknown;
type JsonObject = Record<string, unknown>;

export const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A configuration the walks cannot interpret (a map-list item without keys, a non-scalar set item). */
export class TypedError extends Error {
  override readonly name = 'TypedError';
}

/** Key-field defaults from upstream's `+default` markers, used when an item omits the key field. */
const KEY_DEFAULTS: Readonly<Record<string, unknown>> = { protocol: 'TCP' };

/**
 * Fields Go always serialises (non-pointer structs, and fields without omitempty, which a zero object
 * carries as `{}` or null): an absent one compares as empty rather than as added, so that e.g. `spec` or
 * `containers` is not recorded as owned itself, as upstream's empty object for a create has them.
 */
const ALWAYS_PRESENT: readonly string[] = [
  'metadata',
  'spec',
  'status',
  'spec.containers',
  'spec.template',
  'spec.template.metadata',
  'spec.template.spec',
  'spec.template.spec.containers',
  'spec.strategy',
  'spec.updateStrategy',
  'status.loadBalancer',
  'status.daemonEndpoints',
  'status.daemonEndpoints.kubeletEndpoint',
  'status.nodeInfo',
  'endpoints',
];
const CONTAINER_VALUE_STRUCTS = ['resources'];
const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'];

function isAlwaysPresent(names: readonly string[]): boolean {
  if (ALWAYS_PRESENT.includes(names.join('.'))) return true;
  const n = names.length;
  return n >= 2 && CONTAINER_VALUE_STRUCTS.includes(names[n - 1]!) && CONTAINER_LISTS.includes(names[n - 2]!);
}

const isScalar = (v: unknown): boolean => v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

export function deepEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ka.length !== kb.length) return false;
    for (const k of ka) if (!deepEqual(a[k], b[k])) return false;
    return true;
  }
  return false;
}

export function deepCopy<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** The walks' view of a kind: list semantics and atomic structs by field-name path. */
export class KindSchema {
  readonly kind: string;
  constructor(kind: string) {
    this.kind = kind;
  }
  list(names: readonly string[]): ListSemantics {
    return listSemanticsAt(this.kind, names);
  }
  atomicStruct(names: readonly string[]): boolean {
    return isAtomicStructAt(this.kind, names);
  }

  /** The path element naming one item of the list at `names`, or a TypedError. */
  itemElement(names: readonly string[], path: FieldPath, sem: ListSemantics, item: unknown, index: number): PathElement {
    if (sem.listType === 'set') {
      if (!isScalar(item)) throw new TypedError(`${pathString(path)}: element ${index}: associative list without keys has an element that's a map type`);
      return { kind: 'value', value: item };
    }
    if (sem.listType === 'map') {
      const keys = sem.keys ?? [];
      if (!isObject(item)) throw new TypedError(`${pathString(path)}: element ${index}: associative list with keys has an element that's not a map type`);
      const fields: [string, unknown][] = [];
      for (const k of keys) {
        const v = item[k] ?? KEY_DEFAULTS[k];
        if (v !== undefined && v !== null) fields.push([k, v]);
      }
      if (fields.length === 0) {
        throw new TypedError(`${pathString(path)}: element ${index}: associative list with keys has an element that omits all key fields ${JSON.stringify(keys.join(', '))} (and doesn't have default values for any key fields)`);
      }
      fields.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return { kind: 'key', fields };
    }
    return { kind: 'index', index };
  }
}

// ------------------------------------------------------------------------------------------ field set

/** The set of fields `obj` sets (upstream's ToFieldSet): leaves, list items, atomic values, empty maps. */
export function fieldSetOf(schema: KindSchema, obj: JsonObject): FieldSet {
  const out = new FieldSet();
  const walk = (names: readonly string[], path: FieldPath, v: Json): void => {
    if (Array.isArray(v)) {
      const sem = schema.list(names);
      if (sem.listType === 'atomic') {
        out.insert(path);
        return;
      }
      v.forEach((item, i) => {
        const p = [...path, schema.itemElement(names, path, sem, item, i)];
        walk(names, p, item);
        out.insert(p);
      });
      return;
    }
    if (isObject(v)) {
      if (path.length > 0 && schema.atomicStruct(names)) {
        out.insert(path);
        return;
      }
      for (const [k, child] of Object.entries(v)) {
        if (child === undefined) continue;
        const p = [...path, fieldElement(k)];
        walk([...names, k], p, child);
        if (child === null || (isObject(child) && Object.keys(child).length === 0)) out.insert(p);
      }
      return;
    }
    if (path.length > 0) out.insert(path);
  };
  walk([], [], obj);
  return out;
}

// ------------------------------------------------------------------------------------------- compare

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/** Upstream's TypedValue.Compare: what `rhs` added, modified and removed relative to `lhs`. */
export function compareObjects(schema: KindSchema, lhs: JsonObject, rhs: JsonObject): Comparison {
  const c: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  const leaf = (path: FieldPath, l: Json, r: Json): void => {
    if (l === undefined) c.added.insert(path);
    else if (r === undefined) c.removed.insert(path);
    else if (!deepEqual(l, r)) c.modified.insert(path);
  };
  const compare = (names: readonly string[], path: FieldPath, lIn: Json, rIn: Json): void => {
    let l = lIn;
    let r = rIn;
    if (path.length > 0 && path[path.length - 1]!.kind === 'field' && isAlwaysPresent(names)) {
      if (isObject(l) || isObject(r)) {
        l ??= {};
        r ??= {};
      } else if (Array.isArray(l) || Array.isArray(r)) {
        l ??= [];
        r ??= [];
      }
    }
    const lArr = Array.isArray(l);
    const rArr = Array.isArray(r);
    const lObj = isObject(l);
    const rObj = isObject(r);
    const listish = (lArr || l === undefined) && (rArr || r === undefined) && (lArr || rArr);
    const mapish = (lObj || l === undefined) && (rObj || r === undefined) && (lObj || rObj);
    if (listish) {
      const sem = schema.list(names);
      const la = (l ?? []) as Json[];
      const ra = (r ?? []) as Json[];
      if (sem.listType === 'atomic' || (la.length === 0 && ra.length === 0)) return leaf(path, l, r);
      const lItems = indexItems(schema, names, path, sem, la);
      const rItems = indexItems(schema, names, path, sem, ra);
      for (const [key, li] of lItems) compare(names, [...path, li.pe], li.item, rItems.get(key)?.item);
      for (const [key, ri] of rItems) if (!lItems.has(key)) compare(names, [...path, ri.pe], undefined, ri.item);
    } else if (mapish) {
      const lo = (l ?? {}) as JsonObject;
      const ro = (r ?? {}) as JsonObject;
      const empty = Object.keys(lo).length === 0 && Object.keys(ro).length === 0;
      if ((path.length > 0 && schema.atomicStruct(names)) || empty) return leaf(path, l, r);
      for (const k of Object.keys(lo)) if (lo[k] !== undefined) compare([...names, k], [...path, fieldElement(k)], lo[k], ro[k]);
      for (const k of Object.keys(ro)) if (ro[k] !== undefined && lo[k] === undefined) compare([...names, k], [...path, fieldElement(k)], undefined, ro[k]);
    } else {
      return leaf(path, l, r);
    }
    if (path.length > 0) {
      if (l === undefined) c.added.insert(path);
      else if (r === undefined) c.removed.insert(path);
    }
  };
  compare([], [], lhs, rhs);
  return c;
}

interface IndexedItem {
  pe: PathElement;
  item: Json;
}

/** Items of a map/set list by path-element key, first occurrence wins. */
function indexItems(schema: KindSchema, names: readonly string[], path: FieldPath, sem: ListSemantics, items: readonly Json[]): Map<string, IndexedItem> {
  const out = new Map<string, IndexedItem>();
  items.forEach((item, i) => {
    const pe = schema.itemElement(names, path, sem, item, i);
    const key = pathElementKey(pe);
    if (!out.has(key)) out.set(key, { pe, item });
  });
  return out;
}

// --------------------------------------------------------------------------------------------- merge

/** Upstream's TypedValue.Merge: `rhs` (an applied configuration) merged over `lhs` (the live object). */
export function mergeObjects(schema: KindSchema, lhs: JsonObject, rhs: JsonObject): JsonObject {
  const merged = mergeValue(schema, [], [], lhs, rhs);
  return isObject(merged) ? merged : {};
}

function mergeValue(schema: KindSchema, names: readonly string[], path: FieldPath, l: Json, r: Json): Json {
  if (r === undefined) return deepCopy(l);
  if (l === undefined || r === null || isScalar(r)) return deepCopy(r);
  if (Array.isArray(r)) {
    if (!Array.isArray(l)) return deepCopy(r);
    const sem = schema.list(names);
    if (sem.listType === 'atomic') return deepCopy(r);
    return mergeLists(schema, names, path, sem, l, r);
  }
  if (isObject(r)) {
    if (!isObject(l) || (path.length > 0 && schema.atomicStruct(names))) return deepCopy(r);
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(l)) if (v !== undefined) out[k] = deepCopy(v);
    for (const [k, v] of Object.entries(r)) {
      if (v === undefined) continue;
      out[k] = mergeValue(schema, [...names, k], [...path, fieldElement(k)], l[k], v);
    }
    return out;
  }
  return deepCopy(r);
}

/**
 * Merges associative lists as upstream orders them: items only in the live list keep their place, items in
 * the applied list follow its order, and shared items are placed where the applied list puts them.
 */
function mergeLists(schema: KindSchema, names: readonly string[], path: FieldPath, sem: ListSemantics, l: readonly Json[], r: readonly Json[]): Json[] {
  const lItems = indexItems(schema, names, path, sem, l);
  const rItems = indexItems(schema, names, path, sem, r);
  const lKeys = [...lItems.keys()];
  const rKeys = [...rItems.keys()];
  const shared = rKeys.filter((k) => lItems.has(k));
  let sharedAt = 0;
  let nextShared: string | undefined = shared[sharedAt];
  const advanceShared = (): void => {
    sharedAt++;
    nextShared = shared[sharedAt];
  };
  const mergedFromRight = new Set<string>();
  const out: Json[] = [];
  const mergeItem = (key: string): void => {
    const li = lItems.get(key);
    const ri = rItems.get(key);
    const pe = (ri ?? li)!.pe;
    out.push(mergeValue(schema, names, [...path, pe], li?.item, ri?.item));
  };
  let li = 0;
  let ri = 0;
  // Each pass advances li or ri, so the loop ends after at most |l| + |r| passes.
  while (li < lKeys.length || ri < rKeys.length) {
    if (li < lKeys.length && ri < rKeys.length) {
      const lk = lKeys[li]!;
      if (lk === rKeys[ri]) {
        mergedFromRight.add(lk);
        mergeItem(lk);
        li++;
        ri++;
        advanceShared();
        continue;
      }
      if (rItems.has(lk) && nextShared !== undefined && nextShared !== lk) {
        li++;
        continue;
      }
    }
    if (li < lKeys.length) {
      const lk = lKeys[li]!;
      if (!rItems.has(lk)) {
        mergeItem(lk);
        li++;
        continue;
      }
      if (mergedFromRight.has(lk)) {
        li++;
        continue;
      }
    }
    if (ri < rKeys.length) {
      const rk = rKeys[ri]!;
      mergedFromRight.add(rk);
      mergeItem(rk);
      ri++;
      if (nextShared === rk) advanceShared();
    }
  }
  return out;
}

/** Drops `null` values from objects, as decoding into typed objects does. */
export function dropNulls(v: Json): Json {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (isObject(v)) {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = dropNulls(x);
    return out;
  }
  return v;
}

// -------------------------------------------------------------------------------------------- remove

/**
 * Removes the members of `toRemove` (each with everything below it) from `obj`. Maps and lists on the way
 * that end up empty are dropped, as upstream's removal yields null for them.
 */
export function removeFields(schema: KindSchema, obj: JsonObject, toRemove: FieldSet): JsonObject {
  const out = removeIn(schema, [], [], obj, toRemove);
  return isObject(out) ? out : {};
}

function removeIn(schema: KindSchema, names: readonly string[], path: FieldPath, v: Json, toRemove: FieldSet): Json {
  if (Array.isArray(v)) {
    const sem = schema.list(names);
    if (sem.listType === 'atomic' || v.length === 0) return v;
    const kept: Json[] = [];
    v.forEach((item, i) => {
      const pe = schema.itemElement(names, path, sem, item, i);
      if (toRemove.hasMember(pe)) return;
      const sub = toRemove.child(pe);
      kept.push(sub.isEmpty() ? item : removeIn(schema, names, [...path, pe], item, sub));
    });
    return kept.length > 0 ? kept : undefined;
  }
  if (isObject(v)) {
    if ((path.length > 0 && schema.atomicStruct(names)) || Object.keys(v).length === 0) return v;
    const kept: JsonObject = {};
    for (const [k, x] of Object.entries(v)) {
      const pe = fieldElement(k);
      if (toRemove.hasMember(pe)) continue;
      const sub = toRemove.child(pe);
      const nx = sub.isEmpty() ? x : removeIn(schema, [...names, k], [...path, pe], x, sub);
      if (nx !== undefined) kept[k] = nx;
    }
    return Object.keys(kept).length > 0 ? kept : undefined;
  }
  return v;
}

/** A stable identity for a JSON value (for tests and equality of sets of values). */
export const jsonKey = (v: unknown): string => sortedJson(v);
