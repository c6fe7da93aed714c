// Parses the compact notation of schema.ts into field descriptors, once, and resolves message names.
import { MESSAGES, SPECIAL_MESSAGES } from './schema.ts';

export type ScalarType = 's' | 'b' | 'i32' | 'i64' | 'by' | 'f64';

export interface FieldSpec {
  num: number;
  /** The JSON name; '' for an inlined embedded struct. */
  json: string;
  inline: boolean;
  repeated: boolean;
  map: boolean;
  /** Keep the field in JSON even when it holds the zero value (pointer or non-omitempty Go field). */
  keepZero: boolean;
  /** Set for scalar fields (and for the values of scalar maps / elements of scalar lists). */
  scalar: ScalarType | undefined;
  /** Set for message fields: the fully qualified table name, e.g. `core.v1.PodSpec`. */
  message: string | undefined;
}

export interface MessageSpec {
  name: string;
  fields: ReadonlyMap<number, FieldSpec>;
  /** Fields in table order (the order of upstream's Go struct), for encoders. */
  ordered: readonly FieldSpec[];
}

const SCALARS = new Set<string>(['s', 'b', 'i32', 'i64', 'by', 'f64']);
const specials = new Set<string>(SPECIAL_MESSAGES);

export function isSpecialMessage(name: string): boolean {
  return specials.has(name);
}

function packageOf(message: string): string {
  return message.slice(0, message.lastIndexOf('.'));
}

/** Resolves a type reference written inside `owner` to a table name (relative names first). */
function resolve(owner: string, ref: string): string {
  const relative = `${packageOf(owner)}.${ref}`;
  if (MESSAGES[relative] !== undefined || specials.has(relative)) return relative;
  if (MESSAGES[ref] !== undefined || specials.has(ref)) return ref;
  throw new Error(`protobuf table: ${owner} names unknown message ${ref}`);
}

function parseField(owner: string, text: string): FieldSpec {
  const parts = text.trim().split(/\s+/);
  const [numText, json, typeText] = parts;
  if (parts.length !== 3 || numText === undefined || json === undefined || typeText === undefined) {
    throw new Error(`protobuf table: bad field "${text}" in ${owner}`);
  }
  let type = typeText;
  const keepZero = type.endsWith('!');
  if (keepZero) type = type.slice(0, -1);
  const repeated = type.startsWith('[') && type.endsWith(']');
  const map = type.startsWith('{') && type.endsWith('}');
  if (repeated || map) type = type.slice(1, -1);
  const scalar = SCALARS.has(type) ? (type as ScalarType) : undefined;
  const inline = json === '...';
  return {
    num: Number(numText),
    json: inline ? '' : json,
    inline,
    repeated,
    map,
    keepZero,
    scalar,
    message: scalar === undefined ? resolve(owner, type) : undefined,
  };
}

const cache = new Map<string, MessageSpec>();

/** The parsed fields of a table message, or undefined when the table has no such message. */
export function messageSpec(name: string): MessageSpec | undefined {
  const hit = cache.get(name);
  if (hit) return hit;
  const text = MESSAGES[name];
  if (text === undefined) return undefined;
  const ordered = text.split(',').map((f) => parseField(name, f));
  const fields = new Map<number, FieldSpec>();
  for (const f of ordered) {
    if (fields.has(f.num)) throw new Error(`protobuf table: ${name} repeats field ${f.num}`);
    fields.set(f.num, f);
  }
  const spec: MessageSpec = { name, fields, ordered };
  cache.set(name, spec);
  return spec;
}
