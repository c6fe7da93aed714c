// What the EndpointSlice and Endpoints controllers share: which pods back a Service, their address,
// readiness and hostname, and each Service port resolved against that pod (a named targetPort is
// looked up in the pod's containerPorts with the same protocol, as upstream's FindPort).
import type { Pod, Service, ServicePort } from '../../api/types.ts';
import { tryParseIPv4 } from '../../net/ipv4.ts';
import { isPodReady, isPodTerminal, isTerminating } from './pod-util.ts';
import { matchesSelectorMap } from './selectors.ts';

export interface ResolvedPort {
  name: string;
  port: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  appProtocol?: string;
}

export interface Backend {
  pod: Pod;
  ip: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  hostname?: string;
  nodeName?: string;
  /** The Service's ports this pod serves (unresolvable named ports are left out). */
  ports: ResolvedPort[];
}

/** A Service the controllers manage: it has a non-empty selector and is not ExternalName. */
export function hasSelector(service: Service): boolean {
  if (service.spec?.type === 'ExternalName') return false;
  return Object.keys(service.spec?.selector ?? {}).length > 0;
}

export function isHeadless(service: Service): boolean {
  return service.spec?.clusterIP === 'None';
}

/** The container port a Service port targets on this pod, or undefined when a named port is missing. */
export function resolveTargetPort(pod: Pod, svcPort: ServicePort): number | undefined {
  const target = svcPort.targetPort;
  const protocol = svcPort.protocol ?? 'TCP';
  if (target === undefined || target === 0 || target === '') return svcPort.port;
  if (typeof target === 'number') return target;
  if (/^[0-9]+$/.test(target)) return Number(target);
  for (const container of pod.spec?.containers ?? []) {
    for (const port of container.ports ?? []) {
      if (port.name === target && (port.protocol ?? 'TCP') === protocol) return port.containerPort;
    }
  }
  return undefined;
}

function podIPv4(pod: Pod): string | undefined {
  for (const { ip } of pod.status?.podIPs ?? []) if (tryParseIPv4(ip) !== undefined) return ip;
  const ip = pod.status?.podIP;
  return ip !== undefined && tryParseIPv4(ip) !== undefined ? ip : undefined;
}

/**
 * The pods backing a Service, sorted by name. Terminal pods and pods without an IPv4 address are
 * excluded; terminating pods only with `includeTerminating` (EndpointSlices include them).
 */
export function serviceBackends(service: Service, pods: readonly Pod[], includeTerminating: boolean): Backend[] {
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const result: Backend[] = [];
  for (const pod of pods) {
    if (pod.metadata.namespace !== service.metadata.namespace) continue;
    if (!matchesSelectorMap(service.spec?.selector, pod.metadata.labels)) continue;
    if (isPodTerminal(pod)) continue;
    const terminating = isTerminating(pod);
    if (terminating && !includeTerminating) continue;
    const ip = podIPv4(pod);
    if (ip === undefined) continue;
    const serving = publishNotReady || isPodReady(pod);
    const backend: Backend = { pod, ip, serving, terminating, ready: publishNotReady || (serving && !terminating), ports: [] };
    if (pod.spec?.hostname && pod.spec.subdomain === service.metadata.name) backend.hostname = pod.spec.hostname;
    if (pod.spec?.nodeName) backend.nodeName = pod.spec.nodeName;
    for (const svcPort of service.spec?.ports ?? []) {
      const port = resolveTargetPort(pod, svcPort);
      if (port === undefined) continue;
      const resolved: ResolvedPort = { name: svcPort.name ?? '', port, protocol: svcPort.protocol ?? 'TCP' };
      if (svcPort.appProtocol !== undefined) resolved.appProtocol = svcPort.appProtocol;
      backend.ports.push(resolved);
    }
    result.push(backend);
  }
  return result.sort((a, b) => ((a.pod.metadata.name ?? '') < (b.pod.metadata.name ?? '') ? -1 : (a.pod.metadata.name ?? '') > (b.pod.metadata.name ?? '') ? 1 : 0));
}

/** Service labels as upstream copies them onto Endpoints/EndpointSlices, plus the headless marker. */
export function derivedLabels(service: Service): Record<string, string> {
  const labels: Record<string, string> = { ...(service.metadata.labels ?? {}) };
  if (isHeadless(service)) labels['service.kubernetes.io/headless'] = '';
  else delete labels['service.kubernetes.io/headless'];
  return labels;
}
