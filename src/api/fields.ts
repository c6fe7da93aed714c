// Field selectors as kube-apiserver understands them: the `?fieldSelector=` syntax, the fields each kind
// exposes for selection (with their string renderings), and the per-kind label conversion that rejects
// unsupported fields with upstream's wording. Pure.
import { apiErrors } from './errors.ts';
import { RESOURCES } from './resources.ts';
import type { KubeObject } from './types.ts';

export interface FieldRequirement {
  field: string;
  operator: '=' | '==' | '!=';
  /** Unescaped value. */
  value: string;
}

const TERM_OPERATORS = ['!=', '==', '='] as const;

/** Splits on unescaped commas (a backslash escapes the next character). */
function splitTerms(s: string): string[] {
  if (s === '') return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

/** The first operator occurrence, scanning left to right (`!=` and `==` win over `=` at the same place). */
function splitTerm(term: string): [string, FieldRequirement['operator'], string] | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of TERM_OPERATORS) {
      if (term.startsWith(op, i)) return [term.slice(0, i), op, term.slice(i + op.length)];
    }
  }
  return undefined;
}

/** Undoes `\\`, `\,` and `\=`; an unescaped `,`/`=` or another escape is an error, as upstream. */
export function unescapeFieldValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c !== '\\' && c !== ',' && c !== '=') throw apiErrors.badRequest(`invalid field selector: invalid escape sequence: \\${c}`);
      out += c;
      inSlash = false;
      continue;
    }
    if (c === '\\') inSlash = true;
    else if (c === ',' || c === '=') {
      // Go prints the rune with %v: its code point.
      throw apiErrors.badRequest(`invalid field selector: unescaped character in value: ${c.codePointAt(0) ?? 0}`);
    } else out += c;
  }
  if (inSlash) throw apiErrors.badRequest('invalid field selector: invalid escape sequence: \\');
  return out;
}

/** Escapes a value for a field selector string. */
export function escapeFieldValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/**
 * Parses the `fieldSelector` syntax (`a=b,c==d,e!=f`, `\` escaping `\`, `,` and `=` in values) into
 * requirements in upstream's order (terms sorted as strings). Throws a 400 ApiError with upstream's text.
 */
export function parseFieldSelector(s: string): FieldRequirement[] {
  const parts = splitTerms(s).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const reqs: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const split = splitTerm(part);
    if (split === undefined) throw apiErrors.badRequest(`invalid selector: '${s}'; can't understand '${part}'`);
    const [field, operator, rhs] = split;
    reqs.push({ field, operator, value: unescapeFieldValue(rhs) });
  }
  return reqs;
}

/** Upstream's String() of field requirements. */
export function formatFieldSelector(reqs: readonly FieldRequirement[]): string {
  return reqs.map((r) => `${r.field}${r.operator === '!=' ? '!=' : '='}${escapeFieldValue(r.value)}`).join(',');
}

// ---------------------------------------------------------------------------------- per-kind fields

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function at(obj: unknown, ...path: string[]): unknown {
  let cur = obj;
  for (const p of path) {
    if (!isRecord(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const bool = (v: unknown): string => (v === true ? 'true' : 'false');
const int = (v: unknown): string => (typeof v === 'number' && Number.isFinite(v) ? String(Math.trunc(v)) : '0');

interface KindFields {
  /** Field labels the kind accepts (upstream's conversion function for the kind). */
  labels: readonly string[];
  /**
   * `registered`: the kind has its own conversion function (rejects with `field label not supported: x`);
   * `default`: upstream's DefaultMetaV1FieldSelectorConversion (rejects with `"x" is not a known field selector…`).
   */
  rejection: 'registered' | 'default';
  /** Old names still accepted, mapped to the current one. */
  aliases?: Readonly<Record<string, string>>;
  values: (obj: KubeObject) => Record<string, string>;
}

const META = ['metadata.name', 'metadata.namespace'] as const;

const objectMetaFields = (obj: KubeObject, namespaced: boolean): Record<string, string> => {
  const out: Record<string, string> = { 'metadata.name': str(obj.metadata?.name) };
  if (namespaced) out['metadata.namespace'] = str(obj.metadata?.namespace);
  return out;
};

const KINDS: Record<string, KindFields> = {
  Pod: {
    labels: [...META, 'spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork',
      'status.phase', 'status.podIP', 'status.podIPs', 'status.nominatedNodeName'],
    rejection: 'registered',
    aliases: { 'spec.host': 'spec.nodeName' },
    values: (o) => {
      const podIPs = at(o, 'status', 'podIPs');
      const first = Array.isArray(podIPs) ? podIPs[0] : undefined;
      return {
        ...objectMetaFields(o, true),
        'spec.nodeName': str(at(o, 'spec', 'nodeName')),
        'spec.restartPolicy': str(at(o, 'spec', 'restartPolicy')),
        'spec.schedulerName': str(at(o, 'spec', 'schedulerName')),
        'spec.serviceAccountName': str(at(o, 'spec', 'serviceAccountName')),
        'spec.hostNetwork': bool(at(o, 'spec', 'hostNetwork')),
        'status.phase': str(at(o, 'status', 'phase')),
        // Upstream takes the pod IP from podIPs[0]; `status.podIPs` is accepted but never populated ("").
        'status.podIP': str(at(first, 'ip')) || str(at(o, 'status', 'podIP')),
        'status.nominatedNodeName': str(at(o, 'status', 'nominatedNodeName')),
      };
    },
  },
  Node: {
    labels: ['metadata.name', 'spec.unschedulable'],
    rejection: 'registered',
    values: (o) => ({ ...objectMetaFields(o, false), 'spec.unschedulable': bool(at(o, 'spec', 'unschedulable')) }),
  },
  Namespace: {
    labels: ['metadata.name', 'status.phase'],
    rejection: 'registered',
    values: (o) => ({ ...objectMetaFields(o, false), 'status.phase': str(at(o, 'status', 'phase')) }),
  },
  Secret: {
    labels: [...META, 'type'],
    rejection: 'registered',
    values: (o) => ({ ...objectMetaFields(o, true), type: str(o.type) }),
  },
  Service: {
    labels: [...META, 'spec.clusterIP', 'spec.type'],
    rejection: 'registered',
    values: (o) => ({ ...objectMetaFields(o, true), 'spec.clusterIP': str(at(o, 'spec', 'clusterIP')), 'spec.type': str(at(o, 'spec', 'type')) }),
  },
  Event: {
    labels: [...META, 'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid',
      'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent',
      'source', 'type'],
    rejection: 'registered',
    values: (o) => {
      const io = (f: string): string => str(at(o, 'involvedObject', f));
      return {
        ...objectMetaFields(o, true),
        'involvedObject.kind': io('kind'),
        'involvedObject.namespace': io('namespace'),
        'involvedObject.name': io('name'),
        'involvedObject.uid': io('uid'),
        'involvedObject.apiVersion': io('apiVersion'),
        'involvedObject.resourceVersion': io('resourceVersion'),
        'involvedObject.fieldPath': io('fieldPath'),
        reason: str(o.reason),
        // core/v1 calls it reportingComponent; the value is the reporting controller.
        reportingComponent: str(o.reportingComponent),
        source: str(at(o, 'source', 'component')) || str(o.reportingComponent),
        type: str(o.type),
      };
    },
  },
  ReplicaSet: {
    labels: [...META, 'status.replicas'],
    rejection: 'default',
    values: (o) => ({ ...objectMetaFields(o, true), 'status.replicas': int(at(o, 'status', 'replicas')) }),
  },
};

function kindFields(kind: string): KindFields {
  const namespaced = RESOURCES.find((r) => r.kind === kind)?.namespaced ?? true;
  return KINDS[kind] ?? {
    labels: META,
    rejection: 'default',
    values: (o: KubeObject) => objectMetaFields(o, namespaced),
  };
}

/**
 * The selectable fields of an object of `kind`, rendered as strings the way kube-apiserver does
 * (booleans `true`/`false`, counts in decimal, missing values `""`). Every kind has `metadata.name`;
 * namespaced kinds also `metadata.namespace`.
 */
export function fieldSetOf(kind: string, obj: KubeObject): Record<string, string> {
  return kindFields(kind).values(obj);
}

/** The field labels `kind` accepts in a field selector. */
export function supportedFieldLabels(kind: string): readonly string[] {
  return kindFields(kind).labels;
}

/**
 * Maps a field label to the one the kind stores (e.g. a Pod's legacy `spec.host` → `spec.nodeName`), or
 * throws a 400 ApiError worded as upstream: `field label not supported: <label>` for kinds with their own
 * conversion, `"<label>" is not a known field selector: only "metadata.name", "metadata.namespace"` otherwise.
 */
export function convertFieldLabel(kind: string, label: string): string {
  const k = kindFields(kind);
  const alias = k.aliases?.[label];
  if (alias !== undefined) return alias;
  if (k.labels.includes(label)) return label;
  if (k.rejection === 'registered') throw apiErrors.badRequest(`field label not supported: ${label}`);
  throw apiErrors.badRequest(`"${label}" is not a known field selector: only "metadata.name", "metadata.namespace"`);
}

/** Whether `fields` satisfy every requirement (a missing field reads as `""`). */
export function matchesFields(reqs: readonly FieldRequirement[], fields: Readonly<Record<string, string>>): boolean {
  return reqs.every((r) => {
    const actual = Object.hasOwn(fields, r.field) ? (fields[r.field] ?? '') : '';
    return r.operator === '!=' ? actual !== r.value : actual === r.value;
  });
}

/**
 * Parses `s` for `kind` (syntax errors and unsupported labels throw 400 before any object is seen) and
 * returns a predicate over objects of that kind. The empty string matches everything.
 */
export function fieldSelectorMatcher(kind: string, s: string): (obj: KubeObject) => boolean {
  const reqs = parseFieldSelector(s).map((r) => ({ ...r, field: convertFieldLabel(kind, r.field) }));
  if (reqs.length === 0) return () => true;
  return (obj) => matchesFields(reqs, fieldSetOf(kind, obj));
}
