// The API server's own endpoints (upstream's apiserver endpoint reconciler, in kube-apiserver itself): the
// selector-less `kubernetes` Service in `default` is backed by an Endpoints object and an EndpointSlice,
// both named `kubernetes`, pointing at the API server's address and port. Whoever changes or deletes them
// gets them put back.
import { ApiError } from '../api/errors.ts';
import type { EndpointSlice, Endpoints, KubeObject } from '../api/types.ts';
import { WorkQueue } from '../client/work-queue.ts';
import { jsonEqual } from './core/actions.ts';
import { type ActionApplier, type Controller, Expectations, type Logger, RESOURCE, type SharedInformers, failureToLog } from './runtime.ts';

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

export class KubernetesEndpointsController implements Controller {
  readonly name = 'kubernetes-endpoints';
  readonly queue: WorkQueue<string>;
  readonly expectations = new Expectations();
  readonly #inf: SharedInformers;
  readonly #applier: ActionApplier;
  readonly #log: Logger;
  readonly #endpoint: ApiServerEndpoint;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(inf: SharedInformers, applier: ActionApplier, log: Logger, endpoint: ApiServerEndpoint) {
    this.#inf = inf;
    this.#applier = applier;
    this.#log = log;
    this.#endpoint = endpoint;
    this.queue = new WorkQueue<string>({ concurrency: 1, maxDelayMs: 10_000, onError: (_k, e) => this.#report(e) });
    const touch = (o: KubeObject): void => {
      if (o.metadata.namespace === NAMESPACE && o.metadata.name === NAME) this.queue.add(KEY);
    };
    this.#unsubscribe.push(inf.endpoints.addEventHandler({ onAdd: touch, onUpdate: (_o, e) => touch(e), onDelete: touch }));
    this.#unsubscribe.push(inf.endpointSlices.addEventHandler({ onAdd: touch, onUpdate: (_o, e) => touch(e), onDelete: touch }));
  }

  #report(e: unknown): void {
    const line = failureToLog(e);
    if (line !== undefined) this.#log(`kubernetes-endpoints: ${line}`);
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
    const client = this.#applier.client;
    const wantEp = kubernetesEndpoints(this.#endpoint);
    const haveEp = this.#inf.endpoints.get(KEY);
    if (haveEp === undefined) {
      const created = await client.create(RESOURCE.endpoints, NAMESPACE, wantEp).catch(ignoreExists<Endpoints>);
      this.expectations.expectRevision(KEY, this.#inf.endpoints, created?.metadata.resourceVersion);
    } else if (!jsonEqual(haveEp.subsets, wantEp.subsets) || !jsonEqual(haveEp.metadata.labels, wantEp.metadata.labels)) {
      const next = structuredClone(haveEp) as Endpoints;
      next.subsets = wantEp.subsets ?? [];
      next.metadata.labels = { ...(next.metadata.labels ?? {}), ...(wantEp.metadata.labels ?? {}) };
      const written = await client.update(RESOURCE.endpoints, NAMESPACE, next);
      this.expectations.expectRevision(KEY, this.#inf.endpoints, written.metadata.resourceVersion);
    }
    const wantSlice = kubernetesEndpointSlice(this.#endpoint);
    const haveSlice = this.#inf.endpointSlices.get(KEY);
    if (haveSlice === undefined) {
      const created = await client.create(RESOURCE.endpointSlices, NAMESPACE, wantSlice).catch(ignoreExists<EndpointSlice>);
      this.expectations.expectRevision(KEY, this.#inf.endpointSlices, created?.metadata.resourceVersion);
    } else if (!jsonEqual(haveSlice.endpoints, wantSlice.endpoints) || !jsonEqual(haveSlice.ports, wantSlice.ports) ||
      haveSlice.metadata.labels?.['kubernetes.io/service-name'] !== NAME) {
      const next = structuredClone(haveSlice) as EndpointSlice;
      next.endpoints = wantSlice.endpoints;
      next.ports = wantSlice.ports ?? [];
      next.metadata.labels = { ...(next.metadata.labels ?? {}), ...(wantSlice.metadata.labels ?? {}) };
      const written = await client.update(RESOURCE.endpointSlices, NAMESPACE, next);
      this.expectations.expectRevision(KEY, this.#inf.endpointSlices, written.metadata.resourceVersion);
    }
  }
}

/** A create that lost a race with another writer: the informer brings the object, the next pass compares. */
function ignoreExists<T>(e: unknown): T | undefined {
  if (e instanceof ApiError && e.reason === 'AlreadyExists') return undefined;
  throw e;
}
