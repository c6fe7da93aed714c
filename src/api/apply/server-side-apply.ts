// Server-side apply and managedFields bookkeeping, with kube-apiserver's semantics: the field manager
// pipeline (strip of server-owned metadata, reset fields per subresource, before-first-apply, the
// kubectl client-side-apply upgrade, the cap on Update managers, timestamps kept on no-op writes) over the
// structured-merge-diff operations in typed.ts.
// Pure.
import { ApiError } from '../errors.ts';
import { resourceByKind } from '../resources.ts';
import type { KubeObject, ManagedFieldsEntry, StatusCause } from '../types.ts';
import { FieldSet, pathOf, pathString } from './field-set.ts';
import { capUpdateManagers, decodeManaged, decodeManagedOrEmpty, encodeManaged, isResetManagedFields, managerKey, sameIgnoringTimes } from './managed-fields.ts';
import type { Managed, ManagerIdentity } from './managed-fields.ts';
import { KindSchema, TypedError, compareObjects, deepCopy, deepEqual, dropNulls, fieldSetOf, isObject, mergeObjects, removeFields } from './typed.ts';
import type { Comparison } from './typed.ts';

/** One field another manager owns that an apply would change. */
export interface Conflict {
  manager: string;
  operation: 'Apply' | 'Update';
  /** The owning entry's apiVersion (printed for Update owners). */
  apiVersion: string;
  subresource?: string;
  /** The field in upstream's path notation, e.g. `.spec.replicas`, `.spec.ports[port=80,protocol="TCP"]`. */
  path: string;
}

export interface ServerSideApplyInput {
  kind: string;
  apiVersion: string;
  live: KubeObject | undefined;
  applied: KubeObject;
  manager: string;
  force: boolean;
  /** RFC 3339 time of the request; sub-second digits are dropped as metav1.Time does. */
  now: string;
  /** Apply to a subresource (only `status` changes ownership rules). */
  subresource?: string;
}

export type ServerSideApplyResult = { object: KubeObject; conflicts?: undefined } | { conflicts: Conflict[] };

export interface UpdateManagedFieldsInput {
  kind: string;
  apiVersion: string;
  /** The stored object; undefined for a create. */
  live: KubeObject | undefined;
  /** The object about to be stored (after patching/defaulting). */
  updated: KubeObject;
  manager: string;
  operation: 'Update';
  subresource?: string;
  now: string;
}

export const BEFORE_FIRST_APPLY = 'before-first-apply';
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
const CURRENT_OPERATION = '\u0000current-operation';
const FIELD_MANAGER_MAX_LENGTH = 128;

/** Fields never owned by anyone (upstream's stripMetaManager; a non-recursive difference). */
const STRIPPED = FieldSet.of([
  pathOf('apiVersion'),
  pathOf('kind'),
  pathOf('metadata'),
  pathOf('metadata', 'name'),
  pathOf('metadata', 'namespace'),
  pathOf('metadata', 'creationTimestamp'),
  pathOf('metadata', 'selfLink'),
  pathOf('metadata', 'uid'),
  pathOf('metadata', 'clusterName'),
  pathOf('metadata', 'generation'),
  pathOf('metadata', 'managedFields'),
  pathOf('metadata', 'resourceVersion'),
]);
const STATUS = FieldSet.of([pathOf('status')]);

// ------------------------------------------------------------------------------------------- helpers

/** metav1.Time's wire form: RFC 3339 in UTC, whole seconds. */
export function toRfc3339Seconds(now: string): string {
  const ms = Date.parse(now);
  if (Number.isNaN(ms)) return now;
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function withoutManagedFields(obj: KubeObject): KubeObject {
  const copy = deepCopy(obj);
  if (isObject(copy.metadata)) delete copy.metadata.managedFields;
  else copy.metadata = {};
  return copy;
}

function hasStatusSubresource(kind: string, apiVersion: string): boolean {
  return resourceByKind(apiVersion, kind)?.subresources.includes('status') ?? false;
}

/**
 * The fields a write may own (upstream's reset fields, which the strategies reset): on the main resource
 * everything but `status` when the kind has a status subresource; on `status` only `status`.
 */
function ownershipFilter(kind: string, apiVersion: string, subresource: string | undefined): (s: FieldSet) => FieldSet {
  if (subresource === 'status') return (s) => s.withPrefixKept({ kind: 'field', name: 'status' });
  if (subresource === undefined && hasStatusSubresource(kind, apiVersion)) return (s) => s.recursiveDifference(STATUS);
  return (s) => s;
}

function filterComparison(c: Comparison, filter: (s: FieldSet) => FieldSet): Comparison {
  return { added: filter(c.added), modified: filter(c.modified), removed: filter(c.removed) };
}

function groupVersionKindString(apiVersion: string, kind: string): string {
  return `${apiVersion.includes('/') ? apiVersion : `/${apiVersion}`}, Kind=${kind}`;
}

/** Runs a typed walk, turning a TypedError into the error kube-apiserver returns. */
function typed<T>(what: string, obj: KubeObject, apiVersion: string, kind: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof TypedError)) throw e;
    const ns = obj.metadata?.namespace ?? '';
    const name = obj.metadata?.name ?? '';
    throw new ApiError('InternalError', `failed to create typed ${what} object (${ns}/${name}; ${groupVersionKindString(apiVersion, kind)}): ${e.message}`, undefined, { cause: e, code: 500 });
  }
}

// -------------------------------------------------------------------------------- the merge updater

interface Ctx {
  schema: KindSchema;
  filter: (s: FieldSet) => FieldSet;
}

type Owners = Map<string, FieldSet>;

/**
 * Upstream's Updater.update: the change from `live` to `next` takes the changed fields away from every
 * manager but `workflow` (reporting them as conflicts unless forced) and drops removed fields from all.
 */
function takeOwnership(ctx: Ctx, managed: Managed, live: KubeObject, next: KubeObject, workflow: string, force: boolean): { comparison: Comparison } | { conflicts: Owners } {
  const comparison = filterComparison(compareObjects(ctx.schema, live, next), ctx.filter);
  const changed = comparison.modified.union(comparison.added);
  const conflicts: Owners = new Map();
  for (const [key, ms] of managed) {
    if (key === workflow) continue;
    const taken = ms.set.intersection(changed);
    if (!taken.isEmpty()) conflicts.set(key, taken);
  }
  if (!force && conflicts.size > 0) return { conflicts };
  for (const [key, ms] of [...managed]) {
    if (key === workflow) continue;
    const rest = ms.set.difference(conflicts.get(key) ?? new FieldSet()).difference(comparison.removed);
    if (rest.isEmpty()) managed.delete(key);
    else managed.set(key, { ...ms, set: rest });
  }
  return { comparison };
}

/** A non-apply write by `id`: it owns what it changed, merged into its earlier entry, stamped `now`. */
function recordUpdate(ctx: Ctx, managed: Managed, live: KubeObject, next: KubeObject, id: ManagerIdentity, now: string): void {
  const result = takeOwnership(ctx, managed, live, next, CURRENT_OPERATION, true);
  if (!('comparison' in result)) return;
  const { added, modified } = result.comparison;
  const set = ctx.filter(modified.union(added)).difference(STRIPPED);
  if (set.isEmpty()) return;
  const key = managerKey(id);
  const previous = managed.get(key);
  managed.set(key, { id, set: previous === undefined ? set : set.union(previous.set), time: now });
}

interface Applied {
  object: KubeObject;
  managed: Managed;
}

/** Upstream's Updater.Apply: merge, prune what this applier dropped, then take ownership. */
function applyOnce(ctx: Ctx, managedIn: Managed, live: KubeObject, config: KubeObject, id: ManagerIdentity, force: boolean, now: string): Applied | { conflicts: Owners } {
  const managed: Managed = new Map([...managedIn].map(([k, ms]) => [k, { ...ms }]));
  const key = managerKey(id);
  let merged = dropNulls(mergeObjects(ctx.schema, live, config)) as KubeObject;
  const lastSet = managed.get(key)?.set;
  const configSet = ctx.filter(fieldSetOf(ctx.schema, config));
  managed.set(key, { id, set: configSet });
  if (lastSet !== undefined && !lastSet.isEmpty()) {
    let owned = new FieldSet();
    for (const ms of managed.values()) owned = owned.union(ms.set);
    const toRemove = lastSet.ensureNamedFieldsAreMembers().difference(owned.ensureNamedFieldsAreMembers());
    if (!toRemove.isEmpty()) merged = removeFields(ctx.schema, merged, toRemove) as KubeObject;
  }
  const result = takeOwnership(ctx, managed, live, merged, key, force);
  if ('conflicts' in result) return result;
  const stripped = configSet.difference(STRIPPED);
  if (stripped.isEmpty()) managed.delete(key);
  else managed.set(key, { id, set: stripped, time: now });
  if (!isObject(merged.metadata)) merged.metadata = {};
  return { object: merged, managed };
}

/** Fields of kubectl's last-applied annotation that still match the live object (upgrade from client-side apply). */
function allowedByLastApplied(ctx: Ctx, live: KubeObject, apiVersion: string): FieldSet | undefined {
  const raw = live.metadata.annotations?.[LAST_APPLIED_ANNOTATION];
  if (raw === undefined || raw === '') return undefined;
  let last: unknown;
  try {
    last = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isObject(last) || last['apiVersion'] !== apiVersion) return undefined;
  try {
    const lastObj = last as KubeObject;
    const set = fieldSetOf(ctx.schema, lastObj);
    const c = compareObjects(ctx.schema, lastObj, live);
    return set.difference(c.modified).difference(c.added).difference(c.removed);
  } catch (e) {
    if (e instanceof TypedError) return undefined;
    throw e;
  }
}

function conflictList(managed: Managed, owners: Owners): Conflict[] {
  const out: Conflict[] = [];
  for (const key of [...owners.keys()].sort()) {
    const id = managed.get(key)?.id;
    if (id === undefined) continue;
    for (const p of owners.get(key)!.paths()) {
      const c: Conflict = { manager: id.manager, operation: id.operation, apiVersion: id.apiVersion, path: pathString(p) };
      if (id.subresource) c.subresource = id.subresource;
      out.push(c);
    }
  }
  return out;
}

/** The object with its managed fields encoded; keeps the old entries when only their timestamps would change. */
function finish(object: KubeObject, managed: Managed, live: KubeObject | undefined): KubeObject {
  const entries = encodeManaged(managed);
  if (entries === undefined) delete object.metadata.managedFields;
  else object.metadata.managedFields = entries;
  if (live !== undefined) {
    const liveEntries: ManagedFieldsEntry[] | undefined = live.metadata.managedFields;
    if (sameIgnoringTimes(entries, liveEntries) && deepEqual(withoutManagedFields(object), withoutManagedFields(live))) {
      if (liveEntries === undefined) delete object.metadata.managedFields;
      else object.metadata.managedFields = deepCopy(liveEntries);
    }
  }
  return object;
}

// ----------------------------------------------------------------------------------------- public API

/**
 * Server-side apply of `applied` by `manager` over `live` (undefined: the object does not exist yet).
 * Returns the merged object with updated managedFields, or the conflicts when other managers own fields
 * the configuration would change and `force` is not set. Throws ApiError (400) for a configuration that
 * carries managedFields or another apiVersion, and (500) for list items the schema cannot key.
 */
export function serverSideApply(input: ServerSideApplyInput): ServerSideApplyResult {
  const { kind, apiVersion, applied, manager, force } = input;
  const now = toRfc3339Seconds(input.now);
  if (applied.apiVersion !== undefined && applied.apiVersion !== apiVersion) {
    throw new ApiError('BadRequest', `Incorrect version specified in apply patch. Specified patch version: ${applied.apiVersion}, expected: ${apiVersion}`);
  }
  if (applied.metadata?.managedFields !== undefined) throw new ApiError('BadRequest', 'metadata.managedFields must be nil');
  const ctx: Ctx = { schema: new KindSchema(kind), filter: ownershipFilter(kind, apiVersion, input.subresource) };
  let managed: Managed;
  try {
    managed = decodeManaged(input.live?.metadata.managedFields);
  } catch (e) {
    throw new ApiError('InternalError', `failed to decode managed fields: ${(e as Error).message}`, undefined, { cause: e, code: 500 });
  }
  const config = deepCopy(applied);
  let live = input.live === undefined ? ({ apiVersion, kind, metadata: {} } as KubeObject) : withoutManagedFields(input.live);
  const id: ManagerIdentity = { manager, operation: 'Apply', apiVersion };
  if (input.subresource) id.subresource = input.subresource;

  return typed('patch', applied, apiVersion, kind, () => {
    // An existing object nobody tracks yet: its current fields become owned by before-first-apply.
    if (managed.size === 0 && input.live !== undefined) {
      const empty = { apiVersion, kind, metadata: {} } as KubeObject;
      const bfa: ManagerIdentity = { manager: BEFORE_FIRST_APPLY, operation: 'Update', apiVersion };
      recordUpdate(ctx, managed, empty, live, bfa, now);
      live = withoutManagedFields(live);
    }
    let result = applyOnce(ctx, managed, live, config, id, force, now);
    if ('conflicts' in result && manager === 'kubectl') {
      const allowed = allowedByLastApplied(ctx, live, apiVersion);
      if (allowed !== undefined) {
        const remaining: Owners = new Map();
        for (const [key, set] of result.conflicts) {
          const left = FieldSet.of(set.paths().filter((p) => !allowed.has(p)));
          if (!left.isEmpty()) remaining.set(key, left);
        }
        result = remaining.size === 0 ? applyOnce(ctx, managed, live, config, id, true, now) : { conflicts: remaining };
      }
    }
    if ('conflicts' in result) return { conflicts: conflictList(managed, result.conflicts) };
    const object = result.object;
    if (manager === 'kubectl' && (input.live?.metadata.annotations?.[LAST_APPLIED_ANNOTATION] ?? '') !== '') {
      const lastApplied = deepCopy(applied);
      const annotations = lastApplied.metadata?.annotations;
      if (annotations !== undefined) {
        delete annotations[LAST_APPLIED_ANNOTATION];
        if (Object.keys(annotations).length === 0) delete lastApplied.metadata.annotations;
      }
      object.metadata.annotations = { ...(object.metadata.annotations ?? {}), [LAST_APPLIED_ANNOTATION]: `${sortedJsonOf(lastApplied)}\n` };
    }
    return { object: finish(object, capUpdateManagers(result.managed), input.live) };
  });
}

function sortedJsonOf(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJsonOf).join(',')}]`;
  if (isObject(v)) {
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJsonOf(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * managedFields for a non-apply write (create, update, patch): the writer owns the fields it changed and
 * other managers lose them. As upstream: the request's own managedFields replace the stored ones when
 * present and valid (not on subresources); `[]` or `[{}]` resets them; an existing object without
 * managedFields stays untracked; a write that changes nothing keeps the entries and their timestamps.
 */
export function updateManagedFields(input: UpdateManagedFieldsInput): KubeObject {
  const { kind, apiVersion, live, updated, manager, subresource } = input;
  const now = toRfc3339Seconds(input.now);
  const ctx: Ctx = { schema: new KindSchema(kind), filter: ownershipFilter(kind, apiVersion, subresource) };
  const isCreate = live === undefined || !live.metadata.uid;
  const requested = updated.metadata?.managedFields;
  let managed: Managed;
  if (subresource) managed = decodeManagedOrEmpty(live?.metadata.managedFields);
  else if (isResetManagedFields(requested)) managed = new Map();
  else {
    managed = decodeManagedOrEmpty(requested);
    if (managed.size === 0) managed = decodeManagedOrEmpty(live?.metadata.managedFields);
  }
  const next = withoutManagedFields(updated);
  if (managed.size === 0 && !isCreate) return next;
  const liveObj = live === undefined ? ({ apiVersion, kind, metadata: {} } as KubeObject) : withoutManagedFields(live);
  const id: ManagerIdentity = { manager, operation: 'Update', apiVersion };
  if (subresource) id.subresource = subresource;
  return typed('new', updated, apiVersion, kind, () => {
    recordUpdate(ctx, managed, liveObj, next, id, now);
    return finish(next, capUpdateManagers(managed), live);
  });
}

/** How kube-apiserver prints a manager in a conflict: `"m"`, `"m" with subresource "s"`, `... using v1`. */
export function printManager(c: Pick<Conflict, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  let s = JSON.stringify(c.manager);
  if (c.subresource) s = `${s} with subresource ${JSON.stringify(c.subresource)}`;
  return c.operation === 'Update' ? `${s} using ${c.apiVersion}` : s;
}

/**
 * The 409 kube-apiserver returns for apply conflicts (errors.NewApplyConflict): reason Conflict, one
 * FieldManagerConflict cause per field, and a message such as
 * `Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas`.
 * Upstream's details carry only the causes, not the object's kind, group or name; the arguments are
 * accepted for the caller's convenience and left out of the Status to match.
 */
export function conflictError(_kind: string, _group: string, _name: string, conflicts: readonly Conflict[]): ApiError {
  const causes: StatusCause[] = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c)}`, field: c.path }));
  let message: string;
  if (conflicts.length === 1) {
    const c = conflicts[0]!;
    message = `Apply failed with 1 conflict: conflict with ${printManager(c)}: ${c.path}`;
  } else {
    const byManager = new Map<string, { printed: string; paths: string[] }>();
    for (const c of conflicts) {
      const key = managerKey({ manager: c.manager, operation: c.operation, apiVersion: c.apiVersion, ...(c.subresource ? { subresource: c.subresource } : {}) });
      const group = byManager.get(key) ?? { printed: printManager(c), paths: [] };
      group.paths.push(c.path);
      byManager.set(key, group);
    }
    const lines: string[] = [];
    for (const key of [...byManager.keys()].sort()) {
      const group = byManager.get(key)!;
      lines.push(`conflicts with ${group.printed}:`);
      for (const p of group.paths) lines.push(`- ${p}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError('Conflict', message, { causes });
}

/**
 * The field manager of a request without `fieldManager`: the user agent up to the first `/`, without
 * unprintable characters, cut to 128 bytes (e.g. `kubectl/v1.31.0 (linux/amd64) kubernetes/abc` → `kubectl`).
 */
export function managerFromUserAgent(userAgent: string): string {
  const head = userAgent.split('/')[0] ?? '';
  let out = '';
  let bytes = 0;
  for (const ch of head) {
    if (!/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch)) continue;
    const cp = ch.codePointAt(0) ?? 0;
    const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + n > FIELD_MANAGER_MAX_LENGTH) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/** The field manager of a request: its `fieldManager` parameter, else derived from the user agent. */
export function managerOrUserAgent(fieldManager: string | undefined, userAgent: string): string {
  return fieldManager ? fieldManager : managerFromUserAgent(userAgent);
}
