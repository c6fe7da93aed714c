// The OpenAPI documents flatnet serves: the v3 index (GET /openapi/v3), one v3 document per group version
// and discovery path (GET /openapi/v3/<path>), and the Swagger 2.0 document (GET /openapi/v2). Built from
// the schema definitions and the resource registry; memoised, since their content never changes while the
// process runs. Pure.
import { servedGroups } from '../resources.ts';
import type { Field, Json, JsonObject, Shape } from './dsl.ts';
import { DEFINITIONS, fieldExtensions } from './definitions.ts';
import { fnv1a64 } from './hash.ts';
import { encodeOpenApiV2 } from './protobuf-v2.ts';
import { groupVersionPaths, coreVersionsPaths, groupListPaths, groupPaths, versionPaths } from './paths.ts';
import type { Operation, Parameter, PathItem } from './paths.ts';

export type { Json, JsonObject } from './dsl.ts';

const INFO: JsonObject = { title: 'Kubernetes', version: 'unversioned' };
const V3_REF = '#/components/schemas/';
const V2_REF = '#/definitions/';

type Flavour = 'v2' | 'v3';
const refPrefix = (f: Flavour): string => (f === 'v3' ? V3_REF : V2_REF);

// --------------------------------------------------------------------------------------- schemas

function shapeSchema(shape: Shape, f: Flavour): JsonObject {
  switch (shape.t) {
    case 'string': {
      const out: JsonObject = { type: 'string' };
      if (shape.format !== undefined) out['format'] = shape.format;
      if (shape.enum !== undefined) out['enum'] = [...shape.enum];
      return out;
    }
    case 'integer': return { type: 'integer', format: shape.format };
    case 'number': return { type: 'number', format: shape.format };
    case 'boolean': return { type: 'boolean' };
    case 'ref': return { $ref: `${refPrefix(f)}${shape.name}` };
    case 'array': return { type: 'array', items: shapeSchema(shape.items, f) };
    case 'map': return { type: 'object', additionalProperties: shapeSchema(shape.values, f) };
    case 'object': return { type: 'object' };
  }
}

function fieldSchema(definition: string, name: string, field: Field, f: Flavour): JsonObject {
  const extensions = fieldExtensions(definition, name);
  const base = shapeSchema(field.shape, f);
  // v3 forbids siblings of $ref, so a described reference is wrapped in allOf (as upstream does).
  const wrapped: JsonObject = field.shape.t === 'ref' && f === 'v3' ? { allOf: [base] } : base;
  const out: JsonObject = { ...wrapped, description: field.description };
  if (field.default !== undefined) out['default'] = field.default;
  return { ...out, ...extensions };
}

function definitionSchema(name: string, f: Flavour): JsonObject {
  const def = DEFINITIONS[name];
  if (def === undefined) throw new Error(`openapi: unknown definition ${name}`);
  if (def.t === 'scalar') return { description: def.description, ...(f === 'v3' ? def.v3 : def.v2) };
  const properties: JsonObject = {};
  for (const field of Object.keys(def.fields).sort()) {
    const spec = def.fields[field];
    if (spec !== undefined) properties[field] = fieldSchema(name, field, spec, f);
  }
  const out: JsonObject = { description: def.description, type: 'object', properties };
  const required = Object.entries(def.fields).filter(([, spec]) => spec.required).map(([field]) => field);
  if (required.length > 0) out['required'] = required;
  if (def.gvk !== undefined) {
    out['x-kubernetes-group-version-kind'] = def.gvk.map((g) => ({ group: g.group, kind: g.kind, version: g.version }));
  }
  return out;
}

/** Every definition reachable from `roots` through field shapes, sorted by name. */
function closure(roots: Iterable<string>): string[] {
  const seen = new Set<string>();
  const stack = [...roots];
  const visitShape = (shape: Shape): void => {
    if (shape.t === 'ref') stack.push(shape.name);
    else if (shape.t === 'array') visitShape(shape.items);
    else if (shape.t === 'map') visitShape(shape.values);
  };
  while (stack.length > 0) {
    const name = stack.pop();
    if (name === undefined || seen.has(name)) continue;
    const def = DEFINITIONS[name];
    if (def === undefined) throw new Error(`openapi: reference to unknown definition ${name}`);
    seen.add(name);
    if (def.t === 'object') for (const field of Object.values(def.fields)) visitShape(field.shape);
  }
  return [...seen].sort();
}

function referencedDefinitions(items: readonly PathItem[]): string[] {
  const roots: string[] = [];
  for (const item of items) {
    for (const op of item.operations) {
      if (op.body !== undefined) roots.push(op.body.definition);
      for (const r of op.responses) if (r.definition !== undefined) roots.push(r.definition);
    }
  }
  return closure(roots);
}

function schemas(names: readonly string[], f: Flavour): JsonObject {
  const out: JsonObject = {};
  for (const name of names) out[name] = definitionSchema(name, f);
  return out;
}

// ----------------------------------------------------------------------------------------- paths

function parameterV3(p: Parameter): JsonObject {
  const out: JsonObject = { name: p.name, in: p.in, description: p.description, schema: { type: p.type, uniqueItems: true } };
  if (p.required === true) out['required'] = true;
  return out;
}

function parameterV2(p: Parameter): JsonObject {
  const out: JsonObject = { name: p.name, in: p.in, description: p.description, type: p.type, uniqueItems: true };
  if (p.required === true) out['required'] = true;
  return out;
}

function extensionsOf(op: Operation): JsonObject {
  const out: JsonObject = {};
  if (op.action !== undefined) out['x-kubernetes-action'] = op.action;
  if (op.gvk !== undefined) out['x-kubernetes-group-version-kind'] = { group: op.gvk.group, kind: op.gvk.kind, version: op.gvk.version };
  return out;
}

function operationV3(op: Operation): JsonObject {
  const responses: JsonObject = {};
  for (const r of op.responses) {
    const schema: Json | undefined = r.definition !== undefined ? { $ref: `${V3_REF}${r.definition}` } : r.text === true ? { type: 'string' } : undefined;
    if (schema === undefined) { responses[r.code] = { description: r.description }; continue; }
    const content: JsonObject = {};
    for (const type of op.produces) content[type] = { schema };
    responses[r.code] = { description: r.description, content };
  }
  const out: JsonObject = { description: op.description, operationId: op.operationId, tags: [op.tag] };
  if (op.parameters.length > 0) out['parameters'] = op.parameters.map(parameterV3);
  if (op.body !== undefined) {
    const content: JsonObject = {};
    for (const type of op.body.contentTypes) content[type] = { schema: { $ref: `${V3_REF}${op.body.definition}` } };
    out['requestBody'] = op.body.required ? { content, required: true } : { content };
  }
  out['responses'] = responses;
  return { ...out, ...extensionsOf(op) };
}

function operationV2(op: Operation): JsonObject {
  const responses: JsonObject = {};
  for (const r of op.responses) {
    const schema: Json | undefined = r.definition !== undefined ? { $ref: `${V2_REF}${r.definition}` } : r.text === true ? { type: 'string' } : undefined;
    responses[r.code] = schema === undefined ? { description: r.description } : { description: r.description, schema };
  }
  const parameters: Json[] = [];
  if (op.body !== undefined) {
    parameters.push({ name: 'body', in: 'body', required: op.body.required, schema: { $ref: `${V2_REF}${op.body.definition}` } });
  }
  parameters.push(...op.parameters.map(parameterV2));
  const out: JsonObject = {
    description: op.description, operationId: op.operationId, tags: [op.tag],
    consumes: op.body !== undefined ? [...op.body.contentTypes] : ['*/*'],
    produces: [...op.produces], schemes: ['https'],
  };
  if (parameters.length > 0) out['parameters'] = parameters;
  out['responses'] = responses;
  return { ...out, ...extensionsOf(op) };
}

function renderPaths(items: readonly PathItem[], f: Flavour): JsonObject {
  const out: JsonObject = {};
  for (const item of [...items].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0))) {
    const entry: JsonObject = {};
    for (const op of item.operations) entry[op.method] = f === 'v3' ? operationV3(op) : operationV2(op);
    if (item.parameters.length > 0) entry['parameters'] = item.parameters.map(f === 'v3' ? parameterV3 : parameterV2);
    out[item.path] = entry;
  }
  return out;
}

// ------------------------------------------------------------------------------------- documents

/** The v3 document paths served under /openapi/v3/, each with the path items it describes. */
function v3Sources(): Map<string, PathItem[]> {
  const out = new Map<string, PathItem[]>();
  out.set('api', coreVersionsPaths());
  out.set('apis', groupListPaths());
  for (const g of servedGroups()) {
    if (g.group !== '') out.set(`apis/${g.group}`, groupPaths(g.group));
    for (const v of g.versions) out.set(g.group === '' ? `api/${v}` : `apis/${g.group}/${v}`, groupVersionPaths(g.group, v));
  }
  out.set('version', versionPaths());
  return out;
}

function buildV3(items: readonly PathItem[]): JsonObject {
  return {
    openapi: '3.0.0',
    info: INFO,
    paths: renderPaths(items, 'v3'),
    components: {
      schemas: schemas(referencedDefinitions(items), 'v3'),
      securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer token authentication', name: 'authorization', in: 'header' } },
    },
    security: [{ BearerToken: [] }],
  };
}

interface V3Cache { documents: Map<string, JsonObject>; index: JsonObject }
let v3Cache: V3Cache | undefined;

function v3(): V3Cache {
  if (v3Cache !== undefined) return v3Cache;
  const documents = new Map<string, JsonObject>();
  const paths: JsonObject = {};
  for (const [path, items] of v3Sources()) {
    const doc = buildV3(items);
    documents.set(path, doc);
    paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${fnv1a64(JSON.stringify(doc))}` };
  }
  v3Cache = { documents, index: { paths } };
  return v3Cache;
}

/** GET /openapi/v3: the document paths, each with a URL that carries the hash of its content. */
export function openApiV3Index(): JsonObject {
  return v3().index;
}

/**
 * GET /openapi/v3/<path> (path without leading slash or query, e.g. `api/v1`, `apis/apps/v1`, `api`):
 * the OpenAPI 3.0 document, or undefined for a path that is not served.
 */
export function openApiV3Document(path: string): JsonObject | undefined {
  const clean = path.replace(/^\/+/, '').replace(/^openapi\/v3\//, '').replace(/\?.*$/, '').replace(/\/+$/, '');
  return v3().documents.get(clean);
}

/** The hash in the index URL of a v3 document path (for ETag / Cache-Control decisions), if served. */
export function openApiV3Hash(path: string): string | undefined {
  const entry = v3().index['paths'];
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return undefined;
  const item = entry[path];
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return undefined;
  const url = item['serverRelativeURL'];
  return typeof url === 'string' ? url.slice(url.indexOf('?hash=') + '?hash='.length) : undefined;
}

let v2Cache: JsonObject | undefined;

/** GET /openapi/v2 (JSON): the Swagger 2.0 document of every served path. */
export function openApiV2Document(): JsonObject {
  if (v2Cache !== undefined) return v2Cache;
  const items = [...v3Sources().values()].flat();
  v2Cache = {
    swagger: '2.0',
    info: INFO,
    paths: renderPaths(items, 'v2'),
    definitions: schemas(referencedDefinitions(items), 'v2'),
    securityDefinitions: { BearerToken: { type: 'apiKey', description: 'Bearer token authentication', name: 'authorization', in: 'header' } },
    security: [{ BearerToken: [] }],
  };
  return v2Cache;
}

let v2ProtobufCache: Uint8Array | undefined;

/**
 * GET /openapi/v2 with `Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf` (what kubectl
 * sends): the same document as openApiV2Document(), encoded as the gnostic `openapi.v2.Document` message.
 */
export function openApiV2Protobuf(): Uint8Array {
  return (v2ProtobufCache ??= encodeOpenApiV2(openApiV2Document()));
}

/** Content type of openApiV2Protobuf() responses (the request's Accept form has an '@', which Go's mime parser rejects in a response). */
export const OPENAPI_V2_PROTOBUF_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
