// All schema definitions served, keyed by upstream definition name, and the per-field merge extensions
// derived from the shared list-semantics table (so strategic merge patch, server-side apply and OpenAPI
// agree). Pure.
import { RESOURCES, servedGroups } from '../resources.ts';
import { listSemanticsAt, isAtomicStructAt } from '../list-semantics.ts';
import { packagePrefix, listKind, gvk } from './dsl.ts';
import type { Definition, Definitions, JsonObject, Shape } from './dsl.ts';
import { metaDefinitions } from './definitions-meta.ts';
import { coreDefinitions } from './definitions-core.ts';
import { appsDefinitions, discoveryDefinitions, networkingDefinitions } from './definitions-groups.ts';

/** The upstream definition name of a kind, e.g. `io.k8s.api.apps.v1.Deployment`. */
export function definitionName(group: string, version: string, kind: string): string {
  return `${packagePrefix(group, version)}${kind}`;
}

/** Group versions whose kinds appear in documents: the served ones plus the subresource kinds' groups. */
const EXTRA_GROUP_VERSIONS = [{ group: 'autoscaling', version: 'v1' }, { group: 'policy', version: 'v1' }];

function assemble(): Definitions {
  const gvs = [
    ...servedGroups().flatMap((g) => g.versions.map((version) => ({ group: g.group, version }))),
    ...EXTRA_GROUP_VERSIONS,
  ];
  const all: Record<string, Definition> = {
    ...metaDefinitions(gvs),
    ...coreDefinitions,
    ...appsDefinitions,
    ...discoveryDefinitions,
    ...networkingDefinitions,
  };
  for (const r of RESOURCES) {
    const name = definitionName(r.group, r.version, r.listKind);
    all[name] = listKind(gvk(r.group, r.version, r.listKind), definitionName(r.group, r.version, r.kind), r.plural);
  }
  return all;
}

export const DEFINITIONS: Definitions = assemble();

// ------------------------------------------------------------------------------- merge extensions

export interface SemanticsConflict {
  definition: string;
  field: string;
  kept: { kind: string; path: string; extensions: JsonObject };
  other: { kind: string; path: string; extensions: JsonObject };
}

interface Observation { kind: string; path: readonly string[]; extensions: JsonObject }

const MAX_DEPTH = 32;

function extensionsForList(kind: string, path: readonly string[]): JsonObject {
  const s = listSemanticsAt(kind, path);
  const out: JsonObject = { 'x-kubernetes-list-type': s.listType };
  if (s.listType === 'map' && s.keys !== undefined) out['x-kubernetes-list-map-keys'] = [...s.keys];
  if (s.patchMergeKey !== undefined) out['x-kubernetes-patch-merge-key'] = s.patchMergeKey;
  if (s.patchStrategy !== undefined) out['x-kubernetes-patch-strategy'] = s.patchStrategy;
  return out;
}

function isObjectDefinition(name: string): boolean {
  return DEFINITIONS[name]?.t === 'object';
}

function refTarget(shape: Shape): string | undefined {
  if (shape.t === 'ref') return shape.name;
  if (shape.t === 'array') return refTarget(shape.items);
  if (shape.t === 'map') return refTarget(shape.values);
  return undefined;
}

function observe(kind: string, definition: string, path: readonly string[], depth: number, out: Map<string, Observation[]>): void {
  const def = DEFINITIONS[definition];
  if (def === undefined || def.t !== 'object' || depth > MAX_DEPTH) return;
  for (const [fieldName, field] of Object.entries(def.fields)) {
    const fieldPath = [...path, fieldName];
    let extensions: JsonObject | undefined;
    if (field.shape.t === 'array') extensions = extensionsForList(kind, fieldPath);
    else if (field.shape.t === 'map' || (field.shape.t === 'ref' && isObjectDefinition(field.shape.name))) {
      extensions = isAtomicStructAt(kind, fieldPath) ? { 'x-kubernetes-map-type': 'atomic' } : {};
    }
    if (extensions !== undefined) {
      const key = `${definition}\u0000${fieldName}`;
      const list = out.get(key) ?? [];
      list.push({ kind, path: fieldPath, extensions });
      out.set(key, list);
    }
    const target = refTarget(field.shape);
    if (target !== undefined) observe(kind, target, fieldPath, depth + 1, out);
  }
}

interface Derived { extensions: ReadonlyMap<string, JsonObject>; conflicts: readonly SemanticsConflict[] }

function derive(): Derived {
  const observations = new Map<string, Observation[]>();
  for (const r of RESOURCES) observe(r.kind, definitionName(r.group, r.version, r.kind), [], 0, observations);
  const extensions = new Map<string, JsonObject>();
  const conflicts: SemanticsConflict[] = [];
  for (const [key, list] of observations) {
    // The shallowest path wins: list-semantics describes ObjectMeta lists at the object root only.
    const sorted = [...list].sort((x, y) => x.path.length - y.path.length);
    const kept = sorted[0];
    if (kept === undefined) continue;
    extensions.set(key, kept.extensions);
    const keptJson = JSON.stringify(kept.extensions);
    const [definition = '', field = ''] = key.split('\u0000');
    const seen = new Set<string>();
    for (const o of sorted) {
      const json = JSON.stringify(o.extensions);
      if (json === keptJson || seen.has(json)) continue;
      seen.add(json);
      conflicts.push({
        definition, field,
        kept: { kind: kept.kind, path: kept.path.join('.'), extensions: kept.extensions },
        other: { kind: o.kind, path: o.path.join('.'), extensions: o.extensions },
      });
    }
  }
  return { extensions, conflicts };
}

let derived: Derived | undefined;
const getDerived = (): Derived => (derived ??= derive());

/**
 * The OpenAPI extensions of one field (list type, map keys, patch strategy and merge key, map type) as
 * derived from list-semantics. Lists no served kind reaches are atomic.
 */
export function fieldExtensions(definition: string, field: string): JsonObject {
  const found = getDerived().extensions.get(`${definition}\u0000${field}`);
  if (found !== undefined) return found;
  const def = DEFINITIONS[definition];
  if (def?.t === 'object' && def.fields[field]?.shape.t === 'array') return { 'x-kubernetes-list-type': 'atomic' };
  return {};
}

/**
 * Places where list-semantics gives one shared definition's field different semantics depending on the
 * path it is reached by. The shallowest path's semantics are published; the rest are listed here.
 */
export function semanticsConflicts(): readonly SemanticsConflict[] {
  return getDerived().conflicts;
}
