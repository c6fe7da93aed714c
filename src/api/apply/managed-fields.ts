// metadata.managedFields as upstream's field manager reads and writes it: entries are keyed by a manager
// identity (manager, operation, apiVersion for Update, subresource), decoded into field sets, and written
// back sorted (Apply before Update, then by time, manager, apiVersion, subresource).
// Pure.
import type { ManagedFieldsEntry } from '../types.ts';
import { FieldSet } from './field-set.ts';

export interface ManagerIdentity {
  manager: string;
  operation: 'Apply' | 'Update';
  /** For Update entries part of the identity; Apply entries carry it but are identified without it. */
  apiVersion: string;
  subresource?: string;
}

export interface ManagedSet {
  id: ManagerIdentity;
  set: FieldSet;
  time?: string;
}

/** Managers by identity key, in decode order. */
export type Managed = Map<string, ManagedSet>;

/**
 * Upstream's manager identifier: the entry without fields, time, fieldsType, and (for Apply) apiVersion,
 * as JSON in the field order of ManagedFieldsEntry.
 */
export function managerKey(id: ManagerIdentity): string {
  const o: Record<string, string> = { manager: id.manager, operation: id.operation };
  if (id.operation === 'Update' && id.apiVersion !== '') o['apiVersion'] = id.apiVersion;
  if (id.subresource) o['subresource'] = id.subresource;
  return JSON.stringify(o);
}

/** Whether a request's managedFields asks to reset them: an empty list, or a list of one empty entry. */
export function isResetManagedFields(entries: readonly ManagedFieldsEntry[] | undefined): boolean {
  if (entries === undefined) return false;
  if (entries.length === 0) return true;
  return entries.length === 1 && Object.keys(entries[0] ?? {}).length === 0;
}

/** Decodes managedFields; throws Error on an entry upstream would reject. Later duplicates win. */
export function decodeManaged(entries: readonly ManagedFieldsEntry[] | undefined): Managed {
  const out: Managed = new Map();
  (entries ?? []).forEach((e, i) => {
    if (e.operation !== 'Apply' && e.operation !== 'Update') throw new Error('operation must be `Apply` or `Update`');
    if (!e.apiVersion) throw new Error('apiVersion must not be empty');
    if (e.fieldsType === undefined || (e.fieldsType as string) === '') throw new Error(`missing fieldsType in managed fields entry ${i}`);
    if (e.fieldsType !== 'FieldsV1') throw new Error(`invalid fieldsType ${JSON.stringify(e.fieldsType)} in managed fields entry ${i}`);
    const id: ManagerIdentity = { manager: e.manager ?? '', operation: e.operation, apiVersion: e.apiVersion };
    if (e.subresource) id.subresource = e.subresource;
    const set = FieldSet.fromFieldsV1(e.fieldsV1 ?? {});
    const ms: ManagedSet = { id, set };
    if (e.time !== undefined) ms.time = e.time;
    out.set(managerKey(id), ms);
  });
  return out;
}

/** Decodes, or an empty map when upstream would fail to decode. */
export function decodeManagedOrEmpty(entries: readonly ManagedFieldsEntry[] | undefined): Managed {
  try {
    return decodeManaged(entries);
  } catch {
    return new Map();
  }
}

const seconds = (t: string | undefined): number => {
  if (t === undefined) return 0;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
};

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Encodes managers into entries in upstream's order; undefined when there are none. */
export function encodeManaged(managed: Managed): ManagedFieldsEntry[] | undefined {
  const entries: ManagedFieldsEntry[] = [];
  for (const ms of managed.values()) {
    if (ms.set.isEmpty()) continue;
    const e: ManagedFieldsEntry = { manager: ms.id.manager, operation: ms.id.operation, apiVersion: ms.id.apiVersion };
    if (ms.time !== undefined) e.time = ms.time;
    e.fieldsType = 'FieldsV1';
    e.fieldsV1 = ms.set.toFieldsV1();
    if (ms.id.subresource) e.subresource = ms.id.subresource;
    entries.push(e);
  }
  if (entries.length === 0) return undefined;
  entries.sort(
    (p, q) =>
      cmp(p.operation ?? '', q.operation ?? '') ||
      seconds(p.time) - seconds(q.time) ||
      cmp(p.manager ?? '', q.manager ?? '') ||
      cmp(p.apiVersion ?? '', q.apiVersion ?? '') ||
      cmp(p.subresource ?? '', q.subresource ?? ''),
  );
  return entries;
}

export const MAX_UPDATE_MANAGERS = 10;
const ANCIENT_CHANGES = 'ancient-changes';

/**
 * Keeps at most MAX_UPDATE_MANAGERS Update entries by merging the oldest ones into per-apiVersion
 * `ancient-changes` buckets, as upstream's capManagersManager does.
 */
export function capUpdateManagers(managed: Managed, max: number = MAX_UPDATE_MANAGERS): Managed {
  const updaters = [...managed.entries()].filter(([, ms]) => ms.id.operation === 'Update').map(([k]) => k);
  if (updaters.length <= max) return managed;
  updaters.sort((a, b) => seconds(managed.get(a)?.time) - seconds(managed.get(b)?.time) || cmp(a, b));
  const firstByVersion = new Map<string, string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > max; i++) {
    const key = updaters[i]!;
    const ms = managed.get(key);
    if (ms === undefined) continue;
    const version = ms.id.apiVersion;
    const bucketId: ManagerIdentity = { manager: ANCIENT_CHANGES, operation: 'Update', apiVersion: version };
    const bucketKey = managerKey(bucketId);
    const first = firstByVersion.get(version);
    if (first === undefined) {
      firstByVersion.set(version, key);
      continue;
    }
    if (!managed.has(bucketKey)) {
      const firstSet = managed.get(first);
      managed.delete(first);
      if (firstSet !== undefined) managed.set(bucketKey, { id: bucketId, set: firstSet.set, ...(firstSet.time !== undefined ? { time: firstSet.time } : {}) });
    }
    const bucket = managed.get(bucketKey)!;
    const merged: ManagedSet = { id: bucketId, set: ms.set.union(bucket.set) };
    if (ms.time !== undefined) merged.time = ms.time;
    managed.set(bucketKey, merged);
    managed.delete(key);
    length--;
  }
  return managed;
}

/** Entries equal apart from their timestamps. */
export function sameIgnoringTimes(a: readonly ManagedFieldsEntry[] | undefined, b: readonly ManagedFieldsEntry[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) {
    const { time: _t1, ...p } = x[i]!;
    const { time: _t2, ...q } = y[i]!;
    if (JSON.stringify(sortKeys(p)) !== JSON.stringify(sortKeys(q))) return false;
  }
  return true;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}
