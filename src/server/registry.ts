// The REST storage of every served resource: what kube-apiserver's generic registry plus the per-kind
// strategies do between an HTTP request and the store. Create/update/patch/delete with defaulting,
// validation, optimistic concurrency, managedFields, finalizers and graceful deletion; list and watch with
// label/field selectors, pagination and resourceVersion semantics; the status, scale, binding and finalize
// subresources; Service IP/port allocation; namespace lifecycle admission.
import { randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { applyDefaults } from '../api/defaults/index.ts';
import { apiErrors, ApiError, fieldErrors, type FieldError } from '../api/errors.ts';
import { fieldSelectorMatcher } from '../api/fields.ts';
import { matchesLabels, parseLabelSelector, formatLabelSelector } from '../api/labels.ts';
import { applyPatch } from '../api/patch/index.ts';
import { serverSideApply, updateManagedFields, conflictError } from '../api/apply/index.ts';
import { groupVersion, resourceByKind, RESOURCES, storageKey, storagePrefix, type ResourceInfo } from '../api/resources.ts';
import { dropServiceTypeDependentFields, generateNameSuffix, isNoopUpdate, prepareForCreate, prepareForUpdate, structuredCloneJson } from '../api/strategy.ts';
import type { KubeList, KubeObject, Namespace, ObjectMeta, Pod, Scale, Service, Status, WatchEvent } from '../api/types.ts';
import { validateCreate, validateUpdate } from '../api/validation/index.ts';
import { StoreError, type Store, type StoredEntry, type StoreEvent, type StoreWatch } from '../store/store.ts';
import { ServiceIPAllocator, type ServiceAllocationConfig } from '../net/service-allocation.ts';
import { bodyKind, checkApplyConfigFields, checkApplyDuplicates, checkPatchFields, type FieldValidationDirective } from './strict-decoding.ts';

export interface WriteContext {
  /** The field manager of this write (fieldManager param, else derived from the user agent). */
  manager: string;
  dryRun: boolean;
  now?: Date;
  /** The request's fieldValidation directive; unset (in-process callers): patch bodies are not checked. */
  fieldValidation?: FieldValidationDirective;
  /** Receives field-validation warnings (the server sends them as Warning headers). */
  warnings?: string[];
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: string[];
}

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface WatchQuery {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  sendInitialEvents?: boolean;
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const refOf = (r: ResourceInfo, name?: string) => ({ group: r.group, resource: r.plural, ...(name !== undefined ? { name } : {}) });

function translateStoreError(e: unknown, r: ResourceInfo, name: string | undefined): never {
  if (e instanceof StoreError) {
    switch (e.code) {
      case 'NotFound':
        throw apiErrors.notFound(refOf(r, name));
      case 'AlreadyExists':
        throw apiErrors.alreadyExists(refOf(r, name));
      case 'Conflict':
        throw apiErrors.conflict(refOf(r, name), 'the object has been modified; please apply your changes to the latest version and try again');
      case 'Compacted':
        throw apiErrors.gone(`too old resource version: ${e.message}`);
      default:
        throw apiErrors.serviceUnavailable(`storage is unavailable: ${e.message}`);
    }
  }
  throw e;
}

interface ContinueToken {
  rv: number;
  start: string;
}

function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: t.rv, start: t.start })).toString('base64url');
}

function decodeContinue(s: string): ContinueToken {
  try {
    const parsed = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as { rv?: unknown; start?: unknown };
    if (typeof parsed.rv === 'number' && typeof parsed.start === 'string') return { rv: parsed.rv, start: parsed.start };
  } catch {
    // fall through
  }
  throw apiErrors.badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
}

function parseRV(rv: string, what: string): number {
  const n = Number(rv);
  if (!Number.isSafeInteger(n) || n < 0) throw apiErrors.badRequest(`invalid ${what} resource version: ${rv}`);
  return n;
}

/** A predicate over objects from label and field selector strings (400 on bad syntax). */
export function selectorPredicate(r: ResourceInfo, labelSelector: string | undefined, fieldSelector: string | undefined): ((o: KubeObject) => boolean) | undefined {
  const labelReqs = labelSelector ? parseLabelSelector(labelSelector) : undefined;
  const fieldMatch = fieldSelector ? fieldSelectorMatcher(r.kind, fieldSelector) : undefined;
  if (!labelReqs && !fieldMatch) return undefined;
  return (o) => (!labelReqs || matchesLabels(labelReqs, o.metadata.labels)) && (!fieldMatch || fieldMatch(o));
}

export class Registry {
  readonly store: Store;
  readonly allocator: ServiceIPAllocator;
  private readonly listeners = new Set<(r: ResourceInfo, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject) => void>();

  private constructor(store: Store, allocation: ServiceAllocationConfig) {
    this.store = store;
    this.allocator = new ServiceIPAllocator(allocation);
  }

  static async open(store: Store, allocation: ServiceAllocationConfig): Promise<Registry> {
    const reg = new Registry(store, allocation);
    await reg.repairAllocations();
    return reg;
  }

  /** Rebuilds the Service IP/port pools from the stored Services (at start and periodically). */
  async repairAllocations(): Promise<void> {
    const svcs = await this.store.list(storagePrefix(mustResource('', 'services')));
    this.allocator.reset(svcs.entries.map((e) => e.value as Service));
  }

  // ------------------------------------------------------------------------------------------- reads

  async get(r: ResourceInfo, namespace: string | undefined, name: string): Promise<KubeObject> {
    const entry = await this.store.get(storageKey(r, namespace, name));
    if (!entry) throw apiErrors.notFound(refOf(r, name));
    return entry.value;
  }

  async list(r: ResourceInfo, namespace: string | undefined, q: ListQuery): Promise<KubeList> {
    const filter = selectorPredicate(r, q.labelSelector, q.fieldSelector);
    let revision: number | undefined;
    let startAfter: string | undefined;
    if (q.continue) {
      const token = decodeContinue(q.continue);
      revision = token.rv;
      startAfter = token.start;
    } else if (q.resourceVersion && q.resourceVersion !== '0' && q.resourceVersionMatch === 'Exact') {
      revision = parseRV(q.resourceVersion, 'list');
    }
    const prefix = storagePrefix(r, r.namespaced ? namespace : undefined);
    let result;
    try {
      result = await this.store.list(prefix, {
        ...(revision !== undefined ? { revision } : {}),
        ...(startAfter !== undefined ? { startAfter } : {}),
        ...(q.limit && q.limit > 0 ? { limit: q.limit } : {}),
        ...(filter ? { filter } : {}),
      });
    } catch (e) {
      if (e instanceof StoreError && e.code === 'Compacted') {
        throw q.continue
          ? new ApiError('Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.')
          : apiErrors.gone(`too old resource version: ${revision ?? ''}`);
      }
      return translateStoreError(e, r, undefined);
    }
    const items = result.entries.map((e) => e.value);
    const last = result.entries[result.entries.length - 1];
    const metadata: KubeList['metadata'] = { resourceVersion: String(result.revision) };
    if (result.more && last) {
      metadata.continue = encodeContinue({ rv: result.revision, start: last.key });
      if (result.remaining !== undefined) metadata.remainingItemCount = result.remaining;
    }
    return { kind: r.listKind, apiVersion: groupVersion(r), metadata, items };
  }

  /**
   * Starts a watch; events are passed to `send` in order. Initial state (for an unset or "0"
   * resourceVersion, or sendInitialEvents) is sent as ADDED events first. A too-old resourceVersion is
   * reported as an ERROR event carrying a 410 Status, as kube-apiserver does.
   */
  async watch(r: ResourceInfo, namespace: string | undefined, q: WatchQuery, send: (ev: WatchEvent) => void): Promise<{ stop(): void; lastRevision(): number }> {
    const filter = selectorPredicate(r, q.labelSelector, q.fieldSelector);
    const matches = (o: KubeObject | undefined): boolean => o !== undefined && (!filter || filter(o));
    const prefix = storagePrefix(r, r.namespaced ? namespace : undefined);
    let from: number;
    let last = 0;
    const initial = q.resourceVersion === undefined || q.resourceVersion === '' || q.resourceVersion === '0' || q.sendInitialEvents === true;
    if (initial) {
      const listed = await this.store.list(prefix, filter ? { filter } : {});
      for (const e of listed.entries) send({ type: 'ADDED', object: e.value });
      from = listed.revision;
      if (q.sendInitialEvents && q.allowWatchBookmarks) {
        send({ type: 'BOOKMARK', object: { kind: r.kind, apiVersion: groupVersion(r), metadata: { resourceVersion: String(from), annotations: { 'k8s.io/initial-events-end': 'true' } } } });
      }
    } else {
      from = parseRV(q.resourceVersion ?? '0', 'watch');
    }
    last = from;
    let storeWatch: StoreWatch;
    try {
      storeWatch = await this.store.watch(prefix, { fromRevision: from }, (ev: StoreEvent) => {
        last = ev.revision;
        const now = matches(ev.value);
        const before = ev.prevValue !== undefined && matches(ev.prevValue);
        if (ev.type === 'ADDED') {
          if (now) send({ type: 'ADDED', object: ev.value });
        } else if (ev.type === 'DELETED') {
          if (before || now) send({ type: 'DELETED', object: ev.value });
        } else if (now && before) send({ type: 'MODIFIED', object: ev.value });
        else if (now && !before) send({ type: 'ADDED', object: ev.value });
        else if (!now && before) send({ type: 'DELETED', object: ev.value });
      });
    } catch (e) {
      if (e instanceof StoreError && e.code === 'Compacted') {
        const compacted = await this.store.compactedRevision();
        send({ type: 'ERROR', object: apiErrors.gone(`too old resource version: ${from} (${compacted + 1})`).toStatus() });
        return { stop() {}, lastRevision: () => from };
      }
      return translateStoreError(e, r, undefined);
    }
    return { stop: () => storeWatch.stop(), lastRevision: () => last };
  }

  // ------------------------------------------------------------------------------------------ writes

  private async requireNamespace(r: ResourceInfo, namespace: string | undefined, forCreate: boolean): Promise<void> {
    if (!r.namespaced) return;
    if (!namespace) throw apiErrors.badRequest('the server could not find the requested resource: a namespace is required');
    const ns = await this.store.get(storageKey(mustResource('', 'namespaces'), undefined, namespace));
    if (!ns) throw apiErrors.notFound({ group: '', resource: 'namespaces', name: namespace });
    if (forCreate && ns.value.metadata.deletionTimestamp) {
      throw new ApiError('Forbidden', `${r.kind.toLowerCase()}s "${''}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, {
        causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
      });
    }
  }

  private checkBodyIdentity(r: ResourceInfo, obj: KubeObject, namespace: string | undefined, name: string | undefined): void {
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw apiErrors.badRequest('the request body must be a JSON or YAML object');
    if (typeof obj.metadata !== 'object' || obj.metadata === null) obj.metadata = {};
    const gv = groupVersion(r);
    if (obj.apiVersion !== undefined && obj.apiVersion !== gv) {
      throw apiErrors.badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${gv})`);
    }
    if (obj.kind !== undefined && obj.kind !== r.kind) {
      throw apiErrors.badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${r.kind})`);
    }
    if (r.namespaced) {
      if (obj.metadata.namespace !== undefined && obj.metadata.namespace !== '' && obj.metadata.namespace !== namespace) {
        throw apiErrors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      if (namespace !== undefined) obj.metadata.namespace = namespace;
    } else {
      delete obj.metadata.namespace;
    }
    if (name !== undefined && obj.metadata.name !== undefined && obj.metadata.name !== name) {
      throw apiErrors.badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (name !== undefined && obj.metadata.name === undefined) obj.metadata.name = name;
  }

  async create(r: ResourceInfo, namespace: string | undefined, body: KubeObject, ctx: WriteContext): Promise<KubeObject> {
    this.checkBodyIdentity(r, body, namespace, undefined);
    if (body.metadata.resourceVersion) throw apiErrors.badRequest('resourceVersion should not be set on objects to be created');
    await this.requireNamespace(r, namespace, true);
    const now = ctx.now ?? new Date();
    let obj = body;
    if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = obj.metadata.generateName + generateNameSuffix(Math.random);
    obj = prepareForCreate(r, obj, { uid: randomUUID(), now: rfc3339(now) });
    obj = applyDefaults(r.kind, obj);
    const name = obj.metadata.name ?? '';
    // As upstream's Service storage: allocate first (it fills ClusterIP, node ports, the health-check port),
    // then validate; a rejected object returns what it took.
    const release = this.assignAllocations(r, obj, undefined);
    try {
      const errors = validateCreate(r.kind, obj);
      if (errors.length > 0) throw apiErrors.invalid(r.group, r.kind, obj.metadata.name ?? '', errors);
      obj = updateManagedFields({ kind: r.kind, apiVersion: groupVersion(r), live: undefined, updated: obj, manager: ctx.manager, operation: 'Update', now: rfc3339(now) });
      if (ctx.dryRun) {
        release.onFailure();
        return obj;
      }
      const entry = await this.store.create(storageKey(r, namespace, name), obj).catch((e: unknown) => translateStoreError(e, r, name));
      return entry.value;
    } catch (e) {
      release.onFailure();
      throw e;
    }
  }

  /** Service allocation around a write: returns hooks to undo on failure or finish on success. */
  private assignAllocations(r: ResourceInfo, obj: KubeObject, old: KubeObject | undefined): { onFailure(): void; onSuccess(): void } {
    if (r.kind !== 'Service' || r.group !== '') return { onFailure() {}, onSuccess() {} };
    const { errors, allocated, released } = this.allocator.assign(obj as Service, old as Service | undefined);
    if (errors.length > 0) throw apiErrors.invalid(r.group, r.kind, obj.metadata.name ?? '', errors);
    return {
      onFailure: () => this.allocator.release(allocated),
      onSuccess: () => this.allocator.release(released),
    };
  }

  /**
   * Writes `updated` over the live `entry` (already merged by the caller), applying the update strategy,
   * defaults, validation, allocation and managedFields. `guard` is the revision precondition.
   */
  private async writeUpdate(r: ResourceInfo, entry: StoredEntry, input: KubeObject, subresource: string | undefined, ctx: WriteContext, guard: number | undefined, opts?: { skipManagedFields?: boolean }): Promise<KubeObject> {
    const old = entry.value;
    const now = ctx.now ?? new Date();
    let obj = prepareForUpdate(r, input, old, subresource);
    if (r.kind === 'Service' && r.group === '' && subresource === undefined) obj = dropServiceTypeDependentFields(obj as Service, old as Service);
    obj = applyDefaults(r.kind, obj, { operation: 'update' });
    const alloc = this.assignAllocations(r, obj, old);
    try {
      const errors = validateUpdate(r.kind, obj, old);
      if (errors.length > 0) throw apiErrors.invalid(r.group, r.kind, old.metadata.name ?? '', errors);
      if (!opts?.skipManagedFields) {
        obj = updateManagedFields({ kind: r.kind, apiVersion: groupVersion(r), live: old, updated: obj, manager: ctx.manager, operation: 'Update', ...(subresource ? { subresource } : {}), now: rfc3339(now) });
      }
      if (isNoopUpdate(obj, old) && !hasLostLastFinalizer(obj)) {
        alloc.onFailure();
        return old;
      }
      if (ctx.dryRun) {
        alloc.onFailure();
        return obj;
      }
      // An object being deleted whose last finalizer was removed is deleted now.
      if (hasLostLastFinalizer(obj)) {
        const deleted = await this.store.delete(entry.key, guard ?? entry.modRevision).catch((e: unknown) => translateStoreError(e, r, old.metadata.name));
        alloc.onSuccess();
        this.releaseOnDelete(r, deleted.value);
        return deleted.value;
      }
      const written = await this.store.update(entry.key, obj, guard).catch((e: unknown) => translateStoreError(e, r, old.metadata.name));
      alloc.onSuccess();
      return written.value;
    } catch (e) {
      alloc.onFailure();
      throw e;
    }
  }

  private async getEntry(r: ResourceInfo, namespace: string | undefined, name: string): Promise<StoredEntry> {
    const entry = await this.store.get(storageKey(r, namespace, name));
    if (!entry) throw apiErrors.notFound(refOf(r, name));
    return entry;
  }

  async update(r: ResourceInfo, namespace: string | undefined, name: string, body: KubeObject, subresource: string | undefined, ctx: WriteContext): Promise<KubeObject> {
    if (subresource === 'scale') return this.updateScale(r, namespace, name, body, ctx);
    if (subresource === 'finalize' && r.kind === 'Namespace') return this.finalizeNamespace(namespace, name, body, ctx);
    this.checkBodyIdentity(r, body, namespace, name);
    const entry = await this.getEntry(r, namespace, name);
    const rv = body.metadata.resourceVersion;
    const guard = rv ? parseRV(rv, 'update') : undefined;
    if (guard !== undefined && guard !== entry.modRevision) {
      throw apiErrors.conflict(refOf(r, name), 'the object has been modified; please apply your changes to the latest version and try again');
    }
    return this.writeUpdate(r, entry, body, subresource, ctx, guard);
  }

  async patch(r: ResourceInfo, namespace: string | undefined, name: string, contentType: string, patchBody: string, subresource: string | undefined, ctx: WriteContext & { force: boolean }): Promise<KubeObject> {
    const isApply = contentType === 'application/apply-patch+yaml' || contentType === 'application/apply-patch+json';
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await this.store.get(storageKey(r, namespace, name));
      if (subresource === 'scale') {
        if (!entry) throw apiErrors.notFound(refOf(r, name));
        const scale = scaleOf(entry.value);
        const patched = applyPatch('Scale', contentType, scale, patchBody) as Scale;
        return this.updateScale(r, namespace, name, { ...patched, metadata: { ...patched.metadata, resourceVersion: patched.metadata.resourceVersion ?? '' } }, ctx);
      }
      try {
        if (isApply) return await this.apply(r, namespace, name, entry, patchBody, subresource, ctx);
        if (!entry) throw apiErrors.notFound(refOf(r, name));
        let patched = applyPatch(r.kind, contentType, entry.value, patchBody);
        const gvk = bodyKind(r, subresource);
        if (ctx.fieldValidation && gvk) patched = checkPatchFields({ gvk, contentType, patchBody, live: entry.value, patched, directive: ctx.fieldValidation, warnings: ctx.warnings ?? [] });
        this.checkBodyIdentity(r, patched, namespace, name);
        const rv = patched.metadata.resourceVersion;
        const guard = rv && rv !== entry.value.metadata.resourceVersion ? parseRV(rv, 'patch') : entry.modRevision;
        if (rv && guard !== entry.modRevision) throw apiErrors.conflict(refOf(r, name), 'the object has been modified; please apply your changes to the latest version and try again');
        return await this.writeUpdate(r, entry, patched, subresource, ctx, guard);
      } catch (e) {
        // A conflict that we caused by racing another writer (not a user precondition) is retried.
        if (e instanceof ApiError && e.reason === 'Conflict' && !userPrecondition(contentType, patchBody) && attempt < 4) continue;
        throw e;
      }
    }
    throw apiErrors.internal('patch retries exhausted');
  }

  private async apply(r: ResourceInfo, namespace: string | undefined, name: string, entry: StoredEntry | undefined, patchBody: string, subresource: string | undefined, ctx: WriteContext & { force: boolean }): Promise<KubeObject> {
    const applied = parseApplyBody(patchBody);
    this.checkBodyIdentity(r, applied, namespace, name);
    if (applied.apiVersion === undefined || applied.kind === undefined) {
      throw apiErrors.badRequest('apiVersion and kind must be set in the applied configuration');
    }
    checkApplyConfigFields({ group: r.group, version: r.version, kind: r.kind }, groupVersion(r), applied);
    const now = ctx.now ?? new Date();
    const result = serverSideApply({ kind: r.kind, apiVersion: groupVersion(r), live: entry?.value, applied, manager: ctx.manager, force: ctx.force, now: rfc3339(now) });
    if (result.conflicts) throw conflictError(r.kind, r.group, name, result.conflicts);
    if (ctx.fieldValidation) checkApplyDuplicates(patchBody, ctx.fieldValidation, ctx.warnings ?? []);
    if (!entry) {
      // Apply on a missing object creates it.
      const created = { ...result.object, metadata: { ...result.object.metadata } };
      return this.createApplied(r, namespace, created, ctx);
    }
    return this.writeUpdate(r, entry, result.object, subresource, ctx, entry.modRevision, { skipManagedFields: true });
  }

  private async createApplied(r: ResourceInfo, namespace: string | undefined, obj: KubeObject, ctx: WriteContext): Promise<KubeObject> {
    await this.requireNamespace(r, namespace, true);
    const now = ctx.now ?? new Date();
    const managed = obj.metadata.managedFields;
    let out = prepareForCreate(r, obj, { uid: randomUUID(), now: rfc3339(now) });
    out = applyDefaults(r.kind, out);
    if (managed) out.metadata.managedFields = managed;
    const alloc = this.assignAllocations(r, out, undefined);
    try {
      const errors = validateCreate(r.kind, out);
      if (errors.length > 0) throw apiErrors.invalid(r.group, r.kind, out.metadata.name ?? '', errors);
      if (ctx.dryRun) {
        alloc.onFailure();
        return out;
      }
      const entry = await this.store.create(storageKey(r, namespace, out.metadata.name ?? ''), out).catch((e: unknown) => translateStoreError(e, r, out.metadata.name));
      return entry.value;
    } catch (e) {
      alloc.onFailure();
      throw e;
    }
  }

  // ------------------------------------------------------------------------------------ subresources

  async getScale(r: ResourceInfo, namespace: string | undefined, name: string): Promise<Scale> {
    if (!r.subresources.includes('scale')) throw apiErrors.notFound(refOf(r, name));
    return scaleOf(await this.get(r, namespace, name));
  }

  private async updateScale(r: ResourceInfo, namespace: string | undefined, name: string, body: KubeObject, ctx: WriteContext): Promise<KubeObject> {
    if (!r.subresources.includes('scale')) throw apiErrors.notFound(refOf(r, name));
    const scale = body as Scale;
    const replicas = scale.spec?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw apiErrors.invalid('autoscaling', 'Scale', name, [fieldErrors.invalid('spec.replicas', replicas ?? null, 'must be greater than or equal to 0')]);
    }
    const entry = await this.getEntry(r, namespace, name);
    const rv = scale.metadata?.resourceVersion;
    const guard = rv ? parseRV(rv, 'scale') : undefined;
    if (guard !== undefined && guard !== entry.modRevision) throw apiErrors.conflict(refOf(r, name), 'the object has been modified; please apply your changes to the latest version and try again');
    const obj = structuredCloneJson(entry.value);
    const spec = (obj['spec'] ?? {}) as { replicas?: number };
    spec.replicas = replicas;
    obj['spec'] = spec;
    const written = await this.writeUpdate(r, entry, obj, undefined, ctx, guard ?? entry.modRevision);
    return scaleOf(written);
  }

  /** POST pods/<name>/binding: assigns the Pod to a node, once. */
  async bindPod(namespace: string, name: string, body: KubeObject, ctx: WriteContext): Promise<Status> {
    const r = mustResource('', 'pods');
    const target = (body as { target?: { kind?: string; name?: string } }).target;
    if (!target?.name) throw apiErrors.invalid('', 'Binding', name, [fieldErrors.required('target.name')]);
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await this.getEntry(r, namespace, name);
      const pod = structuredCloneJson(entry.value) as Pod;
      if (pod.metadata.deletionTimestamp) throw apiErrors.conflict(refOf(r, name), 'pod is being deleted, cannot be assigned to a host');
      if (pod.spec?.nodeName) throw apiErrors.conflict(refOf(r, name), `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
      pod.spec = { ...(pod.spec ?? { containers: [] }), nodeName: target.name };
      const conditions = (pod.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
      conditions.push({ type: 'PodScheduled', status: 'True', lastTransitionTime: rfc3339(ctx.now ?? new Date()) });
      pod.status = { ...(pod.status ?? {}), conditions };
      try {
        // Binding sets spec.nodeName and the PodScheduled condition together, bypassing the update strategy.
        const obj = updateManagedFields({ kind: 'Pod', apiVersion: 'v1', live: entry.value, updated: pod, manager: ctx.manager, operation: 'Update', now: rfc3339(ctx.now ?? new Date()) });
        if (!ctx.dryRun) await this.store.update(entry.key, obj, entry.modRevision);
        return successStatus();
      } catch (e) {
        if (e instanceof StoreError && e.code === 'Conflict' && attempt < 4) continue;
        return translateStoreError(e, r, name);
      }
    }
    throw apiErrors.internal('binding retries exhausted');
  }

  private async finalizeNamespace(_namespace: string | undefined, name: string, body: KubeObject, ctx: WriteContext): Promise<KubeObject> {
    const r = mustResource('', 'namespaces');
    const entry = await this.getEntry(r, undefined, name);
    const ns = structuredCloneJson(entry.value) as Namespace;
    const wanted = (body as Namespace).spec?.finalizers ?? [];
    ns.spec = { ...(ns.spec ?? {}), finalizers: wanted };
    if (ns.metadata.deletionTimestamp && wanted.length === 0 && (ns.metadata.finalizers ?? []).length === 0) {
      if (ctx.dryRun) return ns;
      const deleted = await this.store.delete(entry.key, entry.modRevision).catch((e: unknown) => translateStoreError(e, r, name));
      return deleted.value;
    }
    const written = await this.store.update(entry.key, ns, entry.modRevision).catch((e: unknown) => translateStoreError(e, r, name));
    return written.value;
  }

  // ---------------------------------------------------------------------------------------- deletion

  async delete(r: ResourceInfo, namespace: string | undefined, name: string, options: DeleteOptions, ctx: WriteContext): Promise<KubeObject> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await this.getEntry(r, namespace, name);
      try {
        return await this.deleteEntry(r, entry, options, ctx);
      } catch (e) {
        if (e instanceof ApiError && e.reason === 'Conflict' && !options.preconditions?.resourceVersion && attempt < 4) continue;
        throw e;
      }
    }
    throw apiErrors.internal('delete retries exhausted');
  }

  private async deleteEntry(r: ResourceInfo, entry: StoredEntry, options: DeleteOptions, ctx: WriteContext): Promise<KubeObject> {
    const live = entry.value;
    const name = live.metadata.name ?? '';
    const pre = options.preconditions;
    if (pre?.uid && pre.uid !== live.metadata.uid) {
      throw apiErrors.conflict(refOf(r, name), `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${live.metadata.uid ?? ''}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== live.metadata.resourceVersion) {
      throw apiErrors.conflict(refOf(r, name), `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${live.metadata.resourceVersion ?? ''}`);
    }
    const now = ctx.now ?? new Date();
    const obj = structuredCloneJson(live);
    const meta: ObjectMeta = obj.metadata;
    const finalizers = new Set(meta.finalizers ?? []);
    const policy = options.propagationPolicy ?? (options.orphanDependents === true ? 'Orphan' : undefined);
    if (policy === 'Foreground') finalizers.add('foregroundDeletion');
    if (policy === 'Orphan') finalizers.add('orphan');

    let grace = 0;
    if (r.kind === 'Pod' && r.group === '') {
      const pod = obj as Pod;
      const terminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
      grace = options.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
      if (!pod.spec?.nodeName || terminal) grace = 0;
    }
    const isNamespace = r.kind === 'Namespace' && r.group === '';
    const alreadyDeleting = meta.deletionTimestamp !== undefined;
    if (alreadyDeleting) {
      // A second delete may shorten the grace period (the kubelet confirms with 0).
      const current = meta.deletionGracePeriodSeconds ?? 0;
      if (r.kind === 'Pod' && grace < current) {
        meta.deletionGracePeriodSeconds = grace;
        meta.deletionTimestamp = rfc3339(new Date(now.getTime() + grace * 1000));
      } else if (finalizers.size === (meta.finalizers ?? []).length) {
        return live;
      }
    }
    const pendingNamespaceFinalizers = isNamespace && ((obj as Namespace).spec?.finalizers ?? []).length > 0;
    if (finalizers.size > 0 || grace > 0 || pendingNamespaceFinalizers) {
      if (!alreadyDeleting) {
        meta.deletionTimestamp = rfc3339(new Date(now.getTime() + grace * 1000));
        meta.deletionGracePeriodSeconds = grace;
        if (r.hasGeneration) meta.generation = (meta.generation ?? 1) + 1;
      }
      meta.finalizers = [...finalizers];
      if (meta.finalizers.length === 0) delete meta.finalizers;
      if (isNamespace) (obj as Namespace).status = { ...((obj as Namespace).status ?? {}), phase: 'Terminating' };
      if (!(grace === 0 && finalizers.size === 0 && !pendingNamespaceFinalizers)) {
        if (ctx.dryRun) return obj;
        const written = await this.store.update(entry.key, obj, entry.modRevision).catch((e: unknown) => translateStoreError(e, r, name));
        return written.value;
      }
    }
    if (ctx.dryRun) return live;
    const deleted = await this.store.delete(entry.key, entry.modRevision).catch((e: unknown) => translateStoreError(e, r, name));
    this.releaseOnDelete(r, deleted.value);
    return deleted.value;
  }

  private releaseOnDelete(r: ResourceInfo, obj: KubeObject): void {
    if (r.kind === 'Service' && r.group === '') {
      const svc = obj as Service;
      const spec = svc.spec ?? {};
      this.allocator.release({
        clusterIPs: (spec.clusterIPs ?? []).filter((ip) => ip !== 'None'),
        nodePorts: [...(spec.ports ?? []).map((p) => p.nodePort ?? 0).filter((p) => p > 0), ...(spec.healthCheckNodePort ? [spec.healthCheckNodePort] : [])],
      });
    }
  }

  async deleteCollection(r: ResourceInfo, namespace: string | undefined, q: ListQuery, options: DeleteOptions, ctx: WriteContext): Promise<KubeList> {
    const list = await this.list(r, namespace, { ...(q.labelSelector ? { labelSelector: q.labelSelector } : {}), ...(q.fieldSelector ? { fieldSelector: q.fieldSelector } : {}) });
    const items: KubeObject[] = [];
    for (const item of list.items) {
      try {
        items.push(await this.delete(r, item.metadata.namespace, item.metadata.name ?? '', options, ctx));
      } catch (e) {
        if (e instanceof ApiError && e.reason === 'NotFound') continue;
        throw e;
      }
    }
    return { ...list, items };
  }

  // ----------------------------------------------------------------------------------- bootstrapping

  /** Creates an object if it does not exist (used for the default namespaces and system objects). */
  async ensure(obj: KubeObject, manager: string): Promise<KubeObject> {
    const r = resourceByKind(obj.apiVersion ?? '', obj.kind ?? '');
    if (!r) throw apiErrors.internal(`unknown kind ${obj.kind ?? ''}`);
    const existing = await this.store.get(storageKey(r, obj.metadata.namespace, obj.metadata.name ?? ''));
    if (existing) return existing.value;
    try {
      return await this.create(r, obj.metadata.namespace, structuredCloneJson(obj), { manager, dryRun: false });
    } catch (e) {
      if (e instanceof ApiError && e.reason === 'AlreadyExists') return this.get(r, obj.metadata.namespace, obj.metadata.name ?? '');
      throw e;
    }
  }
}

function hasLostLastFinalizer(obj: KubeObject): boolean {
  if (!obj.metadata.deletionTimestamp) return false;
  if ((obj.metadata.finalizers ?? []).length > 0) return false;
  if (obj.kind === 'Namespace') return ((obj as Namespace).spec?.finalizers ?? []).length === 0;
  if (obj.kind === 'Pod') return (obj.metadata.deletionGracePeriodSeconds ?? 0) === 0;
  return true;
}

function userPrecondition(contentType: string, body: string): boolean {
  if (contentType === 'application/json-patch+json') return /"test"/.test(body) || /resourceVersion/.test(body);
  return /"resourceVersion"\s*:/.test(body);
}

function parseApplyBody(body: string): KubeObject {
  let parsed: unknown;
  try {
    parsed = parseYamlOrJson(body);
  } catch (cause) {
    throw apiErrors.badRequest(`error decoding YAML: ${cause instanceof Error ? cause.message : String(cause)}`, cause);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw apiErrors.badRequest('the applied configuration must be an object');
  const obj = parsed as KubeObject;
  if (typeof obj.metadata !== 'object' || obj.metadata === null) obj.metadata = {};
  return obj;
}

export function parseYamlOrJson(text: string): unknown {
  const t = text.trimStart();
  if (t.startsWith('{') || t.startsWith('[')) return JSON.parse(text);
  return parseYaml(text, { version: '1.2', uniqueKeys: false }); // repeated keys: the last wins; strict decoding reports them
}

export function successStatus(details?: Status['details']): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201, ...(details ? { details } : {}) };
}

function scaleOf(obj: KubeObject): Scale {
  const spec = (obj['spec'] ?? {}) as { replicas?: number; selector?: Parameters<typeof formatLabelSelector>[0] };
  const status = (obj['status'] ?? {}) as { replicas?: number };
  const meta: ObjectMeta = {
    name: obj.metadata.name ?? '',
    ...(obj.metadata.namespace !== undefined ? { namespace: obj.metadata.namespace } : {}),
    ...(obj.metadata.uid !== undefined ? { uid: obj.metadata.uid } : {}),
    ...(obj.metadata.resourceVersion !== undefined ? { resourceVersion: obj.metadata.resourceVersion } : {}),
    ...(obj.metadata.creationTimestamp !== undefined ? { creationTimestamp: obj.metadata.creationTimestamp } : {}),
  };
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: meta,
    spec: { replicas: spec.replicas ?? 0 },
    status: { replicas: status.replicas ?? 0, ...(spec.selector ? { selector: formatLabelSelector(spec.selector) } : {}) },
  };
}

function mustResource(group: string, plural: string): ResourceInfo {
  const r = RESOURCES.find((x) => x.group === group && x.plural === plural);
  if (!r) throw new Error(`resource ${plural} not registered`);
  return r;
}

export { mustResource };
export type { FieldError };
