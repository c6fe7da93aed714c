// Pods and pod templates, after pkg/apis/core/validation: containers, ports, env, probes, volumes (names
// and the common sources), DNS, tolerations, and the narrow set of fields a pod update may change. Pure.
import { fieldErrors, type FieldError } from '../errors.ts';
import type { Container, ContainerPort, IntOrString, ObjectMeta, Pod, PodSpec, PodTemplateSpec, Probe, ProbeHandler, Toleration } from '../types.ts';
import { isValidIP } from './ip.ts';
import { validateAnnotations, validateLabelName, validateLabels, validateNonnegative, validateObjectMeta, validateObjectMetaUpdate } from './meta.ts';
import {
  inclusiveRangeError,
  isConfigMapKey,
  isDNS1123Label,
  isDNS1123Subdomain,
  isEnvVarName,
  isHTTPHeaderName,
  isQualifiedName,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
  nameIsDNSSubdomain,
} from './names.ts';
import { child, diffPaths, entries, index, isRecord, list, semanticEqual, str } from './util.ts';

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'] as const;
const MAX_INT32 = 2147483647;

export function validateDNS1123Label(value: string, path: string): FieldError[] {
  return isDNS1123Label(value).map((msg) => fieldErrors.invalid(path, value, msg));
}

export function validateDNS1123Subdomain(value: string, path: string): FieldError[] {
  return isDNS1123Subdomain(value).map((msg) => fieldErrors.invalid(path, value, msg));
}

export function validateQualifiedName(value: string, path: string): FieldError[] {
  return isQualifiedName(value).map((msg) => fieldErrors.invalid(path, value, msg));
}

/** An IntOrString port: a number in 1..65535 or an IANA_SVC_NAME. */
export function validatePortNumOrName(port: IntOrString | undefined, path: string): FieldError[] {
  if (typeof port === 'number') return isValidPortNum(port).map((msg) => fieldErrors.invalid(path, port, msg));
  if (typeof port === 'string') return isValidPortName(port).map((msg) => fieldErrors.invalid(path, port, msg));
  return isValidPortNum(0).map((msg) => fieldErrors.invalid(path, 0, msg));
}

export function validateProtocol(protocol: string | undefined, path: string): FieldError[] {
  if (!protocol) return [fieldErrors.required(path)];
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) return [fieldErrors.notSupported(path, protocol, PROTOCOLS)];
  return [];
}

// ------------------------------------------------------------------------------------------ volumes

const VOLUME_SOURCES = [
  'emptyDir', 'hostPath', 'gitRepo', 'gcePersistentDisk', 'awsElasticBlockStore', 'secret', 'nfs', 'iscsi', 'glusterfs',
  'flocker', 'persistentVolumeClaim', 'rbd', 'cinder', 'cephfs', 'quobyte', 'downwardAPI', 'fc', 'flexVolume', 'configMap',
  'azureFile', 'vsphereVolume', 'photonPersistentDisk', 'portworxVolume', 'azureDisk', 'storageos', 'projected', 'scaleIO',
  'csi', 'ephemeral', 'image',
] as const;

function validateVolumes(spec: PodSpec, path: string): { names: Set<string>; errs: FieldError[] } {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  list(spec.volumes).forEach((vol, i) => {
    const p = index(path, i);
    const el: FieldError[] = [];
    let sources = 0;
    for (const src of VOLUME_SOURCES) {
      const v = vol[src];
      if (v === undefined || v === null) continue;
      if (sources > 0) {
        el.push(fieldErrors.forbidden(child(p, src), 'may not specify more than 1 volume type'));
        continue;
      }
      sources++;
      el.push(...validateVolumeSource(src, v, child(p, src)));
    }
    if (sources === 0) el.push(fieldErrors.required(p, 'must specify a volume type'));
    const name = str(vol.name);
    if (name === '') el.push(fieldErrors.required(child(p, 'name')));
    else el.push(...validateDNS1123Label(name, child(p, 'name')));
    if (names.has(name)) el.push(fieldErrors.duplicate(child(p, 'name'), name));
    if (el.length === 0) names.add(name);
    else errs.push(...el);
  });
  return { names, errs };
}

function validateKeyToPaths(items: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  list(Array.isArray(items) ? (items as unknown[]) : []).forEach((item, i) => {
    const it = isRecord(item) ? item : {};
    const p = index(path, i);
    if (str(it['key']) === '') errs.push(fieldErrors.required(child(p, 'key')));
    const itemPath = str(it['path']);
    if (itemPath === '') errs.push(fieldErrors.required(child(p, 'path')));
    else errs.push(...validateLocalDescendingPath(itemPath, child(p, 'path')));
  });
  return errs;
}

function validateLocalDescendingPath(value: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (value.startsWith('/')) errs.push(fieldErrors.invalid(path, value, 'must be a relative path'));
  if (value.split('/').includes('..')) errs.push(fieldErrors.invalid(path, value, "must not contain '..'"));
  return errs;
}

function validateVolumeSource(kind: string, v: unknown, path: string): FieldError[] {
  const src = isRecord(v) ? v : {};
  const errs: FieldError[] = [];
  switch (kind) {
    case 'hostPath':
      if (str(src['path']) === '') errs.push(fieldErrors.required(child(path, 'path')));
      else if (str(src['path']).split('/').includes('..')) errs.push(fieldErrors.invalid(child(path, 'path'), src['path'], "must not contain '..'"));
      break;
    case 'secret': {
      const name = str(src['secretName']);
      if (name === '') errs.push(fieldErrors.required(child(path, 'secretName')));
      errs.push(...validateKeyToPaths(src['items'], child(path, 'items')));
      errs.push(...validateFileMode(src['defaultMode'], child(path, 'defaultMode')));
      break;
    }
    case 'configMap': {
      const name = str(src['name']);
      if (name === '') errs.push(fieldErrors.required(child(path, 'name')));
      else for (const msg of nameIsDNSSubdomain(name, false)) errs.push(fieldErrors.invalid(child(path, 'name'), name, msg));
      errs.push(...validateKeyToPaths(src['items'], child(path, 'items')));
      errs.push(...validateFileMode(src['defaultMode'], child(path, 'defaultMode')));
      break;
    }
    case 'persistentVolumeClaim':
      if (str(src['claimName']) === '') errs.push(fieldErrors.required(child(path, 'claimName')));
      break;
    case 'nfs':
      if (str(src['server']) === '') errs.push(fieldErrors.required(child(path, 'server')));
      if (str(src['path']) === '') errs.push(fieldErrors.required(child(path, 'path')));
      else if (!str(src['path']).startsWith('/')) errs.push(fieldErrors.invalid(child(path, 'path'), src['path'], 'must be an absolute path'));
      break;
    default:
      break;
  }
  return errs;
}

function validateFileMode(mode: unknown, path: string): FieldError[] {
  if (typeof mode === 'number' && (mode > 0o777 || mode < 0)) {
    return [fieldErrors.invalid(path, mode, 'must be a number between 0 and 0777 (octal), both inclusive')];
  }
  return [];
}

// --------------------------------------------------------------------------------------- containers

function validateContainerPorts(ports: readonly ContainerPort[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  list(ports).forEach((port, i) => {
    const p = index(path, i);
    const name = str(port.name);
    if (name !== '') {
      const msgs = isValidPortName(name);
      if (msgs.length > 0) for (const msg of msgs) errs.push(fieldErrors.invalid(child(p, 'name'), name, msg));
      else if (names.has(name)) errs.push(fieldErrors.duplicate(child(p, 'name'), name));
      else names.add(name);
    }
    if (!port.containerPort) errs.push(fieldErrors.required(child(p, 'containerPort')));
    else for (const msg of isValidPortNum(port.containerPort)) errs.push(fieldErrors.invalid(child(p, 'containerPort'), port.containerPort, msg));
    if (port.hostPort) for (const msg of isValidPortNum(port.hostPort)) errs.push(fieldErrors.invalid(child(p, 'hostPort'), port.hostPort, msg));
    errs.push(...validateProtocol(port.protocol, child(p, 'protocol')));
  });
  return errs;
}

const ENV_FIELD_PATHS = ['metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName', 'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs'];
const ENV_RESOURCE_PATHS = ['limits.cpu', 'limits.ephemeral-storage', 'limits.memory', 'requests.cpu', 'requests.ephemeral-storage', 'requests.memory'];

function validateKeySelector(sel: unknown, path: string): FieldError[] {
  const s = isRecord(sel) ? sel : {};
  const errs: FieldError[] = [];
  const name = str(s['name']);
  for (const msg of nameIsDNSSubdomain(name, false)) errs.push(fieldErrors.invalid(child(path, 'name'), name, msg));
  const k = str(s['key']);
  if (k === '') errs.push(fieldErrors.required(child(path, 'key')));
  else for (const msg of isConfigMapKey(k)) errs.push(fieldErrors.invalid(child(path, 'key'), k, msg));
  return errs;
}

function validateEnv(c: Container, containerPath: string): FieldError[] {
  const errs: FieldError[] = [];
  const path = child(containerPath, 'env');
  const envFromPath = child(containerPath, 'envFrom');
  list(c.env).forEach((ev, i) => {
    const p = index(path, i);
    const name = str(ev.name);
    if (name === '') errs.push(fieldErrors.required(child(p, 'name')));
    else for (const msg of isEnvVarName(name)) errs.push(fieldErrors.invalid(child(p, 'name'), name, msg));
    const from = ev.valueFrom;
    if (!isRecord(from)) return;
    const vp = child(p, 'valueFrom');
    let sources = 0;
    if (isRecord(from.fieldRef)) {
      sources++;
      const fp = child(vp, 'fieldRef');
      const fieldPath = str(from.fieldRef.fieldPath);
      if (str(from.fieldRef.apiVersion) === '') errs.push(fieldErrors.required(child(fp, 'apiVersion')));
      else if (fieldPath === '') errs.push(fieldErrors.required(child(fp, 'fieldPath')));
      else {
        const sub = /^(metadata\.(?:labels|annotations))\['(.*)'\]$/.exec(fieldPath);
        if (sub) {
          const subscript = sub[1] === 'metadata.annotations' ? (sub[2] ?? '').toLowerCase() : sub[2] ?? '';
          errs.push(...validateQualifiedName(subscript, fp));
        } else if (!ENV_FIELD_PATHS.includes(fieldPath)) errs.push(fieldErrors.notSupported(child(fp, 'fieldPath'), fieldPath, ENV_FIELD_PATHS));
      }
    }
    if (isRecord(from.resourceFieldRef)) {
      sources++;
      const resource = str(from.resourceFieldRef.resource);
      const rp = child(vp, 'resourceFieldRef');
      if (resource === '') errs.push(fieldErrors.required(child(rp, 'resource')));
      else if (!ENV_RESOURCE_PATHS.includes(resource) && !/^(requests|limits)\.hugepages-/.test(resource)) {
        errs.push(fieldErrors.notSupported(child(rp, 'resource'), resource, ENV_RESOURCE_PATHS));
      }
    }
    if (isRecord(from.configMapKeyRef)) {
      sources++;
      errs.push(...validateKeySelector(from.configMapKeyRef, child(vp, 'configMapKeyRef')));
    }
    if (isRecord(from.secretKeyRef)) {
      sources++;
      errs.push(...validateKeySelector(from.secretKeyRef, child(vp, 'secretKeyRef')));
    }
    if (sources === 0) errs.push(fieldErrors.invalid(vp, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
    else if (str(ev.value) !== '') errs.push(fieldErrors.invalid(vp, '', 'may not be specified when `value` is not empty'));
    else if (sources > 1) errs.push(fieldErrors.invalid(vp, '', 'may not have more than one field specified at a time'));
  });
  list(c.envFrom).forEach((ef, i) => {
    const p = index(envFromPath, i);
    const prefix = str(ef.prefix);
    if (prefix !== '') for (const msg of isEnvVarName(prefix)) errs.push(fieldErrors.invalid(child(p, 'prefix'), prefix, msg));
    let sources = 0;
    for (const which of ['configMapRef', 'secretRef'] as const) {
      const ref = ef[which];
      if (!isRecord(ref)) continue;
      sources++;
      const name = str(ref.name);
      if (name === '') errs.push(fieldErrors.required(child(p, which, 'name')));
      else for (const msg of nameIsDNSSubdomain(name, true)) errs.push(fieldErrors.invalid(child(p, which, 'name'), name, msg));
    }
    if (sources === 0) errs.push(fieldErrors.invalid(envFromPath, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (sources > 1) errs.push(fieldErrors.invalid(envFromPath, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

function validateHandler(h: ProbeHandler & { sleep?: unknown }, path: string, allowSleep: boolean): FieldError[] {
  const errs: FieldError[] = [];
  let handlers = 0;
  const one = (name: string, present: boolean, check: () => FieldError[]): void => {
    if (!present) return;
    if (handlers > 0) {
      errs.push(fieldErrors.forbidden(child(path, name), 'may not specify more than 1 handler type'));
      return;
    }
    handlers++;
    errs.push(...check());
  };
  one('exec', isRecord(h.exec), () => (list(h.exec?.command).length === 0 ? [fieldErrors.required(child(path, 'exec', 'command'))] : []));
  one('httpGet', isRecord(h.httpGet), () => {
    const g = h.httpGet ?? { port: 0 };
    const out: FieldError[] = [];
    const hp = child(path, 'httpGet');
    if (str(g.path) === '') out.push(fieldErrors.required(child(hp, 'path')));
    out.push(...validatePortNumOrName(g.port, child(hp, 'port')));
    if (g.scheme !== 'HTTP' && g.scheme !== 'HTTPS') out.push(fieldErrors.notSupported(child(hp, 'scheme'), g.scheme ?? '', ['HTTP', 'HTTPS']));
    for (const header of list(g.httpHeaders)) {
      for (const msg of isHTTPHeaderName(str(header.name))) out.push(fieldErrors.invalid(child(hp, 'httpHeaders'), header.name, msg));
    }
    return out;
  });
  one('tcpSocket', isRecord(h.tcpSocket), () => validatePortNumOrName(h.tcpSocket?.port, child(path, 'tcpSocket', 'port')));
  one('grpc', isRecord(h.grpc), () => validatePortNumOrName(h.grpc?.port ?? 0, child(path, 'grpc', 'port')));
  if (allowSleep) one('sleep', isRecord(h.sleep), () => []);
  if (handlers === 0) errs.push(fieldErrors.required(path, 'must specify a handler type'));
  return errs;
}

function validateProbe(probe: Probe | undefined, path: string, kind: 'liveness' | 'readiness' | 'startup'): FieldError[] {
  if (!isRecord(probe)) return [];
  const errs = validateHandler(probe, path, false);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
    errs.push(...validateNonnegative(probe[f], child(path, f)));
  }
  if (typeof probe.terminationGracePeriodSeconds === 'number' && probe.terminationGracePeriodSeconds <= 0) {
    errs.push(fieldErrors.invalid(child(path, 'terminationGracePeriodSeconds'), probe.terminationGracePeriodSeconds, 'must be greater than 0'));
  }
  if (kind !== 'readiness' && (probe.successThreshold ?? 1) !== 1) {
    errs.push(fieldErrors.invalid(child(path, 'successThreshold'), probe.successThreshold, 'must be 1'));
  }
  if (kind === 'readiness' && probe.terminationGracePeriodSeconds !== undefined) {
    errs.push(fieldErrors.invalid(child(path, 'terminationGracePeriodSeconds'), probe.terminationGracePeriodSeconds, 'must not be set for readinessProbes'));
  }
  return errs;
}

function validateLifecycle(c: Container, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!isRecord(c.lifecycle)) return errs;
  if (isRecord(c.lifecycle.postStart)) errs.push(...validateHandler(c.lifecycle.postStart, child(path, 'postStart'), true));
  if (isRecord(c.lifecycle.preStop)) errs.push(...validateHandler(c.lifecycle.preStop, child(path, 'preStop'), true));
  return errs;
}

function validateContainerCommon(c: Container, volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(c.name);
  if (name === '') errs.push(fieldErrors.required(child(path, 'name')));
  else errs.push(...validateDNS1123Label(name, child(path, 'name')));
  if (str(c.image) === '') errs.push(fieldErrors.required(child(path, 'image')));
  const tmp = c.terminationMessagePolicy;
  if (!tmp) errs.push(fieldErrors.required(child(path, 'terminationMessagePolicy')));
  else if (tmp !== 'File' && tmp !== 'FallbackToLogsOnError') errs.push(fieldErrors.notSupported(child(path, 'terminationMessagePolicy'), tmp, ['File', 'FallbackToLogsOnError']));
  errs.push(...validateContainerPorts(c.ports, child(path, 'ports')));
  errs.push(...validateEnv(c, path));
  const mountPaths = new Set<string>();
  list(c.volumeMounts).forEach((m, i) => {
    const p = index(child(path, 'volumeMounts'), i);
    const mname = str(m.name);
    if (mname === '') errs.push(fieldErrors.required(child(p, 'name')));
    if (!volumes.has(mname)) errs.push(fieldErrors.notFound(child(p, 'name'), mname));
    const mp = str(m.mountPath);
    if (mp === '') errs.push(fieldErrors.required(child(p, 'mountPath')));
    if (mountPaths.has(mp)) errs.push(fieldErrors.invalid(child(p, 'mountPath'), mp, 'must be unique'));
    mountPaths.add(mp);
    if (str(m.subPath) !== '') errs.push(...validateLocalDescendingPath(str(m.subPath), child(path, 'volumeMounts', 'subPath')));
  });
  const policy = c.imagePullPolicy;
  if (!policy) errs.push(fieldErrors.required(child(path, 'imagePullPolicy')));
  else if (!['Always', 'IfNotPresent', 'Never'].includes(policy)) errs.push(fieldErrors.notSupported(child(path, 'imagePullPolicy'), policy, ['Always', 'IfNotPresent', 'Never']));
  const sc = c.securityContext;
  if (isRecord(sc)) {
    const scp = child(path, 'securityContext');
    if (typeof sc.runAsUser === 'number' && (sc.runAsUser < 0 || sc.runAsUser > MAX_INT32)) errs.push(fieldErrors.invalid(child(scp, 'runAsUser'), sc.runAsUser, inclusiveRangeError(0, MAX_INT32)));
    if (typeof sc.runAsGroup === 'number' && (sc.runAsGroup < 0 || sc.runAsGroup > MAX_INT32)) errs.push(fieldErrors.invalid(child(scp, 'runAsGroup'), sc.runAsGroup, inclusiveRangeError(0, MAX_INT32)));
    if (sc.allowPrivilegeEscalation === false && sc.privileged === true) {
      errs.push(fieldErrors.invalid(scp, sc, 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
    }
  }
  return errs;
}

function hostPortConflicts(containers: readonly Container[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  containers.forEach((c, ci) => {
    list(c.ports).forEach((port, pi) => {
      if (!port.hostPort) return;
      const k = `${port.protocol ?? ''}/${port.hostIP ?? ''}/${port.hostPort}`;
      if (seen.has(k)) errs.push(fieldErrors.duplicate(child(index(child(index(path, ci), 'ports'), pi), 'hostPort'), k));
      else seen.add(k);
    });
  });
  return errs;
}

function validateContainers(spec: PodSpec, volumes: Set<string>, path: string): FieldError[] {
  const containers = list(spec.containers);
  if (containers.length === 0) return [fieldErrors.required(path)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const p = index(path, i);
    errs.push(...validateContainerCommon(c, volumes, p));
    if (names.has(c.name)) errs.push(fieldErrors.duplicate(child(p, 'name'), c.name));
    else names.add(c.name);
    errs.push(...validateLifecycle(c, child(p, 'lifecycle')));
    errs.push(...validateProbe(c.livenessProbe, child(p, 'livenessProbe'), 'liveness'));
    errs.push(...validateProbe(c.readinessProbe, child(p, 'readinessProbe'), 'readiness'));
    errs.push(...validateProbe(c.startupProbe, child(p, 'startupProbe'), 'startup'));
    if (c.restartPolicy !== undefined) errs.push(fieldErrors.forbidden(child(p, 'restartPolicy'), 'may not be set for non-init containers'));
  });
  errs.push(...hostPortConflicts(containers, path));
  return errs;
}

function validateInitContainers(spec: PodSpec, volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set(list(spec.containers).map((c) => c.name));
  list(spec.initContainers).forEach((c, i) => {
    const p = index(path, i);
    errs.push(...validateContainerCommon(c, volumes, p));
    const restartAlways = c.restartPolicy === 'Always';
    if (c.restartPolicy !== undefined && !restartAlways) errs.push(fieldErrors.notSupported(child(p, 'restartPolicy'), c.restartPolicy, ['Always']));
    if (names.has(c.name)) errs.push(fieldErrors.duplicate(child(p, 'name'), c.name));
    else if (str(c.name) !== '') names.add(c.name);
    errs.push(...hostPortConflicts([c], path));
    if (restartAlways) {
      errs.push(...validateLifecycle(c, child(p, 'lifecycle')));
      errs.push(...validateProbe(c.livenessProbe, child(p, 'livenessProbe'), 'liveness'));
      errs.push(...validateProbe(c.readinessProbe, child(p, 'readinessProbe'), 'readiness'));
      errs.push(...validateProbe(c.startupProbe, child(p, 'startupProbe'), 'startup'));
    } else {
      for (const f of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
        if (c[f] !== undefined) errs.push(fieldErrors.forbidden(child(p, f), 'may not be set for init containers without restartPolicy=Always'));
      }
    }
  });
  return errs;
}

// ------------------------------------------------------------------------------------------ pod spec

export function validateTolerations(tolerations: readonly Toleration[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  list(tolerations).forEach((t, i) => {
    const p = index(path, i);
    const k = str(t.key);
    if (k !== '') errs.push(...validateLabelName(k, child(p, 'key')));
    if (k === '' && t.operator !== 'Exists') {
      errs.push(fieldErrors.invalid(child(p, 'operator'), t.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && t.effect !== 'NoExecute') {
      errs.push(fieldErrors.invalid(child(p, 'effect'), t.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    switch (t.operator ?? '') {
      case 'Equal':
      case '': {
        const msgs = isValidLabelValue(str(t.value));
        if (msgs.length > 0) errs.push(fieldErrors.invalid(child(p, 'operator'), str(t.value), msgs.join(';')));
        break;
      }
      case 'Exists':
        if (str(t.value) !== '') errs.push(fieldErrors.invalid(child(p, 'operator'), t.value, "value must be empty when `operator` is 'Exists'"));
        break;
      default:
        errs.push(fieldErrors.notSupported(child(p, 'operator'), t.operator, ['Equal', 'Exists']));
    }
    if (t.effect && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t.effect)) {
      errs.push(fieldErrors.notSupported(child(p, 'effect'), t.effect, ['NoSchedule', 'PreferNoSchedule', 'NoExecute']));
    }
  });
  return errs;
}

function validateDNSConfig(spec: PodSpec, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const cfg = spec.dnsConfig;
  if (spec.dnsPolicy === 'None') {
    if (!isRecord(cfg)) return [fieldErrors.required(path, 'must provide `dnsConfig` when `dnsPolicy` is None')];
    if (list(cfg.nameservers).length === 0) return [fieldErrors.required(child(path, 'nameservers'), 'must provide at least one DNS nameserver when `dnsPolicy` is None')];
  }
  if (!isRecord(cfg)) return errs;
  const ns = list(cfg.nameservers);
  if (ns.length > 3) errs.push(fieldErrors.invalid(child(path, 'nameservers'), ns, 'must not have more than 3 nameservers'));
  ns.forEach((n, i) => errs.push(...isValidIP(index(child(path, 'nameservers'), i), str(n))));
  const searches = list(cfg.searches);
  if (searches.length > 32) errs.push(fieldErrors.invalid(child(path, 'searches'), searches, 'must not have more than 32 search paths'));
  if (searches.join(' ').length > 2048) errs.push(fieldErrors.invalid(child(path, 'searches'), searches, 'must not have more than 2048 characters (including spaces) in the search list'));
  searches.forEach((s, i) => errs.push(...validateDNS1123Subdomain(str(s).replace(/\.$/, ''), index(child(path, 'searches'), i))));
  list(cfg.options).forEach((o, i) => {
    if (str(o.name) === '') errs.push(fieldErrors.required(index(child(path, 'options'), i), 'must not be empty'));
  });
  return errs;
}

export interface PodSpecOptions {
  /** True when validating a Pod (not a template inside a controller). */
  resourceIsPod: boolean;
}

export function validatePodSpec(spec: PodSpec | undefined, path: string, opts: PodSpecOptions): FieldError[] {
  const s: PodSpec = isRecord(spec) ? spec : { containers: [] };
  const errs: FieldError[] = [];
  if (s.terminationGracePeriodSeconds === undefined || s.terminationGracePeriodSeconds === null) {
    errs.push(fieldErrors.required(child(path, 'terminationGracePeriodSeconds')));
  }
  const vols = validateVolumes(s, child(path, 'volumes'));
  errs.push(...vols.errs);
  errs.push(...validateContainers(s, vols.names, child(path, 'containers')));
  errs.push(...validateInitContainers(s, vols.names, child(path, 'initContainers')));
  if (s.hostNetwork === true) {
    list(s.containers).forEach((c, ci) => {
      list(c.ports).forEach((port, pi) => {
        const hp = port.hostPort ?? 0;
        if ((opts.resourceIsPod || hp !== 0) && hp !== port.containerPort) {
          errs.push(fieldErrors.invalid(child(index(child(index(child(path, 'containers'), ci), 'ports'), pi), 'hostPort'), hp, 'must match `containerPort` when `hostNetwork` is true'));
        }
      });
    });
  }
  const rp = s.restartPolicy ?? '';
  if (rp === '') errs.push(fieldErrors.required(child(path, 'restartPolicy')));
  else if (!['Always', 'OnFailure', 'Never'].includes(rp)) errs.push(fieldErrors.notSupported(child(path, 'restartPolicy'), rp, ['Always', 'OnFailure', 'Never']));
  const dp = s.dnsPolicy ?? '';
  if (dp === '') errs.push(fieldErrors.required(child(path, 'dnsPolicy')));
  else if (!['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'].includes(dp)) {
    errs.push(fieldErrors.notSupported(child(path, 'dnsPolicy'), dp, ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None']));
  }
  errs.push(...validateLabels(s.nodeSelector, child(path, 'nodeSelector')));
  const psc = s.securityContext;
  if (isRecord(psc)) {
    const scp = child(path, 'securityContext');
    for (const f of ['runAsUser', 'runAsGroup', 'fsGroup'] as const) {
      const v = psc[f];
      if (typeof v === 'number' && (v < 0 || v > MAX_INT32)) errs.push(fieldErrors.invalid(child(scp, f), v, inclusiveRangeError(0, MAX_INT32)));
    }
  }
  errs.push(...validateDNSConfig(s, child(path, 'dnsConfig')));
  list(s.readinessGates).forEach((g, i) => errs.push(...validateQualifiedName(str(g.conditionType), child(index(child(path, 'readinessGates'), i), 'conditionType'))));
  const sa = str(s.serviceAccountName);
  if (sa !== '') for (const msg of nameIsDNSSubdomain(sa, false)) errs.push(fieldErrors.invalid(child(path, 'serviceAccountName'), sa, msg));
  const node = str(s.nodeName);
  if (node !== '') for (const msg of nameIsDNSSubdomain(node, false)) errs.push(fieldErrors.invalid(child(path, 'nodeName'), node, msg));
  if (typeof s.activeDeadlineSeconds === 'number' && (s.activeDeadlineSeconds < 1 || s.activeDeadlineSeconds > MAX_INT32)) {
    errs.push(fieldErrors.invalid(child(path, 'activeDeadlineSeconds'), s.activeDeadlineSeconds, inclusiveRangeError(1, MAX_INT32)));
  }
  if (str(s.hostname) !== '') errs.push(...validateDNS1123Label(str(s.hostname), child(path, 'hostname')));
  if (str(s.subdomain) !== '') errs.push(...validateDNS1123Label(str(s.subdomain), child(path, 'subdomain')));
  errs.push(...validateTolerations(s.tolerations, child(path, 'tolerations')));
  list(s.hostAliases).forEach((ha, i) => {
    const p = index(child(path, 'hostAliases'), i);
    errs.push(...isValidIP(child(p, 'ip'), str(ha.ip)));
    list(ha.hostnames).forEach((h, j) => errs.push(...validateDNS1123Subdomain(str(h), index(child(p, 'hostnames'), j))));
  });
  const pc = str(s.priorityClassName);
  if (pc !== '') for (const msg of nameIsDNSSubdomain(pc, false)) errs.push(fieldErrors.invalid(child(path, 'priorityClassName'), pc, msg));
  if (s.preemptionPolicy !== undefined && s.preemptionPolicy !== null) {
    const pp = s.preemptionPolicy;
    if (pp === '') errs.push(fieldErrors.required(child(path, 'preemptionPolicy')));
    else if (pp !== 'PreemptLowerPriority' && pp !== 'Never') errs.push(fieldErrors.notSupported(child(path, 'preemptionPolicy'), pp, ['PreemptLowerPriority', 'Never']));
  }
  return errs;
}

/** A pod template's metadata (labels/annotations only) and spec. */
export function validatePodTemplateSpec(tpl: PodTemplateSpec | undefined, path: string): FieldError[] {
  const t: PodTemplateSpec = isRecord(tpl) ? tpl : {};
  const meta: ObjectMeta = isRecord(t.metadata) ? t.metadata : {};
  const errs = validateLabels(meta.labels, child(path, 'metadata', 'labels'));
  errs.push(...validateAnnotations(meta.annotations, child(path, 'metadata', 'annotations')));
  errs.push(...validatePodSpec(t.spec, child(path, 'spec'), { resourceIsPod: false }));
  if (isRecord(t.spec) && list((t.spec as { ephemeralContainers?: unknown[] }).ephemeralContainers).length > 0) {
    errs.push(fieldErrors.forbidden(child(path, 'spec', 'ephemeralContainers'), 'ephemeral containers not allowed in pod template'));
  }
  return errs;
}

function validatePodMetadataAndSpec(pod: Pod): FieldError[] {
  const errs = validateObjectMeta(pod.metadata, true, nameIsDNSSubdomain);
  errs.push(...validatePodSpec(pod.spec, 'spec', { resourceIsPod: true }));
  const spec = isRecord(pod.spec) ? pod.spec : { containers: [] };
  for (const which of ['containers', 'initContainers'] as const) {
    list(spec[which]).forEach((c, i) => {
      const image = str(c.image);
      if (image.length !== image.trim().length) errs.push(fieldErrors.invalid(child(index(child('spec', which), i), 'image'), image, 'must not have leading or trailing whitespace'));
    });
  }
  return errs;
}

export function validatePod(pod: Pod): FieldError[] {
  return validatePodMetadataAndSpec(pod);
}

export const UPDATABLE_POD_SPEC_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

function containerUpdates(newList: readonly Container[], oldList: readonly Container[], path: string): { errs: FieldError[]; stop: boolean } {
  if (newList.length !== oldList.length) return { errs: [fieldErrors.forbidden(path, 'pod updates may not add or remove containers')], stop: true };
  const errs: FieldError[] = [];
  newList.forEach((c, i) => {
    if (str(c.image) === '') errs.push(fieldErrors.required(child(index(path, i), 'image')));
  });
  return { errs, stop: false };
}

function sameTolerationIgnoringSeconds(a: Toleration, b: Toleration): boolean {
  return semanticEqual({ ...a, tolerationSeconds: undefined }, { ...b, tolerationSeconds: undefined });
}

/**
 * A pod update may change only container images, activeDeadlineSeconds (set or lowered), tolerations
 * (additions, or new tolerationSeconds) and terminationGracePeriodSeconds (negative to 1). flatnet also lets
 * spec.nodeName go from "" to a node (the binding subresource's effect); once set it is immutable.
 */
export function validatePodUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs = validateObjectMetaUpdate(pod.metadata, old.metadata);
  errs.push(...validatePodMetadataAndSpec(pod));
  const spec: PodSpec = isRecord(pod.spec) ? pod.spec : { containers: [] };
  const oldSpec: PodSpec = isRecord(old.spec) ? old.spec : { containers: [] };
  for (const which of ['containers', 'initContainers'] as const) {
    const r = containerUpdates(list(spec[which]), list(oldSpec[which]), child('spec', which));
    errs.push(...r.errs);
    if (r.stop) return errs;
  }
  const ads = spec.activeDeadlineSeconds;
  if (typeof ads === 'number') {
    if (ads < 0 || ads > MAX_INT32) {
      errs.push(fieldErrors.invalid('spec.activeDeadlineSeconds', ads, inclusiveRangeError(0, MAX_INT32)));
      return errs;
    }
    if (typeof oldSpec.activeDeadlineSeconds === 'number' && oldSpec.activeDeadlineSeconds < ads) {
      errs.push(fieldErrors.invalid('spec.activeDeadlineSeconds', ads, 'must be less than or equal to previous value'));
      return errs;
    }
  } else if (typeof oldSpec.activeDeadlineSeconds === 'number') {
    errs.push(fieldErrors.invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
  }
  for (const o of list(oldSpec.tolerations)) {
    if (!list(spec.tolerations).some((n) => sameTolerationIgnoringSeconds(o, n))) {
      errs.push(fieldErrors.forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds'));
      break;
    }
  }
  if (semanticEqual(spec, oldSpec)) return errs;
  // Mask the fields that may change, then anything left that differs is forbidden.
  const munged: PodSpec = JSON.parse(JSON.stringify(spec)) as PodSpec;
  for (const which of ['containers', 'initContainers'] as const) {
    list(munged[which]).forEach((c, i) => {
      const oldImage = list(oldSpec[which])[i]?.image;
      if (oldImage === undefined) delete c.image;
      else c.image = oldImage;
    });
  }
  setOrDelete(munged, 'activeDeadlineSeconds', oldSpec.activeDeadlineSeconds);
  setOrDelete(munged, 'tolerations', oldSpec.tolerations);
  if (typeof oldSpec.terminationGracePeriodSeconds === 'number' && oldSpec.terminationGracePeriodSeconds < 0 && munged.terminationGracePeriodSeconds === 1) {
    munged.terminationGracePeriodSeconds = oldSpec.terminationGracePeriodSeconds;
  }
  if (str(oldSpec.nodeName) === '') setOrDelete(munged, 'nodeName', oldSpec.nodeName);
  if (!semanticEqual(munged, oldSpec)) {
    const diff = diffPaths(oldSpec, munged, 'spec').join('\n');
    errs.push(fieldErrors.forbidden('spec', `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS.join(',')}\n${diff}`));
  }
  return errs;
}

function setOrDelete<K extends keyof PodSpec>(spec: PodSpec, k: K, v: PodSpec[K] | undefined): void {
  if (v === undefined) delete spec[k];
  else spec[k] = v;
}

