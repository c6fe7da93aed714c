// Strategic merge patch (application/strategic-merge-patch+json) as kube-apiserver applies it to built-in
// kinds: the server side of upstream's apimachinery `strategicpatch` (parallel lists merged, unmatched nulls
// ignored). Which lists merge, and by which key, comes from src/api/list-semantics.ts.
//
//   maps                        merged recursively; `null` deletes a key
//   lists, patchStrategy merge  maps merged by patchMergeKey (new items appended), scalars merged as a set
//   other lists                 replaced
//   `$patch: replace|delete`    in a map: replace it with the patch / empty it; in a merge list: replace the
//                               list / delete the item with that merge key (`$patch: merge` is rejected)
//   `$retainKeys: [..]`         keys of the map not listed are cleared first
//   `$deleteFromPrimitiveList/f` removes those scalars from list f
//   `$setElementOrder/f`        the order of list f's items after merging (kubectl apply sends it)
//
// Order of a merged list: items named by the patch (or by $setElementOrder) in that order, server-only items
// interleaved at their places relative to the live list.
//
// Errors carry upstream's status: malformed directives are 400, a list of lists 422, and anything else
// (a list item without its merge key, mismatched $setElementOrder) upstream's unclassified 500. Pure.
import { ApiError, apiErrors } from '../errors.ts';
import { listSemanticsAt } from '../list-semantics.ts';
import { cloneJson, goFormat, goJsonKind, goTypeName, isJsonObject, jsonType } from './json-value.ts';
import type { JsonObject, JsonType } from './json-value.ts';

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER = '$setElementOrder';

// Upstream's sentinel error texts (mergepatch package).
const ERR_BAD_PRIMITIVE_LIST = 'invalid patch format of primitive list';
const ERR_BAD_RETAIN_KEYS = 'invalid patch format of retainKeys';
const ERR_BAD_SET_ELEMENT_ORDER = 'invalid patch format of setElementOrder list';
const ERR_NO_LIST_OF_LISTS = 'lists of lists are not supported';

/** A patch upstream reports as 500 with its raw message (an error that is not a Status). */
function unclassified(message: string): ApiError {
  return new ApiError('InternalError', message);
}

const errNoMergeKey = (m: JsonObject, key: string): ApiError => unclassified(`map: ${goFormat(m)} does not contain declared merge key: ${key}`);
const errBadArgType = (expected: string, actual: unknown): ApiError => unclassified(`expected a ${expected}, but received a ${goTypeName(actual)}`);
const errBadPatchType = (t: unknown, m: JsonObject): ApiError => unclassified(`unknown patch type: ${goFormat(t)} in map: ${goFormat(m)}`);

const MAP_TYPE = 'map[string]interface {}';
const SLICE_TYPE = '[]interface {}';

interface Context {
  kind: string;
}

interface SliceMeta {
  merge: boolean;
  mergeKey: string;
}

function sliceMeta(ctx: Context, path: readonly string[]): SliceMeta {
  const sem = listSemanticsAt(ctx.kind, path);
  return { merge: sem.patchStrategy?.split(',').includes('merge') ?? false, mergeKey: sem.patchMergeKey ?? '' };
}

/** The field name after `prefix/`; a malformed directive key is a 400. */
function extractKey(s: string, prefix: string): string {
  const slash = s.indexOf('/');
  if (slash < 0 || s.slice(0, slash) !== prefix) {
    if (prefix === DELETE_FROM_PRIMITIVE_LIST) throw apiErrors.badRequest(ERR_BAD_PRIMITIVE_LIST);
    if (prefix === SET_ELEMENT_ORDER) throw apiErrors.badRequest(ERR_BAD_SET_ELEMENT_ORDER);
    throw unclassified(`fail to find unknown prefix "${prefix}" in ${s}\n`);
  }
  return s.slice(slash + 1);
}

/** Drops maps carrying `$patch` (and recursively their members); returns [value, keep]. */
function removeDirectives(obj: unknown): [unknown, boolean] {
  if (isJsonObject(obj)) {
    if (Object.hasOwn(obj, DIRECTIVE)) return [null, false];
    for (const k of Object.keys(obj)) {
      const [v, keep] = removeDirectives(obj[k]);
      if (keep) obj[k] = v;
      else delete obj[k];
    }
    return [obj, true];
  }
  if (Array.isArray(obj)) {
    const out: unknown[] = [];
    for (const item of obj) {
      const [v, keep] = removeDirectives(item);
      if (keep) out.push(v);
    }
    return [out, true];
  }
  return [obj, true];
}

function discardNullValues(v: unknown): void {
  if (isJsonObject(v)) {
    for (const k of Object.keys(v)) {
      if (v[k] === null) delete v[k];
      else discardNullValues(v[k]);
    }
  } else if (Array.isArray(v)) {
    for (const item of v) discardNullValues(item);
  }
}

/** Element type shared by all items of the lists; mixed types or lists of lists are errors, as upstream. */
function sliceElementType(...lists: readonly (readonly unknown[])[]): JsonType {
  let prev: JsonType | undefined;
  for (const list of lists) {
    for (const v of list) {
      const t = jsonType(v);
      if (prev === undefined) {
        prev = t;
        if (t === 'array') throw new ApiError('Invalid', 'the server rejected our request due to an error in our request', {}, { cause: new Error(ERR_NO_LIST_OF_LISTS) });
      } else if (prev !== t) {
        throw unclassified(`list element types are not identical: [${lists.map((l) => goFormat(l)).join(' ')}]`);
      }
    }
  }
  if (prev === undefined) throw unclassified('no elements in any of the given slices');
  return prev;
}

/** Go's `==` on decoded JSON interface values, as used for merge keys and scalar items. */
const same = (a: unknown, b: unknown): boolean => a === b || (a === undefined && b === null) || (a === null && b === undefined);

/** Index of `val` in `list`: by merge key for maps, by value for scalars; -1 when absent. */
function indexIn(list: readonly unknown[], val: unknown, mergeKey: string, kind: JsonType): number {
  const key = (item: unknown): unknown => (kind === 'object' ? (isJsonObject(item) ? item[mergeKey] : undefined) : item);
  const want = key(val);
  return list.findIndex((item) => same(key(item), want));
}

function findByKey(list: readonly unknown[], mergeKey: string, value: unknown): number {
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (!isJsonObject(item)) throw unclassified(`value for key ${i} is not a map`);
    if (Object.hasOwn(item, mergeKey) && same(item[mergeKey], value)) return i;
  }
  return -1;
}

function validateMergeKeyInLists(mergeKey: string, ...lists: readonly (readonly unknown[])[]): void {
  for (const list of lists) {
    for (const item of list) {
      if (!isJsonObject(item)) throw errBadArgType(MAP_TYPE, item);
      if (!Object.hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
    }
  }
}

/** Splits out items marked `$patch: delete`. */
function extractToDeleteItems(list: readonly unknown[]): [unknown[], unknown[]] {
  const keep: unknown[] = [];
  const del: unknown[] = [];
  for (const v of list) {
    if (!isJsonObject(v)) throw errBadArgType(MAP_TYPE, v);
    if (v[DIRECTIVE] === 'delete') del.push(v);
    else keep.push(v);
  }
  return [keep, del];
}

/** Sorts `toSort` by position in `order` (stable; items absent from `order` keep their relative place last). */
function normalizeSliceOrder(toSort: unknown[], order: readonly unknown[], mergeKey: string, kind: JsonType): unknown[] {
  let items = toSort;
  let toDelete: unknown[] = [];
  if (kind === 'object') {
    validateMergeKeyInLists(mergeKey, items, order);
    [items, toDelete] = extractToDeleteItems(items);
  }
  const positions = new Map<unknown, number>();
  for (const item of items) {
    const i = indexIn(order, item, mergeKey, kind);
    positions.set(item, i < 0 ? Number.MAX_SAFE_INTEGER : i);
  }
  const sorted = [...items].sort((a, b) => (positions.get(a) ?? 0) - (positions.get(b) ?? 0));
  return [...sorted, ...toDelete];
}

/**
 * Interleaves server-only items (`left`) into patch items (`right`), both already sorted: a server-only item
 * goes before the next patch item when the live list has it earlier; otherwise patch items come first.
 */
function mergeSortedSlice(left: readonly unknown[], right: readonly unknown[], serverOrder: readonly unknown[], mergeKey: string, kind: JsonType): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey, kind);
      const ri = indexIn(serverOrder, right[j], mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

function normalizeElementOrder(patch: unknown[], serverOnly: unknown[], patchOrder: readonly unknown[], serverOrder: readonly unknown[], mergeKey: string, kind: JsonType): unknown[] {
  const p = normalizeSliceOrder(patch, patchOrder, mergeKey, kind);
  const s = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSortedSlice(s, p, serverOrder, mergeKey, kind);
}

function partitionPrimitives(list: readonly unknown[], by: readonly unknown[]): [unknown[], unknown[]] {
  const inPatch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of list) (by.some((b) => same(b, v)) ? inPatch : serverOnly).push(v);
  return [inPatch, serverOnly];
}

function partitionMaps(list: readonly unknown[], by: readonly unknown[], mergeKey: string): [unknown[], unknown[]] {
  const inPatch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of list) {
    if (!isJsonObject(v)) throw errBadArgType(MAP_TYPE, v);
    if (!Object.hasOwn(v, mergeKey)) throw errNoMergeKey(v, mergeKey);
    (findByKey(by, mergeKey, v[mergeKey]) >= 0 ? inPatch : serverOnly).push(v);
  }
  return [inPatch, serverOnly];
}

/** Go's in-place de-duplication (a later duplicate is overwritten by the last item). */
function deduplicateScalars(input: unknown[]): unknown[] {
  const s = [...input];
  let length = s.length - 1;
  for (let i = 0; i < length; i++) {
    for (let j = i + 1; j <= length; j++) {
      if (same(s[i], s[j])) {
        s[j] = s[length];
        s.length = length;
        length--;
        j--;
      }
    }
  }
  return s;
}

/** Applies `$patch` items of a merge list: `delete` removes matching originals, `replace` drops the originals. */
function mergeSliceWithSpecialElements(original: unknown[], patch: readonly unknown[], mergeKey: string): [unknown[], unknown[]] {
  const plain: unknown[] = [];
  let orig = original;
  let replace = false;
  for (const v of patch) {
    const item = v as JsonObject; // element type already checked to be maps
    if (!Object.hasOwn(item, DIRECTIVE)) {
      plain.push(v);
      continue;
    }
    const directive = item[DIRECTIVE];
    if (directive === 'delete') {
      if (!Object.hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
      const value = item[mergeKey];
      orig = orig.filter((o) => !(isJsonObject(o) && Object.hasOwn(o, mergeKey) && same(o[mergeKey], value)));
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      throw unclassified('merging lists cannot yet be specified in the patch');
    } else {
      throw errBadPatchType(directive, item);
    }
  }
  return replace ? [plain, []] : [orig, plain];
}

function mergeSliceWithoutSpecialElements(ctx: Context, original: unknown[], patch: readonly unknown[], mergeKey: string, path: readonly string[]): unknown[] {
  const out = [...original];
  for (const v of patch) {
    const item = v as JsonObject;
    if (!Object.hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
    const at = findByKey(out, mergeKey, item[mergeKey]);
    if (at >= 0) out[at] = mergeMap(ctx, out[at] as JsonObject, item, path);
    else out.push(v);
  }
  return out;
}

function mergeSlice(ctx: Context, original: unknown[], patch: unknown[], path: readonly string[], mergeKey: string, isDeleteList: boolean): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = sliceElementType(original, patch);
  let merged: unknown[];
  let orig = original;
  let pat = patch;
  if (kind !== 'object') {
    if (isDeleteList) return original.filter((v) => !patch.some((d) => same(d, v)));
    merged = deduplicateScalars([...original, ...patch]);
  } else {
    if (mergeKey === '') throw unclassified(`cannot merge lists without merge key for ${path.join('.')}`);
    [orig, pat] = mergeSliceWithSpecialElements(original, patch, mergeKey);
    merged = mergeSliceWithoutSpecialElements(ctx, orig, pat, mergeKey, path);
  }
  const [inPatch, serverOnly] = mergeKey === '' ? partitionPrimitives(merged, pat) : partitionMaps(merged, pat, mergeKey);
  return normalizeElementOrder(inPatch, serverOnly, pat, orig, mergeKey, kind);
}

function mergeSliceHandler(ctx: Context, original: unknown, patch: unknown, path: readonly string[], meta: SliceMeta, isDeleteList: boolean): unknown[] {
  if (!Array.isArray(original)) throw errBadArgType(SLICE_TYPE, original);
  if (!Array.isArray(patch)) throw errBadArgType(SLICE_TYPE, patch);
  if (meta.merge || isDeleteList) return mergeSlice(ctx, original, patch, path, meta.mergeKey, isDeleteList);
  return patch;
}

function handleDirectiveInMap(directive: unknown, patch: JsonObject): JsonObject {
  if (directive === 'replace') {
    delete patch[DIRECTIVE];
    return patch;
  }
  if (directive === 'delete') return {};
  throw errBadPatchType(directive, patch);
}

function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  if (!Object.hasOwn(patch, RETAIN_KEYS)) return;
  const retain = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(retain)) throw apiErrors.badRequest(ERR_BAD_RETAIN_KEYS);
  const keep = new Set<unknown>(retain);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!keep.has(k)) throw apiErrors.badRequest(ERR_BAD_RETAIN_KEYS);
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

function validatePatchWithSetOrderList(patchList: readonly unknown[], setOrder: readonly unknown[], mergeKey: string): void {
  if (setOrder.length === 0 || patchList.length === 0) return;
  const nonDelete = mergeKey !== '' ? extractToDeleteItems(patchList)[0] : patchList;
  const keyEqual = (l: unknown, r: unknown): boolean => {
    if (mergeKey === '') return same(l, r);
    if (!isJsonObject(l)) throw errBadArgType(MAP_TYPE, l);
    if (!isJsonObject(r)) throw errBadArgType(MAP_TYPE, r);
    if (!Object.hasOwn(l, mergeKey)) throw errNoMergeKey(l, mergeKey);
    if (!Object.hasOwn(r, mergeKey)) throw errNoMergeKey(r, mergeKey);
    return same(l[mergeKey], r[mergeKey]);
  };
  let p = 0;
  let s = 0;
  while (p < nonDelete.length && s < setOrder.length) {
    const item = nonDelete[p];
    if (isJsonObject(item) && Object.hasOwn(item, DIRECTIVE)) {
      p++;
      continue;
    }
    if (keyEqual(item, setOrder[s])) p++;
    s++;
  }
  if (p < nonDelete.length && s >= setOrder.length) {
    throw unclassified(`The order in patch list:\n${goFormat(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${goFormat(setOrder)}\n`);
  }
}

/** Merges each `$setElementOrder/f` with list f and orders the result; both keys leave the patch. */
function mergePatchIntoOriginal(ctx: Context, original: JsonObject, patch: JsonObject, path: readonly string[]): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const setOrder = patch[key];
    delete patch[key];
    if (!Array.isArray(setOrder)) throw errBadArgType(SLICE_TYPE, setOrder);
    const field = extractKey(key, SET_ELEMENT_ORDER);
    const foundOriginal = Object.hasOwn(original, field);
    const foundPatch = Object.hasOwn(patch, field);
    const originalList = original[field];
    const patchList = patch[field];
    if (foundOriginal && !Array.isArray(originalList)) throw errBadArgType(SLICE_TYPE, originalList);
    if (foundPatch && !Array.isArray(patchList)) throw errBadArgType(SLICE_TYPE, patchList);
    const originalValue: unknown[] = Array.isArray(originalList) ? originalList : [];
    const patchValue: unknown[] = Array.isArray(patchList) ? patchList : [];
    const fieldPath = [...path, field];
    const meta = sliceMeta(ctx, fieldPath);
    validatePatchWithSetOrderList(patchValue, setOrder, meta.mergeKey);
    let merged: unknown[];
    if (foundOriginal && !foundPatch) merged = originalValue;
    else if (!foundOriginal && foundPatch) merged = removeDirectives(patchValue)[0] as unknown[];
    else if (foundOriginal && foundPatch) merged = mergeSliceHandler(ctx, originalValue, patchValue, fieldPath, meta, false);
    else continue;
    const [inOrder, serverOnly] = meta.mergeKey === '' ? partitionPrimitives(merged, setOrder) : partitionMaps(merged, setOrder, meta.mergeKey);
    const kind = sliceElementType(originalValue, patchValue);
    original[field] = normalizeElementOrder(inOrder, serverOnly, setOrder, originalValue, meta.mergeKey, kind);
    delete patch[field];
  }
}

/** Takes a patch value for a key the original lacks (or holds with another type). */
function takePatchValue(original: JsonObject, key: string, patchValue: unknown): void {
  discardNullValues(patchValue);
  const [v, keep] = removeDirectives(patchValue);
  if (keep) original[key] = v;
  else delete original[key];
}

function mergeMap(ctx: Context, original: JsonObject | undefined, patch: JsonObject, path: readonly string[]): JsonObject {
  if (Object.hasOwn(patch, DIRECTIVE)) return handleDirectiveInMap(patch[DIRECTIVE], patch);
  const orig = original ?? {};
  applyRetainKeys(orig, patch);
  mergePatchIntoOriginal(ctx, orig, patch, path);
  for (const [rawKey, patchValue] of Object.entries(patch)) {
    let key = rawKey;
    let isDeleteList = false;
    if (rawKey.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      key = extractKey(rawKey, DELETE_FROM_PRIMITIVE_LIST);
      isDeleteList = true;
    }
    if (patchValue === null) {
      delete orig[key];
      continue;
    }
    if (!Object.hasOwn(orig, key) || jsonType(orig[key]) !== jsonType(patchValue)) {
      if (!isDeleteList) takePatchValue(orig, key, patchValue);
      continue;
    }
    const current = orig[key];
    const childPath = [...path, key];
    if (isJsonObject(current) && isJsonObject(patchValue)) {
      orig[key] = mergeMap(ctx, current, patchValue, childPath);
    } else if (Array.isArray(current)) {
      orig[key] = mergeSliceHandler(ctx, current, patchValue, childPath, sliceMeta(ctx, childPath), isDeleteList);
    } else {
      const [v, keep] = removeDirectives(patchValue);
      if (keep) orig[key] = v;
      else delete orig[key];
    }
  }
  return orig;
}

/** What a typed round trip would drop: null members and directive keys left in list items taken from the patch. */
function isDirectiveKey(k: string): boolean {
  return k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(`${SET_ELEMENT_ORDER}/`) || k.startsWith(`${DELETE_FROM_PRIMITIVE_LIST}/`);
}

function scrub(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(scrub);
  if (isJsonObject(v)) {
    for (const k of Object.keys(v)) {
      if (v[k] === null || isDirectiveKey(k)) delete v[k];
      else v[k] = scrub(v[k]);
    }
  }
  return v;
}

/**
 * Applies a strategic merge patch to `original` (an object of built-in `kind`) and returns the result; the
 * inputs are not modified. A null patch changes nothing; a patch that is not an object is a 400.
 */
export function strategicMergePatch(kind: string, original: unknown, patch: unknown): unknown {
  if (patch === null) return cloneJson(original);
  if (!isJsonObject(patch)) throw apiErrors.badRequest(`json: cannot unmarshal ${goJsonKind(patch)} into Go value of type map[string]interface {}`);
  const base = isJsonObject(original) ? cloneJson(original) : {};
  return scrub(mergeMap({ kind }, base, cloneJson(patch), []));
}
