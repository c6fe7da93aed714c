// The EndpointSlice controller and the core/v1 Endpoints controller (two queues, one event mapping): a
// Service is requeued when it changes, when one of its slices or its Endpoints object changes, and when a
// pod its selector matches (before or after the change) is added, updated or deleted. Pod events go through
// at most once per interval per Service (like upstream's EndpointUpdatesBatchPeriod, but only under load: an
// isolated change is handled at once); the interval grows with the cost of recent passes (PassThrottle) so
// that big Services cannot starve the API server sharing this process. A pass reads only the pods its
// selector can match (through the label index), waits until the informer shows the slices it wrote last
// time (upstream's endpointSliceTracker: otherwise a slice made by generateName would be made twice), and
// applies the core's creates/updates/deletes in order.
import type { EndpointSlice, Endpoints, Pod, Service } from '../api/types.ts';
import { WorkQueue } from '../client/work-queue.ts';
import { reconcileEndpoints } from './core/endpoints.ts';
import { reconcileEndpointSlices } from './core/endpointslice.ts';
import { matchesSelectorMap } from './core/selectors.ts';
import {
  type ActionApplier, type Controller, Expectations, type Logger, PassThrottle, type SharedInformers, applyResult, expectationsMet, keyOf, logFailure,
  onAnyChange, podsForSelectorMap, splitKey,
} from './runtime.ts';

export interface EndpointsControllerOptions {
  concurrency?: number;
  /**
   * Pod changes are handled at most once per this interval per Service (default 250 ms): an isolated
   * change goes through at once, a stream of them (a rollout, a scale-up) in one pass per interval.
   */
  minIntervalMs?: number;
  /** Share of one CPU each of the two controllers may use for passes under load (default 0.1). */
  budget?: number;
}

const selectorOf = (svc: Service): Record<string, string> | undefined => {
  const sel = svc.spec?.selector;
  return sel !== undefined && sel !== null && Object.keys(sel).length > 0 ? sel : undefined;
};

export class EndpointsController implements Controller {
  readonly name = 'endpoints';
  readonly sliceQueue: WorkQueue<string>;
  readonly endpointsQueue: WorkQueue<string>;
  readonly sliceExpectations = new Expectations();
  readonly endpointsExpectations = new Expectations();
  readonly #inf: SharedInformers;
  readonly #applier: ActionApplier;
  readonly #log: Logger;
  readonly #sliceThrottle: PassThrottle;
  readonly #endpointsThrottle: PassThrottle;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(inf: SharedInformers, applier: ActionApplier, log: Logger, options: EndpointsControllerOptions = {}) {
    this.#inf = inf;
    this.#applier = applier;
    this.#log = log;
    // A pass's cost is its wall time including its writes: in this process those are the API server's work.
    const min = options.minIntervalMs ?? 250;
    const budget = options.budget ?? 0.1;
    this.#sliceThrottle = new PassThrottle({ minIntervalMs: min, budget, maxIntervalMs: 2000 });
    this.#endpointsThrottle = new PassThrottle({ minIntervalMs: min, budget, maxIntervalMs: 5000 });
    const concurrency = options.concurrency ?? 4;
    this.sliceQueue = new WorkQueue<string>({ concurrency, maxDelayMs: 10_000, onError: (k, e) => logFailure(this.#log, `endpointslice ${k}`, e) });
    this.endpointsQueue = new WorkQueue<string>({ concurrency, maxDelayMs: 10_000, onError: (k, e) => logFailure(this.#log, `endpoints ${k}`, e) });

    this.#unsubscribe.push(inf.services.addEventHandler({
      onAdd: (s) => this.#enqueue(keyOf(s)),
      onUpdate: (_o, s) => this.#enqueue(keyOf(s)),
      onDelete: (s) => {
        this.sliceExpectations.forget(keyOf(s));
        this.endpointsExpectations.forget(keyOf(s));
        this.#enqueue(keyOf(s));
      },
    }));
    this.#unsubscribe.push(inf.pods.addEventHandler({
      onAdd: (p) => this.#enqueueForPod(p),
      onUpdate: (old, p) => {
        if (old.metadata.labels !== p.metadata.labels) this.#enqueueForPod(old);
        this.#enqueueForPod(p);
      },
      onDelete: (p) => this.#enqueueForPod(p),
    }));
    const sliceChanged = (s: EndpointSlice): void => {
      const svc = s.metadata.labels?.['kubernetes.io/service-name'];
      if (svc !== undefined && this.#inf.services.getByName(s.metadata.namespace, svc) !== undefined) this.sliceQueue.add(`${s.metadata.namespace ?? ''}/${svc}`);
    };
    this.#unsubscribe.push(inf.endpointSlices.addEventHandler(onAnyChange(sliceChanged)));
    const endpointsChanged = (e: Endpoints): void => {
      if (this.#inf.services.get(keyOf(e)) !== undefined) this.endpointsQueue.add(keyOf(e));
    };
    this.#unsubscribe.push(inf.endpoints.addEventHandler(onAnyChange(endpointsChanged)));
  }

  #enqueue(key: string): void {
    this.sliceQueue.add(key);
    this.endpointsQueue.add(key);
  }

  #enqueueForPod(pod: Pod): void {
    const ns = pod.metadata.namespace ?? '';
    for (const svc of this.#inf.services.byIndex('namespace', ns)) {
      const sel = selectorOf(svc);
      if (sel === undefined || !matchesSelectorMap(sel, pod.metadata.labels)) continue;
      const key = keyOf(svc);
      this.sliceQueue.addAfter(key, this.#sliceThrottle.delayFor(key));
      this.endpointsQueue.addAfter(key, this.#endpointsThrottle.delayFor(key));
    }
  }

  run(): void {
    this.sliceQueue.run((key) => this.#sliceThrottle.measureAsync(key, () => this.#syncSlices(key)));
    this.endpointsQueue.run((key) => this.#endpointsThrottle.measureAsync(key, () => this.#syncEndpoints(key)));
  }

  async stop(): Promise<void> {
    for (const u of this.#unsubscribe) u();
    await Promise.all([this.sliceQueue.shutdown(), this.endpointsQueue.shutdown()]);
  }

  async whenIdle(): Promise<void> {
    await Promise.all([this.sliceQueue.whenIdle(true), this.endpointsQueue.whenIdle(true)]);
  }

  #podsFor(svc: Service): Pod[] {
    return podsForSelectorMap(this.#inf.pods, svc.metadata.namespace ?? '', selectorOf(svc));
  }

  async #syncSlices(key: string): Promise<void> {
    const svc = this.#inf.services.get(key);
    // A deleted Service's slices are owned by it: the garbage collector removes them.
    if (svc === undefined) {
      this.sliceExpectations.forget(key);
      this.#sliceThrottle.forget(key);
      return;
    }
    if (!expectationsMet(this.sliceQueue, this.sliceExpectations, key)) return;
    const slices = this.#inf.endpointSlices.byIndex('service', key);
    const result = reconcileEndpointSlices({ service: svc, pods: this.#podsFor(svc), slices, nodes: this.#inf.nodes.list() });
    await applyResult(this.#applier, this.sliceQueue, this.sliceExpectations, key, result, { expectIn: () => this.#inf.endpointSlices });
  }

  async #syncEndpoints(key: string): Promise<void> {
    const svc = this.#inf.services.get(key);
    const current = this.#inf.endpoints.get(key);
    if (svc === undefined) {
      this.endpointsExpectations.forget(key);
      this.#endpointsThrottle.forget(key);
      // Upstream deletes the Endpoints of a deleted Service.
      if (current !== undefined) {
        const { namespace, name } = splitKey(key);
        await this.#applier.apply([{ verb: 'delete', target: { apiVersion: 'v1', kind: 'Endpoints', namespace, name }, ...(current.metadata.uid ? { uid: current.metadata.uid } : {}) }]);
      }
      return;
    }
    if (!expectationsMet(this.endpointsQueue, this.endpointsExpectations, key)) return;
    const result = reconcileEndpoints({ service: svc, pods: this.#podsFor(svc), ...(current !== undefined ? { endpoints: current } : {}) });
    await applyResult(this.#applier, this.endpointsQueue, this.endpointsExpectations, key, result, { expectIn: () => this.#inf.endpoints });
  }
}
