// The Endpoints controller (core/v1 Endpoints, what `kubectl get endpoints` shows): for a Service with a
// selector, one Endpoints object of the same name. Ready pods (or all, with publishNotReadyAddresses)
// go in `addresses`, others in `notReadyAddresses`; terminating pods are left out. Subsets are packed as
// upstream's RepackSubsets does: ports that are served by exactly the same addresses share a subset.
// More than 1000 addresses are truncated (ready ones kept first, proportionally per subset) and the
// object is annotated endpoints.kubernetes.io/over-capacity=truncated.
import type { EndpointAddress, EndpointPort, Endpoints, EndpointSubset, Pod, Service } from '../../api/types.ts';
import { type Action, type ReconcileResult, canonicalJson, clone, jsonEqual } from './actions.ts';
import { derivedLabels, hasSelector, isHeadless, serviceBackends } from './service-backends.ts';

export const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity';
export const MAX_ENDPOINT_ADDRESSES = 1000;

export interface EndpointsInput {
  service: Service;
  /** Pods in the Service's namespace. */
  pods: readonly Pod[];
  /** The existing Endpoints object of the same name, if any. */
  endpoints?: Endpoints;
  maxAddresses?: number;
}

export interface EndpointsResult extends ReconcileResult {
  /** The Endpoints object as it should be (undefined for Services this controller does not manage). */
  desired?: Endpoints;
}

function addressKey(a: EndpointAddress): string {
  return `${a.ip}/${a.targetRef?.uid ?? ''}`;
}

function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  return a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : addressKey(a) < addressKey(b) ? -1 : addressKey(a) > addressKey(b) ? 1 : 0;
}

/** Builds packed subsets from (address, ready, port) triples. */
export function packSubsets(entries: readonly { address: EndpointAddress; ready: boolean; port?: EndpointPort }[]): EndpointSubset[] {
  const addresses = new Map<string, EndpointAddress>();
  const byPort = new Map<string, { port?: EndpointPort; ready: Set<string>; notReady: Set<string> }>();
  for (const e of entries) {
    const key = addressKey(e.address);
    addresses.set(key, e.address);
    const pk = e.port ? canonicalJson(e.port) : '';
    let slot = byPort.get(pk);
    if (!slot) byPort.set(pk, (slot = { ...(e.port ? { port: e.port } : {}), ready: new Set(), notReady: new Set() }));
    (e.ready ? slot.ready : slot.notReady).add(key);
  }
  const bySets = new Map<string, EndpointSubset>();
  for (const slot of byPort.values()) {
    const ready = [...slot.ready].map((k) => addresses.get(k)!).sort(compareAddresses);
    const notReady = [...slot.notReady].map((k) => addresses.get(k)!).sort(compareAddresses);
    const key = canonicalJson([ready.map(addressKey), notReady.map(addressKey)]);
    let subset = bySets.get(key);
    if (!subset) {
      subset = {};
      if (ready.length > 0) subset.addresses = ready;
      if (notReady.length > 0) subset.notReadyAddresses = notReady;
      bySets.set(key, subset);
    }
    if (slot.port) subset.ports = [...(subset.ports ?? []), slot.port];
  }
  const subsets = [...bySets.values()];
  for (const s of subsets) s.ports?.sort((a, b) => (canonicalJson(a) < canonicalJson(b) ? -1 : 1));
  return subsets.sort((a, b) => (canonicalJson(a) < canonicalJson(b) ? -1 : canonicalJson(a) > canonicalJson(b) ? 1 : 0));
}

/** Upstream's truncation: keeps ready addresses first, spreading the allowance over subsets. Returns true if truncated. */
export function truncateSubsets(subsets: EndpointSubset[], max: number): boolean {
  let totalReady = 0;
  let totalNotReady = 0;
  for (const s of subsets) {
    totalReady += s.addresses?.length ?? 0;
    totalNotReady += s.notReadyAddresses?.length ?? 0;
  }
  if (totalReady + totalNotReady <= max) return false;
  const truncateReady = totalReady > max;
  const allowance = truncateReady ? max : max - totalReady;
  const total = truncateReady ? totalReady : totalNotReady;
  let left = allowance;
  subsets.forEach((s, i) => {
    const inSubset = truncateReady ? (s.addresses?.length ?? 0) : (s.notReadyAddresses?.length ?? 0);
    let size = Math.ceil(inSubset * (allowance / total));
    if (i === subsets.length - 1 || left < size) size = left;
    left -= size;
    if (truncateReady) {
      delete s.notReadyAddresses;
      s.addresses = (s.addresses ?? []).slice(0, size);
    } else {
      s.notReadyAddresses = (s.notReadyAddresses ?? []).slice(0, size);
    }
    if (s.addresses?.length === 0) delete s.addresses;
    if (s.notReadyAddresses?.length === 0) delete s.notReadyAddresses;
  });
  return true;
}

export function reconcileEndpoints(input: EndpointsInput): EndpointsResult {
  const svc = input.service;
  if (!hasSelector(svc)) return { actions: [], events: [] };
  const entries: { address: EndpointAddress; ready: boolean; port?: EndpointPort }[] = [];
  const servicePorts = svc.spec?.ports ?? [];
  for (const b of serviceBackends(svc, input.pods, false)) {
    const address: EndpointAddress = { ip: b.ip };
    if (b.hostname !== undefined) address.hostname = b.hostname;
    if (b.nodeName !== undefined) address.nodeName = b.nodeName;
    address.targetRef = { kind: 'Pod', namespace: b.pod.metadata.namespace ?? '', name: b.pod.metadata.name ?? '', uid: b.pod.metadata.uid ?? '' };
    if (servicePorts.length === 0) {
      if (isHeadless(svc)) entries.push({ address, ready: b.ready });
      continue;
    }
    for (const p of b.ports) {
      const port: EndpointPort = { port: p.port, protocol: p.protocol };
      if (p.name !== '') port.name = p.name;
      if (p.appProtocol !== undefined) port.appProtocol = p.appProtocol;
      entries.push({ address, ready: b.ready, port });
    }
  }
  const subsets = packSubsets(entries);
  const truncated = truncateSubsets(subsets, input.maxAddresses ?? MAX_ENDPOINT_ADDRESSES);

  const current = input.endpoints;
  const desired: Endpoints = current ? clone(current) : {
    apiVersion: 'v1', kind: 'Endpoints', metadata: { name: svc.metadata.name ?? '', namespace: svc.metadata.namespace ?? 'default' },
  };
  desired.metadata.labels = derivedLabels(svc);
  const annotations = { ...(desired.metadata.annotations ?? {}) };
  if (truncated) annotations[OVER_CAPACITY_ANNOTATION] = 'truncated';
  else delete annotations[OVER_CAPACITY_ANNOTATION];
  if (Object.keys(annotations).length > 0) desired.metadata.annotations = annotations;
  else delete desired.metadata.annotations;
  desired.subsets = subsets;

  const actions: Action[] = [];
  if (!current) actions.push({ verb: 'create', object: desired });
  else if (!jsonEqual(current.subsets ?? [], desired.subsets) || !jsonEqual(current.metadata.labels ?? {}, desired.metadata.labels ?? {}) ||
    !jsonEqual(current.metadata.annotations ?? {}, desired.metadata.annotations ?? {})) {
    actions.push({ verb: 'update', object: desired });
  }
  return { actions, events: [], desired };
}
