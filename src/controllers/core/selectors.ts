// Matching used by the reconcilers: label selectors, node selector terms (node affinity), taints and
// tolerations, and owner references. Pure functions.
import { type LabelRequirement, matchesLabels, requirementsFromLabelSelector } from '../../api/labels.ts';
import type {
  KubeObject, LabelSelector, Node, NodeSelectorRequirement, NodeSelectorTerm, OwnerReference, Taint, Toleration,
} from '../../api/types.ts';

/**
 * The matcher of a metav1.LabelSelector, by the API's own rules (`src/api/labels.ts`): an empty selector
 * `{}` matches everything; a missing selector matches nothing (as upstream's LabelSelectorAsSelector(nil)),
 * and so does one that does not convert (invalid keys or values, an unknown operator, In/NotIn without
 * values, Exists/DoesNotExist with values), as upstream's controllers skip such a selector. Converting is
 * the costly part: build the matcher once per selector and apply it to many label sets.
 */
export function labelSelectorMatcher(selector: LabelSelector | undefined | null): (labels: Record<string, string> | undefined) => boolean {
  if (selector === undefined || selector === null) return () => false;
  let requirements: LabelRequirement[];
  try {
    requirements = requirementsFromLabelSelector(selector);
  } catch {
    return () => false;
  }
  return (labels) => matchesLabels(requirements, labels);
}

/**
 * An equality-only selector map (Service.spec.selector, Pod.spec.nodeSelector): every pair must match (as
 * labels.ts's requirementsFromSet would select). Kept as a direct comparison: the scheduler calls it for
 * every pod and node.
 */
export function matchesSelectorMap(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector ?? {})) if (have[key] !== value) return false;
  return true;
}

function matchesNodeRequirement(req: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || values.length !== 1) return false;
      const have = parseStrictInt(value);
      const want = parseStrictInt(values[0] ?? '');
      if (have === undefined || want === undefined) return false;
      return req.operator === 'Gt' ? have > want : have < want;
    }
    default:
      return false;
  }
}

function parseStrictInt(text: string): number | undefined {
  return /^-?[0-9]+$/.test(text) ? Number(text) : undefined;
}

/** One NodeSelectorTerm: all its expressions and fields must match; a term with neither matches nothing. */
export function matchesNodeSelectorTerm(term: NodeSelectorTerm, node: Node): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  for (const req of expressions) {
    if (!matchesNodeRequirement(req, Object.hasOwn(labels, req.key) ? labels[req.key] : undefined)) return false;
  }
  for (const req of fields) {
    // Only metadata.name is a supported field (as upstream).
    if (req.key !== 'metadata.name') return false;
    if (!matchesNodeRequirement(req, node.metadata.name)) return false;
  }
  return true;
}

/** Terms are ORed. An empty term list matches nothing. */
export function matchesNodeSelectorTerms(terms: readonly NodeSelectorTerm[], node: Node): boolean {
  return terms.some((term) => matchesNodeSelectorTerm(term, node));
}

/** Whether a toleration tolerates a taint (upstream's Toleration.ToleratesTaint). */
export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect !== undefined && toleration.effect !== taint.effect) return false;
  if (toleration.key !== undefined && toleration.key !== '' && toleration.key !== taint.key) return false;
  const operator = toleration.operator ?? 'Equal';
  if (operator === 'Exists') return true;
  return (toleration.value ?? '') === (taint.value ?? '');
}

/** The first taint (with one of `effects`) that no toleration tolerates, or undefined. */
export function firstUntoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[], effects: readonly Taint['effect'][]): Taint | undefined {
  return taints.find((taint) => effects.includes(taint.effect) && !tolerations.some((t) => toleratesTaint(t, taint)));
}

export function controllerRefOf(obj: KubeObject): OwnerReference | undefined {
  return (obj.metadata.ownerReferences ?? []).find((ref) => ref.controller === true);
}
