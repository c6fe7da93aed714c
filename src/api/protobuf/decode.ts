// Decodes Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) into the JSON object
// the same client would have sent as JSON.
//
// A body is the 4-byte magic `k8s\0` followed by a runtime.Unknown envelope:
//   1 typeMeta { 1 apiVersion, 2 kind }, 2 raw (the object message), 3 contentEncoding, 4 contentType.
// The object message is decoded with the table of schema.ts. Upstream's generated (gogo, proto2) marshaller
// writes every non-pointer scalar even when it is the zero value; the JSON encoder omits those that are
// `omitempty`, so zero scalars are dropped unless the table marks the field `!`. Any field number the table
// does not know fails the request (400 naming the message and the number): nothing is dropped silently.
import { apiErrors } from '../errors.ts';
import { isSpecialMessage, messageSpec, type FieldSpec, type ScalarType } from './message-table.ts';
import { ANY_VERSION_KIND_MESSAGES, KIND_MESSAGES } from './schema.ts';
import { protobufError, readFields, readPackedVarints, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, type WireField } from './wire.ts';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

/** The 4 bytes every Kubernetes protobuf body starts with: `k8s` and a NUL. */
export const PROTOBUF_MAGIC: readonly number[] = [0x6b, 0x38, 0x73, 0x00];

/** Nesting deeper than this is refused (the served kinds nest far less). */
const MAX_DEPTH = 64;

const utf8 = new TextDecoder('utf-8');

/** Whether a Content-Type header names the Kubernetes protobuf media type. */
export function isProtobufMediaType(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() === PROTOBUF_MEDIA_TYPE;
}

export type JsonObject = Record<string, unknown>;

/**
 * Decodes a whole protobuf request body (magic + envelope + object) into its JSON object, with `kind` and
 * `apiVersion` from the envelope first, as a JSON client sends them.
 */
export function decodeKubernetesProtobuf(body: Uint8Array): JsonObject {
  if (body.length < PROTOBUF_MAGIC.length || PROTOBUF_MAGIC.some((b, i) => body[i] !== b)) {
    throw protobufError('the body does not start with the Kubernetes protobuf prefix "k8s\\x00"');
  }
  let apiVersion = '';
  let kind = '';
  let raw: Uint8Array = new Uint8Array(0);
  for (const f of readFields(body.subarray(PROTOBUF_MAGIC.length), 'runtime.Unknown')) {
    if (f.num === 1) {
      expectWire(f, WIRE_LEN, 'runtime.Unknown', 'typeMeta');
      for (const t of readFields(f.bytes, 'runtime.TypeMeta')) {
        if (t.num !== 1 && t.num !== 2) throw unknownField('runtime.TypeMeta', t, 'typeMeta');
        expectWire(t, WIRE_LEN, 'runtime.TypeMeta', t.num === 1 ? 'apiVersion' : 'kind');
        if (t.num === 1) apiVersion = utf8.decode(t.bytes);
        else kind = utf8.decode(t.bytes);
      }
    } else if (f.num === 2) {
      expectWire(f, WIRE_LEN, 'runtime.Unknown', 'raw');
      raw = f.bytes;
    } else if (f.num === 3 || f.num === 4) {
      const name = f.num === 3 ? 'contentEncoding' : 'contentType';
      expectWire(f, WIRE_LEN, 'runtime.Unknown', name);
      const value = utf8.decode(f.bytes);
      if (f.num === 3 && value !== '') throw protobufError(`contentEncoding "${value}" is not supported`);
      if (f.num === 4 && value !== '' && value !== PROTOBUF_MEDIA_TYPE) throw protobufError(`an envelope carrying "${value}" is not supported`);
    } else {
      throw unknownField('runtime.Unknown', f, '');
    }
  }
  if (kind === '') throw apiErrors.badRequest("Object 'Kind' is missing in the protobuf request body");
  const message = KIND_MESSAGES[`${apiVersion}/${kind}`] ?? ANY_VERSION_KIND_MESSAGES[kind];
  if (message === undefined) {
    throw apiErrors.badRequest(`no kind "${kind}" is registered for version "${apiVersion}" in flatnet's protobuf decoder`);
  }
  return { kind, apiVersion, ...decodeMessage(message, raw) };
}

/** Decodes one message of the table (e.g. `core.v1.Pod`) into JSON. */
export function decodeMessage(message: string, bytes: Uint8Array): JsonObject {
  return decodeObject(message, bytes, '', 0);
}

function unknownField(message: string, f: WireField, path: string): Error {
  return protobufError(`${message} has no field number ${f.num} (wire type ${f.wire})${path ? ` at ${path}` : ''} that flatnet knows`);
}

function expectWire(f: WireField, wire: number, message: string, name: string): void {
  if (f.wire !== wire) throw protobufError(`field ${f.num} (${name}) of ${message} has wire type ${f.wire}, expected ${wire}`);
}

function join(path: string, name: string): string {
  return name === '' ? path : path === '' ? name : `${path}.${name}`;
}

function decodeObject(message: string, bytes: Uint8Array, path: string, depth: number): JsonObject {
  if (depth > MAX_DEPTH) throw protobufError(`messages nested deeper than ${MAX_DEPTH} at ${path}`);
  const spec = messageSpec(message);
  if (spec === undefined) throw protobufError(`message ${message} is not known to flatnet`);
  const out: JsonObject = {};
  for (const f of readFields(bytes, message)) {
    const field = spec.fields.get(f.num);
    if (field === undefined) throw unknownField(message, f, path);
    const fieldPath = join(path, field.json);
    if (field.map) {
      expectWire(f, WIRE_LEN, message, field.json);
      const [key, value] = decodeMapEntry(message, field, f.bytes, fieldPath, depth);
      const existing = out[field.json];
      const map = typeof existing === 'object' && existing !== null ? (existing as JsonObject) : {};
      map[key] = value;
      out[field.json] = map;
    } else if (field.repeated) {
      const existing = out[field.json];
      const list = Array.isArray(existing) ? (existing as unknown[]) : [];
      list.push(...decodeRepeated(message, field, f, fieldPath, depth));
      out[field.json] = list;
    } else if (field.inline) {
      expectWire(f, WIRE_LEN, message, `(inline ${field.message ?? ''})`);
      Object.assign(out, decodeValue(message, field, f, path, depth));
    } else {
      const value = decodeValue(message, field, f, fieldPath, depth);
      if (field.scalar !== undefined && !field.keepZero && isZero(value)) delete out[field.json];
      else out[field.json] = value;
    }
  }
  return out;
}

function isZero(value: unknown): boolean {
  return value === '' || value === 0 || value === false;
}

function decodeRepeated(message: string, field: FieldSpec, f: WireField, path: string, depth: number): unknown[] {
  // Proto2 repeated numbers are written one per tag; packed form (one length-delimited run) is accepted too.
  const numeric = field.scalar === 'b' || field.scalar === 'i32' || field.scalar === 'i64';
  if (numeric && f.wire === WIRE_LEN) {
    return readPackedVarints(f.bytes, `${message}.${field.json}`).map((v) => varintScalar(field.scalar as ScalarType, v));
  }
  return [decodeValue(message, field, f, path, depth)];
}

function decodeMapEntry(message: string, field: FieldSpec, bytes: Uint8Array, path: string, depth: number): [string, unknown] {
  let key = '';
  let value: unknown;
  const entry = `${message}.${field.json} entry`;
  for (const e of readFields(bytes, entry)) {
    if (e.num === 1) {
      expectWire(e, WIRE_LEN, entry, 'key');
      key = utf8.decode(e.bytes);
    } else if (e.num === 2) {
      value = decodeValue(message, field, e, `${path}[${key}]`, depth);
    } else {
      throw unknownField(entry, e, path);
    }
  }
  // A missing value is the zero value of its type.
  if (value === undefined) value = field.scalar !== undefined ? zeroScalar(field.scalar) : decodeMessageValue(field.message ?? '', new Uint8Array(0), path, depth);
  return [key, value];
}

function zeroScalar(type: ScalarType): unknown {
  return type === 's' || type === 'by' ? '' : type === 'b' ? false : 0;
}

/** One value of a field (a scalar, a nested message, or a special message's JSON form). */
function decodeValue(message: string, field: FieldSpec, f: WireField, path: string, depth: number): unknown {
  if (field.scalar !== undefined) return decodeScalar(message, field, f);
  expectWire(f, WIRE_LEN, message, field.json || '(inline)');
  return decodeMessageValue(field.message ?? '', f.bytes, path, depth + 1);
}

function decodeScalar(message: string, field: FieldSpec, f: WireField): unknown {
  const type = field.scalar as ScalarType;
  switch (type) {
    case 's':
      expectWire(f, WIRE_LEN, message, field.json);
      return utf8.decode(f.bytes);
    case 'by':
      expectWire(f, WIRE_LEN, message, field.json);
      return base64(f.bytes);
    case 'f64': {
      expectWire(f, WIRE_FIXED64, message, field.json);
      return new DataView(f.bytes.buffer, f.bytes.byteOffset, 8).getFloat64(0, true);
    }
    default:
      expectWire(f, WIRE_VARINT, message, field.json);
      return varintScalar(type, f.varint);
  }
}

function varintScalar(type: ScalarType, v: bigint): number | boolean {
  if (type === 'b') return v !== 0n;
  // Negative int32 values are written sign-extended to 64 bits.
  return type === 'i32' ? Number(BigInt.asIntN(32, v)) : Number(BigInt.asIntN(64, v));
}

function decodeMessageValue(message: string, bytes: Uint8Array, path: string, depth: number): unknown {
  if (isSpecialMessage(message)) return decodeSpecial(message, bytes, path);
  return decodeObject(message, bytes, path, depth);
}

/** Reads the scalar fields of a small special message: number → [wire type, value]. */
function specialFields(message: string, bytes: Uint8Array, path: string, known: Readonly<Record<number, number>>): Map<number, WireField> {
  const out = new Map<number, WireField>();
  for (const f of readFields(bytes, message)) {
    const wire = known[f.num];
    if (wire === undefined) throw unknownField(message, f, path);
    expectWire(f, wire, message, String(f.num));
    out.set(f.num, f);
  }
  return out;
}

function decodeSpecial(message: string, bytes: Uint8Array, path: string): unknown {
  switch (message) {
    case 'meta.v1.Time':
    case 'meta.v1.MicroTime': {
      const fs = specialFields(message, bytes, path, { 1: WIRE_VARINT, 2: WIRE_VARINT });
      const seconds = Number(BigInt.asIntN(64, fs.get(1)?.varint ?? 0n));
      const nanos = Number(BigInt.asIntN(32, fs.get(2)?.varint ?? 0n));
      // The zero time is JSON null, as encoding/json writes a zero metav1.Time.
      if (seconds === 0 && nanos === 0) return null;
      return rfc3339(seconds, nanos, message === 'meta.v1.MicroTime');
    }
    case 'resource.Quantity': {
      const fs = specialFields(message, bytes, path, { 1: WIRE_LEN });
      const s = fs.get(1);
      return s ? utf8.decode(s.bytes) : '0';
    }
    case 'intstr.IntOrString': {
      const fs = specialFields(message, bytes, path, { 1: WIRE_VARINT, 2: WIRE_VARINT, 3: WIRE_LEN });
      const type = fs.get(1)?.varint ?? 0n;
      if (type === 1n) return utf8.decode(fs.get(3)?.bytes ?? new Uint8Array(0));
      if (type !== 0n) throw protobufError(`IntOrString type ${type} at ${path} is neither 0 (int) nor 1 (string)`);
      return Number(BigInt.asIntN(32, fs.get(2)?.varint ?? 0n));
    }
    case 'meta.v1.FieldsV1': {
      const fs = specialFields(message, bytes, path, { 1: WIRE_LEN });
      const raw = fs.get(1);
      if (!raw) return {};
      try {
        return JSON.parse(utf8.decode(raw.bytes)) as unknown;
      } catch (cause) {
        throw apiErrors.badRequest(`unable to decode the protobuf request body: ${path} does not hold JSON`, cause);
      }
    }
    default:
      throw protobufError(`message ${message} is not known to flatnet`);
  }
}

function rfc3339(seconds: number, nanos: number, micro: boolean): string {
  const date = new Date(seconds * 1000);
  const year = date.getUTCFullYear();
  if (Number.isNaN(year) || year < 0 || year > 9999) throw protobufError(`a timestamp of ${seconds} seconds is outside years 0000-9999`);
  const iso = date.toISOString(); // 2006-01-02T15:04:05.000Z
  const base = iso.slice(0, 19);
  if (!micro) return `${base}Z`;
  return `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 with padding, as encoding/json writes []byte. */
export function base64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i] ?? 0;
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    const n = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    out += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]!;
    out += b === undefined ? '=' : B64[(n >> 6) & 63]!;
    out += c === undefined ? '=' : B64[n & 63]!;
  }
  return out;
}
