// A compact description language for the schemas of the served kinds. Definitions are written once here
// and rendered twice: as OpenAPI v3 (components.schemas) and as Swagger 2.0 (definitions). Pure.
//
// A definition is either an object (named fields, each with a shape and a one-line description) or a
// named scalar (Time, Quantity, IntOrString, ...). A shape says what a field holds: a primitive, a
// reference to another definition by its upstream name, a list or a string-keyed map.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export type Shape =
  | { readonly t: 'string'; readonly format?: string; readonly enum?: readonly string[] }
  | { readonly t: 'integer'; readonly format: 'int32' | 'int64' }
  | { readonly t: 'number'; readonly format: 'double' }
  | { readonly t: 'boolean' }
  | { readonly t: 'ref'; readonly name: string }
  | { readonly t: 'array'; readonly items: Shape }
  | { readonly t: 'map'; readonly values: Shape }
  | { readonly t: 'object' };

export interface Field {
  readonly shape: Shape;
  readonly description: string;
  readonly required: boolean;
  readonly default?: Json;
}

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface ObjectDefinition {
  readonly t: 'object';
  readonly description: string;
  readonly fields: Readonly<Record<string, Field>>;
  readonly gvk?: readonly GroupVersionKind[];
}

/** A named non-object type; each rendering gets its own literal schema (without the description). */
export interface ScalarDefinition {
  readonly t: 'scalar';
  readonly description: string;
  readonly v3: JsonObject;
  readonly v2: JsonObject;
}

export type Definition = ObjectDefinition | ScalarDefinition;
export type Definitions = Readonly<Record<string, Definition>>;

// ------------------------------------------------------------------------------------------- names

export const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
export const CORE = 'io.k8s.api.core.v1.';
export const APPS = 'io.k8s.api.apps.v1.';
export const AUTOSCALING = 'io.k8s.api.autoscaling.v1.';
export const POLICY = 'io.k8s.api.policy.v1.';
export const DISCOVERY = 'io.k8s.api.discovery.v1.';
export const NETWORKING = 'io.k8s.api.networking.v1.';
export const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
export const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
export const RAW_EXTENSION = 'io.k8s.apimachinery.pkg.runtime.RawExtension';
export const VERSION_INFO = 'io.k8s.apimachinery.pkg.version.Info';
export const TIME = `${META}Time`;
export const MICRO_TIME = `${META}MicroTime`;

/** The Go package prefix upstream uses for a served API group (`io.k8s.api.<pkg>.<version>.`). */
export function packagePrefix(group: string, version: string): string {
  const pkg = group === '' ? 'core' : group.split('.')[0] ?? group;
  return `io.k8s.api.${pkg}.${version}.`;
}

// ------------------------------------------------------------------------------------------ shapes

/** Shapes for list items and map values (no description: the field carries it). */
export const S = {
  str: { t: 'string' } as Shape,
  i32: { t: 'integer', format: 'int32' } as Shape,
  i64: { t: 'integer', format: 'int64' } as Shape,
  bool: { t: 'boolean' } as Shape,
  ref: (name: string): Shape => ({ t: 'ref', name }),
  oneOf: (values: readonly string[]): Shape => ({ t: 'string', enum: values }),
};

// ------------------------------------------------------------------------------------------ fields

const field = (shape: Shape, description: string, extra?: { default?: Json }): Field =>
  ({ shape, description, required: false, ...(extra?.default !== undefined ? { default: extra.default } : {}) });

export const str = (description: string): Field => field({ t: 'string' }, description);
export const byteStr = (description: string): Field => field({ t: 'string', format: 'byte' }, description);
export const oneOf = (values: readonly string[], description: string, dflt?: string): Field =>
  field({ t: 'string', enum: values }, description, dflt === undefined ? undefined : { default: dflt });
export const i32 = (description: string): Field => field({ t: 'integer', format: 'int32' }, description);
export const i64 = (description: string): Field => field({ t: 'integer', format: 'int64' }, description);
export const num = (description: string): Field => field({ t: 'number', format: 'double' }, description);
export const bool = (description: string): Field => field({ t: 'boolean' }, description);
export const ref = (name: string, description: string): Field => field({ t: 'ref', name }, description);
export const time = (description: string): Field => ref(TIME, description);
export const intOrStr = (description: string): Field => ref(INT_OR_STRING, description);
export const arr = (items: Shape, description: string): Field => field({ t: 'array', items }, description);
export const strs = (description: string): Field => arr(S.str, description);
export const mapOf = (values: Shape, description: string): Field => field({ t: 'map', values }, description);
export const strMap = (description: string): Field => mapOf(S.str, description);
export const anyObj = (description: string): Field => field({ t: 'object' }, description);

/** Marks a field as required. */
export const req = (f: Field): Field => ({ ...f, required: true });

/** Gives a field a default value (as upstream's OpenAPI does for defaulted scalars). */
export const dflt = (f: Field, value: Json): Field => ({ ...f, default: value });

// ------------------------------------------------------------------------------------- definitions

export function obj(description: string, fields: Record<string, Field>, gvk?: readonly GroupVersionKind[]): ObjectDefinition {
  return gvk === undefined ? { t: 'object', description, fields } : { t: 'object', description, fields, gvk };
}

export function scalar(description: string, v3: JsonObject, v2: JsonObject = v3): ScalarDefinition {
  return { t: 'scalar', description, v3, v2 };
}

const TYPE_META_FIELDS = (): Record<string, Field> => ({
  apiVersion: str('The versioned schema this object is written in, as group/version (or just the version for the core group).'),
  kind: str('The type of this object, in CamelCase; servers infer it from the endpoint when absent.'),
});

/** A top-level kind: apiVersion, kind and metadata, then its own fields; tagged with its GVK. */
export function kind(gvk: GroupVersionKind, description: string, fields: Record<string, Field>): ObjectDefinition {
  return obj(description, {
    ...TYPE_META_FIELDS(),
    metadata: ref(`${META}ObjectMeta`, "The object's name, namespace, labels, annotations and other server-kept metadata."),
    ...fields,
  }, [gvk]);
}

/** The list kind of a top-level kind: apiVersion, kind, list metadata and the items. */
export function listKind(gvk: GroupVersionKind, itemDefinition: string, itemPlural: string): ObjectDefinition {
  return obj(`A page of ${itemPlural}.`, {
    ...TYPE_META_FIELDS(),
    metadata: ref(`${META}ListMeta`, 'The resource version of the list and the token to fetch the next page.'),
    items: req(arr(S.ref(itemDefinition), `The ${itemPlural} in this page.`)),
  }, [gvk]);
}

/** An object with the common TypeMeta fields but no metadata (options bodies, discovery documents). */
export function typed(description: string, fields: Record<string, Field>, gvk?: readonly GroupVersionKind[]): ObjectDefinition {
  return obj(description, { ...TYPE_META_FIELDS(), ...fields }, gvk);
}

export const gvk = (group: string, version: string, kindName: string): GroupVersionKind => ({ group, version, kind: kindName });
