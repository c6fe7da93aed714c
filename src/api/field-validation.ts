// Server-side field validation (the `fieldValidation=Strict|Warn|Ignore` request parameter), as
// kube-apiserver's strict decoding does it: which fields of a body the kind's schema does not declare,
// which keys a JSON document repeats, and the errors and warning texts upstream reports for them.
//
// The schema is the served OpenAPI one (src/api/openapi/definitions.ts): struct fields are checked by
// name, string-keyed maps (labels, annotations, data, selectors, ...) accept any key, embedded raw
// objects (RawExtension, FieldsV1) are not looked into. Paths are written as upstream's JSON decoder
// writes them: dotted field names and map keys, list items as `[i]` (`spec.ports[0].portz`).
//
// Duplicate keys can only be seen in the raw text: `strictJsonErrors` scans a JSON document itself, in
// document order, as Go's decoder meets the keys. YAML duplicates are found by the server shell (it needs
// the YAML parser); `yamlDuplicatesText` formats them. Pure.
import { ApiError, apiErrors, fieldErrors } from './errors.ts';
import { KindSchema, TypedError, pathString } from './apply/index.ts';
import type { FieldPath, PathElement } from './apply/index.ts';
import { DEFINITIONS } from './openapi/definitions.ts';
import type { Shape } from './openapi/dsl.ts';

export type FieldValidationDirective = 'Strict' | 'Warn' | 'Ignore';
export type WriteOptionsKind = 'CreateOptions' | 'UpdateOptions' | 'PatchOptions';

/** Values upstream accepts for the parameter, in the order its error message lists them. */
const ALLOWED_DIRECTIVES = ['', 'Ignore', 'Strict', 'Warn'] as const;

/**
 * The directive of a write request from its `fieldValidation` query value. Absent or empty means Warn
 * (upstream's default since the feature went GA in 1.27); any other value than the three directives is a
 * 422 on the request's options kind, as upstream's ValidateCreateOptions/UpdateOptions/PatchOptions do.
 */
export function fieldValidationDirective(value: string | null | undefined, optionsKind: WriteOptionsKind): FieldValidationDirective {
  if (value === null || value === undefined || value === '') return 'Warn';
  if (value === 'Strict' || value === 'Warn' || value === 'Ignore') return value;
  throw apiErrors.invalid('meta.k8s.io', optionsKind, '', [fieldErrors.notSupported('fieldValidation', value, ALLOWED_DIRECTIVES)]);
}

// ------------------------------------------------------------------------------------------ schemas

/** How the decoder treats a value: what it checks inside it. */
export type SchemaNode =
  /** A struct: known fields by name, anything else is unknown. */
  | { readonly k: 'struct'; readonly field: (name: string) => SchemaNode | undefined }
  /** A string-keyed map: any key; values of one shape. */
  | { readonly k: 'map'; readonly values: SchemaNode }
  | { readonly k: 'list'; readonly items: SchemaNode }
  /** A free-form value (Go `interface{}`): any key, but repeated keys are still reported. */
  | { readonly k: 'any' }
  /** A value with its own decoding (RawExtension, FieldsV1, IntOrString, Time, ...): not looked into. */
  | { readonly k: 'opaque' };

const OPAQUE: SchemaNode = { k: 'opaque' };
const ANY: SchemaNode = { k: 'any' };

const structNodes = new Map<string, SchemaNode>();

function definitionNode(name: string): SchemaNode {
  const cached = structNodes.get(name);
  if (cached !== undefined) return cached;
  const def = DEFINITIONS[name];
  let node: SchemaNode;
  if (def === undefined) node = ANY;
  else if (def.t === 'scalar') node = def.v3['x-kubernetes-preserve-unknown-fields'] === true ? ANY : OPAQUE;
  else {
    const fields = new Map<string, SchemaNode>();
    const fieldNames = new Set(Object.keys(def.fields));
    node = {
      k: 'struct',
      field: (fieldName) => {
        if (!fieldNames.has(fieldName)) return undefined;
        let child = fields.get(fieldName);
        if (child === undefined) {
          const f = def.fields[fieldName];
          child = f === undefined ? OPAQUE : shapeNode(f.shape);
          fields.set(fieldName, child);
        }
        return child;
      },
    };
  }
  structNodes.set(name, node);
  return node;
}

function shapeNode(shape: Shape): SchemaNode {
  switch (shape.t) {
    case 'ref':
      return definitionNode(shape.name);
    case 'array':
      return { k: 'list', items: shapeNode(shape.items) };
    case 'map':
      return { k: 'map', values: shapeNode(shape.values) };
    case 'object':
      return ANY;
    default:
      return OPAQUE;
  }
}

let gvkIndex: Map<string, string> | undefined;

function gvkKey(group: string, version: string, kind: string): string {
  return `${group}/${version}/${kind}`;
}

/** The schema of a kind, found through the definitions' `x-kubernetes-group-version-kind` tags. */
export function schemaForKind(group: string, version: string, kind: string): SchemaNode | undefined {
  if (gvkIndex === undefined) {
    gvkIndex = new Map();
    for (const [name, def] of Object.entries(DEFINITIONS)) {
      if (def.t !== 'object' || def.gvk === undefined) continue;
      for (const g of def.gvk) if (!gvkIndex.has(gvkKey(g.group, g.version, g.kind))) gvkIndex.set(gvkKey(g.group, g.version, g.kind), name);
    }
  }
  const name = gvkIndex.get(gvkKey(group, version, kind));
  return name === undefined ? undefined : definitionNode(name);
}

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

// ------------------------------------------------------------------------------------ strict errors

/** One strict-decoding violation: a field the schema lacks, or a key a JSON object repeats. */
export interface StrictError {
  readonly type: 'unknown' | 'duplicate';
  /** As upstream writes it: `spec.template.spec.containers[0].unknownNested`, `[1].path`. */
  readonly path: string;
}

/** Upstream's text of one violation: `unknown field "spec.foo"` / `duplicate field "spec.paused"`. */
export function strictErrorText(e: StrictError): string {
  return `${e.type === 'unknown' ? 'unknown field' : 'duplicate field'} ${goQuote(e.path)}`;
}

/** Go's strconv.Quote for the characters field paths hold (JSON's escaping agrees on the printable ones). */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Upstream stops collecting after this many violations of one document. */
export const MAX_STRICT_ERRORS = 100;

type PathStep = { readonly key: string } | { readonly index: number };

function renderPath(steps: readonly PathStep[], last?: string): string {
  let out = '';
  for (const s of steps) {
    if ('index' in s) out += `[${s.index}]`;
    else out += out === '' ? s.key : `.${s.key}`;
  }
  if (last === undefined) return out;
  return out === '' ? last : `${out}.${last}`;
}

class Collector {
  readonly errors: StrictError[] = [];
  private readonly seen = new Set<string>();
  add(type: StrictError['type'], path: string): void {
    if (this.errors.length >= MAX_STRICT_ERRORS) return;
    const id = `${type}\u0000${path}`;
    if (this.seen.has(id)) return;
    this.seen.add(id);
    this.errors.push({ type, path });
  }
}

// ------------------------------------------------------------------------------------ JSON scanning

/** Nesting beyond this is skipped without checks (Go's decoder refuses 10000 levels anyway). */
const MAX_SCAN_DEPTH = 512;

class JsonScanner {
  private pos = 0;
  private readonly text: string;
  private readonly out: Collector;
  private readonly steps: PathStep[] = [];

  constructor(text: string, out: Collector) {
    this.text = text;
    this.out = out;
  }

  run(root: SchemaNode): void {
    this.ws();
    if (this.pos < this.text.length) this.value(root, 0);
  }

  private ws(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else break;
    }
  }

  private fail(): never {
    throw new SyntaxError(`invalid JSON at offset ${this.pos}`);
  }

  /** Reads a string token at pos and returns its value. */
  private string(): string {
    const t = this.text;
    if (t[this.pos] !== '"') this.fail();
    const start = this.pos;
    this.pos++;
    let escaped = false;
    while (this.pos < t.length) {
      const c = t[this.pos];
      if (c === '\\') {
        escaped = true;
        this.pos += 2;
        continue;
      }
      this.pos++;
      if (c === '"') {
        const raw = t.slice(start, this.pos);
        return escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
      }
    }
    return this.fail();
  }

  /** Skips one value of any kind without checks (iteratively, so depth does not matter). */
  private skip(): void {
    const t = this.text;
    let depth = 0;
    do {
      this.ws();
      const c = t[this.pos];
      if (c === '"') this.string();
      else if (c === '{' || c === '[') {
        depth++;
        this.pos++;
      } else if (c === '}' || c === ']') {
        depth--;
        this.pos++;
      } else if (c === ',' || c === ':') this.pos++;
      else if (c === undefined) this.fail();
      else this.primitive();
    } while (depth > 0);
  }

  private primitive(): void {
    const t = this.text;
    const start = this.pos;
    while (this.pos < t.length && !',:]} \n\r\t'.includes(t[this.pos] ?? '')) this.pos++;
    if (this.pos === start) this.fail();
  }

  private value(node: SchemaNode, depth: number): void {
    this.ws();
    const c = this.text[this.pos];
    if (depth > MAX_SCAN_DEPTH || node.k === 'opaque') return this.skip();
    if (c === '{') {
      if (node.k === 'list') return this.skip();
      return this.object(node, depth);
    }
    if (c === '[') {
      if (node.k === 'list' || node.k === 'any') return this.array(node.k === 'list' ? node.items : ANY, depth);
      return this.skip();
    }
    return this.skip();
  }

  private object(node: Exclude<SchemaNode, { k: 'list' } | { k: 'opaque' }>, depth: number): void {
    const t = this.text;
    this.pos++; // {
    const seen = new Set<string>();
    this.ws();
    if (t[this.pos] === '}') {
      this.pos++;
      return;
    }
    for (;;) {
      this.ws();
      const key = this.string();
      this.ws();
      if (t[this.pos] !== ':') this.fail();
      this.pos++;
      let child: SchemaNode | undefined;
      if (node.k === 'struct') child = node.field(key);
      else child = node.k === 'map' ? node.values : ANY;
      if (child === undefined) {
        this.out.add('unknown', renderPath(this.steps, key));
        this.skip();
      } else {
        if (seen.has(key)) this.out.add('duplicate', renderPath(this.steps, key));
        seen.add(key);
        this.steps.push({ key });
        this.value(child, depth + 1);
        this.steps.pop();
      }
      this.ws();
      const sep = t[this.pos];
      this.pos++;
      if (sep === '}') return;
      if (sep !== ',') this.fail();
    }
  }

  private array(items: SchemaNode, depth: number): void {
    const t = this.text;
    this.pos++; // [
    this.ws();
    if (t[this.pos] === ']') {
      this.pos++;
      return;
    }
    for (let i = 0; ; i++) {
      this.steps.push({ index: i });
      this.value(items, depth + 1);
      this.steps.pop();
      this.ws();
      const sep = t[this.pos];
      this.pos++;
      if (sep === ']') return;
      if (sep !== ',') this.fail();
    }
  }
}

function scan(text: string, root: SchemaNode): StrictError[] {
  const out = new Collector();
  try {
    new JsonScanner(text, out).run(root);
  } catch (e) {
    // A malformed document is reported by the JSON parser elsewhere; report what was found so far.
    if (!(e instanceof SyntaxError)) throw e;
  }
  return out.errors;
}

/**
 * The violations in a JSON body decoded into `gvk`'s type, in the order Go's strict decoder meets them:
 * unknown fields (their values are not looked into, so a repeated unknown key is reported once) and
 * repeated keys of known structs, maps and free-form values. Empty when the kind has no schema.
 */
export function strictJsonErrors(gvk: GroupVersionKind, text: string): StrictError[] {
  const root = schemaForKind(gvk.group, gvk.version, gvk.kind);
  return root === undefined ? [] : scan(text, root);
}

/** Repeated keys anywhere in a JSON document decoded without a schema (merge and strategic patches). */
export function jsonDuplicateFields(text: string): StrictError[] {
  return scan(text, ANY);
}

const JSON_PATCH_OPERATION: SchemaNode = (() => {
  const fields: Record<string, SchemaNode> = { op: OPAQUE, path: OPAQUE, from: OPAQUE, value: ANY };
  return { k: 'struct', field: (name: string) => fields[name] };
})();

/**
 * Violations in a JSON patch's operations (fields other than op, path, from and value; repeated keys),
 * as upstream's texts: `json patch unknown field "[0].foo"`, `json patch duplicate field "[1].path"`.
 */
export function jsonPatchStrictErrors(text: string): string[] {
  return scan(text, { k: 'list', items: JSON_PATCH_OPERATION }).map((e) => `json patch ${strictErrorText(e)}`);
}

// ---------------------------------------------------------------------------- decoded-object walks

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Byte-wise order of UTF-8 strings, as Go sorts map keys when it encodes them. */
function goStringCompare(a: string, b: string): number {
  const ca = [...a];
  const cb = [...b];
  const n = Math.min(ca.length, cb.length);
  for (let i = 0; i < n; i++) {
    const x = ca[i]!.codePointAt(0)!;
    const y = cb[i]!.codePointAt(0)!;
    if (x !== y) return x - y;
  }
  return ca.length - cb.length;
}

export interface UnknownFieldsOptions {
  /**
   * `sorted` (the default) walks keys in Go's map order: what upstream reports for a body it has
   * re-encoded from a map (YAML bodies, patched objects). `document` keeps the object's key order.
   */
  order?: 'sorted' | 'document';
}

/**
 * The fields of a decoded object that `gvk`'s schema does not declare, as upstream's paths (values of
 * unknown fields are not looked into). Empty when the kind has no schema.
 */
export function unknownFields(gvk: GroupVersionKind, obj: unknown, options: UnknownFieldsOptions = {}): string[] {
  const root = schemaForKind(gvk.group, gvk.version, gvk.kind);
  if (root === undefined) return [];
  const out = new Collector();
  const sorted = (options.order ?? 'sorted') === 'sorted';
  const steps: PathStep[] = [];
  const walk = (node: SchemaNode, v: unknown, depth: number): void => {
    if (depth > MAX_SCAN_DEPTH || node.k === 'opaque' || node.k === 'any') return;
    if (Array.isArray(v)) {
      if (node.k !== 'list') return;
      v.forEach((item, i) => {
        steps.push({ index: i });
        walk(node.items, item, depth + 1);
        steps.pop();
      });
      return;
    }
    if (!isPlainObject(v) || node.k === 'list') return;
    const keys = Object.keys(v).filter((k) => v[k] !== undefined);
    if (sorted) keys.sort(goStringCompare);
    for (const key of keys) {
      const child = node.k === 'struct' ? node.field(key) : node.values;
      if (child === undefined) {
        out.add('unknown', renderPath(steps, key));
        continue;
      }
      steps.push({ key });
      walk(child, v[key], depth + 1);
      steps.pop();
    }
  };
  walk(root, obj, 0);
  return out.errors.map((e) => e.path);
}

/**
 * The object without the fields `gvk`'s schema does not declare, as upstream's decoder leaves it under
 * Warn and Ignore (a typed object has nowhere to keep them). Returns the input itself when nothing is
 * dropped, else a copy; the input is never modified.
 */
export function pruneUnknownFields<T>(gvk: GroupVersionKind, obj: T): T {
  const root = schemaForKind(gvk.group, gvk.version, gvk.kind);
  if (root === undefined) return obj;
  const prune = (node: SchemaNode, v: unknown, depth: number): unknown => {
    if (depth > MAX_SCAN_DEPTH || node.k === 'opaque' || node.k === 'any') return v;
    if (Array.isArray(v)) {
      if (node.k !== 'list') return v;
      let copy: unknown[] | undefined;
      v.forEach((item, i) => {
        const p = prune(node.items, item, depth + 1);
        if (p !== item) (copy ??= [...v])[i] = p;
      });
      return copy ?? v;
    }
    if (!isPlainObject(v) || node.k === 'list') return v;
    let copy: Record<string, unknown> | undefined;
    for (const key of Object.keys(v)) {
      const child = node.k === 'struct' ? node.field(key) : node.values;
      if (child === undefined) {
        copy ??= { ...v };
        delete copy[key];
        continue;
      }
      const p = prune(child, v[key], depth + 1);
      if (p !== v[key]) (copy ??= { ...v })[key] = p;
    }
    return copy ?? v;
  };
  return prune(root, obj, 0) as T;
}

/** `unknown field "<path>"` for each path. */
export const unknownFieldTexts = (paths: readonly string[]): string[] => paths.map((path) => strictErrorText({ type: 'unknown', path }));

/**
 * The unknown fields of a patched object that its live version did not already carry (a live object
 * written with Warn or Ignore may hold some; upstream drops them on decode, so they are not the patch's).
 */
export function unknownFieldsAddedBy(gvk: GroupVersionKind, patched: unknown, live: unknown): string[] {
  const before = new Set(live === undefined ? [] : unknownFields(gvk, live));
  return unknownFields(gvk, patched).filter((p) => !before.has(p));
}

// ------------------------------------------------------------------------------------- server-side apply

/**
 * The fields of an applied configuration that the schema does not declare, as structured-merge-diff
 * names them (`.spec.ports[port=80,protocol="TCP"].portz`): keyed list items by their keys.
 */
export function applyUnknownFields(gvk: GroupVersionKind, applied: unknown): string[] {
  const root = schemaForKind(gvk.group, gvk.version, gvk.kind);
  if (root === undefined) return [];
  const schema = new KindSchema(gvk.kind);
  const out: string[] = [];
  const walk = (node: SchemaNode, names: readonly string[], path: FieldPath, v: unknown, depth: number): void => {
    if (depth > MAX_SCAN_DEPTH || node.k === 'opaque' || node.k === 'any' || out.length >= MAX_STRICT_ERRORS) return;
    if (Array.isArray(v)) {
      if (node.k !== 'list') return;
      const sem = schema.list(names);
      v.forEach((item, i) => {
        let pe: PathElement;
        try {
          pe = schema.itemElement(names, path, sem, item, i);
        } catch (e) {
          if (!(e instanceof TypedError)) throw e;
          pe = { kind: 'index', index: i };
        }
        walk(node.items, names, [...path, pe], item, depth + 1);
      });
      return;
    }
    if (!isPlainObject(v) || node.k === 'list') return;
    const keys = Object.keys(v).filter((k) => v[k] !== undefined).sort(goStringCompare);
    for (const key of keys) {
      const child = node.k === 'struct' ? node.field(key) : node.values;
      const p: FieldPath = [...path, { kind: 'field', name: key }];
      if (child === undefined) out.push(pathString(p));
      else walk(child, [...names, key], p, v[key], depth + 1);
    }
  };
  walk(root, [], [], applied, 0);
  return out;
}

/** structured-merge-diff's text of its validation errors: one inline, several as an indented list. */
function typedErrorsText(paths: readonly string[]): string {
  const lines = paths.map((p) => `${p}: field not declared in schema`);
  return lines.length === 1 ? (lines[0] ?? '') : ['errors:', ...lines.map((l) => `  ${l}`)].join('\n');
}

/**
 * What kube-apiserver answers a server-side apply whose configuration has fields the schema lacks,
 * whatever the fieldValidation directive: a 500 from the typed conversion of the configuration.
 * undefined when every field is declared.
 */
export function applyUnknownFieldsError(gvk: GroupVersionKind, apiVersion: string, applied: unknown, namespace: string, name: string): ApiError | undefined {
  const paths = applyUnknownFields(gvk, applied);
  if (paths.length === 0) return undefined;
  const gv = apiVersion.includes('/') ? apiVersion : `/${apiVersion}`;
  return new ApiError('InternalError', `failed to create typed patch object (${namespace}/${name}; ${gv}, Kind=${gvk.kind}): ${typedErrorsText(paths)}`, undefined, { code: 500 });
}

// ------------------------------------------------------------------------------------ YAML duplicates

/** One repeated key of a YAML mapping: its 1-based line and the key's value. */
export interface YamlDuplicateKey {
  readonly line: number;
  readonly key: string | number | boolean | null;
}

/** Go's %#v of a YAML key, as go-yaml prints it. */
function goYamlKey(key: YamlDuplicateKey['key']): string {
  if (typeof key === 'string') return goQuote(key);
  if (key === null) return '<nil>';
  return String(key);
}

/** The lines go-yaml writes for repeated keys: `line 5: key "name" already set in map`. */
export function yamlDuplicateLines(duplicates: readonly YamlDuplicateKey[]): string[] {
  return duplicates.map((d) => `line ${d.line}: key ${goYamlKey(d.key)} already set in map`);
}

/** go-yaml's error for repeated keys (`yaml: unmarshal errors:\n  line 5: ...`); undefined when none. */
export function yamlDuplicatesText(duplicates: readonly YamlDuplicateKey[]): string | undefined {
  if (duplicates.length === 0) return undefined;
  return ['yaml: unmarshal errors:', ...yamlDuplicateLines(duplicates).map((l) => `  ${l}`)].join('\n');
}

// -------------------------------------------------------------------------------- upstream's answers

/** `strict decoding error: a, b, c`. */
export function strictDecodingMessage(texts: readonly string[]): string {
  return `strict decoding error: ${texts.join(', ')}`;
}

/**
 * The warnings upstream adds for strict-decoding texts under Warn: one per text, a go-yaml error split
 * into one warning per line.
 */
export function strictDecodingWarnings(texts: readonly string[]): string[] {
  const out: string[] = [];
  for (const t of texts) {
    const prefixes = ['yaml: unmarshal errors:\n', 'error converting YAML to JSON: yaml: unmarshal errors:\n'];
    const prefix = prefixes.find((p) => t.startsWith(p));
    if (prefix === undefined) out.push(t);
    else for (const line of t.slice(prefix.length).split('\n')) out.push(line.trim());
  }
  return out;
}

/** Group, version and kind named by a body's apiVersion/kind, else the endpoint's. */
function dataKind(body: unknown, fallback: GroupVersionKind): { version: string; kind: string } {
  const o = isPlainObject(body) ? body : {};
  const apiVersion = typeof o['apiVersion'] === 'string' ? o['apiVersion'] : '';
  const kind = typeof o['kind'] === 'string' && o['kind'] !== '' ? o['kind'] : fallback.kind;
  const version = apiVersion === '' ? fallback.version : apiVersion.slice(apiVersion.indexOf('/') + 1);
  return { version, kind };
}

/**
 * The 400 of a create or update whose body fails strict decoding:
 * `Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.portz"`.
 */
export function strictDecodingBadRequest(gvk: GroupVersionKind, body: unknown, texts: readonly string[]): ApiError {
  const data = dataKind(body, gvk);
  return apiErrors.badRequest(`${data.kind} in version ${goQuote(data.version)} cannot be handled as a ${gvk.kind}: ${strictDecodingMessage(texts)}`);
}

/**
 * The 422 of a patch whose body or result fails strict decoding: an invalid `patch` field whose value is
 * the patched object as JSON (json and merge patches) or the patch as Go prints a map (strategic merge).
 */
export function strictPatchInvalid(value: string, texts: readonly string[]): ApiError {
  return apiErrors.invalid('', '', '', [fieldErrors.invalid('patch', value, strictDecodingMessage(texts))]);
}

// ---------------------------------------------------------------------------------- Go value printing

/** Largest magnitude Go's decoder keeps as an int64 (PreserveInts); larger numbers become float64. */
const INT64_LIMIT = 9223372036854775807;

/**
 * Go's %v of a decoded JSON number: whole numbers as int64 decimals, others as a float64 with the
 * shortest digits, in exponent form (`1.5e+06`) below 1e-4 or from 1e6 up, as strconv's 'g' does.
 */
function goNumber(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
  if (Number.isInteger(n) && Math.abs(n) < INT64_LIMIT) return BigInt(n).toString();
  const [mant = '', e = '0'] = n.toExponential().split('e');
  const exp = Number(e);
  if (exp < -4 || exp >= 6) {
    const digits = String(Math.abs(exp));
    return `${mant}e${exp < 0 ? '-' : '+'}${digits.length < 2 ? `0${digits}` : digits}`;
  }
  return String(n);
}

/** Go's `%+v` of a decoded JSON value (maps with sorted keys, `<nil>`, unquoted strings). */
export function goValueString(v: unknown, depth = 0): string {
  if (depth > MAX_SCAN_DEPTH) return '...';
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goNumber(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map((x) => goValueString(x, depth + 1)).join(' ')}]`;
  if (isPlainObject(v)) {
    const keys = Object.keys(v).filter((k) => v[k] !== undefined).sort(goStringCompare);
    return `map[${keys.map((k) => `${k}:${goValueString(v[k], depth + 1)}`).join(' ')}]`;
  }
  return String(v);
}

/** JSON as Go's encoding/json writes a map: compact, keys sorted, `<`, `>`, `&` and U+2028/9 escaped. */
export function goJson(v: unknown): string {
  const sortKeys = (x: unknown, depth: number): unknown => {
    if (depth > MAX_SCAN_DEPTH) return null;
    if (Array.isArray(x)) return x.map((i) => sortKeys(i, depth + 1));
    if (isPlainObject(x)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(x).sort(goStringCompare)) if (x[k] !== undefined) out[k] = sortKeys(x[k], depth + 1);
      return out;
    }
    return x;
  };
  const text = JSON.stringify(sortKeys(v, 0)) ?? 'null';
  return text.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
