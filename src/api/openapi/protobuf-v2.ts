// Encodes the Swagger 2.0 document as the protobuf message `openapi.v2.Document` (gnostic's OpenAPIv2.proto),
// the only form kubectl 1.27-1.28 accept from GET /openapi/v2 (they send
// `Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf` and unmarshal the bytes as
// protobuf). Covers the subset of Swagger our documents use. Vendor extensions and `default`/`enum`
// values travel as `Any.yaml`, for which JSON text is valid YAML. Pure.
import type { Json, JsonObject } from './dsl.ts';

// ------------------------------------------------------------------------------------ wire format

/** Accumulates protobuf fields; nested messages are encoded first and added as length-delimited bytes. */
class Message {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.size += bytes.length;
  }

  private key(field: number, wireType: 0 | 2): void {
    this.push(varint(field * 8 + wireType));
  }

  string(field: number, value: string | undefined): this {
    if (value === undefined || value === '') return this;
    const bytes = utf8(value);
    this.key(field, 2);
    this.push(varint(bytes.length));
    this.push(bytes);
    return this;
  }

  strings(field: number, values: readonly string[] | undefined): this {
    for (const v of values ?? []) {
      const bytes = utf8(v);
      this.key(field, 2);
      this.push(varint(bytes.length));
      this.push(bytes);
    }
    return this;
  }

  bool(field: number, value: boolean | undefined): this {
    if (value !== true) return this;
    this.key(field, 0);
    this.push(varint(1));
    return this;
  }

  message(field: number, value: Message | undefined): this {
    if (value === undefined) return this;
    const bytes = value.bytes();
    this.key(field, 2);
    this.push(varint(bytes.length));
    this.push(bytes);
    return this;
  }

  messages(field: number, values: readonly Message[]): this {
    for (const v of values) this.message(field, v);
    return this;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) { out.set(c, at); at += c.length; }
    return out;
  }
}

function varint(value: number): Uint8Array {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) { out.push((v % 0x80) | 0x80); v = Math.floor(v / 0x80); }
  out.push(v);
  return Uint8Array.from(out);
}

function utf8(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) { cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00); i++; }
    }
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  }
  return Uint8Array.from(out);
}

// -------------------------------------------------------------------------------------- json access

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: Json | undefined): JsonObject => (isObject(v) ? v : {});
const text = (v: Json | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const texts = (v: Json | undefined): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const flag = (v: Json | undefined): boolean | undefined => (typeof v === 'boolean' ? v : undefined);

/** `Any { yaml = 2 }` holding a JSON value. */
const any = (v: Json): Message => new Message().string(2, JSON.stringify(v));

/** `NamedAny { name = 1; value = 2 }` for every `x-` key of an object. */
function vendorExtensions(o: JsonObject): Message[] {
  return Object.keys(o).filter((k) => k.startsWith('x-')).map((k) => new Message().string(1, k).message(2, any(o[k] ?? null)));
}

// ---------------------------------------------------------------------------------------- messages

function schema(s: JsonObject): Message {
  const m = new Message()
    .string(1, text(s['$ref']))
    .string(2, text(s['format']))
    .string(4, text(s['description']));
  if (s['default'] !== undefined) m.message(5, any(s['default']));
  m.bool(16, flag(s['uniqueItems']));
  m.strings(19, texts(s['required']));
  if (Array.isArray(s['enum'])) m.messages(20, s['enum'].map(any));
  const additional = s['additionalProperties'];
  if (isObject(additional)) m.message(21, new Message().message(1, schema(additional)));
  else if (typeof additional === 'boolean') m.message(21, new Message().bool(2, additional));
  const type = text(s['type']);
  if (type !== undefined) m.message(22, new Message().strings(1, [type]));
  if (isObject(s['items'])) m.message(23, new Message().message(1, schema(s['items'])));
  if (Array.isArray(s['allOf'])) m.messages(24, s['allOf'].filter(isObject).map(schema));
  if (isObject(s['properties'])) {
    const props = s['properties'];
    m.message(25, new Message().messages(1, Object.keys(props).map((k) => new Message().string(1, k).message(2, schema(obj(props[k]))))));
  }
  return m.messages(31, vendorExtensions(s));
}

function parametersItem(p: JsonObject): Message {
  const where = text(p['in']);
  let parameter: Message;
  if (where === 'body') {
    const body = new Message().string(1, text(p['description'])).string(2, text(p['name'])).string(3, where).bool(4, flag(p['required']));
    if (isObject(p['schema'])) body.message(5, schema(p['schema']));
    parameter = new Message().message(1, body);
  } else {
    // Query: type = 6, uniqueItems = 20. Path: type = 5, uniqueItems = 19. The first four fields agree.
    const sub = new Message().bool(1, flag(p['required'])).string(2, where).string(3, text(p['description'])).string(4, text(p['name']));
    const nonBody = new Message();
    if (where === 'path') nonBody.message(4, sub.string(5, text(p['type'])).bool(19, flag(p['uniqueItems'])));
    else nonBody.message(3, sub.string(6, text(p['type'])).bool(20, flag(p['uniqueItems'])));
    parameter = new Message().message(2, nonBody);
  }
  return new Message().message(1, parameter);
}

function operation(op: JsonObject): Message {
  const m = new Message()
    .strings(1, texts(op['tags']))
    .string(3, text(op['description']))
    .string(5, text(op['operationId']))
    .strings(6, texts(op['produces']))
    .strings(7, texts(op['consumes']));
  if (Array.isArray(op['parameters'])) m.messages(8, op['parameters'].filter(isObject).map(parametersItem));
  const responses = obj(op['responses']);
  m.message(9, new Message().messages(1, Object.keys(responses).map((code) => {
    const r = obj(responses[code]);
    const response = new Message().string(1, text(r['description']));
    if (isObject(r['schema'])) response.message(2, new Message().message(1, schema(r['schema'])));
    return new Message().string(1, code).message(2, new Message().message(1, response));
  })));
  m.strings(10, texts(op['schemes']));
  return m.messages(13, vendorExtensions(op));
}

const METHOD_FIELDS: Readonly<Record<string, number>> = { get: 2, put: 3, post: 4, delete: 5, options: 6, head: 7, patch: 8 };

function pathItem(item: JsonObject): Message {
  const m = new Message();
  for (const [method, field] of Object.entries(METHOD_FIELDS)) {
    const op = item[method];
    if (isObject(op)) m.message(field, operation(op));
  }
  if (Array.isArray(item['parameters'])) m.messages(9, item['parameters'].filter(isObject).map(parametersItem));
  return m.messages(10, vendorExtensions(item));
}

/** The protobuf encoding (`openapi.v2.Document`) of a Swagger 2.0 JSON document. */
export function encodeOpenApiV2(doc: JsonObject): Uint8Array {
  const info = obj(doc['info']);
  const paths = obj(doc['paths']);
  const definitions = obj(doc['definitions']);
  const securityDefinitions = obj(doc['securityDefinitions']);
  const m = new Message()
    .string(1, text(doc['swagger']))
    .message(2, new Message().string(1, text(info['title'])).string(2, text(info['version'])))
    .message(8, new Message().messages(2, Object.keys(paths).map((p) => new Message().string(1, p).message(2, pathItem(obj(paths[p]))))))
    .message(9, new Message().messages(1, Object.keys(definitions).map((n) => new Message().string(1, n).message(2, schema(obj(definitions[n]))))));
  if (Array.isArray(doc['security'])) {
    m.messages(12, doc['security'].filter(isObject).map((req) =>
      new Message().messages(1, Object.keys(req).map((k) => new Message().string(1, k).message(2, new Message().strings(1, texts(req[k])))))));
  }
  m.message(13, new Message().messages(1, Object.keys(securityDefinitions).map((k) => {
    const s = obj(securityDefinitions[k]);
    const apiKey = new Message().string(1, text(s['type'])).string(2, text(s['name'])).string(3, text(s['in'])).string(4, text(s['description']));
    return new Message().string(1, k).message(2, new Message().message(2, apiKey));
  })));
  return m.messages(16, vendorExtensions(doc)).bytes();
}
