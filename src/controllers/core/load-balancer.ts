// Which Services the LoadBalancer IP allocator serves, and its pool as address ranges. Pure: used by the
// controller (src/controllers/service-lb-controller.ts) and by the offline cluster builder.
import type { Service } from '../../api/types.ts';
import { formatIPv4, parseCidr } from '../../net/ipv4.ts';

/** The spec.loadBalancerClass this controller answers to (besides no class at all). */
export const DEFAULT_LOAD_BALANCER_CLASS = 'flatnet.io/load-balancer';

/** Pool entries as ranges; a CIDR of /30 or wider drops its network and broadcast addresses. */
export function poolRanges(pool: readonly string[]): string[] {
  return pool.map((entry) => {
    if (!entry.includes('/')) return entry;
    const cidr = parseCidr(entry, { strict: true });
    if (cidr.prefix > 30) return entry;
    const first = cidr.network + 1;
    const last = cidr.network + 2 ** (32 - cidr.prefix) - 2;
    return `${formatIPv4(first)}-${formatIPv4(last)}`;
  });
}

export function managesService(svc: Service, loadBalancerClass: string): boolean {
  if (svc.spec?.type !== 'LoadBalancer') return false;
  const cls = svc.spec.loadBalancerClass;
  return cls === undefined || cls === null || cls === '' || cls === loadBalancerClass;
}
