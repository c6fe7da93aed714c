// The Ingress controller shell: informers over Ingress, IngressClass, Service, EndpointSlice and Secret;
// on any change (debounced) it rebuilds the routing table with the pure core, installs it in the proxy,
// records Warning Events for what the table could not honour, and writes status.loadBalancer.
//
// One work-queue key ('table') serialises rebuilds: changes arriving during a rebuild cause exactly one
// more. A failed rebuild (e.g. a status write the server refused) is retried with the queue's backoff.
import { resourceByPlural } from '../api/resources.ts';
import type { ResourceInfo } from '../api/resources.ts';
import type { EndpointSlice, Ingress, IngressClass, LoadBalancerIngress, ObjectReference, Secret, Service } from '../api/types.ts';
import { ApiError } from '../api/errors.ts';
import { InformerFactory } from '../client/informer.ts';
import type { Informer } from '../client/informer.ts';
import type { KubeClient } from '../client/kube-client.ts';
import { WorkQueue } from '../client/work-queue.ts';
import { FLATNET_CLASS, FLATNET_CONTROLLER } from './core/ingress-class.ts';
import { buildRoutingTable, loadBalancerFromService } from './core/routing-table.ts';
import type { IngressRef, IngressWarning, RoutingResult, RoutingTable } from './core/routing-table.ts';
import type { CertificateProblem } from './proxy.ts';

export interface TableSink {
  /** Installs a table; returns the certificate problems found while doing so. */
  setTable(table: RoutingTable): CertificateProblem[];
}

export interface IngressControllerOptions {
  client: KubeClient;
  proxy: TableSink;
  /** The IngressClass name served (default `flatnet`); null serves every class of our controller. */
  className?: string | null;
  /** spec.controller of our IngressClasses (default `flatnet.dev/ingress`). */
  controllerName?: string;
  /** Addresses to publish in status.loadBalancer (take precedence over publishService). */
  loadBalancer?: readonly LoadBalancerIngress[];
  /** The controller's own Service, whose load-balancer status (or external IPs) is published. */
  publishService?: { namespace: string; name: string };
  /** Event source component (default `flatnet-ingress`). */
  component?: string;
  /** Delay gathering bursts of changes into one rebuild (default 50 ms). */
  debounceMs?: number;
  log?: (line: string) => void;
}

export type ControllerWarning = Omit<IngressWarning, 'reason'> & { reason: IngressWarning['reason'] | CertificateProblem['reason'] };

function mustResource(group: string, plural: string): ResourceInfo {
  const r = resourceByPlural(group, 'v1', plural);
  if (r === undefined) throw new Error(`the resource registry has no ${plural}`);
  return r;
}

const RESOURCES = {
  ingresses: mustResource('networking.k8s.io', 'ingresses'),
  ingressClasses: mustResource('networking.k8s.io', 'ingressclasses'),
  services: mustResource('', 'services'),
  endpointSlices: mustResource('discovery.k8s.io', 'endpointslices'),
  secrets: mustResource('', 'secrets'),
};

const KEY = 'table';

export class IngressController {
  readonly #options: IngressControllerOptions;
  readonly #factory: InformerFactory;
  readonly #ingresses: Informer<Ingress>;
  readonly #classes: Informer<IngressClass>;
  readonly #services: Informer<Service>;
  readonly #slices: Informer<EndpointSlice>;
  readonly #secrets: Informer<Secret>;
  readonly #queue: WorkQueue<string>;
  /** Warnings already recorded as Events, by uid|reason|message; a warning that clears and recurs is recorded again. */
  #reported = new Set<string>();
  #last: RoutingResult | undefined;
  #syncs = 0;
  #chain: Promise<void> = Promise.resolve();

  constructor(options: IngressControllerOptions) {
    this.#options = options;
    this.#factory = new InformerFactory(options.client, { onError: (e, phase) => this.#log(`informer ${phase} failed: ${e instanceof Error ? e.message : String(e)}`) });
    this.#ingresses = this.#factory.informerFor<Ingress>(RESOURCES.ingresses);
    this.#classes = this.#factory.informerFor<IngressClass>(RESOURCES.ingressClasses);
    this.#services = this.#factory.informerFor<Service>(RESOURCES.services);
    this.#slices = this.#factory.informerFor<EndpointSlice>(RESOURCES.endpointSlices);
    this.#secrets = this.#factory.informerFor<Secret>(RESOURCES.secrets);
    this.#queue = new WorkQueue<string>({
      concurrency: 1, baseDelayMs: 200, maxDelayMs: 30_000,
      onError: (_k, e, n) => this.#log(`rebuild failed (${n}): ${e instanceof Error ? e.message : String(e)}`),
    });
    const poke = (): void => this.#queue.addAfter(KEY, options.debounceMs ?? 50);
    const handlers = { onAdd: poke, onUpdate: poke, onDelete: poke };
    this.#ingresses.addEventHandler(handlers);
    this.#classes.addEventHandler(handlers);
    this.#services.addEventHandler(handlers);
    this.#slices.addEventHandler(handlers);
    this.#secrets.addEventHandler(handlers);
  }

  #log(line: string): void {
    (this.#options.log ?? ((l: string) => console.error(`flatnet-ingress: ${l}`)))(line);
  }

  /** Starts the informers, waits for them to sync and installs the first table. */
  async start(syncTimeoutMs = 30_000): Promise<void> {
    this.#factory.start();
    await this.#factory.waitForSync(syncTimeoutMs);
    await this.sync();
    this.#queue.run(async () => {
      await this.sync();
    });
  }

  async stop(): Promise<void> {
    await this.#queue.shutdown();
    await this.#factory.stop();
  }

  /** Resolves once no rebuild is pending or running. */
  whenIdle(): Promise<void> {
    return this.#queue.whenIdle();
  }

  /** The last rebuild's result (table, warnings, status writes it made). */
  get lastResult(): RoutingResult | undefined {
    return this.#last;
  }

  /** Rebuilds completed. */
  get syncs(): number {
    return this.#syncs;
  }

  /** The addresses published in status.loadBalancer. */
  loadBalancerAddresses(): LoadBalancerIngress[] {
    if (this.#options.loadBalancer !== undefined && this.#options.loadBalancer.length > 0) return [...this.#options.loadBalancer];
    const ps = this.#options.publishService;
    if (ps === undefined) return [];
    return loadBalancerFromService(this.#services.getByName(ps.namespace, ps.name));
  }

  /** One rebuild: table → proxy, Warning Events, status writes. Calls are serialised. */
  sync(): Promise<RoutingResult> {
    const run = this.#chain.then(() => this.#syncOnce());
    this.#chain = run.then(() => undefined, () => undefined);
    return run;
  }

  async #syncOnce(): Promise<RoutingResult> {
    const className = this.#options.className === undefined ? FLATNET_CLASS : (this.#options.className ?? undefined);
    const result = buildRoutingTable({
      ingresses: this.#ingresses.list(),
      ingressClasses: this.#classes.list(),
      services: this.#services.list(),
      endpointSlices: this.#slices.list(),
      secrets: this.#secrets.list(),
    }, { controllerName: this.#options.controllerName ?? FLATNET_CONTROLLER, className, loadBalancer: this.loadBalancerAddresses() });
    const certProblems = this.#options.proxy.setTable(result.table);
    this.#last = result;
    const warnings: ControllerWarning[] = [...result.warnings];
    for (const p of certProblems) for (const ingress of p.certificate.ingresses) warnings.push({ ingress, reason: p.reason, message: p.message });
    await this.#recordEvents(warnings);
    let failure: unknown;
    for (const u of result.statusUpdates) {
      try {
        await this.#options.client.patch(RESOURCES.ingresses, u.ingress.namespace, u.ingress.name, { status: { loadBalancer: u.loadBalancer } }, { type: 'merge', subresource: 'status' });
      } catch (e) {
        if (e instanceof ApiError && e.reason === 'NotFound') continue;
        failure ??= e;
      }
    }
    this.#syncs++;
    if (failure !== undefined) throw failure;
    return result;
  }

  async #recordEvents(warnings: readonly ControllerWarning[]): Promise<void> {
    const next = new Set<string>();
    for (const w of warnings) {
      const id = `${w.ingress.uid ?? `${w.ingress.namespace}/${w.ingress.name}`}|${w.reason}|${w.message}`;
      if (this.#reported.has(id)) {
        next.add(id);
        continue;
      }
      try {
        await this.#options.client.createEvent(ingressReference(w.ingress), { type: 'Warning', reason: w.reason, message: w.message, component: this.#options.component ?? 'flatnet-ingress' });
        next.add(id);
      } catch (e) {
        // Not remembered: the next rebuild tries again.
        this.#log(`could not record event ${w.reason} on ${w.ingress.namespace}/${w.ingress.name}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    this.#reported = next;
  }
}

function ingressReference(ref: IngressRef): ObjectReference {
  const out: ObjectReference = { kind: 'Ingress', apiVersion: 'networking.k8s.io/v1', namespace: ref.namespace, name: ref.name };
  if (ref.uid !== undefined) out.uid = ref.uid;
  return out;
}
