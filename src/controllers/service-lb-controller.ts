// The LoadBalancer controller: gives every `type: LoadBalancer` Service that is ours (no
// spec.loadBalancerClass, or ours) an address from the configured pool and writes it to
// status.loadBalancer.ingress, as a bare-metal load balancer (MetalLB, k3s' ServiceLB) does. The flatnet
// lab then makes that address reachable; here it is only the allocation.
//
// The pool lives in memory and is rebuilt at start from the Services' status (the API is the only
// record), so a restart or a crash loses nothing: a Service that had an address keeps it; two Services
// claiming one address (impossible unless someone wrote status by hand) are resolved oldest first and the
// other gets a new one. An address is released when its Service is deleted, stops being a LoadBalancer, or
// moves to another class (then its status is cleared, unless another controller now owns it).
import { DEFAULT_LOAD_BALANCER_CLASS, managesService, poolRanges } from './core/load-balancer.ts';
import type { LoadBalancerIngress, Service } from '../api/types.ts';
import { PoolAllocator } from '../net/allocators.ts';
import { type Action, clone, compareStrings, event, jsonEqual, parseTime, referenceTo } from './core/actions.ts';
import { type ActionApplier, ControllerShell, type Logger, type SharedInformers, keyOf, onAnyChange } from './runtime.ts';

export const LB_SOURCE = 'service-lb-controller';
/** Default pool: outside the pod (10.244.0.0/16) and service (10.96.0.0/12) ranges and the lab underlay (172.31.0.0/16). */
export const DEFAULT_LB_POOL = ['10.255.255.0/24'];

export { DEFAULT_LOAD_BALANCER_CLASS, managesService, poolRanges };

const ingressIPs = (svc: Service): string[] => (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter((ip) => ip !== '');

export class ServiceLoadBalancerController extends ControllerShell {
  readonly #inf: SharedInformers;
  readonly #class: string;
  readonly #pool: PoolAllocator;
  /** Service key -> the address it holds and the uid of the Service holding it. */
  readonly #held = new Map<string, { ip: string; uid: string }>();

  constructor(inf: SharedInformers, applier: ActionApplier, log: Logger, options: { pool?: readonly string[]; loadBalancerClass?: string } = {}) {
    super(applier, log, { name: 'service-lb', concurrency: 1 });
    this.#inf = inf;
    this.#class = options.loadBalancerClass ?? DEFAULT_LOAD_BALANCER_CLASS;
    this.#pool = new PoolAllocator(poolRanges(options.pool ?? DEFAULT_LB_POOL));
    this.watch(inf.services, onAnyChange((s) => this.queue.add(keyOf(s))));
  }

  /** Addresses in use (for tests and status). */
  get allocated(): number {
    return this.#held.size;
  }

  /** Rebuilds the pool from the Services' status: oldest Service first keeps a contested address. */
  #rebuild(): void {
    const services = this.#inf.services.list().filter((s) => managesService(s, this.#class)).sort((a, b) =>
      (parseTime(a.metadata.creationTimestamp) ?? 0) - (parseTime(b.metadata.creationTimestamp) ?? 0) || compareStrings(keyOf(a), keyOf(b)));
    for (const svc of services) {
      for (const ip of ingressIPs(svc)) {
        if (this.#pool.allocate(ip) === 'allocated') {
          this.#held.set(keyOf(svc), { ip, uid: svc.metadata.uid ?? '' });
          break;
        }
      }
    }
  }

  override run(): void {
    this.#rebuild();
    super.run();
    for (const s of this.#inf.services.list()) this.queue.add(keyOf(s));
  }

  #release(key: string): void {
    const held = this.#held.get(key);
    if (held === undefined) return;
    this.#pool.release(held.ip);
    this.#held.delete(key);
    // Someone may have been waiting for an address.
    for (const s of this.#inf.services.list()) {
      if (managesService(s, this.#class) && !this.#held.has(keyOf(s))) this.queue.add(keyOf(s));
    }
  }

  protected async sync(key: string): Promise<void> {
    const svc = this.#inf.services.get(key);
    const held = this.#held.get(key);
    if (held !== undefined && (svc === undefined || svc.metadata.uid !== held.uid)) this.#release(key);
    if (svc === undefined) return;

    if (!managesService(svc, this.#class)) {
      const mine = this.#held.get(key);
      if (mine === undefined) return;
      this.#release(key);
      // No longer a LoadBalancer: clear our address. (A Service now in another class is that controller's.)
      if (svc.spec?.type !== 'LoadBalancer' && ingressIPs(svc).includes(mine.ip)) await this.#writeIngress(svc, []);
      return;
    }

    let ip = this.#held.get(key)?.ip;
    if (ip === undefined) {
      const requested = svc.spec?.loadBalancerIP;
      const fromStatus = ingressIPs(svc).find((a) => this.#pool.contains(a) && !this.#pool.has(a));
      for (const candidate of [requested, fromStatus]) {
        if (candidate !== undefined && candidate !== '' && this.#pool.allocate(candidate) === 'allocated') {
          ip = candidate;
          break;
        }
      }
      if (ip === undefined && requested !== undefined && requested !== '') {
        this.applier.record(event(LB_SOURCE, referenceTo(svc, { apiVersion: 'v1', kind: 'Service' }), 'Warning', 'AllocationFailed',
          `Failed to allocate IP for "${key}": requested address ${requested} is not available in the pool`));
        return;
      }
      ip ??= this.#pool.allocateNext();
      if (ip === undefined) {
        this.applier.record(event(LB_SOURCE, referenceTo(svc, { apiVersion: 'v1', kind: 'Service' }), 'Warning', 'AllocationFailed',
          `Failed to allocate IP for "${key}": no available IPs`));
        return;
      }
      this.#held.set(key, { ip, uid: svc.metadata.uid ?? '' });
      this.applier.record(event(LB_SOURCE, referenceTo(svc, { apiVersion: 'v1', kind: 'Service' }), 'Normal', 'IPAllocated', `Assigned IP ["${ip}"]`));
    }
    const want: LoadBalancerIngress[] = [{ ip, ipMode: 'VIP' }];
    if (!jsonEqual(svc.status?.loadBalancer?.ingress ?? [], want)) await this.#writeIngress(svc, want);
  }

  async #writeIngress(svc: Service, ingress: LoadBalancerIngress[]): Promise<void> {
    const updated = clone(svc);
    updated.status = { ...(updated.status ?? {}), loadBalancer: ingress.length > 0 ? { ingress } : {} };
    const action: Action = { verb: 'update', object: updated, subresource: 'status' };
    await this.applier.apply([action]);
  }
}
