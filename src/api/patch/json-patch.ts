// RFC 6902 JSON Patch (application/json-patch+json) as kube-apiserver applies it: operations add, remove,
// replace, move, copy and test over RFC 6901 pointers (`~1` is `/`, `~0` is `~`, `-` appends to an array).
// A body that is not a list of operations is a 400; an operation that cannot be applied (a failed test, a
// missing path) is upstream's generic 422 "the server rejected our request due to an error in our request",
// the specific reason kept as the error's cause. Pure.
import { ApiError, apiErrors } from '../errors.ts';
import { cloneJson, goJsonKind, isJsonObject, jsonEqual, parsePatchBody } from './json-value.ts';
import type { JsonObject } from './json-value.ts';

/** Upstream's cap on operations in one JSON patch. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

export interface JsonPatchOperation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
  /** Whether the operation object carried a `value` member (a `null` value is still a value). */
  hasValue: boolean;
}

/** Why an operation failed; becomes the cause of the 422 ApiError. */
export class JsonPatchError extends Error {
  override readonly name = 'JsonPatchError';
}

/** The 422 kube-apiserver returns for a JSON patch it could decode but not apply. */
export function jsonPatchApplyError(cause: unknown): ApiError {
  return new ApiError('Invalid', 'the server rejected our request due to an error in our request', {}, { cause });
}

/** Decodes a JSON patch body into operations; 400 for malformed JSON or a non-list, 413 past the cap. */
export function parseJsonPatch(body: string): JsonPatchOperation[] {
  const doc = parsePatchBody(body);
  if (doc === null) return [];
  if (!Array.isArray(doc)) throw apiErrors.badRequest(`json: cannot unmarshal ${goJsonKind(doc)} into Go value of type jsonpatch.Patch`);
  const ops = doc.map((item): JsonPatchOperation => {
    if (item !== null && !isJsonObject(item)) {
      throw apiErrors.badRequest(`json: cannot unmarshal ${goJsonKind(item)} into Go value of type jsonpatch.Operation`);
    }
    const o: JsonObject = item ?? {};
    const op: JsonPatchOperation = {
      op: typeof o.op === 'string' ? o.op : '',
      path: typeof o.path === 'string' ? o.path : '',
      hasValue: Object.hasOwn(o, 'value'),
    };
    if (!Object.hasOwn(o, 'path') || typeof o.path !== 'string') op.path = '\u0000missing';
    if (typeof o.from === 'string') op.from = o.from;
    if (op.hasValue) op.value = o.value;
    return op;
  });
  if (ops.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new ApiError('RequestEntityTooLarge', `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${ops.length}`);
  }
  return ops;
}

/** RFC 6901: splits a pointer into unescaped reference tokens; `""` is the whole document. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new JsonPatchError(`JSON pointer must be empty or start with "/": ${JSON.stringify(pointer)}`);
  return pointer.slice(1).split('/').map((token) => {
    if (/~[^01]|~$/.test(token)) throw new JsonPatchError(`invalid escape in JSON pointer token ${JSON.stringify(token)}`);
    return token.replace(/~1/g, '/').replace(/~0/g, '~');
  });
}

/** An array index token: decimal digits (a leading `-n` counts from the end, as upstream allows). */
function arrayIndex(token: string, length: number, forInsert: boolean, pointer: string): number {
  if (!/^-?[0-9]+$/.test(token)) throw new JsonPatchError(`invalid array index ${JSON.stringify(token)} in ${pointer}`);
  let idx = Number(token);
  const max = forInsert ? length : length - 1;
  if (idx < 0) {
    if (idx < -length) throw new JsonPatchError(`array index ${idx} out of bounds in ${pointer}`);
    idx += length;
  }
  if (idx > max) throw new JsonPatchError(`array index ${idx} out of bounds in ${pointer}`);
  return idx;
}

interface Location {
  parent: JsonObject | unknown[];
  key: string;
}

/** The container holding the pointer's last token; it must exist. */
function locate(doc: unknown, tokens: readonly string[], pointer: string): Location {
  let cur: unknown = doc;
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i] ?? '';
    if (Array.isArray(cur)) cur = cur[arrayIndex(t, cur.length, false, pointer)];
    else if (isJsonObject(cur) && Object.hasOwn(cur, t)) cur = cur[t];
    else throw new JsonPatchError(`doc is missing path: ${pointer}`);
  }
  if (!Array.isArray(cur) && !isJsonObject(cur)) throw new JsonPatchError(`doc is missing path: ${pointer}`);
  return { parent: cur, key: tokens[tokens.length - 1] ?? '' };
}

function getAt(doc: unknown, pointer: string): { found: boolean; value: unknown } {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return { found: true, value: doc };
  let loc: Location;
  try {
    loc = locate(doc, tokens, pointer);
  } catch {
    return { found: false, value: undefined };
  }
  if (Array.isArray(loc.parent)) {
    if (!/^-?[0-9]+$/.test(loc.key)) return { found: false, value: undefined };
    const n = Number(loc.key);
    const idx = n < 0 ? n + loc.parent.length : n;
    return idx >= 0 && idx < loc.parent.length ? { found: true, value: loc.parent[idx] } : { found: false, value: undefined };
  }
  return Object.hasOwn(loc.parent, loc.key) ? { found: true, value: loc.parent[loc.key] } : { found: false, value: undefined };
}

/** Returns the new document (the root may be replaced). */
function add(doc: unknown, pointer: string, value: unknown): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, key } = locate(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    const idx = key === '-' ? parent.length : arrayIndex(key, parent.length, true, pointer);
    parent.splice(idx, 0, value);
  } else {
    parent[key] = value;
  }
  return doc;
}

function remove(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) throw new JsonPatchError('cannot remove the whole document');
  const { parent, key } = locate(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    parent.splice(arrayIndex(key, parent.length, false, pointer), 1);
  } else {
    if (!Object.hasOwn(parent, key)) throw new JsonPatchError(`Unable to remove nonexistent key: ${key}: missing value`);
    delete parent[key];
  }
  return doc;
}

function replace(doc: unknown, pointer: string, value: unknown): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, key } = locate(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    parent[arrayIndex(key, parent.length, false, pointer)] = value;
  } else {
    if (!Object.hasOwn(parent, key)) throw new JsonPatchError(`replace operation does not apply: doc is missing key: ${pointer}: missing value`);
    parent[key] = value;
  }
  return doc;
}

function required(op: JsonPatchOperation, what: 'from' | 'value'): void {
  if (what === 'from' && op.from === undefined) throw new JsonPatchError(`${op.op} operation missing from field`);
  if (what === 'value' && !op.hasValue) throw new JsonPatchError(`${op.op} operation missing value field`);
}

function applyOne(doc: unknown, op: JsonPatchOperation): unknown {
  if (op.path === '\u0000missing') throw new JsonPatchError(`${op.op || 'unknown'} operation missing path field`);
  switch (op.op) {
    case 'add':
      required(op, 'value');
      return add(doc, op.path, cloneJson(op.value));
    case 'remove':
      return remove(doc, op.path);
    case 'replace':
      required(op, 'value');
      return replace(doc, op.path, cloneJson(op.value));
    case 'move': {
      required(op, 'from');
      const from = op.from ?? '';
      if (op.path !== from && op.path.startsWith(`${from}/`)) throw new JsonPatchError(`cannot move ${from} into its own child ${op.path}`);
      const got = getAt(doc, from);
      if (!got.found) throw new JsonPatchError(`move operation does not apply: doc is missing from path: ${from}`);
      return add(remove(doc, from), op.path, got.value);
    }
    case 'copy': {
      required(op, 'from');
      const got = getAt(doc, op.from ?? '');
      if (!got.found) throw new JsonPatchError(`copy operation does not apply: doc is missing from path: ${op.from ?? ''}`);
      return add(doc, op.path, cloneJson(got.value));
    }
    case 'test': {
      const got = getAt(doc, op.path);
      const expected = op.hasValue ? op.value : null;
      // A missing member tests equal to null, as upstream's implementation treats it.
      const actual = got.found ? got.value : null;
      if (!jsonEqual(actual, expected)) throw new JsonPatchError(`testing value ${op.path} failed: test failed`);
      return doc;
    }
    default:
      throw new JsonPatchError(`Unexpected kind: ${op.op}`);
  }
}

/**
 * Applies operations in order to a copy of `doc` and returns the result; the input is not modified.
 * Any failing operation aborts the whole patch with the 422 ApiError (cause: a JsonPatchError).
 */
export function applyJsonPatch(doc: unknown, ops: readonly JsonPatchOperation[]): unknown {
  let cur = cloneJson(doc);
  for (const op of ops) {
    try {
      cur = applyOne(cur, op);
    } catch (e) {
      if (e instanceof JsonPatchError) throw jsonPatchApplyError(e);
      throw e;
    }
  }
  return cur;
}
