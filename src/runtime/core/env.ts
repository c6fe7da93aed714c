// Container environment as the kubelet builds it, and `$(VAR)` expansion. Pure.
//
// Expansion rules (kubelet's third_party expansion package): `$(NAME)` is replaced by NAME's value when
// NAME is defined, and left as written otherwise; `$$` is an escaped `$`; any other `$` is literal.
// Env entries see only variables defined before them (envFrom, then earlier env entries, then service
// variables); command and args see the complete environment.
import type { Container, Pod } from '../../api/types.ts';

export function expandVars(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let i = 0;
  while (i < input.length) {
    const ch = input[i];
    if (ch !== '$' || i + 1 >= input.length) { out += ch; i++; continue; }
    const next = input[i + 1];
    if (next === '$') { out += '$'; i += 2; continue; }
    if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) { out += input.slice(i); break; }
      const name = input.slice(i + 2, close);
      const value = lookup(name);
      out += value === undefined ? input.slice(i, close + 1) : value;
      i = close + 1;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

export interface EnvSources {
  /** ConfigMap data by name (the namespace is the pod's). */
  configMaps?: Record<string, Record<string, string> | undefined>;
  /** Secret data by name, already decoded to text. */
  secrets?: Record<string, Record<string, string> | undefined>;
  /** Service link variables (FOO_SERVICE_HOST, ...) and KUBERNETES_* to add when enableServiceLinks allows. */
  serviceEnv?: Record<string, string>;
  podIP?: string;
  podIPs?: string[];
  hostIP?: string;
  nodeName?: string;
}

export type EnvResult = { ok: true; env: [string, string][] } | { ok: false; reason: 'CreateContainerConfigError'; message: string };

function fieldRefValue(pod: Pod, path: string, src: EnvSources): string | undefined {
  const md = pod.metadata;
  const sel = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (sel !== null) return (sel[1] === 'labels' ? md.labels : md.annotations)?.[sel[2] ?? ''] ?? '';
  switch (path) {
    case 'metadata.name': return md.name ?? '';
    case 'metadata.namespace': return md.namespace ?? 'default';
    case 'metadata.uid': return md.uid ?? '';
    case 'spec.nodeName': return src.nodeName ?? pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP': return src.podIP ?? '';
    case 'status.podIPs': return (src.podIPs ?? (src.podIP !== undefined ? [src.podIP] : [])).join(',');
    case 'status.hostIP': return src.hostIP ?? '';
    case 'status.hostIPs': return src.hostIP ?? '';
    default: return undefined;
  }
}

/** The environment a container gets from its spec (before the image's own variables are layered under it). */
export function containerEnv(pod: Pod, container: Container, src: EnvSources): EnvResult {
  const env = new Map<string, string>();
  const ns = pod.metadata.namespace ?? 'default';
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    if (ref === undefined) continue;
    const isCm = from.configMapRef !== undefined;
    const data = (isCm ? src.configMaps : src.secrets)?.[ref.name];
    if (data === undefined) {
      if (ref.optional === true) continue;
      return { ok: false, reason: 'CreateContainerConfigError', message: `${isCm ? 'configmap' : 'secret'} "${ref.name}" not found` };
    }
    for (const [k, v] of Object.entries(data)) env.set(`${from.prefix ?? ''}${k}`, v);
  }
  const service = pod.spec?.enableServiceLinks === false
    ? Object.fromEntries(Object.entries(src.serviceEnv ?? {}).filter(([k]) => k.startsWith('KUBERNETES_')))
    : (src.serviceEnv ?? {});
  const lookupSoFar = (name: string): string | undefined => env.get(name) ?? service[name];
  for (const e of container.env ?? []) {
    if (e.valueFrom === undefined) {
      env.set(e.name, expandVars(e.value ?? '', lookupSoFar));
      continue;
    }
    const vf = e.valueFrom;
    if (vf.fieldRef !== undefined) {
      const v = fieldRefValue(pod, vf.fieldRef.fieldPath, src);
      if (v === undefined) return { ok: false, reason: 'CreateContainerConfigError', message: `unsupported fieldPath: ${vf.fieldRef.fieldPath}` };
      env.set(e.name, v);
    } else if (vf.configMapKeyRef !== undefined || vf.secretKeyRef !== undefined) {
      const isCm = vf.configMapKeyRef !== undefined;
      const ref = vf.configMapKeyRef ?? vf.secretKeyRef;
      if (ref === undefined) continue;
      const data = (isCm ? src.configMaps : src.secrets)?.[ref.name];
      const v = data?.[ref.key];
      if (v === undefined) {
        if (ref.optional === true) continue;
        const kind = isCm ? 'ConfigMap' : 'Secret';
        return {
          ok: false,
          reason: 'CreateContainerConfigError',
          message: data === undefined ? `${kind.toLowerCase()} "${ref.name}" not found` : `couldn't find key ${ref.key} in ${kind} ${ns}/${ref.name}`,
        };
      }
      env.set(e.name, v);
    } else if (vf.resourceFieldRef !== undefined) {
      const [kind, res] = vf.resourceFieldRef.resource.split('.');
      const value = kind === 'limits' || kind === 'requests' ? container.resources?.[kind]?.[res ?? ''] : undefined;
      env.set(e.name, value ?? '0');
    }
  }
  for (const [k, v] of Object.entries(service)) if (!env.has(k)) env.set(k, v);
  return { ok: true, env: [...env] };
}

/** Expand `$(VAR)` in command and args with the container's full environment. */
export function expandCommand(argv: readonly string[], env: readonly [string, string][]): string[] {
  const m = new Map(env);
  return argv.map((a) => expandVars(a, (n) => m.get(n)));
}
