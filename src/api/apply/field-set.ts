// Field sets: the sets of field paths that server-side apply tracks per manager, as structured-merge-diff
// models them, and their wire form `fieldsV1` (a trie of `f:<field>`, `k:<key json>`, `v:<value json>`,
// `i:<index>` keys, with `.` marking that the node itself is a member).
// Pure.

/** One step of a field path: a struct field or map key, a keyed list item, a set item, or a list index. */
export type PathElement =
  | { readonly kind: 'field'; readonly name: string }
  /** Key fields of an associative-list item, sorted by name. */
  | { readonly kind: 'key'; readonly fields: readonly (readonly [string, unknown])[] }
  | { readonly kind: 'value'; readonly value: unknown }
  | { readonly kind: 'index'; readonly index: number };

export type FieldPath = readonly PathElement[];

export const fieldElement = (name: string): PathElement => ({ kind: 'field', name });

/** A field path from dotted field names (no list items), e.g. `pathOf('spec', 'replicas')`. */
export function pathOf(...names: string[]): FieldPath {
  return names.map(fieldElement);
}

// ------------------------------------------------------------------------------------- value ordering

function typeRank(v: unknown): number {
  if (typeof v === 'number') return 0;
  if (typeof v === 'string') return 1;
  if (typeof v === 'boolean') return 2;
  if (Array.isArray(v)) return 3;
  if (v !== null && typeof v === 'object') return 4;
  return 5; // null / undefined
}

/** A total order over JSON values: numbers < strings < booleans < lists < maps < null. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const c = compareValues(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  if (ra === 4) {
    const ea = Object.entries(a as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    const eb = Object.entries(b as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    const n = Math.min(ea.length, eb.length);
    for (let i = 0; i < n; i++) {
      const [ka, va] = ea[i]!;
      const [kb, vb] = eb[i]!;
      if (ka !== kb) return ka < kb ? -1 : 1;
      const c = compareValues(va, vb);
      if (c !== 0) return c;
    }
    return ea.length - eb.length;
  }
  return 0;
}

const kindRank = { field: 0, key: 1, value: 2, index: 3 } as const;

/** Upstream's path-element order: fields, then keys, then values, then indexes. */
export function comparePathElements(a: PathElement, b: PathElement): number {
  if (a.kind !== b.kind) return kindRank[a.kind] - kindRank[b.kind];
  switch (a.kind) {
    case 'field': {
      const n = (b as { name: string }).name;
      return a.name < n ? -1 : a.name > n ? 1 : 0;
    }
    case 'key': {
      const bf = (b as { fields: readonly (readonly [string, unknown])[] }).fields;
      const n = Math.min(a.fields.length, bf.length);
      for (let i = 0; i < n; i++) {
        const [an, av] = a.fields[i]!;
        const [bn, bv] = bf[i]!;
        if (an !== bn) return an < bn ? -1 : 1;
        const c = compareValues(av, bv);
        if (c !== 0) return c;
      }
      return a.fields.length - bf.length;
    }
    case 'value':
      return compareValues(a.value, (b as { value: unknown }).value);
    case 'index':
      return a.index - (b as { index: number }).index;
  }
}

// ------------------------------------------------------------------------------------ serialisation

/** JSON with object keys sorted, as Go's encoder writes maps. */
export function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${sortedJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** The fieldsV1 key of a path element: `f:name`, `k:{"port":80,"protocol":"TCP"}`, `v:"x"`, `i:0`. */
export function pathElementKey(pe: PathElement): string {
  switch (pe.kind) {
    case 'field':
      return `f:${pe.name}`;
    case 'key':
      return `k:{${pe.fields.map(([n, v]) => `${JSON.stringify(n)}:${sortedJson(v)}`).join(',')}}`;
    case 'value':
      return `v:${sortedJson(pe.value)}`;
    case 'index':
      return `i:${pe.index}`;
  }
}

/** Parses a fieldsV1 key; undefined for an unknown prefix (ignored, as upstream does). */
export function parsePathElementKey(key: string): PathElement | undefined {
  const prefix = key.slice(0, 2);
  const rest = key.slice(2);
  switch (prefix) {
    case 'f:':
      return { kind: 'field', name: rest };
    case 'k:': {
      const parsed: unknown = JSON.parse(rest);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`invalid key path element ${key}`);
      const fields = Object.entries(parsed as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return { kind: 'key', fields };
    }
    case 'v:':
      return { kind: 'value', value: JSON.parse(rest) as unknown };
    case 'i:': {
      const index = Number(rest);
      if (!Number.isInteger(index)) throw new Error(`invalid index path element ${key}`);
      return { kind: 'index', index };
    }
    default:
      return undefined;
  }
}

/** Go's %v of a key value in a path string: strings quoted, numbers and booleans bare. */
function valueString(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return sortedJson(v);
}

/** Upstream's Path.String(): `.spec.template.spec.containers[name="nginx"].image`, `[=x]`, `[0]`. */
export function pathString(path: FieldPath): string {
  return path
    .map((pe) => {
      switch (pe.kind) {
        case 'field':
          return `.${pe.name}`;
        case 'key':
          return `[${pe.fields.map(([n, v]) => `${n}=${valueString(v)}`).join(',')}]`;
        case 'value':
          return `[=${valueString(pe.value)}]`;
        case 'index':
          return `[${pe.index}]`;
      }
    })
    .join('');
}

// ------------------------------------------------------------------------------------------- the set

interface Entry {
  readonly pe: PathElement;
  member: boolean;
  readonly set: FieldSet;
}

/**
 * A set of field paths, stored as a trie. A path is a member when it is itself owned; a node may also
 * have members below it. Operations return new sets and never mutate their arguments.
 */
export class FieldSet {
  private readonly entries = new Map<string, Entry>();

  static of(paths: Iterable<FieldPath>): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  /** Adds `path` as a member (the empty path is ignored: the root is never a member). */
  insert(path: FieldPath): this {
    let node: FieldSet = this;
    for (let i = 0; i < path.length; i++) {
      const pe = path[i]!;
      const key = pathElementKey(pe);
      let entry = node.entries.get(key);
      if (entry === undefined) {
        entry = { pe, member: false, set: new FieldSet() };
        node.entries.set(key, entry);
      }
      if (i === path.length - 1) entry.member = true;
      node = entry.set;
    }
    return this;
  }

  has(path: FieldPath): boolean {
    if (path.length === 0) return false;
    let node: FieldSet = this;
    for (let i = 0; i < path.length; i++) {
      const entry = node.entries.get(pathElementKey(path[i]!));
      if (entry === undefined) return false;
      if (i === path.length - 1) return entry.member;
      node = entry.set;
    }
    return false;
  }

  isEmpty(): boolean {
    for (const e of this.entries.values()) if (e.member || !e.set.isEmpty()) return false;
    return true;
  }

  /** The subtree below one path element (empty when absent). */
  child(pe: PathElement): FieldSet {
    return this.entries.get(pathElementKey(pe))?.set ?? new FieldSet();
  }

  /** Whether the path element itself is a member here. */
  hasMember(pe: PathElement): boolean {
    return this.entries.get(pathElementKey(pe))?.member ?? false;
  }

  /** Every member path, in upstream's order. */
  paths(): FieldPath[] {
    const out: FieldPath[] = [];
    const walk = (set: FieldSet, prefix: FieldPath): void => {
      for (const e of set.sortedEntries()) {
        const p = [...prefix, e.pe];
        if (e.member) out.push(p);
        walk(e.set, p);
      }
    };
    walk(this, []);
    return out;
  }

  size(): number {
    return this.paths().length;
  }

  union(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [key, e] of this.entries) out.entries.set(key, { pe: e.pe, member: e.member, set: e.set.union(other.child(e.pe)) });
    for (const [key, e] of other.entries) {
      const mine = out.entries.get(key);
      if (mine === undefined) out.entries.set(key, { pe: e.pe, member: e.member, set: e.set.union(new FieldSet()) });
      else mine.member ||= e.member;
    }
    return out.pruned();
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [key, e] of this.entries) {
      const theirs = other.entries.get(key);
      if (theirs === undefined) continue;
      out.entries.set(key, { pe: e.pe, member: e.member && theirs.member, set: e.set.intersection(theirs.set) });
    }
    return out.pruned();
  }

  /** Members of this set that are not members of `other` (a member of `other` does not remove children). */
  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [key, e] of this.entries) {
      const theirs = other.entries.get(key);
      out.entries.set(key, {
        pe: e.pe,
        member: e.member && !(theirs?.member ?? false),
        set: theirs === undefined ? e.set.union(new FieldSet()) : e.set.difference(theirs.set),
      });
    }
    return out.pruned();
  }

  /** Like difference, but a member of `other` removes the whole subtree below it. */
  recursiveDifference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [key, e] of this.entries) {
      const theirs = other.entries.get(key);
      if (theirs?.member) continue;
      out.entries.set(key, { pe: e.pe, member: e.member, set: theirs === undefined ? e.set.union(new FieldSet()) : e.set.recursiveDifference(theirs.set) });
    }
    return out.pruned();
  }

  /** Only the paths under `pe` (kept with their prefix). */
  withPrefixKept(pe: PathElement): FieldSet {
    const out = new FieldSet();
    const e = this.entries.get(pathElementKey(pe));
    if (e !== undefined) out.entries.set(pathElementKey(pe), { pe: e.pe, member: e.member, set: e.set.union(new FieldSet()) });
    return out.pruned();
  }

  /**
   * Upstream's EnsureNamedFieldsAreMembers: a struct field with owned children is also a member itself.
   * Without a schema every field name with children counts (map values with children do not occur in the
   * kinds served).
   */
  ensureNamedFieldsAreMembers(): FieldSet {
    const out = new FieldSet();
    for (const [key, e] of this.entries) {
      const sub = e.set.ensureNamedFieldsAreMembers();
      out.entries.set(key, { pe: e.pe, member: e.member || (e.pe.kind === 'field' && !sub.isEmpty()), set: sub });
    }
    return out.pruned();
  }

  equals(other: FieldSet): boolean {
    return sortedJson(this.toFieldsV1()) === sortedJson(other.toFieldsV1());
  }

  /** The fieldsV1 wire form. Keys come out sorted (`.` first), as clients display them. */
  toFieldsV1(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const items = [...this.entries.values()].filter((e) => e.member || !e.set.isEmpty()).map((e) => [pathElementKey(e.pe), e] as const);
    items.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [key, e] of items) {
      const inner = e.set.toFieldsV1();
      const hasChildren = Object.keys(inner).length > 0;
      out[key] = e.member && hasChildren ? { '.': {}, ...inner } : inner;
    }
    return out;
  }

  /** Parses fieldsV1; throws on malformed keys. A node without children, or with `.`, is a member. */
  static fromFieldsV1(fields: unknown): FieldSet {
    const out = new FieldSet();
    if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) throw new Error('fieldsV1 must be an object');
    for (const [key, value] of Object.entries(fields as Record<string, unknown>)) {
      if (key === '.') continue;
      const pe = parsePathElementKey(key);
      if (pe === undefined) continue;
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`fieldsV1 value at ${key} must be an object`);
      const childKeys = Object.keys(value);
      const sub = FieldSet.fromFieldsV1(value);
      const member = childKeys.length === 0 || childKeys.includes('.') || sub.isEmpty();
      out.entries.set(pathElementKey(pe), { pe, member, set: sub });
    }
    return out;
  }

  private sortedEntries(): Entry[] {
    return [...this.entries.values()].sort((a, b) => comparePathElements(a.pe, b.pe));
  }

  /** Drops entries that own nothing. */
  private pruned(): FieldSet {
    for (const [key, e] of [...this.entries]) if (!e.member && e.set.isEmpty()) this.entries.delete(key);
    return this;
  }
}

// Functional aliases, for callers that prefer them to methods.
export const union = (a: FieldSet, b: FieldSet): FieldSet => a.union(b);
export const difference = (a: FieldSet, b: FieldSet): FieldSet => a.difference(b);
export const intersection = (a: FieldSet, b: FieldSet): FieldSet => a.intersection(b);
export const encodeFieldsV1 = (s: FieldSet): Record<string, unknown> => s.toFieldsV1();
export const decodeFieldsV1 = (fields: unknown): FieldSet => FieldSet.fromFieldsV1(fields);
