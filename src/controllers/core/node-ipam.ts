// The node IPAM controller (kube-controller-manager --allocate-node-cidrs): give every node a Pod CIDR
// from the cluster CIDR. Stateless across restarts: the allocator is rebuilt from the nodes' existing
// spec.podCIDRs each pass, so a deleted node's CIDR is free again and existing assignments never move.
// Only the rotation cursor is carried between passes (optional) so a just-freed CIDR is not handed out
// at once. Exhaustion records upstream's CIDRNotAvailable event on the node (type Normal, as upstream's
// RecordNodeStatusChange) and leaves the node without a CIDR; nothing throws.
import type { Node } from '../../api/types.ts';
import { SubnetAllocator } from '../../net/allocators.ts';
import type { RangeAllocatorSnapshot } from '../../net/range-allocator.ts';
import { type Action, type EventRecord, type ReconcileResult, compareStrings, event, referenceTo } from './actions.ts';
import { isTerminating } from './pod-util.ts';

export const NODE_IPAM_SOURCE = 'cidrAllocator';
export const DEFAULT_CLUSTER_CIDR = '10.244.0.0/16';
export const DEFAULT_NODE_MASK_SIZE = 24;

export interface NodeIpamInput {
  nodes: readonly Node[];
  clusterCIDR?: string;
  nodeCIDRMaskSize?: number;
  /** Where the previous pass's scan ended (NodeIpamResult.cursor). */
  cursor?: number;
}

export interface NodeIpamResult extends ReconcileResult {
  /** node name -> Pod CIDR, existing and newly assigned. */
  assignments: Record<string, string>;
  /** Nodes that could not get a CIDR this pass. */
  unassigned: string[];
  cursor: number;
}

function existingCidr(node: Node): string | undefined {
  return node.spec?.podCIDRs?.[0] ?? (node.spec?.podCIDR || undefined);
}

export function reconcileNodeIpam(input: NodeIpamInput): NodeIpamResult {
  const clusterCIDR = input.clusterCIDR ?? DEFAULT_CLUSTER_CIDR;
  const mask = input.nodeCIDRMaskSize ?? DEFAULT_NODE_MASK_SIZE;
  const fresh = new SubnetAllocator(clusterCIDR, mask);
  const allocator = input.cursor === undefined ? fresh : new SubnetAllocator(clusterCIDR, mask, {
    snapshot: { ...fresh.snapshot(), cursor: input.cursor } satisfies RangeAllocatorSnapshot,
  });
  const actions: Action[] = [];
  const events: EventRecord[] = [];
  const assignments: Record<string, string> = {};
  const unassigned: string[] = [];
  const nodes = [...input.nodes].sort((a, b) => compareStrings(a.metadata.name ?? '', b.metadata.name ?? ''));
  const waiting: Node[] = [];
  for (const node of nodes) {
    const cidr = existingCidr(node);
    if (cidr === undefined) {
      waiting.push(node);
      continue;
    }
    // Outside the cluster CIDR (set by hand): kept as is, not tracked, as upstream.
    allocator.occupy(cidr);
    assignments[node.metadata.name ?? ''] = cidr;
  }
  for (const node of waiting) {
    const name = node.metadata.name ?? '';
    if (isTerminating(node)) continue;
    const cidr = allocator.allocateNext();
    if (cidr === undefined) {
      unassigned.push(name);
      events.push(event(NODE_IPAM_SOURCE, referenceTo(node, { apiVersion: 'v1', kind: 'Node' }), 'Normal', 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`));
      continue;
    }
    assignments[name] = cidr;
    actions.push({
      verb: 'patch',
      target: { apiVersion: 'v1', kind: 'Node', name },
      patch: { metadata: { ...(node.metadata.uid ? { uid: node.metadata.uid } : {}) }, spec: { podCIDR: cidr, podCIDRs: [cidr] } },
      onFailure: { ...event(NODE_IPAM_SOURCE, referenceTo(node, { apiVersion: 'v1', kind: 'Node' }), 'Normal', 'CIDRAssignmentFailed', `Node ${name} status is now: CIDRAssignmentFailed`) },
    });
  }
  return { actions, events, assignments, unassigned, cursor: allocator.snapshot().cursor };
}
