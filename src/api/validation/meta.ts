// ObjectMeta, labels, annotations and label selectors, as apimachinery's api/validation and
// apis/meta/v1/validation check them. Pure.
import { fieldErrors, type FieldError } from '../errors.ts';
import type { LabelSelector, ObjectMeta } from '../types.ts';
import { byteLength, isQualifiedName, isValidLabelValue, nameIsDNSLabel, type NameValidator } from './names.ts';
import { child, entries, index, isRecord, list, semanticEqual, str } from './util.ts';

export const FIELD_IMMUTABLE = 'field is immutable';
export const IS_NEGATIVE = 'must be greater than or equal to 0';
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;
const STANDARD_FINALIZERS = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

export function validateImmutable(newVal: unknown, oldVal: unknown, path: string): FieldError[] {
  return semanticEqual(newVal, oldVal) ? [] : [fieldErrors.invalid(path, newVal, FIELD_IMMUTABLE)];
}

export function validateNonnegative(value: unknown, path: string): FieldError[] {
  return typeof value === 'number' && value < 0 ? [fieldErrors.invalid(path, value, IS_NEGATIVE)] : [];
}

export function validateLabelName(name: string, path: string): FieldError[] {
  return isQualifiedName(name).map((msg) => fieldErrors.invalid(path, name, msg));
}

/** Keys must be qualified names and values valid label values; errors carry the map's path, as upstream. */
export function validateLabels(labels: Record<string, string> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of entries(labels)) {
    errs.push(...validateLabelName(k, path));
    for (const msg of isValidLabelValue(v)) errs.push(fieldErrors.invalid(path, v, msg));
  }
  return errs;
}

export function validateAnnotations(annotations: Record<string, string> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  for (const [k, v] of entries(annotations)) {
    // Case does not matter for annotation keys.
    for (const msg of isQualifiedName(k.toLowerCase())) errs.push(fieldErrors.invalid(path, k, msg));
    total += byteLength(k) + byteLength(v);
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push(fieldErrors.tooLong(path, '', TOTAL_ANNOTATION_SIZE_LIMIT));
  return errs;
}

export function validateLabelSelector(sel: LabelSelector | null | undefined, path: string): FieldError[] {
  if (!isRecord(sel)) return [];
  const errs = validateLabels(sel.matchLabels, child(path, 'matchLabels'));
  list(sel.matchExpressions).forEach((req, i) => {
    const p = index(child(path, 'matchExpressions'), i);
    const values = list(req.values);
    switch (req.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(fieldErrors.required(child(p, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(fieldErrors.forbidden(child(p, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(fieldErrors.invalid(child(p, 'operator'), req.operator, 'not a valid selector operator'));
    }
    errs.push(...validateLabelName(str(req.key), child(p, 'key')));
    values.forEach((v, j) => {
      for (const msg of isValidLabelValue(str(v))) errs.push(fieldErrors.invalid(index(child(p, 'values'), j), v, msg));
    });
  });
  return errs;
}

function validateOwnerReferences(meta: ObjectMeta, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let firstController = '';
  list(meta.ownerReferences).forEach((ref, i) => {
    const p = index(path, i);
    const apiVersion = str(ref.apiVersion);
    if (apiVersion === '') errs.push(fieldErrors.required(child(p, 'apiVersion'), 'must not be empty'));
    else if (apiVersion.split('/').length > 2 || apiVersion.endsWith('/')) errs.push(fieldErrors.invalid(child(p, 'apiVersion'), apiVersion, 'must be <group>/<version> or <version>'));
    if (str(ref.kind) === '') errs.push(fieldErrors.required(child(p, 'kind'), 'must not be empty'));
    if (str(ref.name) === '') errs.push(fieldErrors.required(child(p, 'name'), 'must not be empty'));
    if (str(ref.uid) === '') errs.push(fieldErrors.required(child(p, 'uid'), 'must not be empty'));
    if (apiVersion === 'v1' && ref.kind === 'Event') errs.push(fieldErrors.invalid(p, ref, '/v1, Kind=Event is disallowed from being an owner'));
    if (ref.controller === true) {
      const name = `${str(ref.kind)}/${str(ref.name)}`;
      if (firstController !== '') {
        errs.push(fieldErrors.invalid(path, meta.ownerReferences, `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${name}`));
      } else firstController = name;
    }
  });
  return errs;
}

function validateFinalizers(meta: ObjectMeta, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const finalizers = list(meta.finalizers).map(str);
  for (const f of finalizers) for (const msg of isQualifiedName(f)) errs.push(fieldErrors.invalid(path, f, msg));
  if (finalizers.includes('orphan') && finalizers.includes('foregroundDeletion')) {
    errs.push(fieldErrors.invalid(path, finalizers, 'finalizer orphan and foregroundDeletion cannot be both set'));
  }
  finalizers.forEach((f, i) => errs.push(...validateKubeFinalizerName(f, index(path, i))));
  return errs;
}

/** A finalizer without a '/' must be one of the standard names. */
export function validateKubeFinalizerName(f: string, path: string): FieldError[] {
  if (!f.includes('/') && !STANDARD_FINALIZERS.has(f)) {
    return [fieldErrors.invalid(path, f, 'name is neither a standard finalizer name nor is it fully qualified')];
  }
  return [];
}

/**
 * ObjectMeta on create. A missing name is accepted when generateName is set (the server generates the name);
 * `namespaced` kinds need a namespace, cluster-scoped ones may not carry one.
 */
export function validateObjectMeta(meta: ObjectMeta | undefined, namespaced: boolean, nameFn: NameValidator, path = 'metadata'): FieldError[] {
  const m: ObjectMeta = isRecord(meta) ? meta : {};
  const errs: FieldError[] = [];
  const name = str(m.name);
  const generateName = str(m.generateName);
  if (generateName !== '') {
    for (const msg of nameFn(generateName, true)) errs.push(fieldErrors.invalid(child(path, 'generateName'), generateName, msg));
  }
  if (name === '') {
    if (generateName === '') errs.push(fieldErrors.required(child(path, 'name'), 'name or generateName is required'));
  } else {
    for (const msg of nameFn(name, false)) errs.push(fieldErrors.invalid(child(path, 'name'), name, msg));
  }
  errs.push(...validateMetaCommon(m, namespaced, path));
  return errs;
}

function validateMetaCommon(m: ObjectMeta, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const ns = str(m.namespace);
  if (namespaced) {
    if (ns === '') errs.push(fieldErrors.required(child(path, 'namespace')));
    else for (const msg of nameIsDNSLabel(ns, false)) errs.push(fieldErrors.invalid(child(path, 'namespace'), ns, msg));
  } else if (ns !== '') {
    errs.push(fieldErrors.forbidden(child(path, 'namespace'), 'not allowed on this type'));
  }
  errs.push(...validateNonnegative(m.generation, child(path, 'generation')));
  errs.push(...validateLabels(m.labels, child(path, 'labels')));
  errs.push(...validateAnnotations(m.annotations, child(path, 'annotations')));
  errs.push(...validateOwnerReferences(m, child(path, 'ownerReferences')));
  errs.push(...validateFinalizers(m, child(path, 'finalizers')));
  return errs;
}

/** ObjectMeta on update: identity and timestamps are immutable; labels etc. must stay valid. */
export function validateObjectMetaUpdate(meta: ObjectMeta | undefined, oldMeta: ObjectMeta | undefined, path = 'metadata'): FieldError[] {
  const m: ObjectMeta = isRecord(meta) ? meta : {};
  const o: ObjectMeta = isRecord(oldMeta) ? oldMeta : {};
  const errs: FieldError[] = [];
  if (o.deletionTimestamp) {
    const added = list(m.finalizers).filter((f) => !list(o.finalizers).includes(f));
    if (added.length > 0) {
      const shown = [...new Set(added)].sort().map((f) => JSON.stringify(f)).join(', ');
      errs.push(fieldErrors.forbidden(child(path, 'finalizers'), `no new finalizers can be added if the object is being deleted, found new finalizers []string{${shown}}`));
    }
  }
  errs.push(...validateNonnegative(m.generation, child(path, 'generation')));
  if (typeof m.generation === 'number' && typeof o.generation === 'number' && m.generation < o.generation) {
    errs.push(fieldErrors.invalid(child(path, 'generation'), m.generation, 'must not be decremented'));
  }
  errs.push(...validateImmutable(m.name, o.name, child(path, 'name')));
  errs.push(...validateImmutable(m.namespace, o.namespace, child(path, 'namespace')));
  errs.push(...validateImmutable(m.uid, o.uid, child(path, 'uid')));
  errs.push(...validateImmutable(m.creationTimestamp, o.creationTimestamp, child(path, 'creationTimestamp')));
  errs.push(...validateImmutable(m.deletionTimestamp, o.deletionTimestamp, child(path, 'deletionTimestamp')));
  errs.push(...validateImmutable(m.deletionGracePeriodSeconds, o.deletionGracePeriodSeconds, child(path, 'deletionGracePeriodSeconds')));
  errs.push(...validateLabels(m.labels, child(path, 'labels')));
  errs.push(...validateAnnotations(m.annotations, child(path, 'annotations')));
  errs.push(...validateOwnerReferences(m, child(path, 'ownerReferences')));
  list(m.finalizers).forEach((f, i) => errs.push(...validateKubeFinalizerName(str(f), index(child(path, 'finalizers'), i))));
  return errs;
}
