// Feeds a ClusterZone from the API: informers for Services, EndpointSlices and Pods (all namespaces),
// each event applied to the zone as it arrives (no rebuilds), and readiness once all three have synced.
import { resourceByPlural } from '../api/resources.ts';
import type { EndpointSlice, Pod, Service } from '../api/types.ts';
import { InformerFactory } from '../client/informer.ts';
import type { KubeClient } from '../client/kube-client.ts';
import type { ClusterZone } from './core/cluster-zone.ts';

export interface ClusterFeed {
  factory: InformerFactory;
  /** Resolves once every informer has listed (the zone is complete); retries until it does or stop(). */
  synced: Promise<void>;
  stop(): Promise<void>;
}

export function feedClusterZone(client: KubeClient, zone: ClusterZone, options: { onError?: (e: unknown, what: string) => void } = {}): ClusterFeed {
  const onError = options.onError ?? ((e: unknown, what: string) => console.error(`dns: ${what}:`, e instanceof Error ? e.message : e));
  const factory = new InformerFactory(client, { freeze: false, onError: (e, phase) => onError(e, `informer ${phase}`) });
  const services = factory.informerFor<Service>(resourceOf('', 'v1', 'services'));
  const slices = factory.informerFor<EndpointSlice>(resourceOf('discovery.k8s.io', 'v1', 'endpointslices'));
  const pods = factory.informerFor<Pod>(resourceOf('', 'v1', 'pods'));
  services.addEventHandler({ onAdd: (s) => zone.upsertService(s), onUpdate: (_o, s) => zone.upsertService(s), onDelete: (s) => zone.deleteService(s) });
  slices.addEventHandler({ onAdd: (s) => zone.upsertEndpointSlice(s), onUpdate: (_o, s) => zone.upsertEndpointSlice(s), onDelete: (s) => zone.deleteEndpointSlice(s) });
  pods.addEventHandler({ onAdd: (p) => zone.upsertPod(p), onUpdate: (_o, p) => zone.upsertPod(p), onDelete: (p) => zone.deletePod(p) });
  let stopped = false;
  factory.start();
  const synced = (async () => {
    for (;;) {
      try {
        await factory.waitForSync(30_000);
        return;
      } catch (e) {
        if (stopped) throw e;
        onError(e, 'still waiting for caches to sync');
      }
    }
  })();
  synced.catch(() => {});
  return {
    factory,
    synced,
    async stop() {
      stopped = true;
      await factory.stop();
    },
  };
}

function resourceOf(group: string, version: string, plural: string) {
  const r = resourceByPlural(group, version, plural);
  if (r === undefined) throw new Error(`resource ${group}/${version}/${plural} is not registered`);
  return r;
}
