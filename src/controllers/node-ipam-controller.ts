// The node IPAM controller shell (kube-controller-manager --allocate-node-cidrs): one pass over every node
// whenever a node is added, deleted or loses its Pod CIDR. The core rebuilds the allocator from the nodes'
// podCIDRs each pass, so a restart changes nothing and a deleted node's subnet is free again; only the
// rotation cursor lives in memory. The next pass waits until the informer shows the patches of the last
// one (otherwise it would see those nodes without a CIDR and hand out second ones).
import type { Node } from '../api/types.ts';
import { reconcileNodeIpam } from './core/node-ipam.ts';
import { type ActionApplier, ControllerShell, type Logger, type SharedInformers } from './runtime.ts';

export interface NodeIpamOptions {
  clusterCIDR: string;
  nodeCIDRMaskSize: number;
}

const KEY = 'nodes';

const cidrOf = (n: Node): string | undefined => n.spec?.podCIDRs?.[0] ?? (n.spec?.podCIDR || undefined);

export class NodeIpamController extends ControllerShell {
  readonly #inf: SharedInformers;
  readonly #options: NodeIpamOptions;
  #cursor: number | undefined;

  constructor(inf: SharedInformers, applier: ActionApplier, log: Logger, options: NodeIpamOptions) {
    super(applier, log, { name: 'node-ipam', concurrency: 1, singleKey: KEY });
    this.#inf = inf;
    this.#options = options;
    this.watch(inf.nodes, {
      onAdd: () => this.queue.add(KEY),
      onUpdate: (old, n) => {
        if (cidrOf(old) !== cidrOf(n) || cidrOf(n) === undefined) this.queue.add(KEY);
      },
      onDelete: () => this.queue.add(KEY),
    });
  }

  protected async sync(): Promise<void> {
    if (!this.expectationsMet(KEY)) return;
    const result = reconcileNodeIpam({
      nodes: this.#inf.nodes.list(),
      clusterCIDR: this.#options.clusterCIDR,
      nodeCIDRMaskSize: this.#options.nodeCIDRMaskSize,
      ...(this.#cursor !== undefined ? { cursor: this.#cursor } : {}),
    });
    this.#cursor = result.cursor;
    // Every patch is to a different node: they go out concurrently.
    await this.applyResult(KEY, result, { parallel: () => true, maxBatch: 64, expectIn: () => this.#inf.nodes });
  }
}
