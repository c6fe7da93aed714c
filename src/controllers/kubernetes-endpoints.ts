// The API server's own endpoints (upstream's apiserver endpoint reconciler, in kube-apiserver itself): the
// selector-less `kubernetes` Service in `default` is backed by an Endpoints object and an EndpointSlice,
// both named `kubernetes`, pointing at the API server's address and port. Whoever changes or deletes them
// gets them put back.
import { ApiError } from '../api/errors.ts';
import type { ResourceInfo } from '../api/resources.ts';
import type { EndpointSlice, Endpoints, KubeObject } from '../api/types.ts';
import type { Informer } from '../client/informer.ts';
import { jsonEqual } from './core/actions.ts';
import { type ActionApplier, ControllerShell, type Logger, RESOURCE, type SharedInformers, onAnyChange } from './runtime.ts';

export interface ApiServerEndpoint {
  ip: string;
  port: number;
}

const NAME = 'kubernetes';
const NAMESPACE = 'default';
const KEY = `${NAMESPACE}/${NAME}`;

/** The Endpoints object upstream keeps for the `kubernetes` Service. */
export function kubernetesEndpoints(ep: ApiServerEndpoint): Endpoints {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: NAME, namespace: NAMESPACE, labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [{ addresses: [{ ip: ep.ip }], ports: [{ name: 'https', port: ep.port, protocol: 'TCP' }] }],
  };
}

/** The EndpointSlice upstream keeps for the `kubernetes` Service. */
export function kubernetesEndpointSlice(ep: ApiServerEndpoint): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: NAME, namespace: NAMESPACE, labels: { 'kubernetes.io/service-name': NAME } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [ep.ip], conditions: { ready: true } }],
    ports: [{ name: 'https', port: ep.port, protocol: 'TCP' }],
  };
}

export class KubernetesEndpointsController extends ControllerShell {
  readonly #inf: SharedInformers;
  readonly #endpoint: ApiServerEndpoint;

  constructor(inf: SharedInformers, applier: ActionApplier, log: Logger, endpoint: ApiServerEndpoint) {
    super(applier, log, { name: 'kubernetes-endpoints', concurrency: 1, singleKey: KEY });
    this.#inf = inf;
    this.#endpoint = endpoint;
    const touch = (o: KubeObject): void => {
      if (o.metadata.namespace === NAMESPACE && o.metadata.name === NAME) this.queue.add(KEY);
    };
    this.watch(inf.endpoints, onAnyChange(touch));
    this.watch(inf.endpointSlices, onAnyChange(touch));
  }

  protected async sync(): Promise<void> {
    if (!this.expectationsMet(KEY)) return;
    const wantEp = kubernetesEndpoints(this.#endpoint);
    await this.#ensure(RESOURCE.endpoints, this.#inf.endpoints, wantEp,
      (have) => jsonEqual(have.subsets, wantEp.subsets) && jsonEqual(have.metadata.labels, wantEp.metadata.labels),
      (next) => {
        next.subsets = wantEp.subsets ?? [];
      });
    const wantSlice = kubernetesEndpointSlice(this.#endpoint);
    await this.#ensure(RESOURCE.endpointSlices, this.#inf.endpointSlices, wantSlice,
      (have) => jsonEqual(have.endpoints, wantSlice.endpoints) && jsonEqual(have.ports, wantSlice.ports) &&
        have.metadata.labels?.['kubernetes.io/service-name'] === NAME,
      (next) => {
        next.endpoints = wantSlice.endpoints;
        next.ports = wantSlice.ports ?? [];
      });
  }

  /**
   * Creates `want` when the informer has no `default/kubernetes`; otherwise, unless `upToDate`, updates a
   * copy of it filled by `fill` and carrying `want`'s labels. Expects the write before the next pass.
   */
  async #ensure<T extends KubeObject>(resource: ResourceInfo, informer: Informer<T>, want: T, upToDate: (have: T) => boolean, fill: (next: T) => void): Promise<void> {
    const client = this.applier.client;
    const have = informer.get(KEY);
    if (have === undefined) {
      const created = await client.create(resource, NAMESPACE, want).catch(ignoreExists<T>);
      this.expectations.expectRevision(KEY, informer, created?.metadata.resourceVersion);
    } else if (!upToDate(have)) {
      const next = structuredClone(have) as T;
      fill(next);
      next.metadata.labels = { ...(next.metadata.labels ?? {}), ...(want.metadata.labels ?? {}) };
      const written = await client.update(resource, NAMESPACE, next);
      this.expectations.expectRevision(KEY, informer, written.metadata.resourceVersion);
    }
  }
}

/** A create that lost a race with another writer: the informer brings the object, the next pass compares. */
function ignoreExists<T>(e: unknown): T | undefined {
  if (e instanceof ApiError && e.reason === 'AlreadyExists') return undefined;
  throw e;
}
