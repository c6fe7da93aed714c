// What a reconciler returns: the writes its shell should make and the Events it should record. Plain
// data, no I/O. The shell applies actions in order; a conflict or failure simply ends the pass and the
// shell calls the reconciler again with fresh observed state (every reconciler is level-triggered).
import type { KubeObject, ObjectReference } from '../../api/types.ts';

/** Identifies one object for delete and patch. */
export interface ObjectTarget {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export type EventType = 'Normal' | 'Warning';

/** An Event to record now (the shell fills in names, timestamps and counts). */
export interface EventRecord {
  type: EventType;
  reason: string;
  message: string;
  involvedObject: ObjectReference;
  /** The reporting component (`default-scheduler`, `replicaset-controller`, ...). */
  source: string;
}

/**
 * An Event to record once an action's outcome is known. `append: 'name'` appends the created object's
 * name (for objects created by generateName, e.g. "Created pod: " + name); `append: 'error'` appends the
 * error message.
 */
export interface ActionEvent extends EventRecord {
  append?: 'name' | 'error';
}

export interface CreateAction {
  verb: 'create';
  /** apiVersion, kind, metadata.namespace and metadata.name or generateName are set. */
  object: KubeObject;
  /** `binding`: POST to pods/{metadata.name}/binding (the object is a Binding). */
  subresource?: 'binding';
  onSuccess?: ActionEvent;
  onFailure?: ActionEvent;
}

export interface UpdateAction {
  verb: 'update';
  /** The full new object, carrying the observed metadata.resourceVersion (optimistic concurrency). */
  object: KubeObject;
  /** `status`: PUT .../status; `finalize`: PUT namespaces/{name}/finalize. */
  subresource?: 'status' | 'finalize';
  onSuccess?: ActionEvent;
  onFailure?: ActionEvent;
}

export interface PatchAction {
  verb: 'patch';
  target: ObjectTarget;
  /** A JSON merge patch (RFC 7386); lists in it replace the whole list. */
  patch: Record<string, unknown>;
  subresource?: 'status';
  onSuccess?: ActionEvent;
  onFailure?: ActionEvent;
}

export interface DeleteAction {
  verb: 'delete';
  target: ObjectTarget;
  /** DeleteOptions.preconditions.uid: only delete this incarnation. */
  uid?: string;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  /**
   * Garbage collection: owners that must be confirmed absent with a live read (not the cache) before
   * deleting, as upstream's garbage collector does.
   */
  verifyOwnersAbsent?: ObjectTarget[];
  onSuccess?: ActionEvent;
  onFailure?: ActionEvent;
}

export type Action = CreateAction | UpdateAction | PatchAction | DeleteAction;

export interface ReconcileResult {
  actions: Action[];
  events: EventRecord[];
  /** Call again after this many seconds even if nothing changes (e.g. minReadySeconds pending). */
  requeueAfterSeconds?: number;
}

/** The kind an action writes (its object's or its target's). */
export function actionKind(action: Action): string | undefined {
  return action.verb === 'create' || action.verb === 'update' ? action.object.kind : action.target.kind;
}

/** An ObjectReference to `obj` for Events and targetRefs. */
export function referenceTo(obj: KubeObject, fallback: { apiVersion: string; kind: string }): ObjectReference {
  const ref: ObjectReference = { kind: obj.kind ?? fallback.kind, apiVersion: obj.apiVersion ?? fallback.apiVersion };
  if (obj.metadata.namespace !== undefined) ref.namespace = obj.metadata.namespace;
  if (obj.metadata.name !== undefined) ref.name = obj.metadata.name;
  if (obj.metadata.uid !== undefined) ref.uid = obj.metadata.uid;
  if (obj.metadata.resourceVersion !== undefined) ref.resourceVersion = obj.metadata.resourceVersion;
  return ref;
}

export function targetOf(obj: KubeObject, fallback: { apiVersion: string; kind: string }): ObjectTarget {
  const target: ObjectTarget = { apiVersion: obj.apiVersion ?? fallback.apiVersion, kind: obj.kind ?? fallback.kind, name: obj.metadata.name ?? '' };
  if (obj.metadata.namespace !== undefined) target.namespace = obj.metadata.namespace;
  return target;
}

export function event(source: string, involvedObject: ObjectReference, type: EventType, reason: string, message: string): EventRecord {
  return { type, reason, message, involvedObject, source };
}

/** A structural deep copy of JSON-like data (objects from the API are JSON). */
export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** Structural equality of JSON-like data, ignoring key order; `undefined` members count as absent. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const key of keys) if (!jsonEqual(ao[key], bo[key])) return false;
  return true;
}

/** Canonical JSON: object keys sorted, `undefined` members dropped. Used for hashing and grouping. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/** Milliseconds since the epoch of an RFC 3339 timestamp, or undefined. */
export function parseTime(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** RFC 3339 with second precision, as the API serialises metav1.Time. */
export function formatTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Compares strings by UTF-16 code units (deterministic, locale-free). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
