// ClusterIP and NodePort allocation for Services, inside the API server as upstream does it. The
// allocation state is derived from the stored Services (rebuilt at start, checked by a repair pass), and an
// allocation and the Service that holds it are committed in one store write. So a crash between "allocate"
// and "store" cannot leak: nothing about the allocation outlives the process unless the Service was stored.
//
// Two phases: `reserve` takes the values a Service asks for (and keeps what an update's old object held),
// `fill` allocates the rest. The API server runs both per Service (`assign`); the offline cluster builder
// (src/model/offline-cluster.ts) reserves for every manifest first, so requested values win whatever the order.
// Pure.
import { fieldErrors, type FieldError } from '../api/errors.ts';
import type { Service } from '../api/types.ts';
import { NodePortAllocator, ServiceIPAllocator as ClusterIPPool } from './allocators.ts';
import { isIPv4 } from './ipv4.ts';

export interface ServiceAllocationConfig {
  serviceCIDR: string; // e.g. 10.96.0.0/12
  nodePortRange: string; // e.g. 30000-32767
}

export interface ServiceAllocations {
  clusterIPs: string[];
  nodePorts: number[];
}

/** What one Service holds: its ClusterIPs (not "None") and its node ports (incl. healthCheckNodePort). */
export function allocationsOf(svc: Service): ServiceAllocations {
  const spec = svc.spec ?? {};
  const clusterIPs = (spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : [])).filter((ip) => ip !== '' && ip !== 'None');
  const nodePorts = (spec.ports ?? []).map((p) => p.nodePort).filter((p): p is number => typeof p === 'number' && p > 0);
  if (typeof spec.healthCheckNodePort === 'number' && spec.healthCheckNodePort > 0) nodePorts.push(spec.healthCheckNodePort);
  return { clusterIPs, nodePorts: [...new Set(nodePorts)] };
}

const needsNodePorts = (svc: Service): boolean =>
  svc.spec?.type === 'NodePort' || (svc.spec?.type === 'LoadBalancer' && svc.spec.allocateLoadBalancerNodePorts !== false);

const needsHealthCheckNodePort = (svc: Service): boolean =>
  svc.spec?.type === 'LoadBalancer' && svc.spec.externalTrafficPolicy === 'Local';

export class ServiceIPAllocator {
  readonly config: ServiceAllocationConfig;
  private ips: ClusterIPPool;
  private ports: NodePortAllocator;

  constructor(config: ServiceAllocationConfig) {
    this.config = config;
    this.ips = new ClusterIPPool(config.serviceCIDR);
    this.ports = new NodePortAllocator(config.nodePortRange);
  }

  /** Marks what existing Services hold (at start and during repair). */
  reset(services: readonly Service[]): void {
    this.ips = new ClusterIPPool(this.config.serviceCIDR);
    this.ports = new NodePortAllocator(this.config.nodePortRange);
    for (const svc of services) {
      const a = allocationsOf(svc);
      for (const ip of a.clusterIPs) this.ips.allocate(ip);
      for (const p of a.nodePorts) this.ports.allocate(p);
    }
  }

  usage(): { clusterIPs: number; nodePorts: number } {
    return { clusterIPs: this.ips.used(), nodePorts: this.ports.used() };
  }

  /**
   * Fills in ClusterIP(s), node ports and the health-check node port of a Service being created or updated
   * (`old` for updates), allocating what is new and returning what the old object held and no longer does.
   * On error nothing stays allocated. Returns field errors (422) for requested values that are taken or
   * out of range.
   */
  assign(svc: Service, old: Service | undefined): { errors: FieldError[]; allocated: ServiceAllocations; released: ServiceAllocations } {
    const oldHeld = old ? allocationsOf(old) : { clusterIPs: [], nodePorts: [] };
    const allocated: ServiceAllocations = { clusterIPs: [], nodePorts: [] };
    const errors = [...this.reserve(svc, oldHeld, allocated), ...this.fill(svc, allocated)];
    if (errors.length > 0) {
      this.release(allocated);
      return { errors, allocated: { clusterIPs: [], nodePorts: [] }, released: { clusterIPs: [], nodePorts: [] } };
    }
    const now = allocationsOf(svc);
    const released: ServiceAllocations = {
      clusterIPs: oldHeld.clusterIPs.filter((ip) => !now.clusterIPs.includes(ip)),
      nodePorts: oldHeld.nodePorts.filter((p) => !now.nodePorts.includes(p)),
    };
    return { errors, allocated, released };
  }

  /**
   * Phase 1: normalises the spec for its type and takes every value it asks for (ClusterIP, node ports, the
   * health-check node port), keeping what `oldHeld` already holds. What it takes is added to `allocated`.
   */
  reserve(svc: Service, oldHeld: ServiceAllocations = { clusterIPs: [], nodePorts: [] }, allocated: ServiceAllocations = { clusterIPs: [], nodePorts: [] }): FieldError[] {
    const spec = (svc.spec ??= {});
    const errors: FieldError[] = [];
    if (spec.type === 'ExternalName') {
      delete spec.clusterIP;
      delete spec.clusterIPs;
      delete spec.ipFamilies;
      delete spec.ipFamilyPolicy;
    } else if (spec.clusterIP === 'None') {
      spec.clusterIPs = ['None'];
    } else {
      const oldIP = oldHeld.clusterIPs[0];
      const requested = spec.clusterIP && spec.clusterIP !== '' ? spec.clusterIP : spec.clusterIPs?.[0];
      if (requested !== undefined && requested !== '' && requested === oldIP) {
        spec.clusterIP = requested;
      } else if (requested !== undefined && requested !== '' && !isIPv4(requested)) {
        // Not an address at all: validation names the field and the format; nothing to allocate.
        spec.clusterIP = requested;
      } else if (requested !== undefined && requested !== '') {
        const result = this.ips.allocate(requested);
        if (result === 'out-of-range') {
          errors.push(fieldErrors.invalid('spec.clusterIPs', [requested], `failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${this.config.serviceCIDR}`));
        } else if (result === 'already-allocated') {
          errors.push(fieldErrors.invalid('spec.clusterIPs', [requested], `failed to allocate IP ${requested}: provided IP is already allocated`));
        } else {
          allocated.clusterIPs.push(requested);
          spec.clusterIP = requested;
        }
      } else if (oldIP !== undefined) {
        spec.clusterIP = oldIP;
      }
      if (spec.clusterIP !== undefined && spec.clusterIP !== '') spec.clusterIPs = [spec.clusterIP];
    }

    const wantPorts = needsNodePorts(svc);
    const keepPorts = new Set<number>();
    (spec.ports ?? []).forEach((port, i) => {
      if (!wantPorts && port.nodePort !== undefined && spec.type !== 'LoadBalancer') delete port.nodePort;
      const requested = port.nodePort;
      if (requested === undefined || requested === 0) return;
      if (oldHeld.nodePorts.includes(requested) || keepPorts.has(requested)) {
        keepPorts.add(requested);
        return;
      }
      const result = this.ports.allocate(requested);
      if (result === 'out-of-range') {
        errors.push(fieldErrors.invalid(`spec.ports[${i}].nodePort`, requested, `provided port is not in the valid range. The range of valid ports is ${this.config.nodePortRange}`));
      } else if (result === 'already-allocated') {
        errors.push(fieldErrors.invalid(`spec.ports[${i}].nodePort`, requested, 'provided port is already allocated'));
      } else {
        allocated.nodePorts.push(requested);
        keepPorts.add(requested);
      }
    });

    if (needsHealthCheckNodePort(svc)) {
      const requested = spec.healthCheckNodePort;
      if (requested !== undefined && requested !== 0 && !oldHeld.nodePorts.includes(requested)) {
        if (this.ports.allocate(requested) !== 'allocated') errors.push(fieldErrors.invalid('spec.healthCheckNodePort', requested, 'provided port is already allocated'));
        else allocated.nodePorts.push(requested);
      }
    } else {
      delete spec.healthCheckNodePort;
    }
    return errors;
  }

  /** Phase 2: allocates a ClusterIP, node ports and a health-check node port where the spec still needs one. */
  fill(svc: Service, allocated: ServiceAllocations = { clusterIPs: [], nodePorts: [] }): FieldError[] {
    const spec = (svc.spec ??= {});
    const errors: FieldError[] = [];
    if (spec.type !== 'ExternalName' && spec.clusterIP !== 'None' && (spec.clusterIP === undefined || spec.clusterIP === '')) {
      const ip = this.ips.allocateNext();
      if (ip === undefined) errors.push(fieldErrors.invalid('spec.clusterIPs', [], 'failed to allocate a serviceIP: range is full'));
      else {
        allocated.clusterIPs.push(ip);
        spec.clusterIP = ip;
        spec.clusterIPs = [ip];
      }
    }
    if (needsNodePorts(svc)) {
      (spec.ports ?? []).forEach((port, i) => {
        if (port.nodePort !== undefined && port.nodePort !== 0) return;
        // Same port number on TCP and UDP may share one node port, as upstream does.
        const sibling = (spec.ports ?? []).slice(0, i).find((p) => p.port === port.port && p.nodePort !== undefined && p.nodePort !== 0);
        if (sibling?.nodePort !== undefined) {
          port.nodePort = sibling.nodePort;
          return;
        }
        const p = this.ports.allocateNext();
        if (p === undefined) errors.push(fieldErrors.invalid(`spec.ports[${i}].nodePort`, 0, 'failed to allocate a nodePort: range is full'));
        else {
          allocated.nodePorts.push(p);
          port.nodePort = p;
        }
      });
    }
    if (needsHealthCheckNodePort(svc) && (spec.healthCheckNodePort === undefined || spec.healthCheckNodePort === 0)) {
      const p = this.ports.allocateNext();
      if (p === undefined) errors.push(fieldErrors.invalid('spec.healthCheckNodePort', 0, 'failed to allocate a nodePort: range is full'));
      else {
        allocated.nodePorts.push(p);
        spec.healthCheckNodePort = p;
      }
    }
    return errors;
  }

  /** Returns allocations to the pools (after a delete commits, or a failed write). */
  release(a: ServiceAllocations): void {
    for (const ip of a.clusterIPs) this.ips.release(ip);
    for (const p of a.nodePorts) this.ports.release(p);
  }
}
