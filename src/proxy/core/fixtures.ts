// Small builders of Service and EndpointSlice objects for tests and benchmarks (pure).
import type { EndpointSlice, Service, ServicePort, ServiceSpec } from '../../api/types.ts';

export function service(name: string, spec: ServiceSpec, opts: { namespace?: string; lbIPs?: readonly string[] } = {}): Service {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace: opts.namespace ?? 'default' },
    spec: { type: 'ClusterIP', ...spec },
    ...(opts.lbIPs ? { status: { loadBalancer: { ingress: opts.lbIPs.map((ip) => ({ ip })) } } } : {}),
  };
}

export function httpPort(port = 80, extra: Partial<ServicePort> = {}): ServicePort {
  return { name: 'http', port, protocol: 'TCP', targetPort: 8080, ...extra };
}

export interface EndpointSpec {
  readonly ip: string;
  readonly node?: string;
  readonly ready?: boolean;
  readonly serving?: boolean;
  readonly terminating?: boolean;
}

export function slice(serviceName: string, endpoints: readonly EndpointSpec[], ports: readonly { name?: string; port: number; protocol?: 'TCP' | 'UDP' | 'SCTP' }[] = [{ name: 'http', port: 8080 }], opts: { namespace?: string; name?: string; triggerTime?: string } = {}): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: {
      name: opts.name ?? `${serviceName}-abcde`, namespace: opts.namespace ?? 'default',
      labels: { 'kubernetes.io/service-name': serviceName },
      ...(opts.triggerTime ? { annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': opts.triggerTime } } : {}),
    },
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      ...(e.node !== undefined ? { nodeName: e.node } : {}),
      conditions: { ready: e.ready ?? true, ...(e.serving !== undefined ? { serving: e.serving } : {}), ...(e.terminating !== undefined ? { terminating: e.terminating } : {}) },
    })),
    ports: ports.map((p) => ({ ...(p.name !== undefined ? { name: p.name } : {}), port: p.port, protocol: p.protocol ?? 'TCP' })),
  };
}
