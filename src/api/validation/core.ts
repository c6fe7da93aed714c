// The remaining core/v1 kinds: Namespace, Node, Endpoints, ConfigMap, Secret, Event, ServiceAccount, after
// pkg/apis/core/validation (validation.go and events.go). Pure.
import { fieldErrors, type FieldError } from '../errors.ts';
import type { ConfigMap, Endpoints, Event, Namespace, Node, Secret, ServiceAccount, Taint } from '../types.ts';
import { isValidCIDR, isValidIP, parseCIDR, validateNonSpecialIP } from './ip.ts';
import { validateImmutable, validateKubeFinalizerName, validateLabelName, validateObjectMeta, validateObjectMetaUpdate } from './meta.ts';
import { byteLength, isConfigMapKey, isDNS1123Subdomain, isQualifiedName, isValidLabelValue, isValidPortNum, nameIsDNSLabel, nameIsDNSSubdomain } from './names.ts';
import { validateDNS1123Label, validateProtocol, validateQualifiedName } from './pod.ts';
import { child, entries, index, isRecord, key, list, semanticEqual, str } from './util.ts';

export const MAX_SECRET_SIZE = 1024 * 1024;

// ----------------------------------------------------------------------------------------- Namespace

export function validateNamespace(ns: Namespace): FieldError[] {
  const errs = validateObjectMeta(ns.metadata, false, nameIsDNSLabel);
  const finalizers = list(isRecord(ns.spec) ? ns.spec.finalizers : undefined);
  for (const f of finalizers) {
    for (const msg of isQualifiedName(str(f))) errs.push(fieldErrors.invalid('spec.finalizers', f, msg));
    errs.push(...validateKubeFinalizerName(str(f), 'spec.finalizers'));
  }
  return errs;
}

export function validateNamespaceUpdate(ns: Namespace, old: Namespace): FieldError[] {
  return validateObjectMetaUpdate(ns.metadata, old.metadata);
}

// ---------------------------------------------------------------------------------------------- Node

function validateTaints(taints: readonly Taint[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  taints.forEach((t, i) => {
    const p = index(path, i);
    errs.push(...validateLabelName(str(t.key), child(p, 'key')));
    const msgs = isValidLabelValue(str(t.value));
    if (msgs.length > 0) errs.push(fieldErrors.invalid(child(p, 'value'), str(t.value), msgs.join(';')));
    const effects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
    if (!t.effect) errs.push(fieldErrors.required(child(p, 'effect')));
    else if (!effects.includes(t.effect)) errs.push(fieldErrors.notSupported(child(p, 'effect'), t.effect, effects));
    const k = `${t.effect ?? ''}\u0000${t.key}`;
    if (seen.has(k)) {
      errs.push({ ...fieldErrors.duplicate(p, t), detail: 'taints must be unique by key and effect pair' });
      return;
    }
    seen.add(k);
  });
  return errs;
}

/** podCIDR is folded into podCIDRs as upstream's conversion does; both must be valid CIDRs. */
function nodePodCIDRs(node: Node): string[] {
  const spec = isRecord(node.spec) ? node.spec : {};
  const cidrs = list(spec.podCIDRs).map(str);
  if (cidrs.length === 0 && str(spec.podCIDR) !== '') return [str(spec.podCIDR)];
  return cidrs;
}

function validateNodeSpec(node: Node): FieldError[] {
  const errs: FieldError[] = [];
  const spec = isRecord(node.spec) ? node.spec : {};
  // Upstream reports node taints under metadata.taints (sic).
  if (list(spec.taints).length > 0) errs.push(...validateTaints(list(spec.taints), 'metadata.taints'));
  const podCIDR = str(spec.podCIDR);
  const cidrs = list(spec.podCIDRs).map(str);
  if (podCIDR !== '' && cidrs.length > 0 && cidrs[0] !== podCIDR) {
    errs.push(fieldErrors.invalid('spec.podCIDRs', cidrs, 'first value must match `podCIDR`'));
  }
  if (cidrs.length === 0 && podCIDR !== '') errs.push(...isValidCIDR('spec.podCIDR', podCIDR));
  cidrs.forEach((c, i) => errs.push(...isValidCIDR(index('spec.podCIDRs', i), c)));
  if (cidrs.length > 1) {
    const fams = cidrs.map((c) => parseCIDR(c)?.ip.family);
    if (cidrs.length > 2 || fams[0] === fams[1]) errs.push(fieldErrors.invalid('spec.podCIDRs', cidrs, 'may specify no more than one CIDR for each IP family'));
    const seen = new Set<string>();
    cidrs.forEach((c, i) => {
      if (seen.has(c)) errs.push(fieldErrors.duplicate(index('spec.podCIDRs', i), c));
      seen.add(c);
    });
  }
  return errs;
}

export function validateNode(node: Node): FieldError[] {
  return [...validateObjectMeta(node.metadata, false, nameIsDNSSubdomain), ...validateNodeSpec(node)];
}

export function validateNodeUpdate(node: Node, old: Node): FieldError[] {
  const errs = validateObjectMetaUpdate(node.metadata, old.metadata);
  const addrs = list(isRecord(node.status) ? node.status.addresses : undefined);
  const seen = new Set<string>();
  addrs.forEach((a, i) => {
    const k = `${a.type}/${a.address}`;
    if (seen.has(k)) errs.push(fieldErrors.duplicate(index('status.addresses', i), a));
    seen.add(k);
  });
  const before = nodePodCIDRs(old);
  const now = nodePodCIDRs(node);
  if (before.length > 0 && !semanticEqual(before, now)) {
    errs.push(fieldErrors.forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'));
  }
  const oldProvider = str(old.spec?.providerID);
  if (oldProvider !== '' && oldProvider !== str(node.spec?.providerID)) {
    errs.push(fieldErrors.forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
  }
  errs.push(...validateNodeSpec(node));
  return errs;
}

// ----------------------------------------------------------------------------------------- Endpoints

function validateEndpointsBody(ep: Endpoints): FieldError[] {
  const errs: FieldError[] = [];
  list(ep.subsets).forEach((ss, i) => {
    const p = index('subsets', i);
    if (list(ss.addresses).length === 0 && list(ss.notReadyAddresses).length === 0) {
      errs.push(fieldErrors.required(p, 'must specify `addresses` or `notReadyAddresses`'));
    }
    for (const which of ['addresses', 'notReadyAddresses'] as const) {
      list(ss[which]).forEach((a, j) => {
        const ap = index(child(p, which), j);
        errs.push(...isValidIP(child(ap, 'ip'), str(a.ip)));
        if (str(a.hostname) !== '') errs.push(...validateDNS1123Label(str(a.hostname), child(ap, 'hostname')));
        if (a.nodeName !== undefined && a.nodeName !== null) {
          for (const msg of nameIsDNSSubdomain(str(a.nodeName), false)) errs.push(fieldErrors.invalid(child(ap, 'nodeName'), a.nodeName, msg));
        }
        errs.push(...validateNonSpecialIP(child(ap, 'ip'), str(a.ip)));
      });
    }
    const ports = list(ss.ports);
    ports.forEach((port, j) => {
      const pp = index(child(p, 'ports'), j);
      const name = str(port.name);
      if (ports.length > 1 && name === '') errs.push(fieldErrors.required(child(pp, 'name')));
      else if (name !== '') errs.push(...validateDNS1123Label(name, child(pp, 'name')));
      for (const msg of isValidPortNum(port.port)) errs.push(fieldErrors.invalid(child(pp, 'port'), port.port, msg));
      errs.push(...validateProtocol(port.protocol, child(pp, 'protocol')));
      if (port.appProtocol !== undefined && port.appProtocol !== null) errs.push(...validateQualifiedName(str(port.appProtocol), child(pp, 'appProtocol')));
    });
  });
  return errs;
}

export function validateEndpoints(ep: Endpoints): FieldError[] {
  return [...validateObjectMeta(ep.metadata, true, nameIsDNSSubdomain), ...validateEndpointsBody(ep)];
}

export function validateEndpointsUpdate(ep: Endpoints, old: Endpoints): FieldError[] {
  return [...validateObjectMetaUpdate(ep.metadata, old.metadata), ...validateEndpointsBody(ep)];
}

// ------------------------------------------------------------------------------- ConfigMap and Secret

/** Decoded length of a base64 value (what upstream counts, as it holds bytes). */
function base64DecodedLength(v: string): number {
  const clean = v.replace(/\s/g, '');
  const pad = clean.endsWith('==') ? 2 : clean.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((clean.length * 3) / 4) - pad);
}

function base64Decode(v: string): string | undefined {
  try {
    const bin = atob(v);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new TextDecoder().decode(bytes);
  } catch {
    return undefined;
  }
}

function validateConfigMapBody(cm: ConfigMap): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  const binary = isRecord(cm.binaryData) ? cm.binaryData : {};
  for (const [k, v] of entries(cm.data)) {
    for (const msg of isConfigMapKey(k)) errs.push(fieldErrors.invalid(key('data', k), k, msg));
    if (Object.prototype.hasOwnProperty.call(binary, k)) errs.push(fieldErrors.invalid(key('data', k), k, 'duplicate of key present in binaryData'));
    total += byteLength(v);
  }
  for (const [k, v] of entries(cm.binaryData)) {
    for (const msg of isConfigMapKey(k)) errs.push(fieldErrors.invalid(key('binaryData', k), k, msg));
    total += base64DecodedLength(v);
  }
  if (total > MAX_SECRET_SIZE) errs.push(fieldErrors.tooLong('', '', MAX_SECRET_SIZE));
  return errs;
}

export function validateConfigMap(cm: ConfigMap): FieldError[] {
  return [...validateObjectMeta(cm.metadata, true, nameIsDNSSubdomain), ...validateConfigMapBody(cm)];
}

function immutableData(obj: { immutable?: boolean; data?: unknown; binaryData?: unknown }, old: { immutable?: boolean; data?: unknown; binaryData?: unknown }, fields: readonly ('data' | 'binaryData')[]): FieldError[] {
  if (old.immutable !== true) return [];
  const errs: FieldError[] = [];
  const why = 'field is immutable when `immutable` is set';
  if (obj.immutable !== true) errs.push(fieldErrors.forbidden('immutable', why));
  for (const f of fields) if (!semanticEqual(obj[f], old[f])) errs.push(fieldErrors.forbidden(f, why));
  return errs;
}

export function validateConfigMapUpdate(cm: ConfigMap, old: ConfigMap): FieldError[] {
  const errs = validateObjectMetaUpdate(cm.metadata, old.metadata);
  errs.push(...immutableData(cm, old, ['data', 'binaryData']));
  errs.push(...validateConfigMapBody(cm));
  return errs;
}

function validateSecretBody(secret: Secret): FieldError[] {
  const errs: FieldError[] = [];
  const data = isRecord(secret.data) ? secret.data : {};
  let total = 0;
  for (const [k, v] of entries(secret.data)) {
    for (const msg of isConfigMapKey(k)) errs.push(fieldErrors.invalid(key('data', k), k, msg));
    total += base64DecodedLength(v);
  }
  if (total > MAX_SECRET_SIZE) errs.push(fieldErrors.tooLong('data', '', MAX_SECRET_SIZE));
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(data, k);
  const jsonKey = (k: string): void => {
    if (!has(k)) {
      errs.push(fieldErrors.required(key('data', k)));
      return;
    }
    const text = base64Decode(str(data[k]));
    try {
      if (text === undefined) throw new SyntaxError('illegal base64 data');
      JSON.parse(text);
    } catch (e) {
      errs.push(fieldErrors.invalid(key('data', k), '<secret contents redacted>', e instanceof Error ? e.message : 'invalid JSON'));
    }
  };
  switch (secret.type ?? '') {
    case 'kubernetes.io/service-account-token':
      if (str(secret.metadata?.annotations?.['kubernetes.io/service-account.name']) === '') {
        errs.push(fieldErrors.required(key('metadata.annotations', 'kubernetes.io/service-account.name')));
      }
      break;
    case 'kubernetes.io/dockercfg':
      jsonKey('.dockercfg');
      break;
    case 'kubernetes.io/dockerconfigjson':
      jsonKey('.dockerconfigjson');
      break;
    case 'kubernetes.io/basic-auth':
      if (!has('username') && !has('password')) {
        errs.push(fieldErrors.required(key('data', 'username')));
        errs.push(fieldErrors.required(key('data', 'password')));
      }
      break;
    case 'kubernetes.io/ssh-auth':
      if (str(data['ssh-privatekey']) === '') errs.push(fieldErrors.required(key('data', 'ssh-privatekey')));
      break;
    case 'kubernetes.io/tls':
      if (!has('tls.crt')) errs.push(fieldErrors.required(key('data', 'tls.crt')));
      if (!has('tls.key')) errs.push(fieldErrors.required(key('data', 'tls.key')));
      break;
    default:
      break;
  }
  return errs;
}

export function validateSecret(secret: Secret): FieldError[] {
  return [...validateObjectMeta(secret.metadata, true, nameIsDNSSubdomain), ...validateSecretBody(secret)];
}

export function validateSecretUpdate(secret: Secret, old: Secret): FieldError[] {
  const errs = validateObjectMetaUpdate(secret.metadata, old.metadata);
  errs.push(...validateImmutable(secret.type ?? '', old.type ?? '', 'type'));
  errs.push(...immutableData(secret, old, ['data']));
  errs.push(...validateSecretBody(secret));
  return errs;
}

// ------------------------------------------------------------------------------------ ServiceAccount

export function validateServiceAccount(sa: ServiceAccount): FieldError[] {
  return validateObjectMeta(sa.metadata, true, nameIsDNSSubdomain);
}

export function validateServiceAccountUpdate(sa: ServiceAccount, old: ServiceAccount): FieldError[] {
  return validateObjectMetaUpdate(sa.metadata, old.metadata);
}

// --------------------------------------------------------------------------------------------- Event

/**
 * core/v1 Events get only upstream's legacy checks (namespaces agree, reporting fields for new-style
 * events); flatnet additionally requires a name, since it stores events by name.
 */
function validateEventBody(ev: Event): FieldError[] {
  const errs: FieldError[] = [];
  const ns = str(ev.metadata?.namespace);
  const involved = isRecord(ev.involvedObject) ? ev.involvedObject : {};
  const involvedNs = str(involved.namespace);
  const mismatch = (): FieldError => fieldErrors.invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace');
  if (!ev.eventTime) {
    if (involvedNs === '') {
      if (ns !== '' && ns !== 'default') errs.push(mismatch());
    } else if (ns !== involvedNs) errs.push(mismatch());
  } else {
    if (involvedNs === '' && ns !== 'default' && ns !== 'kube-system') errs.push(mismatch());
    const controller = str(ev.reportingComponent); // reportingController internally
    if (controller === '') errs.push(fieldErrors.required('reportingController'));
    for (const msg of isQualifiedName(controller)) errs.push(fieldErrors.invalid('reportingController', controller, msg));
    const instance = str(ev.reportingInstance);
    if (instance === '') errs.push(fieldErrors.required('reportingInstance'));
    if (instance.length > 128) errs.push(fieldErrors.invalid('reportingInstance', '', 'can have at most 128 characters'));
    const action = str(ev.action);
    if (action === '') errs.push(fieldErrors.required('action'));
    if (action.length > 128) errs.push(fieldErrors.invalid('action', '', 'can have at most 128 characters'));
    const reason = str(ev.reason);
    if (reason === '') errs.push(fieldErrors.required('reason'));
    if (reason.length > 128) errs.push(fieldErrors.invalid('reason', '', 'can have at most 128 characters'));
    if (str(ev.message).length > 1024) errs.push(fieldErrors.invalid('message', '', 'can have at most 1024 characters'));
  }
  for (const msg of isDNS1123Subdomain(ns)) errs.push(fieldErrors.invalid('namespace', ns, msg));
  return errs;
}

export function validateEvent(ev: Event): FieldError[] {
  const errs: FieldError[] = [];
  if (str(ev.metadata?.name) === '' && str(ev.metadata?.generateName) === '') {
    errs.push(fieldErrors.required('metadata.name', 'name or generateName is required'));
  }
  errs.push(...validateEventBody(ev));
  return errs;
}

export function validateEventUpdate(ev: Event, _old: Event): FieldError[] {
  return validateEventBody(ev);
}
