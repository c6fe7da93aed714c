// Small helpers shared by the validators: upstream field-path notation, tolerant list/map access for
// objects decoded from arbitrary JSON, Go-style "semantic" equality and label-selector matching. Pure.
import type { LabelSelector } from '../types.ts';

/** `child('spec', 'ports')` = `spec.ports`; an empty base yields just the child. */
export function child(base: string, ...names: string[]): string {
  return [base, ...names].filter((s) => s !== '').join('.');
}

/** `index('spec.ports', 0)` = `spec.ports[0]`. */
export function index(base: string, i: number): string {
  return `${base}[${i}]`;
}

/** `key('metadata.annotations', 'a/b')` = `metadata.annotations[a/b]`. */
export function key(base: string, k: string): string {
  return `${base}[${k}]`;
}

/** A JSON object (not null, not an array); keeps the static type of typed fields. */
export function isRecord<T extends object>(v: T | null | undefined): v is T;
export function isRecord(v: unknown): v is Record<string, unknown>;
export function isRecord(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The items of a list field; anything that is not an array reads as empty. */
export function list<T>(v: readonly T[] | null | undefined): readonly T[] {
  return Array.isArray(v) ? v : [];
}

/** The string entries of a map field, in insertion order; non-string values read as "". */
export function entries(v: Record<string, string> | null | undefined): [string, string][] {
  if (!isRecord(v)) return [];
  return Object.entries(v).map(([k, val]) => [k, typeof val === 'string' ? val : String(val ?? '')]);
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Go's zero value in JSON terms: absent, null, "", false, and empty lists and maps all compare equal. */
function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isRecord(v)) return Object.values(v).every(isZero);
  return false;
}

/** apiequality.Semantic.DeepEqual over JSON values: nil and empty lists/maps, absent and zero fields are equal. */
export function semanticEqual(a: unknown, b: unknown): boolean {
  if (isZero(a) && isZero(b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => semanticEqual(x, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!semanticEqual(a[k], b[k])) return false;
    return true;
  }
  return a === b;
}

/** Paths (in upstream notation) where two JSON values differ, for human-readable "may not change" details. */
export function diffPaths(a: unknown, b: unknown, base: string, out: string[] = [], limit = 20): string[] {
  if (out.length >= limit || semanticEqual(a, b)) return out;
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    for (let i = 0; i < a.length; i++) diffPaths(a[i], b[i], index(base, i), out, limit);
    return out;
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) diffPaths(a[k], b[k], child(base, k), out, limit);
    return out;
  }
  out.push(`${base}: ${JSON.stringify(a) ?? 'null'} -> ${JSON.stringify(b) ?? 'null'}`);
  return out;
}

/** Whether a selector has no requirements (matches everything). */
export function selectorIsEmpty(sel: LabelSelector | null | undefined): boolean {
  if (!isRecord(sel)) return true;
  return entries(sel.matchLabels).length === 0 && list(sel.matchExpressions).length === 0;
}

/**
 * Whether `labels` satisfy a LabelSelector; undefined when the selector cannot be converted (unknown operator,
 * In/NotIn without values, Exists/DoesNotExist with values), as metav1.LabelSelectorAsSelector fails.
 */
export function selectorMatches(sel: LabelSelector, labels: Record<string, string> | undefined): boolean | undefined {
  const have = isRecord(labels) ? labels : {};
  for (const [k, v] of entries(sel.matchLabels)) if (have[k] !== v) return false;
  for (const req of list(sel.matchExpressions)) {
    const values = list(req.values);
    const present = Object.prototype.hasOwnProperty.call(have, req.key);
    const wantsValues = req.operator === 'In' || req.operator === 'NotIn';
    if (wantsValues !== values.length > 0) return undefined;
    switch (req.operator) {
      case 'In':
        if (!present || !values.includes(have[req.key] ?? '')) return false;
        break;
      case 'NotIn':
        if (present && values.includes(have[req.key] ?? '')) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
      default:
        return undefined;
    }
  }
  return true;
}
