// Deployments, ReplicaSets and DaemonSets, after pkg/apis/apps/validation and the apps/v1 registry
// strategies (selector immutable on update). Expects defaulted objects. Pure.
import { fieldErrors, type FieldError } from '../errors.ts';
import type { DaemonSet, Deployment, IntOrString, LabelSelector, PodTemplateSpec, ReplicaSet } from '../types.ts';
import { validateImmutable, validateLabelSelector, validateNonnegative, validateObjectMeta, validateObjectMetaUpdate } from './meta.ts';
import { isValidPercent, nameIsDNSSubdomain } from './names.ts';
import { validatePodTemplateSpec } from './pod.ts';
import { child, isRecord, selectorIsEmpty, selectorMatches } from './util.ts';

type Workload = 'Deployment' | 'ReplicaSet' | 'DaemonSet';

function validatePositiveIntOrPercent(v: IntOrString | undefined, path: string): FieldError[] {
  if (typeof v === 'string') return isValidPercent(v).map((msg) => fieldErrors.invalid(path, v, msg));
  if (typeof v === 'number') return validateNonnegative(v, path);
  if (v === undefined || v === null) return [];
  return [fieldErrors.invalid(path, v, "must be an integer or percentage (e.g '5%')")];
}

function intOrPercentValue(v: IntOrString | undefined): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && isValidPercent(v).length === 0) return Number(v.slice(0, -1));
  return 0;
}

function notMoreThan100Percent(v: IntOrString | undefined, path: string): FieldError[] {
  if (typeof v === 'string' && isValidPercent(v).length === 0 && Number(v.slice(0, -1)) > 100) {
    return [fieldErrors.invalid(path, v, 'must not be greater than 100%')];
  }
  return [];
}

/** Selector present and non-empty, valid syntax, matching the template labels; then the template itself. */
function validateSelectorAndTemplate(kind: Workload, selector: LabelSelector | undefined, template: PodTemplateSpec | undefined, specPath: string): FieldError[] {
  const errs: FieldError[] = [];
  const selPath = child(specPath, 'selector');
  const tplPath = child(specPath, 'template');
  const lower = kind === 'DaemonSet' ? 'daemonset' : 'deployment';
  if (!isRecord(selector)) {
    errs.push(fieldErrors.required(selPath));
  } else {
    errs.push(...validateLabelSelector(selector, selPath));
    if (selectorIsEmpty(selector)) errs.push(fieldErrors.invalid(selPath, selector, `empty selector is invalid for ${lower}`));
  }
  const tpl: PodTemplateSpec = isRecord(template) ? template : {};
  const labels = isRecord(tpl.metadata) ? tpl.metadata.labels : undefined;
  if (isRecord(selector)) {
    const matches = selectorMatches(selector, labels);
    if (matches === undefined) errs.push(fieldErrors.invalid(selPath, selector, 'invalid label selector'));
    else if (!selectorIsEmpty(selector) && !matches) {
      errs.push(fieldErrors.invalid(child(tplPath, 'metadata', 'labels'), labels ?? {}, '`selector` does not match template `labels`'));
    }
  }
  errs.push(...validatePodTemplateSpec(tpl, tplPath));
  const restartPolicy = isRecord(tpl.spec) ? tpl.spec.restartPolicy : undefined;
  if (restartPolicy !== 'Always') errs.push(fieldErrors.notSupported(child(tplPath, 'spec', 'restartPolicy'), restartPolicy ?? '', ['Always']));
  if (isRecord(tpl.spec) && tpl.spec.activeDeadlineSeconds !== undefined && tpl.spec.activeDeadlineSeconds !== null) {
    errs.push(fieldErrors.forbidden(child(tplPath, 'spec', 'activeDeadlineSeconds'), `activeDeadlineSeconds in ${kind === 'DaemonSet' ? 'DaemonSet' : 'ReplicaSet'} is not Supported`));
  }
  return errs;
}

export function validateDeployment(d: Deployment): FieldError[] {
  return [...validateObjectMeta(d.metadata, true, nameIsDNSSubdomain), ...validateDeploymentSpec(d)];
}

function validateDeploymentSpec(d: Deployment): FieldError[] {
  const spec = isRecord(d.spec) ? d.spec : ({} as Partial<NonNullable<Deployment['spec']>>);
  const errs = validateNonnegative(spec.replicas, 'spec.replicas');
  errs.push(...validateSelectorAndTemplate('Deployment', spec.selector, spec.template, 'spec'));
  const strategy = isRecord(spec.strategy) ? spec.strategy : {};
  const sp = 'spec.strategy';
  switch (strategy.type) {
    case 'Recreate':
      if (strategy.rollingUpdate !== undefined && strategy.rollingUpdate !== null) {
        errs.push(fieldErrors.forbidden(child(sp, 'rollingUpdate'), "may not be specified when strategy `type` is 'Recreate'"));
      }
      break;
    case 'RollingUpdate': {
      const ru = strategy.rollingUpdate;
      if (!isRecord(ru)) {
        errs.push(fieldErrors.required(child(sp, 'rollingUpdate'), 'this should be defaulted and never be nil'));
        break;
      }
      const rp = child(sp, 'rollingUpdate');
      errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, child(rp, 'maxUnavailable')));
      errs.push(...validatePositiveIntOrPercent(ru.maxSurge, child(rp, 'maxSurge')));
      if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0) {
        errs.push(fieldErrors.invalid(child(rp, 'maxUnavailable'), ru.maxUnavailable ?? 0, 'may not be 0 when `maxSurge` is 0'));
      }
      errs.push(...notMoreThan100Percent(ru.maxUnavailable, child(rp, 'maxUnavailable')));
      break;
    }
    default:
      errs.push(fieldErrors.notSupported(sp, strategy, ['Recreate', 'RollingUpdate']));
  }
  errs.push(...validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  if (typeof spec.revisionHistoryLimit === 'number') errs.push(...validateNonnegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  if (typeof spec.progressDeadlineSeconds === 'number') {
    errs.push(...validateNonnegative(spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds'));
    if (spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
      errs.push(fieldErrors.invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
    }
  }
  return errs;
}

export function validateReplicaSet(rs: ReplicaSet): FieldError[] {
  return [...validateObjectMeta(rs.metadata, true, nameIsDNSSubdomain), ...validateReplicaSetSpec(rs)];
}

function validateReplicaSetSpec(rs: ReplicaSet): FieldError[] {
  const spec = isRecord(rs.spec) ? rs.spec : ({} as Partial<NonNullable<ReplicaSet['spec']>>);
  const errs = validateNonnegative(spec.replicas, 'spec.replicas');
  errs.push(...validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...validateSelectorAndTemplate('ReplicaSet', spec.selector, spec.template, 'spec'));
  return errs;
}

export function validateDaemonSet(ds: DaemonSet): FieldError[] {
  return [...validateObjectMeta(ds.metadata, true, nameIsDNSSubdomain), ...validateDaemonSetSpec(ds)];
}

function validateDaemonSetSpec(ds: DaemonSet): FieldError[] {
  const spec = isRecord(ds.spec) ? ds.spec : ({} as Partial<NonNullable<DaemonSet['spec']>>);
  const errs = validateSelectorAndTemplate('DaemonSet', spec.selector, spec.template, 'spec');
  errs.push(...validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  const us = isRecord(spec.updateStrategy) ? spec.updateStrategy : {};
  const up = 'spec.updateStrategy';
  switch (us.type) {
    case 'OnDelete':
      break;
    case 'RollingUpdate': {
      const ru = us.rollingUpdate;
      if (!isRecord(ru)) {
        errs.push(fieldErrors.required(child(up, 'rollingUpdate')));
        break;
      }
      const rp = child(up, 'rollingUpdate');
      errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, child(rp, 'maxUnavailable')));
      errs.push(...validatePositiveIntOrPercent(ru.maxSurge, child(rp, 'maxSurge')));
      errs.push(...notMoreThan100Percent(ru.maxUnavailable, child(rp, 'maxUnavailable')));
      errs.push(...notMoreThan100Percent(ru.maxSurge, child(rp, 'maxSurge')));
      const hasUnavailable = intOrPercentValue(ru.maxUnavailable) !== 0;
      const hasSurge = intOrPercentValue(ru.maxSurge) !== 0;
      if (hasUnavailable && hasSurge) errs.push(fieldErrors.invalid(child(rp, 'maxSurge'), ru.maxSurge, 'may not be set when maxUnavailable is non-zero'));
      else if (!hasUnavailable && !hasSurge) errs.push(fieldErrors.required(child(rp, 'maxUnavailable'), 'cannot be 0 when maxSurge is 0'));
      break;
    }
    default:
      errs.push(fieldErrors.notSupported(up, us, ['RollingUpdate', 'OnDelete']));
  }
  if (typeof spec.revisionHistoryLimit === 'number') errs.push(...validateNonnegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  return errs;
}

type AppsObject = Deployment | ReplicaSet | DaemonSet;

/** apps/v1 update: metadata rules, the spec as on create, and spec.selector immutable. */
export function validateAppsUpdate(kind: Workload, obj: AppsObject, old: AppsObject): FieldError[] {
  const errs = validateObjectMetaUpdate(obj.metadata, old.metadata);
  if (kind === 'Deployment') errs.push(...validateDeploymentSpec(obj as Deployment));
  else if (kind === 'ReplicaSet') errs.push(...validateReplicaSetSpec(obj as ReplicaSet));
  else errs.push(...validateDaemonSetSpec(obj as DaemonSet));
  const sel = isRecord(obj.spec) ? obj.spec.selector : undefined;
  const oldSel = isRecord(old.spec) ? old.spec.selector : undefined;
  errs.push(...validateImmutable(sel, oldSel, 'spec.selector'));
  return errs;
}
