// Builders for reconciler tests (imported only by *.test.ts files).
import type { Node, Pod, PodPhase, Condition, Taint } from '../../api/types.ts';

export const T0 = Date.parse('2025-01-01T00:00:00Z');
export const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

export function makeNode(name: string, opts: {
  labels?: Record<string, string>; taints?: Taint[]; unschedulable?: boolean; ready?: Condition['status'] | 'missing'; maxPods?: string;
  podCIDR?: string; uid?: string;
} = {}): Node {
  const ready = opts.ready ?? 'True';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, uid: opts.uid ?? `uid-${name}`, labels: { 'kubernetes.io/hostname': name, ...(opts.labels ?? {}) }, resourceVersion: '1' },
    spec: {
      ...(opts.taints ? { taints: opts.taints } : {}),
      ...(opts.unschedulable ? { unschedulable: true } : {}),
      ...(opts.podCIDR ? { podCIDR: opts.podCIDR, podCIDRs: [opts.podCIDR] } : {}),
    },
    status: {
      ...(ready === 'missing' ? {} : { conditions: [{ type: 'Ready', status: ready }] }),
      ...(opts.maxPods ? { allocatable: { pods: opts.maxPods } } : {}),
    },
  };
}

export function makePod(name: string, opts: {
  namespace?: string; labels?: Record<string, string>; nodeName?: string; phase?: PodPhase;
  ready?: boolean; readySince?: number; created?: number; uid?: string; podIP?: string; deleting?: boolean; restarts?: number;
  owner?: { kind: string; name: string; uid: string; apiVersion?: string }; annotations?: Record<string, string>;
} = {}): Pod {
  const conditions: Condition[] = [];
  if (opts.ready !== undefined) {
    conditions.push({ type: 'Ready', status: opts.ready ? 'True' : 'False', ...(opts.readySince !== undefined ? { lastTransitionTime: iso(opts.readySince) } : {}) });
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: opts.namespace ?? 'default',
      uid: opts.uid ?? `uid-${name}`,
      resourceVersion: '1',
      creationTimestamp: iso(opts.created ?? T0),
      ...(opts.labels ? { labels: opts.labels } : {}),
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
      ...(opts.deleting ? { deletionTimestamp: iso(T0 + 1000) } : {}),
      ...(opts.owner ? { ownerReferences: [{ apiVersion: opts.owner.apiVersion ?? 'apps/v1', kind: opts.owner.kind, name: opts.owner.name, uid: opts.owner.uid, controller: true, blockOwnerDeletion: true }] } : {}),
    },
    spec: { containers: [{ name: 'c', image: 'x' }], ...(opts.nodeName ? { nodeName: opts.nodeName } : {}) },
    status: {
      phase: opts.phase ?? (opts.nodeName ? 'Running' : 'Pending'),
      conditions,
      ...(opts.podIP ? { podIP: opts.podIP, podIPs: [{ ip: opts.podIP }] } : {}),
      ...(opts.restarts !== undefined ? { containerStatuses: [{ name: 'c', ready: opts.ready ?? false, restartCount: opts.restarts, image: 'x', imageID: '' }] } : {}),
    },
  };
}
