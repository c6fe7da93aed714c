// The EndpointSlice controller for Services with a selector. Endpoints are grouped by port mapping
// (pods whose named targetPorts resolve to different numbers land in different slices, as upstream),
// at most maxEndpointsPerSlice (100) per slice. Churn is kept low as upstream's reconciler does:
// existing slices are updated in place (endpoints that stay keep their position), new endpoints fill
// slices already being updated before new slices are made, a slice that would be deleted is reused
// for a slice that would be created, and a partial new slice goes into an unchanged slice with room.
// A Service with no endpoints keeps one placeholder slice (no endpoints, no ports), as upstream.
import type { Endpoint, EndpointSlice, EndpointSlicePort, Node, OwnerReference, Pod, Service } from '../../api/types.ts';
import { type Action, type ReconcileResult, canonicalJson, clone, jsonEqual, targetOf } from './actions.ts';
import { type Backend, derivedLabels, hasSelector, serviceBackends } from './service-backends.ts';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
export const DEFAULT_MAX_ENDPOINTS_PER_SLICE = 100;

export interface EndpointSliceInput {
  service: Service;
  /** Pods in the Service's namespace. */
  pods: readonly Pod[];
  /** EndpointSlices in the namespace (only this Service's, managed by this controller, are touched). */
  slices: readonly EndpointSlice[];
  /** Nodes, to fill endpoint zones from topology.kubernetes.io/zone (optional). */
  nodes?: readonly Node[];
  maxEndpointsPerSlice?: number;
}

export interface EndpointSliceResult extends ReconcileResult {
  /** The slices this Service should have after the actions (new ones without names). */
  desired: EndpointSlice[];
}

const ZONE_LABEL = 'topology.kubernetes.io/zone';
const sliceKind = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice' };

function toEndpoint(b: Backend, zones: Map<string, string>): Endpoint {
  const ep: Endpoint = {
    addresses: [b.ip],
    conditions: { ready: b.ready, serving: b.serving, terminating: b.terminating },
  };
  if (b.hostname !== undefined) ep.hostname = b.hostname;
  if (b.nodeName !== undefined) {
    ep.nodeName = b.nodeName;
    const zone = zones.get(b.nodeName);
    if (zone !== undefined) ep.zone = zone;
  }
  ep.targetRef = { kind: 'Pod', namespace: b.pod.metadata.namespace ?? '', name: b.pod.metadata.name ?? '', uid: b.pod.metadata.uid ?? '' };
  return ep;
}

function toSlicePorts(b: Backend): EndpointSlicePort[] {
  return b.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol, ...(p.appProtocol !== undefined ? { appProtocol: p.appProtocol } : {}) }));
}

const endpointKey = (ep: Endpoint): string => `${ep.addresses[0] ?? ''}/${ep.targetRef?.uid ?? ''}`;
const portsKey = (ports: readonly EndpointSlicePort[] | null | undefined): string => canonicalJson(ports ?? []);

export function isManagedSliceOf(slice: EndpointSlice, service: Service): boolean {
  return slice.metadata.namespace === service.metadata.namespace &&
    slice.metadata.labels?.[SERVICE_NAME_LABEL] === service.metadata.name &&
    slice.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY;
}

interface Working {
  original?: EndpointSlice;
  ports: EndpointSlicePort[];
  endpoints: Endpoint[];
  deleted: boolean;
}

export function reconcileEndpointSlices(input: EndpointSliceInput): EndpointSliceResult {
  const svc = input.service;
  if (!hasSelector(svc)) return { actions: [], events: [], desired: [] };
  const max = input.maxEndpointsPerSlice ?? DEFAULT_MAX_ENDPOINTS_PER_SLICE;
  const zones = new Map<string, string>();
  for (const node of input.nodes ?? []) {
    const zone = node.metadata.labels?.[ZONE_LABEL];
    if (zone !== undefined) zones.set(node.metadata.name ?? '', zone);
  }
  const labels: Record<string, string> = { ...derivedLabels(svc), [SERVICE_NAME_LABEL]: svc.metadata.name ?? '', [MANAGED_BY_LABEL]: MANAGED_BY };
  const ownerRef: OwnerReference = { apiVersion: 'v1', kind: 'Service', name: svc.metadata.name ?? '', uid: svc.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };

  // Desired endpoints grouped by port mapping.
  const groups = new Map<string, { ports: EndpointSlicePort[]; endpoints: Map<string, Endpoint> }>();
  for (const b of serviceBackends(svc, input.pods, true)) {
    const ports = toSlicePorts(b);
    const key = portsKey(ports);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { ports, endpoints: new Map() }));
    const ep = toEndpoint(b, zones);
    group.endpoints.set(endpointKey(ep), ep);
  }

  const existing = input.slices.filter((s) => isManagedSliceOf(s, svc))
    .sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
  const working: Working[] = existing.map((s) => ({ original: s, ports: clone(s.ports ?? []), endpoints: clone(s.endpoints ?? []), deleted: false }));
  const created: Working[] = [];

  if (groups.size === 0) {
    // Placeholder: keep one slice with no endpoints and no ports.
    const keep = working.find((w) => w.endpoints.length === 0) ?? working[0];
    for (const w of working) {
      if (w === keep) { w.endpoints = []; w.ports = []; } else w.deleted = true;
    }
    if (!keep) created.push({ ports: [], endpoints: [], deleted: false });
  } else {
    const touched = new Set<Working>();
    // 1. Existing slices: keep and refresh endpoints still desired, drop the rest.
    for (const w of working) {
      const group = groups.get(portsKey(w.ports));
      if (!group) { w.deleted = true; continue; }
      const next: Endpoint[] = [];
      for (const ep of w.endpoints) {
        const key = endpointKey(ep);
        const want = group.endpoints.get(key);
        if (want === undefined || next.length >= max) continue;
        next.push(want);
        group.endpoints.delete(key);
      }
      if (!jsonEqual(next, w.endpoints)) touched.add(w);
      w.endpoints = next;
      if (next.length === 0) w.deleted = true;
    }
    // 2. Place the remaining endpoints of each group.
    for (const [key, group] of groups) {
      let pending = [...group.endpoints.values()];
      if (pending.length === 0) continue;
      const same = working.filter((w) => !w.deleted && portsKey(w.ports) === key);
      for (const w of same.filter((x) => touched.has(x))) {
        const room = max - w.endpoints.length;
        if (room <= 0) continue;
        w.endpoints.push(...pending.slice(0, room));
        pending = pending.slice(room);
      }
      while (pending.length > 0) {
        const chunk = pending.slice(0, max);
        pending = pending.slice(max);
        const partial = chunk.length < max;
        const roomy = partial
          ? same.filter((w) => !touched.has(w) && max - w.endpoints.length >= chunk.length).sort((a, b) => b.endpoints.length - a.endpoints.length)[0]
          : undefined;
        if (roomy) {
          roomy.endpoints.push(...chunk);
          touched.add(roomy);
          continue;
        }
        const reusable = working.find((w) => w.deleted && w.original !== undefined);
        if (reusable) {
          reusable.deleted = false;
          reusable.ports = clone(group.ports);
          reusable.endpoints = chunk;
          touched.add(reusable);
          continue;
        }
        created.push({ ports: clone(group.ports), endpoints: chunk, deleted: false });
      }
    }
  }

  const actions: Action[] = [];
  const desired: EndpointSlice[] = [];
  const build = (w: Working, base?: EndpointSlice): EndpointSlice => {
    const slice: EndpointSlice = base ? clone(base) : {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { generateName: `${svc.metadata.name ?? ''}-`, namespace: svc.metadata.namespace ?? 'default' },
      addressType: 'IPv4', endpoints: [],
    };
    slice.metadata.labels = { ...(base?.metadata.labels ?? {}), ...labels };
    slice.metadata.ownerReferences = [ownerRef, ...(base?.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerRef.uid && r.controller !== true)];
    slice.addressType = 'IPv4';
    slice.endpoints = w.endpoints;
    slice.ports = w.ports;
    return slice;
  };
  for (const w of working) {
    if (w.deleted) {
      actions.push({ verb: 'delete', target: targetOf(w.original!, sliceKind), ...(w.original!.metadata.uid ? { uid: w.original!.metadata.uid } : {}) });
      continue;
    }
    const next = build(w, w.original);
    desired.push(next);
    if (!jsonEqual(next, w.original)) actions.push({ verb: 'update', object: next });
  }
  for (const w of created) {
    const next = build(w);
    desired.push(next);
    actions.push({ verb: 'create', object: next });
  }
  // Creates and updates before deletes, so traffic never sees a gap.
  actions.sort((a, b) => (a.verb === 'delete' ? 1 : 0) - (b.verb === 'delete' ? 1 : 0));
  return { actions, events: [], desired };
}
