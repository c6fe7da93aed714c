// Test-only: a small encoder from JSON to Kubernetes protobuf over the same table, so the decoder's tests
// can build byte sequences from readable objects. With `zeros`, it writes every absent non-pointer
// scalar as its zero value, as upstream's generated marshaller does, so tests see the decoder drop them.
import { isSpecialMessage, messageSpec, type FieldSpec } from './message-table.ts';
import { PROTOBUF_MAGIC } from './decode.ts';

export interface EncodeOptions {
  zeros?: boolean;
}

type Bytes = number[];

const utf8 = new TextEncoder();

function varint(out: Bytes, value: bigint): void {
  let v = BigInt.asUintN(64, value);
  for (let i = 0; i < 10; i++) {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    if (v === 0n) {
      out.push(low);
      return;
    }
    out.push(low | 0x80);
  }
}

function tag(out: Bytes, num: number, wire: number): void {
  varint(out, BigInt(num * 8 + wire));
}

function lengthDelimited(out: Bytes, num: number, payload: ArrayLike<number>): void {
  tag(out, num, 2);
  varint(out, BigInt(payload.length));
  for (let i = 0; i < payload.length; i++) out.push(payload[i] ?? 0);
}

function fromBase64(text: string): number[] {
  const bin = atob(text);
  return Array.from(bin, (c) => c.charCodeAt(0));
}

function writeScalar(out: Bytes, f: FieldSpec, num: number, value: unknown): void {
  switch (f.scalar) {
    case 's':
      lengthDelimited(out, num, utf8.encode(String(value)));
      return;
    case 'by':
      lengthDelimited(out, num, fromBase64(String(value)));
      return;
    case 'b':
      tag(out, num, 0);
      varint(out, value === true ? 1n : 0n);
      return;
    case 'f64': {
      tag(out, num, 1);
      const view = new DataView(new ArrayBuffer(8));
      view.setFloat64(0, Number(value), true);
      for (let i = 0; i < 8; i++) out.push(view.getUint8(i));
      return;
    }
    default:
      tag(out, num, 0);
      varint(out, BigInt(Number(value)));
  }
}

function zeroOf(f: FieldSpec): unknown {
  return f.scalar === 's' || f.scalar === 'by' ? '' : f.scalar === 'b' ? false : 0;
}

function writeValue(out: Bytes, f: FieldSpec, num: number, value: unknown, opts: EncodeOptions): void {
  if (f.scalar !== undefined) writeScalar(out, f, num, value);
  else lengthDelimited(out, num, encodeValue(f.message ?? '', value, opts));
}

function encodeValue(message: string, value: unknown, opts: EncodeOptions): Bytes {
  if (isSpecialMessage(message)) return encodeSpecial(message, value);
  return encodeObject(message, (value ?? {}) as Record<string, unknown>, opts);
}

function encodeSpecial(message: string, value: unknown): Bytes {
  const out: Bytes = [];
  switch (message) {
    case 'meta.v1.Time':
    case 'meta.v1.MicroTime': {
      if (value === null || value === undefined) return out;
      const text = String(value);
      const ms = Date.parse(text);
      const fraction = /\.(\d+)Z$/.exec(text)?.[1] ?? '';
      const seconds = BigInt(Math.floor(ms / 1000));
      const nanos = fraction === '' ? 0 : Number(fraction.padEnd(9, '0').slice(0, 9));
      tag(out, 1, 0);
      varint(out, seconds);
      tag(out, 2, 0);
      varint(out, BigInt(nanos));
      return out;
    }
    case 'resource.Quantity':
      lengthDelimited(out, 1, utf8.encode(String(value)));
      return out;
    case 'intstr.IntOrString': {
      const isString = typeof value === 'string';
      tag(out, 1, 0);
      varint(out, isString ? 1n : 0n);
      tag(out, 2, 0);
      varint(out, BigInt(isString ? 0 : Number(value)));
      lengthDelimited(out, 3, utf8.encode(isString ? value : ''));
      return out;
    }
    case 'meta.v1.FieldsV1':
      lengthDelimited(out, 1, utf8.encode(JSON.stringify(value)));
      return out;
    default:
      throw new Error(`test encoder: no special form for ${message}`);
  }
}

/** Encodes a JSON object as the table message `message` (fields in ascending number order, as upstream). */
export function encodeObject(message: string, json: Record<string, unknown>, opts: EncodeOptions = {}): Bytes {
  const spec = messageSpec(message);
  if (!spec) throw new Error(`test encoder: unknown message ${message}`);
  const out: Bytes = [];
  for (const f of [...spec.ordered].sort((a, b) => a.num - b.num)) {
    if (f.inline) {
      lengthDelimited(out, f.num, encodeObject(f.message ?? '', json, opts));
      continue;
    }
    const value = json[f.json];
    if (value === undefined) {
      if (opts.zeros && f.scalar !== undefined && !f.repeated && !f.map && !f.keepZero) writeScalar(out, f, f.num, zeroOf(f));
      continue;
    }
    if (f.map) {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const entry: Bytes = [];
        lengthDelimited(entry, 1, utf8.encode(k));
        writeValue(entry, f, 2, v, opts);
        lengthDelimited(out, f.num, entry);
      }
    } else if (f.repeated) {
      for (const v of value as unknown[]) writeValue(out, f, f.num, v, opts);
    } else {
      writeValue(out, f, f.num, value, opts);
    }
  }
  return out;
}

/** A whole request body: magic, then the runtime.Unknown envelope around the encoded object. */
export function encodeKubernetesProtobuf(apiVersion: string, kind: string, message: string, json: Record<string, unknown>, opts: EncodeOptions = {}): Uint8Array {
  const typeMeta: Bytes = [];
  lengthDelimited(typeMeta, 1, utf8.encode(apiVersion));
  lengthDelimited(typeMeta, 2, utf8.encode(kind));
  const out: Bytes = [...PROTOBUF_MAGIC];
  lengthDelimited(out, 1, typeMeta);
  lengthDelimited(out, 2, encodeObject(message, json, opts));
  lengthDelimited(out, 3, []);
  lengthDelimited(out, 4, []);
  return Uint8Array.from(out);
}
