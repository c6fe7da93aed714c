// String forms of label maps and label selectors as Table cells show them (upstream's labels.FormatLabels,
// metav1.FormatLabelSelector and LabelSelectorAsSelector(...).String()). Private to the Table printers:
// src/api/labels.ts owns selector parsing and matching. Pure.
import type { LabelSelector, LabelSelectorRequirement } from '../types.ts';

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** `k1=v1,k2=v2` with keys sorted; empty string for no labels. */
function labelsString(labels: Record<string, string> | undefined): string {
  if (!labels) return '';
  return Object.keys(labels).sort(byCodeUnit).map((k) => `${k}=${labels[k]}`).join(',');
}

/** A label map for display: `k=v,...` sorted by key, or `<none>`. */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const s = labelsString(labels);
  return s === '' ? '<none>' : s;
}

function requirementString(r: LabelSelectorRequirement): string | undefined {
  const values = [...(r.values ?? [])].sort(byCodeUnit);
  switch (r.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) return undefined;
      return `${r.key} ${r.operator === 'In' ? 'in' : 'notin'} (${values.join(',')})`;
    case 'Exists':
      return values.length === 0 ? r.key : undefined;
    case 'DoesNotExist':
      return values.length === 0 ? `!${r.key}` : undefined;
    default:
      return undefined;
  }
}

/**
 * The selector's canonical string, requirements sorted by key (stable), or `undefined` when the selector is
 * invalid (an operator that needs values has none, or the reverse). A missing or empty selector gives ''.
 */
export function selectorString(selector: LabelSelector | null | undefined): string | undefined {
  if (!selector) return '';
  const reqs: { key: string; text: string }[] = [];
  const matchLabels = selector.matchLabels ?? {};
  for (const key of Object.keys(matchLabels)) reqs.push({ key, text: `${key}=${matchLabels[key]}` });
  for (const expr of selector.matchExpressions ?? []) {
    const text = requirementString(expr);
    if (text === undefined) return undefined;
    reqs.push({ key: expr.key, text });
  }
  // Array.prototype.sort is stable, so matchLabels keep precedence over expressions on the same key.
  reqs.sort((a, b) => byCodeUnit(a.key, b.key));
  return reqs.map((r) => r.text).join(',');
}

/** A selector for display: its string, `<none>` when it selects everything or nothing, `<error>` if invalid. */
export function formatLabelSelector(selector: LabelSelector | null | undefined): string {
  const s = selectorString(selector);
  if (s === undefined) return '<error>';
  return s === '' ? '<none>' : s;
}
