// Which Ingresses flatnet's controller serves. Pure.
//
// An Ingress names its class in spec.ingressClassName (or, deprecated, the `kubernetes.io/ingress.class`
// annotation). The class must exist as an IngressClass whose spec.controller is ours (and, when the
// controller runs with a class name, carry that name). An Ingress naming no class belongs to the default
// class: the IngressClass annotated `ingressclass.kubernetes.io/is-default-class: "true"`; when several are,
// the most recently created wins (as the upstream admission plugin picks), ties broken by name.
import type { Ingress, IngressClass } from '../../api/types.ts';

export const FLATNET_CONTROLLER = 'flatnet.dev/ingress';
export const FLATNET_CLASS = 'flatnet';
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

export interface ClassPolicy {
  /** spec.controller of the IngressClasses we implement (default `flatnet.dev/ingress`). */
  controllerName?: string;
  /** Only this IngressClass name (default: every class with our controller). */
  className?: string | undefined;
}

/** The class an Ingress asks for, or undefined when it names none. */
export function requestedClassOf(ingress: Ingress): string | undefined {
  const named = ingress.spec?.ingressClassName;
  if (named !== undefined && named !== null && named !== '') return named;
  const legacy = ingress.metadata.annotations?.[LEGACY_CLASS_ANNOTATION];
  return legacy !== undefined && legacy !== '' ? legacy : undefined;
}

function isDefaultClass(c: IngressClass): boolean {
  return c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true';
}

/** The cluster's default IngressClass name (newest annotated class), if any. */
export function defaultClassName(classes: readonly IngressClass[]): string | undefined {
  let best: IngressClass | undefined;
  for (const c of classes) {
    if (!isDefaultClass(c)) continue;
    if (best === undefined) {
      best = c;
      continue;
    }
    const a = c.metadata.creationTimestamp ?? '';
    const b = best.metadata.creationTimestamp ?? '';
    if (a > b || (a === b && (c.metadata.name ?? '') < (best.metadata.name ?? ''))) best = c;
  }
  return best?.metadata.name;
}

/** Names of the IngressClasses this controller implements. */
export function claimedClassNames(classes: readonly IngressClass[], policy: ClassPolicy = {}): Set<string> {
  const controller = policy.controllerName ?? FLATNET_CONTROLLER;
  const out = new Set<string>();
  for (const c of classes) {
    const name = c.metadata.name;
    if (name === undefined || c.spec?.controller !== controller) continue;
    if (policy.className !== undefined && policy.className !== name) continue;
    out.add(name);
  }
  return out;
}

/** Whether this controller serves `ingress`, given the cluster's IngressClasses. */
export function isIngressClaimed(ingress: Ingress, classes: readonly IngressClass[], policy: ClassPolicy = {}): boolean {
  const claimed = claimedClassNames(classes, policy);
  const requested = requestedClassOf(ingress);
  if (requested !== undefined) return claimed.has(requested);
  const fallback = defaultClassName(classes);
  return fallback !== undefined && claimed.has(fallback);
}
