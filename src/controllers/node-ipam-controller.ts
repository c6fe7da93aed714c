// The node IPAM controller shell (kube-controller-manager --allocate-node-cidrs): one pass over every node
// whenever a node is added, deleted or loses its Pod CIDR. The core rebuilds the allocator from the nodes'
// podCIDRs each pass, so a restart changes nothing and a deleted node's subnet is free again; only the
// rotation cursor lives in memory. The next pass waits until the informer shows the patches of the last
// one (otherwise it would see those nodes without a CIDR and hand out second ones).
import type { Node } from '../api/types.ts';
import { WorkQueue } from '../client/work-queue.ts';
import { reconcileNodeIpam } from './core/node-ipam.ts';
import { type ActionApplier, type Controller, Expectations, type Logger, type SharedInformers, failureToLog } from './runtime.ts';

export interface NodeIpamOptions {
  clusterCIDR: string;
  nodeCIDRMaskSize: number;
}

const KEY = 'nodes';

const cidrOf = (n: Node): string | undefined => n.spec?.podCIDRs?.[0] ?? (n.spec?.podCIDR || undefined);

export class NodeIpamController implements Controller {
  readonly name = 'node-ipam';
  readonly queue: WorkQueue<string>;
  readonly expectations = new Expectations();
  readonly #inf: SharedInformers;
  readonly #applier: ActionApplier;
  readonly #log: Logger;
  readonly #options: NodeIpamOptions;
  #cursor: number | undefined;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(inf: SharedInformers, applier: ActionApplier, log: Logger, options: NodeIpamOptions) {
    this.#inf = inf;
    this.#applier = applier;
    this.#log = log;
    this.#options = options;
    this.queue = new WorkQueue<string>({ concurrency: 1, maxDelayMs: 10_000, onError: (_k, e) => this.#report(e) });
    this.#unsubscribe.push(inf.nodes.addEventHandler({
      onAdd: () => this.queue.add(KEY),
      onUpdate: (old, n) => {
        if (cidrOf(old) !== cidrOf(n) || cidrOf(n) === undefined) this.queue.add(KEY);
      },
      onDelete: () => this.queue.add(KEY),
    }));
  }

  #report(e: unknown): void {
    const line = failureToLog(e);
    if (line !== undefined) this.#log(`node-ipam: ${line}`);
  }

  run(): void {
    this.queue.run(() => this.#sync());
    this.queue.add(KEY);
  }

  async stop(): Promise<void> {
    for (const u of this.#unsubscribe) u();
    await this.queue.shutdown();
  }

  whenIdle(): Promise<void> {
    return this.queue.whenIdle(true);
  }

  async #sync(): Promise<void> {
    if (!this.expectations.satisfied(KEY)) {
      this.queue.addAfter(KEY, Math.min(1000, this.expectations.msUntilExpiry(KEY) + 1));
      return;
    }
    const result = reconcileNodeIpam({
      nodes: this.#inf.nodes.list(),
      clusterCIDR: this.#options.clusterCIDR,
      nodeCIDRMaskSize: this.#options.nodeCIDRMaskSize,
      ...(this.#cursor !== undefined ? { cursor: this.#cursor } : {}),
    });
    this.#cursor = result.cursor;
    for (const e of result.events) this.#applier.record(e);
    // Every patch is to a different node: they go out concurrently.
    await this.#applier.apply(result.actions, {
      parallel: () => true,
      maxBatch: 64,
      onApplied: (action, written) => this.expectations.expectWrite(KEY, this.#inf.nodes, action, written),
    });
  }
}
