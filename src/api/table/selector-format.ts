// String forms of label maps and label selectors as Table cells show them (upstream's labels.FormatLabels,
// metav1.FormatLabelSelector and LabelSelectorAsSelector(...).String()), in the Table printers' terms on top
// of src/api/labels.ts, which owns selector conversion and printing. Pure.
import { describeLabelSelector, formatLabelSelector as labelSelectorString, formatRequirements, requirementsFromSet } from '../labels.ts';
import type { LabelSelector } from '../types.ts';

/** A label map for display: `k=v,...` sorted by key, or `<none>`. */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const s = formatRequirements(requirementsFromSet(labels));
  return s === '' ? '<none>' : s;
}

/**
 * The selector's canonical string, requirements sorted by key (stable), or `undefined` when the selector does
 * not convert (an operator that needs values has none, or the reverse; an invalid key or value). A missing
 * or empty selector gives ''.
 */
export function selectorString(selector: LabelSelector | null | undefined): string | undefined {
  try {
    return labelSelectorString(selector);
  } catch {
    return undefined;
  }
}

/** A selector for display: its string, `<none>` when it selects everything or nothing, `<error>` if invalid. */
export const formatLabelSelector: (selector: LabelSelector | null | undefined) => string = describeLabelSelector;
