// JSON value helpers shared by the patch engines: narrowing, cloning, structural equality, parsing a request
// body, and Go-style renderings used where upstream puts Go values into error messages. Pure.
import { apiErrors } from '../errors.ts';

export type JsonObject = Record<string, unknown>;

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A deep copy of a JSON value (objects, arrays, scalars). */
export function cloneJson<T>(v: T): T {
  if (Array.isArray(v)) return v.map((x: unknown) => cloneJson(x)) as T;
  if (isJsonObject(v)) {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) out[k] = cloneJson(x);
    return out as T;
  }
  return v;
}

/** Structural equality of JSON values; object key order is irrelevant. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isJsonObject(a)) {
    if (!isJsonObject(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

export type JsonType = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';

export function jsonType(v: unknown): JsonType {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  return 'object';
}

/** Parses a patch body; malformed JSON is a 400 as kube-apiserver answers it. */
export function parsePatchBody(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw apiErrors.badRequest(`error decoding patch: ${why}`, e);
  }
}

/** The Go type name upstream's messages use for a decoded JSON value (integers decode as int64). */
export function goTypeName(v: unknown): string {
  switch (jsonType(v)) {
    case 'null': return '<nil>';
    case 'array': return '[]interface {}';
    case 'object': return 'map[string]interface {}';
    case 'boolean': return 'bool';
    case 'string': return 'string';
    case 'number': return Number.isInteger(v) ? 'int64' : 'float64';
  }
}

/** The word encoding/json uses for a JSON value in "cannot unmarshal X into …". */
export function goJsonKind(v: unknown): string {
  switch (jsonType(v)) {
    case 'null': return 'null';
    case 'array': return 'array';
    case 'object': return 'object';
    case 'boolean': return 'bool';
    case 'string': return 'string';
    case 'number': return 'number';
  }
}

/** Go's %v of a decoded JSON value: `map[a:1 b:[x y]]`, `<nil>`, bare strings. */
export function goFormat(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goFormat).join(' ')}]`;
  if (isJsonObject(v)) {
    const keys = Object.keys(v).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[${keys.map((k) => `${k}:${goFormat(v[k])}`).join(' ')}]`;
  }
  return String(v);
}
