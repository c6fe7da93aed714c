// flatnet's controller manager: the kube-controller-manager and kube-scheduler roles in one place, run
// inside the API server process the way k3s embeds them, talking to the API only through a KubeClient
// (over the server's own loopback HTTPS, as any other client). It builds the shared informers, every
// controller shell, waits until the caches are synced, then starts the workers.
import type { KubeObject } from '../api/types.ts';
import { InformerFactory } from '../client/informer.ts';
import type { KubeClient } from '../client/kube-client.ts';
import { DEFAULT_CLUSTER_CIDR, DEFAULT_NODE_MASK_SIZE } from './core/node-ipam.ts';
import { DaemonSetController } from './daemonset-controller.ts';
import { DeploymentController } from './deployment-controller.ts';
import { EndpointsController } from './endpoints-controller.ts';
import { GarbageCollectorController } from './garbage-collector.ts';
import { type ApiServerEndpoint, KubernetesEndpointsController } from './kubernetes-endpoints.ts';
import { NamespaceController } from './namespace-controller.ts';
import { NodeIpamController } from './node-ipam-controller.ts';
import { ReplicaSetController } from './replicaset-controller.ts';
import { ActionApplier, type Controller, EventRecorder, type Logger, RESOURCE, sharedInformers, type SharedInformers } from './runtime.ts';
import { SchedulerController } from './scheduler.ts';
import { DEFAULT_LB_POOL, DEFAULT_LOAD_BALANCER_CLASS, ServiceLoadBalancerController } from './service-lb-controller.ts';

export const CONTROLLER_NAMES = [
  'scheduler', 'replicaset', 'deployment', 'daemonset', 'node-ipam', 'endpoints', 'service-lb', 'garbage-collector', 'namespace', 'kubernetes-endpoints',
] as const;
export type ControllerName = (typeof CONTROLLER_NAMES)[number];

export interface ControllerManagerOptions {
  client: KubeClient;
  /** Pod CIDR of the cluster, split into node subnets (default 10.244.0.0/16). */
  clusterCIDR?: string;
  /** Prefix length of each node's Pod CIDR (default 24). */
  nodeCIDRMaskSize?: number;
  /** LoadBalancer address pool: CIDRs or `a-b` ranges (default 10.255.255.0/24). */
  lbPool?: readonly string[];
  /** spec.loadBalancerClass handled besides none (default flatnet.io/load-balancer). */
  loadBalancerClass?: string;
  /** The API server's address for the `kubernetes` Service's Endpoints/EndpointSlice (omit: not maintained). */
  apiServerEndpoint?: ApiServerEndpoint;
  /** Controllers to run (default: all). */
  controllers?: readonly ControllerName[];
  /** How long to wait for the informers' first lists (default 60 s). */
  syncTimeoutMs?: number;
  log?: Logger;
}

export interface RunningControllerManager {
  readonly controllers: readonly Controller[];
  readonly informers: SharedInformers;
  readonly recorder: EventRecorder;
  /** Resolves when no controller has work queued or in flight (delayed retries excepted). */
  whenIdle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startControllerManager(options: ControllerManagerOptions): Promise<RunningControllerManager> {
  const log = options.log ?? (() => {});
  const client = options.client;
  const wanted = new Set<ControllerName>(options.controllers ?? CONTROLLER_NAMES);
  const factory = new InformerFactory(client, {
    onError: (e, phase) => log(`informer ${phase}: ${e instanceof Error ? e.message : String(e)}`),
  });
  const informers = sharedInformers(factory);
  const recorder = new EventRecorder(client, log);
  const applier = new ActionApplier(client, recorder);
  const controllers: Controller[] = [];

  if (wanted.has('scheduler')) controllers.push(new SchedulerController(informers, applier, recorder, log));
  if (wanted.has('replicaset')) controllers.push(new ReplicaSetController(informers, applier, log));
  if (wanted.has('deployment')) controllers.push(new DeploymentController(informers, applier, log));
  if (wanted.has('daemonset')) controllers.push(new DaemonSetController(informers, applier, log));
  if (wanted.has('node-ipam')) {
    controllers.push(new NodeIpamController(informers, applier, log, {
      clusterCIDR: options.clusterCIDR ?? DEFAULT_CLUSTER_CIDR,
      nodeCIDRMaskSize: options.nodeCIDRMaskSize ?? DEFAULT_NODE_MASK_SIZE,
    }));
  }
  if (wanted.has('endpoints')) controllers.push(new EndpointsController(informers, applier, log));
  if (wanted.has('service-lb')) {
    controllers.push(new ServiceLoadBalancerController(informers, applier, log, {
      pool: options.lbPool ?? DEFAULT_LB_POOL,
      loadBalancerClass: options.loadBalancerClass ?? DEFAULT_LOAD_BALANCER_CLASS,
    }));
  }
  let gc: GarbageCollectorController | undefined;
  if (wanted.has('garbage-collector')) controllers.push((gc = new GarbageCollectorController(factory, applier, log)));
  if (wanted.has('namespace')) {
    const watched = gc !== undefined ? gc.informers : [factory.informerFor<KubeObject>(RESOURCE.pods)];
    controllers.push(new NamespaceController(informers, watched, applier, log));
  }
  if (wanted.has('kubernetes-endpoints') && options.apiServerEndpoint !== undefined) {
    controllers.push(new KubernetesEndpointsController(informers, applier, log, options.apiServerEndpoint));
  }

  factory.start();
  try {
    await factory.waitForSync(options.syncTimeoutMs ?? 60_000);
  } catch (e) {
    await factory.stop();
    await Promise.all(controllers.map((c) => c.stop()));
    throw e;
  }
  for (const c of controllers) c.run();
  log(`controller manager running: ${controllers.map((c) => c.name).join(', ')}`);

  let stopped = false;
  return {
    controllers,
    informers,
    recorder,
    async whenIdle() {
      await Promise.all(controllers.map((c) => c.whenIdle?.()));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (process.env['FLATNET_CONTROLLER_STATS'] === '1') {
        log(`controller writes: ${JSON.stringify(Object.fromEntries(applier.writes))}; events: ${JSON.stringify(recorder.stats)}`);
      }
      await Promise.all(controllers.map((c) => c.stop()));
      await factory.stop();
      await recorder.stop();
    },
  };
}
