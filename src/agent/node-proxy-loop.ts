// kube-proxy's role for the nodes of one agents process: shared informers over Services, EndpointSlices and
// Nodes, and one Proxier per node programming that node's namespace. Changes are batched (a short debounce,
// like kube-proxy's minSyncPeriod) so a burst of endpoint updates becomes one transaction per node.
import { resourceFor, type ResourceInfo } from '../api/resources.ts';
import type { EndpointSlice, Node, Service } from '../api/types.ts';
import { Informer } from '../client/informer.ts';
import type { KubeClient } from '../client/kube-client.ts';
import { Proxier, type SyncResult } from '../proxy/proxier.ts';

const resource = resourceFor;

export interface ProxiedNode {
  name: string;
  netns: string;
  ip: string;
}

export interface ProxyLoopOptions {
  client: KubeClient;
  nodes: readonly ProxiedNode[];
  mode: string;
  clusterCIDR: string;
  serviceCIDR: string;
  log: (line: string) => void;
  /** Debounce between a change and the sync (ms). */
  minSyncPeriodMs?: number;
}

export class ProxyLoop {
  private readonly services: Informer<Service>;
  private readonly slices: Informer<EndpointSlice>;
  private readonly nodeInformer: Informer<Node>;
  private readonly proxiers: { node: ProxiedNode; proxier: Proxier }[];
  private readonly log: (line: string) => void;
  private readonly minSyncPeriodMs: number;
  private timer: NodeJS.Timeout | undefined;
  private resync: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  /** The last sync per node, for `flatnet rules` and metrics. */
  readonly lastSync = new Map<string, SyncResult>();

  constructor(o: ProxyLoopOptions) {
    this.log = o.log;
    this.minSyncPeriodMs = o.minSyncPeriodMs ?? 20;
    this.services = Informer.forResource<Service>(o.client, resource('Service'), {}, { name: 'proxy-services' });
    this.slices = Informer.forResource<EndpointSlice>(o.client, resource('EndpointSlice'), {}, { name: 'proxy-endpointslices' });
    this.nodeInformer = Informer.forResource<Node>(o.client, resource('Node'), {}, { name: 'proxy-nodes' });
    this.proxiers = o.nodes.map((node) => ({
      node,
      proxier: new Proxier({ mode: o.mode, runInNetns: node.netns, nodeName: node.name, nodeIPs: [node.ip], clusterCIDR: o.clusterCIDR, serviceCIDR: o.serviceCIDR }),
    }));
  }

  async start(): Promise<void> {
    const handlers = { onAdd: () => this.schedule(), onUpdate: () => this.schedule(), onDelete: () => this.schedule() };
    this.services.addEventHandler(handlers);
    this.slices.addEventHandler(handlers);
    this.nodeInformer.addEventHandler(handlers);
    this.services.start();
    this.slices.start();
    this.nodeInformer.start();
    await Promise.all([this.services.waitForSync(30_000), this.slices.waitForSync(30_000), this.nodeInformer.waitForSync(30_000)]);
    this.schedule();
    await this.flush();
    // A periodic full resync repairs rules someone changed behind the proxier's back, as kube-proxy's does.
    this.resync = setInterval(() => {
      for (const { proxier } of this.proxiers) proxier.requestFullSync();
      this.schedule();
    }, 10 * 60_000);
    this.resync.unref();
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.running.then(() => this.syncAll()).catch((e: unknown) => this.log(`proxy sync: ${e instanceof Error ? e.message : String(e)}`));
    }, this.minSyncPeriodMs);
  }

  /** Waits until the pending sync (if any) has been applied. */
  async flush(): Promise<void> {
    while (this.timer) await new Promise((r) => setTimeout(r, this.minSyncPeriodMs));
    await this.running;
  }

  private async syncAll(): Promise<void> {
    if (this.stopped) return;
    const services = this.services.list();
    const slices = this.slices.list();
    const nodes = this.nodeInformer.list();
    await Promise.all(this.proxiers.map(async ({ node, proxier }) => {
      const result = await proxier.sync(services, slices, nodes);
      this.lastSync.set(node.name, result);
    }));
  }

  rulesOf(node: string): string | undefined {
    return this.proxiers.find((p) => p.node.name === node)?.proxier.renderRules();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.resync) clearInterval(this.resync);
    await this.running;
    await Promise.all([this.services.stop(), this.slices.stop(), this.nodeInformer.stop()]);
  }
}
